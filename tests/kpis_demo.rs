//! The KPIs of DESIGN §2.3 against the simulated marketplace's truth.
//!
//! As a daemon would: the sim starts 14 days before the evaluation date
//! and flywheel syncs once per simulated day, just after the marketplace's
//! midnight (so snapshot KPIs such as BSR and stock have their daily
//! history); then `flywheel kpis --format json` for every `--by` level
//! together must hold every record of `flywheel sim truth` for that date
//! with the same value: counts exactly, ratios within 0.5% relative, null
//! where truth says null. The `kpi_*` views read with a separate connection
//! (any SQLite tool) must agree with the command.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{start, Harness, Opts};
use flywheel::kpis::{self, Format, Kpi, KpisArgs, Level};
use flywheel_sim::truth;

/// Subject key of a record: kpi, account, marketplace, asin, sku, campaign, search term.
type Key = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn key_of(k: &Kpi) -> Key {
    (
        k.kpi.clone(),
        k.account.clone(),
        k.marketplace.clone(),
        k.asin.clone(),
        k.sku.clone(),
        k.campaign_id.clone(),
        k.search_term.clone(),
    )
}

fn truth_key(k: &truth::Kpi) -> Key {
    (
        k.kpi.to_string(),
        k.account.clone(),
        k.marketplace.clone(),
        k.asin.clone(),
        k.sku.clone(),
        k.campaign_id.clone(),
        k.search_term.clone(),
    )
}

/// Counts compare exactly; everything else is a ratio or a median.
const COUNTS: &[&str] = &["sessions", "feedback_sla_breaches", "stockout_risk_skus"];

fn same(kpi: &str, ours: Option<f64>, truth: Option<f64>) -> bool {
    match (ours, truth) {
        (None, None) => true,
        (Some(a), Some(b)) if COUNTS.contains(&kpi) => a == b,
        (Some(a), Some(b)) => (a - b).abs() <= 0.005 * b.abs().max(a.abs()) + 1e-9,
        _ => false,
    }
}

/// Starts the sim at 00:05 (marketplace time) 14 days before `at` and syncs
/// once a day up to the evaluation day itself.
async fn synced(scenario: &str, seed: u64, at: NaiveDate) -> Harness {
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
    let day_start = |d: NaiveDate| kpis::day_start(&tz, d);
    let first = at - Duration::days(14);
    let mut opts = Opts::new(scenario);
    opts.seed = seed;
    opts.now = day_start(first) + Duration::minutes(5);
    let h = start(opts).await;
    for i in 0..=14 {
        let day = first + Duration::days(i);
        let target: DateTime<Utc> = day_start(day) + Duration::minutes(5);
        let now = h.now().await;
        if target > now {
            h.sim.clock.advance((target - now).to_std().unwrap());
        }
        let results = h.sync(&[]).await;
        let failed: Vec<String> = results
            .iter()
            .filter(|r| r.status == flywheel::store::jobs::RunStatus::Failed)
            .map(|r| format!("{}: {}", r.job, r.message))
            .collect();
        if i == 14 {
            // A daemon pulls orders every 15 minutes (DESIGN §3). searchOrders filters on the
            // order's *current* last update, so orders purchased late on the day before whose
            // pending period ended while this (sim-slow) round paged are only seen by the next
            // orders run; without it, the last day's units run short of what Amazon serves.
            h.sync(&[flywheel::sync::JobName::Orders]).await;
        }
        if i == 14 || std::env::var_os("KPIS_VERBOSE").is_some() {
            for r in &results {
                eprintln!("  {} {:?} {} rows: {}", r.job, r.status, r.rows, r.message);
            }
        }
        let took = h.now().await - target;
        eprintln!(
            "{scenario}/{seed} day {day}: {} jobs, sync took {} sim min{}",
            results.len(),
            took.num_minutes(),
            if failed.is_empty() {
                String::new()
            } else {
                format!("; failed: {failed:?}")
            }
        );
    }
    h
}

/// `flywheel kpis --at AT --format json --by LEVEL` for every level.
async fn kpis_json(h: &Harness, at: NaiveDate) -> Vec<Kpi> {
    let mut all = Vec::new();
    for by in [Level::Marketplace, Level::Asin, Level::Sku, Level::Campaign] {
        let args = KpisArgs {
            at: Some(at),
            by,
            format: Format::Json,
        };
        let text = kpis::run_command(&h.cfg, &args).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["at"], at.to_string());
        for r in v["kpis"].as_array().unwrap() {
            let opt = |k: &str| r.get(k).and_then(|x| x.as_str()).map(String::from);
            let k = Kpi {
                kpi: r["kpi"].as_str().unwrap().to_string(),
                account: r["account"].as_str().unwrap().to_string(),
                marketplace: r["marketplace"].as_str().unwrap().to_string(),
                asin: opt("asin"),
                sku: opt("sku"),
                campaign_id: opt("campaign_id"),
                search_term: opt("search_term"),
                value: r["value"].as_f64(),
                label: opt("label"),
                change_pct: r.get("change_pct").and_then(|x| x.as_f64()),
                target: opt("target"),
                status: None,
            };
            assert_eq!(k.level(), by, "{r}");
            all.push(k);
        }
    }
    all
}

/// Compares flywheel's records with the truth; returns (matched, total, problems).
fn compare(ours: &[Kpi], truth: &truth::TruthReport) -> (usize, usize, Vec<String>) {
    let mine: BTreeMap<Key, &Kpi> = ours.iter().map(|k| (key_of(k), k)).collect();
    let mut problems = Vec::new();
    let mut matched = 0;
    for t in &truth.kpis {
        let key = truth_key(t);
        match mine.get(&key) {
            None => problems.push(format!("missing {key:?} (truth {:?})", t.value)),
            Some(k) if !same(&k.kpi, k.value, t.value) => problems.push(format!(
                "{} {:?}: flywheel {:?}, truth {:?}",
                k.kpi,
                (&k.asin, &k.sku, &k.campaign_id),
                k.value,
                t.value
            )),
            Some(k) if t.label.is_some() && k.label != t.label => problems.push(format!(
                "{} label: flywheel {:?}, truth {:?}",
                k.kpi, k.label, t.label
            )),
            Some(_) => matched += 1,
        }
    }
    (matched, truth.kpis.len(), problems)
}

/// The views, read through a connection of their own, agree with the command.
fn views_agree(h: &Harness, ours: &[Kpi], at: NaiveDate) {
    let conn = rusqlite::Connection::open(h.database()).unwrap();
    let recorded: Vec<String> = conn
        .prepare("SELECT at FROM evaluation_dates")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(recorded, vec![at.to_string()]);
    let mut stmt = conn
        .prepare("SELECT kpi, account, marketplace_id, asin, sku, campaign_id, value FROM kpi_all")
        .unwrap();
    let rows: Vec<(Key, Option<f64>)> = stmt
        .query_map([], |r| {
            Ok((
                (
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    None,
                ),
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), ours.len(), "one view row per record");
    let mine: BTreeMap<Key, &Kpi> = ours.iter().map(|k| (key_of(k), k)).collect();
    for (key, value) in rows {
        let k = mine
            .get(&key)
            .unwrap_or_else(|| panic!("view row {key:?} not in `flywheel kpis`"));
        assert!(
            same("", k.value, value),
            "{key:?}: view {value:?}, kpis {:?}",
            k.value
        );
    }
}

async fn check(scenario: &str, seed: u64, at: NaiveDate) {
    let h = synced(scenario, seed, at).await;
    let ours = kpis_json(&h, at).await;
    views_agree(&h, &ours, at);
    let table = kpis::run_command(
        &h.cfg,
        &KpisArgs {
            at: Some(at),
            by: Level::Marketplace,
            format: Format::Table,
        },
    )
    .await
    .unwrap();
    print!("{table}");
    assert_eq!(table.lines().filter(|l| l.starts_with("  ")).count(), 13);
    let truth = truth::truth(&h.sim.world, at);
    let (matched, total, problems) = compare(&ours, &truth);
    println!(
        "{scenario} seed {seed} at {at}: {matched} of {total} truth KPI records matched ({} flywheel records)",
        ours.len()
    );
    for p in &problems {
        println!("  {p}");
    }
    explain_days_of_supply(&h, &problems, at);
    assert!(total > 50, "the truth has KPI records");
    assert!(
        problems.is_empty(),
        "{scenario} seed {seed}: {} of {total} records differ:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// For a days_of_supply difference, prints both sides' components.
fn explain_days_of_supply(h: &Harness, problems: &[String], at: NaiveDate) {
    let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
    let start = kpis::day_start(&tz, at);
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
        let units: u32 = h
            .sim
            .world
            .asin_days(&sku, at - Duration::days(14), at - Duration::days(1), start)
            .iter()
            .map(|d| d.units_ordered)
            .sum();
        println!(
            "  {sku}: flywheel available {} inbound {} units14 {} (observed {}); truth available {} inbound {} units14 {units}",
            ours.0, ours.1, ours.2, ours.3, inv.available(), inv.inbound()
        );
        for d in h
            .sim
            .world
            .asin_days(&sku, at - Duration::days(14), at - Duration::days(1), start)
        {
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
            let statuses: String = conn
                .query_row(
                    "SELECT group_concat(status || ':' || n) FROM (SELECT o.status, COUNT(*) n
                     FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
                     WHERE o.purchase_day = ?1 AND i.sku = ?2 GROUP BY o.status)",
                    [&day, &sku],
                    |r| r.get(0),
                )
                .unwrap();
            if kept != d.units_ordered as i64 {
                println!("    {day}: orders {all} (not canceled {kept}; {statuses}), truth {} units, {} items", d.units_ordered, d.total_order_items);
            }
        }
    }
}

/// A winter date: the 14 synced days do not cross a DST change.
fn at() -> NaiveDate {
    "2026-02-20".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_kpis_match_the_truth() {
    check("demo", 1, at()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow: three full sim histories (run with --ignored)"]
async fn random_kpis_match_the_truth_for_three_seeds() {
    let seeds: Vec<u64> = match std::env::var("KPIS_SEEDS") {
        Ok(v) => v.split(',').map(|x| x.trim().parse().unwrap()).collect(),
        Err(_) => vec![3, 11, 42],
    };
    for seed in seeds {
        check("random", seed, at()).await;
    }
}
