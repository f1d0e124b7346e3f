//! The per-process rate limiter: one [`TokenBucket`] per (account,
//! operation), shared by every job, so two jobs of one account calling the
//! same operation draw from one bucket as Amazon's does. Callers wait for a
//! token here instead of provoking a 429.
//!
//! Waiting uses tokio's clock, so tests run it with `tokio::time::pause()`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::rate_limit::{plan_for, TokenBucket};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    account: String,
    operation: String,
}

/// Token buckets keyed by (account, operation).
#[derive(Default)]
pub struct Limiter {
    buckets: Mutex<HashMap<Key, TokenBucket>>,
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

impl Limiter {
    pub fn new() -> Self {
        Limiter::default()
    }

    /// Seeds a bucket with a rate learned earlier (from the database).
    pub fn seed_rate(&self, account: &str, operation: &str, rate: f64) {
        self.with(account, operation, |b| b.learn_rate(rate, now()));
    }

    fn with<T>(&self, account: &str, operation: &str, f: impl FnOnce(&mut TokenBucket) -> T) -> T {
        let mut map = self.buckets.lock().expect("limiter lock");
        let bucket = map
            .entry(Key {
                account: account.to_string(),
                operation: operation.to_string(),
            })
            .or_insert_with(|| TokenBucket::new(plan_for(operation), now()));
        f(bucket)
    }

    /// Waits until the bucket has a token and takes it; returns how long it waited.
    pub async fn acquire(&self, account: &str, operation: &str) -> Duration {
        let start = tokio::time::Instant::now();
        loop {
            match self.with(account, operation, |b| b.try_take(now())) {
                Ok(()) => return start.elapsed(),
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// A 2xx carried `x-amzn-RateLimit-Limit: rate`.
    pub fn learn(&self, account: &str, operation: &str, rate: f64) {
        self.with(account, operation, |b| b.learn_rate(rate, now()));
    }

    /// A 429 came back despite the bucket: empty it (and slow assumed plans).
    pub fn throttled(&self, account: &str, operation: &str) {
        let assumed = plan_for(operation).assumed;
        self.with(account, operation, |b| b.throttled(now(), assumed));
    }

    /// The bucket's current rate (tokens per second).
    pub fn rate(&self, account: &str, operation: &str) -> f64 {
        self.with(account, operation, |b| b.rate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_for_tokens_instead_of_failing() {
        let l = Limiter::new();
        // createReport: burst 15, then one per 1 / 0.0167 s ≈ 59.9 s.
        for _ in 0..15 {
            assert_eq!(l.acquire("a", "createReport").await, Duration::ZERO);
        }
        let waited = l.acquire("a", "createReport").await;
        assert!(
            (waited.as_secs_f64() - 1.0 / 0.0167).abs() < 0.01,
            "{waited:?}"
        );
        // Another account has its own bucket.
        assert_eq!(l.acquire("b", "createReport").await, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn learned_rates_and_throttles_change_the_pace() {
        let l = Limiter::new();
        for _ in 0..2 {
            l.acquire("a", "getInventorySummaries").await;
        }
        l.learn("a", "getInventorySummaries", 10.0);
        let waited = l.acquire("a", "getInventorySummaries").await;
        assert!((waited.as_secs_f64() - 0.1).abs() < 0.01, "{waited:?}");
        l.throttled("a", "getItemReviewTopics");
        assert_eq!(
            l.rate("a", "getItemReviewTopics"),
            0.5,
            "assumed plan halves"
        );
        let waited = l.acquire("a", "getItemReviewTopics").await;
        assert!((waited.as_secs_f64() - 2.0).abs() < 0.01, "{waited:?}");
    }
}
