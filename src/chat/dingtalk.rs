//! DingTalk (钉钉) custom robots
//! (<https://open.dingtalk.com/document/robots/custom-robot-access>,
//! message types: <https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type>).
//!
//! - The message is `msgtype` "markdown": `markdown.title` (what the
//!   notification shows) and `markdown.text`; `at.atMobiles` lists the
//!   mobile numbers mentioned, and each must also be written `@138…` in
//!   the text for DingTalk to show the mention.
//! - DingTalk states no size for a custom robot's markdown; its robot
//!   message APIs take at most 15,000 bytes
//!   (<https://open.dingtalk.com/document/orgapp/the-robot-sends-a-group-message>,
//!   msgParam), the bound kept here.
//! - With "加签" on, the request carries `timestamp` and `sign` in its
//!   query (see [`super::sign`]).
//! - Answers: `{"errcode":0,"errmsg":"ok"}`; 130101 "send too fast,
//!   exceed 20 times per minute" (the robot is then throttled for 10
//!   minutes); 310000 a refused security check (keyword missing, bad
//!   signature, timestamp off, IP not allowed); -1 "系统繁忙". Other codes
//!   refuse the message for good.

use std::time::Duration;

use serde_json::json;

use super::layout::{
    cut_chars, fitted, markdown_bold, markdown_link, markdown_message, markdown_text, paragraphs,
    Fit, Markup,
};
use super::send::{by_code, Answer, Codes, Reply};
use super::{Body, Test};
use crate::alert::render::Summary;
use crate::config::Owner;

/// `markdown.text`, in bytes.
pub(super) const TEXT_MAX: usize = 15_000;
/// `markdown.title`: a notification line.
const TITLE_MAX: usize = 64;
/// DingTalk silences a robot that sends too fast for 10 minutes.
const THROTTLE_WAIT: Duration = Duration::from_secs(600);

const CODES: Codes = Codes {
    keys: &["errcode"],
    throttle: &[130101],
    busy: &[-1],
    wait: THROTTLE_WAIT,
};

const MARKUP: Markup = Markup {
    bold: markdown_bold,
    link: markdown_link,
    text: markdown_text,
    mention: |o| o.mobile.as_ref().map(|m| format!("@{m}")),
    bullet: "- ",
};

fn text(s: &Summary<'_>, mentions: &[&Owner], fit: Fit) -> String {
    let title = format!("### {}", markdown_text(&s.title));
    markdown_message(title, &paragraphs(s, &MARKUP, mentions, fit))
}

pub(super) fn message(s: &Summary<'_>, mentions: &[&Owner]) -> Body {
    let text = fitted(s, |fit| text(s, mentions, fit), |t| t.len() <= TEXT_MAX);
    let mobiles: Vec<&str> = mentions
        .iter()
        .filter_map(|o| o.mobile.as_deref())
        .collect();
    json!({
        "msgtype": "markdown",
        "markdown": {"title": cut_chars(&s.title, TITLE_MAX), "text": text},
        "at": {"atMobiles": mobiles, "isAtAll": false},
    })
}

pub(super) fn test(t: &Test<'_>) -> Body {
    json!({
        "msgtype": "markdown",
        "markdown": {
            "title": t.title,
            "text": format!("### {}\n\n{}\n\n{}", markdown_text(&t.title), markdown_text(&t.body), markdown_text(&t.footer)),
        },
        "at": {"atMobiles": [], "isAtAll": false},
    })
}

pub(super) fn classify(r: &Reply) -> Answer {
    by_code(r, &CODES)
}
