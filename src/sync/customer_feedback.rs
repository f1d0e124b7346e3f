//! Job `customer_feedback`: Customer Feedback API 2024-06-01
//! (customerFeedback_2024-06-01.json). Per child ASIN: its review topics
//! (`getItemReviewTopics`, once per `sortBy` — MENTIONS and
//! STAR_RATING_IMPACT each return a top list, merged), their monthly trends
//! (`getItemReviewTrends`) and its browse node (`getItemBrowseNode`); per
//! browse node seen: its review topics (both sorts) and trends.
//!
//! The API publishes no rate limit: the client assumes 1 rps, burst 1 (the
//! assumed-limits table), so a run covers at most [`MAX_ASINS_PER_RUN`] ASINs
//! (best sellers first) and the next run continues where it stopped
//! (cursor `next_offset`). A 204 means no data: no rows, not zeros; a 404
//! (an ASIN the API does not know) is treated the same.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::api_util::{call_json, marketplaces, num, sp_endpoint};
use super::{catalog_ranks, Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::amazon::http::ApiError;
use crate::amazon::marketplace::Marketplace;
use crate::store::jobs;
use crate::store::ops::ts;
use crate::store::reviews::{self, BrowseNodeRow, FeedbackPull, TopicRow, TrendRow};

const JOB: &str = "customer_feedback";
const BASE: &str = "/customerFeedback/2024-06-01";
/// Four calls an ASIN at the assumed 1 rps: about 35 minutes.
pub const MAX_ASINS_PER_RUN: usize = 500;
const SORTS: [&str; 2] = ["MENTIONS", "STAR_RATING_IMPACT"];

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let ep = sp_endpoint(ctx)?;
    let mut written = 0;
    let (mut done, mut with_topics) = (0, 0);
    for m in marketplaces(ctx) {
        let asins = catalog_ranks::seller_asins(ctx, &ep, m).await?;
        let offset = ctx
            .with_db(|c| jobs::cursor(c, JOB, &ctx.account.name, m.id))?
            .and_then(|v| v.get("next_offset").and_then(Value::as_u64))
            .unwrap_or(0) as usize;
        let offset = if offset >= asins.len() { 0 } else { offset };
        let slice: Vec<String> = asins
            .iter()
            .skip(offset)
            .take(MAX_ASINS_PER_RUN)
            .cloned()
            .collect();
        let mut pull = FeedbackPull::default();
        let mut nodes = BTreeSet::new();
        for asin in &slice {
            let before = pull.topics.len();
            fetch_asin(ctx, &ep, m, asin, &mut pull).await?;
            if pull.topics.len() > before {
                with_topics += 1;
            }
            if let Some(n) = pull.nodes.iter().find(|n| &n.asin == asin) {
                nodes.insert(n.browse_node_id.clone());
            }
        }
        for node in &nodes {
            fetch_node(ctx, &ep, m, node, &mut pull).await?;
        }
        done += slice.len();
        let next = offset + slice.len();
        let next = if next >= asins.len() { 0 } else { next };
        let cursor =
            json!({ "last_run_at": ts(ctx.now), "next_offset": next, "asins": asins.len() });
        written += ctx.with_db(|c| {
            reviews::write_pull(c, &ctx.account.name, m.id, &pull, JOB, &cursor, ctx.now)
        })?;
    }
    Ok(JobReport {
        rows: written,
        note: format!("{done} ASINs, {with_topics} with review topics"),
    })
}

/// GET with `marketplaceId`; `None` for 204 (no data) and 404.
async fn get<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    operation: &'static str,
    path: String,
    m: &Marketplace,
    sort: Option<&str>,
) -> Result<Option<T>, JobError> {
    let mut spec = CallSpec::get(operation, path).query("marketplaceId", m.id);
    if let Some(s) = sort {
        spec = spec.query("sortBy", s);
    }
    match call_json(ctx, ep, &spec).await {
        Err(JobError::Api(ApiError::Permanent { status: 404, .. })) => Ok(None),
        other => other,
    }
}

async fn fetch_asin(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    asin: &str,
    pull: &mut FeedbackPull,
) -> Result<(), JobError> {
    for sort in SORTS {
        let body: Option<Value> = get(
            ctx,
            ep,
            "getItemReviewTopics",
            format!("{BASE}/items/{asin}/reviews/topics"),
            m,
            Some(sort),
        )
        .await?;
        if let Some(b) = body {
            merge_topics(&mut pull.topics, parse_topics(&b, "asin", asin));
        }
    }
    let trends: Option<Value> = get(
        ctx,
        ep,
        "getItemReviewTrends",
        format!("{BASE}/items/{asin}/reviews/trends"),
        m,
        None,
    )
    .await?;
    if let Some(b) = trends {
        pull.trends.extend(parse_trends(&b, "asin", asin));
    }
    let node: Option<Value> = get(
        ctx,
        ep,
        "getItemBrowseNode",
        format!("{BASE}/items/{asin}/browseNode"),
        m,
        None,
    )
    .await?;
    if let Some(id) = node
        .as_ref()
        .and_then(|b| b.get("browseNodeId"))
        .and_then(Value::as_str)
    {
        pull.nodes.push(BrowseNodeRow {
            asin: asin.to_string(),
            browse_node_id: id.to_string(),
            browse_node_name: node
                .as_ref()
                .and_then(|b| b.get("displayName"))
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(())
}

async fn fetch_node(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    node: &str,
    pull: &mut FeedbackPull,
) -> Result<(), JobError> {
    for sort in SORTS {
        let body: Option<Value> = get(
            ctx,
            ep,
            "getBrowseNodeReviewTopics",
            format!("{BASE}/browseNodes/{node}/reviews/topics"),
            m,
            Some(sort),
        )
        .await?;
        if let Some(b) = body {
            merge_topics(&mut pull.topics, parse_topics(&b, "browse_node", node));
        }
    }
    let trends: Option<Value> = get(
        ctx,
        ep,
        "getBrowseNodeReviewTrends",
        format!("{BASE}/browseNodes/{node}/reviews/trends"),
        m,
        None,
    )
    .await?;
    if let Some(b) = trends {
        pull.trends.extend(parse_trends(&b, "browse_node", node));
    }
    Ok(())
}

/// Adds topics not already there (the two sorts overlap; their figures are
/// the same).
fn merge_topics(into: &mut Vec<TopicRow>, new: Vec<TopicRow>) {
    for t in new {
        let dup = into.iter().any(|x| {
            x.subject_kind == t.subject_kind
                && x.subject_id == t.subject_id
                && x.period_start == t.period_start
                && x.period_end == t.period_end
                && x.sentiment == t.sentiment
                && x.topic == t.topic
        });
        if !dup {
            into.push(t);
        }
    }
}

/// The day of an ISO-8601 date-time (`dateRange` values).
fn day(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    (s.len() >= 10 && s.is_char_boundary(10)).then(|| s[..10].to_string())
}

const SENTIMENTS: [(&str, &str); 2] = [
    ("positiveTopics", "positive"),
    ("negativeTopics", "negative"),
];

/// Parses an `ItemReviewTopicsResponse` (`kind = "asin"`) or a
/// `BrowseNodeReviewTopicsResponse` (`kind = "browse_node"`) (pure).
pub fn parse_topics(body: &Value, kind: &'static str, subject: &str) -> Vec<TopicRow> {
    let (Some(start), Some(end)) = (
        day(body.pointer("/dateRange/startDate")),
        day(body.pointer("/dateRange/endDate")),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, sentiment) in SENTIMENTS {
        for t in body
            .pointer(&format!("/topics/{key}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(topic) = t.get("topic").and_then(Value::as_str) else {
                continue;
            };
            // Review snippets are customers' words: not needed by any rule.
            let mut raw = t.clone();
            if let Some(o) = raw.as_object_mut() {
                o.remove("reviewSnippets");
                o.remove("topic");
            }
            let mut row = TopicRow {
                subject_kind: kind,
                subject_id: subject.to_string(),
                period_start: start.clone(),
                period_end: end.clone(),
                sentiment,
                topic: topic.to_string(),
                raw_json: raw.to_string(),
                ..TopicRow::default()
            };
            if kind == "asin" {
                row.mentions = t
                    .pointer("/asinMetrics/numberOfMentions")
                    .and_then(Value::as_i64);
                row.occurrence_pct = num(t.pointer("/asinMetrics/occurrencePercentage"));
                row.star_rating_impact = num(t.pointer("/asinMetrics/starRatingImpact"));
                row.browse_node_occurrence_pct =
                    num(t.pointer("/browseNodeMetrics/occurrencePercentage/allProducts"));
                row.browse_node_star_rating_impact =
                    num(t.pointer("/browseNodeMetrics/starRatingImpact/allProducts"));
            } else {
                row.occurrence_pct =
                    num(t.pointer("/browseNodeMetrics/occurrencePercentage/allProducts"));
                row.star_rating_impact =
                    num(t.pointer("/browseNodeMetrics/starRatingImpact/allProducts"));
                row.top25_occurrence_pct = num(t.pointer(
                    "/browseNodeMetrics/occurrencePercentage/topTwentyFivePercentProducts",
                ));
                row.top25_star_rating_impact = num(
                    t.pointer("/browseNodeMetrics/starRatingImpact/topTwentyFivePercentProducts")
                );
            }
            out.push(row);
        }
    }
    out
}

/// Parses an `ItemReviewTrendsResponse` or a `BrowseNodeReviewTrendsResponse`
/// (pure): one row per topic and month.
pub fn parse_trends(body: &Value, kind: &'static str, subject: &str) -> Vec<TrendRow> {
    let mut out: Vec<TrendRow> = Vec::new();
    for (key, sentiment) in SENTIMENTS {
        for t in body
            .pointer(&format!("/reviewTrends/{key}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(topic) = t.get("topic").and_then(Value::as_str) else {
                continue;
            };
            for p in t
                .get("trendMetrics")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(start), Some(end)) = (
                    day(p.pointer("/dateRange/startDate")),
                    day(p.pointer("/dateRange/endDate")),
                ) else {
                    continue;
                };
                let mut raw = p.clone();
                if let Some(o) = raw.as_object_mut() {
                    o.remove("dateRange");
                }
                let mut row = TrendRow {
                    subject_kind: kind,
                    subject_id: subject.to_string(),
                    sentiment,
                    topic: topic.to_string(),
                    period_start: start,
                    period_end: end,
                    raw_json: raw.to_string(),
                    ..TrendRow::default()
                };
                if kind == "asin" {
                    row.occurrence_pct = num(p.pointer("/asinMetrics/occurrencePercentage"));
                    row.parent_occurrence_pct =
                        num(p.pointer("/parentAsinMetrics/occurrencePercentage"));
                    row.browse_node_occurrence_pct =
                        num(p.pointer("/browseNodeMetrics/occurrencePercentage/allProducts"));
                } else {
                    row.occurrence_pct =
                        num(p.pointer("/browseNodeMetrics/occurrencePercentage/allProducts"));
                    row.top25_occurrence_pct = num(p.pointer(
                        "/browseNodeMetrics/occurrencePercentage/topTwentyFivePercentProducts",
                    ));
                }
                // One point per (sentiment, topic, month): the key.
                if !out.iter().any(|x| {
                    x.sentiment == row.sentiment
                        && x.topic == row.topic
                        && x.period_start == row.period_start
                }) {
                    out.push(row);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_topics_carry_asin_and_browse_node_metrics() {
        let body = json!({"asin": "B0A", "itemName": "x", "marketplaceId": "M", "countryCode": "US",
            "dateRange": {"startDate": "2025-09-01T00:00:00Z", "endDate": "2026-02-28T00:00:00Z"},
            "topics": {"negativeTopics": [{"topic": "Leaks",
                "asinMetrics": {"numberOfMentions": 40, "occurrencePercentage": 12.5, "starRatingImpact": -0.2},
                "browseNodeMetrics": {"occurrencePercentage": {"allProducts": 5.0}, "starRatingImpact": {"allProducts": -0.1}},
                "reviewSnippets": ["it leaks"], "subtopics": [{"subtopic": "lid", "metrics": {"numberOfMentions": 20, "occurrencePercentage": 6.0}}]}],
                "positiveTopics": []}});
        let rows = parse_topics(&body, "asin", "B0A");
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.sentiment, r.topic.as_str()), ("negative", "Leaks"));
        assert_eq!(
            (r.period_start.as_str(), r.period_end.as_str()),
            ("2025-09-01", "2026-02-28")
        );
        assert_eq!(
            (r.mentions, r.occurrence_pct, r.star_rating_impact),
            (Some(40), Some(12.5), Some(-0.2))
        );
        assert_eq!(r.browse_node_occurrence_pct, Some(5.0));
        assert!(!r.raw_json.contains("it leaks") && r.raw_json.contains("lid"));
    }

    #[test]
    fn node_topics_and_trends() {
        let body = json!({"browseNodeId": "1", "displayName": "n", "marketplaceId": "M", "countryCode": "US",
            "dateRange": {"startDate": "2025-09-01T00:00:00Z", "endDate": "2026-02-28T00:00:00Z"},
            "topics": {"positiveTopics": [{"topic": "Cold",
                "browseNodeMetrics": {"occurrencePercentage": {"allProducts": 24.0, "topTwentyFivePercentProducts": 30.0},
                                      "starRatingImpact": {"allProducts": 0.1, "topTwentyFivePercentProducts": 0.2}}}]}});
        let rows = parse_topics(&body, "browse_node", "1");
        assert_eq!(
            (rows[0].occurrence_pct, rows[0].top25_occurrence_pct),
            (Some(24.0), Some(30.0))
        );
        assert_eq!(rows[0].mentions, None);
        let trends = json!({"asin": "B0A", "dateRange": {"startDate": "2025-09-01T00:00:00Z", "endDate": "2026-02-28T00:00:00Z"},
            "reviewTrends": {"negativeTopics": [{"topic": "Leaks", "trendMetrics": [
                {"dateRange": {"startDate": "2026-01-01T00:00:00Z", "endDate": "2026-01-31T00:00:00Z"},
                 "asinMetrics": {"occurrencePercentage": 8.0},
                 "browseNodeMetrics": {"occurrencePercentage": {"allProducts": 5.0}}},
                {"dateRange": {"startDate": "2026-02-01T00:00:00Z", "endDate": "2026-02-28T00:00:00Z"},
                 "asinMetrics": {"occurrencePercentage": 12.0}}]}]}});
        let t = parse_trends(&trends, "asin", "B0A");
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].period_start.as_str(), t[0].occurrence_pct),
            ("2026-01-01", Some(8.0))
        );
        assert_eq!(t[0].browse_node_occurrence_pct, Some(5.0));
        assert_eq!(t[1].browse_node_occurrence_pct, None);
        assert!(parse_topics(&json!({}), "asin", "B0A").is_empty());
    }
}
