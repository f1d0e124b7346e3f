//! Sim time: the one clock every behaviour of the marketplace runs on.
//!
//! `now = start + speed × wall time elapsed + sum of advances` (DESIGN §4).
//! `--speed 0` freezes time except for explicit `POST /_sim/advance` jumps,
//! which is what deterministic tests use. Rate-limit refill, report latency,
//! URL and pagination-token expiry all read [`Clock::now`]; nothing in the sim
//! may read the system clock for those.
//!
//! LWA access tokens and authorization codes are the exception: they age on
//! [`Clock::credential_now`], wall time plus advances. A client times
//! `expires_in` on its own clock, so a token that died on sim time broke an
//! unmodified client at `--speed 100` after 36 wall seconds while it still
//! believed the token good for an hour. A client that times tokens on sim time
//! (flywheel following the sim) only refreshes sooner than it must.
//!
//! The formula is the pure function [`sim_time`], so it is tested with
//! explicit inputs; [`Clock`] only adds the wall-clock reading and a lock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::server::AppState;

/// Sim time for the given inputs. `speed` must be finite and ≥ 0.
pub fn sim_time(
    start: DateTime<Utc>,
    speed: f64,
    wall_elapsed: Duration,
    advanced: chrono::Duration,
) -> DateTime<Utc> {
    let scaled_ms = (wall_elapsed.as_secs_f64() * speed * 1000.0).round();
    // Saturate instead of overflowing: a century of sim time is plenty.
    let scaled_ms = scaled_ms.min(3.2e12) as i64;
    start + chrono::Duration::milliseconds(scaled_ms) + advanced
}

/// The sim's clock; shared by every handler through `AppState`.
#[derive(Debug)]
pub struct Clock {
    start: DateTime<Utc>,
    wall_start: Instant,
    speed: f64,
    advanced: Mutex<chrono::Duration>,
}

impl Clock {
    /// A clock reading `start` now and running `speed` times faster than the
    /// wall clock. Negative or non-finite speeds are treated as 0 (frozen).
    pub fn new(start: DateTime<Utc>, speed: f64) -> Clock {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            0.0
        };
        Clock {
            start,
            wall_start: Instant::now(),
            speed,
            advanced: Mutex::new(chrono::Duration::zero()),
        }
    }

    /// The current sim time.
    pub fn now(&self) -> DateTime<Utc> {
        let advanced = *self.advanced.lock().unwrap_or_else(|e| e.into_inner());
        sim_time(self.start, self.speed, self.wall_start.elapsed(), advanced)
    }

    /// The time credentials (access tokens, authorization codes) age on:
    /// `start + wall time elapsed + sum of advances`, i.e. sim time at speed
    /// 1 whatever `--speed` is. A token lives its stated `expires_in` in wall
    /// time, as the client that times it believes, and an advance still ages
    /// it, so a test can jump past a token's life (see the module docs).
    pub fn credential_now(&self) -> DateTime<Utc> {
        let advanced = *self.advanced.lock().unwrap_or_else(|e| e.into_inner());
        sim_time(self.start, 1.0, self.wall_start.elapsed(), advanced)
    }

    /// Jump forward by `by` and return the new sim time.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        {
            let mut advanced = self.advanced.lock().unwrap_or_else(|e| e.into_inner());
            *advanced = advanced.checked_add(&by).unwrap_or(*advanced);
        }
        self.now()
    }

    /// The speed factor (0 = frozen).
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The sim time the clock started from (`--now`).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// How much wall time a span of sim time takes at this speed; `None` when
    /// frozen (only `/_sim/advance` moves time then). For handlers that want to
    /// sleep until something is due.
    pub fn wall_for(&self, sim: chrono::Duration) -> Option<Duration> {
        if self.speed == 0.0 {
            return None;
        }
        let secs = sim.num_milliseconds().max(0) as f64 / 1000.0 / self.speed;
        Some(Duration::from_secs_f64(secs))
    }
}

/// RFC 3339 with second precision and `Z`, the form Amazon's APIs use.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `GET /_sim/now` and `POST /_sim/advance?by=DURATION`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sim/now", get(get_now))
        .route("/_sim/advance", post(post_advance))
}

/// `{"now": RFC3339, "speed": F}`: `speed` lets a client that follows sim
/// time pace its own waits (rate limits, polling) in sim seconds too.
async fn get_now(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "now": rfc3339(state.clock.now()), "speed": state.clock.speed() }))
}

#[derive(Deserialize)]
struct AdvanceQuery {
    by: Option<String>,
}

async fn post_advance(State(state): State<AppState>, Query(q): Query<AdvanceQuery>) -> Response {
    let Some(by) = q.by else {
        return bad_request("missing query parameter `by` (a duration such as 24h or 7d)");
    };
    match humantime::parse_duration(&by) {
        Ok(d) => {
            let now = state.clock.advance(d);
            tracing::info!(by = %by, now = %rfc3339(now), "sim clock advanced");
            Json(json!({ "now": rfc3339(now) })).into_response()
        }
        Err(e) => bad_request(&format!("bad duration `{by}`: {e}")),
    }
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn formula() {
        let zero = chrono::Duration::zero();
        assert_eq!(
            sim_time(t0(), 1.0, Duration::from_secs(10), zero),
            t0() + chrono::Duration::seconds(10)
        );
        assert_eq!(
            sim_time(t0(), 60.0, Duration::from_secs(10), zero),
            t0() + chrono::Duration::minutes(10)
        );
        assert_eq!(sim_time(t0(), 0.0, Duration::from_secs(1000), zero), t0());
        assert_eq!(
            sim_time(
                t0(),
                0.0,
                Duration::from_secs(1000),
                chrono::Duration::days(1)
            ),
            t0() + chrono::Duration::days(1)
        );
    }

    #[test]
    fn frozen_clock_moves_only_by_advance() {
        let c = Clock::new(t0(), 0.0);
        assert_eq!(c.now(), t0());
        assert_eq!(
            c.advance(Duration::from_secs(3600)),
            t0() + chrono::Duration::hours(1)
        );
        assert_eq!(c.now(), t0() + chrono::Duration::hours(1));
        assert_eq!(c.wall_for(chrono::Duration::seconds(5)), None);
        assert_eq!(rfc3339(t0()), "2026-03-01T12:00:00Z");
    }

    #[test]
    fn negative_speed_freezes() {
        let c = Clock::new(t0(), -3.0);
        assert_eq!(c.speed(), 0.0);
        let c = Clock::new(t0(), 4.0);
        assert_eq!(
            c.wall_for(chrono::Duration::seconds(8)),
            Some(Duration::from_secs(2))
        );
    }
}
