//! `flywheel import` against files nobody on the project wrote: a gzip
//! bomb (peak memory measured from the child's `VmHWM`), a window imported
//! over stored rows, Amazon's own WEEK and MONTH sales & traffic examples,
//! junk files, Amazon's 2020 account health example, and every fixture of
//! every supported type compared with what the code before these fixes
//! stored (`tests/fixtures/import_baseline.txt`).
//!
//! Amazon's example documents are read from Amazon's models
//! (`common/amazon_models.rs`: `FLYWHEEL_AMAZON_MODELS` or `../shared/amazon`
//! beside the repository), never copied in; the tests that need them skip
//! without them.
//! Every run is the real binary on a real SQLite file; its clock is a
//! fixed instant served on 127.0.0.1, so stored rows are reproducible.

#[path = "common/amazon_models.rs"]
mod amazon_models;
mod common;
#[path = "common/import_cli.rs"]
mod import_cli;
use import_cli::{Env, Run};

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rusqlite::types::Value;

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

/// Amazon's report schema `name` (with its `examples`), from Amazon's
/// models (the test checked [`amazon_models::missing`] first).
fn amazon_schema(name: &str) -> serde_json::Value {
    let p = amazon_models::path()
        .join("sp-api/report-schemas")
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
    if amazon_models::missing() {
        return;
    }
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

/// The baseline's rows with the changes these fixes intend: an account
/// health snapshot is dated by the report's latest `reportingDateTo`, no
/// longer by the import day (2026-03-02 in the baseline).
fn intended(name: &str, rows: &[String]) -> Vec<String> {
    let dated = match name {
        "fuzz/seeds/import_bytes/account_health.json" => Some("2026-03-01"),
        "amazon accountHealthReport-2020-11-18.json example 0" => Some("2020-11-19"),
        _ => None,
    };
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| match dated {
            Some(d) if r.starts_with("account_health_snapshots: ") => r.replace(
                "snapshot_date=Text(\"2026-03-02\")",
                &format!("snapshot_date=Text(\"{d}\")"),
            ),
            _ => r.clone(),
        })
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------
// Item 3: memory and the decompressed-size ceiling

/// Peak resident memory the import may reach, whatever the file's size.
const MAX_PEAK_KIB: u64 = 64 * 1024;
/// Beyond this the child is killed at once (the code before the fix
/// reached 12.7 GB on a 2 GiB bomb): the test fails, the machine lives.
const KILL_AT_KIB: u64 = 512 * 1024;

/// `VmHWM` (peak resident set) of process `pid`, KiB; `None` once it has
/// exited.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs the import, reading the child's `VmHWM` until it exits: the run
/// and the highest peak seen.
fn import_measured(env: &Env, report_type: &str, file: &Path) -> (Run, u64) {
    let mut child = env
        .command(report_type, file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn flywheel");
    let pid = child.id();
    let mut peak = 0;
    // Bounded: a debug build reads 2 GiB in well under ten minutes.
    for _ in 0..600_000 {
        if let Some(kib) = vm_hwm(pid) {
            peak = peak.max(kib);
        }
        if peak > KILL_AT_KIB {
            let _ = child.kill();
            let _ = child.wait();
            panic!("flywheel import passed {peak} KiB resident; killed");
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let out = child.wait_with_output().expect("output");
    (Run::from(out), peak)
}

/// Writes a gzip file of `header`, `row`, then blank-looking lines (64
/// KiB of spaces each) up to `total` decompressed bytes: a bomb whose every
/// byte must go through decompression and the flat-file reader. The lines
/// are one gzip member repeated (a gzip file may hold several, read as one
/// stream), so writing 2 GiB takes a second.
fn write_bomb(path: &Path, header: &str, row: &str, total: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("bomb file"));
    f.write_all(&gzip(format!("{header}{row}").as_bytes()))
        .expect("write");
    let mut line = vec![b' '; (64 << 10) - 1];
    line.push(b'\n');
    let block: Vec<u8> = line.iter().copied().cycle().take(16 << 20).collect();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&block).expect("gzip");
    let member = e.finish().expect("gzip");
    let mut written = (header.len() + row.len()) as u64;
    while written < total {
        f.write_all(&member).expect("write");
        written += block.len() as u64;
    }
    f.flush().expect("flush");
}

const FEEDBACK_HEADER: &str = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n";
const FEEDBACK_ROW: &str = "02/10/26\t1\tBroken on arrival\t\t111-0000001-0000001\tx@example.com\n";

/// Writes `total` zero bytes gzipped (about 2 MB for 2 GiB): the bomb of
/// the issue.
fn write_zeros(path: &Path, total: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("bomb file"));
    let block = vec![0u8; 16 << 20];
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&block).expect("gzip");
    let member = e.finish().expect("gzip");
    for _ in 0..total / block.len() as u64 {
        f.write_all(&member).expect("write");
    }
    f.flush().expect("flush");
}

/// A 2 MB gzip of zeros that expands to 2 GiB, imported as each supported
/// type, is read as a stream and refused as what it is (not a report), in
/// well under 64 MiB: before, it was gunzipped whole into memory first.
#[test]
fn a_gzip_bomb_is_refused_in_bounded_memory() {
    let env = Env::new("");
    let bomb = env.dir.path().join("bomb.gz");
    write_zeros(&bomb, 2 << 30);
    let gz_size = std::fs::metadata(&bomb).expect("bomb").len();
    assert!(gz_size < 4 << 20, "the bomb is {gz_size} bytes");
    for rt in ALL_TYPES {
        let (run, peak) = import_measured(&env, rt, &bomb);
        eprintln!("2 GiB of zeros ({gz_size} bytes gzipped) as {rt}: peak {peak} KiB");
        let err = run.failed();
        assert!(err.contains(rt) && err.contains("bomb.gz"), "{err}");
        assert!(
            peak < MAX_PEAK_KIB,
            "{rt}: peak resident memory {peak} KiB, more than {MAX_PEAK_KIB} KiB"
        );
    }
    assert_eq!(dump(&env.db()), Vec::<String>::new());
}

/// 256 MiB of report (a feedback row, then blank-looking lines) gzipped
/// to 256 KB is read to its end, every byte through decompression and the
/// flat-file reader: the row is stored, and memory stays bounded.
#[test]
fn a_large_flat_file_is_streamed_to_its_end() {
    streamed_flat(256 << 20);
}

/// [`a_large_flat_file_is_streamed_to_its_end`] with the issue's 2 GiB.
/// About 90 s of CPU in a debug build (the reader's per-byte work is not
/// optimised there): run by `.ci/run`.
#[test]
#[ignore = "about 90 s of CPU in a debug build; run by .ci/run"]
fn a_2_gib_flat_bomb_is_streamed_to_its_end() {
    streamed_flat(2 << 30);
}

fn streamed_flat(total: u64) {
    let env = Env::new("");
    let bomb = env.dir.path().join("bomb.tsv.gz");
    write_bomb(&bomb, FEEDBACK_HEADER, FEEDBACK_ROW, total);
    let gz_size = std::fs::metadata(&bomb).expect("bomb").len();
    let (run, peak) = import_measured(&env, FEEDBACK, &bomb);
    eprintln!("{total} bytes of report ({gz_size} bytes gzipped): peak {peak} KiB; {run:?}");
    let out = run.ok();
    assert!(out.contains("1 rows read"), "{out}");
    assert_eq!(env.int("SELECT COUNT(*) FROM seller_feedback"), 1);
    assert!(
        peak < MAX_PEAK_KIB,
        "peak resident memory {peak} KiB, more than {MAX_PEAK_KIB} KiB"
    );
}

/// Past `[sync] max_document_mib` of decompressed bytes the import stops,
/// stores nothing, and says which key to raise.
#[test]
fn a_document_past_the_ceiling_is_refused() {
    let env = Env::new("max_document_mib = 16");
    let bomb = env.dir.path().join("bomb.tsv.gz");
    write_bomb(&bomb, FEEDBACK_HEADER, FEEDBACK_ROW, 64 << 20);
    let (run, peak) = import_measured(&env, FEEDBACK, &bomb);
    let err = run.failed();
    assert!(
        err.contains("16 MiB") && err.contains("[sync] max_document_mib"),
        "{err}"
    );
    assert!(err.contains("bomb.tsv.gz"), "names the file: {err}");
    assert_eq!(env.int("SELECT COUNT(*) FROM seller_feedback"), 0);
    assert!(peak < MAX_PEAK_KIB, "peak {peak} KiB");
}

/// A JSON report is streamed too: a sales & traffic document of 32 MiB
/// (one day repeated, 200,000 times) is read an element at a time, each
/// stored as it is read, in bounded memory (before, the text and a tree of
/// every element were held: hundreds of MiB).
#[test]
fn a_large_json_document_is_streamed() {
    let env = Env::new("");
    let path = env.dir.path().join("st.json.gz");
    let f = std::fs::File::create(&path).expect("file");
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::default());
    let head = r#"{"reportSpecification":{"reportType":"GET_SALES_AND_TRAFFIC_REPORT","reportOptions":{"dateGranularity":"DAY","asinGranularity":"CHILD"},"dataStartTime":"2026-02-01","dataEndTime":"2026-02-01","marketplaceIds":["ATVPDKIKX0DER"]},"salesAndTrafficByDate":["#;
    gz.write_all(head.as_bytes()).expect("write");
    let day = r#"{"date":"2026-02-01","salesByDate":{"unitsOrdered":3,"orderedProductSales":{"amount":30.5,"currencyCode":"USD"}},"trafficByDate":{"sessions":120,"pageViews":200}}"#;
    let mut block = String::new();
    while block.len() < 1 << 20 {
        block.push_str(day);
        block.push(',');
    }
    let mut written = head.len() as u64;
    while written < 32 << 20 {
        gz.write_all(block.as_bytes()).expect("write");
        written += block.len() as u64;
    }
    gz.write_all(day.as_bytes()).expect("write");
    gz.write_all(br#"],"salesAndTrafficByAsin":[]}"#)
        .expect("write");
    gz.finish().expect("gzip").flush().expect("flush");
    let (run, peak) = import_measured(&env, ST, &path);
    eprintln!("32 MiB sales & traffic JSON: peak {peak} KiB; {run:?}");
    run.ok();
    assert_eq!(
        env.int("SELECT sessions FROM sales_traffic_daily WHERE date = '2026-02-01'"),
        120
    );
    assert!(peak < MAX_PEAK_KIB, "peak {peak} KiB");
}

/// Writes an FBA returns file of `n` distinct returns, gzipped, the first
/// return on two lines (quantities 1 and 2, added up to 3).
fn write_returns(path: &Path, n: u64) {
    let f = std::fs::File::create(path).expect("file");
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::fast());
    gz.write_all(b"return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\tdetailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments\n")
        .expect("write");
    for i in 0..n {
        let lines = if i == 0 { 2 } else { 1 };
        for q in 1..=lines {
            writeln!(
                gz,
                "2026-02-10T14:03:00+00:00\t111-{:07}-{:07}\tSKU-{}\tB00000{:04}\tX00{:07}\tWidget number {}\t{q}\tPHX3\tSELLABLE\tDEFECTIVE\tUnit returned to inventory\tLPN{i:09}\tarrived broken\n",
                i / 10_000_000,
                i % 10_000_000,
                i % 997,
                i % 9973,
                i,
                i % 100,
            )
            .expect("write");
        }
    }
    gz.finish().expect("gzip").flush().expect("flush");
}

/// An FBA returns file is stored as it is read, not held whole until its
/// end: `n` distinct returns import in bounded memory, the two lines of
/// one return are added up, and importing the same file again stores the
/// same quantities (it does not add them twice).
fn streamed_returns(n: u64) {
    let env = Env::new("");
    let path = env.dir.path().join("returns.tsv.gz");
    write_returns(&path, n);
    let (run, peak) = import_measured(&env, FBA, &path);
    eprintln!("{n} FBA returns: peak {peak} KiB; {run:?}");
    let out = run.ok();
    assert!(out.contains(&format!("{n} rows read")), "{out}");
    assert_eq!(env.int("SELECT COUNT(*) FROM returns"), n as i64);
    let first = "SELECT quantity FROM returns WHERE return_ref = 'LPN000000000'";
    assert_eq!(env.int(first), 3, "the two lines of one return added up");
    assert!(
        peak < MAX_PEAK_KIB,
        "peak resident memory {peak} KiB, more than {MAX_PEAK_KIB} KiB"
    );
    let (run, peak) = import_measured(&env, FBA, &path);
    run.ok();
    assert_eq!(env.int(first), 3, "a re-import does not add up again");
    assert_eq!(env.int("SELECT SUM(quantity) FROM returns"), n as i64 + 2);
    assert!(peak < MAX_PEAK_KIB, "re-import: peak {peak} KiB");
}

#[test]
fn a_large_returns_file_is_stored_as_it_is_read() {
    streamed_returns(200_000);
}

/// [`a_large_returns_file_is_stored_as_it_is_read`] with 1.5 million
/// returns (about 250 MiB of report): too slow for a debug `cargo test`.
#[test]
#[ignore = "over a minute in a debug build; run by .ci/run"]
fn a_returns_file_of_1_5_million_rows_is_stored_as_it_is_read() {
    streamed_returns(1_500_000);
}

/// On the sync path the same ceiling holds: a report document larger than
/// `[sync] max_document_mib` once decompressed fails its report, saying
/// so, and stores nothing of it; under the ceiling the same job stores it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downloaded_document_past_the_ceiling_fails_its_report() {
    use flywheel::store::jobs::RunStatus;
    use flywheel::sync::JobName;
    let mut h = common::start(common::Opts::new("demo")).await;
    h.cfg.sync.max_document_mib = 1;
    let r = h.sync(&[JobName::Orders]).await;
    let failed: Vec<_> = r.iter().filter(|r| r.status != RunStatus::Ok).collect();
    assert!(!failed.is_empty(), "{r:?}");
    assert!(
        failed
            .iter()
            .all(|r| r.message.contains("1 MiB") && r.message.contains("[sync] max_document_mib")),
        "{failed:?}"
    );
    let stored = h.int("SELECT COUNT(*) FROM orders");
    h.cfg.sync.max_document_mib = 4096;
    h.advance("7h").await;
    let r = h.sync(&[JobName::Orders]).await;
    assert!(r.iter().all(|r| r.status == RunStatus::Ok), "{r:?}");
    assert!(h.int("SELECT COUNT(*) FROM orders") > stored);
}

// ---------------------------------------------------------------------------
// Item 4: an import never removes stored rows

/// Amazon's DAY example with its per-ASIN block replaced.
fn st_window(asins: serde_json::Value) -> Vec<u8> {
    let mut doc = amazon_schema("sellerSalesAndTrafficReport.json")["examples"][0].clone();
    doc["reportSpecification"]["reportOptions"]["asinGranularity"] = serde_json::json!("CHILD");
    doc["salesAndTrafficByAsin"] = asins;
    doc["salesAndTrafficByDate"] = serde_json::json!([]);
    serde_json::to_vec(&doc).expect("JSON")
}

#[test]
fn an_old_window_imported_empty_keeps_the_stored_asins() {
    if amazon_models::missing() {
        return;
    }
    let env = Env::new("");
    let full = env.file(
        "full.json",
        &amazon_example("sellerSalesAndTrafficReport.json", 0),
    );
    env.import(ST, &full).ok();
    let window = "window_start = '2021-06-11' AND window_end = '2021-06-14'";
    let count = format!("SELECT COUNT(*) FROM sales_traffic_asin WHERE {window}");
    assert_eq!(env.int(&count), 3);
    let before = dump(&env.db());

    // The same window, no ASIN listed: nothing is removed.
    let empty = env.file("empty.json", &st_window(serde_json::json!([])));
    let out = env.import(ST, &empty).ok().to_string();
    assert_eq!(env.int(&count), 3, "{out}");
    assert!(out.contains("3 stored ASINs of the window kept"), "{out}");
    let after: Vec<String> = dump(&env.db());
    assert_eq!(after, before, "an empty window changed stored rows: {out}");

    // One ASIN with new figures: it is updated, the other two stay.
    let mut one = amazon_schema("sellerSalesAndTrafficReport.json")["examples"][0]
        ["salesAndTrafficByAsin"][0]
        .clone();
    one["trafficByAsin"]["sessions"] = serde_json::json!(99);
    let asin = one["childAsin"].as_str().expect("childAsin").to_string();
    let partial = env.file("partial.json", &st_window(serde_json::json!([one])));
    let out = env.import(ST, &partial).ok().to_string();
    assert_eq!(env.int(&count), 3, "{out}");
    assert_eq!(
        env.int(&format!(
            "SELECT sessions FROM sales_traffic_asin WHERE {window} AND asin = '{asin}'"
        )),
        99
    );
    assert!(out.contains("1 changed"), "{out}");
    assert!(out.contains("2 stored ASINs of the window kept"), "{out}");
    assert_eq!(
        env.int(&format!(
            "SELECT asin_rows FROM sales_traffic_windows WHERE {window}"
        )),
        3
    );
}

// ---------------------------------------------------------------------------
// Item 5: only daily rows go into the daily table

#[test]
fn week_and_month_sales_and_traffic_are_refused() {
    if amazon_models::missing() {
        return;
    }
    for (i, granularity) in [(1, "WEEK"), (2, "MONTH")] {
        let env = Env::new("");
        let doc = amazon_example("sellerSalesAndTrafficReport.json", i);
        let file = env.file("st.json", &doc);
        let err = env.import(ST, &file).failed().to_string();
        assert!(
            err.contains(&format!("dateGranularity {granularity}")) && err.contains("DAY"),
            "{granularity}: {err}"
        );
        assert_eq!(env.int("SELECT COUNT(*) FROM sales_traffic_daily"), 0);
        assert_eq!(env.int("SELECT COUNT(*) FROM sales_traffic_asin"), 0);
    }
    // The DAY example is stored as days.
    let env = Env::new("");
    let file = env.file(
        "st.json",
        &amazon_example("sellerSalesAndTrafficReport.json", 0),
    );
    env.import(ST, &file).ok();
    assert_eq!(env.int("SELECT COUNT(*) FROM sales_traffic_daily"), 4);
}

#[test]
fn a_monthly_search_query_performance_file_is_refused() {
    if amazon_models::missing() {
        return;
    }
    let env = Env::new("");
    let mut doc =
        amazon_schema("sellingPartnerSearchQueryPerformanceReport.json")["examples"][0].clone();
    doc["reportSpecification"]["reportOptions"]["reportPeriod"] = serde_json::json!("MONTH");
    let file = env.file("sqp.json", &serde_json::to_vec(&doc).expect("JSON"));
    let err = env.import(SQP, &file).failed().to_string();
    assert!(
        err.contains("reportPeriod MONTH") && err.contains("WEEK"),
        "{err}"
    );
    assert_eq!(env.int("SELECT COUNT(*) FROM search_query_performance"), 0);
}

// ---------------------------------------------------------------------------
// Item 6: the wrong file is refused

/// Deterministic bytes (xorshift), so a failure reproduces.
fn noise(n: usize, seed: u64, printable: bool) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 24) as u8;
            if printable {
                b" abcdefghijklmnopqrstuvwxyz0123456789\t\n"[b as usize % 39]
            } else {
                b
            }
        })
        .collect()
}

const ALL_TYPES: [&str; 7] = [ST, SQP, HEALTH, PLANNING, FBA, MFN, FEEDBACK];

#[test]
fn empty_binary_and_random_files_are_refused_for_every_type() {
    let env = Env::new("");
    let cases: [(&str, Vec<u8>); 4] = [
        ("empty", Vec::new()),
        ("binary", noise(4096, 7, false)),
        ("random text", noise(4096, 11, true)),
        ("gzipped random", gzip(&noise(4096, 13, true))),
    ];
    for (what, bytes) in &cases {
        let file = env.file("junk", bytes);
        for rt in ALL_TYPES {
            let run = env.import(rt, &file);
            let err = run.failed();
            assert!(err.contains(rt), "{what} as {rt}: names the type: {err}");
            assert!(
                err.contains("junk"),
                "{what} as {rt}: names the file: {err}"
            );
        }
    }
    assert_eq!(dump(&env.db()), Vec::<String>::new());
}

#[test]
fn a_file_of_another_type_is_refused_naming_both_types() {
    let env = Env::new("");
    let seed = |name: &str| {
        std::fs::read(repo().join("fuzz/seeds/import_bytes").join(name)).expect("seed")
    };
    // (file, imported as, the type it is, a missing column named)
    let cases = [
        ("feedback.tsv", PLANNING, FEEDBACK, "sku"),
        ("planning.tsv", FEEDBACK, PLANNING, "Rating"),
        ("fba_returns.tsv", MFN, FBA, "Return request date"),
        ("mfn_returns.tsv", FBA, MFN, "return-date"),
        ("fba_returns.tsv", PLANNING, FBA, "available"),
    ];
    for (name, rt, is, missing) in cases {
        let file = env.file(name, &seed(name));
        let err = env.import(rt, &file).failed().to_string();
        assert!(err.contains(rt), "{name} as {rt}: {err}");
        assert!(
            err.contains(missing),
            "{name} as {rt}: names {missing}: {err}"
        );
        assert!(
            err.contains(&format!("looks like {is}")),
            "{name} as {rt}: names {is}: {err}"
        );
    }
    // JSON reports of another type, and a flat file as a JSON type.
    let cases = [
        ("sqp.json", ST, SQP),
        ("account_health.json", SQP, HEALTH),
        ("sales_traffic.json", HEALTH, ST),
        ("sales_traffic.json", FEEDBACK, ST),
        ("feedback.tsv", ST, FEEDBACK),
    ];
    for (name, rt, is) in cases {
        let file = env.file(name, &seed(name));
        let err = env.import(rt, &file).failed().to_string();
        assert!(err.contains(rt), "{name} as {rt}: {err}");
        assert!(
            err.contains(&format!("looks like {is}")),
            "{name} as {rt}: names {is}: {err}"
        );
    }
    assert_eq!(dump(&env.db()), Vec::<String>::new());
}

#[test]
fn a_header_without_rows_is_refused() {
    let env = Env::new("");
    let file = env.file("feedback.tsv", FEEDBACK_HEADER.as_bytes());
    let err = env.import(FEEDBACK, &file).failed().to_string();
    assert!(err.contains("no rows"), "{err}");
    // Rows that are all malformed: refused, naming the first problem.
    let file = env.file(
        "feedback.tsv",
        format!("{FEEDBACK_HEADER}yesterday\t9\t\t\t111-1\tx@y\n").as_bytes(),
    );
    let err = env.import(FEEDBACK, &file).failed().to_string();
    assert!(
        err.contains("no valid row") && err.contains("line 2"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// Item 7: the account health snapshot is dated by the report

#[test]
fn account_health_is_dated_by_its_reporting_period() {
    if amazon_models::missing() {
        return;
    }
    let env = Env::new("");
    let file = env.file(
        "health.json",
        &amazon_example("accountHealthReport-2020-11-18.json", 0),
    );
    let out = env.import(HEALTH, &file).ok().to_string();
    let day: String = env
        .db()
        .query_row(
            "SELECT snapshot_date FROM account_health_snapshots",
            [],
            |r| r.get(0),
        )
        .expect("a snapshot");
    // The latest reportingDateTo of the US metrics: 2020-11-19T23:59Z.
    assert_eq!(day, "2020-11-19", "{out}");
    assert!(out.contains("2020-11-19"), "{out}");
}
