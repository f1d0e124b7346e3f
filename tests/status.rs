//! `flywheel status` and `flywheel backup` (the real binary) against the
//! simulated marketplace: a health check that exits 1 exactly when an
//! operator is needed (business alerts are counted, and count only with
//! `--fail-on`), undelivered emails that stop counting once delivered or
//! cleared, LAST NOTIFIED only after delivery, and an online backup taken
//! while another connection writes. (The daemon line is in tests/daemon.rs.)

mod common;
#[path = "common/smtp.rs"]
mod smtp;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use flywheel::store::jobs::RunStatus;
use flywheel::sync::JobName;
use rusqlite::Connection;
use serde_json::Value;

/// What one run of the binary printed.
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

/// Runs `flywheel ARGS --config CONFIG` off the async runtime (the sim the
/// binary talks to is served by this test's runtime).
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

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.text()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_demo_is_all_well() {
    let h = common::start(common::Opts::new("demo")).await;
    let jobs = [JobName::Inventory, JobName::Listings, JobName::Pricing];
    let results = h.sync(&jobs).await;
    assert!(
        results.iter().all(|r| r.status == RunStatus::Ok),
        "{results:?}"
    );

    let run = flywheel(&h.config_path, &["status", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let v = json(&run);
    assert_eq!(v["healthy"], true, "{}", run.text());
    assert_eq!(v["never_synced"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    let account = &v["accounts"][0];
    let listed: Vec<&str> = account["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed.len(),
        14,
        "every job of the demo account: {listed:?}"
    );
    for name in jobs.map(|j| j.as_str()) {
        let job = account["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["job"] == name)
            .unwrap();
        assert_eq!(job["newest_status"], "ok", "{job}");
        assert!(job["last_success"].is_string(), "{job}");
        assert!(job["next_run"].is_string(), "{job}");
        assert_eq!(job["runs_24h"], 1, "{job}");
        assert!(job["rows_24h"].as_i64().unwrap() > 0, "{job}");
    }
    let calls: i64 = account["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["calls"].as_i64().unwrap())
        .sum();
    assert!(calls > 0, "{account}");
    let fresh = v["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["job"] == "inventory")
        .unwrap();
    assert_eq!(fresh["stale"], false);
    assert!(fresh["allowed_hours"].as_f64().unwrap() >= 1.0, "{fresh}");

    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stdout.starts_with("all is well"), "{}", run.stdout);
    assert!(run.stdout.contains("inventory"), "{}", run.stdout);
    assert!(!run.stdout.contains("PROBLEMS"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_needs_attention_and_is_named() {
    let mut opts = common::Opts::new("demo");
    opts.faults = "revoke=1".into();
    let h = common::start(opts).await;
    let results = h.sync(&[JobName::Inventory]).await;
    assert_eq!(results[0].status, RunStatus::Failed, "{results:?}");
    let account = results[0].account.clone();

    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stdout.starts_with("NEEDS ATTENTION"), "{}", run.stdout);
    let problems = run.stdout.split("PROBLEMS\n").nth(1).unwrap_or_default();
    assert!(
        problems.contains(&format!("{account}/inventory: the newest run failed")),
        "{}",
        run.stdout
    );
    assert!(problems.contains("invalid_grant"), "{}", run.stdout);
    assert!(
        problems.contains(&format!(
            "flywheel sync --account {account} --job inventory"
        )),
        "{}",
        run.stdout
    );
    // The refused token is also the credentials rule's finding.
    assert!(problems.contains("credentials:"), "{}", run.stdout);

    let v = json(&flywheel(&h.config_path, &["status", "--format", "json"]).await);
    assert_eq!(v["healthy"], false);
    let inventory = v["accounts"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == "inventory")
        .unwrap()
        .clone();
    assert_eq!(inventory["newest_status"], "failed");
    assert!(inventory["last_success"].is_null());
    assert!(
        inventory["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{inventory}"
    );
    assert_eq!(
        v["accounts"][0]["credential_problems"][0]["error_kind"],
        "invalid_grant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_synced_database_needs_attention() {
    let h = common::start(common::Opts::new("demo")).await;
    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stdout.contains("never synced"), "{}", run.stdout);

    // A database that does not exist is reported, not created.
    let missing = h.dir.path().join("elsewhere").join("none.db");
    let text = std::fs::read_to_string(&h.config_path).unwrap().replace(
        &h.database().display().to_string(),
        &missing.display().to_string(),
    );
    let config = h.dir.path().join("missing-db.toml");
    std::fs::write(&config, text).unwrap();
    let run = flywheel(&config, &["status", "--format", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let v = json(&run);
    assert_eq!(v["database_exists"], false);
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("never synced"),
        "{v}"
    );
    assert!(!missing.exists() && !missing.parent().unwrap().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_another_connection_writes_is_whole() {
    let h = common::start(common::Opts::new("demo")).await;
    let db = h.database().to_path_buf();
    // Enough pages that the copy takes many steps.
    {
        let conn = h.conn();
        conn.execute_batch(
            "CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)
             INSERT INTO scratch (body) SELECT randomblob(2000) FROM n;",
        )
        .unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicI64::new(0));
    let writer = {
        let (stop, written, db) = (stop.clone(), written.clone(), db.clone());
        std::thread::spawn(move || {
            let conn = flywheel::store::open(&db).unwrap();
            while !stop.load(Ordering::Relaxed) {
                conn.execute("INSERT INTO scratch (body) VALUES (randomblob(500))", [])
                    .unwrap();
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 10 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let dest = h.dir.path().join("backups").join("flywheel-copy.db");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let before = written.load(Ordering::Relaxed);
    let run = flywheel(&h.config_path, &["backup", dest.to_str().unwrap()]).await;
    let during = written.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stdout.contains("integrity_check ok"), "{}", run.stdout);
    assert!(run.stdout.contains("pages"), "{}", run.stdout);
    assert!(
        during > 0,
        "the writer was never blocked out: {during} rows"
    );

    let copy = Connection::open(&dest).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let tables: Vec<String> = copy
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in ["accounts", "job_runs", "outbox", "alerts", "scratch"] {
        assert!(tables.iter().any(|x| x == t), "{t} missing: {tables:?}");
    }
    let rows: i64 = copy
        .query_row("SELECT COUNT(*) FROM scratch", [], |r| r.get(0))
        .unwrap();
    assert!(rows >= 8000 + before, "{rows} rows");
    // One self-contained file, no temporary left beside it.
    let names: Vec<String> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["flywheel-copy.db".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_to_a_missing_directory_is_a_clear_error() {
    let h = common::start(common::Opts::new("demo")).await;
    let dest = h.dir.path().join("no-such-dir").join("copy.db");
    let run = flywheel(&h.config_path, &["backup", dest.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.stderr
            .contains("no-such-dir does not exist: create it first"),
        "{}",
        run.text()
    );
    assert!(!dest.exists());

    // Nor does it overwrite the live database.
    let live = h.database().display().to_string();
    let run = flywheel(&h.config_path, &["backup", &live]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.stderr.contains("is the live database"),
        "{}",
        run.text()
    );
}

/// The demo world with inventory, listings and pricing synced (by the
/// test, not a daemon): healthy jobs and, once evaluated, three critical
/// business alerts (a 4.2-star rating, a suppressed listing, a stockout).
async fn synced() -> common::Harness {
    let h = common::start(common::Opts::new("demo")).await;
    let results = h
        .sync(&[JobName::Inventory, JobName::Listings, JobName::Pricing])
        .await;
    assert!(
        results.iter().all(|r| r.status == RunStatus::Ok),
        "{results:?}"
    );
    h
}

fn problems(run: &Run) -> &str {
    run.stdout.split("\nPROBLEMS\n").nth(1).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_business_alerts_leave_the_exit_code_to_operations() {
    let h = synced().await;
    let run = flywheel(&h.config_path, &["evaluate", "--no-send"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stdout.contains("3 critical"), "{}", run.text());

    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stdout.starts_with("all is well"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "\nalerts: 3 critical firing (`flywheel alerts`); they do not change the exit code\n"
        ),
        "{}",
        run.stdout
    );
    // Only one-off syncs ran here: no daemon is expected.
    assert!(
        run.stdout.contains("\ndaemon: not running\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("PROBLEMS"), "{}", run.stdout);

    let run = flywheel(&h.config_path, &["status", "--fail-on", "critical"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        problems(&run).contains("3 critical alerts are firing (--fail-on critical): critical "),
        "{}",
        run.stdout
    );
    assert!(problems(&run).contains("rating_floor"), "{}", run.stdout);
    let v = json(
        &flywheel(
            &h.config_path,
            &["status", "--format", "json", "--fail-on", "warning"],
        )
        .await,
    );
    assert_eq!(v["healthy"], false);
    assert_eq!(v["fail_on"], "warning");
    assert_eq!(v["alerts"]["firing"]["critical"], 3);

    let run = flywheel(&h.config_path, &["status", "--fail-on", "loud"]).await;
    assert_eq!(run.code, 2, "{}", run.text());

    // The email is only queued: nobody was notified yet.
    let run = flywheel(&h.config_path, &["alerts", "--format", "json"]).await;
    let alerts = json(&run)["alerts"].as_array().unwrap().clone();
    assert_eq!(alerts.len(), 3, "{}", run.stdout);
    for a in &alerts {
        assert!(a.get("last_notified_at").is_none(), "{a}");
    }
    let table = flywheel(&h.config_path, &["alerts"]).await.stdout;
    let header = table.lines().next().unwrap();
    let col = header[..header.find("LAST NOTIFIED").unwrap()]
        .chars()
        .count();
    for line in table.lines().skip(1).filter(|l| l.contains("firing")) {
        let cell: String = line.chars().skip(col).take(2).collect();
        assert_eq!(cell, "- ", "{table}");
    }

    // Delivered (the file transport): now it was.
    let run = flywheel(&h.config_path, &["evaluate"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let sent: String = h
        .conn()
        .query_row("SELECT sent_at FROM outbox WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    let run = flywheel(&h.config_path, &["alerts", "--format", "json"]).await;
    for a in json(&run)["alerts"].as_array().unwrap() {
        assert_eq!(a["last_notified_at"], sent.as_str(), "{a}");
    }
}

/// The harness's config with `[email]` pointed at the test SMTP server.
fn smtp_config(h: &common::Harness, port: u16) -> std::path::PathBuf {
    let text = smtp::with_smtp(&std::fs::read_to_string(&h.config_path).unwrap(), port);
    let p = h.dir.path().join("smtp.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Row `id`'s attempts and whether it was sent ((0, false) before it exists).
fn outbox_row(h: &common::Harness, id: i64) -> (i64, bool) {
    h.conn()
        .query_row(
            "SELECT attempts, sent_at IS NOT NULL FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or((0, false))
}

/// Runs `evaluate` (which delivers what is due) until row `id` reaches
/// `attempts` attempts; the sim's clock runs 200x, so each retry's backoff
/// (1, 2, 4 min) passes in about a second.
async fn attempt_until(h: &common::Harness, config: &Path, id: i64, attempts: i64) {
    let t = std::time::Instant::now();
    while outbox_row(h, id).0 < attempts {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "row {id}: {:?}",
            outbox_row(h, id)
        );
        let run = flywheel(config, &["evaluate"]).await;
        assert_eq!(run.code, 0, "{}", run.text());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_counts_until_delivered_and_a_given_up_one_until_cleared() {
    let h = synced().await;
    let server = smtp::SmtpServer::start().await;
    let config = smtp_config(&h, server.port());

    // The alert email is refused three times (a busy server), then taken.
    server.fail_next(3, "451 4.3.0 try again later");
    attempt_until(&h, &config, 1, 3).await;
    assert_eq!(outbox_row(&h, 1), (3, false));
    let run = flywheel(&config, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        problems(&run).contains("1 email is not delivered yet after 3 or more attempts"),
        "{}",
        run.stdout
    );
    assert!(
        problems(&run).contains("4.3.0 try again later"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nOUTBOX: 1 queued (1 failing), 0 given up\n"),
        "{}",
        run.stdout
    );

    attempt_until(&h, &config, 1, 4).await;
    assert_eq!(outbox_row(&h, 1), (4, true));
    assert_eq!(server.messages().len(), 1);
    let run = flywheel(&config, &["status"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!run.stdout.contains("not delivered"), "{}", run.stdout);

    // The digest is refused for good: given up at once.
    server.fail_next(1, "550 5.1.1 mailbox unavailable");
    let run = flywheel(&config, &["digest", "--send"]).await;
    let digest: i64 = h
        .conn()
        .query_row(
            "SELECT MAX(id) FROM outbox WHERE kind = 'digest'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}: {}", run.text()));
    let run = flywheel(&config, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        problems(&run).contains("1 email could not be delivered and will not be retried"),
        "{}",
        run.stdout
    );
    assert!(
        problems(&run).contains("5.1.1 mailbox unavailable"),
        "{}",
        run.stdout
    );

    // A later delivery (a test email that gets through) does not clear it.
    let run = flywheel(&config, &["send-test-email"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(server.messages().len(), 2);
    let run = flywheel(&config, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        problems(&run).contains("could not be delivered"),
        "{}",
        run.stdout
    );

    // The operator saw it: cleared, and the row is kept.
    let run = flywheel(&config, &["status", "--clear-failures"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(
        run.stdout
            .contains("cleared 1 given-up email: status no longer counts it"),
        "{}",
        run.stdout
    );
    let run = flywheel(&config, &["status"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(
        run.stdout
            .contains("\nOUTBOX: 0 queued, 1 given up (1 cleared)\n"),
        "{}",
        run.stdout
    );
    let kept: i64 = h
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE id = ?1 AND sent_at IS NULL",
            [digest],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1);
}
