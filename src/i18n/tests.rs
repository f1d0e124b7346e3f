//! The message files agree with each other and with the code: every id in
//! every language, a title and a check per rule, a label per evidence key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fluent_syntax::ast::{self, Entry};
use serde_json::json;

use super::evidence::{self, format_evidence, Kind};
use super::*;
use crate::model::marketplace::{lookup as market, MARKETPLACES};

fn locales() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("locales")
}

/// The message ids of every `.ftl` file of one language, by file name.
fn ids(lang: Lang) -> BTreeSet<(String, String)> {
    let dir = locales().join(lang.as_str());
    let mut out = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no message files in {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let resource = fluent_syntax::parser::parse(text.as_str())
            .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
        for entry in resource.body {
            match entry {
                Entry::Message(m) => {
                    assert!(
                        out.insert((file.clone(), m.id.name.to_string())),
                        "{}: `{}` twice",
                        path.display(),
                        m.id.name
                    );
                }
                Entry::Term(t) => {
                    out.insert((file.clone(), format!("-{}", t.id.name)));
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn every_message_id_is_in_every_language() {
    let en = ids(Lang::En);
    for lang in Lang::ALL {
        let other = ids(*lang);
        let missing: Vec<_> = en.difference(&other).collect();
        let extra: Vec<_> = other.difference(&en).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{lang}: missing (file, id) {missing:?}; not in en {extra:?}"
        );
    }
}

/// The variables a message uses, from its parsed pattern.
fn variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    fn expr(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Inline(i) => inline(i, out),
            ast::Expression::Select { selector, variants } => {
                inline(selector, out);
                for v in variants {
                    variables(&v.value, out);
                }
            }
        }
    }
    fn inline(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_string());
            }
            ast::InlineExpression::Placeable { expression } => expr(expression, out),
            _ => {}
        }
    }
    for el in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expr(expression, out);
        }
    }
}

#[test]
fn every_id_renders_in_every_language() {
    let mut rendered = 0;
    for lang in Lang::ALL {
        let dir = locales().join(lang.as_str());
        for path in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            let text = std::fs::read_to_string(&path).unwrap();
            let resource = fluent_syntax::parser::parse(text.as_str()).unwrap();
            for entry in &resource.body {
                let Entry::Message(m) = entry else { continue };
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    variables(p, &mut vars);
                }
                // Every variable as the number 2: a valid plural selector
                // and printable text.
                let args: Vec<(&str, Arg)> =
                    vars.iter().map(|v| (v.as_str(), Arg::Num(2.0))).collect();
                let got = try_tr(*lang, m.id.name, &args)
                    .unwrap_or_else(|| panic!("{lang} cannot format `{}`", m.id.name));
                assert!(
                    !got.is_empty() && !got.contains('{'),
                    "{lang} {}: {got:?}",
                    m.id.name
                );
                rendered += 1;
            }
        }
    }
    assert!(rendered > 300, "{rendered}");
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_rule_has_a_title_and_a_check_in_every_language() {
    for rule in RuleId::ALL {
        for lang in Lang::ALL {
            let (title, check) = (rule_title(*lang, *rule), check_first(*lang, *rule));
            assert!(!title.starts_with("rule-"), "{lang} {rule}: {title}");
            assert!(
                check.len() > 20 && !check.starts_with("rule-"),
                "{lang} {rule}: {check}"
            );
        }
        let zh = rule_title(Lang::ZhCn, *rule);
        assert!(
            has_cjk(&zh),
            "{rule}: the zh-CN title {zh:?} is not Chinese"
        );
        assert!(has_cjk(&check_first(Lang::ZhCn, *rule)), "{rule}");
    }
    assert_eq!(rule_title(Lang::En, RuleId::StockoutRisk), "stockout risk");
    assert_eq!(rule_title(Lang::ZhCn, RuleId::StockoutRisk), "断货风险");
    assert_eq!(rule_title(Lang::ZhCn, RuleId::BuyBox), "购物车丢失");
}

#[test]
fn links_have_names_and_states() {
    let cases: &[(Link, &str, &str)] = &[
        (Link::Experience, "customer experience", "客户体验"),
        (Link::Growth, "sales growth", "销量增长"),
        (Link::Leverage, "operating leverage", "运营杠杆"),
        (Link::Meta, "flywheel itself", "flywheel 自身"),
    ];
    for (link, en, zh) in cases {
        assert_eq!(link_name(Lang::En, *link), *en);
        assert_eq!(link_name(Lang::ZhCn, *link), *zh);
    }
    let states: &[(usize, usize, &str, &str)] = &[
        (0, 0, "healthy", "健康"),
        (1, 0, "1 warning", "1 条警告"),
        (3, 0, "3 warnings", "3 条警告"),
        (0, 1, "1 critical", "1 条严重"),
        (2, 1, "1 critical, 2 warnings", "1 条严重，2 条警告"),
    ];
    for (w, c, en, zh) in states {
        assert_eq!(link_state(Lang::En, *w, *c), *en);
        assert_eq!(link_state(Lang::ZhCn, *w, *c), *zh);
    }
}

#[test]
fn severities_and_marketplaces_have_words() {
    for s in [Severity::Critical, Severity::Warning, Severity::Info] {
        assert_eq!(severity(Lang::En, s), s.as_str());
        assert_eq!(severity_tag(Lang::En, s), s.as_str().to_uppercase());
        assert!(has_cjk(&severity(Lang::ZhCn, s)));
    }
    assert_eq!(severity(Lang::ZhCn, Severity::Critical), "严重");
    for m in MARKETPLACES {
        for lang in Lang::ALL {
            let name = marketplace_name(*lang, m);
            assert!(!name.starts_with("marketplace-"), "{lang} {}", m.country);
        }
    }
    assert_eq!(
        marketplace_name(Lang::ZhCn, market("US").unwrap()),
        "美国站"
    );
}

#[test]
fn arguments_carry_no_isolation_marks() {
    for lang in Lang::ALL {
        let s = tr_args(*lang, "history-starts", &[("date", "2026-03-02".into())]);
        assert!(s.contains("2026-03-02"), "{s}");
        assert!(!s.contains('\u{2068}') && !s.contains('\u{2069}'), "{s:?}");
    }
    assert_eq!(
        tr_args(
            Lang::En,
            "history-starts",
            &[("date", "Mar 2, 2026".into())]
        ),
        "history starts Mar 2, 2026"
    );
    assert_eq!(tr(Lang::En, "no-such-id"), "no-such-id");
}

/// The fixed phrases of today's alert email, each with its message id: a
/// later step switches the renderer to these.
#[test]
fn the_alert_emails_fixed_phrases_are_here() {
    let cases: &[(&str, &str, &str)] = &[
        ("what-to-check-first", "What to check first", "优先排查"),
        ("evidence", "Evidence", "数据依据"),
        ("acknowledge", "Acknowledge", "确认"),
        ("silence", "Silence", "静默"),
        ("window", "Window", "统计区间"),
        ("value", "Value", "数值"),
        ("threshold", "threshold", "阈值"),
        ("kind-new", "NEW", "新告警"),
        ("kind-still-firing", "STILL FIRING", "告警中"),
        ("kind-resolved", "RESOLVED", "已恢复"),
        ("severity-critical", "critical", "严重"),
        ("severity-warning", "warning", "警告"),
        ("severity-info", "info", "提示"),
        ("do-first", "Do first", "今日优先处理"),
        ("diagnosis", "Diagnosis", "诊断"),
    ];
    for (id, en, zh) in cases {
        assert_eq!(tr(Lang::En, id), *en, "{id}");
        assert_eq!(tr(Lang::ZhCn, id), *zh, "{id}");
    }
    let footer = tr_args(
        Lang::ZhCn,
        "footer-sent",
        &[
            ("time", "2026-03-02 03:00".into()),
            ("zone", "America/Los_Angeles".into()),
        ],
    );
    assert_eq!(
        footer,
        "由 flywheel 于 2026-03-02 03:00（America/Los_Angeles）发送。"
    );
}

/// The evidence keys the rules write, read from their source: the first
/// element of every pair inside an `ev![...]`, and the name a helper that
/// builds evidence is called with (`.evidence("ad_spend", …)`).
fn rule_evidence_keys() -> BTreeSet<String> {
    let sources = [
        include_str!("../rules/experience.rs"),
        include_str!("../rules/growth.rs"),
        include_str!("../rules/leverage.rs"),
        include_str!("../rules/meta.rs"),
    ];
    let mut keys = BTreeSet::new();
    for src in sources {
        let code = src.split("#[cfg(test)]").next().unwrap();
        for (start, _) in code.match_indices("ev![") {
            // The macro's body, to its closing bracket.
            let body = &code[start + 4..];
            let mut depth = 1;
            let end = body
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '[' | '(' | '{' => depth += 1,
                        ']' | ')' | '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("ev! closes");
            let body = &body[..end];
            // A pair opens with `("key",` (possibly across lines).
            let mut rest = body;
            while let Some(i) = rest.find('(') {
                rest = &rest[i + 1..];
                let t = rest.trim_start();
                if let Some(q) = t.strip_prefix('"') {
                    let key: String = q.chars().take_while(|c| *c != '"').collect();
                    let after = q[key.len() + 1..].trim_start();
                    if after.starts_with(',')
                        && !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    {
                        keys.insert(key);
                    }
                }
            }
        }
        for (start, _) in code.match_indices(".evidence(\"") {
            let key: String = code[start + 11..]
                .chars()
                .take_while(|c| *c != '"')
                .collect();
            keys.insert(key);
        }
    }
    keys
}

fn is_snake_identifier(s: &str) -> bool {
    s.contains('_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn every_evidence_key_the_rules_write_has_a_label_in_every_language() {
    let found = rule_evidence_keys();
    assert!(found.len() > 100, "the ev! parser found only {found:?}");
    let must = "is_suppressed order_ids stale_jobs pre_fulfillment_cancel_rate_pct";
    for key in must.split(' ') {
        assert!(found.contains(key), "{key} not found in the rules");
    }
    let known: BTreeSet<String> = evidence::keys().map(str::to_string).collect();
    let unlabelled: Vec<_> = found.difference(&known).collect();
    assert!(
        unlabelled.is_empty(),
        "evidence keys without a label: {unlabelled:?}"
    );
    let unused: Vec<_> = known.difference(&found).collect();
    assert!(
        unused.is_empty(),
        "labels for keys no rule writes: {unused:?}"
    );
    for key in &found {
        for rule in RuleId::ALL {
            for lang in Lang::ALL {
                let label = evidence::label(*lang, *rule, key);
                assert!(
                    !label.starts_with("ev-") && !is_snake_identifier(&label) && !label.is_empty(),
                    "{lang} {rule} {key}: {label:?}"
                );
            }
        }
        assert!(has_cjk(&evidence::label(Lang::ZhCn, RuleId::ListingHealth, key)) || key == "cpc");
    }
}

#[test]
fn evidence_values_read_as_words_and_amounts() {
    let us = market("US").unwrap();
    let jp = market("JP").unwrap();
    let de = market("DE").unwrap();
    let r = RuleId::ListingHealth;
    let cases: &[(
        Lang,
        RuleId,
        &Marketplace,
        &str,
        serde_json::Value,
        &str,
        &str,
    )] = &[
        (
            Lang::En,
            r,
            us,
            "is_suppressed",
            json!(true),
            "Suppressed",
            "suppressed (not buyable)",
        ),
        (
            Lang::ZhCn,
            r,
            us,
            "is_suppressed",
            json!(true),
            "抑制状态",
            "已被抑制（不可购买）",
        ),
        (
            Lang::En,
            r,
            us,
            "is_discoverable",
            json!(false),
            "In search results",
            "not shown in search",
        ),
        (
            Lang::En,
            RuleId::BuyBox,
            us,
            "our_price",
            json!(28.0),
            "Your price",
            "$28.00",
        ),
        (
            Lang::ZhCn,
            RuleId::BuyBox,
            us,
            "our_price",
            json!(28.0),
            "我方售价",
            "US$28.00",
        ),
        (
            Lang::En,
            RuleId::MarginFloor,
            jp,
            "price",
            json!(1234.5),
            "Price",
            "¥1,235",
        ),
        (
            Lang::En,
            RuleId::AcosBand,
            de,
            "cost",
            json!(1234.5),
            "Ad spend",
            "€1,234.50",
        ),
        (
            Lang::En,
            RuleId::WastedSpend,
            us,
            "cost",
            json!(17.4),
            "Spend on this search term",
            "$17.40",
        ),
        (
            Lang::En,
            RuleId::AccountHealth,
            us,
            "pre_fulfillment_cancel_rate_pct",
            json!(3.25),
            "Cancellations before shipping",
            "3.3%",
        ),
        (
            Lang::ZhCn,
            RuleId::AccountHealth,
            us,
            "order_defect_rate_pct",
            json!(1.2),
            "订单缺陷率（ODR）",
            "1.2%",
        ),
        (
            Lang::En,
            RuleId::FeedbackResponseSla,
            us,
            "oldest_age_hours",
            json!(31.0),
            "Oldest waiting for",
            "31 h",
        ),
        (
            Lang::ZhCn,
            RuleId::FeedbackResponseSla,
            us,
            "oldest_age_hours",
            json!(31.0),
            "最早一条已等待",
            "31 小时",
        ),
        (
            Lang::En,
            RuleId::StockoutRisk,
            us,
            "days_of_cover",
            json!(1.0),
            "Days of cover",
            "1 day",
        ),
        (
            Lang::ZhCn,
            RuleId::StockoutRisk,
            us,
            "days_of_cover",
            json!(12.5),
            "可售天数",
            "12.5 天",
        ),
        (
            Lang::En,
            RuleId::StockoutRisk,
            us,
            "available",
            json!(1234.0),
            "Available",
            "1,234",
        ),
        (
            Lang::En,
            RuleId::KeywordShare,
            us,
            "impression_share",
            json!(0.153),
            "Impression share",
            "15.3%",
        ),
        (
            Lang::En,
            RuleId::KeywordShare,
            us,
            "query",
            json!("water bottle"),
            "Search term",
            "\"water bottle\"",
        ),
        (
            Lang::ZhCn,
            RuleId::KeywordShare,
            us,
            "query",
            json!("water bottle"),
            "搜索词",
            "“water bottle”",
        ),
        (
            Lang::En,
            RuleId::BsrTrend,
            us,
            "median_rank",
            json!(12345.0),
            "Median BSR",
            "#12,345",
        ),
        (
            Lang::ZhCn,
            RuleId::BsrTrend,
            us,
            "median_rank",
            json!(12345.0),
            "BSR 排名中位数",
            "第 12,345 名",
        ),
        (
            Lang::En,
            RuleId::RatingFloor,
            us,
            "rating",
            json!(4.3),
            "Star rating",
            "4.3★",
        ),
        (
            Lang::En,
            RuleId::RatingFloor,
            us,
            "rating_date",
            json!("2026-03-02"),
            "Rating as of",
            "Mar 2, 2026",
        ),
        (
            Lang::ZhCn,
            RuleId::InventoryTurnover,
            us,
            "snapshot_date",
            json!("2026-03-02"),
            "数据日期",
            "2026年3月2日",
        ),
        (
            Lang::En,
            RuleId::ReturnRate,
            us,
            "top_reason",
            json!("DEFECTIVE"),
            "Top return reason",
            "DEFECTIVE",
        ),
        (
            Lang::En,
            RuleId::ReturnRate,
            us,
            "top_reason",
            json!(null),
            "Top return reason",
            "unknown",
        ),
        (
            Lang::En,
            RuleId::AcosBand,
            us,
            "ad_product",
            json!("SPONSORED_PRODUCTS"),
            "Ad type",
            "Sponsored Products",
        ),
        (
            Lang::ZhCn,
            RuleId::AcosBand,
            us,
            "ad_product",
            json!("SPONSORED_BRANDS"),
            "广告类型",
            "品牌推广（SB）",
        ),
        (
            Lang::En,
            RuleId::Tacos,
            us,
            "sales_source",
            json!("sales_traffic"),
            "Total sales from",
            "the Sales and Traffic report",
        ),
        (
            Lang::En,
            RuleId::Credentials,
            us,
            "days_to_expiry",
            json!(-3.0),
            "Client secret expires in",
            "expired 3 days ago",
        ),
        (
            Lang::ZhCn,
            RuleId::Credentials,
            us,
            "days_to_expiry",
            json!(-3.0),
            "client secret 剩余有效期",
            "已于 3 天前过期",
        ),
        (
            Lang::En,
            RuleId::ReviewTopics,
            us,
            "rise_points",
            json!(3.2),
            "Rise",
            "3.2 pts",
        ),
        (
            Lang::En,
            RuleId::ReviewTopics,
            us,
            "node_ratio",
            json!(1.8),
            "Compared with its category",
            "1.8×",
        ),
        (
            Lang::En,
            RuleId::FeedbackResponseSla,
            us,
            "order_ids",
            json!(["111-1", "111-2", "111-3", "111-4", "111-5", "111-6", "111-7"]),
            "Order IDs",
            "111-1, 111-2, 111-3, 111-4, 111-5, and 2 more",
        ),
        (
            Lang::ZhCn,
            RuleId::FeedbackResponseSla,
            us,
            "order_ids",
            json!(["111-1", "111-2"]),
            "订单号",
            "111-1，111-2",
        ),
        (
            Lang::En,
            RuleId::DataFreshness,
            us,
            "stale_jobs",
            json!([{"job": "orders", "hours_since": 31.0, "allowed_hours": 8.0, "last_status": "error"}]),
            "Data not updated",
            "orders: 31 h (allowed 8 h)",
        ),
        (
            Lang::ZhCn,
            RuleId::DataFreshness,
            us,
            "stale_jobs",
            json!([{"job": "orders", "hours_since": 31.0, "allowed_hours": 8.0}]),
            "未更新的数据",
            "orders：已 31 小时 未更新（允许 8 小时）",
        ),
    ];
    for (lang, rule, mkt, key, value, label, text) in cases {
        let got = format_evidence(*lang, *rule, key, value, mkt);
        assert_eq!(
            got,
            (label.to_string(), text.to_string()),
            "{lang} {rule} {key} {value}"
        );
    }
    assert!(evidence::is_hidden(RuleId::ListingHealth, "statuses"));
    assert!(!evidence::is_hidden(RuleId::ListingHealth, "is_suppressed"));
    assert_eq!(
        evidence::spec(RuleId::AcosBand, "cost").unwrap().kind,
        Kind::Money
    );
    // A key no rule writes still reads as words.
    assert_eq!(
        evidence::label(Lang::En, r, "new_thing_pct"),
        "New thing pct"
    );
}
