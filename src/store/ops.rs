//! Operational rows: accounts and marketplaces mirrored from the config,
//! API call counters, learned rate limits, and credential problems.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection};

use super::StoreError;
use crate::config::Config;
use crate::model::calls::{CallCount, CallKey};

/// The one timestamp shape the schema accepts: `YYYY-MM-DDTHH:MM:SSZ`
/// (text order equals time order).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Upserts every configured account and its marketplaces, so synced rows
/// can reference them; rows that did not change are not touched. Accounts removed from the config are kept (their
/// data stays until retention prunes it).
pub fn sync_accounts(
    conn: &mut Connection,
    cfg: &Config,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = ts(now);
    let tx = conn.transaction()?;
    for a in &cfg.accounts {
        tx.execute(
            "INSERT INTO accounts (name, seller_id, region, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (name) DO UPDATE SET seller_id = excluded.seller_id,
                 region = excluded.region, updated_at = excluded.updated_at
             WHERE seller_id IS NOT excluded.seller_id OR region IS NOT excluded.region",
            params![a.name, a.seller_id, a.region().as_str(), now],
        )?;
        for m in a.marketplaces() {
            tx.execute(
                "INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (account, marketplace_id) DO UPDATE SET country_code = excluded.country_code,
                     time_zone = excluded.time_zone, currency = excluded.currency, updated_at = excluded.updated_at
                 WHERE country_code IS NOT excluded.country_code OR time_zone IS NOT excluded.time_zone
                     OR currency IS NOT excluded.currency",
                params![a.name, m.id, m.country, m.tz.name(), m.currency, now],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Adds drained call counts to `api_call_counts` (one transaction).
pub fn add_call_counts(
    conn: &mut Connection,
    rows: &[(CallKey, CallCount)],
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO api_call_counts (account, api, operation, status_class, hour_start, calls, throttled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (account, api, operation, status_class, hour_start)
             DO UPDATE SET calls = calls + excluded.calls, throttled = throttled + excluded.throttled",
        )?;
        for (k, v) in rows {
            stmt.execute(params![
                k.account,
                k.api,
                k.operation,
                k.status_class,
                k.hour_start,
                v.calls as i64,
                v.throttled as i64
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Records a rate learned from `x-amzn-RateLimit-Limit`.
pub fn save_learned_rate(
    conn: &Connection,
    account: &str,
    api: &str,
    operation: &str,
    rate: f64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO learned_rate_limits (account, api, operation, rate_per_sec, observed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, api, operation) DO UPDATE SET rate_per_sec = excluded.rate_per_sec,
             observed_at = excluded.observed_at",
        params![account, api, operation, rate, ts(now)],
    )?;
    Ok(())
}

/// Every learned rate: (account, api, operation, rate).
pub fn learned_rates(conn: &Connection) -> Result<Vec<(String, String, String, f64)>, StoreError> {
    let rows = super::all_rows(
        conn,
        "SELECT account, api, operation, rate_per_sec FROM learned_rate_limits ORDER BY 1, 2, 3",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    Ok(rows)
}

/// Records that LWA refused an account's credentials (`invalid_grant`,
/// `invalid_client`): opens the problem, or reopens it keeping its first
/// sighting. The credentials rule and `doctor` read the open rows.
pub fn record_credential_problem(
    conn: &Connection,
    account: &str,
    api: &str,
    kind: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO credential_problems (account, api, error_kind, detail, first_seen_at, observed_at, cleared_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, NULL)
         ON CONFLICT (account, api, error_kind) DO UPDATE SET detail = excluded.detail,
             observed_at = excluded.observed_at, cleared_at = NULL,
             first_seen_at = CASE WHEN credential_problems.cleared_at IS NULL
                                  THEN credential_problems.first_seen_at ELSE excluded.first_seen_at END",
        params![account, api, kind, detail, ts(now)],
    )?;
    Ok(())
}

/// A successful call with the account's credentials closes its open problems.
pub fn clear_credential_problems(
    conn: &Connection,
    account: &str,
    api: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE credential_problems SET cleared_at = ?3 WHERE account = ?1 AND api = ?2 AND cleared_at IS NULL",
        params![account, api, ts(now)],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amazon::calls::{ApiKind, CallCounter};
    use chrono::TimeZone;
    use std::path::Path;

    fn config() -> Config {
        let text = r#"
[[accounts]]
name = "eu-shop"
region = "eu"
marketplaces = ["DE", "FR"]
alert_to = ["a@example.com"]
[accounts.sp_api]
client_id = "i"
client_secret = "s"
refresh_token = "r"
"#;
        Config::from_toml(text, Path::new("/x/f.toml"), &Default::default()).unwrap()
    }

    #[test]
    fn timestamps_have_the_one_shape_the_schema_accepts() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::milliseconds(678);
        assert_eq!(ts(t), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn accounts_counts_and_rates_round_trip() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut conn, "mem").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 30, 0).unwrap();
        let cfg = config();
        sync_accounts(&mut conn, &cfg, now).unwrap();
        sync_accounts(&mut conn, &cfg, now).unwrap();
        let zones: Vec<(String, String)> = conn
            .prepare("SELECT marketplace_id, time_zone FROM marketplaces ORDER BY 1")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            zones,
            vec![
                ("A13V1IB3VIYZZH".to_string(), "Europe/Paris".to_string()),
                ("A1PA6795UKMFR9".to_string(), "Europe/Paris".to_string())
            ]
        );

        let counter = CallCounter::new();
        counter.record("eu-shop", ApiKind::Sp, "searchOrders", Some(200), now);
        counter.record("eu-shop", ApiKind::Sp, "searchOrders", Some(429), now);
        add_call_counts(&mut conn, &counter.drain()).unwrap();
        counter.record("eu-shop", ApiKind::Sp, "searchOrders", Some(429), now);
        add_call_counts(&mut conn, &counter.drain()).unwrap();
        let (calls, throttled): (i64, i64) = conn
            .query_row(
                "SELECT SUM(calls), SUM(throttled) FROM api_call_counts WHERE operation = 'searchOrders'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((calls, throttled), (3, 2));

        record_credential_problem(&conn, "eu-shop", "sp", "invalid_grant", "revoked", now).unwrap();
        record_credential_problem(
            &conn,
            "eu-shop",
            "sp",
            "invalid_grant",
            "revoked",
            now + chrono::Duration::hours(1),
        )
        .unwrap();
        let open = |conn: &Connection| -> (i64, String) {
            conn.query_row(
                "SELECT COUNT(*), MIN(first_seen_at) FROM credential_problems WHERE cleared_at IS NULL",
                [],
                |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())),
            )
            .unwrap()
        };
        assert_eq!(
            open(&conn),
            (1, "2026-11-24T10:30:00Z".to_string()),
            "one open problem, first sighting kept"
        );
        assert_eq!(
            clear_credential_problems(&conn, "eu-shop", "sp", now).unwrap(),
            1
        );
        assert_eq!(open(&conn).0, 0);

        save_learned_rate(&conn, "eu-shop", "sp", "getReport", 2.0, now).unwrap();
        save_learned_rate(&conn, "eu-shop", "sp", "getReport", 1.5, now).unwrap();
        assert_eq!(
            learned_rates(&conn).unwrap(),
            vec![("eu-shop".into(), "sp".into(), "getReport".into(), 1.5)]
        );
    }
}

/// The newest data stored for one marketplace of an account, each as its
/// day (or instant): what `doctor` shows per marketplace. `None` where
/// nothing is stored yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredData {
    /// Newest order's purchase day.
    pub orders: Option<String>,
    /// Newest inventory observation (instant).
    pub inventory: Option<String>,
    /// Newest day of the sales and traffic report.
    pub sales_traffic: Option<String>,
    /// Newest seller feedback's day.
    pub feedback: Option<String>,
    /// Newest day of Ads campaign data of the marketplace's profiles.
    pub ads: Option<String>,
}

/// [`StoredData`] of `marketplace_id` of `account`.
pub fn stored_data(
    conn: &Connection,
    account: &str,
    marketplace_id: &str,
) -> Result<StoredData, StoreError> {
    let newest = |sql: &str| -> Result<Option<String>, StoreError> {
        Ok(conn.query_row(sql, params![account, marketplace_id], |r| r.get(0))?)
    };
    Ok(StoredData {
        orders: newest(
            "SELECT MAX(purchase_day) FROM orders WHERE account = ?1 AND marketplace_id = ?2",
        )?,
        inventory: newest(
            "SELECT MAX(observed_at) FROM inventory_snapshots WHERE account = ?1 AND marketplace_id = ?2",
        )?,
        sales_traffic: newest(
            "SELECT MAX(date) FROM sales_traffic_daily WHERE account = ?1 AND marketplace_id = ?2",
        )?,
        feedback: newest(
            "SELECT MAX(feedback_date) FROM seller_feedback WHERE account = ?1 AND marketplace_id = ?2",
        )?,
        ads: newest(
            "SELECT MAX(d.date) FROM ads_campaign_daily d JOIN ads_profiles p USING (profile_id)
             WHERE p.account = ?1 AND p.marketplace_id = ?2",
        )?,
    })
}
