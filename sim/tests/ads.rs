//! The Ads API end to end over real HTTP on 127.0.0.1: profiles, reporting v3
//! (validation, 425 duplicates, lifecycle on sim time, gzip rows, restatement,
//! expiring unauthenticated downloads), SP campaigns list, auth and faults.
//! Every answer the specs describe is validated strictly against them.
//!
//! The sims run on a frozen clock; tests move time with `/_sim/advance`
//! (which also refills the assumed Ads buckets: create 1 per 2 s).

mod common;

use std::collections::BTreeSet;
use std::io::Read;

use chrono::{Duration, NaiveDate};
use common::{access_token, http, spawn_frozen, test_now, Api, Spec};
use flywheel_sim::faults::{Fault, FaultSet};
use flywheel_sim::scenario::Scenario;
use flywheel_sim::RunningSim;
use serde_json::{json, Value};

const REPORTING: &str = "OfflineReport_prod_3p.json";
const CREATE_CT: &str = "application/vnd.createasyncreportrequest.v3+json";
const SP_CAMPAIGN: &str = "application/vnd.spCampaign.v3+json";

/// A seller with SP (manual with search terms, auto, paused), SB and SD campaigns.
const ADS_SCENARIO: &str = r#"
name = "ads"
history_days = 120

[[products]]
sku = "ADS-1"
asin = "B0ADS00001"
title = "Ads test bottle insulated steel"
price = 24.99
cogs = 6.0
sessions = 1500
conversion = 0.15

[[products]]
sku = "ADS-2"
asin = "B0ADS00002"
title = "Ads test mug travel"
price = 14.99
cogs = 4.0
sessions = 900
conversion = 0.12

[[campaigns]]
id = 5001
name = "SP - Bottle - Manual"
type = "SP"
targeting = "MANUAL"
daily_budget = 2000
skus = ["ADS-1"]
ad_share = 0.5
acos = 0.22
cpc = 1.10
keywords = [
  { text = "insulated bottle", match_type = "EXACT", bid = 1.4 },
  { text = "bottle", match_type = "BROAD", bid = 1.0 },
]
search_terms = [
  { term = "insulated bottle", keyword = "insulated bottle", clicks_share = 5.0 },
  { term = "steel bottle 32oz", keyword = "bottle", clicks_share = 3.0 },
  { term = "free bottle", keyword = "bottle", clicks_share = 1.0, purchase_share = 0.0 },
]

[[campaigns]]
id = 5002
name = "SP - Mug - Auto"
type = "SP"
targeting = "AUTO"
daily_budget = 1000
skus = ["ADS-2"]
ad_share = 0.4
acos = 0.25
cpc = 0.80

[[campaigns]]
id = 5003
name = "SP - Mug - Paused"
type = "SP"
targeting = "MANUAL"
state = "PAUSED"
daily_budget = 50
skus = ["ADS-2"]
ad_share = 0.1
keywords = [{ text = "mug", match_type = "PHRASE", bid = 0.5 }]

[[campaigns]]
id = 6001
name = "SB - Brand"
type = "SB"
daily_budget = 800
skus = ["ADS-1"]
ad_share = 0.2
acos = 0.24
cpc = 1.30

[[campaigns]]
id = 7001
name = "SD - Retarget"
type = "SD"
daily_budget = 500
skus = ["ADS-1", "ADS-2"]
ad_share = 0.1
acos = 0.3
cpc = 0.9
"#;

fn scenario() -> Scenario {
    Scenario::from_toml_str(ADS_SCENARIO).expect("ads scenario parses")
}

// DESIGN §3's exact columns.
const SP_CAMPAIGNS_COLUMNS: &[&str] = &[
    "date",
    "campaignId",
    "campaignName",
    "campaignStatus",
    "campaignBudgetAmount",
    "campaignBudgetCurrencyCode",
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "purchases14d",
    "sales7d",
    "sales14d",
    "unitsSoldClicks7d",
    "unitsSoldClicks14d",
    "topOfSearchImpressionShare",
];
const SP_SEARCH_TERM_COLUMNS: &[&str] = &[
    "date",
    "campaignId",
    "adGroupId",
    "keywordId",
    "keyword",
    "matchType",
    "searchTerm",
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "purchases14d",
    "sales7d",
    "sales14d",
];
const SP_ADVERTISED_PRODUCT_COLUMNS: &[&str] = &[
    "date",
    "campaignId",
    "adGroupId",
    "advertisedAsin",
    "advertisedSku",
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "purchases14d",
    "sales7d",
    "sales14d",
    "unitsSoldClicks7d",
    "unitsSoldClicks14d",
];
const SB_SD_CAMPAIGNS_COLUMNS: &[&str] = &[
    "date",
    "campaignId",
    "campaignName",
    "impressions",
    "clicks",
    "cost",
    "purchasesClicks",
    "salesClicks",
];

/// (reportTypeId, adProduct, groupBy, columns)
const DESIGN_REPORTS: &[(&str, &str, &str, &[&str])] = &[
    (
        "spCampaigns",
        "SPONSORED_PRODUCTS",
        "campaign",
        SP_CAMPAIGNS_COLUMNS,
    ),
    (
        "spSearchTerm",
        "SPONSORED_PRODUCTS",
        "searchTerm",
        SP_SEARCH_TERM_COLUMNS,
    ),
    (
        "spAdvertisedProduct",
        "SPONSORED_PRODUCTS",
        "advertiser",
        SP_ADVERTISED_PRODUCT_COLUMNS,
    ),
    (
        "sbCampaigns",
        "SPONSORED_BRANDS",
        "campaign",
        SB_SD_CAMPAIGNS_COLUMNS,
    ),
    (
        "sdCampaigns",
        "SPONSORED_DISPLAY",
        "campaign",
        SB_SD_CAMPAIGNS_COLUMNS,
    ),
];

/// The seller's "today" at the tests' start (America/Los_Angeles).
fn today() -> NaiveDate {
    test_now()
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .date_naive()
}

struct Ads {
    sim: RunningSim,
    /// The Ads access token (refreshed after long clock jumps: it lives 1 h).
    token: std::sync::Mutex<String>,
    client_id: String,
    profile: String,
}

impl Ads {
    async fn new(faults: FaultSet) -> Ads {
        let mut opts = flywheel_sim::SimOptions::new(scenario());
        opts.speed = 0.0;
        opts.now = Some(test_now());
        opts.faults = faults;
        let sim = flywheel_sim::spawn(opts).await.expect("sim starts");
        Ads::around(sim).await
    }

    async fn around(sim: RunningSim) -> Ads {
        let token = access_token(&sim, Api::Ads).await;
        let seller = sim.world.scenario().seller.clone();
        Ads {
            token: std::sync::Mutex::new(token),
            client_id: seller.ads.client_id.clone(),
            profile: seller.ads_profile_id.to_string(),
            sim,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// A request with Bearer, ClientId and Scope.
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        http()
            .request(method, self.url(path))
            .bearer_auth(self.token())
            .header("Amazon-Advertising-API-ClientId", &self.client_id)
            .header("Amazon-Advertising-API-Scope", &self.profile)
    }

    fn token(&self) -> String {
        self.token.lock().unwrap().clone()
    }

    /// Move sim time; after a jump of 30 min or more, get a fresh token.
    async fn advance(&self, by: &str) {
        let resp = http()
            .post(self.url(&format!("/_sim/advance?by={by}")))
            .send()
            .await
            .expect("advance");
        assert_eq!(resp.status(), 200);
        if humantime::parse_duration(by).unwrap() >= std::time::Duration::from_secs(1800) {
            let fresh = access_token(&self.sim, Api::Ads).await;
            *self.token.lock().unwrap() = fresh;
        }
    }

    /// POST /reporting/reports after refilling the create bucket.
    async fn create(&self, body: &Value) -> (u16, Value) {
        self.advance("2s").await;
        send(
            self.req(reqwest::Method::POST, "/reporting/reports")
                .header("Content-Type", CREATE_CT)
                .body(body.to_string()),
        )
        .await
    }

    /// GET /reporting/reports/{id} after refilling the poll bucket.
    async fn get(&self, id: &str) -> (u16, Value) {
        self.advance("1s").await;
        send(self.req(reqwest::Method::GET, &format!("/reporting/reports/{id}"))).await
    }

    /// Create, check the lifecycle step by step, and return the completed report.
    async fn run_report(&self, body: &Value) -> Value {
        let spec = Spec::ads(REPORTING);
        let (status, created) = self.create(body).await;
        assert_eq!(status, 200, "{created}");
        spec.assert_valid("createAsyncReport", 200, &created);
        assert_eq!(created["status"], "PENDING");
        assert!(created["url"].is_null());
        let id = created["reportId"].as_str().unwrap().to_owned();

        let (status, r) = self.get(&id).await;
        assert_eq!(status, 200, "{r}");
        spec.assert_valid("getAsyncReport", 200, &r);
        assert_eq!(r["status"], "PENDING");
        self.advance("2m").await;
        let (_, r) = self.get(&id).await;
        spec.assert_valid("getAsyncReport", 200, &r);
        assert_eq!(r["status"], "PROCESSING");
        assert!(r["url"].is_null());
        self.advance("1m").await;
        let (status, r) = self.get(&id).await;
        assert_eq!(status, 200, "{r}");
        spec.assert_valid("getAsyncReport", 200, &r);
        assert_eq!(r["status"], "COMPLETED", "{r}");
        assert!(r["url"].as_str().is_some_and(|u| u.contains("/download/")));
        assert!(r["urlExpiresAt"].is_string());
        assert!(r["fileSize"].as_u64().is_some_and(|n| n > 0));
        r
    }

    /// Run a report and download its rows.
    async fn rows(&self, body: &Value) -> Vec<Value> {
        let r = self.run_report(body).await;
        download(r["url"].as_str().unwrap()).await
    }
}

async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// GET a download URL with no auth at all; gunzip the JSON array.
async fn download(url: &str) -> Vec<Value> {
    let resp = http().get(url).send().await.expect("download");
    assert_eq!(resp.status(), 200, "download of {url}");
    let bytes = resp.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .expect("a gzip document");
    match serde_json::from_str(&text).expect("JSON") {
        Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

fn report_body(
    type_id: &str,
    ad_product: &str,
    group_by: &str,
    columns: &[&str],
    start: NaiveDate,
    end: NaiveDate,
) -> Value {
    json!({
        "name": format!("{type_id} {start}..{end}"),
        "startDate": start.to_string(),
        "endDate": end.to_string(),
        "configuration": {
            "adProduct": ad_product,
            "groupBy": [group_by],
            "columns": columns,
            "reportTypeId": type_id,
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        }
    })
}

fn sp_campaigns(start: NaiveDate, end: NaiveDate) -> Value {
    report_body(
        "spCampaigns",
        "SPONSORED_PRODUCTS",
        "campaign",
        SP_CAMPAIGNS_COLUMNS,
        start,
        end,
    )
}

// ---------------------------------------------------------------------------
// The column tables match Amazon's docs

#[test]
fn column_tables_match_the_derived_docs_index() {
    if common::amazon_models::missing() {
        return;
    }
    let index = common::load_amazon_file("ads-api/derived/v3_report_types_from_docs.json");
    for rt in flywheel_sim::ads::columns::REPORT_TYPES {
        let (_, doc) = index
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.ends_with(&format!(":{}", rt.id)))
            .unwrap_or_else(|| panic!("{} not in the index", rt.id));
        let set = |v: &Value| -> BTreeSet<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect()
        };
        let ours: BTreeSet<String> = rt.base.iter().map(|s| s.to_string()).collect();
        assert_eq!(ours, set(&doc["base_metrics"]), "{} base", rt.id);
        let groups = doc["group_by"].as_object().unwrap();
        assert_eq!(groups.len(), rt.group_by.len(), "{} groupBy", rt.id);
        for g in rt.group_by {
            let d = &groups[g.name];
            let ours: BTreeSet<String> = g.columns.iter().map(|s| s.to_string()).collect();
            assert_eq!(ours, set(&d["additional_metrics"]), "{} {}", rt.id, g.name);
            let filters = d["filters"].as_object().unwrap();
            assert_eq!(
                filters.len(),
                g.filters.len(),
                "{} {} filters",
                rt.id,
                g.name
            );
            for (field, values) in g.filters {
                let ours: BTreeSet<String> = values.iter().map(|s| s.to_string()).collect();
                assert_eq!(ours, set(&filters[*field]), "{} {} {field}", rt.id, g.name);
            }
        }
    }
    // Every column flywheel requests is valid.
    for (id, _, group, columns) in DESIGN_REPORTS {
        let rt = flywheel_sim::ads::columns::ReportType::find(id).unwrap();
        let allowed = rt.allowed_columns(&[rt.group(group).unwrap()], true);
        for c in *columns {
            assert!(allowed.contains(c), "{id}: {c}");
        }
    }
}

// ---------------------------------------------------------------------------
// Profiles

#[tokio::test]
async fn profiles_list_and_get_validate() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let spec = Spec::ads("Profiles_prod_3p.yaml");
    // No scope header on profiles: ClientId and Bearer only.
    let call = |path: &str| {
        http()
            .get(ads.url(path))
            .bearer_auth(ads.token())
            .header("Amazon-Advertising-API-ClientId", &ads.client_id)
    };
    let (status, body) = send(call("/v2/profiles")).await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("listProfiles", 200, &body);
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(p["profileId"].to_string(), ads.profile);
    assert_eq!(p["countryCode"], "US");
    assert_eq!(p["currencyCode"], "USD");
    assert_eq!(p["timezone"], "America/Los_Angeles");
    assert_eq!(p["accountInfo"]["type"], "seller");
    assert_eq!(p["accountInfo"]["marketplaceStringId"], "ATVPDKIKX0DER");
    assert!(p["accountInfo"]["validPaymentMethod"].is_boolean());

    ads.advance("1s").await;
    let (status, body) = send(call("/v2/profiles?profileTypeFilter=vendor,agency")).await;
    assert_eq!((status, body), (200, json!([])));
    ads.advance("1s").await;
    let (status, body) = send(call(
        "/v2/profiles?profileTypeFilter=seller&accessLevel=view",
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1);

    let (status, body) = send(call(&format!("/v2/profiles/{}", ads.profile))).await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getProfileById", 200, &body);
}

// ---------------------------------------------------------------------------
// Auth

#[tokio::test]
async fn missing_or_wrong_headers_get_amazons_401() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let spec = Spec::ads(REPORTING);
    let path = "/reporting/reports/nope";
    let base = || http().get(ads.url(path));

    // No Authorization.
    let (s, b) = send(
        base()
            .header("Amazon-Advertising-API-ClientId", &ads.client_id)
            .header("Amazon-Advertising-API-Scope", &ads.profile),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    spec.assert_valid("getAsyncReport", 401, &b);
    // No ClientId.
    let (s, b) = send(
        base()
            .bearer_auth(ads.token())
            .header("Amazon-Advertising-API-Scope", &ads.profile),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    spec.assert_valid("getAsyncReport", 401, &b);
    // Wrong ClientId.
    let (s, b) = send(
        base()
            .bearer_auth(ads.token())
            .header(
                "Amazon-Advertising-API-ClientId",
                "amzn1.application-oa2-client.other",
            )
            .header("Amazon-Advertising-API-Scope", &ads.profile),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    // No scope.
    let (s, b) = send(
        base()
            .bearer_auth(ads.token())
            .header("Amazon-Advertising-API-ClientId", &ads.client_id),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    assert_eq!(b["detail"], "Scope header is missing");
    spec.assert_valid("getAsyncReport", 401, &b);
    // Unknown scope.
    let (s, b) = send(
        base()
            .bearer_auth(ads.token())
            .header("Amazon-Advertising-API-ClientId", &ads.client_id)
            .header("Amazon-Advertising-API-Scope", "42"),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    assert_eq!(b["detail"], "No matching advertiser found for scope");
    // An SP-API token is not an Ads token.
    let sp = access_token(&ads.sim, Api::Sp).await;
    let (s, _) = send(
        base()
            .bearer_auth(&sp)
            .header("Amazon-Advertising-API-ClientId", &ads.client_id)
            .header("Amazon-Advertising-API-Scope", &ads.profile),
    )
    .await;
    assert_eq!(s, 401);
    // Profiles without ClientId: 401 in the generic shape.
    let (s, b) = send(http().get(ads.url("/v2/profiles")).bearer_auth(ads.token())).await;
    assert_eq!(s, 401, "{b}");
    assert_eq!(b["code"], "UNAUTHORIZED");
    // SP campaigns without scope: the SP v3 shape.
    let (s, b) = send(
        http()
            .post(ads.url("/sp/campaigns/list"))
            .bearer_auth(ads.token())
            .header("Amazon-Advertising-API-ClientId", &ads.client_id)
            .header("Content-Type", SP_CAMPAIGN)
            .body("{}"),
    )
    .await;
    assert_eq!(s, 401, "{b}");
    Spec::ads("SponsoredProducts_prod_3p.json").assert_valid(
        "ListSponsoredProductsCampaigns",
        401,
        &b,
    );
}

// ---------------------------------------------------------------------------
// Reports

#[tokio::test]
async fn each_design_report_completes_with_exactly_its_columns() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let end = today() - Duration::days(1);
    let start = end - Duration::days(13);
    for (type_id, product, group, columns) in DESIGN_REPORTS {
        let body = report_body(type_id, product, group, columns, start, end);
        let rows = ads.rows(&body).await;
        assert!(!rows.is_empty(), "{type_id}: no rows");
        let want: BTreeSet<&str> = columns.iter().copied().collect();
        for row in &rows {
            let o = row.as_object().unwrap();
            let keys: BTreeSet<&str> = o.keys().map(String::as_str).collect();
            assert_eq!(keys, want, "{type_id}: row keys");
            let date = NaiveDate::parse_from_str(o["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
            assert!(date >= start && date <= end, "{type_id}: {date}");
            assert!(
                o["campaignId"].is_i64(),
                "{type_id}: campaignId is a number"
            );
            let impressions = o["impressions"].as_u64().unwrap();
            let clicks = o["clicks"].as_u64().unwrap();
            let cost = o["cost"].as_f64().unwrap();
            assert!(impressions >= clicks, "{type_id}: {row}");
            assert!(
                cost >= 0.0 && (clicks > 0 || cost == 0.0),
                "{type_id}: {row}"
            );
            if let Some(p7) = o.get("purchases7d") {
                let p14 = o["purchases14d"].as_u64().unwrap();
                assert!(p7.as_u64().unwrap() <= p14, "{type_id}: {row}");
                assert!(o["sales7d"].as_f64().unwrap() <= o["sales14d"].as_f64().unwrap() + 1e-9);
            }
            if let Some(p) = o.get("purchasesClicks") {
                assert!(
                    p.is_u64() && o["salesClicks"].is_number(),
                    "{type_id}: {row}"
                );
            }
            if *type_id == "spCampaigns" {
                assert_eq!(o["campaignBudgetCurrencyCode"], "USD");
                assert!(["ENABLED", "PAUSED", "ARCHIVED"]
                    .contains(&o["campaignStatus"].as_str().unwrap()));
                let tos = &o["topOfSearchImpressionShare"];
                assert!(tos.is_null() || (0.0..=1.0).contains(&tos.as_f64().unwrap()));
            }
            if *type_id == "spSearchTerm" {
                assert!(clicks >= 1, "search-term rows have at least one click");
                assert!(o["keywordId"].is_i64() && o["adGroupId"].is_i64());
                assert!(o["searchTerm"].is_string());
            }
            if *type_id == "spAdvertisedProduct" {
                assert!(o["advertisedAsin"].as_str().unwrap().starts_with("B0ADS"));
                assert!(o["advertisedSku"].as_str().unwrap().starts_with("ADS-"));
            }
        }
        // The right campaigns, and every day of the range for a busy one.
        let ids: BTreeSet<i64> = rows
            .iter()
            .map(|r| r["campaignId"].as_i64().unwrap())
            .collect();
        match *type_id {
            "sbCampaigns" => assert_eq!(ids, BTreeSet::from([6001])),
            "sdCampaigns" => assert_eq!(ids, BTreeSet::from([7001])),
            _ => assert!(ids.contains(&5001) && !ids.contains(&6001) && !ids.contains(&7001)),
        }
        if *type_id != "spSearchTerm" {
            let days: BTreeSet<&str> = rows
                .iter()
                .filter(|r| r["campaignId"] == json!(ids.first().copied().unwrap()))
                .map(|r| r["date"].as_str().unwrap())
                .collect();
            assert_eq!(days.len(), 14, "{type_id}: one row per day");
        }
    }
}

#[tokio::test]
async fn summary_reports_sum_the_range() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let end = today() - Duration::days(1);
    let start = end - Duration::days(6);
    let daily = ads.rows(&sp_campaigns(start, end)).await;
    let mut body = report_body(
        "spCampaigns",
        "SPONSORED_PRODUCTS",
        "campaign",
        &[
            "startDate",
            "endDate",
            "campaignId",
            "clicks",
            "cost",
            "costPerClick",
            "clickThroughRate",
        ],
        start,
        end,
    );
    body["configuration"]["timeUnit"] = json!("SUMMARY");
    let summary = ads.rows(&body).await;
    let one = summary.iter().find(|r| r["campaignId"] == 5001).unwrap();
    assert_eq!(one["startDate"], start.to_string());
    assert_eq!(one["endDate"], end.to_string());
    let clicks: u64 = daily
        .iter()
        .filter(|r| r["campaignId"] == 5001)
        .map(|r| r["clicks"].as_u64().unwrap())
        .sum();
    assert_eq!(one["clicks"].as_u64().unwrap(), clicks);
    let cpc = one["cost"].as_f64().unwrap() / clicks as f64;
    assert!((one["costPerClick"].as_f64().unwrap() - cpc).abs() <= 0.005 + 1e-9);

    // `date` is a DAILY column.
    let mut bad = body.clone();
    bad["configuration"]["columns"] = json!(["date", "clicks"]);
    let (status, b) = ads.create(&bad).await;
    assert_eq!(status, 400, "{b}");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("invalid values: (date)"),
        "{b}"
    );
}

#[tokio::test]
async fn invalid_requests_get_amazons_400() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let spec = Spec::ads(REPORTING);
    let end = today() - Duration::days(1);
    let start = end - Duration::days(6);

    // An unknown column fails the whole request.
    let mut body = sp_campaigns(start, end);
    body["configuration"]["columns"] =
        json!(["impressions", "clicks", "bogusColumn", "campaignId"]);
    let (status, b) = ads.create(&body).await;
    assert_eq!(status, 400, "{b}");
    spec.assert_valid("createAsyncReport", 400, &b);
    assert_eq!(b["code"], "400");
    let detail = b["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "configuration columns includes invalid values: (bogusColumn). Allowed values: ("
        ),
        "{detail}"
    );
    assert!(detail.contains("topOfSearchImpressionShare"), "{detail}");

    // A column of another groupBy is invalid too.
    let mut body = sp_campaigns(start, end);
    body["configuration"]["columns"] = json!(["adGroupId", "clicks"]);
    let (status, b) = ads.create(&body).await;
    assert_eq!(status, 400, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("(adGroupId)"));

    // SP names are not SB names.
    let mut body = report_body(
        "sbCampaigns",
        "SPONSORED_BRANDS",
        "campaign",
        &["date", "sales14d"],
        start,
        end,
    );
    let (status, b) = ads.create(&body).await;
    assert_eq!(status, 400, "{b}");
    body["configuration"]["columns"] = json!(["date", "salesClicks"]);
    assert_eq!(ads.create(&body).await.0, 200);

    // Missing timeUnit.
    let mut body = sp_campaigns(start, end);
    body["configuration"]
        .as_object_mut()
        .unwrap()
        .remove("timeUnit");
    let (status, b) = ads.create(&body).await;
    assert_eq!(status, 400, "{b}");
    assert_eq!(
        b["detail"],
        "Required fields are invalid or missing: configuration timeUnit"
    );

    // Bad groupBy, bad filter, wrong adProduct.
    let mut body = sp_campaigns(start, end);
    body["configuration"]["groupBy"] = json!(["searchTerm"]);
    assert_eq!(ads.create(&body).await.0, 400);
    let mut body = sp_campaigns(start, end);
    body["configuration"]["filters"] = json!([{"field": "keywordType", "values": ["EXACT"]}]);
    assert_eq!(ads.create(&body).await.0, 400);
    let mut body = sp_campaigns(start, end);
    body["configuration"]["adProduct"] = json!("SPONSORED_BRANDS");
    assert_eq!(ads.create(&body).await.0, 400);

    // A wrong media type.
    ads.advance("2s").await;
    let (status, b) = send(
        ads.req(reqwest::Method::POST, "/reporting/reports")
            .header("Content-Type", "text/plain")
            .body(sp_campaigns(start, end).to_string()),
    )
    .await;
    assert_eq!(status, 415, "{b}");
}

#[tokio::test]
async fn date_range_and_retention_floor_are_enforced() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let spec = Spec::ads(REPORTING);
    let t = today();

    // 31 days is the maximum range (inclusive).
    let (status, b) = ads
        .create(&sp_campaigns(t - Duration::days(32), t - Duration::days(1)))
        .await;
    assert_eq!(status, 400, "{b}");
    spec.assert_valid("createAsyncReport", 400, &b);
    assert!(b["detail"].as_str().unwrap().contains("31 days"), "{b}");
    let (status, b) = ads
        .create(&sp_campaigns(t - Duration::days(31), t - Duration::days(1)))
        .await;
    assert_eq!(status, 200, "{b}");
    // End before start.
    let (status, _) = ads
        .create(&sp_campaigns(t - Duration::days(3), t - Duration::days(5)))
        .await;
    assert_eq!(status, 400);

    // Retention: SP and SB 60 days, SD 65 days back from today.
    for (type_id, product, floor_days) in [
        ("spCampaigns", "SPONSORED_PRODUCTS", 60),
        ("sbCampaigns", "SPONSORED_BRANDS", 60),
        ("sdCampaigns", "SPONSORED_DISPLAY", 65),
    ] {
        let cols = if type_id == "spCampaigns" {
            SP_CAMPAIGNS_COLUMNS
        } else {
            SB_SD_CAMPAIGNS_COLUMNS
        };
        let floor = t - Duration::days(floor_days);
        let too_old = floor - Duration::days(1);
        let body = report_body(
            type_id,
            product,
            "campaign",
            cols,
            too_old,
            too_old + Duration::days(5),
        );
        let (status, b) = ads.create(&body).await;
        assert_eq!(status, 400, "{type_id}: {b}");
        assert_eq!(
            b["detail"],
            format!("startDate ({too_old}) must be equal to or after report type data retention start date ({floor})")
        );
        let body = report_body(
            type_id,
            product,
            "campaign",
            cols,
            floor,
            floor + Duration::days(5),
        );
        let (status, b) = ads.create(&body).await;
        assert_eq!(status, 200, "{type_id}: {b}");
    }
}

#[tokio::test]
async fn an_identical_pending_request_gets_425_naming_it() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let spec = Spec::ads(REPORTING);
    let end = today() - Duration::days(1);
    let body = sp_campaigns(end - Duration::days(6), end);
    let (status, first) = ads.create(&body).await;
    assert_eq!(status, 200, "{first}");
    let id = first["reportId"].as_str().unwrap().to_owned();

    // Same request (another name, columns in another order): 425 naming the first.
    let mut again = body.clone();
    again["name"] = json!("retry");
    again["configuration"]["columns"]
        .as_array_mut()
        .unwrap()
        .reverse();
    let (status, b) = ads.create(&again).await;
    assert_eq!(status, 425, "{b}");
    spec.assert_valid("createAsyncReport", 425, &b);
    assert_eq!(
        b,
        json!({"code": "425", "detail": format!("The Request is a duplicate of : {id}")})
    );

    // Still a duplicate while PROCESSING.
    ads.advance("2m").await;
    assert_eq!(ads.create(&body).await.0, 425);
    // A different request is not a duplicate.
    let other = sp_campaigns(end - Duration::days(5), end);
    let (status, other_report) = ads.create(&other).await;
    assert_eq!(status, 200);
    // Deleting a pending report frees its slot.
    ads.advance("1s").await;
    let other_id = other_report["reportId"].as_str().unwrap();
    let (status, b) = send(ads.req(
        reqwest::Method::DELETE,
        &format!("/reporting/reports/{other_id}"),
    ))
    .await;
    assert_eq!(status, 200, "{b}");
    spec.assert_valid("deleteAsyncReport", 200, &b);
    let (status, b) = ads.get(other_id).await;
    assert_eq!(status, 404);
    spec.assert_valid("getAsyncReport", 404, &b);
    assert_eq!(ads.create(&other).await.0, 200);

    // Once the first is COMPLETED the same request is accepted again.
    ads.advance("2m").await;
    let (status, b) = ads.get(&id).await;
    assert_eq!((status, b["status"].as_str()), (200, Some("COMPLETED")));
    let (status, b) = ads.create(&body).await;
    assert_eq!(status, 200, "{b}");
    assert_ne!(b["reportId"], json!(id));
}

#[tokio::test]
async fn conversions_are_restated_in_later_reports() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let day = today() - Duration::days(1);
    let sums = |rows: &[Value]| {
        let pick = |k: &str| -> f64 {
            rows.iter()
                .filter(|r| r["date"] == day.to_string())
                .map(|r| r[k].as_f64().unwrap())
                .sum()
        };
        (
            pick("clicks"),
            pick("purchases14d"),
            pick("sales14d"),
            pick("sales7d"),
        )
    };
    let early = sums(&ads.rows(&sp_campaigns(day, day)).await);
    ads.advance("10d").await;
    let late = sums(&ads.rows(&sp_campaigns(day, day)).await);
    assert!(early.1 > 0.0, "the day has conversions: {early:?}");
    assert_eq!(early.0, late.0, "clicks are final once the day is over");
    assert!(late.1 > early.1, "purchases14d grew: {early:?} -> {late:?}");
    assert!(late.2 > early.2, "sales14d grew: {early:?} -> {late:?}");
    assert!(late.3 > early.3, "sales7d grew: {early:?} -> {late:?}");

    // SB's click-attributed sales are restated too.
    let sb = |rows: &[Value]| -> f64 {
        rows.iter()
            .map(|r| r["salesClicks"].as_f64().unwrap())
            .sum()
    };
    let body = report_body(
        "sbCampaigns",
        "SPONSORED_BRANDS",
        "campaign",
        SB_SD_CAMPAIGNS_COLUMNS,
        day,
        day,
    );
    let later = sb(&ads.rows(&body).await);
    assert!(later > 0.0);
}

#[tokio::test]
async fn download_needs_no_auth_and_expires() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let end = today() - Duration::days(1);
    let r = ads
        .run_report(&sp_campaigns(end - Duration::days(2), end))
        .await;
    let url = r["url"].as_str().unwrap().to_owned();
    let id = r["reportId"].as_str().unwrap().to_owned();
    // No headers at all (reqwest adds none).
    let rows = download(&url).await;
    assert!(!rows.is_empty());
    // A tampered signature is refused.
    let tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(http().get(&tampered).send().await.unwrap().status(), 403);
    // An hour later the URL has expired; a new GET signs a fresh one.
    ads.advance("3601s").await;
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("Request has expired"));
    let (_, again) = ads.get(&id).await;
    let fresh = again["url"].as_str().unwrap();
    assert_ne!(fresh, url);
    assert_eq!(download(fresh).await, rows, "the document does not change");
}

// ---------------------------------------------------------------------------
// SP campaigns

async fn list_campaigns(ads: &Ads, body: Value) -> (u16, Value) {
    ads.advance("1s").await;
    send(
        ads.req(reqwest::Method::POST, "/sp/campaigns/list")
            .header("Content-Type", SP_CAMPAIGN)
            .header("Accept", SP_CAMPAIGN)
            .body(body.to_string()),
    )
    .await
}

#[tokio::test]
async fn sp_campaigns_list_validates_filters_and_pages() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let spec = Spec::ads("SponsoredProducts_prod_3p.json");
    let op = "ListSponsoredProductsCampaigns";

    let (status, body) = list_campaigns(&ads, json!({})).await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid(op, 200, &body);
    let campaigns = body["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 3, "SP campaigns only");
    assert_eq!(body["totalResults"], 3);
    let manual = campaigns
        .iter()
        .find(|c| c["campaignId"] == "5001")
        .unwrap();
    assert_eq!(manual["name"], "SP - Bottle - Manual");
    assert_eq!(manual["state"], "ENABLED");
    assert_eq!(manual["targetingType"], "MANUAL");
    assert_eq!(
        manual["budget"],
        json!({"budget": 2000.0, "budgetType": "DAILY"})
    );
    let auto = campaigns
        .iter()
        .find(|c| c["campaignId"] == "5002")
        .unwrap();
    assert_eq!(auto["targetingType"], "AUTO");

    let (_, body) = list_campaigns(
        &ads,
        json!({"stateFilter": {"include": ["PAUSED"]}, "includeExtendedDataFields": true}),
    )
    .await;
    spec.assert_valid(op, 200, &body);
    let ids: Vec<&str> = body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["campaignId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["5003"]);
    assert_eq!(
        body["campaigns"][0]["extendedData"]["servingStatus"],
        "CAMPAIGN_PAUSED"
    );

    let (_, body) = list_campaigns(&ads, json!({"campaignIdFilter": {"include": ["5002"]}})).await;
    assert_eq!(body["campaigns"].as_array().unwrap().len(), 1);

    // Paging one at a time collects every campaign once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut req = json!({"maxResults": 1});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let (status, body) = list_campaigns(&ads, req).await;
        assert_eq!(status, 200, "{body}");
        spec.assert_valid(op, 200, &body);
        for c in body["campaigns"].as_array().unwrap() {
            seen.push(c["campaignId"].as_str().unwrap().to_owned());
        }
        token = body["nextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, ["5001", "5002", "5003"]);
    let (status, b) = list_campaigns(&ads, json!({"nextToken": "zz"})).await;
    assert_eq!(status, 400, "{b}");
    spec.assert_valid(op, 400, &b);

    // The vendor media type is required.
    ads.advance("1s").await;
    let (status, b) = send(
        ads.req(reqwest::Method::POST, "/sp/campaigns/list")
            .header("Content-Type", "application/json")
            .body("{}"),
    )
    .await;
    assert_eq!(status, 415, "{b}");
    spec.assert_valid(op, 415, &b);
}

// ---------------------------------------------------------------------------
// Rate limits and faults

#[tokio::test]
async fn ads_buckets_throttle_in_each_shape() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let end = today() - Duration::days(1);
    // Create: 1 per 2 s, burst 1; the reporting 429 carries no Retry-After.
    let (status, _) = ads.create(&sp_campaigns(end, end)).await;
    assert_eq!(status, 200);
    let resp = ads
        .req(reqwest::Method::POST, "/reporting/reports")
        .header("Content-Type", CREATE_CT)
        .body(sp_campaigns(end - Duration::days(1), end).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    let b: Value = resp.json().await.unwrap();
    Spec::ads(REPORTING).assert_valid("createAsyncReport", 429, &b);

    // SP list: burst 2, then 429 THROTTLED with Retry-After.
    ads.advance("5s").await;
    for _ in 0..2 {
        let resp = ads
            .req(reqwest::Method::POST, "/sp/campaigns/list")
            .header("Content-Type", SP_CAMPAIGN)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let resp = ads
        .req(reqwest::Method::POST, "/sp/campaigns/list")
        .header("Content-Type", SP_CAMPAIGN)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    let b: Value = resp.json().await.unwrap();
    Spec::ads("SponsoredProducts_prod_3p.json").assert_valid(
        "ListSponsoredProductsCampaigns",
        429,
        &b,
    );
}

#[tokio::test]
async fn ads_faults_401_425_and_long_pending() {
    if common::amazon_models::missing() {
        return;
    }
    let end = today() - Duration::days(1);

    // ads_401: a status poll with a valid token gets the transient 401.
    let ads = Ads::new(FaultSet::none().with(Fault::Ads401, 1.0)).await;
    let (status, created) = ads.create(&sp_campaigns(end, end)).await;
    assert_eq!(status, 200);
    let (status, b) = ads.get(created["reportId"].as_str().unwrap()).await;
    assert_eq!((status, b), (401, json!({"message": "Unauthorized"})));

    // ads_425: the create is refused as a duplicate of a report that exists.
    let ads = Ads::new(FaultSet::none().with(Fault::Ads425, 1.0)).await;
    let (status, b) = ads.create(&sp_campaigns(end, end)).await;
    assert_eq!(status, 425, "{b}");
    let detail = b["detail"].as_str().unwrap();
    let id = detail
        .strip_prefix("The Request is a duplicate of : ")
        .expect("names the duplicate");
    let (status, r) = ads.get(id).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "PENDING");

    // ads_pending: PENDING for hours, then it completes.
    let ads = Ads::new(FaultSet::none().with(Fault::AdsPending, 1.0)).await;
    let (_, created) = ads.create(&sp_campaigns(end, end)).await;
    let id = created["reportId"].as_str().unwrap().to_owned();
    ads.advance("2h").await;
    assert_eq!(ads.get(&id).await.1["status"], "PENDING");
    ads.advance("1h").await;
    let (_, r) = ads.get(&id).await;
    assert_eq!(r["status"], "PROCESSING");
    ads.advance("1m").await;
    let (_, r) = ads.get(&id).await;
    assert_eq!(r["status"], "COMPLETED");
    assert!(!download(r["url"].as_str().unwrap()).await.is_empty());
}

#[tokio::test]
async fn demo_scenario_serves_ads_reports() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(
        Scenario::from_path(&common::scenario_path("demo.toml")).expect("demo scenario"),
    )
    .await;
    let ads = Ads::around(sim).await;
    let end = today() - Duration::days(1);
    for (type_id, product, group, columns) in DESIGN_REPORTS {
        let rows = ads
            .rows(&report_body(
                type_id,
                product,
                group,
                columns,
                end - Duration::days(6),
                end,
            ))
            .await;
        assert!(!rows.is_empty(), "demo {type_id}");
    }
}

#[tokio::test]
async fn group_by_combinations_and_filters() {
    if common::amazon_models::missing() {
        return;
    }
    let ads = Ads::new(FaultSet::none()).await;
    let end = today() - Duration::days(1);
    let start = end - Duration::days(2);

    // spCampaigns by campaign and placement: each campaign-day split in three.
    let mut body = report_body(
        "spCampaigns",
        "SPONSORED_PRODUCTS",
        "campaign",
        &["date", "campaignId", "placementClassification", "clicks"],
        start,
        end,
    );
    body["configuration"]["groupBy"] = json!(["campaign", "campaignPlacement"]);
    let by_placement = ads.rows(&body).await;
    let daily = ads.rows(&sp_campaigns(start, end)).await;
    let clicks = |rows: &[Value]| -> u64 {
        rows.iter()
            .filter(|r| r["campaignId"] == 5001)
            .map(|r| r["clicks"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(clicks(&by_placement), clicks(&daily));
    assert!(by_placement
        .iter()
        .all(|r| r["placementClassification"].is_string()));

    // keywordType filter on search terms.
    let mut body = report_body(
        "spSearchTerm",
        "SPONSORED_PRODUCTS",
        "searchTerm",
        SP_SEARCH_TERM_COLUMNS,
        start,
        end,
    );
    body["configuration"]["filters"] = json!([{"field": "keywordType", "values": ["EXACT"]}]);
    let exact = ads.rows(&body).await;
    assert!(!exact.is_empty());
    assert!(exact.iter().all(|r| r["matchType"] == "EXACT"), "{exact:?}");

    // campaignStatus filter: no paused campaign has activity.
    let mut body = sp_campaigns(start, end);
    body["configuration"]["filters"] = json!([{"field": "campaignStatus", "values": ["PAUSED"]}]);
    assert!(ads.rows(&body).await.is_empty());
}
