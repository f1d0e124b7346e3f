//! An alert email: one account, one evaluation round. The subject counts
//! the problems and names the top three; the body groups the items by
//! flywheel link (what still fires first, critical first), shows as many in
//! full as fit the budget, then one line each, then a count, so the HTML
//! stays under [`HTML_MAX`](super::HTML_MAX) however many alerts a round
//! produced, and the text part lists exactly the same.

use std::fmt::Write as _;

use super::alert_item::{item_html, item_line_html, item_line_text, item_text, problem};
use super::chart::{self, CHART};
use super::layout::{
    close_parts, field, html_close, html_footer, html_note, html_paragraph, html_section,
    local_time, one_line, open_parts, subject_line,
};
use crate::alert::{AlertEmail, Item, ItemKind, Rendered};
use crate::config::{Link, Severity};
use crate::model::rule::link_rank;

/// At most this many items are shown in full (with evidence and chart).
pub const MAX_DETAILED: usize = 50;
/// Full items stop once the HTML reaches this size...
const DETAIL_BUDGET: usize = 70_000;
/// ...and one-line items once it reaches this one; the rest are counted.
const LINE_BUDGET: usize = 92_000;

/// How a link is headed in emails.
fn link_title(link: Link) -> &'static str {
    match link {
        Link::Experience => "Link 1: customer experience",
        Link::Growth => "Link 2: sales growth",
        Link::Leverage => "Link 3: operating leverage",
        Link::Meta => "flywheel itself",
    }
}

/// "2 critical, 3 warning" (zero counts left out).
fn counts(items: &[&Item]) -> String {
    let n = |s: Severity| items.iter().filter(|i| i.severity == s).count();
    [
        (n(Severity::Critical), "critical"),
        (n(Severity::Warning), "warning"),
        (n(Severity::Info), "info"),
    ]
    .iter()
    .filter(|(c, _)| *c > 0)
    .map(|(c, w)| format!("{c} {w}"))
    .collect::<Vec<_>>()
    .join(", ")
}

fn is_active(i: &Item) -> bool {
    i.kind != ItemKind::Resolved
}

/// The subject of an alert email (DESIGN §5): counts, then the top problems.
fn alert_subject(email: &AlertEmail) -> String {
    let active: Vec<&Item> = email.items.iter().filter(|i| is_active(i)).collect();
    let resolved: Vec<&Item> = email.items.iter().filter(|i| !is_active(i)).collect();
    let markets: std::collections::BTreeSet<&str> = email
        .items
        .iter()
        .filter_map(|i| i.key("marketplace"))
        .collect();
    let with_market = markets.len() > 1;
    let top = |items: &[&Item]| {
        let mut sorted = items.to_vec();
        // Stable: the caller's order within a severity.
        sorted.sort_by_key(|i| std::cmp::Reverse(i.severity));
        sorted
            .iter()
            .take(3)
            .map(|i| problem(i, with_market))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let account = one_line(&email.account);
    let s = if !active.is_empty() {
        let mut head = counts(&active);
        if !resolved.is_empty() {
            let _ = write!(head, ", {} resolved", resolved.len());
        }
        format!("[flywheel] {account}: {head}: {}", top(&active))
    } else if !resolved.is_empty() {
        format!("[flywheel] {account}: resolved: {}", top(&resolved))
    } else {
        format!("[flywheel] {account}: no alerts")
    };
    subject_line(&s)
}

/// How one item is shown, decided before rendering so the text part and
/// the HTML part list the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Full,
    Line,
    Omitted,
}

/// The items in display order: by link, what is still firing first
/// (critical first), then what resolved; the caller's order otherwise.
fn display_order(items: &[Item]) -> Vec<&Item> {
    let mut v: Vec<&Item> = items.iter().collect();
    v.sort_by(|a, b| {
        link_rank(a.link)
            .cmp(&link_rank(b.link))
            .then(is_active(b).cmp(&is_active(a)))
            .then(b.severity.cmp(&a.severity))
    });
    v
}

fn content_id(n: usize) -> String {
    format!("chart-{n}@flywheel")
}

fn alert_footer(email: &AlertEmail) -> Vec<String> {
    vec![
        "Acknowledge an alert (no repeats for 7 days): flywheel ack <id>, the 8-character id shown \
         with it."
            .to_string(),
        "Silence a rule for a subject: flywheel silence --rule <rule> --asin <ASIN> (or --sku, \
         --campaign, --account) --for 7d --note '...'. List alerts: flywheel alerts."
            .to_string(),
        format!(
            "Sent by flywheel at {} ({}).",
            local_time(email.at, &email.timezone),
            one_line(&email.timezone)
        ),
    ]
}

/// Renders one alert email: subject, text, HTML and the chart PNGs of the
/// items shown in full.
pub fn alert_email(email: &AlertEmail) -> Rendered {
    let subject = alert_subject(email);
    let tz = email.timezone.as_str();
    let order = display_order(&email.items);
    let active: Vec<&Item> = email.items.iter().filter(|i| is_active(i)).collect();
    let resolved = email.items.len() - active.len();
    let mut summary = counts(&active);
    if resolved > 0 {
        if !summary.is_empty() {
            summary.push_str(", ");
        }
        let _ = write!(summary, "{resolved} resolved");
    }
    let header_sub = format!(
        "{} · evaluation at {}",
        if summary.is_empty() {
            "no alerts".into()
        } else {
            summary.clone()
        },
        local_time(email.at, tz)
    );
    let title = format!("flywheel · {}", field(&email.account));

    let (mut html, mut text) = open_parts(&subject, &title, &header_sub);
    let mut attachments = Vec::new();
    let footer = alert_footer(email);
    // Room kept for the closing tags, the footer and the "more" note.
    let reserve = html_footer(&footer).len() + html_close().len() + 600;

    let mut shown = Vec::with_capacity(order.len());
    let mut mode = Shown::Full;
    let mut current: Option<Link> = None;
    for (i, item) in order.iter().enumerate() {
        let n = i + 1;
        let mut section = String::new();
        if current != Some(item.link) {
            section = html_section(link_title(item.link));
        }
        let fits =
            |frag: &str, budget: usize| html.len() + section.len() + frag.len() + reserve <= budget;
        // The item's HTML and text, in full while they fit, then one line.
        let mut placed = None;
        if mode == Shown::Full {
            // An all-gap series gets no image: the text says so instead.
            let cid = item
                .series
                .as_ref()
                .filter(|s| chart::series_stats(s).is_some())
                .map(|_| content_id(n));
            let frag = item_html(item, tz, cid.as_deref());
            if i < MAX_DETAILED && fits(&frag, DETAIL_BUDGET) {
                if let (Some(s), Some(cid)) = (&item.series, cid) {
                    attachments.push(chart::attachment(s, CHART, format!("chart-{n}.png"), cid));
                }
                placed = Some((frag, format!("\n{}", item_text(item, tz))));
            } else {
                mode = Shown::Line;
            }
        }
        if mode == Shown::Line {
            let frag = item_line_html(item);
            if fits(&frag, LINE_BUDGET) {
                placed = Some((frag, item_line_text(item)));
            } else {
                mode = Shown::Omitted;
            }
        }
        let Some((frag, frag_text)) = placed else {
            shown.push(Shown::Omitted);
            continue;
        };
        if !section.is_empty() {
            html.push_str(&section);
            let _ = write!(text, "\n== {} ==\n", link_title(item.link));
            current = Some(item.link);
        }
        html.push_str(&frag);
        text.push_str(&frag_text);
        shown.push(mode);
    }
    let omitted = shown.iter().filter(|s| **s == Shown::Omitted).count();
    let lines = shown.iter().filter(|s| **s == Shown::Line).count();
    if lines > 0 || omitted > 0 {
        let note = if omitted > 0 {
            format!(
                "and {omitted} more alert{} not listed here: run flywheel alerts to see every one.",
                if omitted == 1 { "" } else { "s" }
            )
        } else {
            "Alerts after the first ones are listed one line each: run flywheel alerts for the details."
                .to_string()
        };
        html.push_str(&html_note(&note));
        let _ = writeln!(text, "\n{note}");
    }
    if email.items.is_empty() {
        html.push_str(&html_paragraph("No alerts.", ""));
        text.push_str("\nNo alerts.\n");
    }
    close_parts(subject, html, text, &footer, attachments)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::fixtures::{at, series};
    use super::super::{HTML_MAX, SUBJECT_MAX};
    use super::*;
    use crate::alert::Series;

    fn item(f: Value, kind: ItemKind) -> Item {
        let fp = format!(
            "{:016x}",
            f.to_string()
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        );
        Item::from_finding_json(&f, kind, &fp, at() - chrono::Duration::hours(30)).unwrap()
    }

    fn stockout(sku: &str) -> Item {
        item(
            json!({"rule": "stockout_risk", "severity": "critical", "account": "acme-us",
                "marketplace": "ATVPDKIKX0DER", "sku": sku, "value": 0.0, "threshold": 37.0,
                "window": {"start": "2026-02-15", "end": "2026-03-01"},
                "evidence": {"available": 0, "inbound": 12, "stockout_days": 3},
                "summary": "out of stock now", "check_first": "Send a replenishment shipment now."}),
            ItemKind::Firing,
        )
    }

    fn feedback() -> Item {
        item(
            json!({"rule": "feedback_response_sla", "severity": "warning", "account": "acme-us",
                "marketplace": "ATVPDKIKX0DER", "value": 1.0, "threshold": 24.0,
                "evidence": {"open_breaches": 1, "oldest_age_hours": 31, "order_ids": ["112-1"]},
                "summary": "1 negative feedback unanswered for 31 h"}),
            ItemKind::Firing,
        )
    }

    fn wasted(term: &str) -> Item {
        item(
            json!({"rule": "wasted_spend", "severity": "warning", "account": "acme-us",
                "marketplace": "ATVPDKIKX0DER", "campaign_id": "1005", "search_term": term,
                "value": 23.0, "threshold": 15.0,
                "evidence": {"clicks": 23, "cost": 31.5, "note": term},
                "summary": format!("\"{term}\" took 23 clicks and sold nothing")}),
            ItemKind::Repeat,
        )
    }

    fn email(items: Vec<Item>) -> AlertEmail {
        AlertEmail {
            account: "acme-us".into(),
            at: at(),
            timezone: "America/Los_Angeles".into(),
            lang: crate::model::lang::Lang::En,
            open: items
                .iter()
                .filter(|i| i.kind != ItemKind::Resolved)
                .map(|i| (i.link, i.severity))
                .collect(),
            items,
            names: Default::default(),
        }
    }

    #[test]
    fn subjects_count_and_name_the_top_problems() {
        let mut s = stockout("SKU-1");
        s.subject.insert(2, ("asin".into(), "B0ABC12345".into()));
        let cases: Vec<(&str, Vec<Item>, &str)> = vec![
            (
                "firing",
                vec![s.clone(), feedback()],
                "[flywheel] acme-us: 1 critical, 1 warning: stockout risk B0ABC12345 out of stock, feedback unanswered 31h",
            ),
            (
                "mixed",
                vec![feedback(), Item { kind: ItemKind::Resolved, ..stockout("SKU-2") }],
                "[flywheel] acme-us: 1 warning, 1 resolved: feedback unanswered 31h",
            ),
            (
                "resolved only",
                vec![Item { kind: ItemKind::Resolved, ..s.clone() }],
                "[flywheel] acme-us: resolved: stockout risk B0ABC12345 out of stock",
            ),
            ("empty", vec![], "[flywheel] acme-us: no alerts"),
        ];
        for (case, items, want) in cases {
            assert_eq!(alert_email(&email(items)).subject, want, "{case}");
        }
    }

    #[test]
    fn subject_is_one_line_and_capped() {
        let r = alert_email(&email(vec![
            wasted("red\r\nBcc: victim@example.com\tmug"),
            wasted(&"long ".repeat(80)),
        ]));
        assert!(
            !r.subject.contains('\r') && !r.subject.contains('\n') && !r.subject.contains('\t')
        );
        assert!(
            r.subject.contains("\"red Bcc: victim@example.com mug\""),
            "{}",
            r.subject
        );
        assert!(r.subject.chars().count() <= SUBJECT_MAX);
        // Non-ASCII passes (the transport encodes it) and cuts on a char boundary.
        let jp = alert_email(&email(vec![wasted(&"水筒".repeat(100))]));
        assert!(jp.subject.contains("水筒水…\""), "{}", jp.subject);
        // Many long problems, ASCII or not: cut at the limit, with an ellipsis.
        let ascii = |i| format!("term {i} {}", "x".repeat(60));
        let japanese = |i| format!("{i}{}", "水筒".repeat(30));
        for terms in [
            (0..6).map(ascii).collect::<Vec<_>>(),
            (0..5).map(japanese).collect(),
        ] {
            let long = alert_email(&email(terms.iter().map(|t| wasted(t)).collect()));
            assert_eq!(long.subject.chars().count(), SUBJECT_MAX);
            assert!(long.subject.ends_with('…'));
        }
    }

    #[test]
    fn hostile_strings_are_escaped_everywhere_in_html() {
        let evil = "<script>alert(1)</script> \"quoted\" & 'single' http://evil.example/x";
        let mut s = stockout(evil);
        s.evidence.push(("title".into(), json!(evil)));
        s.summary = evil.into();
        s.series = Some(Series {
            label: evil.into(),
            ..series(10)
        });
        let mut e = email(vec![s, wasted(evil)]);
        e.account = evil.into();
        let r = alert_email(&e);
        let lower = r.html.to_lowercase();
        assert!(!lower.contains("<script"), "{}", r.html);
        assert!(!lower.contains("http://") && !lower.contains("https://"));
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(r.html.contains("&quot;quoted&quot; &amp; &#39;single&#39;"));
        assert!(!r.html.contains("\"quoted\""));
        // The text part carries the words, on one line per field.
        assert!(r.text.contains("<script>alert(1)</script>"));
        for needle in ["src=\"http", "href=", "<link", "@import", "url("] {
            assert!(!lower.contains(needle), "{needle}");
        }
    }

    #[test]
    fn every_chart_is_attached_and_referenced() {
        let mut a = stockout("SKU-1");
        a.series = Some(series(30));
        let mut b = wasted("mug");
        b.series = Some(series(30));
        let r = alert_email(&email(vec![a, feedback(), b]));
        assert_eq!(r.attachments.len(), 2);
        for att in &r.attachments {
            assert!(!att.content_id.contains('<') && !att.content_id.contains('>'));
            assert_eq!(att.content_type, "image/png");
            assert!(r.html.contains(&format!("src=\"cid:{}\"", att.content_id)));
            assert!(att.data.starts_with(b"\x89PNG"));
        }
        let ids: std::collections::HashSet<_> =
            r.attachments.iter().map(|a| &a.content_id).collect();
        assert_eq!(ids.len(), 2, "unique content ids");
        assert_eq!(r.html.matches("cid:").count(), 2);
        assert!(
            r.html.contains("min 0, max 29, last 29 on 2026-03-02"),
            "{}",
            r.html
        );
    }

    #[test]
    fn text_part_has_the_content_grouped_by_link() {
        let mut stall = item(
            json!({"rule": "growth_stall", "severity": "warning", "account": "acme-us",
                "marketplace": "ATVPDKIKX0DER", "asin": "B0SIMLNC01", "value": 590.0,
                "threshold": 700.0, "summary": "units down",
                "check_first": "Look at conversion first.",
                "diagnosis": {"conversion_fell": true, "traffic_fell": false,
                    "checks": [{"check": "buy_box", "detail": "buy box 98.2% over the last 7 days"}],
                    "other_rules": ["conversion_rate"]}}),
            ItemKind::Firing,
        );
        stall.series = Some(series(5));
        let r = alert_email(&email(vec![
            stockout("SKU-1"),
            stall,
            feedback(),
            wasted("mug"),
        ]));
        let t = &r.text;
        let pos = |s: &str| t.find(s).unwrap_or_else(|| panic!("{s} missing in\n{t}"));
        assert!(pos("== Link 1: customer experience ==") < pos("== Link 2: sales growth =="));
        assert!(pos("== Link 2: sales growth ==") < pos("== Link 3: operating leverage =="));
        // Critical first within leverage.
        assert!(pos("CRITICAL stockout risk") < pos("WARNING wasted ad spend"));
        for s in [
            "[NEW] CRITICAL stockout risk: sku SKU-1 (US)",
            "[STILL FIRING since 2026-02-28 21:00 PST] WARNING wasted ad spend: campaign 1005 \"mug\" (US)",
            "[NEW] WARNING feedback unanswered: US marketplace",
            "Value: 0 days of cover (threshold 37 days)",
            "Window: 2026-02-15 to 2026-03-01",
            "    inbound: 12",
            "What to check first: Send a replenishment shipment now.",
            "Diagnosis: conversion fell: yes; traffic fell: no",
            "    - buy_box: buy box 98.2% over the last 7 days",
            "Other rules firing: conversion_rate",
            "Trend, units available: min 0, max 4, last 4 on 2026-02-05",
            "flywheel silence --rule stockout_risk --account acme-us --sku SKU-1 --for 7d",
            "Sent by flywheel at 2026-03-02 03:00 PST (America/Los_Angeles).",
        ] {
            pos(s);
        }
        assert!(t.contains(&format!("flywheel ack {}", &r_fp(&stockout("SKU-1"))[..8])));
    }

    fn r_fp(i: &Item) -> String {
        i.fingerprint.clone()
    }

    #[test]
    fn two_hundred_items_stay_under_the_budget_and_both_parts_agree() {
        let items: Vec<Item> = (0..200)
            .map(|i| {
                let mut it = if i % 2 == 0 {
                    stockout(&format!("SKU-{i:04}-{}", "x".repeat(30)))
                } else {
                    wasted(&format!("search term number {i} {}", "y".repeat(40)))
                };
                it.evidence.push(("long".into(), json!("z".repeat(5000))));
                it.series = Some(series(60));
                it
            })
            .collect();
        let r = alert_email(&email(items));
        assert!(r.html.len() < HTML_MAX, "{} bytes", r.html.len());
        let full = r.text.matches("  Acknowledge: flywheel ack").count();
        let lines = r.text.lines().filter(|l| l.starts_with("- ")).count();
        assert!((1..=MAX_DETAILED).contains(&full));
        assert_eq!(r.attachments.len(), full);
        assert_eq!(r.html.matches("cid:").count(), full);
        assert_eq!(r.html.matches("&#9632;</span>").count(), lines);
        let more = 200 - full - lines;
        if more > 0 {
            let note = format!("and {more} more alerts");
            assert!(r.text.contains(&note) && r.html.contains(&note), "{note}");
        }
    }
}
