//! Everything derived from the daily series and the orders: sales & traffic, inventory,
//! planning, returns, seller feedback, account health, ranks, pricing, listings, customer
//! feedback topics, search query performance, fees, costs and ratings.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::orders::OrderPlan;
use super::rng::{hash, Rng};
use super::{DayCore, World, TAG_FEEDBACK, TAG_MISC, TAG_RANK, TAG_RETURN, TAG_SQP};
use crate::scenario::{round2, ListingIssue};

/// Sales and traffic of one child ASIN on one complete day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AsinDay {
    pub date: NaiveDate,
    pub sku: String,
    pub asin: String,
    pub parent_asin: String,
    pub browser_sessions: u32,
    pub mobile_sessions: u32,
    pub sessions: u32,
    pub browser_page_views: u32,
    pub mobile_page_views: u32,
    pub page_views: u32,
    /// Percent 0..100.
    pub buy_box_pct: f64,
    pub units_ordered: u32,
    pub ordered_product_sales: f64,
    /// One item per order, so this is also the number of (non-cancelled) orders.
    pub total_order_items: u32,
    pub units_refunded: u32,
    pub units_shipped: u32,
    pub orders_shipped: u32,
    pub shipped_product_sales: f64,
}

/// Per-ASIN totals over a date range (sales & traffic by ASIN).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AsinTotals {
    pub sku: String,
    pub asin: String,
    pub parent_asin: String,
    pub browser_sessions: u64,
    pub mobile_sessions: u64,
    pub sessions: u64,
    pub browser_page_views: u64,
    pub mobile_page_views: u64,
    pub page_views: u64,
    /// Page-view weighted, percent.
    pub buy_box_pct: f64,
    pub units_ordered: u64,
    pub ordered_product_sales: f64,
    pub total_order_items: u64,
    pub units_refunded: u64,
    pub units_shipped: u64,
    pub orders_shipped: u64,
    pub shipped_product_sales: f64,
    /// units / sessions × 100.
    pub unit_session_pct: f64,
    /// order items / sessions × 100.
    pub order_item_session_pct: f64,
}

/// The account's numbers on one complete day (sales & traffic by date).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DailyTotals {
    pub date: NaiveDate,
    pub browser_sessions: u64,
    pub mobile_sessions: u64,
    pub sessions: u64,
    pub browser_page_views: u64,
    pub mobile_page_views: u64,
    pub page_views: u64,
    pub buy_box_pct: f64,
    pub units_ordered: u64,
    pub ordered_product_sales: f64,
    pub total_order_items: u64,
    /// Non-cancelled orders placed that day (= total_order_items).
    pub orders: u64,
    pub units_refunded: u64,
    pub units_shipped: u64,
    pub orders_shipped: u64,
    pub shipped_product_sales: f64,
    pub feedback_received: u64,
    /// 1–2 star seller feedback left that day.
    pub negative_feedback_received: u64,
    /// Average number of offers on the seller's ASINs.
    pub average_offer_count: f64,
}

/// FBA inventory of one SKU at a moment (FBM SKUs: `fbm_quantity`, FBA fields 0).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inventory {
    pub sku: String,
    pub asin: String,
    pub fnsku: String,
    pub title: String,
    pub condition: String,
    pub is_fba: bool,
    pub fulfillable: i64,
    pub inbound_working: i64,
    pub inbound_shipped: i64,
    pub inbound_receiving: i64,
    pub reserved: i64,
    /// Customer orders awaiting shipment (part of `reserved`).
    pub reserved_customer_orders: i64,
    /// FC transfers (part of `reserved`).
    pub reserved_fc_transfers: i64,
    pub unfulfillable: i64,
    pub researching: i64,
    /// fulfillable + reserved + unfulfillable + researching + inbound.
    pub total: i64,
    /// Merchant-fulfilled quantity (listings fulfillmentAvailability), FBM only.
    pub fbm_quantity: Option<i64>,
    pub last_updated: DateTime<Utc>,
}

impl Inventory {
    pub fn inbound(&self) -> i64 {
        self.inbound_working + self.inbound_shipped + self.inbound_receiving
    }
    /// Units available to sell now: FBA fulfillable or the FBM quantity.
    pub fn available(&self) -> i64 {
        self.fbm_quantity.unwrap_or(self.fulfillable)
    }
}

/// One row of GET_FBA_INVENTORY_PLANNING_DATA (FBA SKUs), snapshot at the start of a date.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanningRow {
    pub snapshot_date: NaiveDate,
    pub sku: String,
    pub fnsku: String,
    pub asin: String,
    pub product_name: String,
    pub condition: String,
    pub available: i64,
    pub inv_age_0_to_90_days: i64,
    pub inv_age_91_to_180_days: i64,
    pub inv_age_181_to_270_days: i64,
    pub inv_age_271_to_365_days: i64,
    pub inv_age_365_plus_days: i64,
    pub units_shipped_t7: u64,
    pub units_shipped_t30: u64,
    pub units_shipped_t60: u64,
    pub units_shipped_t90: u64,
    pub your_price: f64,
    pub sales_rank: Option<u32>,
    /// available / average daily units shipped over 30 days; None without sales.
    pub days_of_supply: Option<f64>,
    pub inbound_quantity: i64,
    pub inbound_working: i64,
    pub inbound_shipped: i64,
    pub inbound_received: i64,
    pub reserved_quantity: i64,
    pub unfulfillable_quantity: i64,
    /// "out_of_stock" | "reorder_now" | "" (Amazon's alert column).
    pub alert: String,
    pub recommended_action: String,
    pub currency: String,
}

/// A customer return (FBA customer returns report or MFN returns report).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Return {
    pub return_date: DateTime<Utc>,
    pub order_id: String,
    pub order_date: DateTime<Utc>,
    pub sku: String,
    pub asin: String,
    pub fnsku: String,
    pub product_name: String,
    pub quantity: u32,
    /// "AFN" | "MFN"
    pub fulfillment_channel: &'static str,
    /// e.g. DEFECTIVE, NOT_AS_DESCRIBED, UNWANTED_ITEM.
    pub reason: String,
    /// SELLABLE | DEFECTIVE | CUSTOMER_DAMAGED | CARRIER_DAMAGED (FBA).
    pub disposition: String,
    /// FBA: "Unit returned to inventory" | "Reimbursed"; MFN: "Approved" | "Closed".
    pub status: String,
    pub fulfillment_center_id: String,
    pub license_plate_number: String,
    pub customer_comments: String,
    pub amazon_rma_id: String,
    pub refunded_amount: f64,
    pub order_amount: f64,
    pub order_quantity: u32,
}

/// One seller feedback, as seen at a moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Feedback {
    /// The report's Date column (marketplace day).
    pub date: NaiveDate,
    pub left_at: DateTime<Utc>,
    pub rating: u8,
    pub comments: String,
    /// Empty when unanswered at `now`.
    pub response: String,
    pub responded_at: Option<DateTime<Utc>>,
    pub order_id: String,
    pub rater_email: String,
    pub sku: String,
}

/// Account health as of a moment. Rates are fractions; windows end the day before.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccountHealthSnapshot {
    pub marketplace_id: String,
    /// NORMAL | AT_RISK | DEACTIVATED
    pub status: String,
    /// GREAT | GOOD | FAIR | AT_RISK | CRITICAL
    pub health_rating: String,
    pub odr_orders: u64,
    pub odr_defects: u64,
    pub odr_negative_feedback: u64,
    pub odr_claims: u64,
    pub odr_chargebacks: u64,
    pub odr: f64,
    pub odr_window: (NaiveDate, NaiveDate),
    pub late_shipment_orders: u64,
    pub late_shipments: u64,
    pub late_shipment_rate: f64,
    pub late_shipment_window: (NaiveDate, NaiveDate),
    pub cancel_orders: u64,
    pub cancellations: u64,
    pub cancel_rate: f64,
    pub cancel_window: (NaiveDate, NaiveDate),
    pub tracking_shipments: u64,
    pub valid_tracking: u64,
    pub valid_tracking_rate: f64,
    pub tracking_window: (NaiveDate, NaiveDate),
    pub listing_policy_violations: u32,
    pub product_authenticity_complaints: u32,
    pub product_safety_complaints: u32,
    pub intellectual_property_complaints: u32,
    pub other_policy_violations: u32,
}

/// Catalog sales ranks of an ASIN on a day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankSnapshot {
    pub date: NaiveDate,
    pub asin: String,
    pub display_group: String,
    pub display_group_title: String,
    pub rank: u32,
    pub classification_id: String,
    pub classification_title: String,
    pub classification_rank: u32,
}

/// One offer on an ASIN.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Offer {
    pub seller_id: String,
    pub price: f64,
    pub shipping: f64,
    /// "New" | "Used"
    pub condition: String,
    /// "AFN" | "MFN"
    pub fulfillment: &'static str,
    pub is_ours: bool,
    pub is_prime: bool,
}

/// Competitive pricing summary of an ASIN at a moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CompetitiveSummary {
    pub asin: String,
    pub currency: String,
    pub our_price: f64,
    /// Featured offer (buy box) winner.
    pub featured_seller_id: Option<String>,
    pub featured_price: Option<f64>,
    pub we_own_featured_offer: bool,
    /// Our share of the featured offer (glance-view weighted), percent.
    pub featured_share_pct: f64,
    /// All offers, cheapest first (landed price).
    pub offers: Vec<Offer>,
    pub offer_count: u32,
    pub was_price: f64,
    pub competitive_price_threshold: f64,
}

/// A listing of one SKU at a moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Listing {
    pub sku: String,
    pub asin: String,
    pub title: String,
    pub product_type: String,
    pub condition: String,
    /// Subset of BUYABLE, DISCOVERABLE.
    pub status: Vec<String>,
    pub suppressed: bool,
    pub issues: Vec<ListingIssue>,
    pub price: f64,
    pub currency: String,
    /// "DEFAULT" for FBM, "AMAZON_NA" / "AMAZON_EU" / "AMAZON_FE" for FBA.
    pub fulfillment_channel_code: String,
    /// FBM quantity (fulfillmentAvailability); None for FBA.
    pub fbm_quantity: Option<i64>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

/// A review topic of an ASIN or a browse node.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReviewTopicInfo {
    pub topic: String,
    /// "positive" | "negative"
    pub sentiment: String,
    pub mentions: u32,
    /// Percent of reviews mentioning the topic.
    pub occurrence_pct: f64,
    pub star_rating_impact: f64,
    /// The same topic's occurrence percent in the ASIN's browse node, if known.
    pub browse_node_occurrence_pct: Option<f64>,
    /// Subtopics with their mentions.
    pub subtopics: Vec<(String, u32)>,
}

/// Monthly occurrence of a topic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopicTrend {
    pub topic: String,
    pub sentiment: String,
    pub month_start: NaiveDate,
    pub occurrence_pct: f64,
}

/// An ASIN's browse node.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrowseNodeInfo {
    pub asin: String,
    pub browse_node_id: String,
    pub browse_node_name: String,
}

/// Brand Analytics search query performance of an ASIN for one week (Sunday–Saturday).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchQueryWeek {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub asin: String,
    pub search_query: String,
    /// 1 = the ASIN's top query by volume.
    pub search_query_score: u32,
    pub search_query_volume: u64,
    pub total_query_impression_count: u64,
    pub asin_impression_count: u64,
    pub asin_impression_share: f64,
    pub total_click_count: u64,
    pub total_click_rate: f64,
    pub asin_click_count: u64,
    pub asin_click_share: f64,
    pub total_median_click_price: f64,
    pub asin_median_click_price: f64,
    pub total_cart_add_count: u64,
    pub total_cart_add_rate: f64,
    pub asin_cart_add_count: u64,
    pub asin_cart_add_share: f64,
    pub total_purchase_count: u64,
    pub total_purchase_rate: f64,
    pub asin_purchase_count: u64,
    pub asin_purchase_share: f64,
    pub total_median_purchase_price: f64,
    pub asin_median_purchase_price: f64,
}

/// Product fee estimate for one SKU at a price.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FeeEstimate {
    pub sku: String,
    pub asin: String,
    pub price: f64,
    pub currency: String,
    pub referral_pct: f64,
    pub referral_fee: f64,
    pub fba_fee: f64,
    pub variable_closing_fee: f64,
    pub total: f64,
    pub is_fba: bool,
}

/// A costs.csv row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CostRow {
    pub sku: String,
    pub unit_cost: f64,
    pub inbound_freight: f64,
    pub currency: String,
}

/// A ratings.csv row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RatingRow {
    pub asin: String,
    pub rating: f64,
    pub count: u32,
    pub date: NaiveDate,
}

/// The return planned for an order item, if any.
#[derive(Debug, Clone)]
struct ReturnPlan {
    at: DateTime<Utc>,
    quantity: u32,
    reason: String,
    disposition: &'static str,
}

/// The seller feedback planned for an order, if any.
#[derive(Debug, Clone)]
struct FeedbackPlan {
    left_at: DateTime<Utc>,
    rating: u8,
    responded_at: Option<DateTime<Utc>>,
}

const DEFAULT_REASONS: &[(&str, f64)] = &[
    ("UNWANTED_ITEM", 3.0),
    ("DEFECTIVE", 2.0),
    ("NOT_AS_DESCRIBED", 1.5),
    ("ORDERED_WRONG_ITEM", 1.0),
    ("FOUND_BETTER_PRICE", 0.7),
    ("QUALITY_UNACCEPTABLE", 1.0),
    ("DAMAGED_BY_CARRIER", 0.4),
    ("MISSED_ESTIMATED_DELIVERY", 0.3),
];
const FCS: &[&str] = &[
    "PHX7", "ONT8", "MDW2", "BFI4", "SDF8", "TPA1", "LGB3", "CLT2",
];
const NEG_COMMENTS: &[&str] = &[
    "Item arrived damaged and seller did not reply.",
    "Not as described. Disappointed.",
    "Package arrived late, box crushed.",
    "Wrong color sent.",
    "Stopped working after a week.",
];
const NEUTRAL_COMMENTS: &[&str] = &[
    "OK product, slow shipping.",
    "Fine but packaging was poor.",
    "Average.",
];
const POS_COMMENTS: &[&str] = &[
    "Great seller, fast shipping!",
    "Exactly as described.",
    "Would buy again.",
];
const RESPONSE: &str =
    "We're sorry about your experience. We have contacted you by message to make it right.";

/// Days an order can take to ship (longest late MFN shipment).
const SHIP_LOOKBACK: i32 = 6;
/// Days from purchase to the latest return.
const RETURN_LOOKBACK: i32 = 40;
/// Days from purchase to the latest feedback.
const FEEDBACK_LOOKBACK: i32 = 14;

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl World {
    // ----------------------------------------------------------------- plans and flows

    /// Order plans of SKU `j` purchased on days `from..to`, with the walk.
    pub(crate) fn sku_plans(&self, j: usize, from: i32, to: i32) -> (Vec<DayCore>, Vec<OrderPlan>) {
        let cores = self.walk(j, from, to);
        let plans = cores.iter().flat_map(|c| self.plans(j, c)).collect();
        (cores, plans)
    }

    /// The return of an order item, if any. `day` is the SKU's parameters on the purchase day
    /// (passed in because callers walk many orders of the same day).
    fn return_of(&self, plan: &OrderPlan, day: &super::SkuParams) -> Option<ReturnPlan> {
        let shipped = plan.shipped?;
        let p = &self.scenario.products[plan.sku];
        let params = day;
        let mut r = Rng::new(&[self.seed, TAG_RETURN, plan.code]);
        let quantity = (0..plan.quantity)
            .filter(|_| r.chance(params.return_rate))
            .count() as u32;
        if quantity == 0 {
            return None;
        }
        let at = shipped + Duration::hours(72 + r.below(24 * 25) as i64);
        let reason = match params.return_reason {
            Some(x) if r.chance(0.7) => x.to_string(),
            _ => {
                if p.return_reasons.is_empty() {
                    let w: Vec<f64> = DEFAULT_REASONS.iter().map(|x| x.1).collect();
                    DEFAULT_REASONS[r.weighted(&w)].0.to_string()
                } else {
                    let w: Vec<f64> = p.return_reasons.iter().map(|x| x.weight).collect();
                    p.return_reasons[r.weighted(&w)].code.clone()
                }
            }
        };
        let disposition = match reason.as_str() {
            "DEFECTIVE" | "QUALITY_UNACCEPTABLE" => "DEFECTIVE",
            "DAMAGED_BY_CARRIER" => "CARRIER_DAMAGED",
            _ if r.chance(0.15) => "CUSTOMER_DAMAGED",
            _ => "SELLABLE",
        };
        Some(ReturnPlan {
            at,
            quantity,
            reason,
            disposition,
        })
    }

    fn feedback_of(&self, plan: &OrderPlan) -> Option<FeedbackPlan> {
        let shipped = plan.shipped?;
        let fb = &self.scenario.feedback;
        let acct = self.account_params(plan.rel);
        let p_fb = fb
            .feedback_rate
            .max(acct.negative_rate + fb.neutral_rate + 0.005);
        let mut r = Rng::new(&[self.seed, TAG_FEEDBACK, plan.code]);
        if !r.chance(p_fb) {
            return None;
        }
        let x = r.f64() * p_fb;
        let rating = if x < acct.negative_rate {
            if r.chance(0.55) {
                1
            } else {
                2
            }
        } else if x < acct.negative_rate + fb.neutral_rate {
            3
        } else if r.chance(0.8) {
            5
        } else {
            4
        };
        let left_at = shipped + Duration::hours(20 + r.below(24 * 6) as i64);
        // Background answers come the same marketplace day, so a complete day never leaves
        // an accidental SLA breach behind.
        let responded_at = (rating <= 3 && r.chance(fb.response_rate)).then(|| {
            let end = self.day_start(self.day_of(left_at) + Duration::days(1));
            let gap = (end - left_at).num_seconds().max(2);
            left_at + Duration::seconds((gap as f64 * (0.2 + 0.7 * r.f64())) as i64)
        });
        Some(FeedbackPlan {
            left_at,
            rating,
            responded_at,
        })
    }

    /// Shipped units, shipped orders, shipped sales and refunded units of SKU `j` per day of
    /// `from..to`, as of `now`.
    fn flows(&self, j: usize, from: i32, to: i32, now: DateTime<Utc>) -> Vec<(u32, u32, f64, u32)> {
        let n = (to - from).max(0) as usize;
        let mut out = vec![(0u32, 0u32, 0.0f64, 0u32); n];
        let (_, plans) = self.sku_plans(j, from - RETURN_LOOKBACK, to);
        let idx = |t: DateTime<Utc>| -> Option<usize> {
            if t > now {
                return None;
            }
            let r = self.rel(self.day_of(t));
            (r >= from && r < to).then(|| (r - from) as usize)
        };
        let mut day_params = None;
        for plan in &plans {
            if day_params.as_ref().is_none_or(|(rel, _)| *rel != plan.rel) {
                day_params = Some((plan.rel, self.params(j, plan.rel)));
            }
            let params = &day_params.as_ref().expect("set above").1;
            if let Some(s) = plan.shipped {
                if let Some(i) = idx(s) {
                    out[i].0 += plan.quantity;
                    out[i].1 += 1;
                    out[i].2 += plan.unit_price * plan.quantity as f64;
                }
            }
            if let Some(ret) = self.return_of(plan, params) {
                if let Some(i) = idx(ret.at) {
                    out[i].3 += ret.quantity;
                }
            }
        }
        out
    }

    // ----------------------------------------------------------------- sales & traffic

    /// Sales and traffic per day of one SKU for `start..=end`; only days complete at `now`.
    pub fn asin_days(
        &self,
        sku: &str,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<AsinDay> {
        let Some(j) = self.sku_idx(sku) else {
            return Vec::new();
        };
        let (from, to) = self.complete_range(start, end, now);
        if from >= to {
            return Vec::new();
        }
        let p = &self.scenario.products[j];
        let (cores, plans) = self.sku_plans(j, from, to);
        let flows = self.flows(j, from, to, now);
        let mut canceled = vec![0u32; (to - from) as usize];
        for pl in plans.iter().filter(|x| x.is_canceled()) {
            canceled[(pl.rel - from) as usize] += 1;
        }
        let mut order_counts = vec![0u32; (to - from) as usize];
        for pl in plans.iter().filter(|x| !x.is_canceled()) {
            order_counts[(pl.rel - from) as usize] += 1;
        }
        cores
            .iter()
            .map(|c| {
                let i = (c.rel - from) as usize;
                let f = flows[i];
                AsinDay {
                    date: self.date(c.rel),
                    sku: p.sku.clone(),
                    asin: p.asin.clone(),
                    parent_asin: p.parent_asin.clone().unwrap_or_else(|| p.asin.clone()),
                    browser_sessions: c.sessions - c.sessions_mobile,
                    mobile_sessions: c.sessions_mobile,
                    sessions: c.sessions,
                    browser_page_views: c.page_views - c.page_views_mobile,
                    mobile_page_views: c.page_views_mobile,
                    page_views: c.page_views,
                    buy_box_pct: (c.buy_box * 10_000.0).round() / 100.0,
                    units_ordered: c.units,
                    ordered_product_sales: round2(c.units as f64 * c.price),
                    total_order_items: order_counts[i],
                    units_refunded: f.3,
                    units_shipped: f.0,
                    orders_shipped: f.1,
                    shipped_product_sales: round2(f.2),
                }
            })
            .collect()
    }

    /// Relative range of the days of `start..=end` that are complete at `now`.
    fn complete_range(&self, start: NaiveDate, end: NaiveDate, now: DateTime<Utc>) -> (i32, i32) {
        let today = self.day_of(now);
        let last_complete = if self.is_complete(today, now) {
            today
        } else {
            today - Duration::days(1)
        };
        let end = end.min(last_complete);
        let (from, to) = self.rel_range(start, end);
        (from.max(self.start_rel()), to)
    }

    /// Per-ASIN totals over `start..=end` (complete days at `now`), ASINs without orders in
    /// the range omitted (as Amazon's sales & traffic report does).
    pub fn asin_totals(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<AsinTotals> {
        let mut out = Vec::new();
        for p in &self.scenario.products {
            let days = self.asin_days(&p.sku, start, end, now);
            if let Some(t) = totals_of(&days) {
                out.push(t);
            }
        }
        out
    }

    /// Per-ASIN totals of one SKU over a range, None when it had no orders (omitted).
    pub fn asin_total(
        &self,
        sku: &str,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Option<AsinTotals> {
        totals_of(&self.asin_days(sku, start, end, now))
    }

    /// The account's daily series for `start..=end` (complete days at `now`).
    pub fn daily_totals(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<DailyTotals> {
        let (from, to) = self.complete_range(start, end, now);
        if from >= to {
            return Vec::new();
        }
        let mut out: Vec<DailyTotals> = (from..to)
            .map(|r| DailyTotals {
                date: self.date(r),
                browser_sessions: 0,
                mobile_sessions: 0,
                sessions: 0,
                browser_page_views: 0,
                mobile_page_views: 0,
                page_views: 0,
                buy_box_pct: 0.0,
                units_ordered: 0,
                ordered_product_sales: 0.0,
                total_order_items: 0,
                orders: 0,
                units_refunded: 0,
                units_shipped: 0,
                orders_shipped: 0,
                shipped_product_sales: 0.0,
                feedback_received: 0,
                negative_feedback_received: 0,
                average_offer_count: 0.0,
            })
            .collect();
        let mut bb_weighted = vec![0.0; out.len()];
        let mut offers = vec![0.0; out.len()];
        for p in &self.scenario.products {
            let j = self.sku_idx(&p.sku).expect("indexed");
            for d in self.asin_days(&p.sku, self.date(from), self.date(to - 1), now) {
                let i = (self.rel(d.date) - from) as usize;
                let o = &mut out[i];
                o.browser_sessions += d.browser_sessions as u64;
                o.mobile_sessions += d.mobile_sessions as u64;
                o.sessions += d.sessions as u64;
                o.browser_page_views += d.browser_page_views as u64;
                o.mobile_page_views += d.mobile_page_views as u64;
                o.page_views += d.page_views as u64;
                bb_weighted[i] += d.buy_box_pct * d.page_views as f64;
                o.units_ordered += d.units_ordered as u64;
                o.ordered_product_sales += d.ordered_product_sales;
                o.total_order_items += d.total_order_items as u64;
                o.orders += d.total_order_items as u64;
                o.units_refunded += d.units_refunded as u64;
                o.units_shipped += d.units_shipped as u64;
                o.orders_shipped += d.orders_shipped as u64;
                o.shipped_product_sales += d.shipped_product_sales;
                offers[i] += self.params(j, self.rel(d.date)).offers as f64;
            }
        }
        for fb in self.all_feedback(self.date(from), self.date(to - 1), now) {
            let i = (self.rel(fb.date) - from) as usize;
            out[i].feedback_received += 1;
            if fb.rating <= 2 {
                out[i].negative_feedback_received += 1;
            }
        }
        let n = self.scenario.products.len().max(1) as f64;
        for (i, o) in out.iter_mut().enumerate() {
            o.buy_box_pct = if o.page_views > 0 {
                (bb_weighted[i] / o.page_views as f64 * 100.0).round() / 100.0
            } else {
                0.0
            };
            o.ordered_product_sales = round2(o.ordered_product_sales);
            o.shipped_product_sales = round2(o.shipped_product_sales);
            o.average_offer_count = (offers[i] / n * 100.0).round() / 100.0;
        }
        out
    }

    // ----------------------------------------------------------------- inventory

    /// Inbound shipments of SKU `j` on day `rel`: (working, shipped, receiving).
    fn inbound_on(&self, j: usize, rel: i32) -> (i64, i64, i64) {
        let p = &self.scenario.products[j];
        if !p.is_fba() {
            return (0, 0, 0);
        }
        let lead = p.lead_time_days as i32;
        let mut w = (0, 0, 0);
        for r in (rel - lead + 1)..=rel {
            let q = self.shipment_qty(j, r);
            if q == 0 {
                continue;
            }
            let frac = (rel - r) as f64 / lead.max(1) as f64;
            if frac < 0.2 {
                w.0 += q;
            } else if frac < 0.85 || lead - (rel - r) > 3 {
                w.1 += q;
            } else {
                w.2 += q;
            }
        }
        w
    }

    /// Inventory of one SKU at `now`.
    pub fn inventory(&self, sku: &str, now: DateTime<Utc>) -> Option<Inventory> {
        let j = self.sku_idx(sku)?;
        let p = &self.scenario.products[j];
        let rel = self.rel(self.day_of(now));
        if rel < self.start_rel() {
            return None;
        }
        let (cores, plans) = self.sku_plans(j, rel - SHIP_LOOKBACK, rel + 1);
        let today = cores.last()?;
        let sold_today: i64 = plans
            .iter()
            .filter(|x| x.rel == rel && !x.is_canceled() && x.purchase <= now)
            .map(|x| x.quantity as i64)
            .sum();
        let on_hand = (today.on_hand - sold_today).max(0);
        let pending: i64 = plans
            .iter()
            .filter(|x| !x.is_canceled() && x.purchase <= now && x.shipped.is_some_and(|s| s > now))
            .map(|x| x.quantity as i64)
            .sum();
        let mut r = Rng::new(&[self.seed, TAG_MISC, j as u64, rel as i64 as u64, 0x1]);
        let e = today.expected_units.max(0.0);
        let (w, s, rc) = self.inbound_on(j, rel);
        if !p.is_fba() {
            return Some(Inventory {
                sku: p.sku.clone(),
                asin: p.asin.clone(),
                fnsku: p.fnsku(),
                title: p.title.clone(),
                condition: p.condition.clone(),
                is_fba: false,
                fulfillable: 0,
                inbound_working: 0,
                inbound_shipped: 0,
                inbound_receiving: 0,
                reserved: 0,
                reserved_customer_orders: 0,
                reserved_fc_transfers: 0,
                unfulfillable: 0,
                researching: 0,
                total: 0,
                fbm_quantity: Some(on_hand),
                last_updated: now,
            });
        }
        let fc_transfer = if on_hand > 0 {
            r.round(e * 0.3) as i64
        } else {
            0
        };
        let fc_transfer = fc_transfer.min(on_hand);
        let fulfillable = on_hand - fc_transfer;
        let unfulfillable = r.round(e * 30.0 * p.return_rate * 0.3) as i64;
        let researching = r.below(3) as i64;
        let reserved = pending + fc_transfer;
        Some(Inventory {
            sku: p.sku.clone(),
            asin: p.asin.clone(),
            fnsku: p.fnsku(),
            title: p.title.clone(),
            condition: p.condition.clone(),
            is_fba: true,
            fulfillable,
            inbound_working: w,
            inbound_shipped: s,
            inbound_receiving: rc,
            reserved,
            reserved_customer_orders: pending,
            reserved_fc_transfers: fc_transfer,
            unfulfillable,
            researching,
            total: fulfillable + reserved + unfulfillable + researching + w + s + rc,
            fbm_quantity: None,
            last_updated: now,
        })
    }

    /// Inventory of every SKU at `now` (FBA and FBM).
    pub fn inventory_all(&self, now: DateTime<Utc>) -> Vec<Inventory> {
        self.scenario
            .products
            .iter()
            .filter_map(|p| self.inventory(&p.sku, now))
            .collect()
    }

    /// Units available to sell at `now` (FBA fulfillable + FC transfer, or FBM quantity),
    /// and inbound. Used for days of cover.
    pub fn stock_position(&self, sku: &str, now: DateTime<Utc>) -> Option<(i64, i64)> {
        let inv = self.inventory(sku, now)?;
        Some((inv.available() + inv.reserved_fc_transfers, inv.inbound()))
    }

    /// Inventory planning rows (FBA SKUs) for the snapshot at the start of `date`.
    pub fn planning(&self, date: NaiveDate) -> Vec<PlanningRow> {
        let at = self.day_start(date);
        let rel = self.rel(date);
        let mut out = Vec::new();
        for (j, p) in self.scenario.products.iter().enumerate() {
            if !p.is_fba() || rel <= self.start_rel() {
                continue;
            }
            let shipped = self.flows(j, rel - 90, rel, at);
            let t = |n: usize| {
                shipped[shipped.len().saturating_sub(n)..]
                    .iter()
                    .map(|x| x.0 as u64)
                    .sum::<u64>()
            };
            let Some(core) = self.core(j, rel) else {
                continue;
            };
            let available = core.on_hand.max(0);
            let ages = self.age_buckets(j, rel, available);
            let (w, s, rc) = self.inbound_on(j, rel);
            let t30 = t(30);
            let dos =
                (t30 > 0).then(|| ((available as f64 / (t30 as f64 / 30.0)) * 10.0).round() / 10.0);
            let params = self.params(j, rel);
            let cover_needed = (p.lead_time_days + self.scenario.safety_days) as f64;
            let alert = if available == 0 {
                "out_of_stock"
            } else if dos.is_some_and(|d| d < cover_needed) && w + s + rc == 0 {
                "reorder_now"
            } else {
                ""
            };
            let aged = ages[1] + ages[2] + ages[3] + ages[4];
            let action = if available == 0 || alert == "reorder_now" {
                "Restock"
            } else if ages[2] + ages[3] + ages[4] > 0 {
                "Create removal order"
            } else if aged > 0 || dos.is_some_and(|d| d > 90.0) {
                "Create casual sales"
            } else {
                "No action required"
            };
            out.push(PlanningRow {
                snapshot_date: date,
                sku: p.sku.clone(),
                fnsku: p.fnsku(),
                asin: p.asin.clone(),
                product_name: p.title.clone(),
                condition: p.condition.clone(),
                available,
                inv_age_0_to_90_days: ages[0],
                inv_age_91_to_180_days: ages[1],
                inv_age_181_to_270_days: ages[2],
                inv_age_271_to_365_days: ages[3],
                inv_age_365_plus_days: ages[4],
                units_shipped_t7: t(7),
                units_shipped_t30: t30,
                units_shipped_t60: t(60),
                units_shipped_t90: t(90),
                your_price: params.price,
                sales_rank: self.sales_rank_rel(j, rel - 1).map(|r| r.rank),
                days_of_supply: dos,
                inbound_quantity: w + s + rc,
                inbound_working: w,
                inbound_shipped: s,
                inbound_received: rc,
                reserved_quantity: 0,
                unfulfillable_quantity: 0,
                alert: alert.into(),
                recommended_action: action.into(),
                currency: self.scenario.seller.currency.clone(),
            });
        }
        out
    }

    /// FIFO age buckets (0-90, 91-180, 181-270, 271-365, 365+) of `on_hand` units on day `rel`.
    fn age_buckets(&self, j: usize, rel: i32, on_hand: i64) -> [i64; 5] {
        let mut left = on_hand;
        let mut b = [0i64; 5];
        let put = |age: i32, q: i64, b: &mut [i64; 5]| {
            let k = match age {
                ..=90 => 0,
                91..=180 => 1,
                181..=270 => 2,
                271..=365 => 3,
                _ => 4,
            };
            b[k] += q;
        };
        let s = self.start_rel();
        let mut d = rel;
        while left > 0 && d >= s {
            let q = self.arrivals(j, d).min(left);
            if q > 0 {
                put(rel - d, q, &mut b);
                left -= q;
            }
            d -= 1;
        }
        if left > 0 {
            // Initial stock: received before the history starts.
            put(rel - s + 30, left, &mut b);
        }
        b
    }

    // ----------------------------------------------------------------- returns

    /// Customer returns (FBA and MFN) with a return date in `start..=end`, up to `now`.
    pub fn returns(&self, start: NaiveDate, end: NaiveDate, now: DateTime<Utc>) -> Vec<Return> {
        let (from, to) = self.rel_range(start, end);
        let mut out = Vec::new();
        for (j, p) in self.scenario.products.iter().enumerate() {
            let (_, plans) = self.sku_plans(j, from - RETURN_LOOKBACK, to);
            let mut day_params = None;
            for plan in &plans {
                if day_params.as_ref().is_none_or(|(rel, _)| *rel != plan.rel) {
                    day_params = Some((plan.rel, self.params(j, plan.rel)));
                }
                let Some(ret) = self.return_of(plan, &day_params.as_ref().expect("set above").1)
                else {
                    continue;
                };
                let day = self.rel(self.day_of(ret.at));
                if ret.at > now || day < from || day >= to {
                    continue;
                }
                let mut r = Rng::new(&[self.seed, TAG_RETURN, plan.code, 0x2]);
                let fba = p.is_fba();
                out.push(Return {
                    return_date: ret.at,
                    order_id: self.format_order_id(plan.code),
                    order_date: plan.purchase,
                    sku: p.sku.clone(),
                    asin: p.asin.clone(),
                    fnsku: p.fnsku(),
                    product_name: p.title.clone(),
                    quantity: ret.quantity,
                    fulfillment_channel: if fba { "AFN" } else { "MFN" },
                    reason: ret.reason.clone(),
                    disposition: ret.disposition.into(),
                    status: if fba {
                        if ret.disposition == "SELLABLE" {
                            "Unit returned to inventory"
                        } else {
                            "Reimbursed"
                        }
                        .into()
                    } else if now - ret.at > Duration::days(7) {
                        "Closed".into()
                    } else {
                        "Approved".into()
                    },
                    fulfillment_center_id: if fba {
                        FCS[r.below(FCS.len() as u64) as usize].into()
                    } else {
                        String::new()
                    },
                    license_plate_number: if fba {
                        format!("LPN{:010}", r.below(10_000_000_000))
                    } else {
                        String::new()
                    },
                    customer_comments: String::new(),
                    amazon_rma_id: if fba {
                        String::new()
                    } else {
                        format!("D{:09}", r.below(1_000_000_000))
                    },
                    refunded_amount: round2(plan.unit_price * ret.quantity as f64),
                    order_amount: round2(plan.unit_price * plan.quantity as f64),
                    order_quantity: plan.quantity,
                });
            }
        }
        out.sort_by(|a, b| (a.return_date, &a.order_id).cmp(&(b.return_date, &b.order_id)));
        out
    }

    // ----------------------------------------------------------------- seller feedback

    /// Every seller feedback (all ratings) dated `start..=end`, left by `now`, by time.
    pub fn all_feedback(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<Feedback> {
        let (from, to) = self.rel_range(start, end);
        let mut out = Vec::new();
        let show = |left_at: DateTime<Utc>| {
            let d = self.rel(self.day_of(left_at));
            left_at <= now && d >= from && d < to
        };
        for (j, p) in self.scenario.products.iter().enumerate() {
            let (_, plans) = self.sku_plans(j, from - FEEDBACK_LOOKBACK, to);
            for plan in &plans {
                let Some(fb) = self.feedback_of(plan) else {
                    continue;
                };
                if !show(fb.left_at) {
                    continue;
                }
                let mut r = Rng::new(&[self.seed, TAG_FEEDBACK, plan.code, 0x3]);
                let comments = match fb.rating {
                    1 | 2 => NEG_COMMENTS[r.below(NEG_COMMENTS.len() as u64) as usize],
                    3 => NEUTRAL_COMMENTS[r.below(NEUTRAL_COMMENTS.len() as u64) as usize],
                    _ => POS_COMMENTS[r.below(POS_COMMENTS.len() as u64) as usize],
                };
                let responded = fb.responded_at.filter(|t| *t <= now);
                out.push(Feedback {
                    date: self.day_of(fb.left_at),
                    left_at: fb.left_at,
                    rating: fb.rating,
                    comments: comments.into(),
                    response: if responded.is_some() {
                        RESPONSE.into()
                    } else {
                        String::new()
                    },
                    responded_at: responded,
                    order_id: self.format_order_id(plan.code),
                    rater_email: format!(
                        "{:016x}@marketplace.amazon.com",
                        hash(&[self.seed, plan.code, 0x4])
                    ),
                    sku: p.sku.clone(),
                });
            }
        }
        for (i, e) in self.scenario.feedback.entries.iter().enumerate() {
            let date = self.date(e.day);
            let left_at = self.day_start(date) + Duration::minutes(9 * 60 + 37 * i as i64);
            if !show(left_at) {
                continue;
            }
            let j = e.sku.as_deref().and_then(|s| self.sku_idx(s)).unwrap_or(0);
            let Some(p) = self.scenario.products.get(j) else {
                continue;
            };
            let order_id = self
                .core(j, e.day - 3)
                .and_then(|c| self.plans(j, &c).into_iter().find(|x| !x.is_canceled()))
                .map(|x| self.format_order_id(x.code))
                .unwrap_or_else(|| self.format_order_id(self.order_code(e.day - 3, j, 9_999)));
            let responded = (!e.response.is_empty())
                .then(|| left_at + Duration::hours(3))
                .filter(|t| *t <= now);
            out.push(Feedback {
                date,
                left_at,
                rating: e.rating,
                comments: e.comments.clone(),
                response: if responded.is_some() {
                    e.response.clone()
                } else {
                    String::new()
                },
                responded_at: responded,
                order_id,
                rater_email: format!(
                    "{:016x}@marketplace.amazon.com",
                    hash(&[self.seed, i as u64, 0x5])
                ),
                sku: p.sku.clone(),
            });
        }
        out.sort_by(|a, b| (a.left_at, &a.order_id).cmp(&(b.left_at, &b.order_id)));
        out
    }

    /// GET_SELLER_FEEDBACK_DATA: 1–3 star feedback dated `start..=end`, as seen at `now`.
    pub fn seller_feedback(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<Feedback> {
        self.all_feedback(start, end, now)
            .into_iter()
            .filter(|f| f.rating <= 3)
            .collect()
    }

    // ----------------------------------------------------------------- account health

    /// Account health as of `now` (windows end the day before `now`'s day).
    pub fn account_health(&self, now: DateTime<Utc>) -> AccountHealthSnapshot {
        let today = self.rel(self.day_of(now));
        let acct = self.account_params(today - 1);
        let h = &self.scenario.account_health;
        let window = |n: i32| (self.date(today - n), self.date(today - 1));
        let mut all60 = 0u64;
        let mut mfn30 = 0u64;
        let mut mfn7 = 0u64;
        let mut late30 = 0u64;
        let mut canceled7 = 0u64;
        for (j, p) in self.scenario.products.iter().enumerate() {
            let (_, plans) = self.sku_plans(j, today - 60, today);
            for pl in &plans {
                if !pl.is_canceled() {
                    all60 += 1;
                }
                if p.is_fba() {
                    continue;
                }
                if pl.rel >= today - 30 && !pl.is_canceled() {
                    mfn30 += 1;
                    if pl.shipped.is_some_and(|s| s > pl.latest_ship) {
                        late30 += 1;
                    }
                }
                if pl.rel >= today - 7 {
                    mfn7 += 1;
                    if pl.is_canceled() {
                        canceled7 += 1;
                    }
                }
            }
        }
        let defects = (acct.odr * all60 as f64).round() as u64;
        let negative = defects / 2;
        let claims = defects - negative - defects / 5;
        let tracking_ok = ((acct.valid_tracking_rate * mfn30 as f64).round() as u64).min(mfn30);
        let rate = |n: u64, d: u64| {
            if d == 0 {
                0.0
            } else {
                (n as f64 / d as f64 * 10_000.0).round() / 10_000.0
            }
        };
        let odr = rate(defects, all60);
        let status = acct.status.to_string();
        let health_rating = match status.as_str() {
            "NORMAL" if odr < 0.01 => "GREAT",
            "NORMAL" => "FAIR",
            "AT_RISK" => "AT_RISK",
            _ => "CRITICAL",
        };
        AccountHealthSnapshot {
            marketplace_id: self.scenario.seller.marketplace_id.clone(),
            status,
            health_rating: health_rating.into(),
            odr_orders: all60,
            odr_defects: defects,
            odr_negative_feedback: negative,
            odr_claims: claims,
            odr_chargebacks: defects / 5,
            odr,
            odr_window: window(60),
            late_shipment_orders: mfn30,
            late_shipments: late30,
            late_shipment_rate: rate(late30, mfn30),
            late_shipment_window: window(30),
            cancel_orders: mfn7,
            cancellations: canceled7,
            cancel_rate: rate(canceled7, mfn7),
            cancel_window: window(7),
            tracking_shipments: mfn30,
            valid_tracking: tracking_ok,
            valid_tracking_rate: if mfn30 == 0 {
                1.0
            } else {
                rate(tracking_ok, mfn30)
            },
            tracking_window: window(30),
            listing_policy_violations: h.listing_policy_violations,
            product_authenticity_complaints: h.product_authenticity_complaints,
            product_safety_complaints: h.product_safety_complaints,
            intellectual_property_complaints: h.intellectual_property_complaints,
            other_policy_violations: h.other_policy_violations,
        }
    }

    // ----------------------------------------------------------------- catalog ranks

    fn sales_rank_rel(&self, j: usize, rel: i32) -> Option<RankSnapshot> {
        if rel < self.start_rel() {
            return None;
        }
        let p = &self.scenario.products[j];
        let prev = self.walk(j, rel - 2, rel);
        let units = if prev.is_empty() {
            p.sessions * p.conversion
        } else {
            prev.iter().map(|c| c.units as f64).sum::<f64>() / prev.len() as f64
        };
        let base = p.sessions * p.conversion;
        let params = self.params(j, rel);
        let mut r = Rng::new(&[self.seed, TAG_RANK, j as u64, rel as i64 as u64]);
        let ratio = ((base + 1.0) / (units + 1.0)).powf(0.8).min(40.0);
        let rank = (p.rank as f64 * ratio * params.rank_factor * (1.0 + 0.04 * r.normal()))
            .clamp(1.0, 9_000_000.0) as u32;
        Some(RankSnapshot {
            date: self.date(rel),
            asin: p.asin.clone(),
            display_group: p.display_group.clone(),
            display_group_title: p.display_group_title.clone(),
            rank,
            classification_id: p.browse_node_id.clone(),
            classification_title: p.browse_node_name.clone(),
            classification_rank: (rank / 14).max(1),
        })
    }

    /// Sales ranks of an ASIN on a day (the day's value, observable from its start).
    pub fn sales_rank(&self, asin: &str, day: NaiveDate) -> Option<RankSnapshot> {
        self.sales_rank_rel(self.asin_idx(asin)?, self.rel(day))
    }

    // ----------------------------------------------------------------- pricing

    /// Competitive summary of an ASIN at `now`.
    pub fn competitive_summary(
        &self,
        asin: &str,
        now: DateTime<Utc>,
    ) -> Option<CompetitiveSummary> {
        let j = self.asin_idx(asin)?;
        let p = &self.scenario.products[j];
        let rel = self.rel(self.day_of(now));
        let params = self.params(j, rel);
        let core = self.core(j, rel);
        let in_stock = core.is_some_and(|c| c.in_stock);
        let share = core.map(|c| c.buy_box).unwrap_or(0.0);
        let mut r = Rng::new(&[self.seed, TAG_MISC, j as u64, rel as i64 as u64, 0x7]);
        let seller = &self.scenario.seller;
        let mut offers = Vec::new();
        if in_stock {
            offers.push(Offer {
                seller_id: seller.seller_id.clone(),
                price: round2(params.price),
                shipping: 0.0,
                condition: "New".into(),
                fulfillment: if p.is_fba() { "AFN" } else { "MFN" },
                is_ours: true,
                is_prime: p.is_fba(),
            });
        }
        for k in 1..params.offers.max(1) {
            let bump = if k == 1 {
                1.0
            } else {
                1.0 + 0.02 * k as f64 + 0.01 * r.f64()
            };
            offers.push(Offer {
                seller_id: format!("A{:013X}", hash(&[self.seed, j as u64, k as u64]) >> 12),
                price: round2(params.competitor_price * bump),
                shipping: if k % 2 == 0 { 0.0 } else { 3.99 },
                condition: if k == 3 { "Used".into() } else { "New".into() },
                fulfillment: if k % 2 == 0 { "AFN" } else { "MFN" },
                is_ours: false,
                is_prime: k % 2 == 0,
            });
        }
        offers.sort_by(|a, b| (a.price + a.shipping).total_cmp(&(b.price + b.shipping)));
        let we_win = in_stock && share >= 0.5;
        let featured = if we_win {
            offers.iter().find(|o| o.is_ours)
        } else {
            offers.iter().find(|o| !o.is_ours && o.condition == "New")
        };
        Some(CompetitiveSummary {
            asin: p.asin.clone(),
            currency: seller.currency.clone(),
            our_price: round2(params.price),
            featured_seller_id: featured.map(|o| o.seller_id.clone()),
            featured_price: featured.map(|o| o.price),
            we_own_featured_offer: we_win,
            featured_share_pct: (share * 10_000.0).round() / 100.0,
            offer_count: offers.len() as u32,
            offers,
            was_price: round2(p.price * 1.1),
            competitive_price_threshold: round2(params.competitor_price.min(params.price) * 0.99),
        })
    }

    // ----------------------------------------------------------------- listings

    /// The listing of one SKU at `now`.
    pub fn listing(&self, sku: &str, now: DateTime<Utc>) -> Option<Listing> {
        let j = self.sku_idx(sku)?;
        let p = &self.scenario.products[j];
        let rel = self.rel(self.day_of(now));
        let params = self.params(j, rel);
        let created = self.day_start(self.history_start())
            - Duration::days(30 + (hash(&[self.seed, j as u64, 0xC]) % 400) as i64);
        let last_event = self
            .events_of(j)
            .filter(|e| {
                e.from_day <= rel
                    && (e.listing_status.is_some()
                        || e.suppressed.is_some()
                        || e.issues.is_some()
                        || e.price.is_some())
            })
            .map(|e| e.from_day)
            .max();
        let last_updated = last_event
            .map(|d| self.day_start(self.date(d)) + Duration::hours(10))
            .unwrap_or(created)
            .min(now);
        let fbm_quantity = (!p.is_fba()).then(|| {
            self.inventory(sku, now)
                .and_then(|i| i.fbm_quantity)
                .unwrap_or(0)
        });
        let region = self.scenario.seller.region.to_uppercase();
        Some(Listing {
            sku: p.sku.clone(),
            asin: p.asin.clone(),
            title: p.title.clone(),
            product_type: "PRODUCT".into(),
            condition: p.condition.clone(),
            status: params.listing_status.to_vec(),
            suppressed: params.suppressed,
            issues: params.issues.to_vec(),
            price: round2(params.price),
            currency: self.scenario.seller.currency.clone(),
            fulfillment_channel_code: if p.is_fba() {
                format!("AMAZON_{region}")
            } else {
                "DEFAULT".into()
            },
            fbm_quantity,
            created,
            last_updated,
        })
    }

    /// Every listing at `now`, by SKU.
    pub fn listings(&self, now: DateTime<Utc>) -> Vec<Listing> {
        let mut v: Vec<Listing> = self
            .scenario
            .products
            .iter()
            .filter_map(|p| self.listing(&p.sku, now))
            .collect();
        v.sort_by(|a, b| a.sku.cmp(&b.sku));
        v
    }

    // ----------------------------------------------------------------- customer feedback

    /// Occurrence percent of a topic in month offset `k` from day 0's month (k ≤ 0).
    fn topic_share(t: &crate::scenario::ReviewTopic, k: i32) -> f64 {
        let then = t.share_3m_ago.unwrap_or(t.share);
        let v = if k >= 0 {
            t.share
        } else if k <= -3 {
            then
        } else {
            then + (t.share - then) * (k + 3) as f64 / 3.0
        };
        (v * 10.0).round() / 10.0
    }

    fn node_topics(&self, node_id: &str) -> Vec<crate::scenario::ReviewTopic> {
        if let Some(n) = self.scenario.browse_nodes.iter().find(|n| n.id == node_id) {
            return n.topics.clone();
        }
        // Default: the node looks like the average of our products in it.
        let mut acc: Vec<(crate::scenario::ReviewTopic, f64)> = Vec::new();
        let members: Vec<_> = self
            .scenario
            .products
            .iter()
            .filter(|p| p.browse_node_id == node_id)
            .collect();
        for p in &members {
            for t in &p.review_topics {
                match acc.iter_mut().find(|(x, _)| x.topic == t.topic) {
                    Some((_, s)) => *s += t.share_3m_ago.unwrap_or(t.share),
                    None => acc.push((t.clone(), t.share_3m_ago.unwrap_or(t.share))),
                }
            }
        }
        acc.into_iter()
            .map(|(mut t, s)| {
                t.share = (s / members.len().max(1) as f64 * 10.0).round() / 10.0;
                t.share_3m_ago = None;
                t
            })
            .collect()
    }

    /// An ASIN's review topics (positive and negative) at `now`; None for an unknown ASIN,
    /// empty when the scenario gives it no topics (the API's 204).
    pub fn review_topics(&self, asin: &str, now: DateTime<Utc>) -> Option<Vec<ReviewTopicInfo>> {
        let j = self.asin_idx(asin)?;
        let p = &self.scenario.products[j];
        let k = self.month_offset(self.day_of(now));
        let node = self.node_topics(&p.browse_node_id);
        Some(
            p.review_topics
                .iter()
                .map(|t| {
                    let share = Self::topic_share(t, k);
                    let mentions = (share / 100.0 * p.reviews as f64).round() as u32;
                    let impact = t.star_impact.unwrap_or(if t.sentiment == "negative" {
                        -share / 100.0
                    } else {
                        share / 200.0
                    });
                    ReviewTopicInfo {
                        topic: t.topic.clone(),
                        sentiment: t.sentiment.clone(),
                        mentions,
                        occurrence_pct: share,
                        star_rating_impact: (impact * 100.0).round() / 100.0,
                        browse_node_occurrence_pct: node
                            .iter()
                            .find(|n| n.topic == t.topic)
                            .map(|n| n.share),
                        subtopics: t
                            .subtopics
                            .iter()
                            .enumerate()
                            .map(|(i, s)| (s.clone(), mentions / (i as u32 + 2)))
                            .collect(),
                    }
                })
                .collect(),
        )
    }

    /// Monthly trend (the 6 months up to `now`'s month) of each topic of an ASIN.
    pub fn review_trends(&self, asin: &str, now: DateTime<Utc>) -> Option<Vec<TopicTrend>> {
        let j = self.asin_idx(asin)?;
        let p = &self.scenario.products[j];
        let today = self.day_of(now);
        let k0 = self.month_offset(today);
        let mut out = Vec::new();
        for t in &p.review_topics {
            for m in (0..6).rev() {
                let month = add_months(first_of_month(today), -m);
                out.push(TopicTrend {
                    topic: t.topic.clone(),
                    sentiment: t.sentiment.clone(),
                    month_start: month,
                    occurrence_pct: Self::topic_share(t, k0 - m),
                });
            }
        }
        Some(out)
    }

    /// The browse node of an ASIN.
    pub fn item_browse_node(&self, asin: &str) -> Option<BrowseNodeInfo> {
        let p = &self.scenario.products[self.asin_idx(asin)?];
        Some(BrowseNodeInfo {
            asin: p.asin.clone(),
            browse_node_id: p.browse_node_id.clone(),
            browse_node_name: p.browse_node_name.clone(),
        })
    }

    /// Review topics of a browse node (None when no product of ours is in it and the scenario
    /// does not describe it).
    pub fn browse_node_topics(&self, node_id: &str) -> Option<Vec<ReviewTopicInfo>> {
        let known = self.scenario.browse_nodes.iter().any(|n| n.id == node_id)
            || self
                .scenario
                .products
                .iter()
                .any(|p| p.browse_node_id == node_id);
        if !known {
            return None;
        }
        Some(
            self.node_topics(node_id)
                .iter()
                .map(|t| ReviewTopicInfo {
                    topic: t.topic.clone(),
                    sentiment: t.sentiment.clone(),
                    mentions: (t.share * 40.0).round() as u32,
                    occurrence_pct: t.share,
                    star_rating_impact: t.star_impact.unwrap_or(if t.sentiment == "negative" {
                        -0.1
                    } else {
                        0.05
                    }),
                    browse_node_occurrence_pct: Some(t.share),
                    subtopics: t.subtopics.iter().map(|s| (s.clone(), 10)).collect(),
                })
                .collect(),
        )
    }

    /// Months between day 0's month and `d`'s month.
    fn month_offset(&self, d: NaiveDate) -> i32 {
        (d.year() - self.day0.year()) * 12 + d.month() as i32 - self.day0.month() as i32
    }

    // ----------------------------------------------------------------- search query performance

    /// Search query performance of an ASIN for the week starting `week_start` (a Sunday;
    /// other dates are moved back to their Sunday). Empty until the week is over at `now`.
    pub fn search_query_week(
        &self,
        asin: &str,
        week_start: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<SearchQueryWeek> {
        let Some(j) = self.asin_idx(asin) else {
            return Vec::new();
        };
        let start = week_start - Duration::days(week_start.weekday().num_days_from_sunday() as i64);
        let end = start + Duration::days(6);
        if !self.is_complete(end, now) || self.rel(start) < self.start_rel() {
            return Vec::new();
        }
        let p = &self.scenario.products[j];
        // Shares follow the parameters of the week's last day, so an event starting within
        // the last 7 days before day 0 always shows in the last complete week only.
        let params = self.params(j, self.rel(end));
        let units: u64 = self
            .walk(j, self.rel(start), self.rel(end) + 1)
            .iter()
            .map(|c| c.units as u64)
            .sum();
        let growth = (1.0 + p.growth).powf(self.rel(end) as f64 / 30.0);
        let mut queries: Vec<_> = p.search_queries.iter().collect();
        queries.sort_by_key(|q| std::cmp::Reverse(q.volume));
        let mut out = Vec::new();
        let mut purchases_left = units;
        for (i, q) in queries.iter().enumerate() {
            let mut r = Rng::new(&[
                self.seed,
                TAG_SQP,
                j as u64,
                self.rel(start) as i64 as u64,
                i as u64,
            ]);
            let factor: f64 = params
                .query_factors
                .iter()
                .filter(|(name, _)| name.is_none_or(|n| n == q.query))
                .map(|(_, f)| f)
                .product();
            let volume = (q.volume as f64 * growth * (1.0 + 0.03 * r.normal()))
                .round()
                .max(1.0) as u64;
            let total_imp = volume * 14;
            let imp_share =
                (q.impression_share * factor * (1.0 + 0.03 * r.normal())).clamp(0.0, 1.0);
            let asin_imp = (total_imp as f64 * imp_share).round() as u64;
            let total_clicks = (volume as f64 * 0.62).round() as u64;
            let click_share = (q.click_share * factor * (1.0 + 0.03 * r.normal())).clamp(0.0, 1.0);
            let asin_clicks = (total_clicks as f64 * click_share).round() as u64;
            let total_carts = (total_clicks as f64 * 0.22).round() as u64;
            let asin_carts = ((asin_clicks as f64 * 0.22).round() as u64).min(total_carts);
            let total_purchases = (total_clicks as f64 * 0.09).round() as u64;
            let asin_purchases = ((asin_clicks as f64 * p.conversion).round() as u64)
                .min(purchases_left)
                .min(total_purchases);
            purchases_left -= asin_purchases;
            let share = |a: u64, t: u64| {
                if t == 0 {
                    0.0
                } else {
                    (a as f64 / t as f64 * 10_000.0).round() / 100.0
                }
            };
            let rate = |a: u64, t: u64| {
                if t == 0 {
                    0.0
                } else {
                    (a as f64 / t as f64 * 10_000.0).round() / 100.0
                }
            };
            out.push(SearchQueryWeek {
                start_date: start,
                end_date: end,
                asin: p.asin.clone(),
                search_query: q.query.clone(),
                search_query_score: i as u32 + 1,
                search_query_volume: volume,
                total_query_impression_count: total_imp,
                asin_impression_count: asin_imp,
                asin_impression_share: share(asin_imp, total_imp),
                total_click_count: total_clicks,
                total_click_rate: rate(total_clicks, volume),
                asin_click_count: asin_clicks,
                asin_click_share: share(asin_clicks, total_clicks),
                total_median_click_price: round2(params.competitor_price),
                asin_median_click_price: round2(params.price),
                total_cart_add_count: total_carts,
                total_cart_add_rate: rate(total_carts, volume),
                asin_cart_add_count: asin_carts,
                asin_cart_add_share: share(asin_carts, total_carts),
                total_purchase_count: total_purchases,
                total_purchase_rate: rate(total_purchases, volume),
                asin_purchase_count: asin_purchases,
                asin_purchase_share: share(asin_purchases, total_purchases),
                total_median_purchase_price: round2(params.competitor_price),
                asin_median_purchase_price: round2(params.price),
            });
        }
        out
    }

    // ----------------------------------------------------------------- fees, costs, ratings

    /// Fee estimate for a SKU at `price` (default: its price on `now`'s day).
    pub fn fee_estimate(
        &self,
        sku: &str,
        price: Option<f64>,
        now: DateTime<Utc>,
    ) -> Option<FeeEstimate> {
        let j = self.sku_idx(sku)?;
        let p = &self.scenario.products[j];
        let price = price.unwrap_or_else(|| self.params(j, self.rel(self.day_of(now))).price);
        let referral = p.referral_fee(price).max(0.30);
        let fba = p.fba_fee();
        Some(FeeEstimate {
            sku: p.sku.clone(),
            asin: p.asin.clone(),
            price: round2(price),
            currency: self.scenario.seller.currency.clone(),
            referral_pct: p.referral_pct,
            referral_fee: referral,
            fba_fee: fba,
            variable_closing_fee: 0.0,
            total: round2(referral + fba),
            is_fba: p.is_fba(),
        })
    }

    /// costs.csv rows.
    pub fn costs(&self) -> Vec<CostRow> {
        self.scenario
            .products
            .iter()
            .map(|p| CostRow {
                sku: p.sku.clone(),
                unit_cost: p.cogs,
                inbound_freight: p.inbound_freight,
                currency: self.scenario.seller.currency.clone(),
            })
            .collect()
    }

    /// Star rating of product `j` on day `rel` (None when the scenario gives none).
    pub(crate) fn rating_on(&self, j: usize, rel: i32) -> Option<f64> {
        let p = &self.scenario.products[j];
        let now = p.rating?;
        // Event ratings override the interpolated baseline.
        if let Some(r) = self
            .events_of(j)
            .filter(|e| rel >= e.from_day && e.to_day.is_none_or(|t| rel < t))
            .filter_map(|e| e.rating)
            .last()
        {
            return Some(r);
        }
        let then = p.rating_30d_ago.unwrap_or(now);
        let v = if rel >= 0 {
            now
        } else if rel <= -30 {
            then
        } else {
            then + (now - then) * (rel + 30) as f64 / 30.0
        };
        Some((v * 100.0).round() / 100.0)
    }

    /// ratings.csv rows: weekly (at, at−7, …, at−35) for products with a rating.
    pub fn ratings(&self, at: NaiveDate) -> Vec<RatingRow> {
        let mut out = Vec::new();
        for (j, p) in self.scenario.products.iter().enumerate() {
            for k in (0..6).rev() {
                let rel = self.rel(at) - 7 * k;
                let Some(rating) = self.rating_on(j, rel) else {
                    continue;
                };
                let count = (p.rating_count as f64 * (1.0 + rel as f64 / 400.0)).max(1.0) as u32;
                out.push(RatingRow {
                    asin: p.asin.clone(),
                    rating,
                    count,
                    date: self.date(rel),
                });
            }
        }
        out
    }

    /// Median of daily main ranks of an ASIN over `start..=end` (days before `now`'s day).
    pub fn median_rank(&self, asin: &str, start: NaiveDate, end: NaiveDate) -> Option<f64> {
        let j = self.asin_idx(asin)?;
        median(
            (self.rel(start)..=self.rel(end))
                .filter_map(|r| self.sales_rank_rel(j, r))
                .map(|s| s.rank as f64)
                .collect(),
        )
    }
}

fn totals_of(days: &[AsinDay]) -> Option<AsinTotals> {
    let first = days.first()?;
    let units: u64 = days.iter().map(|d| d.units_ordered as u64).sum();
    let items: u64 = days.iter().map(|d| d.total_order_items as u64).sum();
    if items == 0 {
        return None;
    }
    let sum = |f: fn(&AsinDay) -> u32| days.iter().map(|d| f(d) as u64).sum::<u64>();
    let sessions = sum(|d| d.sessions);
    let page_views = sum(|d| d.page_views);
    let bb: f64 = days
        .iter()
        .map(|d| d.buy_box_pct * d.page_views as f64)
        .sum();
    let pct = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            (a as f64 / b as f64 * 10_000.0).round() / 100.0
        }
    };
    Some(AsinTotals {
        sku: first.sku.clone(),
        asin: first.asin.clone(),
        parent_asin: first.parent_asin.clone(),
        browser_sessions: sum(|d| d.browser_sessions),
        mobile_sessions: sum(|d| d.mobile_sessions),
        sessions,
        browser_page_views: sum(|d| d.browser_page_views),
        mobile_page_views: sum(|d| d.mobile_page_views),
        page_views,
        buy_box_pct: if page_views == 0 {
            0.0
        } else {
            (bb / page_views as f64 * 100.0).round() / 100.0
        },
        units_ordered: units,
        ordered_product_sales: round2(days.iter().map(|d| d.ordered_product_sales).sum()),
        total_order_items: items,
        units_refunded: sum(|d| d.units_refunded),
        units_shipped: sum(|d| d.units_shipped),
        orders_shipped: sum(|d| d.orders_shipped),
        shipped_product_sales: round2(days.iter().map(|d| d.shipped_product_sales).sum()),
        unit_session_pct: pct(units, sessions),
        order_item_session_pct: pct(items, sessions),
    })
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

fn add_months(d: NaiveDate, m: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + m;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        .expect("valid month")
}
