//! The crash drill: `flywheel run` (the real binary) against the simulated
//! marketplace and the test SMTP server, killed with SIGKILL over and over
//! during sync, evaluation and sending, and restarted each time; then the
//! database must be intact, hold the same data as a daemon that was never
//! killed, and every email must have reached the server at least once
//! (a duplicate only ever with the same Message-ID).
//!
//! How it is deterministic:
//! - Two simulators serve the same world on one shared clock (same seed,
//!   same sim time at every instant), each with its own request state
//!   (rate limits, reports). The drill daemon syncs from one, a reference
//!   daemon — same binary, same config, never killed — from the other,
//!   side by side. Both run every job every 20 sim minutes, then switch to
//!   one daily tick, so at the end both finish a round at the same tick.
//! - Synced data is compared table by table (every table of the schema but
//!   the bookkeeping ones), row by row in primary-key order, leaving out
//!   the columns that say *when* a row was fetched or observed, and only
//!   rows of data settled before the last common tick minus a margin (the
//!   two last rounds ran a few sim minutes apart; newer rows may differ;
//!   see [`WINDOWS`]).
//! - Kills: each one targets a phase (rotating sync → evaluation → sending
//!   in a seeded order), waits until the daemon is in it (running job
//!   rows; all jobs of the round finished and no evaluation logged yet; a
//!   message inside the SMTP server's held "250"), then a seeded random
//!   delay, then SIGKILL. Every other evaluation target waits instead for
//!   the round's write transaction (alert state + outbox), seen as the
//!   write lock held late in the round. What the daemon was doing at the
//!   kill (judged from what the killed daemon left: open runs, its log;
//!   and, looked at just before the kill, the SMTP server's held messages
//!   and the write lock) is recorded and counted per phase.
//! - Alerts: every alert the state says was notified has its email in the
//!   outbox from the same round, delivered; no alert is carried twice
//!   within the repeat interval in one episode; and every alert the
//!   reference notified, the drill notified too.
//!
//! Re-run a seed: `CRASH_SEED=1234 cargo test --test crash_drill --
//! --ignored --nocapture` (the seed is printed at the start). Wall budget:
//! `CRASH_BUDGET_SECS` (default 360); the kill loop stops early to leave
//! time for settling, and fails if it could not reach [`MIN_KILLS`].
//! `CRASH_LOG_DIR=dir` keeps the daemons' logs and both databases there.

mod common;
#[path = "common/smtp.rs"]
mod smtp;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

/// At least this many kills, or the drill fails.
const MIN_KILLS: usize = 30;
/// The loop stops here even with budget left.
const MAX_KILLS: usize = 45;
const DEFAULT_SEED: u64 = 0x5EED_2026;
const DEFAULT_BUDGET: Duration = Duration::from_secs(360);
/// Kept back from the budget for the final settle and the checks.
const SETTLE_RESERVE: Duration = Duration::from_secs(100);
/// Sim seconds per wall second: a 20-minute tick every 4 s of wall time.
const SPEED: f64 = 300.0;
/// How long the SMTP server holds each "250" (the sending window).
const ACCEPT_DELAY: Duration = Duration::from_millis(300);

/// splitmix64: a small seeded generator (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Sync,
    Evaluation,
    Sending,
}

const PHASES: [Phase; 3] = [Phase::Sync, Phase::Evaluation, Phase::Sending];

/// The harness's config for a daemon: `[email]` to `smtp_port`, every job
/// every 20 sim minutes (a round each 4 s of wall time), the digest off,
/// and repeats every hour so alerts keep producing emails to kill the
/// sender on.
fn drill_config(base: &Path, smtp_port: u16, out: &Path) -> PathBuf {
    let text = smtp::with_smtp(&std::fs::read_to_string(base).unwrap(), smtp_port);
    let mut schedule = String::from("\n[schedule]\n");
    for job in flywheel::sync::JobName::ALL {
        schedule.push_str(&format!("{} = \"*/20 * * * *\"\n", job.as_str()));
    }
    schedule.push_str("digest = \"off\"\n");
    let p = out.join("drill.toml");
    std::fs::write(
        &p,
        format!("{text}{schedule}\n[alerts]\nrepeat_interval = \"1h\"\n"),
    )
    .unwrap();
    p
}

/// A daemon process the drill started: SIGKILLed when dropped, so a
/// failing drill (a panic anywhere) leaves no daemon behind polling a sim
/// that is gone.
struct Daemon(Child);

impl std::ops::Deref for Daemon {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Daemon {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Nothing happens for a child already waited for.
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn_run(cfg: &Path, log: &Path) -> Daemon {
    Daemon(
        std::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .args(["--config", cfg.to_str().unwrap(), "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("flywheel run starts"),
    )
}

fn int(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
}

fn running(conn: &Connection) -> i64 {
    int(
        conn,
        "SELECT COUNT(*) FROM job_runs WHERE status = 'running'",
    )
}

/// All jobs this process started have finished and it has not logged an
/// evaluation since: the daemon is between its sync round and the end of
/// the evaluation (the round's evaluation transaction is open).
fn evaluating(conn: &Connection, log: &Path) -> bool {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail = match text.rfind("evaluation round") {
        Some(i) => &text[i..],
        None => &text[..],
    };
    let started = tail.matches("job started").count();
    let ended = tail.matches("job done").count() + tail.matches("job did not complete").count();
    started > 0 && started == ended && running(conn) == 0
}

/// Whether some connection holds the database's write lock right now: a
/// `BEGIN IMMEDIATE` on `probe` (busy timeout 0) cannot start. Held for
/// microseconds when free, so the daemon's writers barely notice.
fn write_locked(probe: &Connection) -> bool {
    match probe.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            probe.execute_batch("ROLLBACK").unwrap();
            false
        }
        Err(_) => true,
    }
}

/// Whether the daemon is in `phase` right now.
fn in_phase(phase: Phase, conn: &Connection, log: &Path, server: &smtp::SmtpServer) -> bool {
    match phase {
        Phase::Sync => running(conn) > 0,
        Phase::Evaluation => evaluating(conn, log),
        Phase::Sending => server.in_data() > 0,
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

fn sigterm(child: &Child) {
    signal(child, "TERM");
}

async fn wait_exit(child: &mut Child, limit: Duration) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-1);
        }
        assert!(
            t.elapsed() < limit,
            "the daemon did not exit within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until `f` holds.
async fn until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A second simulator on the same world and clock (own rate limits and
/// reports), with its config in `dir`.
async fn reference_sim(h: &common::Harness, dir: &Path) -> PathBuf {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = flywheel_sim::server::AppState::new(
        h.sim.state.worlds.clone(),
        h.sim.clock.clone(),
        flywheel_sim::faults::Faults::new(flywheel_sim::faults::FaultSet::none(), 1),
        &url,
    );
    tokio::spawn(flywheel_sim::server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let p = dir.join("flywheel.toml");
    flywheel_sim::write_config::write_config(&p, &h.sim.state.worlds, &url).expect("write config");
    p
}

/// The daily schedule both daemons end on.
const FINAL_CRON: &str = "0 12 * * *";

/// Rewrites every job's schedule in the config at `path` to `cron`.
fn set_schedule(path: &Path, cron: &str) {
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("\"*/20 * * * *\"", &format!("\"{cron}\""));
    std::fs::write(path, text).unwrap();
}

/// The next tick of the (one) schedule in the config at `path` after `now`,
/// as the daemon computes it (timezone and the account's jitter).
fn next_tick(path: &Path, now: DateTime<Utc>) -> DateTime<Utc> {
    let cfg = flywheel::config::Config::load(path, &Default::default()).unwrap();
    let (_, sched) = cfg.schedule.jobs()[0];
    let local = sched
        .as_cron()
        .unwrap()
        .next_after(&now.with_timezone(&cfg.daemon.timezone))
        .unwrap();
    local.with_timezone(&Utc)
        + flywheel::daemon::jitter(&cfg.accounts[0].name, cfg.daemon.schedule_jitter)
}

/// Every job started a run at or after `tick`, and none is running.
fn round_since(conn: &Connection, tick: DateTime<Utc>) -> bool {
    running(conn) == 0
        && int(
            conn,
            &format!(
                "SELECT COUNT(DISTINCT job) FROM job_runs WHERE started_at >= '{}'",
                flywheel::store::ops::ts(tick)
            ),
        ) >= int(conn, "SELECT COUNT(DISTINCT job) FROM job_runs")
}

fn all_sent(conn: &Connection) -> bool {
    int(conn, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0
}

/// Bookkeeping tables: how the data was fetched, not the data.
const BOOKKEEPING: &[&str] = &[
    "job_runs",
    "job_cursors",
    "pending_reports",
    "api_call_counts",
    "learned_rate_limits",
    "credential_problems",
    "alerts",
    "alert_acks",
    "silences",
    "outbox",
    "outbox_attachments",
    "evaluation_dates",
    "schema_migrations",
];

/// Columns that say when a row was fetched or seen, not what it says.
fn is_fetch_time(col: &str) -> bool {
    matches!(
        col,
        "fetched_at"
            | "updated_at"
            | "created_at"
            | "first_seen_at"
            | "last_seen_at"
            | "response_seen_at"
            | "estimated_at"
            | "observed_at"
    )
}

/// Columns whose values legitimately differ between the two daemons (the
/// rows and every other column are compared):
const NOT_COMPARED: &[(&str, &str)] = &[
    // Current state that moves by the minute (the live FBM stock of a
    // listing goes down with each order); the two last reads were minutes
    // of sim time apart.
    ("listings", "fbm_quantity"),
    // Which path read an order last, and Amazon's word for its status in
    // that path's vocabulary (flat file `Shipped`, searchOrders `SHIPPED`):
    // an order updated around the end of the history backfill is read by
    // the report or by searchOrders depending on the instant the first
    // round started (seed 99: 13 sim seconds apart). The mapped status and
    // every amount must be equal.
    ("orders", "source"),
    ("orders", "raw_status"),
];

/// Which rows of a table are compared, as SQL conditions with the cutoffs
/// `{D}` (the tick's UTC date − 1 day), `{H}` (the tick's hour) and `{VD}`
/// (the tick's date − 15 days), and `{OUT}` (the orders still in flux, see
/// [`orders_in_flux`]): (table, rows whose keys must match, rows whose
/// values must match). The two last rounds ran minutes of sim time apart,
/// and the marketplace keeps changing: a row's *existence* is settled once
/// its event is a little older than the tick, its *values* (attributed ad
/// sales for 14 days, today's inventory) only later. Tables not listed are
/// compared whole.
const WINDOWS: &[(&str, &str, &str)] = &[
    // Every order but those updated after the orders cursor, keys and
    // values: an order's state read before its last update is final.
    (
        "orders",
        "order_id NOT IN ({OUT})",
        "order_id NOT IN ({OUT})",
    ),
    (
        "order_items",
        "order_id NOT IN ({OUT})",
        "order_id NOT IN ({OUT})",
    ),
    // One row per hour with a sync: the two daemons synced in different
    // hours (the drill, killed mid-round and restarted, skipped or added
    // some); the final round's hour is common to both. Inventory moves by
    // the second (its values are not compared); prices change by the day,
    // so the final hour's must be equal.
    ("inventory_snapshots", "observed_at >= '{H}'", "0"),
    (
        "pricing_snapshots",
        "observed_at >= '{H}'",
        "observed_at >= '{H}'",
    ),
    (
        "inventory_planning",
        "snapshot_date < '{D}'",
        "snapshot_date < '{D}'",
    ),
    (
        "account_health_snapshots",
        "snapshot_date < '{D}'",
        "snapshot_date < '{D}'",
    ),
    (
        "catalog_ranks",
        "snapshot_date < '{D}'",
        "snapshot_date < '{D}'",
    ),
    ("returns", "return_date < '{D}'", "return_date < '{VD}'"),
    (
        "seller_feedback",
        "feedback_date < '{D}'",
        "feedback_date < '{VD}'",
    ),
    ("sales_traffic_daily", "date < '{D}'", "date < '{VD}'"),
    (
        "sales_traffic_windows",
        "window_end < '{D}'",
        "window_end < '{VD}'",
    ),
    (
        "sales_traffic_asin",
        "window_end < '{D}'",
        "window_end < '{VD}'",
    ),
    ("ads_campaign_daily", "date < '{D}'", "date < '{VD}'"),
    ("ads_search_term_daily", "date < '{D}'", "date < '{VD}'"),
    (
        "ads_advertised_product_daily",
        "date < '{D}'",
        "date < '{VD}'",
    ),
];

/// The orders whose last update, as the marketplace says now, is at or
/// after the older of the two daemons' orders cursors (`through`: every
/// order last updated before it is stored). Their state changed after a
/// daemon's last read, or during it (an order updated while `searchOrders`
/// pages through the window leaves the window: the next run reads it), so
/// the two may hold older states of them, or not hold them yet. Every
/// other order must be in both, the same.
fn orders_in_flux(
    world: &flywheel_sim::world::World,
    conns: [&Connection; 2],
    now: DateTime<Utc>,
) -> Vec<String> {
    let through = conns
        .iter()
        .flat_map(|c| {
            c.prepare(
                "SELECT json_extract(cursor_json, '$.through') FROM job_cursors WHERE job = 'orders'",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
        })
        .map(|t| {
            let t = t.expect("both daemons' orders history complete");
            DateTime::parse_from_rfc3339(&t).unwrap().with_timezone(&Utc)
        })
        .min()
        .expect("an orders cursor");
    world
        .orders_updated(through, now, now)
        .map(|o| o.amazon_order_id)
        .collect()
}

/// A synced table: its compared columns and primary key.
struct Table {
    name: String,
    cols: Vec<String>,
    key: Vec<String>,
    keys_where: String,
    values_where: String,
}

/// Every synced table of the schema (bookkeeping left out).
fn data_tables(conn: &Connection, tick: DateTime<Utc>, in_flux: &[String]) -> Vec<Table> {
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let out = in_flux
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let fill = |w: &str| {
        w.replace("{D}", &day(tick - chrono::Duration::days(1)))
            .replace("{H}", &tick.format("%Y-%m-%dT%H:00:00Z").to_string())
            .replace("{VD}", &day(tick - chrono::Duration::days(15)))
            .replace("{OUT}", &out)
    };
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for name in names
        .into_iter()
        .filter(|t| !BOOKKEEPING.contains(&t.as_str()))
    {
        let mut cols = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let mut all = Vec::new();
        let mut st = conn.prepare(&format!("PRAGMA table_info({name})")).unwrap();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let col: String = r.get(1).unwrap();
            let k: i64 = r.get(5).unwrap();
            if k > 0 {
                pk.push((k, col.clone()));
            }
            if !is_fetch_time(&col) && !NOT_COMPARED.contains(&(name.as_str(), col.as_str())) {
                cols.push(col.clone());
            }
            all.push(col);
        }
        pk.sort();
        let mut key: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        if key.is_empty() {
            key = all;
        }
        let (k, v) = WINDOWS
            .iter()
            .find(|w| w.0 == name)
            .map(|w| (fill(w.1), fill(w.2)))
            .unwrap_or(("1".into(), "1".into()));
        out.push(Table {
            name,
            cols,
            key,
            keys_where: k,
            values_where: v,
        });
    }
    out
}

/// The rows of `table` matching `filter`: `cols`, in primary-key order, as text.
fn dump(conn: &Connection, t: &Table, cols: &[String], filter: &str) -> Vec<String> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {filter} ORDER BY {}",
        cols.iter()
            .map(|c| format!("quote({c})"))
            .collect::<Vec<_>>()
            .join(" || '|' || "),
        t.name,
        t.key.join(", ")
    );
    conn.prepare(&sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// How `a` (the drill) and `b` (the reference) differ, shortly; `None`
/// when they are equal.
fn diff(what: &str, a: &[String], b: &[String]) -> Option<String> {
    if a == b {
        return None;
    }
    let sa: BTreeSet<&String> = a.iter().collect();
    let sb: BTreeSet<&String> = b.iter().collect();
    let short = |s: &&String| s.chars().take(240).collect::<String>();
    let only_a: Vec<String> = sa.difference(&sb).take(3).map(short).collect();
    let only_b: Vec<String> = sb.difference(&sa).take(3).map(short).collect();
    Some(format!(
        "{what}: drill {} rows, reference {} ({} only in the drill, e.g. {only_a:?}; {} only in the reference, e.g. {only_b:?})",
        a.len(),
        b.len(),
        sa.difference(&sb).count(),
        sb.difference(&sa).count(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the crash drill: minutes long; .ci/run runs it with --ignored"]
async fn crash_drill() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .map(|s| s.parse().expect("CRASH_SEED: an unsigned integer"))
        .unwrap_or(DEFAULT_SEED);
    let budget = std::env::var("CRASH_BUDGET_SECS")
        .ok()
        .map(|s| Duration::from_secs(s.parse().expect("CRASH_BUDGET_SECS: seconds")))
        .unwrap_or(DEFAULT_BUDGET);
    eprintln!("crash drill: CRASH_SEED={seed} budget {budget:?}");
    let started = Instant::now();
    let mut rng = Rng(seed);

    let mut opts = common::Opts::new("demo");
    opts.speed = SPEED;
    let h = common::start(opts).await;
    let server = smtp::SmtpServer::start().await;
    server.set_accept_delay(ACCEPT_DELAY);
    let cfg = drill_config(&h.config_path, server.port(), h.dir.path());
    let database = h.database().to_path_buf();
    // The daemons' logs (kept when CRASH_LOG_DIR names a directory).
    let logs = std::env::var_os("CRASH_LOG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| h.dir.path().to_path_buf());
    std::fs::create_dir_all(&logs).unwrap();

    // The reference: same world and clock, its own sim, SMTP server and
    // database; never killed.
    let ref_dir = tempfile::tempdir().unwrap();
    let ref_base = reference_sim(&h, ref_dir.path()).await;
    let ref_server = smtp::SmtpServer::start().await;
    let ref_cfg = drill_config(&ref_base, ref_server.port(), ref_dir.path());
    let ref_database = flywheel::config::Config::load(&ref_cfg, &Default::default())
        .unwrap()
        .daemon
        .database;
    assert_ne!(ref_database, database);
    let mut reference = spawn_run(&ref_cfg, &logs.join("ref.log"));

    let conn = flywheel::store::open(&database).unwrap();
    let probe = Connection::open(&database).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let mut kills: BTreeMap<Phase, usize> = BTreeMap::new();
    // Evaluation kills that landed inside its write transaction.
    let mut in_write = 0usize;
    let mut evaluation_targets = 0usize;
    let mut targets_missed = 0usize;
    let mut n = 0usize;
    let mut order = PHASES;
    let stop_at = budget.saturating_sub(SETTLE_RESERVE);
    while n < MAX_KILLS && started.elapsed() < stop_at {
        if n.is_multiple_of(3) {
            // A seeded shuffle of the next three targets.
            for i in (1..3).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
        }
        let target = order[n % 3];
        // Every other evaluation target aims at its write transaction (the
        // alert state, the rendered emails and the outbox rows, which must
        // be kept or lost together): the moment the daemon holds the write
        // lock late in the round. The others land anywhere in the round.
        let aim_write = target == Phase::Evaluation && {
            evaluation_targets += 1;
            evaluation_targets.is_multiple_of(2)
        };
        let log = logs.join(format!("run{n}.log"));
        let mut child = spawn_run(&cfg, &log);
        // Wait for the target phase (bounded: a round comes every 4–8 s).
        // Aiming at the evaluation's write: the phase has lasted 100 ms
        // (past the call counters flushed right after the jobs; building
        // the snapshots takes longer) and the write lock is held. The lock
        // is probed every millisecond, the log read every 10.
        let t = Instant::now();
        let mut hit = false;
        let mut evaluating_since: Option<Instant> = None;
        let mut looked: Option<Instant> = None;
        while t.elapsed() < Duration::from_secs(30) {
            if aim_write {
                if looked.is_none_or(|l| l.elapsed() >= Duration::from_millis(10)) {
                    looked = Some(Instant::now());
                    if in_phase(target, &conn, &log, &server) {
                        evaluating_since.get_or_insert_with(Instant::now);
                    } else {
                        evaluating_since = None;
                    }
                }
                if evaluating_since.is_some_and(|s| s.elapsed() >= Duration::from_millis(100))
                    && write_locked(&probe)
                {
                    // The look may be 10 ms old: the round may have ended
                    // and the lock be the sender's, claiming its email.
                    if in_phase(target, &conn, &log, &server) {
                        hit = true;
                        break;
                    }
                    evaluating_since = None;
                }
            } else if in_phase(target, &conn, &log, &server) {
                hit = true;
                break;
            }
            if child.try_wait().unwrap().is_some() {
                panic!(
                    "the daemon exited by itself:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            let poll = if aim_write { 1 } else { 5 };
            tokio::time::sleep(Duration::from_millis(poll)).await;
        }
        // A seeded delay into the phase.
        let delay = match target {
            Phase::Sync => rng.below(1500),
            // The write lasts from a few milliseconds (alert state only)
            // to a few hundred (rendering emails): at once.
            Phase::Evaluation if aim_write => 0,
            // An evaluation round takes 0.25–1.3 s here (snapshots and
            // rules, then one transaction with the alert state, rendered
            // emails and the outbox): land anywhere in it, the write
            // included. The look below says whether it was still running.
            Phase::Evaluation => rng.below(400),
            Phase::Sending => rng.below(ACCEPT_DELAY.as_millis() as u64 - 50),
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // What the daemon is doing at the kill. Only what vanishes with
        // the process is looked at before it, at once (a message in the
        // SMTP server's held 250; the write lock): reading the log would
        // take longer than a short write lasts.
        let sending = server.in_data() > 0;
        let locked = write_locked(&probe);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // The rest from what the killed daemon left, which no longer moves:
        // a run left open (sync); every job of the round finished and no
        // evaluation logged (evaluation).
        let mut seen: BTreeSet<Phase> = BTreeSet::new();
        if running(&conn) > 0 {
            seen.insert(Phase::Sync);
        }
        if evaluating(&conn, &log) {
            seen.insert(Phase::Evaluation);
        }
        if sending {
            seen.insert(Phase::Sending);
        }
        // Inside the evaluation's write: the lock held at the kill, 100 ms
        // or more into the phase (not the call counters' write at its
        // start).
        let wrote = seen.contains(&Phase::Evaluation) && (aim_write || delay >= 100) && locked;
        for p in &seen {
            *kills.entry(*p).or_default() += 1;
        }
        if !hit || !seen.contains(&target) || (aim_write && !wrote) {
            targets_missed += 1;
        }
        in_write += wrote as usize;
        eprintln!(
            "kill {n:2} at {:5.1}s: target {target:?}{} +{delay} ms, in {seen:?}{}",
            started.elapsed().as_secs_f64(),
            if aim_write { " (its write)" } else { "" },
            if wrote {
                " inside the evaluation's write transaction"
            } else {
                ""
            },
        );
        n += 1;
    }
    let kill_loop = started.elapsed();
    eprintln!(
        "{n} kills in {kill_loop:?}; per phase {kills:?} ({in_write} inside the evaluation's write transaction); {targets_missed} missed their target"
    );
    assert!(
        n >= MIN_KILLS,
        "only {n} kills within the budget of {budget:?} (need {MIN_KILLS}); raise CRASH_BUDGET_SECS or look at why rounds are slow"
    );
    assert!(
        in_write >= 2,
        "only {in_write} kills inside the evaluation's write transaction: {kills:?}"
    );
    for p in PHASES {
        assert!(
            kills.get(&p).copied().unwrap_or(0) >= 3,
            "too few kills during {p:?}: {kills:?}"
        );
    }

    // The end: both daemons switch to one daily tick (the reference by
    // SIGHUP, the drill's last start by its config), finish what is due,
    // then run one round at that same tick (the clock is moved to shortly
    // before it: every daemon sleeps at most 5 s of wall time, so both
    // wake exactly at the tick), send everything, and stop by SIGTERM.
    set_schedule(&cfg, FINAL_CRON);
    set_schedule(&ref_cfg, FINAL_CRON);
    signal(&reference, "HUP");
    let log = logs.join("final.log");
    let mut child = spawn_run(&cfg, &log);
    let ref_log = logs.join("ref.log");
    let ref_conn = flywheel::store::open(&ref_database).unwrap();
    let settle = Instant::now();
    let idle = |conn: &Connection, log: &Path, said: &str| {
        running(conn) == 0
            && std::fs::read_to_string(log)
                .unwrap_or_default()
                .contains(said)
    };
    for _ in 0..2 {
        // Twice, a second apart: a round may start right after a look.
        until(
            "both daemons idle on the daily schedule",
            Duration::from_secs(90),
            || {
                idle(&conn, &log, "daemon started")
                    && idle(&ref_conn, &ref_log, "configuration reloaded")
            },
        )
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let tick = next_tick(&cfg, h.now().await);
    let lead = chrono::Duration::minutes(40);
    let now = h.now().await;
    if tick - now > lead {
        h.advance(&format!("{}s", (tick - now - lead).num_seconds()))
            .await;
    }
    until(
        "both daemons ran a round at the common tick and sent every email",
        Duration::from_secs(90),
        || {
            [&conn, &ref_conn]
                .iter()
                .all(|c| round_since(c, tick) && all_sent(c))
        },
    )
    .await;
    sigterm(&child);
    sigterm(&reference);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)).await, 0);
    assert_eq!(wait_exit(&mut reference, Duration::from_secs(20)).await, 0);
    eprintln!("settled at the tick {tick} in {:?}", settle.elapsed());
    // Both databases kept beside the logs, for a look after a failure.
    if let Some(dir) = std::env::var_os("CRASH_LOG_DIR").map(PathBuf::from) {
        for (c, name) in [(&conn, "drill.db"), (&ref_conn, "ref.db")] {
            let to = dir.join(name);
            let _ = std::fs::remove_file(&to);
            c.execute("VACUUM INTO ?1", [to.to_str().unwrap()]).unwrap();
        }
    }

    // The database is intact.
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    assert_eq!(running(&conn), 0, "a run left open");

    // Same data as the daemon that was never killed: the same rows
    // (primary keys: nothing lost, nothing doubled), with the same values.
    let mut diffs = Vec::new();
    let (mut keys, mut values) = (0usize, 0usize);
    let in_flux = orders_in_flux(&h.sim.world, [&conn, &ref_conn], h.now().await);
    eprintln!(
        "{} orders in flux (updated after the orders cursor) left out",
        in_flux.len()
    );
    for t in data_tables(&conn, tick, &in_flux) {
        let a = dump(&conn, &t, &t.key, &t.keys_where);
        let b = dump(&ref_conn, &t, &t.key, &t.keys_where);
        keys += a.len();
        diffs.extend(diff(&format!("{} (keys)", t.name), &a, &b));
        let a = dump(&conn, &t, &t.cols, &t.values_where);
        let b = dump(&ref_conn, &t, &t.cols, &t.values_where);
        values += a.len();
        diffs.extend(diff(&format!("{} (values)", t.name), &a, &b));
    }
    eprintln!("compared {keys} rows by key and {values} by value");
    assert!(diffs.is_empty(), "data differs:\n{}", diffs.join("\n"));

    // Every email delivered at least once; a duplicate only with the same
    // Message-ID; nothing the outbox does not hold.
    let outbox: BTreeSet<String> = conn
        .prepare("SELECT message_id FROM outbox")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for m in server.messages() {
        let msg = mail_parser::MessageParser::default()
            .parse(&m.data)
            .unwrap();
        let id = format!("<{}>", msg.message_id().expect("a Message-ID"));
        *per_id.entry(id).or_default() += 1;
    }
    for id in &outbox {
        assert!(per_id.contains_key(id), "{id} never reached the server");
    }
    for id in per_id.keys() {
        assert!(
            outbox.contains(id),
            "an email the outbox does not hold: {id}"
        );
    }
    let dups = per_id.values().filter(|n| **n > 1).count();

    // Every notification the alert state records went out: the email that
    // carried it is in the outbox, created in the same round, and reached
    // the server; so did the email each episode's thread hangs under.
    let notified: Vec<(String, String, Option<String>, bool)> = conn
        .prepare(
            "SELECT a.fingerprint, a.last_notified_at, a.thread_message_id,
                    EXISTS (SELECT 1 FROM outbox o, json_each(o.alert_fingerprints_json) j
                             WHERE j.value = a.fingerprint AND o.created_at = a.last_notified_at)
               FROM alerts a WHERE a.notify_count > 0",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (fp, at, thread, queued) in &notified {
        assert!(
            queued,
            "alert {fp} notified at {at} without an email in the outbox"
        );
        if let Some(t) = thread {
            assert!(
                per_id.contains_key(t),
                "alert {fp}: its thread {t} never reached the server"
            );
        }
    }
    // Never twice for one notification: per alert, two emails that carry
    // it are a repeat interval (1 h) apart, unless a resolution between
    // them ended the episode.
    let mut carried: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut st = conn
        .prepare(
            "SELECT j.value, o.created_at, o.kind FROM outbox o, json_each(o.alert_fingerprints_json) j
              ORDER BY j.value, o.created_at, o.id",
        )
        .unwrap();
    let mut rows = st.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        carried
            .entry(r.get(0).unwrap())
            .or_default()
            .push((r.get(1).unwrap(), r.get(2).unwrap()));
    }
    let parse = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    for (fp, emails) in &carried {
        let mut last_firing: Option<DateTime<Utc>> = None;
        for (at, kind) in emails {
            if kind == "resolved" {
                last_firing = None;
                continue;
            }
            let at = parse(at);
            if let Some(prev) = last_firing {
                assert!(
                    at - prev >= chrono::Duration::hours(1),
                    "alert {fp} notified twice within the repeat interval: {emails:?}"
                );
            }
            last_firing = Some(at);
        }
    }
    // Nothing lost against the daemon that was never killed: every alert
    // it notified (firing), the drill notified too.
    let firing_notified = |c: &Connection| -> BTreeSet<String> {
        c.prepare(
            "SELECT DISTINCT j.value FROM outbox o, json_each(o.alert_fingerprints_json) j
              WHERE o.kind = 'firing'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let (mine, theirs) = (firing_notified(&conn), firing_notified(&ref_conn));
    eprintln!(
        "alerts notified: drill {}, reference {}; only in the reference {:?}, only in the drill {:?}",
        mine.len(),
        theirs.len(),
        theirs.difference(&mine).collect::<Vec<_>>(),
        mine.difference(&theirs).collect::<Vec<_>>()
    );
    assert_eq!(
        theirs.difference(&mine).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "alerts the reference notified and the drill never did"
    );
    eprintln!(
        "{} emails in the outbox, {} messages received ({dups} resent with the same Message-ID); {} alerts notified, each email carrying it delivered; total {:?}",
        outbox.len(),
        server.messages().len(),
        notified.len(),
        started.elapsed()
    );
}
