//! What alert emails and the weekly digest say (DESIGN §5.1): subject,
//! plain text and HTML, in the account's language, plus the chart PNGs the
//! HTML shows by Content-ID.
//!
//! Pure functions of the email model ([`AlertEmail`](super::AlertEmail),
//! [`DigestModel`]): no clock, no database, no I/O, so every property that
//! protects or serves the reader is a unit test here:
//! - summary first: the flywheel's links with their state, then "Do
//!   first" (at most five actions, critical first, then by the share of
//!   sales at stake), then one card per subject;
//! - every word a person reads comes from `i18n` (en, zh-CN); Amazon's
//!   and the seller's text is placed as written;
//! - the subject is one line (control characters, CR and LF become spaces)
//!   and at most [`SUBJECT_MAX`] characters, so no header can be injected;
//! - every string that came from Amazon, the user's files or the config is
//!   HTML-escaped, and `://` in it is broken with a zero-width space so no
//!   client turns a seller-supplied URL into a link; the only links are
//!   the `https` URLs `model::links` builds to Amazon's own hosts;
//! - the HTML is what mainstream clients render: a fluid single column
//!   (no fixed width over 320 px, long words wrap), inline styles only,
//!   light and dark colour schemes declared, no script, no external URL
//!   for anything loaded (images are attachments named by `cid:`, drawn
//!   at twice their CSS size), and under [`HTML_MAX`] bytes however many
//!   alerts a round produced, with the text part saying the same.
//!
//! | module | owns |
//! |---|---|
//! | `alert_email` | an alert email: subject, strip, Do first, cards by marketplace and link, one-line repeats and resolutions, the size budget |
//! | `cards` | the findings grouped one card per subject, each card's name, ids and links, urgency and the Do-first ranking |
//! | `alert_item` | one finding in a card: its phrase, evidence rows, chart words, growth_stall's diagnosis sentence, its action |
//! | `check_text` | `flywheel check`'s table in the reader's language, each finding in the email's words |
//! | `digest_email` | the weekly digest: its model ([`DigestModel`]) and how it reads |
//! | `summary` | what a short message (a chat robot's, a webhook's) says of an alert email: [`Summary`], plain strings and links, laid out by `crate::chat` |
//! | `chart` | trend-chart PNGs drawn in pure Rust, and the HTML around them (axis ends, dates, threshold, current point) |
//! | [`layout`] | what both emails share: limits, escaping, links, times, the strip, the HTML frame |
//!
//! Arrows point down that table: `alert_email` uses `cards` and
//! `alert_item`; the digest uses `cards` and `alert_email`'s Do-first
//! list; all use `chart` and `layout`; `layout` uses none of them. Nothing
//! here imports the code that builds the models (`evaluate`, `digest`).

mod alert_email;
mod alert_item;
mod cards;
mod chart;
mod check_text;
mod digest_email;
pub mod layout;
mod summary;

pub use alert_email::{alert_email, MAX_DETAILED};
pub use cards::Place;
pub use check_text::check_table;
pub use digest_email::{
    alive_line, digest, AlertLine, Alive, DigestModel, Improved, KpiLine, KpiTarget,
    MarketplaceKpis, SubjectsNote, Unavailable,
};
pub use layout::{HTML_MAX, SUBJECT_MAX};
pub use summary::{summary, Action, Line, LinkState, Section, Summary, Tone};

/// Values the tests of the messages share.
#[cfg(test)]
pub(crate) mod fixtures;
