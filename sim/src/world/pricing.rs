//! What a unit sells and costs for: the competitive pricing summary of an ASIN (our offer,
//! competitors' offers, the featured offer), product fee estimates and the seller's unit costs
//! (costs.csv).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::rng::{hash, Rng};
use super::{World, TAG_MISC};

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

impl World {
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
                price: self.money(params.price),
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
                price: self.money(params.competitor_price * bump),
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
            our_price: self.money(params.price),
            featured_seller_id: featured.map(|o| o.seller_id.clone()),
            featured_price: featured.map(|o| o.price),
            we_own_featured_offer: we_win,
            featured_share_pct: (share * 10_000.0).round() / 100.0,
            offer_count: offers.len() as u32,
            offers,
            was_price: self.money(p.price * 1.1),
            competitive_price_threshold: self
                .money(params.competitor_price.min(params.price) * 0.99),
        })
    }

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
        let referral = self.money(p.referral_fee(price).max(0.30));
        let fba = self.money(p.fba_fee());
        Some(FeeEstimate {
            sku: p.sku.clone(),
            asin: p.asin.clone(),
            price: self.money(price),
            currency: self.scenario.seller.currency.clone(),
            referral_pct: p.referral_pct,
            referral_fee: referral,
            fba_fee: fba,
            variable_closing_fee: 0.0,
            total: self.money(referral + fba),
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
}
