//! Builders for the rule case tables.

use chrono::{DateTime, NaiveDate, Utc};

use super::{evaluate, Finding, Snapshot, Status};
use crate::config::{Config, Override, RuleId};

pub fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// The default config (every rule enabled with DESIGN's defaults).
pub fn cfg() -> Config {
    Config::default()
}

/// An empty snapshot as of the start of `at` (UTC midnight is close
/// enough for tests that do not measure ages).
pub fn snap(at: NaiveDate) -> Snapshot {
    snap_at(at, 0)
}

/// An empty snapshot as of `hours` after the start of `at` in Los Angeles.
pub fn snap_at(at: NaiveDate, hours: i64) -> Snapshot {
    let start: DateTime<Utc> = crate::model::time::day_start(&chrono_tz::America::Los_Angeles, at)
        + chrono::Duration::hours(hours);
    let mut s = Snapshot::empty("demo", "ATVPDKIKX0DER", start);
    s.jobs.clear();
    s
}

pub fn run(cfg: &Config, s: &Snapshot, at: NaiveDate) -> Vec<Finding> {
    evaluate(cfg, s, at)
}

/// The findings of one rule.
pub fn only(f: &[Finding], rule: RuleId) -> Vec<Finding> {
    f.iter().filter(|x| x.rule == rule).cloned().collect()
}

/// Whether any of them fires.
pub fn firing(f: &[Finding]) -> bool {
    f.iter().any(|x| x.status == Status::Firing)
}

/// An `[[overrides]]` entry from TOML settings.
pub fn over(rule: &str, asin: Option<&str>, sku: Option<&str>, settings: &str) -> Override {
    Override {
        rule: rule.to_string(),
        asin: asin.map(Into::into),
        sku: sku.map(Into::into),
        settings: toml::from_str(settings).expect("settings"),
        ..Override::default()
    }
}

/// An override for a campaign.
pub fn over_campaign(rule: &str, campaign: &str, settings: &str) -> Override {
    Override {
        rule: rule.to_string(),
        campaign: Some(campaign.into()),
        settings: toml::from_str(settings).expect("settings"),
        ..Override::default()
    }
}

/// Checks one case of a table whose cases fire (`Some(true)`), stay quiet
/// (`Some(false)`) or report no data (`None`).
pub fn check(f: &[Finding], want: Option<bool>, case: &str) {
    match want {
        Some(fires) => assert_eq!(firing(f), fires, "{case}: {f:?}"),
        None => assert_eq!(f[0].status, Status::NoData, "{case}"),
    }
}
