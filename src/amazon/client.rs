//! The HTTP layer every SP-API and Ads call goes through:
//! check the job run's call ceiling ([`RunLimits`]) → wait for a rate-limit
//! token → get an LWA access token → send with a timeout → classify the
//! answer ([`classify`]) → learn the rate, count the call, decode the body
//! ([`ApiClient::call_json`]), and retry with capped backoff
//! ([`RetryPolicy`]) or give up with a typed [`ApiError`]. Nothing here
//! retries forever.
//!
//! A 2xx whose body arrives cut short or garbled is retried here, like a
//! 5xx, for every caller: Amazon (and any proxy between) sometimes ends a
//! transfer early, and one such answer must not fail a job.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::HeaderMap;
use reqwest::Method;

use super::backoff::RetryPolicy;
use super::calls::{ApiKind, CallCounter, JOB_TALLY};
use super::http::{classify, Api, ApiError};
use super::limiter::Limiter;
use super::lwa::LwaClient;
use super::paging::{Pager, RunLimits};
use super::rate_limit::plan_for;
use crate::config::LwaCredentials;

/// `User-Agent` of every call.
pub const USER_AGENT: &str = concat!("flywheel/", env!("CARGO_PKG_VERSION"));

/// Where and as whom to call: one account's SP-API or Ads credentials.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub account: String,
    pub api: Api,
    /// `https://sellingpartnerapi-na.amazon.com`, or a simulator's URL.
    pub base_url: String,
    pub token_url: String,
    pub credentials: LwaCredentials,
}

/// One request.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The model's operationId (`searchOrders`), used for limits and counts.
    pub operation: &'static str,
    pub method: Method,
    /// Path below the base URL, starting with `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// JSON body and its content type.
    pub body: Option<(Vec<u8>, String)>,
    /// Ads: `Amazon-Advertising-API-Scope` (the profile id).
    pub scope: Option<i64>,
    /// Ads: the vendor media type to accept.
    pub accept: Option<String>,
    /// Ads report status polls (Amazon sends transient 401s there).
    pub polling: bool,
}

impl CallSpec {
    pub fn get(operation: &'static str, path: impl Into<String>) -> Self {
        CallSpec {
            operation,
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            scope: None,
            accept: None,
            polling: false,
        }
    }

    pub fn post_json(
        operation: &'static str,
        path: impl Into<String>,
        body: &serde_json::Value,
        content_type: &str,
    ) -> Self {
        CallSpec {
            method: Method::POST,
            body: Some((body.to_string().into_bytes(), content_type.to_string())),
            ..CallSpec::get(operation, path)
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Attempts it took (1 = first try).
    pub attempts: u32,
}

impl ApiResponse {
    /// Parses the body as JSON, naming the operation on failure.
    pub fn json<T: serde::de::DeserializeOwned>(&self, operation: &str) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::Decode {
            operation: operation.to_string(),
            message: e.to_string(),
        })
    }

    /// Decodes the body as [`ApiClient::call_json`] does: a 204 or an empty
    /// body reads as JSON `null` (an `Option` or a `Value` takes it as "no
    /// data"). A body that ends early or is not JSON at all, or an empty
    /// 2xx where an answer is needed, is [`ApiError::Truncated`] (worth
    /// asking again); one of the wrong shape is [`ApiError::Decode`]
    /// (asking again gives the same).
    pub fn decode<T: serde::de::DeserializeOwned>(&self, operation: &str) -> Result<T, ApiError> {
        let cut_to_nothing = self.status != 204 && self.body.is_empty();
        let body: &[u8] = if self.status == 204 || self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            let operation = operation.to_string();
            if cut_to_nothing {
                ApiError::Truncated {
                    operation,
                    message: format!("an empty {} answer", self.status),
                }
            } else if e.is_eof() || e.is_syntax() {
                ApiError::Truncated {
                    operation,
                    message: e.to_string(),
                }
            } else {
                ApiError::Decode {
                    operation,
                    message: e.to_string(),
                }
            }
        })
    }
}

/// Shared by every job of the process.
pub struct ApiClient {
    http: reqwest::Client,
    pub lwa: Arc<LwaClient>,
    pub limiter: Arc<Limiter>,
    pub counter: Arc<CallCounter>,
    /// The per-account `createReport` budget (`reports::ReportBudget`).
    pub report_budgets: Arc<super::reports::ReportBudgets>,
    pub policy: RetryPolicy,
    pub timeout: Duration,
    /// What one job run may spend (`[sync] max_pages`, `max_run_time`).
    pub run_limits: RunLimits,
}

/// The limiter's key for an operation: Ads calls share assumed buckets.
fn limit_key(api: Api, operation: &str) -> String {
    match api {
        Api::SpApi => operation.to_string(),
        Api::Ads if operation == "createAsyncReport" => "ads.createReport".to_string(),
        Api::Ads => "ads.other".to_string(),
    }
}

impl ApiClient {
    pub fn new(timeout: Duration, policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .build()?;
        Ok(ApiClient {
            lwa: Arc::new(LwaClient::new(http.clone())),
            http,
            limiter: Arc::new(Limiter::new()),
            counter: Arc::new(CallCounter::new()),
            report_budgets: Arc::default(),
            policy,
            timeout,
            run_limits: RunLimits::default(),
        })
    }

    /// Sets what one job run may spend (from `[sync]`).
    pub fn with_run_limits(mut self, limits: RunLimits) -> Self {
        self.run_limits = limits;
        self
    }

    /// The pager every paged loop follows its tokens with.
    pub fn pager(&self, operation: &'static str) -> Pager {
        Pager::new(operation, &self.run_limits)
    }

    fn record(&self, account: &str, kind: ApiKind, operation: &str, status: Option<u16>) {
        let now = Utc::now();
        self.counter.record(account, kind, operation, status, now);
        let _ = JOB_TALLY.try_with(|t| t.record(account, kind, operation, status, now));
    }

    /// Makes one call, with waits and retries as the module doc says.
    pub async fn call(&self, ep: &Endpoint, spec: &CallSpec) -> Result<ApiResponse, ApiError> {
        self.call_with(ep, spec, Ok).await
    }

    /// Makes one call and decodes its JSON body ([`ApiResponse::decode`]):
    /// a body cut short is asked for again with the retry policy's backoff.
    /// For a call that creates something (createReport), asking again may
    /// create it twice, as a retried timeout may: Ads answers the second
    /// with a 425 naming the first, and an SP-API report too many is
    /// cheaper than a failed job.
    pub async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        ep: &Endpoint,
        spec: &CallSpec,
    ) -> Result<T, ApiError> {
        self.call_with(ep, spec, |resp| resp.decode(spec.operation))
            .await
    }

    async fn call_with<T>(
        &self,
        ep: &Endpoint,
        spec: &CallSpec,
        accept: impl Fn(ApiResponse) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let key = limit_key(ep.api, spec.operation);
        let kind = match ep.api {
            Api::SpApi => ApiKind::Sp,
            Api::Ads => ApiKind::Ads,
        };
        let mut attempt = 1;
        let mut after_rejection = false;
        loop {
            let answer = self
                .attempt(ep, spec, &key, kind)
                .await
                .and_then(|mut resp| {
                    resp.attempts = attempt;
                    accept(resp)
                });
            let err = match answer {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            // A rejected token gets one immediate retry with a fresh one; a
            // second rejection in a row is final. The policy alone allows
            // that retry on the first attempt only, so a token that expired
            // while a throttled call backed off failed the whole job (the
            // fault matrix found it: 403 "refreshing it and retrying once").
            let rejected = matches!(err, ApiError::TokenRejected { .. });
            let delay = if rejected {
                (!after_rejection).then_some(Duration::ZERO)
            } else {
                self.policy.next_delay(attempt, &err, rand::random::<f64>())
            };
            after_rejection = rejected;
            match delay {
                Some(delay) => {
                    tracing::debug!(
                        account = %ep.account,
                        operation = spec.operation,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %err,
                        "retrying"
                    );
                    self.limiter.sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    tracing::warn!(account = %ep.account, operation = spec.operation, attempt, error = %err, "call failed");
                    return Err(err);
                }
            }
        }
    }

    /// Refuses a call once the job run has made as many to the operation
    /// as its plan allows in the run's time budget (retries count: each is
    /// a call Amazon meters). Outside a job run there is no run to bound.
    fn check_ceiling(&self, ep: &Endpoint, spec: &CallSpec, key: &str) -> Result<(), ApiError> {
        let Ok(calls) = JOB_TALLY.try_with(|t| t.calls_to(&ep.account, spec.operation)) else {
            return Ok(());
        };
        if calls >= self.run_limits.call_ceiling(plan_for(key)) {
            return Err(ApiError::CallCeiling {
                operation: spec.operation.to_string(),
                calls,
                max_run_time: self.run_limits.max_run_time,
            });
        }
        Ok(())
    }

    async fn attempt(
        &self,
        ep: &Endpoint,
        spec: &CallSpec,
        key: &str,
        kind: ApiKind,
    ) -> Result<ApiResponse, ApiError> {
        self.check_ceiling(ep, spec, key)?;
        self.limiter.acquire(&ep.account, key).await;
        // Token lifetimes run on the limiter's clock (the followed clock's
        // pace): against Amazon that is wall time; against a sped-up sim the
        // token is refreshed sooner than it must be (the sim's tokens live
        // their `expires_in` in wall time), never used after it died.
        let token = self
            .lwa
            .access_token(&ep.token_url, &ep.credentials, self.limiter.now())
            .await
            .map_err(|source| ApiError::Credentials {
                operation: spec.operation.to_string(),
                source,
            })?;
        let url = format!("{}{}", ep.base_url.trim_end_matches('/'), spec.path);
        let mut req = self
            .http
            .request(spec.method.clone(), url)
            .query(&spec.query);
        req = match ep.api {
            Api::SpApi => req.header("x-amz-access-token", token.expose()),
            Api::Ads => {
                let mut r = req
                    .bearer_auth(token.expose())
                    .header("Amazon-Advertising-API-ClientId", &ep.credentials.client_id);
                if let Some(scope) = spec.scope {
                    r = r.header("Amazon-Advertising-API-Scope", scope.to_string());
                }
                r
            }
        };
        if let Some(accept) = &spec.accept {
            req = req.header(reqwest::header::ACCEPT, accept);
        }
        if let Some((body, content_type)) = &spec.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.clone());
        }
        let sent = req.send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                self.record(&ep.account, kind, spec.operation, None);
                let operation = spec.operation.to_string();
                return Err(if e.is_timeout() {
                    ApiError::Timeout {
                        operation,
                        timeout: self.timeout,
                    }
                } else {
                    ApiError::Network {
                        operation,
                        message: e.without_url().to_string(),
                    }
                });
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                self.record(&ep.account, kind, spec.operation, None);
                return Err(ApiError::Truncated {
                    operation: spec.operation.to_string(),
                    message: format!("body cut short: {}", e.without_url()),
                });
            }
        };
        self.record(&ep.account, kind, spec.operation, Some(status));
        let learned = headers
            .get("x-amzn-RateLimit-Limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        if let Some(rate) = learned {
            self.limiter.learn(&ep.account, key, rate);
        }
        if (200..300).contains(&status) {
            if learned.is_none() {
                self.limiter.succeeded(&ep.account, key);
            }
            return Ok(ApiResponse {
                status,
                headers,
                body,
                attempts: 1,
            });
        }
        let retry_after = headers.get("retry-after").and_then(|v| v.to_str().ok());
        let err = classify(
            ep.api,
            spec.operation,
            status,
            retry_after,
            &body,
            spec.polling,
        );
        match &err {
            ApiError::Throttled { .. } => self.limiter.throttled(&ep.account, key),
            ApiError::TokenRejected { .. } => {
                self.lwa.invalidate(&ep.token_url, &ep.credentials).await
            }
            // A 401 on an Ads poll is retried as transient (Amazon sends
            // spurious ones there), but it may as well mean the token did
            // expire (a host that slept past it: the monotonic clock stops
            // during suspend). The retry takes a fresh token: one LWA call
            // more at worst, instead of polling with a dead token until
            // the attempts run out, every poll of the report.
            ApiError::Transient { status: 401, .. } if matches!(ep.api, Api::Ads) => {
                self.lwa.invalidate(&ep.token_url, &ep.credentials).await
            }
            _ => {}
        }
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
            attempts: 1,
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Created {
        #[serde(rename = "reportId")]
        report_id: String,
    }

    #[test]
    fn cut_short_bodies_are_worth_asking_again_and_wrong_shapes_are_not() {
        let kind = |e: ApiError| match e {
            ApiError::Truncated { .. } => "truncated",
            ApiError::Decode { .. } => "decode",
            _ => "other",
        };
        let created = |status, body| resp(status, body).decode::<Created>("createReport");
        assert!(created(202, r#"{"reportId":"r1"}"#).is_ok());
        // Half of that answer, an HTML error page, an empty 2xx: ask again.
        assert_eq!(
            kind(created(202, r#"{"reportId":"#).unwrap_err()),
            "truncated"
        );
        assert_eq!(kind(created(200, "<html>").unwrap_err()), "truncated");
        assert_eq!(kind(created(200, "").unwrap_err()), "truncated");
        // Complete JSON of another shape, or a deliberate 204: asking again
        // gives the same.
        assert_eq!(kind(created(202, r#"{"id":"r1"}"#).unwrap_err()), "decode");
        assert_eq!(kind(created(204, "").unwrap_err()), "decode");
        // "No data" where the caller accepts none.
        let opt = |status, body| resp(status, body).decode::<Option<serde_json::Value>>("op");
        assert_eq!(opt(204, "").unwrap(), None);
        assert_eq!(opt(200, "").unwrap(), None);
        assert_eq!(kind(opt(200, r#"{"items":[1,"#).unwrap_err()), "truncated");
        let e = created(202, r#"{"reportId":"#).unwrap_err();
        assert!(e.is_retryable());
        assert!(e.to_string().starts_with("createReport: "), "{e}");
    }
}
