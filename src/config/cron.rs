//! Standard 5-field cron expressions as crontab(5) defines them, translated
//! for the `cron` crate.
//!
//! Users write what they know from crontab: `minute hour day-of-month month
//! day-of-week`, day-of-week 0–7 with 0 and 7 both Sunday, names allowed, and
//! the `@daily`-style shorthands. The `cron` crate wants a seconds field and
//! numbers Sunday as 1, and it ANDs day-of-month with day-of-week where
//! crontab ORs them when both are restricted. Rather than patching strings we
//! parse each field ourselves (which also gives precise error messages),
//! expand it to an explicit list, and hand the crate plain numbers.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone};

/// A parsed, validated crontab(5) expression.
#[derive(Clone)]
pub struct CronExpr {
    source: String,
    /// One schedule, or two when both day fields are restricted (crontab
    /// fires when either matches: the earliest of the two wins).
    schedules: Vec<cron::Schedule>,
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronExpr({:?})", self.source)
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

/// The five fields of crontab(5): name, range, and the names they accept.
const MINUTE: Field = Field::numeric("minute", 0, 59);
const HOUR: Field = Field::numeric("hour", 0, 23);
const DOM: Field = Field::numeric("day-of-month", 1, 31);
const MONTH: Field = Field {
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    ..Field::numeric("month", 1, 12)
};
const DOW: Field = Field {
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ..Field::numeric("day-of-week", 0, 7)
};

impl Field {
    /// A field of numbers `min..=max` only (no names).
    const fn numeric(name: &'static str, min: u32, max: u32) -> Field {
        Field {
            name,
            min,
            max,
            names: &[],
        }
    }

    fn value(&self, token: &str) -> Result<u32, String> {
        let lower = token.to_ascii_lowercase();
        if let Some(i) = self.names.iter().position(|n| *n == lower) {
            // Month names count from 1, weekday names from 0 (Sunday).
            return Ok(i as u32 + if self.min == 1 { 1 } else { 0 });
        }
        let n: u32 = token.parse().map_err(|_| {
            if self.names.is_empty() {
                format!("{} `{token}` is not a number", self.name)
            } else {
                format!(
                    "{} `{token}` is neither a number nor a name ({})",
                    self.name,
                    self.names.join(", ")
                )
            }
        })?;
        if n < self.min || n > self.max {
            return Err(format!(
                "{} {n} is out of range {}-{}",
                self.name, self.min, self.max
            ));
        }
        Ok(n)
    }

    /// Expands one field (`*/15`, `1-5`, `mon,wed`, `0-23/2`) to its values.
    fn expand(&self, text: &str) -> Result<BTreeSet<u32>, String> {
        let mut out = BTreeSet::new();
        for item in text.split(',') {
            if item.is_empty() {
                return Err(format!("{} has an empty list item in `{text}`", self.name));
            }
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("{} step `{s}` must be a positive number", self.name)
                    })?;
                    (r, step)
                }
                None => (item, 1),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let (a, mut b) = (self.value(a)?, self.value(b)?);
                if self.max == 7 && b == 0 && a > 0 {
                    b = 7; // `fri-sun`: Sunday closes the week
                }
                if a > b {
                    return Err(format!("{} range `{range}` runs backwards", self.name));
                }
                (a, b)
            } else {
                let a = self.value(range)?;
                // `5/10` means "from 5 to the end, every 10" in cronie.
                (a, if step > 1 { self.max } else { a })
            };
            out.extend((lo..=hi).step_by(step as usize));
        }
        Ok(out)
    }
}

fn join(values: impl IntoIterator<Item = u32>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl FromStr for CronExpr {
    type Err = String;

    fn from_str(source: &str) -> Result<Self, String> {
        let trimmed = source.trim();
        let expanded = match trimmed {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => {
                return Err(format!(
                    "unknown shorthand `{s}` (use @hourly, @daily, @weekly, @monthly or @yearly)"
                ))
            }
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ));
        }
        let minutes = MINUTE.expand(fields[0])?;
        let hours = HOUR.expand(fields[1])?;
        let doms = DOM.expand(fields[2])?;
        let months = MONTH.expand(fields[3])?;
        // crontab: 0 and 7 are Sunday. cron crate: 1 = Sunday .. 7 = Saturday.
        let dows: BTreeSet<u32> = DOW
            .expand(fields[4])?
            .into_iter()
            .map(|d| d % 7 + 1)
            .collect();
        let dom_restricted = !fields[2].starts_with('*');
        let dow_restricted = !fields[4].starts_with('*');

        let make = |dom: &str, dow: &str| {
            let spec = format!(
                "0 {} {} {} {} {}",
                join(minutes.iter().copied()),
                join(hours.iter().copied()),
                dom,
                join(months.iter().copied()),
                dow
            );
            cron::Schedule::from_str(&spec).map_err(|e| format!("cannot schedule `{source}`: {e}"))
        };
        let dom_list = join(doms.iter().copied());
        let dow_list = join(dows.iter().copied());
        let schedules = if dom_restricted && dow_restricted {
            vec![make(&dom_list, "*")?, make("*", &dow_list)?]
        } else {
            vec![make(&dom_list, &dow_list)?]
        };
        Ok(CronExpr {
            source: trimmed.to_string(),
            schedules,
        })
    }
}

impl CronExpr {
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The first firing strictly after `after`, in `after`'s time zone.
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        self.schedules
            .iter()
            .filter_map(|s| s.after(after).next())
            .min()
    }
}

impl<'de> serde::Deserialize<'de> for CronExpr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| serde::de::Error::custom(format!("bad cron expression `{s}`: {e}")))
    }
}

impl serde::Serialize for CronExpr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};
    use chrono_tz::America::Los_Angeles;

    fn next(expr: &str, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<chrono_tz::Tz> {
        let at = Los_Angeles.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        expr.parse::<CronExpr>().unwrap().next_after(&at).unwrap()
    }

    #[test]
    fn monday_eight_fires_on_monday_at_eight() {
        // 2026-11-22 is a Sunday.
        let n = next("0 8 * * 1", 2026, 11, 22, 10, 0);
        assert_eq!(n.weekday(), Weekday::Mon);
        assert_eq!((n.day(), n.hour(), n.minute()), (23, 8, 0));
        // Just after it fires, the next one is a week later.
        let n2 = next("0 8 * * 1", 2026, 11, 23, 8, 0);
        assert_eq!((n2.day(), n2.hour()), (30, 8));
    }

    #[test]
    fn sunday_is_zero_and_seven_and_names_work() {
        for expr in ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun", "0 9 * * SUN"] {
            let n = next(expr, 2026, 11, 24, 0, 0); // a Tuesday
            assert_eq!(n.weekday(), Weekday::Sun, "{expr}");
            assert_eq!(n.day(), 29, "{expr}");
        }
        let n = next("0 9 * * fri-sun", 2026, 11, 24, 0, 0);
        assert_eq!(n.weekday(), Weekday::Fri);
        let n = next("0 9 * * 6-7", 2026, 11, 24, 0, 0);
        assert_eq!(n.weekday(), Weekday::Sat);
    }

    #[test]
    fn steps_and_lists() {
        let n = next("*/15 * * * *", 2026, 11, 24, 10, 1);
        assert_eq!((n.hour(), n.minute()), (10, 15));
        let n = next("0 3,15 * * *", 2026, 11, 24, 4, 0);
        assert_eq!(n.hour(), 15);
        let n = next("@daily", 2026, 11, 24, 4, 0);
        assert_eq!((n.day(), n.hour()), (25, 0));
    }

    #[test]
    fn day_of_month_or_day_of_week_when_both_restricted() {
        // crontab(5): "1 of the month, or any Friday": from Tue 24 Nov, Friday 27 comes first.
        let n = next("0 0 1 * 5", 2026, 11, 24, 0, 0);
        assert_eq!((n.month(), n.day()), (11, 27));
        // From Sat 28 Nov, 1 Dec (a Tuesday) comes before Friday 4 Dec.
        let n = next("0 0 1 * 5", 2026, 11, 28, 0, 0);
        assert_eq!((n.month(), n.day()), (12, 1));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            (
                "0 8 * *",
                "expected 5 fields (minute hour day-of-month month day-of-week), found 4",
            ),
            ("0 25 * * *", "hour 25 is out of range 0-23"),
            ("61 * * * *", "minute 61 is out of range 0-59"),
            ("0 8 * * 8", "day-of-week 8 is out of range 0-7"),
            (
                "0 8 * * funday",
                "day-of-week `funday` is neither a number nor a name",
            ),
            ("*/0 * * * *", "minute step `0` must be a positive number"),
            ("0 8 5-1 * *", "day-of-month range `5-1` runs backwards"),
            ("@sometimes", "unknown shorthand `@sometimes`"),
        ];
        for (expr, want) in cases {
            let err = expr.parse::<CronExpr>().unwrap_err();
            assert!(err.contains(want), "{expr}: got {err:?}, want {want:?}");
        }
    }
}
