//! A received Slack message or Feishu/Lark card as a self-contained HTML
//! page that looks roughly as the client shows it (for the README's
//! screenshot; Chromium renders it). Only what flywheel sends is
//! understood: Slack's header, section, context and divider blocks with
//! `*bold*`, `<url|label>` and `<@U…>`; a card's coloured header, `div`s
//! of lark_md with `**bold**`, `[label](url)` and `<at id=…></at>`, `hr`,
//! link buttons and notes. Every text is HTML-escaped.
#![allow(dead_code)]

use serde_json::Value;

/// Escaped text, the tone signs drawn as coloured dots (a screenshot
/// machine may lack an emoji font).
fn esc(s: &str) -> String {
    let dot = |c: &str| format!("<b style=\"color:{c}\">●</b>");
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('🔴', &dot("#d93025"))
        .replace('🟠', &dot("#f29900"))
        .replace('🔵', &dot("#1a73e8"))
        .replace('🟢', &dot("#1e8e3e"))
}

/// Plain text with `marker`-delimited bold runs (`*` or `**`).
fn bold_runs(s: &str, marker: &str) -> String {
    s.split(marker)
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<b>{}</b>", esc(part))
            } else {
                esc(part)
            }
        })
        .collect()
}

fn link(url: &str, label: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(url), esc(label))
}

fn mention(who: &str) -> String {
    format!("<span class=\"at\">@{}</span>", esc(who))
}

/// Slack mrkdwn as HTML.
fn mrkdwn(s: &str) -> String {
    let text = |t: &str| {
        bold_runs(
            &t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
            "*",
        )
    };
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&text(&rest[..i]));
        let Some(j) = rest[i..].find('>') else { break };
        let inner = &rest[i + 1..i + j];
        out.push_str(&match (inner.strip_prefix('@'), inner.split_once('|')) {
            (Some(user), _) => mention(user),
            (None, Some((url, label))) => link(&url.replace("&amp;", "&"), label),
            (None, None) => link(inner, inner),
        });
        rest = &rest[i + j + 1..];
    }
    out.push_str(&text(rest));
    out.replace('\n', "<br>")
}

/// Feishu's lark_md as HTML.
fn lark_md(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let link_at = rest.find('[');
        let at_at = rest.find("<at id=");
        let next = match (link_at, at_at) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        out.push_str(&bold_runs(&rest[..next], "**"));
        rest = &rest[next..];
        if let Some(body) = rest.strip_prefix("<at id=") {
            let end = body.find("></at>").unwrap_or(body.len());
            out.push_str(&mention(&body[..end]));
            rest = body.get(end + 6..).unwrap_or_default();
        } else {
            let close = rest.find("](").unwrap_or(rest.len());
            let end = rest[close..].find(')').map_or(rest.len(), |e| close + e);
            out.push_str(&link(
                rest.get(close + 2..end).unwrap_or_default(),
                &rest[1..close],
            ));
            rest = rest.get(end + 1..).unwrap_or_default();
        }
    }
    out.push_str(&bold_runs(rest, "**"));
    out.replace('\n', "<br>")
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Each element of the array at `v`, drawn by `draw`, joined by `sep`.
fn each(v: &Value, sep: &str, draw: impl Fn(&Value) -> String) -> String {
    let drawn: Vec<String> = v.as_array().into_iter().flatten().map(draw).collect();
    drawn.join(sep)
}

fn slack(body: &Value) -> String {
    each(&body["blocks"], "", |b| {
        let text = str_of(&b["text"]["text"]);
        match b["type"].as_str().unwrap_or_default() {
            "header" => format!("<div class=\"h\">{}</div>", esc(&text)),
            "section" => format!("<div class=\"s\">{}</div>", mrkdwn(&text)),
            "context" => {
                let parts = each(&b["elements"], " ", |e| mrkdwn(&str_of(&e["text"])));
                format!("<div class=\"c\">{parts}</div>")
            }
            "divider" => "<hr>".to_string(),
            _ => String::new(),
        }
    })
}

fn feishu(body: &Value) -> String {
    let card = &body["card"];
    let colour = match card["header"]["template"].as_str().unwrap_or_default() {
        "red" => "#f54a45",
        "orange" => "#ff8800",
        "green" => "#34c724",
        _ => "#3370ff",
    };
    let title = esc(&str_of(&card["header"]["title"]["content"]));
    let elements = each(&card["elements"], "", |el| {
        match el["tag"].as_str().unwrap_or_default() {
            "div" => format!(
                "<div class=\"s\">{}</div>",
                lark_md(&str_of(&el["text"]["content"]))
            ),
            "note" => {
                let parts = each(&el["elements"], " ", |e| esc(&str_of(&e["content"])));
                format!("<div class=\"c\">{parts}</div>")
            }
            "hr" => "<hr>".to_string(),
            "action" => each(&el["actions"], "", |b| {
                let (url, label) = (esc(&str_of(&b["url"])), esc(&str_of(&b["text"]["content"])));
                format!("<a class=\"btn\" href=\"{url}\">{label}</a>")
            }),
            _ => String::new(),
        }
    });
    format!("<div class=\"fh\" style=\"background:{colour}\">{title}</div><div class=\"fb\">{elements}</div>")
}

/// The page: a chat window `width` pixels wide showing `body` as Slack
/// (`"slack"`) or Feishu/Lark (`"feishu"`, `"lark"`) would.
pub fn page(platform: &str, body: &Value, width: u32) -> String {
    let (app, inner) = match platform {
        "slack" => ("Slack", slack(body)),
        _ => ("Feishu", feishu(body)),
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>flywheel in {app}</title><style>\
         body{{margin:0;background:#f4f5f7;font:14px/1.5 -apple-system,'Segoe UI',Arial,'PingFang SC','Noto Sans CJK SC',sans-serif;color:#1d1c1d}}\
         .w{{width:{width}px;margin:12px auto;background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 3px #0002}}\
         .bot{{font-weight:bold;margin-bottom:6px}}.bot span{{font-weight:normal;color:#616061;font-size:12px;margin-left:6px}}\
         .h{{font-size:17px;font-weight:bold;margin:4px 0}}.s{{margin:6px 0;word-break:break-word}}\
         .c{{font-size:12px;color:#616061;margin:4px 0}}hr{{border:0;border-top:1px solid #ddd}}\
         a{{color:#1264a3;text-decoration:none}}.at{{color:#1264a3;background:#e8f5fa;border-radius:3px;padding:0 2px}}\
         .fh{{color:#fff;font-weight:bold;padding:10px 12px;border-radius:6px 6px 0 0}}\
         .fb{{border:1px solid #dee0e3;border-top:0;padding:4px 12px 8px;border-radius:0 0 6px 6px}}\
         .btn{{display:inline-block;border:1px solid #d0d3d6;border-radius:4px;padding:3px 10px;margin:4px 6px 4px 0;color:#1f2329}}\
         </style></head><body><div class=\"w\"><div class=\"bot\">flywheel<span>{app} · bot</span></div>{inner}</div></body></html>\n"
    )
}
