//! Brand Analytics search query performance: an ASIN's weekly (Sunday–Saturday) impressions,
//! clicks, cart adds and purchases per search query, its purchases bounded by its units.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::rng::Rng;
use super::{percent, World, TAG_SQP};

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

impl World {
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
            out.push(SearchQueryWeek {
                start_date: start,
                end_date: end,
                asin: p.asin.clone(),
                search_query: q.query.clone(),
                search_query_score: i as u32 + 1,
                search_query_volume: volume,
                total_query_impression_count: total_imp,
                asin_impression_count: asin_imp,
                asin_impression_share: percent(asin_imp, total_imp),
                total_click_count: total_clicks,
                total_click_rate: percent(total_clicks, volume),
                asin_click_count: asin_clicks,
                asin_click_share: percent(asin_clicks, total_clicks),
                total_median_click_price: self.money(params.competitor_price),
                asin_median_click_price: self.money(params.price),
                total_cart_add_count: total_carts,
                total_cart_add_rate: percent(total_carts, volume),
                asin_cart_add_count: asin_carts,
                asin_cart_add_share: percent(asin_carts, total_carts),
                total_purchase_count: total_purchases,
                total_purchase_rate: percent(total_purchases, volume),
                asin_purchase_count: asin_purchases,
                asin_purchase_share: percent(asin_purchases, total_purchases),
                total_median_purchase_price: self.money(params.competitor_price),
                asin_median_purchase_price: self.money(params.price),
            });
        }
        out
    }
}
