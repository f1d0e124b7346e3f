//! The account checks behind `flywheel doctor` (and `auth`'s check of a
//! new token): per account, checks the credentials and calls one cheap
//! operation per API to learn which roles the app has, then says which
//! jobs will run, which are unavailable and why, and which rules will
//! report `no_data` as a result. The command around it (`cmd::doctor`)
//! opens the database, reads the clock and prints the report.
//!
//! The probe table, the job → API map and the rule → job map are data, so
//! the verdicts are a pure function of the probe results ([`assess`]).

use chrono::{DateTime, Utc};

use crate::amazon::client::{ApiClient, CallSpec, Endpoint};
use crate::amazon::http::ApiError;
use crate::amazon::lwa::LwaError;
use crate::config::{Account, Config, RuleId};
use crate::model::marketplace::Marketplace;
use crate::store::ops::StoredData;
use crate::sync::{Ctx, Db, JobName};

/// An API (role) the app may or may not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    SpCredentials,
    Sellers,
    Orders,
    FbaInventory,
    Reports,
    Catalog,
    Listings,
    Pricing,
    Fees,
    CustomerFeedback,
    AdsCredentials,
    AdsProfiles,
}

impl Capability {
    pub fn label(self) -> &'static str {
        match self {
            Capability::SpCredentials => "SP-API credentials",
            Capability::Sellers => "Sellers API",
            Capability::Orders => "Orders API",
            Capability::FbaInventory => "FBA Inventory API",
            Capability::Reports => "Reports API",
            Capability::Catalog => "Catalog Items API",
            Capability::Listings => "Listings Items API",
            Capability::Pricing => "Product Pricing API",
            Capability::Fees => "Product Fees API",
            Capability::CustomerFeedback => "Customer Feedback API",
            Capability::AdsCredentials => "Ads API credentials",
            Capability::AdsProfiles => "Ads profiles",
        }
    }
}

/// What each job needs.
pub fn needs(job: JobName) -> &'static [Capability] {
    use Capability::*;
    match job {
        JobName::Orders => &[SpCredentials, Orders, Reports],
        JobName::Inventory => &[SpCredentials, FbaInventory],
        JobName::InventoryPlanning
        | JobName::SalesTraffic
        | JobName::Returns
        | JobName::SellerFeedback
        | JobName::AccountHealth
        | JobName::SearchQueryPerformance => &[SpCredentials, Reports],
        JobName::CatalogRanks => &[SpCredentials, Catalog],
        JobName::Pricing => &[SpCredentials, Pricing],
        JobName::Listings => &[SpCredentials, Listings],
        JobName::CustomerFeedback => &[SpCredentials, CustomerFeedback],
        JobName::Fees => &[SpCredentials, Fees],
        JobName::Ads => &[AdsCredentials, AdsProfiles],
    }
}

/// The jobs a rule's data comes from ([`crate::model::needs`]): a rule
/// lacks data when none of its alternatives can run.
pub fn rule_sources(rule: RuleId) -> Vec<Vec<JobName>> {
    crate::model::needs::needs(rule)
        .requires
        .iter()
        .map(|alt| alt.iter().filter_map(|d| JobName::filling(*d)).collect())
        .collect()
}

/// The result of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Ok(String),
    /// 403: the role is missing.
    Missing(String),
    /// LWA refused the credentials: the operator must act (re-authorize,
    /// or correct the client id and secret).
    Refused(LwaError),
    /// Could not tell (network, not configured, an unreadable answer).
    Failed(String),
}

/// The probe of an access token that could not be had.
fn token_failed(e: LwaError) -> Probe {
    if e.is_credentials_problem() {
        Probe::Refused(e)
    } else {
        Probe::Failed(e.to_string())
    }
}

impl Probe {
    pub fn is_ok(&self) -> bool {
        matches!(self, Probe::Ok(_))
    }
}

/// Verdicts for one account, from its probe results (pure).
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub jobs: Vec<(JobName, Result<(), String>)>,
    pub rules_without_data: Vec<(RuleId, String)>,
}

pub fn assess(cfg: &Config, account: &Account, probes: &[(Capability, Probe)]) -> Assessment {
    let probe = |c: Capability| probes.iter().find(|(k, _)| *k == c).map(|(_, p)| p);
    let mut jobs = Vec::new();
    for job in JobName::ALL {
        let scheduled = cfg
            .schedule
            .jobs()
            .iter()
            .any(|(n, s)| *n == job.as_str() && s.as_cron().is_some());
        let verdict = if !scheduled {
            Err("switched off in [schedule]".to_string())
        } else if *job == JobName::Listings && account.seller_id.is_none() {
            Err("needs `seller_id` in the account (Seller Central > Settings > Account Info > Merchant Token)".to_string())
        } else {
            needs(*job)
                .iter()
                .find_map(|c| match probe(*c) {
                    Some(Probe::Ok(_)) => None,
                    Some(Probe::Missing(m)) => Some(format!("{}: role missing ({m})", c.label())),
                    Some(Probe::Failed(m)) => Some(format!("{}: {m}", c.label())),
                    Some(Probe::Refused(e)) => Some(format!("{}: {e}", c.label())),
                    None => Some(format!("{}: not configured", c.label())),
                })
                .map_or(Ok(()), Err)
        };
        jobs.push((*job, verdict));
    }
    let runs = |j: &JobName| jobs.iter().any(|(k, v)| k == j && v.is_ok());
    let mut rules_without_data = Vec::new();
    for rule in RuleId::ALL {
        if !cfg.rules.common(*rule).enabled {
            continue;
        }
        if *rule == RuleId::RatingFloor {
            let has_file = account.ratings_file.is_some() || cfg.ratings_file.is_some();
            if !has_file {
                rules_without_data.push((
                    *rule,
                    "no ratings_file (no Amazon API returns star ratings)".to_string(),
                ));
            }
            continue;
        }
        if *rule == RuleId::MarginFloor && account.costs_file.is_none() && cfg.costs_file.is_none()
        {
            rules_without_data.push((*rule, "no costs_file (unit costs)".to_string()));
            continue;
        }
        let alternatives = rule_sources(*rule);
        if !alternatives.iter().any(|alt| alt.iter().all(runs)) {
            let missing: Vec<&str> = alternatives
                .iter()
                .flat_map(|alt| alt.iter())
                .filter(|j| !runs(j))
                .map(|j| j.as_str())
                .collect();
            rules_without_data.push((*rule, format!("needs the {} job", missing.join(" / "))));
        }
    }
    Assessment {
        jobs,
        rules_without_data,
    }
}

fn verdict(
    result: Result<crate::amazon::client::ApiResponse, ApiError>,
    ok: impl FnOnce(&crate::amazon::client::ApiResponse) -> String,
) -> Probe {
    match result {
        Ok(r) => Probe::Ok(ok(&r)),
        Err(ApiError::MissingRole { message, .. }) => Probe::Missing(message),
        Err(ApiError::Credentials { source, .. }) => token_failed(source),
        Err(e) => Probe::Failed(e.to_string()),
    }
}

async fn probe_sp(
    client: &ApiClient,
    ep: &Endpoint,
    account: &Account,
    marketplace: &str,
    now: DateTime<Utc>,
    participations: &mut Option<Vec<Participation>>,
) -> Vec<(Capability, Probe)> {
    let mut out = Vec::new();
    let token = client
        .lwa
        .access_token(&ep.token_url, &ep.credentials, std::time::Instant::now())
        .await;
    if let Err(e) = token {
        out.push((Capability::SpCredentials, token_failed(e)));
        return out;
    }
    out.push((
        Capability::SpCredentials,
        Probe::Ok(format!("token from {}", ep.token_url)),
    ));
    let since =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut probes: Vec<(Capability, CallSpec)> = vec![
        (
            Capability::Sellers,
            CallSpec::get(
                "getMarketplaceParticipations",
                "/sellers/v1/marketplaceParticipations",
            ),
        ),
        (
            Capability::Orders,
            CallSpec::get("searchOrders", "/orders/2026-01-01/orders")
                .query("marketplaceIds", marketplace)
                .query("lastUpdatedAfter", since)
                .query("maxResultsPerPage", "1"),
        ),
        (
            Capability::FbaInventory,
            CallSpec::get("getInventorySummaries", "/fba/inventory/v1/summaries")
                .query("granularityType", "Marketplace")
                .query("granularityId", marketplace)
                .query("marketplaceIds", marketplace),
        ),
        (
            Capability::Reports,
            CallSpec::get("getReports", "/reports/2021-06-30/reports")
                .query(
                    "reportTypes",
                    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                )
                .query("pageSize", "1"),
        ),
        (
            Capability::Catalog,
            CallSpec::get("searchCatalogItems", "/catalog/2022-04-01/items")
                .query("marketplaceIds", marketplace)
                .query("keywords", "flywheel")
                .query("pageSize", "1"),
        ),
    ];
    if let Some(seller) = &account.seller_id {
        probes.push((
            Capability::Listings,
            CallSpec::get(
                "searchListingsItems",
                format!("/listings/2021-08-01/items/{seller}"),
            )
            .query("marketplaceIds", marketplace)
            .query("pageSize", "1"),
        ));
    }
    for (cap, spec) in probes {
        let result = client.call(ep, &spec).await;
        if let (Capability::Sellers, Ok(r)) = (cap, &result) {
            *participations = Some(parse_participations(&r.body));
        }
        out.push((cap, verdict(result, |_| "answered".to_string())));
    }
    // Pricing, fees and customer feedback need a product to ask about; an
    // unknown one still tells whether the role is there (404/400, not 403).
    let asin = "B000000000";
    let pricing = CallSpec::post_json(
        "getCompetitiveSummary",
        "/batches/products/pricing/2022-05-01/items/competitiveSummary",
        &serde_json::json!({"requests": [{
            "asin": asin, "marketplaceId": marketplace, "includedData": ["featuredBuyingOptions"],
            "method": "GET", "uri": "/products/pricing/2022-05-01/items/competitiveSummary"
        }]}),
        "application/json",
    );
    let currency = account
        .marketplaces()
        .first()
        .map(|m| m.currency)
        .unwrap_or("USD");
    let fees = CallSpec::post_json(
        "getMyFeesEstimateForASIN",
        format!("/products/fees/v0/items/{asin}/feesEstimate"),
        &serde_json::json!({"FeesEstimateRequest": {
            "MarketplaceId": marketplace, "IsAmazonFulfilled": true, "Identifier": "flywheel-doctor",
            "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": currency, "Amount": 10.0}}
        }}),
        "application/json",
    );
    let feedback = CallSpec::get(
        "getItemBrowseNode",
        format!("/customerFeedback/2024-06-01/items/{asin}/browseNode"),
    )
    .query("marketplaceId", marketplace);
    for (cap, spec) in [
        (Capability::Pricing, pricing),
        (Capability::Fees, fees),
        (Capability::CustomerFeedback, feedback),
    ] {
        let result = client.call(ep, &spec).await;
        let p = match result {
            // A refusal about the made-up product still proves access.
            Err(ApiError::Permanent { status, .. }) if status == 400 || status == 404 => {
                Probe::Ok(format!("answered ({status} for a probe product)"))
            }
            other => verdict(other, |_| "answered".to_string()),
        };
        out.push((cap, p));
    }
    out
}

async fn probe_ads(
    client: &ApiClient,
    ep: &Endpoint,
    account: &Account,
    listed: &mut Option<Vec<AdsProfile>>,
) -> Vec<(Capability, Probe)> {
    let mut out = Vec::new();
    if let Err(e) = client
        .lwa
        .access_token(&ep.token_url, &ep.credentials, std::time::Instant::now())
        .await
    {
        out.push((Capability::AdsCredentials, token_failed(e)));
        return out;
    }
    out.push((
        Capability::AdsCredentials,
        Probe::Ok(format!("token from {}", ep.token_url)),
    ));
    let resp = client
        .call(ep, &CallSpec::get("listProfiles", "/v2/profiles"))
        .await;
    let countries: Vec<&str> = account.marketplaces().iter().map(|m| m.country).collect();
    let probe = match resp {
        Ok(r) => match serde_json::from_slice::<Vec<serde_json::Value>>(&r.body) {
            Ok(profiles) => {
                *listed = Some(profiles.iter().filter_map(AdsProfile::of).collect());
                let matched: Vec<String> = profiles
                    .iter()
                    .filter(|p| {
                        let cc = p["countryCode"].as_str().unwrap_or("");
                        countries.contains(&cc) || (cc == "GB" && countries.contains(&"UK"))
                    })
                    .map(|p| {
                        format!(
                            "{} {}",
                            p["countryCode"].as_str().unwrap_or("?"),
                            p["profileId"]
                        )
                    })
                    .collect();
                if matched.is_empty() {
                    Probe::Failed(format!(
                        "{} profile(s), none for {}",
                        profiles.len(),
                        countries.join(", ")
                    ))
                } else {
                    Probe::Ok(format!("matched {}", matched.join(", ")))
                }
            }
            Err(e) => Probe::Failed(format!("unreadable profiles: {e}")),
        },
        other => verdict(other, |_| String::new()),
    };
    out.push((Capability::AdsProfiles, probe));
    out
}

/// One marketplace of `getMarketplaceParticipations`.
#[derive(Debug, Clone, PartialEq)]
pub struct Participation {
    pub marketplace_id: String,
    pub participating: bool,
    pub suspended_listings: bool,
}

/// The participations of a `getMarketplaceParticipations` answer (the
/// sellers model's `payload[].marketplace.id` and `.participation`).
pub fn parse_participations(body: &[u8]) -> Vec<Participation> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v["payload"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(Participation {
                        marketplace_id: p["marketplace"]["id"].as_str()?.to_string(),
                        participating: p["participation"]["isParticipating"].as_bool()?,
                        suspended_listings: p["participation"]["hasSuspendedListings"]
                            .as_bool()
                            .unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One Ads profile of `GET /v2/profiles`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdsProfile {
    pub profile_id: String,
    /// ISO country code (`GB` for the UK).
    pub country_code: String,
    pub currency: String,
    pub timezone: String,
}

impl AdsProfile {
    fn of(p: &serde_json::Value) -> Option<AdsProfile> {
        let text = |k: &str| p[k].as_str().unwrap_or("?").to_string();
        Some(AdsProfile {
            profile_id: match &p["profileId"] {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => return None,
            },
            country_code: text("countryCode"),
            currency: text("currencyCode"),
            timezone: text("timezone"),
        })
    }
}

/// What doctor found about one marketplace of the account: whether the
/// seller sells there, its Ads profile, and the newest data stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketCheck {
    pub marketplace: &'static Marketplace,
    /// From `getMarketplaceParticipations`; `None` when that was not
    /// answered (no SP-API section, or the call failed).
    pub selling: Option<Participation>,
    /// The profile of the marketplace's country; `None` when none is, or
    /// the profiles were not listed (see `ads_listed`).
    pub ads_profile: Option<AdsProfile>,
    /// Whether the Ads profiles were listed at all.
    pub ads_listed: bool,
    /// The newest data stored, or why the database could not say.
    pub stored: Result<StoredData, String>,
}

impl MarketCheck {
    /// Whether this marketplace has a problem doctor must report: the
    /// seller does not sell there, or Ads are listed without its profile.
    pub fn problem(&self) -> Option<String> {
        if self.selling.as_ref().is_some_and(|p| !p.participating) {
            return Some(format!(
                "the seller does not sell in {} ({}): remove it from the account's marketplaces, or authorise flywheel for it",
                self.marketplace.country, self.marketplace.id
            ));
        }
        (self.ads_listed && self.ads_profile.is_none()).then(|| {
            format!(
                "no Ads profile for {}: its campaigns will not be synced",
                self.marketplace.country
            )
        })
    }
}

/// Per marketplace of `account`, what the probes and the database say.
/// Pure: the participations and profiles the probes read, the data stored.
pub fn markets(
    account: &Account,
    participations: Option<&[Participation]>,
    profiles: Option<&[AdsProfile]>,
    stored: impl Fn(&Marketplace) -> Result<StoredData, String>,
) -> Vec<MarketCheck> {
    account
        .marketplaces()
        .into_iter()
        .map(|m| {
            MarketCheck {
                marketplace: m,
                selling: participations.map(|ps| {
                    ps.iter()
                        .find(|p| p.marketplace_id == m.id)
                        .cloned()
                        .unwrap_or(Participation {
                            marketplace_id: m.id.to_string(),
                            participating: false,
                            suspended_listings: false,
                        })
                }),
                // `lookup` reads the profile's ISO code (`GB` is the UK).
                ads_profile: profiles.and_then(|ps| {
                    ps.iter()
                        .find(|p| {
                            crate::model::marketplace::lookup(&p.country_code)
                                .is_some_and(|x| x.id == m.id)
                        })
                        .cloned()
                }),
                ads_listed: profiles.is_some(),
                stored: stored(m),
            }
        })
        .collect()
}

/// What probing one account found.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// Each probe's result, in the order they ran.
    pub probes: Vec<(Capability, Probe)>,
    pub assessment: Assessment,
    /// One line per marketplace of the account, in its order.
    pub markets: Vec<MarketCheck>,
}

/// Probes one account's APIs at `now` and assesses the results.
pub async fn check_account(
    cfg: &Config,
    account: &Account,
    client: &ApiClient,
    db: &Db,
    now: DateTime<Utc>,
) -> Checked {
    let ctx = Ctx {
        cfg,
        account,
        client,
        db,
        now,
        clock: &crate::clock::Clock::Fixed(now),
    };
    let marketplace = account
        .marketplaces()
        .first()
        .map(|m| m.id)
        .unwrap_or_default();
    let mut probes = Vec::new();
    let (mut participations, mut profiles) = (None, None);
    if let Some(ep) = ctx.sp() {
        probes.extend(probe_sp(client, &ep, account, marketplace, now, &mut participations).await);
    }
    if let Some(ep) = ctx.ads() {
        probes.extend(probe_ads(client, &ep, account, &mut profiles).await);
    }
    let assessment = assess(cfg, account, &probes);
    let markets = {
        let conn = db.lock().unwrap_or_else(|e| e.into_inner());
        markets(
            account,
            participations.as_deref(),
            profiles.as_deref(),
            |m| {
                crate::store::ops::stored_data(&conn, &account.name, m.id)
                    .map_err(|e| e.to_string())
            },
        )
    };
    Checked {
        probes,
        assessment,
        markets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(extra: &str) -> Config {
        let text = format!(
            "[[accounts]]\nname = \"a\"\nregion = \"na\"\nmarketplaces = [\"US\"]\nalert_to = [\"a@example.com\"]\nseller_id = \"S\"\n[accounts.sp_api]\nclient_id = \"i\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n{extra}"
        );
        Config::from_toml(&text, Path::new("/x/c.toml"), &Default::default()).unwrap()
    }

    /// Every capability the SP-API jobs need answers ok (no Ads section).
    fn all_ok() -> Vec<(Capability, Probe)> {
        let mut ok: Vec<(Capability, Probe)> = Vec::new();
        for job in JobName::ALL.iter().filter(|j| **j != JobName::Ads) {
            for c in needs(*job) {
                if !ok.iter().any(|(k, _)| k == c) {
                    ok.push((*c, Probe::Ok("ok".into())));
                }
            }
        }
        ok
    }

    #[test]
    fn a_missing_role_makes_its_jobs_unavailable_and_their_rules_no_data() {
        let cfg = config("");
        let mut probes = all_ok();
        probes.retain(|(c, _)| *c != Capability::FbaInventory);
        probes.push((
            Capability::FbaInventory,
            Probe::Missing("Unauthorized".into()),
        ));
        let a = assess(&cfg, &cfg.accounts[0], &probes);
        let inv = a
            .jobs
            .iter()
            .find(|(j, _)| *j == JobName::Inventory)
            .unwrap();
        assert_eq!(
            inv.1,
            Err("FBA Inventory API: role missing (Unauthorized)".to_string())
        );
        let no_data: Vec<RuleId> = a.rules_without_data.iter().map(|(r, _)| *r).collect();
        assert!(no_data.contains(&RuleId::StockoutRisk), "{no_data:?}");
        // No Ads section: the ads job cannot run, so ACoS rules have no data.
        assert!(no_data.contains(&RuleId::AcosBand));
        // tacos needs ads too.
        assert!(no_data.contains(&RuleId::Tacos));
        // Without files, rating and margin rules say why.
        assert!(a
            .rules_without_data
            .iter()
            .any(|(r, why)| *r == RuleId::RatingFloor && why.contains("ratings_file")));
        // Rules whose data is there are not listed.
        assert!(!no_data.contains(&RuleId::ConversionRate));
        assert!(!no_data.contains(&RuleId::DataFreshness));
    }

    #[test]
    fn growth_stall_falls_back_to_orders_without_brand_analytics() {
        let cfg = config("[schedule]\nsales_traffic = \"off\"\n");
        let a = assess(&cfg, &cfg.accounts[0], &all_ok());
        let no_data: Vec<RuleId> = a.rules_without_data.iter().map(|(r, _)| *r).collect();
        assert!(
            !no_data.contains(&RuleId::GrowthStall),
            "orders is the fallback"
        );
        assert!(no_data.contains(&RuleId::ConversionRate));
        let st = a
            .jobs
            .iter()
            .find(|(j, _)| *j == JobName::SalesTraffic)
            .unwrap();
        assert_eq!(st.1, Err("switched off in [schedule]".to_string()));
    }

    /// Per marketplace: the seller's participation, its Ads profile (the
    /// UK's is `GB`), and what is stored; problems only where one is.
    #[test]
    fn each_marketplace_says_if_the_seller_sells_there_and_has_its_profile() {
        let text = "[[accounts]]\nname = \"eu\"\nregion = \"eu\"\nmarketplaces = [\"UK\", \"A1PA6795UKMFR9\", \"FR\"]\nalert_to = [\"a@example.com\"]\n[accounts.sp_api]\nclient_id = \"i\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n";
        let cfg = Config::from_toml(text, Path::new("/x/c.toml"), &Default::default()).unwrap();
        let body = br#"{"payload": [
            {"marketplace": {"id": "A1F83G8C2ARO7P", "countryCode": "GB"}, "participation": {"isParticipating": true, "hasSuspendedListings": false}},
            {"marketplace": {"id": "A1PA6795UKMFR9", "countryCode": "DE"}, "participation": {"isParticipating": true, "hasSuspendedListings": true}},
            {"marketplace": {"id": "A13V1IB3VIYZZH", "countryCode": "FR"}, "participation": {"isParticipating": false, "hasSuspendedListings": false}}
        ]}"#;
        let parts = parse_participations(body);
        assert_eq!(parts.len(), 3);
        let profiles = vec![
            AdsProfile::of(&serde_json::json!({"profileId": 31, "countryCode": "GB", "currencyCode": "GBP", "timezone": "Europe/London"})).unwrap(),
            AdsProfile::of(&serde_json::json!({"profileId": 32, "countryCode": "DE", "currencyCode": "EUR", "timezone": "Europe/Berlin"})).unwrap(),
        ];
        let stored = |m: &Marketplace| {
            Ok(StoredData {
                orders: (m.country == "UK").then(|| "2026-03-01".to_string()),
                ..StoredData::default()
            })
        };
        let got = markets(&cfg.accounts[0], Some(&parts), Some(&profiles), stored);
        type Row<'a> = (
            &'a str,
            Option<bool>,
            Option<&'a str>,
            Option<&'a str>,
            bool,
        );
        let want: Vec<Row> = vec![
            ("UK", Some(true), Some("31"), Some("2026-03-01"), false),
            ("DE", Some(true), Some("32"), None, false),
            ("FR", Some(false), None, None, true),
        ];
        let rows: Vec<Row> = got
            .iter()
            .map(|m| {
                (
                    m.marketplace.country,
                    m.selling.as_ref().map(|p| p.participating),
                    m.ads_profile.as_ref().map(|p| p.profile_id.as_str()),
                    m.stored.as_ref().unwrap().orders.as_deref(),
                    m.problem().is_some(),
                )
            })
            .collect();
        assert_eq!(rows, want);
        assert!(got[1].selling.as_ref().unwrap().suspended_listings);
        assert!(got[2].problem().unwrap().contains("does not sell in FR"));
        // Profiles listed without DE's: DE's problem says so; not listed
        // at all (no Ads section): nothing to say about Ads.
        let only_uk = &profiles[..1];
        let got = markets(&cfg.accounts[0], Some(&parts), Some(only_uk), |_| {
            Ok(StoredData::default())
        });
        assert!(got[1].problem().unwrap().contains("no Ads profile for DE"));
        let got = markets(&cfg.accounts[0], None, None, |_| Ok(StoredData::default()));
        assert!(got
            .iter()
            .all(|m| m.problem().is_none() && m.selling.is_none()));
    }

    #[test]
    fn listings_needs_a_seller_id() {
        let mut cfg = config("");
        cfg.accounts[0].seller_id = None;
        let a = assess(&cfg, &cfg.accounts[0], &all_ok());
        let l = a
            .jobs
            .iter()
            .find(|(j, _)| *j == JobName::Listings)
            .unwrap();
        assert!(l.1.as_ref().unwrap_err().contains("seller_id"));
    }
}
