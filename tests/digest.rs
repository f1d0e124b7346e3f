//! The content of alert emails and the weekly digest on real synced data:
//! the demo scenario synced once from the simulated marketplace, then, as
//! an evaluation round and `flywheel digest` would, each firing finding's
//! trend series read from the store and rendered into an alert email, and
//! the digest model built and rendered. What a reader relies on is checked:
//! the series end with the number the rule judged, every chart is attached
//! and referenced, nothing is fetched from outside, everything fits.

mod common;
#[path = "common/links.rs"]
mod links;
use links::assert_only_amazon_links;

use flywheel::alert::{digest, render, AlertEmail, Item, ItemKind};
use flywheel::config::RuleId;
use flywheel::kpis::Status;
use flywheel::rules::check;
use flywheel::store::snapshot;

fn assert_safe_html(html: &str, attachments: &[flywheel::alert::Attachment]) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"));
    assert_only_amazon_links(html);
    assert!(html.len() < render::HTML_MAX, "{} bytes", html.len());
    for a in attachments {
        assert!(
            html.contains(&format!("src=\"cid:{}\"", a.content_id)),
            "{}",
            a.content_id
        );
        assert_eq!(a.content_type, "image/png");
    }
    assert_eq!(html.matches("cid:").count(), attachments.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_email_and_digest_of_the_synced_demo() {
    let h = common::start(common::Opts::new("demo")).await;
    h.sync_settled(&[]).await;
    let now = h.now().await;
    let cfg = &h.cfg;
    let mut conn = flywheel::store::open(h.database()).unwrap();

    // An evaluation round's email: every firing finding with its series.
    let snaps = snapshot::build_all(&conn, cfg, None, now).unwrap();
    let (at, findings) = check::findings(cfg, &snaps, None, now, &[]);
    let mut items = Vec::new();
    for f in findings.iter().filter(|f| f.is_alert()) {
        let fp = format!("{:08x}{:08x}", items.len() + 1, 7919);
        let mut item = Item::from_finding(f, ItemKind::Firing, &fp, now);
        // What a resolution later reads from the stored finding says the same.
        let stored = Item::from_finding_json(&f.to_json(), ItemKind::Firing, &fp, now);
        assert_eq!(stored.as_ref(), Some(&item), "{:?}", f.rule);
        item.series = flywheel::alert::series::for_item(&conn, cfg, &item, at, now, 60).unwrap();
        items.push(item);
    }
    assert!(!items.is_empty(), "the demo has alerts on its first day");
    for item in &items {
        let Some(s) = &item.series else { continue };
        assert!(!s.points.is_empty(), "{:?}", item.rule);
        // The rolling-window series end with the number the rule judged.
        if matches!(item.rule, RuleId::ConversionRate | RuleId::BuyBox) {
            let last = s.points.last().unwrap();
            assert_eq!(last.0, at - chrono::Duration::days(1));
            let (v, want) = (last.1.unwrap(), item.value.unwrap());
            assert!((v - want).abs() < 1e-3, "{:?}: {v} vs {want}", item.rule);
        }
    }
    // Stock is judged now: its series ends today with the finding's days
    // of cover (unknown without sales, as the finding says).
    for item in items.iter().filter(|i| i.rule == RuleId::StockoutRisk) {
        let s = item.series.as_ref().expect("a stock series");
        let last = s.points.last().unwrap();
        assert_eq!(last.0, at);
        match (last.1, item.value) {
            (Some(v), Some(want)) => assert!((v - want).abs() < 1e-3, "{:?}", item.subject),
            (v, want) => assert_eq!(v, want, "{:?}", item.subject),
        }
    }
    assert!(items.iter().any(|i| i.series.is_some()));
    let account = items[0].key("account").unwrap().to_string();
    let email = AlertEmail {
        account: account.clone(),
        at: now,
        timezone: cfg.daemon.timezone,
        items: items
            .iter()
            .filter(|i| i.key("account") == Some(account.as_str()))
            .cloned()
            .collect(),
        lang: flywheel::model::lang::Lang::En,
        open: Vec::new(),
        names: Default::default(),
        marketplaces: 1,
    };
    let r = render::alert_email(&email);
    assert!(
        r.subject.starts_with(&format!("[flywheel] {account}: ")),
        "{}",
        r.subject
    );
    assert!(!r.subject.contains('\n') && r.subject.chars().count() <= render::SUBJECT_MAX);
    assert_safe_html(&r.html, &r.attachments);
    assert!(!r.attachments.is_empty());
    for i in &email.items {
        assert!(r.text.contains(&i.fingerprint[..8]), "{}", i.fingerprint);
    }

    // The weekly digest of every account.
    for account in &cfg.accounts {
        let m = digest::build(&mut conn, cfg, &account.name, now).unwrap();
        assert_eq!(m.marketplaces.len(), account.marketplaces().len());
        for mp in &m.marketplaces {
            assert_eq!(mp.rows.len(), 12);
            assert!(
                mp.rows.iter().any(|k| k.status != Status::NoData),
                "one day of sync gives some KPIs: {:#?}",
                mp.rows
            );
            for k in &mp.rows {
                assert_eq!(k.trend.points.len(), 8);
                assert_eq!(k.trend.points[7].1, k.value, "{}", k.kpi);
            }
        }
        assert!(m.alive.rounds_7d >= 1);
        assert!(m.alive.last_round.is_some());
        let r = render::digest(&m);
        assert_safe_html(&r.html, &r.attachments);
        assert!(r.text.contains("flywheel has synced"), "{}", r.text);
        assert!(r.text.contains("Conversion rate, 14 days"));

        // The same digest in Chinese: targets and notes too.
        let zh = render::digest(&flywheel::alert::render::DigestModel {
            lang: flywheel::i18n::Lang::ZhCn,
            ..m
        });
        assert_safe_html(&zh.html, &zh.attachments);
        assert!(zh.text.contains("目标 "), "{}", zh.text);
        assert!(zh.text.contains("个有数据"), "{}", zh.text);
        for e in [
            "target",
            "change >",
            "and NORMAL",
            "with data",
            "off target",
        ] {
            assert!(!zh.text.contains(e), "{e:?} in\n{}", zh.text);
        }
    }
}
