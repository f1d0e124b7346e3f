//! The `flywheel` command line: subcommands, global options, exit codes.
//!
//! Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config (clap
//! exits 2 on usage errors by itself).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, Env};
use crate::store;

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
    /// Serve the simulated Amazon marketplace (SP-API, Ads API, LWA), or
    /// print its truth (`flywheel sim truth`).
    Sim(flywheel_sim::SimCommand),
}

/// A failure with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    #[error("{0:#}")]
    Runtime(#[from] anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl From<store::StoreError> for CliError {
    fn from(e: store::StoreError) -> Self {
        CliError::Runtime(e.into())
    }
}

fn load(cli: &Cli) -> Result<Config, CliError> {
    Ok(Config::load(&cli.config, &Env::from_process())?)
}

/// Runs a parsed command line; the binary's `main` only sets up logging.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::CheckConfig => {
            let cfg = load(&cli)?;
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
        Command::Sim(cmd) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)?;
            runtime.block_on(flywheel_sim::run(cmd.clone()))?;
        }
    }
    Ok(())
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
