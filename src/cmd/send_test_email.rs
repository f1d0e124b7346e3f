//! `flywheel send-test-email`: one test email through the configured
//! transport, delivered at once.

use crate::alert::{notify, sender};
use crate::config::Config;
use crate::store;

/// Sends the test email; returns the line to print.
pub async fn run(cfg: &Config) -> anyhow::Result<String> {
    if cfg.email.to.is_empty() {
        anyhow::bail!("no recipients for the test email: set [email] to");
    }
    let notifier = notify::from_config(cfg)?;
    let (mut conn, _) = store::open_and_migrate(&cfg.daemon.database)?;
    let now = super::read_clock(cfg).await?.now;
    sender::send_test_email(cfg, notifier.as_ref(), &mut conn, now).await
}
