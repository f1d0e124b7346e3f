//! The `ads` job (DESIGN §3): Ads profiles, SP campaign metadata, and the
//! five daily reporting-v3 reports per profile.
//!
//! Kept whole (about 1,250 lines): the plan, the report lifecycle with its
//! 425 and 401 rules, and the row mapping share one run's state and one
//! deadline; apart, none of them reads on its own.
//!
//! One run:
//! 1. `GET /v2/profiles`, matched to the account (stored with zone and
//!    currency; when the call fails the stored profiles are used).
//! 2. `POST /sp/campaigns/list` per profile (names, states, budgets).
//! 3. Plan per profile and report type ([`plan_windows`], pure): the days
//!    after the cursor, always the trailing `ads_repull_days` (Amazon
//!    restates conversions for up to ~42 days), never before the type's
//!    retention floor, through yesterday in the PROFILE's time zone, in
//!    chunks of at most 31 days.
//! 4. Resume every pending report of the account (ids survive restarts in
//!    `pending_reports`); create the planned ones not already pending. A 425
//!    names the running duplicate: it is reused after a GET shows it is the
//!    same request, else the create is retried after a wait.
//! 5. Poll with growing intervals for as long as Amazon takes, bounded by
//!    `max_report_wait` on the clock the daemon follows (sim time in the
//!    demo); what is still pending then stays in `pending_reports` for the
//!    next run, and the note says so. Each completed report is downloaded
//!    (no auth headers), parsed ([`parse_rows`], pure) and written with its
//!    cursor and the deletion of its pending row in one transaction.
//!
//! `max_report_wait`, counted from the start of the run, bounds every wait:
//! the status checks and downloads (a call still retrying when it runs out
//! is dropped and its report stays pending, so a call's own retries and
//! backoff, which run in wall time, cannot carry the run hours of sim time
//! past it) and the pauses before asking again after a 425.
//!
//! A failing call never stops the other reports; whatever could not be done
//! is listed in the job's error, and the next run picks it up. A status
//! check answered 401 even after its retries with fresh access tokens is an
//! authorisation problem, not a report still pending: when every check of
//! [`REFUSED_ROUNDS`] rounds in a row is refused the job stops polling, and
//! whenever a report is left pending because its checks were refused the job
//! fails saying the Ads API refused the credentials.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::{Ctx, JobError, JobReport};
use crate::amazon::ads::{
    self as api, AsyncReport, Downloader, FetchError, Profile, ReportRequest,
};
use crate::amazon::client::Endpoint;
use crate::amazon::http::ApiError;
use crate::clock::{Clock, Reading};
use crate::model::marketplace;
use crate::store::ads::{
    self as store, AdMetrics, Attributed, CampaignDay, CampaignMeta, CompletedReport, ProductDay,
    ProfileRow, ReportRows, SearchTermDay,
};

/// Amazon's maximum date range of a v3 report of these types.
pub const MAX_RANGE_DAYS: i64 = 31;

/// Which table a report type fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Campaigns,
    SearchTerms,
    Products,
}

/// One report type the job requests (DESIGN §3: these exact columns; one
/// invalid column fails the whole report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportKind {
    pub report_type: &'static str,
    /// The request's `adProduct`.
    pub ad_product: &'static str,
    /// The schema's `ad_product`: SP, SB, SD.
    pub product: &'static str,
    pub group_by: &'static str,
    /// The requested columns, in groups: the row's own, then the metrics
    /// (the same for every report of an ad product), then SP's extras.
    pub column_groups: &'static [&'static [&'static str]],
    /// Days back Amazon keeps the type (SP 60 in practice, SB 60, SD 65).
    pub retention_days: i64,
    pub table: Table,
}

/// The metrics of every SP report ([`metrics`] reads them).
const SP_METRICS: &[&str] = &[
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "purchases14d",
    "sales7d",
    "sales14d",
];

/// SP's units: Amazon reports them per campaign and per advertised product.
const SP_UNITS: &[&str] = &["unitsSoldClicks7d", "unitsSoldClicks14d"];

/// The columns of SB and SD campaign reports: their metrics are the
/// click-attributed ones.
const SB_SD_CAMPAIGN_COLUMNS: &[&[&str]] = &[
    &["date", "campaignId", "campaignName"],
    &[
        "impressions",
        "clicks",
        "cost",
        "purchasesClicks",
        "salesClicks",
    ],
];

/// The five reports of DESIGN §3.
pub const REPORTS: &[ReportKind] = &[
    ReportKind {
        report_type: "spCampaigns",
        ad_product: "SPONSORED_PRODUCTS",
        product: "SP",
        group_by: "campaign",
        column_groups: &[
            &[
                "date",
                "campaignId",
                "campaignName",
                "campaignStatus",
                "campaignBudgetAmount",
                "campaignBudgetCurrencyCode",
            ],
            SP_METRICS,
            SP_UNITS,
            &["topOfSearchImpressionShare"],
        ],
        retention_days: 60,
        table: Table::Campaigns,
    },
    ReportKind {
        report_type: "spSearchTerm",
        ad_product: "SPONSORED_PRODUCTS",
        product: "SP",
        group_by: "searchTerm",
        column_groups: &[
            &[
                "date",
                "campaignId",
                "adGroupId",
                "keywordId",
                "keyword",
                "matchType",
                "searchTerm",
            ],
            SP_METRICS,
        ],
        retention_days: 60,
        table: Table::SearchTerms,
    },
    ReportKind {
        report_type: "spAdvertisedProduct",
        ad_product: "SPONSORED_PRODUCTS",
        product: "SP",
        group_by: "advertiser",
        column_groups: &[
            &[
                "date",
                "campaignId",
                "adGroupId",
                "advertisedAsin",
                "advertisedSku",
            ],
            SP_METRICS,
            SP_UNITS,
        ],
        retention_days: 60,
        table: Table::Products,
    },
    ReportKind {
        report_type: "sbCampaigns",
        ad_product: "SPONSORED_BRANDS",
        product: "SB",
        group_by: "campaign",
        column_groups: SB_SD_CAMPAIGN_COLUMNS,
        retention_days: 60,
        table: Table::Campaigns,
    },
    ReportKind {
        report_type: "sdCampaigns",
        ad_product: "SPONSORED_DISPLAY",
        product: "SD",
        group_by: "campaign",
        column_groups: SB_SD_CAMPAIGN_COLUMNS,
        retention_days: 65,
        table: Table::Campaigns,
    },
];

impl ReportKind {
    pub fn find(report_type: &str) -> Option<&'static ReportKind> {
        REPORTS.iter().find(|k| k.report_type == report_type)
    }

    /// Every requested column, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        self.column_groups.concat()
    }

    /// The request for one window.
    pub fn request(&self, start: NaiveDate, end: NaiveDate) -> ReportRequest {
        ReportRequest {
            start,
            end,
            ad_product: self.ad_product.to_string(),
            report_type: self.report_type.to_string(),
            group_by: vec![self.group_by.to_string()],
            columns: self.columns().into_iter().map(str::to_string).collect(),
        }
    }
}

/// The profile's current day: Ads days are days in the profile's zone.
pub fn profile_today(now: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The windows to request for one report type (pure).
///
/// Through yesterday (the last complete day); from the day after the
/// cursor, but never later than `today - repull_days` (restatement) and
/// never before the retention floor. The floor keeps one day of margin:
/// Amazon counts it on its own clock, and a request planned just before
/// midnight may arrive just after. Chunks run forward, at most 31 days each.
pub fn plan_windows(
    today: NaiveDate,
    retention_days: i64,
    repull_days: u32,
    synced_through: Option<NaiveDate>,
) -> Vec<(NaiveDate, NaiveDate)> {
    let day = chrono::Duration::days;
    let end = today - day(1);
    let floor = today - day((retention_days - 1).max(0));
    let repull_start = today - day(repull_days as i64);
    let start = match synced_through {
        Some(t) => (t + day(1)).min(repull_start),
        None => floor,
    }
    .max(floor);
    let mut out = Vec::new();
    let mut s = start;
    while s <= end {
        let e = (s + day(MAX_RANGE_DAYS - 1)).min(end);
        out.push((s, e));
        s = e + day(1);
    }
    out
}

// ---------------------------------------------------------------------------
// Parsing report rows (pure)

fn int(m: &Map<String, Value>, k: &str) -> Option<i64> {
    match m.get(k)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A finite number: Rust's float parser also reads `"NaN"` and `"inf"`
/// (and `"1e400"` as infinity), which would poison every sum and ratio of
/// the rules, so those read as not a valid value.
fn num(m: &Map<String, Value>, k: &str) -> Option<f64> {
    match m.get(k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite())
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn need<T>(v: Option<T>, k: &str, i: usize) -> Result<T, String> {
    v.ok_or_else(|| format!("row {i}: `{k}` is missing or not a valid value"))
}

/// The metrics of one report row; missing counts are 0 (Amazon sends `null`
/// for "none"). SB/SD `purchasesClicks`/`salesClicks` go into the 14-day
/// columns (their 7-day ones stay NULL).
fn metrics(m: &Map<String, Value>, sp: bool) -> AdMetrics {
    let (purchases_14d, sales_14d) = if sp {
        ("purchases14d", "sales14d")
    } else {
        ("purchasesClicks", "salesClicks")
    };
    AdMetrics {
        impressions: int(m, "impressions").unwrap_or(0),
        clicks: int(m, "clicks").unwrap_or(0),
        cost: num(m, "cost").unwrap_or(0.0),
        purchases: Attributed {
            d7: int(m, "purchases7d").filter(|_| sp),
            d14: int(m, purchases_14d),
        },
        sales: Attributed {
            d7: num(m, "sales7d").filter(|_| sp),
            d14: num(m, sales_14d),
        },
    }
}

/// Parses every row with `parse`, given the row, its index, and what every
/// row has: its day (already the profile's) and its campaign.
fn each<T>(
    rows: &[Map<String, Value>],
    parse: impl Fn(&Map<String, Value>, usize, NaiveDate, i64) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    rows.iter()
        .enumerate()
        .map(|(i, m)| {
            let s = need(text(m, "date"), "date", i)?;
            let date = NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .ok()
                .filter(super::report_util::is_plausible)
                .ok_or_else(|| format!("row {i}: `date` {s:?} is not YYYY-MM-DD"))?;
            parse(m, i, date, need(int(m, "campaignId"), "campaignId", i)?)
        })
        .collect()
}

/// Parses a downloaded report into rows of its table. Ids become integers
/// and the metrics read as [`metrics`] says (SB/SD units stay NULL too).
pub fn parse_rows(
    kind: &ReportKind,
    rows: &[Map<String, Value>],
    profile_currency: &str,
) -> Result<ReportRows, String> {
    let sp = kind.product == "SP";
    let currency = profile_currency.to_string();
    Ok(match kind.table {
        Table::Campaigns => ReportRows::Campaigns(each(rows, |m, _, date, campaign_id| {
            Ok(CampaignDay {
                date,
                campaign_id,
                campaign_name: text(m, "campaignName"),
                campaign_status: text(m, "campaignStatus"),
                campaign_budget_amount: num(m, "campaignBudgetAmount"),
                metrics: metrics(m, sp),
                units: Attributed {
                    d7: int(m, "unitsSoldClicks7d").filter(|_| sp),
                    d14: int(m, "unitsSoldClicks14d").filter(|_| sp),
                },
                top_of_search_impression_share: num(m, "topOfSearchImpressionShare").filter(|_| sp),
                currency: text(m, "campaignBudgetCurrencyCode").unwrap_or_else(|| currency.clone()),
            })
        })?),
        Table::SearchTerms => ReportRows::SearchTerms(each(rows, |m, _, date, campaign_id| {
            Ok(SearchTermDay {
                date,
                campaign_id,
                ad_group_id: int(m, "adGroupId").unwrap_or(0),
                keyword_id: int(m, "keywordId").unwrap_or(0),
                search_term: text(m, "searchTerm").unwrap_or_default(),
                keyword: text(m, "keyword"),
                match_type: text(m, "matchType"),
                metrics: metrics(m, sp),
                currency: currency.clone(),
            })
        })?),
        Table::Products => ReportRows::Products(each(rows, |m, i, date, campaign_id| {
            Ok(ProductDay {
                date,
                campaign_id,
                ad_group_id: int(m, "adGroupId").unwrap_or(0),
                advertised_asin: need(text(m, "advertisedAsin"), "advertisedAsin", i)?,
                advertised_sku: text(m, "advertisedSku").unwrap_or_default(),
                metrics: metrics(m, sp),
                units: Attributed {
                    d7: int(m, "unitsSoldClicks7d"),
                    d14: int(m, "unitsSoldClicks14d"),
                },
                currency: currency.clone(),
            })
        })?),
    })
}

/// A stable hash of a canonical request (FNV-1a 64; stable across builds,
/// unlike `DefaultHasher`, because it is stored).
pub fn params_hash(canonical: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canonical.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

// ---------------------------------------------------------------------------
// Time: the clock the daemon follows (sim time in the demo and tests)

/// Reads the round's clock (`Ctx::clock`) during the run, so waits and the
/// `max_report_wait` bound run on the same time as Amazon's (the sim's)
/// report lifecycle; sleeps are scaled by the clock's speed.
struct Timer {
    clock: Clock,
    start: DateTime<Utc>,
    wall: Instant,
    speed: f64,
}

impl Timer {
    async fn new(ctx: &Ctx<'_>) -> Timer {
        let clock = ctx.clock.clone();
        let reading = clock.read().await.unwrap_or(Reading {
            now: ctx.now,
            speed: 1.0,
        });
        let speed = if reading.speed.is_finite() && reading.speed > 0.0 {
            reading.speed
        } else {
            1.0
        };
        Timer {
            clock,
            start: reading.now,
            wall: Instant::now(),
            speed,
        }
    }

    /// Now on the followed clock (estimated from wall time if unreadable).
    async fn now(&self) -> DateTime<Utc> {
        let estimate = self.start
            + chrono::Duration::from_std(self.wall.elapsed().mul_f64(self.speed))
                .unwrap_or_default();
        match self.clock.read().await {
            Ok(r) => r.now,
            Err(_) => estimate,
        }
    }

    /// Time spent so far on the followed clock.
    async fn elapsed(&self) -> Duration {
        (self.now().await - self.start).to_std().unwrap_or_default()
    }

    /// Sleeps `d` of followed-clock time.
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d.div_f64(self.speed)).await;
    }

    /// Followed-clock time left of `limit` (counted from the start).
    async fn left(&self, limit: Duration) -> Duration {
        limit.saturating_sub(self.elapsed().await)
    }

    /// Runs `fut` for at most what is left of `limit`: `None` when the limit
    /// is reached first (or already was), and `fut` is dropped.
    async fn within<F: std::future::Future>(&self, limit: Duration, fut: F) -> Option<F::Output> {
        let left = self.left(limit).await;
        if left.is_zero() {
            return None;
        }
        tokio::time::timeout(left.div_f64(self.speed), fut)
            .await
            .ok()
    }
}

/// First status poll after this long; then ×1.5 per round up to the cap.
const POLL_FIRST: Duration = Duration::from_secs(20);
const POLL_CAP: Duration = Duration::from_secs(300);
/// Wait before asking again after a 425 whose report does not match
/// (REFERENCE §5.2: 60 s, up to 4 requests).
const DUPLICATE_WAIT: Duration = Duration::from_secs(60);
const DUPLICATE_TRIES: u32 = 4;
/// Downloads of one completed report tried per run before leaving it.
const DOWNLOAD_TRIES: u32 = 4;
/// Rounds in a row in which every status check was refused (401 after the
/// call's retries) before the job stops polling: the credentials, not a
/// passing refusal.
pub const REFUSED_ROUNDS: u32 = 2;

// ---------------------------------------------------------------------------
// The run

/// A profile being synced.
#[derive(Debug, Clone)]
struct ProfileCtx {
    id: i64,
    currency: String,
    tz: chrono_tz::Tz,
}

/// A report Amazon holds for us.
#[derive(Debug, Clone)]
struct Outstanding {
    pending_id: i64,
    profile: ProfileCtx,
    kind: &'static ReportKind,
    start: NaiveDate,
    end: NaiveDate,
    report_id: String,
    download_failures: u32,
    /// Its last status check was refused (401 after the call's retries).
    refused: bool,
    /// A status check of this run got an answer (or an error) in time.
    checked: bool,
}

impl Outstanding {
    fn label(&self) -> String {
        format!(
            "{} {}..{} (profile {}, report {})",
            self.kind.report_type, self.start, self.end, self.profile.id, self.report_id
        )
    }
}

#[derive(Default)]
struct Progress {
    rows: u64,
    written: usize,
    problems: Vec<String>,
}

fn zone_of(p: &ProfileRow) -> chrono_tz::Tz {
    p.timezone
        .parse::<chrono_tz::Tz>()
        .ok()
        .or_else(|| {
            p.marketplace_id
                .as_deref()
                .and_then(marketplace::lookup)
                .map(|m| m.tz)
        })
        .unwrap_or_else(|| {
            tracing::warn!(profile = p.profile_id, timezone = %p.timezone, "unknown profile time zone; using UTC days");
            chrono_tz::UTC
        })
}

fn profile_row(p: &Profile) -> ProfileRow {
    ProfileRow {
        profile_id: p.profile_id,
        country_code: p.country_code.clone(),
        currency: p.currency_code.clone(),
        timezone: p.timezone.clone(),
        marketplace_id: p.account_info.marketplace_string_id.clone(),
        account_type: p.account_type().to_string(),
        account_name: p.account_info.name.clone(),
        account_info_id: p.account_info.id.clone(),
    }
}

/// The profiles to sync: Amazon's list matched to the account and stored;
/// the stored ones when the list call fails for a passing reason.
async fn profiles(ctx: &Ctx<'_>, ep: &Endpoint) -> Result<Vec<ProfileRow>, JobError> {
    let settings = ctx.account.ads.as_ref().expect("checked by ctx.ads()");
    let account = ctx.account.name.as_str();
    match api::list_profiles(ctx.client, ep).await {
        Ok(all) => {
            let chosen = api::select_profiles(
                &all,
                &ctx.account.marketplaces(),
                &settings.profile_ids,
                &settings.account_types,
            );
            if chosen.is_empty() {
                let seen: Vec<String> = all
                    .iter()
                    .map(|p| format!("{} ({} {})", p.profile_id, p.country_code, p.account_type()))
                    .collect();
                return Err(JobError::Data(format!(
                    "no Ads profile matches this account (marketplaces {:?}, profile_ids {:?}, account_types {:?}); \
                     Amazon lists: [{}]; fix [accounts.ads] profile_ids or account_types",
                    ctx.account.marketplaces, settings.profile_ids, settings.account_types, seen.join(", ")
                )));
            }
            let rows: Vec<ProfileRow> = chosen.iter().map(profile_row).collect();
            ctx.with_db(|c| store::upsert_profiles(c, account, &rows, ctx.now))?;
            Ok(rows)
        }
        Err(e) if e.is_retryable() => {
            let stored = ctx.with_db(|c| store::profiles(c, account))?;
            if stored.is_empty() {
                return Err(e.into());
            }
            tracing::warn!(account, error = %e, "listing Ads profiles failed; using the stored ones");
            Ok(stored)
        }
        Err(e) => Err(e.into()),
    }
}

/// Campaign metadata of one profile; returns rows changed.
async fn sync_campaigns(ctx: &Ctx<'_>, ep: &Endpoint, p: &ProfileCtx) -> Result<u64, ApiError> {
    let list = api::list_sp_campaigns(ctx.client, ep, p.id).await?;
    let metas: Vec<CampaignMeta> = list
        .iter()
        .filter_map(|c| {
            Some(CampaignMeta {
                // Strings in the entity API, integers everywhere else.
                campaign_id: c.campaign_id.trim().parse().ok()?,
                name: c.name.clone(),
                state: c.state.clone(),
                targeting_type: c.targeting_type.clone(),
                daily_budget: c.budget.as_ref().and_then(|b| b.budget),
                currency: Some(p.currency.clone()),
                portfolio_id: c
                    .portfolio_id
                    .as_deref()
                    .and_then(|s| s.trim().parse().ok()),
                start_date: c.start_date.clone(),
                end_date: c.end_date.clone(),
            })
        })
        .collect();
    ctx.with_db(|c| store::upsert_campaigns(c, p.id, "SP", &metas, ctx.now))
        .map_err(|e| ApiError::Decode {
            operation: api::LIST_SP_CAMPAIGNS.to_string(),
            message: e.to_string(),
        })
}

/// Creates a report, or reuses the duplicate a 425 names once a GET shows
/// it is this very request (and not FAILED); otherwise waits and asks again.
async fn create_or_reuse(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    timer: &Timer,
    profile_id: i64,
    req: &ReportRequest,
) -> Result<AsyncReport, ApiError> {
    let mut last = None;
    for attempt in 1..=DUPLICATE_TRIES {
        match api::create_report(ctx.client, ep, profile_id, req).await {
            Ok(r) => return Ok(r),
            Err(ApiError::Duplicate {
                operation,
                duplicate_of,
            }) => {
                if let Some(id) = &duplicate_of {
                    match api::get_report(ctx.client, ep, profile_id, id).await {
                        Ok(r) if r.status != "FAILED" && req.matches(&r) => {
                            tracing::debug!(report_id = %id, "425: reusing the duplicate report");
                            return Ok(r);
                        }
                        Ok(r) => {
                            tracing::debug!(report_id = %id, status = %r.status, "425 names a report that is not this request")
                        }
                        Err(e) => {
                            tracing::debug!(report_id = %id, error = %e, "425: cannot read the named report")
                        }
                    }
                }
                last = Some(ApiError::Duplicate {
                    operation,
                    duplicate_of,
                });
                // Waiting for the duplicate counts against max_report_wait.
                let left = timer.left(ctx.cfg.sync.max_report_wait).await;
                if attempt == DUPLICATE_TRIES || left.is_zero() {
                    break;
                }
                timer.sleep(DUPLICATE_WAIT.min(left)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// Runs the job for one account.
pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let Some(ep) = ctx.ads() else {
        return Err(JobError::Data(
            "no Ads credentials: add client_id, client_secret and refresh_token to [accounts.ads]"
                .into(),
        ));
    };
    let account = ctx.account.name.as_str();
    let sync = &ctx.cfg.sync;
    let timer = Timer::new(ctx).await;
    let mut progress = Progress::default();

    let rows = profiles(ctx, &ep).await?;
    let profiles: Vec<ProfileCtx> = rows
        .iter()
        .map(|p| ProfileCtx {
            id: p.profile_id,
            currency: p.currency.clone(),
            tz: zone_of(p),
        })
        .collect();

    for p in &profiles {
        match sync_campaigns(ctx, &ep, p).await {
            Ok(n) => progress.rows += n,
            Err(e @ (ApiError::MissingRole { .. } | ApiError::Credentials { .. })) => {
                return Err(e.into())
            }
            Err(e) => progress
                .problems
                .push(format!("campaign list of profile {}: {e}", p.id)),
        }
    }

    // Resume what Amazon already holds for us.
    let mut outstanding: Vec<Outstanding> = Vec::new();
    let mut pending_keys: HashSet<(String, String)> = HashSet::new();
    let now = timer.now().await;
    for row in ctx.with_db(|c| store::pending(c, account))? {
        let profile = profiles.iter().find(|p| p.id == row.profile_id);
        let kind = ReportKind::find(&row.report_type);
        let dates = |k: &str| {
            row.params[k]
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        let (Some(profile), Some(kind), Some(start), Some(end)) =
            (profile, kind, dates("startDate"), dates("endDate"))
        else {
            tracing::info!(report_id = %row.report_id, profile = row.profile_id, "dropping a pending Ads report of a profile or type no longer synced");
            ctx.with_db(|c| store::delete_pending(c, row.id))?;
            continue;
        };
        // A report pending far longer than we are willing to wait is stuck:
        // Amazon advises deleting it and asking again.
        let created = DateTime::parse_from_rfc3339(&row.created_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        let stuck_after = chrono::Duration::from_std(sync.max_report_wait * 4)
            .unwrap_or(chrono::Duration::days(1))
            .max(chrono::Duration::hours(24));
        if now - created > stuck_after {
            tracing::warn!(report_id = %row.report_id, created = %row.created_at, "Ads report stuck; deleting it and requesting again");
            let _ = api::delete_report(ctx.client, &ep, row.profile_id, &row.report_id).await;
            ctx.with_db(|c| store::delete_pending(c, row.id))?;
            continue;
        }
        pending_keys.insert((row.report_type.clone(), row.params_hash.clone()));
        outstanding.push(Outstanding {
            pending_id: row.id,
            profile: profile.clone(),
            kind,
            start,
            end,
            report_id: row.report_id.clone(),
            download_failures: 0,
            refused: false,
            checked: false,
        });
    }
    let resumed = outstanding.len();

    // Ask for what is planned and not already pending.
    let mut created = 0usize;
    for p in &profiles {
        let today = profile_today(ctx.now, p.tz);
        for kind in REPORTS {
            let through =
                ctx.with_db(|c| store::synced_through(c, account, p.id, kind.report_type))?;
            for (start, end) in
                plan_windows(today, kind.retention_days, sync.ads_repull_days, through)
            {
                let req = kind.request(start, end);
                let canonical = req.canonical(p.id);
                let hash = params_hash(&canonical);
                if pending_keys.contains(&(kind.report_type.to_string(), hash.clone())) {
                    continue;
                }
                let label = format!("{} {start}..{end} (profile {})", kind.report_type, p.id);
                match create_or_reuse(ctx, &ep, &timer, p.id, &req).await {
                    Ok(report) => {
                        let at = timer.now().await;
                        let pending_id = ctx.with_db(|c| {
                            store::insert_pending(
                                c,
                                account,
                                kind.report_type,
                                p.id,
                                &hash,
                                &canonical,
                                &report.report_id,
                                &report.status,
                                at,
                            )
                        })?;
                        pending_keys.insert((kind.report_type.to_string(), hash));
                        created += 1;
                        outstanding.push(Outstanding {
                            pending_id,
                            profile: p.clone(),
                            kind,
                            start,
                            end,
                            report_id: report.report_id,
                            download_failures: 0,
                            refused: false,
                            checked: false,
                        });
                    }
                    Err(e @ (ApiError::MissingRole { .. } | ApiError::Credentials { .. })) => {
                        return Err(e.into())
                    }
                    Err(e) => {
                        let what = if e.is_retryable() || matches!(e, ApiError::Duplicate { .. }) {
                            "not requested (asked again next run)"
                        } else {
                            "refused"
                        };
                        progress.problems.push(format!("{label}: {what}: {e}"));
                    }
                }
            }
        }
    }

    // Poll until everything is written or the wait bound is reached.
    let downloader = Downloader::new(ctx.client.timeout, sync.max_document_mib)
        .map_err(|e| JobError::Data(format!("cannot build the download client: {e}")))?;
    let wait = sync.max_report_wait;
    let mut interval = POLL_FIRST;
    let mut rounds = 0u32;
    let (mut refused_polls, mut refused_rounds) = (0u32, 0u32);
    while !outstanding.is_empty() {
        rounds += 1;
        let (mut polled, mut refused) = (0u32, 0u32);
        let mut still = Vec::new();
        let mut out_of_time = false;
        let mut queue = std::mem::take(&mut outstanding).into_iter();
        while let Some(mut o) = queue.next() {
            let checked = timer.within(
                wait,
                api::get_report(ctx.client, &ep, o.profile.id, &o.report_id),
            );
            let Some(answer) = checked.await else {
                // Out of time: this one and the rest wait for the next run.
                still.push(o);
                still.extend(queue.by_ref());
                out_of_time = true;
                break;
            };
            polled += 1;
            o.refused = false;
            o.checked = true;
            match answer {
                Ok(r) if r.status == "COMPLETED" => {
                    let Some(url) = r.url.as_deref() else {
                        still.push(o);
                        continue;
                    };
                    let fetched = timer.within(wait, downloader.fetch(ctx.client, account, url));
                    let Some(fetched) = fetched.await else {
                        still.push(o);
                        still.extend(queue.by_ref());
                        out_of_time = true;
                        break;
                    };
                    match fetched {
                        Ok(objects) => match parse_rows(o.kind, &objects, &o.profile.currency) {
                            Ok(rows) => {
                                let report = CompletedReport {
                                    account,
                                    profile_id: o.profile.id,
                                    ad_product: o.kind.product,
                                    report_type: o.kind.report_type,
                                    start: o.start,
                                    end: o.end,
                                    rows,
                                    pending_id: Some(o.pending_id),
                                };
                                let at = timer.now().await;
                                progress.rows +=
                                    ctx.with_db(|c| store::write_report(c, &report, at))?;
                                progress.written += 1;
                            }
                            Err(msg) => {
                                // A document we cannot read will not read
                                // better next time: drop it and say so.
                                ctx.with_db(|c| store::delete_pending(c, o.pending_id))?;
                                progress
                                    .problems
                                    .push(format!("{}: unreadable rows: {msg}", o.label()));
                            }
                        },
                        Err(FetchError::TooLarge(t)) => {
                            // Another download will not be smaller: drop
                            // it and say which key to raise.
                            ctx.with_db(|c| store::delete_pending(c, o.pending_id))?;
                            progress.problems.push(format!("{}: {t}", o.label()));
                        }
                        Err(FetchError::Api(e)) => {
                            o.download_failures += 1;
                            if o.download_failures >= DOWNLOAD_TRIES {
                                progress.problems.push(format!(
                                    "{}: download failed {} times ({e}); tried again next run",
                                    o.label(),
                                    o.download_failures
                                ));
                            } else {
                                still.push(o);
                            }
                        }
                    }
                }
                Ok(r) if r.status == "FAILED" => {
                    ctx.with_db(|c| store::delete_pending(c, o.pending_id))?;
                    progress.problems.push(format!(
                        "{}: Amazon failed the report ({}); requested again next run",
                        o.label(),
                        r.failure_reason.as_deref().unwrap_or("no reason given")
                    ));
                }
                Ok(r) => {
                    let at = timer.now().await;
                    ctx.with_db(|c| store::note_poll(c, o.pending_id, &r.status, at))?;
                    still.push(o);
                }
                Err(ApiError::Permanent { status: 404, .. }) => {
                    // Amazon no longer knows it (expired or deleted).
                    ctx.with_db(|c| store::delete_pending(c, o.pending_id))?;
                    progress.problems.push(format!(
                        "{}: Amazon no longer knows the report (404); requested again next run",
                        o.label()
                    ));
                }
                Err(e @ (ApiError::MissingRole { .. } | ApiError::Credentials { .. })) => {
                    return Err(e.into())
                }
                Err(
                    ApiError::Transient { status: 401, .. }
                    | ApiError::TokenRejected { status: 401, .. },
                ) => {
                    refused += 1;
                    o.refused = true;
                    still.push(o);
                }
                Err(e) if e.is_retryable() => still.push(o),
                Err(e) => progress
                    .problems
                    .push(format!("{}: status check failed: {e}", o.label())),
            }
        }
        outstanding = still;
        refused_polls += refused;
        refused_rounds = if polled > 0 && refused == polled {
            refused_rounds + 1
        } else {
            0
        };
        if out_of_time || outstanding.is_empty() || refused_rounds >= REFUSED_ROUNDS {
            break;
        }
        let left = timer.left(wait).await;
        if left.is_zero() {
            break;
        }
        let n = outstanding.len();
        crate::sync::note(|| format!("{n} report(s) still processing at Amazon Ads"));
        timer.sleep(interval.min(left)).await;
        interval = interval.mul_f64(1.5).min(POLL_CAP);
    }

    let mut note = format!(
        "{} profile(s); {} report(s) written ({} requested, {} resumed)",
        profiles.len(),
        progress.written,
        created,
        resumed
    );
    // Reports whose last check was refused are not known to be pending:
    // their problem is the credentials, said first in the job's error.
    let refused = outstanding.iter().filter(|o| o.refused).count();
    let unchecked = outstanding.iter().filter(|o| !o.checked).count();
    let pending = outstanding.len() - refused - unchecked;
    if unchecked > 0 {
        note.push_str(&format!(
            "; {unchecked} report(s) not checked before max_report_wait ran out, checked next run"
        ));
    }
    if pending > 0 {
        let waited =
            humantime::format_duration(Duration::from_secs(timer.elapsed().await.as_secs()));
        note.push_str(&format!(
            "; {pending} report(s) still pending at Amazon after {waited} ({rounds} polls), resumed next run"
        ));
        for o in outstanding.iter().filter(|o| o.checked && !o.refused) {
            tracing::warn!(account, report = %o.label(), "Ads report still pending after max_report_wait; left for the next run");
        }
    }
    if refused > 0 {
        let auth = format!(
            "the Ads API refused the credentials: {refused_polls} status check(s) \
             (getAsyncReport) answered 401 Unauthorized even after retries with a fresh access \
             token, so {refused} report(s) could not be read{}; check [accounts.ads] client_id, \
             client_secret and refresh_token (re-authorize the app if the seller revoked it) and \
             that profile {} still grants this app access; the reports stay pending and are \
             polled again next run",
            if progress.written == 0 {
                " and nothing was written"
            } else {
                ""
            },
            outstanding
                .iter()
                .filter(|o| o.refused)
                .map(|o| o.profile.id.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", "),
        );
        tracing::warn!(account, "{auth}");
        let others = if progress.problems.is_empty() {
            String::new()
        } else {
            format!(
                "; {} other problem(s): {}",
                progress.problems.len(),
                progress.problems.join("; ")
            )
        };
        return Err(JobError::Data(format!("{auth} ({note}){others}")));
    }
    if !progress.problems.is_empty() {
        return Err(JobError::Data(format!(
            "{note}; {} problem(s): {}",
            progress.problems.len(),
            progress.problems.join("; ")
        )));
    }
    Ok(JobReport {
        rows: progress.rows,
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::report_util::date as d;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn first_run_reaches_back_to_the_retention_floor_in_31_day_chunks() {
        let today = d("2026-03-02");
        // SP: 60 days kept, one day of margin: 2026-01-02 (today - 59) .. 2026-03-01.
        let w = plan_windows(today, 60, 45, None);
        assert_eq!(
            w,
            vec![
                (d("2026-01-02"), d("2026-02-01")),
                (d("2026-02-02"), d("2026-03-01"))
            ]
        );
        for (s, e) in &w {
            assert!((*e - *s).num_days() < MAX_RANGE_DAYS);
        }
        // SD keeps 65 days.
        assert_eq!(plan_windows(today, 65, 45, None)[0].0, d("2025-12-28"));
    }

    #[test]
    fn later_runs_repull_the_restatement_window() {
        let today = d("2026-03-02");
        // Synced through yesterday: still the trailing 45 days.
        let w = plan_windows(today, 60, 45, Some(d("2026-03-01")));
        assert_eq!(
            w,
            vec![
                (d("2026-01-16"), d("2026-02-15")),
                (d("2026-02-16"), d("2026-03-01"))
            ]
        );
        // After a long outage: from the day after the cursor...
        let w = plan_windows(today, 60, 45, Some(d("2026-01-09")));
        assert_eq!(w[0].0, d("2026-01-10"));
        // ...but never before the floor.
        let w = plan_windows(today, 60, 45, Some(d("2025-06-01")));
        assert_eq!(w[0].0, d("2026-01-02"));
        // A repull longer than retention is clamped too.
        assert_eq!(
            plan_windows(today, 60, 90, Some(d("2026-03-01")))[0].0,
            d("2026-01-02")
        );
        // Nothing to do when repull is 0 and we are current.
        assert!(plan_windows(today, 60, 0, Some(d("2026-03-01"))).is_empty());
        // Every window of every plan is at most 31 days and ends yesterday.
        for repull in [1, 30, 31, 32, 45, 62] {
            let w = plan_windows(today, 60, repull, Some(d("2026-03-01")));
            assert_eq!(w.last().unwrap().1, d("2026-03-01"));
            for pair in w.windows(2) {
                assert_eq!(
                    pair[0].1 + chrono::Duration::days(1),
                    pair[1].0,
                    "contiguous"
                );
            }
            assert!(w.iter().all(|(s, e)| (*e - *s).num_days() < MAX_RANGE_DAYS));
        }
    }

    #[test]
    fn days_are_the_profiles_days() {
        // 05:00 UTC on 2 March is still 1 March in Los Angeles, already 2 March in Tokyo.
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).unwrap();
        let la: chrono_tz::Tz = "America/Los_Angeles".parse().unwrap();
        let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(profile_today(now, la), d("2026-03-01"));
        assert_eq!(profile_today(now, tokyo), d("2026-03-02"));
        let (la_w, tokyo_w) = (
            plan_windows(profile_today(now, la), 60, 45, None),
            plan_windows(profile_today(now, tokyo), 60, 45, None),
        );
        assert_eq!(la_w.last().unwrap().1, d("2026-02-28"));
        assert_eq!(tokyo_w.last().unwrap().1, d("2026-03-01"));
    }

    #[test]
    fn report_kinds_carry_design_columns_exactly() {
        let sp = ReportKind::find("spCampaigns").unwrap();
        assert_eq!(sp.columns().len(), 16);
        assert!(sp.columns().contains(&"topOfSearchImpressionShare"));
        let sb = ReportKind::find("sbCampaigns").unwrap();
        assert!(sb.columns().contains(&"salesClicks") && !sb.columns().contains(&"sales14d"));
        assert_eq!(ReportKind::find("sdCampaigns").unwrap().retention_days, 65);
        let body = sp.request(d("2026-01-01"), d("2026-01-31")).body();
        assert_eq!(body["configuration"]["timeUnit"], "DAILY");
        assert_eq!(body["configuration"]["format"], "GZIP_JSON");
        assert_eq!(body["configuration"]["groupBy"], json!(["campaign"]));
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn rows_parse_ids_as_integers_and_sb_click_metrics_into_14d() {
        let sb = ReportKind::find("sbCampaigns").unwrap();
        let rows = parse_rows(
            sb,
            &[obj(json!({"date": "2026-02-01", "campaignId": 2001, "campaignName": "SB",
                "impressions": 100, "clicks": 4, "cost": 5.2, "purchasesClicks": 2, "salesClicks": 40.0}))],
            "USD",
        )
        .unwrap();
        let ReportRows::Campaigns(r) = rows else {
            panic!()
        };
        assert_eq!(r[0].campaign_id, 2001);
        assert_eq!(
            (r[0].metrics.purchases.d14, r[0].metrics.sales.d14),
            (Some(2), Some(40.0))
        );
        assert_eq!(
            (
                r[0].metrics.purchases.d7,
                r[0].metrics.sales.d7,
                r[0].units.d14
            ),
            (None, None, None)
        );
        assert_eq!(r[0].currency, "USD");

        let sp = ReportKind::find("spCampaigns").unwrap();
        let rows = parse_rows(
            sp,
            &[obj(
                json!({"date": "2026-02-01", "campaignId": "158410630682987", "impressions": null,
                "clicks": 3, "cost": 1.5, "sales7d": 10.0, "sales14d": 12.0, "purchases7d": 1,
                "campaignBudgetCurrencyCode": "CAD", "topOfSearchImpressionShare": 0.48}),
            )],
            "USD",
        )
        .unwrap();
        let ReportRows::Campaigns(r) = rows else {
            panic!()
        };
        assert_eq!(r[0].campaign_id, 158410630682987);
        assert_eq!(r[0].metrics.impressions, 0);
        assert_eq!(r[0].currency, "CAD");
        assert_eq!(r[0].top_of_search_impression_share, Some(0.48));

        let st = ReportKind::find("spSearchTerm").unwrap();
        let rows = parse_rows(
            st,
            &[obj(
                json!({"date": "2026-02-01", "campaignId": 1, "adGroupId": 2, "keywordId": null,
                "searchTerm": "*", "clicks": 1, "cost": 0.5}),
            )],
            "EUR",
        )
        .unwrap();
        let ReportRows::SearchTerms(r) = rows else {
            panic!()
        };
        assert_eq!((r[0].keyword_id, r[0].search_term.as_str()), (0, "*"));

        let err = parse_rows(sp, &[obj(json!({"date": "2026-02-01"}))], "USD").unwrap_err();
        assert!(err.contains("campaignId"), "{err}");
        // A signed year is not one either (fuzz/regressions/ads_report/).
        for date in ["02/01/2026", "-026-02-01"] {
            let row = obj(json!({"date": date, "campaignId": 1}));
            let err = parse_rows(sp, &[row], "USD").unwrap_err();
            assert!(err.contains("YYYY-MM-DD"), "{err}");
        }
    }

    #[test]
    fn non_finite_numbers_read_as_invalid() {
        // Found by fuzzing (fuzz/regressions/ads_report/nan_cost.json):
        // `"NaN"` parsed as a cost, `"-inf"` as sales.
        let sp = ReportKind::find("spCampaigns").unwrap();
        let rows = parse_rows(
            sp,
            &[obj(
                json!({"date": "2026-02-01", "campaignId": 1, "cost": "NaN",
                "sales14d": "-inf", "sales7d": "1e400", "campaignBudgetAmount": "inf"}),
            )],
            "USD",
        )
        .unwrap();
        let ReportRows::Campaigns(r) = rows else {
            panic!()
        };
        assert_eq!(r[0].metrics.cost, 0.0);
        assert_eq!(
            (
                r[0].metrics.sales.d14,
                r[0].metrics.sales.d7,
                r[0].campaign_budget_amount
            ),
            (None, None, None)
        );
    }

    #[test]
    fn params_hash_is_stable() {
        let v = json!({"a": 1});
        assert_eq!(params_hash(&v), params_hash(&json!({"a": 1})));
        assert_ne!(params_hash(&v), params_hash(&json!({"a": 2})));
        assert_eq!(params_hash(&v).len(), 16);
    }
}
