//! Flywheel about itself: job runs and credential problems.

use super::*;

pub(super) fn job_health(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    q.each_row(
        "SELECT job,
                MAX(CASE WHEN status = 'ok' THEN finished_at END),
                MIN(started_at),
                (SELECT x.status FROM job_runs x WHERE x.account = j.account AND x.job = j.job
                   AND x.started_at <= ?2 ORDER BY x.started_at DESC, x.id DESC LIMIT 1),
                (SELECT x.error FROM job_runs x WHERE x.account = j.account AND x.job = j.job
                   AND x.started_at <= ?2 ORDER BY x.started_at DESC, x.id DESC LIMIT 1)
         FROM job_runs j WHERE account = ?1 AND started_at <= ?2 AND status <> 'running'
         GROUP BY job ORDER BY job",
        params![q.a, q.as_of_s],
        |r| {
            let ok: Option<String> = r.get(1)?;
            let first: Option<String> = r.get(2)?;
            s.jobs.push(JobState {
                job: r.get(0)?,
                last_ok: ok.as_deref().and_then(parse_ts),
                first_attempt: first.as_deref().and_then(parse_ts),
                last_status: r.get(3)?,
                last_error: r.get(4)?,
            });
            Ok(())
        },
    )
}

pub(super) fn credential_problems(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    q.each_row(
        "SELECT api, error_kind, detail, first_seen_at FROM credential_problems
         WHERE account = ?1 AND first_seen_at <= ?2 AND (cleared_at IS NULL OR cleared_at > ?2)",
        params![q.a, q.as_of_s],
        |r| {
            let t: String = r.get(3)?;
            s.credential_problems.push(CredentialProblem {
                api: r.get(0)?,
                error_kind: r.get(1)?,
                detail: r.get(2)?,
                first_seen_at: parse_ts(&t).unwrap_or(q.as_of),
            });
            Ok(())
        },
    )
}
