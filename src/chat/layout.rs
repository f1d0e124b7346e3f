//! What the four chat platforms share: a [`Summary`] laid out as short
//! paragraphs of the platform's markup, and the fitting that keeps a
//! message within its platform's limits.
//!
//! Fitting never cuts inside a line: a message shows at most
//! [`LINES_MAX`] alert lines, then fewer while it is too large, then
//! fewer "Do first" lines, and says how many alerts it left out ("and 40
//! more alerts not listed here: …", in the reader's language). Every
//! field was already cut to a few dozen characters at a character
//! boundary by `render`, and markup is only ever added around whole
//! fields, so no UTF-8 character, link or bold run is ever split.
//!
//! Text that came from Amazon, the seller or the config passes through
//! the platform's [`Markup::text`], which neutralises what its markup
//! would read (brackets, asterisks, angle brackets, `://`), so a product
//! title cannot become a link, a mention or a broken construct.

use crate::alert::render::{Action, Line, Summary, Tone};
use crate::config::Owner;
use crate::i18n::{tr, tr_args};

/// Alert lines one message shows at most: a chat message is read on a
/// phone; `flywheel alerts` has every one.
pub const LINES_MAX: usize = 20;

/// How a platform writes: its markup around whole fields.
pub(super) struct Markup {
    pub bold: fn(&str) -> String,
    /// A link to a page `model::links` built (never to text from outside).
    pub link: fn(url: &str, label: &str) -> String,
    /// Any text, made inert for the platform's markup.
    pub text: fn(&str) -> String,
    /// How the platform @-mentions an owner; `None`: it cannot mention them.
    pub mention: fn(&Owner) -> Option<String>,
    /// What starts an item of a list: markdown's `- `, Slack's `• `
    /// (mrkdwn has no lists).
    pub bullet: &'static str,
}

/// How much of a summary a message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fit {
    /// Alert lines, sections in order.
    pub lines: usize,
    /// "Do first" lines.
    pub do_first: usize,
}

/// The largest showing of `s` whose message `fits`: every line up to
/// [`LINES_MAX`], then fewer lines, then fewer "Do first" lines. The last
/// resort (no line at all) is returned even if it does not fit; the
/// platforms' tests show it always does.
pub(super) fn fitted<T>(s: &Summary<'_>, build: impl Fn(Fit) -> T, fits: impl Fn(&T) -> bool) -> T {
    let total = s.alerts().count().min(LINES_MAX);
    let tries = (0..=total)
        .rev()
        .map(|lines| Fit {
            lines,
            do_first: s.do_first.len(),
        })
        .chain(
            (0..s.do_first.len())
                .rev()
                .map(|do_first| Fit { lines: 0, do_first }),
        );
    let mut last = None;
    for fit in tries {
        let message = build(fit);
        if fits(&message) {
            return message;
        }
        last = Some(message);
    }
    last.unwrap_or_else(|| {
        build(Fit {
            lines: 0,
            do_first: 0,
        })
    })
}

/// The sign a line of this tone starts with.
pub(super) fn sign(t: Tone) -> &'static str {
    match t {
        Tone::Critical => "🔴",
        Tone::Warning => "🟠",
        Tone::Info => "🔵",
        Tone::Good => "🟢",
    }
}

/// Text for markdown dialects (WeCom, DingTalk, Feishu's lark_md): the
/// characters that start a construct become look-alikes, and `://` is
/// broken so no client links a URL from outside.
pub(super) fn markdown_text(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| match c {
            '*' => '∗',
            '`' => '\'',
            '[' => '［',
            ']' => '］',
            '<' => '‹',
            '>' => '›',
            '~' => '～',
            '\r' | '\n' | '\t' => ' ',
            c => c,
        })
        .collect();
    out.replace("://", ":\u{200B}//")
}

/// A markdown link; its label made inert.
pub(super) fn markdown_link(url: &str, label: &str) -> String {
    format!("[{}]({url})", markdown_text(label).replace(['(', ')'], " "))
}

pub(super) fn markdown_bold(s: &str) -> String {
    format!("**{}**", markdown_text(s))
}

/// What a paragraph of a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// Where and when: "United States · as of …".
    AsOf,
    /// The flywheel's links and their state.
    Strip,
    DoFirst,
    /// One section's heading and alert lines.
    Section,
    /// "and N more alerts not listed here: …".
    More,
    /// Whom it @-mentions.
    Mentions,
    /// "Sent by flywheel at …".
    Footer,
}

/// The paragraphs of a message in reading order, without its title
/// (each platform shows the title its own way).
pub(super) type Paragraphs = Vec<(Part, String)>;

fn action_line(s: &Summary<'_>, m: &Markup, n: usize, a: &Action) -> String {
    let colon = tr(s.lang, "colon");
    let mut line = format!(
        "{n}. {} {}{}{} — {}",
        sign(a.tone),
        (m.bold)(&a.action),
        (m.text)(&colon),
        (m.text)(&a.name),
        (m.text)(&a.what)
    );
    if let Some(stake) = &a.stake {
        line.push_str(&format!(" · {}", (m.text)(stake)));
    }
    if let Some(p) = &a.place {
        line.push_str(&format!(" → {}", (m.link)(&p.url, &p.label)));
    }
    line
}

fn alert_line(s: &Summary<'_>, m: &Markup, l: &Line<'_>) -> String {
    let colon = tr(s.lang, "colon");
    format!(
        "{}{} {} — {}{}{} · {}",
        m.bullet,
        sign(l.tone),
        (m.text)(&l.name),
        (m.text)(&l.title),
        (m.text)(&colon),
        (m.text)(&l.phrase),
        (m.text)(&l.tail)
    )
}

/// `s` as paragraphs of `m`'s markup, showing what `fit` allows.
pub(super) fn paragraphs(s: &Summary<'_>, m: &Markup, mentions: &[&Owner], fit: Fit) -> Paragraphs {
    let lang = s.lang;
    let colon = tr(lang, "colon");
    let mut out = vec![(Part::AsOf, (m.text)(&s.as_of))];
    if !s.strip.is_empty() {
        let lines: Vec<String> = s
            .strip
            .iter()
            .map(|l| {
                let state = (m.text)(&format!("{colon}{}", l.state));
                format!("{}{} {}{state}", m.bullet, sign(l.tone), (m.bold)(&l.title))
            })
            .collect();
        out.push((Part::Strip, lines.join("\n")));
    }
    if fit.do_first > 0 {
        let mut p = (m.bold)(&s.do_first_title);
        for (n, a) in s.do_first.iter().take(fit.do_first).enumerate() {
            p.push('\n');
            p.push_str(&action_line(s, m, n + 1, a));
        }
        out.push((Part::DoFirst, p));
    }
    let mut left = fit.lines;
    for section in &s.sections {
        let mut p = (m.bold)(&section.title);
        for l in section.alerts.iter().take(left) {
            p.push('\n');
            p.push_str(&alert_line(s, m, l));
        }
        left = left.saturating_sub(section.alerts.len());
        out.push((Part::Section, p));
    }
    let omitted = s.alerts().count().saturating_sub(fit.lines);
    if omitted > 0 {
        let args = [("n", omitted.to_string().into()), ("count", omitted.into())];
        out.push((Part::More, (m.text)(&tr_args(lang, "omitted-note", &args))));
    }
    let tags: Vec<String> = mentions.iter().filter_map(|o| (m.mention)(o)).collect();
    if !tags.is_empty() {
        let owners = (m.bold)(&tr(lang, "chat-owners"));
        out.push((
            Part::Mentions,
            format!("{owners}{}{}", (m.text)(&colon), tags.join(" ")),
        ));
    }
    out.push((Part::Footer, (m.text)(&s.footer)));
    out
}

/// The paragraphs as one markdown text under `title`, a blank line apart.
pub(super) fn markdown_message(title: String, paragraphs: &Paragraphs) -> String {
    let mut out = title;
    for (_, para) in paragraphs {
        out.push_str("\n\n");
        out.push_str(para);
    }
    out
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub(super) fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// At most `max` characters of `s`, with "…" when cut.
pub(super) fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_is_inert() {
        let hostile = "**Big** [deal](https://evil.example) <@all> `x` ~~y~~\nnext";
        let got = markdown_text(hostile);
        for bad in ["**", "[", "](", "<@", "`", "~~", "\n", "https://"] {
            assert!(!got.contains(bad), "{bad} in {got}");
        }
        assert_eq!(
            markdown_link("https://x.example/a?b=1", "Edit [listing] (now)"),
            "[Edit ［listing］  now ](https://x.example/a?b=1)"
        );
    }

    #[test]
    fn cuts_keep_characters_whole() {
        assert_eq!(cut_bytes("断货风险", 7), "断货");
        assert_eq!(cut_bytes("abc", 10), "abc");
        assert_eq!(cut_chars("断货风险高", 3), "断货…");
        assert_eq!(cut_chars("ok", 3), "ok");
    }
}
