//! Customer Feedback API 2024-06-01 (`customerFeedback_2024-06-01.json`):
//! `getItemReviewTopics`, `getItemReviewTrends`, `getItemBrowseNode`,
//! `getBrowseNodeReviewTopics`, `getBrowseNodeReviewTrends`,
//! `getBrowseNodeReturnTopics` and `getBrowseNodeReturnTrends`.
//!
//! Topics and trends cover the 6 months up to sim time (REFERENCE §0.6),
//! at most 10 positive and 10 negative topics. The API answers **204 No
//! Content** when it has no data: an ASIN or browse node the world does not
//! know, a well-formed marketplace id the seller does not sell in, an ASIN
//! without review topics (the model's 204 fixtures use exactly such ids).
//! Malformed ids (an ASIN that is not ten upper-case letters or digits, a
//! marketplace id like `abcd`, a non-numeric browse node) and a missing or
//! unknown `sortBy` get 400 `InvalidInput` "Invalid input." (the 400 fixtures).
//!
//! The model has no usage plan; the limits are DESIGN §3's assumption
//! (1 rps, burst 1), marked `assumed` in the rate table.
//!
//! Where the world has no figure the model requires:
//! - `topTwentyFivePercentProducts` (browse node metrics) is derived from the
//!   all-products figure (positive topics ×1.25, negative ×0.6: the best
//!   products get more praise and fewer complaints);
//! - browse-node review trends are flat over the 6 months (the world keeps
//!   one figure per node topic);
//! - browse-node return topics and trends are computed from the world's
//!   returns of the seller's own ASINs in that node, by return reason.
//!
//! Why one file of about 1,050 lines: the seven operations share one
//! request validation and one topic/trend model, and the tests pin each
//! operation's documented errors against the same fixtures.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::Serialize;

use crate::auth::SpCaller;
use crate::errors;
use crate::marketplaces;
use crate::ratelimit::{limit, RateInfo};
use crate::server::AppState;
use crate::spapi::listings::Params;
use crate::spapi::pricing::is_asin;
use crate::world::{ReviewTopicInfo, TopicTrend};

const BASE: &str = "/customerFeedback/2024-06-01";
const MAX_TOPICS: usize = 10;
const MAX_SUBTOPICS: usize = 5;

/// The seven `GET` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{BASE}/items/{{asin}}/reviews/topics"),
            get(get_item_review_topics),
        )
        .route(
            &format!("{BASE}/items/{{asin}}/reviews/trends"),
            get(get_item_review_trends),
        )
        .route(
            &format!("{BASE}/items/{{asin}}/browseNode"),
            get(get_item_browse_node),
        )
        .route(
            &format!("{BASE}/browseNodes/{{browse_node_id}}/reviews/topics"),
            get(get_browse_node_review_topics),
        )
        .route(
            &format!("{BASE}/browseNodes/{{browse_node_id}}/reviews/trends"),
            get(get_browse_node_review_trends),
        )
        .route(
            &format!("{BASE}/browseNodes/{{browse_node_id}}/returns/topics"),
            get(get_browse_node_return_topics),
        )
        .route(
            &format!("{BASE}/browseNodes/{{browse_node_id}}/returns/trends"),
            get(get_browse_node_return_trends),
        )
}

// ---------------------------------------------------------------------------
// Model definitions

/// `DateRange`.
#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    pub start_date: String,
    pub end_date: String,
}

/// `BrowseNodeResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeResponse {
    pub browse_node_id: String,
    pub display_name: String,
}

/// `ItemReviewTopicsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTopicsResponse {
    pub asin: String,
    pub item_name: String,
    pub marketplace_id: String,
    pub country_code: String,
    pub date_range: DateRange,
    pub topics: ItemReviewTopics,
}

/// `ItemReviewTopics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTopics {
    pub positive_topics: Vec<ItemReviewTopic>,
    pub negative_topics: Vec<ItemReviewTopic>,
}

/// `ItemReviewTopic`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTopic {
    pub topic: String,
    pub asin_metrics: ItemReviewTopicMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browse_node_metrics: Option<ItemReviewBrowseNodeMetrics>,
    pub subtopics: Vec<ItemReviewSubtopic>,
}

/// `ItemReviewTopicMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTopicMetrics {
    pub number_of_mentions: u32,
    pub occurrence_percentage: f64,
    pub star_rating_impact: f64,
}

/// `ItemReviewBrowseNodeMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewBrowseNodeMetrics {
    pub occurrence_percentage: BrowseNodeOccurrence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub star_rating_impact: Option<BrowseNodeStarRatingImpact>,
}

/// `BrowseNodeOccurrence`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeOccurrence {
    pub all_products: f64,
}

/// `BrowseNodeStarRatingImpact`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeStarRatingImpact {
    pub all_products: f64,
}

/// `ItemReviewSubtopic`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewSubtopic {
    pub subtopic: String,
    pub metrics: ItemReviewSubtopicMetrics,
}

/// `ItemReviewSubtopicMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewSubtopicMetrics {
    pub number_of_mentions: u32,
    pub occurrence_percentage: f64,
}

/// `ItemReviewTrendsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTrendsResponse {
    pub asin: String,
    pub item_name: String,
    pub marketplace_id: String,
    pub country_code: String,
    pub date_range: DateRange,
    pub review_trends: ItemReviewTrends,
}

/// `ItemReviewTrends`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTrends {
    pub positive_topics: Vec<ItemReviewTrend>,
    pub negative_topics: Vec<ItemReviewTrend>,
}

/// `ItemReviewTrend`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTrend {
    pub topic: String,
    pub trend_metrics: Vec<ItemReviewTrendPoint>,
}

/// `ItemReviewTrendPoint`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReviewTrendPoint {
    pub date_range: DateRange,
    pub asin_metrics: ReviewTrendMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browse_node_metrics: Option<BrowseNodeTrendMetrics>,
}

/// `ReviewTrendMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewTrendMetrics {
    pub occurrence_percentage: f64,
}

/// `BrowseNodeTrendMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeTrendMetrics {
    pub occurrence_percentage: BrowseNodeOccurrence,
}

/// `BrowseNodeReviewTopicsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTopicsResponse {
    pub browse_node_id: String,
    pub display_name: String,
    pub marketplace_id: String,
    pub country_code: String,
    pub date_range: DateRange,
    pub topics: BrowseNodeReviewTopics,
}

/// `BrowseNodeReviewTopics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTopics {
    pub positive_topics: Vec<BrowseNodeReviewTopic>,
    pub negative_topics: Vec<BrowseNodeReviewTopic>,
}

/// `BrowseNodeReviewTopic`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTopic {
    pub topic: String,
    pub browse_node_metrics: BrowseNodeReviewTopicMetrics,
    pub subtopics: Vec<BrowseNodeSubtopic>,
}

/// `BrowseNodeReviewTopicMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTopicMetrics {
    pub occurrence_percentage: BrowseNodeAllOccurrence,
    pub star_rating_impact: BrowseNodeAllStarRatingImpact,
}

/// `BrowseNodeAllOccurrence`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeAllOccurrence {
    pub top_twenty_five_percent_products: f64,
    pub all_products: f64,
}

/// `BrowseNodeAllStarRatingImpact`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeAllStarRatingImpact {
    pub top_twenty_five_percent_products: f64,
    pub all_products: f64,
}

/// `BrowseNodeSubtopic`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeSubtopic {
    pub subtopic: String,
    pub metrics: BrowseNodeReviewSubtopicMetrics,
}

/// `BrowseNodeReviewSubtopicMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewSubtopicMetrics {
    pub occurrence_percentage: f64,
}

/// `BrowseNodeReviewTrendsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTrendsResponse {
    pub browse_node_id: String,
    pub display_name: String,
    pub marketplace_id: String,
    pub country_code: String,
    pub date_range: DateRange,
    pub review_trends: BrowseNodeReviewTrends,
}

/// `BrowseNodeReviewTrends`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTrends {
    pub positive_topics: Vec<BrowseNodeReviewTrend>,
    pub negative_topics: Vec<BrowseNodeReviewTrend>,
}

/// `BrowseNodeReviewTrend`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTrend {
    pub topic: String,
    pub trend_metrics: Vec<BrowseNodeReviewTrendPoint>,
}

/// `BrowseNodeReviewTrendPoint`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTrendPoint {
    pub date_range: DateRange,
    pub browse_node_metrics: BrowseNodeReviewTrendMetrics,
}

/// `BrowseNodeReviewTrendMetrics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReviewTrendMetrics {
    pub occurrence_percentage: BrowseNodeAllOccurrence,
}

/// `BrowseNodeReturnTopicsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReturnTopicsResponse {
    pub browse_node_id: String,
    pub display_name: String,
    pub marketplace_id: String,
    pub country_code: String,
    pub date_range: DateRange,
    pub topics: Vec<BrowseNodeReturnTopics>,
}

/// `BrowseNodeReturnTopics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReturnTopics {
    pub topic: String,
    pub browse_node_metrics: BrowseNodeTrendMetrics,
}

/// `BrowseNodeReturnTrendsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReturnTrendsResponse {
    pub browse_node_id: String,
    pub display_name: String,
    pub marketplace_id: String,
    pub country_code: String,
    pub date_range: DateRange,
    pub return_trends: Vec<BrowseNodeReturnTrend>,
}

/// `BrowseNodeReturnTrend`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReturnTrend {
    pub topic: String,
    pub trend_metrics: Vec<BrowseNodeReturnTrendPoint>,
}

/// `BrowseNodeReturnTrendPoint`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseNodeReturnTrendPoint {
    pub date_range: DateRange,
    pub browse_node_metrics: BrowseNodeTrendMetrics,
}

// ---------------------------------------------------------------------------
// Validation and shared helpers

/// What every operation checks after the rate limit: the id's shape, the
/// marketplace and (for topics) `sortBy`.
struct Checked {
    marketplace_id: String,
    country_code: String,
    sort_by_impact: bool,
}

fn invalid(rate: &RateInfo) -> Response {
    rate.apply(errors::sp_invalid_input("Invalid input."))
}

fn no_content(rate: &RateInfo) -> Response {
    rate.apply(StatusCode::NO_CONTENT.into_response())
}

fn well_formed_marketplace(id: &str) -> bool {
    (10..=20).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn well_formed_node(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Validate the query; `Err` is the finished 400 or 204.
fn check(
    state: &AppState,
    rate: &RateInfo,
    p: &Params,
    id_ok: bool,
    needs_sort: bool,
) -> Result<Checked, Response> {
    let Some(m) = p.one("marketplaceId") else {
        return Err(invalid(rate));
    };
    let sort_by_impact = match (needs_sort, p.one("sortBy")) {
        (false, _) => false,
        (true, Some("MENTIONS")) => false,
        (true, Some("STAR_RATING_IMPACT")) => true,
        (true, _) => return Err(invalid(rate)),
    };
    if !id_ok || !well_formed_marketplace(m) {
        return Err(invalid(rate));
    }
    if !state.sells_in(m) {
        return Err(no_content(rate));
    }
    let country_code = marketplaces::by_id(m)
        .map(|x| x.country_code.to_owned())
        .unwrap_or_else(|| state.world_of(m).scenario().seller.country.clone());
    Ok(Checked {
        marketplace_id: m.to_owned(),
        country_code,
        sort_by_impact,
    })
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The 6 months up to `now`.
fn six_months(now: DateTime<Utc>) -> DateRange {
    let start = now.checked_sub_months(Months::new(6)).unwrap_or(now);
    DateRange {
        start_date: ts(start),
        end_date: ts(now),
    }
}

/// A calendar month as the fixtures write it: first day to last day, UTC.
fn month_range(first: NaiveDate) -> DateRange {
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let last = next.pred_opt().unwrap_or(first);
    let at = |d: NaiveDate| ts(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    DateRange {
        start_date: at(first),
        end_date: at(last),
    }
}

/// First days of the 6 months up to `today`'s month, oldest first.
fn last_six_months(today: NaiveDate) -> Vec<NaiveDate> {
    let first = today.with_day(1).unwrap_or(today);
    (0..6u32)
        .rev()
        .filter_map(|k| first.checked_sub_months(Months::new(k)))
        .collect()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn is_negative(sentiment: &str) -> bool {
    sentiment.eq_ignore_ascii_case("negative")
}

/// Sort topics of one sentiment: by mentions, or by the size of their
/// star-rating impact (most helpful positives, most harmful negatives first).
fn sort_topics(v: &mut [&ReviewTopicInfo], by_impact: bool) {
    v.sort_by(|a, b| {
        let key = |t: &ReviewTopicInfo| {
            if by_impact {
                t.star_rating_impact.abs()
            } else {
                f64::from(t.mentions) + t.occurrence_pct / 1000.0
            }
        };
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.topic.cmp(&b.topic))
    });
}

fn split(
    topics: &[ReviewTopicInfo],
    by_impact: bool,
) -> (Vec<&ReviewTopicInfo>, Vec<&ReviewTopicInfo>) {
    let (mut neg, mut pos): (Vec<_>, Vec<_>) =
        topics.iter().partition(|t| is_negative(&t.sentiment));
    sort_topics(&mut pos, by_impact);
    sort_topics(&mut neg, by_impact);
    pos.truncate(MAX_TOPICS);
    neg.truncate(MAX_TOPICS);
    (pos, neg)
}

/// The top-25%-products figure the world does not have (see the module docs).
fn top_quartile(all: f64, negative: bool) -> f64 {
    round2(if negative {
        all * 0.6
    } else {
        (all * 1.25).min(100.0)
    })
}

/// A browse node's display name, if the world knows the node.
fn node_name(state: &AppState, node_id: &str) -> Option<String> {
    let sc = state.seller_world().scenario();
    sc.browse_nodes
        .iter()
        .find(|n| n.id == node_id)
        .map(|n| n.name.clone())
        .or_else(|| {
            state
                .seller_world()
                .products()
                .iter()
                .find(|p| p.browse_node_id == node_id)
                .map(|p| p.browse_node_name.clone())
        })
}

// ---------------------------------------------------------------------------
// Item operations

async fn get_item_review_topics(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(asin): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getItemReviewTopics", &caller.account)?;
    let c = check(&state, &rate, &Params::new(q), is_asin(&asin), true)?;
    // Every lookup below reads the requested marketplace's world.
    let state = state.in_marketplace(&c.marketplace_id);
    let now = state.clock.now();
    let topics = state
        .seller_world()
        .review_topics(&asin, now)
        .unwrap_or_default();
    let Some(item) = state
        .seller_world()
        .item_browse_node(&asin)
        .filter(|_| !topics.is_empty())
    else {
        return Err(no_content(&rate));
    };
    let node_topics = state
        .seller_world()
        .browse_node_topics(&item.browse_node_id)
        .unwrap_or_default();
    let convert =
        |t: &ReviewTopicInfo| {
            let node_impact = node_topics.iter().find(|n| n.topic == t.topic).map(|n| {
                BrowseNodeStarRatingImpact {
                    all_products: n.star_rating_impact,
                }
            });
            ItemReviewTopic {
                topic: t.topic.clone(),
                asin_metrics: ItemReviewTopicMetrics {
                    number_of_mentions: t.mentions,
                    occurrence_percentage: t.occurrence_pct,
                    star_rating_impact: t.star_rating_impact,
                },
                browse_node_metrics: t.browse_node_occurrence_pct.map(|pct| {
                    ItemReviewBrowseNodeMetrics {
                        occurrence_percentage: BrowseNodeOccurrence { all_products: pct },
                        star_rating_impact: node_impact,
                    }
                }),
                subtopics: t
                    .subtopics
                    .iter()
                    .take(MAX_SUBTOPICS)
                    .map(|(name, mentions)| ItemReviewSubtopic {
                        subtopic: name.clone(),
                        metrics: ItemReviewSubtopicMetrics {
                            number_of_mentions: *mentions,
                            occurrence_percentage: if t.mentions == 0 {
                                0.0
                            } else {
                                round2(f64::from(*mentions) / f64::from(t.mentions) * 100.0)
                            },
                        },
                    })
                    .collect(),
            }
        };
    let (pos, neg) = split(&topics, c.sort_by_impact);
    let title = title_of(&state, &asin);
    Ok(rate.json(&ItemReviewTopicsResponse {
        asin,
        item_name: title,
        marketplace_id: c.marketplace_id,
        country_code: c.country_code,
        date_range: six_months(now),
        topics: ItemReviewTopics {
            positive_topics: pos.into_iter().map(convert).collect(),
            negative_topics: neg.into_iter().map(convert).collect(),
        },
    }))
}

fn title_of(state: &AppState, asin: &str) -> String {
    state
        .seller_world()
        .asin_idx(asin)
        .and_then(|j| state.seller_world().products().get(j))
        .map(|p| p.title.clone())
        .unwrap_or_default()
}

async fn get_item_review_trends(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(asin): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getItemReviewTrends", &caller.account)?;
    let c = check(&state, &rate, &Params::new(q), is_asin(&asin), false)?;
    // Every lookup below reads the requested marketplace's world.
    let state = state.in_marketplace(&c.marketplace_id);
    let now = state.clock.now();
    let trends = state
        .seller_world()
        .review_trends(&asin, now)
        .unwrap_or_default();
    let Some(item) = state
        .seller_world()
        .item_browse_node(&asin)
        .filter(|_| !trends.is_empty())
    else {
        return Err(no_content(&rate));
    };
    let node_topics = state
        .seller_world()
        .browse_node_topics(&item.browse_node_id)
        .unwrap_or_default();
    // Group the world's points by topic, keeping first-seen order.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut points: BTreeMap<String, Vec<&TopicTrend>> = BTreeMap::new();
    for t in &trends {
        if !points.contains_key(&t.topic) {
            order.push((t.topic.clone(), t.sentiment.clone()));
        }
        points.entry(t.topic.clone()).or_default().push(t);
    }
    let trend = |topic: &str| {
        let mut pts = points.get(topic).cloned().unwrap_or_default();
        pts.sort_by_key(|p| std::cmp::Reverse(p.month_start));
        let node = node_topics
            .iter()
            .find(|n| n.topic == topic)
            .map(|n| n.occurrence_pct);
        ItemReviewTrend {
            topic: topic.to_owned(),
            trend_metrics: pts
                .into_iter()
                .take(6)
                .map(|p| ItemReviewTrendPoint {
                    date_range: month_range(p.month_start),
                    asin_metrics: ReviewTrendMetrics {
                        occurrence_percentage: p.occurrence_pct,
                    },
                    browse_node_metrics: node.map(|pct| BrowseNodeTrendMetrics {
                        occurrence_percentage: BrowseNodeOccurrence { all_products: pct },
                    }),
                })
                .collect(),
        }
    };
    // Most present (latest month) first, 10 per sentiment.
    let latest = |topic: &str| {
        points
            .get(topic)
            .and_then(|v| v.iter().max_by_key(|p| p.month_start))
            .map(|p| p.occurrence_pct)
            .unwrap_or(0.0)
    };
    let mut pos: Vec<&str> = Vec::new();
    let mut neg: Vec<&str> = Vec::new();
    for (topic, sentiment) in &order {
        if is_negative(sentiment) {
            neg.push(topic);
        } else {
            pos.push(topic);
        }
    }
    for v in [&mut pos, &mut neg] {
        v.sort_by(|a, b| latest(b).total_cmp(&latest(a)).then_with(|| a.cmp(b)));
        v.truncate(MAX_TOPICS);
    }
    let title = title_of(&state, &asin);
    Ok(rate.json(&ItemReviewTrendsResponse {
        asin,
        item_name: title,
        marketplace_id: c.marketplace_id,
        country_code: c.country_code,
        date_range: six_months(now),
        review_trends: ItemReviewTrends {
            positive_topics: pos.into_iter().map(trend).collect(),
            negative_topics: neg.into_iter().map(trend).collect(),
        },
    }))
}

async fn get_item_browse_node(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(asin): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getItemBrowseNode", &caller.account)?;
    let c = check(&state, &rate, &Params::new(q), is_asin(&asin), false)?;
    match state.world_of(&c.marketplace_id).item_browse_node(&asin) {
        Some(n) => Ok(rate.json(&BrowseNodeResponse {
            browse_node_id: n.browse_node_id,
            display_name: n.browse_node_name,
        })),
        None => Err(no_content(&rate)),
    }
}

// ---------------------------------------------------------------------------
// Browse node operations

async fn get_browse_node_review_topics(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(node_id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getBrowseNodeReviewTopics", &caller.account)?;
    let c = check(
        &state,
        &rate,
        &Params::new(q),
        well_formed_node(&node_id),
        true,
    )?;
    // Every lookup below reads the requested marketplace's world.
    let state = state.in_marketplace(&c.marketplace_id);
    let topics = state
        .seller_world()
        .browse_node_topics(&node_id)
        .unwrap_or_default();
    let Some(name) = node_name(&state, &node_id).filter(|_| !topics.is_empty()) else {
        return Err(no_content(&rate));
    };
    let convert = |t: &ReviewTopicInfo| {
        let neg = is_negative(&t.sentiment);
        BrowseNodeReviewTopic {
            topic: t.topic.clone(),
            browse_node_metrics: BrowseNodeReviewTopicMetrics {
                occurrence_percentage: BrowseNodeAllOccurrence {
                    top_twenty_five_percent_products: top_quartile(t.occurrence_pct, neg),
                    all_products: t.occurrence_pct,
                },
                star_rating_impact: BrowseNodeAllStarRatingImpact {
                    top_twenty_five_percent_products: round2(
                        t.star_rating_impact * if neg { 0.6 } else { 1.2 },
                    ),
                    all_products: t.star_rating_impact,
                },
            },
            subtopics: t
                .subtopics
                .iter()
                .take(MAX_SUBTOPICS)
                .map(|(s, mentions)| BrowseNodeSubtopic {
                    subtopic: s.clone(),
                    metrics: BrowseNodeReviewSubtopicMetrics {
                        occurrence_percentage: if t.mentions == 0 {
                            0.0
                        } else {
                            round2(
                                (f64::from(*mentions) / f64::from(t.mentions) * 100.0).min(100.0),
                            )
                        },
                    },
                })
                .collect(),
        }
    };
    let (pos, neg) = split(&topics, c.sort_by_impact);
    Ok(rate.json(&BrowseNodeReviewTopicsResponse {
        browse_node_id: node_id,
        display_name: name,
        marketplace_id: c.marketplace_id,
        country_code: c.country_code,
        date_range: six_months(state.clock.now()),
        topics: BrowseNodeReviewTopics {
            positive_topics: pos.into_iter().map(convert).collect(),
            negative_topics: neg.into_iter().map(convert).collect(),
        },
    }))
}

async fn get_browse_node_review_trends(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(node_id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getBrowseNodeReviewTrends", &caller.account)?;
    let c = check(
        &state,
        &rate,
        &Params::new(q),
        well_formed_node(&node_id),
        false,
    )?;
    // Every lookup below reads the requested marketplace's world.
    let state = state.in_marketplace(&c.marketplace_id);
    let topics = state
        .seller_world()
        .browse_node_topics(&node_id)
        .unwrap_or_default();
    let Some(name) = node_name(&state, &node_id).filter(|_| !topics.is_empty()) else {
        return Err(no_content(&rate));
    };
    let now = state.clock.now();
    let months = last_six_months(state.seller_world().day_of(now));
    let trend = |t: &ReviewTopicInfo| BrowseNodeReviewTrend {
        topic: t.topic.clone(),
        // Oldest month first, as the model's fixture lists them.
        trend_metrics: months
            .iter()
            .map(|m| BrowseNodeReviewTrendPoint {
                date_range: month_range(*m),
                browse_node_metrics: BrowseNodeReviewTrendMetrics {
                    occurrence_percentage: BrowseNodeAllOccurrence {
                        top_twenty_five_percent_products: top_quartile(
                            t.occurrence_pct,
                            is_negative(&t.sentiment),
                        ),
                        all_products: t.occurrence_pct,
                    },
                },
            })
            .collect(),
    };
    let (pos, neg) = split(&topics, false);
    Ok(rate.json(&BrowseNodeReviewTrendsResponse {
        browse_node_id: node_id,
        display_name: name,
        marketplace_id: c.marketplace_id,
        country_code: c.country_code,
        date_range: six_months(now),
        review_trends: BrowseNodeReviewTrends {
            positive_topics: pos.into_iter().map(trend).collect(),
            negative_topics: neg.into_iter().map(trend).collect(),
        },
    }))
}

/// Returned units of the seller's ASINs in `node_id` over the 6 months up to
/// `now`, by (month start, reason).
fn node_returns(
    state: &AppState,
    node_id: &str,
    now: DateTime<Utc>,
) -> BTreeMap<(NaiveDate, String), u64> {
    let today = state.seller_world().day_of(now);
    let months = last_six_months(today);
    let mut out = BTreeMap::new();
    let asins: Vec<&str> = state
        .seller_world()
        .products()
        .iter()
        .filter(|p| p.browse_node_id == node_id)
        .map(|p| p.asin.as_str())
        .collect();
    if asins.is_empty() {
        return out;
    }
    let start = months.first().copied().unwrap_or(today);
    for r in state.seller_world().returns(start, today, now) {
        if !asins.contains(&r.asin.as_str()) {
            continue;
        }
        let d = state.seller_world().day_of(r.return_date);
        let month = d.with_day(1).unwrap_or(d);
        *out.entry((month, return_topic(&r.reason))).or_insert(0) += u64::from(r.quantity.max(1));
    }
    out
}

/// A return reason code as a topic: `NOT_AS_DESCRIBED` → "Not as described".
fn return_topic(reason: &str) -> String {
    let lower = reason.replace('_', " ").to_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Other".into(),
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round2(part as f64 / whole as f64 * 100.0)
    }
}

async fn get_browse_node_return_topics(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(node_id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getBrowseNodeReturnTopics", &caller.account)?;
    let c = check(
        &state,
        &rate,
        &Params::new(q),
        well_formed_node(&node_id),
        false,
    )?;
    // Every lookup below reads the requested marketplace's world.
    let state = state.in_marketplace(&c.marketplace_id);
    let now = state.clock.now();
    let returns = node_returns(&state, &node_id, now);
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for ((_, reason), n) in &returns {
        *by_reason.entry(reason.clone()).or_insert(0) += n;
    }
    let total: u64 = by_reason.values().sum();
    let Some(name) = node_name(&state, &node_id).filter(|_| total > 0) else {
        return Err(no_content(&rate));
    };
    let mut topics: Vec<(String, u64)> = by_reason.into_iter().collect();
    topics.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    topics.truncate(MAX_TOPICS);
    Ok(rate.json(&BrowseNodeReturnTopicsResponse {
        browse_node_id: node_id,
        display_name: name,
        marketplace_id: c.marketplace_id,
        country_code: c.country_code,
        date_range: six_months(now),
        topics: topics
            .into_iter()
            .map(|(topic, n)| BrowseNodeReturnTopics {
                topic,
                browse_node_metrics: BrowseNodeTrendMetrics {
                    occurrence_percentage: BrowseNodeOccurrence {
                        all_products: pct(n, total),
                    },
                },
            })
            .collect(),
    }))
}

async fn get_browse_node_return_trends(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(node_id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let rate = limit(&state, "getBrowseNodeReturnTrends", &caller.account)?;
    let c = check(
        &state,
        &rate,
        &Params::new(q),
        well_formed_node(&node_id),
        false,
    )?;
    // Every lookup below reads the requested marketplace's world.
    let state = state.in_marketplace(&c.marketplace_id);
    let now = state.clock.now();
    let returns = node_returns(&state, &node_id, now);
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_month: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for ((month, reason), n) in &returns {
        *by_reason.entry(reason.clone()).or_insert(0) += n;
        *by_month.entry(*month).or_insert(0) += n;
    }
    let Some(name) = node_name(&state, &node_id).filter(|_| !by_reason.is_empty()) else {
        return Err(no_content(&rate));
    };
    let mut reasons: Vec<(String, u64)> = by_reason.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons.truncate(MAX_TOPICS);
    let months = last_six_months(state.seller_world().day_of(now));
    Ok(rate.json(&BrowseNodeReturnTrendsResponse {
        browse_node_id: node_id,
        display_name: name,
        marketplace_id: c.marketplace_id,
        country_code: c.country_code,
        date_range: six_months(now),
        return_trends: reasons
            .into_iter()
            .map(|(topic, _)| BrowseNodeReturnTrend {
                trend_metrics: months
                    .iter()
                    .map(|m| BrowseNodeReturnTrendPoint {
                        date_range: month_range(*m),
                        browse_node_metrics: BrowseNodeTrendMetrics {
                            occurrence_percentage: BrowseNodeOccurrence {
                                all_products: pct(
                                    returns.get(&(*m, topic.clone())).copied().unwrap_or(0),
                                    by_month.get(m).copied().unwrap_or(0),
                                ),
                            },
                        },
                    })
                    .collect(),
                topic,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(well_formed_marketplace("ATVPDKIKX0DER"));
        assert!(well_formed_marketplace("ATVPDKIKR0DER"));
        assert!(!well_formed_marketplace("abcd"));
        assert!(well_formed_node("123456789"));
        assert!(!well_formed_node("12a"));
    }

    #[test]
    fn months() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let m = last_six_months(d);
        assert_eq!(m.len(), 6);
        assert_eq!(m[0], NaiveDate::from_ymd_opt(2025, 10, 1).unwrap());
        assert_eq!(m[5], NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        let r = month_range(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(r.end_date, "2026-02-28T00:00:00.000Z");
        assert_eq!(return_topic("NOT_AS_DESCRIBED"), "Not as described");
    }
}
