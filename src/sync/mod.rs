//! Sync jobs: one file per job, each `fetch → parse (pure) → upsert rows
//! and cursor in one transaction`, idempotent on re-run (DESIGN §3).
//!
//! This module owns the frame they run in: the job names, the [`Ctx`] a
//! job gets (config, account, API client, database, the round's `now` and
//! the clock it came from), and [`run_round`], which runs the selected
//! jobs of each account, records each run in `job_runs`, keeps one failing
//! job from stopping the others, retries a job whose role is missing only
//! once a day, and returns a summary per job. Nothing here reads the
//! configuration's clock or opens the database: the caller hands both in.
//!
//! Beside the jobs: [`report`], the SP-API report pipeline and the report
//! step every report job takes; [`flatfile`], the one flat-file reader;
//! `report_util`, what report jobs and `flywheel import` share (days,
//! dates, streamed JSON); `api_util`, what the JSON snapshot jobs share.
//!
//! Run bookkeeping must survive a database that refuses writes for a
//! while (another process holds it, the disk is full): an outcome or a
//! call count that cannot be written is kept in memory and written by the
//! next attempt ([`record_pending`]), never dropped while the process
//! lives. Call counts are written as each job ends, so a process killed
//! mid-round loses only the counts of the runs it was in (which are then
//! closed as interrupted, and `status` says their calls were not counted).

pub mod account_health;
pub mod ads;
mod api_util;
pub mod catalog_ranks;
pub mod customer_feedback;
pub mod fees;
pub mod flatfile;
pub mod import;
pub mod inventory;
pub mod inventory_planning;
pub mod listings;
pub mod orders;
pub mod pricing;
pub mod report;
pub mod report_util;
pub mod returns;
pub mod sales_traffic;
pub mod search_query_performance;
pub mod seller_feedback;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::amazon::calls::{CallCounter, JOB_TALLY};
use crate::amazon::client::{ApiClient, Endpoint};
use crate::amazon::http::{Api, ApiError};
use crate::clock::Clock;
use crate::config::{Account, Config, LwaCredentials};
use crate::model::marketplace::Marketplace;
use crate::store::jobs::{self, CursorWrite, Deferred, RunStatus};
use crate::store::StoreError;

/// The database shared by the jobs of a round. Hold the lock only for
/// database work, never across an `.await`.
pub type Db = Mutex<Connection>;

macro_rules! job_names {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal ),* $(,)?) => {
        /// A sync job of DESIGN §3's table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum JobName { $( $(#[doc = $doc])* $variant ),* }

        impl JobName {
            pub const ALL: &'static [JobName] = &[$(JobName::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(JobName::$variant => $name),* }
            }

            pub fn parse(s: &str) -> Option<JobName> {
                JobName::ALL.iter().copied().find(|j| j.as_str() == s)
            }
        }
    };
}

job_names! {
    Orders = "orders",
    Inventory = "inventory",
    InventoryPlanning = "inventory_planning",
    SalesTraffic = "sales_traffic",
    Returns = "returns",
    SellerFeedback = "seller_feedback",
    AccountHealth = "account_health",
    CatalogRanks = "catalog_ranks",
    Pricing = "pricing",
    Listings = "listings",
    CustomerFeedback = "customer_feedback",
    Fees = "fees",
    SearchQueryPerformance = "search_query_performance",
    Ads = "ads",
}

impl JobName {
    /// The job that syncs `data` (`None`: a file or flywheel's own state).
    pub fn filling(data: crate::model::needs::Data) -> Option<JobName> {
        use crate::model::needs::Data as D;
        Some(match data {
            D::SalesTrafficWindows | D::SalesTrafficDaily => JobName::SalesTraffic,
            D::Orders => JobName::Orders,
            D::Returns => JobName::Returns,
            D::SellerFeedback => JobName::SellerFeedback,
            D::AccountHealth => JobName::AccountHealth,
            D::Listings => JobName::Listings,
            D::ReviewTopics => JobName::CustomerFeedback,
            D::CatalogRanks => JobName::CatalogRanks,
            D::Pricing => JobName::Pricing,
            D::SearchQueryPerformance => JobName::SearchQueryPerformance,
            D::Inventory => JobName::Inventory,
            D::InventoryPlanning => JobName::InventoryPlanning,
            D::Fees => JobName::Fees,
            D::Ads => JobName::Ads,
            D::RatingsFile | D::CostsFile | D::JobRuns | D::Credentials => return None,
        })
    }

    /// Which API the job calls (the Ads job needs `[accounts.ads]`).
    pub fn api(self) -> Api {
        match self {
            JobName::Ads => Api::Ads,
            _ => Api::SpApi,
        }
    }
}

impl JobName {
    /// Jobs that work from what other jobs stored (fees needs listing
    /// prices; search query performance needs the ASINs that sell) run
    /// in a second phase of a round, after the jobs they depend on.
    pub fn phase(self) -> u8 {
        match self {
            JobName::Fees | JobName::SearchQueryPerformance => 1,
            _ => 0,
        }
    }
}

impl std::fmt::Display for JobName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a job needs.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub account: &'a Account,
    pub client: &'a ApiClient,
    pub db: &'a Db,
    /// The round's time (system or sim clock), read once.
    pub now: DateTime<Utc>,
    /// The clock `now` was read from, built once by the caller: waits for
    /// Amazon's reports run on it (sim time at the simulator's `--speed`).
    pub clock: &'a Clock,
}

impl Ctx<'_> {
    /// Job `job`'s cursor `cursor` in marketplace `m` of this account, as of
    /// the round's time, for a store write that records it with its rows.
    pub fn cursor_write<'c>(
        &'c self,
        job: &'c str,
        m: &'c Marketplace,
        cursor: &'c serde_json::Value,
    ) -> CursorWrite<'c> {
        CursorWrite::new(job, &self.account.name, m.id, cursor, self.now)
    }

    /// The account's SP-API endpoint, if configured.
    pub fn sp(&self) -> Option<Endpoint> {
        let s = self.account.sp_api.as_ref()?;
        self.endpoint(Api::SpApi, &s.endpoint, &s.token_url, &s.credentials)
    }

    /// The account's Ads endpoint, if configured.
    pub fn ads(&self) -> Option<Endpoint> {
        let s = self.account.ads.as_ref()?;
        self.endpoint(Api::Ads, &s.endpoint, &s.token_url, &s.credentials)
    }

    /// An endpoint of `api` from the account's settings: their `endpoint`
    /// and `token_url` overrides, else the region's; `None` without
    /// credentials.
    fn endpoint(
        &self,
        api: Api,
        base_url: &Option<String>,
        token_url: &Option<String>,
        credentials: &Option<LwaCredentials>,
    ) -> Option<Endpoint> {
        let region = self.account.region();
        let default_base = match api {
            Api::SpApi => region.sp_api_endpoint(),
            Api::Ads => region.ads_endpoint(),
        };
        Some(Endpoint {
            account: self.account.name.clone(),
            api,
            base_url: base_url.clone().unwrap_or_else(|| default_base.to_string()),
            token_url: token_url
                .clone()
                .unwrap_or_else(|| region.token_url(api == Api::Ads).to_string()),
            credentials: credentials.clone()?,
        })
    }

    /// Runs `f` on the database (never across an await). Waiting for the
    /// lock and writing a large report are blocking work: on a
    /// multi-threaded runtime they run with `block_in_place`, so the other
    /// jobs' timers and HTTP calls keep moving meanwhile.
    pub fn with_db<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let run = || {
            let mut conn = self.db.lock().expect("database lock poisoned");
            f(&mut conn)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(run)
            }
            _ => run(),
        }
    }
}

/// What a job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    /// Rows written (inserted or changed).
    pub rows: u64,
    /// A short note for the summary ("3 reports pending", "up to date").
    pub note: String,
}

/// Why a job did not complete.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Amazon answered 403: the app lacks the role this job needs.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Api(ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Data(String),
}

impl From<ApiError> for JobError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::MissingRole { .. } => JobError::Unavailable(e.to_string()),
            other => JobError::Api(other),
        }
    }
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct JobResult {
    pub account: String,
    pub job: JobName,
    pub status: RunStatus,
    pub rows: u64,
    pub calls: u64,
    pub throttled: u64,
    pub duration: Duration,
    pub message: String,
}

impl JobResult {
    /// Whether the account's report budget deferred one of the job's
    /// reports: it waits for the budget, not for its next tick (a seller in
    /// five marketplaces needs more reports a day than one hour allows).
    pub fn deferred_by_budget(&self) -> bool {
        self.message.contains(report::pipeline::BUDGET_SPENT)
    }
}

/// Which jobs and accounts a round covers (empty = all).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub jobs: Vec<JobName>,
    pub accounts: Vec<String>,
}

/// A job whose role was missing is tried again after this long.
pub const UNAVAILABLE_RETRY: chrono::Duration = chrono::Duration::hours(24);

/// Runs one job (dispatch to its file).
pub async fn run_job(job: JobName, ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    match job {
        JobName::Inventory => inventory::run(ctx).await,
        JobName::CatalogRanks => catalog_ranks::run(ctx).await,
        JobName::Pricing => pricing::run(ctx).await,
        JobName::Listings => listings::run(ctx).await,
        JobName::CustomerFeedback => customer_feedback::run(ctx).await,
        JobName::Fees => fees::run(ctx).await,
        JobName::SalesTraffic => sales_traffic::run(ctx).await,
        JobName::InventoryPlanning => inventory_planning::run(ctx).await,
        JobName::AccountHealth => account_health::run(ctx).await,
        JobName::SearchQueryPerformance => search_query_performance::run(ctx).await,
        JobName::Returns => returns::run(ctx).await,
        JobName::SellerFeedback => seller_feedback::run(ctx).await,
        JobName::Ads => ads::run(ctx).await,
        JobName::Orders => orders::run(ctx).await,
    }
}

fn has_api(account: &Account, api: Api) -> bool {
    match api {
        Api::SpApi => account.sp_api.is_some(),
        Api::Ads => account.ads.is_some(),
    }
}

/// Whether a job is due to be retried after an 'unavailable' run.
fn skip_unavailable(db: &Db, job: JobName, account: &str, now: DateTime<Utc>) -> Option<String> {
    let conn = db.lock().ok()?;
    let since = jobs::unavailable_since(&conn, job.as_str(), account).ok()??;
    let at = DateTime::parse_from_rfc3339(&since)
        .ok()?
        .with_timezone(&Utc);
    (now - at < UNAVAILABLE_RETRY)
        .then(|| format!("unavailable since {since} (missing role); tried again a day after that"))
}

/// Progress display: a spinner per job on a terminal, log lines otherwise.
/// Log lines print above the spinners while they are drawn
/// ([`crate::logging::show_progress`]).
#[derive(Default)]
pub struct Progress {
    bars: Option<indicatif::MultiProgress>,
}

impl Progress {
    /// Spinners when stderr is a terminal.
    pub fn for_terminal() -> Progress {
        use std::io::IsTerminal;
        let bars = std::io::stderr()
            .is_terminal()
            .then(indicatif::MultiProgress::new);
        crate::logging::show_progress(bars.clone());
        Progress { bars }
    }

    fn start(&self, account: &str, job: JobName) -> Option<indicatif::ProgressBar> {
        let mp = self.bars.as_ref()?;
        let bar = mp.add(indicatif::ProgressBar::new_spinner());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {prefix:<32} {elapsed:>4} {msg}")
                .expect("valid template"),
        );
        bar.set_prefix(format!("{account}/{job}"));
        bar.set_message("running");
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.bars.is_some() {
            crate::logging::show_progress(None);
        }
    }
}

/// The spinner of the job a future runs (if one is drawn) and the stage
/// the job said it is at.
struct Spinner {
    bar: indicatif::ProgressBar,
    stage: std::cell::RefCell<String>,
}

tokio::task_local! {
    static SPINNER: Option<Spinner>;
}

/// Says on the running job's spinner which part of its work it is at
/// ("history chunk 3 of 24"); [`note`]s then follow it. Nothing without
/// a spinner.
pub fn stage(text: impl FnOnce() -> String) {
    let _ = SPINNER.try_with(|s| {
        if let Some(s) = s {
            let text = text();
            s.bar.set_message(text.clone());
            *s.stage.borrow_mut() = text;
        }
    });
}

/// Says on the running job's spinner what it is doing now, after its
/// stage (a report's status while it waits); nothing without a spinner.
/// The text is built only when it is shown.
pub fn note(text: impl FnOnce() -> String) {
    let _ = SPINNER.try_with(|s| {
        if let Some(s) = s {
            let stage = s.stage.borrow();
            match stage.is_empty() {
                true => s.bar.set_message(text()),
                false => s.bar.set_message(format!("{stage}: {}", text())),
            }
        }
    });
}

async fn run_one(job: JobName, ctx: &Ctx<'_>, progress: &Progress) -> JobResult {
    let bar = progress.start(&ctx.account.name, job);
    let spinner = bar.clone().map(|bar| Spinner {
        bar,
        stage: Default::default(),
    });
    SPINNER
        .scope(spinner, run_tracked(job, ctx, bar.as_ref()))
        .await
}

async fn run_tracked(
    job: JobName,
    ctx: &Ctx<'_>,
    bar: Option<&indicatif::ProgressBar>,
) -> JobResult {
    let account = ctx.account.name.clone();
    let started = Instant::now();
    let tally = Arc::new(CallCounter::new());
    let base = |status, rows, message: String, tally: &CallCounter| {
        let (calls, throttled) = tally.totals();
        JobResult {
            account: account.clone(),
            job,
            status,
            rows,
            calls,
            throttled,
            duration: started.elapsed(),
            message,
        }
    };
    let finish = |r: JobResult| {
        if let Some(bar) = bar {
            bar.finish_with_message(format!(
                "{} ({} rows, {} calls)",
                r.status.as_str(),
                r.rows,
                r.calls
            ));
        }
        r
    };
    if let Some(why) = skip_unavailable(ctx.db, job, &account, ctx.now) {
        return finish(base(RunStatus::Skipped, 0, why, &tally));
    }
    let run_id = match ctx.with_db(|c| jobs::start_run(c, job.as_str(), &account, ctx.now)) {
        Ok(id) => id,
        Err(e) => {
            let message = format!("the run could not be recorded, so the job did not run: {e}");
            if jobs::is_transient(&e) {
                // Recorded whole (as failed) once the database takes writes.
                let _ = ctx.with_db(|c| {
                    jobs::defer(
                        c,
                        Deferred::Run {
                            job: job.as_str().to_string(),
                            account: account.clone(),
                            started_at: ctx.now,
                            status: RunStatus::Failed,
                            error: Some(message.clone()),
                        },
                    );
                    Ok(())
                });
            }
            tracing::error!(account = %account, job = %job, error = %e, "cannot record the job run; the job did not run");
            return finish(base(RunStatus::Failed, 0, message, &tally));
        }
    };
    tracing::info!(account = %account, job = %job, "job started");
    let outcome = JOB_TALLY.scope(tally.clone(), run_job(job, ctx)).await;
    let outcome_kind = credentials_outcome(&outcome);
    let (status, rows, message) = match outcome {
        Ok(r) => (RunStatus::Ok, r.rows, r.note),
        Err(JobError::Unavailable(m)) => (RunStatus::Unavailable, 0, m),
        Err(e) => (RunStatus::Failed, 0, e.to_string()),
    };
    record_credentials(ctx, job, &outcome_kind, &message);
    let error = (status != RunStatus::Ok).then_some(message.as_str());
    if let Err(e) = ctx.with_db(|c| jobs::finish_run(c, run_id, status, rows, error, ctx.now)) {
        if jobs::is_transient(&e) {
            tracing::warn!(account = %account, job = %job, error = %e, "the database did not take the job run's outcome; it is recorded as soon as the database takes writes again");
            let _ = ctx.with_db(|c| {
                jobs::defer(
                    c,
                    Deferred::Finish {
                        id: run_id,
                        status,
                        rows,
                        error: error.map(str::to_string),
                        at: ctx.now,
                    },
                );
                Ok(())
            });
        } else {
            tracing::error!(account = %account, job = %job, error = %e, "cannot record the job run");
        }
    }
    // The calls so far, now: a process killed later in the round then
    // loses only the counts of the runs still in flight.
    if let Err(e) = ctx.with_db(|c| write_counters(ctx.client, c)) {
        tracing::warn!(error = %e, "API call counts not written yet; kept for the next attempt");
    }
    match status {
        RunStatus::Ok => tracing::info!(account = %account, job = %job, rows, "job done"),
        _ => {
            tracing::warn!(account = %account, job = %job, status = status.as_str(), %message, "job did not complete")
        }
    }
    finish(base(status, rows, message, &tally))
}

/// What a job's outcome says about the account's LWA credentials.
enum CredentialsOutcome {
    Accepted,
    Refused(&'static str),
    Unknown,
}

fn credentials_outcome(outcome: &Result<JobReport, JobError>) -> CredentialsOutcome {
    use crate::amazon::lwa::LwaError;
    match outcome {
        Ok(_) => CredentialsOutcome::Accepted,
        Err(JobError::Api(ApiError::Credentials { source, .. })) => match source {
            LwaError::InvalidGrant { .. } => CredentialsOutcome::Refused("invalid_grant"),
            LwaError::InvalidClient { .. } => CredentialsOutcome::Refused("invalid_client"),
            _ => CredentialsOutcome::Unknown,
        },
        Err(_) => CredentialsOutcome::Unknown,
    }
}

/// LWA refusals are recorded for the credentials rule (and cleared by the
/// next success), so a revoked token becomes one clear alert.
fn record_credentials(ctx: &Ctx<'_>, job: JobName, outcome: &CredentialsOutcome, message: &str) {
    let api = match job.api() {
        Api::SpApi => "sp",
        Api::Ads => "ads",
    };
    let account = &ctx.account.name;
    let result = match outcome {
        CredentialsOutcome::Accepted => ctx
            .with_db(|c| crate::store::ops::clear_credential_problems(c, account, api, ctx.now))
            .map(|_| ()),
        CredentialsOutcome::Refused(kind) => ctx.with_db(|c| {
            crate::store::ops::record_credential_problem(c, account, api, kind, message, ctx.now)
        }),
        CredentialsOutcome::Unknown => Ok(()),
    };
    if let Err(e) = result {
        tracing::error!(account = %account, job = %job, error = %e, "cannot record the credentials outcome");
    }
}

/// Runs the selected jobs of every selected account once, at `now` (read
/// from `clock`). The jobs of an account run concurrently (they draw on
/// different rate-limit buckets; report-based ones share the account's
/// createReport budget). One job's failure never stops the others.
///
/// No job starts once `stop()` says so (the daemon's SIGTERM; `&|| false`
/// for a round that runs whole): the jobs already running finish, the jobs
/// of a later phase never start, and their results are left out.
#[allow(clippy::too_many_arguments)]
pub async fn run_round(
    cfg: &Config,
    client: &ApiClient,
    db: &Db,
    clock: &Clock,
    now: DateTime<Utc>,
    selection: &Selection,
    progress: &Progress,
    stop: &(dyn Fn() -> bool + Sync),
) -> Vec<JobResult> {
    // What an earlier round could not write goes first.
    if let Err(e) = record_pending(client, db, Duration::ZERO).await {
        tracing::warn!(error = %e, "earlier job run records still not written; trying again after the round");
    }
    let mut contexts = Vec::new();
    for account in &cfg.accounts {
        if !selection.accounts.is_empty() && !selection.accounts.contains(&account.name) {
            continue;
        }
        contexts.push(Ctx {
            cfg,
            account,
            client,
            db,
            now,
            clock,
        });
    }
    let mut results = Vec::new();
    for phase in 0..=1 {
        if stop() {
            tracing::info!(
                phase,
                "shutting down: the round's remaining jobs are not started"
            );
            break;
        }
        let mut futures = Vec::new();
        for ctx in &contexts {
            for job in JobName::ALL.iter().filter(|j| j.phase() == phase) {
                let selected = if selection.jobs.is_empty() {
                    cfg.schedule
                        .jobs()
                        .iter()
                        .any(|(name, s)| *name == job.as_str() && s.as_cron().is_some())
                } else {
                    selection.jobs.contains(job)
                };
                if selected && has_api(ctx.account, job.api()) {
                    futures.push(run_one(*job, ctx, progress));
                }
            }
        }
        results.extend(futures::future::join_all(futures).await);
    }
    results.sort_by(|a, b| (&a.account, a.job).cmp(&(&b.account, b.job)));
    results
}

/// Writes the process's call counters and learned rates to the database.
/// Counts the database refuses stay in memory for the next flush.
pub fn flush_counters(client: &ApiClient, db: &Db) -> Result<(), StoreError> {
    let mut conn = db.lock().expect("database lock poisoned");
    write_counters(client, &mut conn)
}

fn write_counters(client: &ApiClient, conn: &mut Connection) -> Result<(), StoreError> {
    let rows = client.counter.drain();
    if rows.is_empty() {
        return Ok(());
    }
    crate::store::ops::add_call_counts(conn, &rows).inspect_err(|_| client.counter.restore(rows))
}

/// How long a one-off command (`flywheel sync`) waits at its end for a
/// database that refuses writes, to record its runs before it exits.
pub const RECORD_PATIENCE: Duration = Duration::from_secs(60);

/// Writes what the database refused earlier (run outcomes, call counts),
/// trying for up to `patience` while it stays locked or full (each try
/// also waits SQLite's busy timeout). `Err` when some are still unwritten:
/// they stay in memory for the next call.
pub async fn record_pending(
    client: &ApiClient,
    db: &Db,
    patience: Duration,
) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut warned = false;
    loop {
        let attempt = || {
            let mut conn = db.lock().expect("database lock poisoned");
            // The counts wait while the database still refuses the runs:
            // a second busy timeout would tell nothing new.
            jobs::record_deferred(&conn).and_then(|_| write_counters(client, &mut conn))
        };
        let result = match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(attempt)
            }
            _ => attempt(),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(e) if jobs::is_transient(&e) && started.elapsed() < patience => {
                if !warned {
                    tracing::warn!(error = %e, patience = ?patience, "the database does not take writes; waiting to record the job runs");
                    warned = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The summary table `flywheel sync` prints.
pub fn summary_table(results: &[JobResult]) -> String {
    let mut out = format!(
        "{:<16} {:<26} {:<12} {:>9} {:>7} {:>9} {:>9}  {}\n",
        "account", "job", "result", "rows", "calls", "throttled", "seconds", "note"
    );
    for r in results {
        out.push_str(&format!(
            "{:<16} {:<26} {:<12} {:>9} {:>7} {:>9} {:>9.1}  {}\n",
            r.account,
            r.job.as_str(),
            r.status.as_str(),
            r.rows,
            r.calls,
            r.throttled,
            r.duration.as_secs_f64(),
            r.message
        ));
    }
    out
}
