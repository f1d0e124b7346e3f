//! Job `inventory_planning`: GET_FBA_INVENTORY_PLANNING_DATA (flat file;
//! the report that replaced inventory health and aged inventory, REFERENCE
//! §0.8). One row per FBA SKU per snapshot date (the report's own
//! `snapshot-date`), daily; a re-run the same day overwrites that snapshot.
//!
//! The columns the rules read are typed; every other known column of the
//! row goes to `extra_json` by name. Columns come and go between header
//! generations (REFERENCE §4 lists 65; older files lack the finer age
//! buckets and the inbound split), so each is optional except `sku`.

use chrono::NaiveDate;
use encoding_rs::Encoding;
use serde_json::json;

use super::flatfile::{position, Column, Issue, Record};
pub use super::report_util::StreamError;
use super::report_util::{self as ru, Fetched, Parsed, Streamed, Tally};
use super::{Ctx, JobError, JobName, JobReport};
use crate::amazon::reports;
use crate::store::jobs;
use crate::store::seller_reports::{PlanningCells, PlanningRow, PlanningWriter, Scope};

pub const REPORT_TYPE: &str = "GET_FBA_INVENTORY_PLANNING_DATA";
const JOB: JobName = JobName::InventoryPlanning;

/// REFERENCE §4's columns in file order (with the names older generations
/// used as aliases).
pub static COLUMNS: [Column; 63] = [
    Column::alias("snapshot-date", &["snapshot_date", "date"]),
    Column::alias("sku", &["seller-sku", "merchant-sku"]),
    Column::new("fnsku"),
    Column::new("asin"),
    Column::new("product-name"),
    Column::new("condition"),
    Column::alias(
        "available",
        &["afn-fulfillable-quantity", "available-quantity"],
    ),
    Column::new("pending-removal-quantity"),
    Column::new("inv-age-0-to-90-days"),
    Column::new("inv-age-91-to-180-days"),
    Column::new("inv-age-181-to-270-days"),
    Column::new("inv-age-271-to-365-days"),
    Column::alias("inv-age-365-plus-days", &["inv-age-365-plus"]),
    Column::new("currency"),
    Column::new("qty-to-be-charged-ltsf-11-mo"),
    Column::new("projected-ltsf-11-mo"),
    Column::new("qty-to-be-charged-ltsf-12-mo"),
    Column::new("estimated-ltsf-next-charge"),
    Column::new("units-shipped-t7"),
    Column::new("units-shipped-t30"),
    Column::new("units-shipped-t60"),
    Column::new("units-shipped-t90"),
    Column::new("alert"),
    Column::new("your-price"),
    Column::new("sales-price"),
    Column::new("lowest-price-new-plus-shipping"),
    Column::new("lowest-price-used"),
    Column::new("recommended-action"),
    Column::new("healthy-inventory-level"),
    Column::new("recommended-sales-price"),
    Column::new("recommended-sale-duration-days"),
    Column::new("recommended-removal-quantity"),
    Column::new("estimated-cost-savings-of-recommended-actions"),
    Column::new("sell-through"),
    Column::new("item-volume"),
    Column::new("volume-unit-measurement"),
    Column::new("storage-type"),
    Column::new("storage-volume"),
    Column::new("marketplace"),
    Column::new("product-group"),
    Column::new("sales-rank"),
    Column::alias("days-of-supply", &["total-days-of-supply"]),
    Column::new("estimated-excess-quantity"),
    Column::new("weeks-of-cover-t30"),
    Column::new("weeks-of-cover-t90"),
    Column::new("featuredoffer-price"),
    Column::new("sales-shipped-last-7-days"),
    Column::new("sales-shipped-last-30-days"),
    Column::new("sales-shipped-last-60-days"),
    Column::new("sales-shipped-last-90-days"),
    Column::new("inv-age-0-to-30-days"),
    Column::new("inv-age-31-to-60-days"),
    Column::new("inv-age-61-to-90-days"),
    Column::new("inv-age-181-to-330-days"),
    Column::new("inv-age-331-to-365-days"),
    Column::new("estimated-storage-cost-next-month"),
    Column::new("inbound-quantity"),
    Column::new("inbound-working"),
    Column::new("inbound-shipped"),
    Column::new("inbound-received"),
    Column::new("no-sale-last-6-months"),
    Column::new("reserved-quantity"),
    Column::new("unfulfillable-quantity"),
];

/// Columns stored in typed fields (the rest go to `extra_json`).
const TYPED: &[&str] = &[
    "snapshot-date",
    "sku",
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
/// (`2026-03-02T00:00:00+00:00`), or US style `03/02/2026`.
pub fn parse_snapshot_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .or_else(|| NaiveDate::parse_from_str(s, "%m/%d/%Y").ok())
}

/// Positions in [`COLUMNS`] of the typed columns (checked at compile time).
mod at {
    use super::{position, COLUMNS};
    pub const SNAPSHOT_DATE: usize = position(&COLUMNS, "snapshot-date");
    pub const SKU: usize = position(&COLUMNS, "sku");
    pub const ASIN: usize = position(&COLUMNS, "asin");
    pub const FNSKU: usize = position(&COLUMNS, "fnsku");
    pub const CONDITION: usize = position(&COLUMNS, "condition");
    pub const AVAILABLE: usize = position(&COLUMNS, "available");
    pub const INBOUND: usize = position(&COLUMNS, "inbound-quantity");
    pub const RESERVED: usize = position(&COLUMNS, "reserved-quantity");
    pub const UNFULFILLABLE: usize = position(&COLUMNS, "unfulfillable-quantity");
    pub const DAYS_OF_SUPPLY: usize = position(&COLUMNS, "days-of-supply");
    pub const T7: usize = position(&COLUMNS, "units-shipped-t7");
    pub const T30: usize = position(&COLUMNS, "units-shipped-t30");
    pub const T60: usize = position(&COLUMNS, "units-shipped-t60");
    pub const T90: usize = position(&COLUMNS, "units-shipped-t90");
    pub const AGE_0_90: usize = position(&COLUMNS, "inv-age-0-to-90-days");
    pub const AGE_91_180: usize = position(&COLUMNS, "inv-age-91-to-180-days");
    pub const AGE_181_270: usize = position(&COLUMNS, "inv-age-181-to-270-days");
    pub const AGE_271_365: usize = position(&COLUMNS, "inv-age-271-to-365-days");
    pub const AGE_365_PLUS: usize = position(&COLUMNS, "inv-age-365-plus-days");
    pub const SALES_RANK: usize = position(&COLUMNS, "sales-rank");
    pub const CURRENCY: usize = position(&COLUMNS, "currency");
    pub const STORAGE_COST: usize = position(&COLUMNS, "estimated-storage-cost-next-month");
    pub const RECOMMENDED_ACTION: usize = position(&COLUMNS, "recommended-action");
}

/// Whether wanted column `i` is typed (else it goes to `extra_json`).
fn is_typed(i: usize) -> bool {
    TYPED.contains(&COLUMNS[i].name)
}

/// One row's typed cells, borrowing the record, and its untyped cells
/// written as a JSON object into `extra` (reused from row to row; the same
/// text `serde_json` gives for [`ru::cells`]).
fn cells<'r>(
    rec: &'r Record<'_>,
    fallback_date: NaiveDate,
    typed: &[bool; COLUMNS.len()],
    extra: &'r mut Vec<u8>,
) -> Result<PlanningCells<'r>, Issue> {
    let snapshot_date = match rec.at(at::SNAPSHOT_DATE) {
        None => fallback_date,
        Some(s) => parse_snapshot_date(s)
            .ok_or_else(|| rec.issue("snapshot-date", &format!("not a date: {s:?}")))?,
    };
    let int = |i| ru::int_at(rec, i);
    let row = PlanningCells {
        snapshot_date,
        sku: rec.req_at(at::SKU)?,
        asin: rec.at(at::ASIN),
        fnsku: rec.at(at::FNSKU),
        condition: rec.at(at::CONDITION),
        available: int(at::AVAILABLE)?,
        inbound_quantity: int(at::INBOUND)?,
        reserved_quantity: int(at::RESERVED)?,
        unfulfillable_quantity: int(at::UNFULFILLABLE)?,
        days_of_supply: ru::num_at(rec, at::DAYS_OF_SUPPLY)?,
        units_shipped_t7: int(at::T7)?,
        units_shipped_t30: int(at::T30)?,
        units_shipped_t60: int(at::T60)?,
        units_shipped_t90: int(at::T90)?,
        inv_age_0_to_90_days: int(at::AGE_0_90)?,
        inv_age_91_to_180_days: int(at::AGE_91_180)?,
        inv_age_181_to_270_days: int(at::AGE_181_270)?,
        inv_age_271_to_365_days: int(at::AGE_271_365)?,
        inv_age_365_plus_days: int(at::AGE_365_PLUS)?,
        sales_rank: int(at::SALES_RANK)?,
        currency: rec.at(at::CURRENCY),
        estimated_storage_cost_next_month: ru::num_at(rec, at::STORAGE_COST)?,
        recommended_action: rec.at(at::RECOMMENDED_ACTION),
        extra_json: "",
    };
    extra.clear();
    extra.push(b'{');
    for (i, c) in COLUMNS.iter().enumerate() {
        if typed[i] {
            continue;
        }
        if let Some(v) = rec.at(i) {
            if extra.len() > 1 {
                extra.push(b',');
            }
            // Column names are plain ASCII (no escaping needed); values
            // are escaped by serde_json, as `ru::cells` + `to_string` did.
            extra.push(b'"');
            extra.extend_from_slice(c.name.as_bytes());
            extra.extend_from_slice(b"\":");
            serde_json::to_writer(&mut *extra, v).map_err(|e| rec.issue(c.name, &e.to_string()))?;
        }
    }
    extra.push(b'}');
    let extra_json = std::str::from_utf8(extra).map_err(|e| rec.issue("extra", &e.to_string()))?;
    Ok(PlanningCells { extra_json, ..row })
}

fn typed_mask() -> [bool; COLUMNS.len()] {
    std::array::from_fn(is_typed)
}

/// Parses the report; rows without a snapshot date are dated `today` (the
/// marketplace day the report was read).
pub fn parse(
    bytes: &[u8],
    encoding: &'static Encoding,
    today: NaiveDate,
) -> Result<Parsed<PlanningRow>, String> {
    let typed = typed_mask();
    let mut extra = Vec::new();
    ru::read_flat(bytes, encoding, &COLUMNS, |rec| {
        let c = cells(rec, today, &typed, &mut extra)?;
        let own = |s: Option<&str>| s.map(str::to_string);
        Ok(PlanningRow {
            snapshot_date: c.snapshot_date,
            sku: c.sku.to_string(),
            asin: own(c.asin),
            fnsku: own(c.fnsku),
            condition: own(c.condition),
            available: c.available,
            inbound_quantity: c.inbound_quantity,
            reserved_quantity: c.reserved_quantity,
            unfulfillable_quantity: c.unfulfillable_quantity,
            days_of_supply: c.days_of_supply,
            units_shipped_t7: c.units_shipped_t7,
            units_shipped_t30: c.units_shipped_t30,
            units_shipped_t60: c.units_shipped_t60,
            units_shipped_t90: c.units_shipped_t90,
            inv_age_0_to_90_days: c.inv_age_0_to_90_days,
            inv_age_91_to_180_days: c.inv_age_91_to_180_days,
            inv_age_181_to_270_days: c.inv_age_181_to_270_days,
            inv_age_271_to_365_days: c.inv_age_271_to_365_days,
            inv_age_365_plus_days: c.inv_age_365_plus_days,
            sales_rank: c.sales_rank,
            currency: own(c.currency),
            estimated_storage_cost_next_month: c.estimated_storage_cost_next_month,
            recommended_action: own(c.recommended_action),
            extra: ru::cells(rec, &COLUMNS, TYPED),
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
) -> Result<StoredPlanning, StreamError> {
    let typed = typed_mask();
    let mut extra = Vec::with_capacity(4096);
    let mut writer = PlanningWriter::new(conn, scope)?;
    let (mut written, mut snapshot) = (0, None::<NaiveDate>);
    let read = ru::stream_flat(
        input,
        encoding,
        &COLUMNS,
        |rec| {
            let row = match cells(rec, today, &typed, &mut extra) {
                Ok(r) => r,
                Err(issue) => return Ok(Err(issue)),
            };
            written += writer.write(&row)?;
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
    let account = ctx.account.name.as_str();
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        let today = ru::day_of(m, ctx.now);
        let req = ru::request(REPORT_TYPE, m);
        let (doc, handle) = match ru::fetch(ctx, JOB, &req).await? {
            Fetched::Doc(d) => {
                let h = d.handle.clone();
                (Some(d), h)
            }
            Fetched::NoData(h) => (None, h),
            Fetched::Later(why) => {
                tally.note(format!("{}: {why}", m.country));
                continue;
            }
            Fetched::Failed(why) => {
                tally.failures.push(format!("{}: {why}", m.country));
                continue;
            }
        };
        let scope = Scope {
            account,
            marketplace_id: m.id,
            now: ctx.now,
        };
        // Parsed and stored as it is read (one line at a time), rows,
        // cursor and report row in one transaction.
        let stored = ctx.with_db(|c| {
            let tx = c.transaction()?;
            let stored = match &doc {
                None => StoredPlanning::default(),
                Some(d) => {
                    let res = reports::gunzip_stream(d.bytes(), false, |input| {
                        store_stream(&tx, &scope, input, d.encoding(), today)
                    });
                    match res {
                        Ok(s) => s,
                        Err(StreamError::Store(e)) => return Err(e),
                        Err(StreamError::Unreadable(e)) => return Ok(Err(e)),
                    }
                }
            };
            let cursor = json!({
                "snapshot_date": stored.snapshot.map(|d| d.to_string()),
                "skus": stored.rows,
                "skipped": stored.read.skipped,
            });
            jobs::set_cursor(&tx, JOB.as_str(), account, m.id, &cursor, ctx.now)?;
            reports::finish(&tx, &handle)?;
            tx.commit()?;
            Ok(Ok(stored))
        })?;
        let stored =
            stored.map_err(|e| JobError::Data(format!("report {}: {e}", handle.report_id)))?;
        tally.summary(
            &format!("{} planning", m.country),
            stored.summary.as_deref(),
        );
        tally.rows += stored.written;
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn latin1(s: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1252.encode(s).0.into_owned()
    }

    #[test]
    fn the_reference_header_generation() {
        let header = COLUMNS
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join("\t");
        let mut cells: Vec<String> = vec![String::new(); COLUMNS.len()];
        let set = |cells: &mut Vec<String>, name: &str, v: &str| {
            let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
            cells[i] = v.to_string();
        };
        set(&mut cells, "snapshot-date", "2026-03-02");
        set(&mut cells, "sku", "FW-BOTTLE-01");
        set(&mut cells, "asin", "B0SIMBTL01");
        set(&mut cells, "product-name", "Gourde isotherme \u{e9}t\u{e9}");
        set(&mut cells, "available", "120");
        set(&mut cells, "days-of-supply", "45.5");
        set(&mut cells, "units-shipped-t30", "80");
        set(&mut cells, "inv-age-91-to-180-days", "7");
        set(&mut cells, "sales-rank", "1,234");
        set(&mut cells, "recommended-action", "No action required");
        set(&mut cells, "storage-type", "Standard");
        let text = format!("{header}\n{}\n", cells.join("\t"));
        let p = parse(&latin1(&text), encoding_rs::WINDOWS_1252, d("2026-03-03")).unwrap();
        assert!(p.issues.is_empty() && p.missing.is_empty(), "{p:?}");
        let r = &p.rows[0];
        assert_eq!(r.snapshot_date, d("2026-03-02"));
        assert_eq!(r.sku, "FW-BOTTLE-01");
        assert_eq!(r.available, Some(120));
        assert_eq!(r.days_of_supply, Some(45.5));
        assert_eq!(r.units_shipped_t30, Some(80));
        assert_eq!(r.inv_age_91_to_180_days, Some(7));
        assert_eq!(r.sales_rank, Some(1234));
        assert_eq!(r.units_shipped_t7, None);
        assert_eq!(r.recommended_action.as_deref(), Some("No action required"));
        // Latin-1 decoded; untyped columns kept by name.
        assert_eq!(r.extra["product-name"], "Gourde isotherme \u{e9}t\u{e9}");
        assert_eq!(r.extra["storage-type"], "Standard");
        assert!(!r.extra.contains_key("sku"));
    }

    #[test]
    fn an_older_shorter_generation_reordered_with_extras() {
        // Fewer columns, other order, an unknown column, no snapshot-date.
        let text = "asin\tsku\tunknown-new-column\tavailable\tinv-age-365-plus\n\
                    B0A\tS-1\tzzz\t5\t2\n";
        let p = parse(text.as_bytes(), encoding_rs::WINDOWS_1252, d("2026-03-03")).unwrap();
        let r = &p.rows[0];
        assert_eq!(r.snapshot_date, d("2026-03-03"));
        assert_eq!((r.sku.as_str(), r.asin.as_deref()), ("S-1", Some("B0A")));
        assert_eq!(r.available, Some(5));
        assert_eq!(r.inv_age_365_plus_days, Some(2));
        assert!(p.missing.contains(&"days-of-supply"));
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
        let p = parse(text.as_bytes(), encoding_rs::WINDOWS_1252, d("2026-03-03")).unwrap();
        let skus: Vec<&str> = p.rows.iter().map(|r| r.sku.as_str()).collect();
        assert_eq!(skus, vec!["S-1", "S-5"]);
        let at: Vec<(usize, Option<&str>)> = p
            .issues
            .iter()
            .map(|i| (i.line, i.column.as_deref()))
            .collect();
        assert_eq!(
            at,
            vec![
                (3, Some("available")),
                (4, Some("days-of-supply")),
                (5, Some("sku")),
                (6, Some("snapshot-date")),
            ]
        );
    }
}
