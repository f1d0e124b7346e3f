//! `flywheel demo` through the real binary: the daemon's own loop runs
//! against the in-process simulated marketplace over simulated days, leaves
//! its alert emails (and, over two weeks, resolutions threaded under their
//! alerts and the weekly digest) in the demo folder, says how the alerts
//! compare with what the simulator planted, and leaves a config whose
//! clock is frozen at the last round, so the read-only commands work on it
//! after the simulator is gone.
//!
//! The two-week demo is slow in a debug build: it is `#[ignore]`d and
//! `.ci/run` runs it on the release binary (`FLYWHEEL_BIN`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use mail_parser::MessageParser;
use serde_json::Value;

/// The binary under test: `FLYWHEEL_BIN` (the release build in CI), else
/// the one cargo built for these tests.
fn binary() -> PathBuf {
    std::env::var_os("FLYWHEEL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_flywheel")))
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn flywheel(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the flywheel binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `demo --days N` into a fresh folder; returns it and the demo's stdout.
fn demo(days: u32) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo-out");
    let (code, stdout, stderr) = flywheel(&[
        "demo",
        "--days",
        &days.to_string(),
        "--dir",
        out_dir.to_str().unwrap(),
    ]);
    print!("{stdout}");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    (dir, out_dir, stdout)
}

struct Email {
    message_id: String,
    in_reply_to: Option<String>,
    subject: String,
}

/// Every email in the demo's mail folder, checked to be valid MIME with a
/// text and an HTML part.
fn emails(out_dir: &Path) -> Vec<Email> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(out_dir.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let m = MessageParser::default().parse(&raw).expect("valid MIME");
            assert!(
                m.body_html(0).is_some() && m.body_text(0).is_some(),
                "{}",
                p.display()
            );
            Email {
                message_id: m.message_id().expect("a Message-ID").to_string(),
                in_reply_to: m.in_reply_to().as_text().map(str::to_string),
                subject: m.subject().unwrap_or_default().to_string(),
            }
        })
        .collect()
}

/// "Mon 2026-03-02   …": a progress line of one simulated day.
fn is_day_line(line: &str) -> bool {
    line.get(3..4) == Some(" ")
        && line
            .get(4..14)
            .is_some_and(|d| d.parse::<NaiveDate>().is_ok())
}

/// The instant the demo left in its config (`[daemon] clock = "fixed:…"`).
fn frozen_clock(config: &Path) -> DateTime<Utc> {
    let text = std::fs::read_to_string(config).unwrap();
    let v: toml::Table = toml::from_str(&text).unwrap();
    let clock = v["daemon"]["clock"].as_str().unwrap();
    let at = clock
        .strip_prefix("fixed:")
        .unwrap_or_else(|| panic!("the demo's clock is not frozen: {clock}"));
    DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_one_day_demo_leaves_alert_emails_a_digest_and_a_frozen_clock() {
    let (_dir, out_dir, stdout) = demo(1);
    assert!(
        stdout.contains("planted problems are firing alerts"),
        "{stdout}"
    );
    // One line per simulated day: the day before and today's round.
    let days = stdout.lines().filter(|l| is_day_line(l)).count();
    assert_eq!(days, 2, "{stdout}");
    let html = std::fs::read_to_string(out_dir.join("digest.html")).unwrap();
    assert!(html.contains("<table"), "the digest is HTML");
    let mails = emails(&out_dir);
    assert!(!mails.is_empty());
    assert!(
        mails[0].subject.contains("critical"),
        "{}",
        mails[0].subject
    );
    let config = out_dir.join("flywheel.toml");
    frozen_clock(&config);
    // The demo drove the daemon's loop, but a database only the demo drove
    // expects no daemon: status says it is not running and not missed.
    let (code, status, err) = flywheel(&[
        "status",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["daemon"]["running"], false, "{status}");
    assert_eq!(status["daemon"]["expected"], false, "{status}");
    // It ends with three commands to try next, on its config.
    let next: Vec<&str> = stdout.lines().rev().take(3).map(str::trim).collect();
    for cmd in next {
        assert!(
            cmd.starts_with("flywheel ")
                && cmd.ends_with(&format!("--config {}", config.display())),
            "{stdout}"
        );
    }
}

/// Subject of a planted problem or an alert: rule and its subject labels.
type Key = (String, BTreeMap<String, String>);

fn key(rule: &str, labels: &Value) -> Key {
    let mut m = BTreeMap::new();
    for k in ["marketplace", "asin", "sku", "campaign_id", "search_term"] {
        if let Some(v) = labels.get(k).and_then(Value::as_str) {
            m.insert(k.to_string(), v.to_string());
        }
    }
    (rule.to_string(), m)
}

#[test]
#[ignore = "two simulated weeks (minutes): .ci/run runs it on the release build (FLYWHEEL_BIN)"]
fn a_two_week_demo_fires_every_planted_problem_threads_a_resolution_and_sends_the_digest() {
    let (_dir, out_dir, stdout) = demo(14);
    let config = out_dir.join("flywheel.toml");
    let config_s = config.to_str().unwrap();

    // Every planted problem fires at the end: the alerts, as `alerts`
    // lists them, against `flywheel sim truth` for the demo's day 0 (the
    // date of its last round in the seller's zone).
    let day0 = frozen_clock(&config)
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .date_naive();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml");
    let (code, truth, err) = flywheel(&[
        "sim",
        "truth",
        "--scenario",
        scenario.to_str().unwrap(),
        "--seed",
        "1",
        "--at",
        &day0.to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let truth: Value = serde_json::from_str(&truth).unwrap();
    let planted: BTreeSet<Key> = truth["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| key(f["rule"].as_str().unwrap(), f))
        .collect();
    assert_eq!(planted.len(), 25, "the demo plants 25 problems");
    let (code, alerts, err) =
        flywheel(&["alerts", "--config", config_s, "--all", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let alerts: Value = serde_json::from_str(&alerts).unwrap();
    let alerts = alerts["alerts"]
        .as_array()
        .expect("alerts JSON lists alerts");
    let firing: BTreeSet<Key> = alerts
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| key(a["rule"].as_str().unwrap(), &a["labels"]))
        .collect();
    let missing: Vec<&Key> = planted.difference(&firing).collect();
    assert!(missing.is_empty(), "not firing: {missing:?}\n{stdout}");
    assert!(
        stdout.contains("25 of the 25 planted problems are firing"),
        "{stdout}"
    );
    // The short-lived problem scripted into the scenario came and went.
    assert!(
        alerts.iter().any(|a| a["rule"] == "listing_health"
            && a["labels"]["sku"] == "FW-KNIFE-01"
            && a["state"] == "resolved"),
        "{alerts:?}"
    );

    // A resolution email threads under its alert's email, and the weekly
    // digest went out.
    let mails = emails(&out_dir);
    let by_id: BTreeMap<&str, &Email> = mails.iter().map(|m| (m.message_id.as_str(), m)).collect();
    let threaded: Vec<(&str, &str)> = mails
        .iter()
        .filter_map(|m| {
            let parent = by_id.get(m.in_reply_to.as_deref()?)?;
            Some((parent.subject.as_str(), m.subject.as_str()))
        })
        .collect();
    assert!(
        threaded
            .iter()
            .any(|(_, reply)| reply.to_lowercase().contains("resolved")),
        "no resolution threaded under its firing email: {threaded:?}"
    );
    assert!(
        mails
            .iter()
            .any(|m| m.subject.to_lowercase().contains("digest")),
        "no digest among {:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    // 15 day lines: the 14 days before today and today's round.
    let days = stdout.lines().filter(|l| is_day_line(l)).count();
    assert_eq!(days, 15, "{stdout}");

    // The read-only commands work on the demo's config after the sim is
    // gone: no clock error, exit 0 (or 1: something needs attention).
    for args in [
        &["alerts"][..],
        &["check"],
        &["kpis"],
        &["status"],
        &["digest"],
    ] {
        let mut argv = args.to_vec();
        argv.extend(["--config", config_s]);
        let (code, out, err) = flywheel(&argv);
        assert!(
            (code == 0 || code == 1) && !err.contains("clock") && !out.is_empty(),
            "flywheel {}: exit {code}\n{out}\n{err}",
            argv.join(" ")
        );
    }
}
