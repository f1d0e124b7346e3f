//! The [`Snapshot`]: plain data about one marketplace of one account as of a
//! moment, exactly what the enabled rules read. `store::snapshot` fills it
//! from the database; tests build it by hand. Nothing here knows SQL.
//!
//! Absence is explicit: an `Option` that is `None` means the source was never
//! synced (the rule reports no data); an empty collection means it was synced
//! and holds nothing. Days are marketplace days (Ads days: the profile's).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

/// Everything the rules know about one marketplace.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The config's account name.
    pub account: String,
    /// Amazon's marketplace id.
    pub marketplace: String,
    pub time_zone: chrono_tz::Tz,
    /// The instant the data is as of: the evaluation's "now". Rules measure
    /// ages (feedback SLA, job staleness) from it; it is an input, never read
    /// from a clock.
    pub as_of: DateTime<Utc>,
    /// SKUs with their ASIN and channel (listings, orders, inventory).
    pub products: Vec<Product>,
    /// Per-ASIN sales & traffic windows that were synced; an ASIN missing
    /// from a present window had no orders in it (sessions unknown).
    pub asin_windows: HashMap<(NaiveDate, NaiveDate), HashMap<String, AsinWindow>>,
    /// The account's daily sales & traffic series.
    pub daily: BTreeMap<NaiveDate, DailyRow>,
    /// Orders per SKU and day (non-cancelled, Amazon channel); `None`: the
    /// orders job never ran.
    pub orders: Option<OrderDays>,
    /// Returns by return day; `None`: never synced.
    pub returns: Option<Vec<ReturnRow>>,
    pub feedback: Option<Vec<FeedbackRow>>,
    pub account_health: Option<HealthRow>,
    pub listings: Option<Vec<ListingRow>>,
    /// ASIN → its review topics (negative and positive) with monthly trend
    /// points; `None`: the customer feedback job never produced rows.
    pub review_topics: Option<HashMap<String, Vec<TopicRow>>>,
    /// Rows of the user's `ratings_file` dated before the evaluation date;
    /// `None`: no file configured.
    pub ratings: Option<Vec<RatingRow>>,
    /// ASIN → daily rank samples, oldest first.
    pub ranks: HashMap<String, Vec<RankRow>>,
    /// ASIN → the newest competitive summary.
    pub pricing: HashMap<String, PriceRow>,
    /// ASIN → weekly search query rows.
    pub search_queries: HashMap<String, Vec<QueryWeek>>,
    /// SKU → the newest stock observation (FBA inventory or FBM listing).
    pub inventory: Option<HashMap<String, StockRow>>,
    /// SKU → the newest inventory planning row.
    pub planning: Option<HashMap<String, PlanningRow>>,
    /// SKU → the newest fee estimate.
    pub fees: HashMap<String, FeeRow>,
    /// SKU → unit cost and freight from the `costs_file`; `None`: no file.
    pub costs: Option<HashMap<String, CostRow>>,
    /// Ads data of the marketplace's profile; `None`: no profile synced.
    pub ads: Option<AdsData>,
    /// Sync jobs of the account as the job table shows them.
    pub jobs: Vec<JobState>,
    /// Open LWA refusals of the account.
    pub credential_problems: Vec<CredentialProblem>,
}

impl Snapshot {
    /// An empty snapshot (every source absent), for tests and as a base.
    pub fn empty(account: &str, marketplace: &str, as_of: DateTime<Utc>) -> Snapshot {
        Snapshot {
            account: account.to_string(),
            marketplace: marketplace.to_string(),
            time_zone: chrono_tz::America::Los_Angeles,
            as_of,
            products: Vec::new(),
            asin_windows: HashMap::new(),
            daily: BTreeMap::new(),
            orders: None,
            returns: None,
            feedback: None,
            account_health: None,
            listings: None,
            review_topics: None,
            ratings: None,
            ranks: HashMap::new(),
            pricing: HashMap::new(),
            search_queries: HashMap::new(),
            inventory: None,
            planning: None,
            fees: HashMap::new(),
            costs: None,
            ads: None,
            jobs: Vec::new(),
            credential_problems: Vec::new(),
        }
    }

    /// The per-ASIN window `start..=end`, if it was synced.
    pub fn window(&self, start: NaiveDate, end: NaiveDate) -> Option<&HashMap<String, AsinWindow>> {
        self.asin_windows.get(&(start, end))
    }

    /// The SKUs of an ASIN.
    pub fn skus_of<'a>(&'a self, asin: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.products
            .iter()
            .filter(move |p| p.asin.as_deref() == Some(asin))
            .map(|p| p.sku.as_str())
    }

    /// The ASIN of a SKU.
    pub fn asin_of(&self, sku: &str) -> Option<&str> {
        self.products
            .iter()
            .find(|p| p.sku == sku)
            .and_then(|p| p.asin.as_deref())
    }

    /// Every ASIN the snapshot knows (products, sales & traffic), sorted.
    pub fn asins(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .products
            .iter()
            .filter_map(|p| p.asin.clone())
            .chain(self.asin_windows.values().flat_map(|w| w.keys().cloned()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Product {
    pub sku: String,
    pub asin: Option<String>,
    /// "FBA" or "FBM" when known.
    pub channel: Option<String>,
    pub title: Option<String>,
}

/// One ASIN's totals over one per-ASIN sales & traffic window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AsinWindow {
    pub sessions: Option<i64>,
    pub page_views: Option<i64>,
    /// Amazon's page-view weighted buy box percentage for the window, 0–100.
    pub buy_box_pct: Option<f64>,
    pub units_ordered: Option<i64>,
    pub ordered_product_sales: Option<f64>,
}

/// One day of the account's sales & traffic series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DailyRow {
    pub sessions: Option<i64>,
    pub units_ordered: Option<i64>,
    pub total_order_items: Option<i64>,
    pub ordered_product_sales: Option<f64>,
    pub negative_feedback_received: Option<i64>,
}

/// Units and sales per SKU and purchase day, and units shipped per SKU and
/// ship day, from the orders job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderDays {
    /// First purchase day the orders data covers (its history reach).
    pub first_day: Option<NaiveDate>,
    /// SKU → (purchase day → totals).
    pub by_sku: HashMap<String, BTreeMap<NaiveDate, OrderDay>>,
    /// SKU → (ship day → units shipped): orders whose status is shipped (or
    /// partially shipped), counted on the marketplace day of their last
    /// update, when they shipped; MCF orders excluded. The `return_rate`
    /// KPI counts the same units.
    pub shipped: HashMap<String, BTreeMap<NaiveDate, i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OrderDay {
    /// Units ordered (non-cancelled orders).
    pub units: i64,
    /// Item price totals (line totals) of the units.
    pub sales: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnRow {
    pub sku: String,
    pub date: NaiveDate,
    pub quantity: i64,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRow {
    pub order_id: String,
    pub date: NaiveDate,
    pub rating: u8,
    pub comments: Option<String>,
    pub has_response: bool,
    pub acknowledged: bool,
}

/// The newest account health snapshot; rates are fractions as Amazon sends them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthRow {
    pub snapshot_date: Option<NaiveDate>,
    pub account_status: Option<String>,
    pub odr_mfn_rate: Option<f64>,
    pub odr_afn_rate: Option<f64>,
    pub late_shipment_rate: Option<f64>,
    pub pre_fulfillment_cancel_rate: Option<f64>,
    pub valid_tracking_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListingRow {
    pub sku: String,
    pub asin: Option<String>,
    pub statuses: Vec<String>,
    pub is_buyable: bool,
    pub is_discoverable: bool,
    pub is_suppressed: bool,
    pub issues: Vec<IssueRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssueRow {
    pub code: String,
    /// ERROR, WARNING or INFO as Amazon sends it.
    pub severity: String,
    pub message: String,
}

/// One review topic of an ASIN, with its monthly share history.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicRow {
    pub topic: String,
    /// "negative" or "positive".
    pub sentiment: String,
    /// Share of reviews mentioning it, percent.
    pub occurrence_pct: Option<f64>,
    pub star_rating_impact: Option<f64>,
    /// The same topic's share in the ASIN's browse node, percent.
    pub browse_node_occurrence_pct: Option<f64>,
    /// Monthly points (period start, share percent), oldest first.
    pub trend: Vec<(NaiveDate, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RatingRow {
    pub asin: String,
    pub rating: f64,
    pub count: Option<i64>,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RankRow {
    pub date: NaiveDate,
    /// Main display-group rank (first displayGroupRanks entry); `None`: unranked.
    pub rank: Option<i64>,
    pub display_group: Option<String>,
    pub classification_rank: Option<i64>,
    pub classification_title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceRow {
    pub observed_day: Option<NaiveDate>,
    pub featured_offer_price: Option<f64>,
    pub is_featured_offer_ours: Option<bool>,
    pub our_price: Option<f64>,
    pub lowest_new_fba_price: Option<f64>,
    pub lowest_new_fbm_price: Option<f64>,
    pub offer_count: Option<i64>,
}

/// One search query of an ASIN in one week (Sunday to Saturday).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryWeek {
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    pub query: String,
    pub volume: Option<i64>,
    /// Fractions 0–1 as Amazon sends them.
    pub impression_share: Option<f64>,
    pub click_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StockRow {
    pub observed_at: DateTime<Utc>,
    /// "FBA" (inventory API) or "FBM" (listing quantity).
    pub channel: String,
    pub available: i64,
    /// Inbound working + shipped + receiving (0 for FBM).
    pub inbound: i64,
    /// Days of the lookback window (ending the day before the evaluation
    /// date) on which a stock observation showed nothing available.
    pub stockout_days: u32,
    /// Days of that window with any stock observation.
    pub observed_days: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanningRow {
    pub snapshot_date: Option<NaiveDate>,
    pub available: Option<i64>,
    pub days_of_supply: Option<f64>,
    pub units_shipped_t30: Option<i64>,
    pub inv_age_0_to_90_days: Option<i64>,
    pub inv_age_91_to_180_days: Option<i64>,
    pub inv_age_181_to_270_days: Option<i64>,
    pub inv_age_271_to_365_days: Option<i64>,
    pub inv_age_365_plus_days: Option<i64>,
    pub recommended_action: Option<String>,
}

impl PlanningRow {
    /// Units older than `days` (buckets 0–90, 91–180, 181–270, 271–365,
    /// 365+: a bucket counts when all its units are older than `days`).
    pub fn aged_units(&self, days: u32) -> i64 {
        let buckets = [
            (90, self.inv_age_91_to_180_days),
            (180, self.inv_age_181_to_270_days),
            (270, self.inv_age_271_to_365_days),
            (365, self.inv_age_365_plus_days),
        ];
        buckets
            .iter()
            .filter(|(lo, _)| *lo >= days)
            .map(|(_, n)| n.unwrap_or(0))
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeeRow {
    pub price: f64,
    pub total_fees: Option<f64>,
    pub referral_fee: Option<f64>,
    pub fba_fee: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostRow {
    pub unit_cost: f64,
    pub inbound_freight: f64,
}

/// Daily Ads figures. `sales` and `purchases` are the attributed ones the
/// config's `attribution_days` selects (SB/SD: their 14-day click columns).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AdDay {
    pub date: NaiveDate,
    pub impressions: i64,
    pub clicks: i64,
    pub cost: f64,
    pub purchases: Option<i64>,
    pub sales: Option<f64>,
}

/// Sums of Ads days over a window (ratios come from these sums).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AdSums {
    pub days: u32,
    pub impressions: i64,
    pub clicks: i64,
    pub cost: f64,
    pub purchases: i64,
    pub sales: f64,
}

impl AdSums {
    pub fn of<'a>(
        days: impl IntoIterator<Item = &'a AdDay>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> AdSums {
        let mut s = AdSums::default();
        for d in days
            .into_iter()
            .filter(|d| d.date >= start && d.date <= end)
        {
            s.days += 1;
            s.impressions += d.impressions;
            s.clicks += d.clicks;
            s.cost += d.cost;
            s.purchases += d.purchases.unwrap_or(0);
            s.sales += d.sales.unwrap_or(0.0);
        }
        s
    }

    pub fn add(&mut self, o: &AdSums) {
        self.days = self.days.max(o.days);
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.cost += o.cost;
        self.purchases += o.purchases;
        self.sales += o.sales;
    }

    pub fn cpc(&self) -> Option<f64> {
        (self.clicks > 0).then(|| self.cost / self.clicks as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdsData {
    /// First and last profile day with campaign rows (what the sync reached).
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub currency: Option<String>,
    pub campaigns: Vec<CampaignDays>,
    pub search_terms: Vec<SearchTermDays>,
    /// Advertised products (SP): ad spend and sales per ASIN/SKU.
    pub products: Vec<AdvertisedDays>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignDays {
    pub campaign_id: i64,
    /// SP, SB or SD.
    pub ad_product: String,
    pub name: Option<String>,
    pub days: Vec<AdDay>,
    /// SP top-of-search impression share per day (fraction), when sent.
    pub top_of_search_share: Vec<(NaiveDate, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchTermDays {
    pub campaign_id: i64,
    pub search_term: String,
    pub days: Vec<AdDay>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdvertisedDays {
    pub campaign_id: i64,
    pub asin: String,
    /// '' when Amazon sent none.
    pub sku: String,
    pub days: Vec<AdDay>,
}

/// A sync job of the account as the job table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    pub job: String,
    pub last_ok: Option<DateTime<Utc>>,
    /// First attempt ever (staleness of a job that never succeeded).
    pub first_attempt: Option<DateTime<Utc>>,
    /// Status of the newest attempt.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialProblem {
    /// "sp" or "ads".
    pub api: String,
    pub error_kind: String,
    pub detail: Option<String>,
    pub first_seen_at: DateTime<Utc>,
}

/// Days the seller feedback job reads again on each run (responses and
/// removals happen within weeks). The job and the feedback chart's
/// coverage both use it.
pub const SELLER_FEEDBACK_WINDOW_DAYS: i64 = 90;

/// How far the returns job's first run reaches back (return_rate reads 30
/// days). The job and the returns chart's coverage both use it.
pub const RETURNS_HISTORY_DAYS: i64 = 60;
