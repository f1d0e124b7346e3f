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

use super::flatfile::{Column, Issue, Record};
use super::report_util::{self as ru, Fetched, Parsed, Tally};
use super::{Ctx, JobError, JobName, JobReport};
use crate::amazon::reports;
use crate::store::jobs;
use crate::store::seller_reports::{self as store, PlanningRow, Scope};

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

fn row(rec: &Record<'_>, fallback_date: NaiveDate) -> Result<PlanningRow, Issue> {
    let snapshot_date = match rec.get("snapshot-date") {
        None => fallback_date,
        Some(s) => parse_snapshot_date(s)
            .ok_or_else(|| rec.issue("snapshot-date", &format!("not a date: {s:?}")))?,
    };
    let text = |n: &str| rec.get(n).map(str::to_string);
    Ok(PlanningRow {
        snapshot_date,
        sku: rec.req("sku")?.to_string(),
        asin: text("asin"),
        fnsku: text("fnsku"),
        condition: text("condition"),
        available: ru::int(rec, "available")?,
        inbound_quantity: ru::int(rec, "inbound-quantity")?,
        reserved_quantity: ru::int(rec, "reserved-quantity")?,
        unfulfillable_quantity: ru::int(rec, "unfulfillable-quantity")?,
        days_of_supply: ru::num(rec, "days-of-supply")?,
        units_shipped_t7: ru::int(rec, "units-shipped-t7")?,
        units_shipped_t30: ru::int(rec, "units-shipped-t30")?,
        units_shipped_t60: ru::int(rec, "units-shipped-t60")?,
        units_shipped_t90: ru::int(rec, "units-shipped-t90")?,
        inv_age_0_to_90_days: ru::int(rec, "inv-age-0-to-90-days")?,
        inv_age_91_to_180_days: ru::int(rec, "inv-age-91-to-180-days")?,
        inv_age_181_to_270_days: ru::int(rec, "inv-age-181-to-270-days")?,
        inv_age_271_to_365_days: ru::int(rec, "inv-age-271-to-365-days")?,
        inv_age_365_plus_days: ru::int(rec, "inv-age-365-plus-days")?,
        sales_rank: ru::int(rec, "sales-rank")?,
        currency: text("currency"),
        estimated_storage_cost_next_month: ru::num(rec, "estimated-storage-cost-next-month")?,
        recommended_action: text("recommended-action"),
        extra: ru::cells(rec, &COLUMNS, TYPED),
    })
}

/// Parses the report; rows without a snapshot date are dated `today` (the
/// marketplace day the report was read).
pub fn parse(
    bytes: &[u8],
    encoding: &'static Encoding,
    today: NaiveDate,
) -> Result<Parsed<PlanningRow>, String> {
    ru::read_flat(bytes, encoding, &COLUMNS, |rec| row(rec, today))
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let account = ctx.account.name.as_str();
    let mut tally = Tally::default();
    for m in ctx.account.marketplaces() {
        let today = ru::day_of(m, ctx.now);
        let req = ru::request(REPORT_TYPE, m);
        let (parsed, handle) = match ru::fetch(ctx, JOB, &req).await? {
            Fetched::Doc(d) => {
                let p = parse(d.bytes(), d.encoding(), today)
                    .map_err(|e| JobError::Data(format!("report {}: {e}", d.handle.report_id)))?;
                (p, d.handle)
            }
            Fetched::NoData(h) => (Parsed::default(), h),
            Fetched::Later(why) => {
                tally.note(format!("{}: {why}", m.country));
                continue;
            }
            Fetched::Failed(why) => {
                tally.failures.push(format!("{}: {why}", m.country));
                continue;
            }
        };
        tally.issues(&format!("{} planning", m.country), &parsed);
        let scope = Scope {
            account,
            marketplace_id: m.id,
            now: ctx.now,
        };
        let snapshot = parsed.rows.iter().map(|r| r.snapshot_date).max();
        tally.rows += ctx.with_db(|c| {
            let tx = c.transaction()?;
            let n = store::write_planning(&tx, &scope, &parsed.rows)?;
            let cursor = json!({
                "snapshot_date": snapshot.map(|d| d.to_string()),
                "skus": parsed.rows.len(),
                "skipped": parsed.skipped,
            });
            jobs::set_cursor(&tx, JOB.as_str(), account, m.id, &cursor, ctx.now)?;
            reports::finish(&tx, &handle)?;
            tx.commit()?;
            Ok(n)
        })?;
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
