//! Values the tests of the messages share: hand-built alert emails shaped
//! like the demo's first round, in any language, and the English fixed
//! phrases a zh-CN message must not contain.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use crate::alert::{AlertEmail, Item, ItemKind, Names, Series, Stake};
use crate::i18n::Lang;

pub(crate) const US: &str = "ATVPDKIKX0DER";
pub(crate) const DE: &str = "A1PA6795UKMFR9";

pub(crate) fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap()
}

pub(crate) fn series(n: usize) -> Series {
    let d0 = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    Series {
        label: "units available".into(),
        points: (0..n)
            .map(|i| {
                (
                    d0 + chrono::Duration::days(i as i64),
                    (i % 5 != 2).then_some(i as f64),
                )
            })
            .collect(),
        threshold: None,
    }
}

pub(crate) fn item(f: Value, kind: ItemKind) -> Item {
    let fp = format!(
        "{:016x}",
        f.to_string()
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
    );
    Item::from_finding_json(&f, kind, &fp, at() - chrono::Duration::hours(30)).unwrap()
}

/// A finding of `rule` about `subject` (extra subject keys), as the JSON has it.
pub(crate) fn finding(
    rule: &str,
    sev: &str,
    subject: Value,
    value: f64,
    threshold: f64,
    ev: Value,
) -> Item {
    let mut f = json!({"rule": rule, "severity": sev, "account": "demo",
        "marketplace": US, "value": value, "threshold": threshold, "evidence": ev,
        "summary": "an English summary the rule wrote", "check_first": "English advice"});
    for (k, v) in subject.as_object().unwrap() {
        f[k] = v.clone();
    }
    item(f, ItemKind::Firing)
}

/// A daily series of `n` points ending on `last`.
pub(crate) fn ending(n: usize, last: f64, threshold: Option<f64>) -> Series {
    let mut s = series(n);
    s.points = s
        .points
        .iter()
        .enumerate()
        .map(|(i, (d, _))| (*d, Some(last + (n - 1 - i) as f64 * 0.5)))
        .collect();
    s.threshold = threshold;
    s
}

pub(crate) fn stake(per_day: f64, share: f64) -> Option<Stake> {
    Some(Stake {
        per_day,
        currency: "USD".into(),
        share_of_sales: Some(share),
    })
}

pub(crate) fn names() -> Names {
    let k = |a: &str, b: &str| (a.to_string(), b.to_string());
    let mut n = Names::default();
    n.skus
        .insert(k(US, "FW-SPATULA-01"), "Silicone Spatula Set of 3".into());
    n.asins.insert(
        k(US, "B0SIMSPT01"),
        "Silicone Spatula Set of 3, Heat Resistant 600F, Non-Stick Kitchen Utensils for Cooking, Baking and Mixing, BPA Free".into(),
    );
    n.asins.insert(
        k(US, "B0SIMLNC01"),
        "Stainless Lunch Box, 3 Compartments".into(),
    );
    n.asins
        .insert(k(US, "B0SIMORG01"), "Desk Organizer with Drawer".into());
    n.asins
        .insert(k(US, "B0SIMCHG01"), "USB-C Charger 65W".into());
    n.asins
        .insert(k(US, "B0SIMBTL03"), "Insulated Water Bottle 1L".into());
    n.asins.insert(k(US, "B0SIMYGA01"), "Yoga Mat 6mm".into());
    n.asins
        .insert(k(DE, "B0SIMBTL03"), "Isolierte Trinkflasche 1L".into());
    n.sku_asin
        .insert(k(US, "FW-SPATULA-01"), "B0SIMSPT01".into());
    n.sku_asin
        .insert(k(US, "FW-ORGANIZER-01"), "B0SIMORG01".into());
    n.sku_asin
        .insert(k(US, "FW-CHARGER-01"), "B0SIMCHG01".into());
    n.campaigns
        .insert("1005".into(), "SP - Tumbler - Manual".into());
    n.campaigns
        .insert("1001".into(), "SP - Bottle - Auto".into());
    n
}

/// The demo's first round, in short: a stockout under a stalled ASIN, a
/// suppressed listing, account-level findings, campaigns with terms.
pub(crate) fn demo_items() -> Vec<Item> {
    let mut stock = finding(
        "stockout_risk",
        "critical",
        json!({"sku": "FW-SPATULA-01"}),
        0.0,
        37.0,
        json!({"available": 0, "inbound": 0, "stockout_days": 0, "daily_units": 11.2}),
    );
    stock.stake = stake(182.4, 0.095);
    stock.series = Some(ending(60, 0.0, Some(37.0)));
    let mut stall = finding(
        "growth_stall",
        "warning",
        json!({"asin": "B0SIMSPT01"}),
        336.0,
        1190.0,
        json!({"units": 336, "prior_units": 1190, "sessions": 4376, "prior_sessions": 7510,
            "conversion_pct": 7.68, "prior_conversion_pct": 15.8}),
    );
    stall.diagnosis = Some(json!({"conversion_fell": true, "traffic_fell": true,
        "checks": [
            {"check": "stock", "detail": "FW-SPATULA-01: 0 available",
             "evidence": {"available": 0, "inbound": 0, "stockout_days": 0}},
            {"check": "buy_box", "detail": "buy box 48.8%",
             "evidence": {"buy_box_pct": 48.8, "prior_buy_box_pct": 98.0}}],
        "other_rules": ["stockout_risk"]}));
    stall.series = Some(ending(30, 336.0, None));
    let mut conv = finding(
        "conversion_rate",
        "warning",
        json!({"asin": "B0SIMLNC01"}),
        7.11,
        12.0,
        json!({"sessions": 3472, "units_ordered": 247, "prior_conversion_pct": 15.3, "drop_pct": 53.4}),
    );
    conv.series = Some(ending(45, 7.11, Some(12.0)));
    conv.window = Some(("2026-02-15".parse().unwrap(), "2026-03-01".parse().unwrap()));
    let mut listing = finding(
        "listing_health",
        "critical",
        json!({"sku": "FW-ORGANIZER-01"}),
        1.0,
        0.0,
        json!({"is_buyable": false, "is_discoverable": true, "is_suppressed": true,
            "statuses": ["DISCOVERABLE"], "issues": 1, "issue_codes": ["90220"]}),
    );
    listing.stake = stake(64.0, 0.033);
    let account = finding(
        "account_health",
        "critical",
        json!({}),
        1.4,
        1.0,
        json!({"account_status": "NORMAL", "order_defect_rate_pct": 1.4,
            "late_shipment_rate_pct": 3.82, "pre_fulfillment_cancel_rate_pct": 0.33,
            "valid_tracking_rate_pct": 98.5, "snapshot_date": "2026-03-02"}),
    );
    let feedback = finding(
        "feedback_response_sla",
        "warning",
        json!({}),
        1.0,
        24.0,
        json!({"open_breaches": 1, "oldest_age_hours": 87, "response_hours": 24,
            "order_ids": ["113-4803739-7549176"]}),
    );
    let mut wasted = finding(
        "wasted_spend",
        "warning",
        json!({"campaign_id": "1001", "search_term": "free water bottle"}),
        23.0,
        15.0,
        json!({"clicks": 23, "cost": 31.5, "purchases": 0}),
    );
    wasted.stake = stake(4.5, 0.002);
    wasted.series = Some(ending(20, 23.0, Some(15.0)));
    let acos = finding(
        "acos_band",
        "warning",
        json!({"campaign_id": "1005"}),
        41.8,
        25.0,
        json!({"cost": 412.0, "attributed_sales": 985.0, "band_min_pct": 18, "band_max_pct": 25,
            "campaign_name": "SP - Tumbler - Manual", "ad_product": "SPONSORED_PRODUCTS"}),
    );
    let returns = finding(
        "return_rate",
        "warning",
        json!({"sku": "FW-CHARGER-01"}),
        12.6,
        3.0,
        json!({"units_returned": 160, "units_shipped": 1271, "top_reason": "DEFECTIVE",
            "top_reason_units": 125}),
    );
    let rating = finding(
        "rating_floor",
        "critical",
        json!({"asin": "B0SIMBTL03"}),
        4.2,
        4.3,
        json!({"rating": 4.2, "rating_count": 640, "rating_before": 4.29, "drop": 0.09}),
    );
    let tacos = finding(
        "tacos",
        "warning",
        json!({}),
        14.2,
        12.0,
        json!({"ad_spend": 1830.5, "total_sales": 12890.0, "sales_source": "sales_traffic"}),
    );
    let traffic = finding(
        "traffic_trend",
        "warning",
        json!({"asin": "B0SIMYGA01"}),
        60.9,
        25.0,
        json!({"sessions": 698, "prior_sessions": 1784}),
    );
    vec![
        rating, listing, account, feedback, returns, conv, stall, traffic, stock, acos, tacos,
        wasted,
    ]
}

pub(crate) fn email_of(lang: Lang, items: Vec<Item>) -> AlertEmail {
    AlertEmail {
        account: "demo".into(),
        at: at(),
        timezone: chrono_tz::America::Los_Angeles,
        lang,
        open: items
            .iter()
            .filter(|i| i.kind != ItemKind::Resolved)
            .map(|i| (i.link, i.severity))
            .collect(),
        items,
        names: names(),
        marketplaces: 1,
    }
}

pub(crate) fn demo(lang: Lang) -> AlertEmail {
    email_of(lang, demo_items())
}

pub(crate) fn wasted(term: &str) -> Item {
    item(
        json!({"rule": "wasted_spend", "severity": "warning", "account": "acme-us",
            "marketplace": US, "campaign_id": "1005", "search_term": term,
            "value": 23.0, "threshold": 15.0,
            "evidence": {"clicks": 23, "cost": 31.5, "note": term},
            "summary": format!("\"{term}\" took 23 clicks and sold nothing")}),
        ItemKind::Repeat,
    )
}

pub(crate) fn stockout(sku: &str) -> Item {
    item(
        json!({"rule": "stockout_risk", "severity": "critical", "account": "acme-us",
            "marketplace": US, "sku": sku, "value": 0.0, "threshold": 37.0,
            "evidence": {"available": 0, "inbound": 12, "stockout_days": 3}}),
        ItemKind::Firing,
    )
}

pub(crate) fn plain(items: Vec<Item>) -> AlertEmail {
    AlertEmail {
        names: Names::default(),
        ..email_of(Lang::En, items)
    }
}

pub(crate) const ENGLISH_FIXED: &[&str] = &[
    "What to check first",
    "What to check",
    "critical",
    "Critical",
    "CRITICAL",
    "warning",
    "WARNING",
    "Acknowledge",
    "Evidence",
    "Do first",
    "Still firing",
    "still firing",
    "Resolved",
    "resolved",
    "threshold",
    "history starts",
    "Link 1",
    "customer experience",
    "sales growth",
    "operating leverage",
    "Product page",
    "Manage Inventory",
    "Restock",
    "at stake",
    "out of stock",
    "Sales down",
    "conversion",
    "traffic",
    "units",
    " days",
    "Window",
    "Campaign",
    "growth stalled",
    "stockout risk",
    "Diagnosis",
    " now ",
    "min ",
    "max ",
    "below",
    "limit",
    "Sessions",
    "Ratings",
    "Sent by",
    "as of",
    "United States",
];
