//! The weekly 12-KPI checklist of DESIGN §2.3 (`flywheel kpis`, the digest).
//!
//! The values come from the `kpi_*` SQL views of the schema (one definition
//! for flywheel and for anyone with an SQLite shell; see the KPIs section
//! of `docs/rules.md`): [`compute`] records the evaluation date of each marketplace, with the
//! UTC instants and settings the views need ([`evaluation_date`]), and reads
//! the rows back. The views use the rules' default windows; at them they
//! equal the rules' metrics (`rules::metrics`, checked by the end-to-end
//! test). Everything else here is pure: the record shape of §2.3, the
//! limits each KPI takes from its rule's settings ([`limits`]), the target
//! and status they give, compared as the rules compare ([`assess`]),
//! filtering by subject level and the table rendering.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rusqlite::Connection;
use serde::Serialize;

use crate::config::rules::StockoutRisk;
use crate::config::{Config, RuleId, Severity, SubjectRef};
use crate::i18n::{tr, tr_args, Lang};
use crate::model::marketplace;
pub use crate::model::time::day_start;
use crate::store::kpis::{self as store, EvaluationDate, KpiRow};
use crate::store::StoreError;

/// The KPIs of DESIGN §2.3, in checklist order.
pub const KPIS: [&str; 12] = [
    "conversion_rate",
    "sessions",
    "buy_box_pct",
    "bsr",
    "acos",
    "tacos",
    "return_rate",
    "feedback_sla_breaches",
    "negative_feedback_rate",
    "days_of_supply",
    "stockout_risk_skus",
    "account_health",
];

/// Subject level of a KPI record (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Level {
    Marketplace,
    Asin,
    Sku,
    Campaign,
}

/// One KPI value for one subject: DESIGN §2.3's JSON record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpi {
    pub kpi: String,
    pub account: String,
    pub marketplace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_term: Option<String>,
    /// The product's or campaign's name (`flywheel kpis` fills it): absent
    /// at marketplace level, null when not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<String>>,
    /// The level; null when there is no data (never 0 for "unknown").
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Change against the same KPI a week earlier, percent of its value
    /// then; absent when either week has no value ([`with_change`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The target as data, for texts in the reader's language; `target`
    /// is its English text ([`Target::text`]).
    #[serde(skip)]
    pub goal: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A KPI's target as data: what [`assess`] compares, written by
/// [`Target::text`] as the JSON record's `target` (English, for scripts)
/// and by [`Target::words`] in a reader's language.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The change against last week stays above minus this percent
    /// (sessions: "change > -30%").
    FallAtMost(f64),
    /// The change stays below this percent (bsr: "change < +20%").
    RiseAtMost(f64),
    /// ODR below this percent and the account status NORMAL.
    OdrBelow(f64),
    /// None at all (unanswered feedback, SKUs at stockout risk).
    Zero,
    Range(f64, f64),
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    /// The target as `flywheel kpis --format json` has always written it:
    /// "change > -30%", "< 1 and NORMAL", "0", "18-25", ">= 10", "<= 5".
    pub fn text(&self) -> String {
        match *self {
            Target::FallAtMost(m) => format!("change > -{}%", fmt_num(m)),
            Target::RiseAtMost(m) => format!("change < +{}%", fmt_num(m)),
            Target::OdrBelow(m) => format!("< {} and NORMAL", fmt_num(m)),
            Target::Zero => "0".to_string(),
            Target::Range(lo, hi) => format!("{}-{}", fmt_num(lo), fmt_num(hi)),
            Target::AtLeast(lo) => format!(">= {}", fmt_num(lo)),
            Target::AtMost(hi) => format!("<= {}", fmt_num(hi)),
        }
    }

    /// The target in `lang` (the English words equal [`Target::text`]).
    pub fn words(&self, lang: Lang) -> String {
        let one = |id: &str, name: &str, x: f64| tr_args(lang, id, &[(name, fmt_num(x).into())]);
        match *self {
            Target::FallAtMost(m) => one("kpi-target-change-above", "pct", m),
            Target::RiseAtMost(m) => one("kpi-target-change-below", "pct", m),
            Target::OdrBelow(m) => one("kpi-target-odr", "max", m),
            Target::Zero => tr(lang, "kpi-target-zero"),
            Target::Range(lo, hi) => tr_args(
                lang,
                "kpi-target-range",
                &[("min", fmt_num(lo).into()), ("max", fmt_num(hi).into())],
            ),
            Target::AtLeast(lo) => one("kpi-target-at-least", "min", lo),
            Target::AtMost(hi) => one("kpi-target-at-most", "max", hi),
        }
    }
}

impl Kpi {
    /// A record of `kpi` for a marketplace, without a subject, value,
    /// target or status yet.
    pub fn new(kpi: String, account: String, marketplace: String) -> Kpi {
        Kpi {
            kpi,
            account,
            marketplace,
            asin: None,
            sku: None,
            campaign_id: None,
            search_term: None,
            name: None,
            value: None,
            label: None,
            change_pct: None,
            target: None,
            goal: None,
            status: None,
        }
    }

    pub fn level(&self) -> Level {
        if self.asin.is_some() {
            Level::Asin
        } else if self.sku.is_some() {
            Level::Sku
        } else if self.campaign_id.is_some() {
            Level::Campaign
        } else {
            Level::Marketplace
        }
    }
}

/// How a KPI stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NoData,
    Ok,
    Warning,
    Critical,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NoData => "no_data",
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
        }
    }

    fn of(severity: Severity) -> Status {
        match severity {
            Severity::Info => Status::Ok,
            Severity::Warning => Status::Warning,
            Severity::Critical => Status::Critical,
        }
    }
}

/// What `flywheel kpis --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub at: NaiveDate,
    pub kpis: Vec<Kpi>,
}

/// Why KPIs could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum KpiError {
    #[error("marketplace {0} is not known to flywheel: check the account's marketplaces")]
    UnknownMarketplace(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for KpiError {
    fn from(e: rusqlite::Error) -> Self {
        KpiError::Store(e.into())
    }
}

fn ts(t: DateTime<Utc>) -> String {
    crate::store::ops::ts(t)
}

/// The newest feedback day whose SLA (`hours` from the start of that day)
/// has run out at the start of `at` (DESIGN §2.2 feedback_response_sla).
pub fn sla_last_day<Tz: TimeZone>(tz: &Tz, at: NaiveDate, hours: u32) -> NaiveDate {
    let at_start = day_start(tz, at);
    let mut d = at;
    for _ in 0..400 {
        if day_start(tz, d) + Duration::hours(hours as i64) <= at_start {
            return d;
        }
        d -= Duration::days(1);
    }
    d
}

/// What a run records for one marketplace: the date, its UTC instants in
/// the marketplace zone, and the settings the views read. `skus` are the
/// marketplace's SKUs (with ASIN) for per-SKU lead-time overrides.
pub fn evaluation_date(
    cfg: &Config,
    account: &str,
    marketplace_id: &str,
    at: NaiveDate,
    now: DateTime<Utc>,
    skus: &[(String, Option<String>)],
    recorded_by: &'static str,
) -> Result<EvaluationDate, KpiError> {
    let mp = marketplace::lookup(marketplace_id)
        .ok_or_else(|| KpiError::UnknownMarketplace(marketplace_id.to_string()))?;
    let tz = mp.tz;
    fn subject<'a>(
        account: &'a str,
        marketplace: &'a str,
        sku: Option<&'a str>,
        asin: Option<&'a str>,
    ) -> SubjectRef<'a> {
        SubjectRef {
            account,
            marketplace,
            sku,
            asin,
            campaign: None,
        }
    }
    let cover = |s: &StockoutRisk| s.lead_time_days + s.safety_days;
    let default: StockoutRisk = cfg.rule_settings(
        RuleId::StockoutRisk,
        &subject(account, marketplace_id, None, None),
    );
    let mut per_sku = serde_json::Map::new();
    for (sku, asin) in skus {
        let s: StockoutRisk = cfg.rule_settings(
            RuleId::StockoutRisk,
            &subject(account, marketplace_id, Some(sku), asin.as_deref()),
        );
        if cover(&s) != cover(&default) {
            per_sku.insert(sku.clone(), cover(&s).into());
        }
    }
    let sla = cfg.rule_settings::<crate::config::rules::FeedbackResponseSla>(
        RuleId::FeedbackResponseSla,
        &subject(account, marketplace_id, None, None),
    );
    Ok(EvaluationDate {
        account: account.to_string(),
        marketplace_id: marketplace_id.to_string(),
        at: at.to_string(),
        at_start: ts(day_start(&tz, at)),
        at_end: ts(day_start(&tz, at + Duration::days(1))),
        window30_start: ts(day_start(&tz, at - Duration::days(30))),
        attribution_days: cfg.sync.attribution_days,
        sla_max_rating: sla.max_rating,
        sla_last_day: sla_last_day(&tz, at, sla.response_hours).to_string(),
        cover_days_json: serde_json::json!({ "default": cover(&default), "skus": per_sku })
            .to_string(),
        recorded_by,
        recorded_at: ts(now),
    })
}

/// Records `at` as the evaluation date of every configured marketplace, so
/// the `kpi_*` views compute as of it. `recorded_by` is `kpis` or
/// `evaluate` (an evaluation round records its date the same way). The
/// accounts and marketplaces must be in the database
/// (`store::ops::sync_accounts`).
pub fn record_evaluation_dates(
    conn: &Connection,
    cfg: &Config,
    at: NaiveDate,
    now: DateTime<Utc>,
    recorded_by: &'static str,
) -> Result<(), KpiError> {
    for account in &cfg.accounts {
        for mp in account.marketplaces() {
            let skus = store::skus(conn, &account.name, mp.id)?;
            let e = evaluation_date(cfg, &account.name, mp.id, at, now, &skus, recorded_by)?;
            store::record_evaluation_date(conn, &e)?;
        }
    }
    Ok(())
}

/// Records, as an evaluation round does (`recorded_by` "evaluate"), the
/// date each configured marketplace was evaluated as of: `at`, or without
/// it the marketplace's own current day (as `store::snapshot::build_all`
/// builds its snapshot). The `kpi_*` views then compute as of it. The
/// accounts and marketplaces must be in the database.
pub fn record_evaluated_as_of(
    conn: &Connection,
    cfg: &Config,
    at: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(), KpiError> {
    if let Some(d) = at {
        return record_evaluation_dates(conn, cfg, d, now, "evaluate");
    }
    for account in &cfg.accounts {
        for m in account.marketplaces() {
            let tz = m.tz;
            let date = now.with_timezone(&tz).date_naive();
            let skus = store::skus(conn, &account.name, m.id)?;
            let e = evaluation_date(cfg, &account.name, m.id, date, now, &skus, "evaluate")?;
            store::record_evaluation_date(conn, &e)?;
        }
    }
    Ok(())
}

/// Records the evaluation date of every configured marketplace and reads
/// every KPI record as of `at`, with targets and status, in one transaction.
pub fn compute(
    conn: &mut Connection,
    cfg: &Config,
    at: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<Kpi>, KpiError> {
    let tx = conn.transaction()?;
    // Last week's values first (the same views as of seven days earlier),
    // so that `at` is the date left recorded, as the digest does.
    let read_all = |tx: &Connection, at: NaiveDate| -> Result<Vec<KpiRow>, KpiError> {
        record_evaluation_dates(tx, cfg, at, now, "kpis")?;
        let mut rows = Vec::new();
        for account in &cfg.accounts {
            for mp in account.marketplaces() {
                rows.extend(store::read_kpis(tx, &account.name, mp.id)?);
            }
        }
        Ok(rows)
    };
    let last_week = read_all(&tx, at - Duration::days(7))?;
    let rows = with_change(read_all(&tx, at)?, &last_week);
    let mut out: Vec<Kpi> = rows
        .into_iter()
        .map(|row| assess(cfg, record(row)))
        .collect();
    tx.commit()?;
    sort(&mut out);
    Ok(out)
}

/// Fills in `change_pct` from the same KPI of the same subject a week
/// earlier (`last_week`: the rows as of seven days before), percent of
/// that value, for the rows whose view has none. `sessions` and `bsr`
/// keep their views' own, which is the same comparison (the last 7 days
/// against the 7 before). Every KPI has a prior period; the change stays
/// empty where either week has no value, or last week's is 0 (a change
/// from none at all is no percentage: `feedback_sla_breaches` and
/// `stockout_risk_skus` are mostly 0, and their target is the level).
pub fn with_change(rows: Vec<KpiRow>, last_week: &[KpiRow]) -> Vec<KpiRow> {
    type Key<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    fn key(r: &KpiRow) -> Key<'_> {
        (
            &r.kpi,
            &r.account,
            &r.marketplace_id,
            r.asin.as_deref(),
            r.sku.as_deref(),
            r.campaign_id.as_deref(),
        )
    }
    let before: BTreeMap<Key<'_>, f64> = last_week
        .iter()
        .filter_map(|r| Some((key(r), r.value?)))
        .collect();
    rows.into_iter()
        .map(|mut r| {
            if r.change_pct.is_none() {
                let prior = before.get(&key(&r)).copied();
                r.change_pct = match (r.value, prior) {
                    (Some(now), Some(b)) if b != 0.0 => Some((now - b) * 100.0 / b),
                    _ => None,
                };
            }
            r
        })
        .collect()
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A view row as a §2.3 record (values rounded to 4 decimals, as truth).
pub fn record(row: KpiRow) -> Kpi {
    Kpi {
        asin: row.asin,
        sku: row.sku,
        campaign_id: row.campaign_id,
        value: row.value.map(round4),
        label: row.label,
        change_pct: row.change_pct.map(round4),
        ..Kpi::new(row.kpi, row.account, row.marketplace_id)
    }
}

/// Checklist order, then subject.
pub fn sort(kpis: &mut [Kpi]) {
    let rank = |k: &Kpi| KPIS.iter().position(|x| *x == k.kpi).unwrap_or(KPIS.len());
    kpis.sort_by(|a, b| {
        (&a.account, &a.marketplace, rank(a), a.level())
            .cmp(&(&b.account, &b.marketplace, rank(b), b.level()))
            .then_with(|| (&a.asin, &a.sku, &a.campaign_id).cmp(&(&b.asin, &b.sku, &b.campaign_id)))
    });
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A KPI's limits: its rule's thresholds for the subject (with its
/// `[[overrides]]`), read here once for the checklist's target and status
/// and the digest's trend line. The rule judges with the same settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limits {
    /// The value must be at least this.
    pub min: Option<f64>,
    /// The value must be at most this (below it, for account_health).
    pub max: Option<f64>,
    /// `change_pct` must stay above minus this (sessions).
    pub max_drop_pct: Option<f64>,
    /// `change_pct` must stay below this (bsr).
    pub max_rise_pct: Option<f64>,
}

/// The rule behind a KPI (its severity is the KPI's bad status) and the
/// KPI's limits for a subject; `None` for an unknown KPI id.
pub fn limits(cfg: &Config, kpi: &str, subject: &SubjectRef<'_>) -> Option<(RuleId, Limits)> {
    use crate::config::rules::*;
    let at_least = |min: f64| Limits {
        min: Some(min),
        ..Limits::default()
    };
    let at_most = |max: f64| Limits {
        max: Some(max),
        ..Limits::default()
    };
    let change = |max_drop_pct: Option<f64>, max_rise_pct: Option<f64>| Limits {
        max_drop_pct,
        max_rise_pct,
        ..Limits::default()
    };
    // The KPI's rule and what one of its settings for the subject gives.
    fn read<T: RuleSettings>(
        cfg: &Config,
        subject: &SubjectRef<'_>,
        f: impl FnOnce(&T) -> Limits,
    ) -> (RuleId, Limits) {
        (T::ID, f(&cfg.rule_settings(T::ID, subject)))
    }
    Some(match kpi {
        "conversion_rate" => read(cfg, subject, |s: &ConversionRate| at_least(s.min_percent)),
        "sessions" => read(cfg, subject, |s: &TrafficTrend| {
            change(Some(s.max_drop_percent), None)
        }),
        "buy_box_pct" => read(cfg, subject, |s: &BuyBox| at_least(s.min_percent)),
        "bsr" => read(cfg, subject, |s: &BsrTrend| {
            change(None, Some(s.max_worsening_percent))
        }),
        "acos" => read(cfg, subject, |s: &AcosBand| Limits {
            max: Some(s.max_percent),
            ..at_least(s.min_percent)
        }),
        "tacos" => read(cfg, subject, |s: &Tacos| at_most(s.max_percent)),
        "return_rate" => read(cfg, subject, |s: &ReturnRate| at_most(s.max_percent)),
        "feedback_sla_breaches" => (RuleId::FeedbackResponseSla, at_most(0.0)),
        "negative_feedback_rate" => read(cfg, subject, |s: &FeedbackRate| at_most(s.max_percent)),
        "days_of_supply" => {
            let s: StockoutRisk = cfg.rule_settings(RuleId::StockoutRisk, subject);
            let t: InventoryTurnover = cfg.rule_settings(RuleId::InventoryTurnover, subject);
            let (low, high) = (
                (s.lead_time_days + s.safety_days) as f64,
                t.max_days_of_supply as f64,
            );
            (
                RuleId::StockoutRisk,
                Limits {
                    max: (low <= high).then_some(high),
                    ..at_least(low)
                },
            )
        }
        "stockout_risk_skus" => (RuleId::StockoutRisk, at_most(0.0)),
        "account_health" => read(cfg, subject, |s: &AccountHealth| at_most(s.max_odr_percent)),
        _ => return None,
    })
}

/// The line a KPI's trend chart draws: its one limit in the KPI's unit
/// (the upper one of a band); `None` for change targets and ranges of
/// subjects.
pub fn threshold_line(cfg: &Config, kpi: &str, subject: &SubjectRef<'_>) -> Option<f64> {
    let (_, l) = limits(cfg, kpi, subject)?;
    match kpi {
        "conversion_rate" | "buy_box_pct" => l.min,
        "acos" | "tacos" | "return_rate" | "negative_feedback_rate" | "account_health" => l.max,
        _ => None,
    }
}

/// Adds the target and status the config's rule thresholds give (with the
/// subject's overrides), compared as the rules compare
/// (`rules::metrics::at_least`, `above`: float noise forgiven). A KPI
/// without a value has status `no_data`.
pub fn assess(cfg: &Config, mut k: Kpi) -> Kpi {
    use crate::rules::metrics::{above, at_least, below};
    let subject = SubjectRef {
        account: &k.account,
        marketplace: &k.marketplace,
        sku: k.sku.as_deref(),
        asin: k.asin.as_deref(),
        campaign: k.campaign_id.as_deref(),
    };
    let Some((rule, l)) = limits(cfg, &k.kpi, &subject) else {
        return k;
    };
    let v = k.value;
    let (goal, off) = match k.kpi.as_str() {
        // Change targets: a fall of sessions, a rise of the rank.
        "sessions" | "bsr" => {
            let (limit, sign, goal) = match l.max_drop_pct {
                Some(m) => (m, -1.0, Target::FallAtMost(m)),
                None => {
                    let m = l.max_rise_pct.unwrap_or(f64::INFINITY);
                    (m, 1.0, Target::RiseAtMost(m))
                }
            };
            (
                Some(goal),
                k.change_pct.is_some_and(|c| at_least(sign * c, limit)),
            )
        }
        "account_health" => {
            let m = l.max.unwrap_or(f64::INFINITY);
            let abnormal = k.label.as_deref().is_some_and(|l| l != "NORMAL");
            (
                Some(Target::OdrBelow(m)),
                v.is_some_and(|v| at_least(v, m) || abnormal),
            )
        }
        "feedback_sla_breaches" | "stockout_risk_skus" => {
            (Some(Target::Zero), v.is_some_and(|v| v > 0.0))
        }
        _ => {
            let goal = match (l.min, l.max) {
                (Some(lo), Some(hi)) => Some(Target::Range(lo, hi)),
                (Some(lo), None) => Some(Target::AtLeast(lo)),
                (None, Some(hi)) => Some(Target::AtMost(hi)),
                (None, None) => None,
            };
            let low = |v: f64| l.min.is_some_and(|lo| below(v, lo));
            let high = |v: f64| l.max.is_some_and(|hi| above(v, hi));
            (goal, v.is_some_and(|v| low(v) || high(v)))
        }
    };
    // days_of_supply: too long is inventory_turnover's business.
    let rule = match (k.kpi.as_str(), v) {
        ("days_of_supply", Some(v)) if l.max.is_some_and(|hi| above(v, hi)) => {
            RuleId::InventoryTurnover
        }
        _ => rule,
    };
    k.target = Some(goal.map(|g| g.text()).unwrap_or_default());
    k.goal = goal;
    k.status = Some(match v {
        None => Status::NoData,
        Some(_) if off => Status::of(cfg.rules.common(rule).severity),
        Some(_) => Status::Ok,
    });
    k
}

/// The records of one subject level.
pub fn at_level(kpis: &[Kpi], level: Level) -> Vec<Kpi> {
    kpis.iter()
        .filter(|k| k.level() == level)
        .cloned()
        .collect()
}

fn cell(x: Option<f64>) -> String {
    x.map(fmt_num).unwrap_or_else(|| "-".to_string())
}

fn change(x: Option<f64>) -> String {
    x.map(|c| format!("{}{}%", if c > 0.0 { "+" } else { "" }, fmt_num(c)))
        .unwrap_or_default()
}

/// The human table: for `Marketplace`, the 12-KPI checklist per marketplace
/// (KPIs kept per ASIN or SKU only are summarised from those records);
/// otherwise one line per subject and KPI.
pub fn render_table(at: NaiveDate, kpis: &[Kpi], level: Level) -> String {
    let mut groups: BTreeMap<(&str, &str), Vec<&Kpi>> = BTreeMap::new();
    for k in kpis {
        groups
            .entry((k.account.as_str(), k.marketplace.as_str()))
            .or_default()
            .push(k);
    }
    let mut out = String::new();
    for ((account, mp), ks) in groups {
        let country = marketplace::lookup(mp).map(|m| m.country).unwrap_or("");
        let _ = writeln!(out, "{account} / {mp} {country}: KPIs as of {at}");
        if level == Level::Marketplace {
            checklist(&mut out, &ks);
        } else {
            subjects(&mut out, &ks, level);
        }
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("no KPIs: no account or marketplace configured\n");
    }
    out
}

fn checklist(out: &mut String, ks: &[&Kpi]) {
    let _ = writeln!(
        out,
        "  {:<24} {:>10} {:>9} {:<20} {:<9} note",
        "kpi", "value", "change", "target", "status"
    );
    for id in KPIS {
        let mine: Vec<&Kpi> = ks.iter().copied().filter(|k| k.kpi == id).collect();
        if let Some(k) = mine.iter().find(|k| k.level() == Level::Marketplace) {
            let note = match (&k.label, id) {
                (Some(l), _) => format!("status {l}"),
                (None, "sessions" | "conversion_rate" | "buy_box_pct") => {
                    "account daily series".into()
                }
                (None, "acos" | "tacos") => "matured ads window".into(),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<24} {:>10} {:>9} {:<20} {:<9} {note}",
                id,
                cell(k.value),
                change(k.change_pct),
                k.target.as_deref().unwrap_or(""),
                k.status.map(Status::as_str).unwrap_or(""),
            );
            continue;
        }
        // Only subject-level records: summarise them.
        let known = mine.iter().filter(|k| k.value.is_some()).count();
        let worst = mine
            .iter()
            .filter_map(|k| k.status)
            .max()
            .unwrap_or(Status::NoData);
        let flagged: Vec<String> = mine
            .iter()
            .filter(|k| matches!(k.status, Some(Status::Warning | Status::Critical)))
            .map(|k| subject_name(k))
            .collect();
        let note = if mine.is_empty() {
            "no subjects".to_string()
        } else if flagged.is_empty() {
            format!("{known} of {} with data, all ok", mine.len())
        } else {
            let mut names = flagged
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if flagged.len() > 5 {
                names.push_str(", ...");
            }
            format!("{} of {} off target: {names}", flagged.len(), mine.len())
        };
        let status = if mine.is_empty() || known == 0 {
            Status::NoData
        } else {
            worst.max(Status::Ok)
        };
        let target = mine
            .first()
            .and_then(|k| k.target.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<24} {:>10} {:>9} {:<20} {:<9} {note}",
            id,
            "",
            "",
            target,
            status.as_str()
        );
    }
}

fn subject_name(k: &Kpi) -> String {
    k.asin
        .clone()
        .or_else(|| k.sku.clone())
        .or_else(|| k.campaign_id.clone())
        .unwrap_or_default()
}

fn subjects(out: &mut String, ks: &[&Kpi], level: Level) {
    let head = match level {
        Level::Asin => "asin",
        Level::Sku => "sku",
        _ => "campaign",
    };
    let _ = writeln!(
        out,
        "  {:<20} {:<24} {:>10} {:>9} {:<20} status",
        head, "kpi", "value", "change", "target"
    );
    let mut rows: Vec<&&Kpi> = ks.iter().filter(|k| k.level() == level).collect();
    rows.sort_by_key(|k| subject_name(k));
    for k in rows {
        let _ = writeln!(
            out,
            "  {:<20} {:<24} {:>10} {:>9} {:<20} {}",
            subject_name(k),
            k.kpi,
            cell(k.value),
            change(k.change_pct),
            k.target.as_deref().unwrap_or(""),
            k.status.map(Status::as_str).unwrap_or("")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kpi_has_a_name_in_every_language() {
        use crate::i18n::{kpi_name, Lang};
        for kpi in KPIS {
            for &lang in Lang::ALL {
                let name = kpi_name(lang, kpi);
                assert_ne!(name, kpi, "{kpi} has no name in {lang}");
            }
            assert_ne!(kpi_name(Lang::En, kpi), kpi_name(Lang::ZhCn, kpi), "{kpi}");
        }
    }

    fn cfg(extra: &str) -> Config {
        crate::config::test_config(extra)
    }

    fn kpi(id: &str, value: Option<f64>) -> Kpi {
        Kpi {
            value,
            ..Kpi::new(id.into(), "a".into(), "ATVPDKIKX0DER".into())
        }
    }

    fn status(c: &Config, k: Kpi) -> Status {
        assess(c, k).status.unwrap()
    }

    #[test]
    fn status_at_the_threshold_and_just_over() {
        let c = cfg("");
        let s = |id: &str, v: f64| status(&c, kpi(id, Some(v)));
        // (kpi, exactly at the threshold: ok, just over it: the status)
        let cases = [
            ("conversion_rate", 12.0, 11.99, Status::Warning),
            ("buy_box_pct", 90.0, 89.99, Status::Warning),
            ("acos", 25.0, 25.01, Status::Warning),
            ("tacos", 12.0, 12.01, Status::Warning),
            ("return_rate", 3.0, 3.01, Status::Warning),
            ("negative_feedback_rate", 2.0, 2.01, Status::Warning),
            ("feedback_sla_breaches", 0.0, 1.0, Status::Warning),
            ("stockout_risk_skus", 0.0, 1.0, Status::Warning),
            ("days_of_supply", 37.0, 36.99, Status::Warning),
            ("account_health", 0.99, 1.0, Status::Critical),
        ];
        for (id, at, over, want_over) in cases {
            assert_eq!(s(id, at), Status::Ok, "{id} at {at}");
            assert_eq!(s(id, over), want_over, "{id} at {over}");
        }
        assert_eq!(s("acos", 18.0), Status::Ok);
        assert_eq!(s("acos", 17.99), Status::Warning);
        assert_eq!(s("days_of_supply", 45.0), Status::Ok);
        assert_eq!(s("days_of_supply", 45.01), Status::Warning);
    }

    #[test]
    fn float_noise_at_the_threshold_is_the_threshold_as_in_the_rules() {
        let c = cfg("");
        let s = |id: &str, v: f64| status(&c, kpi(id, Some(v)));
        assert_eq!(s("conversion_rate", 11.999999999999998), Status::Ok);
        assert_eq!(s("tacos", 12.000000000000002), Status::Ok);
        assert_eq!(s("acos", 17.999999999999996), Status::Ok);
        assert_eq!(s("account_health", 0.9999999999999999), Status::Critical);
        let sessions = Kpi {
            change_pct: Some(-24.999999999999996),
            ..kpi("sessions", Some(100.0))
        };
        assert_eq!(status(&c, sessions), Status::Warning);
    }

    #[test]
    fn no_value_is_no_data_never_ok() {
        let c = cfg("");
        for id in KPIS {
            let k = assess(&c, kpi(id, None));
            assert_eq!(k.status, Some(Status::NoData), "{id}");
            assert!(k.target.is_some(), "{id}");
        }
    }

    #[test]
    fn changes_and_labels() {
        let c = cfg("");
        let with_change = |id: &str, ch: f64| {
            status(
                &c,
                Kpi {
                    change_pct: Some(ch),
                    ..kpi(id, Some(100.0))
                },
            )
        };
        assert_eq!(with_change("sessions", -25.0), Status::Warning);
        assert_eq!(with_change("sessions", -24.99), Status::Ok);
        assert_eq!(with_change("bsr", 30.0), Status::Warning);
        assert_eq!(with_change("bsr", 29.99), Status::Ok);
        let health = |label: &str| {
            status(
                &c,
                Kpi {
                    label: Some(label.into()),
                    ..kpi("account_health", Some(0.2))
                },
            )
        };
        assert_eq!(health("NORMAL"), Status::Ok);
        assert_eq!(health("AT_RISK"), Status::Critical);
    }

    #[test]
    fn overrides_and_configured_thresholds_apply() {
        let c = cfg(
            "\n[rules.conversion_rate]\nmin_percent = 8.0\n\n[[overrides]]\nrule = \"stockout_risk\"\nsku = \"SLOW\"\nlead_time_days = 60\n",
        );
        let conv = assess(&c, kpi("conversion_rate", Some(9.0)));
        assert_eq!(
            (conv.target.as_deref(), conv.status),
            (Some(">= 8"), Some(Status::Ok))
        );
        let slow = Kpi {
            sku: Some("SLOW".into()),
            ..kpi("days_of_supply", Some(50.0))
        };
        let slow = assess(&c, slow);
        assert_eq!(
            (slow.target.as_deref(), slow.status),
            (Some(">= 67"), Some(Status::Warning))
        );
        let e = evaluation_date(
            &c,
            "a",
            "ATVPDKIKX0DER",
            "2026-03-10".parse().unwrap(),
            Utc::now(),
            &[("SLOW".into(), None), ("FAST".into(), None)],
            "kpis",
        )
        .unwrap();
        assert_eq!(e.cover_days_json, r#"{"default":37,"skus":{"SLOW":67}}"#);
    }

    #[test]
    fn evaluation_instants_follow_the_marketplace_zone() {
        let c = cfg("");
        let at: NaiveDate = "2026-03-09".parse().unwrap(); // the day after US DST starts
        let e = evaluation_date(&c, "a", "ATVPDKIKX0DER", at, Utc::now(), &[], "evaluate").unwrap();
        assert_eq!(e.recorded_by, "evaluate");
        assert_eq!(e.at_start, "2026-03-09T07:00:00Z");
        assert_eq!(e.at_end, "2026-03-10T07:00:00Z");
        assert_eq!(e.window30_start, "2026-02-07T08:00:00Z");
        // 2026-03-08 has 23 hours: its feedback is not 24 h old at the start of the 9th.
        assert_eq!(e.sla_last_day, "2026-03-07");
        let tz: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(
            sla_last_day(&tz, "2026-03-20".parse().unwrap(), 24).to_string(),
            "2026-03-19"
        );
        assert_eq!(
            sla_last_day(&tz, "2026-03-20".parse().unwrap(), 0).to_string(),
            "2026-03-20"
        );
    }

    fn row(kpi: &str, asin: Option<&str>, value: Option<f64>, change: Option<f64>) -> KpiRow {
        KpiRow {
            kpi: kpi.into(),
            account: "a".into(),
            marketplace_id: "M".into(),
            at: "2026-03-10".into(),
            asin: asin.map(Into::into),
            sku: None,
            campaign_id: None,
            value,
            change_pct: change,
            label: None,
        }
    }

    #[test]
    fn every_kpi_with_a_value_last_week_gets_its_change() {
        let last_week = [
            row("conversion_rate", None, Some(10.0), None),
            row("conversion_rate", Some("A1"), Some(4.0), None),
            row("acos", None, Some(20.0), None),
            row("stockout_risk_skus", None, Some(0.0), None),
            row("tacos", None, None, None),
            row("sessions", None, Some(500.0), None),
        ];
        let now = with_change(
            vec![
                row("conversion_rate", None, Some(12.0), None),
                row("conversion_rate", Some("A1"), Some(3.0), None),
                row("conversion_rate", Some("A2"), Some(3.0), None),
                row("acos", None, None, None),
                row("stockout_risk_skus", None, Some(2.0), None),
                row("tacos", None, Some(9.0), None),
                // The view's own change stays.
                row("sessions", None, Some(700.0), Some(40.0)),
            ],
            &last_week,
        );
        let changes: Vec<Option<f64>> = now.iter().map(|r| r.change_pct).collect();
        assert_eq!(
            changes,
            [
                Some(20.0),
                Some(-25.0),
                None, // A2 had no row last week
                None, // no value this week
                None, // from 0: no percentage
                None, // no value last week
                Some(40.0),
            ]
        );
    }

    #[test]
    fn levels_and_json_shape() {
        let c = cfg("");
        let k = assess(
            &c,
            Kpi {
                campaign_id: Some("1001".into()),
                ..kpi("acos", Some(21.5))
            },
        );
        assert_eq!(k.level(), Level::Campaign);
        let j = serde_json::to_value(&k).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"kpi": "acos", "account": "a", "marketplace": "ATVPDKIKX0DER",
                "campaign_id": "1001", "value": 21.5, "target": "18-25", "status": "ok"})
        );
        let none = serde_json::to_value(kpi("tacos", None)).unwrap();
        assert_eq!(none["value"], serde_json::Value::Null);
        let table = render_table(
            "2026-03-10".parse().unwrap(),
            &[k.clone(), assess(&c, kpi("tacos", Some(13.0)))],
            Level::Marketplace,
        );
        assert!(table.contains("tacos"), "{table}");
        assert!(table.contains("1 of 1 with data, all ok"), "{table}");
        assert_eq!(at_level(&[k], Level::Asin), vec![]);
    }
}
