//! Listings: a SKU's listing at a moment (status, suppression, issues, price, fulfillment
//! channel, FBM quantity), following the scenario's listing events.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::rng::hash;
use super::World;
use crate::scenario::ListingIssue;

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

impl World {
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
            price: self.money(params.price),
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
}
