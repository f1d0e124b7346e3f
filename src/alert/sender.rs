//! The sender: delivers due outbox rows through a [`Notifier`], with
//! retries and capped backoff (DESIGN §5, "durable outbox").
//!
//! Crash ordering is the point of this module. A row is marked sent only
//! after the server accepted it, and no database transaction is held open
//! across the network send (a slow SMTP server must not block the daemon's
//! writers). So a crash between "accepted" and "marked" resends the row on
//! the next round: the recipient may get it twice, but with the same
//! Message-ID (the outbox derives it from the row), which clients and
//! servers recognise as one email. Losing an alert is worse than a
//! recognisable duplicate.
//!
//! Retry policy ([`next_attempt`], pure): 1 min, 2, 4 … capped at 1 h, plus
//! a little jitter derived from the row id so a backlog does not retry in
//! lockstep. A permanent reply gives up at once, and so does a failure
//! 48 h after the row was created (after at least a few attempts); the row
//! stays unsent with its last error, and `status` shows it. When the
//! transport itself is down, the rest of the round is postponed without
//! contacting it, so a dead server costs one timeout per round, not one
//! per queued email.
//!
//! Two senders running at once (the daemon and `flywheel digest`) could
//! both deliver the same due row; the Message-ID makes that a recognisable
//! duplicate too.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::notify::{self, Notifier, NotifyError};
use super::Rendered;
use crate::config::{Config, Security, Transport};
use crate::store::outbox::{self, Kind, NewEmail, Row};
use crate::store::StoreError;

/// The first retry waits this long; each further one twice as long.
pub const FIRST_RETRY: Duration = Duration::from_secs(60);
/// The longest wait between two attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);
/// A row still failing this long after it was created is given up…
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(48 * 3600);
/// … once it has been tried at least this often (a daemon that was down
/// for days still gives an old row a few chances).
pub const MIN_ATTEMPTS: i64 = 5;
/// Rows read from the outbox at a time.
const BATCH: usize = 50;
/// Rows one call delivers at most (the rest wait for the next round).
const MAX_PER_CALL: usize = 1000;

/// An email the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: i64,
    pub kind: Kind,
    pub subject: String,
    pub recipients: Vec<String>,
    pub message_id: String,
    /// The server's reply, e.g. `250 2.0.0 Ok: queued as 4F2A`.
    pub reply: String,
}

/// An email that was not delivered this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    pub id: i64,
    pub kind: Kind,
    pub subject: String,
    pub recipients: Vec<String>,
    pub message_id: String,
    /// Names the transport and `host:port` and quotes the server.
    pub error: String,
    /// When it is tried again; `None` when given up.
    pub next_attempt: Option<DateTime<Utc>>,
}

/// What one delivery round did: of emails ([`Delivery`]) or of chat
/// messages (`chat_sender::ChatDelivery`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<S, U> {
    pub sent: Vec<S>,
    /// Failed for now, tried again at `next_attempt`.
    pub retrying: Vec<U>,
    /// Given up: a permanent refusal, or retried for too long.
    pub failed: Vec<U>,
}

impl<S, U> Default for Outcome<S, U> {
    fn default() -> Self {
        Outcome {
            sent: Vec::new(),
            retrying: Vec::new(),
            failed: Vec::new(),
        }
    }
}

impl<S, U> Outcome<S, U> {
    /// Whether there was nothing to deliver.
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty() && self.retrying.is_empty() && self.failed.is_empty()
    }
}

/// A message not delivered this time, email or chat.
pub trait Undelivered {
    /// When it is tried again; `None` when given up.
    fn next_attempt(&self) -> Option<DateTime<Utc>>;
    /// Why, naming the transport or receiver.
    fn error(&self) -> &str;
}

impl Undelivered for Unsent {
    fn next_attempt(&self) -> Option<DateTime<Utc>> {
        self.next_attempt
    }
    fn error(&self) -> &str {
        &self.error
    }
}

impl<S, U: Undelivered> Outcome<S, U> {
    /// "N{noun} will be retried at …: error" and "N{noun} failed for
    /// good: error", for the messages not delivered (the first's error).
    pub fn unsent_parts(&self, noun: &str) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(first) = self.retrying.first() {
            let at = self
                .retrying
                .iter()
                .filter_map(Undelivered::next_attempt)
                .min()
                .map(|t| format!(" at {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            parts.push(format!(
                "{}{noun} will be retried{at}: {}",
                self.retrying.len(),
                first.error()
            ));
        }
        if let Some(first) = self.failed.first() {
            parts.push(format!(
                "{}{noun} failed for good: {}",
                self.failed.len(),
                first.error()
            ));
        }
        parts
    }
}

/// The distinct names, in first-seen order, joined by ", ".
pub(crate) fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for n in it {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.join(", ")
}

/// What one email delivery round did.
pub type Delivery = Outcome<Sent, Unsent>;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Delivery {
    /// "sent 2 emails to seller@example.com; 1 will be retried at
    /// 2026-03-02 16:01:04 UTC: smtp …: Connection refused".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no email to send");
        }
        let mut parts = Vec::new();
        if !self.sent.is_empty() {
            parts.push(format!(
                "sent {} to {}",
                plural(self.sent.len(), "email", "emails"),
                names(
                    self.sent
                        .iter()
                        .flat_map(|s| &s.recipients)
                        .map(String::as_str)
                )
            ));
        }
        parts.extend(self.unsent_parts(""));
        f.write_str(&parts.join("; "))
    }
}

/// A cheap, well-spread hash of the row id (splitmix64), for jitter.
fn mix(id: i64) -> u64 {
    let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// When to try row `id` again after its `attempts`-th failure (counting
/// this one) at `now`: 1 min, 2, 4 … capped at 1 h, plus 0–10 % jitter
/// from the id; `None` (give up) once the row is 48 h old and was tried
/// [`MIN_ATTEMPTS`] times.
pub fn next_attempt(
    id: i64,
    attempts: i64,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let age = now.signed_duration_since(created_at);
    if age >= chrono::Duration::from_std(GIVE_UP_AFTER).expect("fits") && attempts >= MIN_ATTEMPTS {
        return None;
    }
    let doublings = attempts.clamp(1, 20) - 1;
    let base = FIRST_RETRY.as_secs().saturating_mul(1 << doublings);
    let delay = base.min(MAX_RETRY.as_secs());
    let jitter = delay * (mix(id) % 100) / 1000;
    Some(now + chrono::Duration::seconds((delay + jitter) as i64))
}

/// Whether a failed row is retried at all (a test email is not: the
/// command already told the operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    Backoff,
    Never,
}

enum Step {
    Sent(Sent),
    Retrying(Unsent),
    Failed(Unsent),
}

fn unsent(row: &Row, error: &str, next: Option<DateTime<Utc>>) -> Unsent {
    Unsent {
        id: row.id,
        kind: row.kind,
        subject: row.subject.clone(),
        recipients: row.recipients.clone(),
        message_id: row.message_id.clone(),
        error: error.to_string(),
        next_attempt: next,
    }
}

/// Records a failure of `row` and logs it; `permanent` gives up at once.
fn record_failure(
    conn: &Connection,
    row: &Row,
    error: &str,
    permanent: bool,
    retry: Retry,
    now: DateTime<Utc>,
) -> Result<Step, StoreError> {
    let next = if permanent || retry == Retry::Never {
        None
    } else {
        next_attempt(row.id, row.attempts + 1, row.created_at, now)
    };
    outbox::mark_failed(conn, row.id, error, next)?;
    match next {
        Some(at) => {
            tracing::warn!(outbox_id = row.id, kind = row.kind.as_str(), recipients = row.recipients.len(),
                attempts = row.attempts + 1, next_attempt = %at, %error, "email not delivered; will retry");
            Ok(Step::Retrying(unsent(row, error, Some(at))))
        }
        None => {
            tracing::error!(outbox_id = row.id, kind = row.kind.as_str(), recipients = row.recipients.len(),
                attempts = row.attempts + 1, %error, "email not delivered; giving up");
            Ok(Step::Failed(unsent(row, error, None)))
        }
    }
}

/// Delivers one row and records the outcome. Returns the step and the
/// error, if any (an `Unavailable` one stops the round).
///
/// Takes `&mut Connection` although it only reads through it: a
/// `Connection` is `Send` but not `Sync`, so holding a shared reference
/// across the send would make the future unfit for `tokio::spawn`.
async fn attempt(
    conn: &mut Connection,
    notifier: &dyn Notifier,
    row: &Row,
    retry: Retry,
    now: DateTime<Utc>,
) -> Result<(Step, Option<NotifyError>), StoreError> {
    // No transaction is open here: the send may take the whole timeout.
    match notifier.deliver(row).await {
        Ok(accepted) => {
            outbox::mark_sent(conn, row.id, now)?;
            tracing::info!(outbox_id = row.id, kind = row.kind.as_str(), recipients = row.recipients.len(),
                reply = %accepted.reply, "email delivered");
            Ok((
                Step::Sent(Sent {
                    id: row.id,
                    kind: row.kind,
                    subject: row.subject.clone(),
                    recipients: row.recipients.clone(),
                    message_id: row.message_id.clone(),
                    reply: accepted.reply,
                }),
                None,
            ))
        }
        Err(e) => {
            let step = record_failure(conn, row, e.message(), e.is_permanent(), retry, now)?;
            Ok((step, Some(e)))
        }
    }
}

fn push(out: &mut Delivery, step: Step) {
    match step {
        Step::Sent(s) => out.sent.push(s),
        Step::Retrying(u) => out.retrying.push(u),
        Step::Failed(u) => out.failed.push(u),
    }
}

/// How long a claimed row is reserved for one attempt: longer than the
/// whole SMTP conversation may take (4 × a generous `[email] timeout`),
/// and than a chat sender's wait for a robot's pace plus its request.
pub const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// Delivers every row due at `now`, oldest first: marks each sent once the
/// server accepted it, otherwise records the error and the next attempt.
/// A store error stops the round (what was delivered stays marked).
pub async fn deliver_due(
    conn: &mut Connection,
    notifier: &dyn Notifier,
    now: DateTime<Utc>,
) -> Result<Delivery, StoreError> {
    let mut out = Delivery::default();
    let mut seen = 0;
    'round: while seen < MAX_PER_CALL {
        // Each processed row leaves the due set (sent, or rescheduled after
        // now), so this loop ends.
        let rows = outbox::due(conn, now, BATCH)?;
        if rows.is_empty() {
            break;
        }
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            seen += 1;
            if !outbox::claim(conn, row.id, now, CLAIM_LEASE)? {
                continue; // another sender has it
            }
            let (step, err) = attempt(conn, notifier, &row, Retry::Backoff, now).await?;
            push(&mut out, step);
            if let Some(e) = err.filter(NotifyError::is_unavailable) {
                // The transport is down: postpone the rest of this batch with
                // the same error instead of waiting out a timeout for each.
                for rest in rows {
                    let step =
                        record_failure(conn, &rest, e.message(), false, Retry::Backoff, now)?;
                    push(&mut out, step);
                }
                break 'round;
            }
        }
    }
    Ok(out)
}

/// Delivers row `id` now, whether or not it is due (nothing when it was
/// already sent, was given up, or does not exist); failures are retried as
/// usual.
pub async fn deliver_one(
    conn: &mut Connection,
    notifier: &dyn Notifier,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Delivery, StoreError> {
    deliver_id(conn, notifier, id, Retry::Backoff, now).await
}

async fn deliver_id(
    conn: &mut Connection,
    notifier: &dyn Notifier,
    id: i64,
    retry: Retry,
    now: DateTime<Utc>,
) -> Result<Delivery, StoreError> {
    let mut out = Delivery::default();
    let row = match outbox::get(conn, id)? {
        Some(r) => r,
        None => return Ok(out),
    };
    // A sent row must never go out again; a given-up one stays given up.
    if row.sent_at.is_some() || outbox::given_up(conn, id)? {
        return Ok(out);
    }
    let (step, _) = attempt(conn, notifier, &row, retry, now).await?;
    push(&mut out, step);
    Ok(out)
}

/// Builds the notifier from `[email]` and delivers everything due (the
/// daemon's sender tick and `flywheel digest` call this).
pub async fn send_now(
    cfg: &Config,
    conn: &mut Connection,
    now: DateTime<Utc>,
) -> anyhow::Result<Delivery> {
    let notifier = notify::from_config(cfg)?;
    Ok(deliver_due(conn, notifier.as_ref(), now).await?)
}

/// The test email's content: which transport it went through, and when.
fn test_email(cfg: &Config, through: &str, now: DateTime<Utc>) -> Rendered {
    let how = match cfg.email.transport {
        Transport::Smtp => format!(
            "the SMTP server {through} ({})",
            match cfg.email.security {
                Security::Starttls => "STARTTLS",
                Security::Tls => "implicit TLS",
                Security::None => "no encryption",
            }
        ),
        Transport::Sendmail => through.to_string(),
        Transport::File => through.to_string(),
    };
    let at = now.format("%Y-%m-%d %H:%M:%S UTC");
    let text = format!(
        "This is a test email from flywheel.\n\n\
         It was sent through {how} at {at}.\n\
         If you can read it, flywheel's alert emails will reach you too.\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p>This is a test email from <b>flywheel</b>.</p>\
         <p>It was sent through {} at {}.</p>\
         <p>If you can read it, flywheel's alert emails will reach you too.</p>\
         </body></html>",
        super::render::layout::esc(&how),
        super::render::layout::esc(&at.to_string())
    );
    Rendered {
        subject: "flywheel test email".to_string(),
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The test email of `flywheel send-test-email`: enqueues one email to
/// `[email] to` (which must not be empty) and delivers that row at once
/// through `notifier` (no other due row is sent as a side effect). A failed
/// test email is not retried: the error is the answer.
pub async fn send_test_email(
    cfg: &Config,
    notifier: &dyn Notifier,
    conn: &mut Connection,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let through = notifier.describe();
    let rendered = test_email(cfg, &through, now);
    let (id, message_id) = outbox::enqueue(
        conn,
        &NewEmail {
            account: None,
            kind: Kind::Test,
            recipients: &cfg.email.to,
            rendered: &rendered,
            fingerprints: &[],
            in_reply_to: None,
            domain: notify::sender_domain(&cfg.email.from),
        },
        now,
    )?;
    let d = deliver_id(conn, notifier, id, Retry::Never, now).await?;
    if let Some(s) = d.sent.first() {
        return Ok(format!(
            "test email accepted by {through} for {} (Message-ID {message_id}; {})",
            cfg.email.to.join(", "),
            s.reply
        ));
    }
    match d.failed.first().or(d.retrying.first()) {
        Some(u) => anyhow::bail!("test email not delivered (not retried): {}", u.error),
        None => anyhow::bail!("test email (outbox row {id}) was not delivered"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::Kind;
    use chrono::TimeZone;
    use std::sync::Mutex;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 16, 0, 0).unwrap()
    }

    #[test]
    fn backoff_doubles_caps_and_gives_up() {
        let secs = |attempts: i64, now: DateTime<Utc>| {
            next_attempt(7, attempts, t0(), now).map(|t| (t - now).num_seconds())
        };
        let within = |got: Option<i64>, base: i64| {
            let g = got.unwrap();
            assert!(g >= base && g <= base + base / 10, "{g} vs {base}");
        };
        within(secs(1, t0()), 60);
        within(secs(2, t0()), 120);
        within(secs(3, t0()), 240);
        within(secs(7, t0()), 3600);
        within(secs(60, t0()), 3600);
        let late = t0() + chrono::Duration::hours(47);
        within(secs(30, late), 3600);
        assert_eq!(secs(30, t0() + chrono::Duration::hours(48)), None);
        // An old row that was hardly tried (the daemon was down) gets a few chances.
        within(secs(1, t0() + chrono::Duration::hours(72)), 60);
        assert_eq!(secs(5, t0() + chrono::Duration::hours(72)), None);
        // Jitter differs between rows, so a backlog does not retry in lockstep.
        let spread: std::collections::HashSet<_> =
            (1..20).map(|id| next_attempt(id, 7, t0(), t0())).collect();
        assert!(spread.len() > 5);
    }

    /// A notifier that records what it was given and answers from a script.
    #[derive(Debug, Default)]
    struct Fake {
        delivered: Mutex<Vec<i64>>,
        answers: Mutex<Vec<Result<(), NotifyError>>>,
    }

    impl Notifier for Fake {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn deliver<'a>(&'a self, row: &'a Row) -> notify::DeliverFuture<'a> {
            Box::pin(async move {
                self.delivered.lock().unwrap().push(row.id);
                let mut a = self.answers.lock().unwrap();
                match if a.is_empty() { Ok(()) } else { a.remove(0) } {
                    Ok(()) => Ok(notify::Accepted {
                        reply: "250 ok".into(),
                    }),
                    Err(e) => Err(e),
                }
            })
        }
    }

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut conn, ":memory:").unwrap();
        conn
    }

    fn enqueue(conn: &Connection, subject: &str) -> i64 {
        let r = Rendered {
            subject: subject.into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
            attachments: vec![],
        };
        outbox::enqueue(
            conn,
            &NewEmail {
                account: None,
                kind: Kind::Firing,
                recipients: &["seller@example.com".to_string()],
                rendered: &r,
                fingerprints: &[],
                in_reply_to: None,
                domain: "example.com",
            },
            t0(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn the_round_can_run_on_a_spawned_task() {
        fn is_send<T: Send>(_: &T) {}
        let mut conn = db();
        let fake = Fake::default();
        is_send(&deliver_due(&mut conn, &fake, t0()));
        is_send(&deliver_one(&mut conn, &fake, 1, t0()));
        let cfg = Config::default();
        is_send(&send_now(&cfg, &mut conn, t0()));
        is_send(&send_test_email(&cfg, &fake, &mut conn, t0()));
    }

    #[tokio::test]
    async fn accepted_rows_are_marked_and_failures_rescheduled() {
        let mut conn = db();
        let a = enqueue(&conn, "a");
        let b = enqueue(&conn, "b");
        let c = enqueue(&conn, "c");
        let fake = Fake::default();
        fake.answers.lock().unwrap().extend([
            Ok(()),
            Err(NotifyError::Temporary("451 later".into())),
            Err(NotifyError::Permanent("550 no".into())),
        ]);
        let d = deliver_due(&mut conn, &fake, t0()).await.unwrap();
        assert_eq!(d.sent.iter().map(|s| s.id).collect::<Vec<_>>(), [a]);
        assert_eq!(d.retrying.iter().map(|s| s.id).collect::<Vec<_>>(), [b]);
        assert_eq!(d.failed.iter().map(|s| s.id).collect::<Vec<_>>(), [c]);
        let shown = d.to_string();
        assert!(
            shown.starts_with(
                "sent 1 email to seller@example.com; 1 will be retried at 2026-03-02 16:01"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("451 later") && shown.contains("1 failed for good: 550 no"),
            "{shown}"
        );
        assert_eq!(
            outbox::backlog(&conn).unwrap(),
            outbox::Backlog {
                pending: 1,
                failed: 1
            }
        );
        // Nothing is due before the retry time; after it only b is.
        let again = deliver_due(&mut conn, &fake, t0() + chrono::Duration::seconds(30))
            .await
            .unwrap();
        assert!(again.is_empty());
        let later = deliver_due(&mut conn, &fake, t0() + chrono::Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(later.sent.iter().map(|s| s.id).collect::<Vec<_>>(), [b]);
        assert_eq!(*fake.delivered.lock().unwrap(), [a, b, c, b]);
    }

    #[tokio::test]
    async fn a_transport_that_is_down_is_tried_once_per_round() {
        let mut conn = db();
        let ids: Vec<i64> = (0..4).map(|i| enqueue(&conn, &format!("s{i}"))).collect();
        let fake = Fake::default();
        fake.answers
            .lock()
            .unwrap()
            .push(Err(NotifyError::Unavailable(
                "smtp 127.0.0.1:1: refused".into(),
            )));
        let d = deliver_due(&mut conn, &fake, t0()).await.unwrap();
        assert_eq!(fake.delivered.lock().unwrap().len(), 1);
        assert_eq!(d.retrying.len(), 4);
        for id in ids {
            let row = outbox::get(&conn, id).unwrap().unwrap();
            assert_eq!(row.last_error.as_deref(), Some("smtp 127.0.0.1:1: refused"));
        }
    }

    #[tokio::test]
    async fn deliver_one_sends_only_that_row_and_never_twice() {
        let mut conn = db();
        let a = enqueue(&conn, "a");
        let b = enqueue(&conn, "b");
        let fake = Fake::default();
        let d = deliver_one(&mut conn, &fake, b, t0()).await.unwrap();
        assert_eq!(d.sent.len(), 1);
        assert!(deliver_one(&mut conn, &fake, b, t0())
            .await
            .unwrap()
            .is_empty());
        assert!(deliver_one(&mut conn, &fake, 999, t0())
            .await
            .unwrap()
            .is_empty());
        assert_eq!(*fake.delivered.lock().unwrap(), [b]);
        assert_eq!(outbox::due(&conn, t0(), 10).unwrap()[0].id, a);
    }
}
