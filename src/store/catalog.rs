//! `catalog_ranks` (the daily Best Sellers Rank history) and the ASIN lists
//! the catalogue-wide jobs work through (catalog_ranks, pricing,
//! customer_feedback): what the database already knows about the seller's
//! ASINs, best sellers first.

use rusqlite::{params, Connection};

use super::jobs::{write_with_cursor, CursorWrite};
use super::ops::ts;
use super::{execute_each, upsert_sql, StoreError};

/// One ASIN's ranks on one marketplace day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RankRow {
    pub asin: String,
    pub display_group: Option<String>,
    pub display_group_title: Option<String>,
    pub display_group_rank: Option<i64>,
    pub classification_id: Option<String>,
    pub classification_title: Option<String>,
    pub classification_rank: Option<i64>,
    /// The marketplace's `salesRanks` entry as sent (`[]` when none).
    pub raw_json: String,
    /// `summaries[].itemName`, used to fill products without a title.
    pub title: Option<String>,
}

/// The seller's ASINs in a marketplace, best sellers first: units ordered
/// since `since_day` (stored orders, cancelled ones left out), then every
/// other ASIN the database knows from products, listings and inventory,
/// alphabetically. CROSS JOIN keeps the orders of the range as the outer
/// loop (orders_by_day): SQLite would otherwise walk every order line of
/// the account by ASIN and probe its order (the demo: 0.45 s → 0.1 s).
pub fn asins_by_sales(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
    since_day: &str,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT asin FROM (
             SELECT oi.asin AS asin, SUM(oi.quantity) AS units
             FROM orders o CROSS JOIN order_items oi ON o.account = oi.account AND o.order_id = oi.order_id
             WHERE o.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
                 AND o.status != 'canceled' AND oi.asin IS NOT NULL AND oi.asin != ''
             GROUP BY oi.asin
             UNION ALL
             SELECT asin, 0 FROM products
             WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL AND asin != ''
             UNION ALL
             SELECT asin, 0 FROM listings
             WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL AND asin != ''
             UNION ALL
             SELECT DISTINCT asin, 0 FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL AND asin != ''
         )
         GROUP BY asin ORDER BY SUM(units) DESC, asin",
    )?;
    let rows = stmt
        .query_map(params![account, marketplace_id, since_day], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

/// Writes a day's ranks and the job's cursor in one transaction. A row is
/// rewritten (and its `observed_at` moved) only when a value changed.
/// Products of these ASINs that have no title get the catalogue's.
pub fn write_ranks(
    conn: &mut Connection,
    at: &CursorWrite<'_>,
    snapshot_date: &str,
    rows: &[RankRow],
) -> Result<u64, StoreError> {
    let sql = upsert_sql(
        "catalog_ranks",
        &["account", "marketplace_id", "asin", "snapshot_date"],
        &[
            "display_group",
            "display_group_title",
            "display_group_rank",
            "classification_id",
            "classification_title",
            "classification_rank",
            "raw_json",
        ],
        &["observed_at"],
        &[],
    );
    let (account, marketplace_id, now_s) = (at.account, at.marketplace_id, ts(at.now));
    write_with_cursor(conn, at, |tx| {
        let mut written = execute_each(tx, &sql, rows, |stmt, r| {
            stmt.execute(params![
                account,
                marketplace_id,
                r.asin,
                snapshot_date,
                r.display_group,
                r.display_group_title,
                r.display_group_rank,
                r.classification_id,
                r.classification_title,
                r.classification_rank,
                r.raw_json,
                now_s
            ])
        })?;
        for r in rows {
            if let Some(title) = &r.title {
                written += tx.execute(
                    "UPDATE products SET title = ?4, updated_at = ?5
                     WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3 AND title IS NULL",
                    params![account, marketplace_id, r.asin, title, now_s],
                )? as u64;
            }
        }
        Ok(written)
    })
}
