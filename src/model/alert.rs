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
    /// The severity and value the last notification told (`None` before
    /// the first one, and for alerts last notified by an older version).
    pub notified: Option<Notified>,
}

/// What the last notification of an alert said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Notified {
    pub severity: Severity,
    pub value: Option<f64>,
}

/// How much further past its threshold a value must be, as a share of
/// where the last notification put it, to count as worse: a quarter, so
/// the day-to-day drift of a metric does not resend a card.
pub const WORSE_BY: f64 = 0.25;

impl Notified {
    /// Whether an alert now at `severity` with `value` (against
    /// `threshold`) is worse than this notification said: a higher
    /// severity, or a value further past the threshold, on the same side,
    /// by at least [`WORSE_BY`] of the distance told (any distance when
    /// the value told sat on the threshold). Without a threshold or either
    /// value, only the severity tells.
    pub fn worse(&self, severity: Severity, value: Option<f64>, threshold: Option<f64>) -> bool {
        if severity > self.severity {
            return true;
        }
        if severity < self.severity {
            return false;
        }
        let (Some(now), Some(told), Some(t)) = (value, self.value, threshold) else {
            return false;
        };
        if ![now, told, t].iter().all(|x| x.is_finite()) {
            return false;
        }
        let (gap_now, gap_told) = (now - t, told - t);
        let same_side = gap_told == 0.0 || gap_now.signum() == gap_told.signum();
        same_side
            && gap_now.abs() > gap_told.abs()
            && gap_now.abs() >= gap_told.abs() * (1.0 + WORSE_BY)
    }
}

/// The accounts whose `alerts` are in more than one marketplace: where a
/// list of them must name each alert's marketplace (the same SKU out of
/// stock in the UK and in Germany is two rows).
pub fn accounts_in_several_marketplaces<'a>(
    alerts: impl IntoIterator<Item = &'a Alert>,
) -> std::collections::HashSet<&'a str> {
    let mut markets: std::collections::HashMap<&str, std::collections::HashSet<&str>> =
        Default::default();
    for a in alerts {
        if let Some(m) = a.labels.get("marketplace").and_then(Value::as_str) {
            markets.entry(a.account.as_str()).or_default().insert(m);
        }
    }
    markets
        .into_iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(a, _)| a)
        .collect()
}

impl Alert {
    /// Whether the alert is worse now than its last notification said
    /// (see [`Notified::worse`]); `false` before the first one.
    pub fn is_worse(&self) -> bool {
        self.notified
            .is_some_and(|n| n.worse(self.severity, self.value, self.threshold))
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::{Critical, Info, Warning};

    #[test]
    fn worse_than_told_table() {
        let told = |severity, value| Notified { severity, value };
        // (told, now severity, now value, threshold, worse)
        #[rustfmt::skip]
        type Case = (Notified, Severity, Option<f64>, Option<f64>, bool);
        let cases: &[Case] = &[
            // Severity decides first, either way.
            (
                told(Warning, Some(20.0)),
                Critical,
                Some(21.0),
                Some(37.0),
                true,
            ),
            (told(Info, None), Warning, None, None, true),
            (
                told(Critical, Some(3.0)),
                Warning,
                Some(0.0),
                Some(37.0),
                false,
            ),
            // Below a floor: 17 under told, 25 under now (+47%) is worse;
            // 20 under now (+18%) is drift.
            (
                told(Warning, Some(20.0)),
                Warning,
                Some(12.0),
                Some(37.0),
                true,
            ),
            (
                told(Warning, Some(20.0)),
                Warning,
                Some(17.0),
                Some(37.0),
                false,
            ),
            // Exactly a quarter further counts.
            (
                told(Warning, Some(8.0)),
                Warning,
                Some(7.0),
                Some(12.0),
                true,
            ),
            // Better is never worse.
            (
                told(Warning, Some(20.0)),
                Warning,
                Some(30.0),
                Some(37.0),
                false,
            ),
            // Above a ceiling: ACoS 30% told against 25%, now 40%.
            (
                told(Warning, Some(30.0)),
                Warning,
                Some(40.0),
                Some(25.0),
                true,
            ),
            (
                told(Warning, Some(30.0)),
                Warning,
                Some(31.0),
                Some(25.0),
                false,
            ),
            // A count over a zero threshold: one more of two is worse.
            (
                told(Warning, Some(2.0)),
                Warning,
                Some(3.0),
                Some(0.0),
                true,
            ),
            (
                told(Warning, Some(4.0)),
                Warning,
                Some(4.0),
                Some(0.0),
                false,
            ),
            // Told on the threshold: any move past it.
            (
                told(Warning, Some(12.0)),
                Warning,
                Some(11.0),
                Some(12.0),
                true,
            ),
            // The other side of the threshold is not "further".
            (
                told(Warning, Some(20.0)),
                Warning,
                Some(50.0),
                Some(37.0),
                false,
            ),
            // Missing or non-finite numbers: only severity tells.
            (told(Warning, None), Warning, Some(1.0), Some(37.0), false),
            (told(Warning, Some(20.0)), Warning, None, Some(37.0), false),
            (told(Warning, Some(20.0)), Warning, Some(1.0), None, false),
            (
                told(Warning, Some(20.0)),
                Warning,
                Some(f64::NAN),
                Some(37.0),
                false,
            ),
        ];
        for (i, (n, sev, v, t, want)) in cases.iter().enumerate() {
            assert_eq!(
                n.worse(*sev, *v, *t),
                *want,
                "case {i}: {n:?} -> {sev:?} {v:?} vs {t:?}"
            );
        }
    }
}
