//! The end-to-end check of a synced database against the simulated
//! marketplace's truth, through the `flywheel` binary's own output (DESIGN
//! §2.1): `flywheel check` and `flywheel kpis` on the synced config against
//! `flywheel sim truth` for the same world.
//!
//! Shared by tests/flywheel_e2e.rs (a world synced in-process, which then
//! also compares each finding with its chart) and tests/e2e_binary.rs
//! (everything through the binary, as docs/scenario.md's recipe). It uses
//! nothing of the flywheel library: what it reads is what a user sees, the
//! commands' JSON and the database file.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use serde_json::Value;

/// Runs the real binary; returns its stdout (panics with stderr on failure).
pub async fn flywheel(args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(args)
        .output()
        .await
        .expect("the flywheel binary runs");
    assert!(
        out.status.success(),
        "flywheel {}: {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

// ---------------------------------------------------------------------------
// KPIs

/// A §2.3 record of `flywheel kpis --format json` or `flywheel sim truth`:
/// the fields the comparison reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub kpi: String,
    pub account: String,
    pub marketplace: String,
    pub asin: Option<String>,
    pub sku: Option<String>,
    pub campaign_id: Option<String>,
    pub search_term: Option<String>,
    /// The level; `None` when there is no data.
    pub value: Option<f64>,
    pub label: Option<String>,
    /// Change against the previous period, percent.
    pub change_pct: Option<f64>,
}

impl Record {
    /// The `--by` level the record belongs to (as `flywheel kpis` groups).
    pub fn level(&self) -> &'static str {
        if self.asin.is_some() {
            "asin"
        } else if self.sku.is_some() {
            "sku"
        } else if self.campaign_id.is_some() {
            "campaign"
        } else {
            "marketplace"
        }
    }
}

/// Subject key of a record: kpi, account, marketplace, asin, sku, campaign, search term.
pub type Key = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn key_of(k: &Record) -> Key {
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

/// A record of `flywheel kpis --format json` or `flywheel sim truth`.
pub fn record_of(r: &Value) -> Record {
    let opt = |k: &str| r.get(k).and_then(|x| x.as_str()).map(String::from);
    Record {
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
    }
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

/// `flywheel kpis --at AT --format json --by LEVEL` for every level.
pub async fn kpis_json(config: &Path, at: NaiveDate) -> Vec<Record> {
    let config = config.to_str().unwrap();
    let mut all = Vec::new();
    for by in ["marketplace", "asin", "sku", "campaign"] {
        let text = flywheel(&[
            "--config",
            config,
            "kpis",
            "--at",
            &at.to_string(),
            "--by",
            by,
            "--format",
            "json",
        ])
        .await;
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["at"], at.to_string());
        for r in v["kpis"].as_array().unwrap() {
            let k = record_of(r);
            assert_eq!(k.level(), by, "{r}");
            all.push(k);
        }
    }
    all
}

/// Compares flywheel's records with the truth's; returns (matched, problems).
pub fn compare_kpis(ours: &[Record], truth: &[Record]) -> (usize, Vec<String>) {
    let mine: BTreeMap<Key, &Record> = ours.iter().map(|k| (key_of(k), k)).collect();
    let mut problems = Vec::new();
    let mut matched = 0;
    for t in truth {
        let key = key_of(t);
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
    (matched, problems)
}

/// `(at, recorded_by)` of every evaluation date recorded in `database`.
pub fn evaluation_dates(database: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut stmt = conn
        .prepare("SELECT at, recorded_by FROM evaluation_dates ORDER BY account, marketplace_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The views, read through a connection of their own, agree with the command.
pub fn views_agree(database: &Path, ours: &[Record]) {
    let conn = rusqlite::Connection::open(database).unwrap();
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
    let mine: BTreeMap<Key, &Record> = ours.iter().map(|k| (key_of(k), k)).collect();
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

// ---------------------------------------------------------------------------
// Findings

/// A finding's identity: rule, marketplace, asin, sku, campaign, search
/// term (the same ASIN breaking in two marketplaces is two findings).
pub type FindingKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn finding_key(f: &Value) -> FindingKey {
    let opt = |k: &str| f.get(k).and_then(|x| x.as_str()).map(String::from);
    (
        f["rule"].as_str().unwrap().to_string(),
        f["marketplace"]
            .as_str()
            .expect("a finding names its marketplace")
            .to_string(),
        opt("asin"),
        opt("sku"),
        opt("campaign_id"),
        opt("search_term"),
    )
}

/// Counts in precision and recall (DESIGN §2.1): firing, warning or critical.
pub fn is_alert(f: &Value) -> bool {
    f["status"] == "firing" && (f["severity"] == "warning" || f["severity"] == "critical")
}

pub fn subject_label(f: &Value) -> String {
    ["marketplace", "asin", "sku", "campaign_id", "search_term"]
        .iter()
        .filter_map(|k| {
            f.get(*k)
                .and_then(|x| x.as_str())
                .map(|v| format!("{k}={v}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints precision and recall; returns the problems (none at 100%/100%).
pub fn compare_findings(label: &str, found: &[Value], want: &BTreeSet<FindingKey>) -> Vec<String> {
    let alerts: Vec<&Value> = found.iter().filter(|f| is_alert(f)).collect();
    let got: BTreeSet<FindingKey> = alerts.iter().map(|f| finding_key(f)).collect();
    let hit = got.intersection(want).count();
    let precision = if got.is_empty() {
        1.0
    } else {
        hit as f64 / got.len() as f64
    };
    let recall = if want.is_empty() {
        1.0
    } else {
        hit as f64 / want.len() as f64
    };
    println!(
        "{label}: expected {}, found {}, precision {:.1}%, recall {:.1}%",
        want.len(),
        got.len(),
        precision * 100.0,
        recall * 100.0
    );
    let mut problems = Vec::new();
    if want.is_empty() {
        problems.push("the scenario expects no finding".to_string());
    }
    for f in alerts.iter().filter(|f| !want.contains(&finding_key(f))) {
        problems.push(format!(
            "extra {} {} {}: {} | {}",
            f["severity"].as_str().unwrap_or("?"),
            f["rule"].as_str().unwrap_or("?"),
            subject_label(f),
            f["summary"].as_str().unwrap_or(""),
            f["evidence"]
        ));
    }
    for k in want.difference(&got) {
        problems.push(format!("missing {k:?}"));
    }
    if !problems.is_empty() {
        let no_data: Vec<String> = found
            .iter()
            .filter(|f| f["status"] != "firing")
            .take(40)
            .map(|f| {
                format!(
                    "  {} {} {}: {}",
                    f["rule"].as_str().unwrap_or("?"),
                    f["status"].as_str().unwrap_or("?"),
                    subject_label(f),
                    f["summary"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!("{label}: not firing (first 40):\n{}", no_data.join("\n"));
    }
    problems
}

// ---------------------------------------------------------------------------
// The whole check

/// The world a truth is computed for: what `flywheel sim truth` is told.
pub struct World<'a> {
    pub scenario_file: &'a Path,
    pub seed: u64,
    /// Day 0 (`--day0`); the truth's own default is `--at`.
    pub day0: NaiveDate,
}

/// What [`check_against_truth`] found.
pub struct Checked {
    pub label: String,
    /// `flywheel check --format json`.
    pub check: Value,
    /// The truth's expected findings.
    pub want: BTreeSet<FindingKey>,
    /// The rules the truth plants a finding of.
    pub planted: BTreeSet<String>,
    pub finding_problems: Vec<String>,
    /// `flywheel kpis --format json`, every level.
    pub ours: Vec<Record>,
    /// `flywheel sim truth`'s KPI records.
    pub truth_kpis: Vec<Record>,
    pub kpi_problems: Vec<String>,
}

impl Checked {
    /// The firing and resolved findings of `flywheel check`.
    pub fn findings(&self) -> &[Value] {
        self.check["findings"].as_array().unwrap()
    }

    /// Panics, listing them, unless every KPI record matched, precision and
    /// recall are 100%, and `others` (the caller's own checks, named
    /// `others_name`) found nothing.
    pub fn assert_clean(&self, day0: NaiveDate, others_name: &str, others: &[String]) {
        assert!(
            self.kpi_problems.is_empty() && self.finding_problems.is_empty() && others.is_empty(),
            "{} (world day 0 {day0}): {} of {} KPI records differ, {} finding problems, {} \
             {others_name}:\n{}\n{}\n{}",
            self.label,
            self.kpi_problems.len(),
            self.truth_kpis.len(),
            self.finding_problems.len(),
            others.len(),
            self.kpi_problems.join("\n"),
            self.finding_problems.join("\n"),
            others.join("\n")
        );
    }
}

/// On a config synced through `at`: `flywheel check --at AT --format json`
/// first (a caller that also judges freshness reads the sim's time just
/// before), then `flywheel sim truth` for `world`, then `flywheel kpis` at
/// every level. Asserts what must hold whatever the data (`check` and
/// `kpis` record their date for the views, the views agree with `kpis`, the
/// marketplace table has its 13 rows, the truth has records) and returns
/// the comparisons, printed, for the caller to judge.
pub async fn check_against_truth(
    label: &str,
    config: &Path,
    database: &Path,
    world: &World<'_>,
    at: NaiveDate,
) -> Checked {
    let config_s = config.to_str().unwrap();
    let at_s = at.to_string();
    let check: Value = serde_json::from_str(
        &flywheel(&[
            "--config", config_s, "check", "--at", &at_s, "--format", "json",
        ])
        .await,
    )
    .expect("check JSON");
    assert_eq!(check["at"], at_s);
    // `check` records its date for the `kpi_*` views, as `kpis` does.
    let recorded = evaluation_dates(database);
    assert!(
        !recorded.is_empty()
            && recorded
                .iter()
                .all(|(d, by)| *d == at_s && by == "evaluate"),
        "check records its date: {recorded:?}"
    );

    // The truth, as `flywheel sim truth` prints it for the synced world.
    let truth: Value = serde_json::from_str(
        &flywheel(&[
            "sim",
            "truth",
            "--scenario",
            world.scenario_file.to_str().unwrap(),
            "--seed",
            &world.seed.to_string(),
            "--day0",
            &world.day0.to_string(),
            "--at",
            &at_s,
        ])
        .await,
    )
    .expect("truth JSON");
    assert_eq!(truth["at"], at_s);
    let want: BTreeSet<FindingKey> = truth["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(finding_key)
        .collect();
    let finding_problems = compare_findings(label, check["findings"].as_array().unwrap(), &want);

    // KPIs.
    let ours = kpis_json(config, at).await;
    let recorded = evaluation_dates(database);
    assert!(
        !recorded.is_empty() && recorded.iter().all(|(d, by)| *d == at_s && by == "kpis"),
        "kpis records its date: {recorded:?}"
    );
    views_agree(database, &ours);
    let table = flywheel(&[
        "--config",
        config_s,
        "kpis",
        "--at",
        &at_s,
        "--by",
        "marketplace",
    ])
    .await;
    print!("{table}");
    // 13 KPIs per marketplace the truth knows.
    let markets: BTreeSet<&str> = truth["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["marketplace"].as_str())
        .collect();
    assert_eq!(
        table.lines().filter(|l| l.starts_with("  ")).count(),
        13 * markets.len()
    );
    let truth_kpis: Vec<Record> = truth["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(record_of)
        .collect();
    let (matched, kpi_problems) = compare_kpis(&ours, &truth_kpis);
    println!(
        "{label}: {matched} of {} truth KPI records matched ({} flywheel records)",
        truth_kpis.len(),
        ours.len()
    );
    for p in &kpi_problems {
        println!("  {p}");
    }
    assert!(truth_kpis.len() > 20, "the truth has KPI records");
    let planted = want.iter().map(|k| k.0.clone()).collect();
    Checked {
        label: label.to_string(),
        check,
        want,
        planted,
        finding_problems,
        ours,
        truth_kpis,
        kpi_problems,
    }
}
