//! Job runs whose process stopped, or whose outcome the database would not
//! take, never leave `flywheel status` green (issue 14, items 2, 11, 12):
//! the real binary against the simulated marketplace, killed, locked out
//! of its database, and stopped with SIGTERM.
//!
//! The sim's `slow` fault (every answer held back 3 s of wall time) keeps a
//! job in flight long enough to kill or stop the process in the middle of
//! it; nothing here asserts on time.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Runs `flywheel ARGS --config CONFIG` to its end, off the async runtime
/// (the sim it talks to is served by this test's runtime).
async fn flywheel(config: &Path, args: &[&str]) -> Run {
    let mut cmd = command(config, args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn command(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flywheel"));
    cmd.args(args)
        .args(["--config", config.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .env_remove("FLYWHEEL_CONFIG");
    cmd
}

/// Starts `flywheel ARGS` in the background, its stderr in `log`.
fn spawn(config: &Path, args: &[&str], log: &Path) -> Child {
    command(config, args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("flywheel starts")
}

/// Waits for the child to exit (bounded); its exit code.
async fn wait_exit(child: &mut Child, limit: Duration) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-1);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("flywheel did not exit within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) until `f` holds.
async fn until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn int(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// (id, job, status, error) of every run after `after`, by id.
fn runs_after(conn: &Connection, after: i64) -> Vec<(i64, String, String, Option<String>)> {
    conn.prepare("SELECT id, job, status, error FROM job_runs WHERE id > ?1 ORDER BY id")
        .unwrap()
        .query_map([after], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Replaces the sim's faults while it runs.
async fn set_faults(h: &common::Harness, list: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/faults", h.sim.base_url()))
        .query(&[("set", list)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "POST /_sim/faults?set={list}");
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.text()))
}

fn job<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["accounts"][0]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {v}"))
}

/// The text after "PROBLEMS" in `status`'s table.
fn problems(run: &Run) -> String {
    run.stdout
        .split("PROBLEMS\n")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A sync killed with SIGKILL in the middle of a job: the next command
/// closes its run as interrupted, and `status` exits 1 naming it, with the
/// API call totals said to be a lower bound (the killed process's counts
/// died with it), not shown as if complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sync_is_shown_as_interrupted_and_status_exits_1() {
    let h = common::start(common::Opts::new("demo")).await;
    let results = h.sync(&[JobName::Inventory]).await;
    assert_eq!(results[0].status, RunStatus::Ok, "{results:?}");
    let account = results[0].account.clone();
    let calls_before = h.int("SELECT COALESCE(SUM(calls), 0) FROM api_call_counts");
    assert!(calls_before > 0);
    // A healthy status first: what the killed run must not leave behind.
    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 0, "{}", run.text());

    set_faults(&h, "slow=1").await;
    let last = h.int("SELECT MAX(id) FROM job_runs");
    let log = h.dir.path().join("sync.log");
    let mut child = spawn(&h.config_path, &["sync", "--job", "inventory"], &log);
    let conn = flywheel::store::open(h.database()).unwrap();
    until("the sync's run to start", Duration::from_secs(60), || {
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM job_runs WHERE id > {last} AND status = 'running'"),
        ) > 0
    })
    .await;
    child.kill().unwrap(); // SIGKILL, in the middle of the job (answers take 3 s)
    child.wait().unwrap();
    set_faults(&h, "").await;

    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stdout.starts_with("NEEDS ATTENTION"), "{}", run.stdout);
    let p = problems(&run);
    assert!(
        p.contains(&format!(
            "{account}/inventory: the newest run was interrupted"
        )),
        "{}",
        run.stdout
    );
    assert!(p.contains("interrupted:"), "the recorded reason: {p}");
    // The totals are a lower bound, and said to be.
    assert!(
        run.stdout.contains("API calls, last 24 h: at least sp "),
        "{}",
        run.stdout
    );

    let killed = runs_after(&conn, last);
    assert_eq!(killed.len(), 1, "{killed:?}");
    assert_eq!(killed[0].2, "interrupted", "{killed:?}");
    let finished: Option<String> = conn
        .query_row(
            "SELECT finished_at FROM job_runs WHERE id = ?1",
            [killed[0].0],
            |r| r.get(0),
        )
        .unwrap();
    assert!(finished.is_some());
    assert_eq!(
        int(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'running'"
        ),
        0
    );

    let v = json(&flywheel(&h.config_path, &["status", "--format", "json"]).await);
    assert_eq!(v["healthy"], false);
    let inventory = job(&v, "inventory");
    assert_eq!(inventory["newest_status"], "interrupted", "{inventory}");
    assert!(inventory["running_since"].is_null(), "{inventory}");
    assert_eq!(inventory["interrupted_24h"], 1, "{inventory}");
    let a = &v["accounts"][0];
    assert_eq!(a["api_calls_complete"], false, "{a}");
    assert_eq!(a["api_calls_uncounted_runs"], 1, "{a}");
    let shown: i64 = a["api_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["calls"].as_i64().unwrap())
        .sum();
    assert!(shown >= calls_before, "{shown} < {calls_before}");

    // A successful run of the job makes status green again.
    let results = h.sync(&[JobName::Inventory]).await;
    assert_eq!(results[0].status, RunStatus::Ok, "{results:?}");
    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
}

/// Another process holds the database (BEGIN EXCLUSIVE) for 30 s while a
/// sync's job ends: the outcome it could not write at once is written when
/// the lock is released, before the sync exits, so no run is left
/// 'running' and `status` tells what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_blocked_by_a_locked_database_is_recorded_when_it_is_released() {
    let h = common::start(common::Opts::new("demo")).await;
    let account = h.cfg.accounts[0].name.clone();
    set_faults(&h, "slow=1").await;
    let last = h.int("SELECT COALESCE(MAX(id), 0) FROM job_runs");
    let log = h.dir.path().join("sync.log");
    let mut child = spawn(&h.config_path, &["sync", "--job", "inventory"], &log);
    let database = h.database().to_path_buf();
    let conn = flywheel::store::open(&database).unwrap();
    until("the sync's run to start", Duration::from_secs(60), || {
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM job_runs WHERE id > {last}"),
        ) > 0
    })
    .await;
    // The job is waiting for its first answer (3 s): lock it out now.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let locker = std::thread::spawn(move || {
        let c = Connection::open(&database).unwrap();
        c.busy_timeout(Duration::from_secs(30)).unwrap();
        c.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(30));
        c.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    let code = wait_exit(&mut child, Duration::from_secs(150)).await;
    locker.join().unwrap();
    set_faults(&h, "").await;
    let log_text = std::fs::read_to_string(&log).unwrap();

    // The job could not write its rows, so it failed; that outcome reached
    // the database although the first attempt to write it was refused.
    assert_eq!(code, 1, "{log_text}");
    let runs = runs_after(&conn, last);
    assert_eq!(runs.len(), 1, "{runs:?}\n{log_text}");
    let (_, job_name, status, error) = &runs[0];
    assert_eq!(job_name, "inventory");
    assert_eq!(status, "failed", "{runs:?}\n{log_text}");
    assert!(
        error.as_deref().unwrap_or_default().contains("locked"),
        "{runs:?}"
    );
    assert_eq!(
        int(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'running'"
        ),
        0,
        "{log_text}"
    );
    // Its calls were counted too.
    assert!(int(&conn, "SELECT COALESCE(SUM(calls), 0) FROM api_call_counts") > 0);

    let run = flywheel(&h.config_path, &["status"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let p = problems(&run);
    assert!(
        p.contains(&format!("{account}/inventory: the newest run failed")),
        "{}",
        run.stdout
    );
    assert!(p.contains("locked"), "{p}");
    assert!(
        !run.stdout.contains("at least"),
        "every run's calls were counted: {}",
        run.stdout
    );
}

/// The sim's config for the daemon: only `jobs` scheduled (daily), the
/// digest off, and `daemon_extra` in `[daemon]`.
fn daemon_config(h: &common::Harness, jobs: &[JobName], daemon_extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(&h.config_path).unwrap().replacen(
        "\n[daemon]\n",
        &format!("\n[daemon]\n{daemon_extra}\n"),
        1,
    );
    let mut schedule = String::from("\n[schedule]\n");
    for job in JobName::ALL {
        let cron = if jobs.contains(job) {
            "5 0 * * *"
        } else {
            "off"
        };
        schedule.push_str(&format!("{} = \"{cron}\"\n", job.as_str()));
    }
    schedule.push_str("digest = \"off\"\n");
    let p = h.dir.path().join("daemon.toml");
    std::fs::write(&p, format!("{text}{schedule}")).unwrap();
    p
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Files the `file` email transport wrote.
fn mails(h: &common::Harness) -> Vec<String> {
    std::fs::read_dir(h.dir.path().join("mail"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// SIGTERM while the first backfill's first phase runs: the jobs in flight
/// finish, and nothing new starts: not the second phase (fees), not the
/// evaluation, so no email is queued or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_first_backfill_starts_nothing_new() {
    let h = common::start(common::Opts::new("demo")).await;
    let phase0 = [JobName::Inventory, JobName::Listings, JobName::Pricing];
    let mut jobs = phase0.to_vec();
    jobs.push(JobName::Fees);
    // Long enough for the jobs in flight to finish.
    let cfg = daemon_config(&h, &jobs, "shutdown_timeout = \"120s\"");
    set_faults(&h, "slow=1").await;
    let log = h.dir.path().join("run.log");
    let mut child = spawn(&cfg, &["run"], &log);
    let conn = flywheel::store::open(h.database()).unwrap();
    until("the first round to start", Duration::from_secs(60), || {
        int(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'running'",
        ) > 0
    })
    .await;
    signal(&child, "TERM");
    let code = wait_exit(&mut child, Duration::from_secs(150)).await;
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 0, "{log_text}");

    let runs = runs_after(&conn, 0);
    let names: Vec<&str> = runs.iter().map(|r| r.1.as_str()).collect();
    let mut expected: Vec<&str> = phase0.iter().map(|j| j.as_str()).collect();
    expected.sort();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted, expected,
        "only the first phase's jobs ran, once each: {runs:?}\n{log_text}"
    );
    // They finished (the timeout allowed it): nothing left open.
    for r in &runs {
        assert!(r.2 != "running" && r.2 != "interrupted", "{runs:?}");
    }
    assert_eq!(
        int(
            &conn,
            "SELECT COUNT(*) FROM evaluation_dates WHERE recorded_by = 'evaluate'"
        ),
        0,
        "no evaluation after SIGTERM\n{log_text}"
    );
    assert_eq!(int(&conn, "SELECT COUNT(*) FROM outbox"), 0);
    assert!(mails(&h).is_empty(), "{:?}", mails(&h));
    // The cursors of what ran are in place for the next start.
    assert!(
        int(
            &conn,
            "SELECT COUNT(*) FROM job_cursors WHERE job = 'inventory'"
        ) > 0
    );

    // The next start evaluates what that round synced, although none of
    // its jobs is due again (fees is off now).
    set_faults(&h, "").await;
    let cfg = daemon_config(&h, &phase0, "");
    let log = h.dir.path().join("run2.log");
    let mut child = spawn(&cfg, &["run"], &log);
    until(
        "the evaluation the stop skipped",
        Duration::from_secs(60),
        || {
            int(
                &conn,
                "SELECT COUNT(*) FROM evaluation_dates WHERE recorded_by = 'evaluate'",
            ) > 0
        },
    )
    .await;
    signal(&child, "TERM");
    let code = wait_exit(&mut child, Duration::from_secs(60)).await;
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 0, "{log_text}");
    assert_eq!(runs_after(&conn, 0).len(), runs.len(), "no job was due");
}

/// A daemon's runs in flight are left alone by other commands (its lock is
/// held), and the ones it abandons at its shutdown deadline it closes
/// itself as interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_daemons_runs_are_left_alone_and_abandoned_ones_closed() {
    let h = common::start(common::Opts::new("demo")).await;
    let cfg = daemon_config(
        &h,
        &[JobName::Inventory, JobName::Listings],
        "shutdown_timeout = \"1s\"",
    );
    set_faults(&h, "slow=1").await;
    let log = h.dir.path().join("run.log");
    let mut child = spawn(&cfg, &["run"], &log);
    let conn = flywheel::store::open(h.database()).unwrap();
    until("the first round to start", Duration::from_secs(60), || {
        int(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'running'",
        ) > 0
    })
    .await;
    // A command opening the database beside the daemon closes nothing.
    let run = flywheel(&cfg, &["alerts"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        int(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'interrupted'"
        ),
        0,
        "a live daemon's runs were closed"
    );
    signal(&child, "TERM");
    let code = wait_exit(&mut child, Duration::from_secs(60)).await;
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 0, "{log_text}");
    let runs = runs_after(&conn, 0);
    assert!(
        runs.iter().all(|r| r.2 != "running"),
        "{runs:?}\n{log_text}"
    );
    let interrupted: Vec<_> = runs.iter().filter(|r| r.2 == "interrupted").collect();
    assert!(!interrupted.is_empty(), "{runs:?}\n{log_text}");
    for r in interrupted {
        let e = r.3.as_deref().unwrap_or_default();
        assert!(e.contains("shutdown_timeout"), "{e}");
    }
}
