//! Job `search_query_performance`: Brand Analytics Search Query Performance
//! (GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT, JSON,
//! `sellingPartnerSearchQueryPerformanceReport.json`; Brand Analytics role
//! and Brand Registry).
//!
//! `reportPeriod=WEEK`, and a request must cover exactly one week, Sunday
//! to Saturday (REFERENCE §0.9), so the job asks for the last complete week
//! in the marketplace's zone (and, on a first run or after a gap, the weeks
//! before it up to [`MAX_WEEKS`]). `reportOptions.asin` holds at most 200
//! characters of space-separated ASINs, so the seller's ASINs (every ASIN
//! flywheel has seen) go in chunks. A week's chunks that completed are kept
//! in the cursor, so a chunk still pending does not make the others be
//! requested again; the week is done when every chunk is.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Value};

use super::report::{self, Label, Report, ReportRequest, Tally};
use super::report_util::{self as ru, jint, jnum, jstr};
use super::{Ctx, JobError, JobName, JobReport};
use crate::model::marketplace::Marketplace;
use crate::store::jobs;
use crate::store::seller_reports::{self as store, SqpRow};

pub const REPORT_TYPE: &str = "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT";
const JOB: JobName = JobName::SearchQueryPerformance;
/// Longest `reportOptions.asin` Amazon accepts.
pub const ASIN_OPTION_MAX: usize = 200;
/// Weeks a first run reads (keyword_share compares a week with the one before).
const FIRST_WEEKS: i64 = 2;
/// Weeks caught up after a gap, at most.
const MAX_WEEKS: i64 = 8;

/// Space-separated chunks of at most `max` characters; an ASIN longer than
/// `max` on its own is left out (it cannot be asked for).
pub fn asin_chunks(asins: &[String], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for a in asins {
        let a = a.trim();
        if a.is_empty() || a.len() > max {
            continue;
        }
        if !cur.is_empty() && cur.len() + 1 + a.len() > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(a);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The Sunday starting the last week (Sunday–Saturday) complete before `today`.
pub fn last_complete_week(today: NaiveDate) -> NaiveDate {
    let since_sunday = today.weekday().num_days_from_sunday() as i64;
    today - Duration::days(since_sunday + 7)
}

/// Weeks to read, oldest first: after `through` (a week already stored)
/// or the first run's weeks, at most [`MAX_WEEKS`].
pub fn weeks_to_fetch(today: NaiveDate, through: Option<NaiveDate>) -> Vec<NaiveDate> {
    let last = last_complete_week(today);
    let first = match through {
        Some(t) => (t + Duration::days(7)).max(last - Duration::days(7 * (MAX_WEEKS - 1))),
        None => last - Duration::days(7 * (FIRST_WEEKS - 1)),
    };
    let mut out = Vec::new();
    let mut w = first;
    while w <= last {
        out.push(w);
        w += Duration::days(7);
    }
    out
}

/// A document's `reportSpecification`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spec {
    pub report_type: Option<String>,
    pub marketplace_ids: Vec<String>,
    /// `reportOptions.reportPeriod`: WEEK, MONTH or QUARTER.
    pub report_period: Option<String>,
}

impl Spec {
    /// Whether the rows are weeks: the table holds weeks (Sunday to
    /// Saturday), and a month's or a quarter's figures stored as a week
    /// would read as one week's.
    pub fn check_weekly(&self) -> Result<(), String> {
        ru::WEEKS.check(self.report_period.as_deref())
    }
}

/// A piece of a search query performance document, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Spec(Spec),
    Row(Box<SqpRow>),
}

/// A piece of the document as a [`Part`], leniently: missing blocks are
/// `None`; a row without an ASIN, query or dates is skipped.
pub fn part(piece: ru::JsonPart<'_>) -> Option<Part> {
    match piece {
        ru::JsonPart::Member(_, v) => Some(Part::Spec(Spec {
            report_type: jstr(&v, &["reportType"]),
            marketplace_ids: ru::jstrs(&v, &["marketplaceIds"]),
            report_period: jstr(&v, &["reportOptions", "reportPeriod"]),
        })),
        ru::JsonPart::Element(_, r) => row(&r).map(|row| Part::Row(Box::new(row))),
    }
}

/// The document as [`ru::read_parts`] reads it, a [`part`] at a time.
pub const DOCUMENT: ru::JsonDoc = ru::JsonDoc {
    what: "search query performance document",
    arrays: &["dataByAsin"],
    members: &["reportSpecification"],
};

fn row(r: &Value) -> Option<SqpRow> {
    let (Some(asin), Some(query), Some(start)) = (
        jstr(r, &["asin"]),
        jstr(r, &["searchQueryData", "searchQuery"]),
        ru::jdate(r, &["startDate"]),
    ) else {
        return None;
    };
    // week_start is a Sunday (the table CHECKs it): a start date Amazon
    // sends mid-week is moved back to its Sunday.
    let week_start = start - Duration::days(start.weekday().num_days_from_sunday() as i64);
    Some(SqpRow {
        asin,
        week_start,
        week_end: ru::jdate(r, &["endDate"]).unwrap_or(week_start + Duration::days(6)),
        search_query: query,
        search_query_score: jint(r, &["searchQueryData", "searchQueryScore"]),
        search_query_volume: jint(r, &["searchQueryData", "searchQueryVolume"]),
        impressions_total: jint(r, &["impressionData", "totalQueryImpressionCount"]),
        impressions_asin: jint(r, &["impressionData", "asinImpressionCount"]),
        impression_share: jnum(r, &["impressionData", "asinImpressionShare"]),
        clicks_total: jint(r, &["clickData", "totalClickCount"]),
        clicks_asin: jint(r, &["clickData", "asinClickCount"]),
        click_share: jnum(r, &["clickData", "asinClickShare"]),
        cart_adds_total: jint(r, &["cartAddData", "totalCartAddCount"]),
        cart_adds_asin: jint(r, &["cartAddData", "asinCartAddCount"]),
        cart_add_share: jnum(r, &["cartAddData", "asinCartAddShare"]),
        purchases_total: jint(r, &["purchaseData", "totalPurchaseCount"]),
        purchases_asin: jint(r, &["purchaseData", "asinPurchaseCount"]),
        purchase_share: jnum(r, &["purchaseData", "asinPurchaseShare"]),
    })
}

/// Parses a whole document (see [`read`]).
pub fn parse(text: &str) -> Result<Vec<SqpRow>, String> {
    parse_from(text.as_bytes(), encoding_rs::UTF_8).map(|(_, rows)| rows)
}

/// [`parse`] from a stream in `encoding`, with the specification.
pub fn parse_from(
    input: impl std::io::BufRead,
    encoding: &'static encoding_rs::Encoding,
) -> Result<(Spec, Vec<SqpRow>), String> {
    let (mut spec, mut rows) = (Spec::default(), Vec::new());
    let res = ru::read_parts(input, encoding, &DOCUMENT, part, |part| {
        match part {
            Part::Spec(s) => spec = s,
            Part::Row(r) => rows.push(*r),
        }
        Ok::<_, std::convert::Infallible>(())
    });
    match res {
        Ok(()) => Ok((spec, rows)),
        Err(ru::JsonError::Parse(e)) => Err(e),
        Err(ru::JsonError::Stop(never)) => match never {},
    }
}

fn request(m: &Marketplace, week: NaiveDate, chunk: &str) -> ReportRequest {
    ru::request(REPORT_TYPE, m)
        .range(
            ru::date_param(week),
            ru::date_param(week + Duration::days(6)),
        )
        .option("reportPeriod", "WEEK")
        .option("asin", chunk)
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let account = ctx.account.name.as_str();
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        let asins = ctx.with_db(|c| store::known_asins(c, account, m.id))?;
        if asins.is_empty() {
            tally.note(format!(
                "{}: no ASINs known yet (run sales_traffic or orders first)",
                m.country
            ));
            continue;
        }
        let cursor = ctx
            .with_db(|c| jobs::cursor(c, JOB.as_str(), account, m.id))?
            .unwrap_or_else(|| json!({}));
        let plan = Plan::new(ru::day_of(m, ctx.now), &asins, &cursor);
        if !plan.weeks.is_empty() {
            take(ctx, m, &plan, &mut tally).await?;
        }
    }
    tally.finish()
}

/// What a run asks for in one marketplace. Pure.
struct Plan {
    /// The weeks due, oldest first.
    weeks: Vec<NaiveDate>,
    /// The seller's ASINs, as `reportOptions.asin` chunks.
    chunks: Vec<String>,
    /// Each (week, chunk) not stored yet.
    todo: Vec<(NaiveDate, String)>,
}

impl Plan {
    fn new(today: NaiveDate, asins: &[String], cursor: &Value) -> Plan {
        let chunks = asin_chunks(asins, ASIN_OPTION_MAX);
        let through = cursor["through"]
            .as_str()
            .and_then(|s| s.parse::<NaiveDate>().ok());
        let weeks = weeks_to_fetch(today, through);
        let mut todo = Vec::new();
        for &week in &weeks {
            let done = done_of(cursor, week);
            for chunk in chunks.iter().filter(|c| !done.contains(*c)) {
                todo.push((week, chunk.clone()));
            }
        }
        Plan {
            weeks,
            chunks,
            todo,
        }
    }
}

/// Asks for the plan's reports, all queued first, and stores each one's
/// rows with the cursor as it completes.
async fn take(
    ctx: &Ctx<'_>,
    m: &'static Marketplace,
    plan: &Plan,
    tally: &mut Tally,
) -> Result<(), JobError> {
    // Reports of chunks no longer planned (the known ASINs changed) are
    // forgotten.
    let planned: Vec<ReportRequest> = plan
        .todo
        .iter()
        .map(|(week, chunk)| request(m, *week, chunk))
        .collect();
    report::retain(ctx, JOB, REPORT_TYPE, m.id, &planned)?;
    report::queue(ctx, JOB, &planned).await?;
    let scope = ru::scope(ctx, m);
    for ((week, chunk), req) in plan.todo.iter().zip(&planned) {
        let what = format!("week {week}");
        let step = report::step(
            ctx,
            &Report::new(JOB, req, m.id),
            |d| {
                let (spec, rows) = d.stream(|input| parse_from(input, d.encoding()))?;
                spec.check_weekly().map(|()| rows)
            },
            |tx, cur, rows: Vec<SqpRow>| {
                let n = store::write_sqp(tx, &scope, &rows)?;
                move_through(cur, *week, chunk, &plan.weeks, &plan.chunks);
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

/// The chunks of `week` the cursor says are stored.
fn done_of(cur: &Value, week: NaiveDate) -> BTreeSet<String> {
    cur["partial"][week.to_string()]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Records in the cursor that `chunk` of `week` is stored, and moves its
/// `through` over the complete weeks of `weeks` (every one of `chunks`
/// stored) with no incomplete week before them.
fn move_through(
    cur: &mut Value,
    week: NaiveDate,
    chunk: &str,
    weeks: &[NaiveDate],
    chunks: &[String],
) {
    if !cur["partial"].is_object() {
        cur["partial"] = json!({});
    }
    let mut done = done_of(cur, week);
    done.insert(chunk.to_string());
    cur["partial"][week.to_string()] = json!(done);
    for &w in weeks {
        let through = cur["through"]
            .as_str()
            .and_then(|s| s.parse::<NaiveDate>().ok());
        if through.is_some_and(|t| t >= w) {
            continue;
        }
        let done = done_of(cur, w);
        if !chunks.iter().all(|c| done.contains(c)) {
            break;
        }
        cur["through"] = json!(w.to_string());
        if let Some(p) = cur["partial"].as_object_mut() {
            p.remove(&w.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::date as d;

    #[test]
    fn chunks_hold_at_most_200_characters() {
        let asins: Vec<String> = (0..40).map(|i| format!("B0{i:08}")).collect();
        let chunks = asin_chunks(&asins, ASIN_OPTION_MAX);
        // 10-character ASINs: 18 fit (18 × 10 + 17 spaces = 197).
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].split(' ').count(), 18);
        assert!(chunks.iter().all(|c| c.len() <= 200));
        let back: Vec<&str> = chunks.iter().flat_map(|c| c.split(' ')).collect();
        assert_eq!(back.len(), 40);
        assert_eq!(asin_chunks(&[], 200), Vec::<String>::new());
        assert_eq!(asin_chunks(&["A".repeat(201)], 200), Vec::<String>::new());
        assert_eq!(asin_chunks(&["A".into(), "B".into()], 3), vec!["A B"]);
        assert_eq!(asin_chunks(&["A".into(), "B".into()], 2), vec!["A", "B"]);
    }

    #[test]
    fn weeks_run_sunday_to_saturday() {
        // 2026-03-02 is a Monday: the last complete week is Feb 22-28.
        assert_eq!(last_complete_week(d("2026-03-02")), d("2026-02-22"));
        // On a Sunday the week that just ended is complete.
        assert_eq!(last_complete_week(d("2026-03-01")), d("2026-02-22"));
        // On a Saturday that week is not over yet.
        assert_eq!(last_complete_week(d("2026-02-28")), d("2026-02-15"));
        assert_eq!(
            weeks_to_fetch(d("2026-03-02"), None),
            vec![d("2026-02-15"), d("2026-02-22")]
        );
        assert!(weeks_to_fetch(d("2026-03-02"), Some(d("2026-02-22"))).is_empty());
        assert_eq!(
            weeks_to_fetch(d("2026-03-09"), Some(d("2026-02-22"))),
            vec![d("2026-03-01")]
        );
        assert_eq!(
            weeks_to_fetch(d("2027-03-09"), Some(d("2026-02-22"))).len(),
            8
        );
    }

    #[test]
    fn parses_rows_and_skips_incomplete_ones() {
        let doc = r#"{"dataByAsin": [
          {"startDate": "2026-02-22", "endDate": "2026-02-28", "asin": "B0A",
           "searchQueryData": {"searchQuery": "water bottle", "searchQueryScore": 1, "searchQueryVolume": 900},
           "impressionData": {"totalQueryImpressionCount": 12600, "asinImpressionCount": 1260, "asinImpressionShare": 0.1},
           "clickData": {"totalClickCount": 558, "asinClickCount": 50, "asinClickShare": 0.0896},
           "cartAddData": {"totalCartAddCount": 120, "asinCartAddCount": 11, "asinCartAddShare": 0.0917},
           "purchaseData": {"totalPurchaseCount": 50, "asinPurchaseCount": 4, "asinPurchaseShare": 0.08}},
          {"startDate": "2026-02-24", "asin": "B0A", "searchQueryData": {"searchQuery": "bottle"}},
          {"startDate": "2026-02-22", "asin": "B0A", "searchQueryData": {}},
          {"asin": "B0A", "searchQueryData": {"searchQuery": "x"}}
        ]}"#;
        let rows = parse(doc).unwrap();
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!(r.week_start, d("2026-02-22"));
        assert_eq!(r.search_query_volume, Some(900));
        assert_eq!(r.impression_share, Some(0.1));
        assert_eq!(r.clicks_asin, Some(50));
        assert_eq!(r.purchases_asin, Some(4));
        // A mid-week start is moved back to its Sunday.
        assert_eq!(rows[1].week_start, d("2026-02-22"));
        assert_eq!(rows[1].impressions_total, None);
        assert!(parse("[]").is_err());
        assert_eq!(parse("{}").unwrap(), vec![]);
    }
}
