//! `flywheel alerts`, `ack` and `silence`: what a seller or an agency uses
//! to see what is open and to mute what they are already handling, each
//! mute with an expiry (so nothing stays muted forever by accident) and a
//! note (so a colleague knows why).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::Format;
use crate::alert::state::{short_id, Alert, State};
use crate::config::{Config, RuleId};
use crate::model::finding::Subject;
use crate::store;

/// `flywheel alerts` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertsArgs {
    /// Include resolved alerts.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
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
}

/// `flywheel silence` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SilenceArgs {
    /// The rule to mute (an id from `flywheel check`, or '*' for every rule).
    #[arg(long, value_name = "ID")]
    pub rule: String,
    #[arg(long, value_name = "ASIN")]
    pub asin: Option<String>,
    #[arg(long, value_name = "SKU")]
    pub sku: Option<String>,
    #[arg(long, value_name = "ID")]
    pub campaign: Option<i64>,
    /// Only this account.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    #[arg(long)]
    pub note: Option<String>,
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

fn subject_label(a: &Alert) -> String {
    crate::alert::subject_label(|k| a.labels.get(k).and_then(Value::as_str))
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
    let list = store::alerts::list(&conn, args.all)?;
    let names = super::check::account_names(&conn, cfg)?;
    let silences = store::alerts::silences(&conn, now)?;
    let mut rows = Vec::new();
    for a in &list {
        let ack = store::alerts::ack_in_force(&conn, &a.fingerprint, now)?;
        let silenced = silences.iter().find(|s| s.matches(a.rule, &a.labels));
        rows.push((a, ack, silenced.map(|s| s.expires_at)));
    }
    let fmt = |t: Option<DateTime<Utc>>| t.map(store::ops::ts);
    if args.format == Format::Json {
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
        let mut s =
            serde_json::to_string_pretty(&json!({ "at": store::ops::ts(now), "alerts": v }))?;
        s.push('\n');
        return Ok(s);
    }
    if rows.is_empty() {
        return Ok(if args.all {
            "no alerts yet\n".into()
        } else {
            "no open alerts (flywheel alerts --all lists resolved ones too)\n".into()
        });
    }
    let tz = cfg.daemon.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let mut table = vec![[
        "ID",
        "STATE",
        "SEVERITY",
        "RULE",
        "ACCOUNT",
        "SUBJECT",
        "SINCE",
        "LAST NOTIFIED",
        "MUTED",
    ]
    .map(String::from)
    .to_vec()];
    for (a, ack, sil) in &rows {
        table.push(vec![
            a.short_id().to_string(),
            a.state.as_str().to_string(),
            a.severity.as_str().to_string(),
            a.rule.as_str().to_string(),
            a.account.clone(),
            match subject_name(&names, a).flatten() {
                Some(name) => format!("{} · {name}", subject_label(a)),
                None => subject_label(a),
            },
            local(match a.state {
                State::Resolved => a.resolved_at.unwrap_or(a.started_at),
                _ => a.firing_since.unwrap_or(a.started_at),
            }),
            a.last_notified_at.map(local).unwrap_or_else(|| "-".into()),
            match (ack, sil) {
                (_, Some(t)) => format!("silenced until {}", local(*t)),
                (Some(t), None) => format!("acked until {}", local(*t)),
                _ => "-".into(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in &table {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("times in {}\n", tz.name()));
    Ok(out)
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

/// `flywheel ack`.
pub async fn ack(cfg: &Config, args: &AckArgs) -> anyhow::Result<String> {
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    let found = store::alerts::find_by_prefix(&conn, args.id.trim())?;
    let a = match found.len() {
        0 => return Err(MuteError::NotFound(args.id.clone()).into()),
        1 => &found[0],
        n => {
            let ids: Vec<&str> = found
                .iter()
                .take(5)
                .map(|a| a.fingerprint.as_str())
                .collect();
            return Err(MuteError::Ambiguous(args.id.clone(), n, ids.join(", ")).into());
        }
    };
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
    let mut s = format!(
        "acknowledged {} ({} {} {}) until {} {}",
        short_id(&a.fingerprint),
        a.rule.as_str(),
        a.account,
        subject_label(a),
        until.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        tz.name()
    );
    if handled > 0 {
        s.push_str(&format!(
            "; marked {handled} feedback order{} handled",
            if handled == 1 { "" } else { "s" }
        ));
    }
    s.push('\n');
    Ok(s)
}

/// Checks `silence` arguments against the config (before opening anything).
pub fn validate_silence(cfg: &Config, args: &SilenceArgs) -> Result<(), MuteError> {
    if args.rule != "*" && RuleId::parse(&args.rule).is_none() {
        let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        return Err(MuteError::UnknownRule(args.rule.clone(), known.join(", ")));
    }
    if let Some(a) = &args.account {
        if !cfg.accounts.iter().any(|x| &x.name == a) {
            let known: Vec<&str> = cfg.accounts.iter().map(|x| x.name.as_str()).collect();
            return Err(MuteError::UnknownAccount(a.clone(), known.join(", ")));
        }
    }
    Ok(())
}

/// `flywheel silence`.
pub async fn silence(cfg: &Config, args: &SilenceArgs) -> anyhow::Result<String> {
    validate_silence(cfg, args)?;
    let super::Opened { conn, now, .. } = super::open(cfg).await?;
    let until = now + chrono::Duration::from_std(args.duration)?;
    let s = store::alerts::Silence {
        id: 0,
        rule: args.rule.clone(),
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
    let open: Vec<Alert> = store::alerts::list(&conn, false)?
        .into_iter()
        .filter(|a| s.matches(a.rule, &a.labels))
        .collect();
    let mut what = vec![format!("rule {}", args.rule)];
    if let Some(a) = &args.account {
        what.push(format!("account {a}"));
    }
    let subject = Subject {
        asin: args.asin.clone(),
        sku: args.sku.clone(),
        campaign_id: args.campaign.map(|c| c.to_string()),
        ..Subject::default()
    };
    what.extend(subject.words());
    let tz = cfg.daemon.timezone;
    Ok(format!(
        "silence #{id}: {} muted until {} {}; it covers {} open alert{} now\n",
        what.join(", "),
        until.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        tz.name(),
        open.len(),
        if open.len() == 1 { "" } else { "s" }
    ))
}
