//! Catalogue, prices, stock and costs: ranks, pricing, search query performance, inventory, planning, fees and costs.

use super::*;

pub(super) fn ranks(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    // Two BSR windows (7 days each by default) are all any reader needs.
    let span = (q.cfg.rules.bsr_trend.window_days as i64)
        .max(7)
        .max(override_days(q.cfg));
    let ranks_from = day(q.at - Duration::days(2 * span + 1));
    q.each_row(
        "SELECT asin, snapshot_date, display_group_rank, display_group, classification_rank,
                classification_title
         FROM catalog_ranks
         WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date >= ?3 AND snapshot_date < ?4
           AND observed_at <= ?5
         ORDER BY asin, snapshot_date",
        params![q.a, q.m, ranks_from, q.at_s, q.as_of_s],
        |r| {
            let d: String = r.get(1)?;
            let Some(d) = parse_day(&d) else {
                return Ok(());
            };
            s.ranks.entry(r.get(0)?).or_default().push(RankRow {
                date: d,
                rank: r.get(2)?,
                display_group: r.get(3)?,
                classification_rank: r.get(4)?,
                classification_title: r.get(5)?,
            });
            Ok(())
        },
    )
}

pub(super) fn pricing(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    q.each_row(
        "SELECT p.asin, p.observed_day, p.featured_offer_price, p.is_featured_offer_ours, p.our_price,
                p.lowest_new_fba_price, p.lowest_new_fbm_price, p.offer_count
         FROM pricing_snapshots p
         WHERE p.account = ?1 AND p.marketplace_id = ?2 AND p.observed_at = (
             SELECT MAX(q.observed_at) FROM pricing_snapshots q
             WHERE q.account = p.account AND q.marketplace_id = p.marketplace_id
               AND q.asin = p.asin AND q.observed_at <= ?3)",
        params![q.a, q.m, q.as_of_s],
        |r| {
            let d: String = r.get(1)?;
            let row = PriceRow {
                observed_day: parse_day(&d),
                featured_offer_price: r.get(2)?,
                is_featured_offer_ours: r.get::<_, Option<i64>>(3)?.map(|x| x == 1),
                our_price: r.get(4)?,
                lowest_new_fba_price: r.get(5)?,
                lowest_new_fbm_price: r.get(6)?,
                offer_count: r.get(7)?,
            };
            s.pricing.insert(r.get(0)?, row);
            Ok(())
        },
    )
}

pub(super) fn search_query_performance(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let since = day(q.at - Duration::days(35));
    q.each_row(
        "SELECT asin, week_start, week_end, search_query, search_query_volume, impression_share, click_share
         FROM search_query_performance
         WHERE account = ?1 AND marketplace_id = ?2 AND week_end < ?3 AND week_start >= ?4",
        params![q.a, q.m, q.at_s, since],
        |r| {
            let (ws, we): (String, String) = (r.get(1)?, r.get(2)?);
            let (Some(week_start), Some(week_end)) = (parse_day(&ws), parse_day(&we)) else {
                return Ok(());
            };
            s.search_queries
                .entry(r.get(0)?)
                .or_default()
                .push(QueryWeek {
                    week_start,
                    week_end,
                    query: r.get(3)?,
                    volume: r.get(4)?,
                    impression_share: r.get(5)?,
                    click_share: r.get(6)?,
                });
            Ok(())
        },
    )
}

pub(super) fn inventory_planning(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let latest: Option<String> = q.conn.query_row(
        "SELECT MAX(snapshot_date) FROM inventory_planning
         WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date <= ?3",
        params![q.a, q.m, q.at_s],
        |r| r.get(0),
    )?;
    if let Some(latest) = latest {
        let mut map = HashMap::new();
        q.each_row(
            "SELECT sku, snapshot_date, available, days_of_supply, units_shipped_t30,
                    inv_age_0_to_90_days, inv_age_91_to_180_days, inv_age_181_to_270_days,
                    inv_age_271_to_365_days, inv_age_365_plus_days, recommended_action
             FROM inventory_planning
             WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date = ?3",
            params![q.a, q.m, latest],
            |r| {
                let (sku, d): (String, String) = (r.get(0)?, r.get(1)?);
                let row = PlanningRow {
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
                };
                map.insert(sku, row);
                Ok(())
            },
        )?;
        s.planning = Some(map);
    } else if job_ok(q.conn, q.a, "inventory_planning", q.as_of)? {
        s.planning = Some(HashMap::new());
    }
    Ok(())
}

pub(super) fn fees(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    q.each_row(
        "SELECT f.sku, f.price, f.total_fees, f.referral_fee, f.fba_fee FROM fee_estimates f
         WHERE f.account = ?1 AND f.marketplace_id = ?2 AND f.estimated_at = (
             SELECT MAX(g.estimated_at) FROM fee_estimates g
             WHERE g.account = f.account AND g.marketplace_id = f.marketplace_id AND g.sku = f.sku
               AND g.estimated_at <= ?3)",
        params![q.a, q.m, q.as_of_s],
        |r| {
            let row = FeeRow {
                price: r.get(1)?,
                total_fees: r.get(2)?,
                referral_fee: r.get(3)?,
                fba_fee: r.get(4)?,
            };
            s.fees.insert(r.get(0)?, row);
            Ok(())
        },
    )
}

pub(super) fn costs(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    s.costs = read_file(&q.account.costs_file, &q.cfg.costs_file, read_costs);
    Ok(())
}

/// One stock observation of a SKU from `source` (`fba_inventory`: FBA
/// fulfillable and inbound; `listings`: the FBM listing quantity).
pub(crate) fn stock_row(
    observed_at: DateTime<Utc>,
    source: &str,
    available: i64,
    inbound: i64,
) -> StockRow {
    StockRow {
        observed_at,
        channel: if source == "listings" { "FBM" } else { "FBA" }.to_string(),
        available,
        inbound,
        stockout_days: 0,
        observed_days: 0,
    }
}

pub(super) fn inventory(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let (a, m, as_of) = (q.a, q.m, q.as_of_s.as_str());
    let mut out: HashMap<String, StockRow> = HashMap::new();
    // The newest pull of each source (every row of one pull shares observed_at).
    for source in ["fba_inventory", "listings"] {
        let latest: Option<String> = q.conn.query_row(
            "SELECT MAX(observed_at) FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND source = ?3 AND observed_at <= ?4",
            params![a, m, source, as_of],
            |r| r.get(0),
        )?;
        let Some(latest) = latest else { continue };
        let observed_at = parse_ts(&latest).unwrap_or_else(Utc::now);
        q.each_row(
            "SELECT sku, fulfillable, COALESCE(inbound_working, 0) + COALESCE(inbound_shipped, 0)
                    + COALESCE(inbound_receiving, 0)
             FROM inventory_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND source = ?3 AND observed_at = ?4",
            params![a, m, source, latest],
            |r| {
                let sku: String = r.get(0)?;
                let newer = out.get(&sku).is_none_or(|x| x.observed_at < observed_at);
                if newer {
                    out.insert(sku, stock_row(observed_at, source, r.get(1)?, r.get(2)?));
                }
                Ok(())
            },
        )?;
    }
    if out.is_empty() {
        return Ok(());
    }
    // Stockout days: days of the lookback with an observation showing
    // nothing available. Only those rows are grouped (a 20k-SKU catalogue
    // has ~600k observations a month).
    let lookback =
        (q.cfg.rules.stockout_risk.stockout_lookback_days as i64).max(override_days(q.cfg));
    let (since, until) = (day(q.at - Duration::days(lookback)), q.at_s.as_str());
    q.each_row(
        "SELECT sku, COUNT(DISTINCT observed_day) FROM inventory_snapshots
         WHERE account = ?1 AND marketplace_id = ?2 AND observed_day >= ?3 AND observed_day < ?4
           AND observed_at <= ?5 AND fulfillable <= 0
         GROUP BY sku",
        params![a, m, since, until, as_of],
        |r| {
            let sku: String = r.get(0)?;
            if let Some(x) = out.get_mut(&sku) {
                x.stockout_days = r.get::<_, i64>(1)? as u32;
            }
            Ok(())
        },
    )?;
    // Days with any pull (the same for every SKU of a full pull).
    let tz: chrono_tz::Tz = marketplace::lookup(m)
        .map(|x| x.tz)
        .unwrap_or(chrono_tz::UTC);
    let from_t = ts(day_start(&tz, q.at - Duration::days(lookback)));
    let to_t = ts(day_start(&tz, q.at)).min(as_of.to_string());
    let mut days = std::collections::HashSet::new();
    q.each_row(
        "SELECT DISTINCT observed_at FROM inventory_snapshots
         WHERE account = ?1 AND marketplace_id = ?2 AND observed_at >= ?3 AND observed_at <= ?4",
        params![a, m, from_t, to_t],
        |r| {
            let t: String = r.get(0)?;
            if let Some(t) = parse_ts(&t) {
                days.insert(t.with_timezone(&tz).date_naive());
            }
            Ok(())
        },
    )?;
    for x in out.values_mut() {
        x.observed_days = days.len() as u32;
    }
    s.inventory = Some(out);
    Ok(())
}
