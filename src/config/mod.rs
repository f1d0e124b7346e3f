//! Configuration: the TOML schema, its defaults, and validation.
//!
//! The config is parsed and validated once, at start-up, into a [`Config`]
//! that is passed down; nothing reads it from a global. Validation reports
//! every problem it can find, each with its key path, line and column:
//! serde (with `deny_unknown_fields` everywhere) catches unknown keys and
//! wrong types, one at a time, so [`Config::from_toml`] removes each
//! offending key from the document and parses again until serde is happy;
//! then [`validate`] checks what types cannot (cron expressions,
//! marketplaces, min/max order, files, secrets, recipients).
//!
//! Every struct is `#[serde(default)]`: required keys are checked by
//! `validate`, which can say what is missing and where, instead of serde
//! stopping at the first one.

mod cron;
mod locate;
mod receivers;
pub mod rules;
mod secret;
mod validate;
pub use validate::{is_placeholder, PLACEHOLDER};

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

pub use self::cron::CronExpr;
pub use self::locate::{Locator, Position};
pub use self::receivers::{check_url, Owner, Receiver, ReceiverKind, IMPLICIT_EMAIL};
pub use self::rules::{
    Common, Effective, EffectiveSettings, Link, NoData, RuleId, RuleSettings, Rules, Severity,
    SubjectKind,
};
pub use self::secret::{read_secret_file, Secret, SecretFileError};
pub use crate::model::finding::SubjectRef;
use crate::model::lang::Lang;
use crate::model::marketplace::{self, Marketplace, Region};

/// The documented example config, shipped in the binary for
/// `flywheel print-default-config`.
pub const EXAMPLE: &str = include_str!("../../config/flywheel.example.toml");

/// Where `--config` points when neither the flag nor `FLYWHEEL_CONFIG` is set.
pub const DEFAULT_PATH: &str = "/etc/flywheel/flywheel.toml";

/// Serde helpers for humantime durations (`30s`, `15m`, `24h`, `7d`).
pub mod duration {
    use std::time::Duration;

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration \"{s}\": {e} (write e.g. \"30s\", \"15m\", \"24h\", \"7d\")"
            ))
        })
    }

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// CSV of SKU, unit cost, inbound freight per unit (margin_floor).
    pub costs_file: Option<PathBuf>,
    /// CSV of ASIN, star rating, rating count, date (rating_floor).
    pub ratings_file: Option<PathBuf>,
    /// CSV of SKU, short name, owner: what messages call the products.
    pub products_file: Option<PathBuf>,
    pub daemon: Daemon,
    pub accounts: Vec<Account>,
    pub schedule: Schedule,
    pub sync: SyncSettings,
    pub email: Email,
    pub alerts: Alerts,
    pub rules: Rules,
    pub overrides: Vec<Override>,
    /// `[[receivers]]`: chat robots, webhooks and more email (DESIGN §5.2);
    /// [`Config::effective_receivers`] adds the email of `[email]`.
    pub receivers: Vec<Receiver>,
    /// `[[owners]]`: whom a chat message may @-mention.
    pub owners: Vec<Owner>,
}

/// `[daemon]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Daemon {
    pub database: PathBuf,
    /// IANA zone for schedules and digests.
    #[serde(deserialize_with = "de_timezone")]
    pub timezone: chrono_tz::Tz,
    pub clock: ClockSource,
    pub metrics_listen: Option<SocketAddr>,
    pub heartbeat_url: Option<String>,
    pub retention_days: u32,
    #[serde(with = "duration")]
    pub shutdown_timeout: Duration,
    #[serde(with = "duration")]
    pub schedule_jitter: Duration,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            database: PathBuf::from("/var/lib/flywheel/flywheel.db"),
            timezone: chrono_tz::UTC,
            clock: ClockSource::System,
            metrics_listen: None,
            heartbeat_url: None,
            retention_days: 730,
            shutdown_timeout: Duration::from_secs(10),
            schedule_jitter: Duration::from_secs(30),
        }
    }
}

fn de_timezone<'de, D: serde::Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown time zone \"{s}\": use an IANA name such as \"America/Los_Angeles\" or \"UTC\""
        ))
    })
}

/// Where every command reads the time (DESIGN §4, §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockSource {
    /// The system clock (production).
    System,
    /// A simulated marketplace's `GET /_sim/now` URL.
    Sim(String),
    /// `fixed:<RFC 3339>`: a stopped clock (the demo's config after it ends).
    Fixed(chrono::DateTime<chrono::Utc>),
}

impl<'de> Deserialize<'de> for ClockSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "system" {
            Ok(ClockSource::System)
        } else if s.starts_with("http://") || s.starts_with("https://") {
            Ok(ClockSource::Sim(s))
        } else if let Some(at) = s.strip_prefix("fixed:") {
            chrono::DateTime::parse_from_rfc3339(at)
                .map(|t| ClockSource::Fixed(t.with_timezone(&chrono::Utc)))
                .map_err(|e| {
                    serde::de::Error::custom(format!(
                        "\"{s}\": the fixed instant must be RFC 3339, e.g. \"fixed:2026-03-16T09:00:00Z\" ({e})"
                    ))
                })
        } else {
            Err(serde::de::Error::custom(format!(
                "clock must be \"system\", \"fixed:<RFC 3339 instant>\" or the URL of a simulated marketplace's clock (http://127.0.0.1:8700/_sim/now), found \"{s}\""
            )))
        }
    }
}

/// `[[accounts]]`: one seller account (one set of credentials).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub name: String,
    pub region: Option<Region>,
    /// Marketplace ids or country codes, as written.
    pub marketplaces: Vec<String>,
    /// Merchant token; no API returns it (REFERENCE.md §0.11).
    pub seller_id: Option<String>,
    /// Recipients of this account's alerts; empty means `[email] to`.
    pub alert_to: Vec<String>,
    pub costs_file: Option<PathBuf>,
    pub ratings_file: Option<PathBuf>,
    /// This account's `products_file`; unset means the top-level one.
    pub products_file: Option<PathBuf>,
    pub sp_api: Option<ApiSettings>,
    pub ads: Option<AdsSettings>,
    /// The language of this account's emails; unset means `[alerts] language`.
    pub language: Option<Lang>,
}

impl Account {
    /// The account's marketplaces (validated: every entry is known).
    pub fn marketplaces(&self) -> Vec<&'static Marketplace> {
        self.marketplaces
            .iter()
            .filter_map(|m| marketplace::lookup(m))
            .collect()
    }

    pub fn region(&self) -> Region {
        self.region.unwrap_or(Region::Na)
    }
}

/// LWA credentials after resolution from inline values, files or
/// `$CREDENTIALS_DIRECTORY`.
#[derive(Debug, Clone, PartialEq)]
pub struct LwaCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
}

/// Declares an API's `[accounts.*]` table: the LWA credential and URL keys
/// both APIs take, then the API's own keys with their defaults, then the
/// credentials validation fills in. A macro because serde's `flatten` does
/// not work with `deny_unknown_fields`: a shared struct would let a
/// misspelt key pass.
macro_rules! api_settings {
    (
        $(#[$doc:meta])*
        $name:ident {
            $($(#[$field_doc:meta])* $field:ident: $ty:ty = $default:expr,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            pub client_id: Option<String>,
            pub client_id_file: Option<PathBuf>,
            pub client_secret: Option<Secret>,
            pub client_secret_file: Option<PathBuf>,
            pub refresh_token: Option<Secret>,
            pub refresh_token_file: Option<PathBuf>,
            /// Overrides the region's endpoint (Amazon's sandbox, or a simulated marketplace).
            pub endpoint: Option<String>,
            /// Overrides the LWA token URL.
            pub token_url: Option<String>,
            /// When the LWA client secret expires (Amazon rotates them every 180 days).
            #[serde(deserialize_with = "de_opt_date")]
            pub client_secret_expires: Option<NaiveDate>,
            $($(#[$field_doc])* pub $field: $ty,)*
            /// Filled by validation.
            #[serde(skip)]
            pub credentials: Option<LwaCredentials>,
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    client_id: None,
                    client_id_file: None,
                    client_secret: None,
                    client_secret_file: None,
                    refresh_token: None,
                    refresh_token_file: None,
                    endpoint: None,
                    token_url: None,
                    client_secret_expires: None,
                    $($field: $default,)*
                    credentials: None,
                }
            }
        }
    };
}

api_settings! {
    /// `[accounts.sp_api]`
    ApiSettings {}
}

api_settings! {
    /// `[accounts.ads]`
    AdsSettings {
        /// Ads profiles to sync; empty means those matching the marketplaces.
        profile_ids: Vec<i64> = Vec::new(),
        /// Profile account types to sync: "seller", "vendor", "agency".
        account_types: Vec<String> = vec!["seller".to_string()],
    }
}

fn de_opt_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    // Accept a TOML local date (2027-05-01) or a string ("2027-05-01").
    let v = toml::Value::deserialize(d)?;
    let s = match &v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(dt) => dt.to_string(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a date such as 2027-05-01, found {}",
                other.type_str()
            )))
        }
    };
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            serde::de::Error::custom(format!("expected a date such as 2027-05-01, found \"{s}\""))
        })
}

/// A job's schedule: a cron expression, or `"off"`.
#[derive(Debug, Clone, PartialEq)]
pub enum JobSchedule {
    Off,
    Cron(CronExpr),
}

impl JobSchedule {
    fn cron(expr: &str) -> Self {
        JobSchedule::Cron(expr.parse().expect("valid default cron"))
    }

    pub fn as_cron(&self) -> Option<&CronExpr> {
        match self {
            JobSchedule::Off => None,
            JobSchedule::Cron(c) => Some(c),
        }
    }
}

impl<'de> Deserialize<'de> for JobSchedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim() == "off" {
            return Ok(JobSchedule::Off);
        }
        s.parse()
            .map(JobSchedule::Cron)
            .map_err(|e| serde::de::Error::custom(format!("bad cron expression \"{s}\": {e}")))
    }
}

impl fmt::Display for JobSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobSchedule::Off => f.write_str("off"),
            JobSchedule::Cron(c) => write!(f, "{c}"),
        }
    }
}

macro_rules! schedule {
    ($( $(#[doc = $doc:literal])* $job:ident = $default:literal ),* $(,)?) => {
        /// `[schedule]`: standard 5-field cron (crontab(5)) in `[daemon] timezone`, or "off".
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Schedule { $( $(#[doc = $doc])* pub $job: JobSchedule, )* }

        impl Default for Schedule {
            fn default() -> Self {
                Schedule { $( $job: JobSchedule::cron($default), )* }
            }
        }

        impl Schedule {
            /// Every job with its schedule, in DESIGN §3's order.
            pub fn jobs(&self) -> Vec<(&'static str, &JobSchedule)> {
                vec![$( (stringify!($job), &self.$job), )*]
            }

            pub const JOBS: &'static [&'static str] = &[$( stringify!($job) ),*];
        }
    };
}

schedule! {
    /// Orders: report backfill, then searchOrders on lastUpdatedAfter.
    orders = "*/15 * * * *",
    inventory = "5 * * * *",
    inventory_planning = "30 4 * * *",
    sales_traffic = "0 5 * * *",
    returns = "15 5 * * *",
    seller_feedback = "10 */2 * * *",
    account_health = "30 5 * * *",
    catalog_ranks = "0 6 * * *",
    pricing = "20 */6 * * *",
    listings = "40 * * * *",
    customer_feedback = "0 7 * * 1",
    fees = "30 7 * * 1",
    search_query_performance = "0 9 * * 1",
    ads = "0 3,15 * * *",
    /// The weekly digest email (not a sync).
    digest = "0 8 * * 1",
}

/// `[sync]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncSettings {
    /// How far back the first orders sync reaches.
    pub orders_history_days: u32,
    /// A gap since the last orders sync longer than this is filled from the
    /// orders report instead of paging searchOrders.
    #[serde(with = "duration")]
    pub orders_backfill_gap: Duration,
    /// Overlap of each incremental orders query with the previous one.
    #[serde(with = "duration")]
    pub orders_overlap: Duration,
    /// Sales & traffic days younger than this are read again (Amazon fills them late).
    pub sales_traffic_reread_days: u32,
    /// Ads days re-pulled each run (conversions are restated for ~42 days).
    pub ads_repull_days: u32,
    /// Attribution window the Ads rules read: 7 or 14 days.
    pub attribution_days: u32,
    /// Give up on a report that is not done after this long (and say so).
    #[serde(with = "duration")]
    pub max_report_wait: Duration,
    /// createReport calls per account per hour flywheel may spend (Amazon: 60).
    pub report_budget_per_hour: u32,
    /// A report document (downloaded, or a file `flywheel import` reads)
    /// larger than this once decompressed is refused: the guard against a
    /// gzip bomb, which otherwise streams for hours.
    pub max_document_mib: u64,
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Attempts per call on 429/5xx/timeouts before the job gives up.
    pub max_attempts: u32,
    #[serde(with = "duration")]
    pub max_backoff: Duration,
    /// Pages of one paged operation (searchListingsItems, searchOrders, ...)
    /// one job run follows before it stops and fails: a loop guard.
    pub max_pages: u32,
    /// A job run's time budget, as a bound on its calls: a run makes at most
    /// burst + documented rate × this calls to each operation.
    #[serde(with = "duration")]
    pub max_run_time: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            orders_history_days: 730,
            orders_backfill_gap: Duration::from_secs(3 * 86_400),
            orders_overlap: Duration::from_secs(15 * 60),
            sales_traffic_reread_days: 3,
            ads_repull_days: 45,
            attribution_days: 7,
            max_report_wait: Duration::from_secs(6 * 3600),
            report_budget_per_hour: 50,
            max_document_mib: 4096,
            request_timeout: Duration::from_secs(60),
            max_attempts: 6,
            max_backoff: Duration::from_secs(120),
            max_pages: 1000,
            max_run_time: Duration::from_secs(6 * 3600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Smtp,
    Sendmail,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Starttls,
    Tls,
    None,
}

/// `[email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Email {
    pub transport: Transport,
    pub host: Option<String>,
    /// Default: 587 for starttls, 465 for tls, 25 for none.
    pub port: Option<u16>,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub from: String,
    /// Global recipients (accounts without `alert_to`, digests, test emails).
    pub to: Vec<String>,
    /// `file` transport: one .eml per message here.
    pub dir: PathBuf,
    /// `sendmail` transport: the program.
    pub sendmail_command: PathBuf,
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Filled by validation from `password` / `password_file` / credentials.
    #[serde(skip)]
    pub resolved_password: Option<Secret>,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            transport: Transport::File,
            host: None,
            port: None,
            security: Security::Starttls,
            username: None,
            password: None,
            password_file: None,
            from: "flywheel <flywheel@localhost>".to_string(),
            to: Vec::new(),
            dir: PathBuf::from("/var/lib/flywheel/mail"),
            sendmail_command: PathBuf::from("/usr/sbin/sendmail"),
            timeout: Duration::from_secs(30),
            resolved_password: None,
        }
    }
}

impl Email {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        })
    }
}

/// `[alerts]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Alerts {
    /// Repeat a still-firing alert after this long.
    #[serde(with = "duration")]
    pub repeat_interval: Duration,
    /// Send one email when an alert resolves.
    pub send_resolved: bool,
    /// "HH:MM-HH:MM" in `[daemon] timezone`: warning and info wait until it ends.
    pub quiet_hours: Option<String>,
    /// The language of alert emails and the digest (`en`, `zh-CN`); an
    /// account's `language` overrides it. `check` and `alerts` print English.
    pub language: Lang,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            repeat_interval: Duration::from_secs(24 * 3600),
            send_resolved: true,
            quiet_hours: None,
            language: Lang::En,
        }
    }
}

impl Alerts {
    /// The quiet hours as (start, end); validated at load.
    pub fn quiet_hours(&self) -> Option<(chrono::NaiveTime, chrono::NaiveTime)> {
        self.quiet_hours
            .as_deref()
            .and_then(|s| parse_quiet_hours(s).ok())
    }
}

pub(crate) fn parse_quiet_hours(s: &str) -> Result<(chrono::NaiveTime, chrono::NaiveTime), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("quiet hours \"{s}\" must look like \"22:00-07:00\""))?;
    let t = |x: &str| {
        chrono::NaiveTime::parse_from_str(x.trim(), "%H:%M")
            .map_err(|_| format!("quiet hours \"{s}\": \"{}\" is not a time HH:MM", x.trim()))
    };
    let (start, end) = (t(a)?, t(b)?);
    if start == end {
        return Err(format!(
            "quiet hours \"{s}\" start and end at the same time"
        ));
    }
    Ok((start, end))
}

/// `[[overrides]]`: changes one rule's settings for a subject.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Override {
    pub rule: String,
    pub account: Option<String>,
    pub marketplace: Option<String>,
    pub sku: Option<String>,
    pub asin: Option<String>,
    pub campaign: Option<String>,
    /// The rule keys being changed.
    pub settings: toml::Table,
}

impl<'de> Deserialize<'de> for Override {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut t = toml::Table::deserialize(d)?;
        let mut take = |k: &str, allow_int: bool| -> Result<Option<String>, D::Error> {
            match t.remove(k) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s)),
                Some(toml::Value::Integer(i)) if allow_int => Ok(Some(i.to_string())),
                Some(v) => Err(D::Error::custom(format!(
                    "`{k}` must be a string, found {}",
                    v.type_str()
                ))),
            }
        };
        let rule = take("rule", false)?.unwrap_or_default();
        let account = take("account", false)?;
        let marketplace = take("marketplace", false)?;
        let sku = take("sku", false)?;
        let asin = take("asin", false)?;
        let campaign = take("campaign", true)?;
        Ok(Override {
            rule,
            account,
            marketplace,
            sku,
            asin,
            campaign,
            settings: t,
        })
    }
}

impl Override {
    /// Whether this override applies to `subject` (every selector it sets matches).
    pub fn matches(&self, subject: &SubjectRef<'_>) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have == Some(w.as_str()),
        };
        let marketplace_ok = match &self.marketplace {
            None => true,
            Some(m) => marketplace::lookup(m).is_some_and(|mp| mp.id == subject.marketplace),
        };
        eq(&self.account, Some(subject.account))
            && marketplace_ok
            && eq(&self.sku, subject.sku)
            && eq(&self.asin, subject.asin)
            && eq(&self.campaign, subject.campaign)
    }
}

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path such as `rules.conversion_rate.min_percent`.
    pub path: String,
    pub position: Option<Position>,
    pub message: String,
}

/// A config file that cannot be used, with everything wrong in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{}: {n} problem{} in the configuration:",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "  {}", self.file.display())?;
            if let Some(pos) = p.position {
                write!(f, ":{}:{}", pos.line, pos.column)?;
            }
            if p.path.is_empty() {
                writeln!(f, ": {}", p.message)?;
            } else {
                writeln!(f, ": {}: {}", p.path, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// What the config may read from the environment (passed in, for tests).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// systemd's `$CREDENTIALS_DIRECTORY` (`LoadCredential=`).
    pub credentials_directory: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            credentials_directory: std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from),
        }
    }
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path, env: &Env) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            problems: vec![Problem {
                path: String::new(),
                position: None,
                message: format!("cannot read the config file: {e}"),
            }],
        })?;
        Config::from_toml(&text, path, env)
    }

    /// Parses and validates config text; `path` names it in messages, and
    /// relative paths in it are taken relative to its directory.
    pub fn from_toml(text: &str, path: &Path, env: &Env) -> Result<Config, ConfigError> {
        let fail = |problems: Vec<Problem>| ConfigError {
            file: path.to_path_buf(),
            problems,
        };
        let locator = Locator::new(text);
        let mut tree: toml::Table = toml::from_str(text).map_err(|e| {
            fail(vec![Problem {
                path: String::new(),
                position: e.span().map(|s| locator.position_of(s.start)),
                message: format!("not valid TOML: {}", describe_toml_error(&e, text)),
            }])
        })?;
        let mut problems = Vec::new();
        let config = loop {
            match serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(tree.clone())) {
                Ok(c) => break Some(c),
                Err(e) => {
                    let (key_path, message) =
                        validate::describe_serde_error(&e.path().to_string(), e.inner().message());
                    let removed = validate::remove_path(&mut tree, &key_path);
                    problems.push(Problem {
                        position: locator.locate(&key_path),
                        path: key_path,
                        message,
                    });
                    if !removed || problems.len() > 200 {
                        break None;
                    }
                }
            }
        };
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(mut config) = config {
            validate::resolve_paths(&mut config, base);
            let reported: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
            for (key_path, message) in validate::validate(&mut config, env) {
                // A key removed above for a bad value is not also missing.
                if validate::is_missing_one_of(&key_path, &message, &reported) {
                    continue;
                }
                problems.push(Problem {
                    position: locator.locate(&key_path),
                    path: key_path,
                    message,
                });
            }
            if problems.is_empty() {
                return Ok(config);
            }
        }
        problems.sort_by_key(|p| p.position.map(|p| (p.line, p.column)));
        Err(fail(problems))
    }

    /// Effective settings of `rule` for one subject: the `[rules.<id>]`
    /// table with every matching `[[overrides]]` laid over it, in file
    /// order. A loop over many subjects takes [`Config::effective_settings`]
    /// once instead, which merges each set of overrides only once.
    pub fn rule_settings<T: RuleSettings>(&self, rule: RuleId, subject: &SubjectRef<'_>) -> T {
        debug_assert_eq!(rule, T::ID, "settings type of another rule");
        let mut layers = self
            .overrides
            .iter()
            .filter(|o| o.rule == T::ID.as_str() && o.matches(subject))
            .peekable();
        if layers.peek().is_none() {
            return T::of(&self.rules).clone();
        }
        rules::merge(&self.rules, layers)
    }

    /// The effective settings of every rule for one evaluation round.
    pub fn effective_settings(&self) -> EffectiveSettings<'_> {
        EffectiveSettings::new(&self.rules, &self.overrides)
    }

    /// Recipients for an account's alerts: its own, else the global list.
    pub fn recipients(&self, account: &Account) -> Vec<String> {
        if account.alert_to.is_empty() {
            self.email.to.clone()
        } else {
            account.alert_to.clone()
        }
    }

    /// The language an account's messages are written in: its own
    /// `language`, else `[alerts] language`.
    pub fn language(&self, account: &Account) -> Lang {
        account.language.unwrap_or(self.alerts.language)
    }

    /// One line describing a valid config, for `check-config`.
    pub fn summary(&self) -> String {
        let markets: usize = self.accounts.iter().map(|a| a.marketplaces.len()).sum();
        let enabled = RuleId::ALL
            .iter()
            .filter(|r| self.rules.common(**r).enabled)
            .count();
        let jobs_on = self
            .schedule
            .jobs()
            .iter()
            .filter(|(_, s)| s.as_cron().is_some())
            .count();
        let transport = match self.email.transport {
            Transport::Smtp => format!(
                "smtp via {}:{}",
                self.email.host.as_deref().unwrap_or("?"),
                self.email.port()
            ),
            Transport::Sendmail => "sendmail".to_string(),
            Transport::File => format!("files in {}", self.email.dir.display()),
        };
        let receivers = if self.receivers.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = self
                .receivers
                .iter()
                .map(|r| format!("{}: {}", r.name, r.kind()))
                .collect();
            let n = self.receivers.len();
            format!(", {n} receiver{} ({})", plural(n), list.join(", "))
        };
        format!(
            "{} account{} ({} marketplace{}), {}/{} rules enabled, {} override{}, {}/{} jobs scheduled, email: {}{receivers}, database {}",
            self.accounts.len(),
            plural(self.accounts.len()),
            markets,
            plural(markets),
            enabled,
            RuleId::ALL.len(),
            self.overrides.len(),
            plural(self.overrides.len()),
            jobs_on,
            Schedule::JOBS.len(),
            transport,
            self.daemon.database.display()
        )
    }
}

/// The TOML parser's message, with the key a "duplicate key" is about (the
/// parser points at it but does not name it).
fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim();
    let key = e
        .span()
        .and_then(|s| text.get(s))
        .map(str::trim)
        .filter(|k| !k.is_empty() && !k.contains('\n'));
    match key {
        Some(key) if message == "duplicate key" => {
            format!("duplicate key `{key}`: it is set twice in the same table; keep one")
        }
        _ => message.to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests;

/// TOML for tests: `[daemon]` with the lines `daemon`, then one account
/// `name` in the US with SP-API credentials and a recipient. With a one-line
/// `daemon` it is 13 lines long (the config tests name problems by line).
#[cfg(test)]
pub(crate) fn test_toml(daemon: &str, name: &str) -> String {
    format!(
        r#"[daemon]
{daemon}

[[accounts]]
name = "{name}"
region = "na"
marketplaces = ["US"]
alert_to = ["x@example.com"]

[accounts.sp_api]
client_id = "id"
client_secret = "s3cr3t-value"
refresh_token = "Atzr|t0ken-value"
"#
    )
}

/// A minimal valid config for unit tests: [`test_toml`]'s account `a`, then
/// `extra` (more TOML).
#[cfg(test)]
pub(crate) fn test_config(extra: &str) -> Config {
    let text = format!("{}{extra}", test_toml(r#"database = "/tmp/x.db""#, "a"));
    Config::from_toml(&text, Path::new("t.toml"), &Env::default()).unwrap_or_else(|e| panic!("{e}"))
}
