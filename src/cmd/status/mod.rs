//! `flywheel status`: what the daemon has been doing and whether anything
//! needs a human, read from the database alone (DESIGN §6).
//!
//! It is meant to run beside the daemon and as a health check of the
//! operations (exit 1 when an operator is needed: see [`EXIT_CODES`];
//! business alerts are counted, and change the code only with
//! `--fail-on`), so it only reads: a few short queries in `store::status`,
//! no transaction held, nothing recorded, except what `--clear-failures`
//! asks for. (Opening the database closes the runs whose process is gone
//! as interrupted, as every command does: that is how a killed run stops
//! looking "running".)
//!
//! Whether the daemon runs comes from its lock file beside the database
//! (pid, start, held or not); whether one is expected, from its job runs
//! (`job_runs.daemon`) of the last 24 h.
//!
//! A job needs attention when its newest finished run failed or was
//! interrupted. API calls are counted in memory and written as each run
//! ends, so the calls of an interrupted run (and of one in progress) are
//! not in the totals: `status` then says the totals are a lower bound
//! ("at least"), never a smaller number as if it were complete. Whether data is
//! stale and whether credentials were refused is the rules engine's call,
//! not this module's: it evaluates the `data_freshness` and `credentials`
//! rules exactly as an evaluation round would (on snapshots that read only
//! what those two rules need) and reports their findings, so `status` and
//! the alert emails can never disagree about what is stale.
//!
//! The module gathers a [`Report`] (I/O, `gather`), decides the problems
//! from it ([`problems`], pure) and renders it ([`render_table`],
//! [`render_json`], pure). Nothing here writes to the database.

mod gather;
mod problems;
mod render;
mod report;

use rusqlite::Connection;

use super::Format;
use crate::config::{Config, Severity};
use crate::store;

pub use gather::{gather, RECENT};
pub use problems::{is_failed, problems};
pub use render::{render_json, render_table};
pub use report::*;

/// The exit codes, as `status --help` tells them.
const EXIT_CODES: &str = "\
Exit codes (for health checks and monitoring):
  0  operations are healthy; firing business alerts are counted but do not
     change the code, unless --fail-on asks
  1  an operator is needed: the newest run of a scheduled job failed or was
     interrupted, data is stale, credentials were refused, emails are not
     delivered after retries or were given up (until --clear-failures), or
     the daemon ran here in the last 24 h but no longer holds its lock (also
     when status itself cannot run: the clock or database cannot be read)
  2  usage or configuration error";

/// The business alerts that make `status` exit 1 when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Unmuted critical alerts.
    Critical,
    /// Unmuted critical and warning alerts.
    Warning,
}

/// `flywheel status` arguments.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct StatusArgs {
    /// `table` for people, `json` for scripts and monitoring.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 also while business alerts of this severity or worse fire
    /// (not acked or silenced). By default they are only counted.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Record that the emails given up on so far were seen, so they no
    /// longer make status exit 1 (they stay in the outbox).
    #[arg(long)]
    pub clear_failures: bool,
}

/// Runs the command: the text to print, and whether something needs
/// attention (the CLI then exits 1).
pub async fn run(cfg: &Config, args: &StatusArgs) -> anyhow::Result<(String, bool)> {
    let now = super::read_clock(cfg).await?.now;
    let path = &cfg.daemon.database;
    let exists = path.exists();
    // A status check must not create a database where none is: report an
    // empty one instead (same code path, nothing on disk).
    let conn = if exists {
        store::open_and_migrate(path)?.0
    } else {
        let mut c = Connection::open_in_memory()?;
        store::migrate(&mut c, &path.display().to_string())?;
        c
    };
    // The one write status makes, and only when asked.
    let cleared = if args.clear_failures {
        store::outbox::clear_failures(&conn, now)?
    } else {
        0
    };
    let mut report = gather(&conn, cfg, now)?;
    report.database_exists = exists;
    report.outbox.cleared = cleared;
    report.fail_on = args.fail_on.map(|f| match f {
        FailOn::Critical => Severity::Critical,
        FailOn::Warning => Severity::Warning,
    });
    report.problems = problems(&report);
    report.healthy = report.problems.is_empty();
    let text = match args.format {
        Format::Table => render_table(&report),
        Format::Json => render_json(&report),
    };
    Ok((text, !report.healthy))
}

#[cfg(test)]
pub(super) mod tests {
    use super::render::{ago, span};
    use super::*;
    use crate::store::jobs::{finish_run, start_run, RunStatus};
    use crate::sync::JobName;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde_json::Value;
    use std::path::Path;

    /// One account `shop` in the US with SP-API credentials, then `extra`.
    pub(crate) fn config(extra: &str) -> Config {
        let daemon = r#"timezone = "America/Los_Angeles""#;
        let text = format!("{}{extra}\n", crate::config::test_toml(daemon, "shop"));
        Config::from_toml(&text, Path::new("/x/f.toml"), &Default::default()).unwrap()
    }

    fn db(cfg: &Config, now: DateTime<Utc>) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate(&mut conn, "mem").unwrap();
        store::ops::sync_accounts(&mut conn, cfg, now).unwrap();
        conn
    }

    fn run(conn: &Connection, job: &str, at: DateTime<Utc>, status: RunStatus, err: Option<&str>) {
        let id = start_run(conn, job, "shop", at).unwrap();
        finish_run(conn, id, status, 3, err, at + Duration::minutes(1)).unwrap();
    }

    /// Every SP-API job of `shop` succeeded 30 minutes before [`now`].
    fn all_ok_half_an_hour_ago(conn: &Connection) {
        for j in JobName::ALL.iter().filter(|j| **j != JobName::Ads) {
            run(
                conn,
                j.as_str(),
                now() - Duration::minutes(30),
                RunStatus::Ok,
                None,
            );
        }
    }

    fn report(conn: &Connection, cfg: &Config, now: DateTime<Utc>) -> Report {
        let mut r = gather(conn, cfg, now).unwrap();
        r.problems = problems(&r);
        r.healthy = r.problems.is_empty();
        r
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap()
    }

    #[test]
    fn a_never_synced_database_needs_attention() {
        let cfg = config("");
        let conn = db(&cfg, now());
        let r = report(&conn, &cfg, now());
        assert!(!r.healthy && r.never_synced);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with("never synced"),
            "{:?}",
            r.problems
        );
        let text = render_table(&r);
        assert!(text.starts_with("NEEDS ATTENTION: 1 problem"), "{text}");
        // The Ads job is not listed: the account has no [accounts.ads].
        assert!(!r.accounts[0].jobs.iter().any(|j| j.job == "ads"));
        let orders = &r.accounts[0].jobs[0];
        assert_eq!(
            (orders.job.as_str(), orders.schedule.as_str()),
            ("orders", "*/15 * * * *")
        );
        assert_eq!(
            orders.next_run,
            Some(Utc.with_ymd_and_hms(2026, 3, 2, 16, 15, 0).unwrap())
        );
    }

    #[test]
    fn healthy_when_every_job_succeeded_recently() {
        let cfg = config("[schedule]\nfees = \"off\"");
        let conn = db(&cfg, now());
        all_ok_half_an_hour_ago(&conn);
        let r = report(&conn, &cfg, now());
        assert!(r.healthy, "{:?}", r.problems);
        let text = render_table(&r);
        assert!(
            text.starts_with("all is well: 1 account, 12 scheduled jobs"),
            "{text}"
        );
        let fees = r.accounts[0].jobs.iter().find(|j| j.job == "fees").unwrap();
        assert_eq!(fees.schedule, "off");
        assert!(fees.next_run.is_none());
        // The allowance is the rule's: orders every 15 min x max_missed_runs,
        // at least min_staleness.
        let orders = r.freshness.iter().find(|f| f.job == "orders").unwrap();
        assert!(!orders.stale);
        assert!(orders.allowed_hours.is_some_and(|h| h >= 1.0), "{orders:?}");
        let json: Value = serde_json::from_str(&render_json(&r)).unwrap();
        assert_eq!(json["healthy"], true);
        assert_eq!(
            json["accounts"][0]["jobs"][0]["last_success"],
            "2026-03-02T15:31:00Z"
        );
    }

    #[test]
    fn failures_staleness_and_outbox_are_problems() {
        let cfg = config("");
        let conn = db(&cfg, now());
        all_ok_half_an_hour_ago(&conn);
        // inventory (hourly) failed just now; listings (hourly) last
        // succeeded three days ago; a missing role is reported, not a problem.
        run(
            &conn,
            "inventory",
            now() - Duration::minutes(5),
            RunStatus::Failed,
            Some("HTTP 500 from getInventorySummaries"),
        );
        conn.execute("UPDATE job_runs SET finished_at = '2026-02-27T16:00:00Z', started_at = '2026-02-27T15:59:00Z' WHERE job = 'listings'", []).unwrap();
        run(
            &conn,
            "catalog_ranks",
            now() - Duration::minutes(2),
            RunStatus::Unavailable,
            Some("403"),
        );
        conn.execute(
            "INSERT INTO outbox (account, kind, recipients_json, subject, body_text, created_at, next_attempt_at, last_error, attempts)
             VALUES ('shop', 'firing', '[]', 'Stockout risk', '', '2026-03-02T10:00:00Z', ?1, '550 mailbox unavailable', 3)",
            [store::outbox::PERMANENT],
        )
        .unwrap();
        let r = report(&conn, &cfg, now());
        assert!(!r.healthy);
        let all = r.problems.join("\n");
        assert_eq!(r.problems.len(), 3, "{all}");
        assert!(
            all.contains("shop/inventory: the newest run failed") && all.contains("HTTP 500"),
            "{all}"
        );
        assert!(
            all.contains("shop: stale data: listings (no success for 72 h, allowed 3 h)"),
            "{all}"
        );
        assert!(all.contains("No run has failed since"), "{all}");
        assert!(
            all.contains("1 email could not be delivered") && all.contains("550 mailbox"),
            "{all}"
        );
        assert_eq!(r.accounts[0].unavailable[0].job, "catalog_ranks");
        let text = render_table(&r);
        assert!(text.contains("STALE"), "{text}");
        assert!(text.contains("PROBLEMS\n  - "), "{text}");
        assert!(text.contains("given up: #1 \"Stockout risk\""), "{text}");
    }

    #[test]
    fn an_interrupted_run_is_a_problem_and_its_calls_a_lower_bound() {
        let cfg = config("");
        let conn = db(&cfg, now());
        all_ok_half_an_hour_ago(&conn);
        conn.execute(
            "INSERT INTO api_call_counts (account, api, operation, status_class, hour_start, calls, throttled)
             VALUES ('shop', 'sp', 'getInventorySummaries', '2xx', '2026-03-02T15:00:00Z', 12, 0)",
            [],
        )
        .unwrap();
        let r = report(&conn, &cfg, now());
        assert!(r.healthy, "{:?}", r.problems);
        assert!(r.accounts[0].api_calls_complete);
        assert!(render_table(&r).contains("API calls, last 24 h: sp 12\n"));

        run(
            &conn,
            "inventory",
            now() - Duration::minutes(5),
            RunStatus::Interrupted,
            Some("interrupted: its process (pid 7) stopped before recording how the run ended"),
        );
        let r = report(&conn, &cfg, now());
        assert!(!r.healthy);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with("shop/inventory: the newest run was interrupted at ")
                && r.problems[0].contains("pid 7"),
            "{:?}",
            r.problems
        );
        let a = &r.accounts[0];
        assert!(!a.api_calls_complete);
        assert_eq!(a.api_calls_uncounted_runs, 1);
        let text = render_table(&r);
        assert!(
            text.contains(
                "API calls, last 24 h: at least sp 12 (the calls of 1 run are not counted"
            ),
            "{text}"
        );
        assert!(text.contains("2 (1 interrupted)"), "{text}");

        // The next run succeeds: no longer a problem (the totals stay a
        // lower bound while the interrupted run is in the window).
        run(&conn, "inventory", now(), RunStatus::Ok, None);
        let r = report(&conn, &cfg, now() + Duration::minutes(2));
        assert!(r.healthy, "{:?}", r.problems);
        assert!(!r.accounts[0].api_calls_complete);
    }

    /// The config of [`config`] ("") and its database where every job
    /// succeeded half an hour ago.
    fn healthy() -> (Config, Connection) {
        let cfg = config("");
        let conn = db(&cfg, now());
        all_ok_half_an_hour_ago(&conn);
        (cfg, conn)
    }

    fn alert(conn: &Connection, fp: &str, rule: &str, severity: &str) {
        conn.execute(
            "INSERT INTO alerts (fingerprint, rule, account, labels_json, state, severity,
                 started_at, firing_since, last_evaluated_at, last_finding_json)
             VALUES (?1, ?2, 'shop', '{\"asin\": \"B0X\"}', 'firing', ?3, '2026-03-01T10:00:00Z',
                     '2026-03-01T10:00:00Z', '2026-03-02T15:00:00Z', '{}')",
            rusqlite::params![fp, rule, severity],
        )
        .unwrap();
    }

    #[test]
    fn business_alerts_are_counted_and_need_attention_only_when_asked() {
        let (cfg, conn) = healthy();
        alert(&conn, "aa01", "rating_floor", "critical");
        alert(&conn, "aa02", "conversion_rate", "warning");
        alert(&conn, "aa03", "buy_box", "warning");
        let mut r = report(&conn, &cfg, now());
        assert!(r.healthy, "{:?}", r.problems);
        let text = render_table(&r);
        assert!(
            text.contains(
                "\nalerts: 1 critical, 2 warning firing (`flywheel alerts`); they do not change the exit code\n"
            ),
            "{text}"
        );

        r.fail_on = Some(Severity::Critical);
        let p = problems(&r);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(
                "1 critical alert is firing (--fail-on critical): critical rating_floor for shop asin B0X since"
            ),
            "{p:?}"
        );
        r.fail_on = Some(Severity::Warning);
        let p = problems(&r);
        assert!(
            p[0].starts_with("3 critical or warning alerts are firing (--fail-on warning)"),
            "{p:?}"
        );
        // An acked one is in hand: it does not count.
        store::alerts::ack(&conn, "aa01", now() + Duration::days(1), None, None, now()).unwrap();
        let mut r = report(&conn, &cfg, now());
        r.fail_on = Some(Severity::Critical);
        assert!(problems(&r).is_empty(), "{:?}", problems(&r));
        assert!(
            render_table(&r).contains("\nalerts: 1 critical, 2 warning firing, 1 acked or silenced (`flywheel alerts`); --fail-on critical\n"),
            "{}",
            render_table(&r)
        );
    }

    /// A job run of a daemon (pid 4242) that started `hours` before now.
    fn daemon_run(conn: &Connection, hours: i64) {
        let at = store::ops::ts(now() - Duration::hours(hours));
        conn.execute(
            "INSERT INTO job_runs (job, account, started_at, finished_at, status, pid, daemon)
             VALUES ('orders', 'shop', ?1, ?1, 'ok', 4242, 1)",
            [at],
        )
        .unwrap();
    }

    #[test]
    fn a_daemon_gone_within_a_day_needs_attention() {
        let (cfg, conn) = healthy();
        // Runs of one-off commands (daemon = 0) never make a daemon expected.
        let r = report(&conn, &cfg, now());
        assert!(r.healthy && !r.daemon.expected && !r.daemon.running);
        assert!(render_table(&r).contains("\ndaemon: not running\n"));

        daemon_run(&conn, 30);
        let r = report(&conn, &cfg, now());
        assert!(r.healthy, "{:?}", r.problems);
        assert!(
            render_table(&r).contains(
                "\ndaemon: not running (its newest job run started at 2026-03-01 02:00)\n"
            ),
            "{}",
            render_table(&r)
        );

        daemon_run(&conn, 2);
        let r = report(&conn, &cfg, now());
        assert!(r.daemon.expected && !r.daemon.running);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with(
                "the daemon (pid 4242) ran against this database in the last 24 h (its newest job run started at 2026-03-02 06:00, 2 h ago) but no longer holds its lock"
            ),
            "{:?}",
            r.problems
        );
        let text = render_table(&r);
        assert!(
            text.contains("\ndaemon: NOT RUNNING (its newest job run started 2 h ago, pid 4242; see PROBLEMS)\n"),
            "{text}"
        );
        let json: Value = serde_json::from_str(&render_json(&r)).unwrap();
        assert_eq!(json["daemon"]["expected"], true);
        assert_eq!(json["daemon"]["running"], false);
        assert_eq!(json["daemon"]["last_run_pid"], 4242);
    }

    fn email(conn: &Connection, subject: &str) -> i64 {
        conn.execute(
            "INSERT INTO outbox (account, kind, recipients_json, subject, body_text, created_at, next_attempt_at)
             VALUES ('shop', 'firing', '[]', ?1, '', '2026-03-02T15:00:00Z', '2026-03-02T15:00:00Z')",
            [subject],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn a_failing_email_clears_on_delivery_and_a_given_up_one_when_cleared() {
        let (cfg, conn) = healthy();
        let retried = email(&conn, "Stockout risk");
        let lost = email(&conn, "Buy box lost");
        let at = now() - Duration::minutes(20);
        for n in 1..=3 {
            store::outbox::mark_failed(&conn, retried, "421 busy", Some(at)).unwrap();
            let r = report(&conn, &cfg, now());
            // Two failed attempts are a blip; the third needs attention.
            assert_eq!(r.healthy, n < 3, "{n}: {:?}", r.problems);
        }
        store::outbox::mark_failed(&conn, lost, "550 no such user", None).unwrap();
        let r = report(&conn, &cfg, now());
        let all = r.problems.join("\n");
        assert_eq!(r.problems.len(), 2, "{all}");
        assert!(
            all.contains("1 email could not be delivered and will not be retried (newest: \"Buy box lost\": 550 no such user)"),
            "{all}"
        );
        assert!(
            all.contains("1 email is not delivered yet after 3 or more attempts (newest: \"Stockout risk\", 3 attempts: 421 busy)"),
            "{all}"
        );
        assert!(render_table(&r).contains("\nOUTBOX: 1 queued (1 failing), 1 given up\n"));

        // Delivered at last: no longer a problem.
        store::outbox::mark_sent(&conn, retried, now()).unwrap();
        let r = report(&conn, &cfg, now());
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(r.problems[0].contains("could not be delivered"));

        // Given up stays until an operator clears it; the row stays.
        assert_eq!(store::outbox::clear_failures(&conn, now()).unwrap(), 1);
        let r = report(&conn, &cfg, now());
        assert!(r.healthy, "{:?}", r.problems);
        assert_eq!((r.outbox.failed, r.outbox.failed_uncleared), (1, 0));
        assert!(render_table(&r).contains("\nOUTBOX: 0 queued, 1 given up (1 cleared)\n"));
        assert_eq!(store::outbox::clear_failures(&conn, now()).unwrap(), 0);
        assert!(store::outbox::get(&conn, lost).unwrap().is_some());
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::minutes(5)), "5 min");
        assert_eq!(span(Duration::minutes(200)), "3 h 20 min");
        assert_eq!(span(Duration::hours(30)), "30 h");
        assert_eq!(span(Duration::hours(100)), "4 d");
        assert_eq!(ago(now(), now() - Duration::seconds(10)), "just now");
        assert_eq!(ago(now(), now() + Duration::minutes(15)), "in 15 min");
    }
}
