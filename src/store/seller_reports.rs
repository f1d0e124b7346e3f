//! Rows of the SP-API report jobs that describe the seller's business:
//! sales & traffic (windows, per-ASIN totals, daily series), search query
//! performance, inventory planning, returns, seller feedback and account
//! health. The sync jobs parse reports into the row types here;
//! `flywheel import` writes hand-downloaded files through the same
//! functions.
//!
//! Every write is an upsert on the table's natural key that only touches a
//! row whose values changed (and only then moves its `fetched_at`), so a
//! re-run that reads the same report writes nothing and reports 0 rows.
//! The functions take the caller's transaction: each job writes its rows,
//! its cursor and the consumed report row in one.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::ops::ts;
use super::{upsert_sql, StoreError};

/// Where rows belong.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub account: &'a str,
    pub marketplace_id: &'a str,
    pub now: DateTime<Utc>,
}

fn int(v: Option<i64>) -> Value {
    v.map(Value::Integer).unwrap_or(Value::Null)
}

fn real(v: Option<f64>) -> Value {
    v.map(Value::Real).unwrap_or(Value::Null)
}

fn text(v: Option<&str>) -> Value {
    v.map(|s| Value::Text(s.to_string())).unwrap_or(Value::Null)
}

fn day(d: NaiveDate) -> Value {
    Value::Text(d.format("%Y-%m-%d").to_string())
}

/// `INSERT … ON CONFLICT (key) DO UPDATE SET <data>, <touch> WHERE <any
/// data column differs>`: `key` columns identify the row, `data` columns
/// are compared, `touch` columns (fetched_at) follow a change only, and
/// `keep` columns are written on insert and never updated (first_seen_at).
/// Returns 1 when the row was inserted or changed, else 0.
fn upsert(
    conn: &Connection,
    table: &str,
    key: &[(&str, Value)],
    data: &[(&str, Value)],
    touch: &[(&str, Value)],
    keep: &[(&str, Value)],
) -> Result<u64, StoreError> {
    fn names<'a>(cols: &[(&'a str, Value)]) -> Vec<&'a str> {
        cols.iter().map(|(c, _)| *c).collect()
    }
    let sql = upsert_sql(
        table,
        &names(key),
        &names(data),
        &names(touch),
        &names(keep),
    );
    let all = key.iter().chain(data).chain(touch).chain(keep);
    let mut stmt = conn.prepare_cached(&sql)?;
    let n = stmt.execute(params_from_iter(all.map(|(_, v)| v)))?;
    Ok(n as u64)
}

fn scope_key<'a>(s: &Scope<'_>) -> Vec<(&'a str, Value)> {
    vec![
        ("account", Value::Text(s.account.to_string())),
        ("marketplace_id", Value::Text(s.marketplace_id.to_string())),
    ]
}

// ---------------------------------------------------------------------------
// Sales & traffic

/// Per child ASIN totals over one window (`salesAndTrafficByAsin`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AsinWindowRow {
    pub asin: String,
    pub parent_asin: Option<String>,
    pub sessions: Option<i64>,
    pub page_views: Option<i64>,
    pub buy_box_pct: Option<f64>,
    pub unit_session_pct: Option<f64>,
    pub units_ordered: Option<i64>,
    pub total_order_items: Option<i64>,
    pub ordered_product_sales: Option<f64>,
    pub currency: Option<String>,
}

/// One day of the account's series (`salesAndTrafficByDate`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DailyRow {
    pub date: NaiveDate,
    pub sessions: Option<i64>,
    pub page_views: Option<i64>,
    pub buy_box_pct: Option<f64>,
    pub unit_session_pct: Option<f64>,
    pub order_item_session_pct: Option<f64>,
    pub units_ordered: Option<i64>,
    pub total_order_items: Option<i64>,
    pub ordered_product_sales: Option<f64>,
    pub units_shipped: Option<i64>,
    pub orders_shipped: Option<i64>,
    pub shipped_product_sales: Option<f64>,
    pub units_refunded: Option<i64>,
    pub refund_rate: Option<f64>,
    pub claims_granted: Option<i64>,
    pub claims_amount: Option<f64>,
    pub feedback_received: Option<i64>,
    pub negative_feedback_received: Option<i64>,
    pub received_negative_feedback_rate: Option<f64>,
    pub currency: Option<String>,
}

/// The windows already stored for a marketplace (inclusive days).
pub fn stored_windows(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT window_start, window_end FROM sales_traffic_windows WHERE account = ?1 AND marketplace_id = ?2",
    )?;
    let rows = stmt
        .query_map(params![account, marketplace_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<HashSet<_>, _>>()?;
    Ok(rows)
}

/// What [`write_window`] does with ASINs stored for the window that the
/// rows do not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// Delete them: the rows are Amazon's complete, newest answer for the
    /// window (the sync job re-reading a recent window).
    Remove,
    /// Keep them: the rows add to what is stored (`flywheel import` of a
    /// file, which may be partial or older, never removes stored rows).
    Keep,
}

/// What [`write_window`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowWritten {
    /// Rows inserted, changed or removed (the window row among them).
    pub written: u64,
    /// ASIN rows removed ([`Absent::Remove`]).
    pub removed: u64,
    /// Stored ASIN rows the rows did not list, kept ([`Absent::Keep`]).
    pub kept: u64,
}

/// Writes one per-ASIN window report: the window row (so an absent ASIN
/// reads "no orders, sessions unknown" rather than "never fetched"), its
/// ASIN rows, and, per `absent`, removes or keeps ASINs stored for the
/// window that these rows do not list. The window's `asin_rows` counts the
/// ASIN rows it holds afterwards.
pub fn write_window(
    conn: &Connection,
    s: &Scope<'_>,
    start: NaiveDate,
    end: NaiveDate,
    rows: &[AsinWindowRow],
    absent: Absent,
) -> Result<WindowWritten, StoreError> {
    let now = Value::Text(ts(s.now));
    let seen: BTreeSet<&str> = rows.iter().map(|r| r.asin.as_str()).collect();
    let stored: Vec<String> = {
        let mut stmt = conn.prepare_cached(
            "SELECT asin FROM sales_traffic_asin WHERE account = ?1 AND marketplace_id = ?2
             AND window_start = ?3 AND window_end = ?4",
        )?;
        let v = stmt
            .query_map(
                params![s.account, s.marketplace_id, day(start), day(end)],
                |r| r.get::<_, String>(0),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        v
    };
    let others: Vec<&String> = stored
        .iter()
        .filter(|a| !seen.contains(a.as_str()))
        .collect();
    let asin_rows = match absent {
        Absent::Remove => seen.len(),
        Absent::Keep => seen.len() + others.len(),
    };
    let mut key = scope_key(s);
    key.push(("window_start", day(start)));
    key.push(("window_end", day(end)));
    let mut out = WindowWritten {
        written: upsert(
            conn,
            "sales_traffic_windows",
            &key,
            &[("asin_rows", Value::Integer(asin_rows as i64))],
            &[("fetched_at", now.clone())],
            &[],
        )?,
        ..WindowWritten::default()
    };
    for r in rows {
        let mut key = scope_key(s);
        key.push(("asin", Value::Text(r.asin.clone())));
        key.push(("window_start", day(start)));
        key.push(("window_end", day(end)));
        out.written += upsert(
            conn,
            "sales_traffic_asin",
            &key,
            &[
                ("parent_asin", text(r.parent_asin.as_deref())),
                ("sessions", int(r.sessions)),
                ("page_views", int(r.page_views)),
                ("buy_box_pct", real(r.buy_box_pct)),
                ("unit_session_pct", real(r.unit_session_pct)),
                ("units_ordered", int(r.units_ordered)),
                ("total_order_items", int(r.total_order_items)),
                ("ordered_product_sales", real(r.ordered_product_sales)),
                ("currency", text(r.currency.as_deref())),
            ],
            &[("fetched_at", now.clone())],
            &[],
        )?;
    }
    match absent {
        Absent::Keep => out.kept = others.len() as u64,
        Absent::Remove => {
            for asin in others {
                out.removed += conn.execute(
                    "DELETE FROM sales_traffic_asin WHERE account = ?1 AND marketplace_id = ?2
                     AND window_start = ?3 AND window_end = ?4 AND asin = ?5",
                    params![s.account, s.marketplace_id, day(start), day(end), asin],
                )? as u64;
            }
            out.written += out.removed;
        }
    }
    Ok(out)
}

/// Upserts days of the account's series. Returns rows inserted or changed.
pub fn write_daily(conn: &Connection, s: &Scope<'_>, rows: &[DailyRow]) -> Result<u64, StoreError> {
    let now = Value::Text(ts(s.now));
    let mut n = 0;
    for r in rows {
        let mut key = scope_key(s);
        key.push(("date", day(r.date)));
        n += upsert(
            conn,
            "sales_traffic_daily",
            &key,
            &[
                ("sessions", int(r.sessions)),
                ("page_views", int(r.page_views)),
                ("buy_box_pct", real(r.buy_box_pct)),
                ("unit_session_pct", real(r.unit_session_pct)),
                ("order_item_session_pct", real(r.order_item_session_pct)),
                ("units_ordered", int(r.units_ordered)),
                ("total_order_items", int(r.total_order_items)),
                ("ordered_product_sales", real(r.ordered_product_sales)),
                ("units_shipped", int(r.units_shipped)),
                ("orders_shipped", int(r.orders_shipped)),
                ("shipped_product_sales", real(r.shipped_product_sales)),
                ("units_refunded", int(r.units_refunded)),
                ("refund_rate", real(r.refund_rate)),
                ("claims_granted", int(r.claims_granted)),
                ("claims_amount", real(r.claims_amount)),
                ("feedback_received", int(r.feedback_received)),
                (
                    "negative_feedback_received",
                    int(r.negative_feedback_received),
                ),
                (
                    "received_negative_feedback_rate",
                    real(r.received_negative_feedback_rate),
                ),
                ("currency", text(r.currency.as_deref())),
            ],
            &[("fetched_at", now.clone())],
            &[],
        )?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Search query performance

/// One (ASIN, query) row of a week.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SqpRow {
    pub asin: String,
    pub week_start: NaiveDate,
    pub week_end: NaiveDate,
    pub search_query: String,
    pub search_query_score: Option<i64>,
    pub search_query_volume: Option<i64>,
    pub impressions_total: Option<i64>,
    pub impressions_asin: Option<i64>,
    pub impression_share: Option<f64>,
    pub clicks_total: Option<i64>,
    pub clicks_asin: Option<i64>,
    pub click_share: Option<f64>,
    pub cart_adds_total: Option<i64>,
    pub cart_adds_asin: Option<i64>,
    pub cart_add_share: Option<f64>,
    pub purchases_total: Option<i64>,
    pub purchases_asin: Option<i64>,
    pub purchase_share: Option<f64>,
}

pub fn write_sqp(conn: &Connection, s: &Scope<'_>, rows: &[SqpRow]) -> Result<u64, StoreError> {
    let now = Value::Text(ts(s.now));
    let mut n = 0;
    for r in rows {
        let mut key = scope_key(s);
        key.push(("asin", Value::Text(r.asin.clone())));
        key.push(("week_start", day(r.week_start)));
        key.push(("search_query", Value::Text(r.search_query.clone())));
        n += upsert(
            conn,
            "search_query_performance",
            &key,
            &[
                ("week_end", day(r.week_end)),
                ("search_query_score", int(r.search_query_score)),
                ("search_query_volume", int(r.search_query_volume)),
                ("impressions_total", int(r.impressions_total)),
                ("impressions_asin", int(r.impressions_asin)),
                ("impression_share", real(r.impression_share)),
                ("clicks_total", int(r.clicks_total)),
                ("clicks_asin", int(r.clicks_asin)),
                ("click_share", real(r.click_share)),
                ("cart_adds_total", int(r.cart_adds_total)),
                ("cart_adds_asin", int(r.cart_adds_asin)),
                ("cart_add_share", real(r.cart_add_share)),
                ("purchases_total", int(r.purchases_total)),
                ("purchases_asin", int(r.purchases_asin)),
                ("purchase_share", real(r.purchase_share)),
            ],
            &[("fetched_at", now.clone())],
            &[],
        )?;
    }
    Ok(n)
}

/// Every ASIN flywheel has seen for the marketplace (products, orders,
/// sales & traffic, planning, listings), sorted: the SQP job's subjects.
pub fn known_asins(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = super::all_rows(
        conn,
        // The ASINs ever sold, one index seek each (a skip-scan of
        // order_items_by_asin), then whether one order of each is in this
        // marketplace: not a probe of every order line's order.
        "WITH RECURSIVE sold(asin) AS (
             SELECT MIN(asin) FROM order_items WHERE account = ?1 AND asin IS NOT NULL
             UNION ALL
             SELECT (SELECT MIN(asin) FROM order_items WHERE account = ?1 AND asin > sold.asin)
             FROM sold WHERE sold.asin IS NOT NULL
         )
         SELECT asin FROM products WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL
         UNION SELECT asin FROM sales_traffic_asin WHERE account = ?1 AND marketplace_id = ?2
         UNION SELECT asin FROM inventory_planning WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL
         UNION SELECT asin FROM listings WHERE account = ?1 AND marketplace_id = ?2 AND asin IS NOT NULL
         UNION SELECT s.asin FROM sold s
               WHERE EXISTS (SELECT 1 FROM order_items i CROSS JOIN orders o
                               ON o.account = i.account AND o.order_id = i.order_id
                             WHERE i.account = ?1 AND i.asin = s.asin AND o.marketplace_id = ?2)
         ORDER BY 1",
        params![account, marketplace_id],
        |r| r.get::<_, String>(0),
    )?;
    Ok(rows.into_iter().filter(|a| !a.trim().is_empty()).collect())
}

// ---------------------------------------------------------------------------
// Inventory planning

/// How a planning column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Real,
}

/// The data columns of `inventory_planning` (migration 0002), in the
/// report's file order: REFERENCE §4's header names with `-` → `_`, after
/// the key (`snapshot_date`, `sku`).
pub const PLANNING_COLUMNS: [(&str, Kind); 61] = [
    ("fnsku", Kind::Text),
    ("asin", Kind::Text),
    ("product_name", Kind::Text),
    ("condition", Kind::Text),
    ("available", Kind::Int),
    ("pending_removal_quantity", Kind::Int),
    ("inv_age_0_to_90_days", Kind::Int),
    ("inv_age_91_to_180_days", Kind::Int),
    ("inv_age_181_to_270_days", Kind::Int),
    ("inv_age_271_to_365_days", Kind::Int),
    ("inv_age_365_plus_days", Kind::Int),
    ("currency", Kind::Text),
    ("qty_to_be_charged_ltsf_11_mo", Kind::Int),
    ("projected_ltsf_11_mo", Kind::Real),
    ("qty_to_be_charged_ltsf_12_mo", Kind::Int),
    ("estimated_ltsf_next_charge", Kind::Real),
    ("units_shipped_t7", Kind::Int),
    ("units_shipped_t30", Kind::Int),
    ("units_shipped_t60", Kind::Int),
    ("units_shipped_t90", Kind::Int),
    ("alert", Kind::Text),
    ("your_price", Kind::Real),
    ("sales_price", Kind::Real),
    ("lowest_price_new_plus_shipping", Kind::Real),
    ("lowest_price_used", Kind::Real),
    ("recommended_action", Kind::Text),
    ("healthy_inventory_level", Kind::Int),
    ("recommended_sales_price", Kind::Real),
    ("recommended_sale_duration_days", Kind::Int),
    ("recommended_removal_quantity", Kind::Int),
    ("estimated_cost_savings_of_recommended_actions", Kind::Real),
    ("sell_through", Kind::Real),
    ("item_volume", Kind::Real),
    ("volume_unit_measurement", Kind::Text),
    ("storage_type", Kind::Text),
    ("storage_volume", Kind::Real),
    ("marketplace", Kind::Text),
    ("product_group", Kind::Text),
    ("sales_rank", Kind::Int),
    ("days_of_supply", Kind::Real),
    ("estimated_excess_quantity", Kind::Int),
    ("weeks_of_cover_t30", Kind::Real),
    ("weeks_of_cover_t90", Kind::Real),
    ("featuredoffer_price", Kind::Real),
    ("sales_shipped_last_7_days", Kind::Real),
    ("sales_shipped_last_30_days", Kind::Real),
    ("sales_shipped_last_60_days", Kind::Real),
    ("sales_shipped_last_90_days", Kind::Real),
    ("inv_age_0_to_30_days", Kind::Int),
    ("inv_age_31_to_60_days", Kind::Int),
    ("inv_age_61_to_90_days", Kind::Int),
    ("inv_age_181_to_330_days", Kind::Int),
    ("inv_age_331_to_365_days", Kind::Int),
    ("estimated_storage_cost_next_month", Kind::Real),
    ("inbound_quantity", Kind::Int),
    ("inbound_working", Kind::Int),
    ("inbound_shipped", Kind::Int),
    ("inbound_received", Kind::Int),
    ("no_sale_last_6_months", Kind::Text),
    ("reserved_quantity", Kind::Int),
    ("unfulfillable_quantity", Kind::Int),
];

/// One cell of a planning row, borrowed from the line being read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Cell<'a> {
    #[default]
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Cell::Null => ValueRef::Null,
            Cell::Int(v) => ValueRef::Integer(v),
            Cell::Real(v) => ValueRef::Real(v),
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// One row of GET_FBA_INVENTORY_PLANNING_DATA, owned (what `parse` gives
/// `flywheel import` and the tests; the job streams [`Cell`]s instead).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanningRow {
    pub snapshot_date: NaiveDate,
    pub sku: String,
    /// One value per [`PLANNING_COLUMNS`] entry, in that order.
    pub values: Vec<Value>,
    /// Columns of the row the schema does not know, by header name.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl PlanningRow {
    /// The value of column `name` (a [`PLANNING_COLUMNS`] name); `Null`
    /// for a name that is not one.
    pub fn get(&self, name: &str) -> &Value {
        PLANNING_COLUMNS
            .iter()
            .position(|(c, _)| *c == name)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&Value::Null)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Value::Integer(v) => Some(*v),
            _ => None,
        }
    }

    pub fn real(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Value::Real(v) => Some(*v),
            Value::Integer(v) => Some(*v as f64),
            _ => None,
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Value::Text(v) => Some(v),
            _ => None,
        }
    }
}

/// Writes planning rows one at a time through one prepared statement (the
/// upsert of the module doc, binding each cell in place): a report of a
/// million rows is stored as it is read.
pub struct PlanningWriter<'c> {
    stmt: rusqlite::Statement<'c>,
    /// `snapshot_date` as text, kept while consecutive rows share it.
    day: (NaiveDate, String),
}

/// Parameters of the writer's statement before the data columns: account,
/// marketplace, snapshot date, SKU.
const PLANNING_KEY: [&str; 4] = ["account", "marketplace_id", "snapshot_date", "sku"];

impl<'c> PlanningWriter<'c> {
    pub fn new(conn: &'c Connection, s: &Scope<'c>) -> Result<Self, StoreError> {
        let data: Vec<&str> = PLANNING_COLUMNS
            .iter()
            .map(|(c, _)| *c)
            .chain(["extra_json"])
            .collect();
        let sql = upsert_sql(
            "inventory_planning",
            &PLANNING_KEY,
            &data,
            &["fetched_at"],
            &[],
        );
        let mut stmt = conn.prepare(&sql)?;
        // Bound once: the same for every row.
        stmt.raw_bind_parameter(1, s.account)?;
        stmt.raw_bind_parameter(2, s.marketplace_id)?;
        stmt.raw_bind_parameter(PLANNING_KEY.len() + data.len() + 1, ts(s.now))?;
        Ok(PlanningWriter {
            stmt,
            day: (NaiveDate::MIN, String::new()),
        })
    }

    /// Upserts one row: `cells` in [`PLANNING_COLUMNS`] order, `extra_json`
    /// a JSON object. 1 when the row was inserted or changed, else 0.
    pub fn write(
        &mut self,
        snapshot_date: NaiveDate,
        sku: &str,
        cells: &[Cell<'_>; PLANNING_COLUMNS.len()],
        extra_json: &str,
    ) -> Result<u64, StoreError> {
        if self.day.1.is_empty() || self.day.0 != snapshot_date {
            self.day = (snapshot_date, snapshot_date.format("%Y-%m-%d").to_string());
            self.stmt.raw_bind_parameter(3, self.day.1.as_str())?;
        }
        self.stmt.raw_bind_parameter(4, sku)?;
        for (i, c) in cells.iter().enumerate() {
            self.stmt
                .raw_bind_parameter(PLANNING_KEY.len() + 1 + i, c)?;
        }
        self.stmt
            .raw_bind_parameter(PLANNING_KEY.len() + cells.len() + 1, extra_json)?;
        // raw_execute resets the statement but keeps the bindings, so the
        // key and fetched_at stay bound from row to row.
        Ok(self.stmt.raw_execute()? as u64)
    }
}

pub fn write_planning(
    conn: &Connection,
    s: &Scope<'_>,
    rows: &[PlanningRow],
) -> Result<u64, StoreError> {
    let mut w = PlanningWriter::new(conn, s)?;
    let mut n = 0;
    for r in rows {
        let mut cells = [Cell::Null; PLANNING_COLUMNS.len()];
        for (cell, v) in cells.iter_mut().zip(&r.values) {
            *cell = match v {
                Value::Integer(i) => Cell::Int(*i),
                Value::Real(f) => Cell::Real(*f),
                Value::Text(t) => Cell::Text(t),
                Value::Null | Value::Blob(_) => Cell::Null,
            };
        }
        let extra = serde_json::Value::Object(r.extra.clone()).to_string();
        n += w.write(r.snapshot_date, &r.sku, &cells, &extra)?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Returns

/// One customer return (rows with the same key in one file already added up).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReturnRow {
    /// 'fba' or 'mfn'.
    pub source: &'static str,
    pub order_id: String,
    pub sku: String,
    pub return_ref: String,
    pub return_date: NaiveDate,
    pub returned_at: Option<DateTime<Utc>>,
    pub asin: Option<String>,
    pub fnsku: Option<String>,
    pub quantity: i64,
    pub reason: Option<String>,
    pub disposition: Option<String>,
    pub status: Option<String>,
    pub report_type: String,
    pub raw: serde_json::Map<String, serde_json::Value>,
}

pub fn write_returns(
    conn: &Connection,
    s: &Scope<'_>,
    rows: &[ReturnRow],
) -> Result<u64, StoreError> {
    let now = Value::Text(ts(s.now));
    let mut n = 0;
    for r in rows {
        let mut key = scope_key(s);
        key.push(("source", Value::Text(r.source.to_string())));
        key.push(("order_id", Value::Text(r.order_id.clone())));
        key.push(("sku", Value::Text(r.sku.clone())));
        key.push(("return_ref", Value::Text(r.return_ref.clone())));
        n += upsert(
            conn,
            "returns",
            &key,
            &[
                ("return_date", day(r.return_date)),
                ("returned_at", text(r.returned_at.map(ts).as_deref())),
                ("asin", text(r.asin.as_deref())),
                ("fnsku", text(r.fnsku.as_deref())),
                ("quantity", Value::Integer(r.quantity)),
                ("reason", text(r.reason.as_deref())),
                ("disposition", text(r.disposition.as_deref())),
                ("status", text(r.status.as_deref())),
                ("report_type", Value::Text(r.report_type.clone())),
                (
                    "raw_json",
                    Value::Text(serde_json::Value::Object(r.raw.clone()).to_string()),
                ),
            ],
            &[("fetched_at", now.clone())],
            &[],
        )?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Seller feedback

/// One row of GET_SELLER_FEEDBACK_DATA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedbackRow {
    pub order_id: String,
    pub feedback_date: NaiveDate,
    pub rating: i64,
    pub comments: Option<String>,
    pub your_response: Option<String>,
    pub arranged_fulfillment: Option<String>,
}

/// Upserts feedback. `first_seen_at` is set once and never overwritten;
/// `response_seen_at` is set the first time a non-empty response is seen
/// and kept; the acknowledgement columns are never touched. `last_seen_at`
/// follows every read (it is not counted as a change). Returns rows
/// inserted or changed.
pub fn write_feedback(
    conn: &Connection,
    s: &Scope<'_>,
    rows: &[FeedbackRow],
) -> Result<u64, StoreError> {
    let now = ts(s.now);
    let mut n = 0;
    for r in rows {
        let answered = r
            .your_response
            .as_deref()
            .is_some_and(|x| !x.trim().is_empty());
        n += conn
            .prepare_cached(
                "INSERT INTO seller_feedback (account, marketplace_id, order_id, feedback_date, rating,
                     comments, your_response, arranged_fulfillment, first_seen_at, last_seen_at,
                     response_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, CASE WHEN ?10 THEN ?9 END)
                 ON CONFLICT (account, marketplace_id, order_id) DO UPDATE SET
                     feedback_date = excluded.feedback_date, rating = excluded.rating,
                     comments = excluded.comments, your_response = excluded.your_response,
                     arranged_fulfillment = excluded.arranged_fulfillment,
                     response_seen_at = COALESCE(response_seen_at, excluded.response_seen_at)
                 WHERE feedback_date IS NOT excluded.feedback_date OR rating IS NOT excluded.rating
                     OR comments IS NOT excluded.comments OR your_response IS NOT excluded.your_response
                     OR arranged_fulfillment IS NOT excluded.arranged_fulfillment
                     OR (response_seen_at IS NULL AND excluded.response_seen_at IS NOT NULL)",
            )?
            .execute(params![
                s.account,
                s.marketplace_id,
                r.order_id,
                r.feedback_date.format("%Y-%m-%d").to_string(),
                r.rating,
                r.comments,
                r.your_response,
                r.arranged_fulfillment,
                now,
                answered,
            ])? as u64;
        conn.prepare_cached(
            "UPDATE seller_feedback SET last_seen_at = ?4
             WHERE account = ?1 AND marketplace_id = ?2 AND order_id = ?3 AND last_seen_at < ?4",
        )?
        .execute(params![s.account, s.marketplace_id, r.order_id, now])?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Account health

/// One marketplace's account health (every metric optional).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthRow {
    pub marketplace_id: String,
    pub account_status: Option<String>,
    pub health_rating_status: Option<String>,
    pub odr_mfn_rate: Option<f64>,
    pub odr_afn_rate: Option<f64>,
    pub late_shipment_rate: Option<f64>,
    pub pre_fulfillment_cancel_rate: Option<f64>,
    pub valid_tracking_rate: Option<f64>,
    pub on_time_delivery_rate: Option<f64>,
    pub invoice_defect_rate: Option<f64>,
    pub raw: serde_json::Value,
}

/// Upserts one snapshot per row's marketplace for `snapshot_date` (rows of
/// marketplaces not in `s`'s account are the caller's to filter).
pub fn write_health(
    conn: &Connection,
    account: &str,
    snapshot_date: NaiveDate,
    rows: &[HealthRow],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for r in rows {
        let key = vec![
            ("account", Value::Text(account.to_string())),
            ("marketplace_id", Value::Text(r.marketplace_id.clone())),
            ("snapshot_date", day(snapshot_date)),
        ];
        n += upsert(
            conn,
            "account_health_snapshots",
            &key,
            &[
                ("account_status", text(r.account_status.as_deref())),
                (
                    "health_rating_status",
                    text(r.health_rating_status.as_deref()),
                ),
                ("odr_mfn_rate", real(r.odr_mfn_rate)),
                ("odr_afn_rate", real(r.odr_afn_rate)),
                ("late_shipment_rate", real(r.late_shipment_rate)),
                (
                    "pre_fulfillment_cancel_rate",
                    real(r.pre_fulfillment_cancel_rate),
                ),
                ("valid_tracking_rate", real(r.valid_tracking_rate)),
                ("on_time_delivery_rate", real(r.on_time_delivery_rate)),
                ("invoice_defect_rate", real(r.invoice_defect_rate)),
                ("raw_json", Value::Text(r.raw.to_string())),
            ],
            &[("fetched_at", Value::Text(ts(now)))],
            &[],
        )?;
    }
    Ok(n)
}

/// The marketplaces configured for an account (rows for others would break
/// the foreign key: Amazon lists every marketplace of the region).
pub fn account_marketplaces(conn: &Connection, account: &str) -> Result<Vec<String>, StoreError> {
    let rows = super::all_rows(
        conn,
        "SELECT marketplace_id FROM marketplaces WHERE account = ?1 ORDER BY 1",
        params![account],
        |r| r.get::<_, String>(0),
    )?;
    Ok(rows)
}

/// Whether the account exists in the database (import checks it).
pub fn has_account(conn: &Connection, account: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM accounts WHERE name = ?1",
            params![account],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}
