//! A rule's result: [`Finding`] (who it is about, the value against the
//! threshold over which days, the evidence) and its JSON shape of DESIGN §2.1.
//! Rules produce findings, the alert pipeline and `check` consume them, the
//! store keeps them as JSON.

use chrono::{Duration, NaiveDate};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::rule::{Link, RuleId, Severity};

/// What a finding says about its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The rule's condition holds.
    Firing,
    /// The data to judge is missing (an info finding, `no_data = "no_data"`).
    NoData,
    /// The data is missing and the rule says `no_data = "keep"`: the alert
    /// pipeline holds the alert's last state for this subject.
    Keep,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::NoData => "no_data",
            Status::Keep => "keep",
        }
    }
}

/// Who a finding is about; absent keys are omitted from JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    pub account: String,
    pub marketplace: String,
    pub asin: Option<String>,
    pub sku: Option<String>,
    pub campaign_id: Option<String>,
    pub search_term: Option<String>,
}

impl Subject {
    pub fn asin(mut self, asin: &str) -> Subject {
        self.asin = Some(asin.to_string());
        self
    }
    pub fn sku(mut self, sku: &str) -> Subject {
        self.sku = Some(sku.to_string());
        self
    }
    pub fn campaign(mut self, id: i64) -> Subject {
        self.campaign_id = Some(id.to_string());
        self
    }
    pub fn search_term(mut self, term: &str) -> Subject {
        self.search_term = Some(term.to_string());
        self
    }

    /// The keys present, as the finding JSON names them and in its order:
    /// account, marketplace, asin, sku, campaign_id, search_term.
    pub fn keys(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("account", Some(&self.account)),
            ("marketplace", Some(&self.marketplace)),
            ("asin", self.asin.as_ref()),
            ("sku", self.sku.as_ref()),
            ("campaign_id", self.campaign_id.as_ref()),
            ("search_term", self.search_term.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?.as_str())))
    }

    /// The subject as the config's override matcher sees it.
    pub fn as_ref(&self) -> SubjectRef<'_> {
        SubjectRef {
            account: &self.account,
            marketplace: &self.marketplace,
            sku: self.sku.as_deref(),
            asin: self.asin.as_deref(),
            campaign: self.campaign_id.as_deref(),
        }
    }

    /// The keys below the marketplace in words: "asin B0X", "sku SKU-1",
    /// "campaign 7", the search term in quotes.
    pub fn words(&self) -> Vec<String> {
        [
            ("asin ", &self.asin, ""),
            ("sku ", &self.sku, ""),
            ("campaign ", &self.campaign_id, ""),
            ("\"", &self.search_term, "\""),
        ]
        .into_iter()
        .filter_map(|(before, v, after)| Some(format!("{before}{}{after}", v.as_ref()?)))
        .collect()
    }

    /// "asin B0X sku SKU-1"-style label for tables and emails.
    pub fn label(&self) -> String {
        let parts = self.words();
        if parts.is_empty() {
            format!("{} {}", self.account, self.marketplace)
        } else {
            parts.join(" ")
        }
    }
}

/// Inclusive range of days a value was computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    /// The `n` days ending the day before `at`.
    pub fn last(at: NaiveDate, n: u32) -> Window {
        Window::ending(at - Duration::days(1), n)
    }

    /// The `n` days before [`Window::last`].
    pub fn prior(at: NaiveDate, n: u32) -> Window {
        Window::ending(at - Duration::days(n as i64 + 1), n)
    }

    /// The `n` days ending `attribution_days + 1` days before `at`: days
    /// whose attributed conversions have matured (DESIGN §2.1).
    pub fn matured(at: NaiveDate, n: u32, attribution_days: u32) -> Window {
        Window::ending(at - Duration::days(attribution_days as i64 + 1), n)
    }

    /// The `n` days ending on `end`.
    pub fn ending(end: NaiveDate, n: u32) -> Window {
        Window {
            start: end - Duration::days(n.max(1) as i64 - 1),
            end,
        }
    }

    /// The window of the same length just before this one.
    pub fn before(&self) -> Window {
        Window::ending(self.start - Duration::days(1), self.days())
    }

    pub fn days(&self) -> u32 {
        ((self.end - self.start).num_days() + 1).max(0) as u32
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        d >= self.start && d <= self.end
    }
}

/// The §1 diagnosis `growth_stall` carries: which branch applies, each
/// check filled with the ASIN's numbers, and the other rules firing for it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnosis {
    /// Conversion of the last window below the prior one.
    pub conversion_fell: Option<bool>,
    /// Sessions of the last window below the prior one.
    pub traffic_fell: Option<bool>,
    pub checks: Vec<Check>,
    /// Ids of the other rules firing for this ASIN (or its SKUs).
    pub other_rules: Vec<String>,
}

impl Diagnosis {
    /// The `diagnosis` object of the finding JSON.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.check,
                    "detail": c.detail,
                    "evidence": pairs(&c.evidence),
                })
            })
            .collect();
        serde_json::json!({
            "conversion_fell": self.conversion_fell,
            "traffic_fell": self.traffic_fell,
            "checks": checks,
            "other_rules": self.other_rules,
        })
    }
}

/// One step of the diagnosis: what to look at, what the data says.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// "buy_box", "price", "review_topics", "returns", "listing", "cpc",
    /// "impression_share", "bsr", "keyword_share", "stock".
    pub check: &'static str,
    pub detail: String,
    pub evidence: Vec<(String, Value)>,
}

/// One result of one rule for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub status: Status,
    pub subject: Subject,
    /// The measured value (percent, days, count, ...); `None` when the rule
    /// has no single number (a suppressed listing) or no data.
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub window: Option<Window>,
    /// The named numbers behind the value, in a readable order.
    pub evidence: Vec<(String, Value)>,
    /// One line: what is wrong.
    pub summary: String,
    /// What the seller should look at first.
    pub check_first: String,
    pub diagnosis: Option<Diagnosis>,
}

impl Finding {
    pub fn link(&self) -> Link {
        self.rule.link()
    }

    /// Counts in precision/recall and in alert emails (DESIGN §2.1).
    pub fn is_alert(&self) -> bool {
        self.status == Status::Firing && self.severity >= Severity::Warning
    }

    /// The JSON object of DESIGN §2.1.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a finding serializes")
    }
}

/// Rounds for display and JSON (values are ratios of sums; 4 decimals is
/// well below any threshold's resolution).
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A value as the finding JSON has it: rounded, and `None` when not finite.
pub fn rounded(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
        .map(round4)
        .filter(|v| v.is_finite())
}

pub fn num(x: Option<f64>) -> Value {
    match rounded(x) {
        Some(v) => serde_json::json!(v),
        None => Value::Null,
    }
}

fn pairs(v: &[(String, Value)]) -> serde_json::Map<String, Value> {
    v.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("rule", self.rule.as_str())?;
        m.serialize_entry("link", self.link().as_str())?;
        m.serialize_entry("severity", self.severity.as_str())?;
        m.serialize_entry("status", self.status.as_str())?;
        for (k, v) in self.subject.keys() {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("value", &num(self.value))?;
        m.serialize_entry("threshold", &num(self.threshold))?;
        if let Some(w) = &self.window {
            m.serialize_entry(
                "window",
                &serde_json::json!({"start": w.start.to_string(), "end": w.end.to_string()}),
            )?;
        }
        m.serialize_entry("evidence", &pairs(&self.evidence))?;
        m.serialize_entry("summary", &self.summary)?;
        m.serialize_entry("check_first", &self.check_first)?;
        if let Some(d) = &self.diagnosis {
            m.serialize_entry("diagnosis", &d.to_json())?;
        }
        m.end()
    }
}

/// The subject a rule is being evaluated for, to pick overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectRef<'a> {
    pub account: &'a str,
    pub marketplace: &'a str,
    pub sku: Option<&'a str>,
    pub asin: Option<&'a str>,
    pub campaign: Option<&'a str>,
}
