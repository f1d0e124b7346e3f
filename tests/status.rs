//! `flywheel status` and `flywheel backup` (the real binary) against the
//! simulated marketplace: a health check that exits 1 exactly when a human
//! is needed, and an online backup taken while another connection writes.

mod common;

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
