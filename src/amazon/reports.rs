//! The SP-API Reports API (2021-06-30) as flywheel calls it, and the
//! report budget. What Amazon defines, nothing of flywheel's jobs:
//! - [`ReportRequest`]: one request and its canonical form (what keys a
//!   report kept across restarts);
//! - the calls: `createReport` ([`create`]), `getReport` ([`status`]),
//!   `getReportDocument` and the pre-signed download ([`download`], which
//!   gives a [`Document`]);
//! - [`ReportBudget`]: `createReport` calls an account may still make.
//!
//! The pipeline that knows jobs (waiting for a report with the job's
//! deadline, keeping it across restarts, ranking jobs for the budget,
//! handing the document to the job's transaction) is `sync::report`.
//!
//! # The report budget (DESIGN §3)
//! Amazon gives one `createReport` bucket per account (0.0167 rps, burst
//! 15), shared by every report type. The rate limiter paces the calls; on
//! top, flywheel spends at most `[sync] report_budget_per_hour` creations
//! per account in any sliding hour ([`ReportBudget`], one per account held
//! by the API client in [`ReportBudgets`], so all jobs of a daemon share
//! it). A [`Priority::High`] request may use the whole budget; a
//! [`Priority::Normal`] one stops when only a quarter of the hour's budget
//! is left (at least 2 creations), which stays reserved for the first
//! group. The budget lives in memory: after a restart Amazon's own bucket
//! (and the limiter) is the guard for the first hour.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::client::{ApiClient, CallSpec, Endpoint};
pub use super::document::{Document, DownloadError};
use super::http::ApiError;

const BASE: &str = "/reports/2021-06-30";

/// A time as the Reports API writes it: RFC 3339, UTC, whole seconds
/// (the form `store::ops::ts` stores, so canonical forms compare equal).
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

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
            "dataStartTime": self.data_start.map(iso),
            "dataEndTime": self.data_end.map(iso),
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
            b["dataStartTime"] = iso(t).into();
        }
        if let Some(t) = self.data_end {
            b["dataEndTime"] = iso(t).into();
        }
        if !self.options.is_empty() {
            b["reportOptions"] = serde_json::json!(self.options);
        }
        b
    }

    /// The request in a few words, for logs and notes
    /// (`GET_X 2026-01-01T00:00:00Z..2026-01-31T00:00:00Z`).
    pub fn describe(&self) -> String {
        match (self.data_start, self.data_end) {
            (Some(a), Some(b)) => format!("{} {}..{}", self.report_type, iso(a), iso(b)),
            _ => self.report_type.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// The budget

/// How a request ranks for the report budget (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    High,
    Normal,
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

impl ReportBudgets {
    /// Takes one creation from `account`'s budget of `per_hour` if the
    /// plan allows it.
    pub fn try_take(
        &self,
        account: &str,
        per_hour: u32,
        priority: Priority,
        now: DateTime<Utc>,
    ) -> bool {
        self.with(account, per_hour, |b| b.try_take(priority, now))
    }

    /// Gives back a creation that did not happen (createReport failed).
    pub fn refund(&self, account: &str, per_hour: u32) {
        self.with(account, per_hour, ReportBudget::refund)
    }

    /// `account`'s budget, made at first use; `per_hour` follows the
    /// configuration (a reload may change it).
    fn with<T>(&self, account: &str, per_hour: u32, f: impl FnOnce(&mut ReportBudget) -> T) -> T {
        let mut map = self.0.lock().expect("report budget lock");
        let b = map
            .entry(account.to_string())
            .or_insert_with(|| ReportBudget::new(per_hour));
        b.per_hour = per_hour;
        f(b)
    }
}

// ---------------------------------------------------------------------------
// Calls

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateReportResponse {
    report_id: String,
}

/// What `getReport` says of a report.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportStatus {
    /// `IN_QUEUE`, `IN_PROGRESS`, `DONE`, `CANCELLED` or `FATAL`.
    pub processing_status: String,
    pub report_document_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportDocumentInfo {
    url: String,
    compression_algorithm: Option<String>,
}

/// `createReport`: puts `req` in Amazon's queue; the new report's id.
pub async fn create(
    client: &ApiClient,
    ep: &Endpoint,
    req: &ReportRequest,
) -> Result<String, ApiError> {
    let spec = CallSpec::post_json(
        "createReport",
        format!("{BASE}/reports"),
        &req.body(),
        "application/json",
    );
    let created: CreateReportResponse = client.call_json(ep, &spec).await?;
    Ok(created.report_id)
}

/// `getReport`: where the report is in Amazon's queue.
pub async fn status(
    client: &ApiClient,
    ep: &Endpoint,
    report_id: &str,
) -> Result<ReportStatus, ApiError> {
    let spec = CallSpec::get("getReport", format!("{BASE}/reports/{report_id}"));
    client.call_json(ep, &spec).await
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
/// minutes; no auth header: it is S3, not an SP-API operation). The body
/// is kept as [`super::document::receive`] says, under `max_bytes`
/// decompressed bytes; `marketplaces` pick the charset of a document
/// that names none.
pub async fn download(
    client: &ApiClient,
    ep: &Endpoint,
    document_id: &str,
    marketplaces: &[String],
    timeout: Duration,
    max_bytes: u64,
) -> Result<Document, DownloadError> {
    let spec = CallSpec::get(
        "getReportDocument",
        format!("{BASE}/documents/{document_id}"),
    );
    let info: ReportDocumentInfo = client
        .call_json(ep, &spec)
        .await
        .map_err(DownloadError::Api)?;
    let resp = download_client(timeout)
        .get(&info.url)
        .send()
        .await
        .map_err(|e| DownloadError::Body(e.without_url().to_string()))?;
    let gzip = info
        .compression_algorithm
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("GZIP"));
    super::document::receive(resp, gzip, marketplaces, max_bytes).await
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::time::utc as t;

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
}
