//! Printing findings for `flywheel check`: a table grouped by flywheel link,
//! most severe first, or the JSON document `{"at", "findings": [...]}`.
//! Pure: strings in, strings out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Finding, Status};
use crate::config::Link;

/// `{"at": DATE, "findings": [...]}` (one line per finding, for diffs).
pub fn json(at: NaiveDate, findings: &[Finding]) -> String {
    let mut out = format!("{{\"at\": \"{at}\", \"findings\": [");
    for (i, f) in findings.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&serde_json::to_string(f).expect("a finding serializes"));
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
pub fn table(at: NaiveDate, findings: &[Finding]) -> String {
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
            f.subject.label(),
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
