//! Each platform's message from the demo's alerts: within its limits with
//! 60 alerts, in Chinese without English fixed phrases, mentioning owners
//! by their ids, and every platform's answers read the documented way.

use std::time::Duration;

use serde_json::{json, Value};

use super::layout::LINES_MAX;
use super::send::{classify, Reply};
use super::*;
use crate::alert::render::fixtures::{at, demo_items, email_of, ENGLISH_FIXED};
use crate::alert::{Item, ItemKind};
use crate::config::Secret;

const PLATFORMS: [Platform; 6] = [
    Platform::Slack,
    Platform::Wecom,
    Platform::Dingtalk,
    Platform::Feishu,
    Platform::Lark,
    Platform::Webhook,
];

fn receiver(p: Platform, mention_owners: bool) -> Receiver {
    Receiver {
        name: format!("ops-{}", p.as_str()),
        kind: Some(p.kind()),
        mention_owners,
        resolved_url: Some(Secret::new("http://127.0.0.1:9/hook")),
        ..Receiver::default()
    }
}

fn owners() -> Vec<Owner> {
    vec![Owner {
        name: "Li Lei".into(),
        mobile: Some("13800001111".into()),
        slack_user: Some("U012AB3CD".into()),
        feishu_user: Some("ou_7d8a6e6df7621556ce0d21922b676706".into()),
        email: None,
    }]
}

/// The demo's alerts `copies` times over, each copy about other products.
fn many(copies: usize) -> Vec<Item> {
    let mut items = Vec::new();
    for k in 0..copies {
        for mut i in demo_items() {
            for (key, v) in i.subject.iter_mut() {
                if ["asin", "sku", "campaign_id"].contains(&key.as_str()) && k > 0 {
                    *v = format!("{v}{k}");
                }
            }
            i.fingerprint = format!("{k}{}", i.fingerprint);
            items.push(i);
        }
    }
    items
}

fn email(lang: Lang, items: Vec<Item>) -> AlertEmail {
    let mut e = email_of(lang, items);
    e.names
        .owners
        .insert("FW-SPATULA-01".into(), "Li Lei".into());
    e
}

/// Every string a person reads in a body (not JSON keys, markup names,
/// URLs, or the webhook's labels, which are identifiers).
fn words(body: &Value) -> Vec<String> {
    fn walk(v: &Value, key: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s)
                if ![
                    "msgtype", "msg_type", "tag", "type", "template", "url", "version", "status",
                ]
                .contains(&key)
                    && !s.starts_with("http") =>
            {
                out.push(s.clone())
            }
            Value::Object(m) => {
                for (k, v) in m {
                    if ![
                        "labels",
                        "commonLabels",
                        "groupLabels",
                        "groupKey",
                        "fingerprint",
                    ]
                    .contains(&k.as_str())
                    {
                        walk(v, k, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, key, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(body, "", &mut out);
    out
}

/// How many alert lines a chat message shows, and the "and N more" it says.
fn shown_and_more(lang: Lang, body: &Value) -> (usize, Option<usize>) {
    let text = words(body).join("\n");
    // Every alert line ends with how to acknowledge it.
    let ack = tr_args(lang, "ack-tail", &[("id", "".into())]);
    let ack = ack.trim_end_matches([')', '）']);
    let shown = text.lines().filter(|l| l.contains(ack)).count();
    let more = (1..=200).find(|n| {
        let note = tr_args(
            lang,
            "omitted-note",
            &[("n", n.to_string().into()), ("count", (*n).into())],
        );
        text.contains(&super::layout::markdown_text(&note)) || text.contains(&note)
    });
    (shown, more)
}

/// What each platform documents as its limit, checked on a body.
fn within_limits(p: Platform, body: &Value) -> Result<(), String> {
    let bytes = serde_json::to_vec(body).unwrap().len();
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let ok = match p {
        Platform::Wecom if body["msgtype"] == "text" => {
            body["text"]["content"].as_str().unwrap().len() <= 2048
        }
        Platform::Wecom => body["markdown"]["content"].as_str().unwrap().len() <= 4096,
        Platform::Dingtalk => {
            body["markdown"]["text"].as_str().unwrap().len() <= dingtalk::TEXT_MAX
        }
        Platform::Feishu | Platform::Lark => bytes + 100 < 20 * 1024,
        Platform::Slack => {
            let blocks = body["blocks"].as_array().unwrap();
            blocks.len() <= 50
                && chars(&body["text"]) <= 3000
                && blocks.iter().all(|b| match b["type"].as_str() {
                    Some("header") => chars(&b["text"]["text"]) <= 150,
                    Some("section") => chars(&b["text"]["text"]) <= 3000,
                    Some("context") => b["elements"].as_array().unwrap().len() <= 10,
                    _ => true,
                })
        }
        Platform::Webhook => true,
    };
    ok.then_some(())
        .ok_or_else(|| format!("{p:?}: {bytes} bytes"))
}

#[test]
fn sixty_alerts_fit_every_platform_and_say_how_many_are_left_out() {
    for lang in Lang::ALL {
        let items = many(5);
        assert_eq!(items.len(), 60);
        let e = email(*lang, items);
        for p in PLATFORMS {
            let bodies = alert_message(&receiver(p, true), &owners(), &e);
            for b in &bodies {
                within_limits(p, b).unwrap_or_else(|e| panic!("{lang}: {e}"));
            }
            if p == Platform::Webhook {
                assert_eq!(
                    bodies[0]["alerts"].as_array().unwrap().len(),
                    60,
                    "every alert"
                );
                continue;
            }
            let (shown, more) = shown_and_more(*lang, &bodies[0]);
            assert!(
                (1..=LINES_MAX).contains(&shown),
                "{lang} {p:?}: {shown} lines"
            );
            assert_eq!(more, Some(60 - shown), "{lang} {p:?}: and N more");
        }
    }
}

#[test]
fn a_few_alerts_are_listed_whole_with_the_summary_first() {
    let e = email(Lang::En, demo_items());
    let n = e.items.len();
    for p in PLATFORMS.into_iter().filter(|p| *p != Platform::Webhook) {
        let body = &alert_message(&receiver(p, false), &[], &e)[0];
        let (shown, more) = shown_and_more(Lang::En, body);
        assert_eq!((shown, more), (n, None), "{p:?}");
        let text = words(body).join("\n");
        let pos = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("{p:?}: {s:?} in\n{text}"))
        };
        assert!(
            pos("flywheel · demo: 4 critical, 8 warnings") < pos("Link 1: customer experience"),
            "{p:?}"
        );
        assert!(
            pos("Link 1: customer experience") < pos("Do first"),
            "{p:?}"
        );
        assert!(pos("Do first") < pos("New (12)"), "{p:?}");
        assert!(
            text.contains("Restock") && text.contains("Silicone Spatula Set of 3"),
            "{p:?}"
        );
    }
}

#[test]
fn zh_cn_messages_have_no_english_fixed_phrase() {
    let e = email(Lang::ZhCn, many(2));
    for p in PLATFORMS {
        let mut bodies = alert_message(&receiver(p, true), &owners(), &e);
        bodies.extend(test_message(
            &receiver(p, false),
            Lang::ZhCn,
            at(),
            chrono_tz::Asia::Shanghai,
        ));
        for b in &bodies {
            // WeCom's colour names are markup, not words.
            let text = words(b)
                .join("\n")
                .replace("<font color=\"warning\">", "")
                .replace("<font color=\"comment\">", "")
                .replace("<font color=\"info\">", "");
            for phrase in
                ENGLISH_FIXED
                    .iter()
                    .chain(&["New (", "Owners", "test message", "Sent by"])
            {
                assert!(!text.contains(phrase), "{p:?}: {phrase:?} in\n{text}");
            }
            let robot = p != Platform::Webhook;
            assert!(
                !robot || text.contains("flywheel"),
                "keyword robots need it: {p:?}"
            );
        }
    }
}

#[test]
fn mentions_carry_the_owners_mobile_or_user_id() {
    let e = email(Lang::En, demo_items());
    let get = |p: Platform, on: bool| alert_message(&receiver(p, on), &owners(), &e);
    let wecom = get(Platform::Wecom, true);
    assert_eq!(wecom.len(), 2, "markdown, then the text that mentions");
    assert_eq!(wecom[1]["msgtype"], "text");
    assert_eq!(
        wecom[1]["text"]["mentioned_mobile_list"],
        json!(["13800001111"])
    );
    let ding = &get(Platform::Dingtalk, true)[0];
    assert_eq!(ding["at"]["atMobiles"], json!(["13800001111"]));
    assert!(ding["markdown"]["text"]
        .as_str()
        .unwrap()
        .contains("@13800001111"));
    let slack = get(Platform::Slack, true)[0].to_string();
    assert!(slack.contains("<@U012AB3CD>"), "{slack}");
    for p in [Platform::Feishu, Platform::Lark] {
        let card = get(p, true)[0].to_string();
        assert!(
            card.contains("<at id=ou_7d8a6e6df7621556ce0d21922b676706></at>"),
            "{card}"
        );
    }
    // Off by default; and never for what the owner's products are not in.
    for p in PLATFORMS {
        let off = get(p, false);
        let all = serde_json::to_string(&off).unwrap();
        assert!(
            !all.contains("13800001111") && !all.contains("U012AB3CD") && !all.contains("ou_7d8a"),
            "{p:?}"
        );
    }
    let other = email(
        Lang::En,
        demo_items()
            .into_iter()
            .filter(|i| {
                i.key("sku") != Some("FW-SPATULA-01") && i.key("asin") != Some("B0SIMSPT01")
            })
            .collect(),
    );
    assert_eq!(
        alert_message(&receiver(Platform::Wecom, true), &owners(), &other).len(),
        1
    );
}

fn resolved(items: Vec<Item>) -> Vec<Item> {
    items
        .into_iter()
        .map(|mut i| {
            i.kind = ItemKind::Resolved;
            i
        })
        .collect()
}

#[test]
fn a_resolution_reads_as_one() {
    let mut e = email(
        Lang::En,
        resolved(demo_items().into_iter().take(3).collect()),
    );
    e.open.clear();
    let card = &alert_message(&receiver(Platform::Feishu, false), &[], &e)[0];
    assert_eq!(card["card"]["header"]["template"], "green");
    assert_eq!(
        card["card"]["header"]["title"]["content"],
        "flywheel · demo: 3 resolved"
    );
    let hook = &alert_message(&receiver(Platform::Webhook, false), &[], &e)[0];
    assert_eq!(hook["status"], "resolved");
    for a in hook["alerts"].as_array().unwrap() {
        assert_eq!(a["status"], "resolved");
        assert_ne!(a["endsAt"], "0001-01-01T00:00:00Z");
    }
    let wecom = alert_message(&receiver(Platform::Wecom, false), &[], &e)[0].to_string();
    assert!(
        wecom.contains("Resolved (3)") && !wecom.contains("Do first"),
        "{wecom}"
    );
}

#[test]
fn the_webhook_body_has_alertmanagers_shape() {
    let e = email(Lang::En, demo_items());
    let body = &alert_message(&receiver(Platform::Webhook, false), &[], &e)[0];
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["receiver"], "ops-webhook");
    assert_eq!(body["groupLabels"], json!({"account": "demo"}));
    assert_eq!(body["groupKey"], "{}:{account=\"demo\"}");
    assert_eq!(body["commonLabels"]["account"], "demo");
    assert_eq!(body["commonLabels"]["marketplace"], "ATVPDKIKX0DER");
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), e.items.len());
    let stock = alerts
        .iter()
        .find(|a| a["labels"]["alertname"] == "stockout_risk")
        .unwrap();
    assert_eq!(stock["labels"]["sku"], "FW-SPATULA-01");
    assert_eq!(stock["labels"]["severity"], "critical");
    assert_eq!(stock["labels"]["link"], "leverage");
    assert_eq!(stock["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(stock["startsAt"], "2026-03-01T05:00:00Z");
    assert_eq!(
        stock["generatorURL"],
        "https://sellercentral.amazon.com/restockinventory/recommendations"
    );
    assert!(stock["annotations"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("Silicone Spatula Set of 3 — stockout risk: "));
    assert!(stock["fingerprint"].as_str().is_some_and(|f| !f.is_empty()));
}

#[test]
fn test_messages_name_the_receiver_in_its_language() {
    for p in PLATFORMS {
        for lang in Lang::ALL {
            let bodies = test_message(&receiver(p, false), *lang, at(), chrono_tz::UTC);
            assert_eq!(bodies.len(), 1);
            let text = words(&bodies[0]).join("\n");
            assert!(
                text.contains(&format!("ops-{}", p.as_str())),
                "{p:?} {lang}: {text}"
            );
            assert!(
                text.contains(&tr(*lang, "chat-test-title")),
                "{p:?} {lang}: {text}"
            );
        }
    }
    let mut email_receiver = receiver(Platform::Slack, false);
    email_receiver.kind = Some(ReceiverKind::Email);
    assert!(test_message(&email_receiver, Lang::En, at(), chrono_tz::UTC).is_empty());
    assert!(alert_message(&email_receiver, &[], &email(Lang::En, demo_items())).is_empty());
}

#[test]
fn hostile_names_neither_link_nor_mention_nor_break_markup() {
    let mut e = email(Lang::En, demo_items());
    let hostile = "**Big** [deal](https://evil.example/x) <@all> <at id=all></at> <!channel> `x`";
    for name in e.names.asins.values_mut() {
        *name = hostile.into();
    }
    for p in PLATFORMS.into_iter().filter(|p| *p != Platform::Webhook) {
        let all = words(&alert_message(&receiver(p, false), &[], &e)[0]).join("\n");
        // Slack's links are <url|label>: brackets are plain text there.
        let brackets = if p == Platform::Slack {
            "<deal|"
        } else {
            "[deal]"
        };
        for bad in [
            "https://evil",
            "<@all>",
            "<at id=all>",
            "<!channel>",
            brackets,
            "**Big**",
        ] {
            assert!(!all.contains(bad), "{p:?}: {bad} in\n{all}");
        }
    }
}

/// The verdict in a few words, for the table below.
fn verdict(a: &Answer) -> String {
    match a {
        Answer::Delivered { .. } => "delivered".into(),
        Answer::Throttled { retry_after, .. } => format!("throttled {}s", retry_after.as_secs()),
        Answer::Permanent { code, .. } => format!("permanent {code}"),
        Answer::Transient { .. } => "transient".into(),
    }
}

/// Each platform's answers and what they mean, one a line: platform,
/// HTTP status, `Retry-After` seconds (`-` for none), body, `=>` the
/// verdict.
const ANSWERS: &str = r#"
wecom 200 - {"errcode":0,"errmsg":"ok"} => delivered
wecom 200 - {"errcode":45009,"errmsg":"api freq out of limit"} => throttled 60s
wecom 200 - {"errcode":93000,"errmsg":"invalid webhook url"} => permanent 93000
wecom 200 - {"errcode":-1,"errmsg":"system busy"} => transient
wecom 502 - Bad Gateway => transient
wecom 200 - <html>captive portal</html> => transient
dingtalk 200 - {"errcode":0,"errmsg":"ok"} => delivered
dingtalk 200 - {"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"} => throttled 600s
dingtalk 200 - {"errcode":310000,"errmsg":"sign not match"} => permanent 310000
dingtalk 200 - {"errcode":300001,"errmsg":"token is not exist"} => permanent 300001
feishu 200 - {"code":0,"msg":"success","data":{}} => delivered
lark 200 - {"Extra":null,"StatusCode":0,"StatusMessage":"success"} => delivered
feishu 200 - {"code":11232,"msg":"frequency limited"} => throttled 60s
feishu 429 7 {"code":99991400,"msg":"request trigger frequency limit"} => throttled 7s
feishu 200 - {"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"} => permanent 19021
feishu 200 - {"code":19022,"msg":"Ip Not Allowed"} => permanent 19022
lark 200 - {"code":19024,"msg":"Key Words Not Found"} => permanent 19024
feishu 400 - {"code":9499,"msg":"Bad Request"} => permanent 9499
slack 200 - ok => delivered
slack 429 3 rate_limited => throttled 3s
slack 429 - => throttled 1s
slack 403 - invalid_token => permanent invalid_token
slack 404 - no_service => permanent no_service
slack 410 - channel_is_archived => permanent channel_is_archived
slack 400 - invalid_payload => permanent invalid_payload
slack 400 - <html>Bad</html> => permanent HTTP 400
slack 503 - => transient
webhook 202 - => delivered
webhook 429 30 => transient
webhook 500 - => transient
webhook 404 - not found => permanent HTTP 404
webhook 301 - => permanent HTTP 301
"#;

#[test]
fn each_platforms_answers_read_as_documented() {
    for line in ANSWERS.trim().lines() {
        let (reply, want) = line.split_once(" => ").unwrap();
        let mut parts = reply.splitn(4, ' ');
        let kind = parts.next().unwrap();
        let platform = PLATFORMS.into_iter().find(|p| p.as_str() == kind).unwrap();
        let status = parts.next().unwrap().parse().unwrap();
        let retry_after = parts.next().unwrap().parse().ok().map(Duration::from_secs);
        let body = parts.next().unwrap_or_default().to_string();
        let reply = Reply {
            status,
            retry_after,
            body,
        };
        assert_eq!(verdict(&classify(platform, &reply)), want, "{line}");
    }
}

/// `cargo test --lib chat::tests::show -- --ignored --nocapture` prints
/// each platform's message of the demo round, for a look.
#[test]
#[ignore]
fn show() {
    for lang in Lang::ALL {
        let e = email(*lang, demo_items());
        for p in PLATFORMS {
            for b in alert_message(&receiver(p, true), &owners(), &e) {
                println!(
                    "===== {p:?} {lang}\n{}",
                    serde_json::to_string_pretty(&b).unwrap()
                );
            }
        }
    }
}
