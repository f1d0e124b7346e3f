//! Who is calling: axum extractors that check the SP-API and Ads API auth
//! headers and reject in each API's own error shape.
//!
//! - [`SpCaller`]: `x-amz-access-token` must be an unexpired LWA token issued
//!   for the SP-API credentials. Otherwise 403 `Unauthorized` ("Access to
//!   requested resource is denied.") with Amazon's `details` variant for a
//!   missing, invalid or expired token. (No SigV4: Amazon dropped it in 2023.)
//! - [`AdsClient`]: `Authorization: Bearer <token>` issued for the Ads
//!   credentials and `Amazon-Advertising-API-ClientId` equal to the Ads client
//!   id. For `GET /v2/profiles`, which needs no scope.
//! - [`AdsCaller`]: [`AdsClient`] plus `Amazon-Advertising-API-Scope` naming a
//!   known profile id. Rejections are 401 in the Ads shape of the path
//!   (docs `reference/concepts/errors.md`: "Scope header is missing", "No
//!   matching advertiser found for scope").
//!
//! Put the extractor before the rate-limit check in a handler: Amazon refuses
//! unauthenticated calls without charging the caller's bucket.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;

use crate::errors::{self, AdsShape, SpDenied};
use crate::lwa::Api;
use crate::server::AppState;

/// An authenticated SP-API caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpCaller {
    /// The scenario account the token belongs to; the rate-limit identity.
    pub account: String,
}

impl FromRequestParts<AppState> for SpCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = header(parts, "x-amz-access-token") else {
            return Err(errors::sp_unauthorized(SpDenied::Missing));
        };
        match state.tokens.lookup(token) {
            Some(t) if t.api == Api::SpApi => {
                if t.expires_at <= state.clock.credential_now() {
                    Err(errors::sp_unauthorized(SpDenied::Expired))
                } else {
                    Ok(SpCaller { account: t.account })
                }
            }
            _ => Err(errors::sp_unauthorized(SpDenied::Invalid)),
        }
    }
}

/// An authenticated Ads API caller without a profile scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsClient {
    pub account: String,
    pub client_id: String,
}

impl AdsClient {
    /// The rate-limit identity for calls made without a profile.
    pub fn identity(&self) -> String {
        format!("{}/{}", self.account, self.client_id)
    }
}

impl FromRequestParts<AppState> for AdsClient {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let shape = AdsShape::for_path(parts.uri.path());
        let unauthorized =
            |text: &str| errors::ads(shape, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", text);
        let token = header(parts, "authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(token) = token else {
            return Err(unauthorized("Missing or malformed Authorization header"));
        };
        let info = match state.tokens.lookup(token) {
            Some(t) if t.api == Api::Ads => t,
            _ => return Err(unauthorized("Unauthorized")),
        };
        if info.expires_at <= state.clock.credential_now() {
            return Err(unauthorized("Unauthorized"));
        }
        let ads_client = &state.seller_world().scenario().seller.ads.client_id;
        match header(parts, "amazon-advertising-api-clientid") {
            None => Err(unauthorized(
                "Amazon-Advertising-API-ClientId header is missing",
            )),
            Some(c) if c != ads_client || c != info.client_id => Err(unauthorized(
                "Amazon-Advertising-API-ClientId does not match the access token",
            )),
            Some(c) => Ok(AdsClient {
                account: info.account,
                client_id: c.to_owned(),
            }),
        }
    }
}

/// An authenticated Ads API caller scoped to one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsCaller {
    pub account: String,
    pub client_id: String,
    pub profile_id: i64,
}

impl AdsCaller {
    /// The rate-limit identity: the profile (Ads limits are per advertiser).
    pub fn identity(&self) -> String {
        format!("{}/{}", self.client_id, self.profile_id)
    }
}

impl FromRequestParts<AppState> for AdsCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let client = AdsClient::from_request_parts(parts, state).await?;
        let shape = AdsShape::for_path(parts.uri.path());
        let unauthorized =
            |text: &str| errors::ads(shape, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", text);
        let Some(scope) = header(parts, "amazon-advertising-api-scope") else {
            return Err(unauthorized("Scope header is missing"));
        };
        // Every market of the seller has its own profile.
        match scope.trim().parse::<i64>() {
            Ok(id) if state.worlds.by_profile(id).is_some() => Ok(AdsCaller {
                account: client.account,
                client_id: client.client_id,
                profile_id: id,
            }),
            _ => Err(unauthorized("No matching advertiser found for scope")),
        }
    }
}

fn header<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
}
