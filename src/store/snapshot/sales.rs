//! Sales, traffic, orders and returns: the demand side of the snapshot.

use super::*;

pub(super) fn products(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    s.products.extend(crate::store::rows::<Product, _>(
        q.conn,
        "SELECT sku, asin, fulfillment_channel AS channel, title FROM products
         WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 ORDER BY sku",
        params![q.a, q.m, q.as_of_s],
    )?);
    Ok(())
}

pub(super) fn asin_windows(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let range = params![q.a, q.m, q.from_s, q.at_s];
    q.each_row(
        "SELECT window_start, window_end FROM sales_traffic_windows
         WHERE account = ?1 AND marketplace_id = ?2 AND window_end >= ?3 AND window_end < ?4",
        range,
        |r| {
            if let Some(w) = window_of(r)? {
                s.asin_windows.entry(w).or_default();
            }
            Ok(())
        },
    )?;
    q.each_row(
        "SELECT window_start, window_end, asin, sessions, page_views, buy_box_pct, units_ordered,
                ordered_product_sales
         FROM sales_traffic_asin
         WHERE account = ?1 AND marketplace_id = ?2 AND window_end >= ?3 AND window_end < ?4",
        range,
        |r| {
            if let Some(w) = window_of(r)? {
                s.asin_windows
                    .entry(w)
                    .or_default()
                    .insert(r.get(2)?, asin_window_at(r, 3)?);
            }
            Ok(())
        },
    )
}

/// The window (start, end) of a row whose first two columns are its days;
/// `None` when either is not a day.
fn window_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<(NaiveDate, NaiveDate)>> {
    let (ws, we): (String, String) = (r.get(0)?, r.get(1)?);
    Ok(parse_day(&ws).zip(parse_day(&we)))
}

/// An ASIN's window totals from a row whose columns from `i` are sessions,
/// page views, buy box %, units ordered and ordered product sales.
pub(crate) fn asin_window_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<AsinWindow> {
    Ok(AsinWindow {
        sessions: r.get(i)?,
        page_views: r.get(i + 1)?,
        buy_box_pct: r.get(i + 2)?,
        units_ordered: r.get(i + 3)?,
        ordered_product_sales: r.get(i + 4)?,
    })
}

pub(super) fn daily(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    s.daily = daily_rows(q.conn, q.a, q.m, &q.from_s, &q.at_s)?;
    Ok(())
}

/// The account's daily sales & traffic rows of the days `from..until`.
pub(crate) fn daily_rows(
    conn: &Connection,
    account: &str,
    marketplace: &str,
    from: &str,
    until: &str,
) -> Result<std::collections::BTreeMap<NaiveDate, DailyRow>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT date, sessions, units_ordered, total_order_items, ordered_product_sales,
                negative_feedback_received
         FROM sales_traffic_daily
         WHERE account = ?1 AND marketplace_id = ?2 AND date >= ?3 AND date < ?4",
    )?;
    let mut out = std::collections::BTreeMap::new();
    let mut rows = st.query(params![account, marketplace, from, until])?;
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            out.insert(
                d,
                DailyRow {
                    sessions: r.get(1)?,
                    units_ordered: r.get(2)?,
                    total_order_items: r.get(3)?,
                    ordered_product_sales: r.get(4)?,
                    negative_feedback_received: r.get(5)?,
                },
            );
        }
    }
    Ok(out)
}

pub(super) fn orders(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let (conn, a, m, as_of) = (q.conn, q.a, q.m, q.as_of);
    let first: Option<String> = conn.query_row(
        "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2 AND purchase_date <= ?3",
        params![a, m, q.as_of_s],
        |r| r.get(0),
    )?;
    if first.is_some() || job_ok(conn, a, "orders", as_of)? {
        let mut o = OrderDays {
            first_day: first.as_deref().and_then(parse_day),
            ..OrderDays::default()
        };
        // Units ordered count every non-cancelled order of the Amazon
        // channel (pending included, as Amazon's units ordered do).
        q.each_row(
            "SELECT i.sku, o.purchase_day, SUM(i.quantity), SUM(COALESCE(i.item_price, 0))
             FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
             WHERE o.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
               AND o.purchase_day < ?4 AND o.purchase_date <= ?5
               AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
             GROUP BY i.sku, o.purchase_day",
            params![a, m, q.from_s, q.at_s, q.as_of_s],
            |r| {
                let sku: String = r.get(0)?;
                let d: String = r.get(1)?;
                if let Some(d) = parse_day(&d) {
                    let day = OrderDay {
                        units: r.get(2)?,
                        sales: r.get(3)?,
                    };
                    o.by_sku.entry(sku).or_default().insert(d, day);
                }
                Ok(())
            },
        )?;
        let tz = s.time_zone;
        let since = day_start(&tz, parse_day(&q.from_s).unwrap_or(q.at));
        let until = day_start(&tz, q.at).min(as_of);
        o.shipped = shipped_units(conn, a, m, None, (since, until), tz)?;
        s.orders = Some(o);
    }
    Ok(())
}

/// What "units shipped" counts: shipped (or partially shipped) orders of
/// the Amazon channel, at their last update (when they shipped), as the
/// `kpi_return_rate` view counts them. `{sku}` narrows to one SKU.
pub(crate) const SQL_SHIPPED: &str = "
    SELECT i.sku, o.last_updated_date, SUM(COALESCE(i.quantity_shipped, i.quantity))
    FROM order_items i CROSS JOIN orders o ON o.account = i.account AND o.order_id = i.order_id
    WHERE i.account = ?1 {sku} AND o.marketplace_id = ?2
      AND o.last_updated_date >= ?3 AND o.last_updated_date < ?4
      AND o.status IN ('shipped', 'partially_shipped') AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
    GROUP BY i.sku, o.last_updated_date";

/// Units shipped per SKU (only `sku`, when given) and marketplace day of
/// shipping, for orders shipped in `since..until` (SQLite cannot convert
/// named zones, so the days are grouped here).
pub(crate) fn shipped_units(
    conn: &Connection,
    account: &str,
    marketplace: &str,
    sku: Option<&str>,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
    tz: chrono_tz::Tz,
) -> Result<HashMap<String, std::collections::BTreeMap<NaiveDate, i64>>, StoreError> {
    // One SKU: its lines drive (order_items_by_sku); every SKU: the orders
    // of the shipping range do (orders_by_last_update).
    let sql = match sku {
        Some(_) => SQL_SHIPPED.replace("{sku}", "AND i.sku = ?5"),
        None => SQL_SHIPPED.replace("{sku}", "").replace(
            "order_items i CROSS JOIN orders o",
            "orders o JOIN order_items i",
        ),
    };
    let mut st = conn.prepare_cached(&sql)?;
    let (since, until) = (ts(since), ts(until));
    let mut rows = match sku {
        Some(k) => st.query(params![account, marketplace, since, until, k])?,
        None => st.query(params![account, marketplace, since, until])?,
    };
    let mut out: HashMap<String, std::collections::BTreeMap<NaiveDate, i64>> = HashMap::new();
    while let Some(r) = rows.next()? {
        let t: String = r.get(1)?;
        let Some(t) = parse_ts(&t) else { continue };
        let units: Option<i64> = r.get(2)?;
        *out.entry(r.get(0)?)
            .or_default()
            .entry(t.with_timezone(&tz).date_naive())
            .or_default() += units.unwrap_or(0);
    }
    Ok(out)
}

pub(super) fn returns(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let any_row = "SELECT 1 FROM returns WHERE account = ?1 LIMIT 1";
    if !job_or_rows(q.conn, q.a, "returns", q.as_of, any_row)? {
        return Ok(());
    }
    let mut out = Vec::new();
    q.each_row(
        "SELECT sku, return_date, quantity, reason FROM returns
         WHERE account = ?1 AND marketplace_id = ?2 AND return_date >= ?3 AND return_date < ?4
           AND fetched_at <= ?5",
        params![q.a, q.m, q.from_s, q.at_s, q.as_of_s],
        |r| {
            let d: String = r.get(1)?;
            if let Some(date) = parse_day(&d) {
                out.push(ReturnRow {
                    sku: r.get(0)?,
                    date,
                    quantity: r.get(2)?,
                    reason: r.get(3)?,
                });
            }
            Ok(())
        },
    )?;
    s.returns = Some(out);
    Ok(())
}
