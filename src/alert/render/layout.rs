//! What the alert email and the digest share: the limits every email
//! keeps, the words (rule names, severities, colours, numbers and times as
//! people read them), the one-line and escaping rules every string from
//! outside passes through, and the HTML frame (tables for layout, inline
//! styles only).
//!
//! The bottom of `render`: it imports no other part of it.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::alert::{Attachment, Rendered};
use crate::config::{RuleId, Severity};
use crate::kpis::Status;
use crate::model::marketplace;

/// Longest subject, in characters (an ellipsis marks a cut).
pub const SUBJECT_MAX: usize = 150;
/// The HTML part never reaches this many bytes.
pub const HTML_MAX: usize = 100_000;
/// Per-field cap, in characters, so one huge value cannot eat the budget.
const FIELD_MAX: usize = 400;

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
pub(super) fn field(s: &str) -> String {
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
pub(super) fn country(marketplace_id: &str) -> String {
    marketplace::lookup(marketplace_id)
        .map(|m| m.country.to_string())
        .unwrap_or_else(|| marketplace_id.to_string())
}

pub(super) fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#c62828",
        Severity::Warning => "#e65100",
        Severity::Info => "#607d8b",
    }
}

pub(super) const RESOLVED_COLOUR: &str = "#2e7d32";

/// The colour of a KPI status in the digest.
pub fn status_colour(s: Status) -> &'static str {
    match s {
        Status::Ok => "#2e7d32",
        Status::Warning => "#e65100",
        Status::Critical => "#c62828",
        Status::NoData => "#8c959f",
    }
}

pub(super) fn sev_upper(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}

pub(super) fn short_id(fingerprint: &str) -> String {
    fingerprint.chars().take(8).collect()
}

// ---- the HTML frame and its blocks (inline styles only) ----

const FONT: &str = "font-family:Arial,Helvetica,sans-serif;";
pub(super) const MUTED: &str = "#57606a";

/// The start of both parts of an email: the HTML up to its header (a title
/// and a line under it), and the text part's first two lines saying the
/// same.
pub(super) fn open_parts(subject: &str, title: &str, sub: &str) -> (String, String) {
    let mut html = html_open(subject);
    html.push_str(&html_header(title, sub));
    (html, format!("{title}\n{sub}\n"))
}

/// The end of both parts: the footer lines (in the text part under a `--`
/// line) and the HTML's closing tags; then the email, with its attachments.
pub(super) fn close_parts(
    subject: String,
    mut html: String,
    mut text: String,
    footer: &[String],
    attachments: Vec<Attachment>,
) -> Rendered {
    html.push_str(&html_footer(footer));
    html.push_str(html_close());
    text.push_str("\n--\n");
    for l in footer {
        let _ = writeln!(text, "{l}");
    }
    Rendered {
        subject,
        text,
        html,
        attachments,
    }
}

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

pub(super) fn html_close() -> &'static str {
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

pub(super) fn html_section(title: &str) -> String {
    format!(
        "<tr><td style=\"padding:16px 20px 4px 20px;font-size:12px;font-weight:bold;\
         letter-spacing:1px;color:{MUTED};\">{}</td></tr>\n",
        esc(&title.to_uppercase())
    )
}

pub(super) fn html_paragraph(text: &str, style: &str) -> String {
    format!(
        "<tr><td style=\"padding:4px 20px;{style}\">{}</td></tr>\n",
        esc(text)
    )
}

/// A muted note between the blocks ("and 3 more", a hint what to run).
pub(super) fn html_note(text: &str) -> String {
    html_paragraph(text, "font-size:13px;color:#57606a;")
}

pub(super) fn html_footer(lines: &[String]) -> String {
    let body: Vec<String> = lines.iter().map(|l| esc(l)).collect();
    format!(
        "<tr><td style=\"padding:14px 20px;background:#f6f8fa;border-top:1px solid #e1e4e8;\
         font-size:12px;color:{MUTED};\">{}</td></tr>\n",
        body.join("<br>")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for r in RuleId::ALL {
            assert!(!rule_title(*r).is_empty());
        }
    }
}
