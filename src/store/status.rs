//! The reads behind `flywheel status`: per job what its runs say, API calls
//! per account, reports in flight, open credential problems and the outbox
//! rows that need a human.
//!
//! `status` runs beside the daemon (it is a health check), so every function
//! here is one short read: no transaction is held across them, nothing is
//! written, and each query is bounded by an index or a small table.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;

use super::ops::ts;
use super::outbox::PERMANENT;
use super::rows::parse_ts;
use super::StoreError;

fn opt_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().and_then(parse_ts)
}

/// One job of one account as its `job_runs` rows tell it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobRuns {
    pub account: String,
    pub job: String,
    /// When the newest 'ok' run finished.
    pub last_ok: Option<DateTime<Utc>>,
    /// The newest finished run: status ('ok', 'failed', 'unavailable',
    /// 'skipped', 'interrupted'), when it finished, and its error.
    pub newest_status: Option<String>,
    pub newest_at: Option<DateTime<Utc>>,
    pub newest_error: Option<String>,
    /// The newest run that ended 'failed', 'unavailable' or 'interrupted'.
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Start of a run still in progress (or left 'running' by a crash).
    pub running_since: Option<DateTime<Utc>>,
    /// Runs that finished at or after `since`, the rows they wrote, and
    /// how many of them failed or were interrupted (an interrupted run's
    /// API calls were not counted).
    pub runs_since: i64,
    pub rows_since: i64,
    pub failed_since: i64,
    pub interrupted_since: i64,
    /// Runs in progress (their calls are counted when they end).
    pub running: i64,
}

/// Every (account, job) that has runs, ordered by account and job. Runs
/// finished at or after `since` are totalled.
pub fn job_runs(conn: &Connection, since: DateTime<Utc>) -> Result<Vec<JobRuns>, StoreError> {
    // One pass over job_runs for the totals and the ids of the newest rows,
    // then a primary-key lookup per row: no correlated subquery per job.
    let mut st = conn.prepare(
        "SELECT account, job,
                MAX(CASE WHEN status = 'ok' THEN finished_at END),
                MAX(CASE WHEN status <> 'running' THEN id END),
                MAX(CASE WHEN status IN ('failed', 'unavailable', 'interrupted') THEN id END),
                MAX(CASE WHEN status = 'running' THEN started_at END),
                COALESCE(SUM(finished_at >= ?1), 0),
                COALESCE(SUM(CASE WHEN finished_at >= ?1 THEN row_count END), 0),
                COALESCE(SUM(finished_at >= ?1 AND status = 'failed'), 0),
                COALESCE(SUM(finished_at >= ?1 AND status = 'interrupted'), 0),
                COALESCE(SUM(status = 'running'), 0)
         FROM job_runs WHERE account IS NOT NULL
         GROUP BY account, job ORDER BY account, job",
    )?;
    type Raw = (JobRuns, Option<i64>, Option<i64>);
    let raw: Vec<Raw> = st
        .query_map([ts(since)], |r| {
            Ok((
                JobRuns {
                    account: r.get(0)?,
                    job: r.get(1)?,
                    last_ok: opt_ts(r.get(2)?),
                    running_since: opt_ts(r.get(5)?),
                    runs_since: r.get(6)?,
                    rows_since: r.get(7)?,
                    failed_since: r.get(8)?,
                    interrupted_since: r.get(9)?,
                    running: r.get(10)?,
                    ..JobRuns::default()
                },
                r.get(3)?,
                r.get(4)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut by_id =
        conn.prepare_cached("SELECT status, finished_at, error FROM job_runs WHERE id = ?1")?;
    let mut out = Vec::with_capacity(raw.len());
    for (mut j, newest, error) in raw {
        if let Some(id) = newest {
            let (s, at, e): (String, Option<String>, Option<String>) =
                by_id.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            j.newest_status = Some(s);
            j.newest_at = opt_ts(at);
            j.newest_error = e;
        }
        if let Some(id) = error {
            let (_, at, e): (String, Option<String>, Option<String>) =
                by_id.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            j.last_error_at = opt_ts(at);
            j.last_error = e;
        }
        out.push(j);
    }
    Ok(out)
}

/// API calls of one account and API in a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ApiCalls {
    pub account: String,
    /// "sp", "ads" or "lwa".
    pub api: String,
    pub calls: i64,
    /// Answered 429.
    pub throttled: i64,
    /// Answered 5xx, or no answer at all.
    pub errors: i64,
}

/// API calls per account and API counted in the hours starting at or after
/// `since`'s hour.
pub fn api_calls(conn: &Connection, since: DateTime<Utc>) -> Result<Vec<ApiCalls>, StoreError> {
    let hour = since.format("%Y-%m-%dT%H:00:00Z").to_string();
    super::rows(
        conn,
        "SELECT account, api, SUM(calls) AS calls, SUM(throttled) AS throttled,
                COALESCE(SUM(CASE WHEN status_class IN ('5xx', 'network') THEN calls END), 0)
                    AS errors
         FROM api_call_counts WHERE hour_start >= ?1
         GROUP BY account, api ORDER BY account, api",
        [hour],
    )
}

/// Reports of one account requested and not yet consumed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingReports {
    pub account: String,
    /// Waiting in Amazon's queue (or for their document to be read).
    pub pending: i64,
    /// Ended FATAL (or empty) and waiting out the retry backoff.
    pub awaiting_retry: i64,
    /// When the oldest still-pending one was requested.
    #[serde(deserialize_with = "super::rows::opt_ts")]
    pub oldest: Option<DateTime<Utc>>,
}

/// `pending_reports` per account.
pub fn pending_reports(conn: &Connection) -> Result<Vec<PendingReports>, StoreError> {
    super::rows(
        conn,
        "SELECT account, COALESCE(SUM(status <> 'FATAL'), 0) AS pending,
                COALESCE(SUM(status = 'FATAL'), 0) AS awaiting_retry,
                MIN(CASE WHEN status <> 'FATAL' THEN created_at END) AS oldest
         FROM pending_reports GROUP BY account ORDER BY account",
        [],
    )
}

/// An open row of `credential_problems`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CredentialProblem {
    pub account: String,
    pub api: String,
    pub error_kind: String,
    pub detail: Option<String>,
    #[serde(deserialize_with = "super::rows::opt_ts")]
    pub first_seen_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "super::rows::opt_ts")]
    pub observed_at: Option<DateTime<Utc>>,
}

/// Credential refusals not cleared by a later success.
pub fn credential_problems(conn: &Connection) -> Result<Vec<CredentialProblem>, StoreError> {
    super::rows(
        conn,
        "SELECT account, api, error_kind, detail, first_seen_at, observed_at
         FROM credential_problems WHERE cleared_at IS NULL ORDER BY account, api, error_kind",
        [],
    )
}

/// An optional instant as its stored text (`ts`), or null: how `status`
/// serializes the times of its JSON output.
pub fn ser_opt_ts<S: serde::Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&ts(*t)),
        None => s.serialize_none(),
    }
}

/// An unsent outbox row, as `status` shows it (and serializes it in its
/// JSON output).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct UnsentEmail {
    pub id: i64,
    pub account: Option<String>,
    pub kind: String,
    pub subject: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[serde(
        serialize_with = "ser_opt_ts",
        deserialize_with = "super::rows::opt_ts"
    )]
    pub created_at: Option<DateTime<Utc>>,
}

/// The newest `limit` emails given up on (a permanent refusal, or retried
/// too long) that no operator has cleared yet (`status --clear-failures`),
/// newest first.
pub fn failed_emails(conn: &Connection, limit: usize) -> Result<Vec<UnsentEmail>, StoreError> {
    // The partial index outbox_unsent covers `sent_at IS NULL`.
    super::rows(
        conn,
        "SELECT id, account, kind, subject, attempts, last_error, created_at FROM outbox
         WHERE sent_at IS NULL AND next_attempt_at = ?1 AND failure_seen_at IS NULL
           AND platform IS NULL
         ORDER BY id DESC LIMIT ?2",
        params![PERMANENT, limit as i64],
    )
}

/// How many emails were given up on and not yet cleared by an operator.
pub fn uncleared_failures(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox
         WHERE sent_at IS NULL AND next_attempt_at = ?1 AND failure_seen_at IS NULL
           AND platform IS NULL",
        [PERMANENT],
        |r| r.get(0),
    )?)
}

/// Emails still queued whose delivery failed at least `min_attempts`
/// times: how many, and the newest of them (for its error). One delivered
/// later leaves this set (a delivery clears `last_error`).
pub fn failing_emails(
    conn: &Connection,
    min_attempts: i64,
) -> Result<(i64, Option<UnsentEmail>), StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox
         WHERE sent_at IS NULL AND next_attempt_at <> ?1 AND attempts >= ?2
           AND last_error IS NOT NULL AND platform IS NULL",
        params![PERMANENT, min_attempts],
        |r| r.get(0),
    )?;
    let newest = super::first_row(
        conn,
        "SELECT id, account, kind, subject, attempts, last_error, created_at FROM outbox
         WHERE sent_at IS NULL AND next_attempt_at <> ?1 AND attempts >= ?2
           AND last_error IS NOT NULL AND platform IS NULL
         ORDER BY id DESC LIMIT 1",
        params![PERMANENT, min_attempts],
    )?;
    Ok((n, newest))
}

/// When a job run started, and the pid of the process that ran it.
pub type RunStart = (DateTime<Utc>, Option<u32>);

/// The newest job run a daemon made against this database: when it
/// started and the daemon's pid.
pub fn newest_daemon_run(conn: &Connection) -> Result<Option<RunStart>, StoreError> {
    // job_runs_by_start, read backwards: a daemon that runs at all has
    // recent rows, so this stops early.
    Ok(conn
        .query_row(
            "SELECT started_at, pid FROM job_runs WHERE daemon = 1
             ORDER BY started_at DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)),
        )
        .optional()?
        .and_then(|(at, pid)| Some((parse_ts(&at)?, pid.and_then(|p| u32::try_from(p).ok())))))
}

/// What the daemon's lock file (`<database>.lock`) says: the daemon's
/// pid, when it started (wall time), and its process identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonLock {
    pub pid: u32,
    pub started_at: Option<DateTime<Utc>>,
    /// Whether a live process holds the lock now.
    pub held: bool,
}

/// The text the daemon writes into its lock file once it holds it: its
/// pid on the first line (what `store::jobs` reads), then `started TIME`
/// and, where the platform tells, `process IDENTITY` (see
/// [`Process`](super::jobs::Process)), which [`daemon_lock`] reads; and
/// a line [`DEMO_LINE`] when `flywheel demo` drives the loop, so its job
/// runs are not the daemon's (`store::jobs` reads it).
pub fn lock_file_text(me: &super::jobs::Process, started: DateTime<Utc>, demo: bool) -> String {
    let mut s = format!("{}\nstarted {}\n", me.pid, ts(started));
    if let Some(p) = &me.start {
        s.push_str(&format!("process {p}\n"));
    }
    if demo {
        s.push_str(DEMO_LINE);
        s.push('\n');
    }
    s
}

/// The lock file's line that says `flywheel demo` holds the lock: a
/// database the demo drove expects no daemon afterwards.
pub const DEMO_LINE: &str = "demo";

/// Reads the daemon's lock file of `database`; None when there is none
/// (no daemon ever ran here) or it names no pid.
///
/// The lock is held when the process the file names is alive (its
/// identity checked, so a reused pid does not count) and a probe finds the
/// lock taken. The probe (a shared lock, dropped at once) only runs for a
/// live process: a running daemon holds the lock exclusively, so it never
/// succeeds then, and `status` cannot race a daemon that is starting.
pub fn daemon_lock(database: &std::path::Path) -> Option<DaemonLock> {
    let path = super::jobs::lock_path(database);
    let text = std::fs::read_to_string(&path).ok()?;
    let mut lines = text.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    let mut started_at = None;
    let mut start = None;
    for l in lines {
        if let Some(t) = l.strip_prefix("started ") {
            started_at = parse_ts(t.trim());
        } else if let Some(p) = l.strip_prefix("process ") {
            start = Some(p.trim().to_string());
        }
    }
    let alive = super::jobs::Process { pid, start }.is_alive();
    let held = alive
        && match std::fs::File::open(&path).map(|f| f.try_lock_shared()) {
            Ok(Ok(())) => false,
            Ok(Err(std::fs::TryLockError::WouldBlock)) => true,
            // The probe cannot tell: the live process vouches.
            Ok(Err(std::fs::TryLockError::Error(_))) | Err(_) => true,
        };
    Some(DaemonLock {
        pid,
        started_at,
        held,
    })
}

/// The oldest email still queued for delivery (not given up), if any.
pub fn oldest_queued_email(conn: &Connection) -> Result<Option<UnsentEmail>, StoreError> {
    super::first_row(
        conn,
        "SELECT id, account, kind, subject, attempts, last_error, created_at FROM outbox
         WHERE sent_at IS NULL AND next_attempt_at <> ?1 AND platform IS NULL
         ORDER BY id LIMIT 1",
        [PERMANENT],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::{finish_run, start_run, RunStatus};
    use crate::store::testing::db;
    use chrono::{Duration, TimeZone};

    #[test]
    fn job_runs_tell_newest_last_ok_last_error_and_totals() {
        let conn = db();
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        // (job, hours before t, status, rows, error), oldest first.
        let runs = [
            ("orders", 48, RunStatus::Ok, 50, None),
            ("orders", 3, RunStatus::Failed, 0, Some("boom")),
            ("orders", 2, RunStatus::Ok, 7, None),
            ("listings", 1, RunStatus::Unavailable, 0, Some("403")),
        ];
        for (job, hours, status, rows, err) in runs {
            let at = t - Duration::hours(hours);
            let id = start_run(&conn, job, "a", at).unwrap();
            finish_run(&conn, id, status, rows, err, at + Duration::minutes(1)).unwrap();
        }
        start_run(&conn, "listings", "a", t).unwrap();

        let rows = job_runs(&conn, t - Duration::hours(24)).unwrap();
        assert_eq!(rows.len(), 2);
        let l = &rows[0];
        assert_eq!(l.job, "listings");
        assert_eq!(l.newest_status.as_deref(), Some("unavailable"));
        assert_eq!(l.last_error.as_deref(), Some("403"));
        assert_eq!(l.running_since, Some(t));
        assert_eq!(l.last_ok, None);
        let o = &rows[1];
        assert_eq!(o.newest_status.as_deref(), Some("ok"));
        assert_eq!(
            o.last_ok,
            Some(t - Duration::hours(2) + Duration::minutes(1))
        );
        assert_eq!(o.last_error.as_deref(), Some("boom"));
        assert_eq!(
            o.last_error_at,
            Some(t - Duration::hours(3) + Duration::minutes(1))
        );
        assert_eq!((o.runs_since, o.rows_since, o.failed_since), (2, 7, 1));
        assert_eq!(o.running_since, None);
    }

    #[test]
    fn an_alert_counts_as_notified_once_its_email_is_delivered() {
        let conn = db();
        for fp in ["f1", "f2"] {
            conn.execute(
                "INSERT INTO alerts (fingerprint, rule, account, labels_json, state, severity,
                     started_at, firing_since, last_evaluated_at, last_notified_at, last_finding_json)
                 VALUES (?1, 'buy_box', 'a', '{}', 'firing', 'warning', '2026-03-02T10:00:00Z',
                         '2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z', '{}')",
                [fp],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO outbox (account, kind, recipients_json, subject, body_text, created_at,
                                 next_attempt_at, alert_fingerprints_json)
             VALUES ('a', 'firing', '[]', 's', '', '2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z', '[\"f1\"]')",
            [],
        )
        .unwrap();
        // Queued, then failed once: not notified.
        assert!(crate::store::outbox::last_delivered(&conn)
            .unwrap()
            .is_empty());
        crate::store::outbox::mark_failed(&conn, 1, "421 busy", None).unwrap();
        assert!(crate::store::outbox::last_delivered(&conn)
            .unwrap()
            .is_empty());
        conn.execute(
            "UPDATE outbox SET next_attempt_at = '2026-03-02T10:00:00Z' WHERE id = 1",
            [],
        )
        .unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 10, 5, 0).unwrap();
        crate::store::outbox::mark_sent(&conn, 1, t).unwrap();
        let d = crate::store::outbox::last_delivered(&conn).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d["f1"], t);
    }

    #[test]
    fn calls_reports_problems_and_outbox() {
        let conn = db();
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 12, 30, 0).unwrap();
        for (hour, class, calls, throttled) in [
            ("2026-03-01T12:00:00Z", "2xx", 5, 0), // 24 h 30 min ago: its hour counts
            ("2026-03-01T11:00:00Z", "2xx", 100, 0), // too old
            ("2026-03-02T12:00:00Z", "4xx", 4, 3),
            ("2026-03-02T12:00:00Z", "5xx", 2, 0),
        ] {
            conn.execute(
                "INSERT INTO api_call_counts (account, api, operation, status_class, hour_start, calls, throttled)
                 VALUES ('a', 'sp', 'getReport', ?1, ?2, ?3, ?4)",
                params![class, hour, calls, throttled],
            )
            .unwrap();
        }
        assert_eq!(
            api_calls(&conn, t - Duration::hours(24)).unwrap(),
            vec![ApiCalls {
                account: "a".into(),
                api: "sp".into(),
                calls: 11,
                throttled: 3,
                errors: 2
            }]
        );

        for (hash, status) in [("h1", "IN_QUEUE"), ("h2", "FATAL")] {
            conn.execute(
                "INSERT INTO pending_reports (api, account, job, report_type, params_hash, params_json,
                                              report_id, status, created_at)
                 VALUES ('sp', 'a', 'returns', 'R', ?1, '{}', 'r', ?2, '2026-03-02T10:00:00Z')",
                params![hash, status],
            )
            .unwrap();
        }
        let p = pending_reports(&conn).unwrap();
        assert_eq!((p[0].pending, p[0].awaiting_retry), (1, 1));
        assert_eq!(
            p[0].oldest,
            Some(Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap())
        );

        crate::store::ops::record_credential_problem(
            &conn,
            "a",
            "sp",
            "invalid_grant",
            "revoked",
            t,
        )
        .unwrap();
        let c = credential_problems(&conn).unwrap();
        assert_eq!(
            (c[0].api.as_str(), c[0].error_kind.as_str()),
            ("sp", "invalid_grant")
        );
        crate::store::ops::clear_credential_problems(&conn, "a", "sp", t).unwrap();
        assert!(credential_problems(&conn).unwrap().is_empty());

        for subject in ["one", "two", "three"] {
            conn.execute(
                "INSERT INTO outbox (account, kind, recipients_json, subject, body_text, created_at, next_attempt_at)
                 VALUES ('a', 'firing', '[]', ?1, '', '2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z')",
                [subject],
            )
            .unwrap();
        }
        crate::store::outbox::mark_failed(&conn, 1, "550 no such user", None).unwrap();
        crate::store::outbox::mark_failed(&conn, 2, "timeout", Some(t)).unwrap();
        crate::store::outbox::mark_sent(&conn, 3, t).unwrap();
        let failed = failed_emails(&conn, 5).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].last_error.as_deref(), Some("550 no such user"));
        let queued = oldest_queued_email(&conn).unwrap().unwrap();
        assert_eq!((queued.id, queued.attempts), (2, 1));
    }
}
