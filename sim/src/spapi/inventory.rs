//! FBA Inventory API v1 (`fbaInventory.json`): `getInventorySummaries`.
//!
//! Only FBA SKUs are in Amazon's fulfillment network, so FBM SKUs never
//! appear. The world gives each SKU's quantities at sim now; its
//! `last_updated` is sim now too, so a `startDateTime` in the past returns
//! every summary (the model: "all inventory summaries that have changed since
//! then"; `sellerSkus`/`sellerSku` are then ignored, as documented).
//!
//! Pages hold 50 summaries: the model does not say, and 50 is the size
//! Amazon's service uses in practice (community SDKs and notes). `nextToken`
//! expires 30 s of sim time after it was issued (the model's parameter
//! description) and is bound to the filters; an expired or foreign token gets
//! 400 `InvalidInput`.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{Duration, Months};
use serde::Serialize;

use crate::auth::SpCaller;
use crate::marketplaces;
use crate::ratelimit::limit;
use crate::server::AppState;
use crate::spapi::orders::{invalid, rfc3339, Params};
use crate::spapi::paging;
use crate::world::Inventory;

/// Summaries per page.
pub const PAGE_SIZE: usize = 50;
/// Lifetime of a `nextToken` (the model: 30 seconds).
pub const TOKEN_LIFETIME_SECS: i64 = 30;
/// `sellerSkus` maximum (the model's `maxItems`).
pub const MAX_SKUS: usize = 50;

/// `GET /fba/inventory/v1/summaries`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/fba/inventory/v1/summaries", get(get_inventory_summaries))
}

/// `GetInventorySummariesResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetInventorySummariesResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<GetInventorySummariesResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

/// `GetInventorySummariesResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetInventorySummariesResult {
    pub granularity: Granularity,
    pub inventory_summaries: Vec<InventorySummary>,
}

/// `Granularity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Granularity {
    pub granularity_type: String,
    pub granularity_id: String,
}

/// `Pagination`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub next_token: String,
}

/// `InventorySummary`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InventorySummary {
    pub asin: String,
    pub fn_sku: String,
    pub seller_sku: String,
    pub condition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_details: Option<InventoryDetails>,
    pub last_updated_time: String,
    pub product_name: String,
    pub total_quantity: i64,
    pub stores: Vec<String>,
}

/// `InventoryDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryDetails {
    pub fulfillable_quantity: i64,
    pub inbound_working_quantity: i64,
    pub inbound_shipped_quantity: i64,
    pub inbound_receiving_quantity: i64,
    pub reserved_quantity: ReservedQuantity,
    pub researching_quantity: ResearchingQuantity,
    pub unfulfillable_quantity: UnfulfillableQuantity,
}

/// `ReservedQuantity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedQuantity {
    pub total_reserved_quantity: i64,
    pub pending_customer_order_quantity: i64,
    pub pending_transshipment_quantity: i64,
    pub fc_processing_quantity: i64,
}

/// `ResearchingQuantity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResearchingQuantity {
    pub total_researching_quantity: i64,
    pub researching_quantity_breakdown: Vec<ResearchingQuantityEntry>,
}

/// `ResearchingQuantityEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResearchingQuantityEntry {
    pub name: String,
    pub quantity: i64,
}

/// `UnfulfillableQuantity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnfulfillableQuantity {
    pub total_unfulfillable_quantity: i64,
    pub customer_damaged_quantity: i64,
    pub warehouse_damaged_quantity: i64,
    pub distributor_damaged_quantity: i64,
    pub carrier_damaged_quantity: i64,
    pub defective_quantity: i64,
    pub expired_quantity: i64,
}

fn summary(inv: &Inventory, details: bool) -> InventorySummary {
    // Unfulfillable units are mostly customer returns; split them the way
    // Amazon's dispositions usually fall (customer damaged first).
    let u = inv.unfulfillable.max(0);
    let warehouse = u / 5;
    let defective = u / 4;
    let customer = u - warehouse - defective;
    let r = inv.researching.max(0);
    InventorySummary {
        asin: inv.asin.clone(),
        fn_sku: inv.fnsku.clone(),
        seller_sku: inv.sku.clone(),
        condition: condition_text(&inv.condition),
        inventory_details: details.then(|| InventoryDetails {
            fulfillable_quantity: inv.fulfillable,
            inbound_working_quantity: inv.inbound_working,
            inbound_shipped_quantity: inv.inbound_shipped,
            inbound_receiving_quantity: inv.inbound_receiving,
            reserved_quantity: ReservedQuantity {
                total_reserved_quantity: inv.reserved,
                pending_customer_order_quantity: inv.reserved_customer_orders,
                pending_transshipment_quantity: inv.reserved_fc_transfers,
                fc_processing_quantity: (inv.reserved
                    - inv.reserved_customer_orders
                    - inv.reserved_fc_transfers)
                    .max(0),
            },
            researching_quantity: ResearchingQuantity {
                total_researching_quantity: r,
                researching_quantity_breakdown: vec![
                    ResearchingQuantityEntry {
                        name: "researchingQuantityInShortTerm".into(),
                        quantity: r,
                    },
                    ResearchingQuantityEntry {
                        name: "researchingQuantityInMidTerm".into(),
                        quantity: 0,
                    },
                    ResearchingQuantityEntry {
                        name: "researchingQuantityInLongTerm".into(),
                        quantity: 0,
                    },
                ],
            },
            unfulfillable_quantity: UnfulfillableQuantity {
                total_unfulfillable_quantity: u,
                customer_damaged_quantity: customer,
                warehouse_damaged_quantity: warehouse,
                distributor_damaged_quantity: 0,
                carrier_damaged_quantity: 0,
                defective_quantity: defective,
                expired_quantity: 0,
            },
        }),
        last_updated_time: rfc3339(inv.last_updated),
        product_name: inv.title.clone(),
        total_quantity: inv.total,
        stores: Vec::new(),
    }
}

/// Amazon writes the condition as "NewItem", "UsedLikeNew", ...
fn condition_text(c: &str) -> String {
    let lower = c.to_ascii_lowercase();
    if lower == "new" || lower.is_empty() {
        "NewItem".into()
    } else {
        c.split([' ', '_', '-'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut cs = w.chars();
                match cs.next() {
                    Some(f) => f
                        .to_uppercase()
                        .chain(cs.flat_map(char::to_lowercase))
                        .collect(),
                    None => String::new(),
                }
            })
            .collect()
    }
}

async fn get_inventory_summaries(
    State(state): State<AppState>,
    caller: SpCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Response> {
    let rate = limit(&state, "getInventorySummaries", &caller.account)?;
    let now = state.clock.now();
    let params = Params::parse(raw.as_deref()).map_err(|e| invalid(&rate, &e))?;
    let bad = |m: &str| invalid(&rate, m);

    match params.one("granularityType") {
        Some("Marketplace") => {}
        Some(v) => {
            return Err(bad(&format!(
                "Invalid granularityType '{v}'. Allowed: Marketplace."
            )))
        }
        None => return Err(bad("Missing required parameter granularityType.")),
    }
    let Some(granularity_id) = params.one("granularityId").filter(|s| !s.is_empty()) else {
        return Err(bad("Missing required parameter granularityId."));
    };
    let Some(marketplace_ids) = params.list("marketplaceIds") else {
        return Err(bad("Missing required parameter marketplaceIds."));
    };
    if marketplace_ids.len() > 1 {
        return Err(bad("marketplaceIds accepts at most 1 value."));
    }
    let marketplace_id = marketplace_ids[0].clone();
    if marketplaces::by_id(&marketplace_id).is_none() {
        return Err(bad(&format!(
            "Invalid marketplace identifier '{marketplace_id}'."
        )));
    }
    if granularity_id != marketplace_id {
        return Err(bad(
            "granularityId must be the marketplace id of marketplaceIds when granularityType is Marketplace.",
        ));
    }
    let details = match params.one("details") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => return Err(bad(&format!("details must be true or false, got '{v}'."))),
    };
    let start = params.time("startDateTime").map_err(|e| bad(&e))?;
    if let Some(s) = start {
        let floor = now.checked_sub_months(Months::new(18)).unwrap_or(now);
        if s < floor {
            return Err(bad(
                "startDateTime must be no earlier than 18 months before the time of the request.",
            ));
        }
    }
    // startDateTime wins over sellerSkus, which wins over sellerSku.
    let skus: Option<Vec<String>> = if start.is_some() {
        None
    } else if let Some(list) = params.list("sellerSkus") {
        if list.len() > MAX_SKUS {
            return Err(bad("sellerSkus accepts at most 50 values."));
        }
        Some(list)
    } else {
        params.one("sellerSku").map(|s| vec![s.to_owned()])
    };

    let ctx = paging::context(&[
        "getInventorySummaries",
        &marketplace_id,
        &start
            .map(|s| s.timestamp_millis().to_string())
            .unwrap_or_default(),
        &skus.as_ref().map(|s| s.join("\u{1f}")).unwrap_or_default(),
    ]);
    let offset = match params.one("nextToken") {
        Some(t) => paging::decode(t, now, Duration::seconds(TOKEN_LIFETIME_SECS), ctx)
            .map_err(|e| bad(&e.to_string()))?,
        None => 0,
    };

    // The FBA SKUs asked for, in catalogue order; quantities are computed
    // for the page only (the large scenario has 20,000 SKUs).
    // The granularityId's market (a foreign one: the first, which has no stock there).
    let world = state.world_of(&marketplace_id);
    let seller_marketplace = &world.scenario().seller.marketplace_id;
    let candidates: Vec<&str> =
        if *seller_marketplace != marketplace_id || start.is_some_and(|s| s > now) {
            // No stock in a marketplace the seller does not sell in; nothing
            // changes after now (every summary's lastUpdatedTime is now).
            Vec::new()
        } else {
            match &skus {
                Some(list) => list
                    .iter()
                    .filter(|s| {
                        world
                            .sku_idx(s)
                            .is_some_and(|j| world.products()[j].is_fba())
                    })
                    .map(String::as_str)
                    .collect(),
                None => world
                    .products()
                    .iter()
                    .filter(|p| p.is_fba())
                    .map(|p| p.sku.as_str())
                    .collect(),
            }
        };
    let total = candidates.len();
    let end = (offset + PAGE_SIZE).min(total);
    let page: Vec<Inventory> = candidates
        .get(offset.min(total)..end)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| world.inventory(s, now))
        .collect();
    let body = GetInventorySummariesResponse {
        payload: Some(GetInventorySummariesResult {
            granularity: Granularity {
                granularity_type: "Marketplace".into(),
                granularity_id: granularity_id.to_owned(),
            },
            inventory_summaries: page.iter().map(|i| summary(i, details)).collect(),
        }),
        pagination: (end < total).then(|| Pagination {
            next_token: paging::encode(end, now, ctx),
        }),
    };
    Ok(rate.json(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_reads_like_amazons() {
        assert_eq!(condition_text("New"), "NewItem");
        assert_eq!(condition_text("Used Like New"), "UsedLikeNew");
    }
}
