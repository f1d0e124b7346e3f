//! Sales & traffic: each child ASIN's sessions, page views, buy box, units and sales per
//! complete day, their per-ASIN totals over a range, and the account's daily totals; plus the
//! shipped and refunded flows of a SKU per day (shipments and returns land days after the
//! purchase, so a day's shipped units come from earlier orders).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::returns::RETURN_LOOKBACK;
use super::{percent, World};
use crate::scenario::round2;

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

impl World {
    /// Shipped units, shipped orders, shipped sales and refunded units of SKU `j` per day of
    /// `from..to`, as of `now`.
    pub(super) fn flows(
        &self,
        j: usize,
        from: i32,
        to: i32,
        now: DateTime<Utc>,
    ) -> Vec<(u32, u32, f64, u32)> {
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
        for plan in &plans {
            if let Some(s) = plan.shipped {
                if let Some(i) = idx(s) {
                    out[i].0 += plan.quantity;
                    out[i].1 += 1;
                    out[i].2 += plan.unit_price * plan.quantity as f64;
                }
            }
        }
        for (_, ret) in self.planned_returns(j, &plans) {
            if let Some(i) = idx(ret.at) {
                out[i].3 += ret.quantity;
            }
        }
        out
    }

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
                    ordered_product_sales: self.money(c.units as f64 * c.price),
                    total_order_items: order_counts[i],
                    units_refunded: f.3,
                    units_shipped: f.0,
                    orders_shipped: f.1,
                    shipped_product_sales: self.money(f.2),
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
            o.ordered_product_sales = self.money(o.ordered_product_sales);
            o.shipped_product_sales = self.money(o.shipped_product_sales);
            o.average_offer_count = (offers[i] / n * 100.0).round() / 100.0;
        }
        out
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
        unit_session_pct: percent(units, sessions),
        order_item_session_pct: percent(items, sessions),
    })
}
