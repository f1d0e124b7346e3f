//! `flywheel sync`: one sync round, now, with a summary per job.

use super::CliError;
use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::ApiClient;
use crate::config::Config;
use crate::store;
use crate::sync::{self, JobName, Selection};

/// `flywheel sync` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// Only this job (repeatable): orders, inventory, sales_traffic, ads, ...
    #[arg(long = "job", value_name = "NAME")]
    pub jobs: Vec<String>,
    /// Only this account (repeatable).
    #[arg(long = "account", value_name = "NAME")]
    pub accounts: Vec<String>,
}

impl SyncArgs {
    /// Checks `--job` and `--account` against what exists (bad usage: exit 2).
    pub fn selection(&self, cfg: &Config) -> Result<Selection, CliError> {
        let mut selection = Selection::default();
        for j in &self.jobs {
            match JobName::parse(j) {
                Some(job) => selection.jobs.push(job),
                None => {
                    let known: Vec<&str> = JobName::ALL.iter().map(|j| j.as_str()).collect();
                    return Err(CliError::Usage(format!(
                        "unknown job \"{j}\"; jobs: {}",
                        known.join(", ")
                    )));
                }
            }
        }
        selection.accounts = super::known_accounts(cfg, &self.accounts)?;
        Ok(selection)
    }
}

/// The API client of a command's sync round, at the clock's pace and with
/// the call rates learned by earlier runs.
pub fn client(cfg: &Config, conn: &rusqlite::Connection, speed: f64) -> anyhow::Result<ApiClient> {
    let client = ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(cfg.sync.max_attempts, cfg.sync.max_backoff),
    )?
    .with_run_limits((&cfg.sync).into());
    client.limiter.set_speed(speed);
    for (account, _api, operation, rate) in store::ops::learned_rates(conn)? {
        client.limiter.seed_rate(&account, &operation, rate);
    }
    Ok(client)
}

/// One sync round as `flywheel sync` runs it; returns the number of failed jobs.
pub async fn run(cfg: &Config, selection: &Selection) -> Result<usize, CliError> {
    let opened = super::open(cfg).await?;
    let client = client(cfg, &opened.conn, opened.speed)?;
    let db = std::sync::Mutex::new(opened.conn);
    let progress = sync::Progress::for_terminal();
    let results = sync::run_round(
        cfg,
        &client,
        &db,
        &opened.clock,
        opened.now,
        selection,
        &progress,
        &|| false,
    )
    .await;
    print!("{}", sync::summary_table(&results));
    if let Ok(conn) = db.lock() {
        store::optimize(&conn);
    }
    // Outcomes and call counts the database refused (another process held
    // it past the busy timeout, the disk was full) are written once it
    // takes writes again. Past the patience the runs stay open, owned by
    // this process; once it has exited the next command closes them as
    // interrupted.
    if let Err(e) = sync::record_pending(&client, &db, sync::RECORD_PATIENCE).await {
        return Err(CliError::Runtime(anyhow::anyhow!(
            "could not record how the job runs ended in {} after waiting {:?}: {e}; \
             the next flywheel command records them as interrupted",
            cfg.daemon.database.display(),
            sync::RECORD_PATIENCE
        )));
    }
    Ok(results
        .iter()
        .filter(|r| r.status == store::jobs::RunStatus::Failed)
        .count())
}
