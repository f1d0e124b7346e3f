//! One alert as a message shows it ([`Item`]) and the daily history drawn
//! as its trend chart ([`Series`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::alert::Notified;
use super::finding::{rounded, Finding};
use super::rule::{Link, RuleId, Severity};

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

/// Money at stake while an alert fires, where flywheel can estimate it
/// (sales lost per day to a stockout, a suppression or a lost buy box;
/// wasted ad spend; the margin gap on the units sold), in the
/// marketplace's currency, and as a share of that marketplace's sales per
/// day over the last 7 days: the share is what ranks alerts, so amounts in
/// different currencies are never compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Stake {
    pub per_day: f64,
    pub currency: String,
    pub share_of_sales: Option<f64>,
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

/// One alert as an email shows it: built from this round's [`Finding`]
/// while the rule fires, and from the finding JSON of DESIGN §2.1 stored
/// with the alert once it has resolved. Numbers are as the JSON has them
/// (rounded), so an email says the same whichever way its item was built.
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
    /// Money at stake, where it can be estimated.
    pub stake: Option<Stake>,
    /// What the last email said of it (a repeat's), to tell what got worse.
    pub previous: Option<Notified>,
}

impl Item {
    /// A repeat worse than the last email said (see [`Notified::worse`]).
    pub fn is_worse(&self) -> bool {
        self.kind == ItemKind::Repeat
            && self
                .previous
                .is_some_and(|p| p.worse(self.severity, self.value, self.threshold))
    }

    /// What an email shows in full: what is new, and what got worse.
    pub fn is_news(&self) -> bool {
        self.kind == ItemKind::Firing || self.is_worse()
    }

    /// The item of a finding this round computed.
    pub fn from_finding(
        f: &Finding,
        kind: ItemKind,
        fingerprint: &str,
        since: DateTime<Utc>,
    ) -> Item {
        let subject = f
            .subject
            .keys()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Item {
            kind,
            fingerprint: fingerprint.to_string(),
            rule: f.rule,
            link: f.link(),
            severity: f.severity,
            subject,
            value: rounded(f.value),
            threshold: rounded(f.threshold),
            window: f.window.map(|w| (w.start, w.end)),
            evidence: f.evidence.clone(),
            summary: f.summary.clone(),
            check_first: f.check_first.clone(),
            diagnosis: f.diagnosis.as_ref().map(|d| d.to_json()),
            since,
            series: None,
            stake: None,
            previous: None,
        }
    }

    /// Reads a stored finding JSON of DESIGN §2.1 (`Finding::to_json`).
    /// `None`, with a warning in the log, when it does not name a rule and
    /// a severity this version knows (a finding stored by another version,
    /// or a damaged row): such an item is left out rather than guessed.
    pub fn from_finding_json(
        v: &Value,
        kind: ItemKind,
        fingerprint: &str,
        since: DateTime<Utc>,
    ) -> Option<Item> {
        let text = |k: &str| v.get(k).and_then(Value::as_str);
        let s = |k: &str| text(k).map(str::to_string);
        let rule = text("rule").and_then(RuleId::parse);
        let severity = text("severity").and_then(Severity::parse);
        let (Some(rule), Some(severity)) = (rule, severity) else {
            tracing::warn!(
                fingerprint,
                rule = text("rule").unwrap_or("(none)"),
                severity = text("severity").unwrap_or("(none)"),
                "stored finding left out: it names a rule or severity this version does not know"
            );
            return None;
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
            stake: None,
            previous: None,
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
        super::marketplace::lookup(m)
            .map(|x| x.country.to_string())
            .unwrap_or_else(|| m.to_string())
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::model::finding::{Check, Diagnosis, Status, Subject, Window};

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap()
    }

    fn stall() -> Finding {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        Finding {
            rule: RuleId::GrowthStall,
            severity: Severity::Critical,
            status: Status::Firing,
            subject: Subject {
                account: "shop".into(),
                marketplace: "ATVPDKIKX0DER".into(),
                ..Subject::default()
            }
            .asin("B0X")
            .sku("S-1"),
            value: Some(-12.345_678_9),
            threshold: Some(f64::NAN),
            window: Some(Window {
                start: d("2026-01-31"),
                end: d("2026-03-01"),
            }),
            evidence: vec![
                ("units".into(), json!(41.0)),
                ("prior_units".into(), json!(47.0)),
                ("note".into(), json!("both windows")),
            ],
            summary: "units fell".into(),
            check_first: "the buy box".into(),
            diagnosis: Some(Diagnosis {
                conversion_fell: Some(true),
                traffic_fell: None,
                checks: vec![Check {
                    check: "buy_box",
                    detail: "lost 12% of page views".into(),
                    evidence: vec![("buy_box_pct".into(), json!(88.0))],
                }],
                other_rules: vec!["buy_box".into()],
            }),
        }
    }

    #[test]
    fn an_item_from_a_finding_says_what_its_stored_json_says() {
        let f = stall();
        let typed = Item::from_finding(&f, ItemKind::Repeat, "fp", at());
        let stored = Item::from_finding_json(&f.to_json(), ItemKind::Repeat, "fp", at());
        assert_eq!(Some(&typed), stored.as_ref());
        assert_eq!(typed.value, Some(-12.3457));
        assert_eq!(typed.threshold, None);
        assert_eq!(typed.key("sku"), Some("S-1"));
        assert_eq!(typed.subject_label(), "asin B0X sku S-1");
    }

    #[test]
    fn a_stored_finding_naming_an_unknown_severity_or_rule_is_refused() {
        let known = stall().to_json();
        let read = |v: &Value| Item::from_finding_json(v, ItemKind::Resolved, "fp", at());
        assert_eq!(read(&known).map(|i| i.severity), Some(Severity::Critical));
        // Never a guess: an unknown severity is not "info".
        for (key, bad) in [
            ("severity", json!("urgent")),
            ("severity", json!("Critical")),
            ("severity", json!(3)),
            ("severity", Value::Null),
            ("rule", json!("frobnicate")),
            ("rule", Value::Null),
        ] {
            let mut v = known.clone();
            v[key] = bad.clone();
            assert_eq!(read(&v), None, "{key} = {bad}");
        }
        assert_eq!(read(&Value::Null), None);
    }
}
