//! `evaluate` (alias `rules`): every rule evaluated on a snapshot of `scenarios/large.toml`-
//!   sized data (20,000 SKUs, about 1,500 orders a day, 300 campaigns).
//!   Syncing 20k SKUs from the sim takes far longer than the evaluation, so
//!   the rows are generated straight into a fresh database (only the days
//!   the rules read: 120 days of orders, 31 daily stock pulls, ...); the
//!   timing covers building the snapshot (the SQL) and evaluating it.
//!   `--overrides` adds `[[overrides]]` as a seller writes them: an
//!   account-wide threshold for each per-subject rule (selecting every
//!   ASIN, SKU or campaign) and a longer lead time for every 100th SKU.

use std::fmt::Write as _;
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rusqlite::{params, Connection};

use flywheel::config::{Account, Config, Override};

use crate::{peak_rss_mib, reset_peak_rss, Args};

const SKUS: usize = 20_000;
const ORDERS_PER_DAY: usize = 1_500;
const CAMPAIGNS: usize = 300;
const M: &str = "ATVPDKIKX0DER";
const A: &str = "large";

fn d(x: NaiveDate) -> String {
    x.format("%Y-%m-%d").to_string()
}

pub fn run(args: &Args) {
    // FLYWHEEL_BENCH_DIR keeps the generated data between runs (generation
    // takes far longer than the evaluation it feeds).
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var_os("FLYWHEEL_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench dir");
    let db = dir.join("bench.db");
    let fresh = !db.exists();
    let at = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap();
    let cfg = Config {
        costs_file: Some(dir.join("costs.csv")),
        ratings_file: Some(dir.join("ratings.csv")),
        accounts: vec![Account {
            name: A.into(),
            marketplaces: vec!["US".into()],
            ..Account::default()
        }],
        overrides: if args.get("overrides").is_some() {
            overrides()
        } else {
            Vec::new()
        },
        ..Config::default()
    };
    let t = Instant::now();
    if fresh {
        let (mut conn, _) = flywheel::store::open_and_migrate(&db).expect("database");
        flywheel::store::ops::sync_accounts(&mut conn, &cfg, now).expect("accounts");
        generate(&mut conn, &cfg, at, now);
    }
    let generate_seconds = t.elapsed().as_secs_f64();

    reset_peak_rss();
    let t = Instant::now();
    let conn = flywheel::store::open(&db).expect("database");
    let snaps = flywheel::store::snapshot::build_all(&conn, &cfg, Some(at), now).expect("snapshot");
    let snapshot_seconds = t.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let mut findings = Vec::new();
    for (date, s) in &snaps {
        findings.extend(flywheel::rules::evaluate(&cfg, s, *date));
    }
    let evaluate_seconds = t2.elapsed().as_secs_f64();
    let seconds = t.elapsed().as_secs_f64();
    let alerts = findings.iter().filter(|f| f.is_alert()).count();
    println!(
        "{}",
        serde_json::json!({
            "bench": "evaluate",
            "skus": SKUS,
            "campaigns": CAMPAIGNS,
            "seconds": seconds,
            "snapshot_seconds": snapshot_seconds,
            "evaluate_seconds": evaluate_seconds,
            "findings": findings.len(),
            "overrides": cfg.overrides.len(),
            "alerts": alerts,
            "peak_rss_mib": peak_rss_mib(),
            "generate_seconds": generate_seconds,
        })
    );
}

/// `--overrides`: one account-wide override per per-subject rule, and a
/// lead time for every 100th SKU.
fn overrides() -> Vec<Override> {
    let over = |rule: &str, settings: &str| Override {
        rule: rule.into(),
        account: Some(A.into()),
        settings: toml::from_str(settings).expect("override settings"),
        ..Override::default()
    };
    let mut out = vec![
        over("conversion_rate", "min_percent = 10.0"),
        over("traffic_trend", "max_drop_percent = 30.0"),
        over("buy_box", "min_percent = 85.0"),
        over("return_rate", "max_percent = 4.0"),
        over("listing_health", "min_issue_severity = \"warning\""),
        over("acos_band", "max_percent = 30.0"),
        over("wasted_spend", "min_clicks = 20"),
        over("stockout_risk", "safety_days = 10"),
        over("inventory_turnover", "max_days_of_supply = 60"),
        over("margin_floor", "min_percent = 8.0"),
    ];
    for i in (0..SKUS).step_by(100) {
        out.push(Override {
            sku: Some(format!("LRG-{i:05}")),
            ..over("stockout_risk", "lead_time_days = 60")
        });
    }
    out
}

/// Rows for `SKUS` products, shaped like what the sync jobs write.
fn generate(conn: &mut Connection, cfg: &Config, at: NaiveDate, now: chrono::DateTime<Utc>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let ts = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let now_s = ts(now);
    let sku = |i: usize| format!("LRG-{i:05}");
    let asin = |i: usize| format!("B0LRG{i:05}");
    // Zipf-like demand: SKU i sells about weight(i) of the day's orders.
    let weights: Vec<f64> = (0..SKUS).map(|i| 1.0 / (i as f64 + 10.0)).collect();
    let total: f64 = weights.iter().sum();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w / total;
            Some(*acc)
        })
        .collect();
    let pick = |r: f64| cumulative.partition_point(|c| *c < r).min(SKUS - 1);
    let price = |i: usize| 10.0 + (i % 40) as f64;
    let fbm = |i: usize| i % 5 == 4;

    let tx = conn.transaction().unwrap();
    {
        let mut p = tx
            .prepare(
                "INSERT INTO products (account, marketplace_id, sku, asin, fulfillment_channel, title, first_seen_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
            )
            .unwrap();
        let mut l = tx
            .prepare(
                "INSERT INTO listings (account, marketplace_id, sku, asin, statuses_json, is_buyable, is_discoverable,
                     is_suppressed, first_seen_at, observed_at)
                 VALUES (?1, ?2, ?3, ?4, '[\"BUYABLE\",\"DISCOVERABLE\"]', ?5, 1, 0, '2025-01-01T00:00:00Z', ?6)",
            )
            .unwrap();
        let mut fee = tx
            .prepare(
                "INSERT INTO fee_estimates (account, marketplace_id, sku, price, currency, is_amazon_fulfilled,
                     total_fees, referral_fee, fba_fee, estimated_at)
                 VALUES (?1, ?2, ?3, ?4, 'USD', ?5, ?6, ?7, ?8, ?9)",
            )
            .unwrap();
        let mut pr = tx
            .prepare(
                "INSERT INTO pricing_snapshots (account, marketplace_id, asin, observed_at, observed_day, currency,
                     featured_offer_price, is_featured_offer_ours, our_price, lowest_new_fba_price, offer_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'USD', ?6, 1, ?6, ?7, 3)",
            )
            .unwrap();
        for i in 0..SKUS {
            let ch = if fbm(i) { "FBM" } else { "FBA" };
            p.execute(params![A, M, sku(i), asin(i), ch, format!("Product {i}")])
                .unwrap();
            l.execute(params![A, M, sku(i), asin(i), (i % 997 != 0) as i64, now_s])
                .unwrap();
            let pz = price(i);
            fee.execute(params![
                A,
                M,
                sku(i),
                pz,
                (!fbm(i)) as i64,
                pz * 0.15 + if fbm(i) { 0.0 } else { 3.5 },
                pz * 0.15,
                if fbm(i) { None } else { Some(3.5) },
                ts(now - Duration::days(3))
            ])
            .unwrap();
            pr.execute(params![
                A,
                M,
                asin(i),
                ts(now - Duration::hours(2)),
                d(at),
                pz,
                pz * 1.03
            ])
            .unwrap();
        }
        let mut iss = tx
            .prepare(
                "INSERT INTO listing_issues (account, marketplace_id, sku, code, severity, message, first_seen_at, observed_at)
                 VALUES (?1, ?2, ?3, '90220', 'ERROR', 'item_name is required', '2026-02-01T00:00:00Z', ?4)",
            )
            .unwrap();
        for i in (0..SKUS).step_by(997) {
            iss.execute(params![A, M, sku(i), now_s]).unwrap();
        }

        // Orders: 120 days, one line each; returns for 2% of units.
        let mut o = tx
            .prepare(
                "INSERT INTO orders (account, order_id, marketplace_id, purchase_date, purchase_day, last_updated_date,
                     status, raw_status, fulfillment_channel, sales_channel, currency, order_total, source, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?6, ?7, 'Amazon.com', 'USD', ?8, 'api', ?4)",
            )
            .unwrap();
        let mut it = tx
            .prepare(
                "INSERT INTO order_items (account, order_id, sku, asin, quantity, quantity_shipped, currency, item_price)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'USD', ?7)",
            )
            .unwrap();
        let mut ret = tx
            .prepare(
                "INSERT INTO returns (account, marketplace_id, source, order_id, sku, return_ref, return_date, quantity,
                     reason, report_type, fetched_at)
                 VALUES (?1, ?2, 'fba', ?3, ?4, ?3, ?5, ?6, 'DEFECTIVE', 'GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA', ?7)",
            )
            .unwrap();
        let mut n = 0u64;
        for k in 1..=120i64 {
            let day = at - Duration::days(k);
            let t = Utc.from_utc_datetime(&day.and_hms_opt(18, 0, 0).unwrap());
            for _ in 0..ORDERS_PER_DAY {
                n += 1;
                let i = pick(rng.random::<f64>());
                let q: i64 = rng.random_range(1..=3);
                let id = format!("111-{n:07}-0000000");
                let shipped = k > 2;
                let amount = q as f64 * price(i);
                o.execute(params![
                    A,
                    id,
                    M,
                    ts(t),
                    d(day),
                    if shipped { "shipped" } else { "unshipped" },
                    if fbm(i) { "FBM" } else { "FBA" },
                    amount
                ])
                .unwrap();
                it.execute(params![
                    A,
                    id,
                    sku(i),
                    asin(i),
                    q,
                    if shipped { q } else { 0 },
                    amount
                ])
                .unwrap();
                if shipped && rng.random::<f64>() < 0.02 {
                    ret.execute(params![
                        A,
                        M,
                        id,
                        sku(i),
                        d(day + Duration::days(2)),
                        q,
                        now_s
                    ])
                    .unwrap();
                }
            }
        }

        // Daily sales & traffic and the per-ASIN windows (ASINs with orders).
        let mut dl = tx
            .prepare(
                "INSERT INTO sales_traffic_daily (account, marketplace_id, date, sessions, page_views, buy_box_pct,
                     units_ordered, total_order_items, ordered_product_sales, negative_feedback_received, currency, fetched_at)
                 VALUES (?1, ?2, ?3, 12000, 15600, 97.0, 3000, 1500, 75000.0, 2, 'USD', ?4)",
            )
            .unwrap();
        for k in 1..=120i64 {
            dl.execute(params![A, M, d(at - Duration::days(k)), now_s])
                .unwrap();
        }
        let mut w = tx
            .prepare(
                "INSERT INTO sales_traffic_windows (account, marketplace_id, window_start, window_end, asin_rows, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut wa = tx
            .prepare(
                "INSERT INTO sales_traffic_asin (account, marketplace_id, asin, window_start, window_end, sessions,
                     page_views, buy_box_pct, unit_session_pct, units_ordered, total_order_items, ordered_product_sales,
                     currency, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'USD', ?13)",
            )
            .unwrap();
        for len in [7i64, 14, 30] {
            for back in [0i64, 1] {
                let end = at - Duration::days(1 + back * len);
                let start = end - Duration::days(len - 1);
                let reported = (SKUS as f64 * (len as f64 / 60.0).min(0.6)) as usize;
                w.execute(params![A, M, d(start), d(end), reported as i64, now_s])
                    .unwrap();
                for (i, weight) in weights.iter().enumerate().take(reported) {
                    // Demand noise between the windows (about half the ASINs sell less).
                    let noise = if back == 0 {
                        rng.random_range(0.85..1.15)
                    } else {
                        1.0
                    };
                    let units = ((weight / total)
                        * ORDERS_PER_DAY as f64
                        * 2.0
                        * len as f64
                        * noise)
                        .ceil() as i64;
                    let sessions = units * 7 + rng.random_range(0..5);
                    wa.execute(params![
                        A,
                        M,
                        asin(i),
                        d(start),
                        d(end),
                        sessions,
                        sessions * 13 / 10,
                        95.0 + (i % 5) as f64,
                        units as f64 / sessions as f64 * 100.0,
                        units,
                        units,
                        units as f64 * price(i),
                        now_s
                    ])
                    .unwrap();
                }
            }
        }

        // Stock: a daily pull for 31 days (FBA) and FBM listing quantities.
        let mut inv = tx
            .prepare(
                "INSERT INTO inventory_snapshots (account, marketplace_id, sku, source, observed_at, observed_day, asin,
                     fulfillable, inbound_working, inbound_shipped, inbound_receiving)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0)",
            )
            .unwrap();
        for k in 0..=30i64 {
            let day = at - Duration::days(k);
            let t = ts(Utc.from_utc_datetime(&day.and_hms_opt(15, 0, 0).unwrap()));
            for i in 0..SKUS {
                let stock = if i % 101 == 0 {
                    0
                } else {
                    20 + (i % 300) as i64
                };
                let source = if fbm(i) { "listings" } else { "fba_inventory" };
                inv.execute(params![
                    A,
                    M,
                    sku(i),
                    source,
                    t,
                    d(day),
                    asin(i),
                    stock,
                    (i % 50) as i64
                ])
                .unwrap();
            }
        }
        let mut pl = tx
            .prepare(
                "INSERT INTO inventory_planning (account, marketplace_id, snapshot_date, sku, asin, available,
                     days_of_supply, units_shipped_t30, inv_age_0_to_90_days, inv_age_91_to_180_days, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6, ?9, ?10)",
            )
            .unwrap();
        for i in (0..SKUS).filter(|i| !fbm(*i)) {
            pl.execute(params![
                A,
                M,
                d(at),
                sku(i),
                asin(i),
                100i64,
                (10 + i % 80) as f64,
                30i64,
                if i % 211 == 0 { 5i64 } else { 0 },
                now_s
            ])
            .unwrap();
        }

        // Ranks: 15 days.
        let mut rk = tx
            .prepare(
                "INSERT INTO catalog_ranks (account, marketplace_id, asin, snapshot_date, display_group, display_group_rank,
                     classification_rank, observed_at)
                 VALUES (?1, ?2, ?3, ?4, 'home_garden_display_on_website', ?5, ?6, ?7)",
            )
            .unwrap();
        for k in 0..=15i64 {
            let day = at - Duration::days(k);
            let t = ts(Utc.from_utc_datetime(&day.and_hms_opt(14, 0, 0).unwrap()));
            for i in 0..SKUS {
                let r = 100 + i as i64 * 3 + rng.random_range(0..20);
                rk.execute(params![A, M, asin(i), d(day), r, r / 10, t])
                    .unwrap();
            }
        }

        // Search query performance: the top 1,000 ASINs, 5 queries, 4 weeks.
        let mut q = tx
            .prepare(
                "INSERT INTO search_query_performance (account, marketplace_id, asin, week_start, week_end, search_query,
                     search_query_volume, impression_share, click_share, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .unwrap();
        use chrono::Datelike;
        let last_sat = at - Duration::days(at.weekday().num_days_from_sunday() as i64 + 1);
        for wk in 0..4i64 {
            let ws = last_sat - Duration::days(6 + 7 * wk);
            for i in 0..1000 {
                for j in 0..5 {
                    let share = 0.05 + rng.random::<f64>() * 0.01;
                    q.execute(params![
                        A,
                        M,
                        asin(i),
                        d(ws),
                        d(ws + Duration::days(6)),
                        format!("query {i} {j}"),
                        10_000i64 - j as i64,
                        share,
                        share,
                        now_s
                    ])
                    .unwrap();
                }
            }
        }

        // Review topics: the top 1,000 ASINs, 3 topics, 6 monthly points.
        let mut rt = tx
            .prepare(
                "INSERT INTO review_topics (account, marketplace_id, subject_kind, subject_id, period_start, period_end,
                     sentiment, topic, occurrence_pct, star_rating_impact, browse_node_occurrence_pct, fetched_at)
                 VALUES (?1, ?2, 'asin', ?3, '2025-09-01', '2026-02-28', ?4, ?5, ?6, -0.1, ?7, ?8)",
            )
            .unwrap();
        let mut tr = tx
            .prepare(
                "INSERT INTO review_topic_trends (account, marketplace_id, subject_kind, subject_id, sentiment, topic,
                     period_start, period_end, occurrence_pct, fetched_at)
                 VALUES (?1, ?2, 'asin', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .unwrap();
        for i in 0..1000 {
            for (t, sent) in [
                ("Leaks", "negative"),
                ("Hard to clean", "negative"),
                ("Keeps cold", "positive"),
            ] {
                rt.execute(params![A, M, asin(i), sent, t, 8.0, 6.0, now_s])
                    .unwrap();
                for (y, mth) in [
                    (2025, 9),
                    (2025, 10),
                    (2025, 11),
                    (2025, 12),
                    (2026, 1),
                    (2026, 2),
                ] {
                    let start = NaiveDate::from_ymd_opt(y, mth, 1).unwrap();
                    tr.execute(params![
                        A,
                        M,
                        asin(i),
                        sent,
                        t,
                        d(start),
                        d(start + Duration::days(27)),
                        8.0,
                        now_s
                    ])
                    .unwrap();
                }
            }
        }

        // Ads: one profile, 300 campaigns, 10 search terms and 2 products each, 75 days.
        tx.execute(
            "INSERT INTO ads_profiles (profile_id, account, country_code, currency, timezone, marketplace_id, account_type, fetched_at)
             VALUES (3100000000000003, ?1, 'US', 'USD', 'America/Los_Angeles', ?2, 'seller', ?3)",
            params![A, M, now_s],
        )
        .unwrap();
        let mut cd = tx
            .prepare(
                "INSERT INTO ads_campaign_daily (profile_id, ad_product, date, campaign_id, campaign_name, impressions, clicks,
                     cost, purchases_7d, purchases_14d, sales_7d, sales_14d, currency, fetched_at)
                 VALUES (3100000000000003, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9, 'USD', ?10)",
            )
            .unwrap();
        let mut st = tx
            .prepare(
                "INSERT INTO ads_search_term_daily (profile_id, ad_product, date, campaign_id, ad_group_id, keyword_id,
                     search_term, impressions, clicks, cost, purchases_7d, purchases_14d, sales_7d, sales_14d, currency, fetched_at)
                 VALUES (3100000000000003, 'SP', ?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9, 'USD', ?10)",
            )
            .unwrap();
        let mut ap = tx
            .prepare(
                "INSERT INTO ads_advertised_product_daily (profile_id, ad_product, date, campaign_id, ad_group_id,
                     advertised_asin, advertised_sku, impressions, clicks, cost, purchases_7d, purchases_14d, sales_7d,
                     sales_14d, currency, fetched_at)
                 VALUES (3100000000000003, 'SP', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?10, 'USD', ?11)",
            )
            .unwrap();
        for k in 1..=75i64 {
            let day = d(at - Duration::days(k));
            for c in 0..CAMPAIGNS {
                let id = 10_000 + c as i64;
                let kind = if c % 7 == 6 {
                    "SB"
                } else if c % 7 == 5 {
                    "SD"
                } else {
                    "SP"
                };
                let clicks: i64 = rng.random_range(20..60);
                let cost = clicks as f64 * 0.9;
                let sales = cost / 0.21;
                cd.execute(params![
                    kind,
                    day,
                    id,
                    format!("campaign {c}"),
                    clicks * 250,
                    clicks,
                    cost,
                    clicks / 8,
                    sales,
                    now_s
                ])
                .unwrap();
                if kind != "SP" {
                    continue;
                }
                for t in 0..10 {
                    let tc = clicks / 10;
                    st.execute(params![
                        day,
                        id,
                        id * 10 + 1,
                        format!("term {c} {t}"),
                        tc * 250,
                        tc,
                        tc as f64 * 0.9,
                        if t == 9 { 0 } else { 1 },
                        if t == 9 { 0.0 } else { 20.0 },
                        now_s
                    ])
                    .unwrap();
                }
                for s in 0..2 {
                    let i = (2 * c + s) % SKUS;
                    ap.execute(params![
                        day,
                        id,
                        id * 10 + 1,
                        asin(i),
                        sku(i),
                        clicks * 125,
                        clicks / 2,
                        cost / 2.0,
                        clicks / 16,
                        sales / 2.0,
                        now_s
                    ])
                    .unwrap();
                }
            }
        }

        // Feedback, account health, job runs.
        for k in 0..40 {
            tx.execute(
                "INSERT INTO seller_feedback (account, marketplace_id, order_id, feedback_date, rating, your_response,
                     first_seen_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![A, M, format!("fb-{k}"), d(at - Duration::days(k % 30 + 1)), 1 + k % 3,
                    if k == 3 { "" } else { "Sorry, replaced." }, now_s],
            )
            .unwrap();
        }
        tx.execute(
            "INSERT INTO account_health_snapshots (account, marketplace_id, snapshot_date, account_status, odr_mfn_rate,
                 odr_afn_rate, late_shipment_rate, pre_fulfillment_cancel_rate, valid_tracking_rate, raw_json, fetched_at)
             VALUES (?1, ?2, ?3, 'NORMAL', 0.004, 0.002, 0.01, 0.003, 0.99, '{}', ?4)",
            params![A, M, d(at), now_s],
        )
        .unwrap();
        for (job, _) in cfg.schedule.jobs() {
            tx.execute(
                "INSERT INTO job_runs (job, account, started_at, finished_at, status) VALUES (?1, ?2, ?3, ?3, 'ok')",
                params![job, A, ts(now - Duration::minutes(30))],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();

    // The user's CSV files.
    let mut costs = String::from("sku,unit_cost,inbound_freight\n");
    let mut ratings = String::from("asin,rating,rating_count,date\n");
    for i in 0..SKUS {
        let _ = writeln!(costs, "{},{:.2},0.50", sku(i), price(i) * 0.3);
        for w in 0..6 {
            let _ = writeln!(
                ratings,
                "{},{:.2},250,{}",
                asin(i),
                4.4 + (i % 5) as f64 * 0.1,
                d(at - Duration::days(7 * w))
            );
        }
    }
    std::fs::write(cfg.costs_file.as_ref().unwrap(), costs).unwrap();
    std::fs::write(cfg.ratings_file.as_ref().unwrap(), ratings).unwrap();
}
