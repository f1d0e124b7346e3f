//! Faults on demand (`--faults throttle=0.3,5xx,revoke`): the misbehaviour
//! of the real services, injected deterministically.
//!
//! Each fault is `name[=rate]`, rate in 0..=1 (the chance per opportunity),
//! with a per-fault default ([`Fault::default_rate`]). Decisions come from one
//! ChaCha RNG seeded from the sim's seed, so a single-threaded client sees the
//! same faults on every run.
//!
//! Who applies what:
//! - [`middleware`] (every route except `/_sim/*` and the LWA endpoint):
//!   `throttle` (429 in the API's shape before the handler runs, without
//!   consuming a rate-limit token), `5xx` (500/503), `slow` (the answer is held
//!   back [`SLOW_DELAY`] of wall time) and `truncate` (a 2xx body is cut in half;
//!   handlers that truncate their own streams, such as gzip documents, insert
//!   the [`Handled`] extension so the middleware leaves them alone). Paths
//!   under `/download/` (pre-signed document URLs, S3 in reality) get only
//!   `slow` and `truncate`.
//! - LWA ([`crate::lwa`]): `revoke` (the refresh token becomes `invalid_grant`)
//!   and `bad_client` (`invalid_client`). Both are sticky: once rolled, the
//!   credentials stay broken, as a revoked authorisation does.
//! - Report and Ads handlers query [`Faults::roll`] / [`Faults::is_on`] for
//!   `fatal`, `empty`, `ads_401`, `ads_425`, `ads_pending` and `realworld`.
//!
//! The set can be changed while the sim runs ([`routes`]):
//! `POST /_sim/faults?set=throttle=0.3,5xx` replaces it (`set=` turns every
//! fault off) and `GET /_sim/faults` shows it, both answering
//! `{"faults": "throttle=0.3,5xx=0.1"}`. Turning `revoke` or `bad_client` off
//! also mends the credentials they broke (the seller re-authorised), so a
//! fault matrix can check that a client recovers. The RNG is not reseeded.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::errors::{self, AdsShape};
use crate::server::AppState;

/// Every fault the sim can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// 429 storms on SP-API and Ads calls.
    Throttle,
    /// 500 / 503 answers.
    ServerError,
    /// Answers held back [`SLOW_DELAY`].
    Slow,
    /// Bodies and gzip streams cut short.
    Truncate,
    /// Reports end `FATAL`.
    Fatal,
    /// Report documents with no rows.
    Empty,
    /// The refresh token is revoked: `invalid_grant`.
    Revoke,
    /// The client id/secret are no longer valid: `invalid_client`.
    BadClient,
    /// Transient Ads 401 while polling a report; at rate 1 every poll is
    /// refused, as when the authorisation itself is the problem.
    Ads401,
    /// Ads report creation answers 425 naming a duplicate.
    Ads425,
    /// Ads reports stay PENDING for a long time.
    AdsPending,
    /// GET_V2_SELLER_PERFORMANCE_REPORT in the shape real accounts return
    /// (which fails Amazon's own schema).
    Realworld,
}

impl Fault {
    /// Every fault, in `--faults` documentation order.
    pub const ALL: [Fault; 12] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::Slow,
        Fault::Truncate,
        Fault::Fatal,
        Fault::Empty,
        Fault::Revoke,
        Fault::BadClient,
        Fault::Ads401,
        Fault::Ads425,
        Fault::AdsPending,
        Fault::Realworld,
    ];

    /// The `--faults` name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::ServerError => "5xx",
            Fault::Slow => "slow",
            Fault::Truncate => "truncate",
            Fault::Fatal => "fatal",
            Fault::Empty => "empty",
            Fault::Revoke => "revoke",
            Fault::BadClient => "bad_client",
            Fault::Ads401 => "ads_401",
            Fault::Ads425 => "ads_425",
            Fault::AdsPending => "ads_pending",
            Fault::Realworld => "realworld",
        }
    }

    /// The rate used when `--faults` names the fault without `=rate`.
    /// Per-request faults default low enough that retrying clients get
    /// through; per-object faults (a report, a credential) default to always.
    pub fn default_rate(self) -> f64 {
        match self {
            Fault::Throttle => 0.3,
            Fault::ServerError => 0.1,
            Fault::Slow => 0.2,
            Fault::Truncate => 0.1,
            Fault::Fatal => 0.5,
            Fault::Empty => 0.5,
            Fault::Revoke => 1.0,
            Fault::BadClient => 1.0,
            Fault::Ads401 => 0.3,
            Fault::Ads425 => 1.0,
            Fault::AdsPending => 1.0,
            Fault::Realworld => 1.0,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Fault, FaultError> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| FaultError::UnknownName(s.to_owned()))
    }
}

/// A bad `--faults` list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault `{0}`; known faults: throttle, 5xx, slow, truncate, fatal, empty, revoke, bad_client, ads_401, ads_425, ads_pending, realworld")]
    UnknownName(String),
    #[error("fault `{name}`: rate `{rate}` is not a number between 0 and 1")]
    BadRate { name: String, rate: String },
}

/// A parsed `--faults` list: fault → rate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSet(BTreeMap<Fault, f64>);

impl FaultSet {
    /// No faults.
    pub fn none() -> FaultSet {
        FaultSet::default()
    }

    /// Parse `name[=rate],...`; whitespace around items is ignored, an empty
    /// string is no faults.
    pub fn parse(list: &str) -> Result<FaultSet, FaultError> {
        let mut set = BTreeMap::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, rate) = match item.split_once('=') {
                Some((n, r)) => (n.trim(), Some(r.trim())),
                None => (item, None),
            };
            let fault: Fault = name.parse()?;
            let rate = match rate {
                None => fault.default_rate(),
                Some(r) => match r.parse::<f64>() {
                    Ok(v) if (0.0..=1.0).contains(&v) => v,
                    _ => {
                        return Err(FaultError::BadRate {
                            name: name.to_owned(),
                            rate: r.to_owned(),
                        })
                    }
                },
            };
            set.insert(fault, rate);
        }
        Ok(FaultSet(set))
    }

    /// Add one fault at a rate (for tests and embedders).
    pub fn with(mut self, fault: Fault, rate: f64) -> FaultSet {
        self.0.insert(fault, rate.clamp(0.0, 1.0));
        self
    }

    /// The configured rate of a fault, if it is on.
    pub fn rate(&self, fault: Fault) -> Option<f64> {
        self.0.get(&fault).copied()
    }

    /// True when no fault is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for FaultSet {
    type Err = FaultError;
    fn from_str(s: &str) -> Result<FaultSet, FaultError> {
        FaultSet::parse(s)
    }
}

impl fmt::Display for FaultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&items.join(","))
    }
}

/// The running sim's faults: the set (replaceable at run time through
/// `POST /_sim/faults`) plus the seeded RNG that decides.
#[derive(Debug)]
pub struct Faults {
    set: Mutex<FaultSet>,
    rng: Mutex<ChaCha8Rng>,
}

/// How long `slow` holds an answer back (wall time, so client timeouts fire).
pub const SLOW_DELAY: Duration = Duration::from_secs(3);

impl Faults {
    /// Faults decided by an RNG derived from the sim's seed.
    pub fn new(set: FaultSet, seed: u64) -> Faults {
        // A distinct stream from the world's generator, which uses the seed too.
        let rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6661_756c_7473_2121);
        Faults {
            set: Mutex::new(set),
            rng: Mutex::new(rng),
        }
    }

    /// No faults.
    pub fn none() -> Faults {
        Faults::new(FaultSet::none(), 0)
    }

    fn lock_set(&self) -> std::sync::MutexGuard<'_, FaultSet> {
        self.set.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the fault is configured at all (with any rate > 0).
    pub fn is_on(&self, fault: Fault) -> bool {
        self.rate(fault).is_some_and(|r| r > 0.0)
    }

    /// The configured rate, if on.
    pub fn rate(&self, fault: Fault) -> Option<f64> {
        self.lock_set().rate(fault)
    }

    /// True when no fault is configured.
    pub fn is_empty(&self) -> bool {
        self.lock_set().is_empty()
    }

    /// Decide one opportunity: true with the fault's rate, false when off.
    /// Consumes a random draw only when the fault is on, so turning one fault
    /// on does not change the decisions of an unrelated code path.
    pub fn roll(&self, fault: Fault) -> bool {
        match self.rate(fault) {
            None => false,
            Some(r) if r >= 1.0 => true,
            Some(r) if r <= 0.0 => false,
            Some(r) => {
                let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
                rng.random::<f64>() < r
            }
        }
    }

    /// A seeded choice among `n` variants of a fault (e.g. 500 or 503);
    /// 0 when `n` is 0.
    pub fn pick(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.random_range(0..n)
    }

    /// The configured set (a copy: it can change at run time).
    pub fn set(&self) -> FaultSet {
        self.lock_set().clone()
    }

    /// Replace the configured set (`POST /_sim/faults`).
    pub fn replace(&self, set: FaultSet) {
        *self.lock_set() = set;
    }
}

/// `GET /_sim/faults` and `POST /_sim/faults?set=LIST` (see the module docs).
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/_sim/faults",
        axum::routing::get(get_faults).post(post_faults),
    )
}

#[derive(serde::Deserialize)]
struct SetQuery {
    set: Option<String>,
}

fn faults_json(state: &AppState) -> Response {
    use axum::response::IntoResponse;
    axum::Json(serde_json::json!({ "faults": state.faults.set().to_string() })).into_response()
}

async fn get_faults(State(state): State<AppState>) -> Response {
    faults_json(&state)
}

async fn post_faults(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<SetQuery>,
) -> Response {
    use axum::response::IntoResponse;
    let set = match FaultSet::parse(q.set.as_deref().unwrap_or("")) {
        Ok(s) => s,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response()
        }
    };
    tracing::info!(faults = %set, "faults replaced");
    state.tokens.mend(&set);
    state.faults.replace(set);
    faults_json(&state)
}

/// Response extension: the handler applied (or deliberately skipped) faults
/// to its own body; the generic middleware must not truncate it again.
#[derive(Debug, Clone, Copy)]
pub struct Handled;

/// Which family of endpoint a path belongs to, for choosing fault behaviour
/// and error shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/_sim/*`: control endpoints, never faulted.
    Sim,
    /// `/auth/o2/token`: LWA applies its own faults.
    Lwa,
    /// `/download/*`: pre-signed document URLs.
    Download,
    /// Ads API paths, with their error shape.
    Ads(AdsShape),
    /// Everything else is the SP-API.
    SpApi,
}

/// Classify a request path.
pub fn family(path: &str) -> Family {
    if path.starts_with("/_sim/") || path == "/_sim" {
        Family::Sim
    } else if path.starts_with("/auth/") {
        Family::Lwa
    } else if path.starts_with("/download/") {
        Family::Download
    } else if path.starts_with("/v2/profiles")
        || path.starts_with("/reporting/")
        || path.starts_with("/sp/")
    {
        Family::Ads(AdsShape::for_path(path))
    } else {
        Family::SpApi
    }
}

/// Largest body the truncate fault buffers; bigger bodies pass untouched.
const TRUNCATE_MAX: usize = 64 << 20;

/// The generic fault layer (see the module docs).
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let faults = &state.faults;
    if faults.is_empty() {
        return next.run(req).await;
    }
    let fam = family(req.uri().path());
    if matches!(fam, Family::Sim | Family::Lwa) {
        return next.run(req).await;
    }
    if fam != Family::Download {
        if faults.roll(Fault::Throttle) {
            tracing::debug!(path = %req.uri().path(), "fault: throttle");
            return match fam {
                Family::Ads(shape) => errors::ads_throttled(shape, 1),
                _ => errors::quota_exceeded(),
            };
        }
        if faults.roll(Fault::ServerError) {
            tracing::debug!(path = %req.uri().path(), "fault: 5xx");
            let unavailable = faults.pick(2) == 1;
            return match (fam, unavailable) {
                (Family::Ads(shape), _) => errors::ads(
                    shape,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "Something went wrong on the server. Retry later.",
                ),
                (_, true) => errors::sp_unavailable(),
                (_, false) => {
                    errors::sp_internal("We encountered an internal error. Please try again.")
                }
            };
        }
    }
    let slow = faults.roll(Fault::Slow);
    let resp = next.run(req).await;
    if slow {
        tokio::time::sleep(SLOW_DELAY).await;
    }
    if resp.status().is_success()
        && resp.extensions().get::<Handled>().is_none()
        && faults.roll(Fault::Truncate)
    {
        return truncate(resp).await;
    }
    resp
}

/// Cut a response body in half (Content-Length follows the cut body, so the
/// client sees a well-framed but broken document).
async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    match axum::body::to_bytes(body, TRUNCATE_MAX).await {
        Ok(bytes) => {
            let cut = bytes.slice(..bytes.len() / 2);
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            tracing::debug!(from = bytes.len(), to = cut.len(), "fault: truncate");
            Response::from_parts(parts, Body::from(cut))
        }
        Err(_) => Response::from_parts(parts, Body::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_rates() {
        let s = FaultSet::parse("throttle=0.5, 5xx ,revoke").unwrap();
        assert_eq!(s.rate(Fault::Throttle), Some(0.5));
        assert_eq!(s.rate(Fault::ServerError), Some(0.1));
        assert_eq!(s.rate(Fault::Revoke), Some(1.0));
        assert_eq!(s.rate(Fault::Slow), None);
        assert!(FaultSet::parse("").unwrap().is_empty());
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>().unwrap(), f);
        }
    }

    #[test]
    fn rejects_unknown_names_and_bad_rates() {
        let e = FaultSet::parse("throttle,bogus").unwrap_err();
        assert_eq!(e, FaultError::UnknownName("bogus".into()));
        assert!(e.to_string().contains("known faults: throttle"));
        assert!(matches!(
            FaultSet::parse("slow=2"),
            Err(FaultError::BadRate { .. })
        ));
        assert!(matches!(
            FaultSet::parse("slow=x"),
            Err(FaultError::BadRate { .. })
        ));
    }

    #[test]
    fn rolls_are_deterministic_per_seed() {
        let set = FaultSet::parse("throttle=0.5").unwrap();
        let draw = |seed| {
            let f = Faults::new(set.clone(), seed);
            (0..64).map(|_| f.roll(Fault::Throttle)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let hits = draw(7).into_iter().filter(|h| *h).count();
        assert!((16..=48).contains(&hits), "{hits} of 64 at rate 0.5");
    }

    #[test]
    fn off_and_certain_faults() {
        let f = Faults::new(FaultSet::none().with(Fault::Fatal, 1.0), 1);
        assert!(f.is_on(Fault::Fatal));
        assert!(f.roll(Fault::Fatal));
        assert!(!f.is_on(Fault::Empty));
        assert!(!f.roll(Fault::Empty));
    }

    #[test]
    fn the_set_can_be_replaced_at_run_time() {
        let f = Faults::new(FaultSet::parse("throttle=1").unwrap(), 1);
        assert!(f.roll(Fault::Throttle));
        f.replace(FaultSet::parse("fatal").unwrap());
        assert!(!f.roll(Fault::Throttle));
        assert_eq!(f.set().to_string(), "fatal=0.5");
        f.replace(FaultSet::none());
        assert!(f.is_empty());
    }

    #[test]
    fn families() {
        assert_eq!(family("/_sim/now"), Family::Sim);
        assert_eq!(family("/auth/o2/token"), Family::Lwa);
        assert_eq!(family("/download/abc"), Family::Download);
        assert_eq!(
            family("/reporting/reports"),
            Family::Ads(AdsShape::Reporting)
        );
        assert_eq!(
            family("/sp/campaigns/list"),
            Family::Ads(AdsShape::SponsoredProducts)
        );
        assert_eq!(family("/v2/profiles"), Family::Ads(AdsShape::Generic));
        assert_eq!(
            family("/sellers/v1/marketplaceParticipations"),
            Family::SpApi
        );
    }
}
