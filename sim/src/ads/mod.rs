//! Amazon Ads API: `GET /v2/profiles` ([`profiles`]), reporting v3
//! (`POST /reporting/reports`, `GET`/`DELETE /reporting/reports/{reportId}`,
//! the unauthenticated download URL: [`reporting`], [`columns`], [`rows`]) and
//! `POST /sp/campaigns/list` ([`campaigns`]).
//!
//! Every handler takes [`crate::auth::AdsClient`] (profiles, no scope) or
//! [`crate::auth::AdsCaller`] (scoped), then [`crate::ratelimit::limit_ads`]
//! with the path's [`crate::errors::AdsShape`] (DESIGN §3's assumed limits:
//! reporting create 1 per 2 s, the rest 2 rps); Ads answers carry no rate
//! header. Errors use the three Ads shapes of [`crate::errors::ads`].
//! Downloads are served under `/download/ads/` (the fault layer treats
//! `/download/` as S3). Faults `ads_401`, `ads_425` and `ads_pending` are
//! decided in [`reporting`].

pub mod campaigns;
pub mod columns;
pub mod profiles;
pub mod reporting;
pub mod rows;

use std::sync::{Mutex, MutexGuard};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::server::AppState;

/// Mutable Ads state behind [`AdsState::lock`].
#[derive(Debug, Default)]
pub struct AdsInner {
    pub reports: reporting::Reports,
}

/// Ads state of one running sim (kept in `AppState::ads`): report requests
/// and their documents, and the key that signs download URLs.
#[derive(Debug)]
pub struct AdsState {
    inner: Mutex<AdsInner>,
    /// Signs download URLs (random per sim, so URLs cannot be forged).
    pub secret: u64,
}

impl Default for AdsState {
    fn default() -> Self {
        use rand::Rng;
        AdsState {
            inner: Mutex::new(AdsInner::default()),
            secret: rand::rng().random(),
        }
    }
}

impl AdsState {
    /// The mutable state (a poisoned lock is recovered: the state stays usable).
    pub fn lock(&self) -> MutexGuard<'_, AdsInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A JSON response with an Ads vendor media type.
pub(crate) fn vnd_json(
    status: StatusCode,
    media_type: &'static str,
    body: &serde_json::Value,
) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    resp
}

/// The Ads API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/profiles", get(profiles::list))
        .route("/v2/profiles/{profile_id}", get(profiles::get_one))
        .route("/reporting/reports", post(reporting::create))
        .route(
            "/reporting/reports/{report_id}",
            get(reporting::get).delete(reporting::delete),
        )
        .route("/download/ads/{report_id}/{file}", get(reporting::download))
        .route("/sp/campaigns/list", post(campaigns::list))
}
