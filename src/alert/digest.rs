//! The weekly digest (DESIGN §5, last bullet).
//!
//! Alerts say what broke; the digest is the routine the seed recommends: the
//! 12-KPI flywheel checklist of each marketplace with its status, value,
//! target, change against last week and an 8-week trend, then what is still
//! open, what got better, which data Amazon refuses (a missing role), and a
//! line proving the daemon is alive (a digest that stops arriving is itself
//! a signal).
//!
//! [`build`] gathers a [`DigestModel`] from the database; `render::digest`
//! turns it into an email (pure). The KPI values come from the `kpi_*`
//! views through [`crate::kpis`], evaluated as of today and each of the
//! seven previous weeks by recording those evaluation dates in turn (the
//! current one last, so the views are left as of today); the alert lists
//! from `store::alerts`, the unavailable jobs from `store::jobs`, and which
//! rules they starve from `doctor::rule_sources`.

use std::fmt::Write as _;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{params, Connection};

use super::render::layout::{rule_title, status_colour};
use super::render::{
    self, AlertLine, Alive, DigestModel, Improved, KpiLine, KpiTarget, MarketplaceKpis,
    SubjectsNote, Unavailable,
};
use super::state::State;
use super::{Item, ItemKind, Series};
use crate::config::{Account, Config, RuleId, SubjectRef};
use crate::kpis::{self, Kpi, Level, Status, KPIS};
use crate::store;
use crate::sync::JobName;

/// The unit of a KPI's value: "%" for rates, "" for counts (a count says
/// what it counts in the KPI's name, `i18n::kpi_name`).
fn kpi_unit(kpi: &str) -> &'static str {
    match kpi {
        "conversion_rate"
        | "buy_box_pct"
        | "acos"
        | "tacos"
        | "return_rate"
        | "negative_feedback_rate"
        | "account_health" => "%",
        _ => "",
    }
}

/// One KPI of one marketplace as of one date: the marketplace record, or
/// for KPIs kept only per ASIN/SKU (bsr, days_of_supply) the number of
/// subjects off target. Returns (value, label, status, target, note).
type Level1 = (
    Option<f64>,
    Option<String>,
    Status,
    KpiTarget,
    Option<SubjectsNote>,
);

fn level_of(kpis: &[Kpi], id: &str) -> Level1 {
    let mine: Vec<&Kpi> = kpis.iter().filter(|k| k.kpi == id).collect();
    if let Some(k) = mine.iter().find(|k| k.level() == Level::Marketplace) {
        return (
            k.value,
            k.label.clone(),
            k.status.unwrap_or(Status::NoData),
            k.goal.map_or(KpiTarget::Unknown, KpiTarget::Of),
            None,
        );
    }
    let known = mine.iter().filter(|k| k.value.is_some()).count();
    let flagged: Vec<String> = mine
        .iter()
        .filter(|k| matches!(k.status, Some(Status::Warning | Status::Critical)))
        .map(|k| {
            k.asin
                .clone()
                .or_else(|| k.sku.clone())
                .or_else(|| k.campaign_id.clone())
                .unwrap_or_default()
        })
        .collect();
    let status = if known == 0 {
        Status::NoData
    } else {
        mine.iter()
            .filter_map(|k| k.status)
            .max()
            .unwrap_or(Status::Ok)
            .max(Status::Ok)
    };
    let target = KpiTarget::NoneOff(mine.first().and_then(|k| k.goal));
    let note = SubjectsNote {
        subjects: mine.len(),
        with_data: known,
        more: flagged.len() > SubjectsNote::NAMED,
        off: flagged.iter().take(SubjectsNote::NAMED).cloned().collect(),
    };
    let value = (known > 0).then_some(flagged.len() as f64);
    (value, None, status, target, Some(note))
}

fn badness(s: Status) -> Option<u8> {
    match s {
        Status::NoData => None,
        Status::Ok => Some(0),
        Status::Warning => Some(1),
        Status::Critical => Some(2),
    }
}

/// The checklist rows from the KPIs of each weekly date (oldest first, the
/// last being the evaluation date).
fn checklist(
    cfg: &Config,
    account: &str,
    marketplace: &str,
    weeks: &[(NaiveDate, Vec<Kpi>)],
) -> Vec<KpiLine> {
    let subject = SubjectRef {
        account,
        marketplace,
        sku: None,
        asin: None,
        campaign: None,
    };
    KPIS.iter()
        .map(|id| {
            let unit = kpi_unit(id);
            let levels: Vec<(NaiveDate, Level1)> =
                weeks.iter().map(|(d, ks)| (*d, level_of(ks, id))).collect();
            let now = levels.last().map(|(_, l)| l.clone());
            let prev = levels.len().checked_sub(2).map(|i| levels[i].1.clone());
            let (value, label, status, target, note) =
                now.unwrap_or((None, None, Status::NoData, KpiTarget::Unknown, None));
            let change = match (value, prev.as_ref().and_then(|p| p.0)) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            };
            KpiLine {
                kpi: id.to_string(),
                unit,
                value,
                label,
                target,
                status,
                colour: status_colour(status),
                change,
                previous_status: prev.map(|p| p.2),
                note,
                trend: Series {
                    label: format!(
                        "{id}{} at each weekly evaluation",
                        if unit.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", unit.trim())
                        }
                    ),
                    points: levels.iter().map(|(d, l)| (*d, l.0)).collect(),
                    threshold: kpis::threshold_line(cfg, id, &subject),
                },
            }
        })
        .collect()
}

/// The account's KPIs as of today and each of the 7 weeks before, per
/// marketplace. Records each date in `evaluation_dates` in turn, today's
/// last, all in one transaction.
fn weekly_kpis(
    conn: &mut Connection,
    cfg: &Config,
    account: &Account,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(MarketplaceKpis, Vec<Improved>)>> {
    let tx = conn.transaction()?;
    let mut out = Vec::new();
    for mp in account.marketplaces() {
        let tz = mp.tz;
        let at = now.with_timezone(&tz).date_naive();
        let skus = store::kpis::skus(&tx, &account.name, mp.id)?;
        let mut weeks = Vec::new();
        for w in (0..8).rev() {
            let d = at - Duration::days(7 * w);
            let e = kpis::evaluation_date(cfg, &account.name, mp.id, d, now, &skus, "kpis")?;
            store::kpis::record_evaluation_date(&tx, &e)?;
            let ks: Vec<Kpi> = store::kpis::read_kpis(&tx, &account.name, mp.id)?
                .into_iter()
                .map(|row| kpis::assess(cfg, kpis::record(row)))
                .collect();
            weeks.push((d, ks));
        }
        let rows = checklist(cfg, &account.name, mp.id, &weeks);
        let improved = rows
            .iter()
            .filter_map(|k| {
                let (now, before) = (badness(k.status)?, badness(k.previous_status?)?);
                (now < before).then(|| Improved {
                    kpi: k.kpi.clone(),
                    country: mp.country.to_string(),
                    from: k.previous_status.unwrap_or(Status::NoData),
                    to: k.status,
                })
            })
            .collect();
        out.push((
            MarketplaceKpis {
                marketplace_id: mp.id.to_string(),
                country: mp.country.to_string(),
                at,
                rows,
            },
            improved,
        ));
    }
    tx.commit()?;
    Ok(out)
}

/// Open alerts and those resolved in the last 7 days.
fn alert_lists(
    conn: &Connection,
    account: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(Vec<AlertLine>, Vec<AlertLine>)> {
    let mut open = Vec::new();
    let mut resolved = Vec::new();
    for a in store::alerts::list(conn, true)? {
        if a.account != account {
            continue;
        }
        let (list, since, kind) = match a.state {
            State::Firing => (
                &mut open,
                a.firing_since.unwrap_or(a.started_at),
                ItemKind::Firing,
            ),
            State::Resolved => match a.resolved_at {
                Some(t) if t >= now - Duration::days(7) => (&mut resolved, t, ItemKind::Resolved),
                _ => continue,
            },
            _ => continue,
        };
        let item = Item::from_finding_json(&a.last_finding, kind, &a.fingerprint, since);
        let (subject, summary, keys) = match &item {
            Some(i) => (i.subject_label(), i.summary.clone(), i.subject.clone()),
            None => (
                a.marketplace.clone().unwrap_or_default(),
                String::new(),
                Vec::new(),
            ),
        };
        list.push(AlertLine {
            fingerprint: a.fingerprint.clone(),
            rule: a.rule,
            title: rule_title(a.rule),
            severity: a.severity,
            marketplace: a.marketplace.clone(),
            subject,
            keys,
            summary,
            since,
        });
    }
    open.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.since.cmp(&b.since)));
    resolved.sort_by_key(|a| std::cmp::Reverse(a.since));
    Ok((open, resolved))
}

/// Jobs whose last run was 'unavailable' (a missing role), with the enabled
/// rules that lack data because of them (no alternative source of theirs
/// can run: `doctor::rule_sources`).
fn unavailable(conn: &Connection, cfg: &Config, account: &str) -> anyhow::Result<Vec<Unavailable>> {
    let mut missing = Vec::new();
    for job in JobName::ALL {
        if let Some(since) = store::jobs::unavailable_since(conn, job.as_str(), account)? {
            let error: Option<String> = conn
                .query_row(
                    "SELECT error FROM job_runs WHERE job = ?1 AND account = ?2 AND status = 'unavailable'
                     ORDER BY id DESC LIMIT 1",
                    params![job.as_str(), account],
                    |r| r.get(0),
                )
                .unwrap_or(None);
            let since = DateTime::parse_from_rfc3339(&since)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default();
            missing.push((*job, since, error));
        }
    }
    let runs = |j: &JobName| !missing.iter().any(|(m, _, _)| m == j);
    Ok(missing
        .iter()
        .map(|(job, since, error)| {
            let rules = RuleId::ALL
                .iter()
                .copied()
                .filter(|r| cfg.rules.common(*r).enabled)
                .filter(|r| {
                    let alts = crate::doctor::rule_sources(*r);
                    alts.iter().any(|alt| alt.contains(job))
                        && !alts.iter().any(|alt| alt.iter().all(runs))
                })
                .collect();
            Unavailable {
                job: job.as_str().to_string(),
                since: *since,
                error: error.clone(),
                rules,
            }
        })
        .collect())
}

/// Sync rounds of the last 7 days: every job of a round starts at the
/// round's instant (`sync::run_round` reads the clock once), so a round is
/// a distinct `started_at`. A range scan of `job_runs_by_start`.
fn alive(conn: &Connection, account: &str, now: DateTime<Utc>) -> anyhow::Result<Alive> {
    let mut st = conn.prepare(
        "SELECT started_at, COUNT(*), SUM(status IN ('failed', 'interrupted')) FROM job_runs
         WHERE started_at >= ?2 AND started_at <= ?3 AND account = ?1 AND status <> 'running'
         GROUP BY started_at ORDER BY started_at",
    )?;
    let rows = st
        .query_map(
            params![
                account,
                store::ops::ts(now - Duration::days(7)),
                store::ops::ts(now)
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let mut a = Alive {
        rounds_7d: rows.len() as i64,
        ..Alive::default()
    };
    if let Some((t, jobs, failed)) = rows.last() {
        a.last_round = DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc));
        a.last_round_jobs = *jobs;
        a.last_round_failed = *failed;
    }
    Ok(a)
}

/// Gathers the digest of one configured account as of `now`. Leaves the
/// `kpi_*` views evaluated as of today.
pub fn build(
    conn: &mut Connection,
    cfg: &Config,
    account: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DigestModel> {
    let acct = cfg
        .accounts
        .iter()
        .find(|a| a.name == account)
        .with_context(|| format!("account \"{account}\" is not in the config"))?;
    let weekly = weekly_kpis(conn, cfg, acct, now)?;
    let (open_alerts, resolved) = alert_lists(conn, account, now)?;
    let mut marketplaces = Vec::new();
    let mut improved_kpis = Vec::new();
    for (m, improved) in weekly {
        marketplaces.push(m);
        improved_kpis.extend(improved);
    }
    Ok(DigestModel {
        account: account.to_string(),
        lang: cfg.language(acct),
        names: store::names::names(conn, cfg, acct)?,
        generated_at: now,
        timezone: cfg.daemon.timezone,
        marketplaces,
        open_alerts,
        resolved,
        improved_kpis,
        unavailable: unavailable(conn, cfg, account)?,
        alive: alive(conn, account, now)?,
    })
}

/// Builds and renders the digest of each of `accounts` as of `now` (the
/// daemon's tick, or the command's one clock reading).
pub fn render_all<'a>(
    conn: &mut Connection,
    cfg: &Config,
    accounts: &[&'a Account],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(&'a Account, super::Rendered)>> {
    let mut digests = Vec::new();
    for account in accounts {
        let model = build(conn, cfg, &account.name, now)?;
        digests.push((*account, render::digest(&model)));
    }
    Ok(digests)
}

/// Queues each rendered digest in the outbox for its account's recipients,
/// in one transaction; delivery is the sender's. Returns one line per
/// account saying what happened.
pub fn queue(
    conn: &mut Connection,
    cfg: &Config,
    digests: &[(&Account, super::Rendered)],
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let domain = super::notify::sender_domain(&cfg.email.from);
    let mut out = String::new();
    let tx = conn.transaction()?;
    for (account, r) in digests {
        let recipients = cfg.recipients(account);
        if recipients.is_empty() {
            let _ = writeln!(
                out,
                "{}: no recipients (set alert_to in the account or [email] to): not queued",
                account.name
            );
            continue;
        }
        let (id, _) = store::outbox::enqueue(
            &tx,
            &store::outbox::NewEmail {
                account: Some(&account.name),
                kind: store::outbox::Kind::Digest,
                recipients: &recipients,
                rendered: r,
                fingerprints: &[],
                in_reply_to: None,
                domain,
            },
            now,
        )?;
        let _ = writeln!(
            out,
            "{}: digest queued as outbox #{id} for {}",
            account.name,
            recipients.join(", ")
        );
    }
    tx.commit()?;
    Ok(out)
}

/// Standard base64 (RFC 4648, with padding), for the `data:` URIs of
/// `--out` (a file cannot reach `cid:` attachments).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The HTML with every `cid:` image replaced by a `data:` URI, for a file
/// opened in a browser.
pub fn inline_images(r: &super::Rendered) -> String {
    let mut html = r.html.clone();
    for a in &r.attachments {
        html = html.replace(
            &format!("src=\"cid:{}\"", a.content_id),
            &format!("src=\"data:{};base64,{}\"", a.content_type, base64(&a.data)),
        );
    }
    html
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Env;
    use std::path::Path;

    /// One account in the US, its database at `db`, emails to files beside
    /// it; the account names no recipients of its own (`[email] to` gets all).
    pub(crate) fn cfg(db: &Path) -> Config {
        let daemon = format!(
            "database = \"{}\"\ntimezone = \"America/Los_Angeles\"",
            db.display()
        );
        let text = format!(
            r#"{}
[email]
transport = "file"
from = "flywheel <alerts@example.com>"
to = ["ops@example.com"]
dir = "{}"
"#,
            crate::config::test_toml(&daemon, "acme"),
            db.parent().unwrap().join("mail").display()
        );
        let mut cfg = Config::from_toml(&text, Path::new("t.toml"), &Env::default())
            .unwrap_or_else(|e| panic!("{e}"));
        cfg.accounts[0].alert_to.clear();
        cfg
    }

    fn now() -> DateTime<Utc> {
        "2026-03-02T16:00:00Z".parse().unwrap()
    }

    /// A database with a firing alert (hostile strings in its finding), a
    /// resolved one, some daily sales & traffic, and job runs: one round
    /// all ok, one with `listings` unavailable.
    fn fixture() -> (tempfile::TempDir, Config, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("f.db");
        let cfg = cfg(&db);
        let mut conn = store::in_memory().unwrap();
        store::ops::sync_accounts(&mut conn, &cfg, now()).unwrap();
        let finding = serde_json::json!({"rule": "wasted_spend", "severity": "warning",
            "account": "acme", "marketplace": "ATVPDKIKX0DER", "campaign_id": "1005",
            "search_term": "<script>alert(1)</script> & \"mugs\"", "value": 20, "threshold": 15,
            "summary": "<b>bold</b> claims"});
        let resolved = serde_json::json!({"rule": "stockout_risk", "severity": "critical",
            "account": "acme", "marketplace": "ATVPDKIKX0DER", "sku": "SKU-1"});
        for (fp, rule, state, sev, f, firing, res) in [
            (
                "aaaa1111bbbb",
                "wasted_spend",
                "firing",
                "warning",
                &finding,
                Some("2026-02-27T10:00:00Z"),
                None,
            ),
            (
                "cccc2222dddd",
                "stockout_risk",
                "resolved",
                "critical",
                &resolved,
                Some("2026-02-20T10:00:00Z"),
                Some("2026-03-01T10:00:00Z"),
            ),
            (
                "eeee3333ffff",
                "stockout_risk",
                "resolved",
                "critical",
                &resolved,
                Some("2026-01-20T10:00:00Z"),
                Some("2026-02-01T10:00:00Z"),
            ),
        ] {
            conn.execute(
                "INSERT INTO alerts (fingerprint, rule, account, marketplace_id, labels_json, state,
                     severity, started_at, firing_since, resolved_at, last_evaluated_at, last_finding_json)
                 VALUES (?1, ?2, 'acme', 'ATVPDKIKX0DER', '{}', ?3, ?4, ?5, ?5, ?6, ?5, ?7)",
                params![fp, rule, state, sev, firing, res, f.to_string()],
            )
            .unwrap();
        }
        // The daily series: conversion 10% this week, 14% a week ago.
        for i in 1..=21 {
            let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap() - Duration::days(i);
            let units = if i <= 7 { 10 } else { 14 };
            conn.execute(
                "INSERT INTO sales_traffic_daily (account, marketplace_id, date, sessions, page_views,
                     buy_box_pct, units_ordered, total_order_items, ordered_product_sales,
                     negative_feedback_received, fetched_at)
                 VALUES ('acme', 'ATVPDKIKX0DER', ?1, 100, 150, 95.0, ?2, ?2, 200.0, 0, '2026-03-02T00:00:00Z')",
                params![d.to_string(), units],
            )
            .unwrap();
        }
        for (job, started, status, error) in [
            ("orders", "2026-03-01T11:00:00Z", "ok", None),
            ("listings", "2026-03-01T11:00:00Z", "ok", None),
            ("orders", "2026-03-02T11:00:00Z", "ok", None),
            (
                "listings",
                "2026-03-02T11:00:00Z",
                "unavailable",
                Some("403 <Unauthorized>"),
            ),
            ("orders", "2026-02-10T11:00:00Z", "ok", None),
        ] {
            conn.execute(
                "INSERT INTO job_runs (job, account, started_at, finished_at, status, error)
                 VALUES (?1, 'acme', ?2, ?2, ?3, ?4)",
                params![job, started, status, error],
            )
            .unwrap();
        }
        (dir, cfg, conn)
    }

    #[test]
    fn builds_the_model_from_the_database() {
        let (_dir, cfg, mut conn) = fixture();
        let m = build(&mut conn, &cfg, "acme", now()).unwrap();
        assert_eq!(m.account, "acme");
        assert_eq!(m.marketplaces.len(), 1);
        let us = &m.marketplaces[0];
        assert_eq!(us.at.to_string(), "2026-03-02");
        assert_eq!(us.rows.len(), 12);
        let conv = us.rows.iter().find(|k| k.kpi == "conversion_rate").unwrap();
        assert_eq!(conv.trend.points.len(), 8);
        assert_eq!(conv.trend.points[7].0.to_string(), "2026-03-02");
        assert_eq!(conv.trend.points[0].0.to_string(), "2026-01-12");
        // Days −14…−1: 7 at 10 units and 7 at 14 over 1400 sessions = 12%.
        assert_eq!(conv.value, Some(12.0));
        assert_eq!(conv.status, Status::Ok);
        assert_eq!(conv.trend.threshold, Some(12.0));
        // A week earlier the window had 7 days of data only (14%).
        assert_eq!(conv.change, Some(12.0 - 14.0));
        // Weeks before the data are no_data, never 0.
        assert_eq!(conv.trend.points[0].1, None);
        // The views are left as of today.
        let at: String = conn
            .query_row(
                "SELECT at FROM evaluation_dates WHERE account = 'acme'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(at, "2026-03-02");

        assert_eq!(m.open_alerts.len(), 1);
        assert_eq!(m.open_alerts[0].rule, RuleId::WastedSpend);
        assert!(m.open_alerts[0].subject.contains("<script>"));
        assert_eq!(m.resolved.len(), 1, "only resolutions of the last 7 days");
        assert_eq!(m.resolved[0].fingerprint, "cccc2222dddd");

        assert_eq!(m.unavailable.len(), 1);
        assert_eq!(m.unavailable[0].job, "listings");
        assert_eq!(
            m.unavailable[0].error.as_deref(),
            Some("403 <Unauthorized>")
        );
        assert!(m.unavailable[0].rules.contains(&RuleId::ListingHealth));
        assert!(!m.unavailable[0].rules.contains(&RuleId::ConversionRate));

        assert_eq!(m.alive.rounds_7d, 2);
        assert_eq!(
            m.alive.last_round,
            Some("2026-03-02T11:00:00Z".parse().unwrap())
        );
        assert_eq!((m.alive.last_round_jobs, m.alive.last_round_failed), (2, 0));
    }

    #[test]
    fn renders_escaped_with_charts_attached() {
        let (_dir, cfg, mut conn) = fixture();
        let m = build(&mut conn, &cfg, "acme", now()).unwrap();
        let r = render::digest(&m);
        let lower = r.html.to_lowercase();
        assert!(!lower.contains("<script"));
        assert!(!lower.contains("http://"));
        assert_eq!(
            lower.matches("https://").count(),
            lower.matches("href=\"https://").count()
        );
        assert!(r
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;mugs&quot;"));
        assert!(r.html.contains("403 &lt;Unauthorized&gt;"));
        assert!(r.html.len() < render::HTML_MAX);
        assert!(!r.attachments.is_empty());
        for a in &r.attachments {
            assert!(r.html.contains(&format!("src=\"cid:{}\"", a.content_id)));
            assert_eq!(a.content_type, "image/png");
        }
        assert_eq!(r.html.matches("cid:").count(), r.attachments.len());
        assert!(
            r.subject.starts_with("[flywheel] acme: weekly digest:"),
            "{}",
            r.subject
        );
        for s in [
            "Conversion rate, 14 days",
            "▼ -2 pts",
            "Open alerts (1)",
            "resolved: stockout risk SKU-1 at ",
            "job listings unavailable since",
            "listing problem",
            "flywheel has synced 2 times in the last 7 days; last sync round Mar 2, 2026 03:00 PST ok.",
        ] {
            assert!(r.text.contains(s), "{s} missing in\n{}", r.text);
        }
        // The file version inlines the charts.
        let file = inline_images(&r);
        assert!(!file.contains("cid:") && file.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }
}
