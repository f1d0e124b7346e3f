//! WeCom (企业微信) group robots
//! (<https://developer.work.weixin.qq.com/document/path/91770>, 群机器人配置说明).
//!
//! - The message is `msgtype` "markdown" with `markdown.content` of at
//!   most 4096 bytes, UTF-8 (the same page); the markdown is WeCom's
//!   subset: bold, links, `<font color="info|comment|warning">`.
//! - Mentions by mobile number (`mentioned_mobile_list`) exist only for
//!   `msgtype` "text" (at most 2048 bytes), so when owners are to be
//!   mentioned a short text message naming the account follows the
//!   markdown one.
//! - Answers: `{"errcode":0,"errmsg":"ok"}`; 45009 is the rate limit
//!   ("接口调用超过限制"), 93000 an invalid webhook URL, -1 "系统繁忙" (global
//!   error codes, <https://developer.work.weixin.qq.com/document/path/90313>).
//!   Other codes refuse the message for good.

use std::time::Duration;

use serde_json::json;

use super::layout::{
    fitted, markdown_bold, markdown_link, markdown_message, markdown_text, paragraphs, Fit, Markup,
};
use super::send::{by_code, Answer, Codes, Reply};
use super::{Body, Test};
use crate::alert::render::{Summary, Tone};
use crate::config::Owner;
use crate::i18n::tr_args;

/// `markdown.content`, in bytes.
pub(super) const CONTENT_MAX: usize = 4096;
/// A `text` message's `content`, in bytes.
const TEXT_MAX: usize = 2048;
/// How long 45009 waits: the limit is per minute.
const THROTTLE_WAIT: Duration = Duration::from_secs(60);

const MARKUP: Markup = Markup {
    bold: markdown_bold,
    link: markdown_link,
    text: markdown_text,
    // In the text message that follows (see the module's doc).
    mention: |_| None,
    bullet: "- ",
};

/// WeCom's three colours: "warning" is its orange-red, "info" green.
fn colour(t: Tone) -> &'static str {
    match t {
        Tone::Critical | Tone::Warning => "warning",
        Tone::Info => "comment",
        Tone::Good => "info",
    }
}

fn content(s: &Summary<'_>, fit: Fit) -> String {
    let title = format!(
        "<font color=\"{}\">{}</font>",
        colour(s.tone),
        markdown_bold(&s.title)
    );
    markdown_message(title, &paragraphs(s, &MARKUP, &[], fit))
}

/// The markdown message, then the mentions' text message if any.
pub(super) fn message(s: &Summary<'_>, mentions: &[&Owner]) -> Vec<Body> {
    let markdown = fitted(s, |fit| content(s, fit), |c| c.len() <= CONTENT_MAX);
    let mut out = vec![json!({"msgtype": "markdown", "markdown": {"content": markdown}})];
    let mobiles: Vec<&str> = mentions
        .iter()
        .filter_map(|o| o.mobile.as_deref())
        .collect();
    if !mobiles.is_empty() {
        let text = tr_args(s.lang, "chat-mention", &[("account", s.account.into())]);
        out.push(json!({"msgtype": "text", "text": {
            "content": super::layout::cut_bytes(&text, TEXT_MAX),
            "mentioned_mobile_list": mobiles,
        }}));
    }
    out
}

pub(super) fn test(t: &Test<'_>) -> Body {
    let content = format!(
        "{}\n\n{}\n\n<font color=\"comment\">{}</font>",
        markdown_bold(&t.title),
        markdown_text(&t.body),
        markdown_text(&t.footer)
    );
    json!({"msgtype": "markdown", "markdown": {"content": content}})
}

/// 45009: the rate limit; -1: "系统繁忙".
const CODES: Codes = Codes {
    keys: &["errcode"],
    throttle: &[45009],
    busy: &[-1],
    wait: THROTTLE_WAIT,
};

pub(super) fn classify(r: &Reply) -> Answer {
    by_code(r, &CODES)
}
