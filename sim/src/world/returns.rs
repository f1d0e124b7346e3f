//! Customer returns (FBA and MFN): which shipped order items come back, when, why and in
//! what state. A return is planned per order item from its own random stream, so the
//! returns report and the refunded units of sales & traffic always agree.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::orders::OrderPlan;
use super::rng::Rng;
use super::{SkuParams, World, TAG_RETURN};

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

/// The return planned for an order item, if any.
#[derive(Debug, Clone)]
pub(super) struct ReturnPlan {
    pub(super) at: DateTime<Utc>,
    pub(super) quantity: u32,
    reason: String,
    disposition: &'static str,
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

/// Days from purchase to the latest return.
pub(super) const RETURN_LOOKBACK: i32 = 40;

impl World {
    /// The return of an order item, if any. `day` is the SKU's parameters on the purchase day
    /// (passed in because callers walk many orders of the same day).
    fn return_of(&self, plan: &OrderPlan, day: &SkuParams) -> Option<ReturnPlan> {
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

    /// The returns of SKU `j`'s order items `plans` (in purchase-day order), with their order.
    /// A day's parameters are looked up once for all of its orders.
    pub(super) fn planned_returns<'p>(
        &self,
        j: usize,
        plans: &'p [OrderPlan],
    ) -> Vec<(&'p OrderPlan, ReturnPlan)> {
        let mut out = Vec::new();
        let mut day_params = None;
        for plan in plans {
            if day_params.as_ref().is_none_or(|(rel, _)| *rel != plan.rel) {
                day_params = Some((plan.rel, self.params(j, plan.rel)));
            }
            if let Some(ret) = self.return_of(plan, &day_params.as_ref().expect("set above").1) {
                out.push((plan, ret));
            }
        }
        out
    }

    /// Customer returns (FBA and MFN) with a return date in `start..=end`, up to `now`.
    pub fn returns(&self, start: NaiveDate, end: NaiveDate, now: DateTime<Utc>) -> Vec<Return> {
        let (from, to) = self.rel_range(start, end);
        let mut out = Vec::new();
        for (j, p) in self.scenario.products.iter().enumerate() {
            let (_, plans) = self.sku_plans(j, from - RETURN_LOOKBACK, to);
            for (plan, ret) in self.planned_returns(j, &plans) {
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
                    refunded_amount: self.money(plan.unit_price * ret.quantity as f64),
                    order_amount: self.money(plan.unit_price * plan.quantity as f64),
                    order_quantity: plan.quantity,
                });
            }
        }
        out.sort_by(|a, b| (a.return_date, &a.order_id).cmp(&(b.return_date, &b.order_id)));
        out
    }
}
