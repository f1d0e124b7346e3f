//! The alert email as a seller reads it, on hand-built emails shaped like
//! the demo's first round (and its repeat), in en and zh-CN.

use serde_json::json;

use super::super::cards::cards;
use super::super::fixtures::*;
use super::super::layout::{link_title, STRIP};
use super::super::{HTML_MAX, SUBJECT_MAX};
use super::*;
use crate::alert::Series;
use crate::config::RuleId;

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
    for part in [&r.subject, &r.html, &r.text] {
        for e in ENGLISH_FIXED {
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

/// An account in several marketplaces: the subject names each problem's
/// marketplace, so the same SKU out of stock in two of them reads as two
/// problems; one marketplace's account does not repeat it.
#[test]
fn subjects_name_the_marketplace_when_the_account_sells_in_several() {
    let us = stockout("FW-SPATULA-01");
    let mut de = stockout("FW-SPATULA-01");
    de.subject[1].1 = DE.into();
    let cases: Vec<(Lang, Vec<Item>, usize, &str)> = vec![
        (
            Lang::En,
            vec![us.clone(), de.clone()],
            2,
            "[flywheel] demo: 2 critical: stockout risk FW-SPATULA-01 (US) out of stock, stockout risk FW-SPATULA-01 (DE) out of stock",
        ),
        (
            Lang::ZhCn,
            vec![us.clone(), de.clone()],
            2,
            "[flywheel] demo：2 条严重：断货风险 FW-SPATULA-01（美国站） 已断货，断货风险 FW-SPATULA-01（德国站） 已断货",
        ),
        // An email about one marketplace of an account selling in two.
        (
            Lang::En,
            vec![de],
            2,
            "[flywheel] demo: 1 critical: stockout risk FW-SPATULA-01 (DE) out of stock",
        ),
        (
            Lang::En,
            vec![us],
            1,
            "[flywheel] demo: 1 critical: stockout risk FW-SPATULA-01 out of stock",
        ),
    ];
    for (lang, items, marketplaces, want) in cases {
        let got = alert_email(&AlertEmail {
            names: crate::alert::Names::default(),
            marketplaces,
            ..email_of(lang, items)
        })
        .subject;
        assert_eq!(got, want, "{lang:?}");
    }
}

/// The chat summary of an account in two marketplaces names the
/// marketplace of every line, even of a message about one of them.
#[test]
fn chat_lines_name_the_marketplace_of_an_account_in_several() {
    let mut de = stockout("FW-SPATULA-01");
    de.subject[1].1 = DE.into();
    for (marketplaces, named) in [(2, true), (1, false)] {
        let email = AlertEmail {
            marketplaces,
            ..email_of(Lang::En, vec![de.clone()])
        };
        let s = super::super::summary(&email);
        let line = &s.sections[0].alerts[0];
        assert_eq!(line.name.ends_with("(Germany)"), named, "{}", line.name);
        assert_eq!(s.do_first[0].name.ends_with("(Germany)"), named);
    }
}
