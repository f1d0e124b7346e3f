//! The alert commands through the real binary, on the demo scenario synced
//! from the simulated marketplace, with email going to the in-process SMTP
//! server on 127.0.0.1: `evaluate` sends one grouped email whose alerts are
//! the rules' findings, a second `evaluate` sends nothing, `alerts` lists
//! them, `ack` and `silence` mute with an expiry, `digest` writes and sends
//! the weekly digest, and `send-test-email` goes through. `--format csv`
//! of `check`, `kpis` and `alerts` holds the JSON records, the `check`
//! table fits 100 columns in English and Chinese, and `kpis` shows the
//! change against last week.

mod common;
#[path = "common/links.rs"]
mod links;
use links::assert_only_amazon_links;
#[path = "common/smtp.rs"]
mod smtp;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

/// Runs the real binary; returns (exit code, stdout, stderr).
async fn flywheel(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_flywheel"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("the flywheel binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn ok(args: &[&str]) -> String {
    let (code, out, err) = flywheel(args).await;
    assert_eq!(code, 0, "flywheel {}:\n{out}\n{err}", args.join(" "));
    out
}

/// The harness's config with `[email]` pointed at the test SMTP server.
fn smtp_config(h: &common::Harness, port: u16) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&h.config_path).unwrap();
    let p = h.dir.path().join("smtp.toml");
    let text = format!("{text}{}", common::QUIET_STALENESS);
    std::fs::write(&p, smtp::with_smtp(&text, port)).unwrap();
    p
}

fn parse(raw: &[u8]) -> mail_parser::Message<'static> {
    MessageParser::default()
        .parse(raw)
        .expect("valid MIME")
        .into_owned()
}

/// The checks every email must pass: text and HTML, no scripts or external
/// resources, under 100 KB, every cid: image attached and a valid PNG.
fn check_email(m: &mail_parser::Message<'_>) {
    let text = m.body_text(0).expect("a text part");
    assert!(!text.trim().is_empty());
    let html = m.body_html(0).expect("an HTML part");
    assert!(html.len() < 100 * 1024, "HTML is {} bytes", html.len());
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "script in HTML");
    assert_only_amazon_links(&html);
    let cids: Vec<String> = lower
        .match_indices("cid:")
        .map(|(i, _)| {
            lower[i + 4..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '>'))
                .collect()
        })
        .collect();
    for cid in &cids {
        let part = m
            .attachments()
            .find(|p| p.content_id().map(|c| c.to_ascii_lowercase()) == Some(cid.clone()))
            .unwrap_or_else(|| panic!("no inline part for cid:{cid}"));
        let data = part.contents();
        let dec = png::Decoder::new(std::io::Cursor::new(data.to_vec()));
        let reader = dec.read_info().expect("the chart is a PNG");
        assert!(reader.info().width > 0);
    }
}

/// The demo's first alert email as a seller reads it (issue 16): the three
/// links' state, then at most five "Do first" lines, critical first; the
/// spatula by its name with its Amazon pages; no evidence key as a raw
/// identifier anywhere in the body.
fn check_summary_first(m: &mail_parser::Message<'_>) {
    use flywheel::i18n::{link_name, severity_tag, tr, Lang};
    use flywheel::model::rule::{Link, Severity};
    let html = m.body_html(0).unwrap();
    let strip_end = html.find("data-do-first").expect("a Do first list");
    for link in [Link::Experience, Link::Growth, Link::Leverage] {
        let name = link_name(Lang::En, link);
        let at = html
            .find(&name)
            .unwrap_or_else(|| panic!("{name} not in the strip"));
        assert!(at < strip_end, "{name} comes before Do first");
    }
    assert!(html[..strip_end].contains(&tr(Lang::En, "do-first")));
    let list = &html[strip_end..html[strip_end..].find("</ol>").unwrap() + strip_end];
    let items: Vec<&str> = list.split("<li").skip(1).collect();
    assert!(
        (1..=5).contains(&items.len()),
        "{} Do first lines",
        items.len()
    );
    let critical = severity_tag(Lang::En, Severity::Critical);
    let first_warning = items.iter().position(|i| !i.contains(&critical));
    if let Some(w) = first_warning {
        assert!(
            items[w..].iter().all(|i| !i.contains(&critical)),
            "critical lines come first"
        );
    }
    assert!(html.contains("Flywheel Silicone Spatula Set of 3"));
    assert!(html.contains("https://www.amazon.com/dp/B0SIMSPT01"));
    assert!(html.contains("https://sellercentral.amazon.com/"));
    let text = m.body_text(0).unwrap();
    for key in flywheel::i18n::evidence::keys().filter(|k| k.contains('_')) {
        assert!(!html.contains(key), "evidence key {key} in the HTML");
        assert!(!text.contains(key), "evidence key {key} in the text part");
    }
}

/// Each card of an alert email's HTML, by its subject key
/// ("ATVPDKIKX0DER/asin:B0SIMSPT01", ".../campaign:1005", ...).
fn card_blocks(html: &str) -> Vec<(String, String)> {
    html.split("data-card=\"")
        .skip(1)
        .map(|rest| {
            let key = rest[..rest.find('"').unwrap()].to_string();
            let end = rest.find("data-card=\"").unwrap_or(rest.len());
            (key, rest[..end].to_string())
        })
        .collect()
}

/// What a card says of every subject (issue 16), on one of the demo's
/// real emails in either language: no two cards share a subject; a
/// product or campaign card names it (its SKU, ASIN or campaign id stand
/// small beside the name, never as the name); a product card links its
/// retail detail page and Seller Central, a campaign card the advertising
/// console; every chart's highlighted last point reads as the card states
/// its value; no evidence key shows as a raw identifier.
fn check_cards(m: &mail_parser::Message<'_>, lang: &str) {
    let html = m.body_html(0).unwrap();
    let text = m.body_text(0).unwrap();
    let blocks = card_blocks(&html);
    let keys: std::collections::BTreeSet<&String> = blocks.iter().map(|b| &b.0).collect();
    assert_eq!(
        keys.len(),
        blocks.len(),
        "{lang}: two cards share a subject"
    );
    let mut charts = 0;
    for (key, card) in &blocks {
        let (_, who) = key.split_once('/').unwrap();
        let (kind, ids) = who.split_once(':').unwrap();
        if kind != "marketplace" {
            // The name: the card's bold heading.
            let start = card
                .find("font-size:16px;font-weight:bold;\">")
                .unwrap_or_else(|| panic!("{lang} {key}: no name"))
                + "font-size:16px;font-weight:bold;\">".len();
            let name = &card[start..start + card[start..].find("</div>").unwrap()];
            assert!(!name.trim().is_empty(), "{lang} {key}: empty name");
            for id in ids.split(',') {
                assert!(!name.contains(id), "{lang} {key}: named by its id: {name}");
                assert!(card.contains(id), "{lang} {key}: {id} not beside the name");
            }
        }
        match kind {
            "asin" | "sku" => {
                assert!(
                    card.contains("href=\"https://www.amazon.com/dp/"),
                    "{lang} {key}: no detail page link"
                );
                assert!(
                    card.contains("href=\"https://sellercentral.amazon.com/"),
                    "{lang} {key}: no Seller Central link"
                );
            }
            "campaign" => assert!(
                card.contains("href=\"https://advertising.amazon.com/"),
                "{lang} {key}: no advertising console link"
            ),
            _ => {}
        }
        // A chart's legend marks its current point: "■ now 336 (Mar 2)",
        // "■ 最新 336（3月2日）"; the card states the same number.
        for legend in card
            .split("&#9632; ")
            .skip(1)
            .filter(|_| card.contains("cid:"))
        {
            let value = legend
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .split('（')
                .next()
                .unwrap();
            assert!(
                !value.is_empty() && card.matches(value).count() >= 2,
                "{lang} {key}: the chart's last point {value:?} is not the card's value"
            );
            charts += 1;
        }
    }
    println!("{lang}: {} cards, {charts} charts", blocks.len());
    for key in flywheel::i18n::evidence::keys().filter(|k| k.contains('_')) {
        assert!(
            !html.contains(key),
            "{lang}: evidence key {key} in the HTML"
        );
        assert!(
            !text.contains(key),
            "{lang}: evidence key {key} in the text"
        );
    }
}

/// English a zh-CN email must not show (its own words; Amazon's product
/// titles and campaign names stay as Amazon has them).
const ENGLISH: &[&str] = &[
    "What to check first",
    "Do first",
    "critical",
    "warning",
    "CRITICAL",
    "WARNING",
    "Acknowledge",
    "Evidence",
    "STILL FIRING",
    "Still firing",
    "resolved",
    "Product page",
    "Seller Central",
    "Customer experience",
    "customer experience",
    "Sales growth",
    "sales growth",
    "Operating leverage",
    "operating leverage",
    "history starts",
    "Sent by flywheel",
    "as of",
    "per day",
];

/// A zh-CN email: its subject and body hold none of [`ENGLISH`], and the
/// title of every rule it reports is the Chinese one.
fn check_chinese(m: &mail_parser::Message<'_>, rules: &[&str]) {
    use flywheel::i18n::{rule_title, Lang};
    use flywheel::model::rule::RuleId;
    let subject = m.subject().unwrap();
    let html = m.body_html(0).unwrap();
    let text = m.body_text(0).unwrap();
    for phrase in ENGLISH {
        for (part, body) in [("subject", subject), ("HTML", &html), ("text", &text)] {
            assert!(!body.contains(phrase), "zh-CN {part} says {phrase:?}");
        }
    }
    assert!(!rules.is_empty());
    for r in rules {
        let rule = RuleId::parse(r).unwrap();
        let zh = rule_title(Lang::ZhCn, rule);
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{r}: {zh}"
        );
        assert!(
            text.contains(&zh),
            "zh-CN text lacks the title of {r}: {zh}"
        );
        assert!(
            !text.contains(&rule_title(Lang::En, rule)),
            "zh-CN text has {r}'s English title"
        );
    }
}

/// The demo's product titles and campaign names, as the sim's scenario
/// gives them to Amazon's APIs.
const TITLES: [(&str, &str, &str); 2] = [
    (
        "FW-SPATULA-01",
        "B0SIMSPT01",
        "Flywheel Silicone Spatula Set of 3",
    ),
    (
        "FW-TUMBLER-01",
        "B0SIMTMB01",
        "Flywheel Tumbler 20oz with Lid",
    ),
];

/// Records about a product or campaign (`check` findings, `kpis`, `alerts`
/// labels) carry its name: every one in the demo is known; the spatula and
/// the tumbler campaign by the names the sim gives them.
fn check_names(records: &Value) {
    let records = records.as_array().unwrap();
    let mut named = 0;
    for r in records {
        let key = |k: &str| {
            r.get(k)
                .or_else(|| r.get("labels").and_then(|l| l.get(k)))
                .and_then(Value::as_str)
        };
        let product = key("asin").is_some() || key("sku").is_some();
        let campaign = key("campaign_id").is_some();
        if !product && !campaign {
            assert!(r.get("name").is_none(), "a marketplace has no name: {r}");
            continue;
        }
        let name = r["name"]
            .as_str()
            .unwrap_or_else(|| panic!("no name for {r}"));
        named += 1;
        for (sku, asin, title) in TITLES {
            if key("sku") == Some(sku) || key("asin") == Some(asin) {
                assert!(name.contains(title), "{name} for {r}");
            }
        }
        if campaign && !product && key("campaign_id") == Some("1005") {
            assert_eq!(name, "SP - Tumbler - Manual", "{r}");
        }
    }
    assert!(named > 0, "no product or campaign in {records:?}");
}

/// `--format csv` output (after its byte order mark) as read by the `csv`
/// crate: one row per JSON record, every field of the records a column
/// (an object's keys as `field.key` when spread), products named. The
/// sim's clock runs on between the two commands, so ages (and the
/// summaries that state them) may differ: what names the record must
/// be equal, every other field present exactly where it is not null.
fn check_csv(text: &str, records: &Value, at: Option<&str>) {
    let body = text
        .strip_prefix('\u{feff}')
        .expect("CSV starts with the byte order mark Excel needs");
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let records = records.as_array().unwrap();
    assert_eq!(rows.len(), records.len(), "{text}");
    assert_eq!(head[0], "at");
    let col = |k: &str| head.iter().position(|h| h == k);
    let mut named = 0;
    for (row, rec) in rows.iter().zip(records) {
        // `alerts` is as of the reading of the clock, which has moved on.
        assert!(at.is_none_or(|at| &row[0] == at) && !row[0].is_empty());
        for (k, v) in rec.as_object().unwrap() {
            let cell = match v {
                Value::Object(o) if col(k).is_none() => {
                    for (inner, x) in o {
                        let i =
                            col(&format!("{k}.{inner}")).unwrap_or_else(|| panic!("{k}.{inner}"));
                        assert_eq!(row[i], *x.as_str().unwrap_or(&x.to_string()), "{k}.{inner}");
                    }
                    continue;
                }
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let i = col(k).unwrap_or_else(|| panic!("no column {k} in {head:?}"));
            const SAME: &[&str] = &[
                "id",
                "fingerprint",
                "rule",
                "kpi",
                "state",
                "severity",
                "status",
                "account",
                "marketplace",
                "asin",
                "sku",
                "campaign_id",
                "search_term",
                "name",
            ];
            if SAME.contains(&k.as_str()) {
                assert_eq!(row[i], cell, "{k} of {rec}");
            } else {
                assert_eq!(row[i].is_empty(), cell.is_empty(), "{k} of {rec}");
            }
        }
        if col("name").is_some_and(|i| !row[i].is_empty()) {
            named += 1;
        }
    }
    assert!(named > 0, "no product named in {text}");
}

/// Every line of a `check` table fits 100 columns (display width).
fn check_width(table: &str) {
    for line in table.lines() {
        let w = unicode_width::UnicodeWidthStr::width(line);
        assert!(w <= 100, "{w} columns: {line}\n{table}");
    }
}

/// The evaluation round, on a copy of the database (the binary's round
/// below must still send the email): the stockout item carries money at
/// stake, and the email's names name every SKU, ASIN and campaign its
/// items mention.
async fn stake_and_names_of_the_round(h: &common::Harness, cfg: &std::path::Path) {
    // The test's config (data counts as stale only after a day).
    let cfg = flywheel::config::Config::load(cfg, &flywheel::config::Env::default()).unwrap();
    let copy = h.dir.path().join("round-copy.db");
    h.conn()
        .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
        .unwrap();
    let mut conn = flywheel::store::open(&copy).unwrap();
    let round = flywheel::alert::evaluate::round(&mut conn, &cfg, h.now().await).unwrap();
    let email = &round.accounts[0].queued[0];
    let stockout = email
        .items
        .iter()
        .find(|i| i.rule.as_str() == "stockout_risk" && i.key("sku") == Some("FW-SPATULA-01"))
        .expect("the spatula's stockout is in the email");
    let stake = stockout
        .stake
        .as_ref()
        .expect("a stockout has money at stake");
    assert!(stake.per_day > 0.0, "{stake:?}");
    assert_eq!(stake.currency, "USD");
    let share = stake
        .share_of_sales
        .expect("a share of the marketplace's sales");
    assert!(share > 0.0 && share < 1.0, "{stake:?}");
    let n = &email.names;
    for i in &email.items {
        let m = i.key("marketplace").unwrap();
        if let Some(sku) = i.key("sku") {
            assert!(n.product(m, Some(sku), None).is_some(), "sku {sku}");
        }
        if let Some(asin) = i.key("asin") {
            assert!(n.product(m, None, Some(asin)).is_some(), "asin {asin}");
        }
        if let Some(c) = i.key("campaign_id") {
            assert!(n.campaign(c).is_some(), "campaign {c}");
        }
    }
    assert!(n
        .product("ATVPDKIKX0DER", Some("FW-SPATULA-01"), None)
        .is_some_and(|p| p.contains("Silicone Spatula Set of 3")));
    assert_eq!(n.campaign("1005"), Some("SP - Tumbler - Manual"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evaluate_alerts_ack_silence_digest_and_test_email_on_the_demo() {
    let h = common::start(common::Opts::new("demo")).await;
    h.sync_settled(&[]).await;
    let server = smtp::SmtpServer::start().await;
    let cfg_path = smtp_config(&h, server.port());
    let cfg = cfg_path.to_str().unwrap();

    // A copy per language for the rounds at the end, taken before any
    // evaluation.
    let langs: Vec<(&str, std::path::PathBuf, std::path::PathBuf)> = ["en", "zh-CN"]
        .into_iter()
        .map(|lang| {
            let dir = h.dir.path().join(lang);
            (lang, h.language_copy(lang, &dir), dir)
        })
        .collect();

    // What the rules say now.
    let check: Value =
        serde_json::from_str(&ok(&["--config", cfg, "check", "--format", "json"]).await).unwrap();
    let alerts: Vec<&Value> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "firing" && f["severity"] != "info")
        .collect();
    assert!(!alerts.is_empty(), "the demo has findings on its first day");
    check_names(&check["findings"]);
    let table = ok(&["--config", cfg, "check"]).await;
    assert!(
        table.contains("sku FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3"),
        "{table}"
    );
    check_width(&table);
    for (_, lang_cfg, _) in &langs {
        check_width(&ok(&["--config", lang_cfg.to_str().unwrap(), "check"]).await);
    }
    let at = check["at"].as_str().unwrap();
    check_csv(
        &ok(&["--config", cfg, "check", "--format", "csv"]).await,
        &check["findings"],
        Some(at),
    );
    for by in ["asin", "sku", "campaign"] {
        let kpis: Value = serde_json::from_str(
            &ok(&["--config", cfg, "kpis", "--by", by, "--format", "json"]).await,
        )
        .unwrap();
        check_names(&kpis["kpis"]);
        let csv = ok(&["--config", cfg, "kpis", "--by", by, "--format", "csv"]).await;
        check_csv(&csv, &kpis["kpis"], kpis["at"].as_str());
    }
    // The checklist's change against last week: every KPI the demo has
    // a value for both weeks.
    let kpis: Value =
        serde_json::from_str(&ok(&["--config", cfg, "kpis", "--format", "json"]).await).unwrap();
    for kpi in [
        "conversion_rate",
        "sessions",
        "buy_box_pct",
        "acos",
        "tacos",
        "return_rate",
        "negative_feedback_rate",
    ] {
        let k = kpis["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kpi"] == kpi)
            .unwrap_or_else(|| panic!("no {kpi}"));
        assert!(k["change_pct"].is_f64(), "{kpi} has no change: {k}");
    }
    stake_and_names_of_the_round(&h, &cfg_path).await;

    // One round: one grouped email.
    let out = ok(&["--config", cfg, "evaluate"]).await;
    println!("{out}");
    let got = server.messages();
    assert_eq!(got.len(), 1, "{out}");
    let m = parse(&got[0].data);
    check_email(&m);
    check_summary_first(&m);
    let subject = m.subject().unwrap().to_string();
    assert!(subject.starts_with("[flywheel] "), "{subject}");
    assert_eq!(got[0].recipients, ["seller@example.com"]);

    // Every alert finding is a firing alert; the email reports those not muted.
    let listed: Value =
        serde_json::from_str(&ok(&["--config", cfg, "alerts", "--format", "json"]).await).unwrap();
    let listed = listed["alerts"].as_array().unwrap().clone();
    let firing = listed.iter().filter(|a| a["state"] == "firing").count();
    assert_eq!(firing, alerts.len(), "{listed:#?}");
    let notified = listed.iter().filter(|a| a["notify_count"] == 1).count();
    assert!(notified > 0 && notified <= firing);
    for a in listed.iter().filter(|a| a["notify_count"] == 1) {
        let id = a["id"].as_str().unwrap();
        assert!(
            m.body_text(0).unwrap().contains(id),
            "the email names alert {id} for `flywheel ack`"
        );
    }

    // Nothing changed: nothing sent.
    let out = ok(&["--config", cfg, "evaluate"]).await;
    assert_eq!(server.messages().len(), 1, "{out}");

    // The table lists them too, products by name.
    let table = ok(&["--config", cfg, "alerts"]).await;
    let first = listed[0]["id"].as_str().unwrap();
    assert!(table.contains(first), "{table}");
    assert!(
        table.contains("sku FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3"),
        "{table}"
    );
    check_names(&Value::Array(listed.clone()));
    let alerts_at: Value =
        serde_json::from_str(&ok(&["--config", cfg, "alerts", "--format", "json"]).await).unwrap();
    check_csv(
        &ok(&["--config", cfg, "alerts", "--format", "csv"]).await,
        &alerts_at["alerts"],
        None,
    );

    // ack: muted with an expiry and a note, shown by `alerts`.
    let out = ok(&[
        "--config", cfg, "ack", first, "--for", "2d", "--note", "on it",
    ])
    .await;
    assert!(out.contains("acknowledged"), "{out}");
    let after: Value =
        serde_json::from_str(&ok(&["--config", cfg, "alerts", "--format", "json"]).await).unwrap();
    let acked = after["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == first)
        .unwrap();
    assert!(acked["acked_until"].is_string(), "{acked}");
    let (code, _, err) = flywheel(&["--config", cfg, "ack", "ffffffff"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("no alert has the id"), "{err}");

    // ack on the unanswered-feedback alert marks that feedback handled: the
    // SLA rule stops counting it.
    let fb = listed
        .iter()
        .find(|a| a["rule"] == "feedback_response_sla")
        .expect("the demo has unanswered negative feedback");
    let out = ok(&[
        "--config",
        cfg,
        "ack",
        fb["id"].as_str().unwrap(),
        "--note",
        "answered by phone",
    ])
    .await;
    assert!(out.contains("feedback order"), "{out}");
    let handled = h.int(
        "SELECT COUNT(*) FROM seller_feedback WHERE acknowledged_at IS NOT NULL AND acknowledgement_note = 'answered by phone'",
    );
    assert!(handled > 0);
    let check: Value = serde_json::from_str(
        &ok(&[
            "--config",
            cfg,
            "check",
            "--rule",
            "feedback_response_sla",
            "--format",
            "json",
        ])
        .await,
    )
    .unwrap();
    assert!(
        check["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] != "firing"),
        "{check:#}"
    );

    // silence: a bad rule is a usage error naming the rules; a good one
    // says how many open alerts it covers.
    let (code, _, err) = flywheel(&[
        "--config", cfg, "silence", "--rule", "stockout", "--for", "1d",
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("stockout_risk"), "{err}");
    let rule = listed[0]["rule"].as_str().unwrap();
    let out = ok(&[
        "--config",
        cfg,
        "silence",
        "--rule",
        rule,
        "--for",
        "1d",
        "--note",
        "promo week",
    ])
    .await;
    assert!(out.contains("covers"), "{out}");

    // The digest: printed, written as a self-contained HTML file, and sent.
    let text = ok(&["--config", cfg, "digest"]).await;
    assert!(!text.trim().is_empty());
    let file = h.dir.path().join("digest.html");
    ok(&["--config", cfg, "digest", "--out", file.to_str().unwrap()]).await;
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.len() < 400 * 1024);
    assert!(!html.contains("cid:"), "a file cannot resolve cid: images");
    assert!(!html.to_ascii_lowercase().contains("<script"));
    ok(&["--config", cfg, "digest", "--send"]).await;
    let got = server.messages();
    assert_eq!(got.len(), 2);
    let d = parse(&got[1].data);
    check_email(&d);

    // send-test-email goes through the same transport.
    let out = ok(&["--config", cfg, "send-test-email"]).await;
    assert!(out.contains("127.0.0.1"), "{out}");
    assert_eq!(server.messages().len(), 3);

    // With the server gone, send-test-email fails clearly (exit 1).
    server.stop().await;
    let (code, _, err) = flywheel(&["--config", cfg, "send-test-email"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");

    // The first round and (two hours on, repeats due after one) a repeat
    // round with nothing new, in English and in Chinese.
    for round in 1..=2 {
        if round == 2 {
            h.advance("2h").await;
        }
        for (lang, cfg, dir) in &langs {
            ok(&["--config", cfg.to_str().unwrap(), "evaluate"]).await;
            let emls = common::emails(&dir.join("mail"));
            assert_eq!(emls.len(), round, "{lang} round {round}: {emls:?}");
        }
    }
    for (lang, cfg, dir) in &langs {
        let emls = common::emails(&dir.join("mail"));
        let [first, repeat] = [&emls[0], &emls[1]].map(|p| parse(&std::fs::read(p).unwrap()));
        for m in [&first, &repeat] {
            check_email(m);
            check_cards(m, lang);
        }
        // The first round shows every subject in full; the repeat, with
        // nothing new or worse, none: one line each, still by name.
        assert!(card_blocks(&first.body_html(0).unwrap()).len() >= 10);
        let repeat_html = repeat.body_html(0).unwrap();
        assert_eq!(card_blocks(&repeat_html).len(), 0, "{lang}: {repeat_html}");
        assert!(repeat_html.contains("Flywheel Silicone Spatula Set of 3"));
        let size = |m: &mail_parser::Message<'_>| m.body_html(0).unwrap().len();
        assert!(
            size(&repeat) * 3 <= size(&first),
            "{lang}: the repeat's HTML is {} bytes, the first's {}",
            size(&repeat),
            size(&first)
        );
        if *lang == "zh-CN" {
            let listed: Value = serde_json::from_str(
                &ok(&[
                    "--config",
                    cfg.to_str().unwrap(),
                    "alerts",
                    "--format",
                    "json",
                ])
                .await,
            )
            .unwrap();
            let mut rules: Vec<&str> = listed["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["notify_count"].as_i64() > Some(0))
                .map(|a| a["rule"].as_str().unwrap())
                .collect();
            rules.dedup();
            for m in [&first, &repeat] {
                check_chinese(m, &rules);
            }
        }
    }
}
