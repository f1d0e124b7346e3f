//! How one finding reads inside a card, in the reader's language: its
//! phrase (what happened, in the rule's unit, against its threshold), its
//! evidence as labels and values (`i18n::evidence`: no identifier is ever
//! shown), the words around its chart, growth_stall's diagnosis as a
//! sentence, the action a seller takes, and the few words the subject line
//! gives it. Every number is formatted by `i18n::format` in the unit of the
//! metric it belongs to, so a chart's current point and the card's value
//! read the same.

use serde_json::Value;

use super::chart::{self, ChartWords};
use super::layout::{field, quoted, truncate};
use crate::alert::{Item, ItemKind, Series};
use crate::config::RuleId;
use crate::i18n::evidence::{format_evidence, is_hidden};
use crate::i18n::format as fmt;
use crate::i18n::{self, tr, tr_args, Lang};
use crate::model::alert::Notified;
use crate::model::marketplace::{self, Marketplace};

/// Evidence rows shown per finding (the rest are left out: the card is a
/// summary, `flywheel alerts` has everything).
const EVIDENCE_MAX: usize = 8;
/// Diagnosis checks shown in a growth_stall card.
const CHECKS_MAX: usize = 6;

/// The unit a number of a rule is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Percent,
    Count,
    Points,
    Stars,
    Days,
    Hours,
    Rank,
    Money,
    Units,
    Clicks,
}

/// `feedback_response_sla` → `feedback-response-sla`: Fluent ids use dashes.
fn dashed(rule: RuleId) -> String {
    rule.as_str().replace('_', "-")
}

/// The marketplace of an item (its money, its links, its zone); the US
/// one for an id this version does not know (the config refuses those).
pub(super) fn market_of(item: &Item) -> &'static Marketplace {
    item.key("marketplace")
        .and_then(marketplace::lookup)
        .or_else(|| marketplace::lookup("US"))
        .expect("the US marketplace is in the table")
}

/// The unit of a rule's value (and of its threshold, except where noted).
fn value_unit(rule: RuleId) -> Unit {
    use RuleId::*;
    match rule {
        FeedbackRate | ReturnRate | ConversionRate | BuyBox | AcosBand | Tacos | AdReliance
        | AccountHealth | TrafficTrend | KeywordShare | BsrTrend | CpcTrend | MarginFloor => {
            Unit::Percent
        }
        FeedbackResponseSla | ListingHealth | Credentials => Unit::Count,
        WastedSpend => Unit::Clicks,
        ReviewTopics => Unit::Points,
        RatingFloor => Unit::Stars,
        GrowthStall => Unit::Units,
        StockoutRisk | InventoryTurnover => Unit::Days,
        DataFreshness => Unit::Hours,
    }
}

/// The unit of a rule's threshold where it differs from its value's.
fn threshold_unit(rule: RuleId) -> Unit {
    match rule {
        RuleId::FeedbackResponseSla => Unit::Hours,
        r => value_unit(r),
    }
}

/// The unit of a rule's chart: the metric drawn day by day, which for
/// the trend rules is the level whose change the value measures.
fn chart_unit(rule: RuleId) -> Unit {
    use RuleId::*;
    match rule {
        TrafficTrend | GrowthStall | FeedbackResponseSla => Unit::Count,
        BsrTrend => Unit::Rank,
        CpcTrend => Unit::Money,
        ReviewTopics => Unit::Percent,
        r => value_unit(r),
    }
}

/// `x` in `unit`, in `lang`, money in `currency`.
pub(super) fn in_unit(lang: Lang, unit: Unit, x: f64, currency: &str) -> String {
    let n = |id: &str, s: String| tr_args(lang, id, &[("n", s.into()), ("count", x.into())]);
    match unit {
        Unit::Percent => fmt::percent(x),
        Unit::Count => fmt::count(x),
        Unit::Points => n("unit-points", fmt::number(x)),
        Unit::Stars => n("unit-stars", fmt::number(x)),
        Unit::Days => fmt::days(lang, x),
        Unit::Hours => fmt::hours(lang, x),
        Unit::Rank => n("unit-rank", fmt::count(x)),
        Unit::Money => fmt::money(lang, x, currency),
        Unit::Units => n("unit-units", fmt::count(x)),
        Unit::Clicks => n("unit-clicks", fmt::count(x)),
    }
}

fn evidence_f64(item: &Item, key: &str) -> Option<f64> {
    item.evidence
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_f64())
}

fn evidence_bool(item: &Item, key: &str) -> Option<bool> {
    item.evidence
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_bool())
}

/// Whether a stockout item says the SKU has no stock now.
pub(super) fn is_out_of_stock(item: &Item) -> bool {
    item.rule == RuleId::StockoutRisk && evidence_f64(item, "available").is_some_and(|a| a <= 0.0)
}

/// The item's value as the card states it ("7.11%", "0 days"); `None`
/// when the finding has none.
pub(super) fn value_text(lang: Lang, item: &Item) -> Option<String> {
    let cur = market_of(item).currency;
    item.value
        .map(|v| in_unit(lang, value_unit(item.rule), v, cur))
}

/// The threshold as the phrase states it; ACoS's band when the evidence
/// has both ends.
fn threshold_text(lang: Lang, item: &Item) -> String {
    let cur = market_of(item).currency;
    if item.rule == RuleId::AcosBand {
        if let (Some(a), Some(b)) = (
            evidence_f64(item, "band_min_pct"),
            evidence_f64(item, "band_max_pct"),
        ) {
            return format!("{}–{}", fmt::percent(a), fmt::percent(b));
        }
    }
    item.threshold
        .map(|t| in_unit(lang, threshold_unit(item.rule), t, cur))
        .unwrap_or_else(|| tr(lang, "unknown"))
}

/// What happened, in a few words with the numbers: "conversion 7.11%,
/// below 12%", "out of stock", "suppressed (not buyable), 1 issue".
pub(super) fn phrase(lang: Lang, item: &Item) -> String {
    if is_out_of_stock(item) {
        return tr(lang, "hl-out-of-stock");
    }
    let value = match value_text(lang, item) {
        Some(v) => v,
        None if matches!(item.rule, RuleId::AcosBand | RuleId::Tacos) => {
            return tr(lang, "hl-no-sales")
        }
        None => tr(lang, "unknown"),
    };
    let mut s = tr_args(
        lang,
        &format!("hl-{}", dashed(item.rule)),
        &[
            ("value", value.into()),
            ("threshold", threshold_text(lang, item).into()),
            ("count", item.value.unwrap_or(0.0).into()),
        ],
    );
    // A listing's state first: "suppressed (not buyable)" says more than
    // its issue count, and settles what "in search results" means.
    if item.rule == RuleId::ListingHealth {
        let mkt = market_of(item);
        let state = match (
            evidence_bool(item, "is_suppressed"),
            evidence_bool(item, "is_buyable"),
        ) {
            (Some(true), _) => Some(("is_suppressed", true)),
            (_, Some(false)) => Some(("is_buyable", false)),
            _ => None,
        };
        if let Some((k, b)) = state {
            let (_, v) = format_evidence(lang, item.rule, k, &Value::Bool(b), mkt);
            s = format!("{v}{}{s}", tr(lang, "list-separator"));
        }
    }
    s
}

/// Evidence keys a card never shows for a rule: they restate the phrase
/// or the card's heading.
fn restates(rule: RuleId, key: &str) -> bool {
    matches!(
        (rule, key),
        (_, "campaign_name")
            | (
                RuleId::ListingHealth,
                "is_suppressed" | "is_buyable" | "issues"
            )
            | (RuleId::AcosBand, "band_min_pct" | "band_max_pct")
            | (
                RuleId::FeedbackResponseSla,
                "open_breaches" | "response_hours"
            )
    )
}

/// Evidence that would contradict what the card says: a suppressed or
/// unbuyable listing is not "shown in search" to anyone who can buy, and
/// a SKU out of stock now was not "0 days out of stock".
fn contradicts(item: &Item, key: &str, v: &Value) -> bool {
    match key {
        "is_discoverable" => {
            evidence_bool(item, "is_suppressed") == Some(true)
                || evidence_bool(item, "is_buyable") == Some(false)
        }
        "stockout_days" => v.as_f64() == Some(0.0) && is_out_of_stock(item),
        _ => false,
    }
}

/// The finding's evidence as (label, value) rows, in the rule's order,
/// with its window first; hidden and restating keys left out, at most
/// [`EVIDENCE_MAX`].
pub(super) fn evidence_rows(lang: Lang, item: &Item) -> Vec<(String, String)> {
    let mkt = market_of(item);
    let value = value_text(lang, item);
    let mut rows = Vec::new();
    if let Some((a, b)) = item.window {
        rows.push((tr(lang, "window"), fmt::date_range(lang, a, b)));
    }
    for (k, v) in &item.evidence {
        if is_hidden(item.rule, k) || restates(item.rule, k) || contradicts(item, k, v) {
            continue;
        }
        let (label, text) = format_evidence(lang, item.rule, k, v, mkt);
        // The value the phrase already states.
        if Some(&text) == value.as_ref() {
            continue;
        }
        rows.push((truncate(&field(&label), 60), truncate(&field(&text), 200)));
    }
    rows.truncate(EVIDENCE_MAX);
    rows
}

/// The number of days of a rolling window the series label names ("over
/// the 14 days to each day").
fn window_days(label: &str) -> Option<u32> {
    let words: Vec<&str> = label.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1].starts_with("day") && w[0].chars().all(|c| c.is_ascii_digit()))
        .and_then(|w| w[0].parse().ok())
}

/// What a chart of `rule` plots, in `lang`: "Conversion rate · 14-day rolling".
fn chart_label(lang: Lang, rule: RuleId, s: &Series) -> String {
    let mut label = tr(lang, &format!("chart-{}", dashed(rule)));
    if let Some(n) = window_days(&s.label) {
        label.push_str(" · ");
        label.push_str(&tr_args(
            lang,
            "chart-rolling",
            &[("n", n.to_string().into())],
        ));
    }
    label
}

/// The words around the chart of `item`'s series; `None` when it has
/// fewer than [`chart::MIN_POINTS`] days with data.
pub(super) fn chart_words(lang: Lang, item: &Item, s: &Series) -> Option<ChartWords> {
    if !chart::is_drawable(s) {
        return None;
    }
    let (min, max, last, last_day) = chart::series_stats(s)?;
    let (lo, hi) = chart::axis(s)?;
    let cur = market_of(item).currency;
    let unit = chart_unit(item.rule);
    let v = |x: f64| in_unit(lang, unit, x, cur);
    let first = s.points.first().map(|p| p.0)?;
    let end = s.points.last().map(|p| p.0)?;
    Some(ChartWords {
        label: chart_label(lang, item.rule, s),
        top: v(hi),
        bottom: v(lo),
        first: fmt::date_short(lang, first),
        last: fmt::date_short(lang, end),
        threshold: s
            .threshold
            .filter(|t| t.is_finite() && *t >= lo && *t <= hi)
            .map(|t| tr_args(lang, "chart-threshold", &[("value", v(t).into())])),
        current: tr_args(
            lang,
            "chart-now",
            &[
                ("value", v(last).into()),
                ("date", fmt::date_short(lang, last_day).into()),
            ],
        ),
        range: tr_args(
            lang,
            "chart-range",
            &[("min", v(min).into()), ("max", v(max).into())],
        ),
    })
}

/// Why a series is not drawn: "history starts Nov 28" (or none stored).
pub(super) fn no_chart_note(lang: Lang, item: &Item, s: &Series) -> String {
    let label = chart_label(lang, item.rule, s);
    let note = match chart::known(s).first() {
        Some((d, _)) => tr_args(
            lang,
            "history-starts",
            &[("date", fmt::date(lang, *d).into())],
        ),
        None => tr(lang, "history-none"),
    };
    format!("{label}: {note}")
}

fn pct_change(now: f64, before: f64) -> Option<f64> {
    (before.abs() > 1e-9).then(|| (now - before) / before * 100.0)
}

/// growth_stall's diagnosis as one sentence: "Sales down 72% (1,190 →
/// 336 units): out of stock now; traffic fell 42%; conversion 15.8% →
/// 7.68%". `None` for other rules.
pub(super) fn diagnosis_headline(lang: Lang, item: &Item, out_of_stock: bool) -> Option<String> {
    if item.rule != RuleId::GrowthStall {
        return None;
    }
    let d = item.diagnosis.as_ref();
    let units = item.value.or_else(|| evidence_f64(item, "units"))?;
    let prior = evidence_f64(item, "prior_units").or(item.threshold)?;
    let down = pct_change(units, prior)
        .map(|p| fmt::percent(-p))
        .unwrap_or_default();
    let mut s = tr_args(
        lang,
        "diag-units",
        &[
            ("pct", down.into()),
            ("before", fmt::count(prior).into()),
            ("now", fmt::count(units).into()),
        ],
    );
    let mut parts = Vec::new();
    let stock_check = d
        .and_then(|d| d.get("checks"))
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|c| c.get("check").and_then(Value::as_str) == Some("stock"))
        });
    if out_of_stock {
        parts.push(tr(lang, "diag-out-of-stock"));
    } else if let Some(days) = stock_check
        .and_then(|c| c.get("evidence"))
        .and_then(|e| e.get("stockout_days"))
        .and_then(Value::as_f64)
        .filter(|d| *d > 0.0)
    {
        parts.push(tr_args(
            lang,
            "diag-stockout",
            &[("days", fmt::days(lang, days).into())],
        ));
    }
    let steady = 5.0;
    if let (Some(a), Some(b)) = (
        evidence_f64(item, "sessions"),
        evidence_f64(item, "prior_sessions"),
    ) {
        if let Some(p) = pct_change(a, b) {
            parts.push(if p <= -steady {
                tr_args(
                    lang,
                    "diag-traffic-fell",
                    &[("pct", fmt::percent(-p).into())],
                )
            } else if p >= steady {
                tr_args(
                    lang,
                    "diag-traffic-rose",
                    &[("pct", fmt::percent(p).into())],
                )
            } else {
                tr(lang, "diag-traffic-steady")
            });
        }
    }
    if let (Some(a), Some(b)) = (
        evidence_f64(item, "conversion_pct"),
        evidence_f64(item, "prior_conversion_pct"),
    ) {
        let args = [
            ("before", fmt::percent(b).into()),
            ("now", fmt::percent(a).into()),
        ];
        parts.push(match pct_change(a, b) {
            Some(p) if p <= -steady => tr_args(lang, "diag-conversion-fell", &args),
            Some(p) if p >= steady => tr_args(lang, "diag-conversion-rose", &args),
            _ => tr(lang, "diag-conversion-steady"),
        });
    }
    if !parts.is_empty() {
        s.push_str(&tr(lang, "diag-colon"));
        s.push_str(&parts.join(&tr(lang, "diag-separator")));
    }
    Some(s)
}

/// Evidence keys growth_stall's headline sentence states.
pub(super) const DIAGNOSIS_STATES: &[&str] = &[
    "units",
    "prior_units",
    "sessions",
    "prior_sessions",
    "conversion_pct",
    "prior_conversion_pct",
];

/// The rule whose finding in the same card already says what a
/// diagnosis check says.
fn check_rule(check: &str) -> Option<RuleId> {
    Some(match check {
        "stock" => RuleId::StockoutRisk,
        "buy_box" => RuleId::BuyBox,
        "review_topics" => RuleId::ReviewTopics,
        "returns" => RuleId::ReturnRate,
        "listing" => RuleId::ListingHealth,
        "cpc" => RuleId::CpcTrend,
        "bsr" => RuleId::BsrTrend,
        "keyword_share" => RuleId::KeywordShare,
        _ => return None,
    })
}

/// growth_stall's checks as (what was checked, evidence rows), leaving
/// out those a finding in the same card (`rules`) states in full.
pub(super) fn diagnosis_checks(
    lang: Lang,
    item: &Item,
    rules: &[RuleId],
) -> Vec<(String, Vec<(String, String)>)> {
    // A stock check whose SKU has nothing available counts no stockout
    // days only because the day has not ended: leave the zero out.
    let zero_days = |c: &Value, k: &str, v: &Value| {
        k == "stockout_days"
            && v.as_f64() == Some(0.0)
            && c.get("evidence")
                .and_then(|e| e.get("available"))
                .and_then(Value::as_f64)
                .is_some_and(|a| a <= 0.0)
    };
    let Some(checks) = item
        .diagnosis
        .as_ref()
        .and_then(|d| d.get("checks"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mkt = market_of(item);
    checks
        .iter()
        .filter_map(|c| {
            let name = c.get("check").and_then(Value::as_str)?;
            if check_rule(name).is_some_and(|r| rules.contains(&r)) {
                return None;
            }
            let rows: Vec<(String, String)> = c
                .get("evidence")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(k, v)| {
                            !v.is_null()
                                && !is_hidden(RuleId::GrowthStall, k)
                                && !zero_days(c, k, v)
                        })
                        .map(|(k, v)| {
                            let (l, t) = format_evidence(lang, RuleId::GrowthStall, k, v, mkt);
                            (truncate(&field(&l), 60), truncate(&field(&t), 200))
                        })
                        .take(4)
                        .collect()
                })
                .unwrap_or_default();
            (!rows.is_empty())
                .then(|| (tr(lang, &format!("check-{}", name.replace('_', "-"))), rows))
        })
        .take(CHECKS_MAX)
        .collect()
}

/// What the seller does about a rule, as a few words: "Restock", "补货".
pub(super) fn action(lang: Lang, rule: RuleId) -> String {
    tr(lang, &format!("act-{}", dashed(rule)))
}

/// The one number a subject line shows for an item ("out of stock",
/// "7.11%", "31 h").
pub(super) fn key_number(lang: Lang, item: &Item) -> Option<String> {
    if is_out_of_stock(item) {
        return Some(tr(lang, "hl-out-of-stock"));
    }
    match item.rule {
        RuleId::FeedbackResponseSla => {
            if let Some(h) = evidence_f64(item, "oldest_age_hours") {
                return Some(fmt::hours(lang, h));
            }
        }
        // A count alone says nothing: "suppressed (not buyable)", "2 issues".
        RuleId::ListingHealth => {
            let p = phrase(lang, item);
            let sep = tr(lang, "list-separator");
            return Some(p.split(sep.as_str()).next().unwrap_or(&p).to_string());
        }
        RuleId::Credentials => return Some(phrase(lang, item)),
        _ => {}
    }
    value_text(lang, item)
}

/// How an item's state reads beside it: "new", "still firing since …",
/// "resolved …".
pub(super) fn kind_words(lang: Lang, item: &Item, when: &str) -> String {
    match item.kind {
        ItemKind::Firing => tr(lang, "kind-new"),
        ItemKind::Repeat => match item.previous.filter(|_| item.is_worse()) {
            Some(p) => tr_args(
                lang,
                "kind-worse-since",
                &[("since", when.into()), ("was", was(lang, item, p).into())],
            ),
            None => tr_args(lang, "kind-still-firing-since", &[("since", when.into())]),
        },
        ItemKind::Resolved => tr_args(lang, "kind-resolved-at", &[("at", when.into())]),
    }
}

/// What the last email said of a worse repeat: its severity when that
/// rose, else its value.
fn was(lang: Lang, item: &Item, p: Notified) -> String {
    if p.severity < item.severity {
        return i18n::severity(lang, p.severity);
    }
    let cur = market_of(item).currency;
    p.value
        .map(|v| in_unit(lang, value_unit(item.rule), v, cur))
        .unwrap_or_else(|| tr(lang, "unknown"))
}

/// A rule's title with the search term it is about, when it has one.
pub(super) fn finding_title(lang: Lang, item: &Item) -> String {
    let title = i18n::rule_title(lang, item.rule);
    match item.key("search_term") {
        Some(t) => format!("{title} {}", quoted(lang, &truncate(&field(t), 60))),
        None => title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_days_come_from_the_series_label() {
        assert_eq!(
            window_days("conversion rate over the 14 days to each day (%)"),
            Some(14)
        );
        assert_eq!(window_days("units available"), None);
        assert_eq!(
            window_days("ACoS over the matured 30 days to each day"),
            Some(30)
        );
    }
}
