//! Tests of the generator (tiny scenarios inline; the shipped scenarios from `scenarios/`).

use super::*;

fn scenario_file(name: &str) -> Scenario {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
    Scenario::from_path(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn dump_demo_truth() {
    let w = World::new(scenario_file("demo.toml"), 1, d("2026-03-04"));
    let t = std::time::Instant::now();
    let report = crate::truth::truth(&w, d("2026-03-04"));
    eprintln!("truth in {:?}", t.elapsed());
    for k in &report.kpis {
        eprintln!("{}", serde_json::to_string(k).unwrap());
    }
}

#[test]
fn dump_spatula() {
    let day0 = d("2026-03-04");
    let w = World::new(scenario_file("demo.toml"), 1, day0);
    let now = w.day_start(day0);
    for x in w.asin_days("FW-SPATULA-01", day0 - Duration::days(40), day0 - Duration::days(1), now) {
        eprintln!("{} units {} shipped {} refunded {}", x.date, x.units_ordered, x.units_shipped, x.units_refunded);
    }
    let r: u32 = w.returns(day0 - Duration::days(30), day0 - Duration::days(1), now).iter().filter(|r| r.sku == "FW-SPATULA-01").map(|r| r.quantity).sum();
    eprintln!("returns {r}");
}
