//! Advertising: profile, campaigns and their daily metrics, with restated conversions.
//!
//! Per SKU-day, each campaign advertising the SKU buys clicks worth `ad_share × expected units
//! × price × acos` and is credited `ad_share` of the SKU's *actual* units (campaigns in scenario
//! order, never more than the units left), so ad-attributed sales never exceed total sales and
//! the realised ACoS is the scenario's `acos` times expected/actual demand. Out-of-stock SKUs
//! do not serve ads. Campaign rows are sums of their advertised-product rows; search-term rows
//! split the campaign's clicks and purchases by the terms' weights.
//!
//! Restatement: impressions, clicks and cost are final once the day is over (partial while it
//! runs); attributed conversions grow along a maturity curve: 7-day metrics are final 7 days
//! after the day ends, 14-day metrics (and SB/SD click metrics) 28 days after. Nothing changes
//! after that (Amazon restates up to 42 days).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::rng::{allocate, Rng};
use super::{DayCore, World, TAG_ADS};
use crate::scenario::AdProduct;

/// The Ads API profile of the seller in its marketplace.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub profile_id: i64,
    pub country_code: String,
    pub currency_code: String,
    pub timezone: String,
    pub marketplace_string_id: String,
    /// accountInfo.id (the merchant token for sellers).
    pub account_id: String,
    /// "seller"
    pub account_type: &'static str,
    pub account_name: String,
    pub daily_budget: f64,
}

/// Campaign metrics of one day as observed at some moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CampaignDay {
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub ad_product: AdProduct,
    /// ENABLED | PAUSED | ARCHIVED on that day.
    pub campaign_status: String,
    pub targeting: String,
    pub budget: f64,
    pub impressions: u64,
    pub clicks: u64,
    pub cost: f64,
    pub purchases7d: u64,
    pub purchases14d: u64,
    pub sales7d: f64,
    pub sales14d: f64,
    pub units_sold_clicks7d: u64,
    pub units_sold_clicks14d: u64,
    /// SP only; None when there were no impressions.
    pub top_of_search_impression_share: Option<f64>,
}

impl CampaignDay {
    /// SB/SD `purchasesClicks` (14-day, clicks only).
    pub fn purchases_clicks(&self) -> u64 {
        self.purchases14d
    }
    /// SB/SD `salesClicks` (14-day, clicks only).
    pub fn sales_clicks(&self) -> f64 {
        self.sales14d
    }
    /// Attributed sales the rules read: SP `sales{7,14}d` by attribution, SB/SD `salesClicks`.
    pub fn attributed_sales(&self, attribution_days: u32) -> f64 {
        match (self.ad_product, attribution_days) {
            (AdProduct::SP, 7) => self.sales7d,
            _ => self.sales14d,
        }
    }
}

/// One spSearchTerm row (only terms with at least one click, as the API does).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchTermDay {
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    pub keyword_id: i64,
    pub keyword: String,
    pub match_type: String,
    pub search_term: String,
    pub impressions: u64,
    pub clicks: u64,
    pub cost: f64,
    pub purchases7d: u64,
    pub purchases14d: u64,
    pub sales7d: f64,
    pub sales14d: f64,
    pub units_sold_clicks7d: u64,
    pub units_sold_clicks14d: u64,
}

/// One spAdvertisedProduct row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdvertisedProductDay {
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    pub advertised_asin: String,
    pub advertised_sku: String,
    pub impressions: u64,
    pub clicks: u64,
    pub cost: f64,
    pub purchases7d: u64,
    pub purchases14d: u64,
    pub sales7d: f64,
    pub sales14d: f64,
    pub units_sold_clicks7d: u64,
    pub units_sold_clicks14d: u64,
}

/// Final (fully matured) numbers of one campaign × SKU × day.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    impressions: u64,
    clicks: u64,
    cost: f64,
    units7: u64,
    units14: u64,
    price: f64,
}

fn interp(points: &[(f64, f64)], x: f64) -> f64 {
    if x <= points[0].0 {
        return points[0].1;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    points[points.len() - 1].1
}

/// Share of the final 7-day conversions visible `age` days after the day ended.
pub fn maturity_7d(age_days: f64) -> f64 {
    interp(
        &[
            (0.0, 0.55),
            (1.0, 0.75),
            (3.0, 0.9),
            (5.0, 0.97),
            (7.0, 1.0),
        ],
        age_days,
    )
}

/// Share of the final 14-day conversions visible `age` days after the day ended.
pub fn maturity_14d(age_days: f64) -> f64 {
    interp(
        &[
            (0.0, 0.5),
            (1.0, 0.7),
            (3.0, 0.84),
            (7.0, 0.93),
            (14.0, 0.985),
            (28.0, 1.0),
        ],
        age_days,
    )
}

fn purchases_of(units: u64) -> u64 {
    units - units / 8
}

impl World {
    /// The seller's Ads profile.
    pub fn profile(&self) -> Profile {
        let s = &self.scenario.seller;
        Profile {
            profile_id: s.ads_profile_id,
            country_code: s.country.clone(),
            currency_code: s.currency.clone(),
            timezone: s.timezone.clone(),
            marketplace_string_id: s.marketplace_id.clone(),
            account_id: s.seller_id.clone(),
            account_type: "seller",
            account_name: s.store_name.clone(),
            daily_budget: self.scenario.campaigns.iter().map(|c| c.daily_budget).sum(),
        }
    }

    /// Campaign state (ENABLED/PAUSED/ARCHIVED) on a day.
    pub fn campaign_state(&self, campaign_id: i64, day: NaiveDate) -> Option<String> {
        let c = self
            .scenario
            .campaigns
            .iter()
            .position(|c| c.id == campaign_id)?;
        Some(self.campaign_params(c, self.rel(day)).state.to_string())
    }

    /// Final cells of every campaign advertising SKU `j` on core day `core`.
    fn cells(&self, j: usize, core: &DayCore) -> Vec<(usize, Cell)> {
        let mut left = core.units as u64;
        let mut out = Vec::new();
        for &c in self.campaigns_of(j) {
            let camp = &self.scenario.campaigns[c];
            let cp = self.campaign_params(c, core.rel);
            if cp.state != "ENABLED" || !core.in_stock {
                out.push((c, Cell::default()));
                continue;
            }
            let mut r = Rng::new(&[
                self.seed,
                TAG_ADS,
                c as u64,
                j as u64,
                core.rel as i64 as u64,
            ]);
            let exp_sales = cp.ad_share * core.expected_units * core.price;
            let cpc = (cp.cpc * (1.0 + 0.03 * r.normal())).max(0.02);
            let budget_clicks = (camp.daily_budget / camp.skus.len() as f64 / cpc).floor();
            let n = r.normal();
            let clicks = (r.round(exp_sales * cp.acos / cpc * (1.0 + 0.05 * n)) as f64)
                .min(budget_clicks) as u64;
            let cost = self.money(clicks as f64 * cpc);
            let n = r.normal();
            let impressions =
                (r.round(clicks as f64 / camp.ctr * (1.0 + 0.05 * n)) as u64).max(clicks);
            let u7 = (r.round(cp.ad_share * core.units as f64) as u64).min(left);
            left -= u7;
            let extra = (r.round(u7 as f64 * 0.06) as u64).min(left);
            left -= extra;
            out.push((
                c,
                Cell {
                    impressions,
                    clicks,
                    cost,
                    units7: u7,
                    units14: u7 + extra,
                    price: core.price,
                },
            ));
        }
        out
    }

    /// What a cell of `day` looks like at `now`.
    fn observe(&self, cell: Cell, day: NaiveDate, now: DateTime<Utc>) -> Option<Cell> {
        let start = self.day_start(day);
        if now <= start {
            return None;
        }
        let end = self.day_start(day + chrono::Duration::days(1));
        let frac = ((now - start).num_seconds() as f64 / (end - start).num_seconds().max(1) as f64)
            .min(1.0);
        let age = ((now - end).num_seconds() as f64 / 86_400.0).max(0.0);
        let scale = |x: u64, f: f64| (x as f64 * f).floor() as u64;
        let clicks = scale(cell.clicks, frac);
        let units7 = scale(cell.units7, frac * maturity_7d(age));
        Some(Cell {
            impressions: scale(cell.impressions, frac),
            clicks,
            cost: if cell.clicks == 0 {
                0.0
            } else {
                self.money(cell.cost * clicks as f64 / cell.clicks as f64)
            },
            units7,
            // The 14-day window contains the 7-day one.
            units14: scale(cell.units14, frac * maturity_14d(age)).max(units7),
            price: cell.price,
        })
    }

    /// Observed cells of campaign index `c` for days `from..to`, per day per advertised SKU.
    fn campaign_cells(
        &self,
        c: usize,
        from: i32,
        to: i32,
        now: DateTime<Utc>,
    ) -> Vec<Vec<(usize, Cell)>> {
        let last = to.min(self.rel(self.day_of(now)) + 1);
        let from = from.max(self.start_rel());
        let n = (last - from).max(0) as usize;
        let mut days: Vec<Vec<(usize, Cell)>> = vec![Vec::new(); n];
        let camp = &self.scenario.campaigns[c];
        for sku in &camp.skus {
            let Some(j) = self.sku_idx(sku) else { continue };
            for core in self.walk(j, from, last) {
                let cell = self
                    .cells(j, &core)
                    .into_iter()
                    .find(|(x, _)| *x == c)
                    .map(|(_, cell)| cell)
                    .unwrap_or_default();
                if let Some(seen) = self.observe(cell, self.date(core.rel), now) {
                    days[(core.rel - from) as usize].push((j, seen));
                }
            }
        }
        days
    }

    /// Daily metrics of one campaign for `start..=end`, as observed at `now` (days after `now`
    /// are absent; the running day is partial). Days with no activity are included with zeros.
    pub fn campaign_days(
        &self,
        campaign_id: i64,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<CampaignDay> {
        let Some(c) = self
            .scenario
            .campaigns
            .iter()
            .position(|x| x.id == campaign_id)
        else {
            return Vec::new();
        };
        let camp = &self.scenario.campaigns[c];
        let (from, to) = self.rel_range(start, end);
        let from = from.max(self.start_rel());
        let mut out = Vec::new();
        for (i, cells) in self
            .campaign_cells(c, from, to, now)
            .into_iter()
            .enumerate()
        {
            let rel = from + i as i32;
            if cells.is_empty() {
                continue;
            }
            let mut d = CampaignDay {
                date: self.date(rel),
                campaign_id: camp.id,
                campaign_name: camp.name.clone(),
                ad_product: camp.kind,
                campaign_status: self.campaign_params(c, rel).state.to_string(),
                targeting: camp.targeting.clone(),
                budget: camp.daily_budget,
                impressions: 0,
                clicks: 0,
                cost: 0.0,
                purchases7d: 0,
                purchases14d: 0,
                sales7d: 0.0,
                sales14d: 0.0,
                units_sold_clicks7d: 0,
                units_sold_clicks14d: 0,
                top_of_search_impression_share: None,
            };
            for (_, x) in &cells {
                d.impressions += x.impressions;
                d.clicks += x.clicks;
                d.cost += x.cost;
                d.units_sold_clicks7d += x.units7;
                d.units_sold_clicks14d += x.units14;
                d.purchases7d += purchases_of(x.units7);
                d.purchases14d += purchases_of(x.units14);
                d.sales7d += x.units7 as f64 * x.price;
                d.sales14d += x.units14 as f64 * x.price;
            }
            d.cost = self.money(d.cost);
            d.sales7d = self.money(d.sales7d);
            d.sales14d = self.money(d.sales14d);
            if camp.kind == AdProduct::SP && d.impressions > 0 {
                let mut r = Rng::new(&[self.seed, TAG_ADS, c as u64, 0x705, rel as i64 as u64]);
                let v = (camp.top_of_search_share * (1.0 + 0.05 * r.normal())).clamp(0.0, 1.0);
                d.top_of_search_impression_share = Some((v * 10_000.0).round() / 10_000.0);
            }
            out.push(d);
        }
        out
    }

    /// Daily metrics of every campaign of one ad product (SP, SB, SD) for `start..=end`.
    pub fn campaign_days_all(
        &self,
        kind: AdProduct,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<CampaignDay> {
        self.scenario
            .campaigns
            .iter()
            .filter(|c| c.kind == kind)
            .flat_map(|c| self.campaign_days(c.id, start, end, now))
            .collect()
    }

    /// spAdvertisedProduct rows for `start..=end` at `now` (rows with no impressions and no
    /// conversions are left out, as Amazon does).
    pub fn advertised_product_days(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<AdvertisedProductDay> {
        let (from, to) = self.rel_range(start, end);
        let from = from.max(self.start_rel());
        let mut out = Vec::new();
        for (c, camp) in self.scenario.campaigns.iter().enumerate() {
            if camp.kind != AdProduct::SP {
                continue;
            }
            for (i, cells) in self
                .campaign_cells(c, from, to, now)
                .into_iter()
                .enumerate()
            {
                for (j, x) in cells {
                    if x.impressions == 0 && x.units14 == 0 {
                        continue;
                    }
                    let p = &self.scenario.products[j];
                    out.push(AdvertisedProductDay {
                        date: self.date(from + i as i32),
                        campaign_id: camp.id,
                        ad_group_id: camp.ad_group_id(),
                        advertised_asin: p.asin.clone(),
                        advertised_sku: p.sku.clone(),
                        impressions: x.impressions,
                        clicks: x.clicks,
                        cost: self.money(x.cost),
                        purchases7d: purchases_of(x.units7),
                        purchases14d: purchases_of(x.units14),
                        sales7d: self.money(x.units7 as f64 * x.price),
                        sales14d: self.money(x.units14 as f64 * x.price),
                        units_sold_clicks7d: x.units7,
                        units_sold_clicks14d: x.units14,
                    });
                }
            }
        }
        out
    }

    /// spSearchTerm rows of SP campaigns for `start..=end` at `now` (terms with ≥ 1 click).
    pub fn search_term_days(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<SearchTermDay> {
        let mut out = Vec::new();
        for (c, camp) in self.scenario.campaigns.iter().enumerate() {
            if camp.kind != AdProduct::SP {
                continue;
            }
            let terms = self.terms_of(c);
            let click_w: Vec<f64> = terms.iter().map(|t| t.clicks_share).collect();
            for d in self.campaign_days(camp.id, start, end, now) {
                let rel = self.rel(d.date);
                let mut r = Rng::new(&[self.seed, TAG_ADS, c as u64, 0x57, rel as i64 as u64]);
                let clicks = allocate(d.clicks as u32, &click_w, &mut r);
                let imps = allocate(d.impressions as u32, &click_w, &mut r);
                let buy_w: Vec<f64> = terms
                    .iter()
                    .zip(&clicks)
                    .map(|(t, &k)| if k > 0 { t.purchase_share } else { 0.0 })
                    .collect();
                let u7 = allocate(d.units_sold_clicks7d as u32, &buy_w, &mut r);
                let extra = allocate(
                    (d.units_sold_clicks14d - d.units_sold_clicks7d) as u32,
                    &buy_w,
                    &mut r,
                );
                let price7 = if d.units_sold_clicks7d > 0 {
                    d.sales7d / d.units_sold_clicks7d as f64
                } else {
                    0.0
                };
                let price14 = if d.units_sold_clicks14d > 0 {
                    d.sales14d / d.units_sold_clicks14d as f64
                } else {
                    0.0
                };
                for (k, t) in terms.iter().enumerate() {
                    if clicks[k] == 0 {
                        continue;
                    }
                    let u14 = u7[k] + extra[k];
                    out.push(SearchTermDay {
                        date: d.date,
                        campaign_id: camp.id,
                        ad_group_id: camp.ad_group_id(),
                        keyword_id: t.keyword_id,
                        keyword: t.keyword.clone(),
                        match_type: t.match_type.clone(),
                        search_term: t.term.clone(),
                        impressions: imps[k].max(clicks[k]) as u64,
                        clicks: clicks[k] as u64,
                        cost: self.money(d.cost * clicks[k] as f64 / d.clicks.max(1) as f64),
                        purchases7d: purchases_of(u7[k] as u64),
                        purchases14d: purchases_of(u14 as u64),
                        sales7d: self.money(u7[k] as f64 * price7),
                        sales14d: self.money(u14 as f64 * price14),
                        units_sold_clicks7d: u7[k] as u64,
                        units_sold_clicks14d: u14 as u64,
                    });
                }
            }
        }
        out
    }

    /// The search terms of SP campaign index `c` with resolved keywords and weights.
    pub(crate) fn terms_of(&self, c: usize) -> Vec<ResolvedTerm> {
        let camp = &self.scenario.campaigns[c];
        let keyword = |text: Option<&str>| -> (i64, String, String) {
            let idx = text
                .and_then(|t| camp.keywords.iter().position(|k| k.text == t))
                .unwrap_or(0);
            match camp.keywords.get(idx) {
                Some(k) => (camp.keyword_id(idx), k.text.clone(), k.match_type.clone()),
                None if camp.targeting == "AUTO" => (
                    camp.keyword_id(0),
                    "close-match".into(),
                    "TARGETING_EXPRESSION_PREDEFINED".into(),
                ),
                None => (
                    camp.keyword_id(0),
                    default_keyword(&self.scenario.products, &camp.skus),
                    "BROAD".into(),
                ),
            }
        };
        if camp.search_terms.is_empty() {
            if camp.keywords.is_empty() {
                let (id, kw, mt) = keyword(None);
                return vec![ResolvedTerm {
                    term: default_keyword(&self.scenario.products, &camp.skus),
                    keyword_id: id,
                    keyword: kw,
                    match_type: mt,
                    clicks_share: 1.0,
                    purchase_share: 1.0,
                }];
            }
            return (0..camp.keywords.len())
                .map(|i| {
                    let k = &camp.keywords[i];
                    ResolvedTerm {
                        term: k.text.clone(),
                        keyword_id: camp.keyword_id(i),
                        keyword: k.text.clone(),
                        match_type: k.match_type.clone(),
                        clicks_share: 1.0,
                        purchase_share: 1.0,
                    }
                })
                .collect();
        }
        camp.search_terms
            .iter()
            .map(|t| {
                let (id, kw, mt) = keyword(t.keyword.as_deref());
                ResolvedTerm {
                    term: t.term.clone(),
                    keyword_id: id,
                    keyword: kw,
                    match_type: mt,
                    clicks_share: t.clicks_share,
                    purchase_share: t.purchase_share.unwrap_or(t.clicks_share),
                }
            })
            .collect()
    }
}

/// A search term with its keyword resolved.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedTerm {
    pub term: String,
    pub keyword_id: i64,
    pub keyword: String,
    pub match_type: String,
    pub clicks_share: f64,
    pub purchase_share: f64,
}

fn default_keyword(products: &[crate::scenario::Product], skus: &[String]) -> String {
    let title = skus
        .first()
        .and_then(|s| products.iter().find(|p| &p.sku == s))
        .map(|p| p.title.to_lowercase())
        .unwrap_or_default();
    title
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
