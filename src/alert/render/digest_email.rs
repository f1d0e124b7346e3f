//! The weekly digest email (DESIGN §5): what it says, [`DigestModel`]
//! (filled from the database by `alert::digest::build`), and how it reads:
//! per marketplace the 12-KPI checklist with status, value, target, change
//! and an 8-week trend chart, then open alerts, what improved, unavailable
//! data and the alive line, every part budgeted so the HTML stays under
//! [`HTML_MAX`](super::HTML_MAX).

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};

use super::chart::{self, SPARK};
use super::layout::{
    close_parts, country, esc, field, fmt_num, html_note, html_paragraph, html_section, local_time,
    one_line, open_parts, sev_upper, severity_colour, short_id, status_colour, subject_line,
    truncate, MUTED, RESOLVED_COLOUR,
};
use crate::alert::{Attachment, Rendered, Series};
use crate::config::{RuleId, Severity};
use crate::kpis::Status;

/// Everything the weekly digest of one account says.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestModel {
    pub account: String,
    pub generated_at: DateTime<Utc>,
    /// `[daemon] timezone`, for the times shown.
    pub timezone: String,
    pub marketplaces: Vec<MarketplaceKpis>,
    /// Firing alerts, critical first.
    pub open_alerts: Vec<AlertLine>,
    /// Alerts resolved in the last 7 days (`since` is when).
    pub resolved: Vec<AlertLine>,
    /// KPIs whose status is better than a week ago.
    pub improved_kpis: Vec<Improved>,
    /// Jobs whose last run found a role missing.
    pub unavailable: Vec<Unavailable>,
    pub alive: Alive,
}

/// One marketplace's checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketplaceKpis {
    pub marketplace_id: String,
    /// "US", "DE", ...
    pub country: String,
    /// The evaluation date (today in the marketplace's zone).
    pub at: NaiveDate,
    /// The 12 KPIs of DESIGN §2.3, in checklist order.
    pub rows: Vec<KpiLine>,
}

/// One row of the checklist.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiLine {
    /// The KPI id (`conversion_rate`, ...).
    pub kpi: String,
    /// What the seller reads.
    pub name: &'static str,
    /// Appended to values: "%" or "" (counts say what they count in the name).
    pub unit: &'static str,
    pub value: Option<f64>,
    /// account_health's account status.
    pub label: Option<String>,
    pub target: String,
    pub status: Status,
    /// The status colour ([`status_colour`]).
    pub colour: &'static str,
    /// Value now minus value a week ago, in the KPI's unit.
    pub change: Option<f64>,
    pub previous_status: Option<Status>,
    /// For KPIs kept per ASIN or SKU: how many have data, which are off.
    pub note: Option<String>,
    /// The value at each of the last 8 weekly evaluation dates, oldest first.
    pub trend: Series,
}

/// An alert in the digest's lists.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLine {
    pub fingerprint: String,
    pub rule: RuleId,
    /// [`rule_title`](super::layout::rule_title).
    pub title: &'static str,
    pub severity: Severity,
    pub marketplace: Option<String>,
    /// "asin B0…", "sku …", or the marketplace.
    pub subject: String,
    pub summary: String,
    /// Firing since (open alerts) or resolved at (resolved ones).
    pub since: DateTime<Utc>,
}

/// A KPI whose status improved since last week.
#[derive(Debug, Clone, PartialEq)]
pub struct Improved {
    pub kpi: String,
    pub name: &'static str,
    pub country: String,
    pub from: Status,
    pub to: Status,
}

/// A job Amazon refuses for a missing role, and what it starves.
#[derive(Debug, Clone, PartialEq)]
pub struct Unavailable {
    pub job: String,
    pub since: DateTime<Utc>,
    pub error: Option<String>,
    /// Enabled rules that have no data without it.
    pub rules: Vec<RuleId>,
}

/// Whether the daemon is syncing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alive {
    /// Sync rounds (distinct start instants of the account's job runs) in
    /// the last 7 days.
    pub rounds_7d: i64,
    pub last_round: Option<DateTime<Utc>>,
    pub last_round_jobs: i64,
    pub last_round_failed: i64,
}

// ---- how it reads ----

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "OK",
        Status::Warning => "WARNING",
        Status::Critical => "CRITICAL",
        Status::NoData => "NO DATA",
    }
}

/// A KPI value with its unit ("12.4%", "3 SKUs", "-").
fn kpi_value(k: &KpiLine) -> String {
    match k.value {
        Some(v) => {
            let mut s = format!("{}{}", fmt_num(v), k.unit);
            if let Some(l) = &k.label {
                let _ = write!(s, " ({})", truncate(&one_line(l), 30));
            }
            s
        }
        None => "-".into(),
    }
}

/// "▲ +0.8 pts" / "▼ -120" / "=" ("" when unknown): the change against
/// the previous week, in the KPI's unit (points for percentages).
fn kpi_change(k: &KpiLine) -> String {
    let Some(c) = k.change else {
        return String::new();
    };
    let unit = if k.unit == "%" {
        " pts".to_string()
    } else {
        k.unit.to_string()
    };
    if c.abs() < 1e-9 {
        "= 0".into()
    } else if c > 0.0 {
        format!("▲ +{}{unit}", fmt_num(c))
    } else {
        format!("▼ {}{unit}", fmt_num(c))
    }
}

/// The alive line: how often flywheel synced, and how the last round went.
pub fn alive_line(d: &DigestModel) -> String {
    let a = &d.alive;
    let mut s = match a.rounds_7d {
        0 => "flywheel has not synced in the last 7 days: check that the daemon runs (systemctl status flywheel)".to_string(),
        1 => "flywheel has synced once in the last 7 days".to_string(),
        n => format!("flywheel has synced {n} times in the last 7 days"),
    };
    if let Some(t) = a.last_round {
        let how = if a.last_round_failed == 0 {
            "ok".to_string()
        } else {
            format!(
                "{} of {} jobs failed",
                a.last_round_failed, a.last_round_jobs
            )
        };
        let _ = write!(s, "; last sync round {} {how}", local_time(t, &d.timezone));
    }
    s.push('.');
    s
}

fn digest_subject(d: &DigestModel) -> String {
    let off: usize = d
        .marketplaces
        .iter()
        .flat_map(|m| &m.rows)
        .filter(|k| matches!(k.status, Status::Warning | Status::Critical))
        .count();
    let mut parts = vec![format!(
        "{off} KPI{} off target",
        if off == 1 { "" } else { "s" }
    )];
    parts.push(format!(
        "{} open alert{}",
        d.open_alerts.len(),
        if d.open_alerts.len() == 1 { "" } else { "s" }
    ));
    if !d.unavailable.is_empty() {
        parts.push(format!("{} source(s) unavailable", d.unavailable.len()));
    }
    subject_line(&format!(
        "[flywheel] {}: weekly digest: {}",
        one_line(&d.account),
        parts.join(", ")
    ))
}

/// Caps of the digest's lists (the rest is counted).
const DIGEST_ALERTS_MAX: usize = 40;
const DIGEST_LIST_MAX: usize = 30;
/// Marketplace tables are added while the HTML stays under this size...
const DIGEST_TABLES_BUDGET: usize = 60_000;
/// ...and list lines while it stays under this one (the rest is counted).
const DIGEST_LINES_BUDGET: usize = 90_000;
/// Short fields of the digest (targets, names of jobs), in characters.
const SHORT: usize = 60;

/// The HTML and text of one marketplace's checklist, with its charts.
fn checklist_section(m: &MarketplaceKpis, mi: usize) -> (String, String, Vec<Attachment>) {
    let heading = format!(
        "{} ({}): flywheel health checklist as of {}",
        truncate(&field(&m.country), SHORT),
        truncate(&field(&m.marketplace_id), SHORT),
        m.at
    );
    let mut html = html_section(&heading);
    let mut text = format!(
        "\n== {heading} ==\n  {:<9} {:<34} {:>18} {:<22} change vs last week\n",
        "status", "kpi", "value", "target"
    );
    let mut attachments = Vec::new();
    html.push_str(
        "<tr><td style=\"padding:4px 20px;\"><table role=\"presentation\" width=\"100%\" \
         cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"font-size:13px;border-collapse:collapse;\">\
         <tr style=\"color:#57606a;font-size:11px;\"><td style=\"padding:3px 6px;\">STATUS</td>\
         <td style=\"padding:3px 6px;\">KPI</td><td align=\"right\" style=\"padding:3px 6px;\">VALUE</td>\
         <td style=\"padding:3px 6px;\">TARGET</td><td style=\"padding:3px 6px;\">VS LAST WEEK</td>\
         <td style=\"padding:3px 6px;\">8 WEEKS</td></tr>",
    );
    for (ri, k) in m.rows.iter().enumerate() {
        let colour = status_colour(k.status);
        let cid = format!("kpi-{}-{}@flywheel", mi + 1, ri + 1);
        let chart_cell = if chart::series_stats(&k.trend).is_some() {
            attachments.push(chart::attachment(
                &k.trend,
                SPARK,
                format!("kpi-{}-{}.png", mi + 1, ri + 1),
                cid.clone(),
            ));
            format!(
                "<img src=\"cid:{}\" width=\"{}\" height=\"{}\" alt=\"{}\" style=\"display:block;border:0;\">",
                esc(&cid),
                SPARK.0,
                SPARK.1,
                esc(&format!("{} over 8 weeks", k.name))
            )
        } else {
            "<span style=\"color:#8c959f;\">no history</span>".to_string()
        };
        let note = k.note.as_deref().map(|n| truncate(&field(n), 160));
        let note_html = note
            .as_deref()
            .map(|n| {
                format!(
                    "<div style=\"font-size:11px;color:{MUTED};\">{}</div>",
                    esc(n)
                )
            })
            .unwrap_or_default();
        let target = truncate(&field(&k.target), SHORT);
        let _ = write!(
            html,
            "<tr style=\"border-top:1px solid #eaeef2;\">\
             <td bgcolor=\"{colour}\" style=\"padding:3px 6px;background:{colour};color:#ffffff;\
             font-size:11px;font-weight:bold;white-space:nowrap;\">{}</td>\
             <td style=\"padding:3px 6px;\">{}{note_html}</td>\
             <td align=\"right\" style=\"padding:3px 6px;white-space:nowrap;\">{}</td>\
             <td style=\"padding:3px 6px;color:{MUTED};\">{}</td>\
             <td style=\"padding:3px 6px;white-space:nowrap;\">{}</td>\
             <td style=\"padding:3px 6px;\">{chart_cell}</td></tr>",
            status_word(k.status),
            esc(k.name),
            esc(&kpi_value(k)),
            esc(&target),
            esc(&kpi_change(k)),
        );
        let _ = writeln!(
            text,
            "  {:<9} {:<34} {:>18} {:<22} {}{}",
            status_word(k.status),
            k.name,
            kpi_value(k),
            target,
            kpi_change(k),
            note.map(|n| format!("  ({n})")).unwrap_or_default()
        );
    }
    html.push_str("</table></td></tr>\n");
    (html, text, attachments)
}

/// Appends a titled list to both parts: at most `max` lines, fewer when
/// the HTML budget runs out, then "and N more" with `more_hint`.
fn digest_list(
    html: &mut String,
    text: &mut String,
    title: &str,
    lines: &[(Option<&'static str>, String)],
    max: usize,
    empty: &str,
    more_hint: &str,
) {
    html.push_str(&html_section(title));
    let _ = writeln!(text, "\n== {title} ==");
    if lines.is_empty() {
        html.push_str(&html_paragraph(empty, ""));
        let _ = writeln!(text, "  {empty}");
        return;
    }
    let mut shown = 0;
    for (colour, line) in lines.iter().take(max) {
        let frag = match colour {
            Some(c) => format!(
                "<tr><td style=\"padding:2px 20px;font-size:13px;\"><span style=\"color:{c};\">&#9632;</span> {}</td></tr>\n",
                esc(line)
            ),
            None => html_paragraph(line, "font-size:13px;"),
        };
        if html.len() + frag.len() > DIGEST_LINES_BUDGET {
            break;
        }
        html.push_str(&frag);
        let _ = writeln!(text, "  {line}");
        shown += 1;
    }
    if shown < lines.len() {
        let more = format!("and {} more{more_hint}", lines.len() - shown);
        html.push_str(&html_note(&more));
        let _ = writeln!(text, "  {more}");
    }
}

/// Renders the weekly digest (DESIGN §5): per marketplace the 12-KPI
/// checklist with status, value, target, change and an 8-week trend chart,
/// then open alerts, what improved, unavailable data and the alive line.
/// Every part is budgeted so the HTML stays under
/// [`HTML_MAX`](super::HTML_MAX) whatever the account holds; what does not
/// fit is counted and named.
pub fn digest(d: &DigestModel) -> Rendered {
    let subject = digest_subject(d);
    let tz = d.timezone.as_str();
    let title = format!(
        "flywheel weekly digest · {}",
        truncate(&field(&d.account), SHORT)
    );
    let sub = format!("generated {}", local_time(d.generated_at, tz));
    let (mut html, mut text) = open_parts(crate::i18n::Lang::En, &subject, &title, &sub);
    let mut attachments = Vec::new();

    let mut skipped = Vec::new();
    for (mi, m) in d.marketplaces.iter().enumerate() {
        let (h, t, a) = checklist_section(m, mi);
        if !skipped.is_empty() || html.len() + h.len() > DIGEST_TABLES_BUDGET {
            skipped.push(truncate(&field(&m.country), 8));
            continue;
        }
        html.push_str(&h);
        text.push_str(&t);
        attachments.extend(a);
    }
    if !skipped.is_empty() {
        let note = format!(
            "The checklists of {} more marketplace(s) ({}) did not fit: run flywheel kpis.",
            skipped.len(),
            truncate(&skipped.join(", "), 200)
        );
        html.push_str(&html_note(&note));
        let _ = writeln!(text, "\n{note}");
    }

    let market = |m: &Option<String>| {
        truncate(
            &field(&m.as_deref().map(country).unwrap_or_default()),
            SHORT,
        )
    };
    let open: Vec<(Option<&'static str>, String)> = d
        .open_alerts
        .iter()
        .map(|a| {
            (
                Some(severity_colour(a.severity)),
                format!(
                    "{} {}: {} [{}] since {} (ack {})",
                    sev_upper(a.severity),
                    a.title,
                    truncate(&field(&a.subject), 100),
                    market(&a.marketplace),
                    local_time(a.since, tz),
                    short_id(&a.fingerprint)
                ),
            )
        })
        .collect();
    digest_list(
        &mut html,
        &mut text,
        &format!("Open alerts ({})", d.open_alerts.len()),
        &open,
        DIGEST_ALERTS_MAX,
        "None: every rule is quiet.",
        ": run flywheel alerts.",
    );

    let mut improved: Vec<(Option<&'static str>, String)> = d
        .resolved
        .iter()
        .map(|a| {
            (
                Some(RESOLVED_COLOUR),
                format!(
                    "resolved: {} {} [{}] at {}",
                    a.title,
                    truncate(&field(&a.subject), 100),
                    market(&a.marketplace),
                    local_time(a.since, tz)
                ),
            )
        })
        .collect();
    improved.extend(d.improved_kpis.iter().map(|k| {
        (
            Some(RESOLVED_COLOUR),
            format!(
                "{} in {}: {} → {}",
                k.name,
                truncate(&field(&k.country), SHORT),
                status_word(k.from).to_lowercase(),
                status_word(k.to).to_lowercase()
            ),
        )
    }));
    digest_list(
        &mut html,
        &mut text,
        "What improved this week",
        &improved,
        DIGEST_LIST_MAX,
        "Nothing resolved or improved this week.",
        ".",
    );

    if !d.unavailable.is_empty() {
        let lines: Vec<(Option<&'static str>, String)> = d
            .unavailable
            .iter()
            .map(|u| {
                let rules: Vec<&str> = u.rules.iter().map(|r| r.as_str()).collect();
                (
                    None,
                    format!(
                        "job {} unavailable since {}{}{}",
                        truncate(&field(&u.job), SHORT),
                        local_time(u.since, tz),
                        u.error
                            .as_deref()
                            .map(|e| format!(": {}", truncate(&field(e), 160)))
                            .unwrap_or_default(),
                        if rules.is_empty() {
                            String::new()
                        } else {
                            format!("; rules without data: {}", rules.join(", "))
                        }
                    ),
                )
            })
            .collect();
        digest_list(
            &mut html,
            &mut text,
            "Data unavailable (missing roles)",
            &lines,
            DIGEST_LIST_MAX,
            "",
            ": run flywheel doctor.",
        );
        let hint = "Grant the role in Seller Central (Apps and Services > Develop Apps), then run flywheel doctor.";
        html.push_str(&html_note(hint));
        let _ = writeln!(text, "  {hint}");
    }

    // The daemon is alive.
    let alive = alive_line(d);
    html.push_str(&html_section("flywheel"));
    html.push_str(&html_paragraph(&alive, "font-size:13px;"));
    let _ = writeln!(text, "\n{alive}");

    let footer = vec![format!(
        "Sent by flywheel at {} ({}). flywheel kpis prints the checklist any day; flywheel alerts lists every alert.",
        local_time(d.generated_at, tz),
        truncate(&one_line(tz), SHORT)
    )];
    close_parts(subject, html, text, &footer, attachments)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{at, series};
    use super::super::HTML_MAX;
    use super::*;

    #[test]
    fn a_huge_digest_stays_under_the_budget() {
        let long = "<&>".repeat(300);
        let line = |i: usize| AlertLine {
            fingerprint: format!("{i:016x}"),
            rule: RuleId::WastedSpend,
            title: "wasted ad spend",
            severity: Severity::Warning,
            marketplace: Some("ATVPDKIKX0DER".into()),
            subject: long.clone(),
            summary: long.clone(),
            since: at(),
        };
        let row = |k: &str| KpiLine {
            kpi: k.into(),
            name: "Some KPI with a name",
            unit: "%",
            value: Some(12.5),
            label: Some(long.clone()),
            target: long.clone(),
            status: Status::Warning,
            colour: status_colour(Status::Warning),
            change: Some(-1.5),
            previous_status: Some(Status::Critical),
            note: Some(long.clone()),
            trend: Series {
                label: long.clone(),
                ..series(8)
            },
        };
        let d = DigestModel {
            account: long.clone(),
            generated_at: at(),
            timezone: "Europe/Paris".into(),
            marketplaces: (0..12)
                .map(|i| MarketplaceKpis {
                    marketplace_id: format!("M{i}"),
                    country: long.clone(),
                    at: at().date_naive(),
                    rows: crate::kpis::KPIS.iter().map(|k| row(k)).collect(),
                })
                .collect(),
            open_alerts: (0..500).map(line).collect(),
            resolved: (0..200).map(line).collect(),
            improved_kpis: (0..100)
                .map(|_| Improved {
                    kpi: "tacos".into(),
                    name: "TACoS",
                    country: long.clone(),
                    from: Status::Critical,
                    to: Status::Ok,
                })
                .collect(),
            unavailable: (0..14)
                .map(|_| Unavailable {
                    job: long.clone(),
                    since: at(),
                    error: Some(long.clone()),
                    rules: RuleId::ALL.to_vec(),
                })
                .collect(),
            alive: Alive::default(),
        };
        let r = digest(&d);
        assert!(r.html.len() < HTML_MAX, "{} bytes", r.html.len());
        assert!(!r.html.contains("<&>"));
        assert_eq!(r.html.matches("cid:").count(), r.attachments.len());
        assert!(
            r.text.contains("did not fit: run flywheel kpis."),
            "{}",
            r.text
        );
        assert!(r.text.contains("more: run flywheel alerts."));
        assert!(r
            .text
            .contains("flywheel has not synced in the last 7 days"));
    }
}
