//! Which data each rule needs, declared once: the snapshot loads what the
//! enabled rules read, `doctor` says which rules lack data, inhibition mutes
//! a rule whose every source is stale, and the digest names the rules a
//! failing job starves, all from [`needs`].

use super::rule::RuleId;

/// A kind of data a rule reads (a part of the snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Data {
    /// Sales & traffic per ASIN over report windows.
    SalesTrafficWindows,
    /// Sales & traffic per marketplace day.
    SalesTrafficDaily,
    Orders,
    Returns,
    SellerFeedback,
    AccountHealth,
    Listings,
    /// Customer feedback review topics.
    ReviewTopics,
    /// The `ratings_file` CSV (no Amazon API returns star ratings).
    RatingsFile,
    CatalogRanks,
    Pricing,
    SearchQueryPerformance,
    Inventory,
    InventoryPlanning,
    Fees,
    /// The `costs_file` CSV (unit costs).
    CostsFile,
    Ads,
    /// flywheel's own job runs.
    JobRuns,
    /// flywheel's own credential problems.
    Credentials,
}

/// What a rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Ways to get the data the rule cannot judge without: it has data when
    /// every item of one alternative is there. Empty when the rule's data
    /// comes from a file only (checked where the file is configured); one
    /// empty alternative when it needs nothing synced (flywheel's own state).
    pub requires: &'static [&'static [Data]],
    /// Data it reads when present (diagnosis, enrichment), never required.
    pub reads: &'static [Data],
}

/// The data `rule` needs (DESIGN §2.2, "data" column).
pub fn needs(rule: RuleId) -> Needs {
    use Data::*;
    use RuleId as R;
    let (requires, reads): (&'static [&'static [Data]], &'static [Data]) = match rule {
        R::FeedbackResponseSla => (&[&[SellerFeedback]], &[]),
        R::FeedbackRate => (&[&[SalesTrafficDaily]], &[]),
        R::ReviewTopics => (&[&[ReviewTopics]], &[]),
        R::RatingFloor => (&[], &[RatingsFile]),
        R::ReturnRate => (&[&[Returns, Orders]], &[]),
        R::ListingHealth => (&[&[Listings]], &[]),
        R::AccountHealth => (&[&[AccountHealth]], &[]),
        R::ConversionRate | R::TrafficTrend => (&[&[SalesTrafficWindows]], &[]),
        R::BuyBox => (&[&[SalesTrafficWindows]], &[Pricing]),
        R::BsrTrend => (&[&[CatalogRanks]], &[]),
        R::KeywordShare => (&[&[SearchQueryPerformance]], &[]),
        // Units come from sales & traffic, or from orders as the fallback;
        // the diagnosis reads every other source it can.
        R::GrowthStall => (
            &[&[SalesTrafficWindows], &[Orders]],
            &[
                Returns,
                Listings,
                ReviewTopics,
                CatalogRanks,
                Pricing,
                SearchQueryPerformance,
                Inventory,
                Ads,
            ],
        ),
        R::AcosBand | R::CpcTrend | R::WastedSpend => (&[&[Ads]], &[]),
        R::Tacos | R::AdReliance => (&[&[Ads, SalesTrafficDaily], &[Ads, Orders]], &[]),
        R::StockoutRisk => (&[&[Inventory, Orders]], &[]),
        R::InventoryTurnover => (&[&[InventoryPlanning]], &[]),
        R::MarginFloor => (&[&[Fees, Orders]], &[CostsFile, Ads]),
        R::DataFreshness => (&[&[]], &[JobRuns]),
        R::Credentials => (&[&[]], &[Credentials]),
    };
    Needs { requires, reads }
}

impl Needs {
    /// Whether the rule reads `d` at all (required in some alternative, or read when present).
    pub fn reads(&self, d: Data) -> bool {
        self.reads.contains(&d) || self.requires.iter().any(|alt| alt.contains(&d))
    }
}
