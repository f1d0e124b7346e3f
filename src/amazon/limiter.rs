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

/// Maps wall time to the time the buckets run on: the same, or sim time
/// running `speed` times faster when flywheel follows a simulated
/// marketplace's clock (its buckets refill on sim time).
struct TimeScale {
    real0: tokio::time::Instant,
    virt0: std::time::Instant,
    speed: f64,
    /// The followed clock's last reading and this clock's instant then
    /// ([`Limiter::follow`]).
    anchor: Option<(chrono::DateTime<chrono::Utc>, std::time::Instant)>,
}

/// Token buckets keyed by (account, operation).
pub struct Limiter {
    buckets: Mutex<HashMap<Key, TokenBucket>>,
    scale: Mutex<TimeScale>,
}

impl Default for Limiter {
    fn default() -> Self {
        let real0 = tokio::time::Instant::now();
        Limiter {
            buckets: Mutex::new(HashMap::new()),
            scale: Mutex::new(TimeScale {
                real0,
                virt0: real0.into_std(),
                speed: 1.0,
                anchor: None,
            }),
        }
    }
}

impl Limiter {
    pub fn new() -> Self {
        Limiter::default()
    }

    /// Runs the buckets `speed` times faster than the wall clock (a
    /// simulated marketplace's `--speed`); 0 or nonsense means 1.
    pub fn set_speed(&self, speed: f64) {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let virt0 = self.now();
        let mut s = self.scale.lock().expect("limiter lock");
        s.real0 = tokio::time::Instant::now();
        s.virt0 = virt0;
        s.speed = speed;
    }

    /// Follows a clock read at `now` running at `speed` ([`set_speed`]),
    /// and its jumps: when a simulated clock moved on further than this
    /// clock did since the last reading (`flywheel demo` jumps it to the
    /// next tick between rounds), this clock jumps as far, so the buckets
    /// refill (and tokens age) as the marketplace's own do over that time.
    /// The system clock (speed 1) is not followed in its steps: an NTP
    /// correction is not Amazon's time.
    ///
    /// [`set_speed`]: Limiter::set_speed
    pub fn follow(&self, now: chrono::DateTime<chrono::Utc>, speed: f64) {
        self.set_speed(speed);
        let virt = self.now();
        let mut s = self.scale.lock().expect("limiter lock");
        if let Some((clock0, virt0)) = s.anchor.filter(|_| s.speed != 1.0) {
            let clock_moved = (now - clock0).to_std().unwrap_or_default();
            let moved = virt.saturating_duration_since(virt0);
            if let Some(ahead) = clock_moved.checked_sub(moved) {
                s.virt0 += ahead;
            }
        }
        let virt = s.virt0 + s.real0.elapsed().mul_f64(s.speed);
        s.anchor = Some((now, virt));
    }

    fn speed(&self) -> f64 {
        self.scale.lock().expect("limiter lock").speed
    }

    /// Waits `d` on the clock the buckets run on: `d` of wall time, or
    /// `d / speed` when following a simulated marketplace at `speed` (a
    /// retry's backoff is Amazon's time, as the buckets are).
    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d.div_f64(self.speed())).await
    }

    /// Now on the clock the buckets run on (the followed clock's pace:
    /// wall time, or sim time at `speed`). Anything that expires on
    /// Amazon's side (access tokens) is timed on it too.
    pub fn now(&self) -> std::time::Instant {
        let s = self.scale.lock().expect("limiter lock");
        s.virt0 + s.real0.elapsed().mul_f64(s.speed)
    }

    /// Seeds a bucket with a rate learned earlier (from the database).
    pub fn seed_rate(&self, account: &str, operation: &str, rate: f64) {
        let now = self.now();
        self.with(account, operation, |b| b.learn_rate(rate, now));
    }

    fn with<T>(&self, account: &str, operation: &str, f: impl FnOnce(&mut TokenBucket) -> T) -> T {
        let mut map = self.buckets.lock().expect("limiter lock");
        let bucket = map
            .entry(Key {
                account: account.to_string(),
                operation: operation.to_string(),
            })
            .or_insert_with(|| TokenBucket::new(plan_for(operation), self.now()));
        f(bucket)
    }

    /// Waits until the bucket has a token and takes it; returns how long it waited.
    pub async fn acquire(&self, account: &str, operation: &str) -> Duration {
        let start = tokio::time::Instant::now();
        loop {
            let now = self.now();
            match self.with(account, operation, |b| b.try_take(now)) {
                Ok(()) => return start.elapsed(),
                Err(wait) => tokio::time::sleep(wait.div_f64(self.speed())).await,
            }
        }
    }

    /// A 2xx came back (without a rate header): an assumed plan slowed by
    /// 429s speeds up again, step by step.
    pub fn succeeded(&self, account: &str, operation: &str) {
        if plan_for(operation).assumed {
            let now = self.now();
            self.with(account, operation, |b| b.succeeded(now));
        }
    }

    /// A 2xx carried `x-amzn-RateLimit-Limit: rate`.
    pub fn learn(&self, account: &str, operation: &str, rate: f64) {
        let now = self.now();
        self.with(account, operation, |b| b.learn_rate(rate, now));
    }

    /// A 429 came back despite the bucket: empty it (and slow assumed plans).
    pub fn throttled(&self, account: &str, operation: &str) {
        let assumed = plan_for(operation).assumed;
        let now = self.now();
        self.with(account, operation, |b| b.throttled(now, assumed));
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

    #[tokio::test(start_paused = true)]
    async fn a_simulated_clock_that_jumps_refills_the_buckets() {
        // searchOrders: burst 20, then one per 180 s. At 600x a drained
        // bucket waits 0.3 s of wall time a page; after the sim's clock
        // jumps 8 hours it is full again, as the sim's own bucket is.
        let l = Limiter::new();
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        l.follow(t0, 600.0);
        for _ in 0..20 {
            l.acquire("a", "searchOrders").await;
        }
        let waited = l.acquire("a", "searchOrders").await;
        assert!((waited.as_secs_f64() - 0.3).abs() < 0.01, "{waited:?}");
        l.follow(t0 + chrono::Duration::hours(8), 600.0);
        for _ in 0..20 {
            assert_eq!(l.acquire("a", "searchOrders").await, Duration::ZERO);
        }
        // Readings that only keep pace (or step back) move nothing.
        let before = l.now();
        l.follow(t0 + chrono::Duration::hours(8), 600.0);
        l.follow(t0, 600.0);
        assert!(l.now() - before < Duration::from_millis(1));
        // At speed 1 (the system clock) a step is not followed.
        let before = l.now();
        l.follow(t0 + chrono::Duration::hours(1), 1.0);
        l.follow(t0 + chrono::Duration::hours(9), 1.0);
        assert!(l.now() - before < Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn its_clock_runs_at_the_followed_speed() {
        // Token lifetimes are timed on this clock (a one-hour token lives
        // one minute of wall time at 60x).
        let l = Limiter::new();
        l.set_speed(60.0);
        let t0 = l.now();
        tokio::time::advance(Duration::from_secs(2)).await;
        let passed = l.now() - t0;
        assert!((passed.as_secs_f64() - 120.0).abs() < 0.5, "{passed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn follows_a_faster_simulated_clock() {
        let l = Limiter::new();
        l.set_speed(60.0);
        for _ in 0..15 {
            l.acquire("a", "createReport").await;
        }
        // One token per ~60 sim seconds is one per second of wall time at 60x.
        let waited = l.acquire("a", "createReport").await;
        assert!(
            (waited.as_secs_f64() - 1.0 / 0.0167 / 60.0).abs() < 0.01,
            "{waited:?}"
        );
    }
}
