//! `listings`, `listing_issues` and the `products` rows the listings job
//! owns (SKU ↔ ASIN, title, product type, FBA/FBM), plus its FBM stock
//! snapshots, all written with the job's cursor in one transaction.
//!
//! Rows whose values did not change are not rewritten (their `observed_at`
//! stays), so a re-run of an unchanged catalogue changes nothing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Deserialize;

use super::fba_inventory::{upsert_snapshot, Slot, StockRow};
use super::jobs::{write_with_cursor, CursorWrite};
use super::ops::ts;
use super::{execute_each, upsert_sql, StoreError};

/// One issue of a listing, as the table keys it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRow {
    pub code: String,
    /// Sorted JSON array of attribute names (`[]` when none).
    pub attribute_names_json: String,
    pub severity: String,
    pub message: String,
    pub categories_json: String,
    pub enforcement_actions_json: String,
    pub exemption_status: Option<String>,
}

/// One listing (a SKU in one marketplace) with its issues.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingRow {
    pub sku: String,
    pub asin: Option<String>,
    pub fnsku: Option<String>,
    pub product_type: Option<String>,
    pub item_name: Option<String>,
    pub condition_type: Option<String>,
    pub statuses_json: String,
    pub is_buyable: bool,
    pub is_discoverable: bool,
    pub is_suppressed: bool,
    pub fulfillment_channel_code: Option<String>,
    pub fbm_quantity: Option<i64>,
    pub price: Option<f64>,
    pub currency: Option<String>,
    pub amazon_created_at: Option<String>,
    pub amazon_updated_at: Option<String>,
    pub issues: Vec<IssueRow>,
}

impl ListingRow {
    /// 'FBA' or 'FBM' from the fulfilment channel code, if known.
    pub fn channel(&self) -> Option<&'static str> {
        let code = self.fulfillment_channel_code.as_deref()?;
        if code == "DEFAULT" {
            Some("FBM")
        } else if code.starts_with("AMAZON") {
            Some("FBA")
        } else {
            None
        }
    }
}

/// Upserts a product row the way every job must: never replacing a known
/// value with NULL, and not touching an unchanged row. Returns 1 if written.
#[allow(clippy::too_many_arguments)]
pub fn upsert_product(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
    sku: &str,
    asin: Option<&str>,
    fnsku: Option<&str>,
    title: Option<&str>,
    product_type: Option<&str>,
    channel: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let n = conn.execute(
        "INSERT INTO products (account, marketplace_id, sku, asin, fnsku, title, product_type,
             fulfillment_channel, first_seen_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (account, marketplace_id, sku) DO UPDATE SET
             asin = COALESCE(excluded.asin, asin), fnsku = COALESCE(excluded.fnsku, fnsku),
             title = COALESCE(excluded.title, title),
             product_type = COALESCE(excluded.product_type, product_type),
             fulfillment_channel = COALESCE(excluded.fulfillment_channel, fulfillment_channel),
             updated_at = excluded.updated_at
         WHERE (excluded.asin IS NOT NULL AND asin IS NOT excluded.asin)
             OR (excluded.fnsku IS NOT NULL AND fnsku IS NOT excluded.fnsku)
             OR (excluded.title IS NOT NULL AND title IS NOT excluded.title)
             OR (excluded.product_type IS NOT NULL AND product_type IS NOT excluded.product_type)
             OR (excluded.fulfillment_channel IS NOT NULL
                 AND fulfillment_channel IS NOT excluded.fulfillment_channel)",
        params![
            account,
            marketplace_id,
            sku,
            asin,
            fnsku,
            title,
            product_type,
            channel,
            ts(now)
        ],
    )?;
    Ok(n as u64)
}

/// Writes one marketplace's full listings pull: listings and issues
/// (upserted, then what the pull did not see deleted), products, FBM stock
/// into `stock_slot`, and the cursor. Returns rows written.
pub fn write_pull(
    conn: &mut Connection,
    at: &CursorWrite<'_>,
    rows: &[ListingRow],
    stock_slot: &Slot<'_>,
) -> Result<u64, StoreError> {
    let (account, marketplace_id, now) = (at.account, at.marketplace_id, at.now);
    let now_s = ts(now);
    let listing_sql = upsert_sql(
        "listings",
        &["account", "marketplace_id", "sku"],
        &[
            "asin",
            "product_type",
            "item_name",
            "condition_type",
            "statuses_json",
            "is_buyable",
            "is_discoverable",
            "is_suppressed",
            "fulfillment_channel_code",
            "fbm_quantity",
            "price",
            "currency",
            "amazon_created_at",
            "amazon_updated_at",
        ],
        &["observed_at"],
        &["first_seen_at"],
    );
    let issue_sql = upsert_sql(
        "listing_issues",
        &[
            "account",
            "marketplace_id",
            "sku",
            "code",
            "attribute_names_json",
        ],
        &[
            "severity",
            "message",
            "categories_json",
            "enforcement_actions_json",
            "exemption_status",
        ],
        &["observed_at"],
        &["first_seen_at"],
    );
    write_with_cursor(conn, at, |tx| {
        let mut written = execute_each(tx, &listing_sql, rows, |stmt, r| {
            stmt.execute(params![
                account,
                marketplace_id,
                r.sku,
                r.asin,
                r.product_type,
                r.item_name,
                r.condition_type,
                r.statuses_json,
                r.is_buyable,
                r.is_discoverable,
                r.is_suppressed,
                r.fulfillment_channel_code,
                r.fbm_quantity,
                r.price,
                r.currency,
                r.amazon_created_at,
                r.amazon_updated_at,
                now_s,
                now_s
            ])
        })?;
        for r in rows {
            written += execute_each(tx, &issue_sql, &r.issues, |stmt, i| {
                stmt.execute(params![
                    account,
                    marketplace_id,
                    r.sku,
                    i.code,
                    i.attribute_names_json,
                    i.severity,
                    i.message,
                    i.categories_json,
                    i.enforcement_actions_json,
                    i.exemption_status,
                    now_s,
                    now_s
                ])
            })?;
            // Issues of this listing the pull no longer shows are resolved.
            let keep: HashSet<(&str, &str)> = r
                .issues
                .iter()
                .map(|i| (i.code.as_str(), i.attribute_names_json.as_str()))
                .collect();
            let existing: Vec<(String, String)> = super::all_rows(
                tx,
                "SELECT code, attribute_names_json FROM listing_issues
                     WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3",
                params![account, marketplace_id, r.sku],
                |x| Ok((x.get(0)?, x.get(1)?)),
            )?;
            for (code, attrs) in existing {
                if !keep.contains(&(code.as_str(), attrs.as_str())) {
                    written += tx.execute(
                        "DELETE FROM listing_issues WHERE account = ?1 AND marketplace_id = ?2
                             AND sku = ?3 AND code = ?4 AND attribute_names_json = ?5",
                        params![account, marketplace_id, r.sku, code, attrs],
                    )? as u64;
                }
            }
            written += upsert_product(
                tx,
                account,
                marketplace_id,
                &r.sku,
                r.asin.as_deref(),
                r.fnsku.as_deref(),
                r.item_name.as_deref(),
                r.product_type.as_deref(),
                r.channel(),
                now,
            )?;
            if let (Some("FBM"), Some(q)) = (r.channel(), r.fbm_quantity) {
                let stock = StockRow {
                    sku: r.sku.clone(),
                    asin: r.asin.clone(),
                    condition: r.condition_type.clone(),
                    fulfillable: q,
                    ..StockRow::default()
                };
                written += upsert_snapshot(tx, stock_slot, &stock)?;
            }
        }
        written += delete_unseen(tx, account, marketplace_id, rows)?;
        Ok(written)
    })
}

/// Listings the full pull did not see are gone (their issues with them).
/// Returns the listings deleted.
fn delete_unseen(
    tx: &Connection,
    account: &str,
    marketplace_id: &str,
    rows: &[ListingRow],
) -> Result<u64, StoreError> {
    let seen: HashSet<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let gone: Vec<String> = {
        let v = super::all_rows(
            tx,
            "SELECT sku FROM listings WHERE account = ?1 AND marketplace_id = ?2",
            params![account, marketplace_id],
            |x| x.get::<_, String>(0),
        )?;
        v.into_iter()
            .filter(|s| !seen.contains(s.as_str()))
            .collect()
    };
    let mut deleted = 0u64;
    for sku in &gone {
        tx.execute(
            "DELETE FROM listing_issues WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3",
            params![account, marketplace_id, sku],
        )?;
        deleted += tx.execute(
            "DELETE FROM listings WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3",
            params![account, marketplace_id, sku],
        )? as u64;
    }
    Ok(deleted)
}

/// A listing with its current price.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PricedSku {
    pub sku: String,
    pub asin: Option<String>,
    pub price: f64,
    pub currency: String,
    pub is_fba: bool,
}

/// Current listings (the table holds only what the last pull saw) with a
/// known price, buyable ones first.
/// What the fees job estimates; a suppressed listing is included, since it
/// is expected back and its margin still matters.
pub fn priced_skus(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<Vec<PricedSku>, StoreError> {
    super::rows(
        conn,
        "SELECT sku, asin, price, currency,
                COALESCE(fulfillment_channel_code, '') LIKE 'AMAZON%' AS is_fba
         FROM listings
         WHERE account = ?1 AND marketplace_id = ?2 AND price IS NOT NULL AND currency IS NOT NULL
         ORDER BY is_buyable DESC, sku",
        params![account, marketplace_id],
    )
}

/// Every product with an ASIN: (sku, asin, is FBA). The fees job's fallback
/// when no listing carries a price yet.
pub fn products_with_asin(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<Vec<(String, String, bool)>, StoreError> {
    let rows = super::all_rows(
        conn,
        "SELECT sku, asin, COALESCE(fulfillment_channel, '') = 'FBA' FROM products
         WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL AND asin != ''
         ORDER BY sku",
        params![account, marketplace_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(rows)
}
