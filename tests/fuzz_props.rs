//! The fuzz targets as stable property tests: the same bodies cargo-fuzz
//! runs (`fuzz/targets.rs`), here on proptest's inputs, so `cargo test`
//! checks every parser of untrusted input without a fuzzer.
//!
//! Inputs: arbitrary bytes, and the committed seed files
//! (`fuzz/seeds/<target>/`) put through structure-aware mutations (lines
//! and fields deleted or duplicated, bytes flipped, huge numbers, bad
//! dates, a BOM, CRLF, Latin-1 bytes). Every file under
//! `fuzz/regressions/<target>/` (inputs that once broke a target) is
//! replayed as is.
//!
//! Regenerate the seeds from the simulator with
//! `cargo test --test fuzz_props -- --ignored write_seeds`.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

/// The files of `fuzz/<kind>/<target>/`, by name.
fn files(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir(kind, target)) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = dir
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("a readable file");
            (p.display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

fn target(name: &str) -> targets::Target {
    targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// One structure-aware change to a report file. Indices are taken modulo
/// what the file has, so every mutation applies to every file.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    DeleteField(usize, usize),
    DuplicateField(usize, usize),
    ReplaceField(usize, usize, &'static str),
    FlipByte(usize, u8),
    InsertByte(usize, u8),
    Truncate(usize),
    Bom,
    Crlf,
    /// JSON: duplicate an element of the n-th array (rows of one key).
    JsonDuplicate(usize),
    /// JSON: replace the n-th scalar with a nasty value.
    JsonValue(usize, &'static str),
}

/// JSON values for [`Mutation::JsonValue`].
const NASTY_JSON: &[&str] = &[
    "1e30",
    "-1e30",
    "9223372036854775807",
    "-9223372036854775808",
    "1e308",
    "0.1",
    "\"\"",
    "\"12%\"",
    "\"1e400\"",
    "\"NaN\"",
    "\"-inf\"",
    "\"2026-02-30\"",
    "\"9999-12-31T23:59:59Z\"",
    "null",
    "[]",
    "{}",
];

/// Values that break naive parsing: huge and odd numbers, bad dates,
/// Latin-1 and cp932 bytes (as text here, encoded by the reader's charset
/// choice), separators inside a cell.
const NASTY: &[&str] = &[
    "",
    "99999999999999999999999999",
    "-9223372036854775808",
    "9223372036854775807",
    "1e308",
    "-1e309",
    "NaN",
    "inf",
    "1.234.567,89",
    "1,234,567.89",
    "12%",
    "0x10",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "+262143-12-31",
    "-262144-01-01",
    "9999-12-31T23:59:59+14:00",
    "02/31/26",
    "31.02.2026",
    "2026-03-02T25:61:61Z",
    "caf\u{e9}",
    "\u{feff}",
    "\u{ff71}\u{ff72}",
    "\"quoted\ttab\"",
    "null",
    "{}",
    "[]",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>();
    prop_oneof![
        i.prop_map(Mutation::DeleteLine),
        i.prop_map(Mutation::DuplicateLine),
        (i, i).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (i, i).prop_map(|(a, b)| Mutation::DeleteField(a, b)),
        (i, i).prop_map(|(a, b)| Mutation::DuplicateField(a, b)),
        (i, i, proptest::sample::select(NASTY))
            .prop_map(|(a, b, v)| Mutation::ReplaceField(a, b, v)),
        (i, any::<u8>()).prop_map(|(a, b)| Mutation::FlipByte(a, b)),
        (
            i,
            prop_oneof![
                Just(0xe9u8),
                Just(0x82),
                Just(0xff),
                Just(b'\t'),
                Just(b'\n'),
                Just(b'"'),
                Just(b'{'),
                Just(0)
            ]
        )
            .prop_map(|(a, b)| Mutation::InsertByte(a, b)),
        i.prop_map(Mutation::Truncate),
        Just(Mutation::Bom),
        Just(Mutation::Crlf),
        i.prop_map(Mutation::JsonDuplicate),
        (i, proptest::sample::select(NASTY_JSON)).prop_map(|(a, v)| Mutation::JsonValue(a, v)),
    ]
}

/// JSON pointers to the arrays (`arrays`) or the scalars of a value.
fn json_paths(v: &serde_json::Value, at: String, arrays: bool, out: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::Array(a) => {
            if arrays {
                out.push(at.clone());
            }
            for (i, x) in a.iter().enumerate() {
                json_paths(x, format!("{at}/{i}"), arrays, out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let k = k.replace('~', "~0").replace('/', "~1");
                json_paths(x, format!("{at}/{k}"), arrays, out);
            }
        }
        _ if !arrays => out.push(at),
        _ => {}
    }
}

/// A JSON mutation, or the data unchanged when it is not JSON.
fn mutate_json(data: &[u8], m: &Mutation) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return data.to_vec();
    };
    let (i, arrays) = match m {
        Mutation::JsonDuplicate(i) => (*i, true),
        Mutation::JsonValue(i, _) => (*i, false),
        _ => unreachable!("not a JSON mutation"),
    };
    let mut paths = Vec::new();
    json_paths(&v, String::new(), arrays, &mut paths);
    if paths.is_empty() {
        return data.to_vec();
    }
    let node = v
        .pointer_mut(&paths[i % paths.len()])
        .expect("a path just found");
    match (m, node) {
        (Mutation::JsonDuplicate(_), serde_json::Value::Array(a)) if !a.is_empty() => {
            let first = a[0].clone();
            a.push(first);
        }
        (Mutation::JsonValue(_, new), node) => {
            *node = serde_json::from_str(new).expect("valid JSON");
        }
        _ => {}
    }
    serde_json::to_vec_pretty(&v).expect("JSON")
}

/// Lines split at LF (kept without it); fields at TAB, or for JSON text at
/// `,` and `:` so values and keys are the "fields".
fn apply(data: &[u8], m: &Mutation) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = data.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let json = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        || data.first() == Some(&b'[');
    let sep = |b: &u8| {
        if json {
            *b == b',' || *b == b':'
        } else {
            *b == b'\t'
        }
    };
    let join = |lines: Vec<Vec<u8>>| lines.join(&b'\n');
    let with_fields = |lines: &mut Vec<Vec<u8>>, l: usize, f: &dyn Fn(&mut Vec<Vec<u8>>, usize)| {
        let l = l % lines.len();
        let (mut fields, mut seps) = (vec![Vec::new()], Vec::new());
        for b in &lines[l] {
            if sep(b) {
                fields.push(Vec::new());
                seps.push(*b);
            } else {
                fields.last_mut().expect("one field").push(*b);
            }
        }
        let n = fields.len();
        f(&mut fields, n);
        let mut out = Vec::new();
        for (k, field) in fields.iter().enumerate() {
            if k > 0 {
                out.push(
                    seps.get(k - 1)
                        .copied()
                        .unwrap_or(if json { b',' } else { b'\t' }),
                );
            }
            out.extend_from_slice(field);
        }
        lines[l] = out;
    };
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(i % lines.len());
            join(lines)
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i % lines.len()].clone();
            lines.insert(i % lines.len(), l);
            join(lines)
        }
        Mutation::SwapLines(a, b) => {
            let n = lines.len();
            lines.swap(a % n, b % n);
            join(lines)
        }
        Mutation::DeleteField(l, f) => {
            with_fields(&mut lines, *l, &|fs, n| {
                if n > 1 {
                    fs.remove(f % n);
                }
            });
            join(lines)
        }
        Mutation::DuplicateField(l, f) => {
            with_fields(&mut lines, *l, &|fs, n| {
                let v = fs[f % n].clone();
                fs.insert(f % n, v);
            });
            join(lines)
        }
        Mutation::ReplaceField(l, f, v) => {
            with_fields(&mut lines, *l, &|fs, n| {
                // JSON: keep a string a string, so the value reaches the parser.
                let old = &fs[f % n];
                let quoted = json && old.trim_ascii().starts_with(b"\"");
                fs[f % n] = if quoted {
                    format!("\"{}\"", v.replace('"', "\\\"")).into_bytes()
                } else {
                    v.as_bytes().to_vec()
                };
            });
            join(lines)
        }
        Mutation::FlipByte(i, x) => {
            let mut d = data.to_vec();
            if !d.is_empty() {
                let n = d.len();
                d[i % n] ^= x | 1;
            }
            d
        }
        Mutation::InsertByte(i, b) => {
            let mut d = data.to_vec();
            d.insert(i % (d.len() + 1), *b);
            d
        }
        Mutation::Truncate(i) => data[..i % (data.len() + 1)].to_vec(),
        Mutation::Bom => [b"\xef\xbb\xbf".as_slice(), data].concat(),
        Mutation::JsonDuplicate(_) | Mutation::JsonValue(..) => mutate_json(data, m),
        Mutation::Crlf => join(
            lines
                .into_iter()
                .map(|mut l| {
                    l.push(b'\r');
                    l
                })
                .collect(),
        ),
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        // Failures are kept under fuzz/regressions by hand, not in a
        // proptest-regressions file next to this one.
        failure_persistence: None,
        ..Config::default()
    })
}

/// Arbitrary bytes, then mutated seeds, then every regression input.
fn check(name: &str) {
    let run = target(name);
    let mut r = runner(48);
    r.run(&proptest::collection::vec(any::<u8>(), 0..400), |data| {
        run(&data);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{name} on arbitrary bytes: {e}"));

    let seeds = files("seeds", name);
    assert!(!seeds.is_empty(), "no seeds in fuzz/seeds/{name}");
    for (path, seed) in &seeds {
        run(seed);
        let _ = path;
    }
    let seeds: Vec<Vec<u8>> = seeds.into_iter().map(|(_, b)| b).collect();
    let mut r = runner(400);
    let strategy = (
        proptest::sample::select(seeds),
        proptest::collection::vec(mutation(), 1..6),
    );
    r.run(&strategy, |(seed, mutations)| {
        let data = mutations.iter().fold(seed, |d, m| apply(&d, m));
        run(&data);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{name} on a mutated seed: {e}"));

    for (path, data) in files("regressions", name) {
        eprintln!("{name}: replaying {path}");
        run(&data);
    }
}

macro_rules! props {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*

        #[test]
        fn every_target_has_a_property_test() {
            let tested = [$(stringify!($name)),*];
            for (name, _) in targets::TARGETS {
                assert!(tested.contains(name), "{name} has no property test");
            }
        }
    };
}

props!(
    import_bytes,
    sales_traffic,
    search_query_performance,
    account_health,
    inventory_planning,
    returns,
    seller_feedback,
    orders,
    flatfile,
    report_document,
    ads_report,
    config,
);

// ---------------------------------------------------------------------------
// Seeds from the simulator

/// Writes `fuzz/seeds/<target>/` for the report targets from the
/// simulator's own report generators (a few rows each, to stay small).
#[test]
#[ignore = "writes the committed seed files; run by hand"]
fn write_seeds() {
    use flywheel_sim::reports::generate::{generate, Decided, Outcome, Request};
    use flywheel_sim::reports::kinds::ReportKind;
    use flywheel_sim::reports::spool::{Spool, Stored};
    use flywheel_sim::scenario::Scenario;
    use flywheel_sim::world::World;
    use std::io::Read;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::from_path(&root.join("scenarios/demo.toml")).expect("demo scenario");
    let day0: chrono::NaiveDate = "2026-01-01".parse().expect("a date");
    let world = World::new(scenario, 7, day0);
    let seller = world.scenario().seller.marketplace_id.clone();
    let spool = Spool::new();
    let as_of = chrono::DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let at = |d: &str| Some(chrono::DateTime::parse_from_rfc3339(d).expect("a time"));
    let doc = |kind: ReportKind, start: &str, end: &str, options: &[(&str, &str)]| -> Vec<u8> {
        let req = Request {
            kind,
            marketplace_ids: vec![seller.clone()],
            data_start: at(start),
            data_end: at(end),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created: as_of,
        };
        let Outcome::Done { doc, .. } =
            generate(&world, &spool, &req, as_of, Decided::default()).expect("generated")
        else {
            panic!("{kind:?}: no document");
        };
        let Stored::Memory(gz) = doc else {
            panic!("{kind:?}: a spilled document is too big for a seed");
        };
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .expect("gunzip");
        out
    };
    // Flat files: the header and a few rows. JSON: arrays cut to a few items.
    let head = |d: &[u8], n: usize| -> Vec<u8> {
        let mut out: Vec<u8> = d
            .split_inclusive(|b| *b == b'\n')
            .take(n + 1)
            .flatten()
            .copied()
            .collect();
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out
    };
    fn cut(v: &mut serde_json::Value, n: usize) {
        match v {
            serde_json::Value::Array(a) => {
                a.truncate(n);
                a.iter_mut().for_each(|x| cut(x, n));
            }
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| cut(x, n)),
            _ => {}
        }
    }
    let json = |d: &[u8], n: usize| -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(d).expect("JSON");
        cut(&mut v, n);
        serde_json::to_vec_pretty(&v).expect("JSON")
    };
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz_dir("seeds", target);
        std::fs::create_dir_all(&dir).expect("seed dir");
        std::fs::write(dir.join(name), bytes).expect("seed file");
    };
    let (s, e) = ("2026-02-01T00:00:00-08:00", "2026-03-01T23:59:59-08:00");
    let orders = head(&doc(ReportKind::AllOrders, s, e, &[]), 6);
    let planning = head(&doc(ReportKind::InventoryPlanning, s, e, &[]), 4);
    let fba = head(&doc(ReportKind::FbaReturns, s, e, &[]), 4);
    let mfn = head(&doc(ReportKind::MfnReturns, s, e, &[]), 4);
    let feedback = head(&doc(ReportKind::SellerFeedback, s, e, &[]), 4);
    let st = json(
        &doc(
            ReportKind::SalesAndTraffic,
            "2026-02-15T00:00:00-08:00",
            "2026-02-28T23:59:59-08:00",
            &[("dateGranularity", "DAY"), ("asinGranularity", "CHILD")],
        ),
        3,
    );
    let health = json(&doc(ReportKind::SellerPerformance, s, e, &[]), 2);
    let sqp = json(
        &doc(
            ReportKind::SearchQueryPerformance,
            "2026-02-15T00:00:00-08:00",
            "2026-02-21T23:59:59-08:00",
            &[
                ("reportPeriod", "WEEK"),
                ("asin", world.scenario().products[0].asin.as_str()),
            ],
        ),
        3,
    );
    for (target, name, bytes) in [
        ("orders", "all_orders.tsv", &orders),
        ("inventory_planning", "planning.tsv", &planning),
        ("returns", "fba_returns.tsv", &fba),
        ("returns", "mfn_returns.tsv", &mfn),
        ("seller_feedback", "feedback.tsv", &feedback),
        ("sales_traffic", "sales_traffic.json", &st),
        ("account_health", "account_health.json", &health),
        ("search_query_performance", "sqp.json", &sqp),
        ("flatfile", "all_orders.tsv", &orders),
        ("flatfile", "fba_returns.tsv", &fba),
        ("report_document", "feedback.tsv", &feedback),
        ("report_document", "account_health.json", &health),
        ("import_bytes", "planning.tsv", &planning),
        ("import_bytes", "fba_returns.tsv", &fba),
        ("import_bytes", "mfn_returns.tsv", &mfn),
        ("import_bytes", "feedback.tsv", &feedback),
        ("import_bytes", "sales_traffic.json", &st),
        ("import_bytes", "account_health.json", &health),
        ("import_bytes", "sqp.json", &sqp),
    ] {
        write(target, name, bytes);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &feedback).expect("gzip");
    write(
        "report_document",
        "feedback.tsv.gz",
        &gz.finish().expect("gzip"),
    );
    let cfg = std::env::temp_dir().join(format!("flywheel-fuzz-seed-{}.toml", std::process::id()));
    flywheel_sim::write_config::write_config(&cfg, &world, "http://127.0.0.1:9")
        .expect("sim config");
    write(
        "config",
        "sim.toml",
        &std::fs::read(&cfg).expect("sim config"),
    );
    let _ = std::fs::remove_file(&cfg);
    write(
        "config",
        "example.toml",
        &std::fs::read(root.join("config/flywheel.example.toml")).expect("example config"),
    );
}
