//! `flywheel migrate`: creates the database or brings its schema up to date.

use crate::config::Config;
use crate::store;

/// Migrates and records the config's accounts; returns what to print.
pub fn run(cfg: &Config) -> Result<String, store::StoreError> {
    let path = &cfg.daemon.database;
    let (mut conn, report) = store::open_and_migrate(path)?;
    store::ops::sync_accounts(&mut conn, cfg, chrono::Utc::now())?;
    Ok(if report.applied.is_empty() {
        format!(
            "database {}: schema version {}, up to date\n",
            path.display(),
            report.to_version
        )
    } else {
        let names: Vec<String> = report
            .applied
            .iter()
            .map(|(v, n)| format!("{v:04}_{n}"))
            .collect();
        format!(
            "database {}: schema version {} -> {} (applied {})\n",
            path.display(),
            report.from_version,
            report.to_version,
            names.join(", ")
        )
    })
}
