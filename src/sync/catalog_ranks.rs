//! Job `catalog_ranks`: Catalog Items 2022-04-01 `searchCatalogItems`
//! (catalogItems_2022-04-01.json) by ASIN identifiers, 20 a call
//! (`identifiers` maxItems, with `pageSize=20` so one page holds them all),
//! `includedData=salesRanks,summaries`. One snapshot per ASIN per marketplace
//! day: there is no rank-history API, so this table is the history.
//!
//! The ASINs are the ones the database knows (products, listings, orders,
//! inventory), best sellers first; on a fresh install with none, they come
//! from `searchListingsItems` (which needs the seller id).

use serde_json::{json, Value};

use super::api_util::{call_json, elements, local_day, marketplaces, sp_endpoint};
use super::{listings, Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::model::marketplace::Marketplace;
use crate::store::catalog::{self, RankRow};
use crate::store::ops::ts;

const JOB: &str = "catalog_ranks";
const OPERATION: &str = "searchCatalogItems";
const PATH: &str = "/catalog/2022-04-01/items";
/// The model's `identifiers` maximum (and `pageSize` maximum).
const BATCH: usize = 20;

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let ep = sp_endpoint(ctx)?;
    let mut written = 0;
    let mut ranked = 0;
    let mut asked = 0;
    for m in marketplaces(ctx) {
        let asins = seller_asins(ctx, &ep, m).await?;
        let day = local_day(m, ctx.now);
        let mut rows = Vec::new();
        for batch in asins.chunks(BATCH) {
            rows.extend(fetch(ctx, &ep, m, batch).await?);
        }
        asked += asins.len();
        ranked += rows
            .iter()
            .filter(|r| r.display_group_rank.is_some())
            .count();
        let cursor = json!({ "snapshot_date": day, "asins": asins.len(), "at": ts(ctx.now) });
        written += ctx.with_db(|c| {
            catalog::write_ranks(c, &ctx.cursor_write(JOB, m, &cursor), &day, &rows)
        })?;
    }
    Ok(JobReport {
        rows: written,
        note: format!("{ranked} of {asked} ASINs ranked"),
    })
}

/// The ASINs to sample: what the database knows, else the seller's listings.
pub(crate) async fn seller_asins(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
) -> Result<Vec<String>, JobError> {
    let since = local_day(m, ctx.now - chrono::Duration::days(30));
    let known = ctx.with_db(|c| catalog::asins_by_sales(c, &ctx.account.name, m.id, &since))?;
    if !known.is_empty() {
        return Ok(known);
    }
    let seller = listings::seller_id(ctx).map_err(|_| {
        JobError::Data(format!(
            "account {}: no ASIN known yet (run the orders, inventory or listings job first), \
             and without seller_id the listings cannot be searched for them",
            ctx.account.name
        ))
    })?;
    let rows = listings::fetch_all(ctx, ep, seller, m, &["summaries"]).await?;
    let mut asins: Vec<String> = rows.into_iter().filter_map(|r| r.asin).collect();
    asins.sort();
    asins.dedup();
    Ok(asins)
}

async fn fetch(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    asins: &[String],
) -> Result<Vec<RankRow>, JobError> {
    let spec = CallSpec::get(OPERATION, PATH)
        .query("identifiers", asins.join(","))
        .query("identifiersType", "ASIN")
        .query("marketplaceIds", m.id)
        .query("includedData", "salesRanks,summaries")
        .query("pageSize", BATCH.to_string());
    let body: Value = call_json(ctx, ep, &spec).await?.unwrap_or(Value::Null);
    Ok(parse_items(&body, m.id))
}

/// Parses `ItemSearchResults` (pure): one row per item, with the first
/// `displayGroupRanks` entry as the main rank and the first
/// `classificationRanks` entry as evidence. An item without ranks in the
/// marketplace gets a row with no ranks (observed, unranked).
pub fn parse_items(body: &Value, marketplace_id: &str) -> Vec<RankRow> {
    let by_market = |list: Option<&Value>| -> Option<Value> {
        list?
            .as_array()?
            .iter()
            .find(|x| x.get("marketplaceId").and_then(Value::as_str) == Some(marketplace_id))
            .cloned()
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mut rows: Vec<RankRow> = Vec::new();
    for item in elements(body.get("items")) {
        let Some(asin) = s(item, "asin") else {
            continue;
        };
        if rows.iter().any(|r| r.asin == asin) {
            continue;
        }
        let ranks = by_market(item.get("salesRanks"));
        let first = |k: &str| {
            ranks
                .as_ref()
                .and_then(|r| r.get(k))
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .cloned()
                .unwrap_or(Value::Null)
        };
        let dg = first("displayGroupRanks");
        let cl = first("classificationRanks");
        let title = by_market(item.get("summaries")).and_then(|x| s(&x, "itemName"));
        rows.push(RankRow {
            asin,
            display_group: s(&dg, "websiteDisplayGroup"),
            display_group_title: s(&dg, "title"),
            display_group_rank: dg.get("rank").and_then(Value::as_i64),
            classification_id: s(&cl, "classificationId"),
            classification_title: s(&cl, "title"),
            classification_rank: cl.get("rank").and_then(Value::as_i64),
            raw_json: ranks.map(|r| r.to_string()).unwrap_or_else(|| "[]".into()),
            title,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_rank_is_the_first_display_group_entry() {
        let body = json!({"numberOfResults": 2, "items": [
            {"asin": "B0A",
             "salesRanks": [
                {"marketplaceId": "A2EUQ1WTGCTBG2", "displayGroupRanks": [{"websiteDisplayGroup": "x", "title": "X", "rank": 1}]},
                {"marketplaceId": "ATVPDKIKX0DER",
                 "classificationRanks": [{"classificationId": "3743561", "title": "Water Bottles", "rank": 12},
                                         {"classificationId": "9", "title": "Other", "rank": 99}],
                 "displayGroupRanks": [{"websiteDisplayGroup": "kitchen_display_on_website", "title": "Kitchen", "rank": 345},
                                       {"websiteDisplayGroup": "home", "title": "Home", "rank": 9000}]}],
             "summaries": [{"marketplaceId": "ATVPDKIKX0DER", "itemName": "Bottle"}]},
            {"asin": "B0B"}
        ]});
        let rows = parse_items(&body, "ATVPDKIKX0DER");
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(
            a.display_group.as_deref(),
            Some("kitchen_display_on_website")
        );
        assert_eq!(a.display_group_rank, Some(345));
        assert_eq!(a.classification_id.as_deref(), Some("3743561"));
        assert_eq!(a.classification_rank, Some(12));
        assert_eq!(a.title.as_deref(), Some("Bottle"));
        let b = &rows[1];
        assert_eq!((b.display_group_rank, b.raw_json.as_str()), (None, "[]"));
    }
}
