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
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};

/// A platform the fake plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Slack,
    Wecom,
    Dingtalk,
    Feishu,
    Lark,
    Webhook,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Slack,
        Role::Wecom,
        Role::Dingtalk,
        Role::Feishu,
        Role::Lark,
        Role::Webhook,
    ];

    fn prefix(self) -> &'static str {
        match self {
            Role::Slack => "slack",
            Role::Wecom => "wecom",
            Role::Dingtalk => "dingtalk",
            Role::Feishu => "feishu",
            Role::Lark => "lark",
            Role::Webhook => "webhook",
        }
    }

    fn of_prefix(p: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.prefix() == p)
    }

    /// The kind flywheel's config calls it.
    pub fn kind(self) -> &'static str {
        self.prefix()
    }
}

/// An answer the fake gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
}

impl Cue {
    fn json(status: u16, v: Value) -> Cue {
        Cue {
            status,
            body: v.to_string(),
            retry_after: None,
        }
    }

    fn ok(role: Role) -> Cue {
        match role {
            Role::Slack => Cue::text(200, "ok"),
            Role::Wecom | Role::Dingtalk => Cue::json(200, json!({"errcode": 0, "errmsg": "ok"})),
            Role::Feishu | Role::Lark => {
                Cue::json(200, json!({"code": 0, "msg": "success", "data": {}}))
            }
            Role::Webhook => Cue::text(200, ""),
        }
    }

    fn text(status: u16, body: &str) -> Cue {
        Cue {
            status,
            body: body.to_string(),
            retry_after: None,
        }
    }

    /// The platform's documented rate-limit answer.
    pub fn throttle(role: Role) -> Cue {
        match role {
            Role::Slack => Cue {
                retry_after: Some(1),
                ..Cue::text(429, "rate_limited")
            },
            Role::Wecom => Cue::json(
                200,
                json!({"errcode": 45009, "errmsg": "api freq out of limit"}),
            ),
            Role::Dingtalk => Cue::json(
                200,
                json!({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            ),
            Role::Feishu | Role::Lark => Cue::json(
                200,
                json!({"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}),
            ),
            Role::Webhook => Cue {
                retry_after: Some(1),
                ..Cue::text(429, "slow down")
            },
        }
    }

    /// The platform's documented answer to a key that no longer works.
    pub fn permanent(role: Role) -> Cue {
        match role {
            Role::Slack => Cue::text(403, "invalid_token"),
            Role::Wecom => Cue::json(
                200,
                json!({"errcode": 93000, "errmsg": "invalid webhook url"}),
            ),
            Role::Dingtalk => Cue::json(
                200,
                json!({"errcode": 310000, "errmsg": "keywords not in content"}),
            ),
            Role::Feishu | Role::Lark => {
                Cue::json(200, json!({"code": 19024, "msg": "Key Words Not Found"}))
            }
            Role::Webhook => Cue::text(404, "no such hook"),
        }
    }

    /// A server error.
    pub fn down() -> Cue {
        Cue::text(503, "Service Unavailable")
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
        let base = format!("http://{}/{}", self.addr, role.prefix());
        let url = match role {
            Role::Slack => format!("{base}/services/T0FAKE/B0FAKE/{key}"),
            Role::Wecom => format!("{base}/cgi-bin/webhook/send?key={key}"),
            Role::Dingtalk => format!("{base}/robot/send?access_token={key}"),
            Role::Feishu | Role::Lark => format!("{base}/open-apis/bot/v2/hook/{key}"),
            Role::Webhook => format!("{base}/{key}"),
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

/// What is wrong with a Slack body (Block Kit limits).
fn slack_schema(b: &Value) -> Result<(), Cue> {
    let bad = |why: &str| Err(Cue::text(400, why));
    let blocks = b["blocks"].as_array();
    if !is_str(&b["text"]) && blocks.is_none() {
        return bad("no_text");
    }
    let blocks = blocks.map(Vec::as_slice).unwrap_or_default();
    if blocks.len() > 50 {
        return bad("invalid_blocks");
    }
    for block in blocks {
        let ok = match block["type"].as_str() {
            Some("header") => {
                b_type(&block["text"], "plain_text")
                    && (1..=150).contains(&chars(&block["text"]["text"]))
            }
            Some("section") => {
                b_type(&block["text"], "mrkdwn")
                    && (1..=3000).contains(&chars(&block["text"]["text"]))
            }
            Some("context") => block["elements"]
                .as_array()
                .is_some_and(|e| !e.is_empty() && e.len() <= 10),
            Some("divider") => true,
            _ => false,
        };
        if !ok {
            return bad("invalid_blocks");
        }
    }
    Ok(())
}

fn b_type(v: &Value, t: &str) -> bool {
    v["type"] == t
}

fn wecom_schema(b: &Value) -> Result<(), Cue> {
    let err = |code: i64, msg: &str| Err(Cue::json(200, json!({"errcode": code, "errmsg": msg})));
    match b["msgtype"].as_str() {
        Some("markdown") => {
            let c = b["markdown"]["content"].as_str().unwrap_or_default();
            if c.is_empty() {
                return err(44004, "empty content");
            }
            if c.len() > 4096 {
                return err(40058, "markdown.content exceed max length 4096");
            }
        }
        Some("text") => {
            let c = b["text"]["content"].as_str().unwrap_or_default();
            if c.is_empty() || c.len() > 2048 {
                return err(40058, "text.content exceed max length 2048");
            }
            let list = &b["text"]["mentioned_mobile_list"];
            if !list.is_null()
                && !list
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string))
            {
                return err(40058, "invalid mentioned_mobile_list");
            }
        }
        _ => return err(40008, "invalid message type"),
    }
    Ok(())
}

fn dingtalk_schema(b: &Value) -> Result<(), Cue> {
    let ok = b["msgtype"] == "markdown"
        && is_str(&b["markdown"]["title"])
        && is_str(&b["markdown"]["text"])
        && (b["at"].is_null()
            || b["at"]["atMobiles"]
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)));
    if ok {
        Ok(())
    } else {
        Err(Cue::json(
            200,
            json!({"errcode": 40035, "errmsg": "缺少参数 json"}),
        ))
    }
}

fn feishu_schema(b: &Value, size: usize) -> Result<(), Cue> {
    let bad = || {
        Err(Cue::json(
            400,
            json!({"code": 9499, "msg": "Bad Request", "data": {}}),
        ))
    };
    if size > 20 * 1024 {
        return bad();
    }
    let card = &b["card"];
    let ok = b["msg_type"] == "interactive"
        && card["header"]["title"]["tag"] == "plain_text"
        && is_str(&card["header"]["title"]["content"])
        && card["elements"].as_array().is_some_and(|e| {
            e.iter().all(|el| match el["tag"].as_str() {
                Some("div") => el["text"]["tag"] == "lark_md" && is_str(&el["text"]["content"]),
                Some("note") => el["elements"].as_array().is_some_and(|x| !x.is_empty()),
                Some("action") => el["actions"]
                    .as_array()
                    .is_some_and(|a| a.iter().all(|b| b["tag"] == "button" && is_str(&b["url"]))),
                Some("hr") => true,
                _ => false,
            })
        });
    if ok {
        Ok(())
    } else {
        bad()
    }
}

/// Alertmanager's webhook payload, version 4.
fn webhook_schema(b: &Value) -> Result<(), Cue> {
    let top = [
        "version",
        "groupKey",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    ];
    let alert_keys = [
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
    ];
    let ok = b["version"] == "4"
        && top.iter().all(|k| b.get(k).is_some())
        && ["firing", "resolved"].contains(&b["status"].as_str().unwrap_or_default())
        && b["alerts"].as_array().is_some_and(|a| {
            !a.is_empty()
                && a.iter().all(|x| {
                    alert_keys.iter().all(|k| x.get(k).is_some())
                        && x["labels"]["alertname"].is_string()
                        && chrono::DateTime::parse_from_rfc3339(
                            x["startsAt"].as_str().unwrap_or_default(),
                        )
                        .is_ok()
                })
        });
    if ok {
        Ok(())
    } else {
        Err(Cue::text(400, "not an Alertmanager webhook payload"))
    }
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

/// The documented answer to an unknown key.
fn unknown_key(role: Role) -> Cue {
    match role {
        Role::Slack => Cue::text(404, "no_service"),
        Role::Wecom => Cue::json(
            200,
            json!({"errcode": 93000, "errmsg": "invalid webhook url"}),
        ),
        Role::Dingtalk => Cue::json(
            200,
            json!({"errcode": 300001, "errmsg": "token is not exist"}),
        ),
        Role::Feishu | Role::Lark => Cue::json(
            200,
            json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}),
        ),
        Role::Webhook => Cue::text(404, "no such hook"),
    }
}

/// Checks one request as its platform would; the answer to give.
fn check(shared: &Shared, role: Role, uri: &Uri, body: &[u8]) -> Result<(String, Value), Cue> {
    let q = query(uri);
    let segments: Vec<&str> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .collect();
    let key = key_of(role, &segments, &q).ok_or_else(|| unknown_key(role))?;
    let robot = shared.robots.lock().unwrap().get(&key).cloned();
    let robot = robot
        .filter(|r| r.role == role)
        .ok_or_else(|| unknown_key(role))?;
    let v: Value = serde_json::from_slice(body).map_err(|_| match role {
        Role::Feishu | Role::Lark => Cue::json(400, json!({"code": 9499, "msg": "Bad Request"})),
        Role::Slack => Cue::text(400, "invalid_payload"),
        _ => Cue::json(200, json!({"errcode": 40035, "errmsg": "invalid json"})),
    })?;
    match (role, &robot.secret) {
        (Role::Dingtalk, Some(secret)) => {
            let refused = || {
                Cue::json(
                    200,
                    json!({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}),
                )
            };
            let ts = q.get("timestamp").ok_or_else(refused)?;
            let sign = percent_decode(q.get("sign").ok_or_else(refused)?);
            let want = b64(&hmac_sha256(
                secret.as_bytes(),
                format!("{ts}\n{secret}").as_bytes(),
            ));
            if sign != want || !fresh(ts, true) {
                return Err(refused());
            }
        }
        (Role::Feishu | Role::Lark, Some(secret)) => {
            let refused = || {
                Cue::json(
                    200,
                    json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}),
                )
            };
            let ts = v["timestamp"].as_str().ok_or_else(refused)?;
            let sign = v["sign"].as_str().ok_or_else(refused)?;
            let want = b64(&hmac_sha256(format!("{ts}\n{secret}").as_bytes(), b""));
            if sign != want || !fresh(ts, false) {
                return Err(refused());
            }
        }
        _ => {}
    }
    match role {
        Role::Slack => slack_schema(&v),
        Role::Wecom => wecom_schema(&v),
        Role::Dingtalk => dingtalk_schema(&v),
        Role::Feishu | Role::Lark => feishu_schema(&v, body.len()),
        Role::Webhook => webhook_schema(&v),
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

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    _h: HeaderMap,
    body: Bytes,
) -> Response {
    *shared.requests.lock().unwrap() += 1;
    let prefix = uri.path().split('/').nth(1).unwrap_or_default();
    let Some(role) = Role::of_prefix(prefix) else {
        return respond(Cue::text(404, "not a platform"));
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
            respond(Cue::ok(role))
        }
        Err(c) => {
            shared.refused.lock().unwrap().push((role, c.body.clone()));
            respond(c)
        }
    }
}
