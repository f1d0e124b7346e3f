//! A [`History`]: what the store holds about one alert's subject over the
//! days of its chart, in the shapes the rules read. `store::series` fills it
//! with range scans for that subject only; `rules::series` applies each
//! rule's metric (`rules::metrics`) to the window ending on each day.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::snapshot::{FeedbackRow, PlanningRow, Snapshot, StockRow};

/// One subject's stored data over a range of days.
#[derive(Debug, Clone)]
pub struct History {
    /// The subject's rows in snapshot shapes: its per-ASIN windows, the
    /// account's daily series, orders (the SKU's, or every SKU's sales for
    /// total sales), returns, ranks, review topics, search query weeks,
    /// ratings, fee estimate, costs and Ads days. `as_of` is the instant the
    /// finding was evaluated at (charts of point-in-time rules end there).
    pub snap: Snapshot,
    /// Marketplace day → the last stock observation of that day.
    pub stock: BTreeMap<NaiveDate, StockRow>,
    /// Marketplace day → the SKU's inventory planning row of that day.
    pub planning: BTreeMap<NaiveDate, PlanningRow>,
    /// The marketplace's seller feedback, with when each was seen, answered
    /// and acknowledged.
    pub feedback: Vec<FeedbackRecord>,
    /// The first successful seller feedback sync (before it the feedback
    /// is unknown); `None`: never.
    pub feedback_synced_from: Option<DateTime<Utc>>,
}

impl History {
    /// An empty history around an empty snapshot.
    pub fn new(snap: Snapshot) -> History {
        History {
            snap,
            stock: BTreeMap::new(),
            planning: BTreeMap::new(),
            feedback: Vec::new(),
            feedback_synced_from: None,
        }
    }
}

/// A seller feedback as stored, with the instants its state changed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRecord {
    pub order_id: String,
    pub date: NaiveDate,
    pub rating: u8,
    pub first_seen_at: DateTime<Utc>,
    /// Whether a (non-blank) response is stored.
    pub has_response: bool,
    /// When the response was first seen (`None` with a response: always).
    pub response_seen_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl FeedbackRecord {
    /// The feedback as the rules see it at `t`; `None` if not seen by then.
    pub fn as_of(&self, t: DateTime<Utc>) -> Option<FeedbackRow> {
        (self.first_seen_at <= t).then(|| FeedbackRow {
            order_id: self.order_id.clone(),
            date: self.date,
            rating: self.rating,
            comments: None,
            has_response: self.has_response && self.response_seen_at.is_none_or(|s| s <= t),
            acknowledged: self.acknowledged_at.is_some_and(|a| a <= t),
        })
    }
}
