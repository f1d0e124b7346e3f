//! Marketplace days as instants. A marketplace day is a calendar day in the
//! marketplace's zone; [`day_start`] is the one place that turns it into
//! the UTC instant it begins, including on the days a DST change moves or
//! repeats local midnight.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};

/// The instant `day` begins in `tz`.
///
/// - Local midnight exists once: that instant.
/// - It exists twice (clocks go back over midnight): the earlier one, so
///   the day holds every instant whose local date is `day`.
/// - It does not exist (clocks jump forward over midnight, e.g. Santiago
///   or São Paulo): the instant of the jump, the first whose local date is
///   `day`. The transition is found by bisection, so gaps of any length and
///   at any minute are handled, not just an hour on the hour.
pub fn day_start<Z: TimeZone>(tz: &Z, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // Local time rises with UTC across a gap: find the first UTC
            // second whose local time is at or past midnight. No zone is
            // more than 26 hours from UTC.
            let local_at = |secs: i64| {
                let t = DateTime::from_timestamp(secs, 0).expect("within chrono's range");
                t.with_timezone(tz).naive_local()
            };
            let base = midnight.and_utc().timestamp();
            let (mut lo, mut hi) = (base - 26 * 3600, base + 26 * 3600);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if local_at(mid) >= midnight {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            DateTime::from_timestamp(hi, 0).expect("within chrono's range")
        }
    }
}

/// The marketplace day (in `tz`) that instant `t` falls on.
pub fn local_day<Z: TimeZone>(tz: &Z, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(tz).date_naive()
}

/// An RFC 3339 instant in UTC: how tests write a time.
#[cfg(test)]
pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use chrono_tz::Tz;

    #[test]
    fn day_start_table() {
        let cases: &[(&str, &str, &str, &str)] = &[
            // zone, day, start (UTC), why
            (
                "America/Los_Angeles",
                "2026-07-01",
                "2026-07-01T07:00:00Z",
                "summer time",
            ),
            (
                "America/Los_Angeles",
                "2026-12-01",
                "2026-12-01T08:00:00Z",
                "standard time",
            ),
            (
                "America/Los_Angeles",
                "2026-03-08",
                "2026-03-08T08:00:00Z",
                "spring-forward day: the jump is at 02:00, midnight is still PST",
            ),
            (
                "America/Los_Angeles",
                "2026-03-09",
                "2026-03-09T07:00:00Z",
                "the day after spring forward",
            ),
            (
                "America/Los_Angeles",
                "2026-11-01",
                "2026-11-01T07:00:00Z",
                "fall-back day: the repeat is at 01:00, midnight is still PDT",
            ),
            (
                "America/Santiago",
                "2022-09-11",
                "2022-09-11T04:00:00Z",
                "gap: 00:00 jumps to 01:00 -03, the day starts at the jump",
            ),
            (
                "America/Sao_Paulo",
                "2018-11-04",
                "2018-11-04T03:00:00Z",
                "gap: 00:00 jumps to 01:00 -02",
            ),
            (
                "America/Havana",
                "2023-11-05",
                "2023-11-05T04:00:00Z",
                "overlap: 01:00 -04 goes back to 00:00 -05, the earlier midnight",
            ),
            (
                "Asia/Tokyo",
                "2026-12-06",
                "2026-12-05T15:00:00Z",
                "east of UTC: the day starts the evening before in UTC",
            ),
            (
                "Europe/London",
                "2026-03-29",
                "2026-03-29T00:00:00Z",
                "the jump is at 01:00",
            ),
            ("UTC", "2026-12-06", "2026-12-06T00:00:00Z", "no offset"),
        ];
        for (zone, day, want, why) in cases {
            let tz: Tz = zone.parse().unwrap();
            let got = day_start(&tz, day.parse().unwrap());
            assert_eq!(got, utc(want), "{zone} {day}: {why}");
            assert_eq!(
                local_day(&tz, got),
                day.parse::<NaiveDate>().unwrap(),
                "{zone} {day}: {why}"
            );
            assert!(
                local_day(&tz, got - Duration::seconds(1)) < day.parse::<NaiveDate>().unwrap(),
                "{zone} {day}: the second before belongs to the day before ({why})"
            );
        }
    }
}
