//! The step every report job takes for each of its reports, written once:
//! fetch the report ([`super::fetch`]), classify what came ([`Step`]), and
//! write the report's rows, the job's cursor and the report's end
//! ([`super::finish`]) in one transaction. A job brings only what is its
//! own: how to read its document and how to store its rows and move its
//! cursor. [`Tally`] folds the steps of a run into the job's result.

use rusqlite::Connection;
use serde_json::{json, Value};

use super::{fetch, finish, Document, ReportOutcome, ReportRequest};
use crate::store::jobs;
use crate::store::StoreError;
use crate::sync::{Ctx, JobError, JobName, JobReport};

/// One report of a job, as [`step`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub job: JobName,
    pub req: &'a ReportRequest,
    /// The marketplace whose cursor the report moves (`""`: the
    /// account's).
    pub marketplace: &'a str,
}

impl<'a> Report<'a> {
    pub fn new(job: JobName, req: &'a ReportRequest, marketplace: &'a str) -> Self {
        Report {
            job,
            req,
            marketplace,
        }
    }
}

/// Why a report (or a file `flywheel import` reads) stopped before its
/// end.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The document could not be read (a broken gzip stream, the size
    /// ceiling, not the report it should be).
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one report's step came to.
#[derive(Debug)]
pub enum Step<T> {
    /// Its rows, the cursor and the report's end are stored, in one
    /// transaction; `stored` is what the job's `write` said.
    Stored { report_id: String, stored: T },
    /// Still in Amazon's queue past `max_report_wait`: the next run.
    Pending { report_id: String, status: String },
    /// The report budget is spent: the next run.
    Deferred(String),
    /// FATAL, backing off, or an empty document: requested again later.
    Failed(String),
    /// The document could not be read; nothing of it was stored.
    Unreadable { report_id: String, error: String },
}

/// Takes one report through its step: fetches it; `read`s a document
/// outside the database lock (a CANCELLED report, which has none, reads
/// as `P::default()`); then, in one transaction, hands the job's `write`
/// what was read and the job's cursor for the report's marketplace (`{}`
/// when there is none yet) to store the rows and move the cursor, writes
/// the cursor back and ends the report. An unreadable document (from
/// `read`, or from `write` streaming it as it stores) leaves nothing
/// stored: the transaction rolls back and the report stays to do.
///
/// A job that stores its document as it reads it (one line at a time)
/// reads it with [`in_transaction`] and streams it inside `write`.
pub async fn step<P: Default, T>(
    ctx: &Ctx<'_>,
    report: &Report<'_>,
    read: impl FnOnce(&Document) -> Result<P, String>,
    write: impl FnOnce(&Connection, &mut Value, P) -> Result<T, StreamError>,
) -> Result<Step<T>, JobError> {
    let (doc, handle) = match fetch(ctx, report.job, report.req).await? {
        ReportOutcome::Document(doc, handle) => (Some(doc), handle),
        ReportOutcome::NoData(handle) => (None, handle),
        ReportOutcome::Pending { report_id, status } => {
            return Ok(Step::Pending { report_id, status })
        }
        ReportOutcome::Deferred { reason } => return Ok(Step::Deferred(reason)),
        ReportOutcome::Failed { reason, .. } => return Ok(Step::Failed(reason)),
    };
    let unreadable = |error| Step::Unreadable {
        report_id: handle.report_id.clone(),
        error,
    };
    let read = match doc.as_ref().map(read).transpose() {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return Ok(unreadable(e)),
    };
    let (job, account) = (report.job.as_str(), ctx.account.name.as_str());
    let stored = ctx.with_db(|c| {
        let tx = c.transaction()?;
        let mut cursor =
            jobs::cursor(&tx, job, account, report.marketplace)?.unwrap_or_else(|| json!({}));
        let stored = match write(&tx, &mut cursor, read) {
            Ok(t) => t,
            Err(StreamError::Store(e)) => return Err(e),
            // Nothing of it is kept: the transaction rolls back.
            Err(StreamError::Unreadable(e)) => return Ok(Err(e)),
        };
        jobs::set_cursor(&tx, job, account, report.marketplace, &cursor, ctx.now)?;
        finish(&tx, &handle)?;
        tx.commit()?;
        Ok(Ok(stored))
    })?;
    Ok(match stored {
        Ok(stored) => Step::Stored {
            report_id: handle.report_id,
            stored,
        },
        Err(e) => unreadable(e),
    })
}

/// [`step`]'s `read` for a job that reads its document inside the
/// transaction, as it stores it.
pub fn in_transaction(doc: &Document) -> Result<Option<Document>, String> {
    Ok(Some(doc.clone()))
}

/// How a job names one of its reports in its notes and errors.
#[derive(Debug, Clone, Copy)]
pub struct Label<'a> {
    note: Option<&'a str>,
    error: Option<&'a str>,
}

impl<'a> Label<'a> {
    /// The job's one report of a marketplace: `US: …` in the notes, and
    /// `report 123: …` when its document is unreadable.
    pub fn marketplace(country: &'a str) -> Self {
        Label {
            note: Some(country),
            error: None,
        }
    }

    /// One of several reports of a marketplace: `US FBA: …` and
    /// `US FBA (report 123): …`.
    pub fn report(what: &'a str) -> Self {
        Label {
            note: Some(what),
            error: Some(what),
        }
    }

    /// The job's one report of the account: notes as they come, and
    /// `report 123: …`.
    pub fn account() -> Self {
        Label {
            note: None,
            error: None,
        }
    }

    fn note(&self, s: String) -> String {
        match self.note {
            Some(what) => format!("{what}: {s}"),
            None => s,
        }
    }

    fn error(&self, report_id: &str, e: &str) -> String {
        match self.error {
            Some(what) => format!("{what} (report {report_id}): {e}"),
            None => format!("report {report_id}: {e}"),
        }
    }
}

/// What a job run did across its reports: rows written, notes, failures.
#[derive(Debug, Default)]
pub struct Tally {
    pub rows: u64,
    pub notes: Vec<String>,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn note(&mut self, s: impl Into<String>) {
        self.notes.push(s.into());
    }

    /// Notes a reader's one-line account of problems, if any.
    pub fn summary(&mut self, what: &str, summary: Option<&str>) {
        if let Some(d) = summary {
            tracing::warn!(report = what, "{d}");
            self.notes.push(format!("{what}: {d}"));
        }
    }

    /// Folds one report's step into the run: what was stored is given
    /// back; a report for a later run is noted, a failed one listed (the
    /// job goes on with its other reports); an unreadable document stops
    /// the job with an error naming the report.
    pub fn take<T>(&mut self, label: Label<'_>, step: Step<T>) -> Result<Option<T>, JobError> {
        Ok(match step {
            Step::Stored { stored, .. } => Some(stored),
            Step::Pending { report_id, status } => {
                self.note(label.note(format!(
                    "report {report_id} still {status}; resumed on the next run"
                )));
                None
            }
            Step::Deferred(why) => {
                self.note(label.note(why));
                None
            }
            Step::Failed(why) => {
                self.failures.push(label.note(why));
                None
            }
            Step::Unreadable { report_id, error } => {
                return Err(JobError::Data(label.error(&report_id, &error)))
            }
        })
    }

    /// The job's result: an error naming the failed reports (after the
    /// others were written), else the report.
    pub fn finish(self) -> Result<JobReport, JobError> {
        if !self.failures.is_empty() {
            return Err(JobError::Data(self.failures.join("; ")));
        }
        Ok(JobReport {
            rows: self.rows,
            note: if self.notes.is_empty() {
                "up to date".into()
            } else {
                self.notes.join("; ")
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a run of one step says: its result, or its error.
    fn said(label: Label<'_>, step: Step<u64>) -> String {
        let mut tally = Tally::default();
        match tally.take(label, step) {
            Ok(Some(n)) => tally.rows += n,
            Ok(None) => {}
            Err(e) => return format!("error: {e}"),
        }
        match tally.finish() {
            Ok(r) => format!("{} rows: {}", r.rows, r.note),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn steps_fold_into_the_jobs_result_with_their_label() {
        let pending = || Step::Pending {
            report_id: "7".into(),
            status: "IN_QUEUE".into(),
        };
        let unreadable = || Step::Unreadable {
            report_id: "7".into(),
            error: "unreadable document: x".into(),
        };
        // (case, label, step, what the run says)
        let cases: Vec<(&str, Label, Step<u64>, &str)> = vec![
            (
                "stored",
                Label::marketplace("US"),
                Step::Stored {
                    report_id: "7".into(),
                    stored: 3,
                },
                "3 rows: up to date",
            ),
            (
                "pending, a marketplace's",
                Label::marketplace("US"),
                pending(),
                "0 rows: US: report 7 still IN_QUEUE; resumed on the next run",
            ),
            (
                "pending, the account's",
                Label::account(),
                pending(),
                "0 rows: report 7 still IN_QUEUE; resumed on the next run",
            ),
            (
                "deferred",
                Label::report("US FBA"),
                Step::Deferred("budget spent".into()),
                "0 rows: US FBA: budget spent",
            ),
            (
                "failed",
                Label::report("week 2026-02-22"),
                Step::Failed("ended FATAL".into()),
                "error: week 2026-02-22: ended FATAL",
            ),
            (
                "unreadable, one of several",
                Label::report("US FBA"),
                unreadable(),
                "error: US FBA (report 7): unreadable document: x",
            ),
            (
                "unreadable, a marketplace's one",
                Label::marketplace("US"),
                unreadable(),
                "error: report 7: unreadable document: x",
            ),
            (
                "unreadable, the account's",
                Label::account(),
                unreadable(),
                "error: report 7: unreadable document: x",
            ),
        ];
        for (case, label, step, want) in cases {
            assert_eq!(said(label, step), want, "{case}");
        }
    }
}
