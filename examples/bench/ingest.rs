//! `ingest`: parse and store report files of `--size N` rows (default
//! 1,000,000), against the time it takes merely to decompress them.
//!
//! Two files are generated (seeded, so every run reads the same bytes)
//! into a temporary directory, gzipped and ISO-8859-1 as Amazon sends
//! them:
//! - GET_FBA_INVENTORY_PLANNING_DATA, 65 columns: the 63 REFERENCE §4
//!   names plus two newer ones the parser does not know (they must be
//!   skipped without cost), one row per SKU;
//! - GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL, 32 columns,
//!   `N` order lines over orders of one to three lines.
//!
//! Generation is not timed, and the peak RSS counter is reset after it.
//! Then, per file:
//! 1. decompress only: the file streamed through flate2 into a sink with
//!    the buffer sizes production uses (the floor no parser can beat);
//! 2. parse and store: a fresh database opened and migrated by
//!    `flywheel::store` (real schema, real indexes, real pragmas), the file
//!    read through the same functions the sync jobs call
//!    (`document::gunzip_stream` feeding `inventory_planning::store_stream`
//!    / `orders::store_report`), in one transaction as the jobs do;
//! 3. the stored row count checked against the generated one: a bench that
//!    stored nothing must fail, not look fast (exit 1).
//!
//! One JSON line per file: `rows`, `seconds` (parse + store),
//! `rows_per_sec`, `decompress_seconds`, `ratio` (seconds /
//! decompress_seconds; target ≤ 1.6), `peak_rss_mib` (target ≤ 64).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;

use flywheel::amazon::document;
use flywheel::model::marketplace::{self, Marketplace};
use flywheel::store::seller_reports::Scope;
use flywheel::sync::{inventory_planning, orders};

use crate::{emit, peak_rss_mib, reset_peak_rss, Args};

const ACCOUNT: &str = "bench";

/// Two columns newer than REFERENCE §4's list (real files carry them):
/// the reader must pass over unknown columns.
const NEWER_PLANNING_COLUMNS: [&str; 2] =
    ["estimated-ais-181-210-days", "estimated-ais-211-240-days"];

pub fn run(args: &Args) {
    let n = args.size(1_000_000);
    let only = args.get("only").unwrap_or("both");
    if !matches!(only, "both" | "planning" | "orders") {
        eprintln!("bench ingest: --only is planning or orders, not \"{only}\"");
        std::process::exit(2);
    }
    let m = marketplace::lookup("DE").expect("DE marketplace");
    let tmp = tempfile::tempdir().expect("temporary directory");
    // `--data DIR` keeps the generated files there and reuses them on the
    // next run of the same size (for profiling); databases stay in tmp.
    let data = args.get("data").map(std::path::PathBuf::from);
    if let Some(d) = &data {
        std::fs::create_dir_all(d).expect("--data directory");
    }
    let files = data.as_deref().unwrap_or(tmp.path());
    let now: DateTime<Utc> = "2026-03-02T10:00:00Z".parse().expect("time");
    let mut failed = false;
    if only != "orders" {
        failed |= !planning(n, files, tmp.path(), m, now);
    }
    if only != "planning" {
        failed |= !all_orders(n, files, tmp.path(), m, now);
    }
    if failed {
        std::process::exit(1);
    }
}

/// GET_FBA_INVENTORY_PLANNING_DATA: generate, decompress, ingest, check;
/// false when the stored rows are not the generated ones.
fn planning(n: u64, files: &Path, dir: &Path, m: &'static Marketplace, now: DateTime<Utc>) -> bool {
    let planning_gz = files.join(format!("planning-{n}.tsv.gz"));
    let bytes_planning = match std::fs::metadata(&planning_gz) {
        Ok(meta) => meta.len(),
        Err(_) => generate_planning(&planning_gz, n).expect("generate planning"),
    };
    let mut ok = true;
    reset_peak_rss();
    let decompress_seconds = decompress_only(&planning_gz);
    let db = dir.join("planning.db");
    let mut conn = open_db(&db, m);
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    let stored = ingest_planning(&mut conn, &planning_gz, m, now);
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let peak = peak_rss_mib();
    let count: u64 = conn
        .query_row("SELECT COUNT(*) FROM inventory_planning", [], |r| r.get(0))
        .expect("count");
    if count != n || stored != n {
        eprintln!("bench ingest: planning stored {count} rows (reported {stored}), generated {n}");
        ok = false;
    }
    emit(json!({
        "bench": "ingest",
        "report": inventory_planning::REPORT_TYPE,
        "rows": n,
        "columns": PLANNING_WIDTH,
        "bytes_gz": bytes_planning,
        "seconds": round3(seconds),
        "rows_per_sec": (n as f64 / seconds).round(),
        "cpu_seconds": round3(cpu),
        "decompress_seconds": round3(decompress_seconds),
        "ratio": round3(seconds / decompress_seconds),
        "peak_rss_mib": round1(peak),
        "db_mib": round1(db_mib(&conn)),
    }));
    drop(conn);
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(db.with_extension("db-wal"));
    ok
}

/// GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL: generate,
/// decompress, ingest, check; false when the stored rows are not the
/// generated ones.
fn all_orders(
    n: u64,
    files: &Path,
    dir: &Path,
    m: &'static Marketplace,
    now: DateTime<Utc>,
) -> bool {
    let orders_gz = files.join(format!("orders-{n}.tsv.gz"));
    let counts = files.join(format!("orders-{n}.counts"));
    let known = std::fs::read_to_string(&counts).ok().and_then(|t| {
        let v: Vec<u64> = t
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        (v.len() == 3 && orders_gz.exists()).then(|| (v[0], v[1], v[2]))
    });
    let (order_lines, order_count, bytes_orders) = known.unwrap_or_else(|| {
        let c = generate_orders(&orders_gz, n).expect("generate orders");
        let _ = std::fs::write(&counts, format!("{} {} {}", c.0, c.1, c.2));
        c
    });
    let mut ok = true;
    reset_peak_rss();
    let decompress_seconds = decompress_only(&orders_gz);
    let db = dir.join("orders.db");
    let mut conn = open_db(&db, m);
    let (start, cpu0) = (Instant::now(), cpu_seconds());
    ingest_orders(&mut conn, &orders_gz, m, now);
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let peak = peak_rss_mib();
    let (stored_orders, stored_lines): (u64, u64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_items)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    if stored_orders != order_count || stored_lines != order_lines {
        eprintln!(
            "bench ingest: orders stored {stored_orders} orders / {stored_lines} lines, \
             generated {order_count} / {order_lines}"
        );
        ok = false;
    }
    emit(json!({
        "bench": "ingest",
        "report": orders::REPORT_TYPE,
        "rows": order_lines,
        "orders": order_count,
        "columns": flywheel_sim::reports::generate::ALL_ORDERS_COLUMNS.len(),
        "bytes_gz": bytes_orders,
        "seconds": round3(seconds),
        "rows_per_sec": (order_lines as f64 / seconds).round(),
        "cpu_seconds": round3(cpu),
        "decompress_seconds": round3(decompress_seconds),
        "ratio": round3(seconds / decompress_seconds),
        "peak_rss_mib": round1(peak),
        "db_mib": round1(db_mib(&conn)),
    }));
    ok
}

/// The database's size (pages in use × page size), MiB.
fn db_mib(conn: &rusqlite::Connection) -> f64 {
    conn.query_row(
        "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|b| b as f64 / 1_048_576.0)
    .unwrap_or(f64::NAN)
}

/// CPU time of this process so far (both threads), seconds: with other
/// work on the machine, wall-clock figures wander; this one says what the
/// ingest itself cost.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th of the line, in clock ticks (100 per second).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    f.get(11)
        .zip(f.get(12))
        .map(|(u, s)| (u + s) / 100.0)
        .unwrap_or(f64::NAN)
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A fresh database with the schema and the account's marketplace row
/// (rows reference it).
fn open_db(path: &Path, m: &Marketplace) -> rusqlite::Connection {
    let (conn, _) = flywheel::store::open_and_migrate(path).expect("open database");
    conn.execute(
        "INSERT INTO accounts (name, region, created_at, updated_at)
         VALUES (?1, 'eu', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        [ACCOUNT],
    )
    .expect("account");
    conn.execute(
        "INSERT INTO marketplaces (account, marketplace_id, country_code, time_zone, currency,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        rusqlite::params![ACCOUNT, m.id, m.country, m.tz.name(), m.currency],
    )
    .expect("marketplace");
    conn
}

/// The floor: gunzip the file into a sink, nothing else, with the buffer
/// sizes of `document::gunzip_stream`.
fn decompress_only(path: &Path) -> f64 {
    let start = Instant::now();
    let file = File::open(path).expect("open");
    let input = std::io::BufReader::with_capacity(document::STREAM_CHUNK, file);
    let mut gz = flate2::read::MultiGzDecoder::new(input);
    let mut buf = vec![0u8; document::STREAM_CHUNK];
    let mut total = 0u64;
    loop {
        let k = gz.read(&mut buf).expect("gunzip");
        if k == 0 {
            break;
        }
        total += k as u64;
    }
    std::hint::black_box(total);
    start.elapsed().as_secs_f64()
}

/// Parse + store through the planning job's own path; returns the rows
/// it says it stored.
fn ingest_planning(
    conn: &mut rusqlite::Connection,
    path: &Path,
    m: &'static Marketplace,
    now: DateTime<Utc>,
) -> u64 {
    let scope = Scope {
        account: ACCOUNT,
        marketplace_id: m.id,
        now,
    };
    let today = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let tx = conn.transaction().expect("transaction");
    let file = File::open(path).expect("open");
    let out = document::gunzip_stream(file, true, |input| {
        inventory_planning::store_stream(&tx, &scope, input, encoding_rs::WINDOWS_1252, today, m)
    })
    .expect("store");
    tx.commit().expect("commit");
    if let Some(s) = &out.summary {
        eprintln!("bench ingest: planning: {s}");
    }
    out.rows
}

/// Parse + store through the orders job's history path.
fn ingest_orders(
    conn: &mut rusqlite::Connection,
    path: &Path,
    m: &'static Marketplace,
    now: DateTime<Utc>,
) {
    let tz = m.tz;
    let tx = conn.transaction().expect("transaction");
    let file = File::open(path).expect("open");
    let out = document::gunzip_stream(file, true, |input| {
        orders::store_report(
            &tx,
            ACCOUNT,
            input,
            encoding_rs::WINDOWS_1252,
            m.id,
            tz,
            now,
        )
    })
    .expect("store");
    tx.commit().expect("commit");
    if let Some(s) = &out.summary {
        eprintln!("bench ingest: orders: {s}");
    }
}

// ---------------------------------------------------------------------------
// Generation (seeded; not timed)

/// SplitMix64: a tiny seeded generator, enough for varied cells.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn money(&mut self, max_cents: u64) -> String {
        let c = self.below(max_cents);
        format!("{}.{:02}", c / 100, c % 100)
    }
}

/// Product names with the Latin-1 letters real EU files carry.
const NAMES: [&str; 6] = [
    "Gourde isotherme \u{e9}t\u{e9} 750 ml",
    "Cr\u{e8}me solaire SPF 50",
    "Trinkflasche f\u{fc}r Kinder, gr\u{fc}n",
    "Mug en c\u{e9}ramique \u{ab} caf\u{e9} \u{bb}",
    "Steel water bottle 1 L",
    "Ni\u{f1}os lunch box (azul)",
];

const PLANNING_WIDTH: usize = 65;

fn gz_writer(path: &Path) -> std::io::Result<GzEncoder<BufWriter<File>>> {
    // Level 6, flate2's default: what a typical server sends.
    Ok(GzEncoder::new(
        BufWriter::with_capacity(1 << 20, File::create(path)?),
        Compression::default(),
    ))
}

/// Writes one Latin-1 line (the generator's text is all Latin-1).
fn write_line(out: &mut impl Write, cells: &[String]) -> std::io::Result<()> {
    let line = cells.join("\t");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&line);
    assert!(!unmappable, "generator text is Latin-1");
    out.write_all(&bytes)?;
    out.write_all(b"\n")
}

/// The planning file; returns its compressed size.
fn generate_planning(path: &Path, n: u64) -> std::io::Result<u64> {
    use flywheel_sim::reports::generate::PLANNING_COLUMNS;
    let mut out = gz_writer(path)?;
    let header: Vec<String> = PLANNING_COLUMNS
        .iter()
        .chain(NEWER_PLANNING_COLUMNS.iter())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(header.len(), PLANNING_WIDTH);
    write_line(&mut out, &header)?;
    let mut r = Rng(0x1F1A_2026);
    let mut cells: Vec<String> = Vec::with_capacity(PLANNING_WIDTH);
    for i in 0..n {
        cells.clear();
        let available = r.below(2000);
        let t30 = r.below(300);
        let t90 = t30 * 3 + r.below(50);
        let int = |r: &mut Rng, max: u64| r.below(max).to_string();
        cells.push("2026-03-02".into()); // snapshot-date
        cells.push(format!("FW-{i:08}")); // sku
        cells.push(format!("X00{:07}", i % 10_000_000)); // fnsku
        cells.push(format!("B0{:08}", i % 100_000_000)); // asin
        cells.push(format!("{} #{i}", NAMES[(i % 6) as usize])); // product-name
        cells.push("New".into()); // condition
        cells.push(available.to_string()); // available
        cells.push(int(&mut r, 3)); // pending-removal-quantity
        for _ in 0..5 {
            cells.push(int(&mut r, 400)); // inv-age-0-to-90 .. 365-plus
        }
        cells.push("EUR".into()); // currency
        cells.push(int(&mut r, 10)); // qty-to-be-charged-ltsf-11-mo
        cells.push(r.money(5000)); // projected-ltsf-11-mo
        cells.push(int(&mut r, 10)); // qty-to-be-charged-ltsf-12-mo
        cells.push(r.money(5000)); // estimated-ltsf-next-charge
        cells.push((t30 / 4).to_string()); // units-shipped-t7
        cells.push(t30.to_string()); // t30
        cells.push((t30 * 2).to_string()); // t60
        cells.push(t90.to_string()); // t90
        cells.push(if available < 50 { "Low inventory" } else { "" }.into()); // alert
        let price = r.money(10_000);
        cells.push(price.clone()); // your-price
        cells.push(price.clone()); // sales-price
        cells.push(r.money(10_000)); // lowest-price-new-plus-shipping
        cells.push(if i % 7 == 0 {
            r.money(8_000)
        } else {
            String::new()
        }); // lowest-price-used
        cells.push(
            match i % 4 {
                0 => "No action required",
                1 => "Create removal order",
                2 => "Restock",
                _ => "Reduce price to sell through",
            }
            .into(),
        ); // recommended-action
        cells.push(int(&mut r, 500)); // healthy-inventory-level
        cells.push(r.money(10_000)); // recommended-sales-price
        cells.push(int(&mut r, 60)); // recommended-sale-duration-days
        cells.push(int(&mut r, 40)); // recommended-removal-quantity
        cells.push(r.money(20_000)); // estimated-cost-savings-of-recommended-actions
        cells.push(format!("0.{:02}", r.below(100))); // sell-through
        cells.push(format!("0.{:04}", r.below(10_000))); // item-volume
        cells.push("cubic feet".into()); // volume-unit-measurement
        cells.push("Standard".into()); // storage-type
        cells.push(format!("{}.{:02}", r.below(40), r.below(100))); // storage-volume
        cells.push("DE".into()); // marketplace
        cells.push("Kitchen".into()); // product-group
        cells.push(if i % 5 == 0 {
            format!("{},{:03}", r.below(900) + 1, r.below(1000))
        } else {
            int(&mut r, 999)
        }); // sales-rank
        cells.push(format!("{}.{}", r.below(300), r.below(10))); // days-of-supply
        cells.push(int(&mut r, 500)); // estimated-excess-quantity
        cells.push(format!("{}.{}", r.below(30), r.below(10))); // weeks-of-cover-t30
        cells.push(format!("{}.{}", r.below(30), r.below(10))); // weeks-of-cover-t90
        cells.push(r.money(10_000)); // featuredoffer-price
        for _ in 0..4 {
            cells.push(r.money(1_000_000)); // sales-shipped-last-7..90-days
        }
        for _ in 0..5 {
            cells.push(int(&mut r, 200)); // inv-age-0-to-30 .. 331-to-365
        }
        cells.push(r.money(3_000)); // estimated-storage-cost-next-month
        for _ in 0..4 {
            cells.push(int(&mut r, 100)); // inbound-quantity, -working, -shipped, -received
        }
        cells.push(if t90 == 0 { "Yes" } else { "No" }.into()); // no-sale-last-6-months
        cells.push(int(&mut r, 30)); // reserved-quantity
        cells.push(int(&mut r, 5)); // unfulfillable-quantity
        cells.push(r.money(2_000)); // estimated-ais-181-210-days
        cells.push(r.money(2_000)); // estimated-ais-211-240-days
        debug_assert_eq!(cells.len(), PLANNING_WIDTH);
        write_line(&mut out, &cells)?;
    }
    out.finish()?.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The all-orders file: `n` lines; returns (lines, orders, compressed size).
fn generate_orders(path: &Path, n: u64) -> std::io::Result<(u64, u64, u64)> {
    use flywheel_sim::reports::generate::ALL_ORDERS_COLUMNS;
    let mut out = gz_writer(path)?;
    let header: Vec<String> = ALL_ORDERS_COLUMNS.iter().map(|s| s.to_string()).collect();
    write_line(&mut out, &header)?;
    let mut r = Rng(0x0D0E_2026);
    let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("time");
    let (mut lines, mut orders) = (0u64, 0u64);
    let mut cells: Vec<String> = Vec::with_capacity(ALL_ORDERS_COLUMNS.len());
    while lines < n {
        let want = match r.below(10) {
            0..=6 => 1,
            7 | 8 => 2,
            _ => 3,
        };
        let k = want.min(n - lines);
        let id = format!(
            "{:03}-{:07}-{:07}",
            302 + orders % 4,
            orders % 10_000_000,
            r.below(10_000_000)
        );
        let purchase = start + chrono::Duration::seconds((orders * 5) as i64);
        let updated = purchase + chrono::Duration::minutes(30 + r.below(3000) as i64);
        let iso = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
        let status = match r.below(20) {
            0 => "Cancelled",
            1 | 2 => "Pending",
            3..=5 => "Unshipped",
            _ => "Shipped",
        };
        let fba = r.below(3) != 0;
        let business = r.below(10) == 0;
        let sku0 = r.below(5000);
        for j in 0..k {
            cells.clear();
            let cancelled = status == "Cancelled";
            let qty = 1 + r.below(3);
            let amount = |r: &mut Rng, max: u64| {
                if cancelled {
                    String::new()
                } else {
                    r.money(max)
                }
            };
            cells.push(id.clone());
            cells.push(String::new()); // merchant-order-id
            cells.push(iso(purchase));
            cells.push(iso(updated));
            cells.push(status.into());
            cells.push(if fba { "Amazon" } else { "Merchant" }.into());
            cells.push("Amazon.de".into());
            cells.push(String::new()); // order-channel
            cells.push(String::new()); // url
            cells.push(
                if r.below(4) == 0 {
                    "Expedited"
                } else {
                    "Standard"
                }
                .into(),
            );
            cells.push(NAMES[((sku0 + j) % 6) as usize].into());
            cells.push(format!("FW-{:08}", (sku0 + j * 1009) % 5000));
            cells.push(format!("B0{:08}", (sku0 + j * 1009) % 5000));
            cells.push(status.into()); // item-status
            cells.push(if cancelled {
                "0".into()
            } else {
                qty.to_string()
            });
            cells.push("EUR".into());
            cells.push(amount(&mut r, 20_000)); // item-price
            cells.push(amount(&mut r, 3_000)); // item-tax
            cells.push(amount(&mut r, 800)); // shipping-price
            cells.push(amount(&mut r, 150)); // shipping-tax
            cells.push(if cancelled {
                String::new()
            } else {
                "0.00".into()
            }); // gift-wrap-price
            cells.push(if cancelled {
                String::new()
            } else {
                "0.00".into()
            }); // gift-wrap-tax
            cells.push(if cancelled {
                String::new()
            } else {
                format!("-{}", r.money(500))
            }); // item-promotion-discount
            cells.push(if cancelled {
                String::new()
            } else {
                "0.00".into()
            }); // ship-promotion-discount
            cells.push(
                ["M\u{fc}nchen", "K\u{f6}ln", "Berlin", "D\u{fc}sseldorf"][(orders % 4) as usize]
                    .into(),
            );
            cells.push("BY".into());
            cells.push(format!("{:05}", r.below(99_999)));
            cells.push("DE".into());
            cells.push(if r.below(5) == 0 {
                "Spring sale".into()
            } else {
                String::new()
            });
            cells.push(business.to_string());
            cells.push(String::new()); // purchase-order-number
            cells.push(if business {
                "BusinessPrice".into()
            } else {
                String::new()
            });
            write_line(&mut out, &cells)?;
        }
        lines += k;
        orders += 1;
    }
    out.finish()?.flush()?;
    Ok((lines, orders, std::fs::metadata(path)?.len()))
}
