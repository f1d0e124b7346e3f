//! Settings of every rule of DESIGN §2.2, with the seed's figures as defaults.
//!
//! Each rule has the same four common keys (`enabled`, `severity`, `for`,
//! `no_data`) plus its own thresholds and windows. One macro declares them
//! all, so the rule list, the `[rules]` table, the rule ids and their
//! flywheel links can never drift apart. Adding a rule means adding one
//! entry here, its evaluation, its case table and its example-config entry
//! (CONTRIBUTING.md).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Deref;
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{duration, Override};
use crate::model::finding::SubjectRef;

pub use crate::model::rule::{Link, NoData, RuleId, Severity, SubjectKind};

/// The keys every rule has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Common {
    pub enabled: bool,
    pub severity: Severity,
    pub hold: Duration,
    pub no_data: NoData,
}

/// One rule's settings type (`[rules.<id>]`): which rule it configures and
/// where [`Rules`] keeps it. Lets the typed settings of a rule be looked up
/// by type, so a rule id and a settings struct can never be paired wrongly.
pub trait RuleSettings: Clone + Serialize + DeserializeOwned + 'static {
    const ID: RuleId;
    /// The `[rules.<id>]` table of this rule.
    fn of(rules: &Rules) -> &Self;
    /// The keys every rule has.
    fn common(&self) -> Common;
}

macro_rules! rules {
    ($(
        $(#[doc = $doc:literal])*
        $id:ident => $ty:ident {
            severity: $sev:ident, hold: $hold:literal, no_data: $nd:ident $(,)?
        } { $( $(#[$fattr:meta])* $field:ident : $fty:ty = $def:expr ),* $(,)? }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
            #[serde(default, deny_unknown_fields)]
            pub struct $ty {
                /// Whether the rule is evaluated at all.
                pub enabled: bool,
                /// Severity of its findings (rules with two levels have their own keys).
                pub severity: Severity,
                /// How long the condition must hold before the alert fires (`for`).
                #[serde(rename = "for", with = "duration")]
                pub hold: Duration,
                /// Behaviour when the data is missing.
                pub no_data: NoData,
                $( $(#[$fattr])* pub $field: $fty, )*
            }

            impl Default for $ty {
                fn default() -> Self {
                    $ty {
                        enabled: true,
                        severity: Severity::$sev,
                        hold: humantime::parse_duration($hold).expect("valid default hold"),
                        no_data: NoData::$nd,
                        $( $field: $def, )*
                    }
                }
            }

            impl RuleSettings for $ty {
                const ID: RuleId = RuleId::$ty;

                fn of(rules: &Rules) -> &Self {
                    &rules.$id
                }

                fn common(&self) -> Common {
                    Common {
                        enabled: self.enabled,
                        severity: self.severity,
                        hold: self.hold,
                        no_data: self.no_data,
                    }
                }
            }
        )*

        /// The `[rules.*]` tables.
        #[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Rules { $( pub $id: $ty, )* }

        impl Rules {
            /// The common keys of one rule.
            pub fn common(&self, id: RuleId) -> Common {
                match id {
                    $(RuleId::$ty => self.$id.common()),*
                }
            }

            /// One rule's settings as a TOML table (the base that
            /// `[[overrides]]` are laid over).
            pub fn table(&self, id: RuleId) -> toml::Table {
                let v = match id {
                    $(RuleId::$ty => toml::Table::try_from(&self.$id)),*
                };
                v.expect("rule settings serialize to a table")
            }

            /// Checks a rule's settings table (after overrides) parses as
            /// that rule's type; the error is serde's message.
            pub fn check_table(id: RuleId, table: toml::Table) -> Result<(), (String, String)> {
                let value = toml::Value::Table(table);
                let result = match id {
                    $(RuleId::$ty => serde_path_to_error::deserialize::<_, $ty>(value).map(|_| ())),*
                };
                result.map_err(|e| (e.path().to_string(), e.inner().message().to_string()))
            }
        }

        impl EffectiveSettings<'_> {
            /// The keys every rule has, for `rule` and a subject (overrides
            /// merged): the `for` hold of an alert, its severity.
            pub fn common(&self, rule: RuleId, subject: &SubjectRef<'_>) -> Common {
                match rule {
                    $(RuleId::$ty => self.get::<$ty>(subject).common()),*
                }
            }
        }
    };
}

rules! {
    /// A 1–3 star seller feedback left unanswered and unacknowledged.
    feedback_response_sla => FeedbackResponseSla {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        /// Ratings at or below this count as negative (1–3 stars).
        max_rating: u8 = 3,
        /// Hours after the start of the feedback's day (marketplace time) before it is a breach.
        response_hours: u32 = 24,
    }

    /// Negative seller feedback as a share of orders.
    feedback_rate => FeedbackRate {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_percent: f64 = 2.0,
        window_days: u32 = 30,
        /// Fewer orders than this in the window: no finding (too few to judge).
        min_orders: u32 = 50,
    }

    /// A negative review topic rising, or far above its browse node.
    review_topics => ReviewTopics {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        /// Rise in share of reviews, in percentage points, over `window_months`.
        min_share_rise_points: f64 = 5.0,
        window_months: u32 = 3,
        /// Mentioned at least this many times as often as in the browse node.
        node_ratio: f64 = 2.0,
    }

    /// Product star rating floor and slide (from the user's `ratings_file`).
    rating_floor => RatingFloor {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        critical_below: f64 = 4.3,
        warning_below: f64 = 4.5,
        /// A fall of at least this many stars within `drop_window_days` warns.
        max_drop: f64 = 0.2,
        drop_window_days: u32 = 30,
    }

    /// Units returned over units shipped.
    return_rate => ReturnRate {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_percent: f64 = 3.0,
        window_days: u32 = 30,
        min_units_shipped: u32 = 20,
    }

    /// Listings that are not buyable, suppressed, or carry ERROR issues.
    listing_health => ListingHealth {
        severity: Warning, hold: "0s", no_data: Keep,
    } {
        /// Severity for a suppressed (search-suppressed or not discoverable) listing.
        suppressed_severity: Severity = Severity::Critical,
        /// Lowest issue severity that fires: "error" or "warning".
        min_issue_severity: String = "error".to_string(),
    }

    /// Account health: status and performance metrics.
    account_health => AccountHealth {
        severity: Critical, hold: "0s", no_data: Keep,
    } {
        max_odr_percent: f64 = 1.0,
        max_late_shipment_percent: f64 = 4.0,
        max_pre_fulfillment_cancel_percent: f64 = 2.5,
        min_valid_tracking_percent: f64 = 95.0,
    }

    /// Unit session percentage low or falling.
    conversion_rate => ConversionRate {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        min_percent: f64 = 12.0,
        window_days: u32 = 14,
        min_sessions: u32 = 100,
        /// Relative fall versus the prior window that fires.
        max_drop_percent: f64 = 20.0,
    }

    /// Sessions falling week over week.
    traffic_trend => TrafficTrend {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_drop_percent: f64 = 25.0,
        window_days: u32 = 7,
        /// Sessions in the prior window below this: no finding.
        min_sessions: u32 = 100,
    }

    /// Page-view weighted buy box percentage.
    buy_box => BuyBox {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        min_percent: f64 = 90.0,
        window_days: u32 = 7,
        min_page_views: u32 = 50,
    }

    /// Best Sellers Rank getting worse (a larger number).
    bsr_trend => BsrTrend {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_worsening_percent: f64 = 30.0,
        window_days: u32 = 7,
        /// Days with a rank snapshot needed in each window.
        min_days_observed: u32 = 4,
    }

    /// Impression or click share of a tracked search query falling.
    keyword_share => KeywordShare {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_drop_percent: f64 = 30.0,
        /// Tracked queries; empty means the ASIN's top `top_queries` by volume.
        queries: Vec<String> = Vec::new(),
        top_queries: u32 = 5,
    }

    /// Units of the last 30 days at or below the prior 30, with a diagnosis.
    growth_stall => GrowthStall {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        window_days: u32 = 30,
        /// Units in the prior window below this: too small to call a stall.
        min_units: u32 = 30,
    }

    /// ACoS outside the healthy band (matured window).
    acos_band => AcosBand {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        min_percent: f64 = 18.0,
        max_percent: f64 = 25.0,
        window_days: u32 = 14,
        /// Spend in the window (marketplace currency) below this: no finding.
        min_spend: f64 = 50.0,
        /// Also evaluate the marketplace-wide band.
        per_marketplace: bool = true,
    }

    /// Total ad spend over total sales.
    tacos => Tacos {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_percent: f64 = 12.0,
        window_days: u32 = 14,
    }

    /// Ad-attributed sales as a share of total sales.
    ad_reliance => AdReliance {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_percent: f64 = 50.0,
        window_days: u32 = 14,
    }

    /// Cost per click rising.
    cpc_trend => CpcTrend {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_rise_percent: f64 = 25.0,
        window_days: u32 = 14,
        min_clicks: u32 = 50,
    }

    /// Search terms that take clicks and never convert.
    wasted_spend => WastedSpend {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        min_clicks: u32 = 15,
        max_purchases: u32 = 0,
        window_days: u32 = 30,
    }

    /// Days of cover below lead time plus safety stock.
    stockout_risk => StockoutRisk {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        lead_time_days: u32 = 30,
        safety_days: u32 = 7,
        /// Days of sales the daily velocity is averaged over.
        velocity_days: u32 = 14,
        /// Severity when the SKU is out of stock now.
        out_of_stock_severity: Severity = Severity::Critical,
        /// Window for counting past stockout days (evidence).
        stockout_lookback_days: u32 = 30,
    }

    /// Too many days of supply, or aged stock.
    inventory_turnover => InventoryTurnover {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        max_days_of_supply: u32 = 45,
        /// Units older than `aged_days` above this fire.
        max_aged_units: u32 = 0,
        aged_days: u32 = 90,
    }

    /// Contribution margin per unit after fees and ad spend.
    margin_floor => MarginFloor {
        severity: Warning, hold: "0s", no_data: NoData,
    } {
        min_percent: f64 = 10.0,
        window_days: u32 = 30,
    }

    /// A sync job has not succeeded for too long.
    data_freshness => DataFreshness {
        severity: Warning, hold: "0s", no_data: Ok,
    } {
        /// Allowed staleness as a multiple of the job's schedule interval.
        max_missed_runs: u32 = 3,
        /// Never alert on staleness shorter than this, whatever the interval.
        #[serde(with = "duration")]
        min_staleness: Duration = Duration::from_secs(2 * 3600),
    }

    /// LWA credentials rejected, or a client secret about to expire.
    credentials => Credentials {
        severity: Critical, hold: "0s", no_data: Ok,
    } {
        /// Warn this many days before `client_secret_expires`.
        warn_days_before_expiry: u32 = 14,
    }
}

/// The effective settings of every rule for one evaluation round: each
/// rule's `[rules.<id>]` as is, and for a subject that `[[overrides]]`
/// select, those overrides laid over it in file order (keys replace keys).
///
/// The override tables were checked against the rule's type at load; here
/// each distinct set of matching overrides is merged and deserialized once
/// and kept for the round, so a catalogue of 20,000 SKUs with a handful of
/// overrides merges a handful of times, not once per SKU and rule. Subjects
/// no override selects get the `[rules.<id>]` value itself, with no copy.
pub struct EffectiveSettings<'a> {
    rules: &'a Rules,
    overrides: &'a [Override],
    /// Each rule's overrides (indices into `overrides`, in file order).
    by_rule: HashMap<RuleId, Vec<usize>>,
    /// The merged settings per set of matching overrides (all of one rule,
    /// so the set names the rule too); the value is that rule's settings.
    merged: RefCell<HashMap<Vec<usize>, Rc<dyn Any>>>,
}

impl<'a> EffectiveSettings<'a> {
    pub fn new(rules: &'a Rules, overrides: &'a [Override]) -> EffectiveSettings<'a> {
        let mut by_rule: HashMap<RuleId, Vec<usize>> = HashMap::new();
        for (i, o) in overrides.iter().enumerate() {
            if let Some(id) = RuleId::parse(&o.rule) {
                by_rule.entry(id).or_default().push(i);
            }
        }
        EffectiveSettings {
            rules,
            overrides,
            by_rule,
            merged: RefCell::new(HashMap::new()),
        }
    }

    /// Rule `T`'s settings for a subject.
    pub fn get<T: RuleSettings>(&self, subject: &SubjectRef<'_>) -> Effective<'a, T> {
        let set: Vec<usize> = match self.by_rule.get(&T::ID) {
            Some(ix) => ix
                .iter()
                .copied()
                .filter(|i| self.overrides[*i].matches(subject))
                .collect(),
            None => Vec::new(),
        };
        if set.is_empty() {
            return Effective::Base(T::of(self.rules));
        }
        if let Some(v) = self.merged.borrow().get(&set) {
            let v = Rc::clone(v).downcast::<T>();
            return Effective::Merged(v.expect("one settings type per rule"));
        }
        let v = Rc::new(merge::<T>(
            self.rules,
            set.iter().map(|i| &self.overrides[*i]),
        ));
        self.merged.borrow_mut().insert(set, v.clone());
        Effective::Merged(v)
    }
}

/// A rule's settings for one subject: its `[rules.<id>]` table, or the
/// merge of the overrides that select the subject.
#[derive(Debug, Clone)]
pub enum Effective<'a, T> {
    Base(&'a T),
    Merged(Rc<T>),
}

impl<T> Deref for Effective<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Effective::Base(t) => t,
            Effective::Merged(t) => t,
        }
    }
}

/// `T`'s `[rules.<id>]` with the settings of `layers` laid over it in order.
pub(super) fn merge<'o, T: RuleSettings>(
    rules: &Rules,
    layers: impl Iterator<Item = &'o Override>,
) -> T {
    let mut table =
        toml::Table::try_from(T::of(rules)).expect("rule settings serialize to a table");
    for o in layers {
        table.extend(o.settings.clone());
    }
    toml::Value::Table(table)
        .try_into()
        .expect("override settings were validated at load")
}

/// Range checks on one rule's settings table: (key, problem). Generic
/// checks by key name keep every rule honest without a hand-written
/// validator each: windows of at least a day, percentages within 0–100
/// (rises excepted), no negative numbers, and the min/max pairs in order.
pub fn range_problems(id: RuleId, table: &toml::Table) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let num = |k: &str| match table.get(k) {
        Some(toml::Value::Integer(i)) => Some(*i as f64),
        Some(toml::Value::Float(f)) => Some(*f),
        _ => None,
    };
    for (key, _) in table.iter() {
        let Some(v) = num(key) else { continue };
        if v < 0.0 || v.is_nan() {
            out.push((key.clone(), format!("must not be negative, found {v}")));
        } else if key.ends_with("_days")
            && !key.contains("lead_time")
            && !key.contains("safety")
            && v < 1.0
        {
            out.push((key.clone(), "must be at least 1 day".to_string()));
        } else if (key.ends_with("_percent") && !key.contains("rise")) && v > 100.0 {
            out.push((
                key.clone(),
                format!("is a percentage: must be 0–100, found {v}"),
            ));
        }
    }
    let ordered: &[(&str, &str)] = match id {
        RuleId::AcosBand => &[("min_percent", "max_percent")],
        RuleId::RatingFloor => &[("critical_below", "warning_below")],
        _ => &[],
    };
    for (lo, hi) in ordered {
        if let (Some(a), Some(b)) = (num(lo), num(hi)) {
            if a > b {
                out.push((lo.to_string(), format!("{lo} ({a}) is above {hi} ({b})")));
            }
        }
    }
    if id == RuleId::RatingFloor {
        for k in ["critical_below", "warning_below"] {
            if num(k).is_some_and(|v| v > 5.0) {
                out.push((k.to_string(), "is a star rating: must be 0–5".to_string()));
            }
        }
    }
    if id == RuleId::ListingHealth {
        if let Some(toml::Value::String(s)) = table.get("min_issue_severity") {
            if s != "error" && s != "warning" {
                out.push((
                    "min_issue_severity".to_string(),
                    format!("must be \"error\" or \"warning\", found \"{s}\""),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_of_the_design_is_here_once() {
        let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        let design = [
            "feedback_response_sla",
            "feedback_rate",
            "review_topics",
            "rating_floor",
            "return_rate",
            "listing_health",
            "account_health",
            "conversion_rate",
            "traffic_trend",
            "buy_box",
            "bsr_trend",
            "keyword_share",
            "growth_stall",
            "acos_band",
            "tacos",
            "ad_reliance",
            "cpc_trend",
            "wasted_spend",
            "stockout_risk",
            "inventory_turnover",
            "margin_floor",
            "data_freshness",
            "credentials",
        ];
        assert_eq!(ids, design);
        for id in RuleId::ALL {
            assert_eq!(RuleId::parse(id.as_str()), Some(*id));
        }
    }

    #[test]
    fn defaults_are_the_seed_figures() {
        let r = Rules::default();
        assert_eq!(
            (r.acos_band.min_percent, r.acos_band.max_percent),
            (18.0, 25.0)
        );
        assert_eq!(r.conversion_rate.min_percent, 12.0);
        assert_eq!(r.return_rate.max_percent, 3.0);
        assert_eq!(r.inventory_turnover.max_days_of_supply, 45);
        assert_eq!(r.feedback_response_sla.response_hours, 24);
        assert_eq!(r.rating_floor.critical_below, 4.3);
        assert_eq!(
            r.stockout_risk.lead_time_days + r.stockout_risk.safety_days,
            37
        );
        assert_eq!(RuleId::AcosBand.link(), Link::Leverage);
        assert_eq!(
            RuleId::WastedSpend.subject(),
            SubjectKind::CampaignSearchTerm
        );
    }

    #[test]
    fn range_checks() {
        let t: toml::Table =
            toml::from_str("min_percent = 30\nmax_percent = 20\nwindow_days = 0").unwrap();
        let p = range_problems(RuleId::AcosBand, &t);
        assert!(
            p.contains(&("window_days".into(), "must be at least 1 day".into())),
            "{p:?}"
        );
        assert!(
            p.contains(&(
                "min_percent".into(),
                "min_percent (30) is above max_percent (20)".into()
            )),
            "{p:?}"
        );
        let ok = Rules::default().table(RuleId::AcosBand);
        assert!(range_problems(RuleId::AcosBand, &ok).is_empty());
    }
}
