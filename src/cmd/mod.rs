//! The shell: the `flywheel` command line. Each subcommand's arguments and
//! its `run` live in a file of their own here; [`open`] gives a command its
//! database connection and its `now` (one reading of the configured clock).
//! The layers below (`rules`, `alert`, `kpis`, `sync`, `store`) take both
//! as values: none of them reads a clock or opens a database, so the
//! daemon calls the same functions with its tick's `now` and its own
//! connection.
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config (clap
//! exits 2 on usage errors by itself).

pub mod alerts;
pub mod auth;
pub mod backup;
pub mod check;
mod config;
pub mod demo;
pub mod digest;
pub mod doctor;
mod error;
pub mod evaluate;
pub mod import;
pub mod kpis;
mod migrate;
pub mod records;
pub mod send_test;
pub mod send_test_email;
pub mod status;
pub mod sync;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use rusqlite::Connection;

use crate::clock::{Clock, Reading};
use crate::config::{Config, Env};
use crate::store;

pub use error::CliError;

#[derive(Debug, Parser)]
#[command(
    name = "flywheel",
    version,
    about = "Watches an Amazon seller's growth flywheel and emails when a link breaks"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "FLYWHEEL_CONFIG", default_value = crate::config::DEFAULT_PATH)]
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
    Sync(sync::SyncArgs),
    /// Check each account's credentials and roles; say which jobs will run
    /// and which rules will lack data.
    Doctor(doctor::DoctorArgs),
    /// See the product work end to end against the simulated marketplace.
    Demo(demo::DemoArgs),
    /// Print the weekly 12-KPI checklist (DESIGN §2.3) with targets and status.
    Kpis(kpis::KpisArgs),
    /// Evaluate the flywheel rules now (or as of --at) and print the
    /// findings grouped by flywheel link; nothing is sent.
    Check(check::CheckArgs),
    /// Run the daemon: sync on the configured schedules, evaluate after
    /// every sync round, send alerts and the weekly digest (until SIGTERM;
    /// SIGHUP reloads the configuration).
    Run,
    /// What the daemon has been doing: whether it runs, per account and job
    /// the last success and error, next run, API calls; alerts, outbox,
    /// stale data. A health check of the operations: exits 1 when an
    /// operator is needed (business alerts only with --fail-on).
    Status(status::StatusArgs),
    /// Copy the database while the daemon runs (SQLite online backup),
    /// checked with integrity_check; the copy replaces PATH atomically.
    Backup(backup::BackupArgs),
    /// Obtain and store LWA refresh tokens: the Ads API consent and code
    /// exchange, or SP-API self-authorization; then run doctor's checks.
    Auth(auth::AuthArgs),
    /// Run one evaluation round as the daemon does after each sync round:
    /// evaluate, update alert state, queue and deliver emails, print what
    /// was sent (for running flywheel from a systemd timer or cron).
    Evaluate(evaluate::EvaluateArgs),
    /// List alerts with short ids, state, since and last notified.
    Alerts(alerts::AlertsArgs),
    /// Acknowledge an alert: no repeats until the time runs out (on a
    /// feedback alert this also marks the feedback handled); `--undo` ends
    /// the acknowledgement now.
    Ack(alerts::AckArgs),
    /// Mute a rule (for an ASIN, SKU, campaign or account) for a while, or
    /// end a silence early (`--expire ID`).
    Silence(alerts::SilenceArgs),
    /// List the silences in force (with `--all`, ended ones too).
    Silences(alerts::SilencesArgs),
    /// Build the weekly digest: print it, write it as HTML, or send it.
    Digest(digest::DigestArgs),
    /// Send one test email through the configured transport.
    SendTestEmail,
    /// Send one test message to a receiver of `[[receivers]]` (chat,
    /// webhook or email) and print what it answered.
    SendTest(send_test::SendTestArgs),
    /// Load a report file downloaded by hand from Seller Central (plain or
    /// gzipped) through the sync jobs' parsers, and print what it stored.
    Import(import::ImportArgs),
    /// Serve the simulated Amazon marketplace (SP-API, Ads API, LWA), or
    /// print its truth (`flywheel sim truth`).
    Sim(flywheel_sim::SimCommand),
}

/// Output format of the commands that print a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Output format of the commands that print records (`check`, `kpis`,
/// `alerts`): also CSV, for spreadsheets ([`records`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordFormat {
    Table,
    Json,
    Csv,
}

/// What a command works on: the database, migrated and holding the
/// config's accounts, and the one clock reading it works at.
pub struct Opened {
    pub conn: Connection,
    /// The clock `now` was read from (sync rounds wait on it).
    pub clock: Clock,
    pub now: DateTime<Utc>,
    /// Clock seconds per wall second (the rate limiter follows it).
    pub speed: f64,
}

/// Reads the configured clock once, opens and migrates the database and
/// brings its accounts in line with the config: how every command that
/// works on the database starts.
pub async fn open(cfg: &Config) -> anyhow::Result<Opened> {
    let clock = Clock::from_source(&cfg.daemon.clock);
    let reading = clock.read().await?;
    let (mut conn, _) = store::open_and_migrate(&cfg.daemon.database)?;
    store::ops::sync_accounts(&mut conn, cfg, reading.now)?;
    Ok(Opened {
        conn,
        clock,
        now: reading.now,
        speed: reading.speed,
    })
}

/// One reading of the configured clock (`[daemon] clock`).
pub async fn read_clock(cfg: &Config) -> anyhow::Result<Reading> {
    Clock::from_source(&cfg.daemon.clock).read().await
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
    dispatch(cli).map_err(|e| error::name_the_database(e, database))
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

/// A failure: exit 1 with `message`.
fn failure(message: impl std::fmt::Display) -> CliError {
    CliError::Runtime(anyhow::anyhow!("{message}"))
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::CheckConfig => config::check(&cli.config)?,
        Command::PrintDefaultConfig => print!("{}", crate::config::EXAMPLE),
        Command::Migrate => print!("{}", migrate::run(&load(&cli)?)?),
        Command::Sync(args) => {
            let cfg = load(&cli)?;
            let selection = args.selection(&cfg)?;
            let failed = runtime()?.block_on(sync::run(&cfg, &selection))?;
            if failed > 0 {
                return Err(failure(format!(
                    "{failed} job{} failed (see the summary above)",
                    if failed == 1 { "" } else { "s" }
                )));
            }
        }
        Command::Doctor(args) => {
            let cfg = load(&cli)?;
            let selection = args.selection(&cfg)?;
            if !runtime()?.block_on(doctor::run(&cfg, &selection, &cli.config))? {
                return Err(failure(
                    "some checks failed (see above): fix them, then run `flywheel doctor` again",
                ));
            }
        }
        Command::Demo(args) => {
            if !runtime()?.block_on(demo::run(args))? {
                return Err(failure("some jobs failed (see the summary above)"));
            }
        }
        Command::Import(args) if args.list_types => print!("{}", import::list_types()),
        Command::Import(args) => {
            let cfg = load(&cli)?;
            args.validate(&cfg)?;
            print!("{}", runtime()?.block_on(import::run(&cfg, args))?);
        }
        Command::Check(args) => {
            let rules = check::parse_rules(&args.rules).map_err(CliError::Usage)?;
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(check::run(&cfg, args, &rules))?);
        }
        Command::Run => {
            // Validate first: a bad config is exit 2 with every problem.
            load(&cli)?;
            runtime()?.block_on(crate::daemon::run(cli.config.clone(), Env::from_process()))?;
        }
        Command::Status(args) => {
            let cfg = load(&cli)?;
            let (text, needs_attention) = runtime()?.block_on(status::run(&cfg, args))?;
            print!("{text}");
            if needs_attention {
                return Err(failure("needs attention (see the problems above)"));
            }
        }
        Command::Backup(args) => print!("{}", backup::run(&load(&cli)?, args)?),
        Command::Auth(args) => {
            let stdin = std::io::stdin();
            runtime()?.block_on(auth::run(
                &cli.config,
                &Env::from_process(),
                args,
                &mut stdin.lock(),
                &mut std::io::stdout(),
            ))?;
        }
        Command::Evaluate(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(evaluate::run(&cfg, args))?);
        }
        Command::Alerts(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(alerts::list(&cfg, args))?);
        }
        Command::Ack(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(alerts::ack(&cfg, args))?);
        }
        Command::Silence(args) => {
            let cfg = load(&cli)?;
            alerts::validate_silence(&cfg, args).map_err(|e| CliError::Usage(e.to_string()))?;
            print!("{}", runtime()?.block_on(alerts::silence(&cfg, args))?);
        }
        Command::Silences(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(alerts::silences(&cfg, args))?);
        }
        Command::Digest(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(digest::run(&cfg, args))?);
        }
        Command::SendTestEmail => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(send_test_email::run(&cfg))?);
        }
        Command::SendTest(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(send_test::run(&cfg, args))?);
        }
        Command::Kpis(args) => {
            let cfg = load(&cli)?;
            print!("{}", runtime()?.block_on(kpis::run(&cfg, args))?);
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

/// Checks `--account` names against the config (bad usage: exit 2).
fn known_accounts(cfg: &Config, accounts: &[String]) -> Result<Vec<String>, CliError> {
    for a in accounts {
        if !cfg.accounts.iter().any(|x| &x.name == a) {
            let known: Vec<&str> = cfg.accounts.iter().map(|x| x.name.as_str()).collect();
            return Err(CliError::Usage(format!(
                "no account \"{a}\" in the config; accounts: {}",
                known.join(", ")
            )));
        }
    }
    Ok(accounts.to_vec())
}

/// Parses the process arguments, runs, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints a line per simulated day; the daemon's log (hundreds
    // of lines over two weeks) stays out of it unless asked for with -v.
    let quiet = cli.quiet || (matches!(cli.command, Command::Demo(_)) && cli.verbose == 0);
    // `sync` on a terminal draws a live line per job, which says what the
    // INFO lines would; warnings and errors still print above the lines.
    let bars = matches!(cli.command, Command::Sync(_))
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let level = match crate::logging::level_for(cli.verbose, quiet) {
        "info" if bars => "warn",
        level => level,
    };
    crate::logging::init_with(level);
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
