//! Alert semantics end to end through the library: findings → alert state
//! in a real SQLite file → outbox → a real SMTP conversation with the
//! in-process server on 127.0.0.1 → MIME parsed back.
//!
//! The findings are written by hand (the rules have their own tests and
//! the demo test runs them for real), so each case controls exactly what
//! fires when: nothing changed → nothing sent; repeats only after the
//! interval; a `for` hold; resolution threaded under the firing email; a
//! restart between rounds; acks, silences, inhibition and quiet hours; and
//! Amazon strings that try to break the HTML or the headers.

#[path = "common/findings.rs"]
mod findings;
use findings::finding;
#[path = "common/links.rs"]
mod links;
use links::assert_only_amazon_links;
#[path = "common/smtp.rs"]
mod smtp;

use chrono::{DateTime, Duration, Utc};
use flywheel::alert::evaluate::{self, Evaluated, Round};
use flywheel::alert::inhibit::Facts;
use flywheel::alert::sender;
use flywheel::config::{Config, Env, RuleId, Severity};
use flywheel::rules::{Finding, Status, Subject};
use flywheel::store;
use mail_parser::{MessageParser, MimeHeaders};
use rusqlite::Connection;
use smtp::SmtpServer;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

struct Setup {
    _dir: tempfile::TempDir,
    cfg: Config,
    server: SmtpServer,
}

impl Setup {
    /// A fresh connection, as a restarted process would open.
    fn conn(&self) -> Connection {
        let (mut conn, _) = store::open_and_migrate(&self.cfg.daemon.database).unwrap();
        store::ops::sync_accounts(&mut conn, &self.cfg, t0()).unwrap();
        conn
    }

    /// One round at `now` with these findings, then delivery.
    async fn round(&self, findings: Vec<Finding>, facts: Facts, now: DateTime<Utc>) -> Round {
        let mut conn = self.conn();
        let e = Evaluated {
            date: now.date_naive(),
            findings,
            facts,
        };
        let r = evaluate::apply(&mut conn, &self.cfg, &[e], now).unwrap();
        let d = sender::send_now(&self.cfg, &mut conn, now).await.unwrap();
        assert!(d.failed.is_empty() && d.retrying.is_empty(), "{d}");
        r
    }

    fn received(&self) -> Vec<mail_parser::Message<'static>> {
        self.server
            .messages()
            .into_iter()
            .map(|m| {
                MessageParser::default()
                    .parse(&m.data)
                    .unwrap()
                    .into_owned()
            })
            .collect()
    }
}

async fn setup(extra: &str) -> Setup {
    let server = SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flywheel.toml");
    std::fs::write(
        &p,
        format!(
            r#"[daemon]
database = "{db}"
timezone = "UTC"

[[accounts]]
name = "shop"
region = "na"
marketplaces = ["US"]
alert_to = ["seller@example.com", "agency@example.com"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "CLIENT-SECRET"
refresh_token = "Atzr|REFRESH-TOKEN"

[email]
transport = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"
from = "flywheel <flywheel@example.com>"
to = ["ops@example.com"]
timeout = "5s"

{extra}
"#,
            db = dir.path().join("flywheel.db").display(),
            port = server.port(),
        ),
    )
    .unwrap();
    let cfg = Config::load(&p, &Env::default()).unwrap_or_else(|e| panic!("{e}"));
    Setup {
        _dir: dir,
        cfg,
        server,
    }
}

fn market() -> Subject {
    Subject {
        account: "shop".into(),
        marketplace: "ATVPDKIKX0DER".into(),
        ..Subject::default()
    }
}

fn stockout() -> Finding {
    finding(
        RuleId::StockoutRisk,
        Severity::Critical,
        market().asin("B0STOCK001").sku("SKU-STOCK"),
        3.0,
    )
}

fn conversion() -> Finding {
    finding(
        RuleId::ConversionRate,
        Severity::Warning,
        market().asin("B0CONV0001"),
        4.1,
    )
}

fn header(m: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    m.header_raw(name).map(|s| s.trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_once_repeats_after_the_interval_and_resolves_threaded() {
    let s = setup("").await;
    let t = t0();
    let r = s
        .round(vec![stockout(), conversion()], Facts::default(), t)
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    let got = s.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    let subject = m.subject().unwrap();
    assert!(
        subject.starts_with("[flywheel] shop: 1 critical, 1 warning"),
        "{subject}"
    );
    assert!(subject.contains("B0STOCK001"), "{subject}");
    // Both recipients of the account (not the global list), in the envelope.
    let env = &s.server.messages()[0];
    let mut rcpt = env.recipients.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["agency@example.com", "seller@example.com"]);
    let text = m.body_text(0).unwrap();
    let html = m.body_html(0).unwrap();
    // Critical first in the subject; both in the body, grouped by link.
    assert!(
        subject.find("B0STOCK001").unwrap() < subject.find("B0CONV0001").unwrap_or(usize::MAX),
        "{subject}"
    );
    assert!(
        text.contains("B0STOCK001") && text.contains("B0CONV0001"),
        "{text}"
    );
    assert!(html.contains("B0CONV0001"));
    let first_id = m.message_id().unwrap().to_string();

    // Nothing changed: nothing sent, also from a fresh connection (restart).
    for h in [1, 6, 23] {
        let r = s
            .round(
                vec![stockout(), conversion()],
                Facts::default(),
                t + Duration::hours(h),
            )
            .await;
        assert_eq!(r.emails(), 0, "hour {h}: {r}");
    }
    let almost = t + Duration::hours(24) - Duration::seconds(1);
    let r = s
        .round(vec![stockout(), conversion()], Facts::default(), almost)
        .await;
    assert_eq!(r.emails(), 0, "{r}");
    assert_eq!(s.received().len(), 1);

    // At the repeat interval: one repeat email with both.
    let day = t + Duration::hours(24);
    let r = s
        .round(vec![stockout(), conversion()], Facts::default(), day)
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    assert_eq!(r.accounts[0].emails[0].3, 2);
    assert_eq!(s.received().len(), 2);

    // The conversion alert clears: one resolution, threaded under the
    // first email; the stockout keeps firing silently.
    let fix = day + Duration::hours(2);
    let r = s.round(vec![stockout()], Facts::default(), fix).await;
    assert_eq!(r.emails(), 1, "{r}");
    let got = s.received();
    assert_eq!(got.len(), 3);
    let res = &got[2];
    let subject = res.subject().unwrap();
    assert!(subject.contains("resolved"), "{subject}");
    assert!(subject.contains("B0CONV0001"), "{subject}");
    assert!(!subject.contains("B0STOCK001"), "{subject}");
    assert_eq!(
        header(res, "In-Reply-To").as_deref(),
        Some(format!("<{first_id}>").as_str())
    );
    assert!(header(res, "References").unwrap().contains(&first_id));

    // Nothing more for this episode.
    let r = s
        .round(vec![stockout()], Facts::default(), fix + Duration::hours(1))
        .await;
    assert_eq!(r.emails(), 0, "{r}");

    // It fires again later: a new episode, notified as new.
    let again = fix + Duration::hours(5);
    let r = s
        .round(vec![stockout(), conversion()], Facts::default(), again)
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    assert_eq!(r.accounts[0].emails[0].3, 1);
    let got = s.received();
    assert!(got[3].subject().unwrap().contains("B0CONV0001"));
    assert_ne!(got[3].message_id(), got[0].message_id());

    // The database agrees: one row per fingerprint, counts per episode.
    let conn = s.conn();
    let (n, firing): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), SUM(state = 'firing') FROM alerts",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((n, firing), (2, 2));
    let sent: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sent, 4);
}

/// Issue 16: a warning that turns critical is told at once, and a repeat
/// shows in full only what got worse since the last email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_is_sent_at_once_and_a_repeat_shows_what_got_worse_in_full() {
    let s = setup("").await;
    let t = t0();
    let market_conv = || {
        finding(
            RuleId::ConversionRate,
            Severity::Warning,
            market().asin("B0CONV0002"),
            6.0,
        )
    };
    let r = s
        .round(vec![conversion(), market_conv()], Facts::default(), t)
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    // Two hours later B0CONV0001 is critical: one email now, about it.
    let critical = Finding {
        severity: Severity::Critical,
        ..conversion()
    };
    let later = t + Duration::hours(2);
    let r = s
        .round(
            vec![critical.clone(), market_conv()],
            Facts::default(),
            later,
        )
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    assert_eq!(r.accounts[0].emails[0].3, 1, "{r}");
    let got = s.received();
    let m = &got[1];
    let text = m.body_text(0).unwrap();
    assert!(text.contains("B0CONV0001"), "{text}");
    assert!(!text.contains("B0CONV0002"), "{text}");
    assert!(text.contains("WORSE: warning in the last email"), "{text}");
    let (sev, val): (String, f64) = s
        .conn()
        .query_row(
            "SELECT notified_severity, notified_value FROM alerts WHERE labels_json LIKE '%B0CONV0001%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((sev.as_str(), val), ("critical", 4.1));
    // Still critical an hour later: nothing (told already).
    let r = s
        .round(
            vec![critical.clone(), market_conv()],
            Facts::default(),
            later + Duration::hours(1),
        )
        .await;
    assert_eq!(r.emails(), 0, "{r}");
    // B0CONV0002 falls from 6.0 to 1.0 against 8.0 (past it by 7 where
    // the email said 2): at the repeat it is a full card marked worse;
    // B0CONV0001, unchanged, is one line.
    let worse = Finding {
        value: Some(1.0),
        ..market_conv()
    };
    let day = t + Duration::hours(26);
    let r = s.round(vec![critical, worse], Facts::default(), day).await;
    assert_eq!(r.emails(), 1, "{r}");
    let got = s.received();
    let text = got[2].body_text(0).unwrap();
    assert!(text.contains("WORSE: 6"), "{text}");
    let still = text.split("== Still firing").nth(1).unwrap_or("");
    assert!(still.contains("B0CONV0001"), "{text}");
    assert!(!still.contains("B0CONV0002"), "{text}");
    let subject = got[2].subject().unwrap();
    assert!(!subject.contains("still firing"), "{subject}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_for_hold_delays_the_first_notification() {
    let s = setup("[rules.conversion_rate]\nfor = \"2d\"\n").await;
    let t = t0();
    for (h, want) in [(0, 0), (24, 0), (47, 0), (48, 1), (60, 0)] {
        let r = s
            .round(vec![conversion()], Facts::default(), t + Duration::hours(h))
            .await;
        assert_eq!(r.emails(), want, "hour {h}: {r}");
    }
    // A flap inside the hold: pending resolves silently, the hold restarts.
    let s = setup("[rules.conversion_rate]\nfor = \"2d\"\n").await;
    s.round(vec![conversion()], Facts::default(), t).await;
    let r = s
        .round(vec![], Facts::default(), t + Duration::hours(24))
        .await;
    assert_eq!(r.emails(), 0, "{r}");
    for (h, want) in [(48, 0), (95, 0), (96, 1)] {
        let r = s
            .round(vec![conversion()], Facts::default(), t + Duration::hours(h))
            .await;
        assert_eq!(r.emails(), want, "hour {h}: {r}");
    }
    assert_eq!(s.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_holds_its_subject_only() {
    let s = setup(
        "[alerts]\nrepeat_interval = \"30d\"\n\n[[overrides]]\nrule = \"conversion_rate\"\nasin = \"B0CONV0001\"\nfor = \"2d\"\n",
    )
    .await;
    let other = || {
        finding(
            RuleId::ConversionRate,
            Severity::Warning,
            market().asin("B0CONV0002"),
            3.9,
        )
    };
    for (h, want) in [
        (0, Some("B0CONV0002")),
        (47, None),
        (48, Some("B0CONV0001")),
    ] {
        let at = t0() + Duration::hours(h);
        let r = s
            .round(vec![conversion(), other()], Facts::default(), at)
            .await;
        let subjects: Vec<&str> = r.accounts[0].emails.iter().map(|e| e.1.as_str()).collect();
        match want {
            None => assert!(subjects.is_empty(), "hour {h}: {r}"),
            Some(asin) => {
                assert_eq!(subjects.len(), 1, "hour {h}: {r}");
                assert!(subjects[0].contains(asin), "hour {h}: {r}");
                assert_eq!(r.accounts[0].emails[0].3, 1, "hour {h}: {r}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_silences_inhibition_and_quiet_hours() {
    let s = setup("[alerts]\nquiet_hours = \"22:00-07:00\"\n").await;
    // 23:00 UTC: inside the quiet hours. The critical goes out at once,
    // the warning waits for 07:00.
    let night = DateTime::parse_from_rfc3339("2026-03-02T23:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let r = s
        .round(vec![stockout(), conversion()], Facts::default(), night)
        .await;
    assert_eq!(r.emails(), 1);
    assert_eq!(r.accounts[0].emails[0].3, 1);
    assert!(s.received()[0].subject().unwrap().contains("B0STOCK001"));
    let r = s
        .round(
            vec![stockout(), conversion()],
            Facts::default(),
            night + Duration::hours(7) - Duration::minutes(1),
        )
        .await;
    assert_eq!(r.emails(), 0, "{r}");
    let morning = night + Duration::hours(8);
    let r = s
        .round(vec![stockout(), conversion()], Facts::default(), morning)
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    assert!(s.received()[1].subject().unwrap().contains("B0CONV0001"));

    // Ack the conversion alert for 3 days: its repeat is muted.
    let conn = s.conn();
    let fp = flywheel::alert::state::fingerprint(RuleId::ConversionRate, &conversion().subject);
    store::alerts::ack(
        &conn,
        &fp,
        morning + Duration::days(3),
        Some("new images ordered"),
        None,
        morning,
    )
    .unwrap();
    // A silence on the stockout's SKU: everything muted.
    store::alerts::add_silence(
        &conn,
        &store::alerts::Silence {
            rule: "stockout_risk".into(),
            sku: Some("SKU-STOCK".into()),
            expires_at: morning + Duration::days(5),
            ..Default::default()
        },
        None,
        morning,
    )
    .unwrap();
    drop(conn);
    let r = s
        .round(
            vec![stockout(), conversion()],
            Facts::default(),
            morning + Duration::days(2),
        )
        .await;
    assert_eq!(r.emails(), 0, "{r}");
    assert_eq!(r.accounts[0].muted, 2);
    // The ack expired: the conversion repeat comes; the silence still holds.
    let r = s
        .round(
            vec![stockout(), conversion()],
            Facts::default(),
            morning + Duration::days(3) + Duration::hours(1),
        )
        .await;
    assert_eq!(r.emails(), 1, "{r}");
    assert_eq!(r.accounts[0].emails[0].3, 1);
    assert!(s.received()[2].subject().unwrap().contains("B0CONV0001"));

    // Inhibition: an out-of-stock ASIN mutes its conversion alert, which
    // then notifies at once (as new) when stock is back and it still fires.
    let s = setup("").await;
    let mut facts = Facts::default();
    facts.out_of_stock.insert("B0CONV0001".into());
    let t = t0();
    let r = s.round(vec![conversion()], facts.clone(), t).await;
    assert_eq!((r.emails(), r.accounts[0].muted), (0, 1), "{r}");
    let r = s
        .round(vec![conversion()], Facts::default(), t + Duration::hours(1))
        .await;
    assert_eq!(r.emails(), 1, "{r}");

    // A held alert is muted the same way: the conversion alert fired and
    // was told; then its ASIN runs out of stock and its sessions vanish
    // (no data holds the alert firing). Its repeat, a day later, is not
    // sent while the ASIN is out of stock, and comes once stock is back.
    let mut held = conversion();
    held.status = Status::NoData;
    held.severity = Severity::Info;
    held.value = None;
    let r = s
        .round(vec![held.clone()], facts.clone(), t + Duration::days(2))
        .await;
    assert_eq!((r.emails(), r.accounts[0].muted), (0, 1), "{r}");
    assert_eq!(r.accounts[0].firing, 1, "held, not resolved: {r}");
    let r = s
        .round(
            vec![held],
            Facts::default(),
            t + Duration::days(2) + Duration::hours(1),
        )
        .await;
    assert_eq!(r.emails(), 1, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amazon_strings_cannot_break_the_html_or_the_headers() {
    let s = setup("").await;
    let mut f = finding(
        RuleId::WastedSpend,
        Severity::Warning,
        market().campaign(42).search_term(
            "<script>alert(1)</script> \"quoted\" & 'single'\r\nBcc: evil@example.com",
        ),
        25.0,
    );
    f.evidence.push((
        "title".into(),
        "Évian \"<img src=x onerror=alert(1)>\" – 日本語".into(),
    ));
    f.summary = "spend on \"<b>term</b>\"\r\nX-Injected: yes".into();
    let r = s.round(vec![f], Facts::default(), t0()).await;
    assert_eq!(r.emails(), 1, "{r}");
    let env = &s.server.messages()[0];
    let mut rcpt = env.recipients.clone();
    rcpt.sort();
    assert_eq!(rcpt, ["agency@example.com", "seller@example.com"]);
    let raw = String::from_utf8_lossy(&env.data);
    let head = &raw[..raw.find("\r\n\r\n").unwrap()];
    assert!(!head.contains("evil@example.com"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("x-injected"), "{head}");
    let m = &s.received()[0];
    assert!(m.header("Bcc").is_none());
    let subject = m.subject().unwrap();
    assert!(
        !subject.contains('\n') && !subject.contains('\r'),
        "{subject:?}"
    );
    let html = m.body_html(0).unwrap();
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("<img src=x"), "{html}");
    assert_only_amazon_links(&html);
    assert!(html.contains("&lt;script&gt;"), "{html}");
    let text = m.body_text(0).unwrap();
    assert!(text.contains("日本語"), "{text}");
    // Every image the HTML references is attached inline and decodes.
    for part in m.attachments() {
        if let Some(cid) = part.content_id() {
            assert!(html.contains(&format!("cid:{cid}")), "{cid}");
        }
    }
}
