//! `flywheel doctor`: probes each selected account (`crate::doctor`) and
//! prints what will run and what will lack data.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::CliError;
use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::ApiClient;
use crate::amazon::lwa::LwaError;
use crate::config::{Account, Config, RuleId};
use crate::doctor::{self, Capability, Checked, Probe};
use crate::sync::{self, Db, Selection};

/// `flywheel doctor` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DoctorArgs {
    /// Only this account (repeatable).
    #[arg(long = "account", value_name = "NAME")]
    pub accounts: Vec<String>,
}

impl DoctorArgs {
    /// Checks `--account` against the config (bad usage: exit 2).
    pub fn selection(&self, cfg: &Config) -> Result<Selection, CliError> {
        Ok(Selection {
            accounts: super::known_accounts(cfg, &self.accounts)?,
            ..Selection::default()
        })
    }
}

/// Runs the checks of the selected accounts and prints their reports;
/// returns whether every check passed. `config` is the file the commands
/// that fix a problem are told to use.
pub async fn run(cfg: &Config, selection: &Selection, config: &Path) -> anyhow::Result<bool> {
    let opened = super::open(cfg).await?;
    let client = probe_client(cfg)?;
    client.limiter.set_speed(opened.speed);
    let db = std::sync::Mutex::new(opened.conn);
    for w in cfg.setup_warnings() {
        println!("warning: {w}");
    }
    let mut healthy = true;
    for account in &cfg.accounts {
        if !selection.accounts.is_empty() && !selection.accounts.contains(&account.name) {
            continue;
        }
        let (text, ok) = check(cfg, account, &client, &db, opened.now, config).await;
        print!("{text}");
        healthy &= ok;
    }
    sync::flush_counters(&client, &db)?;
    if !cfg.receivers.is_empty() {
        let backlog = {
            let conn = db
                .lock()
                .map_err(|_| anyhow::anyhow!("database lock poisoned"))?;
            crate::store::outbox::backlog_by_receiver(&conn, i64::MAX)?
        };
        println!("receivers:");
        for r in &cfg.receivers {
            let (line, ok) = receiver_line(r, backlog.iter().find(|b| b.receiver == r.name));
            println!("  {line}");
            healthy &= ok;
        }
    }
    Ok(healthy)
}

/// One line on a receiver: its URL's shape and its signing secret (the
/// config's own checks, run again; neither is quoted), and what it has
/// not delivered. Returns (line, healthy): unhealthy when a check fails
/// or a message was given up on and not cleared.
pub fn receiver_line(
    r: &crate::config::Receiver,
    backlog: Option<&crate::store::outbox::ReceiverBacklog>,
) -> (String, bool) {
    use crate::config::ReceiverKind;
    let kind = r.kind();
    let mut ok = true;
    let mut said = Vec::new();
    if kind.has_url() {
        match r.url().map(|u| crate::config::check_url(kind, u.expose())) {
            Some(Ok(())) => said.push("URL ok".to_string()),
            Some(Err(e)) => {
                ok = false;
                said.push(format!("URL {e}"));
            }
            None => {
                ok = false;
                said.push("no URL".to_string());
            }
        }
    } else {
        said.push(format!("emails {} through [email]", r.to.join(", ")));
    }
    if kind.signs() {
        match r.secret() {
            Some(s) if kind == ReceiverKind::Dingtalk && !s.expose().starts_with("SEC") => {
                ok = false;
                said.push(
                    "the signing secret does not start with SEC (copy it from the robot's 加签 setting)"
                        .to_string(),
                );
            }
            Some(_) => said.push("signing secret set".to_string()),
            None => {
                said.push("no signing secret (the robot must not require a signature)".to_string())
            }
        }
    }
    if let Some(b) = backlog {
        said.push(format!("{} queued, {} given up", b.pending, b.failed));
        if b.failed > 0 {
            ok = false;
            if let Some(e) = &b.last_error {
                said.push(format!("last error: {e}"));
            }
        }
    } else {
        said.push("nothing undelivered".to_string());
    }
    let mark = if ok { "ok" } else { "FAIL" };
    (
        format!("{mark}  {} ({kind}): {}", r.name, said.join("; ")),
        ok,
    )
}

/// The client of the probes: few attempts, so a dead endpoint is reported
/// quickly.
pub fn probe_client(cfg: &Config) -> anyhow::Result<ApiClient> {
    Ok(ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(2, std::time::Duration::from_secs(5)),
    )?)
}

/// Probes one account and renders its report; returns (text, healthy).
pub async fn check(
    cfg: &Config,
    account: &Account,
    client: &ApiClient,
    db: &Db,
    now: DateTime<Utc>,
    config: &Path,
) -> (String, bool) {
    let checked = doctor::check_account(cfg, account, client, db, now).await;
    render(account, &checked, config)
}

/// The command that fixes a failed probe of `cap`, when one does.
fn fix(cap: Capability, probe: &Probe, account: &str, config: &Path) -> Option<String> {
    let auth = |api: &str| {
        format!(
            "flywheel auth {api} --account {account} --config {}",
            config.display()
        )
    };
    let api = |cap| match cap {
        Capability::AdsCredentials => ("ads", "accounts.ads"),
        _ => ("sp", "accounts.sp_api"),
    };
    match (cap, probe) {
        (_, Probe::Ok(_)) => None,
        (_, Probe::Refused(LwaError::InvalidGrant { .. })) => Some(auth(api(cap).0)),
        (_, Probe::Refused(_)) => Some(format!(
            "correct client_id and client_secret (or their _file) in [{}] of {}, then `flywheel doctor --account {account} --config {}`",
            api(cap).1,
            config.display(),
            config.display()
        )),
        (Capability::AdsProfiles, _) => Some(format!(
            "check profile_ids and profile_types in [accounts.ads], then `flywheel doctor --account {account} --config {}`",
            config.display()
        )),
        // A role the app lacks: add it to the app, then authorize again
        // (a token carries the roles of its authorization).
        (_, Probe::Missing(_)) => Some(format!(
            "add the role to the app (Seller Central > Apps and Services > Develop Apps > Edit App), then `{}`",
            auth("sp")
        )),
        (_, Probe::Failed(_)) => None,
    }
}

/// Where a job or rule verdict points at a probe shown above, its label.
fn cause_above<'a>(why: &str, checked: &'a Checked) -> Option<&'a str> {
    checked
        .probes
        .iter()
        .filter(|(_, p)| !p.is_ok())
        .map(|(c, _)| c.label())
        .find(|l| why.starts_with(&format!("{l}: ")))
}

/// `items` grouped by their reason, in the order each reason first comes.
fn by_reason<T>(items: impl Iterator<Item = (T, String)>) -> Vec<(String, Vec<T>)> {
    let mut out: Vec<(String, Vec<T>)> = Vec::new();
    for (item, why) in items {
        match out.iter_mut().find(|(w, _)| *w == why) {
            Some((_, v)) => v.push(item),
            None => out.push((why, vec![item])),
        }
    }
    out
}

/// One line per reason: "13 jobs will not run (why): orders, inventory, …".
fn push_groups(out: &mut String, noun: &str, verb: &str, groups: Vec<(String, Vec<&str>)>) {
    for (why, names) in groups {
        out.push_str(&format!(
            "  {} {noun}{} {verb} ({why}): {}\n",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
}

/// Why a job will not run, pointing at the probe above when that is it.
fn job_reason(why: &str, checked: &Checked) -> String {
    match cause_above(why, checked) {
        Some(label) => format!("{label} failed, above"),
        None => why.to_string(),
    }
}

/// Why a rule will lack data: when every job it could read from is held
/// back by probes shown above, those probes; else the assessment's words
/// ("needs the sales_traffic job", "no costs_file (unit costs)").
fn rule_reason(rule: RuleId, why: &str, checked: &Checked) -> String {
    let blocked: Vec<&str> = doctor::rule_sources(rule)
        .iter()
        .flatten()
        .filter_map(|j| {
            checked
                .assessment
                .jobs
                .iter()
                .find(|(k, _)| k == j)
                .and_then(|(_, v)| v.as_ref().err())
        })
        .map(String::as_str)
        .collect();
    let labels: Option<Vec<&str>> = blocked.iter().map(|w| cause_above(w, checked)).collect();
    match labels {
        Some(mut l) if !l.is_empty() && why.starts_with("needs the ") => {
            l.sort();
            l.dedup();
            format!("{} failed, above", l.join(" and "))
        }
        _ => why.to_string(),
    }
}

/// The report of one account, one line per cause: each probe with the
/// command that fixes it, then the jobs that cannot run and the rules that
/// will lack data grouped by why; returns (text, healthy).
pub fn render(account: &Account, checked: &Checked, config: &Path) -> (String, bool) {
    let a = &checked.assessment;
    let markets: Vec<&str> = account.marketplaces().iter().map(|m| m.country).collect();
    let mut out = format!(
        "account {} ({}: {})\n",
        account.name,
        account.region(),
        markets.join(", ")
    );
    let mut healthy = true;
    for (cap, p) in &checked.probes {
        let (mark, text) = match p {
            Probe::Ok(t) => ("ok  ", t.clone()),
            Probe::Missing(t) => {
                healthy = false;
                ("MISSING", format!("role missing: {t}"))
            }
            Probe::Failed(t) => {
                healthy = false;
                ("FAIL", t.clone())
            }
            Probe::Refused(e) => {
                healthy = false;
                ("FAIL", e.to_string())
            }
        };
        out.push_str(&format!("  {:<24} {:<7} {}\n", cap.label(), mark, text));
        if let Some(f) = fix(*cap, p, &account.name, config) {
            out.push_str(&format!("  {:<24} {:<7} fix: {f}\n", "", ""));
        }
    }
    for m in &checked.markets {
        let label = format!("marketplace {}", m.marketplace.country);
        let mut said = vec![format!(
            "{}, {}, {}",
            m.marketplace.id,
            m.marketplace.currency,
            m.marketplace.tz.name()
        )];
        match &m.selling {
            Some(p) if p.participating && p.suspended_listings => {
                said.push("sells there (has suspended listings)".into())
            }
            Some(p) if p.participating => said.push("sells there".into()),
            _ => {}
        }
        if let Some(p) = &m.ads_profile {
            said.push(format!("Ads profile {} ({})", p.profile_id, p.currency));
        }
        let mark = match m.problem() {
            Some(problem) => {
                healthy = false;
                said.push(problem);
                "FAIL"
            }
            None => "ok",
        };
        out.push_str(&format!("  {label:<24} {mark:<7} {}\n", said.join("; ")));
        out.push_str(&format!(
            "  {label:<24} {:<7} {}\n",
            "data",
            stored_line(&m.stored)
        ));
    }
    let runnable: Vec<&str> = a
        .jobs
        .iter()
        .filter(|(_, v)| v.is_ok())
        .map(|(j, _)| j.as_str())
        .collect();
    out.push_str(&format!(
        "  jobs that will run ({}): {}\n",
        runnable.len(),
        if runnable.is_empty() {
            "none".to_string()
        } else {
            runnable.join(", ")
        }
    ));
    let blocked = a.jobs.iter().filter_map(|(j, v)| {
        v.as_ref()
            .err()
            .map(|why| (j.as_str(), job_reason(why, checked)))
    });
    push_groups(&mut out, "job", "will not run", by_reason(blocked));
    if a.rules_without_data.is_empty() {
        out.push_str("  every enabled rule has its data\n");
    }
    let starved = a
        .rules_without_data
        .iter()
        .map(|(r, why)| (r.as_str(), rule_reason(*r, why, checked)));
    push_groups(&mut out, "rule", "will report no_data", by_reason(starved));
    (out, healthy)
}

/// The newest data stored for a marketplace, in one line.
fn stored_line(d: &Result<crate::store::ops::StoredData, String>) -> String {
    let d = match d {
        Ok(d) => d,
        Err(e) => return format!("the database could not say what is stored: {e}"),
    };
    let parts: Vec<String> = [
        ("orders to", &d.orders),
        ("inventory at", &d.inventory),
        ("traffic to", &d.sales_traffic),
        ("feedback to", &d.feedback),
        ("ads to", &d.ads),
    ]
    .iter()
    .filter_map(|(what, v)| {
        v.as_ref()
            .map(|v| format!("{what} {}", v.replace('T', " ").replace('Z', " UTC")))
    })
    .collect();
    if parts.is_empty() {
        "nothing stored yet (flywheel sync fetches it)".to_string()
    } else {
        parts.join(", ")
    }
}
