//! Orders API v2026-01-01 (`orders_2026-01-01.json`): `searchOrders` and
//! `getOrder`.
//!
//! Orders come from the world as they stand at sim now; the items are always
//! embedded, and the optional datasets of `includedData` are added only when
//! asked for:
//!
//! | dataset | what the sim fills in |
//! |---|---|
//! | (always) | id, times, `programs` (PRIME, AMAZON_BUSINESS), `salesChannel`, items with `product` |
//! | `BUYER` | anonymised `buyerEmail` (FBM orders only, as the model notes) |
//! | `RECIPIENT` | `deliveryAddress` (city, state, postal code, country, type) |
//! | `PROCEEDS` | order `grandTotal` + breakdowns, item `proceedsTotal` + breakdowns (none for cancelled orders) |
//! | `PROMOTION` | item promotion ids |
//! | `CANCELLATION` | item cancellation request/execution of cancelled orders |
//! | `FULFILLMENT` | order status, `fulfilledBy`, service level, ship-by window; item quantities |
//! | `PACKAGES` | one package per shipped FBM order |
//! | `TAX` | item marketplace-facilitator tax collection |
//! | `EXPENSE`, `PAYMENT`, `FULFILLMENT_ORDERS` | nothing (points are JP only, payment executions are COD/BR, fulfillment orders EasyShip only) |
//!
//! Status mapping (world → `FulfillmentStatus`): Pending → PENDING,
//! Unshipped → UNSHIPPED, Shipped → SHIPPED, Canceled → CANCELLED.
//!
//! Paging: results are ordered by (creation or last-update time, order id).
//! The `paginationToken` carries a cursor (the key time of the next order and
//! how many orders sharing that time were already returned), bound to the
//! filters and valid 24 h of sim time, so a page never regenerates the orders
//! before it. The model lets `maxResultsPerPage` and `includedData` change
//! between pages, so they are not part of the binding.
//!
//! Why one file of about 1,160 lines: `searchOrders` and `getOrder` return
//! the same order shape with the same optional datasets; the filters, paging
//! and the serialisation they share stay together.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::auth::SpCaller;
use crate::errors;
use crate::marketplaces;
use crate::ratelimit::{limit, RateInfo};
use crate::server::AppState;
use crate::spapi::paging;
use crate::world::{self, OrderStatus, World};

/// Lifetime of a `searchOrders` pagination token (the model: 24 hours).
pub const TOKEN_LIFETIME_HOURS: i64 = 24;

/// `GET /orders/2026-01-01/orders` and `GET /orders/2026-01-01/orders/{orderId}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/2026-01-01/orders", get(search_orders))
        .route("/orders/2026-01-01/orders/{order_id}", get(get_order))
}

// ---------------------------------------------------------------------------
// Query strings (shared by the sim's SP-API files of this family)

/// Decoded query parameters. Array parameters are accepted both as Swagger's
/// `csv` (`a,b`) and as repeated keys (`k=a&k=b`), as SP-API clients send both.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parse a raw query string; `Err` names a malformed escape.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Params, String> {
        let mut out = Vec::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Ok(Params(out))
    }

    /// The first value of a scalar parameter.
    pub(crate) fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of an array parameter (comma-split), or `None` if absent.
    pub(crate) fn list(&self, name: &str) -> Option<Vec<String>> {
        let values: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::to_owned))
            .collect();
        (!values.is_empty()).then_some(values)
    }

    /// An integer parameter; `Err` if present but not an integer.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, String> {
        match self.one(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name} must be an integer, got '{v}'.")),
        }
    }

    /// A date-time parameter (ISO 8601); `Err` if present but unparsable.
    pub(crate) fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, String> {
        match self.one(name) {
            None => Ok(None),
            Some(v) => parse_time(v)
                .map(Some)
                .ok_or_else(|| format!("{name} must be an ISO 8601 date-time, got '{v}'.")),
        }
    }
}

fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("malformed escape in query: {s}"))?;
                out.push(hex);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "query is not UTF-8".to_owned())
}

/// ISO 8601: RFC 3339, or a date-time without offset (taken as UTC).
pub(crate) fn parse_time(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t.and_utc());
        }
    }
    None
}

/// RFC 3339 in UTC with a `Z`, as Amazon writes times.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// 400 `InvalidInput` with the rate header.
pub(crate) fn invalid(rate: &RateInfo, message: &str) -> Response {
    rate.apply(errors::sp_invalid_input(message))
}

/// Currencies without minor units (ISO 4217 exponent 0) among Amazon's.
fn decimals(currency: &str) -> usize {
    match currency {
        "JPY" | "CLP" | "KRW" | "HUF" => 0,
        _ => 2,
    }
}

// ---------------------------------------------------------------------------
// Model definitions

/// `SearchOrdersResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrdersResponse {
    pub orders: Vec<Order>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_before: Option<String>,
}

/// `Pagination`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetOrderResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetOrderResponse {
    pub order: Order,
}

/// `Order`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub created_time: String,
    pub last_updated_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programs: Option<Vec<String>>,
    pub sales_channel: SalesChannel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Buyer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proceeds: Option<OrderProceeds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<OrderFulfillment>,
    pub order_items: Vec<OrderItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<OrderPackage>>,
}

/// `SalesChannel`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesChannel {
    pub channel_name: String,
    pub marketplace_id: String,
    pub marketplace_name: String,
}

/// `Buyer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_email: Option<String>,
}

/// `Recipient`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub delivery_address: CustomerAddress,
}

/// `CustomerAddress`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAddress {
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_or_region: Option<String>,
    pub postal_code: String,
    pub country_code: String,
    pub address_type: String,
}

/// `Money`: `amount` is a `Decimal`, a string.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: String,
    pub currency_code: String,
}

impl Money {
    fn new(amount: f64, currency: &str) -> Money {
        let d = decimals(currency);
        let mut a = format!("{:.*}", d, amount);
        if a.starts_with('-') && a.trim_start_matches(['-', '0', '.']).is_empty() {
            a.remove(0); // no "-0.00"
        }
        Money {
            amount: a,
            currency_code: currency.to_owned(),
        }
    }
}

/// `OrderProceeds`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceeds {
    pub grand_total: Money,
    pub breakdowns: Vec<OrderProceedsBreakdown>,
}

/// `OrderProceedsBreakdown`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceedsBreakdown {
    #[serde(rename = "type")]
    pub kind: String,
    pub subtotal: Money,
}

/// `DateTimeRange`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeRange {
    pub earliest_date_time: String,
    pub latest_date_time: String,
}

/// `OrderFulfillment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFulfillment {
    pub fulfillment_status: String,
    pub fulfilled_by: String,
    pub fulfillment_service_level: String,
    pub ship_by_window: DateTimeRange,
}

/// `OrderItem`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub order_item_id: String,
    pub quantity_ordered: u32,
    pub product: ItemProduct,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proceeds: Option<ItemProceeds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<ItemPromotion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<ItemCancellation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfillment: Option<ItemFulfillment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<ItemTax>,
}

/// `ItemProduct`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProduct {
    pub asin: String,
    pub title: String,
    pub seller_sku: String,
    pub condition: ItemCondition,
    pub price: ItemPrice,
}

/// `ItemCondition`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCondition {
    pub condition_type: String,
    pub condition_subtype: String,
}

/// `ItemPrice`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    pub unit_price: Money,
}

/// `ItemProceeds`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceeds {
    pub proceeds_total: Money,
    pub breakdowns: Vec<ItemProceedsBreakdown>,
}

/// `ItemProceedsBreakdown`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceedsBreakdown {
    #[serde(rename = "type")]
    pub kind: String,
    pub subtotal: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detailed_breakdowns: Option<Vec<ItemProceedsDetailedBreakdown>>,
}

/// `ItemProceedsDetailedBreakdown`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceedsDetailedBreakdown {
    pub subtype: String,
    pub value: Money,
}

/// `ItemPromotion`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPromotion {
    pub breakdowns: Vec<ItemPromotionBreakdown>,
}

/// `ItemPromotionBreakdown`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPromotionBreakdown {
    pub promotion_id: String,
}

/// `ItemCancellation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCancellation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_request: Option<ItemCancellationRequest>,
    pub cancellation_execution: ItemCancellationExecution,
}

/// `ItemCancellationRequest`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCancellationRequest {
    pub requester: String,
    pub cancel_reason: String,
}

/// `ItemCancellationExecution`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemCancellationExecution {
    pub cancelled_by: String,
    pub cancel_reason: String,
}

/// `ItemFulfillment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFulfillment {
    pub quantity_fulfilled: u32,
    pub quantity_unfulfilled: u32,
}

/// `ItemTax`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemTax {
    pub tax_collections: Vec<ItemTaxCollection>,
}

/// `ItemTaxCollection`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemTaxCollection {
    pub model: String,
    pub responsible_party: String,
}

/// `OrderPackage`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPackage {
    pub package_reference_id: String,
    pub created_time: String,
    pub package_status: PackageStatus,
    pub carrier: String,
    pub ship_time: String,
    pub shipping_service: String,
    pub tracking_number: String,
    pub package_items: Vec<PackageItem>,
}

/// `PackageStatus`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageStatus {
    pub status: String,
}

/// `PackageItem`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageItem {
    pub order_item_id: String,
    pub quantity: u32,
}

// ---------------------------------------------------------------------------
// Mapping

/// The `includedData` values of the model.
pub const INCLUDED_DATA: &[&str] = &[
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

/// The `FulfillmentStatus` enum of the model.
pub const FULFILLMENT_STATUSES: &[&str] = &[
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
];

/// World status → the model's `FulfillmentStatus`.
pub fn fulfillment_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "PENDING",
        OrderStatus::Unshipped => "UNSHIPPED",
        OrderStatus::Shipped => "SHIPPED",
        OrderStatus::Canceled => "CANCELLED",
    }
}

/// World fulfilment channel → `fulfilledBy`.
fn fulfilled_by(channel: &str) -> &'static str {
    if channel == "AFN" {
        "AMAZON"
    } else {
        "MERCHANT"
    }
}

/// Which optional datasets a request asked for.
#[derive(Debug, Clone, Default)]
struct Included(Vec<String>);

impl Included {
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|x| x == name)
    }
}

fn parse_included(params: &Params, rate: &RateInfo) -> Result<Included, Response> {
    let list = params.list("includedData").unwrap_or_default();
    for v in &list {
        if !INCLUDED_DATA.contains(&v.as_str()) {
            return Err(invalid(
                rate,
                &format!(
                    "Invalid includedData value '{v}'. Allowed: {}.",
                    INCLUDED_DATA.join(", ")
                ),
            ));
        }
    }
    Ok(Included(list))
}

fn hash_str(parts: &[&str]) -> u64 {
    paging::context(parts)
}

fn condition(world: &World, sku: &str) -> ItemCondition {
    let raw = world
        .sku_idx(sku)
        .map(|j| world.products()[j].condition.to_ascii_uppercase())
        .unwrap_or_else(|| "NEW".into());
    let kind = match raw.split([' ', '_', '-']).next().unwrap_or("NEW") {
        "USED" => "USED",
        "COLLECTIBLE" => "COLLECTIBLE",
        "REFURBISHED" => "REFURBISHED",
        "CLUB" => "CLUB",
        _ => "NEW",
    };
    let sub = if kind == "NEW" || kind == "REFURBISHED" || kind == "CLUB" {
        kind
    } else {
        match raw.rsplit([' ', '_', '-']).next().unwrap_or("") {
            "MINT" => "MINT",
            "GOOD" if raw.contains("VERY") => "VERY_GOOD",
            "GOOD" => "GOOD",
            "ACCEPTABLE" => "ACCEPTABLE",
            _ => "GOOD",
        }
    };
    ItemCondition {
        condition_type: kind.into(),
        condition_subtype: sub.into(),
    }
}

/// The model's `Order` for a world order, with the datasets of `inc`.
fn to_model(world: &World, o: &world::Order, inc: &Included) -> Order {
    let cur = o.currency.as_str();
    let canceled = o.status == OrderStatus::Canceled;
    let fba = o.fulfillment_channel == "AFN";
    let marketplace_name = marketplaces::by_id(&o.marketplace_id)
        .map(|m| m.name.to_owned())
        .unwrap_or_else(|| o.sales_channel.clone());
    let mut programs = Vec::new();
    if o.is_prime {
        programs.push("PRIME".to_owned());
    }
    if o.is_business_order {
        programs.push("AMAZON_BUSINESS".to_owned());
    }

    let mut totals = [0.0f64; 4]; // item, shipping, tax, discount
    let mut items = Vec::with_capacity(o.items.len());
    for it in &o.items {
        let tax = it.item_tax + it.shipping_tax;
        totals[0] += it.item_price;
        totals[1] += it.shipping_price;
        totals[2] += tax;
        totals[3] += it.promotion_discount;
        let proceeds = (inc.has("PROCEEDS") && !canceled).then(|| {
            let mut b = vec![ItemProceedsBreakdown {
                kind: "ITEM".into(),
                subtotal: Money::new(it.item_price, cur),
                detailed_breakdowns: None,
            }];
            if it.shipping_price > 0.0 {
                b.push(ItemProceedsBreakdown {
                    kind: "SHIPPING".into(),
                    subtotal: Money::new(it.shipping_price, cur),
                    detailed_breakdowns: None,
                });
            }
            if tax > 0.0 {
                let mut d = vec![ItemProceedsDetailedBreakdown {
                    subtype: "ITEM".into(),
                    value: Money::new(it.item_tax, cur),
                }];
                if it.shipping_tax > 0.0 {
                    d.push(ItemProceedsDetailedBreakdown {
                        subtype: "SHIPPING".into(),
                        value: Money::new(it.shipping_tax, cur),
                    });
                }
                b.push(ItemProceedsBreakdown {
                    kind: "TAX".into(),
                    subtotal: Money::new(tax, cur),
                    detailed_breakdowns: Some(d),
                });
            }
            if it.promotion_discount > 0.0 {
                b.push(ItemProceedsBreakdown {
                    kind: "DISCOUNT".into(),
                    subtotal: Money::new(-it.promotion_discount, cur),
                    detailed_breakdowns: Some(vec![ItemProceedsDetailedBreakdown {
                        subtype: "ITEM".into(),
                        value: Money::new(-it.promotion_discount, cur),
                    }]),
                });
            }
            ItemProceeds {
                proceeds_total: Money::new(
                    it.item_price + it.shipping_price + tax - it.promotion_discount,
                    cur,
                ),
                breakdowns: b,
            }
        });
        let promotion =
            (inc.has("PROMOTION") && !it.promotion_ids.is_empty()).then(|| ItemPromotion {
                breakdowns: it
                    .promotion_ids
                    .iter()
                    .map(|p| ItemPromotionBreakdown {
                        promotion_id: p.clone(),
                    })
                    .collect(),
            });
        let cancellation = (inc.has("CANCELLATION") && canceled).then(|| {
            if fba {
                ItemCancellation {
                    cancellation_request: Some(ItemCancellationRequest {
                        requester: "BUYER".into(),
                        cancel_reason: "BUYER_CANCELED".into(),
                    }),
                    cancellation_execution: ItemCancellationExecution {
                        cancelled_by: "AMAZON".into(),
                        cancel_reason: "BUYER_CANCELED".into(),
                    },
                }
            } else {
                ItemCancellation {
                    cancellation_request: None,
                    cancellation_execution: ItemCancellationExecution {
                        cancelled_by: "MERCHANT".into(),
                        cancel_reason: "NO_INVENTORY".into(),
                    },
                }
            }
        });
        let shipped = it.item_status == OrderStatus::Shipped;
        let fulfillment = inc.has("FULFILLMENT").then_some(ItemFulfillment {
            quantity_fulfilled: if shipped { it.quantity } else { 0 },
            quantity_unfulfilled: if shipped || canceled { 0 } else { it.quantity },
        });
        let tax_info = (inc.has("TAX") && it.item_tax > 0.0).then(|| ItemTax {
            tax_collections: vec![ItemTaxCollection {
                model: "MARKETPLACE_FACILITATOR".into(),
                responsible_party: responsible_party(&o.marketplace_id).into(),
            }],
        });
        let unit = if it.quantity > 0 {
            it.item_price / f64::from(it.quantity)
        } else {
            it.item_price
        };
        items.push(OrderItem {
            order_item_id: it.order_item_id.clone(),
            quantity_ordered: it.quantity,
            product: ItemProduct {
                asin: it.asin.clone(),
                title: it.title.clone(),
                seller_sku: it.sku.clone(),
                condition: condition(world, &it.sku),
                price: ItemPrice {
                    unit_price: Money::new(unit, cur),
                },
            },
            proceeds,
            promotion,
            cancellation,
            fulfillment,
            tax: tax_info,
        });
    }

    let proceeds = (inc.has("PROCEEDS") && !canceled).then(|| {
        let mut b = vec![OrderProceedsBreakdown {
            kind: "ITEM".into(),
            subtotal: Money::new(totals[0], cur),
        }];
        if totals[1] > 0.0 {
            b.push(OrderProceedsBreakdown {
                kind: "SHIPPING".into(),
                subtotal: Money::new(totals[1], cur),
            });
        }
        if totals[2] > 0.0 {
            b.push(OrderProceedsBreakdown {
                kind: "TAX".into(),
                subtotal: Money::new(totals[2], cur),
            });
        }
        if totals[3] > 0.0 {
            b.push(OrderProceedsBreakdown {
                kind: "DISCOUNT".into(),
                subtotal: Money::new(-totals[3], cur),
            });
        }
        OrderProceeds {
            grand_total: Money::new(totals[0] + totals[1] + totals[2] - totals[3], cur),
            breakdowns: b,
        }
    });
    let buyer = (inc.has("BUYER") && !fba).then(|| Buyer {
        buyer_email: Some(format!(
            "{:016x}@marketplace.{}",
            hash_str(&["buyer", &o.amazon_order_id]),
            marketplaces::by_id(&o.marketplace_id)
                .map(|m| m.domain_name.trim_start_matches("www."))
                .unwrap_or("amazon.com")
        )),
    });
    let recipient = inc.has("RECIPIENT").then(|| Recipient {
        delivery_address: CustomerAddress {
            city: o.ship_city.clone(),
            state_or_region: (!o.ship_state.is_empty()).then(|| o.ship_state.clone()),
            postal_code: o.ship_postal_code.clone(),
            country_code: o.ship_country.clone(),
            address_type: if o.is_business_order {
                "COMMERCIAL"
            } else {
                "RESIDENTIAL"
            }
            .into(),
        },
    });
    let fulfillment = inc.has("FULFILLMENT").then(|| OrderFulfillment {
        fulfillment_status: fulfillment_status(o.status).into(),
        fulfilled_by: fulfilled_by(o.fulfillment_channel).into(),
        fulfillment_service_level: o.ship_service_level.to_ascii_uppercase(),
        ship_by_window: DateTimeRange {
            earliest_date_time: rfc3339(o.purchase_date),
            latest_date_time: rfc3339(o.latest_ship_date),
        },
    });
    let packages = match (inc.has("PACKAGES"), fba, o.shipped_at) {
        (true, false, Some(shipped)) => {
            let h = hash_str(&["package", &o.amazon_order_id]);
            let expedited = o.ship_service_level == "Expedited";
            Some(vec![OrderPackage {
                package_reference_id: "1".into(),
                created_time: rfc3339(shipped - Duration::minutes(30)),
                package_status: PackageStatus {
                    status: "SHIPPED".into(),
                },
                carrier: if expedited { "UPS" } else { "USPS" }.into(),
                ship_time: rfc3339(shipped),
                shipping_service: if expedited {
                    "UPS 2nd Day Air"
                } else {
                    "USPS Ground Advantage"
                }
                .into(),
                tracking_number: if expedited {
                    format!("1Z{:016X}", h)
                } else {
                    format!("9400{:018}", h % 1_000_000_000_000_000_000)
                },
                package_items: o
                    .items
                    .iter()
                    .map(|it| PackageItem {
                        order_item_id: it.order_item_id.clone(),
                        quantity: it.quantity,
                    })
                    .collect(),
            }])
        }
        _ => None,
    };
    Order {
        order_id: o.amazon_order_id.clone(),
        created_time: rfc3339(o.purchase_date),
        last_updated_time: rfc3339(o.last_update_date),
        programs: (!programs.is_empty()).then_some(programs),
        sales_channel: SalesChannel {
            channel_name: "AMAZON".into(),
            marketplace_id: o.marketplace_id.clone(),
            marketplace_name,
        },
        buyer,
        recipient,
        proceeds,
        fulfillment,
        order_items: items,
        packages,
    }
}

fn responsible_party(marketplace_id: &str) -> &'static str {
    match marketplaces::by_id(marketplace_id).map(|m| m.region) {
        Some("eu") => "Amazon Services Europe S.a.r.L.",
        Some("fe") => "Amazon Japan G.K.",
        _ => "Amazon Services LLC",
    }
}

// ---------------------------------------------------------------------------
// searchOrders

/// Which time a search selects on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Created,
    Updated,
}

impl Mode {
    fn key(self, o: &world::Order) -> DateTime<Utc> {
        match self {
            Mode::Created => o.purchase_date,
            Mode::Updated => o.last_update_date,
        }
    }
}

/// The filters of a search (everything a token is bound to).
struct Filter {
    marketplaces: Option<Vec<String>>,
    statuses: Option<Vec<String>>,
    fulfilled_by: Option<Vec<String>>,
}

impl Filter {
    fn keep(&self, o: &world::Order) -> bool {
        self.marketplaces
            .as_ref()
            .is_none_or(|m| m.contains(&o.marketplace_id))
            && self
                .statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == fulfillment_status(o.status)))
            && self
                .fulfilled_by
                .as_ref()
                .is_none_or(|f| f.iter().any(|x| x == fulfilled_by(o.fulfillment_channel)))
    }
}

/// One page of orders whose key lies in `[from, to)`, starting at the
/// cursor `(from, skip)`: `limit` orders, and the cursor of the next page if
/// there is one. Orders are generated one day-window at a time and sorted by
/// (key, order id) within it, so a page costs about one day of orders.
fn page(
    worlds: &[Arc<World>],
    mode: Mode,
    (from, skip): (DateTime<Utc>, usize),
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    filter: &Filter,
    limit: usize,
) -> (Vec<world::Order>, Option<(DateTime<Utc>, usize)>) {
    let mut out: Vec<world::Order> = Vec::with_capacity(limit + 1);
    let mut skipped = 0usize;
    // Nothing happens before the history starts (the earliest market's).
    let Some(floor) = worlds
        .iter()
        .map(|world| world.day_start(world.history_start()))
        .min()
    else {
        return (out, None);
    };
    let mut w = if from < floor { floor } else { from };
    while w < to && out.len() <= limit {
        let w1 = (w + Duration::days(1)).min(to);
        // Several marketplaces: their orders of the window merge into one sequence.
        let mut v: Vec<world::Order> = Vec::new();
        for world in worlds {
            match mode {
                Mode::Created => v.extend(world.orders_purchased(w, w1, now)),
                Mode::Updated => v.extend(world.orders_updated(w, w1, now)),
            }
        }
        v.retain(|o| filter.keep(o));
        v.sort_by(|a, b| (mode.key(a), &a.amazon_order_id).cmp(&(mode.key(b), &b.amazon_order_id)));
        for o in v {
            if mode.key(&o) == from && skipped < skip {
                skipped += 1;
                continue;
            }
            out.push(o);
            if out.len() > limit {
                break;
            }
        }
        w = w1;
    }
    if out.len() <= limit {
        return (out, None);
    }
    let next = out.pop().expect("limit + 1 orders");
    let key = mode.key(&next);
    let mut same = out.iter().filter(|o| mode.key(o) == key).count();
    if key == from {
        same += skip;
    }
    (out, Some((key, same)))
}

/// Pack a cursor into the paging offset: seconds since the epoch, and the
/// number of orders at that second already returned.
fn pack(key: DateTime<Utc>, skip: usize) -> usize {
    ((key.timestamp().max(0) as usize) << 20) | skip.min((1 << 20) - 1)
}

fn unpack(offset: usize) -> Option<(DateTime<Utc>, usize)> {
    let secs = (offset >> 20) as i64;
    DateTime::from_timestamp(secs, 0).map(|t| (t, offset & ((1 << 20) - 1)))
}

async fn search_orders(
    State(state): State<AppState>,
    caller: SpCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Response> {
    let rate = limit(&state, "searchOrders", &caller.account)?;
    let now = state.clock.now();
    let params = Params::parse(raw.as_deref()).map_err(|e| invalid(&rate, &e))?;
    let bad = |m: &str| invalid(&rate, m);

    let created_after = params.time("createdAfter").map_err(|e| bad(&e))?;
    let created_before = params.time("createdBefore").map_err(|e| bad(&e))?;
    let updated_after = params.time("lastUpdatedAfter").map_err(|e| bad(&e))?;
    let updated_before = params.time("lastUpdatedBefore").map_err(|e| bad(&e))?;
    let (mode, after, before) = match (created_after, updated_after) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(bad(
                "Exactly one of createdAfter and lastUpdatedAfter must be provided.",
            ))
        }
        (Some(a), None) => {
            if updated_before.is_some() {
                return Err(bad(
                    "lastUpdatedBefore cannot be provided together with createdAfter.",
                ));
            }
            (Mode::Created, a, created_before)
        }
        (None, Some(a)) => {
            if created_before.is_some() {
                return Err(bad(
                    "createdBefore cannot be provided together with lastUpdatedAfter.",
                ));
            }
            (Mode::Updated, a, updated_before)
        }
    };
    let latest = now - Duration::minutes(2);
    let before_name = if mode == Mode::Created {
        "createdBefore"
    } else {
        "lastUpdatedBefore"
    };
    if let Some(b) = before {
        if b < after {
            return Err(bad(&format!(
                "{before_name} must be equal to or after the {} date.",
                if mode == Mode::Created {
                    "createdAfter"
                } else {
                    "lastUpdatedAfter"
                }
            )));
        }
        if b > latest {
            return Err(bad(&format!(
                "{before_name} must be at least two minutes before the time of the request."
            )));
        }
    }
    let to = before.unwrap_or(latest);

    let max = params
        .int("maxResultsPerPage")
        .map_err(|e| bad(&e))?
        .unwrap_or(100);
    if !(1..=100).contains(&max) {
        return Err(bad("maxResultsPerPage must be between 1 and 100."));
    }
    let marketplaces = params.list("marketplaceIds");
    if let Some(m) = &marketplaces {
        if m.len() > 50 {
            return Err(bad("marketplaceIds accepts at most 50 values."));
        }
        if let Some(x) = m.iter().find(|x| marketplaces::by_id(x).is_none()) {
            return Err(bad(&format!("Invalid marketplace identifier '{x}'.")));
        }
    }
    let statuses = params.list("fulfillmentStatuses");
    if let Some(x) = statuses
        .iter()
        .flatten()
        .find(|x| !FULFILLMENT_STATUSES.contains(&x.as_str()))
    {
        return Err(bad(&format!("Invalid fulfillmentStatuses value '{x}'.")));
    }
    let fulfilled = params.list("fulfilledBy");
    if let Some(x) = fulfilled
        .iter()
        .flatten()
        .find(|x| *x != "MERCHANT" && *x != "AMAZON")
    {
        return Err(bad(&format!("Invalid fulfilledBy value '{x}'.")));
    }
    let inc = parse_included(&params, &rate)?;

    let join = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.join(",")).unwrap_or_default();
    let ctx = paging::context(&[
        "searchOrders",
        if mode == Mode::Created { "c" } else { "u" },
        &after.timestamp_millis().to_string(),
        &before
            .map(|b| b.timestamp_millis().to_string())
            .unwrap_or_default(),
        &join(&marketplaces),
        &join(&statuses),
        &join(&fulfilled),
    ]);
    let (from, skip) = match params.one("paginationToken") {
        Some(t) => {
            let offset = paging::decode(t, now, Duration::hours(TOKEN_LIFETIME_HOURS), ctx)
                .map_err(|e| bad(&e.to_string()))?;
            unpack(offset).ok_or_else(|| bad("Invalid pagination token."))?
        }
        None => (after, 0),
    };
    let filter = Filter {
        marketplaces,
        statuses,
        fulfilled_by: fulfilled,
    };
    // The markets asked for (all without `marketplaceIds`); a marketplace the seller does
    // not sell in has no orders.
    let worlds: Vec<Arc<World>> = state
        .worlds
        .iter()
        .filter(|w| {
            filter
                .marketplaces
                .as_ref()
                .is_none_or(|m| m.iter().any(|x| x == w.marketplace_id()))
        })
        .cloned()
        .collect();
    let limit_n = max as usize;
    let (orders, next) = tokio::task::spawn_blocking(move || {
        let (orders, next) = page(&worlds, mode, (from, skip), to, now, &filter, limit_n);
        let orders: Vec<Order> = orders
            .iter()
            .map(|o| {
                let world = worlds
                    .iter()
                    .find(|w| w.marketplace_id() == o.marketplace_id)
                    .expect("an order comes from a selected world");
                to_model(world, o, &inc)
            })
            .collect();
        (orders, next)
    })
    .await
    .map_err(|e| errors::sp_internal(&format!("searchOrders failed: {e}")))?;

    let body = SearchOrdersResponse {
        orders,
        pagination: next.map(|(k, s)| Pagination {
            next_token: Some(paging::encode(pack(k, s), now, ctx)),
        }),
        last_updated_before: (mode == Mode::Updated).then(|| rfc3339(to)),
        created_before: (mode == Mode::Created).then(|| rfc3339(to)),
    };
    Ok(rate.json(&body))
}

// ---------------------------------------------------------------------------
// getOrder

/// Whether `id` has Amazon's order id shape, 3-7-7 digits.
pub fn is_order_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 3
        && [3, 7, 7]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
}

async fn get_order(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(order_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Response> {
    let rate = limit(&state, "getOrder", &caller.account)?;
    let now = state.clock.now();
    let params = Params::parse(raw.as_deref()).map_err(|e| invalid(&rate, &e))?;
    let inc = parse_included(&params, &rate)?;
    if !is_order_id(&order_id) {
        return Err(invalid(
            &rate,
            &format!("Invalid orderId '{order_id}': expected 3-7-7 digits."),
        ));
    }
    // An order id belongs to one market (each market has its own id prefixes).
    let Some((world, o)) = state
        .worlds
        .iter()
        .find_map(|w| w.order(&order_id, now).map(|o| (w, o)))
    else {
        return Err(rate.apply(errors::sp_not_found(&format!(
            "Order {order_id} was not found."
        ))));
    };
    let body = GetOrderResponse {
        order: to_model(world, &o, &inc),
    };
    Ok(rate.json(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_accept_csv_and_repeated_keys() {
        let p = Params::parse(Some("a=1,2&a=3&b=x%2By+z&c=")).unwrap();
        assert_eq!(p.list("a").unwrap(), vec!["1", "2", "3"]);
        assert_eq!(p.one("b"), Some("x+y z"));
        assert_eq!(p.list("c").unwrap(), vec![""]);
        assert!(p.list("d").is_none());
        assert!(Params::parse(Some("a=%zz")).is_err());
    }

    #[test]
    fn money_and_ids() {
        assert_eq!(Money::new(19.989_999, "USD").amount, "19.99");
        assert_eq!(Money::new(-0.001, "USD").amount, "0.00");
        assert_eq!(Money::new(5980.0, "JPY").amount, "5980");
        assert!(is_order_id("112-1234567-1234567"));
        assert!(!is_order_id("TEST_CASE_400"));
        let t = parse_time("2026-03-01T00:00:00Z").unwrap();
        assert_eq!(unpack(pack(t, 7)), Some((t, 7)));
    }
}
