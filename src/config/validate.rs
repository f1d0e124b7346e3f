//! Checks on a parsed config that types cannot express, and the helpers
//! that turn serde's one-at-a-time errors into a list of located problems.
//!
//! Every check returns `(key path, message)`; the caller attaches the line
//! and column. Messages are lowercase fragments that say what to do.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::rules::{range_problems, RuleId, Rules, SubjectKind};
use super::secret::{read_secret_file, Secret};
use super::{Config, Env, LwaCredentials, Security, Transport};
use crate::model::marketplace;

/// Rewrites a serde error into (full key path, message): unknown keys get
/// the key appended to the path and a "did you mean" when one is close.
pub(super) fn describe_serde_error(path: &str, message: &str) -> (String, String) {
    let path = if path == "." { "" } else { path };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        // serde_path_to_error's path already ends with the unknown key.
        let full = if path == key || path.ends_with(&format!(".{key}")) {
            path.to_string()
        } else {
            join(path, key)
        };
        let expected = backticked(rest.split_once(", expected").map_or("", |x| x.1));
        let is_rule = full == format!("rules.{key}");
        let mut msg = if is_rule {
            format!("unknown rule `{key}`")
        } else {
            format!("unknown key `{key}`")
        };
        if let Some(s) = closest(key, &expected) {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        } else if !expected.is_empty() {
            let what = if is_rule { "rules" } else { "keys here" };
            msg.push_str(&format!("; known {what}: {}", expected.join(", ")));
        }
        return (full, msg);
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or_default();
        let expected = backticked(rest.split_once(", expected").map_or("", |x| x.1));
        let mut msg = format!(
            "unknown value \"{value}\": expected one of {}",
            expected.join(", ")
        );
        if let Some(s) = closest(value, &expected) {
            msg.push_str(&format!(" (did you mean \"{s}\"?)"));
        }
        return (path.to_string(), msg);
    }
    let friendly = message
        .replace("expected u8", "expected a whole number 0-255")
        .replace("expected u16", "expected a whole number 0-65535")
        .replace("expected u32", "expected a non-negative whole number")
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a string", "expected a string (in quotes)");
    (path.to_string(), friendly)
}

/// Whether a "missing `key`" problem at `path` is about a key already in
/// `reported` (its value was refused and removed before validation).
pub(super) fn is_missing_one_of(path: &str, message: &str, reported: &[String]) -> bool {
    let Some(key) = message
        .strip_prefix("missing `")
        .and_then(|rest| rest.split('`').next())
    else {
        return false;
    };
    let full = join(path, key);
    reported.contains(&full)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn closest(word: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 1.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

enum Seg {
    Key(String),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Seg::Key(rest[..i].to_string()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(n) = stripped[..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = stripped.get(end + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

/// Removes the value at `path` so parsing can go on past it. An array
/// element is removed with its whole array (indexes of later elements
/// would otherwise shift under the locator).
pub(super) fn remove_path(tree: &mut toml::Table, path: &str) -> bool {
    let mut segs = segments(path);
    while matches!(segs.last(), Some(Seg::Index(_))) {
        segs.pop();
    }
    remove_in_table(tree, &segs)
}

fn remove_in_table(table: &mut toml::Table, segs: &[Seg]) -> bool {
    match segs {
        [] => false,
        [Seg::Key(k)] => table.remove(k).is_some(),
        [Seg::Key(k), rest @ ..] => match table.get_mut(k) {
            Some(v) => remove_in_value(v, rest),
            None => false,
        },
        [Seg::Index(_), ..] => false,
    }
}

fn remove_in_value(value: &mut toml::Value, segs: &[Seg]) -> bool {
    match (value, segs) {
        (toml::Value::Table(t), _) => remove_in_table(t, segs),
        (toml::Value::Array(a), [Seg::Index(i), rest @ ..]) => match a.get_mut(*i) {
            Some(v) if !rest.is_empty() => remove_in_value(v, rest),
            _ => false,
        },
        _ => false,
    }
}

/// Makes relative paths relative to the config file's directory.
pub(super) fn resolve_paths(c: &mut Config, base: &Path) {
    let fix = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    let fix_opt = |p: &mut Option<PathBuf>| {
        if let Some(p) = p {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    };
    fix(&mut c.daemon.database);
    fix(&mut c.email.dir);
    fix_opt(&mut c.email.password_file);
    fix_opt(&mut c.costs_file);
    fix_opt(&mut c.ratings_file);
    fix_opt(&mut c.products_file);
    for r in &mut c.receivers {
        fix_opt(&mut r.url_file);
        fix_opt(&mut r.secret_file);
    }
    for a in &mut c.accounts {
        fix_opt(&mut a.costs_file);
        fix_opt(&mut a.ratings_file);
        fix_opt(&mut a.products_file);
        if let Some(s) = &mut a.sp_api {
            fix_opt(&mut s.client_id_file);
            fix_opt(&mut s.client_secret_file);
            fix_opt(&mut s.refresh_token_file);
        }
        if let Some(s) = &mut a.ads {
            fix_opt(&mut s.client_id_file);
            fix_opt(&mut s.client_secret_file);
            fix_opt(&mut s.refresh_token_file);
        }
    }
}

pub(super) type Problems = Vec<(String, String)>;

/// Semantic checks; fills in resolved credentials and passwords.
pub(super) fn validate(c: &mut Config, env: &Env) -> Problems {
    let mut p: Problems = Vec::new();
    check_daemon(c, &mut p);
    check_accounts(c, env, &mut p);
    check_sync(c, &mut p);
    check_email(c, env, &mut p);
    if let Some(q) = &c.alerts.quiet_hours {
        if let Err(e) = super::parse_quiet_hours(q) {
            p.push(("alerts.quiet_hours".into(), e));
        }
    }
    check_rules(c, &mut p);
    check_overrides(c, &mut p);
    super::receivers::check(c, env, &mut p);
    for (key, file) in [
        ("costs_file", &c.costs_file),
        ("ratings_file", &c.ratings_file),
        ("products_file", &c.products_file),
    ] {
        check_exists(key, file.as_deref(), &mut p);
    }
    p
}

fn check_exists(key: &str, file: Option<&Path>, p: &mut Problems) {
    if let Some(f) = file {
        if !f.is_file() {
            p.push((
                key.to_string(),
                format!("file `{}` does not exist", f.display()),
            ));
        }
    }
}

fn is_http_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://"))
        && s.split("://")
            .nth(1)
            .is_some_and(|h| !h.is_empty() && !h.starts_with('/'))
}

fn check_daemon(c: &Config, p: &mut Problems) {
    let d = &c.daemon;
    if d.database.as_os_str().is_empty() {
        p.push(("daemon.database".into(), "must name the SQLite file".into()));
    }
    if let super::ClockSource::Sim(url) = &d.clock {
        if !is_http_url(url) {
            p.push((
                "daemon.clock".into(),
                format!("\"{url}\" is not an http(s) URL"),
            ));
        }
    }
    if let Some(u) = &d.heartbeat_url {
        if !is_http_url(u) {
            p.push((
                "daemon.heartbeat_url".into(),
                format!("\"{u}\" is not an http(s) URL"),
            ));
        }
    }
    if d.retention_days < 90 {
        p.push((
            "daemon.retention_days".into(),
            format!(
                "must be at least 90 (rules compare windows up to 60 days back and Ads data is restated for 45), found {}",
                d.retention_days
            ),
        ));
    }
    if d.shutdown_timeout.is_zero() {
        p.push((
            "daemon.shutdown_timeout".into(),
            "must be longer than 0s".into(),
        ));
    }
}

/// A plausible email address (what lettre will accept is checked when sending).
pub(crate) fn is_email(s: &str) -> bool {
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    !s.contains(['\r', '\n'])
        && addr.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && !d.is_empty()
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !d.contains('@')
        })
        && !addr.contains(char::is_whitespace)
}

fn check_accounts(c: &mut Config, env: &Env, p: &mut Problems) {
    if c.accounts.is_empty() {
        p.push((
            "accounts".into(),
            "no [[accounts]]: add one with name, region, marketplaces and credentials".into(),
        ));
    }
    let mut names = HashSet::new();
    for (i, a) in c.accounts.iter_mut().enumerate() {
        let at = format!("accounts[{i}]");
        if a.name.is_empty() {
            p.push((
                at.clone(),
                "missing `name` (used in alerts and as the account's id)".into(),
            ));
        } else if !a
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            p.push((
                format!("{at}.name"),
                format!("\"{}\" may only hold letters, digits, '-' and '_'", a.name),
            ));
        } else if !names.insert(a.name.clone()) {
            p.push((
                format!("{at}.name"),
                format!("account name \"{}\" is used twice", a.name),
            ));
        }
        if a.seller_id.as_deref().is_some_and(is_placeholder) {
            p.push((
                format!("{at}.seller_id"),
                format!("{PLACEHOLDER}: put your merchant token here (Seller Central > Settings > Account Info > Merchant Token), or leave the key out (the listings job then does not run)"),
            ));
        }
        let region = match a.region {
            Some(r) => Some(r),
            None => {
                p.push((
                    at.clone(),
                    "missing `region`: \"na\", \"eu\" or \"fe\"".into(),
                ));
                None
            }
        };
        if a.marketplaces.is_empty() {
            p.push((
                at.clone(),
                "missing `marketplaces`: e.g. [\"US\"] or [\"ATVPDKIKX0DER\"]".into(),
            ));
        }
        let mut seen = HashSet::new();
        for (j, m) in a.marketplaces.iter().enumerate() {
            let mpath = format!("{at}.marketplaces[{j}]");
            match marketplace::lookup(m) {
                None => p.push((
                    mpath,
                    format!(
                        "unknown marketplace \"{m}\": use an Amazon marketplace id such as \"ATVPDKIKX0DER\" or a country code such as \"US\""
                    ),
                )),
                Some(mp) => {
                    if let Some(r) = region {
                        if mp.region != r {
                            p.push((
                                mpath.clone(),
                                format!(
                                    "marketplace {} ({}) is in region \"{}\", but the account's region is \"{r}\"",
                                    mp.country, mp.id, mp.region
                                ),
                            ));
                        }
                    }
                    if !seen.insert(mp.id) {
                        p.push((mpath, format!("marketplace {} is listed twice", mp.country)));
                    }
                }
            }
        }
        for (j, r) in a.alert_to.iter().enumerate() {
            if !is_email(r) {
                p.push((
                    format!("{at}.alert_to[{j}]"),
                    format!("\"{r}\" is not an email address"),
                ));
            }
        }
        for (key, file) in [
            ("costs_file", &a.costs_file),
            ("ratings_file", &a.ratings_file),
            ("products_file", &a.products_file),
        ] {
            check_exists(&format!("{at}.{key}"), file.as_deref(), p);
        }
        if a.sp_api.is_none() && a.ads.is_none() {
            p.push((
                at.clone(),
                "neither [accounts.sp_api] nor [accounts.ads] is set: nothing to sync".into(),
            ));
        }
        let name = a.name.clone();
        // `[accounts.sp_api]` and `[accounts.ads]` are two types with the
        // same credential and URL keys: one check for both.
        macro_rules! check_api {
            ($s:expr, $api:literal) => {{
                let s = &mut *$s;
                let sources = CredentialSources {
                    client_id: (&s.client_id, &s.client_id_file),
                    client_secret: (&s.client_secret, &s.client_secret_file),
                    refresh_token: (&s.refresh_token, &s.refresh_token_file),
                };
                let at = format!("{at}.{}", $api);
                s.credentials = resolve_credentials(&at, &name, $api, sources, env, p);
                check_urls(&at, &s.endpoint, &s.token_url, p);
            }};
        }
        if let Some(s) = &mut a.sp_api {
            check_api!(s, "sp_api");
        }
        if let Some(s) = &mut a.ads {
            check_api!(s, "ads");
            for (j, id) in s.profile_ids.iter().enumerate() {
                if *id <= 0 {
                    p.push((
                        format!("{at}.ads.profile_ids[{j}]"),
                        format!("profile id {id} must be positive"),
                    ));
                }
            }
            for (j, t) in s.account_types.iter().enumerate() {
                if !["seller", "vendor", "agency"].contains(&t.as_str()) {
                    p.push((
                        format!("{at}.ads.account_types[{j}]"),
                        format!("unknown account type \"{t}\": expected \"seller\", \"vendor\" or \"agency\""),
                    ));
                }
            }
        }
    }
}

fn check_urls(at: &str, endpoint: &Option<String>, token_url: &Option<String>, p: &mut Problems) {
    for (k, v) in [("endpoint", endpoint), ("token_url", token_url)] {
        if let Some(u) = v {
            if !is_http_url(u) {
                p.push((
                    format!("{at}.{k}"),
                    format!("\"{u}\" is not an http(s) URL"),
                ));
            }
        }
    }
}

struct CredentialSources<'a> {
    client_id: (&'a Option<String>, &'a Option<PathBuf>),
    client_secret: (&'a Option<Secret>, &'a Option<PathBuf>),
    refresh_token: (&'a Option<Secret>, &'a Option<PathBuf>),
}

/// One secret from its inline value, its `*_file`, or
/// `$CREDENTIALS_DIRECTORY/<credential_name>`. When none is there,
/// `missing` starts the problem (an optional secret passes `None`).
#[allow(clippy::too_many_arguments)]
pub(super) fn resolve_secret(
    at: &str,
    key: &str,
    credential_name: &str,
    inline: Option<&Secret>,
    file: &Option<PathBuf>,
    env: &Env,
    missing: Option<&str>,
    p: &mut Problems,
) -> Option<Secret> {
    match (inline, file) {
        (Some(_), Some(_)) => {
            p.push((
                format!("{at}.{key}"),
                format!("set either `{key}` or `{key}_file`, not both"),
            ));
            None
        }
        (Some(s), None) => {
            if s.expose().is_empty() {
                p.push((format!("{at}.{key}"), "is empty".into()));
                None
            } else if is_placeholder(s.expose()) {
                p.push((format!("{at}.{key}"), placeholder_fix(key, credential_name)));
                None
            } else {
                Some(s.clone())
            }
        }
        (None, Some(f)) => match read_secret_file(f) {
            Ok(s) => Some(s),
            Err(e) => {
                p.push((format!("{at}.{key}_file"), e.message(f)));
                None
            }
        },
        (None, None) => {
            if let Some(dir) = &env.credentials_directory {
                let f = dir.join(credential_name);
                if f.exists() {
                    // systemd makes these files readable by the service only.
                    return match std::fs::read_to_string(&f) {
                        Ok(v) if !v.trim().is_empty() => {
                            Some(Secret::new(v.trim_end_matches(['\r', '\n'])))
                        }
                        Ok(_) => {
                            p.push((
                                at.to_string(),
                                format!("credential `{}` is empty", f.display()),
                            ));
                            None
                        }
                        Err(e) => {
                            p.push((
                                at.to_string(),
                                format!("cannot read credential `{}`: {e}", f.display()),
                            ));
                            None
                        }
                    };
                }
            }
            if let Some(missing) = missing {
                p.push((
                    at.to_string(),
                    format!(
                        "{missing}: set `{key}`, `{key}_file`, or provide `{credential_name}` in $CREDENTIALS_DIRECTORY (systemd LoadCredential=)"
                    ),
                ));
            }
            None
        }
    }
}

/// What the example config (`print-default-config`) writes where a real
/// value belongs: "replace-me" secrets, "EXAMPLE" ids. No LWA client id,
/// secret or token and no merchant token contains either.
pub fn is_placeholder(value: &str) -> bool {
    value.to_ascii_lowercase().contains("replace-me") || value.contains("EXAMPLE")
}

/// The start of the problem a placeholder value is (`flywheel auth`
/// tolerates it for the refresh token it is about to obtain).
pub const PLACEHOLDER: &str = "is the example config's placeholder";

/// What to put in place of a placeholder `key`, whose credential name is
/// `<account>.<sp_api|ads>.<key>`.
fn placeholder_fix(key: &str, credential_name: &str) -> String {
    if credential_name.starts_with("receiver.") {
        let what = if key == "url" {
            "the robot's webhook URL"
        } else {
            "the robot's signing secret"
        };
        return format!("{PLACEHOLDER}: put {what} here, or set `{key}_file` instead");
    }
    let mut parts = credential_name.splitn(3, '.');
    let (account, api) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (command, where_) = match api {
        "ads" => (
            "ads",
            "the Login with Amazon security profile of your Ads API access",
        ),
        _ => (
            "sp",
            "Seller Central > Apps and Services > Develop Apps > View LWA credentials",
        ),
    };
    let what = match key {
        "refresh_token" => {
            format!("run `flywheel auth {command} --account {account}` to obtain and store one")
        }
        _ => format!("put your app's {key} here ({where_}), or set `{key}_file` instead"),
    };
    format!("{PLACEHOLDER}: {what}")
}

fn resolve_credentials(
    at: &str,
    account: &str,
    api: &str,
    s: CredentialSources<'_>,
    env: &Env,
    p: &mut Problems,
) -> Option<LwaCredentials> {
    let name = |k: &str| format!("{account}.{api}.{k}");
    let client_id_inline = s.client_id.0.as_ref().map(|v| Secret::new(v.clone()));
    // Each key from its inline value, its file or the credentials directory.
    let [client_id, client_secret, refresh_token] = [
        ("client_id", client_id_inline.as_ref(), s.client_id.1),
        (
            "client_secret",
            s.client_secret.0.as_ref(),
            s.client_secret.1,
        ),
        (
            "refresh_token",
            s.refresh_token.0.as_ref(),
            s.refresh_token.1,
        ),
    ]
    .map(|(key, inline, file)| {
        let missing = Some("missing credentials");
        resolve_secret(at, key, &name(key), inline, file, env, missing, p)
    });
    Some(LwaCredentials {
        client_id: client_id?.expose().to_string(),
        client_secret: client_secret?,
        refresh_token: refresh_token?,
    })
}

fn check_sync(c: &Config, p: &mut Problems) {
    let s = &c.sync;
    if s.attribution_days != 7 && s.attribution_days != 14 {
        p.push((
            "sync.attribution_days".into(),
            format!(
                "must be 7 or 14 (the Sponsored Products attribution windows), found {}",
                s.attribution_days
            ),
        ));
    }
    if s.report_budget_per_hour == 0 || s.report_budget_per_hour > 60 {
        p.push((
            "sync.report_budget_per_hour".into(),
            format!(
                "must be 1-60: Amazon's createReport allows 0.0167 requests per second (60 an hour) per account, found {}",
                s.report_budget_per_hour
            ),
        ));
    }
    if s.ads_repull_days == 0 || s.ads_repull_days > 60 {
        p.push((
            "sync.ads_repull_days".into(),
            format!(
                "must be 1-60 (Amazon keeps about 60 days of Sponsored Products reports), found {}",
                s.ads_repull_days
            ),
        ));
    }
    if s.max_document_mib == 0 || s.max_document_mib > 1 << 20 {
        p.push((
            "sync.max_document_mib".into(),
            format!(
                "must be 1-1048576 (MiB of a decompressed report document), found {}",
                s.max_document_mib
            ),
        ));
    }
    if s.sales_traffic_reread_days > 30 {
        p.push((
            "sync.sales_traffic_reread_days".into(),
            format!("must be 0-30, found {}", s.sales_traffic_reread_days),
        ));
    }
    if s.orders_history_days == 0 || s.orders_history_days > 730 {
        p.push((
            "sync.orders_history_days".into(),
            format!(
                "must be 1-730 (the orders report reaches two years back), found {}",
                s.orders_history_days
            ),
        ));
    }
    if s.max_attempts == 0 {
        p.push(("sync.max_attempts".into(), "must be at least 1".into()));
    }
    if s.max_pages == 0 {
        p.push(("sync.max_pages".into(), "must be at least 1".into()));
    }
    if s.max_run_time.is_zero() {
        p.push(("sync.max_run_time".into(), "must be longer than 0s".into()));
    }
    if s.request_timeout.is_zero() {
        p.push((
            "sync.request_timeout".into(),
            "must be longer than 0s".into(),
        ));
    }
    if s.orders_overlap > s.orders_backfill_gap {
        p.push((
            "sync.orders_overlap".into(),
            "is longer than sync.orders_backfill_gap: every run would backfill from the report"
                .into(),
        ));
    }
}

fn check_email(c: &mut Config, env: &Env, p: &mut Problems) {
    let e = &mut c.email;
    if !is_email(&e.from) {
        p.push((
            "email.from".into(),
            format!("\"{}\" is not an email address", e.from),
        ));
    }
    for (j, r) in e.to.iter().enumerate() {
        if !is_email(r) {
            p.push((
                format!("email.to[{j}]"),
                format!("\"{r}\" is not an email address"),
            ));
        }
    }
    if e.to.is_empty() {
        for (i, a) in c.accounts.iter().enumerate() {
            // An account a `[[receivers]]` entry hears about needs no email.
            let received = c.receivers.iter().any(|r| r.serves(&a.name));
            if a.alert_to.is_empty() && !a.name.is_empty() && !received {
                p.push((
                    format!("accounts[{i}].alert_to"),
                    format!("no recipients for account \"{}\": set [email] to or the account's alert_to", a.name),
                ));
            }
        }
    }
    if e.port == Some(0) {
        p.push(("email.port".into(), "must be 1-65535".into()));
    }
    match e.transport {
        Transport::Smtp => {
            let host = e.host.clone().unwrap_or_default();
            if host.is_empty() {
                p.push(("email".into(), "transport \"smtp\" needs `host`".into()));
            }
            let has_password =
                e.password.is_some() || e.password_file.is_some() || e.username.is_some();
            if has_password {
                e.resolved_password = resolve_secret(
                    "email",
                    "password",
                    "email.password",
                    e.password.as_ref(),
                    &e.password_file,
                    env,
                    Some("missing credentials"),
                    p,
                );
                if e.username.is_none() {
                    p.push(("email".into(), "a password is set but no `username`".into()));
                }
            }
            let local = host == "localhost" || host.starts_with("127.") || host == "::1";
            if has_password && e.security == Security::None && !local {
                p.push((
                    "email.security".into(),
                    format!("\"none\" would send the SMTP password unencrypted to {host}: use \"starttls\" or \"tls\""),
                ));
            }
        }
        Transport::Sendmail => {
            if !e.sendmail_command.is_absolute() {
                p.push((
                    "email.sendmail_command".into(),
                    "must be an absolute path".into(),
                ));
            }
        }
        Transport::File => {
            if e.dir.as_os_str().is_empty() {
                p.push(("email.dir".into(), "transport \"file\" needs `dir`".into()));
            }
        }
    }
}

fn check_rules(c: &Config, p: &mut Problems) {
    for id in RuleId::ALL {
        for (key, msg) in range_problems(*id, &c.rules.table(*id)) {
            p.push((format!("rules.{id}.{key}"), msg));
        }
    }
}

fn check_overrides(c: &Config, p: &mut Problems) {
    let accounts: HashSet<&str> = c.accounts.iter().map(|a| a.name.as_str()).collect();
    for (i, o) in c.overrides.iter().enumerate() {
        let at = format!("overrides[{i}]");
        let Some(id) = RuleId::parse(&o.rule) else {
            let known: Vec<String> = RuleId::ALL.iter().map(|r| r.as_str().to_string()).collect();
            let hint = closest(&o.rule, &known)
                .map(|s| format!(" (did you mean \"{s}\"?)"))
                .unwrap_or_default();
            if o.rule.is_empty() {
                p.push((at, "missing `rule`: the id of the rule to change".into()));
            } else {
                p.push((
                    format!("{at}.rule"),
                    format!("unknown rule \"{}\"{hint}", o.rule),
                ));
            }
            continue;
        };
        if let Some(a) = &o.account {
            if !accounts.contains(a.as_str()) {
                p.push((
                    format!("{at}.account"),
                    format!("no account is named \"{a}\""),
                ));
            }
        }
        if let Some(m) = &o.marketplace {
            if marketplace::lookup(m).is_none() {
                p.push((
                    format!("{at}.marketplace"),
                    format!("unknown marketplace \"{m}\""),
                ));
            }
        }
        let allowed: &[&str] = match id.subject() {
            SubjectKind::Marketplace => &[],
            SubjectKind::Asin | SubjectKind::AsinSearchTerm => &["asin"],
            SubjectKind::Sku => &["sku", "asin"],
            SubjectKind::Campaign | SubjectKind::CampaignSearchTerm => &["campaign"],
        };
        let set: Vec<&str> = [
            ("sku", &o.sku),
            ("asin", &o.asin),
            ("campaign", &o.campaign),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k)
        .collect();
        for k in &set {
            if !allowed.contains(k) {
                let what = if allowed.is_empty() {
                    "account and marketplace only".to_string()
                } else {
                    allowed.join(" or ")
                };
                p.push((
                    format!("{at}.{k}"),
                    format!("rule {id} is not per {k}: select by {what}"),
                ));
            }
        }
        if set.len() > 1 {
            p.push((
                at.clone(),
                format!("select one subject, not {}", set.join(" and ")),
            ));
        }
        if o.settings.is_empty() {
            p.push((
                at.clone(),
                format!("changes nothing: add the rule {id} keys to override"),
            ));
            continue;
        }
        let mut table = c.rules.table(id);
        table.extend(o.settings.clone());
        if let Err((path, msg)) = Rules::check_table(id, table.clone()) {
            let (key_path, msg) = describe_serde_error(&path, msg.trim());
            p.push((
                format!("{at}.{key_path}"),
                msg.replace("unknown key", &format!("rule {id} has no key")),
            ));
            continue;
        }
        for (key, msg) in range_problems(id, &table) {
            p.push((format!("{at}.{key}"), msg));
        }
    }
}
