//! The HTTP layer every SP-API and Ads call goes through:
//! wait for a rate-limit token → get an LWA access token → send with a
//! timeout → classify the answer ([`classify`]) → learn the rate, count the
//! call, and retry with capped backoff ([`RetryPolicy`]) or give up with a
//! typed [`ApiError`]. Nothing here retries forever.

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
        })
    }

    fn record(&self, account: &str, kind: ApiKind, operation: &str, status: Option<u16>) {
        let now = Utc::now();
        self.counter.record(account, kind, operation, status, now);
        let _ = JOB_TALLY.try_with(|t| t.record(account, kind, operation, status, now));
    }

    /// Makes one call, with waits and retries as the module doc says.
    pub async fn call(&self, ep: &Endpoint, spec: &CallSpec) -> Result<ApiResponse, ApiError> {
        let key = limit_key(ep.api, spec.operation);
        let kind = match ep.api {
            Api::SpApi => ApiKind::Sp,
            Api::Ads => ApiKind::Ads,
        };
        let mut attempt = 1;
        let mut after_rejection = false;
        loop {
            let err = match self.attempt(ep, spec, &key, kind).await {
                Ok(mut resp) => {
                    resp.attempts = attempt;
                    return Ok(resp);
                }
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
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    tracing::warn!(account = %ep.account, operation = spec.operation, attempt, error = %err, "call failed");
                    return Err(err);
                }
            }
        }
    }

    async fn attempt(
        &self,
        ep: &Endpoint,
        spec: &CallSpec,
        key: &str,
        kind: ApiKind,
    ) -> Result<ApiResponse, ApiError> {
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
                return Err(ApiError::Network {
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
