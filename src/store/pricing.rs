//! `pricing_snapshots` (competitive summary per ASIN per hourly slot) and
//! `fee_estimates` (fees per SKU at a price).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::jobs::set_cursor;
use super::ops::ts;
use super::StoreError;

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
#[allow(clippy::too_many_arguments)]
pub fn write_pricing(
    conn: &mut Connection,
    account: &str,
    marketplace_id: &str,
    observed_at: DateTime<Utc>,
    observed_day: &str,
    rows: &[PriceRow],
    job: &str,
    cursor: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let mut written = 0u64;
    for r in rows {
        written += tx.execute(
            "INSERT INTO pricing_snapshots (account, marketplace_id, asin, observed_at, observed_day,
                 currency, featured_offer_price, featured_offer_seller_id, is_featured_offer_ours,
                 our_price, our_featured_pct, lowest_new_fba_price, lowest_new_fbm_price, offer_count, raw_json,
                 competitive_price)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (account, marketplace_id, asin, observed_at) DO UPDATE SET
                 observed_day = excluded.observed_day, currency = excluded.currency,
                 featured_offer_price = excluded.featured_offer_price,
                 featured_offer_seller_id = excluded.featured_offer_seller_id,
                 is_featured_offer_ours = excluded.is_featured_offer_ours,
                 our_price = excluded.our_price, our_featured_pct = excluded.our_featured_pct,
                 lowest_new_fba_price = excluded.lowest_new_fba_price,
                 lowest_new_fbm_price = excluded.lowest_new_fbm_price,
                 offer_count = excluded.offer_count, raw_json = excluded.raw_json,
                 competitive_price = excluded.competitive_price
             WHERE observed_day IS NOT excluded.observed_day OR currency IS NOT excluded.currency
                 OR featured_offer_price IS NOT excluded.featured_offer_price
                 OR featured_offer_seller_id IS NOT excluded.featured_offer_seller_id
                 OR is_featured_offer_ours IS NOT excluded.is_featured_offer_ours
                 OR our_price IS NOT excluded.our_price OR our_featured_pct IS NOT excluded.our_featured_pct
                 OR lowest_new_fba_price IS NOT excluded.lowest_new_fba_price
                 OR lowest_new_fbm_price IS NOT excluded.lowest_new_fbm_price
                 OR offer_count IS NOT excluded.offer_count OR raw_json IS NOT excluded.raw_json
                 OR competitive_price IS NOT excluded.competitive_price",
            params![
                account,
                marketplace_id,
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
            ],
        )? as u64;
    }
    set_cursor(&tx, job, account, marketplace_id, cursor, now)?;
    tx.commit()?;
    Ok(written)
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
#[allow(clippy::too_many_arguments)]
pub fn write_fees(
    conn: &mut Connection,
    account: &str,
    marketplace_id: &str,
    rows: &[FeeRow],
    job: &str,
    cursor: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let mut written = 0u64;
    for r in rows {
        written += tx.execute(
            "INSERT INTO fee_estimates (account, marketplace_id, sku, price, currency, is_amazon_fulfilled,
                 total_fees, referral_fee, fba_fee, variable_closing_fee, fee_detail_json, estimated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (account, marketplace_id, sku, price) DO UPDATE SET
                 currency = excluded.currency, is_amazon_fulfilled = excluded.is_amazon_fulfilled,
                 total_fees = excluded.total_fees, referral_fee = excluded.referral_fee,
                 fba_fee = excluded.fba_fee, variable_closing_fee = excluded.variable_closing_fee,
                 fee_detail_json = excluded.fee_detail_json, estimated_at = excluded.estimated_at
             WHERE currency IS NOT excluded.currency
                 OR is_amazon_fulfilled IS NOT excluded.is_amazon_fulfilled
                 OR total_fees IS NOT excluded.total_fees OR referral_fee IS NOT excluded.referral_fee
                 OR fba_fee IS NOT excluded.fba_fee
                 OR variable_closing_fee IS NOT excluded.variable_closing_fee
                 OR fee_detail_json IS NOT excluded.fee_detail_json
                 OR estimated_at < (SELECT MAX(f.estimated_at) FROM fee_estimates f
                     WHERE f.account = excluded.account AND f.marketplace_id = excluded.marketplace_id
                         AND f.sku = excluded.sku AND f.price != excluded.price)",
            params![
                account,
                marketplace_id,
                r.sku,
                r.price,
                r.currency,
                r.is_amazon_fulfilled,
                r.total_fees,
                r.referral_fee,
                r.fba_fee,
                r.variable_closing_fee,
                r.fee_detail_json,
                ts(now)
            ],
        )? as u64;
    }
    set_cursor(&tx, job, account, marketplace_id, cursor, now)?;
    tx.commit()?;
    Ok(written)
}
