//! Listings Items API 2021-08-01 (`listingsItems_2021-08-01.json`):
//! `searchListingsItems` and `getListingsItem`.
//!
//! Listings come from the world at sim time: `summaries[].status` ⊆
//! {BUYABLE, DISCOVERABLE}, the world's issues (with enforcement actions when
//! the world says the listing is suppressed), the offer price, and
//! `fulfillmentAvailability` (the merchant quantity under `DEFAULT` for FBM,
//! `AMAZON_<REGION>` without a quantity for FBA).
//!
//! Decisions where the model is silent:
//! - 400s are `InvalidInput` with the specifics in `message`, as the live
//!   service answers (the model's fixtures show `BAD_REQUEST`, but real
//!   clients quote `InvalidInput`).
//! - A `sellerId` that is not the authorised seller's merchant token, or a
//!   request naming none of the seller's marketplaces, gets the live service's
//!   400 `InvalidInput` "Invalid 'sellerId' and 'marketplaceId' combination
//!   provided." (quoted in jlevers/selling-partner-api#777).
//! - An unknown SKU gets 404 `NOT_FOUND`.
//! - The model documents no page-token lifetime; tokens here live 24 h of sim
//!   time and are bound to the request's filters.
//! - `procurement` is vendor-only and never returned to a seller;
//!   `relationships` is empty (the world has no variation families by SKU).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::auth::SpCaller;
use crate::clock::rfc3339;
use crate::errors;
use crate::marketplaces;
use crate::ratelimit::{limit, RateInfo};
use crate::server::AppState;
use crate::spapi::paging;
use crate::world::Listing;

/// Page tokens' lifetime (not documented by Amazon; an assumption).
pub const PAGE_TOKEN_LIFETIME_HOURS: i64 = 24;

const INCLUDED_DATA: [&str; 8] = [
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
];
const IDENTIFIER_TYPES: [&str; 9] = [
    "ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC",
];
const STATUSES: [&str; 2] = ["BUYABLE", "DISCOVERABLE"];
const SEVERITIES: [&str; 2] = ["WARNING", "ERROR"];

/// `GET /listings/2021-08-01/items/{sellerId}` and `.../{sellerId}/{sku}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/listings/2021-08-01/items/{seller_id}",
            get(search_listings_items),
        )
        .route(
            "/listings/2021-08-01/items/{seller_id}/{sku}",
            get(get_listings_item),
        )
}

// ---------------------------------------------------------------------------
// Query parameters

/// A query string as the models send it: each array parameter either
/// comma-separated (`csv`) or repeated.
#[derive(Debug, Default, Clone)]
pub struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    /// From decoded `(name, value)` pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry(k).or_default().push(v);
        }
        Params(m)
    }

    /// A scalar parameter (the last one when repeated).
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.last()).map(String::as_str)
    }

    /// An array parameter: comma-split and concatenated; `None` when absent.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.0.get(name).map(|vs| {
            vs.iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    /// An enum array parameter, every value checked against `allowed`.
    pub fn enum_list(&self, name: &str, allowed: &[&str]) -> Result<Option<Vec<String>>, String> {
        let Some(v) = self.list(name) else {
            return Ok(None);
        };
        if let Some(bad) = v.iter().find(|x| !allowed.contains(&x.as_str())) {
            return Err(format!(
                "Invalid value '{bad}' for '{name}'; allowed: {}.",
                allowed.join(", ")
            ));
        }
        Ok(Some(v))
    }
}

fn bad_request(rate: &RateInfo, message: &str) -> Response {
    rate.apply(errors::sp_invalid_input(message))
}

/// The live service's answer to a seller id / marketplace it does not pair.
const BAD_COMBINATION: &str = "Invalid 'sellerId' and 'marketplaceId' combination provided.";

// ---------------------------------------------------------------------------
// Model definitions

/// `ItemSearchResults`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSearchResults {
    pub number_of_results: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
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

/// `Item`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub sku: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summaries: Option<Vec<ItemSummaryByMarketplace>>,
    /// `ItemAttributes`: free-form, keyed by attribute name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issues: Option<Vec<Issue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offers: Option<Vec<ItemOfferByMarketplace>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfillment_availability: Option<Vec<FulfillmentAvailability>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationships: Option<Vec<ItemRelationshipsByMarketplace>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_types: Option<Vec<ItemProductTypeByMarketplace>>,
}

/// `ItemSummaryByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSummaryByMarketplace {
    pub marketplace_id: String,
    pub asin: String,
    pub product_type: String,
    pub condition_type: String,
    pub status: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fn_sku: Option<String>,
    pub item_name: String,
    pub created_date: String,
    pub last_updated_date: String,
}

/// `Issue`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub code: String,
    pub message: String,
    pub severity: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attribute_names: Vec<String>,
    pub categories: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcements: Option<IssueEnforcements>,
    pub marketplace_ids: Vec<String>,
}

/// `IssueEnforcements`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueEnforcements {
    pub actions: Vec<IssueEnforcementAction>,
    pub exemption: IssueExemption,
}

/// `IssueEnforcementAction`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueEnforcementAction {
    pub action: String,
}

/// `IssueExemption`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueExemption {
    pub status: String,
}

/// `ItemOfferByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemOfferByMarketplace {
    pub marketplace_id: String,
    pub offer_type: String,
    pub price: Money,
    pub audience: Audience,
}

/// `Money` (the amount is a decimal string).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub currency_code: String,
    pub amount: String,
}

/// `Audience`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audience {
    pub value: String,
    pub display_name: String,
}

/// `FulfillmentAvailability`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentAvailability {
    pub fulfillment_channel_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

/// `ItemRelationshipsByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRelationshipsByMarketplace {
    pub marketplace_id: String,
    pub relationships: Vec<Value>,
}

/// `ItemProductTypeByMarketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProductTypeByMarketplace {
    pub marketplace_id: String,
    pub product_type: String,
}

// ---------------------------------------------------------------------------
// Shared validation

/// What both operations check: the seller, the marketplaces, `includedData`.
struct Common {
    /// The seller's marketplace (the request names it).
    marketplace: String,
    included: Vec<String>,
}

fn common(
    state: &AppState,
    rate: &RateInfo,
    seller_id: &str,
    p: &Params,
) -> Result<Common, Response> {
    let seller = &state.seller_world().scenario().seller;
    let Some(ids) = p.list("marketplaceIds").filter(|v| !v.is_empty()) else {
        return Err(bad_request(
            rate,
            "Missing required parameter 'marketplaceIds'.",
        ));
    };
    if let Some(bad) = ids.iter().find(|m| marketplaces::by_id(m).is_none()) {
        return Err(bad_request(
            rate,
            &format!("'{bad}' is not a valid marketplace identifier."),
        ));
    }
    // The first requested marketplace the seller sells in; none: the model's 400.
    let Some(marketplace) = ids.iter().find(|m| state.sells_in(m)).cloned() else {
        return Err(bad_request(rate, BAD_COMBINATION));
    };
    if seller_id != seller.seller_id {
        return Err(bad_request(rate, BAD_COMBINATION));
    }
    let included = p
        .enum_list("includedData", &INCLUDED_DATA)
        .map_err(|e| bad_request(rate, &e))?
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec!["summaries".into()]);
    Ok(Common {
        marketplace,
        included,
    })
}

// ---------------------------------------------------------------------------
// Handlers

async fn get_listings_item(
    State(state): State<AppState>,
    caller: SpCaller,
    Path((seller_id, sku)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getListingsItem", &caller.account)?;
    let p = Params::new(q);
    let c = common(&state, &rate, &seller_id, &p)?;
    let now = state.clock.now();
    let Some(l) = state.world_of(&c.marketplace).listing(&sku, now) else {
        return Err(rate.apply(errors::sp_api(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("SKU '{sku}' not found in marketplace(s) of the request."),
            None,
        )));
    };
    Ok(rate.json(&item(&state, &l, &c.marketplace, &c.included)))
}

async fn search_listings_items(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(seller_id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "searchListingsItems", &caller.account)?;
    let p = Params::new(q);
    let c = common(&state, &rate, &seller_id, &p)?;
    let world = state.world_of(&c.marketplace).clone();
    let bad = |m: &str| bad_request(&rate, m);
    let now = state.clock.now();

    // Filters.
    let identifiers = p.list("identifiers").filter(|v| !v.is_empty());
    let identifiers_type = p.one("identifiersType");
    if let Some(t) = identifiers_type {
        if !IDENTIFIER_TYPES.contains(&t) {
            return Err(bad(&format!("Invalid value '{t}' for 'identifiersType'.")));
        }
    }
    match (&identifiers, identifiers_type) {
        (Some(ids), Some(_)) if ids.len() > 20 => {
            return Err(bad("'identifiers' accepts at most 20 values."))
        }
        (Some(_), None) => {
            return Err(bad(
                "'identifiersType' is required when 'identifiers' is provided.",
            ))
        }
        (None, Some(_)) => {
            return Err(bad(
                "'identifiers' is required when 'identifiersType' is provided.",
            ))
        }
        _ => {}
    }
    let variation_parent = p.one("variationParentSku");
    let package_hierarchy = p.one("packageHierarchySku");
    let exclusive = [
        identifiers.is_some(),
        variation_parent.is_some(),
        package_hierarchy.is_some(),
    ];
    if exclusive.iter().filter(|x| **x).count() > 1 {
        return Err(bad(
            "Use only one of 'identifiers', 'variationParentSku' and 'packageHierarchySku'.",
        ));
    }
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, Response> {
        match p.one(name) {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| bad(&format!("'{name}' must be an ISO 8601 date-time."))),
        }
    };
    let created_after = time("createdAfter")?;
    let created_before = time("createdBefore")?;
    let updated_after = time("lastUpdatedAfter")?;
    let updated_before = time("lastUpdatedBefore")?;
    let with_severity = p
        .enum_list("withIssueSeverity", &SEVERITIES)
        .map_err(|e| bad(&e))?;
    let with_status = p.enum_list("withStatus", &STATUSES).map_err(|e| bad(&e))?;
    let without_status = p
        .enum_list("withoutStatus", &STATUSES)
        .map_err(|e| bad(&e))?;
    let sort_by = p.one("sortBy").unwrap_or("lastUpdatedDate");
    if !["sku", "createdDate", "lastUpdatedDate"].contains(&sort_by) {
        return Err(bad(&format!("Invalid value '{sort_by}' for 'sortBy'.")));
    }
    let sort_order = p.one("sortOrder").unwrap_or("DESC");
    if !["ASC", "DESC"].contains(&sort_order) {
        return Err(bad(&format!(
            "Invalid value '{sort_order}' for 'sortOrder'."
        )));
    }
    let page_size = match p.one("pageSize") {
        None => 10,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=20).contains(&n) => n,
            _ => return Err(bad("'pageSize' must be an integer from 1 to 20.")),
        },
    };

    // The page token is bound to every parameter but itself.
    let mut ctx_parts: Vec<String> =
        p.0.iter()
            .filter(|(k, _)| k.as_str() != "pageToken")
            .map(|(k, v)| format!("{k}={}", v.join(",")))
            .collect();
    ctx_parts.push(seller_id.clone());
    let ctx_refs: Vec<&str> = ctx_parts.iter().map(String::as_str).collect();
    let ctx = paging::context(&ctx_refs);
    let offset = match p.one("pageToken") {
        Some(t) => paging::decode(t, now, Duration::hours(PAGE_TOKEN_LIFETIME_HOURS), ctx)
            .map_err(|e| bad(&e.to_string()))?,
        None => 0,
    };

    // Candidates: the seller's products, narrowed by identifiers first (cheap).
    let mut listings: Vec<Listing> = if variation_parent.is_some() || package_hierarchy.is_some() {
        Vec::new()
    } else {
        world
            .products()
            .iter()
            .filter(|prod| match (&identifiers, identifiers_type) {
                (Some(ids), Some(t)) => {
                    let key = match t {
                        "SKU" => prod.sku.clone(),
                        "ASIN" => prod.asin.clone(),
                        "FNSKU" => prod.fnsku(),
                        _ => return false,
                    };
                    ids.contains(&key)
                }
                _ => true,
            })
            .filter_map(|prod| world.listing(&prod.sku, now))
            .collect()
    };
    listings.retain(|l| {
        let has = |s: &str| l.status.iter().any(|x| x == s);
        created_after.is_none_or(|t| l.created >= t)
            && created_before.is_none_or(|t| l.created <= t)
            && updated_after.is_none_or(|t| l.last_updated >= t)
            && updated_before.is_none_or(|t| l.last_updated <= t)
            && with_status
                .as_ref()
                .is_none_or(|v| v.iter().all(|s| has(s)))
            && without_status
                .as_ref()
                .is_none_or(|v| v.iter().all(|s| !has(s)))
            && with_severity
                .as_ref()
                .is_none_or(|v| l.issues.iter().any(|i| v.contains(&i.severity)))
    });
    listings.sort_by(|a, b| {
        let primary = match sort_by {
            "sku" => a.sku.cmp(&b.sku),
            "createdDate" => a.created.cmp(&b.created),
            _ => a.last_updated.cmp(&b.last_updated),
        };
        let primary = if sort_order == "DESC" {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| a.sku.cmp(&b.sku))
    });

    let total = listings.len();
    let start = offset.min(total);
    let end = (start + page_size).min(total);
    let next_token = (end < total).then(|| paging::encode(end, now, ctx));
    let previous_token =
        (start > 0).then(|| paging::encode(start.saturating_sub(page_size), now, ctx));
    let pagination = (next_token.is_some() || previous_token.is_some()).then_some(Pagination {
        next_token,
        previous_token,
    });
    let items = listings[start..end]
        .iter()
        .map(|l| item(&state, l, &c.marketplace, &c.included))
        .collect();
    Ok(rate.json(&ItemSearchResults {
        number_of_results: total,
        pagination,
        items,
    }))
}

// ---------------------------------------------------------------------------
// World → model

/// The model's `conditionType` for the world's condition.
pub fn condition_type(condition: &str) -> &'static str {
    match condition
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
        .as_str()
    {
        "used" | "used_good" => "used_good",
        "used_like_new" => "used_like_new",
        "used_very_good" => "used_very_good",
        "used_acceptable" => "used_acceptable",
        "refurbished" | "refurbished_refurbished" => "refurbished_refurbished",
        "collectible" | "collectible_good" => "collectible_good",
        "club" | "club_club" => "club_club",
        "new_open_box" => "new_open_box",
        "new_oem" => "new_oem",
        _ => "new_new",
    }
}

fn item(state: &AppState, l: &Listing, marketplace_id: &str, included: &[String]) -> Item {
    let wants = |d: &str| included.iter().any(|x| x == d);
    let world = state.world_of(marketplace_id);
    let product = world.sku_idx(&l.sku).and_then(|j| world.products().get(j));
    let is_fba = l.fbm_quantity.is_none();
    let language = marketplaces::by_id(marketplace_id)
        .map(|m| m.language)
        .unwrap_or("en_US");
    let summaries = wants("summaries").then(|| {
        vec![ItemSummaryByMarketplace {
            marketplace_id: marketplace_id.to_owned(),
            asin: l.asin.clone(),
            product_type: l.product_type.clone(),
            condition_type: condition_type(&l.condition).into(),
            status: l
                .status
                .iter()
                .filter(|s| STATUSES.contains(&s.as_str()))
                .cloned()
                .collect(),
            fn_sku: product.filter(|_| is_fba).map(|p| p.fnsku()),
            item_name: l.title.clone(),
            created_date: rfc3339(l.created),
            last_updated_date: rfc3339(l.last_updated),
        }]
    });
    let price = format!("{:.*}", world.currency_decimals(), l.price);
    let attributes = wants("attributes").then(|| {
        let mut a = Map::new();
        a.insert(
            "item_name".into(),
            json!([{ "value": l.title, "language_tag": language, "marketplace_id": marketplace_id }]),
        );
        a.insert(
            "condition_type".into(),
            json!([{ "value": condition_type(&l.condition), "marketplace_id": marketplace_id }]),
        );
        a.insert(
            "purchasable_offer".into(),
            json!([{
                "currency": l.currency,
                "audience": "ALL",
                "our_price": [{ "schedule": [{ "value_with_tax": l.price }] }],
                "marketplace_id": marketplace_id,
            }]),
        );
        let mut fa = json!({ "fulfillment_channel_code": l.fulfillment_channel_code });
        if let Some(q) = l.fbm_quantity {
            fa["quantity"] = json!(q.max(0));
        }
        a.insert("fulfillment_availability".into(), json!([fa]));
        a
    });
    let issues = wants("issues").then(|| issues(l, marketplace_id));
    let offers = wants("offers").then(|| {
        vec![ItemOfferByMarketplace {
            marketplace_id: marketplace_id.to_owned(),
            offer_type: "B2C".into(),
            price: Money {
                currency_code: l.currency.clone(),
                amount: price.clone(),
            },
            audience: Audience {
                value: "ALL".into(),
                display_name: "Sell on Amazon".into(),
            },
        }]
    });
    let fulfillment_availability = wants("fulfillmentAvailability").then(|| {
        vec![FulfillmentAvailability {
            fulfillment_channel_code: l.fulfillment_channel_code.clone(),
            quantity: if is_fba {
                None
            } else {
                l.fbm_quantity.map(|q| q.max(0))
            },
        }]
    });
    let relationships = wants("relationships").then(|| {
        vec![ItemRelationshipsByMarketplace {
            marketplace_id: marketplace_id.to_owned(),
            relationships: Vec::new(),
        }]
    });
    let product_types = wants("productTypes").then(|| {
        vec![ItemProductTypeByMarketplace {
            marketplace_id: marketplace_id.to_owned(),
            product_type: l.product_type.clone(),
        }]
    });
    Item {
        sku: l.sku.clone(),
        summaries,
        attributes,
        issues,
        offers,
        fulfillment_availability,
        relationships,
        product_types,
    }
}

/// The world's issues in the model's shape. A suppressed listing's ERROR
/// issues carry `LISTING_SUPPRESSED` (plus `SEARCH_SUPPRESSED` when it is not
/// discoverable); a suppressed listing without any ERROR issue gets one.
fn issues(l: &Listing, marketplace_id: &str) -> Vec<Issue> {
    let discoverable = l.status.iter().any(|s| s == "DISCOVERABLE");
    let enforcement = || {
        let mut actions = vec![IssueEnforcementAction {
            action: "LISTING_SUPPRESSED".into(),
        }];
        if !discoverable {
            actions.push(IssueEnforcementAction {
                action: "SEARCH_SUPPRESSED".into(),
            });
        }
        IssueEnforcements {
            actions,
            exemption: IssueExemption {
                status: "NOT_EXEMPT".into(),
            },
        }
    };
    let mut out: Vec<Issue> = l
        .issues
        .iter()
        .map(|i| {
            let severity = match i.severity.to_ascii_uppercase().as_str() {
                s @ ("ERROR" | "WARNING" | "INFO") => s.to_owned(),
                _ => "WARNING".to_owned(),
            };
            Issue {
                code: i.code.clone(),
                message: i.message.clone(),
                enforcements: (l.suppressed && severity == "ERROR").then(enforcement),
                severity,
                attribute_names: i.attribute_names.clone(),
                categories: i.categories.clone(),
                marketplace_ids: vec![marketplace_id.to_owned()],
            }
        })
        .collect();
    if l.suppressed && !out.iter().any(|i| i.severity == "ERROR") {
        out.push(Issue {
            code: "SUPPRESSED_LISTING".into(),
            message: "This listing has been suppressed. Review the listing for compliance with Amazon policies to lift the suppression.".into(),
            severity: "ERROR".into(),
            attribute_names: Vec::new(),
            categories: Vec::new(),
            enforcements: Some(enforcement()),
            marketplace_ids: vec![marketplace_id.to_owned()],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_accept_csv_and_repeats() {
        let p = Params::new(vec![
            ("marketplaceIds".into(), "A,B".into()),
            ("marketplaceIds".into(), "C".into()),
            ("pageSize".into(), "5".into()),
        ]);
        assert_eq!(p.list("marketplaceIds").unwrap(), vec!["A", "B", "C"]);
        assert_eq!(p.one("pageSize"), Some("5"));
        assert!(p.enum_list("marketplaceIds", &["A"]).is_err());
        assert_eq!(p.list("nope"), None);
    }

    #[test]
    fn condition_types() {
        assert_eq!(condition_type("New"), "new_new");
        assert_eq!(condition_type("Used"), "used_good");
        assert_eq!(condition_type("refurbished"), "refurbished_refurbished");
    }
}
