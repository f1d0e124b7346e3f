//! `capacity`: what one account costs per day on the default schedules,
//! and from that how many accounts one 2-core machine serves.
//!
//! `cargo build --release && cargo run --release --example bench --
//! capacity [--size DAYS] [--speed F] [--seed N]`
//!
//! How: the demo scenario's account (15 SKUs, the size of a small seller)
//! gets its first sync from the library ([`crate::idle::prepare`]); the
//! same world is then served on a clock running `--speed` times faster
//! (default 360: a day in four minutes) and the real daemon binary runs
//! on that database for `--size` simulated days (default 2) on the default
//! schedules (DESIGN §3: orders every 15 minutes, inventory and listings
//! hourly, the report jobs daily, the weekly ones when their day comes),
//! each round followed by an evaluation round as always.
//!
//! Measured per account-day: the daemon process's CPU seconds
//! (`/proc/PID/stat` utime + stime, so the sim's own work is not counted),
//! API calls and 429s by API (`api_call_counts`), job runs against the
//! ticks the schedule asked for (fewer means the daemon fell behind the
//! fast clock and the figures undercount), and database growth (live
//! pages, `(page_count − freelist_count) × page_size`).
//!
//! Accounts per machine: `2 cores × 86,400 s × headroom` over the CPU
//! seconds of an account-day, with headroom 50% (`--headroom`). The
//! daemon's own idle cost per day (`idle`, ×1440 minutes) is per process,
//! not per account, and at a fast clock the loop turns fewer times per
//! simulated day than at 1×, so it is measured by `idle` and reported here
//! separately (`--idle-cpu-percent`, default the figure measured by `idle`).
//! Amazon's rate limits are per account (each seller authorises the app
//! separately), so they never bind across accounts: one account's
//! throughput is fixed by its own buckets, and the machine's limit is CPU
//! (then the single SQLite writer, then memory).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::backfill::{round3, SimThread};
use crate::idle::{finished_runs_since, flywheel_bin, prepare, rewrite_config, Daemon};
use crate::{emit, Args};

pub fn run(args: &Args) {
    let days = args.size(2);
    let speed: f64 = args.num("speed", 360.0);
    let seed: u64 = args.num("seed", 1);
    let headroom: f64 = args.num("headroom", 0.5);
    let idle_percent: f64 = args.num("idle-cpu-percent", 0.1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(capacity(days, speed, seed, headroom, idle_percent)) {
        eprintln!("bench capacity: {e:#}");
        std::process::exit(1);
    }
}

/// Live bytes of the database (what it would take after a VACUUM).
fn live_bytes(db: &Path) -> anyhow::Result<i64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let count: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    Ok((count - free) * page)
}

/// Calls and 429s per API since `since` (an hour bucket).
fn calls_by_api(db: &Path) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    let mut st = c.prepare(
        "SELECT api, SUM(calls), SUM(throttled) FROM api_call_counts GROUP BY api ORDER BY api",
    )?;
    let v = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

/// Runs a day of each job on the default schedules (DESIGN §3).
const TICKS_PER_DAY: &[(&str, f64)] = &[
    ("orders", 96.0),
    ("inventory", 24.0),
    ("listings", 24.0),
    ("seller_feedback", 12.0),
    ("pricing", 4.0),
    ("ads", 2.0),
    ("inventory_planning", 1.0),
    ("sales_traffic", 1.0),
    ("returns", 1.0),
    ("account_health", 1.0),
    ("catalog_ranks", 1.0),
    ("customer_feedback", 1.0 / 7.0),
    ("fees", 1.0 / 7.0),
    ("search_query_performance", 1.0 / 7.0),
];

fn runs_by_job(
    db: &Path,
    since: &str,
    sim_days: f64,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    let mut st = c.prepare(
        "SELECT job, COUNT(*), SUM(status = 'failed') FROM job_runs
         WHERE started_at >= ?1 AND status <> 'running' GROUP BY job ORDER BY job",
    )?;
    let v = st
        .query_map([since], |r| {
            let job: String = r.get(0)?;
            let ticks = TICKS_PER_DAY
                .iter()
                .find(|(j, _)| *j == job)
                .map(|(_, n)| round3(n * sim_days));
            let v = json!({
                "runs": r.get::<_, i64>(1)?,
                "failed": r.get::<_, i64>(2)?,
                "ticks": ticks,
            });
            Ok((job, v))
        })?
        .collect::<Result<_, _>>()?;
    Ok(v)
}

async fn capacity(
    days: u64,
    speed: f64,
    seed: u64,
    headroom: f64,
    idle_percent: f64,
) -> anyhow::Result<()> {
    let bin = flywheel_bin()?;
    let dir = tempfile::tempdir()?;
    let prepared = prepare(dir.path(), seed).await?;
    let db = dir.path().join("flywheel.db");
    let start = prepared.end;
    let sim = SimThread::serve(prepared.world.clone(), start, speed, seed)?;
    let config = rewrite_config(dir.path(), &prepared.world, &sim.base_url)?;
    let bytes0 = live_bytes(&db)?;
    let calls0 = calls_by_api(&db)?;
    let daemon = Daemon::spawn(&bin, &config, dir.path())?;
    let t0 = Instant::now();
    let cpu0 = daemon.sample()?.cpu_seconds;
    let wall = Duration::from_secs_f64(days as f64 * 86_400.0 / speed);
    let mut rss_max: f64 = 0.0;
    while t0.elapsed() < wall {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(status) = daemon_exited(&daemon) {
            anyhow::bail!("the daemon exited ({status}):\n{}", daemon.tail(20));
        }
        rss_max = rss_max.max(daemon.sample()?.rss_mib);
    }
    let last = daemon.sample()?;
    let cpu = last.cpu_seconds - cpu0;
    let elapsed = t0.elapsed().as_secs_f64();
    let sim_days = elapsed * speed / 86_400.0;
    let since = flywheel::store::ops::ts(start);
    let runs = runs_by_job(&db, &since, sim_days)?;
    let finished = finished_runs_since(&db, start)?;
    daemon.stop()?;
    sim.stop();
    let bytes1 = live_bytes(&db)?;
    let calls1 = calls_by_api(&db)?;
    let mut by_api = serde_json::Map::new();
    let (mut calls, mut throttled) = (0.0, 0.0);
    for (api, c1, t1) in &calls1 {
        let (c0, t0) = calls0
            .iter()
            .find(|(a, _, _)| a == api)
            .map(|(_, c, t)| (*c, *t))
            .unwrap_or((0, 0));
        let per_day = (c1 - c0) as f64 / sim_days;
        calls += per_day;
        throttled += (t1 - t0) as f64 / sim_days;
        by_api.insert(
            api.clone(),
            json!({"calls": per_day.round(), "throttled": round3((t1 - t0) as f64 / sim_days)}),
        );
    }
    let cpu_day = cpu / sim_days;
    let budget = 2.0 * 86_400.0 * headroom;
    let idle_day = idle_percent / 100.0 * 86_400.0;
    let accounts = ((budget - idle_day) / cpu_day).floor();
    emit(json!({
        "bench": "capacity",
        "scenario": "demo",
        "speed": speed,
        "sim_days": round3(sim_days),
        "seconds": round3(elapsed),
        "cpu_seconds_per_account_day": round3(cpu_day),
        "calls": calls.round(),
        "throttled": round3(throttled),
        "calls_by_api": by_api,
        "db_bytes_per_account_day": ((bytes1 - bytes0) as f64 / sim_days).round(),
        "db_bytes_after_first_sync": bytes0,
        "job_runs": finished,
        "runs_by_job": runs,
        "peak_rss_mib": round3(rss_max.max(last.hwm_mib)),
        "idle_cpu_seconds_per_day": round3(idle_day),
        "headroom": headroom,
        "accounts_per_2_core_machine": accounts,
        "binding": "CPU (rate limits are per account)",
    }));
    Ok(())
}

fn daemon_exited(d: &Daemon) -> Option<String> {
    // `try_wait` needs `&mut`; /proc tells the same without reaping.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", d.pid())).ok()?;
    let state = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .to_string();
    (state == "Z").then(|| "exited".to_string())
}
