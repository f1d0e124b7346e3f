//! The durable outbox (DESIGN §5): one row per email, written in the same
//! transaction as the alert state that caused it; the sender delivers due
//! rows and marks them sent only after the server accepted the message.
//!
//! The Message-ID derives from the row (id, creation time, sender domain)
//! and is stored when the row is inserted, so a resend after a crash between
//! "server accepted" and "marked sent" carries the same Message-ID and mail
//! clients and servers recognise the duplicate.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::ops::ts;
use super::StoreError;
use crate::model::message::{Attachment, Rendered};

/// What kind of email a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Firing,
    Resolved,
    Digest,
    Test,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Firing => "firing",
            Kind::Resolved => "resolved",
            Kind::Digest => "digest",
            Kind::Test => "test",
        }
    }
    fn parse(s: &str) -> Kind {
        match s {
            "resolved" => Kind::Resolved,
            "digest" => Kind::Digest,
            "test" => Kind::Test,
            _ => Kind::Firing,
        }
    }
}

/// An email to enqueue.
#[derive(Debug, Clone)]
pub struct NewEmail<'a> {
    /// `None` for `send-test-email`.
    pub account: Option<&'a str>,
    pub kind: Kind,
    pub recipients: &'a [String],
    pub rendered: &'a Rendered,
    /// The alerts this email reports.
    pub fingerprints: &'a [String],
    /// Message-ID (with angle brackets) this email replies to (a resolution
    /// under its firing email).
    pub in_reply_to: Option<&'a str>,
    /// The domain of the Message-ID (the `from` address's domain).
    pub domain: &'a str,
}

/// A stored email, as the sender reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub account: Option<String>,
    pub kind: Kind,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// With angle brackets: `<flywheel.42.20261124T080000@example.com>`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Set once the server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    pub attachments: Vec<Attachment>,
}

/// The Message-ID of outbox row `id` created at `created`.
pub fn message_id(id: i64, created: DateTime<Utc>, domain: &str) -> String {
    let domain: String = domain
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let domain = if domain.is_empty() {
        "flywheel.invalid".to_string()
    } else {
        domain
    };
    format!(
        "<flywheel.{id}.{}@{domain}>",
        created.format("%Y%m%dT%H%M%S")
    )
}

/// Inserts one email (and its attachments) due now; returns the row id and
/// its Message-ID. Call inside the transaction that writes the alert state.
pub fn enqueue(
    conn: &Connection,
    email: &NewEmail<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, String), StoreError> {
    let r = email.rendered;
    conn.execute(
        "INSERT INTO outbox (account, kind, recipients_json, subject, body_text, body_html,
                             alert_fingerprints_json, in_reply_to, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            email.account,
            email.kind.as_str(),
            serde_json::to_string(email.recipients).expect("strings serialize"),
            r.subject,
            r.text,
            r.html,
            serde_json::to_string(email.fingerprints).expect("strings serialize"),
            email.in_reply_to,
            ts(now),
        ],
    )?;
    let id = conn.last_insert_rowid();
    let mid = message_id(id, now, email.domain);
    conn.execute(
        "UPDATE outbox SET message_id = ?2 WHERE id = ?1",
        params![id, mid],
    )?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO outbox_attachments (outbox_id, content_id, filename, content_type, data)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for a in &r.attachments {
        ins.execute(params![
            id,
            a.content_id,
            a.filename,
            a.content_type,
            a.data
        ])?;
    }
    Ok((id, mid))
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

const COLUMNS: &str = "id, account, kind, recipients_json, subject, body_text, body_html,
                       message_id, in_reply_to, created_at, attempts, last_error, sent_at";

fn read_row(conn: &Connection, r: &rusqlite::Row<'_>) -> Result<Row, StoreError> {
    let id: i64 = r.get(0)?;
    let kind: String = r.get(2)?;
    let recipients: String = r.get(3)?;
    let created: String = r.get(9)?;
    let attachments = super::statement_rows(
        &mut *conn.prepare_cached(
            "SELECT content_id, filename, content_type, data FROM outbox_attachments
             WHERE outbox_id = ?1 ORDER BY content_id",
        )?,
        [id],
    )?;
    Ok(Row {
        id,
        account: r.get(1)?,
        kind: Kind::parse(&kind),
        recipients: serde_json::from_str(&recipients).unwrap_or_default(),
        subject: r.get(4)?,
        body_text: r.get(5)?,
        body_html: r.get(6)?,
        message_id: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        in_reply_to: r.get(8)?,
        created_at: parse_ts(&created),
        attempts: r.get(10)?,
        last_error: r.get(11)?,
        sent_at: r.get::<_, Option<String>>(12)?.as_deref().map(parse_ts),
        attachments,
    })
}

/// Unsent emails due at `now`, oldest first, at most `limit` (chat rows
/// are the chat sender's: [`chat_due`]).
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> Result<Vec<Row>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?1
           AND platform IS NULL
         ORDER BY next_attempt_at, id LIMIT ?2"
    ))?;
    let mut rows = st.query(params![ts(now), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read_row(conn, r)?);
    }
    Ok(out)
}

/// One row by id (sent or not).
pub fn get(conn: &Connection, id: i64) -> Result<Option<Row>, StoreError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?;
    let mut rows = st.query([id])?;
    match rows.next()? {
        Some(r) => Ok(Some(read_row(conn, r)?)),
        None => Ok(None),
    }
}

/// Claims a due row for one delivery attempt: pushes its next attempt to
/// `now + lease` if it is still unsent and due. Returns false when another
/// sender (the daemon and a `flywheel digest --send` at the same moment)
/// claimed it first. If the claimer dies mid-send, the row is due again
/// when the lease runs out (and the resend carries the same Message-ID).
pub fn claim(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE outbox SET next_attempt_at = ?3
         WHERE id = ?1 AND sent_at IS NULL AND next_attempt_at <= ?2",
        params![id, ts(now), ts(now + lease)],
    )?;
    Ok(n == 1)
}

/// Releases the claims a killed sender left behind, so a restarted daemon
/// delivers them at once instead of waiting out [`claim`]'s lease (15 min:
/// a crash-looping daemon would otherwise hold every new alert that long).
/// Call only while holding the daemon's database lock, before the sender
/// starts: no live sender of this daemon can hold a claim then.
///
/// A row never attempted (`attempts = 0`, no error) that is not due yet can
/// only be in that state through a claim (enqueue makes rows due at once),
/// so exactly those are released. A claimed retry cannot be told from a
/// row waiting out its backoff; it keeps the lease (at most 15 min, no
/// longer than its backoff would be by then anyway). A `flywheel digest
/// --send` delivering at this very moment may then send a row twice, with
/// the same Message-ID: the outbox's usual recognisable duplicate.
pub fn release_abandoned_claims(
    conn: &Connection,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE outbox SET next_attempt_at = ?1
         WHERE sent_at IS NULL AND attempts = 0 AND last_error IS NULL
           AND next_attempt_at > ?1 AND next_attempt_at <> ?2",
        params![ts(now), PERMANENT],
    )?)
}

/// Marks a row sent (the server accepted it).
pub fn mark_sent(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL
         WHERE id = ?1 AND sent_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Records a failed attempt and when to try again; `next` is `None` for a
/// permanent failure (the row stays unsent and is no longer retried: it
/// shows in `status` until an operator acts).
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    // A permanent failure parks the row far in the future: it keeps its
    // place in the record (sent_at NULL, last_error set) without being due.
    let next = next.map(ts).unwrap_or_else(|| PERMANENT.to_string());
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND sent_at IS NULL",
        params![id, error, next],
    )?;
    Ok(())
}

/// Whether row `id` was given up (a permanent failure parks it).
pub fn given_up(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT sent_at IS NULL AND next_attempt_at = ?2 FROM outbox WHERE id = ?1",
            params![id, PERMANENT],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// `next_attempt_at` of a permanently failed row.
pub const PERMANENT: &str = "9999-12-31T00:00:00Z";

/// The backlog: unsent rows still to be tried, and permanently failed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Backlog {
    pub pending: i64,
    pub failed: i64,
}

pub fn backlog(conn: &Connection) -> Result<Backlog, StoreError> {
    let (pending, failed) = conn
        .query_row(
            "SELECT COALESCE(SUM(next_attempt_at <> ?1), 0), COALESCE(SUM(next_attempt_at = ?1), 0)
             FROM outbox WHERE sent_at IS NULL",
            [PERMANENT],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, 0));
    Ok(Backlog { pending, failed })
}

/// Records that an operator saw the emails given up on so far
/// (`flywheel status --clear-failures`): `status` stops counting them. The
/// rows stay, as the record of what was not delivered. Returns how many.
pub fn clear_failures(conn: &Connection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE outbox SET failure_seen_at = ?2
         WHERE sent_at IS NULL AND next_attempt_at = ?1 AND failure_seen_at IS NULL",
        params![PERMANENT, ts(now)],
    )?)
}

/// When an email reporting each alert was last delivered (accepted by the
/// server), by fingerprint; alerts never delivered are absent. Queued mail
/// does not count: this is what LAST NOTIFIED shows.
pub fn last_delivered(
    conn: &Connection,
) -> Result<std::collections::HashMap<String, DateTime<Utc>>, StoreError> {
    let rows: Vec<(String, String)> = super::all_rows(
        conn,
        "SELECT fingerprint, last_delivered_at FROM alerts WHERE last_delivered_at IS NOT NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows
        .into_iter()
        .map(|(fp, at)| (fp, parse_ts(&at)))
        .collect())
}

/// Names the `[[receivers]]` entry an email row is for (an email receiver
/// of its own; rows of the implicit one keep NULL). Call in the enqueuing
/// transaction.
pub fn set_receiver(conn: &Connection, id: i64, receiver: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET receiver = ?2 WHERE id = ?1",
        params![id, receiver],
    )?;
    Ok(())
}

/// A chat or webhook message to enqueue for one receiver.
#[derive(Debug, Clone)]
pub struct NewChat<'a> {
    pub receiver: &'a str,
    /// The receiver's kind (`slack`, `wecom`, …).
    pub platform: &'a str,
    pub account: Option<&'a str>,
    pub kind: Kind,
    /// A line for `status` and logs (the message's title).
    pub title: &'a str,
    /// The JSON bodies to post, in order, rendered now.
    pub bodies: &'a [serde_json::Value],
    pub fingerprints: &'a [String],
}

/// Inserts one chat message due now; returns its row id. Call inside the
/// transaction that writes the alert state.
pub fn enqueue_chat(
    conn: &Connection,
    m: &NewChat<'_>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO outbox (account, kind, recipients_json, subject, body_text,
                             alert_fingerprints_json, created_at, next_attempt_at,
                             receiver, platform, bodies_json)
         VALUES (?1, ?2, '[]', ?3, '', ?4, ?5, ?5, ?6, ?7, ?8)",
        params![
            m.account,
            m.kind.as_str(),
            m.title,
            serde_json::to_string(m.fingerprints).expect("strings serialize"),
            ts(now),
            m.receiver,
            m.platform,
            serde_json::to_string(m.bodies).expect("JSON serializes"),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A stored chat message, as the chat sender reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRow {
    pub id: i64,
    pub receiver: String,
    pub account: Option<String>,
    pub kind: Kind,
    pub title: String,
    pub bodies: Vec<serde_json::Value>,
    /// Bodies the platform already took (a retry resumes after them).
    pub bodies_sent: usize,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

const CHAT_COLUMNS: &str = "id, receiver, account, kind, subject, bodies_json, bodies_sent,
                            created_at, attempts, last_error, sent_at";

fn read_chat(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChatRow> {
    let kind: String = r.get(3)?;
    let bodies: Option<String> = r.get(5)?;
    let created: String = r.get(7)?;
    Ok(ChatRow {
        id: r.get(0)?,
        receiver: r.get(1)?,
        account: r.get(2)?,
        kind: Kind::parse(&kind),
        title: r.get(4)?,
        bodies: bodies
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or_default(),
        bodies_sent: r.get::<_, i64>(6)?.max(0) as usize,
        created_at: parse_ts(&created),
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        sent_at: r.get::<_, Option<String>>(10)?.as_deref().map(parse_ts),
    })
}

/// Unsent chat rows of `receiver` due at `now`, oldest first, at most `limit`.
pub fn chat_due(
    conn: &Connection,
    receiver: &str,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<ChatRow>, StoreError> {
    super::all_rows(
        conn,
        &format!(
            "SELECT {CHAT_COLUMNS} FROM outbox
             WHERE sent_at IS NULL AND platform IS NOT NULL AND receiver = ?1
               AND next_attempt_at <= ?2
             ORDER BY id LIMIT ?3"
        ),
        params![receiver, ts(now), limit as i64],
        read_chat,
    )
}

/// Every chat row of `receiver` (sent or not), oldest first.
pub fn chat_rows(conn: &Connection, receiver: &str) -> Result<Vec<ChatRow>, StoreError> {
    super::all_rows(
        conn,
        &format!(
            "SELECT {CHAT_COLUMNS} FROM outbox
             WHERE platform IS NOT NULL AND receiver = ?1 ORDER BY id"
        ),
        [receiver],
        read_chat,
    )
}

/// Records that the platform took the first `n` bodies of row `id`.
pub fn mark_bodies_sent(conn: &Connection, id: i64, n: usize) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET bodies_sent = MAX(bodies_sent, ?2) WHERE id = ?1",
        params![id, n as i64],
    )?;
    Ok(())
}

/// Puts row `id` off until `until` without counting an attempt (a
/// receiver that asked to wait, or a pace that does not allow it now);
/// replaces a claim's lease. A given-up row stays given up.
pub fn postpone(conn: &Connection, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET next_attempt_at = ?2
         WHERE id = ?1 AND sent_at IS NULL AND next_attempt_at <> ?3",
        params![id, ts(until), PERMANENT],
    )?;
    Ok(())
}

/// One receiver's backlog, as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReceiverBacklog {
    /// The `[[receivers]]` name; `email` for the implicit email receiver.
    pub receiver: String,
    /// Unsent and still retried.
    pub pending: i64,
    /// Given up (a permanent refusal, or retried too long), not cleared.
    pub failed: i64,
    /// Still queued after at least `failing_attempts` failed attempts.
    pub failing: i64,
    /// The newest error of an unsent row (scrubbed of URLs when stored).
    pub last_error: Option<String>,
    /// Whether its rows are chat or webhook messages (not emails).
    pub chat: bool,
    /// Notifications a batch receiver holds for its next batch time.
    pub held: i64,
}

/// The backlog per receiver, by name (rows of the implicit email receiver
/// under `email`), with what batch receivers hold; receivers with nothing
/// unsent, uncleared or held are absent. A row counts as failing after
/// `failing_attempts` failed attempts.
pub fn backlog_by_receiver(
    conn: &Connection,
    failing_attempts: i64,
) -> Result<Vec<ReceiverBacklog>, StoreError> {
    let mut out: Vec<ReceiverBacklog> = super::all_rows(
        conn,
        "SELECT COALESCE(receiver, 'email'),
                COALESCE(SUM(next_attempt_at <> ?1), 0),
                COALESCE(SUM(next_attempt_at = ?1), 0),
                COALESCE(SUM(next_attempt_at <> ?1 AND attempts >= ?2 AND last_error IS NOT NULL), 0),
                (SELECT o2.last_error FROM outbox o2
                  WHERE o2.sent_at IS NULL AND o2.last_error IS NOT NULL
                    AND COALESCE(o2.receiver, 'email') = COALESCE(o.receiver, 'email')
                  ORDER BY o2.id DESC LIMIT 1),
                MAX(platform IS NOT NULL)
           FROM outbox o
          WHERE sent_at IS NULL AND (next_attempt_at <> ?1 OR failure_seen_at IS NULL)
          GROUP BY COALESCE(receiver, 'email') ORDER BY 1",
        params![PERMANENT, failing_attempts],
        |r| {
            Ok(ReceiverBacklog {
                receiver: r.get(0)?,
                pending: r.get(1)?,
                failed: r.get(2)?,
                failing: r.get(3)?,
                last_error: r.get(4)?,
                chat: r.get(5)?,
                held: 0,
            })
        },
    )?;
    for (receiver, held) in super::receivers::held_counts(conn)? {
        match out.iter_mut().find(|b| b.receiver == receiver) {
            Some(b) => b.held = held,
            None => out.push(ReceiverBacklog {
                receiver,
                held,
                ..ReceiverBacklog::default()
            }),
        }
    }
    out.sort_by(|a, b| a.receiver.cmp(&b.receiver));
    Ok(out)
}
