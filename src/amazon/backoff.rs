//! Retry policy for one call: exponential backoff with jitter, capped in
//! delay and in attempts, never forever. Pure: the random sample is passed
//! in, so the schedule is testable and the caller owns the RNG.

use std::time::Duration;

use super::http::ApiError;

/// How a call is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the second attempt (before jitter).
    pub base: Duration,
    /// No single wait is longer than this.
    pub cap: Duration,
}

impl RetryPolicy {
    pub fn new(max_attempts: u32, cap: Duration) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            base: Duration::from_secs(1),
            cap,
        }
    }

    /// The wait before attempt `attempt + 1` after attempt `attempt`
    /// (1-based) failed with `err`, or `None` to give up. `jitter` is a
    /// uniform sample in [0, 1): "equal jitter" keeps half the exponential
    /// delay and randomises the other half, so clients spread out but never
    /// retry immediately. A server's `Retry-After` is honoured (capped).
    pub fn next_delay(&self, attempt: u32, err: &ApiError, jitter: f64) -> Option<Duration> {
        if !err.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        if let ApiError::TokenRejected { .. } = err {
            // One immediate retry with a fresh token; a second rejection is final.
            return (attempt == 1).then_some(Duration::ZERO);
        }
        if let ApiError::Throttled {
            retry_after: Some(ra),
            ..
        } = err
        {
            return Some((*ra).min(self.cap));
        }
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX))
            .min(self.cap);
        let j = jitter.clamp(0.0, 1.0);
        Some(exp.mul_f64(0.5 + 0.5 * j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transient() -> ApiError {
        ApiError::Transient {
            operation: "op".into(),
            status: 503,
        }
    }

    #[test]
    fn grows_exponentially_with_jitter_and_caps() {
        let p = RetryPolicy::new(10, Duration::from_secs(30));
        let d = |a, j| p.next_delay(a, &transient(), j).unwrap().as_secs_f64();
        assert_eq!(d(1, 0.0), 0.5);
        assert_eq!(d(1, 0.999_999).round(), 1.0);
        assert_eq!(d(3, 0.0), 2.0);
        assert_eq!(d(5, 1.0), 16.0);
        // Capped: 2^9 s would be 512 s.
        assert_eq!(d(9, 1.0), 30.0);
        assert_eq!(d(9, 0.0), 15.0);
    }

    #[test]
    fn gives_up_after_max_attempts_and_on_permanent_errors() {
        let p = RetryPolicy::new(3, Duration::from_secs(30));
        assert!(p.next_delay(2, &transient(), 0.5).is_some());
        assert!(p.next_delay(3, &transient(), 0.5).is_none());
        let permanent = ApiError::Permanent {
            operation: "op".into(),
            status: 400,
            message: String::new(),
        };
        assert!(p.next_delay(1, &permanent, 0.5).is_none());
    }

    #[test]
    fn honours_retry_after_and_refreshes_a_rejected_token_once() {
        let p = RetryPolicy::new(5, Duration::from_secs(60));
        let throttled = |s| ApiError::Throttled {
            operation: "op".into(),
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(
            p.next_delay(1, &throttled(7), 0.9),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            p.next_delay(1, &throttled(600), 0.9),
            Some(Duration::from_secs(60))
        );
        let rejected = ApiError::TokenRejected {
            operation: "op".into(),
            status: 403,
        };
        assert_eq!(p.next_delay(1, &rejected, 0.3), Some(Duration::ZERO));
        assert_eq!(p.next_delay(2, &rejected, 0.3), None);
    }
}
