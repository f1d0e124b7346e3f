//! Printing findings for `flywheel check`: a table grouped by flywheel link,
//! most severe first, or the JSON document `{"at", "findings": [...]}`.
//! Products and campaigns are named by [`Names`] (per account). Pure:
//! strings in, strings out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Finding, Status};
use crate::config::Link;
use crate::model::names::Names;

/// The names of each account's products and campaigns, by account.
pub type AccountNames = BTreeMap<String, Names>;

/// The name of a subject of `account` given by its keys (see
/// [`Names::of_subject`]): `None` for a marketplace, `Some(None)` for a
/// product or campaign whose name is not known.
pub fn subject_name<'a>(
    names: &'a AccountNames,
    account: &str,
    key: impl Fn(&str) -> Option<&'a str>,
) -> Option<Option<&'a str>> {
    static NONE: Names = Names {
        skus: BTreeMap::new(),
        asins: BTreeMap::new(),
        sku_asin: BTreeMap::new(),
        campaigns: BTreeMap::new(),
        owners: BTreeMap::new(),
    };
    names.get(account).unwrap_or(&NONE).of_subject(key)
}

fn name_of<'a>(names: &'a AccountNames, f: &'a Finding) -> Option<Option<&'a str>> {
    let key = |k: &str| f.subject.keys().find(|(x, _)| *x == k).map(|(_, v)| v);
    subject_name(names, &f.subject.account, key)
}

/// `{"at": DATE, "findings": [...]}` (one line per finding, for diffs).
/// A finding about a product or campaign carries its `name` (null when
/// unknown) after the subject keys.
pub fn json(at: NaiveDate, findings: &[Finding], names: &AccountNames) -> String {
    let mut out = format!("{{\"at\": \"{at}\", \"findings\": [");
    for (i, f) in findings.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        let mut v = f.to_json();
        if let (Some(name), Some(obj)) = (name_of(names, f), v.as_object_mut()) {
            // The keys keep their order (preserve_order): `name` goes just
            // before `value`, after the subject's keys.
            let mut with = serde_json::Map::new();
            for (k, x) in std::mem::take(obj) {
                if k == "value" {
                    with.insert("name".into(), name.into());
                }
                with.insert(k, x);
            }
            *obj = with;
        }
        out.push_str(&serde_json::to_string(&v).expect("a finding serializes"));
    }
    out.push_str(if findings.is_empty() {
        "]}\n"
    } else {
        "\n]}\n"
    });
    out
}

fn link_title(l: Link) -> &'static str {
    match l {
        Link::Experience => "1. Customer experience",
        Link::Growth => "2. Sales growth",
        Link::Leverage => "3. Operating leverage",
        Link::Meta => "Data and credentials",
    }
}

/// A human table: firing findings in full, no-data findings counted per rule
/// (a catalogue of thousands of ASINs would otherwise drown the breaks).
pub fn table(at: NaiveDate, findings: &[Finding], names: &AccountNames) -> String {
    let mut out = String::new();
    let firing: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Firing)
        .collect();
    let _ = writeln!(
        out,
        "flywheel check as of {at}: {} finding{} ({} critical, {} warning)",
        firing.len(),
        if firing.len() == 1 { "" } else { "s" },
        firing
            .iter()
            .filter(|f| f.severity == crate::config::Severity::Critical)
            .count(),
        firing
            .iter()
            .filter(|f| f.severity == crate::config::Severity::Warning)
            .count(),
    );
    let mut last_link = None;
    for f in &firing {
        if last_link != Some(f.link()) {
            last_link = Some(f.link());
            let _ = writeln!(out, "\n{}", link_title(f.link()));
        }
        let _ = writeln!(
            out,
            "  {:<8} {:<22} {:<40} {}",
            f.severity.as_str().to_uppercase(),
            f.rule.as_str(),
            match name_of(names, f).flatten() {
                Some(name) => format!("{} · {name}", f.subject.label()),
                None => f.subject.label(),
            },
            f.summary
        );
        let _ = writeln!(out, "  {:<8} {:<22} check first: {}", "", "", f.check_first);
        if let Some(d) = &f.diagnosis {
            for c in &d.checks {
                let _ = writeln!(out, "  {:<8} {:<22}   - {}: {}", "", "", c.check, c.detail);
            }
        }
    }
    let mut missing: BTreeMap<(&str, &str), (usize, &str)> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.status != Status::Firing) {
        let e = missing
            .entry((f.rule.as_str(), f.status.as_str()))
            .or_insert((0, f.summary.as_str()));
        e.0 += 1;
    }
    if !missing.is_empty() {
        let _ = writeln!(out, "\nNo data (not counted as findings)");
        for ((rule, status), (count, example)) in missing {
            let _ = writeln!(
                out,
                "  {:<22} {count:>5} subject{} ({}): e.g. {example}",
                rule,
                if count == 1 { "" } else { "s" },
                if status == "keep" {
                    "holding last state"
                } else {
                    "info"
                },
            );
        }
    }
    out
}
