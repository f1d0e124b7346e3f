//! `flywheel backup PATH`: the online copy (`store::backup`) of the
//! configured database.

use std::path::PathBuf;

use crate::config::Config;
use crate::store::backup;

/// `flywheel backup` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// The backup file to write (its directory must exist).
    pub path: PathBuf,
}

/// Copies the configured database to the path; returns the line to print.
pub fn run(cfg: &Config, args: &BackupArgs) -> anyhow::Result<String> {
    Ok(format!(
        "{}\n",
        backup::backup(&cfg.daemon.database, &args.path)?
    ))
}
