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
use crate::config::{Link, RuleId, Severity};
use crate::i18n::{self, format as fmt, tr_args, Lang};
use crate::kpis::Status;
use crate::model::{links, marketplace};

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

/// A time as a person reads it in `lang`, in `tz`, labelled with the
/// zone: "Dec 6, 2026 15:53 PST", "2026年12月6日 15:53 PST".
pub(super) fn when(lang: Lang, t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    stamp(t, tz, |d| fmt::date(lang, d))
}

/// A time within the last days, short: "Mar 2 09:04 PST", "3月2日 09:04 PST".
pub(super) fn when_short(lang: Lang, t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    stamp(t, tz, |d| fmt::date_short(lang, d))
}

fn stamp(
    t: DateTime<Utc>,
    tz: chrono_tz::Tz,
    date: impl Fn(chrono::NaiveDate) -> String,
) -> String {
    let l = t.with_timezone(&tz);
    format!("{} {}", date(l.date_naive()), l.format("%H:%M %Z"))
}

/// A name cut to at most `max` characters at a word boundary where one
/// is near the end (a product title keeps its first words whole), with
/// "…" when cut.
pub(super) fn short_name(s: &str, max: usize) -> String {
    let s = one_line(s);
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    let at = cut
        .char_indices()
        .filter(|(_, c)| matches!(c, ' ' | ',' | '-' | '|' | '/' | '(' | '，'))
        .map(|(i, _)| i)
        .next_back()
        .filter(|i| cut[..*i].chars().count() * 10 >= max * 6);
    let head = at.map_or(cut.as_str(), |i| &cut[..i]);
    format!(
        "{}…",
        head.trim_end_matches([' ', ',', '-', '|', '/', '(', '，'])
    )
}

/// A search term as a customer typed it, in the reader's quotes.
pub(super) fn quoted(lang: Lang, s: &str) -> String {
    match lang {
        Lang::En => format!("\"{s}\""),
        Lang::ZhCn => format!("“{s}”"),
    }
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

pub(super) fn short_id(fingerprint: &str) -> String {
    fingerprint.chars().take(8).collect()
}

// ---- the HTML frame and its blocks (inline styles only) ----

const FONT: &str =
    "font-family:Arial,Helvetica,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;";
/// Secondary text: readable on white and, inverted by a dark-mode client,
/// on near-black.
pub(super) const MUTED: &str = "#57606a";
/// The page behind the cards and the cards themselves.
pub(super) const PAGE_BG: &str = "#f0f2f5";
pub(super) const CARD_BG: &str = "#ffffff";
pub(super) const BORDER: &str = "#d0d7de";
/// The widest the content column grows; it shrinks with the screen.
pub(super) const COLUMN_MAX: u32 = 680;
/// Long words (ASINs, SKUs, search terms, URLs) wrap instead of widening
/// the column.
pub(super) const WRAP: &str = "word-break:break-word;overflow-wrap:anywhere;";

/// The start of both parts of an email: the HTML up to its header (a title
/// and a line under it), and the text part's first two lines saying the
/// same.
pub(super) fn open_parts(lang: Lang, subject: &str, title: &str, sub: &str) -> (String, String) {
    let mut html = html_open(lang, subject);
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

/// The document start: a fluid single column (100% wide up to
/// [`COLUMN_MAX`] px, no fixed width anywhere), declared light and dark
/// so a dark-mode client adapts the explicit colours instead of guessing.
fn html_open(lang: Lang, title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <meta name=\"supported-color-schemes\" content=\"light dark\"><title>{}</title></head>\n\
         <body style=\"margin:0;padding:0;background:{PAGE_BG};\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         bgcolor=\"{PAGE_BG}\" style=\"background:{PAGE_BG};\"><tr><td align=\"center\" style=\"padding:8px 4px;\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         bgcolor=\"{CARD_BG}\" style=\"width:100%;max-width:{COLUMN_MAX}px;background:{CARD_BG};\
         border-collapse:collapse;{FONT}font-size:14px;line-height:1.45;color:#1f2328;{WRAP}\">\n",
        lang.as_str(),
        esc(title)
    )
}

pub(super) fn html_close() -> &'static str {
    "</table>\n</td></tr></table>\n</body></html>\n"
}

fn html_header(title: &str, sub: &str) -> String {
    format!(
        "<tr><td style=\"padding:12px 14px 8px 14px;\">\
         <div style=\"font-size:17px;font-weight:bold;\">{}</div>\
         <div style=\"font-size:12px;color:{MUTED};\">{}</div></td></tr>\n",
        esc(title),
        esc(sub)
    )
}

/// A section heading (a link of the flywheel, a marketplace, "still firing").
pub(super) fn html_section(title: &str) -> String {
    format!(
        "<tr><td style=\"padding:14px 14px 4px 14px;font-size:12px;font-weight:bold;\
         letter-spacing:0.5px;color:{MUTED};border-bottom:1px solid {BORDER};\">{}</td></tr>\n",
        esc(&title.to_uppercase())
    )
}

/// A larger heading: one marketplace of an account selling in several.
pub(super) fn html_heading(title: &str) -> String {
    format!(
        "<tr><td style=\"padding:18px 14px 2px 14px;font-size:16px;font-weight:bold;\">{}</td></tr>\n",
        esc(title)
    )
}

pub(super) fn html_paragraph(text: &str, style: &str) -> String {
    format!(
        "<tr><td style=\"padding:4px 14px;{style}\">{}</td></tr>\n",
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
        "<tr><td bgcolor=\"#f6f8fa\" style=\"padding:12px 14px;background:#f6f8fa;border-top:1px solid {BORDER};\
         font-size:12px;color:{MUTED};\">{}</td></tr>\n",
        body.join("<br>")
    )
}

// ---- the summary strip: the flywheel's links and their state ----

/// The flywheel's links in the strip (flywheel itself only when it has
/// something open).
pub(super) const STRIP: [Link; 3] = [Link::Experience, Link::Growth, Link::Leverage];

/// A link's heading: "Link 2: sales growth"; "flywheel itself".
pub(super) fn link_title(lang: Lang, link: Link) -> String {
    let name = i18n::link_name(lang, link);
    match STRIP.iter().position(|l| *l == link) {
        Some(i) => tr_args(
            lang,
            "link-heading",
            &[("n", (i + 1).to_string().into()), ("name", name.into())],
        ),
        None => name,
    }
}

/// The strip's links (flywheel itself only when something of it is
/// open), each with its open critical and warning alerts.
pub(super) fn strip_counts(open: &[(Link, Severity)]) -> Vec<(Link, usize, usize)> {
    let mut links: Vec<Link> = STRIP.to_vec();
    if open.iter().any(|(l, _)| *l == Link::Meta) {
        links.push(Link::Meta);
    }
    links
        .into_iter()
        .map(|link| {
            let n = |s: Severity| open.iter().filter(|(l, x)| *l == link && *x == s).count();
            (link, n(Severity::Critical), n(Severity::Warning))
        })
        .collect()
}

/// The strip: each link with its state, from the account's open alerts.
pub(super) fn strip(lang: Lang, open: &[(Link, Severity)]) -> (String, String) {
    let links = strip_counts(open);
    let width = 100 / links.len();
    let mut html = String::from(
        "<tr><td style=\"padding:4px 10px 8px 10px;\"><table role=\"presentation\" width=\"100%\" \
         cellpadding=\"0\" cellspacing=\"4\" border=\"0\" style=\"table-layout:fixed;\"><tr>",
    );
    let mut text = String::new();
    for (link, crit, warn) in links {
        let state = i18n::link_state(lang, warn, crit);
        let colour = if crit > 0 {
            severity_colour(Severity::Critical)
        } else if warn > 0 {
            severity_colour(Severity::Warning)
        } else {
            RESOLVED_COLOUR
        };
        let _ = write!(
            html,
            "<td width=\"{width}%\" valign=\"top\" bgcolor=\"{CARD_BG}\" style=\"padding:6px 6px;\
             border:1px solid {BORDER};border-top:4px solid {colour};\">\
             <div style=\"font-size:11px;color:{MUTED};\">{}</div>\
             <div style=\"font-size:13px;font-weight:bold;color:{colour};\">{}</div></td>",
            esc(&link_title(lang, link)),
            esc(&state)
        );
        let _ = write!(
            text,
            "{}{}: {state}",
            if text.is_empty() { "" } else { " | " },
            link_title(lang, link)
        );
    }
    html.push_str("</tr></table></td></tr>\n");
    (html, format!("\n{text}\n"))
}

// ---- links: only to Amazon's own hosts, only as model::links built them ----

/// Whether `url` is a plain `https` URL on one of the hosts
/// `model::links` writes for some marketplace.
pub(super) fn is_amazon_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    marketplace::MARKETPLACES.iter().any(|m| {
        let h = links::hosts(m);
        [h.retail, h.seller_central, h.ads_console].contains(&host)
    }) && !url
        .chars()
        .any(|c| c.is_whitespace() || "\"'<>\\".contains(c))
}

/// A link to a page `model::links` built: the URL goes into `href` as it
/// is (it is percent-encoded there); anything else is only its label.
/// Text from Amazon or the seller never reaches this function as a URL.
pub(super) fn link_html(url: &str, label: &str) -> String {
    if !is_amazon_url(url) {
        return esc(label);
    }
    format!(
        "<a href=\"{}\" style=\"color:#0b57d0;text-decoration:underline;\">{}</a>",
        url.replace('&', "&amp;"),
        esc(label)
    )
}

/// A link as a small button (the places a card sends the seller).
pub(super) fn button_html(url: &str, label: &str) -> String {
    if !is_amazon_url(url) {
        return String::new();
    }
    format!(
        "<a href=\"{}\" style=\"display:inline-block;margin:4px 6px 0 0;padding:4px 9px;\
         border:1px solid #0b57d0;border-radius:4px;color:#0b57d0;text-decoration:none;\
         font-size:13px;white-space:nowrap;\">{} &#8599;</a>",
        url.replace('&', "&amp;"),
        esc(label)
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
