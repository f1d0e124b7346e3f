//! The `ads` job against the simulated marketplace: rows equal the sim's
//! own data and its truth, restatement is picked up, re-runs add nothing,
//! 425 duplicates are reused, reports are resumed across a restart, long
//! PENDING is left for the next run, an invalid column is reported clearly,
//! and a fault storm converges to the fault-free data.
//!
//! Reports observe the world at their completion instant, which lies
//! between the sim time before the sync (`t1`) and after it (`t2`): metrics
//! that are final once the day is over (impressions, clicks, cost) must be
//! equal, and maturing conversions must lie between the world's values at
//! `t1` and `t2` (they only grow).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use flywheel::amazon::ads::{self, ReportRequest};
use flywheel::amazon::backoff::RetryPolicy;
use flywheel::amazon::client::ApiClient;
use flywheel::amazon::http::ApiError;
use flywheel::store::ads as store;
use flywheel::store::jobs::RunStatus;
use flywheel::sync::{Ctx, JobName, JobResult};
use flywheel_sim::scenario::AdProduct;

const EPS: f64 = 1e-6;
/// Reports of a first demo run: SP x3 and SB keep 60 days (2 chunks of at
/// most 31 days each), SD 65 (3 chunks).
const REPORTS: usize = 11;

fn ads_result(results: &[JobResult]) -> &JobResult {
    results
        .iter()
        .find(|r| r.job == JobName::Ads)
        .expect("the ads job ran")
}

async fn sync_ok(h: &common::Harness) -> JobResult {
    let results = h.sync(&[JobName::Ads]).await;
    let r = ads_result(&results).clone();
    assert_eq!(r.status, RunStatus::Ok, "ads job: {}", r.message);
    r
}

fn account(h: &common::Harness) -> String {
    h.cfg.accounts[0].name.clone()
}

fn product(p: AdProduct) -> &'static str {
    match p {
        AdProduct::SP => "SP",
        AdProduct::SB => "SB",
        AdProduct::SD => "SD",
    }
}

/// (ad_product, date, campaign_id) → (impressions, clicks, cost, sales7, sales14, purchases14)
type CampaignRows =
    BTreeMap<(String, String, i64), (i64, i64, f64, Option<f64>, Option<f64>, Option<i64>)>;

fn campaign_rows(h: &common::Harness) -> CampaignRows {
    let conn = h.conn();
    let mut stmt = conn
        .prepare(
            "SELECT ad_product, date, campaign_id, impressions, clicks, cost, sales_7d, sales_14d, purchases_14d
             FROM ads_campaign_daily",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?),
                (
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ),
            ))
        })
        .unwrap()
        .collect::<Result<BTreeMap<_, _>, _>>()
        .unwrap();
    rows
}

/// Every stored campaign day equals the world's: final metrics exactly,
/// maturing conversions between the world at `t1` and at `t2`; and every
/// active world day in the synced range is stored.
fn check_campaign_days(h: &common::Harness, t1: DateTime<Utc>, t2: DateTime<Utc>) {
    let world = &h.sim.world;
    let today = world.day_of(t1);
    let yesterday = today - chrono::Duration::days(1);
    let stored = campaign_rows(h);
    assert!(!stored.is_empty());
    let mut expected_keys = BTreeSet::new();
    for c in world.campaigns() {
        let floor = today - chrono::Duration::days(if c.kind == AdProduct::SD { 64 } else { 59 });
        let early: BTreeMap<NaiveDate, _> = world
            .campaign_days(c.id, floor, yesterday, t1)
            .into_iter()
            .map(|d| (d.date, d))
            .collect();
        for late in world.campaign_days(c.id, floor, yesterday, t2) {
            let key = (product(c.kind).to_string(), late.date.to_string(), c.id);
            let active = late.impressions > 0 || late.clicks > 0 || late.units_sold_clicks14d > 0;
            if active {
                expected_keys.insert(key.clone());
            }
            let Some(row) = stored.get(&key) else {
                assert!(!active, "missing {key:?}");
                continue;
            };
            let early = &early[&late.date];
            let (imp, clicks, cost, s7, s14, p14) = *row;
            assert_eq!(
                (imp, clicks),
                (late.impressions as i64, late.clicks as i64),
                "{key:?}"
            );
            assert!(
                (cost - late.cost).abs() < 0.005,
                "{key:?} cost {cost} vs {}",
                late.cost
            );
            let s14 = s14.unwrap();
            assert!(
                s14 >= early.sales14d - EPS && s14 <= late.sales14d + EPS,
                "{key:?} sales14 {s14} not in [{}, {}]",
                early.sales14d,
                late.sales14d
            );
            let p14 = p14.unwrap() as u64;
            assert!(
                p14 >= early.purchases14d && p14 <= late.purchases14d,
                "{key:?}"
            );
            if c.kind == AdProduct::SP {
                let s7 = s7.unwrap();
                assert!(
                    s7 >= early.sales7d - EPS && s7 <= late.sales7d + EPS,
                    "{key:?}"
                );
            } else {
                assert_eq!(s7, None, "SB/SD have no 7-day columns");
            }
        }
    }
    let stored_keys: BTreeSet<_> = stored.keys().cloned().collect();
    assert_eq!(stored_keys, expected_keys, "exactly the active days");
}

/// Per-campaign spend, clicks, attributed sales and ACoS over the matured
/// 14-day window, from the store's sums, against the sim's truth.
fn check_matured_acos(h: &common::Harness, t1: DateTime<Utc>, t2: DateTime<Utc>) {
    let world = &h.sim.world;
    let today = world.day_of(t1);
    let attr = world.scenario().attribution_days;
    let a_end = today - chrono::Duration::days(attr as i64 + 1);
    let a_start = a_end - chrono::Duration::days(13);
    let conn = h.conn();
    let totals = store::campaign_totals(&conn, &account(h), a_start, a_end, attr).unwrap();
    let truth = flywheel_sim::truth::truth(world, today);
    let mut checked = 0;
    for c in world.campaigns() {
        let sum = |t| {
            let rows = world.campaign_days(c.id, a_start, a_end, t);
            let cost: f64 = rows.iter().map(|r| r.cost).sum();
            let clicks: u64 = rows.iter().map(|r| r.clicks).sum();
            let sales: f64 = rows.iter().map(|r| r.attributed_sales(attr)).sum();
            (cost, clicks, sales)
        };
        let (cost1, clicks1, sales1) = sum(t1);
        let (_, _, sales2) = sum(t2);
        let mine = totals
            .iter()
            .find(|t| t.campaign_id == c.id)
            .unwrap_or_else(|| panic!("campaign {} has no totals", c.id));
        assert_eq!(mine.ad_product, product(c.kind));
        assert!(
            (mine.totals.cost - cost1).abs() < 0.01,
            "{}: spend {} vs {cost1}",
            c.id,
            mine.totals.cost
        );
        assert_eq!(mine.totals.clicks as u64, clicks1, "{}: clicks", c.id);
        let sales = mine.totals.sales.unwrap();
        assert!(
            sales >= sales1 - 0.01 && sales <= sales2 + 0.01,
            "{}: sales {sales} not in [{sales1}, {sales2}]",
            c.id
        );
        let want = truth
            .kpis
            .iter()
            .find(|k| k.kpi == "acos" && k.campaign_id.as_deref() == Some(&c.id.to_string()))
            .and_then(|k| k.value)
            .expect("truth has the campaign's ACoS");
        let got = mine.totals.acos().unwrap();
        // The ACoS of the stored sums lies between the world's ACoS when the
        // reports were made (t1..t2: sales only grow, so ACoS only falls).
        let acos_at = |sales: f64| cost1 / sales * 100.0;
        assert!(
            got <= acos_at(sales1) + 1e-9 && got >= acos_at(sales2) - 1e-9,
            "{}: ACoS {got} outside [{}, {}]",
            c.id,
            acos_at(sales2),
            acos_at(sales1)
        );
        // Truth reads the world at the start of the day. Where the window's
        // conversions were final by then (SP 7-day, unless a DST change made
        // the last day an hour short of 7 days old) the ACoS is exact; else
        // the store read later and can only be lower, by the hours since.
        let (_, _, sales0) = sum(world.day_start(today));
        if (sales0 - sales2).abs() < 0.005 {
            assert!(
                (got - want).abs() < 1e-3,
                "{}: ACoS {got} vs truth {want}",
                c.id
            );
        } else {
            assert!(
                got <= want + 1e-3 && got > want * 0.98,
                "{}: ACoS {got} vs truth {want}",
                c.id
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "every demo campaign checked");
}

fn count(h: &common::Harness, table: &str) -> i64 {
    h.int(&format!("SELECT COUNT(*) FROM {table}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ads_sync_matches_truth_restates_and_reruns_idempotently() {
    let h = common::start(common::Opts::new("demo")).await;
    let t1 = h.now().await;
    let wall = std::time::Instant::now();
    let r = sync_ok(&h).await;
    let t2 = h.now().await;
    eprintln!(
        "demo ads sync: {} rows, {} calls, {} throttled, {:.1}s wall: {}",
        r.rows,
        r.calls,
        r.throttled,
        wall.elapsed().as_secs_f64(),
        r.message
    );
    assert_eq!(count(&h, "pending_reports"), 0);
    // Profile stored with zone and currency; campaigns named from the list.
    let p = h.sim.world.profile();
    let (tz, cur): (String, String) = h
        .conn()
        .query_row(
            "SELECT timezone, currency FROM ads_profiles WHERE profile_id = ?1",
            [p.profile_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((tz, cur), (p.timezone.clone(), p.currency_code.clone()));
    let named = h.int("SELECT COUNT(*) FROM ads_campaigns WHERE ad_product = 'SP' AND name IS NOT NULL AND state IS NOT NULL AND targeting_type IS NOT NULL AND daily_budget > 0");
    let sp = h
        .sim
        .world
        .campaigns()
        .iter()
        .filter(|c| c.kind == AdProduct::SP)
        .count();
    assert_eq!(named as usize, sp);
    assert_eq!(h.int("SELECT COUNT(*) FROM ads_campaigns WHERE ad_product IN ('SB', 'SD') AND name IS NOT NULL"), 3);
    assert!(count(&h, "ads_search_term_daily") > 0);
    assert!(count(&h, "ads_advertised_product_daily") > 0);
    check_campaign_days(&h, t1, t2);
    check_matured_acos(&h, t1, t2);

    // Search-term and advertised-product rows: the world's keys, final cost.
    let today = h.sim.world.day_of(t1);
    let (floor, yesterday) = (
        today - chrono::Duration::days(59),
        today - chrono::Duration::days(1),
    );
    let terms = h.sim.world.search_term_days(floor, yesterday, t2);
    assert_eq!(count(&h, "ads_search_term_daily") as usize, terms.len());
    let cost: f64 = terms.iter().map(|t| t.cost).sum();
    let stored: f64 = h
        .conn()
        .query_row("SELECT SUM(cost) FROM ads_search_term_daily", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!((cost - stored).abs() < 0.05, "{cost} vs {stored}");
    let products = h.sim.world.advertised_product_days(floor, yesterday, t2);
    assert_eq!(
        count(&h, "ads_advertised_product_daily") as usize,
        products.len()
    );

    // Re-running adds nothing.
    let before = (
        count(&h, "ads_campaign_daily"),
        count(&h, "ads_search_term_daily"),
        count(&h, "ads_advertised_product_daily"),
        count(&h, "ads_campaigns"),
    );
    sync_ok(&h).await;
    let after = (
        count(&h, "ads_campaign_daily"),
        count(&h, "ads_search_term_daily"),
        count(&h, "ads_advertised_product_daily"),
        count(&h, "ads_campaigns"),
    );
    assert_eq!(before, after);
    assert_eq!(count(&h, "pending_reports"), 0);

    // Ten days later conversions have been restated: the next run
    // overwrites the re-pulled days and matches the new truth.
    let old = campaign_rows(&h);
    h.advance("10d").await;
    let t1 = h.now().await;
    sync_ok(&h).await;
    let t2 = h.now().await;
    let new = campaign_rows(&h);
    let restated = old
        .iter()
        .filter(|(k, v)| new.get(*k).is_some_and(|n| n.4 != v.4))
        .count();
    assert!(restated > 0, "some re-pulled days changed");
    check_matured_acos(&h, t1, t2);
    // Days of the re-pull window equal the world now.
    let today = h.sim.world.day_of(t1);
    let repull_start = (today - chrono::Duration::days(45)).to_string();
    for c in h.sim.world.campaigns() {
        let days = h.sim.world.campaign_days(
            c.id,
            today - chrono::Duration::days(45),
            today - chrono::Duration::days(1),
            t2,
        );
        for d in days.iter().filter(|d| d.clicks > 0) {
            let key = (product(c.kind).to_string(), d.date.to_string(), c.id);
            let row = new.get(&key).unwrap_or_else(|| panic!("missing {key:?}"));
            assert!(row.4.unwrap() <= d.sales14d + EPS && key.1 >= repull_start);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_425_names_the_report_that_is_reused() {
    let mut o = common::Opts::new("demo");
    o.faults = "ads_425=1".into();
    let h = common::start(o).await;
    let t1 = h.now().await;
    sync_ok(&h).await;
    let t2 = h.now().await;
    // Every create answered 425 naming the report it had accepted: each was
    // reused, none asked for twice.
    let at_sim = h.sim.state.ads.lock().reports.by_id.len();
    // SP and SB keep 60 days (2 chunks each), SD 65 (3 chunks): 11.
    assert_eq!(at_sim, REPORTS, "no duplicates");
    let creates = h.int(
        "SELECT COALESCE(SUM(calls - throttled), 0) FROM api_call_counts WHERE operation = 'createAsyncReport'",
    );
    assert_eq!(creates, REPORTS as i64);
    assert_eq!(count(&h, "pending_reports"), 0);
    check_campaign_days(&h, t1, t2);
}

fn new_client() -> ApiClient {
    let c = ApiClient::new(
        Duration::from_secs(15),
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(1),
        },
    )
    .unwrap();
    c.limiter.set_speed(200.0);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_poll_resumes_the_reports_without_asking_again() {
    let mut o = common::Opts::new("demo");
    o.faults = "ads_pending=1".into();
    let mut h = common::start(o).await;
    // Stop the job once every report is requested (they stay PENDING).
    let stopped = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::select! {
            _ = h.sync(&[JobName::Ads]) => panic!("the job should still be polling"),
            _ = async {
                while h.int("SELECT COUNT(*) FROM pending_reports WHERE api = 'ads'") < REPORTS as i64 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            } => {}
        }
    })
    .await;
    assert!(stopped.is_ok(), "all reports were requested");
    assert_eq!(h.sim.state.ads.lock().reports.by_id.len(), REPORTS);
    // A new process: new client, same database. Amazon finishes meanwhile.
    h.client = new_client();
    h.advance("4h").await;
    let t1 = h.now().await;
    let r = sync_ok(&h).await;
    let t2 = h.now().await;
    assert!(r.message.contains("11 resumed"), "{}", r.message);
    assert_eq!(
        h.sim.state.ads.lock().reports.by_id.len(),
        REPORTS,
        "no new report asked for"
    );
    let creates = h.int(
        "SELECT COALESCE(SUM(calls - throttled), 0) FROM api_call_counts WHERE operation = 'createAsyncReport'",
    );
    assert_eq!(creates, 0);
    assert_eq!(count(&h, "pending_reports"), 0);
    check_campaign_days(&h, t1 - chrono::Duration::hours(4), t2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_pending_is_left_for_the_next_run() {
    let mut o = common::Opts::new("demo");
    o.faults = "ads_pending=1".into();
    let mut h = common::start(o).await;
    h.cfg.sync.max_report_wait = Duration::from_secs(600);
    let r = sync_ok(&h).await;
    assert!(
        r.message.contains("11 report(s) still pending"),
        "{}",
        r.message
    );
    assert_eq!(count(&h, "pending_reports"), REPORTS as i64);
    assert_eq!(count(&h, "ads_campaign_daily"), 0);
    h.advance("4h").await;
    let r = sync_ok(&h).await;
    assert!(
        r.message
            .contains("11 report(s) written (0 requested, 11 resumed)"),
        "{}",
        r.message
    );
    assert_eq!(count(&h, "pending_reports"), 0);
    assert!(count(&h, "ads_campaign_daily") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_column_is_refused_with_amazons_reason() {
    let h = common::start(common::Opts::new("demo")).await;
    let ctx = Ctx {
        cfg: &h.cfg,
        account: &h.cfg.accounts[0],
        client: &h.client,
        db: &h.db,
        now: h.now().await,
        clock: &h.clock,
    };
    let ep = ctx.ads().unwrap();
    let today = h.sim.world.day_of(ctx.now);
    let req = ReportRequest {
        start: today - chrono::Duration::days(7),
        end: today - chrono::Duration::days(1),
        ad_product: "SPONSORED_PRODUCTS".into(),
        report_type: "spCampaigns".into(),
        group_by: vec!["campaign".into()],
        columns: vec!["date".into(), "campaignId".into(), "acosClicks14d".into()],
    };
    let err = ads::create_report(&h.client, &ep, h.sim.world.profile().profile_id, &req)
        .await
        .unwrap_err();
    match &err {
        ApiError::Permanent {
            status: 400,
            message,
            ..
        } => {
            assert!(
                message.contains("columns includes invalid values: (acosClicks14d)"),
                "{message}"
            );
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with("createAsyncReport: Amazon refused the request (400"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_storm_converges_to_the_fault_free_data() {
    let mut o = common::Opts::new("demo");
    o.faults = "throttle=0.2,5xx=0.2,ads_401=0.3,ads_425=0.3".into();
    let h = common::start(o).await;
    let t1 = h.now().await;
    let mut runs = Vec::new();
    for _ in 0..8 {
        let results = h.sync(&[JobName::Ads]).await;
        let r = ads_result(&results).clone();
        let done = r.status == RunStatus::Ok && count(&h, "pending_reports") == 0;
        runs.push(format!(
            "{} ({} calls, {} throttled): {}",
            r.status.as_str(),
            r.calls,
            r.throttled,
            r.message
        ));
        if done {
            break;
        }
    }
    eprintln!("fault storm runs:\n{}", runs.join("\n"));
    let t2 = h.now().await;
    assert!(
        runs.last().unwrap().starts_with("ok"),
        "never converged:\n{}",
        runs.join("\n")
    );
    check_campaign_days(&h, t1, t2);
    let today = h.sim.world.day_of(t1);
    let terms = h.sim.world.search_term_days(
        today - chrono::Duration::days(59),
        today - chrono::Duration::days(1),
        t2,
    );
    assert_eq!(count(&h, "ads_search_term_daily") as usize, terms.len());
}
