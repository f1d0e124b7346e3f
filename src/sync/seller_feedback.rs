//! Job `seller_feedback`: GET_SELLER_FEEDBACK_DATA (flat file; Selling
//! Partner Insights role), every 2 hours. The report holds negative and
//! neutral (1–3 star) feedback only, with a date and no time (`MM/DD/YY`,
//! a day in the marketplace's zone) and no timestamp for `Your Response`.
//!
//! Each run reads the last [`WINDOW_DAYS`] days again, so a response or an
//! edit made later is seen. `first_seen_at` is written once and never
//! changed; `response_seen_at` is when a response was first seen; the
//! acknowledgement columns belong to `flywheel ack`. The rater's email is
//! not stored (no rule needs it).

use chrono::{Duration, NaiveDate};
use encoding_rs::Encoding;
use serde_json::json;

use super::flatfile::{self, columns, Column, Issue, Parsed, Record, Streamed};
use super::report::{self, Label, Report, StreamError, Tally};
use super::report_util as ru;
use super::{Ctx, JobError, JobName, JobReport};
use crate::store::seller_reports::{self as store, FeedbackRow, Scope};

pub const REPORT_TYPE: &str = "GET_SELLER_FEEDBACK_DATA";
const JOB: JobName = JobName::SellerFeedback;
/// Days read each run (responses and removals happen within weeks).
pub const WINDOW_DAYS: i64 = crate::model::snapshot::SELLER_FEEDBACK_WINDOW_DAYS;

/// Amazon "Performance Reports" (6 columns), plus the MWS-era variant's
/// columns, which are read when present.
pub static COLUMNS: [Column; 7] = columns![
    "Date",
    "Rating",
    "Comments" | "Comment",
    "Your Response" | "Response",
    "Order ID",
    "Rater Email",
    "Arranged Fulfillment" | "Fulfilled By" | "Rater Role",
];

/// The report's date: `MM/DD/YY` (the fixture), `MM/DD/YYYY`, `YYYY-MM-DD`,
/// or `DD.MM.YY` in some EU files. A date only: the marketplace's day.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    for f in ["%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%y", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            // `%m/%d/%Y` also takes `02/10/26` as year 26: prefer the
            // two-digit reading (tried first) and refuse ancient years
            // (and negative ones, which `year_ce` read as after 1990).
            if ru::is_plausible(&d) {
                return Some(d);
            }
        }
    }
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(ru::is_plausible)
}

fn row(rec: &Record<'_>) -> Result<FeedbackRow, Issue> {
    let date = rec.req("Date")?;
    let feedback_date =
        parse_date(date).ok_or_else(|| rec.issue("Date", &format!("not a date: {date:?}")))?;
    let rating = rec
        .int("Rating")?
        .ok_or_else(|| rec.issue("Rating", "empty"))?;
    if !(1..=5).contains(&rating) {
        return Err(rec.issue("Rating", &format!("{rating} is not 1-5")));
    }
    Ok(FeedbackRow {
        order_id: rec.req("Order ID")?.to_string(),
        feedback_date,
        rating,
        comments: rec.get("Comments").map(str::to_string),
        // Kept as the report has it; empty means unanswered.
        your_response: Some(rec.get("Your Response").unwrap_or("").to_string()),
        arranged_fulfillment: rec.get("Arranged Fulfillment").map(str::to_string),
    })
}

/// The columns without which a row cannot be stored (what `flywheel
/// import` requires of a file of this type).
pub const REQUIRED: &[&str] = &["Date", "Rating", "Order ID"];

/// Columns of older generations, read when present.
pub const OPTIONAL: &[&str] = &["Arranged Fulfillment"];

pub fn parse(
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
) -> Result<Parsed<FeedbackRow>, String> {
    Ok(flatfile::read_flat(input, encoding, &COLUMNS, row)?.optional(OPTIONAL))
}

/// Parses the report from `input` and stores each row as it is read, in
/// the caller's transaction (what `flywheel import` does: memory does not
/// grow with the file). The rows stored are [`parse`]'s.
pub fn store_stream(
    conn: &rusqlite::Connection,
    scope: &Scope<'_>,
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
) -> Result<(Streamed, u64), StreamError> {
    let mut written = 0;
    let read = flatfile::stream_flat(
        input,
        encoding,
        &COLUMNS,
        |rec| match row(rec) {
            Ok(r) => {
                written += store::write_feedback(conn, scope, std::slice::from_ref(&r))?;
                Ok(Ok(()))
            }
            Err(issue) => Ok(Err(issue)),
        },
        StreamError::Unreadable,
    )?;
    Ok((read, written))
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        let today = ru::day_of(m, ctx.now);
        let start = today - Duration::days(WINDOW_DAYS);
        let req = ru::request(REPORT_TYPE, m).range(ru::date_param(start), ru::date_param(today));
        // Yesterday's request (the range moves with the day) is superseded.
        report::retain(ctx, JOB, REPORT_TYPE, m.id, std::slice::from_ref(&req))?;
        let scope = ru::scope(ctx, m);
        let step = report::step(
            ctx,
            &Report::new(JOB, &req, m.id),
            |d| d.stream(|input| parse(input, d.encoding())),
            |tx, cursor, parsed: Parsed<FeedbackRow>| {
                let n = store::write_feedback(tx, &scope, &parsed.rows)?;
                *cursor = json!({ "from": start.to_string(), "through": today.to_string(), "rows": parsed.rows.len() });
                Ok((n, parsed.summary))
            },
        )
        .await?;
        if let Some((n, summary)) = tally.take(Label::marketplace(m.country), step)? {
            tally.summary(&format!("{} feedback", m.country), summary.as_deref());
            tally.rows += n;
        }
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::date as d;

    #[test]
    fn dates_of_the_report() {
        assert_eq!(parse_date("02/10/26"), Some(d("2026-02-10")));
        assert_eq!(parse_date("02/10/2026"), Some(d("2026-02-10")));
        assert_eq!(parse_date("2026-02-10"), Some(d("2026-02-10")));
        assert_eq!(parse_date("10.02.26"), Some(d("2026-02-10")));
        assert_eq!(parse_date("yesterday"), None);
        // Signed years (found by fuzzing: fuzz/regressions/seller_feedback/):
        // `-9999` passed the old "after 1990" check as 10000 BCE.
        for s in ["-9999-02-10", "-026-02-10", "+12026-02-10", "0026-02-10"] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn header_generations() {
        // The current 6 columns (Latin-1 bytes in a comment).
        let now = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n\
                   02/10/26\t1\tArriv\u{e9} cass\u{e9}\t\t111-1\tx@marketplace.amazon.com\n\
                   02/11/26\t3\tok\tSorry!\t111-2\ty@marketplace.amazon.com\n";
        let bytes = encoding_rs::WINDOWS_1252.encode(now).0.into_owned();
        assert!(bytes.contains(&0xe9), "Latin-1 bytes");
        let p = parse(&bytes[..], encoding_rs::WINDOWS_1252).unwrap();
        assert!(p.issues.is_empty());
        assert_eq!(p.rows.len(), 2);
        assert_eq!(
            p.rows[0].comments.as_deref(),
            Some("Arriv\u{e9} cass\u{e9}")
        );
        assert_eq!(p.rows[0].your_response.as_deref(), Some(""));
        assert_eq!(p.rows[1].your_response.as_deref(), Some("Sorry!"));
        assert_eq!(p.rows[1].feedback_date, d("2026-02-11"));
        // The MWS-era variant: extra rating columns, a role, reordered.
        let mws = "Date\tRating\tComments\tArrived on Time\tItem as Described\tCustomer Service\t\
                   Order ID\tRater Email\tRater Role\tYour Response\n\
                   02/12/26\t2\tlate\tNo\tYes\t-\t111-3\tz@x\tBuyer\t\n";
        let p = parse(mws.as_bytes(), encoding_rs::WINDOWS_1252).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].rating, 2);
        assert_eq!(p.rows[0].arranged_fulfillment.as_deref(), Some("Buyer"));
    }

    #[test]
    fn malformed_rows_with_row_and_column() {
        let text = "Rating\tDate\tOrder ID\tComments\n\
                    1\t02/10/26\t111-1\tbad\n\
                    9\t02/10/26\t111-2\tbad\n\
                    1\tsoon\t111-3\tbad\n\
                    1\t02/10/26\t\tbad\n\
                    x\t02/10/26\t111-5\tbad\n\
                    1\t02/10/26\n";
        let p = parse(text.as_bytes(), encoding_rs::WINDOWS_1252).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(
            p.places(),
            "3 Rating; 4 Date; 5 Order ID; 6 Rating; 7 Comments"
        );
        assert!(p.missing.contains(&"Your Response"));
    }
}
