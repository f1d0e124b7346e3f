//! Counts of API calls (operation, status class, throttled) gathered in
//! memory by the HTTP layer and flushed to `api_call_counts` by the store,
//! for `flywheel status` and the metrics endpoint.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Timelike, Utc};

pub use crate::model::calls::{CallCount, CallKey};

/// Which API a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    Sp,
    Ads,
    Lwa,
}

impl ApiKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Sp => "sp",
            ApiKind::Ads => "ads",
            ApiKind::Lwa => "lwa",
        }
    }
}

/// The status class of an HTTP status (None: no answer at all).
pub fn status_class(status: Option<u16>) -> &'static str {
    match status {
        None => "network",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(_) => "5xx",
    }
}

tokio::task_local! {
    /// The counter of the job whose future is being polled, so the sync
    /// summary can say how many calls each job made.
    pub static JOB_TALLY: std::sync::Arc<CallCounter>;
}

/// In-memory counters, drained by the store.
#[derive(Default)]
pub struct CallCounter {
    counts: Mutex<HashMap<CallKey, CallCount>>,
    /// Pages followed per operation (a job run's tally: `paging::Pager`).
    pages: Mutex<HashMap<&'static str, u32>>,
}

impl CallCounter {
    pub fn new() -> Self {
        CallCounter::default()
    }

    pub fn record(
        &self,
        account: &str,
        api: ApiKind,
        operation: &str,
        status: Option<u16>,
        at: DateTime<Utc>,
    ) {
        let hour = at
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(at);
        let key = CallKey {
            account: account.to_string(),
            api: api.as_str(),
            operation: operation.to_string(),
            status_class: status_class(status),
            hour_start: hour.format("%Y-%m-%dT%H:00:00Z").to_string(),
        };
        let mut m = self.counts.lock().expect("counter lock");
        let c = m.entry(key).or_default();
        c.calls += 1;
        if status == Some(429) {
            c.throttled += 1;
        }
    }

    /// Takes every count gathered so far (sorted, for stable writes).
    pub fn drain(&self) -> Vec<(CallKey, CallCount)> {
        let mut v: Vec<_> = self.counts.lock().expect("counter lock").drain().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Calls made to one operation of one account, every hour and status
    /// class (a job run's tally: the client's per-run call ceiling).
    pub fn calls_to(&self, account: &str, operation: &str) -> u64 {
        self.counts
            .lock()
            .expect("counter lock")
            .iter()
            .filter(|(k, _)| k.operation == operation && k.account == account)
            .map(|(_, v)| v.calls)
            .sum()
    }

    /// Counts one page of `operation`; returns the pages counted so far.
    pub fn add_page(&self, operation: &'static str) -> u32 {
        let mut m = self.pages.lock().expect("counter lock");
        let n = m.entry(operation).or_default();
        *n = n.saturating_add(1);
        *n
    }

    /// Puts back counts a flush could not write (the database was locked
    /// or full), so the next flush writes them: calls are never dropped
    /// while the process lives.
    pub fn restore(&self, rows: Vec<(CallKey, CallCount)>) {
        let mut m = self.counts.lock().expect("counter lock");
        for (k, v) in rows {
            let c = m.entry(k).or_default();
            c.calls += v.calls;
            c.throttled += v.throttled;
        }
    }

    /// Totals without draining: (calls, throttled).
    pub fn totals(&self) -> (u64, u64) {
        self.counts
            .lock()
            .expect("counter lock")
            .values()
            .fold((0, 0), |(c, t), v| (c + v.calls, t + v.throttled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counts_by_hour_and_class() {
        let c = CallCounter::new();
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 10, 59, 59).unwrap();
        c.record("a", ApiKind::Sp, "searchOrders", Some(200), t);
        c.record("a", ApiKind::Sp, "searchOrders", Some(429), t);
        c.record("a", ApiKind::Sp, "searchOrders", Some(429), t);
        c.record("a", ApiKind::Sp, "searchOrders", None, t);
        c.record(
            "a",
            ApiKind::Sp,
            "searchOrders",
            Some(200),
            t + chrono::Duration::seconds(1),
        );
        assert_eq!(c.totals(), (5, 2));
        assert_eq!(c.calls_to("a", "searchOrders"), 5);
        assert_eq!(c.calls_to("b", "searchOrders"), 0);
        assert_eq!(c.calls_to("a", "getOrder"), 0);
        let rows = c.drain();
        let find = |class: &str, hour: &str| {
            rows.iter()
                .find(|(k, _)| k.status_class == class && k.hour_start == hour)
                .map(|(_, v)| *v)
        };
        assert_eq!(
            find("2xx", "2026-11-24T10:00:00Z"),
            Some(CallCount {
                calls: 1,
                throttled: 0
            })
        );
        assert_eq!(
            find("4xx", "2026-11-24T10:00:00Z"),
            Some(CallCount {
                calls: 2,
                throttled: 2
            })
        );
        assert_eq!(
            find("network", "2026-11-24T10:00:00Z"),
            Some(CallCount {
                calls: 1,
                throttled: 0
            })
        );
        assert_eq!(
            find("2xx", "2026-11-24T11:00:00Z"),
            Some(CallCount {
                calls: 1,
                throttled: 0
            })
        );
        assert!(c.drain().is_empty(), "drained");
    }
}
