//! `inventory_snapshots`: stock per SKU per hourly pull. The FBA pull
//! (job inventory) writes `source = 'fba_inventory'` rows; the listings job
//! writes FBM quantities as `source = 'listings'` rows through
//! [`upsert_snapshot`] inside its own transaction.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::jobs::set_cursor;
use super::ops::ts;
use super::StoreError;

/// One SKU's stock at one observation. FBM rows (from listings) know only
/// `fulfillable`; the other quantities are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StockRow {
    pub sku: String,
    pub asin: Option<String>,
    pub fnsku: Option<String>,
    pub condition: Option<String>,
    pub fulfillable: i64,
    pub inbound_working: Option<i64>,
    pub inbound_shipped: Option<i64>,
    pub inbound_receiving: Option<i64>,
    pub reserved: Option<i64>,
    pub unfulfillable: Option<i64>,
    pub researching: Option<i64>,
    pub total: Option<i64>,
}

/// Where one observation sits: marketplace, source and time slot.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub account: &'a str,
    pub marketplace_id: &'a str,
    /// 'fba_inventory' or 'listings'.
    pub source: &'a str,
    /// The hour of the pull (see the table's comment).
    pub observed_at: DateTime<Utc>,
    /// `observed_at` as a marketplace day.
    pub observed_day: &'a str,
}

/// Upserts one SKU's row of a slot; returns 1 when a row was added or
/// changed, 0 when an identical row was already there.
pub fn upsert_snapshot(
    conn: &Connection,
    slot: &Slot<'_>,
    r: &StockRow,
) -> Result<u64, StoreError> {
    let n = conn.execute(
        "INSERT INTO inventory_snapshots (account, marketplace_id, sku, source, observed_at, observed_day,
             asin, fnsku, condition, fulfillable, inbound_working, inbound_shipped, inbound_receiving,
             reserved, unfulfillable, researching, total)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (account, marketplace_id, sku, source, observed_at) DO UPDATE SET
             observed_day = excluded.observed_day, asin = excluded.asin, fnsku = excluded.fnsku,
             condition = excluded.condition, fulfillable = excluded.fulfillable,
             inbound_working = excluded.inbound_working, inbound_shipped = excluded.inbound_shipped,
             inbound_receiving = excluded.inbound_receiving, reserved = excluded.reserved,
             unfulfillable = excluded.unfulfillable, researching = excluded.researching, total = excluded.total
         WHERE observed_day IS NOT excluded.observed_day OR asin IS NOT excluded.asin
             OR fnsku IS NOT excluded.fnsku OR condition IS NOT excluded.condition
             OR fulfillable IS NOT excluded.fulfillable OR inbound_working IS NOT excluded.inbound_working
             OR inbound_shipped IS NOT excluded.inbound_shipped
             OR inbound_receiving IS NOT excluded.inbound_receiving OR reserved IS NOT excluded.reserved
             OR unfulfillable IS NOT excluded.unfulfillable OR researching IS NOT excluded.researching
             OR total IS NOT excluded.total",
        params![
            slot.account,
            slot.marketplace_id,
            r.sku,
            slot.source,
            ts(slot.observed_at),
            slot.observed_day,
            r.asin,
            r.fnsku,
            r.condition,
            r.fulfillable,
            r.inbound_working,
            r.inbound_shipped,
            r.inbound_receiving,
            r.reserved,
            r.unfulfillable,
            r.researching,
            r.total
        ],
    )?;
    Ok(n as u64)
}

/// Writes a whole FBA pull and the job's cursor in one transaction. SKUs of
/// an earlier pull in the same slot that this pull no longer lists are
/// removed, so the slot holds exactly the latest pull. Returns rows written.
pub fn write_pull(
    conn: &mut Connection,
    slot: &Slot<'_>,
    rows: &[StockRow],
    job: &str,
    cursor: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let mut written = 0;
    for r in rows {
        written += upsert_snapshot(&tx, slot, r)?;
    }
    let seen: std::collections::HashSet<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let stale: Vec<String> = {
        let all = super::all_rows(
            &tx,
            "SELECT sku FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND source = ?3 AND observed_at = ?4",
            params![
                slot.account,
                slot.marketplace_id,
                slot.source,
                ts(slot.observed_at)
            ],
            |r| r.get::<_, String>(0),
        )?;
        all.into_iter()
            .filter(|s| !seen.contains(s.as_str()))
            .collect()
    };
    for sku in &stale {
        written += tx.execute(
            "DELETE FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND source = ?3 AND observed_at = ?4 AND sku = ?5",
            params![slot.account, slot.marketplace_id, slot.source, ts(slot.observed_at), sku],
        )? as u64;
    }
    set_cursor(&tx, job, slot.account, slot.marketplace_id, cursor, now)?;
    tx.commit()?;
    Ok(written)
}
