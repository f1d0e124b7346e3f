//! The SP-API report pipeline every report-based job uses: `createReport`
//! → poll `getReport` → `getReportDocument` → download the pre-signed URL
//! right away (to a temporary file, as it arrives) → hand the document to
//! the job's parser and one transaction writing its rows, cursor and
//! report (REFERENCE §4 "Report lifecycle"). The calls and the document
//! are `crate::amazon::reports` and `crate::amazon::document`; this module
//! is what knows jobs: the job's context, the report bookkeeping of
//! `store::reports`, the budget ranking, and waiting with the job's
//! deadline.
//!
//! - [`pipeline`]: a report's life: [`prepare`], [`fetch`], [`adopt`],
//!   [`retain`], [`finish`].
//! - [`step`](mod@step): the step each report job takes per report,
//!   written once ([`step()`]): fetch → classify → one transaction writing
//!   rows, cursor and report; and the [`Tally`] of a job's steps.
//!
//! # Using it
//! ```text
//! let req = ReportRequest::new("GET_SELLER_FEEDBACK_DATA", [mkt]).range(start, end);
//! let step = report::step(ctx, &Report::new(JOB, &req, mkt),
//!     |doc| doc.stream(|input| parse(input, doc.encoding())),   // pure
//!     |tx, cursor, rows| { upsert(tx, rows)?; *cursor = ..; Ok(n) }).await?;
//! if let Some(n) = tally.take(Label::marketplace(country), step)? { tally.rows += n }
//! ```
//! [`prepare`] creates (or resumes) a report without waiting for it, so a
//! job with several reports can put them all in Amazon's queue first
//! ([`queue`]) and then take them one by one.
//!
//! # Persistence: restarts resume, never re-request
//! Each request is keyed by a hash of its canonical form
//! (`ReportRequest::params_hash`: type, sorted marketplaces, dates,
//! options). The report id goes to `pending_reports` right after
//! `createReport` answers, before any polling, so a restart (or a run that
//! gave up waiting) polls the same report. A row whose report already ended
//! DONE is reused as is (its document is fetched again): that is the
//! "recent DONE report of the same type and range". The row is deleted
//! with [`finish`] in the transaction that writes the report's rows, so
//! a crash between download and commit re-downloads, never loses.
//! The one window left: a crash between Amazon accepting `createReport`
//! and the insert orphans that report, and the next run requests anew.
//!
//! A request whose range moves between runs would never find its row
//! again. A job whose range ends at the run's `now` (one report of a type
//! per marketplace) resumes its leftover report with [`adopt`] and stores
//! the adopted range; a job whose plan moves with the day (rolling
//! windows, ASIN chunks) forgets the reports it no longer plans with
//! [`retain`]. Either way no row stays in `pending_reports` that no run
//! will poll again.
//!
//! # Outcomes
//! - `DONE` → [`ReportOutcome::Document`]. A DONE report whose document is
//!   empty (not even a header line) is treated like FATAL: no real report
//!   of data is zero bytes, and taking it as "no rows" would advance
//!   cursors over data never seen.
//! - `CANCELLED` → [`ReportOutcome::NoData`]: Amazon cancels reports that
//!   have nothing to say (REFERENCE §0.12); not an error.
//! - `FATAL` → [`ReportOutcome::Failed`]; the row stays with status FATAL
//!   and a failure count, and the request is made again on a later run
//!   after 5 min × 2^(failures−1), capped at 6 h.
//! - Still in queue `[sync] max_report_wait` after it was requested →
//!   [`ReportOutcome::Pending`]; the next run resumes polling. A report
//!   still unfinished a day after it was created is presumed lost and
//!   requested again.
//!
//! # Polling and time
//! Polls back off from 10 s by ×1.5 up to 2 min, on the clock the round
//! follows (the job context's `clock`, built once by the caller): sim time
//! when flywheel follows a simulated marketplace (its `--speed` scales the
//! waits), the system clock otherwise. A report is waited for until
//! `max_report_wait` after its creation, never longer: the reports a job
//! queues together share one wait (a job fetching ten of them from a stuck
//! queue waited ten times `max_report_wait`), and a report an earlier run
//! left gets one status check, then waits for the next run. A status check
//! still retrying at the deadline is dropped (the call's own backoff runs
//! in wall time, hours of sim time at a high `--speed`); the first check of
//! a fetch always runs. Nothing here loops forever.
//!
//! # The report budget (DESIGN §3)
//! The budget itself (`[sync] report_budget_per_hour` per account, shared
//! by every job of a daemon) is `crate::amazon::reports::ReportBudget`.
//! The plan, in priority order ([`priority`]):
//! 1. `seller_feedback` and `orders` ([`Priority::High`]) may use the whole
//!    budget: the 24 h feedback SLA and every sales figure depend on them.
//! 2. Every other report job ([`Priority::Normal`]) stops when only a
//!    quarter of the hour's budget is left (at least 2 creations), which
//!    stays reserved for the first group.
//!
//! A job refused by the budget gets [`ReportOutcome::Deferred`] and tries
//! again on its next run. Resuming a persisted report costs no budget.

pub mod pipeline;
pub mod step;

pub use crate::amazon::reports::{Document, Priority, ReportRequest};
pub(crate) use pipeline::endpoint;
pub use pipeline::{
    adopt, fetch, finish, prepare, priority, queue, retain, Handle, Prepared, ReportOutcome,
};
pub use step::{in_transaction, step, Label, Report, Step, StreamError, Tally};
