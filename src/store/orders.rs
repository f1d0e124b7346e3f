//! `orders` and `order_items`: the orders job's rows (both sources, the
//! flat-file report and `searchOrders`, write the same [`OrderRow`]).
//!
//! An upsert is a no-op unless it brings something new, so a re-run
//! changes nothing (not even `fetched_at`):
//! - a newer `last_updated_date` always wins; an older one never does;
//! - at the same `last_updated_date` the row is rewritten only when a
//!   normalised value differs. `raw_status`, `source` and `fetched_at`
//!   say where the row came from and do not count as differences, and a
//!   value one source lacks (`merchant_order_id`, `quantity_shipped` from
//!   the flat file) keeps the stored one.
//!
//! The item set of an order is replaced whole when it differs.

use chrono::{DateTime, Utc};
use rusqlite::{params, CachedStatement, Connection, OptionalExtension};
use serde::Deserialize;

use super::ops::ts;
use super::StoreError;

/// One order, normalised (see the orders job for the mapping).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    pub order_id: String,
    pub marketplace_id: String,
    pub merchant_order_id: Option<String>,
    pub purchase_date: DateTime<Utc>,
    /// `YYYY-MM-DD` in the marketplace's time zone.
    pub purchase_day: String,
    pub last_updated_date: DateTime<Utc>,
    pub status: &'static str,
    pub raw_status: String,
    pub fulfillment_channel: Option<&'static str>,
    pub sales_channel: Option<String>,
    pub ship_service_level: Option<String>,
    pub is_business_order: Option<bool>,
    pub currency: Option<String>,
    pub order_total: Option<f64>,
    /// 'report', 'api' or 'import'.
    pub source: &'static str,
}

/// One line (SKU) of an order; amounts are line totals.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ItemRow {
    pub sku: String,
    pub asin: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
    pub quantity_shipped: Option<i64>,
    pub currency: Option<String>,
    pub item_price: Option<f64>,
    pub item_tax: Option<f64>,
    pub shipping_price: Option<f64>,
    pub promotion_discount: Option<f64>,
    pub ship_promotion_discount: Option<f64>,
    pub item_status: Option<String>,
}

fn money_eq(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() < 0.005,
        (None, None) => true,
        _ => false,
    }
}

/// Same normalised content (the difference test of the module doc).
fn same_order(new: &OrderRow, old: &OrderRow) -> bool {
    new.marketplace_id == old.marketplace_id
        && new.purchase_date == old.purchase_date
        && new.purchase_day == old.purchase_day
        && new.status == old.status
        && new.fulfillment_channel == old.fulfillment_channel
        && new.sales_channel == old.sales_channel
        && new.ship_service_level == old.ship_service_level
        && new.is_business_order == old.is_business_order
        && new.currency == old.currency
        && money_eq(new.order_total, old.order_total)
        && (new.merchant_order_id.is_none() || new.merchant_order_id == old.merchant_order_id)
}

fn same_item(new: &ItemRow, old: &ItemRow) -> bool {
    new.sku == old.sku
        && new.asin == old.asin
        && new.title == old.title
        && new.quantity == old.quantity
        && (new.quantity_shipped.is_none() || new.quantity_shipped == old.quantity_shipped)
        && new.currency == old.currency
        && money_eq(new.item_price, old.item_price)
        && money_eq(new.item_tax, old.item_tax)
        && money_eq(new.shipping_price, old.shipping_price)
        && money_eq(new.promotion_discount, old.promotion_discount)
        && money_eq(new.ship_promotion_discount, old.ship_promotion_discount)
        && new.item_status == old.item_status
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The schema's status vocabulary (a `&'static str` for the row type).
pub const STATUSES: &[&str] = &[
    "pending",
    "unshipped",
    "partially_shipped",
    "shipped",
    "canceled",
    "unfulfillable",
    "invoice_unconfirmed",
    "pending_availability",
    "unknown",
];

fn status_static(s: &str) -> &'static str {
    STATUSES
        .iter()
        .copied()
        .find(|x| *x == s)
        .unwrap_or("unknown")
}

const LOAD_ORDER: &str =
    "SELECT marketplace_id, merchant_order_id, purchase_date, purchase_day, last_updated_date,
            status, raw_status, fulfillment_channel, sales_channel, ship_service_level,
            is_business_order, currency, order_total
     FROM orders WHERE account = ?1 AND order_id = ?2";

const UPSERT_ORDER: &str =
    "INSERT INTO orders (account, order_id, marketplace_id, merchant_order_id, purchase_date,
         purchase_day, last_updated_date, status, raw_status, fulfillment_channel,
         sales_channel, ship_service_level, is_business_order, currency, order_total,
         source, fetched_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
     ON CONFLICT (account, order_id) DO UPDATE SET
         marketplace_id = excluded.marketplace_id,
         merchant_order_id = COALESCE(excluded.merchant_order_id, orders.merchant_order_id),
         purchase_date = excluded.purchase_date, purchase_day = excluded.purchase_day,
         last_updated_date = excluded.last_updated_date, status = excluded.status,
         raw_status = excluded.raw_status, fulfillment_channel = excluded.fulfillment_channel,
         sales_channel = excluded.sales_channel,
         ship_service_level = excluded.ship_service_level,
         is_business_order = excluded.is_business_order, currency = excluded.currency,
         order_total = excluded.order_total, source = excluded.source,
         fetched_at = excluded.fetched_at";

const LOAD_ITEMS: &str =
    "SELECT sku, asin, title, quantity, quantity_shipped, currency, item_price, item_tax,
            shipping_price, promotion_discount, ship_promotion_discount, item_status
     FROM order_items WHERE account = ?1 AND order_id = ?2 ORDER BY sku";

const DELETE_ITEMS: &str = "DELETE FROM order_items WHERE account = ?1 AND order_id = ?2";

const INSERT_ITEM: &str =
    "INSERT INTO order_items (account, order_id, sku, asin, title, quantity, quantity_shipped,
         currency, item_price, item_tax, shipping_price, promotion_discount,
         ship_promotion_discount, item_status)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// The statements of an order upsert, prepared once: the orders job
/// streams a history report of a million lines through one writer instead
/// of looking five statements up per order.
pub struct OrderWriter<'c> {
    load_order: CachedStatement<'c>,
    upsert: CachedStatement<'c>,
    load_items: CachedStatement<'c>,
    delete_items: CachedStatement<'c>,
    insert_item: CachedStatement<'c>,
    account: &'c str,
    /// `fetched_at` of every row written.
    now: String,
}

impl<'c> OrderWriter<'c> {
    pub fn new(
        conn: &'c Connection,
        account: &'c str,
        now: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        Ok(OrderWriter {
            load_order: conn.prepare_cached(LOAD_ORDER)?,
            upsert: conn.prepare_cached(UPSERT_ORDER)?,
            load_items: conn.prepare_cached(LOAD_ITEMS)?,
            delete_items: conn.prepare_cached(DELETE_ITEMS)?,
            insert_item: conn.prepare_cached(INSERT_ITEM)?,
            account,
            now: ts(now),
        })
    }

    /// The stored order and its items (sorted by SKU), if any.
    pub fn load(&mut self, order_id: &str) -> Result<Option<(OrderRow, Vec<ItemRow>)>, StoreError> {
        match self.load_order(order_id)? {
            None => Ok(None),
            Some(o) => Ok(Some((o, self.load_items(order_id)?))),
        }
    }

    fn load_order(&mut self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        Ok(self
            .load_order
            .query_row(params![self.account, order_id], |r| {
                Ok(OrderRow {
                    order_id: order_id.to_string(),
                    marketplace_id: r.get(0)?,
                    merchant_order_id: r.get(1)?,
                    purchase_date: parse_ts(&r.get::<_, String>(2)?),
                    purchase_day: r.get(3)?,
                    last_updated_date: parse_ts(&r.get::<_, String>(4)?),
                    status: status_static(&r.get::<_, String>(5)?),
                    raw_status: r.get(6)?,
                    fulfillment_channel: match r.get::<_, Option<String>>(7)?.as_deref() {
                        Some("FBA") => Some("FBA"),
                        Some("FBM") => Some("FBM"),
                        _ => None,
                    },
                    sales_channel: r.get(8)?,
                    ship_service_level: r.get(9)?,
                    is_business_order: r.get::<_, Option<i64>>(10)?.map(|v| v != 0),
                    currency: r.get(11)?,
                    order_total: r.get(12)?,
                    source: "report",
                })
            })
            .optional()?)
    }

    fn load_items(&mut self, order_id: &str) -> Result<Vec<ItemRow>, StoreError> {
        super::statement_rows(&mut self.load_items, params![self.account, order_id])
    }

    /// Upserts one order and its items (sorted by SKU, one per SKU), as the
    /// module doc says; returns the rows written (0 when nothing changed).
    pub fn write(&mut self, order: &OrderRow, items: &[ItemRow]) -> Result<u64, StoreError> {
        let old = self.load_order(&order.order_id)?;
        let mut written = 0;
        let newer = match &old {
            None => true,
            Some(o) if order.last_updated_date < o.last_updated_date => return Ok(0),
            Some(o) => order.last_updated_date > o.last_updated_date || !same_order(order, o),
        };
        if newer {
            self.upsert.execute(params![
                self.account,
                order.order_id,
                order.marketplace_id,
                order.merchant_order_id,
                ts(order.purchase_date),
                order.purchase_day,
                ts(order.last_updated_date),
                order.status,
                order.raw_status,
                order.fulfillment_channel,
                order.sales_channel,
                order.ship_service_level,
                order.is_business_order.map(i64::from),
                order.currency,
                order.order_total,
                order.source,
                self.now,
            ])?;
            written += 1;
        }
        let old_items = if old.is_some() {
            self.load_items(&order.order_id)?
        } else {
            Vec::new()
        };
        let same = old_items.len() == items.len()
            && items.iter().zip(&old_items).all(|(n, o)| same_item(n, o));
        if !same {
            if !old_items.is_empty() {
                self.delete_items
                    .execute(params![self.account, order.order_id])?;
            }
            for it in items {
                // A source without shipped quantities keeps the known one.
                let shipped = it.quantity_shipped.or_else(|| {
                    old_items
                        .iter()
                        .find(|o| o.sku == it.sku && o.quantity == it.quantity)
                        .and_then(|o| o.quantity_shipped)
                });
                self.insert_item.execute(params![
                    self.account,
                    order.order_id,
                    it.sku,
                    it.asin,
                    it.title,
                    it.quantity,
                    shipped,
                    it.currency,
                    it.item_price,
                    it.item_tax,
                    it.shipping_price,
                    it.promotion_discount,
                    it.ship_promotion_discount,
                    it.item_status,
                ])?;
                written += 1;
            }
        }
        Ok(written)
    }
}

/// Upserts one order and its items (sorted by SKU, one per SKU); returns
/// the rows written (0 when nothing changed).
pub fn upsert_order(
    conn: &Connection,
    account: &str,
    order: &OrderRow,
    items: &[ItemRow],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    OrderWriter::new(conn, account, now)?.write(order, items)
}
