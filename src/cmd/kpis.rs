//! `flywheel kpis`: the weekly 12-KPI checklist as of a date.

use chrono::NaiveDate;

use super::RecordFormat;
use crate::config::Config;
use crate::kpis::{self, Level, Report};

/// `flywheel kpis` options.
#[derive(Debug, Clone, clap::Args)]
pub struct KpisArgs {
    /// Evaluate as of this date (YYYY-MM-DD), using only data known by then;
    /// default: today in the daemon's time zone, by the configured clock.
    #[arg(long, value_name = "DATE")]
    pub at: Option<NaiveDate>,
    /// Subject level: the marketplace checklist, or per ASIN, SKU or campaign.
    #[arg(long, value_enum, default_value = "marketplace")]
    pub by: Level,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RecordFormat,
}

/// Records the evaluation date, computes and renders; returns the text to
/// print.
pub async fn run(cfg: &Config, args: &KpisArgs) -> anyhow::Result<String> {
    let super::Opened { mut conn, now, .. } = super::open(cfg).await?;
    let at = args
        .at
        .unwrap_or_else(|| now.with_timezone(&cfg.daemon.timezone).date_naive());
    let all = kpis::compute(&mut conn, cfg, at, now)?;
    let mut kpis = kpis::at_level(&all, args.by);
    let names = super::check::account_names(&conn, cfg)?;
    for k in &mut kpis {
        let key = |f: &str| match f {
            "marketplace" => Some(k.marketplace.as_str()),
            "asin" => k.asin.as_deref(),
            "sku" => k.sku.as_deref(),
            "campaign_id" => k.campaign_id.as_deref(),
            _ => None,
        };
        let name = crate::rules::render::subject_name(&names, &k.account, key);
        k.name = name.map(|n| n.map(str::to_string));
    }
    Ok(match args.format {
        RecordFormat::Json => {
            let mut s = serde_json::to_string_pretty(&Report { at, kpis })?;
            s.push('\n');
            s
        }
        RecordFormat::Csv => {
            let records: Vec<serde_json::Value> = kpis
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?;
            super::records::csv(&[("at", at.to_string().into())], &records, &[])?
        }
        RecordFormat::Table => kpis::render_table(at, &all, args.by),
    })
}
