//! `flywheel check`: the command around the pure engine. It is the one place
//! in `rules` that does I/O: it reads the clock (when `--at` is absent),
//! builds snapshots through `store::snapshot`, evaluates, records the
//! evaluation dates (so the `kpi_*` views compute as of what was just
//! checked, as after `flywheel kpis`), and renders. Nothing is sent.

use chrono::{DateTime, NaiveDate, Utc};

use super::{evaluate, render, sort, Finding};
use crate::config::{Config, RuleId};

/// Output format of `flywheel check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `flywheel check` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Evaluate as of this date (YYYY-MM-DD, a marketplace day) using only
    /// data known by its end; default: today, by the configured clock.
    #[arg(long, value_name = "DATE")]
    pub at: Option<NaiveDate>,
    /// Only this rule (repeatable).
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Why `check` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("unknown rule \"{0}\"; rules: {1}")]
    UnknownRule(String, String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Parses `--rule` ids.
pub fn parse_rules(ids: &[String]) -> Result<Vec<RuleId>, CheckError> {
    ids.iter()
        .map(|id| {
            RuleId::parse(id).ok_or_else(|| {
                let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                CheckError::UnknownRule(id.clone(), known.join(", "))
            })
        })
        .collect()
}

/// Builds every marketplace's snapshot and evaluates it; returns the
/// evaluation date (the first marketplace's) and the findings, sorted.
pub fn findings(
    conn: &rusqlite::Connection,
    cfg: &Config,
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
    only: &[RuleId],
) -> Result<(NaiveDate, Vec<Finding>), CheckError> {
    let snaps = crate::store::snapshot::build_all(conn, cfg, at, now)?;
    let date = at
        .or_else(|| snaps.first().map(|(d, _)| *d))
        .unwrap_or_else(|| now.date_naive());
    let mut out = Vec::new();
    for (d, s) in &snaps {
        out.extend(evaluate(cfg, s, *d));
    }
    if !only.is_empty() {
        out.retain(|f| only.contains(&f.rule));
    }
    sort(&mut out);
    Ok((date, out))
}

/// Records, as `evaluate`, the date each configured marketplace was
/// evaluated as of: `at`, or without it the marketplace's own current day
/// (as [`findings`] evaluates). The `kpi_*` views then compute as of it.
/// The accounts and marketplaces must be in the database
/// (`store::ops::sync_accounts`).
pub fn record_evaluation_dates(
    conn: &rusqlite::Connection,
    cfg: &Config,
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(), crate::kpis::KpiError> {
    if let Some(d) = at {
        return crate::kpis::record_evaluation_dates(conn, cfg, d, now, "evaluate");
    }
    for account in &cfg.accounts {
        for m in account.marketplaces() {
            let tz: chrono_tz::Tz = m.timezone.parse().unwrap_or(chrono_tz::UTC);
            let date = now.with_timezone(&tz).date_naive();
            let skus = crate::store::kpis::skus(conn, &account.name, m.id)?;
            let e = crate::kpis::evaluation_date(
                cfg,
                &account.name,
                m.id,
                date,
                now,
                &skus,
                "evaluate",
            )?;
            crate::store::kpis::record_evaluation_date(conn, &e)?;
        }
    }
    Ok(())
}

/// Runs the command; returns the text to print.
pub async fn run_command(cfg: &Config, args: &CheckArgs) -> anyhow::Result<String> {
    let only = parse_rules(&args.rules)?;
    let now = crate::clock::Clock::from_source(&cfg.daemon.clock)
        .now()
        .await?;
    let (mut conn, _) = crate::store::open_and_migrate(&cfg.daemon.database)?;
    crate::store::ops::sync_accounts(&mut conn, cfg, now)?;
    // One transaction: the recorded dates are those of the findings printed.
    let tx = conn.transaction()?;
    let (at, found) = findings(&tx, cfg, args.at, now, &only)?;
    record_evaluation_dates(&tx, cfg, args.at, now)?;
    tx.commit()?;
    Ok(match args.format {
        Format::Json => render::json(at, &found),
        Format::Table => render::table(at, &found),
    })
}
