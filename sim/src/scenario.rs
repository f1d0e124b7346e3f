//! Scenario files: the TOML that describes one synthetic seller.
//!
//! A scenario names the seller (account, marketplace, credentials), its products with their
//! baseline demand and economics, its ad campaigns, seller feedback, account health, scripted
//! events relative to day 0 and the findings a correct rules engine must report (`[[expect]]`).
//! `docs/scenario.md` documents every key with its default. This module only parses and
//! validates; `crate::world` turns a scenario plus a seed into data.
//!
//! Every table is `deny_unknown_fields`, so a typo is an error that names the key.
//!
//! Why one file of about 1,070 lines: it is the parser of one TOML format;
//! every table's defaults and checks sit beside the table they belong to.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or shape error; the message names the key (and line) at fault.
    #[error("invalid scenario: {0}")]
    Parse(String),
    /// The TOML parsed but a value is out of range or refers to something missing.
    #[error("invalid scenario: `{key}`: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The rule ids of DESIGN §2.2 that `[[expect]]` may name.
pub const RULES: &[&str] = &[
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

/// One synthetic seller account in one marketplace.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seller: Seller,
    /// Days of history before day 0 (the sim's start date).
    #[serde(default = "d_history_days")]
    pub history_days: u32,
    /// Attribution window (7 or 14) the truth's ads KPIs read (DESIGN §2.1).
    #[serde(default = "d_attribution_days")]
    pub attribution_days: u32,
    /// Safety days added to lead time by stockout_risk (DESIGN §2.2 default 7).
    #[serde(default = "d_safety_days")]
    pub safety_days: u32,
    #[serde(default)]
    pub products: Vec<Product>,
    #[serde(default)]
    pub browse_nodes: Vec<BrowseNode>,
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    #[serde(default)]
    pub feedback: FeedbackConfig,
    #[serde(default)]
    pub account_health: AccountHealth,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Procedurally generated products and campaigns (large and random scenarios).
    #[serde(default)]
    pub generate: Option<Generate>,
    /// Breaks planted at random from the seed; each becomes an expected finding.
    #[serde(default)]
    pub random_breaks: Option<RandomBreaks>,
    /// The marketplaces of the seller's account, each with its own catalogue, ads and
    /// expectations. Empty: the seller sells in `[seller]`'s one marketplace, described
    /// by the top-level tables. See [`Scenario::markets`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markets: Vec<Market>,
}

/// One marketplace of a seller account that sells in several (`[[markets]]`): an EU
/// unified account (UK, DE, FR, IT, ES, ...) or a North American one (US, CA, MX).
/// Its tables mean what the top-level ones of a single-marketplace scenario mean.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Market {
    /// Country code as flywheel writes it ("UK", "DE", "JP"); or give `marketplace_id`.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub marketplace_id: Option<String>,
    /// Default: the marketplace's currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Default: the marketplace's time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The Ads profile of the seller in this marketplace; unique within the scenario.
    pub ads_profile_id: i64,
    #[serde(default)]
    pub products: Vec<Product>,
    #[serde(default)]
    pub browse_nodes: Vec<BrowseNode>,
    #[serde(default)]
    pub campaigns: Vec<Campaign>,
    #[serde(default)]
    pub feedback: FeedbackConfig,
    /// Default: the top-level `account_health`.
    #[serde(default)]
    pub account_health: Option<AccountHealth>,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default)]
    pub expect: Vec<Expect>,
    #[serde(default)]
    pub generate: Option<Generate>,
    #[serde(default)]
    pub random_breaks: Option<RandomBreaks>,
}

/// The seller: who the sim says it is and which credentials it accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Seller {
    /// The flywheel config's account name, e.g. "demo".
    pub account: String,
    /// Merchant token, e.g. "A1SIMSELLER0001".
    pub seller_id: String,
    pub marketplace_id: String,
    pub country: String,
    pub currency: String,
    /// IANA time zone of the marketplace (DESIGN §2.1); days are calendar days here.
    pub timezone: String,
    /// "na" | "eu" | "fe"
    pub region: String,
    pub store_name: String,
    pub sp: Credentials,
    pub ads: Credentials,
    pub ads_profile_id: i64,
}

impl Default for Seller {
    fn default() -> Self {
        Seller {
            account: "demo".into(),
            seller_id: "A1SIMSELLER0001".into(),
            marketplace_id: "ATVPDKIKX0DER".into(),
            country: "US".into(),
            currency: "USD".into(),
            timezone: "America/Los_Angeles".into(),
            region: "na".into(),
            store_name: "Flywheel Sim Store".into(),
            sp: Credentials {
                client_id: "amzn1.application-oa2-client.simsp0000000000000000000000000001".into(),
                client_secret: "amzn1.oa2-cs.v1.simspsecret0000000000000000000000000000000001"
                    .into(),
                refresh_token: "Atzr|IwEBISIMSPREFRESHTOKEN0000000000000000000001".into(),
            },
            ads: Credentials {
                client_id: "amzn1.application-oa2-client.simads000000000000000000000000001".into(),
                client_secret: "amzn1.oa2-cs.v1.simadssecret000000000000000000000000000000001"
                    .into(),
                refresh_token: "Atzr|IwEBISIMADSREFRESHTOKEN000000000000000000001".into(),
            },
            ads_profile_id: 3_100_000_000_000_001,
        }
    }
}

/// LWA application credentials and the seller's refresh token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

/// FBA (Amazon fulfils, channel AFN) or FBM (merchant fulfils, MFN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Fulfillment {
    #[default]
    FBA,
    FBM,
}

/// One SKU (one child ASIN). Demand numbers are the baseline at day 0; `growth` scales them
/// back in time, events override them for a range of days.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: String,
    pub asin: String,
    #[serde(default)]
    pub parent_asin: Option<String>,
    /// FNSKU; default derived from the ASIN ("X00" + last 7 characters).
    #[serde(default)]
    pub fnsku: Option<String>,
    pub title: String,
    pub price: f64,
    pub cogs: f64,
    #[serde(default)]
    pub inbound_freight: f64,
    #[serde(default = "d_lead_time")]
    pub lead_time_days: u32,
    #[serde(default)]
    pub fulfillment: Fulfillment,
    #[serde(default = "d_condition")]
    pub condition: String,
    #[serde(default = "d_browse_node_id")]
    pub browse_node_id: String,
    #[serde(default = "d_browse_node_name")]
    pub browse_node_name: String,
    #[serde(default = "d_display_group")]
    pub display_group: String,
    #[serde(default = "d_display_group_title")]
    pub display_group_title: String,
    /// Referral fee, percent of price.
    #[serde(default = "d_referral_pct")]
    pub referral_pct: f64,
    /// FBA fulfilment fee per unit; default from the price (about 3.2 + 5% of price). 0 for FBM.
    #[serde(default)]
    pub fba_fee: Option<f64>,
    /// Baseline sessions per day at day 0.
    #[serde(default = "d_sessions")]
    pub sessions: f64,
    /// Units ordered per session (unit session percentage / 100).
    #[serde(default = "d_conversion")]
    pub conversion: f64,
    /// Growth of sessions per 30 days (0.08 = +8% a month).
    #[serde(default = "d_growth")]
    pub growth: f64,
    /// Relative day-to-day noise of sessions and of conversion (standard deviation).
    #[serde(default = "d_noise")]
    pub noise: f64,
    #[serde(default = "d_mobile_share")]
    pub mobile_share: f64,
    #[serde(default = "d_page_views_per_session")]
    pub page_views_per_session: f64,
    /// Buy box share (0..1).
    #[serde(default = "d_buy_box")]
    pub buy_box: f64,
    /// Main display-group sales rank at baseline demand.
    #[serde(default = "d_rank")]
    pub rank: u32,
    #[serde(default = "d_return_rate")]
    pub return_rate: f64,
    #[serde(default)]
    pub return_reasons: Vec<ReturnReason>,
    /// FBA: target days of demand on hand (replenishment keeps it there);
    /// FBM: days of demand in the merchant's own stock. Default 25 (FBA) / 60 (FBM).
    #[serde(default)]
    pub stock_days: Option<f64>,
    /// Replenishment review period in days (an inbound shipment is sent every N days).
    #[serde(default = "d_review_days")]
    pub review_days: u32,
    /// Number of offers on the listing (us included).
    #[serde(default = "d_offers")]
    pub offers: u32,
    /// Lowest competitor price; default 3% above ours.
    #[serde(default)]
    pub competitor_price: Option<f64>,
    #[serde(default = "d_listing_status")]
    pub listing_status: Vec<String>,
    #[serde(default)]
    pub suppressed: bool,
    #[serde(default)]
    pub issues: Vec<ListingIssue>,
    /// Star rating for ratings.csv (optional: no rating means no row).
    #[serde(default)]
    pub rating: Option<f64>,
    /// Star rating 30 days before day 0 (default: same as `rating`).
    #[serde(default)]
    pub rating_30d_ago: Option<f64>,
    #[serde(default = "d_rating_count")]
    pub rating_count: u32,
    /// Reviews over the last 6 months (the base of topic mentions).
    #[serde(default = "d_reviews")]
    pub reviews: u32,
    #[serde(default)]
    pub review_topics: Vec<ReviewTopic>,
    #[serde(default)]
    pub search_queries: Vec<SearchQuery>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnReason {
    pub code: String,
    #[serde(default = "one")]
    pub weight: f64,
}

/// A listing issue as searchListingsItems reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListingIssue {
    pub code: String,
    pub message: String,
    /// ERROR | WARNING | INFO
    pub severity: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub attribute_names: Vec<String>,
}

/// A review topic of an ASIN (Customer Feedback API).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewTopic {
    pub topic: String,
    /// "positive" | "negative"
    pub sentiment: String,
    /// Share of reviews mentioning it now, percent (occurrence %).
    pub share: f64,
    /// Share three months ago, percent; default = `share`.
    #[serde(default)]
    pub share_3m_ago: Option<f64>,
    /// Star rating impact (negative for negative topics).
    #[serde(default)]
    pub star_impact: Option<f64>,
    #[serde(default)]
    pub subtopics: Vec<String>,
}

/// A browse node and its review topics (occurrence % across the node).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowseNode {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub topics: Vec<ReviewTopic>,
}

/// A Brand Analytics search query of an ASIN (weekly numbers at day 0).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    pub query: String,
    /// Weekly search volume.
    pub volume: u32,
    /// ASIN impression share (0..1).
    #[serde(default = "d_impression_share")]
    pub impression_share: f64,
    /// ASIN click share (0..1).
    #[serde(default = "d_click_share")]
    pub click_share: f64,
}

/// SP, SB or SD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
pub enum AdProduct {
    #[default]
    SP,
    SB,
    SD,
}

/// An ad campaign. Its spend follows the expected sales of its SKUs: each day it buys
/// `ad_share` of their expected units at ACoS `acos`, clicks cost `cpc`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: AdProduct,
    /// MANUAL | AUTO
    #[serde(default = "d_targeting")]
    pub targeting: String,
    /// ENABLED | PAUSED | ARCHIVED
    #[serde(default = "d_state")]
    pub state: String,
    #[serde(default = "d_budget")]
    pub daily_budget: f64,
    pub skus: Vec<String>,
    /// Share of the advertised SKUs' units attributed to this campaign.
    #[serde(default = "d_ad_share")]
    pub ad_share: f64,
    /// Final (matured) ACoS, as a fraction.
    #[serde(default = "d_acos")]
    pub acos: f64,
    #[serde(default = "d_cpc")]
    pub cpc: f64,
    /// Click-through rate (clicks / impressions).
    #[serde(default = "d_ctr")]
    pub ctr: f64,
    #[serde(default = "d_tos")]
    pub top_of_search_share: f64,
    /// Ad group id; default id * 10 + 1.
    #[serde(default)]
    pub ad_group_id: Option<i64>,
    #[serde(default)]
    pub keywords: Vec<Keyword>,
    #[serde(default)]
    pub search_terms: Vec<SearchTerm>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyword {
    /// Default: campaign id * 1000 + index + 1.
    #[serde(default)]
    pub id: Option<i64>,
    pub text: String,
    /// BROAD | PHRASE | EXACT (auto targets: TARGETING_EXPRESSION_PREDEFINED)
    #[serde(default = "d_match_type")]
    pub match_type: String,
    #[serde(default = "d_bid")]
    pub bid: f64,
}

/// A customer search term matched by one of the campaign's keywords.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchTerm {
    pub term: String,
    /// The matching keyword's text (default: the campaign's first keyword).
    #[serde(default)]
    pub keyword: Option<String>,
    /// Weight of the campaign's clicks this term gets.
    #[serde(default = "one")]
    pub clicks_share: f64,
    /// Weight of the campaign's purchases this term gets (0: it never converts).
    #[serde(default)]
    pub purchase_share: Option<f64>,
}

/// Seller feedback: background rates plus hand-placed entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedbackConfig {
    /// Share of orders whose buyer leaves seller feedback.
    pub feedback_rate: f64,
    /// Negative (1–2 star) feedback per order.
    pub negative_rate: f64,
    /// Neutral (3 star) feedback per order.
    pub neutral_rate: f64,
    /// Share of 1–3 star background feedback the seller answers (the same day).
    pub response_rate: f64,
    pub entries: Vec<FeedbackEntry>,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        FeedbackConfig {
            feedback_rate: 0.04,
            negative_rate: 0.002,
            neutral_rate: 0.002,
            response_rate: 1.0,
            entries: Vec::new(),
        }
    }
}

/// One hand-placed seller feedback.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackEntry {
    /// Day relative to day 0 (negative = before).
    pub day: i32,
    pub rating: u8,
    #[serde(default)]
    pub comments: String,
    /// The seller's response; empty = unanswered.
    #[serde(default)]
    pub response: String,
    /// SKU whose order it is about (default: the first product).
    #[serde(default)]
    pub sku: Option<String>,
}

/// Account health as GET_V2_SELLER_PERFORMANCE_REPORT reports it. Rates are fractions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountHealth {
    /// NORMAL | AT_RISK | DEACTIVATED
    pub status: String,
    pub odr: f64,
    pub late_shipment_rate: f64,
    pub cancel_rate: f64,
    pub valid_tracking_rate: f64,
    pub listing_policy_violations: u32,
    pub product_authenticity_complaints: u32,
    pub product_safety_complaints: u32,
    pub intellectual_property_complaints: u32,
    pub other_policy_violations: u32,
}

impl Default for AccountHealth {
    fn default() -> Self {
        AccountHealth {
            status: "NORMAL".into(),
            odr: 0.003,
            late_shipment_rate: 0.008,
            cancel_rate: 0.004,
            valid_tracking_rate: 0.992,
            listing_policy_violations: 0,
            product_authenticity_complaints: 0,
            product_safety_complaints: 0,
            intellectual_property_complaints: 0,
            other_policy_violations: 0,
        }
    }
}

/// A scripted change for days `from_day <= day < to_day` (relative to day 0). With `sku` it
/// changes a product, with `campaign_id` a campaign, with neither the account. Later events
/// win over earlier ones for the same field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub from_day: i32,
    #[serde(default)]
    pub to_day: Option<i32>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub campaign_id: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    // --- product ---
    /// Multiplies sessions (traffic drop < 1).
    #[serde(default)]
    pub sessions_factor: Option<f64>,
    #[serde(default)]
    pub conversion: Option<f64>,
    #[serde(default)]
    pub price: Option<f64>,
    #[serde(default)]
    pub buy_box: Option<f64>,
    /// Multiplies the sales rank (> 1 = worse).
    #[serde(default)]
    pub rank_factor: Option<f64>,
    #[serde(default)]
    pub return_rate: Option<f64>,
    /// Return reason code that dominates the returns while the event lasts.
    #[serde(default)]
    pub return_reason: Option<String>,
    /// false: the seller stops sending inbound shipments (stock runs down).
    #[serde(default)]
    pub replenish: Option<bool>,
    /// Target days of stock on hand from this day (overstock > 45).
    #[serde(default)]
    pub stock_days: Option<f64>,
    #[serde(default)]
    pub listing_status: Option<Vec<String>>,
    #[serde(default)]
    pub suppressed: Option<bool>,
    #[serde(default)]
    pub issues: Option<Vec<ListingIssue>>,
    /// Multiplies the ASIN's impression and click share of `query` (all queries if unset).
    #[serde(default)]
    pub query_share_factor: Option<f64>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub competitor_price: Option<f64>,
    #[serde(default)]
    pub offers: Option<u32>,
    #[serde(default)]
    pub rating: Option<f64>,
    // --- campaign ---
    #[serde(default)]
    pub acos: Option<f64>,
    /// Multiplies the campaign's cost per click.
    #[serde(default)]
    pub cpc_factor: Option<f64>,
    #[serde(default)]
    pub ad_share: Option<f64>,
    #[serde(default)]
    pub state: Option<String>,
    // --- account ---
    /// Negative (1–2 star) feedback per order.
    #[serde(default)]
    pub negative_feedback_rate: Option<f64>,
    #[serde(default)]
    pub account_status: Option<String>,
    #[serde(default)]
    pub odr: Option<f64>,
    #[serde(default)]
    pub late_shipment_rate: Option<f64>,
    #[serde(default)]
    pub cancel_rate: Option<f64>,
    #[serde(default)]
    pub valid_tracking_rate: Option<f64>,
}

/// An expected warning or critical finding as of day 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_term: Option<String>,
    /// warning | critical (documentation only; findings compare by rule + subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Procedural products (and campaigns) appended to `products` when the world is built.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    pub products: u32,
    /// Share of generated SKUs fulfilled by the merchant.
    #[serde(default = "d_fbm_share")]
    pub fbm_share: f64,
    /// Expected units ordered per day over all generated SKUs at day 0 (Zipf-distributed).
    #[serde(default = "d_units_per_day")]
    pub units_per_day: f64,
    /// Sessions growth per 30 days of the generated SKUs.
    #[serde(default)]
    pub growth: f64,
    /// SP campaigns generated over the top SKUs (each advertises a few SKUs).
    #[serde(default)]
    pub campaigns: u32,
    #[serde(default = "d_sku_prefix")]
    pub sku_prefix: String,
}

/// Random breaks: `count` (product or campaign, rule) pairs drawn from the seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomBreaks {
    pub count: u32,
    /// Rules to draw from (default: every rule the generator can plant).
    #[serde(default)]
    pub rules: Vec<String>,
}

fn d_history_days() -> u32 {
    180
}
fn d_attribution_days() -> u32 {
    7
}
fn d_safety_days() -> u32 {
    7
}
fn d_lead_time() -> u32 {
    30
}
fn d_condition() -> String {
    "new_new".into()
}
fn d_browse_node_id() -> String {
    "3743561".into()
}
fn d_browse_node_name() -> String {
    "Water Bottles".into()
}
fn d_display_group() -> String {
    "home_garden_display_on_website".into()
}
fn d_display_group_title() -> String {
    "Home & Kitchen".into()
}
fn d_referral_pct() -> f64 {
    15.0
}
fn d_sessions() -> f64 {
    150.0
}
fn d_conversion() -> f64 {
    0.14
}
fn d_growth() -> f64 {
    0.08
}
fn d_noise() -> f64 {
    0.06
}
fn d_mobile_share() -> f64 {
    0.62
}
fn d_page_views_per_session() -> f64 {
    1.3
}
fn d_buy_box() -> f64 {
    0.98
}
fn d_rank() -> u32 {
    4_000
}
fn d_return_rate() -> f64 {
    0.015
}
fn d_review_days() -> u32 {
    7
}
fn d_offers() -> u32 {
    3
}
fn d_listing_status() -> Vec<String> {
    vec!["BUYABLE".into(), "DISCOVERABLE".into()]
}
fn d_rating_count() -> u32 {
    250
}
fn d_reviews() -> u32 {
    300
}
fn d_impression_share() -> f64 {
    0.08
}
fn d_click_share() -> f64 {
    0.10
}
fn d_targeting() -> String {
    "MANUAL".into()
}
fn d_state() -> String {
    "ENABLED".into()
}
fn d_budget() -> f64 {
    100.0
}
fn d_ad_share() -> f64 {
    0.25
}
fn d_acos() -> f64 {
    0.215
}
fn d_cpc() -> f64 {
    0.95
}
fn d_ctr() -> f64 {
    0.004
}
fn d_tos() -> f64 {
    0.3
}
fn d_match_type() -> String {
    "BROAD".into()
}
fn d_bid() -> f64 {
    1.1
}
fn d_fbm_share() -> f64 {
    0.2
}
fn d_units_per_day() -> f64 {
    1_400.0
}
fn d_sku_prefix() -> String {
    "GEN".into()
}
fn one() -> f64 {
    1.0
}

impl Product {
    /// FBA fee per unit (0 for FBM).
    pub fn fba_fee(&self) -> f64 {
        match self.fulfillment {
            Fulfillment::FBM => 0.0,
            Fulfillment::FBA => self
                .fba_fee
                .unwrap_or_else(|| round2(3.22 + 0.05 * self.price)),
        }
    }
    /// Referral fee per unit at `price`.
    pub fn referral_fee(&self, price: f64) -> f64 {
        round2(price * self.referral_pct / 100.0)
    }
    pub fn fnsku(&self) -> String {
        self.fnsku.clone().unwrap_or_else(|| {
            let tail: String = self
                .asin
                .chars()
                .rev()
                .take(7)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("X00{tail}")
        })
    }
    pub fn stock_days(&self) -> f64 {
        self.stock_days.unwrap_or(match self.fulfillment {
            Fulfillment::FBA => 25.0,
            Fulfillment::FBM => 60.0,
        })
    }
    pub fn is_fba(&self) -> bool {
        self.fulfillment == Fulfillment::FBA
    }
}

impl Campaign {
    pub fn ad_group_id(&self) -> i64 {
        self.ad_group_id.unwrap_or(self.id * 10 + 1)
    }
    pub fn keyword_id(&self, index: usize) -> i64 {
        self.keywords
            .get(index)
            .and_then(|k| k.id)
            .unwrap_or(self.id * 1000 + index as i64 + 1)
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Scenario {
    pub fn from_path(p: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(p).map_err(|source| ScenarioError::Io {
            path: p.display().to_string(),
            source,
        })?;
        Scenario::from_toml_str(&text)
    }

    pub fn from_toml_str(s: &str) -> Result<Scenario, ScenarioError> {
        let sc: Scenario = toml::from_str(s).map_err(|e| ScenarioError::Parse(e.to_string()))?;
        sc.validate()?;
        Ok(sc)
    }

    /// One single-marketplace scenario per market, in scenario order: the seller with the
    /// market's marketplace, currency, time zone and Ads profile, and the market's tables.
    /// A scenario without `[[markets]]` is its own one market.
    ///
    /// The scenario must have been validated ([`Scenario::from_toml_str`] does); a market whose
    /// marketplace is unknown keeps the seller's marketplace fields it cannot resolve.
    pub fn markets(&self) -> Vec<Scenario> {
        if self.markets.is_empty() {
            return vec![self.clone()];
        }
        self.markets
            .iter()
            .map(|m| self.market_scenario(m))
            .collect()
    }

    /// The marketplace a market names (by id, else by country).
    fn market_info(m: &Market) -> Option<&'static crate::marketplaces::MarketplaceInfo> {
        match (&m.marketplace_id, &m.country) {
            (Some(id), _) => crate::marketplaces::by_id(id),
            (None, Some(c)) => crate::marketplaces::by_country(c),
            (None, None) => None,
        }
    }

    fn market_scenario(&self, m: &Market) -> Scenario {
        let info = Self::market_info(m);
        let mut seller = self.seller.clone();
        if let Some(info) = info {
            seller.marketplace_id = info.id.to_string();
            seller.currency = info.currency.to_string();
            seller.timezone = info.timezone.to_string();
            // flywheel (and Amazon's own tables) write GB as UK.
            seller.country = match info.country_code {
                "GB" => "UK".to_string(),
                c => c.to_string(),
            };
        }
        if let Some(c) = &m.country {
            seller.country = c.to_uppercase();
        }
        if let Some(c) = &m.currency {
            seller.currency = c.clone();
        }
        if let Some(tz) = &m.timezone {
            seller.timezone = tz.clone();
        }
        seller.ads_profile_id = m.ads_profile_id;
        Scenario {
            seller,
            products: m.products.clone(),
            browse_nodes: m.browse_nodes.clone(),
            campaigns: m.campaigns.clone(),
            feedback: m.feedback.clone(),
            account_health: m
                .account_health
                .clone()
                .unwrap_or_else(|| self.account_health.clone()),
            events: m.events.clone(),
            expect: m.expect.clone(),
            generate: m.generate.clone(),
            random_breaks: m.random_breaks.clone(),
            markets: Vec::new(),
            ..self.clone()
        }
    }

    /// Checks of a scenario with `[[markets]]`: nothing market-specific at the top level,
    /// every market a marketplace of the seller's region, countries and profiles unique,
    /// and each market valid as a single-marketplace scenario (its errors are keyed
    /// `markets[i].…`).
    fn markets_checked(&self) -> Result<(), ScenarioError> {
        let top_level = [
            ("products", self.products.is_empty()),
            ("browse_nodes", self.browse_nodes.is_empty()),
            ("campaigns", self.campaigns.is_empty()),
            ("feedback.entries", self.feedback.entries.is_empty()),
            ("events", self.events.is_empty()),
            ("expect", self.expect.is_empty()),
            ("generate", self.generate.is_none()),
            ("random_breaks", self.random_breaks.is_none()),
        ];
        for (key, empty) in top_level {
            if !empty {
                return Err(invalid(
                    key,
                    "a scenario with [[markets]] describes this per market; move it into a market",
                ));
            }
        }
        if !matches!(self.seller.region.as_str(), "na" | "eu" | "fe") {
            return Err(invalid("seller.region", "must be \"na\", \"eu\" or \"fe\""));
        }
        let mut marketplaces = HashSet::new();
        let mut profiles = HashSet::new();
        for (i, m) in self.markets.iter().enumerate() {
            let k = |f: &str| format!("markets[{i}].{f}");
            let Some(info) = Self::market_info(m) else {
                return Err(match (&m.marketplace_id, &m.country) {
                    (Some(id), _) => {
                        invalid(k("marketplace_id"), format!("unknown marketplace {id:?}"))
                    }
                    (None, Some(c)) => {
                        invalid(k("country"), format!("no Amazon marketplace in {c:?}"))
                    }
                    (None, None) => {
                        invalid(k("country"), "a market names its country or marketplace_id")
                    }
                });
            };
            if let (Some(id), Some(c)) = (&m.marketplace_id, &m.country) {
                if crate::marketplaces::by_country(c).map(|x| x.id) != Some(id.as_str()) {
                    return Err(invalid(
                        k("country"),
                        format!("{c:?} is not the country of marketplace {id}"),
                    ));
                }
            }
            if info.region != self.seller.region {
                return Err(invalid(
                    k("country"),
                    format!(
                        "{} ({}) is a marketplace of region {:?}, the seller's region is {:?}",
                        info.country_code, info.id, info.region, self.seller.region
                    ),
                ));
            }
            if !marketplaces.insert(info.id) {
                return Err(invalid(
                    k("country"),
                    format!("a second market in {} ({})", info.country_code, info.id),
                ));
            }
            if m.ads_profile_id <= 0 || !profiles.insert(m.ads_profile_id) {
                return Err(invalid(
                    k("ads_profile_id"),
                    format!(
                        "must be a unique positive integer, got {}",
                        m.ads_profile_id
                    ),
                ));
            }
            self.market_scenario(m).validate().map_err(|e| match e {
                ScenarioError::Invalid { key, message } => {
                    let key = key.strip_prefix("seller.").unwrap_or(&key).to_string();
                    invalid(k(&key), message)
                }
                e => e,
            })?;
        }
        Ok(())
    }

    /// The product with this SKU.
    pub fn product(&self, sku: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.sku == sku)
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: i64) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| c.id == id)
    }

    /// Cross-field checks. Errors name the key path, e.g. `products[3].conversion`.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if !self.markets.is_empty() {
            return self.markets_checked();
        }
        let s = &self.seller;
        if s.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(
                "seller.timezone",
                format!("unknown IANA time zone {:?}", s.timezone),
            ));
        }
        if !matches!(s.region.as_str(), "na" | "eu" | "fe") {
            return Err(invalid("seller.region", "must be \"na\", \"eu\" or \"fe\""));
        }
        if self.history_days == 0 || self.history_days > 1_100 {
            return Err(invalid("history_days", "must be 1..=1100"));
        }
        if !matches!(self.attribution_days, 7 | 14) {
            return Err(invalid("attribution_days", "must be 7 or 14"));
        }
        let mut skus = HashSet::new();
        let mut asins = HashSet::new();
        for (i, p) in self.products.iter().enumerate() {
            let k = |f: &str| format!("products[{i}].{f}");
            if p.sku.is_empty() || !skus.insert(p.sku.as_str()) {
                return Err(invalid(
                    k("sku"),
                    format!("empty or duplicate SKU {:?}", p.sku),
                ));
            }
            if p.asin.len() != 10 || !asins.insert(p.asin.as_str()) {
                return Err(invalid(
                    k("asin"),
                    format!("must be a unique 10-character ASIN, got {:?}", p.asin),
                ));
            }
            for (name, v, lo, hi) in [
                ("price", p.price, 0.01, 1e6),
                ("cogs", p.cogs, 0.0, 1e6),
                ("inbound_freight", p.inbound_freight, 0.0, 1e6),
                ("sessions", p.sessions, 0.0, 1e7),
                ("conversion", p.conversion, 0.0, 1.0),
                ("growth", p.growth, -0.9, 10.0),
                ("noise", p.noise, 0.0, 1.0),
                ("mobile_share", p.mobile_share, 0.0, 1.0),
                (
                    "page_views_per_session",
                    p.page_views_per_session,
                    1.0,
                    20.0,
                ),
                ("buy_box", p.buy_box, 0.0, 1.0),
                ("return_rate", p.return_rate, 0.0, 1.0),
                ("referral_pct", p.referral_pct, 0.0, 100.0),
            ] {
                if !(lo..=hi).contains(&v) || v.is_nan() {
                    return Err(invalid(k(name), format!("{v} is outside {lo}..={hi}")));
                }
            }
            if p.rank == 0 {
                return Err(invalid(k("rank"), "must be >= 1"));
            }
            if p.review_days == 0 {
                return Err(invalid(k("review_days"), "must be >= 1"));
            }
            if let Some(r) = p.rating {
                if !(1.0..=5.0).contains(&r) {
                    return Err(invalid(k("rating"), "must be 1..=5"));
                }
            }
            for (j, t) in p.review_topics.iter().enumerate() {
                check_topic(t, &format!("products[{i}].review_topics[{j}]"))?;
            }
            for (j, issue) in p.issues.iter().enumerate() {
                check_issue(issue, &format!("products[{i}].issues[{j}]"))?;
            }
        }
        for (i, n) in self.browse_nodes.iter().enumerate() {
            for (j, t) in n.topics.iter().enumerate() {
                check_topic(t, &format!("browse_nodes[{i}].topics[{j}]"))?;
            }
        }
        let mut ids = HashSet::new();
        for (i, c) in self.campaigns.iter().enumerate() {
            let k = |f: &str| format!("campaigns[{i}].{f}");
            if c.id <= 0 || !ids.insert(c.id) {
                return Err(invalid(
                    k("id"),
                    format!("must be a unique positive integer, got {}", c.id),
                ));
            }
            for sku in &c.skus {
                if !skus.contains(sku.as_str()) {
                    return Err(invalid(k("skus"), format!("unknown SKU {sku:?}")));
                }
            }
            if c.skus.is_empty() {
                return Err(invalid(k("skus"), "a campaign advertises at least one SKU"));
            }
            for (name, v) in [("acos", c.acos), ("cpc", c.cpc), ("ctr", c.ctr)] {
                if v <= 0.0 || v.is_nan() {
                    return Err(invalid(k(name), "must be > 0"));
                }
            }
            if !(0.0..=1.0).contains(&c.ad_share) {
                return Err(invalid(k("ad_share"), "must be 0..=1"));
            }
            if !matches!(c.targeting.as_str(), "MANUAL" | "AUTO") {
                return Err(invalid(k("targeting"), "must be MANUAL or AUTO"));
            }
            for (j, t) in c.search_terms.iter().enumerate() {
                if c.kind != AdProduct::SP {
                    return Err(invalid(
                        k("search_terms"),
                        "only SP campaigns have search terms",
                    ));
                }
                if let Some(kw) = &t.keyword {
                    if !c.keywords.iter().any(|x| &x.text == kw) {
                        return Err(invalid(
                            format!("campaigns[{i}].search_terms[{j}].keyword"),
                            format!("no keyword {kw:?} in this campaign"),
                        ));
                    }
                }
            }
        }
        // Shares of one SKU's units across campaigns must leave room for organic sales.
        for p in &self.products {
            let total: f64 = self
                .campaigns
                .iter()
                .filter(|c| c.skus.contains(&p.sku))
                .map(|c| c.ad_share)
                .sum();
            if total > 0.95 {
                return Err(invalid(
                    "campaigns.ad_share",
                    format!(
                        "campaigns advertising {} claim {total:.2} of its units (max 0.95)",
                        p.sku
                    ),
                ));
            }
        }
        for (i, e) in self.feedback.entries.iter().enumerate() {
            if !(1..=5).contains(&e.rating) {
                return Err(invalid(
                    format!("feedback.entries[{i}].rating"),
                    "must be 1..=5",
                ));
            }
            if let Some(sku) = &e.sku {
                if !skus.contains(sku.as_str()) {
                    return Err(invalid(
                        format!("feedback.entries[{i}].sku"),
                        format!("unknown SKU {sku:?}"),
                    ));
                }
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            let k = |f: &str| format!("events[{i}].{f}");
            if let Some(sku) = &e.sku {
                if !skus.contains(sku.as_str()) {
                    return Err(invalid(k("sku"), format!("unknown SKU {sku:?}")));
                }
            }
            if let Some(id) = e.campaign_id {
                if !ids.contains(&id) {
                    return Err(invalid(k("campaign_id"), format!("unknown campaign {id}")));
                }
            }
            if e.sku.is_some() && e.campaign_id.is_some() {
                return Err(invalid(
                    k("campaign_id"),
                    "an event changes a SKU or a campaign, not both",
                ));
            }
            if let Some(to) = e.to_day {
                if to <= e.from_day {
                    return Err(invalid(k("to_day"), "must be after from_day"));
                }
            }
            if let Some(c) = e.conversion {
                if !(0.0..=1.0).contains(&c) {
                    return Err(invalid(k("conversion"), "must be 0..=1"));
                }
            }
            if let Some(issues) = &e.issues {
                for (j, issue) in issues.iter().enumerate() {
                    check_issue(issue, &format!("events[{i}].issues[{j}]"))?;
                }
            }
        }
        for (i, x) in self.expect.iter().enumerate() {
            if !RULES.contains(&x.rule.as_str()) {
                return Err(invalid(
                    format!("expect[{i}].rule"),
                    format!("unknown rule {:?}", x.rule),
                ));
            }
        }
        if let Some(r) = &self.random_breaks {
            for rule in &r.rules {
                if !crate::world::PLANTABLE_RULES.contains(&rule.as_str()) {
                    return Err(invalid(
                        "random_breaks.rules",
                        format!("cannot plant {rule:?}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_topic(t: &ReviewTopic, key: &str) -> Result<(), ScenarioError> {
    if !matches!(t.sentiment.as_str(), "positive" | "negative") {
        return Err(invalid(
            format!("{key}.sentiment"),
            "must be \"positive\" or \"negative\"",
        ));
    }
    if !(0.0..=100.0).contains(&t.share) {
        return Err(invalid(format!("{key}.share"), "is a percent, 0..=100"));
    }
    Ok(())
}

fn check_issue(i: &ListingIssue, key: &str) -> Result<(), ScenarioError> {
    if !matches!(i.severity.as_str(), "ERROR" | "WARNING" | "INFO") {
        return Err(invalid(
            format!("{key}.severity"),
            "must be ERROR, WARNING or INFO",
        ));
    }
    Ok(())
}
