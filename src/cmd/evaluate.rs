//! `flywheel evaluate`: one evaluation round, as the daemon runs after each
//! sync round, then delivery to every receiver: email and chat (for
//! running flywheel from a timer or cron).

use crate::alert;
use crate::config::Config;

/// `flywheel evaluate` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct EvaluateArgs {
    /// Update alert state and queue the emails, but do not deliver them now
    /// (the daemon's sender, or the next `evaluate`, delivers them).
    #[arg(long)]
    pub no_send: bool,
}

/// One round, then delivery (unless `--no-send`); returns what to print.
pub async fn run(cfg: &Config, args: &EvaluateArgs) -> anyhow::Result<String> {
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    let round = tokio::task::block_in_place(|| alert::evaluate::round(&mut conn, cfg, now))?;
    let mut text = round.to_string();
    if !args.no_send {
        let delivery = alert::sender::send_now(cfg, &mut conn, now).await?;
        text.push_str(&delivery.to_string());
        if !text.ends_with('\n') {
            text.push('\n');
        }
        // Every chat receiver too, before returning; a robot's pace is
        // waited out here (a minute at most: WeCom's and DingTalk's 20 a
        // minute), what is throttled or down is retried by a later round.
        let mut chat = alert::chat_sender::ChatSender::new(
            alert::chat_sender::TIMEOUT,
            std::time::Duration::from_secs(65),
        )?;
        let delivery = chat.deliver_due(&mut conn, &cfg.receivers, now).await?;
        if !delivery.is_empty() {
            text.push_str(&delivery.to_string());
            text.push('\n');
        }
    }
    Ok(text)
}
