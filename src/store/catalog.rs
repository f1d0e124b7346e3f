//! `catalog_ranks` (the daily Best Sellers Rank history) and the ASIN lists
//! the catalogue-wide jobs work through (catalog_ranks, pricing,
//! customer_feedback): what the database already knows about the seller's
//! ASINs, best sellers first.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::jobs::set_cursor;
use super::ops::ts;
use super::StoreError;

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
/// alphabetically.
pub fn asins_by_sales(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
    since_day: &str,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT asin FROM (
             SELECT oi.asin AS asin, SUM(oi.quantity) AS units
             FROM order_items oi JOIN orders o ON o.account = oi.account AND o.order_id = oi.order_id
             WHERE oi.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
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
#[allow(clippy::too_many_arguments)]
pub fn write_ranks(
    conn: &mut Connection,
    account: &str,
    marketplace_id: &str,
    snapshot_date: &str,
    rows: &[RankRow],
    job: &str,
    cursor: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let now_s = ts(now);
    let mut written = 0u64;
    for r in rows {
        written += tx.execute(
            "INSERT INTO catalog_ranks (account, marketplace_id, asin, snapshot_date, display_group,
                 display_group_title, display_group_rank, classification_id, classification_title,
                 classification_rank, raw_json, observed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (account, marketplace_id, asin, snapshot_date) DO UPDATE SET
                 display_group = excluded.display_group, display_group_title = excluded.display_group_title,
                 display_group_rank = excluded.display_group_rank,
                 classification_id = excluded.classification_id,
                 classification_title = excluded.classification_title,
                 classification_rank = excluded.classification_rank, raw_json = excluded.raw_json,
                 observed_at = excluded.observed_at
             WHERE display_group IS NOT excluded.display_group
                 OR display_group_title IS NOT excluded.display_group_title
                 OR display_group_rank IS NOT excluded.display_group_rank
                 OR classification_id IS NOT excluded.classification_id
                 OR classification_title IS NOT excluded.classification_title
                 OR classification_rank IS NOT excluded.classification_rank
                 OR raw_json IS NOT excluded.raw_json",
            params![
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
            ],
        )? as u64;
        if let Some(title) = &r.title {
            written += tx.execute(
                "UPDATE products SET title = ?4, updated_at = ?5
                 WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3 AND title IS NULL",
                params![account, marketplace_id, r.asin, title, now_s],
            )? as u64;
        }
    }
    set_cursor(&tx, job, account, marketplace_id, cursor, now)?;
    tx.commit()?;
    Ok(written)
}
