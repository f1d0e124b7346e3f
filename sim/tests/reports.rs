//! Reports API 2021-06-30 end to end over HTTP on 127.0.0.1: every operation
//! against the model (strict), the sandbox examples, the lifecycle on sim
//! time, every report type's document (gzip, ISO-8859-1, exact headers, JSON
//! report schemas), the faults, expiring URLs and `getReports` paging.
//!
//! Every sim here runs on a frozen clock moved by `POST /_sim/advance`, so
//! timings are exact; loops are bounded.

mod common;

use std::io::Read;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{access_token, http, sp_get, test_now, Api, Spec};
use flywheel_sim::faults::{Fault, FaultSet};
use flywheel_sim::RunningSim;
use serde_json::{json, Value};

const REPORTS: &str = "/reports/2021-06-30/reports";
const DE: &str = "A1PA6795UKMFR9";

/// A German seller (so cities such as MÜNCHEN and KÖLN appear) with a
/// Latin-1 product title, an FBM SKU and an ASIN that never sells.
const SCENARIO: &str = r#"
name = "reports"
history_days = 60

[seller]
marketplace_id = "A1PA6795UKMFR9"
country = "DE"
currency = "EUR"
timezone = "Europe/Berlin"
region = "eu"

[feedback]
feedback_rate = 0.2
negative_rate = 0.3
neutral_rate = 0.2
response_rate = 0.5

[[products]]
sku = "RPT-1"
asin = "B0RPT00001"
title = "Crème-brûlée Brenner, Größe M"
price = 24.99
cogs = 6.0
return_rate = 0.1
search_queries = [
  { query = "creme brulee brenner", volume = 20000, impression_share = 0.1, click_share = 0.12 },
  { query = "küchenbrenner", volume = 9000, impression_share = 0.08, click_share = 0.1 },
]

[[products]]
sku = "RPT-2"
asin = "B0RPT00002"
parent_asin = "B0RPTPAR01"
title = "Flywheel Messer 20 cm"
price = 39.5
cogs = 9.0
fulfillment = "FBM"
lead_time_days = 12
return_rate = 0.1

[[products]]
sku = "RPT-3"
asin = "B0RPT00003"
parent_asin = "B0RPTPAR01"
title = "Flywheel Messer 15 cm"
price = 29.5
cogs = 7.0
conversion = 0.0
"#;

fn scenario() -> flywheel_sim::scenario::Scenario {
    flywheel_sim::scenario::Scenario::from_toml_str(SCENARIO).expect("scenario parses")
}

async fn spawn(faults: FaultSet) -> RunningSim {
    let mut opts = flywheel_sim::SimOptions::new(scenario());
    opts.speed = 0.0;
    opts.now = Some(test_now());
    opts.faults = faults;
    flywheel_sim::spawn(opts).await.expect("sim starts")
}

fn spec() -> Spec {
    Spec::sp("reports_2021-06-30.json")
}

fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn advance(sim: &RunningSim, by: &str) {
    let resp = http()
        .post(format!("{}/_sim/advance?by={by}", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn create(sim: &RunningSim, token: &str, body: &Value) -> (u16, Value) {
    let resp = http()
        .post(format!("{}{REPORTS}", sim.base_url()))
        .header("x-amz-access-token", token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Create a report and return its id (the answer validated).
async fn create_ok(sim: &RunningSim, token: &str, body: &Value) -> String {
    let (status, resp) = create(sim, token, body).await;
    assert_eq!(status, 202, "{resp}");
    spec().assert_valid("createReport", 202, &resp);
    resp["reportId"].as_str().unwrap().to_owned()
}

async fn get_report(sim: &RunningSim, token: &str, id: &str) -> Value {
    let (status, headers, body) = sp_get(sim, token, &format!("{REPORTS}/{id}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-amzn-ratelimit-limit"], "2");
    spec().assert_valid("getReport", 200, &body);
    body
}

/// Move 41 s of sim time (past the end of processing of any report under
/// 10,000 rows) and return the report.
async fn finish(sim: &RunningSim, token: &str, id: &str) -> Value {
    advance(sim, "41s").await;
    for _ in 0..10 {
        let r = get_report(sim, token, id).await;
        if !matches!(
            r["processingStatus"].as_str(),
            Some("IN_QUEUE" | "IN_PROGRESS")
        ) {
            return r;
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    panic!("report {id} did not finish");
}

async fn document(sim: &RunningSim, token: &str, doc_id: &str, query: &str) -> Value {
    let (status, headers, body) = sp_get(
        sim,
        token,
        &format!("/reports/2021-06-30/documents/{doc_id}{query}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-amzn-ratelimit-limit"], "0.0167");
    spec().assert_valid("getReportDocument", 200, &body);
    assert_eq!(body["compressionAlgorithm"], "GZIP");
    body
}

struct Download {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(url: &str) -> Download {
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // No auth header: the URL is pre-signed. No automatic gunzip, so the
    // headers and bytes are what the server sent.
    let client = reqwest::Client::builder()
        .timeout(common::HTTP_TIMEOUT)
        .no_gzip()
        .build()
        .unwrap();
    let resp = client.get(url).send().await.unwrap();
    Download {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.unwrap().to_vec(),
    }
}

fn gunzip(b: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out)?;
    Ok(out)
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Create, finish, fetch and gunzip a report; returns (report, content type, bytes).
async fn run_report(sim: &RunningSim, token: &str, body: Value) -> (Value, String, Vec<u8>) {
    let id = create_ok(sim, token, &body).await;
    let r = finish(sim, token, &id).await;
    assert_eq!(r["processingStatus"], "DONE", "{r}");
    let doc = document(sim, token, r["reportDocumentId"].as_str().unwrap(), "").await;
    let dl = fetch(doc["url"].as_str().unwrap()).await;
    assert_eq!(dl.status, 200);
    let ct = dl.headers["content-type"].to_str().unwrap().to_owned();
    (r, ct, gunzip(&dl.body).expect("a whole gzip stream"))
}

/// Parse a Latin-1 TSV into (header, rows).
fn tsv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = latin1(bytes);
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header row")
        .split('\t')
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "every row has every column");
    }
    (header, rows)
}

fn col<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn list(s: &str) -> Vec<String> {
    s.split(", ").map(str::to_owned).collect()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------
// Lifecycle and the orders flat file

#[tokio::test]
async fn lifecycle_runs_on_sim_time_and_the_orders_file_is_latin1_tsv() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let now = test_now();
    let start = now - Duration::days(7);
    let id = create_ok(
        &sim,
        &token,
        &json!({
            "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "marketplaceIds": [DE],
            "dataStartTime": start.to_rfc3339(),
            "dataEndTime": now.to_rfc3339(),
        }),
    )
    .await;

    let r = get_report(&sim, &token, &id).await;
    assert_eq!(r["processingStatus"], "IN_QUEUE");
    assert_eq!(ts(r["createdTime"].as_str().unwrap()), now);
    assert!(r.get("processingStartTime").is_none());
    advance(&sim, "19s").await;
    assert_eq!(
        get_report(&sim, &token, &id).await["processingStatus"],
        "IN_QUEUE"
    );
    advance(&sim, "1s").await;
    let r = get_report(&sim, &token, &id).await;
    assert_eq!(r["processingStatus"], "IN_PROGRESS");
    let started = ts(r["processingStartTime"].as_str().unwrap());
    assert_eq!(started, now + Duration::seconds(20));
    advance(&sim, "19s").await;
    let r = get_report(&sim, &token, &id).await;
    assert_eq!(
        r["processingStatus"], "IN_PROGRESS",
        "20 s of processing at least"
    );
    assert!(r.get("reportDocumentId").is_none());
    advance(&sim, "2s").await;
    let r = get_report(&sim, &token, &id).await;
    assert_eq!(r["processingStatus"], "DONE", "{r}");
    let ended = ts(r["processingEndTime"].as_str().unwrap());
    // 20 s + 10 s per 100,000 rows: a few hundred rows add well under 1 s.
    assert!(
        ended >= started + Duration::seconds(20) && ended <= started + Duration::seconds(21),
        "{r}"
    );

    let doc_id = r["reportDocumentId"].as_str().unwrap();
    let doc = document(&sim, &token, doc_id, "").await;
    assert_eq!(doc["reportDocumentId"], doc_id);
    let dl = fetch(doc["url"].as_str().unwrap()).await;
    assert_eq!(dl.status, 200);
    let ct = dl.headers["content-type"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(ct.contains("charset=iso-8859-1"), "{ct}");
    assert!(dl.headers.get("content-encoding").is_none());
    let raw = gunzip(&dl.body).expect("gzip");

    // ISO-8859-1, not UTF-8: "è" is one byte 0xE8, never C3 A8.
    assert!(raw.contains(&0xE8), "the Latin-1 title is in the file");
    assert!(!raw.windows(2).any(|w| w == [0xC3, 0xA8]), "no UTF-8");
    let (enc, _) = encoding_rs::Encoding::for_label(b"ISO-8859-1")
        .unwrap()
        .decode_without_bom_handling(&raw);
    assert_eq!(enc, latin1(&raw), "encoding_rs and plain Latin-1 agree");

    let (header, rows) = tsv(&raw);
    assert_eq!(
        header,
        words(
            "amazon-order-id merchant-order-id purchase-date last-updated-date order-status \
             fulfillment-channel sales-channel order-channel url ship-service-level product-name sku \
             asin item-status quantity currency item-price item-tax shipping-price shipping-tax \
             gift-wrap-price gift-wrap-tax item-promotion-discount ship-promotion-discount ship-city \
             ship-state ship-postal-code ship-country promotion-ids is-business-order \
             purchase-order-number price-designation"
        )
    );
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .any(|r| col(&header, r, "product-name") == "Crème-brûlée Brenner, Größe M"));
    assert!(rows
        .iter()
        .any(|r| ["MÜNCHEN", "KÖLN"].contains(&col(&header, r, "ship-city"))));
    // Orders whose last update falls in the window, one row per item.
    let as_of = started;
    let expected: usize = sim
        .world
        .orders_updated(start, now, as_of)
        .map(|o| o.items.len())
        .sum();
    assert_eq!(rows.len(), expected);
    for r in &rows {
        let updated = ts(col(&header, r, "last-updated-date"));
        assert!(updated >= start && updated < now, "{updated}");
        assert!(col(&header, r, "purchase-date").ends_with("+00:00"));
        assert_eq!(col(&header, r, "currency"), "EUR");
    }
}

#[tokio::test]
async fn report_without_data_is_cancelled_and_cancel_report_works_in_queue_only() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    // Long before the seller's history: nothing to report.
    let id = create_ok(
        &sim,
        &token,
        &json!({
            "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "marketplaceIds": [DE],
            "dataStartTime": "2024-01-01T00:00:00Z",
            "dataEndTime": "2024-01-08T00:00:00Z",
        }),
    )
    .await;
    let cancel_me = create_ok(
        &sim,
        &token,
        &json!({"reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [DE]}),
    )
    .await;
    let resp = http()
        .delete(format!("{}{REPORTS}/{cancel_me}", sim.base_url()))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-amzn-ratelimit-limit"], "0.0222");
    assert!(resp.bytes().await.unwrap().is_empty());

    let r = finish(&sim, &token, &id).await;
    assert_eq!(r["processingStatus"], "CANCELLED", "{r}");
    assert!(r.get("reportDocumentId").is_none());
    assert_eq!(
        ts(r["processingEndTime"].as_str().unwrap()),
        test_now() + Duration::seconds(40)
    );
    let c = get_report(&sim, &token, &cancel_me).await;
    assert_eq!(c["processingStatus"], "CANCELLED");
    assert!(c.get("processingStartTime").is_none());

    // Only IN_QUEUE reports can be cancelled.
    let resp = http()
        .delete(format!("{}{REPORTS}/{id}", sim.base_url()))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    spec().assert_valid("cancelReport", 400, &body);
    // Unknown but well-formed ids are 404.
    let (status, _, body) = sp_get(&sim, &token, &format!("{REPORTS}/53999999999")).await;
    assert_eq!(status, 404);
    spec().assert_valid("getReport", 404, &body);
}

#[tokio::test]
async fn invalid_requests_get_400_in_the_models_shape() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    for body in [
        json!({"reportType": "GET_NO_SUCH_REPORT", "marketplaceIds": [DE]}),
        json!({"reportType": "GET_SELLER_FEEDBACK_DATA"}),
        json!({"reportType": "GET_SELLER_FEEDBACK_DATA", "marketplaceIds": ["XX"]}),
        json!({"reportType": "GET_SELLER_FEEDBACK_DATA", "marketplaceIds": [DE],
               "dataStartTime": "2030-01-01T00:00:00Z"}),
        json!({"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": [DE],
               "reportOptions": {"dateGranularity": "YEAR"}}),
        json!({"reportType": "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
               "marketplaceIds": [DE], "reportOptions": {"reportPeriod": "WEEK"}}),
        json!({"reportType": "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
               "marketplaceIds": [DE],
               "reportOptions": {"reportPeriod": "WEEK", "asin": "B0RPT00001 ".repeat(25)}}),
    ] {
        let (status, resp) = create(&sim, &token, &body).await;
        assert_eq!(status, 400, "{body} -> {resp}");
        spec().assert_valid("createReport", 400, &resp);
        assert_eq!(resp["errors"][0]["code"], "InvalidInput");
    }
}

// ---------------------------------------------------------------------------
// Every flat file

#[tokio::test]
async fn flat_files_have_the_documented_headers() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let now = test_now();
    let window = |kind: &str| {
        json!({
            "reportType": kind,
            "marketplaceIds": [DE],
            "dataStartTime": (now - Duration::days(45)).to_rfc3339(),
            "dataEndTime": now.to_rfc3339(),
        })
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
            words(
                "sku fnsku asin product-name condition your-price mfn-listing-exists \
                 mfn-fulfillable-quantity afn-listing-exists afn-warehouse-quantity \
                 afn-fulfillable-quantity afn-unsellable-quantity afn-reserved-quantity \
                 afn-total-quantity per-unit-volume afn-inbound-working-quantity \
                 afn-inbound-shipped-quantity afn-inbound-receiving-quantity \
                 afn-researching-quantity afn-reserved-future-supply afn-future-supply-buyable",
            ),
        ),
        (
            "GET_FBA_INVENTORY_PLANNING_DATA",
            words(
                "snapshot-date sku fnsku asin product-name condition available \
                 pending-removal-quantity inv-age-0-to-90-days inv-age-91-to-180-days \
                 inv-age-181-to-270-days inv-age-271-to-365-days inv-age-365-plus-days currency \
                 qty-to-be-charged-ltsf-11-mo projected-ltsf-11-mo qty-to-be-charged-ltsf-12-mo \
                 estimated-ltsf-next-charge units-shipped-t7 units-shipped-t30 units-shipped-t60 \
                 units-shipped-t90 alert your-price sales-price lowest-price-new-plus-shipping \
                 lowest-price-used recommended-action healthy-inventory-level \
                 recommended-sales-price recommended-sale-duration-days \
                 recommended-removal-quantity estimated-cost-savings-of-recommended-actions \
                 sell-through item-volume volume-unit-measurement storage-type storage-volume \
                 marketplace product-group sales-rank days-of-supply estimated-excess-quantity \
                 weeks-of-cover-t30 weeks-of-cover-t90 featuredoffer-price \
                 sales-shipped-last-7-days sales-shipped-last-30-days sales-shipped-last-60-days \
                 sales-shipped-last-90-days inv-age-0-to-30-days inv-age-31-to-60-days \
                 inv-age-61-to-90-days inv-age-181-to-330-days inv-age-331-to-365-days \
                 estimated-storage-cost-next-month inbound-quantity inbound-working \
                 inbound-shipped inbound-received no-sale-last-6-months reserved-quantity \
                 unfulfillable-quantity",
            ),
        ),
        (
            "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
            words(
                "return-date order-id sku asin fnsku product-name quantity fulfillment-center-id \
                 detailed-disposition reason status license-plate-number customer-comments",
            ),
        ),
        (
            "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
            list(
                "Order ID, Order date, Return request date, Return request status, Amazon RMA ID, \
                 Merchant RMA ID, Label type, Label cost, Currency code, Return carrier, Tracking ID, \
                 Label to be paid by, A-to-Z Claim, Is prime, ASIN, Merchant SKU, Item Name, \
                 Return quantity, Return Reason, In policy, Return type, Resolution, Invoice number, \
                 Return delivery date, Order Amount, Order quantity, SafeT Action reason, \
                 SafeT claim id, SafeT claim state, SafeT claim creation time, \
                 SafeT claim reimbursement amount, Refunded Amount"
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .as_str(),
            ),
        ),
        (
            "GET_SELLER_FEEDBACK_DATA",
            list("Date, Rating, Comments, Your Response, Order ID, Rater Email"),
        ),
    ];
    let mut seen = Vec::new();
    for (kind, expected) in cases {
        let (_, ct, raw) = run_report(&sim, &token, window(kind)).await;
        assert!(
            ct.to_ascii_lowercase().contains("charset=iso-8859-1"),
            "{ct}"
        );
        let (header, rows) = tsv(&raw);
        assert_eq!(header, expected, "{kind}");
        assert!(!rows.is_empty(), "{kind} has rows");
        seen.push((kind, header, rows));
    }
    let as_of = test_now() + Duration::seconds(20);
    for (kind, header, rows) in &seen {
        match *kind {
            "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA" => {
                // FBA SKUs only.
                let skus: Vec<&str> = rows.iter().map(|r| col(header, r, "sku")).collect();
                assert!(
                    skus.contains(&"RPT-1") && !skus.contains(&"RPT-2"),
                    "{skus:?}"
                );
            }
            "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA" => {
                assert!(
                    rows.iter().all(|r| col(header, r, "sku") != "RPT-2"),
                    "AFN only"
                );
            }
            "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE" => {
                assert!(
                    rows.iter()
                        .all(|r| col(header, r, "Merchant SKU") == "RPT-2"),
                    "MFN only"
                );
            }
            "GET_SELLER_FEEDBACK_DATA" => {
                for r in rows {
                    let rating: u8 = col(header, r, "Rating").parse().unwrap();
                    assert!((1..=3).contains(&rating), "1-3 stars only");
                    let date = col(header, r, "Date");
                    // The scenario sells in DE, whose feedback dates are
                    // day.month.year (the US writes month/day/year).
                    assert!(
                        NaiveDate::parse_from_str(date, "%d.%m.%y").is_ok(),
                        "DD.MM.YY: {date}"
                    );
                }
                let start = sim.world.day_of(test_now() - Duration::days(45));
                let end = sim.world.day_of(test_now());
                let expected = sim
                    .world
                    .seller_feedback(start, end, as_of)
                    .into_iter()
                    .filter(|f| f.rating <= 3)
                    .count();
                assert_eq!(rows.len(), expected);
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// JSON reports

#[tokio::test]
async fn sales_and_traffic_validates_and_per_asin_rows_are_window_totals() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let (start, end) = (day("2026-02-15"), day("2026-02-28"));
    let (_, ct, raw) = run_report(
        &sim,
        &token,
        json!({
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "marketplaceIds": [DE],
            "dataStartTime": "2026-02-15T00:00:00+01:00",
            "dataEndTime": "2026-02-28T23:59:59+01:00",
            "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
        }),
    )
    .await;
    assert!(ct.starts_with("application/json"), "{ct}");
    let doc: Value = serde_json::from_slice(&raw).unwrap();
    let errors = common::validate_report("sellerSalesAndTrafficReport.json", &doc);
    assert!(errors.is_empty(), "{errors:#?}");

    let by_date = doc["salesAndTrafficByDate"].as_array().unwrap();
    assert_eq!(by_date.len(), 14, "one row per day");
    assert_eq!(by_date[0]["date"], "2026-02-15");

    let as_of = test_now() + Duration::seconds(20);
    let world = sim.world.asin_totals(start, end, as_of);
    let rows = doc["salesAndTrafficByAsin"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert_eq!(rows.len(), world.len());
    for t in &world {
        let row = rows
            .iter()
            .find(|r| r["sku"] == t.sku.as_str())
            .unwrap_or_else(|| panic!("{} missing", t.sku));
        assert_eq!(row["childAsin"], t.asin.as_str());
        assert_eq!(row["parentAsin"], t.parent_asin.as_str());
        assert_eq!(row["salesByAsin"]["unitsOrdered"], t.units_ordered);
        assert_eq!(row["salesByAsin"]["totalOrderItems"], t.total_order_items);
        let sales = row["salesByAsin"]["orderedProductSales"]["amount"]
            .as_f64()
            .unwrap();
        assert!((sales - t.ordered_product_sales).abs() < 0.005);
        assert_eq!(row["trafficByAsin"]["sessions"], t.sessions);
        assert_eq!(row["trafficByAsin"]["pageViews"], t.page_views);
    }
    // The ASIN that never sells had sessions, yet has no row.
    let zero = sim.world.asin_days("RPT-3", start, end, as_of);
    assert!(zero.iter().map(|d| d.sessions).sum::<u32>() > 0);
    assert!(rows.iter().all(|r| r["childAsin"] != "B0RPT00003"));

    // WEEK and MONTH expand to whole periods; PARENT rows carry only the parent.
    for (granularity, first) in [("WEEK", "2026-02-01"), ("MONTH", "2026-02-01")] {
        let (_, _, raw) = run_report(
            &sim,
            &token,
            json!({
                "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
                "marketplaceIds": [DE],
                "dataStartTime": "2026-02-03T00:00:00Z",
                "dataEndTime": "2026-02-20T00:00:00Z",
                "reportOptions": {"dateGranularity": granularity, "asinGranularity": "PARENT"},
            }),
        )
        .await;
        let doc: Value = serde_json::from_slice(&raw).unwrap();
        let errors = common::validate_report("sellerSalesAndTrafficReport.json", &doc);
        assert!(errors.is_empty(), "{errors:#?}");
        let dates: Vec<&str> = doc["salesAndTrafficByDate"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["date"].as_str().unwrap())
            .collect();
        assert_eq!(dates[0], first, "{granularity}: {dates:?}");
        if granularity == "WEEK" {
            assert_eq!(dates, ["2026-02-01", "2026-02-08", "2026-02-15"]);
        } else {
            assert_eq!(dates, ["2026-02-01"]);
        }
        for r in doc["salesAndTrafficByAsin"].as_array().unwrap() {
            assert!(r.get("childAsin").is_none() && r.get("sku").is_none());
        }
    }
}

/// The account-health schema requires two properties it never declares
/// (`ahrStatus` in `accountHealthRating`, `fulfillmentType` in
/// `OrderDefectRate`; Amazon's own example sends both), so its strict form
/// accepts nothing. Declare them and validate everything else strictly.
fn health_errors(doc: &Value) -> Vec<String> {
    let mut schema = common::report_schema("accountHealthReport-2020-11-18.json");
    let props = schema
        .pointer_mut(
            "/properties/performanceMetrics/items/properties/accountHealthRating/properties",
        )
        .expect("accountHealthRating properties");
    props["ahrStatus"] = json!({"type": "string", "enum": ["GREAT", "WARNED"]});
    let props = schema
        .pointer_mut("/definitions/OrderDefectRate/properties")
        .expect("OrderDefectRate properties");
    props["fulfillmentType"] = json!({"type": "string", "enum": ["mfn", "afn"]});
    let v = jsonschema::draft7::options().build(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("at {}: {e}", e.instance_path))
        .collect()
}

#[tokio::test]
async fn seller_performance_validates_and_the_realworld_shape_does_not() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let body = json!({"reportType": "GET_V2_SELLER_PERFORMANCE_REPORT", "marketplaceIds": [DE]});
    let (_, _, raw) = run_report(&sim, &token, body.clone()).await;
    let doc: Value = serde_json::from_slice(&raw).unwrap();
    let errors = health_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    // Unpatched, the only complaints are the schema's own two defects.
    let raw_errors = common::validate_report("accountHealthReport-2020-11-18.json", &doc);
    assert!(
        raw_errors
            .iter()
            .all(|e| e.contains("ahrStatus") || e.contains("fulfillmentType")),
        "{raw_errors:#?}"
    );
    assert_eq!(doc["accountStatuses"][0]["marketplaceId"], DE);

    let real = spawn(FaultSet::none().with(Fault::Realworld, 1.0)).await;
    let token = access_token(&real, Api::Sp).await;
    let (_, _, raw) = run_report(&real, &token, body).await;
    let doc: Value = serde_json::from_slice(&raw).unwrap();
    let errors = health_errors(&doc);
    assert!(!errors.is_empty(), "the real-world shape fails the schema");
    let all = errors.join("\n");
    assert!(all.contains("SUSPENDED"), "{all}");
    assert!(all.contains("restrictedProductPolicyViolations"), "{all}");
}

#[tokio::test]
async fn search_query_performance_validates_and_two_weeks_are_fatal() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let (_, _, raw) = run_report(
        &sim,
        &token,
        json!({
            "reportType": "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
            "marketplaceIds": [DE],
            "dataStartTime": "2026-02-22T00:00:00Z",
            "dataEndTime": "2026-02-28T00:00:00Z",
            "reportOptions": {"reportPeriod": "WEEK", "asin": "B0RPT00001 B0RPT00002"},
        }),
    )
    .await;
    let doc: Value = serde_json::from_slice(&raw).unwrap();
    let errors = common::validate_report("sellingPartnerSearchQueryPerformanceReport.json", &doc);
    assert!(errors.is_empty(), "{errors:#?}");
    let rows = doc["dataByAsin"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "two queries of B0RPT00001");
    for r in rows {
        assert_eq!(r["startDate"], "2026-02-22");
        assert_eq!(r["endDate"], "2026-02-28");
        let share = r["impressionData"]["asinImpressionShare"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share), "a fraction: {share}");
    }
    assert_eq!(rows[0]["searchQueryData"]["searchQueryScore"], 1);

    // Sunday to the next Saturday but one: two weeks.
    let id = create_ok(
        &sim,
        &token,
        &json!({
            "reportType": "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
            "marketplaceIds": [DE],
            "dataStartTime": "2026-02-15T00:00:00Z",
            "dataEndTime": "2026-02-28T00:00:00Z",
            "reportOptions": {"reportPeriod": "WEEK", "asin": "B0RPT00001"},
        }),
    )
    .await;
    let r = finish(&sim, &token, &id).await;
    assert_eq!(r["processingStatus"], "FATAL", "{r}");
    let doc = document(&sim, &token, r["reportDocumentId"].as_str().unwrap(), "").await;
    let dl = fetch(doc["url"].as_str().unwrap()).await;
    let err: Value = serde_json::from_slice(&gunzip(&dl.body).unwrap()).unwrap();
    assert!(
        err["errorDetails"].as_str().unwrap().contains("period"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn fatal_empty_and_truncate_faults() {
    if common::amazon_models::missing() {
        return;
    }
    let fatal = spawn(FaultSet::none().with(Fault::Fatal, 1.0)).await;
    let token = access_token(&fatal, Api::Sp).await;
    let flat = create_ok(
        &fatal,
        &token,
        &json!({"reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [DE]}),
    )
    .await;
    let st = create_ok(
        &fatal,
        &token,
        &json!({"reportType": "GET_V2_SELLER_PERFORMANCE_REPORT", "marketplaceIds": [DE]}),
    )
    .await;
    let r = finish(&fatal, &token, &flat).await;
    assert_eq!(r["processingStatus"], "FATAL");
    assert!(
        r.get("reportDocumentId").is_none(),
        "flat files: no error document"
    );
    let r = get_report(&fatal, &token, &st).await;
    assert_eq!(r["processingStatus"], "FATAL");
    let doc = document(&fatal, &token, r["reportDocumentId"].as_str().unwrap(), "").await;
    let dl = fetch(doc["url"].as_str().unwrap()).await;
    let err: Value = serde_json::from_slice(&gunzip(&dl.body).unwrap()).unwrap();
    assert!(err.get("errorDetails").is_some());

    let empty = spawn(FaultSet::none().with(Fault::Empty, 1.0)).await;
    let token = access_token(&empty, Api::Sp).await;
    let (_, _, raw) = run_report(
        &empty,
        &token,
        json!({"reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [DE]}),
    )
    .await;
    assert!(raw.is_empty(), "DONE with an empty document");

    // `truncate` also cuts API bodies (the generic fault layer), so this part
    // retries the API calls and downloads until it sees a cut gzip stream.
    let cut = spawn(FaultSet::none().with(Fault::Truncate, 0.5)).await;
    let token = access_token(&cut, Api::Sp).await;
    let body = json!({"reportType": "GET_FBA_INVENTORY_PLANNING_DATA", "marketplaceIds": [DE]});
    let mut id = None;
    for _ in 0..10 {
        if let (202, resp) = create(&cut, &token, &body).await {
            if let Some(i) = resp["reportId"].as_str() {
                id = Some(i.to_owned());
                break;
            }
        }
    }
    let id = id.expect("a whole createReport answer");
    advance(&cut, "41s").await;
    let mut url = None;
    for _ in 0..10 {
        let (_, _, r) = sp_get(&cut, &token, &format!("{REPORTS}/{id}")).await;
        let Some(doc_id) = r["reportDocumentId"].as_str() else {
            continue;
        };
        let (_, _, d) = sp_get(
            &cut,
            &token,
            &format!("/reports/2021-06-30/documents/{doc_id}"),
        )
        .await;
        if let Some(u) = d["url"].as_str() {
            url = Some(u.to_owned());
            break;
        }
    }
    let url = url.expect("a whole getReportDocument answer");
    let (mut whole, mut broken) = (0, 0);
    for _ in 0..40 {
        let dl = fetch(&url).await;
        assert_eq!(dl.status, 200);
        match gunzip(&dl.body) {
            Ok(_) => whole += 1,
            Err(_) => broken += 1,
        }
    }
    assert!(broken > 0 && whole > 0, "{broken} cut, {whole} whole of 40");
}

// ---------------------------------------------------------------------------
// Download URLs

#[tokio::test]
async fn download_urls_expire_after_five_minutes_of_sim_time() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let id = create_ok(
        &sim,
        &token,
        &json!({"reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [DE]}),
    )
    .await;
    let r = finish(&sim, &token, &id).await;
    let doc_id = r["reportDocumentId"].as_str().unwrap().to_owned();
    let doc = document(
        &sim,
        &token,
        &doc_id,
        "?enableContentEncodingUrlHeader=true",
    )
    .await;
    let url = doc["url"].as_str().unwrap().to_owned();
    let dl = fetch(&url).await;
    assert_eq!(dl.status, 200);
    assert_eq!(dl.headers["content-encoding"], "gzip");
    assert!(gunzip(&dl.body).is_ok());

    advance(&sim, "299s").await;
    assert_eq!(fetch(&url).await.status, 200, "still valid at 4:59");
    advance(&sim, "1s").await;
    let dl = fetch(&url).await;
    assert_eq!(dl.status, 403);
    let body = String::from_utf8(dl.body).unwrap();
    assert!(
        body.contains("<Code>AccessDenied</Code>") && body.contains("Request has expired"),
        "{body}"
    );

    // A new URL for the same document works; a forged one does not.
    let doc = document(&sim, &token, &doc_id, "").await;
    let fresh = doc["url"].as_str().unwrap();
    assert_eq!(fetch(fresh).await.status, 200);
    let forged = format!("{}0", fresh);
    assert_eq!(fetch(&forged).await.status, 403);
}

// ---------------------------------------------------------------------------
// getReports

#[tokio::test]
async fn get_reports_filters_and_pages() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let myi =
        json!({"reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [DE]});
    let health = json!({"reportType": "GET_V2_SELLER_PERFORMANCE_REPORT", "marketplaceIds": [DE]});
    let mut myi_ids = Vec::new();
    for _ in 0..5 {
        myi_ids.push(create_ok(&sim, &token, &myi).await);
        advance(&sim, "1s").await;
    }
    create_ok(&sim, &token, &health).await;

    let list = |q: String| {
        let sim = &sim;
        let token = &token;
        async move {
            let (status, headers, body) = sp_get(sim, token, &format!("{REPORTS}?{q}")).await;
            if status == 200 {
                assert_eq!(headers["x-amzn-ratelimit-limit"], "0.0222");
            }
            spec().assert_valid("getReports", status, &body);
            (status, body)
        }
    };
    // Page through one type: newest first, 2 per page.
    let (status, page) = list(format!(
        "reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA&pageSize=2&marketplaceIds={DE}"
    ))
    .await;
    assert_eq!(status, 200);
    let mut got: Vec<String> = Vec::new();
    let mut page = page;
    for _ in 0..5 {
        let reports = page["reports"].as_array().unwrap();
        assert!(!reports.is_empty());
        got.extend(
            reports
                .iter()
                .map(|r| r["reportId"].as_str().unwrap().to_owned()),
        );
        let Some(next) = page["nextToken"].as_str() else {
            break;
        };
        let (status, next_page) = list(format!("nextToken={next}")).await;
        assert_eq!(status, 200);
        page = next_page;
    }
    let mut newest_first = myi_ids.clone();
    newest_first.reverse();
    assert_eq!(got, newest_first);

    // A token with other parameters, no reportTypes, a bad page size, a bad status: 400.
    for q in [
        "nextToken=abc&pageSize=2".to_owned(),
        "pageSize=2".to_owned(),
        "reportTypes=GET_SELLER_FEEDBACK_DATA&pageSize=0".to_owned(),
        "reportTypes=GET_SELLER_FEEDBACK_DATA&processingStatuses=BAD_VALUE".to_owned(),
    ] {
        let (status, body) = list(q.clone()).await;
        assert_eq!(status, 400, "{q}: {body}");
    }

    // Status filter: finish everything, then only DONE reports of both types.
    advance(&sim, "60s").await;
    let (status, body) = list(
        "reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA,GET_V2_SELLER_PERFORMANCE_REPORT&processingStatuses=IN_QUEUE"
            .into(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["reports"].as_array().unwrap().is_empty());
    // The bucket (0.0222 rps, burst 10) is nearly drained: let it refill.
    advance(&sim, "5m").await;
    let mut done = Vec::new();
    for _ in 0..10 {
        let (status, body) = list(
            "reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA,GET_V2_SELLER_PERFORMANCE_REPORT&processingStatuses=DONE&pageSize=100"
                .into(),
        )
        .await;
        assert_eq!(status, 200);
        done = body["reports"].as_array().unwrap().clone();
        if done.len() == 6 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    assert_eq!(done.len(), 6, "{done:#?}");
    // createdSince excludes older reports.
    let since = (test_now() + Duration::seconds(3))
        .to_rfc3339()
        .replace('+', "%2B");
    let (status, body) = list(format!(
        "reportTypes=GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA&createdSince={since}"
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["reports"].as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------
// The model's sandbox examples

#[tokio::test]
async fn sandbox_examples_get_answers_that_validate() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let spec = spec();
    let mut checked = 0;
    for op in [
        "createReport",
        "getReports",
        "getReport",
        "cancelReport",
        "getReportDocument",
    ] {
        let documented: Vec<u16> = spec.operation(op).op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect();
        for case in spec.sandbox_cases(op) {
            let req = case.request(&spec);
            let url = format!("{}{}", sim.base_url(), req.path_and_query);
            let mut b = match req.method.as_str() {
                "GET" => http().get(&url),
                "POST" => http().post(&url),
                "DELETE" => http().delete(&url),
                m => panic!("{m}"),
            };
            b = b.header("x-amz-access-token", &token);
            if let Some(body) = &req.body {
                b = b.json(body);
            }
            let resp = b.send().await.unwrap();
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.unwrap();
            assert!(
                documented.contains(&status),
                "{op} {}: status {status} is not in the model",
                req.path_and_query
            );
            if case.status >= 400 || matches!(op, "createReport" | "getReports") {
                // The example's own outcome (the id-based 2xx examples name
                // reports that do not exist here, so they get an error).
                assert_eq!(status, case.status, "{op} {}", req.path_and_query);
            }
            if op == "cancelReport" && status == 200 {
                assert!(bytes.is_empty());
            } else {
                let body: Value = serde_json::from_slice(&bytes).unwrap();
                spec.assert_valid(op, status, &body);
                if status < 300 && op == "getReports" {
                    assert!(body["reports"].is_array());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} examples");
}

#[tokio::test]
async fn a_burst_past_create_reports_burst_is_throttled() {
    if common::amazon_models::missing() {
        return;
    }
    let sim = spawn(FaultSet::none()).await;
    let token = access_token(&sim, Api::Sp).await;
    let body =
        json!({"reportType": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "marketplaceIds": [DE]});
    for _ in 0..15 {
        create_ok(&sim, &token, &body).await;
    }
    let (status, resp) = create(&sim, &token, &body).await;
    assert_eq!(status, 429);
    assert_eq!(resp["errors"][0]["code"], "QuotaExceeded");
}
