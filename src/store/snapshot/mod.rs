//! The queries that build a rules [`Snapshot`] for one marketplace as of a
//! date, reading only what the enabled rules need and only data known by
//! then (rows observed, fetched or purchased no later than `as_of`).
//!
//! Two sources are current state by nature and cannot be wound back for a
//! backtest: `listings` (Amazon's present listing state) and the restated
//! reports (sales & traffic windows, Ads days), whose rows hold the newest
//! values Amazon sent. Everything else filters on its own timestamp or day.
//! The `costs_file` and `ratings_file` CSVs are read here too: they are
//! data, like the tables.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::ops::ts;
use super::StoreError;
use crate::config::{Account, Config, RuleId};
use crate::model::marketplace;
use crate::model::needs::{needs, Data, Needs};
use crate::model::snapshot::*;
use crate::model::time::day_start;

mod ads;
mod catalog;
mod customer;
mod files;
mod meta;
mod sales;

use ads::ads;
pub(crate) use catalog::stock_row;
use catalog::{
    costs, fees, inventory, inventory_planning, pricing, ranks, search_query_performance,
};
use customer::{account_health, feedback, listings, ratings, review_topics};
pub(crate) use files::csv_fields;
use files::read_file;
pub use files::{read_costs, read_ratings};
use meta::{credential_problems, job_health};
#[cfg(test)]
pub(crate) use sales::SQL_SHIPPED;
pub(crate) use sales::{asin_window_at, daily_rows, shipped_units};
use sales::{asin_windows, daily, orders, products, returns};

/// How far back windowed sources are read (the longest default window pair
/// is 2 × 30 days; a bigger configured window widens it).
fn lookback_days(cfg: &Config) -> i64 {
    let r = &cfg.rules;
    let longest = [
        r.feedback_rate.window_days,
        r.return_rate.window_days,
        r.conversion_rate.window_days,
        r.traffic_trend.window_days,
        r.buy_box.window_days,
        r.bsr_trend.window_days,
        r.growth_stall.window_days,
        r.acos_band.window_days,
        r.tacos.window_days,
        r.ad_reliance.window_days,
        r.cpc_trend.window_days,
        r.wasted_spend.window_days,
        r.stockout_risk.velocity_days,
        r.stockout_risk.stockout_lookback_days,
        r.margin_floor.window_days,
    ]
    .into_iter()
    .max()
    .unwrap_or(30)
    .max(
        cfg.overrides
            .iter()
            .filter_map(|o| {
                o.settings
                    .iter()
                    .filter(|(k, _)| k.ends_with("_days"))
                    .filter_map(|(_, v)| v.as_integer())
                    .max()
            })
            .max()
            .unwrap_or(0) as u32,
    );
    2 * longest as i64 + cfg.sync.attribution_days as i64 + 2
}

/// The largest `*_days` setting any override sets (0 without overrides).
fn override_days(cfg: &Config) -> i64 {
    cfg.overrides
        .iter()
        .flat_map(|o| o.settings.iter())
        .filter(|(k, _)| k.ends_with("_days"))
        .filter_map(|(_, v)| v.as_integer())
        .max()
        .unwrap_or(0)
}

pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What the enabled rules need ([`crate::model::needs`]); a rule counts as
/// enabled when its `[rules.<id>]` is, or an override enables it for some
/// subject.
fn enabled_needs(cfg: &Config) -> Vec<Needs> {
    let on = |r: RuleId| {
        cfg.rules.common(r).enabled
            || cfg.overrides.iter().any(|o| {
                o.rule == r.as_str()
                    && o.settings.get("enabled").and_then(|v| v.as_bool()) == Some(true)
            })
    };
    RuleId::ALL
        .iter()
        .copied()
        .filter(|r| on(*r))
        .map(needs)
        .collect()
}

/// One step of [`build`]: fills its part of the snapshot.
type Step = fn(&Query<'_>, &mut Snapshot) -> Result<(), StoreError>;

/// The steps of [`build`] after `products`, in the order they run, each
/// with the data it reads: a step runs when an enabled rule reads its data.
const STEPS: &[(Data, Step)] = &[
    (Data::SalesTrafficWindows, asin_windows),
    (Data::SalesTrafficDaily, daily),
    (Data::Orders, orders),
    (Data::Returns, returns),
    (Data::SellerFeedback, feedback),
    (Data::AccountHealth, account_health),
    (Data::Listings, listings),
    (Data::ReviewTopics, review_topics),
    (Data::RatingsFile, ratings),
    (Data::CatalogRanks, ranks),
    (Data::Pricing, pricing),
    (Data::SearchQueryPerformance, search_query_performance),
    (Data::Inventory, inventory),
    (Data::InventoryPlanning, inventory_planning),
    (Data::Fees, fees),
    (Data::CostsFile, costs),
    (Data::Ads, ads_step),
    (Data::JobRuns, job_health),
    (Data::Credentials, credential_problems),
];

/// The Ads step: the marketplace's profile days of the lookback.
fn ads_step(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    s.ads = ads(q.conn, q.cfg, q.a, q.m, q.from, q.at)?;
    Ok(())
}

/// Whether `job` ever succeeded for the account by `as_of` (a source that
/// synced and holds nothing is empty, not missing).
fn job_ok(
    conn: &Connection,
    account: &str,
    job: &str,
    as_of: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM job_runs WHERE account = ?1 AND job = ?2 AND status = 'ok' AND finished_at <= ?3 LIMIT 1",
            params![account, job, ts(as_of)],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Snapshots of every configured marketplace: `(evaluation date, snapshot)`.
/// Without `at`, each marketplace is evaluated as of its own current day and
/// `now`; with `at`, as of that day using data known by its end (or `now`,
/// if earlier).
pub fn build_all(
    conn: &Connection,
    cfg: &Config,
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Vec<(NaiveDate, Snapshot)>, StoreError> {
    let mut out = Vec::new();
    for account in &cfg.accounts {
        for m in account.marketplaces() {
            let tz = m.tz;
            let (date, as_of) = match at {
                None => (now.with_timezone(&tz).date_naive(), now),
                Some(d) => (d, now.min(day_start(&tz, d + Duration::days(1)))),
            };
            out.push((date, build(conn, cfg, account, m.id, date, as_of)?));
        }
    }
    Ok(out)
}

/// One marketplace's snapshot as of `at` (a marketplace day), with data
/// known by `as_of`.
pub fn build(
    conn: &Connection,
    cfg: &Config,
    account: &Account,
    marketplace_id: &str,
    at: NaiveDate,
    as_of: DateTime<Utc>,
) -> Result<Snapshot, StoreError> {
    let needs = enabled_needs(cfg);
    let a = account.name.as_str();
    let m = marketplace_id;
    let mut s = Snapshot::empty(a, m, as_of);
    s.time_zone = marketplace::lookup(m)
        .map(|x| x.tz)
        .unwrap_or(chrono_tz::UTC);
    let from = at - Duration::days(lookback_days(cfg));

    let q = Query {
        conn,
        cfg,
        account,
        a,
        m,
        at,
        as_of,
        from,
        from_s: day(from),
        at_s: day(at),
        as_of_s: ts(as_of),
    };
    // Products: the SKU ↔ ASIN map every crossing rule uses.
    products(&q, &mut s)?;
    for (data, step) in STEPS {
        if needs.iter().any(|n| n.reads(*data)) {
            step(&q, &mut s)?;
        }
    }
    Ok(s)
}

/// What every step of [`build`] reads from: one marketplace of one account,
/// the evaluation day `at` and the instant `as_of` data must be known by.
struct Query<'a> {
    conn: &'a Connection,
    cfg: &'a Config,
    account: &'a Account,
    a: &'a str,
    m: &'a str,
    at: NaiveDate,
    as_of: DateTime<Utc>,
    /// The first day windowed sources are read from (`at - lookback`).
    from: NaiveDate,
    /// `day(from)`, `day(at)` and `ts(as_of)`, as the SQL compares them.
    from_s: String,
    at_s: String,
    as_of_s: String,
}

impl Query<'_> {
    /// Runs one query with `params`, handing each row to `each`.
    fn each_row<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self.conn.prepare(sql)?;
        let mut rows = st.query(params)?;
        while let Some(r) = rows.next()? {
            each(r)?;
        }
        Ok(())
    }
}

/// A source is present when its job succeeded once or it holds rows (an import).
fn job_or_rows(
    conn: &Connection,
    account: &str,
    job: &str,
    as_of: DateTime<Utc>,
    any_row_sql: &str,
) -> Result<bool, StoreError> {
    if job_ok(conn, account, job, as_of)? {
        return Ok(true);
    }
    Ok(conn
        .query_row(any_row_sql, params![account], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_database_gives_an_empty_snapshot_with_sources_missing() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut conn, "mem").unwrap();
        let cfg = Config::default();
        let account = Account {
            name: "a".into(),
            marketplaces: vec!["US".into()],
            ..Account::default()
        };
        let at = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let s = build(&conn, &cfg, &account, "ATVPDKIKX0DER", at, Utc::now()).unwrap();
        assert!(s.orders.is_none() && s.feedback.is_none() && s.ads.is_none());
        assert!(s.asin_windows.is_empty());
    }
}
