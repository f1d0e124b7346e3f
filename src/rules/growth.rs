//! Link 2, sales growth: conversion, traffic, buy box, Best Sellers Rank,
//! keyword share, and the growth stall with DESIGN §1's diagnosis.
//!
//! The per-ASIN sales & traffic reports omit ASINs without orders, so an
//! ASIN absent from a synced window sold nothing there and its sessions are
//! unknown: the rules report no data for it, never 0%.
//!
//! Over 1,000 lines, and whole on purpose: a quarter of it is the rules'
//! case tables, and the growth stall's diagnosis reads the very windows,
//! pricing evidence and search query weeks the other five rules read, so
//! splitting it off would only move those helpers into a module of their own.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::Value;

use super::metrics::{
    at_least, below, buy_box_pct, conversion_pct, drop_pct, median_rank, query_share_pct,
    return_sums, sessions, window_units,
};
use super::snapshot::{AdSums, AsinWindow};
use super::{change_pct, ev, n, opt, sorted_keys, Check, Diagnosis, Eval, Status, Subject, Window};
use crate::config::rules::{
    BsrTrend, BuyBox, ConversionRate, GrowthStall, KeywordShare, TrafficTrend,
};
use crate::config::{Effective, NoData, RuleId, RuleSettings};

/// An ASIN → its row in one synced sales & traffic window.
type AsinWindows = HashMap<String, AsinWindow>;

/// The synced per-ASIN window `w`; otherwise records, for `subject`, that
/// it has not been synced.
fn window_or_missing<'a>(
    e: &mut Eval<'a>,
    rule: RuleId,
    no_data: NoData,
    subject: &Subject,
    w: Window,
) -> Option<&'a AsinWindows> {
    let snap = e.snap;
    let m = snap.window(w.start, w.end);
    if m.is_none() {
        let why = format!(
            "the sales & traffic window {}…{} has not been synced",
            w.start, w.end
        );
        e.missing(rule, no_data, subject.clone(), why);
    }
    m
}

/// Why a metric of an ASIN absent from the synced window `w` is unknown.
fn no_orders(w: Window, what: &str) -> String {
    format!("no orders {}…{}: {what} unknown", w.start, w.end)
}

/// Each enabled ASIN with its subject, the rule's settings, and its row of
/// the synced window of the last `days(settings)` days with that window;
/// the other ASINs get a no-data finding saying why their `what` is unknown
/// (window not synced, or no orders in it).
fn asin_rows<'a, T: RuleSettings>(
    e: &mut Eval<'a>,
    rule: RuleId,
    base: &'a T,
    days: impl Fn(&T) -> u32,
    what: &str,
) -> Vec<(String, Subject, Effective<'a, T>, Window, &'a AsinWindow)> {
    let mut rows = Vec::new();
    for (asin, subject, s) in e.subjects(rule, base, e.snap.asins(), |m, a| m.asin(a)) {
        let w = Window::last(e.at, days(&s));
        let no_data = s.common().no_data;
        let Some(win) = window_or_missing(e, rule, no_data, &subject, w) else {
            continue;
        };
        match win.get(&asin) {
            Some(row) => rows.push((asin, subject, s, w, row)),
            None => e.missing(rule, no_data, subject, no_orders(w, what)),
        }
    }
    rows
}

/// The synced windows of the last `days` days and the `days` before, with
/// the last one; otherwise records that they are not both synced.
fn last_and_prior<'a>(
    e: &mut Eval<'a>,
    rule: RuleId,
    no_data: NoData,
    subject: &Subject,
    days: u32,
) -> Option<(Window, &'a AsinWindows, &'a AsinWindows)> {
    let w = Window::last(e.at, days);
    let p = w.before();
    let snap = e.snap;
    let (Some(last), Some(prior)) = (snap.window(w.start, w.end), snap.window(p.start, p.end))
    else {
        let why = format!("sales & traffic windows {}…{} not synced", p.start, w.end);
        e.missing(rule, no_data, subject.clone(), why);
        return None;
    };
    Some((w, last, prior))
}

/// Unit session percentage low, or down against the prior window.
pub(crate) fn conversion_rate(e: &mut Eval) {
    let (rule, base) = e.rule::<ConversionRate>();
    for (asin, subject, s, w, row) in asin_rows(e, rule, base, |s| s.window_days, "sessions") {
        let sessions = row.sessions.unwrap_or(0);
        if sessions < s.min_sessions as i64 {
            continue;
        }
        let Some(c) = conversion_pct(row) else {
            continue;
        };
        let p = w.before();
        let prior = e
            .snap
            .window(p.start, p.end)
            .and_then(|m| m.get(&asin))
            .and_then(conversion_pct);
        let drop = prior.and_then(|b| drop_pct(c, b));
        let low = below(c, s.min_percent);
        let fell = drop.is_some_and(|x| at_least(x, s.max_drop_percent));
        if !(low || fell) {
            continue;
        }
        let why = if low {
            format!("{c:.1}% is below {}%", s.min_percent)
        } else {
            format!(
                "{c:.1}% is down {:.0}% from {:.1}%",
                drop.unwrap_or(0.0),
                prior.unwrap_or(0.0)
            )
        };
        e.fire(rule, s.severity, subject)
            .measured(
                Some(c),
                // In the value's unit (a conversion rate), as the chart draws
                // it: the floor, or the rate the drop limit puts the floor at.
                Some(match prior {
                    Some(b) if !low => b * (1.0 - s.max_drop_percent / 100.0),
                    _ => s.min_percent,
                }),
                Some(w),
            )
            .evidence(ev![
                ("sessions", n(sessions as f64)),
                ("units_ordered", n(row.units_ordered.unwrap_or(0) as f64)),
                ("prior_conversion_pct", opt(prior)),
                ("drop_pct", opt(drop)),
            ])
            .says(
                format!("conversion over {} days: {why}", s.window_days),
                "Check price competitiveness (buy box, featured offer vs lowest price), the \
                 newest reviews, and the main image and video.",
            );
    }
}

/// Sessions of the last window well below the prior one.
pub(crate) fn traffic_trend(e: &mut Eval) {
    let (rule, base) = e.rule::<TrafficTrend>();
    for (asin, subject, s) in e.subjects(rule, base, e.snap.asins(), |m, a| m.asin(a)) {
        let Some((w, last, prior)) = last_and_prior(e, rule, s.no_data, &subject, s.window_days)
        else {
            continue;
        };
        let Some(before) = prior.get(&asin).and_then(sessions) else {
            continue; // no orders in the prior window: nothing to fall from
        };
        if before < s.min_sessions as f64 {
            continue;
        }
        let Some(now) = last.get(&asin).and_then(sessions) else {
            e.missing(rule, s.no_data, subject, no_orders(w, "sessions"));
            continue;
        };
        let drop = drop_pct(now, before).unwrap_or(0.0);
        if !at_least(drop, s.max_drop_percent) {
            continue;
        }
        e.fire(rule, s.severity, subject)
            .measured(Some(drop), Some(s.max_drop_percent), Some(w))
            .evidence(ev![("sessions", n(now)), ("prior_sessions", n(before))])
            .says(
                format!(
                    "sessions down {drop:.0}% ({before} → {now}) over {} days",
                    s.window_days
                ),
                "Check CPC bids and budgets of the ASIN's campaigns, its keyword rank, and \
                 whether a competitor or a category change took the traffic.",
            );
    }
}

/// Pricing evidence for the buy box and the diagnosis.
fn price_evidence(e: &Eval, asin: &str) -> Vec<(String, Value)> {
    match e.snap.pricing.get(asin) {
        None => vec![],
        Some(p) => ev![
            ("featured_offer_price", opt(p.featured_offer_price)),
            ("featured_offer_is_ours", p.is_featured_offer_ours.into()),
            ("our_price", opt(p.our_price)),
            ("lowest_new_fba_price", opt(p.lowest_new_fba_price)),
            ("lowest_new_fbm_price", opt(p.lowest_new_fbm_price)),
            ("offer_count", opt(p.offer_count.map(|x| x as f64))),
        ],
    }
}

/// Page-view weighted buy box percentage below the floor.
pub(crate) fn buy_box(e: &mut Eval) {
    let (rule, base) = e.rule::<BuyBox>();
    for (asin, subject, s, w, row) in asin_rows(e, rule, base, |s| s.window_days, "buy box") {
        let Some(bb) = buy_box_pct(row) else {
            continue;
        };
        let pv = row.page_views.unwrap_or(0);
        if pv < s.min_page_views as i64 || at_least(bb, s.min_percent) {
            continue;
        }
        let mut evidence = ev![("page_views", n(pv as f64)), ("buy_box_pct", n(bb))];
        evidence.extend(price_evidence(e, &asin));
        let price_note = e
            .snap
            .pricing
            .get(&asin)
            .and_then(|p| match (p.our_price, p.featured_offer_price) {
                (Some(o), Some(f)) if o > f + 0.005 => Some(format!(
                    "; our price {o:.2} is above the featured offer's {f:.2}"
                )),
                _ => None,
            })
            .unwrap_or_default();
        e.fire(rule, s.severity, subject)
            .measured(Some(bb), Some(s.min_percent), Some(w))
            .evidence(evidence)
            .says(
                format!(
                    "buy box {bb:.1}% over {} days (floor {}%){price_note}",
                    s.window_days, s.min_percent
                ),
                "Compare your landed price with the featured offer and the lowest FBA offer; \
                 check stock and shipping speed, which the buy box also weighs.",
            );
    }
}

/// Median main display-group rank of the last window well worse than prior.
pub(crate) fn bsr_trend(e: &mut Eval) {
    let (rule, base) = e.rule::<BsrTrend>();
    let mut asins = e.snap.asins();
    asins.extend(e.snap.ranks.keys().cloned());
    asins.sort();
    asins.dedup();
    for asin in asins {
        let subject = e.market().asin(&asin);
        let Some(s) = e.enabled(rule, base, &subject) else {
            continue;
        };
        let rows = e.snap.ranks.get(&asin).map(|v| v.as_slice()).unwrap_or(&[]);
        let w = Window::last(e.at, s.window_days);
        let p = w.before();
        let (now, k_now) = median_rank(rows, w);
        let (before, k_before) = median_rank(rows, p);
        let (Some(now), Some(before)) = (now, before) else {
            e.missing(
                rule,
                s.no_data,
                subject,
                format!("ranked on {k_now} of the last and {k_before} of the prior days"),
            );
            continue;
        };
        if k_now < s.min_days_observed || k_before < s.min_days_observed {
            e.missing(
                rule,
                s.no_data,
                subject,
                format!(
                    "ranked on {k_now} of the last and {k_before} of the prior {} days (need {})",
                    s.window_days, s.min_days_observed
                ),
            );
            continue;
        }
        let worse = change_pct(now, before).unwrap_or(0.0);
        if !at_least(worse, s.max_worsening_percent) {
            continue;
        }
        let latest = rows.iter().rev().find(|r| r.rank.is_some());
        e.fire(rule, s.severity, subject)
            .measured(Some(worse), Some(s.max_worsening_percent), Some(w))
            .evidence(ev![
                ("median_rank", n(now)),
                ("prior_median_rank", n(before)),
                ("days_ranked", n(k_now)),
                ("prior_days_ranked", n(k_before)),
                (
                    "display_group",
                    latest.and_then(|r| r.display_group.clone()).into()
                ),
                (
                    "classification_rank",
                    opt(latest.and_then(|r| r.classification_rank.map(|x| x as f64)))
                ),
                (
                    "classification",
                    latest.and_then(|r| r.classification_title.clone()).into()
                ),
            ])
            .says(
                format!(
                "Best Sellers Rank {worse:.0}% worse: median {before:.0} → {now:.0} over {} days",
                s.window_days
            ),
                "Rank follows units: check what cut sales (stock, traffic, conversion) and \
                 whether competitors moved in the category.",
            );
    }
}

/// The last complete SQP week (ending before `at`) and the week before it.
fn sqp_weeks(
    rows: &[super::snapshot::QueryWeek],
    at: chrono::NaiveDate,
) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let last = rows
        .iter()
        .filter(|r| r.week_end < at)
        .map(|r| r.week_start)
        .max()?;
    Some((last, last - Duration::days(7)))
}

/// Impression or click share of a tracked query down week over week.
pub(crate) fn keyword_share(e: &mut Eval) {
    let (rule, base) = e.rule::<KeywordShare>();
    for (asin, subject, s) in e.subjects(rule, base, sorted_keys(&e.snap.search_queries), |m, a| {
        m.asin(a)
    }) {
        let rows = &e.snap.search_queries[asin];
        let Some((last, prior)) = sqp_weeks(rows, e.at) else {
            e.missing(rule, s.no_data, subject, "no complete search query week");
            continue;
        };
        let week = |start: chrono::NaiveDate| rows.iter().filter(move |r| r.week_start == start);
        let mut tracked: Vec<&super::snapshot::QueryWeek> = if s.queries.is_empty() {
            let mut v: Vec<_> = week(last).collect();
            v.sort_by(|a, b| {
                b.volume
                    .unwrap_or(0)
                    .cmp(&a.volume.unwrap_or(0))
                    .then(a.query.cmp(&b.query))
            });
            v.truncate(s.top_queries as usize);
            v
        } else {
            week(last)
                .filter(|r| s.queries.contains(&r.query))
                .collect()
        };
        tracked.sort_by(|a, b| a.query.cmp(&b.query));
        if week(prior).next().is_none() {
            e.missing(
                rule,
                s.no_data,
                subject,
                format!("no search query data for the week of {prior}"),
            );
            continue;
        }
        for q in tracked {
            let Some(b) = week(prior).find(|r| r.query == q.query) else {
                continue; // not ranked the week before: nothing to fall from
            };
            let drop =
                |clicks: bool| drop_pct(query_share_pct(q, clicks)?, query_share_pct(b, clicks)?);
            let (imp, clk) = (drop(false), drop(true));
            let worst = match (imp, clk) {
                (Some(a), Some(c)) => Some(a.max(c)),
                (a, c) => a.or(c),
            };
            let Some(worst) = worst else { continue };
            if !at_least(worst, s.max_drop_percent) {
                continue;
            }
            let subject = e.market().asin(asin).search_term(&q.query);
            e.fire(rule, s.severity, subject)
                .measured(
                    Some(worst),
                    Some(s.max_drop_percent),
                    Some(Window {
                        start: q.week_start,
                        end: q.week_end,
                    }),
                )
                .evidence(ev![
                    ("impression_share", opt(q.impression_share)),
                    ("prior_impression_share", opt(b.impression_share)),
                    ("impression_share_drop_pct", opt(imp)),
                    ("click_share", opt(q.click_share)),
                    ("prior_click_share", opt(b.click_share)),
                    ("click_share_drop_pct", opt(clk)),
                    ("query_volume", opt(q.volume.map(|v| v as f64))),
                ])
                .says(
                    format!("share of \"{}\" down {worst:.0}% week over week", q.query),
                    "Check the keyword's bid and placement in your campaigns, and whether a \
                     competitor's price or new listing took the clicks.",
                );
        }
    }
}

/// Units of the last window at or below the prior one, with the diagnosis.
pub(crate) fn growth_stall(e: &mut Eval) {
    let (rule, base) = e.rule::<GrowthStall>();
    // A young install without the windows: one marketplace-level no-data
    // finding instead of one per ASIN.
    let w = Window::last(e.at, base.window_days);
    let market = e.market();
    if window_or_missing(e, rule, base.no_data, &market, w).is_none()
        || window_or_missing(e, rule, base.no_data, &market, w.before()).is_none()
    {
        return;
    }
    // Subjects (ASIN or SKU) → the rules firing for them, for the diagnosis.
    let mut firing: HashMap<String, Vec<RuleId>> = HashMap::new();
    for f in e.out.iter().filter(|f| f.status == Status::Firing) {
        for k in [&f.subject.asin, &f.subject.sku].into_iter().flatten() {
            firing.entry(k.clone()).or_default().push(f.rule);
        }
    }
    for (asin, subject, s) in e.subjects(rule, base, e.snap.asins(), |m, a| m.asin(a)) {
        let Some((w, last, prior)) = last_and_prior(e, rule, s.no_data, &subject, s.window_days)
        else {
            continue;
        };
        // Absent from a synced window = no orders there: 0 units (known).
        let units = window_units(last.get(&asin));
        let before = window_units(prior.get(&asin));
        let l = last.get(&asin).copied().unwrap_or_default();
        let b = prior.get(&asin).copied().unwrap_or_default();
        if before < s.min_units as i64 || units > before {
            continue;
        }
        let diagnosis = diagnose(e, &firing, &asin, &l, &b, w);
        let change = change_pct(units as f64, before as f64).unwrap_or(0.0);
        let mut first = Vec::new();
        if diagnosis.conversion_fell == Some(true) {
            first.push(
                "conversion fell: check price competitiveness (buy box, featured offer vs lowest \
                 price), review quality, and the main image/video",
            );
        }
        if diagnosis.traffic_fell == Some(true) {
            first
                .push("traffic fell: check CPC bids and category competition (BSR, keyword share)");
        }
        if first.is_empty() {
            first.push("check stock, price, and the campaigns advertising this ASIN");
        }
        let summary = format!(
            "units {units} over the last {} days vs {before} before ({change:+.0}%){}",
            s.window_days,
            if diagnosis.other_rules.is_empty() {
                String::new()
            } else {
                format!("; also firing: {}", diagnosis.other_rules.join(", "))
            }
        );
        let evidence = ev![
            ("units", n(units as f64)),
            ("prior_units", n(before as f64)),
            ("sessions", opt(l.sessions.map(|x| x as f64))),
            ("prior_sessions", opt(b.sessions.map(|x| x as f64))),
            ("conversion_pct", opt(conversion_pct(&l))),
            ("prior_conversion_pct", opt(conversion_pct(&b))),
        ];
        let mut check = first.join("; ");
        if let Some(c) = check.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        e.out.push(super::Finding {
            rule,
            severity: s.severity,
            status: Status::Firing,
            subject,
            value: Some(units as f64),
            threshold: Some(before as f64),
            window: Some(w),
            evidence,
            summary,
            check_first: format!("{check}."),
            diagnosis: Some(diagnosis),
        });
    }
}

/// DESIGN §1's tree filled with the ASIN's own numbers.
fn diagnose(
    e: &Eval,
    firing: &HashMap<String, Vec<RuleId>>,
    asin: &str,
    l: &AsinWindow,
    b: &AsinWindow,
    w: Window,
) -> Diagnosis {
    let mut d = Diagnosis {
        conversion_fell: match (conversion_pct(l), conversion_pct(b)) {
            (Some(x), Some(y)) => Some(x < y),
            _ => None,
        },
        traffic_fell: match (l.sessions, b.sessions) {
            (Some(x), Some(y)) => Some(x < y),
            _ => None,
        },
        ..Diagnosis::default()
    };
    let skus: Vec<&str> = e.skus_of(asin).to_vec();
    // Which other rules already fire for this ASIN or its SKUs.
    let mut other: Vec<String> = std::iter::once(asin)
        .chain(skus.iter().copied())
        .filter_map(|k| firing.get(k))
        .flatten()
        .map(|r| r.as_str().to_string())
        .collect();
    other.sort();
    other.dedup();
    d.other_rules = other;

    // Stock first: a stockout explains a stall whichever branch shows it.
    if let Some(inv) = e.snap.inventory.as_ref() {
        for sku in &skus {
            if let Some(st) = inv.get(*sku) {
                if st.available <= 0 || st.stockout_days > 0 {
                    d.checks.push(Check {
                        check: "stock",
                        detail: format!(
                            "{sku}: {} available, {} inbound, out of stock on {} of the last {} observed days",
                            st.available, st.inbound, st.stockout_days, st.observed_days
                        ),
                        evidence: ev![
                            ("available", n(st.available as f64)),
                            ("inbound", n(st.inbound as f64)),
                            ("stockout_days", n(st.stockout_days)),
                        ],
                    });
                }
            }
        }
    }
    if d.conversion_fell != Some(false) {
        let w7 = Window::last(e.at, 7);
        let bb7 = e
            .snap
            .window(w7.start, w7.end)
            .and_then(|m| m.get(asin))
            .and_then(|r| r.buy_box_pct);
        d.checks.push(Check {
            check: "buy_box",
            detail: match (bb7, l.buy_box_pct) {
                (Some(a), _) => format!("buy box {a:.1}% over the last 7 days"),
                (None, Some(a)) => format!("buy box {a:.1}% over the last 30 days"),
                _ => "buy box unknown".to_string(),
            },
            evidence: ev![
                ("buy_box_pct_7d", opt(bb7)),
                ("buy_box_pct", opt(l.buy_box_pct)),
                ("prior_buy_box_pct", opt(b.buy_box_pct)),
            ],
        });
        let price = price_evidence(e, asin);
        if !price.is_empty() {
            let p = &e.snap.pricing[asin];
            d.checks.push(Check {
                check: "price",
                detail: match (
                    p.featured_offer_price,
                    p.lowest_new_fba_price.or(p.lowest_new_fbm_price),
                ) {
                    (Some(f), Some(lo)) => format!(
                        "featured offer {f:.2}{} vs lowest {lo:.2}",
                        match p.is_featured_offer_ours {
                            Some(true) => " (ours)",
                            Some(false) => " (a competitor's)",
                            None => "",
                        }
                    ),
                    _ => "no competitive price summary".to_string(),
                },
                evidence: price,
            });
        }
        if let Some(topics) = e.snap.review_topics.as_ref().and_then(|m| m.get(asin)) {
            let mut neg: Vec<_> = topics
                .iter()
                .filter(|t| t.sentiment == "negative")
                .collect();
            neg.sort_by(|a, b| {
                b.occurrence_pct
                    .unwrap_or(0.0)
                    .total_cmp(&a.occurrence_pct.unwrap_or(0.0))
            });
            if let Some(t) = neg.first() {
                let rise =
                    (t.trend.len() >= 2).then(|| t.trend[t.trend.len() - 1].1 - t.trend[0].1);
                d.checks.push(Check {
                    check: "review_topics",
                    detail: format!(
                        "top negative topic \"{}\" in {:.1}% of reviews{}",
                        t.topic,
                        t.occurrence_pct.unwrap_or(0.0),
                        rise.map(|r| format!(" ({r:+.1} points over the trend)"))
                            .unwrap_or_default()
                    ),
                    evidence: ev![
                        ("topic", t.topic.clone().into()),
                        ("share_pct", opt(t.occurrence_pct)),
                        ("star_rating_impact", opt(t.star_rating_impact)),
                    ],
                });
            }
        }
        if let (Some(orders), Some(_)) = (&e.snap.orders, &e.snap.returns) {
            let returns: Vec<&super::snapshot::ReturnRow> = skus
                .iter()
                .flat_map(|s| e.returns_of(s).iter().copied())
                .collect();
            let rate = |win: Window| {
                return_sums(orders, returns.iter().copied(), &skus, win).and_then(|r| r.rate_pct())
            };
            let (now, before) = (rate(w), rate(w.before()));
            d.checks.push(Check {
                check: "returns",
                detail: format!(
                    "return rate {} (before {})",
                    now.map(|x| format!("{x:.1}%")).unwrap_or("unknown".into()),
                    before
                        .map(|x| format!("{x:.1}%"))
                        .unwrap_or("unknown".into())
                ),
                evidence: ev![
                    ("return_rate_pct", opt(now)),
                    ("prior_return_rate_pct", opt(before))
                ],
            });
        }
        {
            for l in skus.iter().filter_map(|s| e.listing_by_sku.get(s)) {
                if !l.issues.is_empty() || l.is_suppressed || !l.is_buyable {
                    d.checks.push(Check {
                        check: "listing",
                        detail: format!(
                            "{}: {} issue(s){}{}",
                            l.sku,
                            l.issues.len(),
                            if l.is_suppressed { ", suppressed" } else { "" },
                            if l.is_buyable { "" } else { ", not buyable" }
                        ),
                        evidence: ev![("issues", n(l.issues.len() as f64))],
                    });
                }
            }
        }
    }
    if d.traffic_fell != Some(false) {
        if let Some(ads) = &e.snap.ads {
            let last14 = Window::last(e.at, 14);
            let (mut now, mut before) = (AdSums::default(), AdSums::default());
            let mut campaigns: Vec<i64> = Vec::new();
            for p in ads.products.iter().filter(|p| p.asin == asin) {
                now.add(&AdSums::of(&p.days, last14.start, last14.end));
                let pb = last14.before();
                before.add(&AdSums::of(&p.days, pb.start, pb.end));
                campaigns.push(p.campaign_id);
            }
            campaigns.sort();
            campaigns.dedup();
            if !campaigns.is_empty() {
                let tos: Vec<f64> = ads
                    .campaigns
                    .iter()
                    .filter(|c| campaigns.contains(&c.campaign_id))
                    .flat_map(|c| c.top_of_search_share.iter())
                    .filter(|(d, _)| last14.contains(*d))
                    .map(|(_, v)| *v)
                    .collect();
                let tos = (!tos.is_empty()).then(|| tos.iter().sum::<f64>() / tos.len() as f64);
                d.checks.push(Check {
                    check: "cpc",
                    detail: format!(
                        "CPC {} over the last 14 days (before {}), {} clicks",
                        now.cpc()
                            .map(|x| format!("{x:.2}"))
                            .unwrap_or("unknown".into()),
                        before
                            .cpc()
                            .map(|x| format!("{x:.2}"))
                            .unwrap_or("unknown".into()),
                        now.clicks
                    ),
                    evidence: ev![
                        ("cpc", opt(now.cpc())),
                        ("prior_cpc", opt(before.cpc())),
                        ("clicks", n(now.clicks as f64)),
                        ("impressions", n(now.impressions as f64)),
                        ("prior_impressions", n(before.impressions as f64)),
                        ("top_of_search_impression_share", opt(tos)),
                    ],
                });
            }
        }
        if let Some(rows) = e.snap.ranks.get(asin) {
            let w7 = Window::last(e.at, 7);
            let (a, _) = median_rank(rows, w7);
            let (b, _) = median_rank(rows, w7.before());
            if a.is_some() || b.is_some() {
                d.checks.push(Check {
                    check: "bsr",
                    detail: format!(
                        "median rank {} over the last 7 days (before {})",
                        a.map(|x| format!("{x:.0}")).unwrap_or("unknown".into()),
                        b.map(|x| format!("{x:.0}")).unwrap_or("unknown".into())
                    ),
                    evidence: ev![("median_rank", opt(a)), ("prior_median_rank", opt(b))],
                });
            }
        }
        if let Some(rows) = e.snap.search_queries.get(asin) {
            if let Some((last, prior)) = sqp_weeks(rows, e.at) {
                let mut v: Vec<_> = rows.iter().filter(|r| r.week_start == last).collect();
                v.sort_by_key(|r| std::cmp::Reverse(r.volume.unwrap_or(0)));
                if let Some(q) = v.first() {
                    let pq = rows
                        .iter()
                        .find(|r| r.week_start == prior && r.query == q.query);
                    d.checks.push(Check {
                        check: "keyword_share",
                        detail: format!(
                            "\"{}\": impression share {} (week before {})",
                            q.query,
                            q.impression_share
                                .map(|x| format!("{:.1}%", x * 100.0))
                                .unwrap_or("unknown".into()),
                            pq.and_then(|p| p.impression_share)
                                .map(|x| format!("{:.1}%", x * 100.0))
                                .unwrap_or("unknown".into())
                        ),
                        evidence: ev![
                            ("query", q.query.clone().into()),
                            ("impression_share", opt(q.impression_share)),
                            (
                                "prior_impression_share",
                                opt(pq.and_then(|p| p.impression_share))
                            ),
                            ("click_share", opt(q.click_share)),
                            ("prior_click_share", opt(pq.and_then(|p| p.click_share))),
                        ],
                    });
                }
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::*;
    use super::super::testutil::*;
    use super::super::{Status, Window};
    use crate::config::RuleId;
    use chrono::{Duration, NaiveDate};

    fn row(sessions: i64, units: i64) -> AsinWindow {
        AsinWindow {
            sessions: Some(sessions),
            page_views: Some(sessions * 13 / 10),
            buy_box_pct: Some(98.0),
            units_ordered: Some(units),
            ordered_product_sales: Some(units as f64 * 10.0),
        }
    }

    fn put(s: &mut Snapshot, w: Window, asin: &str, r: Option<AsinWindow>) {
        let m = s.asin_windows.entry((w.start, w.end)).or_default();
        if let Some(r) = r {
            m.insert(asin.to_string(), r);
        }
    }

    fn with_product(at: NaiveDate) -> Snapshot {
        let mut s = snap(at);
        s.products.push(Product {
            sku: "S1".into(),
            asin: Some("B0X".into()),
            channel: Some("FBA".into()),
            title: None,
        });
        s
    }

    #[test]
    fn conversion_rate_table() {
        let at = d("2026-03-02");
        let (w, p) = (Window::last(at, 14), Window::prior(at, 14));
        // (case, last, prior, fires / no data)
        let cases = [
            (
                "exactly 12%",
                Some(row(1000, 120)),
                Some(row(1000, 130)),
                Some(false),
            ),
            (
                "just under 12%",
                Some(row(1000, 119)),
                Some(row(1000, 125)),
                Some(true),
            ),
            (
                "down exactly 20%",
                Some(row(1000, 160)),
                Some(row(1000, 200)),
                Some(true),
            ),
            (
                "down 19%",
                Some(row(1000, 162)),
                Some(row(1000, 200)),
                Some(false),
            ),
            (
                "99 sessions",
                Some(row(99, 1)),
                Some(row(1000, 200)),
                Some(false),
            ),
            ("zero sessions", Some(row(0, 0)), None, Some(false)),
            (
                "absent from the window: unknown, not 0%",
                None,
                Some(row(1000, 200)),
                None,
            ),
        ];
        for (case, last, prior, want) in cases {
            let mut s = with_product(at);
            put(&mut s, w, "B0X", last);
            put(&mut s, p, "B0X", prior);
            let f = only(&run(&cfg(), &s, at), RuleId::ConversionRate);
            check(&f, want, case);
        }
        // The threshold is in the value's unit: the floor when below it,
        // else the rate the drop limit reaches from the prior window's.
        for (last, prior, threshold) in [(119, 125, 12.0), (160, 200, 16.0)] {
            let mut s = with_product(at);
            put(&mut s, w, "B0X", Some(row(1000, last)));
            put(&mut s, p, "B0X", Some(row(1000, prior)));
            let f = only(&run(&cfg(), &s, at), RuleId::ConversionRate);
            assert_eq!(f[0].threshold, Some(threshold), "{f:?}");
            assert_eq!(f[0].value, Some(last as f64 / 10.0));
        }
        // Window not synced yet (young install): no data, never a guess.
        let f = only(&run(&cfg(), &with_product(at), at), RuleId::ConversionRate);
        assert_eq!(f[0].status, Status::NoData);
        // Override: a 10% floor for this ASIN.
        let mut s = with_product(at);
        put(&mut s, w, "B0X", Some(row(1000, 110)));
        let mut c = cfg();
        c.overrides.push(over(
            "conversion_rate",
            Some("B0X"),
            None,
            "min_percent = 10.0",
        ));
        assert!(!firing(&only(&run(&c, &s, at), RuleId::ConversionRate)));
        assert!(firing(&only(&run(&cfg(), &s, at), RuleId::ConversionRate)));
    }

    #[test]
    fn traffic_trend_table() {
        let at = d("2026-03-02");
        let (w, p) = (Window::last(at, 7), Window::prior(at, 7));
        let cases = [
            (
                "down exactly 25%",
                Some(row(750, 10)),
                Some(row(1000, 10)),
                Some(true),
            ),
            (
                "down 24.9%",
                Some(row(751, 10)),
                Some(row(1000, 10)),
                Some(false),
            ),
            (
                "prior below min sessions",
                Some(row(10, 1)),
                Some(row(99, 10)),
                Some(false),
            ),
            ("absent now: unknown", None, Some(row(1000, 10)), None),
        ];
        for (case, last, prior, want) in cases {
            let mut s = with_product(at);
            put(&mut s, w, "B0X", last);
            put(&mut s, p, "B0X", prior);
            let f = only(&run(&cfg(), &s, at), RuleId::TrafficTrend);
            check(&f, want, case);
        }
    }

    #[test]
    fn buy_box_table() {
        let at = d("2026-03-02");
        let w = Window::last(at, 7);
        let bb = |pv: i64, pct: f64| AsinWindow {
            page_views: Some(pv),
            buy_box_pct: Some(pct),
            ..row(100, 10)
        };
        let cases = [
            ("exactly 90%", bb(100, 90.0), false),
            ("89.9%", bb(100, 89.9), true),
            ("49 page views", bb(49, 10.0), false),
            ("zero page views", bb(0, 0.0), false),
        ];
        for (case, r, fires) in cases {
            let mut s = with_product(at);
            put(&mut s, w, "B0X", Some(r));
            let f = only(&run(&cfg(), &s, at), RuleId::BuyBox);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
        let mut s = with_product(at);
        put(&mut s, w, "B0X", Some(bb(100, 85.0)));
        let mut c = cfg();
        c.overrides
            .push(over("buy_box", Some("B0X"), None, "min_percent = 80.0"));
        assert!(!firing(&only(&run(&c, &s, at), RuleId::BuyBox)), "override");
    }

    #[test]
    fn bsr_trend_table() {
        let at = d("2026-03-15");
        let ranks = |last: i64, prior: i64, days_last: i64| -> Vec<RankRow> {
            (1..=14)
                .filter(|k| *k > 7 || *k <= days_last)
                .map(|k| RankRow {
                    date: at - Duration::days(k),
                    rank: Some(if k <= 7 { last } else { prior }),
                    display_group: None,
                    classification_rank: None,
                    classification_title: None,
                })
                .collect()
        };
        let cases = [
            ("exactly 30% worse", ranks(1300, 1000, 7), Some(true)),
            ("29.9% worse", ranks(1299, 1000, 7), Some(false)),
            ("better", ranks(500, 1000, 7), Some(false)),
            ("3 days observed", ranks(5000, 1000, 3), None),
            ("4 days observed", ranks(5000, 1000, 4), Some(true)),
        ];
        for (case, rows, want) in cases {
            let mut s = with_product(at);
            s.ranks.insert("B0X".into(), rows);
            check(&only(&run(&cfg(), &s, at), RuleId::BsrTrend), want, case);
        }
    }

    #[test]
    fn keyword_share_table() {
        // 2026-03-04 is a Wednesday: the last complete week is Sun 02-22 … Sat 02-28.
        let at = d("2026-03-04");
        let q = |start: &str, query: &str, vol: i64, imp: f64, clk: f64| QueryWeek {
            week_start: d(start),
            week_end: d(start) + Duration::days(6),
            query: query.into(),
            volume: Some(vol),
            impression_share: Some(imp),
            click_share: Some(clk),
        };
        let cases = [
            ("impression share down exactly 30%", 0.07, 0.10, true),
            ("down 29%", 0.071, 0.10, false),
            ("click share down 50%", 0.10, 0.05, true),
        ];
        for (case, imp, clk, fires) in cases {
            let mut s = with_product(at);
            s.search_queries.insert(
                "B0X".into(),
                vec![
                    q("2026-02-15", "bottle", 100, 0.10, 0.10),
                    q("2026-02-22", "bottle", 100, imp, clk),
                    // The current, incomplete week is ignored.
                    q("2026-03-01", "bottle", 100, 0.0, 0.0),
                ],
            );
            let f = only(&run(&cfg(), &s, at), RuleId::KeywordShare);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
            if fires {
                assert_eq!(f[0].subject.search_term.as_deref(), Some("bottle"));
            }
        }
        // Only the top query is tracked when top_queries = 1.
        let mut s = with_product(at);
        s.search_queries.insert(
            "B0X".into(),
            vec![
                q("2026-02-15", "big", 100, 0.10, 0.10),
                q("2026-02-22", "big", 100, 0.10, 0.10),
                q("2026-02-15", "small", 10, 0.10, 0.10),
                q("2026-02-22", "small", 10, 0.01, 0.01),
            ],
        );
        let mut c = cfg();
        c.overrides
            .push(over("keyword_share", Some("B0X"), None, "top_queries = 1"));
        assert!(!firing(&only(&run(&c, &s, at), RuleId::KeywordShare)));
        assert!(firing(&only(&run(&cfg(), &s, at), RuleId::KeywordShare)));
    }

    #[test]
    fn growth_stall_table_and_diagnosis() {
        let at = d("2026-03-31");
        let (w, p) = (Window::last(at, 30), Window::prior(at, 30));
        let cases = [
            (
                "equal units",
                Some(row(1000, 100)),
                Some(row(1000, 100)),
                true,
            ),
            (
                "one more unit",
                Some(row(1000, 101)),
                Some(row(1000, 100)),
                false,
            ),
            (
                "prior under min units",
                Some(row(100, 5)),
                Some(row(100, 29)),
                false,
            ),
            (
                "no orders at all now (0 units, known)",
                None,
                Some(row(1000, 100)),
                true,
            ),
        ];
        for (case, last, prior, fires) in cases {
            let mut s = with_product(at);
            put(&mut s, w, "B0X", last);
            put(&mut s, p, "B0X", prior);
            let f = only(&run(&cfg(), &s, at), RuleId::GrowthStall);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
        // Conversion fell, traffic did not: the conversion branch, and the
        // other rules firing for the ASIN are named.
        let mut s = with_product(at);
        put(&mut s, w, "B0X", Some(row(1000, 80)));
        put(&mut s, p, "B0X", Some(row(1000, 150)));
        let (w14, p14) = (Window::last(at, 14), Window::prior(at, 14));
        put(&mut s, w14, "B0X", Some(row(500, 40)));
        put(&mut s, p14, "B0X", Some(row(500, 75)));
        let f = only(&run(&cfg(), &s, at), RuleId::GrowthStall);
        let dg = f[0].diagnosis.as_ref().unwrap();
        assert_eq!(dg.conversion_fell, Some(true));
        assert_eq!(dg.traffic_fell, Some(false));
        assert!(dg.checks.iter().any(|c| c.check == "buy_box"));
        assert_eq!(dg.other_rules, vec!["conversion_rate".to_string()]);
        assert!(
            f[0].check_first.starts_with("Conversion fell"),
            "{}",
            f[0].check_first
        );
        // No windows yet: no data.
        let f = only(&run(&cfg(), &with_product(at), at), RuleId::GrowthStall);
        assert_eq!(f[0].status, Status::NoData);
    }
}
