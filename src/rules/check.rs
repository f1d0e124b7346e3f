//! What `flywheel check` (and `status`) evaluate: every marketplace's
//! snapshot, filtered to the rules asked for, sorted. Pure: the snapshots
//! come from `store::snapshot`, built by the caller.

use chrono::{DateTime, NaiveDate, Utc};

use super::{evaluate, sort, Finding, Snapshot};
use crate::config::{Config, RuleId};

/// Evaluates each (date, snapshot); returns the evaluation date (`at`, else
/// the first marketplace's) and the findings of the rules in `only` (all
/// when empty), sorted.
pub fn findings(
    cfg: &Config,
    snaps: &[(NaiveDate, Snapshot)],
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
    only: &[RuleId],
) -> (NaiveDate, Vec<Finding>) {
    let date = at
        .or_else(|| snaps.first().map(|(d, _)| *d))
        .unwrap_or_else(|| now.date_naive());
    let mut out = Vec::new();
    for (d, s) in snaps {
        out.extend(evaluate(cfg, s, *d));
    }
    if !only.is_empty() {
        out.retain(|f| only.contains(&f.rule));
    }
    sort(&mut out);
    (date, out)
}
