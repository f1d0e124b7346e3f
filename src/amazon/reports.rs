//! The SP-API reports pipeline (Reports 2021-06-30) every report-based job
//! uses: `createReport` → poll `getReport` → `getReportDocument` → download
//! the pre-signed URL right away (to a temporary file, as it arrives) →
//! gunzip as a stream → hand the stream and its charset to the job's parser
//! (REFERENCE §4 "Report lifecycle").
//!
//! # Memory
//! No document is held in memory: the body goes to an unlinked temporary
//! file, is inflated once to check it (CRC, size, charset sniff), and is
//! read by the job through [`Document::stream`], a chunk at a time. Past
//! `[sync] max_document_mib` decompressed bytes ([`TooLarge`]) the report
//! fails, saying so: a gzip bomb costs a few chunks of memory and stops.
//!
//! # Using it
//! ```text
//! let req = ReportRequest::new("GET_SELLER_FEEDBACK_DATA", [mkt]).range(start, end);
//! match reports::fetch(ctx, JobName::SellerFeedback, &req).await? {
//!     ReportOutcome::Document(doc) => {
//!         let rows = doc.stream(|input| parse(input, doc.encoding()));  // pure
//!         ctx.with_db(|c| { let tx = c.transaction()?;
//!             upsert(&tx, rows)?; set_cursor(&tx, ..)?; reports::finish(&tx, &doc.handle)?;
//!             Ok(tx.commit()?) })?;
//!     }
//!     ReportOutcome::NoData(h) => /* same transaction, no rows */,
//!     ReportOutcome::Pending { .. } | ReportOutcome::Deferred { .. } => /* next run */,
//!     ReportOutcome::Failed { .. } => /* record it: return a JobError after saving what you have */,
//! }
//! ```
//! [`prepare`] creates (or resumes) a report without waiting for it, so a
//! job with several reports can put them all in Amazon's queue first and
//! then [`fetch`] them one by one.
//!
//! # Persistence: restarts resume, never re-request
//! Each request is keyed by a hash of its canonical form
//! ([`ReportRequest::params_hash`]: type, sorted marketplaces, dates,
//! options). The report id goes to `pending_reports` right after
//! `createReport` answers, before any polling, so a restart (or a run that
//! gave up waiting) polls the same report. A row whose report already ended
//! DONE is reused as is (its document is fetched again): that is the
//! "recent DONE report of the same type and range". The caller deletes the
//! row with [`finish`] in the transaction that writes the report's rows, so
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
//! Polls back off from 10 s by ×1.5 up to 2 min, on the clock the rate
//! limiter runs on: sim time when flywheel follows a simulated marketplace
//! (its `--speed` scales the waits), the system clock otherwise. A report is
//! waited for until `max_report_wait` after its creation, never longer: the
//! reports a job queues together share one wait (a job fetching ten of them
//! from a stuck queue waited ten times `max_report_wait`), and a report an
//! earlier run left gets one status check, then waits for the next run. A
//! status check still retrying at the deadline is dropped (the call's own
//! backoff runs in wall time, hours of sim time at a high `--speed`); the
//! first check of a fetch always runs. Nothing here loops forever.
//!
//! # The report budget (DESIGN §3)
//! Amazon gives one `createReport` bucket per account (0.0167 rps, burst
//! 15), shared by every report type. The rate limiter paces the calls; on
//! top, flywheel spends at most `[sync] report_budget_per_hour` creations
//! per account in any sliding hour ([`ReportBudget`], one per account held
//! by the API client, so all jobs of a daemon share it). The plan, in priority
//! order:
//! 1. `seller_feedback` and `orders` ([`Priority::High`]) may use the whole
//!    budget: the 24 h feedback SLA and every sales figure depend on them.
//! 2. Every other report job ([`Priority::Normal`]) stops when only a
//!    quarter of the hour's budget is left (at least 2 creations), which
//!    stays reserved for the first group.
//!
//! A job refused by the budget gets [`ReportOutcome::Deferred`] and tries
//! again on its next run. Resuming a persisted report costs no budget.
//! The budget lives in memory: after a restart Amazon's own bucket (and the
//! limiter) is the guard for the first hour.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use encoding_rs::Encoding;
use rusqlite::Connection;
use serde::Deserialize;

use super::client::{ApiClient, CallSpec, Endpoint};
use super::http::ApiError;
use crate::clock::Clock;
use crate::store::ops::ts;
use crate::store::reports::{self as store, Pending};
use crate::store::StoreError;
use crate::sync::{Ctx, JobError, JobName};

const BASE: &str = "/reports/2021-06-30";

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

/// One report request. Its canonical form keys the pending row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub report_type: String,
    pub marketplace_ids: Vec<String>,
    pub data_start: Option<DateTime<Utc>>,
    pub data_end: Option<DateTime<Utc>>,
    pub options: BTreeMap<String, String>,
}

impl ReportRequest {
    pub fn new<I, S>(report_type: &str, marketplace_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ReportRequest {
            report_type: report_type.to_string(),
            marketplace_ids: marketplace_ids.into_iter().map(Into::into).collect(),
            data_start: None,
            data_end: None,
            options: BTreeMap::new(),
        }
    }

    /// `dataStartTime` and `dataEndTime`.
    pub fn range(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.data_start = Some(start);
        self.data_end = Some(end);
        self
    }

    /// One `reportOptions` entry.
    pub fn option(mut self, key: &str, value: impl Into<String>) -> Self {
        self.options.insert(key.to_string(), value.into());
        self
    }

    /// The canonical form (marketplaces sorted, dates in whole UTC seconds):
    /// what `params_json` stores and [`Self::params_hash`] hashes.
    pub fn canonical(&self) -> serde_json::Value {
        let mut m = self.marketplace_ids.clone();
        m.sort();
        m.dedup();
        serde_json::json!({
            "reportType": self.report_type,
            "marketplaceIds": m,
            "dataStartTime": self.data_start.map(ts),
            "dataEndTime": self.data_end.map(ts),
            "reportOptions": self.options,
        })
    }

    /// FNV-1a 64 of the canonical JSON (serde_json keeps keys sorted), hex:
    /// stable across versions and platforms.
    pub fn params_hash(&self) -> String {
        let text = self.canonical().to_string();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }

    /// Rebuilds a request from a pending row's `params_json`.
    pub fn from_canonical(v: &serde_json::Value) -> Option<ReportRequest> {
        let time = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        Some(ReportRequest {
            report_type: v.get("reportType")?.as_str()?.to_string(),
            marketplace_ids: v
                .get("marketplaceIds")?
                .as_array()?
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            data_start: time("dataStartTime"),
            data_end: time("dataEndTime"),
            options: v
                .get("reportOptions")
                .and_then(|o| serde_json::from_value(o.clone()).ok())
                .unwrap_or_default(),
        })
    }

    /// The `createReport` body (the model's `CreateReportSpecification`).
    fn body(&self) -> serde_json::Value {
        let mut b = serde_json::json!({
            "reportType": self.report_type,
            "marketplaceIds": self.marketplace_ids,
        });
        if let Some(t) = self.data_start {
            b["dataStartTime"] = ts(t).into();
        }
        if let Some(t) = self.data_end {
            b["dataEndTime"] = ts(t).into();
        }
        if !self.options.is_empty() {
            b["reportOptions"] = serde_json::json!(self.options);
        }
        b
    }
}

/// Names a report's pending row; pass it to [`finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    pub pending_id: i64,
    pub report_id: String,
}

/// A downloaded report document, kept as it came (gzip, when Amazon
/// compressed it) in an unlinked temporary file: nothing of it is held in
/// memory. Every job reads it through [`Document::stream`], which inflates
/// it a chunk at a time under the `[sync] max_document_mib` ceiling, so a
/// document of any size (or a gzip bomb) costs a few chunks of memory.
#[derive(Debug, Clone)]
pub struct Document {
    pub handle: Handle,
    file: std::sync::Arc<std::fs::File>,
    gzip: bool,
    encoding: &'static Encoding,
    /// Decompressed bytes the document may have.
    max_bytes: u64,
}

impl Document {
    /// Hands `f` the decompressed document as a stream, from its start
    /// (see [`gunzip_stream_capped`]). A document past the ceiling, a
    /// broken gzip stream or a failing temporary file reaches `f` as an
    /// I/O error from the reader.
    pub fn stream<T>(&self, f: impl FnOnce(&mut dyn BufRead) -> T) -> T {
        match rewound(&self.file) {
            Ok(file) => gunzip_stream_capped(file, self.gzip, self.max_bytes, f),
            Err(e) => f(&mut Failing(Some(e))),
        }
    }

    /// The charset the bytes are in: the download's `Content-Type`
    /// charset, else ISO-8859-1 (Windows-1252) for flat files, cp932 for
    /// Japan, UTF-8 for JSON.
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }
}

/// A second handle on `file`, at its start.
fn rewound(file: &std::fs::File) -> std::io::Result<std::fs::File> {
    use std::io::Seek;
    let mut f = file.try_clone()?;
    f.seek(std::io::SeekFrom::Start(0))?;
    Ok(f)
}

/// A reader that fails with the error it holds (once; then it is empty).
struct Failing(Option<std::io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

impl BufRead for Failing {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(&[]),
        }
    }
    fn consume(&mut self, _: usize) {}
}

/// An anonymous temporary file for a downloaded document: created 0600
/// in the temporary directory and unlinked at once, so it goes when its
/// last handle closes, even if the process is killed.
fn spill_file() -> std::io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".flywheel-report-{}-{n}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(&path) {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            // Left by an earlier process of the same id: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < u64::MAX => {}
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("cannot create a temporary file in {}: {e}", dir.display()),
                ))
            }
        }
    }
}

/// The document was bigger than `[sync] max_document_mib` allows once
/// decompressed (carried inside an `std::io::Error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the document is larger than {mib} MiB once decompressed (the [sync] max_document_mib ceiling); raise max_document_mib if the file is genuine")]
pub struct TooLarge {
    pub mib: u64,
}

impl TooLarge {
    /// The ceiling error inside `e`, if that is what `e` is.
    pub fn of(e: &std::io::Error) -> Option<&TooLarge> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<TooLarge>())
    }
}

/// The decompressed-size ceiling of `[sync] max_document_mib`, bytes.
pub fn max_document_bytes(mib: u64) -> u64 {
    mib.saturating_mul(1 << 20)
}

/// A reader that fails with [`TooLarge`] once more than `max` bytes came
/// through it.
pub struct Capped<R> {
    inner: R,
    read: u64,
    max: u64,
}

impl<R> Capped<R> {
    pub fn new(inner: R, max: u64) -> Self {
        Capped {
            inner,
            read: 0,
            max,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                TooLarge {
                    mib: self.max >> 20,
                },
            ));
        }
        Ok(n)
    }
}

/// What [`fetch`] got.
#[derive(Debug)]
pub enum ReportOutcome {
    /// DONE: the document, ready to parse.
    Document(Document),
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
            tracing::info!(account, job = %job, request = %describe(&r),
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

// ---------------------------------------------------------------------------
// The budget

/// How a job ranks for the report budget (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    High,
    Normal,
}

/// The plan's ranking.
pub fn priority(job: JobName) -> Priority {
    match job {
        JobName::SellerFeedback | JobName::Orders => Priority::High,
        _ => Priority::Normal,
    }
}

/// `createReport` calls an account may still make: a sliding hour of
/// creation times. Pure: time is passed in.
#[derive(Debug, Clone)]
pub struct ReportBudget {
    per_hour: u32,
    created: VecDeque<DateTime<Utc>>,
}

impl ReportBudget {
    pub fn new(per_hour: u32) -> Self {
        ReportBudget {
            per_hour,
            created: VecDeque::new(),
        }
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        // Older than an hour: spent. Later than now: the clock stepped back
        // (a system clock corrected, a simulator restarted earlier); such
        // entries would otherwise never expire and starve every report job.
        self.created
            .retain(|t| *t <= now && now - *t < chrono::Duration::hours(1));
    }

    /// Creations left in the current hour.
    pub fn remaining(&mut self, now: DateTime<Utc>) -> u32 {
        self.expire(now);
        self.per_hour.saturating_sub(self.created.len() as u32)
    }

    /// What normal-priority jobs must leave for the high-priority ones.
    pub fn reserve(&self) -> u32 {
        (self.per_hour / 4).max(2).min(self.per_hour)
    }

    /// Takes one creation if the plan allows it.
    pub fn try_take(&mut self, priority: Priority, now: DateTime<Utc>) -> bool {
        let left = self.remaining(now);
        let floor = match priority {
            Priority::High => 0,
            Priority::Normal => self.reserve(),
        };
        if left > floor {
            self.created.push_back(now);
            true
        } else {
            false
        }
    }

    /// Gives back a creation that did not happen (createReport failed).
    pub fn refund(&mut self) {
        self.created.pop_back();
    }
}

/// The budget of each account, held by the [`ApiClient`] beside its rate
/// limiter: one per daemon (or `flywheel sync`), shared by all its jobs. It
/// was a process-wide static, so daemons and test harnesses in one process
/// (each with its own marketplace) spent each other's budget: the fault
/// matrix's later cases found jobs deferred by earlier cases' reports.
#[derive(Debug, Default)]
pub struct ReportBudgets(Mutex<HashMap<String, ReportBudget>>);

fn with_budget<T>(ctx: &Ctx<'_>, f: impl FnOnce(&mut ReportBudget) -> T) -> T {
    let mut map = ctx
        .client
        .report_budgets
        .0
        .lock()
        .expect("report budget lock");
    let per_hour = ctx.cfg.sync.report_budget_per_hour;
    let b = map
        .entry(ctx.account.name.clone())
        .or_insert_with(|| ReportBudget::new(per_hour));
    b.per_hour = per_hour;
    f(b)
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
        let (now0, speed) = match Clock::from_source(&ctx.cfg.daemon.clock) {
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

// ---------------------------------------------------------------------------
// Calls

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateReportResponse {
    report_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportStatus {
    processing_status: String,
    report_document_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportDocumentInfo {
    url: String,
    compression_algorithm: Option<String>,
}

/// [`ApiClient::call_json`]: the client asks again for a body cut short.
pub async fn call_json<T: serde::de::DeserializeOwned>(
    client: &ApiClient,
    ep: &Endpoint,
    spec: &CallSpec,
) -> Result<T, ApiError> {
    client.call_json(ep, spec).await
}

fn endpoint(ctx: &Ctx<'_>) -> Result<Endpoint, JobError> {
    ctx.sp().ok_or_else(|| {
        JobError::Data(format!(
            "account {} has no [accounts.sp_api] credentials",
            ctx.account.name
        ))
    })
}

fn describe(req: &ReportRequest) -> String {
    match (req.data_start, req.data_end) {
        (Some(a), Some(b)) => format!("{} {}..{}", req.report_type, ts(a), ts(b)),
        _ => req.report_type.clone(),
    }
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
                        describe(req),
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
    if !with_budget(ctx, |b| b.try_take(priority(job), now)) {
        return Ok(Prepared::Deferred {
            reason: format!(
                "report budget of {} per hour spent; {} waits for the next run",
                ctx.cfg.sync.report_budget_per_hour,
                describe(req)
            ),
        });
    }
    let ep = endpoint(ctx)?;
    let spec = CallSpec::post_json(
        "createReport",
        format!("{BASE}/reports"),
        &req.body(),
        "application/json",
    );
    let created: CreateReportResponse = match ctx.client.call_json(&ep, &spec).await {
        Ok(r) => r,
        Err(e) => {
            with_budget(ctx, |b| b.refund());
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
            &created.report_id,
            now,
        )
    })?;
    tracing::info!(account, job = %job, report_id = %row.report_id, request = %describe(req), "report requested");
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
            let spec = CallSpec::get("getReport", format!("{BASE}/reports/{}", row.report_id));
            checks += 1;
            let r: ReportStatus = if checks == 1 {
                call_json(ctx.client, &ep, &spec).await?
            } else {
                match pace
                    .until(deadline, call_json(ctx.client, &ep, &spec))
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
    for attempt in 1..=DOWNLOAD_ATTEMPTS {
        match download(ctx, &ep, &document_id, &req.marketplace_ids).await {
            Ok(d) if d.size == 0 => {
                return failed(ctx, &pace, &row, req, "gave an empty document");
            }
            Ok(d) => {
                return Ok(ReportOutcome::Document(Document {
                    handle,
                    file: std::sync::Arc::new(d.file),
                    gzip: d.gzip,
                    encoding: d.encoding,
                    max_bytes: d.max_bytes,
                }))
            }
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
                    describe(req)
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
        describe(req)
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
    tracing::warn!(account = %ctx.account.name, report_id = %row.report_id, request = %describe(req), what, "report failed");
    Ok(ReportOutcome::Failed {
        report_id: Some(row.report_id.clone()),
        reason: format!(
            "report {} ({}) {what}; requested again after {}",
            row.report_id,
            describe(req),
            ts(retry_at)
        ),
        retry_at,
    })
}

enum DownloadError {
    Api(ApiError),
    /// The body could not be read whole (worth another download).
    Body(String),
    /// Past `[sync] max_document_mib`.
    TooLarge(TooLarge),
    /// The temporary file failed (not Amazon's fault; not retried).
    Local(String),
}

fn download_client(timeout: Duration) -> &'static reqwest::Client {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(super::client::USER_AGENT)
            .timeout(timeout)
            .build()
            .expect("reqwest client")
    })
}

/// `getReportDocument`, then the pre-signed URL at once (it lives 5
/// minutes; no auth header: it is S3, not an SP-API operation).
async fn download(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    document_id: &str,
    marketplaces: &[String],
) -> Result<Downloaded, DownloadError> {
    let spec = CallSpec::get(
        "getReportDocument",
        format!("{BASE}/documents/{document_id}"),
    );
    let info: ReportDocumentInfo = call_json(ctx.client, ep, &spec)
        .await
        .map_err(DownloadError::Api)?;
    let mut resp = download_client(ctx.cfg.sync.request_timeout)
        .get(&info.url)
        .send()
        .await
        .map_err(|e| DownloadError::Body(e.without_url().to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(DownloadError::Body(format!(
            "document URL answered {status}"
        )));
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let gzip = info
        .compression_algorithm
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("GZIP"));
    // The body goes to a temporary file as it arrives, never whole into
    // memory. Compressed, it cannot be much larger than the ceiling.
    let max_bytes = max_document_bytes(ctx.cfg.sync.max_document_mib);
    let max_raw = max_bytes
        .saturating_add(max_bytes >> 10)
        .saturating_add(1 << 16);
    let local = |e: std::io::Error| DownloadError::Local(format!("cannot keep the document: {e}"));
    let mut file = spill_file().map_err(local)?;
    let mut raw_len = 0u64;
    {
        let mut out = std::io::BufWriter::with_capacity(STREAM_CHUNK, &mut file);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    raw_len += chunk.len() as u64;
                    if raw_len > max_raw {
                        return Err(DownloadError::TooLarge(TooLarge {
                            mib: max_bytes >> 20,
                        }));
                    }
                    std::io::Write::write_all(&mut out, &chunk).map_err(local)?;
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(DownloadError::Body(format!(
                        "body cut short: {}",
                        e.without_url()
                    )))
                }
            }
        }
        std::io::Write::flush(&mut out).map_err(local)?;
    }
    // A body cut short arrives whole as far as HTTP knows: gunzip it once
    // into nothing (the CRC and length at its end are checked) so a broken
    // document is downloaded again now, not found half-read by the parser.
    let reader = BufReader::with_capacity(STREAM_CHUNK, rewound(&file).map_err(local)?);
    let (size, head) = inflated_size(reader, gzip, max_bytes)?;
    let encoding = charset(content_type.as_deref(), marketplaces, &head);
    Ok(Downloaded {
        file,
        gzip,
        size,
        encoding,
        max_bytes,
    })
}

/// A document as [`download`] got it.
struct Downloaded {
    /// The body as it came (gzip or not), in an unlinked temporary file.
    file: std::fs::File,
    gzip: bool,
    /// Decompressed size, bytes.
    size: u64,
    encoding: &'static Encoding,
    max_bytes: u64,
}

/// Whether `raw` is to be gunzipped: the document says GZIP and the bytes
/// are gzip (an HTTP layer honouring `Content-Encoding: gzip` may have
/// done it already).
fn is_gzip(raw: &[u8], gzip: bool) -> bool {
    gzip && raw.starts_with(&[0x1f, 0x8b])
}

/// The decompressed size of `raw` and its first bytes (for the charset
/// sniff), without keeping the rest; an error for a broken gzip stream
/// and for a document past `max` bytes.
fn inflated_size(
    mut raw: impl BufRead,
    gzip: bool,
    max: u64,
) -> Result<(u64, Vec<u8>), DownloadError> {
    const HEAD: usize = 4096;
    let is_gzip = gzip && raw.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]));
    let mut input: Box<dyn Read> = if is_gzip {
        Box::new(Capped::new(flate2::read::MultiGzDecoder::new(raw), max))
    } else {
        Box::new(Capped::new(raw, max))
    };
    let mut buf = vec![0u8; STREAM_CHUNK];
    let (mut size, mut head) = (0u64, Vec::new());
    loop {
        match input.read(&mut buf) {
            Ok(0) => return Ok((size, head)),
            Ok(k) => {
                if head.len() < HEAD {
                    let take = k.min(HEAD - head.len());
                    head.extend_from_slice(&buf[..take]);
                }
                size += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(match TooLarge::of(&e) {
                    Some(t) => DownloadError::TooLarge(t.clone()),
                    None if is_gzip => {
                        DownloadError::Body(format!("cannot gunzip the document (truncated?): {e}"))
                    }
                    None => DownloadError::Local(format!("cannot read the document back: {e}")),
                })
            }
        }
    }
}

/// Gunzips when the document says GZIP and the bytes are gzip (an HTTP
/// layer honouring `Content-Encoding: gzip` may have done it already).
/// The whole document in memory: for tests and the fuzz targets only; the
/// jobs and `flywheel import` read through [`gunzip_stream_capped`].
pub fn decompress(raw: &[u8], gzip: bool) -> Result<Vec<u8>, String> {
    if !is_gzip(raw, gzip) {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::with_capacity(raw.len() * 6);
    flate2::read::MultiGzDecoder::new(raw)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot gunzip the document (truncated?): {e}"))?;
    Ok(out)
}

/// Bytes per chunk of [`gunzip_stream`] (and of the `ingest` bench's
/// decompress-only floor, so both read alike).
pub const STREAM_CHUNK: usize = 256 << 10;

/// Chunks in flight between the gunzip thread and the reader: bounds the
/// pipeline's memory to a few chunks whatever the document's size.
const STREAM_DEPTH: usize = 4;

/// Hands `f` the document `raw` as a stream of plain bytes, gunzipping it
/// (when `gzip` and the bytes are gzip, as [`decompress`]) on a second
/// thread that runs ahead by at most [`STREAM_DEPTH`] chunks. Parsing and
/// storing a large report costs more than inflating it, so inflating on
/// the other core hides it almost entirely, and memory stays a few chunks
/// instead of the whole document. A broken gzip stream reaches `f` as an
/// I/O error ("cannot gunzip the document …") from the reader; if `f`
/// returns early the gunzip thread stops at its next chunk.
pub fn gunzip_stream<R: Read + Send, T>(
    raw: R,
    gzip: bool,
    f: impl FnOnce(&mut dyn BufRead) -> T,
) -> T {
    gunzip_stream_capped(raw, gzip, u64::MAX, f)
}

/// [`gunzip_stream`] under a ceiling: past `max` decompressed bytes the
/// reader fails with [`TooLarge`] (find it with [`TooLarge::of`]), so a
/// gzip bomb stops at the ceiling instead of running for hours.
pub fn gunzip_stream_capped<R: Read + Send, T>(
    raw: R,
    gzip: bool,
    max: u64,
    f: impl FnOnce(&mut dyn BufRead) -> T,
) -> T {
    let mut input = BufReader::with_capacity(STREAM_CHUNK, raw);
    let is_gzip = gzip && input.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b]));
    if !is_gzip {
        return f(&mut BufReader::with_capacity(
            STREAM_CHUNK,
            Capped::new(input, max),
        ));
    }
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel(STREAM_DEPTH);
    let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(STREAM_DEPTH + 2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut gz = Capped::new(flate2::read::MultiGzDecoder::new(input), max);
            loop {
                // A chunk the reader gave back, else a new one: at most
                // STREAM_DEPTH + 2 exist at a time.
                let mut chunk = empty_rx
                    .try_recv()
                    .unwrap_or_else(|_| vec![0u8; STREAM_CHUNK]);
                let mut len = 0;
                let read = loop {
                    if len == chunk.len() {
                        break Ok(());
                    }
                    match gz.read(&mut chunk[len..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => len += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let msg = match read {
                    Err(e) if TooLarge::of(&e).is_some() => Err(e),
                    Err(e) => Err(std::io::Error::new(
                        e.kind(),
                        format!("cannot gunzip the document (truncated?): {e}"),
                    )),
                    Ok(()) if len == 0 => return,
                    Ok(()) => Ok((chunk, len)),
                };
                let last = !matches!(&msg, Ok((c, l)) if *l == c.len());
                if full_tx.send(msg).is_err() || last {
                    return;
                }
            }
        });
        let mut reader = Chunks {
            full: full_rx,
            empty: empty_tx,
            cur: Vec::new(),
            len: 0,
            pos: 0,
        };
        f(&mut reader)
    })
}

/// The reading end of [`gunzip_stream`]'s pipeline.
struct Chunks {
    full: std::sync::mpsc::Receiver<std::io::Result<(Vec<u8>, usize)>>,
    empty: std::sync::mpsc::SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    len: usize,
    pos: usize,
}

impl BufRead for Chunks {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.len {
            if !self.cur.is_empty() {
                let _ = self.empty.try_send(std::mem::take(&mut self.cur));
            }
            (self.len, self.pos) = (0, 0);
            // A closed channel is the end of the document.
            if let Ok(msg) = self.full.recv() {
                let (chunk, len) = msg?;
                (self.cur, self.len) = (chunk, len);
            }
        }
        Ok(&self.cur[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let have = self.fill_buf()?;
        let k = have.len().min(out.len());
        out[..k].copy_from_slice(&have[..k]);
        self.consume(k);
        Ok(k)
    }
}

/// The document's encoding: the Content-Type charset when given; else
/// UTF-8 for JSON, cp932 for Japan, ISO-8859-1 (as Windows-1252, its
/// superset) for flat files (REFERENCE §0.10).
pub fn charset(
    content_type: Option<&str>,
    marketplaces: &[String],
    bytes: &[u8],
) -> &'static Encoding {
    let declared = content_type.and_then(|ct| {
        ct.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| v.trim().trim_matches('"').to_string())
        })
    });
    if let Some(enc) = declared.and_then(|l| Encoding::for_label(l.as_bytes())) {
        return enc;
    }
    let json = content_type.is_some_and(|ct| ct.contains("json"))
        || bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[');
    if json {
        encoding_rs::UTF_8
    } else if marketplaces.iter().any(|m| m == "A1VC38T7YXB528") {
        encoding_rs::SHIFT_JIS
    } else {
        encoding_rs::WINDOWS_1252
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_budget_frees_up_after_an_hour_and_when_the_clock_steps_back() {
        let mut b = ReportBudget::new(4);
        let now = t("2026-03-02T10:00:00Z");
        for _ in 0..4 {
            assert!(b.try_take(Priority::High, now));
        }
        assert!(!b.try_take(Priority::High, now));
        // (case, at, remaining)
        for (case, at, left) in [
            ("59 minutes later: still spent", "2026-03-02T10:59:59Z", 0),
            ("an hour later: free", "2026-03-02T11:00:00Z", 4),
        ] {
            let mut b = b.clone();
            assert_eq!(b.remaining(t(at)), left, "{case}");
        }
        // The clock steps back 14 days: entries "in the future" do not
        // count against the budget.
        assert_eq!(b.remaining(t("2026-02-16T10:00:00Z")), 4);
    }

    #[test]
    fn hash_is_canonical() {
        let a = ReportRequest::new("X", ["B", "A"])
            .range(t("2026-01-01T00:00:00Z"), t("2026-01-31T00:00:00Z"))
            .option("k", "v");
        let b = ReportRequest::new("X", ["A", "B"])
            .range(t("2026-01-01T00:00:00Z"), t("2026-01-31T00:00:00Z"))
            .option("k", "v");
        assert_eq!(a.params_hash(), b.params_hash());
        let c = b.clone().option("k", "w");
        assert_ne!(a.params_hash(), c.params_hash());
        let back = ReportRequest::from_canonical(&a.canonical()).unwrap();
        assert_eq!(back.params_hash(), a.params_hash());
    }

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
    fn budget_keeps_a_reserve_for_high_priority() {
        let now = t("2026-01-01T00:00:00Z");
        let mut b = ReportBudget::new(8);
        let mut normal = 0;
        while b.try_take(Priority::Normal, now) {
            normal += 1;
        }
        assert_eq!(normal, 6);
        assert!(b.try_take(Priority::High, now));
        assert!(b.try_take(Priority::High, now));
        assert!(!b.try_take(Priority::High, now));
        // An hour later the window is free again.
        assert!(b.try_take(Priority::Normal, now + chrono::Duration::hours(1)));
    }

    #[test]
    fn fatal_backoff_doubles_and_caps() {
        assert_eq!(fatal_backoff(1), chrono::Duration::minutes(5));
        assert_eq!(fatal_backoff(2), chrono::Duration::minutes(10));
        assert_eq!(fatal_backoff(30), chrono::Duration::hours(6));
    }

    #[test]
    fn charset_table() {
        let none: &[String] = &[];
        let jp = vec!["A1VC38T7YXB528".to_string()];
        type Case<'a> = (Option<&'a str>, &'a [String], &'a [u8], &'a str);
        let cases: &[Case] = &[
            (
                Some("text/plain; charset=ISO-8859-1"),
                none,
                b"a",
                "windows-1252",
            ),
            (
                Some("text/plain;charset=windows-31j"),
                none,
                b"a",
                "Shift_JIS",
            ),
            (Some("text/plain; charset=\"UTF-8\""), none, b"a", "UTF-8"),
            (None, none, b"a\tb", "windows-1252"),
            (None, &jp, b"a\tb", "Shift_JIS"),
            (Some("application/json"), none, b"{}", "UTF-8"),
            (None, none, b" {\"a\":1}", "UTF-8"),
        ];
        for (ct, m, bytes, want) in cases {
            assert_eq!(charset(*ct, m, bytes).name(), *want, "{ct:?}");
        }
    }

    #[test]
    fn gunzip_and_truncation() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"h1\th2\nx\ty\n").unwrap();
        let gz = e.finish().unwrap();
        assert_eq!(decompress(&gz, true).unwrap(), b"h1\th2\nx\ty\n");
        assert!(decompress(&gz[..gz.len() / 2], true).is_err());
        assert_eq!(decompress(b"plain", true).unwrap(), b"plain");
        assert_eq!(decompress(b"plain", false).unwrap(), b"plain");
    }
}
