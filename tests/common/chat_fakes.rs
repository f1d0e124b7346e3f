//! In-process fakes of the chat platforms, one HTTP server on 127.0.0.1
//! that plays Slack, WeCom, DingTalk, Feishu, Lark and an Alertmanager
//! webhook receiver, each under its own path prefix:
//!
//! | platform | URL the fake hands out |
//! |---|---|
//! | Slack | `/slack/services/T…/B…/<key>` |
//! | WeCom | `/wecom/cgi-bin/webhook/send?key=<key>` |
//! | DingTalk | `/dingtalk/robot/send?access_token=<key>` (+ `&timestamp=&sign=` signed) |
//! | Feishu, Lark | `/feishu/open-apis/bot/v2/hook/<key>`, `/lark/…` |
//! | webhook | `/webhook/<key>` |
//!
//! It checks what the real platform checks, from its own copy of each
//! robot's key and secret and the platforms' documented rules, written
//! again here rather than borrowed from flywheel: the key exists; the
//! signature (DingTalk: HMAC-SHA256 keyed by the secret over
//! `timestamp + "\n" + secret`, base64 then URL-encoded, in the query;
//! Feishu/Lark: HMAC-SHA256 keyed by `timestamp + "\n" + secret` over
//! nothing, base64, in the body) and that its timestamp is within an
//! hour of the system clock; the payload's schema; the size limits
//! (WeCom markdown 4096 bytes, text 2048; Feishu body 20 KB; Slack 50
//! blocks, header 150 and section 3000 characters). A failed check gets
//! the answer the platform documents for it.
//!
//! Every accepted message is recorded. A queue of cues per platform
//! makes the next requests get a scripted answer instead (the documented
//! throttle or permanent error, a 5xx), for the retry tests.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::Value;

/// A platform the fake plays: flywheel's receiver kinds but email.
pub use flywheel::config::ReceiverKind as Role;

/// Every platform the fake plays.
pub const PLATFORMS: [Role; 6] = [
    Role::Slack,
    Role::Wecom,
    Role::Dingtalk,
    Role::Feishu,
    Role::Lark,
    Role::Webhook,
];

/// What the platforms answer, as their documentation shows it, one a
/// line: the platform, the occasion, the HTTP status, the body (Lark
/// answers as Feishu does). `throttle` is the rate limit; `refuse` an
/// error that stops retries (a revoked token, a keyword missing);
/// `unknown` a robot key that does not exist; `sign` a bad or stale
/// signature; the rest a payload the platform will not take.
const ANSWERS: &str = r#"
slack ok 200 ok
slack throttle 429 rate_limited
slack refuse 403 invalid_token
slack unknown 404 no_service
slack no_text 400 no_text
slack blocks 400 invalid_blocks
slack json 400 invalid_payload
wecom ok 200 {"errcode":0,"errmsg":"ok"}
wecom throttle 200 {"errcode":45009,"errmsg":"api freq out of limit"}
wecom refuse 200 {"errcode":93000,"errmsg":"invalid webhook url"}
wecom unknown 200 {"errcode":93000,"errmsg":"invalid webhook url, hint: [key not found]"}
wecom empty 200 {"errcode":44004,"errmsg":"empty content"}
wecom too_long 200 {"errcode":40058,"errmsg":"content exceed max length"}
wecom msgtype 200 {"errcode":40008,"errmsg":"invalid message type"}
wecom json 200 {"errcode":40035,"errmsg":"invalid json"}
dingtalk ok 200 {"errcode":0,"errmsg":"ok"}
dingtalk throttle 200 {"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}
dingtalk refuse 200 {"errcode":310000,"errmsg":"keywords not in content"}
dingtalk unknown 200 {"errcode":300001,"errmsg":"token is not exist"}
dingtalk sign 200 {"errcode":310000,"errmsg":"sign not match"}
dingtalk json 200 {"errcode":40035,"errmsg":"缺少参数 json"}
feishu ok 200 {"code":0,"msg":"success","data":{}}
feishu throttle 200 {"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]"}
feishu refuse 200 {"code":19024,"msg":"Key Words Not Found"}
feishu unknown 200 {"code":19001,"msg":"param invalid: incoming webhook access token invalid"}
feishu sign 200 {"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}
feishu json 400 {"code":9499,"msg":"Bad Request","data":{}}
webhook ok 200
webhook throttle 429 slow down
webhook refuse 404 no such hook
webhook unknown 404 no such hook
webhook json 400 not an Alertmanager webhook payload
"#;

/// An answer the fake gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub status: u16,
    pub body: String,
    /// `Retry-After`, in seconds (every 429 says 1).
    pub retry_after: Option<u64>,
}

impl Cue {
    /// `role`'s documented answer on `occasion` (a line of [`ANSWERS`]).
    pub fn of(role: Role, occasion: &str) -> Cue {
        let platform = if role == Role::Lark {
            "feishu"
        } else {
            role.as_str()
        };
        let line = ANSWERS
            .lines()
            .find(|l| l.starts_with(&format!("{platform} {occasion} ")))
            .unwrap_or_else(|| panic!("no {platform} {occasion} answer"));
        let mut parts = line.splitn(4, ' ').skip(2);
        let status: u16 = parts.next().unwrap().parse().unwrap();
        Cue {
            status,
            body: parts.next().unwrap_or_default().to_string(),
            retry_after: (status == 429).then_some(1),
        }
    }

    pub fn throttle(role: Role) -> Cue {
        Cue::of(role, "throttle")
    }

    pub fn permanent(role: Role) -> Cue {
        Cue::of(role, "refuse")
    }

    /// A server error.
    pub fn down() -> Cue {
        Cue {
            status: 503,
            body: "Service Unavailable".into(),
            retry_after: None,
        }
    }
}

/// One message the fake accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub role: Role,
    /// The robot's key.
    pub key: String,
    pub body: Value,
}

/// One robot: its key and its signing secret.
#[derive(Debug, Clone)]
struct Robot {
    role: Role,
    secret: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    robots: Mutex<HashMap<String, Robot>>,
    cues: Mutex<HashMap<Role, VecDeque<Cue>>>,
    received: Mutex<Vec<Received>>,
    /// Every request refused by a check: (role, why).
    refused: Mutex<Vec<(Role, String)>>,
    requests: Mutex<usize>,
}

/// The fake, serving until dropped.
pub struct ChatFake {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ChatFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn random_key() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

impl ChatFake {
    pub async fn start() -> ChatFake {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ChatFake { addr, shared, task }
    }

    /// A new robot of `role` (signing with `secret` when given); returns
    /// its URL and its key.
    pub fn robot(&self, role: Role, secret: Option<&str>) -> (String, String) {
        let key = random_key();
        self.shared.robots.lock().unwrap().insert(
            key.clone(),
            Robot {
                role,
                secret: secret.map(str::to_string),
            },
        );
        let base = format!("http://{}/{}", self.addr, role.as_str());
        let url = match role {
            Role::Slack => format!("{base}/services/T0FAKE/B0FAKE/{key}"),
            Role::Wecom => format!("{base}/cgi-bin/webhook/send?key={key}"),
            Role::Dingtalk => format!("{base}/robot/send?access_token={key}"),
            Role::Feishu | Role::Lark => format!("{base}/open-apis/bot/v2/hook/{key}"),
            Role::Webhook | Role::Email => format!("{base}/{key}"),
        };
        (url, key)
    }

    /// The next requests to `role` get these answers, in order.
    pub fn cue(&self, role: Role, cues: impl IntoIterator<Item = Cue>) {
        self.shared
            .cues
            .lock()
            .unwrap()
            .entry(role)
            .or_default()
            .extend(cues);
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn received_by(&self, role: Role) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.role == role)
            .collect()
    }

    /// Every request a check refused, with why.
    pub fn refused(&self) -> Vec<(Role, String)> {
        self.shared.refused.lock().unwrap().clone()
    }

    /// Requests seen, accepted or not.
    pub fn requests(&self) -> usize {
        *self.shared.requests.lock().unwrap()
    }
}

// ---- the checks, written from the platforms' documentation ----

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&key, message).as_ref().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `%XX` decoding of a query value (the fake's own, not flywheel's).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A timestamp the platform takes: within an hour of its own clock
/// (`millis`: DingTalk's are milliseconds, Feishu's seconds).
fn fresh(timestamp: &str, millis: bool) -> bool {
    let Ok(t) = timestamp.parse::<u64>() else {
        return false;
    };
    let then = if millis {
        Duration::from_millis(t)
    } else {
        Duration::from_secs(t)
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    now.abs_diff(then) <= Duration::from_secs(3600)
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

fn is_str(v: &Value) -> bool {
    v.as_str().is_some_and(|s| !s.is_empty())
}

/// What is wrong with a Slack body (Block Kit limits): the occasion.
fn slack_schema(b: &Value) -> Result<(), &'static str> {
    let blocks = b["blocks"].as_array();
    if !is_str(&b["text"]) && blocks.is_none() {
        return Err("no_text");
    }
    let blocks = blocks.map(Vec::as_slice).unwrap_or_default();
    let text = |b: &Value, kind: &str, max: usize| {
        b["text"]["type"] == kind && (1..=max).contains(&chars(&b["text"]["text"]))
    };
    let ok = blocks.len() <= 50
        && blocks.iter().all(|block| match block["type"].as_str() {
            Some("header") => text(block, "plain_text", 150),
            Some("section") => text(block, "mrkdwn", 3000),
            Some("context") => block["elements"]
                .as_array()
                .is_some_and(|e| !e.is_empty() && e.len() <= 10),
            Some("divider") => true,
            _ => false,
        });
    ok.then_some(()).ok_or("blocks")
}

fn wecom_schema(b: &Value) -> Result<(), &'static str> {
    let (content, max) = match b["msgtype"].as_str() {
        Some("markdown") => (&b["markdown"]["content"], 4096),
        Some("text") => (&b["text"]["content"], 2048),
        _ => return Err("msgtype"),
    };
    let content = content.as_str().unwrap_or_default();
    let mobiles = &b["text"]["mentioned_mobile_list"];
    if content.is_empty() {
        Err("empty")
    } else if content.len() > max {
        Err("too_long")
    } else if !mobiles.is_null()
        && !mobiles
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        Err("json")
    } else {
        Ok(())
    }
}

fn dingtalk_schema(b: &Value) -> Result<(), &'static str> {
    let at = &b["at"];
    let ok = b["msgtype"] == "markdown"
        && is_str(&b["markdown"]["title"])
        && is_str(&b["markdown"]["text"])
        && (at.is_null()
            || at["atMobiles"]
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)));
    ok.then_some(()).ok_or("json")
}

/// A card element Feishu renders.
fn card_element(el: &Value) -> bool {
    match el["tag"].as_str() {
        Some("div") => el["text"]["tag"] == "lark_md" && is_str(&el["text"]["content"]),
        Some("note") => el["elements"].as_array().is_some_and(|x| !x.is_empty()),
        Some("action") => el["actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|b| b["tag"] == "button" && is_str(&b["url"]))),
        Some("hr") => true,
        _ => false,
    }
}

fn feishu_schema(b: &Value, size: usize) -> Result<(), &'static str> {
    let card = &b["card"];
    let title = &card["header"]["title"];
    let ok = size <= 20 * 1024
        && b["msg_type"] == "interactive"
        && title["tag"] == "plain_text"
        && is_str(&title["content"])
        && card["elements"]
            .as_array()
            .is_some_and(|e| e.iter().all(card_element));
    ok.then_some(()).ok_or("json")
}

/// Alertmanager's webhook payload, version 4.
fn webhook_schema(b: &Value) -> Result<(), &'static str> {
    let top = "version groupKey status receiver groupLabels commonLabels commonAnnotations externalURL alerts";
    let per_alert = "status labels annotations startsAt endsAt generatorURL fingerprint";
    let has = |v: &Value, keys: &str| keys.split(' ').all(|k| v.get(k).is_some());
    let alert_ok = |x: &Value| {
        has(x, per_alert)
            && x["labels"]["alertname"].is_string()
            && chrono::DateTime::parse_from_rfc3339(x["startsAt"].as_str().unwrap_or_default())
                .is_ok()
    };
    let ok = b["version"] == "4"
        && has(b, top)
        && ["firing", "resolved"].contains(&b["status"].as_str().unwrap_or_default())
        && b["alerts"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(alert_ok));
    ok.then_some(()).ok_or("json")
}

/// The robot key a request names, by its platform's URL shape.
fn key_of(role: Role, rest: &[&str], q: &HashMap<String, String>) -> Option<String> {
    match (role, rest) {
        (Role::Slack, ["services", _, _, key]) => Some(key.to_string()),
        (Role::Wecom, ["cgi-bin", "webhook", "send"]) => q.get("key").cloned(),
        (Role::Dingtalk, ["robot", "send"]) => q.get("access_token").cloned(),
        (Role::Feishu | Role::Lark, ["open-apis", "bot", "v2", "hook", key]) => {
            Some(key.to_string())
        }
        (Role::Webhook, [key]) => Some(key.to_string()),
        _ => None,
    }
}

/// The signature check of a signing robot: `(timestamp, sign)` from the
/// request, recomputed from the fake's own copy of the secret.
fn signed(role: Role, secret: &str, q: &HashMap<String, String>, v: &Value) -> bool {
    let (ts, sign, want, millis) = if role == Role::Dingtalk {
        let (Some(ts), Some(sign)) = (q.get("timestamp"), q.get("sign")) else {
            return false;
        };
        let mac = hmac_sha256(secret.as_bytes(), format!("{ts}\n{secret}").as_bytes());
        (ts.as_str(), percent_decode(sign), b64(&mac), true)
    } else {
        let (Some(ts), Some(sign)) = (v["timestamp"].as_str(), v["sign"].as_str()) else {
            return false;
        };
        let mac = hmac_sha256(format!("{ts}\n{secret}").as_bytes(), b"");
        (ts, sign.to_string(), b64(&mac), false)
    };
    sign == want && fresh(ts, millis)
}

/// Checks one request as its platform would; `Err` names the occasion
/// of the answer to give.
fn check(
    shared: &Shared,
    role: Role,
    uri: &Uri,
    body: &[u8],
) -> Result<(String, Value), &'static str> {
    let q = query(uri);
    let segments: Vec<&str> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .collect();
    let key = key_of(role, &segments, &q).ok_or("unknown")?;
    let robot = shared.robots.lock().unwrap().get(&key).cloned();
    let robot = robot.filter(|r| r.role == role).ok_or("unknown")?;
    let v: Value = serde_json::from_slice(body).map_err(|_| "json")?;
    if let Some(secret) = &robot.secret {
        if !signed(role, secret, &q, &v) {
            return Err("sign");
        }
    }
    match role {
        Role::Slack => slack_schema(&v),
        Role::Wecom => wecom_schema(&v),
        Role::Dingtalk => dingtalk_schema(&v),
        Role::Feishu | Role::Lark => feishu_schema(&v, body.len()),
        Role::Webhook | Role::Email => webhook_schema(&v),
    }?;
    Ok((key, v))
}

fn respond(c: Cue) -> Response {
    let mut r = (StatusCode::from_u16(c.status).unwrap(), c.body).into_response();
    if let Some(s) = c.retry_after {
        r.headers_mut().insert("retry-after", HeaderValue::from(s));
    }
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

async fn handle(State(shared): State<Arc<Shared>>, uri: Uri, body: Bytes) -> Response {
    *shared.requests.lock().unwrap() += 1;
    let prefix = uri.path().split('/').nth(1).unwrap_or_default();
    let Some(role) = PLATFORMS.into_iter().find(|r| r.as_str() == prefix) else {
        return (StatusCode::NOT_FOUND, "not a platform").into_response();
    };
    let cue = shared
        .cues
        .lock()
        .unwrap()
        .get_mut(&role)
        .and_then(VecDeque::pop_front);
    if let Some(c) = cue {
        return respond(c);
    }
    match check(&shared, role, &uri, &body) {
        Ok((key, body)) => {
            shared
                .received
                .lock()
                .unwrap()
                .push(Received { role, key, body });
            respond(Cue::of(role, "ok"))
        }
        Err(occasion) => {
            let answer = Cue::of(role, occasion);
            shared
                .refused
                .lock()
                .unwrap()
                .push((role, answer.body.clone()));
            respond(answer)
        }
    }
}
