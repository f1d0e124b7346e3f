//! Customer Feedback data: `item_browse_nodes`, `review_topics` and
//! `review_topic_trends`. One run's rows and the job's cursor are written in
//! one transaction; unchanged rows are not rewritten.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::jobs::set_cursor;
use super::ops::ts;
use super::StoreError;

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
    account: &str,
    marketplace_id: &str,
    pull: &FeedbackPull,
    job: &str,
    cursor: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let now_s = ts(now);
    let mut written = 0u64;
    for n in &pull.nodes {
        written += tx.execute(
            "INSERT INTO item_browse_nodes (account, marketplace_id, asin, browse_node_id, browse_node_name, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (account, marketplace_id, asin) DO UPDATE SET
                 browse_node_id = excluded.browse_node_id, browse_node_name = excluded.browse_node_name,
                 fetched_at = excluded.fetched_at
             WHERE browse_node_id IS NOT excluded.browse_node_id
                 OR browse_node_name IS NOT excluded.browse_node_name",
            params![account, marketplace_id, n.asin, n.browse_node_id, n.browse_node_name, now_s],
        )? as u64;
    }
    for t in &pull.topics {
        written += tx.execute(
            "INSERT INTO review_topics (account, marketplace_id, subject_kind, subject_id, period_start,
                 period_end, sentiment, topic, mentions, occurrence_pct, star_rating_impact,
                 browse_node_occurrence_pct, browse_node_star_rating_impact, top25_occurrence_pct,
                 top25_star_rating_impact, raw_json, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (account, marketplace_id, subject_kind, subject_id, period_start, period_end,
                 sentiment, topic) DO UPDATE SET
                 mentions = excluded.mentions, occurrence_pct = excluded.occurrence_pct,
                 star_rating_impact = excluded.star_rating_impact,
                 browse_node_occurrence_pct = excluded.browse_node_occurrence_pct,
                 browse_node_star_rating_impact = excluded.browse_node_star_rating_impact,
                 top25_occurrence_pct = excluded.top25_occurrence_pct,
                 top25_star_rating_impact = excluded.top25_star_rating_impact,
                 raw_json = excluded.raw_json, fetched_at = excluded.fetched_at
             WHERE mentions IS NOT excluded.mentions OR occurrence_pct IS NOT excluded.occurrence_pct
                 OR star_rating_impact IS NOT excluded.star_rating_impact
                 OR browse_node_occurrence_pct IS NOT excluded.browse_node_occurrence_pct
                 OR browse_node_star_rating_impact IS NOT excluded.browse_node_star_rating_impact
                 OR top25_occurrence_pct IS NOT excluded.top25_occurrence_pct
                 OR top25_star_rating_impact IS NOT excluded.top25_star_rating_impact
                 OR raw_json IS NOT excluded.raw_json",
            params![
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
            ],
        )? as u64;
    }
    // Topics a period's answer no longer lists.
    let periods: HashSet<(&str, &str, &str, &str)> = pull
        .topics
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
        let keep: HashSet<(&str, &str)> = pull
            .topics
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
            &tx,
            "SELECT sentiment, topic FROM review_topics WHERE account = ?1 AND marketplace_id = ?2
             AND subject_kind = ?3 AND subject_id = ?4 AND period_start = ?5 AND period_end = ?6",
            params![account, marketplace_id, kind, id, start, end],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (sentiment, topic) in existing {
            if !keep.contains(&(sentiment.as_str(), topic.as_str())) {
                written += tx.execute(
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
    for t in &pull.trends {
        written += tx.execute(
            "INSERT INTO review_topic_trends (account, marketplace_id, subject_kind, subject_id, sentiment,
                 topic, period_start, period_end, occurrence_pct, parent_occurrence_pct,
                 browse_node_occurrence_pct, top25_occurrence_pct, raw_json, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (account, marketplace_id, subject_kind, subject_id, sentiment, topic, period_start)
             DO UPDATE SET
                 period_end = excluded.period_end, occurrence_pct = excluded.occurrence_pct,
                 parent_occurrence_pct = excluded.parent_occurrence_pct,
                 browse_node_occurrence_pct = excluded.browse_node_occurrence_pct,
                 top25_occurrence_pct = excluded.top25_occurrence_pct, raw_json = excluded.raw_json,
                 fetched_at = excluded.fetched_at
             WHERE period_end IS NOT excluded.period_end OR occurrence_pct IS NOT excluded.occurrence_pct
                 OR parent_occurrence_pct IS NOT excluded.parent_occurrence_pct
                 OR browse_node_occurrence_pct IS NOT excluded.browse_node_occurrence_pct
                 OR top25_occurrence_pct IS NOT excluded.top25_occurrence_pct
                 OR raw_json IS NOT excluded.raw_json",
            params![
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
            ],
        )? as u64;
    }
    set_cursor(&tx, job, account, marketplace_id, cursor, now)?;
    tx.commit()?;
    Ok(written)
}
