//! Advertising: the Ads API days per campaign, search term and advertised ASIN.

use super::*;

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
