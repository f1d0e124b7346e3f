//! The alert email as a seller reads it, on hand-built emails shaped like
//! the demo's first round (and its repeat), in en and zh-CN.

use serde_json::{json, Value};

use super::super::cards::cards;
use super::super::fixtures::{at, series};
use super::super::layout::{link_title, STRIP};
use super::super::{HTML_MAX, SUBJECT_MAX};
use super::*;
use crate::alert::{Names, Series, Stake};
use crate::config::RuleId;

const US: &str = "ATVPDKIKX0DER";
const DE: &str = "A1PA6795UKMFR9";

fn item(f: Value, kind: ItemKind) -> Item {
    let fp = format!(
        "{:016x}",
        f.to_string()
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
    );
    Item::from_finding_json(&f, kind, &fp, at() - chrono::Duration::hours(30)).unwrap()
}

/// A finding of `rule` about `subject` (extra subject keys), as the JSON has it.
fn finding(rule: &str, sev: &str, subject: Value, value: f64, threshold: f64, ev: Value) -> Item {
    let mut f = json!({"rule": rule, "severity": sev, "account": "demo",
        "marketplace": US, "value": value, "threshold": threshold, "evidence": ev,
        "summary": "an English summary the rule wrote", "check_first": "English advice"});
    for (k, v) in subject.as_object().unwrap() {
        f[k] = v.clone();
    }
    item(f, ItemKind::Firing)
}

/// A daily series of `n` points ending on `last`.
fn ending(n: usize, last: f64, threshold: Option<f64>) -> Series {
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

fn stake(per_day: f64, share: f64) -> Option<Stake> {
    Some(Stake {
        per_day,
        currency: "USD".into(),
        share_of_sales: Some(share),
    })
}

fn names() -> Names {
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
fn demo_items() -> Vec<Item> {
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

fn email_of(lang: Lang, items: Vec<Item>) -> AlertEmail {
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
    }
}

fn demo(lang: Lang) -> AlertEmail {
    email_of(lang, demo_items())
}

/// The HTML of each card, by its subject.
fn card_blocks(html: &str) -> Vec<(String, String)> {
    html.split("data-card=\"")
        .skip(1)
        .map(|rest| {
            let key = rest[..rest.find('"').unwrap()].to_string();
            let end = rest.find("data-card=\"").unwrap_or(rest.len());
            (key, rest[..end].to_string())
        })
        .collect()
}

fn do_first_items(html: &str) -> Vec<String> {
    let start = html.find("data-do-first").expect("a Do-first list");
    let end = start + html[start..].find("</ol>").unwrap();
    html[start..end]
        .split("<li")
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_email_opens_with_the_strip_then_at_most_five_do_first_items_critical_first() {
    for lang in [Lang::En, Lang::ZhCn] {
        let r = alert_email(&demo(lang));
        let strip_at = r.html.find(&tr(lang, "link-experience")).unwrap();
        let do_first_at = r.html.find("data-do-first").unwrap();
        let first_card = r.html.find("data-card=").unwrap();
        assert!(strip_at < do_first_at && do_first_at < first_card, "{lang}");
        for link in STRIP {
            assert!(r.html.contains(&esc(&link_title(lang, link))), "{link:?}");
        }
        // The states come from the account's open alerts.
        let crit = tr_args(lang, "link-state-critical", &[("n", "3".into())]);
        assert!(r.html.contains(&crit), "{crit}");
        let items = do_first_items(&r.html);
        assert!(
            !items.is_empty() && items.len() <= DO_FIRST_MAX,
            "{}",
            items.len()
        );
        let critical = i18n::severity_tag(lang, Severity::Critical);
        let tags: Vec<bool> = items.iter().map(|i| i.contains(&critical)).collect();
        assert!(
            tags.windows(2).all(|w| w[0] >= w[1]),
            "critical first: {tags:?}"
        );
        // Among the critical ones, the most money at stake (as a share of
        // sales) first: the stockout, then the suppressed listing.
        assert!(
            items[0].contains("Silicone Spatula Set of 3"),
            "{}",
            items[0]
        );
        assert!(items[1].contains("Desk Organizer"), "{}", items[1]);
        // Each names its product and links where the seller acts.
        assert!(items[0].contains(
            "href=\"https://sellercentral.amazon.com/restockinventory/recommendations\""
        ));
        for i in &items {
            assert!(i.contains("href=\"https://"), "{i}");
        }
        // The text part says the same, links written out.
        let t = &r.text;
        let pos = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s} missing in\n{t}"));
        assert!(pos(&tr(lang, "do-first")) < pos("1. ["));
        assert!(
            pos("1. [") < pos("https://sellercentral.amazon.com/restockinventory/recommendations")
        );
        assert!(!t.contains("6. ["));
    }
}

#[test]
fn one_card_per_subject_each_named_and_linked() {
    for lang in [Lang::En, Lang::ZhCn] {
        let email = demo(lang);
        let r = alert_email(&email);
        let blocks = card_blocks(&r.html);
        let keys: std::collections::BTreeSet<&String> = blocks.iter().map(|b| &b.0).collect();
        assert_eq!(keys.len(), blocks.len(), "no two cards share a subject");
        // The stockout of the SKU joins the stalled ASIN's card, headed by
        // the diagnosis.
        let spatula = &blocks
            .iter()
            .find(|b| b.0 == format!("{US}/asin:B0SIMSPT01"))
            .expect("the spatula card")
            .1;
        assert!(spatula.contains("FW-SPATULA-01"));
        assert!(spatula.contains(&esc(&i18n::rule_title(lang, RuleId::StockoutRisk))));
        let diag = tr_args(
            lang,
            "diag-units",
            &[
                ("pct", "71.8%".into()),
                ("before", "1,190".into()),
                ("now", "336".into()),
            ],
        );
        assert!(spatula.contains(&esc(&diag)), "{spatula}");
        assert!(!blocks.iter().any(|b| b.0.contains("sku:FW-SPATULA-01")));
        for c in cards(&email)
            .iter()
            .filter(|c| !matches!(c.who, Who::Market { .. }))
        {
            let (_, html) = blocks
                .iter()
                .find(|b| b.0 == c.key())
                .expect("shown in full");
            assert!(c.has_name(&email.names), "{}", c.key());
            assert!(
                html.contains(&esc(&c.name(lang, &email.names, 80))),
                "{}",
                c.key()
            );
            if matches!(c.who, Who::Product { .. }) {
                assert!(
                    html.contains("href=\"https://www.amazon.com/dp/"),
                    "{}",
                    c.key()
                );
                assert!(
                    html.contains("href=\"https://sellercentral.amazon.com/"),
                    "{}",
                    c.key()
                );
            } else {
                assert!(
                    html.contains("href=\"https://advertising.amazon.com/cm/sp/campaigns/"),
                    "{}",
                    c.key()
                );
            }
        }
        // A long Amazon title is cut at a word, with the SKU and ASIN beside it.
        assert!(r.html.contains("Silicone Spatula Set of 3"));
        assert!(r.html.contains("SKU FW-SPATULA-01 · ASIN B0SIMSPT01"));
        // Search terms quoted.
        assert!(r.html.contains(&esc(&super::super::layout::quoted(
            lang,
            "free water bottle"
        ))));
    }
}

#[test]
fn evidence_reads_as_words_not_identifiers() {
    for lang in [Lang::En, Lang::ZhCn] {
        let email = demo(lang);
        let r = alert_email(&email);
        let mut keys: Vec<String> = Vec::new();
        for i in &email.items {
            keys.extend(i.evidence.iter().map(|(k, _)| k.clone()));
            keys.push(i.rule.as_str().to_string());
        }
        keys.extend(
            [
                "buy_box_pct",
                "prior_buy_box_pct",
                "conversion_fell",
                "other_rules",
            ]
            .map(String::from),
        );
        for k in keys.iter().filter(|k| k.contains('_')) {
            assert!(!r.html.contains(k.as_str()), "{k} in the HTML");
            assert!(!r.text.contains(k.as_str()), "{k} in the text");
        }
        // No summary or advice the rules wrote in English.
        assert!(!r.html.contains("English"));
        // Money in the marketplace's currency, a suppressed listing says so
        // (and not that it is shown in search).
        let money = crate::i18n::format::money(lang, 31.5, "USD");
        assert!(r.html.contains(&money), "{money}");
        let suppressed = tr(lang, "ev-is-suppressed-true");
        assert!(r.html.contains(&esc(&suppressed)));
        assert!(!r.html.contains(&esc(&tr(lang, "ev-is-discoverable-true"))));
    }
}

#[test]
fn every_chart_ends_on_the_cards_value_and_short_history_draws_none() {
    for lang in [Lang::En, Lang::ZhCn] {
        let r = alert_email(&demo(lang));
        assert!(!r.attachments.is_empty());
        assert_eq!(r.html.matches("cid:").count(), r.attachments.len());
        for a in &r.attachments {
            assert!(!a.content_id.contains('<') && !a.content_id.contains('>'));
            assert!(r.html.contains(&format!("src=\"cid:{}\"", a.content_id)));
            let mut d = png::Decoder::new(std::io::Cursor::new(&a.data));
            d.set_transformations(png::Transformations::EXPAND);
            let info = d.read_info().unwrap();
            // Drawn at twice the CSS size for sharp screens.
            assert_eq!(
                (info.info().width, info.info().height),
                (CHART.0 * 2, CHART.1 * 2)
            );
            let card = card_blocks(&r.html)
                .into_iter()
                .find(|b| b.1.contains(&a.content_id))
                .unwrap()
                .1;
            // The highlighted current point reads as the card states its value.
            let legend = card.split("&#9632; ").nth(1).unwrap();
            // "now 336 (Mar 2)", "最新 336（3月2日）": the second word.
            let value = legend
                .split_whitespace()
                .nth(1)
                .unwrap()
                .split('（')
                .next()
                .unwrap();
            assert!(
                card.matches(value).count() >= 2,
                "{value} only in the chart of {card}"
            );
            assert!(card.contains("width:100%") && card.contains("max-width:300px"));
        }
        // The wasted-spend term has 20 days (drawn); nothing has fewer
        // than 14 and a chart.
        let mut e = demo(lang);
        for i in &mut e.items {
            if let Some(s) = &mut i.series {
                s.points.drain(..s.points.len() - 13);
            }
        }
        let r = alert_email(&e);
        assert!(r.attachments.is_empty());
        let starts = tr_args(lang, "history-starts", &[("date", "X".into())]);
        let head = starts.split('X').next().unwrap();
        assert!(r.html.contains(&esc(head)), "{head}");
    }
}

#[test]
fn a_repeat_with_nothing_new_is_short() {
    for lang in [Lang::En, Lang::ZhCn] {
        let first = alert_email(&demo(lang));
        let repeat_items: Vec<Item> = demo_items()
            .into_iter()
            .map(|i| Item {
                kind: ItemKind::Repeat,
                ..i
            })
            .collect();
        let n = repeat_items.len();
        let repeat = alert_email(&email_of(lang, repeat_items));
        assert!(
            repeat.html.len() * 3 <= first.html.len(),
            "{} vs {}",
            repeat.html.len(),
            first.html.len()
        );
        assert!(repeat.attachments.is_empty());
        // Still firing: one line each, with the id that acknowledges it.
        assert_eq!(repeat.html.matches("&#9632;</span>").count(), n);
        assert!(repeat.subject.contains(
            &tr_args(lang, "subject-still-firing", &[("counts", "".into())])
                .trim()
                .replace("：", "")
                .replace(":", "")
        ));
        // A resolution: one line.
        let mut items = demo_items();
        items.truncate(1);
        items[0].kind = ItemKind::Resolved;
        let r = alert_email(&email_of(lang, items));
        assert_eq!(r.html.matches("&#9632;</span>").count(), 1);
        assert!(
            r.subject.contains(&tr(lang, "subject-resolved")),
            "{}",
            r.subject
        );
    }
}

#[test]
fn a_worse_repeat_is_shown_in_full_and_says_what_it_was() {
    use crate::model::alert::Notified;
    for lang in [Lang::En, Lang::ZhCn] {
        let repeats = || -> Vec<Item> {
            demo_items()
                .into_iter()
                .map(|i| Item {
                    kind: ItemKind::Repeat,
                    previous: Some(Notified {
                        severity: i.severity,
                        value: i.value,
                    }),
                    ..i
                })
                .collect()
        };
        let calm = alert_email(&email_of(lang, repeats()));
        // One warning went from warning to critical, another moved well
        // past its threshold: both in full, the rest one line each.
        let mut items = repeats();
        let n = items.len();
        let (a, b) = {
            let mut w = items
                .iter()
                .enumerate()
                .filter(|(_, i)| i.severity == Severity::Warning && i.threshold.is_some());
            (w.next().unwrap().0, w.next().unwrap().0)
        };
        items[a].severity = Severity::Critical;
        let (v, t) = (items[b].value.unwrap(), items[b].threshold.unwrap());
        items[b].value = Some(t + (v - t) * 2.0);
        assert!(items[a].is_worse() && items[b].is_worse());
        assert_eq!(items.iter().filter(|i| i.is_worse()).count(), 2);
        let worse = alert_email(&email_of(lang, items.clone()));
        assert!(worse.html.len() > calm.html.len());
        let one_liners = worse.html.matches("&#9632;</span>").count();
        assert!(one_liners < n && one_liners >= n - 4, "{one_liners} of {n}");
        let cards = card_blocks(&worse.html);
        let tag = tr(lang, "kind-worse");
        assert!(
            cards.iter().any(|(_, c)| c.contains(&esc(&tag))),
            "no card tagged {tag}"
        );
        // The escalated one says what the last email called it.
        let was = crate::i18n::severity(lang, Severity::Warning);
        let head = tr_args(
            lang,
            "kind-worse-since",
            &[("was", was.clone().into()), ("since", "X".into())],
        );
        let head = head.split('X').next().unwrap();
        assert!(worse.html.contains(&esc(head)), "{head}");
        assert!(worse.text.contains(head), "{head}");
        // Not "still firing" in the subject: something is worse.
        let still = tr_args(lang, "subject-still-firing", &[("counts", "".into())]);
        assert!(!worse.subject.contains(still.trim()), "{}", worse.subject);
        assert!(
            calm.subject
                .contains(still.trim().trim_end_matches([':', '：'])),
            "{}",
            calm.subject
        );
    }
}

#[test]
fn zh_cn_has_no_english_fixed_phrase_and_chinese_rule_titles() {
    let email = demo(Lang::ZhCn);
    let r = alert_email(&email);
    let english = [
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
    for part in [&r.subject, &r.html, &r.text] {
        for e in english {
            assert!(!part.contains(e), "{e:?} in\n{part}");
        }
    }
    let has_cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for rule in RuleId::ALL {
        assert!(has_cjk(&i18n::rule_title(Lang::ZhCn, *rule)), "{rule:?}");
    }
    for i in &email.items {
        assert!(
            r.html.contains(&esc(&i18n::rule_title(Lang::ZhCn, i.rule))),
            "{:?}",
            i.rule
        );
    }
    assert!(
        r.subject.contains("严重") && r.subject.contains("警告"),
        "{}",
        r.subject
    );
    // Amazon's words stay as Amazon wrote them.
    assert!(r.html.contains("DEFECTIVE") && r.html.contains("Silicone Spatula Set of 3"));
}

#[test]
fn an_account_with_several_marketplaces_gets_a_section_each() {
    let mut items = demo_items();
    let mut de = finding(
        "rating_floor",
        "warning",
        json!({"asin": "B0SIMBTL03"}),
        4.1,
        4.3,
        json!({"rating": 4.1}),
    );
    de.subject[1].1 = DE.into();
    items.push(de);
    let r = alert_email(&email_of(Lang::En, items));
    let us = r.html.find(">United States<").expect("a US section");
    let de = r.html.find(">Germany<").expect("a DE section");
    assert!(us < de);
    assert!(r.html.contains("Isolierte Trinkflasche 1L"));
    assert!(r
        .html
        .contains("href=\"https://www.amazon.de/dp/B0SIMBTL03\""));
    let keys: Vec<String> = card_blocks(&r.html).into_iter().map(|b| b.0).collect();
    assert!(keys.contains(&format!("{DE}/asin:B0SIMBTL03")));
    assert!(keys.contains(&format!("{US}/asin:B0SIMBTL03")));
}

#[test]
fn layout_is_fluid_inline_and_self_contained() {
    let r = alert_email(&demo(Lang::En));
    let lower = r.html.to_lowercase();
    for needle in [
        "<script",
        "<link",
        "@import",
        "url(",
        "<style",
        "src=\"http",
        "position:",
    ] {
        assert!(!lower.contains(needle), "{needle}");
    }
    // No fixed width wider than 320 px anywhere.
    for (i, _) in r.html.match_indices("width") {
        let rest = &r.html[i + 5..];
        let rest = rest.trim_start_matches(['=', ':', '"']);
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(px) = digits.parse::<u32>() {
            let unit = &rest[digits.len()..];
            if !unit.starts_with('%') && !r.html[..i].ends_with("max-") {
                assert!(
                    px <= 320,
                    "width {px} at {}",
                    &r.html[i.saturating_sub(40)..i + 20]
                );
            }
        }
    }
    assert!(r.html.contains("color-scheme"));
    assert!(r.html.contains("overflow-wrap:anywhere"));
    // Every link is a plain https URL to one of Amazon's hosts.
    for (i, _) in r.html.match_indices("href=\"") {
        let url = r.html[i + 6..].split('"').next().unwrap();
        assert!(
            super::super::layout::is_amazon_url(&url.replace("&amp;", "&")),
            "{url}"
        );
    }
    assert_eq!(
        r.html.matches("https://").count(),
        r.html.matches("href=\"https://").count()
    );
}

#[test]
fn subjects_count_and_name_the_most_urgent_new_problems() {
    let mut first = demo_items();
    first.truncate(3);
    let cases: Vec<(Lang, Vec<Item>, &str)> = vec![
        (
            Lang::En,
            first.clone(),
            "[flywheel] demo: 3 critical: listing problem Desk Organizer with Drawer suppressed (not buyable), star rating low Insulated Water Bottle 1L 4.2★, acc…",
        ),
        (
            Lang::ZhCn,
            first.clone(),
            "[flywheel] demo：3 条严重：Listing 异常 Desk Organizer with Drawer 已被抑制（不可购买），星级评分过低 Insulated Water Bottle 1L 4.2 星，账户健康 1.4%",
        ),
        (
            Lang::En,
            vec![Item { kind: ItemKind::Resolved, ..first[0].clone() }],
            "[flywheel] demo: resolved: star rating low Insulated Water Bottle 1L 4.2★",
        ),
        (Lang::En, vec![], "[flywheel] demo: no alerts"),
    ];
    for (lang, items, want) in cases {
        assert_eq!(alert_email(&email_of(lang, items)).subject, want);
    }
    // A new item is named before a repeat, even a more severe one.
    let mut items = demo_items();
    for i in &mut items {
        if i.severity == Severity::Critical {
            i.kind = ItemKind::Repeat;
        }
    }
    let s = alert_email(&email_of(Lang::En, items)).subject;
    assert!(
        s.contains("warnings: wasted ad spend SP - Bottle - Auto \"free water bottle\" 23 clicks"),
        "{s}"
    );
}

fn wasted(term: &str) -> Item {
    item(
        json!({"rule": "wasted_spend", "severity": "warning", "account": "acme-us",
            "marketplace": US, "campaign_id": "1005", "search_term": term,
            "value": 23.0, "threshold": 15.0,
            "evidence": {"clicks": 23, "cost": 31.5, "note": term},
            "summary": format!("\"{term}\" took 23 clicks and sold nothing")}),
        ItemKind::Repeat,
    )
}

fn stockout(sku: &str) -> Item {
    item(
        json!({"rule": "stockout_risk", "severity": "critical", "account": "acme-us",
            "marketplace": US, "sku": sku, "value": 0.0, "threshold": 37.0,
            "evidence": {"available": 0, "inbound": 12, "stockout_days": 3}}),
        ItemKind::Firing,
    )
}

fn plain(items: Vec<Item>) -> AlertEmail {
    AlertEmail {
        names: Names::default(),
        ..email_of(Lang::En, items)
    }
}

#[test]
fn subject_is_one_line_and_capped() {
    let r = alert_email(&plain(vec![
        wasted("red\r\nBcc: victim@example.com\tmug"),
        wasted(&"long ".repeat(80)),
    ]));
    assert!(!r.subject.contains('\r') && !r.subject.contains('\n') && !r.subject.contains('\t'));
    assert!(
        r.subject.contains("\"red Bcc: victim@example.com mug\""),
        "{}",
        r.subject
    );
    assert!(r.subject.chars().count() <= SUBJECT_MAX);
    let jp = alert_email(&plain(vec![wasted(&"水筒".repeat(100))]));
    assert!(jp.subject.contains("水筒水…\""), "{}", jp.subject);
    let ascii = |i| format!("term {i} {}", "x".repeat(60));
    let japanese = |i| format!("{i}{}", "水筒".repeat(30));
    for terms in [
        (0..6).map(ascii).collect::<Vec<_>>(),
        (0..5).map(japanese).collect(),
    ] {
        let long = alert_email(&plain(terms.iter().map(|t| wasted(t)).collect()));
        assert_eq!(long.subject.chars().count(), SUBJECT_MAX);
        assert!(long.subject.ends_with('…'));
    }
}

#[test]
fn hostile_strings_are_escaped_and_never_linked() {
    let evil = "<script>alert(1)</script> \"quoted\" & 'single' http://evil.example/x";
    let mut s = stockout(evil);
    s.evidence.push(("title".into(), json!(evil)));
    s.summary = evil.into();
    s.series = Some(Series {
        label: evil.into(),
        ..series(30)
    });
    let mut e = plain(vec![s, wasted(evil)]);
    e.account = evil.into();
    e.names.skus.insert(
        (US.into(), evil.into()),
        format!("{evil} https://evil.example/y"),
    );
    e.names.campaigns.insert("1005".into(), evil.into());
    let r = alert_email(&e);
    let lower = r.html.to_lowercase();
    assert!(!lower.contains("<script"), "{}", r.html);
    assert!(!lower.contains("http://"));
    assert!(
        !lower.contains("://evil"),
        "a seller's URL is broken, never linked"
    );
    assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(r.html.contains("&quot;quoted&quot; &amp; &#39;single&#39;"));
    assert!(!r.html.contains("\"quoted\""));
    for (i, _) in r.html.match_indices("href=\"") {
        let url = r.html[i + 6..].split('"').next().unwrap();
        assert!(
            super::super::layout::is_amazon_url(&url.replace("&amp;", "&")),
            "{url}"
        );
        assert!(!url.contains('<') && !url.contains(' '), "{url}");
    }
    assert_eq!(
        r.html.matches("https://").count(),
        r.html.matches("href=\"https://").count()
    );
    assert!(r.text.contains("<script>alert(1)</script>"));
    for needle in ["src=\"http", "<link", "@import", "url("] {
        assert!(!lower.contains(needle), "{needle}");
    }
}

#[test]
fn two_hundred_items_stay_under_the_budget_and_both_parts_agree() {
    let items: Vec<Item> = (0..200)
        .map(|i| {
            let mut it = if i % 2 == 0 {
                stockout(&format!("SKU-{i:04}-{}", "x".repeat(30)))
            } else {
                let mut w = wasted(&format!("search term number {i} {}", "y".repeat(40)));
                w.kind = ItemKind::Firing;
                w.subject[2].1 = format!("{}", 2000 + i);
                w
            };
            it.evidence.push(("long".into(), json!("z".repeat(5000))));
            it.series = Some(series(60));
            it
        })
        .collect();
    let r = alert_email(&plain(items));
    assert!(r.html.len() < HTML_MAX, "{} bytes", r.html.len());
    let full = r.html.matches("data-card=").count();
    let lines = r.text.lines().filter(|l| l.starts_with("- ")).count();
    assert!((1..=MAX_DETAILED).contains(&full));
    assert_eq!(
        r.text.matches(&tr(Lang::En, "what-to-check-first")).count(),
        full
    );
    assert_eq!(r.attachments.len(), full);
    assert_eq!(r.html.matches("cid:").count(), full);
    assert_eq!(r.html.matches("&#9632;</span>").count(), lines);
    let more = 200 - full - lines;
    if more > 0 {
        let note = format!("and {more} more alerts");
        assert!(r.text.contains(&note) && r.html.contains(&note), "{note}");
    }
}

#[test]
fn thirty_alerts_fit_well_under_the_budget() {
    let mut items = Vec::new();
    for k in 0..3 {
        for mut i in demo_items() {
            for (key, v) in i.subject.iter_mut() {
                if ["asin", "sku", "campaign_id"].contains(&key.as_str()) {
                    *v = format!("{v}{k}");
                }
            }
            items.push(i);
        }
    }
    assert!(items.len() >= 30);
    let r = alert_email(&email_of(Lang::ZhCn, items));
    assert!(r.html.len() < HTML_MAX, "{} bytes", r.html.len());
    // Every alert is there, in a card or on a line of its own.
    let full: usize = card_blocks(&r.html).len();
    let lines = r.html.matches("&#9632;</span>").count();
    assert!(full >= 20, "{full} cards in full");
    assert!(full + lines >= cards(&email_of(Lang::ZhCn, Vec::new())).len());
    assert!(!r.text.contains("flywheel alerts to see every one"));
}
