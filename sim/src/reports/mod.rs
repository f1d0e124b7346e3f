//! SP-API Reports 2021-06-30 (`reports_2021-06-30.json`): `createReport`,
//! `getReport`, `getReports`, `cancelReport`, `getReportDocument` and the
//! pre-signed document download URL.
//!
//! # Lifecycle (DESIGN §4), all on sim time
//! A report is `IN_QUEUE` for [`QUEUE_SECS`] after `createdTime`; processing
//! then starts (`processingStartTime`) and the document is generated in the
//! background from the world *as of that instant*; the report stays
//! `IN_PROGRESS` for [`PROGRESS_BASE_SECS`] plus [`SECS_PER_100K_ROWS`] per
//! 100,000 rows, then ends (`processingEndTime`):
//! - `DONE` with a `reportDocumentId`;
//! - `CANCELLED` when there is no data ("automatic cancellation if there is
//!   no data to return"), or when `cancelReport` was called while `IN_QUEUE`;
//! - `FATAL` under the `fatal` fault or for a request the report type
//!   documents as fatal (a Sales & Traffic or SQP report for several
//!   marketplaces, an SQP request spanning two periods); JSON report types
//!   carry a `reportDocumentId` to an error document, flat files none.
//!
//! Transitions are computed from sim time whenever a report is looked at,
//! so `--speed` and `/_sim/advance` drive them; a `getReport` that finds the
//! sim time past the end of processing while the generator still runs waits
//! for it briefly (wall time), so a frozen clock gives deterministic answers.
//!
//! # Documents and download URLs
//! `getReportDocument` hands out `{base_url}/download/reports/{id}?X-Amz-...`,
//! valid [`URL_LIFETIME`] of sim time (then S3's 403 `AccessDenied`, "Request
//! has expired"). Documents are gzip (`compressionAlgorithm: GZIP`); with
//! `enableContentEncodingUrlHeader=true` the URL also sends
//! `Content-Encoding: gzip`. Flat files are TAB-separated ISO-8859-1
//! (`Content-Type: text/plain; charset=ISO-8859-1`), JSON documents UTF-8.
//! The download applies the `truncate` fault to the gzip stream itself and
//! marks the response [`faults::Handled`].
//!
//! # Deviations, documented
//! - `getReports` `nextToken` lifetime is not documented; it lasts
//!   [`PAGE_TOKEN_LIFETIME`] here.
//! - A `dataEndTime` after now is clipped to now instead of refused (client
//!   clocks drift); a `dataStartTime` after now is a 400.
//! - Report ids are numeric and document ids start with `amzn1.spdoc.`;
//!   malformed ids (such as the models' sandbox ids `ID323`, `badReportId1`,
//!   `badDocumentId1`) get 400 `InvalidInput`, well-formed unknown ids 404.

pub mod docs;
pub mod generate;
pub mod kinds;
pub mod spool;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::auth::SpCaller;
use crate::clock::rfc3339;
use crate::errors;
use crate::faults::{self, Fault};
use crate::marketplaces;
use crate::ratelimit::{limit, RateInfo};
use crate::server::AppState;
use generate::{Decided, Outcome, Request};
use kinds::ReportKind;
use spool::{Spool, Stored};

/// Sim seconds a report waits `IN_QUEUE`.
pub const QUEUE_SECS: i64 = 20;
/// Sim seconds of `IN_PROGRESS` for any report.
pub const PROGRESS_BASE_SECS: i64 = 20;
/// Extra sim seconds of `IN_PROGRESS` per 100,000 rows.
pub const SECS_PER_100K_ROWS: f64 = 10.0;
/// How long a download URL works (REFERENCE §0.10: 5 minutes).
pub const URL_LIFETIME: Duration = Duration::minutes(5);
/// How long a `getReports` `nextToken` works (undocumented; assumed).
pub const PAGE_TOKEN_LIFETIME: Duration = Duration::hours(24);
/// Reports are retained for 90 days; `createdSince` defaults to that.
pub const RETENTION: Duration = Duration::days(90);

const REPORTS: &str = "/reports/2021-06-30/reports";

/// Report requests and documents of one running sim.
#[derive(Debug, Default)]
pub struct ReportStore {
    inner: Arc<Mutex<Inner>>,
    spool: Arc<Spool>,
}

#[derive(Debug, Default)]
struct Inner {
    next_report: u64,
    next_doc: u64,
    next_secret: u64,
    reports: Vec<Entry>,
    documents: HashMap<String, Document>,
    urls: HashMap<String, Grant>,
    pages: HashMap<String, Page>,
}

#[derive(Debug)]
struct Entry {
    id: String,
    account: String,
    req: Request,
    decided: Decided,
    cancelled_at: Option<DateTime<Utc>>,
    /// `None` until processing starts.
    gen: Option<Gen>,
}

#[derive(Debug)]
struct Gen {
    done: watch::Receiver<bool>,
    result: Option<Finished>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Final {
    Done,
    Cancelled,
    Fatal,
}

#[derive(Debug, Clone)]
struct Finished {
    rows: u64,
    status: Final,
    document_id: Option<String>,
}

#[derive(Debug, Clone)]
struct Document {
    account: String,
    json: bool,
    /// The flat file's encoding (JSON documents are UTF-8).
    encoding: spool::FlatEncoding,
    stored: Stored,
}

#[derive(Debug, Clone)]
struct Grant {
    document_id: String,
    expires: DateTime<Utc>,
    content_encoding: bool,
}

#[derive(Debug, Clone)]
struct Page {
    filter: Filter,
    offset: usize,
    issued: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Filter {
    account: String,
    types: Vec<String>,
    statuses: Option<Vec<String>>,
    marketplaces: Option<Vec<String>>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    page_size: usize,
}

/// What a report looks like at one moment.
#[derive(Debug, Clone, PartialEq)]
struct View {
    status: &'static str,
    processing_start: Option<DateTime<Utc>>,
    processing_end: Option<DateTime<Utc>>,
    document_id: Option<String>,
}

impl Entry {
    fn processing_start(&self) -> DateTime<Utc> {
        self.req.created + Duration::seconds(QUEUE_SECS)
    }

    fn view(&self, now: DateTime<Utc>) -> View {
        let queued = View {
            status: "IN_QUEUE",
            processing_start: None,
            processing_end: None,
            document_id: None,
        };
        if let Some(at) = self.cancelled_at {
            return View {
                status: "CANCELLED",
                processing_end: Some(at),
                ..queued
            };
        }
        let start = self.processing_start();
        if now < start {
            return queued;
        }
        let in_progress = View {
            status: "IN_PROGRESS",
            processing_start: Some(start),
            ..queued
        };
        let Some(fin) = self.gen.as_ref().and_then(|g| g.result.as_ref()) else {
            return in_progress;
        };
        let end = done_at(start, fin.rows);
        if now < end {
            return in_progress;
        }
        View {
            status: match fin.status {
                Final::Done => "DONE",
                Final::Cancelled => "CANCELLED",
                Final::Fatal => "FATAL",
            },
            processing_start: Some(start),
            processing_end: Some(end),
            document_id: fin.document_id.clone(),
        }
    }
}

/// When processing that started at `start` ends for `rows` rows.
pub fn done_at(start: DateTime<Utc>, rows: u64) -> DateTime<Utc> {
    let extra_ms = (rows as f64 * SECS_PER_100K_ROWS / 100_000.0 * 1000.0).round() as i64;
    start + Duration::seconds(PROGRESS_BASE_SECS) + Duration::milliseconds(extra_ms)
}

/// A deterministic pseudo-random 64-bit value (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl ReportStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start generating every report whose processing has started by now.
    fn refresh(&self, state: &AppState) {
        let now = state.clock.now();
        let mut inner = self.lock();
        for e in inner.reports.iter_mut() {
            if e.gen.is_some() || e.cancelled_at.is_some() || now < e.processing_start() {
                continue;
            }
            let (tx, rx) = watch::channel(false);
            e.gen = Some(Gen {
                done: rx,
                result: None,
            });
            let worlds = state.worlds.clone();
            let spool = self.spool.clone();
            let inner = self.inner.clone();
            let req = e.req.clone();
            let decided = e.decided;
            let id = e.id.clone();
            let account = e.account.clone();
            let as_of = e.processing_start();
            tokio::task::spawn_blocking(move || {
                let outcome = generate::generate(&worlds, &spool, &req, as_of, decided)
                    .unwrap_or_else(|err| {
                        tracing::error!(report = %id, %err, "report generation failed");
                        Outcome::Fatal { error_doc: None }
                    });
                // cp932 when the document holds a Japanese market's rows.
                let encoding = worlds
                    .iter()
                    .filter(|w| req.marketplace_ids.iter().any(|m| m == w.marketplace_id()))
                    .map(|w| spool::FlatEncoding::of(w))
                    .max()
                    .unwrap_or(spool::FlatEncoding::Latin1);
                let world = worlds.first();
                let region = crate::marketplaces::by_id(&world.scenario().seller.marketplace_id)
                    .map(|m| m.region)
                    .unwrap_or("na");
                let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
                let (rows, status, doc) = match outcome {
                    Outcome::Done { rows, doc } => (rows, Final::Done, Some(doc)),
                    Outcome::NoData => (0, Final::Cancelled, None),
                    Outcome::Fatal { error_doc } => (0, Final::Fatal, error_doc),
                };
                let document_id = doc.map(|stored| {
                    inner.next_doc += 1;
                    let h = mix(inner.next_doc ^ 0x5d0c);
                    let g = mix(h);
                    let doc_id = format!(
                        "amzn1.spdoc.1.4.{region}.{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                        h >> 32,
                        (h >> 16) & 0xffff,
                        h & 0xfff,
                        (g >> 48) | 0x8000,
                        g & 0xffff_ffff_ffff
                    );
                    inner.documents.insert(
                        doc_id.clone(),
                        Document {
                            account: account.clone(),
                            json: req.kind.is_json(),
                            encoding,
                            stored,
                        },
                    );
                    doc_id
                });
                if let Some(e) = inner.reports.iter_mut().find(|e| e.id == id) {
                    if let Some(g) = e.gen.as_mut() {
                        g.result = Some(Finished {
                            rows,
                            status,
                            document_id,
                        });
                    }
                }
                drop(inner);
                let _ = tx.send(true);
            });
        }
    }
}

/// The Reports API routes and the document download URL.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(REPORTS, get(get_reports).post(create_report))
        .route(
            "/reports/2021-06-30/reports/{reportId}",
            get(get_report).delete(cancel_report),
        )
        .route(
            "/reports/2021-06-30/documents/{reportDocumentId}",
            get(get_report_document),
        )
        .route("/download/reports/{documentId}", get(download))
}

// ---------------------------------------------------------------------------
// Model structs

/// `CreateReportResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReportResponse {
    pub report_id: String,
}

/// `Report`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub marketplace_ids: Vec<String>,
    pub report_id: String,
    pub report_type: String,
    pub data_start_time: String,
    pub data_end_time: String,
    pub created_time: String,
    pub processing_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_document_id: Option<String>,
}

/// `GetReportsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetReportsResponse {
    pub reports: Vec<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ReportDocument`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDocument {
    pub report_document_id: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_algorithm: Option<String>,
}

fn report_json(e: &Entry, now: DateTime<Utc>) -> Report {
    let v = e.view(now);
    Report {
        marketplace_ids: e.req.marketplace_ids.clone(),
        report_id: e.id.clone(),
        report_type: e.req.kind.name().to_owned(),
        data_start_time: rfc3339(e.req.start()),
        data_end_time: rfc3339(
            e.req
                .data_end
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(e.req.created)
                .min(e.req.created),
        ),
        created_time: rfc3339(e.req.created),
        processing_status: v.status.to_owned(),
        processing_start_time: v.processing_start.map(rfc3339),
        processing_end_time: v.processing_end.map(rfc3339),
        report_document_id: v.document_id,
    }
}

// ---------------------------------------------------------------------------
// Parameter helpers

fn invalid(rate: &RateInfo, message: &str) -> Response {
    rate.apply(errors::sp_invalid_input(message))
}

/// An ISO 8601 date-time (RFC 3339, or a bare date or local time read as UTC).
pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let utc = FixedOffset::east_opt(0).expect("zero offset");
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().with_timezone(&utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| {
        d.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .with_timezone(&utc)
    })
}

fn is_report_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------
// createReport

async fn create_report(
    State(state): State<AppState>,
    caller: SpCaller,
    body: Bytes,
) -> Result<Response, Response> {
    let rate = limit(&state, "createReport", &caller.account)?;
    let now = state.clock.now();
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| invalid(&rate, &format!("The request body is not valid JSON: {e}")))?;
    let Some(obj) = body.as_object() else {
        return Err(invalid(&rate, "The request body must be a JSON object."));
    };
    let report_type = obj
        .get("reportType")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(&rate, "reportType is required."))?;
    let Some(kind) = ReportKind::from_name(report_type) else {
        return Err(invalid(
            &rate,
            &format!("Invalid input: report type {report_type} is not supported."),
        ));
    };
    let marketplace_ids: Vec<String> = match obj.get("marketplaceIds").and_then(Value::as_array) {
        Some(a) if !a.is_empty() && a.len() <= 25 => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(&rate, "marketplaceIds must be strings."))?,
        _ => {
            return Err(invalid(
                &rate,
                "marketplaceIds is required and must list 1 to 25 marketplace ids.",
            ))
        }
    };
    if let Some(bad) = marketplace_ids
        .iter()
        .find(|m| marketplaces::by_id(m).is_none())
    {
        return Err(invalid(&rate, &format!("Invalid marketplaceId: {bad}")));
    }
    let time = |key: &str| -> Result<Option<DateTime<FixedOffset>>, Response> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_time(s).map(Some).ok_or_else(|| {
                invalid(&rate, &format!("{key} `{s}` is not an ISO 8601 date-time."))
            }),
            Some(_) => Err(invalid(&rate, &format!("{key} must be a string."))),
        }
    };
    let data_start = time("dataStartTime")?;
    let data_end = time("dataEndTime")?;
    if data_start.is_some_and(|t| t > now) {
        return Err(invalid(
            &rate,
            "dataStartTime must be prior to or equal to the current date and time.",
        ));
    }
    if let (Some(a), Some(b)) = (data_start, data_end) {
        if a > b {
            return Err(invalid(
                &rate,
                "dataStartTime must not be after dataEndTime.",
            ));
        }
    }
    let mut options = BTreeMap::new();
    match obj.get("reportOptions") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            for (k, v) in o {
                let Some(s) = v.as_str() else {
                    return Err(invalid(
                        &rate,
                        &format!("reportOptions.{k} must be a string."),
                    ));
                };
                options.insert(k.clone(), s.to_owned());
            }
        }
        Some(_) => return Err(invalid(&rate, "reportOptions must be an object.")),
    }
    kind.check_options(&options)
        .map_err(|m| invalid(&rate, &m))?;

    let decided = Decided {
        fatal: state.faults.roll(Fault::Fatal),
        empty: state.faults.roll(Fault::Empty),
        realworld: kind == ReportKind::SellerPerformance && state.faults.roll(Fault::Realworld),
    };
    let mut inner = state.reports.lock();
    inner.next_report += 1;
    let id = (53_000_000_000 + inner.next_report).to_string();
    inner.reports.push(Entry {
        id: id.clone(),
        account: caller.account.clone(),
        req: Request {
            kind,
            marketplace_ids,
            data_start,
            data_end,
            options,
            created: now,
        },
        decided,
        cancelled_at: None,
        gen: None,
    });
    drop(inner);
    tracing::debug!(report = %id, report_type, "report created");
    Ok(rate.apply((
        StatusCode::ACCEPTED,
        Json(CreateReportResponse { report_id: id }),
    )))
}

// ---------------------------------------------------------------------------
// getReport / cancelReport

async fn get_report(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(report_id): Path<String>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getReport", &caller.account)?;
    if !is_report_id(&report_id) {
        return Err(invalid(&rate, "Invalid input: malformed reportId."));
    }
    state.reports.refresh(&state);
    let now = state.clock.now();
    // Past the earliest end of processing with the generator still running:
    // give it a moment so a frozen clock answers deterministically.
    let waiting = {
        let inner = state.reports.lock();
        inner
            .reports
            .iter()
            .find(|e| e.id == report_id && e.account == caller.account)
            .and_then(|e| {
                let g = e.gen.as_ref()?;
                (g.result.is_none() && now >= done_at(e.processing_start(), 0))
                    .then(|| g.done.clone())
            })
    };
    if let Some(mut rx) = waiting {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), rx.wait_for(|done| *done))
            .await;
    }
    let inner = state.reports.lock();
    match inner
        .reports
        .iter()
        .find(|e| e.id == report_id && e.account == caller.account)
    {
        Some(e) => Ok(rate.json(&report_json(e, now))),
        None => Err(rate.apply(errors::sp_not_found(&format!(
            "Report {report_id} is not found."
        )))),
    }
}

async fn cancel_report(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(report_id): Path<String>,
) -> Result<Response, Response> {
    let rate = limit(&state, "cancelReport", &caller.account)?;
    if !is_report_id(&report_id) {
        return Err(invalid(&rate, "Invalid input: malformed reportId."));
    }
    state.reports.refresh(&state);
    let now = state.clock.now();
    let mut inner = state.reports.lock();
    let Some(e) = inner
        .reports
        .iter_mut()
        .find(|e| e.id == report_id && e.account == caller.account)
    else {
        return Err(rate.apply(errors::sp_not_found(&format!(
            "Report {report_id} is not found."
        ))));
    };
    let status = e.view(now).status;
    if status != "IN_QUEUE" {
        return Err(invalid(
            &rate,
            &format!(
                "Only reports with processingStatus IN_QUEUE can be cancelled; report {report_id} is {status}."
            ),
        ));
    }
    e.cancelled_at = Some(now);
    Ok(rate.apply(StatusCode::OK))
}

// ---------------------------------------------------------------------------
// getReports

async fn get_reports(
    State(state): State<AppState>,
    caller: SpCaller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getReports", &caller.account)?;
    let now = state.clock.now();
    let mut params: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (k, v) in &pairs {
        let list = params.entry(k.as_str()).or_default();
        list.extend(
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    }
    const KNOWN: [&str; 7] = [
        "reportTypes",
        "processingStatuses",
        "marketplaceIds",
        "pageSize",
        "createdSince",
        "createdUntil",
        "nextToken",
    ];
    let given: Vec<&str> = params
        .keys()
        .copied()
        .filter(|k| KNOWN.contains(k))
        .collect();
    let (filter, offset) = if let Some(token) = params.get("nextToken") {
        if given.len() > 1 {
            return Err(invalid(
                &rate,
                "Specifying nextToken with any other parameters is not allowed; send nextToken as the only parameter.",
            ));
        }
        let token = token.join(",");
        let mut inner = state.reports.lock();
        let page = inner.pages.get(&token).cloned();
        match page {
            Some(p) if p.filter.account == caller.account => {
                if now - p.issued > PAGE_TOKEN_LIFETIME {
                    inner.pages.remove(&token);
                    return Err(invalid(&rate, "The nextToken has expired."));
                }
                (p.filter, p.offset)
            }
            _ => return Err(invalid(&rate, "Invalid nextToken.")),
        }
    } else {
        let Some(types) = params.get("reportTypes").filter(|t| !t.is_empty()) else {
            return Err(invalid(
                &rate,
                "Either reportTypes or nextToken is required.",
            ));
        };
        if types.len() > 10 {
            return Err(invalid(
                &rate,
                "reportTypes accepts at most 10 report types.",
            ));
        }
        let statuses = params.get("processingStatuses").cloned();
        if let Some(bad) = statuses.iter().flatten().find(|s| {
            !["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"].contains(&s.as_str())
        }) {
            return Err(invalid(
                &rate,
                &format!("Invalid input in processing status: {bad}"),
            ));
        }
        let mkts = params.get("marketplaceIds").cloned();
        if mkts.as_ref().is_some_and(|m| m.len() > 10) {
            return Err(invalid(
                &rate,
                "marketplaceIds accepts at most 10 marketplaces.",
            ));
        }
        let page_size = match params.get("pageSize").and_then(|v| v.first()) {
            None => 10,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => return Err(invalid(&rate, "pageSize must be between 1 and 100.")),
            },
        };
        let when = |key: &str, default: DateTime<Utc>| -> Result<DateTime<Utc>, Response> {
            match params.get(key).and_then(|v| v.first()) {
                None => Ok(default),
                Some(s) => parse_time(s).map(|t| t.with_timezone(&Utc)).ok_or_else(|| {
                    invalid(&rate, &format!("{key} `{s}` is not an ISO 8601 date-time."))
                }),
            }
        };
        let since = when("createdSince", now - RETENTION)?;
        let until = when("createdUntil", now)?;
        (
            Filter {
                account: caller.account.clone(),
                types: types.clone(),
                statuses,
                marketplaces: mkts,
                since,
                until,
                page_size,
            },
            0,
        )
    };
    state.reports.refresh(&state);
    let mut inner = state.reports.lock();
    let mut matching: Vec<&Entry> = inner
        .reports
        .iter()
        .filter(|e| {
            e.account == filter.account
                && filter.types.iter().any(|t| t == e.req.kind.name())
                && e.req.created >= filter.since
                && e.req.created <= filter.until
                && e.req.created >= now - RETENTION
                && filter
                    .marketplaces
                    .as_ref()
                    .is_none_or(|m| m.iter().any(|x| e.req.marketplace_ids.contains(x)))
                && filter
                    .statuses
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|x| x == e.view(now).status))
        })
        .collect();
    // Newest first.
    matching.sort_by(|a, b| (b.req.created, &b.id).cmp(&(a.req.created, &a.id)));
    let end = (offset + filter.page_size).min(matching.len());
    let reports: Vec<Report> = matching
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|e| report_json(e, now))
        .collect();
    let more = end < matching.len();
    let next_token = more.then(|| {
        inner.next_secret += 1;
        let token = format!(
            "{:016x}{:016x}",
            mix(inner.next_secret ^ 0x7a6e),
            mix(inner.next_secret)
        );
        inner
            .pages
            .retain(|_, p| now - p.issued <= PAGE_TOKEN_LIFETIME);
        let mut filter = filter.clone();
        // Later reports must not shift the pages of this listing.
        filter.until = filter.until.min(now);
        inner.pages.insert(
            token.clone(),
            Page {
                filter,
                offset: end,
                issued: now,
            },
        );
        token
    });
    Ok(rate.json(&GetReportsResponse {
        reports,
        next_token,
    }))
}

// ---------------------------------------------------------------------------
// getReportDocument and the download URL

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocumentQuery {
    enable_content_encoding_url_header: Option<String>,
}

async fn get_report_document(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(document_id): Path<String>,
    Query(q): Query<DocumentQuery>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getReportDocument", &caller.account)?;
    if !document_id.starts_with("amzn1.spdoc.") {
        return Err(invalid(&rate, "Invalid input: malformed reportDocumentId."));
    }
    let content_encoding = match q.enable_content_encoding_url_header.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(invalid(
                &rate,
                &format!("enableContentEncodingUrlHeader must be true or false, not `{other}`."),
            ))
        }
    };
    state.reports.refresh(&state);
    let now = state.clock.now();
    let mut inner = state.reports.lock();
    let visible = inner
        .documents
        .get(&document_id)
        .is_some_and(|d| d.account == caller.account)
        // A document exists once generation ends; it is handed out only when
        // its report says so on sim time.
        && inner.reports.iter().any(|e| {
            e.account == caller.account && e.view(now).document_id.as_deref() == Some(&document_id)
        });
    if !visible {
        return Err(rate.apply(errors::sp_not_found(&format!(
            "Report document {document_id} is not found."
        ))));
    }
    // Forget URLs that can no longer be used.
    inner.urls.retain(|_, g| g.expires > now);
    inner.next_secret += 1;
    let s = inner.next_secret;
    let signature: String = (0..4).map(|i| format!("{:016x}", mix(s * 4 + i))).collect();
    inner.urls.insert(
        signature.clone(),
        Grant {
            document_id: document_id.clone(),
            expires: now + URL_LIFETIME,
            content_encoding,
        },
    );
    let url = format!(
        "{}/download/reports/{document_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={}&X-Amz-Expires={}&X-Amz-SignedHeaders=host&X-Amz-Signature={signature}",
        state.base_url,
        now.format("%Y%m%dT%H%M%SZ"),
        URL_LIFETIME.num_seconds(),
    );
    Ok(rate.json(&ReportDocument {
        report_document_id: document_id,
        url,
        compression_algorithm: Some("GZIP".into()),
    }))
}

/// S3's XML error body.
fn s3_error(status: StatusCode, code: &str, message: &str, extra: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{extra}</Error>"
    );
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp.extensions_mut().insert(faults::Handled);
    resp
}

async fn download(
    State(state): State<AppState>,
    Path(document_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let now = state.clock.now();
    let (grant, doc) = {
        let inner = state.reports.lock();
        let grant = q
            .get("X-Amz-Signature")
            .and_then(|s| inner.urls.get(s))
            .filter(|g| g.document_id == document_id)
            .cloned();
        (grant, inner.documents.get(&document_id).cloned())
    };
    let (Some(grant), Some(doc)) = (grant, doc) else {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            "",
        );
    };
    if now >= grant.expires {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired",
            &format!(
                "<X-Amz-Expires>{}</X-Amz-Expires><Expires>{}</Expires><ServerTime>{}</ServerTime>",
                URL_LIFETIME.num_seconds(),
                rfc3339(grant.expires),
                rfc3339(now)
            ),
        );
    }
    let bytes = match doc.stored.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(%document_id, error = %e, "report document unreadable");
            return s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
                "",
            );
        }
    };
    let bytes = if state.faults.roll(Fault::Truncate) {
        tracing::debug!(%document_id, "fault: truncate gzip document");
        bytes.slice(..bytes.len() / 2)
    } else {
        bytes
    };
    let content_type = if doc.json {
        "application/json; charset=UTF-8"
    } else {
        doc.encoding.content_type()
    };
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if grant.content_encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp.extensions_mut().insert(faults::Handled);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processing_time_grows_with_rows() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-02T16:00:20Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(done_at(t0, 0), t0 + Duration::seconds(20));
        assert_eq!(done_at(t0, 100_000), t0 + Duration::seconds(30));
        assert_eq!(done_at(t0, 1_000_000), t0 + Duration::seconds(120));
    }

    #[test]
    fn parses_iso_times() {
        assert!(parse_time("2026-03-01T00:00:00Z").is_some());
        assert!(parse_time("2026-03-01T00:00:00.000-08:00").is_some());
        assert!(parse_time("2026-03-01").is_some());
        assert!(parse_time("yesterday").is_none());
        assert!(is_report_id("53000000001"));
        assert!(!is_report_id("ID323"));
    }
}
