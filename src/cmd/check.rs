//! `flywheel check`: the rules engine around one clock reading. Builds each
//! marketplace's snapshot (`store::snapshot`), evaluates (`rules::check`),
//! records the evaluation dates (so the `kpi_*` views compute as of what
//! was just checked, as after `flywheel kpis`), and renders: JSON as is,
//! the table in the reader's language ([`text_lang`]), CSV as the JSON
//! records (`records`). Nothing is sent.

use chrono::NaiveDate;

use super::RecordFormat;
use crate::config::{Config, RuleId};
use crate::i18n::Lang;
use crate::rules::{self, render};
use crate::store;
pub use render::AccountNames;

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
    pub format: RecordFormat,
}

/// Parses `--rule` ids; the error says which are known.
pub fn parse_rules(ids: &[String]) -> Result<Vec<RuleId>, String> {
    ids.iter()
        .map(|id| {
            RuleId::parse(id).ok_or_else(|| {
                let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown rule \"{id}\"; rules: {}", known.join(", "))
            })
        })
        .collect()
}

/// Runs the command for the rules in `only` (all when empty); returns the
/// text to print.
pub async fn run(cfg: &Config, args: &CheckArgs, only: &[RuleId]) -> anyhow::Result<String> {
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    // One transaction: the recorded dates are those of the findings printed.
    let tx = conn.transaction()?;
    let snaps = store::snapshot::build_all(&tx, cfg, args.at, now)?;
    let (at, found) = rules::check::findings(cfg, &snaps, args.at, now, only);
    crate::kpis::record_evaluated_as_of(&tx, cfg, args.at, now)?;
    let names = account_names(&tx, cfg)?;
    tx.commit()?;
    Ok(match args.format {
        RecordFormat::Json => render::json(at, &found, &names),
        RecordFormat::Csv => {
            // The JSON records, so the two never differ in their fields.
            let v: serde_json::Value = serde_json::from_str(&render::json(at, &found, &names))?;
            let findings = v["findings"].as_array().cloned().unwrap_or_default();
            super::records::csv(&[("at", at.to_string().into())], &findings, &["window"])?
        }
        RecordFormat::Table => {
            crate::alert::render::check_table(text_lang(cfg, None), at, &found, &names)
        }
    })
}

/// The language of what a command prints for a person: the account's
/// when the output covers one account (`account` given, or only one
/// configured), else `[alerts] language`. JSON output is always English.
pub fn text_lang(cfg: &Config, account: Option<&str>) -> Lang {
    let one = match account {
        Some(name) => cfg.accounts.iter().find(|a| a.name == name),
        None => match cfg.accounts.as_slice() {
            [only] => Some(only),
            _ => None,
        },
    };
    one.map(|a| cfg.language(a)).unwrap_or(cfg.alerts.language)
}

/// What `check`, `alerts` and `kpis` call each account's products and
/// campaigns.
pub fn account_names(
    conn: &rusqlite::Connection,
    cfg: &Config,
) -> Result<AccountNames, store::StoreError> {
    cfg.accounts
        .iter()
        .map(|a| Ok((a.name.clone(), store::names::names(conn, cfg, a)?)))
        .collect()
}
