//! Chat robots and webhooks (DESIGN §5.2): an alert email's content as
//! each platform's message, the platforms' signatures, one POST and what
//! the platform's answer means, and each platform's own pace.
//!
//! | module | owns |
//! |---|---|
//! | this one | [`Platform`]; [`alert_message`] and [`test_message`]: the JSON bodies to post for a receiver |
//! | `layout` | what the chat platforms share: the summary as paragraphs of markup, fitting within a limit ("and N more") |
//! | `slack`, `wecom`, `dingtalk`, `feishu`, `webhook` | one platform each: its message (with the documentation it follows), its limits, how its answers read |
//! | [`sign`] | DingTalk's and Feishu/Lark's HMAC-SHA256 signatures |
//! | [`send`] | [`Request`] (a body signed for now: [`signed`]), [`send::post`], [`Answer`] |
//! | [`pace`] | each platform's documented rate and a [`Pacer`] that keeps to it |
//!
//! Rendering is pure and happens when a round queues its messages (the
//! body is what the outbox keeps, so a resend says the same); signing
//! happens at each attempt, with the system time the caller passes
//! (never `[daemon] clock`: the platform checks it against its own), and
//! posting is the only I/O. A message is one body per request, in
//! order: one, except WeCom with @-mentions, whose markdown messages
//! cannot mention by mobile number, so a short text message that does
//! follows it (see `wecom`).
//!
//! What a message says comes from `alert::render::summary`, so it is the
//! email's summary in the email's words and language: the title with the
//! counts, the flywheel's links with their state, "Do first", every alert
//! one line each (at most [`layout::LINES_MAX`], then "and N more"), and
//! @-mentions of the products' owners where the receiver asks for them.
//!
//! Secrets: a receiver's URL holds its key and its signing secret is one;
//! neither is in a [`Request`]'s `Debug`, an [`Answer`], an error or a
//! log line (the platform's reply is scrubbed of them too).

mod dingtalk;
mod feishu;
pub mod layout;
pub mod pace;
pub mod send;
pub mod sign;
mod slack;
mod webhook;
mod wecom;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::alert::render::summary;
use crate::alert::AlertEmail;
use crate::config::{Owner, Receiver, ReceiverKind};
use crate::i18n::{tr, tr_args, Lang};

pub use pace::{Pacer, RateLimit};
pub use send::{request, Answer, Reply, Request};

/// A request's JSON body, before signing.
pub type Body = Value;

/// A receiver kind that posts to a URL: every kind but email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Wecom,
    Dingtalk,
    Feishu,
    Lark,
    Slack,
    Webhook,
}

impl Platform {
    /// The platform of a receiver kind; `None` for email.
    pub fn of(kind: ReceiverKind) -> Option<Platform> {
        Some(match kind {
            ReceiverKind::Slack => Platform::Slack,
            ReceiverKind::Wecom => Platform::Wecom,
            ReceiverKind::Dingtalk => Platform::Dingtalk,
            ReceiverKind::Feishu => Platform::Feishu,
            ReceiverKind::Lark => Platform::Lark,
            ReceiverKind::Webhook => Platform::Webhook,
            ReceiverKind::Email => return None,
        })
    }

    pub fn kind(self) -> ReceiverKind {
        match self {
            Platform::Slack => ReceiverKind::Slack,
            Platform::Wecom => ReceiverKind::Wecom,
            Platform::Dingtalk => ReceiverKind::Dingtalk,
            Platform::Feishu => ReceiverKind::Feishu,
            Platform::Lark => ReceiverKind::Lark,
            Platform::Webhook => ReceiverKind::Webhook,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }

    /// The platform's documented sending rate per robot (see [`pace`]).
    pub fn rate_limits(self) -> &'static [RateLimit] {
        pace::rate_limits(self)
    }
}

/// The owners a message of `receiver` @-mentions: those of the products
/// it is about (in `products`, names as `products_file` gives them)
/// whom the platform can reach, when the receiver asks for mentions.
fn mentions<'a>(receiver: &Receiver, owners: &'a [Owner], products: &[String]) -> Vec<&'a Owner> {
    if !receiver.mention_owners {
        return Vec::new();
    }
    let reachable = |o: &Owner| match Platform::of(receiver.kind()) {
        Some(Platform::Slack) => o.slack_user.is_some(),
        Some(Platform::Wecom | Platform::Dingtalk) => o.mobile.is_some(),
        Some(Platform::Feishu | Platform::Lark) => o.feishu_user.is_some(),
        Some(Platform::Webhook) | None => false,
    };
    products
        .iter()
        .filter_map(|name| owners.iter().find(|o| &o.name == name))
        .filter(|o| reachable(o))
        .collect()
}

/// The bodies to post to `receiver` for one alert email (an account's
/// round, or a resolution: the email's items say which), in order; empty
/// for an email receiver (email goes through `alert::render`). `owners`
/// is the config's `[[owners]]`.
pub fn alert_message(receiver: &Receiver, owners: &[Owner], email: &AlertEmail) -> Vec<Body> {
    let Some(platform) = Platform::of(receiver.kind()) else {
        return Vec::new();
    };
    let s = summary(email);
    let mentioned = mentions(receiver, owners, &s.owners);
    match platform {
        Platform::Slack => vec![slack::message(&s, &mentioned)],
        Platform::Wecom => wecom::message(&s, &mentioned),
        Platform::Dingtalk => vec![dingtalk::message(&s, &mentioned)],
        Platform::Feishu | Platform::Lark => vec![feishu::message(&s, &mentioned)],
        Platform::Webhook => vec![webhook::message(&receiver.name, &s)],
    }
}

/// `body` signed for `receiver` at `now` (the system time, never the
/// configured clock): a [`request`] to its URL with its secret. `None`
/// for an email receiver.
pub fn signed(receiver: &Receiver, body: &Body, now: std::time::SystemTime) -> Option<Request> {
    let platform = Platform::of(receiver.kind())?;
    Some(request(
        platform,
        receiver.url()?,
        receiver.secret(),
        body,
        now,
    ))
}

/// What a test message says: its title and one sentence naming the
/// receiver, and when it was sent.
pub(crate) struct Test<'a> {
    pub receiver: &'a str,
    pub title: String,
    pub body: String,
    pub footer: String,
    pub at: DateTime<Utc>,
}

/// The bodies of a test message to `receiver` (`flywheel send-test`), in
/// `lang`, sent at `at` (shown in `tz`); empty for an email receiver.
pub fn test_message(
    receiver: &Receiver,
    lang: Lang,
    at: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Vec<Body> {
    let Some(platform) = Platform::of(receiver.kind()) else {
        return Vec::new();
    };
    let local = at.with_timezone(&tz);
    let t = Test {
        receiver: &receiver.name,
        title: tr(lang, "chat-test-title"),
        body: tr_args(
            lang,
            "chat-test-body",
            &[
                ("receiver", receiver.name.as_str().into()),
                ("kind", platform.as_str().into()),
            ],
        ),
        footer: tr_args(
            lang,
            "footer-sent",
            &[
                ("time", local.format("%Y-%m-%d %H:%M %Z").to_string().into()),
                ("zone", tz.name().into()),
            ],
        ),
        at,
    };
    vec![match platform {
        Platform::Slack => slack::test(&t),
        Platform::Wecom => wecom::test(&t),
        Platform::Dingtalk => dingtalk::test(&t),
        Platform::Feishu | Platform::Lark => feishu::test(&t),
        Platform::Webhook => webhook::test(&t),
    }]
}

#[cfg(test)]
mod tests;
