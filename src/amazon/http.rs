//! Classification of Amazon's HTTP answers into typed errors, shared by
//! every SP-API and Ads call. One pure function, [`classify`], decides what
//! a status and body mean; the client around it only acts on the verdict
//! (wait, refresh the token, mark the job unavailable, give up).

use std::time::Duration;

/// Which API answered: their error bodies and 401/403 meanings differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    SpApi,
    Ads,
}

/// What went wrong with one call. Messages name the operation and status
/// and say what to do; they never carry tokens or secrets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{operation}: throttled by Amazon (429); waiting {}", wait_text(.retry_after))]
    Throttled {
        operation: String,
        retry_after: Option<Duration>,
    },
    #[error(
        "{operation}: the access token was rejected ({status}); refreshing it and retrying once"
    )]
    TokenRejected { operation: String, status: u16 },
    #[error("{operation}: access denied (403: {message}); the app lacks the role this API needs: grant it in Seller Central (Apps and Services > Develop Apps) and re-authorize")]
    MissingRole { operation: String, message: String },
    #[error("{operation}: an identical report request is still processing (425){}", .duplicate_of.as_ref().map(|id| format!("; reusing report {id}")).unwrap_or_default())]
    Duplicate {
        operation: String,
        duplicate_of: Option<String>,
    },
    #[error("{operation}: Amazon answered {status} ({}); retrying with backoff", transient_why(*.status))]
    Transient { operation: String, status: u16 },
    #[error("{operation}: Amazon refused the request ({status}: {message})")]
    Permanent {
        operation: String,
        status: u16,
        message: String,
    },
    #[error("{operation}: cannot read Amazon's answer: {message}")]
    Decode { operation: String, message: String },
    #[error("{operation}: no answer within {timeout:?}; retrying with backoff")]
    Timeout {
        operation: String,
        timeout: Duration,
    },
    #[error("{operation}: network error: {message}")]
    Network { operation: String, message: String },
    #[error("{operation}: no access token: {source}")]
    Credentials {
        operation: String,
        source: super::lwa::LwaError,
    },
    /// A 2xx whose body was cut short or garbled in transit: asked again.
    #[error("{operation}: Amazon's answer arrived cut short or garbled ({message}); asking again with backoff")]
    Truncated { operation: String, message: String },
    #[error("{operation}: Amazon answered page {page} with a page token that was already sent ({token}); following it would fetch the same pages forever, so the job stopped and kept what it stored")]
    RepeatedPageToken {
        operation: String,
        page: u32,
        token: String,
    },
    #[error("{operation}: Amazon still named a next page after {pages} pages, the [sync] max_pages cap per operation and job run; the job stopped and kept what it stored (raise max_pages if the account really has that many)")]
    TooManyPages { operation: String, pages: u32 },
    #[error("{operation}: this job run already made {calls} calls to it, all that its rate allows in [sync] max_run_time ({}); the job stopped instead of calling Amazon without end", humantime::format_duration(*.max_run_time))]
    CallCeiling {
        operation: String,
        calls: u64,
        max_run_time: Duration,
    },
}

/// What a retryable status means: an Ads poll's 401 is not the server's
/// fault, and must not read as if it were when it persists.
fn transient_why(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized while polling: the credentials were refused, or a passing refusal",
        408 => "request timeout",
        _ => "server side",
    }
}

fn wait_text(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!("{}s as Amazon asked", d.as_secs()),
        None => "for the next token with backoff".to_string(),
    }
}

impl ApiError {
    /// Worth another attempt (after a wait) within the same job run.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Throttled { .. }
                | ApiError::Transient { .. }
                | ApiError::Timeout { .. }
                | ApiError::Network { .. }
                | ApiError::TokenRejected { .. }
                | ApiError::Truncated { .. }
        ) || matches!(
            self,
            ApiError::Credentials { source, .. }
                if matches!(source, super::lwa::LwaError::Transient { .. } | super::lwa::LwaError::Network(_))
        )
    }
}

/// The first error message of an SP-API `ErrorList` or an Ads error body.
fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        // SP-API: {"errors":[{"code","message","details"}]}
        if let Some(e) = v.get("errors").and_then(|e| e.get(0)) {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
            let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
            let details = e.get("details").and_then(|c| c.as_str()).unwrap_or("");
            let mut s = format!("{code}: {msg}");
            if !details.is_empty() {
                s.push_str(&format!(" ({details})"));
            }
            return Some(s);
        }
        // Ads: {"code","details"} or {"code","message"} or {"message"};
        // reporting v3: {"code","detail"} (the reason for a 400 lives there).
        let code = v.get("code").and_then(|c| c.as_str());
        let msg = v
            .get("details")
            .or_else(|| v.get("detail"))
            .or_else(|| v.get("message"))
            .and_then(|c| c.as_str());
        match (code, msg) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (None, Some(m)) => Some(m.to_string()),
            (Some(c), None) => Some(c.to_string()),
            _ => None,
        }
    });
    let mut s = from_json.unwrap_or_else(|| text.trim().to_string());
    if s.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Parses `Retry-After` in seconds (Ads declares integer seconds).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// The id an Ads 425 names: "The Request is a duplicate of : <reportId>".
pub fn duplicate_report_id(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let (_, rest) = text.split_once("duplicate of")?;
    let id: String = rest
        .trim_start_matches([' ', ':'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Classifies a non-2xx answer. `polling` is true for Ads report status
/// polls, where Amazon sends transient 401s that must be retried.
pub fn classify(
    api: Api,
    operation: &str,
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    polling: bool,
) -> ApiError {
    let operation = operation.to_string();
    let message = error_message(body);
    match (api, status) {
        (_, 429) => ApiError::Throttled {
            operation,
            retry_after: parse_retry_after(retry_after),
        },
        (Api::Ads, 425) => ApiError::Duplicate {
            operation,
            duplicate_of: duplicate_report_id(body),
        },
        // SP-API 403: an expired or unknown access token, or a missing role.
        (Api::SpApi, 403) => {
            let lower = message.to_ascii_lowercase();
            if lower.contains("expired") || lower.contains("invalid") && lower.contains("token") {
                ApiError::TokenRejected { operation, status }
            } else {
                ApiError::MissingRole { operation, message }
            }
        }
        // Ads 401: token problems, or Amazon's transient 401 while polling
        // (retried with backoff and a fresh token, as Airbyte does: Ads
        // REFERENCE §2). One that outlasts the retries is an authorisation
        // problem the job reports as such (`sync::ads`), not a report still
        // pending.
        (Api::Ads, 401) if polling => ApiError::Transient { operation, status },
        (Api::Ads, 401) => ApiError::TokenRejected { operation, status },
        (Api::Ads, 403) => ApiError::MissingRole { operation, message },
        (_, 408) | (_, 500..=599) => ApiError::Transient { operation, status },
        _ => ApiError::Permanent {
            operation,
            status,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: &str = r#"{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}"#;
    const EXPIRED: &str = r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}"#;
    const DENIED: &str = r#"{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}"#;

    #[test]
    fn table() {
        use ApiError::*;
        let op = || "op".to_string();
        // (api, status, Retry-After, body, polling, verdict)
        type Case<'a> = (Api, u16, Option<&'a str>, &'a str, bool, ApiError);
        let cases: Vec<Case> = vec![
            (
                Api::SpApi,
                429,
                None,
                QUOTA,
                false,
                Throttled {
                    operation: op(),
                    retry_after: None,
                },
            ),
            (
                Api::Ads,
                429,
                Some("7"),
                r#"{"code":"THROTTLED"}"#,
                false,
                Throttled {
                    operation: op(),
                    retry_after: Some(Duration::from_secs(7)),
                },
            ),
            (
                Api::Ads,
                429,
                Some("soon"),
                "",
                false,
                Throttled {
                    operation: op(),
                    retry_after: None,
                },
            ),
            (
                Api::SpApi,
                403,
                None,
                EXPIRED,
                false,
                TokenRejected {
                    operation: op(),
                    status: 403,
                },
            ),
            (
                Api::SpApi,
                403,
                None,
                DENIED,
                false,
                MissingRole {
                    operation: op(),
                    message: "Unauthorized: Access to requested resource is denied.".into(),
                },
            ),
            (
                Api::Ads,
                401,
                None,
                r#"{"message":"Unauthorized"}"#,
                true,
                Transient {
                    operation: op(),
                    status: 401,
                },
            ),
            (
                Api::Ads,
                401,
                None,
                r#"{"message":"Unauthorized"}"#,
                false,
                TokenRejected {
                    operation: op(),
                    status: 401,
                },
            ),
            (
                Api::Ads,
                425,
                None,
                r#"{"code":"425","detail":"The Request is a duplicate of : 5a8e2c1f-0b7d-4c55-9d1e-3f0a6b2c9e11"}"#,
                false,
                Duplicate {
                    operation: op(),
                    duplicate_of: Some("5a8e2c1f-0b7d-4c55-9d1e-3f0a6b2c9e11".into()),
                },
            ),
            (
                Api::SpApi,
                500,
                None,
                "",
                false,
                Transient {
                    operation: op(),
                    status: 500,
                },
            ),
            (
                Api::SpApi,
                503,
                None,
                "<html>",
                false,
                Transient {
                    operation: op(),
                    status: 503,
                },
            ),
            (
                Api::Ads,
                408,
                None,
                "",
                false,
                Transient {
                    operation: op(),
                    status: 408,
                },
            ),
            (
                Api::SpApi,
                400,
                None,
                r#"{"errors":[{"code":"InvalidInput","message":"Invalid marketplace","details":"x"}]}"#,
                false,
                Permanent {
                    operation: op(),
                    status: 400,
                    message: "InvalidInput: Invalid marketplace (x)".into(),
                },
            ),
            (
                Api::Ads,
                400,
                None,
                r#"{"code":"400","details":"columns: unknown column foo"}"#,
                false,
                Permanent {
                    operation: op(),
                    status: 400,
                    message: "400: columns: unknown column foo".into(),
                },
            ),
            (
                Api::SpApi,
                404,
                None,
                "not json",
                false,
                Permanent {
                    operation: op(),
                    status: 404,
                    message: "not json".into(),
                },
            ),
        ];
        for (api, status, ra, body, polling, want) in cases {
            let got = classify(api, "op", status, ra, body.as_bytes(), polling);
            assert_eq!(got, want, "{api:?} {status} {body}");
        }
    }

    #[test]
    fn retryable_or_not() {
        let c = |api, s, body: &str| {
            classify(api, "op", s, None, body.as_bytes(), false).is_retryable()
        };
        assert!(c(Api::SpApi, 429, QUOTA));
        assert!(c(Api::SpApi, 502, ""));
        assert!(c(Api::SpApi, 403, EXPIRED));
        assert!(!c(Api::SpApi, 403, DENIED));
        assert!(!c(Api::SpApi, 400, ""));
    }

    #[test]
    fn messages_say_what_to_do_and_are_bounded() {
        let e = classify(
            Api::SpApi,
            "getInventorySummaries",
            403,
            None,
            DENIED.as_bytes(),
            false,
        );
        let s = e.to_string();
        assert!(
            s.starts_with("getInventorySummaries: access denied (403"),
            "{s}"
        );
        assert!(s.contains("grant it in Seller Central"), "{s}");
        // A poll's 401 that outlasts its retries must not read as Amazon's fault.
        let e = classify(Api::Ads, "getAsyncReport", 401, None, b"{}", true).to_string();
        assert!(
            e.contains("401 (Unauthorized while polling") && !e.contains("server side"),
            "{e}"
        );
        let long = "x".repeat(5000);
        let e = classify(Api::SpApi, "op", 400, None, long.as_bytes(), false);
        assert!(e.to_string().len() < 400);
    }
}
