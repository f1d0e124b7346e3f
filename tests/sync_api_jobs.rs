//! The SP-API snapshot jobs (inventory, catalog_ranks, pricing, listings,
//! customer_feedback, fees) against the simulated marketplace: each stores
//! what the sim's world says, a re-run adds and changes nothing, a second day
//! adds a new daily snapshot, and faulty runs converge to the clean data.

mod common;

use chrono::{DateTime, Timelike, Utc};
use flywheel::sync::JobName;
use flywheel_sim::world::World;
use rusqlite::types::Value as SqlValue;

use common::{Harness, Opts};

const TABLES: [&str; 11] = [
    "inventory_snapshots",
    "products",
    "listings",
    "listing_issues",
    "catalog_ranks",
    "pricing_snapshots",
    "fee_estimates",
    "item_browse_nodes",
    "review_topics",
    "review_topic_trends",
    "job_cursors",
];

/// Slow enough that a whole test stays inside the sim's first hour (the
/// hourly snapshot slot), fast enough that throttled calls wait briefly.
fn opts() -> Opts {
    Opts {
        speed: 20.0,
        ..Opts::new("demo")
    }
}

async fn sync_ok(h: &Harness, jobs: &[JobName]) {
    let results = h.sync(jobs).await;
    assert_eq!(results.len(), jobs.len(), "{results:?}");
    for r in &results {
        assert_eq!(r.status.as_str(), "ok", "{}: {}", r.job, r.message);
    }
}

/// Every row of a table, ordered, as text; `skip` names columns left out
/// (timestamps that legitimately differ between two sims).
fn dump(h: &Harness, table: &str, skip: &[&str]) -> Vec<String> {
    let conn = h.conn();
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<String> = stmt
        .query_map([], |r| {
            let mut out = Vec::new();
            for (i, n) in names.iter().enumerate() {
                if skip.contains(&n.as_str()) {
                    continue;
                }
                let v: SqlValue = r.get(i)?;
                out.push(format!("{n}={v:?}"));
            }
            Ok(out.join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    rows
}

fn world(h: &Harness) -> &World {
    &h.sim.world
}

fn text(h: &Harness, sql: &str) -> Option<String> {
    h.conn().query_row(sql, [], |r| r.get(0)).ok()
}

fn real(h: &Harness, sql: &str) -> Option<f64> {
    h.conn().query_row(sql, [], |r| r.get(0)).ok()
}

fn observed_at(h: &Harness, table: &str) -> DateTime<Utc> {
    let t = text(h, &format!("SELECT MAX(observed_at) FROM {table}")).unwrap();
    DateTime::parse_from_rfc3339(&t)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_stores_every_fba_sku_with_inbound_and_available() {
    let h = common::start(opts()).await;
    sync_ok(&h, &[JobName::Inventory]).await;
    let now = h.now().await;
    let fba: Vec<_> = world(&h)
        .inventory_all(now)
        .into_iter()
        .filter(|i| i.is_fba)
        .collect();
    assert!(!fba.is_empty());
    assert_eq!(
        h.int("SELECT COUNT(*) FROM inventory_snapshots WHERE source = 'fba_inventory'"),
        fba.len() as i64
    );
    let slot = observed_at(&h, "inventory_snapshots");
    assert_eq!((slot.minute(), slot.second()), (0, 0), "hourly slot");
    for inv in &fba {
        let (inbound, available): (i64, i64) = h
            .conn()
            .query_row(
                "SELECT inbound_working + inbound_shipped + inbound_receiving, fulfillable
                 FROM inventory_snapshots WHERE sku = ?1",
                [&inv.sku],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(inbound, inv.inbound(), "{} inbound", inv.sku);
        // Sales between the pull and now can only lower what is fulfillable.
        assert!(available >= inv.fulfillable, "{} available", inv.sku);
    }
}

/// Listings and inventory first (they teach the others the ASINs and prices),
/// then the catalogue-wide jobs.
async fn sync_all(h: &Harness) {
    sync_ok(h, &[JobName::Inventory, JobName::Listings]).await;
    sync_ok(
        h,
        &[
            JobName::CatalogRanks,
            JobName::Pricing,
            JobName::Fees,
            JobName::CustomerFeedback,
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_job_stores_what_the_world_says() {
    let h = common::start(opts()).await;
    sync_all(&h).await;
    let now = h.now().await;
    let w = world(&h);
    let day = w.day_of(now);

    // listings: every SKU, its status, issues and suppression, FBM stock.
    let listings = w.listings(now);
    assert_eq!(
        h.int("SELECT COUNT(*) FROM listings"),
        listings.len() as i64
    );
    assert_eq!(
        h.int("SELECT COUNT(*) FROM products WHERE asin IS NOT NULL"),
        listings.len() as i64
    );
    assert!(
        listings.iter().any(|l| l.suppressed),
        "the demo suppresses a listing"
    );
    assert!(
        listings.iter().any(|l| !l.issues.is_empty()),
        "the demo has listing issues"
    );
    for l in &listings {
        let (buyable, suppressed, price): (bool, bool, f64) = h
            .conn()
            .query_row(
                "SELECT is_buyable, is_suppressed, price FROM listings WHERE sku = ?1",
                [&l.sku],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            buyable,
            l.status.iter().any(|s| s == "BUYABLE"),
            "{}",
            l.sku
        );
        assert_eq!(suppressed, l.suppressed, "{} suppression", l.sku);
        assert!((price - l.price).abs() < 0.005, "{} price", l.sku);
        for i in &l.issues {
            let severity = text(
                &h,
                &format!(
                    "SELECT severity FROM listing_issues WHERE sku = '{}' AND code = '{}'",
                    l.sku, i.code
                ),
            );
            assert_eq!(
                severity.as_deref(),
                Some(i.severity.as_str()),
                "{} issue {}",
                l.sku,
                i.code
            );
        }
        if let Some(q) = l.fbm_quantity {
            let stored = h.int(&format!(
                "SELECT fulfillable FROM inventory_snapshots WHERE source = 'listings' AND sku = '{}'",
                l.sku
            ));
            assert!(stored >= q, "{} FBM quantity {stored} vs {q} now", l.sku);
        }
    }

    // catalog_ranks: one row per ASIN today, the world's main and classification ranks.
    assert_eq!(
        h.int("SELECT COUNT(*) FROM catalog_ranks"),
        listings.len() as i64
    );
    for l in &listings {
        let rank = w.sales_rank(&l.asin, day).unwrap();
        let (dg, cl): (i64, i64) = h
            .conn()
            .query_row(
                "SELECT display_group_rank, classification_rank FROM catalog_ranks WHERE asin = ?1 AND snapshot_date = ?2",
                [&l.asin, &day.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (dg, cl),
            (rank.rank as i64, rank.classification_rank as i64),
            "{}",
            l.asin
        );
    }

    // pricing: featured offer, whether it is ours, our price.
    assert_eq!(
        h.int("SELECT COUNT(*) FROM pricing_snapshots"),
        listings.len() as i64
    );
    let mut ours = 0;
    for l in &listings {
        let cs = w.competitive_summary(&l.asin, now).unwrap();
        let (is_ours, featured, our_price): (Option<bool>, Option<f64>, Option<f64>) = h
            .conn()
            .query_row(
                "SELECT is_featured_offer_ours, featured_offer_price, our_price FROM pricing_snapshots WHERE asin = ?1",
                [&l.asin],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            is_ours,
            cs.featured_seller_id
                .as_ref()
                .map(|_| cs.we_own_featured_offer),
            "{}",
            l.asin
        );
        if let (Some(p), Some(id)) = (featured, &cs.featured_seller_id) {
            let o = cs.offers.iter().find(|o| &o.seller_id == id).unwrap();
            assert!(
                (p - (o.price + o.shipping)).abs() < 0.005,
                "{} featured price",
                l.asin
            );
        }
        if cs.offers.iter().any(|o| o.is_ours) {
            assert!(
                (our_price.unwrap() - cs.our_price).abs() < 0.005,
                "{} our price",
                l.asin
            );
        }
        ours += i32::from(is_ours == Some(true));
    }
    assert!(ours > 0, "we hold some featured offers");

    // fees: each listing's fees at its price.
    assert_eq!(
        h.int("SELECT COUNT(*) FROM fee_estimates"),
        listings.len() as i64
    );
    for l in &listings {
        let est = w.fee_estimate(&l.sku, Some(l.price), now).unwrap();
        let (total, referral, fba): (f64, f64, Option<f64>) = h
            .conn()
            .query_row(
                "SELECT total_fees, referral_fee, fba_fee FROM fee_estimates WHERE sku = ?1",
                [&l.sku],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert!(
            (total - est.total).abs() < 0.011,
            "{} total {total} vs {}",
            l.sku,
            est.total
        );
        assert!(
            (referral - est.referral_fee).abs() < 0.011,
            "{} referral",
            l.sku
        );
        if est.is_fba {
            assert!(
                (fba.unwrap() - est.fba_fee).abs() < 0.011,
                "{} FBA fee",
                l.sku
            );
        }
    }

    // customer_feedback: browse nodes, topics of each ASIN and of its node.
    assert_eq!(
        h.int("SELECT COUNT(*) FROM item_browse_nodes"),
        listings.len() as i64
    );
    let mut with_topics = 0;
    for l in &listings {
        let node = w.item_browse_node(&l.asin).unwrap();
        assert_eq!(
            text(
                &h,
                &format!(
                    "SELECT browse_node_id FROM item_browse_nodes WHERE asin = '{}'",
                    l.asin
                )
            ),
            Some(node.browse_node_id.clone())
        );
        let topics = w.review_topics(&l.asin, now).unwrap_or_default();
        let stored = h.int(&format!(
            "SELECT COUNT(*) FROM review_topics WHERE subject_kind = 'asin' AND subject_id = '{}'",
            l.asin
        ));
        assert_eq!(stored, topics.len() as i64, "{} topics", l.asin);
        for t in &topics {
            let pct = real(
                &h,
                &format!(
                    "SELECT occurrence_pct FROM review_topics WHERE subject_id = '{}' AND topic = '{}'",
                    l.asin,
                    t.topic.replace('\'', "''")
                ),
            );
            assert_eq!(pct, Some(t.occurrence_pct), "{} {}", l.asin, t.topic);
        }
        with_topics += usize::from(!topics.is_empty());
        if !topics.is_empty() {
            assert!(h.int(&format!(
                "SELECT COUNT(*) FROM review_topic_trends WHERE subject_kind = 'asin' AND subject_id = '{}'",
                l.asin
            )) > 0);
        }
        let node_topics = w
            .browse_node_topics(&node.browse_node_id)
            .unwrap_or_default();
        assert_eq!(
            h.int(&format!(
                "SELECT COUNT(*) FROM review_topics WHERE subject_kind = 'browse_node' AND subject_id = '{}'",
                node.browse_node_id
            )),
            node_topics.len() as i64,
            "node {}",
            node.browse_node_id
        );
    }
    assert!(with_topics > 0, "the demo has review topics");
}

fn dumps(h: &Harness, skip: &[&str]) -> Vec<(String, Vec<String>)> {
    TABLES
        .iter()
        .filter(|t| **t != "job_cursors")
        .map(|t| (t.to_string(), dump(h, t, skip)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_adds_nothing_and_a_second_day_adds_a_snapshot() {
    let h = common::start(opts()).await;
    sync_all(&h).await;
    // Stock moves with every sale: inventory rows are compared by count.
    let skip_stock = ["fulfillable", "reserved", "total", "fbm_quantity"];
    let first = dumps(&h, &skip_stock);
    let start = h.now().await;
    sync_all(&h).await;
    assert_eq!(
        h.now().await.hour(),
        start.hour(),
        "the test must stay within one hourly slot"
    );
    let again = dumps(&h, &skip_stock);
    for ((table, a), (_, b)) in first.iter().zip(&again) {
        assert_eq!(a.len(), b.len(), "{table}: rows added by a re-run");
        assert_eq!(a, b, "{table}: rows changed by a re-run");
    }

    let ranks = h.int("SELECT COUNT(*) FROM catalog_ranks");
    let day1 = dump(&h, "catalog_ranks", &[]);
    let stock = h.int("SELECT COUNT(*) FROM inventory_snapshots WHERE source = 'fba_inventory'");
    let prices = h.int("SELECT COUNT(*) FROM pricing_snapshots");
    h.advance("1d").await;
    sync_ok(
        &h,
        &[JobName::Inventory, JobName::CatalogRanks, JobName::Pricing],
    )
    .await;
    assert_eq!(h.int("SELECT COUNT(*) FROM catalog_ranks"), 2 * ranks);
    assert_eq!(
        h.int("SELECT COUNT(DISTINCT snapshot_date) FROM catalog_ranks"),
        2
    );
    let after = dump(&h, "catalog_ranks", &[]);
    assert!(
        day1.iter().all(|r| after.contains(r)),
        "the first day's ranks are kept"
    );
    assert_eq!(
        h.int("SELECT COUNT(*) FROM inventory_snapshots WHERE source = 'fba_inventory'"),
        2 * stock
    );
    assert_eq!(h.int("SELECT COUNT(*) FROM pricing_snapshots"), 2 * prices);
    // The second day's rank is the world's.
    let now = h.now().await;
    let w = world(&h);
    let asin = text(&h, "SELECT asin FROM catalog_ranks ORDER BY asin LIMIT 1").unwrap();
    let day = w.day_of(now);
    assert_eq!(
        h.int(&format!(
            "SELECT display_group_rank FROM catalog_ranks WHERE asin = '{asin}' AND snapshot_date = '{day}'"
        )),
        w.sales_rank(&asin, day).unwrap().rank as i64
    );
}

/// Timestamps that differ between two sims started apart.
const TIMES: [&str; 7] = [
    "first_seen_at",
    "observed_at",
    "fetched_at",
    "estimated_at",
    "updated_at",
    "observed_day",
    "amazon_updated_at",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_runs_converge_to_the_clean_data() {
    let clean = common::start(opts()).await;
    sync_all(&clean).await;
    let faulty = common::start(Opts {
        faults: "throttle=0.3,5xx=0.2".into(),
        ..opts()
    })
    .await;
    let mut failures = 0;
    for stage in [
        &[JobName::Inventory, JobName::Listings][..],
        &[
            JobName::CatalogRanks,
            JobName::Pricing,
            JobName::Fees,
            JobName::CustomerFeedback,
        ][..],
    ] {
        let mut pending: Vec<JobName> = stage.to_vec();
        for _round in 0..8 {
            if pending.is_empty() {
                break;
            }
            let results = faulty.sync(&pending).await;
            pending = results
                .iter()
                .filter(|r| r.status.as_str() != "ok")
                .map(|r| r.job)
                .collect();
            failures += pending.len();
        }
        assert!(
            pending.is_empty(),
            "still failing after 8 rounds: {pending:?}"
        );
    }
    let throttled = faulty.int("SELECT COALESCE(SUM(throttled), 0) FROM api_call_counts");
    assert!(throttled > 0, "the fault run was throttled");
    let skip: Vec<&str> = TIMES
        .iter()
        .copied()
        .chain(["fulfillable", "reserved", "total", "fbm_quantity"])
        .collect();
    for table in TABLES.iter().filter(|t| **t != "job_cursors") {
        assert_eq!(
            dump(&faulty, table, &skip),
            dump(&clean, table, &skip),
            "{table} differs after {failures} failed job runs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_survives_an_expired_next_token() {
    // 120 FBA SKUs: three pages. A slow answer (3 s of wall time, a minute of
    // sim time at speed 20) delivers a nextToken that has already expired.
    let scenario = r#"
name = "many"
history_days = 20
[seller]
account = "many"
seller_id = "A1SIMSELLER0009"
[generate]
products = 120
fbm_share = 0.0
units_per_day = 300
campaigns = 0
sku_prefix = "MNY"
"#;
    let h = common::start(Opts {
        scenario: scenario.into(),
        faults: "slow=0.5".into(),
        seed: 2,
        ..opts()
    })
    .await;
    // Each run restarts a pull at most 5 times; a run that still fails is
    // retried by the next one, as the daemon would.
    let mut restarts = 0;
    let mut ok = false;
    for _ in 0..4 {
        let r = &h.sync(&[JobName::Inventory]).await[0];
        if r.status.as_str() == "ok" {
            restarts += usize::from(r.message.contains("restarted"));
            ok = true;
            break;
        }
        assert!(
            r.message.contains("pagination token has expired"),
            "{}",
            r.message
        );
        restarts += 1;
    }
    assert!(ok, "the pull never completed");
    assert!(
        restarts > 0,
        "no pull was restarted: the test did not exercise expiry"
    );
    assert_eq!(
        h.int("SELECT COUNT(DISTINCT sku) FROM inventory_snapshots"),
        120
    );
    assert_eq!(h.int("SELECT COUNT(*) FROM inventory_snapshots"), 120);
}

/// Figures for the closing note: `cargo test --test sync_api_jobs -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn demo_run_figures() {
    let h = common::start(Opts::new("demo")).await;
    let started = std::time::Instant::now();
    let mut results = h.sync(&[JobName::Inventory, JobName::Listings]).await;
    results.extend(
        h.sync(&[
            JobName::CatalogRanks,
            JobName::Pricing,
            JobName::Fees,
            JobName::CustomerFeedback,
        ])
        .await,
    );
    eprintln!("{}", flywheel::sync::summary_table(&results));
    eprintln!("wall time {:.1}s", started.elapsed().as_secs_f64());
}
