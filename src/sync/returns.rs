//! Job `returns`: customer returns from two flat files,
//! GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA (FBA, `source='fba'`) and
//! GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE (merchant-fulfilled,
//! `source='mfn'`).
//!
//! Each run asks for returns dated from [`OVERLAP`] before the end of the
//! last run's window to now (the first run reaches back [`HISTORY`]), so
//! late rows and status changes (a reimbursement, a closed MFN return) are
//! read again and upserted over the same key. Each report's rows and its
//! part of the cursor are written in one transaction. A report an earlier
//! run left (failed, or not finished within `max_report_wait`) is resumed
//! instead of requesting the moved range ([`report::adopt`]); its end is
//! then the cursor's.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use encoding_rs::Encoding;
use serde_json::json;

use super::flatfile::{self, columns, Column, Issue, Parsed, Record, Streamed};
use super::report::{self, Label, Report, StreamError, Tally};
use super::report_util as ru;
use super::{Ctx, JobError, JobName, JobReport};
use crate::model::marketplace::Marketplace;
use crate::store::jobs;
use crate::store::ops::ts;
use crate::store::seller_reports::{self as store, ReturnRow, Scope};

pub const FBA_REPORT_TYPE: &str = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA";
pub const MFN_REPORT_TYPE: &str = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE";
const JOB: JobName = JobName::Returns;
/// How far the first run reaches back (return_rate reads 30 days).
pub const HISTORY: Duration = Duration::days(crate::model::snapshot::RETURNS_HISTORY_DAYS);
/// Overlap with the previous window: Amazon adds rows late and changes
/// statuses (MFN returns close about a week after the request).
pub const OVERLAP: Duration = Duration::days(14);

/// FBA customer returns, REFERENCE §4 (13 columns).
pub static FBA_COLUMNS: [Column; 13] = columns![
    "return-date",
    "order-id" | "amazon-order-id",
    "sku" | "seller-sku" | "merchant-sku",
    "asin",
    "fnsku",
    "product-name",
    "quantity",
    "fulfillment-center-id",
    "detailed-disposition",
    "reason",
    "status",
    "license-plate-number",
    "customer-comments",
];

/// MFN returns, REFERENCE §4 (32 columns; names folded by the reader, so
/// `Order ID` is `order-id`).
pub static MFN_COLUMNS: [Column; 32] = columns![
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Merchant RMA ID",
    "Label type",
    "Label cost",
    "Currency code",
    "Return carrier",
    "Tracking ID",
    "Label to be paid by",
    "A-to-Z Claim",
    "Is prime",
    "ASIN",
    "Merchant SKU" | "sku" | "seller-sku",
    "Item Name",
    "Return quantity" | "quantity",
    "Return Reason",
    "In policy",
    "Return type",
    "Resolution",
    "Invoice number",
    "Return delivery date",
    "Order Amount",
    "Order quantity",
    "SafeT Action reason",
    "SafeT claim id",
    "SafeT claim state",
    "SafeT claim creation time",
    "SafeT claim reimbursement amount",
    "Refunded Amount",
];

/// A return's date cell: an instant (`2026-02-10T14:03:00+00:00`, with or
/// without seconds or offset; a bare time is UTC) or a date only. Returns
/// the marketplace day and, when a time was given, the instant.
pub fn parse_when(s: &str, m: &Marketplace) -> Option<(NaiveDate, Option<DateTime<Utc>>)> {
    // Only years a report can hold (`%Y` also reads `-026` and `+12026`).
    let instant = |t: DateTime<Utc>| {
        let day = ru::day_of(m, t);
        (ru::is_plausible(&day) && ru::is_plausible(&t.date_naive())).then_some((day, Some(t)))
    };
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return instant(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S %z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return instant(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return instant(t.and_utc());
        }
    }
    // A date only is already the marketplace's day, written in the
    // marketplace's order (`05/11/2026` is 5 November in the UK, 11 May in
    // the US: see `ru::date_form`), never guessed.
    let date = s.split_whitespace().next().unwrap_or(s);
    ru::parse_local_date(date, ru::date_form(m)).map(|d| (d, None))
}

/// Adds up rows with the same key (two lines of one return in one file).
fn merge(rows: Vec<ReturnRow>) -> Vec<ReturnRow> {
    let mut out: Vec<ReturnRow> = Vec::new();
    let mut at: std::collections::HashMap<(String, String, String), usize> = Default::default();
    for r in rows {
        let key = (r.order_id.clone(), r.sku.clone(), r.return_ref.clone());
        match at.get(&key) {
            // Saturating: two lines of i64::MAX must not overflow.
            Some(&i) => out[i].quantity = out[i].quantity.saturating_add(r.quantity),
            None => {
                at.insert(key, out.len());
                out.push(r);
            }
        }
    }
    out
}

/// Which returns report a line is read from: the return is the same,
/// the columns differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Fba,
    Mfn,
}

impl Source {
    fn of(report_type: &str) -> Result<Source, String> {
        match report_type {
            FBA_REPORT_TYPE => Ok(Source::Fba),
            MFN_REPORT_TYPE => Ok(Source::Mfn),
            other => Err(format!("{other} is not a returns report")),
        }
    }

    fn report_type(self) -> &'static str {
        match self {
            Source::Fba => FBA_REPORT_TYPE,
            Source::Mfn => MFN_REPORT_TYPE,
        }
    }

    fn columns(self) -> &'static [Column] {
        match self {
            Source::Fba => &FBA_COLUMNS,
            Source::Mfn => &MFN_COLUMNS,
        }
    }

    /// The column a field is in: `fba`'s in the FBA report, `mfn`'s in
    /// the MFN one.
    fn col(self, fba: &'static str, mfn: &'static str) -> &'static str {
        match self {
            Source::Fba => fba,
            Source::Mfn => mfn,
        }
    }
}

/// One line of either returns report as a return.
fn row(rec: &Record<'_>, m: &Marketplace, src: Source) -> Result<ReturnRow, Issue> {
    let date = src.col("return-date", "Return request date");
    let when = rec.req(date)?;
    let (return_date, returned_at) =
        parse_when(when, m).ok_or_else(|| rec.issue(date, &ru::not_a_local_date(when, m)))?;
    let qty = src.col("quantity", "Return quantity");
    let quantity = rec.int(qty)?.unwrap_or(1);
    if quantity < 0 {
        return Err(rec.issue(qty, "negative"));
    }
    let text = |fba, mfn| rec.get(src.col(fba, mfn)).map(str::to_string);
    Ok(ReturnRow {
        source: src.col("fba", "mfn"),
        order_id: rec.req(src.col("order-id", "Order ID"))?.to_string(),
        sku: rec.req(src.col("sku", "Merchant SKU"))?.to_string(),
        return_ref: rec
            .get(src.col("license-plate-number", "Amazon RMA ID"))
            .unwrap_or(when)
            .to_string(),
        return_date,
        returned_at,
        asin: text("asin", "ASIN"),
        // The MFN report has no FNSKU.
        fnsku: match src {
            Source::Fba => text("fnsku", ""),
            Source::Mfn => None,
        },
        quantity,
        reason: text("reason", "Return Reason"),
        disposition: text("detailed-disposition", "Resolution"),
        status: text("status", "Return request status"),
        report_type: src.report_type().to_string(),
        raw: rec.cells(&[]),
    })
}

/// The columns without which an FBA return cannot be stored (what
/// `flywheel import` requires of a file of this type).
pub const FBA_REQUIRED: &[&str] = &["return-date", "order-id", "sku"];
/// The same for an MFN return.
pub const MFN_REQUIRED: &[&str] = &["Order ID", "Return request date", "Merchant SKU"];

/// Parses either returns report (`report_type` picks the columns). Rows
/// are read a line at a time; the returns are held (one per return, two
/// lines of one return added up) until the end.
pub fn parse(
    report_type: &str,
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    m: &Marketplace,
) -> Result<Parsed<ReturnRow>, String> {
    let src = Source::of(report_type)?;
    let mut p = flatfile::read_flat(input, ru::text_of(encoding, m), src.columns(), |r| {
        row(r, m, src)
    })?;
    p.rows = merge(std::mem::take(&mut p.rows));
    Ok(p)
}

/// What [`store_stream`] did: the reader's account (its `rows` are the
/// distinct returns, two lines of one return counted once) and the rows
/// inserted or changed.
pub struct StreamedReturns {
    pub read: Streamed,
    pub written: u64,
}

/// Reads either returns report a line at a time and stores it, as
/// [`parse`] then [`store::write_returns`] would, without holding the file:
/// each return goes to a temporary table as it is read (two lines of one
/// return added up there, in SQL), and the table is then upserted into
/// `returns` a row at a time, in the order the returns first appeared.
/// SQLite keeps the temporary table on disk past a few MiB of cache, so
/// memory does not grow with the file. Call inside a transaction.
pub fn store_stream(
    conn: &rusqlite::Connection,
    scope: &Scope<'_>,
    report_type: &str,
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    m: &Marketplace,
) -> Result<StreamedReturns, StreamError> {
    let src = Source::of(report_type).map_err(StreamError::Unreadable)?;
    let store_err = |e: rusqlite::Error| StreamError::Store(e.into());
    conn.execute_batch(
        "DROP TABLE IF EXISTS temp.import_returns;
         CREATE TEMP TABLE import_returns (
             order_id TEXT NOT NULL, sku TEXT NOT NULL, return_ref TEXT NOT NULL,
             return_date TEXT NOT NULL, returned_at TEXT, asin TEXT, fnsku TEXT,
             quantity INTEGER NOT NULL, reason TEXT, disposition TEXT, status TEXT,
             raw_json TEXT NOT NULL,
             UNIQUE (order_id, sku, return_ref));",
    )
    .map_err(store_err)?;
    let source = src.col("fba", "mfn");
    let mut read = {
        // Saturating, as `merge`: two lines of i64::MAX must not overflow
        // (quantities are never negative).
        let mut stage = conn
            .prepare(
                "INSERT INTO temp.import_returns VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (order_id, sku, return_ref) DO UPDATE SET quantity =
                   CASE WHEN quantity > 9223372036854775807 - excluded.quantity
                        THEN 9223372036854775807 ELSE quantity + excluded.quantity END",
            )
            .map_err(store_err)?;
        flatfile::stream_flat(
            input,
            ru::text_of(encoding, m),
            src.columns(),
            |rec| match row(rec, m, src) {
                Ok(r) => {
                    stage
                        .execute(rusqlite::params![
                            r.order_id,
                            r.sku,
                            r.return_ref,
                            r.return_date.to_string(),
                            r.returned_at
                                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                            r.asin,
                            r.fnsku,
                            r.quantity,
                            r.reason,
                            r.disposition,
                            r.status,
                            serde_json::Value::Object(r.raw).to_string(),
                        ])
                        .map_err(store_err)?;
                    Ok(Ok(()))
                }
                Err(issue) => Ok(Err(issue)),
            },
            StreamError::Unreadable,
        )?
    };
    let mut written = 0;
    let mut rows = 0;
    {
        let mut staged = conn
            .prepare(
                "SELECT order_id, sku, return_ref, return_date, returned_at, asin, fnsku,
                        quantity, reason, disposition, status, raw_json
                 FROM temp.import_returns ORDER BY rowid",
            )
            .map_err(store_err)?;
        let mut it = staged.query([]).map_err(store_err)?;
        while let Some(r) = it.next().map_err(store_err)? {
            let bad =
                |what: &str| StreamError::Unreadable(format!("a staged return lost its {what}"));
            let return_date: String = r.get(3).map_err(store_err)?;
            let returned_at: Option<String> = r.get(4).map_err(store_err)?;
            let raw: String = r.get(11).map_err(store_err)?;
            let raw = match serde_json::from_str(&raw) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => return Err(bad("cells")),
            };
            let ret = ReturnRow {
                source,
                order_id: r.get(0).map_err(store_err)?,
                sku: r.get(1).map_err(store_err)?,
                return_ref: r.get(2).map_err(store_err)?,
                return_date: return_date.parse().map_err(|_| bad("date"))?,
                returned_at: match returned_at {
                    Some(t) => Some(
                        DateTime::parse_from_rfc3339(&t)
                            .map_err(|_| bad("time"))?
                            .with_timezone(&Utc),
                    ),
                    None => None,
                },
                asin: r.get(5).map_err(store_err)?,
                fnsku: r.get(6).map_err(store_err)?,
                quantity: r.get(7).map_err(store_err)?,
                reason: r.get(8).map_err(store_err)?,
                disposition: r.get(9).map_err(store_err)?,
                status: r.get(10).map_err(store_err)?,
                report_type: report_type.to_string(),
                raw,
            };
            written += store::write_returns(conn, scope, std::slice::from_ref(&ret))?;
            rows += 1;
        }
    }
    conn.execute_batch("DROP TABLE temp.import_returns")
        .map_err(store_err)?;
    read.rows = rows;
    Ok(StreamedReturns { read, written })
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let account = ctx.account.name.as_str();
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        let cursor = ctx
            .with_db(|c| jobs::cursor(c, JOB.as_str(), account, m.id))?
            .unwrap_or_else(|| json!({}));
        let kinds = [
            ("fba_through", FBA_REPORT_TYPE),
            ("mfn_through", MFN_REPORT_TYPE),
        ];
        let mut reqs = Vec::new();
        for (key, report_type) in kinds {
            let through = cursor[key]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc));
            let start = match through {
                Some(t) => t - OVERLAP,
                None => ctx.now - HISTORY,
            };
            // From the start of a marketplace day: the same start all day.
            let start = ru::day_start(m, ru::day_of(m, start));
            let end = ctx.now;
            // The range ends now, so it moves every run: resume a report
            // an earlier run left instead (its range sets the cursor).
            let req = report::adopt(ctx, JOB, ru::request(report_type, m).range(start, end))?;
            reqs.push(req);
        }
        report::queue(ctx, JOB, &reqs).await?;
        let scope = ru::scope(ctx, m);
        for ((key, report_type), req) in kinds.into_iter().zip(&reqs) {
            let what = format!(
                "{} {}",
                m.country,
                if key == "fba_through" { "FBA" } else { "MFN" }
            );
            let end = req.data_end.unwrap_or(ctx.now);
            let step = report::step(
                ctx,
                &Report::new(JOB, req, m.id),
                |d| d.stream(|input| parse(report_type, input, d.encoding(), m)),
                |tx, cursor, parsed: Parsed<ReturnRow>| {
                    let n = store::write_returns(tx, &scope, &parsed.rows)?;
                    cursor[key] = json!(ts(end));
                    Ok((n, parsed.summary))
                },
            )
            .await?;
            if let Some((n, summary)) = tally.take(Label::report(&what), step)? {
                tally.summary(&what, summary.as_deref());
                tally.rows += n;
            }
        }
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::date as d;

    fn us() -> &'static Marketplace {
        crate::model::marketplace::lookup("US").unwrap()
    }

    #[test]
    fn dates_in_the_marketplace_zone() {
        let (day, at) = parse_when("2026-02-10T05:30:00+00:00", us()).unwrap();
        // 05:30 UTC is still the 9th in Los Angeles.
        assert_eq!(day, d("2026-02-09"));
        assert_eq!(ts(at.unwrap()), "2026-02-10T05:30:00Z");
        assert_eq!(
            parse_when("2026-02-10", us()),
            Some((d("2026-02-10"), None))
        );
        // A date only, in the marketplace's order: 10 February in the US,
        // 2 October in the UK; a US date with a 13th month is refused in
        // the UK rather than read the other way round.
        let uk = crate::model::marketplace::lookup("UK").unwrap();
        for (s, m, want) in [
            ("02/10/2026", us(), Some("2026-02-10")),
            ("02/10/26", us(), Some("2026-02-10")),
            ("02/10/2026 14:03", us(), Some("2026-02-10")),
            ("02/10/2026", uk, Some("2026-10-02")),
            ("02/13/2026", uk, None),
            ("13/02/2026", us(), None),
        ] {
            assert_eq!(
                parse_when(s, m),
                want.map(|w| (d(w), None)),
                "{} {s}",
                m.country
            );
        }
        assert!(parse_when("soon", us()).is_none());
        // Years the tables cannot hold (found by fuzzing:
        // fuzz/regressions/returns/mfn_return_date_negative_year.tsv).
        for s in [
            "-026-02-02T11:14:52+00:00",
            "+12026-02-02T11:14:52+00:00",
            "0000-01-01T00:00:00+14:00",
            "9999-12-31T23:00:00-05:00",
            "-026-02-02",
        ] {
            assert_eq!(parse_when(s, us()), None, "{s}");
        }
    }

    #[test]
    fn fba_returns_by_header_name() {
        let text = "return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\t\
                    detailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments\n\
                    2026-02-10T14:03:00+00:00\t111-1\tS-1\tB0A\tX0A\tCaf\u{e9} mug\t1\tPHX7\tSELLABLE\tUNWANTED_ITEM\t\
                    Unit returned to inventory\tLPN1\t\n\
                    2026-02-10T14:03:00+00:00\t111-1\tS-1\tB0A\tX0A\tCaf\u{e9} mug\t2\tPHX7\tSELLABLE\tUNWANTED_ITEM\t\
                    Unit returned to inventory\tLPN1\t\n\
                    2026-02-11T09:00:00+00:00\t111-2\tS-2\tB0B\tX0B\tx\t1\tPHX7\tDEFECTIVE\tDEFECTIVE\tReimbursed\t\tbroken\n";
        let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
        let p = parse(FBA_REPORT_TYPE, &bytes[..], encoding_rs::WINDOWS_1252, us()).unwrap();
        assert_eq!(p.rows.len(), 2);
        let a = &p.rows[0];
        assert_eq!(
            (a.order_id.as_str(), a.sku.as_str(), a.return_ref.as_str()),
            ("111-1", "S-1", "LPN1")
        );
        // Two lines of one return added up.
        assert_eq!(a.quantity, 3);
        assert_eq!(a.raw["product-name"], "Caf\u{e9} mug");
        let b = &p.rows[1];
        // No licence plate: the date text keys it.
        assert_eq!(b.return_ref, "2026-02-11T09:00:00+00:00");
        assert_eq!(b.disposition.as_deref(), Some("DEFECTIVE"));
        assert_eq!(b.raw["customer-comments"], "broken");
    }

    #[test]
    fn huge_quantities_of_one_return_saturate() {
        // Found by fuzzing (fuzz/regressions/returns/): it overflowed.
        let text = "return-date\torder-id\tsku\tquantity\tlicense-plate-number\n\
                    2026-02-10\t111-1\tS1\t9223372036854775807\tLPN1\n\
                    2026-02-10\t111-1\tS1\t9223372036854775807\tLPN1\n";
        let p = parse(FBA_REPORT_TYPE, text.as_bytes(), encoding_rs::UTF_8, us()).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].quantity, i64::MAX);
    }

    #[test]
    fn mfn_returns_reordered_missing_and_malformed() {
        // A short, reordered generation with an unknown column.
        let text = "Merchant SKU\tOrder ID\tReturn request date\tReturn quantity\tNew Column\tReturn Reason\tAmazon RMA ID\n\
                    S-9\t112-1\t2026-02-12T10:00:00+00:00\t1\tz\tNO_REASON\tD1\n\
                    S-9\t112-2\tnot a date\t1\tz\tNO_REASON\tD2\n\
                    S-9\t112-3\t2026-02-12T10:00:00+00:00\tone\tz\tNO_REASON\tD3\n\
                    S-9\t112-4\t2026-02-12\n";
        let p = parse(
            MFN_REPORT_TYPE,
            text.as_bytes(),
            encoding_rs::WINDOWS_1252,
            us(),
        )
        .unwrap();
        assert_eq!(p.rows.len(), 1);
        let r = &p.rows[0];
        assert_eq!(
            (r.source, r.return_ref.as_str(), r.quantity),
            ("mfn", "D1", 1)
        );
        assert_eq!(r.reason.as_deref(), Some("NO_REASON"));
        assert!(p.missing.contains(&"Return request status"));
        assert_eq!(
            p.places(),
            "3 Return request date; 4 Return quantity; 5 Amazon RMA ID"
        );
        assert!(parse("GET_X", &b""[..], encoding_rs::UTF_8, us()).is_err());
    }
}
