//! `flywheel status`: what the daemon has been doing and whether anything
//! needs a human, read from the database alone (DESIGN §6).
//!
//! It is meant to run beside the daemon and as a health check (exit 1 when
//! something needs attention), so it only reads: a few short queries in
//! `store::status`, no transaction held, nothing recorded. (Opening the
//! database closes the runs whose process is gone as interrupted, as every
//! command does: that is how a killed run stops looking "running".)
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
//! The module gathers a [`Report`] (I/O), decides the problems from it
//! ([`problems`], pure) and renders it ([`render_table`], [`render_json`],
//! pure). Nothing here writes to the database.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::amazon::http::Api;
use crate::config::{Account, Config, RuleId, Severity};
use crate::rules::snapshot::{JobState, Snapshot};
use crate::rules::{Finding, Status as FindingStatus};
use crate::store::{self, status as q};
use crate::sync::JobName;

/// Output format of `flywheel status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `flywheel status` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// `table` for people, `json` for scripts and monitoring.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// The window the per-job totals and API call counts cover.
pub const RECENT: Duration = Duration::hours(24);

/// Permanently failed emails listed (the count covers all of them).
const FAILED_EMAILS_SHOWN: usize = 5;

/// Firing alerts listed in the table (the JSON lists all).
const ALERTS_SHOWN: usize = 20;

/// The rules whose findings `status` reports.
const META_RULES: [RuleId; 2] = [RuleId::DataFreshness, RuleId::Credentials];

fn ser_ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&store::ops::ts(*t))
}

fn ser_opt_ts<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&store::ops::ts(*t)),
        None => s.serialize_none(),
    }
}

/// Everything `status` knows; serialized as the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(serialize_with = "ser_ts")]
    pub at: DateTime<Utc>,
    /// No problem needs attention (the exit code is 0).
    pub healthy: bool,
    pub database: String,
    /// False when the database file does not exist (nothing ever ran).
    pub database_exists: bool,
    /// No job of any account has ever run.
    pub never_synced: bool,
    pub accounts: Vec<AccountStatus>,
    pub alerts: Alerts,
    pub outbox: Outbox,
    /// Per scheduled job: is its last success older than `data_freshness`
    /// allows?
    pub freshness: Vec<Freshness>,
    /// The firing `data_freshness` and `credentials` findings (DESIGN §2.1 JSON).
    pub findings: Vec<Value>,
    /// Every reason for exit 1, in plain words with what to do.
    pub problems: Vec<String>,
    /// Times in the table are shown in this zone.
    #[serde(skip)]
    pub timezone: chrono_tz::Tz,
    #[serde(skip)]
    firing: Vec<Finding>,
}

/// One configured account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    pub account: String,
    /// No job of this account has ever run.
    pub never_synced: bool,
    pub jobs: Vec<JobStatus>,
    /// API calls in the last 24 h (the counters are per API, not per job).
    pub api_calls: Vec<ApiCalls>,
    /// False when `api_calls` are a lower bound: runs in the window were
    /// interrupted (their calls died uncounted with the process) or are
    /// still in progress (counted when they end).
    pub api_calls_complete: bool,
    /// How many runs' calls are missing from `api_calls`.
    pub api_calls_uncounted_runs: i64,
    /// Jobs whose newest run was refused with 403: a missing role.
    pub unavailable: Vec<Unavailable>,
    /// Reports requested from Amazon and not yet read.
    pub pending_reports: i64,
    /// Reports that ended FATAL and wait out their retry backoff.
    pub reports_awaiting_retry: i64,
    #[serde(serialize_with = "ser_opt_ts")]
    pub oldest_pending_report: Option<DateTime<Utc>>,
    /// Open refusals of the account's credentials by LWA.
    pub credential_problems: Vec<CredentialProblem>,
}

/// One job of one account.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    pub job: String,
    /// The cron expression, "off", or "not configured" (the account has no
    /// credentials for the API the job calls).
    pub schedule: String,
    #[serde(serialize_with = "ser_opt_ts")]
    pub next_run: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub last_success: Option<DateTime<Utc>>,
    /// Status of the newest finished run ("ok", "failed", "unavailable",
    /// "skipped", "interrupted": its process stopped before recording how
    /// it ended); null when the job never ran.
    pub newest_status: Option<String>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub newest_at: Option<DateTime<Utc>>,
    /// A run in progress (or one left behind by a crash).
    #[serde(serialize_with = "ser_opt_ts")]
    pub running_since: Option<DateTime<Utc>>,
    pub last_error: Option<LastError>,
    /// Runs finished in the last 24 h, the rows they wrote, and how many
    /// failed or were interrupted.
    pub runs_24h: i64,
    pub rows_24h: i64,
    pub failed_24h: i64,
    pub interrupted_24h: i64,
    #[serde(skip)]
    scheduled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    #[serde(serialize_with = "ser_opt_ts")]
    pub at: Option<DateTime<Utc>>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiCalls {
    pub api: String,
    pub calls: i64,
    /// Answered 429.
    pub throttled: i64,
    /// Answered 5xx or not at all.
    pub errors: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub job: String,
    #[serde(serialize_with = "ser_opt_ts")]
    pub since: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialProblem {
    pub api: String,
    pub error_kind: String,
    pub detail: Option<String>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub first_seen_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub observed_at: Option<DateTime<Utc>>,
}

/// Firing alerts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Alerts {
    /// Count per severity ("critical", "warning", "info").
    pub firing: BTreeMap<&'static str, usize>,
    pub list: Vec<FiringAlert>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FiringAlert {
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub account: String,
    pub subject: String,
    #[serde(serialize_with = "ser_ts")]
    pub since: DateTime<Utc>,
    /// "acked until ..." or "silenced until ..." when muted.
    pub muted: Option<String>,
}

/// The email outbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outbox {
    /// Queued for delivery (retries included).
    pub pending: i64,
    /// Given up on: never retried, kept for the record.
    pub failed: i64,
    pub oldest_pending: Option<Email>,
    /// The newest permanently failed emails.
    pub failures: Vec<Email>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Email {
    pub id: i64,
    pub account: Option<String>,
    pub kind: String,
    pub subject: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub created_at: Option<DateTime<Utc>>,
}

/// One scheduled job's freshness.
#[derive(Debug, Clone, Serialize)]
pub struct Freshness {
    pub account: String,
    pub job: String,
    /// The `data_freshness` rule fires for it.
    pub stale: bool,
    pub hours_since_success: Option<f64>,
    /// What the rule allows (schedule interval × `max_missed_runs`, at
    /// least `min_staleness`); null when the rule is off for the account.
    pub allowed_hours: Option<f64>,
}

/// Runs the command: the text to print, and whether something needs
/// attention (the CLI then exits 1).
pub async fn run_command(cfg: &Config, args: &StatusArgs) -> anyhow::Result<(String, bool)> {
    let now = crate::clock::Clock::from_source(&cfg.daemon.clock)
        .now()
        .await?;
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
    let mut report = gather(&conn, cfg, now)?;
    report.database_exists = exists;
    report.problems = problems(&report);
    report.healthy = report.problems.is_empty();
    let text = match args.format {
        Format::Table => render_table(&report),
        Format::Json => render_json(&report),
    };
    Ok((text, !report.healthy))
}

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
    let (_, found) = crate::rules::check::findings(conn, &meta, None, now, &META_RULES)?;
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
        alerts: alerts(conn, now)?,
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
            probe.time_zone = m.timezone.parse().unwrap_or(chrono_tz::UTC);
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
    for a in store::alerts::list(conn, false)? {
        if a.state != crate::alert::state::State::Firing {
            continue;
        }
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
            subject: subject_label(&a.labels),
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

fn outbox(conn: &Connection) -> anyhow::Result<Outbox> {
    let email = |e: q::UnsentEmail| Email {
        id: e.id,
        account: e.account,
        kind: e.kind,
        subject: e.subject,
        attempts: e.attempts,
        last_error: e.last_error,
        created_at: e.created_at,
    };
    let backlog = store::outbox::backlog(conn)?;
    Ok(Outbox {
        pending: backlog.pending,
        failed: backlog.failed,
        oldest_pending: q::oldest_queued_email(conn)?.map(email),
        failures: q::failed_emails(conn, FAILED_EMAILS_SHOWN)?
            .into_iter()
            .map(email)
            .collect(),
    })
}

/// Cuts a message to `max` characters for one line of output.
fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

/// "5 min", "3 h 20 min", "30 h", "4 d".
fn span(d: Duration) -> String {
    let m = d.num_minutes().abs();
    match m {
        0 => "under a minute".to_string(),
        1..=59 => format!("{m} min"),
        60..=599 if m % 60 != 0 => format!("{} h {} min", m / 60, m % 60),
        60..=2879 => format!("{} h", m / 60),
        _ => format!("{} d", m / 1440),
    }
}

fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    if t > now {
        format!("in {}", span(t - now))
    } else if now - t < Duration::minutes(1) {
        "just now".to_string()
    } else {
        format!("{} ago", span(now - t))
    }
}

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
    if r.outbox.failed > 0 {
        let newest = r
            .outbox
            .failures
            .first()
            .map(|e| {
                format!(
                    " (newest: \"{}\": {})",
                    clip(&e.subject, 80),
                    clip(e.last_error.as_deref().unwrap_or("no error recorded"), 200)
                )
            })
            .unwrap_or_default();
        out.push(format!(
            "{} email{} could not be delivered and will not be retried{newest}. Fix the [email] \
             settings and check them with `flywheel send-test-email`; `flywheel alerts` shows \
             what the seller missed.",
            r.outbox.failed,
            if r.outbox.failed == 1 { "" } else { "s" }
        ));
    }
    let critical: Vec<&FiringAlert> = r
        .alerts
        .list
        .iter()
        .filter(|a| a.severity == Severity::Critical && a.muted.is_none())
        .collect();
    if !critical.is_empty() {
        let names: Vec<String> = critical
            .iter()
            .take(3)
            .map(|a| {
                format!(
                    "{} for {} {} since {}",
                    a.rule,
                    a.account,
                    a.subject,
                    local(a.since)
                )
            })
            .collect();
        out.push(format!(
            "{} critical alert{} firing: {}{}. `flywheel alerts` lists them; `flywheel ack ID` \
             acknowledges one once it is in hand.",
            critical.len(),
            if critical.len() == 1 { " is" } else { "s are" },
            names.join("; "),
            if critical.len() > 3 {
                format!("; and {} more", critical.len() - 3)
            } else {
                String::new()
            }
        ));
    }
    out
}

/// A failed job as `status` (and the operator's health check) counts it:
/// its newest finished run failed, or was interrupted (its process stopped
/// before it recorded how the run ended).
pub fn is_failed(newest_status: Option<&str>) -> bool {
    matches!(newest_status, Some("failed" | "interrupted"))
}

fn local_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
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

    let fresh: HashMap<(&str, &str), &Freshness> = r
        .freshness
        .iter()
        .map(|f| ((f.account.as_str(), f.job.as_str()), f))
        .collect();
    for a in &r.accounts {
        out.push_str(&format!("\nACCOUNT {}\n", a.account));
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

    out.push_str(&format!(
        "\nOUTBOX: {} queued, {} given up\n",
        r.outbox.pending, r.outbox.failed
    ));
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

    if !r.problems.is_empty() {
        out.push_str("\nPROBLEMS\n");
        for p in &r.problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out.push_str(&format!("\ntimes in {}\n", tz.name()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::{finish_run, start_run, RunStatus};
    use chrono::TimeZone;
    use std::path::Path;

    fn config(extra: &str) -> Config {
        let text = format!(
            r#"
[daemon]
timezone = "America/Los_Angeles"
[[accounts]]
name = "shop"
region = "na"
marketplaces = ["US"]
alert_to = ["a@example.com"]
[accounts.sp_api]
client_id = "i"
client_secret = "s"
refresh_token = "r"
{extra}
"#
        );
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
        for j in JobName::ALL.iter().filter(|j| **j != JobName::Ads) {
            run(
                &conn,
                j.as_str(),
                now() - Duration::minutes(30),
                RunStatus::Ok,
                None,
            );
        }
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
        for j in JobName::ALL.iter().filter(|j| **j != JobName::Ads) {
            run(
                &conn,
                j.as_str(),
                now() - Duration::minutes(30),
                RunStatus::Ok,
                None,
            );
        }
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
        for j in JobName::ALL.iter().filter(|j| **j != JobName::Ads) {
            run(
                &conn,
                j.as_str(),
                now() - Duration::minutes(30),
                RunStatus::Ok,
                None,
            );
        }
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
