//! What one job run may spend on Amazon, and the one way flywheel follows
//! page tokens.
//!
//! Every paged loop (searchListingsItems, getInventorySummaries,
//! searchOrders, the Ads campaign list) asks a [`Pager`] before it follows a
//! token. The pager stops on a token it has already sent (Amazon's own
//! sandbox answers `searchListingsItems` with the token it was sent, and
//! following it fetches the same page forever) and after `[sync] max_pages`
//! pages of one operation in one job run. Both end the job with an error
//! naming the operation and the token problem; what the job stored before
//! stays stored.
//!
//! Beneath the loops, [`RunLimits::call_ceiling`] bounds every operation's
//! calls in one job run, paged or not, at burst + rate × `max_run_time`: the
//! most its usage plan lets a run of that length make. The client enforces
//! it where calls are made ([`super::client::ApiClient`]).

use std::collections::HashSet;
use std::time::Duration;

use super::calls::JOB_TALLY;
use super::http::ApiError;
use super::rate_limit::Plan;
use crate::config::SyncSettings;

/// What one job run may spend: `[sync] max_pages` and `max_run_time`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLimits {
    /// Pages of one operation a run follows.
    pub max_pages: u32,
    /// The time budget of one run, which bounds its calls.
    pub max_run_time: Duration,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits::from(&SyncSettings::default())
    }
}

impl From<&SyncSettings> for RunLimits {
    fn from(s: &SyncSettings) -> Self {
        RunLimits {
            max_pages: s.max_pages.max(1),
            max_run_time: s.max_run_time,
        }
    }
}

impl RunLimits {
    /// The most calls one run may make to an operation metered by `plan`:
    /// a full bucket plus what the documented rate refills within the run's
    /// time budget. The documented rate, not a learned one: an endpoint
    /// that claims a huge `x-amzn-RateLimit-Limit` must not lift the bound.
    pub fn call_ceiling(&self, plan: Plan) -> u64 {
        let refill = plan.rate.max(0.0) * self.max_run_time.as_secs_f64();
        u64::from(plan.burst.max(1)).saturating_add(refill.ceil() as u64)
    }
}

/// A page token in an error message: enough to recognise it, never a
/// whole (possibly huge) opaque blob.
fn shown(token: &str) -> String {
    const SHOWN: usize = 24;
    match token.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("`{}…`", &token[..cut]),
        None => format!("`{token}`"),
    }
}

/// Follows the page tokens of one paged pull (see the module doc).
#[derive(Debug)]
pub struct Pager {
    operation: &'static str,
    max_pages: u32,
    /// Pages this pager saw (the run's count when no job run is tallying).
    pages: u32,
    sent: HashSet<String>,
}

impl Pager {
    pub fn new(operation: &'static str, limits: &RunLimits) -> Pager {
        Pager {
            operation,
            max_pages: limits.max_pages.max(1),
            pages: 0,
            sent: HashSet::new(),
        }
    }

    /// A pull resumed from a token an earlier run saved: that token counts
    /// as sent, so an answer naming it again stops the pull.
    pub fn resuming(mut self, token: Option<&str>) -> Pager {
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            self.sent.insert(t.to_string());
        }
        self
    }

    /// The pull starts over from the first page (an expired token): the
    /// tokens sent so far may come back legitimately, the pages still count.
    pub fn restart(&mut self) {
        self.sent.clear();
    }

    /// Called once per page received, with the next-page token it names:
    /// the token to send for the next page, `None` when the pull is
    /// complete, or the error that stops a pull that would not end.
    pub fn next(&mut self, token: Option<String>) -> Result<Option<String>, ApiError> {
        self.pages += 1;
        // Counted per job run and operation, across the pulls of a run
        // (one per marketplace, restarts included).
        let pages = JOB_TALLY
            .try_with(|t| t.add_page(self.operation))
            .unwrap_or(self.pages);
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if self.sent.contains(&token) {
            return Err(ApiError::RepeatedPageToken {
                operation: self.operation.to_string(),
                page: self.pages,
                token: shown(&token),
            });
        }
        if pages >= self.max_pages {
            return Err(ApiError::TooManyPages {
                operation: self.operation.to_string(),
                pages,
            });
        }
        self.sent.insert(token.clone());
        Ok(Some(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amazon::calls::CallCounter;
    use std::sync::Arc;

    fn limits(max_pages: u32) -> RunLimits {
        RunLimits {
            max_pages,
            max_run_time: Duration::from_secs(3600),
        }
    }

    fn some(t: &str) -> Option<String> {
        Some(t.to_string())
    }

    #[test]
    fn follows_new_tokens_and_ends_without_one() {
        let mut p = Pager::new("op", &limits(10));
        assert_eq!(p.next(some("a")).unwrap(), some("a"));
        assert_eq!(p.next(some("b")).unwrap(), some("b"));
        assert_eq!(p.next(some("")).unwrap(), None, "an empty token ends");
        let mut p = Pager::new("op", &limits(10));
        assert_eq!(p.next(None).unwrap(), None);
    }

    #[test]
    fn stops_on_a_token_already_sent() {
        // The token just sent, and one sent pages ago (a cycle).
        let mut p = Pager::new("searchListingsItems", &limits(10));
        p.next(some("t1")).unwrap();
        let e = p.next(some("t1")).unwrap_err();
        assert_eq!(
            e,
            ApiError::RepeatedPageToken {
                operation: "searchListingsItems".into(),
                page: 2,
                token: "`t1`".into()
            }
        );
        let s = e.to_string();
        assert!(s.starts_with("searchListingsItems: "), "{s}");
        assert!(s.contains("already sent"), "{s}");
        let mut p = Pager::new("op", &limits(10));
        for t in ["a", "b", "c"] {
            p.next(some(t)).unwrap();
        }
        assert!(matches!(
            p.next(some("b")),
            Err(ApiError::RepeatedPageToken { page: 4, .. })
        ));
        // A resumed token counts as sent.
        let mut p = Pager::new("op", &limits(10)).resuming(Some("saved"));
        assert!(p.next(some("saved")).is_err());
        // After a restart the first pages' tokens may come again.
        let mut p = Pager::new("op", &limits(10));
        p.next(some("a")).unwrap();
        p.restart();
        assert_eq!(p.next(some("a")).unwrap(), some("a"));
    }

    #[test]
    fn stops_at_the_page_cap_but_not_on_its_last_page() {
        let mut p = Pager::new("getInventorySummaries", &limits(3));
        p.next(some("1")).unwrap();
        p.next(some("2")).unwrap();
        let e = p.next(some("3")).unwrap_err();
        assert_eq!(
            e,
            ApiError::TooManyPages {
                operation: "getInventorySummaries".into(),
                pages: 3
            }
        );
        assert!(e.to_string().contains("[sync] max_pages"), "{e}");
        let mut p = Pager::new("op", &limits(3));
        p.next(some("1")).unwrap();
        p.next(some("2")).unwrap();
        assert_eq!(
            p.next(None).unwrap(),
            None,
            "the third page may be the last"
        );
    }

    #[tokio::test]
    async fn the_cap_counts_every_pull_of_a_job_run() {
        let tally = Arc::new(CallCounter::new());
        let last = JOB_TALLY
            .scope(tally, async {
                // Two marketplaces' pulls of one run share the cap.
                let mut first = Pager::new("op", &limits(3));
                first.next(some("a")).unwrap();
                first.next(None).unwrap();
                let mut second = Pager::new("op", &limits(3));
                second.next(some("b"))
            })
            .await;
        assert!(matches!(last, Err(ApiError::TooManyPages { pages: 3, .. })));
    }

    #[test]
    fn long_tokens_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let mut p = Pager::new("op", &limits(10)).resuming(Some(&long));
        let e = p.next(Some(long)).unwrap_err().to_string();
        assert!(e.len() < 400, "{e}");
        assert!(e.contains("`xxxxxxxxxxxxxxxxxxxxxxxx…`"), "{e}");
    }

    #[test]
    fn the_call_ceiling_is_burst_plus_rate_times_budget() {
        let l = limits(1000);
        let p = |rate, burst| Plan {
            rate,
            burst,
            assumed: false,
        };
        // searchListingsItems: 5 + 5 × 3600.
        assert_eq!(l.call_ceiling(p(5.0, 5)), 18_005);
        // searchOrders: 20 + 0.0056 × 3600 = 20 + 20.16 → 41.
        assert_eq!(l.call_ceiling(p(0.0056, 20)), 41);
        let six_hours = RunLimits::default();
        assert_eq!(six_hours.max_run_time, Duration::from_secs(6 * 3600));
        assert_eq!(six_hours.max_pages, 1000);
        assert_eq!(six_hours.call_ceiling(p(0.033, 1)), 1 + 713);
    }
}
