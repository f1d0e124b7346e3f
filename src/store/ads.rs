//! Amazon Ads rows: profiles, campaign metadata, the three daily report
//! tables, the Ads rows of `pending_reports` (api = 'ads'; the SP-API rows
//! of that table belong to `store::reports`), and the window queries the
//! rules read.
//!
//! A completed report is written by [`write_report`] in ONE transaction
//! with its cursor and the deletion of its pending row: a crash before the
//! commit leaves the pending row, so the next run downloads the report
//! again; after it, nothing is left to redo. A report is the whole truth for
//! its (profile, ad product, date range): rows of that range it no longer
//! holds (an entity whose clicks Amazon invalidated) are deleted.
//!
//! Ratios (ACoS, CPC, CTR) are computed from sums over the window, never
//! averaged from daily ratios (DESIGN §2.1).
//!
//! Why one file of about 1,100 lines: every query here shares the three
//! report tables' column lists and the attribution-window choice
//! (`attributed`, `sums_sql`); split, each half would repeat them.

use std::collections::HashSet;
use std::hash::Hash;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql, Transaction};
use serde::Deserialize;
use serde_json::{json, Value};

use super::jobs;
use super::ops::ts;
use super::{execute_each, upsert_sql, StoreError};

/// The job name cursors and pending rows are filed under.
pub const JOB: &str = "ads";

/// A row of `ads_profiles`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProfileRow {
    pub profile_id: i64,
    pub country_code: String,
    pub currency: String,
    pub timezone: String,
    pub marketplace_id: Option<String>,
    pub account_type: String,
    pub account_name: Option<String>,
    pub account_info_id: Option<String>,
}

/// Upserts the account's profiles (unchanged rows are not touched).
pub fn upsert_profiles(
    conn: &mut Connection,
    account: &str,
    profiles: &[ProfileRow],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for p in profiles {
        tx.execute(
            "INSERT INTO ads_profiles (profile_id, account, country_code, currency, timezone, marketplace_id,
                 account_type, account_name, account_info_id, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (profile_id) DO UPDATE SET account = excluded.account,
                 country_code = excluded.country_code, currency = excluded.currency,
                 timezone = excluded.timezone, marketplace_id = excluded.marketplace_id,
                 account_type = excluded.account_type, account_name = excluded.account_name,
                 account_info_id = excluded.account_info_id, fetched_at = excluded.fetched_at",
            params![
                p.profile_id,
                account,
                p.country_code,
                p.currency,
                p.timezone,
                p.marketplace_id,
                p.account_type,
                p.account_name,
                p.account_info_id,
                ts(now)
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The account's stored profiles (used when `GET /v2/profiles` is down).
pub fn profiles(conn: &Connection, account: &str) -> Result<Vec<ProfileRow>, StoreError> {
    super::rows(
        conn,
        "SELECT profile_id, country_code, currency, timezone, marketplace_id, account_type,
                account_name, account_info_id
         FROM ads_profiles WHERE account = ?1 ORDER BY profile_id",
        params![account],
    )
}

/// Campaign metadata of `POST /sp/campaigns/list`.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignMeta {
    pub campaign_id: i64,
    pub name: Option<String>,
    pub state: Option<String>,
    pub targeting_type: Option<String>,
    pub daily_budget: Option<f64>,
    pub currency: Option<String>,
    pub portfolio_id: Option<i64>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// Upserts SP campaign metadata; returns the rows inserted or changed.
pub fn upsert_campaigns(
    conn: &mut Connection,
    profile_id: i64,
    ad_product: &str,
    campaigns: &[CampaignMeta],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let sql = upsert_sql(
        "ads_campaigns",
        &["profile_id", "ad_product", "campaign_id"],
        &[
            "name",
            "state",
            "targeting_type",
            "daily_budget",
            "currency",
            "portfolio_id",
            "start_date",
            "end_date",
        ],
        &["updated_at"],
        &[],
    );
    let tx = conn.transaction()?;
    let changed = execute_each(&tx, &sql, campaigns, |stmt, c| {
        stmt.execute(params![
            profile_id,
            ad_product,
            c.campaign_id,
            c.name,
            c.state,
            c.targeting_type,
            c.daily_budget,
            c.currency,
            c.portfolio_id,
            c.start_date,
            c.end_date,
            ts(now)
        ])
    })?;
    tx.commit()?;
    Ok(changed)
}

// ---------------------------------------------------------------------------
// Pending Ads reports

/// An Ads row of `pending_reports`.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingReport {
    pub id: i64,
    pub report_type: String,
    pub profile_id: i64,
    pub params_hash: String,
    /// The canonical request (see `amazon::ads::ReportRequest::canonical`).
    pub params: Value,
    pub report_id: String,
    pub status: String,
    pub poll_count: i64,
    pub created_at: String,
}

/// The account's pending Ads reports, oldest first.
pub fn pending(conn: &Connection, account: &str) -> Result<Vec<PendingReport>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, report_type, profile_id, params_hash, params_json, report_id, status, poll_count, created_at
         FROM pending_reports WHERE api = 'ads' AND account = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map(params![account], |r| {
            let params: String = r.get(4)?;
            Ok(PendingReport {
                id: r.get(0)?,
                report_type: r.get(1)?,
                profile_id: r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                params_hash: r.get(3)?,
                params: serde_json::from_str(&params).unwrap_or(Value::Null),
                report_id: r.get(5)?,
                status: r.get(6)?,
                poll_count: r.get(7)?,
                created_at: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Records a report Amazon accepted (or a duplicate it named), right after
/// the create call; returns the row id. A row for the same request is
/// replaced (its report was given up on).
#[allow(clippy::too_many_arguments)]
pub fn insert_pending(
    conn: &Connection,
    account: &str,
    report_type: &str,
    profile_id: i64,
    params_hash: &str,
    params: &Value,
    report_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let id = conn.query_row(
        "INSERT INTO pending_reports (api, account, job, report_type, profile_id, params_hash, params_json,
             report_id, status, created_at)
         VALUES ('ads', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (api, account, report_type, params_hash) DO UPDATE SET report_id = excluded.report_id,
             status = excluded.status, params_json = excluded.params_json, poll_count = 0,
             created_at = excluded.created_at, last_polled_at = NULL
         RETURNING id",
        params![
            account,
            JOB,
            report_type,
            profile_id,
            params_hash,
            params.to_string(),
            report_id,
            status,
            ts(now)
        ],
        |r| r.get(0),
    )?;
    Ok(id)
}

/// Notes a poll's answer.
pub fn note_poll(
    conn: &Connection,
    id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE pending_reports SET status = ?2, poll_count = poll_count + 1, last_polled_at = ?3 WHERE id = ?1",
        params![id, status, ts(now)],
    )?;
    Ok(())
}

/// Drops a pending row (the report FAILED, vanished, or was given up on).
pub fn delete_pending(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM pending_reports WHERE id = ?1", params![id])?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Report rows

/// A figure Amazon attributes to the ad clicks of the 7 and of the 14 days
/// before it (SP); SB and SD attribute over 14 days only (`d7` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Attributed<T> {
    pub d7: Option<T>,
    pub d14: Option<T>,
}

/// The measures every daily report row carries, in all three tables.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AdMetrics {
    pub impressions: i64,
    pub clicks: i64,
    pub cost: f64,
    pub purchases: Attributed<i64>,
    pub sales: Attributed<f64>,
}

impl AdMetrics {
    /// The metrics' columns, in the order of [`AdMetrics::values`].
    const COLUMNS: [&'static str; 7] = [
        "impressions",
        "clicks",
        "cost",
        "purchases_7d",
        "purchases_14d",
        "sales_7d",
        "sales_14d",
    ];

    fn values(&self) -> [&dyn ToSql; 7] {
        [
            &self.impressions,
            &self.clicks,
            &self.cost,
            &self.purchases.d7,
            &self.purchases.d14,
            &self.sales.d7,
            &self.sales.d14,
        ]
    }
}

/// One row of `ads_campaign_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignDay {
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub campaign_name: Option<String>,
    pub campaign_status: Option<String>,
    pub campaign_budget_amount: Option<f64>,
    pub metrics: AdMetrics,
    pub units: Attributed<i64>,
    pub top_of_search_impression_share: Option<f64>,
    pub currency: String,
}

/// One row of `ads_search_term_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchTermDay {
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    /// 0 when Amazon sends none.
    pub keyword_id: i64,
    pub search_term: String,
    pub keyword: Option<String>,
    pub match_type: Option<String>,
    pub metrics: AdMetrics,
    pub currency: String,
}

/// One row of `ads_advertised_product_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDay {
    pub date: NaiveDate,
    pub campaign_id: i64,
    pub ad_group_id: i64,
    pub advertised_asin: String,
    /// '' when Amazon sends none.
    pub advertised_sku: String,
    pub metrics: AdMetrics,
    pub units: Attributed<i64>,
    pub currency: String,
}

/// A daily report table: (profile_id, ad_product, date) and `key` make its
/// primary key; `details`, the metrics and `fetched_at` are the rest.
struct DailyTable {
    name: &'static str,
    key: &'static [&'static str],
    details: &'static [&'static str],
}

/// What [`write_report`] writes of one row of a daily table.
struct DailyValues<'r, K> {
    date: NaiveDate,
    /// The values of the table's `key`, as read back from it.
    key: K,
    /// The values of the table's `key`, then of its `details`.
    values: Vec<&'r dyn ToSql>,
    metrics: &'r AdMetrics,
}

/// A row type of a daily report table.
trait DailyRow {
    const TABLE: DailyTable;
    type Key: Eq + Hash + for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>;
    fn daily(&self) -> DailyValues<'_, Self::Key>;
}

/// Implements [`DailyRow`] for a row type from its table's columns, each
/// stated once with the field its value comes from: the key's columns (named
/// as their fields), then the details'.
macro_rules! daily_row {
    (
        $row:ty => $table:literal,
        key: [$($key:ident: $key_ty:ty),+ $(,)?],
        details: [$($column:literal => $($field:ident).+),+ $(,)?] $(,)?
    ) => {
        impl DailyRow for $row {
            const TABLE: DailyTable = DailyTable {
                name: $table,
                key: &[$(stringify!($key)),+],
                details: &[$($column),+],
            };
            type Key = ($($key_ty,)+);

            fn daily(&self) -> DailyValues<'_, Self::Key> {
                DailyValues {
                    date: self.date,
                    key: ($(Clone::clone(&self.$key),)+),
                    values: vec![$(&self.$key as &dyn ToSql,)+ $(&self.$($field).+,)+],
                    metrics: &self.metrics,
                }
            }
        }
    };
}

daily_row! {
    CampaignDay => "ads_campaign_daily",
    key: [campaign_id: i64],
    details: [
        "campaign_name" => campaign_name,
        "campaign_status" => campaign_status,
        "campaign_budget_amount" => campaign_budget_amount,
        "units_7d" => units.d7,
        "units_14d" => units.d14,
        "top_of_search_impression_share" => top_of_search_impression_share,
        "currency" => currency,
    ],
}

daily_row! {
    SearchTermDay => "ads_search_term_daily",
    key: [campaign_id: i64, ad_group_id: i64, keyword_id: i64, search_term: String],
    details: [
        "keyword" => keyword,
        "match_type" => match_type,
        "currency" => currency,
    ],
}

daily_row! {
    ProductDay => "ads_advertised_product_daily",
    key: [campaign_id: i64, ad_group_id: i64, advertised_asin: String, advertised_sku: String],
    details: [
        "units_7d" => units.d7,
        "units_14d" => units.d14,
        "currency" => currency,
    ],
}

/// The parsed rows of one report.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportRows {
    Campaigns(Vec<CampaignDay>),
    SearchTerms(Vec<SearchTermDay>),
    Products(Vec<ProductDay>),
}

impl ReportRows {
    pub fn len(&self) -> usize {
        match self {
            ReportRows::Campaigns(v) => v.len(),
            ReportRows::SearchTerms(v) => v.len(),
            ReportRows::Products(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One completed report to write.
#[derive(Debug, Clone)]
pub struct CompletedReport<'a> {
    pub account: &'a str,
    pub profile_id: i64,
    /// 'SP', 'SB', 'SD'
    pub ad_product: &'a str,
    /// reportTypeId (the cursor's key).
    pub report_type: &'a str,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub rows: ReportRows,
    /// The pending row to delete with the write.
    pub pending_id: Option<i64>,
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Writes a completed report in one transaction: upserts its rows, deletes
/// the range's rows it no longer holds, records SB/SD campaign names,
/// advances the cursor and deletes the pending row. Returns the rows
/// inserted, changed or deleted.
pub fn write_report(
    conn: &mut Connection,
    report: &CompletedReport<'_>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let fetched = ts(now);
    let changed = match &report.rows {
        ReportRows::Campaigns(rows) => {
            let changed = write_rows(&tx, report, rows, &fetched)?;
            record_campaign_names(&tx, report, rows, &fetched)?;
            changed
        }
        ReportRows::SearchTerms(rows) => write_rows(&tx, report, rows, &fetched)?,
        ReportRows::Products(rows) => write_rows(&tx, report, rows, &fetched)?,
    };
    advance_cursor(&tx, report, now)?;
    if let Some(id) = report.pending_id {
        tx.execute("DELETE FROM pending_reports WHERE id = ?1", params![id])?;
    }
    tx.commit()?;
    Ok(changed)
}

/// Upserts a report's rows into their daily table, then deletes the rows of
/// the report's range it no longer holds. Returns the rows inserted, changed
/// or deleted.
fn write_rows<R: DailyRow>(
    tx: &Transaction<'_>,
    report: &CompletedReport<'_>,
    rows: &[R],
    fetched: &str,
) -> Result<u64, StoreError> {
    let table = R::TABLE;
    let (pid, prod) = (report.profile_id, report.ad_product);
    let key: Vec<&str> = ["profile_id", "ad_product", "date"]
        .into_iter()
        .chain(table.key.iter().copied())
        .collect();
    let values: Vec<&str> = table
        .details
        .iter()
        .copied()
        .chain(AdMetrics::COLUMNS)
        .collect();
    let sql = upsert_sql(table.name, &key, &values, &["fetched_at"], &[]);
    let mut stmt = tx.prepare(&sql)?;
    let mut seen = HashSet::new();
    let mut changed = 0u64;
    for row in rows {
        let daily = row.daily();
        let date = day(daily.date);
        let mut params: Vec<&dyn ToSql> = vec![&pid, &prod, &date];
        params.extend(daily.values);
        params.extend(daily.metrics.values());
        params.push(&fetched);
        changed += stmt.execute(&*params)? as u64;
        seen.insert((date, daily.key));
    }
    // Keyed on the row id: the key's columns come first, read as `R::Key`.
    let stale: Vec<i64> = tx
        .prepare(&format!(
            "SELECT {}, date, rowid FROM {}
             WHERE profile_id = ?1 AND ad_product = ?2 AND date BETWEEN ?3 AND ?4",
            table.key.join(", "),
            table.name
        ))?
        .query_map(
            params![pid, prod, day(report.start), day(report.end)],
            |r| {
                let at = table.key.len();
                let key = (r.get::<_, String>(at)?, R::Key::try_from(r)?);
                Ok((!seen.contains(&key)).then_some(r.get(at + 1)?))
            },
        )?
        .filter_map(Result::transpose)
        .collect::<Result<_, _>>()?;
    for rowid in stale {
        changed += tx.execute(
            &format!("DELETE FROM {} WHERE rowid = ?1", table.name),
            params![rowid],
        )? as u64;
    }
    Ok(changed)
}

/// SB/SD have no list call here: their campaign names come from reports
/// (the newest day's). SP names come from /sp/campaigns/list; a report only
/// fills a gap.
fn record_campaign_names(
    tx: &Transaction<'_>,
    report: &CompletedReport<'_>,
    rows: &[CampaignDay],
    fetched: &str,
) -> Result<(), StoreError> {
    let (pid, prod) = (report.profile_id, report.ad_product);
    let conflict = if prod == "SP" {
        "DO NOTHING"
    } else {
        "DO UPDATE SET name = excluded.name, currency = excluded.currency, updated_at = excluded.updated_at
         WHERE name IS NOT excluded.name OR currency IS NOT excluded.currency"
    };
    let mut latest: std::collections::BTreeMap<i64, &CampaignDay> = Default::default();
    for r in rows {
        let e = latest.entry(r.campaign_id).or_insert(r);
        if r.date > e.date {
            *e = r;
        }
    }
    let mut stmt = tx.prepare(&format!(
        "INSERT INTO ads_campaigns (profile_id, ad_product, campaign_id, name, currency, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (profile_id, ad_product, campaign_id) {conflict}"
    ))?;
    for r in latest.values().filter(|r| r.campaign_name.is_some()) {
        stmt.execute(params![
            pid,
            prod,
            r.campaign_id,
            r.campaign_name,
            r.currency,
            fetched
        ])?;
    }
    Ok(())
}

/// The cursor: `{"<profileId>": {"<reportTypeId>": "<last day written>"}}`
/// in one account-wide `job_cursors` row (marketplace_id '').
fn advance_cursor(
    tx: &Transaction<'_>,
    report: &CompletedReport<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let current: Option<String> = tx
        .query_row(
            "SELECT cursor_json FROM job_cursors WHERE job = ?1 AND account = ?2 AND marketplace_id = ''",
            params![JOB, report.account],
            |r| r.get(0),
        )
        .optional()?;
    let mut cursor = current
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    let pid = report.profile_id.to_string();
    if !cursor[&pid].is_object() {
        cursor[&pid] = json!({});
    }
    let end = day(report.end);
    let newer = match cursor[&pid][report.report_type].as_str() {
        Some(old) => end.as_str() > old,
        None => true,
    };
    if newer {
        cursor[&pid][report.report_type] = json!(end);
        jobs::set_cursor(tx, JOB, report.account, "", &cursor, now)?;
    }
    Ok(())
}

/// The last day written per (profile, report type), from the cursor.
pub fn synced_through(
    conn: &Connection,
    account: &str,
    profile_id: i64,
    report_type: &str,
) -> Result<Option<NaiveDate>, StoreError> {
    let cursor = jobs::cursor(conn, JOB, account, "")?;
    Ok(cursor
        .as_ref()
        .and_then(|c| c[profile_id.to_string()][report_type].as_str())
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()))
}

// ---------------------------------------------------------------------------
// Window queries (what the rules read)

/// Sums of one subject over a window. `sales` and `purchases` are the
/// attributed ones `attribution_days` selects (SP 7d or 14d; SB/SD always
/// their 14-day click columns). `None` when no row had the column.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AdTotals {
    pub days: i64,
    pub impressions: i64,
    pub clicks: i64,
    pub cost: f64,
    pub purchases: Option<i64>,
    pub sales: Option<f64>,
}

impl AdTotals {
    /// cost / attributed sales × 100; `None` without sales.
    pub fn acos(&self) -> Option<f64> {
        self.sales
            .filter(|s| *s > 0.0)
            .map(|s| self.cost / s * 100.0)
    }

    /// cost / clicks; `None` without clicks.
    pub fn cpc(&self) -> Option<f64> {
        (self.clicks > 0).then(|| self.cost / self.clicks as f64)
    }

    /// clicks / impressions × 100; `None` without impressions.
    pub fn ctr(&self) -> Option<f64> {
        (self.impressions > 0).then(|| self.clicks as f64 / self.impressions as f64 * 100.0)
    }
}

/// The attributed-sales and purchases expressions (over the table aliased
/// `d`) for `attribution_days` (two fixed strings: nothing user-supplied reaches the SQL).
pub(super) fn attributed(attribution_days: u32) -> (&'static str, &'static str) {
    if attribution_days == 7 {
        (
            "CASE WHEN d.ad_product = 'SP' THEN d.sales_7d ELSE d.sales_14d END",
            "CASE WHEN d.ad_product = 'SP' THEN d.purchases_7d ELSE d.purchases_14d END",
        )
    } else {
        ("d.sales_14d", "d.purchases_14d")
    }
}

fn totals(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<AdTotals> {
    Ok(AdTotals {
        days: r.get(at)?,
        impressions: r.get(at + 1)?,
        clicks: r.get(at + 2)?,
        cost: r.get(at + 3)?,
        purchases: r.get(at + 4)?,
        sales: r.get(at + 5)?,
    })
}

/// The sums of the metrics over the rows of the table aliased `d`:
/// impressions, clicks, cost, then the attributed purchases and sales.
pub(super) fn metric_sums_sql(attribution_days: u32) -> String {
    let (sales, purchases) = attributed(attribution_days);
    format!("SUM(d.impressions), SUM(d.clicks), SUM(d.cost), SUM({purchases}), SUM({sales})")
}

/// The columns [`totals`] reads: the days with rows, then the metric sums.
fn sums_sql(attribution_days: u32) -> String {
    format!(
        "COUNT(DISTINCT d.date), {}",
        metric_sums_sql(attribution_days)
    )
}

/// One campaign's sums over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignTotals {
    pub profile_id: i64,
    pub ad_product: String,
    pub campaign_id: i64,
    /// From the campaign list, else the newest report row.
    pub name: Option<String>,
    pub currency: String,
    pub totals: AdTotals,
}

/// Per-campaign sums of the account's profiles over `start..=end` (profile
/// days), with sales as `attribution_days` selects.
pub fn campaign_totals(
    conn: &Connection,
    account: &str,
    start: NaiveDate,
    end: NaiveDate,
    attribution_days: u32,
) -> Result<Vec<CampaignTotals>, StoreError> {
    let sql = format!(
        "SELECT d.profile_id, d.ad_product, d.campaign_id,
                COALESCE(c.name, (SELECT x.campaign_name FROM ads_campaign_daily x
                    WHERE x.profile_id = d.profile_id AND x.ad_product = d.ad_product
                      AND x.campaign_id = d.campaign_id ORDER BY x.date DESC LIMIT 1)),
                MIN(d.currency), {}
         FROM ads_campaign_daily d
         JOIN ads_profiles p ON p.profile_id = d.profile_id
         LEFT JOIN ads_campaigns c ON c.profile_id = d.profile_id AND c.ad_product = d.ad_product
              AND c.campaign_id = d.campaign_id
         WHERE p.account = ?1 AND d.date BETWEEN ?2 AND ?3
         GROUP BY d.profile_id, d.ad_product, d.campaign_id
         ORDER BY d.profile_id, d.ad_product, d.campaign_id",
        sums_sql(attribution_days)
    );
    let rows = super::all_rows(conn, &sql, params![account, day(start), day(end)], |r| {
        Ok(CampaignTotals {
            profile_id: r.get(0)?,
            ad_product: r.get(1)?,
            campaign_id: r.get(2)?,
            name: r.get(3)?,
            currency: r.get(4)?,
            totals: totals(r, 5)?,
        })
    })?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// The shared test database, with one Ads profile of account `a`.
    fn db() -> Connection {
        let mut conn = crate::store::testing::db();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        upsert_profiles(
            &mut conn,
            "a",
            &[ProfileRow {
                profile_id: 7,
                country_code: "US".into(),
                currency: "USD".into(),
                timezone: "America/Los_Angeles".into(),
                marketplace_id: Some("ATVPDKIKX0DER".into()),
                account_type: "seller".into(),
                account_name: None,
                account_info_id: None,
            }],
            now,
        )
        .unwrap();
        conn
    }

    fn camp(date: &str, id: i64, clicks: i64, cost: f64, s7: f64, s14: f64) -> CampaignDay {
        CampaignDay {
            date: d(date),
            campaign_id: id,
            campaign_name: Some(format!("c{id}")),
            campaign_status: Some("ENABLED".into()),
            campaign_budget_amount: Some(10.0),
            metrics: AdMetrics {
                impressions: clicks * 100,
                clicks,
                cost,
                purchases: Attributed {
                    d7: Some(1),
                    d14: Some(2),
                },
                sales: Attributed {
                    d7: Some(s7),
                    d14: Some(s14),
                },
            },
            units: Attributed {
                d7: Some(1),
                d14: Some(2),
            },
            top_of_search_impression_share: None,
            currency: "USD".into(),
        }
    }

    #[test]
    fn reports_upsert_replace_their_range_and_ratios_come_from_sums() {
        let mut conn = db();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let pending_id = insert_pending(
            &conn,
            "a",
            "spCampaigns",
            7,
            "h",
            &json!({}),
            "r1",
            "PENDING",
            now,
        )
        .unwrap();
        let report = |rows, pending_id| CompletedReport {
            account: "a",
            profile_id: 7,
            ad_product: "SP",
            report_type: "spCampaigns",
            start: d("2026-02-01"),
            end: d("2026-02-02"),
            rows: ReportRows::Campaigns(rows),
            pending_id,
        };
        // Day 1: 1 click, $1 for $100 of sales (ACoS 1%); day 2: 99 clicks,
        // $99 for $100 (99%). The window's ACoS is 100/200 = 50%, not the
        // 50% average of daily ratios by luck: check against CPC too.
        let rows = vec![
            camp("2026-02-01", 1, 1, 1.0, 100.0, 120.0),
            camp("2026-02-02", 1, 99, 99.0, 100.0, 150.0),
            camp("2026-02-02", 2, 5, 10.0, 0.0, 0.0),
        ];
        assert_eq!(
            write_report(&mut conn, &report(rows.clone(), Some(pending_id)), now).unwrap(),
            3
        );
        assert!(
            pending(&conn, "a").unwrap().is_empty(),
            "pending row deleted with the write"
        );
        // The same report again changes nothing.
        assert_eq!(
            write_report(&mut conn, &report(rows.clone(), None), now).unwrap(),
            0
        );
        // Restated: day 2 of campaign 1 gains sales; campaign 2 vanished.
        let restated = vec![
            rows[0].clone(),
            camp("2026-02-02", 1, 99, 99.0, 150.0, 180.0),
        ];
        assert_eq!(
            write_report(&mut conn, &report(restated, None), now).unwrap(),
            2
        );
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM ads_campaign_daily", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            synced_through(&conn, "a", 7, "spCampaigns").unwrap(),
            Some(d("2026-02-02"))
        );

        let t7 = campaign_totals(&conn, "a", d("2026-02-01"), d("2026-02-02"), 7).unwrap();
        assert_eq!(t7.len(), 1);
        let t = t7[0].totals;
        assert_eq!((t.days, t.clicks, t.cost), (2, 100, 100.0));
        assert_eq!(t.sales, Some(250.0));
        assert_eq!(t.acos(), Some(40.0)); // 100 / 250, not mean(1%, 66%)
        assert_eq!(t.cpc(), Some(1.0));
        assert_eq!(t.ctr(), Some(1.0));
        assert_eq!(t7[0].name.as_deref(), Some("c1"));
        let t14 = campaign_totals(&conn, "a", d("2026-02-01"), d("2026-02-02"), 14).unwrap();
        assert_eq!(t14[0].totals.sales, Some(300.0));
    }

    #[test]
    fn sb_sd_sales_are_the_14_day_columns_whatever_the_attribution() {
        let mut conn = db();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut row = camp("2026-02-01", 9, 10, 20.0, 0.0, 80.0);
        row.metrics.sales.d7 = None;
        row.metrics.purchases.d7 = None;
        write_report(
            &mut conn,
            &CompletedReport {
                account: "a",
                profile_id: 7,
                ad_product: "SB",
                report_type: "sbCampaigns",
                start: d("2026-02-01"),
                end: d("2026-02-01"),
                rows: ReportRows::Campaigns(vec![row]),
                pending_id: None,
            },
            now,
        )
        .unwrap();
        for attr in [7, 14] {
            let t = campaign_totals(&conn, "a", d("2026-02-01"), d("2026-02-01"), attr).unwrap();
            assert_eq!(t[0].totals.acos(), Some(25.0), "attribution {attr}");
        }
        let name: String = conn
            .query_row(
                "SELECT name FROM ads_campaigns WHERE ad_product = 'SB'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(name, "c9");
    }

    #[test]
    fn no_sales_no_clicks_no_impressions_are_none_not_zero() {
        let t = AdTotals::default();
        assert_eq!((t.acos(), t.cpc(), t.ctr()), (None, None, None));
    }
}
