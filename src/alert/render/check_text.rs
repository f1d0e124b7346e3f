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
pub fn check_table(
    lang: Lang,
    at: NaiveDate,
    findings: &[Finding],
    names: &AccountNames,
) -> String {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::RuleId;
    use crate::model::finding::{Check, Diagnosis, Subject, Window};
    use crate::model::names::Names;

    /// Fixed English words the table must not show in Chinese.
    pub(crate) const ENGLISH: &[&str] = &[
        "check first",
        "critical",
        "CRITICAL",
        "warning",
        "WARNING",
        "No data",
        "finding",
        "subject",
        "holding last state",
        "e.g.",
        "as of",
        "Customer experience",
        "Sales growth",
        "Operating leverage",
        "out of stock",
        "conversion",
        "traffic",
        "diagnosis",
        "sku ",
        "asin ",
        "campaign ",
        "English",
    ];

    fn at() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
    }

    fn market() -> Subject {
        Subject {
            account: "shop".into(),
            marketplace: "ATVPDKIKX0DER".into(),
            ..Subject::default()
        }
    }

    fn finding(rule: RuleId, severity: Severity, subject: Subject, value: f64) -> Finding {
        Finding {
            rule,
            severity,
            status: Status::Firing,
            subject,
            value: Some(value),
            threshold: Some(8.0),
            window: Some(Window::last(at(), 14)),
            evidence: vec![("available".into(), json!(0)), ("units".into(), json!(49))],
            summary: format!("{} in English", rule.as_str()),
            check_first: "English advice".into(),
            diagnosis: None,
        }
    }

    fn findings() -> Vec<Finding> {
        let mut stall = finding(
            RuleId::GrowthStall,
            Severity::Warning,
            market().asin("B0SPAT0001"),
            336.0,
        );
        stall.evidence = vec![
            ("units".into(), json!(336)),
            ("prior_units".into(), json!(1190)),
            ("sessions".into(), json!(4100)),
            ("prior_sessions".into(), json!(7000)),
        ];
        stall.threshold = Some(1190.0);
        stall.diagnosis = Some(Diagnosis {
            conversion_fell: Some(false),
            traffic_fell: Some(true),
            checks: vec![Check {
                check: "buy_box",
                detail: "buy box held 71% in English".into(),
                evidence: vec![("buy_box_pct".into(), json!(71.7))],
            }],
            other_rules: vec![],
        });
        let mut nodata = finding(RuleId::AccountHealth, Severity::Info, market(), 0.0);
        nodata.status = Status::Keep;
        nodata.summary = "no data: English".into();
        let mut all = vec![
            finding(
                RuleId::StockoutRisk,
                Severity::Critical,
                market().sku("FW-SPATULA-01"),
                0.0,
            ),
            finding(
                RuleId::ConversionRate,
                Severity::Warning,
                market().asin("B0SPAT0001"),
                4.1,
            ),
            stall,
            finding(
                RuleId::WastedSpend,
                Severity::Warning,
                market().campaign(1005).search_term("silicone spatula"),
                31.0,
            ),
            nodata,
        ];
        crate::rules::sort(&mut all);
        all
    }

    fn names() -> AccountNames {
        let m = "ATVPDKIKX0DER".to_string();
        let mut n = Names::default();
        n.skus.insert(
            (m.clone(), "FW-SPATULA-01".into()),
            "Flywheel Silicone Spatula Set of 3".into(),
        );
        n.asins
            .insert((m, "B0SPAT0001".into()), "Silicone Spatula".into());
        n.campaigns
            .insert("1005".into(), "SP - Spatula - Manual".into());
        [("shop".to_string(), n)].into()
    }

    #[test]
    fn english_is_the_table_the_command_always_printed() {
        let t = check_table(Lang::En, at(), &findings(), &names());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "flywheel check as of 2026-03-02: 4 findings (1 critical, 3 warning)"
        );
        assert!(t.contains("\n2. Sales growth\n"), "{t}");
        assert!(t.contains("\n3. Operating leverage\n"), "{t}");
        assert!(
            t.contains(&format!(
                "  {:<8} {:<22} {:<40} {}",
                "CRITICAL",
                "stockout_risk",
                "sku FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3",
                "stockout_risk in English"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "  {:<8} {:<22} check first: English advice",
                "", ""
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "  {:<8} {:<22}   - buy_box: buy box held 71% in English",
                "", ""
            )),
            "{t}"
        );
        assert!(t.contains("\nNo data (not counted as findings)\n"), "{t}");
        assert!(
            t.contains(&format!(
                "  {:<22} {:>5} subject (holding last state): e.g. no data: English",
                "account_health", 1
            )),
            "{t}"
        );
        let stockout: Vec<Finding> = findings()
            .into_iter()
            .filter(|f| f.rule == RuleId::StockoutRisk)
            .collect();
        let one = check_table(Lang::En, at(), &stockout, &names());
        assert!(
            one.starts_with("flywheel check as of 2026-03-02: 1 finding (1 critical, 0 warning)\n"),
            "{one}"
        );
    }

    #[test]
    fn chinese_has_no_english_fixed_phrase_and_chinese_rule_titles() {
        let t = check_table(Lang::ZhCn, at(), &findings(), &names());
        println!("{t}");
        for e in ENGLISH {
            assert!(!t.contains(e), "{e:?} in\n{t}");
        }
        assert!(
            t.starts_with(
                "flywheel 检查（截至 2026-03-02）：发现 4 个问题（1 个严重，3 个警告）\n"
            ),
            "{t}"
        );
        for rule in [
            RuleId::StockoutRisk,
            RuleId::ConversionRate,
            RuleId::GrowthStall,
            RuleId::WastedSpend,
            RuleId::AccountHealth,
        ] {
            assert!(
                t.contains(&i18n::rule_title(Lang::ZhCn, rule)),
                "{rule:?}\n{t}"
            );
        }
        for words in [
            "第 2 环：销量增长",
            "第 3 环：运营杠杆",
            "严重",
            "警告",
            "已断货",
            "SKU FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3",
            "ASIN B0SPAT0001 · Silicone Spatula",
            "广告活动 1005 “silicone spatula” · SP - Spatula - Manual",
            "优先排查：",
            "诊断：销量下降",
            "缺少数据（不计入问题）",
            "保持上次状态",
        ] {
            assert!(t.contains(words), "{words:?} not in\n{t}");
        }
        // Columns line up by display width: the subject column starts in
        // the same terminal column whatever the rule title's length.
        let col = |line: &str, at: &str| crate::i18n::text::width(&line[..line.find(at).unwrap()]);
        let row = |s: &str| t.lines().find(|l| l.contains(s)).unwrap();
        assert_eq!(
            col(row("转化率 4.1%"), "ASIN"),
            col(row("订购 336"), "ASIN")
        );
        assert_eq!(col(row("已断货"), "SKU"), col(row("订购 336"), "ASIN"));
        assert_eq!(col(row("已断货"), "SKU"), 2 + SEVERITY_W + 1 + RULE_W + 1);
    }
}
