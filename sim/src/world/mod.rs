//! The synthetic seller: a scenario plus a seed, turned into data on demand.
//!
//! # Model
//! Everything derives from one daily series per SKU, drawn from a counter-based hash of
//! (seed, SKU index, day): expected sessions (baseline × growth × weekday × events), a noisy
//! draw of sessions and conversion, and the units the stock on hand allows. Stock follows a
//! periodic-review replenishment policy computed in closed form from *expected* demand (an
//! inbound shipment placed every `review_days` arrives after `lead_time_days`), so the only
//! path-dependent number, stock on hand, is found by walking from a cached checkpoint (one
//! integer per SKU per 32 days). Orders, returns, seller feedback, ads, ranks and reports are
//! all derived from that series, so they agree with each other:
//! - units ordered of an ASIN on a day = the quantities of that day's non-cancelled orders;
//! - ad-attributed units of a SKU-day ≤ its units ordered (campaigns share them out);
//! - returns come from shipped order items, feedback from orders.
//!
//! Nothing is precomputed per order: a day's orders of a SKU are regenerated from the hash
//! whenever asked for, and an order id encodes (day, SKU, index) so `order()` finds it again.
//!
//! # Time
//! Days are calendar days in the marketplace time zone (`Seller::timezone`); "day i" below is
//! relative to day 0 (`World::day0`). Queries take the sim's `now` and never reveal anything
//! that happens after it (orders not yet placed, statuses not yet reached, days not yet over).
//!
//! # Files
//! This file holds the daily series (parameters with events applied, the stock walk), `rng`
//! the counter-based hash it draws from and `tests` the generator's tests. Each other file
//! derives one kind of data, with that data's public types (re-exported here):
//!
//! | file | derives |
//! |---|---|
//! | `generate` | procedural products, campaigns and events of large scenarios |
//! | `orders` | orders and their items, status over time, order ids |
//! | `sales` | sales & traffic per ASIN-day, per-ASIN and daily totals, shipped/refunded flows |
//! | `inventory` | FBA/FBM stock at a moment, inventory planning rows |
//! | `returns` | customer returns (FBA and MFN) |
//! | `feedback` | seller feedback |
//! | `account_health` | account health metrics and status |
//! | `ranks` | catalog sales ranks |
//! | `pricing` | competitive pricing, fee estimates, unit costs |
//! | `listings` | listings (status, issues, price) |
//! | `reviews` | star ratings, review topics and their trends, browse nodes |
//! | `search_queries` | Brand Analytics search query performance |
//! | `ads` | advertising profile, campaigns and their daily metrics |
//!
//! `set` holds the [`Worlds`] of a seller that sells in several marketplaces: one `World` per
//! market, each the single-marketplace model above.

mod account_health;
mod ads;
mod feedback;
mod generate;
mod inventory;
mod listings;
mod orders;
mod pricing;
mod ranks;
mod returns;
mod reviews;
pub(crate) mod rng;
mod sales;
mod search_queries;
mod set;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::scenario::{Campaign, Event, ListingIssue, Product, Scenario};
use rng::Rng;

pub use account_health::AccountHealthSnapshot;
pub use ads::{
    maturity_14d, maturity_7d, AdvertisedProductDay, CampaignDay, Profile, SearchTermDay,
};
pub use feedback::Feedback;
pub use generate::PLANTABLE_RULES;
pub use inventory::{Inventory, PlanningRow};
pub use listings::Listing;
pub use orders::{Order, OrderItem, OrderIter, OrderStatus};
pub use pricing::{CompetitiveSummary, CostRow, FeeEstimate, Offer};
pub use ranks::RankSnapshot;
pub use returns::Return;
pub use reviews::{BrowseNodeInfo, RatingRow, ReviewTopicInfo, TopicTrend};
pub use sales::{AsinDay, AsinTotals, DailyTotals};
pub use search_queries::SearchQueryWeek;
pub use set::{MarketWorlds, Worlds};

/// Days between stock checkpoints.
const CP: i32 = 32;

// Tags that keep the random streams of different purposes apart.
pub(crate) const TAG_DAY: u64 = 1;
pub(crate) const TAG_ORDERS: u64 = 2;
pub(crate) const TAG_RETURN: u64 = 3;
pub(crate) const TAG_FEEDBACK: u64 = 4;
pub(crate) const TAG_ADS: u64 = 5;
pub(crate) const TAG_RANK: u64 = 6;
pub(crate) const TAG_SQP: u64 = 7;
pub(crate) const TAG_MISC: u64 = 8;
pub(crate) const TAG_MARKET: u64 = 9;

/// A deterministic synthetic seller. `Send + Sync`; share it in an `Arc`.
pub struct World {
    scenario: Scenario,
    seed: u64,
    day0: NaiveDate,
    tz: Tz,
    sku_index: HashMap<String, usize>,
    asin_index: HashMap<String, usize>,
    product_events: Vec<Vec<usize>>,
    campaign_events: HashMap<i64, Vec<usize>>,
    account_events: Vec<usize>,
    /// Campaign indices advertising each product, in scenario order.
    campaigns_of: Vec<Vec<usize>>,
    /// Per product: stock on hand at the start of day `start + CP * k` (lazily extended).
    checkpoints: Vec<Mutex<Vec<i64>>>,
    /// Seeded offset of the order-id bijection.
    order_offset: u64,
    /// Index of this marketplace in the scenario's `[[markets]]` (0 for a single-market
    /// scenario). Markets after the first draw from a salted seed and take their own range of
    /// order-id prefixes, so ids Amazon keeps unique across marketplaces stay unique.
    market: u32,
}

/// Effective product parameters on one day (baseline with events applied).
#[derive(Debug, Clone)]
pub(crate) struct SkuParams<'a> {
    pub sessions_factor: f64,
    pub conversion: f64,
    pub price: f64,
    pub buy_box: f64,
    pub rank_factor: f64,
    pub return_rate: f64,
    pub return_reason: Option<&'a str>,
    pub replenish: bool,
    pub stock_days: f64,
    pub listing_status: &'a [String],
    pub suppressed: bool,
    pub issues: &'a [ListingIssue],
    pub competitor_price: f64,
    pub offers: u32,
    pub rating: Option<f64>,
    pub query_factors: Vec<(Option<&'a str>, f64)>,
}

/// Effective campaign parameters on one day.
#[derive(Debug, Clone)]
pub(crate) struct CampaignParams<'a> {
    pub acos: f64,
    pub cpc: f64,
    pub ad_share: f64,
    pub state: &'a str,
}

/// Effective account parameters on one day.
#[derive(Debug, Clone)]
pub(crate) struct AccountParams<'a> {
    pub negative_rate: f64,
    pub status: &'a str,
    pub odr: f64,
    pub late_shipment_rate: f64,
    pub cancel_rate: f64,
    pub valid_tracking_rate: f64,
}

/// One SKU-day of the core series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DayCore {
    pub rel: i32,
    pub sessions: u32,
    pub sessions_mobile: u32,
    pub page_views: u32,
    pub page_views_mobile: u32,
    /// Buy box share 0..1.
    pub buy_box: f64,
    pub units: u32,
    pub price: f64,
    /// Stock on hand at the start of the day, after that day's arrivals.
    pub on_hand: i64,
    pub in_stock: bool,
    pub expected_units: f64,
}

impl World {
    /// Builds the world. Cheap: procedural products (if the scenario asks for them) are made
    /// here, everything per day or per order is generated when asked for.
    pub fn new(scenario: Scenario, seed: u64, day0: NaiveDate) -> World {
        World::for_market(scenario, seed, day0, 0)
    }

    /// The world of market `market` (its index in `[[markets]]`) of a multi-market scenario;
    /// `scenario` is that market's single-market scenario ([`Scenario::markets`]). Market 0 is
    /// exactly `World::new`; later markets draw every random stream from a salted seed.
    pub fn for_market(scenario: Scenario, seed: u64, day0: NaiveDate, market: u32) -> World {
        let seed = if market == 0 {
            seed
        } else {
            rng::hash(&[seed, TAG_MARKET, market as u64])
        };
        let mut scenario = scenario;
        generate::expand(&mut scenario, seed);
        let tz: Tz = scenario.seller.timezone.parse().unwrap_or(chrono_tz::UTC);
        let sku_index: HashMap<String, usize> = scenario
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.sku.clone(), i))
            .collect();
        let asin_index = scenario
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.asin.clone(), i))
            .collect();
        let mut product_events = vec![Vec::new(); scenario.products.len()];
        let mut campaign_events: HashMap<i64, Vec<usize>> = HashMap::new();
        let mut account_events = Vec::new();
        for (k, e) in scenario.events.iter().enumerate() {
            if let Some(sku) = &e.sku {
                if let Some(&j) = sku_index.get(sku) {
                    product_events[j].push(k);
                }
            } else if let Some(id) = e.campaign_id {
                campaign_events.entry(id).or_default().push(k);
            } else {
                account_events.push(k);
            }
        }
        let mut campaigns_of = vec![Vec::new(); scenario.products.len()];
        for (c, camp) in scenario.campaigns.iter().enumerate() {
            for sku in &camp.skus {
                if let Some(&j) = sku_index.get(sku) {
                    if !campaigns_of[j].contains(&c) {
                        campaigns_of[j].push(c);
                    }
                }
            }
        }
        let checkpoints = (0..scenario.products.len())
            .map(|_| Mutex::new(Vec::new()))
            .collect();
        World {
            scenario,
            seed,
            day0,
            tz,
            sku_index,
            asin_index,
            product_events,
            campaign_events,
            account_events,
            campaigns_of,
            checkpoints,
            order_offset: rng::hash(&[seed, 0x0D]) % orders::DIGITS14,
            market,
        }
    }

    /// The scenario, with generated products, campaigns, events and expectations included.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
    /// The seed this world draws from (salted for markets after the first).
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Index of this world's market in the scenario (0 for single-market scenarios).
    pub fn market_index(&self) -> u32 {
        self.market
    }
    /// The marketplace id of this world.
    pub fn marketplace_id(&self) -> &str {
        &self.scenario.seller.marketplace_id
    }
    /// The currency's minor-unit digits: 0 for JPY, 2 otherwise (ISO 4217 for the
    /// currencies of Amazon's marketplaces).
    pub fn currency_decimals(&self) -> usize {
        currency_decimals(&self.scenario.seller.currency)
    }
    /// `x` rounded to the currency's minor unit (whole yen, cents elsewhere).
    pub fn money(&self, x: f64) -> f64 {
        round_money(x, self.currency_decimals())
    }
    /// Day 0: the sim's start date in the marketplace time zone.
    pub fn day0(&self) -> NaiveDate {
        self.day0
    }
    /// The marketplace time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }
    /// First day with data (day0 − history_days).
    pub fn history_start(&self) -> NaiveDate {
        self.day0 - Duration::days(self.scenario.history_days as i64)
    }
    /// The marketplace calendar day containing `t`.
    pub fn day_of(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
    /// The instant day `d` starts in the marketplace time zone.
    pub fn day_start(&self, d: NaiveDate) -> DateTime<Utc> {
        let naive = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        match self.tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
            // A gap at midnight (DST in some zones): the day starts an hour later.
            chrono::LocalResult::None => self
                .tz
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&naive)),
        }
    }
    /// Whether day `d` is over at `now`.
    pub fn is_complete(&self, d: NaiveDate, now: DateTime<Utc>) -> bool {
        self.day_start(d + Duration::days(1)) <= now
    }
    /// The sim start instant (start of day 0).
    pub fn start_time(&self) -> DateTime<Utc> {
        self.day_start(self.day0)
    }

    /// Index of a product by SKU.
    pub fn sku_idx(&self, sku: &str) -> Option<usize> {
        self.sku_index.get(sku).copied()
    }
    /// Index of a product by ASIN.
    pub fn asin_idx(&self, asin: &str) -> Option<usize> {
        self.asin_index.get(asin).copied()
    }
    pub fn products(&self) -> &[Product] {
        &self.scenario.products
    }
    pub fn campaigns(&self) -> &[Campaign] {
        &self.scenario.campaigns
    }

    pub(crate) fn rel(&self, d: NaiveDate) -> i32 {
        (d - self.day0).num_days() as i32
    }
    pub(crate) fn date(&self, rel: i32) -> NaiveDate {
        self.day0 + Duration::days(rel as i64)
    }
    pub(crate) fn start_rel(&self) -> i32 {
        -(self.scenario.history_days as i32)
    }
    pub(crate) fn events_of(&self, j: usize) -> impl Iterator<Item = &Event> {
        self.product_events[j]
            .iter()
            .map(|&k| &self.scenario.events[k])
    }
    pub(crate) fn campaigns_of(&self, j: usize) -> &[usize] {
        &self.campaigns_of[j]
    }

    fn active(e: &Event, rel: i32) -> bool {
        rel >= e.from_day && e.to_day.is_none_or(|t| rel < t)
    }

    pub(crate) fn params(&self, j: usize, rel: i32) -> SkuParams<'_> {
        let p = &self.scenario.products[j];
        let mut s = SkuParams {
            sessions_factor: 1.0,
            conversion: p.conversion,
            price: p.price,
            buy_box: p.buy_box,
            rank_factor: 1.0,
            return_rate: p.return_rate,
            return_reason: None,
            replenish: true,
            stock_days: p.stock_days(),
            listing_status: &p.listing_status,
            suppressed: p.suppressed,
            issues: &p.issues,
            competitor_price: p.competitor_price.unwrap_or(p.price * 1.03),
            offers: p.offers,
            rating: p.rating,
            query_factors: Vec::new(),
        };
        for e in self.events_of(j) {
            if !Self::active(e, rel) {
                continue;
            }
            if let Some(x) = e.sessions_factor {
                s.sessions_factor *= x;
            }
            if let Some(x) = e.conversion {
                s.conversion = x;
            }
            if let Some(x) = e.price {
                s.price = x;
                if p.competitor_price.is_none() && e.competitor_price.is_none() {
                    s.competitor_price = p.price * 1.03;
                }
            }
            if let Some(x) = e.buy_box {
                s.buy_box = x;
            }
            if let Some(x) = e.rank_factor {
                s.rank_factor *= x;
            }
            if let Some(x) = e.return_rate {
                s.return_rate = x;
            }
            if let Some(x) = &e.return_reason {
                s.return_reason = Some(x);
            }
            if let Some(x) = e.replenish {
                s.replenish = x;
            }
            if let Some(x) = e.stock_days {
                s.stock_days = x;
            }
            if let Some(x) = &e.listing_status {
                s.listing_status = x;
            }
            if let Some(x) = e.suppressed {
                s.suppressed = x;
            }
            if let Some(x) = &e.issues {
                s.issues = x;
            }
            if let Some(x) = e.competitor_price {
                s.competitor_price = x;
            }
            if let Some(x) = e.offers {
                s.offers = x;
            }
            if let Some(x) = e.rating {
                s.rating = Some(x);
            }
            if let Some(x) = e.query_share_factor {
                s.query_factors.push((e.query.as_deref(), x));
            }
        }
        s
    }

    pub(crate) fn campaign_params(&self, c: usize, rel: i32) -> CampaignParams<'_> {
        let camp = &self.scenario.campaigns[c];
        let mut p = CampaignParams {
            acos: camp.acos,
            cpc: camp.cpc,
            ad_share: camp.ad_share,
            state: &camp.state,
        };
        for &k in self.campaign_events.get(&camp.id).into_iter().flatten() {
            let e = &self.scenario.events[k];
            if !Self::active(e, rel) {
                continue;
            }
            if let Some(x) = e.acos {
                p.acos = x;
            }
            if let Some(x) = e.cpc_factor {
                p.cpc *= x;
            }
            if let Some(x) = e.ad_share {
                p.ad_share = x;
            }
            if let Some(x) = &e.state {
                p.state = x;
            }
        }
        p
    }

    pub(crate) fn account_params(&self, rel: i32) -> AccountParams<'_> {
        let h = &self.scenario.account_health;
        let mut a = AccountParams {
            negative_rate: self.scenario.feedback.negative_rate,
            status: &h.status,
            odr: h.odr,
            late_shipment_rate: h.late_shipment_rate,
            cancel_rate: h.cancel_rate,
            valid_tracking_rate: h.valid_tracking_rate,
        };
        for &k in &self.account_events {
            let e = &self.scenario.events[k];
            if !Self::active(e, rel) {
                continue;
            }
            if let Some(x) = e.negative_feedback_rate {
                a.negative_rate = x;
            }
            if let Some(x) = &e.account_status {
                a.status = x;
            }
            if let Some(x) = e.odr {
                a.odr = x;
            }
            if let Some(x) = e.late_shipment_rate {
                a.late_shipment_rate = x;
            }
            if let Some(x) = e.cancel_rate {
                a.cancel_rate = x;
            }
            if let Some(x) = e.valid_tracking_rate {
                a.valid_tracking_rate = x;
            }
        }
        a
    }

    /// Expected sessions of SKU `j` on day `rel` (before noise and stock).
    pub(crate) fn expected_sessions(&self, j: usize, rel: i32, params: &SkuParams) -> f64 {
        let p = &self.scenario.products[j];
        // Mild weekly pattern, Sunday first; averages 1.
        const WEEKDAY: [f64; 7] = [1.05, 0.98, 0.97, 0.98, 0.99, 1.0, 1.03];
        let wd = (self.day0.weekday().num_days_from_sunday() as i32 + rel).rem_euclid(7) as usize;
        let growth = if p.growth == 0.0 {
            1.0
        } else {
            (1.0 + p.growth).powf(rel as f64 / 30.0)
        };
        p.sessions * growth * WEEKDAY[wd] * params.sessions_factor
    }

    pub(crate) fn expected_units(&self, j: usize, rel: i32) -> f64 {
        let params = self.params(j, rel);
        self.expected_sessions(j, rel, &params) * params.conversion
    }

    /// Whether `rel` is a replenishment review day of product `j`.
    fn is_review_day(&self, j: usize, rel: i32) -> bool {
        let r = self.scenario.products[j].review_days as i32;
        let offset = (rng::hash(&[self.seed, TAG_MISC, j as u64]) % r as u64) as i32;
        (rel - offset).rem_euclid(r) == 0
    }

    /// Units shipped inbound on review day `rel` (0 on other days or when not replenishing).
    pub(crate) fn shipment_qty(&self, j: usize, rel: i32) -> i64 {
        if !self.is_review_day(j, rel) {
            return 0;
        }
        let p = &self.scenario.products[j];
        let params = self.params(j, rel);
        if !params.replenish {
            return 0;
        }
        let lead = p.lead_time_days as i32;
        let r = p.review_days as i32;
        // Each shipment covers the expected demand of the days it arrives for, plus the change
        // of the target stock level (stock_days × expected daily units) since the last review,
        // so on-hand stock keeps `stock_days` of cover while demand grows or the target moves.
        let cover =
            |at: i32| -> f64 { (0..r).map(|k| self.expected_units(j, at + lead + k)).sum() };
        let now_cover = cover(rel);
        let target = params.stock_days * now_cover / r as f64;
        let before = self.params(j, rel - r).stock_days * cover(rel - r) / r as f64;
        (now_cover + target - before).ceil().max(0.0) as i64
    }

    /// Arrivals at the start of day `rel`.
    pub(crate) fn arrivals(&self, j: usize, rel: i32) -> i64 {
        let lead = self.scenario.products[j].lead_time_days as i32;
        self.shipment_qty(j, rel - lead)
    }

    /// The first draws of a SKU-day: sessions before stock effects and the units demanded.
    /// `step` and the checkpoint walk share them, so both see the same numbers.
    fn draw_demand(&self, j: usize, rel: i32, params: &SkuParams) -> (Rng, f64, u32, u32) {
        let p = &self.scenario.products[j];
        let expected = self.expected_sessions(j, rel, params);
        let mut r = Rng::new(&[self.seed, TAG_DAY, j as u64, rel as i64 as u64]);
        let n = r.normal();
        let sessions_raw = r.round(expected * (1.0 + p.noise * n));
        let conv = (params.conversion * (1.0 + p.noise * r.normal())).clamp(0.0, 1.0);
        let demand = r.round(sessions_raw as f64 * conv).min(sessions_raw);
        (r, expected, sessions_raw, demand)
    }

    /// Advances stock over day `rel` without the traffic details (checkpoint walks).
    fn step_stock(&self, j: usize, rel: i32, on_hand: &mut i64) {
        *on_hand += self.arrivals(j, rel);
        if *on_hand > 0 {
            let params = self.params(j, rel);
            let (_, _, _, demand) = self.draw_demand(j, rel, &params);
            *on_hand -= (demand as i64).min(*on_hand);
        }
    }

    /// Draws day `rel` of SKU `j` given stock on hand at its start (before arrivals).
    fn step(&self, j: usize, rel: i32, on_hand: &mut i64) -> DayCore {
        let p = &self.scenario.products[j];
        *on_hand += self.arrivals(j, rel);
        let params = self.params(j, rel);
        let (mut r, expected, sessions_raw, demand) = self.draw_demand(j, rel, &params);
        let in_stock = *on_hand > 0;
        let (sessions, units, buy_box) = if in_stock {
            let bb = (params.buy_box * (1.0 + 0.01 * r.normal())).clamp(0.0, 1.0);
            (sessions_raw, (demand as i64).min(*on_hand) as u32, bb)
        } else {
            // No offer: the page still gets some visits, nobody can buy.
            (r.round(sessions_raw as f64 * 0.35), 0, 0.0)
        };
        let sessions_mobile = r.round(sessions as f64 * p.mobile_share).min(sessions);
        let pvps = p.page_views_per_session;
        let n = r.normal();
        let pv_m = r
            .round(sessions_mobile as f64 * pvps * (1.0 + 0.03 * n))
            .max(sessions_mobile);
        let sb = sessions - sessions_mobile;
        let n = r.normal();
        let pv_b = r.round(sb as f64 * pvps * (1.0 + 0.03 * n)).max(sb);
        *on_hand -= units as i64;
        DayCore {
            rel,
            sessions,
            sessions_mobile,
            page_views: pv_m + pv_b,
            page_views_mobile: pv_m,
            buy_box,
            units,
            price: params.price,
            on_hand: *on_hand + units as i64,
            in_stock,
            expected_units: expected * params.conversion,
        }
    }

    fn initial_stock(&self, j: usize) -> i64 {
        let s = self.start_rel();
        (self.params(j, s).stock_days * self.expected_units(j, s)).ceil() as i64
    }

    /// Stock on hand at the start of day `rel` (before arrivals), `rel >= start`.
    fn on_hand_before(&self, j: usize, rel: i32) -> i64 {
        let s = self.start_rel();
        let k = ((rel - s) / CP) as usize;
        let mut cps = self.checkpoints[j]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if cps.is_empty() {
            cps.push(self.initial_stock(j));
        }
        while cps.len() <= k {
            let n = cps.len() as i32;
            let mut oh = cps[(n - 1) as usize];
            for d in (s + (n - 1) * CP)..(s + n * CP) {
                self.step_stock(j, d, &mut oh);
            }
            cps.push(oh);
        }
        let mut oh = cps[k];
        drop(cps);
        for d in (s + k as i32 * CP)..rel {
            self.step_stock(j, d, &mut oh);
        }
        oh
    }

    /// The core series of SKU `j` for days `from..to` (relative), clipped to history start.
    pub(crate) fn walk(&self, j: usize, from: i32, to: i32) -> Vec<DayCore> {
        let from = from.max(self.start_rel());
        if from >= to {
            return Vec::new();
        }
        let mut oh = self.on_hand_before(j, from);
        (from..to).map(|d| self.step(j, d, &mut oh)).collect()
    }

    /// One core day.
    pub(crate) fn core(&self, j: usize, rel: i32) -> Option<DayCore> {
        self.walk(j, rel, rel + 1).pop()
    }

    /// Relative day range [from, to) of the dates `start..=end` (inclusive dates).
    pub(crate) fn rel_range(&self, start: NaiveDate, end: NaiveDate) -> (i32, i32) {
        (self.rel(start), self.rel(end) + 1)
    }
}

/// Digits after the decimal point of amounts in `currency` (0 for JPY, 2 for the others
/// Amazon's marketplaces use).
pub fn currency_decimals(currency: &str) -> usize {
    match currency {
        "JPY" => 0,
        _ => 2,
    }
}

/// `x` rounded to `decimals` digits (0 or 2).
pub fn round_money(x: f64, decimals: usize) -> f64 {
    if decimals == 0 {
        x.round()
    } else {
        crate::scenario::round2(x)
    }
}

/// An amount as a JSON number: a whole number for a currency without minor units (JPY),
/// else `x` as it is (callers round to cents first).
pub fn amount_json(x: f64, decimals: usize) -> serde_json::Value {
    if decimals == 0 {
        serde_json::json!(x.round() as i64)
    } else {
        serde_json::json!(x)
    }
}

/// `part` as a percent of `whole`, rounded to two decimals; 0 when `whole` is 0.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 100.0
    }
}

#[cfg(test)]
mod tests;
