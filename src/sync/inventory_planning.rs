//! Job `inventory_planning`: GET_FBA_INVENTORY_PLANNING_DATA (flat file;
//! the report that replaced inventory health and aged inventory, REFERENCE
//! §0.8). One row per FBA SKU per snapshot date (the report's own
//! `snapshot-date`), daily; a re-run the same day overwrites that snapshot.
//!
//! Every column of REFERENCE §4's list has a typed column of its own
//! (migration 0002); columns the list does not know (newer header
//! generations) and values that do not fit their column are kept as text
//! in `extra_json` by header name, so nothing the report says is lost.
//! Columns come and go between header generations (older files lack the
//! finer age buckets and the inbound split), so each is optional except
//! `sku`.
//!
//! A report can hold a row per SKU of a large catalogue (the `ingest`
//! bench reads 1,000,000): the job streams it, one line at a time, through
//! one prepared statement ([`store_stream`]).

use chrono::NaiveDate;
use encoding_rs::Encoding;
use serde_json::json;

use super::flatfile::{self, columns, position, Column, Issue, Parsed, Record, Streamed};
pub use super::report::StreamError;
use super::report::{self, Document, Label, Report, Tally};
use super::report_util as ru;
use super::{Ctx, JobError, JobName, JobReport};
use crate::model::marketplace::Marketplace;
use crate::store::seller_reports::{
    Cell, Kind, PlanningRow, PlanningWriter, Scope, PLANNING_COLUMNS,
};
use rusqlite::types::Value;

pub const REPORT_TYPE: &str = "GET_FBA_INVENTORY_PLANNING_DATA";
const JOB: JobName = JobName::InventoryPlanning;

/// REFERENCE §4's columns in file order (with the names older generations
/// used as aliases).
pub static COLUMNS: [Column; 63] = columns![
    "snapshot-date" | "snapshot_date" | "date",
    "sku" | "seller-sku" | "merchant-sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "available" | "afn-fulfillable-quantity" | "available-quantity",
    "pending-removal-quantity",
    "inv-age-0-to-90-days",
    "inv-age-91-to-180-days",
    "inv-age-181-to-270-days",
    "inv-age-271-to-365-days",
    "inv-age-365-plus-days" | "inv-age-365-plus",
    "currency",
    "qty-to-be-charged-ltsf-11-mo",
    "projected-ltsf-11-mo",
    "qty-to-be-charged-ltsf-12-mo",
    "estimated-ltsf-next-charge",
    "units-shipped-t7",
    "units-shipped-t30",
    "units-shipped-t60",
    "units-shipped-t90",
    "alert",
    "your-price",
    "sales-price",
    "lowest-price-new-plus-shipping",
    "lowest-price-used",
    "recommended-action",
    "healthy-inventory-level",
    "recommended-sales-price",
    "recommended-sale-duration-days",
    "recommended-removal-quantity",
    "estimated-cost-savings-of-recommended-actions",
    "sell-through",
    "item-volume",
    "volume-unit-measurement",
    "storage-type",
    "storage-volume",
    "marketplace",
    "product-group",
    "sales-rank",
    "days-of-supply" | "total-days-of-supply",
    "estimated-excess-quantity",
    "weeks-of-cover-t30",
    "weeks-of-cover-t90",
    "featuredoffer-price",
    "sales-shipped-last-7-days",
    "sales-shipped-last-30-days",
    "sales-shipped-last-60-days",
    "sales-shipped-last-90-days",
    "inv-age-0-to-30-days",
    "inv-age-31-to-60-days",
    "inv-age-61-to-90-days",
    "inv-age-181-to-330-days",
    "inv-age-331-to-365-days",
    "estimated-storage-cost-next-month",
    "inbound-quantity",
    "inbound-working",
    "inbound-shipped",
    "inbound-received",
    "no-sale-last-6-months",
    "reserved-quantity",
    "unfulfillable-quantity",
];

/// The columns the rules read (0001's typed columns): a value there that
/// is not what the column holds skips the row with an issue, as a rule
/// must not read a half-understood row. A bad value in any other column
/// is kept as text in `extra_json` under its header name, and the row
/// stored with that column NULL.
const STRICT: &[&str] = &[
    "asin",
    "fnsku",
    "condition",
    "available",
    "inbound-quantity",
    "reserved-quantity",
    "unfulfillable-quantity",
    "days-of-supply",
    "units-shipped-t7",
    "units-shipped-t30",
    "units-shipped-t60",
    "units-shipped-t90",
    "inv-age-0-to-90-days",
    "inv-age-91-to-180-days",
    "inv-age-181-to-270-days",
    "inv-age-271-to-365-days",
    "inv-age-365-plus-days",
    "sales-rank",
    "currency",
    "estimated-storage-cost-next-month",
    "recommended-action",
];

/// `snapshot-date` as the report writes it: `2026-03-02`, or with a time
/// (`2026-03-02T00:00:00+00:00`), or the marketplace's short date
/// (`03/02/2026` in the US is 2 March, in the UK 3 February: see
/// `ru::date_form`), never guessed.
pub fn parse_snapshot_date(s: &str, m: &Marketplace) -> Option<NaiveDate> {
    let s = s.trim();
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        // chrono reads `-026-03-01` as the year -26 (found by fuzzing).
        .filter(ru::is_plausible)
        .or_else(|| ru::parse_local_date(s.split_whitespace().next()?, ru::date_form(m)))
}

/// Positions in [`COLUMNS`] of the key (checked at compile time); the
/// data columns follow them, in the store's order ([`PLANNING_COLUMNS`]).
const SNAPSHOT_DATE: usize = position(&COLUMNS, "snapshot-date");
const SKU: usize = position(&COLUMNS, "sku");
const FIRST_DATA: usize = 2;
const _: () = assert!(SNAPSHOT_DATE == 0 && SKU == 1);
const _: () = assert!(COLUMNS.len() == FIRST_DATA + PLANNING_COLUMNS.len());

/// Per data column: its kind, and whether it is strict.
struct Plan {
    kind: [Kind; PLANNING_COLUMNS.len()],
    strict: [bool; PLANNING_COLUMNS.len()],
}

impl Plan {
    fn new() -> Plan {
        Plan {
            kind: std::array::from_fn(|i| PLANNING_COLUMNS[i].1),
            strict: std::array::from_fn(|i| STRICT.contains(&COLUMNS[FIRST_DATA + i].name)),
        }
    }
}

/// One parsed row, borrowing the record (and `extra_json` the buffer).
struct Row<'r> {
    snapshot_date: NaiveDate,
    sku: &'r str,
    cells: [Cell<'r>; PLANNING_COLUMNS.len()],
    extra_json: &'r str,
}

/// Appends `"name":value` (a JSON string) to the object being built.
fn push_json(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(if out.is_empty() { b'{' } else { b',' });
    // serde_json writes a str as a valid, escaped JSON string; writing
    // into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, name);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
}

/// One row's cells; `extra` (reused from row to row) receives the
/// `extra_json` object: the file's unknown columns and the values that did
/// not fit their column. Usually it stays empty and the row stores `{}`.
fn cells<'r>(
    rec: &'r Record<'_>,
    m: &Marketplace,
    fallback_date: NaiveDate,
    plan: &Plan,
    extra: &'r mut Vec<u8>,
    last_date: &mut (NaiveDate, String),
) -> Result<Row<'r>, Issue> {
    let snapshot_date = match rec.at(SNAPSHOT_DATE) {
        None => fallback_date,
        // Every row of a snapshot carries the same date: parse it once.
        Some(s) if s == last_date.1 => last_date.0,
        Some(s) => {
            let d = parse_snapshot_date(s, m)
                .ok_or_else(|| rec.issue("snapshot-date", &ru::not_a_local_date(s, m)))?;
            *last_date = (d, s.to_string());
            d
        }
    };
    let sku = rec.req_at(SKU)?;
    extra.clear();
    let mut cells = [Cell::Null; PLANNING_COLUMNS.len()];
    for (i, cell) in cells.iter_mut().enumerate() {
        let at = FIRST_DATA + i;
        let Some(v) = rec.at(at) else { continue };
        let parsed = match plan.kind[i] {
            Kind::Text => Some(Cell::Text(v)),
            Kind::Int => flatfile::parse_int(v).map(Cell::Int),
            Kind::Real => flatfile::parse_num_in(v, Some(ru::number_form(m))).map(Cell::Real),
        };
        match parsed {
            Some(c) => *cell = c,
            None if plan.strict[i] => {
                let what = if plan.kind[i] == Kind::Int {
                    "not a whole number"
                } else {
                    "not a number"
                };
                return Err(rec.issue(rec.name(at), &format!("{what}: {v:?}")));
            }
            None => push_json(extra, rec.name(at), v),
        }
    }
    for (name, v) in rec.unknown() {
        push_json(extra, name, v);
    }
    let extra_json = if extra.is_empty() {
        "{}"
    } else {
        extra.push(b'}');
        // Only JSON (ASCII punctuation and escaped UTF-8) was written.
        std::str::from_utf8(extra).map_err(|e| rec.issue("extra", &e.to_string()))?
    };
    Ok(Row {
        snapshot_date,
        sku,
        cells,
        extra_json,
    })
}

/// The columns without which a file is not this report (what `flywheel
/// import` requires): every generation has them, and a row without a SKU
/// cannot be stored.
pub const REQUIRED: &[&str] = &["sku", "available"];

/// Parses the report; rows without a snapshot date are dated `today` (the
/// marketplace day the report was read).
pub fn parse(
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    today: NaiveDate,
    m: &Marketplace,
) -> Result<Parsed<PlanningRow>, String> {
    let plan = Plan::new();
    let mut extra = Vec::new();
    let mut last_date = (today, String::new());
    flatfile::read_flat(input, ru::text_of(encoding, m), &COLUMNS, |rec| {
        let row = cells(rec, m, today, &plan, &mut extra, &mut last_date)?;
        let values = row
            .cells
            .iter()
            .map(|c| match *c {
                Cell::Null => Value::Null,
                Cell::Int(v) => Value::Integer(v),
                Cell::Real(v) => Value::Real(v),
                Cell::Text(t) => Value::Text(t.to_string()),
            })
            .collect();
        let extra = match serde_json::from_str(row.extra_json) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        Ok(PlanningRow {
            snapshot_date: row.snapshot_date,
            sku: row.sku.to_string(),
            values,
            extra,
        })
    })
}

/// What [`store_stream`] did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredPlanning {
    /// Rows read and stored (changed or not); skipped rows are in `read`.
    pub rows: u64,
    /// Rows inserted or changed.
    pub written: u64,
    /// The newest snapshot date read.
    pub snapshot: Option<NaiveDate>,
    /// The reader's account: rows taken, skipped rows, missing columns.
    pub read: Streamed,
    pub summary: Option<String>,
}

/// Parses the report from `input` and stores each row as it is read, in
/// the caller's transaction (what the job does; [`parse`] +
/// `store::write_planning` give the same rows and the same writes). Holds
/// one line at a time, so memory does not grow with the report.
pub fn store_stream(
    conn: &rusqlite::Connection,
    scope: &Scope<'_>,
    input: impl std::io::BufRead,
    encoding: &'static Encoding,
    today: NaiveDate,
    m: &Marketplace,
) -> Result<StoredPlanning, StreamError> {
    let plan = Plan::new();
    let mut extra = Vec::with_capacity(1024);
    let mut last_date = (today, String::new());
    let mut writer = PlanningWriter::new(conn, scope)?;
    let (mut written, mut snapshot) = (0, None::<NaiveDate>);
    let read = flatfile::stream_flat(
        input,
        ru::text_of(encoding, m),
        &COLUMNS,
        |rec| {
            let row = match cells(rec, m, today, &plan, &mut extra, &mut last_date) {
                Ok(r) => r,
                Err(issue) => return Ok(Err(issue)),
            };
            written += writer.write(row.snapshot_date, row.sku, &row.cells, row.extra_json)?;
            snapshot = snapshot.max(Some(row.snapshot_date));
            Ok(Ok(()))
        },
        StreamError::Unreadable,
    )?;
    Ok(StoredPlanning {
        rows: read.rows,
        written,
        snapshot,
        summary: read.summary.clone(),
        read,
    })
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        let today = ru::day_of(m, ctx.now);
        let req = ru::request(REPORT_TYPE, m);
        let scope = ru::scope(ctx, m);
        // Parsed and stored as it is read (one line at a time), rows,
        // cursor and report row in one transaction.
        let step = report::step(
            ctx,
            &Report::new(JOB, &req, m.id),
            report::in_transaction,
            |tx, cursor, doc: Option<Document>| {
                let stored = match doc {
                    None => StoredPlanning::default(),
                    Some(d) => {
                        d.stream(|input| store_stream(tx, &scope, input, d.encoding(), today, m))?
                    }
                };
                *cursor = json!({
                    "snapshot_date": stored.snapshot.map(|d| d.to_string()),
                    "skus": stored.rows,
                    "skipped": stored.read.skipped,
                });
                Ok(stored)
            },
        )
        .await?;
        if let Some(stored) = tally.take(Label::marketplace(m.country), step)? {
            let what = format!("{} planning", m.country);
            tally.summary(&what, stored.summary.as_deref());
            tally.rows += stored.written;
        }
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::date as d;

    fn latin1(s: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1252.encode(s).0.into_owned()
    }

    fn us() -> &'static Marketplace {
        crate::model::marketplace::lookup("US").unwrap()
    }

    /// A US file read on 2026-03-03 (the date of rows without one).
    fn parse_us(text: &[u8]) -> Parsed<PlanningRow> {
        parse(text, encoding_rs::WINDOWS_1252, d("2026-03-03"), us()).unwrap()
    }

    #[test]
    fn snapshot_dates_follow_the_marketplace() {
        let mp = |k| crate::model::marketplace::lookup(k).unwrap();
        for (s, m, want) in [
            ("2026-03-02", "US", Some("2026-03-02")),
            ("2026-03-02T00:00:00+00:00", "JP", Some("2026-03-02")),
            ("03/02/2026", "US", Some("2026-03-02")),
            ("03/02/2026", "UK", Some("2026-02-03")),
            ("03.02.2026", "DE", Some("2026-02-03")),
            ("2026/03/02", "JP", Some("2026-03-02")),
            ("03/13/2026", "UK", None),
            ("-026-03-01", "US", None),
        ] {
            assert_eq!(parse_snapshot_date(s, mp(m)), want.map(d), "{m} {s}");
        }
    }

    #[test]
    fn every_column_of_the_list_has_its_typed_column() {
        for (i, (sql, _)) in PLANNING_COLUMNS.iter().enumerate() {
            assert_eq!(
                COLUMNS[FIRST_DATA + i].name.replace('-', "_"),
                *sql,
                "column {i}"
            );
        }
        for s in STRICT {
            assert!(COLUMNS.iter().any(|c| c.name == *s), "{s}");
        }
    }

    #[test]
    fn the_reference_header_generation() {
        let header = COLUMNS
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join("\t");
        let mut cells: Vec<String> = vec![String::new(); COLUMNS.len()];
        // (column, cell)
        for (name, v) in [
            ("snapshot-date", "2026-03-02"),
            ("sku", "FW-BOTTLE-01"),
            ("asin", "B0SIMBTL01"),
            ("product-name", "Gourde isotherme \u{e9}t\u{e9}"),
            ("available", "120"),
            ("days-of-supply", "45.5"),
            ("units-shipped-t30", "80"),
            ("inv-age-91-to-180-days", "7"),
            ("sales-rank", "1,234"),
            ("recommended-action", "No action required"),
            ("storage-type", "Standard"),
            ("your-price", "19.99"),
            ("healthy-inventory-level", "12.0"),
        ] {
            let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
            cells[i] = v.to_string();
        }
        let text = format!("{header}\n{}\n", cells.join("\t"));
        let p = parse(
            &latin1(&text)[..],
            encoding_rs::WINDOWS_1252,
            d("2026-03-03"),
            us(),
        )
        .unwrap();
        assert!(p.issues.is_empty() && p.missing.is_empty(), "{p:?}");
        let r = &p.rows[0];
        assert_eq!(r.snapshot_date, d("2026-03-02"));
        assert_eq!(r.sku, "FW-BOTTLE-01");
        // (column, value)
        for (col, want) in [
            ("available", Value::Integer(120)),
            ("days_of_supply", Value::Real(45.5)),
            ("units_shipped_t30", Value::Integer(80)),
            ("inv_age_91_to_180_days", Value::Integer(7)),
            ("sales_rank", Value::Integer(1234)),
            ("units_shipped_t7", Value::Null),
            (
                "recommended_action",
                Value::Text("No action required".into()),
            ),
            // Latin-1 decoded.
            (
                "product_name",
                Value::Text("Gourde isotherme \u{e9}t\u{e9}".into()),
            ),
            ("storage_type", Value::Text("Standard".into())),
            ("your_price", Value::Real(19.99)),
            ("healthy_inventory_level", Value::Integer(12)),
        ] {
            assert_eq!(r.get(col), &want, "{col}");
        }
        assert!(r.extra.is_empty(), "{:?}", r.extra);
    }

    #[test]
    fn an_older_shorter_generation_reordered_with_extras() {
        // Fewer columns, other order, an unknown column, no snapshot-date.
        let text = "asin\tsku\tunknown-new-column\tavailable\tinv-age-365-plus\n\
                    B0A\tS-1\tzzz\t5\t2\n";
        let p = parse_us(text.as_bytes());
        let r = &p.rows[0];
        assert_eq!(r.snapshot_date, d("2026-03-03"));
        assert_eq!((r.sku.as_str(), r.text("asin")), ("S-1", Some("B0A")));
        assert_eq!(r.int("available"), Some(5));
        assert_eq!(r.int("inv_age_365_plus_days"), Some(2));
        assert!(p.missing.contains(&"days-of-supply"));
        // The column the list does not know is kept by name.
        assert_eq!(r.extra["unknown-new-column"], "zzz");
    }

    #[test]
    fn a_bad_value_outside_the_rules_columns_keeps_the_row() {
        // (case, your-price cell, stored, kept in extra_json)
        for (case, cell, stored, kept) in [
            ("a price", "19.99", Value::Real(19.99), None),
            ("a localised price", "19,99", Value::Real(19.99), None),
            ("not a number", "N/A", Value::Null, Some("N/A")),
            ("empty", "", Value::Null, None),
        ] {
            let text = format!("sku\tyour-price\tavailable\nS-1\t{cell}\t4\n");
            let p = parse_us(text.as_bytes());
            assert_eq!(p.skipped, 0, "{case}");
            let r = &p.rows[0];
            assert_eq!(r.get("your_price"), &stored, "{case}");
            assert_eq!(
                r.extra.get("your-price").and_then(|v| v.as_str()),
                kept,
                "{case}"
            );
            assert_eq!(r.int("available"), Some(4), "{case}");
        }
    }

    #[test]
    fn malformed_rows_are_counted_with_row_and_column() {
        let text = "snapshot-date\tsku\tavailable\tdays-of-supply\n\
                    2026-03-02\tS-1\t5\t10\n\
                    2026-03-02\tS-2\tfive\t10\n\
                    2026-03-02\tS-3\t5\n\
                    2026-03-02\t\t5\t1\n\
                    yesterday\tS-4\t5\t1\n\
                    2026-03-02\tS-5\t5\t1\n";
        let p = parse_us(text.as_bytes());
        let skus: Vec<&str> = p.rows.iter().map(|r| r.sku.as_str()).collect();
        assert_eq!(skus, vec!["S-1", "S-5"]);
        assert_eq!(
            p.places(),
            "3 available; 4 days-of-supply; 5 sku; 6 snapshot-date"
        );
    }
}
