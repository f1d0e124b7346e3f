//! The daemon (`flywheel run`) against the simulated marketplace and the
//! in-process SMTP server, on one shared clock (the simulator's).
//!
//! - In-process: over several simulated days alerts fire, repeat after the
//!   interval, and resolve (after a reload disables a rule), each exactly
//!   once, and every email reaches the server exactly once.
//! - The real binary: SIGTERM in the middle of a sync exits 0 within the
//!   bound and the next start resumes with nothing lost or doubled; SIGHUP
//!   with a broken config keeps the daemon on the old one; a second `run`
//!   on the same database exits 1; `status` names the running daemon (pid,
//!   start) and, once it is gone, says so and exits 1.

mod common;
#[path = "common/smtp.rs"]
mod smtp;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use flywheel::config::Env;
use rusqlite::Connection;

/// The harness's config, rewritten for the daemon: `[email]` to the test
/// SMTP server, daily schedules (so a simulated day is one sync round), the
/// digest off, and `extra` appended.
fn daemon_config(h: &common::Harness, port: u16, extra: &str) -> PathBuf {
    let text = smtp::with_smtp(&std::fs::read_to_string(&h.config_path).unwrap(), port);
    let mut schedule = String::from("\n[schedule]\n");
    for job in flywheel::sync::JobName::ALL {
        schedule.push_str(&format!("{} = \"5 0 * * *\"\n", job.as_str()));
    }
    schedule.push_str("digest = \"off\"\n");
    let new = format!("{text}{schedule}\n{extra}");
    let p = h.dir.path().join("daemon.toml");
    std::fs::write(&p, new).unwrap();
    p
}

fn db(path: &Path) -> Connection {
    flywheel::store::open(path).unwrap()
}

/// Waits (bounded) until `f` holds.
async fn until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The newest evaluation (alerts.last_evaluated_at) is at or after `t`.
fn evaluated_since(conn: &Connection, t: DateTime<Utc>) -> bool {
    let s: Option<String> = conn
        .query_row("SELECT MAX(last_evaluated_at) FROM alerts", [], |r| {
            r.get(0)
        })
        .unwrap_or(None);
    s.is_some_and(|s| s >= flywheel::store::ops::ts(t))
}

/// Outbox rows: (id, kind, fingerprints, created_at, message_id, in_reply_to, sent).
type OutRow = (
    i64,
    String,
    Vec<String>,
    String,
    String,
    Option<String>,
    bool,
);

fn outbox(conn: &Connection) -> Vec<OutRow> {
    let mut st = conn
        .prepare(
            "SELECT id, kind, alert_fingerprints_json, created_at, message_id, in_reply_to,
                    sent_at IS NOT NULL FROM outbox ORDER BY id",
        )
        .unwrap();
    st.query_map([], |r| {
        let fps: String = r.get(2)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            serde_json::from_str(&fps).unwrap(),
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alerts_fire_repeat_and_resolve_each_exactly_once() {
    let h = common::start(common::Opts::new("demo")).await;
    let server = smtp::SmtpServer::start().await;
    let cfg_path = daemon_config(&h, server.port(), "[alerts]\nrepeat_interval = \"36h\"\n");
    let database = h.database().to_path_buf();
    let daemon = flywheel::daemon::start(cfg_path.clone(), Env::default());
    let conn = db(&database);

    // Day 0: never-run jobs are due at start; the first round fires alerts.
    until("the first alert email", Duration::from_secs(240), || {
        outbox(&conn).iter().any(|r| r.6)
    })
    .await;
    let first = outbox(&conn);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].1, "firing");
    let first_fps = first[0].2.clone();
    assert!(!first_fps.is_empty());

    // Days 1 and 2: one sync round each (the daily tick at 00:05).
    for day in 1..=2 {
        h.advance("1d").await;
        let t = h.now().await;
        until(
            &format!("day {day}'s evaluation"),
            Duration::from_secs(240),
            || evaluated_since(&conn, t),
        )
        .await;
    }
    // The repeat (48 h ≥ 36 h since day 0) names the day-0 alerts still firing.
    let rows = outbox(&conn);
    let repeat = rows
        .iter()
        .skip(1)
        .find(|r| r.1 == "firing" && r.2.iter().any(|f| first_fps.contains(f)))
        .unwrap_or_else(|| panic!("no repeat email: {rows:#?}"));
    assert!(repeat.3 > first[0].3);

    // A reload that disables one day-0 rule resolves its alerts at the next
    // round: one resolution email, threaded under the day-0 email.
    let rule: String = conn
        .query_row(
            "SELECT rule FROM alerts WHERE state = 'firing' AND fingerprint = ?1",
            [&first_fps[0]],
            |r| r.get(0),
        )
        .unwrap();
    let text = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(
        &cfg_path,
        format!("{text}\n[rules.{rule}]\nenabled = false\n"),
    )
    .unwrap();
    daemon.reload();
    tokio::time::sleep(Duration::from_secs(1)).await;
    h.advance("1d").await;
    let t = h.now().await;
    until(
        "the round after the reload",
        Duration::from_secs(240),
        || evaluated_since(&conn, t),
    )
    .await;
    until(
        "the resolution email is sent",
        Duration::from_secs(60),
        || {
            outbox(&conn)
                .iter()
                .filter(|r| r.1 == "resolved")
                .all(|r| r.6)
                && outbox(&conn).iter().any(|r| r.1 == "resolved")
        },
    )
    .await;
    daemon.shutdown().await.expect("the daemon stops cleanly");

    // Exactly-once, checked over the whole history.
    let rows = outbox(&conn);
    let resolved: Vec<&OutRow> = rows.iter().filter(|r| r.1 == "resolved").collect();
    let disabled: Vec<String> = conn
        .prepare("SELECT fingerprint FROM alerts WHERE rule = ?1")
        .unwrap()
        .query_map([&rule], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for fp in &disabled {
        let n = resolved.iter().filter(|r| r.2.contains(fp)).count();
        assert_eq!(n, 1, "alert {fp} of {rule} resolved in {n} emails");
    }
    let res = resolved
        .iter()
        .find(|r| r.2.contains(&first_fps[0]))
        .unwrap();
    assert_eq!(
        res.5.as_deref(),
        Some(first[0].4.as_str()),
        "threaded under the first email"
    );
    // Per alert: the first firing email, then repeats at least 36 h apart;
    // never two firing emails for one alert in one episode closer than that.
    let mut seen: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.1 == "firing") {
        for fp in &r.2 {
            seen.entry(fp).or_default().push(r.3.parse().unwrap());
        }
    }
    for (fp, times) in &seen {
        for w in times.windows(2) {
            assert!(
                w[1] - w[0] >= chrono::Duration::hours(36)
                    || resolved.iter().any(|r| r.2.iter().any(|x| x == fp)),
                "alert {fp} notified at {} and {}",
                w[0],
                w[1]
            );
        }
    }
    // Every email reached the server exactly once.
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for m in server.messages() {
        let msg = mail_parser::MessageParser::default()
            .parse(&m.data)
            .unwrap();
        *per_id
            .entry(msg.message_id().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_id.len(), rows.len(), "{per_id:?}");
    assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
    assert!(rows.iter().all(|r| r.6), "everything sent");
}

fn spawn_run(cfg: &Path, log: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(["--config", cfg.to_str().unwrap(), "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("flywheel run starts")
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Waits for the child to exit (bounded); its exit code.
async fn wait_exit(child: &mut std::process::Child, limit: Duration) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-1);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("the daemon did not exit within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_sync_exits_0_and_the_next_start_resumes() {
    let h = common::start(common::Opts::new("demo")).await;
    let server = smtp::SmtpServer::start().await;
    let cfg = daemon_config(&h, server.port(), "");
    let database = h.database().to_path_buf();
    let log = h.dir.path().join("run1.log");
    let mut child = spawn_run(&cfg, &log);
    let conn = db(&database);
    // Mid-sync: some job has finished and another is running.
    until("a sync in progress", Duration::from_secs(120), || {
        count(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'running'",
        ) > 0
            && count(
                &conn,
                "SELECT COUNT(*) FROM job_runs WHERE status <> 'running'",
            ) > 0
    })
    .await;
    let t = Instant::now();
    signal(&child, "TERM");
    let code = wait_exit(&mut child, Duration::from_secs(20)).await;
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, 0, "{log_text}");
    // shutdown_timeout is 10 s; a little for process exit.
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");

    // A second daemon on the same database is refused while one runs.
    let log2 = h.dir.path().join("run2.log");
    let mut second = spawn_run(&cfg, &log2);
    until(
        "the restarted daemon holds the lock",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(&log2)
                .unwrap_or_default()
                .contains("daemon started")
        },
    )
    .await;
    let mut again = spawn_run(&cfg, &h.dir.path().join("run3.log"));
    let code = wait_exit(&mut again, Duration::from_secs(30)).await;
    let err = std::fs::read_to_string(h.dir.path().join("run3.log")).unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("another `flywheel run`"), "{err}");

    // The restarted daemon finishes the round: every job ran ok at least once,
    // and nothing is doubled (primary keys) or lost against a sync of the
    // same data by a second client (orders purchased before the start).
    until("every job succeeded", Duration::from_secs(300), || {
        count(
            &conn,
            "SELECT COUNT(DISTINCT job) FROM job_runs WHERE status IN ('ok', 'unavailable')",
        ) >= flywheel::sync::JobName::ALL.len() as i64
    })
    .await;
    signal(&second, "TERM");
    assert_eq!(wait_exit(&mut second, Duration::from_secs(20)).await, 0);
    // No run is left open: finished, or closed as interrupted and re-run.
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM job_runs WHERE status = 'running'"
        ),
        0
    );
    // Orders placed well before the daemon's last orders run began.
    let last_orders: String = conn
        .query_row(
            "SELECT MAX(started_at) FROM job_runs WHERE job = 'orders' AND status = 'ok'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let last_orders: DateTime<Utc> = last_orders.parse().unwrap();
    // What the orders cursor says is covered: a run that resumes the page
    // token of an interrupted one finishes that run's window (which ends
    // where the interrupted run began), so on a loaded machine, where the
    // restart takes many simulated hours, the last run's start can be past
    // what any run has read yet. The next run reads the rest.
    let through: String = conn
        .query_row(
            "SELECT MIN(json_extract(cursor_json, '$.through')) FROM job_cursors WHERE job = 'orders'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let through: DateTime<Utc> = through.parse().unwrap();
    let cutoff = last_orders.min(through);
    // Nothing lost or doubled: the week of orders before the cutoff equals
    // what the simulator holds for that week.
    let a = cutoff - chrono::Duration::days(7) - chrono::Duration::hours(6);
    let b = cutoff - chrono::Duration::hours(6);
    let stored = count(
        &conn,
        &format!(
            "SELECT COUNT(*) FROM orders WHERE purchase_date >= '{}' AND purchase_date < '{}'",
            flywheel::store::ops::ts(a),
            flywheel::store::ops::ts(b)
        ),
    );
    let truth = h.sim.world.orders_purchased(a, b, h.now().await).count() as i64;
    assert!(truth > 100, "{truth}");
    assert_eq!(
        stored, truth,
        "orders of {a}..{b}: stored vs the simulator's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sighup_with_a_broken_config_keeps_the_old_one() {
    let h = common::start(common::Opts::new("demo")).await;
    let server = smtp::SmtpServer::start().await;
    let cfg = daemon_config(&h, server.port(), "");
    // With /metrics on a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(&cfg).unwrap().replacen(
        "\n[daemon]\n",
        &format!("\n[daemon]\nmetrics_listen = \"127.0.0.1:{port}\"\n"),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    let log = h.dir.path().join("run.log");
    let mut child = spawn_run(&cfg, &log);
    let conn = db(h.database());
    until("the first round's email", Duration::from_secs(240), || {
        count(
            &conn,
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL",
        ) > 0
    })
    .await;
    let http = reqwest::Client::new();
    let health = http
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
    let metrics = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "flywheel_job_last_success_timestamp_seconds{",
        "flywheel_api_calls_total{",
        "flywheel_alerts_firing{",
        "flywheel_outbox_backlog{state=\"pending\"}",
        "flywheel_emails_sent_total{kind=\"firing\"} 1",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{good}\n[rules.conversion_rate]\nmin_percnt = 3\n"),
    )
    .unwrap();
    signal(&child, "HUP");
    until(
        "the reload attempt is logged",
        Duration::from_secs(30),
        || {
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("not reloaded")
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon kept running"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("min_percnt"), "{text}");
    assert!(
        text.contains("did you mean"),
        "the check-config message: {text}"
    );
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)).await, 0);
}

/// `flywheel status ARGS` (the binary) on `cfg`: exit code and stdout.
async fn status(cfg: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["--config".to_string(), cfg.display().to_string()];
    all.push("status".into());
    all.extend(args.iter().map(|s| s.to_string()));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
            .args(&all)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_reports_the_running_daemon_and_its_absence() {
    let h = common::start(common::Opts::new("demo")).await;
    let server = smtp::SmtpServer::start().await;
    // Three quick jobs scheduled, the rest off: the first round is short.
    let quick = ["inventory", "listings", "pricing"];
    let text = smtp::with_smtp(
        &std::fs::read_to_string(&h.config_path).unwrap(),
        server.port(),
    );
    let mut schedule = String::from("\n[schedule]\n");
    for job in flywheel::sync::JobName::ALL {
        let when = if quick.contains(&job.as_str()) {
            "5 0 * * *"
        } else {
            "off"
        };
        schedule.push_str(&format!("{} = \"{when}\"\n", job.as_str()));
    }
    schedule.push_str("digest = \"off\"\n");
    let cfg = h.dir.path().join("daemon.toml");
    std::fs::write(&cfg, format!("{text}{schedule}")).unwrap();

    let log = h.dir.path().join("run.log");
    let mut child = spawn_run(&cfg, &log);
    let conn = db(h.database());
    until("the daemon's first round", Duration::from_secs(180), || {
        count(
            &conn,
            "SELECT COUNT(DISTINCT job) FROM job_runs WHERE daemon = 1 AND status = 'ok'",
        ) == quick.len() as i64
    })
    .await;

    let (code, out) = status(&cfg, &[]).await;
    assert_eq!(code, 0, "{out}");
    let line = out.lines().find(|l| l.starts_with("daemon: ")).unwrap();
    assert!(
        line.starts_with("daemon: running since ")
            && line.ends_with(&format!(" (system clock), pid {}", child.id())),
        "{out}"
    );
    let (code, out) = status(&cfg, &["--format", "json"]).await;
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["daemon"]["running"], true, "{out}");
    assert_eq!(v["daemon"]["expected"], true, "{out}");
    assert_eq!(v["daemon"]["pid"], child.id(), "{out}");
    assert!(v["daemon"]["since"].is_string(), "{out}");

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)).await, 0);
    // It ran here minutes ago and is gone: an operator is needed.
    let (code, out) = status(&cfg, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("\ndaemon: NOT RUNNING ("), "{out}");
    let problems = out.split("\nPROBLEMS\n").nth(1).unwrap_or_default();
    assert!(
        problems.contains(&format!(
            "the daemon (pid {}) ran against this database in the last 24 h",
            child.id()
        )) && problems.contains("but no longer holds its lock"),
        "{out}"
    );
    assert_eq!(
        problems.matches("\n  - ").count() + usize::from(problems.starts_with("  - ")),
        1,
        "the daemon is the only problem: {out}"
    );
    let (_, out) = status(&cfg, &["--format", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["daemon"]["running"], false, "{out}");
    assert_eq!(v["daemon"]["last_run_pid"], child.id(), "{out}");
}
