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
use crate::world::{World, Worlds};

/// Everything a handler can reach. Cheap to clone (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    /// The synthetic seller, one world per marketplace it sells in; immutable once generated.
    /// Handlers pick the world of the request's marketplace ([`AppState::world_of`]) or Ads
    /// profile; seller-wide facts (credentials, seller id, account) come from any world,
    /// [`AppState::seller_world`].
    pub worlds: Worlds,
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
    /// Fresh state around the generated worlds.
    /// Takes the [`Worlds`] or, for a single-marketplace seller, its one `Arc<World>`.
    pub fn new(
        worlds: impl Into<Worlds>,
        clock: Arc<Clock>,
        faults: Faults,
        base_url: &str,
    ) -> AppState {
        AppState {
            worlds: worlds.into(),
            clock,
            limiter: Arc::new(RateLimiter::new()),
            faults: Arc::new(faults),
            tokens: Arc::new(TokenStore::new()),
            reports: Arc::new(ReportStore::default()),
            ads: Arc::new(AdsState::default()),
            base_url: base_url.trim_end_matches('/').into(),
        }
    }

    /// The world of the first market: seller-wide facts (account, seller id, credentials,
    /// region) are the same in every world.
    pub fn seller_world(&self) -> &Arc<World> {
        self.worlds.first()
    }

    /// The world of the Ads profile `profile_id` (an [`crate::auth::AdsCaller`] has one);
    /// the first market's for an unknown one.
    pub fn ads_world(&self, profile_id: i64) -> &Arc<World> {
        self.worlds
            .by_profile(profile_id)
            .unwrap_or_else(|| self.worlds.first())
    }

    /// This state with only the world of `marketplace_id` ([`AppState::world_of`]), for
    /// handlers whose helpers read [`AppState::seller_world`] after the marketplace is known.
    pub fn in_marketplace(&self, marketplace_id: &str) -> AppState {
        AppState {
            worlds: Worlds::single(self.world_of(marketplace_id).clone()),
            ..self.clone()
        }
    }

    /// Whether the seller sells in `marketplace_id`.
    pub fn sells_in(&self, marketplace_id: &str) -> bool {
        self.worlds.by_marketplace(marketplace_id).is_some()
    }

    /// The world of `marketplace_id`. A marketplace the seller does not sell in gets the
    /// first market's world, whose handlers then answer as they always have for a foreign
    /// marketplace (an empty result or the operation's documented error), so a
    /// single-marketplace seller is served exactly as before.
    pub fn world_of(&self, marketplace_id: &str) -> &Arc<World> {
        self.worlds
            .by_marketplace(marketplace_id)
            .unwrap_or_else(|| self.worlds.first())
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
/// running worlds (default: today in the seller's time zone, by sim time; the first
/// market's zone for a seller in several marketplaces).
async fn get_truth(State(state): State<AppState>, Query(q): Query<TruthQuery>) -> Response {
    let at = match q.at {
        Some(d) => d,
        None => match crate::cli::seller_today(state.seller_world(), state.clock.now()) {
            Ok(d) => d,
            Err(e) => return errors::sp_internal(&e.to_string()),
        },
    };
    let worlds = state.worlds.clone();
    match tokio::task::spawn_blocking(move || crate::truth::truth_of(&worlds, at)).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => errors::sp_internal(&format!("truth failed: {e}")),
    }
}
