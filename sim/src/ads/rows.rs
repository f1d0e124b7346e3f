//! Report rows: the world's ad metrics as observed at a report's completion
//! time, grouped the way the request's groupBy and timeUnit ask, and turned
//! into flat JSON objects whose keys are exactly the requested columns
//! (REFERENCE §5.3: IDs are JSON numbers, missing values `null`, rows only for
//! entities with activity in the period).
//!
//! The world models impressions, clicks, cost and 7/14-day click-attributed
//! purchases, sales and units, with restatement. Derived columns follow the
//! documented units: `costPerClick` rounded to 2 dp (0.0 without clicks),
//! `clickThroughRate` in percent, `acosClicks*` in percent and `roasClicks*` as
//! a ratio (both `null` when sales are 0). What the world does not model is
//! approximated and marked: 1-day windows are 80 % of the 7-day ones, 30-day
//! windows equal the 14-day ones, every attributed sale is of the advertised
//! SKU (`*SameSku*` = totals, `*OtherSku*` = 0), SB/SD views add nothing to
//! clicks (`sales` = `salesClicks`). Columns the sim has no notion of at all
//! (video, new-to-brand, Kindle, add-to-cart, budget rules) are `null`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use crate::scenario::{AdProduct, Campaign};
use crate::world::World;

/// Placements of an spCampaigns `campaignPlacement` report and the share of
/// a campaign's traffic each gets (the sim does not model placement; fixed
/// shares, an approximation).
const PLACEMENTS: &[(&str, f64)] = &[
    ("Top of Search on-Amazon", 0.45),
    ("Detail Page on-Amazon", 0.30),
    ("Other on-Amazon", 0.25),
];

/// 1-day conversions as a share of the 7-day ones (approximation).
const ONE_DAY_SHARE: f64 = 0.8;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Additive metrics of one row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    pub impressions: u64,
    pub clicks: u64,
    pub cost: f64,
    pub purchases7: u64,
    pub purchases14: u64,
    pub sales7: f64,
    pub sales14: f64,
    pub units7: u64,
    pub units14: u64,
    /// Σ topOfSearchImpressionShare × impressions, and the impressions it covers.
    tos_weighted: f64,
    tos_impressions: u64,
}

impl Metrics {
    fn add(&mut self, o: &Metrics) {
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.cost += o.cost;
        self.purchases7 += o.purchases7;
        self.purchases14 += o.purchases14;
        self.sales7 += o.sales7;
        self.sales14 += o.sales14;
        self.units7 += o.units7;
        self.units14 += o.units14;
        self.tos_weighted += o.tos_weighted;
        self.tos_impressions += o.tos_impressions;
    }

    /// Any impressions, clicks or attributed conversions.
    pub fn active(&self) -> bool {
        self.impressions > 0 || self.clicks > 0 || self.purchases14 > 0 || self.units14 > 0
    }

    fn top_of_search(&self) -> Option<f64> {
        (self.tos_impressions > 0).then(|| {
            (self.tos_weighted / self.tos_impressions as f64 * 10_000.0).round() / 10_000.0
        })
    }

    /// Split into parts by weight: counts by largest remainder, money in
    /// proportion to the counts it goes with.
    fn split(&self, weights: &[f64]) -> Vec<Metrics> {
        let imp = split_count(self.impressions, weights);
        let clk = split_count(self.clicks, weights);
        let p7 = split_count(self.purchases7, weights);
        let p14 = split_count(self.purchases14, weights);
        let u7 = split_count(self.units7, weights);
        let u14 = split_count(self.units14, weights);
        let share = |part: u64, whole: u64, total: f64, w: f64| {
            if whole > 0 {
                round2(total * part as f64 / whole as f64)
            } else {
                round2(total * w)
            }
        };
        let wsum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        (0..weights.len())
            .map(|i| {
                let w = weights[i] / wsum;
                Metrics {
                    impressions: imp[i],
                    clicks: clk[i],
                    cost: share(clk[i], self.clicks, self.cost, w),
                    purchases7: p7[i],
                    purchases14: p14[i],
                    sales7: share(u7[i], self.units7, self.sales7, w),
                    sales14: share(u14[i], self.units14, self.sales14, w),
                    units7: u7[i],
                    units14: u14[i],
                    tos_weighted: self.tos_weighted * w,
                    tos_impressions: imp[i],
                }
            })
            .collect()
    }
}

/// `n` split by weights with the largest-remainder method (deterministic;
/// the parts sum to `n`).
fn split_count(n: u64, weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| n as f64 * w / total).collect();
    let mut out: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = n - out.iter().sum::<u64>().min(n);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.partial_cmp(&ra)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// A keyword / search-term dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordDim {
    pub keyword_id: i64,
    pub keyword: String,
    pub match_type: String,
    pub search_term: String,
}

/// What identifies a row's entity (campaign, keyword, search term, ASIN,
/// placement, matched target) when a SUMMARY report sums its days.
type RowKey = (
    usize,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<&'static str>,
    Option<String>,
);

/// One report row before it becomes JSON.
#[derive(Debug, Clone)]
pub struct Row {
    /// `None` in SUMMARY reports.
    pub date: Option<NaiveDate>,
    /// Index into `World::campaigns()`.
    pub campaign: usize,
    /// Campaign state on the row's day (last day for SUMMARY).
    pub status: String,
    pub keyword: Option<KeywordDim>,
    /// (ASIN, SKU) of spAdvertisedProduct rows.
    pub product: Option<(String, String)>,
    pub placement: Option<&'static str>,
    /// sdCampaigns groupBy matchedTarget.
    pub matched_asin: Option<String>,
    pub m: Metrics,
}

impl Row {
    fn key(&self) -> RowKey {
        (
            self.campaign,
            self.keyword.as_ref().map(|k| k.keyword_id),
            self.keyword.as_ref().map(|k| k.search_term.clone()),
            self.product.as_ref().map(|p| p.0.clone()),
            self.placement,
            self.matched_asin.clone(),
        )
    }
}

/// What to build: the request, already validated.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub report_type: &'a str,
    pub group_by: &'a [String],
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub daily: bool,
    pub filters: &'a [(String, Vec<String>)],
    /// The sim time the data is observed at (the report's completion).
    pub at: DateTime<Utc>,
}

fn campaign_index(world: &World, id: i64) -> Option<usize> {
    world.campaigns().iter().position(|c| c.id == id)
}

fn state_on(world: &World, id: i64, day: NaiveDate) -> String {
    world
        .campaign_state(id, day)
        .unwrap_or_else(|| "ENABLED".into())
}

/// The daily rows of a query (before filters and SUMMARY aggregation).
fn daily_rows(world: &World, q: &Query) -> Vec<Row> {
    let has = |g: &str| q.group_by.iter().any(|x| x == g);
    let mut out = Vec::new();
    match q.report_type {
        "spCampaigns" | "sbCampaigns" | "sdCampaigns" => {
            let kind = match q.report_type {
                "spCampaigns" => AdProduct::SP,
                "sbCampaigns" => AdProduct::SB,
                _ => AdProduct::SD,
            };
            for d in world.campaign_days_all(kind, q.start, q.end, q.at) {
                let Some(c) = campaign_index(world, d.campaign_id) else {
                    continue;
                };
                let tos = d.top_of_search_impression_share;
                let m = Metrics {
                    impressions: d.impressions,
                    clicks: d.clicks,
                    cost: d.cost,
                    purchases7: d.purchases7d,
                    purchases14: d.purchases14d,
                    sales7: d.sales7d,
                    sales14: d.sales14d,
                    units7: d.units_sold_clicks7d,
                    units14: d.units_sold_clicks14d,
                    tos_weighted: tos.map_or(0.0, |t| t * d.impressions as f64),
                    tos_impressions: if tos.is_some() { d.impressions } else { 0 },
                };
                let base = Row {
                    date: Some(d.date),
                    campaign: c,
                    status: d.campaign_status.clone(),
                    keyword: None,
                    product: None,
                    placement: None,
                    matched_asin: None,
                    m,
                };
                if has("campaignPlacement") {
                    let w: Vec<f64> = PLACEMENTS.iter().map(|p| p.1).collect();
                    for (i, part) in m.split(&w).into_iter().enumerate() {
                        out.push(Row {
                            placement: Some(PLACEMENTS[i].0),
                            m: part,
                            ..base.clone()
                        });
                    }
                } else if has("matchedTarget") {
                    let asins: Vec<String> = world.campaigns()[c]
                        .skus
                        .iter()
                        .filter_map(|s| world.sku_idx(s).map(|j| world.products()[j].asin.clone()))
                        .collect();
                    let w = vec![1.0; asins.len()];
                    for (asin, part) in asins.into_iter().zip(m.split(&w)) {
                        out.push(Row {
                            matched_asin: Some(asin),
                            m: part,
                            ..base.clone()
                        });
                    }
                } else {
                    out.push(base);
                }
            }
        }
        "spSearchTerm" => {
            for d in world.search_term_days(q.start, q.end, q.at) {
                let Some(c) = campaign_index(world, d.campaign_id) else {
                    continue;
                };
                out.push(Row {
                    date: Some(d.date),
                    campaign: c,
                    status: state_on(world, d.campaign_id, d.date),
                    keyword: Some(KeywordDim {
                        keyword_id: d.keyword_id,
                        keyword: d.keyword.clone(),
                        match_type: d.match_type.clone(),
                        search_term: d.search_term.clone(),
                    }),
                    product: None,
                    placement: None,
                    matched_asin: None,
                    m: Metrics {
                        impressions: d.impressions,
                        clicks: d.clicks,
                        cost: d.cost,
                        purchases7: d.purchases7d,
                        purchases14: d.purchases14d,
                        sales7: d.sales7d,
                        sales14: d.sales14d,
                        units7: d.units_sold_clicks7d,
                        units14: d.units_sold_clicks14d,
                        ..Metrics::default()
                    },
                });
            }
        }
        "spAdvertisedProduct" => {
            for d in world.advertised_product_days(q.start, q.end, q.at) {
                let Some(c) = campaign_index(world, d.campaign_id) else {
                    continue;
                };
                out.push(Row {
                    date: Some(d.date),
                    campaign: c,
                    status: state_on(world, d.campaign_id, d.date),
                    keyword: None,
                    product: Some((d.advertised_asin.clone(), d.advertised_sku.clone())),
                    placement: None,
                    matched_asin: None,
                    m: Metrics {
                        impressions: d.impressions,
                        clicks: d.clicks,
                        cost: d.cost,
                        purchases7: d.purchases7d,
                        purchases14: d.purchases14d,
                        sales7: d.sales7d,
                        sales14: d.sales14d,
                        units7: d.units_sold_clicks7d,
                        units14: d.units_sold_clicks14d,
                        ..Metrics::default()
                    },
                });
            }
        }
        _ => {}
    }
    out
}

fn passes(row: &Row, filters: &[(String, Vec<String>)]) -> bool {
    filters.iter().all(|(field, values)| match field.as_str() {
        "campaignStatus" | "adStatus" | "adCreativeStatus" => values.contains(&row.status),
        "keywordType" => row
            .keyword
            .as_ref()
            .is_some_and(|k| values.contains(&k.match_type)),
        // The sim has no Amazon Business traffic.
        "campaignSite" => false,
        _ => true,
    })
}

/// The rows of a query: daily or summed over the range per entity, filtered,
/// only entities with activity.
pub fn rows(world: &World, q: &Query) -> Vec<Row> {
    let daily: Vec<Row> = daily_rows(world, q)
        .into_iter()
        .filter(|r| passes(r, q.filters))
        .collect();
    let rows = if q.daily {
        daily
    } else {
        let mut acc: BTreeMap<_, Row> = BTreeMap::new();
        for r in daily {
            match acc.get_mut(&r.key()) {
                Some(a) => {
                    a.m.add(&r.m);
                    if r.date >= a.date {
                        a.status = r.status.clone();
                        a.date = r.date;
                    }
                }
                None => {
                    acc.insert(r.key(), r);
                }
            }
        }
        acc.into_values()
            .map(|mut r| {
                r.date = None;
                r.m.cost = round2(r.m.cost);
                r.m.sales7 = round2(r.m.sales7);
                r.m.sales14 = round2(r.m.sales14);
                r
            })
            .collect()
    };
    rows.into_iter().filter(|r| r.m.active()).collect()
}

/// Everything a column value may need besides the row.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub currency: &'a str,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

fn ad_group_name(c: &Campaign) -> String {
    format!("{} - Ad group 1", c.name)
}

fn keyword_bid(c: &Campaign, keyword_id: i64) -> Option<f64> {
    (0..c.keywords.len())
        .find(|&i| c.keyword_id(i) == keyword_id)
        .map(|i| c.keywords[i].bid)
}

fn ratio_pct(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| (num / den * 100.0 * 100.0).round() / 100.0)
}

/// ROAS as a ratio; `null` when there are no sales (or no cost to divide by).
fn roas(sales: f64, cost: f64) -> Value {
    if sales > 0.0 && cost > 0.0 {
        json!(round2(sales / cost))
    } else {
        Value::Null
    }
}

/// One column of one row (`null` for what the sim does not model).
pub fn value(col: &str, row: &Row, ctx: &Ctx) -> Value {
    let camp = &ctx.world.campaigns()[row.campaign];
    let m = &row.m;
    let sb_sd = camp.kind != AdProduct::SP;
    let one = |x: u64| (x as f64 * ONE_DAY_SHARE).floor() as u64;
    let one_money = |x: f64| round2(x * ONE_DAY_SHARE);
    let num = |x: f64| json!(x);
    // Amounts in the profile's currency: whole yen for JPY.
    let decimals = ctx.world.currency_decimals();
    let money = |x: f64| crate::world::amount_json(x, decimals);
    match col {
        "date" => row.date.map_or(Value::Null, |d| json!(d.to_string())),
        "startDate" => json!(ctx.start.to_string()),
        "endDate" => json!(ctx.end.to_string()),
        "campaignId" => json!(camp.id),
        "campaignName" => json!(camp.name),
        "campaignStatus" | "adStatus" | "adKeywordStatus" => json!(row.status),
        "campaignBudgetAmount" => money(camp.daily_budget),
        "campaignBudgetCurrencyCode" => json!(ctx.currency),
        "campaignBudgetType" => json!("DAILY_BUDGET"),
        "costType" => json!("CPC"),
        "adGroupId" => json!(camp.ad_group_id()),
        "adGroupName" => json!(ad_group_name(camp)),
        "adId" => json!(
            camp.ad_group_id() * 1000
                + row
                    .product
                    .as_ref()
                    .and_then(|p| ctx.world.sku_idx(&p.1))
                    .map_or(0, |j| j as i64 + 1)
        ),
        "advertisedAsin" => row.product.as_ref().map_or(Value::Null, |p| json!(p.0)),
        "advertisedSku" => row.product.as_ref().map_or(Value::Null, |p| json!(p.1)),
        "keywordId" => row
            .keyword
            .as_ref()
            .map_or(Value::Null, |k| json!(k.keyword_id)),
        "keyword" | "targeting" => row
            .keyword
            .as_ref()
            .map_or(Value::Null, |k| json!(k.keyword)),
        "matchType" | "keywordType" => row
            .keyword
            .as_ref()
            .map_or(Value::Null, |k| json!(k.match_type)),
        "searchTerm" => row
            .keyword
            .as_ref()
            .map_or(Value::Null, |k| json!(k.search_term)),
        "keywordBid" => row
            .keyword
            .as_ref()
            .and_then(|k| keyword_bid(camp, k.keyword_id))
            .map_or(Value::Null, num),
        "placementClassification" => row.placement.map_or(Value::Null, |p| json!(p)),
        "matchedTargetAsin" => row.matched_asin.as_ref().map_or(Value::Null, |a| json!(a)),
        "topOfSearchImpressionShare" => m.top_of_search().map_or(Value::Null, num),
        "impressions" => json!(m.impressions),
        "clicks" => json!(m.clicks),
        "cost" | "spend" => money(round2(m.cost)),
        "costPerClick" => money(if m.clicks > 0 {
            round2(m.cost / m.clicks as f64)
        } else {
            0.0
        }),
        "clickThroughRate" => num(if m.impressions > 0 {
            (m.clicks as f64 / m.impressions as f64 * 100.0 * 10_000.0).round() / 10_000.0
        } else {
            0.0
        }),
        "purchases1d" | "purchasesSameSku1d" => json!(one(m.purchases7)),
        "purchases7d" | "purchasesSameSku7d" => json!(m.purchases7),
        "purchases14d" | "purchasesSameSku14d" | "purchases30d" | "purchasesSameSku30d" => {
            json!(m.purchases14)
        }
        "unitsSoldClicks1d" | "unitsSoldSameSku1d" => json!(one(m.units7)),
        "unitsSoldClicks7d" | "unitsSoldSameSku7d" => json!(m.units7),
        "unitsSoldClicks14d"
        | "unitsSoldSameSku14d"
        | "unitsSoldClicks30d"
        | "unitsSoldSameSku30d" => json!(m.units14),
        "sales1d" | "attributedSalesSameSku1d" => money(one_money(m.sales7)),
        "sales7d" | "attributedSalesSameSku7d" => money(round2(m.sales7)),
        "sales14d" | "attributedSalesSameSku14d" | "sales30d" | "attributedSalesSameSku30d" => {
            money(round2(m.sales14))
        }
        "salesOtherSku7d" => money(0.0),
        "unitsSoldOtherSku7d" => json!(0),
        "acosClicks7d" => ratio_pct(m.cost, m.sales7).map_or(Value::Null, num),
        "acosClicks14d" => ratio_pct(m.cost, m.sales14).map_or(Value::Null, num),
        "roasClicks7d" => roas(m.sales7, m.cost),
        "roasClicks14d" => roas(m.sales14, m.cost),
        // SB / SD: 14-day windows; clicks only (views add nothing in the sim).
        "purchases" | "purchasesClicks" | "purchasesPromoted" | "purchasesPromotedClicks"
            if sb_sd =>
        {
            json!(m.purchases14)
        }
        "sales" | "salesClicks" | "salesPromoted" | "salesPromotedClicks" if sb_sd => {
            money(round2(m.sales14))
        }
        "unitsSold" | "unitsSoldClicks" if sb_sd => json!(m.units14),
        _ => Value::Null,
    }
}

/// A row as the flat JSON object of exactly `columns`.
pub fn to_json(row: &Row, columns: &[String], ctx: &Ctx) -> Value {
    let mut o = Map::new();
    for c in columns {
        o.insert(c.clone(), value(c, row, ctx));
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_count_sums_and_is_fair() {
        assert_eq!(split_count(10, &[0.45, 0.3, 0.25]), vec![5, 3, 2]);
        assert_eq!(split_count(0, &[1.0, 1.0]), vec![0, 0]);
        assert_eq!(split_count(7, &[1.0, 1.0, 1.0]).iter().sum::<u64>(), 7);
        assert!(split_count(3, &[]).is_empty());
    }

    #[test]
    fn split_keeps_totals() {
        let m = Metrics {
            impressions: 1000,
            clicks: 17,
            cost: 12.34,
            purchases7: 3,
            purchases14: 4,
            sales7: 59.97,
            sales14: 79.96,
            units7: 3,
            units14: 4,
            ..Metrics::default()
        };
        let parts = m.split(&[0.45, 0.3, 0.25]);
        assert_eq!(parts.iter().map(|p| p.clicks).sum::<u64>(), 17);
        assert_eq!(parts.iter().map(|p| p.units14).sum::<u64>(), 4);
        let cost: f64 = parts.iter().map(|p| p.cost).sum();
        assert!((cost - 12.34).abs() < 0.03, "{cost}");
    }
}
