//! What a short message says of an alert email: the content a chat
//! robot or a webhook carries (DESIGN §5.1, §5.2), as plain strings and
//! the links `model::links` built, in the email's language and words, no
//! markup. `crate::chat` lays it out per platform within that platform's
//! limits.
//!
//! It says what the email leads with, in the email's order: a title with
//! the counts, the marketplace and time, the flywheel's links with their
//! state, "Do first" (the email's own list), then every alert one line
//! each, grouped new / still firing / resolved, and whose products are
//! concerned (for @-mentions). Nothing is cut here: how many lines fit is
//! the platform's business.

use super::alert_email::{as_of, counts, do_first_what, is_active, markets, DO_FIRST_MAX};
use super::alert_item::{action, finding_title, phrase};
use super::cards::{cards, do_first, Card, Place, Who, NAME_SHORT};
use super::layout::{link_title, one_line, short_id, strip_counts, when, when_short};
use crate::alert::{AlertEmail, Item, ItemKind};
use crate::config::{Link, Severity};
use crate::i18n::{self, format as fmt, tr, tr_args, Lang};

/// How urgent a line reads: what colour or sign a platform gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tone {
    /// Resolved, or a link with nothing open.
    Good,
    Info,
    Warning,
    Critical,
}

impl Tone {
    pub fn of(s: Severity) -> Tone {
        match s {
            Severity::Info => Tone::Info,
            Severity::Warning => Tone::Warning,
            Severity::Critical => Tone::Critical,
        }
    }
}

/// A link of the flywheel and its state: "Link 1: customer experience",
/// "1 critical, 2 warnings".
#[derive(Debug, Clone, PartialEq)]
pub struct LinkState {
    pub title: String,
    pub state: String,
    pub tone: Tone,
}

/// One line of "Do first": "[CRITICAL] Restock: Silicone Spatula Set of 3
/// - out of stock (≈$182.40/day at stake)" and where to act.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub tone: Tone,
    /// "CRITICAL", "严重".
    pub tag: String,
    /// "Restock".
    pub action: String,
    /// The product, campaign or marketplace, short.
    pub name: String,
    /// What happened.
    pub what: String,
    /// "≈$182.40/day at stake (9.5% of daily sales)".
    pub stake: Option<String>,
    pub place: Option<Place>,
}

/// One alert, one line: "Silicone Spatula Set of 3 - stockout risk: out
/// of stock · NEW (ack 1a2b3c4d)".
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    pub item: &'a Item,
    pub tone: Tone,
    /// The card's name (the product, campaign, or marketplace and link).
    pub name: String,
    /// The finding's title: the rule, with its search term.
    pub title: String,
    /// What happened, with its numbers.
    pub phrase: String,
    /// "NEW (ack 1a2b3c4d)", "STILL FIRING since Mar 1 09:04 PST", "RESOLVED at …".
    pub tail: String,
    /// What to check first.
    pub check: String,
    /// Where the seller acts on it.
    pub place: Option<Place>,
    /// Who looks after the product (`products_file`'s owner column).
    pub owner: Option<String>,
}

/// The alerts of one kind under their heading: "New (3)", "Resolved (1)".
#[derive(Debug, Clone, PartialEq)]
pub struct Section<'a> {
    pub title: String,
    pub alerts: Vec<Line<'a>>,
}

/// What a short message says of one alert email.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary<'a> {
    pub lang: Lang,
    pub account: &'a str,
    /// "flywheel · acme-us: 2 critical, 3 warnings"; "flywheel · acme-us:
    /// 2 resolved".
    pub title: String,
    /// "United States · as of Mar 2, 2026 03:00 PST".
    pub as_of: String,
    /// The most urgent tone of what fires; [`Tone::Good`] when all resolved.
    pub tone: Tone,
    /// The flywheel's links and their state (empty when nothing fires).
    pub strip: Vec<LinkState>,
    pub do_first_title: String,
    pub do_first: Vec<Action>,
    /// New, still firing, resolved; empty sections left out.
    pub sections: Vec<Section<'a>>,
    /// The owners of the products of what is new and firing, first seen
    /// first (names as `products_file` writes them).
    pub owners: Vec<String>,
    /// "Sent by flywheel at … (UTC)."
    pub footer: String,
}

impl Summary<'_> {
    /// Every alert line, sections in order.
    pub fn alerts(&self) -> impl Iterator<Item = &Line<'_>> {
        self.sections.iter().flat_map(|s| s.alerts.iter())
    }

    /// Whether nothing in it fires (a resolution only).
    pub fn is_resolution(&self) -> bool {
        self.tone == Tone::Good
    }
}

/// "flywheel · acme-us: 2 critical, 1 resolved"; "still firing: …" when
/// nothing is new; "2 resolved" when nothing fires.
fn title(email: &AlertEmail) -> String {
    let lang = email.lang;
    let active: Vec<&Item> = email.items.iter().filter(|i| is_active(i)).collect();
    let resolved = email.items.len() - active.len();
    let resolved_count = || {
        tr_args(
            lang,
            "count-resolved",
            &[("n", fmt::count(resolved as f64).into())],
        )
    };
    let head = if !active.is_empty() {
        let mut head = counts(lang, &active);
        if resolved > 0 {
            head.push_str(&tr(lang, "list-separator"));
            head.push_str(&resolved_count());
        }
        if !active.iter().any(|i| i.is_news()) {
            head = tr_args(lang, "subject-still-firing", &[("counts", head.into())]);
        }
        head
    } else if resolved > 0 {
        resolved_count()
    } else {
        tr(lang, "subject-no-alerts")
    };
    let name = tr_args(
        lang,
        "email-title",
        &[("account", one_line(&email.account).into())],
    );
    format!("{name}{}{head}", tr(lang, "subject-colon"))
}

/// The flywheel's links and their state, from the account's open alerts.
fn strip(lang: Lang, open: &[(Link, Severity)]) -> Vec<LinkState> {
    strip_counts(open)
        .into_iter()
        .map(|(link, crit, warn)| LinkState {
            title: link_title(lang, link),
            state: i18n::link_state(lang, warn, crit),
            tone: match (crit, warn) {
                (0, 0) => Tone::Good,
                (0, _) => Tone::Warning,
                _ => Tone::Critical,
            },
        })
        .collect()
}

/// "NEW (ack 1a2b3c4d)", "WORSE (ack …)", "STILL FIRING since …", "RESOLVED at …".
fn tail(lang: Lang, card: &Card<'_>, item: &Item) -> String {
    let since = when_short(lang, item.since, card.mkt.tz);
    let ack = || {
        tr_args(
            lang,
            "ack-tail",
            &[("id", short_id(&item.fingerprint).into())],
        )
    };
    match item.kind {
        ItemKind::Firing => format!("{} {}", tr(lang, "kind-new"), ack()),
        ItemKind::Repeat if item.is_worse() => format!("{} {}", tr(lang, "kind-worse"), ack()),
        ItemKind::Repeat => format!(
            "{} {}",
            tr_args(lang, "kind-still-firing-since", &[("since", since.into())]),
            ack()
        ),
        ItemKind::Resolved => tr_args(lang, "kind-resolved-at", &[("at", since.into())]),
    }
}

/// The owner of a card's product: its SKUs' (those its findings name,
/// then those listed under its ASIN), as `products_file` gives them.
fn owner(email: &AlertEmail, card: &Card<'_>) -> Option<String> {
    let Who::Product { asin, skus } = &card.who else {
        return None;
    };
    let names = &email.names;
    let listed = names
        .sku_asin
        .iter()
        .filter(|((m, _), a)| m == card.mkt.id && Some(a.as_str()) == asin.as_deref())
        .map(|((_, sku), _)| sku);
    skus.iter()
        .chain(listed)
        .find_map(|sku| names.owners.get(sku))
        .filter(|o| !o.trim().is_empty())
        .cloned()
}

/// Whether a line of this kind, new or not, belongs in a section.
type Belongs = fn(ItemKind, bool) -> bool;

/// What a short message says of `email`.
pub fn summary(email: &AlertEmail) -> Summary<'_> {
    let lang = email.lang;
    let all = cards(email);
    let markets = markets(&all);
    // An account in several marketplaces names each line's, even in a
    // message about one of them (the same product sells in each).
    let multi = super::alert_email::names_markets(email, &markets);
    let active = email.items.iter().any(is_active);
    let tone = email
        .items
        .iter()
        .filter(|i| is_active(i))
        .map(|i| Tone::of(i.severity))
        .max()
        .unwrap_or(Tone::Good);
    let name = |card: &Card<'_>| {
        let n = card.name(lang, &email.names, NAME_SHORT);
        if multi {
            format!("{n} ({})", i18n::marketplace_name(lang, card.mkt))
        } else {
            n
        }
    };
    let do_first = do_first(&all, DO_FIRST_MAX)
        .into_iter()
        .map(|card| {
            let (what, stake) = do_first_what(lang, card);
            Action {
                tone: Tone::of(card.severity()),
                tag: i18n::severity_tag(lang, card.severity()),
                action: action(lang, card.action_item().rule),
                name: name(card),
                what,
                stake,
                place: card.do_place(lang),
            }
        })
        .collect();
    // Cards in urgency order, each card's findings in its order.
    let mut lines: Vec<(ItemKind, bool, Line<'_>)> = Vec::new();
    for card in &all {
        for item in card.items.iter().copied() {
            let resolved = item.kind == ItemKind::Resolved;
            let line = Line {
                item,
                tone: if resolved {
                    Tone::Good
                } else {
                    Tone::of(item.severity)
                },
                name: name(card),
                title: finding_title(lang, item),
                phrase: phrase(lang, item),
                tail: tail(lang, card, item),
                check: i18n::check_first(lang, item.rule),
                place: card.do_place(lang),
                owner: owner(email, card),
            };
            lines.push((item.kind, item.is_news(), line));
        }
    }
    let mut sections = Vec::new();
    let groups: [(&str, Belongs); 3] = [
        ("chat-new-heading", |k, news| {
            k != ItemKind::Resolved && news
        }),
        ("still-firing-heading", |k, news| {
            k != ItemKind::Resolved && !news
        }),
        ("resolved-heading", |k, _| k == ItemKind::Resolved),
    ];
    for (heading, belongs) in groups {
        let alerts: Vec<Line<'_>> = lines
            .iter()
            .filter(|(k, news, _)| belongs(*k, *news))
            .map(|(_, _, l)| l.clone())
            .collect();
        if !alerts.is_empty() {
            sections.push(Section {
                title: tr_args(lang, heading, &[("n", alerts.len().to_string().into())]),
                alerts,
            });
        }
    }
    let mut owners: Vec<String> = Vec::new();
    for (k, news, l) in &lines {
        if let (true, Some(o)) = (*k != ItemKind::Resolved && *news, &l.owner) {
            if !owners.contains(o) {
                owners.push(o.clone());
            }
        }
    }
    Summary {
        lang,
        account: &email.account,
        title: title(email),
        as_of: as_of(email, &markets),
        tone,
        strip: if active || !email.open.is_empty() {
            strip(lang, &email.open)
        } else {
            Vec::new()
        },
        do_first_title: tr(lang, "do-first"),
        do_first,
        sections,
        owners,
        footer: tr_args(
            lang,
            "footer-sent",
            &[
                ("time", when(lang, email.at, email.timezone).into()),
                ("zone", email.timezone.name().into()),
            ],
        ),
    }
}
