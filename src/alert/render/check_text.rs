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
//!
//! Every line fits [`WIDTH`] columns: a finding is a block whose severity
//! and rule columns lead its first line, and whose subject, phrase, what
//! to check first and diagnosis lines are wrapped under the subject's
//! column ([`wrap`]). The width is fixed, not read from the terminal, so
//! a pipe, a file, a cron mail and a test see what a terminal shows, and
//! 100 columns fit any terminal a seller is likely to read it in.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::alert_item::{diagnosis_checks, diagnosis_headline, is_out_of_stock, phrase};
use crate::alert::{Item, ItemKind};
use crate::config::{Link, Severity};
use crate::i18n::text::{pad, subject_words, width};
use crate::i18n::{self, tr, tr_args, Lang};
use crate::model::finding::{Finding, Status};
use crate::rules::render::{name_of, AccountNames};

/// Widths of the severity and rule columns (as the English table always had).
const SEVERITY_W: usize = 8;
const RULE_W: usize = 22;
/// The widest line `check` prints.
pub const WIDTH: usize = 100;
/// Where a finding's text starts: after the indent, severity and rule.
const TEXT_COL: usize = 2 + SEVERITY_W + 1 + RULE_W + 1;

/// Punctuation that must not start a line (it stays with what precedes).
fn is_closing(c: char) -> bool {
    ",.;:!?)]}%，。、；：！？）】」』”’》".contains(c)
}

/// Punctuation that must not end a line (it stays with what follows).
fn is_opening(c: char) -> bool {
    "([{（【「『“‘《".contains(c)
}

fn is_wide(c: char) -> bool {
    unicode_width::UnicodeWidthChar::width(c) == Some(2)
}

/// `text` in lines of at most `max` display columns, broken at spaces and
/// between Chinese characters (which have none between them), never
/// before closing or after opening punctuation; a word longer than a line
/// is cut.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        // The units that may not be broken, each with whether a space
        // precedes it.
        let mut units: Vec<(String, bool)> = Vec::new();
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let mut spaced = true;
            let mut prev: Option<char> = None;
            for c in word.chars() {
                let breaks = prev.is_some_and(|p| {
                    (is_wide(c) || is_wide(p)) && !is_closing(c) && !is_opening(p)
                });
                if prev.is_none() || breaks {
                    units.push((String::new(), spaced));
                    spaced = false;
                }
                if let Some((u, _)) = units.last_mut() {
                    u.push(c);
                }
                prev = Some(c);
            }
        }
        // A paragraph's own indent (a right-aligned count) stays.
        let mut line = " ".repeat(para.len() - para.trim_start_matches(' ').len());
        for (unit, spaced) in units {
            let gap = usize::from(spaced && !line.trim_start().is_empty());
            if !line.trim_start().is_empty() && width(&line) + gap + width(&unit) > max {
                lines.push(std::mem::take(&mut line));
            } else if gap == 1 {
                line.push(' ');
            }
            for c in unit.chars() {
                if !line.is_empty() && width(&line) + width(c.encode_utf8(&mut [0; 4])) > max {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        lines.push(line);
    }
    lines
}

/// Writes `text` wrapped to fit [`WIDTH`] from column `col`: the first
/// line after `first` (padded to `col`), the others indented to `col`.
fn write_wrapped(out: &mut String, first: &str, col: usize, text: &str) {
    let indent = " ".repeat(col);
    for (i, line) in wrap(text, WIDTH - col).iter().enumerate() {
        let lead = if i == 0 {
            pad(first, col)
        } else {
            indent.clone()
        };
        let _ = writeln!(out, "{}", format!("{lead}{line}").trim_end());
    }
}

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
    let mut last_link = None;
    for f in &firing {
        if last_link != Some(f.link()) {
            last_link = Some(f.link());
            let _ = writeln!(out, "\n{}", link_title(lang, f.link()));
        }
        let (said, check, details) = finding_words(lang, f);
        let lead = format!(
            "  {} {} ",
            pad(&i18n::severity_tag(lang, f.severity), SEVERITY_W),
            pad(&rule_cell(lang, f), RULE_W),
        );
        // A rule title wider than its column starts the text on its own line.
        if width(&lead) > TEXT_COL {
            let _ = writeln!(out, "{}", lead.trim_end());
            write_wrapped(&mut out, "", TEXT_COL, &subject(lang, f, names));
        } else {
            write_wrapped(&mut out, &lead, TEXT_COL, &subject(lang, f, names));
        }
        write_wrapped(&mut out, "", TEXT_COL, &said);
        let check = tr_args(lang, "cli-check-first", &[("text", check.into())]);
        write_wrapped(&mut out, "", TEXT_COL, &check);
        // A diagnosis line's continuation sits under its text, after "- ".
        for d in details {
            let hang = if d.starts_with("- ") { 2 } else { 0 };
            let col = TEXT_COL + 2;
            for (i, line) in wrap(&d[hang..], WIDTH - col - hang).iter().enumerate() {
                let lead = if i == 0 { &d[..hang] } else { "" };
                let _ = writeln!(out, "{}{}{line}", " ".repeat(col), pad(lead, hang));
            }
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
            // Continuation lines sit under the status, after the count.
            let lead = format!("  {} ", pad(&rule_cell(lang, f), RULE_W));
            let col = width(&lead);
            for (i, part) in wrap(&line, WIDTH - col - 6).iter().enumerate() {
                let lead = if i == 0 {
                    lead.clone()
                } else {
                    " ".repeat(col + 6)
                };
                let _ = writeln!(out, "{}", format!("{lead}{part}").trim_end());
            }
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
        // A finding is a block: severity and rule, then its subject, what
        // happened and what to check first under the subject's column.
        assert!(
            t.contains(&format!(
                "\n  {:<8} {:<22} {}\n{:34}{}\n{:34}{}\n",
                "CRITICAL",
                "stockout_risk",
                "sku FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3",
                "",
                "stockout_risk in English",
                "",
                "check first: English advice"
            )),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "\n  {:<8} {:<22}   - buy_box: buy box held 71% in English\n",
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
        let text_col = |s: &str| col(row(s), s);
        assert_eq!(text_col("SKU FW-SPATULA-01"), TEXT_COL);
        assert_eq!(text_col("ASIN B0SPAT0001"), TEXT_COL);
        assert_eq!(text_col("已断货"), TEXT_COL);
        assert_eq!(text_col("转化率 4.1%"), TEXT_COL);
        assert_eq!(TEXT_COL, 2 + SEVERITY_W + 1 + RULE_W + 1);
    }

    /// Long names, phrases and diagnoses, for every rule.
    fn long_findings() -> Vec<Finding> {
        let mut all = findings();
        for f in &mut all {
            f.summary = format!("{} {}", f.summary, "and then some more words ".repeat(9));
            f.check_first = "the listing's price, images and A+ content, ".repeat(4);
            if let Some(d) = &mut f.diagnosis {
                d.checks[0].detail = "buy box held 71% while a reseller undercut ".repeat(5);
            }
        }
        for &rule in RuleId::ALL {
            all.push(finding(
                rule,
                Severity::Warning,
                market().sku("FW-SPATULA-01"),
                1.0,
            ));
        }
        all
    }

    fn long_names() -> AccountNames {
        let mut n = names();
        let long = "Flywheel Silicone Spatula Set of 3, Heat Resistant to 600°F, Seamless One-Piece Design, Dishwasher Safe 硅胶铲三件套 耐高温 一体成型";
        for name in n.get_mut("shop").unwrap().skus.values_mut() {
            *name = long.into();
        }
        n
    }

    #[test]
    fn every_line_fits_100_columns_in_english_and_chinese() {
        for lang in [Lang::En, Lang::ZhCn] {
            let t = check_table(lang, at(), &long_findings(), &long_names());
            for line in t.lines() {
                assert!(
                    width(line) <= WIDTH,
                    "{} columns in {lang:?}: {line}\n{t}",
                    width(line)
                );
            }
            // Nothing is lost to the wrapping: the long name is all there.
            let joined: String = t.split_whitespace().collect();
            assert!(joined.contains("硅胶铲三件套耐高温一体成型"), "{t}");
            assert!(joined.contains("Resistantto600°F,"), "{t}");
        }
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_between_chinese_characters() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("   1 x", 10), ["   1 x"]);
        // A word longer than the line is cut.
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        // Chinese breaks between characters, never before a closing mark.
        assert_eq!(wrap("已断货，请补货", 6), ["已断", "货，请", "补货"]);
        assert_eq!(
            wrap("订购 336 件（上周 1190）", 12),
            ["订购 336 件", "（上周", "1190）"]
        );
        for (text, max) in [("ab 已断货 cd", 4), ("x（y）z", 2)] {
            for line in wrap(text, max) {
                assert!(width(&line) <= max, "{line:?}");
            }
        }
    }
}
