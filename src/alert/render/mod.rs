//! What alert emails and the weekly digest say: subject, plain text and
//! HTML, plus the chart PNGs the HTML shows by Content-ID.
//!
//! Pure functions of the email model ([`AlertEmail`], [`DigestModel`]): no
//! clock, no database, no I/O, so every property that protects the reader
//! is a unit test here:
//! - the subject is one line (control characters, CR and LF become spaces)
//!   and at most [`SUBJECT_MAX`] characters, so no header can be injected
//!   and mail clients show the whole problem list;
//! - every string that came from Amazon, the user's files or the config
//!   (account, ASINs, SKUs, search terms, titles, summaries, evidence) is
//!   HTML-escaped, and `://` is broken with a zero-width space so no
//!   client turns a seller-supplied URL into a link;
//! - the HTML is what mainstream clients render: tables for layout, inline
//!   styles only, no script, no external URL of any kind (images are
//!   attachments named by `cid:`), and under [`HTML_MAX`] bytes however many
//!   alerts a round produced (items beyond the budget are listed one line
//!   each, then counted), with the text part listing exactly the same.

mod chart;

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::digest::{DigestModel, KpiLine};
use super::{AlertEmail, Attachment, Item, ItemKind, Rendered, Series};
use crate::amazon::marketplace;
use crate::config::{Link, RuleId, Severity};
use crate::kpis::Status;

/// Longest subject, in characters (an ellipsis marks a cut).
pub const SUBJECT_MAX: usize = 150;
/// The HTML part never reaches this many bytes.
pub const HTML_MAX: usize = 100_000;
/// At most this many items are shown in full (with evidence and chart).
pub const MAX_DETAILED: usize = 50;
/// Full items stop once the HTML reaches this size...
const DETAIL_BUDGET: usize = 70_000;
/// ...and one-line items once it reaches this one; the rest are counted.
const LINE_BUDGET: usize = 92_000;
/// Trend chart size in alert emails and in the digest, in pixels.
const CHART: (u32, u32) = (240, 60);
const SPARK: (u32, u32) = (96, 24);
/// Per-field caps, in characters, so one huge value cannot eat the budget.
const FIELD_MAX: usize = 400;
const EVIDENCE_MAX: usize = 16;

/// A rule's name as the seller reads it in subjects and headings.
pub fn rule_title(rule: RuleId) -> &'static str {
    use RuleId::*;
    match rule {
        FeedbackResponseSla => "feedback unanswered",
        FeedbackRate => "negative feedback rate",
        ReviewTopics => "review topic rising",
        RatingFloor => "star rating low",
        ReturnRate => "return rate high",
        ListingHealth => "listing problem",
        AccountHealth => "account health",
        ConversionRate => "conversion low",
        TrafficTrend => "traffic falling",
        BuyBox => "buy box lost",
        BsrTrend => "BSR worsening",
        KeywordShare => "keyword share falling",
        GrowthStall => "growth stalled",
        AcosBand => "ACoS out of band",
        Tacos => "TACoS high",
        AdReliance => "ad reliance high",
        CpcTrend => "CPC rising",
        WastedSpend => "wasted ad spend",
        StockoutRisk => "stockout risk",
        InventoryTurnover => "slow-moving stock",
        MarginFloor => "margin too thin",
        DataFreshness => "stale data",
        Credentials => "credentials problem",
    }
}

/// How a link is headed in emails.
fn link_title(link: Link) -> &'static str {
    match link {
        Link::Experience => "Link 1: customer experience",
        Link::Growth => "Link 2: sales growth",
        Link::Leverage => "Link 3: operating leverage",
        Link::Meta => "flywheel itself",
    }
}

fn link_rank(link: Link) -> u8 {
    match link {
        Link::Experience => 0,
        Link::Growth => 1,
        Link::Leverage => 2,
        Link::Meta => 3,
    }
}

/// The suffixes of a rule's value and threshold (they differ where the
/// threshold is a limit on something else, e.g. breaches vs SLA hours).
fn units(rule: RuleId) -> (&'static str, &'static str) {
    use RuleId::*;
    match rule {
        FeedbackResponseSla => (" unanswered", " h SLA"),
        FeedbackRate | ReturnRate | ConversionRate | BuyBox | AcosBand | Tacos | AdReliance => {
            ("%", "%")
        }
        ReviewTopics => (" pts", " pts"),
        RatingFloor => ("★", "★"),
        ListingHealth => (" issues", ""),
        AccountHealth => ("% ODR", "%"),
        TrafficTrend | KeywordShare => ("% drop", "%"),
        BsrTrend => ("% worse", "%"),
        GrowthStall => (" units", " units (prior period)"),
        CpcTrend => ("% rise", "%"),
        WastedSpend => (" clicks", " clicks"),
        StockoutRisk => (" days of cover", " days"),
        InventoryTurnover => (" days of supply", " days"),
        MarginFloor => ("% margin", "%"),
        DataFreshness => (" h stale", " h"),
        Credentials => (" problems", ""),
    }
}

/// A number for people: whole above 100, one decimal above 10, else two,
/// trailing zeros dropped.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "∞".into();
    }
    let decimals = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// One line of plain text: control characters (CR, LF, tab, ...) become
/// spaces and runs of whitespace collapse.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// At most `max` characters, cut at a character boundary with "…".
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A field for display: one line, capped.
fn field(s: &str) -> String {
    truncate(&one_line(s), FIELD_MAX)
}

/// HTML-escapes text (`& < > " '`) and breaks `://`, so no client links a
/// URL that came from Amazon or a user.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out.replace("://", ":&#8203;//")
}

/// A subject line: one line, at most [`SUBJECT_MAX`] characters.
pub fn subject_line(s: &str) -> String {
    truncate(&one_line(s), SUBJECT_MAX)
}

fn tz_of(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// `2026-03-02 03:00 PST` in the named zone.
pub fn local_time(t: DateTime<Utc>, timezone: &str) -> String {
    t.with_timezone(&tz_of(timezone))
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// A marketplace as sellers name it: its country code.
fn country(marketplace_id: &str) -> String {
    marketplace::lookup(marketplace_id)
        .map(|m| m.country.to_string())
        .unwrap_or_else(|| marketplace_id.to_string())
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#c62828",
        Severity::Warning => "#e65100",
        Severity::Info => "#607d8b",
    }
}

const RESOLVED_COLOUR: &str = "#2e7d32";

/// The colour of a KPI status in the digest.
pub fn status_colour(s: Status) -> &'static str {
    match s {
        Status::Ok => "#2e7d32",
        Status::Warning => "#e65100",
        Status::Critical => "#c62828",
        Status::NoData => "#8c959f",
    }
}

fn sev_upper(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

fn short_id(fingerprint: &str) -> String {
    fingerprint.chars().take(8).collect()
}

/// An evidence value as text (strings unquoted, arrays joined).
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(fmt_num).unwrap_or_else(|| n.to_string()),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

fn evidence_f64(item: &Item, key: &str) -> Option<f64> {
    item.evidence
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_f64())
}

fn evidence_str<'a>(item: &'a Item, key: &str) -> Option<&'a str> {
    item.evidence
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_str())
}

/// "41.8% (threshold 25%)"; the value alone without a threshold.
fn value_vs_threshold(item: &Item) -> Option<String> {
    let (vu, tu) = units(item.rule);
    let value = match (item.value, item.rule) {
        (Some(v), RuleId::ListingHealth) => plural(v, "issue"),
        (Some(v), RuleId::Credentials) => plural(v, "problem"),
        (Some(v), _) => format!("{}{vu}", fmt_num(v)),
        (None, RuleId::AcosBand) | (None, RuleId::Tacos) => "∞ (spend without sales)".into(),
        (None, _) => return None,
    };
    Some(match item.threshold {
        Some(t) => format!("{value} (threshold {}{tu})", fmt_num(t)),
        None => value,
    })
}

/// "1 issue", "3 issues".
fn plural(n: f64, word: &str) -> String {
    format!(
        "{} {word}{}",
        fmt_num(n),
        if (n - 1.0).abs() < 1e-9 { "" } else { "s" }
    )
}

/// The one number a subject line shows for an item.
fn key_number(item: &Item) -> Option<String> {
    let v = item.value;
    let pct = |x: f64| format!("{}%", fmt_num(x));
    use RuleId::*;
    match item.rule {
        FeedbackResponseSla => evidence_f64(item, "oldest_age_hours")
            .map(|h| format!("{}h", fmt_num(h)))
            .or_else(|| v.map(|n| format!("{} open", fmt_num(n)))),
        ReviewTopics => evidence_str(item, "topic").map(|t| format!("\"{}\"", truncate(t, 30))),
        RatingFloor => v.map(|r| format!("{}★", fmt_num(r))),
        ListingHealth => v.map(|n| plural(n, "issue")),
        AccountHealth => v.map(|x| format!("ODR {}", pct(x))),
        TrafficTrend | KeywordShare => v.map(|x| format!("-{}", pct(x))),
        BsrTrend | CpcTrend => v.map(|x| format!("+{}", pct(x))),
        GrowthStall => v.map(|x| format!("{} units", fmt_num(x))),
        AcosBand | Tacos => Some(v.map(pct).unwrap_or_else(|| "no sales".into())),
        WastedSpend => v.map(|x| format!("{} clicks", fmt_num(x))),
        StockoutRisk => {
            if evidence_f64(item, "available").is_some_and(|a| a <= 0.0) {
                Some("out of stock".into())
            } else {
                v.map(|d| format!("{} days cover", fmt_num(d)))
            }
        }
        InventoryTurnover => v.map(|d| format!("{} days", fmt_num(d))),
        DataFreshness => v.map(|h| format!("{}h", fmt_num(h))),
        Credentials => None,
        FeedbackRate | ReturnRate | ConversionRate | BuyBox | AdReliance | MarginFloor => {
            v.map(pct)
        }
    }
}

/// The subject's id as short as it can be: the search term, ASIN, SKU or
/// campaign; the country for marketplace-level rules when `with_market`.
fn short_subject(item: &Item, with_market: bool) -> String {
    let term = item
        .key("search_term")
        .map(|t| format!("\"{}\"", truncate(t, 40)));
    let id = item
        .key("asin")
        .or(item.key("sku"))
        .map(str::to_string)
        .or_else(|| item.key("campaign_id").map(|c| format!("campaign {c}")));
    match (id, term) {
        (Some(id), Some(t)) if item.key("asin").is_some() => format!("{id} {t}"),
        (_, Some(t)) => t,
        (Some(id), None) => id,
        (None, None) if with_market => item.key("marketplace").map(country).unwrap_or_default(),
        (None, None) => String::new(),
    }
}

fn problem(item: &Item, with_market: bool) -> String {
    let mut parts = vec![rule_title(item.rule).to_string()];
    let id = short_subject(item, with_market);
    if !id.is_empty() {
        parts.push(id);
    }
    if let Some(n) = key_number(item) {
        parts.push(n);
    }
    one_line(&parts.join(" "))
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

fn kind_text(item: &Item, tz: &str) -> String {
    match item.kind {
        ItemKind::Firing => "NEW".into(),
        ItemKind::Repeat => format!("STILL FIRING since {}", local_time(item.since, tz)),
        ItemKind::Resolved => format!("RESOLVED at {}", local_time(item.since, tz)),
    }
}

/// A shell word: quoted unless it is plainly safe.
fn shell_word(s: &str) -> String {
    let s = one_line(s);
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:/+".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The `flywheel silence` command that mutes this item's rule for its
/// subject (the matchers `silence` has: account, ASIN, SKU, campaign).
fn silence_command(item: &Item) -> String {
    let mut cmd = format!("flywheel silence --rule {}", item.rule.as_str());
    if let Some(a) = item.key("account") {
        let _ = write!(cmd, " --account {}", shell_word(a));
    }
    for (key, flag) in [
        ("asin", "--asin"),
        ("sku", "--sku"),
        ("campaign_id", "--campaign"),
    ] {
        if let Some(v) = item.key(key) {
            let _ = write!(cmd, " {flag} {}", shell_word(v));
        }
    }
    cmd.push_str(" --for 7d");
    cmd
}

/// Min, max and last known value of a series.
fn series_stats(s: &Series) -> Option<(f64, f64, f64, chrono::NaiveDate)> {
    let known: Vec<(chrono::NaiveDate, f64)> = s
        .points
        .iter()
        .filter_map(|(d, v)| v.filter(|v| v.is_finite()).map(|v| (*d, v)))
        .collect();
    let (last_day, last) = *known.last()?;
    let min = known.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    let max = known.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
    Some((min, max, last, last_day))
}

fn stats_text(s: &Series) -> String {
    match series_stats(s) {
        Some((min, max, last, day)) => format!(
            "min {}, max {}, last {} on {day}",
            fmt_num(min),
            fmt_num(max),
            fmt_num(last)
        ),
        None => format!("no data in these {} points", s.points.len()),
    }
}

fn market_of(item: &Item) -> String {
    item.key("marketplace").map(country).unwrap_or_default()
}

/// Who an item is about, for headings: "sku SKU-1 (US)", or "US
/// marketplace" for marketplace-level rules.
fn who(item: &Item) -> String {
    let specific = ["asin", "sku", "campaign_id", "search_term"]
        .iter()
        .any(|k| item.key(k).is_some());
    if specific {
        field(&format!("{} ({})", item.subject_label(), market_of(item)))
    } else {
        field(&format!("{} marketplace", market_of(item)))
    }
}

/// The evidence lines, capped in number and length.
fn evidence_lines(item: &Item) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = item
        .evidence
        .iter()
        .take(EVIDENCE_MAX)
        .map(|(k, v)| {
            (
                truncate(&field(k), 60),
                truncate(&field(&value_text(v)), 200),
            )
        })
        .collect();
    if item.evidence.len() > EVIDENCE_MAX {
        out.push((
            "…".into(),
            format!("{} more", item.evidence.len() - EVIDENCE_MAX),
        ));
    }
    out
}

/// growth_stall's diagnosis as shown: (headline, (check, detail), other rules).
type Diagnosis = (String, Vec<(String, String)>, Vec<String>);

fn diagnosis(item: &Item) -> Option<Diagnosis> {
    let d = item.diagnosis.as_ref()?;
    let yes_no = |k: &str| match d.get(k).and_then(Value::as_bool) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    let head = format!(
        "conversion fell: {}; traffic fell: {}",
        yes_no("conversion_fell"),
        yes_no("traffic_fell")
    );
    let checks = d
        .get("checks")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .take(12)
                .map(|c| {
                    (
                        field(c.get("check").and_then(Value::as_str).unwrap_or("")),
                        field(c.get("detail").and_then(Value::as_str).unwrap_or("")),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let others = d
        .get("other_rules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .take(23)
                .map(field)
                .collect()
        })
        .unwrap_or_default();
    Some((head, checks, others))
}

fn content_id(n: usize) -> String {
    format!("chart-{n}@flywheel")
}

/// The plain-text block of one item shown in full.
fn item_text(item: &Item, tz: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "[{}] {} {}: {}",
        kind_text(item, tz),
        sev_upper(item.severity),
        rule_title(item.rule),
        who(item)
    );
    if !item.summary.is_empty() {
        let _ = writeln!(t, "  {}", field(&item.summary));
    }
    if let Some(v) = value_vs_threshold(item) {
        let _ = writeln!(t, "  Value: {v}");
    }
    if let Some((a, b)) = item.window {
        let _ = writeln!(t, "  Window: {a} to {b}");
    }
    let ev = evidence_lines(item);
    if !ev.is_empty() {
        t.push_str("  Evidence:\n");
        for (k, v) in ev {
            let _ = writeln!(t, "    {k}: {v}");
        }
    }
    if !item.check_first.is_empty() && item.kind != ItemKind::Resolved {
        let _ = writeln!(t, "  What to check first: {}", field(&item.check_first));
    }
    if let Some((head, checks, others)) = diagnosis(item) {
        let _ = writeln!(t, "  Diagnosis: {head}");
        for (c, d) in checks {
            let _ = writeln!(t, "    - {c}: {d}");
        }
        if !others.is_empty() {
            let _ = writeln!(t, "    Other rules firing: {}", others.join(", "));
        }
    }
    if let Some(s) = &item.series {
        let _ = writeln!(t, "  Trend, {}: {}", field(&s.label), stats_text(s));
    }
    if item.kind != ItemKind::Resolved {
        let _ = writeln!(
            t,
            "  Acknowledge: flywheel ack {}   Silence: {}",
            short_id(&item.fingerprint),
            silence_command(item)
        );
    }
    t
}

fn item_line_text(item: &Item) -> String {
    format!(
        "- {} {}: {} {}{}\n",
        sev_upper(item.severity),
        rule_title(item.rule),
        who(item),
        truncate(&field(&item.summary), 120),
        if item.kind == ItemKind::Resolved {
            " (resolved)".to_string()
        } else {
            format!(" (ack {})", short_id(&item.fingerprint))
        }
    )
}

// ---- HTML building blocks (inline styles only) ----

const FONT: &str = "font-family:Arial,Helvetica,sans-serif;";
const MUTED: &str = "#57606a";

fn html_open(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f0f2f5;\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"background:#f0f2f5;\"><tr><td align=\"center\" style=\"padding:16px 8px;\">\n\
         <table role=\"presentation\" width=\"680\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"width:680px;max-width:100%;background:#ffffff;border-collapse:collapse;{FONT}\
         font-size:14px;line-height:1.4;color:#1f2328;\">\n",
        esc(title)
    )
}

fn html_close() -> &'static str {
    "</table>\n</td></tr></table>\n</body></html>\n"
}

fn html_header(title: &str, sub: &str) -> String {
    format!(
        "<tr><td style=\"padding:16px 20px;border-bottom:1px solid #e1e4e8;\">\
         <div style=\"font-size:18px;font-weight:bold;\">{}</div>\
         <div style=\"color:{MUTED};\">{}</div></td></tr>\n",
        esc(title),
        esc(sub)
    )
}

fn html_section(title: &str) -> String {
    format!(
        "<tr><td style=\"padding:16px 20px 4px 20px;font-size:12px;font-weight:bold;\
         letter-spacing:1px;color:{MUTED};\">{}</td></tr>\n",
        esc(&title.to_uppercase())
    )
}

fn html_paragraph(text: &str, style: &str) -> String {
    format!(
        "<tr><td style=\"padding:4px 20px;{style}\">{}</td></tr>\n",
        esc(text)
    )
}

fn html_footer(lines: &[String]) -> String {
    let body: Vec<String> = lines.iter().map(|l| esc(l)).collect();
    format!(
        "<tr><td style=\"padding:14px 20px;background:#f6f8fa;border-top:1px solid #e1e4e8;\
         font-size:12px;color:{MUTED};\">{}</td></tr>\n",
        body.join("<br>")
    )
}

/// The chart image with its label and min/max/last beside it.
fn html_chart(s: &Series, cid: &str, size: (u32, u32)) -> String {
    let mut side = format!("{}<br>{}", esc(&field(&s.label)), esc(&stats_text(s)));
    if let Some(t) = s.threshold {
        let _ = write!(
            side,
            "<br><span style=\"color:#d03030;\">- - threshold {}</span>",
            esc(&fmt_num(t))
        );
    }
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"margin:8px 0;\"><tr><td valign=\"top\"><img src=\"cid:{}\" width=\"{}\" height=\"{}\" \
         alt=\"{}\" style=\"display:block;border:1px solid #e1e4e8;\"></td>\
         <td valign=\"top\" style=\"padding-left:10px;font-size:12px;color:{MUTED};\">{side}</td></tr></table>",
        esc(cid),
        size.0,
        size.1,
        esc(&format!("trend: {}", field(&s.label))),
    )
}

fn item_colour(item: &Item) -> &'static str {
    if item.kind == ItemKind::Resolved {
        RESOLVED_COLOUR
    } else {
        severity_colour(item.severity)
    }
}

/// One item in full: a colour bar, the headline, the numbers, the chart.
fn item_html(item: &Item, tz: &str, cid: Option<&str>) -> String {
    let colour = item_colour(item);
    let mut b = String::new();
    let _ = write!(
        b,
        "<div style=\"font-size:12px;font-weight:bold;color:{colour};\">{} &middot; {}</div>",
        esc(&kind_text(item, tz)),
        sev_upper(item.severity)
    );
    let _ = write!(
        b,
        "<div style=\"font-size:15px;font-weight:bold;\">{}: {}</div>",
        esc(rule_title(item.rule)),
        esc(&who(item))
    );
    if !item.summary.is_empty() {
        let _ = write!(
            b,
            "<div style=\"margin-top:4px;\">{}</div>",
            esc(&field(&item.summary))
        );
    }
    let mut facts = Vec::new();
    if let Some(v) = value_vs_threshold(item) {
        facts.push(("value".to_string(), v));
    }
    if let Some((a, z)) = item.window {
        facts.push(("window".to_string(), format!("{a} to {z}")));
    }
    facts.extend(evidence_lines(item));
    if !facts.is_empty() {
        b.push_str(
            "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
             style=\"margin-top:6px;font-size:13px;\">",
        );
        for (k, v) in facts {
            let _ = write!(
                b,
                "<tr><td valign=\"top\" style=\"padding:1px 12px 1px 0;color:{MUTED};\">{}</td>\
                 <td valign=\"top\" style=\"padding:1px 0;\">{}</td></tr>",
                esc(&k),
                esc(&v)
            );
        }
        b.push_str("</table>");
    }
    match (&item.series, cid) {
        (Some(s), Some(cid)) => b.push_str(&html_chart(s, cid, CHART)),
        (Some(s), None) => {
            let _ = write!(
                b,
                "<div style=\"margin-top:6px;font-size:12px;color:{MUTED};\">Trend, {}: {}</div>",
                esc(&field(&s.label)),
                esc(&stats_text(s))
            );
        }
        _ => {}
    }
    if !item.check_first.is_empty() && item.kind != ItemKind::Resolved {
        let _ = write!(
            b,
            "<div style=\"margin-top:6px;\"><b>What to check first:</b> {}</div>",
            esc(&field(&item.check_first))
        );
    }
    if let Some((head, checks, others)) = diagnosis(item) {
        let _ = write!(
            b,
            "<div style=\"margin-top:6px;\"><b>Diagnosis:</b> {}</div>",
            esc(&head)
        );
        if !checks.is_empty() {
            b.push_str("<ul style=\"margin:2px 0 0 0;padding-left:18px;\">");
            for (c, d) in checks {
                let _ = write!(b, "<li><b>{}</b>: {}</li>", esc(&c), esc(&d));
            }
            b.push_str("</ul>");
        }
        if !others.is_empty() {
            let _ = write!(
                b,
                "<div>Other rules firing: {}</div>",
                esc(&others.join(", "))
            );
        }
    }
    if item.kind != ItemKind::Resolved {
        let _ = write!(
            b,
            "<div style=\"margin-top:6px;font-size:12px;color:{MUTED};\">flywheel ack {} &middot; {}</div>",
            esc(&short_id(&item.fingerprint)),
            esc(&silence_command(item))
        );
    }
    format!(
        "<tr><td style=\"padding:6px 20px;\"><table role=\"presentation\" width=\"100%\" \
         cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border:1px solid #e1e4e8;\">\
         <tr><td width=\"6\" bgcolor=\"{colour}\" style=\"width:6px;background:{colour};\"></td>\
         <td style=\"padding:10px 12px;\">{b}</td></tr></table></td></tr>\n"
    )
}

fn item_line_html(item: &Item) -> String {
    let colour = item_colour(item);
    format!(
        "<tr><td style=\"padding:2px 20px;font-size:13px;\"><span style=\"color:{colour};\">&#9632;</span> \
         <b>{}</b> {}: {} {} <span style=\"color:{MUTED};\">{}</span></td></tr>\n",
        sev_upper(item.severity),
        esc(rule_title(item.rule)),
        esc(&who(item)),
        esc(&truncate(&field(&item.summary), 120)),
        esc(&if item.kind == ItemKind::Resolved {
            "(resolved)".to_string()
        } else {
            format!("(ack {})", short_id(&item.fingerprint))
        })
    )
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

    let mut html = html_open(&subject);
    html.push_str(&html_header(&title, &header_sub));
    let mut text = format!("{title}\n{header_sub}\n");
    let mut attachments = Vec::new();
    let footer = alert_footer(email);
    let footer_html = html_footer(&footer);
    // Room kept for the closing tags, the footer and the "more" note.
    let reserve = footer_html.len() + html_close().len() + 600;

    let mut shown = Vec::with_capacity(order.len());
    let mut mode = Shown::Full;
    let mut current: Option<Link> = None;
    for (i, item) in order.iter().enumerate() {
        let n = i + 1;
        let mut section = String::new();
        if current != Some(item.link) {
            section = html_section(link_title(item.link));
        }
        if mode == Shown::Full {
            // An all-gap series gets no image: the text says so instead.
            let cid = item
                .series
                .as_ref()
                .filter(|s| series_stats(s).is_some())
                .map(|_| content_id(n));
            let frag = item_html(item, tz, cid.as_deref());
            let fits = i < MAX_DETAILED
                && html.len() + section.len() + frag.len() + reserve <= DETAIL_BUDGET;
            if fits {
                if !section.is_empty() {
                    html.push_str(&section);
                    let _ = write!(text, "\n== {} ==\n", link_title(item.link));
                    current = Some(item.link);
                }
                html.push_str(&frag);
                let _ = write!(text, "\n{}", item_text(item, tz));
                if let (Some(s), Some(cid)) = (&item.series, cid) {
                    attachments.push(Attachment {
                        filename: format!("chart-{n}.png"),
                        content_id: cid,
                        content_type: "image/png".into(),
                        data: chart::png(s, CHART.0, CHART.1),
                    });
                }
                shown.push(Shown::Full);
                continue;
            }
            mode = Shown::Line;
        }
        if mode == Shown::Line {
            let frag = item_line_html(item);
            if html.len() + section.len() + frag.len() + reserve <= LINE_BUDGET {
                if !section.is_empty() {
                    html.push_str(&section);
                    let _ = write!(text, "\n== {} ==\n", link_title(item.link));
                    current = Some(item.link);
                }
                html.push_str(&frag);
                text.push_str(&item_line_text(item));
                shown.push(Shown::Line);
                continue;
            }
            mode = Shown::Omitted;
        }
        shown.push(Shown::Omitted);
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
        html.push_str(&html_paragraph(&note, "font-size:13px;color:#57606a;"));
        let _ = writeln!(text, "\n{note}");
    }
    if email.items.is_empty() {
        html.push_str(&html_paragraph("No alerts.", ""));
        text.push_str("\nNo alerts.\n");
    }
    html.push_str(&footer_html);
    html.push_str(html_close());
    text.push_str("\n--\n");
    for l in &footer {
        let _ = writeln!(text, "{l}");
    }
    Rendered {
        subject,
        text,
        html,
        attachments,
    }
}

// ---- the weekly digest ----

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "OK",
        Status::Warning => "WARNING",
        Status::Critical => "CRITICAL",
        Status::NoData => "NO DATA",
    }
}

/// A KPI value with its unit ("12.4%", "3 SKUs", "-").
fn kpi_value(k: &KpiLine) -> String {
    match k.value {
        Some(v) => {
            let mut s = format!("{}{}", fmt_num(v), k.unit);
            if let Some(l) = &k.label {
                let _ = write!(s, " ({})", truncate(&one_line(l), 30));
            }
            s
        }
        None => "-".into(),
    }
}

/// "▲ +0.8 pts" / "▼ -120" / "=" ("" when unknown): the change against
/// the previous week, in the KPI's unit (points for percentages).
fn kpi_change(k: &KpiLine) -> String {
    let Some(c) = k.change else {
        return String::new();
    };
    let unit = if k.unit == "%" {
        " pts".to_string()
    } else {
        k.unit.to_string()
    };
    if c.abs() < 1e-9 {
        "= 0".into()
    } else if c > 0.0 {
        format!("▲ +{}{unit}", fmt_num(c))
    } else {
        format!("▼ {}{unit}", fmt_num(c))
    }
}

/// The alive line: how often flywheel synced, and how the last round went.
pub fn alive_line(d: &DigestModel) -> String {
    let a = &d.alive;
    let mut s = match a.rounds_7d {
        0 => "flywheel has not synced in the last 7 days: check that the daemon runs (systemctl status flywheel)".to_string(),
        1 => "flywheel has synced once in the last 7 days".to_string(),
        n => format!("flywheel has synced {n} times in the last 7 days"),
    };
    if let Some(t) = a.last_round {
        let how = if a.last_round_failed == 0 {
            "ok".to_string()
        } else {
            format!(
                "{} of {} jobs failed",
                a.last_round_failed, a.last_round_jobs
            )
        };
        let _ = write!(s, "; last sync round {} {how}", local_time(t, &d.timezone));
    }
    s.push('.');
    s
}

fn digest_subject(d: &DigestModel) -> String {
    let off: usize = d
        .marketplaces
        .iter()
        .flat_map(|m| &m.rows)
        .filter(|k| matches!(k.status, Status::Warning | Status::Critical))
        .count();
    let mut parts = vec![format!(
        "{off} KPI{} off target",
        if off == 1 { "" } else { "s" }
    )];
    parts.push(format!(
        "{} open alert{}",
        d.open_alerts.len(),
        if d.open_alerts.len() == 1 { "" } else { "s" }
    ));
    if !d.unavailable.is_empty() {
        parts.push(format!("{} source(s) unavailable", d.unavailable.len()));
    }
    subject_line(&format!(
        "[flywheel] {}: weekly digest: {}",
        one_line(&d.account),
        parts.join(", ")
    ))
}

/// Caps of the digest's lists (the rest is counted).
const DIGEST_ALERTS_MAX: usize = 40;
const DIGEST_LIST_MAX: usize = 30;
/// Marketplace tables are added while the HTML stays under this size...
const DIGEST_TABLES_BUDGET: usize = 60_000;
/// ...and list lines while it stays under this one (the rest is counted).
const DIGEST_LINES_BUDGET: usize = 90_000;
/// Short fields of the digest (targets, names of jobs), in characters.
const SHORT: usize = 60;

/// The HTML and text of one marketplace's checklist, with its charts.
fn checklist_section(
    m: &super::digest::MarketplaceKpis,
    mi: usize,
) -> (String, String, Vec<Attachment>) {
    let heading = format!(
        "{} ({}): flywheel health checklist as of {}",
        truncate(&field(&m.country), SHORT),
        truncate(&field(&m.marketplace_id), SHORT),
        m.at
    );
    let mut html = html_section(&heading);
    let mut text = format!(
        "\n== {heading} ==\n  {:<9} {:<34} {:>18} {:<22} change vs last week\n",
        "status", "kpi", "value", "target"
    );
    let mut attachments = Vec::new();
    html.push_str(
        "<tr><td style=\"padding:4px 20px;\"><table role=\"presentation\" width=\"100%\" \
         cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"font-size:13px;border-collapse:collapse;\">\
         <tr style=\"color:#57606a;font-size:11px;\"><td style=\"padding:3px 6px;\">STATUS</td>\
         <td style=\"padding:3px 6px;\">KPI</td><td align=\"right\" style=\"padding:3px 6px;\">VALUE</td>\
         <td style=\"padding:3px 6px;\">TARGET</td><td style=\"padding:3px 6px;\">VS LAST WEEK</td>\
         <td style=\"padding:3px 6px;\">8 WEEKS</td></tr>",
    );
    for (ri, k) in m.rows.iter().enumerate() {
        let colour = status_colour(k.status);
        let cid = format!("kpi-{}-{}@flywheel", mi + 1, ri + 1);
        let chart_cell = if series_stats(&k.trend).is_some() {
            attachments.push(Attachment {
                filename: format!("kpi-{}-{}.png", mi + 1, ri + 1),
                content_id: cid.clone(),
                content_type: "image/png".into(),
                data: chart::png(&k.trend, SPARK.0, SPARK.1),
            });
            format!(
                "<img src=\"cid:{}\" width=\"{}\" height=\"{}\" alt=\"{}\" style=\"display:block;border:0;\">",
                esc(&cid),
                SPARK.0,
                SPARK.1,
                esc(&format!("{} over 8 weeks", k.name))
            )
        } else {
            "<span style=\"color:#8c959f;\">no history</span>".to_string()
        };
        let note = k.note.as_deref().map(|n| truncate(&field(n), 160));
        let note_html = note
            .as_deref()
            .map(|n| {
                format!(
                    "<div style=\"font-size:11px;color:{MUTED};\">{}</div>",
                    esc(n)
                )
            })
            .unwrap_or_default();
        let target = truncate(&field(&k.target), SHORT);
        let _ = write!(
            html,
            "<tr style=\"border-top:1px solid #eaeef2;\">\
             <td bgcolor=\"{colour}\" style=\"padding:3px 6px;background:{colour};color:#ffffff;\
             font-size:11px;font-weight:bold;white-space:nowrap;\">{}</td>\
             <td style=\"padding:3px 6px;\">{}{note_html}</td>\
             <td align=\"right\" style=\"padding:3px 6px;white-space:nowrap;\">{}</td>\
             <td style=\"padding:3px 6px;color:{MUTED};\">{}</td>\
             <td style=\"padding:3px 6px;white-space:nowrap;\">{}</td>\
             <td style=\"padding:3px 6px;\">{chart_cell}</td></tr>",
            status_word(k.status),
            esc(k.name),
            esc(&kpi_value(k)),
            esc(&target),
            esc(&kpi_change(k)),
        );
        let _ = writeln!(
            text,
            "  {:<9} {:<34} {:>18} {:<22} {}{}",
            status_word(k.status),
            k.name,
            kpi_value(k),
            target,
            kpi_change(k),
            note.map(|n| format!("  ({n})")).unwrap_or_default()
        );
    }
    html.push_str("</table></td></tr>\n");
    (html, text, attachments)
}

/// Appends a titled list to both parts: at most `max` lines, fewer when
/// the HTML budget runs out, then "and N more" with `more_hint`.
fn digest_list(
    html: &mut String,
    text: &mut String,
    title: &str,
    lines: &[(Option<&'static str>, String)],
    max: usize,
    empty: &str,
    more_hint: &str,
) {
    html.push_str(&html_section(title));
    let _ = writeln!(text, "\n== {title} ==");
    if lines.is_empty() {
        html.push_str(&html_paragraph(empty, ""));
        let _ = writeln!(text, "  {empty}");
        return;
    }
    let mut shown = 0;
    for (colour, line) in lines.iter().take(max) {
        let frag = match colour {
            Some(c) => format!(
                "<tr><td style=\"padding:2px 20px;font-size:13px;\"><span style=\"color:{c};\">&#9632;</span> {}</td></tr>\n",
                esc(line)
            ),
            None => html_paragraph(line, "font-size:13px;"),
        };
        if html.len() + frag.len() > DIGEST_LINES_BUDGET {
            break;
        }
        html.push_str(&frag);
        let _ = writeln!(text, "  {line}");
        shown += 1;
    }
    if shown < lines.len() {
        let more = format!("and {} more{more_hint}", lines.len() - shown);
        html.push_str(&html_paragraph(&more, "font-size:13px;color:#57606a;"));
        let _ = writeln!(text, "  {more}");
    }
}

/// Renders the weekly digest (DESIGN §5): per marketplace the 12-KPI
/// checklist with status, value, target, change and an 8-week trend chart,
/// then open alerts, what improved, unavailable data and the alive line.
/// Every part is budgeted so the HTML stays under [`HTML_MAX`] whatever
/// the account holds; what does not fit is counted and named.
pub fn digest(d: &DigestModel) -> Rendered {
    let subject = digest_subject(d);
    let tz = d.timezone.as_str();
    let title = format!(
        "flywheel weekly digest · {}",
        truncate(&field(&d.account), SHORT)
    );
    let sub = format!("generated {}", local_time(d.generated_at, tz));
    let mut html = html_open(&subject);
    html.push_str(&html_header(&title, &sub));
    let mut text = format!("{title}\n{sub}\n");
    let mut attachments = Vec::new();

    let mut skipped = Vec::new();
    for (mi, m) in d.marketplaces.iter().enumerate() {
        let (h, t, a) = checklist_section(m, mi);
        if !skipped.is_empty() || html.len() + h.len() > DIGEST_TABLES_BUDGET {
            skipped.push(truncate(&field(&m.country), 8));
            continue;
        }
        html.push_str(&h);
        text.push_str(&t);
        attachments.extend(a);
    }
    if !skipped.is_empty() {
        let note = format!(
            "The checklists of {} more marketplace(s) ({}) did not fit: run flywheel kpis.",
            skipped.len(),
            truncate(&skipped.join(", "), 200)
        );
        html.push_str(&html_paragraph(&note, "font-size:13px;color:#57606a;"));
        let _ = writeln!(text, "\n{note}");
    }

    let market = |m: &Option<String>| {
        truncate(
            &field(&m.as_deref().map(country).unwrap_or_default()),
            SHORT,
        )
    };
    let open: Vec<(Option<&'static str>, String)> = d
        .open_alerts
        .iter()
        .map(|a| {
            (
                Some(severity_colour(a.severity)),
                format!(
                    "{} {}: {} [{}] since {} (ack {})",
                    sev_upper(a.severity),
                    a.title,
                    truncate(&field(&a.subject), 100),
                    market(&a.marketplace),
                    local_time(a.since, tz),
                    short_id(&a.fingerprint)
                ),
            )
        })
        .collect();
    digest_list(
        &mut html,
        &mut text,
        &format!("Open alerts ({})", d.open_alerts.len()),
        &open,
        DIGEST_ALERTS_MAX,
        "None: every rule is quiet.",
        ": run flywheel alerts.",
    );

    let mut improved: Vec<(Option<&'static str>, String)> = d
        .resolved
        .iter()
        .map(|a| {
            (
                Some(RESOLVED_COLOUR),
                format!(
                    "resolved: {} {} [{}] at {}",
                    a.title,
                    truncate(&field(&a.subject), 100),
                    market(&a.marketplace),
                    local_time(a.since, tz)
                ),
            )
        })
        .collect();
    improved.extend(d.improved_kpis.iter().map(|k| {
        (
            Some(RESOLVED_COLOUR),
            format!(
                "{} in {}: {} → {}",
                k.name,
                truncate(&field(&k.country), SHORT),
                status_word(k.from).to_lowercase(),
                status_word(k.to).to_lowercase()
            ),
        )
    }));
    digest_list(
        &mut html,
        &mut text,
        "What improved this week",
        &improved,
        DIGEST_LIST_MAX,
        "Nothing resolved or improved this week.",
        ".",
    );

    if !d.unavailable.is_empty() {
        let lines: Vec<(Option<&'static str>, String)> = d
            .unavailable
            .iter()
            .map(|u| {
                let rules: Vec<&str> = u.rules.iter().map(|r| r.as_str()).collect();
                (
                    None,
                    format!(
                        "job {} unavailable since {}{}{}",
                        truncate(&field(&u.job), SHORT),
                        local_time(u.since, tz),
                        u.error
                            .as_deref()
                            .map(|e| format!(": {}", truncate(&field(e), 160)))
                            .unwrap_or_default(),
                        if rules.is_empty() {
                            String::new()
                        } else {
                            format!("; rules without data: {}", rules.join(", "))
                        }
                    ),
                )
            })
            .collect();
        digest_list(
            &mut html,
            &mut text,
            "Data unavailable (missing roles)",
            &lines,
            DIGEST_LIST_MAX,
            "",
            ": run flywheel doctor.",
        );
        let hint = "Grant the role in Seller Central (Apps and Services > Develop Apps), then run flywheel doctor.";
        html.push_str(&html_paragraph(hint, "font-size:13px;color:#57606a;"));
        let _ = writeln!(text, "  {hint}");
    }

    // The daemon is alive.
    let alive = alive_line(d);
    html.push_str(&html_section("flywheel"));
    html.push_str(&html_paragraph(&alive, "font-size:13px;"));
    let _ = writeln!(text, "\n{alive}");

    let footer = vec![format!(
        "Sent by flywheel at {} ({}). flywheel kpis prints the checklist any day; flywheel alerts lists every alert.",
        local_time(d.generated_at, tz),
        truncate(&one_line(tz), SHORT)
    )];
    html.push_str(&html_footer(&footer));
    html.push_str(html_close());
    let _ = writeln!(text, "\n--\n{}", footer[0]);
    Rendered {
        subject,
        text,
        html,
        attachments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use serde_json::json;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap()
    }

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

    fn series(n: usize) -> Series {
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

    fn email(items: Vec<Item>) -> AlertEmail {
        AlertEmail {
            account: "acme-us".into(),
            at: at(),
            timezone: "America/Los_Angeles".into(),
            items,
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
        let long = alert_email(&email(
            (0..6)
                .map(|i| wasted(&format!("term {i} {}", "x".repeat(60))))
                .collect(),
        ));
        assert_eq!(long.subject.chars().count(), SUBJECT_MAX);
        assert!(long.subject.ends_with('…'));
        // Non-ASCII passes (the transport encodes it) and cuts on a char boundary.
        let jp = alert_email(&email(vec![wasted(&"水筒".repeat(100))]));
        assert!(jp.subject.contains("水筒水…\""), "{}", jp.subject);
        let jp = alert_email(&email(
            (0..5)
                .map(|i| wasted(&format!("{i}{}", "水筒".repeat(30))))
                .collect(),
        ));
        assert_eq!(jp.subject.chars().count(), SUBJECT_MAX);
        assert!(jp.subject.ends_with('…'));
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

    #[test]
    fn a_huge_digest_stays_under_the_budget() {
        use crate::alert::digest::*;
        let long = "<&>".repeat(300);
        let line = |i: usize| AlertLine {
            fingerprint: format!("{i:016x}"),
            rule: RuleId::WastedSpend,
            title: "wasted ad spend",
            severity: Severity::Warning,
            marketplace: Some("ATVPDKIKX0DER".into()),
            subject: long.clone(),
            summary: long.clone(),
            since: at(),
        };
        let row = |k: &str| KpiLine {
            kpi: k.into(),
            name: "Some KPI with a name",
            unit: "%",
            value: Some(12.5),
            label: Some(long.clone()),
            target: long.clone(),
            status: Status::Warning,
            colour: status_colour(Status::Warning),
            change: Some(-1.5),
            previous_status: Some(Status::Critical),
            note: Some(long.clone()),
            trend: Series {
                label: long.clone(),
                ..series(8)
            },
        };
        let d = DigestModel {
            account: long.clone(),
            generated_at: at(),
            timezone: "Europe/Paris".into(),
            marketplaces: (0..12)
                .map(|i| MarketplaceKpis {
                    marketplace_id: format!("M{i}"),
                    country: long.clone(),
                    at: at().date_naive(),
                    rows: crate::kpis::KPIS.iter().map(|k| row(k)).collect(),
                })
                .collect(),
            open_alerts: (0..500).map(line).collect(),
            resolved: (0..200).map(line).collect(),
            improved_kpis: (0..100)
                .map(|_| Improved {
                    kpi: "tacos".into(),
                    name: "TACoS",
                    country: long.clone(),
                    from: Status::Critical,
                    to: Status::Ok,
                })
                .collect(),
            unavailable: (0..14)
                .map(|_| Unavailable {
                    job: long.clone(),
                    since: at(),
                    error: Some(long.clone()),
                    rules: RuleId::ALL.to_vec(),
                })
                .collect(),
            alive: Alive::default(),
        };
        let r = digest(&d);
        assert!(r.html.len() < HTML_MAX, "{} bytes", r.html.len());
        assert!(!r.html.contains("<&>"));
        assert_eq!(r.html.matches("cid:").count(), r.attachments.len());
        assert!(
            r.text.contains("did not fit: run flywheel kpis."),
            "{}",
            r.text
        );
        assert!(r.text.contains("more: run flywheel alerts."));
        assert!(r
            .text
            .contains("flywheel has not synced in the last 7 days"));
    }

    #[test]
    fn formatting_helpers() {
        let cases = [
            (0.0, "0"),
            (12.0, "12"),
            (7.126, "7.13"),
            (41.83, "41.8"),
            (12345.6, "12346"),
            (-4.2, "-4.2"),
            (-0.001, "0"),
        ];
        for (x, want) in cases {
            assert_eq!(fmt_num(x), want, "{x}");
        }
        assert_eq!(one_line(" a\r\n\tb  c \u{7}"), "a b c");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(esc("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(shell_word("SKU-1"), "SKU-1");
        assert_eq!(shell_word("it's; rm"), "'it'\\''s; rm'");
        for r in RuleId::ALL {
            assert!(!rule_title(*r).is_empty());
        }
    }
}
