//! What customers say about the products: star ratings (ratings.csv) and the Customer
//! Feedback API's review topics of an ASIN or browse node, with their monthly trends.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::World;

/// A review topic of an ASIN or a browse node.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReviewTopicInfo {
    pub topic: String,
    /// "positive" | "negative"
    pub sentiment: String,
    pub mentions: u32,
    /// Percent of reviews mentioning the topic.
    pub occurrence_pct: f64,
    pub star_rating_impact: f64,
    /// The same topic's occurrence percent in the ASIN's browse node, if known.
    pub browse_node_occurrence_pct: Option<f64>,
    /// Subtopics with their mentions.
    pub subtopics: Vec<(String, u32)>,
}

/// Monthly occurrence of a topic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopicTrend {
    pub topic: String,
    pub sentiment: String,
    pub month_start: NaiveDate,
    pub occurrence_pct: f64,
}

/// An ASIN's browse node.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrowseNodeInfo {
    pub asin: String,
    pub browse_node_id: String,
    pub browse_node_name: String,
}

/// A ratings.csv row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RatingRow {
    pub asin: String,
    pub rating: f64,
    pub count: u32,
    pub date: NaiveDate,
}

impl World {
    /// Occurrence percent of a topic in month offset `k` from day 0's month (k ≤ 0).
    fn topic_share(t: &crate::scenario::ReviewTopic, k: i32) -> f64 {
        let then = t.share_3m_ago.unwrap_or(t.share);
        let v = if k >= 0 {
            t.share
        } else if k <= -3 {
            then
        } else {
            then + (t.share - then) * (k + 3) as f64 / 3.0
        };
        (v * 10.0).round() / 10.0
    }

    fn node_topics(&self, node_id: &str) -> Vec<crate::scenario::ReviewTopic> {
        if let Some(n) = self.scenario.browse_nodes.iter().find(|n| n.id == node_id) {
            return n.topics.clone();
        }
        // Default: the node looks like the average of our products in it.
        let mut acc: Vec<(crate::scenario::ReviewTopic, f64)> = Vec::new();
        let members: Vec<_> = self
            .scenario
            .products
            .iter()
            .filter(|p| p.browse_node_id == node_id)
            .collect();
        for p in &members {
            for t in &p.review_topics {
                match acc.iter_mut().find(|(x, _)| x.topic == t.topic) {
                    Some((_, s)) => *s += t.share_3m_ago.unwrap_or(t.share),
                    None => acc.push((t.clone(), t.share_3m_ago.unwrap_or(t.share))),
                }
            }
        }
        acc.into_iter()
            .map(|(mut t, s)| {
                t.share = (s / members.len().max(1) as f64 * 10.0).round() / 10.0;
                t.share_3m_ago = None;
                t
            })
            .collect()
    }

    /// An ASIN's review topics (positive and negative) at `now`; None for an unknown ASIN,
    /// empty when the scenario gives it no topics (the API's 204).
    pub fn review_topics(&self, asin: &str, now: DateTime<Utc>) -> Option<Vec<ReviewTopicInfo>> {
        let j = self.asin_idx(asin)?;
        let p = &self.scenario.products[j];
        let k = self.month_offset(self.day_of(now));
        let node = self.node_topics(&p.browse_node_id);
        Some(
            p.review_topics
                .iter()
                .map(|t| {
                    let share = Self::topic_share(t, k);
                    let mentions = (share / 100.0 * p.reviews as f64).round() as u32;
                    let impact = t.star_impact.unwrap_or(if t.sentiment == "negative" {
                        -share / 100.0
                    } else {
                        share / 200.0
                    });
                    ReviewTopicInfo {
                        topic: t.topic.clone(),
                        sentiment: t.sentiment.clone(),
                        mentions,
                        occurrence_pct: share,
                        star_rating_impact: (impact * 100.0).round() / 100.0,
                        browse_node_occurrence_pct: node
                            .iter()
                            .find(|n| n.topic == t.topic)
                            .map(|n| n.share),
                        subtopics: t
                            .subtopics
                            .iter()
                            .enumerate()
                            .map(|(i, s)| (s.clone(), mentions / (i as u32 + 2)))
                            .collect(),
                    }
                })
                .collect(),
        )
    }

    /// Monthly trend (the 6 months up to `now`'s month) of each topic of an ASIN.
    pub fn review_trends(&self, asin: &str, now: DateTime<Utc>) -> Option<Vec<TopicTrend>> {
        let j = self.asin_idx(asin)?;
        let p = &self.scenario.products[j];
        let today = self.day_of(now);
        let k0 = self.month_offset(today);
        let mut out = Vec::new();
        for t in &p.review_topics {
            for m in (0..6).rev() {
                let month = add_months(first_of_month(today), -m);
                out.push(TopicTrend {
                    topic: t.topic.clone(),
                    sentiment: t.sentiment.clone(),
                    month_start: month,
                    occurrence_pct: Self::topic_share(t, k0 - m),
                });
            }
        }
        Some(out)
    }

    /// The browse node of an ASIN.
    pub fn item_browse_node(&self, asin: &str) -> Option<BrowseNodeInfo> {
        let p = &self.scenario.products[self.asin_idx(asin)?];
        Some(BrowseNodeInfo {
            asin: p.asin.clone(),
            browse_node_id: p.browse_node_id.clone(),
            browse_node_name: p.browse_node_name.clone(),
        })
    }

    /// Review topics of a browse node (None when no product of ours is in it and the scenario
    /// does not describe it).
    pub fn browse_node_topics(&self, node_id: &str) -> Option<Vec<ReviewTopicInfo>> {
        let known = self.scenario.browse_nodes.iter().any(|n| n.id == node_id)
            || self
                .scenario
                .products
                .iter()
                .any(|p| p.browse_node_id == node_id);
        if !known {
            return None;
        }
        Some(
            self.node_topics(node_id)
                .iter()
                .map(|t| ReviewTopicInfo {
                    topic: t.topic.clone(),
                    sentiment: t.sentiment.clone(),
                    mentions: (t.share * 40.0).round() as u32,
                    occurrence_pct: t.share,
                    star_rating_impact: t.star_impact.unwrap_or(if t.sentiment == "negative" {
                        -0.1
                    } else {
                        0.05
                    }),
                    browse_node_occurrence_pct: Some(t.share),
                    subtopics: t.subtopics.iter().map(|s| (s.clone(), 10)).collect(),
                })
                .collect(),
        )
    }

    /// Months between day 0's month and `d`'s month.
    fn month_offset(&self, d: NaiveDate) -> i32 {
        (d.year() - self.day0.year()) * 12 + d.month() as i32 - self.day0.month() as i32
    }

    /// Star rating of product `j` on day `rel` (None when the scenario gives none).
    pub(crate) fn rating_on(&self, j: usize, rel: i32) -> Option<f64> {
        let p = &self.scenario.products[j];
        let now = p.rating?;
        // Event ratings override the interpolated baseline.
        if let Some(r) = self
            .events_of(j)
            .filter(|e| rel >= e.from_day && e.to_day.is_none_or(|t| rel < t))
            .filter_map(|e| e.rating)
            .last()
        {
            return Some(r);
        }
        let then = p.rating_30d_ago.unwrap_or(now);
        let v = if rel >= 0 {
            now
        } else if rel <= -30 {
            then
        } else {
            then + (now - then) * (rel + 30) as f64 / 30.0
        };
        Some((v * 100.0).round() / 100.0)
    }

    /// ratings.csv rows: weekly (at, at−7, …, at−35) for products with a rating.
    pub fn ratings(&self, at: NaiveDate) -> Vec<RatingRow> {
        let mut out = Vec::new();
        for (j, p) in self.scenario.products.iter().enumerate() {
            for k in (0..6).rev() {
                let rel = self.rel(at) - 7 * k;
                let Some(rating) = self.rating_on(j, rel) else {
                    continue;
                };
                let count = (p.rating_count as f64 * (1.0 + rel as f64 / 400.0)).max(1.0) as u32;
                out.push(RatingRow {
                    asin: p.asin.clone(),
                    rating,
                    count,
                    date: self.date(rel),
                });
            }
        }
        out
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

fn add_months(d: NaiveDate, m: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + m;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        .expect("valid month")
}
