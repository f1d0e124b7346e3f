//! How one alert reads in an alert email: in a few words for the subject
//! line; in full (headline, value against threshold, window, evidence,
//! what to check first, diagnosis, trend, and the commands that acknowledge
//! or silence it) as a text block and an HTML card; or as one line each when
//! the email has run out of room.

use std::fmt::Write as _;

use serde_json::Value;

use super::chart::{self, CHART};
use super::layout::{
    country, esc, field, fmt_num, local_time, one_line, rule_title, sev_upper, severity_colour,
    short_id, truncate, MUTED, RESOLVED_COLOUR,
};
use crate::alert::{Item, ItemKind};
use crate::config::RuleId;

/// Evidence lines shown per item (the rest are counted).
const EVIDENCE_MAX: usize = 16;

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

/// The item in a few words for the subject line: the rule, whom it is
/// about, its key number.
pub(super) fn problem(item: &Item, with_market: bool) -> String {
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

/// The plain-text block of one item shown in full.
pub(super) fn item_text(item: &Item, tz: &str) -> String {
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
        let _ = writeln!(t, "  Trend, {}: {}", field(&s.label), chart::stats_text(s));
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

/// How a one-line item ends: "(resolved)", or the id that acknowledges it.
fn line_tail(item: &Item) -> String {
    if item.kind == ItemKind::Resolved {
        "(resolved)".to_string()
    } else {
        format!("(ack {})", short_id(&item.fingerprint))
    }
}

pub(super) fn item_line_text(item: &Item) -> String {
    format!(
        "- {} {}: {} {} {}\n",
        sev_upper(item.severity),
        rule_title(item.rule),
        who(item),
        truncate(&field(&item.summary), 120),
        line_tail(item)
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
pub(super) fn item_html(item: &Item, tz: &str, cid: Option<&str>) -> String {
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
        (Some(s), Some(cid)) => b.push_str(&chart::html_chart(s, cid, CHART)),
        (Some(s), None) => {
            let _ = write!(
                b,
                "<div style=\"margin-top:6px;font-size:12px;color:{MUTED};\">Trend, {}: {}</div>",
                esc(&field(&s.label)),
                esc(&chart::stats_text(s))
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

pub(super) fn item_line_html(item: &Item) -> String {
    let colour = item_colour(item);
    format!(
        "<tr><td style=\"padding:2px 20px;font-size:13px;\"><span style=\"color:{colour};\">&#9632;</span> \
         <b>{}</b> {}: {} {} <span style=\"color:{MUTED};\">{}</span></td></tr>\n",
        sev_upper(item.severity),
        esc(rule_title(item.rule)),
        esc(&who(item)),
        esc(&truncate(&field(&item.summary), 120)),
        esc(&line_tail(item))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_unless_plainly_safe() {
        assert_eq!(shell_word("SKU-1"), "SKU-1");
        assert_eq!(shell_word("it's; rm"), "'it'\\''s; rm'");
    }
}
