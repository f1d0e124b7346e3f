//! Alerts (DESIGN §5): what turns findings into emails a seller can trust.
//!
//! | module | owns |
//! |---|---|
//! | [`state`] | the pure Alertmanager-style state machine per fingerprint (pending → firing → resolved, `for`, `keep`, repeats, acks, silences, quiet hours) |
//! | [`inhibit`] | pure inhibition: stale sources, out-of-stock ASINs, suppressed listings mute what derives from them |
//! | [`evaluate`] | one evaluation round: findings → state → grouped emails in the outbox, in one transaction |
//! | [`render`] | subject, text and HTML of alert emails and the digest (everything escaped) |
//! | [`chart`] | trend-chart PNGs drawn in pure Rust, attached by Content-ID |
//! | [`digest`] | the weekly digest: its model, built and queued at a given `now` |
//! | [`notify`] | the one trait, [`notify::Notifier`], and its transports (SMTP, sendmail, file) |
//! | [`sender`] | delivers due outbox rows with retries and capped backoff |
//!
//! The SQL lives in `store::alerts` and `store::outbox`; the commands
//! (`evaluate`, `alerts`, `ack`, `silence`, `digest`, `send-test-email`) in
//! `cmd`.

pub mod chart;
pub mod digest;
pub mod evaluate;
pub mod inhibit;
pub mod notify;
pub mod render;
pub mod sender;
pub mod state;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::config::{Link, RuleId, Severity};

/// An inline attachment (a chart PNG referenced from the HTML as `cid:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Without angle brackets, e.g. `chart-3@flywheel`.
    pub content_id: String,
    pub filename: String,
    /// `image/png`.
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A rendered email, before it becomes an outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, plain text (the transport encodes it; CR/LF already removed).
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

/// Why an alert is in this email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// First notification of an episode.
    Firing,
    /// Still firing after `repeat_interval`.
    Repeat,
    /// The condition cleared.
    Resolved,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Firing => "firing",
            ItemKind::Repeat => "repeat",
            ItemKind::Resolved => "resolved",
        }
    }
}

/// A metric's daily history for the trend chart of one finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What is plotted, e.g. "conversion rate (%)", "units available".
    pub label: String,
    /// One point per day, oldest first; `None` where the day has no data
    /// (drawn as a gap, never as zero).
    pub points: Vec<(NaiveDate, Option<f64>)>,
    /// Drawn as a line when the rule has one in the metric's unit.
    pub threshold: Option<f64>,
}

/// One alert as an email shows it (built from the finding JSON of
/// DESIGN §2.1, so a resolved alert renders from its stored last finding).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub fingerprint: String,
    pub rule: RuleId,
    pub link: Link,
    pub severity: Severity,
    /// The subject keys present in the finding: account, marketplace, asin,
    /// sku, campaign_id, search_term (in that order).
    pub subject: Vec<(String, String)>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// The numbers behind the value, in the rule's order.
    pub evidence: Vec<(String, Value)>,
    pub summary: String,
    pub check_first: String,
    /// growth_stall's diagnosis as the finding JSON has it.
    pub diagnosis: Option<Value>,
    /// When the episode started firing (for resolved: when it resolved).
    pub since: DateTime<Utc>,
    pub series: Option<Series>,
}

impl Item {
    /// Reads the finding JSON of DESIGN §2.1 (`Finding::to_json`). `None`
    /// when it does not name a known rule (a finding stored by another
    /// version).
    pub fn from_finding_json(
        v: &Value,
        kind: ItemKind,
        fingerprint: &str,
        since: DateTime<Utc>,
    ) -> Option<Item> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let rule = RuleId::parse(v.get("rule")?.as_str()?)?;
        let severity = match v.get("severity").and_then(Value::as_str)? {
            "critical" => Severity::Critical,
            "warning" => Severity::Warning,
            _ => Severity::Info,
        };
        let subject = [
            "account",
            "marketplace",
            "asin",
            "sku",
            "campaign_id",
            "search_term",
        ]
        .iter()
        .filter_map(|k| s(k).map(|v| (k.to_string(), v)))
        .collect();
        let window = v.get("window").and_then(|w| {
            let d = |k: &str| w.get(k)?.as_str()?.parse::<NaiveDate>().ok();
            Some((d("start")?, d("end")?))
        });
        let evidence = v
            .get("evidence")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Some(Item {
            kind,
            fingerprint: fingerprint.to_string(),
            link: rule.link(),
            rule,
            severity,
            subject,
            value: v.get("value").and_then(Value::as_f64),
            threshold: v.get("threshold").and_then(Value::as_f64),
            window,
            evidence,
            summary: s("summary").unwrap_or_default(),
            check_first: s("check_first").unwrap_or_default(),
            diagnosis: v.get("diagnosis").cloned(),
            since,
            series: None,
        })
    }

    /// A subject key's value.
    pub fn key(&self, k: &str) -> Option<&str> {
        self.subject
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    /// "asin B0ABC12345", "sku X", "campaign 123 \"term\"", or the
    /// marketplace for marketplace-level rules.
    pub fn subject_label(&self) -> String {
        subject_label(|k| self.key(k))
    }
}

/// "asin B0X sku S1", "campaign 123 \"term\"", or the marketplace's country
/// code (its id when unknown) for marketplace-level subjects; `key` reads a
/// subject label (as in the finding JSON).
pub fn subject_label<'a>(key: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut parts = Vec::new();
    for (k, name) in [
        ("asin", "asin"),
        ("sku", "sku"),
        ("campaign_id", "campaign"),
    ] {
        if let Some(v) = key(k) {
            parts.push(format!("{name} {v}"));
        }
    }
    if let Some(t) = key("search_term") {
        parts.push(format!("\"{t}\""));
    }
    if parts.is_empty() {
        let m = key("marketplace").unwrap_or_default();
        crate::amazon::marketplace::lookup(m)
            .map(|x| x.country.to_string())
            .unwrap_or_else(|| m.to_string())
    } else {
        parts.join(" ")
    }
}

/// The content of one alert email: one account, one evaluation round.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEmail {
    pub account: String,
    /// When the round ran (the configured clock).
    pub at: DateTime<Utc>,
    /// The config's `[daemon] timezone` name, for times shown to the seller.
    pub timezone: String,
    /// Critical first, then by link, rule and subject (the caller sorts).
    pub items: Vec<Item>,
}
