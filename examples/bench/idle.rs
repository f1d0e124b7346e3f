//! `idle`: the real daemon (`target/release/flywheel run`) between ticks:
//! resident memory and CPU over a minute.
//!
//! `cargo build --release && cargo run --release --example bench -- idle
//! [--seconds 60] [--seed N]`
//!
//! How: the demo scenario's account gets its first sync (every job, then an
//! evaluation round) from the library against an in-process sim at 600×,
//! so the run is short ([`prepare`]). Then the same world is served again
//! on a clock running at real speed (1×) from just before a quarter-hour
//! tick, and the daemon binary is started on that database: it runs that
//! tick's jobs (orders, as a daemon does every 15 minutes) and its
//! evaluation round, so the process has done real work, and then has
//! nothing due for 14 minutes. When that round is recorded in `job_runs`
//! (and a few seconds more), `/proc/PID/status` `VmRSS` and
//! `/proc/PID/stat` utime+stime are sampled every second for `--seconds`.
//!
//! Figures: `rss_mib_max`, `rss_mib_end`, `peak_rss_mib` (the process's
//! `VmHWM`, including the tick), `cpu_seconds`, `cpu_percent` (of one
//! core), `wakeups` (voluntary context switches, a proxy for how often it
//! wakes).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::ApiClient;
use flywheel::clock::Clock;
use flywheel::config::{Config, Env};
use flywheel::sync::{self, JobName, Selection};
use serde_json::json;

use crate::backfill::{round3, scenario, start_sim, SimThread};
use crate::{emit, Args};

/// Where the demo account's first sync starts (sim time): early morning
/// in the seller's zone, so the prepared day is the world's day 0.
pub const PREP_START: &str = "2026-03-02T12:00:00Z";

pub fn run(args: &Args) {
    let seconds: u64 = args.num("seconds", 60);
    let seed: u64 = args.num("seed", 1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(idle(seconds, seed)) {
        eprintln!("bench idle: {e:#}");
        std::process::exit(1);
    }
}

async fn idle(seconds: u64, seed: u64) -> anyhow::Result<()> {
    let bin = flywheel_bin()?;
    let dir = tempfile::tempdir()?;
    let prepared = prepare(dir.path(), seed).await?;
    // Just before the next quarter-hour tick (orders, */15) and well after
    // the hour's inventory tick (:05): one round, then 14 quiet minutes.
    let t = prepared.end + chrono::Duration::minutes(1);
    let quarter = (t.minute() / 15 + 1) * 15;
    let start = t.with_second(0).unwrap_or(t).with_minute(0).unwrap_or(t)
        + chrono::Duration::minutes(i64::from(quarter))
        - chrono::Duration::seconds(45);
    let sim = SimThread::serve(prepared.world.clone(), start, 1.0, seed)?;
    let config = rewrite_config(dir.path(), &prepared.world, &sim.base_url)?;
    let mut daemon = Daemon::spawn(&bin, &config, dir.path())?;
    eprintln!(
        "daemon {} started at sim {start}; waiting for its {} tick round",
        daemon.pid(),
        quarter % 60
    );
    // Wait for the round: job runs started by the daemon (at start it
    // also runs what fell due while it was down, then the quarter-hour
    // tick's), all finished, the tick's among them, none new for 10 s, and
    // the evaluation after them (a few seconds of slack).
    let tick = start + chrono::Duration::seconds(45);
    let db = dir.path().join("flywheel.db");
    let waited = Instant::now();
    let mut settled: Option<(i64, Instant)> = None;
    loop {
        if let Some(status) = daemon.child.try_wait()? {
            anyhow::bail!("the daemon exited ({status}); see {}", daemon.log.display());
        }
        let done = finished_runs_since(&db, start)?;
        if finished_runs_since(&db, tick)? > 0 && running_runs(&db)? == 0 {
            match settled {
                Some((n, since)) if n == done => {
                    if since.elapsed() >= Duration::from_secs(10) {
                        break;
                    }
                }
                _ => settled = Some((done, Instant::now())),
            }
        } else {
            settled = None;
        }
        if waited.elapsed() > Duration::from_secs(300) {
            anyhow::bail!(
                "the daemon ran no round in 5 minutes; see {}",
                daemon.log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let runs = finished_runs_since(&db, start)?;
    let before = daemon.sample()?;
    let mut rss_max = before.rss_mib;
    let t0 = Instant::now();
    let mut last = before.clone();
    while t0.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        last = daemon.sample()?;
        rss_max = rss_max.max(last.rss_mib);
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = last.cpu_seconds - before.cpu_seconds;
    let later_runs = finished_runs_since(&db, start)? - runs;
    emit(json!({
        "bench": "idle",
        "seconds": round3(wall),
        "rss_mib_max": round3(rss_max),
        "rss_mib_end": round3(last.rss_mib),
        "anon_mib_end": round3(last.anon_mib),
        "file_mib_end": round3(last.file_mib),
        "peak_rss_mib": round3(last.hwm_mib),
        "cpu_seconds": round3(cpu),
        "cpu_percent": round3(cpu / wall * 100.0),
        "wakeups": last.voluntary_switches - before.voluntary_switches,
        "threads": last.threads,
        "job_runs_before": runs,
        "job_runs_during": later_runs,
    }));
    daemon.stop()?;
    sim.stop();
    Ok(())
}

/// The `flywheel` binary next to this example (`target/release/flywheel`),
/// built with cargo if it is not there.
pub fn flywheel_bin() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow::anyhow!("cannot locate the target directory"))?;
    let bin = dir.join("flywheel");
    if !bin.exists() {
        eprintln!(
            "{} is missing: running `cargo build --release --bin flywheel`",
            bin.display()
        );
        let ok = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "flywheel"])
            .status()?
            .success();
        if !ok || !bin.exists() {
            anyhow::bail!("no {}: run `cargo build --release` first", bin.display());
        }
    }
    Ok(bin)
}

/// A demo account after its first sync.
pub struct Prepared {
    pub world: Arc<flywheel_sim::world::World>,
    /// Sim time when the first sync (and evaluation) had finished.
    pub end: DateTime<Utc>,
}

/// The demo scenario's first sync, as `flywheel demo` runs it (every job,
/// extra rounds for reports left pending, then an evaluation round), into
/// `dir/flywheel.db`, from a sim at 600×.
pub async fn prepare(dir: &Path, seed: u64) -> anyhow::Result<Prepared> {
    let started = Instant::now();
    let sim = start_sim(scenario("demo")?, seed, 600.0, PREP_START.parse()?)?;
    let config_path = dir.join("flywheel.toml");
    flywheel_sim::write_config::write_config(&config_path, &sim.worlds, &sim.base_url)?;
    let cfg = Config::load(&config_path, &Env::default())?;
    let (mut conn, _) = flywheel::store::open_and_migrate(&cfg.daemon.database)?;
    let clock = Clock::from_source(&cfg.daemon.clock);
    let reading = clock.read().await?;
    flywheel::store::ops::sync_accounts(&mut conn, &cfg, reading.now)?;
    let client = ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(cfg.sync.max_attempts, cfg.sync.max_backoff),
    )?;
    client.limiter.set_speed(reading.speed);
    let db = std::sync::Mutex::new(conn);
    let mut jobs: Vec<JobName> = Vec::new();
    for _ in 0..5 {
        let now = clock.read().await?.now;
        let selection = Selection {
            jobs: jobs.clone(),
            accounts: Vec::new(),
        };
        let results = sync::run_round(
            &cfg,
            &client,
            &db,
            &clock,
            now,
            &selection,
            &sync::Progress::default(),
            &|| false,
        )
        .await;
        sync::flush_counters(&client, &db)?;
        let failed: Vec<String> = results
            .iter()
            .filter(|r| r.status == flywheel::store::jobs::RunStatus::Failed)
            .map(|r| format!("{}: {}", r.job, r.message))
            .collect();
        if !failed.is_empty() {
            eprintln!("first sync: failed: {failed:?}");
        }
        let c = db.lock().expect("db");
        let mut st = c.prepare("SELECT DISTINCT job FROM pending_reports")?;
        let pending: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        jobs = pending.iter().filter_map(|j| JobName::parse(j)).collect();
        if jobs.is_empty() {
            break;
        }
    }
    let mut conn = db.into_inner().expect("db");
    let now = clock.read().await?.now;
    tokio::task::block_in_place(|| flywheel::alert::evaluate::round(&mut conn, &cfg, now))?;
    drop(conn);
    let end = clock.read().await?.now;
    let world = sim.worlds.first().clone();
    sim.stop();
    eprintln!(
        "first sync of the demo account: {:.1}s wall, sim {} → {end}",
        started.elapsed().as_secs_f64(),
        reading.now
    );
    Ok(Prepared { world, end })
}

/// Points `dir/flywheel.toml` at another sim serving the same world (the
/// database, costs and mail folder stay).
pub fn rewrite_config(
    dir: &Path,
    world: &flywheel_sim::world::World,
    base_url: &str,
) -> anyhow::Result<PathBuf> {
    let path = dir.join("flywheel.toml");
    flywheel_sim::write_config::write_config(&path, world, base_url)?;
    Ok(path)
}

/// Job runs that finished since `since` (sim time).
pub fn finished_runs_since(db: &Path, since: DateTime<Utc>) -> anyhow::Result<i64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    Ok(c.query_row(
        "SELECT COUNT(*) FROM job_runs WHERE started_at >= ?1 AND status <> 'running'",
        [flywheel::store::ops::ts(since)],
        |r| r.get(0),
    )?)
}

fn running_runs(db: &Path) -> anyhow::Result<i64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    Ok(c.query_row(
        "SELECT COUNT(*) FROM job_runs WHERE status = 'running'",
        [],
        |r| r.get(0),
    )?)
}

/// One reading of a process's /proc files.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub rss_mib: f64,
    pub hwm_mib: f64,
    pub cpu_seconds: f64,
    pub voluntary_switches: u64,
    pub threads: u64,
    /// Of `rss_mib`: heap and stacks, and mapped files (the binary's code).
    pub anon_mib: f64,
    pub file_mib: f64,
}

/// `flywheel run` as a child process, logging to a file.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
    ticks_per_sec: f64,
}

impl Daemon {
    pub fn spawn(bin: &Path, config: &Path, dir: &Path) -> anyhow::Result<Daemon> {
        let log = dir.join("daemon.log");
        let child = Command::new(bin)
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        Ok(Daemon {
            child,
            log,
            ticks_per_sec: clock_ticks(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sample(&self) -> anyhow::Result<Sample> {
        let pid = self.pid();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |key: &str| -> f64 {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command name (which may hold spaces): state is
        // field 3, utime 14 and stime 15 (1-based).
        let rest: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        let tick = |i: usize| -> f64 { rest.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0) };
        Ok(Sample {
            rss_mib: field("VmRSS:") / 1024.0,
            hwm_mib: field("VmHWM:") / 1024.0,
            cpu_seconds: (tick(11) + tick(12)) / self.ticks_per_sec,
            voluntary_switches: field("voluntary_ctxt_switches:") as u64,
            threads: field("Threads:") as u64,
            anon_mib: field("RssAnon:") / 1024.0,
            file_mib: field("RssFile:") / 1024.0,
        })
    }

    /// SIGTERM (a graceful stop), then wait for the exit.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill()?;
        let _ = self.child.wait();
        Ok(())
    }

    /// The last `n` lines of the daemon's log (for failures).
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<String> = std::fs::File::open(&self.log)
            .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
            .unwrap_or_default();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// `getconf CLK_TCK` (the unit of /proc/PID/stat times), 100 if unknown.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
