//! Job `account_health`: GET_V2_SELLER_PERFORMANCE_REPORT (JSON, schema
//! `accountHealthReport-2020-11-18.json`; Selling Partner Insights role).
//!
//! Parsed leniently (REFERENCE §0.5): Amazon's own example fails Amazon's
//! schema, and real accounts send renamed blocks (`prefulfillmentCancelRate`,
//! `warningState`), statuses the enum lacks (`SUSPENDED`) and leave
//! required blocks out. So every block is optional, every status is kept as
//! text, and a block of the wrong shape reads as absent. One snapshot per
//! marketplace per marketplace day; a re-run the same day overwrites it.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::report::{self, Label, Report, ReportRequest, Tally};
use super::report_util::{self as ru, jnum, jstr};
use super::{Ctx, JobError, JobName, JobReport};
use crate::store::seller_reports::{self as store, HealthRow};

pub const REPORT_TYPE: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";
const JOB: JobName = JobName::AccountHealth;

/// The first of `names` the block has (renamed blocks across shapes).
fn block<'a>(m: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| m.get(*n).filter(|v| v.is_object()))
}

fn rate(m: &Value, names: &[&str]) -> Option<f64> {
    block(m, names).and_then(|b| jnum(b, &["rate"]))
}

/// Parses the document into one row per marketplace it mentions (in
/// `accountStatuses` or `performanceMetrics`).
pub fn parse(text: &str) -> Result<Vec<HealthRow>, String> {
    read(text.as_bytes(), encoding_rs::UTF_8, |_| true).map(|d| d.rows)
}

/// What [`read`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Health {
    /// `reportSpecification.reportType`, when the document has one.
    pub report_type: Option<String>,
    pub rows: Vec<HealthRow>,
}

/// [`parse`] from a stream in `encoding`, keeping the marketplaces `keep`
/// accepts (Amazon lists every marketplace of the region): the document
/// is read an element at a time, and only the first status and metrics
/// block of each kept marketplace are held, so memory does not grow with
/// the document.
pub fn read(
    input: impl std::io::BufRead,
    encoding: &'static encoding_rs::Encoding,
    keep: impl Fn(&str) -> bool,
) -> Result<Health, String> {
    let mut report_type = None;
    // Elements with their marketplaceId, first per id; ids in the order
    // the old whole-document reading listed them (statuses, then metrics).
    let mut statuses: Vec<(String, Value)> = Vec::new();
    let mut metrics: Vec<(String, Value)> = Vec::new();
    let (mut metrics_seen, mut lone): (usize, Option<Value>) = (0, None);
    let res = ru::stream_json(
        input,
        encoding,
        "account health document",
        &["accountStatuses", "performanceMetrics"],
        &["reportSpecification"],
        |part| {
            match part {
                ru::JsonPart::Member(_, spec) => report_type = jstr(&spec, &["reportType"]),
                ru::JsonPart::Element("accountStatuses", v) => {
                    if let Some(id) = jstr(&v, &["marketplaceId"]) {
                        if keep(&id) && !statuses.iter().any(|(i, _)| *i == id) {
                            statuses.push((id, v));
                        }
                    }
                }
                ru::JsonPart::Element(_, v) if v.is_object() => {
                    metrics_seen += 1;
                    match jstr(&v, &["marketplaceId"]) {
                        Some(id) if keep(&id) && !metrics.iter().any(|(i, _)| *i == id) => {
                            metrics.push((id, v));
                        }
                        Some(_) => {}
                        None if lone.is_none() => lone = Some(v),
                        None => {}
                    }
                }
                ru::JsonPart::Element(..) => {}
            }
            Ok::<_, std::convert::Infallible>(())
        },
    );
    match res {
        Ok(()) => {}
        Err(ru::JsonError::Parse(e)) => return Err(e),
        Err(ru::JsonError::Stop(never)) => match never {},
    }
    let mut ids: Vec<String> = Vec::new();
    for (id, _) in statuses.iter().chain(metrics.iter()) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    // A document for one marketplace may leave marketplaceId out of its
    // metrics: the single metrics block belongs to the single status.
    let lone_metrics = if metrics_seen == 1 { lone } else { None };
    let mut rows = Vec::new();
    for id in ids {
        let status = statuses.iter().find(|(i, _)| *i == id).map(|(_, v)| v);
        let m = metrics
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v)
            .or(lone_metrics.as_ref());
        let empty = json!({});
        let mm = m.unwrap_or(&empty);
        let odr = block(mm, &["orderDefectRate"]);
        rows.push(HealthRow {
            marketplace_id: id.clone(),
            account_status: status.and_then(|s| jstr(s, &["status"])),
            health_rating_status: block(mm, &["accountHealthRating"]).and_then(|r| {
                jstr(r, &["accountHealthRatingStatus"]).or_else(|| jstr(r, &["ahrStatus"]))
            }),
            odr_mfn_rate: odr.and_then(|o| jnum(o, &["mfn", "rate"])),
            odr_afn_rate: odr.and_then(|o| jnum(o, &["afn", "rate"])),
            late_shipment_rate: rate(mm, &["lateShipmentRate"]),
            pre_fulfillment_cancel_rate: rate(
                mm,
                &["preFulfillmentCancellationRate", "prefulfillmentCancelRate"],
            ),
            valid_tracking_rate: rate(mm, &["validTrackingRate"]),
            on_time_delivery_rate: rate(mm, &["onTimeDeliveryRate"]),
            invoice_defect_rate: rate(mm, &["invoiceDefectRate"]),
            raw: json!({
                "accountStatus": status.cloned(),
                "performanceMetrics": m.cloned(),
            }),
        });
    }
    Ok(Health { report_type, rows })
}

/// The last day a row's figures cover: the latest `reportingDateTo` among
/// its metrics (`2020-11-19T23:59Z` is 2020-11-19). A document downloaded
/// by hand is dated by it, not by the day it is imported (Amazon's 2020
/// example is 2020's health, not today's). `None` when no metric names
/// its period.
pub fn reporting_day(row: &HealthRow) -> Option<NaiveDate> {
    fn walk(v: &Value, depth: usize, best: &mut Option<NaiveDate>) {
        if depth > 8 {
            return;
        }
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "reportingDateTo" {
                        let day = x
                            .as_str()
                            .and_then(|s| s.get(..10))
                            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                            .filter(ru::is_plausible);
                        *best = (*best).max(day);
                    } else {
                        walk(x, depth + 1, best);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, depth + 1, best)),
            _ => {}
        }
    }
    let mut best = None;
    walk(&row.raw["performanceMetrics"], 0, &mut best);
    best
}

/// Keeps the rows of the account's marketplaces (Amazon lists every
/// marketplace of the region).
pub fn for_account(rows: Vec<HealthRow>, marketplaces: &[String]) -> Vec<HealthRow> {
    rows.into_iter()
        .filter(|r| marketplaces.contains(&r.marketplace_id))
        .collect()
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let account = ctx.account.name.as_str();
    let mkts = ctx.account.marketplaces();
    let Some(first) = mkts.first() else {
        return Ok(JobReport {
            rows: 0,
            note: "no marketplaces".into(),
        });
    };
    // The report covers the seller's account in every marketplace of the
    // region it is requested in; one request per account.
    let ids: Vec<&str> = mkts.iter().map(|m| m.id).collect();
    let req = ReportRequest::new(REPORT_TYPE, ids.iter().copied());
    let day = ru::day_of(first, ctx.now);
    // The account's one cursor: its marketplace is "".
    let step = report::step(
        ctx,
        &Report::new(JOB, &req, ""),
        |d| d.stream(|input| read(input, d.encoding(), |_| true)),
        |tx, cursor, health: Health| {
            let ours = store::account_marketplaces(tx, account)?;
            let rows = for_account(health.rows, &ours);
            let n = write(tx, account, &rows, ctx, day)?;
            *cursor = json!({ "snapshot_date": day.to_string(), "marketplaces": rows.len() });
            Ok(n)
        },
    )
    .await?;
    let mut tally = Tally::default();
    if let Some(n) = tally.take(Label::account(), step)? {
        tally.rows += n;
        tally.note(format!("snapshot of {day}"));
    }
    tally.finish()
}

fn write(
    conn: &rusqlite::Connection,
    account: &str,
    rows: &[HealthRow],
    ctx: &Ctx<'_>,
    fallback_day: NaiveDate,
) -> Result<u64, crate::store::StoreError> {
    let mut n = 0;
    for r in rows {
        // Each snapshot is dated by its own marketplace's day.
        let day = crate::model::marketplace::lookup(&r.marketplace_id)
            .map(|m| ru::day_of(m, ctx.now))
            .unwrap_or(fallback_day);
        n += store::write_health(conn, account, day, std::slice::from_ref(r), ctx.now)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA_SHAPE: &str = r#"{
      "accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
      "performanceMetrics": [{
        "marketplaceId": "ATVPDKIKX0DER",
        "accountHealthRating": {"accountHealthRatingStatus": "GREAT"},
        "orderDefectRate": {"mfn": {"rate": 0.004}, "afn": {"rate": 0.001}},
        "lateShipmentRate": {"rate": 0.02, "status": "GOOD"},
        "preFulfillmentCancellationRate": {"rate": 0.01},
        "validTrackingRate": {"rate": 0.99},
        "onTimeDeliveryRate": {"rate": 0.97},
        "invoiceDefectRate": {"rate": 0}
      }]
    }"#;

    /// The shape real accounts send (REFERENCE §0.5): SUSPENDED, renamed
    /// blocks, a block of the wrong type, missing blocks, extra markets.
    const REALWORLD: &str = r#"{
      "accountStatuses": [
        {"marketplaceId": "ATVPDKIKX0DER", "status": "SUSPENDED"},
        {"marketplaceId": "A2EUQ1WTGCTBG2", "status": "NORMAL"},
        {"status": "MYSTERY"}
      ],
      "performanceMetrics": [{
        "marketplaceId": "ATVPDKIKX0DER",
        "accountHealthRating": {"ahrStatus": "WARNED", "reportingDateRange": {"dateOffset": {"duration": 181}}},
        "orderDefectRate": {"mfn": {"rate": "0.012"}},
        "prefulfillmentCancelRate": {"rate": 0.03},
        "lateShipmentRate": "n/a",
        "warningState": [{"warningType": "X"}]
      }]
    }"#;

    /// A row's statuses: the account's, its health rating's.
    fn statuses(r: &HealthRow) -> (Option<&str>, Option<&str>) {
        (
            r.account_status.as_deref(),
            r.health_rating_status.as_deref(),
        )
    }

    /// A row's rates: order defect (MFN, AFN), late shipment,
    /// pre-fulfillment cancel, valid tracking, on-time delivery, invoice
    /// defect.
    fn rates(r: &HealthRow) -> [Option<f64>; 7] {
        [
            r.odr_mfn_rate,
            r.odr_afn_rate,
            r.late_shipment_rate,
            r.pre_fulfillment_cancel_rate,
            r.valid_tracking_rate,
            r.on_time_delivery_rate,
            r.invoice_defect_rate,
        ]
    }

    #[test]
    fn parses_the_schema_shape() {
        let rows = parse(SCHEMA_SHAPE).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(statuses(&rows[0]), (Some("NORMAL"), Some("GREAT")));
        let want = [0.004, 0.001, 0.02, 0.01, 0.99, 0.97, 0.0].map(Some);
        assert_eq!(rates(&rows[0]), want);
    }

    #[test]
    fn parses_the_real_world_shape_leniently() {
        let rows = parse(REALWORLD).unwrap();
        assert_eq!(rows.len(), 2);
        let (us, ca) = (&rows[0], &rows[1]);
        assert_eq!(statuses(us), (Some("SUSPENDED"), Some("WARNED")));
        assert_eq!(
            rates(us),
            [Some(0.012), None, None, Some(0.03), None, None, None]
        );
        assert_eq!(statuses(ca), (Some("NORMAL"), None));
        assert_eq!(rates(ca), [None; 7]);
        let ours = for_account(rows, &["ATVPDKIKX0DER".to_string()]);
        assert_eq!(ours.len(), 1);
    }

    #[test]
    fn empty_and_broken_documents() {
        assert_eq!(parse("{}").unwrap(), vec![]);
        assert_eq!(
            parse(r#"{"accountStatuses": 5, "performanceMetrics": "x"}"#).unwrap(),
            vec![]
        );
        assert!(parse("{\"accountStatuses\": [").is_err());
        assert!(parse("null").is_err());
    }
}
