//! Link 3, operating leverage: advertising efficiency (ACoS, TACoS, reliance
//! on ads, CPC, wasted spend), stock (cover and turnover) and margin.
//!
//! Rules on attributed sales or purchases (acos_band, tacos, ad_reliance,
//! wasted_spend) read matured windows that end `attribution_days + 1` days
//! before the evaluation date; spend, clicks and CPC are final the day after
//! and use the plain "last N days".

use serde_json::Value;

use super::metrics::{
    acos_pct, ad_share_pct, ads_cover, below, cpc, daily_units, days_of_cover, margin, tacos_pct,
    total_sales,
};
use super::snapshot::{AdSums, AdsData};
use super::{
    above, at_least, change_pct, ev, n, opt, orders_too_short, sorted_keys, Eval, Subject, Window,
};
use crate::config::rules::{
    AcosBand, AdReliance, CpcTrend, InventoryTurnover, MarginFloor, StockoutRisk, Tacos,
    WastedSpend,
};
use crate::config::{Effective, NoData, RuleId, RuleSettings};

/// The Ads data if it covers `w`; otherwise records no data and returns None.
fn ads_for<'a>(e: &mut Eval<'a>, rule: RuleId, no_data: NoData, w: Window) -> Option<&'a AdsData> {
    let snap = e.snap;
    let subject = e.market();
    match &snap.ads {
        None => {
            e.missing(
                rule,
                no_data,
                subject,
                "no Ads profile has been synced for this marketplace",
            );
            None
        }
        Some(ads) if !ads_cover(ads, w) => {
            e.missing(
                rule,
                no_data,
                subject,
                format!(
                    "Ads data covers {}…{}, the window is {}…{} (attribution not matured yet, or a young install)",
                    ads.first_day.map(|d| d.to_string()).unwrap_or("-".into()),
                    ads.last_day.map(|d| d.to_string()).unwrap_or("-".into()),
                    w.start,
                    w.end
                ),
            );
            None
        }
        Some(ads) => Some(ads),
    }
}

/// ACoS outside the band, per campaign (with enough spend) and per marketplace.
pub(crate) fn acos_band(e: &mut Eval) {
    let (rule, base) = e.rule::<AcosBand>();
    let bw = e.matured(base.window_days);
    let Some(ads) = ads_for(e, rule, base.no_data, bw) else {
        return;
    };
    let mut all = AdSums::default();
    let check_first = "Look at the campaign's search terms: cut bids on terms that spend without \
                       selling, move converting terms to exact match, and check the product's \
                       price and reviews (a low conversion rate inflates ACoS).";
    for c in &ads.campaigns {
        let subject = e.market().campaign(c.campaign_id);
        let s = e.settings(rule, base, &subject);
        let w = e.matured(s.window_days);
        let sums = AdSums::of(&c.days, w.start, w.end);
        if w == bw {
            all.add(&sums);
        }
        if !s.enabled || sums.cost < s.min_spend {
            continue;
        }
        let acos = acos_pct(&sums);
        let outside = match acos {
            None => sums.cost > 0.0,
            Some(a) => !at_least(a, s.min_percent) || above(a, s.max_percent),
        };
        if !outside {
            continue;
        }
        let threshold = if acos.is_some_and(|a| a < s.min_percent) {
            s.min_percent
        } else {
            s.max_percent
        };
        e.fire(rule, s.severity, subject)
            .measured(acos, Some(threshold), Some(w))
            .evidence(ev![
                ("cost", n(sums.cost)),
                ("attributed_sales", n(sums.sales)),
                ("clicks", n(sums.clicks as f64)),
                ("purchases", n(sums.purchases as f64)),
                ("ad_product", c.ad_product.clone().into()),
                ("campaign_name", c.name.clone().into()),
                ("band_min_pct", n(s.min_percent)),
                ("band_max_pct", n(s.max_percent)),
            ])
            .says(
                match acos {
                    Some(a) => format!(
                        "ACoS {a:.1}% over the matured {} days is outside {}–{}%",
                        s.window_days, s.min_percent, s.max_percent
                    ),
                    None => format!(
                        "spent {:.2} over the matured {} days with no attributed sales",
                        sums.cost, s.window_days
                    ),
                },
                check_first,
            );
    }
    if base.per_marketplace && all.cost > 0.0 {
        let acos = acos_pct(&all);
        let outside = match acos {
            None => true,
            Some(a) => !at_least(a, base.min_percent) || above(a, base.max_percent),
        };
        if outside {
            let subject = e.market();
            e.fire(rule, base.severity, subject)
                .measured(
                    acos,
                    Some(if acos.is_some_and(|a| a < base.min_percent) {
                        base.min_percent
                    } else {
                        base.max_percent
                    }),
                    Some(bw),
                )
                .evidence(ev![
                    ("cost", n(all.cost)),
                    ("attributed_sales", n(all.sales)),
                    ("campaigns", n(ads.campaigns.len() as f64)),
                ])
                .says(
                    format!(
                        "marketplace ACoS {} over the matured {} days is outside {}–{}%",
                        acos.map(|a| format!("{a:.1}%")).unwrap_or("∞".into()),
                        base.window_days,
                        base.min_percent,
                        base.max_percent
                    ),
                    check_first,
                );
        }
    }
}

/// What tacos and ad_reliance judge: the campaigns' Ads sums against total
/// sales over the matured window `w`.
struct AdsVsSales {
    w: Window,
    ads: AdSums,
    sales: f64,
    source: &'static str,
}

impl AdsVsSales {
    /// Evidence: the ad figure `name` and the total sales it is set against.
    fn evidence(&self, name: &str, value: f64) -> Vec<(String, Value)> {
        ev![
            (name, n(value)),
            ("total_sales", n(self.sales)),
            ("sales_source", self.source.into()),
        ]
    }
}

/// Shared by tacos and ad_reliance: the marketplace subject, the rule's
/// settings and the figures over the matured window of `window_days` of
/// them; `None` when the rule is disabled for the marketplace, or the data
/// is missing (recorded as no data).
fn ads_vs_sales<'a, T: RuleSettings>(
    e: &mut Eval<'a>,
    rule: RuleId,
    base: &'a T,
    window_days: impl Fn(&T) -> u32,
) -> Option<(Subject, Effective<'a, T>, AdsVsSales)> {
    let (subject, s) = e.market_settings(rule, base)?;
    let no_data = s.common().no_data;
    let w = e.matured(window_days(&s));
    let ads = ads_for(e, rule, no_data, w)?;
    let mut sums = AdSums::default();
    for c in &ads.campaigns {
        sums.add(&AdSums::of(&c.days, w.start, w.end));
    }
    let Some((sales, source)) = total_sales(e.snap, w) else {
        e.missing_market(
            rule,
            no_data,
            format!("total sales for {}…{} are not synced", w.start, w.end),
        );
        return None;
    };
    let m = AdsVsSales {
        w,
        ads: sums,
        sales,
        source,
    };
    Some((subject, s, m))
}

/// Total ad spend (SP + SB + SD) over total sales.
pub(crate) fn tacos(e: &mut Eval) {
    let (rule, base) = e.rule::<Tacos>();
    let Some((subject, s, m)) = ads_vs_sales(e, rule, base, |s| s.window_days) else {
        return;
    };
    if m.ads.cost <= 0.0 {
        return;
    }
    let tacos = tacos_pct(m.ads.cost, m.sales);
    if tacos.is_some_and(|t| !above(t, s.max_percent)) {
        return;
    }
    e.fire(rule, s.severity, subject)
        .measured(tacos, Some(s.max_percent), Some(m.w))
        .evidence(m.evidence("ad_spend", m.ads.cost))
        .says(
            format!(
                "ad spend is {} of total sales over the matured {} days (limit {}%)",
                tacos.map(|t| format!("{t:.1}%")).unwrap_or("∞".into()),
                s.window_days,
                s.max_percent
            ),
            "Find the campaigns with the most spend per sale and trim their bids; work on organic \
             rank (reviews, conversion) so sales stop depending on paid clicks.",
        );
}

/// Ad-attributed sales as a share of total sales.
pub(crate) fn ad_reliance(e: &mut Eval) {
    let (rule, base) = e.rule::<AdReliance>();
    let Some((subject, s, m)) = ads_vs_sales(e, rule, base, |s| s.window_days) else {
        return;
    };
    let Some(share) = ad_share_pct(m.ads.sales, m.sales) else {
        return;
    };
    if !above(share, s.max_percent) {
        return;
    }
    e.fire(rule, s.severity, subject)
        .measured(Some(share), Some(s.max_percent), Some(m.w))
        .evidence(m.evidence("attributed_sales", m.ads.sales))
        .says(
            format!(
                "ads brought {share:.0}% of sales over the matured {} days (limit {}%): organic \
                 search is not carrying the listing",
                s.window_days, s.max_percent
            ),
            "Compare organic and sponsored rank for the main keywords (Search Query Performance); \
             invest in the listing (images, reviews, price) rather than more bids.",
        );
}

/// Cost per click of the last window well above the prior one (SP).
pub(crate) fn cpc_trend(e: &mut Eval) {
    let (rule, base) = e.rule::<CpcTrend>();
    let bw = Window::last(e.at, base.window_days);
    let span = Window {
        start: bw.before().start,
        end: bw.end,
    };
    let Some(ads) = ads_for(e, rule, base.no_data, span) else {
        return;
    };
    for c in ads.campaigns.iter().filter(|c| c.ad_product == "SP") {
        let subject = e.market().campaign(c.campaign_id);
        let Some(s) = e.enabled(rule, base, &subject) else {
            continue;
        };
        let w = Window::last(e.at, s.window_days);
        let p = w.before();
        let now = AdSums::of(&c.days, w.start, w.end);
        let before = AdSums::of(&c.days, p.start, p.end);
        if now.clicks < s.min_clicks as i64 {
            continue;
        }
        let (Some(a), Some(b)) = (cpc(&now), cpc(&before)) else {
            continue;
        };
        let Some(rise) = change_pct(a, b) else {
            continue;
        };
        if !at_least(rise, s.max_rise_percent) {
            continue;
        }
        e.fire(rule, s.severity, subject)
            .measured(Some(rise), Some(s.max_rise_percent), Some(w))
            .evidence(ev![
                ("cpc", n(a)),
                ("prior_cpc", n(b)),
                ("clicks", n(now.clicks as f64)),
                ("prior_clicks", n(before.clicks as f64)),
                ("cost", n(now.cost)),
                ("campaign_name", c.name.clone().into()),
            ])
            .says(
                format!(
                    "cost per click up {rise:.0}% ({b:.2} → {a:.2}) over {} days",
                    s.window_days
                ),
                "Check bid changes and placement multipliers, and whether competitors are bidding \
                 on your keywords; lower bids where the ACoS no longer pays.",
            );
    }
}

/// Search terms with many clicks and no purchases over matured days.
pub(crate) fn wasted_spend(e: &mut Eval) {
    let (rule, base) = e.rule::<WastedSpend>();
    let bw = e.matured(base.window_days);
    let Some(ads) = ads_for(e, rule, base.no_data, bw) else {
        return;
    };
    for t in &ads.search_terms {
        let subject = e
            .market()
            .campaign(t.campaign_id)
            .search_term(&t.search_term);
        let Some(s) = e.enabled(rule, base, &subject) else {
            continue;
        };
        let w = e.matured(s.window_days);
        let sums = AdSums::of(&t.days, w.start, w.end);
        if sums.clicks < s.min_clicks as i64 || sums.purchases > s.max_purchases as i64 {
            continue;
        }
        e.fire(rule, s.severity, subject)
            .measured(Some(sums.clicks as f64), Some(s.min_clicks as f64), Some(w))
            .evidence(ev![
                ("clicks", n(sums.clicks as f64)),
                ("purchases", n(sums.purchases as f64)),
                ("cost", n(sums.cost)),
                ("impressions", n(sums.impressions as f64)),
            ])
            .says(
                format!(
                    "\"{}\" took {} clicks ({:.2} spent) and {} purchases over the matured {} days",
                    t.search_term, sums.clicks, sums.cost, sums.purchases, s.window_days
                ),
                "Add the term as a negative keyword (exact) in this campaign, or lower the bid of \
                 the keyword that matches it.",
            );
    }
}

/// Days of cover below lead time plus safety; out of stock now is critical.
pub(crate) fn stockout_risk(e: &mut Eval) {
    let (rule, base) = e.rule::<StockoutRisk>();
    let Some(inv) = &e.snap.inventory else {
        e.missing_market(rule, base.no_data, "no inventory has been synced");
        return;
    };
    for (sku, subject, s) in e.subjects(rule, base, sorted_keys(inv), |m, k| m.sku(k)) {
        let st = &inv[sku];
        let w = Window::last(e.at, s.velocity_days);
        let velocity = e.snap.orders.as_ref().and_then(|o| daily_units(o, sku, w));
        let need = (s.lead_time_days + s.safety_days) as f64;
        let cover = days_of_cover(st.available + st.inbound, velocity);
        let out_now = st.available <= 0;
        if velocity.is_none() && !out_now {
            e.missing(
                rule,
                s.no_data,
                subject,
                format!("{}: sales velocity unknown", orders_too_short(w)),
            );
            continue;
        }
        let low = cover.is_some_and(|c| below(c, need));
        if !(out_now || low) {
            continue;
        }
        let severity = if out_now {
            s.out_of_stock_severity.max(s.severity)
        } else {
            s.severity
        };
        e.fire(rule, severity, subject)
            .measured(
                // Days of cover, unknown without sales (as the days_of_supply
                // KPI): out of stock with no sales is not "0 days".
                cover,
                Some(need),
                Some(w),
            )
            .evidence(ev![
                ("available", n(st.available as f64)),
                ("inbound", n(st.inbound as f64)),
                ("daily_units", opt(velocity)),
                ("days_of_cover", opt(cover)),
                ("lead_time_days", n(s.lead_time_days)),
                ("safety_days", n(s.safety_days)),
                ("stockout_days", n(st.stockout_days)),
                ("stockout_lookback_days", n(s.stockout_lookback_days)),
                ("channel", st.channel.clone().into()),
            ])
            .says(
                if out_now {
                    format!(
                        "out of stock now ({} inbound); out of stock on {} of the last {} days",
                        st.inbound, st.stockout_days, s.stockout_lookback_days
                    )
                } else {
                    format!(
                        "{:.0} days of cover left, less than lead time + safety ({need:.0} days)",
                        cover.unwrap_or(0.0)
                    )
                },
                "Send a replenishment shipment now (and check the inbound one's status); a \
                 stockout destroys the traffic history the listing built.",
            );
    }
}

/// Days of supply too long, or aged units.
pub(crate) fn inventory_turnover(e: &mut Eval) {
    let (rule, base) = e.rule::<InventoryTurnover>();
    let Some(plan) = &e.snap.planning else {
        e.missing_market(
            rule,
            base.no_data,
            "no inventory planning report has been synced",
        );
        return;
    };
    for (sku, subject, s) in e.subjects(rule, base, sorted_keys(plan), |m, k| m.sku(k)) {
        let row = &plan[sku];
        let aged = row.aged_units(s.aged_days);
        let long = row
            .days_of_supply
            .is_some_and(|d| above(d, s.max_days_of_supply as f64));
        if !(long || aged > s.max_aged_units as i64) {
            continue;
        }
        e.fire(rule, s.severity, subject)
            .measured(row.days_of_supply, Some(s.max_days_of_supply as f64), None)
            .evidence(ev![
                ("days_of_supply", opt(row.days_of_supply)),
                ("available", opt(row.available.map(|x| x as f64))),
                (
                    "units_shipped_t30",
                    opt(row.units_shipped_t30.map(|x| x as f64))
                ),
                ("aged_units", n(aged as f64)),
                ("aged_days", n(s.aged_days)),
                ("recommended_action", row.recommended_action.clone().into()),
                (
                    "snapshot_date",
                    row.snapshot_date.map(|d| d.to_string()).into()
                ),
            ])
            .says(
                if long {
                    format!(
                        "{:.0} days of supply (limit {}){}",
                        row.days_of_supply.unwrap_or(0.0),
                        s.max_days_of_supply,
                        if aged > 0 {
                            format!("; {aged} units older than {} days", s.aged_days)
                        } else {
                            String::new()
                        }
                    )
                } else {
                    format!("{aged} units older than {} days", s.aged_days)
                },
                "Slow the next shipments, and move aged units (promotion, outlet deal, removal) \
                 before long-term storage fees start.",
            );
    }
}

/// Contribution margin per unit below the floor.
pub(crate) fn margin_floor(e: &mut Eval) {
    let (rule, base) = e.rule::<MarginFloor>();
    let (Some(costs), Some(orders)) = (&e.snap.costs, &e.snap.orders) else {
        let why = if e.snap.costs.is_none() {
            "no costs_file is configured"
        } else {
            "orders have never been synced"
        };
        e.missing_market(rule, base.no_data, why);
        return;
    };
    for (sku, subject, s) in e.subjects(rule, base, sorted_keys(costs), |m, k| m.sku(k)) {
        let cost = costs[sku];
        let w = Window::last(e.at, s.window_days);
        if orders.first_day.is_none_or(|f| f > w.start) {
            e.missing(rule, s.no_data, subject, orders_too_short(w));
            continue;
        }
        let fees = e.snap.fees.get(sku.as_str()).and_then(|f| f.total_fees);
        let at_fees = |fees: f64| margin(e.snap, sku, cost, fees, w);
        if at_fees(0.0).is_none() {
            continue; // no sales: no price to judge
        }
        let Some(m) = fees.and_then(at_fees) else {
            e.missing(rule, s.no_data, subject, "no fee estimate for this SKU");
            continue;
        };
        let fees = fees.unwrap_or(0.0);
        let (price, ad_per_unit, margin, margin_pct, units) =
            (m.price, m.ad_per_unit, m.margin, m.margin_pct, m.units);
        if at_least(margin_pct, s.min_percent) {
            continue;
        }
        e.fire(rule, s.severity, subject)
            .measured(Some(margin_pct), Some(s.min_percent), Some(w))
            .evidence(ev![
                ("price", n(price)),
                ("unit_cost", n(cost.unit_cost)),
                ("inbound_freight", n(cost.inbound_freight)),
                ("amazon_fees", n(fees)),
                ("ad_spend_per_unit", n(ad_per_unit)),
                ("margin_per_unit", n(margin)),
                ("units", n(units as f64)),
            ])
            .says(
                format!(
                    "contribution margin {margin:.2} per unit is {margin_pct:.1}% of the \
                     {price:.2} price (floor {}%): priced too low to fund ads",
                    s.min_percent
                ),
                "Raise the price or cut the unit cost; if the ads are what eats the margin, lower \
                 their bids first.",
            );
    }
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::*;
    use super::super::testutil::*;
    use super::super::{Status, Window};
    use crate::config::{RuleId, Severity};
    use chrono::{Duration, NaiveDate};

    fn day(date: NaiveDate, clicks: i64, cost: f64, purchases: i64, sales: f64) -> AdDay {
        AdDay {
            date,
            impressions: clicks * 100,
            clicks,
            cost,
            purchases: Some(purchases),
            sales: Some(sales),
        }
    }

    /// Ads data with one campaign whose every day in `first..=last` has the
    /// same figures.
    fn ads(first: NaiveDate, last: NaiveDate, clicks: i64, cost: f64, sales: f64) -> AdsData {
        let days: Vec<AdDay> = (0..=(last - first).num_days())
            .map(|k| day(first + Duration::days(k), clicks, cost, 1, sales))
            .collect();
        AdsData {
            first_day: Some(first),
            last_day: Some(last),
            currency: Some("USD".into()),
            campaigns: vec![CampaignDays {
                campaign_id: 7,
                ad_product: "SP".into(),
                name: Some("c7".into()),
                days,
                top_of_search_share: vec![],
            }],
            search_terms: vec![],
            products: vec![],
        }
    }

    #[test]
    fn acos_band_table() {
        let at = d("2026-03-22");
        let (first, last) = (d("2026-01-01"), d("2026-03-21"));
        // Per day: 10 spend; sales decide the ACoS. 14 days → 140 spend.
        let cases = [
            ("exactly 25%", 40.0, false),
            ("25.1%", 39.84, true),
            ("exactly 18%", 10.0 / 0.18, false),
            ("17.9%", 10.0 / 0.179, true),
            ("no sales at all (zero denominator)", 0.0, true),
        ];
        for (case, sales, fires) in cases {
            let mut s = snap(at);
            s.ads = Some(ads(first, last, 10, 10.0, sales));
            let f = only(&run(&cfg(), &s, at), RuleId::AcosBand);
            let camp = f
                .iter()
                .any(|f| f.subject.campaign_id.as_deref() == Some("7"));
            assert_eq!(camp, fires, "{case}: {f:?}");
        }
        // Under the minimum spend: no campaign finding.
        let mut s = snap(at);
        s.ads = Some(ads(first, last, 1, 3.0, 1.0));
        let f = only(&run(&cfg(), &s, at), RuleId::AcosBand);
        assert!(!f.iter().any(|f| f.subject.campaign_id.is_some()), "{f:?}");
        assert!(
            f.iter().any(|f| f.subject.campaign_id.is_none()),
            "marketplace band"
        );
        // Attribution not matured: data ends before the matured window does.
        let mut s = snap(at);
        s.ads = Some(ads(d("2026-03-10"), last, 10, 10.0, 10.0));
        let f = only(&run(&cfg(), &s, at), RuleId::AcosBand);
        assert_eq!(f[0].status, Status::NoData);
        // The matured window is days −21 … −8 (attribution 7): bad days after it are ignored.
        let mut s = snap(at);
        let mut a = ads(first, last, 10, 10.0, 45.0);
        for dday in a.campaigns[0]
            .days
            .iter_mut()
            .filter(|x| x.date > d("2026-03-14"))
        {
            dday.sales = Some(0.0);
        }
        s.ads = Some(a);
        assert!(only(&run(&cfg(), &s, at), RuleId::AcosBand).is_empty());
        // Override for the campaign.
        let mut s = snap(at);
        s.ads = Some(ads(first, last, 10, 10.0, 20.0));
        let mut c = cfg();
        c.overrides
            .push(over_campaign("acos_band", "7", "max_percent = 60.0"));
        c.rules.acos_band.per_marketplace = false;
        assert!(only(&run(&c, &s, at), RuleId::AcosBand).is_empty());
    }

    #[test]
    fn tacos_and_ad_reliance_table() {
        let at = d("2026-03-22");
        let w = Window::matured(at, 14, 7);
        // (case, ad spend per day, attributed sales per day, total sales per day, tacos, reliance)
        let cases = [
            ("at the limits", 12.0, 50.0, 100.0, false, false),
            ("just over", 12.1, 50.1, 100.0, true, true),
            ("no sales (zero denominator)", 1.0, 0.0, 0.0, true, false),
        ];
        for (case, cost, attributed, total, tacos, reliance) in cases {
            let mut s = snap(at);
            s.ads = Some(ads(d("2026-01-01"), d("2026-03-21"), 10, cost, attributed));
            for k in 0..w.days() as i64 {
                s.daily.insert(
                    w.start + Duration::days(k),
                    DailyRow {
                        ordered_product_sales: Some(total),
                        ..DailyRow::default()
                    },
                );
            }
            let f = run(&cfg(), &s, at);
            assert_eq!(firing(&only(&f, RuleId::Tacos)), tacos, "{case} tacos");
            assert_eq!(
                firing(&only(&f, RuleId::AdReliance)),
                reliance,
                "{case} reliance"
            );
        }
        // Total sales missing for a day of the window: no data.
        let mut s = snap(at);
        s.ads = Some(ads(d("2026-01-01"), d("2026-03-21"), 10, 1.0, 1.0));
        let f = only(&run(&cfg(), &s, at), RuleId::Tacos);
        assert_eq!(f[0].status, Status::NoData);
    }

    #[test]
    fn cpc_trend_table() {
        let at = d("2026-03-29");
        let (w, p) = (Window::last(at, 14), Window::prior(at, 14));
        let camp = |cpc_now: f64, clicks: i64| {
            let mut a = ads(p.start, w.end, clicks, 10.0, 40.0);
            for x in a.campaigns[0]
                .days
                .iter_mut()
                .filter(|x| w.contains(x.date))
            {
                x.cost = cpc_now * clicks as f64;
            }
            a
        };
        // The prior CPC is 10 / clicks per day.
        let cases = [
            ("up exactly 25%", camp(1.25, 10), true),
            ("up 24%", camp(1.24, 10), false),
            (
                "under min clicks (3/day = 42)",
                camp(10.0 / 3.0 * 2.0, 3),
                false,
            ),
        ];
        for (case, a, fires) in cases {
            let mut s = snap(at);
            s.ads = Some(a);
            let f = only(&run(&cfg(), &s, at), RuleId::CpcTrend);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
        let mut s = snap(at);
        s.ads = Some(ads(w.start, w.end, 10, 10.0, 40.0));
        assert_eq!(
            only(&run(&cfg(), &s, at), RuleId::CpcTrend)[0].status,
            Status::NoData
        );
    }

    #[test]
    fn wasted_spend_table() {
        let at = d("2026-03-31");
        let w = Window::matured(at, 30, 7);
        let term = |clicks: i64, purchases: i64, last_day_only: bool| {
            let mut a = ads(d("2026-01-01"), d("2026-03-30"), 10, 10.0, 40.0);
            let date = if last_day_only {
                at - Duration::days(1)
            } else {
                w.end
            };
            a.search_terms.push(SearchTermDays {
                campaign_id: 7,
                search_term: "free bottle".into(),
                days: vec![day(date, clicks, clicks as f64, purchases, 0.0)],
            });
            a
        };
        let cases = [
            ("exactly 15 clicks, 0 purchases", term(15, 0, false), true),
            ("14 clicks", term(14, 0, false), false),
            ("one purchase", term(40, 1, false), false),
            ("clicks not yet matured", term(40, 0, true), false),
        ];
        for (case, a, fires) in cases {
            let mut s = snap(at);
            s.ads = Some(a);
            let f = only(&run(&cfg(), &s, at), RuleId::WastedSpend);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
    }

    fn stock(available: i64, inbound: i64) -> StockRow {
        StockRow {
            observed_at: chrono::Utc::now(),
            channel: "FBA".into(),
            available,
            inbound,
            stockout_days: 0,
            observed_days: 30,
        }
    }

    fn orders(at: NaiveDate, sku: &str, units_per_day: i64, price: f64) -> OrderDays {
        let mut o = OrderDays {
            first_day: Some(at - Duration::days(90)),
            ..OrderDays::default()
        };
        let m = o.by_sku.entry(sku.into()).or_default();
        for k in 1..=60 {
            m.insert(
                at - Duration::days(k),
                OrderDay {
                    units: units_per_day,
                    sales: units_per_day as f64 * price,
                },
            );
        }
        o
    }

    #[test]
    fn stockout_risk_table() {
        let at = d("2026-03-31");
        // 10 units a day; need 37 days = 370 units.
        let cases = [
            ("exactly 37 days", stock(300, 70), 10, None),
            ("36.9 days", stock(300, 69), 10, Some(Severity::Warning)),
            (
                "out of stock now",
                stock(0, 500),
                10,
                Some(Severity::Critical),
            ),
            ("no sales, in stock (zero velocity)", stock(5, 0), 0, None),
        ];
        for (case, st, per_day, want) in cases {
            let mut s = snap(at);
            s.inventory = Some([("S1".to_string(), st)].into_iter().collect());
            s.orders = Some(orders(at, "S1", per_day, 10.0));
            let f = only(&run(&cfg(), &s, at), RuleId::StockoutRisk);
            assert_eq!(f.first().map(|f| f.severity), want, "{case}: {f:?}");
        }
        // Days of cover is the value; out of stock without sales it is
        // unknown (as the days_of_supply KPI), not 0 days.
        for (st, per_day, value) in [
            (stock(300, 69), 10, Some(36.9)),
            (stock(0, 500), 10, Some(50.0)),
            (stock(0, 0), 0, None),
        ] {
            let mut s = snap(at);
            s.inventory = Some([("S1".to_string(), st)].into_iter().collect());
            s.orders = Some(orders(at, "S1", per_day, 10.0));
            let f = only(&run(&cfg(), &s, at), RuleId::StockoutRisk);
            assert_eq!(
                f[0].value.map(|v| (v * 10.0).round() / 10.0),
                value,
                "{f:?}"
            );
            assert_eq!(f[0].threshold, Some(37.0));
        }
        // Young install: orders do not reach back 14 days.
        let mut s = snap(at);
        s.inventory = Some([("S1".to_string(), stock(100, 0))].into_iter().collect());
        let mut o = orders(at, "S1", 10, 10.0);
        o.first_day = Some(at - Duration::days(3));
        s.orders = Some(o);
        assert_eq!(
            only(&run(&cfg(), &s, at), RuleId::StockoutRisk)[0].status,
            Status::NoData
        );
        // Per-SKU lead time override.
        let mut s = snap(at);
        s.inventory = Some([("S1".to_string(), stock(300, 0))].into_iter().collect());
        s.orders = Some(orders(at, "S1", 10, 10.0));
        let mut c = cfg();
        c.overrides.push(over(
            "stockout_risk",
            None,
            Some("S1"),
            "lead_time_days = 21",
        ));
        assert!(only(&run(&c, &s, at), RuleId::StockoutRisk).is_empty());
    }

    #[test]
    fn inventory_turnover_table() {
        let at = d("2026-03-31");
        let p = |dos: f64, aged: i64| PlanningRow {
            days_of_supply: Some(dos),
            inv_age_91_to_180_days: Some(aged),
            ..PlanningRow::default()
        };
        let cases = [
            ("exactly 45 days", p(45.0, 0), false),
            ("45.1 days", p(45.1, 0), true),
            ("aged units", p(10.0, 3), true),
            (
                "no days of supply (no sales)",
                PlanningRow::default(),
                false,
            ),
        ];
        for (case, row, fires) in cases {
            let mut s = snap(at);
            s.planning = Some([("S1".to_string(), row)].into_iter().collect());
            assert_eq!(
                firing(&only(&run(&cfg(), &s, at), RuleId::InventoryTurnover)),
                fires,
                "{case}"
            );
        }
        assert_eq!(
            only(&run(&cfg(), &snap(at), at), RuleId::InventoryTurnover)[0].status,
            Status::NoData
        );
    }

    #[test]
    fn margin_floor_table() {
        let at = d("2026-03-31");
        // Price 10, fees 2: cost + freight decide the margin.
        let cases = [("exactly 10%", 6.5, 0.5, false), ("9.9%", 6.51, 0.5, true)];
        for (case, unit_cost, freight, fires) in cases {
            let mut s = snap(at);
            s.orders = Some(orders(at, "S1", 5, 10.0));
            s.costs = Some(
                [(
                    "S1".to_string(),
                    CostRow {
                        unit_cost,
                        inbound_freight: freight,
                    },
                )]
                .into_iter()
                .collect(),
            );
            s.fees.insert(
                "S1".into(),
                FeeRow {
                    price: 10.0,
                    total_fees: Some(2.0),
                    referral_fee: Some(1.5),
                    fba_fee: Some(0.5),
                },
            );
            let f = only(&run(&cfg(), &s, at), RuleId::MarginFloor);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
        // No sales in the window (zero denominator): nothing to judge.
        let mut s = snap(at);
        s.orders = Some(orders(at, "S1", 0, 10.0));
        s.costs = Some(
            [(
                "S1".to_string(),
                CostRow {
                    unit_cost: 9.0,
                    inbound_freight: 0.0,
                },
            )]
            .into_iter()
            .collect(),
        );
        assert!(only(&run(&cfg(), &s, at), RuleId::MarginFloor).is_empty());
        // No costs file: no data.
        assert_eq!(
            only(&run(&cfg(), &snap(at), at), RuleId::MarginFloor)[0].status,
            Status::NoData
        );
    }
}
