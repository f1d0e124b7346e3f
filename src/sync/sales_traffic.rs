//! Job `sales_traffic`: GET_SALES_AND_TRAFFIC_REPORT (JSON,
//! `sellerSalesAndTrafficReport.json`; Brand Analytics role).
//!
//! Per-ASIN rows carry no date, so each rule window is its own report
//! (`asinGranularity=CHILD`): last and prior 7, 14 and 30 days, ending the
//! day before today in the marketplace's zone (DESIGN §2.1). An ASIN with
//! no orders in a window is absent from it; the window itself is recorded
//! in `sales_traffic_windows`, so "absent" (sessions unknown) is told apart
//! from "never fetched". One more report with `dateGranularity=DAY` gives
//! the account's daily series.
//!
//! Amazon fills recent days late: the last `sync.sales_traffic_reread_days`
//! complete days are read again every run (the daily report starts there,
//! and windows ending in them are requested again). A window already stored
//! that ends before them is never requested again.
//!
//! All reports are queued first (`report::queue`), then collected one by
//! one; each report's rows, the cursor and the consumed report id are
//! written in one transaction (`report::step`).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};

use super::report::{self, Label, Report, ReportRequest, Tally};
use super::report_util::{self as ru, jdate, jint, jnum, jstr};
use super::{Ctx, JobError, JobName, JobReport};
use crate::model::marketplace::Marketplace;
use crate::store::jobs;
use crate::store::seller_reports::{self as store, Absent, AsinWindowRow, DailyRow};

pub const REPORT_TYPE: &str = "GET_SALES_AND_TRAFFIC_REPORT";
const JOB: JobName = JobName::SalesTraffic;
/// Window lengths of the rules (DESIGN §2.2: conversion 14, traffic 7,
/// growth stall 30), each as "last" and "prior".
pub const WINDOW_DAYS: [i64; 3] = [7, 14, 30];
/// How far back the first run reads the daily series (growth_stall's prior
/// 30 days plus a margin).
const DAILY_HISTORY_DAYS: i64 = 90;

/// A parsed sales & traffic document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SalesTraffic {
    /// `reportSpecification`: its dates are the window of the per-ASIN rows.
    pub spec: Spec,
    pub days: Vec<DailyRow>,
    /// Child ASINs (rows of one child, e.g. per SKU, added up).
    pub asins: Vec<AsinWindowRow>,
    /// By-ASIN rows without a `childAsin` (PARENT granularity): skipped.
    pub skipped_parent_rows: usize,
}

/// A document's `reportSpecification`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spec {
    pub report_type: Option<String>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub marketplace_ids: Vec<String>,
    pub asin_granularity: Option<String>,
    /// `reportOptions.dateGranularity` (DAY when absent, Amazon's default).
    pub date_granularity: Option<String>,
}

impl Spec {
    fn of(v: &Value) -> Spec {
        Spec {
            report_type: jstr(v, &["reportType"]),
            start: jdate(v, &["dataStartTime"]),
            end: jdate(v, &["dataEndTime"]),
            marketplace_ids: ru::jstrs(v, &["marketplaceIds"]),
            asin_granularity: jstr(v, &["reportOptions", "asinGranularity"]),
            date_granularity: jstr(v, &["reportOptions", "dateGranularity"]),
        }
    }

    /// Whether the rows by date are days. WEEK and MONTH documents list a
    /// week's or a month's figures under one `date`: stored as that day
    /// they would read as one day's (a week's sessions as a day's).
    ///
    /// And whether its window is one: a `dataStartTime` after its
    /// `dataEndTime` names no days, and its per-ASIN rows no window.
    pub fn check(&self) -> Result<(), String> {
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if start > end {
                return Err(format!(
                    "reportSpecification dataStartTime {start} is after its dataEndTime {end}"
                ));
            }
        }
        ru::DAYS.check(self.date_granularity.as_deref())
    }
}

/// A piece of a sales & traffic document, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Spec(Spec),
    Day(DailyRow),
    /// A by-ASIN row (one per SKU at SKU granularity: see [`ByChild`]).
    Asin(AsinWindowRow),
    /// A by-ASIN row without a `childAsin` (PARENT granularity).
    ParentRow,
}

/// The document as [`ru::read_parts`] reads it, a [`part`] at a time.
pub const DOCUMENT: ru::JsonDoc = ru::JsonDoc {
    what: "sales & traffic document",
    arrays: &["salesAndTrafficByDate", "salesAndTrafficByAsin"],
    members: &["reportSpecification"],
};

/// A piece of the document as a [`Part`], leniently: a missing block or
/// field is `None`, a day without a date is skipped.
pub fn part(piece: ru::JsonPart<'_>) -> Option<Part> {
    match piece {
        ru::JsonPart::Member(_, spec) => Some(Part::Spec(Spec::of(&spec))),
        ru::JsonPart::Element("salesAndTrafficByDate", d) => day(&d).map(Part::Day),
        ru::JsonPart::Element(_, a) => Some(asin(&a).map_or(Part::ParentRow, Part::Asin)),
    }
}

fn day(d: &Value) -> Option<DailyRow> {
    let date = jdate(d, &["date"])?;
    let s = &d["salesByDate"];
    let t = &d["trafficByDate"];
    Some(DailyRow {
        date,
        sessions: jint(t, &["sessions"]),
        page_views: jint(t, &["pageViews"]),
        buy_box_pct: jnum(t, &["buyBoxPercentage"]),
        unit_session_pct: jnum(t, &["unitSessionPercentage"]),
        order_item_session_pct: jnum(t, &["orderItemSessionPercentage"]),
        units_ordered: jint(s, &["unitsOrdered"]),
        total_order_items: jint(s, &["totalOrderItems"]),
        ordered_product_sales: jnum(s, &["orderedProductSales"]),
        units_shipped: jint(s, &["unitsShipped"]),
        orders_shipped: jint(s, &["ordersShipped"]),
        shipped_product_sales: jnum(s, &["shippedProductSales"]),
        units_refunded: jint(s, &["unitsRefunded"]),
        refund_rate: jnum(s, &["refundRate"]),
        claims_granted: jint(s, &["claimsGranted"]),
        claims_amount: jnum(s, &["claimsAmount"]),
        feedback_received: jint(t, &["feedbackReceived"]),
        negative_feedback_received: jint(t, &["negativeFeedbackReceived"]),
        received_negative_feedback_rate: jnum(t, &["receivedNegativeFeedbackRate"]),
        currency: jstr(s, &["orderedProductSales", "currencyCode"]),
    })
}

/// A by-ASIN row; `None` without a `childAsin`.
fn asin(a: &Value) -> Option<AsinWindowRow> {
    let child = jstr(a, &["childAsin"])?;
    let s = &a["salesByAsin"];
    let t = &a["trafficByAsin"];
    Some(AsinWindowRow {
        asin: child,
        parent_asin: jstr(a, &["parentAsin"]),
        sessions: jint(t, &["sessions"]),
        page_views: jint(t, &["pageViews"]),
        buy_box_pct: jnum(t, &["buyBoxPercentage"]),
        unit_session_pct: jnum(t, &["unitSessionPercentage"]),
        units_ordered: jint(s, &["unitsOrdered"]),
        total_order_items: jint(s, &["totalOrderItems"]),
        ordered_product_sales: jnum(s, &["orderedProductSales"]),
        currency: jstr(s, &["orderedProductSales", "currencyCode"]),
    })
}

/// By-ASIN rows added up per child ASIN: SKU granularity lists a child
/// once per SKU. Holds one row per child (a window's ASINs with orders).
#[derive(Debug, Default)]
pub struct ByChild(BTreeMap<String, (AsinWindowRow, f64)>);

impl ByChild {
    pub fn add(&mut self, row: AsinWindowRow) {
        let weight = row.buy_box_pct.unwrap_or(0.0) * row.page_views.unwrap_or(0) as f64;
        match self.0.get_mut(&row.asin) {
            None => {
                self.0.insert(row.asin.clone(), (row, weight));
            }
            // Buy box weighted by page views and unit session % from the sums.
            Some((acc, w)) => {
                // Saturating: a count too big for i64 arrives as i64::MAX.
                let add = |a: Option<i64>, b: Option<i64>| match (a, b) {
                    (None, None) => None,
                    (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
                };
                acc.sessions = add(acc.sessions, row.sessions);
                acc.page_views = add(acc.page_views, row.page_views);
                acc.units_ordered = add(acc.units_ordered, row.units_ordered);
                acc.total_order_items = add(acc.total_order_items, row.total_order_items);
                // A sum too big for f64 is unknown, not infinite (found by
                // fuzzing: fuzz/regressions/sales_traffic/
                // sku_rows_sales_sum_infinite.json).
                acc.ordered_product_sales =
                    match (acc.ordered_product_sales, row.ordered_product_sales) {
                        (None, None) => None,
                        (a, b) => {
                            Some(((a.unwrap_or(0.0) + b.unwrap_or(0.0)) * 100.0).round() / 100.0)
                        }
                    }
                    .filter(|v| v.is_finite());
                *w += weight;
                let pv = acc.page_views.unwrap_or(0);
                acc.buy_box_pct = (pv > 0)
                    .then(|| (*w / pv as f64 * 100.0).round() / 100.0)
                    .filter(|v| v.is_finite());
                acc.unit_session_pct = match (acc.units_ordered, acc.sessions) {
                    (Some(u), Some(s)) if s > 0 => {
                        Some((u as f64 / s as f64 * 10_000.0).round() / 100.0)
                    }
                    _ => acc.unit_session_pct,
                };
            }
        }
    }

    /// One row per child ASIN, in ASIN order.
    pub fn finish(self) -> Vec<AsinWindowRow> {
        self.0.into_values().map(|(r, _)| r).collect()
    }
}

/// Parses a whole document (see [`part`]).
pub fn parse(text: &str) -> Result<SalesTraffic, String> {
    parse_from(text.as_bytes(), encoding_rs::UTF_8)
}

/// [`parse`] from a stream in `encoding`: the days and the per-child rows
/// are collected (a window's ASINs, a range's days).
pub fn parse_from(
    input: impl std::io::BufRead,
    encoding: &'static encoding_rs::Encoding,
) -> Result<SalesTraffic, String> {
    let mut out = SalesTraffic::default();
    let mut by_child = ByChild::default();
    let res = ru::read_parts(input, encoding, &DOCUMENT, part, |part| {
        match part {
            Part::Spec(s) => out.spec = s,
            Part::Day(d) => out.days.push(d),
            Part::Asin(a) => by_child.add(a),
            Part::ParentRow => out.skipped_parent_rows += 1,
        }
        Ok::<_, std::convert::Infallible>(())
    });
    match res {
        Ok(()) => {}
        Err(ru::JsonError::Parse(e)) => return Err(e),
        Err(ru::JsonError::Stop(never)) => match never {},
    }
    out.asins = by_child.finish();
    Ok(out)
}

/// A window of complete days, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// The rule windows as of `today` (a marketplace day): for each length N,
/// the last N complete days and the N days before them.
pub fn rule_windows(today: NaiveDate) -> Vec<Window> {
    let mut out = Vec::new();
    for n in WINDOW_DAYS {
        let end = today - Duration::days(1);
        let last = Window {
            start: end - Duration::days(n - 1),
            end,
        };
        let prior = Window {
            start: last.start - Duration::days(n),
            end: last.start - Duration::days(1),
        };
        out.push(last);
        out.push(prior);
    }
    out
}

/// The windows this run requests: every rule window not stored yet, and
/// those ending within the re-read days.
pub fn windows_to_fetch(
    today: NaiveDate,
    reread_days: u32,
    stored: &std::collections::HashSet<(String, String)>,
) -> Vec<Window> {
    let reread_from = today - Duration::days(reread_days as i64);
    rule_windows(today)
        .into_iter()
        .filter(|w| {
            w.end >= reread_from || !stored.contains(&(w.start.to_string(), w.end.to_string()))
        })
        .collect()
}

/// The daily series' range this run: from the day after the cursor (or the
/// history start), but never later than the first re-read day.
pub fn daily_range(
    today: NaiveDate,
    reread_days: u32,
    through: Option<NaiveDate>,
) -> Option<Window> {
    let end = today - Duration::days(1);
    let reread_from = today - Duration::days(reread_days.max(1) as i64);
    let start = match through {
        Some(t) => (t + Duration::days(1)).min(reread_from),
        None => today - Duration::days(DAILY_HISTORY_DAYS),
    };
    (start <= end).then_some(Window { start, end })
}

fn window_request(m: &Marketplace, w: Window, daily: bool) -> ReportRequest {
    let req = ru::request(REPORT_TYPE, m)
        .range(ru::date_param(w.start), ru::date_param(w.end))
        .option("dateGranularity", "DAY");
    if daily {
        req
    } else {
        req.option("asinGranularity", "CHILD")
    }
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        run_marketplace(ctx, m, &mut tally).await?;
    }
    tally.finish()
}

async fn run_marketplace(
    ctx: &Ctx<'_>,
    m: &'static Marketplace,
    tally: &mut Tally,
) -> Result<(), JobError> {
    let account = ctx.account.name.as_str();
    let today = ru::day_of(m, ctx.now);
    let reread = ctx.cfg.sync.sales_traffic_reread_days;
    let stored = ctx.with_db(|c| store::stored_windows(c, account, m.id))?;
    let cursor = ctx.with_db(|c| jobs::cursor(c, JOB.as_str(), account, m.id))?;
    let through = cursor
        .as_ref()
        .and_then(|c| c.get("daily_through"))
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<NaiveDate>().ok());

    // (window, is the daily report)
    let mut wanted: Vec<(Window, bool)> = windows_to_fetch(today, reread, &stored)
        .into_iter()
        .map(|w| (w, false))
        .collect();
    // Every report carries the days of its range: when a window this run
    // requests anyway covers the days due, it serves as the daily report.
    if let Some(d) = daily_range(today, reread, through) {
        if !wanted
            .iter()
            .any(|(w, _)| w.start <= d.start && w.end >= d.end)
        {
            wanted.insert(0, (d, true));
        }
    }
    // Reports of windows no longer wanted (the day moved on) are forgotten.
    let planned: Vec<ReportRequest> = wanted
        .iter()
        .map(|(w, daily)| window_request(m, *w, *daily))
        .collect();
    report::retain(ctx, JOB, REPORT_TYPE, m.id, &planned)?;
    // Put them all in Amazon's queue first, so they are processed side by side.
    report::queue(ctx, JOB, &planned).await?;
    let scope = ru::scope(ctx, m);
    for ((w, daily), req) in wanted.into_iter().zip(&planned) {
        let what = if daily {
            format!("daily {}..{}", w.start, w.end)
        } else {
            format!("window {}..{}", w.start, w.end)
        };
        // No data (CANCELLED): an empty window (no ASIN had orders) is
        // still a complete answer, and the daily range simply had no days.
        let step = report::step(
            ctx,
            &Report::new(JOB, req, m.id),
            |d| {
                let doc = d.stream(|input| parse_from(input, d.encoding()))?;
                doc.spec.check().map(|()| doc)
            },
            |tx, cursor, doc: SalesTraffic| {
                let mut n = store::write_daily(tx, &scope, &doc.days)?;
                if !daily {
                    // Amazon's newest answer for the window replaces the last.
                    n += store::write_window(
                        tx,
                        &scope,
                        w.start,
                        w.end,
                        &doc.asins,
                        Absent::Remove,
                    )?
                    .written;
                }
                let old = cursor
                    .get("daily_through")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse::<NaiveDate>().ok());
                // The cursor moves only over days with no gap before them.
                let contiguous = match old {
                    Some(o) => w.start <= o + Duration::days(1) && o < w.end,
                    None => daily,
                };
                if contiguous {
                    cursor["daily_through"] = json!(w.end.to_string());
                }
                Ok(n)
            },
        )
        .await?;
        if let Some(n) = tally.take(Label::report(&what), step)? {
            tally.rows += n;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::date as d;

    #[test]
    fn rule_windows_end_yesterday() {
        let w = rule_windows(d("2026-03-02"));
        let got: Vec<(String, String)> = w
            .iter()
            .map(|w| (w.start.to_string(), w.end.to_string()))
            .collect();
        let want = [
            ("2026-02-23", "2026-03-01"),
            ("2026-02-16", "2026-02-22"),
            ("2026-02-16", "2026-03-01"),
            ("2026-02-02", "2026-02-15"),
            ("2026-01-31", "2026-03-01"),
            ("2026-01-01", "2026-01-30"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn stored_windows_are_not_requested_again_unless_recent() {
        let today = d("2026-03-02");
        let all: std::collections::HashSet<(String, String)> = rule_windows(today)
            .iter()
            .map(|w| (w.start.to_string(), w.end.to_string()))
            .collect();
        // Everything stored: only the windows ending in the re-read days.
        let again = windows_to_fetch(today, 3, &all);
        assert_eq!(again.len(), 3);
        assert!(again.iter().all(|w| w.end == d("2026-03-01")));
        // Re-read 0 days: nothing.
        assert!(windows_to_fetch(today, 0, &all).is_empty());
        // Nothing stored: all six.
        assert_eq!(windows_to_fetch(today, 3, &Default::default()).len(), 6);
        // A re-read of 8 days reaches the prior 7-day window too.
        assert_eq!(windows_to_fetch(today, 8, &all).len(), 4);
    }

    #[test]
    fn daily_range_rereads_recent_days() {
        let today = d("2026-03-02");
        let first = daily_range(today, 3, None).unwrap();
        assert_eq!((first.start, first.end), (d("2025-12-02"), d("2026-03-01")));
        let again = daily_range(today, 3, Some(d("2026-03-01"))).unwrap();
        assert_eq!((again.start, again.end), (d("2026-02-27"), d("2026-03-01")));
        let gap = daily_range(today, 3, Some(d("2026-02-10"))).unwrap();
        assert_eq!(gap.start, d("2026-02-11"));
    }

    const DOC: &str = r#"{
      "reportSpecification": {"reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
        "dataStartTime": "2026-02-23", "dataEndTime": "2026-03-01", "marketplaceIds": ["ATVPDKIKX0DER"]},
      "salesAndTrafficByDate": [
        {"date": "2026-02-23",
         "salesByDate": {"orderedProductSales": {"amount": 120.5, "currencyCode": "USD"}, "unitsOrdered": 5,
                         "totalOrderItems": 4, "unitsShipped": 3, "ordersShipped": 3, "unitsRefunded": 1,
                         "refundRate": 20.0, "claimsGranted": 0, "claimsAmount": {"amount": 0, "currencyCode": "USD"},
                         "shippedProductSales": {"amount": 70.0, "currencyCode": "USD"}},
         "trafficByDate": {"pageViews": 300, "sessions": 200, "buyBoxPercentage": 95.5,
                           "unitSessionPercentage": 2.5, "orderItemSessionPercentage": 2.0,
                           "feedbackReceived": 2, "negativeFeedbackReceived": 1,
                           "receivedNegativeFeedbackRate": 25.0, "someNewField": 1}},
        {"date": "2026-02-24", "salesByDate": {}},
        {"nodate": true}
      ],
      "salesAndTrafficByAsin": [
        {"parentAsin": "P1", "childAsin": "C1", "sku": "S1",
         "salesByAsin": {"unitsOrdered": 2, "orderedProductSales": {"amount": 20, "currencyCode": "USD"}, "totalOrderItems": 2},
         "trafficByAsin": {"sessions": 10, "pageViews": 20, "buyBoxPercentage": 100, "unitSessionPercentage": 20}},
        {"parentAsin": "P1", "childAsin": "C1", "sku": "S2",
         "salesByAsin": {"unitsOrdered": 1, "orderedProductSales": {"amount": 10, "currencyCode": "USD"}, "totalOrderItems": 1},
         "trafficByAsin": {"sessions": 10, "pageViews": 20, "buyBoxPercentage": 50, "unitSessionPercentage": 10}},
        {"parentAsin": "P2", "childAsin": "C2",
         "salesByAsin": {"unitsOrdered": "3"}, "trafficByAsin": {"sessions": 30}},
        {"parentAsin": "P3", "salesByAsin": {"unitsOrdered": 1}}
      ]
    }"#;

    #[test]
    fn parses_days_and_asins_leniently() {
        let p = parse(DOC).unwrap();
        assert_eq!(
            (p.spec.start, p.spec.end),
            (Some(d("2026-02-23")), Some(d("2026-03-01")))
        );
        assert_eq!(p.spec.marketplace_ids, vec!["ATVPDKIKX0DER"]);
        assert_eq!(p.days.len(), 2);
        let d0 = &p.days[0];
        assert_eq!(d0.sessions, Some(200));
        assert_eq!(d0.ordered_product_sales, Some(120.5));
        assert_eq!(d0.currency.as_deref(), Some("USD"));
        assert_eq!(d0.negative_feedback_received, Some(1));
        assert_eq!(d0.claims_amount, Some(0.0));
        // A day without traffic: unknown, not zero.
        assert_eq!(p.days[1].sessions, None);
        assert_eq!(p.days[1].units_ordered, None);
        // Two SKUs of C1 added up; buy box weighted by page views.
        assert_eq!(p.asins.len(), 2);
        let c1 = &p.asins[0];
        assert_eq!(c1.asin, "C1");
        assert_eq!(
            (c1.sessions, c1.page_views, c1.units_ordered),
            (Some(20), Some(40), Some(3))
        );
        assert_eq!(c1.buy_box_pct, Some(75.0));
        assert_eq!(c1.unit_session_pct, Some(15.0));
        assert_eq!(c1.ordered_product_sales, Some(30.0));
        assert_eq!(p.asins[1].units_ordered, Some(3));
        assert_eq!(p.asins[1].page_views, None);
        assert_eq!(p.skipped_parent_rows, 1);
    }

    #[test]
    fn rejects_what_is_not_a_document() {
        assert!(parse("").is_err());
        assert!(parse("[1]").is_err());
        assert!(parse("{\"salesAndTrafficByDate\": ").is_err());
        // An object without the blocks is an empty (valid) answer.
        assert_eq!(parse("{}").unwrap(), SalesTraffic::default());
    }

    #[test]
    fn huge_counts_of_one_child_saturate() {
        // Found by fuzzing (fuzz/regressions/sales_traffic/): it overflowed.
        let doc = r#"{"salesAndTrafficByAsin":[
            {"childAsin":"B1","trafficByAsin":{"sessions":1e30}},
            {"childAsin":"B1","trafficByAsin":{"sessions":1e30}}]}"#;
        let st = parse(doc).unwrap();
        assert_eq!(st.asins.len(), 1);
        assert_eq!(st.asins[0].sessions, Some(i64::MAX));
    }

    #[test]
    fn sums_too_big_for_a_float_are_unknown() {
        // Found by fuzzing (fuzz/regressions/sales_traffic/
        // sku_rows_sales_sum_infinite.json): the sums were infinite.
        let row = r#"{"childAsin":"B1","salesByAsin":{"orderedProductSales":1e308},
            "trafficByAsin":{"pageViews":10,"buyBoxPercentage":1e308}}"#;
        let st = parse(&format!(r#"{{"salesAndTrafficByAsin":[{row},{row}]}}"#)).unwrap();
        assert_eq!(st.asins[0].ordered_product_sales, None);
        assert_eq!(st.asins[0].buy_box_pct, None);
        assert_eq!(st.asins[0].page_views, Some(20));
    }
}
