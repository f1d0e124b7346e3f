//! `flywheel doctor`: probes each selected account (`crate::doctor`) and
//! prints what will run and what will lack data.

use chrono::{DateTime, Utc};

use super::CliError;
use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::ApiClient;
use crate::config::{Account, Config};
use crate::doctor::{self, Checked, Probe};
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
/// returns whether every check passed.
pub async fn run(cfg: &Config, selection: &Selection) -> anyhow::Result<bool> {
    let opened = super::open(cfg).await?;
    let client = probe_client(cfg)?;
    client.limiter.set_speed(opened.speed);
    let db = std::sync::Mutex::new(opened.conn);
    let mut healthy = true;
    for account in &cfg.accounts {
        if !selection.accounts.is_empty() && !selection.accounts.contains(&account.name) {
            continue;
        }
        let (text, ok) = check(cfg, account, &client, &db, opened.now).await;
        print!("{text}");
        healthy &= ok;
    }
    sync::flush_counters(&client, &db)?;
    Ok(healthy)
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
) -> (String, bool) {
    let checked = doctor::check_account(cfg, account, client, db, now).await;
    render(account, &checked)
}

/// The report of one account; returns (text, healthy).
pub fn render(account: &Account, checked: &Checked) -> (String, bool) {
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
        };
        out.push_str(&format!("  {:<24} {:<7} {}\n", cap.label(), mark, text));
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
        runnable.join(", ")
    ));
    for (job, v) in &a.jobs {
        if let Err(why) = v {
            out.push_str(&format!("  job {job} will not run: {why}\n"));
        }
    }
    if a.rules_without_data.is_empty() {
        out.push_str("  every enabled rule has its data\n");
    }
    for (rule, why) in &a.rules_without_data {
        out.push_str(&format!("  rule {rule} will report no_data: {why}\n"));
    }
    (out, healthy)
}
