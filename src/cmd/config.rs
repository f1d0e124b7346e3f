//! `flywheel check-config`: validates the file and says what it configures.

use std::path::Path;

use super::CliError;
use crate::config::{Config, Env};
use crate::store;

/// Prints the warnings (to stderr) and the one-line summary.
pub fn check(path: &Path) -> Result<(), CliError> {
    let cfg = Config::load(path, &Env::from_process())?;
    let mut warnings = cfg.file_warnings(path);
    warnings.extend(store::location_problem(&cfg.daemon.database));
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!("ok: {}: {}", path.display(), cfg.summary());
    Ok(())
}
