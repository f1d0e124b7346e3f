//! The orders job against the simulated marketplace (127.0.0.1 only).
//!
//! The sim's clock runs at 200× wall time, so orders keep arriving while a
//! test runs. Comparisons therefore use the one exact statement the job
//! makes: every order whose last update lies before the cursor's `through`
//! is stored exactly as Amazon (the sim's world) shows it now; orders
//! updated later may be stored in an older state or not yet.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::ApiClient;
use flywheel::store::jobs::RunStatus;
use flywheel::sync::{self, JobName, JobResult, Selection};
use flywheel_sim::world::OrderStatus;
use rusqlite::Connection;

const MKT: &str = "ATVPDKIKX0DER";

fn through(conn: &Connection) -> Option<DateTime<Utc>> {
    let c = flywheel::store::jobs::cursor(conn, "orders", "demo", MKT)
        .unwrap()
        .unwrap_or_default();
    c.get("through")
        .and_then(|v| v.as_str())
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

/// One sync round at a given `now` (the harness's `sync` reads the clock).
async fn sync_at(h: &common::Harness, now: DateTime<Utc>) -> Vec<JobResult> {
    let sel = Selection {
        jobs: vec![JobName::Orders],
        accounts: Vec::new(),
    };
    let r = sync::run_round(
        &h.cfg,
        &h.client,
        &h.db,
        &h.clock,
        now,
        &sel,
        &sync::Progress::default(),
        &|| false,
    )
    .await;
    sync::flush_counters(&h.client, &h.db).unwrap();
    r
}

fn ok(results: &[JobResult]) -> bool {
    results.iter().all(|r| r.status == RunStatus::Ok)
}

/// Every row of both tables, in key order.
fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT * FROM orders ORDER BY account, order_id",
        "SELECT * FROM order_items ORDER BY account, order_id, sku",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut s = Vec::new();
                for i in 0..n {
                    s.push(format!("{:?}", r.get_ref(i)?));
                }
                Ok(s.join("|"))
            })
            .unwrap();
        out.extend(rows.map(|r| r.unwrap()));
    }
    out
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn status_word(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "pending",
        OrderStatus::Unshipped => "unshipped",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Canceled => "canceled",
    }
}

type Stored = (
    String,
    String,
    String,
    Option<f64>,
    Vec<(String, i64, Option<f64>)>,
);

fn stored_orders(conn: &Connection) -> BTreeMap<String, Stored> {
    let mut out = BTreeMap::new();
    let mut stmt = conn
        .prepare(
            "SELECT order_id, status, purchase_day, last_updated_date, order_total FROM orders
             WHERE account = 'demo'",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<f64>>(4)?,
            ))
        })
        .unwrap();
    for r in rows {
        let (id, st, day, upd, total) = r.unwrap();
        out.insert(id, (st, day, upd, total, Vec::new()));
    }
    let mut stmt = conn
        .prepare("SELECT order_id, sku, quantity, item_price FROM order_items WHERE account = 'demo' ORDER BY sku")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<f64>>(3)?,
            ))
        })
        .unwrap();
    for r in rows {
        let (id, sku, q, p) = r.unwrap();
        out.get_mut(&id)
            .expect("item of a stored order")
            .4
            .push((sku, q, p));
    }
    out
}

/// Checks the stored orders against the sim's world (see the file doc);
/// returns how many orders were compared exactly.
async fn check_against_world(h: &common::Harness) -> usize {
    let now = h.now().await;
    let through = through(&h.conn()).expect("a cursor");
    let stored = stored_orders(&h.conn());
    let w = &h.sim.world;
    // The backfill reaches back `orders_history_days` (the cursor's plan start).
    let cursor = flywheel::store::jobs::cursor(&h.conn(), "orders", "demo", MKT)
        .unwrap()
        .unwrap_or_default();
    let from = cursor
        .get("start")
        .and_then(|v| v.as_str())
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
        .unwrap_or_else(|| w.day_start(w.history_start()) - chrono::Duration::days(1));
    let mut compared = 0;
    for o in w.orders_updated(from, through, now) {
        let got = stored.get(&o.amazon_order_id).unwrap_or_else(|| {
            panic!(
                "order {} (updated {}) is missing",
                o.amazon_order_id, o.last_update_date
            )
        });
        let canceled = o.status == OrderStatus::Canceled;
        let total = (!canceled).then(|| {
            round2(
                o.items
                    .iter()
                    .map(|i| {
                        i.item_price + i.item_tax + i.shipping_price + i.shipping_tax
                            - i.promotion_discount
                    })
                    .sum(),
            )
        });
        let items: Vec<(String, i64, Option<f64>)> = o
            .items
            .iter()
            .map(|i| {
                let c = i.item_status == OrderStatus::Canceled;
                (
                    i.sku.clone(),
                    if c { 0 } else { i64::from(i.quantity) },
                    (!c).then_some(i.item_price),
                )
            })
            .collect();
        let want = (
            status_word(o.status).to_string(),
            w.day_of(o.purchase_date).to_string(),
            flywheel::store::ops::ts(o.last_update_date),
            total,
            items,
        );
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() < 0.011,
            (x, y) => x == y,
        };
        assert_eq!(
            (&got.0, &got.1, &got.2),
            (&want.0, &want.1, &want.2),
            "order {}",
            o.amazon_order_id
        );
        assert!(
            close(got.3, want.3),
            "order {} total {:?} vs {:?}",
            o.amazon_order_id,
            got.3,
            want.3
        );
        assert_eq!(
            got.4.len(),
            want.4.len(),
            "order {} items",
            o.amazon_order_id
        );
        for (g, x) in got.4.iter().zip(&want.4) {
            assert_eq!((&g.0, g.1), (&x.0, x.1), "order {}", o.amazon_order_id);
            assert!(close(g.2, x.2), "order {} item price", o.amazon_order_id);
        }
        compared += 1;
    }
    // Anything else stored is a real order updated after `through`.
    let extra = stored.len() - compared;
    for (id, s) in &stored {
        let o = w
            .order(id, now)
            .unwrap_or_else(|| panic!("stored order {id} is not the sim's"));
        if o.last_update_date < through && o.last_update_date >= from {
            continue;
        }
        assert!(s.2 <= flywheel::store::ops::ts(o.last_update_date));
    }
    assert!(
        extra <= stored.len() / 10,
        "{extra} stored orders past the cursor"
    );
    compared
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_orders_match_the_sim_rerun_changes_nothing_and_increments() {
    let h = common::start(common::Opts::new("demo")).await;
    let wall = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(300), h.sync(&[JobName::Orders]))
        .await
        .expect("orders sync finishes");
    assert!(ok(&r), "{r:?}");
    eprintln!(
        "demo orders backfill: {} rows, {} calls, {} throttled, {:.1}s wall",
        r[0].rows,
        r[0].calls,
        r[0].throttled,
        wall.elapsed().as_secs_f64()
    );
    let n = check_against_world(&h).await;
    assert!(n > 1000, "only {n} orders compared");
    assert_eq!(h.int("SELECT COUNT(*) FROM pending_reports"), 0);
    let spot: (String, i64) = h
        .conn()
        .query_row(
            "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY 2 DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(spot.0, "shipped");

    // The same round again changes nothing, not even fetched_at.
    let before = dump(&h.conn());
    let cursor_now = through(&h.conn()).unwrap();
    let r = sync_at(&h, cursor_now).await;
    assert!(ok(&r), "{r:?}");
    assert_eq!(r[0].rows, 0, "{r:?}");
    assert_eq!(dump(&h.conn()), before);

    // A day later the incremental path (searchOrders) picks up new and
    // updated orders, with no duplicate at the cursor boundary.
    let count0 = h.int("SELECT COUNT(*) FROM orders");
    h.advance("1d").await;
    let r = tokio::time::timeout(Duration::from_secs(300), h.sync(&[JobName::Orders]))
        .await
        .unwrap();
    assert!(ok(&r), "{r:?}");
    let searched = h.int(
        "SELECT COALESCE(SUM(calls), 0) FROM api_call_counts WHERE operation = 'searchOrders'",
    );
    assert!(searched >= 1);
    assert!(h.int("SELECT COUNT(*) FROM orders") > count0);
    assert!(h.int("SELECT COUNT(*) FROM orders WHERE source = 'api'") > 0);
    check_against_world(&h).await;
}

/// The columns both paths must agree on.
fn comparable(conn: &Connection, ids: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for id in ids {
        let o: String = conn
            .query_row(
                "SELECT marketplace_id || '|' || purchase_date || '|' || purchase_day || '|' ||
                        last_updated_date || '|' || status || '|' || IFNULL(fulfillment_channel, '') || '|' ||
                        IFNULL(sales_channel, '') || '|' || IFNULL(ship_service_level, '') || '|' ||
                        IFNULL(is_business_order, '') || '|' || IFNULL(currency, '') || '|' ||
                        IFNULL(printf('%.2f', order_total), '')
                 FROM orders WHERE order_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap_or_else(|_| panic!("order {id} missing"));
        let mut stmt = conn
            .prepare(
                "SELECT sku || '|' || IFNULL(asin, '') || '|' || IFNULL(title, '') || '|' || quantity || '|' ||
                        IFNULL(currency, '') || '|' || IFNULL(printf('%.2f', item_price), '') || '|' ||
                        IFNULL(printf('%.2f', item_tax), '') || '|' || IFNULL(printf('%.2f', shipping_price), '') || '|' ||
                        IFNULL(printf('%.2f', promotion_discount), '') || '|' ||
                        IFNULL(printf('%.2f', ship_promotion_discount), '') || '|' || IFNULL(item_status, '')
                 FROM order_items WHERE order_id = ?1 ORDER BY sku",
            )
            .unwrap();
        let items: Vec<String> = stmt
            .query_map([id], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        out.insert(id.clone(), format!("{o} / {}", items.join(" ; ")));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_path_and_search_path_store_the_same_rows() {
    let mut h = common::start(common::Opts::new("demo")).await;
    h.cfg.sync.orders_history_days = 4;
    let r = h.sync(&[JobName::Orders]).await;
    assert!(ok(&r), "{r:?}");
    assert_eq!(h.int("SELECT COUNT(*) FROM orders WHERE source = 'api'"), 0);
    let t_report = through(&h.conn()).unwrap();
    let start = t_report - chrono::Duration::days(4);

    // Same sim, a fresh database whose cursor forces searchOrders over the
    // same range.
    let path2 = h.dir.path().join("second.db");
    let (mut conn2, _) = flywheel::store::open_and_migrate(&path2).unwrap();
    flywheel::store::ops::sync_accounts(&mut conn2, &h.cfg, h.now().await).unwrap();
    {
        let tx = conn2.transaction().unwrap();
        let c = serde_json::json!({"through": flywheel::store::ops::ts(start + chrono::Duration::minutes(15))});
        flywheel::store::jobs::set_cursor(&tx, "orders", "demo", MKT, &c, start).unwrap();
        tx.commit().unwrap();
    }
    let first = std::mem::replace(&mut *h.db.lock().unwrap(), conn2);
    h.cfg.sync.orders_backfill_gap = Duration::from_secs(30 * 86_400);
    let r = tokio::time::timeout(Duration::from_secs(300), h.sync(&[JobName::Orders]))
        .await
        .unwrap();
    assert!(ok(&r), "{r:?}");
    assert_eq!(
        h.int("SELECT COUNT(*) FROM orders WHERE source = 'report'"),
        0
    );
    let t_search = through(&h.conn()).unwrap();

    // Orders whose last update (now) lies in the common range are exact in both.
    let now = h.now().await;
    let ids: Vec<String> = h
        .sim
        .world
        .orders_updated(
            start + chrono::Duration::hours(1),
            t_report.min(t_search),
            now,
        )
        .map(|o| o.amazon_order_id)
        .collect();
    assert!(ids.len() > 50, "only {} orders in the range", ids.len());
    let by_search = comparable(&h.conn(), &ids);
    let by_report = comparable(&first, &ids);
    let diffs: Vec<_> = by_report
        .iter()
        .filter(|(k, v)| by_search.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}\n  report {v}\n  search {}", by_search[k]))
        .take(5)
        .collect();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_the_persisted_reports() {
    let mut opts = common::Opts::new("demo");
    // Slower sim: reports take ~1 s of wall time, so the run can be cut mid-report.
    opts.speed = 40.0;
    let mut h = common::start(opts).await;
    h.cfg.sync.orders_history_days = 100; // 4 chunks
    let cut = tokio::time::timeout(Duration::from_millis(400), h.sync(&[JobName::Orders])).await;
    assert!(
        cut.is_err(),
        "the first run should still be waiting for its reports"
    );
    let pending = h.int("SELECT COUNT(*) FROM pending_reports WHERE status <> 'FATAL'");
    assert!(pending >= 1, "no report persisted");
    let ids_before: Vec<String> = {
        let conn = h.conn();
        let mut stmt = conn
            .prepare("SELECT report_id FROM pending_reports")
            .unwrap();
        let v = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        v
    };
    // A new process: new client (empty limiter, no token cache), same DB and sim.
    let reading = h.clock.read().await.unwrap();
    h.client = ApiClient::new(
        Duration::from_secs(15),
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(1),
        },
    )
    .unwrap();
    h.client.limiter.set_speed(reading.speed);
    let r = tokio::time::timeout(Duration::from_secs(120), h.sync(&[JobName::Orders]))
        .await
        .unwrap();
    assert!(ok(&r), "{r:?}");
    let created = h.int(
        "SELECT COALESCE(SUM(calls), 0) FROM api_call_counts WHERE operation = 'createReport'",
    );
    // 4 chunks up to the first run's now, plus one from there to the second's.
    let chunks = 5;
    assert_eq!(
        created,
        chunks - ids_before.len() as i64,
        "resumed {ids_before:?} and created only the rest"
    );
    assert_eq!(h.int("SELECT COUNT(*) FROM pending_reports"), 0);
    check_against_world(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_converge_to_the_fault_free_data() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "throttle=0.2,5xx=0.2,truncate=0.2,fatal=0.3,empty=0.2".into();
    let mut h = common::start(opts).await;
    h.cfg.sync.orders_history_days = 200; // 7 chunks
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 25, "no convergence after 25 runs");
        let r = tokio::time::timeout(Duration::from_secs(120), h.sync(&[JobName::Orders]))
            .await
            .expect("a run never hangs");
        eprintln!(
            "faults: run {runs}: {r:?}; pending reports {}, cursor through {:?}",
            h.int("SELECT COUNT(*) FROM pending_reports"),
            through(&h.conn())
        );
        let done = ok(&r)
            && h.int("SELECT COUNT(*) FROM pending_reports") == 0
            && through(&h.conn()).is_some();
        if done {
            break;
        }
        // Past any FATAL backoff (sim time).
        h.advance("1h").await;
    }
    eprintln!("faults: converged after {runs} runs");
    check_against_world(&h).await;
    let dups = h.int("SELECT COUNT(*) FROM (SELECT order_id, sku, COUNT(*) c FROM order_items GROUP BY 1, 2 HAVING c > 1)");
    assert_eq!(dups, 0);
}
