//! What the receivers of `[[receivers]]` were told (so a resolution goes
//! to exactly the receivers told of the firing) and what a batch receiver
//! holds until its daily batch time. Both are written in the evaluation
//! round's transaction, beside the alert state and the outbox rows.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::ops::ts;
use super::StoreError;
use crate::model::series::ItemKind;

/// Records that `receiver` was told of the current episode of alert `fp`
/// (a firing or a repeat, sent or held).
pub fn told(
    conn: &Connection,
    fp: &str,
    receiver: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO alert_receivers (fingerprint, receiver, told_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (fingerprint, receiver) DO UPDATE SET told_at = excluded.told_at",
        params![fp, receiver, ts(now)],
    )?;
    Ok(())
}

/// Whether `receiver` was told of the current episode of `fp`.
pub fn was_told(conn: &Connection, fp: &str, receiver: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM alert_receivers WHERE fingerprint = ?1 AND receiver = ?2")?
        .exists(params![fp, receiver])?)
}

/// Forgets what every receiver was told of `fp` (its episode ended: the
/// resolution was queued or held for those who get it).
pub fn forget(conn: &Connection, fp: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM alert_receivers WHERE fingerprint = ?1", [fp])?;
    Ok(())
}

fn parse_kind(s: &str) -> ItemKind {
    match s {
        "repeat" => ItemKind::Repeat,
        "resolved" => ItemKind::Resolved,
        _ => ItemKind::Firing,
    }
}

/// Holds a notification of `fp` for batch receiver `receiver` until `due`.
pub fn hold(
    conn: &Connection,
    receiver: &str,
    account: &str,
    fp: &str,
    kind: ItemKind,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO receiver_held (receiver, account, fingerprint, kind, held_at, due_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (receiver, account, fingerprint, kind) DO NOTHING",
        params![receiver, account, fp, kind.as_str(), ts(now), ts(due)],
    )?;
    Ok(())
}

/// A held notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub fingerprint: String,
    pub kind: ItemKind,
}

/// Whether some receiver holds a notification for `account` due at `now`.
pub fn has_due(conn: &Connection, account: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM receiver_held WHERE account = ?1 AND due_at <= ?2")?
        .exists(params![account, ts(now)])?)
}

/// Takes the notifications `receiver` holds for `account` that are due at
/// `now` (deletes them: call in the transaction that queues their message).
pub fn take_due(
    conn: &Connection,
    receiver: &str,
    account: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Held>, StoreError> {
    let held = super::all_rows(
        conn,
        "SELECT fingerprint, kind FROM receiver_held
          WHERE receiver = ?1 AND account = ?2 AND due_at <= ?3
          ORDER BY held_at, fingerprint, kind",
        params![receiver, account, ts(now)],
        |r| {
            Ok(Held {
                fingerprint: r.get(0)?,
                kind: parse_kind(&r.get::<_, String>(1)?),
            })
        },
    )?;
    conn.execute(
        "DELETE FROM receiver_held WHERE receiver = ?1 AND account = ?2 AND due_at <= ?3",
        params![receiver, account, ts(now)],
    )?;
    Ok(held)
}

/// How many notifications each receiver holds (for `status`).
pub fn held_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    super::all_rows(
        conn,
        "SELECT receiver, COUNT(*) FROM receiver_held GROUP BY receiver ORDER BY receiver",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}
