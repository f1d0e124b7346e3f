//! Daily metric series for the trend charts of alert emails: the history of
//! the number a rule judges, for the subject of one alert.
//!
//! One function, [`for_item`], maps each rule to the table it reads (see
//! `docs/rules.md`) and returns one point per day over the requested days.
//! The conventions are DESIGN §2.1's:
//! - days are marketplace days (Ads: the profile's), as stored;
//! - a day without data is `None` (drawn as a gap), never 0. A count is 0
//!   only where its source provably covers the day: orders between the
//!   first order and the last successful orders sync, returns and seller
//!   feedback within the range their successful syncs re-read, search-term
//!   spend within the synced Ads days (the report lists only terms with
//!   clicks, so a missing row there is no spend);
//! - per-ASIN sales & traffic exist only as window totals (reports carry no
//!   day), so conversion, sessions and buy box are the rule's rolling window
//!   ending on each day (the number the rule would judge the day after): a
//!   daemon that syncs daily stores one such window per day;
//! - attributed Ads metrics (ACoS, ad reliance) end `attribution_days + 1`
//!   days before the date, where the rule's matured window ends, because
//!   younger days still gain conversions and would show a false spike;
//! - point-in-time rules (stockout_risk, inventory_turnover, rating_floor)
//!   judge the newest observation up to the date itself, so their series end
//!   on `at` (the same number of days, one later), showing the "now" the
//!   finding speaks of;
//! - weekly (search query performance) and monthly (review topic trends)
//!   sources give one point per period, dated at its last day, over at least
//!   8 weeks or 6 months so the chart has a shape.
//!
//! Every query is a range scan on an index of its table (checked by the
//! `query_plans_use_indexes` test): catalogues have 20,000 SKUs.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::config::{rules as settings, Config, RuleId, SubjectRef};
use crate::model::marketplace;
use crate::model::series::{Item, Series};

/// Rolling per-ASIN windows of length `?6` (`'+N days'` from start to end)
/// whose end falls in the range, with the ASIN's row when it has one.
const SQL_ASIN_WINDOWS: &str = "
    SELECT w.window_end, r.asin IS NOT NULL, r.sessions, r.units_ordered, r.buy_box_pct, r.page_views
    FROM sales_traffic_windows w
    LEFT JOIN sales_traffic_asin r
        ON r.account = w.account AND r.marketplace_id = w.marketplace_id AND r.asin = ?3
       AND r.window_start = w.window_start AND r.window_end = w.window_end
    WHERE w.account = ?1 AND w.marketplace_id = ?2 AND w.window_start BETWEEN ?4 AND ?5
      AND w.window_end = date(w.window_start, ?6)";

const SQL_RANKS: &str = "
    SELECT snapshot_date, display_group_rank FROM catalog_ranks
    WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3 AND snapshot_date BETWEEN ?4 AND ?5";

/// Units ordered per day of one ASIN (non-cancelled, Amazon channel).
/// CROSS JOIN keeps the ASIN's order lines as the outer loop (SQLite would
/// otherwise scan every order of the window and probe the lines of each).
const SQL_ASIN_UNITS: &str = "
    SELECT o.purchase_day, SUM(i.quantity)
    FROM order_items i CROSS JOIN orders o ON o.account = i.account AND o.order_id = i.order_id
    WHERE i.account = ?1 AND i.asin = ?2 AND o.marketplace_id = ?3
      AND o.purchase_day BETWEEN ?4 AND ?5
      AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    GROUP BY o.purchase_day";

/// Item price total and units per day of one SKU (the SKU's lines drive,
/// as above).
const SQL_SKU_PRICE: &str = "
    SELECT o.purchase_day, SUM(i.item_price), SUM(i.quantity)
    FROM order_items i CROSS JOIN orders o ON o.account = i.account AND o.order_id = i.order_id
    WHERE i.account = ?1 AND i.sku = ?2 AND o.marketplace_id = ?3
      AND o.purchase_day BETWEEN ?4 AND ?5
      AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    GROUP BY o.purchase_day";

const SQL_FIRST_ORDER_DAY: &str =
    "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2";
const SQL_LAST_ORDER_DAY: &str =
    "SELECT MAX(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2";

/// The first and last successful finish of a job for an account.
const SQL_JOB_OK_SPAN: &str = "
    SELECT MIN(finished_at), MAX(finished_at) FROM job_runs
    WHERE job = ?1 AND account = ?2 AND status = 'ok'";

const SQL_STOCK: &str = "
    SELECT observed_day, fulfillable FROM inventory_snapshots
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND observed_day BETWEEN ?4 AND ?5
    ORDER BY observed_day, observed_at";

const SQL_DAYS_OF_SUPPLY: &str = "
    SELECT snapshot_date, days_of_supply FROM inventory_planning
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND snapshot_date BETWEEN ?4 AND ?5";

const SQL_RETURNS: &str = "
    SELECT return_date, SUM(quantity) FROM returns
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND return_date BETWEEN ?4 AND ?5
    GROUP BY return_date";

const SQL_FEEDBACK: &str = "
    SELECT feedback_date, COUNT(*) FROM seller_feedback
    WHERE account = ?1 AND marketplace_id = ?2 AND feedback_date BETWEEN ?3 AND ?4 AND rating <= ?5
    GROUP BY feedback_date";

const SQL_DAILY: &str = "
    SELECT date, negative_feedback_received, total_order_items, ordered_product_sales
    FROM sales_traffic_daily
    WHERE account = ?1 AND marketplace_id = ?2 AND date BETWEEN ?3 AND ?4";

const SQL_TOPIC: &str = "
    SELECT period_end, occurrence_pct FROM review_topic_trends
    WHERE account = ?1 AND marketplace_id = ?2 AND subject_kind = 'asin' AND subject_id = ?3
      AND sentiment = 'negative' AND topic = ?4 AND period_start BETWEEN ?5 AND ?6";

const SQL_QUERY_WEEKS: &str = "
    SELECT week_end, impression_share, click_share FROM search_query_performance
    WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3 AND week_start BETWEEN ?4 AND ?5
      AND search_query = ?6";

const SQL_PROFILE: &str = "
    SELECT profile_id, currency FROM ads_profiles WHERE account = ?1 AND marketplace_id = ?2
    ORDER BY profile_id LIMIT 1";

/// The synced Ads days of one ad product (two single MIN/MAX lookups on the
/// primary key).
const SQL_ADS_SPAN: &str = "
    SELECT (SELECT MIN(date) FROM ads_campaign_daily WHERE profile_id = ?1 AND ad_product = ?2),
           (SELECT MAX(date) FROM ads_campaign_daily WHERE profile_id = ?1 AND ad_product = ?2)";

/// Cost, clicks and attributed sales per day of one campaign; `?3` is the
/// attribution window (SP reads sales_7d at 7 days; SB/SD only have 14).
const SQL_CAMPAIGN_DAYS: &str = "
    SELECT date, SUM(cost), SUM(clicks),
           SUM(CASE WHEN ad_product = 'SP' AND ?3 = 7 THEN sales_7d ELSE sales_14d END)
    FROM ads_campaign_daily
    WHERE profile_id = ?1 AND campaign_id = ?2 AND date BETWEEN ?4 AND ?5
    GROUP BY date";

/// The same over every campaign of the profile.
const SQL_PROFILE_DAYS: &str = "
    SELECT date, SUM(cost), SUM(clicks),
           SUM(CASE WHEN ad_product = 'SP' AND ?2 = 7 THEN sales_7d ELSE sales_14d END)
    FROM ads_campaign_daily
    WHERE profile_id = ?1 AND ad_product IN ('SP', 'SB', 'SD') AND date BETWEEN ?3 AND ?4
    GROUP BY date";

const SQL_TERM_COST: &str = "
    SELECT date, SUM(cost) FROM ads_search_term_daily
    WHERE profile_id = ?1 AND campaign_id = ?2 AND search_term = ?3 AND date BETWEEN ?4 AND ?5
    GROUP BY date";

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The days `from..=to`.
fn days_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push(d);
        d += Duration::days(1);
    }
    out
}

/// One point per day of `from..=to` from `known`; a day missing from it is
/// 0 when `zero_on(day)` says the source covers it, else `None`.
fn daily(
    from: NaiveDate,
    to: NaiveDate,
    known: &BTreeMap<NaiveDate, Option<f64>>,
    zero_on: impl Fn(NaiveDate) -> bool,
) -> Vec<(NaiveDate, Option<f64>)> {
    days_between(from, to)
        .into_iter()
        .map(|d| match known.get(&d) {
            Some(v) => (d, *v),
            None => (d, zero_on(d).then_some(0.0)),
        })
        .collect()
}

/// Points only for the periods that exist (weekly and monthly sources).
fn periodic(known: BTreeMap<NaiveDate, Option<f64>>) -> Vec<(NaiveDate, Option<f64>)> {
    known.into_iter().collect()
}

fn series(label: String, points: Vec<(NaiveDate, Option<f64>)>, threshold: Option<f64>) -> Series {
    Series {
        label,
        points,
        threshold: threshold.filter(|t| t.is_finite()),
    }
}

/// The local day of a stored UTC timestamp in the marketplace's zone.
fn local_day(ts: &str, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.with_timezone(&Utc).with_timezone(&tz).date_naive())
}

/// The days a re-reading job covers: from `lookback` days before its first
/// successful run to the day of its last one; `None` if it never succeeded.
fn job_coverage(
    conn: &Connection,
    job: &str,
    account: &str,
    tz: chrono_tz::Tz,
    lookback: Duration,
) -> Result<Option<(NaiveDate, NaiveDate)>, StoreError> {
    let (first, last): (Option<String>, Option<String>) = conn
        .prepare_cached(SQL_JOB_OK_SPAN)?
        .query_row(params![job, account], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(
        match (
            first.as_deref().and_then(|t| local_day(t, tz)),
            last.as_deref().and_then(|t| local_day(t, tz)),
        ) {
            (Some(f), Some(l)) => Some((f - lookback, l)),
            _ => None,
        },
    )
}

/// What the caller asked for, resolved once.
struct Ctx<'a> {
    conn: &'a Connection,
    cfg: &'a Config,
    item: &'a Item,
    account: &'a str,
    marketplace: &'a str,
    tz: chrono_tz::Tz,
    /// The first and last day of the series (inclusive).
    from: NaiveDate,
    to: NaiveDate,
    days: u32,
}

impl Ctx<'_> {
    fn subject(&self) -> SubjectRef<'_> {
        SubjectRef {
            account: self.account,
            marketplace: self.marketplace,
            sku: self.item.key("sku"),
            asin: self.item.key("asin"),
            campaign: self.item.key("campaign_id"),
        }
    }

    /// The length of the rule's window: the finding's own, else the
    /// configured one.
    fn window_days(&self, configured: u32) -> i64 {
        self.item
            .window
            .map(|(s, e)| (e - s).num_days() + 1)
            .filter(|n| *n >= 1)
            .unwrap_or(configured.max(1) as i64)
    }

    /// The range moved back to end where matured Ads windows end.
    fn matured(&self) -> (NaiveDate, NaiveDate) {
        // The plain range ends at `at − 1`; the matured one at
        // `at − (attribution_days + 1)`.
        let shift = Duration::days(self.cfg.sync.attribution_days as i64);
        (self.from - shift, self.to - shift)
    }

    /// The range moved one day later, to end on `at` itself (point-in-time
    /// rules read the newest observation up to it).
    fn through_at(&self) -> (NaiveDate, NaiveDate) {
        (self.from + Duration::days(1), self.to + Duration::days(1))
    }

    /// The item's threshold when the finding's value lies on its wrong side
    /// in the plotted unit (rules whose threshold is sometimes a level and
    /// sometimes a change).
    fn level_threshold(&self, below_is_bad: bool) -> Option<f64> {
        let (v, t) = (self.item.value?, self.item.threshold?);
        let bad = if below_is_bad { v < t } else { v > t };
        bad.then_some(t)
    }
}

/// The daily history of the metric `item`'s rule judges, over the `days`
/// days ending the day before `at` (a marketplace day), for the item's
/// subject. `None` for rules without a meaningful daily series
/// (account_health, listing_health, data_freshness, credentials) and for
/// items that lack the keys their rule needs.
pub fn for_item(
    conn: &Connection,
    cfg: &Config,
    item: &Item,
    at: NaiveDate,
    days: u32,
) -> Result<Option<Series>, StoreError> {
    let (Some(account), Some(marketplace)) = (item.key("account"), item.key("marketplace")) else {
        return Ok(None);
    };
    let days = days.max(1);
    let tz = marketplace::lookup(marketplace)
        .map(|m| m.tz)
        .unwrap_or(chrono_tz::UTC);
    let c = Ctx {
        conn,
        cfg,
        item,
        account,
        marketplace,
        tz,
        from: at - Duration::days(days as i64),
        to: at - Duration::days(1),
        days,
    };
    use RuleId::*;
    match item.rule {
        ConversionRate | TrafficTrend | BuyBox => asin_window_series(&c),
        BsrTrend => ranks(&c),
        GrowthStall => asin_units(&c),
        KeywordShare => keyword_share(&c),
        ReviewTopics => review_topic(&c),
        RatingFloor => rating(&c),
        FeedbackResponseSla => negative_feedback(&c),
        FeedbackRate => feedback_rate(&c),
        ReturnRate => returns(&c),
        StockoutRisk => stock(&c),
        InventoryTurnover => days_of_supply(&c),
        MarginFloor => price(&c),
        AcosBand | CpcTrend | Tacos | AdReliance => ads_ratio(&c),
        WastedSpend => term_cost(&c),
        AccountHealth | ListingHealth | DataFreshness | Credentials => Ok(None),
    }
}

/// conversion_rate, traffic_trend, buy_box: the rule's rolling window
/// ending on each day. An ASIN absent from a stored window had no orders:
/// its sessions (and so all three numbers) are unknown.
fn asin_window_series(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(asin) = c.item.key("asin") else {
        return Ok(None);
    };
    let s = c.subject();
    let (n, label, threshold) = match c.item.rule {
        RuleId::ConversionRate => {
            let r: settings::ConversionRate = c.cfg.rule_settings(RuleId::ConversionRate, &s);
            let n = c.window_days(r.window_days);
            (
                n,
                format!("conversion rate over the {n} days to each day (%)"),
                Some(r.min_percent),
            )
        }
        RuleId::TrafficTrend => {
            let r: settings::TrafficTrend = c.cfg.rule_settings(RuleId::TrafficTrend, &s);
            let n = c.window_days(r.window_days);
            (n, format!("sessions over the {n} days to each day"), None)
        }
        _ => {
            let r: settings::BuyBox = c.cfg.rule_settings(RuleId::BuyBox, &s);
            let n = c.window_days(r.window_days);
            (
                n,
                format!("buy box over the {n} days to each day (%)"),
                Some(r.min_percent),
            )
        }
    };
    let back = Duration::days(n - 1);
    let mut known = BTreeMap::new();
    let mut st = c.conn.prepare_cached(SQL_ASIN_WINDOWS)?;
    let mut rows = st.query(params![
        c.account,
        c.marketplace,
        asin,
        day(c.from - back),
        day(c.to - back),
        format!("+{} days", n - 1)
    ])?;
    while let Some(r) = rows.next()? {
        let end: String = r.get(0)?;
        let Some(end) = parse_day(&end) else { continue };
        let present: bool = r.get(1)?;
        let sessions: Option<i64> = r.get(2)?;
        let units: Option<i64> = r.get(3)?;
        let buy_box: Option<f64> = r.get(4)?;
        let page_views: Option<i64> = r.get(5)?;
        let v = if !present {
            None
        } else {
            match c.item.rule {
                RuleId::ConversionRate => sessions
                    .filter(|s| *s > 0)
                    .map(|s| units.unwrap_or(0) as f64 * 100.0 / s as f64),
                RuleId::TrafficTrend => sessions.map(|s| s as f64),
                _ => buy_box.filter(|_| page_views.unwrap_or(0) > 0),
            }
        };
        known.insert(end, v);
    }
    Ok(Some(series(
        label,
        daily(c.from, c.to, &known, |_| false),
        threshold,
    )))
}

/// bsr_trend: the main display-group rank sampled each day (a day without
/// a sample, or unranked, is a gap).
fn ranks(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(asin) = c.item.key("asin") else {
        return Ok(None);
    };
    let known = day_values(
        c.conn,
        SQL_RANKS,
        params![c.account, c.marketplace, asin, day(c.from), day(c.to)],
    )?;
    Ok(Some(series(
        "best sellers rank (lower is better)".into(),
        daily(c.from, c.to, &known, |_| false),
        None,
    )))
}

/// The days the orders table covers for a marketplace: from its first
/// order to the day of the last successful orders sync (or, for imported
/// orders without a sync, the last order).
fn order_coverage(c: &Ctx) -> Result<Option<(NaiveDate, NaiveDate)>, StoreError> {
    let first: Option<String> = c
        .conn
        .prepare_cached(SQL_FIRST_ORDER_DAY)?
        .query_row(params![c.account, c.marketplace], |r| r.get(0))?;
    let Some(first) = first.as_deref().and_then(parse_day) else {
        return Ok(None);
    };
    let last = match job_coverage(c.conn, "orders", c.account, c.tz, Duration::zero())? {
        Some((_, l)) => Some(l),
        None => c
            .conn
            .prepare_cached(SQL_LAST_ORDER_DAY)?
            .query_row(params![c.account, c.marketplace], |r| {
                r.get::<_, Option<String>>(0)
            })?
            .as_deref()
            .and_then(parse_day),
    };
    Ok(last.map(|l| (first, l)))
}

/// growth_stall: units ordered per day (orders, so a covered day without
/// orders is a real 0).
fn asin_units(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(asin) = c.item.key("asin") else {
        return Ok(None);
    };
    let known = day_values(
        c.conn,
        SQL_ASIN_UNITS,
        params![c.account, asin, c.marketplace, day(c.from), day(c.to)],
    )?;
    let cover = order_coverage(c)?;
    let covered = |d: NaiveDate| cover.is_some_and(|(f, l)| d >= f && d <= l);
    Ok(Some(series(
        "units ordered per day".into(),
        daily(c.from, c.to, &known, covered),
        None,
    )))
}

/// margin_floor: the average selling price per unit on each day with sales
/// (the margin itself needs fees and costs that have no daily history).
fn price(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(sku) = c.item.key("sku") else {
        return Ok(None);
    };
    let mut known = BTreeMap::new();
    let mut st = c.conn.prepare_cached(SQL_SKU_PRICE)?;
    let mut rows = st.query(params![
        c.account,
        sku,
        c.marketplace,
        day(c.from),
        day(c.to)
    ])?;
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        let total: Option<f64> = r.get(1)?;
        let units: Option<i64> = r.get(2)?;
        if let Some(d) = parse_day(&d) {
            let v = match (total, units) {
                (Some(t), Some(u)) if u > 0 => Some(t / u as f64),
                _ => None,
            };
            known.insert(d, v);
        }
    }
    Ok(Some(series(
        "average price per unit sold".into(),
        daily(c.from, c.to, &known, |_| false),
        None,
    )))
}

/// keyword_share: the share (impression or click, whichever fell more) of
/// the tracked query, one point per Sunday–Saturday week at its end.
fn keyword_share(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let (Some(asin), Some(query)) = (c.item.key("asin"), c.item.key("search_term")) else {
        return Ok(None);
    };
    let ev = |k: &str| {
        c.item
            .evidence
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.as_f64())
    };
    let clicks = match (ev("impression_share_drop_pct"), ev("click_share_drop_pct")) {
        (Some(i), Some(k)) => k > i,
        (None, Some(_)) => true,
        _ => false,
    };
    let span = (c.days as i64).max(8 * 7);
    let from = c.to - Duration::days(span - 1);
    let mut known = BTreeMap::new();
    let mut st = c.conn.prepare_cached(SQL_QUERY_WEEKS)?;
    // Weeks start on a Sunday: those ending in the range start up to 6 days
    // before it.
    let mut rows = st.query(params![
        c.account,
        c.marketplace,
        asin,
        day(from - Duration::days(6)),
        day(c.to),
        query
    ])?;
    while let Some(r) = rows.next()? {
        let end: String = r.get(0)?;
        let Some(end) = parse_day(&end).filter(|e| *e >= from && *e <= c.to) else {
            continue;
        };
        let share: Option<f64> = if clicks { r.get(2)? } else { r.get(1)? };
        known.insert(end, share.map(|s| s * 100.0));
    }
    Ok(Some(series(
        format!(
            "{} share of the query, per week (%)",
            if clicks { "click" } else { "impression" }
        ),
        periodic(known),
        None,
    )))
}

/// review_topics: the worst topic's monthly share of the ASIN's reviews.
fn review_topic(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(asin) = c.item.key("asin") else {
        return Ok(None);
    };
    let Some(topic) = c
        .item
        .evidence
        .iter()
        .find(|(k, _)| k == "topic")
        .and_then(|(_, v)| v.as_str())
    else {
        return Ok(None);
    };
    let span = (c.days as i64).max(186);
    let from = c.to - Duration::days(span - 1);
    let mut known = BTreeMap::new();
    let mut st = c.conn.prepare_cached(SQL_TOPIC)?;
    let mut rows = st.query(params![
        c.account,
        c.marketplace,
        asin,
        topic,
        day(from - Duration::days(31)),
        day(c.to)
    ])?;
    while let Some(r) = rows.next()? {
        let end: String = r.get(0)?;
        let Some(end) = parse_day(&end).filter(|e| *e >= from && *e <= c.to) else {
            continue;
        };
        known.insert(end, r.get::<_, Option<f64>>(1)?);
    }
    Ok(Some(series(
        format!("share of reviews mentioning \"{topic}\", per month (%)"),
        periodic(known),
        None,
    )))
}

/// rating_floor: the star rating on the days the user's `ratings_file` has
/// a row (no Amazon API serves ratings).
fn rating(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(asin) = c.item.key("asin") else {
        return Ok(None);
    };
    let account = c.cfg.accounts.iter().find(|a| a.name == c.account);
    let Some(path) = account
        .and_then(|a| a.ratings_file.as_ref())
        .or(c.cfg.ratings_file.as_ref())
    else {
        return Ok(None);
    };
    let Ok(rows) = super::snapshot::read_ratings(path) else {
        return Ok(None);
    };
    let (from, to) = c.through_at();
    let mut known = BTreeMap::new();
    for r in rows.iter().filter(|r| r.asin == asin) {
        if r.date >= from && r.date <= to {
            known.insert(r.date, Some(r.rating));
        }
    }
    Ok(Some(series(
        "star rating".into(),
        daily(from, to, &known, |_| false),
        c.level_threshold(true),
    )))
}

/// feedback_response_sla: 1–3 star seller feedback received per day. The
/// job re-reads its last 90 days on every run, so a day in that range with
/// no row had none.
fn negative_feedback(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let s: settings::FeedbackResponseSla = c
        .cfg
        .rule_settings(RuleId::FeedbackResponseSla, &c.subject());
    let known = day_values(
        c.conn,
        SQL_FEEDBACK,
        params![
            c.account,
            c.marketplace,
            day(c.from),
            day(c.to),
            s.max_rating
        ],
    )?;
    let cover = job_coverage(
        c.conn,
        "seller_feedback",
        c.account,
        c.tz,
        Duration::days(crate::model::snapshot::SELLER_FEEDBACK_WINDOW_DAYS),
    )?;
    let covered = |d: NaiveDate| cover.is_some_and(|(f, l)| d >= f && d <= l);
    Ok(Some(series(
        format!("seller feedback of {} stars or less per day", s.max_rating),
        daily(c.from, c.to, &known, covered),
        None,
    )))
}

/// The account's daily sales & traffic rows: (negative feedback, order
/// items, ordered product sales) by day.
type DailyRows = BTreeMap<NaiveDate, (Option<i64>, Option<i64>, Option<f64>)>;

fn daily_rows(c: &Ctx, from: NaiveDate, to: NaiveDate) -> Result<DailyRows, StoreError> {
    let mut out = BTreeMap::new();
    let mut st = c.conn.prepare_cached(SQL_DAILY)?;
    let mut rows = st.query(params![c.account, c.marketplace, day(from), day(to)])?;
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            out.insert(d, (r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    Ok(out)
}

/// feedback_rate: negative feedback / order items × 100 per day, from the
/// account's daily series (the rule's source and unit).
fn feedback_rate(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let rows = daily_rows(c, c.from, c.to)?;
    let known = rows
        .into_iter()
        .map(|(d, (neg, orders, _))| {
            let v = match (neg, orders) {
                (Some(n), Some(o)) if o > 0 => Some(n as f64 * 100.0 / o as f64),
                _ => None,
            };
            (d, v)
        })
        .collect();
    Ok(Some(series(
        "negative feedback per order item, per day (%)".into(),
        daily(c.from, c.to, &known, |_| false),
        c.item.threshold,
    )))
}

/// return_rate: units returned per day (by return date). The job re-reads
/// from its last window with an overlap and first reached back
/// `RETURNS_HISTORY_DAYS`, so days in that range with no row had no returns.
fn returns(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(sku) = c.item.key("sku") else {
        return Ok(None);
    };
    let known = day_values(
        c.conn,
        SQL_RETURNS,
        params![c.account, c.marketplace, sku, day(c.from), day(c.to)],
    )?;
    let cover = job_coverage(
        c.conn,
        "returns",
        c.account,
        c.tz,
        Duration::days(crate::model::snapshot::RETURNS_HISTORY_DAYS),
    )?;
    let covered = |d: NaiveDate| cover.is_some_and(|(f, l)| d >= f && d <= l);
    Ok(Some(series(
        "units returned per day".into(),
        daily(c.from, c.to, &known, covered),
        None,
    )))
}

/// `(day, value)` rows of `sql` by day (a later row of a day wins; NULL
/// stays a gap, integers read as numbers).
fn day_values(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<BTreeMap<NaiveDate, Option<f64>>, StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(p)?;
    let mut known = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            known.insert(d, r.get::<_, Option<f64>>(1)?);
        }
    }
    Ok(known)
}

/// stockout_risk: units available at the day's last inventory observation
/// (FBA fulfillable, or the FBM listing quantity).
fn stock(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(sku) = c.item.key("sku") else {
        return Ok(None);
    };
    let (from, to) = c.through_at();
    // Rows come oldest first: the last write of a day wins.
    let known = day_values(
        c.conn,
        SQL_STOCK,
        params![c.account, c.marketplace, sku, day(from), day(to)],
    )?;
    Ok(Some(series(
        "units available (last observation of the day)".into(),
        daily(from, to, &known, |_| false),
        None,
    )))
}

/// inventory_turnover: Amazon's days of supply from each day's inventory
/// planning snapshot (the rule's number and threshold).
fn days_of_supply(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some(sku) = c.item.key("sku") else {
        return Ok(None);
    };
    let (from, to) = c.through_at();
    let known = day_values(
        c.conn,
        SQL_DAYS_OF_SUPPLY,
        params![c.account, c.marketplace, sku, day(from), day(to)],
    )?;
    Ok(Some(series(
        "days of supply".into(),
        daily(from, to, &known, |_| false),
        c.item.threshold,
    )))
}

/// The marketplace's Ads profile (the first, as the rules read it).
fn profile(c: &Ctx) -> Result<Option<(i64, String)>, StoreError> {
    Ok(c.conn
        .prepare_cached(SQL_PROFILE)?
        .query_row(params![c.account, c.marketplace], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// The days the profile's Ads reports cover (over the given ad products).
fn ads_coverage(
    c: &Ctx,
    profile: i64,
    products: &[&str],
) -> Result<Option<(NaiveDate, NaiveDate)>, StoreError> {
    let mut span: Option<(NaiveDate, NaiveDate)> = None;
    let mut st = c.conn.prepare_cached(SQL_ADS_SPAN)?;
    for p in products {
        let (f, l): (Option<String>, Option<String>) =
            st.query_row(params![profile, p], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if let (Some(f), Some(l)) = (
            f.as_deref().and_then(parse_day),
            l.as_deref().and_then(parse_day),
        ) {
            span = Some(match span {
                None => (f, l),
                Some((a, b)) => (a.min(f), b.max(l)),
            });
        }
    }
    Ok(span)
}

/// Per-day Ads sums: (cost, clicks, attributed sales).
type AdDays = BTreeMap<NaiveDate, (f64, i64, Option<f64>)>;

fn ad_days(
    c: &Ctx,
    profile: i64,
    campaign: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<AdDays, StoreError> {
    let attribution = c.cfg.sync.attribution_days as i64;
    let mut out = BTreeMap::new();
    let mut read = |r: &rusqlite::Row<'_>| -> Result<(), StoreError> {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            out.insert(
                d,
                (
                    r.get::<_, Option<f64>>(1)?.unwrap_or(0.0),
                    r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                    r.get(3)?,
                ),
            );
        }
        Ok(())
    };
    match campaign {
        Some(id) => {
            let mut st = c.conn.prepare_cached(SQL_CAMPAIGN_DAYS)?;
            let mut rows = st.query(params![profile, id, attribution, day(from), day(to)])?;
            while let Some(r) = rows.next()? {
                read(r)?;
            }
        }
        None => {
            let mut st = c.conn.prepare_cached(SQL_PROFILE_DAYS)?;
            let mut rows = st.query(params![profile, attribution, day(from), day(to)])?;
            while let Some(r) = rows.next()? {
                read(r)?;
            }
        }
    }
    Ok(out)
}

/// acos_band, cpc_trend (campaign; acos_band also per marketplace), tacos
/// and ad_reliance (marketplace): the rule's ratio per day.
fn ads_ratio(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let Some((profile, currency)) = profile(c)? else {
        return Ok(None);
    };
    let campaign = match c.item.key("campaign_id") {
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    if c.item.rule == RuleId::CpcTrend && campaign.is_none() {
        return Ok(None);
    }
    // Attributed sales mature for attribution_days: those series end where
    // the rule's matured window ends. Cost and clicks are final next day.
    let attributed = matches!(c.item.rule, RuleId::AcosBand | RuleId::AdReliance);
    let (from, to) = if attributed {
        c.matured()
    } else {
        (c.from, c.to)
    };
    let ads = ad_days(c, profile, campaign, from, to)?;
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a * 100.0 / b);
    let (label, known, threshold): (String, BTreeMap<NaiveDate, Option<f64>>, Option<f64>) = match c
        .item
        .rule
    {
        RuleId::AcosBand => (
            "ACoS per day (%)".into(),
            ads.iter()
                .map(|(d, (cost, _, sales))| (*d, ratio(*cost, sales.unwrap_or(0.0))))
                .collect(),
            c.item.threshold,
        ),
        RuleId::CpcTrend => (
            format!("cost per click per day ({currency})"),
            ads.iter()
                .map(|(d, (cost, clicks, _))| (*d, (*clicks > 0).then(|| cost / *clicks as f64)))
                .collect(),
            None,
        ),
        rule => {
            // tacos / ad_reliance: over the account's total ordered
            // sales of the day (daily sales & traffic series).
            let sales = daily_rows(c, from, to)?;
            let cover = ads_coverage(c, profile, &["SP", "SB", "SD"])?;
            let known = sales
                .into_iter()
                .map(|(d, (_, _, total))| {
                    let (cost, _, attributed) = match ads.get(&d) {
                        Some(x) => (Some(x.0), x.1, x.2),
                        // No Ads row on a day the reports cover: no spend.
                        None if cover.is_some_and(|(f, l)| d >= f && d <= l) => {
                            (Some(0.0), 0, Some(0.0))
                        }
                        None => (None, 0, None),
                    };
                    let top = if rule == RuleId::Tacos {
                        cost
                    } else {
                        attributed
                    };
                    (d, top.and_then(|t| ratio(t, total.unwrap_or(0.0))))
                })
                .collect();
            let label = if rule == RuleId::Tacos {
                "ad spend per total sales, per day (%)"
            } else {
                "ad-attributed share of total sales, per day (%)"
            };
            (label.into(), known, c.item.threshold)
        }
    };
    Ok(Some(series(
        label,
        daily(from, to, &known, |_| false),
        threshold,
    )))
}

/// wasted_spend: the search term's spend per day in its campaign. The
/// report lists only terms with clicks, so a synced day without a row had
/// no spend.
fn term_cost(c: &Ctx) -> Result<Option<Series>, StoreError> {
    let (Some(campaign), Some(term)) = (c.item.key("campaign_id"), c.item.key("search_term"))
    else {
        return Ok(None);
    };
    let Ok(campaign) = campaign.parse::<i64>() else {
        return Ok(None);
    };
    let Some((profile, currency)) = profile(c)? else {
        return Ok(None);
    };
    let known = day_values(
        c.conn,
        SQL_TERM_COST,
        params![profile, campaign, term, day(c.from), day(c.to)],
    )?;
    let cover = ads_coverage(c, profile, &["SP"])?;
    let covered = |d: NaiveDate| cover.is_some_and(|(f, l)| d >= f && d <= l);
    Ok(Some(series(
        format!("ad spend on the search term per day ({currency})"),
        daily(c.from, c.to, &known, covered),
        None,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::series::ItemKind;
    use serde_json::json;

    const MP: &str = "ATVPDKIKX0DER";

    fn cfg() -> Config {
        crate::config::test_config("")
    }

    /// A migrated temp database with the account and marketplace.
    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, _) = crate::store::open_and_migrate(&dir.path().join("f.db")).unwrap();
        crate::store::ops::sync_accounts(&mut conn, &cfg(), Utc::now()).unwrap();
        (dir, conn)
    }

    fn item(finding: serde_json::Value) -> Item {
        Item::from_finding_json(&finding, ItemKind::Firing, "fp", Utc::now()).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const T: &str = "2026-03-01T00:00:00Z";

    #[test]
    fn conversion_rate_is_the_rolling_window_with_gaps() {
        let (_dir, conn) = db();
        // 14-day windows ending 03-05, 03-06 (ASIN absent: no orders) and
        // 03-08; none stored ending 03-07. A 7-day window must not count.
        for (start, end, row) in [
            ("2026-02-20", "2026-03-05", Some((200, 24))),
            ("2026-02-21", "2026-03-06", None),
            ("2026-02-23", "2026-03-08", Some((100, 7))),
            ("2026-03-02", "2026-03-08", Some((50, 40))),
        ] {
            conn.execute(
                "INSERT INTO sales_traffic_windows VALUES ('a', ?1, ?2, ?3, 1, ?4)",
                params![MP, start, end, T],
            )
            .unwrap();
            if let Some((sessions, units)) = row {
                conn.execute(
                    "INSERT INTO sales_traffic_asin (account, marketplace_id, asin, window_start,
                         window_end, sessions, units_ordered, fetched_at)
                     VALUES ('a', ?1, 'B0A', ?2, ?3, ?4, ?5, ?6)",
                    params![MP, start, end, sessions, units, T],
                )
                .unwrap();
            }
        }
        let it = item(
            json!({"rule": "conversion_rate", "severity": "warning", "account": "a",
            "marketplace": MP, "asin": "B0A", "value": 7.0, "threshold": 12.0,
            "window": {"start": "2026-02-23", "end": "2026-03-08"}}),
        );
        let s = for_item(&conn, &cfg(), &it, d("2026-03-09"), 5)
            .unwrap()
            .unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-03-04"), None),
                (d("2026-03-05"), Some(12.0)),
                (d("2026-03-06"), None), // absent from a stored window: unknown
                (d("2026-03-07"), None), // no window stored
                (d("2026-03-08"), Some(7.0)),
            ]
        );
        assert_eq!(s.threshold, Some(12.0));
        assert!(
            s.label.contains("14 days") && s.label.contains('%'),
            "{}",
            s.label
        );
    }

    #[test]
    fn stockout_risk_plots_the_last_observation_of_each_day() {
        let (_dir, conn) = db();
        for (at, day, units) in [
            ("2026-03-05T08:00:00Z", "2026-03-05", 30),
            ("2026-03-05T20:00:00Z", "2026-03-05", 12),
            ("2026-03-07T08:00:00Z", "2026-03-07", 0),
        ] {
            conn.execute(
                "INSERT INTO inventory_snapshots (account, marketplace_id, sku, source, observed_at,
                     observed_day, fulfillable)
                 VALUES ('a', ?1, 'SKU-1', 'fba_inventory', ?2, ?3, ?4)",
                params![MP, at, day, units],
            )
            .unwrap();
        }
        let it = item(
            json!({"rule": "stockout_risk", "severity": "critical", "account": "a",
            "marketplace": MP, "sku": "SKU-1", "value": 0.0, "threshold": 37.0}),
        );
        // Stock is judged "now": the series ends on the date itself.
        let s = for_item(&conn, &cfg(), &it, d("2026-03-07"), 3)
            .unwrap()
            .unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-03-05"), Some(12.0)),
                (d("2026-03-06"), None), // not observed: a gap, not 0
                (d("2026-03-07"), Some(0.0)),
            ]
        );
        // Days of cover and units are different units: no threshold line.
        assert_eq!(s.threshold, None);
    }

    fn ads_fixture(conn: &Connection) {
        conn.execute(
            "INSERT INTO ads_profiles (profile_id, account, country_code, currency, timezone,
                 marketplace_id, account_type, fetched_at)
             VALUES (7, 'a', 'US', 'USD', 'America/Los_Angeles', ?1, 'seller', ?2)",
            params![MP, T],
        )
        .unwrap();
        // Campaign 1005 (SP) and 2001 (SB) over 02-01 … 02-05; 02-03 has no row
        // for 1005; SB reads sales_14d.
        for (product, campaign, date, cost, s7, s14) in [
            ("SP", 1005, "2026-02-01", 10.0, 40.0, 50.0),
            ("SP", 1005, "2026-02-02", 20.0, 0.0, 0.0),
            ("SP", 1005, "2026-02-04", 30.0, 100.0, 120.0),
            ("SP", 1005, "2026-02-05", 5.0, 20.0, 20.0),
            ("SB", 2001, "2026-02-03", 10.0, 0.0, 20.0),
        ] {
            conn.execute(
                "INSERT INTO ads_campaign_daily (profile_id, ad_product, date, campaign_id,
                     impressions, clicks, cost, sales_7d, sales_14d, currency, fetched_at)
                 VALUES (7, ?1, ?2, ?3, 100, 10, ?4, ?5, ?6, 'USD', ?7)",
                params![product, date, campaign, cost, s7, s14, T],
            )
            .unwrap();
        }
    }

    #[test]
    fn acos_band_ends_at_the_matured_window_with_gaps() {
        let (_dir, conn) = db();
        ads_fixture(&conn);
        // Attribution 7 days: as of 02-13 the matured series ends 02-05.
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP, "campaign_id": "1005", "value": 41.8, "threshold": 25.0}),
        );
        let s = for_item(&conn, &cfg(), &it, d("2026-02-13"), 5)
            .unwrap()
            .unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-02-01"), Some(25.0)),
                (d("2026-02-02"), None), // spend without sales: ACoS infinite, not plotted
                (d("2026-02-03"), None), // no row
                (d("2026-02-04"), Some(30.0)),
                (d("2026-02-05"), Some(25.0)),
            ]
        );
        assert_eq!(s.threshold, Some(25.0));
        // The marketplace band sums every campaign (SB on its 14-day sales).
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP, "value": 30.0, "threshold": 25.0}),
        );
        let s = for_item(&conn, &cfg(), &it, d("2026-02-13"), 5)
            .unwrap()
            .unwrap();
        assert_eq!(s.points[2], (d("2026-02-03"), Some(50.0)));
    }

    #[test]
    fn wasted_spend_is_zero_on_synced_days_without_clicks() {
        let (_dir, conn) = db();
        ads_fixture(&conn);
        conn.execute(
            "INSERT INTO ads_search_term_daily (profile_id, ad_product, date, campaign_id, ad_group_id,
                 keyword_id, search_term, impressions, clicks, cost, currency, fetched_at)
             VALUES (7, 'SP', '2026-02-02', 1005, 1, 0, 'red mug', 50, 5, 3.5, 'USD', ?1)",
            params![T],
        )
        .unwrap();
        let it = item(
            json!({"rule": "wasted_spend", "severity": "warning", "account": "a",
            "marketplace": MP, "campaign_id": "1005", "search_term": "red mug",
            "value": 20.0, "threshold": 15.0}),
        );
        let s = for_item(&conn, &cfg(), &it, d("2026-02-08"), 7)
            .unwrap()
            .unwrap();
        let v: Vec<Option<f64>> = s.points.iter().map(|p| p.1).collect();
        // 02-01 … 02-05 synced (0 or spend); 02-06, 02-07 beyond the Ads data.
        assert_eq!(
            v,
            vec![
                Some(0.0),
                Some(3.5),
                Some(0.0),
                Some(0.0),
                Some(0.0),
                None,
                None
            ]
        );
    }

    #[test]
    fn growth_stall_counts_units_only_where_orders_cover_the_day() {
        let (_dir, conn) = db();
        for (id, day, qty) in [("o1", "2026-03-02", 2), ("o2", "2026-03-04", 3)] {
            conn.execute(
                "INSERT INTO orders (account, order_id, marketplace_id, purchase_date, purchase_day,
                     last_updated_date, status, raw_status, source, fetched_at)
                 VALUES ('a', ?1, ?2, ?3, ?4, ?3, 'shipped', 'Shipped', 'api', ?3)",
                params![id, MP, format!("{day}T18:00:00Z"), day],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO order_items (account, order_id, sku, asin, quantity, item_price)
                 VALUES ('a', ?1, 'SKU-1', 'B0A', ?2, 20.0)",
                params![id, qty],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO job_runs (job, account, started_at, finished_at, status)
             VALUES ('orders', 'a', '2026-03-05T18:00:00Z', '2026-03-05T18:01:00Z', 'ok')",
            [],
        )
        .unwrap();
        let it = item(
            json!({"rule": "growth_stall", "severity": "warning", "account": "a",
            "marketplace": MP, "asin": "B0A", "value": 5.0, "threshold": 30.0}),
        );
        let s = for_item(&conn, &cfg(), &it, d("2026-03-07"), 6)
            .unwrap()
            .unwrap();
        let v: Vec<Option<f64>> = s.points.iter().map(|p| p.1).collect();
        // Before the first order and after the last sync: unknown.
        assert_eq!(
            v,
            vec![None, Some(2.0), Some(0.0), Some(3.0), Some(0.0), None]
        );
        let it = item(
            json!({"rule": "margin_floor", "severity": "warning", "account": "a",
            "marketplace": MP, "sku": "SKU-1", "value": 5.0, "threshold": 10.0}),
        );
        let s = for_item(&conn, &cfg(), &it, d("2026-03-07"), 6)
            .unwrap()
            .unwrap();
        assert_eq!(s.points[1], (d("2026-03-02"), Some(10.0)));
        assert_eq!(s.points[2], (d("2026-03-03"), None));
    }

    #[test]
    fn rules_without_a_daily_series_and_items_without_keys() {
        let (_dir, conn) = db();
        for rule in [
            "account_health",
            "listing_health",
            "data_freshness",
            "credentials",
        ] {
            let it = item(json!({"rule": rule, "severity": "critical", "account": "a",
                "marketplace": MP, "sku": "S"}));
            assert!(for_item(&conn, &cfg(), &it, d("2026-03-07"), 30)
                .unwrap()
                .is_none());
        }
        let it = item(
            json!({"rule": "stockout_risk", "severity": "critical", "account": "a",
            "marketplace": MP}),
        );
        assert!(for_item(&conn, &cfg(), &it, d("2026-03-07"), 30)
            .unwrap()
            .is_none());
        // No Ads profile: no ACoS series.
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP}),
        );
        assert!(for_item(&conn, &cfg(), &it, d("2026-03-07"), 30)
            .unwrap()
            .is_none());
    }

    #[test]
    fn every_other_rule_gives_a_series_of_the_requested_days() {
        let (_dir, conn) = db();
        ads_fixture(&conn);
        let subject = json!({"asin": "B0A", "sku": "S", "campaign_id": "1005",
            "search_term": "red mug"});
        for rule in [
            "traffic_trend",
            "buy_box",
            "bsr_trend",
            "feedback_response_sla",
            "feedback_rate",
            "return_rate",
            "inventory_turnover",
            "cpc_trend",
            "tacos",
            "ad_reliance",
        ] {
            let mut f = json!({"rule": rule, "severity": "warning", "account": "a",
                "marketplace": MP, "value": 1.0, "threshold": 2.0});
            for (k, v) in subject.as_object().unwrap() {
                f[k] = v.clone();
            }
            // Long after the Ads fixture's days: nothing in range.
            let s = for_item(&conn, &cfg(), &item(f), d("2026-04-30"), 30)
                .unwrap()
                .unwrap_or_else(|| panic!("{rule}"));
            assert_eq!(s.points.len(), 30, "{rule}");
            assert!(s.points.iter().all(|p| p.1.is_none()), "{rule}: empty db");
        }
    }

    #[test]
    fn query_plans_use_indexes() {
        let (_dir, conn) = db();
        for sql in [
            SQL_ASIN_WINDOWS,
            SQL_RANKS,
            SQL_ASIN_UNITS,
            SQL_SKU_PRICE,
            SQL_FIRST_ORDER_DAY,
            SQL_LAST_ORDER_DAY,
            SQL_JOB_OK_SPAN,
            SQL_STOCK,
            SQL_DAYS_OF_SUPPLY,
            SQL_RETURNS,
            SQL_FEEDBACK,
            SQL_DAILY,
            SQL_TOPIC,
            SQL_QUERY_WEEKS,
            SQL_PROFILE,
            SQL_ADS_SPAN,
            SQL_CAMPAIGN_DAYS,
            SQL_PROFILE_DAYS,
            SQL_TERM_COST,
        ] {
            let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let mut rows = st.raw_query();
            let mut plan = Vec::new();
            while let Some(r) = rows.next().unwrap() {
                plan.push(r.get::<_, String>(3).unwrap());
            }
            // Order lines are read through the subject's index, orders by key.
            if sql == SQL_ASIN_UNITS || sql == SQL_SKU_PRICE {
                assert!(plan[0].contains("order_items_by_"), "{sql}\n{plan:#?}");
                assert!(
                    plan[1].contains("PRIMARY KEY") || plan[1].contains("autoindex_orders"),
                    "{plan:#?}"
                );
            }
            for step in &plan {
                // A full scan of a table (no index) is what must never happen.
                let full_scan = step.starts_with("SCAN ")
                    && !step.contains("USING")
                    && !step.contains("CONSTANT ROW");
                assert!(!full_scan, "{sql}\n{plan:#?}");
            }
        }
    }
}
