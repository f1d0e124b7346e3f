//! The HTTP server: shared state, router assembly and the cross-cutting
//! middleware (request ids, tracing, faults, Amazon-shaped 404s).
//!
//! Every API module exposes `pub fn routes() -> Router<AppState>`; [`router`]
//! merges them. Handlers get what they need from [`AppState`]: the world
//! (read-only generated data), the clock (sim time, the only time), the
//! limiter, faults, issued tokens, and the mutable state of reports and Ads
//! reports, which their modules own.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::ads::AdsState;
use crate::clock::Clock;
use crate::errors::{self, AdsShape};
use crate::faults::{self, Family, Faults};
use crate::lwa::TokenStore;
use crate::ratelimit::RateLimiter;
use crate::reports::ReportStore;
use crate::world::World;

/// Everything a handler can reach. Cheap to clone (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    /// The synthetic seller; immutable once generated.
    pub world: Arc<World>,
    /// Sim time.
    pub clock: Arc<Clock>,
    /// Token buckets per (operation, caller).
    pub limiter: Arc<RateLimiter>,
    /// `--faults` and the seeded RNG deciding them.
    pub faults: Arc<Faults>,
    /// Issued LWA access tokens and authorization codes.
    pub tokens: Arc<TokenStore>,
    /// SP-API reports and documents (owned by [`crate::reports`]).
    pub reports: Arc<ReportStore>,
    /// Ads reports and the like (owned by [`crate::ads`]).
    pub ads: Arc<AdsState>,
    /// `http://ADDR` of this server, for URLs handed to clients (report
    /// document and Ads download URLs). No trailing slash.
    pub base_url: Arc<str>,
}

impl AppState {
    /// Fresh state around a generated world.
    pub fn new(world: Arc<World>, clock: Arc<Clock>, faults: Faults, base_url: &str) -> AppState {
        AppState {
            world,
            clock,
            limiter: Arc::new(RateLimiter::new()),
            faults: Arc::new(faults),
            tokens: Arc::new(TokenStore::new()),
            reports: Arc::new(ReportStore::default()),
            ads: Arc::new(AdsState::default()),
            base_url: base_url.trim_end_matches('/').into(),
        }
    }
}

/// The whole marketplace: LWA, `/_sim/*`, SP-API, reports and Ads, with the
/// fault layer inside the tracing layer.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::lwa::routes())
        .merge(crate::clock::routes())
        .route("/_sim/truth", get(get_truth))
        .merge(crate::faults::routes())
        .merge(crate::spapi::routes())
        .merge(crate::reports::routes())
        .merge(crate::ads::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::middleware,
        ))
        .layer(middleware::from_fn(trace))
        .with_state(state)
}

/// Serve `state` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Adds `x-amzn-RequestId` (every SP-API response carries one) and logs
/// each request. Query strings are not logged: they can hold codes.
async fn trace(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut resp = next.run(req).await;
    let id = request_id();
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut()
            .insert(HeaderName::from_static("x-amzn-requestid"), v);
    }
    tracing::debug!(
        %method,
        %path,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        request_id = %id,
        "request"
    );
    resp
}

/// A random UUID-shaped request id.
fn request_id() -> String {
    use rand::Rng;
    let b: [u8; 16] = rand::rng().random();
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

/// Unknown route: 404 in the shape of the API the path belongs to.
async fn not_found(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    match faults::family(&path) {
        Family::Ads(shape) => errors::ads(shape, StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found"),
        Family::Download => errors::ads(
            AdsShape::Generic,
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
        Family::Lwa => errors::lwa(errors::LwaError::InvalidRequest, "Unknown endpoint"),
        Family::Sim | Family::SpApi => {
            errors::sp_not_found(&format!("Resource {path} is not found."))
        }
    }
}

#[derive(Deserialize)]
struct TruthQuery {
    at: Option<NaiveDate>,
}

/// `GET /_sim/truth?at=YYYY-MM-DD`: what `flywheel sim truth` prints, for the
/// running world (default: today in the seller's time zone, by sim time).
async fn get_truth(State(state): State<AppState>, Query(q): Query<TruthQuery>) -> Response {
    let at = match q.at {
        Some(d) => d,
        None => match crate::cli::seller_today(&state.world, state.clock.now()) {
            Ok(d) => d,
            Err(e) => return errors::sp_internal(&e.to_string()),
        },
    };
    let world = state.world.clone();
    match tokio::task::spawn_blocking(move || crate::truth::truth(&world, at)).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => errors::sp_internal(&format!("truth failed: {e}")),
    }
}
