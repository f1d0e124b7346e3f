//! `backfill`: the first sync of `scenarios/large.toml` (20,000 SKUs, about
//! 1,800 units a day for 730 days, ≈ 1,000,000 orders) from an in-process
//! simulated marketplace, measured against the fastest the path could
//! possibly go.
//!
//! `cargo run --release --example bench -- backfill [--size DAYS]
//! [--speed F] [--jobs orders|all] [--seed N]`
//!
//! - `--size`: days of orders history (`[sync] orders_history_days`,
//!   default 730; `--size 90` is a quick run).
//! - `--speed`: the sim's time factor (default 2: about 10 minutes for
//!   730 days). Rate limits, report latency and the client's waits all run
//!   on sim time, so their wall time is sim time / speed, while parsing and
//!   storing (and the in-process sim generating the documents) take the
//!   same CPU at any speed. Above ~2 the run measures the CPU, not the
//!   path; `--speed 30 --size 90` is a quick smoke run.
//! - `--jobs all`: every job of a first sync, one figures line per job;
//!   the default runs the orders job alone (the one that reads history).
//!
//! # The minimum of the path used
//! From the calls the run made (`api_call_counts`, per operation) and the
//! documented usage plans (`flywheel::amazon::rate_limit::PLANS`, taken
//! from REFERENCE.md), in sim seconds (= wall seconds at Amazon's real
//! limits):
//! - every operation alone needs `(calls − burst) / rate` seconds (a
//!   bucket starts full);
//! - the orders history is a chain: chunk *k*'s `createReport` cannot be
//!   before its token (`max(0, k − burst + 1) / rate`), its report is done
//!   the sim's fixed latency later (DESIGN §4: IN_QUEUE 20 s, IN_PROGRESS
//!   20 s + 10 s per 100,000 rows), and its `getReportDocument` cannot be
//!   before that, before its own token, or before the previous chunk's.
//!
//! The minimum is the largest of these; nothing is charged for parsing,
//! storing or HTTP, so the ratio `seconds / min_seconds` is all overhead.
//! For comparison, `search_orders_min_seconds` is the minimum of paging the
//! same orders through `searchOrders` alone (100 orders a page, 0.0056 rps,
//! burst 20), and `prepare_then_read_min_seconds` the minimum of the
//! orders job's earlier plan (every `createReport` first, then every
//! document; see [`prepare_then_read_minimum`]), which the job now beats
//! by reading while it queues.
//!
//! The projection to Amazon's real limits is the run's own duration in sim
//! time: waits take the same sim time at any speed, and CPU work takes
//! `speed` times more sim time than it would at speed 1, so it is an upper
//! bound (tight when the run is not CPU-bound, as at speed 2).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::ApiClient;
use flywheel::amazon::rate_limit::plan_for;
use flywheel::clock::Clock;
use flywheel::config::{Config, Env};
use flywheel::sync::{self, JobName, Selection};
use serde_json::json;

use crate::{emit, peak_rss_mib, Args};

/// The sim's report latency model (DESIGN §4, `sim/src/reports`).
const QUEUE_SECS: f64 = 20.0;
const PROGRESS_SECS: f64 = 20.0;
const SECS_PER_100K_ROWS: f64 = 10.0;
/// searchOrders page size (the model's maximum `maxResultsPerPage`).
const SEARCH_ORDERS_PAGE: f64 = 100.0;
/// The orders history chunk (`flywheel::sync::orders::CHUNK`).
const CHUNK_DAYS: i64 = 30;
/// Extra rounds for reports left pending (as the daemon's next runs).
const MAX_EXTRA_ROUNDS: usize = 10;

pub fn run(args: &Args) {
    let days = args.size(730);
    let speed: f64 = args.num("speed", 2.0);
    let seed: u64 = args.num("seed", 1);
    let all = match args.get("jobs").unwrap_or("orders") {
        "orders" => false,
        "all" => true,
        other => {
            eprintln!("bench backfill: --jobs is orders or all, not \"{other}\"");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(backfill(days, speed, seed, all)) {
        eprintln!("bench backfill: {e:#}");
        std::process::exit(1);
    }
}

async fn backfill(days: u64, speed: f64, seed: u64, all: bool) -> anyhow::Result<()> {
    let start: DateTime<Utc> = "2026-03-02T16:00:00Z".parse()?;
    let scenario = scenario("large")?;
    let t = Instant::now();
    let sim = start_sim(scenario, seed, speed, start)?;
    eprintln!(
        "sim up in {:.1}s on {} (large scenario, {speed}x)",
        t.elapsed().as_secs_f64(),
        sim.base_url
    );
    let dir = tempfile::tempdir()?;
    let config_path = dir.path().join("flywheel.toml");
    flywheel_sim::write_config::write_config(&config_path, &sim.worlds, &sim.base_url)?;
    let mut cfg = Config::load(&config_path, &Env::default())?;
    cfg.sync.orders_history_days = days as u32;
    let (mut conn, _) = flywheel::store::open_and_migrate(&cfg.daemon.database)?;
    let clock = Clock::from_source(&cfg.daemon.clock);
    let reading = clock.read().await?;
    flywheel::store::ops::sync_accounts(&mut conn, &cfg, reading.now)?;
    let client = ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(cfg.sync.max_attempts, cfg.sync.max_backoff),
    )?;
    client.limiter.set_speed(reading.speed);
    let db = Mutex::new(conn);
    let sim_start = reading.now;

    let jobs = if all {
        Vec::new()
    } else {
        vec![JobName::Orders]
    };
    let wall = Instant::now();
    let mut results = round(&cfg, &client, &db, &clock, &jobs).await?;
    let mut extra_rounds = 0;
    loop {
        let pending: Vec<JobName> = {
            let c = db.lock().expect("db");
            let mut st = c.prepare("SELECT DISTINCT job FROM pending_reports")?;
            let v: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            v.iter().filter_map(|j| JobName::parse(j)).collect()
        };
        if pending.is_empty() || extra_rounds >= MAX_EXTRA_ROUNDS {
            break;
        }
        extra_rounds += 1;
        results.extend(round(&cfg, &client, &db, &clock, &pending).await?);
    }
    let seconds = wall.elapsed().as_secs_f64();
    let sim_seconds = (clock.read().await?.now - sim_start).num_milliseconds() as f64 / 1000.0;
    let conn = db.into_inner().expect("db");
    for r in &results {
        eprintln!(
            "  {} {} {} rows, {} calls, {} throttled, {:.1}s: {}",
            r.job,
            r.status.as_str(),
            r.rows,
            r.calls,
            r.throttled,
            r.duration.as_secs_f64(),
            r.message
        );
    }

    // Calls per operation, as recorded in the database.
    let ops = call_counts(&conn)?;
    let orders: u64 = conn.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0))?;
    let items: u64 = conn.query_row("SELECT COUNT(*) FROM order_items", [], |r| r.get(0))?;
    // Rows of each history chunk's report (one per order line), for the
    // latency model: lines of orders last updated in the chunk.
    let end = sim_start;
    let mut chunk_rows = Vec::new();
    let mut a = end - chrono::Duration::days(days as i64);
    while a < end {
        let b = (a + chrono::Duration::days(CHUNK_DAYS)).min(end);
        let n: u64 = conn.query_row(
            "SELECT COUNT(*) FROM order_items i JOIN orders o
               ON o.account = i.account AND o.order_id = i.order_id
             WHERE o.last_updated_date >= ?1 AND o.last_updated_date < ?2",
            [flywheel::store::ops::ts(a), flywheel::store::ops::ts(b)],
            |r| r.get(0),
        )?;
        chunk_rows.push(n as f64);
        a = b;
    }
    let db_bytes = std::fs::metadata(&cfg.daemon.database)
        .map(|m| m.len())
        .unwrap_or(0);

    let calls: u64 = ops.values().map(|c| c.0).sum();
    let throttled: u64 = ops.values().map(|c| c.1).sum();
    let (min_sim, binding) = path_minimum(&ops, &chunk_rows);
    let search_min = search_orders_minimum(orders);
    let min_wall = min_sim / speed;
    let serial_min = prepare_then_read_minimum(chunk_rows.len());
    let cpu = process_cpu_seconds();
    let ops_json: serde_json::Map<String, serde_json::Value> = ops
        .iter()
        .map(|(op, (c, t))| (op.clone(), json!({"calls": c, "throttled": t})))
        .collect();
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.status != flywheel::store::jobs::RunStatus::Ok)
        .map(|r| format!("{}: {}", r.job, r.message))
        .collect();
    emit(json!({
        "bench": "backfill",
        "jobs": if all { "all" } else { "orders" },
        "history_days": days,
        "speed": speed,
        "orders": orders,
        "order_items": items,
        "chunks": chunk_rows.len(),
        "seconds": round3(seconds),
        "sim_seconds": round3(sim_seconds),
        "min_seconds": round3(min_wall),
        "ratio": round3(seconds / min_wall),
        "binding": binding,
        "search_orders_min_seconds": round3(search_min / speed),
        "search_orders_times_slower": (search_min / speed / seconds).round(),
        "rows_per_sec": (items as f64 / seconds).round(),
        "calls": calls,
        "throttled": throttled,
        "throttled_share": round3(throttled as f64 / calls.max(1) as f64),
        "extra_rounds": extra_rounds,
        "cpu_seconds": round3(cpu),
        "peak_rss_mib": round3(peak_rss_mib()),
        "db_mib": round3(db_bytes as f64 / 1048576.0),
        "operations": ops_json,
        "failed": failed,
    }));
    emit(json!({
        "bench": "backfill",
        "projection": "real limits (speed 1), at most",
        "history_days": days,
        "orders": orders,
        "min_seconds": round3(min_sim),
        "seconds": round3(sim_seconds),
        "ratio": round3(sim_seconds / min_sim),
        "minutes": round3(sim_seconds / 60.0),
        "prepare_then_read_min_seconds": round3(serial_min),
        "search_orders_min_seconds": round3(search_min),
        "search_orders_days": round3(search_min / 86_400.0),
        "search_orders_times_slower": (search_min / sim_seconds).round(),
        "calls": calls,
        "throttled": throttled,
    }));
    for r in results.iter().filter(|_| all) {
        emit(json!({
            "bench": "backfill",
            "job": r.job.as_str(),
            "status": r.status.as_str(),
            "rows": r.rows,
            "calls": r.calls,
            "throttled": r.throttled,
            "seconds": round3(r.duration.as_secs_f64()),
            "sim_seconds": round3(r.duration.as_secs_f64() * speed),
        }));
    }
    drop(conn);
    sim.stop();
    Ok(())
}

async fn round(
    cfg: &Config,
    client: &ApiClient,
    db: &sync::Db,
    clock: &Clock,
    jobs: &[JobName],
) -> anyhow::Result<Vec<sync::JobResult>> {
    let now = clock.read().await?.now;
    let selection = Selection {
        jobs: jobs.to_vec(),
        accounts: Vec::new(),
    };
    let results = sync::run_round(
        cfg,
        client,
        db,
        clock,
        now,
        &selection,
        &sync::Progress::default(),
        &|| false,
    )
    .await;
    sync::flush_counters(client, db)?;
    Ok(results)
}

/// Calls and 429s per operation (SP-API and Ads) from `api_call_counts`.
pub fn call_counts(conn: &rusqlite::Connection) -> anyhow::Result<BTreeMap<String, (u64, u64)>> {
    let mut st = conn.prepare(
        "SELECT operation, SUM(calls), SUM(throttled) FROM api_call_counts
         WHERE api <> 'lwa' GROUP BY operation ORDER BY operation",
    )?;
    let ops = st
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect::<Result<_, _>>()?;
    Ok(ops)
}

/// The minimum of the path in sim seconds, and what binds it (see the
/// module doc). `chunk_rows`: rows of each history report, in order.
pub fn path_minimum(ops: &BTreeMap<String, (u64, u64)>, chunk_rows: &[f64]) -> (f64, String) {
    let mut best = (0.0, "nothing".to_string());
    for (op, (calls, _)) in ops {
        let p = plan_for(op);
        let t = (*calls as f64 - p.burst as f64).max(0.0) / p.rate;
        if t > best.0 {
            best = (t, format!("{op} rate"));
        }
    }
    let token = |op: &str, k: usize| {
        let p = plan_for(op);
        (k as f64 + 1.0 - p.burst as f64).max(0.0) / p.rate
    };
    let mut doc = 0.0f64;
    for (k, rows) in chunk_rows.iter().enumerate() {
        let created = token("createReport", k);
        let done = created + QUEUE_SECS + PROGRESS_SECS + rows / 100_000.0 * SECS_PER_100K_ROWS;
        doc = doc.max(done).max(token("getReportDocument", k));
    }
    if doc > best.0 {
        best = (
            doc,
            "orders chunks: createReport tokens + report latency".into(),
        );
    }
    best
}

/// The minimum of the orders history as `sync/orders.rs` ran it before it
/// read while it queued: every chunk's `createReport` first, then the
/// documents in order. The
/// `getReportDocument` bucket (burst 15, 0.0167 rps) is full but idle while
/// the creations wait for their tokens, so the documents past the burst
/// wait a token interval each *after* the last creation: about twice
/// `(chunks − 15) / rate` in all, where interleaving (today's plan)
/// overlaps them.
pub fn prepare_then_read_minimum(chunks: usize) -> f64 {
    let c = plan_for("createReport");
    let d = plan_for("getReportDocument");
    let created = (chunks as f64 - c.burst as f64).max(0.0) / c.rate;
    let docs = (chunks as f64 - d.burst as f64).max(0.0) / d.rate;
    created + docs.max(QUEUE_SECS + PROGRESS_SECS)
}

/// CPU seconds of this process (flywheel and the in-process sim).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| -> f64 { rest.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0) };
    (tick(11) + tick(12)) / 100.0
}

/// The minimum of paging `orders` through searchOrders alone, sim seconds.
pub fn search_orders_minimum(orders: u64) -> f64 {
    let p = plan_for("searchOrders");
    let pages = (orders as f64 / SEARCH_ORDERS_PAGE).ceil();
    (pages - p.burst as f64).max(0.0) / p.rate
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A scenario of `scenarios/` by name.
pub fn scenario(name: &str) -> anyhow::Result<flywheel_sim::scenario::Scenario> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    flywheel_sim::scenario::Scenario::from_path(&p)
        .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
}

pub use flywheel::cmd::demo::SimThread;

/// Serves `scenario`'s world from an in-process sim on its own thread (as
/// `flywheel demo` runs it), its clock starting at `now` and running
/// `speed` times faster than wall time.
pub fn start_sim(
    scenario: flywheel_sim::scenario::Scenario,
    seed: u64,
    speed: f64,
    now: DateTime<Utc>,
) -> anyhow::Result<SimThread> {
    let mut opts = flywheel_sim::SimOptions::new(scenario);
    opts.speed = speed;
    opts.seed = seed;
    opts.now = Some(now);
    SimThread::start(opts)
}
