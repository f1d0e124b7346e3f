//! What identifies a rule and classifies its findings: the rule ids with
//! their flywheel link and subject kind, severities, and the `no_data`
//! behaviours. The settings of each rule live in `config::rules`, whose
//! exhaustive matches over [`RuleId`] make the compiler refuse a rule that
//! one list has and the other lacks.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// The severity [`Severity::as_str`] names; `None` for anything else
    /// (never a guess: an unknown severity is not "info").
    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Info, Severity::Warning, Severity::Critical]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What a rule does when its data is missing (DESIGN §2.1: no data is never zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoData {
    /// Treat as healthy: no finding.
    Ok,
    /// Hold the alert's last state.
    Keep,
    /// Report an info finding saying the data is missing.
    NoData,
}

/// The link of the flywheel a rule watches (DESIGN §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    Experience,
    Growth,
    Leverage,
    Meta,
}

impl Link {
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Experience => "experience",
            Link::Growth => "growth",
            Link::Leverage => "leverage",
            Link::Meta => "meta",
        }
    }
}

/// What a rule's findings are about (DESIGN §2.1 "Subjects").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    Marketplace,
    Asin,
    AsinSearchTerm,
    Sku,
    Campaign,
    CampaignSearchTerm,
}

macro_rules! rule_ids {
    ($( $id:ident => $ty:ident { link: $link:ident, subject: $subject:ident } ),* $(,)?) => {
        /// Identifies a rule; the snake_case name is its id in config, JSON and emails.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $($ty),* }

        impl RuleId {
            pub const ALL: &'static [RuleId] = &[$(RuleId::$ty),*];

            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$ty => stringify!($id)),* }
            }

            pub fn link(self) -> Link {
                match self { $(RuleId::$ty => Link::$link),* }
            }

            pub fn subject(self) -> SubjectKind {
                match self { $(RuleId::$ty => SubjectKind::$subject),* }
            }

            pub fn parse(s: &str) -> Option<RuleId> {
                RuleId::ALL.iter().copied().find(|r| r.as_str() == s)
            }
        }

    };
}

rule_ids! {
    feedback_response_sla => FeedbackResponseSla { link: Experience, subject: Marketplace },
    feedback_rate => FeedbackRate { link: Experience, subject: Marketplace },
    review_topics => ReviewTopics { link: Experience, subject: Asin },
    rating_floor => RatingFloor { link: Experience, subject: Asin },
    return_rate => ReturnRate { link: Experience, subject: Sku },
    listing_health => ListingHealth { link: Experience, subject: Sku },
    account_health => AccountHealth { link: Experience, subject: Marketplace },
    conversion_rate => ConversionRate { link: Growth, subject: Asin },
    traffic_trend => TrafficTrend { link: Growth, subject: Asin },
    buy_box => BuyBox { link: Growth, subject: Asin },
    bsr_trend => BsrTrend { link: Growth, subject: Asin },
    keyword_share => KeywordShare { link: Growth, subject: AsinSearchTerm },
    growth_stall => GrowthStall { link: Growth, subject: Asin },
    acos_band => AcosBand { link: Leverage, subject: Campaign },
    tacos => Tacos { link: Leverage, subject: Marketplace },
    ad_reliance => AdReliance { link: Leverage, subject: Marketplace },
    cpc_trend => CpcTrend { link: Leverage, subject: Campaign },
    wasted_spend => WastedSpend { link: Leverage, subject: CampaignSearchTerm },
    stockout_risk => StockoutRisk { link: Leverage, subject: Sku },
    inventory_turnover => InventoryTurnover { link: Leverage, subject: Sku },
    margin_floor => MarginFloor { link: Leverage, subject: Sku },
    data_freshness => DataFreshness { link: Meta, subject: Marketplace },
    credentials => Credentials { link: Meta, subject: Marketplace },
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The order links are shown in: the flywheel's own order, then meta.
pub fn link_rank(link: Link) -> u8 {
    match link {
        Link::Experience => 0,
        Link::Growth => 1,
        Link::Leverage => 2,
        Link::Meta => 3,
    }
}
