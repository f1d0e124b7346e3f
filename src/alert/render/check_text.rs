//! `flywheel check`'s table in the reader's language: the firing findings
//! grouped by flywheel link, most severe first, each with its subject
//! (named), what happened and what to check first; no-data findings
//! counted per rule (a catalogue of thousands of ASINs would otherwise
//! drown the breaks).
//!
//! English prints what the rules wrote (each finding's own summary, check
//! and diagnosis details, as the command always has); other languages
//! write each finding from its numbers with the alert email's words
//! (`alert_item::phrase`, `i18n::check_first`, the diagnosis sentence), so
//! no English is left in them. Columns are padded by display width, so
//! Chinese lines up. Pure: findings in, text out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::alert_item::{diagnosis_checks, diagnosis_headline, is_out_of_stock, phrase};
use crate::alert::{Item, ItemKind};
use crate::config::{Link, Severity};
use crate::i18n::text::{pad, subject_words};
use crate::i18n::{self, tr, tr_args, Lang};
use crate::model::finding::{Finding, Status};
use crate::rules::render::{name_of, AccountNames};

/// Widths of the severity and rule columns (as the English table always had).
const SEVERITY_W: usize = 8;
const RULE_W: usize = 22;
const SUBJECT_W: usize = 40;

fn link_title(lang: Lang, l: Link) -> String {
    tr(lang, &format!("cli-link-{}", l.as_str()))
}

/// The subject of a finding with its product's or campaign's name:
/// "sku FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3".
fn subject(lang: Lang, f: &Finding, names: &AccountNames) -> String {
    let label = match lang {
        Lang::En => f.subject.label(),
        _ => {
            let key = |k: &str| f.subject.keys().find(|(x, _)| *x == k).map(|(_, v)| v);
            subject_words(lang, key).unwrap_or_else(|| {
                let market = crate::model::marketplace::lookup(&f.subject.marketplace)
                    .map(|m| i18n::marketplace_name(lang, m))
                    .unwrap_or_else(|| f.subject.marketplace.clone());
                format!("{} {market}", f.subject.account)
            })
        }
    };
    match name_of(names, f).flatten() {
        Some(name) => format!("{label} · {name}"),
        None => label,
    }
}

/// What a finding says in `lang`: what happened, what to check first, and
/// growth_stall's diagnosis as lines.
fn finding_words(lang: Lang, f: &Finding) -> (String, String, Vec<String>) {
    if lang == Lang::En {
        let details = f
            .diagnosis
            .iter()
            .flat_map(|d| &d.checks)
            .map(|c| format!("- {}: {}", c.check, c.detail))
            .collect();
        return (f.summary.clone(), f.check_first.clone(), details);
    }
    let since = f.window.map(|w| w.end).unwrap_or_default();
    let since = since.and_time(chrono::NaiveTime::MIN).and_utc();
    let item = Item::from_finding(f, ItemKind::Firing, "", since);
    let mut details = Vec::new();
    if let Some(h) = diagnosis_headline(lang, &item, is_out_of_stock(&item)) {
        details.push(tr_args(lang, "cli-diagnosis", &[("text", h.into())]));
    }
    let colon = tr(lang, "colon");
    let sep = tr(lang, "list-separator");
    for (check, rows) in diagnosis_checks(lang, &item, &[]) {
        let rows: Vec<String> = rows
            .into_iter()
            .map(|(label, value)| format!("{label} {value}"))
            .collect();
        details.push(format!("- {check}{colon}{}", rows.join(&sep)));
    }
    (
        phrase(lang, &item),
        i18n::check_first(lang, f.rule),
        details,
    )
}

/// A rule in the table: its id in English (what `--rule` and `silence`
/// take), its title in other languages.
fn rule_cell(lang: Lang, f: &Finding) -> String {
    match lang {
        Lang::En => f.rule.as_str().to_string(),
        _ => i18n::rule_title(lang, f.rule),
    }
}

/// The table of `findings` as of `at`, in `lang`.
pub fn check_table(lang: Lang, at: NaiveDate, findings: &[Finding], names: &AccountNames) -> String {
    let mut out = String::new();
    let firing: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Firing)
        .collect();
    let count = |s: Severity| firing.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "{}",
        tr_args(
            lang,
            "cli-check-header",
            &[
                ("at", at.to_string().into()),
                ("n", firing.len().to_string().into()),
                ("count", firing.len().into()),
                ("critical", count(Severity::Critical).to_string().into()),
                ("warning", count(Severity::Warning).to_string().into()),
            ],
        )
    );
    let indent = format!("  {} {}", pad("", SEVERITY_W), pad("", RULE_W));
    let mut last_link = None;
    for f in &firing {
        if last_link != Some(f.link()) {
            last_link = Some(f.link());
            let _ = writeln!(out, "\n{}", link_title(lang, f.link()));
        }
        let (said, check, details) = finding_words(lang, f);
        let _ = writeln!(
            out,
            "  {} {} {} {said}",
            pad(&i18n::severity_tag(lang, f.severity), SEVERITY_W),
            pad(&rule_cell(lang, f), RULE_W),
            pad(&subject(lang, f, names), SUBJECT_W),
        );
        let check = tr_args(lang, "cli-check-first", &[("text", check.into())]);
        let _ = writeln!(out, "{indent} {check}");
        for d in details {
            let _ = writeln!(out, "{indent}   {d}");
        }
    }
    // Per rule and status: how many, and the first as the example.
    let mut missing: BTreeMap<(&str, &str), (usize, &Finding)> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.status != Status::Firing) {
        missing
            .entry((f.rule.as_str(), f.status.as_str()))
            .or_insert((0, f))
            .0 += 1;
    }
    if !missing.is_empty() {
        let _ = writeln!(out, "\n{}", tr(lang, "cli-no-data"));
        for ((_, status), (count, f)) in missing {
            let status = match status {
                "keep" => tr(lang, "cli-no-data-keep"),
                _ => tr(lang, "cli-no-data-info"),
            };
            let example = match lang {
                Lang::En => f.summary.clone(),
                _ => subject(lang, f, names),
            };
            let line = tr_args(
                lang,
                "cli-no-data-line",
                &[
                    ("n", format!("{count:>5}").into()),
                    ("count", count.into()),
                    ("status", status.into()),
                    ("example", example.into()),
                ],
            );
            let _ = writeln!(out, "  {} {line}", pad(&rule_cell(lang, f), RULE_W));
        }
    }
    out
}
