//! The truth: every KPI of DESIGN §2.3 per subject as of a date, computed from the generated
//! data under DESIGN §2.1, plus the findings the scenario expects (its `[[expect]]`, which for
//! `random_breaks` scenarios includes the breaks the generator planted).
//!
//! "As of DATE" means as the API would serve it at the start of DATE in the marketplace time
//! zone: windows are the N complete days ending the day before DATE; ads windows end
//! `attribution_days + 1` days before DATE and read conversions as observed at that moment;
//! ratios are ratios of sums; missing data is `null`, never 0.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::world::{AsinDay, World, Worlds};

/// What `flywheel sim truth` prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TruthReport {
    pub at: NaiveDate,
    pub kpis: Vec<Kpi>,
    pub findings: Vec<ExpectedFinding>,
}

/// One KPI value for one subject (DESIGN §2.3 record shape).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Kpi {
    pub kpi: &'static str,
    pub account: String,
    pub marketplace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_term: Option<String>,
    /// The level; null when there is no data.
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<f64>,
}

/// An expected warning or critical finding.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedFinding {
    pub rule: String,
    pub account: String,
    pub marketplace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_term: Option<String>,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// a / b × 100, None when b is 0.
fn pct(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| round4(a / b * 100.0))
}

/// Change of `now` against `before`, percent; None without a base.
fn change(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    match (now, before) {
        (Some(n), Some(b)) if b > 0.0 => Some(round4((n - b) / b * 100.0)),
        _ => None,
    }
}

/// Sums over the days of `days` whose date lies in `start..=end`.
struct Sums {
    days: usize,
    sessions: f64,
    units: f64,
    items: f64,
    page_views: f64,
    bb_weighted: f64,
    shipped: f64,
}

fn sums(days: &[AsinDay], start: NaiveDate, end: NaiveDate) -> Sums {
    let mut s = Sums {
        days: 0,
        sessions: 0.0,
        units: 0.0,
        items: 0.0,
        page_views: 0.0,
        bb_weighted: 0.0,
        shipped: 0.0,
    };
    for d in days.iter().filter(|d| d.date >= start && d.date <= end) {
        s.days += 1;
        s.sessions += d.sessions as f64;
        s.units += d.units_ordered as f64;
        s.items += d.total_order_items as f64;
        s.page_views += d.page_views as f64;
        s.bb_weighted += d.buy_box_pct * d.page_views as f64;
        s.shipped += d.units_shipped as f64;
    }
    s
}

impl Sums {
    /// Present in a per-ASIN window report (the report omits ASINs without orders).
    fn reported(&self) -> bool {
        self.items > 0.0
    }
    fn buy_box(&self) -> Option<f64> {
        (self.page_views > 0.0).then(|| round4(self.bb_weighted / self.page_views))
    }
}

/// The truth as of `at` (the start of that day in the marketplace time zone).
pub fn truth(world: &World, at: NaiveDate) -> TruthReport {
    let sc = world.scenario();
    let account = sc.seller.account.clone();
    let marketplace = sc.seller.marketplace_id.clone();
    let now = world.day_start(at);
    let day = |n: i64| at - Duration::days(n);
    let kpi = |kpi: &'static str, value: Option<f64>| Kpi {
        kpi,
        account: account.clone(),
        marketplace: marketplace.clone(),
        asin: None,
        sku: None,
        campaign_id: None,
        search_term: None,
        value,
        label: None,
        change_pct: None,
    };
    let mut kpis = Vec::new();

    // --- marketplace sales & traffic (the account's daily series) ---
    let daily = world.daily_totals(day(30), day(1), now);
    let in_range =
        |s: NaiveDate, e: NaiveDate| daily.iter().filter(move |d| d.date >= s && d.date <= e);
    let sum = |s: NaiveDate, e: NaiveDate, f: fn(&crate::world::DailyTotals) -> f64| {
        in_range(s, e).map(f).sum::<f64>()
    };
    let has = |s: NaiveDate, e: NaiveDate| in_range(s, e).next().is_some();
    let conv = has(day(14), day(1))
        .then(|| {
            pct(
                sum(day(14), day(1), |d| d.units_ordered as f64),
                sum(day(14), day(1), |d| d.sessions as f64),
            )
        })
        .flatten();
    kpis.push(kpi("conversion_rate", conv));
    let s7 = has(day(7), day(1)).then(|| sum(day(7), day(1), |d| d.sessions as f64));
    let p7 = has(day(14), day(8)).then(|| sum(day(14), day(8), |d| d.sessions as f64));
    kpis.push(Kpi {
        change_pct: change(s7, p7),
        ..kpi("sessions", s7)
    });
    let pv = sum(day(7), day(1), |d| d.page_views as f64);
    let bb = (pv > 0.0)
        .then(|| round4(sum(day(7), day(1), |d| d.buy_box_pct * d.page_views as f64) / pv));
    kpis.push(kpi("buy_box_pct", bb));

    // --- per ASIN / SKU ---
    let mut asin_kpis = Vec::new();
    let mut sku_kpis = Vec::new();
    let mut shipped_all = 0.0;
    let mut stockout_skus = 0u32;
    let returns = world.returns(day(30), day(1), now);
    let returned = |sku: &str| {
        returns
            .iter()
            .filter(|r| r.sku == sku)
            .map(|r| r.quantity as f64)
            .sum::<f64>()
    };
    for p in &sc.products {
        let days = world.asin_days(&p.sku, day(30), day(1), now);
        let a = |kpi: &'static str, value: Option<f64>| Kpi {
            asin: Some(p.asin.clone()),
            ..Kpi {
                kpi,
                ..kpi_base(&account, &marketplace, value)
            }
        };
        let w14 = sums(&days, day(14), day(1));
        let w7 = sums(&days, day(7), day(1));
        let p7 = sums(&days, day(14), day(8));
        let w30 = sums(&days, day(30), day(1));
        asin_kpis.push(a(
            "conversion_rate",
            w14.reported()
                .then(|| pct(w14.units, w14.sessions))
                .flatten(),
        ));
        let sv = w7.reported().then_some(w7.sessions);
        let pvv = p7.reported().then_some(p7.sessions);
        asin_kpis.push(Kpi {
            change_pct: change(sv, pvv),
            ..a("sessions", sv)
        });
        asin_kpis.push(a(
            "buy_box_pct",
            w7.reported().then(|| w7.buy_box()).flatten(),
        ));
        let bsr = world.median_rank(&p.asin, day(7), day(1));
        let bsr_prior = world.median_rank(&p.asin, day(14), day(8));
        asin_kpis.push(Kpi {
            change_pct: change(bsr, bsr_prior),
            ..a("bsr", bsr)
        });

        let s = |kpi: &'static str, value: Option<f64>| Kpi {
            sku: Some(p.sku.clone()),
            ..Kpi {
                kpi,
                ..kpi_base(&account, &marketplace, value)
            }
        };
        shipped_all += w30.shipped;
        sku_kpis.push(s("return_rate", pct(returned(&p.sku), w30.shipped)));
        if let Some(inv) = world.inventory(&p.sku, now) {
            let stock = (inv.available() + inv.inbound()) as f64;
            let daily_units = w14.units / 14.0;
            let dos = (daily_units > 0.0).then(|| round4(stock / daily_units));
            sku_kpis.push(s("days_of_supply", dos));
            let need = (p.lead_time_days + sc.safety_days) as f64;
            if inv.available() <= 0 || dos.is_some_and(|d| d < need) {
                stockout_skus += 1;
            }
        }
    }
    kpis.extend(asin_kpis);

    // --- ads (matured window) ---
    let attr = sc.attribution_days;
    let a_end = day(attr as i64 + 1);
    let a_start = a_end - Duration::days(13);
    let mut cost_all = 0.0;
    let mut sales_all = 0.0;
    let mut camp_kpis = Vec::new();
    for c in &sc.campaigns {
        let rows = world.campaign_days(c.id, a_start, a_end, now);
        let cost: f64 = rows.iter().map(|r| r.cost).sum();
        let sales: f64 = rows.iter().map(|r| r.attributed_sales(attr)).sum();
        cost_all += cost;
        sales_all += sales;
        camp_kpis.push(Kpi {
            campaign_id: Some(c.id.to_string()),
            ..kpi("acos", pct(cost, sales))
        });
    }
    if !sc.campaigns.is_empty() {
        kpis.push(kpi("acos", pct(cost_all, sales_all)));
    }
    kpis.extend(camp_kpis);
    let total_sales: f64 = world
        .daily_totals(a_start, a_end, now)
        .iter()
        .map(|d| d.ordered_product_sales)
        .sum();
    kpis.push(kpi(
        "tacos",
        if sc.campaigns.is_empty() {
            None
        } else {
            pct(cost_all, total_sales)
        },
    ));

    // --- returns, feedback, inventory, account health ---
    kpis.push(kpi(
        "return_rate",
        pct(returns.iter().map(|r| r.quantity as f64).sum(), shipped_all),
    ));
    kpis.extend(sku_kpis);
    let breaches = world
        .seller_feedback(day(90), at, now)
        .iter()
        .filter(|f| f.response.is_empty() && world.day_start(f.date) + Duration::hours(24) <= now)
        .count();
    kpis.push(kpi("feedback_sla_breaches", Some(breaches as f64)));
    let orders = sum(day(30), day(1), |d| d.orders as f64);
    let negative = sum(day(30), day(1), |d| d.negative_feedback_received as f64);
    kpis.push(kpi(
        "negative_feedback_rate",
        has(day(30), day(1))
            .then(|| pct(negative, orders))
            .flatten(),
    ));
    kpis.push(kpi("stockout_risk_skus", Some(stockout_skus as f64)));
    // The account's defects over its orders, as the KPI adds up the
    // report's two channels; not the world's rate, which is rounded to
    // four places (26 defects in 850 orders is 0.3059%, not 0.31%).
    let health = world.account_health(now);
    let odr = if health.odr_orders == 0 {
        health.odr
    } else {
        health.odr_defects as f64 / health.odr_orders as f64
    };
    kpis.push(Kpi {
        label: Some(health.status.clone()),
        ..kpi("account_health", Some(round4(odr * 100.0)))
    });

    let mut findings: Vec<ExpectedFinding> = sc
        .expect
        .iter()
        .map(|x| ExpectedFinding {
            rule: x.rule.clone(),
            account: account.clone(),
            marketplace: marketplace.clone(),
            asin: x.asin.clone(),
            sku: x.sku.clone(),
            campaign_id: x.campaign_id.map(|c| c.to_string()),
            search_term: x.search_term.clone(),
        })
        .collect();
    findings.sort();
    findings.dedup();
    TruthReport { at, kpis, findings }
}

/// The truth of every market of a seller as of `at`: each market's KPIs and findings (each
/// record names its marketplace), markets in scenario order. `at` is a calendar date; each
/// market reads it in its own time zone. For one market this is [`truth`].
pub fn truth_of(worlds: &Worlds, at: NaiveDate) -> TruthReport {
    let mut report = TruthReport {
        at,
        kpis: Vec::new(),
        findings: Vec::new(),
    };
    for world in worlds.iter() {
        let one = truth(world, at);
        report.kpis.extend(one.kpis);
        report.findings.extend(one.findings);
    }
    report
}

fn kpi_base(account: &str, marketplace: &str, value: Option<f64>) -> Kpi {
    Kpi {
        kpi: "",
        account: account.to_string(),
        marketplace: marketplace.to_string(),
        asin: None,
        sku: None,
        campaign_id: None,
        search_term: None,
        value,
        label: None,
        change_pct: None,
    }
}

#[cfg(test)]
mod tests {
    //! The demo's hand-written `[[expect]]` is checked against a small reference evaluation of
    //! DESIGN §2.2's rules (defaults) on the generated data, for several seeds and start dates,
    //! so a planted break that does not show, or a side effect nobody wrote down, fails here.
    use super::*;
    use crate::scenario::{AdProduct, Scenario};
    use std::collections::BTreeSet;

    fn scenario(name: &str) -> Scenario {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios")
            .join(name);
        Scenario::from_path(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    type Key = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );

    fn key(
        rule: &str,
        asin: Option<&str>,
        sku: Option<&str>,
        campaign: Option<i64>,
        term: Option<&str>,
    ) -> Key {
        (
            rule.into(),
            asin.map(Into::into),
            sku.map(Into::into),
            campaign.map(|c| c.to_string()),
            term.map(Into::into),
        )
    }

    /// The warning/critical findings DESIGN §2.2's defaults give on `at`.
    pub(crate) fn reference_findings(w: &World, at: NaiveDate) -> BTreeSet<Key> {
        let sc = w.scenario();
        let now = w.day_start(at);
        let day = |n: i64| at - Duration::days(n);
        let mut out = BTreeSet::new();
        let daily = w.daily_totals(day(30), day(1), now);
        let dsum = |s: NaiveDate, e: NaiveDate, f: fn(&crate::world::DailyTotals) -> f64| {
            daily
                .iter()
                .filter(|d| d.date >= s && d.date <= e)
                .map(f)
                .sum::<f64>()
        };
        // Marketplace rules.
        let sla = w
            .seller_feedback(day(90), at, now)
            .iter()
            .any(|f| f.response.is_empty() && w.day_start(f.date) + Duration::hours(24) <= now);
        if sla {
            out.insert(key("feedback_response_sla", None, None, None, None));
        }
        let neg = dsum(day(30), day(1), |d| d.negative_feedback_received as f64);
        let orders = dsum(day(30), day(1), |d| d.orders as f64);
        if orders > 0.0 && neg / orders > 0.02 {
            out.insert(key("feedback_rate", None, None, None, None));
        }
        let h = w.account_health(now);
        if h.status != "NORMAL"
            || h.odr >= 0.01
            || h.late_shipment_rate >= 0.04
            || h.cancel_rate >= 0.025
            || h.valid_tracking_rate < 0.95
        {
            out.insert(key("account_health", None, None, None, None));
        }
        // Ads (matured windows).
        let attr = sc.attribution_days;
        let a_end = day(attr as i64 + 1);
        let a_start = a_end - Duration::days(13);
        let (mut cost, mut sales) = (0.0, 0.0);
        for c in &sc.campaigns {
            let rows = w.campaign_days(c.id, a_start, a_end, now);
            let cc: f64 = rows.iter().map(|r| r.cost).sum();
            let ss: f64 = rows.iter().map(|r| r.attributed_sales(attr)).sum();
            cost += cc;
            sales += ss;
            if cc >= 10.0 && (ss == 0.0 || !(0.18..=0.25).contains(&(cc / ss))) {
                out.insert(key("acos_band", None, None, Some(c.id), None));
            }
            if c.kind == AdProduct::SP {
                let last = w.campaign_days(c.id, day(14), day(1), now);
                let prior = w.campaign_days(c.id, day(28), day(15), now);
                let cpc = |v: &[crate::world::CampaignDay]| {
                    let k: u64 = v.iter().map(|r| r.clicks).sum();
                    (k > 0).then(|| v.iter().map(|r| r.cost).sum::<f64>() / k as f64)
                };
                if let (Some(a), Some(b)) = (cpc(&last), cpc(&prior)) {
                    if a >= b * 1.25 {
                        out.insert(key("cpc_trend", None, None, Some(c.id), None));
                    }
                }
            }
        }
        if !sc.campaigns.is_empty() && sales > 0.0 && !(0.18..=0.25).contains(&(cost / sales)) {
            out.insert(key("acos_band", None, None, None, None));
        }
        let total_sales: f64 = w
            .daily_totals(a_start, a_end, now)
            .iter()
            .map(|d| d.ordered_product_sales)
            .sum();
        if total_sales > 0.0 && cost / total_sales > 0.12 {
            out.insert(key("tacos", None, None, None, None));
        }
        if total_sales > 0.0 && sales / total_sales > 0.5 {
            out.insert(key("ad_reliance", None, None, None, None));
        }
        let mut terms: std::collections::BTreeMap<(i64, String), (u64, u64)> = Default::default();
        for r in w.search_term_days(a_end - Duration::days(29), a_end, now) {
            let e = terms
                .entry((r.campaign_id, r.search_term.clone()))
                .or_default();
            e.0 += r.clicks;
            e.1 += if attr == 7 {
                r.purchases7d
            } else {
                r.purchases14d
            };
        }
        for ((c, t), (clicks, buys)) in terms {
            if clicks >= 15 && buys == 0 {
                out.insert(key("wasted_spend", None, None, Some(c), Some(&t)));
            }
        }
        // Per ASIN / SKU.
        let returns = w.returns(day(30), day(1), now);
        let planning = w.planning(at);
        let ratings = w.ratings(at);
        let advertised = w.advertised_product_days(day(30), day(1), now);
        for p in &sc.products {
            let days = w.asin_days(&p.sku, day(60), day(1), now);
            let s = |a: i64, b: i64| sums(&days, day(a), day(b));
            let (l14, p14, l7, p7, l30, p30) =
                (s(14, 1), s(28, 15), s(7, 1), s(14, 8), s(30, 1), s(60, 31));
            let asin = Some(p.asin.as_str());
            if l14.reported() && l14.sessions >= 100.0 {
                let c = l14.units / l14.sessions;
                let down =
                    p14.reported() && p14.sessions > 0.0 && c <= 0.8 * (p14.units / p14.sessions);
                if c < 0.12 || down {
                    out.insert(key("conversion_rate", asin, None, None, None));
                }
            }
            if l7.reported() && p7.reported() && l7.sessions <= 0.75 * p7.sessions {
                out.insert(key("traffic_trend", asin, None, None, None));
            }
            if l7.reported() && l7.buy_box().is_some_and(|b| b < 90.0) {
                out.insert(key("buy_box", asin, None, None, None));
            }
            if let (Some(a), Some(b)) = (
                w.median_rank(&p.asin, day(7), day(1)),
                w.median_rank(&p.asin, day(14), day(8)),
            ) {
                if a >= b * 1.3 {
                    out.insert(key("bsr_trend", asin, None, None, None));
                }
            }
            if l30.reported() && p30.reported() && l30.units <= p30.units {
                out.insert(key("growth_stall", asin, None, None, None));
            }
            let ret: f64 = returns
                .iter()
                .filter(|r| r.sku == p.sku)
                .map(|r| r.quantity as f64)
                .sum();
            if l30.shipped >= 20.0 && ret / l30.shipped > 0.03 {
                out.insert(key("return_rate", None, Some(&p.sku), None, None));
            }
            let listing = w.listing(&p.sku, now).unwrap();
            if !listing.status.iter().any(|s| s == "BUYABLE")
                || listing.suppressed
                || listing.issues.iter().any(|i| i.severity == "ERROR")
            {
                out.insert(key("listing_health", None, Some(&p.sku), None, None));
            }
            let inv = w.inventory(&p.sku, now).unwrap();
            let rate = l14.units / 14.0;
            let cover = (inv.available() + inv.inbound()) as f64 / rate;
            if inv.available() <= 0
                || (rate > 0.0 && cover < (p.lead_time_days + sc.safety_days) as f64)
            {
                out.insert(key("stockout_risk", None, Some(&p.sku), None, None));
            }
            if let Some(row) = planning.iter().find(|r| r.sku == p.sku) {
                let aged = row.inv_age_91_to_180_days
                    + row.inv_age_181_to_270_days
                    + row.inv_age_271_to_365_days
                    + row.inv_age_365_plus_days;
                if row.days_of_supply.is_some_and(|d| d > 45.0) || aged > 0 {
                    out.insert(key("inventory_turnover", None, Some(&p.sku), None, None));
                }
            }
            // Margin over the last 30 days: price − COGS − freight − fees − ad spend per unit.
            if l30.units > 0.0 {
                let price = days
                    .iter()
                    .filter(|d| d.date >= day(30))
                    .map(|d| d.ordered_product_sales)
                    .sum::<f64>()
                    / l30.units;
                let fee = w.fee_estimate(&p.sku, Some(price), now).unwrap();
                let ad: f64 = advertised
                    .iter()
                    .filter(|r| r.advertised_sku == p.sku)
                    .map(|r| r.cost)
                    .sum::<f64>()
                    + sc.campaigns
                        .iter()
                        .filter(|c| c.kind != AdProduct::SP && c.skus.contains(&p.sku))
                        .map(|c| {
                            w.campaign_days(c.id, day(30), day(1), now)
                                .iter()
                                .map(|r| r.cost)
                                .sum::<f64>()
                                / c.skus.len() as f64
                        })
                        .sum::<f64>();
                let margin = price - p.cogs - p.inbound_freight - fee.total - ad / l30.units;
                if margin < 0.1 * price {
                    out.insert(key("margin_floor", None, Some(&p.sku), None, None));
                }
            }
            // Review topics.
            if let Some(topics) = w.review_topics(&p.asin, now) {
                let trends = w.review_trends(&p.asin, now).unwrap();
                for t in topics.iter().filter(|t| t.sentiment == "negative") {
                    let hist: Vec<f64> = trends
                        .iter()
                        .filter(|x| x.topic == t.topic)
                        .map(|x| x.occurrence_pct)
                        .collect();
                    let rose =
                        hist.len() >= 4 && hist[hist.len() - 1] - hist[hist.len() - 4] >= 5.0;
                    let vs_node = t
                        .browse_node_occurrence_pct
                        .is_some_and(|n| t.occurrence_pct >= 2.0 * n);
                    if rose || vs_node {
                        out.insert(key("review_topics", asin, None, None, None));
                    }
                }
            }
            let mine: Vec<_> = ratings.iter().filter(|r| r.asin == p.asin).collect();
            if let Some(last) = mine.last() {
                let month_ago = mine
                    .iter()
                    .find(|r| r.date >= last.date - Duration::days(30));
                if last.rating < 4.5 || month_ago.is_some_and(|m| m.rating - last.rating >= 0.2) {
                    out.insert(key("rating_floor", asin, None, None, None));
                }
            }
            // Keyword share: the last complete week against the one before.
            let last_sat = at - Duration::days(at.weekday().num_days_from_sunday() as i64 + 1);
            let week = w.search_query_week(&p.asin, last_sat - Duration::days(6), now);
            let prior = w.search_query_week(&p.asin, last_sat - Duration::days(13), now);
            for q in week.iter().take(5) {
                if let Some(b) = prior.iter().find(|x| x.search_query == q.search_query) {
                    if q.asin_impression_share <= 0.7 * b.asin_impression_share
                        || q.asin_click_share <= 0.7 * b.asin_click_share
                    {
                        out.insert(key(
                            "keyword_share",
                            asin,
                            None,
                            None,
                            Some(&q.search_query),
                        ));
                    }
                }
            }
        }
        out
    }

    use chrono::Datelike;

    fn expected(w: &World, at: NaiveDate) -> BTreeSet<Key> {
        truth(w, at)
            .findings
            .into_iter()
            .map(|f| (f.rule, f.asin, f.sku, f.campaign_id, f.search_term))
            .collect()
    }

    #[test]
    fn demo_expectations_match_the_data() {
        let mut fails = Vec::new();
        for seed in [100u64, 107, 134] {
            let day0: NaiveDate = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
                + Duration::days((seed * 37 % 300) as i64);
            let w = World::new(scenario("demo.toml"), seed, day0);
            let want = expected(&w, day0);
            let got = reference_findings(&w, day0);
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            if !(missing.is_empty() && extra.is_empty()) {
                fails.push(format!(
                    "seed {seed} day0 {day0}: missing {missing:?}; extra {extra:?}"
                ));
            }
        }
        assert!(fails.is_empty(), "{}", fails.join("\n"));
    }
}

#[cfg(test)]
mod random_tests {
    use super::tests::reference_findings;
    use super::*;
    use crate::scenario::Scenario;
    use std::collections::BTreeSet;

    #[test]
    fn random_planted_breaks_match_the_data_and_differ_by_seed() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/random.toml");
        let sc = Scenario::from_path(&p).unwrap();
        let day0: NaiveDate = "2026-03-04".parse().unwrap();
        let mut sets = Vec::new();
        for seed in [1u64, 20] {
            let w = World::new(sc.clone(), seed, day0);
            let want: BTreeSet<_> = truth(&w, day0)
                .findings
                .into_iter()
                .map(|f| (f.rule, f.asin, f.sku, f.campaign_id, f.search_term))
                .collect();
            let got = reference_findings(&w, day0);
            assert!(want.len() >= 8, "seed {seed}: {want:?}");
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            assert!(missing.is_empty() && extra.is_empty(), "seed {seed}: planted but not in the data {missing:?}; in the data but not expected {extra:?}");
            sets.push(want);
        }
        assert_ne!(sets[0], sets[1]);
    }
}
