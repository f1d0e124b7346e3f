//! `flywheel import`: a report file downloaded by hand from Seller Central,
//! loaded through the sync jobs' parsers.

use std::path::PathBuf;

use super::CliError;
use crate::config::Config;
use crate::sync::import;

/// `flywheel import` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The config's account the file belongs to.
    #[arg(long, required_unless_present = "list_types")]
    pub account: Option<String>,
    /// Amazon's reportType (e.g. GET_SELLER_FEEDBACK_DATA) or the report's
    /// name on Seller Central (e.g. "All Orders"): see --list-types.
    #[arg(
        long = "report-type",
        value_name = "TYPE",
        required_unless_present = "list_types"
    )]
    pub report_type: Option<String>,
    /// Marketplace id or country code (needed when the account has several).
    #[arg(long)]
    pub marketplace: Option<String>,
    /// Print the report types import reads, with the other names it
    /// accepts for each and where a seller downloads the file, and exit.
    #[arg(long, conflicts_with_all = ["account", "report_type", "marketplace", "file"])]
    pub list_types: bool,
    /// The report file.
    #[arg(required_unless_present = "list_types")]
    pub file: Option<PathBuf>,
}

/// The parts of [`ImportArgs`] an import needs (all present unless
/// `--list-types`, which clap enforces).
struct Wanted<'a> {
    account: &'a str,
    report_type: &'a str,
    file: &'a PathBuf,
}

impl ImportArgs {
    fn wanted(&self) -> Result<Wanted<'_>, CliError> {
        match (&self.account, &self.report_type, &self.file) {
            (Some(account), Some(report_type), Some(file)) => Ok(Wanted {
                account,
                report_type,
                file,
            }),
            _ => Err(CliError::Usage(
                "import needs --account, --report-type and a file (or --list-types)".into(),
            )),
        }
    }

    /// Checks the account and the report type (bad usage: exit 2).
    pub fn validate(&self, cfg: &Config) -> Result<(), CliError> {
        let Wanted {
            account,
            report_type,
            ..
        } = self.wanted()?;
        if !cfg.accounts.iter().any(|a| a.name == account) {
            return Err(CliError::Usage(format!(
                "no account \"{account}\" in the config"
            )));
        }
        if import::resolve_type(report_type).is_none() {
            return Err(CliError::Usage(format!(
                "unknown report type \"{report_type}\"; import understands {} (or their Seller Central names: flywheel import --list-types)",
                import::REPORT_TYPES.join(", ")
            )));
        }
        Ok(())
    }
}

/// What `flywheel import --list-types` prints.
pub fn list_types() -> String {
    import::list_types()
}

/// Imports the file; returns what to print.
pub async fn run(cfg: &Config, args: &ImportArgs) -> anyhow::Result<String> {
    let w = args.wanted()?;
    let mut opened = super::open(cfg).await?;
    let done = import::import_file(
        cfg,
        &mut opened.conn,
        w.account,
        args.marketplace.as_deref(),
        w.report_type,
        w.file,
        opened.now,
    )?;
    Ok(format!("imported {}: {done}\n", w.file.display()))
}
