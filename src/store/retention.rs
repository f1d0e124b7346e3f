//! Retention (`[daemon] retention_days`): the daemon deletes data older than
//! the cutoff once a day, so a database that runs for years stays the size
//! of its window.
//!
//! Only history goes: dated rows of the synced series, finished job runs,
//! resolved alerts, sent emails, expired acks and silences, cleared
//! credential problems. Entities (accounts, products, listings, campaigns)
//! and cursors stay, and nothing still open is touched (a firing alert, an
//! unsent email, a pending report).

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

use super::ops::ts;
use super::StoreError;

/// (table, day column): series whose rows are keyed by a marketplace day.
const DAY_TABLES: &[(&str, &str)] = &[
    ("account_health_snapshots", "snapshot_date"),
    ("ads_advertised_product_daily", "date"),
    ("ads_campaign_daily", "date"),
    ("ads_search_term_daily", "date"),
    ("catalog_ranks", "snapshot_date"),
    ("inventory_planning", "snapshot_date"),
    ("inventory_snapshots", "observed_day"),
    // order_items go with their order (ON DELETE CASCADE).
    ("orders", "purchase_day"),
    ("pricing_snapshots", "observed_day"),
    ("returns", "return_date"),
    ("sales_traffic_daily", "date"),
    ("search_query_performance", "week_end"),
    ("seller_feedback", "feedback_date"),
];

/// (table, condition with ?1 = the cutoff timestamp): history rows.
const HISTORY: &[(&str, &str)] = &[
    ("job_runs", "status <> 'running' AND started_at < ?1"),
    ("alerts", "state = 'resolved' AND resolved_at < ?1"),
    ("outbox", "sent_at IS NOT NULL AND sent_at < ?1"),
    ("alert_acks", "expires_at < ?1"),
    ("silences", "expires_at < ?1"),
    (
        "credential_problems",
        "cleared_at IS NOT NULL AND cleared_at < ?1",
    ),
];

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    pub cutoff: String,
    /// (table, rows deleted), only tables that lost rows.
    pub tables: Vec<(&'static str, usize)>,
}

impl Pruned {
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.1).sum()
    }
}

/// Deletes what is older than `days` before `now`, in one transaction.
pub fn prune(conn: &mut Connection, now: DateTime<Utc>, days: u32) -> Result<Pruned, StoreError> {
    let cutoff = now - Duration::days(days as i64);
    let day = cutoff.date_naive().to_string();
    let stamp = ts(cutoff);
    let tx = conn.transaction()?;
    let mut out = Pruned {
        cutoff: day.clone(),
        tables: Vec::new(),
    };
    for (table, column) in DAY_TABLES {
        let n = tx.execute(&format!("DELETE FROM {table} WHERE {column} < ?1"), [&day])?;
        if n > 0 {
            out.tables.push((table, n));
        }
    }
    for (table, cond) in HISTORY {
        let n = tx.execute(&format!("DELETE FROM {table} WHERE {cond}"), [&stamp])?;
        if n > 0 {
            out.tables.push((table, n));
        }
    }
    tx.commit()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_old_history_and_keeps_what_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, _) = crate::store::open_and_migrate(&dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (name, region, created_at, updated_at)
               VALUES ('a', 'na', '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z');
             INSERT INTO job_runs (job, account, started_at, finished_at, status)
               VALUES ('orders', 'a', '2020-01-01T00:00:00Z', '2020-01-01T00:01:00Z', 'ok'),
                      ('orders', 'a', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'ok');",
        )
        .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let p = prune(&mut conn, now, 730).unwrap();
        assert_eq!(p.tables, vec![("job_runs", 1)]);
        let left: i64 = conn
            .query_row("SELECT COUNT(*) FROM job_runs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
        // Every listed table and column exists (a schema change would
        // otherwise fail only in production, once a day).
        for (t, c) in DAY_TABLES {
            conn.prepare(&format!("SELECT {c} FROM {t} LIMIT 0"))
                .unwrap();
        }
    }
}
