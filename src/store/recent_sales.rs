//! An account's recent sales per day in each of its marketplaces
//! ([`RecentSales`]): what `alert::stake` estimates money at stake from.
//! One small set of queries per account and round.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::config::Account;
use crate::model::sales::{MarketSales, RecentSales, PRODUCT_WINDOWS, RECENT_DAYS};
use crate::model::time::local_day;

/// Ordered product sales per day in each marketplace of `account`, as of
/// `now`'s day there:
/// - the marketplace's over the last [`RECENT_DAYS`] days, from the daily
///   sales & traffic series (averaged over the days it holds), else from
///   orders;
/// - each ASIN's best rate of the [`PRODUCT_WINDOWS`], from the per-ASIN
///   sales & traffic window of those days where it is synced (an ASIN
///   absent from it sold nothing), else from orders; each SKU's from
///   orders.
///
/// Orders count for a window only once they cover its first day (a
/// history that starts inside it would understate every figure).
pub fn recent_sales(
    conn: &Connection,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<RecentSales, StoreError> {
    let mut out = RecentSales::default();
    for mp in account.marketplaces() {
        let today = local_day(&mp.tz, now);
        let first_of = |n: i64| (today - Duration::days(n)).to_string();
        let last = (today - Duration::days(1)).to_string();
        let (a, m) = (account.name.as_str(), mp.id);
        let mut s = MarketSales {
            currency: mp.currency.to_string(),
            ..MarketSales::default()
        };
        let best = |map: &mut std::collections::BTreeMap<String, f64>, k: String, v: f64| {
            let e = map.entry(k).or_insert(v);
            *e = e.max(v);
        };
        let (n, sum): (i64, Option<f64>) = conn.query_row(
            "SELECT COUNT(ordered_product_sales), SUM(ordered_product_sales) FROM sales_traffic_daily
             WHERE account = ?1 AND marketplace_id = ?2 AND date >= ?3 AND date <= ?4",
            params![a, m, first_of(RECENT_DAYS), last],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if n > 0 {
            s.per_day = sum.map(|x| x / n as f64);
        }
        // The windows the per-ASIN report covers; orders fill the others.
        let mut from_report = Vec::new();
        for days in PRODUCT_WINDOWS {
            let from = first_of(days);
            let stored: Option<i64> = conn
                .query_row(
                    "SELECT 1 FROM sales_traffic_windows WHERE account = ?1 AND marketplace_id = ?2
                       AND window_start = ?3 AND window_end = ?4",
                    params![a, m, from, last],
                    |r| r.get(0),
                )
                .optional()?;
            if stored.is_none() {
                continue;
            }
            from_report.push(days);
            for (asin, sales) in super::all_rows(
                conn,
                "SELECT asin, ordered_product_sales FROM sales_traffic_asin
                 WHERE account = ?1 AND marketplace_id = ?2 AND window_start = ?3 AND window_end = ?4",
                params![a, m, from, last],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<f64>>(1)?)),
            )? {
                best(&mut s.asins, asin, sales.unwrap_or(0.0) / days as f64);
            }
            s.known = true;
        }
        let first: Option<String> = conn.query_row(
            "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2",
            params![a, m],
            |r| r.get(0),
        )?;
        let covered: Vec<i64> = PRODUCT_WINDOWS
            .into_iter()
            .filter(|d| first.as_ref().is_some_and(|f| *f <= first_of(*d)))
            .collect();
        if let Some(longest) = covered.iter().max() {
            // As the snapshot counts sales: every order of the Amazon
            // channel that was not cancelled; one sum per window.
            let lines = super::all_rows(
                conn,
                "SELECT i.sku, i.asin,
                        SUM(CASE WHEN o.purchase_day >= ?5 THEN COALESCE(i.item_price, 0) END),
                        SUM(CASE WHEN o.purchase_day >= ?6 THEN COALESCE(i.item_price, 0) END),
                        SUM(CASE WHEN o.purchase_day >= ?7 THEN COALESCE(i.item_price, 0) END)
                 FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
                 WHERE o.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
                   AND o.purchase_day <= ?4 AND o.status <> 'canceled'
                   AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
                 GROUP BY i.sku, i.asin",
                params![
                    a,
                    m,
                    first_of(*longest),
                    last,
                    first_of(PRODUCT_WINDOWS[0]),
                    first_of(PRODUCT_WINDOWS[1]),
                    first_of(PRODUCT_WINDOWS[2])
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        [
                            r.get::<_, Option<f64>>(2)?,
                            r.get::<_, Option<f64>>(3)?,
                            r.get::<_, Option<f64>>(4)?,
                        ],
                    ))
                },
            )?;
            let mut week = 0.0;
            for (sku, asin, sums) in lines {
                week += sums[0].unwrap_or(0.0);
                for (days, sales) in PRODUCT_WINDOWS.into_iter().zip(sums) {
                    if !covered.contains(&days) {
                        continue;
                    }
                    let rate = sales.unwrap_or(0.0) / days as f64;
                    best(&mut s.skus, sku.clone(), rate);
                    if let (false, Some(asin)) = (from_report.contains(&days), &asin) {
                        best(&mut s.asins, asin.clone(), rate);
                    }
                }
            }
            if covered.contains(&RECENT_DAYS) {
                s.per_day = s.per_day.or(Some(week / RECENT_DAYS as f64));
            }
            s.known = true;
        }
        out.marketplaces.insert(m.to_string(), s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "2026-03-01T00:00:00Z";
    const US: &str = "ATVPDKIKX0DER";

    fn db() -> Connection {
        let conn = crate::store::testing::db();
        crate::store::testing::add_marketplace(&conn, "a", US);
        conn
    }

    fn account() -> Account {
        Account {
            name: "a".into(),
            marketplaces: vec!["US".into()],
            ..Account::default()
        }
    }

    /// 2026-03-10 16:00 UTC is 08:00 on the 10th in Los Angeles: the days
    /// are 2026-03-03 ..= 2026-03-09.
    fn now() -> DateTime<Utc> {
        "2026-03-10T16:00:00Z".parse().unwrap()
    }

    fn order(conn: &Connection, id: &str, day: &str, status: &str, lines: &[(&str, &str, f64)]) {
        conn.execute(
            "INSERT INTO orders (account, order_id, marketplace_id, purchase_date, purchase_day,
                 last_updated_date, status, raw_status, sales_channel, source, fetched_at)
             VALUES ('a', ?1, ?2, ?3, ?4, ?3, ?5, ?5, 'Amazon.com', 'api', ?3)",
            params![id, US, format!("{day}T20:00:00Z"), day, status],
        )
        .unwrap();
        for (sku, asin, price) in lines {
            conn.execute(
                "INSERT INTO order_items (account, order_id, sku, asin, quantity, item_price)
                 VALUES ('a', ?1, ?2, ?3, 1, ?4)",
                params![id, sku, asin, price],
            )
            .unwrap();
        }
    }

    #[test]
    fn nothing_synced_is_unknown() {
        let s = recent_sales(&db(), &account(), now()).unwrap();
        let us = &s.marketplaces[US];
        assert_eq!(us.currency, "USD");
        assert_eq!((us.per_day, us.known), (None, false));
        assert!(us.asins.is_empty() && us.skus.is_empty());
    }

    #[test]
    fn orders_give_every_figure_once_they_cover_the_days() {
        let conn = db();
        order(&conn, "1", "2026-03-05", "shipped", &[("S1", "B01", 70.0)]);
        // Outside the days, cancelled: not counted.
        order(&conn, "2", "2026-03-10", "shipped", &[("S1", "B01", 99.0)]);
        order(&conn, "3", "2026-03-06", "canceled", &[("S1", "B01", 99.0)]);
        order(&conn, "4", "2026-03-09", "pending", &[("S2", "B02", 14.0)]);
        let s = recent_sales(&conn, &account(), now()).unwrap();
        assert!(
            !s.marketplaces[US].known,
            "orders start after the first day"
        );

        order(&conn, "0", "2026-03-01", "shipped", &[("S1", "B01", 5.0)]);
        let s = recent_sales(&conn, &account(), now()).unwrap();
        let us = &s.marketplaces[US];
        assert!(us.known);
        assert_eq!(us.per_day, Some(12.0));
        assert_eq!(us.asins.get("B01"), Some(&10.0));
        assert_eq!(us.skus.get("S2"), Some(&2.0));

        // Out of stock for the last 7 days: the 14 days show what it sold.
        order(&conn, "00", "2026-02-20", "shipped", &[("S1", "B01", 5.0)]);
        order(&conn, "5", "2026-02-25", "shipped", &[("S3", "B03", 28.0)]);
        let s = recent_sales(&conn, &account(), now()).unwrap();
        let us = &s.marketplaces[US];
        assert_eq!(us.asins.get("B03"), Some(&2.0), "28 over 14 days");
        assert_eq!(us.skus.get("S3"), Some(&2.0));
        assert_eq!(us.asins.get("B01"), Some(&10.0), "the best window");
        assert_eq!(us.per_day, Some(12.0), "the marketplace's last 7 days");
    }

    #[test]
    fn the_sales_and_traffic_reports_come_first() {
        let conn = db();
        order(&conn, "0", "2026-03-01", "shipped", &[("S1", "B01", 5.0)]);
        order(&conn, "1", "2026-03-05", "shipped", &[("S1", "B01", 70.0)]);
        for (day, sales) in [
            ("2026-03-08", 300.0),
            ("2026-03-09", 100.0),
            ("2026-03-02", 1e6),
        ] {
            conn.execute(
                "INSERT INTO sales_traffic_daily (account, marketplace_id, date, ordered_product_sales,
                     fetched_at) VALUES ('a', ?1, ?2, ?3, ?4)",
                params![US, day, sales, T],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO sales_traffic_windows (account, marketplace_id, window_start, window_end,
                 asin_rows, fetched_at) VALUES ('a', ?1, '2026-03-03', '2026-03-09', 1, ?2)",
            params![US, T],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO sales_traffic_asin (account, marketplace_id, asin, window_start, window_end,
                 ordered_product_sales, fetched_at)
             VALUES ('a', ?1, 'B02', '2026-03-03', '2026-03-09', 140.0, ?2)",
            params![US, T],
        )
        .unwrap();
        let s = recent_sales(&conn, &account(), now()).unwrap();
        let us = &s.marketplaces[US];
        assert_eq!(us.per_day, Some(200.0), "the days the series holds");
        assert_eq!(us.asins.get("B02"), Some(&20.0));
        assert_eq!(
            us.asins.get("B01"),
            None,
            "absent from the window: sold nothing"
        );
        assert_eq!(us.skus.get("S1"), Some(&10.0), "SKUs from orders");
    }
}
