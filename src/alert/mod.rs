//! Alerts (DESIGN §5): what turns findings into emails a seller can trust.
//!
//! | module | owns |
//! |---|---|
//! | [`state`] | the pure Alertmanager-style state machine per fingerprint (pending → firing → resolved, `for`, `keep`, repeats, acks, silences, quiet hours) |
//! | [`inhibit`] | pure inhibition: stale sources, out-of-stock ASINs, suppressed listings mute what derives from them |
//! | [`evaluate`] | one evaluation round: findings → state → grouped emails in the outbox, in one transaction |
//! | [`render`] | subject, text and HTML of alert emails and the digest (everything escaped), the digest's model, and the trend-chart PNGs drawn in pure Rust and attached by Content-ID |
//! | [`stake`] | the money at stake of an alert, from its evidence and the account's recent sales |
//! | [`series`] | an alert's trend chart: its subject's stored history with its rule's metric applied day by day |
//! | [`digest`] | the weekly digest: its model, built and queued at a given `now` |
//! | [`notify`] | the one trait, [`notify::Notifier`], and its transports (SMTP, sendmail, file) |
//! | [`sender`] | delivers due outbox rows with retries and capped backoff |
//! | [`route`] | which `[[receivers]]` hear of a notification, and when (batch) |
//! | [`chat_sender`] | delivers due chat and webhook rows per receiver: pace, throttles, retries |
//!
//! The SQL lives in `store::alerts` and `store::outbox`; the commands
//! (`evaluate`, `alerts`, `ack`, `silence`, `digest`, `send-test-email`) in
//! `cmd`.

pub mod chat_sender;
pub mod digest;
pub mod evaluate;
pub mod inhibit;
pub mod notify;
pub mod render;
pub mod route;
pub mod sender;
pub mod series;
pub mod stake;
pub mod state;

use chrono::{DateTime, Utc};

use crate::model::lang::Lang;
use crate::model::rule::{Link, Severity};

pub use crate::model::message::{Attachment, Rendered};
pub use crate::model::names::Names;
pub use crate::model::series::{subject_label, Item, ItemKind, Series, Stake};

/// The content of one alert email: one account, one evaluation round.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEmail {
    pub account: String,
    /// When the round ran (the configured clock).
    pub at: DateTime<Utc>,
    /// The config's `[daemon] timezone`, for times shown to the seller.
    pub timezone: chrono_tz::Tz,
    /// The account's language (`[alerts] language`, the account's own
    /// `language` first).
    pub lang: Lang,
    /// Critical first, then by link, rule and subject (the caller sorts).
    pub items: Vec<Item>,
    /// Every alert of the account firing after this round and not muted
    /// (silenced, acknowledged or inhibited), notified this round or not:
    /// the state of the flywheel's links the email opens with.
    pub open: Vec<(Link, Severity)>,
    /// What the email calls the account's products and campaigns.
    pub names: Names,
    /// How many marketplaces the account sells in: with several, every
    /// problem names its marketplace, even in an email about one of them
    /// (the same product sells in each).
    pub marketplaces: usize,
}
