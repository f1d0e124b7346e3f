//! `[[receivers]]` and `[[owners]]`: TOML in, exact located problem out;
//! the URL shapes; what a valid set of receivers yields.

use super::*;
use crate::config::tests::{appended, base, parse, problems, valid};
use crate::config::EXAMPLE;

/// A receiver table of `kind` named `name` posting to `url` (appended
/// after the base: `[[receivers]]` is line 15).
fn receiver(name: &str, kind: &str, url: &str) -> String {
    format!("[[receivers]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"")
}

const SLACK: &str = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue";
const LOOPBACK: &str = "http://127.0.0.1:9093/any/path?x=1";

/// Each case: TOML appended to the base (its first line is line 15), then
/// `=> ` and the one problem it must yield. Cases are apart by a blank line.
const MISTAKES: &str = r#"
[[receivers]]
name = "ops"
kind = "slak"
url = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
=> 17:1 receivers[0].kind: unknown value "slak": expected one of slack, wecom, dingtalk, feishu, lark, webhook, email (did you mean "slack"?)

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
[[receivers]]
name = "ops"
kind = "slack"
url = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
=> 20:1 receivers[1].name: receiver name "ops" is used twice

[[receivers]]
name = "ops"
kind = "slack"
=> 15:1 receivers[0]: missing the robot's webhook URL: set `url`, `url_file`, or provide `receiver.ops.url` in $CREDENTIALS_DIRECTORY (systemd LoadCredential=)

[[receivers]]
kind = "webhook"
url = "http://localhost:8080/"
=> 15:1 receivers[0]: missing `name` (shown in status and logs)

[[receivers]]
name = "ops"
url = "http://localhost:8080/"
=> 15:1 receivers[0]: missing `kind`: "slack", "wecom", "dingtalk", "feishu", "lark", "webhook" or "email"

[[receivers]]
name = "ops"
kind = "email"
url = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
to = ["a@example.com"]
=> 18:1 receivers[0].url: kind "email" has no url: it sends to `to` through [email]

[[receivers]]
name = "ops"
kind = "email"
=> 15:1 receivers[0]: missing `to`: the addresses this receiver emails

[[receivers]]
name = "ops"
kind = "email"
to = ["nobody"]
=> 18:7 receivers[0].to[0]: "nobody" is not an email address

[[receivers]]
name = "ops"
kind = "slack"
url = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
to = ["a@example.com"]
=> 19:1 receivers[0].to: `to` is for kind "email": a slack receiver posts to its url

[[receivers]]
name = "ops"
kind = "slack"
url = "http://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
=> 18:1 receivers[0].url: must be an https:// URL (https://hooks.slack.com/services/T…/B…/…); plain http is taken only on 127.0.0.1 or localhost

[[receivers]]
name = "ops"
kind = "wecom"
url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
=> 18:1 receivers[0].url: is not a wecom robot's webhook URL: it looks like https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…

[[receivers]]
name = "ops"
kind = "feishu"
url = "https://open.larksuite.com/open-apis/bot/v2/hook/abc"
=> 18:1 receivers[0].url: is a lark robot's URL (open.larksuite.com): set kind = "lark"

[[receivers]]
name = "ops"
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/replace-me"
=> 18:1 receivers[0].url: is the example config's placeholder: put the robot's webhook URL here, or set `url_file` instead

[[receivers]]
name = "ops"
kind = "slack"
url = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
secret = "SECabc"
=> 19:1 receivers[0].secret: a slack receiver signs nothing: remove `secret` (only dingtalk, feishu and lark robots have a signing secret)

[[receivers]]
name = "ops"
kind = "dingtalk"
url = "https://oapi.dingtalk.com/robot/send?access_token=dtTOKEN"
secret = "not-a-ding-secret"
=> 19:1 receivers[0].secret: is not a DingTalk signing secret: copy the one starting with "SEC" from the robot's security settings (加签)

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
accounts = ["a", "nobody"]
=> 19:18 receivers[0].accounts[1]: no account is named "nobody"

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
links = ["experience", "grow"]
=> 19:24 receivers[0].links[1]: unknown value "grow": expected one of experience, growth, leverage, meta (did you mean "growth"?)

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
min_severity = "high"
=> 19:1 receivers[0].min_severity: unknown value "high": expected one of info, warning, critical

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
batch = "9am"
=> 19:1 receivers[0].batch: batch "9am" is not a time HH:MM (local time in [daemon] timezone)

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
mention_owners = true
=> 19:1 receivers[0].mention_owners: a webhook receiver cannot @-mention anyone: remove mention_owners

[[receivers]]
name = "ops"
kind = "slack"
url = "https://hooks.slack.com/services/T0001/B0001/slackTOKENvalue"
mention_owners = true
=> 19:1 receivers[0].mention_owners: no [[owners]] to mention: add one per owner named in products_file (name, mobile, slack_user, feishu_user)

[[receivers]]
name = "email"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
=> 16:1 receivers[0].name: "email" is the receiver [email] and alert_to make: choose another name

[[receivers]]
name = "ops"
kind = "webhook"
url = "http://127.0.0.1:9093/any/path"
urll = "x"
=> 19:1 receivers[0].urll: unknown key `urll` (did you mean `url`?)

[[owners]]
name = "Li Lei"
=> 15:1 owners[0]: names no way to reach them: set mobile, slack_user, feishu_user or email

[[owners]]
name = "Li Lei"
mobile = "call me"
=> 17:1 owners[0].mobile: "call me" is not a mobile number (digits, an optional leading +)

[[owners]]
name = "Li Lei"
slack_user = "@lilei"
=> 17:1 owners[0].slack_user: "@lilei" is not a Slack member id such as U012AB3CD (the profile's "Copy member ID")

[[owners]]
name = "Li Lei"
feishu_user = "lilei"
=> 17:1 owners[0].feishu_user: "lilei" is not a Feishu/Lark open_id such as ou_7d8a6e6df7621556ce0d21922b676706

[[owners]]
name = "Li Lei"
mobile = "13800001111"
[[owners]]
name = "Li Lei"
mobile = "13800002222"
=> 19:1 owners[1].name: owner "Li Lei" is listed twice
"#;

#[test]
fn each_receiver_mistake_is_named_with_its_key_and_line() {
    let cases: Vec<&str> = MISTAKES.trim().split("\n\n").collect();
    assert!(cases.len() > 25, "{}", cases.len());
    for case in cases {
        let (extra, want) = case
            .split_once("\n=> ")
            .expect("a case ends with `=> problem`");
        assert_eq!(appended(extra), vec![want.to_string()], "for:\n{extra}");
    }
}

#[test]
fn urls_are_https_and_shaped_like_their_platforms_on_their_hosts_only() {
    use ReceiverKind::*;
    let ok: &[(ReceiverKind, &str)] = &[
        (Slack, SLACK),
        (
            Wecom,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
        ),
        (
            Dingtalk,
            "https://oapi.dingtalk.com/robot/send?access_token=abc123",
        ),
        (
            Feishu,
            "https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d3c",
        ),
        (
            Lark,
            "https://open.larksuite.com/open-apis/bot/v2/hook/0f1e2d3c",
        ),
        (Webhook, "https://alerts.example.com/flywheel"),
        // Loopback: tests and local bridges, plain http, any path.
        (Slack, "http://127.0.0.1:8099/whatever"),
        (Dingtalk, "http://localhost:8099/robot"),
        (Feishu, "http://[::1]:8099/"),
        // A bridge in front of a platform: its own host, its own path.
        (Wecom, "https://wecom-bridge.example.com/send"),
    ];
    for (kind, url) in ok {
        assert_eq!(check_url(*kind, url), Ok(()), "{kind} {url}");
    }
    let bad: &[(ReceiverKind, &str)] = &[
        (Slack, "https://hooks.slack.com/services/T0001/B0001"),
        (Slack, "https://hooks.slack.com/triggers/T0001/123/abc"),
        (
            Wecom,
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
        ),
        (Dingtalk, "https://oapi.dingtalk.com/robot/send"),
        (Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/"),
        (Webhook, "ftp://files.example.com/x"),
        (Webhook, "http://alerts.example.com/x"),
        (Webhook, "not a url at all"),
        (Slack, "https://open.feishu.cn/open-apis/bot/v2/hook/abc"),
    ];
    for (kind, url) in bad {
        let err = check_url(*kind, url).unwrap_err();
        // The message never quotes the URL (its path and query hold keys).
        for part in ["T0001", "B0001", "abc", "files.", "alerts.", "at all"] {
            assert!(!err.contains(part), "{kind} {url}: {err}");
        }
    }
}

/// Receivers of every kind, an owner, and an account without email.
fn every_kind() -> String {
    format!(
        "{}\n{}\nmin_severity = \"warning\"\nlinks = [\"experience\", \"growth\"]\naccounts = [\"a\"]\nmention_owners = true\n\n\
         {}\nsecret = \"SECdingSECRETvalue\"\nbatch = \"09:00\"\nsend_resolved = false\n\n\
         {}\n\n{}\nsecret = \"feishuSECRETvalue\"\n\n\
         [[receivers]]\nname = \"oncall\"\nkind = \"email\"\nto = [\"oncall@example.com\"]\nmin_severity = \"critical\"\n\n\
         [[owners]]\nname = \"Li Lei\"\nmobile = \"13800001111\"\nslack_user = \"U012AB3CD\"\nfeishu_user = \"ou_7d8a6e6df7621556ce0d21922b676706\"\n",
        base(),
        receiver("ops-slack", "slack", SLACK),
        receiver(
            "cn-ding",
            "dingtalk",
            "https://oapi.dingtalk.com/robot/send?access_token=dtTOKENvalue"
        ),
        receiver("bridge", "webhook", LOOPBACK),
        receiver("fs", "feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/fsHOOKvalue"),
    )
}

#[test]
fn valid_receivers_route_and_keep_their_secrets_out_of_debug() {
    let c = parse(&every_kind()).unwrap_or_else(|e| panic!("{e}"));
    let all = c.effective_receivers();
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["email", "ops-slack", "cn-ding", "bridge", "fs", "oncall"]
    );
    assert!(all[0].is_implicit() && all[0].send_resolved);
    assert_eq!(c.email_to(&all[0], &c.accounts[0]), ["x@example.com"]);
    assert_eq!(c.email_to(&all[5], &c.accounts[0]), ["oncall@example.com"]);

    let slack = &all[1];
    assert_eq!(slack.kind(), ReceiverKind::Slack);
    assert_eq!(slack.url().unwrap().expose(), SLACK);
    assert!(slack.routes("a", Severity::Warning, Link::Growth));
    assert!(
        !slack.routes("a", Severity::Info, Link::Growth),
        "min_severity"
    );
    assert!(
        !slack.routes("a", Severity::Critical, Link::Leverage),
        "links"
    );
    assert!(
        !slack.routes("b", Severity::Critical, Link::Growth),
        "accounts"
    );
    let ding = &all[2];
    assert_eq!(ding.secret().unwrap().expose(), "SECdingSECRETvalue");
    assert_eq!(ding.batch_time(), NaiveTime::from_hms_opt(9, 0, 0));
    assert!(!ding.send_resolved && ding.routes("z", Severity::Info, Link::Meta));
    assert_eq!(all[4].secret().unwrap().expose(), "feishuSECRETvalue");
    assert_eq!(
        c.owner("Li Lei").unwrap().mobile.as_deref(),
        Some("13800001111")
    );

    assert!(
        c.summary().contains(", 5 receivers (ops-slack: slack, cn-ding: dingtalk, bridge: webhook, fs: feishu, oncall: email), database"),
        "{}",
        c.summary()
    );
    let shown = format!("{c:?} {all:?} {}", c.summary());
    for secret in [
        "slackTOKENvalue",
        "dtTOKENvalue",
        "SECdingSECRETvalue",
        "fsHOOKvalue",
        "feishuSECRETvalue",
    ] {
        assert!(!shown.contains(secret), "{secret} leaked into Debug");
    }
}

#[test]
fn an_account_a_receiver_serves_needs_no_email() {
    let no_mail = base().replace("alert_to = [\"x@example.com\"]\n", "");
    assert_eq!(
        problems(&no_mail),
        vec!["4:1 accounts[0].alert_to: no recipients for account \"a\": set [email] to or the account's alert_to"]
    );
    let text = format!("{no_mail}\n{}\n", receiver("bridge", "webhook", LOOPBACK));
    let c = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = c
        .effective_receivers()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(
        names,
        ["bridge"],
        "no implicit email receiver without recipients"
    );
}

#[cfg(unix)]
#[test]
fn urls_and_secrets_come_from_files_and_the_credentials_directory() {
    use std::os::unix::fs::PermissionsExt;
    // Kept with the file's mode (read_secret_file refuses a loose one).
    let url_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(url_file.path(), format!("{SLACK}\n")).unwrap();
    let mode = std::fs::metadata(url_file.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "a temp file is private");
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(
        creds.path().join("receiver.fs.url"),
        "https://open.feishu.cn/open-apis/bot/v2/hook/x1\n",
    )
    .unwrap();
    std::fs::write(creds.path().join("receiver.fs.secret"), "fsSECRET\n").unwrap();
    let text = format!(
        "{}\n[[receivers]]\nname = \"ops\"\nkind = \"slack\"\nurl_file = \"{}\"\n\n[[receivers]]\nname = \"fs\"\nkind = \"feishu\"\n",
        base(),
        url_file.path().display()
    );
    let env = Env {
        credentials_directory: Some(creds.path().to_path_buf()),
    };
    let c = Config::from_toml(&text, std::path::Path::new("/x/t.toml"), &env)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.receivers[0].url().unwrap().expose(), SLACK);
    assert_eq!(
        c.receivers[1].url().unwrap().expose(),
        "https://open.feishu.cn/open-apis/bot/v2/hook/x1"
    );
    assert_eq!(c.receivers[1].secret().unwrap().expose(), "fsSECRET");
    // A file's URL is checked like an inline one, and named by its key.
    std::fs::write(url_file.path(), "https://hooks.slack.com/services/T0001\n").unwrap();
    let err = Config::from_toml(&text, std::path::Path::new("/x/t.toml"), &env).unwrap_err();
    let got: Vec<String> = err
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    assert_eq!(
        got,
        ["receivers[0].url_file: is not a slack robot's webhook URL: it looks like https://hooks.slack.com/services/T…/B…/…"]
    );
}

#[test]
fn inline_urls_and_secrets_count_as_secrets_of_the_file() {
    let c = valid(&receiver("bridge", "webhook", LOOPBACK));
    assert_eq!(inline_secrets(&c), ["receivers[0].url"]);
}

/// The example's commented receivers, uncommented and with placeholders
/// filled, are valid: one per kind.
#[test]
fn the_example_configs_receivers_are_valid_once_uncommented() {
    let start = EXAMPLE
        .find("# [[receivers]]")
        .expect("the example shows receivers");
    let end = EXAMPLE[start..]
        .find("\n\n")
        .map_or(EXAMPLE.len(), |e| start + e);
    let block: String = EXAMPLE[start..end]
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("# ")?;
            let is_toml = l.starts_with("[[")
                || l.split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            is_toml.then(|| format!("{l}\n"))
        })
        .collect();
    let block = block
        .replace("replace-me", "0a1b2c3d")
        .replace("EXAMPLE", "0a1b2c3d")
        .replace("\"my-store\"", "\"a\"");
    let c = valid(&block.replace("\n[[", "\n\n[["));
    let kinds: HashSet<ReceiverKind> = c.receivers.iter().map(Receiver::kind).collect();
    assert_eq!(kinds.len(), ReceiverKind::ALL.len(), "{block}");
    assert!(!c.owners.is_empty());
}
