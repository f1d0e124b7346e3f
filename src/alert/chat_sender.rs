//! The chat sender: delivers the due chat and webhook rows of the outbox
//! (DESIGN §5.2), one receiver after another, each on its own terms.
//!
//! The crash ordering is the email sender's (`sender`): no transaction is
//! open across a POST, and a row is marked sent only after the platform
//! took it, so a crash between the two resends it once at most (the row
//! is due again when its claim is released at the next start, or its
//! lease runs out). A message of several bodies (WeCom's markdown and the
//! text that @-mentions) records each body the platform took, so a retry
//! resumes after it instead of posting it twice.
//!
//! Each receiver is independent: its own [`Pacer`] (the platform's
//! documented rate, kept before sending, and any wait a throttle answer
//! asked for), its own rows. What one receiver answers delays only that
//! receiver:
//! - delivered: marked sent;
//! - throttled: the row and the receiver's other due rows wait what the
//!   platform asked (`Retry-After`, or the platform's documented wait);
//! - refused for good (a bad key or signature, an IP not allowed, a
//!   keyword missing): the row is given up at once, with the platform's
//!   answer as its error, and shows in `status`;
//! - failed for now (network, timeout, 5xx): the row retries with the
//!   email sender's capped backoff ([`sender::next_attempt`]: 1 min
//!   doubling to 1 h, given up after 48 h), and the receiver's other due
//!   rows wait for the same time without being tried (a robot that is
//!   down costs one timeout per round, not one per message).
//!
//! URLs and secrets stay in the receiver's config: the log lines and
//! errors here name the receiver and quote the platform's (scrubbed)
//! answer only.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::sender;
use crate::chat::{self, Answer, Pacer, Platform};
use crate::config::Receiver;
use crate::store::outbox::{self, ChatRow};
use crate::store::StoreError;

/// Rows of one receiver read at a time, and delivered at most per round.
const BATCH: usize = 100;
/// Per request (robots answer in well under a second).
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// A message a platform took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSent {
    pub id: i64,
    pub receiver: String,
    pub title: String,
    /// The platform's answer (scrubbed of the URL).
    pub reply: String,
}

/// A message not delivered this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatUnsent {
    pub id: i64,
    pub receiver: String,
    pub title: String,
    /// The platform's answer or the network's error, naming the receiver.
    pub error: String,
    /// When it is tried again; `None` when given up.
    pub next_attempt: Option<DateTime<Utc>>,
}

/// What one chat delivery round did.
pub type ChatDelivery = sender::Outcome<ChatSent, ChatUnsent>;

impl sender::Undelivered for ChatUnsent {
    fn next_attempt(&self) -> Option<DateTime<Utc>> {
        self.next_attempt
    }
    fn error(&self) -> &str {
        &self.error
    }
}

impl fmt::Display for ChatDelivery {
    /// "sent 2 chat messages to ops-slack, ops-wecom; 1 will be retried
    /// at 2026-03-02 16:01:04 UTC: ops-feishu: …".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no chat message to send");
        }
        let mut parts = Vec::new();
        if !self.sent.is_empty() {
            let n = self.sent.len();
            parts.push(format!(
                "sent {n} chat message{} to {}",
                if n == 1 { "" } else { "s" },
                sender::names(self.sent.iter().map(|s| s.receiver.as_str()))
            ));
        }
        parts.extend(self.unsent_parts(" chat message(s)"));
        f.write_str(&parts.join("; "))
    }
}

/// `now` plus `wait` rounded up to a whole second (the outbox keeps
/// seconds: a wait of 0.4 s must not come back as "due now").
fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    now + chrono::Duration::seconds(secs.min(i64::MAX as u64 / 1000) as i64)
}

/// How one row's attempt ended.
enum Outcome {
    Delivered(String),
    /// Throttled or failed for now, with the answer and the platform's wait.
    Later(Answer),
    Refused(Answer),
    /// The receiver's pace does not allow a message for this long.
    Paced(Duration),
}

/// The chat sender, kept across rounds by the daemon (the pacers
/// remember what each robot was sent lately).
#[derive(Debug)]
pub struct ChatSender {
    client: reqwest::Client,
    pacers: HashMap<String, Pacer>,
    /// The longest it waits for a receiver's pace within a round; beyond
    /// it, the receiver's rest waits for a later round.
    max_wait: Duration,
}

impl ChatSender {
    /// A sender whose requests time out after `timeout` and which waits
    /// at most `max_wait` for a receiver's pace.
    pub fn new(timeout: Duration, max_wait: Duration) -> anyhow::Result<ChatSender> {
        Ok(ChatSender {
            client: chat::send::client(timeout)?,
            pacers: HashMap::new(),
            max_wait,
        })
    }

    fn pacer(&mut self, receiver: &str, platform: Platform) -> &mut Pacer {
        self.pacers
            .entry(receiver.to_string())
            .or_insert_with(|| Pacer::new(platform))
    }

    /// Posts the bodies of `row` not yet taken, keeping the pace.
    async fn attempt(
        &mut self,
        conn: &mut Connection,
        receiver: &Receiver,
        platform: Platform,
        row: &ChatRow,
    ) -> Result<Outcome, StoreError> {
        let mut reply = String::new();
        for (i, body) in row.bodies.iter().enumerate().skip(row.bodies_sent) {
            let delay = self.pacer(&receiver.name, platform).delay(Instant::now());
            if delay > self.max_wait {
                return Ok(Outcome::Paced(delay));
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            // Signed now, with the system clock (the platform checks it).
            let Some(request) = chat::signed(receiver, body, SystemTime::now()) else {
                return Ok(Outcome::Refused(Answer::Permanent {
                    code: "config".into(),
                    reply: "the receiver has no URL".into(),
                }));
            };
            let answer = chat::send::post(&self.client, &request).await;
            let at = Instant::now();
            self.pacer(&receiver.name, platform).sent(at);
            match answer {
                Answer::Delivered { reply: r } => {
                    reply = r;
                    if i + 1 < row.bodies.len() {
                        outbox::mark_bodies_sent(conn, row.id, i + 1)?;
                    }
                }
                Answer::Throttled { retry_after, .. } => {
                    self.pacer(&receiver.name, platform)
                        .throttled(at, retry_after);
                    return Ok(Outcome::Later(answer));
                }
                Answer::Transient { .. } => return Ok(Outcome::Later(answer)),
                Answer::Permanent { .. } => return Ok(Outcome::Refused(answer)),
            }
        }
        Ok(Outcome::Delivered(reply))
    }

    /// Delivers every due row of `receiver` at `now` (clock time).
    async fn deliver_receiver(
        &mut self,
        conn: &mut Connection,
        receiver: &Receiver,
        platform: Platform,
        now: DateTime<Utc>,
        out: &mut ChatDelivery,
    ) -> Result<(), StoreError> {
        let rows = outbox::chat_due(conn, &receiver.name, now, BATCH)?;
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            if !outbox::claim(conn, row.id, now, sender::CLAIM_LEASE)? {
                continue; // another sender has it
            }
            let unsent = |error: String, next| ChatUnsent {
                id: row.id,
                receiver: receiver.name.clone(),
                title: row.title.clone(),
                error,
                next_attempt: next,
            };
            let wait_rest = match self.attempt(conn, receiver, platform, &row).await? {
                Outcome::Delivered(reply) => {
                    outbox::mark_sent(conn, row.id, now)?;
                    tracing::info!(outbox_id = row.id, receiver = %receiver.name,
                        platform = platform.as_str(), %reply, "chat message delivered");
                    out.sent.push(ChatSent {
                        id: row.id,
                        receiver: receiver.name.clone(),
                        title: row.title.clone(),
                        reply,
                    });
                    None
                }
                Outcome::Paced(delay) => {
                    let until = after(now, delay);
                    outbox::postpone(conn, row.id, until)?;
                    tracing::debug!(outbox_id = row.id, receiver = %receiver.name,
                        wait = ?delay, "chat message waits for the receiver's pace");
                    Some(until)
                }
                Outcome::Refused(answer) => {
                    let error = format!("{} ({}): {answer}", receiver.name, platform.as_str());
                    outbox::mark_failed(conn, row.id, &error, None)?;
                    tracing::error!(outbox_id = row.id, receiver = %receiver.name,
                        platform = platform.as_str(), %error, "chat message refused; giving up");
                    out.failed.push(unsent(error, None));
                    None
                }
                Outcome::Later(answer) => {
                    let error = format!("{} ({}): {answer}", receiver.name, platform.as_str());
                    let asked = match &answer {
                        Answer::Throttled { retry_after, .. } => Some(*retry_after),
                        Answer::Transient { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let asked =
                        asked.map(|d| now + chrono::Duration::from_std(d).unwrap_or_default());
                    let next = if matches!(answer, Answer::Throttled { .. }) {
                        // The platform said how long: no backoff, no giving up.
                        asked
                    } else {
                        sender::next_attempt(row.id, row.attempts + 1, row.created_at, now)
                            .map(|t| asked.map_or(t, |a| a.max(t)))
                    };
                    outbox::mark_failed(conn, row.id, &error, next)?;
                    match next {
                        Some(at) => {
                            tracing::warn!(outbox_id = row.id, receiver = %receiver.name,
                                platform = platform.as_str(), attempts = row.attempts + 1,
                                next_attempt = %at, %error, "chat message not delivered; will retry");
                            out.retrying.push(unsent(error, Some(at)));
                        }
                        None => {
                            tracing::error!(outbox_id = row.id, receiver = %receiver.name,
                                platform = platform.as_str(), attempts = row.attempts + 1,
                                %error, "chat message not delivered; giving up");
                            out.failed.push(unsent(error, None));
                        }
                    }
                    next
                }
            };
            if let Some(until) = wait_rest {
                // The receiver is throttling, down or at its pace: its other
                // rows wait as long, untried (their attempts do not count).
                for rest in rows.by_ref() {
                    outbox::postpone(conn, rest.id, until)?;
                }
            }
        }
        Ok(())
    }

    /// Delivers every due chat row at `now` (clock time), receiver by
    /// receiver; rows of receivers no longer configured stay queued.
    pub async fn deliver_due(
        &mut self,
        conn: &mut Connection,
        receivers: &[Receiver],
        now: DateTime<Utc>,
    ) -> Result<ChatDelivery, StoreError> {
        let mut out = ChatDelivery::default();
        for r in receivers {
            let Some(platform) = r.kind.and_then(Platform::of) else {
                continue;
            };
            self.deliver_receiver(conn, r, platform, now, &mut out)
                .await?;
        }
        Ok(out)
    }
}

/// The test message of `flywheel send-test --receiver`: posted at once,
/// not queued, not retried; returns the platform's answer to each body.
pub async fn send_test(receiver: &Receiver, bodies: &[chat::Body]) -> anyhow::Result<Vec<Answer>> {
    let client = chat::send::client(TIMEOUT)?;
    let mut answers = Vec::new();
    for body in bodies {
        let Some(request) = chat::signed(receiver, body, SystemTime::now()) else {
            anyhow::bail!("receiver {} has no URL", receiver.name);
        };
        let answer = chat::send::post(&client, &request).await;
        let delivered = answer.is_delivered();
        answers.push(answer);
        if !delivered {
            break;
        }
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_wait_rounds_up_to_whole_seconds() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap();
        let cases = [
            (Duration::ZERO, 0),
            (Duration::from_millis(1), 1),
            (Duration::from_millis(999), 1),
            (Duration::from_secs(1), 1),
            (Duration::from_millis(1001), 2),
            (Duration::from_secs(600), 600),
        ];
        for (wait, secs) in cases {
            assert_eq!(
                after(t0, wait),
                t0 + chrono::Duration::seconds(secs),
                "{wait:?}"
            );
        }
    }

    #[test]
    fn a_delivery_says_who_got_what_and_what_waits() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 16, 1, 4).unwrap();
        let sent = |r: &str| ChatSent {
            id: 1,
            receiver: r.into(),
            title: "t".into(),
            reply: "ok".into(),
        };
        let d = ChatDelivery {
            sent: vec![sent("ops-slack"), sent("ops-slack"), sent("cn-wecom")],
            retrying: vec![ChatUnsent {
                id: 2,
                receiver: "cn-feishu".into(),
                title: "t".into(),
                error: "cn-feishu (feishu): not delivered for now: HTTP 503".into(),
                next_attempt: Some(at),
            }],
            failed: vec![],
        };
        assert_eq!(
            d.to_string(),
            "sent 3 chat messages to ops-slack, cn-wecom; 1 chat message(s) will be retried at \
             2026-03-02 16:01:04 UTC: cn-feishu (feishu): not delivered for now: HTTP 503"
        );
        assert_eq!(
            ChatDelivery::default().to_string(),
            "no chat message to send"
        );
    }
}
