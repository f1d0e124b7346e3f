//! Slack incoming webhooks
//! (<https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>).
//!
//! - The message is Block Kit `blocks` with a top-level `text`, which
//!   Slack shows in notifications and where blocks cannot be shown.
//!   Limits (<https://docs.slack.dev/reference/block-kit/blocks>): at
//!   most 50 blocks; a `header`'s plain text at most 150 characters; a
//!   `section`'s text at most 3000 characters; a `context` at most 10
//!   elements. `text` is kept to [`TEXT_MAX`] characters (Slack truncates
//!   messages past 40,000).
//! - `mrkdwn` (<https://docs.slack.dev/messaging/formatting-message-text>):
//!   `*bold*`, `<url|label>`, `<@U…>` mentions; `&`, `<` and `>` must be
//!   written `&amp;`, `&lt;`, `&gt;`.
//! - Answers (the "Handling errors" section of the webhook page): 200
//!   `ok`; 429 with `Retry-After` when posting faster than about one
//!   message a second; 400 `invalid_payload` / `no_text` /
//!   `too_many_attachments`, 403 `invalid_token` / `action_prohibited` /
//!   `posting_to_general_channel_denied`, 404 `no_service` /
//!   `channel_not_found` / `team_not_found`, 410 `channel_is_archived`:
//!   refused for good (the URL was revoked, the channel archived, the
//!   payload wrong); 5xx fails for now.

use std::time::Duration;

use serde_json::{json, Value};

use super::layout::{cut_chars, fitted, paragraphs, sign, Fit, Markup, Part};
use super::send::{by_status, Answer, Reply};
use super::{Body, Test};
use crate::alert::render::Summary;
use crate::config::Owner;

/// A `section` block's text, in characters.
const SECTION_MAX: usize = 3000;
/// A `header` block's text, in characters.
const HEADER_MAX: usize = 150;
/// Blocks in one message.
const BLOCKS_MAX: usize = 50;
/// The top-level `text`, in characters.
pub(super) const TEXT_MAX: usize = 3000;
/// Slack's pace is about one message a second.
const THROTTLE_WAIT: Duration = Duration::from_secs(1);

/// mrkdwn's three control characters escaped, formatting characters made
/// inert, `://` broken so Slack links nothing from outside.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' => out.push('∗'),
            '`' => out.push('\''),
            '~' => out.push('～'),
            '\r' | '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.replace("://", ":\u{200B}//")
}

fn bold(s: &str) -> String {
    format!("*{}*", text(s))
}

fn link(url: &str, label: &str) -> String {
    format!(
        "<{}|{}>",
        url.replace('&', "&amp;"),
        text(label).replace('|', "/")
    )
}

const MARKUP: Markup = Markup {
    bold,
    link,
    text,
    mention: |o| o.slack_user.as_ref().map(|u| format!("<@{u}>")),
    bullet: "• ",
};

fn section(t: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": t}})
}

fn context(t: &str) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": t}]})
}

fn header(t: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": cut_chars(t, HEADER_MAX), "emoji": true}})
}

/// A paragraph as sections of at most [`SECTION_MAX`] characters, split
/// between lines (a line is far shorter than a section).
fn sections(p: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in p.lines() {
        if !cur.is_empty() && cur.chars().count() + 1 + line.chars().count() > SECTION_MAX {
            out.push(section(&cur));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&cut_chars(line, SECTION_MAX));
    }
    if !cur.is_empty() {
        out.push(section(&cur));
    }
    out
}

/// The notification text: the title, the Do-first lines, the mentions.
fn fallback(s: &Summary<'_>, mentions: &[&Owner], fit: Fit) -> String {
    let mut t = format!("{} {}", sign(s.tone), text(&s.title));
    for a in s.do_first.iter().take(fit.do_first) {
        t.push_str(&format!(
            "\n• {}: {} — {}",
            text(&a.action),
            text(&a.name),
            text(&a.what)
        ));
    }
    let tags: Vec<String> = mentions
        .iter()
        .filter_map(|o| (MARKUP.mention)(o))
        .collect();
    if !tags.is_empty() {
        t.push('\n');
        t.push_str(&tags.join(" "));
    }
    cut_chars(&t, TEXT_MAX)
}

fn build(s: &Summary<'_>, mentions: &[&Owner], fit: Fit) -> Body {
    let mut blocks = vec![header(&s.title)];
    for (part, text) in paragraphs(s, &MARKUP, mentions, fit) {
        match part {
            Part::AsOf | Part::More | Part::Footer => blocks.push(context(&text)),
            Part::Section if !blocks.iter().any(|b| b["type"] == "divider") => {
                blocks.push(json!({"type": "divider"}));
                blocks.extend(sections(&text));
            }
            _ => blocks.extend(sections(&text)),
        }
    }
    json!({"text": fallback(s, mentions, fit), "blocks": blocks})
}

/// Whether a message keeps Slack's limits.
pub(super) fn fits(b: &Body) -> bool {
    let blocks = b["blocks"].as_array().map_or(0, Vec::len);
    blocks <= BLOCKS_MAX
        && b["text"].as_str().map_or(0, |t| t.chars().count()) <= TEXT_MAX
        && serde_json::to_vec(b).is_ok_and(|v| v.len() <= 40_000)
}

pub(super) fn message(s: &Summary<'_>, mentions: &[&Owner]) -> Body {
    fitted(s, |fit| build(s, mentions, fit), fits)
}

pub(super) fn test(t: &Test<'_>) -> Body {
    json!({
        "text": text(&t.title),
        "blocks": [header(&t.title), section(&text(&t.body)), context(&text(&t.footer))],
    })
}

pub(super) fn classify(r: &Reply) -> Answer {
    match by_status(r, THROTTLE_WAIT) {
        None => Answer::Delivered { reply: r.text() },
        // Slack names the error in the body: `invalid_token`, `no_service`.
        Some(Answer::Permanent { code, reply }) => {
            let said = r.body.trim();
            let named = !said.is_empty()
                && said.len() <= 60
                && said.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            Answer::Permanent {
                code: if named { said.to_string() } else { code },
                reply,
            }
        }
        Some(a) => a,
    }
}
