//! One POST to a robot or webhook, and what its answer means.
//!
//! [`request`] signs a body for now (pure: the time is an argument);
//! [`post`] sends it and reads the answer into an [`Answer`] with the
//! platform's own rules (each platform module's `classify`, pure, over a
//! [`Reply`]): delivered; throttled, with how long to wait; refused for
//! good (a bad key or signature, an IP not allowed, a keyword missing:
//! retrying cannot help, a person must act); or failed for now (network,
//! timeout, 5xx: retry with backoff). The caller decides about retries.
//!
//! Nothing here logs or returns the URL or the secret: a [`Request`]'s
//! `Debug` redacts its URL, reqwest's errors are taken without their URL,
//! and the platform's reply is scrubbed of every part of the URL before
//! it is kept.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::{sign, Body, Platform};
use crate::config::Secret;

/// The reply text kept from an answer, in characters.
const REPLY_MAX: usize = 300;
/// The answer body read at most, in bytes (a platform's is a few dozen).
const ANSWER_MAX: usize = 64 * 1024;

/// A body signed for one attempt, and where it goes.
#[derive(Clone)]
pub struct Request {
    pub platform: Platform,
    url: Secret,
    body: Vec<u8>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("platform", &self.platform)
            .field("url", &"<redacted>")
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

impl Request {
    /// The JSON sent.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The URL (a secret: for the HTTP client only).
    pub fn url(&self) -> &Secret {
        &self.url
    }
}

/// `body` ready to post to `url` now: DingTalk's signature in the query,
/// Feishu/Lark's in the body, when a signing `secret` is set. `now` is
/// the system time (the platforms allow an hour's difference).
pub fn request(
    platform: Platform,
    url: &Secret,
    secret: Option<&Secret>,
    body: &Body,
    now: SystemTime,
) -> Request {
    let mut body = body.clone();
    let mut url = url.expose().to_string();
    match (platform, secret) {
        (Platform::Dingtalk, Some(s)) => {
            let (timestamp, sign) = sign::dingtalk(s.expose(), now);
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{sep}timestamp={timestamp}&sign={sign}");
        }
        (Platform::Feishu | Platform::Lark, Some(s)) => {
            let (timestamp, sign) = sign::feishu(s.expose(), now);
            if let Some(o) = body.as_object_mut() {
                o.insert("timestamp".into(), timestamp.into());
                o.insert("sign".into(), sign.into());
            }
        }
        _ => {}
    }
    Request {
        platform,
        url: Secret::new(url),
        body: serde_json::to_vec(&body).expect("a JSON value serializes"),
    }
}

/// What a platform answered: its HTTP status, how long it asked to wait
/// (`Retry-After`, Feishu's `x-ogw-ratelimit-reset`), and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Reply {
    /// The status and the start of the body, for messages.
    pub fn text(&self) -> String {
        let body: String = self.body.trim().chars().take(REPLY_MAX).collect();
        if body.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {body}", self.status)
        }
    }

    /// A JSON body's integer field `key` (`errcode`, `code`).
    pub(super) fn code(&self, keys: &[&str]) -> Option<(i64, String)> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        let code = keys.iter().find_map(|k| v.get(*k)?.as_i64())?;
        let msg = ["errmsg", "msg", "StatusMessage"]
            .iter()
            .find_map(|k| v.get(*k)?.as_str())
            .unwrap_or_default();
        Some((code, msg.to_string()))
    }
}

/// What one POST came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The platform took the message.
    Delivered { reply: String },
    /// The platform's rate limit: wait `retry_after`, then send again.
    Throttled {
        retry_after: Duration,
        reply: String,
    },
    /// Refused for good: a bad key or signature, an IP not allowed, a
    /// keyword missing, a payload it cannot take. `code` is the platform's
    /// (`93000`, `310000`, `19021`, `invalid_token`, `HTTP 404`).
    Permanent { code: String, reply: String },
    /// Failed for now (network, timeout, 5xx, an unreadable answer):
    /// retry with backoff, sooner than `retry_after` never.
    Transient {
        reply: String,
        retry_after: Option<Duration>,
    },
}

impl Answer {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Answer::Delivered { .. })
    }

    /// The platform's words (or the network's), scrubbed of the URL.
    pub fn reply(&self) -> &str {
        match self {
            Answer::Delivered { reply }
            | Answer::Throttled { reply, .. }
            | Answer::Permanent { reply, .. }
            | Answer::Transient { reply, .. } => reply,
        }
    }

    fn map_reply(self, f: impl Fn(String) -> String) -> Answer {
        match self {
            Answer::Delivered { reply } => Answer::Delivered { reply: f(reply) },
            Answer::Throttled { retry_after, reply } => Answer::Throttled {
                retry_after,
                reply: f(reply),
            },
            Answer::Permanent { code, reply } => Answer::Permanent {
                code,
                reply: f(reply),
            },
            Answer::Transient { reply, retry_after } => Answer::Transient {
                reply: f(reply),
                retry_after,
            },
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Delivered { reply } => write!(f, "delivered ({reply})"),
            Answer::Throttled { retry_after, reply } => write!(
                f,
                "throttled: sending again in {} ({reply})",
                humantime::format_duration(*retry_after)
            ),
            Answer::Permanent { code, reply } => {
                write!(f, "refused ({code}): {reply}; retrying cannot help")
            }
            Answer::Transient { reply, .. } => write!(f, "not delivered for now: {reply}"),
        }
    }
}

/// What an HTTP status alone says: 429 throttles (waiting `fallback`
/// unless told), 5xx fails for now, other non-2xx is refused; `None`
/// for a 2xx (the body says the rest).
pub(super) fn by_status(r: &Reply, fallback: Duration) -> Option<Answer> {
    match r.status {
        200..=299 => None,
        429 => Some(Answer::Throttled {
            retry_after: r.retry_after.unwrap_or(fallback),
            reply: r.text(),
        }),
        500..=599 => Some(Answer::Transient {
            reply: r.text(),
            retry_after: r.retry_after,
        }),
        s => Some(Answer::Permanent {
            code: format!("HTTP {s}"),
            reply: r.text(),
        }),
    }
}

/// How a platform that answers with a JSON code reads its codes.
pub(super) struct Codes {
    /// The code's field (`errcode`; Feishu: `code`, or `StatusCode` in
    /// its older answers).
    pub keys: &'static [&'static str],
    /// Codes of its rate limit.
    pub throttle: &'static [i64],
    /// Codes of a passing failure ("system busy").
    pub busy: &'static [i64],
    /// How long a throttle waits when the answer does not say.
    pub wait: Duration,
}

/// A JSON-coded answer: 429 and 5xx by their status; then 0 is
/// delivered, a throttle code waits, a busy code fails for now, any
/// other code is refused for good; without a code, by the status (a 2xx
/// without one is not known delivered, so it is sent again).
pub(super) fn by_code(r: &Reply, c: &Codes) -> Answer {
    if r.status == 429 || r.status >= 500 {
        return by_status(r, c.wait).expect("not a 2xx");
    }
    match r.code(c.keys) {
        Some((0, _)) if r.status < 300 => Answer::Delivered { reply: r.text() },
        Some((code, _)) if c.throttle.contains(&code) => Answer::Throttled {
            retry_after: r.retry_after.unwrap_or(c.wait),
            reply: r.text(),
        },
        Some((code, _)) if c.busy.contains(&code) => Answer::Transient {
            reply: r.text(),
            retry_after: r.retry_after,
        },
        Some((code, _)) if code != 0 => Answer::Permanent {
            code: code.to_string(),
            reply: r.text(),
        },
        _ => by_status(r, c.wait).unwrap_or_else(|| Answer::Transient {
            reply: format!("unreadable answer: {}", r.text()),
            retry_after: None,
        }),
    }
}

/// What `platform`'s answer means.
pub fn classify(platform: Platform, r: &Reply) -> Answer {
    match platform {
        Platform::Slack => super::slack::classify(r),
        Platform::Wecom => super::wecom::classify(r),
        Platform::Dingtalk => super::dingtalk::classify(r),
        Platform::Feishu | Platform::Lark => super::feishu::classify(r),
        Platform::Webhook => super::webhook::classify(r),
    }
}

/// An HTTP client for robots: rustls, `timeout` per request, no
/// redirects (a robot URL does not move; following one could carry the
/// body elsewhere).
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("flywheel/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// The parts of a URL that could appear in a reply or an error: the
/// whole, its path and query, and each path segment and query value
/// long enough to be a key.
fn secret_parts(url: &str) -> Vec<String> {
    let mut parts = vec![url.to_string()];
    if let Ok(u) = reqwest::Url::parse(url) {
        parts.push(u.path().to_string());
        parts.extend(u.query().map(str::to_string));
        parts.extend(u.path_segments().into_iter().flatten().map(str::to_string));
        parts.extend(u.query_pairs().map(|(_, v)| v.into_owned()));
    }
    parts.retain(|p| p.len() >= 8);
    // Longest first, so a part inside another is not left half-replaced.
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    parts
}

/// `text` with every part of `url` that could be a key replaced.
pub(super) fn scrub(text: &str, url: &Secret) -> String {
    let mut out = text.to_string();
    for part in secret_parts(url.expose()) {
        out = out.replace(&part, "<redacted>");
    }
    out
}

/// What went wrong before an answer came, without the URL reqwest puts
/// in its errors.
fn network_error(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut chain = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    format!("{what}: {}", chain.join(": "))
}

fn seconds_header(h: &reqwest::header::HeaderMap, name: &str) -> Option<Duration> {
    let v = h.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(86_400.0)))
}

/// Posts `request` and reads the answer. Never fails: a network error
/// is a [`Answer::Transient`].
pub async fn post(client: &reqwest::Client, request: &Request) -> Answer {
    let platform = request.platform;
    let sent = client
        .post(request.url.expose())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(request.body.clone())
        .send()
        .await;
    let answer = match sent {
        Err(e) => Answer::Transient {
            reply: network_error(e),
            retry_after: None,
        },
        Ok(mut res) => {
            let status = res.status().as_u16();
            let h = res.headers();
            let retry_after = seconds_header(h, "retry-after")
                .or_else(|| seconds_header(h, "x-ogw-ratelimit-reset"));
            let mut body = Vec::new();
            let mut cut = None;
            loop {
                match res.chunk().await {
                    Ok(Some(c)) if body.len() < ANSWER_MAX => body.extend_from_slice(&c),
                    Ok(Some(_)) | Ok(None) => break,
                    Err(e) => {
                        cut = Some(network_error(e));
                        break;
                    }
                }
            }
            let reply = Reply {
                status,
                retry_after,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            match cut {
                // The answer broke off: whether the platform took the
                // message is unknown, so it is sent again.
                Some(e) if reply.status < 300 => Answer::Transient {
                    reply: format!("the answer broke off: {e}"),
                    retry_after: None,
                },
                _ => classify(platform, &reply),
            }
        }
    };
    let answer = answer.map_reply(|r| scrub(&r, &request.url));
    tracing::debug!(platform = platform.as_str(), answer = %answer, "chat message posted");
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_scrubbed_of_every_part_of_the_url() {
        let url = Secret::new(
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0",
        );
        let said = "invalid webhook url, hint: [key=693a91f6-7xxx-4bc4-97a0], from https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0";
        let got = scrub(said, &url);
        assert!(!got.contains("693a91f6"), "{got}");
        assert_eq!(
            got,
            "invalid webhook url, hint: [<redacted>], from <redacted>"
        );
    }

    #[test]
    fn a_request_signs_for_its_platform_and_hides_its_url() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let body = serde_json::json!({"msgtype": "markdown"});
        let secret = Secret::new("SECsecret-value");
        let signed = |p, url: &str| request(p, &Secret::new(url), Some(&secret), &body, at);
        let ding = signed(
            Platform::Dingtalk,
            "https://oapi.dingtalk.com/robot/send?access_token=tok3n-value",
        );
        let url = ding.url().expose();
        let want = "https://oapi.dingtalk.com/robot/send?access_token=tok3n-value&timestamp=1700000000000&sign=";
        assert!(url.starts_with(want), "{url}");
        assert_eq!(ding.body(), br#"{"msgtype":"markdown"}"#);
        let shown = format!("{ding:?}");
        assert!(
            !shown.contains("tok3n") && !shown.contains("SECsecret"),
            "{shown}"
        );
        let lark = signed(
            Platform::Lark,
            "https://open.larksuite.com/open-apis/bot/v2/hook/h00k",
        );
        let sent: serde_json::Value = serde_json::from_slice(lark.body()).unwrap();
        assert_eq!(sent["timestamp"], "1700000000");
        assert_eq!(sent["sign"], sign::feishu("SECsecret-value", at).1);
        // Slack does not sign: the URL and body go as they are.
        let slack = signed(Platform::Slack, "https://hooks.slack.com/services/T/B/k");
        assert_eq!(
            slack.url().expose(),
            "https://hooks.slack.com/services/T/B/k"
        );
        assert_eq!(slack.body(), br#"{"msgtype":"markdown"}"#);
    }
}
