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
//! | [`kpis`] | the 12-KPI checklist (DESIGN §2.3): records, targets, status; the values come from the `kpi_*` views |
//! | [`logging`] | tracing set-up (journald-friendly) |
//! | [`rules`] | the flywheel health rules: pure `evaluate(config, snapshot, date) -> findings` |
//!
//! The simulated marketplace is its own crate, `sim/` (`flywheel-sim`),
//! which knows nothing of this one.

pub mod alert;
pub mod amazon;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod kpis;
pub mod logging;
pub mod rules;
pub mod store;
pub mod sync;
