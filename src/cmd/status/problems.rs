//! Every reason `status` exits 1 (pure: a function of the gathered
//! report), each a sentence that says what to do. They are operations
//! only: failed or interrupted jobs, stale data, refused credentials,
//! undelivered emails, a daemon gone. Business alerts count as problems
//! only with `--fail-on`.

use chrono::{DateTime, Utc};

use super::render::{ago, clip, local_time};
use super::report::{Email, FiringAlert, Freshness, Report, FAILING_ATTEMPTS};
use crate::config::{RuleId, Severity};

/// Every reason `status` exits 1, each a sentence that says what to do.
/// Pure: a function of the gathered report.
pub fn problems(r: &Report) -> Vec<String> {
    let now = r.at;
    let local = |t: DateTime<Utc>| local_time(t, r.timezone);
    let mut out = Vec::new();
    if !r.database_exists {
        out.push(format!(
            "never synced: the database {} does not exist. Check `[daemon] database` in the \
             config, then start the daemon (`systemctl start flywheel` or `flywheel run`) or run \
             `flywheel sync` once.",
            r.database
        ));
    } else if r.never_synced {
        out.push(format!(
            "never synced: no sync job has ever run against {}. Start the daemon \
             (`systemctl start flywheel` or `flywheel run`) or run `flywheel sync` once.",
            r.database
        ));
    } else {
        for a in r.accounts.iter().filter(|a| a.never_synced) {
            out.push(format!(
                "account {} has never been synced (other accounts have): is the daemon running \
                 with this config? `flywheel sync --account {}` syncs it now.",
                a.account, a.account
            ));
        }
    }
    for a in &r.accounts {
        for j in &a.jobs {
            if !j.scheduled || !is_failed(j.newest_status.as_deref()) {
                continue;
            }
            let when = j
                .newest_at
                .map(|t| format!(" at {} ({})", local(t), ago(now, t)))
                .unwrap_or_default();
            let why = j
                .last_error
                .as_ref()
                .map(|e| format!(": {}", clip(&e.message, 240)))
                .unwrap_or_default();
            if j.newest_status.as_deref() == Some("interrupted") {
                out.push(format!(
                    "{}/{}: the newest run was interrupted{when}{why}. Its API calls were not \
                     counted. The daemon runs it again at its next tick; `flywheel sync \
                     --account {} --job {}` runs it now.",
                    a.account, j.job, a.account, j.job
                ));
                continue;
            }
            out.push(format!(
                "{}/{}: the newest run failed{when}{why}. `flywheel sync --account {} --job {}` \
                 retries it now and shows the whole error; `flywheel doctor --account {}` checks \
                 the credentials and roles.",
                a.account, j.job, a.account, j.job, a.account
            ));
        }
    }
    // Stale jobs, one sentence per account: when the daemon is down every
    // job goes stale at once, and fourteen sentences would bury the cause.
    for a in &r.accounts {
        let stale: Vec<&Freshness> = r
            .freshness
            .iter()
            .filter(|f| f.stale && f.account == a.account)
            .collect();
        if stale.is_empty() {
            continue;
        }
        let list: Vec<String> = stale
            .iter()
            .map(|f| {
                let since = match f.hours_since_success {
                    Some(h) => format!("no success for {h:.0} h"),
                    None => "never succeeded".to_string(),
                };
                let allowed = f
                    .allowed_hours
                    .map(|h| format!(", allowed {h:.0} h"))
                    .unwrap_or_default();
                format!("{} ({since}{allowed})", f.job)
            })
            .collect();
        let failing = stale.iter().any(|f| {
            a.jobs
                .iter()
                .any(|j| j.job == f.job && is_failed(j.newest_status.as_deref()))
        });
        out.push(format!(
            "{}: stale data: {}, so the rules on it judge old numbers (data_freshness). {}",
            a.account,
            list.join(", "),
            if failing {
                "The runs fail: see the failures in this list and the last errors above."
            } else {
                "No run has failed since: is the daemon running (`systemctl status flywheel`, \
                 `journalctl -u flywheel`)?"
            }
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for f in r.firing.iter().filter(|f| f.rule == RuleId::Credentials) {
        if seen.insert(f.subject.account.clone()) {
            out.push(format!(
                "{}: credentials: {}. {}",
                f.subject.account, f.summary, f.check_first
            ));
        }
    }
    let d = &r.daemon;
    if d.expected && !d.running {
        let last = d
            .last_run_at
            .map(|t| {
                format!(
                    " (its newest job run started at {}, {})",
                    local(t),
                    ago(now, t)
                )
            })
            .unwrap_or_default();
        let pid = d
            .last_run_pid
            .or(d.pid)
            .map(|p| format!(" (pid {p})"))
            .unwrap_or_default();
        out.push(format!(
            "the daemon{pid} ran against this database in the last 24 h{last} but no longer \
             holds its lock: it stopped or died. `systemctl status flywheel` and `journalctl -u \
             flywheel` say why; `systemctl start flywheel` (or `flywheel run`) starts it again."
        ));
    }
    let o = &r.outbox;
    for b in o.receivers.iter().filter(|b| b.chat) {
        let why = b
            .last_error
            .as_deref()
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default();
        if b.failed > 0 {
            out.push(format!(
                "receiver {}: {} message{} could not be delivered and will not be retried{why}. \
                 Fix the receiver in the config and check it with `flywheel send-test --receiver \
                 {}`; `flywheel status --clear-failures` clears this once seen (the messages stay \
                 in the outbox).",
                b.receiver,
                b.failed,
                if b.failed == 1 { "" } else { "s" },
                b.receiver
            ));
        } else if b.failing > 0 {
            out.push(format!(
                "receiver {}: {} message{} not delivered yet after {FAILING_ATTEMPTS} or more \
                 attempts{why}; they are retried. `flywheel send-test --receiver {}` shows what \
                 it answers now.",
                b.receiver,
                b.failing,
                if b.failing == 1 { "" } else { "s" },
                b.receiver
            ));
        }
    }
    if o.failed_uncleared > 0 {
        out.push(format!(
            "{} email{} could not be delivered and will not be retried{}. Fix the [email] \
             settings and check them with `flywheel send-test-email`; `flywheel alerts` shows \
             what the seller missed; `flywheel status --clear-failures` clears this once seen \
             (the emails stay in the outbox).",
            o.failed_uncleared,
            if o.failed_uncleared == 1 { "" } else { "s" },
            newest(o.failures.first(), false)
        ));
    }
    if o.failing > 0 {
        out.push(format!(
            "{} email{} not delivered yet after {FAILING_ATTEMPTS} or more attempts{}. The \
             sender keeps retrying (for 48 h, then gives up); check the [email] settings with \
             `flywheel send-test-email`.",
            o.failing,
            if o.failing == 1 { " is" } else { "s are" },
            newest(o.failing_newest.as_ref(), true)
        ));
    }
    // Business alerts change the exit code only when asked (`--fail-on`):
    // a 4.2-star rating is the seller's news, not an operator's outage.
    let Some(fail_on) = r.fail_on else {
        return out;
    };
    let severe: Vec<&FiringAlert> = r
        .alerts
        .list
        .iter()
        .filter(|a| a.severity >= fail_on && a.muted.is_none())
        .collect();
    if !severe.is_empty() {
        let names: Vec<String> = severe
            .iter()
            .take(3)
            .map(|a| {
                format!(
                    "{} {} for {} {} since {}",
                    a.severity.as_str(),
                    a.rule,
                    a.account,
                    a.subject,
                    local(a.since)
                )
            })
            .collect();
        out.push(format!(
            "{} {} alert{} firing (--fail-on {}): {}{}. `flywheel alerts` lists them; \
             `flywheel ack ID` acknowledges one once it is in hand.",
            severe.len(),
            if fail_on == Severity::Critical {
                "critical"
            } else {
                "critical or warning"
            },
            if severe.len() == 1 { " is" } else { "s are" },
            fail_on.as_str(),
            names.join("; "),
            if severe.len() > 3 {
                format!("; and {} more", severe.len() - 3)
            } else {
                String::new()
            }
        ));
    }
    out
}

/// " (newest: \"SUBJECT\", 3 attempts: ERROR)" about an undelivered email.
fn newest(e: Option<&Email>, attempts: bool) -> String {
    let Some(e) = e else {
        return String::new();
    };
    format!(
        " (newest: \"{}\"{}: {})",
        clip(&e.subject, 80),
        if attempts {
            format!(", {} attempts", e.attempts)
        } else {
            String::new()
        },
        clip(e.last_error.as_deref().unwrap_or("no error recorded"), 200)
    )
}

/// A failed job as `status` (and the operator's health check) counts it:
/// its newest finished run failed, or was interrupted (its process stopped
/// before it recorded how the run ended).
pub fn is_failed(newest_status: Option<&str>) -> bool {
    matches!(newest_status, Some("failed" | "interrupted"))
}
