//! Amazon's error bodies, one constructor per shape, so every endpoint fails
//! the way the real service does.
//!
//! Shapes (from the models, specs and REFERENCE.md notes):
//! - SP-API: the models' `ErrorList`, `{"errors":[{"code","message","details"?}]}`.
//!   429 is `QuotaExceeded` with no `x-amzn-RateLimit-Limit` header (the models
//!   attach that header to 200/400/404 only).
//! - LWA: `{"error","error_description"}` (RFC 6749 §5.2 codes).
//! - Ads: three families, chosen by [`AdsShape`]: reporting v3
//!   (`AsyncReportingError`, `{"code","detail"}` with the HTTP status as the
//!   code), Sponsored Products v3 (`{"code","message"}` with an enumerated code
//!   such as `UNAUTHORIZED` or `THROTTLED`) and the generic documented shape
//!   (`{"code","details"}`, docs `reference/concepts/errors.md`) used by
//!   profiles.
//!
//! Nothing here sets `x-amzn-RequestId`: the server's middleware adds it to
//! every response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An SP-API error response with one error.
pub fn sp_api(status: StatusCode, code: &str, message: &str, details: Option<&str>) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if let Some(details) = details {
        error["details"] = json!(details);
    }
    json_response(status, &json!({ "errors": [error] }))
}

/// 429 `QuotaExceeded`, exactly as Amazon sends it (no rate header).
pub fn quota_exceeded() -> Response {
    sp_api(
        StatusCode::TOO_MANY_REQUESTS,
        "QuotaExceeded",
        "You exceeded your quota for the requested resource.",
        Some(""),
    )
}

/// The message of every SP-API 403 `Unauthorized`.
pub const ACCESS_DENIED: &str = "Access to requested resource is denied.";

/// Why an SP-API request was refused; each maps to the `details` Amazon sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpDenied {
    /// No `x-amz-access-token` header: Amazon leaves `details` empty.
    Missing,
    /// A token the service never issued (or issued for another API).
    Invalid,
    /// A token past its `expires_in`.
    Expired,
}

/// 403 `Unauthorized` with the `details` variant real clients see.
pub fn sp_unauthorized(why: SpDenied) -> Response {
    let details = match why {
        SpDenied::Missing => "",
        SpDenied::Invalid => "The access token you provided is revoked, malformed or invalid.",
        SpDenied::Expired => "The access token you provided has expired.",
    };
    sp_api(
        StatusCode::FORBIDDEN,
        "Unauthorized",
        ACCESS_DENIED,
        Some(details),
    )
}

/// 400 `InvalidInput`, the code every SP-API model's 400 fixtures use.
pub fn sp_invalid_input(message: &str) -> Response {
    sp_api(StatusCode::BAD_REQUEST, "InvalidInput", message, None)
}

/// 404 `NotFound`.
pub fn sp_not_found(message: &str) -> Response {
    sp_api(StatusCode::NOT_FOUND, "NotFound", message, None)
}

/// 500 `InternalFailure`.
pub fn sp_internal(message: &str) -> Response {
    sp_api(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalFailure",
        message,
        None,
    )
}

/// 503 `ServiceUnavailable`.
pub fn sp_unavailable() -> Response {
    sp_api(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "Service temporarily unavailable. Please retry.",
        None,
    )
}

/// The LWA error codes the sim sends (a subset of RFC 6749 §5.2 plus
/// Amazon's `server_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LwaError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    ServerError,
}

impl LwaError {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            LwaError::InvalidRequest => "invalid_request",
            LwaError::InvalidClient => "invalid_client",
            LwaError::InvalidGrant => "invalid_grant",
            LwaError::UnsupportedGrantType => "unsupported_grant_type",
            LwaError::ServerError => "server_error",
        }
    }

    /// The HTTP status LWA answers with: 401 for client authentication,
    /// 500 for server errors, 400 otherwise.
    pub fn status(self) -> StatusCode {
        match self {
            LwaError::InvalidClient => StatusCode::UNAUTHORIZED,
            LwaError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An LWA token-endpoint error.
pub fn lwa(error: LwaError, description: &str) -> Response {
    json_response(
        error.status(),
        &json!({ "error": error.code(), "error_description": description }),
    )
}

/// Which Ads API error body to send; the Ads API has no single shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdsShape {
    /// `/reporting/*`: `AsyncReportingError` `{"code": "<http status>", "detail"}`.
    Reporting,
    /// `/sp/*` (Sponsored Products v3): `{"code": "<ENUM>", "message"}`.
    SponsoredProducts,
    /// Everything else (profiles): `{"code", "details"}`.
    Generic,
}

impl AdsShape {
    /// The shape the Ads API uses under this path.
    pub fn for_path(path: &str) -> AdsShape {
        if path.starts_with("/reporting/") {
            AdsShape::Reporting
        } else if path.starts_with("/sp/") {
            AdsShape::SponsoredProducts
        } else {
            AdsShape::Generic
        }
    }
}

/// An Ads API error. `code` is the enumerated code (`UNAUTHORIZED`,
/// `THROTTLED`, `INTERNAL_ERROR`, ...) used by the SP v3 and generic shapes;
/// the reporting shape puts the HTTP status there instead, as its spec says.
pub fn ads(shape: AdsShape, status: StatusCode, code: &str, text: &str) -> Response {
    let body = match shape {
        AdsShape::Reporting => json!({ "code": status.as_u16().to_string(), "detail": text }),
        AdsShape::SponsoredProducts => json!({ "code": code, "message": text }),
        AdsShape::Generic => json!({ "code": code, "details": text }),
    };
    json_response(status, &body)
}

/// Ads 429. The SP v3 spec declares `Retry-After` (seconds); reporting is
/// known to omit it (ads-advanced-tools-docs #344), so it is sent only for SP v3
/// and generic paths.
pub fn ads_throttled(shape: AdsShape, retry_after_secs: u64) -> Response {
    let mut resp = ads(
        shape,
        StatusCode::TOO_MANY_REQUESTS,
        "THROTTLED",
        "Request was rate-limited. Retry later.",
    );
    if shape != AdsShape::Reporting {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        );
    }
    resp
}

/// A JSON response with `Content-Type: application/json`.
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn quota_exceeded_is_amazons_body_without_rate_header() {
        let resp = quota_exceeded();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(resp.headers().get("x-amzn-RateLimit-Limit").is_none());
        assert_eq!(
            body(resp).await,
            json!({"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]})
        );
    }

    #[tokio::test]
    async fn expired_token_details() {
        let resp = sp_unauthorized(SpDenied::Expired);
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            body(resp).await["errors"][0]["details"],
            "The access token you provided has expired."
        );
    }

    #[tokio::test]
    async fn ads_shapes() {
        let r = ads(
            AdsShape::Reporting,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Not Found",
        );
        assert_eq!(body(r).await, json!({"code":"404","detail":"Not Found"}));
        let r = ads(
            AdsShape::Generic,
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "x",
        );
        assert_eq!(body(r).await, json!({"code":"UNAUTHORIZED","details":"x"}));
        let r = ads_throttled(AdsShape::SponsoredProducts, 2);
        assert_eq!(r.headers()["retry-after"], "2");
        assert_eq!(body(r).await["code"], "THROTTLED");
        let r = lwa(LwaError::InvalidClient, "Client authentication failed");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}
