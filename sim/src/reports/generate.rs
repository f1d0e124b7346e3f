//! Turning a report request into a document: the window it covers, the
//! flat files (TSV, ISO-8859-1, gzip) and the dispatch to the JSON documents
//! in [`super::docs`].
//!
//! Everything is read from the world as of one instant, `as_of` (the moment
//! processing starts), and never reveals anything after it. Flat files are
//! written row by row into the gzip stream (see [`super::spool`]).

use std::collections::BTreeMap;
use std::io;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};

use super::docs;
use super::kinds::ReportKind;
use super::spool::{gzip_bytes, FlatEncoding, Spool, Stored, Tsv};
use crate::world::{MarketWorlds, OrderStatus, World};

/// What a report was asked for (the `createReport` body, checked).
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: ReportKind,
    pub marketplace_ids: Vec<String>,
    /// As sent, with the client's offset (date-based types read the date
    /// in that offset: "the time component is ignored").
    pub data_start: Option<DateTime<FixedOffset>>,
    pub data_end: Option<DateTime<FixedOffset>>,
    pub options: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
}

impl Request {
    /// Start instant (default: creation time, as the model says "now").
    pub fn start(&self) -> DateTime<Utc> {
        self.data_start
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(self.created)
    }

    /// End instant (default: creation time), never after `as_of`.
    pub fn end(&self, as_of: DateTime<Utc>) -> DateTime<Utc> {
        self.data_end
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(self.created)
            .min(as_of)
    }

    /// Start date, ignoring the time component (date in the sent offset;
    /// default: the creation day in the marketplace).
    pub fn start_date(&self, world: &World) -> NaiveDate {
        self.data_start
            .map(|t| t.date_naive())
            .unwrap_or_else(|| world.day_of(self.created))
    }

    /// End date, ignoring the time component.
    pub fn end_date(&self, world: &World) -> NaiveDate {
        self.data_end
            .map(|t| t.date_naive())
            .unwrap_or_else(|| world.day_of(self.created))
    }
}

/// Faults decided for one report when it was created.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decided {
    pub fatal: bool,
    pub empty: bool,
    pub realworld: bool,
}

/// How generation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A document with this many data rows.
    Done { rows: u64, doc: Stored },
    /// Nothing to report: the report ends CANCELLED.
    NoData,
    /// The report ends FATAL, with an error document for the types where
    /// Amazon attaches one.
    Fatal { error_doc: Option<Stored> },
}

/// Generate the document of `req` from the world as of `as_of`.
pub fn generate(
    worlds: &impl MarketWorlds,
    spool: &Spool,
    req: &Request,
    as_of: DateTime<Utc>,
    decided: Decided,
) -> io::Result<Outcome> {
    if decided.fatal {
        return fatal(
            spool,
            req.kind,
            "The report could not be generated because of an internal error. Request it again.",
        );
    }
    if decided.empty {
        return Ok(Outcome::Done {
            rows: 0,
            doc: gzip_bytes(spool, b"")?,
        });
    }
    // The requested marketplaces the seller sells in, in scenario order.
    let sold: Vec<&World> = worlds
        .market_worlds()
        .into_iter()
        .filter(|w| req.marketplace_ids.iter().any(|m| m == w.marketplace_id()))
        .collect();
    if req.kind.single_marketplace() {
        if req.marketplace_ids.len() != 1 {
            return fatal(
                spool,
                req.kind,
                "This report type supports only one marketplaceId per report.",
            );
        }
        if sold.is_empty() {
            return fatal(
                spool,
                req.kind,
                "The marketplaceId must match the marketplace of the seller's account.",
            );
        }
    } else if sold.is_empty() {
        // The seller sells nowhere else: nothing to report.
        return Ok(Outcome::NoData);
    } else if sold.len() > 1 && !req.kind.merges_marketplaces() {
        // Two of the seller's marketplaces in a report that describes one (see
        // `ReportKind::merges_marketplaces`): FATAL, as the single-marketplace types end.
        return fatal(
            spool,
            req.kind,
            "This report type supports only one marketplaceId per report.",
        );
    }
    let world = sold[0];
    match req.kind {
        ReportKind::AllOrders => flat(all_orders(&sold, spool, req, as_of)?),
        ReportKind::InventoryPlanning => flat(inventory_planning(world, spool, as_of)?),
        ReportKind::MyiUnsuppressed => flat(myi_unsuppressed(world, spool, as_of)?),
        ReportKind::FbaReturns => flat(fba_returns(world, spool, req, as_of)?),
        ReportKind::MfnReturns => flat(mfn_returns(world, spool, req, as_of)?),
        ReportKind::SellerFeedback => flat(seller_feedback(world, spool, req, as_of)?),
        ReportKind::MerchantListingsAll => flat(merchant_listings(world, spool, as_of)?),
        ReportKind::SalesAndTraffic => json(spool, docs::sales_and_traffic(world, req, as_of)),
        ReportKind::SellerPerformance => {
            // One element per requested marketplace in each array.
            let mut merged: Option<serde_json::Value> = None;
            for w in &sold {
                let (_, doc) = docs::seller_performance(w, as_of, decided.realworld);
                match merged.as_mut() {
                    None => merged = Some(doc),
                    Some(m) => {
                        for key in ["accountStatuses", "performanceMetrics"] {
                            let more = doc[key].as_array().cloned().unwrap_or_default();
                            if let Some(a) = m[key].as_array_mut() {
                                a.extend(more);
                            }
                        }
                    }
                }
            }
            json(spool, Ok(merged.map(|doc| (sold.len() as u64, doc))))
        }
        ReportKind::SearchQueryPerformance => {
            json(spool, docs::search_query_performance(world, req, as_of))
        }
    }
}

fn flat((rows, doc): (u64, Stored)) -> io::Result<Outcome> {
    Ok(if rows == 0 {
        Outcome::NoData
    } else {
        Outcome::Done { rows, doc }
    })
}

/// A JSON document: `Ok(Some((rows, doc)))`, `Ok(None)` for no data, or
/// `Err(reason)` for a request the type rejects with FATAL.
fn json(
    spool: &Spool,
    made: Result<Option<(u64, serde_json::Value)>, String>,
) -> io::Result<Outcome> {
    match made {
        Ok(Some((rows, value))) if rows > 0 => Ok(Outcome::Done {
            rows,
            doc: gzip_bytes(spool, value.to_string().as_bytes())?,
        }),
        Ok(_) => Ok(Outcome::NoData),
        Err(reason) => fatal(spool, ReportKind::SearchQueryPerformance, &reason),
    }
}

/// A FATAL outcome. JSON report types carry an error document
/// (`{"errorDetails": ...}`, the shape clients see for failed Brand
/// Analytics and performance reports); flat files carry none.
fn fatal(spool: &Spool, kind: ReportKind, reason: &str) -> io::Result<Outcome> {
    let error_doc = if kind.is_json() {
        let body = serde_json::json!({ "errorDetails": reason }).to_string();
        Some(gzip_bytes(spool, body.as_bytes())?)
    } else {
        None
    };
    Ok(Outcome::Fatal { error_doc })
}

// ---------------------------------------------------------------------------
// Formatting

/// Money with two decimals.
pub fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// Money with the decimals of `world`'s currency (whole yen, cents elsewhere).
pub fn money_of(world: &World, x: f64) -> String {
    format!("{:.*}", world.currency_decimals(), x)
}

/// ISO-8601 with an explicit offset, as the flat files write times
/// (`2017-06-17T08:04:21+00:00`).
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL

/// REFERENCE.md §4, file order (32 columns).
pub const ALL_ORDERS_COLUMNS: [&str; 32] = [
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
];

/// The flat file's status words (the report writes `Cancelled`).
fn order_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "Pending",
        OrderStatus::Unshipped => "Unshipped",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Canceled => "Cancelled",
    }
}

fn all_orders(
    worlds: &[&World],
    spool: &Spool,
    req: &Request,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    // Several marketplaces: one document, each market's orders in turn (its rows name
    // their sales channel); cp932 when one of them is Amazon.co.jp.
    let encoding = worlds
        .iter()
        .map(|w| FlatEncoding::of(w))
        .max()
        .unwrap_or(FlatEncoding::Latin1);
    let mut tsv = Tsv::encoded(spool, &ALL_ORDERS_COLUMNS, encoding)?;
    let (a, b) = (req.start(), req.end(as_of));
    for world in worlds.iter().copied().filter(|_| a < b) {
        for o in world.orders_updated(a, b, as_of) {
            let channel = if o.fulfillment_channel == "AFN" {
                "Amazon"
            } else {
                "Merchant"
            };
            for it in &o.items {
                let cancelled = it.item_status == OrderStatus::Canceled;
                // Cancelled items show quantity 0 and no prices, as in the real file.
                let amount = |x: f64| {
                    if cancelled {
                        String::new()
                    } else {
                        money_of(world, x)
                    }
                };
                tsv.row(&[
                    o.amazon_order_id.clone(),
                    String::new(),
                    iso(o.purchase_date),
                    iso(o.last_update_date),
                    order_status(o.status).to_owned(),
                    channel.to_owned(),
                    o.sales_channel.clone(),
                    String::new(),
                    String::new(),
                    o.ship_service_level.to_owned(),
                    it.title.clone(),
                    it.sku.clone(),
                    it.asin.clone(),
                    order_status(it.item_status).to_owned(),
                    if cancelled { 0 } else { it.quantity }.to_string(),
                    o.currency.clone(),
                    amount(it.item_price),
                    amount(it.item_tax),
                    amount(it.shipping_price),
                    amount(it.shipping_tax),
                    amount(0.0),
                    amount(0.0),
                    amount(-it.promotion_discount.abs()),
                    amount(0.0),
                    o.ship_city.clone(),
                    o.ship_state.clone(),
                    o.ship_postal_code.clone(),
                    o.ship_country.clone(),
                    it.promotion_ids.join(","),
                    o.is_business_order.to_string(),
                    String::new(),
                    if o.is_business_order {
                        "BusinessPrice".to_owned()
                    } else {
                        String::new()
                    },
                ])?;
            }
        }
    }
    tsv.finish()
}

// ---------------------------------------------------------------------------
// GET_FBA_INVENTORY_PLANNING_DATA

/// REFERENCE.md §4, file order: the 63 names it lists (its "(65)" count
/// includes two columns it does not name, so none are invented here).
pub const PLANNING_COLUMNS: [&str; 63] = [
    "snapshot-date",
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "available",
    "pending-removal-quantity",
    "inv-age-0-to-90-days",
    "inv-age-91-to-180-days",
    "inv-age-181-to-270-days",
    "inv-age-271-to-365-days",
    "inv-age-365-plus-days",
    "currency",
    "qty-to-be-charged-ltsf-11-mo",
    "projected-ltsf-11-mo",
    "qty-to-be-charged-ltsf-12-mo",
    "estimated-ltsf-next-charge",
    "units-shipped-t7",
    "units-shipped-t30",
    "units-shipped-t60",
    "units-shipped-t90",
    "alert",
    "your-price",
    "sales-price",
    "lowest-price-new-plus-shipping",
    "lowest-price-used",
    "recommended-action",
    "healthy-inventory-level",
    "recommended-sales-price",
    "recommended-sale-duration-days",
    "recommended-removal-quantity",
    "estimated-cost-savings-of-recommended-actions",
    "sell-through",
    "item-volume",
    "volume-unit-measurement",
    "storage-type",
    "storage-volume",
    "marketplace",
    "product-group",
    "sales-rank",
    "days-of-supply",
    "estimated-excess-quantity",
    "weeks-of-cover-t30",
    "weeks-of-cover-t90",
    "featuredoffer-price",
    "sales-shipped-last-7-days",
    "sales-shipped-last-30-days",
    "sales-shipped-last-60-days",
    "sales-shipped-last-90-days",
    "inv-age-0-to-30-days",
    "inv-age-31-to-60-days",
    "inv-age-61-to-90-days",
    "inv-age-181-to-330-days",
    "inv-age-331-to-365-days",
    "estimated-storage-cost-next-month",
    "inbound-quantity",
    "inbound-working",
    "inbound-shipped",
    "inbound-received",
    "no-sale-last-6-months",
    "reserved-quantity",
    "unfulfillable-quantity",
];

fn inventory_planning(
    world: &World,
    spool: &Spool,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    let mut tsv = Tsv::encoded(spool, &PLANNING_COLUMNS, FlatEncoding::of(world))?;
    let country = crate::marketplaces::by_id(&world.scenario().seller.marketplace_id)
        .map(|m| m.country_code)
        .unwrap_or("US");
    for r in world.planning(world.day_of(as_of)) {
        let p = world.sku_idx(&r.sku).map(|j| &world.products()[j]);
        let daily30 = r.units_shipped_t30 as f64 / 30.0;
        let daily90 = r.units_shipped_t90 as f64 / 90.0;
        let cover = |daily: f64| {
            if daily > 0.0 {
                format!("{:.1}", r.available as f64 / (daily * 7.0))
            } else {
                String::new()
            }
        };
        let healthy = (daily30 * 60.0).round() as i64;
        let excess = (r.available - (daily30 * 90.0).round() as i64).max(0);
        let sell_through = if r.available + r.units_shipped_t90 as i64 > 0 {
            format!(
                "{:.2}",
                r.units_shipped_t90 as f64 / (r.available as f64 + r.units_shipped_t90 as f64)
            )
        } else {
            String::new()
        };
        let sales = |units: u64| money_of(world, units as f64 * r.your_price);
        tsv.row(&[
            r.snapshot_date.to_string(),
            r.sku.clone(),
            r.fnsku.clone(),
            r.asin.clone(),
            r.product_name.clone(),
            r.condition.clone(),
            r.available.to_string(),
            "0".into(),
            r.inv_age_0_to_90_days.to_string(),
            r.inv_age_91_to_180_days.to_string(),
            r.inv_age_181_to_270_days.to_string(),
            r.inv_age_271_to_365_days.to_string(),
            r.inv_age_365_plus_days.to_string(),
            r.currency.clone(),
            "0".into(),
            money_of(world, 0.0),
            "0".into(),
            money_of(world, 0.0),
            r.units_shipped_t7.to_string(),
            r.units_shipped_t30.to_string(),
            r.units_shipped_t60.to_string(),
            r.units_shipped_t90.to_string(),
            r.alert.clone(),
            money_of(world, r.your_price),
            money_of(world, r.your_price),
            String::new(),
            String::new(),
            r.recommended_action.clone(),
            healthy.to_string(),
            String::new(),
            String::new(),
            "0".into(),
            money_of(world, 0.0),
            sell_through,
            String::new(),
            "cubic feet".into(),
            "Standard".into(),
            String::new(),
            country.into(),
            p.map(|p| p.display_group_title.clone()).unwrap_or_default(),
            opt(r.sales_rank),
            opt(r.days_of_supply),
            excess.to_string(),
            cover(daily30),
            cover(daily90),
            money_of(world, r.your_price),
            sales(r.units_shipped_t7),
            sales(r.units_shipped_t30),
            sales(r.units_shipped_t60),
            sales(r.units_shipped_t90),
            // Finer age buckets and storage cost are not modelled: left empty.
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            r.inbound_quantity.to_string(),
            r.inbound_working.to_string(),
            r.inbound_shipped.to_string(),
            r.inbound_received.to_string(),
            yes_no(r.units_shipped_t90 == 0).to_owned(),
            r.reserved_quantity.to_string(),
            r.unfulfillable_quantity.to_string(),
        ])?;
    }
    tsv.finish()
}

// ---------------------------------------------------------------------------
// GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA

/// REFERENCE.md §4, file order (21 columns).
pub const MYI_COLUMNS: [&str; 21] = [
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "your-price",
    "mfn-listing-exists",
    "mfn-fulfillable-quantity",
    "afn-listing-exists",
    "afn-warehouse-quantity",
    "afn-fulfillable-quantity",
    "afn-unsellable-quantity",
    "afn-reserved-quantity",
    "afn-total-quantity",
    "per-unit-volume",
    "afn-inbound-working-quantity",
    "afn-inbound-shipped-quantity",
    "afn-inbound-receiving-quantity",
    "afn-researching-quantity",
    "afn-reserved-future-supply",
    "afn-future-supply-buyable",
];

fn myi_unsuppressed(
    world: &World,
    spool: &Spool,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    let mut tsv = Tsv::encoded(spool, &MYI_COLUMNS, FlatEncoding::of(world))?;
    for inv in world.inventory_all(as_of).into_iter().filter(|i| i.is_fba) {
        let price = world
            .sku_idx(&inv.sku)
            .map(|j| world.products()[j].price)
            .unwrap_or(0.0);
        let warehouse = inv.fulfillable + inv.unfulfillable + inv.reserved + inv.researching;
        tsv.row(&[
            inv.sku.clone(),
            inv.fnsku.clone(),
            inv.asin.clone(),
            inv.title.clone(),
            inv.condition.clone(),
            money_of(world, price),
            "No".into(),
            String::new(),
            "Yes".into(),
            warehouse.to_string(),
            inv.fulfillable.to_string(),
            inv.unfulfillable.to_string(),
            inv.reserved.to_string(),
            (warehouse + inv.inbound()).to_string(),
            "0.05".into(),
            inv.inbound_working.to_string(),
            inv.inbound_shipped.to_string(),
            inv.inbound_receiving.to_string(),
            inv.researching.to_string(),
            "0".into(),
            "0".into(),
        ])?;
    }
    tsv.finish()
}

// ---------------------------------------------------------------------------
// Returns

/// REFERENCE.md §4, file order (13 columns).
pub const FBA_RETURNS_COLUMNS: [&str; 13] = [
    "return-date",
    "order-id",
    "sku",
    "asin",
    "fnsku",
    "product-name",
    "quantity",
    "fulfillment-center-id",
    "detailed-disposition",
    "reason",
    "status",
    "license-plate-number",
    "customer-comments",
];

/// REFERENCE.md §4, file order (32 columns).
pub const MFN_RETURNS_COLUMNS: [&str; 32] = [
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Merchant RMA ID",
    "Label type",
    "Label cost",
    "Currency code",
    "Return carrier",
    "Tracking ID",
    "Label to be paid by",
    "A-to-Z Claim",
    "Is prime",
    "ASIN",
    "Merchant SKU",
    "Item Name",
    "Return quantity",
    "Return Reason",
    "In policy",
    "Return type",
    "Resolution",
    "Invoice number",
    "Return delivery date",
    "Order Amount",
    "Order quantity",
    "SafeT Action reason",
    "SafeT claim id",
    "SafeT claim state",
    "SafeT claim creation time",
    "SafeT claim reimbursement amount",
    "Refunded Amount",
];

fn returns_in_window(
    world: &World,
    req: &Request,
    as_of: DateTime<Utc>,
    channel: &str,
) -> Vec<crate::world::Return> {
    let (a, b) = (req.start(), req.end(as_of));
    if a > b {
        return Vec::new();
    }
    world
        .returns(world.day_of(a), world.day_of(b), as_of)
        .into_iter()
        .filter(|r| r.fulfillment_channel == channel && r.return_date >= a && r.return_date <= b)
        .collect()
}

fn fba_returns(
    world: &World,
    spool: &Spool,
    req: &Request,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    let mut tsv = Tsv::encoded(spool, &FBA_RETURNS_COLUMNS, FlatEncoding::of(world))?;
    for r in returns_in_window(world, req, as_of, "AFN") {
        tsv.row(&[
            iso(r.return_date),
            r.order_id.clone(),
            r.sku.clone(),
            r.asin.clone(),
            r.fnsku.clone(),
            r.product_name.clone(),
            r.quantity.to_string(),
            r.fulfillment_center_id.clone(),
            r.disposition.clone(),
            r.reason.clone(),
            r.status.clone(),
            r.license_plate_number.clone(),
            r.customer_comments.clone(),
        ])?;
    }
    tsv.finish()
}

fn mfn_returns(
    world: &World,
    spool: &Spool,
    req: &Request,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    let mut tsv = Tsv::encoded(spool, &MFN_RETURNS_COLUMNS, FlatEncoding::of(world))?;
    let currency = world.scenario().seller.currency.clone();
    for r in returns_in_window(world, req, as_of, "MFN") {
        let closed = r.status == "Closed";
        tsv.row(&[
            r.order_id.clone(),
            iso(r.order_date),
            iso(r.return_date),
            r.status.clone(),
            r.amazon_rma_id.clone(),
            String::new(),
            "AmazonPrePaidLabel".into(),
            money_of(world, 0.0),
            currency.clone(),
            "USPS".into(),
            String::new(),
            "Customer".into(),
            "N".into(),
            "N".into(),
            r.asin.clone(),
            r.sku.clone(),
            r.product_name.clone(),
            r.quantity.to_string(),
            r.reason.clone(),
            "Y".into(),
            "C-Returns".into(),
            if closed { "StandardRefund" } else { "" }.into(),
            String::new(),
            if closed {
                iso(r.return_date + Duration::days(5))
            } else {
                String::new()
            },
            money_of(world, r.order_amount),
            r.order_quantity.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            if closed {
                money_of(world, r.refunded_amount)
            } else {
                String::new()
            },
        ])?;
    }
    tsv.finish()
}

// ---------------------------------------------------------------------------
// GET_SELLER_FEEDBACK_DATA

/// Amazon "Performance Reports" (6 columns).
pub const FEEDBACK_COLUMNS: [&str; 6] = [
    "Date",
    "Rating",
    "Comments",
    "Your Response",
    "Order ID",
    "Rater Email",
];

fn seller_feedback(
    world: &World,
    spool: &Spool,
    req: &Request,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    let mut tsv = Tsv::encoded(spool, &FEEDBACK_COLUMNS, FlatEncoding::of(world))?;
    let (a, b) = (req.start_date(world), req.end_date(world));
    let mkt = req
        .marketplace_ids
        .first()
        .and_then(|id| crate::marketplaces::by_id(id))
        .or_else(|| crate::marketplaces::by_id(&world.scenario().seller.marketplace_id))
        .expect("a marketplace the sim knows");
    if a <= b {
        // Only negative and neutral feedback (1–3 stars) is in this report.
        for f in world
            .seller_feedback(a, b, as_of)
            .into_iter()
            .filter(|f| f.rating <= 3)
        {
            tsv.row(&[
                mkt.feedback_date(f.date),
                f.rating.to_string(),
                f.comments.clone(),
                f.response.clone(),
                f.order_id.clone(),
                f.rater_email.clone(),
            ])?;
        }
    }
    tsv.finish()
}

// ---------------------------------------------------------------------------
// GET_MERCHANT_LISTINGS_ALL_DATA

/// REFERENCE.md §4, file order (29 columns).
pub const LISTINGS_COLUMNS: [&str; 29] = [
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "zshop-shipping-fee",
    "item-note",
    "item-condition",
    "zshop-category1",
    "zshop-browse-path",
    "zshop-storefront-feature",
    "asin1",
    "asin2",
    "asin3",
    "will-ship-internationally",
    "expedited-shipping",
    "zshop-boldface",
    "product-id",
    "bid-for-featured-placement",
    "add-delete",
    "pending-quantity",
    "fulfillment-channel",
    "merchant-shipping-group",
    "status",
];

fn merchant_listings(
    world: &World,
    spool: &Spool,
    as_of: DateTime<Utc>,
) -> io::Result<(u64, Stored)> {
    let mut tsv = Tsv::encoded(spool, &LISTINGS_COLUMNS, FlatEncoding::of(world))?;
    for (i, l) in world.listings(as_of).into_iter().enumerate() {
        let active = l.status.iter().any(|s| s == "BUYABLE") && !l.suppressed;
        tsv.row(&[
            l.title.clone(),
            String::new(),
            format!("{:04}{:06}", l.created.format("%m%d"), i),
            l.sku.clone(),
            money_of(world, l.price),
            opt(l.fbm_quantity),
            l.created.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            String::new(),
            "y".into(),
            "1".into(),
            String::new(),
            String::new(),
            "11".into(),
            String::new(),
            String::new(),
            String::new(),
            l.asin.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            l.asin.clone(),
            String::new(),
            String::new(),
            "0".into(),
            l.fulfillment_channel_code.clone(),
            "Migrated Template".into(),
            if active { "Active" } else { "Inactive" }.into(),
        ])?;
    }
    tsv.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_counts_match_the_reference() {
        assert_eq!(ALL_ORDERS_COLUMNS.len(), 32);
        assert_eq!(MYI_COLUMNS.len(), 21);
        assert_eq!(PLANNING_COLUMNS.len(), 63);
        assert_eq!(FBA_RETURNS_COLUMNS.len(), 13);
        assert_eq!(MFN_RETURNS_COLUMNS.len(), 32);
        assert_eq!(LISTINGS_COLUMNS.len(), 29);
    }

    #[test]
    fn formats() {
        let t = DateTime::parse_from_rfc3339("2017-06-17T08:04:21Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(iso(t), "2017-06-17T08:04:21+00:00");
        assert_eq!(money(3.0), "3.00");
    }
}
