//! What alert emails and the weekly digest say: subject, plain text and
//! HTML, plus the chart PNGs the HTML shows by Content-ID.
//!
//! Pure functions of the email model ([`AlertEmail`](super::AlertEmail),
//! [`DigestModel`]): no clock, no database, no I/O, so every property that
//! protects the reader is a unit test here:
//! - the subject is one line (control characters, CR and LF become spaces)
//!   and at most [`SUBJECT_MAX`] characters, so no header can be injected
//!   and mail clients show the whole problem list;
//! - every string that came from Amazon, the user's files or the config
//!   (account, ASINs, SKUs, search terms, titles, summaries, evidence) is
//!   HTML-escaped, and `://` is broken with a zero-width space so no
//!   client turns a seller-supplied URL into a link;
//! - the HTML is what mainstream clients render: tables for layout, inline
//!   styles only, no script, no external URL of any kind (images are
//!   attachments named by `cid:`), and under [`HTML_MAX`] bytes however many
//!   alerts a round produced (items beyond the budget are listed one line
//!   each, then counted), with the text part listing exactly the same.
//!
//! | module | owns |
//! |---|---|
//! | `alert_email` | an alert email: its subject, the order and grouping of its items, the size budget |
//! | `alert_item` | one alert in it: a few words for the subject, a text block and HTML card in full, or one line |
//! | `digest_email` | the weekly digest: its model ([`DigestModel`]) and how it reads |
//! | `chart` | trend-chart PNGs drawn in pure Rust, and the label and min/max/last printed beside them |
//! | [`layout`] | what both emails share: limits, words, escaping, the HTML frame |
//!
//! Arrows point down that table: `alert_email` uses `alert_item`; both
//! emails use `chart` and `layout`; `layout` uses none of them. Nothing
//! here imports the code that builds the models (`evaluate`, `digest`).

mod alert_email;
mod alert_item;
mod cards;
mod chart;
mod digest_email;
pub mod layout;

pub use alert_email::{alert_email, MAX_DETAILED};
pub use digest_email::{
    alive_line, digest, AlertLine, Alive, DigestModel, Improved, KpiLine, MarketplaceKpis,
    Unavailable,
};
pub use layout::{HTML_MAX, SUBJECT_MAX};

/// Values the tests of the emails share.
#[cfg(test)]
mod fixtures {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};

    use crate::alert::Series;

    pub(super) fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 11, 0, 0).unwrap()
    }

    pub(super) fn series(n: usize) -> Series {
        let d0 = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        Series {
            label: "units available".into(),
            points: (0..n)
                .map(|i| {
                    (
                        d0 + chrono::Duration::days(i as i64),
                        (i % 5 != 2).then_some(i as f64),
                    )
                })
                .collect(),
            threshold: None,
        }
    }
}
