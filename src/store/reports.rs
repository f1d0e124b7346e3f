//! `pending_reports`: SP-API reports requested and not yet consumed, so a
//! restart resumes polling the same report instead of spending another
//! `createReport` token (the pipeline is `sync::report`).
//!
//! Rows are keyed by (api, account, report type, hash of the canonical
//! request). A row lives from right after `createReport` until the
//! transaction that writes the report's rows deletes it ([`delete`]); a
//! FATAL (or empty) report keeps its row with status `FATAL` and a
//! `failures` count so the next request backs off.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Deserialize;

use super::ops::ts;
use super::StoreError;

/// One row of `pending_reports` (SP-API only here).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pending {
    pub id: i64,
    pub job: String,
    pub report_type: String,
    pub params_hash: String,
    pub params_json: String,
    pub report_id: String,
    pub status: String,
    pub document_id: Option<String>,
    pub poll_count: i64,
    pub failures: i64,
    #[serde(deserialize_with = "super::rows::ts_or_epoch")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "super::rows::opt_ts_or_epoch")]
    pub last_polled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, job, report_type, params_hash, params_json, report_id, status, \
                       document_id, poll_count, failures, created_at, last_polled_at";

/// The row of one canonical request, if any.
pub fn find(
    conn: &Connection,
    account: &str,
    report_type: &str,
    params_hash: &str,
) -> Result<Option<Pending>, StoreError> {
    super::first_row(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM pending_reports
             WHERE api = 'sp' AND account = ?1 AND report_type = ?2 AND params_hash = ?3"
        ),
        params![account, report_type, params_hash],
    )
}

/// Every SP row of a job and report type (a job adopting the plan of an
/// interrupted run: e.g. the orders backfill's chunk ends).
pub fn list(
    conn: &Connection,
    account: &str,
    job: &str,
    report_type: &str,
) -> Result<Vec<Pending>, StoreError> {
    super::rows(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM pending_reports
             WHERE api = 'sp' AND account = ?1 AND job = ?2 AND report_type = ?3 ORDER BY id"
        ),
        params![account, job, report_type],
    )
}

/// Records a report just created (right after `createReport` answered),
/// replacing a FATAL row of the same request but keeping its failure count.
#[allow(clippy::too_many_arguments)]
pub fn record_created(
    conn: &Connection,
    account: &str,
    job: &str,
    report_type: &str,
    marketplace_id: Option<&str>,
    params_hash: &str,
    params_json: &str,
    report_id: &str,
    now: DateTime<Utc>,
) -> Result<Pending, StoreError> {
    conn.execute(
        "INSERT INTO pending_reports (api, account, job, report_type, marketplace_id, params_hash,
                                      params_json, report_id, status, created_at)
         VALUES ('sp', ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'IN_QUEUE', ?8)
         ON CONFLICT (api, account, report_type, params_hash) DO UPDATE SET
             job = excluded.job, params_json = excluded.params_json, report_id = excluded.report_id,
             status = 'IN_QUEUE', document_id = NULL, poll_count = 0,
             created_at = excluded.created_at, last_polled_at = NULL",
        params![
            account,
            job,
            report_type,
            marketplace_id,
            params_hash,
            params_json,
            report_id,
            ts(now)
        ],
    )?;
    find(conn, account, report_type, params_hash)?
        .ok_or_else(|| StoreError::Sql(rusqlite::Error::QueryReturnedNoRows))
}

/// A poll's answer: Amazon's status and, once DONE, the document id.
pub fn record_poll(
    conn: &Connection,
    id: i64,
    status: &str,
    document_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE pending_reports SET status = ?2, document_id = COALESCE(?3, document_id),
                poll_count = poll_count + 1, last_polled_at = ?4
         WHERE id = ?1",
        params![id, status, document_id, ts(now)],
    )?;
    Ok(())
}

/// The report ended FATAL (or gave an empty document): keep the row as
/// the backoff's memory.
pub fn record_failure(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE pending_reports SET status = 'FATAL', document_id = NULL,
                failures = failures + 1, last_polled_at = ?2
         WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Deletes a consumed row: call it in the transaction that writes the
/// report's rows (or records that it had none).
pub fn delete(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM pending_reports WHERE id = ?1", params![id])?;
    Ok(())
}

/// Deletes a job's rows of one report type in one marketplace except those
/// of the requests hashed in `keep`: reports of requests the job no longer
/// makes (a rolling window the day moved past, an ASIN chunk that
/// changed), which no run would ever poll again. Returns how many went.
pub fn delete_except(
    conn: &Connection,
    account: &str,
    job: &str,
    report_type: &str,
    marketplace_id: &str,
    keep: &[String],
) -> Result<usize, StoreError> {
    let keep = serde_json::Value::from(keep.to_vec()).to_string();
    Ok(conn.execute(
        "DELETE FROM pending_reports
         WHERE api = 'sp' AND account = ?1 AND job = ?2 AND report_type = ?3
           AND marketplace_id = ?4 AND params_hash NOT IN (SELECT value FROM json_each(?5))",
        params![account, job, report_type, marketplace_id, keep],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn conn() -> Connection {
        let conn = crate::store::testing::db();
        crate::store::testing::add_account(&conn, "b");
        conn
    }

    #[test]
    fn delete_except_forgets_only_that_jobs_other_requests_of_the_type_and_marketplace() {
        let conn = conn();
        let now = t("2026-03-02T16:00:00Z");
        // (account, job, report type, marketplace, hash)
        let rows = [
            ("a", "sales_traffic", "S&T", Some("US"), "keep1"),
            ("a", "sales_traffic", "S&T", Some("US"), "keep2"),
            ("a", "sales_traffic", "S&T", Some("US"), "old1"),
            ("a", "sales_traffic", "S&T", Some("US"), "old2"),
            ("a", "sales_traffic", "S&T", Some("CA"), "other-marketplace"),
            ("a", "sales_traffic", "S&T", None, "several-marketplaces"),
            ("a", "sales_traffic", "OTHER", Some("US"), "other-type"),
            ("a", "returns", "S&T", Some("US"), "other-job"),
            ("b", "sales_traffic", "S&T", Some("US"), "other-account"),
        ];
        for (i, (account, job, rt, m, hash)) in rows.iter().enumerate() {
            record_created(&conn, account, job, rt, *m, hash, "{}", &i.to_string(), now).unwrap();
        }
        record_failure(&conn, 3, now).unwrap();
        let keep = ["keep1".to_string(), "keep2".to_string()];
        let gone = delete_except(&conn, "a", "sales_traffic", "S&T", "US", &keep).unwrap();
        assert_eq!(gone, 2, "the unplanned rows, FATAL or not");
        let left: Vec<String> = conn
            .prepare("SELECT params_hash FROM pending_reports ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want: Vec<&str> = rows
            .iter()
            .map(|r| r.4)
            .filter(|h| !h.starts_with("old"))
            .collect();
        assert_eq!(left, want);
        // An empty plan forgets them all.
        assert_eq!(
            delete_except(&conn, "a", "sales_traffic", "S&T", "US", &[]).unwrap(),
            2
        );
    }
}
