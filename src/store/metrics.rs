//! The Prometheus exposition of `/metrics` (served by the daemon): read
//! from the database at scrape time.

use std::fmt::Write;

use rusqlite::Connection;

use super::StoreError;
use crate::store;

/// A label value escaped for the text format.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes one metric family: its HELP and TYPE lines, then a sample per
/// (labels, value), each label value escaped.
fn family<'a>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, i64)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}

/// Rows of text columns followed by one count, as the labelled families
/// read them.
fn counted(
    conn: &Connection,
    sql: &str,
    labels: usize,
) -> Result<Vec<(Vec<String>, i64)>, StoreError> {
    store::all_rows(conn, sql, [], |r| {
        let names = (0..labels).map(|i| r.get(i)).collect::<Result<_, _>>()?;
        Ok((names, r.get(labels)?))
    })
}

/// One sample per counted row, its text columns named by `keys`.
fn labelled<'a>(
    keys: &'a [&'a str],
    rows: &'a [(Vec<String>, i64)],
) -> impl Iterator<Item = (Vec<(&'a str, &'a str)>, i64)> + 'a {
    rows.iter().map(move |(names, n)| {
        let labels = keys.iter().copied().zip(names.iter().map(String::as_str));
        (labels.collect(), *n)
    })
}

/// The exposition text.
pub fn render(conn: &Connection) -> Result<String, StoreError> {
    let mut out = String::new();
    let last_success = counted(
        conn,
        "SELECT account, job, MAX(CAST(strftime('%s', finished_at) AS INTEGER)) FROM job_runs
         WHERE status = 'ok' AND account IS NOT NULL
         GROUP BY account, job ORDER BY account, job",
        2,
    )?;
    family(
        &mut out,
        "flywheel_job_last_success_timestamp_seconds",
        "gauge",
        "Last successful run of a sync job.",
        labelled(&["account", "job"], &last_success),
    );
    let runs = counted(
        conn,
        "SELECT account, job, status, COUNT(*) FROM job_runs WHERE account IS NOT NULL AND status <> 'running'
         GROUP BY account, job, status ORDER BY account, job, status",
        3,
    )?;
    family(
        &mut out,
        "flywheel_job_runs_total",
        "counter",
        "Finished sync job runs by status.",
        labelled(&["account", "job", "status"], &runs),
    );
    let counts = store::all_rows(
        conn,
        "SELECT account, api, operation, SUM(calls), SUM(throttled) FROM api_call_counts
         GROUP BY account, api, operation ORDER BY account, api, operation",
        [],
        |r| {
            let names: Vec<String> = vec![r.get(0)?, r.get(1)?, r.get(2)?];
            Ok((names, r.get::<_, i64>(3)?, r.get::<_, i64>(4)?))
        },
    )?;
    let keys = ["account", "api", "operation"];
    let calls: Vec<_> = counts.iter().map(|(n, c, _)| (n.clone(), *c)).collect();
    let throttled: Vec<_> = counts.iter().map(|(n, _, t)| (n.clone(), *t)).collect();
    family(
        &mut out,
        "flywheel_api_calls_total",
        "counter",
        "Amazon API calls by operation.",
        labelled(&keys, &calls),
    );
    family(
        &mut out,
        "flywheel_api_throttled_total",
        "counter",
        "Amazon API calls answered 429, by operation.",
        labelled(&keys, &throttled),
    );
    let pending: i64 = conn.query_row("SELECT COUNT(*) FROM pending_reports", [], |r| r.get(0))?;
    family(
        &mut out,
        "flywheel_reports_pending",
        "gauge",
        "SP-API reports requested and not yet downloaded.",
        [(vec![], pending)],
    );
    let firing = counted(
        conn,
        "SELECT rule, severity, COUNT(*) FROM alerts WHERE state = 'firing' GROUP BY rule, severity ORDER BY rule, severity",
        2,
    )?;
    family(
        &mut out,
        "flywheel_alerts_firing",
        "gauge",
        "Firing alerts by rule and severity.",
        labelled(&["rule", "severity"], &firing),
    );
    let backlog = store::outbox::backlog(conn)?;
    family(
        &mut out,
        "flywheel_outbox_backlog",
        "gauge",
        "Emails waiting to be delivered (state=pending) or given up (state=failed).",
        [
            (vec![("state", "pending")], backlog.pending),
            (vec![("state", "failed")], backlog.failed),
        ],
    );
    let sent = counted(
        conn,
        "SELECT kind, COUNT(*) FROM outbox WHERE sent_at IS NOT NULL GROUP BY kind ORDER BY kind",
        1,
    )?;
    family(
        &mut out,
        "flywheel_emails_sent_total",
        "counter",
        "Emails the server accepted, by kind.",
        labelled(&["kind"], &sent),
    );
    let failed: i64 = conn.query_row(
        "SELECT COALESCE(SUM(attempts), 0) FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    family(
        &mut out,
        "flywheel_email_attempts_failed_total",
        "counter",
        "Failed delivery attempts recorded on unsent emails.",
        [(vec![], failed)],
    );
    Ok(out)
}
