//! Sales, traffic, orders and returns: the demand side of the snapshot.

use super::*;

pub(super) fn products(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let Query {
        conn,
        a,
        m,
        ref as_of_s,
        ..
    } = *q;
    let mut st = conn.prepare(
        "SELECT sku, asin, fulfillment_channel, title FROM products
         WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 ORDER BY sku",
    )?;
    s.products = st
        .query_map(params![a, m, as_of_s], |r| {
            Ok(Product {
                sku: r.get(0)?,
                asin: r.get(1)?,
                channel: r.get(2)?,
                title: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(())
}

pub(super) fn asin_windows(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let Query {
        conn,
        a,
        m,
        ref from_s,
        ref at_s,
        ..
    } = *q;
    let mut st = conn.prepare(
        "SELECT window_start, window_end FROM sales_traffic_windows
         WHERE account = ?1 AND marketplace_id = ?2 AND window_end >= ?3 AND window_end < ?4",
    )?;
    let windows: Vec<(String, String)> = st
        .query_map(params![a, m, from_s, at_s], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (ws, we) in &windows {
        if let (Some(x), Some(y)) = (parse_day(ws), parse_day(we)) {
            s.asin_windows.entry((x, y)).or_default();
        }
    }
    let mut st = conn.prepare(
        "SELECT window_start, window_end, asin, sessions, page_views, buy_box_pct, units_ordered,
                ordered_product_sales
         FROM sales_traffic_asin
         WHERE account = ?1 AND marketplace_id = ?2 AND window_end >= ?3 AND window_end < ?4",
    )?;
    let mut rows = st.query(params![a, m, from_s, at_s])?;
    while let Some(r) = rows.next()? {
        let (ws, we): (String, String) = (r.get(0)?, r.get(1)?);
        let (Some(x), Some(y)) = (parse_day(&ws), parse_day(&we)) else {
            continue;
        };
        s.asin_windows.entry((x, y)).or_default().insert(
            r.get(2)?,
            AsinWindow {
                sessions: r.get(3)?,
                page_views: r.get(4)?,
                buy_box_pct: r.get(5)?,
                units_ordered: r.get(6)?,
                ordered_product_sales: r.get(7)?,
            },
        );
    }
    Ok(())
}

pub(super) fn daily(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let Query {
        conn,
        a,
        m,
        ref from_s,
        ref at_s,
        ..
    } = *q;
    let mut st = conn.prepare(
        "SELECT date, sessions, units_ordered, total_order_items, ordered_product_sales,
                negative_feedback_received
         FROM sales_traffic_daily
         WHERE account = ?1 AND marketplace_id = ?2 AND date >= ?3 AND date < ?4",
    )?;
    let mut rows = st.query(params![a, m, from_s, at_s])?;
    while let Some(r) = rows.next()? {
        let d: String = r.get(0)?;
        if let Some(d) = parse_day(&d) {
            s.daily.insert(
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
    Ok(())
}

pub(super) fn orders(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let Query {
        conn,
        a,
        m,
        as_of,
        ref from_s,
        ref at_s,
        ref as_of_s,
        ..
    } = *q;
    let first: Option<String> = conn.query_row(
        "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2 AND purchase_date <= ?3",
        params![a, m, as_of_s],
        |r| r.get(0),
    )?;
    if first.is_some() || job_ok(conn, a, "orders", as_of)? {
        let mut o = OrderDays {
            first_day: first.as_deref().and_then(parse_day),
            ..OrderDays::default()
        };
        // Units ordered count every non-cancelled order of the Amazon
        // channel (pending included, as Amazon's units ordered do);
        // shipped units are those of orders shipped by now.
        let mut st = conn.prepare(
            "SELECT i.sku, o.purchase_day, SUM(i.quantity),
                    SUM(CASE WHEN o.status = 'shipped' THEN COALESCE(i.quantity_shipped, i.quantity)
                             WHEN o.status = 'partially_shipped' THEN COALESCE(i.quantity_shipped, 0)
                             ELSE 0 END),
                    SUM(COALESCE(i.item_price, 0))
             FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
             WHERE o.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
               AND o.purchase_day < ?4 AND o.purchase_date <= ?5
               AND o.status <> 'canceled' AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
             GROUP BY i.sku, o.purchase_day",
        )?;
        let mut rows = st.query(params![a, m, from_s, at_s, as_of_s])?;
        while let Some(r) = rows.next()? {
            let sku: String = r.get(0)?;
            let d: String = r.get(1)?;
            let Some(d) = parse_day(&d) else { continue };
            o.by_sku.entry(sku).or_default().insert(
                d,
                OrderDay {
                    units: r.get(2)?,
                    units_shipped: r.get(3)?,
                    sales: r.get(4)?,
                },
            );
        }
        s.orders = Some(o);
    }
    Ok(())
}

pub(super) fn returns(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let Query {
        conn,
        a,
        m,
        as_of,
        ref from_s,
        ref at_s,
        ref as_of_s,
        ..
    } = *q;
    if !(job_or_rows(
        conn,
        a,
        "returns",
        as_of,
        "SELECT 1 FROM returns WHERE account = ?1 LIMIT 1",
    )?) {
        return Ok(());
    }
    let mut st = conn.prepare(
        "SELECT sku, return_date, quantity, reason FROM returns
         WHERE account = ?1 AND marketplace_id = ?2 AND return_date >= ?3 AND return_date < ?4
           AND fetched_at <= ?5",
    )?;
    let rows = st
        .query_map(params![a, m, from_s, at_s, as_of_s], |r| {
            let d: String = r.get(1)?;
            Ok((
                r.get::<_, String>(0)?,
                d,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    s.returns = Some(
        rows.into_iter()
            .filter_map(|(sku, d, quantity, reason)| {
                Some(ReturnRow {
                    sku,
                    date: parse_day(&d)?,
                    quantity,
                    reason,
                })
            })
            .collect(),
    );
    Ok(())
}
