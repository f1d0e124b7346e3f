//! The flywheel health rules of DESIGN §2.2: pure functions of (config,
//! [`Snapshot`], evaluation date) returning [`Finding`]s.
//!
//! This module owns the finding type, its JSON shape (DESIGN §2.1), the
//! window arithmetic every rule shares and [`evaluate`], which dispatches to
//! one function per rule, grouped by flywheel link in `experience`, `growth`,
//! `leverage` and `meta`. The number each rule judges is defined once, in
//! [`metrics`]; [`series`] applies the same definitions day by day to draw a
//! finding's chart. It must not read a clock, the database or a file:
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
pub mod metrics;
pub mod render;
pub mod series;

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::config::{Config, Effective, EffectiveSettings, NoData, RuleId, RuleSettings, Severity};
use crate::model::finding::num;
pub use crate::model::finding::{round4, Check, Diagnosis, Finding, Status, Subject, Window};
use crate::model::rule::link_rank;
pub use crate::model::snapshot::{self, Snapshot};
pub(crate) use metrics::{above, at_least, change_pct};

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
    /// The rules' settings with `[[overrides]]` merged, once per round.
    pub effective: EffectiveSettings<'a>,
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
            effective: cfg.effective_settings(),
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

    /// The rule's settings for a subject: `base` (the rule's
    /// `[rules.<id>]`, `e.cfg.rules.<id>`) unless `[[overrides]]` select the
    /// subject, then their merge, typed once per round and shared by every
    /// subject they select. Cheap when nothing matches, which matters for
    /// catalogues of 20,000 SKUs.
    pub fn settings<T: RuleSettings>(
        &self,
        rule: RuleId,
        base: &'a T,
        subject: &Subject,
    ) -> Effective<'a, T> {
        debug_assert!(
            rule == T::ID && std::ptr::eq(base, T::of(&self.cfg.rules)),
            "{rule}: the settings of another rule"
        );
        self.effective.get::<T>(&subject.as_ref())
    }

    /// Rule `T`'s id and its `[rules.<id>]` table: the settings type names
    /// both, so a rule can never read another rule's table.
    pub fn rule<T: RuleSettings>(&self) -> (RuleId, &'a T) {
        (T::ID, T::of(&self.cfg.rules))
    }

    /// The rule's settings for a subject, `None` when `[[overrides]]`
    /// disable the rule for it.
    pub fn enabled<T: RuleSettings>(
        &self,
        rule: RuleId,
        base: &'a T,
        subject: &Subject,
    ) -> Option<Effective<'a, T>> {
        let s = self.settings(rule, base, subject);
        s.common().enabled.then_some(s)
    }

    /// `keys` in order, each with its subject (`subject` of the marketplace
    /// and the key) and the rule's settings for it, leaving out the subjects
    /// `[[overrides]]` disable: the loop of every per-subject rule.
    pub fn subjects<K, T: RuleSettings>(
        &self,
        rule: RuleId,
        base: &'a T,
        keys: impl IntoIterator<Item = K>,
        subject: impl Fn(Subject, &K) -> Subject,
    ) -> Vec<(K, Subject, Effective<'a, T>)> {
        keys.into_iter()
            .filter_map(|k| {
                let subject = subject(self.market(), &k);
                let s = self.enabled(rule, base, &subject)?;
                Some((k, subject, s))
            })
            .collect()
    }

    /// The marketplace-level subject and the rule's settings for it, for
    /// rules that judge the whole marketplace; `None` when disabled there.
    pub fn market_settings<T: RuleSettings>(
        &self,
        rule: RuleId,
        base: &'a T,
    ) -> Option<(Subject, Effective<'a, T>)> {
        let subject = self.market();
        let s = self.enabled(rule, base, &subject)?;
        Some((subject, s))
    }

    /// Records missing data for the whole marketplace (a source never
    /// synced, a file not configured).
    pub fn missing_market(&mut self, rule: RuleId, no_data: NoData, why: impl Into<String>) {
        let subject = self.market();
        self.missing(rule, no_data, subject, why);
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

    /// Starts a firing finding of `rule` for `subject`: say what was
    /// measured and its evidence, then [`Firing::says`] records it.
    pub fn fire(&mut self, rule: RuleId, severity: Severity, subject: Subject) -> Firing<'_> {
        Firing {
            out: &mut self.out,
            finding: Finding {
                rule,
                severity,
                status: Status::Firing,
                subject,
                value: None,
                threshold: None,
                window: None,
                evidence: Vec::new(),
                summary: String::new(),
                check_first: String::new(),
                diagnosis: None,
            },
        }
    }

    /// The matured window of `days` (Ads-attributed figures): it ends
    /// `attribution_days + 1` days before `at`.
    pub fn matured(&self, days: u32) -> Window {
        Window::matured(self.at, days, self.attribution_days())
    }

    pub fn attribution_days(&self) -> u32 {
        self.cfg.sync.attribution_days
    }
}

/// A firing finding being described (see [`Eval::fire`]).
#[must_use = "a firing finding is recorded by `says`"]
pub(crate) struct Firing<'e> {
    out: &'e mut Vec<Finding>,
    finding: Finding,
}

impl Firing<'_> {
    /// The measured value and the threshold it crossed, both in the value's
    /// unit (as the chart draws them), and the window they cover.
    pub fn measured(
        mut self,
        value: Option<f64>,
        threshold: Option<f64>,
        window: Option<Window>,
    ) -> Self {
        self.finding.value = value;
        self.finding.threshold = threshold;
        self.finding.window = window;
        self
    }

    /// The named numbers behind the value, in a readable order.
    pub fn evidence(mut self, evidence: Vec<(String, Value)>) -> Self {
        self.finding.evidence = evidence;
        self
    }

    /// What is wrong (one line) and what to look at first; records the
    /// finding.
    pub fn says(self, summary: String, check_first: impl Into<String>) {
        self.out.push(Finding {
            summary,
            check_first: check_first.into(),
            ..self.finding
        });
    }
}

/// Evidence list builder: `ev![("sessions", n(x)), ...]`.
macro_rules! ev {
    ($(($k:expr, $v:expr)),* $(,)?) => {
        vec![$(($k.to_string(), $v)),*]
    };
}
pub(crate) use ev;

/// The keys of a per-subject map, sorted: findings come out in one order
/// whatever the map's hashing.
pub(crate) fn sorted_keys<V>(m: &HashMap<String, V>) -> Vec<&String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys
}

/// Why a rule that reads the orders of window `w` has no data.
pub(crate) fn orders_too_short(w: Window) -> String {
    format!("orders do not reach back to {}", w.start)
}

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
    findings.sort_by(|a, b| {
        link_rank(a.link())
            .cmp(&link_rank(b.link()))
            .then(b.severity.cmp(&a.severity))
            .then(a.status.cmp(&b.status))
            .then(a.rule.cmp(&b.rule))
            .then(a.subject.cmp(&b.subject))
    });
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
}
