//! `flywheel send-test --receiver NAME`: one test message to one receiver,
//! posted at once (not queued, not retried), and what the platform
//! answered. An email receiver gets the test email to its `to` instead.

use crate::alert::{chat_sender, notify, sender};
use crate::chat;
use crate::config::{Config, IMPLICIT_EMAIL};
use crate::store;

/// `flywheel send-test` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SendTestArgs {
    /// The `[[receivers]]` name to send to (`email`: the `[email]` one).
    #[arg(long, value_name = "NAME")]
    pub receiver: String,
}

/// Sends the test message; returns the line to print when the platform
/// took it, an error quoting its answer otherwise.
pub async fn run(cfg: &Config, args: &SendTestArgs) -> anyhow::Result<String> {
    let receivers = cfg.effective_receivers();
    let Some(receiver) = receivers.iter().find(|r| r.name == args.receiver) else {
        let known: Vec<&str> = receivers.iter().map(|r| r.name.as_str()).collect();
        anyhow::bail!(
            "no receiver named \"{}\" (configured: {})",
            args.receiver,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    let now = super::read_clock(cfg).await?.now;
    if chat::Platform::of(receiver.kind()).is_none() {
        // An email receiver: the test email, to its own `to`.
        let mut cfg = cfg.clone();
        if receiver.name != IMPLICIT_EMAIL || !receiver.to.is_empty() {
            cfg.email.to = receiver.to.clone();
        }
        if cfg.email.to.is_empty() {
            anyhow::bail!("no recipients for the test email: set [email] to");
        }
        let notifier = notify::from_config(&cfg)?;
        let (mut conn, _) = store::open_and_migrate(&cfg.daemon.database)?;
        return sender::send_test_email(&cfg, notifier.as_ref(), &mut conn, now).await;
    }
    let lang = cfg.alerts.language;
    let bodies = chat::test_message(receiver, lang, now, cfg.daemon.timezone);
    let answers = chat_sender::send_test(receiver, &bodies).await?;
    let said: Vec<String> = answers.iter().map(ToString::to_string).collect();
    let kind = receiver.kind();
    if answers.len() == bodies.len() && answers.iter().all(chat::Answer::is_delivered) {
        Ok(format!(
            "test message delivered to {} ({kind}): {}\n",
            receiver.name,
            said.join("; ")
        ))
    } else {
        anyhow::bail!(
            "test message to {} ({kind}) not delivered (not retried): {}",
            receiver.name,
            said.join("; ")
        )
    }
}
