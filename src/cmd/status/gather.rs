//! Reads what `status` shows from the database: a few short queries in
//! `store::status`, no transaction held, nothing written; the stale-data
//! and credential verdicts are the `data_freshness` and `credentials`
//! rules' own findings.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value;

use super::report::*;
use crate::amazon::http::Api;
use crate::config::{Account, Config, RuleId};
use crate::rules::snapshot::{JobState, Snapshot};
use crate::rules::{Finding, Status as FindingStatus};
use crate::store::{self, status as q};
use crate::sync::JobName;

/// The window the per-job totals and API call counts cover.
pub const RECENT: Duration = Duration::hours(24);

/// Permanently failed emails listed (the count covers all of them).
const FAILED_EMAILS_SHOWN: usize = 5;

/// The rules whose findings `status` reports.
const META_RULES: [RuleId; 2] = [RuleId::DataFreshness, RuleId::Credentials];

/// The configuration reduced to the rules `status` evaluates, so building
/// snapshots reads only the job table and the credential problems (not
/// months of orders and ads). Overrides of other rules go too: one that
/// enables a rule would otherwise make the snapshot read its data.
fn meta_only(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    if let Ok(mut table) = toml::Table::try_from(&c.rules) {
        for id in RuleId::ALL.iter().filter(|r| !META_RULES.contains(r)) {
            if let Some(toml::Value::Table(t)) = table.get_mut(id.as_str()) {
                t.insert("enabled".into(), toml::Value::Boolean(false));
            }
        }
        if let Ok(rules) = crate::config::Rules::deserialize(toml::Value::Table(table)) {
            c.rules = rules;
        }
    }
    c.overrides
        .retain(|o| META_RULES.iter().any(|r| r.as_str() == o.rule));
    c
}

/// Whether the account has credentials for the API `job` calls.
fn has_api(account: &Account, job: JobName) -> bool {
    match job.api() {
        Api::SpApi => account.sp_api.is_some(),
        Api::Ads => account.ads.is_some(),
    }
}

/// Reads everything the report shows. `problems` and `healthy` are left
/// for [`problems`] to fill.
pub fn gather(conn: &Connection, cfg: &Config, now: DateTime<Utc>) -> anyhow::Result<Report> {
    let since = now - RECENT;
    let runs = q::job_runs(conn, since)?;
    let calls = q::api_calls(conn, since)?;
    let reports = q::pending_reports(conn)?;
    let creds = q::credential_problems(conn)?;

    let meta = meta_only(cfg);
    let snaps = store::snapshot::build_all(conn, &meta, None, now)?;
    let (_, found) = crate::rules::check::findings(&meta, &snaps, None, now, &META_RULES);
    let firing: Vec<Finding> = found
        .into_iter()
        .filter(|f| f.status == FindingStatus::Firing)
        .collect();
    let stale = stale_jobs(&firing);
    let allowed = allowed_staleness(&meta, now);

    let runs_by_key: HashMap<(&str, &str), &q::JobRuns> = runs
        .iter()
        .map(|r| ((r.account.as_str(), r.job.as_str()), r))
        .collect();
    let schedules = cfg.schedule.jobs();
    let tz = cfg.daemon.timezone;
    let mut accounts = Vec::new();
    let mut freshness = Vec::new();
    for account in &cfg.accounts {
        let a = account.name.as_str();
        let mut jobs = Vec::new();
        let mut unavailable = Vec::new();
        for &job in JobName::ALL {
            let r = runs_by_key.get(&(a, job.as_str())).copied();
            let configured = has_api(account, job);
            if !configured && r.is_none() {
                continue;
            }
            let cron = schedules
                .iter()
                .find(|(n, _)| *n == job.as_str())
                .and_then(|(_, s)| s.as_cron());
            let schedule = match (configured, cron) {
                (false, _) => "not configured".to_string(),
                (true, None) => "off".to_string(),
                (true, Some(c)) => c.to_string(),
            };
            let scheduled = configured && cron.is_some();
            let next_run = cron
                .filter(|_| configured)
                .and_then(|c| c.next_after(&now.with_timezone(&tz)))
                .map(|t| t.with_timezone(&Utc));
            let r = r.cloned().unwrap_or_default();
            if r.newest_status.as_deref() == Some("unavailable") {
                unavailable.push(Unavailable {
                    job: job.as_str().to_string(),
                    since: r.newest_at,
                    error: r.newest_error.clone(),
                });
            }
            if scheduled {
                let key = (a.to_string(), job.as_str().to_string());
                freshness.push(Freshness {
                    account: a.to_string(),
                    job: job.as_str().to_string(),
                    stale: stale.contains_key(&key),
                    hours_since_success: r.last_ok.map(|t| hours(now - t)),
                    allowed_hours: stale
                        .get(&key)
                        .copied()
                        .flatten()
                        .or_else(|| allowed.get(&key).copied()),
                });
            }
            jobs.push(JobStatus {
                job: job.as_str().to_string(),
                schedule,
                next_run,
                last_success: r.last_ok,
                newest_status: r.newest_status.clone(),
                newest_at: r.newest_at,
                running_since: r.running_since,
                last_error: r.last_error.clone().map(|message| LastError {
                    at: r.last_error_at,
                    message,
                }),
                runs_24h: r.runs_since,
                rows_24h: r.rows_since,
                failed_24h: r.failed_since,
                interrupted_24h: r.interrupted_since,
                scheduled,
            });
        }
        let pending = reports.iter().find(|p| p.account == a);
        let uncounted: i64 = runs
            .iter()
            .filter(|r| r.account == a)
            .map(|r| r.interrupted_since + r.running)
            .sum();
        accounts.push(AccountStatus {
            account: a.to_string(),
            marketplaces: account
                .marketplaces()
                .iter()
                .map(|m| m.country.to_string())
                .collect(),
            never_synced: !runs.iter().any(|r| r.account == a),
            jobs,
            api_calls: calls
                .iter()
                .filter(|c| c.account == a)
                .map(|c| ApiCalls {
                    api: c.api.clone(),
                    calls: c.calls,
                    throttled: c.throttled,
                    errors: c.errors,
                })
                .collect(),
            api_calls_complete: uncounted == 0,
            api_calls_uncounted_runs: uncounted,
            unavailable,
            pending_reports: pending.map_or(0, |p| p.pending),
            reports_awaiting_retry: pending.map_or(0, |p| p.awaiting_retry),
            oldest_pending_report: pending.and_then(|p| p.oldest),
            credential_problems: creds
                .iter()
                .filter(|c| c.account == a)
                .map(|c| CredentialProblem {
                    api: c.api.clone(),
                    error_kind: c.error_kind.clone(),
                    detail: c.detail.clone(),
                    first_seen_at: c.first_seen_at,
                    observed_at: c.observed_at,
                })
                .collect(),
        });
    }

    Ok(Report {
        at: now,
        healthy: false,
        database: cfg.daemon.database.display().to_string(),
        database_exists: true,
        never_synced: runs.is_empty(),
        accounts,
        daemon: daemon(conn, cfg, now)?,
        alerts: alerts(conn, now)?,
        fail_on: None,
        outbox: outbox(conn)?,
        freshness,
        findings: firing.iter().map(Finding::to_json).collect(),
        problems: Vec::new(),
        timezone: tz,
        firing,
    })
}

fn hours(d: Duration) -> f64 {
    (d.num_minutes() as f64 / 60.0 * 10.0).round() / 10.0
}

/// The stale jobs the `data_freshness` findings name, keyed by (account,
/// job), with the hours the rule allows. The rule fires per marketplace
/// while jobs are per account, so one job can appear in several findings.
fn stale_jobs(firing: &[Finding]) -> HashMap<(String, String), Option<f64>> {
    let mut out = HashMap::new();
    for f in firing.iter().filter(|f| f.rule == RuleId::DataFreshness) {
        for (k, v) in &f.evidence {
            if k != "stale_jobs" {
                continue;
            }
            for j in v.as_array().into_iter().flatten() {
                if let Some(job) = j.get("job").and_then(Value::as_str) {
                    let allowed = j.get("allowed_hours").and_then(Value::as_f64);
                    out.insert((f.subject.account.clone(), job.to_string()), allowed);
                }
            }
        }
    }
    out
}

/// How stale each scheduled job may get, per (account, job), as the
/// `data_freshness` rule itself computes it: the rule is evaluated on a
/// probe snapshot where every job last succeeded ten years ago, so it names
/// every job with its allowance. The strictest marketplace wins.
fn allowed_staleness(meta: &Config, now: DateTime<Utc>) -> HashMap<(String, String), f64> {
    let long_ago = now - Duration::days(3650);
    let mut out: HashMap<(String, String), f64> = HashMap::new();
    for account in &meta.accounts {
        let jobs: Vec<JobState> = JobName::ALL
            .iter()
            .filter(|j| has_api(account, **j))
            .map(|j| JobState {
                job: j.as_str().to_string(),
                last_ok: Some(long_ago),
                first_attempt: Some(long_ago),
                last_status: Some("ok".to_string()),
                last_error: None,
            })
            .collect();
        for m in account.marketplaces() {
            let mut probe = Snapshot::empty(&account.name, m.id, now);
            probe.time_zone = m.tz;
            probe.jobs = jobs.clone();
            let date = now.with_timezone(&probe.time_zone).date_naive();
            let found = crate::rules::evaluate(meta, &probe, date);
            for ((a, job), allowed) in stale_jobs(&found) {
                let Some(allowed) = allowed else { continue };
                out.entry((a, job))
                    .and_modify(|x| *x = x.min(allowed))
                    .or_insert(allowed);
            }
        }
    }
    out
}

fn alerts(conn: &Connection, now: DateTime<Utc>) -> anyhow::Result<Alerts> {
    let silences = store::alerts::silences(conn, now)?;
    let mut out = Alerts::default();
    for s in ["critical", "warning", "info"] {
        out.firing.insert(s, 0);
    }
    let firing: Vec<_> = store::alerts::list(conn, false)?
        .into_iter()
        .filter(|a| a.state == crate::alert::state::State::Firing)
        .collect();
    // An account with alerts in several marketplaces: each subject names its.
    let several = crate::model::alert::accounts_in_several_marketplaces(&firing);
    for a in &firing {
        *out.firing.entry(a.severity.as_str()).or_default() += 1;
        let ack = store::alerts::ack_in_force(conn, &a.fingerprint, now)?;
        let silenced = silences.iter().find(|s| s.matches(a.rule, &a.labels));
        let muted = match (silenced, ack) {
            (Some(s), _) => Some(format!("silenced until {}", store::ops::ts(s.expires_at))),
            (None, Some(t)) => Some(format!("acked until {}", store::ops::ts(t))),
            _ => None,
        };
        out.list.push(FiringAlert {
            id: a.short_id().to_string(),
            rule: a.rule.as_str().to_string(),
            severity: a.severity,
            account: a.account.clone(),
            subject: if several.contains(a.account.as_str()) {
                market_subject(&a.labels)
            } else {
                subject_label(&a.labels)
            },
            since: a.firing_since.unwrap_or(a.started_at),
            muted,
        });
    }
    Ok(out)
}

/// "asin B0X sku S1" from an alert's labels; the marketplace when the
/// alert is about the whole marketplace.
fn subject_label(labels: &Value) -> String {
    crate::alert::subject_label(|k| labels.get(k).and_then(Value::as_str))
}

/// [`subject_label`] led by the marketplace's country ("DE sku S1"), for
/// an account with alerts in several marketplaces.
fn market_subject(labels: &Value) -> String {
    let key = |k: &str| labels.get(k).and_then(Value::as_str);
    let only_market = |k: &str| if k == "marketplace" { key(k) } else { None };
    let market = crate::alert::subject_label(only_market);
    let rest = subject_label(labels);
    if rest == market {
        rest
    } else {
        format!("{market} {rest}")
    }
}

fn outbox(conn: &Connection) -> anyhow::Result<Outbox> {
    let backlog = store::outbox::backlog(conn)?;
    let (failing, failing_newest) = q::failing_emails(conn, FAILING_ATTEMPTS)?;
    Ok(Outbox {
        pending: backlog.pending,
        failed: backlog.failed,
        failed_uncleared: q::uncleared_failures(conn)?,
        failing,
        failing_newest,
        oldest_pending: q::oldest_queued_email(conn)?,
        failures: q::failed_emails(conn, FAILED_EMAILS_SHOWN)?,
        cleared: 0,
        receivers: store::outbox::backlog_by_receiver(conn, FAILING_ATTEMPTS)?,
    })
}

/// The daemon as its lock file and its job runs tell it. A daemon is
/// expected when one ran a job in the last [`RECENT`] (clock time); runs
/// of `sync`, `evaluate` and `demo` are not the daemon's (job_runs.daemon).
fn daemon(conn: &Connection, cfg: &Config, now: DateTime<Utc>) -> anyhow::Result<Daemon> {
    let lock = q::daemon_lock(&cfg.daemon.database);
    let newest = q::newest_daemon_run(conn)?;
    Ok(Daemon {
        running: lock.as_ref().is_some_and(|l| l.held),
        pid: lock.as_ref().map(|l| l.pid),
        since: lock.as_ref().and_then(|l| l.started_at),
        since_on_other_clock: cfg.daemon.clock != crate::config::ClockSource::System,
        last_run_at: newest.map(|n| n.0),
        last_run_pid: newest.and_then(|n| n.1),
        expected: newest.is_some_and(|(at, _)| at >= now - RECENT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::status::tests::config;

    #[test]
    fn subjects_of_an_account_in_several_marketplaces_lead_with_its_country() {
        let labels = |extra: serde_json::Value| {
            let mut l = serde_json::json!({"account": "eu", "marketplace": "A1PA6795UKMFR9"});
            for (k, v) in extra.as_object().unwrap() {
                l[k] = v.clone();
            }
            l
        };
        for (extra, one, several) in [
            (serde_json::json!({"sku": "S1"}), "sku S1", "DE sku S1"),
            (serde_json::json!({}), "DE", "DE"),
            (
                serde_json::json!({"campaign_id": "7", "search_term": "mug"}),
                "campaign 7 \"mug\"",
                "DE campaign 7 \"mug\"",
            ),
        ] {
            let l = labels(extra);
            assert_eq!(subject_label(&l), one);
            assert_eq!(market_subject(&l), several);
        }
    }

    #[test]
    fn meta_only_keeps_the_meta_rules_and_their_overrides() {
        let cfg = config(
            r#"
[rules.data_freshness]
max_missed_runs = 5
[[overrides]]
rule = "data_freshness"
account = "shop"
max_missed_runs = 7
[[overrides]]
rule = "conversion_rate"
asin = "B0X"
enabled = true
"#,
        );
        let m = meta_only(&cfg);
        assert!(m.rules.data_freshness.enabled && m.rules.credentials.enabled);
        assert_eq!(m.rules.data_freshness.max_missed_runs, 5);
        assert!(!m.rules.conversion_rate.enabled && !m.rules.growth_stall.enabled);
        assert_eq!(m.overrides.len(), 1);
        assert_eq!(m.overrides[0].rule, "data_freshness");
    }
}
