//! Job `seller_feedback`: GET_SELLER_FEEDBACK_DATA (flat file; Selling
//! Partner Insights role), every 2 hours. The report holds negative and
//! neutral (1–3 star) feedback only, with a date and no time (the
//! marketplace's short date, see [`ru::date_form`]: a day in the marketplace's
//! zone) and no timestamp for `Your Response`.
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
use crate::model::marketplace::Marketplace;
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

/// The report's `Date`: the marketplace's short date (see
/// [`ru::date_form`], which records what is known of each marketplace),
/// read in that marketplace's order only. A date only: the marketplace's
/// day.
pub fn parse_date(s: &str, m: &Marketplace) -> Option<NaiveDate> {
    ru::parse_local_date(s, ru::date_form(m))
}

fn row(rec: &Record<'_>, m: &Marketplace) -> Result<FeedbackRow, Issue> {
    let date = rec.req("Date")?;
    let feedback_date =
        parse_date(date, m).ok_or_else(|| rec.issue("Date", &ru::not_a_local_date(date, m)))?;
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
    m: &Marketplace,
) -> Result<Parsed<FeedbackRow>, String> {
    Ok(
        flatfile::read_flat(input, ru::text_of(encoding, m), &COLUMNS, |rec| row(rec, m))?
            .optional(OPTIONAL),
    )
}

/// Parses the report from `input` and stores each row as it is read, in
/// the caller's transaction (what `flywheel import` does: memory does not
/// grow with the file). The rows stored are [`parse`]'s.
pub fn store_stream(
    conn: &rusqlite::Connection,
    scope: &Scope<'_>,
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    m: &Marketplace,
) -> Result<(Streamed, u64), StreamError> {
    let mut written = 0;
    let read = flatfile::stream_flat(
        input,
        ru::text_of(encoding, m),
        &COLUMNS,
        |rec| match row(rec, m) {
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
            |d| d.stream(|input| parse(input, d.encoding(), m)),
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

    fn mp(key: &str) -> &'static Marketplace {
        crate::model::marketplace::lookup(key).unwrap()
    }

    /// 5 November 2026 and 13 January 2026 as each marketplace writes
    /// them, for every marketplace flywheel knows.
    #[test]
    fn every_marketplace_reads_its_own_dates() {
        let dmy = ["5/11/26", "05/11/26", "13/1/26", "13/01/2026"];
        let table: &[(&str, [&str; 4])] = &[
            ("US", ["11/5/26", "11/05/26", "1/13/26", "01/13/2026"]),
            ("DE", ["5.11.26", "05.11.26", "13.1.26", "13.01.2026"]),
            ("SE", ["2026-11-5", "2026-11-05", "2026-1-13", "2026-01-13"]),
            ("JP", ["26/11/5", "26/11/05", "26/1/13", "2026/01/13"]),
        ];
        let want = [
            d("2026-11-05"),
            d("2026-11-05"),
            d("2026-01-13"),
            d("2026-01-13"),
        ];
        for m in crate::model::marketplace::MARKETPLACES {
            let dates = table
                .iter()
                .find(|(c, _)| *c == m.country)
                .map_or(dmy, |(_, x)| *x);
            for (s, want) in dates.iter().zip(want) {
                assert_eq!(parse_date(s, m), Some(want), "{} {s}", m.country);
            }
            // ISO is unambiguous everywhere.
            assert_eq!(
                parse_date("2026-11-05", m),
                Some(d("2026-11-05")),
                "{}",
                m.country
            );
        }
    }

    #[test]
    fn a_date_in_another_marketplaces_form_is_refused_not_swapped() {
        for (country, s) in [
            ("US", "13/01/26"), // day first: no 13th month
            ("UK", "01/13/26"), // month first
            ("UK", "26/11/5"),  // a Japanese date
            ("DE", "05/11/26"), // slashes where Germany writes dots
            ("SE", "05/11/26"),
            ("JP", "05.11.26"),
            ("JP", "5/11/2026"), // a four-digit year last
            ("US", "11/05"),
            ("US", "11/05/26/1"),
            ("US", "11/005/26"),
            ("US", "02/30/26"),
            ("US", "yesterday"),
            ("US", ""),
        ] {
            assert_eq!(parse_date(s, mp(country)), None, "{country} {s:?}");
        }
        // Signed years (found by fuzzing: fuzz/regressions/seller_feedback/):
        // `-9999` passed the old "after 1990" check as 10000 BCE.
        for s in [
            "-9999-02-10",
            "-026-02-10",
            "+12026-02-10",
            "0026-02-10",
            "1900-02-10",
        ] {
            assert_eq!(parse_date(s, mp("US")), None, "{s}");
        }
    }

    #[test]
    fn a_row_dated_against_its_marketplace_names_row_column_and_marketplace() {
        let text = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n\
                    05/11/26\t1\tlate\t\t202-1\tx@marketplace.amazon.co.uk\n\
                    11/13/26\t2\tbroken\t\t202-2\ty@marketplace.amazon.co.uk\n";
        let p = parse(text.as_bytes(), encoding_rs::WINDOWS_1252, mp("UK")).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(
            p.rows[0].feedback_date,
            d("2026-11-05"),
            "5 November, not 11 May"
        );
        assert_eq!(p.places(), "3 Date");
        let msg = &p.issues[0].message;
        assert!(
            msg.contains("\"11/13/26\" is not a date of marketplace UK (A1F83G8C2ARO7P, written day/month/year)"),
            "{msg}"
        );
    }

    #[test]
    fn header_generations() {
        // The current 6 columns (Latin-1 bytes in a comment).
        let now = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n\
                   02/10/26\t1\tArriv\u{e9} cass\u{e9}\t\t111-1\tx@marketplace.amazon.com\n\
                   02/11/26\t3\tok\tSorry!\t111-2\ty@marketplace.amazon.com\n";
        let bytes = encoding_rs::WINDOWS_1252.encode(now).0.into_owned();
        assert!(bytes.contains(&0xe9), "Latin-1 bytes");
        let p = parse(&bytes[..], encoding_rs::WINDOWS_1252, mp("US")).unwrap();
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
        let p = parse(mws.as_bytes(), encoding_rs::WINDOWS_1252, mp("US")).unwrap();
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
        let p = parse(text.as_bytes(), encoding_rs::WINDOWS_1252, mp("US")).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(
            p.places(),
            "3 Rating; 4 Date; 5 Order ID; 6 Rating; 7 Comments"
        );
        assert!(p.missing.contains(&"Your Response"));
    }
}
