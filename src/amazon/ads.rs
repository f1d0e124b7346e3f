//! The Amazon Ads API calls the `ads` job makes, implemented from Amazon's
//! published specs (`Profiles_prod_3p.yaml`, `OfflineReport_prod_3p.json`,
//! `SponsoredProducts_prod_3p.json`): profiles, reporting v3 (create, status,
//! delete, the pre-signed download) and `POST /sp/campaigns/list`.
//!
//! Everything except the download goes through [`ApiClient::call`] (rate
//! limits, LWA bearer token, ClientId and Scope headers, retries). The
//! download is a pre-signed S3 URL: it must be fetched with NO auth headers
//! (S3 rejects a request that carries both a signature and an
//! `Authorization` header), so it has its own plain HTTP client here.
//!
//! Parsing is pure ([`parse_document`], [`select_profiles`],
//! [`ReportRequest::matches`]) so it is tested without a server.

use std::io::Read;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::calls::{ApiKind, JOB_TALLY};
use super::client::{ApiClient, CallSpec, Endpoint, USER_AGENT};
use super::document::{max_document_bytes, Capped, TooLarge};
use super::http::ApiError;
use crate::model::marketplace::Marketplace;

/// `Content-Type` of `POST /reporting/reports` (a plain `application/json`
/// is not what the spec declares).
pub const CREATE_REPORT_REQUEST: &str = "application/vnd.createasyncreportrequest.v3+json";
const CREATE_REPORT_RESPONSE: &str = "application/vnd.createasyncreportresponse.v3+json";
const GET_REPORT_RESPONSE: &str = "application/vnd.getasyncreportresponse.v3+json";
const DELETE_REPORT_RESPONSE: &str = "application/vnd.deleteasyncreportresponse.v3+json";
/// Sponsored Products v3 campaign media type, for `Content-Type` and `Accept`
/// (a wrong one gives 415).
pub const SP_CAMPAIGN: &str = "application/vnd.spCampaign.v3+json";

/// Operation ids (the specs' `operationId`), used for limits and counts.
pub const LIST_PROFILES: &str = "listProfiles";
pub const CREATE_REPORT: &str = "createAsyncReport";
pub const GET_REPORT: &str = "getAsyncReport";
pub const DELETE_REPORT: &str = "deleteAsyncReport";
pub const DOWNLOAD_REPORT: &str = "downloadAsyncReport";
pub const LIST_SP_CAMPAIGNS: &str = "ListSponsoredProductsCampaigns";

/// One profile of `GET /v2/profiles`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub profile_id: i64,
    pub country_code: String,
    pub currency_code: String,
    /// "The time zone used for all date-based campaign management and reporting".
    pub timezone: String,
    #[serde(default)]
    pub account_info: AccountInfo,
}

/// `accountInfo` of a profile.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    pub marketplace_string_id: Option<String>,
    /// Not unique across marketplaces.
    pub id: Option<String>,
    /// seller | vendor | agency
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
}

impl Profile {
    /// `seller` when Amazon leaves the type out (the common case).
    pub fn account_type(&self) -> &str {
        self.account_info.kind.as_deref().unwrap_or("seller")
    }
}

/// `GET /v2/profiles` (ClientId and bearer only: no scope header).
pub async fn list_profiles(client: &ApiClient, ep: &Endpoint) -> Result<Vec<Profile>, ApiError> {
    client
        .call_json(ep, &CallSpec::get(LIST_PROFILES, "/v2/profiles"))
        .await
}

/// The profiles the job syncs: those named by `profile_ids` when that list is
/// non-empty, else those whose marketplace (`marketplaceStringId`, falling
/// back to the country code; the Profiles spec spells GB `UK`) is one of the
/// account's; in both cases only of the configured account types (sellers
/// by default: SP/SB/SD reject DSP `agency` profiles).
pub fn select_profiles(
    all: &[Profile],
    marketplaces: &[&Marketplace],
    profile_ids: &[i64],
    account_types: &[String],
) -> Vec<Profile> {
    let country = |c: &str| {
        if c == "UK" {
            "GB".to_string()
        } else {
            c.to_string()
        }
    };
    all.iter()
        .filter(|p| {
            account_types.is_empty()
                || account_types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(p.account_type()))
        })
        .filter(|p| {
            if !profile_ids.is_empty() {
                return profile_ids.contains(&p.profile_id);
            }
            marketplaces
                .iter()
                .any(|m| match &p.account_info.marketplace_string_id {
                    Some(id) => id == m.id,
                    None => country(&p.country_code) == country(m.country),
                })
        })
        .cloned()
        .collect()
}

/// A reporting v3 request (DAILY, GZIP_JSON), as the job plans it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// SPONSORED_PRODUCTS, SPONSORED_BRANDS, SPONSORED_DISPLAY
    pub ad_product: String,
    pub report_type: String,
    pub group_by: Vec<String>,
    pub columns: Vec<String>,
}

impl ReportRequest {
    /// The `CreateAsyncReportRequest` body.
    pub fn body(&self) -> Value {
        json!({
            "name": format!("flywheel {} {}..{}", self.report_type, self.start, self.end),
            "startDate": self.start.to_string(),
            "endDate": self.end.to_string(),
            "configuration": {
                "adProduct": self.ad_product,
                "groupBy": self.group_by,
                "columns": self.columns,
                "reportTypeId": self.report_type,
                "timeUnit": "DAILY",
                "format": "GZIP_JSON",
            }
        })
    }

    /// The canonical form that identifies the request (names and list order
    /// do not matter to Amazon's duplicate detection, so neither here).
    pub fn canonical(&self, profile_id: i64) -> Value {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        json!({
            "profileId": profile_id,
            "reportTypeId": self.report_type,
            "adProduct": self.ad_product,
            "startDate": self.start.to_string(),
            "endDate": self.end.to_string(),
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
            "groupBy": sorted(&self.group_by),
            "columns": sorted(&self.columns),
        })
    }

    /// Whether a report Amazon holds answers exactly this request: same
    /// dates, type, time unit, columns, groupBy and no filters (REFERENCE
    /// §5.2: a 425's report is reused only after this check).
    pub fn matches(&self, report: &AsyncReport) -> bool {
        let Some(cfg) = report.configuration.as_ref() else {
            return false;
        };
        let set = |v: Option<&Value>| -> Option<Vec<String>> {
            let mut out: Vec<String> = v?
                .as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<_>>()?;
            out.sort();
            out.dedup();
            Some(out)
        };
        let mine = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            Some(v)
        };
        let no_filters = match cfg.get("filters") {
            None | Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(_) => false,
        };
        report.start_date.as_deref() == Some(self.start.to_string().as_str())
            && report.end_date.as_deref() == Some(self.end.to_string().as_str())
            && cfg.get("reportTypeId").and_then(Value::as_str) == Some(self.report_type.as_str())
            && cfg.get("timeUnit").and_then(Value::as_str) == Some("DAILY")
            && set(cfg.get("columns")) == mine(&self.columns)
            && set(cfg.get("groupBy")) == mine(&self.group_by)
            && no_filters
    }
}

/// An `AsyncReport` (create and status answers).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncReport {
    pub report_id: String,
    /// PENDING | PROCESSING | COMPLETED | FAILED
    pub status: String,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub configuration: Option<Value>,
    /// Pre-signed download URL once COMPLETED (valid about an hour).
    pub url: Option<String>,
    pub failure_reason: Option<String>,
}

/// `POST /reporting/reports`. A 425 comes back as [`ApiError::Duplicate`]
/// naming the running report; the caller decides whether to reuse it.
pub async fn create_report(
    client: &ApiClient,
    ep: &Endpoint,
    profile_id: i64,
    req: &ReportRequest,
) -> Result<AsyncReport, ApiError> {
    let mut spec = CallSpec::post_json(
        CREATE_REPORT,
        "/reporting/reports",
        &req.body(),
        CREATE_REPORT_REQUEST,
    );
    spec.scope = Some(profile_id);
    spec.accept = Some(CREATE_REPORT_RESPONSE.to_string());
    client.call_json(ep, &spec).await
}

/// `GET /reporting/reports/{reportId}`. Marked as a poll: Amazon answers
/// status checks with transient 401s that must be retried, not treated as a
/// bad token.
pub async fn get_report(
    client: &ApiClient,
    ep: &Endpoint,
    profile_id: i64,
    report_id: &str,
) -> Result<AsyncReport, ApiError> {
    let mut spec = CallSpec::get(GET_REPORT, format!("/reporting/reports/{report_id}"));
    spec.scope = Some(profile_id);
    spec.accept = Some(GET_REPORT_RESPONSE.to_string());
    spec.polling = true;
    client.call_json(ep, &spec).await
}

/// `DELETE /reporting/reports/{reportId}` (Amazon advises deleting a stuck
/// PENDING report before asking again).
pub async fn delete_report(
    client: &ApiClient,
    ep: &Endpoint,
    profile_id: i64,
    report_id: &str,
) -> Result<(), ApiError> {
    let mut spec = CallSpec::get(DELETE_REPORT, format!("/reporting/reports/{report_id}"));
    spec.method = reqwest::Method::DELETE;
    spec.scope = Some(profile_id);
    spec.accept = Some(DELETE_REPORT_RESPONSE.to_string());
    client.call(ep, &spec).await.map(|_| ())
}

/// Fetches report documents from their pre-signed URLs: a plain GET with no
/// auth headers. Failures are typed like API errors so the job treats them
/// the same way (a fresh status GET signs a new URL).
pub struct Downloader {
    http: reqwest::Client,
    /// Decompressed bytes a document may have (`[sync] max_document_mib`).
    max_bytes: u64,
}

/// Why a document was not read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The download or its parsing failed (worth another download).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Past `[sync] max_document_mib` (another download will not shrink it).
    #[error("{DOWNLOAD_REPORT}: {0}")]
    TooLarge(TooLarge),
}

/// Why [`parse_document_capped`] failed.
#[derive(Debug)]
pub enum DocumentError {
    TooLarge(TooLarge),
    Unreadable(String),
}

impl Downloader {
    pub fn new(timeout: Duration, max_document_mib: u64) -> Result<Self, reqwest::Error> {
        Ok(Downloader {
            http: reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(30)))
                .build()?,
            max_bytes: max_document_bytes(max_document_mib),
        })
    }

    /// Downloads and parses one document; the call is counted like any other.
    /// The body is read a chunk at a time and refused past the
    /// `[sync] max_document_mib` ceiling, compressed or not.
    pub async fn fetch(
        &self,
        client: &ApiClient,
        account: &str,
        url: &str,
    ) -> Result<Vec<Map<String, Value>>, FetchError> {
        let op = || DOWNLOAD_REPORT.to_string();
        let record = |status: Option<u16>| {
            let now = Utc::now();
            client
                .counter
                .record(account, ApiKind::Ads, DOWNLOAD_REPORT, status, now);
            let _ = JOB_TALLY
                .try_with(|t| t.record(account, ApiKind::Ads, DOWNLOAD_REPORT, status, now));
        };
        let mut resp = match self.http.get(url).send().await {
            Ok(r) => r,
            Err(e) => {
                record(None);
                return Err(ApiError::Network {
                    operation: op(),
                    message: e.without_url().to_string(),
                }
                .into());
            }
        };
        let status = resp.status().as_u16();
        record(Some(status));
        if !(200..300).contains(&status) {
            // S3 answers XML; an expired URL is 403. Either way the caller
            // asks for a fresh URL and tries again.
            return Err(ApiError::Transient {
                operation: op(),
                status,
            }
            .into());
        }
        // Compressed, a document within the ceiling cannot be much larger
        // than the ceiling itself.
        let too_large = || {
            FetchError::TooLarge(TooLarge {
                mib: self.max_bytes >> 20,
            })
        };
        let max_raw = self
            .max_bytes
            .saturating_add(self.max_bytes >> 10)
            .saturating_add(1 << 16);
        if resp.content_length().is_some_and(|n| n > max_raw) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > max_raw {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(ApiError::Network {
                        operation: op(),
                        message: format!("body cut short: {}", e.without_url()),
                    }
                    .into())
                }
            }
        }
        parse_document_capped(&body, self.max_bytes).map_err(|e| match e {
            DocumentError::TooLarge(t) => FetchError::TooLarge(t),
            DocumentError::Unreadable(message) => ApiError::Decode {
                operation: op(),
                message,
            }
            .into(),
        })
    }
}

/// A report document: gzip of one JSON array of flat objects whose keys are
/// the requested columns. Also accepts an uncompressed array (some proxies
/// decode `Content-Encoding` on the way).
pub fn parse_document(bytes: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
    parse_document_capped(bytes, u64::MAX).map_err(|e| match e {
        DocumentError::TooLarge(t) => t.to_string(),
        DocumentError::Unreadable(m) => m,
    })
}

/// [`parse_document`] under a ceiling of `max` decompressed bytes. The
/// JSON is parsed as it is inflated: the decompressed text is never held.
pub fn parse_document_capped(
    bytes: &[u8],
    max: u64,
) -> Result<Vec<Map<String, Value>>, DocumentError> {
    let gzip = bytes.starts_with(&[0x1f, 0x8b]);
    let input: Box<dyn Read + '_> = if gzip {
        Box::new(Capped::new(flate2::read::MultiGzDecoder::new(bytes), max))
    } else {
        Box::new(Capped::new(bytes, max))
    };
    let rows: Vec<Value> =
        serde_json::from_reader(std::io::BufReader::with_capacity(64 << 10, input)).map_err(
            |e| {
                if !e.is_io() {
                    return DocumentError::Unreadable(format!(
                        "the report document is not a JSON array: {e}"
                    ));
                }
                let e = std::io::Error::from(e);
                match TooLarge::of(&e) {
                    Some(t) => DocumentError::TooLarge(t.clone()),
                    None => DocumentError::Unreadable(format!(
                        "the report document is not complete gzip ({e}); fetching it again"
                    )),
                }
            },
        )?;
    rows.into_iter()
        .map(|v| match v {
            Value::Object(m) => Ok(m),
            other => Err(DocumentError::Unreadable(format!(
                "a report row is not an object: {other}"
            ))),
        })
        .collect()
}

/// One Sponsored Products campaign of `POST /sp/campaigns/list`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpCampaign {
    /// A string here, a JSON number in reports.
    pub campaign_id: String,
    pub name: Option<String>,
    pub state: Option<String>,
    pub targeting_type: Option<String>,
    pub portfolio_id: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub budget: Option<Budget>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub budget: Option<f64>,
    pub budget_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CampaignPage {
    #[serde(default)]
    campaigns: Vec<SpCampaign>,
    next_token: Option<String>,
}

/// `POST /sp/campaigns/list`, every page (`nextToken`).
pub async fn list_sp_campaigns(
    client: &ApiClient,
    ep: &Endpoint,
    profile_id: i64,
) -> Result<Vec<SpCampaign>, ApiError> {
    let mut out = Vec::new();
    let mut pager = client.pager(LIST_SP_CAMPAIGNS);
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "maxResults": 100 });
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let mut spec =
            CallSpec::post_json(LIST_SP_CAMPAIGNS, "/sp/campaigns/list", &body, SP_CAMPAIGN);
        spec.scope = Some(profile_id);
        spec.accept = Some(SP_CAMPAIGN.to_string());
        let page: CampaignPage = client.call_json(ep, &spec).await?;
        out.extend(page.campaigns);
        match pager.next(page.next_token)? {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::marketplace;

    fn profile(id: i64, country: &str, mp: Option<&str>, kind: &str) -> Profile {
        Profile {
            profile_id: id,
            country_code: country.into(),
            currency_code: "USD".into(),
            timezone: "America/Los_Angeles".into(),
            account_info: AccountInfo {
                marketplace_string_id: mp.map(str::to_string),
                id: Some("A1".into()),
                kind: Some(kind.into()),
                name: None,
            },
        }
    }

    #[test]
    fn profiles_match_marketplaces_ids_and_types() {
        let all = vec![
            profile(1, "US", Some("ATVPDKIKX0DER"), "seller"),
            profile(2, "CA", Some("A2EUQ1WTGCTBG2"), "seller"),
            profile(3, "US", Some("ATVPDKIKX0DER"), "vendor"),
            profile(4, "UK", None, "seller"),
        ];
        let us = marketplace::lookup("US").unwrap();
        let uk = marketplace::lookup("UK").unwrap();
        let sellers = vec!["seller".to_string()];
        let ids = |v: Vec<Profile>| v.iter().map(|p| p.profile_id).collect::<Vec<_>>();
        assert_eq!(ids(select_profiles(&all, &[us], &[], &sellers)), vec![1]);
        assert_eq!(ids(select_profiles(&all, &[uk], &[], &sellers)), vec![4]);
        assert_eq!(
            ids(select_profiles(
                &all,
                &[us],
                &[],
                &["seller".into(), "vendor".into()]
            )),
            vec![1, 3]
        );
        assert_eq!(ids(select_profiles(&all, &[us], &[2], &sellers)), vec![2]);
    }

    fn request() -> ReportRequest {
        ReportRequest {
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            ad_product: "SPONSORED_PRODUCTS".into(),
            report_type: "spCampaigns".into(),
            group_by: vec!["campaign".into()],
            columns: vec!["date".into(), "campaignId".into(), "cost".into()],
        }
    }

    #[test]
    fn a_duplicate_is_reused_only_when_it_is_the_same_request() {
        let req = request();
        let report = |start: &str, cols: Value, unit: &str| AsyncReport {
            report_id: "r".into(),
            status: "PENDING".into(),
            start_date: Some(start.into()),
            end_date: Some("2026-01-31".into()),
            configuration: Some(json!({
                "adProduct": "SPONSORED_PRODUCTS", "reportTypeId": "spCampaigns",
                "groupBy": ["campaign"], "columns": cols, "timeUnit": unit, "format": "GZIP_JSON"
            })),
            url: None,
            failure_reason: None,
        };
        // Column order does not matter.
        assert!(req.matches(&report(
            "2026-01-01",
            json!(["cost", "date", "campaignId"]),
            "DAILY"
        )));
        assert!(!req.matches(&report(
            "2026-01-02",
            json!(["cost", "date", "campaignId"]),
            "DAILY"
        )));
        assert!(!req.matches(&report("2026-01-01", json!(["cost", "date"]), "DAILY")));
        assert!(!req.matches(&report(
            "2026-01-01",
            json!(["cost", "date", "campaignId"]),
            "SUMMARY"
        )));
        let mut filtered = report("2026-01-01", json!(["cost", "date", "campaignId"]), "DAILY");
        filtered.configuration.as_mut().unwrap()["filters"] =
            json!([{"field": "campaignStatus", "values": ["ENABLED"]}]);
        assert!(!req.matches(&filtered));
        // The canonical form ignores list order.
        let mut shuffled = req.clone();
        shuffled.columns.reverse();
        assert_eq!(req.canonical(7), shuffled.canonical(7));
        assert_ne!(req.canonical(7), req.canonical(8));
    }

    #[test]
    fn documents_are_gzip_json_arrays() {
        use std::io::Write;
        let json = br#"[{"date":"2026-01-01","campaignId":158410630682987,"cost":14.5}]"#;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(json).unwrap();
        let gz = enc.finish().unwrap();
        let rows = parse_document(&gz).unwrap();
        assert_eq!(rows[0]["campaignId"], json!(158410630682987_i64));
        assert_eq!(parse_document(json).unwrap().len(), 1);
        let err = parse_document(&gz[..gz.len() / 2]).unwrap_err();
        assert!(err.contains("not complete gzip"), "{err}");
        assert!(parse_document(b"{}").is_err());
    }
}
