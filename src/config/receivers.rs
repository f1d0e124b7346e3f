//! `[[receivers]]` and `[[owners]]` (DESIGN §5.2): where alert messages go
//! besides the email of `[email]` + `alert_to`, how each receiver is
//! routed, and whom a chat message may @-mention.
//!
//! A chat receiver's URL holds the robot's key and its signing secret is a
//! key too: both are [`Secret`]s, read inline, from `url_file` /
//! `secret_file`, or from `$CREDENTIALS_DIRECTORY/receiver.<name>.url` /
//! `.secret`, and no message here ever quotes them (a URL is described by
//! what is wrong with it, never echoed).
//!
//! The URL checks are pure ([`check_url`]): https only, except loopback
//! (`http://127.0.0.1:…`, `http://localhost:…`, any path: tests and local
//! bridges); on a platform's own host, the path that platform's robots
//! have. A URL on any other host is taken as it is (a proxy, a bridge).

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::NaiveTime;
use serde::Deserialize;

use super::rules::{Link, Severity};
use super::secret::Secret;
use super::validate::{is_email, resolve_secret, Problems};
use super::{Account, Config, Env};

/// What a receiver is: a chat platform's group robot, a webhook taking
/// Alertmanager's JSON, or email through `[email]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverKind {
    Slack,
    Wecom,
    Dingtalk,
    Feishu,
    Lark,
    Webhook,
    Email,
}

impl ReceiverKind {
    pub const ALL: &'static [ReceiverKind] = &[
        ReceiverKind::Slack,
        ReceiverKind::Wecom,
        ReceiverKind::Dingtalk,
        ReceiverKind::Feishu,
        ReceiverKind::Lark,
        ReceiverKind::Webhook,
        ReceiverKind::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Slack => "slack",
            ReceiverKind::Wecom => "wecom",
            ReceiverKind::Dingtalk => "dingtalk",
            ReceiverKind::Feishu => "feishu",
            ReceiverKind::Lark => "lark",
            ReceiverKind::Webhook => "webhook",
            ReceiverKind::Email => "email",
        }
    }

    /// Whether it posts to a URL (every kind but email).
    pub fn has_url(self) -> bool {
        self != ReceiverKind::Email
    }

    /// Whether the platform checks a signature made with a secret:
    /// DingTalk's "加签" and Feishu/Lark's "签名校验". Slack and WeCom
    /// robots authenticate by the key in their URL only.
    pub fn signs(self) -> bool {
        matches!(
            self,
            ReceiverKind::Dingtalk | ReceiverKind::Feishu | ReceiverKind::Lark
        )
    }

    /// Whether its messages can @-mention a person.
    pub fn mentions(self) -> bool {
        !matches!(self, ReceiverKind::Webhook | ReceiverKind::Email)
    }

    /// The platform's own webhook host, where [`check_url`] checks the
    /// path; `None` for webhook and email.
    pub fn host(self) -> Option<&'static str> {
        Some(match self {
            ReceiverKind::Slack => "hooks.slack.com",
            ReceiverKind::Wecom => "qyapi.weixin.qq.com",
            ReceiverKind::Dingtalk => "oapi.dingtalk.com",
            ReceiverKind::Feishu => "open.feishu.cn",
            ReceiverKind::Lark => "open.larksuite.com",
            ReceiverKind::Webhook | ReceiverKind::Email => return None,
        })
    }

    /// How the platform's robot URL looks, for messages.
    fn shape(self) -> &'static str {
        match self {
            ReceiverKind::Slack => "https://hooks.slack.com/services/T…/B…/…",
            ReceiverKind::Wecom => "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
            ReceiverKind::Dingtalk => "https://oapi.dingtalk.com/robot/send?access_token=…",
            ReceiverKind::Feishu => "https://open.feishu.cn/open-apis/bot/v2/hook/…",
            ReceiverKind::Lark => "https://open.larksuite.com/open-apis/bot/v2/hook/…",
            ReceiverKind::Webhook | ReceiverKind::Email => "https://…",
        }
    }
}

impl std::fmt::Display for ReceiverKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[[receivers]]`: one place alert messages go, with its routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Receiver {
    /// Required (validation says so); read it with [`Receiver::kind`].
    pub kind: Option<ReceiverKind>,
    /// Unique; shown in `status` and logs.
    pub name: String,
    /// Alerts below this severity do not go to it.
    pub min_severity: Severity,
    /// The accounts it hears about; empty means every account.
    pub accounts: Vec<String>,
    /// Whether it is told when an alert it was told of resolves.
    pub send_resolved: bool,
    /// The flywheel links it hears about; empty means all.
    pub links: Vec<Link>,
    /// @-mention the owner of each product a message is about
    /// (`products_file`'s `owner` column, looked up in `[[owners]]`).
    pub mention_owners: bool,
    /// "HH:MM" in `[daemon] timezone`: non-critical notifications wait
    /// and go in one message a day at this time.
    pub batch: Option<String>,
    /// Kind `email` only: the addresses it sends to.
    pub to: Vec<String>,
    /// The robot's webhook URL (it holds the robot's key).
    pub url: Option<Secret>,
    /// Filled by validation from `url` / `url_file` / credentials.
    #[serde(skip)]
    pub resolved_url: Option<Secret>,
    pub url_file: Option<PathBuf>,
    /// DingTalk's "加签" secret (SEC…) or Feishu/Lark's signature secret.
    pub secret: Option<Secret>,
    /// Filled by validation from `secret` / `secret_file` / credentials.
    #[serde(skip)]
    pub resolved_secret: Option<Secret>,
    pub secret_file: Option<PathBuf>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver {
            name: String::new(),
            kind: None,
            url: None,
            url_file: None,
            secret: None,
            secret_file: None,
            to: Vec::new(),
            accounts: Vec::new(),
            min_severity: Severity::Info,
            links: Vec::new(),
            send_resolved: true,
            mention_owners: false,
            batch: None,
            resolved_url: None,
            resolved_secret: None,
        }
    }
}

/// The name of the receiver `[email]` + `alert_to` make.
pub const IMPLICIT_EMAIL: &str = "email";

impl Receiver {
    /// Its kind (validation refuses a receiver without one).
    pub fn kind(&self) -> ReceiverKind {
        self.kind.expect("validated: every receiver has a kind")
    }

    /// The webhook URL (a secret: never log it). `None` for email.
    pub fn url(&self) -> Option<&Secret> {
        self.resolved_url.as_ref()
    }

    /// The signing secret, when the platform signs and one is set.
    pub fn secret(&self) -> Option<&Secret> {
        self.resolved_secret.as_ref()
    }

    /// Whether an alert of `account`, `severity` and `link` goes to it
    /// (`accounts`, `min_severity`, `links`; `send_resolved` and `batch`
    /// are the caller's).
    pub fn routes(&self, account: &str, severity: Severity, link: Link) -> bool {
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            && severity >= self.min_severity
            && (self.links.is_empty() || self.links.contains(&link))
    }

    /// Whether it hears about `account` at all.
    pub fn serves(&self, account: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|a| a == account)
    }

    /// The daily batch time (validated at load).
    pub fn batch_time(&self) -> Option<NaiveTime> {
        self.batch.as_deref().and_then(|s| parse_batch(s).ok())
    }

    /// Whether it is the receiver `[email]` + `alert_to` make.
    pub fn is_implicit(&self) -> bool {
        self.name == IMPLICIT_EMAIL && self.kind == Some(ReceiverKind::Email)
    }
}

/// `[[owners]]`: a person a message may @-mention, by the name the
/// `owner` column of `products_file` gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Owner {
    /// Mentions in WeCom (`mentioned_mobile_list`) and DingTalk (`atMobiles`).
    pub mobile: Option<String>,
    /// A Slack member id (U…, W…), mentioned as `<@U…>`.
    pub slack_user: Option<String>,
    /// A Feishu/Lark open_id (ou_…), mentioned as `<at id=ou_…></at>`.
    pub feishu_user: Option<String>,
    pub email: Option<String>,
    /// As the `owner` column of `products_file` writes it.
    pub name: String,
}

impl Config {
    /// Every receiver alert messages go to: the implicit email receiver
    /// (named [`IMPLICIT_EMAIL`]; `to` empty: each account's recipients,
    /// [`Config::recipients`]; `send_resolved` from `[alerts]`) when any
    /// account has recipients, then `[[receivers]]` in file order.
    pub fn effective_receivers(&self) -> Vec<Receiver> {
        let mut out = Vec::new();
        let has_recipients = self.accounts.iter().any(|a| !self.recipients(a).is_empty());
        if has_recipients {
            out.push(Receiver {
                name: IMPLICIT_EMAIL.to_string(),
                kind: Some(ReceiverKind::Email),
                send_resolved: self.alerts.send_resolved,
                ..Receiver::default()
            });
        }
        out.extend(self.receivers.iter().cloned());
        out
    }

    /// The addresses an email receiver sends an account's alerts to: its
    /// `to`, or for the implicit one the account's recipients.
    pub fn email_to(&self, receiver: &Receiver, account: &Account) -> Vec<String> {
        if receiver.to.is_empty() {
            self.recipients(account)
        } else {
            receiver.to.clone()
        }
    }

    /// An owner by the name `products_file` gives.
    pub fn owner(&self, name: &str) -> Option<&Owner> {
        self.owners.iter().find(|o| o.name == name)
    }
}

pub(crate) fn parse_batch(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("batch \"{s}\" is not a time HH:MM (local time in [daemon] timezone)"))
}

/// Whether a URL's host is this machine: tests and local bridges, taken
/// over plain http and with any path.
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "[::1]" || host.starts_with("127.")
}

/// What is wrong with a receiver's URL; never quotes it (it holds a key).
pub fn check_url(kind: ReceiverKind, url: &str) -> Result<(), String> {
    let Ok(u) = reqwest::Url::parse(url.trim()) else {
        return Err(format!(
            "is not a URL: put the robot's webhook address here ({})",
            kind.shape()
        ));
    };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    if is_loopback(&host) && matches!(u.scheme(), "http" | "https") {
        return Ok(());
    }
    if u.scheme() != "https" || host.is_empty() {
        return Err(format!(
            "must be an https:// URL ({}); plain http is taken only on 127.0.0.1 or localhost",
            kind.shape()
        ));
    }
    let owner = ReceiverKind::ALL
        .iter()
        .copied()
        .find(|k| k.host() == Some(host.as_str()));
    let Some(owner) = owner else {
        // A proxy or a bridge: its URL is its own business.
        return Ok(());
    };
    if owner != kind {
        return Err(format!(
            "is a {} robot's URL ({host}): set kind = \"{owner}\"",
            owner.as_str()
        ));
    }
    let segments: Vec<&str> = u.path_segments().map(|s| s.collect()).unwrap_or_default();
    let query = |k: &str| u.query_pairs().any(|(q, v)| q == k && !v.is_empty());
    let ok = match kind {
        ReceiverKind::Slack => {
            matches!(segments.as_slice(), ["services", t, b, key] if !t.is_empty() && !b.is_empty() && !key.is_empty())
        }
        ReceiverKind::Wecom => segments == ["cgi-bin", "webhook", "send"] && query("key"),
        ReceiverKind::Dingtalk => segments == ["robot", "send"] && query("access_token"),
        ReceiverKind::Feishu | ReceiverKind::Lark => {
            matches!(segments.as_slice(), ["open-apis", "bot", "v2", "hook", id] if !id.is_empty())
        }
        ReceiverKind::Webhook | ReceiverKind::Email => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "is not a {kind} robot's webhook URL: it looks like {}",
            kind.shape()
        ))
    }
}

/// Checks `[[receivers]]` and `[[owners]]`; fills in each receiver's
/// resolved URL and secret.
pub(super) fn check(c: &mut Config, env: &Env, p: &mut Problems) {
    let accounts: HashSet<String> = c.accounts.iter().map(|a| a.name.clone()).collect();
    let has_owners = !c.owners.is_empty();
    let mut names = HashSet::new();
    for (i, r) in c.receivers.iter_mut().enumerate() {
        let at = format!("receivers[{i}]");
        check_name(&at, &r.name, &mut names, p);
        let Some(kind) = r.kind else {
            p.push((
                at.clone(),
                "missing `kind`: \"slack\", \"wecom\", \"dingtalk\", \"feishu\", \"lark\", \"webhook\" or \"email\"".into(),
            ));
            continue;
        };
        let credential = |key: &str| format!("receiver.{}.{key}", r.name);
        if kind.has_url() {
            let url = resolve_secret(
                &at,
                "url",
                &credential("url"),
                r.url.as_ref(),
                &r.url_file,
                env,
                Some("missing the robot's webhook URL"),
                p,
            );
            if let Some(u) = &url {
                if let Err(e) = check_url(kind, u.expose()) {
                    let key = if r.url.is_some() { "url" } else { "url_file" };
                    p.push((format!("{at}.{key}"), e));
                }
            }
            r.resolved_url = url;
            if !r.to.is_empty() {
                p.push((
                    format!("{at}.to"),
                    format!("`to` is for kind \"email\": a {kind} receiver posts to its url"),
                ));
            }
        } else {
            for (key, set) in [("url", r.url.is_some()), ("url_file", r.url_file.is_some())] {
                if set {
                    p.push((
                        format!("{at}.{key}"),
                        "kind \"email\" has no url: it sends to `to` through [email]".into(),
                    ));
                }
            }
            if r.to.is_empty() {
                p.push((
                    at.clone(),
                    "missing `to`: the addresses this receiver emails".into(),
                ));
            }
            for (j, t) in r.to.iter().enumerate() {
                if !is_email(t) {
                    p.push((
                        format!("{at}.to[{j}]"),
                        format!("\"{t}\" is not an email address"),
                    ));
                }
            }
        }
        check_secret(&at, kind, r, env, p);
        for (j, a) in r.accounts.iter().enumerate() {
            if !accounts.contains(a) {
                p.push((
                    format!("{at}.accounts[{j}]"),
                    format!("no account is named \"{a}\""),
                ));
            }
        }
        if let Some(b) = &r.batch {
            if let Err(e) = parse_batch(b) {
                p.push((format!("{at}.batch"), e));
            }
        }
        if r.mention_owners && !kind.mentions() {
            p.push((
                format!("{at}.mention_owners"),
                format!("a {kind} receiver cannot @-mention anyone: remove mention_owners"),
            ));
        } else if r.mention_owners && !has_owners {
            p.push((
                format!("{at}.mention_owners"),
                "no [[owners]] to mention: add one per owner named in products_file (name, mobile, slack_user, feishu_user)".into(),
            ));
        }
    }
    check_owners(c, p);
}

fn check_name(at: &str, name: &str, names: &mut HashSet<String>, p: &mut Problems) {
    if name.is_empty() {
        p.push((
            at.to_string(),
            "missing `name` (shown in status and logs)".into(),
        ));
    } else if !name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        p.push((
            format!("{at}.name"),
            format!("\"{name}\" may only hold letters, digits, '-' and '_'"),
        ));
    } else if name == IMPLICIT_EMAIL {
        p.push((
            format!("{at}.name"),
            "\"email\" is the receiver [email] and alert_to make: choose another name".into(),
        ));
    } else if !names.insert(name.to_string()) {
        p.push((
            format!("{at}.name"),
            format!("receiver name \"{name}\" is used twice"),
        ));
    }
}

/// The signing secret: only for kinds that sign; DingTalk's starts
/// with "SEC" (its security settings show it so).
fn check_secret(at: &str, kind: ReceiverKind, r: &mut Receiver, env: &Env, p: &mut Problems) {
    if !kind.signs() {
        for (key, set) in [
            ("secret", r.secret.is_some()),
            ("secret_file", r.secret_file.is_some()),
        ] {
            if set {
                p.push((
                    format!("{at}.{key}"),
                    format!("a {kind} receiver signs nothing: remove `{key}` (only dingtalk, feishu and lark robots have a signing secret)"),
                ));
            }
        }
        return;
    }
    let credential = format!("receiver.{}.secret", r.name);
    let secret = resolve_secret(
        at,
        "secret",
        &credential,
        r.secret.as_ref(),
        &r.secret_file,
        env,
        None,
        p,
    );
    if kind == ReceiverKind::Dingtalk
        && secret
            .as_ref()
            .is_some_and(|s| !s.expose().starts_with("SEC"))
    {
        let key = if r.secret.is_some() {
            "secret"
        } else {
            "secret_file"
        };
        p.push((
            format!("{at}.{key}"),
            "is not a DingTalk signing secret: copy the one starting with \"SEC\" from the robot's security settings (加签)".into(),
        ));
    }
    r.resolved_secret = secret;
}

/// An owner's key, its value, what a valid one is, and what it should be.
type Check<'a> = (
    &'static str,
    &'a Option<String>,
    fn(&str) -> bool,
    &'static str,
);

fn check_owners(c: &Config, p: &mut Problems) {
    let mut names = HashSet::new();
    for (i, o) in c.owners.iter().enumerate() {
        let at = format!("owners[{i}]");
        if o.name.trim().is_empty() {
            p.push((
                at.clone(),
                "missing `name`: as the owner column of products_file writes it".into(),
            ));
        } else if !names.insert(o.name.as_str()) {
            p.push((
                format!("{at}.name"),
                format!("owner \"{}\" is listed twice", o.name),
            ));
        }
        if o.email.is_none()
            && o.mobile.is_none()
            && o.slack_user.is_none()
            && o.feishu_user.is_none()
        {
            p.push((
                at.clone(),
                "names no way to reach them: set mobile, slack_user, feishu_user or email".into(),
            ));
        }
        let checks: [Check<'_>; 4] = [
            ("email", &o.email, is_email, "an email address"),
            (
                "mobile",
                &o.mobile,
                is_mobile,
                "a mobile number (digits, an optional leading +)",
            ),
            (
                "slack_user",
                &o.slack_user,
                is_slack_user,
                "a Slack member id such as U012AB3CD (the profile's \"Copy member ID\")",
            ),
            (
                "feishu_user",
                &o.feishu_user,
                is_feishu_user,
                "a Feishu/Lark open_id such as ou_7d8a6e6df7621556ce0d21922b676706",
            ),
        ];
        for (key, value, ok, what) in checks {
            if let Some(v) = value {
                if !ok(v) {
                    p.push((format!("{at}.{key}"), format!("\"{v}\" is not {what}")));
                }
            }
        }
    }
}

fn is_mobile(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (5..=20).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '-')
        && digits.starts_with(|c: char| c.is_ascii_digit())
}

fn is_slack_user(s: &str) -> bool {
    s.len() >= 5
        && s.starts_with(['U', 'W'])
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_feishu_user(s: &str) -> bool {
    s.strip_prefix("ou_")
        .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Key paths of the receivers' secrets written inline in the file.
pub(super) fn inline_secrets(c: &Config) -> Vec<String> {
    let mut keys = Vec::new();
    for (i, r) in c.receivers.iter().enumerate() {
        for (key, set) in [("url", r.url.is_some()), ("secret", r.secret.is_some())] {
            if set {
                keys.push(format!("receivers[{i}].{key}"));
            }
        }
    }
    keys
}

#[cfg(test)]
#[path = "receivers_tests.rs"]
mod tests;
