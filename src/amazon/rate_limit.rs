//! Token buckets per (account, operation), as Amazon meters calls
//! (REFERENCE.md §2b): tokens refill at `rate` per second up to `burst`;
//! each call takes one. flywheel waits for a token instead of provoking a
//! 429. The bucket's rate is the one learned from `x-amzn-RateLimit-Limit`
//! on the last 2xx if there is one, else the documented default; the burst
//! is always the documented one.
//!
//! The maths is pure: every method takes `now` as an argument.

use std::time::{Duration, Instant};

/// Documented (or, where Amazon publishes none, assumed) usage plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Tokens per second.
    pub rate: f64,
    pub burst: u32,
    /// True where Amazon publishes no limit and this is our assumption
    /// (DESIGN §3): such buckets also slow down on 429.
    pub assumed: bool,
}

const fn plan(rate: f64, burst: u32) -> Plan {
    Plan {
        rate,
        burst,
        assumed: false,
    }
}

const fn assumed(rate: f64, burst: u32) -> Plan {
    Plan {
        rate,
        burst,
        assumed: true,
    }
}

/// Every operation flywheel calls, with its usage plan from the model's
/// "Usage Plan" table (or DESIGN §3's assumptions, marked `assumed`).
pub const PLANS: &[(&str, Plan)] = &[
    ("searchOrders", plan(0.0056, 20)),
    ("getOrder", plan(0.5, 30)),
    ("getInventorySummaries", plan(2.0, 2)),
    ("createReport", plan(0.0167, 15)),
    ("getReport", plan(2.0, 15)),
    ("getReports", plan(0.0222, 10)),
    ("getReportDocument", plan(0.0167, 15)),
    ("getCatalogItem", plan(2.0, 2)),
    ("searchCatalogItems", plan(2.0, 2)),
    ("getCompetitiveSummary", plan(0.033, 1)),
    ("getListingsItem", plan(5.0, 10)),
    ("searchListingsItems", plan(5.0, 5)),
    ("getMarketplaceParticipations", plan(0.016, 15)),
    ("getMyFeesEstimates", plan(0.5, 1)),
    // Customer Feedback API: no usage plan published (REFERENCE.md §0.6).
    ("getItemReviewTopics", assumed(1.0, 1)),
    ("getItemReviewTrends", assumed(1.0, 1)),
    ("getItemBrowseNode", assumed(1.0, 1)),
    ("getBrowseNodeReviewTopics", assumed(1.0, 1)),
    ("getBrowseNodeReviewTrends", assumed(1.0, 1)),
    // Ads API: limits are not published per operation.
    ("ads.createReport", assumed(0.5, 1)),
    ("ads.other", assumed(2.0, 2)),
];

/// The plan of an operation; unknown operations get the most cautious
/// assumption rather than none.
pub fn plan_for(operation: &str) -> Plan {
    PLANS
        .iter()
        .find(|(op, _)| *op == operation)
        .map(|(_, p)| *p)
        .or_else(|| operation.starts_with("ads.").then(|| assumed(2.0, 2)))
        .unwrap_or(assumed(0.0167, 1))
}

/// One token bucket.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    /// The rate a slowed-down assumed plan recovers to: the plan's, or the
    /// one learned from a header.
    ceiling: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket (Amazon's buckets start full).
    pub fn new(plan: Plan, now: Instant) -> Self {
        TokenBucket {
            rate: plan.rate,
            ceiling: plan.rate,
            burst: plan.burst.max(1) as f64,
            tokens: plan.burst.max(1) as f64,
            last: now,
        }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = self.last.max(now);
    }

    /// Takes a token now, or says how long until one is there.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }

    /// Adopts a rate learned from `x-amzn-RateLimit-Limit` (ignores
    /// nonsense such as 0 or NaN).
    pub fn learn_rate(&mut self, rate: f64, now: Instant) {
        if rate.is_finite() && rate > 0.0 {
            self.refill(now);
            self.rate = rate;
            self.ceiling = rate;
        }
    }

    /// After an unexpected 429: empty the bucket, so the next call waits a
    /// full token interval, and for assumed plans halve the rate.
    pub fn throttled(&mut self, now: Instant, assumed_plan: bool) {
        self.refill(now);
        self.tokens = 0.0;
        if assumed_plan {
            self.rate = (self.rate / 2.0).max(MIN_RATE);
        }
    }

    /// A call went through: an assumed plan a 429 slowed down wins back a
    /// step (the rate doubles every [`RECOVERY_STEPS`] successes) up to its
    /// ceiling. Without this, Ads and Customer Feedback calls (which carry
    /// no rate header to learn from) stayed at the slowed rate, down to one
    /// call per 10 minutes, for the life of the process after one 429
    /// storm (the fault matrix found it: the Ads job's catch-up after a
    /// storm took hours of API time to request its reports).
    pub fn succeeded(&mut self, now: Instant) {
        if self.rate < self.ceiling {
            self.refill(now);
            self.rate = (self.rate * 2f64.powf(1.0 / RECOVERY_STEPS)).min(self.ceiling);
        }
    }
}

/// The slowest an assumed plan is slowed down to: one call per 10 minutes.
const MIN_RATE: f64 = 1.0 / 600.0;

/// Successes that double a slowed-down assumed rate (a 429 halves it):
/// recovery is four times gentler than the slowdown.
const RECOVERY_STEPS: f64 = 4.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn burst_then_one_token_per_interval() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(plan(0.5, 3), t0);
        for _ in 0..3 {
            assert_eq!(b.try_take(t0), Ok(()));
        }
        // Empty: the next token comes after 1 / rate = 2 s.
        assert_eq!(b.try_take(t0), Err(secs(2.0)));
        assert_eq!(b.try_take(t0 + secs(1.0)), Err(secs(1.0)));
        assert_eq!(b.try_take(t0 + secs(2.0)), Ok(()));
        // Refill never exceeds the burst.
        let later = t0 + secs(3600.0);
        for _ in 0..3 {
            assert_eq!(b.try_take(later), Ok(()));
        }
        assert!(b.try_take(later).is_err());
    }

    #[test]
    fn search_orders_waits_three_minutes_per_call_after_its_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(plan_for("searchOrders"), t0);
        for _ in 0..20 {
            b.try_take(t0).unwrap();
        }
        let wait = b.try_take(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 1.0 / 0.0056).abs() < 1e-6, "{wait:?}");
    }

    #[test]
    fn learned_rate_replaces_the_default_but_burst_stays() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(plan_for("getReport"), t0);
        b.learn_rate(10.0, t0);
        assert_eq!(b.rate(), 10.0);
        b.learn_rate(0.0, t0);
        b.learn_rate(f64::NAN, t0);
        assert_eq!(b.rate(), 10.0, "nonsense headers are ignored");
        for _ in 0..15 {
            b.try_take(t0).unwrap();
        }
        assert_eq!(b.try_take(t0), Err(secs(0.1)));
    }

    #[test]
    fn a_429_empties_the_bucket_and_halves_assumed_rates() {
        let t0 = Instant::now();
        let mut known = TokenBucket::new(plan_for("getCatalogItem"), t0);
        known.throttled(t0, false);
        assert_eq!(known.rate(), 2.0);
        assert_eq!(known.try_take(t0), Err(secs(0.5)));
        let p = plan_for("getItemReviewTopics");
        assert!(p.assumed);
        let mut guess = TokenBucket::new(p, t0);
        guess.throttled(t0, p.assumed);
        assert_eq!(guess.rate(), 0.5);
        assert_eq!(guess.try_take(t0), Err(secs(2.0)));
    }

    #[test]
    fn a_slowed_assumed_rate_recovers_after_successes_up_to_its_plan() {
        let t0 = Instant::now();
        let p = plan_for("ads.createReport");
        let mut b = TokenBucket::new(p, t0);
        for _ in 0..20 {
            b.throttled(t0, p.assumed);
        }
        assert_eq!(b.rate(), MIN_RATE, "floored at one call per 10 minutes");
        // (successes so far, rate): doubles every 4 successes.
        let mut done = 0;
        for (n, want) in [
            (4, 2.0 * MIN_RATE),
            (8, 4.0 * MIN_RATE),
            (32, 256.0 * MIN_RATE),
        ] {
            while done < n {
                b.succeeded(t0);
                done += 1;
            }
            assert!((b.rate() - want).abs() < 1e-9, "after {n}: {}", b.rate());
        }
        for _ in 0..10 {
            b.succeeded(t0);
        }
        assert_eq!(b.rate(), p.rate, "never above the plan");
        // A learned rate is the ceiling; a plan that was never slowed
        // does not move.
        b.learn_rate(0.25, t0);
        b.throttled(t0, true);
        for _ in 0..20 {
            b.succeeded(t0);
        }
        assert_eq!(b.rate(), 0.25);
        let mut known = TokenBucket::new(plan_for("getReport"), t0);
        known.succeeded(t0);
        assert_eq!(known.rate(), 2.0);
    }

    #[test]
    fn unknown_operations_get_a_cautious_assumption() {
        let p = plan_for("someNewOperation");
        assert!(p.assumed);
        assert!(p.rate <= 0.0167 && p.burst == 1);
        assert_eq!(plan_for("ads.listCampaigns").rate, 2.0);
    }
}
