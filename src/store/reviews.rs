//! Customer Feedback data: `item_browse_nodes`, `review_topics` and
//! `review_topic_trends`. One run's rows and the job's cursor are written in
//! one transaction; unchanged rows are not rewritten.

use std::collections::HashSet;

use rusqlite::{params, Connection};

use super::jobs::{write_with_cursor, CursorWrite};
use super::ops::ts;
use super::{execute_each, upsert_sql, StoreError};

/// An ASIN's browse node.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowseNodeRow {
    pub asin: String,
    pub browse_node_id: String,
    pub browse_node_name: Option<String>,
}

/// One topic of an ASIN or a browse node over the API's date range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicRow {
    /// 'asin' or 'browse_node'.
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub period_start: String,
    pub period_end: String,
    /// 'positive' or 'negative'.
    pub sentiment: &'static str,
    pub topic: String,
    pub mentions: Option<i64>,
    pub occurrence_pct: Option<f64>,
    pub star_rating_impact: Option<f64>,
    pub browse_node_occurrence_pct: Option<f64>,
    pub browse_node_star_rating_impact: Option<f64>,
    pub top25_occurrence_pct: Option<f64>,
    pub top25_star_rating_impact: Option<f64>,
    pub raw_json: String,
}

impl TopicRow {
    /// What identifies the row (the table's key): subject, period,
    /// sentiment and topic.
    pub fn key(&self) -> (&str, &str, &str, &str, &str, &str) {
        (
            self.subject_kind,
            &self.subject_id,
            &self.period_start,
            &self.period_end,
            self.sentiment,
            &self.topic,
        )
    }
}

/// One monthly trend point of a topic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendRow {
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub sentiment: &'static str,
    pub topic: String,
    pub period_start: String,
    pub period_end: String,
    pub occurrence_pct: Option<f64>,
    pub parent_occurrence_pct: Option<f64>,
    pub browse_node_occurrence_pct: Option<f64>,
    pub top25_occurrence_pct: Option<f64>,
    pub raw_json: String,
}

/// Everything one run learned in a marketplace.
#[derive(Debug, Clone, Default)]
pub struct FeedbackPull {
    pub nodes: Vec<BrowseNodeRow>,
    pub topics: Vec<TopicRow>,
    pub trends: Vec<TrendRow>,
}

/// Writes a run's rows and the cursor in one transaction. A subject's topic
/// list for a period is complete, so topics of that period the answer no
/// longer lists are removed. Returns rows written.
pub fn write_pull(
    conn: &mut Connection,
    at: &CursorWrite<'_>,
    pull: &FeedbackPull,
) -> Result<u64, StoreError> {
    let (account, marketplace_id, now_s) = (at.account, at.marketplace_id, ts(at.now));
    let nodes_sql = upsert_sql(
        "item_browse_nodes",
        &["account", "marketplace_id", "asin"],
        &["browse_node_id", "browse_node_name"],
        &["fetched_at"],
        &[],
    );
    let topics_sql = upsert_sql(
        "review_topics",
        &[
            "account",
            "marketplace_id",
            "subject_kind",
            "subject_id",
            "period_start",
            "period_end",
            "sentiment",
            "topic",
        ],
        &[
            "mentions",
            "occurrence_pct",
            "star_rating_impact",
            "browse_node_occurrence_pct",
            "browse_node_star_rating_impact",
            "top25_occurrence_pct",
            "top25_star_rating_impact",
            "raw_json",
        ],
        &["fetched_at"],
        &[],
    );
    let trends_sql = upsert_sql(
        "review_topic_trends",
        &[
            "account",
            "marketplace_id",
            "subject_kind",
            "subject_id",
            "sentiment",
            "topic",
            "period_start",
        ],
        &[
            "period_end",
            "occurrence_pct",
            "parent_occurrence_pct",
            "browse_node_occurrence_pct",
            "top25_occurrence_pct",
            "raw_json",
        ],
        &["fetched_at"],
        &[],
    );
    write_with_cursor(conn, at, |tx| {
        let mut written = execute_each(tx, &nodes_sql, &pull.nodes, |stmt, n| {
            stmt.execute(params![
                account,
                marketplace_id,
                n.asin,
                n.browse_node_id,
                n.browse_node_name,
                now_s
            ])
        })?;
        written += execute_each(tx, &topics_sql, &pull.topics, |stmt, t| {
            stmt.execute(params![
                account,
                marketplace_id,
                t.subject_kind,
                t.subject_id,
                t.period_start,
                t.period_end,
                t.sentiment,
                t.topic,
                t.mentions,
                t.occurrence_pct,
                t.star_rating_impact,
                t.browse_node_occurrence_pct,
                t.browse_node_star_rating_impact,
                t.top25_occurrence_pct,
                t.top25_star_rating_impact,
                t.raw_json,
                now_s
            ])
        })?;
        written += delete_unlisted_topics(tx, account, marketplace_id, &pull.topics)?;
        written += execute_each(tx, &trends_sql, &pull.trends, |stmt, t| {
            stmt.execute(params![
                account,
                marketplace_id,
                t.subject_kind,
                t.subject_id,
                t.sentiment,
                t.topic,
                t.period_start,
                t.period_end,
                t.occurrence_pct,
                t.parent_occurrence_pct,
                t.browse_node_occurrence_pct,
                t.top25_occurrence_pct,
                t.raw_json,
                now_s
            ])
        })?;
        Ok(written)
    })
}

/// Deletes the topics of each (subject, period) in `topics` that the
/// answer for that period no longer lists. Returns rows deleted.
fn delete_unlisted_topics(
    tx: &Connection,
    account: &str,
    marketplace_id: &str,
    topics: &[TopicRow],
) -> Result<u64, StoreError> {
    let mut deleted = 0u64;
    let periods: HashSet<(&str, &str, &str, &str)> = topics
        .iter()
        .map(|t| {
            (
                t.subject_kind,
                t.subject_id.as_str(),
                t.period_start.as_str(),
                t.period_end.as_str(),
            )
        })
        .collect();
    for (kind, id, start, end) in periods {
        let keep: HashSet<(&str, &str)> = topics
            .iter()
            .filter(|t| {
                t.subject_kind == kind
                    && t.subject_id == id
                    && t.period_start == start
                    && t.period_end == end
            })
            .map(|t| (t.sentiment, t.topic.as_str()))
            .collect();
        let existing: Vec<(String, String)> = super::all_rows(
            tx,
            "SELECT sentiment, topic FROM review_topics WHERE account = ?1 AND marketplace_id = ?2
             AND subject_kind = ?3 AND subject_id = ?4 AND period_start = ?5 AND period_end = ?6",
            params![account, marketplace_id, kind, id, start, end],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (sentiment, topic) in existing {
            if !keep.contains(&(sentiment.as_str(), topic.as_str())) {
                deleted += tx.execute(
                    "DELETE FROM review_topics WHERE account = ?1 AND marketplace_id = ?2
                         AND subject_kind = ?3 AND subject_id = ?4 AND period_start = ?5
                         AND period_end = ?6 AND sentiment = ?7 AND topic = ?8",
                    params![
                        account,
                        marketplace_id,
                        kind,
                        id,
                        start,
                        end,
                        sentiment,
                        topic
                    ],
                )? as u64;
            }
        }
    }
    Ok(deleted)
}
