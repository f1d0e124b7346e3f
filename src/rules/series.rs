//! The trend chart of a finding: its rule's metric ([`super::metrics`], the
//! function the rule itself judged with) applied to the window ending on
//! each day, over the subject's stored [`History`]. So the chart's last
//! point is the finding's number, and a change the rule judged is the
//! change between two of the chart's points. Pure: `store::series` loads the
//! history.
//!
//! Conventions (DESIGN §2.1):
//! - days are marketplace days (Ads: the profile's); a window of the rule's
//!   length (the finding's own, else the configured one) ends on each day;
//! - a day whose window the rule could not judge (not synced, not covered
//!   by the orders or Ads data, an ASIN absent from a sales & traffic
//!   window) is `None`, drawn as a gap, never 0;
//! - windowed rules end the day before the date; Ads-attributed ones
//!   (acos_band, tacos, ad_reliance, wasted_spend) `attribution_days + 1`
//!   days before it, where the rule's matured window ends;
//! - point-in-time rules (stockout_risk, inventory_turnover, rating_floor,
//!   feedback_response_sla) end on the date itself, as of the end of each
//!   day (of the date: as of the evaluation, `History::snap.as_of`);
//! - weekly (keyword_share) and monthly (review_topics) sources give one
//!   point per period, over at least 8 weeks or 6 months;
//! - the threshold line comes from the finding ([`Item::threshold`], or
//!   for a rule judging a change, the level that change reaches from the
//!   prior level in the evidence), never from the config.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::metrics::{
    acos_pct, ad_share_pct, ad_sums, ads_cover, asin_window, breach_age_hours, buy_box_pct,
    conversion_pct, cpc, daily_units, days_of_cover, feedback_sums, margin, median_rank,
    query_share_pct, return_sums, sessions, tacos_pct, total_sales, window_units,
};
use crate::config::{rules as settings, Config, RuleId};
use crate::model::finding::Window;
use crate::model::history::History;
use crate::model::series::{Item, Series};
use crate::model::snapshot::{AdDay, AsinWindow};
use crate::model::time::day_start;

/// The chart of `item` over the `days` days ending the day before `at` (a
/// marketplace day; point-in-time rules end on `at`), from its subject's
/// history. `None` for rules without a daily series (account_health,
/// listing_health, data_freshness, credentials) and for items that lack the
/// keys or the history their rule needs.
pub fn chart(cfg: &Config, item: &Item, h: &History, at: NaiveDate, days: u32) -> Option<Series> {
    let days = days.max(1) as i64;
    let c = Ctx {
        cfg,
        item,
        h,
        from: at - Duration::days(days),
        to: at - Duration::days(1),
    };
    use RuleId::*;
    let (label, points) = match item.rule {
        ConversionRate | TrafficTrend | BuyBox | GrowthStall => asin_windows(&c)?,
        BsrTrend => bsr(&c)?,
        KeywordShare => keyword_share(&c)?,
        ReviewTopics => review_topic(&c)?,
        RatingFloor => rating(&c)?,
        FeedbackResponseSla => breaches(&c)?,
        FeedbackRate => feedback_rate(&c),
        ReturnRate => return_rate(&c)?,
        StockoutRisk => cover(&c)?,
        InventoryTurnover => days_of_supply(&c)?,
        MarginFloor => margin_pct(&c)?,
        AcosBand | CpcTrend | Tacos | AdReliance | WastedSpend => ads(&c)?,
        AccountHealth | ListingHealth | DataFreshness | Credentials => return None,
    };
    Some(Series {
        label,
        points,
        threshold: threshold(item).filter(|t| t.is_finite()),
    })
}

/// The first day of stored data the chart of `item` over `days` days as of
/// `at` reads: its windows reach back their length before the first day
/// plotted (the finding's window, else 90 days), Ads-attributed ones by the
/// attribution days more, feedback by Amazon's 90-day response period, and
/// the weekly and monthly sources over their longer spans.
pub fn first_day(cfg: &Config, item: &Item, at: NaiveDate, days: u32) -> NaiveDate {
    let days = days.max(1) as i64;
    let n = item
        .window
        .map(|(s, e)| (e - s).num_days() + 1)
        .filter(|n| *n >= 1)
        .unwrap_or(90);
    let back = match item.rule {
        RuleId::ReviewTopics => days.max(186) + 31,
        RuleId::KeywordShare => days.max(8 * 7) + 7,
        RuleId::FeedbackResponseSla => days + 91,
        RuleId::AcosBand | RuleId::Tacos | RuleId::AdReliance | RuleId::WastedSpend => {
            days + n + cfg.sync.attribution_days as i64 + 1
        }
        _ => days + n + 1,
    };
    at - Duration::days(back)
}

/// The threshold in the chart's unit, from the finding alone.
pub fn threshold(item: &Item) -> Option<f64> {
    let t = item.threshold?;
    let ev = |k: &str| {
        item.evidence
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_f64())
    };
    Some(match item.rule {
        // Rules judging a change: the level the limit puts on the prior one.
        RuleId::TrafficTrend => ev("prior_sessions")? * (1.0 - t / 100.0),
        RuleId::BsrTrend => ev("prior_median_rank")? * (1.0 + t / 100.0),
        RuleId::CpcTrend => ev("prior_cpc")? * (1.0 + t / 100.0),
        RuleId::KeywordShare => {
            let prior = if clicks_fell_more(item) {
                ev("prior_click_share")?
            } else {
                ev("prior_impression_share")?
            };
            prior * 100.0 * (1.0 - t / 100.0)
        }
        RuleId::ReviewTopics => ev("share_pct")? - ev("rise_points")? + t,
        // A count of breaches against a limit in hours: no line.
        RuleId::FeedbackResponseSla => return None,
        _ => t,
    })
}

type Points = Vec<(NaiveDate, Option<f64>)>;

/// What the caller asked for.
struct Ctx<'a> {
    cfg: &'a Config,
    item: &'a Item,
    h: &'a History,
    /// The first and last day of a plain series (inclusive).
    from: NaiveDate,
    to: NaiveDate,
}

impl Ctx<'_> {
    fn key(&self, k: &str) -> Option<&str> {
        self.item.key(k)
    }

    fn ev_str(&self, k: &str) -> Option<&str> {
        self.item
            .evidence
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_str())
    }

    /// The rule's settings for the item's subject (window lengths the
    /// finding does not carry, the SLA's definition; never thresholds).
    fn settings<T: settings::RuleSettings>(&self) -> T {
        let subject = crate::config::SubjectRef {
            account: self.key("account").unwrap_or_default(),
            marketplace: self.key("marketplace").unwrap_or_default(),
            sku: self.key("sku"),
            asin: self.key("asin"),
            campaign: self.key("campaign_id"),
        };
        self.cfg.rule_settings(T::ID, &subject)
    }

    /// The length of the rule's window: the finding's own, else `configured`.
    fn window_days(&self, configured: u32) -> u32 {
        self.item
            .window
            .map(|(s, e)| (e - s).num_days() + 1)
            .filter(|n| *n >= 1)
            .map_or(configured.max(1), |n| n as u32)
    }

    /// The range moved back to end where matured Ads windows end.
    fn matured(&self) -> (NaiveDate, NaiveDate) {
        let shift = Duration::days(self.cfg.sync.attribution_days as i64);
        (self.from - shift, self.to - shift)
    }

    /// The range moved one day later, to end on `at` itself.
    fn through_at(&self) -> (NaiveDate, NaiveDate) {
        (self.from + Duration::days(1), self.to + Duration::days(1))
    }
}

/// The days `from..=to`.
fn days_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// `f` of the `n`-day window ending on each day of `from..=to`.
fn rolling(from: NaiveDate, to: NaiveDate, n: u32, f: impl Fn(Window) -> Option<f64>) -> Points {
    days_between(from, to)
        .into_iter()
        .map(|d| (d, f(Window::ending(d, n))))
        .collect()
}

/// One point per day of `from..=to` from `known` (a day missing from it is a gap).
fn daily(from: NaiveDate, to: NaiveDate, known: &BTreeMap<NaiveDate, f64>) -> Points {
    days_between(from, to)
        .into_iter()
        .map(|d| (d, known.get(&d).copied()))
        .collect()
}

/// conversion_rate, traffic_trend, buy_box, growth_stall: the rule's per-ASIN
/// sales & traffic window ending on each day (a daemon that syncs daily
/// stores one per day).
fn asin_windows(c: &Ctx) -> Option<(String, Points)> {
    let asin = c.key("asin")?;
    let snap = &c.h.snap;
    // The ASIN in the window ending on a day (see `metrics::asin_window`) → the level.
    type Level = fn(Option<Option<&AsinWindow>>) -> Option<f64>;
    let (n, label, level): (u32, String, Level) = match c.item.rule {
        RuleId::ConversionRate => {
            let n = c.window_days(c.settings::<settings::ConversionRate>().window_days);
            (
                n,
                format!("conversion rate over the {n} days to each day (%)"),
                |r| r.flatten().and_then(conversion_pct),
            )
        }
        RuleId::TrafficTrend => {
            let n = c.window_days(c.settings::<settings::TrafficTrend>().window_days);
            (n, format!("sessions over the {n} days to each day"), |r| {
                r.flatten().and_then(sessions)
            })
        }
        RuleId::BuyBox => {
            let n = c.window_days(c.settings::<settings::BuyBox>().window_days);
            (
                n,
                format!("buy box over the {n} days to each day (%)"),
                |r| r.flatten().and_then(buy_box_pct),
            )
        }
        _ => {
            let n = c.window_days(c.settings::<settings::GrowthStall>().window_days);
            (
                n,
                format!("units ordered over the {n} days to each day"),
                // An ASIN absent from a synced window sold nothing in it.
                |r| r.map(|r| window_units(r) as f64),
            )
        }
    };
    Some((
        label,
        rolling(c.from, c.to, n, |w| level(asin_window(snap, asin, w))),
    ))
}

/// bsr_trend: the median rank over the ranked days of the window.
fn bsr(c: &Ctx) -> Option<(String, Points)> {
    let asin = c.key("asin")?;
    let n = c.window_days(c.settings::<settings::BsrTrend>().window_days);
    let rows = c.h.snap.ranks.get(asin).map(Vec::as_slice).unwrap_or(&[]);
    Some((
        format!("median best sellers rank over the {n} days to each day (lower is better)"),
        rolling(c.from, c.to, n, |w| median_rank(rows, w).0),
    ))
}

/// Whether keyword_share's finding fell more in click share than in
/// impression share (its chart then plots the click share).
fn clicks_fell_more(item: &Item) -> bool {
    let ev = |k: &str| {
        item.evidence
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_f64())
    };
    match (ev("impression_share_drop_pct"), ev("click_share_drop_pct")) {
        (Some(i), Some(k)) => k > i,
        (None, Some(_)) => true,
        _ => false,
    }
}

/// keyword_share: the query's share (impression or click, whichever fell
/// more), one point per Sunday–Saturday week at its end.
fn keyword_share(c: &Ctx) -> Option<(String, Points)> {
    let (asin, query) = (c.key("asin")?, c.key("search_term")?);
    let clicks = clicks_fell_more(c.item);
    let span = ((c.to - c.from).num_days() + 1).max(8 * 7);
    let from = c.to - Duration::days(span - 1);
    let known: BTreeMap<NaiveDate, Option<f64>> =
        c.h.snap
            .search_queries
            .get(asin)
            .into_iter()
            .flatten()
            .filter(|q| q.query == query && q.week_end >= from && q.week_end <= c.to)
            .map(|q| (q.week_end, query_share_pct(q, clicks)))
            .collect();
    Some((
        format!(
            "{} share of the query, per week (%)",
            if clicks { "click" } else { "impression" }
        ),
        known.into_iter().collect(),
    ))
}

/// review_topics: the topic's monthly share of the ASIN's reviews, the
/// points the rule reads (months that began before the date), each dated at
/// the start of its month.
fn review_topic(c: &Ctx) -> Option<(String, Points)> {
    let asin = c.key("asin")?;
    let topic = c.ev_str("topic")?;
    let span = ((c.to - c.from).num_days() + 1).max(186);
    let from = c.to - Duration::days(span - 1);
    let row =
        c.h.snap
            .review_topics
            .as_ref()?
            .get(asin)?
            .iter()
            .find(|t| t.topic == topic && t.sentiment == "negative")?;
    let points: Points = row
        .trend
        .iter()
        .filter(|(d, _)| *d >= from && *d <= c.to)
        .map(|(d, v)| (*d, Some(*v)))
        .collect();
    Some((
        format!("share of reviews mentioning \"{topic}\", per month (%)"),
        points,
    ))
}

/// rating_floor: the star rating on the days the ratings file has a row.
fn rating(c: &Ctx) -> Option<(String, Points)> {
    let asin = c.key("asin")?;
    let (from, to) = c.through_at();
    let known: BTreeMap<NaiveDate, f64> =
        c.h.snap
            .ratings
            .as_ref()?
            .iter()
            .filter(|r| r.asin == asin && r.date >= from && r.date <= to)
            .map(|r| (r.date, r.rating))
            .collect();
    Some(("star rating".into(), daily(from, to, &known)))
}

/// feedback_response_sla: the negative feedback past its response time and
/// still unanswered and unacknowledged, as of the end of each day (of the
/// date: as of the evaluation).
fn breaches(c: &Ctx) -> Option<(String, Points)> {
    let s: settings::FeedbackResponseSla = c.settings();
    let tz = c.h.snap.time_zone;
    let (from, to) = c.through_at();
    let points = days_between(from, to)
        .into_iter()
        .map(|d| {
            let t = day_start(&tz, d + Duration::days(1)).min(c.h.snap.as_of);
            let synced = c.h.feedback_synced_from.is_some_and(|f| f <= t)
                || c.h.feedback.iter().any(|f| f.first_seen_at <= t);
            let since = d - Duration::days(90);
            let open = c
                .h
                .feedback
                .iter()
                .filter(|f| f.date >= since)
                .filter_map(|f| f.as_of(t))
                .filter(|f| breach_age_hours(f, t, &tz, s.max_rating, s.response_hours).is_some())
                .count();
            (d, synced.then_some(open as f64))
        })
        .collect();
    Some((
        format!(
            "negative seller feedback unanswered past {} h, at the end of each day",
            s.response_hours
        ),
        points,
    ))
}

/// feedback_rate: negative feedback per order item over the window (days
/// of the daily series; a window missing a day is unknown).
fn feedback_rate(c: &Ctx) -> (String, Points) {
    let n = c.window_days(c.settings::<settings::FeedbackRate>().window_days);
    let daily = &c.h.snap.daily;
    (
        format!("negative feedback per order item over the {n} days to each day (%)"),
        rolling(c.from, c.to, n, |w| {
            feedback_sums(daily, w).and_then(|s| s.rate_pct())
        }),
    )
}

/// return_rate: units returned per unit shipped over the window.
fn return_rate(c: &Ctx) -> Option<(String, Points)> {
    let sku = c.key("sku")?;
    let n = c.window_days(c.settings::<settings::ReturnRate>().window_days);
    let orders = c.h.snap.orders.as_ref()?;
    let returns = c.h.snap.returns.as_deref().unwrap_or(&[]);
    Some((
        format!("units returned per unit shipped over the {n} days to each day (%)"),
        rolling(c.from, c.to, n, |w| {
            return_sums(orders, returns, &[sku], w).and_then(|s| s.rate_pct())
        }),
    ))
}

/// stockout_risk: days of cover at the day's last stock observation, at
/// the units sold per day over the window before that day.
fn cover(c: &Ctx) -> Option<(String, Points)> {
    let sku = c.key("sku")?;
    let n = c.window_days(c.settings::<settings::StockoutRisk>().velocity_days);
    let orders = c.h.snap.orders.as_ref();
    let (from, to) = c.through_at();
    let points = days_between(from, to)
        .into_iter()
        .map(|d| {
            let v = c.h.stock.get(&d).and_then(|st| {
                let velocity = orders.and_then(|o| daily_units(o, sku, Window::last(d, n)));
                days_of_cover(st.available + st.inbound, velocity)
            });
            (d, v)
        })
        .collect();
    Some((
        format!("days of cover (stock at the day's last observation / daily units of the {n} days before)"),
        points,
    ))
}

/// inventory_turnover: Amazon's days of supply from each day's planning row.
fn days_of_supply(c: &Ctx) -> Option<(String, Points)> {
    c.key("sku")?;
    let (from, to) = c.through_at();
    let known: BTreeMap<NaiveDate, f64> =
        c.h.planning
            .iter()
            .filter_map(|(d, r)| Some((*d, r.days_of_supply?)))
            .collect();
    Some(("days of supply".into(), daily(from, to, &known)))
}

/// margin_floor: the contribution margin over the window, at today's unit
/// cost and fee estimate (neither has a history).
fn margin_pct(c: &Ctx) -> Option<(String, Points)> {
    let sku = c.key("sku")?;
    let n = c.window_days(c.settings::<settings::MarginFloor>().window_days);
    let snap = &c.h.snap;
    let orders = snap.orders.as_ref()?;
    let cost = *snap.costs.as_ref()?.get(sku)?;
    let fees = snap.fees.get(sku)?.total_fees?;
    // The rule judges only windows the orders reach back to.
    let level = |w: Window| {
        super::metrics::orders_cover(orders, w)
            .then(|| margin(snap, sku, cost, fees, w))
            .flatten()
            .map(|m| m.margin_pct)
    };
    Some((
        format!("contribution margin over the {n} days to each day (% of price)"),
        rolling(c.from, c.to, n, level),
    ))
}

/// acos_band, cpc_trend, tacos, ad_reliance, wasted_spend: the rule's ratio
/// (or clicks) over its window ending on each day, where the Ads data
/// covers the window.
fn ads(c: &Ctx) -> Option<(String, Points)> {
    let ads = c.h.snap.ads.as_ref()?;
    let currency = ads.currency.clone().unwrap_or_default();
    let campaign = match c.key("campaign_id") {
        Some(id) => Some(id.parse::<i64>().ok()?),
        None => None,
    };
    // The campaign's days (every campaign of the profile for marketplace
    // subjects).
    let campaigns: Vec<&[AdDay]> = ads
        .campaigns
        .iter()
        .filter(|x| campaign.is_none_or(|id| x.campaign_id == id))
        .map(|x| x.days.as_slice())
        .collect();
    let snap = &c.h.snap;
    let covered = move |w: Window| ads_cover(ads, w);
    let matured = c.matured();
    type Level<'a> = Box<dyn Fn(Window) -> Option<f64> + 'a>;
    let (label, (from, to), n, level): (String, _, u32, Level) = match c.item.rule {
        RuleId::AcosBand => {
            let n = c.window_days(c.settings::<settings::AcosBand>().window_days);
            (
                format!("ACoS over the matured {n} days to each day (%)"),
                matured,
                n,
                Box::new(move |w| {
                    covered(w)
                        .then(|| acos_pct(&ad_sums(campaigns.iter().copied(), w)))
                        .flatten()
                }),
            )
        }
        RuleId::CpcTrend => {
            campaign?;
            let n = c.window_days(c.settings::<settings::CpcTrend>().window_days);
            (
                format!("cost per click over the {n} days to each day ({currency})"),
                (c.from, c.to),
                n,
                Box::new(move |w| {
                    covered(w)
                        .then(|| cpc(&ad_sums(campaigns.iter().copied(), w)))
                        .flatten()
                }),
            )
        }
        RuleId::Tacos | RuleId::AdReliance => {
            let tacos = c.item.rule == RuleId::Tacos;
            let (n, what) = if tacos {
                (
                    c.window_days(c.settings::<settings::Tacos>().window_days),
                    "ad spend per total sales",
                )
            } else {
                (
                    c.window_days(c.settings::<settings::AdReliance>().window_days),
                    "ad-attributed share of total sales",
                )
            };
            (
                format!("{what} over the matured {n} days to each day (%)"),
                matured,
                n,
                Box::new(move |w| {
                    if !covered(w) {
                        return None;
                    }
                    let sums = ad_sums(campaigns.iter().copied(), w);
                    let (sales, _) = total_sales(snap, w)?;
                    if tacos {
                        tacos_pct(sums.cost, sales)
                    } else {
                        ad_share_pct(sums.sales, sales)
                    }
                }),
            )
        }
        _ => {
            let term = c.key("search_term")?;
            let n = c.window_days(c.settings::<settings::WastedSpend>().window_days);
            let days: Vec<&[AdDay]> = ads
                .search_terms
                .iter()
                .filter(|t| campaign.is_none_or(|id| t.campaign_id == id) && t.search_term == term)
                .map(|t| t.days.as_slice())
                .collect();
            (
                format!("clicks on the search term over the matured {n} days to each day"),
                matured,
                n,
                Box::new(move |w| {
                    covered(w).then(|| ad_sums(days.iter().copied(), w).clicks as f64)
                }),
            )
        }
    };
    Some((label, rolling(from, to, n, level)))
}
