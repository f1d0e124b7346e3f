//! The queries that build a rules [`Snapshot`] for one marketplace as of a
//! date, reading only what the enabled rules need and only data known by
//! then (rows observed, fetched or purchased no later than `as_of`).
//!
//! Two sources are current state by nature and cannot be wound back for a
//! backtest: `listings` (Amazon's present listing state) and the restated
//! reports (sales & traffic windows, Ads days), whose rows hold the newest
//! values Amazon sent. Everything else filters on its own timestamp or day.
//! The `costs_file` and `ratings_file` CSVs are read here too: they are
//! data, like the tables.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::ops::ts;
use super::StoreError;
use crate::amazon::marketplace;
use crate::config::{Account, Config, RuleId};
use crate::model::snapshot::*;
use crate::model::time::day_start;

/// How far back windowed sources are read (the longest default window pair
/// is 2 × 30 days; a bigger configured window widens it).
fn lookback_days(cfg: &Config) -> i64 {
    let r = &cfg.rules;
    let longest = [
        r.feedback_rate.window_days,
        r.return_rate.window_days,
        r.conversion_rate.window_days,
        r.traffic_trend.window_days,
        r.buy_box.window_days,
        r.bsr_trend.window_days,
        r.growth_stall.window_days,
        r.acos_band.window_days,
        r.tacos.window_days,
        r.ad_reliance.window_days,
        r.cpc_trend.window_days,
        r.wasted_spend.window_days,
        r.stockout_risk.velocity_days,
        r.stockout_risk.stockout_lookback_days,
        r.margin_floor.window_days,
    ]
    .into_iter()
    .max()
    .unwrap_or(30)
    .max(
        cfg.overrides
            .iter()
            .filter_map(|o| {
                o.settings
                    .iter()
                    .filter(|(k, _)| k.ends_with("_days"))
                    .filter_map(|(_, v)| v.as_integer())
                    .max()
            })
            .max()
            .unwrap_or(0) as u32,
    );
    2 * longest as i64 + cfg.sync.attribution_days as i64 + 2
}

/// The largest `*_days` setting any override sets (0 without overrides).
fn override_days(cfg: &Config) -> i64 {
    cfg.overrides
        .iter()
        .flat_map(|o| o.settings.iter())
        .filter(|(k, _)| k.ends_with("_days"))
        .filter_map(|(_, v)| v.as_integer())
        .max()
        .unwrap_or(0)
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Which sources the enabled rules read.
struct Needs {
    windows: bool,
    daily: bool,
    orders: bool,
    returns: bool,
    feedback: bool,
    health: bool,
    listings: bool,
    topics: bool,
    ratings: bool,
    ranks: bool,
    pricing: bool,
    sqp: bool,
    inventory: bool,
    planning: bool,
    fees: bool,
    costs: bool,
    ads: bool,
    jobs: bool,
    credentials: bool,
}

impl Needs {
    fn of(cfg: &Config) -> Needs {
        let on = |r: RuleId| {
            cfg.rules.common(r).enabled
                || cfg.overrides.iter().any(|o| {
                    o.rule == r.as_str()
                        && o.settings.get("enabled").and_then(|v| v.as_bool()) == Some(true)
                })
        };
        use RuleId::*;
        let stall = on(GrowthStall);
        Needs {
            windows: on(ConversionRate) || on(TrafficTrend) || on(BuyBox) || stall,
            daily: on(FeedbackRate) || on(Tacos) || on(AdReliance),
            orders: on(ReturnRate)
                || on(StockoutRisk)
                || on(MarginFloor)
                || on(Tacos)
                || on(AdReliance)
                || stall,
            returns: on(ReturnRate) || stall,
            feedback: on(FeedbackResponseSla),
            health: on(AccountHealth),
            listings: on(ListingHealth) || stall,
            topics: on(ReviewTopics) || stall,
            ratings: on(RatingFloor),
            ranks: on(BsrTrend) || stall,
            pricing: on(BuyBox) || stall,
            sqp: on(KeywordShare) || stall,
            inventory: on(StockoutRisk) || stall,
            planning: on(InventoryTurnover),
            fees: on(MarginFloor),
            costs: on(MarginFloor),
            ads: on(AcosBand)
                || on(Tacos)
                || on(AdReliance)
                || on(CpcTrend)
                || on(WastedSpend)
                || on(MarginFloor)
                || stall,
            jobs: on(DataFreshness),
            credentials: on(Credentials),
        }
    }
}

/// Whether `job` ever succeeded for the account by `as_of` (a source that
/// synced and holds nothing is empty, not missing).
fn job_ok(
    conn: &Connection,
    account: &str,
    job: &str,
    as_of: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM job_runs WHERE account = ?1 AND job = ?2 AND status = 'ok' AND finished_at <= ?3 LIMIT 1",
            params![account, job, ts(as_of)],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Snapshots of every configured marketplace: `(evaluation date, snapshot)`.
/// Without `at`, each marketplace is evaluated as of its own current day and
/// `now`; with `at`, as of that day using data known by its end (or `now`,
/// if earlier).
pub fn build_all(
    conn: &Connection,
    cfg: &Config,
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, Snapshot)>, StoreError> {
    let mut out = Vec::new();
    for account in &cfg.accounts {
        for m in account.marketplaces() {
            let tz: chrono_tz::Tz = m.timezone.parse().unwrap_or(chrono_tz::UTC);
            let (date, as_of) = match at {
                None => (now.with_timezone(&tz).date_naive(), now),
                Some(d) => (d, now.min(day_start(&tz, d + Duration::days(1)))),
            };
            out.push((date, build(conn, cfg, account, m.id, date, as_of)?));
        }
    }
    Ok(out)
}

/// One marketplace's snapshot as of `at` (a marketplace day), with data
/// known by `as_of`.
pub fn build(
    conn: &Connection,
    cfg: &Config,
    account: &Account,
    marketplace_id: &str,
    at: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<Snapshot, StoreError> {
    let need = Needs::of(cfg);
    let a = account.name.as_str();
    let m = marketplace_id;
    let mut s = Snapshot::empty(a, m, as_of);
    s.time_zone = marketplace::lookup(m)
        .and_then(|x| x.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let from = at - Duration::days(lookback_days(cfg));
    let (from_s, at_s, as_of_s) = (day(from), day(at), ts(as_of));

    // Products: the SKU ↔ ASIN map every crossing rule uses.
    {
        let mut st = conn.prepare(
            "SELECT sku, asin, fulfillment_channel, title FROM products
             WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 ORDER BY sku",
        )?;
        s.products = st
            .query_map(params![a, m, as_of_s], |r| {
                Ok(Product {
                    sku: r.get(0)?,
                    asin: r.get(1)?,
                    channel: r.get(2)?,
                    title: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }

    if need.windows {
        let mut st = conn.prepare(
            "SELECT window_start, window_end FROM sales_traffic_windows
             WHERE account = ?1 AND marketplace_id = ?2 AND window_end >= ?3 AND window_end < ?4",
        )?;
        let windows: Vec<(String, String)> = st
            .query_map(params![a, m, from_s, at_s], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (ws, we) in &windows {
            if let (Some(x), Some(y)) = (parse_day(ws), parse_day(we)) {
                s.asin_windows.entry((x, y)).or_default();
            }
        }
        let mut st = conn.prepare(
            "SELECT window_start, window_end, asin, sessions, page_views, buy_box_pct, units_ordered,
                    ordered_product_sales
             FROM sales_traffic_asin
             WHERE account = ?1 AND marketplace_id = ?2 AND window_end >= ?3 AND window_end < ?4",
        )?;
        let mut rows = st.query(params![a, m, from_s, at_s])?;
        while let Some(r) = rows.next()? {
            let (ws, we): (String, String) = (r.get(0)?, r.get(1)?);
            let (Some(x), Some(y)) = (parse_day(&ws), parse_day(&we)) else {
                continue;
            };
            s.asin_windows.entry((x, y)).or_default().insert(
                r.get(2)?,
                AsinWindow {
                    sessions: r.get(3)?,
                    page_views: r.get(4)?,
                    buy_box_pct: r.get(5)?,
                    units_ordered: r.get(6)?,
                    ordered_product_sales: r.get(7)?,
                },
            );
        }
    }

    if need.daily {
        let mut st = conn.prepare(
            "SELECT date, sessions, units_ordered, total_order_items, ordered_product_sales,
                    negative_feedback_received
             FROM sales_traffic_daily
             WHERE account = ?1 AND marketplace_id = ?2 AND date >= ?3 AND date < ?4",
        )?;
        let mut rows = st.query(params![a, m, from_s, at_s])?;
        while let Some(r) = rows.next()? {
            let d: String = r.get(0)?;
            if let Some(d) = parse_day(&d) {
                s.daily.insert(
                    d,
                    DailyRow {
                        sessions: r.get(1)?,
                        units_ordered: r.get(2)?,
                        total_order_items: r.get(3)?,
                        ordered_product_sales: r.get(4)?,
                        negative_feedback_received: r.get(5)?,
                    },
                );
            }
        }
    }

    if need.orders {
        let first: Option<String> = conn.query_row(
            "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2 AND purchase_date <= ?3",
            params![a, m, as_of_s],
            |r| r.get(0),
        )?;
        if first.is_some() || job_ok(conn, a, "orders", as_of)? {
            let mut o = OrderDays {
                first_day: first.as_deref().and_then(parse_day),
                ..OrderDays::default()
            };
            // Units ordered count every non-cancelled order of the Amazon
            // channel (pending included, as Amazon's units ordered do).
            let mut st = conn.prepare(
                "SELECT i.sku, o.purchase_day, SUM(i.quantity), SUM(COALESCE(i.item_price, 0))
                 FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
                 WHERE o.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
                   AND o.purchase_day < ?4 AND o.purchase_date <= ?5
                   AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
                 GROUP BY i.sku, o.purchase_day",
            )?;
            let mut rows = st.query(params![a, m, from_s, at_s, as_of_s])?;
            while let Some(r) = rows.next()? {
                let sku: String = r.get(0)?;
                let d: String = r.get(1)?;
                let Some(d) = parse_day(&d) else { continue };
                o.by_sku.entry(sku).or_default().insert(
                    d,
                    OrderDay {
                        units: r.get(2)?,
                        sales: r.get(3)?,
                    },
                );
            }
            let (since, until) = (day_start(&s.time_zone, from), day_start(&s.time_zone, at));
            o.shipped = shipped_units(conn, a, m, None, (since, until.min(as_of)), s.time_zone)?;
            s.orders = Some(o);
        }
    }

    if need.returns
        && job_or_rows(
            conn,
            a,
            "returns",
            as_of,
            "SELECT 1 FROM returns WHERE account = ?1 LIMIT 1",
        )?
    {
        let mut st = conn.prepare(
            "SELECT sku, return_date, quantity, reason FROM returns
             WHERE account = ?1 AND marketplace_id = ?2 AND return_date >= ?3 AND return_date < ?4
               AND fetched_at <= ?5",
        )?;
        let rows = st
            .query_map(params![a, m, from_s, at_s, as_of_s], |r| {
                let d: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    d,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        s.returns = Some(
            rows.into_iter()
                .filter_map(|(sku, d, quantity, reason)| {
                    Some(ReturnRow {
                        sku,
                        date: parse_day(&d)?,
                        quantity,
                        reason,
                    })
                })
                .collect(),
        );
    }

    if need.feedback
        && job_or_rows(
            conn,
            a,
            "seller_feedback",
            as_of,
            "SELECT 1 FROM seller_feedback WHERE account = ?1 LIMIT 1",
        )?
    {
        let mut st = conn.prepare(
            "SELECT order_id, feedback_date, rating, comments, your_response, response_seen_at, acknowledged_at
             FROM seller_feedback
             WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 AND feedback_date >= ?4",
        )?;
        let since = day(at - Duration::days(90));
        let rows = st
            .query_map(params![a, m, as_of_s, since], |r| {
                let resp: Option<String> = r.get(4)?;
                let seen: Option<String> = r.get(5)?;
                let ack: Option<String> = r.get(6)?;
                let d: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    d,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    resp.is_some_and(|x| !x.trim().is_empty())
                        && seen.as_deref().is_none_or(|t| t <= as_of_s.as_str()),
                    ack.as_deref().is_some_and(|t| t <= as_of_s.as_str()),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        s.feedback = Some(
            rows.into_iter()
                .filter_map(
                    |(order_id, d, rating, comments, has_response, acknowledged)| {
                        Some(FeedbackRow {
                            order_id,
                            date: parse_day(&d)?,
                            rating: rating.clamp(0, 5) as u8,
                            comments,
                            has_response,
                            acknowledged,
                        })
                    },
                )
                .collect(),
        );
    }

    if need.health {
        s.account_health = conn
            .query_row(
                "SELECT snapshot_date, account_status, odr_mfn_rate, odr_afn_rate, late_shipment_rate,
                        pre_fulfillment_cancel_rate, valid_tracking_rate
                 FROM account_health_snapshots
                 WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date <= ?3
                 ORDER BY snapshot_date DESC LIMIT 1",
                params![a, m, at_s],
                |r| {
                    let d: String = r.get(0)?;
                    Ok(HealthRow {
                        snapshot_date: parse_day(&d),
                        account_status: r.get(1)?,
                        odr_mfn_rate: r.get(2)?,
                        odr_afn_rate: r.get(3)?,
                        late_shipment_rate: r.get(4)?,
                        pre_fulfillment_cancel_rate: r.get(5)?,
                        valid_tracking_rate: r.get(6)?,
                    })
                },
            )
            .optional()?;
    }

    if need.listings
        && job_or_rows(
            conn,
            a,
            "listings",
            as_of,
            "SELECT 1 FROM listings WHERE account = ?1 LIMIT 1",
        )?
    {
        let mut issues: HashMap<String, Vec<IssueRow>> = HashMap::new();
        let mut st = conn.prepare(
            "SELECT sku, code, severity, message FROM listing_issues
             WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3",
        )?;
        let mut rows = st.query(params![a, m, as_of_s])?;
        while let Some(r) = rows.next()? {
            issues.entry(r.get(0)?).or_default().push(IssueRow {
                code: r.get(1)?,
                severity: r.get(2)?,
                message: r.get(3)?,
            });
        }
        let mut st = conn.prepare(
            "SELECT sku, asin, statuses_json, is_buyable, is_discoverable, is_suppressed FROM listings
             WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 ORDER BY sku",
        )?;
        let rows = st
            .query_map(params![a, m, as_of_s], |r| {
                let statuses: String = r.get(2)?;
                Ok(ListingRow {
                    sku: r.get(0)?,
                    asin: r.get(1)?,
                    statuses: serde_json::from_str(&statuses).unwrap_or_default(),
                    is_buyable: r.get::<_, i64>(3)? == 1,
                    is_discoverable: r.get::<_, i64>(4)? == 1,
                    is_suppressed: r.get::<_, i64>(5)? == 1,
                    issues: Vec::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        s.listings = Some(
            rows.into_iter()
                .map(|mut l| {
                    l.issues = issues.remove(&l.sku).unwrap_or_default();
                    l
                })
                .collect(),
        );
    }

    if need.topics {
        s.review_topics = review_topics(conn, a, m, at, &as_of_s)?;
    }

    if need.ratings {
        let file = account.ratings_file.as_ref().or(cfg.ratings_file.as_ref());
        if let Some(p) = file {
            s.ratings = Some(read_ratings(p).unwrap_or_default());
        }
    }

    if need.ranks {
        let mut st = conn.prepare(
            "SELECT asin, snapshot_date, display_group_rank, display_group, classification_rank,
                    classification_title
             FROM catalog_ranks
             WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date >= ?3 AND snapshot_date < ?4
               AND observed_at <= ?5
             ORDER BY asin, snapshot_date",
        )?;
        // Two BSR windows (7 days each by default) are all any reader needs.
        let span = (cfg.rules.bsr_trend.window_days as i64)
            .max(7)
            .max(override_days(cfg));
        let ranks_from = day(at - Duration::days(2 * span + 1));
        let mut rows = st.query(params![a, m, ranks_from, at_s, as_of_s])?;
        while let Some(r) = rows.next()? {
            let d: String = r.get(1)?;
            let Some(d) = parse_day(&d) else { continue };
            s.ranks.entry(r.get(0)?).or_default().push(RankRow {
                date: d,
                rank: r.get(2)?,
                display_group: r.get(3)?,
                classification_rank: r.get(4)?,
                classification_title: r.get(5)?,
            });
        }
    }

    if need.pricing {
        let mut st = conn.prepare(
            "SELECT p.asin, p.observed_day, p.featured_offer_price, p.is_featured_offer_ours, p.our_price,
                    p.lowest_new_fba_price, p.lowest_new_fbm_price, p.offer_count
             FROM pricing_snapshots p
             WHERE p.account = ?1 AND p.marketplace_id = ?2 AND p.observed_at = (
                 SELECT MAX(q.observed_at) FROM pricing_snapshots q
                 WHERE q.account = p.account AND q.marketplace_id = p.marketplace_id
                   AND q.asin = p.asin AND q.observed_at <= ?3)",
        )?;
        let mut rows = st.query(params![a, m, as_of_s])?;
        while let Some(r) = rows.next()? {
            let d: String = r.get(1)?;
            s.pricing.insert(
                r.get(0)?,
                PriceRow {
                    observed_day: parse_day(&d),
                    featured_offer_price: r.get(2)?,
                    is_featured_offer_ours: r.get::<_, Option<i64>>(3)?.map(|x| x == 1),
                    our_price: r.get(4)?,
                    lowest_new_fba_price: r.get(5)?,
                    lowest_new_fbm_price: r.get(6)?,
                    offer_count: r.get(7)?,
                },
            );
        }
    }

    if need.sqp {
        let mut st = conn.prepare(
            "SELECT asin, week_start, week_end, search_query, search_query_volume, impression_share, click_share
             FROM search_query_performance
             WHERE account = ?1 AND marketplace_id = ?2 AND week_end < ?3 AND week_start >= ?4",
        )?;
        let since = day(at - Duration::days(35));
        let mut rows = st.query(params![a, m, at_s, since])?;
        while let Some(r) = rows.next()? {
            let (ws, we): (String, String) = (r.get(1)?, r.get(2)?);
            let (Some(ws), Some(we)) = (parse_day(&ws), parse_day(&we)) else {
                continue;
            };
            s.search_queries
                .entry(r.get(0)?)
                .or_default()
                .push(QueryWeek {
                    week_start: ws,
                    week_end: we,
                    query: r.get(3)?,
                    volume: r.get(4)?,
                    impression_share: r.get(5)?,
                    click_share: r.get(6)?,
                });
        }
    }

    if need.inventory {
        s.inventory = inventory(conn, cfg, a, m, at, &as_of_s)?;
    }

    if need.planning {
        let latest: Option<String> = conn.query_row(
            "SELECT MAX(snapshot_date) FROM inventory_planning
             WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date <= ?3",
            params![a, m, at_s],
            |r| r.get(0),
        )?;
        if let Some(latest) = latest {
            let mut st = conn.prepare(
                "SELECT sku, snapshot_date, available, days_of_supply, units_shipped_t30,
                        inv_age_0_to_90_days, inv_age_91_to_180_days, inv_age_181_to_270_days,
                        inv_age_271_to_365_days, inv_age_365_plus_days, recommended_action
                 FROM inventory_planning
                 WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date = ?3",
            )?;
            let mut map = HashMap::new();
            let mut rows = st.query(params![a, m, latest])?;
            while let Some(r) = rows.next()? {
                let d: String = r.get(1)?;
                map.insert(
                    r.get::<_, String>(0)?,
                    PlanningRow {
                        snapshot_date: parse_day(&d),
                        available: r.get(2)?,
                        days_of_supply: r.get(3)?,
                        units_shipped_t30: r.get(4)?,
                        inv_age_0_to_90_days: r.get(5)?,
                        inv_age_91_to_180_days: r.get(6)?,
                        inv_age_181_to_270_days: r.get(7)?,
                        inv_age_271_to_365_days: r.get(8)?,
                        inv_age_365_plus_days: r.get(9)?,
                        recommended_action: r.get(10)?,
                    },
                );
            }
            s.planning = Some(map);
        } else if job_ok(conn, a, "inventory_planning", as_of)? {
            s.planning = Some(HashMap::new());
        }
    }

    if need.fees {
        let mut st = conn.prepare(
            "SELECT f.sku, f.price, f.total_fees, f.referral_fee, f.fba_fee FROM fee_estimates f
             WHERE f.account = ?1 AND f.marketplace_id = ?2 AND f.estimated_at = (
                 SELECT MAX(g.estimated_at) FROM fee_estimates g
                 WHERE g.account = f.account AND g.marketplace_id = f.marketplace_id AND g.sku = f.sku
                   AND g.estimated_at <= ?3)",
        )?;
        let mut rows = st.query(params![a, m, as_of_s])?;
        while let Some(r) = rows.next()? {
            s.fees.insert(
                r.get(0)?,
                FeeRow {
                    price: r.get(1)?,
                    total_fees: r.get(2)?,
                    referral_fee: r.get(3)?,
                    fba_fee: r.get(4)?,
                },
            );
        }
    }

    if need.costs {
        let file = account.costs_file.as_ref().or(cfg.costs_file.as_ref());
        if let Some(p) = file {
            s.costs = Some(read_costs(p).unwrap_or_default());
        }
    }

    if need.ads {
        s.ads = ads(conn, cfg, a, m, from, at)?;
    }

    if need.jobs {
        let mut st = conn.prepare(
            "SELECT job,
                    MAX(CASE WHEN status = 'ok' THEN finished_at END),
                    MIN(started_at),
                    (SELECT x.status FROM job_runs x WHERE x.account = j.account AND x.job = j.job
                       AND x.started_at <= ?2 ORDER BY x.started_at DESC, x.id DESC LIMIT 1),
                    (SELECT x.error FROM job_runs x WHERE x.account = j.account AND x.job = j.job
                       AND x.started_at <= ?2 ORDER BY x.started_at DESC, x.id DESC LIMIT 1)
             FROM job_runs j WHERE account = ?1 AND started_at <= ?2 AND status <> 'running'
             GROUP BY job ORDER BY job",
        )?;
        s.jobs = st
            .query_map(params![a, as_of_s], |r| {
                let ok: Option<String> = r.get(1)?;
                let first: Option<String> = r.get(2)?;
                Ok(JobState {
                    job: r.get(0)?,
                    last_ok: ok.as_deref().and_then(parse_ts),
                    first_attempt: first.as_deref().and_then(parse_ts),
                    last_status: r.get(3)?,
                    last_error: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }

    if need.credentials {
        let mut st = conn.prepare(
            "SELECT api, error_kind, detail, first_seen_at FROM credential_problems
             WHERE account = ?1 AND first_seen_at <= ?2 AND (cleared_at IS NULL OR cleared_at > ?2)",
        )?;
        s.credential_problems = st
            .query_map(params![a, as_of_s], |r| {
                let t: String = r.get(3)?;
                Ok(CredentialProblem {
                    api: r.get(0)?,
                    error_kind: r.get(1)?,
                    detail: r.get(2)?,
                    first_seen_at: parse_ts(&t).unwrap_or(as_of),
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(s)
}

/// What "units shipped" counts: shipped (or partially shipped) orders of
/// the Amazon channel, at their last update (when they shipped), as the
/// `kpi_return_rate` view counts them. `{sku}` narrows to one SKU.
pub(crate) const SQL_SHIPPED: &str = "
    SELECT i.sku, o.last_updated_date, SUM(COALESCE(i.quantity_shipped, i.quantity))
    FROM order_items i CROSS JOIN orders o ON o.account = i.account AND o.order_id = i.order_id
    WHERE i.account = ?1 {sku} AND o.marketplace_id = ?2
      AND o.last_updated_date >= ?3 AND o.last_updated_date < ?4
      AND o.status IN ('shipped', 'partially_shipped') AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    GROUP BY i.sku, o.last_updated_date";

/// Units shipped per SKU (only `sku`, when given) and marketplace day of
/// shipping, for orders shipped in `since..until` (SQLite cannot convert
/// named zones, so the days are grouped here).
pub(crate) fn shipped_units(
    conn: &Connection,
    account: &str,
    marketplace: &str,
    sku: Option<&str>,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
    tz: chrono_tz::Tz,
) -> Result<HashMap<String, std::collections::BTreeMap<NaiveDate, i64>>, StoreError> {
    // One SKU: its lines drive (order_items_by_sku); every SKU: the orders
    // of the shipping range do (orders_by_last_update).
    let sql = match sku {
        Some(_) => SQL_SHIPPED.replace("{sku}", "AND i.sku = ?5"),
        None => SQL_SHIPPED
            .replace("{sku}", "")
            .replace("order_items i CROSS JOIN orders o", "orders o JOIN order_items i"),
    };
    let mut st = conn.prepare_cached(&sql)?;
    let (since, until) = (ts(since), ts(until));
    let mut rows = match sku {
        Some(k) => st.query(params![account, marketplace, since, until, k])?,
        None => st.query(params![account, marketplace, since, until])?,
    };
    let mut out: HashMap<String, std::collections::BTreeMap<NaiveDate, i64>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let t: String = r.get(1)?;
        let Some(t) = parse_ts(&t) else { continue };
        let units: Option<i64> = r.get(2)?;
        *out.entry(r.get(0)?)
            .or_default()
            .entry(t.with_timezone(&tz).date_naive())
            .or_default() += units.unwrap_or(0);
    }
    Ok(out)
}

/// A source is present when its job succeeded once or it holds rows (an import).
fn job_or_rows(
    conn: &Connection,
    account: &str,
    job: &str,
    as_of: DateTime<Utc>,
    any_row_sql: &str,
) -> Result<bool, StoreError> {
    if job_ok(conn, account, job, as_of)? {
        return Ok(true);
    }
    Ok(conn
        .query_row(any_row_sql, params![account], |_| Ok(()))
        .optional()?
        .is_some())
}

fn review_topics(
    conn: &Connection,
    a: &str,
    m: &str,
    at: NaiveDate,
    as_of: &str,
) -> Result<Option<HashMap<String, Vec<TopicRow>>>, StoreError> {
    // The newest period of each ASIN's topics.
    let mut st = conn.prepare(
        "SELECT t.subject_id, t.topic, t.sentiment, t.occurrence_pct, t.star_rating_impact,
                t.browse_node_occurrence_pct
         FROM review_topics t
         WHERE t.account = ?1 AND t.marketplace_id = ?2 AND t.subject_kind = 'asin' AND t.fetched_at <= ?3
           AND t.period_end = (SELECT MAX(u.period_end) FROM review_topics u
               WHERE u.account = t.account AND u.marketplace_id = t.marketplace_id
                 AND u.subject_kind = 'asin' AND u.subject_id = t.subject_id AND u.fetched_at <= ?3)",
    )?;
    let mut out: HashMap<String, Vec<TopicRow>> = HashMap::new();
    let mut rows = st.query(params![a, m, as_of])?;
    let mut any = false;
    while let Some(r) = rows.next()? {
        any = true;
        out.entry(r.get(0)?).or_default().push(TopicRow {
            topic: r.get(1)?,
            sentiment: r.get(2)?,
            occurrence_pct: r.get(3)?,
            star_rating_impact: r.get(4)?,
            browse_node_occurrence_pct: r.get(5)?,
            trend: Vec::new(),
        });
    }
    let mut st = conn.prepare(
        "SELECT subject_id, topic, sentiment, period_start, occurrence_pct FROM review_topic_trends
         WHERE account = ?1 AND marketplace_id = ?2 AND subject_kind = 'asin' AND fetched_at <= ?3
           AND period_start < ?4 AND occurrence_pct IS NOT NULL
         ORDER BY subject_id, topic, period_start",
    )?;
    let mut rows = st.query(params![a, m, as_of, day(at)])?;
    while let Some(r) = rows.next()? {
        any = true;
        let asin: String = r.get(0)?;
        let topic: String = r.get(1)?;
        let sentiment: String = r.get(2)?;
        let d: String = r.get(3)?;
        let Some(d) = parse_day(&d) else { continue };
        let v: f64 = r.get(4)?;
        let list = out.entry(asin).or_default();
        match list
            .iter_mut()
            .find(|t| t.topic == topic && t.sentiment == sentiment)
        {
            Some(t) => t.trend.push((d, v)),
            None => list.push(TopicRow {
                topic,
                sentiment,
                occurrence_pct: None,
                star_rating_impact: None,
                browse_node_occurrence_pct: None,
                trend: vec![(d, v)],
            }),
        }
    }
    Ok(any.then_some(out))
}

fn inventory(
    conn: &Connection,
    cfg: &Config,
    a: &str,
    m: &str,
    at: NaiveDate,
    as_of: &str,
) -> Result<Option<HashMap<String, StockRow>>, StoreError> {
    let mut out: HashMap<String, StockRow> = HashMap::new();
    // The newest pull of each source (every row of one pull shares observed_at).
    for source in ["fba_inventory", "listings"] {
        let latest: Option<String> = conn.query_row(
            "SELECT MAX(observed_at) FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND source = ?3 AND observed_at <= ?4",
            params![a, m, source, as_of],
            |r| r.get(0),
        )?;
        let Some(latest) = latest else { continue };
        let mut st = conn.prepare(
            "SELECT sku, fulfillable, COALESCE(inbound_working, 0) + COALESCE(inbound_shipped, 0)
                    + COALESCE(inbound_receiving, 0)
             FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND source = ?3 AND observed_at = ?4",
        )?;
        let mut rows = st.query(params![a, m, source, latest])?;
        let observed_at = parse_ts(&latest).unwrap_or_else(Utc::now);
        while let Some(r) = rows.next()? {
            let sku: String = r.get(0)?;
            let newer = out.get(&sku).is_none_or(|x| x.observed_at < observed_at);
            if newer {
                out.insert(
                    sku,
                    StockRow {
                        observed_at,
                        channel: if source == "listings" { "FBM" } else { "FBA" }.to_string(),
                        available: r.get(1)?,
                        inbound: r.get(2)?,
                        stockout_days: 0,
                        observed_days: 0,
                    },
                );
            }
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    // Stockout days: days of the lookback with an observation showing
    // nothing available. Only those rows are grouped (a 20k-SKU catalogue
    // has ~600k observations a month).
    let lookback = (cfg.rules.stockout_risk.stockout_lookback_days as i64).max(override_days(cfg));
    let (since, until) = (day(at - Duration::days(lookback)), day(at));
    let mut st = conn.prepare(
        "SELECT sku, COUNT(DISTINCT observed_day) FROM inventory_snapshots
         WHERE account = ?1 AND marketplace_id = ?2 AND observed_day >= ?3 AND observed_day < ?4
           AND observed_at <= ?5 AND fulfillable <= 0
         GROUP BY sku",
    )?;
    let mut rows = st.query(params![a, m, since, until, as_of])?;
    while let Some(r) = rows.next()? {
        let sku: String = r.get(0)?;
        if let Some(x) = out.get_mut(&sku) {
            x.stockout_days = r.get::<_, i64>(1)? as u32;
        }
    }
    // Days with any pull (the same for every SKU of a full pull).
    let mut st = conn.prepare(
        "SELECT DISTINCT observed_at FROM inventory_snapshots
         WHERE account = ?1 AND marketplace_id = ?2 AND observed_at >= ?3 AND observed_at <= ?4",
    )?;
    let tz: chrono_tz::Tz = marketplace::lookup(m)
        .and_then(|x| x.timezone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let from_t = ts(day_start(&tz, at - Duration::days(lookback)));
    let to_t = ts(day_start(&tz, at)).min(as_of.to_string());
    let mut days = std::collections::HashSet::new();
    let mut rows = st.query(params![a, m, from_t, to_t])?;
    while let Some(r) = rows.next()? {
        let t: String = r.get(0)?;
        if let Some(t) = parse_ts(&t) {
            days.insert(t.with_timezone(&tz).date_naive());
        }
    }
    for x in out.values_mut() {
        x.observed_days = days.len() as u32;
    }
    Ok(Some(out))
}

fn ads(
    conn: &Connection,
    cfg: &Config,
    a: &str,
    m: &str,
    from: NaiveDate,
    at: NaiveDate,
) -> Result<Option<AdsData>, StoreError> {
    let profile: Option<(i64, String)> = conn
        .query_row(
            "SELECT profile_id, currency FROM ads_profiles WHERE account = ?1 AND marketplace_id = ?2
             ORDER BY profile_id LIMIT 1",
            params![a, m],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((profile, currency)) = profile else {
        return Ok(None);
    };
    // SP reads the attribution window's columns; SB/SD only have 14-day
    // click-attributed ones (docs/schema.md).
    let (sales, purchases) = if cfg.sync.attribution_days == 7 {
        (
            "CASE WHEN d.ad_product = 'SP' THEN d.sales_7d ELSE d.sales_14d END",
            "CASE WHEN d.ad_product = 'SP' THEN d.purchases_7d ELSE d.purchases_14d END",
        )
    } else {
        ("d.sales_14d", "d.purchases_14d")
    };
    let (from_s, at_s) = (day(from), day(at));
    let mut data = AdsData {
        currency: Some(currency),
        ..AdsData::default()
    };
    let (first, last): (Option<String>, Option<String>) = conn.query_row(
        "SELECT MIN(date), MAX(date) FROM ads_campaign_daily WHERE profile_id = ?1 AND date < ?2",
        params![profile, at_s],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    data.first_day = first.as_deref().and_then(parse_day);
    data.last_day = last.as_deref().and_then(parse_day);

    let sql = format!(
        "SELECT d.campaign_id, d.ad_product, COALESCE(c.name, d.campaign_name), d.date, d.impressions,
                d.clicks, d.cost, {purchases}, {sales}, d.top_of_search_impression_share
         FROM ads_campaign_daily d
         LEFT JOIN ads_campaigns c ON c.profile_id = d.profile_id AND c.ad_product = d.ad_product
              AND c.campaign_id = d.campaign_id
         WHERE d.profile_id = ?1 AND d.date >= ?2 AND d.date < ?3
         ORDER BY d.ad_product, d.campaign_id, d.date"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![profile, from_s, at_s])?;
    let mut index: HashMap<(String, i64), usize> = HashMap::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let product: String = r.get(1)?;
        let d: String = r.get(3)?;
        let Some(date) = parse_day(&d) else { continue };
        let k = *index.entry((product.clone(), id)).or_insert_with(|| {
            data.campaigns.push(CampaignDays {
                campaign_id: id,
                ad_product: product.clone(),
                name: None,
                days: Vec::new(),
                top_of_search_share: Vec::new(),
            });
            data.campaigns.len() - 1
        });
        let c = &mut data.campaigns[k];
        if c.name.is_none() {
            c.name = r.get(2)?;
        }
        c.days.push(AdDay {
            date,
            impressions: r.get(4)?,
            clicks: r.get(5)?,
            cost: r.get(6)?,
            purchases: r.get(7)?,
            sales: r.get(8)?,
        });
        if let Some(t) = r.get::<_, Option<f64>>(9)? {
            c.top_of_search_share.push((date, t));
        }
    }

    let attributed = |_: &str| {
        format!(
            "SUM({}), SUM({})",
            purchases.replace("d.", ""),
            sales.replace("d.", "")
        )
    };
    // Search terms: summed over ad groups and keywords per campaign and day.
    let sql = format!(
        "SELECT campaign_id, search_term, date, SUM(impressions), SUM(clicks), SUM(cost), {}
         FROM ads_search_term_daily WHERE profile_id = ?1 AND date >= ?2 AND date < ?3
         GROUP BY campaign_id, search_term, date ORDER BY campaign_id, search_term, date",
        attributed("")
    );
    // Only wasted_spend reads search terms: its matured window is enough.
    let terms_from = at
        - Duration::days(
            cfg.sync.attribution_days as i64
                + 1
                + (cfg.rules.wasted_spend.window_days as i64).max(override_days(cfg)),
        );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![profile, day(terms_from.max(from)), at_s])?;
    let mut index: HashMap<(i64, String), usize> = HashMap::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let term: String = r.get(1)?;
        let d: String = r.get(2)?;
        let Some(date) = parse_day(&d) else { continue };
        let k = *index.entry((id, term.clone())).or_insert_with(|| {
            data.search_terms.push(SearchTermDays {
                campaign_id: id,
                search_term: term.clone(),
                days: Vec::new(),
            });
            data.search_terms.len() - 1
        });
        data.search_terms[k].days.push(AdDay {
            date,
            impressions: r.get(3)?,
            clicks: r.get(4)?,
            cost: r.get(5)?,
            purchases: r.get(6)?,
            sales: r.get(7)?,
        });
    }

    let sql = format!(
        "SELECT campaign_id, advertised_asin, advertised_sku, date, SUM(impressions), SUM(clicks), SUM(cost), {}
         FROM ads_advertised_product_daily WHERE profile_id = ?1 AND date >= ?2 AND date < ?3
         GROUP BY campaign_id, advertised_asin, advertised_sku, date
         ORDER BY campaign_id, advertised_asin, advertised_sku, date",
        attributed("")
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![profile, from_s, at_s])?;
    let mut index: HashMap<(i64, String, String), usize> = HashMap::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let asin: String = r.get(1)?;
        let sku: String = r.get(2)?;
        let d: String = r.get(3)?;
        let Some(date) = parse_day(&d) else { continue };
        let k = *index
            .entry((id, asin.clone(), sku.clone()))
            .or_insert_with(|| {
                data.products.push(AdvertisedDays {
                    campaign_id: id,
                    asin: asin.clone(),
                    sku: sku.clone(),
                    days: Vec::new(),
                });
                data.products.len() - 1
            });
        data.products[k].days.push(AdDay {
            date,
            impressions: r.get(4)?,
            clicks: r.get(5)?,
            cost: r.get(6)?,
            purchases: r.get(7)?,
            sales: r.get(8)?,
        });
    }
    Ok(Some(data))
}

/// Splits one CSV line (quotes, doubled quotes inside quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Rows of a CSV with a header, as maps by lower-cased header name.
fn csv_rows(path: &Path) -> std::io::Result<Vec<HashMap<String, String>>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = csv_fields(header.trim_start_matches('\u{feff}'))
        .into_iter()
        .map(|h| h.to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    Ok(lines
        .map(|l| names.iter().cloned().zip(csv_fields(l)).collect())
        .collect())
}

/// `costs_file`: sku, unit_cost, inbound_freight.
pub fn read_costs(path: &Path) -> std::io::Result<HashMap<String, CostRow>> {
    Ok(csv_rows(path)?
        .into_iter()
        .filter_map(|r| {
            let sku = r.get("sku")?.clone();
            let unit_cost = r.get("unit_cost")?.parse().ok()?;
            let inbound_freight = r
                .get("inbound_freight")
                .and_then(|x| x.parse().ok())
                .unwrap_or(0.0);
            Some((
                sku,
                CostRow {
                    unit_cost,
                    inbound_freight,
                },
            ))
        })
        .collect())
}

/// `ratings_file`: asin, rating, rating_count, date.
pub fn read_ratings(path: &Path) -> std::io::Result<Vec<RatingRow>> {
    Ok(csv_rows(path)?
        .into_iter()
        .filter_map(|r| {
            Some(RatingRow {
                asin: r.get("asin")?.clone(),
                rating: r.get("rating")?.parse().ok()?,
                count: r.get("rating_count").and_then(|x| x.parse().ok()),
                date: parse_day(r.get("date")?)?,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_with_quotes() {
        assert_eq!(csv_fields(r#"a,"b,c","d""e""#), vec!["a", "b,c", "d\"e"]);
    }

    #[test]
    fn empty_database_gives_an_empty_snapshot_with_sources_missing() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut conn, "mem").unwrap();
        let cfg = Config::default();
        let account = Account {
            name: "a".into(),
            marketplaces: vec!["US".into()],
            ..Account::default()
        };
        let at = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let s = build(&conn, &cfg, &account, "ATVPDKIKX0DER", at, Utc::now()).unwrap();
        assert!(s.orders.is_none() && s.feedback.is_none() && s.ads.is_none());
        assert!(s.asin_windows.is_empty());
    }
}
