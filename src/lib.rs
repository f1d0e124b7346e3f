//! # flywheel
//!
//! Watches an Amazon seller's growth flywheel: syncs the Selling Partner API
//! and the Ads API into SQLite, evaluates flywheel-health rules, and emails
//! the seller when a link breaks. See `README.md` and `../shared/DESIGN.md`.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the subcommands: parse, load config, call into the library, map errors to exit codes |
//! | [`config`] | the TOML schema, defaults, validation with key paths and lines, secrets |
//! | [`amazon`] | what Amazon defines: marketplaces, regions (later: LWA, HTTP, rate limits, SP-API, Ads) |
//! | [`store`] | the only place with SQL: connection, migrations (later: upserts, snapshots, outbox) |
//! | [`logging`] | tracing set-up (journald-friendly) |
//!
//! The simulated marketplace is its own crate, `sim/` (`flywheel-sim`),
//! which knows nothing of this one.

pub mod amazon;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod logging;
pub mod store;
pub mod sync;
