//! An alert email: one account, one evaluation round (DESIGN §5.1).
//!
//! It reads top down the way a seller on a phone needs it:
//! 1. the flywheel's three links, each with its state, as a strip;
//! 2. "Do first": at most [`DO_FIRST_MAX`] actions, one line each, most
//!    urgent first, each naming the product and linking where to act;
//! 3. per marketplace (when the account sells in several), per link, one
//!    card per subject with something new: its name, the headline (the
//!    diagnosis when growth stalled), each finding's phrase and evidence,
//!    one chart, what to check first, and the places to act;
//! 4. what is still firing, one line each; what resolved, one line each.
//!
//! Cards are shown in full while the HTML stays under a budget, then one
//! line per finding, then counted, so the HTML stays under
//! [`HTML_MAX`](super::HTML_MAX) however many alerts a round produced; the
//! text part says the same, with the links written out.

use std::fmt::Write as _;

use super::alert_item::{
    action, chart_words, diagnosis_checks, diagnosis_headline, evidence_rows, finding_title,
    is_out_of_stock, key_number, kind_words, market_of, no_chart_note, phrase, DIAGNOSIS_STATES,
};
use super::cards::{cards, do_first, Card, Place, Who, NAME_MAX, NAME_SHORT};
use super::chart::{self, CHART};
use super::layout::{
    button_html, close_parts, esc, field, html_heading, html_note, html_paragraph, html_section,
    link_html, link_title, one_line, open_parts, severity_colour, short_id, strip, subject_line,
    truncate, when, when_short, BORDER, CARD_BG, MUTED, RESOLVED_COLOUR,
};
use crate::alert::{AlertEmail, Item, ItemKind, Rendered};
use crate::config::{Link, Severity};
use crate::i18n::{self, format as fmt, tr, tr_args, Lang};
use crate::model::marketplace::Marketplace;
use crate::model::rule::link_rank;

/// At most this many cards are shown in full (with evidence and chart).
pub const MAX_DETAILED: usize = 50;
/// The Do-first list has at most this many lines.
pub const DO_FIRST_MAX: usize = 5;
/// Full cards stop once the HTML reaches this size...
const DETAIL_BUDGET: usize = 70_000;
/// ...and one-line items once it reaches this one; the rest are counted.
const LINE_BUDGET: usize = 92_000;
/// Subjects name at most this many problems.
const SUBJECT_PROBLEMS: usize = 3;

/// "2 critical, 3 warnings" (zero counts left out).
pub(super) fn counts(lang: Lang, items: &[&Item]) -> String {
    let n = |s: Severity| items.iter().filter(|i| i.severity == s).count();
    [
        (n(Severity::Critical), "count-critical"),
        (n(Severity::Warning), "count-warning"),
        (n(Severity::Info), "count-info"),
    ]
    .iter()
    .filter(|(c, _)| *c > 0)
    .map(|(c, id)| {
        tr_args(
            lang,
            id,
            &[("n", fmt::count(*c as f64).into()), ("count", (*c).into())],
        )
    })
    .collect::<Vec<_>>()
    .join(&tr(lang, "list-separator"))
}

pub(super) fn is_active(i: &Item) -> bool {
    i.kind != ItemKind::Resolved
}

/// The item in a few words for the subject line: the rule, the product
/// or campaign it is about, its key number.
fn problem(
    lang: Lang,
    card: &Card<'_>,
    item: &Item,
    names: &crate::alert::Names,
    multi_market: bool,
) -> String {
    let mut parts = vec![i18n::rule_title(lang, item.rule)];
    match &card.who {
        Who::Market { .. } => {}
        _ => parts.push(card.name(lang, names, NAME_SHORT)),
    }
    // An account in several marketplaces: which one (the same product out
    // of stock in the UK and in Germany is two problems).
    if multi_market {
        match lang {
            Lang::En => parts.push(format!("({})", card.mkt.country)),
            Lang::ZhCn => {
                let tag = format!("（{}）", i18n::marketplace_name(lang, card.mkt));
                if let Some(last) = parts.last_mut() {
                    last.push_str(&tag);
                }
            }
        }
    }
    if let Some(t) = item.key("search_term") {
        parts.push(super::layout::quoted(lang, &truncate(t, 40)));
    }
    if let Some(n) = key_number(lang, item) {
        parts.push(n);
    }
    one_line(&parts.join(" "))
}

/// The subject (DESIGN §5): counts, then the most urgent problems, new
/// ones first.
fn alert_subject(email: &AlertEmail, cards: &[Card<'_>]) -> String {
    let lang = email.lang;
    let active: Vec<&Item> = email.items.iter().filter(|i| is_active(i)).collect();
    let resolved: Vec<&Item> = email.items.iter().filter(|i| !is_active(i)).collect();
    let multi_market = names_markets(email, &markets(cards));
    // Every item with its card, most urgent first, new before repeats.
    let mut ranked: Vec<(&Card<'_>, &Item)> = cards
        .iter()
        .flat_map(|c| c.items.iter().map(move |i| (c, *i)))
        .collect();
    ranked.sort_by(|a, b| {
        (!a.1.is_news())
            .cmp(&!b.1.is_news())
            .then(super::cards::urgency(a.1, b.1))
    });
    let top = |resolved: bool| {
        ranked
            .iter()
            .filter(|(_, i)| is_active(i) != resolved)
            .take(SUBJECT_PROBLEMS)
            .map(|(c, i)| problem(lang, c, i, &email.names, multi_market))
            .collect::<Vec<_>>()
            .join(&tr(lang, "list-separator"))
    };
    let account = one_line(&email.account);
    let colon = tr(lang, "subject-colon");
    let s = if !active.is_empty() {
        let mut head = counts(lang, &active);
        if !resolved.is_empty() {
            head.push_str(&tr(lang, "list-separator"));
            head.push_str(&tr_args(
                lang,
                "count-resolved",
                &[("n", fmt::count(resolved.len() as f64).into())],
            ));
        }
        if !active.iter().any(|i| i.is_news()) {
            head = tr_args(lang, "subject-still-firing", &[("counts", head.into())]);
        }
        format!("[flywheel] {account}{colon}{head}{colon}{}", top(false))
    } else if !resolved.is_empty() {
        format!(
            "[flywheel] {account}{colon}{}{colon}{}",
            tr(lang, "subject-resolved"),
            top(true)
        )
    } else {
        format!(
            "[flywheel] {account}{colon}{}",
            tr(lang, "subject-no-alerts")
        )
    };
    subject_line(&s)
}

fn content_id(n: usize) -> String {
    format!("chart-{n}@flywheel")
}

/// "≈$182.00/day at stake (9.5% of daily sales)".
fn stake_text(lang: Lang, card: &Card<'_>) -> Option<String> {
    let s = card
        .items
        .iter()
        .filter(|i| is_active(i))
        .filter_map(|i| i.stake.as_ref())
        .max_by(|a, b| {
            a.share_of_sales
                .unwrap_or(0.0)
                .partial_cmp(&b.share_of_sales.unwrap_or(0.0))
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
    if !(s.per_day.is_finite() && s.per_day > 0.0) {
        return None;
    }
    let amount = fmt::money(lang, s.per_day, &s.currency);
    Some(match s.share_of_sales.filter(|x| x.is_finite()) {
        Some(share) => tr_args(
            lang,
            "stake-share",
            &[
                ("amount", amount.into()),
                ("share", fmt::percent(share * 100.0).into()),
            ],
        ),
        None => tr_args(lang, "stake-per-day", &[("amount", amount.into())]),
    })
}

/// The card's headline: the diagnosis when growth stalled, else its
/// headline finding's phrase.
fn headline(lang: Lang, card: &Card<'_>) -> String {
    let out = card.items.iter().any(|i| is_out_of_stock(i));
    diagnosis_headline(lang, card.headline(), out).unwrap_or_else(|| phrase(lang, card.headline()))
}

/// The Do-first list of an alert email: each card's action, its name,
/// what happened and the money at stake.
fn do_first_block(email: &AlertEmail, all: &[Card<'_>], multi_market: bool) -> (String, String) {
    let lang = email.lang;
    let list = do_first(all, DO_FIRST_MAX);
    do_first_list(lang, &list, &email.names, multi_market, |card| {
        do_first_what(lang, card)
    })
}

/// What a Do-first line says happened to a card, and the money at
/// stake: the phrase of the finding acted on when growth stalled because
/// of it, else the card's headline.
pub(super) fn do_first_what(lang: Lang, card: &Card<'_>) -> (String, Option<String>) {
    let item = card.action_item();
    let what = if card.headline().rule == crate::config::RuleId::GrowthStall
        && item.rule != crate::config::RuleId::GrowthStall
    {
        phrase(lang, item)
    } else {
        headline(lang, card)
    };
    (what, stake_text(lang, card))
}

/// A Do-first list (HTML rows and text lines), one line per card: its
/// severity, the action, its name, `what` says (what happened, money at
/// stake), and the page where the seller acts. Shared with the digest.
pub(super) fn do_first_list(
    lang: Lang,
    list: &[&Card<'_>],
    names: &crate::alert::Names,
    multi_market: bool,
    what: impl Fn(&Card<'_>) -> (String, Option<String>),
) -> (String, String) {
    if list.is_empty() {
        return (String::new(), String::new());
    }
    let title = tr(lang, "do-first");
    let mut html = format!(
        "<tr><td style=\"padding:6px 14px 2px 14px;font-size:16px;font-weight:bold;\">{}</td></tr>\n\
         <tr><td style=\"padding:0 14px 6px 14px;\"><ol data-do-first=\"\" style=\"margin:0;padding-left:22px;\">",
        esc(&title)
    );
    let mut text = format!("\n{title}\n");
    for (n, card) in list.iter().enumerate() {
        let item = card.action_item();
        let colour = severity_colour(card.severity());
        let tag = i18n::severity_tag(lang, card.severity());
        let act = action(lang, item.rule);
        let mut name = card.name(lang, names, NAME_SHORT);
        if multi_market {
            name = format!("{name} ({})", i18n::marketplace_name(lang, card.mkt));
        }
        let (what, stake) = what(card);
        let place = card.do_place(lang);
        let _ = write!(
            html,
            "<li style=\"margin:0 0 6px 0;\"><span style=\"font-size:11px;font-weight:bold;color:{colour};\">{}</span> \
             <b>{}</b> &middot; {} &mdash; {}{}{}</li>",
            esc(&tag),
            esc(&act),
            esc(&name),
            esc(&what),
            stake
                .as_deref()
                .map(|s| format!(" <span style=\"color:{MUTED};\">({})</span>", esc(s)))
                .unwrap_or_default(),
            place
                .as_ref()
                .map(|p| format!(" &rarr; {}", link_html(&p.url, &p.label)))
                .unwrap_or_default(),
        );
        let _ = writeln!(
            text,
            "{}. [{tag}] {act}: {name} - {what}{}",
            n + 1,
            stake.map(|s| format!(" ({s})")).unwrap_or_default()
        );
        if let Some(p) = place {
            let _ = writeln!(text, "   {}: {}", p.label, p.url);
        }
    }
    html.push_str("</ol></td></tr>\n");
    (html, text)
}

/// Evidence rows as running text that reflows on any width.
fn rows_html(rows: &[(String, String)]) -> String {
    rows.iter()
        .map(|(k, v)| {
            format!(
                "<span style=\"color:{MUTED};\">{}</span> <b>{}</b>",
                esc(k),
                esc(v)
            )
        })
        .collect::<Vec<_>>()
        .join(" &middot; ")
}

fn rows_text(lang: Lang, rows: &[(String, String)]) -> String {
    let colon = tr(lang, "colon");
    rows.iter()
        .map(|(k, v)| format!("{k}{colon}{v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A card in full: HTML, text, and the chart it draws (series, cid).
fn card_full<'a>(
    email: &'a AlertEmail,
    card: &Card<'a>,
    cid: &str,
    multi_market: bool,
) -> (
    String,
    String,
    Option<&'a crate::alert::Series>,
    Option<&'a Item>,
) {
    let lang = email.lang;
    let colon = tr(lang, "colon");
    let tz = card.mkt.tz;
    let colour = severity_colour(card.severity());
    let name = card.name(lang, &email.names, NAME_MAX);
    let mut ids = card.ids(&email.names);
    if multi_market {
        let m = i18n::marketplace_name(lang, card.mkt);
        ids = if ids.is_empty() {
            m
        } else {
            format!("{ids} · {m}")
        };
    }
    let tag = format!(
        "{} · {}",
        i18n::severity_tag(lang, card.severity()),
        if card.items.iter().any(|i| i.kind == ItemKind::Firing) {
            tr(lang, "kind-new")
        } else if card.is_new() {
            tr(lang, "kind-worse")
        } else {
            tr(lang, "kind-still-firing")
        }
    );
    let head = headline(lang, card);
    let mut b = String::new();
    let mut t = String::new();
    let _ = write!(
        b,
        "<div style=\"font-size:11px;font-weight:bold;color:{colour};\">{}</div>\
         <div style=\"font-size:16px;font-weight:bold;\">{}</div>",
        esc(&tag),
        esc(&name)
    );
    let _ = writeln!(
        t,
        "\n[{tag}] {name}{}",
        if ids.is_empty() {
            String::new()
        } else {
            format!(" ({ids})")
        }
    );
    if !ids.is_empty() {
        let _ = write!(
            b,
            "<div style=\"font-size:12px;color:{MUTED};\">{}</div>",
            esc(&ids)
        );
    }
    let _ = write!(
        b,
        "<div style=\"margin-top:6px;font-size:15px;\">{}</div>",
        esc(&head)
    );
    let _ = writeln!(t, "  {head}");
    if let Some(s) = stake_text(lang, card) {
        let _ = write!(
            b,
            "<div style=\"font-size:13px;color:{};\">{}</div>",
            severity_colour(Severity::Critical),
            esc(&s)
        );
        let _ = writeln!(t, "  {s}");
    }
    // Each finding: its title and state, its phrase unless the headline
    // said it, its evidence less what the card already stated.
    let mut shown: Vec<(String, String)> = Vec::new();
    let diagnosis = card.headline().rule == crate::config::RuleId::GrowthStall;
    let rules: Vec<_> = card.items.iter().map(|i| i.rule).collect();
    for (n, item) in card.items.iter().enumerate() {
        let mut title = finding_title(lang, item);
        if item.kind != ItemKind::Firing {
            let since = when_short(lang, item.since, tz);
            title = format!("{title} · {}", kind_words(lang, item, &since));
        }
        let said = if n == 0 {
            None
        } else {
            Some(phrase(lang, item))
        };
        let mut rows = evidence_rows(lang, item);
        if diagnosis && item.rule == crate::config::RuleId::GrowthStall {
            let keep: Vec<String> = item
                .evidence
                .iter()
                .filter(|(k, _)| DIAGNOSIS_STATES.contains(&k.as_str()))
                .map(|(k, v)| {
                    crate::i18n::evidence::format_evidence(lang, item.rule, k, v, market_of(item)).0
                })
                .collect();
            rows.retain(|(k, _)| !keep.contains(k));
        }
        rows.retain(|r| !shown.contains(r));
        shown.extend(rows.iter().cloned());
        let _ = write!(
            b,
            "<div style=\"margin-top:8px;border-top:1px solid {BORDER};padding-top:6px;\">\
             <b>{}</b>{}</div>",
            esc(&title),
            said.as_deref()
                .map(|p| format!("{colon}{}", esc(p)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            t,
            "  - {title}{}",
            said.map(|p| format!("{colon}{p}")).unwrap_or_default()
        );
        if !rows.is_empty() {
            let _ = write!(
                b,
                "<div style=\"font-size:13px;\">{}</div>",
                rows_html(&rows)
            );
            let _ = writeln!(t, "    {}", rows_text(lang, &rows));
        }
        if diagnosis && item.rule == crate::config::RuleId::GrowthStall {
            for (check, rows) in diagnosis_checks(lang, item, &rules) {
                let rows: Vec<_> = rows.into_iter().filter(|r| !shown.contains(r)).collect();
                if rows.is_empty() {
                    continue;
                }
                shown.extend(rows.iter().cloned());
                let _ = write!(
                    b,
                    "<div style=\"font-size:13px;\">{}{colon}{}</div>",
                    esc(&check),
                    rows_html(&rows)
                );
                let _ = writeln!(t, "    {check}{colon}{}", rows_text(lang, &rows));
            }
        }
    }
    // One chart: the headline's metric, else the first finding's that has
    // enough history; else say when the history starts.
    let charted = card
        .items
        .iter()
        .find(|i| i.series.as_ref().is_some_and(chart::is_drawable));
    let mut chart_series = None;
    if let Some(item) = charted {
        let s = item.series.as_ref().expect("found with a series");
        if let Some(w) = chart_words(lang, item, s) {
            b.push_str(&chart::html_chart(cid, CHART, &w));
            let _ = writeln!(
                t,
                "  {}: {} · {}{}",
                w.label,
                w.current,
                w.range,
                w.threshold.map(|x| format!(" · {x}")).unwrap_or_default()
            );
            chart_series = Some(s);
        }
    } else if let Some((item, s)) = card
        .items
        .iter()
        .find_map(|i| i.series.as_ref().map(|s| (*i, s)))
    {
        let note = no_chart_note(lang, item, s);
        let _ = write!(
            b,
            "<div style=\"margin-top:6px;font-size:12px;color:{MUTED};\">{}</div>",
            esc(&note)
        );
        let _ = writeln!(t, "  {note}");
    }
    if card.items.iter().any(|i| is_active(i)) {
        let check = i18n::check_first(lang, card.action_item().rule);
        let _ = write!(
            b,
            "<div style=\"margin-top:8px;\"><b>{}{colon}</b>{}</div>",
            esc(&tr(lang, "what-to-check-first")),
            esc(&check)
        );
        let _ = writeln!(t, "  {}{colon}{check}", tr(lang, "what-to-check-first"));
    }
    let places: Vec<Place> = card.places(lang);
    if !places.is_empty() {
        b.push_str("<div style=\"margin-top:4px;\">");
        for p in &places {
            b.push_str(&button_html(&p.url, &p.label));
            let _ = writeln!(t, "  {}: {}", p.label, p.url);
        }
        b.push_str("</div>");
    }
    let ack_ids: Vec<String> = card
        .items
        .iter()
        .filter(|i| is_active(i))
        .map(|i| short_id(&i.fingerprint))
        .collect();
    if !ack_ids.is_empty() {
        let line = tr_args(lang, "ack-line", &[("ids", ack_ids.join(" ").into())]);
        let _ = write!(
            b,
            "<div style=\"margin-top:6px;font-size:12px;color:{MUTED};\">{}</div>",
            esc(&line)
        );
        let _ = writeln!(t, "  {line}");
    }
    let html = format!(
        "<tr><td style=\"padding:6px 10px;\"><table role=\"presentation\" width=\"100%\" \
         cellpadding=\"0\" cellspacing=\"0\" border=\"0\" bgcolor=\"{CARD_BG}\" data-card=\"{}\" \
         style=\"border:1px solid {BORDER};background:{CARD_BG};\">\
         <tr><td width=\"4\" bgcolor=\"{colour}\" style=\"width:4px;background:{colour};\"></td>\
         <td style=\"padding:10px 12px;\">{b}</td></tr></table></td></tr>\n",
        esc(&card.key())
    );
    (html, t, chart_series, charted.copied())
}

/// One finding as one line: "■ Silicone Spatula Set of 3 — stockout risk:
/// out of stock · still firing since … (ack 1a2b3c4d)".
fn item_line(email: &AlertEmail, card: &Card<'_>, item: &Item, multi: bool) -> (String, String) {
    let lang = email.lang;
    let colour = if item.kind == ItemKind::Resolved {
        RESOLVED_COLOUR
    } else {
        severity_colour(item.severity)
    };
    let mut name = card.name(lang, &email.names, NAME_SHORT);
    if multi {
        name = format!("{name} ({})", i18n::marketplace_name(lang, card.mkt));
    }
    let since = when_short(lang, item.since, card.mkt.tz);
    let tail = match item.kind {
        ItemKind::Resolved => kind_words(lang, item, &since),
        _ => format!(
            "{} {}",
            kind_words(lang, item, &since),
            tr_args(
                lang,
                "ack-tail",
                &[("id", short_id(&item.fingerprint).into())]
            )
        ),
    };
    let what = format!(
        "{}{}{}",
        finding_title(lang, item),
        tr(lang, "colon"),
        phrase(lang, item)
    );
    let html = format!(
        "<tr><td style=\"padding:3px 14px;font-size:13px;\"><span style=\"color:{colour};\">&#9632;</span> \
         <b>{}</b> &mdash; {} <span style=\"color:{MUTED};\">&middot; {}</span></td></tr>\n",
        esc(&name),
        esc(&what),
        esc(&tail)
    );
    let text = format!("- {name} - {what} · {tail}\n");
    (html, text)
}

/// The marketplaces of the cards, in the order first seen.
/// Whether `email` names each problem's marketplace: its account sells in
/// several (the same product sells in each), or its cards (`markets`) span
/// several.
pub(super) fn names_markets(email: &AlertEmail, markets: &[&'static Marketplace]) -> bool {
    email.marketplaces > 1 || markets.len() > 1
}

pub(super) fn markets(all: &[Card<'_>]) -> Vec<&'static Marketplace> {
    all.iter().fold(Vec::new(), |mut v, c| {
        if !v.iter().any(|m: &&Marketplace| m.id == c.mkt.id) {
            v.push(c.mkt);
        }
        v
    })
}

/// "United States · as of Mar 2, 2026 03:00 PST": times in the
/// marketplace's zone; an account selling in several marketplaces reads
/// them in the daemon's.
pub(super) fn as_of(email: &AlertEmail, markets: &[&'static Marketplace]) -> String {
    let lang = email.lang;
    let (place, tz) = match markets {
        [m] => (Some(i18n::marketplace_name(lang, m)), m.tz),
        _ => (None, email.timezone),
    };
    let at = when(lang, email.at, tz);
    match place {
        Some(p) => tr_args(
            lang,
            "email-as-of",
            &[("marketplace", p.into()), ("time", at.into())],
        ),
        None => tr_args(lang, "email-as-of-many", &[("time", at.into())]),
    }
}

/// Renders one alert email: subject, text, HTML and the chart PNGs of the
/// cards shown in full.
pub fn alert_email(email: &AlertEmail) -> Rendered {
    let lang = email.lang;
    let all = cards(email);
    let subject = alert_subject(email, &all);
    let markets = markets(&all);
    let multi = names_markets(email, &markets);
    let sub = as_of(email, &markets);
    let title = tr_args(
        lang,
        "email-title",
        &[("account", truncate(&field(&email.account), 60).into())],
    );
    let (mut html, mut text) = open_parts(lang, &subject, &title, &sub);
    let footer = alert_footer(email);
    let reserve =
        super::layout::html_footer(&footer).len() + super::layout::html_close().len() + 800;

    let active = email.items.iter().any(is_active);
    if active || !email.open.is_empty() {
        let (h, t) = strip(lang, &email.open);
        html.push_str(&h);
        text.push_str(&t);
    }
    let (h, t) = do_first_block(email, &all, multi);
    html.push_str(&h);
    text.push_str(&t);

    // New cards in full, by marketplace and link; the rest one line each.
    let mut attachments = Vec::new();
    let mut detailed = 0;
    let mut lines = 0;
    let mut omitted = 0;
    let mut full_mode = true;
    let mut later: Vec<(&Card<'_>, &Item)> = Vec::new();
    for m in &markets {
        let mut links: Vec<Link> = all
            .iter()
            .filter(|c| c.mkt.id == m.id && c.is_new())
            .map(|c| c.link())
            .collect();
        links.sort_by_key(|l| link_rank(*l));
        links.dedup();
        if multi && !links.is_empty() {
            html.push_str(&html_heading(&i18n::marketplace_name(lang, m)));
            let _ = writeln!(text, "\n##### {} #####", i18n::marketplace_name(lang, m));
        }
        for link in links {
            let title = link_title(lang, link);
            html.push_str(&html_section(&title));
            let _ = writeln!(text, "\n== {title} ==");
            for card in all
                .iter()
                .filter(|c| c.mkt.id == m.id && c.is_new() && c.link() == link)
            {
                let n = detailed + 1;
                if full_mode && detailed < MAX_DETAILED {
                    let cid = content_id(n);
                    let (frag, t, series, _) = card_full(email, card, &cid, multi);
                    if html.len() + frag.len() + reserve <= DETAIL_BUDGET {
                        html.push_str(&frag);
                        text.push_str(&t);
                        if let Some(s) = series {
                            attachments.push(chart::attachment(
                                s,
                                CHART,
                                format!("chart-{n}.png"),
                                cid,
                            ));
                        }
                        detailed += 1;
                        continue;
                    }
                    full_mode = false;
                }
                for item in &card.items {
                    let (h, t) = item_line(email, card, item, multi);
                    if html.len() + h.len() + reserve <= LINE_BUDGET {
                        html.push_str(&h);
                        text.push_str(&t);
                        lines += 1;
                    } else {
                        omitted += 1;
                    }
                }
            }
        }
    }
    for card in all.iter().filter(|c| !c.is_new()) {
        for item in &card.items {
            later.push((card, item));
        }
    }
    for (kind_resolved, heading) in [(false, "still-firing-heading"), (true, "resolved-heading")] {
        let group: Vec<&(&Card<'_>, &Item)> = later
            .iter()
            .filter(|(_, i)| (i.kind == ItemKind::Resolved) == kind_resolved)
            .collect();
        if group.is_empty() {
            continue;
        }
        let title = tr_args(lang, heading, &[("n", group.len().to_string().into())]);
        html.push_str(&html_section(&title));
        let _ = writeln!(text, "\n== {title} ==");
        for (card, item) in group {
            let (h, t) = item_line(email, card, item, multi);
            if html.len() + h.len() + reserve <= LINE_BUDGET {
                html.push_str(&h);
                text.push_str(&t);
            } else {
                omitted += 1;
            }
        }
    }
    if lines > 0 || omitted > 0 {
        let note = if omitted > 0 {
            tr_args(
                lang,
                "omitted-note",
                &[("n", omitted.to_string().into()), ("count", omitted.into())],
            )
        } else {
            tr(lang, "one-line-note")
        };
        html.push_str(&html_note(&note));
        let _ = writeln!(text, "\n{note}");
    }
    if email.items.is_empty() {
        html.push_str(&html_paragraph(&tr(lang, "no-alerts"), ""));
        let _ = writeln!(text, "\n{}", tr(lang, "no-alerts"));
    }
    close_parts(subject, html, text, &footer, attachments)
}

fn alert_footer(email: &AlertEmail) -> Vec<String> {
    let lang = email.lang;
    vec![
        tr(lang, "footer-acknowledge"),
        tr(lang, "footer-silence"),
        tr_args(
            lang,
            "footer-sent",
            &[
                ("time", when(lang, email.at, email.timezone).into()),
                ("zone", email.timezone.name().into()),
            ],
        ),
    ]
}

#[cfg(test)]
#[path = "alert_email_tests.rs"]
mod tests;
