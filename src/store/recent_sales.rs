//! An account's sales per day over the last 7 complete days of each of its
//! marketplaces ([`RecentSales`]): what `alert::stake` estimates money at
//! stake from. One small set of queries per account and round.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::config::Account;
use crate::model::sales::{MarketSales, RecentSales, RECENT_DAYS};
use crate::model::time::local_day;

/// Ordered product sales per day over the last [`RECENT_DAYS`] days before
/// `now`'s day in each marketplace of `account`:
/// - the marketplace's from the daily sales & traffic series (averaged
///   over the days it holds), else from orders;
/// - each ASIN's from the per-ASIN sales & traffic window of exactly those
///   days when it is synced (an ASIN absent from it sold nothing), else
///   from orders; each SKU's from orders.
///
/// Orders count only once they cover the first day (a history that starts
/// mid-week would understate every figure).
pub fn recent_sales(
    conn: &Connection,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<RecentSales, StoreError> {
    let mut out = RecentSales::default();
    let days = RECENT_DAYS as f64;
    for mp in account.marketplaces() {
        let today = local_day(&mp.tz, now);
        let (from, last) = (today - Duration::days(RECENT_DAYS), today - Duration::days(1));
        let (a, m, from, last) = (
            account.name.as_str(),
            mp.id,
            from.to_string(),
            last.to_string(),
        );
        let mut s = MarketSales {
            currency: mp.currency.to_string(),
            ..MarketSales::default()
        };
        let (n, sum): (i64, Option<f64>) = conn.query_row(
            "SELECT COUNT(ordered_product_sales), SUM(ordered_product_sales) FROM sales_traffic_daily
             WHERE account = ?1 AND marketplace_id = ?2 AND date >= ?3 AND date <= ?4",
            params![a, m, from, last],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if n > 0 {
            s.per_day = sum.map(|x| x / n as f64);
        }
        let window: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM sales_traffic_windows
                 WHERE account = ?1 AND marketplace_id = ?2 AND window_start = ?3 AND window_end = ?4",
                params![a, m, from, last],
                |r| r.get(0),
            )
            .optional()?;
        if window.is_some() {
            for (asin, sales) in super::all_rows(
                conn,
                "SELECT asin, ordered_product_sales FROM sales_traffic_asin
                 WHERE account = ?1 AND marketplace_id = ?2 AND window_start = ?3 AND window_end = ?4",
                params![a, m, from, last],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<f64>>(1)?)),
            )? {
                s.asins.insert(asin, sales.unwrap_or(0.0) / days);
            }
            s.known = true;
        }
        let first: Option<String> = conn.query_row(
            "SELECT MIN(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2",
            params![a, m],
            |r| r.get(0),
        )?;
        if first.is_some_and(|f| f <= from) {
            // As the snapshot counts sales: every order of the Amazon
            // channel that was not cancelled.
            let lines = super::all_rows(
                conn,
                "SELECT i.sku, i.asin, SUM(COALESCE(i.item_price, 0))
                 FROM orders o JOIN order_items i ON i.account = o.account AND i.order_id = o.order_id
                 WHERE o.account = ?1 AND o.marketplace_id = ?2 AND o.purchase_day >= ?3
                   AND o.purchase_day <= ?4 AND o.status <> 'canceled'
                   AND COALESCE(o.sales_channel, '') <> 'Non-Amazon'
                 GROUP BY i.sku, i.asin",
                params![a, m, from, last],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, f64>(2)?,
                    ))
                },
            )?;
            let mut total = 0.0;
            for (sku, asin, sales) in lines {
                total += sales;
                *s.skus.entry(sku).or_default() += sales / days;
                if let (false, Some(asin)) = (s.known, asin) {
                    *s.asins.entry(asin).or_default() += sales / days;
                }
            }
            s.per_day = s.per_day.or(Some(total / days));
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
        conn.execute(
            "INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency,
                 created_at, updated_at)
             VALUES ('a', ?1, 'US', 'America/Los_Angeles', 'USD', ?2, ?2)",
            params![US, T],
        )
        .unwrap();
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
        assert!(!s.marketplaces[US].known, "orders start after the first day");

        order(&conn, "0", "2026-03-01", "shipped", &[("S1", "B01", 5.0)]);
        let s = recent_sales(&conn, &account(), now()).unwrap();
        let us = &s.marketplaces[US];
        assert!(us.known);
        assert_eq!(us.per_day, Some(12.0));
        assert_eq!(us.asins.get("B01"), Some(&10.0));
        assert_eq!(us.skus.get("S2"), Some(&2.0));
    }

    #[test]
    fn the_sales_and_traffic_reports_come_first() {
        let conn = db();
        order(&conn, "0", "2026-03-01", "shipped", &[("S1", "B01", 5.0)]);
        order(&conn, "1", "2026-03-05", "shipped", &[("S1", "B01", 70.0)]);
        for (day, sales) in [("2026-03-08", 300.0), ("2026-03-09", 100.0), ("2026-03-02", 1e6)] {
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
        assert_eq!(us.asins.get("B01"), None, "absent from the window: sold nothing");
        assert_eq!(us.skus.get("S1"), Some(&10.0), "SKUs from orders");
    }
}
