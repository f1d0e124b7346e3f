//! flywheel-sim: a simulated Amazon marketplace (SP-API, Ads API and the LWA
//! token endpoint) for flywheel's tests, demo and benchmarks (DESIGN §4).
//!
//! It is written from Amazon's models in `shared/amazon/`, never from
//! flywheel's types: this crate must not depend on the flywheel library, so a
//! misreading of the API on the client side cannot hide behind shared code.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | `flywheel sim ...` arguments, [`cli::run`], and [`cli::spawn`] for in-process use |
//! | [`server`] | [`server::AppState`], router assembly, request ids, tracing, 404s |
//! | [`clock`] | sim time (`--now`, `--speed`, `/_sim/now`, `/_sim/advance`) |
//! | [`ratelimit`] | documented usage plans, token buckets on sim time, 429 `QuotaExceeded` |
//! | [`faults`] | `--faults` parsing, seeded decisions, the generic fault layer |
//! | [`lwa`] | `/auth/o2/token`, the consent page, issued tokens |
//! | [`auth`] | SP-API `x-amz-access-token` and Ads header checks (extractors) |
//! | [`errors`] | Amazon's error bodies (SP-API, LWA, Ads) |
//! | [`marketplaces`] | marketplace ids, names, domains, zones, regions |
//! | [`spapi`] | SP-API operations, one file per API (the pattern is documented there) |
//! | [`reports`] | SP-API Reports: lifecycle, documents, downloads |
//! | [`ads`] | Ads API: profiles, reporting v3, SP campaigns |
//! | [`scenario`] | the scenario TOML |
//! | [`world`] | the deterministic synthetic seller generated from a scenario and a seed |
//! | [`truth`] | `flywheel sim truth`: every KPI and the expected findings as of a date |
//! | [`write_config`] | `--write-config`: a flywheel config wired to a running sim |
//!
//! A request flows: [`server`] (trace, request id) → [`faults`] layer → route →
//! [`auth`] extractor → [`ratelimit::limit`] → world query → response with the
//! rate header.

// Handlers and their helpers return `Result<_, Response>`: the error arm is
// the finished Amazon-shaped answer (axum's rejection pattern). A `Response`
// is large, but boxing every early return would only add noise.
#![allow(clippy::result_large_err)]

pub mod ads;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod errors;
pub mod faults;
pub mod lwa;
pub mod marketplaces;
pub mod ratelimit;
pub mod reports;
pub mod scenario;
pub mod server;
pub mod spapi;
pub mod truth;
pub mod world;
pub mod write_config;

pub use cli::{run, spawn, RunningSim, SimCommand, SimOptions};
