//! A report's life as a job sees it: put in Amazon's queue ([`prepare`],
//! [`queue`]), waited for and downloaded ([`fetch`]), kept in
//! `pending_reports` across runs and restarts ([`adopt`], [`retain`]) and
//! let go in the job's transaction ([`finish`]). See the module doc of
//! [`super`] for the outcomes, the persistence and the time rules.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Document, Priority, ReportRequest};
use crate::amazon::client::Endpoint;
use crate::amazon::document::max_document_bytes;
use crate::amazon::reports::{self as api, DownloadError};
use crate::clock::Clock;
use crate::store::ops::ts;
use crate::store::reports::{self as store, Pending};
use crate::store::StoreError;
use crate::sync::{Ctx, JobError, JobName};

/// First wait between polls (clock seconds).
const POLL_FIRST: Duration = Duration::from_secs(10);
/// Longest wait between polls.
const POLL_CAP: Duration = Duration::from_secs(120);
/// An unfinished report this old is presumed lost and requested again.
const STALE_AFTER: chrono::Duration = chrono::Duration::hours(24);
/// FATAL backoff: base and cap.
const FATAL_BASE: chrono::Duration = chrono::Duration::minutes(5);
const FATAL_CAP: chrono::Duration = chrono::Duration::hours(6);
/// Document downloads tried per fetch (each with a fresh URL).
const DOWNLOAD_ATTEMPTS: u32 = 3;

/// Names a report's pending row; pass it to [`finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    pub pending_id: i64,
    pub report_id: String,
}

/// What [`fetch`] got.
#[derive(Debug)]
pub enum ReportOutcome {
    /// DONE: the document, ready to parse, and its pending row.
    Document(Document, Handle),
    /// CANCELLED: Amazon had nothing to report. Still call [`finish`].
    NoData(Handle),
    /// Not finished within `max_report_wait`; the row stays and the next
    /// run resumes polling it.
    Pending { report_id: String, status: String },
    /// The report budget is spent for now; nothing was requested.
    Deferred { reason: String },
    /// FATAL (or an empty document); requested again from `retry_at` on.
    Failed {
        report_id: Option<String>,
        reason: String,
        retry_at: DateTime<Utc>,
    },
}

/// A report in Amazon's queue (or the reason it is not).
#[derive(Debug)]
pub enum Prepared {
    Ready(Pending),
    Deferred {
        reason: String,
    },
    Backoff {
        retry_at: DateTime<Utc>,
        reason: String,
    },
}

/// Deletes the report's pending row: call it inside the transaction that
/// writes the report's rows and the job's cursor.
pub fn finish(conn: &Connection, handle: &Handle) -> Result<(), StoreError> {
    store::delete(conn, handle.pending_id)
}

/// For a job that makes one report of a type per marketplace over a range
/// that moves from run to run (it ends at the run's `now`): the request to
/// fetch. That is the job's report of the same type, marketplaces and
/// options left by an earlier run (still in Amazon's queue, DONE, or FATAL
/// and backing off) if there is one, else `req`: restarts resume, never
/// re-request. Without this the next run's request hashed differently, so
/// such a report was never polled again and stayed in `pending_reports`
/// forever, a report slower than `max_report_wait` never completed, and a
/// FATAL one was asked again at once with no backoff. The caller stores
/// what the adopted range covers and moves its cursor to that range's end;
/// the next run asks for the rest. Older leftovers of the same kind go, and
/// so does an unfinished one presumed lost (a day old): `req` replaces it.
pub fn adopt(ctx: &Ctx<'_>, job: JobName, req: ReportRequest) -> Result<ReportRequest, JobError> {
    let account = ctx.account.name.as_str();
    let rows = ctx.with_db(|c| store::list(c, account, job.as_str(), &req.report_type))?;
    let (resume, drop) = adoption(&rows, &req, ctx.now);
    if !drop.is_empty() {
        ctx.with_db(|c| drop.iter().try_for_each(|id| store::delete(c, *id)))?;
    }
    Ok(match resume {
        Some(r) => {
            tracing::info!(account, job = %job, request = %r.describe(),
                "resuming the report of an earlier run");
            r
        }
        None => req,
    })
}

/// [`adopt`]'s decision over the job's rows of the report type (in id
/// order): the request to resume instead of `req`, if any, and the rows to
/// drop. Pure.
fn adoption(
    rows: &[Pending],
    req: &ReportRequest,
    now: DateTime<Utc>,
) -> (Option<ReportRequest>, Vec<i64>) {
    let want = req.canonical();
    let mut same: Vec<(&Pending, ReportRequest)> = rows
        .iter()
        .filter_map(|p| {
            let v: serde_json::Value = serde_json::from_str(&p.params_json).ok()?;
            let r = ReportRequest::from_canonical(&v)?;
            let c = r.canonical();
            (c["marketplaceIds"] == want["marketplaceIds"]
                && c["reportOptions"] == want["reportOptions"])
                .then_some((p, r))
        })
        .collect();
    // The newest is the one to resume.
    let newest = same.pop();
    let mut drop: Vec<i64> = same.iter().map(|(p, _)| p.id).collect();
    let resume = match newest {
        Some((p, _)) if p.params_hash == req.params_hash() => None,
        Some((p, _)) if is_lost(p, now) => {
            drop.push(p.id);
            None
        }
        Some((_, r)) => Some(r),
        None => None,
    };
    (resume, drop)
}

/// Forgets the job's reports of `report_type` in marketplace `marketplace_id`
/// that its plan for this run (`planned`) no longer includes: a rolling
/// window the day moved past, an ASIN chunk that changed. No run would ask
/// for them again (they stayed in `pending_reports` forever), and what they
/// hold comes with the planned requests.
pub fn retain(
    ctx: &Ctx<'_>,
    job: JobName,
    report_type: &str,
    marketplace_id: &str,
    planned: &[ReportRequest],
) -> Result<(), JobError> {
    let account = ctx.account.name.as_str();
    let keep: Vec<String> = planned.iter().map(ReportRequest::params_hash).collect();
    let gone = ctx.with_db(|c| {
        store::delete_except(c, account, job.as_str(), report_type, marketplace_id, &keep)
    })?;
    if gone > 0 {
        tracing::info!(account, job = %job, report_type, gone, "forgot reports of requests no longer planned");
    }
    Ok(())
}

/// An unfinished report this old is presumed lost ([`STALE_AFTER`]).
fn is_lost(row: &Pending, now: DateTime<Utc>) -> bool {
    !matches!(row.status.as_str(), "DONE" | "FATAL") && now - row.created_at >= STALE_AFTER
}

/// How a job's message says the report budget deferred one of its
/// reports ([`crate::sync::JobResult::deferred_by_budget`]).
pub const BUDGET_SPENT: &str = "report budget";

/// The plan's ranking for the report budget (see the module doc of
/// [`super`]).
pub fn priority(job: JobName) -> Priority {
    match job {
        JobName::SellerFeedback | JobName::Orders => Priority::High,
        _ => Priority::Normal,
    }
}

/// Takes one creation from the account's report budget, if the plan
/// allows `job` one at `now`.
fn take_budget(ctx: &Ctx<'_>, job: JobName, now: DateTime<Utc>) -> bool {
    let per_hour = ctx.cfg.sync.report_budget_per_hour;
    ctx.client
        .report_budgets
        .try_take(&ctx.account.name, per_hour, priority(job), now)
}

// ---------------------------------------------------------------------------
// Time

/// The clock polls run on: `now` advances `speed` clock seconds per wall
/// second from the followed clock's reading when the fetch began (the
/// round's `now` for a fixed clock, or when the clock cannot be read).
struct Pace {
    now0: DateTime<Utc>,
    wall0: tokio::time::Instant,
    speed: f64,
}

impl Pace {
    async fn new(ctx: &Ctx<'_>) -> Pace {
        let (now0, speed) = match ctx.clock {
            Clock::System => (Utc::now(), 1.0),
            Clock::Fixed(_) => (ctx.now, 1.0),
            sim => sim
                .read()
                .await
                .map(|r| (r.now, r.speed))
                .unwrap_or((ctx.now, 1.0)),
        };
        Pace {
            now0,
            wall0: tokio::time::Instant::now(),
            // A frozen clock would never finish a report: wait in wall time.
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    fn elapsed(&self) -> Duration {
        self.wall0.elapsed().mul_f64(self.speed)
    }

    fn now(&self) -> DateTime<Utc> {
        self.now0 + chrono::Duration::from_std(self.elapsed()).unwrap_or_default()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d.div_f64(self.speed)).await;
    }

    /// Runs `fut` until `deadline` (clock time since the pace began);
    /// `None` when the deadline comes first, and `fut` is dropped.
    async fn until<F: std::future::Future>(&self, deadline: Duration, fut: F) -> Option<F::Output> {
        let left = deadline.saturating_sub(self.elapsed());
        tokio::time::timeout(left.div_f64(self.speed), fut)
            .await
            .ok()
    }
}

fn fatal_backoff(failures: i64) -> chrono::Duration {
    let exp = failures.clamp(1, 20) - 1;
    let d = FATAL_BASE * (1i32 << exp.min(16));
    d.min(FATAL_CAP)
}

/// The account's SP-API endpoint, or the error a report job fails with.
pub(crate) fn endpoint(ctx: &Ctx<'_>) -> Result<Endpoint, JobError> {
    ctx.sp().ok_or_else(|| {
        JobError::Data(format!(
            "account {} has no [accounts.sp_api] credentials",
            ctx.account.name
        ))
    })
}

/// Puts the report in Amazon's queue, or finds it already there: resumes a
/// persisted report id, respects the FATAL backoff and the budget. Does
/// not wait for the report.
pub async fn prepare(
    ctx: &Ctx<'_>,
    job: JobName,
    req: &ReportRequest,
) -> Result<Prepared, JobError> {
    prepare_at(ctx, job, req, ctx.now).await
}

/// [`prepare`]s every request before any is waited for, so Amazon works
/// on them side by side.
pub async fn queue(ctx: &Ctx<'_>, job: JobName, reqs: &[ReportRequest]) -> Result<(), JobError> {
    for req in reqs {
        let _ = prepare(ctx, job, req).await?;
    }
    Ok(())
}

async fn prepare_at(
    ctx: &Ctx<'_>,
    job: JobName,
    req: &ReportRequest,
    now: DateTime<Utc>,
) -> Result<Prepared, JobError> {
    let account = ctx.account.name.as_str();
    let hash = req.params_hash();
    let existing = ctx.with_db(|c| store::find(c, account, &req.report_type, &hash))?;
    if let Some(row) = &existing {
        if row.status == "FATAL" {
            let since = row.last_polled_at.unwrap_or(row.created_at);
            let retry_at = since + fatal_backoff(row.failures);
            if now < retry_at {
                return Ok(Prepared::Backoff {
                    retry_at,
                    reason: format!(
                        "report {} ({}) failed {} time(s); requested again after {}",
                        row.report_id,
                        req.describe(),
                        row.failures,
                        ts(retry_at)
                    ),
                });
            }
        } else if row.status == "DONE" || now - row.created_at < STALE_AFTER {
            return Ok(Prepared::Ready(row.clone()));
        } else {
            tracing::warn!(account, report_id = %row.report_id, status = %row.status,
                "report unfinished after a day; requesting it again");
        }
    }
    if !take_budget(ctx, job, now) {
        return Ok(Prepared::Deferred {
            reason: format!(
                "{BUDGET_SPENT} of {} per hour spent; {} waits for the next run",
                ctx.cfg.sync.report_budget_per_hour,
                req.describe()
            ),
        });
    }
    let ep = endpoint(ctx)?;
    let report_id = match api::create(ctx.client, &ep, req).await {
        Ok(id) => id,
        Err(e) => {
            let per_hour = ctx.cfg.sync.report_budget_per_hour;
            ctx.client
                .report_budgets
                .refund(&ctx.account.name, per_hour);
            return Err(e.into());
        }
    };
    let marketplace = (req.marketplace_ids.len() == 1).then(|| req.marketplace_ids[0].as_str());
    let params = req.canonical().to_string();
    let row = ctx.with_db(|c| {
        store::record_created(
            c,
            account,
            job.as_str(),
            &req.report_type,
            marketplace,
            &hash,
            &params,
            &report_id,
            now,
        )
    })?;
    tracing::info!(account, job = %job, report_id = %row.report_id, request = %req.describe(), "report requested");
    Ok(Prepared::Ready(row))
}

/// Gets one report's data: creates or resumes the report ([`prepare`]),
/// polls it (at most `max_report_wait`), downloads and decompresses its
/// document. See the module doc for the outcomes.
pub async fn fetch(
    ctx: &Ctx<'_>,
    job: JobName,
    req: &ReportRequest,
) -> Result<ReportOutcome, JobError> {
    let pace = Pace::new(ctx).await;
    let row = match prepare_at(ctx, job, req, pace.now()).await? {
        Prepared::Ready(row) => row,
        Prepared::Deferred { reason } => return Ok(ReportOutcome::Deferred { reason }),
        Prepared::Backoff { retry_at, reason } => {
            return Ok(ReportOutcome::Failed {
                report_id: None,
                reason,
                retry_at,
            })
        }
    };
    let ep = endpoint(ctx)?;
    let handle = Handle {
        pending_id: row.id,
        report_id: row.report_id.clone(),
    };
    // The wait counts from the report's creation (at most max_report_wait
    // from now, should the clock have stepped back).
    let max_wait = ctx.cfg.sync.max_report_wait;
    let age = (pace.now() - row.created_at).to_std().unwrap_or_default();
    let deadline = max_wait.saturating_sub(age);
    let mut wait = POLL_FIRST;
    let mut status = row.status.clone();
    let mut document_id = row.document_id.clone();
    let mut checks = 0u32;
    loop {
        if status != "DONE" || document_id.is_none() {
            checks += 1;
            let r = if checks == 1 {
                api::status(ctx.client, &ep, &row.report_id).await?
            } else {
                match pace
                    .until(deadline, api::status(ctx.client, &ep, &row.report_id))
                    .await
                {
                    Some(r) => r?,
                    None => {
                        return Ok(ReportOutcome::Pending {
                            report_id: row.report_id.clone(),
                            status,
                        })
                    }
                }
            };
            status = r.processing_status;
            document_id = r.report_document_id.or(document_id);
            let now = pace.now();
            ctx.with_db(|c| store::record_poll(c, row.id, &status, document_id.as_deref(), now))?;
            crate::sync::note(|| format!("report {} {status}, checked {checks}×", row.report_id));
        }
        match status.as_str() {
            "DONE" => break,
            "CANCELLED" => return Ok(ReportOutcome::NoData(handle)),
            "FATAL" => return failed(ctx, &pace, &row, req, "ended FATAL"),
            _ => {}
        }
        if pace.elapsed() + wait > deadline {
            return Ok(ReportOutcome::Pending {
                report_id: row.report_id.clone(),
                status,
            });
        }
        pace.sleep(wait).await;
        wait = (wait.mul_f64(1.5)).min(POLL_CAP);
    }
    let Some(document_id) = document_id else {
        return Err(JobError::Data(format!(
            "report {} is DONE without a reportDocumentId",
            row.report_id
        )));
    };
    let mut last_err = String::new();
    crate::sync::note(|| format!("downloading report {}", row.report_id));
    for attempt in 1..=DOWNLOAD_ATTEMPTS {
        let got = api::download(
            ctx.client,
            &ep,
            &document_id,
            &req.marketplace_ids,
            ctx.cfg.sync.request_timeout,
            max_document_bytes(ctx.cfg.sync.max_document_mib),
        )
        .await;
        match got {
            Ok(d) if d.is_empty() => {
                return failed(ctx, &pace, &row, req, "gave an empty document");
            }
            Ok(d) => return Ok(ReportOutcome::Document(d, handle)),
            Err(DownloadError::Api(e)) => return Err(e.into()),
            // Asking again gives the same document: the report fails (and
            // is requested again after the FATAL backoff), saying why.
            Err(DownloadError::TooLarge(e)) => {
                return failed(
                    ctx,
                    &pace,
                    &row,
                    req,
                    &format!("gave a document too large: {e}"),
                );
            }
            Err(DownloadError::Local(m)) => {
                return Err(JobError::Data(format!(
                    "report {} ({}): {m}",
                    row.report_id,
                    req.describe()
                )))
            }
            Err(DownloadError::Body(m)) => {
                tracing::debug!(report_id = %row.report_id, attempt, error = %m, "document download failed");
                last_err = m;
            }
        }
    }
    Err(JobError::Data(format!(
        "report {} ({}): document download failed {DOWNLOAD_ATTEMPTS} times ({last_err}); retried on the next run",
        row.report_id,
        req.describe()
    )))
}

fn failed(
    ctx: &Ctx<'_>,
    pace: &Pace,
    row: &Pending,
    req: &ReportRequest,
    what: &str,
) -> Result<ReportOutcome, JobError> {
    let now = pace.now();
    ctx.with_db(|c| store::record_failure(c, row.id, now))?;
    let retry_at = now + fatal_backoff(row.failures + 1);
    tracing::warn!(account = %ctx.account.name, report_id = %row.report_id, request = %req.describe(), what, "report failed");
    Ok(ReportOutcome::Failed {
        report_id: Some(row.report_id.clone()),
        reason: format!(
            "report {} ({}) {what}; requested again after {}",
            row.report_id,
            req.describe(),
            ts(retry_at)
        ),
        retry_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::time as t;

    #[test]
    fn adoption_resumes_the_newest_leftover_of_the_same_kind_and_drops_the_rest() {
        let now = t("2026-03-03T12:00:00Z");
        let start = t("2026-01-01T08:00:00Z");
        let req = |end: &str| ReportRequest::new("R", ["US"]).range(start, t(end));
        let row = |id: i64, r: &ReportRequest, status: &str, created: &str| Pending {
            id,
            job: "returns".into(),
            report_type: r.report_type.clone(),
            params_hash: r.params_hash(),
            params_json: r.canonical().to_string(),
            report_id: id.to_string(),
            status: status.into(),
            document_id: None,
            poll_count: 0,
            failures: 0,
            created_at: t(created),
            last_polled_at: None,
        };
        let this = req("2026-03-03T12:00:00Z");
        let (a, b) = (req("2026-03-02T16:00:00Z"), req("2026-03-03T10:00:00Z"));
        let other_mkt = ReportRequest::new("R", ["CA"]).range(start, t("2026-03-02T16:00:00Z"));
        let other_opt = a.clone().option("k", "v");
        // (case, rows, resumed request, dropped ids)
        type Case<'a> = (&'a str, Vec<Pending>, Option<&'a ReportRequest>, Vec<i64>);
        let cases: Vec<Case> = vec![
            ("nothing left", vec![], None, vec![]),
            (
                "a queued report of an earlier run",
                vec![row(1, &a, "IN_QUEUE", "2026-03-02T16:00:00Z")],
                Some(&a),
                vec![],
            ),
            (
                "a FATAL one: its backoff applies",
                vec![row(1, &a, "FATAL", "2026-03-02T16:00:00Z")],
                Some(&a),
                vec![],
            ),
            (
                "a DONE one, however old",
                vec![row(1, &a, "DONE", "2026-02-01T16:00:00Z")],
                Some(&a),
                vec![],
            ),
            (
                "the newest of two; the older goes",
                vec![
                    row(1, &a, "FATAL", "2026-03-02T16:00:00Z"),
                    row(2, &b, "IN_PROGRESS", "2026-03-03T10:00:00Z"),
                ],
                Some(&b),
                vec![1],
            ),
            (
                "unfinished a day on: lost, asked anew",
                vec![row(1, &a, "IN_QUEUE", "2026-03-02T16:00:00Z")]
                    .into_iter()
                    .map(|mut p| {
                        p.created_at = t("2026-03-02T12:00:00Z");
                        p
                    })
                    .collect(),
                None,
                vec![1],
            ),
            (
                "the same request: prepare finds it",
                vec![
                    row(1, &a, "FATAL", "2026-03-02T16:00:00Z"),
                    row(2, &this, "IN_QUEUE", "2026-03-03T12:00:00Z"),
                ],
                None,
                vec![1],
            ),
            (
                "another marketplace or other options: not the same kind",
                vec![
                    row(1, &other_mkt, "IN_QUEUE", "2026-03-03T10:00:00Z"),
                    row(2, &other_opt, "IN_QUEUE", "2026-03-03T10:00:00Z"),
                ],
                None,
                vec![],
            ),
        ];
        for (case, rows, resumed, dropped) in cases {
            let (got, drop) = adoption(&rows, &this, now);
            assert_eq!(got.as_ref(), resumed, "{case}");
            assert_eq!(drop, dropped, "{case}");
        }
    }

    #[test]
    fn fatal_backoff_doubles_and_caps() {
        assert_eq!(fatal_backoff(1), chrono::Duration::minutes(5));
        assert_eq!(fatal_backoff(2), chrono::Duration::minutes(10));
        assert_eq!(fatal_backoff(30), chrono::Duration::hours(6));
    }
}
