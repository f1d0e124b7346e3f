//! The report-based seller data jobs against the simulated marketplace
//! (scenario `demo`): sales_traffic, search_query_performance,
//! inventory_planning, returns, seller_feedback, account_health, and
//! `flywheel import` of the same documents. Everything on 127.0.0.1, every
//! wait bounded by the pipeline's `max_report_wait`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use flywheel::store::jobs::RunStatus;
use flywheel::sync::report::{self as reports, ReportOutcome, ReportRequest};
use flywheel::sync::{Ctx, JobName, JobResult};
use flywheel_sim::world::World;

const JOBS: [JobName; 5] = [
    JobName::SalesTraffic,
    JobName::InventoryPlanning,
    JobName::Returns,
    JobName::SellerFeedback,
    JobName::AccountHealth,
];

const TABLES: [&str; 8] = [
    "sales_traffic_windows",
    "sales_traffic_asin",
    "sales_traffic_daily",
    "search_query_performance",
    "inventory_planning",
    "returns",
    "seller_feedback",
    "account_health_snapshots",
];

/// Length of the quiet stretch of sim time two runs must fit in.
const QUIET: i64 = 90;

/// Minutes from `now` to the start of a [`QUIET`]-minute stretch of sim
/// time in which the world changes no feedback (no feedback or response)
/// and no marketplace day ends,
/// so two runs in it must store the same rows.
fn quiet_offset(world: &World, now: DateTime<Utc>) -> i64 {
    let horizon = now + Duration::hours(100);
    let from = world.day_of(now) - Duration::days(100);
    // Returns are too frequent for a quiet hour: the test discounts the
    // ones that happen during the runs instead (`returns_during`).
    let mut events: Vec<DateTime<Utc>> = Vec::new();
    for f in world.all_feedback(from, world.day_of(horizon), horizon) {
        events.push(f.left_at);
        events.extend(f.responded_at);
    }
    for k in (0..96 * 60).step_by(5) {
        let a = now + Duration::minutes(k);
        let b = a + Duration::minutes(QUIET);
        if world.day_of(a) != world.day_of(b) {
            continue;
        }
        if events
            .iter()
            .any(|t| *t >= a - Duration::minutes(2) && *t <= b)
        {
            continue;
        }
        return k;
    }
    panic!("no quiet hour in 4 days of the demo world");
}

/// Order ids whose return appears or changes status between `a` and `b`.
fn returns_during(world: &World, a: DateTime<Utc>, b: DateTime<Utc>) -> Vec<String> {
    let from = world.day_of(a) - Duration::days(100);
    let inside = |t: DateTime<Utc>| t >= a - Duration::minutes(2) && t <= b;
    world
        .returns(from, world.day_of(b), b)
        .into_iter()
        .filter(|r| inside(r.return_date) || inside(r.return_date + Duration::days(7)))
        .map(|r| r.order_id)
        .collect()
}

async fn quiet_harness(opts: common::Opts) -> common::Harness {
    let h = common::start(opts).await;
    let k = quiet_offset(&h.sim.world, h.now().await);
    if k > 0 {
        h.advance(&format!("{k}m")).await;
    }
    h
}

fn assert_ok(results: &[JobResult]) {
    for r in results {
        assert_eq!(
            r.status,
            RunStatus::Ok,
            "{} {}: {}",
            r.account,
            r.job,
            r.message
        );
    }
}

/// Every row of a table as text, in key order, without `skip` columns.
fn dump(h: &common::Harness, table: &str, skip: &[&str]) -> Vec<String> {
    let conn = h.conn();
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<String> = stmt
        .query_map([], |r| {
            let mut cells = Vec::new();
            for (i, n) in names.iter().enumerate() {
                if skip.contains(&n.as_str()) {
                    continue;
                }
                let v: rusqlite::types::Value = r.get(i)?;
                cells.push(format!("{n}={v:?}"));
            }
            Ok(cells.join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    rows
}

fn dump_all(h: &common::Harness, skip: &[&str]) -> BTreeMap<&'static str, Vec<String>> {
    TABLES.iter().map(|t| (*t, dump(h, t, skip))).collect()
}

fn figures(label: &str, results: &[JobResult]) {
    for r in results {
        eprintln!(
            "{label}: {:<26} rows {:>5} calls {:>4} throttled {:>3} {:>6.2}s  {}",
            r.job.as_str(),
            r.rows,
            r.calls,
            r.throttled,
            r.duration.as_secs_f64(),
            r.message
        );
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.006
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_report_jobs_store_the_world_and_a_rerun_changes_nothing() {
    let h = quiet_harness(common::Opts::new("demo")).await;
    let world = h.sim.world.clone();
    let t_start = h.now().await;
    let started = Instant::now();
    let first = h.sync(&JOBS).await;
    figures("first run", &first);
    assert_ok(&first);
    // SQP asks for the ASINs flywheel knows, which sales & traffic filled.
    let sqp = h.sync(&[JobName::SearchQueryPerformance]).await;
    figures("first run", &sqp);
    assert_ok(&sqp);
    eprintln!(
        "first run of the six report jobs: {:.2}s wall, {} calls, {} throttled",
        started.elapsed().as_secs_f64(),
        first.iter().chain(&sqp).map(|r| r.calls).sum::<u64>(),
        first.iter().chain(&sqp).map(|r| r.throttled).sum::<u64>()
    );
    let now = h.now().await;
    let today = world.day_of(now);

    // Per-ASIN windows: exactly the world's totals; zero-order ASINs absent.
    assert_eq!(h.int("SELECT COUNT(*) FROM sales_traffic_windows"), 6);
    let windows: Vec<(String, String, i64)> = {
        let c = h.conn();
        let mut s = c
            .prepare("SELECT window_start, window_end, asin_rows FROM sales_traffic_windows")
            .unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut want: Vec<(String, String)> = flywheel::sync::sales_traffic::rule_windows(today)
        .iter()
        .map(|w| (w.start.to_string(), w.end.to_string()))
        .collect();
    let mut got: Vec<(String, String)> = windows
        .iter()
        .map(|(a, b, _)| (a.clone(), b.clone()))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let mut omitted = 0;
    for (ws, we, n) in &windows {
        let (ws, we) = (d(ws), d(we));
        let truth = world.asin_totals(ws, we, now);
        assert_eq!(*n as usize, truth.len(), "{ws}..{we}");
        omitted += world.products().len() - truth.len();
        for t in &truth {
            let (sessions, units, pv, bb, sales): (i64, i64, i64, f64, f64) = h
                .conn()
                .query_row(
                    "SELECT sessions, units_ordered, page_views, buy_box_pct, ordered_product_sales
                     FROM sales_traffic_asin WHERE asin = ?1 AND window_start = ?2 AND window_end = ?3",
                    rusqlite::params![t.asin, ws.to_string(), we.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .unwrap_or_else(|e| panic!("{} {ws}..{we}: {e}", t.asin));
            assert_eq!(
                (sessions as u64, units as u64, pv as u64),
                (t.sessions, t.units_ordered, t.page_views),
                "{}",
                t.asin
            );
            assert!(
                close(bb, t.buy_box_pct),
                "{} buy box {bb} vs {}",
                t.asin,
                t.buy_box_pct
            );
            assert!(close(sales, t.ordered_product_sales), "{}", t.asin);
        }
        let stored = h.int(&format!(
            "SELECT COUNT(*) FROM sales_traffic_asin WHERE window_start = '{ws}' AND window_end = '{we}'"
        ));
        assert_eq!(stored as usize, truth.len());
    }
    eprintln!("zero-order ASINs omitted across the 6 windows: {omitted}");

    // The daily series: 90 days, each equal to the world's day.
    let days = world.daily_totals(today - Duration::days(90), today - Duration::days(1), now);
    assert_eq!(
        h.int("SELECT COUNT(*) FROM sales_traffic_daily") as usize,
        days.len()
    );
    for t in &days {
        let (sessions, units, items, neg, sales): (i64, i64, i64, i64, f64) = h
            .conn()
            .query_row(
                "SELECT sessions, units_ordered, total_order_items, negative_feedback_received,
                        ordered_product_sales FROM sales_traffic_daily WHERE date = ?1",
                [t.date.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(
            (sessions as u64, units as u64, items as u64, neg as u64),
            (
                t.sessions,
                t.units_ordered,
                t.total_order_items,
                t.negative_feedback_received
            ),
            "{}",
            t.date
        );
        assert!(close(sales, t.ordered_product_sales), "{}", t.date);
    }

    // Inventory planning: one row per FBA SKU of today's snapshot.
    let plan = world.planning(today);
    assert!(!plan.is_empty());
    assert_eq!(
        h.int("SELECT COUNT(*) FROM inventory_planning") as usize,
        plan.len()
    );
    for p in &plan {
        let (date, avail, t30, dos, rank): (String, i64, i64, Option<f64>, Option<i64>) = h
            .conn()
            .query_row(
                "SELECT snapshot_date, available, units_shipped_t30, days_of_supply, sales_rank
                 FROM inventory_planning WHERE sku = ?1",
                [&p.sku],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(date, p.snapshot_date.to_string());
        assert_eq!(
            (avail, t30 as u64),
            (p.available, p.units_shipped_t30),
            "{}",
            p.sku
        );
        assert_eq!(rank, p.sales_rank.map(i64::from), "{}", p.sku);
        match (dos, p.days_of_supply) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 0.051, "{}: {a} vs {b}", p.sku),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "{}", p.sku),
        }
    }

    // Returns: the first run reaches back 60 days (from that day's start).
    let from = world.day_of(now - Duration::days(60));
    let truth = world.returns(from, today, now);
    let units = |ch: &str| -> u64 {
        truth
            .iter()
            .filter(|r| r.fulfillment_channel == ch)
            .map(|r| r.quantity as u64)
            .sum()
    };
    assert!(!truth.is_empty());
    assert_eq!(
        h.int("SELECT COALESCE(SUM(quantity), 0) FROM returns WHERE source = 'fba'") as u64,
        units("AFN")
    );
    assert_eq!(
        h.int("SELECT COALESCE(SUM(quantity), 0) FROM returns WHERE source = 'mfn'") as u64,
        units("MFN")
    );
    assert_eq!(h.int("SELECT COUNT(*) FROM returns") as usize, truth.len());
    let r0 = &truth[0];
    let (reason, day): (String, String) = h
        .conn()
        .query_row(
            "SELECT reason, return_date FROM returns WHERE order_id = ?1 AND sku = ?2",
            [&r0.order_id, &r0.sku],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (reason, day),
        (r0.reason.clone(), world.day_of(r0.return_date).to_string())
    );

    // Seller feedback: the 1-3 star feedback of the last 90 days, answered or not.
    let fb = world.seller_feedback(today - Duration::days(90), today, now);
    assert!(!fb.is_empty());
    assert_eq!(
        h.int("SELECT COUNT(*) FROM seller_feedback") as usize,
        fb.len()
    );
    assert_eq!(
        h.int("SELECT COUNT(*) FROM seller_feedback WHERE rating > 3"),
        0
    );
    for f in &fb {
        let (date, rating, response): (String, i64, Option<String>) = h
            .conn()
            .query_row(
                "SELECT feedback_date, rating, your_response FROM seller_feedback WHERE order_id = ?1",
                [&f.order_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (date, rating, response.unwrap_or_default()),
            (f.date.to_string(), f.rating as i64, f.response.clone())
        );
    }
    assert_eq!(
        h.int("SELECT COUNT(*) FROM seller_feedback WHERE first_seen_at IS NULL OR acknowledged_at IS NOT NULL"),
        0
    );

    // Account health.
    let ah = world.account_health(now);
    let (status, late, cancel, tracking): (String, f64, f64, f64) = h
        .conn()
        .query_row(
            "SELECT account_status, late_shipment_rate, pre_fulfillment_cancel_rate, valid_tracking_rate
             FROM account_health_snapshots",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(status, ah.status);
    assert!(close(late, ah.late_shipment_rate));
    assert!(close(cancel, ah.cancel_rate));
    assert!(close(tracking, ah.valid_tracking_rate));

    // SQP: the last complete week (Sunday-Saturday) and the one before.
    let asin = &world.products()[0].asin;
    let last = flywheel::sync::search_query_performance::last_complete_week(today);
    for week in [last - Duration::days(7), last] {
        let truth = world.search_query_week(asin, week, now);
        assert!(!truth.is_empty());
        let n = h.int(&format!(
            "SELECT COUNT(*) FROM search_query_performance WHERE asin = '{asin}' AND week_start = '{week}'"
        ));
        assert_eq!(n as usize, truth.len(), "{asin} {week}");
        for q in &truth {
            let (imp, clicks): (i64, i64) = h
                .conn()
                .query_row(
                    "SELECT impressions_asin, clicks_asin FROM search_query_performance
                     WHERE asin = ?1 AND week_start = ?2 AND search_query = ?3",
                    rusqlite::params![asin, week.to_string(), q.search_query],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(
                (imp as u64, clicks as u64),
                (q.asin_impression_count, q.asin_click_count)
            );
        }
    }

    // Running again adds and changes nothing (fetched_at included: an
    // unchanged row is not rewritten; last_seen_at follows every read).
    let before = dump_all(&h, &["last_seen_at"]);
    let started = Instant::now();
    let again = h.sync(&JOBS).await;
    let again_sqp = h.sync(&[JobName::SearchQueryPerformance]).await;
    figures("second run", &again);
    figures("second run", &again_sqp);
    eprintln!(
        "second run: {:.2}s wall, {} calls",
        started.elapsed().as_secs_f64(),
        again.iter().chain(&again_sqp).map(|r| r.calls).sum::<u64>()
    );
    assert_ok(&again);
    assert_ok(&again_sqp);
    let changed = returns_during(&world, t_start, h.now().await);
    eprintln!(
        "returns that appeared or changed during the runs: {}",
        changed.len()
    );
    for r in again.iter().chain(&again_sqp) {
        let allowed = if r.job == JobName::Returns {
            changed.len() as u64
        } else {
            0
        };
        assert!(
            r.rows <= allowed,
            "{} wrote {} rows on a re-run: {}",
            r.job,
            r.rows,
            r.message
        );
    }
    // SQP is up to date: no report requested at all.
    assert_eq!(again_sqp[0].calls, 0);
    let mut after = dump_all(&h, &["last_seen_at"]);
    let mut before = before;
    for d in [&mut before, &mut after] {
        d.get_mut("returns").unwrap().retain(|row| {
            !changed
                .iter()
                .any(|o| row.contains(&format!("order_id=Text(\"{o}\")")))
        });
    }
    for t in TABLES {
        assert_eq!(before[t], after[t], "{t} changed on a re-run");
    }
    assert_eq!(h.int("SELECT COUNT(*) FROM pending_reports"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realworld_account_health_still_parses() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "realworld".into();
    let h = common::start(opts).await;
    let results = h.sync(&[JobName::AccountHealth]).await;
    assert_ok(&results);
    let now = h.now().await;
    let ah = h.sim.world.account_health(now);
    // Only the configured marketplace, though Amazon lists the region's.
    assert_eq!(h.int("SELECT COUNT(*) FROM account_health_snapshots"), 1);
    let (status, rating, cancel, odr, raw): (String, Option<String>, f64, f64, String) = h
        .conn()
        .query_row(
            "SELECT account_status, health_rating_status, pre_fulfillment_cancel_rate, odr_mfn_rate, raw_json
             FROM account_health_snapshots",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let want = if ah.status == "DEACTIVATED" {
        "SUSPENDED".to_string()
    } else {
        ah.status.clone()
    };
    assert_eq!(status, want);
    // Renamed blocks still read: ahrStatus, prefulfillmentCancelRate.
    assert!(rating.is_some());
    assert!(close(cancel, ah.cancel_rate));
    assert!(odr >= 0.0);
    assert!(raw.contains("prefulfillmentCancelRate"));
}

/// The returns job's requests end at each run's `now`, so they move every
/// run. A report an earlier run left (FATAL, or still in Amazon's queue
/// after `max_report_wait`) is resumed anyway: the cursor ends where the
/// resumed range does, and no report stays behind in `pending_reports`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_resume_the_report_an_earlier_run_left() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "fatal=1".into();
    let mut h = common::start(opts).await;
    let m = flywheel::model::marketplace::lookup("US").unwrap();
    let set_faults = |list: &'static str| {
        let url = format!("{}/_sim/faults", h.sim.base_url());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .query(&[("set", list)])
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    };
    // (report type, end of its range) of every row left, in id order.
    let left = |h: &common::Harness| -> Vec<(String, String, String)> {
        h.conn()
            .prepare(
                "SELECT report_type, status, json_extract(params_json, '$.dataEndTime')
                 FROM pending_reports ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let cursor = |h: &common::Harness| -> (String, String) {
        let c = flywheel::store::jobs::cursor(&h.conn(), "returns", "demo", m.id)
            .unwrap()
            .expect("a returns cursor");
        (
            c["fba_through"].as_str().unwrap().to_string(),
            c["mfn_through"].as_str().unwrap().to_string(),
        )
    };

    // 1. Both reports end FATAL; then, the fault gone and the backoff over,
    // the next run (an hour later: its range would end then) asks for the
    // failed ranges again.
    let r = h.sync(&[JobName::Returns]).await;
    assert_eq!(r[0].status, RunStatus::Failed, "{}", r[0].message);
    let fatal = left(&h);
    assert_eq!(fatal.len(), 2, "{fatal:?}");
    assert!(fatal.iter().all(|(_, s, _)| s == "FATAL"), "{fatal:?}");
    set_faults("").await;
    h.advance("1h").await;
    assert_ok(&h.sync(&[JobName::Returns]).await);
    assert_eq!(left(&h), vec![], "nothing orphaned");
    assert_eq!(cursor(&h), (fatal[0].2.clone(), fatal[1].2.clone()));

    // 2. Reports still in Amazon's queue when the run stops waiting are
    // polled again by the next run, not requested anew.
    h.cfg.sync.max_report_wait = std::time::Duration::from_secs(1);
    let r = h.sync(&[JobName::Returns]).await;
    assert_ok(&r);
    assert!(
        r[0].message.contains("resumed on the next run"),
        "{}",
        r[0].message
    );
    let queued = left(&h);
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(
        queued.iter().all(|(_, s, _)| s != "FATAL" && s != "DONE"),
        "{queued:?}"
    );
    h.cfg.sync.max_report_wait = std::time::Duration::from_secs(6 * 3600);
    h.advance("1h").await;
    assert_ok(&h.sync(&[JobName::Returns]).await);
    assert_eq!(left(&h), vec![], "nothing orphaned");
    assert_eq!(cursor(&h), (queued[0].2.clone(), queued[1].2.clone()));

    // 3. With nothing left over, the range ends at the run's `now` again.
    h.advance("1h").await;
    let now = h.now().await;
    assert_ok(&h.sync(&[JobName::Returns]).await);
    let (fba, _) = cursor(&h);
    let fba = DateTime::parse_from_rfc3339(&fba).unwrap().to_utc();
    assert!(
        fba >= now && fba - now < Duration::minutes(30),
        "{fba} vs {now}"
    );
}

/// Reports of rolling windows the day moved past (sales & traffic rule
/// windows, the 90-day feedback range) are forgotten by the next day's
/// run, which asks for that day's windows: nothing stays behind in
/// `pending_reports` that no run will poll again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_of_windows_the_day_moved_past_are_forgotten() {
    let mut h = common::start(common::Opts::new("demo")).await;
    let jobs = [JobName::SalesTraffic, JobName::SellerFeedback];
    h.cfg.sync.max_report_wait = std::time::Duration::from_secs(1);
    let r = h.sync(&jobs).await;
    assert_ok(&r);
    let yesterday: Vec<String> = h
        .pending_reports()
        .iter()
        .map(|p| p.report_id.clone())
        .collect();
    assert!(
        yesterday.len() > 2,
        "reports left in the queue: {yesterday:?}"
    );
    h.cfg.sync.max_report_wait = std::time::Duration::from_secs(6 * 3600);
    h.advance("24h").await;
    assert_ok(&h.sync(&jobs).await);
    assert_eq!(h.int("SELECT COUNT(*) FROM pending_reports"), 0);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The document the sim serves for `req` (decompressed: its own bytes).
async fn document(h: &common::Harness, job: JobName, req: &ReportRequest) -> Vec<u8> {
    let now = h.now().await;
    let ctx = Ctx {
        cfg: &h.cfg,
        account: &h.cfg.accounts[0],
        client: &h.client,
        db: &h.db,
        now,
        clock: &h.clock,
    };
    match reports::fetch(&ctx, job, req).await.unwrap() {
        ReportOutcome::Document(doc, handle) => {
            reports::finish(&h.conn(), &handle).unwrap();
            doc.stream(|input| {
                let mut out = Vec::new();
                std::io::Read::read_to_end(input, &mut out).unwrap();
                out
            })
        }
        other => panic!("{req:?}: {other:?}"),
    }
}

/// The latest `reportingDateTo` day anywhere in an account health document.
fn latest_reporting_day(doc: &[u8]) -> String {
    fn walk(v: &serde_json::Value, best: &mut String) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    match x.as_str() {
                        Some(s) if k == "reportingDateTo" && s.len() >= 10 => {
                            if s[..10] > *best.as_str() {
                                *best = s[..10].to_string();
                            }
                        }
                        _ => walk(x, best),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, best)),
            _ => {}
        }
    }
    let mut best = String::new();
    walk(&serde_json::from_slice(doc).unwrap(), &mut best);
    best
}

fn import(h: &common::Harness, report_type: &str, file: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(["import", "--config"])
        .arg(&h.config_path)
        .args([
            "--account",
            &h.cfg.accounts[0].name,
            "--report-type",
            report_type,
        ])
        .arg(file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_of_hand_downloaded_files_stores_the_api_rows() {
    let h = quiet_harness(common::Opts::new("demo")).await;
    let t_start = h.now().await;
    assert_ok(
        &h.sync(&[
            JobName::SellerFeedback,
            JobName::Returns,
            JobName::InventoryPlanning,
            JobName::AccountHealth,
        ])
        .await,
    );
    let now = h.now().await;
    let m = flywheel::model::marketplace::lookup(&h.cfg.accounts[0].marketplaces[0]).unwrap();
    let today = h.sim.world.day_of(now);
    let date = |d: NaiveDate| d.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let feedback_req = ReportRequest::new("GET_SELLER_FEEDBACK_DATA", [m.id])
        .range(date(today - Duration::days(90)), date(today));
    let start = h
        .sim
        .world
        .day_start(h.sim.world.day_of(now - Duration::days(60)));
    let returns_req =
        ReportRequest::new("GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", [m.id]).range(start, now);
    let planning_req = ReportRequest::new("GET_FBA_INVENTORY_PLANNING_DATA", [m.id]);
    let health_req = ReportRequest::new("GET_V2_SELLER_PERFORMANCE_REPORT", [m.id]);
    // What each import must reproduce; the times of the import differ.
    let times = [
        "fetched_at",
        "first_seen_at",
        "last_seen_at",
        "response_seen_at",
    ];
    let cases = [
        (
            "seller_feedback",
            JobName::SellerFeedback,
            &feedback_req,
            false,
        ),
        ("returns", JobName::Returns, &returns_req, true),
        (
            "inventory_planning",
            JobName::InventoryPlanning,
            &planning_req,
            true,
        ),
        (
            "account_health_snapshots",
            JobName::AccountHealth,
            &health_req,
            false,
        ),
    ];
    for (table, job, req, gz) in cases {
        // The job dates an account health snapshot by the day it ran, an
        // import by the report's own period: compared apart below.
        let skip: Vec<&str> = if table == "account_health_snapshots" {
            times.iter().copied().chain(["snapshot_date"]).collect()
        } else {
            times.to_vec()
        };
        let times = &skip[..];
        let mut api = dump(&h, table, times);
        if table == "returns" {
            api.retain(|r| r.contains("source=Text(\"fba\")"));
        }
        assert!(!api.is_empty(), "{table}");
        let bytes = document(&h, job, req).await;
        let path = h
            .dir
            .path()
            .join(format!("{table}.txt{}", if gz { ".gz" } else { "" }));
        std::fs::write(&path, if gz { gzip(&bytes) } else { bytes.clone() }).unwrap();
        h.conn()
            .execute(&format!("DELETE FROM {table}"), [])
            .unwrap();
        let out = import(&h, &req.report_type, &path);
        eprintln!("{out}");
        let mut imported = dump(&h, table, times);
        if table == "account_health_snapshots" {
            let day: String = h
                .conn()
                .query_row(
                    "SELECT MAX(snapshot_date) FROM account_health_snapshots",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(day, latest_reporting_day(&bytes), "{out}");
        }
        if table == "returns" {
            imported.retain(|r| r.contains("source=Text(\"fba\")"));
            // A return that appeared since the job ran is in the later file only.
            let changed = returns_during(&h.sim.world, t_start, h.now().await);
            for d in [&mut api, &mut imported] {
                d.retain(|row| {
                    !changed
                        .iter()
                        .any(|o| row.contains(&format!("order_id=Text(\"{o}\")")))
                });
            }
        }
        assert_eq!(api, imported, "{table}: import differs from the API path");
        // Importing the same file again changes nothing.
        let again = import(&h, &req.report_type, &path);
        assert!(again.contains(" 0 new or changed"), "{again}");
    }
}
