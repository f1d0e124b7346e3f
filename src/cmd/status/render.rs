//! The two outputs of `status` (pure): the table for people, the JSON for
//! scripts and monitoring.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::report::{Freshness, JobStatus, Report};

/// Firing alerts listed in the table (the JSON lists all).
const ALERTS_SHOWN: usize = 20;

/// Cuts a message to `max` characters for one line of output.
pub(super) fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

/// "5 min", "3 h 20 min", "30 h", "4 d".
pub(super) fn span(d: Duration) -> String {
    let m = d.num_minutes().abs();
    match m {
        0 => "under a minute".to_string(),
        1..=59 => format!("{m} min"),
        60..=599 if m % 60 != 0 => format!("{} h {} min", m / 60, m % 60),
        60..=2879 => format!("{} h", m / 60),
        _ => format!("{} d", m / 1440),
    }
}

pub(super) fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    if t > now {
        format!("in {}", span(t - now))
    } else if now - t < Duration::minutes(1) {
        "just now".to_string()
    } else {
        format!("{} ago", span(now - t))
    }
}

pub(super) fn local_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The JSON output: one object (DESIGN §6).
pub fn render_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("the report serializes");
    s.push('\n');
    s
}

/// Left-aligned columns separated by two spaces.
fn columns(rows: &[Vec<String>], indent: &str) -> String {
    let n = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..n)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(indent);
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// "daemon: running since 2026-03-02 08:00, pid 4242" or "daemon: not
/// running", with when one last ran here.
fn daemon_line(r: &Report) -> String {
    let d = &r.daemon;
    let pid = |p: Option<u32>| p.map(|p| format!(", pid {p}")).unwrap_or_default();
    if d.running {
        return match d.since {
            Some(t) => format!(
                "daemon: running since {}{}{}\n",
                local_time(t, r.timezone),
                if d.since_on_other_clock {
                    " (system clock)"
                } else {
                    ""
                },
                pid(d.pid)
            ),
            None => format!("daemon: running{}\n", pid(d.pid)),
        };
    }
    match d.last_run_at {
        Some(t) if d.expected => format!(
            "daemon: NOT RUNNING (its newest job run started {}{}; see PROBLEMS)\n",
            ago(r.at, t),
            pid(d.last_run_pid)
        ),
        Some(t) => format!(
            "daemon: not running (its newest job run started at {})\n",
            local_time(t, r.timezone)
        ),
        None => "daemon: not running\n".to_string(),
    }
}

/// "alerts: 3 critical, 12 warning firing (`flywheel alerts`)": business
/// alerts, counted apart from the operations' problems.
fn alerts_line(r: &Report) -> String {
    let count = |s: &str| r.alerts.firing.get(s).copied().unwrap_or(0);
    let parts: Vec<String> = ["critical", "warning", "info"]
        .into_iter()
        .filter(|s| count(s) > 0)
        .map(|s| format!("{} {s}", count(s)))
        .collect();
    if parts.is_empty() {
        return "alerts: none firing\n".to_string();
    }
    let muted = r.alerts.list.iter().filter(|a| a.muted.is_some()).count();
    format!(
        "alerts: {} firing{} (`flywheel alerts`){}\n",
        parts.join(", "),
        if muted > 0 {
            format!(", {muted} acked or silenced")
        } else {
            String::new()
        },
        match r.fail_on {
            Some(s) => format!("; --fail-on {}", s.as_str()),
            None => "; they do not change the exit code".to_string(),
        }
    )
}

/// The table output: readable in a terminal, times in the configured zone.
pub fn render_table(r: &Report) -> String {
    let now = r.at;
    let tz = r.timezone;
    let short = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m-%d %H:%M").to_string();
    let mut out = String::new();
    if r.healthy {
        let jobs: usize = r
            .accounts
            .iter()
            .map(|a| a.jobs.iter().filter(|j| j.scheduled).count())
            .sum();
        let newest = r
            .accounts
            .iter()
            .flat_map(|a| &a.jobs)
            .filter_map(|j| j.last_success)
            .max();
        out.push_str(&format!(
            "all is well: {} account{}, {jobs} scheduled job{}{}\n",
            r.accounts.len(),
            if r.accounts.len() == 1 { "" } else { "s" },
            if jobs == 1 { "" } else { "s" },
            newest
                .map(|t| format!(", newest success {}", ago(now, t)))
                .unwrap_or_default()
        ));
    } else {
        out.push_str(&format!(
            "NEEDS ATTENTION: {} problem{} (see PROBLEMS below)\n",
            r.problems.len(),
            if r.problems.len() == 1 { "" } else { "s" }
        ));
    }
    out.push_str(&format!(
        "as of {} {}, database {}{}\n",
        local_time(now, tz),
        tz.name(),
        r.database,
        if r.database_exists {
            ""
        } else {
            " (does not exist)"
        }
    ));

    out.push_str(&daemon_line(r));
    out.push_str(&alerts_line(r));

    let fresh: HashMap<(&str, &str), &Freshness> = r
        .freshness
        .iter()
        .map(|f| ((f.account.as_str(), f.job.as_str()), f))
        .collect();
    for a in &r.accounts {
        out.push_str(&format!(
            "\nACCOUNT {} ({})\n",
            a.account,
            a.marketplaces.join(", ")
        ));
        let mut rows = vec![[
            "JOB",
            "NEWEST",
            "LAST SUCCESS",
            "NEXT RUN",
            "RUNS 24H",
            "ROWS 24H",
            "FRESHNESS",
        ]
        .map(String::from)
        .to_vec()];
        for j in &a.jobs {
            let newest = match (&j.running_since, j.newest_status.as_deref()) {
                (Some(_), None | Some("ok")) => "running".to_string(),
                (Some(_), Some(s)) => format!("running (last {s})"),
                (None, Some(s)) => s.to_string(),
                (None, None) => "never ran".to_string(),
            };
            let next = if j.scheduled {
                j.next_run.map(short).unwrap_or_else(|| "-".into())
            } else {
                j.schedule.clone()
            };
            let freshness = match fresh.get(&(a.account.as_str(), j.job.as_str())) {
                Some(f) if f.stale => format!(
                    "STALE{}",
                    f.allowed_hours
                        .map(|h| format!(" (allowed {h:.0} h)"))
                        .unwrap_or_default()
                ),
                Some(f) => match (j.last_success, f.allowed_hours) {
                    (Some(_), Some(h)) => format!("ok (allowed {h:.0} h)"),
                    (Some(_), None) => "ok".to_string(),
                    (None, _) => "-".to_string(),
                },
                None => "-".to_string(),
            };
            rows.push(vec![
                j.job.clone(),
                newest,
                j.last_success
                    .map(|t| format!("{} ({})", short(t), ago(now, t)))
                    .unwrap_or_else(|| "never".into()),
                next,
                match (j.failed_24h, j.interrupted_24h) {
                    (0, 0) => j.runs_24h.to_string(),
                    (f, 0) => format!("{} ({f} failed)", j.runs_24h),
                    (0, i) => format!("{} ({i} interrupted)", j.runs_24h),
                    (f, i) => format!("{} ({f} failed, {i} interrupted)", j.runs_24h),
                },
                j.rows_24h.to_string(),
                freshness,
            ]);
        }
        out.push_str(&columns(&rows, "  "));

        let errors: Vec<&JobStatus> = a.jobs.iter().filter(|j| j.last_error.is_some()).collect();
        if !errors.is_empty() {
            out.push_str("  last errors:\n");
            for j in errors {
                let Some(e) = &j.last_error else { continue };
                let recovered = match (e.at, j.last_success) {
                    (Some(at), Some(ok)) if ok > at => " (succeeded since)",
                    _ => "",
                };
                out.push_str(&format!(
                    "    {} {}{recovered}: {}\n",
                    j.job,
                    e.at.map(|t| format!("{} ({})", short(t), ago(now, t)))
                        .unwrap_or_default(),
                    clip(&e.message, 160)
                ));
            }
        }
        let calls: Vec<String> = a
            .api_calls
            .iter()
            .map(|c| {
                let mut s = format!("{} {}", c.api, c.calls);
                if c.throttled > 0 || c.errors > 0 {
                    s.push_str(&format!(
                        " ({} throttled, {} server errors)",
                        c.throttled, c.errors
                    ));
                }
                s
            })
            .collect();
        let totals = if calls.is_empty() {
            "none counted".to_string()
        } else {
            calls.join("; ")
        };
        if a.api_calls_complete {
            out.push_str(&format!(
                "  API calls, last 24 h: {}\n",
                if calls.is_empty() { "none" } else { &totals }
            ));
        } else {
            // A lower bound, said so: the calls of interrupted runs died
            // with their process, those of running ones are written later.
            let n = a.api_calls_uncounted_runs;
            out.push_str(&format!(
                "  API calls, last 24 h: at least {totals} (the calls of {n} run{} not counted: interrupted or still running)\n",
                if n == 1 { " are" } else { "s are" }
            ));
        }
        for u in &a.unavailable {
            out.push_str(&format!(
                "  unavailable: {} since {} (a missing role: `flywheel doctor --account {}` says which; retried daily){}\n",
                u.job,
                u.since.map(short).unwrap_or_default(),
                a.account,
                u.error
                    .as_deref()
                    .map(|e| format!(": {}", clip(e, 120)))
                    .unwrap_or_default()
            ));
        }
        if a.pending_reports > 0 || a.reports_awaiting_retry > 0 {
            out.push_str(&format!(
                "  reports: {} pending at Amazon{}{}\n",
                a.pending_reports,
                a.oldest_pending_report
                    .map(|t| format!(" (oldest requested {})", ago(now, t)))
                    .unwrap_or_default(),
                if a.reports_awaiting_retry > 0 {
                    format!(
                        ", {} ended FATAL and wait to be retried",
                        a.reports_awaiting_retry
                    )
                } else {
                    String::new()
                }
            ));
        }
        for c in &a.credential_problems {
            out.push_str(&format!(
                "  credentials: {} API refused ({}) since {}{}\n",
                if c.api == "ads" { "Ads" } else { "SP" },
                c.error_kind,
                c.first_seen_at.map(short).unwrap_or_default(),
                c.detail
                    .as_deref()
                    .map(|d| format!(": {}", clip(d, 120)))
                    .unwrap_or_default()
            ));
        }
    }

    let count = |s: &str| r.alerts.firing.get(s).copied().unwrap_or(0);
    out.push_str(&format!(
        "\nALERTS firing: {} critical, {} warning, {} info\n",
        count("critical"),
        count("warning"),
        count("info")
    ));
    if !r.alerts.list.is_empty() {
        let mut rows = vec![[
            "ID", "SEVERITY", "RULE", "ACCOUNT", "SUBJECT", "SINCE", "MUTED",
        ]
        .map(String::from)
        .to_vec()];
        for a in r.alerts.list.iter().take(ALERTS_SHOWN) {
            rows.push(vec![
                a.id.clone(),
                a.severity.as_str().to_string(),
                a.rule.clone(),
                a.account.clone(),
                a.subject.clone(),
                short(a.since),
                a.muted.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&columns(&rows, "  "));
        if r.alerts.list.len() > ALERTS_SHOWN {
            out.push_str(&format!(
                "  ... and {} more: `flywheel alerts` lists them all\n",
                r.alerts.list.len() - ALERTS_SHOWN
            ));
        }
    }

    let o = &r.outbox;
    out.push_str(&format!(
        "\nOUTBOX: {} queued{}, {} given up{}\n",
        o.pending,
        if o.failing > 0 {
            format!(" ({} failing)", o.failing)
        } else {
            String::new()
        },
        o.failed,
        if o.failed > o.failed_uncleared {
            format!(" ({} cleared)", o.failed - o.failed_uncleared)
        } else {
            String::new()
        }
    ));
    if o.cleared > 0 {
        out.push_str(&format!(
            "  cleared {} given-up email{}: status no longer counts {} (kept in the outbox)\n",
            o.cleared,
            if o.cleared == 1 { "" } else { "s" },
            if o.cleared == 1 { "it" } else { "them" }
        ));
    }
    if let Some(e) = &r.outbox.oldest_pending {
        out.push_str(&format!(
            "  oldest queued: \"{}\" created {}, {} attempt{}{}\n",
            clip(&e.subject, 60),
            e.created_at.map(|t| ago(now, t)).unwrap_or_default(),
            e.attempts,
            if e.attempts == 1 { "" } else { "s" },
            e.last_error
                .as_deref()
                .map(|m| format!(", last error: {}", clip(m, 120)))
                .unwrap_or_default()
        ));
    }
    for e in &r.outbox.failures {
        out.push_str(&format!(
            "  given up: #{} \"{}\" created {}: {}\n",
            e.id,
            clip(&e.subject, 60),
            e.created_at.map(short).unwrap_or_default(),
            clip(e.last_error.as_deref().unwrap_or("no error recorded"), 120)
        ));
    }

    let chat: Vec<_> = o
        .receivers
        .iter()
        .filter(|b| b.chat || b.held > 0)
        .collect();
    if !chat.is_empty() {
        out.push_str("\nRECEIVERS\n");
        for b in chat {
            out.push_str(&format!(
                "  {}: {} queued{}, {} given up{}{}\n",
                b.receiver,
                b.pending,
                if b.failing > 0 {
                    format!(" ({} failing)", b.failing)
                } else {
                    String::new()
                },
                b.failed,
                if b.held > 0 {
                    format!(", {} held for its batch", b.held)
                } else {
                    String::new()
                },
                b.last_error
                    .as_deref()
                    .map(|m| format!("; last error: {}", clip(m, 160)))
                    .unwrap_or_default()
            ));
        }
    }

    if !r.problems.is_empty() {
        out.push_str("\nPROBLEMS\n");
        for p in &r.problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out.push_str(&format!("\ntimes in {}\n", tz.name()));
    out
}
