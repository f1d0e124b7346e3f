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
    #[arg(long)]
    pub account: String,
    /// Amazon's reportType, e.g. GET_SELLER_FEEDBACK_DATA.
    #[arg(long = "report-type", value_name = "TYPE")]
    pub report_type: String,
    /// Marketplace id or country code (needed when the account has several).
    #[arg(long)]
    pub marketplace: Option<String>,
    /// The report file.
    pub file: PathBuf,
}

impl ImportArgs {
    /// Checks the account and the report type (bad usage: exit 2).
    pub fn validate(&self, cfg: &Config) -> Result<(), CliError> {
        let account = &self.account;
        if !cfg.accounts.iter().any(|a| &a.name == account) {
            return Err(CliError::Usage(format!(
                "no account \"{account}\" in the config"
            )));
        }
        let report_type = &self.report_type;
        if !import::REPORT_TYPES.contains(&report_type.as_str()) {
            return Err(CliError::Usage(format!(
                "unknown report type \"{report_type}\"; import understands {}",
                import::REPORT_TYPES.join(", ")
            )));
        }
        Ok(())
    }
}

/// Imports the file; returns what to print.
pub async fn run(cfg: &Config, args: &ImportArgs) -> anyhow::Result<String> {
    let mut opened = super::open(cfg).await?;
    let done = import::import_file(
        cfg,
        &mut opened.conn,
        &args.account,
        args.marketplace.as_deref(),
        &args.report_type,
        &args.file,
        opened.now,
    )?;
    Ok(format!("imported {}: {done}\n", args.file.display()))
}
