//! `pricing_snapshots` (competitive summary per ASIN per hourly slot) and
//! `fee_estimates` (fees per SKU at a price).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::jobs::{write_with_cursor, CursorWrite};
use super::ops::ts;
use super::{execute_each, upsert_sql, StoreError};

/// One ASIN's competitive summary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceRow {
    pub asin: String,
    pub currency: Option<String>,
    pub featured_offer_price: Option<f64>,
    pub featured_offer_seller_id: Option<String>,
    pub is_featured_offer_ours: Option<bool>,
    pub our_price: Option<f64>,
    pub our_featured_pct: Option<f64>,
    pub lowest_new_fba_price: Option<f64>,
    pub lowest_new_fbm_price: Option<f64>,
    pub offer_count: Option<i64>,
    /// `referencePrices` `CompetitivePrice` (JP: `CompetitivePriceThreshold`).
    pub competitive_price: Option<f64>,
    pub raw_json: String,
}

/// Writes one pull's summaries (all in the slot `observed_at`) and the
/// cursor in one transaction; unchanged rows are not rewritten.
pub fn write_pricing(
    conn: &mut Connection,
    at: &CursorWrite<'_>,
    observed_at: DateTime<Utc>,
    observed_day: &str,
    rows: &[PriceRow],
) -> Result<u64, StoreError> {
    let sql = upsert_sql(
        "pricing_snapshots",
        &["account", "marketplace_id", "asin", "observed_at"],
        &[
            "observed_day",
            "currency",
            "featured_offer_price",
            "featured_offer_seller_id",
            "is_featured_offer_ours",
            "our_price",
            "our_featured_pct",
            "lowest_new_fba_price",
            "lowest_new_fbm_price",
            "offer_count",
            "raw_json",
            "competitive_price",
        ],
        &[],
        &[],
    );
    write_with_cursor(conn, at, |tx| {
        execute_each(tx, &sql, rows, |stmt, r| {
            stmt.execute(params![
                at.account,
                at.marketplace_id,
                r.asin,
                ts(observed_at),
                observed_day,
                r.currency,
                r.featured_offer_price,
                r.featured_offer_seller_id,
                r.is_featured_offer_ours,
                r.our_price,
                r.our_featured_pct,
                r.lowest_new_fba_price,
                r.lowest_new_fbm_price,
                r.offer_count,
                r.raw_json,
                r.competitive_price
            ])
        })
    })
}

/// Our newest known price of an ASIN from the pricing snapshots, with its
/// currency (the fees job's fallback when a listing has no offer price).
pub fn latest_our_price(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
    asin: &str,
) -> Result<Option<(f64, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT our_price, currency FROM pricing_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3
                 AND our_price IS NOT NULL AND currency IS NOT NULL
             ORDER BY observed_at DESC LIMIT 1",
            params![account, marketplace_id, asin],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// One SKU's fee estimate at one price.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeeRow {
    pub sku: String,
    pub price: f64,
    pub currency: String,
    pub is_amazon_fulfilled: bool,
    pub total_fees: Option<f64>,
    pub referral_fee: Option<f64>,
    pub fba_fee: Option<f64>,
    pub variable_closing_fee: Option<f64>,
    pub fee_detail_json: String,
}

/// Writes estimates and the cursor in one transaction. An estimate is
/// rewritten (and `estimated_at` moved) when its values changed or when it
/// is not the SKU's newest estimate any more (the price moved back), so the
/// newest `estimated_at` per SKU is always the current price's estimate.
pub fn write_fees(
    conn: &mut Connection,
    at: &CursorWrite<'_>,
    rows: &[FeeRow],
) -> Result<u64, StoreError> {
    let upsert = upsert_sql(
        "fee_estimates",
        &["account", "marketplace_id", "sku", "price"],
        &[
            "currency",
            "is_amazon_fulfilled",
            "total_fees",
            "referral_fee",
            "fba_fee",
            "variable_closing_fee",
            "fee_detail_json",
        ],
        &["estimated_at"],
        &[],
    );
    let sql = format!(
        "{upsert}
             OR estimated_at < (SELECT MAX(f.estimated_at) FROM fee_estimates f
                 WHERE f.account = excluded.account AND f.marketplace_id = excluded.marketplace_id
                     AND f.sku = excluded.sku AND f.price != excluded.price)"
    );
    write_with_cursor(conn, at, |tx| {
        execute_each(tx, &sql, rows, |stmt, r| {
            stmt.execute(params![
                at.account,
                at.marketplace_id,
                r.sku,
                r.price,
                r.currency,
                r.is_amazon_fulfilled,
                r.total_fees,
                r.referral_fee,
                r.fba_fee,
                r.variable_closing_fee,
                r.fee_detail_json,
                ts(at.now)
            ])
        })
    })
}
