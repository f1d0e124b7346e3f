//! `flywheel check-config`: validates the file and says what it configures.

use std::path::Path;

use super::CliError;
use crate::config::{Config, Env};
use crate::store;

/// Prints the warnings (to stderr) and the one-line summary.
pub fn check(path: &Path) -> Result<(), CliError> {
    let cfg = Config::load(path, &Env::from_process())?;
    products_files(path, &cfg)?;
    let mut warnings = cfg.file_warnings(path);
    warnings.extend(cfg.setup_warnings());
    warnings.extend(store::location_problem(&cfg.daemon.database));
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!("ok: {}: {}", path.display(), cfg.summary());
    Ok(())
}

/// Reads every `products_file` the config names: a file that cannot be
/// used is a configuration error (exit 2) naming the file, row and column.
fn products_files(path: &Path, cfg: &Config) -> Result<(), CliError> {
    let files = std::iter::once(("products_file".to_string(), &cfg.products_file)).chain(
        cfg.accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("accounts[{i}].products_file"), &a.products_file)),
    );
    let problems: Vec<String> = files
        .filter_map(|(key, file)| {
            let e = store::names::read_products(file.as_deref()?).err()?;
            Some(format!("{}: {key}: {e}", path.display()))
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(CliError::Usage(problems.join("\n")))
}
