//! What `status` reports: the [`Report`] its JSON output serializes and
//! its table shows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::config::Severity;
use crate::rules::Finding;
use crate::store;
use crate::store::status::ser_opt_ts;

/// An email of the outbox not (yet) delivered.
pub use crate::store::status::UnsentEmail as Email;

fn ser_ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&store::ops::ts(*t))
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
    /// Whether the daemon runs against this database (from its lock).
    pub daemon: Daemon,
    pub alerts: Alerts,
    /// Firing business alerts of this severity or worse (unmuted) are
    /// problems too (`--fail-on`); by default they only count.
    pub fail_on: Option<Severity>,
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
    pub(super) firing: Vec<Finding>,
}

/// One configured account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    pub account: String,
    /// The account's marketplaces, by country code ("UK", "DE").
    pub marketplaces: Vec<String>,
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
    pub(super) scheduled: bool,
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

/// The daemon (`flywheel run`) of this database.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Daemon {
    /// A live daemon holds the database's lock.
    pub running: bool,
    /// The pid its lock file names (the running daemon's, or the last one's).
    pub pid: Option<u32>,
    /// When that daemon started (system clock), from its lock file.
    #[serde(serialize_with = "ser_opt_ts")]
    pub since: Option<DateTime<Utc>>,
    /// `[daemon] clock` is not the system clock (a simulator's), so
    /// `since` is on another time line than everything else shown.
    #[serde(skip)]
    pub(super) since_on_other_clock: bool,
    /// When the newest job run of a daemon started (clock time), and its pid.
    #[serde(serialize_with = "ser_opt_ts")]
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_run_pid: Option<u32>,
    /// A daemon ran against this database in the last 24 h (its job runs
    /// say so), so one is expected: not running is then a problem. One-off
    /// commands (`sync`, `evaluate`, `demo`) never make one expected.
    pub expected: bool,
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
    /// Of those, the ones no operator cleared yet (`status
    /// --clear-failures`): a problem until then.
    pub failed_uncleared: i64,
    /// Still queued after at least [`FAILING_ATTEMPTS`] failed attempts: a
    /// problem until delivered (or given up).
    pub failing: i64,
    /// The newest of those (for its error).
    pub failing_newest: Option<Email>,
    pub oldest_pending: Option<Email>,
    /// The newest given-up emails not cleared yet.
    pub failures: Vec<Email>,
    /// Given-up emails this run of `status --clear-failures` cleared.
    pub cleared: usize,
    /// Per receiver (`[[receivers]]`, and `email` for `[email]` +
    /// `alert_to`): what is queued, failing, given up and held.
    pub receivers: Vec<crate::store::outbox::ReceiverBacklog>,
}

/// Failed delivery attempts after which a queued email needs attention:
/// the first retries (1 and 2 min later) failed too, so it is not a blip.
pub const FAILING_ATTEMPTS: i64 = 3;

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
