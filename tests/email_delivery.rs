//! Email delivery end to end: outbox rows → `sender::deliver_due` → a real
//! SMTP conversation with an in-process server on 127.0.0.1 (or the file
//! and sendmail transports) → MIME parsed back with mail-parser.
//!
//! Covers the MIME layout (text, HTML, the inline chart by Content-ID),
//! threading headers, header injection, the retry path (server down, 4xx,
//! 5xx), the crash between "accepted" and "marked sent", AUTH, and that
//! the SMTP password never reaches an error or a Debug string.

#[path = "common/smtp.rs"]
mod smtp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use flywheel::alert::notify;
use flywheel::alert::sender::{self, Delivery};
use flywheel::alert::{Attachment, Rendered};
use flywheel::config::{Config, Env};
use flywheel::store::outbox::{self, Kind, NewEmail};
use mail_parser::{MessageParser, MimeHeaders};
use rusqlite::Connection;
use smtp::{Options, SmtpServer};

const PASSWORD: &str = "s3cret-Pa55word-DO-NOT-PRINT";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A temp dir with a valid config whose `[email]` section ends with
/// `email` (transport, host, port …), and its migrated database.
struct Setup {
    dir: tempfile::TempDir,
    cfg: Config,
    conn: Connection,
}

fn setup(email: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flywheel.toml");
    std::fs::write(
        &p,
        format!(
            r#"[daemon]
database = "{db}"

[[accounts]]
name = "shop"
region = "eu"
marketplaces = ["DE"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "CLIENT-SECRET"
refresh_token = "Atzr|REFRESH-TOKEN"

[email]
from = "flywheel <flywheel@example.com>"
to = ["seller@example.com"]
timeout = "5s"
{email}
"#,
            db = dir.path().join("flywheel.db").display()
        ),
    )
    .unwrap();
    let cfg = Config::load(&p, &Env::default()).unwrap_or_else(|e| panic!("{e}"));
    let (conn, _) = flywheel::store::open_and_migrate(&cfg.daemon.database).unwrap();
    Setup { dir, cfg, conn }
}

fn smtp_setup(port: u16, extra: &str) -> Setup {
    setup(&format!(
        "transport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n{extra}"
    ))
}

/// A small PNG, drawn with the `png` crate.
fn png() -> Vec<u8> {
    let (w, h) = (16u32, 8u32);
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        let data: Vec<u8> = (0..w * h)
            .flat_map(|i| [(i * 16) as u8, 80, 255 - (i * 2) as u8])
            .collect();
        writer.write_image_data(&data).unwrap();
    }
    out
}

fn rendered(subject: &str) -> Rendered {
    Rendered {
        subject: subject.to_string(),
        text: "Conversion rate of B0TEST0001 fell to 4.1 % (threshold 8 %).\n\
               Check first: the listing's main image.\n"
            .to_string(),
        html: "<html><body><p>Conversion rate of <b>B0TEST0001</b> fell to 4.1&nbsp;%.</p>\
               <p><img src=\"cid:chart-1@flywheel\" alt=\"trend\"></p></body></html>"
            .to_string(),
        attachments: vec![Attachment {
            content_id: "chart-1@flywheel".to_string(),
            filename: "chart-1.png".to_string(),
            content_type: "image/png".to_string(),
            data: png(),
        }],
    }
}

fn enqueue(
    s: &Setup,
    r: &Rendered,
    kind: Kind,
    in_reply_to: Option<&str>,
    at: DateTime<Utc>,
) -> (i64, String) {
    outbox::enqueue(
        &s.conn,
        &NewEmail {
            account: None,
            kind,
            recipients: &s.cfg.email.to,
            rendered: r,
            fingerprints: &[],
            in_reply_to,
            domain: "example.com",
        },
        at,
    )
    .unwrap()
}

async fn deliver(s: &mut Setup, at: DateTime<Utc>) -> Delivery {
    let notifier = notify::from_config(&s.cfg).unwrap();
    sender::deliver_due(&mut s.conn, notifier.as_ref(), at)
        .await
        .unwrap()
}

fn sent_at(conn: &Connection, id: i64) -> Option<String> {
    conn.query_row("SELECT sent_at FROM outbox WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

fn bare(id: &str) -> &str {
    id.trim_start_matches('<').trim_end_matches('>')
}

/// Message-ID (without brackets) → how many copies the server received.
fn copies(server: &SmtpServer) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for m in server.messages() {
        let parsed = MessageParser::default().parse(&m.data).expect("MIME");
        *n.entry(parsed.message_id().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    n
}

#[tokio::test]
async fn mime_layout_inline_chart_and_threading() {
    let server = SmtpServer::start().await;
    let mut s = smtp_setup(server.port(), "");
    let r = rendered("[critical] shop: conversion rate below 8 %");
    let (fid, fmid) = enqueue(&s, &r, Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.sent.len(), 1, "{d}");
    assert!(
        d.to_string()
            .starts_with("sent 1 email to seller@example.com"),
        "{d}"
    );
    assert!(sent_at(&s.conn, fid).is_some());

    let later = t0() + Duration::hours(3);
    let (_, rmid) = enqueue(
        &s,
        &rendered("[resolved] shop: conversion rate"),
        Kind::Resolved,
        Some(&fmid),
        later,
    );
    let d = deliver(&mut s, later).await;
    assert_eq!(d.sent.len(), 1, "{d}");

    let got = server.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].from, "flywheel@example.com");
    assert_eq!(got[0].recipients, ["seller@example.com"]);

    let png = png();
    for (m, mid) in got.iter().zip([&fmid, &rmid]) {
        let msg = MessageParser::default().parse(&m.data).expect("valid MIME");
        assert_eq!(msg.message_id(), Some(bare(mid)));
        assert!(msg.body_text(0).unwrap().contains("fell to 4.1 %"));
        let html = msg.body_html(0).unwrap();
        assert!(html.contains("cid:chart-1@flywheel"), "{html}");
        let chart = msg
            .parts
            .iter()
            .find(|p| p.content_id() == Some("chart-1@flywheel"))
            .expect("a part with the HTML's Content-ID");
        assert_eq!(chart.contents(), &png[..], "the PNG survives the trip");
        assert_eq!(
            chart.content_disposition().map(|d| d.ctype()),
            Some("inline")
        );
        let ctype = chart.content_type().unwrap();
        assert_eq!((ctype.ctype(), ctype.subtype()), ("image", Some("png")));
        let root = msg.content_type().unwrap();
        assert_eq!(root.subtype(), Some("alternative"));
        assert!(msg.date().is_some());
    }
    let firing = MessageParser::default().parse(&got[0].data).unwrap();
    assert!(firing.in_reply_to().is_empty());
    let resolved = MessageParser::default().parse(&got[1].data).unwrap();
    assert_eq!(resolved.in_reply_to().as_text(), Some(bare(&fmid)));
    assert_eq!(resolved.references().as_text(), Some(bare(&fmid)));
}

#[tokio::test]
async fn text_only_rows_are_plain_text() {
    let server = SmtpServer::start().await;
    let mut s = smtp_setup(server.port(), "");
    let (id, _) = enqueue(&s, &rendered("plain"), Kind::Digest, None, t0());
    // A row without HTML (the outbox stores what the renderer gave it).
    s.conn
        .execute("UPDATE outbox SET body_html = NULL WHERE id = ?1", [id])
        .unwrap();
    assert_eq!(deliver(&mut s, t0()).await.sent.len(), 1);
    let m = &server.messages()[0];
    let msg = MessageParser::default().parse(&m.data).unwrap();
    let ct = msg.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("text", Some("plain")));
    assert_eq!(ct.attribute("charset"), Some("utf-8"));
}

#[tokio::test]
async fn subjects_round_trip_and_cannot_inject_headers() {
    let server = SmtpServer::start().await;
    let mut s = smtp_setup(server.port(), "");
    let unicode = "Ünïcode – 日本 conversion ↓";
    enqueue(&s, &rendered(unicode), Kind::Firing, None, t0());
    enqueue(
        &s,
        &rendered("Buy box lost\r\nBcc: evil@example.com"),
        Kind::Firing,
        None,
        t0(),
    );
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.sent.len(), 2, "{d}");
    let got = server.messages();

    let first = MessageParser::default().parse(&got[0].data).unwrap();
    assert_eq!(first.subject(), Some(unicode));
    // Non-ASCII travels RFC 2047-encoded: the raw header is ASCII.
    let raw_head = String::from_utf8_lossy(&got[0].data);
    let raw_subject = raw_head
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap();
    assert!(raw_subject.is_ascii(), "{raw_subject}");

    let evil = &got[1];
    assert_eq!(
        evil.recipients,
        ["seller@example.com"],
        "no extra envelope recipient"
    );
    let msg = MessageParser::default().parse(&evil.data).unwrap();
    assert!(msg.bcc().is_none());
    assert!(msg.header_raw("Bcc").is_none());
    let subject = msg.subject().unwrap();
    assert!(subject.starts_with("Buy box lost"), "{subject}");
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    let head = String::from_utf8_lossy(&evil.data).to_ascii_lowercase();
    assert!(!head.contains("\nbcc:"), "{head}");
    let to: Vec<_> = msg
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, ["seller@example.com"]);
}

#[tokio::test]
async fn server_down_then_back_delivers_each_message_exactly_once() {
    let server = SmtpServer::start().await;
    let port = server.port();
    let mut s = smtp_setup(port, "");
    server.stop().await;

    let a = enqueue(&s, &rendered("first"), Kind::Firing, None, t0());
    let b = enqueue(&s, &rendered("second"), Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert!(d.sent.is_empty(), "{d}");
    assert_eq!(d.retrying.len(), 2, "{d}");
    assert!(
        d.to_string()
            .contains("2 will be retried at 2026-03-02 16:01"),
        "{d}"
    );
    for (id, _) in [&a, &b] {
        let row = outbox::get(&s.conn, *id).unwrap().unwrap();
        let err = row.last_error.unwrap();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        assert_eq!(row.attempts, 1);
        assert!(sent_at(&s.conn, *id).is_none());
    }
    let deadline = d
        .retrying
        .iter()
        .filter_map(|u| u.next_attempt)
        .max()
        .unwrap();
    let earliest = d
        .retrying
        .iter()
        .filter_map(|u| u.next_attempt)
        .min()
        .unwrap();
    assert!(earliest >= t0() + Duration::seconds(60), "{earliest}");

    // Before the backoff deadline nothing is tried, even with the server back.
    server.restart().await;
    let early = deliver(&mut s, earliest - Duration::seconds(1)).await;
    assert!(early.is_empty(), "{early}");
    assert!(server.messages().is_empty());

    let d = deliver(&mut s, deadline + Duration::seconds(1)).await;
    assert_eq!(d.sent.len(), 2, "{d}");
    let n = copies(&server);
    assert_eq!(n.len(), 2);
    for (_, mid) in [&a, &b] {
        assert_eq!(n.get(bare(mid)), Some(&1), "{n:?}");
    }
    for (id, _) in [&a, &b] {
        assert!(sent_at(&s.conn, *id).is_some());
    }
    let again = deliver(&mut s, deadline + Duration::hours(5)).await;
    assert!(again.is_empty(), "{again}");
    assert_eq!(server.messages().len(), 2);
    assert_eq!(
        outbox::backlog(&s.conn).unwrap(),
        outbox::Backlog::default()
    );
}

#[tokio::test]
async fn a_4xx_is_retried_and_a_5xx_is_permanent() {
    let server = SmtpServer::start().await;
    let mut s = smtp_setup(server.port(), "");

    server.fail_next(1, "451 4.3.0 mailbox busy, try again later");
    let (id, _) = enqueue(&s, &rendered("deferred"), Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.retrying.len(), 1, "{d}");
    let err = &d.retrying[0].error;
    assert!(
        err.contains("451") && err.contains("try again later"),
        "{err}"
    );
    assert!(
        err.contains(&format!("127.0.0.1:{}", server.port())),
        "{err}"
    );
    let next = d.retrying[0].next_attempt.unwrap();
    assert!(deliver(&mut s, next - Duration::seconds(1))
        .await
        .is_empty());
    let d = deliver(&mut s, next).await;
    assert_eq!(d.sent.iter().map(|x| x.id).collect::<Vec<_>>(), [id], "{d}");

    server.fail_next(1, "550 5.7.1 message refused");
    let (id, _) = enqueue(&s, &rendered("refused"), Kind::Firing, None, t0());
    let d = deliver(&mut s, next).await;
    assert_eq!(d.failed.len(), 1, "{d}");
    assert_eq!(d.failed[0].next_attempt, None);
    assert!(
        d.failed[0].error.contains("550 5.7.1 message refused")
            || d.failed[0].error.contains("(550)"),
        "{d}"
    );
    assert!(d.to_string().contains("1 failed for good"), "{d}");
    assert!(deliver(&mut s, next + Duration::days(3)).await.is_empty());
    assert_eq!(
        outbox::backlog(&s.conn).unwrap(),
        outbox::Backlog {
            pending: 0,
            failed: 1
        }
    );
    let row = outbox::get(&s.conn, id).unwrap().unwrap();
    assert!(row.last_error.unwrap().contains("message refused"));
    assert!(sent_at(&s.conn, id).is_none());
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_crash_between_accept_and_mark_resends_the_same_message_id() {
    let server = SmtpServer::start().await;
    let mut s = smtp_setup(server.port(), "");
    let (id, mid) = enqueue(&s, &rendered("once or twice"), Kind::Firing, None, t0());
    assert_eq!(deliver(&mut s, t0()).await.sent.len(), 1);
    // The process "died" after the server's 250 and before mark_sent
    // committed: the row is unsent and still holds the sender's claim,
    // which runs out after 15 minutes.
    s.conn
        .execute("UPDATE outbox SET sent_at = NULL WHERE id = ?1", [id])
        .unwrap();
    assert!(deliver(&mut s, t0() + Duration::minutes(14))
        .await
        .is_empty());
    assert_eq!(
        deliver(&mut s, t0() + Duration::minutes(15))
            .await
            .sent
            .len(),
        1
    );
    assert_eq!(copies(&server).get(bare(&mid)), Some(&2));
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test]
async fn file_transport_writes_one_eml_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail");
    let mut s = setup(&format!(
        "transport = \"file\"\ndir = \"{}\"",
        mail.display()
    ));
    let (a, amid) = enqueue(&s, &rendered("a"), Kind::Firing, None, t0());
    let (_, bmid) = enqueue(&s, &rendered("b"), Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.sent.len(), 2, "{d}");
    let files = || {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&mail)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let names: Vec<String> = files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [format!("{a:07}.eml"), format!("{:07}.eml", a + 1)]);
    for (p, mid) in files().iter().zip([&amid, &bmid]) {
        let bytes = std::fs::read(p).unwrap();
        let msg = MessageParser::default().parse(&bytes).expect("valid MIME");
        assert_eq!(msg.message_id(), Some(bare(mid)));
        assert!(msg.body_html(0).is_some());
    }
    // Redelivering a row (after a crash, once its claim ran out) replaces its file.
    s.conn
        .execute("UPDATE outbox SET sent_at = NULL WHERE id = ?1", [a])
        .unwrap();
    assert_eq!(
        deliver(&mut s, t0() + Duration::minutes(15))
            .await
            .sent
            .len(),
        1
    );
    assert_eq!(files().len(), 2);
}

#[cfg(unix)]
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[cfg(unix)]
#[tokio::test]
async fn sendmail_transport_pipes_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.eml");
    let args = dir.path().join("args.txt");
    let cmd = script(
        dir.path(),
        "sendmail",
        &format!(
            "#!/bin/sh\necho \"$@\" > '{}'\ncat > '{}'\n",
            args.display(),
            out.display()
        ),
    );
    let mut s = setup(&format!(
        "transport = \"sendmail\"\nsendmail_command = \"{}\"",
        cmd.display()
    ));
    let (_, mid) = enqueue(&s, &rendered("via sendmail"), Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.sent.len(), 1, "{d}");
    let msg_bytes = std::fs::read(&out).unwrap();
    let msg = MessageParser::default()
        .parse(&msg_bytes)
        .expect("valid MIME");
    assert_eq!(msg.message_id(), Some(bare(&mid)));
    assert_eq!(msg.subject(), Some("via sendmail"));
    let argv = std::fs::read_to_string(&args).unwrap();
    assert_eq!(
        argv.trim(),
        "-i -f flywheel@example.com -- seller@example.com"
    );

    // A sendmail that fails is retried, with its stderr in the error.
    let failing = script(
        dir.path(),
        "failing-sendmail",
        "#!/bin/sh\ncat > /dev/null\necho 'queue directory is full' >&2\nexit 75\n",
    );
    s.cfg.email.sendmail_command = failing;
    enqueue(&s, &rendered("deferred"), Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.retrying.len(), 1, "{d}");
    assert!(
        d.retrying[0].error.contains("queue directory is full"),
        "{d}"
    );
    assert!(d.retrying[0].error.contains("failing-sendmail"), "{d}");
}

#[tokio::test]
async fn auth_plain_and_login_and_the_password_stays_secret() {
    for mechs in ["PLAIN LOGIN", "LOGIN"] {
        let server = SmtpServer::start_with(Options {
            auth: Some(("flywheel@example.com".into(), PASSWORD.into())),
            mechanisms: Some(mechs.into()),
        })
        .await;
        let mut s = smtp_setup(
            server.port(),
            &format!("username = \"flywheel@example.com\"\npassword = \"{PASSWORD}\""),
        );
        enqueue(&s, &rendered("authenticated"), Kind::Firing, None, t0());
        let d = deliver(&mut s, t0()).await;
        assert_eq!(d.sent.len(), 1, "{mechs}: {d}");
        let auths = server.auths();
        assert_eq!(auths.len(), 1, "{auths:?}");
        assert_eq!(auths[0].0, mechs.split(' ').next().unwrap());
        assert_eq!(
            (auths[0].1.as_str(), auths[0].2),
            ("flywheel@example.com", true)
        );
        assert_eq!(
            server.messages()[0].user.as_deref(),
            Some("flywheel@example.com")
        );

        let notifier = notify::from_config(&s.cfg).unwrap();
        for shown in [
            format!("{:?}", s.cfg),
            format!("{notifier:?}"),
            format!("{:?}", s.cfg.email),
        ] {
            assert!(!shown.contains(PASSWORD), "{shown}");
        }
    }

    // A wrong password: the server's 535 is reported (and retried, since
    // fixing the config fixes it); the password is in no text.
    let server = SmtpServer::start_with(Options {
        auth: Some(("flywheel@example.com".into(), "the-real-one".into())),
        mechanisms: None,
    })
    .await;
    let mut s = smtp_setup(
        server.port(),
        &format!("username = \"flywheel@example.com\"\npassword = \"{PASSWORD}\""),
    );
    let (id, _) = enqueue(&s, &rendered("refused login"), Kind::Firing, None, t0());
    let d = deliver(&mut s, t0()).await;
    assert_eq!(d.retrying.len(), 1, "{d}");
    let err = &d.retrying[0].error;
    assert!(err.contains("535"), "{err}");
    assert!(
        err.contains(&format!("127.0.0.1:{}", server.port())),
        "{err}"
    );
    let row = outbox::get(&s.conn, id).unwrap().unwrap();
    for shown in [d.to_string(), format!("{d:?}"), format!("{row:?}")] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn send_test_email_delivers_only_its_own_row() {
    let server = SmtpServer::start().await;
    let port = server.port();
    let mut s = smtp_setup(port, "");
    // An unrelated due email must not go out as a side effect.
    let (other, _) = enqueue(&s, &rendered("unrelated"), Kind::Firing, None, t0());

    let line = flywheel::cmd::send_test_email::run(&s.cfg).await.unwrap();
    assert!(
        line.starts_with(&format!(
            "test email accepted by 127.0.0.1:{port} for seller@example.com (Message-ID <flywheel."
        )),
        "{line}"
    );
    let got = server.messages();
    assert_eq!(got.len(), 1);
    let msg = MessageParser::default().parse(&got[0].data).unwrap();
    assert_eq!(msg.subject(), Some("flywheel test email"));
    assert!(msg
        .body_text(0)
        .unwrap()
        .contains(&format!("127.0.0.1:{port}")));
    assert!(line.contains(msg.message_id().unwrap()), "{line}");
    assert!(sent_at(&s.conn, other).is_none());

    server.fail_next(1, "550 5.7.1 relaying denied");
    let err = flywheel::cmd::send_test_email::run(&s.cfg)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("relaying denied"), "{err}");
    // Not retried later: the command already reported it.
    assert!(deliver(&mut s, Utc::now() + Duration::days(1))
        .await
        .sent
        .iter()
        .all(|x| x.id == other));

    s.cfg.email.to.clear();
    let err = flywheel::cmd::send_test_email::run(&s.cfg)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("set [email] to"), "{err}");
}

#[test]
fn notifiers_describe_where_mail_goes() {
    let s = smtp_setup(2525, "");
    assert_eq!(
        notify::from_config(&s.cfg).unwrap().describe(),
        "127.0.0.1:2525"
    );
    let s = setup(&format!(
        "transport = \"file\"\ndir = \"{}\"",
        s.dir.path().join("m").display()
    ));
    assert!(notify::from_config(&s.cfg)
        .unwrap()
        .describe()
        .starts_with("files in "));
}

#[tokio::test]
async fn tls_failures_are_retried() {
    // The test server speaks plain SMTP only: implicit TLS fails in the
    // handshake, STARTTLS because the server does not offer it. Neither
    // may fall back to plain text; both are worth retrying.
    let server = SmtpServer::start().await;
    let port = server.port();
    for security in ["tls", "starttls"] {
        let mut s = setup(&format!(
            "transport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"{security}\""
        ));
        enqueue(&s, &rendered("over TLS"), Kind::Firing, None, t0());
        let d = deliver(&mut s, t0()).await;
        assert_eq!(d.retrying.len(), 1, "{security}: {d}");
        assert!(
            d.retrying[0].error.contains(&format!("127.0.0.1:{port}")),
            "{d}"
        );
    }
    assert!(server.messages().is_empty());
}
