//! Amazon Ads API: `GET /v2/profiles`, reporting v3 (`POST /reporting/reports`,
//! `GET`/`DELETE /reporting/reports/{reportId}`, the unauthenticated download
//! URL) and `POST /sp/campaigns/list`.
//!
//! PLACEHOLDER: the routes and [`AdsState`] are filled in by the Ads work.
//! Use [`crate::auth::AdsClient`] (profiles, no scope) or
//! [`crate::auth::AdsCaller`] (scoped), then
//! [`crate::ratelimit::limit_ads`] with the path's
//! [`crate::errors::AdsShape`]; Ads answers carry no rate header. Faults
//! `ads_401`, `ads_425` and `ads_pending` are decided here with
//! `state.faults.roll(Fault::..)`. Serve downloads under `/download/`.

use axum::Router;

use crate::server::AppState;

/// Ads state of one running sim (kept in `AppState::ads`): report requests
/// and their lifecycle. Give it interior mutability as fields are added.
#[derive(Debug, Default)]
pub struct AdsState {}

/// The Ads API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
