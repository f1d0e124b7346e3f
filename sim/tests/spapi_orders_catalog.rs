//! Orders v2026-01-01, FBA Inventory, Catalog Items 2022-04-01 and Product
//! Fees v0 over real HTTP on 127.0.0.1: strict validation against Amazon's
//! models, the models' sandbox examples, paging, token expiry, rate limits
//! and `includedData`.

mod common;

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use common::{access_token, encode, http, sp_get, spawn_frozen, tiny_scenario, Api, Spec};
use flywheel_sim::RunningSim;
use serde_json::{json, Value};

const ORDERS: &str = "orders_2026-01-01.json";
const INVENTORY: &str = "fbaInventory.json";
const CATALOG: &str = "catalogItems_2022-04-01.json";
const FEES: &str = "productFeesV0.json";
const SEARCH_ORDERS: &str = "/orders/2026-01-01/orders";
const SUMMARIES: &str = "/fba/inventory/v1/summaries";
const CATALOG_ITEMS: &str = "/catalog/2022-04-01/items";
const FEES_BATCH: &str = "/products/fees/v0/feesEstimate";

fn t(s: DateTime<Utc>) -> String {
    encode(&s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn marketplace(sim: &RunningSim) -> String {
    sim.world.scenario().seller.marketplace_id.clone()
}

/// Jump sim time forward (refills buckets; tokens age).
fn tick(sim: &RunningSim, secs: u64) {
    sim.clock.advance(StdDuration::from_secs(secs));
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

fn assert_rate(headers: &reqwest::header::HeaderMap, op: &str) {
    let limit = flywheel_sim::ratelimit::limit_for(op).unwrap();
    assert_eq!(
        headers
            .get("x-amzn-ratelimit-limit")
            .and_then(|v| v.to_str().ok()),
        Some(format!("{}", limit.rate).as_str()),
        "{op}: x-amzn-RateLimit-Limit on a 2xx"
    );
}

/// A scenario with `n` FBA products (for inventory paging).
fn many_fba(n: usize) -> flywheel_sim::scenario::Scenario {
    let mut s = String::from("name = \"many\"\nhistory_days = 20\n");
    for i in 0..n {
        s.push_str(&format!(
            "\n[[products]]\nsku = \"MANY-{i:03}\"\nasin = \"B0MANY{i:04}\"\ntitle = \"Many widget {i}\"\nprice = 15.0\ncogs = 4.0\n"
        ));
    }
    flywheel_sim::scenario::Scenario::from_toml_str(&s).expect("scenario parses")
}

// ---------------------------------------------------------------------------
// Orders

/// Page through searchOrders; every page validated strictly. Returns the ids
/// in page order and the number of pages.
async fn page_all(
    sim: &RunningSim,
    token: &str,
    query: &str,
    per_page: usize,
) -> (Vec<String>, usize) {
    let spec = Spec::sp(ORDERS);
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut q = format!("{SEARCH_ORDERS}?{query}&maxResultsPerPage={per_page}");
        if let Some(n) = &next {
            q.push_str(&format!("&paginationToken={}", encode(n)));
        }
        let (status, headers, body) = sp_get(sim, token, &q).await;
        assert_eq!(status, 200, "{q}: {body}");
        assert_rate(&headers, "searchOrders");
        spec.assert_valid("searchOrders", 200, &body);
        let orders = body["orders"].as_array().unwrap();
        assert!(orders.len() <= per_page);
        pages += 1;
        ids.extend(
            orders
                .iter()
                .map(|o| o["orderId"].as_str().unwrap().to_owned()),
        );
        match body
            .pointer("/pagination/nextToken")
            .and_then(Value::as_str)
        {
            Some(n) => {
                assert_eq!(orders.len(), per_page, "a page before the last is full");
                next = Some(n.to_owned());
            }
            None => break,
        }
        assert!(pages < 20, "more pages than the burst allows");
    }
    (ids, pages)
}

#[tokio::test]
async fn search_orders_pages_return_every_order_exactly_once() {
    if common::amazon_models::missing() {
        return;
    }
    for mode in ["created", "updated"] {
        let sim = spawn_frozen(tiny_scenario()).await;
        let token = access_token(&sim, Api::Sp).await;
        let now = sim.clock.now();
        let a = now - Duration::days(12);
        let b = now - Duration::hours(1);
        let world: Vec<String> = if mode == "created" {
            sim.world
                .orders_purchased(a, b, now)
                .map(|o| o.amazon_order_id)
                .collect()
        } else {
            sim.world
                .orders_updated(a, b, now)
                .map(|o| o.amazon_order_id)
                .collect()
        };
        assert!(
            world.len() > 20,
            "{mode}: the scenario has orders to page ({})",
            world.len()
        );
        let query = if mode == "created" {
            format!(
                "createdAfter={}&createdBefore={}&marketplaceIds={}",
                t(a),
                t(b),
                marketplace(&sim)
            )
        } else {
            format!("lastUpdatedAfter={}&lastUpdatedBefore={}", t(a), t(b))
        };
        // Small pages, so tokens land inside runs of equal timestamps too,
        // but at most 18 pages (the burst is 20 and the clock is frozen).
        let per_page = world.len().div_ceil(18).max(3);
        let (ids, pages) = page_all(&sim, &token, &query, per_page).await;
        assert!(pages > 1, "{mode}: paged");
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{mode}: no order twice");
        let expected: HashSet<&String> = world.iter().collect();
        assert_eq!(unique, expected, "{mode}: the same orders as the world");
    }
}

#[tokio::test]
async fn search_orders_filters_and_echoes_the_bound() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let now = sim.clock.now();
    let a = now - Duration::days(10);
    let q = format!(
        "{SEARCH_ORDERS}?createdAfter={}&fulfilledBy=MERCHANT&fulfillmentStatuses=SHIPPED,CANCELLED&includedData=FULFILLMENT",
        t(a)
    );
    let (status, _, body) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 200, "{body}");
    Spec::sp(ORDERS).assert_valid("searchOrders", 200, &body);
    let orders = body["orders"].as_array().unwrap();
    assert!(!orders.is_empty());
    for o in orders {
        assert_eq!(o["fulfillment"]["fulfilledBy"], "MERCHANT");
        let s = o["fulfillment"]["fulfillmentStatus"].as_str().unwrap();
        assert!(s == "SHIPPED" || s == "CANCELLED", "{s}");
    }
    // The effective upper bound is two minutes before now.
    let echoed: DateTime<Utc> = body["createdBefore"].as_str().unwrap().parse().unwrap();
    assert_eq!(echoed, now - Duration::minutes(2));
    assert!(body.get("lastUpdatedBefore").is_none());
}

fn keys(v: &Value) -> HashSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn included_data_is_honoured() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(ORDERS);
    let a = sim.clock.now() - Duration::days(10);

    let (status, _, bare) = sp_get(
        &sim,
        &token,
        &format!("{SEARCH_ORDERS}?createdAfter={}", t(a)),
    )
    .await;
    assert_eq!(status, 200);
    spec.assert_valid("searchOrders", 200, &bare);
    let orders = bare["orders"].as_array().unwrap();
    assert!(!orders.is_empty());
    let optional_order = [
        "buyer",
        "recipient",
        "proceeds",
        "payment",
        "tax",
        "fulfillment",
        "packages",
        "fulfillmentOrders",
    ];
    let optional_item = [
        "proceeds",
        "expense",
        "promotion",
        "cancellation",
        "fulfillment",
        "tax",
    ];
    for o in orders {
        let k = keys(o);
        for f in optional_order {
            assert!(!k.contains(f), "{f} present without includedData: {o}");
        }
        let items = o["orderItems"].as_array().unwrap();
        assert!(!items.is_empty(), "items are always embedded");
        for it in items {
            let k = keys(it);
            for f in optional_item {
                assert!(!k.contains(f), "item {f} present without includedData");
            }
            assert!(it["product"]["sellerSku"].is_string());
        }
    }

    let all = "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,PAYMENT,FULFILLMENT_ORDERS";
    let (status, _, full) = sp_get(
        &sim,
        &token,
        &format!("{SEARCH_ORDERS}?createdAfter={}&includedData={all}", t(a)),
    )
    .await;
    assert_eq!(status, 200);
    spec.assert_valid("searchOrders", 200, &full);
    let orders = full["orders"].as_array().unwrap();
    assert_eq!(orders.len(), bare["orders"].as_array().unwrap().len());
    let mut seen_package = false;
    for o in orders {
        assert!(o["recipient"]["deliveryAddress"]["postalCode"].is_string());
        assert!(o["fulfillment"]["fulfillmentStatus"].is_string());
        let status = o["fulfillment"]["fulfillmentStatus"].as_str().unwrap();
        if status != "CANCELLED" {
            assert!(o["proceeds"]["grandTotal"]["amount"].is_string(), "{o}");
            assert!(o["orderItems"][0]["proceeds"]["proceedsTotal"].is_object());
        }
        assert!(o["orderItems"][0]["fulfillment"]["quantityFulfilled"].is_u64());
        seen_package |= o.get("packages").is_some();
    }
    assert!(seen_package, "shipped FBM orders carry packages");

    let (status, _, _) = sp_get(
        &sim,
        &token,
        &format!("{SEARCH_ORDERS}?createdAfter={}&includedData=NOPE", t(a)),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn get_order_answers_200_404_and_400() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(ORDERS);
    let now = sim.clock.now();
    let o = sim
        .world
        .orders_purchased(now - Duration::days(3), now, now)
        .next()
        .expect("an order");
    let (status, headers, body) = sp_get(
        &sim,
        &token,
        &format!(
            "{SEARCH_ORDERS}/{}?includedData=PROCEEDS,FULFILLMENT",
            o.amazon_order_id
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_rate(&headers, "getOrder");
    spec.assert_valid("getOrder", 200, &body);
    assert_eq!(body["order"]["orderId"], o.amazon_order_id.as_str());
    assert_eq!(
        body["order"]["orderItems"][0]["product"]["sellerSku"],
        o.items[0].sku.as_str()
    );

    let (status, headers, body) = sp_get(
        &sim,
        &token,
        &format!("{SEARCH_ORDERS}/999-0000000-0000000"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(headers.contains_key("x-amzn-ratelimit-limit"));
    spec.assert_valid("getOrder", 404, &body);

    let (status, _, body) = sp_get(&sim, &token, &format!("{SEARCH_ORDERS}/not-an-order")).await;
    assert_eq!(status, 400);
    spec.assert_valid("getOrder", 400, &body);
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
}

#[tokio::test]
async fn search_orders_rejects_what_the_model_forbids() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(ORDERS);
    let now = sim.clock.now();
    let a = t(now - Duration::days(2));
    let cases = [
        String::new(),
        format!("createdAfter={a}&lastUpdatedAfter={a}"),
        format!(
            "createdAfter={a}&lastUpdatedBefore={}",
            t(now - Duration::hours(1))
        ),
        format!(
            "lastUpdatedAfter={a}&createdBefore={}",
            t(now - Duration::hours(1))
        ),
        format!(
            "createdAfter={a}&createdBefore={}",
            t(now - Duration::minutes(1))
        ),
        format!(
            "createdAfter={a}&createdBefore={}",
            t(now - Duration::days(3))
        ),
        format!("createdAfter={a}&maxResultsPerPage=0"),
        format!("createdAfter={a}&maxResultsPerPage=101"),
        format!("createdAfter={a}&fulfillmentStatuses=LOST"),
        format!("createdAfter={a}&fulfilledBy=NOBODY"),
        format!("createdAfter={a}&marketplaceIds=NOTAMARKETPLACE"),
        format!("createdAfter={a}&paginationToken=zzzz"),
        "createdAfter=yesterday".to_owned(),
    ];
    for q in &cases {
        let (status, headers, body) = sp_get(&sim, &token, &format!("{SEARCH_ORDERS}?{q}")).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(
            headers.contains_key("x-amzn-ratelimit-limit"),
            "rate header on 400"
        );
        spec.assert_valid("searchOrders", 400, &body);
        assert_eq!(body["errors"][0]["code"], "InvalidInput");
    }
}

#[tokio::test]
async fn search_orders_tokens_expire_after_24_hours_and_bind_to_the_filters() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let now = sim.clock.now();
    let q = format!(
        "createdAfter={}&createdBefore={}&maxResultsPerPage=2",
        t(now - Duration::days(10)),
        t(now - Duration::hours(1))
    );
    let (_, _, body) = sp_get(&sim, &token, &format!("{SEARCH_ORDERS}?{q}")).await;
    let next = body["pagination"]["nextToken"]
        .as_str()
        .expect("a next page")
        .to_owned();
    // Another filter: refused.
    let other = format!(
        "{SEARCH_ORDERS}?createdAfter={}&createdBefore={}&paginationToken={}",
        t(now - Duration::days(9)),
        t(now - Duration::hours(1)),
        encode(&next)
    );
    assert_eq!(sp_get(&sim, &token, &other).await.0, 400);
    // maxResultsPerPage and includedData may change between pages.
    let ok = format!(
        "{SEARCH_ORDERS}?{q}&maxResultsPerPage=3&includedData=PROCEEDS&paginationToken={}",
        encode(&next)
    );
    let (status, _, body) = sp_get(&sim, &token, &ok).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["orders"].as_array().unwrap().is_empty());
    tick(&sim, 24 * 3600);
    let token = access_token(&sim, Api::Sp).await; // the old one expired too
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &format!("{SEARCH_ORDERS}?{q}&paginationToken={}", encode(&next)),
    )
    .await;
    assert_eq!(status, 400, "expired: {body}");
    Spec::sp(ORDERS).assert_valid("searchOrders", 400, &body);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn orders_sandbox_examples_get_valid_answers() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(ORDERS);
    for op in ["searchOrders", "getOrder"] {
        let cases = spec.sandbox_cases(op);
        assert!(!cases.is_empty());
        for case in cases {
            let req = case.request(&spec);
            let (status, _, body) = sp_get(&sim, &token, &req.path_and_query).await;
            spec.assert_valid(op, status, &body);
            match (op, case.status) {
                // Bad input stays bad input.
                (_, 400) => assert_eq!(status, 400, "{req:?}: {body}"),
                // The examples' orders are not this seller's: 404.
                ("getOrder", _) => assert_eq!(status, 404, "{req:?}: {body}"),
                // A made-up paginationToken is refused; otherwise the other
                // marketplaces' (empty) answer.
                ("searchOrders", _) if case.parameters.contains_key("paginationToken") => {
                    assert_eq!(status, 400, "{req:?}: {body}")
                }
                _ => assert_eq!(status, 200, "{req:?}: {body}"),
            }
            // The same request for this seller's marketplace answers with its orders.
            if op == "searchOrders" && case.status == 200 {
                let mut c = case.clone();
                c.parameters.remove("paginationToken");
                c.parameters.insert(
                    "marketplaceIds".into(),
                    json!({"value": [marketplace(&sim)]}),
                );
                let req = c.request(&spec);
                let (status, _, body) = sp_get(&sim, &token, &req.path_and_query).await;
                assert_eq!(status, 200, "{req:?}: {body}");
                spec.assert_valid(op, 200, &body);
                assert!(!body["orders"].as_array().unwrap().is_empty());
            }
        }
    }
}

#[tokio::test]
async fn search_orders_burst_then_429_without_rate_header() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let q = format!(
        "{SEARCH_ORDERS}?createdAfter={}",
        t(sim.clock.now() - Duration::hours(6))
    );
    let limit = flywheel_sim::ratelimit::limit_for("searchOrders").unwrap();
    assert_eq!((limit.rate, limit.burst), (0.0056, 20));
    for i in 0..limit.burst {
        assert_eq!(sp_get(&sim, &token, &q).await.0, 200, "call {i}");
    }
    let (status, headers, body) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 429);
    assert!(!headers.contains_key("x-amzn-ratelimit-limit"));
    assert_eq!(body["errors"][0]["code"], "QuotaExceeded");
    Spec::sp(ORDERS).assert_valid("searchOrders", 429, &body);
}

// ---------------------------------------------------------------------------
// FBA Inventory

fn summaries_query(sim: &RunningSim, extra: &str) -> String {
    let m = marketplace(sim);
    format!("{SUMMARIES}?granularityType=Marketplace&granularityId={m}&marketplaceIds={m}{extra}")
}

#[tokio::test]
async fn inventory_summaries_validate_with_and_without_details() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(INVENTORY);
    let (status, headers, body) =
        sp_get(&sim, &token, &summaries_query(&sim, "&details=true")).await;
    assert_eq!(status, 200, "{body}");
    assert_rate(&headers, "getInventorySummaries");
    spec.assert_valid("getInventorySummaries", 200, &body);
    let list = body["payload"]["inventorySummaries"].as_array().unwrap();
    assert_eq!(list.len(), 1, "only the FBA SKU: {body}");
    let s = &list[0];
    assert_eq!(s["sellerSku"], "TINY-1");
    let inv = sim.world.inventory("TINY-1", sim.clock.now()).unwrap();
    let d = &s["inventoryDetails"];
    assert_eq!(d["fulfillableQuantity"], inv.fulfillable);
    assert_eq!(d["inboundWorkingQuantity"], inv.inbound_working);
    assert_eq!(d["inboundShippedQuantity"], inv.inbound_shipped);
    assert_eq!(d["inboundReceivingQuantity"], inv.inbound_receiving);
    assert_eq!(d["reservedQuantity"]["totalReservedQuantity"], inv.reserved);
    assert_eq!(
        d["unfulfillableQuantity"]["totalUnfulfillableQuantity"],
        inv.unfulfillable
    );
    assert_eq!(
        d["researchingQuantity"]["totalResearchingQuantity"],
        inv.researching
    );
    assert_eq!(s["totalQuantity"], inv.total);
    assert!(body.get("pagination").is_none());

    tick(&sim, 1);
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &summaries_query(&sim, "&sellerSkus=TINY-1,TINY-2,NOPE"),
    )
    .await;
    assert_eq!(status, 200);
    spec.assert_valid("getInventorySummaries", 200, &body);
    let list = body["payload"]["inventorySummaries"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert!(
        list[0].get("inventoryDetails").is_none(),
        "details default false"
    );

    tick(&sim, 1);
    let start = t(sim.clock.now() - Duration::days(1));
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &summaries_query(&sim, &format!("&startDateTime={start}")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!body["payload"]["inventorySummaries"]
        .as_array()
        .unwrap()
        .is_empty());

    for bad in [
        format!("{SUMMARIES}?granularityType=Marketplace&granularityId=ATVPDKIKX0DER"),
        format!("{SUMMARIES}?granularityType=Country&granularityId=ATVPDKIKX0DER&marketplaceIds=ATVPDKIKX0DER"),
        format!("{SUMMARIES}?granularityType=Marketplace&granularityId=ATVPDKIKX0DER&marketplaceIds=ATVPDKIKX0DER,A2EUQ1WTGCTBG2"),
        summaries_query(&sim, &format!("&startDateTime={}", t(sim.clock.now() - Duration::days(600)))),
        summaries_query(&sim, &format!("&sellerSkus={}", (0..51).map(|i| format!("S{i}")).collect::<Vec<_>>().join(","))),
    ] {
        tick(&sim, 1);
        let (status, headers, body) = sp_get(&sim, &token, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(headers.contains_key("x-amzn-ratelimit-limit"));
        spec.assert_valid("getInventorySummaries", 400, &body);
    }
}

#[tokio::test]
async fn inventory_pages_of_50_and_next_token_expires_after_30_seconds() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(many_fba(60)).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(INVENTORY);
    let q = summaries_query(&sim, "&details=true");
    let (status, _, first) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 200, "{first}");
    spec.assert_valid("getInventorySummaries", 200, &first);
    assert_eq!(
        first["payload"]["inventorySummaries"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
    let next = first["pagination"]["nextToken"]
        .as_str()
        .expect("next page")
        .to_owned();

    tick(&sim, 29);
    let (status, _, second) =
        sp_get(&sim, &token, &format!("{q}&nextToken={}", encode(&next))).await;
    assert_eq!(status, 200, "{second}");
    spec.assert_valid("getInventorySummaries", 200, &second);
    let rest = second["payload"]["inventorySummaries"].as_array().unwrap();
    assert_eq!(rest.len(), 10);
    assert!(second.get("pagination").is_none());
    let mut skus: HashSet<String> = HashSet::new();
    for s in first["payload"]["inventorySummaries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest)
    {
        assert!(skus.insert(s["sellerSku"].as_str().unwrap().to_owned()));
    }
    assert_eq!(skus.len(), 60);

    tick(&sim, 2); // 31 s after the token was issued
    let (status, headers, body) =
        sp_get(&sim, &token, &format!("{q}&nextToken={}", encode(&next))).await;
    assert_eq!(status, 400, "expired token: {body}");
    assert!(headers.contains_key("x-amzn-ratelimit-limit"));
    spec.assert_valid("getInventorySummaries", 400, &body);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn inventory_burst_then_429() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let q = summaries_query(&sim, "");
    for _ in 0..2 {
        assert_eq!(sp_get(&sim, &token, &q).await.0, 200);
    }
    let (status, headers, body) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 429);
    assert!(!headers.contains_key("x-amzn-ratelimit-limit"));
    Spec::sp(INVENTORY).assert_valid("getInventorySummaries", 429, &body);
}

// ---------------------------------------------------------------------------
// Catalog Items

#[tokio::test]
async fn catalog_search_by_asin_gives_sales_ranks_and_honours_included_data() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(CATALOG);
    let m = marketplace(&sim);
    let q = format!(
        "{CATALOG_ITEMS}?marketplaceIds={m}&identifiersType=ASIN&identifiers=B0TINY0001,B0TINY0002,B0NOTOURS1&includedData=salesRanks&pageSize=20"
    );
    let (status, headers, body) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 200, "{body}");
    assert_rate(&headers, "searchCatalogItems");
    spec.assert_valid("searchCatalogItems", 200, &body);
    assert_eq!(body["numberOfResults"], 2);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let today = sim.world.day_of(sim.clock.now());
    for it in items {
        assert!(it.get("summaries").is_none(), "summaries not requested");
        let asin = it["asin"].as_str().unwrap();
        let rank = sim.world.sales_rank(asin, today).unwrap();
        let r = &it["salesRanks"][0];
        assert_eq!(r["marketplaceId"], m.as_str());
        assert_eq!(r["displayGroupRanks"][0]["rank"], rank.rank);
        assert_eq!(
            r["displayGroupRanks"][0]["websiteDisplayGroup"],
            rank.display_group.as_str()
        );
        assert_eq!(
            r["classificationRanks"][0]["rank"],
            rank.classification_rank
        );
        assert_eq!(
            r["classificationRanks"][0]["classificationId"],
            rank.classification_id.as_str()
        );
    }

    // Default includedData is summaries only.
    tick(&sim, 1);
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &format!(
            "{CATALOG_ITEMS}?marketplaceIds={m}&identifiersType=SKU&identifiers=TINY-2&sellerId={}",
            sim.world.scenario().seller.seller_id
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("searchCatalogItems", 200, &body);
    let it = &body["items"][0];
    assert_eq!(it["asin"], "B0TINY0002");
    assert_eq!(it["summaries"][0]["itemName"], "Tiny gadget");
    assert!(it.get("salesRanks").is_none());

    // Every dataset at once still validates.
    tick(&sim, 1);
    let all = "attributes,classifications,dimensions,identifiers,images,productTypes,relationships,salesRanks,summaries,vendorDetails";
    let (status, _, body) = sp_get(
        &sim,
        &token,
        &format!("{CATALOG_ITEMS}/B0TINY0001?marketplaceIds={m}&includedData={all}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    spec.assert_valid("getCatalogItem", 200, &body);
    assert!(body["salesRanks"][0]["displayGroupRanks"][0]["rank"].is_u64());
}

#[tokio::test]
async fn catalog_pages_keywords_and_errors() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(CATALOG);
    let m = marketplace(&sim);
    let base = format!("{CATALOG_ITEMS}?marketplaceIds={m}&identifiersType=ASIN&identifiers=B0TINY0001,B0TINY0002&pageSize=1");
    let (status, _, p1) = sp_get(&sim, &token, &base).await;
    assert_eq!(status, 200);
    spec.assert_valid("searchCatalogItems", 200, &p1);
    assert_eq!(p1["items"].as_array().unwrap().len(), 1);
    let next = p1["pagination"]["nextToken"].as_str().unwrap().to_owned();
    tick(&sim, 1);
    let (status, _, p2) =
        sp_get(&sim, &token, &format!("{base}&pageToken={}", encode(&next))).await;
    assert_eq!(status, 200, "{p2}");
    spec.assert_valid("searchCatalogItems", 200, &p2);
    assert_eq!(p2["items"][0]["asin"], "B0TINY0002");
    assert!(p2["pagination"]["previousToken"].is_string());
    assert!(p2["pagination"].get("nextToken").is_none());

    tick(&sim, 1);
    let (status, _, kw) = sp_get(
        &sim,
        &token,
        &format!("{CATALOG_ITEMS}?marketplaceIds={m}&keywords=tiny,widget"),
    )
    .await;
    assert_eq!(status, 200);
    spec.assert_valid("searchCatalogItems", 200, &kw);
    assert_eq!(kw["numberOfResults"], 1);
    assert_eq!(kw["items"][0]["asin"], "B0TINY0001");
    assert!(!kw["refinements"]["classifications"]
        .as_array()
        .unwrap()
        .is_empty());

    tick(&sim, 1);
    let (status, headers, body) = sp_get(
        &sim,
        &token,
        &format!("{CATALOG_ITEMS}/B0NOTOURS1?marketplaceIds={m}"),
    )
    .await;
    assert_eq!(status, 404);
    assert!(headers.contains_key("x-amzn-ratelimit-limit"));
    spec.assert_valid("getCatalogItem", 404, &body);

    for bad in [
        format!("{CATALOG_ITEMS}?identifiersType=ASIN&identifiers=B0TINY0001"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m},A2EUQ1WTGCTBG2&keywords=tiny"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}&keywords=tiny&identifiers=B0TINY0001&identifiersType=ASIN"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}&identifiers=B0TINY0001"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}&identifiersType=SKU&identifiers=TINY-1"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}&keywords=tiny&pageSize=21"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}&keywords=tiny&includedData=everything"),
        format!("{CATALOG_ITEMS}?marketplaceIds={m}&identifiersType=ASIN&identifiers={}", (0..21).map(|i| format!("B{i:09}")).collect::<Vec<_>>().join(",")),
    ] {
        tick(&sim, 1);
        let (status, headers, body) = sp_get(&sim, &token, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(headers.contains_key("x-amzn-ratelimit-limit"));
        spec.assert_valid("searchCatalogItems", 400, &body);
    }
}

#[tokio::test]
async fn catalog_sandbox_examples_get_valid_answers() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(CATALOG);
    for op in ["searchCatalogItems", "getCatalogItem"] {
        for case in spec.sandbox_cases(op) {
            tick(&sim, 1);
            let req = case.request(&spec);
            let (status, _, body) = sp_get(&sim, &token, &req.path_and_query).await;
            spec.assert_valid(op, status, &body);
            match (op, case.status) {
                (_, 400) => assert_eq!(status, 400, "{req:?}: {body}"),
                // The example's TV is not in this seller's catalogue.
                ("getCatalogItem", _) => assert_eq!(status, 404, "{req:?}: {body}"),
                _ => {
                    assert_eq!(status, 200, "{req:?}: {body}");
                    // Same request, keywords from this seller's catalogue.
                    let mut c = case.clone();
                    c.parameters
                        .insert("keywords".into(), json!({"value": ["tiny"]}));
                    let req = c.request(&spec);
                    tick(&sim, 1);
                    let (status, _, body) = sp_get(&sim, &token, &req.path_and_query).await;
                    assert_eq!(status, 200, "{req:?}: {body}");
                    spec.assert_valid(op, 200, &body);
                    assert!(!body["items"].as_array().unwrap().is_empty());
                }
            }
        }
    }
}

#[tokio::test]
async fn catalog_burst_then_429() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let q = format!(
        "{CATALOG_ITEMS}/B0TINY0001?marketplaceIds={}",
        marketplace(&sim)
    );
    for _ in 0..2 {
        assert_eq!(sp_get(&sim, &token, &q).await.0, 200);
    }
    let (status, headers, body) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 429);
    assert!(!headers.contains_key("x-amzn-ratelimit-limit"));
    Spec::sp(CATALOG).assert_valid("getCatalogItem", 429, &body);
}

// ---------------------------------------------------------------------------
// Product Fees

fn fee_request(m: &str, price: f64, afn: Option<bool>, id: &str) -> Value {
    let mut r = json!({
        "MarketplaceId": m,
        "PriceToEstimateFees": {"ListingPrice": {"CurrencyCode": "USD", "Amount": price},
                                "Shipping": {"CurrencyCode": "USD", "Amount": 0}},
        "Identifier": id,
    });
    if let Some(a) = afn {
        r["IsAmazonFulfilled"] = json!(a);
    }
    r
}

#[tokio::test]
async fn fee_estimates_batch_and_single() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(FEES);
    let m = marketplace(&sim);
    let body = json!([
        {"FeesEstimateRequest": fee_request(&m, 19.99, None, "one"), "IdType": "SellerSKU", "IdValue": "TINY-1"},
        {"FeesEstimateRequest": fee_request(&m, 29.99, Some(false), "two"), "IdType": "ASIN", "IdValue": "B0TINY0002"},
        {"FeesEstimateRequest": fee_request(&m, 9.99, None, "three"), "IdType": "SellerSKU", "IdValue": "NOT-OURS"},
    ]);
    let (status, headers, res) = sp_post(&sim, &token, FEES_BATCH, &body).await;
    assert_eq!(status, 200, "{res}");
    assert_rate(&headers, "getMyFeesEstimates");
    spec.assert_valid("getMyFeesEstimates", 200, &res);
    let res = res.as_array().unwrap();
    assert_eq!(res.len(), 3);
    assert_eq!(res[0]["Status"], "Success");
    assert_eq!(
        res[0]["FeesEstimateIdentifier"]["SellerInputIdentifier"],
        "one"
    );
    assert_eq!(
        res[0]["FeesEstimateIdentifier"]["IsAmazonFulfilled"], true,
        "TINY-1 is FBA"
    );
    let est = sim
        .world
        .fee_estimate("TINY-1", Some(19.99), sim.clock.now())
        .unwrap();
    let total = res[0]["FeesEstimate"]["TotalFeesEstimate"]["Amount"]
        .as_f64()
        .unwrap();
    assert!((total - (est.referral_fee + est.variable_closing_fee + est.fba_fee)).abs() < 0.005);
    let types: Vec<&str> = res[0]["FeesEstimate"]["FeeDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["FeeType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"ReferralFee") && types.contains(&"FBAFees"),
        "{types:?}"
    );
    assert_eq!(res[1]["Status"], "Success");
    assert!(!res[1]["FeesEstimate"]["FeeDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["FeeType"] == "FBAFees"));
    assert_eq!(res[2]["Status"], "ClientError");

    tick(&sim, 2);
    let (status, headers, one) = sp_post(
        &sim,
        &token,
        "/products/fees/v0/listings/TINY-1/feesEstimate",
        &json!({"FeesEstimateRequest": fee_request(&m, 19.99, Some(true), "sku")}),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_rate(&headers, "getMyFeesEstimateForSKU");
    spec.assert_valid("getMyFeesEstimateForSKU", 200, &one);
    assert_eq!(one["payload"]["FeesEstimateResult"]["Status"], "Success");

    let (status, headers, one) = sp_post(
        &sim,
        &token,
        "/products/fees/v0/items/B0TINY0001/feesEstimate",
        &json!({"FeesEstimateRequest": fee_request(&m, 19.99, Some(true), "asin")}),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_rate(&headers, "getMyFeesEstimateForASIN");
    spec.assert_valid("getMyFeesEstimateForASIN", 200, &one);
    assert_eq!(
        one["payload"]["FeesEstimateResult"]["FeesEstimateIdentifier"]["IdValue"],
        "B0TINY0001"
    );

    // Missing required fields: 400.
    tick(&sim, 2);
    let (status, _, err) = sp_post(&sim, &token, FEES_BATCH, &json!([{"FeesEstimateRequest": {"MarketplaceId": m}, "IdType": "ASIN", "IdValue": "B0TINY0001"}])).await;
    assert_eq!(status, 400, "{err}");
    spec.assert_valid("getMyFeesEstimates", 400, &err);
    // Burst is 1: an immediate second call is throttled.
    let (status, headers, err) = sp_post(&sim, &token, FEES_BATCH, &body).await;
    assert_eq!(status, 429);
    assert!(!headers.contains_key("x-amzn-ratelimit-limit"));
    spec.assert_valid("getMyFeesEstimates", 429, &err);
}

#[tokio::test]
async fn fees_sandbox_examples_get_valid_answers() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn_frozen(tiny_scenario()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = Spec::sp(FEES);
    for op in [
        "getMyFeesEstimates",
        "getMyFeesEstimateForSKU",
        "getMyFeesEstimateForASIN",
    ] {
        let cases = spec.sandbox_cases(op);
        assert!(!cases.is_empty());
        for case in cases {
            tick(&sim, 3);
            let req = case.request(&spec);
            let path = req
                .path_and_query
                .replace("{SellerSKU}", "TINY-1")
                .replace("{Asin}", "B0TINY0001");
            let (status, _, body) = sp_post(&sim, &token, &path, req.body.as_ref().unwrap()).await;
            assert_eq!(status, case.status, "{op} {path}: {body}");
            spec.assert_valid(op, status, &body);
            if status == 200 {
                // The example's items and MXN marketplace are not this
                // seller's, so each one is a per-item ClientError...
                let results: Vec<&Value> = match body.as_array() {
                    Some(a) => a.iter().collect(),
                    None => vec![&body["payload"]["FeesEstimateResult"]],
                };
                assert!(!results.is_empty());
                // ...except the single-item calls on this seller's own SKU/ASIN.
                if op != "getMyFeesEstimates" {
                    assert_eq!(results[0]["Status"], "Success", "{body}");
                }
            }
        }
    }
}

/// The demo scenario (FBA and FBM, many orders a day), if it is there and
/// parses: a day and a half of updates paged at 100 a page, compared with
/// the world, and inventory and catalog answers for all its SKUs.
#[tokio::test]
async fn demo_scenario_pages_and_validates() {
    if common::amazon_models::missing() {
        return;
    }
    let path = common::scenario_path("demo.toml");
    let Ok(scenario) = flywheel_sim::scenario::Scenario::from_path(&path) else {
        eprintln!("skipped: {} is missing or does not parse", path.display());
        return;
    };
    let sim = spawn_frozen(scenario).await;
    let token = access_token(&sim, Api::Sp).await;
    let now = sim.clock.now();
    let b = now - Duration::minutes(5);
    let mut hours = 36;
    let world: Vec<String> = loop {
        let a = now - Duration::hours(hours);
        let v: Vec<String> = sim
            .world
            .orders_updated(a, b, now)
            .map(|o| o.amazon_order_id)
            .collect();
        if v.len() <= 1500 || hours <= 2 {
            break v;
        }
        hours /= 2;
    };
    assert!(!world.is_empty(), "the demo has recent orders");
    let a = now - Duration::hours(hours);
    let query = format!(
        "lastUpdatedAfter={}&lastUpdatedBefore={}&includedData=PROCEEDS,FULFILLMENT,PACKAGES",
        t(a),
        t(b)
    );
    let per_page = world.len().div_ceil(15).clamp(1, 100);
    let (ids, _) = page_all(&sim, &token, &query, per_page).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no order twice");
    assert_eq!(unique, world.iter().collect::<HashSet<_>>());

    let (status, _, body) = sp_get(&sim, &token, &summaries_query(&sim, "&details=true")).await;
    assert_eq!(status, 200, "{body}");
    Spec::sp(INVENTORY).assert_valid("getInventorySummaries", 200, &body);
    let fba = sim.world.products().iter().filter(|p| p.is_fba()).count();
    assert_eq!(
        body["payload"]["inventorySummaries"]
            .as_array()
            .unwrap()
            .len(),
        fba.min(50)
    );

    let asins: Vec<&str> = sim
        .world
        .products()
        .iter()
        .take(20)
        .map(|p| p.asin.as_str())
        .collect();
    let q = format!(
        "{CATALOG_ITEMS}?marketplaceIds={}&identifiersType=ASIN&identifiers={}&includedData=salesRanks,summaries&pageSize=20",
        marketplace(&sim),
        asins.join(",")
    );
    let (status, _, body) = sp_get(&sim, &token, &q).await;
    assert_eq!(status, 200, "{body}");
    Spec::sp(CATALOG).assert_valid("searchCatalogItems", 200, &body);
    assert_eq!(body["items"].as_array().unwrap().len(), asins.len());
}
