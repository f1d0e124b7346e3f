//! Money at stake while an alert fires ([`Stake`]), estimated from the
//! item's own evidence and the account's recent sales. Pure: the figures
//! come from `store::recent_sales` once per account and round.
//!
//! | rule | money at stake per day |
//! |---|---|
//! | stockout_risk, listing_health (suppressed or not buyable) | the ASIN's (or the SKU's ASIN's) sales per day: the best of its last 7, 14 and 30 days, since a stockout or suppression stops the sales it costs |
//! | buy_box | the same sales scaled to the share of the time without the buy box (sold at 72% → × 28/72) |
//! | wasted_spend | the search term's cost over its window, per day |
//! | margin_floor | the margin gap to the floor × the units sold, per day |
//! | acos_band, tacos | the spend above the band's ceiling, per day |
//!
//! Every other rule, and an estimate that comes to nothing, has none. The
//! share of the marketplace's sales per day is what ranks alerts.

use super::{Item, Names, Stake};
use crate::model::rule::RuleId;
use crate::model::sales::{MarketSales, RecentSales};

/// The money at stake of `item`, `None` where flywheel cannot estimate it.
pub fn estimate(item: &Item, names: &Names, sales: &RecentSales) -> Option<Stake> {
    let m = item.key("marketplace")?;
    let market = sales.marketplaces.get(m)?;
    let ev = |k: &str| {
        item.evidence
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, v)| v.as_f64())
    };
    let flag = |k: &str| {
        item.evidence
            .iter()
            .find(|(key, _)| key == k)
            .and_then(|(_, v)| v.as_bool())
    };
    let days = item
        .window
        .map(|(a, b)| ((b - a).num_days() + 1) as f64)
        .filter(|d| *d > 0.0);
    let per_day = match item.rule {
        RuleId::StockoutRisk => product_sales(item, names, market),
        // Its sales came with the buy box `value`% of the time: the rest
        // of the time is what it loses.
        RuleId::BuyBox => match item.value {
            Some(held) if held > 0.0 => {
                product_sales(item, names, market).map(|s| s * (100.0 - held) / held)
            }
            _ => product_sales(item, names, market),
        },
        RuleId::ListingHealth => {
            let lost = flag("is_buyable") == Some(false)
                || flag("is_suppressed") == Some(true)
                || flag("is_discoverable") == Some(false);
            if lost {
                product_sales(item, names, market)
            } else {
                None
            }
        }
        RuleId::WastedSpend => Some(ev("cost")? / days?),
        RuleId::MarginFloor => {
            let gap = item.threshold? / 100.0 * ev("price")? - ev("margin_per_unit")?;
            Some(gap * ev("units")? / days?)
        }
        RuleId::AcosBand => {
            // Below the band is money not spent, not money lost; no
            // attributed sales (no ACoS) is all spend above it.
            let ceiling = ev("band_max_pct").or(item.threshold)?;
            if item.value.is_some_and(|v| v <= ceiling) {
                None
            } else {
                let sales = ev("attributed_sales").unwrap_or(0.0);
                Some((ev("cost")? - sales * ceiling / 100.0) / days?)
            }
        }
        RuleId::Tacos => {
            let excess = ev("ad_spend")? - ev("total_sales")? * item.threshold? / 100.0;
            Some(excess / days?)
        }
        _ => None,
    }
    .filter(|x| x.is_finite() && *x > 0.0)?;
    let per_day = (per_day * 100.0).round() / 100.0;
    Some(Stake {
        per_day,
        currency: market.currency.clone(),
        share_of_sales: market.per_day.filter(|s| *s > 0.0).map(|s| per_day / s),
    })
}

/// The product's sales per day: its ASIN's (the SKU's ASIN for a SKU
/// subject), else the SKU's own.
fn product_sales(item: &Item, names: &Names, market: &MarketSales) -> Option<f64> {
    let m = item.key("marketplace")?;
    let sku = item.key("sku");
    let asin = item
        .key("asin")
        .or_else(|| sku.and_then(|s| names.asin_of(m, s)))
        .or_else(|| {
            item.evidence
                .iter()
                .find(|(k, _)| k == "asin")
                .and_then(|(_, v)| v.as_str())
        });
    if !market.known {
        return None;
    }
    match (asin, sku) {
        (Some(a), _) if market.asins.contains_key(a) => market.asins.get(a).copied(),
        (_, Some(s)) if market.skus.contains_key(s) => market.skus.get(s).copied(),
        // Absent from covered days: it sold nothing.
        (Some(_), _) | (_, Some(_)) => Some(0.0),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::ItemKind;
    use crate::model::rule::Severity;
    use chrono::{NaiveDate, Utc};
    use serde_json::{json, Value};

    const US: &str = "ATVPDKIKX0DER";

    fn item(rule: RuleId, subject: &[(&str, &str)], evidence: Value) -> Item {
        let mut keys = vec![("account", "a"), ("marketplace", US)];
        keys.extend_from_slice(subject);
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        Item {
            kind: ItemKind::Firing,
            fingerprint: "f".into(),
            rule,
            link: rule.link(),
            severity: Severity::Warning,
            subject: keys
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: None,
            threshold: None,
            window: Some((d("2026-02-01"), d("2026-02-14"))),
            evidence: evidence
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            summary: String::new(),
            check_first: String::new(),
            diagnosis: None,
            since: Utc::now(),
            series: None,
            stake: None,
            previous: None,
        }
    }

    fn sales() -> RecentSales {
        let mut s = RecentSales::default();
        s.marketplaces.insert(
            US.into(),
            MarketSales {
                currency: "USD".into(),
                per_day: Some(1000.0),
                asins: [("B01".to_string(), 100.0)].into(),
                skus: [("S9".to_string(), 7.0)].into(),
                known: true,
            },
        );
        s
    }

    fn names() -> Names {
        let mut n = Names::default();
        n.sku_asin.insert((US.into(), "S1".into()), "B01".into());
        n
    }

    /// An item of `rule` about `subject` ("sku=S1"), measured `value`
    /// against `threshold`, with `evidence` ("cost=42 is_buyable=false").
    fn case(rule: RuleId, subject: &str, at: [Option<f64>; 2], evidence: &str) -> Item {
        let pairs = |t: &str| -> Vec<(String, String)> {
            t.split([' ', ','])
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let subject: Vec<(String, String)> = pairs(subject);
        let subject: Vec<(&str, &str)> = subject
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let evidence: serde_json::Map<String, Value> = pairs(evidence)
            .into_iter()
            .map(|(k, v)| (k, serde_json::from_str(&v).unwrap()))
            .collect();
        let mut i = item(rule, &subject, Value::Object(evidence));
        [i.value, i.threshold] = at;
        i
    }

    #[test]
    fn stake_per_rule() {
        use RuleId::*;
        let none = [None, None];
        let listing = "is_buyable=true is_discoverable=true";
        let cases: Vec<(&str, Item, Option<f64>)> = vec![
            (
                "stockout of a SKU: its ASIN's sales",
                case(StockoutRisk, "sku=S1", none, "available=0"),
                Some(100.0),
            ),
            (
                "a SKU without a known ASIN: its own sales",
                case(StockoutRisk, "sku=S9", none, ""),
                Some(7.0),
            ),
            (
                "nothing sold in covered days: nothing at stake",
                case(StockoutRisk, "sku=S2", none, ""),
                None,
            ),
            (
                "buy box held 80% of the time: the other 20%",
                case(BuyBox, "asin=B01", [Some(80.0), Some(90.0)], ""),
                Some(25.0),
            ),
            (
                "buy box never held",
                case(BuyBox, "asin=B01", [Some(0.0), None], ""),
                Some(100.0),
            ),
            (
                "suppressed listing",
                case(
                    ListingHealth,
                    "sku=S1",
                    none,
                    &format!("{listing} is_suppressed=true"),
                ),
                Some(100.0),
            ),
            (
                "not discoverable",
                case(ListingHealth, "sku=S1", none, "is_discoverable=false"),
                Some(100.0),
            ),
            (
                "not buyable",
                case(ListingHealth, "sku=S1", none, "is_buyable=false"),
                Some(100.0),
            ),
            (
                "a listing issue that still sells",
                case(
                    ListingHealth,
                    "sku=S1",
                    none,
                    &format!("{listing} is_suppressed=false"),
                ),
                None,
            ),
            (
                "wasted spend over 14 days",
                case(WastedSpend, "campaign_id=1 search_term=x", none, "cost=42"),
                Some(3.0),
            ),
            (
                "margin gap: (30% of 20 − 4) × 28 units / 14 days",
                case(
                    MarginFloor,
                    "sku=S1",
                    [Some(20.0), Some(30.0)],
                    "price=20 margin_per_unit=4 units=28",
                ),
                Some(4.0),
            ),
            (
                "margin floor without units",
                case(MarginFloor, "sku=S1", [Some(20.0), Some(30.0)], "price=20"),
                None,
            ),
            (
                "ACoS above the band: 140 − 400 × 25% over 14 days",
                case(
                    AcosBand,
                    "campaign_id=1",
                    [Some(35.0), Some(25.0)],
                    "cost=140 attributed_sales=400 band_max_pct=25",
                ),
                Some(2.86),
            ),
            (
                "ACoS below the band: nothing lost",
                case(
                    AcosBand,
                    "campaign_id=1",
                    [Some(2.5), Some(10.0)],
                    "cost=10 attributed_sales=400 band_max_pct=25",
                ),
                None,
            ),
            (
                "spend without sales: all of it",
                case(AcosBand, "campaign_id=1", none, "cost=28 band_max_pct=25"),
                Some(2.0),
            ),
            (
                "TACoS: 700 − 5000 × 10% over 14 days",
                case(
                    Tacos,
                    "",
                    [Some(14.0), Some(10.0)],
                    "ad_spend=700 total_sales=5000",
                ),
                Some(14.29),
            ),
            (
                "a rule without an estimate",
                case(ConversionRate, "asin=B01", none, ""),
                None,
            ),
        ];
        for (what, i, want) in cases {
            let got = estimate(&i, &names(), &sales());
            assert_eq!(got.as_ref().map(|s| s.per_day), want, "{what}");
            if let Some(s) = got {
                assert_eq!(s.currency, "USD", "{what}");
                assert_eq!(s.share_of_sales, Some(s.per_day / 1000.0), "{what}");
            }
        }
    }

    #[test]
    fn share_of_sales_needs_the_marketplaces_sales() {
        let i = item(RuleId::BuyBox, &[("asin", "B01")], json!({}));
        let mut s = sales();
        let us = s.marketplaces.get_mut(US).unwrap();
        us.per_day = Some(0.0);
        let got = estimate(&i, &names(), &s).unwrap();
        assert_eq!((got.per_day, got.share_of_sales), (100.0, None));
        s.marketplaces.get_mut(US).unwrap().known = false;
        assert_eq!(estimate(&i, &names(), &s), None, "sales not synced");
        assert_eq!(
            estimate(&i, &names(), &RecentSales::default()),
            None,
            "another marketplace"
        );
    }
}
