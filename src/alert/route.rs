//! Which receivers of `[[receivers]]` hear of a notification, and when
//! (DESIGN §5.2). Pure: the round asks, with what it knows and `now`.
//!
//! - A firing or repeat goes to a receiver whose `accounts`,
//!   `min_severity` and `links` take it ([`Receiver::routes`]).
//! - A resolution goes only to the receivers told of the firing, and of
//!   those only to the ones with `send_resolved`.
//! - A receiver with a daily `batch` time holds what is not critical
//!   until the next batch time (local time of `[daemon] timezone`); a
//!   critical alert goes out the round it fires.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};

use crate::config::Receiver;
use crate::model::rule::{Link, Severity};
use crate::model::series::ItemKind;

/// When a receiver hears of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// In this round's message.
    Now,
    /// In the batch message of the first round at or after this time.
    Held(DateTime<Utc>),
}

/// One notification of a round, as routing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice<'a> {
    pub account: &'a str,
    pub kind: ItemKind,
    pub severity: Severity,
    pub link: Link,
    /// Whether this receiver was told of the alert's current episode.
    pub told: bool,
}

/// Whether and when `receiver` hears of `n` at `now`; `None`: not at all.
pub fn route(
    receiver: &Receiver,
    n: &Notice<'_>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<When> {
    let goes = match n.kind {
        ItemKind::Resolved => n.told && receiver.send_resolved,
        ItemKind::Firing | ItemKind::Repeat => receiver.routes(n.account, n.severity, n.link),
    };
    if !goes {
        return None;
    }
    match receiver.batch_time() {
        Some(at) if n.severity < Severity::Critical => Some(When::Held(next_batch(now, at, tz))),
        _ => Some(When::Now),
    }
}

/// The first moment at or after `now` when the clock of `tz` shows `at`
/// (a time skipped by a DST change counts as an hour later).
pub fn next_batch(now: DateTime<Utc>, at: NaiveTime, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let local_day = now.with_timezone(&tz).date_naive();
    for d in 0..3 {
        let day = local_day + Duration::days(d);
        let wall = day.and_time(at);
        let instant = tz
            .from_local_datetime(&wall)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(wall + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc));
        if let Some(t) = instant.filter(|t| *t >= now) {
            return t;
        }
    }
    // Unreachable for real time zones: a day always has the time.
    now + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ReceiverKind;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn receiver(toml_extra: &str) -> Receiver {
        let mut r: Receiver = toml::from_str(toml_extra).unwrap();
        r.kind = Some(ReceiverKind::Slack);
        r.name = "ops".into();
        r
    }

    fn notice(kind: ItemKind, severity: Severity, told: bool) -> Notice<'static> {
        Notice {
            account: "acme-us",
            kind,
            severity,
            link: Link::Experience,
            told,
        }
    }

    #[test]
    fn routing_by_severity_account_link_resolution_and_batch() {
        use ItemKind::*;
        use Severity::*;
        let now = t("2026-03-02T10:00:00Z");
        let tomorrow_9 = When::Held(t("2026-03-03T09:00:00Z"));
        #[rustfmt::skip]
        let cases: &[(&str, Notice<'static>, Option<When>)] = &[
            ("", notice(Firing, Info, false), Some(When::Now)),
            ("min_severity = \"warning\"", notice(Firing, Info, false), None),
            ("min_severity = \"warning\"", notice(Firing, Warning, false), Some(When::Now)),
            ("min_severity = \"critical\"", notice(Repeat, Warning, false), None),
            ("min_severity = \"critical\"", notice(Repeat, Critical, false), Some(When::Now)),
            ("accounts = [\"acme-de\"]", notice(Firing, Critical, false), None),
            ("accounts = [\"acme-de\", \"acme-us\"]", notice(Firing, Critical, false), Some(When::Now)),
            ("links = [\"growth\"]", notice(Firing, Critical, false), None),
            ("links = [\"experience\"]", notice(Firing, Critical, false), Some(When::Now)),
            // A resolution: only to a receiver told of the firing that wants it.
            ("", notice(Resolved, Warning, false), None),
            ("", notice(Resolved, Warning, true), Some(When::Now)),
            ("send_resolved = false", notice(Resolved, Warning, true), None),
            // Batch: what is not critical waits for the next 09:00; critical goes now.
            ("batch = \"09:00\"", notice(Firing, Warning, false), Some(tomorrow_9)),
            ("batch = \"09:00\"", notice(Resolved, Info, true), Some(tomorrow_9)),
            ("batch = \"09:00\"", notice(Firing, Critical, false), Some(When::Now)),
            ("batch = \"10:00\"", notice(Firing, Warning, false), Some(When::Held(now))),
        ];
        for (extra, n, want) in cases {
            let r = receiver(extra);
            assert_eq!(route(&r, n, now, chrono_tz::UTC), *want, "{extra} {n:?}");
        }
    }

    #[test]
    fn the_next_batch_time_is_local_and_survives_dst() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let two_thirty = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let sh = chrono_tz::Asia::Shanghai;
        let ny = chrono_tz::America::New_York;
        let cases = [
            // 08:59 Shanghai (00:59 UTC): today's 09:00 Shanghai.
            ("2026-03-02T00:59:00Z", nine, sh, "2026-03-02T01:00:00Z"),
            // Exactly at the time: now.
            ("2026-03-02T01:00:00Z", nine, sh, "2026-03-02T01:00:00Z"),
            // Just after: tomorrow's.
            ("2026-03-02T01:00:01Z", nine, sh, "2026-03-03T01:00:00Z"),
            // New York springs forward on 2026-03-08: 02:30 does not exist
            // that day, so 03:30 EDT (07:30 UTC).
            (
                "2026-03-08T05:00:00Z",
                two_thirty,
                ny,
                "2026-03-08T07:30:00Z",
            ),
            // 09:00 EDT after the change is 13:00 UTC.
            ("2026-03-08T12:00:00Z", nine, ny, "2026-03-08T13:00:00Z"),
        ];
        for (now, at, tz, want) in cases {
            assert_eq!(next_batch(t(now), at, tz), t(want), "{now} {at} {tz}");
        }
    }
}
