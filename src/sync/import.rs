//! `flywheel import`: loads a report file a seller downloaded by hand from
//! Seller Central (for sellers still waiting for API approval) through the
//! same parsers and store functions the sync jobs use, so the rows are the
//! ones the API path would write.
//!
//! The file may be plain or gzipped (detected by its magic bytes). JSON
//! report types are read as UTF-8; flat files in the marketplace's charset
//! (ISO-8859-1 / Windows-1252, cp932 for Japan), as Amazon writes them.
//! No cursor moves: an import fills rows, the next sync still runs as
//! planned.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::report_util as ru;
use super::{
    account_health, inventory_planning, returns, sales_traffic, search_query_performance,
    seller_feedback,
};
use crate::amazon::marketplace::{self, Marketplace};
use crate::amazon::reports;
use crate::config::Config;
use crate::store::seller_reports::{self as store, Scope};

/// The report types `import` understands.
pub const REPORT_TYPES: &[&str] = &[
    sales_traffic::REPORT_TYPE,
    search_query_performance::REPORT_TYPE,
    inventory_planning::REPORT_TYPE,
    returns::FBA_REPORT_TYPE,
    returns::MFN_REPORT_TYPE,
    seller_feedback::REPORT_TYPE,
    account_health::REPORT_TYPE,
];

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Rows the file held (after adding up duplicates).
    pub rows: usize,
    /// Rows inserted, changed or removed (a sales & traffic window's ASINs
    /// that the file no longer lists).
    pub written: u64,
    pub table: &'static str,
    pub marketplace_id: String,
    /// Skipped rows and missing columns, if any.
    pub problems: Option<String>,
    pub detail: String,
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rows read, {} new or changed ({}; marketplace {})",
            self.table, self.rows, self.written, self.detail, self.marketplace_id
        )?;
        if let Some(p) = &self.problems {
            write!(f, "\n{p}")?;
        }
        Ok(())
    }
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unknown report type {0}: import understands {known}", known = REPORT_TYPES.join(", "))]
    UnknownType(String),
    #[error("no account named {0} in the config")]
    UnknownAccount(String),
    #[error("{0}")]
    Marketplace(String),
    #[error("{0}")]
    Parse(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

fn pick_marketplace(
    mine: &[&'static Marketplace],
    wanted: Option<&str>,
    from_file: &[String],
) -> Result<&'static Marketplace, ImportError> {
    let found = |key: &str| {
        mine.iter()
            .copied()
            .find(|m| Some(*m) == marketplace::lookup(key))
    };
    if let Some(w) = wanted {
        return found(w).ok_or_else(|| {
            ImportError::Marketplace(format!("marketplace {w} is not one of the account's"))
        });
    }
    if let Some(m) = from_file.iter().find_map(|id| found(id)) {
        return Ok(m);
    }
    match mine {
        [one] => Ok(one),
        [] => Err(ImportError::Marketplace(
            "the account has no marketplaces".into(),
        )),
        _ => Err(ImportError::Marketplace(
            "the account has several marketplaces: name one with --marketplace".into(),
        )),
    }
}

/// Imports `path` as a `report_type` report of `account` at `now`.
pub fn import_file(
    cfg: &Config,
    conn: &mut Connection,
    account: &str,
    marketplace: Option<&str>,
    report_type: &str,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Imported, ImportError> {
    if !REPORT_TYPES.contains(&report_type) {
        return Err(ImportError::UnknownType(report_type.to_string()));
    }
    let acct = cfg
        .accounts
        .iter()
        .find(|a| a.name == account)
        .ok_or_else(|| ImportError::UnknownAccount(account.to_string()))?;
    let raw = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let bytes = reports::decompress(&raw, true).map_err(ImportError::Parse)?;
    import_bytes(
        conn,
        account,
        &acct.marketplaces(),
        marketplace,
        report_type,
        &bytes,
        now,
    )
}

/// The pure-input half of [`import_file`] (the bytes already gunzipped).
pub fn import_bytes(
    conn: &mut Connection,
    account: &str,
    mine: &[&'static Marketplace],
    marketplace: Option<&str>,
    report_type: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<Imported, ImportError> {
    let json_ids = |text: &str| -> Vec<String> {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| {
                v["reportSpecification"]["marketplaceIds"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
            })
            .unwrap_or_default()
    };
    let utf8 = || {
        String::from_utf8_lossy(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)).into_owned()
    };
    let is_json = matches!(
        report_type,
        sales_traffic::REPORT_TYPE
            | search_query_performance::REPORT_TYPE
            | account_health::REPORT_TYPE
    );
    let text = if is_json { utf8() } else { String::new() };
    let m = pick_marketplace(mine, marketplace, &json_ids(&text))?;
    let encoding = reports::charset(None, &[m.id.to_string()], bytes);
    let scope = Scope {
        account,
        marketplace_id: m.id,
        now,
    };
    let parse_err = ImportError::Parse;
    let out = |rows: usize,
               written: u64,
               table: &'static str,
               problems: Option<String>,
               detail: String| Imported {
        rows,
        written,
        table,
        marketplace_id: m.id.to_string(),
        problems,
        detail,
    };
    Ok(match report_type {
        sales_traffic::REPORT_TYPE => {
            let doc = sales_traffic::parse(&text).map_err(parse_err)?;
            let (written, detail) = sales_traffic::import(conn, &scope, &doc)?;
            out(
                doc.days.len() + doc.asins.len(),
                written,
                "sales_traffic_daily, sales_traffic_asin",
                None,
                detail,
            )
        }
        search_query_performance::REPORT_TYPE => {
            let rows = search_query_performance::parse(&text).map_err(parse_err)?;
            let tx = conn.transaction()?;
            let written = store::write_sqp(&tx, &scope, &rows)?;
            tx.commit()?;
            out(
                rows.len(),
                written,
                "search_query_performance",
                None,
                "weekly rows".into(),
            )
        }
        account_health::REPORT_TYPE => {
            let rows = account_health::parse(&text).map_err(parse_err)?;
            let ours: Vec<String> = mine.iter().map(|m| m.id.to_string()).collect();
            let rows = account_health::for_account(rows, &ours);
            let day = ru::day_of(m, now);
            let tx = conn.transaction()?;
            let written = store::write_health(&tx, account, day, &rows, now)?;
            tx.commit()?;
            out(
                rows.len(),
                written,
                "account_health_snapshots",
                None,
                format!("snapshot of {day}"),
            )
        }
        inventory_planning::REPORT_TYPE => {
            let p = inventory_planning::parse(bytes, encoding, ru::day_of(m, now))
                .map_err(parse_err)?;
            let tx = conn.transaction()?;
            let written = store::write_planning(&tx, &scope, &p.rows)?;
            tx.commit()?;
            out(
                p.rows.len(),
                written,
                "inventory_planning",
                p.summary.clone(),
                format!("{} decoding", encoding.name()),
            )
        }
        returns::FBA_REPORT_TYPE | returns::MFN_REPORT_TYPE => {
            let p = returns::parse(report_type, bytes, encoding, m).map_err(parse_err)?;
            let tx = conn.transaction()?;
            let written = store::write_returns(&tx, &scope, &p.rows)?;
            tx.commit()?;
            out(
                p.rows.len(),
                written,
                "returns",
                p.summary.clone(),
                format!("{} decoding", encoding.name()),
            )
        }
        seller_feedback::REPORT_TYPE => {
            let p = seller_feedback::parse(bytes, encoding).map_err(parse_err)?;
            let tx = conn.transaction()?;
            let written = store::write_feedback(&tx, &scope, &p.rows)?;
            tx.commit()?;
            out(
                p.rows.len(),
                written,
                "seller_feedback",
                p.summary.clone(),
                format!("{} decoding", encoding.name()),
            )
        }
        other => return Err(ImportError::UnknownType(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut c, ":memory:").unwrap();
        c.execute_batch(
            "INSERT INTO accounts (name, region, created_at, updated_at) VALUES ('a', 'na', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency, created_at, updated_at)
             VALUES ('a', 'ATVPDKIKX0DER', 'US', 'America/Los_Angeles', 'USD', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        c
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn latin1_feedback_twice_changes_nothing_the_second_time() {
        let mut c = db();
        let us = [marketplace::lookup("US").unwrap()];
        let text = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n02/10/26\t1\tcass\u{e9}\t\t111-1\tx@y\n";
        let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
        let r = import_bytes(
            &mut c,
            "a",
            &us,
            None,
            seller_feedback::REPORT_TYPE,
            &bytes,
            now(),
        )
        .unwrap();
        assert_eq!((r.rows, r.written), (1, 1));
        let comment: String = c
            .query_row("SELECT comments FROM seller_feedback", [], |r| r.get(0))
            .unwrap();
        assert_eq!(comment, "cass\u{e9}");
        let again = import_bytes(
            &mut c,
            "a",
            &us,
            None,
            seller_feedback::REPORT_TYPE,
            &bytes,
            now(),
        )
        .unwrap();
        assert_eq!(again.written, 0);
    }

    #[test]
    fn unknown_types_and_marketplaces_are_refused() {
        let mut c = db();
        let us = [marketplace::lookup("US").unwrap()];
        assert!(matches!(
            import_bytes(&mut c, "a", &us, None, "GET_NOPE", b"", now()),
            Err(ImportError::UnknownType(_))
        ));
        assert!(matches!(
            import_bytes(
                &mut c,
                "a",
                &us,
                Some("DE"),
                seller_feedback::REPORT_TYPE,
                b"",
                now()
            ),
            Err(ImportError::Marketplace(_))
        ));
        assert!(matches!(
            import_bytes(
                &mut c,
                "a",
                &us,
                None,
                account_health::REPORT_TYPE,
                b"{",
                now()
            ),
            Err(ImportError::Parse(_))
        ));
    }
}
