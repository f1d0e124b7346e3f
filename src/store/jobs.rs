//! Job runs and cursors: what ran, how it ended, and where each job
//! resumes. A cursor is written in the same transaction as the rows it
//! covers (see [`set_cursor`]), so a crash loses nothing and doubles nothing.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::ops::ts;
use super::StoreError;

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Ok,
    Failed,
    Unavailable,
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Unavailable => "unavailable",
            RunStatus::Skipped => "skipped",
        }
    }
}

/// Inserts a 'running' row; returns its id.
pub fn start_run(
    conn: &Connection,
    job: &str,
    account: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO job_runs (job, account, started_at, status) VALUES (?1, ?2, ?3, 'running')",
        params![job, account, ts(now)],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Closes a run.
pub fn finish_run(
    conn: &Connection,
    id: i64,
    status: RunStatus,
    rows: u64,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE job_runs SET status = ?2, row_count = ?3, error = ?4, finished_at = ?5 WHERE id = ?1",
        params![id, status.as_str(), rows as i64, error, ts(now)],
    )?;
    Ok(())
}

/// Runs left 'running' by a process that died are closed as failed.
pub fn close_abandoned_runs(conn: &Connection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE job_runs SET status = 'failed', error = 'interrupted: the process stopped during the run', finished_at = ?1
         WHERE status = 'running'",
        params![ts(now)],
    )?)
}

/// The job's cursor for (account, marketplace; '' = whole account).
pub fn cursor(
    conn: &Connection,
    job: &str,
    account: &str,
    marketplace: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT cursor_json FROM job_cursors WHERE job = ?1 AND account = ?2 AND marketplace_id = ?3",
            params![job, account, marketplace],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Writes the cursor inside the transaction that writes the rows it covers.
pub fn set_cursor(
    tx: &Transaction<'_>,
    job: &str,
    account: &str,
    marketplace: &str,
    cursor: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO job_cursors (job, account, marketplace_id, cursor_json, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (job, account, marketplace_id) DO UPDATE SET cursor_json = excluded.cursor_json, updated_at = excluded.updated_at",
        params![job, account, marketplace, cursor.to_string(), ts(now)],
    )?;
    Ok(())
}

/// When the job last ended 'unavailable' for the account, if its latest
/// finished run did (a missing role is retried daily, not every run).
pub fn unavailable_since(
    conn: &Connection,
    job: &str,
    account: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT status, finished_at FROM job_runs WHERE job = ?1 AND account = ?2 AND status != 'running'
             ORDER BY id DESC LIMIT 1",
            params![job, account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.filter(|(s, _)| s == "unavailable").map(|(_, at)| at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn runs_and_cursors() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut conn, "mem").unwrap();
        conn.execute(
            "INSERT INTO accounts (name, region, created_at, updated_at) VALUES ('a', 'na', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let id = start_run(&conn, "orders", "a", t).unwrap();
        assert_eq!(close_abandoned_runs(&conn, t).unwrap(), 1);
        let id2 = start_run(&conn, "listings", "a", t).unwrap();
        finish_run(&conn, id2, RunStatus::Unavailable, 0, Some("403"), t).unwrap();
        assert_eq!(
            unavailable_since(&conn, "listings", "a")
                .unwrap()
                .as_deref(),
            Some("2026-11-24T10:00:00Z")
        );
        assert!(unavailable_since(&conn, "orders", "a").unwrap().is_none());
        assert!(id2 > id);

        assert!(cursor(&conn, "orders", "a", "M").unwrap().is_none());
        let tx = conn.transaction().unwrap();
        set_cursor(
            &tx,
            "orders",
            "a",
            "M",
            &serde_json::json!({"last_updated": "x"}),
            t,
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(
            cursor(&conn, "orders", "a", "M").unwrap().unwrap()["last_updated"],
            "x"
        );
    }
}
