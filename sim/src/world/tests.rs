//! Tests of the generator (tiny scenarios inline; the shipped scenarios from `scenarios/`).

use super::*;
use crate::scenario::ScenarioError;

fn scenario_file(name: &str) -> Scenario {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    Scenario::from_path(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const TINY: &str = r#"
name = "tiny"
history_days = 40
[[products]]
sku = "A-1"
asin = "B0TINY0001"
title = "Tiny one"
price = 20.0
cogs = 5.0
sessions = 200
conversion = 0.15
growth = 0.0
[[products]]
sku = "B-1"
asin = "B0TINY0002"
title = "Tiny never sells"
price = 10.0
cogs = 2.0
sessions = 50
conversion = 0.0
fulfillment = "FBM"
[[campaigns]]
id = 7
name = "SP tiny"
skus = ["A-1"]
keywords = [{ text = "tiny" }]
search_terms = [{ term = "tiny thing", keyword = "tiny" }, { term = "tiny free", keyword = "tiny", purchase_share = 0.0, clicks_share = 0.2 }]
[[events]]
from_day = -10
sku = "A-1"
conversion = 0.05
"#;

fn tiny(seed: u64) -> World {
    World::new(
        Scenario::from_toml_str(TINY).unwrap(),
        seed,
        d("2026-03-04"),
    )
}

#[test]
fn shipped_scenarios_parse() {
    let demo = scenario_file("demo.toml");
    assert!(
        (13..=17).contains(&demo.products.len()),
        "{}",
        demo.products.len()
    );
    assert!(demo.products.iter().any(|p| !p.is_fba()));
    assert_eq!(demo.history_days, 180);
    assert!(demo.expect.len() >= 20);
    scenario_file("random.toml");
    let large = scenario_file("large.toml");
    assert!(large.generate.as_ref().unwrap().products >= 20_000);
}

#[test]
fn parse_errors_name_the_key() {
    let unknown = TINY.replace("growth = 0.0", "growht = 0.0");
    let e = Scenario::from_toml_str(&unknown).unwrap_err().to_string();
    assert!(e.contains("growht"), "{e}");
    let bad = TINY.replace("conversion = 0.15", "conversion = 1.5");
    match Scenario::from_toml_str(&bad).unwrap_err() {
        ScenarioError::Invalid { key, .. } => assert_eq!(key, "products[0].conversion"),
        e => panic!("{e}"),
    }
    let bad = TINY.replace(
        "sku = \"A-1\"\nconversion = 0.05",
        "sku = \"NOPE\"\nconversion = 0.05",
    );
    let e = Scenario::from_toml_str(&bad).unwrap_err().to_string();
    assert!(e.contains("events[0].sku"), "{e}");
    let e = Scenario::from_toml_str("name = \"x\"\n[seller]\ntimezone = \"Mars/Base\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("seller.timezone"), "{e}");
    let e = Scenario::from_toml_str("name = \"x\"\n[[expect]]\nrule = \"nope\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("expect[0].rule"), "{e}");
}

#[test]
fn seller_defaults_apply_when_the_section_is_omitted() {
    let w = tiny(1);
    let s = &w.scenario().seller;
    assert_eq!(s.marketplace_id, "ATVPDKIKX0DER");
    assert_eq!(s.timezone, "America/Los_Angeles");
    assert!(!s.sp.refresh_token.is_empty());
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let (a, b, c) = (tiny(5), tiny(5), tiny(6));
    let now = a.day_start(d("2026-03-04"));
    let day = d("2026-02-20");
    let ids = |w: &World| {
        w.orders_on(day, now)
            .iter()
            .map(|o| (o.amazon_order_id.clone(), o.purchase_date))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_ne!(ids(&a), ids(&c));
    let s = |w: &World| w.asin_days("A-1", d("2026-02-01"), d("2026-03-03"), now);
    assert_eq!(s(&a), s(&b));
    assert_ne!(s(&a), s(&c));
    let ads = |w: &World| w.campaign_days(7, d("2026-02-01"), d("2026-03-03"), now);
    assert_eq!(ads(&a), ads(&b));
    assert_ne!(ads(&a), ads(&c));
    // The order of queries does not matter (no hidden state).
    let fresh = tiny(5);
    let _ = fresh.inventory("A-1", now);
    assert_eq!(ids(&fresh), ids(&a));
}

#[test]
fn orders_agree_with_units_and_ids_round_trip() {
    let w = tiny(3);
    let now = w.day_start(d("2026-03-04"));
    let days = w.asin_days("A-1", d("2026-02-10"), d("2026-03-03"), now);
    for x in &days {
        let orders = w.orders_on(x.date, now);
        let units: u32 = orders
            .iter()
            .filter(|o| o.status != OrderStatus::Canceled)
            .flat_map(|o| &o.items)
            .filter(|i| i.sku == "A-1")
            .map(|i| i.quantity)
            .sum();
        assert_eq!(units, x.units_ordered, "{}", x.date);
        assert!(x.sessions >= x.units_ordered);
        assert!(x.units_refunded <= x.units_shipped.max(x.units_refunded));
        for o in &orders {
            assert_eq!(o.amazon_order_id.len(), 19);
            assert_eq!(
                w.order(&o.amazon_order_id, now)
                    .as_ref()
                    .map(|x| &x.amazon_order_id),
                Some(&o.amazon_order_id)
            );
            assert!(o.purchase_date <= o.last_update_date && o.last_update_date <= now);
        }
    }
    assert!(w.order("111-0000000-0000000", now).is_none());
}

#[test]
fn nothing_from_after_now_is_revealed() {
    let w = tiny(4);
    let now = w.day_start(d("2026-03-04")) + Duration::hours(13);
    for o in w.orders_purchased(now - Duration::days(3), now + Duration::days(3), now) {
        assert!(o.purchase_date < now);
        assert!(o.shipped_at.is_none_or(|s| s <= now));
    }
    // The running day is not in sales & traffic; tomorrow has no orders yet.
    assert!(w
        .asin_days("A-1", d("2026-03-04"), d("2026-03-05"), now)
        .is_empty());
    assert!(w.orders_on(d("2026-03-05"), now).is_empty());
    let today: Vec<_> = w.orders_on(d("2026-03-04"), now);
    assert!(today.iter().all(|o| o.purchase_date <= now));
    // Ads: the running day is partial and grows.
    let early = w.campaign_days(7, d("2026-03-04"), d("2026-03-04"), now);
    let later = w.campaign_days(
        7,
        d("2026-03-04"),
        d("2026-03-04"),
        now + Duration::hours(8),
    );
    assert!(early[0].clicks <= later[0].clicks);
}

#[test]
fn orders_updated_lists_status_changes() {
    let w = tiny(8);
    let now = w.day_start(d("2026-03-04")) + Duration::hours(6);
    let a = now - Duration::hours(30);
    let v: Vec<Order> = w.orders_updated(a, now, now).collect();
    assert!(!v.is_empty());
    assert!(v
        .iter()
        .all(|o| o.last_update_date >= a && o.last_update_date < now));
    assert!(v
        .windows(2)
        .all(|p| p[0].last_update_date <= p[1].last_update_date));
    let statuses: std::collections::HashSet<_> =
        v.iter().map(|o| format!("{:?}", o.status)).collect();
    assert!(
        statuses.contains("Shipped") && statuses.contains("Unshipped"),
        "{statuses:?}"
    );
    // Some orders bought days before `a` were updated after it (shipping).
    assert!(v.iter().any(|o| o.purchase_date < a));
}

#[test]
fn conversion_event_shows_in_the_data() {
    let w = tiny(9);
    let now = w.day_start(d("2026-03-04"));
    let t = w
        .asin_total("A-1", d("2026-02-22"), d("2026-03-03"), now)
        .unwrap();
    let rate = t.units_ordered as f64 / t.sessions as f64;
    assert!((rate - 0.05).abs() < 0.01, "{rate}");
    let before = w
        .asin_total("A-1", d("2026-02-01"), d("2026-02-21"), now)
        .unwrap();
    let rate = before.units_ordered as f64 / before.sessions as f64;
    assert!((rate - 0.15).abs() < 0.015, "{rate}");
    // Zero-order ASINs are left out of the per-ASIN totals.
    let all = w.asin_totals(d("2026-02-01"), d("2026-03-03"), now);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].asin, "B0TINY0001");
}

#[test]
fn ads_conversions_mature_and_stay_below_total_sales() {
    let w = tiny(10);
    let day = d("2026-02-20");
    let seen = |days_after: i64| {
        let now = w.day_start(day + Duration::days(1)) + Duration::days(days_after);
        w.campaign_days(7, day, day, now)[0].clone()
    };
    let (d0, d3, d7, d28, d42) = (seen(0), seen(3), seen(7), seen(28), seen(42));
    assert!(
        d0.sales14d <= d3.sales14d && d3.sales14d <= d7.sales14d && d7.sales14d <= d28.sales14d
    );
    assert_eq!(
        d7.sales7d, d28.sales7d,
        "7-day metrics are final a week after"
    );
    assert_eq!(d28, d42, "nothing changes after 28 days");
    assert!(d0.sales7d < d28.sales7d);
    assert_eq!(d0.clicks, d42.clicks);
    let now = w.day_start(d("2026-03-04"));
    let totals = w.asin_days("A-1", d("2026-02-01"), d("2026-03-03"), now);
    for c in w.campaign_days(7, d("2026-02-01"), d("2026-03-03"), now) {
        let t = totals.iter().find(|t| t.date == c.date).unwrap();
        assert!(c.sales14d <= t.ordered_product_sales + 1e-6);
    }
    // The never-converting term has clicks and no purchases.
    let terms = w.search_term_days(d("2026-02-01"), d("2026-02-25"), now);
    let free: Vec<_> = terms
        .iter()
        .filter(|t| t.search_term == "tiny free")
        .collect();
    assert!(!free.is_empty() && free.iter().all(|t| t.purchases14d == 0));
}

#[test]
fn demo_breaks_show_in_the_data() {
    let day0 = d("2026-03-04");
    let w = World::new(scenario_file("demo.toml"), 1, day0);
    let now = w.day_start(day0);
    // Stockout: the spatula is out of stock at day 0.
    let inv = w.inventory("FW-SPATULA-01", now).unwrap();
    assert_eq!(inv.fulfillable, 0);
    assert_eq!(inv.inbound(), 0);
    // Suppressed listing with an ERROR issue.
    let l = w.listing("FW-ORGANIZER-01", now).unwrap();
    assert!(l.suppressed && l.issues.iter().any(|i| i.severity == "ERROR"));
    assert!(w
        .listing("FW-BOTTLE-01", now)
        .unwrap()
        .status
        .contains(&"BUYABLE".to_string()));
    // Buy box loss shows in the competitive summary too.
    let cs = w.competitive_summary("B0SIMLTN01", now).unwrap();
    assert!(cs.offers.len() >= 2);
    // Overstock: planning says more than 45 days of supply.
    let row = w
        .planning(day0)
        .into_iter()
        .find(|r| r.sku == "FW-CREAM-01")
        .unwrap();
    assert!(row.days_of_supply.unwrap() > 45.0, "{row:?}");
    // Unanswered negative feedback.
    let fb = w.seller_feedback(day0 - Duration::days(5), day0, now);
    assert!(fb.iter().any(|f| f.rating == 1 && f.response.is_empty()));
    assert!(fb.iter().all(|f| f.rating <= 3));
    let health = w.account_health(now);
    assert!(health.odr >= 0.01 && health.odr_orders > 1000);
    // Ratings file and costs.
    assert!(w
        .ratings(day0)
        .iter()
        .any(|r| r.asin == "B0SIMBTL03" && r.rating < 4.3));
    assert_eq!(w.costs().len(), w.products().len());
    assert!(w.fee_estimate("FW-MUG-01", None, now).unwrap().fba_fee > 0.0);
    // Customer feedback: the leaking bottle's topic rose.
    let topics = w.review_topics("B0SIMBTL03", now).unwrap();
    let leaks = topics.iter().find(|t| t.topic == "Leaks").unwrap();
    assert_eq!(leaks.browse_node_occurrence_pct, Some(5.0));
    let trends = w.review_trends("B0SIMBTL03", now).unwrap();
    assert_eq!(trends.iter().filter(|t| t.topic == "Leaks").count(), 6);
    assert!(w.browse_node_topics("3743561").is_some());
    // SQP weeks run Sunday to Saturday.
    let q = w.search_query_week("B0SIMBTL01", day0 - Duration::days(10), now);
    assert!(!q.is_empty());
    assert_eq!(q[0].start_date.weekday(), chrono::Weekday::Sun);
    assert_eq!(q[0].end_date.weekday(), chrono::Weekday::Sat);
    // Returns carry reasons, and ranks exist.
    let r = w.returns(day0 - Duration::days(30), day0 - Duration::days(1), now);
    assert!(r
        .iter()
        .any(|r| r.sku == "FW-CHARGER-01" && r.reason == "DEFECTIVE"));
    assert!(r.iter().any(|r| r.fulfillment_channel == "MFN"));
    assert!(w
        .sales_rank("B0SIMDOG01", day0 - Duration::days(1))
        .is_some());
    assert_eq!(w.profile().profile_id, 3_100_000_000_000_001);
}

#[test]
fn large_is_lazy() {
    let t = std::time::Instant::now();
    let w = World::new(scenario_file("large.toml"), 1, d("2026-03-04"));
    let built = t.elapsed();
    assert!(
        built < std::time::Duration::from_secs(2),
        "World::new took {built:?}"
    );
    assert!(w.products().len() >= 20_000);
    let now = w.day_start(d("2026-03-04"));
    let t = std::time::Instant::now();
    let orders = w.orders_on(d("2025-06-01"), now);
    let n = orders.len();
    assert!((1_000..2_000).contains(&n), "{n} orders on one day");
    // About a million orders over the two years of history (scaled from one day's count).
    assert!(n as u64 * 730 >= 1_000_000, "{n} orders a day");
    eprintln!(
        "large: new {built:?}, one day of orders in {:?}",
        t.elapsed()
    );
    let one = &orders[n / 2];
    assert_eq!(
        w.order(&one.amazon_order_id, now).unwrap().items[0].sku,
        one.items[0].sku
    );
}

#[test]
fn world_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<World>();
}
