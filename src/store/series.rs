//! The stored history of one alert's subject, for its trend chart: the rows
//! its rule reads, over the chart's days and the windows ending on them,
//! loaded into the shapes of [`crate::model::history::History`]. What the
//! chart plots is `rules::series`'s business (the rule's own metric per
//! day); this module only reads.
//!
//! Only the subject's rows are read, each with a range scan on an index of
//! its table (checked by the `query_plans_use_indexes` test): catalogues
//! have 20,000 SKUs. Days are marketplace days (Ads: the profile's), as
//! stored. Data is read as known at the finding's evaluation (`as_of`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::ops::ts;
use super::snapshot::{day, parse_day, parse_ts};
use super::StoreError;
use crate::config::{Config, RuleId};
use crate::model::history::{FeedbackRecord, History};
use crate::model::series::Item;
use crate::model::snapshot::{
    AdDay, AdsData, AdvertisedDays, CampaignDays, FeeRow, OrderDay, OrderDays, PlanningRow,
    QueryWeek, RankRow, ReturnRow, SearchTermDays, Snapshot, TopicRow,
};

/// Per-ASIN sales & traffic windows starting in the range, with the
/// ASIN's row when it has one (an ASIN absent from a synced window had no
/// orders in it).
const SQL_ASIN_WINDOWS: &str = "
    SELECT w.window_start, w.window_end, r.asin IS NOT NULL, r.sessions, r.page_views,
           r.buy_box_pct, r.units_ordered, r.ordered_product_sales
    FROM sales_traffic_windows w
    LEFT JOIN sales_traffic_asin r
        ON r.account = w.account AND r.marketplace_id = w.marketplace_id AND r.asin = ?3
       AND r.window_start = w.window_start AND r.window_end = w.window_end
    WHERE w.account = ?1 AND w.marketplace_id = ?2 AND w.window_start BETWEEN ?4 AND ?5";

const SQL_RANKS: &str = "
    SELECT snapshot_date, display_group_rank FROM catalog_ranks
    WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3 AND snapshot_date BETWEEN ?4 AND ?5
      AND observed_at <= ?6";

/// Units ordered and item price totals per purchase day of one SKU
/// (non-cancelled, Amazon channel), as `store::snapshot` reads them. CROSS
/// JOIN keeps the SKU's order lines as the outer loop (SQLite would
/// otherwise scan every order of the range and probe the lines of each).
const SQL_SKU_ORDERS: &str = "
    SELECT o.purchase_day, SUM(i.quantity), SUM(COALESCE(i.item_price, 0))
    FROM order_items i CROSS JOIN orders o ON o.account = i.account AND o.order_id = i.order_id
    WHERE i.account = ?1 AND i.sku = ?2 AND o.marketplace_id = ?3
      AND o.purchase_day BETWEEN ?4 AND ?5 AND o.purchase_date <= ?6
      AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    GROUP BY o.purchase_day";

/// The same over every SKU of the marketplace (total sales).
const SQL_MARKET_ORDERS: &str = "
    SELECT o.purchase_day, SUM(i.quantity), SUM(COALESCE(i.item_price, 0))
    FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
    WHERE o.account = ?1 AND o.marketplace_id = ?2
      AND o.purchase_day BETWEEN ?3 AND ?4 AND o.purchase_date <= ?5
      AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    GROUP BY o.purchase_day";

/// The orders' history reach (the first purchase day of the marketplace).
const SQL_FIRST_ORDER_DAY: &str =
    "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2";

const SQL_RETURNS: &str = "
    SELECT return_date, SUM(quantity) FROM returns
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND return_date BETWEEN ?4 AND ?5
      AND fetched_at <= ?6
    GROUP BY return_date";

/// Stock observations of one SKU, oldest first (the last of a day wins).
const SQL_STOCK: &str = "
    SELECT observed_day, source, fulfillable,
           COALESCE(inbound_working, 0) + COALESCE(inbound_shipped, 0) + COALESCE(inbound_receiving, 0),
           observed_at
    FROM inventory_snapshots
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND observed_day BETWEEN ?4 AND ?5
      AND observed_at <= ?6
    ORDER BY observed_day, observed_at";

const SQL_PLANNING: &str = "
    SELECT snapshot_date, days_of_supply FROM inventory_planning
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND snapshot_date BETWEEN ?4 AND ?5";

const SQL_FEEDBACK: &str = "
    SELECT order_id, feedback_date, rating, first_seen_at, your_response, response_seen_at,
           acknowledged_at
    FROM seller_feedback
    WHERE account = ?1 AND marketplace_id = ?2 AND feedback_date BETWEEN ?3 AND ?4";

/// The first successful finish of a job for an account.
const SQL_JOB_FIRST_OK: &str =
    "SELECT MIN(finished_at) FROM job_runs WHERE job = ?1 AND account = ?2 AND status = 'ok'";

/// A negative topic's monthly points, as `store::snapshot` reads them
/// (months that began before the evaluation date).
const SQL_TOPIC: &str = "
    SELECT period_start, occurrence_pct FROM review_topic_trends
    WHERE account = ?1 AND marketplace_id = ?2 AND subject_kind = 'asin' AND subject_id = ?3
      AND sentiment = 'negative' AND topic = ?4 AND period_start >= ?5 AND period_start < ?6
      AND fetched_at <= ?7 AND occurrence_pct IS NOT NULL
    ORDER BY period_start";

const SQL_QUERY_WEEKS: &str = "
    SELECT week_start, week_end, search_query_volume, impression_share, click_share
    FROM search_query_performance
    WHERE account = ?1 AND marketplace_id = ?2 AND asin = ?3 AND week_start BETWEEN ?4 AND ?5
      AND search_query = ?6 AND week_end < ?7";

/// The newest fee estimate of one SKU.
const SQL_FEE: &str = "
    SELECT price, total_fees, referral_fee, fba_fee FROM fee_estimates
    WHERE account = ?1 AND marketplace_id = ?2 AND sku = ?3 AND estimated_at <= ?4
    ORDER BY estimated_at DESC LIMIT 1";

/// The marketplace's Ads profile (the first, as the rules read it).
const SQL_PROFILE: &str = "
    SELECT profile_id, currency FROM ads_profiles WHERE account = ?1 AND marketplace_id = ?2
    ORDER BY profile_id LIMIT 1";

/// The synced days of one ad product before the date (MIN/MAX on the
/// primary key).
const SQL_ADS_SPAN: &str = "
    SELECT (SELECT MIN(date) FROM ads_campaign_daily WHERE profile_id = ?1 AND ad_product = ?2 AND date < ?3),
           (SELECT MAX(date) FROM ads_campaign_daily WHERE profile_id = ?1 AND ad_product = ?2 AND date < ?3)";

/// Attributed purchases and sales as the rules read them: SP's columns of
/// the attribution window (`?A` = attribution_days), SB/SD's 14-day ones.
const ATTRIBUTED: &str = "
    CASE WHEN ad_product = 'SP' AND ?A = 7 THEN purchases_7d ELSE purchases_14d END,
    CASE WHEN ad_product = 'SP' AND ?A = 7 THEN sales_7d ELSE sales_14d END";

/// One campaign's days (`?A` is `?5`).
const SQL_CAMPAIGN_DAYS: &str = "
    SELECT ad_product, campaign_id, date, impressions, clicks, cost, {ATTRIBUTED}
    FROM ads_campaign_daily
    WHERE profile_id = ?1 AND campaign_id = ?2 AND date BETWEEN ?3 AND ?4";

/// Every campaign's days of the profile (`?A` is `?4`).
const SQL_PROFILE_DAYS: &str = "
    SELECT ad_product, campaign_id, date, impressions, clicks, cost, {ATTRIBUTED}
    FROM ads_campaign_daily
    WHERE profile_id = ?1 AND ad_product IN ('SP', 'SB', 'SD') AND date BETWEEN ?2 AND ?3";

/// One search term's days in one campaign, over its ad groups and keywords.
const SQL_TERM_DAYS: &str = "
    SELECT date, SUM(impressions), SUM(clicks), SUM(cost),
           SUM(CASE WHEN ad_product = 'SP' AND ?6 = 7 THEN purchases_7d ELSE purchases_14d END),
           SUM(CASE WHEN ad_product = 'SP' AND ?6 = 7 THEN sales_7d ELSE sales_14d END)
    FROM ads_search_term_daily
    WHERE profile_id = ?1 AND campaign_id = ?2 AND search_term = ?3 AND date BETWEEN ?4 AND ?5
    GROUP BY date";

/// One SKU's advertised-product spend per campaign and day.
const SQL_SKU_AD_COST: &str = "
    SELECT campaign_id, date, SUM(cost) FROM ads_advertised_product_daily
    WHERE profile_id = ?1 AND advertised_sku = ?2 AND date BETWEEN ?3 AND ?4
    GROUP BY campaign_id, date";

/// What the caller asked for, resolved once.
struct Ctx<'a> {
    conn: &'a Connection,
    cfg: &'a Config,
    item: &'a Item,
    account: &'a str,
    marketplace: &'a str,
    /// The first day read, the evaluation date and instant.
    from: NaiveDate,
    at: NaiveDate,
    as_of: DateTime<Utc>,
}

impl Ctx<'_> {
    fn key(&self, k: &str) -> Option<&str> {
        self.item.key(k)
    }

    /// The last day of windowed data: the day before the date.
    fn to(&self) -> NaiveDate {
        self.at - Duration::days(1)
    }

    /// The parameters of a query over one subject's windowed days
    /// `from..=to()`: account, marketplace, subject, first and last day,
    /// then `more`.
    fn subject_params<const N: usize>(
        &self,
        subject: &str,
        more: [String; N],
    ) -> impl rusqlite::Params {
        let head = [self.account, self.marketplace, subject].map(str::to_string);
        let days = [day(self.from), day(self.to())];
        rusqlite::params_from_iter(head.into_iter().chain(days).chain(more))
    }

    /// `(day, value)` rows of one subject's windowed days as known at
    /// `as_of`: `sql` takes the [`Ctx::subject_params`] and the instant.
    fn known_days<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        subject: &str,
    ) -> Result<BTreeMap<NaiveDate, T>, StoreError> {
        by_day(
            self.conn,
            sql,
            self.subject_params(subject, [ts(self.as_of)]),
        )
    }
}

/// The stored history `item`'s rule reads for its subject, over the days
/// `from..=at` (`at` a marketplace day; only data known at `as_of`).
/// `None` for rules without a chart (account_health, listing_health,
/// data_freshness, credentials) and for items lacking the keys their rule
/// needs.
pub fn history(
    conn: &Connection,
    cfg: &Config,
    item: &Item,
    from: NaiveDate,
    at: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<Option<History>, StoreError> {
    let (Some(account), Some(marketplace)) = (item.key("account"), item.key("marketplace")) else {
        return Ok(None);
    };
    let mut snap = Snapshot::empty(account, marketplace, as_of);
    snap.time_zone = crate::model::marketplace::lookup(marketplace)
        .map(|m| m.tz)
        .unwrap_or(chrono_tz::UTC);
    let mut h = History::new(snap);
    let c = Ctx {
        conn,
        cfg,
        item,
        account,
        marketplace,
        from,
        at,
        as_of,
    };
    use RuleId::*;
    let found = match item.rule {
        ConversionRate | TrafficTrend | BuyBox | GrowthStall => asin_windows(&c, &mut h)?,
        BsrTrend => ranks(&c, &mut h)?,
        KeywordShare => query_weeks(&c, &mut h)?,
        ReviewTopics => topic(&c, &mut h)?,
        RatingFloor => ratings(&c, &mut h),
        FeedbackResponseSla => feedback(&c, &mut h)?,
        FeedbackRate => {
            daily(&c, &mut h)?;
            true
        }
        ReturnRate => returns(&c, &mut h)?,
        StockoutRisk => stock(&c, &mut h)?,
        InventoryTurnover => planning(&c, &mut h)?,
        MarginFloor => margin(&c, &mut h)?,
        AcosBand | CpcTrend | WastedSpend => ads(&c, &mut h)?,
        Tacos | AdReliance => {
            daily(&c, &mut h)?;
            h.snap.orders = Some(orders(&c, None)?);
            ads(&c, &mut h)?
        }
        AccountHealth | ListingHealth | DataFreshness | Credentials => false,
    };
    Ok(found.then_some(h))
}

/// `(day, value)` rows of a query whose first column is a day.
fn by_day<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<BTreeMap<NaiveDate, T>, StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(p)?;
    let mut out = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            out.insert(d, r.get(1)?);
        }
    }
    Ok(out)
}

/// Calls `f` with each row of a query whose first two columns are the
/// days of a window (rows whose days do not parse are skipped).
fn by_window(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    mut f: impl FnMut(NaiveDate, NaiveDate, &rusqlite::Row<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(p)?;
    while let Some(r) = rows.next()? {
        let (s, e): (String, String) = (r.get(0)?, r.get(1)?);
        if let (Some(s), Some(e)) = (parse_day(&s), parse_day(&e)) {
            f(s, e, r)?;
        }
    }
    Ok(())
}

/// conversion_rate, traffic_trend, buy_box, growth_stall: the stored
/// per-ASIN windows, with the ASIN's row where it has one.
fn asin_windows(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(asin) = c.key("asin") else {
        return Ok(false);
    };
    by_window(
        c.conn,
        SQL_ASIN_WINDOWS,
        c.subject_params(asin, []),
        |s, e, r| {
            let m = h.snap.asin_windows.entry((s, e)).or_default();
            if r.get::<_, bool>(2)? {
                m.insert(asin.to_string(), super::snapshot::asin_window_at(r, 3)?);
            }
            Ok(())
        },
    )?;
    Ok(true)
}

/// bsr_trend: the ASIN's daily rank samples.
fn ranks(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(asin) = c.key("asin") else {
        return Ok(false);
    };
    let known: BTreeMap<NaiveDate, Option<i64>> = c.known_days(SQL_RANKS, asin)?;
    let rows = known
        .into_iter()
        .map(|(date, rank)| RankRow {
            date,
            rank,
            display_group: None,
            classification_rank: None,
            classification_title: None,
        })
        .collect();
    h.snap.ranks.insert(asin.to_string(), rows);
    Ok(true)
}

/// keyword_share: the tracked query's complete weeks.
fn query_weeks(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let (Some(asin), Some(query)) = (c.key("asin"), c.key("search_term")) else {
        return Ok(false);
    };
    let p = c.subject_params(asin, [query.to_string(), day(c.at)]);
    let weeks = h.snap.search_queries.entry(asin.to_string()).or_default();
    by_window(c.conn, SQL_QUERY_WEEKS, p, |week_start, week_end, r| {
        weeks.push(QueryWeek {
            week_start,
            week_end,
            query: query.to_string(),
            volume: r.get(2)?,
            impression_share: r.get(3)?,
            click_share: r.get(4)?,
        });
        Ok(())
    })?;
    Ok(true)
}

/// review_topics: the finding's topic with its monthly points.
fn topic(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(asin) = c.key("asin") else {
        return Ok(false);
    };
    let Some(topic) = c
        .item
        .evidence
        .iter()
        .find(|(k, _)| k == "topic")
        .and_then(|(_, v)| v.as_str())
    else {
        return Ok(false);
    };
    let trend: BTreeMap<NaiveDate, f64> = by_day(
        c.conn,
        SQL_TOPIC,
        params![
            c.account,
            c.marketplace,
            asin,
            topic,
            day(c.from),
            day(c.at),
            ts(c.as_of)
        ],
    )?;
    let row = TopicRow {
        topic: topic.to_string(),
        sentiment: "negative".into(),
        occurrence_pct: None,
        star_rating_impact: None,
        browse_node_occurrence_pct: None,
        trend: trend.into_iter().collect(),
    };
    h.snap.review_topics = Some(HashMap::from([(asin.to_string(), vec![row])]));
    Ok(true)
}

/// rating_floor: the user's ratings file (no Amazon API serves ratings).
fn ratings(c: &Ctx, h: &mut History) -> bool {
    if c.key("asin").is_none() {
        return false;
    }
    let account = c.cfg.accounts.iter().find(|a| a.name == c.account);
    let Some(path) = account
        .and_then(|a| a.ratings_file.as_ref())
        .or(c.cfg.ratings_file.as_ref())
    else {
        return false;
    };
    match super::snapshot::read_ratings(path) {
        Ok(rows) => {
            h.snap.ratings = Some(rows);
            true
        }
        Err(_) => false,
    }
}

/// feedback_response_sla: the marketplace's seller feedback with the
/// instants it was seen, answered and acknowledged.
fn feedback(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let first_ok: Option<String> = c
        .conn
        .prepare_cached(SQL_JOB_FIRST_OK)?
        .query_row(params!["seller_feedback", c.account], |r| r.get(0))?;
    h.feedback_synced_from = first_ok.as_deref().and_then(parse_ts);
    let mut st = c.conn.prepare_cached(SQL_FEEDBACK)?;
    let mut rows = st.query(params![c.account, c.marketplace, day(c.from), day(c.at)])?;
    while let Some(r) = rows.next()? {
        let (d, seen): (String, String) = (r.get(1)?, r.get(3)?);
        let (Some(date), Some(first_seen_at)) = (parse_day(&d), parse_ts(&seen)) else {
            continue;
        };
        let response: Option<String> = r.get(4)?;
        let response_seen: Option<String> = r.get(5)?;
        let acknowledged: Option<String> = r.get(6)?;
        h.feedback.push(FeedbackRecord {
            order_id: r.get(0)?,
            date,
            rating: r.get::<_, i64>(2)?.clamp(0, 5) as u8,
            first_seen_at,
            has_response: response.is_some_and(|x| !x.trim().is_empty()),
            response_seen_at: response_seen.as_deref().and_then(parse_ts),
            acknowledged_at: acknowledged.as_deref().and_then(parse_ts),
        });
    }
    Ok(true)
}

/// The account's daily sales & traffic series (as the snapshot reads it).
fn daily(c: &Ctx, h: &mut History) -> Result<(), StoreError> {
    let (from, until) = (day(c.from), day(c.at));
    h.snap.daily = super::snapshot::daily_rows(c.conn, c.account, c.marketplace, &from, &until)?;
    Ok(())
}

/// Order days: one SKU's (keyed by it), or every SKU's summed (keyed "").
fn orders(c: &Ctx, sku: Option<&str>) -> Result<OrderDays, StoreError> {
    let first: Option<String> = c
        .conn
        .prepare_cached(SQL_FIRST_ORDER_DAY)?
        .query_row(params![c.account, c.marketplace], |r| r.get(0))?;
    let (from, to, as_of) = (day(c.from), day(c.to()), ts(c.as_of));
    let mut st = match sku {
        Some(_) => c.conn.prepare_cached(SQL_SKU_ORDERS)?,
        None => c.conn.prepare_cached(SQL_MARKET_ORDERS)?,
    };
    let mut rows = match sku {
        Some(k) => st.query(params![c.account, k, c.marketplace, from, to, as_of])?,
        None => st.query(params![c.account, c.marketplace, from, to, as_of])?,
    };
    let mut days = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            days.insert(
                d,
                OrderDay {
                    units: r.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    sales: r.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                },
            );
        }
    }
    Ok(OrderDays {
        first_day: first.as_deref().and_then(parse_day),
        by_sku: HashMap::from([(sku.unwrap_or_default().to_string(), days)]),
        shipped: HashMap::new(),
    })
}

/// return_rate: the SKU's shipped units by ship day and its returns.
fn returns(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(sku) = c.key("sku") else {
        return Ok(false);
    };
    let mut o = orders(c, Some(sku))?;
    let tz = h.snap.time_zone;
    let range = (
        crate::model::time::day_start(&tz, c.from),
        crate::model::time::day_start(&tz, c.at).min(c.as_of),
    );
    o.shipped =
        super::snapshot::shipped_units(c.conn, c.account, c.marketplace, Some(sku), range, tz)?;
    h.snap.orders = Some(o);
    let returned: BTreeMap<NaiveDate, i64> = c.known_days(SQL_RETURNS, sku)?;
    h.snap.returns = Some(
        returned
            .into_iter()
            .map(|(date, quantity)| ReturnRow {
                sku: sku.to_string(),
                date,
                quantity,
                reason: None,
            })
            .collect(),
    );
    Ok(true)
}

/// stockout_risk: the SKU's last stock observation of each day, and its
/// orders (the sales velocity).
fn stock(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(sku) = c.key("sku") else {
        return Ok(false);
    };
    h.snap.orders = Some(orders(c, Some(sku))?);
    let mut st = c.conn.prepare_cached(SQL_STOCK)?;
    let mut rows = st.query(params![
        c.account,
        c.marketplace,
        sku,
        day(c.from),
        day(c.at),
        ts(c.as_of)
    ])?;
    // Rows come oldest first: the last observation of a day wins.
    while let Some(r) = rows.next()? {
        let (d, source, at): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(4)?);
        let (Some(d), Some(observed_at)) = (parse_day(&d), parse_ts(&at)) else {
            continue;
        };
        let row = super::snapshot::stock_row(observed_at, &source, r.get(2)?, r.get(3)?);
        h.stock.insert(d, row);
    }
    Ok(true)
}

/// inventory_turnover: the SKU's planning rows by day.
fn planning(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(sku) = c.key("sku") else {
        return Ok(false);
    };
    let known: BTreeMap<NaiveDate, Option<f64>> = by_day(
        c.conn,
        SQL_PLANNING,
        params![c.account, c.marketplace, sku, day(c.from), day(c.at)],
    )?;
    h.planning = known
        .into_iter()
        .map(|(d, days_of_supply)| {
            (
                d,
                PlanningRow {
                    snapshot_date: Some(d),
                    days_of_supply,
                    ..PlanningRow::default()
                },
            )
        })
        .collect();
    Ok(true)
}

/// margin_floor: the SKU's orders, unit cost, newest fee estimate and
/// advertised-product spend.
fn margin(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some(sku) = c.key("sku") else {
        return Ok(false);
    };
    let account = c.cfg.accounts.iter().find(|a| a.name == c.account);
    let Some(path) = account
        .and_then(|a| a.costs_file.as_ref())
        .or(c.cfg.costs_file.as_ref())
    else {
        return Ok(false);
    };
    h.snap.costs = Some(super::snapshot::read_costs(path).unwrap_or_default());
    h.snap.orders = Some(orders(c, Some(sku))?);
    let fee = c
        .conn
        .prepare_cached(SQL_FEE)?
        .query_row(params![c.account, c.marketplace, sku, ts(c.as_of)], |r| {
            Ok(FeeRow {
                price: r.get(0)?,
                total_fees: r.get(1)?,
                referral_fee: r.get(2)?,
                fba_fee: r.get(3)?,
            })
        })
        .optional()?;
    if let Some(fee) = fee {
        h.snap.fees.insert(sku.to_string(), fee);
    }
    if let Some((profile, currency)) = profile(c)? {
        let mut data = AdsData {
            currency: Some(currency),
            ..AdsData::default()
        };
        let mut st = c.conn.prepare_cached(SQL_SKU_AD_COST)?;
        let mut rows = st.query(params![profile, sku, day(c.from), day(c.to())])?;
        let mut by_campaign: BTreeMap<i64, Vec<AdDay>> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let d: String = r.get(1)?;
            let Some(date) = parse_day(&d) else { continue };
            by_campaign.entry(r.get(0)?).or_default().push(AdDay {
                date,
                cost: r.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                ..AdDay::default()
            });
        }
        data.products = by_campaign
            .into_iter()
            .map(|(campaign_id, days)| AdvertisedDays {
                campaign_id,
                asin: String::new(),
                sku: sku.to_string(),
                days,
            })
            .collect();
        h.snap.ads = Some(data);
    }
    Ok(true)
}

/// The marketplace's Ads profile and currency.
fn profile(c: &Ctx) -> Result<Option<(i64, String)>, StoreError> {
    Ok(c.conn
        .prepare_cached(SQL_PROFILE)?
        .query_row(params![c.account, c.marketplace], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// An Ads day from a row whose columns from `i` are impressions, clicks,
/// cost, attributed purchases and sales.
fn ad_day(date: NaiveDate, r: &rusqlite::Row<'_>, i: usize) -> Result<AdDay, rusqlite::Error> {
    Ok(AdDay {
        date,
        impressions: r.get::<_, Option<i64>>(i)?.unwrap_or(0),
        clicks: r.get::<_, Option<i64>>(i + 1)?.unwrap_or(0),
        cost: r.get::<_, Option<f64>>(i + 2)?.unwrap_or(0.0),
        purchases: r.get(i + 3)?,
        sales: r.get(i + 4)?,
    })
}

/// acos_band, cpc_trend, tacos, ad_reliance, wasted_spend: the synced Ads
/// days of the profile, and the campaign's days (every campaign's for
/// marketplace subjects), or the search term's.
fn ads(c: &Ctx, h: &mut History) -> Result<bool, StoreError> {
    let Some((profile, currency)) = profile(c)? else {
        return Ok(false);
    };
    let campaign = match c.key("campaign_id") {
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return Ok(false),
        },
        None => None,
    };
    let attribution = c.cfg.sync.attribution_days as i64;
    let (from, to) = (day(c.from), day(c.to()));
    let mut data = AdsData {
        currency: Some(currency),
        ..AdsData::default()
    };
    let mut st = c.conn.prepare_cached(SQL_ADS_SPAN)?;
    for product in ["SP", "SB", "SD"] {
        let (f, l): (Option<String>, Option<String>) = st
            .query_row(params![profile, product, day(c.at)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let (f, l) = (
            f.as_deref().and_then(parse_day),
            l.as_deref().and_then(parse_day),
        );
        data.first_day = data.first_day.into_iter().chain(f).min();
        data.last_day = data.last_day.into_iter().chain(l).max();
    }
    if c.item.rule == RuleId::WastedSpend {
        let (Some(id), Some(term)) = (campaign, c.key("search_term")) else {
            return Ok(false);
        };
        let mut st = c.conn.prepare_cached(SQL_TERM_DAYS)?;
        let mut rows = st.query(params![profile, id, term, from, to, attribution])?;
        let mut days = Vec::new();
        while let Some(r) = rows.next()? {
            let d: String = r.get(0)?;
            if let Some(d) = parse_day(&d) {
                days.push(ad_day(d, r, 1)?);
            }
        }
        data.search_terms.push(SearchTermDays {
            campaign_id: id,
            search_term: term.to_string(),
            days,
        });
    } else {
        let attributed = ATTRIBUTED.replace(
            "?A",
            match campaign {
                Some(_) => "?5",
                None => "?4",
            },
        );
        let sql = match campaign {
            Some(_) => SQL_CAMPAIGN_DAYS,
            None => SQL_PROFILE_DAYS,
        }
        .replace("{ATTRIBUTED}", &attributed);
        let mut st = c.conn.prepare_cached(&sql)?;
        let mut rows = match campaign {
            Some(id) => st.query(params![profile, id, from, to, attribution])?,
            None => st.query(params![profile, from, to, attribution])?,
        };
        let mut index: HashMap<(String, i64), usize> = HashMap::new();
        while let Some(r) = rows.next()? {
            let (product, id, d): (String, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let Some(d) = parse_day(&d) else { continue };
            let k = *index.entry((product.clone(), id)).or_insert_with(|| {
                data.campaigns.push(CampaignDays {
                    campaign_id: id,
                    ad_product: product,
                    name: None,
                    days: Vec::new(),
                    top_of_search_share: Vec::new(),
                });
                data.campaigns.len() - 1
            });
            data.campaigns[k].days.push(ad_day(d, r, 3)?);
        }
    }
    h.snap.ads = Some(data);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_plans_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = crate::store::open_and_migrate(&dir.path().join("f.db")).unwrap();
        let attributed = |a: &str| ATTRIBUTED.replace("?A", a);
        let shipped_one = super::super::snapshot::SQL_SHIPPED.replace("{sku}", "AND i.sku = ?5");
        for sql in [
            SQL_ASIN_WINDOWS.to_string(),
            SQL_RANKS.into(),
            SQL_SKU_ORDERS.into(),
            SQL_MARKET_ORDERS.into(),
            SQL_FIRST_ORDER_DAY.into(),
            SQL_RETURNS.into(),
            SQL_STOCK.into(),
            SQL_PLANNING.into(),
            SQL_FEEDBACK.into(),
            SQL_JOB_FIRST_OK.into(),
            SQL_TOPIC.into(),
            SQL_QUERY_WEEKS.into(),
            SQL_FEE.into(),
            SQL_PROFILE.into(),
            SQL_ADS_SPAN.into(),
            SQL_CAMPAIGN_DAYS.replace("{ATTRIBUTED}", &attributed("?5")),
            SQL_PROFILE_DAYS.replace("{ATTRIBUTED}", &attributed("?4")),
            SQL_TERM_DAYS.into(),
            SQL_SKU_AD_COST.into(),
            shipped_one.clone(),
        ] {
            let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let mut rows = st.raw_query();
            let mut plan = Vec::new();
            while let Some(r) = rows.next().unwrap() {
                plan.push(r.get::<_, String>(3).unwrap());
            }
            // One SKU's order lines are read through its index, orders by key.
            if sql == SQL_SKU_ORDERS || sql == shipped_one {
                assert!(plan[0].contains("order_items_by_sku"), "{sql}\n{plan:#?}");
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
