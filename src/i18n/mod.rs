//! The words flywheel writes to a person, in the reader's language
//! (DESIGN §5.1): message texts, number and money formats, evidence labels.
//!
//! | module | owns |
//! |---|---|
//! | this one | [`tr`] / [`tr_args`]: a message id of `locales/<lang>/*.ftl` in a [`Lang`]; the names every message needs (rules, links, severities, marketplaces) |
//! | [`format`] | numbers, money with the marketplace's currency, percentages, hours, days, dates |
//! | [`evidence`] | each evidence key the rules write: its label and how its value reads |
//! | [`text`] | the commands' text tables: columns by display width, subjects in the reader's words |
//!
//! The texts are Fluent files compiled into the binary (`fluent-templates`'
//! `static_loader!`), one set per language with the same ids; a test fails
//! when an id is in one language and not the other. Fluent's Unicode
//! isolation marks (U+2068/U+2069 around each argument) are off: they
//! show up as stray characters in plain-text email.
//!
//! Pure: no clock, no file, no database. Amazon-supplied text (titles,
//! review topics, issue messages) is never translated, only placed.

pub mod evidence;
pub mod format;
pub mod text;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, StaticLoader};

pub use crate::model::lang::Lang;
use crate::model::marketplace::Marketplace;
use crate::model::rule::{Link, RuleId, Severity};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Isolation marks break plain-text email and subject lines.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The Fluent language identifiers, parsed once.
static IDS: LazyLock<[LanguageIdentifier; 2]> = LazyLock::new(|| {
    [
        Lang::En.as_str().parse().expect("en is a language tag"),
        Lang::ZhCn
            .as_str()
            .parse()
            .expect("zh-CN is a language tag"),
    ]
});

fn langid(lang: Lang) -> &'static LanguageIdentifier {
    match lang {
        Lang::En => &IDS[0],
        Lang::ZhCn => &IDS[1],
    }
}

fn loader() -> &'static StaticLoader {
    &LOCALES
}

/// An argument of a message: text, or a number that picks a plural form.
/// Numbers meant to be read are formatted by [`format`] first and passed as
/// text; Fluent's own number formatting is not locale-aware enough.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    Num(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Arg<'a> {
        Arg::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Text(Cow::Owned(s))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Arg<'a> {
        Arg::Text(Cow::Borrowed(s.as_str()))
    }
}

macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Arg::Num(n as f64)
            }
        }
    )*};
}
num_arg!(f64, i64, i32, u32, u64, usize);

fn lookup(lang: Lang, id: &str, args: Option<&HashMap<&str, FluentValue<'_>>>) -> Option<String> {
    loader().lookup_single_language(langid(lang), id, args).ok()
}

fn fluent_args<'a>(args: &'a [(&'a str, Arg<'a>)]) -> HashMap<&'a str, FluentValue<'a>> {
    args.iter()
        .map(|(k, v)| {
            let v = match v {
                Arg::Text(s) => FluentValue::from(s.as_ref()),
                Arg::Num(n) => FluentValue::from(*n),
            };
            (*k, v)
        })
        .collect()
}

/// The message `id` in `lang`; English when `lang` lacks it (a test keeps
/// the languages equal), the id itself when no language has it.
pub fn tr(lang: Lang, id: &str) -> String {
    tr_args(lang, id, &[])
}

/// The message `id` in `lang` with its `{ $name }` arguments filled.
pub fn tr_args(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let map = (!args.is_empty()).then(|| fluent_args(args));
    lookup(lang, id, map.as_ref())
        .or_else(|| lookup(Lang::En, id, map.as_ref()))
        .unwrap_or_else(|| id.to_string())
}

/// The message `id` in `lang` alone (no fallback): `None` when `lang`
/// lacks it or an argument it uses is missing.
pub fn try_tr(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> Option<String> {
    lookup(lang, id, Some(&fluent_args(args)))
}

/// `feedback_response_sla` → `feedback-response-sla`: Fluent ids use dashes.
fn dashed(id: &str) -> String {
    id.replace('_', "-")
}

/// A KPI of the weekly checklist by its id (`conversion_rate`), as the
/// reader reads it ("Conversion rate, 14 days", "转化率（14 天）"); the id
/// itself for a KPI without a message (a test covers every KPI).
pub fn kpi_name(lang: Lang, kpi: &str) -> String {
    try_tr(lang, &format!("kpi-{}", dashed(kpi)), &[]).unwrap_or_else(|| kpi.to_string())
}

/// A rule's name as a seller reads it in subjects and headings.
pub fn rule_title(lang: Lang, rule: RuleId) -> String {
    tr(lang, &format!("rule-{}-title", dashed(rule.as_str())))
}

/// What the seller should look at first when the rule fires, in general
/// (a finding's own `check_first` may say more).
pub fn check_first(lang: Lang, rule: RuleId) -> String {
    tr(lang, &format!("rule-{}-check", dashed(rule.as_str())))
}

/// The link's name: "customer experience", "sales growth", "operating
/// leverage", "flywheel itself".
pub fn link_name(lang: Lang, link: Link) -> String {
    tr(lang, &format!("link-{}", link.as_str()))
}

/// A link's state for the summary strip: "healthy", "2 warnings",
/// "1 critical, 2 warnings".
pub fn link_state(lang: Lang, warnings: usize, critical: usize) -> String {
    let parts: Vec<String> = [
        ("link-state-critical", critical),
        ("link-state-warnings", warnings),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(id, n)| {
        let args = [("n", format::count(n as f64).into()), ("count", n.into())];
        tr_args(lang, id, &args)
    })
    .collect();
    if parts.is_empty() {
        return tr(lang, "link-state-healthy");
    }
    parts.join(&tr(lang, "list-separator"))
}

/// "critical", "warning", "info" in running text.
pub fn severity(lang: Lang, s: Severity) -> String {
    tr(lang, &format!("severity-{}", s.as_str()))
}

/// "CRITICAL", "WARNING", "INFO" as a card's tag.
pub fn severity_tag(lang: Lang, s: Severity) -> String {
    tr(lang, &format!("severity-{}-tag", s.as_str()))
}

/// "United States", "美国站".
pub fn marketplace_name(lang: Lang, m: &Marketplace) -> String {
    tr(lang, &format!("marketplace-{}", m.country))
}

#[cfg(test)]
mod tests;
