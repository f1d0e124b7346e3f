//! Product Pricing 2022-05-01 `getCompetitiveSummary`, Listings Items
//! 2021-08-01 `searchListingsItems` / `getListingsItem` and the Customer
//! Feedback 2024-06-01 operations, over real HTTP on 127.0.0.1: strict
//! validation against Amazon's models, the models' sandbox examples, paging,
//! filters, `includedData`, rate headers and bursts.

mod common;

use std::collections::BTreeSet;

use common::{access_token, http, scenario_path, sp_get, spawn_frozen, tiny_scenario, Api, Spec};
use flywheel_sim::scenario::Scenario;
use flywheel_sim::RunningSim;
use serde_json::{json, Value};

const PRICING: &str = "productPricing_2022-05-01.json";
const LISTINGS: &str = "listingsItems_2021-08-01.json";
const FEEDBACK: &str = "customerFeedback_2024-06-01.json";
const SUMMARY_PATH: &str = "/batches/products/pricing/2022-05-01/items/competitiveSummary";
const ITEM_URI: &str = "/products/pricing/2022-05-01/items/competitiveSummary";
const CF: &str = "/customerFeedback/2024-06-01";

fn demo() -> Scenario {
    Scenario::from_path(&scenario_path("demo.toml")).expect("scenarios/demo.toml parses")
}

/// Move the frozen clock so every bucket refills (sim time only).
async fn advance(sim: &RunningSim, by: &str) {
    let resp = http()
        .post(format!("{}/_sim/advance?by={by}", sim.base_url()))
        .send()
        .await
        .expect("advance");
    assert!(resp.status().is_success(), "advance {by}");
}

async fn sp_post(
    sim: &RunningSim,
    token: &str,
    path: &str,
    body: &Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = http()
        .post(format!("{}{path}", sim.base_url()))
        .header("x-amz-access-token", token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn assert_quota_exceeded(status: u16, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errors"][0]["code"], "QuotaExceeded", "{body}");
    assert!(
        headers.get("x-amzn-ratelimit-limit").is_none(),
        "no rate header on 429"
    );
}

fn summary_request(asin: &str, included: &[&str]) -> Value {
    json!({
        "asin": asin,
        "marketplaceId": "ATVPDKIKX0DER",
        "includedData": included,
        "lowestPricedOffersInputs": [{"itemCondition": "New", "offerType": "Consumer"}],
        "method": "GET",
        "uri": ITEM_URI,
    })
}

// ---------------------------------------------------------------------------
// Pricing

#[tokio::test]
async fn competitive_summary_validates_and_follows_the_world() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(PRICING);
    let all = [
        "featuredBuyingOptions",
        "referencePrices",
        "lowestPricedOffers",
        "similarItems",
    ];
    let body = json!({"requests": [
        summary_request("B0TINY0001", &all),
        summary_request("B0TINY0002", &["referencePrices"]),
        summary_request("B0UNKNOWN1", &all),
        summary_request("bad asin", &all),
    ]});
    let (status, headers, resp) = sp_post(&sim, &token, SUMMARY_PATH, &body).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(headers["x-amzn-ratelimit-limit"], "0.033");
    spec.assert_valid("getCompetitiveSummary", 200, &resp);
    let r = resp["responses"].as_array().unwrap();
    assert_eq!(r.len(), 4, "one response per request");
    assert_eq!(r[0]["status"]["statusCode"], 200);
    assert_eq!(r[1]["status"]["statusCode"], 200);
    assert_eq!(r[2]["status"]["statusCode"], 404);
    assert_eq!(r[3]["status"]["statusCode"], 400);
    assert_eq!(r[3]["body"]["errors"][0]["code"], "INVALID_ASIN");

    // includedData honoured: everything for the first, only reference prices for the second.
    let first = &r[0]["body"];
    for key in all {
        assert!(first.get(key).is_some(), "{key} requested: {first}");
    }
    let second = r[1]["body"].as_object().unwrap();
    assert!(second.contains_key("referencePrices"));
    for key in [
        "featuredBuyingOptions",
        "lowestPricedOffers",
        "similarItems",
    ] {
        assert!(!second.contains_key(key), "{key} not requested");
    }
    assert!(!r[1]["body"]["referencePrices"]
        .as_array()
        .unwrap()
        .is_empty());

    // The featured offer is the world's buy-box winner.
    let cs = sim
        .world
        .competitive_summary("B0TINY0001", sim.clock.now())
        .unwrap();
    let offers = first["featuredBuyingOptions"][0]["segmentedFeaturedOffers"]
        .as_array()
        .expect("a featured offer");
    assert!(!offers.is_empty());
    assert_eq!(
        offers[0]["sellerId"].as_str(),
        cs.featured_seller_id.as_deref()
    );
    let ours: f64 = offers
        .iter()
        .filter(|o| o["sellerId"] == sim.world.scenario().seller.seller_id.as_str())
        .flat_map(|o| o["featuredOfferSegments"].as_array().unwrap().iter())
        .map(|s| {
            s["segmentDetails"]["glanceViewWeightPercentage"]
                .as_f64()
                .unwrap()
        })
        .sum();
    let in_stock = cs.offers.iter().any(|o| o.is_ours);
    let expected_ours = if in_stock { cs.featured_share_pct } else { 0.0 };
    assert!(
        (ours - expected_ours).abs() < 0.02,
        "{ours} vs {expected_ours}"
    );
    let lowest = first["lowestPricedOffers"].as_array().unwrap();
    assert!(!lowest.is_empty() && !lowest[0]["offers"].as_array().unwrap().is_empty());

    // Burst 1: the next call at the same sim time is throttled.
    let (status, headers, resp) = sp_post(&sim, &token, SUMMARY_PATH, &body).await;
    assert_quota_exceeded(status, &headers, &resp);
}

#[tokio::test]
async fn competitive_summary_rejects_a_malformed_batch() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(PRICING);
    for body in [
        json!({"requests": []}),
        json!({"nope": 1}),
        json!({"requests": (0..21).map(|_| summary_request("B0TINY0001", &["referencePrices"])).collect::<Vec<_>>()}),
    ] {
        let (status, headers, resp) = sp_post(&sim, &token, SUMMARY_PATH, &body).await;
        assert_eq!(status, 400, "{resp}");
        assert!(headers.get("x-amzn-ratelimit-limit").is_some());
        spec.assert_valid("getCompetitiveSummary", 400, &resp);
        advance(&sim, "1m").await;
    }
}

/// The names of an answer's reference prices, and the prices by name.
fn reference_prices(body: &Value) -> Vec<(String, f64)> {
    body["referencePrices"]
        .as_array()
        .expect("referencePrices")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["price"]["amount"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Amazon's changelog: since 2025-09-30 `CompetitivePriceThreshold` is
/// returned only in JP, `CompetitivePrice` (every marketplace but JP)
/// replaces it, and since 2025-08-06 `customerMembership` may be `DEFAULT`.
#[tokio::test]
async fn competitive_summary_follows_the_2025_reference_price_and_segment_changes() {
    if common::amazon_models::missing() {
        return;
    }
    let all = ["featuredBuyingOptions", "referencePrices"];
    let spec = Spec::sp(PRICING);

    // US, 2026: CompetitivePrice, no threshold; a DEFAULT segment.
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let body = json!({"requests": [summary_request("B0TINY0001", &all)]});
    let (status, _, resp) = sp_post(&sim, &token, SUMMARY_PATH, &body).await;
    assert_eq!(status, 200, "{resp}");
    spec.assert_valid("getCompetitiveSummary", 200, &resp);
    let first = &resp["responses"][0]["body"];
    let cs = sim
        .world
        .competitive_summary("B0TINY0001", sim.clock.now())
        .unwrap();
    let prices = reference_prices(first);
    let names: Vec<&str> = prices.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["CompetitivePrice", "WasPrice"], "{first}");
    assert_eq!(prices[0].1, cs.competitive_price_threshold);
    let memberships: Vec<&str> = first["featuredBuyingOptions"][0]["segmentedFeaturedOffers"][0]
        ["featuredOfferSegments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["customerMembership"].as_str().unwrap())
        .collect();
    assert!(memberships.contains(&"DEFAULT"), "{first}");
    sim.shutdown().await.unwrap();

    // JP: the threshold stays, CompetitivePrice never came.
    let jp = format!(
        "{}\n[seller]\nmarketplace_id = \"A1VC38T7YXB528\"\ncountry = \"JP\"\ncurrency = \"JPY\"\n\
         timezone = \"Asia/Tokyo\"\nregion = \"fe\"\n",
        common::TINY_SCENARIO
    );
    let sim = spawn_frozen(Scenario::from_toml_str(&jp).expect("JP scenario")).await;
    let token = access_token(&sim, Api::Sp).await;
    let mut request = summary_request("B0TINY0001", &["referencePrices"]);
    request["marketplaceId"] = json!("A1VC38T7YXB528");
    let (status, _, resp) =
        sp_post(&sim, &token, SUMMARY_PATH, &json!({"requests": [request]})).await;
    assert_eq!(status, 200, "{resp}");
    spec.assert_valid("getCompetitiveSummary", 200, &resp);
    let names: Vec<String> = reference_prices(&resp["responses"][0]["body"])
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["CompetitivePriceThreshold", "WasPrice"], "{resp}");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn competitive_summary_sandbox_examples() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(PRICING);
    let cases = spec.sandbox_cases("getCompetitiveSummary");
    assert_eq!(cases.len(), 2);
    for case in cases {
        let req = case.request(&spec);
        assert_eq!(req.method, "POST");
        let (status, _, resp) = sp_post(
            &sim,
            &token,
            &req.path_and_query,
            req.body.as_ref().unwrap(),
        )
        .await;
        assert_eq!(status, case.status, "{resp}");
        spec.assert_valid("getCompetitiveSummary", status, &resp);
        if status == 200 {
            // B00ZIAODGE is not the seller's ASIN: 404 for it; 11_AABB_123 is malformed.
            let r = resp["responses"].as_array().unwrap();
            assert_eq!(r.len(), 2);
            assert_eq!(r[0]["status"]["statusCode"], 404);
            assert_eq!(r[1]["status"]["statusCode"], 400);
            assert_eq!(
                r[1]["body"]["errors"],
                case.response["responses"][1]["body"]["errors"]
            );
        } else {
            assert_eq!(resp, case.response, "the documented error");
        }
        advance(&sim, "1m").await;
    }
}

// ---------------------------------------------------------------------------
// Listings

fn listings_path(sim: &RunningSim, query: &str) -> String {
    format!(
        "/listings/2021-08-01/items/{}?marketplaceIds=ATVPDKIKX0DER{query}",
        sim.world.scenario().seller.seller_id
    )
}

/// GET after refilling every bucket (listings allow 5 rps).
async fn paced_get(
    sim: &RunningSim,
    token: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    advance(sim, "2s").await;
    sp_get(sim, token, path).await
}

/// Every page of a search, validated; returns the SKUs in order.
async fn page_all(sim: &RunningSim, token: &str, query: &str) -> Vec<Value> {
    let spec = Spec::sp(LISTINGS);
    let mut items = Vec::new();
    let mut token_param = String::new();
    for _ in 0..100 {
        let path = listings_path(sim, &format!("{query}{token_param}"));
        let (status, headers, body) = paced_get(sim, token, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(headers["x-amzn-ratelimit-limit"], "5");
        spec.assert_valid("searchListingsItems", 200, &body);
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["pagination"]["nextToken"].as_str() {
            Some(t) => token_param = format!("&pageToken={}", common::encode(t)),
            None => return items,
        }
    }
    panic!("paging never ended");
}

#[tokio::test]
async fn search_listings_pages_through_every_listing_once() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(demo()).await;
    let token = access_token(&sim, Api::Sp).await;
    let world: BTreeSet<String> = sim
        .world
        .listings(sim.clock.now())
        .into_iter()
        .map(|l| l.sku)
        .collect();
    assert!(world.len() > 3);
    for sort in ["&pageSize=4", "&pageSize=3&sortBy=sku&sortOrder=ASC", ""] {
        let items = page_all(&sim, &token, sort).await;
        assert!(!items.is_empty());
        let skus: Vec<String> = items
            .iter()
            .map(|i| i["sku"].as_str().unwrap().to_owned())
            .collect();
        let unique: BTreeSet<String> = skus.iter().cloned().collect();
        assert_eq!(unique.len(), skus.len(), "no SKU twice ({sort})");
        assert_eq!(unique, world, "every listing ({sort})");
        // Default includedData is summaries only.
        for i in &items {
            let keys: BTreeSet<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["sku", "summaries"]), "{i}");
        }
        if sort.contains("sortBy=sku") {
            let mut sorted = skus.clone();
            sorted.sort();
            assert_eq!(skus, sorted);
        }
    }
    // A page token is bound to its filters.
    let (_, _, first) = paced_get(&sim, &token, &listings_path(&sim, "&pageSize=2")).await;
    let t = first["pagination"]["nextToken"].as_str().unwrap();
    let (status, _, body) = paced_get(
        &sim,
        &token,
        &listings_path(
            &sim,
            &format!("&pageSize=3&pageToken={}", common::encode(t)),
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    Spec::sp(LISTINGS).assert_valid("searchListingsItems", 400, &body);
}

#[tokio::test]
async fn search_listings_filters_and_included_data() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(demo()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(LISTINGS);
    let now = sim.clock.now();
    let listings = sim.world.listings(now);
    let set = |f: &dyn Fn(&flywheel_sim::world::Listing) -> bool| -> BTreeSet<String> {
        listings
            .iter()
            .filter(|l| f(l))
            .map(|l| l.sku.clone())
            .collect()
    };
    let all_data = "&includedData=summaries,attributes,issues,offers,fulfillmentAvailability,relationships,productTypes";
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (
            "&withoutStatus=BUYABLE",
            set(&|l| !l.status.iter().any(|s| s == "BUYABLE")),
        ),
        (
            "&withStatus=BUYABLE,DISCOVERABLE",
            set(&|l| {
                l.status.iter().any(|s| s == "BUYABLE")
                    && l.status.iter().any(|s| s == "DISCOVERABLE")
            }),
        ),
        (
            "&withIssueSeverity=ERROR",
            set(&|l| l.issues.iter().any(|i| i.severity == "ERROR")),
        ),
    ];
    for (filter, expected) in cases {
        assert!(!expected.is_empty(), "the demo has listings for {filter}");
        let items = page_all(&sim, &token, &format!("{filter}{all_data}&pageSize=20")).await;
        let got: BTreeSet<String> = items
            .iter()
            .map(|i| i["sku"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, expected, "{filter}");
        for i in &items {
            let status: Vec<&str> = i["summaries"][0]["status"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            if filter.contains("withoutStatus=BUYABLE") {
                assert!(!status.contains(&"BUYABLE"));
            }
            if filter.contains("withIssueSeverity") {
                assert!(i["issues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["severity"] == "ERROR"));
            }
        }
    }

    // A suppressed listing's ERROR issues carry LISTING_SUPPRESSED.
    let suppressed = listings
        .iter()
        .find(|l| l.suppressed)
        .expect("the demo suppresses a listing");
    let path = listings_path(
        &sim,
        &format!(
            "&identifiersType=SKU&identifiers={}{all_data}",
            common::encode(&suppressed.sku)
        ),
    );
    let (status, _, body) = paced_get(&sim, &token, &path).await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("searchListingsItems", 200, &body);
    assert_eq!(body["numberOfResults"], 1);
    let issues = body["items"][0]["issues"].as_array().unwrap();
    assert!(issues.iter().any(|i| i["enforcements"]["actions"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["action"] == "LISTING_SUPPRESSED"))));

    // fulfillmentAvailability: FBM quantity under DEFAULT, FBA under AMAZON_NA.
    let items = page_all(
        &sim,
        &token,
        "&includedData=fulfillmentAvailability,offers&pageSize=20",
    )
    .await;
    let mut seen_fbm = false;
    let mut seen_fba = false;
    for i in &items {
        let keys: BTreeSet<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["sku", "fulfillmentAvailability", "offers"])
        );
        let l = listings.iter().find(|l| l.sku == i["sku"]).unwrap();
        let fa = &i["fulfillmentAvailability"][0];
        match l.fbm_quantity {
            Some(q) => {
                seen_fbm = true;
                assert_eq!(fa["fulfillmentChannelCode"], "DEFAULT");
                assert_eq!(fa["quantity"], json!(q.max(0)));
            }
            None => {
                seen_fba = true;
                assert_eq!(fa["fulfillmentChannelCode"], "AMAZON_NA");
                assert!(fa.get("quantity").is_none());
            }
        }
        assert_eq!(i["offers"][0]["price"]["amount"], format!("{:.2}", l.price));
    }
    assert!(seen_fbm && seen_fba);

    // Bad parameters.
    for q in [
        "&pageSize=21",
        "&withStatus=HIDDEN",
        "&identifiers=X",
        "&identifiersType=SKU",
        "&sortBy=price",
        "&createdAfter=yesterday",
    ] {
        let (status, headers, body) = paced_get(&sim, &token, &listings_path(&sim, q)).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(headers.get("x-amzn-ratelimit-limit").is_some());
        spec.assert_valid("searchListingsItems", 400, &body);
    }
}

#[tokio::test]
async fn get_listings_item_and_errors() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(LISTINGS);
    let seller = sim.world.scenario().seller.seller_id.clone();
    let base = format!("/listings/2021-08-01/items/{seller}");
    let (status, headers, body) = sp_get(
        &sim,
        &token,
        &format!("{base}/TINY-2?marketplaceIds=ATVPDKIKX0DER&includedData=summaries,issues,offers,fulfillmentAvailability,attributes,productTypes"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-amzn-ratelimit-limit"], "5");
    spec.assert_valid("getListingsItem", 200, &body);
    assert_eq!(body["sku"], "TINY-2");
    assert_eq!(body["summaries"][0]["asin"], "B0TINY0002");
    assert_eq!(
        body["fulfillmentAvailability"][0]["fulfillmentChannelCode"],
        "DEFAULT"
    );
    assert!(body["fulfillmentAvailability"][0]["quantity"].is_i64());
    for s in body["summaries"][0]["status"].as_array().unwrap() {
        assert!(s == "BUYABLE" || s == "DISCOVERABLE");
    }
    assert!(!body["attributes"].as_object().unwrap().is_empty());

    let (status, _, body) = sp_get(
        &sim,
        &token,
        &format!("{base}/NOPE?marketplaceIds=ATVPDKIKX0DER"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    spec.assert_valid("getListingsItem", 404, &body);
    let (status, _, body) = sp_get(&sim, &token, &format!("{base}/TINY-1")).await;
    assert_eq!(status, 400, "marketplaceIds is required: {body}");
    spec.assert_valid("getListingsItem", 400, &body);
    let (status, _, body) = sp_get(
        &sim,
        &token,
        "/listings/2021-08-01/items/A0THERSELLER/TINY-1?marketplaceIds=ATVPDKIKX0DER",
    )
    .await;
    assert_eq!(status, 400, "another seller's id: {body}");
    spec.assert_valid("getListingsItem", 400, &body);
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
    assert_eq!(
        body["errors"][0]["message"],
        "Invalid 'sellerId' and 'marketplaceId' combination provided."
    );
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &format!("{base}/TINY-1?marketplaceIds=A2EUQ1WTGCTBG2"),
    )
    .await;
    assert_eq!(
        status, 400,
        "a marketplace the seller does not sell in: {body}"
    );
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &format!("{base}/TINY-1?marketplaceIds=ATVPDKIKX0DER&includedData=everything"),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Burst 10 (6 calls so far), then 429 with no rate header.
    let ok = format!("{base}/TINY-1?marketplaceIds=ATVPDKIKX0DER");
    for _ in 0..4 {
        let (status, _, body) = sp_get(&sim, &token, &ok).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, headers, body) = sp_get(&sim, &token, &ok).await;
    assert_quota_exceeded(status, &headers, &body);
}

#[tokio::test]
async fn search_listings_burst_is_five() {
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let path = listings_path(&sim, "");
    for _ in 0..5 {
        let (status, headers, body) = sp_get(&sim, &token, &path).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["x-amzn-ratelimit-limit"], "5");
        assert!(!body["items"].as_array().unwrap().is_empty());
    }
    let (status, headers, body) = sp_get(&sim, &token, &path).await;
    assert_quota_exceeded(status, &headers, &body);
}

#[tokio::test]
async fn listings_sandbox_examples() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(LISTINGS);
    let seller = sim.world.scenario().seller.seller_id.clone();
    for op in ["getListingsItem", "searchListingsItems"] {
        let cases = spec.sandbox_cases(op);
        assert_eq!(cases.len(), 2, "{op}");
        for mut case in cases {
            // The fixtures leave out path parameters they do not match on:
            // the seller is ours, the getListingsItem 200 fixture matches any SKU.
            case.parameters
                .entry("sellerId")
                .or_insert(json!({"value": seller}));
            if op == "getListingsItem" && case.status == 200 {
                case.parameters
                    .insert("sku".into(), json!({"value": "TINY-1"}));
                case.parameters
                    .insert("marketplaceIds".into(), json!({"value": ["ATVPDKIKX0DER"]}));
                case.parameters.insert(
                    "includedData".into(),
                    json!({"value": ["summaries", "offers", "fulfillmentAvailability", "issues"]}),
                );
            }
            let req = case.request(&spec);
            let (status, _, body) = paced_get(&sim, &token, &req.path_and_query).await;
            assert_eq!(status, case.status, "{op} {}: {body}", req.path_and_query);
            spec.assert_valid(op, status, &body);
            if status == 200 && op == "getListingsItem" {
                assert_eq!(body["sku"], "TINY-1");
                assert!(body.get("offers").is_some() && body.get("issues").is_some());
            }
            if status == 200 && op == "searchListingsItems" {
                // The fixture's SKUs are not the seller's: a valid, empty answer.
                assert_eq!(body["numberOfResults"], 0);
                // The same request for the seller's SKUs answers one page of one.
                let mut mine = case.clone();
                mine.parameters
                    .insert("identifiers".into(), json!({"value": ["TINY-1", "TINY-2"]}));
                let req = mine.request(&spec);
                let (status, _, body) = paced_get(&sim, &token, &req.path_and_query).await;
                assert_eq!(status, 200, "{body}");
                spec.assert_valid(op, 200, &body);
                assert_eq!(body["numberOfResults"], 2);
                assert_eq!(body["items"].as_array().unwrap().len(), 1, "pageSize 1");
                assert!(body["pagination"]["nextToken"].is_string());
                for key in ["summaries", "offers", "fulfillmentAvailability", "issues"] {
                    assert!(body["items"][0].get(key).is_some(), "{key}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Customer Feedback

/// GET after refilling the 1 rps bucket.
async fn cf_get(
    sim: &RunningSim,
    token: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    advance(sim, "2s").await;
    sp_get(sim, token, path).await
}

#[tokio::test]
async fn customer_feedback_operations_validate_and_carry_world_data() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(demo()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(FEEDBACK);
    let m = "marketplaceId=ATVPDKIKX0DER";
    let asin = "B0SIMBTL03";
    let node = sim.world.item_browse_node(asin).unwrap().browse_node_id;
    let returns_node = sim
        .world
        .item_browse_node("B0SIMCHG01")
        .map(|n| n.browse_node_id)
        .unwrap_or_else(|| node.clone());

    // Item review topics, both sort orders.
    for sort in ["MENTIONS", "STAR_RATING_IMPACT"] {
        let path = format!("{CF}/items/{asin}/reviews/topics?{m}&sortBy={sort}");
        let (status, headers, body) = cf_get(&sim, &token, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(headers["x-amzn-ratelimit-limit"], "1");
        spec.assert_valid("getItemReviewTopics", 200, &body);
        assert_eq!(body["asin"], asin);
        assert!(!body["topics"]["negativeTopics"]
            .as_array()
            .unwrap()
            .is_empty());
        assert!(!body["topics"]["positiveTopics"]
            .as_array()
            .unwrap()
            .is_empty());
        let leaks = &body["topics"]["negativeTopics"][0];
        assert_eq!(leaks["topic"], "Leaks", "{body}");
        assert!(!leaks["subtopics"].as_array().unwrap().is_empty());
    }
    let (status, _, body) = cf_get(
        &sim,
        &token,
        &format!("{CF}/items/{asin}/reviews/trends?{m}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getItemReviewTrends", 200, &body);
    let leaks = body["reviewTrends"]["negativeTopics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == "Leaks")
        .expect("Leaks trend");
    let points = leaks["trendMetrics"].as_array().unwrap();
    assert_eq!(points.len(), 6, "6 months");
    let newest = points[0]["asinMetrics"]["occurrencePercentage"]
        .as_f64()
        .unwrap();
    let oldest = points[5]["asinMetrics"]["occurrencePercentage"]
        .as_f64()
        .unwrap();
    assert!(
        newest > oldest,
        "the demo's Leaks topic grows: {newest} vs {oldest}"
    );

    let (status, _, body) =
        cf_get(&sim, &token, &format!("{CF}/items/{asin}/browseNode?{m}")).await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getItemBrowseNode", 200, &body);
    assert_eq!(body["browseNodeId"], node.as_str());

    for sort in ["MENTIONS", "STAR_RATING_IMPACT"] {
        let (status, _, body) = cf_get(
            &sim,
            &token,
            &format!("{CF}/browseNodes/{node}/reviews/topics?{m}&sortBy={sort}"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        spec.assert_valid("getBrowseNodeReviewTopics", 200, &body);
        assert!(!body["topics"]["negativeTopics"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    let (status, _, body) = cf_get(
        &sim,
        &token,
        &format!("{CF}/browseNodes/{node}/reviews/trends?{m}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getBrowseNodeReviewTrends", 200, &body);
    assert!(!body["reviewTrends"]["positiveTopics"]
        .as_array()
        .unwrap()
        .is_empty());

    let (status, _, body) = cf_get(
        &sim,
        &token,
        &format!("{CF}/browseNodes/{returns_node}/returns/topics?{m}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getBrowseNodeReturnTopics", 200, &body);
    assert!(!body["topics"].as_array().unwrap().is_empty());
    let (status, _, body) = cf_get(
        &sim,
        &token,
        &format!("{CF}/browseNodes/{returns_node}/returns/trends?{m}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getBrowseNodeReturnTrends", 200, &body);
    assert!(!body["returnTrends"].as_array().unwrap().is_empty());

    // No data: 204 with an empty body; bad input: 400.
    let (status, _, body) = cf_get(
        &sim,
        &token,
        &format!("{CF}/items/B0NOTOURS1/reviews/topics?{m}&sortBy=MENTIONS"),
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    for path in [
        format!("{CF}/items/{asin}/reviews/topics?{m}"),
        format!("{CF}/items/{asin}/reviews/topics?{m}&sortBy=mentions"),
        format!("{CF}/items/{asin}/reviews/trends"),
        format!("{CF}/items/12/browseNode?{m}"),
    ] {
        let (status, headers, body) = cf_get(&sim, &token, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(headers.get("x-amzn-ratelimit-limit").is_some());
        spec.assert_valid("getItemReviewTopics", 400, &body);
    }

    // Burst 1 (assumed): two calls at one sim instant → 429.
    let path = format!("{CF}/items/{asin}/browseNode?{m}");
    let (status, _, _) = cf_get(&sim, &token, &path).await;
    assert_eq!(status, 200);
    let (status, headers, body) = sp_get(&sim, &token, &path).await;
    assert_quota_exceeded(status, &headers, &body);
}

#[tokio::test]
async fn customer_feedback_sandbox_examples() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(demo()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(FEEDBACK);
    let asin = "B0SIMBTL03";
    let node = sim.world.item_browse_node(asin).unwrap().browse_node_id;
    let returns_node = sim
        .world
        .item_browse_node("B0SIMCHG01")
        .map(|n| n.browse_node_id)
        .unwrap_or_else(|| node.clone());
    let ops = [
        "getItemReviewTopics",
        "getItemReviewTrends",
        "getItemBrowseNode",
        "getBrowseNodeReviewTopics",
        "getBrowseNodeReviewTrends",
        "getBrowseNodeReturnTopics",
        "getBrowseNodeReturnTrends",
    ];
    for op in ops {
        let cases = spec.sandbox_cases(op);
        assert_eq!(cases.len(), 3, "{op}: 200, 204, 400");
        for case in cases {
            let req = case.request(&spec);
            let (status, _, body) = cf_get(&sim, &token, &req.path_and_query).await;
            match case.status {
                // The fixture's ASIN / node is not the seller's: no data (204) is
                // Amazon's answer; the same request for the world's ids is a 200.
                200 => {
                    assert!(status == 200 || status == 204, "{op}: {status} {body}");
                    if status == 200 {
                        spec.assert_valid(op, 200, &body);
                    }
                    let mut mine = case.clone();
                    if mine.parameters.contains_key("asin") {
                        mine.parameters
                            .insert("asin".into(), json!({"value": asin}));
                    } else {
                        let n = if op.contains("Return") {
                            &returns_node
                        } else {
                            &node
                        };
                        mine.parameters
                            .insert("browseNodeId".into(), json!({"value": n}));
                    }
                    let req = mine.request(&spec);
                    let (status, headers, body) = cf_get(&sim, &token, &req.path_and_query).await;
                    assert_eq!(status, 200, "{op} {}: {body}", req.path_and_query);
                    assert_eq!(headers["x-amzn-ratelimit-limit"], "1");
                    spec.assert_valid(op, 200, &body);
                    assert!(body.as_object().is_some_and(|o| !o.is_empty()));
                }
                204 => assert_eq!((status, body), (204, Value::Null), "{op}"),
                _ => {
                    assert_eq!(status, case.status, "{op}: {body}");
                    spec.assert_valid(op, status, &body);
                    assert_eq!(body, case.response, "{op}: the documented error");
                }
            }
        }
    }
}
