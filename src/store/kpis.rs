//! The KPI queries: record the evaluation date of a marketplace in
//! `evaluation_dates`, then read the `kpi_*` views of the schema, which
//! compute every KPI of DESIGN §2.3 as of that date.
//!
//! The views are the one definition of the KPIs (`migrations/0001_initial.sql`,
//! documented in the KPIs section of `docs/rules.md`), so `flywheel kpis`
//! and a user's own SQLite session can never disagree. This module writes the date and reads rows;
//! targets and status are the `kpis` module's (pure) business.

use rusqlite::{params, Connection};
use serde::Deserialize;

use super::StoreError;

/// What a run records for one marketplace (see `evaluation_dates` in the
/// schema). Instants are RFC 3339 UTC strings in the store's fixed shape.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationDate {
    pub account: String,
    pub marketplace_id: String,
    /// `YYYY-MM-DD`, a marketplace day.
    pub at: String,
    pub at_start: String,
    pub at_end: String,
    pub window30_start: String,
    pub attribution_days: u32,
    pub sla_max_rating: u8,
    /// `YYYY-MM-DD`: the newest feedback day already past the response SLA.
    pub sla_last_day: String,
    /// `{"default": days, "skus": {"<sku>": days}}`.
    pub cover_days_json: String,
    /// `kpis` or `evaluate`.
    pub recorded_by: &'static str,
    pub recorded_at: String,
}

/// Records (replaces) the evaluation date of one marketplace.
pub fn record_evaluation_date(conn: &Connection, e: &EvaluationDate) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO evaluation_dates (account, marketplace_id, at, at_start, at_end, window30_start,
             attribution_days, sla_max_rating, sla_last_day, cover_days_json, recorded_by, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (account, marketplace_id) DO UPDATE SET
             at = excluded.at, at_start = excluded.at_start, at_end = excluded.at_end,
             window30_start = excluded.window30_start, attribution_days = excluded.attribution_days,
             sla_max_rating = excluded.sla_max_rating, sla_last_day = excluded.sla_last_day,
             cover_days_json = excluded.cover_days_json, recorded_by = excluded.recorded_by,
             recorded_at = excluded.recorded_at",
        params![
            e.account,
            e.marketplace_id,
            e.at,
            e.at_start,
            e.at_end,
            e.window30_start,
            e.attribution_days,
            e.sla_max_rating,
            e.sla_last_day,
            e.cover_days_json,
            e.recorded_by,
            e.recorded_at,
        ],
    )?;
    Ok(())
}

/// One row of `kpi_all`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KpiRow {
    pub kpi: String,
    pub account: String,
    pub marketplace_id: String,
    pub at: String,
    pub asin: Option<String>,
    pub sku: Option<String>,
    pub campaign_id: Option<String>,
    pub value: Option<f64>,
    pub change_pct: Option<f64>,
    pub label: Option<String>,
}

/// Every KPI row of one marketplace as of its recorded evaluation date.
///
/// The views compute over the default rule windows of DESIGN §2.3 (14, 7
/// and 30 days, the matured 14 for Ads), written into them: a configured
/// `window_days` changes the rule, not the KPI. At the defaults they equal
/// the rules' own metrics (`rules::metrics`), which the demo end-to-end
/// test (`tests/flywheel_e2e.rs`, `findings_charts_and_kpis_agree`) checks
/// finding by finding.
pub fn read_kpis(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<Vec<KpiRow>, StoreError> {
    super::rows(
        conn,
        "SELECT kpi, account, marketplace_id, at, asin, sku, campaign_id, value, change_pct, label
         FROM kpi_all WHERE account = ?1 AND marketplace_id = ?2",
        params![account, marketplace_id],
    )
}

/// The SKUs (with their ASIN when known) of a marketplace, for per-SKU
/// settings such as stockout_risk lead-time overrides.
pub fn skus(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    super::all_rows(
        conn,
        "SELECT k.sku,
                COALESCE((SELECT p.asin FROM products p WHERE p.account = k.account
                            AND p.marketplace_id = k.marketplace_id AND p.sku = k.sku),
                         (SELECT l.asin FROM listings l WHERE l.account = k.account
                            AND l.marketplace_id = k.marketplace_id AND l.sku = k.sku))
         FROM kpi_skus k WHERE k.account = ?1 AND k.marketplace_id = ?2 ORDER BY k.sku",
        params![account, marketplace_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut conn, ":memory:").unwrap();
        let t = "2026-03-01T00:00:00Z";
        conn.execute(
            "INSERT INTO accounts (name, region, created_at, updated_at) VALUES ('a', 'na', ?1, ?1)",
            [t],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency,
                 created_at, updated_at)
             VALUES ('a', 'M', 'US', 'America/Los_Angeles', 'USD', ?1, ?1)",
            [t],
        )
        .unwrap();
        conn
    }

    fn eval_date(at: &str) -> EvaluationDate {
        EvaluationDate {
            account: "a".into(),
            marketplace_id: "M".into(),
            at: at.into(),
            at_start: format!("{at}T08:00:00Z"),
            at_end: "2026-03-11T08:00:00Z".into(),
            window30_start: "2026-02-08T08:00:00Z".into(),
            attribution_days: 7,
            sla_max_rating: 3,
            sla_last_day: "2026-03-09".into(),
            cover_days_json: r#"{"default":37,"skus":{"S2":67}}"#.into(),
            recorded_by: "kpis",
            recorded_at: "2026-03-10T09:00:00Z".into(),
        }
    }

    fn get<'a>(rows: &'a [KpiRow], kpi: &str, asin: Option<&str>) -> &'a KpiRow {
        rows.iter()
            .find(|r| r.kpi == kpi && r.asin.as_deref() == asin && r.sku.is_none())
            .unwrap_or_else(|| panic!("no {kpi} {asin:?} in {rows:?}"))
    }

    #[test]
    fn views_follow_the_windows_and_never_read_absence_as_zero() {
        let conn = db();
        record_evaluation_date(&conn, &eval_date("2026-03-10")).unwrap();
        let f = "2026-03-10T09:00:00Z";
        // Daily series: 14 days of 100 sessions and 12 units, plus a day outside the window.
        for d in 0..15 {
            let date =
                chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap() - chrono::Duration::days(d);
            conn.execute(
                "INSERT INTO sales_traffic_daily (account, marketplace_id, date, sessions, page_views,
                     buy_box_pct, units_ordered, total_order_items, negative_feedback_received, fetched_at)
                 VALUES ('a', 'M', ?1, 100, 200, 90.0, ?2, 10, 0, ?3)",
                params![date.to_string(), if d == 0 { 1000 } else { 12 }, f],
            )
            .unwrap();
        }
        // One per-ASIN 14-day window with ASIN A1 only; A2 is known (ranks) but absent.
        conn.execute(
            "INSERT INTO sales_traffic_windows VALUES ('a', 'M', '2026-02-24', '2026-03-09', 1, ?1)",
            [f],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO sales_traffic_asin (account, marketplace_id, asin, window_start, window_end,
                 sessions, page_views, buy_box_pct, units_ordered, total_order_items, fetched_at)
             VALUES ('a', 'M', 'A1', '2026-02-24', '2026-03-09', 400, 500, 95.0, 20, 18, ?1)",
            [f],
        )
        .unwrap();
        for (asin, day, rank) in [
            ("A2", "2026-03-09", 100),
            ("A2", "2026-03-08", 300),
            ("A2", "2026-03-02", 100),
            ("A2", "2026-03-10", 9_999), // the evaluation day itself: outside the window
        ] {
            conn.execute(
                "INSERT INTO catalog_ranks (account, marketplace_id, asin, snapshot_date,
                     display_group_rank, observed_at)
                 VALUES ('a', 'M', ?1, ?2, ?3, ?4)",
                params![asin, day, rank, f],
            )
            .unwrap();
        }
        let rows = read_kpis(&conn, "a", "M").unwrap();
        let v = |kpi: &str, asin: Option<&str>| get(&rows, kpi, asin).value;
        // 168 units / 1400 sessions (the evaluation day's 1000 units are outside).
        assert_eq!(v("conversion_rate", None), Some(12.0));
        assert_eq!(v("sessions", None), Some(700.0));
        assert_eq!(get(&rows, "sessions", None).change_pct, Some(0.0));
        assert_eq!(v("buy_box_pct", None), Some(90.0));
        assert_eq!(v("conversion_rate", Some("A1")), Some(5.0));
        // Absent from a report that exists: unknown, not 0 %.
        assert_eq!(v("conversion_rate", Some("A2")), None);
        // Median of the two observed days of the last 7 (100, 300), change vs 100.
        assert_eq!(v("bsr", Some("A2")), Some(200.0));
        assert_eq!(get(&rows, "bsr", Some("A2")).change_pct, Some(100.0));
        // No Ads, no returns, no inventory: no value, never 0.
        assert_eq!(v("tacos", None), None);
        assert_eq!(v("return_rate", None), None);
        assert_eq!(v("stockout_risk_skus", None), None);
        assert_eq!(v("feedback_sla_breaches", None), None);
        assert!(!rows.iter().any(|r| r.kpi == "acos"));
        assert_eq!(v("negative_feedback_rate", None), Some(0.0));
    }

    #[test]
    fn re_recording_moves_the_date() {
        let conn = db();
        record_evaluation_date(&conn, &eval_date("2026-03-10")).unwrap();
        record_evaluation_date(&conn, &eval_date("2026-03-09")).unwrap();
        let at: String = conn
            .query_row("SELECT at FROM evaluation_dates", [], |r| r.get(0))
            .unwrap();
        assert_eq!(at, "2026-03-09");
    }
}
