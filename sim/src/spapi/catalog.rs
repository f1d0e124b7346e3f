//! Catalog Items API 2022-04-01 (`catalogItems_2022-04-01.json`):
//! `searchCatalogItems` and `getCatalogItem`.
//!
//! The sim's catalogue is the scenario's products, in the seller's
//! marketplace only. Datasets of `includedData` (default `summaries`) the
//! world can fill:
//!
//! | dataset | content |
//! |---|---|
//! | `summaries` | item name, brand (the store name: the scenario's products are the seller's own brand), browse classification, website display group |
//! | `salesRanks` | the world's rank of the current marketplace day: one display-group rank and one classification rank |
//! | `classifications` | the product's browse node |
//! | `relationships` | `VARIATION` with the parent ASIN, when the product has one |
//! | `attributes` | `item_name` (attributes are keyed by attribute name, free-form) |
//!
//! `dimensions`, `identifiers`, `images`, `productTypes` and `vendorDetails`
//! are not in the scenario and are left out even when asked for
//! (`vendorDetails` is vendor-only anyway).
//!
//! Keyword search matches every whitespace-separated word of every keyword
//! against the title (case-insensitive) and adds the model's refinements.
//! `pageToken` tokens are bound to the request and, since the model gives no
//! lifetime, live 24 h of sim time.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::auth::SpCaller;
use crate::marketplaces;
use crate::ratelimit::{limit, RateInfo};
use crate::scenario::Product;
use crate::server::AppState;
use crate::spapi::orders::{invalid, Params};
use crate::spapi::paging;
use crate::world::World;

/// The `includedData` values of the model.
pub const INCLUDED_DATA: &[&str] = &[
    "attributes",
    "classifications",
    "dimensions",
    "identifiers",
    "images",
    "productTypes",
    "relationships",
    "salesRanks",
    "summaries",
    "vendorDetails",
];

/// The `identifiersType` values of the model.
pub const IDENTIFIER_TYPES: &[&str] =
    &["ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"];

/// Default and maximum `pageSize`, and the most identifiers or keywords.
pub const DEFAULT_PAGE_SIZE: i64 = 10;
pub const MAX_PAGE_SIZE: i64 = 20;
pub const MAX_IDENTIFIERS: usize = 20;
/// Lifetime of a `pageToken` (not documented; see the module docs).
pub const TOKEN_LIFETIME_HOURS: i64 = 24;

/// `GET /catalog/2022-04-01/items` and `GET /catalog/2022-04-01/items/{asin}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalog/2022-04-01/items", get(search_catalog_items))
        .route("/catalog/2022-04-01/items/", get(get_catalog_item_empty))
        .route("/catalog/2022-04-01/items/{asin}", get(get_catalog_item))
}

// ---------------------------------------------------------------------------
// Model definitions

/// `ItemSearchResults`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSearchResults {
    pub number_of_results: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refinements: Option<Refinements>,
    pub items: Vec<Item>,
}

/// `Pagination`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_token: Option<String>,
}

/// `Refinements`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refinements {
    pub brands: Vec<BrandRefinement>,
    pub classifications: Vec<ClassificationRefinement>,
}

/// `BrandRefinement`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandRefinement {
    pub number_of_results: usize,
    pub brand_name: String,
}

/// `ClassificationRefinement`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassificationRefinement {
    pub number_of_results: usize,
    pub display_name: String,
    pub classification_id: String,
}

/// `Item`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub asin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifications: Option<Vec<ItemBrowseClassificationsByMarketplace>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationships: Option<Vec<ItemRelationshipsByMarketplace>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_ranks: Option<Vec<ItemSalesRanksByMarketplace>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summaries: Option<Vec<ItemSummaryByMarketplace>>,
}

/// `ItemBrowseClassification`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBrowseClassification {
    pub display_name: String,
    pub classification_id: String,
}

/// `ItemBrowseClassificationsByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBrowseClassificationsByMarketplace {
    pub marketplace_id: String,
    pub classifications: Vec<ItemBrowseClassification>,
}

/// `ItemRelationshipsByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRelationshipsByMarketplace {
    pub marketplace_id: String,
    pub relationships: Vec<ItemRelationship>,
}

/// `ItemRelationship`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRelationship {
    pub parent_asins: Vec<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `ItemSalesRanksByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSalesRanksByMarketplace {
    pub marketplace_id: String,
    pub classification_ranks: Vec<ItemClassificationSalesRank>,
    pub display_group_ranks: Vec<ItemDisplayGroupSalesRank>,
}

/// `ItemClassificationSalesRank`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemClassificationSalesRank {
    pub classification_id: String,
    pub title: String,
    pub rank: u32,
}

/// `ItemDisplayGroupSalesRank`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDisplayGroupSalesRank {
    pub website_display_group: String,
    pub title: String,
    pub rank: u32,
}

/// `ItemSummaryByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSummaryByMarketplace {
    pub marketplace_id: String,
    pub brand: String,
    pub browse_classification: ItemBrowseClassification,
    pub item_classification: String,
    pub item_name: String,
    pub website_display_group: String,
    pub website_display_group_name: String,
}

// ---------------------------------------------------------------------------
// Building items

fn item(
    world: &World,
    p: &Product,
    marketplace_id: &str,
    inc: &[String],
    now: DateTime<Utc>,
) -> Item {
    let has = |d: &str| inc.iter().any(|x| x == d);
    let node = ItemBrowseClassification {
        display_name: p.browse_node_name.clone(),
        classification_id: p.browse_node_id.clone(),
    };
    let language = marketplaces::by_id(marketplace_id)
        .map(|m| m.language)
        .unwrap_or("en_US");
    let brand = world.scenario().seller.store_name.clone();
    Item {
        asin: p.asin.clone(),
        attributes: has("attributes").then(|| {
            serde_json::json!({
                "item_name": [{
                    "value": p.title,
                    "language_tag": language,
                    "marketplace_id": marketplace_id,
                }],
                "brand": [{
                    "value": brand,
                    "language_tag": language,
                    "marketplace_id": marketplace_id,
                }],
            })
        }),
        classifications: has("classifications").then(|| {
            vec![ItemBrowseClassificationsByMarketplace {
                marketplace_id: marketplace_id.to_owned(),
                classifications: vec![node.clone()],
            }]
        }),
        relationships: has("relationships").then(|| {
            vec![ItemRelationshipsByMarketplace {
                marketplace_id: marketplace_id.to_owned(),
                relationships: p
                    .parent_asin
                    .iter()
                    .filter(|a| **a != p.asin)
                    .map(|a| ItemRelationship {
                        parent_asins: vec![a.clone()],
                        kind: "VARIATION".into(),
                    })
                    .collect(),
            }]
        }),
        sales_ranks: has("salesRanks").then(|| {
            let rank = world.sales_rank(&p.asin, world.day_of(now));
            vec![ItemSalesRanksByMarketplace {
                marketplace_id: marketplace_id.to_owned(),
                classification_ranks: rank
                    .iter()
                    .map(|r| ItemClassificationSalesRank {
                        classification_id: r.classification_id.clone(),
                        title: r.classification_title.clone(),
                        rank: r.classification_rank,
                    })
                    .collect(),
                display_group_ranks: rank
                    .iter()
                    .map(|r| ItemDisplayGroupSalesRank {
                        website_display_group: r.display_group.clone(),
                        title: r.display_group_title.clone(),
                        rank: r.rank,
                    })
                    .collect(),
            }]
        }),
        summaries: has("summaries").then(|| {
            vec![ItemSummaryByMarketplace {
                marketplace_id: marketplace_id.to_owned(),
                brand: brand.clone(),
                browse_classification: node.clone(),
                item_classification: "BASE_PRODUCT".into(),
                item_name: p.title.clone(),
                website_display_group: p.display_group.clone(),
                website_display_group_name: p.display_group_title.clone(),
            }]
        }),
    }
}

/// `marketplaceIds` (required, known ids, at most `max`) and `includedData`.
fn common_params(
    params: &Params,
    rate: &RateInfo,
    max_marketplaces: Option<usize>,
) -> Result<(Vec<String>, Vec<String>), Response> {
    let Some(ids) = params.list("marketplaceIds") else {
        return Err(invalid(rate, "Missing required parameter marketplaceIds."));
    };
    if max_marketplaces.is_some_and(|m| ids.len() > m) {
        return Err(invalid(rate, "marketplaceIds accepts at most 1 value."));
    }
    if let Some(x) = ids.iter().find(|x| marketplaces::by_id(x).is_none()) {
        return Err(invalid(
            rate,
            &format!("Invalid marketplace identifier '{x}'."),
        ));
    }
    let inc = params
        .list("includedData")
        .unwrap_or_else(|| vec!["summaries".into()]);
    if let Some(x) = inc.iter().find(|x| !INCLUDED_DATA.contains(&x.as_str())) {
        return Err(invalid(
            rate,
            &format!(
                "Invalid includedData value '{x}'. Allowed: {}.",
                INCLUDED_DATA.join(", ")
            ),
        ));
    }
    Ok((ids, inc))
}

// ---------------------------------------------------------------------------
// searchCatalogItems

async fn search_catalog_items(
    State(state): State<AppState>,
    caller: SpCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Response> {
    let rate = limit(&state, "searchCatalogItems", &caller.account)?;
    let now = state.clock.now();
    let params = Params::parse(raw.as_deref()).map_err(|e| invalid(&rate, &e))?;
    let bad = |m: &str| invalid(&rate, m);
    let (ids, inc) = common_params(&params, &rate, Some(1))?;
    let marketplace_id = ids[0].clone();

    let identifiers = params.list("identifiers");
    let keywords = params.list("keywords");
    let id_type = params.one("identifiersType");
    let page_size = params
        .int("pageSize")
        .map_err(|e| bad(&e))?
        .unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(bad("pageSize must be between 1 and 20."));
    }
    let page_size = page_size as usize;
    let world = state.world_of(&marketplace_id);
    let seller = &world.scenario().seller;
    let ours = marketplace_id == seller.marketplace_id;

    let (matches, by_keywords, ctx_key): (Vec<&Product>, bool, String) =
        match (&identifiers, &keywords) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "identifiers and keywords cannot be used in the same request.",
                ))
            }
            (None, None) => return Err(bad("Either identifiers or keywords must be provided.")),
            (Some(list), None) => {
                for p in ["brandNames", "classificationIds", "keywordsLocale"] {
                    if params.one(p).is_some() {
                        return Err(bad(&format!("{p} cannot be used with identifiers.")));
                    }
                }
                if list.len() > MAX_IDENTIFIERS || list.iter().any(String::is_empty) {
                    return Err(bad("identifiers must hold 1 to 20 non-empty values."));
                }
                let Some(t) = id_type else {
                    return Err(bad(
                        "identifiersType is required when identifiers is provided.",
                    ));
                };
                if !IDENTIFIER_TYPES.contains(&t) {
                    return Err(bad(&format!("Invalid identifiersType '{t}'.")));
                }
                let seller_id = params.one("sellerId");
                if t == "SKU" && seller_id.is_none() {
                    return Err(bad("sellerId is required when identifiersType is SKU."));
                }
                let mut found: Vec<&Product> = Vec::new();
                if ours {
                    for v in list {
                        let j = match t {
                            "ASIN" => world.asin_idx(v),
                            "SKU" if seller_id == Some(seller.seller_id.as_str()) => {
                                world.sku_idx(v)
                            }
                            _ => None, // no EAN/UPC/... in the scenario
                        };
                        if let Some(p) = j.map(|j| &world.products()[j]) {
                            if !found.iter().any(|f| f.asin == p.asin) {
                                found.push(p);
                            }
                        }
                    }
                }
                (
                    found,
                    false,
                    format!("i:{t}:{}:{}", list.join(","), seller_id.unwrap_or("")),
                )
            }
            (None, Some(list)) => {
                if list.len() > MAX_IDENTIFIERS || list.iter().all(|k| k.trim().is_empty()) {
                    return Err(bad("keywords must hold 1 to 20 values."));
                }
                let words: Vec<String> = list
                    .iter()
                    .flat_map(|k| k.split_whitespace())
                    .map(str::to_lowercase)
                    .collect();
                let brands = params.list("brandNames");
                let classes = params.list("classificationIds");
                let brand = seller.store_name.to_lowercase();
                let found: Vec<&Product> = if ours {
                    world
                        .products()
                        .iter()
                        .filter(|p| {
                            let title = p.title.to_lowercase();
                            words.iter().all(|w| title.contains(w.as_str()))
                        })
                        .filter(|_| {
                            brands
                                .as_ref()
                                .is_none_or(|b| b.iter().any(|x| x.to_lowercase() == brand))
                        })
                        .filter(|p| {
                            classes
                                .as_ref()
                                .is_none_or(|c| c.contains(&p.browse_node_id))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let key = format!(
                    "k:{}:{}:{}",
                    list.join(","),
                    brands.map(|b| b.join(",")).unwrap_or_default(),
                    classes.map(|c| c.join(",")).unwrap_or_default()
                );
                (found, true, key)
            }
        };

    let ctx = paging::context(&["searchCatalogItems", &marketplace_id, &ctx_key]);
    let offset = match params.one("pageToken") {
        Some(t) => paging::decode(t, now, Duration::hours(TOKEN_LIFETIME_HOURS), ctx)
            .map_err(|e| bad(&e.to_string()))?,
        None => 0,
    };
    let total = matches.len();
    let start = offset.min(total);
    let end = (start + page_size).min(total);
    let items: Vec<Item> = matches[start..end]
        .iter()
        .map(|p| item(world, p, &marketplace_id, &inc, now))
        .collect();
    let next = (end < total).then(|| paging::encode(end, now, ctx));
    let previous = (start > 0).then(|| paging::encode(start.saturating_sub(page_size), now, ctx));
    let refinements = by_keywords.then(|| {
        let mut classes: Vec<ClassificationRefinement> = Vec::new();
        for p in &matches {
            match classes
                .iter_mut()
                .find(|c| c.classification_id == p.browse_node_id)
            {
                Some(c) => c.number_of_results += 1,
                None => classes.push(ClassificationRefinement {
                    number_of_results: 1,
                    display_name: p.browse_node_name.clone(),
                    classification_id: p.browse_node_id.clone(),
                }),
            }
        }
        Refinements {
            brands: if total > 0 {
                vec![BrandRefinement {
                    number_of_results: total,
                    brand_name: seller.store_name.clone(),
                }]
            } else {
                Vec::new()
            },
            classifications: classes,
        }
    });
    let body = ItemSearchResults {
        number_of_results: total,
        pagination: (next.is_some() || previous.is_some()).then_some(Pagination {
            next_token: next,
            previous_token: previous,
        }),
        refinements,
        items,
    };
    Ok(rate.json(&body))
}

// ---------------------------------------------------------------------------
// getCatalogItem

async fn get_catalog_item(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(asin): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Response> {
    let rate = limit(&state, "getCatalogItem", &caller.account)?;
    let now = state.clock.now();
    let params = Params::parse(raw.as_deref()).map_err(|e| invalid(&rate, &e))?;
    let (ids, inc) = common_params(&params, &rate, None)?;
    if asin.trim().is_empty() {
        return Err(invalid(&rate, "asin must not be empty."));
    }
    // The item in the first of the requested marketplaces the seller sells in (a seller
    // with several markets gets that market's item; Deviations: Amazon would list the
    // summaries and ranks of every requested marketplace).
    let world = ids
        .iter()
        .find_map(|m| state.worlds.by_marketplace(m))
        .unwrap_or_else(|| state.seller_world());
    let seller_marketplace = &world.scenario().seller.marketplace_id;
    let product = world
        .asin_idx(&asin)
        .filter(|_| ids.contains(seller_marketplace))
        .map(|j| &world.products()[j]);
    let Some(p) = product else {
        return Err(rate.apply(crate::errors::sp_not_found(&format!(
            "Requested item '{asin}' not found in marketplace(s) {}.",
            ids.join(",")
        ))));
    };
    Ok(rate.json(&item(world, p, seller_marketplace, &inc, now)))
}

/// `GET /catalog/2022-04-01/items/` (an empty `asin`): 400, as the model's
/// sandbox example says.
async fn get_catalog_item_empty(
    State(state): State<AppState>,
    caller: SpCaller,
) -> Result<Response, Response> {
    let rate = limit(&state, "getCatalogItem", &caller.account)?;
    Err(invalid(
        &rate,
        "Request has missing or invalid parameters and cannot be parsed: asin is empty.",
    ))
}
