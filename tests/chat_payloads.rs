//! Each chat platform's message, signed and posted by flywheel's sender
//! to the in-process fakes (tests/common/chat_fakes.rs), which check it
//! the way the platform does: accepted with 60 alerts in it; a throttle
//! answer read as a throttle and the resend accepted once; a permanent
//! error read as permanent; a bad or stale signature and an oversized or
//! malformed body refused; and no robot URL, key or secret in a trace
//! log, an answer or a `Debug`. The Slack and Feishu messages the fakes
//! received are also written as HTML previews (for a screenshot) to
//! `target/tmp/chat-preview-*.html`.

#[path = "common/chat_fakes.rs"]
mod chat_fakes;
#[path = "common/chat_preview.rs"]
mod chat_preview;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use chat_fakes::{ChatFake, Cue, Role, PLATFORMS};
use chrono::{TimeZone, Utc};
use flywheel::alert::{AlertEmail, Item, ItemKind, Names};
use flywheel::chat::send::{client, post};
use flywheel::chat::{alert_message, request, signed, test_message, Answer, Body, Platform};
use flywheel::config::{Owner, Receiver, Secret};
use flywheel::i18n::Lang;
use serde_json::json;

const US: &str = "ATVPDKIKX0DER";

fn signs(role: Role) -> bool {
    matches!(role, Role::Dingtalk | Role::Feishu | Role::Lark)
}

/// A robot on the fake and the receiver that posts to it (signing with
/// `secret` where the platform signs, @-mentioning owners where it can).
fn robot(fake: &ChatFake, role: Role, secret: &str) -> (Receiver, String) {
    let fake_secret = signs(role).then_some(secret);
    let (url, key) = fake.robot(role, fake_secret);
    let r = Receiver {
        name: format!("ops-{}", role.as_str()),
        kind: Some(role),
        mention_owners: role != Role::Webhook,
        resolved_url: Some(Secret::new(url)),
        resolved_secret: fake_secret.map(Secret::new),
        ..Receiver::default()
    };
    (r, key)
}

fn owners() -> Vec<Owner> {
    let owner = r#"
        name = "Li Lei"
        mobile = "13800001111"
        slack_user = "U012AB3CD"
        feishu_user = "ou_7d8a6e6df7621556ce0d21922b676706"
    "#;
    vec![toml::from_str(owner).unwrap()]
}

/// An account's round of `n` alerts: stockouts and wasted spend, every
/// third one critical, the first SKU Li Lei's.
fn email(lang: Lang, n: usize) -> AlertEmail {
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap();
    let items: Vec<Item> = (0..n)
        .map(|i| {
            let sev = if i % 3 == 0 { "critical" } else { "warning" };
            let f = if i % 2 == 0 {
                json!({"rule": "stockout_risk", "severity": sev, "account": "acme-us",
                    "marketplace": US, "sku": format!("SKU-{i:03}"), "value": 2.0, "threshold": 37.0,
                    "evidence": {"available": 20, "inbound": 0, "daily_units": 10.0}})
            } else {
                json!({"rule": "wasted_spend", "severity": sev, "account": "acme-us",
                    "marketplace": US, "campaign_id": format!("{}", 1000 + i),
                    "search_term": format!("search term {i}"), "value": 23.0, "threshold": 15.0,
                    "evidence": {"clicks": 23, "cost": 31.5, "purchases": 0}})
            };
            let fingerprint = format!("{:016x}", (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            Item::from_finding_json(&f, ItemKind::Firing, &fingerprint, at).unwrap()
        })
        .collect();
    let mut names = Names::default();
    names.owners.insert("SKU-000".into(), "Li Lei".into());
    AlertEmail {
        account: "acme-us".into(),
        at,
        timezone: chrono_tz::America::Los_Angeles,
        lang,
        open: items.iter().map(|i| (i.link, i.severity)).collect(),
        items,
        names,
        marketplaces: 1,
    }
}

fn platform(r: &Receiver) -> Platform {
    Platform::of(r.kind()).unwrap()
}

/// Signs `body` for `r` at `at` and posts it.
async fn send_at(r: &Receiver, body: &Body, at: SystemTime) -> Answer {
    let http = client(Duration::from_secs(10)).unwrap();
    post(&http, &signed(r, body, at).unwrap()).await
}

async fn send(r: &Receiver, body: &Body) -> Answer {
    send_at(r, body, SystemTime::now()).await
}

#[tokio::test]
async fn every_kind_accepts_a_sixty_alert_round_and_a_test_message() {
    let fake = ChatFake::start().await;
    for lang in [Lang::En, Lang::ZhCn] {
        for role in PLATFORMS {
            let (r, key) = robot(&fake, role, "SECsigning-secret-1");
            let before = fake.received_by(role).len();
            let mut bodies = alert_message(&r, &owners(), &email(lang, 60));
            // WeCom mentions by mobile in a text message that follows.
            let parts = if role == Role::Wecom { 2 } else { 1 };
            assert_eq!(bodies.len(), parts, "{role:?}");
            bodies.extend(test_message(&r, lang, Utc::now(), chrono_tz::UTC));
            for b in &bodies {
                let a = send(&r, b).await;
                assert!(
                    a.is_delivered(),
                    "{role:?} {lang}: {a}\nrefused: {:?}",
                    fake.refused()
                );
            }
            let got = fake.received_by(role);
            assert_eq!(got.len() - before, bodies.len(), "{role:?}: each once");
            assert!(got[before..].iter().all(|g| g.key == key));
        }
    }
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());
}

/// How long a platform's throttle answer waits, and the code of its
/// permanent refusal, as documented.
fn documented(role: Role) -> (Duration, &'static str) {
    match role {
        Role::Slack => (Duration::from_secs(1), "invalid_token"),
        Role::Wecom => (Duration::from_secs(60), "93000"),
        Role::Dingtalk => (Duration::from_secs(600), "310000"),
        Role::Feishu | Role::Lark => (Duration::from_secs(60), "19024"),
        Role::Webhook | Role::Email => (Duration::from_secs(1), "HTTP 404"),
    }
}

#[tokio::test]
async fn throttles_refusals_and_outages_read_as_documented_and_a_resend_lands_once() {
    let fake = ChatFake::start().await;
    for role in PLATFORMS {
        let (r, _) = robot(&fake, role, "SECsigning-secret-2");
        let body = &alert_message(&r, &[], &email(Lang::En, 3))[0];
        let (wait, code) = documented(role);
        fake.cue(
            role,
            [Cue::throttle(role), Cue::permanent(role), Cue::down()],
        );
        match send(&r, body).await {
            Answer::Throttled { retry_after, .. } => assert_eq!(retry_after, wait, "{role:?}"),
            // Alertmanager receivers have no throttle of their own: a 429
            // is a passing failure, retried after its Retry-After.
            Answer::Transient { retry_after, .. } if role == Role::Webhook => {
                assert_eq!(retry_after, Some(wait))
            }
            other => panic!("{role:?}: {other}"),
        }
        match send(&r, body).await {
            Answer::Permanent { code: got, .. } => assert_eq!(got, code, "{role:?}"),
            other => panic!("{role:?}: {other}"),
        }
        let down = send(&r, body).await;
        assert!(matches!(down, Answer::Transient { .. }), "{role:?}: {down}");
        assert!(
            fake.received_by(role).is_empty(),
            "{role:?}: nothing taken yet"
        );
        assert!(send(&r, body).await.is_delivered(), "{role:?}");
        assert_eq!(fake.received_by(role).len(), 1, "{role:?}: delivered once");
    }
}

#[tokio::test]
async fn a_wrong_missing_or_stale_signature_is_refused() {
    let fake = ChatFake::start().await;
    let hour_and_a_bit = Duration::from_secs(3900);
    for role in [Role::Dingtalk, Role::Feishu, Role::Lark] {
        let (mut r, _) = robot(&fake, role, "SECthe-robots-secret");
        let body = &alert_message(&r, &[], &email(Lang::En, 2))[0];
        let want = if role == Role::Dingtalk {
            "310000"
        } else {
            "19021"
        };
        let code = |a: Answer| match a {
            Answer::Permanent { code, .. } => code,
            other => panic!("{role:?}: {other}"),
        };
        let stale = send_at(&r, body, SystemTime::now() - hour_and_a_bit).await;
        assert_eq!(code(stale), want, "{role:?}: an hour and more off");
        let early = send_at(&r, body, SystemTime::now() + hour_and_a_bit).await;
        assert_eq!(code(early), want, "{role:?}: a clock an hour ahead");
        r.resolved_secret = Some(Secret::new("SECnot-the-robots-secret"));
        assert_eq!(code(send(&r, body).await), want, "{role:?}: wrong secret");
        r.resolved_secret = None;
        assert_eq!(code(send(&r, body).await), want, "{role:?}: unsigned");
        // Within the hour the platform allows, it is taken.
        r.resolved_secret = Some(Secret::new("SECthe-robots-secret"));
        let late = send_at(&r, body, SystemTime::now() - Duration::from_secs(3000)).await;
        assert!(late.is_delivered(), "{role:?}: {late}");
        assert_eq!(fake.received_by(role).len(), 1);
    }
}

#[tokio::test]
async fn the_fakes_refuse_what_the_platforms_refuse() {
    let fake = ChatFake::start().await;
    let big = "断".repeat(2000);
    let cases: Vec<(Role, Body, &str)> = vec![
        (
            Role::Wecom,
            json!({"msgtype": "markdown", "markdown": {"content": big}}),
            "40058",
        ),
        (
            Role::Wecom,
            json!({"msgtype": "text", "text": {"content": big}}),
            "40058",
        ),
        (Role::Wecom, json!({"msgtype": "news"}), "40008"),
        (
            Role::Dingtalk,
            json!({"msgtype": "markdown", "markdown": {"text": "no title"}}),
            "40035",
        ),
        (
            Role::Feishu,
            json!({"msg_type": "interactive", "card": {"header": {"title": {"tag": "plain_text", "content": big.repeat(4)}}, "elements": []}}),
            "9499",
        ),
        (
            Role::Lark,
            json!({"msg_type": "text", "content": {"text": "hi"}}),
            "9499",
        ),
        (
            Role::Slack,
            json!({"text": "x", "blocks": vec![json!({"type": "divider"}); 51]}),
            "invalid_blocks",
        ),
        (
            Role::Slack,
            json!({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]}),
            "invalid_blocks",
        ),
        (Role::Slack, json!({"attachments": []}), "no_text"),
        (
            Role::Webhook,
            json!({"version": "4", "alerts": []}),
            "HTTP 400",
        ),
    ];
    for (role, body, want) in cases {
        let (r, _) = robot(&fake, role, "SECsigning-secret-4");
        match send(&r, &body).await {
            Answer::Permanent { code, .. } => assert_eq!(code, want, "{role:?} {body}"),
            other => panic!("{role:?}: {other}"),
        }
    }
    // An unknown key gets the platform's answer for a deleted robot.
    for role in PLATFORMS {
        let (mut r, key) = robot(&fake, role, "SECsigning-secret-5");
        let body = &alert_message(&r, &[], &email(Lang::En, 1))[0];
        let url = r.url().unwrap().expose().replace(&key, "deletedROBOTkey");
        r.resolved_url = Some(Secret::new(url));
        let a = send(&r, body).await;
        assert!(matches!(a, Answer::Permanent { .. }), "{role:?}: {a}");
    }
    assert!(fake.received().is_empty());
}

/// Everything logged in this test binary, at trace level for every
/// target (reqwest's and hyper's `log` records too).
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        #[derive(Clone)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink(buf.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .try_init()
            .expect("the only subscriber of this test binary");
        buf
    })
    .clone()
}

#[tokio::test]
async fn no_url_key_or_secret_reaches_a_trace_log_an_answer_or_debug() {
    let log = captured();
    let fake = ChatFake::start().await;
    let secret = "SECsecretSIGNINGvalue9f8e7d";
    let mut shown = String::new();
    let mut keys = Vec::new();
    for role in PLATFORMS {
        let (r, key) = robot(&fake, role, secret);
        keys.push(key);
        let body = &alert_message(&r, &owners(), &email(Lang::En, 5))[0];
        // Accepted, throttled, refused, down, and a wrong secret.
        fake.cue(
            role,
            [Cue::throttle(role), Cue::permanent(role), Cue::down()],
        );
        for _ in 0..4 {
            let a = send(&r, body).await;
            shown.push_str(&format!("{a}\n{a:?}\n"));
        }
        let mut wrong = r.clone();
        wrong.resolved_secret = Some(Secret::new("SECwrongSIGNINGvalue1a2b3c"));
        let a = send(&wrong, body).await;
        shown.push_str(&format!("{a}\n{a:?}\n{wrong:?}\n{r:?}\n"));
        let req = request(
            platform(&r),
            r.url().unwrap(),
            r.secret(),
            body,
            SystemTime::now(),
        );
        shown.push_str(&format!("{req:?}\n"));
    }
    // Nobody listens here: a network error names no URL either.
    let (mut gone, key) = robot(&fake, Role::Wecom, secret);
    keys.push(key.clone());
    gone.resolved_url = Some(Secret::new(format!(
        "http://127.0.0.1:9/cgi-bin/webhook/send?key={key}"
    )));
    let body = &alert_message(&gone, &[], &email(Lang::En, 1))[0];
    let a = send(&gone, body).await;
    assert!(matches!(a, Answer::Transient { .. }), "{a}");
    shown.push_str(&format!("{a}\n{a:?}\n"));

    let log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    if std::env::var_os("SHOW_LOG").is_some() {
        eprintln!("{log}");
    }
    // Not vacuous: the sender and the HTTP stack logged at trace level.
    for want in ["chat message posted", "hyper", "throttled", "refused"] {
        assert!(
            log.contains(want) || shown.contains(want),
            "no {want:?} in the log:\n{log}"
        );
    }
    assert!(
        log.contains("reqwest") || log.contains("hyper_util"),
        "{log}"
    );
    for needle in keys.iter().map(String::as_str).chain([
        secret,
        "SECwrongSIGNINGvalue1a2b3c",
        "secretSIGNING",
    ]) {
        assert!(!log.contains(needle), "{needle} in the trace log");
        assert!(
            !shown.contains(needle),
            "{needle} in an answer or Debug:\n{shown}"
        );
    }
}

#[tokio::test]
async fn received_slack_and_feishu_messages_render_as_previews() {
    let fake = ChatFake::start().await;
    for lang in [Lang::En, Lang::ZhCn] {
        for role in [Role::Slack, Role::Feishu] {
            let (r, _) = robot(&fake, role, "SECsigning-secret-6");
            let body = &alert_message(&r, &owners(), &email(lang, 8))[0];
            assert!(send(&r, body).await.is_delivered());
            let got = fake.received_by(role).pop().unwrap().body;
            let html = chat_preview::page(role.as_str(), &got, 420);
            let title = if lang == Lang::En {
                "flywheel · acme-us: 3 critical, 5 warnings"
            } else {
                "flywheel · acme-us：3 条严重，5 条警告"
            };
            assert!(html.contains(title), "{role:?} {lang}:\n{html}");
            assert!(
                html.contains("<a href=\"https://sellercentral.amazon.com/"),
                "{html}"
            );
            assert!(
                html.contains("class=\"at\">@"),
                "the owner is mentioned: {html}"
            );
            for raw in ["**", "<@", "<at id", "|https", "](http"] {
                assert!(!html.contains(raw), "{raw} left in {role:?} {lang}");
            }
            let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("chat-preview-{}-{lang}.html", role.as_str()));
            std::fs::write(&path, html).unwrap();
        }
    }
}
