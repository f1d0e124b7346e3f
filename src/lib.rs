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
//! | [`cmd`] | the shell: every subcommand's arguments and `run`, [`cmd::open`] (a command's connection and its one `now`), exit codes |
//! | [`config`] | the TOML schema, defaults, validation with key paths and lines, secrets |
//! | [`amazon`] | what Amazon defines and how to call it: marketplaces, LWA, HTTP classification, rate limits, reports, Ads |
//! | [`store`] | the only place with SQL: connection, migrations, upserts, snapshots, alerts and the outbox |
//! | [`kpis`] | the 12-KPI checklist (DESIGN §2.3): records, targets, status; the values come from the `kpi_*` views |
//! | [`logging`] | tracing set-up (journald-friendly) |
//! | [`rules`] | the flywheel health rules: pure `evaluate(config, snapshot, date) -> findings`, each rule's metric defined once and the charts drawn from it |
//! | [`alert`] | alerts and email: state machine, inhibition, evaluation rounds, rendering, charts, digest, transports, outbox sender |
//! | [`chat`] | chat robots and webhooks: Slack, WeCom, DingTalk, Feishu/Lark messages and Alertmanager's webhook JSON from an alert's summary, signatures, one POST and what the platform answered, each platform's pace |
//! | [`daemon`] | `flywheel run`: schedules, evaluation after each sync round, digest, sender, retention, signals, lock, systemd notify, the optional Prometheus `/metrics` |
//! | [`doctor`] | the account checks: which roles the app has, which jobs run and which rules lack data |
//! | [`clock`] | the one clock (system or simulated), read by `cmd` and the daemon only |
//! | [`i18n`] | the words written to a person in their language (`en`, `zh-CN`): Fluent messages, number/money/date formats, evidence labels |
//! | [`model`] | plain values shared by the store and every layer above it: marketplaces, day boundaries, rule ids, snapshot, findings, alert rows, chart series, rendered messages |
//!
//! The simulated marketplace is its own crate, `sim/` (`flywheel-sim`),
//! which knows nothing of this one.

pub mod alert;
pub mod amazon;
pub mod chat;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod daemon;
pub mod doctor;
pub mod i18n;
pub mod kpis;
pub mod logging;
pub mod model;
pub mod rules;
pub mod store;
pub mod sync;
