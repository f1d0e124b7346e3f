//! Reporting v3 (`OfflineReport_prod_3p.json`): `createAsyncReport`,
//! `getAsyncReport`, `deleteAsyncReport` and the pre-signed download URL.
//!
//! Validation follows Amazon's observed 400s (REFERENCE §5, Airbyte issues):
//! `Required fields are invalid or missing: configuration timeUnit`,
//! `configuration columns includes invalid values: (x). Allowed values: (...)`,
//! `startDate (…) must be equal to or after report type data retention start
//! date (…)`, and a 31-day maximum range. An identical request (same profile,
//! report type, dates, time unit, groupBy, columns and filters; the `name` and
//! the order of lists do not matter) while the first is PENDING or PROCESSING
//! gets 425 `The Request is a duplicate of : <reportId>`.
//!
//! Lifecycle on sim time (DESIGN §4): PENDING 2 min, PROCESSING 1 min, then
//! COMPLETED. The rows are the world as observed at the completion instant, so
//! a report requested days later shows restated (matured) conversions. The
//! document is built once, on the first look after completion, gzip JSON.
//! Every GET of a completed report signs a fresh URL valid 3600 s
//! (`urlExpiresAt`); the download needs no auth and answers S3's XML errors.
//!
//! Faults: `ads_401` answers a status poll with the transient
//! `401 {"message":"Unauthorized"}` real clients see (`ads_401=1`: every
//! poll, a persistent authorisation failure); `ads_425` accepts the
//! request but answers 425 naming the report it created (as when an earlier,
//! throttled attempt got through); `ads_pending` keeps a report PENDING for
//! [`LONG_PENDING`]; `truncate` cuts the gzip stream of a download.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::columns::{GroupBy, ReportType, REPORT_TYPES};
use super::rows::{self, Ctx};
use super::vnd_json;
use crate::auth::AdsCaller;
use crate::errors::{self, AdsShape};
use crate::faults::{Fault, Handled};
use crate::ratelimit::limit_ads;
use crate::server::AppState;

/// Media type of a create request (`application/json` is accepted too:
/// Amazon was observed to read such bodies normally).
pub const CREATE_REQUEST: &str = "application/vnd.createasyncreportrequest.v3+json";
const CREATE_RESPONSE: &str = "application/vnd.createasyncreportresponse.v3+json";
const GET_RESPONSE: &str = "application/vnd.getasyncreportresponse.v3+json";
const DELETE_RESPONSE: &str = "application/vnd.deleteasyncreportresponse.v3+json";

/// DESIGN §4: PENDING 2 min, then PROCESSING 1 min (sim time).
pub const PENDING: Duration = Duration::minutes(2);
pub const PROCESSING: Duration = Duration::minutes(1);
/// How long `ads_pending` keeps a report PENDING ("up to three hours").
pub const LONG_PENDING: Duration = Duration::hours(3);
/// Lifetime of a signed download URL (REFERENCE §5.2: 3600 s).
pub const URL_LIFETIME_SECS: i64 = 3600;

/// One report request.
#[derive(Debug, Clone)]
pub struct AdsReport {
    pub id: String,
    pub profile_id: i64,
    pub name: Option<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The echo of the request's configuration.
    pub configuration: Value,
    /// Identity of the request for duplicate detection.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
    pub processing_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    /// The gzip document, once built.
    pub document: Option<Arc<Vec<u8>>>,
}

/// The report store.
#[derive(Debug, Default)]
pub struct Reports {
    pub by_id: HashMap<String, AdsReport>,
}

/// A report's status at `now`.
pub fn status_at(r: &AdsReport, now: DateTime<Utc>) -> &'static str {
    if now < r.processing_at {
        "PENDING"
    } else if now < r.completed_at {
        "PROCESSING"
    } else {
        "COMPLETED"
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The `AsyncReport` body at `now` (with a freshly signed URL when completed).
fn report_json(state: &AppState, r: &AdsReport, now: DateTime<Utc>) -> Value {
    let status = status_at(r, now);
    let updated = match status {
        "PENDING" => r.created_at,
        "PROCESSING" => r.processing_at,
        _ => r.completed_at,
    };
    let mut v = json!({
        "reportId": r.id,
        "name": r.name,
        "status": status,
        "configuration": r.configuration,
        "startDate": r.start.to_string(),
        "endDate": r.end.to_string(),
        "createdAt": ts(r.created_at),
        "updatedAt": ts(updated),
        "generatedAt": null,
        "fileSize": null,
        "url": null,
        "urlExpiresAt": null,
        "failureReason": null,
    });
    if status == "COMPLETED" {
        v["generatedAt"] = json!(ts(r.completed_at));
        if let Some(doc) = &r.document {
            v["fileSize"] = json!(doc.len());
        }
        let expires = now + Duration::seconds(URL_LIFETIME_SECS);
        v["url"] = json!(signed_url(state, &r.id, now));
        v["urlExpiresAt"] = json!(ts(expires));
    }
    v
}

// ---------------------------------------------------------------------------
// Validation

/// A validated create request.
#[derive(Debug, Clone)]
pub struct Request {
    pub name: Option<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub report_type: &'static ReportType,
    pub group_by: Vec<String>,
    pub columns: Vec<String>,
    pub daily: bool,
    pub filters: Vec<(String, Vec<String>)>,
    pub configuration: Value,
}

impl Request {
    fn fingerprint(&self, profile_id: i64) -> String {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v.join(",")
        };
        let mut filters: Vec<String> = self
            .filters
            .iter()
            .map(|(f, vals)| format!("{f}={}", sorted(vals)))
            .collect();
        filters.sort();
        format!(
            "{profile_id}|{}|{}|{}|{}|{}|{}|{}",
            self.report_type.id,
            self.start,
            self.end,
            self.daily,
            sorted(&self.group_by),
            sorted(&self.columns),
            filters.join(";")
        )
    }
}

fn invalid_values(field: &str, bad: &[String], allowed: &[&str]) -> String {
    format!(
        "configuration {field} includes invalid values: ({}). Allowed values: ({})",
        bad.join(", "),
        allowed.join(", ")
    )
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    let a = v?.as_array()?;
    let out: Option<Vec<String>> = a.iter().map(|x| x.as_str().map(str::to_owned)).collect();
    out.filter(|v| !v.is_empty())
}

fn parse_date(field: &str, v: &Value) -> Result<NaiveDate, String> {
    let s = v.as_str().unwrap_or_default();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == s)
        .ok_or_else(|| format!("{field} ({s}) is not a valid date, expected YYYY-MM-DD"))
}

/// Validate a create body against the served report types; `today` is the
/// profile's current day. `Err` is the 400 `detail`.
pub fn validate(body: &Value, today: NaiveDate) -> Result<Request, String> {
    let Some(top) = body.as_object() else {
        return Err("Request body must be a JSON object".into());
    };
    let config = top.get("configuration").and_then(Value::as_object);
    let mut missing = Vec::new();
    for f in ["startDate", "endDate"] {
        if !top.get(f).is_some_and(Value::is_string) {
            missing.push(f.to_owned());
        }
    }
    match config {
        None => missing.push("configuration".into()),
        Some(c) => {
            for f in ["adProduct", "reportTypeId", "timeUnit", "format"] {
                if !c.get(f).is_some_and(Value::is_string) {
                    missing.push(format!("configuration {f}"));
                }
            }
            for f in ["groupBy", "columns"] {
                if string_list(c.get(f)).is_none() {
                    missing.push(format!("configuration {f}"));
                }
            }
        }
    }
    if let Some(n) = top.get("name") {
        if !n.is_string() && !n.is_null() {
            missing.push("name".into());
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "Required fields are invalid or missing: {}",
            missing.join(", ")
        ));
    }
    let c = config.expect("checked above");
    let s = |f: &str| c[f].as_str().unwrap_or_default().to_owned();

    const AD_PRODUCTS: &[&str] = &[
        "SPONSORED_PRODUCTS",
        "SPONSORED_BRANDS",
        "SPONSORED_DISPLAY",
        "SPONSORED_TELEVISION",
        "DEMAND_SIDE_PLATFORM",
        "ALL",
    ];
    let ad_product = s("adProduct");
    if !AD_PRODUCTS.contains(&ad_product.as_str()) {
        return Err(invalid_values("adProduct", &[ad_product], AD_PRODUCTS));
    }
    let type_id = s("reportTypeId");
    let served: Vec<&str> = REPORT_TYPES.iter().map(|t| t.id).collect();
    let Some(rt) = ReportType::find(&type_id) else {
        return Err(invalid_values("reportTypeId", &[type_id], &served));
    };
    if rt.ad_product != ad_product {
        return Err(format!(
            "configuration reportTypeId {} is not supported for adProduct {ad_product}",
            rt.id
        ));
    }
    let time_unit = s("timeUnit");
    if time_unit != "DAILY" && time_unit != "SUMMARY" {
        return Err(invalid_values(
            "timeUnit",
            &[time_unit],
            &["DAILY", "SUMMARY"],
        ));
    }
    let daily = time_unit == "DAILY";
    let format = s("format");
    if format != "GZIP_JSON" {
        return Err(invalid_values("format", &[format], &["GZIP_JSON"]));
    }

    let group_by = string_list(c.get("groupBy")).expect("checked above");
    let names: Vec<&str> = rt.group_by.iter().map(|g| g.name).collect();
    let bad: Vec<String> = group_by
        .iter()
        .filter(|g| rt.group(g).is_none())
        .cloned()
        .collect();
    if !bad.is_empty() {
        return Err(invalid_values("groupBy", &bad, &names));
    }
    let mut groups: Vec<&GroupBy> = Vec::new();
    for g in &group_by {
        let g = rt.group(g).expect("checked above");
        if !groups.iter().any(|x| x.name == g.name) {
            groups.push(g);
        }
    }

    let columns = string_list(c.get("columns")).expect("checked above");
    let allowed = rt.allowed_columns(&groups, daily);
    let mut bad: Vec<String> = Vec::new();
    for col in &columns {
        if !allowed.contains(&col.as_str()) && !bad.contains(col) {
            bad.push(col.clone());
        }
    }
    if !bad.is_empty() {
        return Err(invalid_values("columns", &bad, &allowed));
    }

    let mut filters = Vec::new();
    match c.get("filters") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for f in list {
                let field = f.get("field").and_then(Value::as_str).unwrap_or_default();
                let values = string_list(f.get("values")).unwrap_or_default();
                // A filter is allowed only if every groupBy supports it.
                let allowed_values = groups.iter().try_fold(None, |acc: Option<&[&str]>, g| {
                    g.filters
                        .iter()
                        .find(|(n, _)| *n == field)
                        .map(|(_, v)| Some(acc.unwrap_or(v)))
                });
                let Some(Some(allowed_values)) = allowed_values else {
                    let mut fields: Vec<&str> = groups
                        .iter()
                        .flat_map(|g| g.filters.iter().map(|(n, _)| *n))
                        .collect();
                    fields.dedup();
                    return Err(invalid_values("filters", &[field.to_owned()], &fields));
                };
                if values.is_empty() {
                    return Err(format!(
                        "Required fields are invalid or missing: configuration filters {field} values"
                    ));
                }
                let bad: Vec<String> = values
                    .iter()
                    .filter(|v| !allowed_values.contains(&v.as_str()))
                    .cloned()
                    .collect();
                if !bad.is_empty() {
                    return Err(invalid_values(
                        &format!("filters {field}"),
                        &bad,
                        allowed_values,
                    ));
                }
                filters.push((field.to_owned(), values));
            }
        }
        Some(_) => {
            return Err("Required fields are invalid or missing: configuration filters".into())
        }
    }

    let start = parse_date("startDate", &top["startDate"])?;
    let end = parse_date("endDate", &top["endDate"])?;
    if end < start {
        return Err(format!(
            "endDate ({end}) must be equal to or after startDate ({start})"
        ));
    }
    let days = (end - start).num_days() + 1;
    if days > rt.max_range_days {
        return Err(format!(
            "Report date range ({days} days, {start} to {end}) exceeds the maximum of {} days for report type {}",
            rt.max_range_days, rt.id
        ));
    }
    let floor = today - Duration::days(rt.retention_days);
    if start < floor {
        return Err(format!(
            "startDate ({start}) must be equal to or after report type data retention start date ({floor})"
        ));
    }

    let mut configuration = json!({
        "adProduct": ad_product,
        "groupBy": group_by,
        "columns": columns,
        "reportTypeId": rt.id,
        "timeUnit": if daily { "DAILY" } else { "SUMMARY" },
        "format": "GZIP_JSON",
    });
    if let Some(f) = c.get("filters").filter(|f| !f.is_null()) {
        configuration["filters"] = f.clone();
    }
    Ok(Request {
        name: top.get("name").and_then(Value::as_str).map(str::to_owned),
        start,
        end,
        report_type: rt,
        group_by,
        columns,
        daily,
        filters,
        configuration,
    })
}

// ---------------------------------------------------------------------------
// Handlers

fn reporting_error(status: StatusCode, detail: &str) -> Response {
    errors::ads(AdsShape::Reporting, status, "", detail)
}

fn new_report_id() -> String {
    use rand::Rng;
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn content_type_ok(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let base = ct.split(';').next().unwrap_or_default().trim();
    base.eq_ignore_ascii_case(CREATE_REQUEST) || base.eq_ignore_ascii_case("application/json")
}

/// `POST /reporting/reports`.
pub async fn create(
    State(state): State<AppState>,
    caller: AdsCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = limit_ads(
        &state,
        "createAsyncReport",
        &caller.identity(),
        AdsShape::Reporting,
    ) {
        return r;
    }
    if !content_type_ok(&headers) {
        return reporting_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported Media Type. Use Content-Type: {CREATE_REQUEST}"),
        );
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return reporting_error(
                StatusCode::BAD_REQUEST,
                &format!("Request body is not valid JSON: {e}"),
            )
        }
    };
    let now = state.clock.now();
    let today = state.ads_world(caller.profile_id).day_of(now);
    let req = match validate(&body, today) {
        Ok(r) => r,
        Err(detail) => return reporting_error(StatusCode::BAD_REQUEST, &detail),
    };
    let fingerprint = req.fingerprint(caller.profile_id);
    let mut store = state.ads.lock();
    let duplicate = store
        .reports
        .by_id
        .values()
        .filter(|r| r.fingerprint == fingerprint && status_at(r, now) != "COMPLETED")
        .min_by_key(|r| r.created_at)
        .map(|r| r.id.clone());
    if let Some(id) = duplicate {
        return reporting_error(
            StatusCode::TOO_EARLY,
            &format!("The Request is a duplicate of : {id}"),
        );
    }
    let pending = if state.faults.roll(Fault::AdsPending) {
        LONG_PENDING
    } else {
        PENDING
    };
    let report = AdsReport {
        id: new_report_id(),
        profile_id: caller.profile_id,
        name: req.name.clone(),
        start: req.start,
        end: req.end,
        configuration: req.configuration.clone(),
        fingerprint,
        created_at: now,
        processing_at: now + pending,
        completed_at: now + pending + PROCESSING,
        document: None,
    };
    let id = report.id.clone();
    let body = report_json(&state, &report, now);
    store.reports.by_id.insert(id.clone(), report);
    drop(store);
    if state.faults.roll(Fault::Ads425) {
        tracing::debug!(report_id = %id, "fault: ads_425");
        return reporting_error(
            StatusCode::TOO_EARLY,
            &format!("The Request is a duplicate of : {id}"),
        );
    }
    vnd_json(StatusCode::OK, CREATE_RESPONSE, &body)
}

/// Look a report up for this caller; 404 in the reporting shape otherwise.
fn find(state: &AppState, caller: &AdsCaller, id: &str) -> Result<AdsReport, Response> {
    let store = state.ads.lock();
    match store.reports.by_id.get(id) {
        Some(r) if r.profile_id == caller.profile_id => Ok(r.clone()),
        _ => Err(reporting_error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// Build (once) and return the gzip document of a completed report.
async fn ensure_document(state: &AppState, report: &AdsReport) -> Result<Arc<Vec<u8>>, Response> {
    if let Some(doc) = &report.document {
        return Ok(doc.clone());
    }
    // The report belongs to its profile's marketplace.
    let world = state.ads_world(report.profile_id).clone();
    let r = report.clone();
    let currency = world.profile().currency_code;
    let built = tokio::task::spawn_blocking(move || build_document(&world, &r, &currency))
        .await
        .map_err(|e| {
            reporting_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("Report generation failed due to an internal error. Please retry ({e})"),
            )
        })?;
    let doc = Arc::new(built);
    let mut store = state.ads.lock();
    if let Some(stored) = store.reports.by_id.get_mut(&report.id) {
        match &stored.document {
            Some(existing) => return Ok(existing.clone()),
            None => stored.document = Some(doc.clone()),
        }
    }
    Ok(doc)
}

/// The rows of a report as gzip JSON (an array of flat objects).
pub fn build_document(world: &crate::world::World, r: &AdsReport, currency: &str) -> Vec<u8> {
    let cfg = &r.configuration;
    let list = |k: &str| -> Vec<String> {
        cfg[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let group_by = list("groupBy");
    let columns = list("columns");
    let filters: Vec<(String, Vec<String>)> = cfg["filters"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_owned(),
                        string_list(f.get("values")).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let q = rows::Query {
        report_type: cfg["reportTypeId"].as_str().unwrap_or_default(),
        group_by: &group_by,
        start: r.start,
        end: r.end,
        daily: cfg["timeUnit"] == "DAILY",
        filters: &filters,
        at: r.completed_at,
    };
    let ctx = Ctx {
        world,
        currency,
        start: r.start,
        end: r.end,
    };
    let objects: Vec<Value> = rows::rows(world, &q)
        .iter()
        .map(|row| rows::to_json(row, &columns, &ctx))
        .collect();
    let json = serde_json::to_vec(&objects).expect("rows serialize");
    gzip(&json)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip to memory");
    enc.finish().expect("gzip to memory")
}

/// `GET /reporting/reports/{reportId}`.
pub async fn get(
    State(state): State<AppState>,
    caller: AdsCaller,
    Path(id): Path<String>,
) -> Response {
    if state.faults.roll(Fault::Ads401) {
        tracing::debug!(report_id = %id, "fault: ads_401");
        return errors::json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "message": "Unauthorized" }),
        );
    }
    if let Err(r) = limit_ads(
        &state,
        "getAsyncReport",
        &caller.identity(),
        AdsShape::Reporting,
    ) {
        return r;
    }
    let mut report = match find(&state, &caller, &id) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let now = state.clock.now();
    if status_at(&report, now) == "COMPLETED" {
        match ensure_document(&state, &report).await {
            Ok(doc) => report.document = Some(doc),
            Err(r) => return r,
        }
    }
    vnd_json(
        StatusCode::OK,
        GET_RESPONSE,
        &report_json(&state, &report, now),
    )
}

/// `DELETE /reporting/reports/{reportId}`.
pub async fn delete(
    State(state): State<AppState>,
    caller: AdsCaller,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = limit_ads(
        &state,
        "deleteAsyncReport",
        &caller.identity(),
        AdsShape::Reporting,
    ) {
        return r;
    }
    if let Err(r) = find(&state, &caller, &id) {
        return r;
    }
    state.ads.lock().reports.by_id.remove(&id);
    vnd_json(
        StatusCode::OK,
        DELETE_RESPONSE,
        &json!({ "code": "200", "detail": "Report deleted", "reportId": id }),
    )
}

// ---------------------------------------------------------------------------
// Pre-signed download URLs

fn signature(state: &AppState, id: &str, date: &str, expires: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ state.ads.secret;
    for b in format!("{id}\x1f{date}\x1f{expires}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut g = h ^ 0x9e37_79b9_7f4a_7c15;
    g = g.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!("{h:016x}{g:016x}")
}

fn signed_url(state: &AppState, id: &str, now: DateTime<Utc>) -> String {
    let date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let sig = signature(state, id, &date, URL_LIFETIME_SECS);
    format!(
        "{}/download/ads/{id}/report-{id}.json.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-SignedHeaders=host&X-Amz-Expires={URL_LIFETIME_SECS}&X-Amz-Signature={sig}",
        state.base_url
    )
}

#[derive(Deserialize)]
pub struct SignedQuery {
    #[serde(rename = "X-Amz-Date")]
    date: Option<String>,
    #[serde(rename = "X-Amz-Expires")]
    expires: Option<i64>,
    #[serde(rename = "X-Amz-Signature")]
    signature: Option<String>,
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp
}

/// `GET /download/ads/{reportId}/{file}`: the gzip document, no auth.
pub async fn download(
    State(state): State<AppState>,
    Path((id, _file)): Path<(String, String)>,
    Query(q): Query<SignedQuery>,
) -> Response {
    let (Some(date), Some(expires), Some(sig)) = (q.date, q.expires, q.signature) else {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        );
    };
    if signature(&state, &id, &date, expires) != sig {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    let Ok(signed_at) = chrono::NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ") else {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "AuthorizationQueryParametersError",
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        );
    };
    if state.clock.now() > signed_at.and_utc() + Duration::seconds(expires) {
        return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    let report = {
        let store = state.ads.lock();
        store.reports.by_id.get(&id).cloned()
    };
    let Some(report) = report.filter(|r| status_at(r, state.clock.now()) == "COMPLETED") else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let doc = match ensure_document(&state, &report).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut bytes: Vec<u8> = doc.as_ref().clone();
    if state.faults.roll(Fault::Truncate) {
        tracing::debug!(report_id = %id, "fault: truncate (ads download)");
        bytes.truncate(bytes.len() / 2);
    }
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-gzip"),
    );
    resp.extensions_mut().insert(Handled);
    resp
}
