//! The `orders` job (DESIGN §3): orders and their items, per marketplace,
//! by the cheapest path.
//!
//! Kept whole (about 1,250 lines): the flat-file path and the
//! `searchOrders` path write the same rows through one mapping (the table
//! below), which stays honest only when both sides are read together.
//!
//! - **History** (first run, or a cursor older than `[sync]
//!   orders_backfill_gap`): `GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`
//!   in 30-day chunks of last-update time, back `orders_history_days`.
//!   All chunks are put in Amazon's queue first ([`report::prepare`]),
//!   then read in order. A chunk that fails (FATAL, still pending) does not
//!   stop the later ones: each completed chunk writes its rows and the
//!   cursor in one transaction, and the cursor's `through` only moves over
//!   the contiguous completed prefix (`done` lists chunks completed beyond
//!   it, so they are not requested again).
//! - **Incremental**: Orders v2026-01-01 `searchOrders` on
//!   `lastUpdatedAfter = through − orders_overlap`, `lastUpdatedBefore =
//!   now − 2 min`, `includedData=FULFILLMENT,PROCEEDS`, paging with
//!   `paginationToken`. Each page's rows and the cursor (with the page
//!   token, valid 24 h, so a failed run resumes mid-window) go in one
//!   transaction; the last page moves `through` to `lastUpdatedBefore`.
//!
//! Cursor JSON per (job, account, marketplace):
//! `{"start": plan origin, "through": all orders last updated before this
//! are stored, "done": [[start, end], ...], "page": {token, after, before, at}}`.
//!
//! # One row, whichever path (the mapping)
//! | column | flat file | searchOrders |
//! |---|---|---|
//! | status | `order-status` by the table in docs/schema.md | `fulfillment.fulfillmentStatus`, same table |
//! | purchase_day | `purchase-date` in the marketplace's zone | `createdTime`, same |
//! | fulfillment_channel | `Amazon` → FBA, `Merchant` → FBM | `fulfilledBy` AMAZON/MERCHANT |
//! | sales_channel | `sales-channel` | `salesChannel.marketplaceName` (`Non-Amazon` for NON_AMAZON) |
//! | ship_service_level | `ship-service-level` as UPPER_SNAKE (`SecondDay` → `SECOND_DAY`) | `fulfillmentServiceLevel` |
//! | is_business_order | `is-business-order` | `programs` has AMAZON_BUSINESS |
//! | order_total | Σ lines (item + shipping + gift wrap + their taxes − discounts) | `proceeds.grandTotal` |
//! | item amounts | `item-price`, `item-tax`, `shipping-price`, discounts as sizes | `proceeds.breakdowns` ITEM, TAX (detail ITEM), SHIPPING, DISCOUNT (detail ITEM / SHIPPING) |
//! | item_status | `item-status` | derived: `Cancelled`, `Shipped` (all fulfilled), `Pending` (order pending), else `Unshipped` |
//!
//! A cancelled line is stored as the flat file shows it: quantity 0 and no
//! amounts; a cancelled order has no total. `raw_status` keeps Amazon's
//! word. `quantity_shipped` is `quantityFulfilled` from searchOrders and,
//! from the flat file, the line's quantity when its `item-status` is
//! shipped (0 when unshipped, pending or cancelled).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::api_util::elements;
use super::flatfile::{self, columns, Column, Issue, Record, Streamed};
use super::report::{self, Document, Prepared, Report, ReportRequest, Step, StreamError};
use super::report_util as ru;
use super::{Ctx, JobError, JobName, JobReport};
use crate::amazon::client::CallSpec;
use crate::amazon::http::ApiError;
use crate::model::marketplace::Marketplace;
use crate::store::jobs;
use crate::store::ops::ts;
use crate::store::orders::{self as store, ItemRow, OrderRow};

/// The orders report (PII-free variant).
pub const REPORT_TYPE: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL";
/// Longest range of one report request.
pub const CHUNK: Duration = Duration::days(30);
/// Amazon wants `lastUpdatedBefore` a little in the past.
const BEFORE_LAG: Duration = Duration::minutes(2);
/// A stored page token older than this is not reused (Amazon: 24 h).
const TOKEN_LIFE: Duration = Duration::hours(23);
const JOB: &str = "orders";

/// A normalised order with its lines (sorted by SKU, one per SKU).
pub type OrderRecord = (OrderRow, Vec<ItemRow>);

// ---------------------------------------------------------------------------
// Mapping

/// Amazon's status word (any of the three vocabularies) → the schema's.
pub fn map_status(raw: &str) -> &'static str {
    let k: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match k.as_str() {
        "pending" | "pendingwaitingforpickup" => "pending",
        "pendingavailability" => "pending_availability",
        "unshipped" => "unshipped",
        "partiallyshipped" | "shipping" => "partially_shipped",
        "canceled" | "cancelled" => "canceled",
        "unfulfillable" => "unfulfillable",
        "invoiceunconfirmed" => "invoice_unconfirmed",
        k if k.starts_with("shipped") => "shipped",
        _ => "unknown",
    }
}

fn map_channel(raw: &str) -> Option<&'static str> {
    match raw.to_ascii_uppercase().as_str() {
        "AMAZON" | "AFN" => Some("FBA"),
        "MERCHANT" | "MFN" => Some("FBM"),
        _ => None,
    }
}

/// `SecondDay`, `Second Day`, `SECOND_DAY` → `SECOND_DAY`.
pub fn service_level(raw: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_uppercase());
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_end_matches('_').to_string()
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            // Older files: `2017-06-17T08:04:21+0000` or with a space.
            DateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%z")
                .or_else(|_| DateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%z"))
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .map(|t| t - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos())))
        // chrono reads `-026-01-31…` as the year -26; the table holds
        // four-digit years (found by fuzzing, fuzz/regressions/orders/).
        .filter(|t| ru::is_plausible(&t.date_naive()))
}

fn day(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

fn add(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0.0) + y.unwrap_or(0.0)),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Adds a line to an order's lines, summing a SKU's repeated lines.
fn push_item(items: &mut BTreeMap<String, ItemRow>, it: ItemRow) {
    match items.get_mut(&it.sku) {
        None => {
            items.insert(it.sku.clone(), it);
        }
        Some(have) => {
            // Saturating: absurd quantities must not overflow (fuzzing).
            have.quantity = have.quantity.saturating_add(it.quantity);
            have.quantity_shipped = match (have.quantity_shipped, it.quantity_shipped) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                _ => None,
            };
            have.item_price = add(have.item_price, it.item_price);
            have.item_tax = add(have.item_tax, it.item_tax);
            have.shipping_price = add(have.shipping_price, it.shipping_price);
            have.promotion_discount = add(have.promotion_discount, it.promotion_discount);
            have.ship_promotion_discount =
                add(have.ship_promotion_discount, it.ship_promotion_discount);
            if have.item_status.as_deref() == Some("Cancelled") {
                have.item_status = it.item_status;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The flat file (pure)

/// The columns read, with the names other header generations use.
pub static REPORT_COLUMNS: &[Column] = &columns![
    "amazon-order-id" | "order-id",
    "merchant-order-id",
    "purchase-date" | "order-date",
    "last-updated-date" | "last-updated-time",
    "order-status" | "status",
    "fulfillment-channel",
    "sales-channel",
    "ship-service-level",
    "product-name" | "title" | "item-name",
    "sku" | "seller-sku" | "merchant-sku",
    "asin",
    "item-status",
    "quantity" | "quantity-purchased",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "is-business-order",
];

struct Line {
    order: OrderRow,
    item: ItemRow,
    /// This line's part of the order total (None when it has no amounts).
    total: Option<f64>,
}

/// Positions in [`REPORT_COLUMNS`] (checked at compile time).
mod at {
    use super::super::flatfile::position;
    use super::REPORT_COLUMNS as C;
    pub const ORDER_ID: usize = position(C, "amazon-order-id");
    pub const MERCHANT_ORDER_ID: usize = position(C, "merchant-order-id");
    pub const PURCHASE_DATE: usize = position(C, "purchase-date");
    pub const LAST_UPDATED: usize = position(C, "last-updated-date");
    pub const ORDER_STATUS: usize = position(C, "order-status");
    pub const CHANNEL: usize = position(C, "fulfillment-channel");
    pub const SALES_CHANNEL: usize = position(C, "sales-channel");
    pub const SERVICE_LEVEL: usize = position(C, "ship-service-level");
    pub const PRODUCT_NAME: usize = position(C, "product-name");
    pub const SKU: usize = position(C, "sku");
    pub const ASIN: usize = position(C, "asin");
    pub const ITEM_STATUS: usize = position(C, "item-status");
    pub const QUANTITY: usize = position(C, "quantity");
    pub const CURRENCY: usize = position(C, "currency");
    pub const ITEM_PRICE: usize = position(C, "item-price");
    pub const ITEM_TAX: usize = position(C, "item-tax");
    pub const SHIPPING_PRICE: usize = position(C, "shipping-price");
    pub const SHIPPING_TAX: usize = position(C, "shipping-tax");
    pub const GIFT_WRAP_PRICE: usize = position(C, "gift-wrap-price");
    pub const GIFT_WRAP_TAX: usize = position(C, "gift-wrap-tax");
    pub const PROMOTION: usize = position(C, "item-promotion-discount");
    pub const SHIP_PROMOTION: usize = position(C, "ship-promotion-discount");
    pub const BUSINESS: usize = position(C, "is-business-order");
}

fn report_line(rec: &Record<'_>, marketplace: &str, tz: Tz) -> Result<Line, Issue> {
    let time = |col: usize| -> Result<DateTime<Utc>, Issue> {
        let v = rec.req_at(col)?;
        parse_time(v).ok_or_else(|| rec.issue(rec.name(col), &format!("not a date-time: {v:?}")))
    };
    let order_id = rec.req_at(at::ORDER_ID)?.to_string();
    let purchase = time(at::PURCHASE_DATE)?;
    let updated = time(at::LAST_UPDATED)?;
    let raw_status = rec.req_at(at::ORDER_STATUS)?.to_string();
    let sku = rec.req_at(at::SKU)?.to_string();
    let item_status = rec.at(at::ITEM_STATUS).map(str::to_string);
    let cancelled = item_status
        .as_deref()
        .is_some_and(|s| map_status(s) == "canceled");
    let quantity = match rec.at(at::QUANTITY) {
        None => 0,
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| rec.issue("quantity", &format!("not a whole number: {s:?}")))?,
    };
    if quantity < 0 {
        return Err(rec.issue("quantity", "negative"));
    }
    let money = |col: usize| -> Result<Option<f64>, Issue> {
        if cancelled {
            return Ok(None);
        }
        rec.num_at(col)
    };
    let item_price = money(at::ITEM_PRICE)?;
    let item_tax = money(at::ITEM_TAX)?;
    let shipping_price = money(at::SHIPPING_PRICE)?;
    let shipping_tax = money(at::SHIPPING_TAX)?;
    let gift = add(money(at::GIFT_WRAP_PRICE)?, money(at::GIFT_WRAP_TAX)?);
    let promo = money(at::PROMOTION)?.map(f64::abs);
    let ship_promo = money(at::SHIP_PROMOTION)?.map(f64::abs);
    let total = if item_price.is_none() {
        None
    } else {
        Some(
            item_price.unwrap_or(0.0)
                + item_tax.unwrap_or(0.0)
                + shipping_price.unwrap_or(0.0)
                + shipping_tax.unwrap_or(0.0)
                + gift.unwrap_or(0.0)
                - promo.unwrap_or(0.0)
                - ship_promo.unwrap_or(0.0),
        )
    };
    let currency = rec.at(at::CURRENCY).map(str::to_string);
    Ok(Line {
        order: OrderRow {
            order_id,
            marketplace_id: marketplace.to_string(),
            merchant_order_id: rec.at(at::MERCHANT_ORDER_ID).map(str::to_string),
            purchase_date: purchase,
            purchase_day: day(purchase, tz),
            last_updated_date: updated,
            status: map_status(&raw_status),
            raw_status,
            fulfillment_channel: rec.at(at::CHANNEL).and_then(map_channel),
            sales_channel: rec.at(at::SALES_CHANNEL).map(str::to_string),
            ship_service_level: rec.at(at::SERVICE_LEVEL).map(service_level),
            is_business_order: rec.at(at::BUSINESS).map(|v| v.eq_ignore_ascii_case("true")),
            currency: currency.clone(),
            order_total: None,
            source: "report",
        },
        item: ItemRow {
            sku,
            asin: rec.at(at::ASIN).map(str::to_string),
            title: rec.at(at::PRODUCT_NAME).map(str::to_string),
            quantity: if cancelled { 0 } else { quantity },
            // The line's own status says how much of it left: all or none.
            quantity_shipped: match item_status.as_deref().map(map_status) {
                Some("shipped") => Some(quantity),
                Some("canceled" | "pending" | "pending_availability" | "unshipped") => Some(0),
                _ => None,
            },
            currency,
            item_price,
            item_tax,
            shipping_price,
            promotion_discount: promo,
            ship_promotion_discount: ship_promo,
            item_status,
        },
        total,
    })
}

/// An order being gathered from its lines: the order, its lines by SKU.
type Gathered = (OrderRow, BTreeMap<String, ItemRow>);

/// Adds one line to its order (started by the line when `entry` is empty).
fn gather(entry: &mut Option<Gathered>, line: Line) {
    let (order, items) = entry.get_or_insert_with(|| (line.order.clone(), BTreeMap::new()));
    // Lines of one order agree on the order's fields; keep the newest.
    if line.order.last_updated_date > order.last_updated_date {
        let total = order.order_total;
        *order = line.order;
        order.order_total = total;
    }
    order.order_total = add(order.order_total, line.total);
    push_item(items, line.item);
}

/// A gathered order as stored: its total rounded, its lines by SKU.
fn finished((mut o, items): Gathered) -> OrderRecord {
    o.order_total = o.order_total.map(round2);
    (o, items.into_values().collect())
}

/// How to read the orders flat file of marketplace id `marketplace` (its
/// number form; the charset alone for an id flywheel does not know).
fn text_of(encoding: &'static encoding_rs::Encoding, marketplace: &str) -> flatfile::Text {
    match crate::model::marketplace::lookup(marketplace) {
        Some(m) => super::report_util::text_of(encoding, m),
        None => encoding.into(),
    }
}

/// Parses an orders flat file into orders (lines of one order gathered,
/// wherever they are in the file). Returns the reader's account of
/// skipped rows and missing columns, if any.
pub fn parse_report(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    marketplace: &str,
    tz: Tz,
) -> (Vec<OrderRecord>, Option<String>) {
    let mut orders: BTreeMap<String, Option<Gathered>> = BTreeMap::new();
    let read = flatfile::stream_flat(
        bytes,
        text_of(encoding, marketplace),
        REPORT_COLUMNS,
        |rec| {
            Ok(report_line(rec, marketplace, tz).map(|line| {
                let entry = orders.entry(line.order.order_id.clone()).or_default();
                gather(entry, line);
            }))
        },
        |e| e,
    );
    match read {
        Err(e) => (Vec::new(), Some(e)),
        Ok(read) => (
            orders.into_values().flatten().map(finished).collect(),
            read.summary,
        ),
    }
}

/// What [`store_report`] did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredOrders {
    /// Orders read (each written once, or more when its lines are apart).
    pub orders: u64,
    /// Order and item rows inserted or changed.
    pub written: u64,
    /// The reader's account of the lines: taken, skipped, missing columns.
    pub read: Streamed,
    pub summary: Option<String>,
}

/// Two independent 64-bit hashes of an order id: what [`store_report`]
/// remembers of each order it stored (16 bytes, not the id and its rows).
fn id_hash(id: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut a = std::hash::DefaultHasher::new();
    id.hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    (0x5eed_u16, id).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// Parses an orders flat file from `input` and stores it as it is read, in
/// the caller's transaction: the history path of the job. Gives the same
/// rows as [`parse_report`] + `store::upsert_order`, holding one order at a
/// time instead of the whole report. Amazon writes an order's lines one
/// after another, so an order is stored when a line of another order
/// comes; should its lines be apart, a later line is added to what was
/// stored for it (the 128-bit hashes of the ids stored say which ids were
/// already seen in this file; a stored order from an earlier file is
/// replaced whole, as always).
pub fn store_report(
    conn: &rusqlite::Connection,
    account: &str,
    input: impl std::io::BufRead,
    encoding: &'static encoding_rs::Encoding,
    marketplace: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<StoredOrders, StreamError> {
    let _cache = crate::store::BulkCache::new(conn)?;
    let mut w = store::OrderWriter::new(conn, account, now)?;
    let mut seen: std::collections::HashSet<u128> = std::collections::HashSet::new();
    let mut cur: Option<Gathered> = None;
    let (mut orders, mut written) = (0u64, 0u64);
    // Stores a gathered order and remembers its id.
    fn flush(
        g: Gathered,
        w: &mut store::OrderWriter<'_>,
        seen: &mut std::collections::HashSet<u128>,
    ) -> Result<u64, crate::store::StoreError> {
        seen.insert(id_hash(&g.0.order_id));
        let (o, items) = finished(g);
        w.write(&o, &items)
    }
    let read = flatfile::stream_flat(
        input,
        text_of(encoding, marketplace),
        REPORT_COLUMNS,
        |rec| {
            let line = match report_line(rec, marketplace, tz) {
                Ok(l) => l,
                Err(issue) => return Ok(Err(issue)),
            };
            if cur
                .as_ref()
                .is_some_and(|(o, _)| o.order_id != line.order.order_id)
            {
                if let Some(g) = cur.take() {
                    written += flush(g, &mut w, &mut seen)?;
                    orders += 1;
                }
            }
            if cur.is_none() && seen.contains(&id_hash(&line.order.order_id)) {
                // An order met again: gather onto what this file stored.
                cur = w.load(&line.order.order_id)?.map(|(o, items)| {
                    let items = items.into_iter().map(|i| (i.sku.clone(), i)).collect();
                    (o, items)
                });
                orders = orders.saturating_sub(1);
            }
            gather(&mut cur, line);
            Ok(Ok(()))
        },
        StreamError::Unreadable,
    )?;
    if let Some(g) = cur.take() {
        written += flush(g, &mut w, &mut seen)?;
        orders += 1;
    }
    Ok(StoredOrders {
        orders,
        written,
        summary: read.summary.clone(),
        read,
    })
}

// ---------------------------------------------------------------------------
// searchOrders (pure)

fn money(v: &Value) -> Option<(f64, String)> {
    let amount = match v.get("amount")? {
        Value::String(s) => s.parse::<f64>().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some((amount, v.get("currencyCode")?.as_str()?.to_string()))
}

fn breakdown<'v>(list: Option<&'v Value>, kind: &str) -> Option<&'v Value> {
    list?
        .as_array()?
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some(kind))
}

fn detail(b: Option<&Value>, subtype: &str) -> Option<f64> {
    b?.get("detailedBreakdowns")?
        .as_array()?
        .iter()
        .find(|d| d.get("subtype").and_then(Value::as_str) == Some(subtype))
        .and_then(|d| money(d.get("value")?))
        .map(|m| m.0)
}

/// One `searchOrders` order → a row and its lines.
pub fn api_order(o: &Value, tz: Tz) -> Result<OrderRecord, String> {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let order_id = s(o.get("orderId")).ok_or("an order without orderId")?;
    let time = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .and_then(parse_time)
            .ok_or_else(|| format!("order {order_id}: bad {k}"))
    };
    let purchase = time("createdTime")?;
    let updated = time("lastUpdatedTime")?;
    let channel = o.get("salesChannel");
    let marketplace_id = s(channel.and_then(|c| c.get("marketplaceId")))
        .ok_or_else(|| format!("order {order_id}: no salesChannel.marketplaceId"))?;
    let sales_channel = match channel
        .and_then(|c| c.get("channelName"))
        .and_then(Value::as_str)
    {
        Some("NON_AMAZON") => Some("Non-Amazon".to_string()),
        _ => s(channel.and_then(|c| c.get("marketplaceName"))),
    };
    let f = o.get("fulfillment");
    let raw_status = s(f.and_then(|f| f.get("fulfillmentStatus"))).unwrap_or_default();
    let status = map_status(&raw_status);
    let canceled = status == "canceled";
    let pending = matches!(status, "pending" | "pending_availability");
    let programs: Vec<&str> = o
        .get("programs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let grand = o
        .get("proceeds")
        .and_then(|p| p.get("grandTotal"))
        .and_then(money);
    let mut items = BTreeMap::new();
    let mut currency = grand.as_ref().map(|g| g.1.clone());
    for it in elements(o.get("orderItems")) {
        let product = it.get("product");
        let sku = s(product.and_then(|p| p.get("sellerSku")))
            .ok_or_else(|| format!("order {order_id}: an item without sellerSku"))?;
        let qty = it
            .get("quantityOrdered")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let unit = product
            .and_then(|p| p.get("price"))
            .and_then(|p| p.get("unitPrice"))
            .and_then(money);
        let item_cur = unit.as_ref().map(|u| u.1.clone()).or(currency.clone());
        if currency.is_none() {
            currency = item_cur.clone();
        }
        let item_canceled = canceled
            || it
                .get("cancellation")
                .and_then(|c| c.get("cancellationExecution"))
                .is_some();
        let fulfilled = it
            .get("fulfillment")
            .and_then(|f| f.get("quantityFulfilled"))
            .and_then(Value::as_i64);
        let item_status = if item_canceled {
            "Cancelled"
        } else if qty > 0 && fulfilled.is_some_and(|q| q >= qty) {
            "Shipped"
        } else if pending {
            "Pending"
        } else {
            "Unshipped"
        };
        let b = it.get("proceeds").and_then(|p| p.get("breakdowns"));
        let sub = |kind: &str| breakdown(b, kind).and_then(|x| money(x.get("subtotal")?));
        let (item_price, item_tax, shipping, promo, ship_promo) = if item_canceled {
            (None, None, None, None, None)
        } else if b.is_some() {
            let tax = breakdown(b, "TAX");
            let disc = breakdown(b, "DISCOUNT");
            let item_tax = detail(tax, "ITEM")
                .or_else(|| sub("TAX").map(|m| m.0))
                .unwrap_or(0.0);
            let promo = detail(disc, "ITEM")
                .or_else(|| sub("DISCOUNT").map(|m| m.0))
                .unwrap_or(0.0)
                .abs();
            let ship_promo = detail(disc, "SHIPPING").unwrap_or(0.0).abs();
            (
                sub("ITEM").map(|m| m.0),
                Some(item_tax),
                Some(sub("SHIPPING").map(|m| m.0).unwrap_or(0.0)),
                Some(promo),
                Some(ship_promo),
            )
        } else {
            (
                unit.as_ref().map(|u| round2(u.0 * qty as f64)),
                None,
                None,
                None,
                None,
            )
        };
        push_item(
            &mut items,
            ItemRow {
                sku,
                asin: s(product.and_then(|p| p.get("asin"))),
                title: s(product.and_then(|p| p.get("title"))),
                quantity: if item_canceled { 0 } else { qty },
                quantity_shipped: fulfilled.map(|q| if item_canceled { 0 } else { q }),
                currency: item_cur,
                item_price,
                item_tax,
                shipping_price: shipping,
                promotion_discount: promo,
                ship_promotion_discount: ship_promo,
                item_status: Some(item_status.to_string()),
            },
        );
    }
    Ok((
        OrderRow {
            order_id,
            marketplace_id,
            merchant_order_id: None,
            purchase_date: purchase,
            purchase_day: day(purchase, tz),
            last_updated_date: updated,
            status,
            raw_status,
            fulfillment_channel: f
                .and_then(|f| f.get("fulfilledBy"))
                .and_then(Value::as_str)
                .and_then(map_channel),
            sales_channel,
            ship_service_level: s(f.and_then(|f| f.get("fulfillmentServiceLevel")))
                .map(|v| service_level(&v)),
            is_business_order: Some(programs.contains(&"AMAZON_BUSINESS")),
            currency,
            order_total: if canceled {
                None
            } else {
                grand.map(|g| round2(g.0))
            },
            source: "api",
        },
        items.into_values().collect(),
    ))
}

// ---------------------------------------------------------------------------
// The cursor

#[derive(Debug, Clone, Default, PartialEq)]
struct Cursor {
    start: Option<DateTime<Utc>>,
    through: Option<DateTime<Utc>>,
    done: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    page: Option<Page>,
}

#[derive(Debug, Clone, PartialEq)]
struct Page {
    token: String,
    after: DateTime<Utc>,
    before: DateTime<Utc>,
    at: DateTime<Utc>,
}

fn jt(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str).and_then(parse_time)
}

impl Cursor {
    fn from_json(v: Option<&Value>) -> Cursor {
        let Some(v) = v else {
            return Cursor::default();
        };
        Cursor {
            start: jt(v.get("start")),
            through: jt(v.get("through")),
            done: v
                .get("done")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| Some((jt(p.get(0))?, jt(p.get(1))?)))
                        .collect()
                })
                .unwrap_or_default(),
            page: v.get("page").and_then(|p| {
                Some(Page {
                    token: p.get("token")?.as_str()?.to_string(),
                    after: jt(p.get("after"))?,
                    before: jt(p.get("before"))?,
                    at: jt(p.get("at"))?,
                })
            }),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "start": self.start.map(ts),
            "through": self.through.map(ts),
            "done": self.done.iter().map(|(a, b)| json!([ts(*a), ts(*b)])).collect::<Vec<_>>(),
            "page": self.page.as_ref().map(|p| json!({
                "token": p.token, "after": ts(p.after), "before": ts(p.before), "at": ts(p.at)
            })),
        })
    }

    /// A chunk completed: record it and move `through` over the
    /// contiguous prefix.
    fn complete(&mut self, a: DateTime<Utc>, b: DateTime<Utc>) {
        self.done.push((a, b));
        let mut at = self.through.or(self.start).unwrap_or(a);
        while let Some(i) = self.done.iter().position(|(s, _)| *s == at) {
            at = self.done.swap_remove(i).1;
            self.through = Some(at);
        }
        self.done.retain(|(_, e)| Some(*e) > self.through);
        self.done.sort();
    }
}

// ---------------------------------------------------------------------------
// The job

/// Runs the orders job for every marketplace of the account.
pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let mut rows = 0;
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    for m in ctx.account.marketplaces() {
        match run_marketplace(ctx, m, &mut rows, &mut notes).await {
            Ok(()) => {}
            Err(JobError::Unavailable(e)) => return Err(JobError::Unavailable(e)),
            Err(e) => problems.push(format!("{}: {e}", m.country)),
        }
    }
    if !problems.is_empty() {
        let mut msg = problems.join("; ");
        if rows > 0 {
            msg.push_str(&format!(" ({rows} rows saved before that)"));
        }
        return Err(JobError::Data(msg));
    }
    Ok(JobReport {
        rows,
        note: if notes.is_empty() {
            "up to date".to_string()
        } else {
            notes.join("; ")
        },
    })
}

fn tz_of(m: &Marketplace) -> Tz {
    m.tz
}

async fn run_marketplace(
    ctx: &Ctx<'_>,
    m: &'static Marketplace,
    rows: &mut u64,
    notes: &mut Vec<String>,
) -> Result<(), JobError> {
    let account = ctx.account.name.as_str();
    let cursor = Cursor::from_json(
        ctx.with_db(|c| jobs::cursor(c, JOB, account, m.id))?
            .as_ref(),
    );
    let gap = Duration::from_std(ctx.cfg.sync.orders_backfill_gap).unwrap_or(Duration::days(3));
    let needs_history = match cursor.through {
        None => true,
        Some(t) => ctx.now - t > gap,
    };
    if needs_history {
        backfill(ctx, m, cursor, rows, notes).await
    } else {
        // History reports left over (a last chunk that ended FATAL and
        // waits out its backoff while searchOrders already covers its
        // range) would sit in pending_reports forever.
        report::retain(ctx, JobName::Orders, REPORT_TYPE, m.id, &[])?;
        incremental(ctx, m, cursor, rows, notes).await
    }
}

/// Writes one batch of orders and the cursor in one transaction.
fn save(
    ctx: &Ctx<'_>,
    m: &Marketplace,
    orders: &[OrderRecord],
    cursor: &Cursor,
) -> Result<u64, JobError> {
    let account = ctx.account.name.as_str();
    let now = ctx.now;
    Ok(ctx.with_db(|c| {
        let tx = c.transaction()?;
        let mut n = 0;
        for (o, items) in orders {
            n += store::upsert_order(&tx, account, o, items, now)?;
        }
        jobs::set_cursor(&tx, JOB, account, m.id, &cursor.to_json(), now)?;
        tx.commit()?;
        Ok(n)
    })?)
}

/// The history path (see the module doc).
async fn backfill(
    ctx: &Ctx<'_>,
    m: &'static Marketplace,
    mut cursor: Cursor,
    rows: &mut u64,
    notes: &mut Vec<String>,
) -> Result<(), JobError> {
    let account = ctx.account.name.as_str();
    let end = ctx.now;
    // Reports of an interrupted run fix the plan: adopt their ranges.
    let pending: Vec<ReportRequest> = ctx
        .with_db(|c| crate::store::reports::list(c, account, JOB, REPORT_TYPE))?
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(&p.params_json).ok())
        .filter_map(|v| ReportRequest::from_canonical(&v))
        .filter(|r| r.marketplace_ids == [m.id.to_string()])
        .collect();
    let adopted: BTreeMap<DateTime<Utc>, DateTime<Utc>> = pending
        .iter()
        .filter_map(|r| Some((r.data_start?, r.data_end?)))
        .filter(|(_, e)| *e <= end)
        .collect();
    if cursor.through.is_none() && cursor.start.is_none() {
        let history = Duration::days(i64::from(ctx.cfg.sync.orders_history_days));
        cursor.start = Some(
            adopted
                .keys()
                .next()
                .copied()
                .unwrap_or(end - history)
                .min(end),
        );
    }
    let mut chunks = Vec::new();
    let mut a = cursor.through.or(cursor.start).unwrap_or(end);
    while a < end {
        let b = cursor
            .done
            .iter()
            .find(|(s, _)| *s == a)
            .map(|(_, e)| *e)
            .or_else(|| adopted.get(&a).copied())
            .unwrap_or_else(|| (a + CHUNK).min(end));
        let b = if b <= a { (a + CHUNK).min(end) } else { b };
        if !cursor.done.iter().any(|(s, _)| *s == a) {
            chunks.push((a, b));
        }
        a = b;
    }
    let requests: Vec<ReportRequest> = chunks
        .iter()
        .map(|(a, b)| ReportRequest::new(REPORT_TYPE, [m.id]).range(*a, *b))
        .collect();
    // Two halves side by side, so the history goes as fast as Amazon's
    // buckets allow: the creator puts the chunks in Amazon's queue as fast
    // as the createReport bucket (burst 15, then one a minute) gives
    // tokens; the reader takes each chunk once it is queued, waits for it,
    // downloads and stores it. Queuing every chunk before reading any (the
    // plan before) left the getReportDocument bucket (same burst and rate)
    // idle while creations waited, so two years took about twice the
    // minimum. The reader goes in order and reads chunk k only after the
    // creator has dealt with it, so no report is requested twice; when the
    // creator stops (budget spent), `fetch` says so for the rest.
    let (queued_tx, mut queued) = tokio::sync::watch::channel((0usize, false));
    let queue = &requests;
    let creator = async move {
        let mut stop = Ok(());
        for (k, req) in queue.iter().enumerate() {
            match report::prepare(ctx, JobName::Orders, req).await {
                Ok(Prepared::Ready(_) | Prepared::Backoff { .. }) => {
                    let _ = queued_tx.send((k + 1, false));
                }
                Ok(Prepared::Deferred { .. }) => break,
                Err(e) => {
                    stop = Err(e);
                    break;
                }
            }
        }
        let n = queued_tx.borrow().0;
        let _ = queued_tx.send((n, true));
        stop
    };
    let tz = tz_of(m);
    let mut problems = Vec::new();
    let mut waiting = 0;
    let reader = async {
        for (k, req) in requests.iter().enumerate() {
            // Until the creator has queued this chunk, or stopped.
            if queued.wait_for(|(n, done)| *n > k || *done).await.is_err() {
                break;
            }
            let (a, b) = (req.data_start.unwrap_or(end), req.data_end.unwrap_or(end));
            crate::sync::stage(|| {
                format!(
                    "history chunk {} of {} ({}…{})",
                    k + 1,
                    requests.len(),
                    a.date_naive(),
                    b.date_naive()
                )
            });
            let mut next = cursor.clone();
            next.complete(a, b);
            // Parsed and stored as it is read: one order in memory at a time;
            // the orders, the cursor and the report row in one transaction.
            let step = report::step(
                ctx,
                &Report::new(JobName::Orders, req, m.id),
                report::in_transaction,
                |tx, json, doc: Option<Document>| {
                    let stored = match doc {
                        None => StoredOrders::default(),
                        Some(d) => d.stream(|input| {
                            store_report(tx, account, input, d.encoding(), m.id, tz, ctx.now)
                        })?,
                    };
                    *json = next.to_json();
                    Ok(stored)
                },
            )
            .await?;
            let (stored, report_id) = match step {
                Step::Stored { stored, report_id } => (stored, report_id),
                Step::Pending { report_id, status } => {
                    waiting += 1;
                    tracing::info!(account, report_id, status, "orders report still pending");
                    continue;
                }
                Step::Deferred(reason) => {
                    notes.push(reason);
                    break;
                }
                Step::Failed(reason) => {
                    problems.push(reason);
                    continue;
                }
                // Nothing of it is kept and the chunk stays to do.
                Step::Unreadable { report_id, error } => {
                    problems.push(format!("report {report_id}: {error}"));
                    continue;
                }
            };
            cursor = next;
            if let Some(i) = &stored.summary {
                tracing::warn!(account, report_id, "{i}");
                notes.push(format!("report {report_id}: {i}"));
            }
            *rows += stored.written;
        }
        Ok::<(), JobError>(())
    };
    // A failed creation (Amazon's answer cut short, say) stops the
    // creator, not the reader: the chunks already queued are still read
    // and stored before the run reports the failure, so a bad API day
    // costs the one call, not the run's progress. A failed read stops
    // both (the queued reports are kept and adopted next run).
    {
        use futures::future::{select, Either};
        let creator = std::pin::pin!(creator);
        let reader = std::pin::pin!(reader);
        match select(creator, reader).await {
            Either::Left((created, reader)) => {
                reader.await?;
                created?;
            }
            Either::Right((read, creator)) => {
                read?;
                creator.await?;
            }
        }
    }
    if waiting > 0 {
        notes.push(format!(
            "{waiting} orders report(s) still in Amazon's queue; resumed next run"
        ));
    }
    if !problems.is_empty() {
        return Err(JobError::Data(problems.join("; ")));
    }
    Ok(())
}

/// The searchOrders path (see the module doc).
async fn incremental(
    ctx: &Ctx<'_>,
    m: &'static Marketplace,
    mut cursor: Cursor,
    rows: &mut u64,
    _notes: &mut [String],
) -> Result<(), JobError> {
    let Some(through) = cursor.through else {
        return Ok(());
    };
    let ep = report::endpoint(ctx)?;
    let overlap = Duration::from_std(ctx.cfg.sync.orders_overlap).unwrap_or(Duration::zero());
    let (after, before, mut token) = match cursor.page.take() {
        Some(p) if ctx.now - p.at < TOKEN_LIFE => (p.after, p.before, Some(p.token)),
        _ => (through - overlap, ctx.now - BEFORE_LAG, None),
    };
    if before <= after {
        return Ok(());
    }
    let tz = tz_of(m);
    // The client's pager follows the tokens (a resumed one counts as sent):
    // a repeated token or `[sync] max_pages` pages stop the run.
    let mut pager = ctx.client.pager("searchOrders").resuming(token.as_deref());
    loop {
        let mut spec = CallSpec::get("searchOrders", "/orders/2026-01-01/orders")
            .query("lastUpdatedAfter", ts(after))
            .query("lastUpdatedBefore", ts(before))
            .query("marketplaceIds", m.id)
            .query("includedData", "FULFILLMENT,PROCEEDS")
            .query("maxResultsPerPage", "100");
        if let Some(t) = &token {
            spec = spec.query("paginationToken", t.clone());
        }
        let body: Value = ctx.client.call_json(&ep, &spec).await?;
        let mut orders = Vec::new();
        for o in elements(body.get("orders")) {
            match api_order(o, tz) {
                Ok(r) if r.0.marketplace_id == m.id => orders.push(r),
                Ok(_) => {}
                Err(e) => tracing::warn!(account = %ctx.account.name, "skipping an order: {e}"),
            }
        }
        let next = body
            .get("pagination")
            .and_then(|p| p.get("nextToken"))
            .and_then(Value::as_str)
            .map(str::to_string);
        token = match pager.next(next.clone()) {
            Ok(t) => t,
            Err(e) => {
                // This page's orders are kept. Past the page cap the next
                // run goes on from the token; a repeated one is not saved
                // (the next run starts the window over).
                cursor.page = match (&e, next) {
                    (ApiError::TooManyPages { .. }, Some(t)) => Some(Page {
                        token: t,
                        after,
                        before,
                        at: ctx.now,
                    }),
                    _ => None,
                };
                *rows += save(ctx, m, &orders, &cursor)?;
                return Err(e.into());
            }
        };
        match &token {
            Some(t) => {
                cursor.page = Some(Page {
                    token: t.clone(),
                    after,
                    before,
                    at: ctx.now,
                })
            }
            None => {
                cursor.page = None;
                cursor.through = Some(before);
                cursor.start = None;
                cursor.done.clear();
            }
        }
        *rows += save(ctx, m, &orders, &cursor)?;
        if token.is_none() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let cases = [
            ("Pending", "pending"),
            ("Pending - Waiting for Pick Up", "pending"),
            ("PENDING_AVAILABILITY", "pending_availability"),
            ("PendingAvailability", "pending_availability"),
            ("Unshipped", "unshipped"),
            ("UNSHIPPED", "unshipped"),
            ("Shipping", "partially_shipped"),
            ("PARTIALLY_SHIPPED", "partially_shipped"),
            ("Shipped", "shipped"),
            ("Shipped - Delivered to Buyer", "shipped"),
            ("SHIPPED", "shipped"),
            ("Cancelled", "canceled"),
            ("CANCELLED", "canceled"),
            ("Canceled", "canceled"),
            ("UNFULFILLABLE", "unfulfillable"),
            ("InvoiceUnconfirmed", "invoice_unconfirmed"),
            ("Something new", "unknown"),
        ];
        for (raw, want) in cases {
            assert_eq!(map_status(raw), want, "{raw}");
        }
    }

    #[test]
    fn service_levels() {
        for (raw, want) in [
            ("Standard", "STANDARD"),
            ("SecondDay", "SECOND_DAY"),
            ("SECOND_DAY", "SECOND_DAY"),
            ("Next Day", "NEXT_DAY"),
            ("Expedited", "EXPEDITED"),
        ] {
            assert_eq!(service_level(raw), want);
        }
    }

    const HEADER: &str = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\torder-channel\turl\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\tpurchase-order-number\tprice-designation\n";

    #[test]
    fn report_lines_of_one_sku_add_up_and_days_are_local() {
        let text = format!(
            "{HEADER}111-1\t\t2026-03-01T07:30:00+00:00\t2026-03-01T09:00:00+00:00\tShipped\tAmazon\tAmazon.com\t\t\tStandard\tMug \u{e9}\tSKU1\tB01\tShipped\t1\tUSD\t10.00\t0.80\t0.00\t0.00\t0.00\t0.00\t-1.00\t0.00\t\t\t\t\t\tfalse\t\t\n\
             111-1\t\t2026-03-01T07:30:00+00:00\t2026-03-01T09:00:00+00:00\tShipped\tAmazon\tAmazon.com\t\t\tStandard\tMug \u{e9}\tSKU1\tB01\tShipped\t2\tUSD\t20.00\t1.60\t0.00\t0.00\t0.00\t0.00\t0.00\t0.00\t\t\t\t\t\tfalse\t\t\n\
             222-2\t\t2026-03-01T08:30:00+00:00\t2026-03-01T08:40:00+00:00\tCancelled\tMerchant\tAmazon.com\t\t\tExpedited\tCup\tSKU2\tB02\tCancelled\t0\tUSD\t\t\t\t\t\t\t\t\t\t\t\t\t\ttrue\t\t\n"
        );
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        let (orders, issues) = parse_report(&bytes, encoding_rs::WINDOWS_1252, "ATVPDKIKX0DER", tz);
        assert_eq!(issues, None);
        assert_eq!(orders.len(), 2);
        let (o, items) = &orders[0];
        assert_eq!(o.purchase_day, "2026-02-28"); // 07:30 UTC is still the 28th in LA
        assert_eq!(o.status, "shipped");
        assert_eq!(o.order_total, Some(31.4));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].quantity, 3);
        assert_eq!(items[0].item_price, Some(30.0));
        assert_eq!(items[0].promotion_discount, Some(1.0));
        assert_eq!(items[0].title.as_deref(), Some("Mug é"));
        let (c, citems) = &orders[1];
        assert_eq!((c.status, c.order_total), ("canceled", None));
        assert_eq!(c.fulfillment_channel, Some("FBM"));
        assert_eq!((citems[0].quantity, citems[0].item_price), (0, None));
    }

    #[test]
    fn a_bad_row_is_skipped_with_its_line_and_column() {
        let text = format!(
            "{HEADER}111-1\t\tyesterday\t2026-03-01T09:00:00+00:00\tShipped\tAmazon\tAmazon.com\t\t\tStandard\tMug\tSKU1\tB01\tShipped\t1\tUSD\t10.00\t0.80\t0.00\t0.00\t0.00\t0.00\t0.00\t0.00\t\t\t\t\t\tfalse\t\t\n"
        );
        let tz: Tz = "UTC".parse().unwrap();
        let (orders, issues) = parse_report(
            text.as_bytes(),
            encoding_rs::WINDOWS_1252,
            "ATVPDKIKX0DER",
            tz,
        );
        assert!(orders.is_empty());
        assert!(issues.unwrap().contains("line 2, column purchase-date"));
    }

    #[test]
    fn api_order_maps_like_the_report() {
        let o = json!({
            "orderId": "111-1", "createdTime": "2026-03-01T07:30:00Z",
            "lastUpdatedTime": "2026-03-01T09:00:00Z",
            "programs": ["PRIME"],
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER", "marketplaceName": "Amazon.com"},
            "proceeds": {"grandTotal": {"amount": "31.40", "currencyCode": "USD"}},
            "fulfillment": {"fulfillmentStatus": "SHIPPED", "fulfilledBy": "AMAZON", "fulfillmentServiceLevel": "STANDARD"},
            "orderItems": [{
                "orderItemId": "1", "quantityOrdered": 3,
                "product": {"asin": "B01", "title": "Mug é", "sellerSku": "SKU1",
                            "price": {"unitPrice": {"amount": "10.00", "currencyCode": "USD"}}},
                "proceeds": {"proceedsTotal": {"amount": "31.40", "currencyCode": "USD"}, "breakdowns": [
                    {"type": "ITEM", "subtotal": {"amount": "30.00", "currencyCode": "USD"}},
                    {"type": "TAX", "subtotal": {"amount": "2.40", "currencyCode": "USD"},
                     "detailedBreakdowns": [{"subtype": "ITEM", "value": {"amount": "2.40", "currencyCode": "USD"}}]},
                    {"type": "DISCOUNT", "subtotal": {"amount": "-1.00", "currencyCode": "USD"},
                     "detailedBreakdowns": [{"subtype": "ITEM", "value": {"amount": "-1.00", "currencyCode": "USD"}}]}
                ]},
                "fulfillment": {"quantityFulfilled": 3, "quantityUnfulfilled": 0}
            }]
        });
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        let (row, items) = api_order(&o, tz).unwrap();
        assert_eq!(row.purchase_day, "2026-02-28");
        assert_eq!(row.status, "shipped");
        assert_eq!(row.order_total, Some(31.4));
        assert_eq!(row.is_business_order, Some(false));
        assert_eq!(items[0].item_status.as_deref(), Some("Shipped"));
        assert_eq!(items[0].promotion_discount, Some(1.0));
        assert_eq!(items[0].shipping_price, Some(0.0));
        assert_eq!(items[0].quantity_shipped, Some(3));
    }

    #[test]
    fn cursor_moves_over_the_contiguous_prefix_only() {
        // Days from 2024-10-04: cursor times read back as report times do,
        // so they lie in years a report can hold.
        let t = |d: i64| DateTime::<Utc>::from_timestamp((20_000 + d) * 86_400, 0).unwrap();
        let mut c = Cursor {
            start: Some(t(0)),
            ..Cursor::default()
        };
        c.complete(t(30), t(60));
        assert_eq!(c.through, None);
        c.complete(t(0), t(30));
        assert_eq!(c.through, Some(t(60)));
        assert!(c.done.is_empty());
        let back = Cursor::from_json(Some(&c.to_json()));
        assert_eq!(back, c);
    }
}
