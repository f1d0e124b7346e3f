//! The fuzz targets' bodies: one function per parser of untrusted input,
//! bytes in, panicking on any broken promise.
//!
//! Shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/*.rs`, which are
//! one line each) and the stable property tests (`tests/fuzz_props.rs`
//! includes this file with `#[path]`), so both check the same things.
//!
//! What every target checks, besides "no panic": the parser either returns
//! rows, never more than the input could hold (flat files: one per line
//! after the header; JSON: one per `{`), or an error that says where
//! (a line and column, a row number, a key path).
//!
//! Flat files are read in each charset Amazon uses (UTF-8, Windows-1252,
//! cp932), so a seed is just a report file, with no selector byte.

use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use encoding_rs::Encoding;
use flywheel::amazon::{ads as ads_api, document};
use flywheel::config::{Config, Env};
use flywheel::model::marketplace;
use flywheel::sync::flatfile::{self, Column, Parsed, Reader};
use flywheel::sync::{
    account_health, ads, import, inventory_planning, orders, returns, sales_traffic,
    search_query_performance, seller_feedback,
};

/// A target: panics when the parser breaks a promise on `data`.
pub type Target = fn(&[u8]);

/// Every target by name (the names of `fuzz/fuzz_targets/*.rs`).
pub const TARGETS: &[(&str, Target)] = &[
    ("import_bytes", import_bytes),
    ("sales_traffic", sales_traffic),
    ("search_query_performance", search_query_performance),
    ("account_health", account_health),
    ("inventory_planning", inventory_planning),
    ("returns", returns),
    ("seller_feedback", seller_feedback),
    ("orders", orders),
    ("flatfile", flatfile),
    ("report_document", report_document),
    ("ads_report", ads_report),
    ("config", config),
];

const ENCODINGS: [&Encoding; 3] = [
    encoding_rs::UTF_8,
    encoding_rs::WINDOWS_1252,
    encoding_rs::SHIFT_JIS,
];

/// Lines as the flat-file reader counts them (split at LF).
fn lines(data: &[u8]) -> usize {
    let lf = data.iter().filter(|b| **b == b'\n').count();
    lf + usize::from(!data.is_empty() && !data.ends_with(b"\n"))
}

/// An upper bound on the objects a JSON text holds.
fn objects(text: &str) -> usize {
    text.matches('{').count()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
        .expect("a valid time")
        .with_timezone(&Utc)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).expect("a valid day")
}

/// A flat-file parse result: rows and skipped rows fit in the data lines,
/// every issue points at one of them, and a summary names the first.
fn check_flat<T: std::fmt::Debug>(
    what: &str,
    data: &[u8],
    res: Result<Parsed<T>, String>,
) -> Option<Parsed<T>> {
    let n = lines(data);
    match res {
        Ok(p) => {
            let data_lines = n.saturating_sub(1);
            assert!(
                p.rows.len() as u64 + p.skipped <= data_lines as u64,
                "{what}: {} rows + {} skipped from {data_lines} data lines",
                p.rows.len(),
                p.skipped
            );
            assert!(
                p.issues.len() as u64 <= p.skipped,
                "{what}: issues beyond skipped"
            );
            for i in &p.issues {
                assert!(
                    (2..=n).contains(&i.line),
                    "{what}: issue at line {} of {n}: {i}",
                    i.line
                );
            }
            if p.skipped > 0 {
                let s = p.summary.as_deref().unwrap_or_default();
                assert!(s.contains("line "), "{what}: summary without a line: {s:?}");
            }
            assert_sane(what, &p.rows);
            Some(p)
        }
        Err(e) => {
            assert!(e.contains("unreadable"), "{what}: unexpected error {e:?}");
            None
        }
    }
}

/// A JSON parse error says where (serde_json's "line L column C") or what.
fn check_json_err(what: &str, e: &str) {
    assert!(
        (e.contains("line ") && e.contains("column ")) || e.contains("not a JSON object"),
        "{what}: error that does not say where: {e:?}"
    );
}

/// A date in some text: `-MM-DD` after a run of digits, with the sign
/// before them if any.
struct Date<'a> {
    text: &'a [u8],
    year: &'a [u8],
    signed: bool,
}

impl Date<'_> {
    /// What the tables CHECK: `YYYY-MM-DD`, four digits, no sign.
    fn is_storable(&self) -> bool {
        self.year.len() == 4 && !self.signed
    }
}

/// Every date-like run in `b`.
fn dates(b: &[u8]) -> impl Iterator<Item = Date<'_>> {
    let digits = move |from: usize, n: usize| {
        b.get(from..from + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    (1..b.len()).filter_map(move |i| {
        let at_date =
            b[i] == b'-' && digits(i + 1, 2) && b.get(i + 3) == Some(&b'-') && digits(i + 4, 2);
        if !at_date {
            return None;
        }
        let start = b[..i]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |p| p + 1);
        if start == i {
            return None;
        }
        let signed = start > 0 && matches!(b[start - 1], b'-' | b'+');
        Some(Date {
            text: &b[start - usize::from(signed)..i + 6],
            year: &b[start..i],
            signed,
        })
    })
}

/// Text as `import` reads JSON reports.
fn utf8(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// No number in `rows` is NaN or infinite: the rules would compare and
/// sum them (a NaN makes every comparison false, a sum with an infinity
/// stays infinite) and SQLite stores a NaN as NULL. And every date has a
/// four-digit year, as the tables CHECK (`YYYY-MM-DD`): chrono writes
/// other years with a sign (`-0026-02-02`, `+12026-01-01`). Read from the
/// `Debug` text (strings skipped), so it needs no field names: the row
/// types are free to change.
fn assert_sane(what: &str, rows: &impl std::fmt::Debug) {
    let shown = format!("{rows:?}");
    let mut outside = String::with_capacity(shown.len());
    let mut chars = shown.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            outside.push(c);
            continue;
        }
        // A string literal: skip to its closing quote (escapes included).
        outside.push(' ');
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
    }
    let b = outside.as_bytes();
    let is_word = |i: usize| {
        b.get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    if let Some(date) = dates(b).find(|d| !d.is_storable()) {
        panic!(
            "{what}: a date the store cannot write: {}",
            String::from_utf8_lossy(date.text)
        );
    }
    for word in ["NaN", "inf"] {
        for (at, _) in outside.match_indices(word) {
            if (at > 0 && is_word(at - 1)) || is_word(at + word.len()) {
                continue;
            }
            // The field it is in: back to the start of the field.
            let from = outside[..at].rfind(['{', ',']).map_or(0, |i| i + 1);
            panic!(
                "{what}: a non-finite number: {}",
                outside[from..at + word.len()].trim()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Seller reports

fn import_db() -> rusqlite::Connection {
    let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
    flywheel::store::migrate(&mut conn, ":memory:").expect("migrations");
    conn.execute_batch(
        "INSERT INTO accounts (name, region, created_at, updated_at)
           VALUES ('a', 'na', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
         INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency, created_at, updated_at)
           VALUES ('a', 'ATVPDKIKX0DER', 'US', 'America/Los_Angeles', 'USD', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
    )
    .expect("account rows");
    conn
}

thread_local! {
    /// One database for many inputs (migrating per input would dominate),
    /// started afresh now and then so it stays small.
    static IMPORT_DB: std::cell::RefCell<(rusqlite::Connection, u32)> =
        std::cell::RefCell::new((import_db(), 0));
}

/// `import::import_bytes`: every seller-report parser and its store, on an
/// in-memory database, for each report type `import` knows.
pub fn import_bytes(data: &[u8]) {
    IMPORT_DB.with_borrow_mut(|(conn, uses)| {
        *uses += 1;
        if *uses > 500 {
            *conn = import_db();
            *uses = 1;
        }
        import_into(conn, data);
    });
}

fn import_into(conn: &mut rusqlite::Connection, data: &[u8]) {
    let us = [marketplace::lookup("US").expect("US")];
    let text = utf8(data);
    // Flat files: a row per line; JSON: a day or an ASIN per object.
    let bound = lines(data).max(2 * objects(&text));
    for report_type in import::REPORT_TYPES {
        // An import never removes a stored row.
        let stored = import_rows(conn);
        match import::import_bytes(conn, "a", &us, None, report_type, data, now()) {
            Ok(r) => {
                assert!(
                    r.rows <= bound,
                    "{report_type}: {} rows, at most {bound}",
                    r.rows
                );
                // Sales & traffic also records the window it covers.
                assert!(r.written as usize <= r.rows + 1, "{report_type}: {r}");
                // Only a sales & traffic window may hold no row (no ASIN had
                // orders): anything else with no row is refused.
                assert!(
                    r.rows > 0 || *report_type == sales_traffic::REPORT_TYPE,
                    "{report_type}: stored nothing, said ok: {r}"
                );
                assert_eq!(r.new + r.changed, r.written, "{report_type}: {r}");
            }
            Err(e @ import::ImportError::WrongFile { .. }) => {
                let import::ImportError::WrongFile {
                    ref problem,
                    ref report_type,
                    ..
                } = e
                else {
                    unreachable!()
                };
                assert!(e.to_string().contains(report_type.as_str()), "{e}");
                check_refusal(report_type, problem);
            }
            Err(e) => panic!("{report_type}: import failed outside parsing: {e}"),
        }
        let now_stored = import_rows(conn);
        assert!(
            now_stored.iter().zip(&stored).all(|(a, b)| a >= b),
            "{report_type}: rows removed: {stored:?} -> {now_stored:?}"
        );
    }
}

/// Rows of each table `import` writes.
fn import_rows(conn: &rusqlite::Connection) -> Vec<i64> {
    [
        "sales_traffic_daily",
        "sales_traffic_asin",
        "sales_traffic_windows",
        "search_query_performance",
        "inventory_planning",
        "returns",
        "seller_feedback",
        "account_health_snapshots",
    ]
    .iter()
    .map(|t| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            .expect("a count")
    })
    .collect()
}

/// Why `import` refused a file: it says what is wrong, and where when the
/// document does not parse.
fn check_refusal(report_type: &str, problem: &str) {
    let known = [
        "unreadable",
        "missing columns: ",
        "the file is empty",
        "no rows",
        "no valid row: ",
        "reportSpecification names ",
        "dateGranularity ",
        "reportPeriod ",
        " is after its dataEndTime ",
        "were read as ",
    ];
    if !known.iter().any(|k| problem.contains(k)) {
        check_json_err(report_type, problem);
    }
}

pub fn sales_traffic(data: &[u8]) {
    let text = utf8(data);
    match sales_traffic::parse(&text) {
        Ok(doc) => {
            let n = objects(&text);
            assert!(doc.days.len() <= n && doc.asins.len() <= n);
            // One row per child ASIN, in order (rows per SKU are added up).
            assert!(doc.asins.windows(2).all(|w| w[0].asin < w[1].asin));
            assert_sane("sales_traffic", &doc);
        }
        Err(e) => check_json_err("sales_traffic", &e),
    }
}

pub fn search_query_performance(data: &[u8]) {
    let text = utf8(data);
    match search_query_performance::parse(&text) {
        Ok(rows) => {
            assert!(rows.len() <= objects(&text));
            for r in &rows {
                // The table CHECKs that weeks start on Sunday.
                assert_eq!(r.week_start.weekday(), Weekday::Sun, "{r:?}");
            }
            assert_sane("search_query_performance", &rows);
        }
        Err(e) => check_json_err("search_query_performance", &e),
    }
}

pub fn account_health(data: &[u8]) {
    let text = utf8(data);
    match account_health::parse(&text) {
        Ok(rows) => {
            assert!(rows.len() <= objects(&text));
            for (i, r) in rows.iter().enumerate() {
                assert!(
                    rows[..i]
                        .iter()
                        .all(|o| o.marketplace_id != r.marketplace_id),
                    "two rows for {}",
                    r.marketplace_id
                );
            }
            assert_sane("account_health", &rows);
        }
        Err(e) => check_json_err("account_health", &e),
    }
}

pub fn inventory_planning(data: &[u8]) {
    let us = marketplace::lookup("US").expect("US");
    for enc in ENCODINGS {
        let res = inventory_planning::parse(data, enc, today(), us);
        check_flat("inventory_planning", data, res);
    }
}

pub fn returns(data: &[u8]) {
    let us = marketplace::lookup("US").expect("US");
    let jp = marketplace::lookup("JP").expect("JP");
    for enc in ENCODINGS {
        for (rt, m) in [
            (returns::FBA_REPORT_TYPE, us),
            (returns::MFN_REPORT_TYPE, jp),
        ] {
            check_flat("returns", data, returns::parse(rt, data, enc, m));
        }
    }
}

pub fn seller_feedback(data: &[u8]) {
    // One marketplace of each date form.
    for key in ["US", "UK", "DE", "SE", "JP"] {
        let m = marketplace::lookup(key).expect(key);
        for enc in ENCODINGS {
            check_flat(
                "seller_feedback",
                data,
                seller_feedback::parse(data, enc, m),
            );
        }
    }
}

/// The all-orders flat file: lines of one order gathered into one order.
pub fn orders(data: &[u8]) {
    let n = lines(data).saturating_sub(1);
    for enc in ENCODINGS {
        let (orders, summary) =
            orders::parse_report(data, enc, "ATVPDKIKX0DER", chrono_tz::America::Los_Angeles);
        let items: usize = orders.iter().map(|(_, items)| items.len()).sum();
        assert!(orders.len() <= n, "{} orders from {n} lines", orders.len());
        assert!(items <= n, "{items} items from {n} lines");
        // Every order has a line of its own (lines are gathered by SKU).
        assert!(orders.iter().all(|(_, items)| !items.is_empty()));
        // The account of skipped rows says where, or which columns lack.
        if let Some(s) = summary {
            assert!(
                s.contains("line ") || s.contains("missing columns"),
                "orders: summary that does not say where: {s:?}"
            );
        }
        assert_sane("orders", &orders);
    }
}

// ---------------------------------------------------------------------------
// Documents and the generic reader

static COLUMNS: [Column; 4] = [
    Column::alias("order-id", &["amazon-order-id", "Order ID"]),
    Column::new("sku"),
    Column::new("quantity"),
    Column::new("item-price"),
];

/// `sync::flatfile::Reader`: records have the header's width, lines go up,
/// every accessor answers without panicking.
pub fn flatfile(data: &[u8]) {
    let n = lines(data);
    for enc in ENCODINGS {
        // The one refusal a byte slice can meet: a line past MAX_LINE.
        let long = |e: &std::io::Error| {
            assert!(
                e.to_string().contains("is longer than"),
                "a byte slice reads: {e}"
            );
        };
        let mut r = match Reader::new(data, enc, &COLUMNS) {
            Ok(r) => r,
            Err(e) => {
                long(&e);
                continue;
            }
        };
        let mut last = 1;
        let mut seen = 0;
        loop {
            let rec = match r.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(e) => {
                    long(&e);
                    break;
                }
            };
            assert!(
                rec.line > last && rec.line <= n,
                "line {} after {last}",
                rec.line
            );
            last = rec.line;
            seen += 1;
            for c in &COLUMNS {
                let _ = rec.get(c.name);
                if let Ok(Some(v)) = rec.num(c.name) {
                    assert!(v.is_finite());
                }
                if let Err(issue) = rec.int(c.name) {
                    assert_eq!(issue.line, rec.line);
                    assert!(issue.to_string().starts_with("line "));
                }
                let _ = rec.req(c.name);
            }
        }
        assert!(seen <= n.saturating_sub(1));
        let _ = r.summary();
    }
    for cell in String::from_utf8_lossy(data).split(['\t', '\n']) {
        let _ = flatfile::fold(cell);
        if let Some(v) = flatfile::parse_number(cell) {
            assert!(v.is_finite(), "{cell:?} read as {v}");
        }
    }
}

/// `amazon::document::{decompress, charset}`: plain bytes pass through,
/// gzip inflates or fails with a message; a charset is always chosen.
pub fn report_document(data: &[u8]) {
    assert_eq!(document::decompress(data, false).as_deref(), Ok(data));
    let gz = data.starts_with(&[0x1f, 0x8b]);
    let whole = document::decompress(data, true);
    match &whole {
        Ok(out) => assert!(gz || out == data),
        Err(e) => assert!(gz && e.contains("gunzip"), "{e}"),
    }
    // The jobs read documents through the streaming gunzip (a second
    // thread inflating ahead): the same bytes, or an error where the
    // whole-document gunzip has one.
    let streamed = document::gunzip_stream(data, true, |input| {
        let mut out = Vec::new();
        std::io::Read::read_to_end(input, &mut out).map(|_| out)
    });
    match (&whole, streamed) {
        (Ok(a), Ok(b)) => assert!(*a == b, "streamed gunzip differs"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("gunzip {a:?} but streamed {b:?}"),
    }
    // The first line stands in for a Content-Type header.
    let head = String::from_utf8_lossy(data.split(|b| *b == b'\n').next().unwrap_or_default());
    let ids = ["A1VC38T7YXB528".to_string(), "ATVPDKIKX0DER".to_string()];
    for ct in [None, Some(head.as_ref())] {
        for m in [&ids[..1], &ids[1..]] {
            let enc = document::charset(ct, m, data);
            let _ = enc.decode_without_bom_handling(data);
        }
    }
}

/// The Ads report reader: a (gzipped) JSON array of objects, then rows of
/// each report type's table. One row per object, or an error naming the row.
pub fn ads_report(data: &[u8]) {
    let objs = match ads_api::parse_document(data) {
        Ok(o) => o,
        Err(e) => {
            assert!(
                e.contains("gzip") || e.contains("JSON array") || e.contains("not an object"),
                "{e}"
            );
            return;
        }
    };
    for kind in ads::REPORTS {
        match ads::parse_rows(kind, &objs, "USD") {
            Ok(rows) => {
                assert_eq!(rows.len(), objs.len(), "{}", kind.report_type);
                assert_sane(kind.report_type, &rows);
            }
            Err(e) => {
                let i: usize = e
                    .strip_prefix("row ")
                    .and_then(|r| r.split(':').next())
                    .and_then(|i| i.parse().ok())
                    .unwrap_or_else(|| panic!("{}: error without a row: {e}", kind.report_type));
                assert!(i < objs.len(), "{e}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Config

/// `Config::from_toml`: valid, or every problem names a key or a line that
/// exists.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let n = text.lines().count() + 1;
    let path = Path::new("/nonexistent/flywheel-fuzz/flywheel.toml");
    match Config::from_toml(text, path, &Env::default()) {
        Ok(c) => {
            let _ = c.summary();
        }
        Err(e) => {
            assert!(!e.problems.is_empty(), "an error without problems");
            for p in &e.problems {
                assert!(
                    !p.path.is_empty() || p.position.is_some(),
                    "a problem naming neither key nor line: {p:?}"
                );
                if let Some(pos) = p.position {
                    assert!(pos.line >= 1 && pos.line <= n, "{p:?} in {n} lines");
                }
            }
            let _ = e.to_string();
        }
    }
}
