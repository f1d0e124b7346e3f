//! The flywheel health rules of DESIGN §2.2: pure functions of (config,
//! [`Snapshot`], evaluation date) returning [`Finding`]s.
//!
//! This module owns the finding type, its JSON shape (DESIGN §2.1), the
//! window arithmetic every rule shares and [`evaluate`], which dispatches to
//! one function per rule, grouped by flywheel link in `experience`, `growth`,
//! `leverage` and `meta`. It must not read a clock, the database or a file:
//! `store::snapshot` gathers the data, the alert pipeline owns state (holds,
//! `keep`, repeats, resolution), and `cmd::check` prints.
//!
//! Conventions every rule follows (DESIGN §2.1):
//! - "last N days" are the N days ending the day before `at`; "prior N" the
//!   N before those; Ads-attributed rules end `attribution_days + 1` days
//!   before `at` (matured);
//! - ratios come from sums over the window, never from averaged daily ratios;
//! - missing data is never zero: the rule's `no_data` setting decides between
//!   nothing (`ok`), a [`Status::Keep`] marker the alert pipeline reads as
//!   "hold the last state", and an info finding ([`Status::NoData`]).

pub mod check;
mod experience;
mod growth;
mod leverage;
mod meta;
pub mod render;
pub mod snapshot;

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::config::{Config, Link, NoData, RuleId, Severity, SubjectRef};
pub use snapshot::Snapshot;

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

    /// "B0X (SKU-1)"-style label for tables and emails.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = &self.asin {
            parts.push(format!("asin {a}"));
        }
        if let Some(s) = &self.sku {
            parts.push(format!("sku {s}"));
        }
        if let Some(c) = &self.campaign_id {
            parts.push(format!("campaign {c}"));
        }
        if let Some(t) = &self.search_term {
            parts.push(format!("\"{t}\""));
        }
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

fn num(x: Option<f64>) -> Value {
    match x {
        Some(v) if v.is_finite() => serde_json::json!(round4(v)),
        _ => Value::Null,
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
        m.serialize_entry("account", &self.subject.account)?;
        m.serialize_entry("marketplace", &self.subject.marketplace)?;
        for (k, v) in [
            ("asin", &self.subject.asin),
            ("sku", &self.subject.sku),
            ("campaign_id", &self.subject.campaign_id),
            ("search_term", &self.subject.search_term),
        ] {
            if let Some(v) = v {
                m.serialize_entry(k, v)?;
            }
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
            let checks: Vec<Value> = d
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
            m.serialize_entry(
                "diagnosis",
                &serde_json::json!({
                    "conversion_fell": d.conversion_fell,
                    "traffic_fell": d.traffic_fell,
                    "checks": checks,
                    "other_rules": d.other_rules,
                }),
            )?;
        }
        m.end()
    }
}

/// A JSON number for evidence (rounded; non-finite and missing are null).
pub(crate) fn n(x: impl Into<f64>) -> Value {
    num(Some(x.into()))
}

pub(crate) fn opt(x: Option<f64>) -> Value {
    num(x)
}

/// One evaluation round over one snapshot: the config, the data, the date,
/// and the findings so far. Rule functions take `&mut Eval`.
pub(crate) struct Eval<'a> {
    pub cfg: &'a Config,
    pub snap: &'a Snapshot,
    pub at: NaiveDate,
    pub out: Vec<Finding>,
    /// ASIN → its SKUs (built once: catalogues have 20,000 SKUs).
    pub skus_by_asin: HashMap<&'a str, Vec<&'a str>>,
    /// SKU → its returns.
    pub returns_by_sku: HashMap<&'a str, Vec<&'a snapshot::ReturnRow>>,
    /// SKU → its listing.
    pub listing_by_sku: HashMap<&'a str, &'a snapshot::ListingRow>,
}

impl<'a> Eval<'a> {
    pub fn new(cfg: &'a Config, snap: &'a Snapshot, at: NaiveDate) -> Eval<'a> {
        let mut skus_by_asin: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in &snap.products {
            if let Some(a) = p.asin.as_deref() {
                skus_by_asin.entry(a).or_default().push(p.sku.as_str());
            }
        }
        let mut returns_by_sku: HashMap<&str, Vec<&snapshot::ReturnRow>> = HashMap::new();
        for r in snap.returns.iter().flatten() {
            returns_by_sku.entry(r.sku.as_str()).or_default().push(r);
        }
        let listing_by_sku = snap
            .listings
            .iter()
            .flatten()
            .map(|l| (l.sku.as_str(), l))
            .collect();
        Eval {
            cfg,
            snap,
            at,
            out: Vec::new(),
            skus_by_asin,
            returns_by_sku,
            listing_by_sku,
        }
    }

    /// The SKUs of an ASIN.
    pub fn skus_of(&self, asin: &str) -> &[&'a str] {
        self.skus_by_asin
            .get(asin)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// The returns of a SKU.
    pub fn returns_of(&self, sku: &str) -> &[&'a snapshot::ReturnRow] {
        self.returns_by_sku
            .get(sku)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// The marketplace-level subject.
    pub fn market(&self) -> Subject {
        Subject {
            account: self.snap.account.clone(),
            marketplace: self.snap.marketplace.clone(),
            ..Subject::default()
        }
    }

    /// The rule's settings for a subject: `base` unless an `[[overrides]]`
    /// entry matches (then the config's merge). Cheap when nothing matches,
    /// which matters for catalogues of 20,000 SKUs.
    pub fn settings<T>(&self, rule: RuleId, base: &'a T, subject: &Subject) -> Cow<'a, T>
    where
        T: Clone + serde::de::DeserializeOwned,
    {
        let r = subject.as_ref();
        let overridden = self
            .cfg
            .overrides
            .iter()
            .any(|o| o.rule == rule.as_str() && o.matches(&r));
        if overridden {
            Cow::Owned(self.cfg.rule_settings(rule, &r))
        } else {
            Cow::Borrowed(base)
        }
    }

    /// Records missing data the way the rule's `no_data` setting says.
    pub fn missing(
        &mut self,
        rule: RuleId,
        no_data: NoData,
        subject: Subject,
        why: impl Into<String>,
    ) {
        let status = match no_data {
            NoData::Ok => return,
            NoData::Keep => Status::Keep,
            NoData::NoData => Status::NoData,
        };
        let why = why.into();
        self.out.push(Finding {
            rule,
            severity: Severity::Info,
            status,
            subject,
            value: None,
            threshold: None,
            window: None,
            evidence: Vec::new(),
            summary: format!("no data: {why}"),
            check_first: format!(
                "Run `flywheel doctor` and `flywheel status`: {} needs this data.",
                rule.as_str()
            ),
            diagnosis: None,
        });
    }

    /// Adds a firing finding.
    #[allow(clippy::too_many_arguments)]
    pub fn fire(
        &mut self,
        rule: RuleId,
        severity: Severity,
        subject: Subject,
        value: Option<f64>,
        threshold: Option<f64>,
        window: Option<Window>,
        evidence: Vec<(String, Value)>,
        summary: String,
        check_first: String,
    ) {
        self.out.push(Finding {
            rule,
            severity,
            status: Status::Firing,
            subject,
            value,
            threshold,
            window,
            evidence,
            summary,
            check_first,
            diagnosis: None,
        });
    }

    pub fn attribution_days(&self) -> u32 {
        self.cfg.sync.attribution_days
    }
}

/// Evidence list builder: `ev![("sessions", n(x)), ...]`.
macro_rules! ev {
    ($(($k:expr, $v:expr)),* $(,)?) => {
        vec![$(($k.to_string(), $v)),*]
    };
}
pub(crate) use ev;

/// Evaluates every enabled rule on one marketplace's snapshot as of `at`
/// (a marketplace day). Pure: no clock, no SQL, no I/O.
pub fn evaluate(cfg: &Config, snapshot: &Snapshot, at: NaiveDate) -> Vec<Finding> {
    let mut e = Eval::new(cfg, snapshot, at);
    let r = &cfg.rules;
    if r.feedback_response_sla.enabled {
        experience::feedback_response_sla(&mut e);
    }
    if r.feedback_rate.enabled {
        experience::feedback_rate(&mut e);
    }
    if r.review_topics.enabled {
        experience::review_topics(&mut e);
    }
    if r.rating_floor.enabled {
        experience::rating_floor(&mut e);
    }
    if r.return_rate.enabled {
        experience::return_rate(&mut e);
    }
    if r.listing_health.enabled {
        experience::listing_health(&mut e);
    }
    if r.account_health.enabled {
        experience::account_health(&mut e);
    }
    if r.conversion_rate.enabled {
        growth::conversion_rate(&mut e);
    }
    if r.traffic_trend.enabled {
        growth::traffic_trend(&mut e);
    }
    if r.buy_box.enabled {
        growth::buy_box(&mut e);
    }
    if r.bsr_trend.enabled {
        growth::bsr_trend(&mut e);
    }
    if r.keyword_share.enabled {
        growth::keyword_share(&mut e);
    }
    if r.acos_band.enabled {
        leverage::acos_band(&mut e);
    }
    if r.tacos.enabled {
        leverage::tacos(&mut e);
    }
    if r.ad_reliance.enabled {
        leverage::ad_reliance(&mut e);
    }
    if r.cpc_trend.enabled {
        leverage::cpc_trend(&mut e);
    }
    if r.wasted_spend.enabled {
        leverage::wasted_spend(&mut e);
    }
    if r.stockout_risk.enabled {
        leverage::stockout_risk(&mut e);
    }
    if r.inventory_turnover.enabled {
        leverage::inventory_turnover(&mut e);
    }
    if r.margin_floor.enabled {
        leverage::margin_floor(&mut e);
    }
    if r.data_freshness.enabled {
        meta::data_freshness(&mut e);
    }
    if r.credentials.enabled {
        meta::credentials(&mut e);
    }
    // Last: the stall's diagnosis names the other rules firing for the ASIN.
    if r.growth_stall.enabled {
        growth::growth_stall(&mut e);
    }
    let mut out = e.out;
    sort(&mut out);
    out
}

/// Orders findings for people: by flywheel link, most severe first, then
/// firing before no-data, then rule and subject.
pub fn sort(findings: &mut [Finding]) {
    fn link_rank(l: Link) -> u8 {
        match l {
            Link::Experience => 0,
            Link::Growth => 1,
            Link::Leverage => 2,
            Link::Meta => 3,
        }
    }
    findings.sort_by(|a, b| {
        link_rank(a.link())
            .cmp(&link_rank(b.link()))
            .then(b.severity.cmp(&a.severity))
            .then(a.status.cmp(&b.status))
            .then(a.rule.cmp(&b.rule))
            .then(a.subject.cmp(&b.subject))
    });
}

/// `a >= b`, forgiving float noise (29.999999999999996 is 30: thresholds
/// are meant as written).
pub(crate) fn at_least(a: f64, b: f64) -> bool {
    a >= b - 1e-9 * b.abs().max(1.0)
}

/// `a > b`, forgiving float noise (2.0000000000000004 is not above 2).
pub(crate) fn above(a: f64, b: f64) -> bool {
    a > b + 1e-9 * b.abs().max(1.0)
}

/// Median of a non-empty list.
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// a / b × 100, `None` when b is not positive.
pub(crate) fn pct(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b * 100.0)
}

/// Relative change of `now` against `before`, percent (negative = fell).
pub(crate) fn change_pct(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| (now - before) / before * 100.0)
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_end_the_day_before_and_ads_windows_are_matured() {
        let at = d("2026-03-22");
        assert_eq!(
            Window::last(at, 14),
            Window {
                start: d("2026-03-08"),
                end: d("2026-03-21")
            }
        );
        assert_eq!(
            Window::prior(at, 14),
            Window {
                start: d("2026-02-22"),
                end: d("2026-03-07")
            }
        );
        // DESIGN §2.1: with DATE as day 0, the 14-day ACoS window is days −21 … −8.
        assert_eq!(
            Window::matured(at, 14, 7),
            Window {
                start: d("2026-03-01"),
                end: d("2026-03-14")
            }
        );
        assert_eq!(Window::last(at, 7).before(), Window::prior(at, 7));
    }

    #[test]
    fn json_has_the_design_keys_and_omits_absent_subject_keys() {
        let f = Finding {
            rule: RuleId::WastedSpend,
            severity: Severity::Warning,
            status: Status::Firing,
            subject: Subject {
                account: "demo".into(),
                marketplace: "ATVPDKIKX0DER".into(),
                ..Subject::default()
            }
            .campaign(1001)
            .search_term("free water bottle"),
            value: Some(17.0),
            threshold: Some(15.0),
            window: Some(Window::last(d("2026-03-02"), 30)),
            evidence: ev![("clicks", n(17)), ("purchases", n(0))],
            summary: "s".into(),
            check_first: "c".into(),
            diagnosis: None,
        };
        let j = f.to_json();
        assert_eq!(j["rule"], "wasted_spend");
        assert_eq!(j["link"], "leverage");
        assert_eq!(j["campaign_id"], "1001");
        assert_eq!(j["search_term"], "free water bottle");
        assert!(j.get("asin").is_none() && j.get("sku").is_none());
        assert_eq!(j["evidence"]["clicks"], 17.0);
        let text = serde_json::to_string(&f).unwrap();
        assert!(
            text.starts_with(r#"{"rule":"wasted_spend","link":"leverage","severity":"warning""#),
            "{text}"
        );
    }

    #[test]
    fn median_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(pct(1.0, 0.0), None);
        assert_eq!(change_pct(75.0, 100.0), Some(-25.0));
    }
}
