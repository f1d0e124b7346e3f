//! Token buckets per (operation, caller) on sim time, with Amazon's documented
//! limits.
//!
//! SP-API limits are each operation's "Usage Plan" table in its model
//! (`shared/amazon/sp-api/models/*.json`, in the operation's description:
//! "| Rate (requests per second) | Burst |"). Amazon publishes none for the
//! Customer Feedback API or any Ads API call; those rows are DESIGN §3's
//! assumptions and are marked `assumed`. Every operation the sim serves must
//! have a row in [`OPERATION_LIMITS`] (the `limit` helpers refuse unknown
//! names loudly, so a missing row shows up in the first test).
//!
//! The bucket maths ([`Bucket::try_take`]) is a plain function of an explicit
//! time; [`RateLimiter`] only holds the buckets. A bucket starts full (burst
//! tokens) and refills at `rate` per second of sim time, so `--speed` scales
//! refill and a frozen clock never refills.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::errors::{self, AdsShape};
use crate::server::AppState;

/// One operation's default usage plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Tokens per second.
    pub rate: f64,
    /// Bucket size.
    pub burst: u32,
    /// True when Amazon publishes no figure and this is DESIGN §3's assumption.
    pub assumed: bool,
}

const fn documented(rate: f64, burst: u32) -> Limit {
    Limit {
        rate,
        burst,
        assumed: false,
    }
}

const fn assumed(rate: f64, burst: u32) -> Limit {
    Limit {
        rate,
        burst,
        assumed: true,
    }
}

/// Operation name (the model's `operationId`) → default limit.
pub const OPERATION_LIMITS: &[(&str, Limit)] = &[
    // Orders v2026-01-01 (orders_2026-01-01.json)
    ("searchOrders", documented(0.0056, 20)),
    ("getOrder", documented(0.5, 30)),
    // FBA Inventory (fbaInventory.json)
    ("getInventorySummaries", documented(2.0, 2)),
    // Reports 2021-06-30 (reports_2021-06-30.json)
    ("createReport", documented(0.0167, 15)),
    ("getReport", documented(2.0, 15)),
    ("getReports", documented(0.0222, 10)),
    ("cancelReport", documented(0.0222, 10)),
    ("getReportDocument", documented(0.0167, 15)),
    ("getReportSchedules", documented(0.0222, 10)),
    ("createReportSchedule", documented(0.0222, 10)),
    ("getReportSchedule", documented(0.0222, 10)),
    ("cancelReportSchedule", documented(0.0222, 10)),
    // Catalog Items 2022-04-01 (catalogItems_2022-04-01.json)
    ("searchCatalogItems", documented(2.0, 2)),
    ("getCatalogItem", documented(2.0, 2)),
    // Product Pricing 2022-05-01 (productPricing_2022-05-01.json)
    ("getCompetitiveSummary", documented(0.033, 1)),
    ("getFeaturedOfferExpectedPriceBatch", documented(0.033, 1)),
    // Listings Items 2021-08-01 (listingsItems_2021-08-01.json)
    ("searchListingsItems", documented(5.0, 5)),
    ("getListingsItem", documented(5.0, 10)),
    // Sellers (sellers.json)
    ("getMarketplaceParticipations", documented(0.016, 15)),
    ("getAccount", documented(0.016, 15)),
    // Product Fees v0 (productFeesV0.json)
    ("getMyFeesEstimates", documented(0.5, 1)),
    ("getMyFeesEstimateForSKU", documented(1.0, 2)),
    ("getMyFeesEstimateForASIN", documented(1.0, 2)),
    // Sales (sales.json)
    ("getOrderMetrics", documented(0.5, 15)),
    // Customer Feedback 2024-06-01: the model has no usage plan (DESIGN §3: 1 rps, burst 1).
    ("getItemReviewTopics", assumed(1.0, 1)),
    ("getItemReviewTrends", assumed(1.0, 1)),
    ("getItemBrowseNode", assumed(1.0, 1)),
    ("getBrowseNodeReviewTopics", assumed(1.0, 1)),
    ("getBrowseNodeReviewTrends", assumed(1.0, 1)),
    ("getBrowseNodeReturnTopics", assumed(1.0, 1)),
    ("getBrowseNodeReturnTrends", assumed(1.0, 1)),
    // Ads API: nothing published (DESIGN §3: reporting create 1 per 2 s, others 2 rps).
    ("createAsyncReport", assumed(0.5, 1)),
    ("getAsyncReport", assumed(2.0, 2)),
    ("deleteAsyncReport", assumed(2.0, 2)),
    ("listProfiles", assumed(2.0, 2)),
    ("getProfileById", assumed(2.0, 2)),
    ("ListSponsoredProductsCampaigns", assumed(2.0, 2)),
];

/// The default limit of an operation, if the table has it.
pub fn limit_for(operation: &str) -> Option<Limit> {
    OPERATION_LIMITS
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, l)| *l)
}

/// One token bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    tokens: f64,
    last: DateTime<Utc>,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn full(limit: Limit, now: DateTime<Utc>) -> Bucket {
        Bucket {
            tokens: f64::from(limit.burst),
            last: now,
        }
    }

    /// Refill for the sim time since the last call, then take one token if
    /// there is one. Time going backwards refills nothing.
    pub fn try_take(&mut self, limit: Limit, now: DateTime<Utc>) -> bool {
        self.refill(limit, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Tokens available at `now` (after refill), for tests and diagnostics.
    pub fn available(&mut self, limit: Limit, now: DateTime<Utc>) -> f64 {
        self.refill(limit, now);
        self.tokens
    }

    /// Sim seconds until a token is available at `now` (0 if one is).
    pub fn wait_secs(&mut self, limit: Limit, now: DateTime<Utc>) -> f64 {
        self.refill(limit, now);
        if self.tokens >= 1.0 || limit.rate <= 0.0 {
            0.0
        } else {
            (1.0 - self.tokens) / limit.rate
        }
    }

    fn refill(&mut self, limit: Limit, now: DateTime<Utc>) {
        if now > self.last {
            let secs = (now - self.last).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            self.tokens = (self.tokens + secs * limit.rate).min(f64::from(limit.burst));
            self.last = now;
        }
    }
}

/// What a passed limit check gives the handler: the rate to report in
/// `x-amzn-RateLimit-Limit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateInfo {
    pub limit: Limit,
}

/// The SP-API rate header's name.
pub const RATE_HEADER: &str = "x-amzn-ratelimit-limit";

impl RateInfo {
    /// The header value: the rate as a decimal string (`0.0167`, `2`).
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("{}", self.limit.rate)).expect("a number is a valid header")
    }

    /// Add `x-amzn-RateLimit-Limit` to a response. The models attach it to
    /// 200, 400 and 404 only, so other statuses are left alone.
    pub fn apply(&self, resp: impl IntoResponse) -> Response {
        let mut resp = resp.into_response();
        let status = resp.status();
        if status.is_success()
            || status == StatusCode::BAD_REQUEST
            || status == StatusCode::NOT_FOUND
        {
            resp.headers_mut()
                .insert(HeaderName::from_static(RATE_HEADER), self.header_value());
        }
        resp
    }

    /// `apply` to a 200 JSON body.
    pub fn json<T: serde::Serialize>(&self, body: &T) -> Response {
        self.apply(axum::Json(body))
    }
}

/// Why a request did not get a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// The bucket is empty; a token comes in `retry_after_secs` of sim time.
    Throttled { retry_after_secs: f64 },
    /// The operation has no row in [`OPERATION_LIMITS`] (a sim bug).
    UnknownOperation,
}

/// All buckets of one running sim, keyed by (operation, caller identity).
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateLimiter {
    /// An empty limiter (every bucket starts full on first use).
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Take a token for `operation` on behalf of `identity` at `now`.
    pub fn check(
        &self,
        operation: &str,
        identity: &str,
        now: DateTime<Utc>,
    ) -> Result<RateInfo, Refused> {
        let limit = limit_for(operation).ok_or(Refused::UnknownOperation)?;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((operation.to_owned(), identity.to_owned()))
            .or_insert_with(|| Bucket::full(limit, now));
        if bucket.try_take(limit, now) {
            Ok(RateInfo { limit })
        } else {
            Err(Refused::Throttled {
                retry_after_secs: bucket.wait_secs(limit, now),
            })
        }
    }
}

/// The SP-API limit check for handlers: `Ok(RateInfo)` to attach the header
/// to the answer, or `Err(response)` to return as is (429 `QuotaExceeded`
/// without a rate header).
pub fn limit(state: &AppState, operation: &str, identity: &str) -> Result<RateInfo, Response> {
    match state.limiter.check(operation, identity, state.clock.now()) {
        Ok(info) => Ok(info),
        Err(Refused::Throttled { .. }) => Err(errors::quota_exceeded()),
        Err(Refused::UnknownOperation) => Err(unknown_operation(operation)),
    }
}

/// The Ads API limit check: like [`limit`], but the 429 is the Ads body of
/// `shape` (with `Retry-After` where the spec declares it). Ads 2xx responses
/// carry no rate header, so the `RateInfo` is informational.
pub fn limit_ads(
    state: &AppState,
    operation: &str,
    identity: &str,
    shape: AdsShape,
) -> Result<RateInfo, Response> {
    match state.limiter.check(operation, identity, state.clock.now()) {
        Ok(info) => Ok(info),
        Err(Refused::Throttled { retry_after_secs }) => {
            Err(errors::ads_throttled(shape, retry_after_secs.ceil() as u64))
        }
        Err(Refused::UnknownOperation) => Err(unknown_operation(operation)),
    }
}

fn unknown_operation(operation: &str) -> Response {
    tracing::error!(
        operation,
        "no rate limit row: add it to ratelimit::OPERATION_LIMITS"
    );
    errors::sp_internal(&format!(
        "flywheel-sim bug: operation {operation} has no row in OPERATION_LIMITS"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs)
    }

    #[test]
    fn burst_then_refill_at_rate() {
        let l = documented(0.0167, 15);
        let mut b = Bucket::full(l, at(0));
        for i in 0..15 {
            assert!(b.try_take(l, at(0)), "call {i} within burst");
        }
        assert!(!b.try_take(l, at(0)), "16th call throttled");
        // 1 / 0.0167 = 59.88 s for one token
        assert!(!b.try_take(l, at(59)));
        assert!(b.try_take(l, at(60)));
        assert!(!b.try_take(l, at(60)));
    }

    #[test]
    fn refill_caps_at_burst() {
        let l = documented(2.0, 2);
        let mut b = Bucket::full(l, at(0));
        assert!(b.try_take(l, at(0)));
        assert_eq!(b.available(l, at(3600)), 2.0);
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let l = documented(1.0, 1);
        let mut b = Bucket::full(l, at(10));
        assert!(b.try_take(l, at(10)));
        assert!(!b.try_take(l, at(5)));
        assert!(b.try_take(l, at(11)));
    }

    #[test]
    fn wait_secs_is_time_to_next_token() {
        let l = documented(0.5, 1);
        let mut b = Bucket::full(l, at(0));
        assert!(b.try_take(l, at(0)));
        assert_eq!(b.wait_secs(l, at(0)), 2.0);
        assert_eq!(b.wait_secs(l, at(1)), 1.0);
    }

    #[test]
    fn limiter_keys_by_operation_and_identity() {
        let rl = RateLimiter::new();
        assert!(rl.check("getCompetitiveSummary", "a", at(0)).is_ok());
        assert!(matches!(
            rl.check("getCompetitiveSummary", "a", at(0)),
            Err(Refused::Throttled { .. })
        ));
        assert!(
            rl.check("getCompetitiveSummary", "b", at(0)).is_ok(),
            "other account"
        );
        assert!(
            rl.check("getCatalogItem", "a", at(0)).is_ok(),
            "other operation"
        );
        assert_eq!(rl.check("nope", "a", at(0)), Err(Refused::UnknownOperation));
    }

    #[test]
    fn header_value_is_decimal_rate() {
        let info = RateInfo {
            limit: limit_for("createReport").unwrap(),
        };
        assert_eq!(info.header_value(), "0.0167");
        let info = RateInfo {
            limit: limit_for("getReport").unwrap(),
        };
        assert_eq!(info.header_value(), "2");
    }

    #[test]
    fn table_has_no_duplicates_and_marks_assumptions() {
        for (i, (name, l)) in OPERATION_LIMITS.iter().enumerate() {
            assert!(
                OPERATION_LIMITS[i + 1..].iter().all(|(n, _)| n != name),
                "{name}"
            );
            assert!(l.rate > 0.0 && l.burst >= 1, "{name}");
        }
        assert!(limit_for("getItemReviewTopics").unwrap().assumed);
        assert!(!limit_for("searchOrders").unwrap().assumed);
    }
}
