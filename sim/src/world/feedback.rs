//! Seller feedback: which orders get a rating, when, with what comment and whether the seller
//! answered, plus the scenario's hand-written entries. Negative feedback follows the account's
//! negative rate (and its events), so the feedback report and account health agree.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::orders::OrderPlan;
use super::rng::{hash, Rng};
use super::{World, TAG_FEEDBACK};

/// One seller feedback, as seen at a moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Feedback {
    /// The report's Date column (marketplace day).
    pub date: NaiveDate,
    pub left_at: DateTime<Utc>,
    pub rating: u8,
    pub comments: String,
    /// Empty when unanswered at `now`.
    pub response: String,
    pub responded_at: Option<DateTime<Utc>>,
    pub order_id: String,
    pub rater_email: String,
    pub sku: String,
}

/// The seller feedback planned for an order, if any.
#[derive(Debug, Clone)]
struct FeedbackPlan {
    left_at: DateTime<Utc>,
    rating: u8,
    responded_at: Option<DateTime<Utc>>,
}

const NEG_COMMENTS: &[&str] = &[
    "Item arrived damaged and seller did not reply.",
    "Not as described. Disappointed.",
    "Package arrived late, box crushed.",
    "Wrong color sent.",
    "Stopped working after a week.",
];
const NEUTRAL_COMMENTS: &[&str] = &[
    "OK product, slow shipping.",
    "Fine but packaging was poor.",
    "Average.",
];
const POS_COMMENTS: &[&str] = &[
    "Great seller, fast shipping!",
    "Exactly as described.",
    "Would buy again.",
];
const RESPONSE: &str =
    "We're sorry about your experience. We have contacted you by message to make it right.";

/// Days from purchase to the latest feedback.
const FEEDBACK_LOOKBACK: i32 = 14;

impl World {
    fn feedback_of(&self, plan: &OrderPlan) -> Option<FeedbackPlan> {
        let shipped = plan.shipped?;
        let fb = &self.scenario.feedback;
        let acct = self.account_params(plan.rel);
        let p_fb = fb
            .feedback_rate
            .max(acct.negative_rate + fb.neutral_rate + 0.005);
        let mut r = Rng::new(&[self.seed, TAG_FEEDBACK, plan.code]);
        if !r.chance(p_fb) {
            return None;
        }
        let x = r.f64() * p_fb;
        let rating = if x < acct.negative_rate {
            if r.chance(0.55) {
                1
            } else {
                2
            }
        } else if x < acct.negative_rate + fb.neutral_rate {
            3
        } else if r.chance(0.8) {
            5
        } else {
            4
        };
        let left_at = shipped + Duration::hours(20 + r.below(24 * 6) as i64);
        // Background answers come the same marketplace day, so a complete day never leaves
        // an accidental SLA breach behind.
        let responded_at = (rating <= 3 && r.chance(fb.response_rate)).then(|| {
            let end = self.day_start(self.day_of(left_at) + Duration::days(1));
            let gap = (end - left_at).num_seconds().max(2);
            left_at + Duration::seconds((gap as f64 * (0.2 + 0.7 * r.f64())) as i64)
        });
        Some(FeedbackPlan {
            left_at,
            rating,
            responded_at,
        })
    }

    /// Every seller feedback (all ratings) dated `start..=end`, left by `now`, by time.
    pub fn all_feedback(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<Feedback> {
        let (from, to) = self.rel_range(start, end);
        let mut out = Vec::new();
        let show = |left_at: DateTime<Utc>| {
            let d = self.rel(self.day_of(left_at));
            left_at <= now && d >= from && d < to
        };
        for (j, p) in self.scenario.products.iter().enumerate() {
            let (_, plans) = self.sku_plans(j, from - FEEDBACK_LOOKBACK, to);
            for plan in &plans {
                let Some(fb) = self.feedback_of(plan) else {
                    continue;
                };
                if !show(fb.left_at) {
                    continue;
                }
                let mut r = Rng::new(&[self.seed, TAG_FEEDBACK, plan.code, 0x3]);
                let comments = match fb.rating {
                    1 | 2 => NEG_COMMENTS[r.below(NEG_COMMENTS.len() as u64) as usize],
                    3 => NEUTRAL_COMMENTS[r.below(NEUTRAL_COMMENTS.len() as u64) as usize],
                    _ => POS_COMMENTS[r.below(POS_COMMENTS.len() as u64) as usize],
                };
                let responded = fb.responded_at.filter(|t| *t <= now);
                out.push(Feedback {
                    date: self.day_of(fb.left_at),
                    left_at: fb.left_at,
                    rating: fb.rating,
                    comments: comments.into(),
                    response: if responded.is_some() {
                        RESPONSE.into()
                    } else {
                        String::new()
                    },
                    responded_at: responded,
                    order_id: self.format_order_id(plan.code),
                    rater_email: format!(
                        "{:016x}@marketplace.amazon.com",
                        hash(&[self.seed, plan.code, 0x4])
                    ),
                    sku: p.sku.clone(),
                });
            }
        }
        for (i, e) in self.scenario.feedback.entries.iter().enumerate() {
            let date = self.date(e.day);
            let left_at = self.day_start(date) + Duration::minutes(9 * 60 + 37 * i as i64);
            if !show(left_at) {
                continue;
            }
            let j = e.sku.as_deref().and_then(|s| self.sku_idx(s)).unwrap_or(0);
            let Some(p) = self.scenario.products.get(j) else {
                continue;
            };
            let order_id = self
                .core(j, e.day - 3)
                .and_then(|c| self.plans(j, &c).into_iter().find(|x| !x.is_canceled()))
                .map(|x| self.format_order_id(x.code))
                .unwrap_or_else(|| self.format_order_id(self.order_code(e.day - 3, j, 9_999)));
            let responded = (!e.response.is_empty())
                .then(|| left_at + Duration::hours(3))
                .filter(|t| *t <= now);
            out.push(Feedback {
                date,
                left_at,
                rating: e.rating,
                comments: e.comments.clone(),
                response: if responded.is_some() {
                    e.response.clone()
                } else {
                    String::new()
                },
                responded_at: responded,
                order_id,
                rater_email: format!(
                    "{:016x}@marketplace.amazon.com",
                    hash(&[self.seed, i as u64, 0x5])
                ),
                sku: p.sku.clone(),
            });
        }
        out.sort_by(|a, b| (a.left_at, &a.order_id).cmp(&(b.left_at, &b.order_id)));
        out
    }

    /// GET_SELLER_FEEDBACK_DATA: 1–3 star feedback dated `start..=end`, as seen at `now`.
    pub fn seller_feedback(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        now: DateTime<Utc>,
    ) -> Vec<Feedback> {
        self.all_feedback(start, end, now)
            .into_iter()
            .filter(|f| f.rating <= 3)
            .collect()
    }
}
