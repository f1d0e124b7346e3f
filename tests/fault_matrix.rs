//! The fault matrix: every sim fault × every sync job, systematically.
//!
//! For each fault of `flywheel_sim::faults::Fault::ALL` a fresh demo sim is
//! started with the fault on (at a rate that makes it bite), and:
//! 1. one round of every job runs under a wall-clock timeout: each job
//!    completes or fails with a recorded error (no panic, no hang), and what
//!    it stored is a subset of what a fault-free sync stores (no garbage
//!    rows, no order items without their order);
//! 2. `flywheel status` (the binary) exits 1 and names every failed job with
//!    its error, or exits 0 when nothing failed;
//! 3. the fault is turned off at run time (`POST /_sim/faults?set=`) and the
//!    next round (plus the report re-runs a daemon would do) catches up: the
//!    key sets of every job's tables equal those of a fault-free reference
//!    database synced once from an identical sim (same scenario, seed and
//!    start time); `flywheel status` then exits 0, and no report is left in
//!    `pending_reports` that no run will poll again (orphaned);
//! 4. for the sticky faults (`revoke`, `bad_client`) the fault is turned on
//!    again and the sim clock is advanced in steps past each job's freshness
//!    allowance; at each step `flywheel check --rule data_freshness` names
//!    exactly the jobs whose last success is older than their allowance.
//!
//! It prints a matrix (fault × job → `ok`, `retried` (completed with
//! retries or throttled calls), `FAILED` (failed cleanly, recorded),
//! `pending` (completed, a report left for the next run), `n/a` (the fault
//! cannot touch the job, and it completed), `HANG`) and fails at the end,
//! listing every broken expectation.
//!
//! Run it (about 3 to 4 minutes on 2 cores, `slow` the longest case at
//! about 90 s; CI budget 15):
//! `cargo test --test fault_matrix -- --ignored --nocapture`; one fault or a
//! few: `FAULTS=throttle,revoke cargo test --test fault_matrix -- --ignored
//! --nocapture`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use flywheel::store::jobs::RunStatus;
use flywheel::sync::{JobName, JobResult};
use flywheel_sim::faults::Fault;
use serde_json::Value;

/// Sim seconds per wall second: reports finish and rate limits refill fast,
/// while `slow` still holds answers back 3 s of wall time.
const SPEED: f64 = 1000.0;
/// Wall time one round may take before the case counts as a hang. The
/// longest honest round is `slow`'s, about 90 s on a loaded 2-core machine
/// (customer_feedback makes about 90 calls one after another, a fifth of
/// them held back 3 s), so this leaves it room.
const ROUND_TIMEOUT: Duration = Duration::from_secs(180);
/// Wall time a catch-up (a round and its report re-runs) may take.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(150);
/// A report in `pending_reports` that no run will poll again: one the
/// re-run of its job did not touch, or one (FATAL included) still there
/// after a catch-up in which every job completed. Requests whose range
/// moves between runs (returns end at the run's `now`; rolling windows
/// move with the day) used to leave them behind forever.
const ORPHANED: &str = "pending report(s) no run polls again (orphaned)";
/// The whole matrix (CI allows 15 minutes for it, build included; it runs
/// in 3 to 4): no case starts once this is spent, and with a round's
/// timeout on top it still ends before CI's.
const BUDGET: Duration = Duration::from_secs(10 * 60);
/// Purchases, returns, feedback and Ads days before this day are compared
/// with the reference (later ones depend on when each round ran).
const CUTOFF_DAY: &str = "2026-03-01";
/// ... and from this day: how far back a first sync reaches is counted from
/// its `now` (30 days of orders here, 60 of Ads), and a catch-up runs later
/// than the reference did.
const FROM_DAY: &str = "2026-02-08";

/// The rate each fault runs at: high enough that it bites within one round.
fn rate(f: Fault) -> f64 {
    match f {
        Fault::Throttle => 0.6,
        Fault::ServerError => 0.5,
        Fault::Slow => 0.2,
        Fault::Truncate => 0.3,
        Fault::Ads401 => 0.6,
        _ => 1.0,
    }
}

/// Whether a fault can affect a job at all (otherwise the job must be
/// unaffected, and the matrix says `n/a`).
fn applies(f: Fault, job: JobName) -> bool {
    use JobName::*;
    match f {
        Fault::Throttle | Fault::ServerError | Fault::Slow | Fault::Truncate => true,
        Fault::Revoke | Fault::BadClient => true,
        // SP-API reports (documents are gzip flat files or JSON).
        Fault::Fatal | Fault::Empty => matches!(
            job,
            Orders
                | InventoryPlanning
                | SalesTraffic
                | Returns
                | SellerFeedback
                | AccountHealth
                | SearchQueryPerformance
        ),
        Fault::Ads401 | Fault::Ads425 | Fault::AdsPending => job == Ads,
        Fault::Realworld => job == AccountHealth,
    }
}

/// The freshness allowance of each job under the default schedule and
/// `data_freshness` defaults (3 missed runs, at least 2 h), in hours.
fn allowed_hours(job: JobName) -> f64 {
    use JobName::*;
    match job {
        Orders => 2.0,               // every 15 min → the 2 h floor
        Inventory | Listings => 3.0, // hourly
        SellerFeedback => 6.0,       // every 2 h
        Pricing => 18.0,             // every 6 h
        Ads => 36.0,                 // 03:00 and 15:00
        InventoryPlanning | SalesTraffic | Returns | AccountHealth | CatalogRanks => 72.0,
        CustomerFeedback | Fees | SearchQueryPerformance => 504.0, // weekly
    }
}

/// Per job, the key sets that identify its data (observation times left
/// out: snapshots taken at different times are the same data).
fn key_queries(job: JobName) -> Vec<(&'static str, String)> {
    use JobName::*;
    let c = CUTOFF_DAY;
    let f = FROM_DAY;
    let q = |name: &'static str, sql: String| (name, sql);
    match job {
        Orders => vec![
            q(
                "orders",
                format!("SELECT order_id FROM orders WHERE purchase_day BETWEEN '{f}' AND '{c}'"),
            ),
            q(
                "order_items",
                format!(
                    "SELECT i.order_id || '/' || i.sku FROM order_items i JOIN orders o \
                     USING (account, order_id) WHERE o.purchase_day BETWEEN '{f}' AND '{c}'"
                ),
            ),
        ],
        Inventory => vec![q(
            "inventory_snapshots",
            "SELECT DISTINCT sku || '/' || source FROM inventory_snapshots".into(),
        )],
        InventoryPlanning => vec![q(
            "inventory_planning",
            "SELECT DISTINCT sku FROM inventory_planning".into(),
        )],
        SalesTraffic => vec![
            q(
                "sales_traffic_daily",
                format!("SELECT date FROM sales_traffic_daily WHERE date BETWEEN '{f}' AND '{c}'"),
            ),
            // Its windows are counted back from `now`: the ASINs, then.
            q(
                "sales_traffic_asin",
                "SELECT DISTINCT asin FROM sales_traffic_asin".into(),
            ),
        ],
        Returns => vec![q(
            "returns",
            format!(
                "SELECT source || '/' || order_id || '/' || sku || '/' || return_ref \
                 FROM returns WHERE return_date BETWEEN '{f}' AND '{c}'"
            ),
        )],
        SellerFeedback => vec![q(
            "seller_feedback",
            format!(
                "SELECT order_id FROM seller_feedback \
                     WHERE feedback_date BETWEEN '{f}' AND '{c}'"
            ),
        )],
        AccountHealth => vec![q(
            "account_health_snapshots",
            "SELECT DISTINCT marketplace_id FROM account_health_snapshots".into(),
        )],
        CatalogRanks => vec![
            q(
                "catalog_ranks",
                "SELECT DISTINCT asin FROM catalog_ranks".into(),
            ),
            q(
                "item_browse_nodes",
                "SELECT asin || '/' || browse_node_id FROM item_browse_nodes".into(),
            ),
        ],
        Pricing => vec![q(
            "pricing_snapshots",
            "SELECT DISTINCT asin FROM pricing_snapshots".into(),
        )],
        Listings => vec![
            q("listings", "SELECT sku FROM listings".into()),
            q(
                "listing_issues",
                "SELECT sku || '/' || code || '/' || attribute_names_json FROM listing_issues"
                    .into(),
            ),
        ],
        // Periods are counted back from the day of the call: topics, then.
        CustomerFeedback => vec![
            q(
                "review_topics",
                "SELECT DISTINCT subject_kind || '/' || subject_id || '/' || sentiment || '/' \
                 || topic FROM review_topics"
                    .into(),
            ),
            q(
                "review_topic_trends",
                "SELECT DISTINCT subject_kind || '/' || subject_id || '/' || sentiment || '/' \
                 || topic FROM review_topic_trends"
                    .into(),
            ),
        ],
        Fees => vec![q(
            "fee_estimates",
            "SELECT sku || '/' || price FROM fee_estimates".into(),
        )],
        SearchQueryPerformance => vec![q(
            "search_query_performance",
            "SELECT asin || '/' || week_start || '/' || search_query \
             FROM search_query_performance"
                .into(),
        )],
        Ads => vec![
            q(
                "ads_profiles",
                "SELECT CAST(profile_id AS TEXT) FROM ads_profiles".into(),
            ),
            q(
                "ads_campaigns",
                "SELECT ad_product || '/' || campaign_id FROM ads_campaigns".into(),
            ),
            q(
                "ads_campaign_daily",
                format!(
                    "SELECT ad_product || '/' || date || '/' || campaign_id \
                     FROM ads_campaign_daily WHERE date BETWEEN '{f}' AND '{c}'"
                ),
            ),
            q(
                "ads_search_term_daily",
                format!(
                    "SELECT date || '/' || campaign_id || '/' || ad_group_id || '/' || \
                     keyword_id || '/' || search_term FROM ads_search_term_daily \
                     WHERE date BETWEEN '{f}' AND '{c}'"
                ),
            ),
            q(
                "ads_advertised_product_daily",
                format!(
                    "SELECT date || '/' || campaign_id || '/' || ad_group_id || '/' || \
                     advertised_asin || '/' || advertised_sku \
                     FROM ads_advertised_product_daily WHERE date BETWEEN '{f}' AND '{c}'"
                ),
            ),
        ],
    }
}

/// Table name → key set, for every job's tables.
type Keys = BTreeMap<&'static str, BTreeSet<String>>;

fn keys(h: &common::Harness, job: JobName) -> Keys {
    let conn = h.conn();
    key_queries(job)
        .into_iter()
        .map(|(table, sql)| {
            let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let set = stmt
                .query_map([], |r| r.get::<_, Option<String>>(0))
                .unwrap()
                .map(|r| r.unwrap().unwrap_or_else(|| "NULL".into()))
                .collect();
            (table, set)
        })
        .collect()
}

/// What `have` lacks and has extra compared with `want`, per table; empty
/// when equal (or, with `subset`, when `have` adds nothing).
fn diff(want: &Keys, have: &Keys, subset: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (table, w) in want {
        let h = &have[table];
        let missing: Vec<&String> = w.difference(h).collect();
        let extra: Vec<&String> = h.difference(w).collect();
        if (!subset && !missing.is_empty()) || !extra.is_empty() {
            out.push(format!(
                "{table}: {} of {} missing (e.g. {:?}), {} extra (e.g. {:?})",
                missing.len(),
                w.len(),
                missing.iter().take(2).collect::<Vec<_>>(),
                extra.len(),
                extra.iter().take(2).collect::<Vec<_>>(),
            ));
        }
    }
    out
}

/// One run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        format!("exit {}\n{}{}", self.code, self.stdout, self.stderr)
    }
}

/// `flywheel ARGS --config CONFIG`, off the runtime (the sim it talks to is
/// served by this test's runtime).
async fn flywheel(config: &Path, args: &[&str]) -> Run {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--config".to_string(), config.display().to_string()]);
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .args(&all)
            .env_remove("RUST_LOG")
            .env_remove("FLYWHEEL_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A demo sim with `faults` on, its config reaching back only 30 days for
/// orders (the matrix is about faults, not volume).
async fn start(faults: &str) -> common::Harness {
    let mut opts = common::Opts::new("demo");
    opts.speed = SPEED;
    opts.faults = faults.to_string();
    let mut h = common::start(opts).await;
    let mut text = std::fs::read_to_string(&h.config_path).unwrap();
    text.push_str("\n[sync]\norders_history_days = 30\n");
    std::fs::write(&h.config_path, text).unwrap();
    h.cfg = flywheel::config::Config::load(&h.config_path, &flywheel::config::Env::default())
        .expect("the config with [sync] is valid");
    h
}

/// Replace the sim's faults while it runs.
async fn set_faults(h: &common::Harness, list: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/faults", h.sim.base_url()))
        .query(&[("set", list)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "POST /_sim/faults?set={list}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["faults"] == "", list.is_empty(), "{v}");
}

/// One round under the timeout; `None` on a hang.
async fn round(h: &common::Harness) -> Option<Vec<JobResult>> {
    let r = tokio::time::timeout(ROUND_TIMEOUT, h.sync(&[])).await.ok();
    verbose("round", r.as_deref().unwrap_or_default());
    r
}

/// With `FM_VERBOSE` set, prints each round's summary table.
fn verbose(what: &str, results: &[JobResult]) {
    if std::env::var_os("FM_VERBOSE").is_some() {
        println!("{what}:\n{}", flywheel::sync::summary_table(results));
    }
}

/// Like [`common::Harness::sync_settled`] (a round, then the jobs with
/// reports pending again, as the daemon's next runs would), under the
/// timeout, without panicking: `Err` says why it did not settle.
///
/// Then the orders job once more, as its next run (every 15 minutes) in a
/// daemon: orders are read by last update, and the history report's range
/// ends at the round's `now`, so an order updated between that `now` and
/// Amazon starting on the report is in no range and comes with the next
/// (incremental) run. At this `--speed` that gap is many sim minutes
/// (seconds of wall time between the round's start and `createReport`),
/// so without it the key sets depended on when each round ran (the fatal
/// and empty cases missed an order shipped in the gap).
async fn settle(h: &common::Harness) -> Result<Vec<JobResult>, String> {
    let work = async {
        let mut all = h.sync(&[]).await;
        verbose("catch-up round", &all);
        let mut orders_again = true;
        for _ in 0..common::MAX_EXTRA_ROUNDS {
            let pending: BTreeSet<JobName> = h
                .pending_reports()
                .iter()
                .filter_map(|p| JobName::parse(&p.job))
                .collect();
            if pending.is_empty() && orders_again {
                orders_again = false;
                let next = h.sync(&[JobName::Orders]).await;
                verbose("orders' next run", &next);
                for r in next {
                    all.retain(|x| x.job != r.job);
                    all.push(r);
                }
                continue;
            }
            if pending.is_empty() {
                return Ok(all);
            }
            // A pending report that the re-run of its job did not even poll
            // is orphaned: no run will ever ask for it again.
            let polled = |h: &common::Harness| -> BTreeSet<(String, Option<String>)> {
                h.conn()
                    .prepare("SELECT report_id, last_polled_at FROM pending_reports")
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            };
            let before = polled(h);
            let again: Vec<JobName> = pending.into_iter().collect();
            let rerun = h.sync(&again).await;
            verbose("re-run", &rerun);
            for r in rerun {
                all.retain(|x| x.job != r.job);
                all.push(r);
            }
            let after = polled(h);
            if !after.is_empty() && after.is_subset(&before) {
                return Err(format!(
                    "{ORPHANED}: {:?}",
                    h.pending_reports()
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                ));
            }
        }
        Err(format!("reports still pending: {:?}", h.pending_reports()))
    };
    tokio::time::timeout(SETTLE_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(format!("no settled round within {SETTLE_TIMEOUT:?}")))
}

/// The fault-free reference: per job, its calls in a first round and its
/// key sets once settled.
struct Reference {
    calls: BTreeMap<JobName, u64>,
    keys: BTreeMap<JobName, Keys>,
}

async fn reference() -> Reference {
    let h = start("").await;
    let first = round(&h).await.expect("the fault-free round finishes");
    for r in &first {
        assert_eq!(r.status, RunStatus::Ok, "fault-free: {r:?}");
    }
    settle(&h).await.expect("the fault-free sync settles");
    let calls = first.iter().map(|r| (r.job, r.calls)).collect();
    let keys: BTreeMap<JobName, Keys> = JobName::ALL.iter().map(|j| (*j, keys(&h, *j))).collect();
    for (job, k) in &keys {
        for (table, set) in k {
            if !matches!(table, &"listing_issues" | &"ads_search_term_daily") {
                assert!(!set.is_empty(), "fault-free {job}: {table} is empty");
            }
        }
    }
    Reference { calls, keys }
}

/// The matrix cell of one job in the faulty round.
fn cell(f: Fault, r: Option<&JobResult>, pending: bool, ref_calls: u64) -> &'static str {
    let Some(r) = r else { return "HANG" };
    match r.status {
        RunStatus::Failed => "FAILED",
        RunStatus::Ok if pending => "pending",
        // Untouchable and completed (the check is in `run_case`): more
        // calls than the reference made are then polls of reports that
        // took longer, or the sim's own rate limits, not the fault.
        RunStatus::Ok if !applies(f, r.job) => "n/a",
        RunStatus::Ok if r.throttled > 0 || r.calls > ref_calls => "retried",
        RunStatus::Ok => "ok",
        RunStatus::Unavailable => "unavail",
        RunStatus::Skipped => "skipped",
        RunStatus::Interrupted => "interrupted",
    }
}

/// `flywheel status --format json`'s jobs: job → (newest_status, last error).
fn status_jobs(v: &Value) -> BTreeMap<String, (String, String)> {
    v["accounts"][0]["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            (
                j["job"].as_str().unwrap_or_default().to_string(),
                (
                    j["newest_status"].as_str().unwrap_or("none").to_string(),
                    j["last_error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ),
            )
        })
        .collect()
}

/// Checks `flywheel status` after the faulty round: exit 1 naming each
/// failed job and its error, or exit 0 when none failed.
async fn check_status_after_fault(
    h: &common::Harness,
    results: &[JobResult],
    problems: &mut Vec<String>,
) {
    let failed: Vec<&JobResult> = results
        .iter()
        .filter(|r| r.status == RunStatus::Failed)
        .collect();
    let text = flywheel(&h.config_path, &["status"]).await;
    let json = flywheel(&h.config_path, &["status", "--format", "json"]).await;
    let v: Value = serde_json::from_str(&json.stdout).unwrap_or(Value::Null);
    let jobs = status_jobs(&v);
    if failed.is_empty() {
        // Nothing failed: the only problems allowed are sources gone stale
        // while the (slow) round ran, sim time running on.
        for p in v["problems"].as_array().into_iter().flatten() {
            let p = p.as_str().unwrap_or_default();
            if !is_stale_by_time(p) {
                problems.push(format!("status with no failed job says: {p}"));
            }
        }
        return;
    }
    if text.code != 1 || !text.stdout.starts_with("NEEDS ATTENTION") {
        problems.push(format!(
            "status after failures exits {}:\n{}",
            text.code,
            text.text()
        ));
    }
    let listed = text.stdout.split("PROBLEMS\n").nth(1).unwrap_or_default();
    for r in failed {
        let line = format!("{}/{}: the newest run failed", r.account, r.job);
        if !listed.contains(&line) {
            problems.push(format!("status does not say `{line}`:\n{}", text.stdout));
        }
        match jobs.get(r.job.as_str()) {
            Some((s, msg))
                if s == "failed"
                    && !msg.is_empty()
                    && r.message.starts_with(msg.trim_end_matches('…')) => {}
            other => problems.push(format!(
                "status --format json for {}: {other:?}, the run said {:?}",
                r.job, r.message
            )),
        }
    }
}

/// A status problem that only says sources went stale with no run failing
/// (sim time runs at [`SPEED`] while the binary starts).
fn is_stale_by_time(p: &str) -> bool {
    p.contains("stale data") && p.contains("No run has failed since")
}

/// Checks `flywheel status` after the catch-up: no job's newest run
/// failed, and the only problems left are stale sources that really are
/// past their allowance by now (sim time runs on while the binary starts).
async fn check_status_recovered(h: &common::Harness, f: Fault, problems: &mut Vec<String>) {
    let json = flywheel(&h.config_path, &["status", "--format", "json"]).await;
    let v: Value = serde_json::from_str(&json.stdout).unwrap_or(Value::Null);
    for (job, (status, msg)) in status_jobs(&v) {
        if status != "ok" {
            problems.push(format!(
                "{f}: status after the catch-up: {job} is {status}: {msg}"
            ));
        }
    }
    for p in v["problems"].as_array().into_iter().flatten() {
        let p = p.as_str().unwrap_or_default();
        if !is_stale_by_time(p) {
            problems.push(format!("{f}: status after the catch-up: {p}"));
        }
    }
    for fr in v["freshness"].as_array().into_iter().flatten() {
        let (since, allowed) = (
            fr["hours_since_success"].as_f64(),
            fr["allowed_hours"].as_f64(),
        );
        if fr["stale"] == true && !matches!((since, allowed), (Some(s), Some(a)) if s > a) {
            problems.push(format!("{f}: status calls {fr} stale"));
        }
    }
    if json.code != 0 && v["problems"].as_array().is_none_or(|p| p.is_empty()) {
        problems.push(format!("{f}: status exits {} with no problem", json.code));
    }
}

/// `flywheel check --rule data_freshness`: the stale jobs it names.
async fn stale_jobs(h: &common::Harness) -> Result<BTreeSet<String>, String> {
    let run = flywheel(
        &h.config_path,
        &["check", "--rule", "data_freshness", "--format", "json"],
    )
    .await;
    let v: Value = serde_json::from_str(&run.stdout).map_err(|e| format!("{e}: {}", run.text()))?;
    let mut out = BTreeSet::new();
    collect_stale(&v, &mut out);
    Ok(out)
}

fn collect_stale(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "stale_jobs" {
                    for j in x.as_array().into_iter().flatten() {
                        if let Some(name) = j["job"].as_str() {
                            out.insert(name.to_string());
                        }
                    }
                } else {
                    collect_stale(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_stale(x, out)),
        _ => {}
    }
}

/// Each job's newest successful run (its round's `now`).
fn last_successes(h: &common::Harness) -> BTreeMap<JobName, chrono::DateTime<chrono::Utc>> {
    let conn = h.conn();
    let mut stmt = conn
        .prepare("SELECT job, MAX(finished_at) FROM job_runs WHERE status = 'ok' GROUP BY job")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .filter_map(|r| {
            let (j, t) = r.ok()?;
            Some((
                JobName::parse(&j)?,
                chrono::DateTime::parse_from_rfc3339(&t).ok()?.to_utc(),
            ))
        })
        .collect()
}

/// With the sticky fault on again, walk the clock past each allowance;
/// each step runs a (failing) round, as the daemon would, then checks that
/// `data_freshness` names exactly the jobs past their allowance.
async fn freshness_staircase(h: &common::Harness, f: Fault, problems: &mut Vec<String>) {
    let v: Value = serde_json::from_str(
        &flywheel(&h.config_path, &["status", "--format", "json"])
            .await
            .stdout,
    )
    .unwrap_or(Value::Null);
    // The allowance status reports is the rule's own; it must agree with
    // the defaults this test spells out.
    for fr in v["freshness"].as_array().into_iter().flatten() {
        let (Some(job), Some(allowed)) = (
            fr["job"].as_str().and_then(JobName::parse),
            fr["allowed_hours"].as_f64(),
        ) else {
            continue;
        };
        if (allowed - allowed_hours(job)).abs() > 0.05 {
            problems.push(format!(
                "{f}: status allows {job} {allowed} h, expected {}",
                allowed_hours(job)
            ));
        }
    }
    // The walk starts from the catch-up, when every job last succeeded.
    let base = last_successes(h).values().min().copied();
    let base = match base {
        Some(t) => t,
        None => h.now().await,
    };
    set_faults(h, &format!("{f}={}", rate(f))).await;
    for hours in [2.6, 4.5, 12.0, 26.0, 48.0, 96.0, 22.0 * 24.0] {
        let target = base + chrono::Duration::minutes((hours * 60.0) as i64);
        let now = h.now().await;
        if target > now {
            h.sim.clock.advance((target - now).to_std().unwrap());
        }
        let Some(results) = round(h).await else {
            problems.push(format!("{f}: a round {hours} h on hangs"));
            return;
        };
        // A job with nothing due (or an access token issued before the
        // fault) may still complete: it is then fresh.
        for r in results.iter().filter(|r| r.status == RunStatus::Ok) {
            println!("  {f} +{hours} h: {} completes: {}", r.job, r.message);
        }
        let last_ok = last_successes(h);
        let before = h.now().await;
        let stale = match stale_jobs(h).await {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{f}: flywheel check: {e}"));
                return;
            }
        };
        let after = h.now().await;
        for job in JobName::ALL {
            let Some(ok) = last_ok.get(job) else { continue };
            let allowed = chrono::Duration::minutes((allowed_hours(*job) * 60.0) as i64);
            let slack = chrono::Duration::minutes(5);
            let named = stale.contains(job.as_str());
            if before - *ok > allowed + slack && !named {
                problems.push(format!(
                    "{f}: {job} last succeeded {} h before, allowed {} h, but data_freshness \
                     does not name it (names {stale:?})",
                    (before - *ok).num_minutes() / 60,
                    allowed_hours(*job)
                ));
            }
            if after - *ok + slack < allowed && named {
                problems.push(format!(
                    "{f}: data_freshness names {job} {} h after its last success (allowed {} h)",
                    (after - *ok).num_minutes() / 60,
                    allowed_hours(*job)
                ));
            }
        }
        println!(
            "  {f} +{hours:>5} h: data_freshness names {}",
            if stale.is_empty() {
                "nothing".to_string()
            } else {
                stale.into_iter().collect::<Vec<_>>().join(", ")
            }
        );
    }
}

/// One fault's row: cells per job, and the broken expectations.
async fn run_case(f: Fault, reference: &Reference, problems: &mut Vec<String>) -> Vec<String> {
    let mut cells = vec!["-".to_string(); JobName::ALL.len()];
    let list = format!("{f}={}", rate(f));
    let h = start(&list).await;

    // 1. The faulty round.
    let Some(results) = round(&h).await else {
        let running: Vec<String> = {
            let conn = h.conn();
            let mut stmt = conn
                .prepare("SELECT job FROM job_runs WHERE finished_at IS NULL")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        problems.push(format!(
            "{f}: the round hangs past {ROUND_TIMEOUT:?}; still running: {running:?}"
        ));
        for (i, j) in JobName::ALL.iter().enumerate() {
            if running.iter().any(|r| r == j.as_str()) {
                cells[i] = "HANG".into();
            }
        }
        return cells;
    };
    let pending: BTreeSet<String> = h.pending_reports().into_iter().map(|p| p.job).collect();
    for (i, job) in JobName::ALL.iter().enumerate() {
        let r = results.iter().find(|r| r.job == *job);
        cells[i] = cell(f, r, pending.contains(job.as_str()), reference.calls[job]).to_string();
        let Some(r) = r else {
            problems.push(format!("{f}: {job} did not run"));
            continue;
        };
        if r.status == RunStatus::Failed && r.message.trim().is_empty() {
            problems.push(format!("{f}: {job} failed without a message"));
        }
        if !applies(f, *job) && r.status != RunStatus::Ok {
            problems.push(format!(
                "{f}: {job} should be unaffected but is {:?}: {}",
                r.status, r.message
            ));
        }
        // Nothing half-written: whatever it stored is data a fault-free
        // sync stores too.
        for d in diff(&reference.keys[job], &keys(&h, *job), true) {
            problems.push(format!("{f}: {job} after the faulty round: {d}"));
        }
    }
    let orphans = h.int(
        "SELECT COUNT(*) FROM order_items i WHERE NOT EXISTS \
         (SELECT 1 FROM orders o WHERE o.account = i.account AND o.order_id = i.order_id)",
    );
    if orphans > 0 {
        problems.push(format!("{f}: {orphans} order items without their order"));
    }
    let failed_msgs: Vec<String> = results
        .iter()
        .filter(|r| r.status == RunStatus::Failed)
        .map(|r| format!("    {}: {}", r.job, r.message))
        .collect();
    if !failed_msgs.is_empty() {
        println!("{f}: failed jobs\n{}", failed_msgs.join("\n"));
    }

    // 2. What status says about it.
    check_status_after_fault(&h, &results, problems).await;

    // 3. Fault off: the next run catches up.
    set_faults(&h, "").await;
    let caught_up = settle(&h).await;
    match &caught_up {
        Err(e) => problems.push(format!("{f}: the catch-up does not settle: {e}")),
        Ok(rs) => {
            for r in rs.iter().filter(|r| r.status != RunStatus::Ok) {
                problems.push(format!(
                    "{f}: {} in the catch-up round: {:?} {}",
                    r.job, r.status, r.message
                ));
            }
            // Every job completed, so each asked for every report it still
            // wants: a row left (a FATAL one waiting out its backoff
            // included) is one no run will ask for again, unless its job
            // was held back by the report budget.
            let deferred: BTreeSet<JobName> = rs
                .iter()
                .filter(|r| r.deferred_by_budget())
                .map(|r| r.job)
                .collect();
            let left: Vec<String> = h
                .failed_reports()
                .iter()
                .chain(h.pending_reports().iter())
                .filter(|p| JobName::parse(&p.job).is_none_or(|j| !deferred.contains(&j)))
                .map(|p| p.to_string())
                .collect();
            if !left.is_empty() {
                problems.push(format!("{f}: {ORPHANED}: {left:?}"));
            }
        }
    }
    for (i, job) in JobName::ALL.iter().enumerate() {
        let d = diff(&reference.keys[job], &keys(&h, *job), false);
        if !d.is_empty() {
            cells[i].push('!');
            for d in d {
                problems.push(format!("{f}: {job} after the catch-up: {d}"));
            }
        }
    }
    check_status_recovered(&h, f, problems).await;

    // 4. A sticky fault left on: the stale sources, and only they, alert.
    if matches!(f, Fault::Revoke | Fault::BadClient) {
        freshness_staircase(&h, f, problems).await;
    }
    cells
}

fn selected_faults() -> Vec<Fault> {
    match std::env::var("FAULTS") {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(|s| s.trim().parse().unwrap_or_else(|e| panic!("FAULTS: {e}")))
            .collect(),
        _ => Fault::ALL.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes of wall time: CI runs it with --ignored"]
async fn every_fault_times_every_job() {
    let started = Instant::now();
    let reference = reference().await;
    println!(
        "reference (fault-free) synced in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for f in selected_faults() {
        if started.elapsed() > BUDGET {
            problems.push(format!("{f}: not run, the {BUDGET:?} budget is spent"));
            continue;
        }
        let t = Instant::now();
        let before = problems.len();
        let cells = run_case(f, &reference, &mut problems).await;
        println!(
            "{f}: {:.0}s, {} problem(s)",
            t.elapsed().as_secs_f64(),
            problems.len() - before
        );
        rows.push((f, cells, t.elapsed()));
    }

    // The matrix: faults down, jobs across (abbreviated; legend below).
    let abbrev: Vec<String> = JobName::ALL
        .iter()
        .map(|j| j.as_str().chars().take(8).collect())
        .collect();
    let mut out = format!("\n{:<12}", "fault");
    for a in &abbrev {
        out.push_str(&format!(" {a:<8}"));
    }
    out.push_str("   secs\n");
    for (f, cells, took) in &rows {
        out.push_str(&format!("{:<12}", f.name()));
        for c in cells {
            out.push_str(&format!(" {c:<8}"));
        }
        out.push_str(&format!(" {:>6.0}\n", took.as_secs_f64()));
    }
    out.push_str(
        "jobs: orders inventory inventory_planning sales_traffic returns seller_feedback \
         account_health catalog_ranks pricing listings customer_feedback fees \
         search_query_performance ads\n\
         ok: unaffected  retried: completed after retries/429s  FAILED: failed cleanly \
         (recorded, named by status)  pending: a report left for the next run  n/a: the fault \
         cannot touch the job  !: did not catch up\n",
    );
    println!("{out}total {:.0}s", started.elapsed().as_secs_f64());
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        started.elapsed() < BUDGET + ROUND_TIMEOUT,
        "the matrix took {:?}",
        started.elapsed()
    );
}
