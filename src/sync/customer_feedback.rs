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
//!
//! Dates are checked like every other job's: a `dateRange` that is not a
//! real calendar date (Amazon's own examples hold `2024-02-30`) is never
//! stored; its topics or trend month are skipped, logged and named in the
//! job's note.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::api_util::{call_json, elements, marketplaces, num, sp_endpoint};
use super::report_util::is_plausible;
use super::{catalog_ranks, Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::amazon::http::ApiError;
use crate::model::marketplace::Marketplace;
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
    let mut skipped = Skipped::default();
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
            fetch_asin(ctx, &ep, m, asin, &mut pull, &mut skipped).await?;
            if pull.topics.len() > before {
                with_topics += 1;
            }
            if let Some(n) = pull.nodes.iter().find(|n| &n.asin == asin) {
                nodes.insert(n.browse_node_id.clone());
            }
        }
        for node in &nodes {
            let node = Subject::BrowseNode(node);
            fetch_reviews(ctx, &ep, m, node, &mut pull, &mut skipped).await?;
        }
        done += slice.len();
        let next = offset + slice.len();
        let next = if next >= asins.len() { 0 } else { next };
        let cursor =
            json!({ "last_run_at": ts(ctx.now), "next_offset": next, "asins": asins.len() });
        written +=
            ctx.with_db(|c| reviews::write_pull(c, &ctx.cursor_write(JOB, m, &cursor), &pull))?;
    }
    let mut note = format!("{done} ASINs, {with_topics} with review topics");
    if let Some(first) = skipped.first {
        note.push_str(&format!(
            "; {} answer part(s) with an invalid date skipped (first: {first})",
            skipped.count
        ));
    }
    Ok(JobReport {
        rows: written,
        note,
    })
}

/// Parts of answers skipped for an invalid date: how many, and the first.
#[derive(Default)]
struct Skipped {
    count: usize,
    first: Option<String>,
}

impl Skipped {
    /// Logs what a parse skipped in one answer of `operation` for `subject`.
    fn add(&mut self, operation: &str, subject: &str, issues: Vec<String>) {
        for issue in issues {
            let what = format!("{operation} {subject}: {issue}");
            tracing::warn!("{what}");
            self.count += 1;
            self.first.get_or_insert(what);
        }
    }
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

/// A subject whose reviews the API describes.
#[derive(Debug, Clone, Copy)]
enum Subject<'a> {
    Asin(&'a str),
    BrowseNode(&'a str),
}

impl<'a> Subject<'a> {
    /// `subject_kind` as stored.
    fn kind(self) -> &'static str {
        match self {
            Subject::Asin(_) => "asin",
            Subject::BrowseNode(_) => "browse_node",
        }
    }

    fn id(self) -> &'a str {
        match self {
            Subject::Asin(id) | Subject::BrowseNode(id) => id,
        }
    }

    /// Its review topics and trends: the operations and the path they
    /// share.
    fn reviews(self) -> (&'static str, &'static str, String) {
        match self {
            Subject::Asin(a) => (
                "getItemReviewTopics",
                "getItemReviewTrends",
                format!("{BASE}/items/{a}/reviews"),
            ),
            Subject::BrowseNode(n) => (
                "getBrowseNodeReviewTopics",
                "getBrowseNodeReviewTrends",
                format!("{BASE}/browseNodes/{n}/reviews"),
            ),
        }
    }
}

/// An ASIN's reviews (see [`fetch_reviews`]) and its browse node.
async fn fetch_asin(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    asin: &str,
    pull: &mut FeedbackPull,
    skipped: &mut Skipped,
) -> Result<(), JobError> {
    fetch_reviews(ctx, ep, m, Subject::Asin(asin), pull, skipped).await?;
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

/// A subject's review topics (once per sort, merged) and their trends.
async fn fetch_reviews(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    subject: Subject<'_>,
    pull: &mut FeedbackPull,
    skipped: &mut Skipped,
) -> Result<(), JobError> {
    let (topics_op, trends_op, path) = subject.reviews();
    let (kind, id) = (subject.kind(), subject.id());
    for sort in SORTS {
        let body: Option<Value> =
            get(ctx, ep, topics_op, format!("{path}/topics"), m, Some(sort)).await?;
        if let Some(b) = body {
            let (topics, issues) = parse_topics(&b, kind, id);
            skipped.add(topics_op, id, issues);
            merge_topics(&mut pull.topics, topics);
        }
    }
    let trends: Option<Value> = get(ctx, ep, trends_op, format!("{path}/trends"), m, None).await?;
    if let Some(b) = trends {
        let (trends, issues) = parse_trends(&b, kind, id);
        skipped.add(trends_op, id, issues);
        pull.trends.extend(trends);
    }
    Ok(())
}

/// Adds topics not already there (the two sorts overlap; their figures are
/// the same).
fn merge_topics(into: &mut Vec<TopicRow>, new: Vec<TopicRow>) {
    for t in new {
        if !into.iter().any(|x| x.key() == t.key()) {
            into.push(t);
        }
    }
}

/// The day of an ISO-8601 date-time (`dateRange` values), `YYYY-MM-DD`:
/// `None` when absent, an issue naming `field` when it is not a real date
/// of a year a report can hold (Amazon's examples have `2024-02-30`).
fn day(v: Option<&Value>, field: &str) -> Option<Result<String, String>> {
    let s = v?.as_str()?;
    Some(
        s.get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .filter(is_plausible)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .ok_or_else(|| format!("`{field}` {s:?} is not a valid date")),
    )
}

/// Both ends of a `dateRange`: `None` when either is absent (no data) or
/// invalid (the issue is pushed to `issues`, with what is skipped).
fn range(v: &Value, at: &str, skip: &str, issues: &mut Vec<String>) -> Option<(String, String)> {
    let start = day(
        v.pointer("/dateRange/startDate"),
        &format!("{at}dateRange.startDate"),
    )?;
    let end = day(
        v.pointer("/dateRange/endDate"),
        &format!("{at}dateRange.endDate"),
    )?;
    match (start, end) {
        (Ok(s), Ok(e)) => Some((s, e)),
        (Err(why), _) | (_, Err(why)) => {
            issues.push(format!("{why}; {skip} skipped"));
            None
        }
    }
}

const SENTIMENTS: [(&str, &str); 2] = [
    ("positiveTopics", "positive"),
    ("negativeTopics", "negative"),
];

/// The topics under `block` (`topics`, `reviewTrends`) of an answer, both
/// sentiments: (its key, the sentiment, the topic's name, the topic).
/// Topics without a name are skipped.
fn topics<'a>(
    body: &'a Value,
    block: &'a str,
) -> impl Iterator<Item = (&'static str, &'static str, &'a str, &'a Value)> {
    SENTIMENTS.into_iter().flat_map(move |(key, sentiment)| {
        elements(body.pointer(&format!("/{block}/{key}"))).filter_map(move |t| {
            let topic = t.get("topic").and_then(Value::as_str)?;
            Some((key, sentiment, topic, t))
        })
    })
}

/// One metric of a topic (`occurrencePercentage`, `starRatingImpact`) for
/// its subject and what the answer compares it with. An ASIN's answer
/// gives the ASIN's own figure (`asinMetrics`) and its browse node's
/// (`browseNodeMetrics.….allProducts`); a browse node's answer gives the
/// node's own (`allProducts`) and its top quarter's
/// (`topTwentyFivePercentProducts`).
#[derive(Debug, Default)]
struct Compared {
    own: Option<f64>,
    browse_node: Option<f64>,
    top25: Option<f64>,
}

impl Compared {
    fn read(v: &Value, kind: &str, metric: &str) -> Compared {
        let node = |of: &str| num(v.pointer(&format!("/browseNodeMetrics/{metric}/{of}")));
        if kind == "asin" {
            Compared {
                own: num(v.pointer(&format!("/asinMetrics/{metric}"))),
                browse_node: node("allProducts"),
                top25: None,
            }
        } else {
            Compared {
                own: node("allProducts"),
                browse_node: None,
                top25: node("topTwentyFivePercentProducts"),
            }
        }
    }
}

/// Parses an `ItemReviewTopicsResponse` (`kind = "asin"`) or a
/// `BrowseNodeReviewTopicsResponse` (`kind = "browse_node"`) (pure): the
/// rows, and what was skipped for an invalid date.
pub fn parse_topics(
    body: &Value,
    kind: &'static str,
    subject: &str,
) -> (Vec<TopicRow>, Vec<String>) {
    let mut issues = Vec::new();
    let Some((start, end)) = range(body, "", "the answer's topics", &mut issues) else {
        return (Vec::new(), issues);
    };
    let mut out = Vec::new();
    for (_, sentiment, topic, t) in topics(body, "topics") {
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
        }
        let occurrence = Compared::read(t, kind, "occurrencePercentage");
        let impact = Compared::read(t, kind, "starRatingImpact");
        row.occurrence_pct = occurrence.own;
        row.star_rating_impact = impact.own;
        row.browse_node_occurrence_pct = occurrence.browse_node;
        row.browse_node_star_rating_impact = impact.browse_node;
        row.top25_occurrence_pct = occurrence.top25;
        row.top25_star_rating_impact = impact.top25;
        out.push(row);
    }
    (out, issues)
}

/// Parses an `ItemReviewTrendsResponse` or a `BrowseNodeReviewTrendsResponse`
/// (pure): one row per topic and month, and what was skipped for an
/// invalid date.
pub fn parse_trends(
    body: &Value,
    kind: &'static str,
    subject: &str,
) -> (Vec<TrendRow>, Vec<String>) {
    let mut out: Vec<TrendRow> = Vec::new();
    let mut issues = Vec::new();
    for (key, sentiment, topic, t) in topics(body, "reviewTrends") {
        for p in elements(t.get("trendMetrics")) {
            let at = format!("reviewTrends.{key}[].trendMetrics[].");
            let skip = format!("the month of topic {topic:?}");
            let Some((start, end)) = range(p, &at, &skip, &mut issues) else {
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
                row.parent_occurrence_pct =
                    num(p.pointer("/parentAsinMetrics/occurrencePercentage"));
            }
            let occurrence = Compared::read(p, kind, "occurrencePercentage");
            row.occurrence_pct = occurrence.own;
            row.browse_node_occurrence_pct = occurrence.browse_node;
            row.top25_occurrence_pct = occurrence.top25;
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
    (out, issues)
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
        let (rows, issues) = parse_topics(&body, "asin", "B0A");
        assert!(issues.is_empty(), "{issues:?}");
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
        let (rows, _) = parse_topics(&body, "browse_node", "1");
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
        let (t, _) = parse_trends(&trends, "asin", "B0A");
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].period_start.as_str(), t[0].occurrence_pct),
            ("2026-01-01", Some(8.0))
        );
        assert_eq!(t[0].browse_node_occurrence_pct, Some(5.0));
        assert_eq!(t[1].browse_node_occurrence_pct, None);
        let (none, issues) = parse_topics(&json!({}), "asin", "B0A");
        assert!(
            none.is_empty() && issues.is_empty(),
            "no dateRange: no data"
        );
    }

    #[test]
    fn impossible_dates_are_skipped_and_named() {
        // Amazon's own getItemReviewTrends example has a 2024-02-30.
        let trends = json!({"asin": "B0A", "reviewTrends": {"negativeTopics": [{"topic": "Leaks", "trendMetrics": [
            {"dateRange": {"startDate": "2024-03-01T00:00:00.000Z", "endDate": "2024-03-30T00:00:00.000Z"},
             "asinMetrics": {"occurrencePercentage": 27.58}},
            {"dateRange": {"startDate": "2024-02-01T00:00:00.000Z", "endDate": "2024-02-30T00:00:00.000Z"},
             "asinMetrics": {"occurrencePercentage": 27.58}}]}]}});
        let (t, issues) = parse_trends(&trends, "asin", "B0A");
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].period_start.as_str(), t[0].period_end.as_str()),
            ("2024-03-01", "2024-03-30")
        );
        assert_eq!(
            issues,
            vec!["`reviewTrends.negativeTopics[].trendMetrics[].dateRange.endDate` \"2024-02-30T00:00:00.000Z\" is not a valid date; the month of topic \"Leaks\" skipped".to_string()]
        );
        for bad in ["2024-13-01", "0024-02-01", "2024-02-3", "garbage"] {
            let body = json!({"dateRange": {"startDate": bad, "endDate": "2024-03-01"},
                "topics": {"positiveTopics": [{"topic": "Cold"}]}});
            let (rows, issues) = parse_topics(&body, "asin", "B0A");
            assert!(rows.is_empty(), "{bad}");
            assert!(issues[0].contains("`dateRange.startDate`"), "{issues:?}");
        }
    }
}
