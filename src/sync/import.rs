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
//!
//! What an import promises:
//! - **Bounded memory.** The file is streamed: gunzipped a chunk at a time
//!   under the `[sync] max_document_mib` ceiling, flat files read a line
//!   at a time, JSON an array element at a time, and rows stored as they
//!   are read (returns and a window's per-ASIN rows are held until the end,
//!   one per return or ASIN, as duplicates are added up). A gzip bomb costs
//!   a few chunks of memory and stops at the ceiling.
//! - **Nothing stored is removed.** Rows are added or updated, never
//!   deleted (a file may be older or partial); the summary says how many
//!   rows are new, changed, and, for a sales & traffic window, kept.
//! - **The right granularity.** Only daily sales & traffic rows and weekly
//!   search query performance rows are stored; WEEK/MONTH (QUARTER) files
//!   are refused, saying which to download.
//! - **The right file.** A file that lacks the type's required columns or
//!   keys, or holds no valid row, is refused (exit 1) naming the expected
//!   type, what is missing and, when the file looks like another supported
//!   type, that type. One transaction: a refused file stores nothing.
//! - **Dated by the report.** An account health snapshot is dated by the
//!   report's own reporting period, not the import day.

use std::io::BufRead;
use std::path::Path;

use chrono::{DateTime, Utc};
use encoding_rs::Encoding;
use rusqlite::Connection;

use super::flatfile::{self, Column, Streamed};
use super::report::StreamError;
use super::report_util::{self as ru, JsonError};
use super::{
    account_health, inventory_planning, orders, returns, sales_traffic, search_query_performance,
    seller_feedback,
};
use crate::amazon::document;
use crate::config::Config;
use crate::model::marketplace::{self, Marketplace};
use crate::store::seller_reports::{self as store, Absent, Scope};

/// The all-orders report by order date: the columns of the orders job's
/// [`orders::REPORT_TYPE`] (by last update) plus `cpf` (Amazon's Order
/// Tracking report attributes), read by the same parser.
pub const ORDERS_BY_ORDER_DATE: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL";

/// The columns an all-orders row cannot do without (the orders parser
/// skips a row lacking one).
const ORDERS_REQUIRED: &[&str] = &[
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "sku",
];

/// A report type `import` reads, and the names a seller knows it by.
#[derive(Debug)]
pub struct KnownType {
    /// Amazon's `reportType`.
    pub api: &'static str,
    /// Other names `--report-type` accepts for it, compared ignoring case,
    /// spaces and punctuation.
    pub names: &'static [&'static str],
    /// Where a seller gets the file.
    pub download: &'static str,
}

/// Every report type `import` reads: the one table of names (printed by
/// `flywheel import --list-types`).
///
/// Where the names come from:
/// - Amazon's own name for each report is the heading of its entry in the
///   SP-API "Report Type Values" pages (developer-docs.amazon.com/sp-api/
///   docs/report-type-values-order, -fba, -returns, -performance,
///   -analytics), e.g. "Flat File Feedback Report" above
///   `GET_SELLER_FEEDBACK_DATA`.
/// - The Seller Central names are those of the pages a seller downloads
///   the same tab-delimited file from (each row's `download`): "All
///   Orders" under Reports > Fulfillment (the SP-API FBA page also calls
///   these "the four 'All Orders' reports"), "FBA customer returns" under
///   its Customer Concessions, "Return Reports", "Manage Inventory
///   Health" under Inventory Planning, and "Feedback Manager" under
///   Performance. Their columns are the API file's (REFERENCE.md §4 of
///   Amazon's models; the flat readers match columns by name).
/// - The JSON reports have no Seller Central download in that format
///   (Business Reports and Brand Analytics pages export CSV tables, the
///   Account Health page none), so they take Amazon's report names only.
pub const KNOWN_TYPES: &[KnownType] = &[
    KnownType {
        api: ORDERS_BY_ORDER_DATE,
        names: &["All Orders", "All Orders Report", "Flat File All Orders Report by Order Date"],
        download: "Seller Central: Reports > Fulfillment > All Orders (event date: order date), tab-delimited",
    },
    KnownType {
        api: orders::REPORT_TYPE,
        names: &["All Orders by Last Update", "Flat File All Orders Report by Last Update"],
        download: "Seller Central: Reports > Fulfillment > All Orders (event date: last updated date), tab-delimited",
    },
    KnownType {
        api: returns::FBA_REPORT_TYPE,
        names: &["FBA Customer Returns", "Customer Returns", "FBA Returns Report"],
        download: "Seller Central: Reports > Fulfillment > Customer Concessions > FBA customer returns",
    },
    KnownType {
        api: returns::MFN_REPORT_TYPE,
        names: &["Return Reports", "Returns Report", "Flat File Returns Report by Return Date"],
        download: "Seller Central: Reports > Return Reports (seller-fulfilled returns)",
    },
    KnownType {
        api: inventory_planning::REPORT_TYPE,
        names: &["Manage Inventory Health", "Inventory Health", "FBA Manage Inventory Health Report"],
        download: "Seller Central: Inventory > Inventory Planning > Manage Inventory Health",
    },
    KnownType {
        api: seller_feedback::REPORT_TYPE,
        names: &["Feedback Manager", "Feedback", "Flat File Feedback Report"],
        download: "Seller Central: Performance > Feedback > Feedback Manager (1-3 star ratings)",
    },
    KnownType {
        api: sales_traffic::REPORT_TYPE,
        names: &["Sales and Traffic Business Report", "Sales and Traffic"],
        download: "the Reports API's JSON document (Business Reports CSV downloads are not read), daily",
    },
    KnownType {
        api: search_query_performance::REPORT_TYPE,
        names: &["Search Query Performance Report", "Search Query Performance"],
        download: "the Reports API's JSON document (Brand Analytics CSV downloads are not read), weekly",
    },
    KnownType {
        api: account_health::REPORT_TYPE,
        names: &["Seller Performance Report", "Account Health"],
        download: "the Reports API's JSON document (Seller Central has no download of it)",
    },
];

/// The report types `import` understands (Amazon's names).
pub const REPORT_TYPES: &[&str] = &[
    sales_traffic::REPORT_TYPE,
    search_query_performance::REPORT_TYPE,
    inventory_planning::REPORT_TYPE,
    returns::FBA_REPORT_TYPE,
    returns::MFN_REPORT_TYPE,
    seller_feedback::REPORT_TYPE,
    account_health::REPORT_TYPE,
    ORDERS_BY_ORDER_DATE,
    orders::REPORT_TYPE,
];

/// Letters and digits of `name`, lower-cased: how names are compared.
fn folded(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Amazon's report type for `name`: an API name or one of
/// [`KNOWN_TYPES`]' other names (ignoring case, spaces and punctuation).
pub fn resolve_type(name: &str) -> Option<&'static str> {
    let want = folded(name);
    KNOWN_TYPES
        .iter()
        .find(|k| folded(k.api) == want || k.names.iter().any(|n| folded(n) == want))
        .map(|k| k.api)
}

/// [`KNOWN_TYPES`] as `flywheel import --list-types` prints it.
pub fn list_types() -> String {
    let mut out = String::new();
    for k in KNOWN_TYPES {
        out.push_str(&format!("{}\n", k.api));
        let names: Vec<String> = k.names.iter().map(|n| format!("\"{n}\"")).collect();
        out.push_str(&format!("  also: {}\n", names.join(", ")));
        out.push_str(&format!("  from: {}\n", k.download));
    }
    out
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Rows the file held (after adding up duplicates).
    pub rows: usize,
    /// Rows inserted or changed (`new` + `changed`); an import removes none.
    pub written: u64,
    /// Of those, rows that were not stored before.
    pub new: u64,
    /// Of those, stored rows whose values changed.
    pub changed: u64,
    pub table: &'static str,
    pub marketplace_id: String,
    /// Skipped rows and missing optional columns, if any.
    pub problems: Option<String>,
    pub detail: String,
}

impl Imported {
    /// `rows` rows of a file read into `table` for marketplace `m`,
    /// `written` of them inserted or changed (told apart by
    /// `Input::commit`).
    fn new(table: &'static str, m: &Marketplace, rows: usize, written: u64) -> Imported {
        Imported {
            rows,
            written,
            new: 0,
            changed: written,
            table,
            marketplace_id: m.id.to_string(),
            problems: None,
            detail: String::new(),
        }
    }
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rows read, {} new or changed ({} new, {} changed, none removed; {}; marketplace {})",
            self.table,
            self.rows,
            self.written,
            self.new,
            self.changed,
            self.detail,
            self.marketplace_id
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
    #[error("unknown report type {0}: import understands {known} (or their Seller Central names: flywheel import --list-types)", known = REPORT_TYPES.join(", "))]
    UnknownType(String),
    #[error("no account named {0} in the config")]
    UnknownAccount(String),
    #[error("{0}")]
    Marketplace(String),
    /// The file is not a report of the type named, cannot be read, or
    /// holds nothing to store. Nothing was stored.
    #[error("cannot import {path} as {report_type}: {problem}{hint}", hint = hint(*.looks_like))]
    WrongFile {
        path: String,
        report_type: String,
        problem: String,
        /// Another supported type the file looks like.
        looks_like: Option<&'static str>,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

fn hint(looks_like: Option<&str>) -> String {
    looks_like
        .map(|t| format!("; the file looks like {t}: import it with --report-type {t}"))
        .unwrap_or_default()
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

/// Imports `path` as a `report_type` report (an API name or another name
/// of [`KNOWN_TYPES`]) of `account` at `now`, reading it as a stream (see
/// the module doc).
pub fn import_file(
    cfg: &Config,
    conn: &mut Connection,
    account: &str,
    marketplace: Option<&str>,
    report_type: &str,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Imported, ImportError> {
    let report_type = resolve_type(report_type)
        .ok_or_else(|| ImportError::UnknownType(report_type.to_string()))?;
    let acct = cfg
        .accounts
        .iter()
        .find(|a| a.name == account)
        .ok_or_else(|| ImportError::UnknownAccount(account.to_string()))?;
    let file = std::fs::File::open(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let max = document::max_document_bytes(cfg.sync.max_document_mib);
    let input = Input {
        account,
        mine: &acct.marketplaces(),
        marketplace,
        report_type,
        now,
        source: &path.display().to_string(),
    };
    document::gunzip_stream_capped(file, true, max, |stream| input.import(conn, stream))
}

/// [`import_file`] of bytes already gunzipped (the fuzz target and tests).
/// `report_type` is an API name or another name of [`KNOWN_TYPES`].
pub fn import_bytes(
    conn: &mut Connection,
    account: &str,
    mine: &[&'static Marketplace],
    marketplace: Option<&str>,
    report_type: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<Imported, ImportError> {
    let report_type = resolve_type(report_type)
        .ok_or_else(|| ImportError::UnknownType(report_type.to_string()))?;
    let input = Input {
        account,
        mine,
        marketplace,
        report_type,
        now,
        source: "the input",
    };
    input.import(conn, &mut &bytes[..])
}

/// The columns of a flat report type, and those it requires.
fn flat_columns(report_type: &str) -> Option<(&'static [Column], &'static [&'static str])> {
    Some(match report_type {
        inventory_planning::REPORT_TYPE => (
            &inventory_planning::COLUMNS[..],
            inventory_planning::REQUIRED,
        ),
        returns::FBA_REPORT_TYPE => (&returns::FBA_COLUMNS[..], returns::FBA_REQUIRED),
        returns::MFN_REPORT_TYPE => (&returns::MFN_COLUMNS[..], returns::MFN_REQUIRED),
        seller_feedback::REPORT_TYPE => (&seller_feedback::COLUMNS[..], seller_feedback::REQUIRED),
        orders::REPORT_TYPE | ORDERS_BY_ORDER_DATE => (orders::REPORT_COLUMNS, ORDERS_REQUIRED),
        _ => return None,
    })
}

/// The required columns of a flat type that `header` (folded names)
/// lacks.
fn lacking(report_type: &str, header: &[String]) -> Vec<&'static str> {
    let Some((columns, required)) = flat_columns(report_type) else {
        return Vec::new();
    };
    required
        .iter()
        .copied()
        .filter(|r| {
            !columns
                .iter()
                .find(|c| c.name == *r)
                .is_some_and(|c| flatfile::has_column(header, c))
        })
        .collect()
}

/// The folded header of a flat file from its first bytes.
fn header_of(head: &[u8], encoding: &'static Encoding) -> Vec<String> {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let (text, _) = encoding.decode_without_bom_handling(line);
    flatfile::header_names(text.trim_start_matches('\u{feff}'))
}

/// Another supported type the file (its first bytes) looks like, besides
/// `expected`: the `reportType` a JSON document names or the keys it has,
/// or the flat type whose required columns the header has.
fn looks_like(head: &[u8], expected: &str) -> Option<&'static str> {
    let text = String::from_utf8_lossy(head);
    let json = text.trim_start_matches('\u{feff}').trim_start();
    let other = |t: &&'static str| *t != expected;
    if json.starts_with('{') {
        let named = json.find("\"reportType\"").and_then(|at| {
            let rest = json[at + "\"reportType\"".len()..]
                .trim_start()
                .strip_prefix(':')?
                .trim_start()
                .strip_prefix('"')?;
            let name = &rest[..rest.find('"')?];
            REPORT_TYPES.iter().copied().find(|t| *t == name)
        });
        if let Some(t) = named {
            return Some(t).filter(other);
        }
        let by_key = [
            ("\"salesAndTrafficByDate\"", sales_traffic::REPORT_TYPE),
            ("\"salesAndTrafficByAsin\"", sales_traffic::REPORT_TYPE),
            ("\"dataByAsin\"", search_query_performance::REPORT_TYPE),
            ("\"accountStatuses\"", account_health::REPORT_TYPE),
            ("\"performanceMetrics\"", account_health::REPORT_TYPE),
        ];
        return by_key
            .iter()
            .find(|(k, t)| json.contains(k) && other(t))
            .map(|(_, t)| *t);
    }
    let header = header_of(head, encoding_rs::WINDOWS_1252);
    REPORT_TYPES
        .iter()
        .copied()
        .find(|t| *t != expected && flat_columns(t).is_some() && lacking(t, &header).is_empty())
}

/// Rows of `table` stored for the account (and marketplace, if given).
fn stored(
    conn: &Connection,
    table: &str,
    account: &str,
    marketplace_id: Option<&str>,
) -> Result<i64, rusqlite::Error> {
    match marketplace_id {
        Some(m) => conn.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE account = ?1 AND marketplace_id = ?2"),
            rusqlite::params![account, m],
            |r| r.get(0),
        ),
        None => conn.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE account = ?1"),
            [account],
            |r| r.get(0),
        ),
    }
}

/// Counts of the import tables before a write, to tell new rows from
/// changed ones after it.
struct Before(Vec<(&'static str, i64)>);

impl Before {
    fn take(
        conn: &Connection,
        tables: &[&'static str],
        account: &str,
        marketplace_id: Option<&str>,
    ) -> Result<Before, rusqlite::Error> {
        tables
            .iter()
            .map(|t| Ok((*t, stored(conn, t, account, marketplace_id)?)))
            .collect::<Result<_, rusqlite::Error>>()
            .map(Before)
    }

    /// (new, changed) of `written` rows.
    fn split(
        &self,
        conn: &Connection,
        account: &str,
        marketplace_id: Option<&str>,
        written: u64,
    ) -> Result<(u64, u64), rusqlite::Error> {
        let mut new = 0;
        for (t, before) in &self.0 {
            new += (stored(conn, t, account, marketplace_id)? - before).max(0) as u64;
        }
        let new = new.min(written);
        Ok((new, written - new))
    }
}

/// One import's inputs.
struct Input<'a> {
    account: &'a str,
    mine: &'a [&'static Marketplace],
    marketplace: Option<&'a str>,
    report_type: &'a str,
    now: DateTime<Utc>,
    /// The file, for messages.
    source: &'a str,
}

impl Input<'_> {
    /// The error for a file that is not what was asked for.
    fn wrong(&self, problem: impl Into<String>, head: &[u8]) -> ImportError {
        ImportError::WrongFile {
            path: self.source.to_string(),
            report_type: self.report_type.to_string(),
            problem: problem.into(),
            looks_like: looks_like(head, self.report_type),
        }
    }

    fn import(
        &self,
        conn: &mut Connection,
        input: &mut dyn BufRead,
    ) -> Result<Imported, ImportError> {
        // The first bytes, to name what the file is when it is refused.
        let head = match input.fill_buf() {
            Ok(b) => b[..b.len().min(64 << 10)].to_vec(),
            Err(e) => return Err(self.wrong(format!("unreadable: {e}"), &[])),
        };
        match self.report_type {
            sales_traffic::REPORT_TYPE => self.sales_traffic(conn, input, &head),
            search_query_performance::REPORT_TYPE => self.sqp(conn, input, &head),
            account_health::REPORT_TYPE => self.account_health(conn, input, &head),
            _ => self.flat(conn, input, &head),
        }
    }

    /// A specification read after rows were stored for `m` (chosen
    /// without it): an error when it names other marketplaces of the
    /// account, unless `--marketplace` chose.
    fn after_rows(&self, rows_first: bool, ids: &[String], m: &Marketplace) -> Result<(), String> {
        let ours = |id: &String| self.mine.iter().any(|x| x.id == id);
        if !rows_first || self.marketplace.is_some() || ids.iter().any(|i| i == m.id) {
            return Ok(());
        }
        match ids.iter().find(|i| ours(i)) {
            Some(other) => Err(format!(
                "the document is for {other}, named after its rows, which were read as {}: name the marketplace with --marketplace",
                m.id
            )),
            None => Ok(()),
        }
    }

    /// A JSON document's `reportType`, when it names another.
    fn check_type(&self, named: Option<&str>) -> Result<(), String> {
        match named {
            Some(t) if t != self.report_type => {
                Err(format!("the document's reportSpecification names {t}"))
            }
            _ => Ok(()),
        }
    }

    /// The marketplace a streamed document's rows go to: the one chosen
    /// already, else the one `ids` (what the document says) pick, whose
    /// tables' counts are then taken (`before`).
    fn chosen(
        &self,
        tx: &Connection,
        tables: &[&'static str],
        m: &mut Option<&'static Marketplace>,
        before: &mut Option<Before>,
        ids: &[String],
    ) -> Result<&'static Marketplace, Stop> {
        if let Some(m) = *m {
            return Ok(m);
        }
        let picked = pick_marketplace(self.mine, self.marketplace, ids).map_err(Stop::Import)?;
        let taken = Before::take(tx, tables, self.account, Some(picked.id));
        *before = Some(taken.map_err(|e| Stop::Import(e.into()))?);
        *m = Some(picked);
        Ok(picked)
    }

    /// Commits an import and says what it did: `done.written` told apart
    /// into new and changed rows by the tables' counts `before` took (for
    /// marketplace `counted`; `None`: the account's). Without counts every
    /// written row counts as changed.
    fn commit(
        &self,
        tx: rusqlite::Transaction<'_>,
        before: Option<&Before>,
        counted: Option<&str>,
        mut done: Imported,
    ) -> Result<Imported, ImportError> {
        if let Some(b) = before {
            (done.new, done.changed) = b.split(&tx, self.account, counted, done.written)?;
        }
        tx.commit()?;
        Ok(done)
    }

    fn sales_traffic(
        &self,
        conn: &mut Connection,
        input: &mut dyn BufRead,
        head: &[u8],
    ) -> Result<Imported, ImportError> {
        const TABLES: [&str; 3] = [
            "sales_traffic_daily",
            "sales_traffic_asin",
            "sales_traffic_windows",
        ];
        let tx = conn.transaction()?;
        // Decided by the specification (Amazon writes it first), else by
        // the first row: rows are stored as they are read.
        let mut m: Option<&'static Marketplace> = None;
        let mut spec = sales_traffic::Spec::default();
        let mut by_child = sales_traffic::ByChild::default();
        let (mut days, mut parents, mut written) = (0usize, 0usize, 0u64);
        let mut before = None;
        let res = ru::read_parts(
            input,
            encoding_rs::UTF_8,
            &sales_traffic::DOCUMENT,
            sales_traffic::part,
            |part| {
                // Rows already stored for a marketplace chosen without the
                // specification (it came after them).
                let rows_first = m.is_some();
                if let sales_traffic::Part::Spec(s) = &part {
                    self.check_type(s.report_type.as_deref())
                        .and_then(|()| s.check())
                        .map_err(Stop::Wrong)?;
                    spec = s.clone();
                }
                let m = self.chosen(&tx, &TABLES, &mut m, &mut before, &spec.marketplace_ids)?;
                match part {
                    sales_traffic::Part::Spec(s) => self
                        .after_rows(rows_first, &s.marketplace_ids, m)
                        .map_err(Stop::Wrong)?,
                    sales_traffic::Part::Day(d) => {
                        let scope = self.scope(m);
                        written += store::write_daily(&tx, &scope, std::slice::from_ref(&d))
                            .map_err(|e| Stop::Import(e.into()))?;
                        days += 1;
                    }
                    sales_traffic::Part::Asin(a) => by_child.add(a),
                    sales_traffic::Part::ParentRow => parents += 1,
                }
                Ok(())
            },
        );
        self.json_result(res, head)?;
        let asins = by_child.finish();
        let Some(m) = m else {
            return Err(self.wrong(
                "no rows: the document has no salesAndTrafficByDate or salesAndTrafficByAsin rows",
                head,
            ));
        };
        let scope = self.scope(m);
        let mut what = format!("{days} days");
        let mut window = false;
        if let (Some(start), Some(end)) = (spec.start, spec.end) {
            if !asins.is_empty() || spec.asin_granularity.as_deref() == Some("CHILD") {
                let w = store::write_window(&tx, &scope, start, end, &asins, Absent::Keep)?;
                written += w.written;
                window = true;
                what.push_str(&format!(
                    ", {} ASINs for the window {start}..{end}",
                    asins.len()
                ));
                if w.kept > 0 {
                    what.push_str(&format!(", {} stored ASINs of the window kept", w.kept));
                }
            }
        }
        if parents > 0 {
            what.push_str(&format!(
                ", {parents} parent-level rows skipped (request asinGranularity CHILD)"
            ));
        }
        if days == 0 && !window {
            let why = if parents > 0 {
                format!("no rows flywheel stores: {parents} parent-level ASIN rows (download the report with asinGranularity CHILD)")
            } else {
                "no rows: the document has no salesAndTrafficByDate or salesAndTrafficByAsin rows"
                    .to_string()
            };
            return Err(self.wrong(why, head));
        }
        let table = "sales_traffic_daily, sales_traffic_asin";
        let done = Imported {
            detail: what,
            ..Imported::new(table, m, days + asins.len(), written)
        };
        self.commit(tx, before.as_ref(), Some(m.id), done)
    }

    fn sqp(
        &self,
        conn: &mut Connection,
        input: &mut dyn BufRead,
        head: &[u8],
    ) -> Result<Imported, ImportError> {
        const TABLES: [&str; 1] = ["search_query_performance"];
        let tx = conn.transaction()?;
        let mut m: Option<&'static Marketplace> = None;
        let mut ids: Vec<String> = Vec::new();
        let (mut rows, mut written) = (0usize, 0u64);
        let mut before = None;
        let res = ru::read_parts(
            input,
            encoding_rs::UTF_8,
            &search_query_performance::DOCUMENT,
            search_query_performance::part,
            |part| {
                match part {
                    search_query_performance::Part::Spec(s) => {
                        self.check_type(s.report_type.as_deref())
                            .and_then(|()| s.check_weekly())
                            .map_err(Stop::Wrong)?;
                        if let Some(m) = m {
                            self.after_rows(true, &s.marketplace_ids, m)
                                .map_err(Stop::Wrong)?;
                        }
                        ids = s.marketplace_ids;
                    }
                    search_query_performance::Part::Row(r) => {
                        let m = self.chosen(&tx, &TABLES, &mut m, &mut before, &ids)?;
                        written += store::write_sqp(&tx, &self.scope(m), std::slice::from_ref(&r))
                            .map_err(|e| Stop::Import(e.into()))?;
                        rows += 1;
                    }
                }
                Ok(())
            },
        );
        self.json_result(res, head)?;
        let (Some(m), Some(before)) = (m, before) else {
            return Err(self.wrong("no rows: the document has no dataByAsin rows", head));
        };
        let done = Imported {
            detail: "weekly rows".into(),
            ..Imported::new("search_query_performance", m, rows, written)
        };
        self.commit(tx, Some(&before), Some(m.id), done)
    }

    fn account_health(
        &self,
        conn: &mut Connection,
        input: &mut dyn BufRead,
        head: &[u8],
    ) -> Result<Imported, ImportError> {
        const TABLES: [&str; 1] = ["account_health_snapshots"];
        let ours: Vec<&str> = self.mine.iter().map(|m| m.id).collect();
        let doc = account_health::read(input, encoding_rs::UTF_8, |id| ours.contains(&id))
            .map_err(|e| self.wrong(e, head))?;
        self.check_type(doc.report_type.as_deref())
            .map_err(|e| self.wrong(e, head))?;
        let m = pick_marketplace(self.mine, self.marketplace, &[])?;
        if doc.rows.is_empty() {
            return Err(self.wrong(
                format!(
                    "no rows: the document has no account health of the account's marketplaces ({})",
                    ours.join(", ")
                ),
                head,
            ));
        }
        let tx = conn.transaction()?;
        let before = Before::take(&tx, &TABLES, self.account, None)?;
        let mut written = 0;
        let mut dated = Vec::new();
        for r in &doc.rows {
            // Dated by the report's own period; a document that names none
            // (not Amazon's shape) by the import day, and said so.
            let day = match account_health::reporting_day(r) {
                Some(d) => {
                    dated.push(format!("{} of {d}", r.marketplace_id));
                    d
                }
                None => {
                    let mk = marketplace::lookup(&r.marketplace_id).unwrap_or(m);
                    let d = ru::day_of(mk, self.now);
                    dated.push(format!(
                        "{} of {d} (the import day: the file names no reporting period)",
                        r.marketplace_id
                    ));
                    d
                }
            };
            written +=
                store::write_health(&tx, self.account, day, std::slice::from_ref(r), self.now)?;
        }
        let done = Imported {
            detail: format!("snapshot {}", dated.join(", ")),
            ..Imported::new("account_health_snapshots", m, doc.rows.len(), written)
        };
        // Counted for the account: a document covers its marketplaces.
        self.commit(tx, Some(&before), None, done)
    }

    fn flat(
        &self,
        conn: &mut Connection,
        input: &mut dyn BufRead,
        head: &[u8],
    ) -> Result<Imported, ImportError> {
        let m = pick_marketplace(self.mine, self.marketplace, &[])?;
        let encoding = document::charset(None, &[m.id.to_string()], head);
        let lacks = lacking(self.report_type, &header_of(head, encoding));
        if head.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(self.wrong("the file is empty", head));
        }
        if !lacks.is_empty() {
            return Err(self.wrong(format!("missing columns: {}", lacks.join(", ")), head));
        }
        let scope = self.scope(m);
        let tx = conn.transaction()?;
        // Rows counted for the marketplace (None: the account), and what
        // the summary says first.
        let mut counted = Some(m.id);
        let mut detail = String::new();
        let unreadable = |e: StreamError| match e {
            StreamError::Unreadable(e) => self.wrong(e, head),
            StreamError::Store(e) => ImportError::Store(e),
        };
        // (table, rows stored, rows inserted or changed, the reader's account)
        let (table, rows, written, read, before): (_, usize, u64, Streamed, _) = match self
            .report_type
        {
            inventory_planning::REPORT_TYPE => {
                let table = "inventory_planning";
                let before = Before::take(&tx, &[table], self.account, Some(m.id))?;
                let today = ru::day_of(m, self.now);
                let s = inventory_planning::store_stream(&tx, &scope, input, encoding, today, m)
                    .map_err(unreadable)?;
                (table, s.rows as usize, s.written, s.read, before)
            }
            returns::FBA_REPORT_TYPE | returns::MFN_REPORT_TYPE => {
                let table = "returns";
                let before = Before::take(&tx, &[table], self.account, Some(m.id))?;
                let s = returns::store_stream(&tx, &scope, self.report_type, input, encoding, m)
                    .map_err(unreadable)?;
                (table, s.read.rows as usize, s.written, s.read, before)
            }
            seller_feedback::REPORT_TYPE => {
                let table = "seller_feedback";
                let before = Before::take(&tx, &[table], self.account, Some(m.id))?;
                let (read, written) =
                    seller_feedback::store_stream(&tx, &scope, input, encoding, m)
                        .map_err(unreadable)?;
                let read = read.optional(seller_feedback::OPTIONAL);
                (table, read.rows as usize, written, read, before)
            }
            orders::REPORT_TYPE | ORDERS_BY_ORDER_DATE => {
                // Through the orders job's history path: the same parser
                // and writer, so the rows are the ones a sync stores.
                // order_items has no marketplace column: counted for the
                // account.
                let table = "orders, order_items";
                let before = Before::take(&tx, &["orders", "order_items"], self.account, None)?;
                let s =
                    orders::store_report(&tx, self.account, input, encoding, m.id, m.tz, self.now)
                        .map_err(unreadable)?;
                counted = None;
                detail = format!("{} orders, {} lines, ", s.orders, s.read.rows);
                (table, s.orders as usize, s.written, s.read, before)
            }
            other => return Err(ImportError::UnknownType(other.to_string())),
        };
        if rows == 0 {
            let why = match read.issues.first() {
                Some(first) => format!(
                    "no valid row: {} malformed row(s) skipped (first: {first})",
                    read.skipped
                ),
                None => "no rows: the file has a header and no rows".to_string(),
            };
            return Err(self.wrong(why, head));
        }
        // Every skipped row the reader kept, each with its line and column.
        let problems = match read.summary {
            Some(summary) if read.issues.len() > 1 => {
                let rows: Vec<String> = read.issues.iter().map(|i| format!("  {i}")).collect();
                Some(format!("{summary}:\n{}", rows.join("\n")))
            }
            summary => summary,
        };
        let done = Imported {
            problems,
            detail: format!("{detail}{} decoding", encoding.name()),
            ..Imported::new(table, m, rows, written)
        };
        self.commit(tx, Some(&before), counted, done)
    }

    fn scope(&self, m: &'static Marketplace) -> Scope<'_> {
        Scope {
            account: self.account,
            marketplace_id: m.id,
            now: self.now,
        }
    }

    /// A streamed JSON document's outcome as the import's.
    fn json_result(
        &self,
        res: Result<(), JsonError<Stop>>,
        head: &[u8],
    ) -> Result<(), ImportError> {
        match res {
            Ok(()) => Ok(()),
            Err(JsonError::Parse(e)) | Err(JsonError::Stop(Stop::Wrong(e))) => {
                Err(self.wrong(e, head))
            }
            Err(JsonError::Stop(Stop::Import(e))) => Err(e),
        }
    }
}

/// Why an import stopped inside a streamed document.
enum Stop {
    /// The file is not what was asked for.
    Wrong(String),
    Import(ImportError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = crate::store::testing::db();
        c.execute_batch(
            "INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency, created_at, updated_at)
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

    /// Imports `bytes` as `report_type` into account `a`, whose one
    /// marketplace is the US (`told`: the marketplace the command names).
    fn import(
        c: &mut Connection,
        told: Option<&str>,
        report_type: &str,
        bytes: &[u8],
    ) -> Result<Imported, ImportError> {
        let us = [marketplace::lookup("US").unwrap()];
        import_bytes(c, "a", &us, told, report_type, bytes, now())
    }

    #[test]
    fn latin1_feedback_twice_changes_nothing_the_second_time() {
        let mut c = db();
        let text = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n02/10/26\t1\tcass\u{e9}\t\t111-1\tx@y\n";
        let bytes = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
        let r = import(&mut c, None, seller_feedback::REPORT_TYPE, &bytes).unwrap();
        assert_eq!((r.rows, r.written), (1, 1));
        let comment: String = c
            .query_row("SELECT comments FROM seller_feedback", [], |r| r.get(0))
            .unwrap();
        assert_eq!(comment, "cass\u{e9}");
        let again = import(&mut c, None, seller_feedback::REPORT_TYPE, &bytes).unwrap();
        assert_eq!(again.written, 0);
    }

    #[test]
    fn unknown_types_and_marketplaces_are_refused() {
        let mut c = db();
        assert!(matches!(
            import(&mut c, None, "GET_NOPE", b""),
            Err(ImportError::UnknownType(_))
        ));
        assert!(matches!(
            import(&mut c, Some("DE"), seller_feedback::REPORT_TYPE, b""),
            Err(ImportError::Marketplace(_))
        ));
        assert!(matches!(
            import(&mut c, None, account_health::REPORT_TYPE, b"{"),
            Err(ImportError::WrongFile { .. })
        ));
    }
}
