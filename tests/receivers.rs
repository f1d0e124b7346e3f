//! `[[receivers]]` end to end through the library and the binary: alert
//! state → one outbox row per receiver per round, in the round's
//! transaction → the chat sender → the in-process fakes of Slack, WeCom,
//! DingTalk, Feishu, Lark and an Alertmanager webhook receiver
//! (tests/common/chat_fakes.rs, which check keys, signatures, schema and
//! limits), with email beside them on the in-process SMTP server.
//!
//! The findings are written by hand (as tests/alerts.rs does), so each
//! case controls what fires when: each kind gets one message for a firing
//! round and one for its resolution, and nothing for a round with nothing
//! new; a receiver that is down for rounds gets each message once when it
//! is back while the others were served on time; a throttle is retried
//! and lands once; a permanent refusal is given up, not retried, and
//! shown by `status` (exit 1) and `doctor`; a crash between the platform's
//! answer and "marked sent" resends at most once; `min_severity`,
//! `accounts`, `links` and `batch` route as configured; mentions carry the
//! owner's ids; and no URL, key or secret reaches a trace log of the
//! binary.

#[path = "common/findings.rs"]
mod findings;
use findings::finding;
#[path = "common/chat_fakes.rs"]
mod chat_fakes;
mod common;
#[path = "common/smtp.rs"]
mod smtp;

use std::process::Command;

use chat_fakes::{ChatFake, Cue, Received, Role, PLATFORMS};
use chrono::{DateTime, Duration, Utc};
use flywheel::alert::chat_sender::{ChatDelivery, ChatSender};
use flywheel::alert::evaluate::{self, Evaluated, Round};
use flywheel::alert::inhibit::Facts;
use flywheel::alert::sender;
use flywheel::config::{Config, Env, RuleId, Severity};
use flywheel::rules::{Finding, Subject};
use flywheel::store;
use rusqlite::Connection;
use smtp::SmtpServer;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// What messages call SKU-STOCK (products_file).
const STOCK: &str = "Silicone spatula set";
const DING_SECRET: &str = "SECding-signing-secret-0001";
const FEISHU_SECRET: &str = "feishu-signing-secret-0002";

/// A robot on the fake for each receiver: its name, role, URL and key.
struct Robot {
    name: String,
    role: Role,
    url: String,
    key: String,
}

struct Setup {
    _dir: tempfile::TempDir,
    cfg: Config,
    config_path: std::path::PathBuf,
    fake: ChatFake,
    server: SmtpServer,
    robots: Vec<Robot>,
}

fn secret_of(role: Role) -> Option<&'static str> {
    match role {
        Role::Dingtalk => Some(DING_SECRET),
        Role::Feishu | Role::Lark => Some(FEISHU_SECRET),
        _ => None,
    }
}

/// `receivers`: (name, role, extra TOML lines) of each receiver.
async fn setup(receivers: &[(&str, Role, &str)]) -> Setup {
    let fake = ChatFake::start().await;
    let server = SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let products = dir.path().join("products.csv");
    std::fs::write(
        &products,
        "sku,name,owner\nSKU-STOCK,Silicone spatula set,Li Lei\n",
    )
    .unwrap();
    let mut robots = Vec::new();
    let mut toml = String::new();
    for (name, role, extra) in receivers {
        let secret = secret_of(*role);
        let (url, key) = fake.robot(*role, secret);
        toml.push_str(&format!(
            "[[receivers]]\nname = \"{name}\"\nkind = \"{}\"\nurl = \"{url}\"\n{}{extra}\n\n",
            role.as_str(),
            secret
                .map(|s| format!("secret = \"{s}\"\n"))
                .unwrap_or_default(),
        ));
        robots.push(Robot {
            name: name.to_string(),
            role: *role,
            url,
            key,
        });
    }
    let p = dir.path().join("flywheel.toml");
    std::fs::write(
        &p,
        format!(
            r#"products_file = "{products}"

[daemon]
database = "{db}"
timezone = "UTC"

[[accounts]]
name = "shop"
region = "na"
marketplaces = ["US"]
alert_to = ["seller@example.com"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "CLIENT-SECRET"
refresh_token = "Atzr|REFRESH-TOKEN"

[[accounts]]
name = "shop2"
region = "eu"
marketplaces = ["DE"]
alert_to = ["seller2@example.com"]

[accounts.sp_api]
client_id = "amzn1.application-oa2-client.test"
client_secret = "CLIENT-SECRET"
refresh_token = "Atzr|REFRESH-TOKEN-2"

[email]
transport = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"
from = "flywheel <flywheel@example.com>"
to = ["ops@example.com"]
timeout = "5s"

[[owners]]
name = "Li Lei"
mobile = "13800001111"
slack_user = "U012AB3CD"
feishu_user = "ou_7d8a6e6df7621556ce0d21922b676706"

{toml}"#,
            products = products.display(),
            db = dir.path().join("flywheel.db").display(),
            port = server.port(),
        ),
    )
    .unwrap();
    let cfg = Config::load(&p, &Env::default()).unwrap_or_else(|e| panic!("{e}"));
    Setup {
        _dir: dir,
        cfg,
        config_path: p,
        fake,
        server,
        robots,
    }
}

impl Setup {
    fn conn(&self) -> Connection {
        let (mut conn, _) = store::open_and_migrate(&self.cfg.daemon.database).unwrap();
        store::ops::sync_accounts(&mut conn, &self.cfg, t0()).unwrap();
        conn
    }

    /// One round at `now` with these findings (no delivery).
    fn queue(&self, findings: Vec<Finding>, now: DateTime<Utc>) -> Round {
        let mut conn = self.conn();
        let e = Evaluated {
            date: now.date_naive(),
            findings,
            facts: Facts::default(),
        };
        evaluate::apply(&mut conn, &self.cfg, &[e], now).unwrap()
    }

    /// Delivers email and every chat receiver at `now`, as `flywheel
    /// evaluate` does (a new process: a new chat sender).
    async fn deliver(&self, now: DateTime<Utc>) -> ChatDelivery {
        self.deliver_waiting(now, std::time::Duration::from_secs(5))
            .await
    }

    /// [`Setup::deliver`] with a chat sender that waits at most
    /// `max_wait` for a receiver's pace.
    async fn deliver_waiting(
        &self,
        now: DateTime<Utc>,
        max_wait: std::time::Duration,
    ) -> ChatDelivery {
        let mut conn = self.conn();
        let d = sender::send_now(&self.cfg, &mut conn, now).await.unwrap();
        assert!(d.failed.is_empty() && d.retrying.is_empty(), "{d}");
        let mut chat = ChatSender::new(std::time::Duration::from_secs(10), max_wait).unwrap();
        chat.deliver_due(&mut conn, &self.cfg.receivers, now)
            .await
            .unwrap()
    }

    async fn round(&self, findings: Vec<Finding>, now: DateTime<Utc>) -> ChatDelivery {
        self.queue(findings, now);
        self.deliver(now).await
    }

    fn robot(&self, name: &str) -> &Robot {
        self.robots.iter().find(|r| r.name == name).unwrap()
    }

    /// What the robot of receiver `name` accepted.
    fn got(&self, name: &str) -> Vec<Received> {
        let r = self.robot(name);
        self.fake
            .received()
            .into_iter()
            .filter(|m| m.key == r.key)
            .collect()
    }

    /// Messages (outbox rows) of receiver `name` delivered: a WeCom
    /// message with @-mentions is two bodies, the text one mentions.
    fn messages(&self, name: &str) -> usize {
        self.got(name)
            .iter()
            .filter(|m| m.body["msgtype"] != "text")
            .count()
    }

    fn flywheel(&self, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flywheel"));
        c.arg("--config").arg(&self.config_path).args(args);
        c.env_remove("RUST_LOG").env("NO_COLOR", "1");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

fn market(account: &str) -> Subject {
    Subject {
        account: account.into(),
        marketplace: if account == "shop" {
            "ATVPDKIKX0DER".into()
        } else {
            "A1PA6795UKMFR9".into()
        },
        ..Subject::default()
    }
}

/// Critical, leverage link, SKU-STOCK (Li Lei's product).
fn stockout(account: &str) -> Finding {
    finding(
        RuleId::StockoutRisk,
        Severity::Critical,
        market(account).asin(STOCK).sku("SKU-STOCK"),
        3.0,
    )
}

/// Warning, growth link.
fn conversion(account: &str) -> Finding {
    finding(
        RuleId::ConversionRate,
        Severity::Warning,
        market(account).asin("B0CONV0001"),
        4.1,
    )
}

/// Warning, experience link.
fn returns(account: &str) -> Finding {
    finding(
        RuleId::ReturnRate,
        Severity::Warning,
        market(account).asin("B0RET00001").sku("SKU-RET"),
        12.0,
    )
}

/// Warning, leverage link, SKU-STOCK too (named in the message).
fn turnover(account: &str) -> Finding {
    finding(
        RuleId::InventoryTurnover,
        Severity::Warning,
        market(account).asin("B0STOCK001").sku("SKU-STOCK"),
        2.0,
    )
}

fn every_kind() -> Vec<(&'static str, Role, &'static str)> {
    PLATFORMS
        .iter()
        .map(|r| {
            let name: &'static str = match r {
                Role::Slack => "ops-slack",
                Role::Wecom => "ops-wecom",
                Role::Dingtalk => "ops-dingtalk",
                Role::Feishu => "ops-feishu",
                Role::Lark => "ops-lark",
                _ => "ops-webhook",
            };
            (name, *r, "accounts = [\"shop\"]")
        })
        .collect()
}

fn body_text(m: &Received) -> String {
    m.body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_gets_one_message_for_a_firing_round_and_one_for_its_resolution() {
    let kinds = every_kind();
    let s = setup(&kinds).await;
    let t = t0();
    let d = s.round(vec![stockout("shop"), conversion("shop")], t).await;
    assert_eq!(d.sent.len(), kinds.len(), "{d}");
    for (name, role, _) in &kinds {
        assert_eq!(s.messages(name), 1, "{name}: one firing message");
        let text = body_text(&s.got(name)[0]);
        assert!(text.contains(STOCK), "{name}: {text}");
        if *role == Role::Webhook {
            assert_eq!(s.got(name)[0].body["status"], "firing");
        }
    }
    // The email of [email] + alert_to is unchanged: one email.
    assert_eq!(s.server.messages().len(), 1);

    // A second round with nothing new queues and sends nothing.
    let later = t + Duration::minutes(30);
    let r = s.queue(vec![stockout("shop"), conversion("shop")], later);
    assert!(r.accounts.iter().all(|a| a.messages.is_empty()), "{r}");
    assert!(s.deliver(later).await.is_empty());
    for (name, _, _) in &kinds {
        assert_eq!(s.messages(name), 1, "{name}: nothing new, nothing sent");
    }

    // Both clear: one resolution message each.
    let fixed = t + Duration::hours(2);
    let d = s.round(vec![], fixed).await;
    assert_eq!(d.sent.len(), kinds.len(), "{d}");
    for (name, role, _) in &kinds {
        assert_eq!(s.messages(name), 2, "{name}: one resolution");
        if *role == Role::Webhook {
            let last = s.got(name).pop().unwrap();
            assert_eq!(last.body["status"], "resolved");
            assert_eq!(last.body["alerts"].as_array().unwrap().len(), 2);
        }
    }
    // And nothing after that.
    assert!(s.round(vec![], fixed + Duration::hours(1)).await.is_empty());
    assert!(s.fake.refused().is_empty(), "{:?}", s.fake.refused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_rounds_gets_each_message_once_when_back_and_others_on_time() {
    let s = setup(&[
        ("ops-slack", Role::Slack, ""),
        ("ops-wecom", Role::Wecom, ""),
    ])
    .await;
    // WeCom answers 503 to the next three requests: one per round, as
    // the sender does not try the rest of a receiver that is down.
    s.fake
        .cue(Role::Wecom, [Cue::down(), Cue::down(), Cue::down()]);
    let rounds = [
        vec![stockout("shop")],
        vec![stockout("shop"), conversion("shop")],
        vec![stockout("shop"), conversion("shop"), returns("shop")],
    ];
    for (i, findings) in rounds.into_iter().enumerate() {
        let at = t0() + Duration::hours(i as i64);
        let d = s.round(findings, at).await;
        // Slack is served on time, every round.
        assert_eq!(s.messages("ops-slack"), i + 1, "round {i}: {d}");
        assert_eq!(s.messages("ops-wecom"), 0, "round {i}: {d}");
        assert_eq!(d.retrying.len(), 1, "round {i}: one tried: {d}");
        assert!(d.retrying[0].error.contains("ops-wecom"), "{d}");
    }
    // Three failed attempts: `status` calls for an operator (exit 1).
    let out = s.flywheel(&["status"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("receiver ops-wecom: 1 message not delivered yet after 3 or more attempts"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ops-wecom: 3 queued (1 failing), 0 given up"),
        "{stdout}"
    );
    // Back: each of the three messages arrives once, in order.
    let back = t0() + Duration::hours(3);
    let d = s.deliver(back).await;
    assert_eq!(d.sent.len(), 3, "{d}");
    assert_eq!(s.messages("ops-wecom"), 3);
    let wecom: Vec<String> = s
        .got("ops-wecom")
        .iter()
        .filter(|m| m.body["msgtype"] == "markdown")
        .map(body_text)
        .collect();
    assert!(wecom[0].contains(STOCK) && !wecom[0].contains("B0CONV0001"));
    assert!(wecom[1].contains("B0CONV0001") && !wecom[1].contains("B0RET00001"));
    assert!(wecom[2].contains("B0RET00001"));
    assert!(s.deliver(back + Duration::hours(1)).await.is_empty());
    assert_eq!(s.messages("ops-wecom"), 3);
    assert_eq!(s.messages("ops-slack"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_is_retried_after_the_wait_and_delivered_once() {
    let s = setup(&[
        ("ops-dingtalk", Role::Dingtalk, ""),
        ("ops-slack", Role::Slack, ""),
    ])
    .await;
    s.fake.cue(Role::Dingtalk, [Cue::throttle(Role::Dingtalk)]);
    s.fake.cue(Role::Slack, [Cue::throttle(Role::Slack)]);
    let d = s.round(vec![stockout("shop")], t0()).await;
    assert_eq!(d.retrying.len(), 2, "{d}");
    // DingTalk's documented throttle lasts 10 minutes; Slack's Retry-After says 1 s.
    let ding = d
        .retrying
        .iter()
        .find(|u| u.receiver == "ops-dingtalk")
        .unwrap();
    assert_eq!(ding.next_attempt, Some(t0() + Duration::minutes(10)), "{d}");
    assert!(ding.error.contains("130101"), "{}", ding.error);
    let slack = d
        .retrying
        .iter()
        .find(|u| u.receiver == "ops-slack")
        .unwrap();
    assert_eq!(slack.next_attempt, Some(t0() + Duration::seconds(1)), "{d}");
    // Not before the wait.
    assert!(s
        .deliver(t0() + Duration::minutes(5))
        .await
        .sent
        .iter()
        .all(|x| x.receiver != "ops-dingtalk"));
    assert_eq!(s.messages("ops-dingtalk"), 0);
    assert_eq!(s.messages("ops-slack"), 1);
    let d = s.deliver(t0() + Duration::minutes(11)).await;
    assert_eq!(d.sent.len(), 1, "{d}");
    assert!(s.deliver(t0() + Duration::hours(2)).await.is_empty());
    assert_eq!(s.messages("ops-dingtalk"), 1);
    assert_eq!(s.messages("ops-slack"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_recorded_not_retried_and_shown_by_status_and_doctor() {
    let s = setup(&[
        ("ops-feishu", Role::Feishu, ""),
        ("ops-slack", Role::Slack, ""),
    ])
    .await;
    s.fake.cue(Role::Feishu, [Cue::permanent(Role::Feishu)]);
    let d = s.round(vec![stockout("shop")], t0()).await;
    assert_eq!(d.failed.len(), 1, "{d}");
    assert!(d.failed[0].error.contains("19024"), "{d}");
    let requests = s.fake.requests();
    // Not retried, however late.
    assert!(s.deliver(t0() + Duration::days(3)).await.is_empty());
    assert_eq!(s.fake.requests(), requests);
    assert_eq!(s.messages("ops-feishu"), 0);
    assert_eq!(s.messages("ops-slack"), 1);

    let out = s.flywheel(&["status"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "receiver ops-feishu: 1 message could not be delivered and will not be retried"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("RECEIVERS") && stdout.contains("ops-feishu: 0 queued, 1 given up"),
        "{stdout}"
    );
    assert!(stdout.contains("19024"), "{stdout}");
    assert!(!stdout.contains(&s.robot("ops-feishu").key), "{stdout}");

    // Cleared once seen: status stops counting it.
    let out = s.flywheel(&["status", "--clear-failures"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("receiver ops-feishu: 1 message"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_answer_and_marked_sent_resends_at_most_once() {
    let s = setup(&[
        ("ops-slack", Role::Slack, ""),
        ("ops-wecom", Role::Wecom, "mention_owners = true"),
    ])
    .await;
    let d = s.round(vec![stockout("shop")], t0()).await;
    assert_eq!(d.sent.len(), 2, "{d}");
    assert_eq!(s.got("ops-slack").len(), 1);
    // WeCom with a mention: the markdown, then the text that mentions.
    assert_eq!(s.got("ops-wecom").len(), 2);
    // The process died after the platforms answered, before the rows
    // were marked: as the claim left them (unsent, not due until the
    // lease ends), WeCom's having recorded its first body as taken.
    let conn = s.conn();
    let lease_end = store::ops::ts(t0() + Duration::minutes(15));
    conn.execute(
        "UPDATE outbox SET sent_at = NULL, attempts = 0, next_attempt_at = ?1
          WHERE platform = 'slack'",
        [&lease_end],
    )
    .unwrap();
    conn.execute(
        "UPDATE outbox SET sent_at = NULL, attempts = 0, next_attempt_at = ?1, bodies_sent = 1
          WHERE platform = 'wecom'",
        [&lease_end],
    )
    .unwrap();
    // Still claimed: nothing goes before the lease ends…
    assert!(s.deliver(t0() + Duration::minutes(1)).await.is_empty());
    // …unless a restarting daemon releases the claims it left.
    assert_eq!(
        store::outbox::release_abandoned_claims(&conn, t0() + Duration::minutes(2)).unwrap(),
        2
    );
    let d = s.deliver(t0() + Duration::minutes(2)).await;
    assert_eq!(d.sent.len(), 2, "{d}");
    assert_eq!(s.got("ops-slack").len(), 2, "resent once");
    // WeCom resumes after the body it took: only the mention again.
    let wecom = s.got("ops-wecom");
    assert_eq!(wecom.len(), 3);
    assert_eq!(wecom[2].body["msgtype"], "text");
    assert!(s.deliver(t0() + Duration::hours(1)).await.is_empty());
    assert_eq!(s.got("ops-slack").len(), 2, "never a third time");
    assert_eq!(s.got("ops-wecom").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_severity_accounts_and_links_route_as_configured() {
    let s = setup(&[
        ("critical-only", Role::Slack, "min_severity = \"critical\""),
        ("shop2-only", Role::Webhook, "accounts = [\"shop2\"]"),
        ("growth-only", Role::Feishu, "links = [\"growth\"]"),
        ("everything", Role::Dingtalk, ""),
    ])
    .await;
    let d = s
        .round(
            vec![
                stockout("shop"),
                conversion("shop"),
                returns("shop"),
                returns("shop2"),
            ],
            t0(),
        )
        .await;
    assert!(d.retrying.is_empty() && d.failed.is_empty(), "{d}");
    let has = |name: &str, what: &str| s.got(name).iter().any(|m| body_text(m).contains(what));
    // critical-only: the stockout, nothing else.
    assert_eq!(s.messages("critical-only"), 1);
    assert!(has("critical-only", STOCK));
    assert!(!has("critical-only", "B0CONV0001") && !has("critical-only", "B0RET00001"));
    // shop2-only: shop2's return rate alone.
    assert_eq!(s.messages("shop2-only"), 1);
    let w = &s.got("shop2-only")[0].body;
    assert_eq!(w["alerts"].as_array().unwrap().len(), 1, "{w}");
    assert!(body_text(&s.got("shop2-only")[0]).contains("shop2"));
    assert!(!has("shop2-only", STOCK));
    // growth-only: the conversion alert only.
    assert_eq!(s.messages("growth-only"), 1);
    assert!(has("growth-only", "B0CONV0001"));
    assert!(!has("growth-only", STOCK) && !has("growth-only", "B0RET00001"));
    // everything: one message per account.
    assert_eq!(s.messages("everything"), 2);

    // The resolution goes to the receivers told of the firing only: the
    // conversion alert clears; critical-only and shop2-only never heard of it.
    let later = t0() + Duration::hours(1);
    let d = s
        .round(
            vec![stockout("shop"), returns("shop"), returns("shop2")],
            later,
        )
        .await;
    let to: Vec<&str> = d.sent.iter().map(|x| x.receiver.as_str()).collect();
    assert_eq!(to, ["growth-only", "everything"], "{d}");
    assert_eq!(s.messages("critical-only"), 1);
    assert_eq!(s.messages("shop2-only"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_receiver_gets_critical_at_once_and_the_rest_in_one_message_at_its_time() {
    let s = setup(&[
        (
            "daily",
            Role::Slack,
            "batch = \"09:00\"\naccounts = [\"shop\"]",
        ),
        ("now", Role::Wecom, "accounts = [\"shop\"]"),
    ])
    .await;
    // 16:00 UTC: a critical stockout and a warning.
    let d = s
        .round(vec![stockout("shop"), conversion("shop")], t0())
        .await;
    assert_eq!(d.sent.len(), 2, "{d}");
    let first = body_text(&s.got("daily")[0]);
    assert!(
        first.contains(STOCK) && !first.contains("B0CONV0001"),
        "{first}"
    );
    // 20:00: another warning, held too.
    let evening = t0() + Duration::hours(4);
    let d = s
        .round(
            vec![
                stockout("shop"),
                conversion("shop"),
                returns("shop"),
                turnover("shop"),
            ],
            evening,
        )
        .await;
    assert_eq!(
        d.sent
            .iter()
            .map(|x| x.receiver.as_str())
            .collect::<Vec<_>>(),
        ["now"],
        "{d}"
    );
    let status = s.flywheel(&["status"], &[]);
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        stdout.contains("daily: 0 queued, 0 given up, 3 held for its batch"),
        "{stdout}"
    );
    // 08:59 next day: still held.
    let before = DateTime::parse_from_rfc3339("2026-03-03T08:59:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert!(s
        .round(
            vec![
                stockout("shop"),
                conversion("shop"),
                returns("shop"),
                turnover("shop")
            ],
            before
        )
        .await
        .is_empty());
    assert_eq!(s.messages("daily"), 1);
    // The first round after 09:00: both warnings in one message.
    let nine = DateTime::parse_from_rfc3339("2026-03-03T09:05:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let d = s
        .round(
            vec![
                stockout("shop"),
                conversion("shop"),
                returns("shop"),
                turnover("shop"),
            ],
            nine,
        )
        .await;
    assert_eq!(d.sent.len(), 1, "{d}");
    assert_eq!(s.messages("daily"), 2);
    let batch = body_text(&s.got("daily")[1]);
    assert!(
        batch.contains("B0CONV0001") && batch.contains("B0RET00001"),
        "{batch}"
    );
    // Held items are named as any (products_file), though nothing is new
    // in the round that sends them.
    assert!(batch.contains(STOCK), "{batch}");
    assert!(s
        .round(
            vec![
                stockout("shop"),
                conversion("shop"),
                returns("shop"),
                turnover("shop")
            ],
            nine + Duration::minutes(30)
        )
        .await
        .is_empty());
    assert_eq!(s.messages("daily"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_carry_the_owners_ids() {
    let s = setup(&[
        ("m-slack", Role::Slack, "mention_owners = true"),
        ("m-wecom", Role::Wecom, "mention_owners = true"),
        ("m-dingtalk", Role::Dingtalk, "mention_owners = true"),
        ("m-feishu", Role::Feishu, "mention_owners = true"),
        ("plain-slack", Role::Slack, ""),
    ])
    .await;
    let d = s.round(vec![stockout("shop")], t0()).await;
    assert_eq!(d.sent.len(), 5, "{d}");
    let all = |name: &str| s.got(name).iter().map(body_text).collect::<String>();
    assert!(
        all("m-slack").contains("<@U012AB3CD>"),
        "{}",
        all("m-slack")
    );
    let wecom_text = s
        .got("m-wecom")
        .into_iter()
        .find(|m| m.body["msgtype"] == "text")
        .unwrap();
    assert_eq!(
        wecom_text.body["text"]["mentioned_mobile_list"][0],
        "13800001111"
    );
    let ding = &s.got("m-dingtalk")[0].body;
    assert_eq!(ding["at"]["atMobiles"][0], "13800001111", "{ding}");
    assert!(all("m-feishu").contains("ou_7d8a6e6df7621556ce0d21922b676706"));
    assert!(!all("plain-slack").contains("U012AB3CD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_and_delivery_keep_urls_and_secrets_out_of_trace_logs() {
    let kinds = every_kind();
    let s = setup(&kinds).await;
    s.queue(vec![stockout("shop")], t0());
    let mut secrets: Vec<String> = vec![DING_SECRET.into(), FEISHU_SECRET.into()];
    for r in &s.robots {
        secrets.push(r.key.clone());
        secrets.push(r.url.clone());
    }
    let trace = [("RUST_LOG", "trace")];
    let mut stderr = String::new();
    // `evaluate` delivers what the round above queued (and whatever its
    // own round, with no data to judge, adds); `send-test` posts to each.
    let out = s.flywheel(&["evaluate"], &trace);
    stderr.push_str(&String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    for (name, _, _) in &kinds {
        let before = s.got(name).len();
        assert!(s.messages(name) >= 1, "{name}: delivered by the binary");
        let out = s.flywheel(&["send-test", "--receiver", name], &trace);
        let stdout = String::from_utf8_lossy(&out.stdout);
        stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success(),
            "{name}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("test message delivered to {name}")),
            "{stdout}"
        );
        assert_eq!(s.got(name).len(), before + 1, "{name}: the test message");
    }
    // Not vacuous: the sender and the HTTP stack logged at trace level.
    assert!(stderr.contains("chat message delivered"), "{stderr}");
    assert!(stderr.contains("TRACE"), "{stderr}");
    for secret in &secrets {
        assert!(
            !stderr.contains(secret.as_str()),
            "a secret in the trace log: {secret}"
        );
    }
    assert!(s.fake.refused().is_empty(), "{:?}", s.fake.refused());
}

/// `doctor`'s line per receiver: its URL's shape and secret checked
/// again, what it has not delivered; neither URL nor secret quoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_each_receiver_without_quoting_it() {
    use flywheel::cmd::doctor::receiver_line;
    let s = setup(&every_kind()).await;
    s.fake.cue(Role::Lark, [Cue::permanent(Role::Lark)]);
    s.round(vec![stockout("shop")], t0()).await;
    let backlog = store::outbox::backlog_by_receiver(&s.conn(), 3).unwrap();
    for r in &s.cfg.receivers {
        let (line, ok) = receiver_line(r, backlog.iter().find(|b| b.receiver == r.name));
        let robot = s.robot(&r.name);
        assert!(
            !line.contains(&robot.key)
                && !line.contains(DING_SECRET)
                && !line.contains(FEISHU_SECRET),
            "{line}"
        );
        if robot.role == Role::Lark {
            assert!(!ok, "{line}");
            assert!(
                line.contains("1 given up") && line.contains("19024"),
                "{line}"
            );
        } else {
            assert!(ok, "{line}");
            assert!(
                line.contains(&format!("{} ({}): URL ok", r.name, robot.role.as_str())),
                "{line}"
            );
        }
        if secret_of(robot.role).is_some() {
            assert!(line.contains("signing secret set"), "{line}");
        }
    }
    // A URL that is not the platform's shape, or a DingTalk secret that is
    // not one, fails the check.
    let mut bad = s.cfg.receivers[1].clone();
    bad.resolved_url = Some(flywheel::config::Secret::new(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/sendit?key=k3y-not-shown",
    ));
    let (line, ok) = receiver_line(&bad, None);
    assert!(
        !ok && line.contains("is not a wecom robot's webhook URL"),
        "{line}"
    );
    assert!(!line.contains("k3y-not-shown"), "{line}");
    let mut ding = s.cfg.receivers[2].clone();
    ding.resolved_secret = Some(flywheel::config::Secret::new("not-a-ding-secret"));
    let (line, ok) = receiver_line(&ding, None);
    assert!(!ok && line.contains("does not start with SEC"), "{line}");
    assert!(!line.contains("not-a-ding-secret"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_prints_a_refusal_and_exits_non_zero() {
    let s = setup(&[("ops-wecom", Role::Wecom, "")]).await;
    s.fake.cue(Role::Wecom, [Cue::permanent(Role::Wecom)]);
    let out = s.flywheel(&["send-test", "--receiver", "ops-wecom"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not delivered") && stderr.contains("93000"),
        "{stderr}"
    );
    assert!(!stderr.contains(&s.robot("ops-wecom").key), "{stderr}");
    let out = s.flywheel(&["send-test", "--receiver", "nope"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no receiver named \"nope\" (configured: email, ops-wecom)"),
        "{stderr}"
    );
}

/// Slack takes about one message a second per webhook: a round with two
/// accounts' messages for one Slack receiver sends the second a second
/// later, or, when the sender may not wait that long, leaves it for the
/// next round (postponed, not counted as a failed attempt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platforms_pace_is_kept_before_sending() {
    let s = setup(&[("ops-slack", Role::Slack, "")]).await;
    s.queue(vec![stockout("shop"), returns("shop2")], t0());
    let d = s.deliver_waiting(t0(), std::time::Duration::ZERO).await;
    assert_eq!(d.sent.len(), 1, "{d}");
    assert!(d.retrying.is_empty() && d.failed.is_empty(), "{d}");
    assert_eq!(s.messages("ops-slack"), 1);
    let conn = s.conn();
    let (attempts, next): (i64, String) = conn
        .query_row(
            "SELECT attempts, next_attempt_at FROM outbox WHERE platform = 'slack' AND sent_at IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(attempts, 0);
    assert!(next.as_str() > store::ops::ts(t0()).as_str(), "{next}");
    assert!(
        next.as_str() <= store::ops::ts(t0() + Duration::seconds(2)).as_str(),
        "{next}"
    );
    let d = s.deliver(t0() + Duration::seconds(2)).await;
    assert_eq!(d.sent.len(), 1, "{d}");
    assert_eq!(s.messages("ops-slack"), 2);

    // Waiting allowed: both go in one delivery, a second apart.
    s.queue(vec![], t0() + Duration::hours(1));
    let started = std::time::Instant::now();
    let d = s.deliver(t0() + Duration::hours(1)).await;
    assert_eq!(d.sent.len(), 2, "{d}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(s.messages("ops-slack"), 4);
}

/// The daemon (`flywheel run`, in-process, on the simulated marketplace's
/// clock) delivers each chat receiver's messages of its rounds beside the
/// email, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daemon_delivers_to_chat_receivers_beside_email() {
    let h = common::start(common::Opts::new("demo")).await;
    let server = SmtpServer::start().await;
    let fake = ChatFake::start().await;
    let (slack, slack_key) = fake.robot(Role::Slack, None);
    let (hook, hook_key) = fake.robot(Role::Webhook, None);
    let text = smtp::with_smtp(
        &std::fs::read_to_string(&h.config_path).unwrap(),
        server.port(),
    );
    let mut extra = String::from("\n[schedule]\n");
    for job in flywheel::sync::JobName::ALL {
        extra.push_str(&format!("{} = \"5 0 * * *\"\n", job.as_str()));
    }
    extra.push_str("digest = \"off\"\n");
    extra.push_str(&format!(
        "\n[[receivers]]\nname = \"team-slack\"\nkind = \"slack\"\nurl = \"{slack}\"\n\n\
         [[receivers]]\nname = \"bridge\"\nkind = \"webhook\"\nurl = \"{hook}\"\nmin_severity = \"critical\"\n"
    ));
    let p = h.dir.path().join("daemon.toml");
    std::fs::write(&p, format!("{text}{extra}")).unwrap();
    let daemon = flywheel::daemon::start(p, Env::default());
    let conn = flywheel::store::open(h.database()).unwrap();
    let chat_rows = |conn: &Connection| -> Vec<(String, bool)> {
        conn.prepare(
            "SELECT receiver, sent_at IS NOT NULL FROM outbox WHERE platform IS NOT NULL ORDER BY id",
        )
        .and_then(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_default()
    };
    let started = std::time::Instant::now();
    loop {
        let rows = chat_rows(&conn);
        if !rows.is_empty() && rows.iter().all(|r| r.1) && !server.messages().is_empty() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(240),
            "the daemon delivered no chat message in time: {rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    daemon.shutdown().await.expect("the daemon stops cleanly");
    let rows = chat_rows(&conn);
    let count = |name: &str| rows.iter().filter(|r| r.0 == name).count();
    // The demo's first round fires warnings and criticals: Slack hears of
    // them; the webhook, critical only, of the criticals.
    assert!(count("team-slack") >= 1, "{rows:?}");
    let by_key = |k: &str| fake.received().iter().filter(|m| m.key == k).count();
    assert_eq!(
        by_key(&slack_key),
        count("team-slack"),
        "each Slack row once"
    );
    assert_eq!(by_key(&hook_key), count("bridge"), "each webhook row once");
    for m in fake.received().iter().filter(|m| m.key == hook_key) {
        for a in m.body["alerts"].as_array().unwrap() {
            assert_eq!(a["labels"]["severity"], "critical", "{a}");
        }
    }
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());
}
