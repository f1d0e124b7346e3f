//! One definition per metric: the number each rule judges, as a pure
//! function of the data the rule reads, and the one way thresholds are
//! compared.
//!
//! Three readers use these functions and nothing else to compute a metric:
//! the rules (`experience`, `growth`, `leverage`) for the finding's value
//! and evidence, the chart of an alert (`rules::series`, applying the same
//! function to the window ending on each day), and the tests proving that the
//! `kpi_*` SQL views of the checklist compute the same numbers at the
//! default windows (`tests/flywheel_e2e.rs`). So a headline, its evidence and
//! its chart's last point cannot disagree.
//!
//! Inputs are the plain shapes of [`crate::model::snapshot`] (windows, daily
//! rows, order days, Ads days); outputs are levels in the unit the finding
//! and the chart show (percent, days, units, a rank). `None` means unknown,
//! never 0 (DESIGN §2.1).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::model::finding::Window;
use crate::model::snapshot::{
    AdDay, AdSums, AdsData, AsinWindow, CostRow, DailyRow, FeedbackRow, OrderDays, QueryWeek,
    RankRow, ReturnRow, Snapshot, TopicRow,
};
use crate::model::time::day_start;

// ---- comparisons: the one way a value meets a threshold ----

/// `a >= b`, forgiving float noise (29.999999999999996 is 30: thresholds
/// are meant as written).
pub fn at_least(a: f64, b: f64) -> bool {
    a >= b - 1e-9 * b.abs().max(1.0)
}

/// `a > b`, forgiving float noise (2.0000000000000004 is not above 2).
pub fn above(a: f64, b: f64) -> bool {
    a > b + 1e-9 * b.abs().max(1.0)
}

/// `a < b`, forgiving float noise: not [`at_least`].
pub fn below(a: f64, b: f64) -> bool {
    !at_least(a, b)
}

// ---- arithmetic every ratio shares ----

/// Median of a non-empty list.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// a × 100 / b, `None` when b is not positive (in the `kpi_*` views'
/// order of operations, so both give the same float).
pub fn pct(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a * 100.0 / b)
}

/// Relative change of `now` against `before`, percent (negative = fell).
pub fn change_pct(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| (now - before) / before * 100.0)
}

/// How far `now` fell below `before`, percent of `before` (positive = fell).
pub fn drop_pct(now: f64, before: f64) -> Option<f64> {
    change_pct(now, before).map(|c| -c)
}

// ---- growth: the per-ASIN sales & traffic windows ----

/// An ASIN in the synced per-ASIN window `w`: `None` when the window was
/// not synced; `Some(None)` when the ASIN is absent from it (no orders in
/// it, so its sessions are unknown).
pub fn asin_window<'a>(
    snap: &'a Snapshot,
    asin: &str,
    w: Window,
) -> Option<Option<&'a AsinWindow>> {
    snap.window(w.start, w.end).map(|m| m.get(asin))
}

/// conversion_rate: units ordered / sessions × 100 (unit session percentage).
pub fn conversion_pct(r: &AsinWindow) -> Option<f64> {
    pct(r.units_ordered? as f64, r.sessions? as f64)
}

/// traffic_trend: the window's sessions.
pub fn sessions(r: &AsinWindow) -> Option<f64> {
    r.sessions.map(|s| s as f64)
}

/// buy_box: Amazon's page-view weighted buy box percentage of the window,
/// known only when the window had page views.
pub fn buy_box_pct(r: &AsinWindow) -> Option<f64> {
    r.buy_box_pct.filter(|_| r.page_views.unwrap_or(0) > 0)
}

/// growth_stall: units ordered in the window; an ASIN absent from a synced
/// window had no orders there (0, known).
pub fn window_units(r: Option<&AsinWindow>) -> i64 {
    r.and_then(|r| r.units_ordered).unwrap_or(0)
}

/// bsr_trend: the median main display-group rank of the ranked days of
/// `rows` inside `w`, with the number of those days.
pub fn median_rank(rows: &[RankRow], w: Window) -> (Option<f64>, u32) {
    let v: Vec<f64> = rows
        .iter()
        .filter(|r| w.contains(r.date))
        .filter_map(|r| r.rank.map(|x| x as f64))
        .collect();
    let k = v.len() as u32;
    (median(v), k)
}

/// keyword_share: a query's impression or click share of its week, percent
/// (Amazon sends fractions).
pub fn query_share_pct(q: &QueryWeek, clicks: bool) -> Option<f64> {
    if clicks {
        q.click_share
    } else {
        q.impression_share
    }
    .map(|s| s * 100.0)
}

/// review_topics: a topic's share of the ASIN's reviews now, percent: its
/// newest monthly point, else the newest period's figure.
pub fn topic_share_pct(t: &TopicRow) -> Option<f64> {
    t.trend.last().map(|p| p.1).or(t.occurrence_pct)
}

/// review_topics: the rise of a topic's share, in points, from the monthly
/// point `months` before the newest to the newest.
pub fn topic_rise_points(t: &TopicRow, months: u32) -> Option<f64> {
    let k = months as usize;
    let n = t.trend.len();
    (n > k).then(|| t.trend[n - 1].1 - t.trend[n - 1 - k].1)
}

// ---- experience ----

/// Negative seller feedback and orders over a window of the daily series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedbackSums {
    pub negative: i64,
    /// Order items (Amazon's daily series counts orders as order items).
    pub orders: i64,
}

impl FeedbackSums {
    /// feedback_rate: negative feedback / orders × 100.
    pub fn rate_pct(&self) -> Option<f64> {
        pct(self.negative as f64, self.orders as f64)
    }
}

/// The sums over `w`, or `None` unless every day of `w` is in the series.
pub fn feedback_sums(daily: &BTreeMap<NaiveDate, DailyRow>, w: Window) -> Option<FeedbackSums> {
    let days: Vec<&DailyRow> = daily.range(w.start..=w.end).map(|(_, d)| d).collect();
    (days.len() == w.days() as usize).then(|| FeedbackSums {
        negative: days
            .iter()
            .map(|d| d.negative_feedback_received.unwrap_or(0))
            .sum(),
        orders: days.iter().map(|d| d.total_order_items.unwrap_or(0)).sum(),
    })
}

/// feedback_response_sla: how old (hours) a negative feedback is that is
/// still unanswered and unacknowledged `hours` after the start of its day,
/// as of `now`; `None` when it is not such a breach.
pub fn breach_age_hours(
    f: &FeedbackRow,
    now: DateTime<Utc>,
    tz: &chrono_tz::Tz,
    max_rating: u8,
    hours: u32,
) -> Option<i64> {
    if f.rating > max_rating || f.has_response || f.acknowledged {
        return None;
    }
    let age = now - day_start(tz, f.date);
    (age >= Duration::hours(hours as i64)).then(|| age.num_hours())
}

/// Units shipped and returned over a window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReturnSums {
    /// Units of the orders that shipped in the window (by ship day).
    pub shipped: i64,
    /// Units returned in the window (by return date).
    pub returned: i64,
}

impl ReturnSums {
    /// return_rate: units returned / units shipped × 100.
    pub fn rate_pct(&self) -> Option<f64> {
        pct(self.returned as f64, self.shipped as f64)
    }
}

/// The return sums of `skus` over `w`; `None` when the orders do not reach
/// back to the window's start.
pub fn return_sums<'a>(
    orders: &OrderDays,
    returns: impl IntoIterator<Item = &'a ReturnRow>,
    skus: &[&str],
    w: Window,
) -> Option<ReturnSums> {
    if !orders_cover(orders, w) {
        return None;
    }
    let shipped = skus
        .iter()
        .filter_map(|s| orders.shipped.get(*s))
        .flat_map(|m| m.range(w.start..=w.end))
        .map(|(_, u)| *u)
        .sum();
    let returned = returns
        .into_iter()
        .filter(|r| w.contains(r.date) && skus.contains(&r.sku.as_str()))
        .map(|r| r.quantity)
        .sum();
    Some(ReturnSums { shipped, returned })
}

/// Whether the orders reach back to the window's start.
pub fn orders_cover(orders: &OrderDays, w: Window) -> bool {
    orders.first_day.is_some_and(|f| f <= w.start)
}

// ---- leverage ----

/// Whether the synced Ads days cover `w`.
pub fn ads_cover(ads: &AdsData, w: Window) -> bool {
    ads.first_day.is_some_and(|f| f <= w.start) && ads.last_day.is_some_and(|l| l >= w.end)
}

/// Sums of Ads days over `w`, over several lists of days (campaigns).
pub fn ad_sums<'a>(lists: impl IntoIterator<Item = &'a [AdDay]>, w: Window) -> AdSums {
    let mut s = AdSums::default();
    for days in lists {
        s.add(&AdSums::of(days, w.start, w.end));
    }
    s
}

/// acos_band: ad cost / attributed sales × 100 (`None`: no sales, infinite).
pub fn acos_pct(s: &AdSums) -> Option<f64> {
    pct(s.cost, s.sales)
}

/// cpc_trend: cost per click.
pub fn cpc(s: &AdSums) -> Option<f64> {
    s.cpc()
}

/// Total ordered product sales of the marketplace over `w`: the daily sales
/// & traffic series when it has every day, else the orders when they reach
/// back far enough; with the source's name.
pub fn total_sales(snap: &Snapshot, w: Window) -> Option<(f64, &'static str)> {
    let days: Vec<_> = snap.daily.range(w.start..=w.end).collect();
    if days.len() == w.days() as usize {
        return Some((
            days.iter()
                .map(|(_, d)| d.ordered_product_sales.unwrap_or(0.0))
                .sum(),
            "sales_traffic",
        ));
    }
    let o = snap.orders.as_ref()?;
    if !orders_cover(o, w) {
        return None;
    }
    Some((
        o.by_sku
            .values()
            .flat_map(|m| m.range(w.start..=w.end))
            .map(|(_, d)| d.sales)
            .sum(),
        "orders",
    ))
}

/// tacos: all ad spend / total sales × 100.
pub fn tacos_pct(ad_cost: f64, total_sales: f64) -> Option<f64> {
    pct(ad_cost, total_sales)
}

/// ad_reliance: ad-attributed sales / total sales × 100.
pub fn ad_share_pct(attributed_sales: f64, total_sales: f64) -> Option<f64> {
    pct(attributed_sales, total_sales)
}

/// stockout_risk: units a SKU sells per day over `w` (orders); `None` when
/// the orders do not reach back to the window's start.
pub fn daily_units(orders: &OrderDays, sku: &str, w: Window) -> Option<f64> {
    if !orders_cover(orders, w) {
        return None;
    }
    let units: i64 = orders
        .by_sku
        .get(sku)
        .map(|m| m.range(w.start..=w.end).map(|(_, d)| d.units).sum())
        .unwrap_or(0);
    Some(units as f64 / w.days() as f64)
}

/// stockout_risk: days the stock (available + inbound) lasts at the daily
/// units; `None` without sales (no velocity to divide by), as the
/// `days_of_supply` KPI.
pub fn days_of_cover(stock: i64, daily_units: Option<f64>) -> Option<f64> {
    daily_units.filter(|v| *v > 0.0).map(|v| stock as f64 / v)
}

/// margin_floor: a SKU's contribution margin over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margin {
    pub units: i64,
    /// Average selling price per unit.
    pub price: f64,
    pub ad_per_unit: f64,
    /// Per unit, after unit cost, freight, Amazon's fees and ad spend.
    pub margin: f64,
    /// The margin as a share of the price, percent.
    pub margin_pct: f64,
}

/// The margin of `sku` over `w` from its orders, unit cost and freight
/// (`cost`), Amazon's fees per unit and its advertised-product spend;
/// `None` without orders or without sales in the window (no price to judge).
pub fn margin(snap: &Snapshot, sku: &str, cost: CostRow, fees: f64, w: Window) -> Option<Margin> {
    let (units, sales) = snap
        .orders
        .as_ref()?
        .by_sku
        .get(sku)
        .map(|m| {
            m.range(w.start..=w.end)
                .fold((0i64, 0.0), |(u, s), (_, d)| (u + d.units, s + d.sales))
        })
        .unwrap_or((0, 0.0));
    if units <= 0 || sales <= 0.0 {
        return None;
    }
    let price = sales / units as f64;
    let ad_spend: f64 = snap
        .ads
        .as_ref()
        .map(|a| {
            a.products
                .iter()
                .filter(|p| p.sku == sku)
                .map(|p| AdSums::of(&p.days, w.start, w.end).cost)
                .sum()
        })
        .unwrap_or(0.0);
    let ad_per_unit = ad_spend / units as f64;
    let margin = price - cost.unit_cost - cost.inbound_freight - fees - ad_per_unit;
    Some(Margin {
        units,
        price,
        ad_per_unit,
        margin,
        margin_pct: margin / price * 100.0,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::d;
    use super::*;

    #[test]
    fn median_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(pct(1.0, 0.0), None);
        assert_eq!(change_pct(75.0, 100.0), Some(-25.0));
        assert_eq!(drop_pct(75.0, 100.0), Some(25.0));
    }

    #[test]
    fn comparisons_forgive_float_noise_only() {
        // (a, b, a >= b, a > b)
        let cases = [
            (30.0, 30.0, true, false),
            (29.999999999999996, 30.0, true, false),
            (2.0000000000000004, 2.0, true, false),
            (29.99, 30.0, false, false),
            (30.01, 30.0, true, true),
            (0.0, 0.0, true, false),
        ];
        for (a, b, ge, gt) in cases {
            assert_eq!(at_least(a, b), ge, "{a} >= {b}");
            assert_eq!(below(a, b), !ge, "{a} < {b}");
            assert_eq!(above(a, b), gt, "{a} > {b}");
        }
    }

    #[test]
    fn window_levels_know_absence_from_zero() {
        let row = AsinWindow {
            sessions: Some(200),
            page_views: Some(0),
            buy_box_pct: Some(95.0),
            units_ordered: Some(24),
            ordered_product_sales: None,
        };
        assert_eq!(conversion_pct(&row), Some(12.0));
        assert_eq!(sessions(&row), Some(200.0));
        // No page views: the buy box percentage means nothing.
        assert_eq!(buy_box_pct(&row), None);
        assert_eq!(window_units(Some(&row)), 24);
        assert_eq!(window_units(None), 0);
        let unknown = AsinWindow {
            sessions: Some(0),
            ..row
        };
        assert_eq!(conversion_pct(&unknown), None);
    }

    #[test]
    fn feedback_sums_need_every_day() {
        let w = Window::ending(d("2026-03-03"), 3);
        let mut daily = BTreeMap::new();
        for (day, neg, orders) in [("2026-03-01", 1, 30), ("2026-03-02", 0, 20)] {
            daily.insert(
                d(day),
                DailyRow {
                    total_order_items: Some(orders),
                    negative_feedback_received: Some(neg),
                    ..DailyRow::default()
                },
            );
        }
        assert_eq!(feedback_sums(&daily, w), None);
        daily.insert(d("2026-03-03"), DailyRow::default());
        let s = feedback_sums(&daily, w).unwrap();
        assert_eq!((s.negative, s.orders), (1, 50));
        assert_eq!(s.rate_pct(), Some(2.0));
    }

    #[test]
    fn days_of_cover_is_unknown_without_sales() {
        assert_eq!(days_of_cover(30, Some(2.0)), Some(15.0));
        assert_eq!(days_of_cover(0, Some(2.0)), Some(0.0));
        assert_eq!(days_of_cover(30, Some(0.0)), None);
        assert_eq!(days_of_cover(0, None), None);
    }
}
