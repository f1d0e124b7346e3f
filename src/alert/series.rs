//! An alert's trend chart: the stored history of its subject
//! (`store::series`) with its rule's metric applied to the window ending on
//! each day (`rules::series`), so the chart ends on the number the finding
//! states and draws the finding's own threshold.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;

use super::{Item, Series};
use crate::config::Config;
use crate::store::StoreError;

/// The chart of `item` over the `days` days before `at` (a marketplace
/// day; point-in-time rules end on `at`), from the data known at `as_of`
/// (the instant the finding was evaluated). `None` for rules without a
/// daily series and for items lacking the keys their rule needs.
pub fn for_item(
    conn: &Connection,
    cfg: &Config,
    item: &Item,
    at: NaiveDate,
    as_of: DateTime<Utc>,
    days: u32,
) -> Result<Option<Series>, StoreError> {
    let from = crate::rules::series::first_day(cfg, item, at, days);
    let Some(history) = crate::store::series::history(conn, cfg, item, from, at, as_of)? else {
        return Ok(None);
    };
    Ok(crate::rules::series::chart(cfg, item, &history, at, days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::series::ItemKind;
    use rusqlite::params;
    use serde_json::json;

    const MP: &str = "ATVPDKIKX0DER";

    fn cfg() -> Config {
        crate::config::test_config("")
    }

    /// A migrated in-memory database with the account and marketplace.
    fn db() -> Connection {
        let mut conn = crate::store::in_memory().unwrap();
        crate::store::ops::sync_accounts(&mut conn, &cfg(), Utc::now()).unwrap();
        conn
    }

    fn item(finding: serde_json::Value) -> Item {
        Item::from_finding_json(&finding, ItemKind::Firing, "fp", Utc::now()).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Long after every fixture: everything stored is known.
    fn later() -> DateTime<Utc> {
        t("2026-06-01T00:00:00Z")
    }

    fn chart(conn: &Connection, c: &Config, it: &Item, at: &str, days: u32) -> Option<Series> {
        for_item(conn, c, it, d(at), later(), days).unwrap()
    }

    fn values(s: &Series) -> Vec<Option<f64>> {
        s.points.iter().map(|p| p.1).collect()
    }

    const T: &str = "2026-03-01T00:00:00Z";

    fn window(conn: &Connection, start: &str, end: &str, asin_row: Option<(i64, i64)>) {
        conn.execute(
            "INSERT INTO sales_traffic_windows VALUES ('a', ?1, ?2, ?3, 1, ?4)",
            params![MP, start, end, T],
        )
        .unwrap();
        if let Some((sessions, units)) = asin_row {
            conn.execute(
                "INSERT INTO sales_traffic_asin (account, marketplace_id, asin, window_start,
                     window_end, sessions, units_ordered, fetched_at)
                 VALUES ('a', ?1, 'B0A', ?2, ?3, ?4, ?5, ?6)",
                params![MP, start, end, sessions, units, T],
            )
            .unwrap();
        }
    }

    #[test]
    fn conversion_rate_is_the_rolling_window_with_gaps() {
        let conn = db();
        // 14-day windows ending 03-05, 03-06 (ASIN absent: no orders) and
        // 03-08; none stored ending 03-07. A 7-day window must not count.
        for (start, end, row) in [
            ("2026-02-20", "2026-03-05", Some((200, 24))),
            ("2026-02-21", "2026-03-06", None),
            ("2026-02-23", "2026-03-08", Some((100, 7))),
            ("2026-03-02", "2026-03-08", Some((50, 40))),
        ] {
            window(&conn, start, end, row);
        }
        // The finding fired on the drop: its threshold is the rate the drop
        // limit reaches (not the configured floor, 12).
        let it = item(
            json!({"rule": "conversion_rate", "severity": "warning", "account": "a",
            "marketplace": MP, "asin": "B0A", "value": 7.0, "threshold": 9.6,
            "window": {"start": "2026-02-23", "end": "2026-03-08"}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-03-09", 5).unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-03-04"), None),
                (d("2026-03-05"), Some(12.0)),
                (d("2026-03-06"), None), // absent from a stored window: unknown
                (d("2026-03-07"), None), // no window stored
                (d("2026-03-08"), Some(7.0)),
            ]
        );
        assert_eq!(s.threshold, Some(9.6));
        assert!(
            s.label.contains("14 days") && s.label.contains('%'),
            "{}",
            s.label
        );
        // growth_stall reads the same windows: absent is 0 units (known).
        let it = item(
            json!({"rule": "growth_stall", "severity": "warning", "account": "a",
            "marketplace": MP, "asin": "B0A", "value": 7.0, "threshold": 24.0,
            "window": {"start": "2026-02-23", "end": "2026-03-08"}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-03-09", 5).unwrap();
        assert_eq!(
            values(&s),
            vec![None, Some(24.0), Some(0.0), None, Some(7.0)]
        );
        assert_eq!(s.threshold, Some(24.0));
    }

    #[test]
    fn traffic_trend_plots_sessions_with_the_level_its_drop_limit_reaches() {
        let conn = db();
        window(&conn, "2026-02-23", "2026-03-01", Some((1000, 10)));
        window(&conn, "2026-03-02", "2026-03-08", Some((700, 10)));
        let it = item(
            json!({"rule": "traffic_trend", "severity": "warning", "account": "a",
            "marketplace": MP, "asin": "B0A", "value": 30.0, "threshold": 25.0,
            "window": {"start": "2026-03-02", "end": "2026-03-08"},
            "evidence": {"sessions": 700.0, "prior_sessions": 1000.0}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-03-09", 8).unwrap();
        let v = values(&s);
        // The drop the finding states is the change between the chart's
        // points one window apart.
        assert_eq!((v[0], v[7]), (Some(1000.0), Some(700.0)));
        assert_eq!(s.threshold, Some(750.0));
    }

    fn order(conn: &Connection, id: &str, day: &str, status: &str, updated: &str, qty: i64) {
        conn.execute(
            "INSERT INTO orders (account, order_id, marketplace_id, purchase_date, purchase_day,
                 last_updated_date, status, raw_status, source, fetched_at)
             VALUES ('a', ?1, ?2, ?3, ?4, ?5, ?6, 'Shipped', 'api', ?5)",
            params![id, MP, format!("{day}T18:00:00Z"), day, updated, status],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO order_items (account, order_id, sku, asin, quantity, item_price)
             VALUES ('a', ?1, 'SKU-1', 'B0A', ?2, ?3)",
            params![id, qty, qty as f64 * 10.0],
        )
        .unwrap();
    }

    #[test]
    fn stockout_risk_plots_days_of_cover_at_the_last_observation_of_each_day() {
        let conn = db();
        // 2 units a day from 02-19 on.
        for k in 0..16 {
            let day = d("2026-02-19") + chrono::Duration::days(k);
            order(&conn, &format!("o{k}"), &day.to_string(), "shipped", T, 2);
        }
        for (at, day, units) in [
            ("2026-03-05T08:00:00Z", "2026-03-05", 30),
            ("2026-03-05T20:00:00Z", "2026-03-05", 12),
            ("2026-03-07T08:00:00Z", "2026-03-07", 0),
        ] {
            conn.execute(
                "INSERT INTO inventory_snapshots (account, marketplace_id, sku, source, observed_at,
                     observed_day, fulfillable)
                 VALUES ('a', ?1, 'SKU-1', 'fba_inventory', ?2, ?3, ?4)",
                params![MP, at, day, units],
            )
            .unwrap();
        }
        let it = item(
            json!({"rule": "stockout_risk", "severity": "critical", "account": "a",
            "marketplace": MP, "sku": "SKU-1", "value": 0.0, "threshold": 37.0,
            "window": {"start": "2026-02-21", "end": "2026-03-06"}}),
        );
        // Stock is judged "now": the series ends on the date itself.
        let s = chart(&conn, &cfg(), &it, "2026-03-07", 3).unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-03-05"), Some(6.0)), // 12 units at 2 a day
                (d("2026-03-06"), None),      // not observed: a gap, not 0
                (d("2026-03-07"), Some(0.0)),
            ]
        );
        // Days of cover against the finding's lead time + safety days.
        assert_eq!(s.threshold, Some(37.0));
        // As of the morning of 03-05, the evening's observation is unknown.
        let s = for_item(
            &conn,
            &cfg(),
            &it,
            d("2026-03-05"),
            t("2026-03-05T12:00:00Z"),
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(values(&s), vec![Some(15.0)]);
    }

    #[test]
    fn return_rate_counts_units_on_the_day_they_shipped() {
        let conn = db();
        // Bought before the window, shipped in it: counts. Bought in it,
        // shipped after it: does not. Pending: never.
        order(
            &conn,
            "o1",
            "2026-02-20",
            "shipped",
            "2026-03-02T18:00:00Z",
            10,
        );
        order(
            &conn,
            "o2",
            "2026-03-03",
            "shipped",
            "2026-03-09T18:00:00Z",
            50,
        );
        order(
            &conn,
            "o3",
            "2026-03-03",
            "pending",
            "2026-03-03T18:00:00Z",
            50,
        );
        conn.execute(
            "INSERT INTO returns (account, marketplace_id, source, order_id, sku, return_ref,
                 return_date, quantity, report_type, fetched_at)
             VALUES ('a', ?1, 'fba', 'o1', 'SKU-1', 'r1', '2026-03-04', 1, 'fba_returns', ?2)",
            params![MP, T],
        )
        .unwrap();
        let it = item(
            json!({"rule": "return_rate", "severity": "warning", "account": "a",
            "marketplace": MP, "sku": "SKU-1", "value": 10.0, "threshold": 3.0,
            "window": {"start": "2026-03-01", "end": "2026-03-07"}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-03-08", 1).unwrap();
        assert_eq!(s.points, vec![(d("2026-03-07"), Some(10.0))]);
        assert_eq!(s.threshold, Some(3.0));
        // Windows the orders do not reach back to are unknown.
        let s = chart(&conn, &cfg(), &it, "2026-02-25", 1).unwrap();
        assert_eq!(values(&s), vec![None]);
    }

    fn ads_fixture(conn: &Connection) {
        conn.execute(
            "INSERT INTO ads_profiles (profile_id, account, country_code, currency, timezone,
                 marketplace_id, account_type, fetched_at)
             VALUES (7, 'a', 'US', 'USD', 'America/Los_Angeles', ?1, 'seller', ?2)",
            params![MP, T],
        )
        .unwrap();
        // Campaign 1005 (SP) and 2001 (SB) over 02-01 … 02-05; 02-03 has no row
        // for 1005; SB reads sales_14d.
        for (product, campaign, date, cost, s7, s14) in [
            ("SP", 1005, "2026-02-01", 10.0, 40.0, 50.0),
            ("SP", 1005, "2026-02-02", 20.0, 0.0, 0.0),
            ("SP", 1005, "2026-02-04", 30.0, 100.0, 120.0),
            ("SP", 1005, "2026-02-05", 5.0, 20.0, 20.0),
            ("SB", 2001, "2026-02-03", 10.0, 0.0, 20.0),
        ] {
            conn.execute(
                "INSERT INTO ads_campaign_daily (profile_id, ad_product, date, campaign_id,
                     impressions, clicks, cost, sales_7d, sales_14d, currency, fetched_at)
                 VALUES (7, ?1, ?2, ?3, 100, 10, ?4, ?5, ?6, 'USD', ?7)",
                params![product, date, campaign, cost, s7, s14, T],
            )
            .unwrap();
        }
    }

    #[test]
    fn acos_band_is_the_matured_window_ending_each_day() {
        let conn = db();
        ads_fixture(&conn);
        // Attribution 7 days: as of 02-13 the matured series ends 02-05. A
        // one-day window shows each day's own ACoS.
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP, "campaign_id": "1005", "value": 25.0, "threshold": 25.0,
            "window": {"start": "2026-02-05", "end": "2026-02-05"}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-02-13", 5).unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-02-01"), Some(25.0)),
                (d("2026-02-02"), None), // spend without sales: ACoS infinite, not plotted
                (d("2026-02-03"), None), // no spend, no sales
                (d("2026-02-04"), Some(30.0)),
                (d("2026-02-05"), Some(25.0)),
            ]
        );
        assert_eq!(s.threshold, Some(25.0));
        // Two-day windows: ratios of sums, never averaged daily ratios.
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP, "campaign_id": "1005", "value": 29.1667, "threshold": 25.0,
            "window": {"start": "2026-02-04", "end": "2026-02-05"}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-02-13", 1).unwrap();
        assert_eq!(
            s.points,
            vec![(d("2026-02-05"), Some(35.0 * 100.0 / 120.0))]
        );
        // Before the synced Ads days: not covered, unknown.
        let s = chart(&conn, &cfg(), &it, "2026-02-09", 1).unwrap();
        assert_eq!(values(&s), vec![None]);
        // The marketplace band sums every campaign (SB on its 14-day sales).
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP, "value": 50.0, "threshold": 25.0,
            "window": {"start": "2026-02-03", "end": "2026-02-03"}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-02-13", 5).unwrap();
        assert_eq!(s.points[2], (d("2026-02-03"), Some(50.0)));
    }

    #[test]
    fn wasted_spend_is_the_terms_clicks_zero_on_synced_days_without_clicks() {
        let conn = db();
        ads_fixture(&conn);
        conn.execute(
            "INSERT INTO ads_search_term_daily (profile_id, ad_product, date, campaign_id, ad_group_id,
                 keyword_id, search_term, impressions, clicks, cost, currency, fetched_at)
             VALUES (7, 'SP', '2026-02-02', 1005, 1, 0, 'red mug', 50, 5, 3.5, 'USD', ?1)",
            params![T],
        )
        .unwrap();
        let it = item(
            json!({"rule": "wasted_spend", "severity": "warning", "account": "a",
            "marketplace": MP, "campaign_id": "1005", "search_term": "red mug",
            "value": 5.0, "threshold": 15.0,
            "window": {"start": "2026-02-07", "end": "2026-02-07"}}),
        );
        // Matured: as of 02-15 the series ends 02-07.
        let s = chart(&conn, &cfg(), &it, "2026-02-15", 7).unwrap();
        // 02-01 … 02-05 synced (0 or clicks); 02-06, 02-07 beyond the Ads data.
        assert_eq!(
            values(&s),
            vec![
                Some(0.0),
                Some(5.0),
                Some(0.0),
                Some(0.0),
                Some(0.0),
                None,
                None
            ]
        );
        assert_eq!(s.threshold, Some(15.0));
    }

    #[test]
    fn margin_floor_is_the_windows_margin_at_todays_cost_and_fees() {
        let conn = db();
        let dir = tempfile::tempdir().unwrap();
        order(&conn, "o1", "2026-03-02", "shipped", T, 2);
        order(&conn, "o2", "2026-03-04", "shipped", T, 3);
        conn.execute(
            "INSERT INTO fee_estimates (account, marketplace_id, sku, price, currency,
                 is_amazon_fulfilled, total_fees, estimated_at)
             VALUES ('a', ?1, 'SKU-1', 10.0, 'USD', 1, 2.0, ?2)",
            params![MP, T],
        )
        .unwrap();
        let costs = dir.path().join("costs.csv");
        std::fs::write(&costs, "sku,unit_cost,inbound_freight\nSKU-1,5,1\n").unwrap();
        let mut c = cfg();
        c.costs_file = Some(costs);
        let it = item(
            json!({"rule": "margin_floor", "severity": "warning", "account": "a",
            "marketplace": MP, "sku": "SKU-1", "value": 20.0, "threshold": 30.0,
            "window": {"start": "2026-03-04", "end": "2026-03-04"}}),
        );
        let s = chart(&conn, &c, &it, "2026-03-05", 4).unwrap();
        // 10 a unit − 5 − 1 − 2 fees = 2, 20% of the price; no sales 03-03;
        // before the first order, unknown.
        assert_eq!(values(&s), vec![None, Some(20.0), None, Some(20.0)]);
        assert_eq!(s.threshold, Some(30.0));
    }

    #[test]
    fn review_topics_end_on_the_month_the_rule_read() {
        let conn = db();
        // Monthly points up to the running month (it began before the date,
        // so the rule reads it: the 19.0% a headline states).
        for (start, end, share) in [
            ("2025-12-01", "2025-12-31", 12.0),
            ("2026-01-01", "2026-01-31", 13.0),
            ("2026-02-01", "2026-02-28", 14.7),
            ("2026-03-01", "2026-03-31", 19.0),
        ] {
            conn.execute(
                "INSERT INTO review_topic_trends (account, marketplace_id, subject_kind, subject_id,
                     sentiment, topic, period_start, period_end, occurrence_pct, fetched_at)
                 VALUES ('a', ?1, 'asin', 'B0A', 'negative', 'Leaks', ?2, ?3, ?4, ?5)",
                params![MP, start, end, share, T],
            )
            .unwrap();
        }
        let it = item(
            json!({"rule": "review_topics", "severity": "warning", "account": "a",
            "marketplace": MP, "asin": "B0A", "value": 7.0, "threshold": 5.0,
            "evidence": {"topic": "Leaks", "share_pct": 19.0, "rise_points": 7.0}}),
        );
        let s = chart(&conn, &cfg(), &it, "2026-03-02", 60).unwrap();
        assert_eq!(s.points.last(), Some(&(d("2026-03-01"), Some(19.0))));
        assert_eq!(s.points.len(), 4);
        // Where a rise of the limit from three months before lands.
        assert_eq!(s.threshold, Some(17.0));
    }

    #[test]
    fn feedback_sla_counts_the_open_breaches_at_the_end_of_each_day() {
        let conn = db();
        conn.execute(
            "INSERT INTO job_runs (job, account, started_at, finished_at, status)
             VALUES ('seller_feedback', 'a', '2026-03-02T09:00:00Z', '2026-03-02T09:01:00Z', 'ok')",
            [],
        )
        .unwrap();
        // (order, day, rating, answered at, acknowledged at)
        for (id, day, rating, answered, acked) in [
            ("o1", "2026-03-01", 1, Some("2026-03-04T12:00:00Z"), None),
            ("o2", "2026-03-02", 2, None, Some("2026-03-03T12:00:00Z")),
            ("o3", "2026-03-02", 5, None, None),
            ("o4", "2026-03-03", 3, None, None),
        ] {
            conn.execute(
                "INSERT INTO seller_feedback (account, marketplace_id, order_id, feedback_date,
                     rating, your_response, first_seen_at, last_seen_at, response_seen_at,
                     acknowledged_at)
                 VALUES ('a', ?1, ?2, ?3, ?4, ?5, '2026-03-02T09:00:00Z', '2026-03-02T09:00:00Z',
                     ?6, ?7)",
                params![
                    MP,
                    id,
                    day,
                    rating,
                    answered.map(|_| "Sorry"),
                    answered,
                    acked
                ],
            )
            .unwrap();
        }
        let it = item(
            json!({"rule": "feedback_response_sla", "severity": "warning", "account": "a",
            "marketplace": MP, "value": 1.0, "threshold": 24.0}),
        );
        let as_of = t("2026-03-05T20:00:00Z"); // midday in Los Angeles
        let s = for_item(&conn, &cfg(), &it, d("2026-03-05"), as_of, 5)
            .unwrap()
            .unwrap();
        assert_eq!(
            s.points,
            vec![
                (d("2026-03-01"), None),      // before the first sync
                (d("2026-03-02"), Some(2.0)), // o1 and o2 past 24 h at the day's end
                (d("2026-03-03"), Some(2.0)), // o2 acknowledged; o4 past 24 h
                (d("2026-03-04"), Some(1.0)), // o1 answered
                (d("2026-03-05"), Some(1.0)), // as of the evaluation
            ]
        );
        // A count of breaches against hours: no line.
        assert_eq!(s.threshold, None);
    }

    #[test]
    fn rules_without_a_daily_series_and_items_without_keys() {
        let conn = db();
        for rule in [
            "account_health",
            "listing_health",
            "data_freshness",
            "credentials",
        ] {
            let it = item(json!({"rule": rule, "severity": "critical", "account": "a",
                "marketplace": MP, "sku": "S"}));
            assert!(chart(&conn, &cfg(), &it, "2026-03-07", 30).is_none());
        }
        let it = item(
            json!({"rule": "stockout_risk", "severity": "critical", "account": "a",
            "marketplace": MP}),
        );
        assert!(chart(&conn, &cfg(), &it, "2026-03-07", 30).is_none());
        // No Ads profile: no ACoS series.
        let it = item(
            json!({"rule": "acos_band", "severity": "warning", "account": "a",
            "marketplace": MP}),
        );
        assert!(chart(&conn, &cfg(), &it, "2026-03-07", 30).is_none());
    }

    #[test]
    fn every_other_rule_gives_a_series_of_the_requested_days() {
        let conn = db();
        ads_fixture(&conn);
        let subject = json!({"asin": "B0A", "sku": "S", "campaign_id": "1005",
            "search_term": "red mug"});
        for rule in [
            "traffic_trend",
            "buy_box",
            "bsr_trend",
            "feedback_response_sla",
            "feedback_rate",
            "return_rate",
            "inventory_turnover",
            "cpc_trend",
            "tacos",
            "ad_reliance",
        ] {
            let mut f = json!({"rule": rule, "severity": "warning", "account": "a",
                "marketplace": MP, "value": 1.0, "threshold": 2.0});
            for (k, v) in subject.as_object().unwrap() {
                f[k] = v.clone();
            }
            // Long after the Ads fixture's days: nothing in range.
            let s = chart(&conn, &cfg(), &item(f), "2026-04-30", 30)
                .unwrap_or_else(|| panic!("{rule}"));
            assert_eq!(s.points.len(), 30, "{rule}");
            assert!(s.points.iter().all(|p| p.1.is_none()), "{rule}: empty db");
        }
    }
}
