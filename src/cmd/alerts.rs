//! `flywheel alerts`, `ack` and `silence`: what a seller or an agency uses
//! to see what is open and to mute what they are already handling, each
//! mute with an expiry (so nothing stays muted forever by accident) and a
//! note (so a colleague knows why). What they print for a person is in
//! the reader's language (`check::text_lang`); `--format json` and `csv`
//! are not.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{Format, RecordFormat};
use crate::alert::state::{short_id, Alert, State};
use crate::config::{Config, RuleId};
use crate::i18n::text::{pad, subject_label, subject_words, width};
use crate::i18n::{self, tr, tr_args, Lang};
use crate::store;

/// `flywheel alerts` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertsArgs {
    /// Include resolved alerts.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RecordFormat,
}

/// `flywheel ack` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct AckArgs {
    /// The alert's short id (from `flywheel alerts` or the email), or more
    /// of its fingerprint.
    pub id: String,
    /// How long to mute its repeats (e.g. 3d, 12h).
    #[arg(long = "for", value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    #[arg(long)]
    pub note: Option<String>,
    /// End the acknowledgement in force for this alert now (its repeats
    /// notify again when due).
    #[arg(long, conflicts_with_all = ["duration", "note"])]
    pub undo: bool,
}

/// `flywheel silence` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SilenceArgs {
    /// The rule to mute (an id from `flywheel check`, or '*' for every rule).
    #[arg(long, value_name = "ID", required_unless_present = "expire")]
    pub rule: Option<String>,
    #[arg(long, value_name = "ASIN")]
    pub asin: Option<String>,
    #[arg(long, value_name = "SKU")]
    pub sku: Option<String>,
    #[arg(long, value_name = "ID")]
    pub campaign: Option<i64>,
    /// Only this account.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration,
          required_unless_present = "expire")]
    pub duration: Option<std::time::Duration>,
    #[arg(long)]
    pub note: Option<String>,
    /// End silence ID (from `flywheel silences`) now instead; the alerts it
    /// covered notify again when due.
    #[arg(long, value_name = "ID",
          conflicts_with_all = ["rule", "asin", "sku", "campaign", "account", "duration", "note"])]
    pub expire: Option<i64>,
}

/// `flywheel silences` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SilencesArgs {
    /// Include silences that have ended (expired or ended early).
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("\"{s}\" is not a duration like 12h or 7d: {e}"))?;
    if d.is_zero() {
        return Err("the duration must be longer than 0".into());
    }
    if d > std::time::Duration::from_secs(366 * 86400) {
        return Err("at most a year: a mute should end and be looked at again".into());
    }
    Ok(d)
}

/// Who ran the command (for the note's author).
fn operator() -> Option<String> {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .ok()
        .filter(|s| !s.is_empty())
}

/// The name of an alert's product or campaign: `None` for a marketplace,
/// `Some(None)` when not known.
fn subject_name<'a>(
    names: &'a super::check::AccountNames,
    a: &'a Alert,
) -> Option<Option<&'a str>> {
    let key = |k: &str| a.labels.get(k).and_then(Value::as_str);
    crate::rules::render::subject_name(names, &a.account, key)
}

/// `flywheel alerts`.
pub async fn list(cfg: &Config, args: &AlertsArgs) -> anyhow::Result<String> {
    let super::Opened { conn, now, .. } = super::open(cfg).await?;
    let mut list = store::alerts::list(&conn, args.all)?;
    // LAST NOTIFIED: when an email about it was delivered, not queued.
    let delivered = store::outbox::last_delivered(&conn)?;
    for a in &mut list {
        a.last_notified_at = delivered.get(&a.fingerprint).copied();
    }
    let names = super::check::account_names(&conn, cfg)?;
    let silences = store::alerts::silences(&conn, now)?;
    let mut rows = Vec::new();
    for a in &list {
        let ack = store::alerts::ack_in_force(&conn, &a.fingerprint, now)?;
        let silenced = silences.iter().find(|s| s.matches(a.rule, &a.labels));
        rows.push((a, ack, silenced.map(|s| s.expires_at)));
    }
    let fmt = |t: Option<DateTime<Utc>>| t.map(store::ops::ts);
    if args.format != RecordFormat::Table {
        let v: Vec<Value> = rows
            .iter()
            .map(|(a, ack, sil)| {
                let mut o = json!({
                    "id": a.short_id(),
                    "fingerprint": a.fingerprint,
                    "rule": a.rule.as_str(),
                    "state": a.state.as_str(),
                    "severity": a.severity.as_str(),
                    "labels": a.labels,
                    "value": a.value,
                    "threshold": a.threshold,
                    "since": store::ops::ts(a.firing_since.unwrap_or(a.started_at)),
                    "resolved_at": fmt(a.resolved_at),
                    "last_notified_at": fmt(a.last_notified_at),
                    "notify_count": a.notify_count,
                    "acked_until": fmt(*ack),
                    "silenced_until": fmt(*sil),
                    "summary": a.last_finding.get("summary"),
                });
                if let Some(m) = o.as_object_mut() {
                    m.retain(|_, v| !v.is_null());
                    // A product or campaign has a name, null when unknown.
                    if let Some(name) = subject_name(&names, a) {
                        m.insert("name".into(), name.into());
                    }
                }
                o
            })
            .collect();
        if args.format == RecordFormat::Csv {
            return super::records::csv(&[("at", store::ops::ts(now).into())], &v, &["labels"]);
        }
        let mut s =
            serde_json::to_string_pretty(&json!({ "at": store::ops::ts(now), "alerts": v }))?;
        s.push('\n');
        return Ok(s);
    }
    let lang = super::check::text_lang(cfg, None);
    Ok(table(lang, cfg.daemon.timezone, &rows, &names, args.all))
}

/// An alert in the table: the alert, its ack's end and its silence's end.
type Row<'a> = (&'a Alert, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A rule in a table or a confirmation: its id in English (what `--rule`
/// takes), its title in other languages.
fn rule_words(lang: Lang, rule: RuleId) -> String {
    match lang {
        Lang::En => rule.as_str().to_string(),
        _ => i18n::rule_title(lang, rule),
    }
}

/// The `alerts` table in `lang`, times in `tz`, columns padded by display
/// width. Pure.
fn table(
    lang: Lang,
    tz: chrono_tz::Tz,
    rows: &[Row<'_>],
    names: &super::check::AccountNames,
    all: bool,
) -> String {
    if rows.is_empty() {
        let id = if all {
            "cli-no-alerts-yet"
        } else {
            "cli-no-open-alerts"
        };
        return format!("{}\n", tr(lang, id));
    }
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let until = |id: &str, t: DateTime<Utc>| tr_args(lang, id, &[("time", local(t).into())]);
    let mut table = vec![[
        "id",
        "state",
        "severity",
        "rule",
        "account",
        "subject",
        "since",
        "last-notified",
        "muted",
    ]
    .map(|c| tr(lang, &format!("cli-col-{c}")))
    .to_vec()];
    // An account in several marketplaces: each product's subject says which
    // (the same SKU out of stock in the UK and in Germany is two rows).
    let several =
        crate::model::alert::accounts_in_several_marketplaces(rows.iter().map(|(a, _, _)| *a));
    for (a, ack, sil) in rows {
        let key = |k: &str| a.labels.get(k).and_then(Value::as_str);
        let mut label = subject_label(lang, key);
        if several.contains(a.account.as_str())
            && crate::i18n::text::subject_words(lang, key).is_some()
        {
            let market = subject_label(lang, |k| (k == "marketplace").then(|| key(k)).flatten());
            label = format!("{market} · {label}");
        }
        table.push(vec![
            a.short_id().to_string(),
            tr(lang, &format!("cli-state-{}", a.state.as_str())),
            i18n::severity(lang, a.severity),
            rule_words(lang, a.rule),
            a.account.clone(),
            match subject_name(names, a).flatten() {
                Some(name) => format!("{label} · {name}"),
                None => label,
            },
            local(match a.state {
                State::Resolved => a.resolved_at.unwrap_or(a.started_at),
                _ => a.firing_since.unwrap_or(a.started_at),
            }),
            a.last_notified_at.map(local).unwrap_or_else(|| "-".into()),
            match (ack, sil) {
                (_, Some(t)) => until("cli-silenced-until", *t),
                (Some(t), None) => until("cli-acked-until", *t),
                _ => "-".into(),
            },
        ]);
    }
    columns(&table, lang, tz)
}

/// A mute's end as `ack` and `silence` print it, in `tz`.
fn minute(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// Why `ack` or `silence` refused.
#[derive(Debug, thiserror::Error)]
pub enum MuteError {
    #[error("no alert has the id \"{0}\" (see `flywheel alerts --all`)")]
    NotFound(String),
    #[error("\"{0}\" matches {1} alerts: give more characters of the fingerprint ({2})")]
    Ambiguous(String, usize, String),
    #[error("unknown rule \"{0}\"; rules: {1}")]
    UnknownRule(String, String),
    #[error("unknown account \"{0}\"; accounts: {1}")]
    UnknownAccount(String, String),
}

/// The one alert whose fingerprint starts with `id` (a short id).
fn find_alert(conn: &rusqlite::Connection, id: &str) -> anyhow::Result<Alert> {
    let mut found = store::alerts::find_by_prefix(conn, id.trim())?;
    match found.len() {
        0 => Err(MuteError::NotFound(id.to_string()).into()),
        1 => Ok(found.remove(0)),
        n => {
            let ids: Vec<&str> = found
                .iter()
                .take(5)
                .map(|a| a.fingerprint.as_str())
                .collect();
            Err(MuteError::Ambiguous(id.to_string(), n, ids.join(", ")).into())
        }
    }
}

/// `flywheel ack` (and `ack --undo`).
pub async fn ack(cfg: &Config, args: &AckArgs) -> anyhow::Result<String> {
    if args.undo {
        return undo_ack(cfg, &args.id).await;
    }
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    let a = &find_alert(&conn, &args.id)?;
    let until = now + chrono::Duration::from_std(args.duration)?;
    let by = operator();
    let tx = conn.transaction()?;
    store::alerts::ack(
        &tx,
        &a.fingerprint,
        until,
        args.note.as_deref(),
        by.as_deref(),
        now,
    )?;
    // Acknowledging an unanswered-feedback alert marks that feedback handled,
    // so the response-SLA rule stops counting it (the seller answered it
    // elsewhere, or decided it needs no answer).
    let mut handled = 0;
    if a.rule == RuleId::FeedbackResponseSla {
        let orders: Vec<String> = a
            .last_finding
            .pointer("/evidence/order_ids")
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(|o| o.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(mp) = a.marketplace.as_deref() {
            handled = store::alerts::acknowledge_feedback(
                &tx,
                &a.account,
                mp,
                &orders,
                args.note.as_deref(),
                by.as_deref(),
                now,
            )?;
        }
    }
    tx.commit()?;
    let tz = cfg.daemon.timezone;
    let lang = super::check::text_lang(cfg, Some(&a.account));
    let key = |k: &str| a.labels.get(k).and_then(Value::as_str);
    let mut s = tr_args(
        lang,
        "cli-acknowledged",
        &[
            ("id", short_id(&a.fingerprint).into()),
            ("rule", rule_words(lang, a.rule).into()),
            ("account", a.account.as_str().into()),
            ("subject", subject_label(lang, key).into()),
            ("time", minute(until, tz).into()),
            ("zone", tz.name().into()),
        ],
    );
    if handled > 0 {
        s.push_str(&tr_args(
            lang,
            "cli-feedback-handled",
            &[("n", handled.to_string().into()), ("count", handled.into())],
        ));
    }
    s.push('\n');
    Ok(s)
}

/// Checks `silence` arguments against the config (before opening anything).
pub fn validate_silence(cfg: &Config, args: &SilenceArgs) -> Result<(), MuteError> {
    if let Some(rule) = args.rule.as_deref().filter(|r| *r != "*") {
        if RuleId::parse(rule).is_none() {
            let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
            return Err(MuteError::UnknownRule(rule.to_string(), known.join(", ")));
        }
    }
    if let Some(a) = &args.account {
        if !cfg.accounts.iter().any(|x| &x.name == a) {
            let known: Vec<&str> = cfg.accounts.iter().map(|x| x.name.as_str()).collect();
            return Err(MuteError::UnknownAccount(a.clone(), known.join(", ")));
        }
    }
    Ok(())
}

/// `flywheel silence` (and `silence --expire`).
pub async fn silence(cfg: &Config, args: &SilenceArgs) -> anyhow::Result<String> {
    if let Some(id) = args.expire {
        return expire_silence(cfg, id).await;
    }
    validate_silence(cfg, args)?;
    let (Some(rule), Some(duration)) = (&args.rule, args.duration) else {
        anyhow::bail!("`flywheel silence` needs --rule and --for (or --expire ID)");
    };
    let super::Opened { conn, now, .. } = super::open(cfg).await?;
    let until = now + chrono::Duration::from_std(duration)?;
    let s = store::alerts::Silence {
        id: 0,
        rule: rule.clone(),
        account: args.account.clone(),
        marketplace: None,
        asin: args.asin.clone(),
        sku: args.sku.clone(),
        campaign_id: args.campaign,
        search_term: None,
        expires_at: until,
        note: args.note.clone(),
    };
    let id = store::alerts::add_silence(&conn, &s, operator().as_deref(), now)?;
    let open = covered(&conn, &s)?;
    let lang = super::check::text_lang(cfg, args.account.as_deref());
    let tz = cfg.daemon.timezone;
    let mut out = tr_args(
        lang,
        "cli-silenced",
        &[
            ("id", id.to_string().into()),
            ("what", silence_what(lang, &s).into()),
            ("time", minute(until, tz).into()),
            ("zone", tz.name().into()),
            ("n", open.to_string().into()),
            ("count", open.into()),
        ],
    );
    out.push('\n');
    Ok(out)
}

/// How many open alerts `s` covers.
fn covered(conn: &rusqlite::Connection, s: &store::alerts::Silence) -> anyhow::Result<usize> {
    Ok(store::alerts::list(conn, false)?
        .iter()
        .filter(|a| s.matches(a.rule, &a.labels))
        .count())
}

/// A silence's rule in `lang`: its id in English, its title in other
/// languages, '*' as every rule; a rule this version does not know as
/// stored.
fn silence_rule(lang: Lang, s: &store::alerts::Silence) -> String {
    match (s.rule.as_str(), RuleId::parse(&s.rule)) {
        ("*", _) => tr(lang, "cli-silences-every-rule"),
        (_, Some(r)) => rule_words(lang, r),
        (other, None) => other.to_string(),
    }
}

/// A silence's matchers in `lang` (account, marketplace, then the subject's
/// keys), each a phrase; empty when it matches every subject.
fn silence_matchers(lang: Lang, s: &store::alerts::Silence) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(a) = &s.account {
        out.push(tr_args(
            lang,
            "cli-silence-account",
            &[("account", a.into())],
        ));
    }
    if let Some(m) = s.marketplace.as_deref() {
        out.push(subject_label(lang, |k| (k == "marketplace").then_some(m)));
    }
    let campaign = s.campaign_id.map(|c| c.to_string());
    for (k, v) in [
        ("asin", s.asin.as_deref()),
        ("sku", s.sku.as_deref()),
        ("campaign_id", campaign.as_deref()),
        ("search_term", s.search_term.as_deref()),
    ] {
        if let Some(v) = v {
            out.extend(subject_words(lang, |x| (x == k).then_some(v)));
        }
    }
    out
}

/// What a silence mutes, as `silence` and `silence --expire` say it:
/// "rule stockout_risk, sku FW-SPATULA-01".
fn silence_what(lang: Lang, s: &store::alerts::Silence) -> String {
    let mut what = vec![match RuleId::parse(&s.rule) {
        Some(r) => tr_args(
            lang,
            "cli-silence-rule",
            &[("rule", rule_words(lang, r).into())],
        ),
        None if s.rule == "*" => tr(lang, "cli-silence-every-rule"),
        None => s.rule.clone(),
    }];
    what.extend(silence_matchers(lang, s));
    what.join(&tr(lang, "list-separator"))
}

/// Why `silence --expire` refused.
#[derive(Debug, thiserror::Error)]
#[error("no silence has the id {0} (see `flywheel silences --all`)")]
pub struct NoSuchSilence(i64);

/// `flywheel silence --expire ID`: ends the silence now, keeping its row
/// (its expiry becomes now). The alerts it covered notify again as the
/// next round sees fit: a repeat when its interval has passed.
pub async fn expire_silence(cfg: &Config, id: i64) -> anyhow::Result<String> {
    let super::Opened { conn, now, .. } = super::open(cfg).await?;
    let Some(rec) = store::alerts::silence_record(&conn, id)? else {
        return Err(NoSuchSilence(id).into());
    };
    let s = &rec.silence;
    let lang = super::check::text_lang(cfg, s.account.as_deref());
    let tz = cfg.daemon.timezone;
    let mut out = if store::alerts::expire_silence(&conn, id, now)? {
        let open = covered(&conn, s)?;
        tr_args(
            lang,
            "cli-silence-expired",
            &[
                ("id", id.to_string().into()),
                ("what", silence_what(lang, s).into()),
                ("time", minute(s.expires_at, tz).into()),
                ("zone", tz.name().into()),
                ("n", open.to_string().into()),
                ("count", open.into()),
            ],
        )
    } else {
        tr_args(
            lang,
            "cli-silence-already-ended",
            &[
                ("id", id.to_string().into()),
                ("time", minute(s.expires_at, tz).into()),
                ("zone", tz.name().into()),
            ],
        )
    };
    out.push('\n');
    Ok(out)
}

/// `flywheel ack --undo ID`: ends the alert's acknowledgements in force
/// now, keeping their rows; on a feedback alert, the feedback those acks
/// marked handled is unhandled again (see
/// `store::alerts::unacknowledge_feedback` for why exactly those rows).
pub async fn undo_ack(cfg: &Config, id: &str) -> anyhow::Result<String> {
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    let a = find_alert(&conn, id)?;
    let tx = conn.transaction()?;
    let ended = store::alerts::end_acks(&tx, &a.fingerprint, now)?;
    let mut unhandled = 0;
    if a.rule == RuleId::FeedbackResponseSla {
        if let Some(mp) = a.marketplace.as_deref() {
            for ack in &ended {
                unhandled += store::alerts::unacknowledge_feedback(&tx, &a.account, mp, ack)?;
            }
        }
    }
    tx.commit()?;
    let tz = cfg.daemon.timezone;
    let lang = super::check::text_lang(cfg, Some(&a.account));
    let key = |k: &str| a.labels.get(k).and_then(Value::as_str);
    let mut args = vec![
        ("id", short_id(&a.fingerprint).into()),
        ("rule", rule_words(lang, a.rule).into()),
        ("account", a.account.as_str().into()),
        ("subject", subject_label(lang, key).into()),
    ];
    let Some(until) = ended.iter().map(|x| x.expires_at).max() else {
        return Ok(format!("{}\n", tr_args(lang, "cli-ack-none", &args)));
    };
    args.extend([
        ("time", minute(until, tz).into()),
        ("zone", tz.name().into()),
    ]);
    let mut s = tr_args(lang, "cli-ack-undone", &args);
    if unhandled > 0 {
        s.push_str(&tr_args(
            lang,
            "cli-feedback-unhandled",
            &[
                ("n", unhandled.to_string().into()),
                ("count", unhandled.into()),
            ],
        ));
    }
    s.push('\n');
    Ok(s)
}

/// `flywheel silences`.
pub async fn silences(cfg: &Config, args: &SilencesArgs) -> anyhow::Result<String> {
    let super::Opened { conn, now, .. } = super::open(cfg).await?;
    let list = store::alerts::silence_records(&conn, now, args.all)?;
    if args.format == Format::Json {
        let v: Vec<Value> = list
            .iter()
            .map(|r| {
                let s = &r.silence;
                let mut o = json!({
                    "id": s.id,
                    "rule": s.rule,
                    "account": s.account,
                    "marketplace": s.marketplace,
                    "asin": s.asin,
                    "sku": s.sku,
                    "campaign_id": s.campaign_id,
                    "search_term": s.search_term,
                    "expires_at": store::ops::ts(s.expires_at),
                    "in_force": s.expires_at > now,
                    "note": s.note,
                    "created_by": r.created_by,
                    "created_at": store::ops::ts(r.created_at),
                });
                if let Some(m) = o.as_object_mut() {
                    m.retain(|_, v| !v.is_null());
                }
                o
            })
            .collect();
        let mut s =
            serde_json::to_string_pretty(&json!({ "at": store::ops::ts(now), "silences": v }))?;
        s.push('\n');
        return Ok(s);
    }
    let lang = super::check::text_lang(cfg, None);
    Ok(silences_table(
        lang,
        cfg.daemon.timezone,
        &list,
        now,
        args.all,
    ))
}

/// The `silences` table in `lang`, times in `tz`; with `all`, a state
/// column tells those in force at `now` from ended ones. Pure.
fn silences_table(
    lang: Lang,
    tz: chrono_tz::Tz,
    list: &[store::alerts::SilenceRecord],
    now: DateTime<Utc>,
    all: bool,
) -> String {
    if list.is_empty() {
        let none = ["cli-no-silences-in-force", "cli-no-silences-yet"][usize::from(all)];
        return format!("{}\n", tr(lang, none));
    }
    let mut cols = vec![
        "id",
        "rule",
        "matches",
        "expires",
        "note",
        "created-by",
        "created",
    ];
    if all {
        cols.insert(1, "state");
    }
    let mut table = vec![cols
        .iter()
        .map(|c| tr(lang, &format!("cli-col-{c}")))
        .collect::<Vec<_>>()];
    let dash = || "-".to_string();
    for r in list {
        let s = &r.silence;
        let matchers = silence_matchers(lang, s);
        let mut row = vec![
            s.id.to_string(),
            silence_rule(lang, s),
            if matchers.is_empty() {
                dash()
            } else {
                matchers.join(&tr(lang, "list-separator"))
            },
            minute(s.expires_at, tz),
            s.note.clone().unwrap_or_else(dash),
            r.created_by.clone().unwrap_or_else(dash),
            minute(r.created_at, tz),
        ];
        if all {
            let state = if s.expires_at > now {
                "cli-silence-in-force"
            } else {
                "cli-silence-ended"
            };
            row.insert(1, tr(lang, state));
        }
        table.push(row);
    }
    columns(&table, lang, tz)
}

/// Rows as columns padded by display width, two spaces apart, and a line
/// saying the times are in `tz`.
fn columns(table: &[Vec<String>], lang: Lang, tz: chrono_tz::Tz) -> String {
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| table.iter().map(|r| width(&r[i])).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in table {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&tr_args(
        lang,
        "cli-times-in",
        &[("zone", tz.name().into())],
    ));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::config::Severity;
    use crate::model::names::Names;

    fn alert(rule: RuleId, severity: Severity, labels: Value, state: State) -> Alert {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap();
        Alert {
            fingerprint: format!("{:0>16}", rule.as_str().len()),
            rule,
            account: "shop".into(),
            marketplace: Some("ATVPDKIKX0DER".into()),
            labels,
            state,
            severity,
            value: Some(0.0),
            threshold: Some(8.0),
            started_at: t,
            firing_since: Some(t),
            resolved_at: (state == State::Resolved).then_some(t),
            last_evaluated_at: t,
            last_notified_at: Some(t),
            notify_count: 1,
            last_finding: json!({"summary": "English summary"}),
            thread_message_id: None,
            notified: None,
        }
    }

    fn alerts() -> Vec<Alert> {
        let m = "ATVPDKIKX0DER";
        vec![
            alert(
                RuleId::StockoutRisk,
                Severity::Critical,
                json!({"account": "shop", "marketplace": m, "sku": "FW-SPATULA-01"}),
                State::Firing,
            ),
            alert(
                RuleId::WastedSpend,
                Severity::Warning,
                json!({"account": "shop", "marketplace": m, "campaign_id": "1005", "search_term": "spatula"}),
                State::Firing,
            ),
            alert(
                RuleId::AccountHealth,
                Severity::Warning,
                json!({"account": "shop", "marketplace": m}),
                State::Resolved,
            ),
        ]
    }

    fn names() -> super::super::check::AccountNames {
        let mut n = Names::default();
        n.skus.insert(
            ("ATVPDKIKX0DER".into(), "FW-SPATULA-01".into()),
            "Flywheel Silicone Spatula Set of 3".into(),
        );
        [("shop".to_string(), n)].into()
    }

    fn render(lang: Lang) -> String {
        let list = alerts();
        let t = Utc.with_ymd_and_hms(2026, 3, 9, 11, 0, 0).unwrap();
        let rows: Vec<Row<'_>> = vec![
            (&list[0], Some(t), None),
            (&list[1], None, Some(t)),
            (&list[2], None, None),
        ];
        table(lang, chrono_tz::Asia::Shanghai, &rows, &names(), true)
    }

    /// An account with alerts in several marketplaces: each product's
    /// subject leads with its marketplace; a marketplace-level one is it.
    #[test]
    fn subjects_name_the_marketplace_when_the_account_has_several() {
        let mut list = alerts();
        let de = alert(
            RuleId::StockoutRisk,
            Severity::Critical,
            json!({"account": "shop", "marketplace": "A1PA6795UKMFR9", "sku": "FW-SPATULA-01"}),
            State::Firing,
        );
        list.push(de);
        let rows: Vec<Row<'_>> = list.iter().map(|a| (a, None, None)).collect();
        for (lang, us, de, market) in [
            (
                Lang::En,
                "US · sku FW-SPATULA-01",
                "DE · sku FW-SPATULA-01",
                " US ",
            ),
            (
                Lang::ZhCn,
                "美国站 · SKU FW-SPATULA-01",
                "德国站 · SKU FW-SPATULA-01",
                " 美国站 ",
            ),
        ] {
            let t = table(lang, chrono_tz::UTC, &rows, &names(), true);
            assert!(t.contains(us) && t.contains(de), "{t}");
            // account_health's subject is its marketplace, once.
            assert!(
                t.lines().any(|l| l.contains(market) && !l.contains("·")),
                "{t}"
            );
        }
        // One marketplace: no prefix (the table as always).
        assert!(!render(Lang::En).contains("US · "));
    }

    #[test]
    fn english_table_as_always() {
        let t = render(Lang::En);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("ID        STATE     SEVERITY  RULE "),
            "{t}"
        );
        assert!(lines[0].ends_with("  LAST NOTIFIED     MUTED"), "{t}");
        for words in [
            "firing    critical  stockout_risk",
            "sku FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3",
            "campaign 1005 \"spatula\"",
            "acked until 2026-03-09 19:00",
            "silenced until 2026-03-09 19:00",
            "resolved  warning   account_health",
            "2026-03-02 19:00",
        ] {
            assert!(t.contains(words), "{words:?} not in\n{t}");
        }
        assert!(t.ends_with("times in Asia/Shanghai\n"), "{t}");
        assert_eq!(
            table(Lang::En, chrono_tz::UTC, &[], &names(), false),
            "no open alerts (flywheel alerts --all lists resolved ones too)\n"
        );
    }

    #[test]
    fn chinese_table_has_no_english_fixed_phrase() {
        let t = render(Lang::ZhCn);
        println!("{t}");
        for e in [
            "ID",
            "STATE",
            "SEVERITY",
            "RULE",
            "SUBJECT",
            "SINCE",
            "MUTED",
            "firing",
            "resolved",
            "critical",
            "warning",
            "acked",
            "silenced",
            "times in",
            "sku ",
            "campaign ",
            "stockout_risk",
            "English",
        ] {
            assert!(!t.contains(e), "{e:?} in\n{t}");
        }
        for words in [
            "编号",
            "告警中",
            "已恢复",
            "严重",
            "警告",
            &i18n::rule_title(Lang::ZhCn, RuleId::StockoutRisk),
            &i18n::rule_title(Lang::ZhCn, RuleId::WastedSpend),
            "SKU FW-SPATULA-01 · Flywheel Silicone Spatula Set of 3",
            "广告活动 1005 “spatula”",
            "美国站",
            "已确认，至 2026-03-09 19:00",
            "静默至 2026-03-09 19:00",
            "时间为 Asia/Shanghai 时区",
        ] {
            assert!(t.contains(words), "{words:?} not in\n{t}");
        }
        // Columns by display width: the account column starts at the same
        // terminal column in the heading and in every row.
        let col = |l: &str, at: &str| width(&l[..l.find(at).unwrap()]);
        let lines: Vec<&str> = t.lines().collect();
        let account = col(lines[0], "账户");
        for l in &lines[1..4] {
            assert_eq!(col(l, "shop"), account, "{t}");
        }
        assert_eq!(
            table(Lang::ZhCn, chrono_tz::UTC, &[], &names(), true),
            "还没有告警\n"
        );
    }
    fn silence_records() -> Vec<store::alerts::SilenceRecord> {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap();
        let rec = |id, rule: &str, until| store::alerts::SilenceRecord {
            silence: store::alerts::Silence {
                id,
                rule: rule.into(),
                expires_at: until,
                ..Default::default()
            },
            created_by: Some("ops".into()),
            created_at: t,
        };
        let mut a = rec(1, "stockout_risk", t + chrono::Duration::days(7));
        a.silence.account = Some("shop".into());
        a.silence.sku = Some("FW-SPATULA-01".into());
        a.silence.note = Some("promo week".into());
        let mut b = rec(2, "*", t);
        b.silence.marketplace = Some("ATVPDKIKX0DER".into());
        b.silence.campaign_id = Some(1005);
        b.silence.search_term = Some("spatula".into());
        vec![a, b]
    }

    fn render_silences(lang: Lang) -> String {
        let now = Utc.with_ymd_and_hms(2026, 3, 3, 11, 0, 0).unwrap();
        silences_table(
            lang,
            chrono_tz::Asia::Shanghai,
            &silence_records(),
            now,
            true,
        )
    }

    #[test]
    fn english_silences_table() {
        let t = render_silences(Lang::En);
        // Every column, in order, aligned to its widest cell.
        assert_eq!(
            t.lines().next(),
            Some(
                "ID  STATE     RULE           MATCHES                          \
                 EXPIRES           NOTE        BY   CREATED"
            ),
            "{t}"
        );
        for words in [
            "1   in force  stockout_risk  account shop, sku FW-SPATULA-01",
            "2026-03-09 19:00  promo week  ops  2026-03-02 19:00",
            "2   ended     *              US, campaign 1005, \"spatula\"",
        ] {
            assert!(t.contains(words), "{words:?} not in\n{t}");
        }
        assert!(t.ends_with("times in Asia/Shanghai\n"), "{t}");
        let now = Utc.with_ymd_and_hms(2026, 3, 3, 11, 0, 0).unwrap();
        assert_eq!(
            silences_table(Lang::En, chrono_tz::UTC, &[], now, false),
            "no silences in force (flywheel silences --all lists ended ones too)\n"
        );
    }

    #[test]
    fn chinese_silences_table_has_no_english_fixed_phrase() {
        let t = render_silences(Lang::ZhCn);
        println!("{t}");
        let english: Vec<&str> = [
            "ID",
            "STATE",
            "RULE",
            "MATCHES",
            "EXPIRES",
            "NOTE",
            "BY",
            "CREATED",
            "in force",
            "ended",
            "account",
            "campaign",
            "stockout_risk",
            "times in",
            "*",
        ]
        .into_iter()
        .filter(|e| t.contains(e))
        .collect();
        assert!(english.is_empty(), "{english:?} in\n{t}");
        let zh_rule = i18n::rule_title(Lang::ZhCn, RuleId::StockoutRisk);
        let missing: Vec<&str> = [
            "编号",
            "生效中",
            "已结束",
            "全部规则",
            &zh_rule,
            "账户 shop，SKU FW-SPATULA-01",
            "美国站，广告活动 1005，“spatula”",
            "promo week",
            "时间为 Asia/Shanghai 时区",
        ]
        .into_iter()
        .filter(|w| !t.contains(w))
        .collect();
        assert!(missing.is_empty(), "{missing:?} not in\n{t}");
        let now = Utc.with_ymd_and_hms(2026, 3, 3, 11, 0, 0).unwrap();
        assert_eq!(
            silences_table(Lang::ZhCn, chrono_tz::UTC, &[], now, true),
            "还没有静默\n"
        );
    }
}
