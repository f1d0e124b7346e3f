//! The JSON report documents, each shaped by its schema in
//! `shared/amazon/sp-api/report-schemas/`:
//! - GET_SALES_AND_TRAFFIC_REPORT (`sellerSalesAndTrafficReport.json`);
//! - GET_V2_SELLER_PERFORMANCE_REPORT (`accountHealthReport-2020-11-18.json`),
//!   and, under the `realworld` fault, the shape real accounts return, which
//!   fails that schema (REFERENCE.md §0.5);
//! - GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT
//!   (`sellingPartnerSearchQueryPerformanceReport.json`).
//!
//! Each builder answers `Ok(Some((rows, document)))`, `Ok(None)` when there
//! is no data (the report is CANCELLED) or `Err(reason)` for a request the
//! type documents as a fatal error.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde_json::{json, Value};

use super::generate::Request;
use crate::world::{AsinTotals, DailyTotals, SearchQueryWeek, World};

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// `a / b` in percent, two decimals (0 when `b` is 0).
fn pct(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        round2(a / b * 100.0)
    }
}

/// `a / b` as a fraction, four decimals (0 when `b` is 0).
fn frac(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        round4(a / b)
    }
}

/// A money object; whole yen for JPY.
fn amount(x: f64, currency: &str) -> Value {
    let decimals = crate::world::currency_decimals(currency);
    let x = crate::world::round_money(x, decimals);
    json!({ "amount": crate::world::amount_json(x, decimals), "currencyCode": currency })
}

/// The Sunday starting `d`'s week.
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_sunday() as i64)
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

/// The last day of the month `months` after `d`'s month.
fn month_end(d: NaiveDate, months: u32) -> NaiveDate {
    let first = month_start(d);
    let next = first
        .checked_add_months(chrono::Months::new(months + 1))
        .expect("date in range");
    next - Duration::days(1)
}

// ---------------------------------------------------------------------------
// GET_SALES_AND_TRAFFIC_REPORT

#[derive(Default, Clone)]
struct Agg {
    browser_sessions: u64,
    mobile_sessions: u64,
    sessions: u64,
    browser_page_views: u64,
    mobile_page_views: u64,
    page_views: u64,
    buy_box_weighted: f64,
    units: u64,
    sales: f64,
    items: u64,
}

impl Agg {
    fn add(&mut self, t: &AsinTotals) {
        self.browser_sessions += t.browser_sessions;
        self.mobile_sessions += t.mobile_sessions;
        self.sessions += t.sessions;
        self.browser_page_views += t.browser_page_views;
        self.mobile_page_views += t.mobile_page_views;
        self.page_views += t.page_views;
        self.buy_box_weighted += t.buy_box_pct * t.page_views as f64;
        self.units += t.units_ordered;
        self.sales += t.ordered_product_sales;
        self.items += t.total_order_items;
    }
}

/// The sales & traffic document for `req`'s range (expanded to whole weeks
/// or months for those granularities, as the schema documents).
pub fn sales_and_traffic(
    world: &World,
    req: &Request,
    as_of: DateTime<Utc>,
) -> Result<Option<(u64, Value)>, String> {
    let date_g = req
        .options
        .get("dateGranularity")
        .map(String::as_str)
        .unwrap_or("DAY");
    let asin_g = req
        .options
        .get("asinGranularity")
        .map(String::as_str)
        .unwrap_or("PARENT");
    let (mut start, mut end) = (req.start_date(world), req.end_date(world));
    match date_g {
        "WEEK" => {
            start = week_start(start);
            end = week_start(end) + Duration::days(6);
        }
        "MONTH" => {
            start = month_start(start);
            end = month_end(end, 0);
        }
        _ => {}
    }
    // "If the start date of the report is more than two years ago, the
    // report will be cancelled."
    if end < start || start < world.day_of(as_of) - Duration::days(731) {
        return Ok(None);
    }
    let days = world.daily_totals(start, end, as_of);
    if days.is_empty() {
        return Ok(None);
    }
    let currency = world.scenario().seller.currency.clone();
    let parents = {
        let mut p: Vec<String> = world
            .products()
            .iter()
            .map(|p| p.parent_asin.clone().unwrap_or_else(|| p.asin.clone()))
            .collect();
        p.sort();
        p.dedup();
        p.len() as u64
    };

    // By date, at the granularity.
    let period_of = |d: NaiveDate| match date_g {
        "WEEK" => week_start(d),
        "MONTH" => month_start(d),
        _ => d,
    };
    let mut periods: Vec<(NaiveDate, Vec<&DailyTotals>)> = Vec::new();
    for d in &days {
        let p = period_of(d.date);
        match periods.last_mut() {
            Some((q, v)) if *q == p => v.push(d),
            _ => periods.push((p, vec![d])),
        }
    }
    let by_date: Vec<Value> = periods
        .iter()
        .map(|(date, ds)| {
            let sum = |f: fn(&DailyTotals) -> u64| ds.iter().map(|d| f(d)).sum::<u64>();
            let sales: f64 = ds.iter().map(|d| d.ordered_product_sales).sum();
            let shipped_sales: f64 = ds.iter().map(|d| d.shipped_product_sales).sum();
            let units = sum(|d| d.units_ordered);
            let items = sum(|d| d.total_order_items);
            let orders = sum(|d| d.orders);
            let refunded = sum(|d| d.units_refunded);
            let page_views = sum(|d| d.page_views);
            let sessions = sum(|d| d.sessions);
            let bb: f64 = ds.iter().map(|d| d.buy_box_pct * d.page_views as f64).sum();
            let offers: f64 =
                ds.iter().map(|d| d.average_offer_count).sum::<f64>() / ds.len() as f64;
            let negative = sum(|d| d.negative_feedback_received);
            json!({
                "date": date.to_string(),
                "salesByDate": {
                    "orderedProductSales": amount(sales, &currency),
                    "unitsOrdered": units,
                    "totalOrderItems": items,
                    "averageSalesPerOrderItem": amount(if items > 0 { sales / items as f64 } else { 0.0 }, &currency),
                    "averageUnitsPerOrderItem": if items > 0 { round2(units as f64 / items as f64) } else { 0.0 },
                    "averageSellingPrice": amount(if units > 0 { sales / units as f64 } else { 0.0 }, &currency),
                    "unitsRefunded": refunded,
                    "refundRate": pct(refunded as f64, units as f64),
                    "claimsGranted": 0,
                    "claimsAmount": amount(0.0, &currency),
                    "shippedProductSales": amount(shipped_sales, &currency),
                    "unitsShipped": sum(|d| d.units_shipped),
                    "ordersShipped": sum(|d| d.orders_shipped),
                },
                "trafficByDate": {
                    "browserPageViews": sum(|d| d.browser_page_views),
                    "mobileAppPageViews": sum(|d| d.mobile_page_views),
                    "pageViews": page_views,
                    "browserSessions": sum(|d| d.browser_sessions),
                    "mobileAppSessions": sum(|d| d.mobile_sessions),
                    "sessions": sessions,
                    "buyBoxPercentage": if page_views > 0 { round2(bb / page_views as f64) } else { 0.0 },
                    "orderItemSessionPercentage": pct(items as f64, sessions as f64),
                    "unitSessionPercentage": pct(units as f64, sessions as f64),
                    "averageOfferCount": offers.round() as u64,
                    "averageParentItems": parents,
                    "feedbackReceived": sum(|d| d.feedback_received),
                    "negativeFeedbackReceived": negative,
                    "receivedNegativeFeedbackRate": pct(negative as f64, orders as f64),
                },
            })
        })
        .collect();

    // By ASIN: totals over the whole range, zero-order ASINs omitted (the
    // world leaves them out of `asin_totals`).
    let all = Agg {
        browser_sessions: days.iter().map(|d| d.browser_sessions).sum(),
        mobile_sessions: days.iter().map(|d| d.mobile_sessions).sum(),
        sessions: days.iter().map(|d| d.sessions).sum(),
        browser_page_views: days.iter().map(|d| d.browser_page_views).sum(),
        mobile_page_views: days.iter().map(|d| d.mobile_page_views).sum(),
        page_views: days.iter().map(|d| d.page_views).sum(),
        ..Agg::default()
    };
    let mut keys: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let mut aggs: HashMap<(String, Option<String>, Option<String>), Agg> = HashMap::new();
    for t in world.asin_totals(start, end, as_of) {
        let key = match asin_g {
            "SKU" => (
                t.parent_asin.clone(),
                Some(t.asin.clone()),
                Some(t.sku.clone()),
            ),
            "CHILD" => (t.parent_asin.clone(), Some(t.asin.clone()), None),
            _ => (t.parent_asin.clone(), None, None),
        };
        if !aggs.contains_key(&key) {
            keys.push(key.clone());
        }
        aggs.entry(key).or_default().add(&t);
    }
    let by_asin: Vec<Value> = keys
        .iter()
        .map(|key| {
            let a = &aggs[key];
            let mut row = serde_json::Map::new();
            row.insert("parentAsin".into(), json!(key.0));
            if let Some(child) = &key.1 {
                row.insert("childAsin".into(), json!(child));
            }
            if let Some(sku) = &key.2 {
                row.insert("sku".into(), json!(sku));
            }
            row.insert(
                "salesByAsin".into(),
                json!({
                    "unitsOrdered": a.units,
                    "orderedProductSales": amount(a.sales, &currency),
                    "totalOrderItems": a.items,
                }),
            );
            row.insert(
                "trafficByAsin".into(),
                json!({
                    "browserSessions": a.browser_sessions,
                    "mobileAppSessions": a.mobile_sessions,
                    "sessions": a.sessions,
                    "browserSessionPercentage": pct(a.browser_sessions as f64, all.browser_sessions as f64),
                    "mobileAppSessionPercentage": pct(a.mobile_sessions as f64, all.mobile_sessions as f64),
                    "sessionPercentage": pct(a.sessions as f64, all.sessions as f64),
                    "browserPageViews": a.browser_page_views,
                    "mobileAppPageViews": a.mobile_page_views,
                    "pageViews": a.page_views,
                    "browserPageViewsPercentage": pct(a.browser_page_views as f64, all.browser_page_views as f64),
                    "mobileAppPageViewsPercentage": pct(a.mobile_page_views as f64, all.mobile_page_views as f64),
                    "pageViewsPercentage": pct(a.page_views as f64, all.page_views as f64),
                    "buyBoxPercentage": if a.page_views > 0 { round2(a.buy_box_weighted / a.page_views as f64) } else { 0.0 },
                    "unitSessionPercentage": pct(a.units as f64, a.sessions as f64),
                }),
            );
            Value::Object(row)
        })
        .collect();

    let rows = (by_date.len() + by_asin.len()) as u64;
    let doc = json!({
        "reportSpecification": {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "reportOptions": {
                "dateGranularity": date_g,
                "asinGranularity": asin_g,
            },
            "dataStartTime": start.to_string(),
            "dataEndTime": end.to_string(),
            "marketplaceIds": req.marketplace_ids,
        },
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": by_asin,
    });
    Ok(Some((rows, doc)))
}

// ---------------------------------------------------------------------------
// GET_V2_SELLER_PERFORMANCE_REPORT

fn range(from: NaiveDate, to: NaiveDate) -> Value {
    json!({
        "reportingDateFrom": format!("{from}T00:00Z"),
        "reportingDateTo": format!("{to}T23:59Z"),
    })
}

fn status_below(rate: f64, target: f64) -> &'static str {
    if rate < target {
        "GOOD"
    } else {
        "BAD"
    }
}

fn status_above(rate: f64, target: f64) -> &'static str {
    if rate > target {
        "GOOD"
    } else {
        "BAD"
    }
}

fn violation(count: u32, from: NaiveDate, to: NaiveDate) -> Value {
    json!({
        "reportingDateRange": range(from, to),
        "defectsCount": count,
        "status": if count == 0 { "GOOD" } else { "BAD" },
        "targetValue": 0,
        "targetCondition": "EQUALS",
    })
}

/// The account health document as of `as_of`; `realworld` gives the shape
/// real accounts return (see the module docs).
pub fn seller_performance(world: &World, as_of: DateTime<Utc>, realworld: bool) -> (u64, Value) {
    let h = world.account_health(as_of);
    let mkt = h.marketplace_id.clone();
    let (odr_from, odr_to) = h.odr_window;
    // Split the ODR orders by channel (the world counts them together).
    let (mut afn, mut mfn) = (0u64, 0u64);
    for o in world.orders_purchased(
        world.day_start(odr_from),
        world.day_start(odr_to + Duration::days(1)),
        as_of,
    ) {
        if o.status == crate::world::OrderStatus::Canceled {
            continue;
        }
        if o.fulfillment_channel == "AFN" {
            afn += 1;
        } else {
            mfn += 1;
        }
    }
    let total = (afn + mfn).max(1) as f64;
    let share = |x: u64, n: u64| ((x as f64) * n as f64 / total).round() as u64;
    // AFN gets its share of each count and MFN the rest, so the two blocks
    // add up to the account's counts (rounding each share on its own made
    // a small seller's ODR read 0.306% against the world's 0.31%).
    let afn_part = |x: u64| share(x, afn).min(x);
    let odr_block = |kind: &str, orders: u64| {
        let part = |x: u64| {
            if kind == "afn" {
                afn_part(x)
            } else {
                x - afn_part(x)
            }
        };
        let defects = part(h.odr_defects).min(orders);
        let negative = part(h.odr_negative_feedback).min(defects);
        let claims = part(h.odr_claims).min(defects - negative);
        let chargebacks = part(h.odr_chargebacks).min(defects - negative - claims);
        let rate = frac(defects as f64, orders as f64);
        json!({
            "reportingDateRange": range(odr_from, odr_to),
            "orderCount": orders,
            "orderWithDefects": { "count": defects, "status": status_below(rate, 0.01) },
            "claims": { "count": claims, "status": "NONE" },
            "chargebacks": { "count": chargebacks, "status": "NONE" },
            "negativeFeedback": { "count": negative, "status": "NONE" },
            // Required by the schema, though not declared there.
            "fulfillmentType": kind,
            "status": status_below(rate, 0.01),
            "rate": rate,
            "targetValue": 0.01,
            "targetCondition": "LESS_THAN",
        })
    };
    let (lf, lt) = h.late_shipment_window;
    let (cf, ct) = h.cancel_window;
    let (tf, tt) = h.tracking_window;
    let ahr_from = as_of.date_naive() - Duration::days(180);
    let ahr_to = as_of.date_naive() - Duration::days(1);
    let ahr = if matches!(h.health_rating.as_str(), "GREAT" | "GOOD") {
        "GREAT"
    } else {
        "WARNED"
    };
    let on_time = ((h.valid_tracking as f64) * 0.97).round() as u64;
    let on_time_rate = frac(on_time as f64, h.valid_tracking as f64);
    let mut metrics = json!({
        "marketplaceId": mkt,
        "invoiceDefectRate": {
            "reportingDateRange": range(cf, ct),
            "orderCount": h.cancel_orders,
            "invoiceDefect": { "count": 0, "status": "GOOD" },
            "missingInvoice": { "count": 0, "status": "NONE" },
            "lateInvoice": { "count": 0, "status": "NONE" },
            "status": "GOOD",
            "rate": 0.0,
            "targetValue": 0.05,
            "targetCondition": "LESS_THAN",
        },
        "lateShipmentRate": {
            "reportingDateRange": range(lf, lt),
            "orderCount": h.late_shipment_orders,
            "lateShipmentCount": h.late_shipments,
            "status": status_below(h.late_shipment_rate, 0.04),
            "rate": h.late_shipment_rate,
            "targetValue": 0.04,
            "targetCondition": "LESS_THAN",
        },
        "orderDefectRate": { "mfn": odr_block("mfn", mfn), "afn": odr_block("afn", afn) },
        "onTimeDeliveryRate": {
            "reportingDateRange": range(tf, tt),
            "shipmentCountWithValidTracking": h.valid_tracking,
            "onTimeDeliveryCount": on_time,
            "status": status_above(on_time_rate, 0.9),
            "rate": on_time_rate,
            "targetValue": 0.9,
            "targetCondition": "GREATER_THAN",
        },
        "unitOnTimeDeliveryRate": {
            "reportingDateRange": range(tf, tt),
            "status": status_above(on_time_rate, 0.9),
            "targetValue": 0.9,
            "targetCondition": "GREATER_THAN",
            "unitOnTimeDeliveryCount": on_time,
            "totalUnitCount": h.valid_tracking,
            "rate": on_time_rate,
        },
        "validTrackingRate": {
            "reportingDateRange": range(tf, tt),
            "shipmentCount": h.tracking_shipments,
            "validTrackingCount": h.valid_tracking,
            "status": status_above(h.valid_tracking_rate, 0.95),
            "rate": h.valid_tracking_rate,
            "targetValue": 0.95,
            "targetCondition": "GREATER_THAN",
        },
        "preFulfillmentCancellationRate": {
            "reportingDateRange": range(cf, ct),
            "orderCount": h.cancel_orders,
            "cancellationCount": h.cancellations,
            "status": status_below(h.cancel_rate, 0.025),
            "rate": h.cancel_rate,
            "targetValue": 0.025,
            "targetCondition": "LESS_THAN",
        },
        "warningStates": [],
        // The schema requires `ahrStatus` but declares only
        // `accountHealthRatingStatus`; both are sent.
        "accountHealthRating": {
            "ahrStatus": ahr,
            "accountHealthRatingStatus": ahr,
            "reportingDateRange": range(ahr_from, ahr_to),
        },
        "listingPolicyViolations": violation(h.listing_policy_violations, ahr_from, ahr_to),
        "productAuthenticityCustomerComplaints": violation(h.product_authenticity_complaints, ahr_from, ahr_to),
        "productConditionCustomerComplaints": violation(0, ahr_from, ahr_to),
        "productSafetyCustomerComplaints": violation(h.product_safety_complaints, ahr_from, ahr_to),
        "receivedIntellectualPropertyComplaints": violation(h.intellectual_property_complaints, ahr_from, ahr_to),
        "restrictedProductPolicyViolations": violation(0, ahr_from, ahr_to),
        "suspectedIntellectualPropertyViolations": violation(0, ahr_from, ahr_to),
        "foodAndProductSafetyIssues": violation(0, ahr_from, ahr_to),
        "otherPolicyViolations": violation(h.other_policy_violations, ahr_from, ahr_to),
        "documentRequests": violation(0, ahr_from, ahr_to),
    });
    let mut statuses = vec![json!({ "marketplaceId": mkt, "status": h.status })];
    if realworld {
        // What real accounts send (Amazon's own example has it too): every
        // marketplace of the region with `SUSPENDED` among the statuses,
        // renamed blocks, and five required blocks missing or renamed.
        if h.status == "DEACTIVATED" {
            statuses[0]["status"] = json!("SUSPENDED");
        }
        let region = crate::marketplaces::by_id(&mkt)
            .map(|m| m.region)
            .unwrap_or("na");
        let mut suspended_one = false;
        for m in crate::marketplaces::MARKETPLACES
            .iter()
            .filter(|m| m.region == region && m.id != mkt)
        {
            let status = if suspended_one { "NORMAL" } else { "SUSPENDED" };
            suspended_one = true;
            statuses.push(json!({ "marketplaceId": m.id, "status": status }));
        }
        if !suspended_one {
            statuses[0]["status"] = json!("SUSPENDED");
        }
        let m = metrics.as_object_mut().expect("object");
        for gone in [
            "restrictedProductPolicyViolations",
            "suspectedIntellectualPropertyViolations",
        ] {
            m.remove(gone);
        }
        for (old, new) in [
            ("preFulfillmentCancellationRate", "prefulfillmentCancelRate"),
            ("warningStates", "warningState"),
            ("documentRequests", "documentRequest"),
        ] {
            if let Some(v) = m.remove(old) {
                m.insert(new.into(), v);
            }
        }
        if let Some(r) = m.get_mut("accountHealthRating") {
            r.as_object_mut()
                .expect("object")
                .remove("accountHealthRatingStatus");
            r["reportingDateRange"]["dateOffset"] = json!({ "duration": 181, "offset": 0 });
        }
    }
    (
        1,
        json!({ "accountStatuses": statuses, "performanceMetrics": [metrics] }),
    )
}

// ---------------------------------------------------------------------------
// GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT

#[derive(Default)]
struct QueryAgg {
    volume: u64,
    total_imp: u64,
    asin_imp: u64,
    total_clicks: u64,
    asin_clicks: u64,
    total_carts: u64,
    asin_carts: u64,
    total_purchases: u64,
    asin_purchases: u64,
    last: Option<SearchQueryWeek>,
}

/// Whether `start..=end` is exactly one period; `Err` is the FATAL reason.
pub fn check_sqp_period(period: &str, start: NaiveDate, end: NaiveDate) -> Result<(), String> {
    let ok = match period {
        "WEEK" => start.weekday() == Weekday::Sun && end == start + Duration::days(6),
        "MONTH" => start.day() == 1 && end == month_end(start, 0),
        "QUARTER" => {
            start.day() == 1 && [1, 4, 7, 10].contains(&start.month()) && end == month_end(start, 2)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "dataStartTime and dataEndTime must be the first and last day of one {period} \
             reportPeriod (weeks run Sunday to Saturday); requests cannot span multiple periods."
        ))
    }
}

/// The SQP document: one row per (ASIN, search query) for the period.
/// MONTH and QUARTER add up the world's weekly data of the weeks starting in
/// the period.
pub fn search_query_performance(
    world: &World,
    req: &Request,
    as_of: DateTime<Utc>,
) -> Result<Option<(u64, Value)>, String> {
    let period = req.options.get("reportPeriod").cloned().unwrap_or_default();
    let (start, end) = (req.start_date(world), req.end_date(world));
    check_sqp_period(&period, start, end)?;
    let asins_opt = req.options.get("asin").cloned().unwrap_or_default();
    let currency = world.scenario().seller.currency.clone();
    let mut weeks = Vec::new();
    let mut w = week_start(start);
    if w < start {
        w += Duration::days(7);
    }
    while w <= end {
        weeks.push(w);
        w += Duration::days(7);
    }
    let mut rows = Vec::new();
    for asin in asins_opt.split_whitespace() {
        let mut per_query: BTreeMap<String, QueryAgg> = BTreeMap::new();
        for &w in &weeks {
            for q in world.search_query_week(asin, w, as_of) {
                let a = per_query.entry(q.search_query.clone()).or_default();
                a.volume += q.search_query_volume;
                a.total_imp += q.total_query_impression_count;
                a.asin_imp += q.asin_impression_count;
                a.total_clicks += q.total_click_count;
                a.asin_clicks += q.asin_click_count;
                a.total_carts += q.total_cart_add_count;
                a.asin_carts += q.asin_cart_add_count;
                a.total_purchases += q.total_purchase_count;
                a.asin_purchases += q.asin_purchase_count;
                a.last = Some(q);
            }
        }
        let mut queries: Vec<(String, QueryAgg)> = per_query.into_iter().collect();
        queries.sort_by(|a, b| b.1.volume.cmp(&a.1.volume).then(a.0.cmp(&b.0)));
        for (i, (query, a)) in queries.into_iter().enumerate() {
            let last = a.last.as_ref().expect("at least one week");
            let split = |n: u64, f: f64| (n as f64 * f).round() as u64;
            let vol = a.volume as f64;
            rows.push(json!({
                "startDate": start.to_string(),
                "endDate": end.to_string(),
                "asin": asin,
                "searchQueryData": {
                    "searchQuery": query,
                    "searchQueryScore": i + 1,
                    "searchQueryVolume": a.volume,
                },
                "impressionData": {
                    "totalQueryImpressionCount": a.total_imp,
                    "asinImpressionCount": a.asin_imp,
                    "asinImpressionShare": frac(a.asin_imp as f64, a.total_imp as f64),
                },
                "clickData": {
                    "totalClickCount": a.total_clicks,
                    "totalClickRate": frac(a.total_clicks as f64, vol),
                    "asinClickCount": a.asin_clicks,
                    "asinClickShare": frac(a.asin_clicks as f64, a.total_clicks as f64),
                    "totalMedianClickPrice": amount(last.total_median_click_price, &currency),
                    "asinMedianClickPrice": amount(last.asin_median_click_price, &currency),
                    "totalSameDayShippingClickCount": split(a.total_clicks, 0.1),
                    "totalOneDayShippingClickCount": split(a.total_clicks, 0.35),
                    "totalTwoDayShippingClickCount": split(a.total_clicks, 0.4),
                },
                "cartAddData": {
                    "totalCartAddCount": a.total_carts,
                    "totalCartAddRate": frac(a.total_carts as f64, vol),
                    "asinCartAddCount": a.asin_carts,
                    "asinCartAddShare": frac(a.asin_carts as f64, a.total_carts as f64),
                    "totalMedianCartAddPrice": amount(last.total_median_click_price, &currency),
                    "asinMedianCartAddPrice": amount(last.asin_median_click_price, &currency),
                    "totalSameDayShippingCartAddCount": split(a.total_carts, 0.1),
                    "totalOneDayShippingCartAddCount": split(a.total_carts, 0.35),
                    "totalTwoDayShippingCartAddCount": split(a.total_carts, 0.4),
                },
                "purchaseData": {
                    "totalPurchaseCount": a.total_purchases,
                    "totalPurchaseRate": frac(a.total_purchases as f64, vol),
                    "asinPurchaseCount": a.asin_purchases,
                    "asinPurchaseShare": frac(a.asin_purchases as f64, a.total_purchases as f64),
                    "totalMedianPurchasePrice": amount(last.total_median_purchase_price, &currency),
                    "asinMedianPurchasePrice": amount(last.asin_median_purchase_price, &currency),
                    "totalSameDayShippingPurchaseCount": split(a.total_purchases, 0.1),
                    "totalOneDayShippingPurchaseCount": split(a.total_purchases, 0.35),
                    "totalTwoDayShippingPurchaseCount": split(a.total_purchases, 0.4),
                },
            }));
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let n = rows.len() as u64;
    Ok(Some((
        n,
        json!({
            "reportSpecification": {
                "reportType": "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
                "reportOptions": { "reportPeriod": period, "asin": asins_opt },
                "dataStartTime": start.to_string(),
                "dataEndTime": end.to_string(),
                "marketplaceIds": req.marketplace_ids,
            },
            "dataByAsin": rows,
        }),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn sqp_periods() {
        assert!(check_sqp_period("WEEK", d("2025-01-05"), d("2025-01-11")).is_ok());
        assert!(check_sqp_period("WEEK", d("2025-01-05"), d("2025-01-18")).is_err());
        assert!(check_sqp_period("WEEK", d("2025-01-06"), d("2025-01-12")).is_err());
        assert!(check_sqp_period("MONTH", d("2025-02-01"), d("2025-02-28")).is_ok());
        assert!(check_sqp_period("MONTH", d("2025-02-01"), d("2025-03-31")).is_err());
        assert!(check_sqp_period("QUARTER", d("2025-04-01"), d("2025-06-30")).is_ok());
        assert!(check_sqp_period("QUARTER", d("2025-05-01"), d("2025-07-31")).is_err());
    }

    #[test]
    fn week_and_month_bounds() {
        assert_eq!(week_start(d("2026-03-04")), d("2026-03-01"));
        assert_eq!(month_end(d("2024-02-10"), 0), d("2024-02-29"));
        assert_eq!(month_end(d("2025-11-10"), 2), d("2026-01-31"));
    }
}
