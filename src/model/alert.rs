//! An alert as the `alerts` table holds it: its episode state, the last
//! finding, when it was notified. The state machine that moves it lives in
//! `alert::state`; the SQL in `store::alerts`.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::rule::{RuleId, Severity};

/// Where an alert is in its episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Pending,
    Firing,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Firing => "firing",
            State::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        match s {
            "pending" => Some(State::Pending),
            "firing" => Some(State::Firing),
            "resolved" => Some(State::Resolved),
            _ => None,
        }
    }
}

/// One alert: a row of the `alerts` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub fingerprint: String,
    pub rule: RuleId,
    pub account: String,
    pub marketplace: Option<String>,
    /// The subject keys as in the finding JSON (an object).
    pub labels: Value,
    pub state: State,
    pub severity: Severity,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub started_at: DateTime<Utc>,
    pub firing_since: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub last_evaluated_at: DateTime<Utc>,
    pub last_notified_at: Option<DateTime<Utc>>,
    /// Notifications of this episode (firing, repeats, resolution).
    pub notify_count: i64,
    /// The finding JSON (DESIGN §2.1) of the last evaluation that saw it.
    pub last_finding: Value,
    /// Message-ID of this episode's first firing email.
    pub thread_message_id: Option<String>,
}

impl Alert {
    /// The short id `alerts` prints and `ack` takes.
    pub fn short_id(&self) -> &str {
        short_id(&self.fingerprint)
    }
}

/// The first 8 characters of a fingerprint.
pub fn short_id(fingerprint: &str) -> &str {
    fingerprint.get(..8).unwrap_or(fingerprint)
}

/// How long after resolving a held resolution may still go out (past this,
/// e.g. after `send_resolved` was switched on, old episodes stay quiet).
pub const RESOLUTION_GRACE: Duration = Duration::hours(48);
