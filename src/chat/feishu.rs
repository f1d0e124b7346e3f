//! Feishu (飞书) and Lark custom bots: one format, two hosts
//! (<https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot>,
//! <https://open.larksuite.com/document/client-docs/bot-v3/add-custom-bot>).
//!
//! - The message is `msg_type` "interactive" with a message card in
//!   `card` (card JSON 1.0: `config`, a `header` with a coloured
//!   `template` and a `plain_text` title, then `elements`: `div`s of
//!   `lark_md`, an `hr`, an `action` row of link buttons, a `note`)
//!   (<https://open.feishu.cn/document/common-capabilities/message-card/message-cards-content>).
//!   `lark_md` mentions an open_id as `<at id=ou_…></at>`.
//! - "发送消息时，请求体的数据大小不能超过 20 KB" (the custom bot guide): the
//!   whole body, the signature's two fields included, stays under
//!   [`BODY_MAX`].
//! - With "签名校验" on, `timestamp` and `sign` go in the body (see
//!   [`super::sign`]).
//! - Answers: `{"code":0,"msg":"success"}` (older answers: `StatusCode`);
//!   11232 and HTTP 429 are the rate limit ("frequency limited"); 19021
//!   a bad signature or a timestamp over an hour off, 19022 an IP not
//!   allowed, 19024 a keyword missing, 9499 a body it cannot read: these
//!   and any other code refuse the message for good.

use std::time::Duration;

use serde_json::{json, Value};

use super::layout::{
    fitted, markdown_bold, markdown_link, markdown_text, paragraphs, Fit, Markup, Part,
};
use super::send::{by_code, Answer, Codes, Reply};
use super::{Body, Test};
use crate::alert::render::{Summary, Tone};
use crate::config::Owner;

/// The body, in bytes, with room for `timestamp` and `sign` (about 80
/// bytes) under Feishu's 20 KB.
pub(super) const BODY_MAX: usize = 20_000 - 200;
/// Link buttons under the card (the first "Do first" places).
const BUTTONS: usize = 3;
const THROTTLE_WAIT: Duration = Duration::from_secs(60);

const CODES: Codes = Codes {
    keys: &["code", "StatusCode"],
    throttle: &[11232],
    busy: &[],
    wait: THROTTLE_WAIT,
};

const MARKUP: Markup = Markup {
    bold: markdown_bold,
    link: markdown_link,
    text: markdown_text,
    mention: |o| {
        o.feishu_user
            .as_ref()
            .map(|id| format!("<at id={id}></at>"))
    },
    bullet: "- ",
};

/// The header's colour.
fn template(t: Tone) -> &'static str {
    match t {
        Tone::Critical => "red",
        Tone::Warning => "orange",
        Tone::Info => "blue",
        Tone::Good => "green",
    }
}

fn div(content: &str) -> Value {
    json!({"tag": "div", "text": {"tag": "lark_md", "content": content}})
}

fn note(content: &str) -> Value {
    json!({"tag": "note", "elements": [{"tag": "plain_text", "content": content}]})
}

fn card(title: &str, tone: Tone, elements: Vec<Value>) -> Body {
    json!({
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": true},
            "header": {"template": template(tone), "title": {"tag": "plain_text", "content": title}},
            "elements": elements,
        },
    })
}

fn build(s: &Summary<'_>, mentions: &[&Owner], fit: Fit) -> Body {
    // When and where, and the footer, as notes of plain text.
    let mut elements = vec![note(&s.as_of)];
    for (part, text) in paragraphs(s, &MARKUP, mentions, fit) {
        match part {
            Part::AsOf | Part::Footer => {}
            Part::Section if !elements.iter().any(|e| e["tag"] == "hr") => {
                elements.push(json!({"tag": "hr"}));
                elements.push(div(&text));
            }
            _ => elements.push(div(&text)),
        }
    }
    let buttons: Vec<Value> = s
        .do_first
        .iter()
        .take(fit.do_first.min(BUTTONS))
        .filter_map(|a| a.place.as_ref())
        .map(|place| {
            json!({"tag": "button", "type": "default", "url": place.url,
                "text": {"tag": "plain_text", "content": place.label}})
        })
        .collect();
    if !buttons.is_empty() {
        elements.push(json!({"tag": "action", "actions": buttons}));
    }
    elements.push(note(&s.footer));
    card(&s.title, s.tone, elements)
}

pub(super) fn message(s: &Summary<'_>, mentions: &[&Owner]) -> Body {
    fitted(
        s,
        |fit| build(s, mentions, fit),
        |b| serde_json::to_vec(b).is_ok_and(|v| v.len() <= BODY_MAX),
    )
}

pub(super) fn test(t: &Test<'_>) -> Body {
    card(
        &t.title,
        Tone::Info,
        vec![div(&markdown_text(&t.body)), note(&t.footer)],
    )
}

pub(super) fn classify(r: &Reply) -> Answer {
    by_code(r, &CODES)
}
