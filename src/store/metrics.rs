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

/// The exposition text.
pub fn render(conn: &Connection) -> Result<String, StoreError> {
    let mut out = String::new();
    let epoch = "CAST(strftime('%s', {}) AS INTEGER)";
    let ts = |c: &str| epoch.replace("{}", c);

    out.push_str(
        "# HELP flywheel_job_last_success_timestamp_seconds Last successful run of a sync job.\n",
    );
    out.push_str("# TYPE flywheel_job_last_success_timestamp_seconds gauge\n");
    let mut st = conn.prepare(&format!(
        "SELECT account, job, MAX({}) FROM job_runs WHERE status = 'ok' AND account IS NOT NULL
         GROUP BY account, job ORDER BY account, job",
        ts("finished_at")
    ))?;
    for r in st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (a, j, t) = r?;
        let _ = writeln!(
            out,
            "flywheel_job_last_success_timestamp_seconds{{account=\"{}\",job=\"{}\"}} {t}",
            label(&a),
            label(&j)
        );
    }

    out.push_str("# HELP flywheel_job_runs_total Finished sync job runs by status.\n");
    out.push_str("# TYPE flywheel_job_runs_total counter\n");
    let mut st = conn.prepare(
        "SELECT account, job, status, COUNT(*) FROM job_runs WHERE account IS NOT NULL AND status <> 'running'
         GROUP BY account, job, status ORDER BY account, job, status",
    )?;
    for r in st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })? {
        let (a, j, s, n) = r?;
        let _ = writeln!(
            out,
            "flywheel_job_runs_total{{account=\"{}\",job=\"{}\",status=\"{s}\"}} {n}",
            label(&a),
            label(&j)
        );
    }

    let mut st = conn.prepare(
        "SELECT account, api, operation, SUM(calls), SUM(throttled) FROM api_call_counts
         GROUP BY account, api, operation ORDER BY account, api, operation",
    )?;
    let counts = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    out.push_str("# HELP flywheel_api_calls_total Amazon API calls by operation.\n");
    out.push_str("# TYPE flywheel_api_calls_total counter\n");
    for (account, api, op, n, _) in &counts {
        let _ = writeln!(
            out,
            "flywheel_api_calls_total{{account=\"{}\",api=\"{api}\",operation=\"{}\"}} {n}",
            label(account),
            label(op)
        );
    }
    out.push_str(
        "# HELP flywheel_api_throttled_total Amazon API calls answered 429, by operation.\n",
    );
    out.push_str("# TYPE flywheel_api_throttled_total counter\n");
    for (account, api, op, _, n) in &counts {
        let _ = writeln!(
            out,
            "flywheel_api_throttled_total{{account=\"{}\",api=\"{api}\",operation=\"{}\"}} {n}",
            label(account),
            label(op)
        );
    }

    out.push_str(
        "# HELP flywheel_reports_pending SP-API reports requested and not yet downloaded.\n",
    );
    out.push_str("# TYPE flywheel_reports_pending gauge\n");
    let pending: i64 = conn.query_row("SELECT COUNT(*) FROM pending_reports", [], |r| r.get(0))?;
    let _ = writeln!(out, "flywheel_reports_pending {pending}");

    out.push_str("# HELP flywheel_alerts_firing Firing alerts by rule and severity.\n");
    out.push_str("# TYPE flywheel_alerts_firing gauge\n");
    let mut st = conn.prepare(
        "SELECT rule, severity, COUNT(*) FROM alerts WHERE state = 'firing' GROUP BY rule, severity ORDER BY rule, severity",
    )?;
    for r in st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (rule, sev, n) = r?;
        let _ = writeln!(
            out,
            "flywheel_alerts_firing{{rule=\"{}\",severity=\"{sev}\"}} {n}",
            label(&rule)
        );
    }

    let backlog = store::outbox::backlog(conn)?;
    out.push_str("# HELP flywheel_outbox_backlog Emails waiting to be delivered (state=pending) or given up (state=failed).\n");
    out.push_str("# TYPE flywheel_outbox_backlog gauge\n");
    let _ = writeln!(
        out,
        "flywheel_outbox_backlog{{state=\"pending\"}} {}",
        backlog.pending
    );
    let _ = writeln!(
        out,
        "flywheel_outbox_backlog{{state=\"failed\"}} {}",
        backlog.failed
    );
    out.push_str("# HELP flywheel_emails_sent_total Emails the server accepted, by kind.\n");
    out.push_str("# TYPE flywheel_emails_sent_total counter\n");
    let mut st = conn.prepare(
        "SELECT kind, COUNT(*) FROM outbox WHERE sent_at IS NOT NULL GROUP BY kind ORDER BY kind",
    )?;
    for r in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (k, n) = r?;
        let _ = writeln!(out, "flywheel_emails_sent_total{{kind=\"{k}\"}} {n}");
    }
    out.push_str("# HELP flywheel_email_attempts_failed_total Failed delivery attempts recorded on unsent emails.\n");
    out.push_str("# TYPE flywheel_email_attempts_failed_total counter\n");
    let failed: i64 = conn.query_row(
        "SELECT COALESCE(SUM(attempts), 0) FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    let _ = writeln!(out, "flywheel_email_attempts_failed_total {failed}");
    Ok(out)
}
