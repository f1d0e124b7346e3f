//! The `flywheel` command line: subcommands, global options, exit codes.
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config (clap
//! exits 2 on usage errors by itself).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::amazon::backoff::RetryPolicy;
use crate::amazon::client::ApiClient;
use crate::config::{self, Config, Env};
use crate::store;
use crate::sync;

#[derive(Debug, Parser)]
#[command(
    name = "flywheel",
    version,
    about = "Watches an Amazon seller's growth flywheel and emails when a link breaks"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "FLYWHEEL_CONFIG", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the configuration file and print a one-line summary.
    CheckConfig,
    /// Print the documented example configuration (every key with its default).
    PrintDefaultConfig,
    /// Create the database or bring its schema up to date.
    Migrate,
    /// Run sync jobs once, now, and print a summary per job.
    Sync {
        /// Only this job (repeatable): orders, inventory, sales_traffic, ads, ...
        #[arg(long = "job", value_name = "NAME")]
        jobs: Vec<String>,
        /// Only this account (repeatable).
        #[arg(long = "account", value_name = "NAME")]
        accounts: Vec<String>,
    },
    /// Check each account's credentials and roles; say which jobs will run
    /// and which rules will lack data.
    Doctor {
        /// Only this account (repeatable).
        #[arg(long = "account", value_name = "NAME")]
        accounts: Vec<String>,
    },
    /// See the product work end to end against the simulated marketplace.
    Demo(crate::demo::DemoArgs),
    /// Print the weekly 12-KPI checklist (DESIGN §2.3) with targets and status.
    Kpis(crate::kpis::KpisArgs),
    /// Evaluate the flywheel rules now (or as of --at) and print the
    /// findings grouped by flywheel link; nothing is sent.
    Check(crate::rules::check::CheckArgs),
    /// Run the daemon: sync on the configured schedules, evaluate after
    /// every sync round, send alerts and the weekly digest (until SIGTERM;
    /// SIGHUP reloads the configuration).
    Run,
    /// What the daemon has been doing: per account and job the last success
    /// and error, next run, API calls; alerts, outbox, stale data. Exits 1
    /// when something needs attention (usable as a health check).
    Status(crate::status::StatusArgs),
    /// Copy the database while the daemon runs (SQLite online backup),
    /// checked with integrity_check; the copy replaces PATH atomically.
    Backup {
        /// The backup file to write (its directory must exist).
        path: PathBuf,
    },
    /// Obtain and store LWA refresh tokens: the Ads API consent and code
    /// exchange, or SP-API self-authorization; then run doctor's checks.
    Auth(crate::auth::AuthArgs),
    /// Run one evaluation round as the daemon does after each sync round:
    /// evaluate, update alert state, queue and deliver emails, print what
    /// was sent (for running flywheel from a systemd timer or cron).
    Evaluate(crate::alert::evaluate::EvaluateArgs),
    /// List alerts with short ids, state, since and last notified.
    Alerts(crate::alert::commands::AlertsArgs),
    /// Acknowledge an alert: no repeats until the time runs out (on a
    /// feedback alert this also marks the feedback handled).
    Ack(crate::alert::commands::AckArgs),
    /// Mute a rule (for an ASIN, SKU, campaign or account) for a while.
    Silence(crate::alert::commands::SilenceArgs),
    /// Build the weekly digest: print it, write it as HTML, or send it.
    Digest(crate::alert::digest::DigestArgs),
    /// Send one test email through the configured transport.
    SendTestEmail,
    /// Load a report file downloaded by hand from Seller Central (plain or
    /// gzipped) through the sync jobs' parsers, and print what it stored.
    Import {
        /// The config's account the file belongs to.
        #[arg(long)]
        account: String,
        /// Amazon's reportType, e.g. GET_SELLER_FEEDBACK_DATA.
        #[arg(long = "report-type", value_name = "TYPE")]
        report_type: String,
        /// Marketplace id or country code (needed when the account has several).
        #[arg(long)]
        marketplace: Option<String>,
        /// The report file.
        file: PathBuf,
    },
    /// Serve the simulated Amazon marketplace (SP-API, Ads API, LWA), or
    /// print its truth (`flywheel sim truth`).
    Sim(flywheel_sim::SimCommand),
}

/// A failure with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("{}", chain_text(.0))]
    Runtime(#[from] anyhow::Error),
    #[error("{0}")]
    Usage(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl From<store::StoreError> for CliError {
    fn from(e: store::StoreError) -> Self {
        CliError::Runtime(e.into())
    }
}

/// An error and its causes on one line, like anyhow's `{:#}`, but a cause
/// whose text the line already holds is left out: many errors put their
/// cause in their own message and also return it as `source()`, and it
/// would print twice.
fn chain_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if s.is_empty() || text.contains(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    text
}

/// Loads the config; warns (in the log) about one other users can read
/// while it holds secrets.
fn load(cli: &Cli) -> Result<Config, CliError> {
    let cfg = Config::load(&cli.config, &Env::from_process())?;
    for w in cfg.file_warnings(&cli.config) {
        tracing::warn!("{w}");
    }
    Ok(cfg)
}

/// Runs a parsed command line; the binary's `main` only sets up logging.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let database = database_finder(&cli);
    run_command(cli).map_err(|e| name_the_database(e, database))
}

/// Where the command's database is; the config is read again only when an
/// error needs the path (the command read it already, so this reads what
/// it read).
fn database_finder(cli: &Cli) -> impl FnOnce() -> Option<PathBuf> {
    let config = cli.config.clone();
    let fixed = match &cli.command {
        Command::Demo(args) => Some(Some(args.dir.join("flywheel.db"))),
        Command::Sim(_) | Command::Auth(_) | Command::PrintDefaultConfig | Command::CheckConfig => {
            Some(None)
        }
        _ => None,
    };
    move || {
        fixed.unwrap_or_else(|| {
            Config::load(&config, &Env::from_process())
                .ok()
                .map(|c| c.daemon.database)
        })
    }
}

/// A SQLite error that reached the command's edge without naming a file
/// (a store function's `?`) gets the database's path and what to do.
fn name_the_database(e: CliError, database: impl FnOnce() -> Option<PathBuf>) -> CliError {
    let CliError::Runtime(err) = e else { return e };
    let Some((at, sqlite)) = unnamed_sqlite_error(&err) else {
        return CliError::Runtime(err);
    };
    let Some(database) = database() else {
        return CliError::Runtime(err);
    };
    let mut text = String::new();
    for cause in err.chain().take(at) {
        let s = cause.to_string();
        if !s.is_empty() && !text.contains(&s) {
            text.push_str(&s);
            text.push_str(": ");
        }
    }
    text.push_str(&store::describe(&database.display().to_string(), sqlite));
    CliError::Runtime(anyhow::anyhow!(text))
}

/// The first SQLite error in `err`'s causes, with its position, unless a
/// cause already names the file (the store's named errors, backup's).
fn unnamed_sqlite_error(err: &anyhow::Error) -> Option<(usize, &rusqlite::Error)> {
    let mut found = None;
    for (i, cause) in err.chain().enumerate() {
        // Errors that wrap a store error transparently hide it from the
        // chain (their source is the store error's source): look inside.
        let wrapped = if let Some(e) = cause.downcast_ref::<crate::sync::import::ImportError>() {
            match e {
                crate::sync::import::ImportError::Store(s) => Some(s),
                crate::sync::import::ImportError::Sql(e) => {
                    found = found.or(Some((i, e)));
                    None
                }
                _ => None,
            }
        } else if let Some(crate::kpis::KpiError::Store(s)) = cause.downcast_ref() {
            Some(s)
        } else if let Some(crate::rules::check::CheckError::Store(s)) = cause.downcast_ref() {
            Some(s)
        } else {
            None
        };
        if let Some(s) = wrapped {
            match s {
                store::StoreError::Sql(e) => found = found.or(Some((i, e))),
                _ => return None,
            }
        } else if let Some(s) = cause.downcast_ref::<store::StoreError>() {
            match s {
                store::StoreError::Sql(e) => found = found.or(Some((i, e))),
                _ => return None,
            }
        } else if cause.is::<crate::backup::BackupError>() {
            return None;
        } else if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            found = found.or(Some((i, e)));
        }
    }
    found
}

fn run_command(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::CheckConfig => {
            let cfg = Config::load(&cli.config, &Env::from_process())?;
            let mut warnings = cfg.file_warnings(&cli.config);
            warnings.extend(store::location_problem(&cfg.daemon.database));
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            println!("ok: {}: {}", cli.config.display(), cfg.summary());
        }
        Command::PrintDefaultConfig => print!("{}", config::EXAMPLE),
        Command::Migrate => {
            let cfg = load(&cli)?;
            let path = &cfg.daemon.database;
            let (mut conn, report) = store::open_and_migrate(path)?;
            store::ops::sync_accounts(&mut conn, &cfg, chrono::Utc::now())?;
            if report.applied.is_empty() {
                println!(
                    "database {}: schema version {}, up to date",
                    path.display(),
                    report.to_version
                );
            } else {
                let names: Vec<String> = report
                    .applied
                    .iter()
                    .map(|(v, n)| format!("{v:04}_{n}"))
                    .collect();
                println!(
                    "database {}: schema version {} -> {} (applied {})",
                    path.display(),
                    report.from_version,
                    report.to_version,
                    names.join(", ")
                );
            }
        }
        Command::Sync { jobs, accounts } => {
            let cfg = load(&cli)?;
            let selection = sync_selection(&cfg, jobs, accounts)?;
            let runtime = runtime()?;
            let failed = runtime.block_on(run_sync(&cfg, &selection))?;
            if failed > 0 {
                return Err(CliError::Runtime(anyhow::anyhow!(
                    "{failed} job{} failed (see the summary above)",
                    if failed == 1 { "" } else { "s" }
                )));
            }
        }
        Command::Doctor { accounts } => {
            let cfg = load(&cli)?;
            let selection = sync_selection(&cfg, &[], accounts)?;
            let healthy = runtime()?.block_on(run_doctor(&cfg, &selection))?;
            if !healthy {
                return Err(CliError::Runtime(anyhow::anyhow!(
                    "some checks failed (see above): fix them, then run `flywheel doctor` again"
                )));
            }
        }
        Command::Demo(args) => {
            if !runtime()?.block_on(crate::demo::run(args))? {
                return Err(CliError::Runtime(anyhow::anyhow!(
                    "some jobs failed (see the summary above)"
                )));
            }
        }
        Command::Import {
            account,
            report_type,
            marketplace,
            file,
        } => {
            let cfg = load(&cli)?;
            if !cfg.accounts.iter().any(|a| &a.name == account) {
                return Err(CliError::Usage(format!(
                    "no account \"{account}\" in the config"
                )));
            }
            if !sync::import::REPORT_TYPES.contains(&report_type.as_str()) {
                return Err(CliError::Usage(format!(
                    "unknown report type \"{report_type}\"; import understands {}",
                    sync::import::REPORT_TYPES.join(", ")
                )));
            }
            let now =
                runtime()?.block_on(crate::clock::Clock::from_source(&cfg.daemon.clock).now())?;
            let (mut conn, _) = store::open_and_migrate(&cfg.daemon.database)?;
            store::ops::sync_accounts(&mut conn, &cfg, now)?;
            let done = sync::import::import_file(
                &cfg,
                &mut conn,
                account,
                marketplace.as_deref(),
                report_type,
                file,
                now,
            )
            .map_err(|e| CliError::Runtime(e.into()))?;
            println!("imported {}: {done}", file.display());
        }
        Command::Check(args) => {
            crate::rules::check::parse_rules(&args.rules)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::rules::check::run_command(&cfg, args))?
            );
        }
        Command::Run => {
            // Validate first: a bad config is exit 2 with every problem.
            load(&cli)?;
            runtime()?.block_on(crate::daemon::run(cli.config.clone(), Env::from_process()))?;
        }
        Command::Status(args) => {
            let cfg = load(&cli)?;
            let (text, needs_attention) =
                runtime()?.block_on(crate::status::run_command(&cfg, args))?;
            print!("{text}");
            if needs_attention {
                return Err(CliError::Runtime(anyhow::anyhow!(
                    "needs attention (see the problems above)"
                )));
            }
        }
        Command::Backup { path } => {
            let cfg = load(&cli)?;
            print!("{}", crate::backup::run(&cfg, path)?);
        }
        Command::Auth(args) => {
            let stdin = std::io::stdin();
            runtime()?.block_on(crate::auth::run(
                &cli.config,
                &Env::from_process(),
                args,
                &mut stdin.lock(),
                &mut std::io::stdout(),
            ))?;
        }
        Command::Evaluate(args) => {
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::alert::evaluate::run_command(&cfg, args))?
            );
        }
        Command::Alerts(args) => {
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::alert::commands::alerts(&cfg, args))?
            );
        }
        Command::Ack(args) => {
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::alert::commands::ack(&cfg, args))?
            );
        }
        Command::Silence(args) => {
            let cfg = load(&cli)?;
            crate::alert::commands::validate_silence(&cfg, args)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            print!(
                "{}",
                runtime()?.block_on(crate::alert::commands::silence(&cfg, args))?
            );
        }
        Command::Digest(args) => {
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::alert::digest::run_command(&cfg, args))?
            );
        }
        Command::SendTestEmail => {
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::alert::sender::send_test_email(&cfg))?
            );
        }
        Command::Kpis(args) => {
            let cfg = load(&cli)?;
            print!(
                "{}",
                runtime()?.block_on(crate::kpis::run_command(&cfg, args))?
            );
        }
        Command::Sim(cmd) => {
            runtime()?.block_on(flywheel_sim::run(cmd.clone()))?;
        }
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    // More workers than cores: a job parsing a large report keeps one
    // busy, and the other jobs' polls and timers must not wait for it.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(8)
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(e.into()))
}

/// Checks `--job` and `--account` against what exists (bad usage: exit 2).
fn sync_selection(
    cfg: &Config,
    jobs: &[String],
    accounts: &[String],
) -> Result<sync::Selection, CliError> {
    let mut selection = sync::Selection::default();
    for j in jobs {
        match sync::JobName::parse(j) {
            Some(job) => selection.jobs.push(job),
            None => {
                let known: Vec<&str> = sync::JobName::ALL.iter().map(|j| j.as_str()).collect();
                return Err(CliError::Usage(format!(
                    "unknown job \"{j}\"; jobs: {}",
                    known.join(", ")
                )));
            }
        }
    }
    for a in accounts {
        if !cfg.accounts.iter().any(|x| &x.name == a) {
            let known: Vec<&str> = cfg.accounts.iter().map(|x| x.name.as_str()).collect();
            return Err(CliError::Usage(format!(
                "no account \"{a}\" in the config; accounts: {}",
                known.join(", ")
            )));
        }
        selection.accounts.push(a.clone());
    }
    Ok(selection)
}

/// One sync round as `flywheel sync` runs it; returns the number of failed jobs.
async fn run_sync(cfg: &Config, selection: &sync::Selection) -> Result<usize, CliError> {
    let (mut conn, _) = store::open_and_migrate(&cfg.daemon.database)?;
    let clock = crate::clock::Clock::from_source(&cfg.daemon.clock);
    let reading = clock.read().await?;
    let now = reading.now;
    store::ops::sync_accounts(&mut conn, cfg, now)?;
    let client = ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(cfg.sync.max_attempts, cfg.sync.max_backoff),
    )
    .map_err(anyhow::Error::from)?
    .with_run_limits((&cfg.sync).into());
    client.limiter.set_speed(reading.speed);
    for (account, _api, operation, rate) in store::ops::learned_rates(&conn)? {
        client.limiter.seed_rate(&account, &operation, rate);
    }
    let db = std::sync::Mutex::new(conn);
    let progress = sync::Progress::for_terminal();
    let results = sync::run_round(
        cfg,
        &client,
        &db,
        &clock,
        now,
        selection,
        &progress,
        &|| false,
    )
    .await;
    print!("{}", sync::summary_table(&results));
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

async fn run_doctor(cfg: &Config, selection: &sync::Selection) -> Result<bool, CliError> {
    let (mut conn, _) = store::open_and_migrate(&cfg.daemon.database)?;
    let reading = crate::clock::Clock::from_source(&cfg.daemon.clock)
        .read()
        .await?;
    store::ops::sync_accounts(&mut conn, cfg, reading.now)?;
    // Probes: few attempts, so a dead endpoint is reported quickly.
    let client = ApiClient::new(
        cfg.sync.request_timeout,
        RetryPolicy::new(2, std::time::Duration::from_secs(5)),
    )
    .map_err(anyhow::Error::from)?;
    client.limiter.set_speed(reading.speed);
    let db = std::sync::Mutex::new(conn);
    let mut healthy = true;
    for account in &cfg.accounts {
        if !selection.accounts.is_empty() && !selection.accounts.contains(&account.name) {
            continue;
        }
        let (text, ok) =
            crate::doctor::check_account(cfg, account, &client, &db, reading.now).await;
        print!("{text}");
        healthy &= ok;
    }
    sync::flush_counters(&client, &db)?;
    Ok(healthy)
}

/// Parses the process arguments, runs, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::logging::init(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("error: {e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(e.exit_code())
        }
    }
}
