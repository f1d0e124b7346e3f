//! `flywheel run`: the daemon (DESIGN §6). It runs unattended for months,
//! so it must never silently stop, never hot-loop, never lose a write on
//! shutdown, and always be able to say how it is doing.
//!
//! One loop owns the schedule. Each turn it reads the one clock (`[daemon]
//! clock`: the system's, or the simulator's in the demo and tests), runs the
//! (account, job) pairs that are due as one sync round per account, then an
//! evaluation round (alerts, outbox), the weekly digest when it is due, and
//! the daily retention prune; then it sleeps until the next tick (at most a
//! few seconds of wall time, so a simulated clock that jumps is noticed).
//! `flywheel demo` runs this same loop with [`Pace::Driven`]: instead of
//! sleeping, the loop says it is idle until the next tick, and the demo
//! moves its simulated marketplace's clock there, so two weeks of schedule
//! take seconds.
//!
//! - Ticks come from each job's 5-field cron in `[daemon] timezone`, plus a
//!   fixed per-account jitter (so accounts do not stampede Amazon at :00).
//!   A missed tick is skipped, not replayed: after a run the next tick is
//!   the first one after *now*. A job that never ran is due at start.
//! - A failing job backs off (5 min doubling to 6 h, and never before its
//!   next tick) and resets on success.
//! - The outbox sender runs beside the loop on its own connection, so an
//!   email or a chat message is never stuck behind a long sync; it
//!   delivers email, then every chat receiver (`alert::chat_sender`).
//! - SIGTERM/SIGINT: stop taking ticks and start nothing new (no queued
//!   job, no later phase or account of the round, no evaluation, digest or
//!   prune); let the jobs in flight finish within `shutdown_timeout`, exit
//!   0. Every write is one SQLite transaction, so work abandoned at the
//!   deadline rolls back whole: nothing half-written, and the job resumes
//!   from its cursor; its run is closed as interrupted. A round whose jobs
//!   finished but whose evaluation was skipped is evaluated at the next
//!   start.
//! - SIGHUP: reload the config; a valid one takes effect for the next ticks,
//!   an invalid one is logged with the `check-config` messages and the
//!   running config kept.
//! - One daemon per database: an exclusive lock on `<database>.lock`.
//! - systemd: READY once migrated and configured; WATCHDOG pings only while
//!   the loop turns and the database answers; STATUS after every round.

pub mod metrics;
mod schedule;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::{mpsc, watch};

use crate::alert;
use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::ApiClient;
use crate::clock::Clock;
use crate::config::{Config, Env};
use crate::store;
use crate::store::jobs::{Closer, RunStatus};
use crate::sync::{self, JobName, Selection};

use schedule::Schedule;
pub use schedule::{backoff, jitter, BUDGET_RETRY};

/// Longest wall-clock sleep between turns of the loop.
const MAX_SLEEP: StdDuration = StdDuration::from_secs(5);
/// Shortest (a frozen or very fast simulated clock must not spin).
const MIN_SLEEP: StdDuration = StdDuration::from_millis(50);
/// The sender looks at the outbox this often (clock time).
const SENDER_EVERY: Duration = Duration::seconds(30);
/// Retention runs this often (clock time).
const PRUNE_EVERY: Duration = Duration::hours(24);

/// Commands to a running daemon (what the signals map to; tests send them
/// directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Reload,
}

/// How the loop waits for its next tick.
#[derive(Debug, Clone, Default)]
pub enum Pace {
    /// Sleeps in wall time until the tick (production, and any clock that
    /// runs on its own).
    #[default]
    Wall,
    /// Tells a driver that the loop is idle until the next tick and waits
    /// for its go-ahead: the demo, which moves its simulated marketplace's
    /// clock to that tick at once, so days of the schedule run in seconds
    /// through this same loop. A driver that goes away leaves `Wall`.
    Driven(mpsc::UnboundedSender<Idle>),
}

/// The loop has finished its turn at `now` and has nothing to do before
/// `next` (`None`: nothing scheduled); it turns again once `resume` is
/// answered (or dropped).
#[derive(Debug)]
pub struct Idle {
    pub now: DateTime<Utc>,
    pub next: Option<DateTime<Utc>>,
    pub resume: tokio::sync::oneshot::Sender<()>,
}

impl Pace {
    /// Waits for the next turn: `wait` of clock time at `speed`, or the
    /// driver's go-ahead.
    async fn idle(&self, now: DateTime<Utc>, next: Option<DateTime<Utc>>, speed: f64) {
        if let Pace::Driven(driver) = self {
            let (resume, resumed) = tokio::sync::oneshot::channel();
            if driver.send(Idle { now, next, resume }).is_ok() {
                let _ = resumed.await;
                return;
            }
        }
        let wait = next
            .map(|t| (t - now).max(Duration::zero()))
            .unwrap_or(Duration::minutes(1));
        tokio::time::sleep(wall_sleep(wait, speed)).await;
    }
}

/// A handle to stop or reload a daemon started with [`start`].
pub struct Handle {
    shutdown: watch::Sender<bool>,
    control: mpsc::UnboundedSender<Control>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Handle {
    pub fn reload(&self) {
        let _ = self.control.send(Control::Reload);
    }
    /// Asks the daemon to stop and waits for it.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.context("the daemon task panicked")?
    }
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Starts the daemon on the current runtime (tests and `run`).
pub fn start(config_path: PathBuf, env: Env) -> Handle {
    start_paced(config_path, env, Pace::Wall)
}

/// Starts the daemon with its waits between ticks left to `pace`.
pub fn start_paced(config_path: PathBuf, env: Env, pace: Pace) -> Handle {
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (control, control_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run_until(config_path, env, pace, shutdown_rx, control_rx));
    Handle {
        shutdown,
        control,
        task,
    }
}

/// `flywheel run`: the daemon until SIGTERM/SIGINT; SIGHUP reloads.
pub async fn run(config_path: PathBuf, env: Env) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let handle = start(config_path, env);
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); break }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); break }
            _ = hup.recv() => { tracing::info!("SIGHUP: reloading the configuration"); handle.reload() }
            _ = wait_finished(&handle) => break,
        }
    }
    handle.shutdown().await
}

async fn wait_finished(h: &Handle) {
    while !h.is_finished() {
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}

/// Holds `<database>.lock` exclusively for the daemon's life.
pub struct DbLock {
    _file: std::fs::File,
    pub path: PathBuf,
}

/// Takes the one-daemon-per-database lock, or says who holds it; `demo`
/// when `flywheel demo` drives the loop ([`Pace::Driven`]).
pub fn lock(database: &Path, demo: bool) -> anyhow::Result<DbLock> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    // Beside the database, whose directory nothing creates (see
    // store::StoreError::NoDirectory). Owner-only, like the database.
    store::check_directory(database)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let pid = holder
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<u32>().ok());
            anyhow::bail!(
                "another `flywheel run` already uses the database {} (lock {} held{}); one daemon per database: stop the other one, or give this one its own `[daemon] database`",
                database.display(),
                path.display(),
                pid.map(|p| format!(" by pid {p}")).unwrap_or_default()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    // One left by an older flywheel keeps its mode through open().
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .with_context(|| format!("cannot make the lock file {} private", path.display()))?;
    use std::io::{Seek, Write};
    file.set_len(0)?;
    file.seek(std::io::SeekFrom::Start(0))?;
    // The pid, when this daemon started (wall time: a fact about the
    // process, whatever `[daemon] clock` says) and its identity, for
    // `flywheel status` (store::status::daemon_lock reads them).
    let me = store::jobs::Process::current();
    let started = DateTime::<Utc>::from(std::time::SystemTime::now());
    file.write_all(store::status::lock_file_text(&me, started, demo).as_bytes())?;
    Ok(DbLock { _file: file, path })
}

/// What the daemon shares with its watchdog, sender and status line.
#[derive(Default)]
struct Shared {
    /// Unix seconds (wall) of the loop's last turn.
    alive: AtomicI64,
    /// A round is in progress (long backfills do not starve the watchdog).
    busy: AtomicBool,
}

fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn notify(states: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(false, states);
}

async fn run_until(
    config_path: PathBuf,
    env: Env,
    pace: Pace,
    mut shutdown: watch::Receiver<bool>,
    mut control: mpsc::UnboundedReceiver<Control>,
) -> anyhow::Result<()> {
    let mut cfg = Arc::new(Config::load(&config_path, &env)?);
    let _lock = lock(&cfg.daemon.database, matches!(pace, Pace::Driven(_)))?;
    let (mut conn, report) = store::open_and_migrate(&cfg.daemon.database)?;
    let clock = Clock::from_source(&cfg.daemon.clock);
    let reading = clock.read().await.context("cannot read the clock")?;
    store::ops::sync_accounts(&mut conn, &cfg, reading.now)?;
    tracing::info!(
        database = %cfg.daemon.database.display(),
        schema = report.to_version,
        accounts = cfg.accounts.len(),
        "flywheel daemon started"
    );
    let client = ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(cfg.sync.max_attempts, cfg.sync.max_backoff),
    )?
    .with_run_limits((&cfg.sync).into());
    client.limiter.follow(reading.now, reading.speed);
    // Runs a stopped daemon left 'running' are closed as interrupted (this
    // daemon holds the lock, so no other daemon is running them); opening
    // the database closed those of other dead processes, and the runs of a
    // `flywheel sync` still at work are left alone.
    let closed =
        store::jobs::close_abandoned_runs(&conn, Closer::StartingDaemon, reading.now)?.len();
    if closed > 0 {
        tracing::warn!(
            runs = closed,
            "closed sync runs interrupted by the last stop; they run again now"
        );
    }
    // Emails a killed sender had claimed are due again now, not when the
    // claim's lease runs out (they resend with the same Message-ID).
    let released = store::outbox::release_abandoned_claims(&conn, reading.now)?;
    if released > 0 {
        tracing::warn!(
            emails = released,
            "released outbox claims left by the last stop; sending them now"
        );
    }
    // Jobs that never ran, or whose newest run failed (or was interrupted),
    // are due at start: resume now rather than at the next tick; so are
    // jobs whose tick passed since their newest run (see Schedule::build).
    let settled = {
        let settled: HashMap<(String, String), DateTime<Utc>> = conn
            .prepare(
                "SELECT account, job, started_at FROM job_runs r WHERE account IS NOT NULL
                   AND id = (SELECT MAX(id) FROM job_runs WHERE account = r.account AND job = r.job)
                   AND status IN ('ok', 'unavailable', 'skipped')",
            )?
            .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, String>(2)?)))?
            .filter_map(|r| match r {
                Ok((k, at)) => DateTime::parse_from_rfc3339(&at)
                    .ok()
                    .map(|t| Ok((k, t.with_timezone(&Utc)))),
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()?;
        move |a: &str, j: JobName| {
            settled
                .get(&(a.to_string(), j.as_str().to_string()))
                .copied()
        }
    };
    let mut schedule = Schedule::build(&cfg, &settled, reading.now, None);
    // A round whose jobs finished after the last evaluation (the daemon was
    // stopped between them) is evaluated at the first turn.
    let mut evaluation_owed = store::jobs::evaluation_owed(&conn)?;
    let db: sync::Db = std::sync::Mutex::new(conn);
    let shared = Arc::new(Shared::default());
    shared.alive.store(wall_now(), Ordering::Relaxed);

    // The sender and the watchdog, beside the loop.
    let (stop_tx, stop_rx) = watch::channel(false);
    let cfg_tx = watch::Sender::new(cfg.clone());
    let sender = tokio::spawn(sender_loop(
        cfg_tx.subscribe(),
        clock.clone(),
        stop_rx.clone(),
    ));
    let watchdog = tokio::spawn(watchdog_loop(
        cfg.daemon.database.clone(),
        shared.clone(),
        stop_rx.clone(),
    ));
    let metrics = cfg.daemon.metrics_listen.map(|addr| {
        tokio::spawn(metrics::serve(
            addr,
            cfg.daemon.database.clone(),
            stop_rx.clone(),
        ))
    });
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status("started; waiting for the first tick"),
    ]);

    let mut last_prune: Option<DateTime<Utc>> = None;
    let mut stopping = false;
    // The clock's time at the last turn (what closing runs at exit records).
    let mut last_now = reading.now;
    while !stopping {
        shared.alive.store(wall_now(), Ordering::Relaxed);
        let reading = match clock.read().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the clock; trying again");
                if sleep_or_stop(&mut shutdown, MAX_SLEEP).await {
                    break;
                }
                continue;
            }
        };
        let now = reading.now;
        last_now = now;
        client.limiter.follow(reading.now, reading.speed);
        // Run outcomes and call counts the database refused earlier (locked
        // by another process, disk full) are written as soon as it takes them.
        if let Err(e) = sync::record_pending(&client, &db, StdDuration::ZERO).await {
            tracing::warn!(error = %e, "job run records not written yet; trying again next turn");
        }

        let due = schedule.due(now);
        let digest_due = schedule.digest_next.is_some_and(|t| t <= now);
        let prune_due = last_prune.is_none_or(|t| now - t >= PRUNE_EVERY);
        if !due.is_empty() || digest_due || prune_due || evaluation_owed {
            shared.busy.store(true, Ordering::Relaxed);
            // Once SIGTERM arrives the turn starts nothing new.
            let stop_rx = shutdown.clone();
            let stop = move || *stop_rx.borrow();
            let outcome = {
                let work = turn(
                    &cfg,
                    &client,
                    &db,
                    &clock,
                    &mut schedule,
                    Plan {
                        due,
                        digest_due,
                        prune_due,
                        evaluation_owed,
                    },
                    now,
                    &stop,
                );
                tokio::pin!(work);
                let outcome = tokio::select! {
                    r = &mut work => Some(r),
                    _ = shutdown.changed() => None,
                };
                match outcome {
                    Some(r) => r,
                    None => {
                        stopping = true;
                        tracing::info!(timeout = ?cfg.daemon.shutdown_timeout, "letting the work in flight finish");
                        notify(&[sd_notify::NotifyState::Stopping]);
                        match tokio::time::timeout(cfg.daemon.shutdown_timeout, &mut work).await {
                            Ok(r) => r,
                            Err(_) => {
                                tracing::warn!("shutdown timeout: the unfinished job's transaction is rolled back; its next run resumes from its cursor");
                                Ok(TurnOutcome::default())
                            }
                        }
                    }
                }
            };
            shared.busy.store(false, Ordering::Relaxed);
            release_memory(&db);
            match outcome {
                Ok(o) => {
                    if o.evaluated {
                        evaluation_owed = false;
                    }
                    if prune_due {
                        last_prune = Some(now);
                    }
                    if digest_due {
                        schedule.digest_next = Schedule::next_digest(&cfg, now);
                    }
                    if let Some(status) = o.status {
                        notify(&[sd_notify::NotifyState::Status(&status)]);
                    }
                    if o.healthy_sync {
                        heartbeat(&cfg).await;
                    }
                }
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "daemon round failed; retrying at the next tick"
                ),
            }
            if stopping {
                break;
            }
        }

        // Sleep until the next tick (in clock time), a signal, or a reload.
        tokio::select! {
            _ = pace.idle(now, schedule.earliest(), reading.speed) => {}
            _ = shutdown.changed() => { stopping = true; }
            Some(Control::Reload) = control.recv() => {
                match Config::load(&config_path, &env) {
                    Ok(new) => {
                        let new = Arc::new(new);
                        if new.daemon.database != cfg.daemon.database || new.daemon.clock != cfg.daemon.clock {
                            tracing::warn!("[daemon] database and clock changes take effect after a restart");
                        }
                        {
                            let mut conn = db.lock().map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
                            store::ops::sync_accounts(&mut conn, &new, now)?;
                        }
                        schedule = Schedule::build(&new, &settled, now, Some(&schedule));
                        cfg = new;
                        let _ = cfg_tx.send(cfg.clone());
                        tracing::info!(summary = cfg.summary(), "configuration reloaded");
                    }
                    Err(e) => {
                        tracing::error!("configuration not reloaded; the running one stays:\n{e}");
                    }
                }
            }
        }
    }

    notify(&[sd_notify::NotifyState::Stopping]);
    // What the database refused is written now if it takes it; otherwise the
    // next start closes those runs as interrupted.
    if let Err(e) = sync::record_pending(&client, &db, StdDuration::ZERO).await {
        tracing::error!(error = %e, "job run records not written; the next start records those runs as interrupted");
    }
    // Runs abandoned at the shutdown deadline are this daemon's to close.
    if let Ok(conn) = db.lock() {
        match store::jobs::close_own_daemon_runs(
            &conn,
            "the daemon stopped (SIGTERM) and the job did not finish within [daemon] shutdown_timeout; rows it committed are kept and the job resumes from its cursor at the next start",
            last_now,
        ) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(runs = n, "closed the runs abandoned at the shutdown timeout as interrupted"),
            Err(e) => tracing::error!(error = %e, "could not close the abandoned runs; the next start records them as interrupted"),
        }
    }
    let _ = stop_tx.send(true);
    let deadline = cfg.daemon.shutdown_timeout;
    if tokio::time::timeout(deadline, sender).await.is_err() {
        tracing::warn!("the sender did not finish within the shutdown timeout; unsent emails stay in the outbox");
    }
    let _ = watchdog.await;
    if let Some(m) = metrics {
        let _ = tokio::time::timeout(StdDuration::from_secs(2), m).await;
    }
    tracing::info!("flywheel daemon stopped");
    Ok(())
}

/// Hands back the memory a round used, since the daemon spends most of
/// its life idle between ticks: the round's SQLite page cache, and (on
/// glibc) the free pages malloc keeps in its per-thread arenas, which it
/// never returns on its own. Without this an idle daemon stays at the
/// size of its busiest round (`bench idle`: 28 MiB for the demo account).
fn release_memory(db: &sync::Db) {
    if let Ok(conn) = db.lock() {
        let _ = conn.execute_batch("PRAGMA shrink_memory");
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's malloc_trim has no preconditions; it only
        // returns free heap pages to the kernel.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// The wall time to sleep for `wait` of clock time at `speed`.
fn wall_sleep(wait: Duration, speed: f64) -> StdDuration {
    let secs = wait.num_milliseconds().max(0) as f64 / 1000.0;
    let wall = if speed > 0.0 {
        secs / speed
    } else {
        MAX_SLEEP.as_secs_f64()
    };
    StdDuration::from_secs_f64(wall.clamp(MIN_SLEEP.as_secs_f64(), MAX_SLEEP.as_secs_f64()))
}

/// Sleeps `d`; true when asked to stop meanwhile.
async fn sleep_or_stop(shutdown: &mut watch::Receiver<bool>, d: StdDuration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}

#[derive(Default)]
struct TurnOutcome {
    status: Option<String>,
    /// A sync round ran and every job in it succeeded.
    healthy_sync: bool,
    /// An evaluation round ran.
    evaluated: bool,
}

/// What a turn is to do.
struct Plan {
    due: std::collections::BTreeMap<String, Vec<JobName>>,
    digest_due: bool,
    prune_due: bool,
    /// Evaluate even if no job runs (a round's evaluation was skipped).
    evaluation_owed: bool,
}

/// One turn's work: the due sync rounds, then evaluation, digest, prune.
/// Once `stop()` says so nothing new starts: no further account's round,
/// no later phase, no evaluation, digest or prune.
#[allow(clippy::too_many_arguments)]
async fn turn(
    cfg: &Config,
    client: &ApiClient,
    db: &sync::Db,
    clock: &Clock,
    schedule: &mut Schedule,
    plan: Plan,
    now: DateTime<Utc>,
    stop: &(dyn Fn() -> bool + Sync),
) -> anyhow::Result<TurnOutcome> {
    let Plan {
        due,
        digest_due,
        prune_due,
        evaluation_owed,
    } = plan;
    let mut out = TurnOutcome::default();
    let mut ran = 0usize;
    let mut failed = 0usize;
    let progress = sync::Progress::default();
    for (account, jobs) in &due {
        if stop() {
            break;
        }
        let selection = Selection {
            jobs: jobs.clone(),
            accounts: vec![account.clone()],
        };
        let results =
            sync::run_round(cfg, client, db, clock, now, &selection, &progress, stop).await;
        if let Err(e) = sync::flush_counters(client, db) {
            tracing::warn!(error = %e, "API call counts not written yet; kept for the next turn");
        }
        let mut seen = std::collections::HashSet::new();
        for r in &results {
            let ok = r.status != RunStatus::Failed;
            if !ok {
                failed += 1;
                tracing::warn!(account = %r.account, job = r.job.as_str(), error = %r.message, "sync job failed");
            }
            ran += 1;
            seen.insert(r.job);
            schedule.done(cfg, &r.account, r.job, ok, now);
            if ok && r.deferred_by_budget() {
                schedule.budget_deferred(&r.account, r.job, now);
            }
        }
        // Jobs of the selection that did not run (disabled for the account):
        // move their slot on so they do not spin.
        for j in jobs.iter().filter(|j| !seen.contains(j)) {
            schedule.done(cfg, account, *j, true, now);
        }
    }
    if stop() {
        tracing::info!("shutting down: no evaluation, digest or prune this turn (the next start evaluates what this round synced)");
        return Ok(out);
    }
    if ran > 0 || evaluation_owed {
        let mut conn = db
            .lock()
            .map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
        if ran > 0 {
            tokio::task::block_in_place(|| store::optimize(&conn));
        }
        let round = tokio::task::block_in_place(|| alert::evaluate::round(&mut conn, cfg, now))?;
        out.evaluated = true;
        tracing::info!(
            emails = round.emails(),
            "evaluation round: {}",
            round.to_string().trim_end().replace('\n', "; ")
        );
        out.healthy_sync = ran > 0 && failed == 0;
        let firing: i64 = conn.query_row(
            "SELECT COUNT(*) FROM alerts WHERE state = 'firing'",
            [],
            |r| r.get(0),
        )?;
        let backlog = store::outbox::backlog(&conn)?;
        let local = now.with_timezone(&cfg.daemon.timezone).format("%H:%M");
        out.status = Some(format!(
            "last sync {local} {}; {firing} alert{} firing; outbox {}{}",
            if failed == 0 {
                "ok".to_string()
            } else {
                format!("{failed} job(s) failed")
            },
            if firing == 1 { "" } else { "s" },
            backlog.pending,
            if backlog.failed > 0 {
                format!(" ({} failed)", backlog.failed)
            } else {
                String::new()
            }
        ));
    }
    if prune_due {
        let mut conn = db
            .lock()
            .map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
        let p = tokio::task::block_in_place(|| {
            store::retention::prune(&mut conn, now, cfg.daemon.retention_days)
        })?;
        if p.rows() > 0 {
            tracing::info!(rows = p.rows(), cutoff = %p.cutoff, "pruned data older than retention_days");
        }
    }
    if digest_due {
        // At the tick's `now`, in this connection, as `flywheel digest
        // --send` builds and queues it; the sender delivers it.
        let mut conn = db
            .lock()
            .map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
        let said = tokio::task::block_in_place(|| -> anyhow::Result<String> {
            let accounts: Vec<&crate::config::Account> = cfg.accounts.iter().collect();
            let digests = alert::digest::render_all(&mut conn, cfg, &accounts, now)?;
            alert::digest::queue(&mut conn, cfg, &digests, now)
        })?;
        tracing::info!("weekly digest: {}", said.trim_end().replace('\n', "; "));
    }
    Ok(out)
}

/// Pings `[daemon] heartbeat_url` (a dead-man's switch) after a healthy round.
async fn heartbeat(cfg: &Config) {
    let Some(url) = &cfg.daemon.heartbeat_url else {
        return;
    };
    let client = match reqwest::Client::builder()
        .timeout(StdDuration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    match client.get(url).send().await {
        Ok(r) if r.status().is_success() => tracing::debug!("heartbeat ok"),
        Ok(r) => tracing::warn!(
            status = r.status().as_u16(),
            "heartbeat URL answered with an error"
        ),
        Err(e) => tracing::warn!(error = %e, "heartbeat URL unreachable"),
    }
}

/// Delivers the outbox every [`SENDER_EVERY`] of clock time, on its own
/// connection, until stopped (finishing the delivery in progress).
async fn sender_loop(
    cfg: watch::Receiver<Arc<Config>>,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    // One connection for the sender's life (reopened after an error).
    let mut conn: Option<rusqlite::Connection> = None;
    // The chat sender keeps each robot's pace across ticks; within a tick
    // it waits a few seconds at most for one (the rest goes next tick).
    let mut chat = match alert::chat_sender::ChatSender::new(
        alert::chat_sender::TIMEOUT,
        StdDuration::from_secs(5),
    ) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the chat sender's HTTP client; chat messages stay queued");
            None
        }
    };
    loop {
        let speed = deliver_once(&cfg, &clock, &mut conn, &mut chat).await;
        if *stop.borrow() {
            return;
        }
        let wall = wall_sleep(SENDER_EVERY, speed).max(StdDuration::from_millis(200));
        tokio::select! {
            _ = tokio::time::sleep(wall) => {}
            _ = stop.changed() => {
                // One last delivery of what the final round queued.
                deliver_once(&cfg, &clock, &mut conn, &mut chat).await;
                return;
            }
        }
    }
}

/// Delivers what is due now; returns the clock's speed (1 when unreadable).
async fn deliver_once(
    cfg: &watch::Receiver<Arc<Config>>,
    clock: &Clock,
    conn: &mut Option<rusqlite::Connection>,
    chat: &mut Option<alert::chat_sender::ChatSender>,
) -> f64 {
    let c = cfg.borrow().clone();
    let reading = match clock.read().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the sender cannot read the clock");
            return 1.0;
        }
    };
    if conn.is_none() {
        match store::open(&c.daemon.database) {
            Ok(x) => *conn = Some(x),
            Err(e) => {
                tracing::error!(error = %e, "the sender cannot open the database");
                return reading.speed;
            }
        }
    }
    let Some(db) = conn.as_mut() else {
        return reading.speed;
    };
    match alert::sender::send_now(&c, db, reading.now).await {
        Ok(d) if !d.is_empty() => tracing::info!("outbox: {}", d.to_string().trim_end()),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "outbox delivery failed");
            *conn = None;
            return reading.speed;
        }
    }
    if let (Some(chat), Some(db)) = (chat.as_mut(), conn.as_mut()) {
        match chat.deliver_due(db, &c.receivers, reading.now).await {
            Ok(d) if !d.is_empty() => tracing::info!("chat: {d}"),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "chat delivery failed");
                *conn = None;
            }
        }
    }
    reading.speed
}

/// Pings systemd's watchdog while the loop turns (or a round is in
/// progress) and the database answers; silence makes systemd restart us.
async fn watchdog_loop(database: PathBuf, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut usec = 0u64;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        let _ = stop.changed().await;
        return;
    }
    let every = StdDuration::from_micros(usec / 2);
    let stale_after = (usec / 1_000_000).max(60) as i64;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let loop_ok = shared.busy.load(Ordering::Relaxed)
            || wall_now() - shared.alive.load(Ordering::Relaxed) < stale_after;
        let db_ok = store::open(&database)
            .and_then(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .is_ok();
        if loop_ok && db_ok {
            notify(&[sd_notify::NotifyState::Watchdog]);
        } else {
            tracing::error!(
                loop_ok,
                db_ok,
                "not pinging the watchdog: the daemon is unhealthy"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::schedule::tests::t;
    use super::*;

    /// The marker that an evaluation ran is one only an evaluation writes:
    /// `flywheel kpis` re-recording the evaluation dates does not make the
    /// next start evaluate (and maybe email) again.
    #[test]
    fn an_evaluation_is_not_owed_after_kpis_rerecords_the_dates() {
        let cfg = crate::config::test_config("");
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        store::migrate(&mut conn, "mem").unwrap();
        let t0 = t("2026-11-24T10:00:00Z");
        store::ops::sync_accounts(&mut conn, &cfg, t0).unwrap();
        let id = store::jobs::start_run(&conn, "orders", "a", t0).unwrap();
        store::jobs::finish_run(&conn, id, RunStatus::Ok, 1, None, t0).unwrap();
        assert!(store::jobs::evaluation_owed(&conn).unwrap());

        crate::alert::evaluate::round(&mut conn, &cfg, t0 + Duration::minutes(1)).unwrap();
        assert!(!store::jobs::evaluation_owed(&conn).unwrap());
        let day = t0.date_naive();
        crate::kpis::record_evaluation_dates(&conn, &cfg, day, t0 + Duration::minutes(2), "kpis")
            .unwrap();
        assert!(!store::jobs::evaluation_owed(&conn).unwrap());

        // A later successful run is owed its evaluation again.
        let id = store::jobs::start_run(&conn, "orders", "a", t0 + Duration::hours(1)).unwrap();
        store::jobs::finish_run(&conn, id, RunStatus::Ok, 1, None, t0 + Duration::hours(1))
            .unwrap();
        assert!(store::jobs::evaluation_owed(&conn).unwrap());
    }

    /// The weekly digest of a turn is built at the turn's `now` (the one
    /// clock reading of the tick) in the turn's own connection, as every
    /// other phase of the turn: not at a second reading of the clock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_digest_is_built_at_the_ticks_now() {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("f.db");
        let cfg = crate::alert::digest::tests::cfg(&db_path);
        // A tick far from the system clock's time.
        let now = t("2031-05-06T16:00:00Z");
        let (mut conn, _) = store::open_and_migrate(&db_path).unwrap();
        store::ops::sync_accounts(&mut conn, &cfg, now).unwrap();
        let db: sync::Db = std::sync::Mutex::new(conn);
        let client = ApiClient::new(
            cfg.sync.request_timeout,
            RetryPolicy::new(cfg.sync.max_attempts, cfg.sync.max_backoff),
        )
        .unwrap();
        let mut schedule = Schedule::build(&cfg, &|_, _| None, now, None);
        let plan = Plan {
            due: Default::default(),
            digest_due: true,
            prune_due: false,
            evaluation_owed: false,
        };
        let clock = crate::clock::Clock::from_source(&cfg.daemon.clock);
        turn(
            &cfg,
            &client,
            &db,
            &clock,
            &mut schedule,
            plan,
            now,
            &|| false,
        )
        .await
        .unwrap();
        let conn = db.into_inner().unwrap();
        // The KPIs were evaluated as of the tick's day, and the one digest
        // email queued at the tick's instant.
        let (at, queued): (String, String) = conn
            .query_row(
                "SELECT (SELECT at FROM evaluation_dates WHERE account = 'acme'),
                        (SELECT group_concat(created_at) FROM outbox WHERE kind = 'digest')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((at.as_str(), queued), ("2031-05-06", store::ops::ts(now)));
    }
}
