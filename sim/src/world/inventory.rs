//! Inventory: a SKU's FBA stock (fulfillable, reserved, inbound, unfulfillable) or FBM
//! quantity at a moment, and the FBA inventory planning rows (age buckets, units shipped,
//! days of supply, Amazon's restock alert), all from the stock on hand of the daily series.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::rng::Rng;
use super::{World, TAG_MISC};

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

/// Days an order can take to ship (longest late MFN shipment).
const SHIP_LOOKBACK: i32 = 6;

impl World {
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
}
