//! Alert state, acknowledgements and silences (DESIGN §5): the SQL behind
//! `alert::state`, `flywheel alerts`, `ack` and `silence`.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::ops::ts;
use super::StoreError;
use crate::config::{RuleId, Severity};
use crate::model::alert::{Alert, Notified, State};

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn opt_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref().map(parse_ts)
}

const COLUMNS: &str = "fingerprint, rule, account, marketplace_id, labels_json, state, severity,
    value, threshold, started_at, firing_since, resolved_at, last_evaluated_at, last_notified_at,
    notify_count, last_finding_json, thread_message_id, notified_severity, notified_value";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Alert>> {
    let rule: String = r.get(1)?;
    let state: String = r.get(5)?;
    let severity: String = r.get(6)?;
    let (Some(rule), Some(state), Some(severity)) = (
        RuleId::parse(&rule),
        State::parse(&state),
        Severity::parse(&severity),
    ) else {
        return Ok(None); // a rule (or severity) this version does not know: leave it alone
    };
    let labels: String = r.get(4)?;
    let finding: String = r.get(15)?;
    let notified_severity: Option<String> = r.get(17)?;
    Ok(Some(Alert {
        fingerprint: r.get(0)?,
        rule,
        account: r.get(2)?,
        marketplace: r.get(3)?,
        labels: serde_json::from_str(&labels).unwrap_or(Value::Null),
        state,
        severity,
        value: r.get(7)?,
        threshold: r.get(8)?,
        started_at: parse_ts(&r.get::<_, String>(9)?),
        firing_since: opt_ts(r.get(10)?),
        resolved_at: opt_ts(r.get(11)?),
        last_evaluated_at: parse_ts(&r.get::<_, String>(12)?),
        last_notified_at: opt_ts(r.get(13)?),
        notify_count: r.get(14)?,
        last_finding: serde_json::from_str(&finding).unwrap_or(Value::Null),
        thread_message_id: r.get(16)?,
        notified: match notified_severity.as_deref().map(Severity::parse) {
            Some(Some(severity)) => Some(Notified {
                severity,
                value: r.get(18)?,
            }),
            _ => None,
        },
    }))
}

fn query(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Alert>, StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map(p, read)?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(a) = r? {
            out.push(a);
        }
    }
    Ok(out)
}

/// The alerts of `account` an evaluation round must look at: every pending
/// or firing one, and resolved ones young enough to still owe a resolution
/// notice. (Older resolved alerts are looked up by fingerprint when a
/// finding names them again.)
pub fn live(
    conn: &Connection,
    account: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Alert>, StoreError> {
    let since = ts(now - crate::model::alert::RESOLUTION_GRACE - Duration::days(1));
    query(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM alerts WHERE account = ?1
               AND (state <> 'resolved' OR resolved_at >= ?2)"
        ),
        params![account, since],
    )
}

/// One alert by fingerprint.
pub fn get(conn: &Connection, fingerprint: &str) -> Result<Option<Alert>, StoreError> {
    Ok(query(
        conn,
        &format!("SELECT {COLUMNS} FROM alerts WHERE fingerprint = ?1"),
        [fingerprint],
    )?
    .pop())
}

/// Alerts for `flywheel alerts`: not resolved (or all), newest first.
pub fn list(conn: &Connection, all: bool) -> Result<Vec<Alert>, StoreError> {
    query(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM alerts WHERE ?1 OR state <> 'resolved'
             ORDER BY state = 'resolved', CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                      COALESCE(firing_since, started_at) DESC, fingerprint"
        ),
        [all],
    )
}

/// Fingerprints starting with `prefix` (a short id).
pub fn find_by_prefix(conn: &Connection, prefix: &str) -> Result<Vec<Alert>, StoreError> {
    let escaped: String = prefix
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if escaped.is_empty() || escaped.len() != prefix.len() {
        return Ok(Vec::new());
    }
    query(
        conn,
        &format!("SELECT {COLUMNS} FROM alerts WHERE fingerprint >= ?1 AND fingerprint < ?1 || 'g' ORDER BY fingerprint"),
        [escaped],
    )
}

/// Inserts or replaces an alert's state.
pub fn upsert(conn: &Connection, a: &Alert) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO alerts (fingerprint, rule, account, marketplace_id, labels_json, state, severity,
             value, threshold, started_at, firing_since, resolved_at, last_evaluated_at,
             last_notified_at, notify_count, last_finding_json, thread_message_id,
             notified_severity, notified_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
         ON CONFLICT (fingerprint) DO UPDATE SET
             state = excluded.state, severity = excluded.severity, value = excluded.value,
             threshold = excluded.threshold, started_at = excluded.started_at,
             firing_since = excluded.firing_since, resolved_at = excluded.resolved_at,
             last_evaluated_at = excluded.last_evaluated_at,
             last_notified_at = excluded.last_notified_at, notify_count = excluded.notify_count,
             last_finding_json = excluded.last_finding_json,
             thread_message_id = excluded.thread_message_id,
             notified_severity = excluded.notified_severity,
             notified_value = excluded.notified_value",
    )?
    .execute(params![
        a.fingerprint,
        a.rule.as_str(),
        a.account,
        a.marketplace,
        a.labels.to_string(),
        a.state.as_str(),
        a.severity.as_str(),
        a.value.filter(|v| v.is_finite()),
        a.threshold.filter(|v| v.is_finite()),
        ts(a.started_at),
        a.firing_since.map(ts),
        a.resolved_at.map(ts),
        ts(a.last_evaluated_at),
        a.last_notified_at.map(ts),
        a.notify_count,
        if a.last_finding.is_null() { "{}".to_string() } else { a.last_finding.to_string() },
        a.thread_message_id,
        a.notified.map(|n| n.severity.as_str()),
        a.notified.and_then(|n| n.value).filter(|v| v.is_finite()),
    ])?;
    Ok(())
}

/// The acknowledgement in force for an alert: its expiry.
pub fn ack_in_force(
    conn: &Connection,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT MAX(expires_at) FROM alert_acks WHERE fingerprint = ?1 AND expires_at > ?2",
        )?
        .query_row(params![fingerprint, ts(now)], |r| {
            r.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten()
        .map(|s| parse_ts(&s)))
}

/// Records an acknowledgement.
pub fn ack(
    conn: &Connection,
    fingerprint: &str,
    expires: DateTime<Utc>,
    note: Option<&str>,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO alert_acks (fingerprint, expires_at, note, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![fingerprint, ts(expires), note, by, ts(now)],
    )?;
    Ok(())
}

/// Marks seller feedback handled (an `ack` on a feedback_response_sla
/// alert): the SLA rule stops counting these orders. Returns the rows
/// changed. The sync's upsert never touches these columns.
pub fn acknowledge_feedback(
    conn: &Connection,
    account: &str,
    marketplace: &str,
    order_ids: &[String],
    note: Option<&str>,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut st = conn.prepare_cached(
        "UPDATE seller_feedback SET acknowledged_at = ?4, acknowledged_by = ?5, acknowledgement_note = ?6
         WHERE account = ?1 AND marketplace_id = ?2 AND order_id = ?3 AND acknowledged_at IS NULL",
    )?;
    let mut n = 0;
    for id in order_ids {
        n += st.execute(params![account, marketplace, id, ts(now), by, note])?;
    }
    Ok(n)
}

/// A silence: mutes every alert of `rule` ('*' = any) whose labels match
/// all the set matchers.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Silence {
    pub id: i64,
    pub rule: String,
    pub account: Option<String>,
    pub marketplace: Option<String>,
    pub asin: Option<String>,
    pub sku: Option<String>,
    pub campaign_id: Option<i64>,
    pub search_term: Option<String>,
    #[serde(deserialize_with = "super::rows::ts_or_epoch")]
    pub expires_at: DateTime<Utc>,
    pub note: Option<String>,
}

impl Silence {
    /// Whether this silence covers an alert of `rule` with `labels`.
    pub fn matches(&self, rule: RuleId, labels: &Value) -> bool {
        let l = |k: &str| labels.get(k).and_then(Value::as_str);
        let eq = |m: &Option<String>, k: &str| m.as_deref().is_none_or(|m| l(k) == Some(m));
        (self.rule == "*" || self.rule == rule.as_str())
            && eq(&self.account, "account")
            && eq(&self.marketplace, "marketplace")
            && eq(&self.asin, "asin")
            && eq(&self.sku, "sku")
            && eq(&self.search_term, "search_term")
            && self
                .campaign_id
                .is_none_or(|c| l("campaign_id") == Some(c.to_string().as_str()))
    }
}

/// Silences in force at `now`.
pub fn silences(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<Silence>, StoreError> {
    super::rows(
        conn,
        "SELECT id, rule, account, marketplace_id AS marketplace, asin, sku, campaign_id,
                search_term, expires_at, note
         FROM silences WHERE expires_at > ?1 ORDER BY id",
        [ts(now)],
    )
}

/// Records a silence; returns its id.
pub fn add_silence(
    conn: &Connection,
    s: &Silence,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO silences (rule, account, marketplace_id, asin, sku, campaign_id, search_term,
                               expires_at, note, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            s.rule,
            s.account,
            s.marketplace,
            s.asin,
            s.sku,
            s.campaign_id,
            s.search_term,
            ts(s.expires_at),
            s.note,
            by,
            ts(now)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A silence as `flywheel silences` lists it: who made it and when.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct SilenceRecord {
    #[serde(flatten)]
    pub silence: Silence,
    pub created_by: Option<String>,
    #[serde(deserialize_with = "super::rows::ts_or_epoch")]
    pub created_at: DateTime<Utc>,
}

const SILENCE_RECORD: &str = "SELECT id, rule, account, marketplace_id AS marketplace, asin, sku,
    campaign_id, search_term, expires_at, note, created_by, created_at FROM silences";

/// Silences for `flywheel silences`: those in force at `now` (or, with
/// `all`, every one kept, ended ones too), oldest first.
pub fn silence_records(
    conn: &Connection,
    now: DateTime<Utc>,
    all: bool,
) -> Result<Vec<SilenceRecord>, StoreError> {
    super::rows(
        conn,
        &format!("{SILENCE_RECORD} WHERE ?2 OR expires_at > ?1 ORDER BY id"),
        params![ts(now), all],
    )
}

/// One silence by id, in force or not.
pub fn silence_record(conn: &Connection, id: i64) -> Result<Option<SilenceRecord>, StoreError> {
    super::first_row(conn, &format!("{SILENCE_RECORD} WHERE id = ?1"), [id])
}

/// Ends silence `id` at `now` if it is still in force; the row stays (its
/// expiry becomes `now`) so `silences --all` still shows it. Returns
/// whether it was in force.
pub fn expire_silence(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE silences SET expires_at = ?2 WHERE id = ?1 AND expires_at > ?2",
        params![id, ts(now)],
    )?;
    Ok(n > 0)
}

/// An acknowledgement as `ack --undo` ends it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct AckRecord {
    pub id: i64,
    #[serde(deserialize_with = "super::rows::ts_or_epoch")]
    pub expires_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_by: Option<String>,
    #[serde(deserialize_with = "super::rows::ts_or_epoch")]
    pub created_at: DateTime<Utc>,
}

/// Ends every acknowledgement of an alert in force at `now` (their expiry
/// becomes `now`; the rows stay) and returns them as they were.
pub fn end_acks(
    conn: &Connection,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AckRecord>, StoreError> {
    let ended: Vec<AckRecord> = super::rows(
        conn,
        "SELECT id, expires_at, note, created_by, created_at FROM alert_acks
         WHERE fingerprint = ?1 AND expires_at > ?2 ORDER BY id",
        params![fingerprint, ts(now)],
    )?;
    let mut st = conn.prepare_cached("UPDATE alert_acks SET expires_at = ?2 WHERE id = ?1")?;
    for a in &ended {
        st.execute(params![a.id, ts(now)])?;
    }
    Ok(ended)
}

/// Undoes what [`acknowledge_feedback`] did for `ack` (an acknowledgement
/// of the feedback_response_sla alert of `account` in `marketplace`):
/// clears the rows it marked, and only those. They are exact: that alert
/// is the only one whose ack marks feedback there, the sync never writes
/// these columns, and the ack marked (in the same transaction) only rows
/// not yet marked, with its own creation time, author and note. Returns
/// the rows changed.
pub fn unacknowledge_feedback(
    conn: &Connection,
    account: &str,
    marketplace: &str,
    ack: &AckRecord,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE seller_feedback
         SET acknowledged_at = NULL, acknowledged_by = NULL, acknowledgement_note = NULL
         WHERE account = ?1 AND marketplace_id = ?2 AND acknowledged_at = ?3
           AND acknowledged_by IS ?4 AND acknowledgement_note IS ?5",
        params![
            account,
            marketplace,
            ts(ack.created_at),
            ack.created_by,
            ack.note
        ],
    )?)
}
