//! Advertising: the Ads API days per campaign, search term and advertised ASIN.

use super::*;
use crate::store::ads::{attributed, metric_sums_sql};

pub(super) fn ads(
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
    let (sales, purchases) = attributed(cfg.sync.attribution_days);
    let sums = metric_sums_sql(cfg.sync.attribution_days);
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

    // One row per campaign and day: nothing to sum.
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
        let Some(date) = parse_day(&r.get::<_, String>(3)?) else {
            continue;
        };
        let c = slot(
            &mut index,
            &mut data.campaigns,
            (product.clone(), id),
            || CampaignDays {
                campaign_id: id,
                ad_product: product,
                name: None,
                days: Vec::new(),
                top_of_search_share: Vec::new(),
            },
        );
        if c.name.is_none() {
            c.name = r.get(2)?;
        }
        c.days.push(ad_day(r, date, 4)?);
        if let Some(t) = r.get::<_, Option<f64>>(9)? {
            c.top_of_search_share.push((date, t));
        }
    }

    // Search terms: summed over ad groups and keywords per campaign and day.
    let sql = format!(
        "SELECT d.campaign_id, d.search_term, d.date, {sums}
         FROM ads_search_term_daily d WHERE d.profile_id = ?1 AND d.date >= ?2 AND d.date < ?3
         GROUP BY d.campaign_id, d.search_term, d.date ORDER BY d.campaign_id, d.search_term, d.date"
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
        let (id, term, d): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let Some(date) = parse_day(&d) else { continue };
        let t = slot(
            &mut index,
            &mut data.search_terms,
            (id, term.clone()),
            || SearchTermDays {
                campaign_id: id,
                search_term: term,
                days: Vec::new(),
            },
        );
        t.days.push(ad_day(r, date, 3)?);
    }

    let sql = format!(
        "SELECT d.campaign_id, d.advertised_asin, d.advertised_sku, d.date, {sums}
         FROM ads_advertised_product_daily d WHERE d.profile_id = ?1 AND d.date >= ?2 AND d.date < ?3
         GROUP BY d.campaign_id, d.advertised_asin, d.advertised_sku, d.date
         ORDER BY d.campaign_id, d.advertised_asin, d.advertised_sku, d.date"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![profile, from_s, at_s])?;
    let mut index: HashMap<(i64, String, String), usize> = HashMap::new();
    while let Some(r) = rows.next()? {
        let (id, asin, sku): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let Some(date) = parse_day(&r.get::<_, String>(3)?) else {
            continue;
        };
        let key = (id, asin.clone(), sku.clone());
        let p = slot(&mut index, &mut data.products, key, || AdvertisedDays {
            campaign_id: id,
            asin,
            sku,
            days: Vec::new(),
        });
        p.days.push(ad_day(r, date, 4)?);
    }
    Ok(Some(data))
}

/// The day's figures from a row whose columns from `at` are impressions,
/// clicks, cost, attributed purchases and attributed sales.
fn ad_day(r: &rusqlite::Row<'_>, date: NaiveDate, at: usize) -> rusqlite::Result<AdDay> {
    Ok(AdDay {
        date,
        impressions: r.get(at)?,
        clicks: r.get(at + 1)?,
        cost: r.get(at + 2)?,
        purchases: r.get(at + 3)?,
        sales: r.get(at + 4)?,
    })
}

/// The entry of `key` in `list`, which `index` maps keys into; `new` makes
/// and appends it the first time (so `list` keeps the rows' order).
fn slot<'a, K: std::hash::Hash + Eq, T>(
    index: &mut HashMap<K, usize>,
    list: &'a mut Vec<T>,
    key: K,
    new: impl FnOnce() -> T,
) -> &'a mut T {
    let at = *index.entry(key).or_insert_with(|| {
        list.push(new());
        list.len() - 1
    });
    &mut list[at]
}
