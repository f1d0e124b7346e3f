//! Issue 6's acceptance end to end: a simulated marketplace synced the way a
//! daemon would, then the KPIs and the findings of the real binary against
//! the sim's truth, from the one synced database.
//!
//! The world is generated for day 0 = the evaluation date (as `flywheel sim
//! truth --at DATE` generates it, so the scenario's breaks are where the
//! truth says) and its clock starts 14 days earlier, just after the
//! marketplace's midnight. flywheel syncs once per simulated day at that
//! time of day (so snapshot data such as BSR and stock has its daily
//! history), each day until no report is left pending, through the
//! evaluation day itself. Then:
//!
//! - `flywheel kpis --at DATE --format json` for every `--by` level together
//!   holds every record of `flywheel sim truth --at DATE` with the same value
//!   (counts exactly, ratios within 0.5% relative, null where truth says
//!   null), and the `kpi_*` views read with a connection of their own agree;
//! - the warning and critical findings of `flywheel check --at DATE --format
//!   json` are exactly the truth's expected findings: precision and recall
//!   are printed and must both be 100%;
//! - `check` recorded the evaluation date for the views, as `kpis` does.
//!
//! Then each firing finding is checked against its chart and its KPI, which
//! only the library can draw. The comparisons with the truth live in
//! `common/truth_check.rs`, shared with tests/e2e_binary.rs, which runs the
//! same check through the binary alone.
//!
//! `demo` runs in plain `cargo test`; the random seeds are `#[ignore]`d
//! (about five minutes each, each in a process of its own) and run on
//! demand; `.ci/run`'s e2e-random stage runs seed 42 through the binary
//! (tests/e2e_binary.rs) instead.

mod common;

#[path = "common/truth_check.rs"]
mod truth_check;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use common::{day_start, start, Harness, Opts};
use flywheel::sync::JobName;
use serde_json::Value;
use truth_check::{is_alert, subject_label, Record};

/// The evaluation date: a winter date, so the 14 synced days before it do
/// not cross a DST change.
fn eval_date() -> NaiveDate {
    "2026-03-02".parse().unwrap()
}

/// Syncs run this long after the marketplace's midnight.
fn sync_offset() -> Duration {
    Duration::minutes(5)
}

fn scenario_path(scenario: &str) -> std::path::PathBuf {
    common::repo()
        .join("scenarios")
        .join(format!("{scenario}.toml"))
}

/// One daily sync per account and process. flywheel's `createReport`
/// budget (`amazon::reports::ReportBudget`) lives in process memory per
/// account name, on the clock followed: a second sim timeline for the same
/// account in this process starts before the creations the first one
/// recorded, finds the budget spent and defers most report jobs, silently.
/// Hence the random seeds (one account) run in processes of their own
/// ([`e2e_in_own_process`]); this refuses anything else loudly.
fn claim_account(account: &str) {
    static USED: std::sync::Mutex<BTreeSet<String>> = std::sync::Mutex::new(BTreeSet::new());
    assert!(
        USED.lock().unwrap().insert(account.to_string()),
        "account {account} was already synced from another sim timeline in this process: its \
         report budget is spent there; run each e2e of an account in its own process"
    );
}

/// Names the one e2e run (`SCENARIO/SEED`) of a child process.
const CHILD: &str = "FLYWHEEL_E2E_CHILD";

/// Runs the e2e of `scenario`/`seed` in a process of its own (see
/// [`claim_account`]): this test binary again, filtered to `test`, whose
/// output is printed here. In that child, runs it; in a child for another
/// run, does nothing.
async fn e2e_in_own_process(test: &str, scenario: &str, seed: u64) {
    let run = format!("{scenario}/{seed}");
    match std::env::var(CHILD) {
        Ok(v) if v == run => return e2e(scenario, seed).await,
        Ok(_) => return,
        Err(_) => {}
    }
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--ignored", "--nocapture"])
        .env(CHILD, &run)
        .output()
        .await
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{run} in its own process ({test}): {}",
        out.status
    );
}

/// The sim started 14 days before `at`, synced as a daemon through `at`.
async fn synced(scenario: &str, seed: u64, at: NaiveDate) -> Harness {
    let sc = flywheel_sim::scenario::Scenario::from_path(&scenario_path(scenario))
        .expect("scenario file");
    claim_account(&sc.seller.account);
    // A seller in several marketplaces syncs by its first one's days
    // (eu.toml lists the UK, the latest of its zones, first).
    let first_market = sc.markets().remove(0);
    let tz: chrono_tz::Tz = first_market.seller.timezone.parse().unwrap();
    let first = at - Duration::days(14);
    let mut opts = Opts::new(scenario);
    opts.seed = seed;
    opts.now = day_start(&tz, first) + sync_offset();
    opts.day0 = Some(at);
    if let Ok(v) = std::env::var("E2E_SPEED") {
        opts.speed = v.parse().expect("E2E_SPEED: sim seconds per wall second");
    }
    let h = start(opts).await;
    assert_eq!(h.sim.world.day0(), at);
    h.sync_daily(&tz, first, at, sync_offset(), &format!("{scenario}/{seed}"))
        .await;
    // A daemon pulls orders every 15 minutes (DESIGN §3). searchOrders
    // filters on the order's *current* last update, so orders purchased late
    // on the day before whose pending period ended while the (sim-slow) round
    // paged are only seen by the next orders run; without it, the last day's
    // units run short of what Amazon serves.
    h.sync_settled(&[JobName::Orders]).await;
    h
}

// ---------------------------------------------------------------------------
// KPIs: a difference explained

/// For a days_of_supply difference, prints both sides' components.
fn explain_days_of_supply(h: &Harness, problems: &[String], at: NaiveDate) {
    let tz: chrono_tz::Tz = h.sim.world.scenario().seller.timezone.parse().unwrap();
    let start = day_start(&tz, at);
    let conn = h.conn();
    for sku in h.sim.world.products().iter().map(|p| p.sku.clone()) {
        if !problems
            .iter()
            .any(|p| p.starts_with("days_of_supply") && p.contains(&format!("\"{sku}\"")))
        {
            continue;
        }
        let ours: (i64, i64, i64, String) = conn
            .query_row(
                "SELECT available, inbound, units_14d, observed_at FROM kpi_days_of_supply WHERE sku = ?1",
                [&sku],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        let inv = h.sim.world.inventory(&sku, start).unwrap();
        let days =
            h.sim
                .world
                .asin_days(&sku, at - Duration::days(14), at - Duration::days(1), start);
        let units: u32 = days.iter().map(|d| d.units_ordered).sum();
        println!(
            "  {sku}: flywheel available {} inbound {} units14 {} (observed {}); truth available {} inbound {} units14 {units}",
            ours.0, ours.1, ours.2, ours.3, inv.available(), inv.inbound()
        );
        for d in days {
            let day = d.date.to_string();
            let (all, kept): (i64, i64) = conn
                .query_row(
                    "SELECT COALESCE(SUM(i.quantity), 0),
                            COALESCE(SUM(CASE WHEN o.status <> 'canceled' THEN i.quantity END), 0)
                     FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
                     WHERE o.purchase_day = ?1 AND i.sku = ?2",
                    [&day, &sku],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            let statuses: Option<String> = conn
                .query_row(
                    "SELECT group_concat(status || ':' || n) FROM (SELECT o.status, COUNT(*) n
                     FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
                     WHERE o.purchase_day = ?1 AND i.sku = ?2 GROUP BY o.status)",
                    [&day, &sku],
                    |r| r.get(0),
                )
                .unwrap();
            if kept != d.units_ordered as i64 {
                println!(
                    "    {day}: orders {all} (not canceled {kept}; {}), truth {} units, {} items",
                    statuses.unwrap_or_default(),
                    d.units_ordered,
                    d.total_order_items
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// One definition per metric: a finding, its chart and the KPI checklist agree.

/// Where a rule's finding states the level its chart plots: the value
/// itself, or (rules that judge a change) an evidence number.
enum Stated {
    Value,
    Evidence(&'static str),
    /// keyword_share: the impression or the click share, whichever fell more.
    QueryShare,
}

/// The day the chart's last point must fall on.
enum LastDay {
    /// The finding's window end.
    WindowEnd,
    /// The evaluation date itself (point-in-time rules).
    At,
    /// The date named by an evidence field.
    Dated(&'static str),
    /// Monthly points: not checked.
    Any,
}

/// Every rule with a chart: where its finding states the charted level, the
/// day the chart ends on, and for rules judging a change, the days between
/// the two levels compared (the change is checked against the chart too).
fn charted(rule: &str) -> Option<(Stated, LastDay, Option<i64>)> {
    use LastDay::*;
    use Stated::*;
    Some(match rule {
        "conversion_rate" | "buy_box" | "growth_stall" | "feedback_rate" | "return_rate"
        | "margin_floor" | "acos_band" | "tacos" | "ad_reliance" | "wasted_spend" => {
            (Value, WindowEnd, None)
        }
        "traffic_trend" => (Evidence("sessions"), WindowEnd, Some(7)),
        "bsr_trend" => (Evidence("median_rank"), WindowEnd, Some(7)),
        "cpc_trend" => (Evidence("cpc"), WindowEnd, Some(14)),
        "keyword_share" => (QueryShare, WindowEnd, Some(7)),
        "review_topics" => (Evidence("share_pct"), Any, None),
        "rating_floor" => (Value, Dated("rating_date"), None),
        "feedback_response_sla" | "stockout_risk" => (Value, At, None),
        "inventory_turnover" => (Value, Dated("snapshot_date"), None),
        _ => return None,
    })
}

/// The KPI of DESIGN §2.3 that measures a rule's level, with its window in
/// days (`None`: a count as of the date).
fn kpi_of_rule(rule: &str) -> Option<(&'static str, Option<i64>)> {
    Some(match rule {
        "conversion_rate" => ("conversion_rate", Some(14)),
        "traffic_trend" => ("sessions", Some(7)),
        "buy_box" => ("buy_box_pct", Some(7)),
        "bsr_trend" => ("bsr", Some(7)),
        "acos_band" => ("acos", Some(14)),
        "tacos" => ("tacos", Some(14)),
        "return_rate" => ("return_rate", Some(30)),
        "feedback_rate" => ("negative_feedback_rate", Some(30)),
        "feedback_response_sla" => ("feedback_sla_breaches", None),
        "stockout_risk" => ("days_of_supply", None),
        _ => return None,
    })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 + 1e-6 * b.abs()
}

/// The acceptance check of "one definition per metric": for every firing
/// finding of a rule with a chart, the level the finding states is the last
/// point of its chart (on the day the rule judged), a change the rule judged
/// is the change between the chart's points, and the KPI checklist's record
/// for the same subject and window holds the same level. Returns the
/// problems, among them every charted rule the truth plants (`planted`:
/// in the demo scenario, every rule) that has no finding to check.
fn findings_charts_and_kpis_agree(
    h: &Harness,
    at: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
    findings: &[Value],
    kpis: &[Record],
    planted: &BTreeSet<String>,
) -> Vec<String> {
    let conn = rusqlite::Connection::open(h.database()).unwrap();
    let mut problems = Vec::new();
    let mut checked: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for f in findings.iter().filter(|f| is_alert(f)) {
        let rule = f["rule"].as_str().unwrap();
        let Some((level, last_day, change_days)) = charted(rule) else {
            continue;
        };
        let who = format!("{rule} {}", subject_label(f));
        let item = flywheel::alert::Item::from_finding_json(
            f,
            flywheel::alert::ItemKind::Firing,
            "0000000000000000",
            now,
        )
        .unwrap();
        let Some(series) =
            flywheel::alert::series::for_item(&conn, &h.cfg, &item, at, now, 60).unwrap()
        else {
            problems.push(format!("{who}: no chart"));
            continue;
        };
        let ev = |k: &str| item.evidence.iter().find(|(n, _)| n == k).map(|(_, v)| v);
        let num = |k: &str| ev(k).and_then(|v| v.as_f64());
        let want = match level {
            Stated::Value => item.value,
            Stated::Evidence(k) => num(k),
            Stated::QueryShare => {
                let clicks = num("click_share_drop_pct").unwrap_or(f64::MIN)
                    > num("impression_share_drop_pct").unwrap_or(f64::MIN);
                num(if clicks {
                    "click_share"
                } else {
                    "impression_share"
                })
                .map(|x| x * 100.0)
            }
        };
        let want_day = match last_day {
            LastDay::WindowEnd => item.window.map(|w| w.1),
            LastDay::At => Some(at),
            LastDay::Dated(k) => ev(k).and_then(|v| v.as_str()).and_then(|s| s.parse().ok()),
            LastDay::Any => None,
        };
        let entry = checked.entry(rule.to_string()).or_default();
        entry.0 += 1;
        // The point of the day the finding judged (no known point after
        // it), or for monthly points the last known one.
        let known_after = |d: NaiveDate| {
            series
                .points
                .iter()
                .any(|p| p.0 > d && p.1.is_some_and(f64::is_finite))
        };
        let point = match want_day {
            Some(d) => {
                if known_after(d) {
                    problems.push(format!(
                        "{who}: the chart has points after {d}, the day judged"
                    ));
                }
                series.points.iter().find(|p| p.0 == d).copied()
            }
            None => series
                .points
                .iter()
                .rev()
                .find(|p| p.1.is_some_and(f64::is_finite))
                .copied(),
        };
        match (point, want) {
            (Some((day, Some(v))), Some(w)) => {
                if !close(v, w) {
                    problems.push(format!(
                        "{who}: the finding says {w}, its chart says {v} on {day} ({})",
                        series.label
                    ));
                }
                if let (Some(n), Some(value)) = (change_days, item.value) {
                    let before = series
                        .points
                        .iter()
                        .find(|p| p.0 == day - Duration::days(n))
                        .and_then(|p| p.1);
                    // A drop (traffic, keyword share) is the negative change;
                    // BSR and CPC judge a rise.
                    let sign = if matches!(rule, "traffic_trend" | "keyword_share") {
                        -1.0
                    } else {
                        1.0
                    };
                    match before {
                        Some(b) if b > 0.0 && close(sign * (v - b) / b * 100.0, value) => {}
                        _ => problems.push(format!(
                            "{who}: the finding's change {value} is not the chart's {before:?} → {v}"
                        )),
                    }
                }
            }
            (Some((_, None)), None) => {}
            (point, want) => problems.push(format!(
                "{who}: the finding says {want:?} on {want_day:?}, its chart says {point:?} ({})",
                series.label
            )),
        }
        // The KPI for the same subject and window.
        let Some((kpi, days)) = kpi_of_rule(rule) else {
            continue;
        };
        let window = item.window.map(|(s, e)| (e - s).num_days() + 1);
        if days.is_some() && window != days {
            continue;
        }
        let k = kpis.iter().find(|k| {
            k.kpi == kpi
                && Some(k.marketplace.as_str()) == item.key("marketplace")
                && k.asin.as_deref() == item.key("asin")
                && k.sku.as_deref() == item.key("sku")
                && k.campaign_id.as_deref() == item.key("campaign_id")
        });
        entry.1 += 1;
        match (k.and_then(|k| k.value), want) {
            (Some(a), Some(b)) if close(a, b) => {}
            (None, None) if k.is_some() => {}
            (got, _) => problems.push(format!(
                "{who}: the finding says {want:?}, the KPI {kpi} says {got:?}{}",
                if k.is_none() { " (no record)" } else { "" }
            )),
        }
        let ch = k.and_then(|k| k.change_pct);
        let want_ch = match rule {
            "traffic_trend" => item.value.map(|v| -v),
            "bsr_trend" => item.value,
            _ => None,
        };
        if let Some(w) = want_ch {
            if !ch.is_some_and(|c| close(c, w)) {
                problems.push(format!(
                    "{who}: the finding's change is {w}, the KPI {kpi} says {ch:?}"
                ));
            }
        }
    }
    // Every rule but these four has a chart (`rules::series`).
    let no_chart = [
        "account_health",
        "listing_health",
        "data_freshness",
        "credentials",
    ];
    let all = flywheel::config::RuleId::ALL
        .iter()
        .map(|r| r.as_str())
        .filter(|r| !no_chart.contains(r));
    for rule in all {
        assert!(
            charted(rule).is_some(),
            "{rule}: where does its finding state its level?"
        );
        if !planted.contains(rule) {
            continue;
        }
        match checked.get(rule) {
            None => problems.push(format!("{rule}: no finding to check its chart against")),
            Some((_, 0)) if kpi_of_rule(rule).is_some() => {
                problems.push(format!("{rule}: no finding to check its KPI against"))
            }
            _ => {}
        }
    }
    println!("findings checked against their charts and KPIs: {checked:?}");
    problems
}

// ---------------------------------------------------------------------------

/// Syncs `scenario` with `seed` once, then checks the findings and the KPIs
/// (`truth_check`), and each finding against its chart and KPI.
async fn e2e(scenario: &str, seed: u64) {
    let wall = std::time::Instant::now();
    let at = eval_date();
    let label = format!("{scenario} seed {seed} at {at}");
    let h = synced(scenario, seed, at).await;
    let synced_in = wall.elapsed();

    // Findings first, right after the sync as a daemon's evaluation round
    // runs: the sim clock keeps going (over 3 sim min per wall second at the
    // default speed), and `data_freshness` judges the last syncs by it.
    // The charts below are drawn as of (about) the instant `check` ran.
    let checked_at = h.now().await;
    let scenario_file = scenario_path(scenario);
    let world = truth_check::World {
        scenario_file: &scenario_file,
        seed,
        day0: h.sim.world.day0(),
    };
    let c =
        truth_check::check_against_truth(&label, &h.config_path, h.database(), &world, at).await;
    explain_days_of_supply(&h, &c.kpi_problems, at);
    // The demo plants a break of every rule, so there every charted rule
    // has a finding to check; a random world plants what its seed drew.
    if scenario == "demo" || scenario == "jp" {
        let unplanted: Vec<&str> = flywheel::config::RuleId::ALL
            .iter()
            .map(|r| r.as_str())
            .filter(|r| !c.planted.contains(*r))
            .collect();
        assert_eq!(
            unplanted,
            ["data_freshness", "credentials"],
            "the demo plants a break of every rule but the two about flywheel itself"
        );
    }
    let metric_problems =
        findings_charts_and_kpis_agree(&h, at, checked_at, c.findings(), &c.ours, &c.planted);
    for p in &metric_problems {
        println!("  {p}");
    }

    println!(
        "{label}: synced in {:.0}s, done in {:.0}s",
        synced_in.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    c.assert_clean(
        h.sim.world.day0(),
        "disagreements between findings, charts and KPIs",
        &metric_problems,
    );
}

// ---------------------------------------------------------------------------
// The harness's day: reports left pending are resumed before the day ends.

/// Ads reports kept PENDING for three hours (`ads_pending`), polled at most
/// `wait` per run, the sim fast so that three sim hours pass in seconds.
async fn long_pending_ads(wait: std::time::Duration) -> Harness {
    let mut o = Opts::new("demo");
    o.faults = "ads_pending=1".into();
    o.speed = 1000.0;
    let mut h = start(o).await;
    h.cfg.sync.max_report_wait = wait;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_round_resumes_reports_left_pending() {
    let h = long_pending_ads(std::time::Duration::from_secs(45 * 60)).await;
    let s = h.sync_settled(&[JobName::Ads]).await;
    assert!(
        s.results[0].message.contains("still pending"),
        "{}",
        s.results[0].message
    );
    assert!(!s.extra.is_empty(), "extra rounds ran");
    assert!(h.pending_reports().is_empty());
    assert!(h.int("SELECT COUNT(*) FROM ads_campaign_daily") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "still pending after 10 extra sync rounds")]
async fn a_settled_round_gives_up_naming_the_reports() {
    let h = long_pending_ads(std::time::Duration::from_secs(1)).await;
    h.sync_settled(&[JobName::Ads]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_kpis_and_findings_match_the_truth() {
    e2e("demo", 1).await;
}

/// A seller in Japan (scenarios/jp.toml): yen without decimals, days in
/// Asia/Tokyo, Japanese free text, cp932 flat files; the demo's breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow (minutes): run with --ignored, as .ci/run does"]
async fn jp_kpis_and_findings_match_the_truth() {
    e2e("jp", 1).await;
}

/// A unified EU account (scenarios/eu.toml): UK, DE, FR, IT and ES in
/// pounds and euros, breaks in each, the spatula out of stock in the UK
/// and in Germany (two findings), negative feedback on a day ≤ 12.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow (minutes): run with --ignored, as .ci/run does"]
async fn eu_kpis_and_findings_match_the_truth() {
    e2e("eu", 1).await;
}

// The random seeds: each in a process of its own (see `claim_account`), so
// they may run in parallel threads too.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow (minutes): run with --ignored, as .ci/run does"]
async fn random_seed_1_kpis_and_findings_match_the_truth() {
    e2e_in_own_process(
        "random_seed_1_kpis_and_findings_match_the_truth",
        "random",
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow (minutes): run with --ignored, as .ci/run does"]
async fn random_seed_3_kpis_and_findings_match_the_truth() {
    e2e_in_own_process(
        "random_seed_3_kpis_and_findings_match_the_truth",
        "random",
        3,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow (minutes): run with --ignored, as .ci/run does"]
async fn random_seed_42_kpis_and_findings_match_the_truth() {
    e2e_in_own_process(
        "random_seed_42_kpis_and_findings_match_the_truth",
        "random",
        42,
    )
    .await;
}

/// `E2E_SEEDS=5,6 cargo test --test flywheel_e2e -- --ignored --exact
/// random_seeds_from_env`: the random scenario with other seeds, one after
/// the other (nothing when unset).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "for E2E_SEEDS"]
async fn random_seeds_from_env() {
    let seeds: Vec<u64> = std::env::var("E2E_SEEDS")
        .unwrap_or_default()
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim()
                .parse()
                .expect("E2E_SEEDS: comma-separated numbers")
        })
        .collect();
    for seed in seeds {
        e2e_in_own_process("random_seeds_from_env", "random", seed).await;
    }
}

/// `E2E_SCENARIOS=name,name cargo test --test flywheel_e2e -- --ignored
/// --exact scenarios_from_env`: other scenarios of `scenarios/` with seed 1,
/// each in a process of its own (nothing when unset).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "for E2E_SCENARIOS"]
async fn scenarios_from_env() {
    let names = std::env::var("E2E_SCENARIOS").unwrap_or_default();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        e2e_in_own_process("scenarios_from_env", name, 1).await;
    }
}
