//! Account health: order defect rate, late shipments, cancellations and valid tracking over
//! their windows, counted from the orders, with the scenario's status and policy complaints.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::World;

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

impl World {
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
}
