//! Job runs and cursors: what ran, how it ended, and where each job
//! resumes. A cursor is written in the same transaction as the rows it
//! covers (see [`set_cursor`]), so a crash loses nothing and doubles nothing.
//!
//! A run belongs to a process: [`start_run`] records its pid, what
//! identifies that process's life (so a reused pid is not mistaken for it)
//! and whether it is the daemon's. Any command that opens the database
//! closes, as 'interrupted', the runs whose process is gone
//! ([`close_abandoned_runs`]); a run of a live process is never touched, and
//! a daemon's run counts as live only while the daemon holds its lock on
//! `<database>.lock`. An outcome the database does not take at once (locked
//! by another process, disk full) is kept in memory ([`defer`]) and written
//! by [`record_deferred`] as soon as it takes writes again; a process that
//! exits with some still unwritten leaves those runs to be closed as
//! interrupted by the next command.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};

use super::ops::ts;
use super::StoreError;

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Ok,
    Failed,
    Unavailable,
    Skipped,
    /// The process stopped before it recorded how the run ended.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Unavailable => "unavailable",
            RunStatus::Skipped => "skipped",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// A process, as a run records it: its pid and, where the platform can
/// tell, what identifies its life beside the pid (on Linux the boot id and
/// the start time), so a pid the kernel reused is not taken for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub start: Option<String>,
}

impl Process {
    /// This process.
    pub fn current() -> Process {
        let pid = std::process::id();
        Process {
            pid,
            start: process_start(pid),
        }
    }

    /// Whether the process is still running. A process whose identity
    /// cannot be checked on this platform counts as running: a run is never
    /// closed on a guess.
    pub fn is_alive(&self) -> bool {
        self.is_alive_in(Path::new("/proc"))
    }

    /// [`Process::is_alive`] with procfs mounted at `proc`.
    fn is_alive_in(&self, proc: &Path) -> bool {
        if self.pid == std::process::id() {
            return self.start.is_none() || self.start == process_start(self.pid);
        }
        if !cfg!(target_os = "linux") {
            return true;
        }
        match (process_start_in(proc, self.pid), &self.start) {
            // No readable /proc entry: gone, or hidden from this process
            // (systemd's ProtectProc=invisible, hidepid=2), which /proc
            // cannot tell apart (both are ENOENT). The kernel can: a signal
            // 0 finds the pid or not, whoever owns it.
            (None, _) => pid_exists(self.pid),
            (Some(now), Some(then)) => &now == then,
            (Some(_), None) => true,
        }
    }
}

/// Whether a process with this pid exists, by `kill(pid, 0)`: ESRCH is
/// the only answer that means it does not (EPERM is another user's live
/// process). A hidden process's identity cannot be checked, so a run whose
/// pid was reused by such a process stays open until that one exits: a
/// run is never closed on a guess.
#[cfg(unix)]
fn pid_exists(pid: u32) -> bool {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; kill only checks the pid exists and
    // may be signalled.
    if unsafe { kill(pid, 0) } == 0 {
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(3) // ESRCH
}

#[cfg(not(unix))]
fn pid_exists(_pid: u32) -> bool {
    true
}

/// "BOOT_ID/START_TICKS" of a running process on Linux (the 22nd field of
/// `/proc/PID/stat`, after the parenthesised command name, which may hold
/// spaces); None when the process does not exist or elsewhere.
fn process_start(pid: u32) -> Option<String> {
    process_start_in(Path::new("/proc"), pid)
}

fn process_start_in(proc: &Path, pid: u32) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let stat = std::fs::read_to_string(proc.join(pid.to_string()).join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts with field 3 (state); starttime is field 22.
    let ticks = rest.split_whitespace().nth(19)?;
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    Some(format!("{}/{ticks}", boot.trim()))
}

/// The daemon's lock file of a database: `<database>.lock` (see
/// `daemon::lock`), which holds the daemon's pid.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The pid of the daemon holding the database's lock, if one does. The
/// probe takes a shared lock for an instant when nobody holds it, so it is
/// only called when a run says it is the daemon's.
fn lock_holder(database: &Path) -> Option<u32> {
    let path = lock_path(database);
    let file = std::fs::File::open(&path).ok()?;
    let pid = std::fs::read_to_string(&path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    match file.try_lock_shared() {
        Err(std::fs::TryLockError::WouldBlock) => Some(pid),
        // Nobody holds it (the shared lock goes with `file`), or it cannot
        // be probed: no daemon vouches for the run.
        _ => None,
    }
}

/// The database file of a connection (None in memory).
fn database(conn: &Connection) -> Option<PathBuf> {
    conn.path().filter(|p| !p.is_empty()).map(PathBuf::from)
}

/// Whether this process is the daemon of `conn`'s database (holds its lock).
fn is_daemon(conn: &Connection) -> bool {
    let Some(db) = database(conn) else {
        return false;
    };
    // Only a process the lock file names can hold the lock: read it first,
    // so other processes never probe the lock. The demo's loop holds it
    // too, but its runs are a one-off command's.
    let text = std::fs::read_to_string(lock_path(&db)).unwrap_or_default();
    let names_us = text
        .split_whitespace()
        .next()
        .and_then(|pid| pid.parse::<u32>().ok())
        == Some(std::process::id());
    let demo = text.lines().any(|l| l.trim() == super::status::DEMO_LINE);
    names_us && !demo && lock_holder(&db) == Some(std::process::id())
}

/// Inserts a 'running' row owned by this process; returns its id.
pub fn start_run(
    conn: &Connection,
    job: &str,
    account: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let me = Process::current();
    conn.execute(
        "INSERT INTO job_runs (job, account, started_at, status, pid, process_start, daemon)
         VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6)",
        params![job, account, ts(now), me.pid, me.start, is_daemon(conn)],
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

/// Who is closing abandoned runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closer {
    /// A daemon that has just taken the lock: every daemon run still open
    /// belongs to a daemon that stopped (this one has started none yet).
    StartingDaemon,
    /// Any other command: only runs whose process is gone.
    Command,
}

/// One open run and whose it is.
struct OpenRun {
    id: i64,
    process: Option<Process>,
    daemon: bool,
}

/// Closes, as 'interrupted', the runs left 'running' by a process that is
/// gone: killed, crashed, or exited before it could record the outcome.
/// Runs of live processes are left alone; a daemon's run is live only while
/// that daemon holds the database's lock. A run written before runs named
/// their process is live only while some daemon holds the lock. Returns
/// the ids closed. `now` is the end recorded (never before the start).
pub fn close_abandoned_runs(
    conn: &Connection,
    closer: Closer,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    close_abandoned(conn, closer, Some(now))
}

/// [`close_abandoned_runs`]; with no `end`, each run ends at its start.
fn close_abandoned(
    conn: &Connection,
    closer: Closer,
    end: Option<DateTime<Utc>>,
) -> Result<Vec<i64>, StoreError> {
    let open: Vec<OpenRun> = conn
        .prepare("SELECT id, pid, process_start, daemon FROM job_runs WHERE status = 'running'")?
        .query_map([], |r| {
            let pid: Option<i64> = r.get(1)?;
            Ok(OpenRun {
                id: r.get(0)?,
                process: pid.map(|pid| Process {
                    pid: pid as u32,
                    start: r.get(2).unwrap_or(None),
                }),
                daemon: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let db = database(conn);
    // Asked once, and only if a run needs it.
    let mut holder: Option<Option<u32>> = None;
    let mut daemon_pid = || *holder.get_or_insert_with(|| db.as_deref().and_then(lock_holder));
    let mut closed = Vec::new();
    for run in &open {
        let alive = match (&run.process, closer) {
            (Some(_), Closer::StartingDaemon) if run.daemon => false,
            (Some(p), _) => p.is_alive() && (!run.daemon || daemon_pid() == Some(p.pid)),
            (None, Closer::StartingDaemon) => false,
            (None, Closer::Command) => daemon_pid().is_some(),
        };
        if alive {
            continue;
        }
        let who = match (&run.process, run.daemon) {
            (Some(p), true) => format!("the daemon (pid {})", p.pid),
            (Some(p), false) => format!("its process (pid {})", p.pid),
            (None, _) => "its process".to_string(),
        };
        let error = format!(
            "interrupted: {who} stopped before recording how the run ended (killed, timed out, \
             or the database could not be written); rows it committed are kept and the job \
             resumes from its cursor at its next run"
        );
        let n = conn.execute(
            "UPDATE job_runs SET status = 'interrupted', error = ?2,
                    finished_at = MAX(started_at, COALESCE(?3, started_at))
             WHERE id = ?1 AND status = 'running'",
            params![run.id, error, end.map(ts)],
        )?;
        if n > 0 {
            closed.push(run.id);
        }
    }
    Ok(closed)
}

/// [`close_abandoned_runs`] as a command opening the database does it,
/// never failing the command (a database it cannot write is reported, and
/// the next command tries again). Each run ends at its own start: when its
/// process died is unknown, the start is an honest lower bound, and no
/// clock is read (the wall clock can be ahead of a simulated or fixed one
/// the daemon follows, and would skew `status`'s newest run and 24 h counts).
pub fn close_abandoned_runs_on_open(conn: &Connection) {
    match close_abandoned(conn, Closer::Command, None) {
        Ok(ids) if !ids.is_empty() => tracing::warn!(
            runs = ids.len(),
            "closed job runs whose process stopped before recording how they ended (interrupted); `flywheel status` names them"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(
            error = %e,
            "could not close the job runs of stopped processes; the next command tries again"
        ),
    }
}

/// Closes this daemon's own open runs as 'interrupted' (work it abandoned
/// at its shutdown deadline). Returns how many. A run whose outcome waits
/// in the deferred list ([`defer`]) did finish: it is left open, so a real
/// ok/failed is never replaced by 'interrupted' (if the database took
/// writes again since the last try, the caller's next [`record_deferred`]
/// writes it; otherwise the next start closes it).
pub fn close_own_daemon_runs(
    conn: &Connection,
    why: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let me = Process::current();
    let db = database(conn).unwrap_or_default();
    let waiting: Vec<String> = deferred()
        .iter()
        .filter_map(|(d, w)| match w {
            Deferred::Finish { id, .. } if *d == db => Some(id.to_string()),
            _ => None,
        })
        .collect();
    // Ids are integers this process holds, so they are spliced in as text.
    let mine = format!(
        "status = 'running' AND daemon = 1 AND pid = ?1 AND process_start IS ?2 AND id NOT IN ({})",
        waiting.join(", ")
    );
    // Read first: a clean stop has none, and then must not wait for a
    // write lock another process holds.
    let open: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM job_runs WHERE {mine}"),
        params![me.pid, me.start],
        |r| r.get(0),
    )?;
    if open == 0 {
        return Ok(0);
    }
    Ok(conn.execute(
        &format!(
            "UPDATE job_runs SET status = 'interrupted', error = ?3, finished_at = MAX(started_at, ?4)
             WHERE {mine}"
        ),
        params![me.pid, me.start, format!("interrupted: {why}"), ts(now)],
    )?)
}

/// A write about a run that the database did not take when it was made.
#[derive(Debug, Clone, PartialEq)]
pub enum Deferred {
    /// How a started run ended.
    Finish {
        id: i64,
        status: RunStatus,
        rows: u64,
        error: Option<String>,
        at: DateTime<Utc>,
    },
    /// A run that could not even be recorded as started, whole.
    Run {
        job: String,
        account: String,
        started_at: DateTime<Utc>,
        status: RunStatus,
        error: Option<String>,
    },
}

/// Deferred writes of this process, per database file.
static DEFERRED: Mutex<Vec<(PathBuf, Deferred)>> = Mutex::new(Vec::new());

fn deferred() -> std::sync::MutexGuard<'static, Vec<(PathBuf, Deferred)>> {
    // A panic elsewhere while holding it leaves a valid Vec.
    DEFERRED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps a write the database refused, for [`record_deferred`]. The run
/// stays 'running' meanwhile, owned by this live process, so no other
/// command closes it.
pub fn defer(conn: &Connection, write: Deferred) {
    let db = database(conn).unwrap_or_default();
    deferred().push((db, write));
}

/// How many writes for `conn`'s database wait to be recorded.
pub fn deferred_count(conn: &Connection) -> usize {
    let db = database(conn).unwrap_or_default();
    deferred().iter().filter(|(d, _)| *d == db).count()
}

/// Whether a write may succeed later: the database was locked or busy, the
/// disk full, or the file unwritable for a while. Anything else (a
/// constraint) would fail forever.
pub fn is_transient(e: &StoreError) -> bool {
    let StoreError::Sql(rusqlite::Error::SqliteFailure(f, _)) = e else {
        return false;
    };
    matches!(
        f.code,
        ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
    )
}

fn write(conn: &Connection, w: &Deferred) -> Result<(), StoreError> {
    match w {
        Deferred::Finish {
            id,
            status,
            rows,
            error,
            at,
        } => finish_run(conn, *id, *status, *rows, error.as_deref(), *at),
        Deferred::Run {
            job,
            account,
            started_at,
            status,
            error,
        } => {
            let me = Process::current();
            conn.execute(
                "INSERT INTO job_runs (job, account, started_at, finished_at, status, error, pid, process_start)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7)",
                params![
                    job,
                    account,
                    ts(*started_at),
                    status.as_str(),
                    error,
                    me.pid,
                    me.start
                ],
            )?;
            Ok(())
        }
    }
}

/// Writes the deferred writes for `conn`'s database, oldest first, and
/// returns how many were written. One the database still refuses stops
/// the pass and stays (with the ones after it) for the next call; one that
/// can never succeed is dropped with an error in the log.
pub fn record_deferred(conn: &Connection) -> Result<usize, StoreError> {
    let db = database(conn).unwrap_or_default();
    let mine: Vec<Deferred> = {
        let mut all = deferred();
        let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|(d, _)| *d == db);
        *all = rest;
        mine.into_iter().map(|(_, w)| w).collect()
    };
    let mut done = 0;
    let mut iter = mine.into_iter();
    while let Some(w) = iter.next() {
        match write(conn, &w) {
            Ok(()) => done += 1,
            Err(e) if is_transient(&e) => {
                let mut all = deferred();
                all.push((db.clone(), w));
                all.extend(iter.map(|w| (db.clone(), w)));
                return Err(e);
            }
            Err(e) => {
                tracing::error!(error = %e, write = ?w, "dropped a job run record the database refuses")
            }
        }
    }
    Ok(done)
}

/// Whether a job run succeeded after the newest alert evaluation (the
/// daemon was stopped between them), so the daemon owes an evaluation.
/// The newest evaluation is the newest [`EVALUATED`] marker (databases
/// from before the marker fall back on the evaluation dates an evaluation
/// recorded, until their first evaluation writes one).
pub fn evaluation_owed(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE((SELECT MAX(finished_at) FROM job_runs WHERE status = 'ok')
                         > COALESCE((SELECT MAX(updated_at) FROM job_cursors WHERE job = ?1),
                                    (SELECT MAX(recorded_at) FROM evaluation_dates
                                      WHERE recorded_by = 'evaluate'), ''), 0)",
        [EVALUATED],
        |r| r.get(0),
    )?)
}

/// The pseudo job whose `job_cursors` rows (one per account, marketplace
/// '') say when alerts were last evaluated. Only an alert evaluation writes
/// it: the `evaluation_dates` rows cannot say, since `flywheel kpis`
/// rewrites them as its own.
pub const EVALUATED: &str = "(alert evaluation)";

/// Records, inside the evaluation's transaction, that alerts were
/// evaluated at `now` (see [`evaluation_owed`]).
pub fn record_evaluation(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
    let cursor = serde_json::json!({ "at": ts(now) }).to_string();
    tx.execute(
        "INSERT INTO job_cursors (job, account, marketplace_id, cursor_json, updated_at)
         SELECT ?1, name, '', ?2, ?3 FROM accounts WHERE true
         ON CONFLICT (job, account, marketplace_id) DO UPDATE SET cursor_json = excluded.cursor_json, updated_at = excluded.updated_at",
        params![EVALUATED, cursor, ts(now)],
    )?;
    Ok(())
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

/// A job's cursor in one marketplace, as a batch write records it with the
/// rows it covers ([`write_with_cursor`]).
#[derive(Debug, Clone, Copy)]
pub struct CursorWrite<'a> {
    pub job: &'a str,
    pub account: &'a str,
    pub marketplace_id: &'a str,
    pub cursor: &'a serde_json::Value,
    pub now: DateTime<Utc>,
}

impl<'a> CursorWrite<'a> {
    pub fn new(
        job: &'a str,
        account: &'a str,
        marketplace_id: &'a str,
        cursor: &'a serde_json::Value,
        now: DateTime<Utc>,
    ) -> Self {
        CursorWrite {
            job,
            account,
            marketplace_id,
            cursor,
            now,
        }
    }
}

/// Runs `write` and records the cursor in one transaction, so the rows and
/// the cursor that covers them land together. Returns what `write` counted.
pub fn write_with_cursor(
    conn: &mut Connection,
    at: &CursorWrite<'_>,
    write: impl FnOnce(&Transaction<'_>) -> Result<u64, StoreError>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let written = write(&tx)?;
    set_cursor(
        &tx,
        at.job,
        at.account,
        at.marketplace_id,
        at.cursor,
        at.now,
    )?;
    tx.commit()?;
    Ok(written)
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
        let mut conn = crate::store::testing::db();
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let id = start_run(&conn, "orders", "a", t).unwrap();
        let id2 = start_run(&conn, "listings", "a", t).unwrap();
        finish_run(&conn, id2, RunStatus::Unavailable, 0, Some("403"), t).unwrap();
        assert_eq!(
            unavailable_since(&conn, "listings", "a")
                .unwrap()
                .as_deref(),
            Some("2026-11-24T10:00:00Z")
        );
        assert!(unavailable_since(&conn, "orders", "a").unwrap().is_none());
        // This process is alive: its run stays open.
        assert!(close_abandoned_runs(&conn, Closer::Command, t)
            .unwrap()
            .is_empty());
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

    fn file_db(dir: &Path) -> Connection {
        let (conn, _) = crate::store::open_and_migrate(&dir.join("f.db")).unwrap();
        crate::store::testing::add_account(&conn, "a");
        conn
    }

    fn insert_run(conn: &Connection, pid: Option<u32>, start: Option<&str>, daemon: bool) -> i64 {
        conn.execute(
            "INSERT INTO job_runs (job, account, started_at, status, pid, process_start, daemon)
             VALUES ('orders', 'a', '2026-11-24T10:00:00Z', 'running', ?1, ?2, ?3)",
            params![pid, start, daemon],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    fn status_of(conn: &Connection, id: i64) -> String {
        conn.query_row("SELECT status FROM job_runs WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
    }

    /// Tests of the liveness checks, which read Linux's `/proc`.
    #[cfg(target_os = "linux")]
    mod linux {
        use super::*;

        /// The pid of a process that has exited.
        fn dead_pid() -> u32 {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            pid
        }

        /// A run's status, error and end.
        fn ended(conn: &Connection, id: i64) -> (String, Option<String>, String) {
            conn.query_row(
                "SELECT status, error, finished_at FROM job_runs WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        }

        #[test]
        fn only_runs_whose_process_is_gone_are_closed() {
            let dir = tempfile::tempdir().unwrap();
            let conn = file_db(dir.path());
            let t = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
            let me = Process::current();
            assert!(me.start.is_some() && me.is_alive());
            let dead = dead_pid();

            let live = start_run(&conn, "orders", "a", t).unwrap();
            let killed = insert_run(&conn, Some(dead), Some("x/1"), false);
            // The same pid, another life: the kernel reused it.
            let reused = insert_run(&conn, Some(me.pid), Some("other/1"), false);
            let legacy = insert_run(&conn, None, None, false);
            // A daemon run of a live process that no longer holds the lock.
            let unlocked = insert_run(&conn, Some(me.pid), me.start.as_deref(), true);
            let mut closed = close_abandoned_runs(&conn, Closer::Command, t).unwrap();
            closed.sort();
            assert_eq!(closed, vec![killed, reused, legacy, unlocked]);
            assert_eq!(status_of(&conn, live), "running");
            let (_, error, finished) = ended(&conn, killed);
            let error = error.unwrap();
            assert!(error.starts_with("interrupted:"), "{error}");
            assert!(error.contains(&format!("pid {dead}")), "{error}");
            assert_eq!(finished, "2026-11-24T12:00:00Z");

            // This process holds the daemon's lock: its runs are the daemon's,
            // alive for other commands, and a starting daemon closes them.
            let lock = std::fs::File::create(lock_path(&dir.path().join("f.db"))).unwrap();
            lock.try_lock().unwrap();
            std::fs::write(lock_path(&dir.path().join("f.db")), format!("{}\n", me.pid)).unwrap();
            let daemons = start_run(&conn, "listings", "a", t).unwrap();
            let daemon: bool = conn
                .query_row(
                    "SELECT daemon FROM job_runs WHERE id = ?1",
                    [daemons],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(daemon);
            let legacy = insert_run(&conn, None, None, false);
            assert!(close_abandoned_runs(&conn, Closer::Command, t)
                .unwrap()
                .is_empty());
            let mut closed = close_abandoned_runs(&conn, Closer::StartingDaemon, t).unwrap();
            closed.sort();
            assert_eq!(closed, vec![daemons, legacy]);
            assert_eq!(status_of(&conn, live), "running");
            drop(lock);
        }

        /// A run found abandoned when a command opens the database ends at its
        /// start: when the process died is unknown, and the wall clock can be
        /// ahead of the clock the daemon follows (a simulated or fixed one).
        #[test]
        fn a_run_closed_on_open_ends_at_its_start_not_the_wall_clock() {
            let dir = tempfile::tempdir().unwrap();
            let conn = file_db(dir.path());
            let dead = dead_pid();
            let id = insert_run(&conn, Some(dead), Some("x/1"), false);
            drop(conn);
            let (conn, _) = crate::store::open_and_migrate(&dir.path().join("f.db")).unwrap();
            let (status, _, finished) = ended(&conn, id);
            assert_eq!(status, "interrupted");
            assert_eq!(finished, "2026-11-24T10:00:00Z");
        }

        /// At shutdown the daemon closes its own open runs as interrupted; a
        /// run whose real outcome waits in the deferred list is not one of
        /// them (the daemon exits next, and the outcome would be lost).
        #[test]
        fn closing_own_runs_leaves_those_with_a_deferred_outcome() {
            let dir = tempfile::tempdir().unwrap();
            let conn = file_db(dir.path());
            let db = dir.path().join("f.db");
            let lock = std::fs::File::create(lock_path(&db)).unwrap();
            lock.try_lock().unwrap();
            std::fs::write(lock_path(&db), format!("{}\n", std::process::id())).unwrap();
            let t = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
            let finished = start_run(&conn, "orders", "a", t).unwrap();
            let abandoned = start_run(&conn, "listings", "a", t).unwrap();
            defer(
                &conn,
                Deferred::Finish {
                    id: finished,
                    status: RunStatus::Failed,
                    rows: 0,
                    error: Some("boom".into()),
                    at: t,
                },
            );
            assert_eq!(close_own_daemon_runs(&conn, "stopped", t).unwrap(), 1);
            assert_eq!(status_of(&conn, abandoned), "interrupted");
            assert_eq!(status_of(&conn, finished), "running");
            assert_eq!(record_deferred(&conn).unwrap(), 1);
            assert_eq!(status_of(&conn, finished), "failed");
            drop(lock);
        }

        /// A process this one cannot see (ProtectProc=invisible, hidepid: its
        /// /proc entry is absent or unreadable) but that exists is alive.
        #[test]
        fn a_process_hidden_from_proc_is_not_taken_for_dead() {
            let empty = tempfile::tempdir().unwrap();
            let mut child = std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .unwrap();
            let pid = child.id();
            let p = Process {
                pid,
                start: process_start(pid),
            };
            assert!(p.start.is_some());
            // As a process with hidepid sees it: no /proc entry.
            assert!(p.is_alive_in(empty.path()));
            child.kill().unwrap();
            child.wait().unwrap();
            assert!(!p.is_alive_in(empty.path()));
            assert!(!p.is_alive());
        }
    }

    #[test]
    fn an_outcome_the_database_refuses_is_recorded_when_it_takes_writes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = file_db(dir.path());
        conn.busy_timeout(std::time::Duration::from_millis(50))
            .unwrap();
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let id = start_run(&conn, "orders", "a", t).unwrap();

        let other = Connection::open(dir.path().join("f.db")).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = finish_run(&conn, id, RunStatus::Failed, 3, Some("boom"), t).unwrap_err();
        assert!(is_transient(&err), "{err}");
        defer(
            &conn,
            Deferred::Finish {
                id,
                status: RunStatus::Failed,
                rows: 3,
                error: Some("boom".into()),
                at: t,
            },
        );
        defer(
            &conn,
            Deferred::Run {
                job: "listings".into(),
                account: "a".into(),
                started_at: t,
                status: RunStatus::Failed,
                error: Some("not started".into()),
            },
        );
        assert!(record_deferred(&conn).is_err());
        assert_eq!(deferred_count(&conn), 2, "kept while refused");
        other.execute_batch("COMMIT").unwrap();

        assert_eq!(record_deferred(&conn).unwrap(), 2);
        assert_eq!(deferred_count(&conn), 0);
        assert_eq!(status_of(&conn, id), "failed");
        let rows: Vec<(String, String, Option<String>)> = crate::store::all_rows(
            &conn,
            "SELECT job, status, finished_at FROM job_runs ORDER BY id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    "orders".into(),
                    "failed".into(),
                    Some("2026-11-24T12:00:00Z".into())
                ),
                (
                    "listings".into(),
                    "failed".into(),
                    Some("2026-11-24T12:00:00Z".into())
                ),
            ]
        );
    }
}
