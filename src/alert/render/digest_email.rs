//! The weekly digest email (DESIGN §5, §5.1): what it says,
//! [`DigestModel`] (filled from the database by `alert::digest::build`),
//! and how it reads, in the same design as an alert email: summary first
//! (the flywheel's links with their state, the KPIs off target, "Do
//! first" from the open alerts, each named and linked), then per
//! marketplace the 12-KPI checklist (status, value, target, change and an
//! 8-week trend, in rows that reflow on a phone), open alerts one line
//! each, what improved, unavailable data and the alive line, in the
//! account's language. Every part is budgeted so the HTML stays under
//! [`HTML_MAX`](super::HTML_MAX).

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};

use super::alert_email::{do_first_list, DO_FIRST_MAX};
use super::cards::{cards, do_first, NAME_SHORT};
use super::chart::{self, SPARK};
use super::layout::{
    close_parts, esc, field, html_note, html_paragraph, html_section, one_line, open_parts,
    severity_colour, short_id, status_colour, strip, subject_line, truncate, when, BORDER, MUTED,
    RESOLVED_COLOUR,
};
use crate::alert::{AlertEmail, Attachment, Item, ItemKind, Names, Rendered, Series};
use crate::config::{RuleId, Severity};
use crate::i18n::{self, format as fmt, tr, tr_args, Lang};
use crate::kpis::{Status, Target};

/// Everything the weekly digest of one account says.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestModel {
    pub account: String,
    /// The account's language.
    pub lang: Lang,
    /// What the digest calls the account's products and campaigns.
    pub names: Names,
    pub generated_at: DateTime<Utc>,
    /// `[daemon] timezone`, for the times shown.
    pub timezone: chrono_tz::Tz,
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
    /// The KPI id (`conversion_rate`, ...): its name is `i18n::kpi_name`.
    pub kpi: String,
    /// Appended to values: "%" or "" (counts say what they count in the name).
    pub unit: &'static str,
    pub value: Option<f64>,
    /// account_health's account status.
    pub label: Option<String>,
    pub target: KpiTarget,
    pub status: Status,
    /// The status colour ([`status_colour`]).
    pub colour: &'static str,
    /// Value now minus value a week ago, in the KPI's unit.
    pub change: Option<f64>,
    pub previous_status: Option<Status>,
    /// For KPIs kept per ASIN or SKU: how many have data, which are off.
    pub note: Option<SubjectsNote>,
    /// The value at each of the last 8 weekly evaluation dates, oldest first.
    pub trend: Series,
}

/// What a checklist row must meet, as data, so it reads in the digest's
/// language.
#[derive(Debug, Clone, PartialEq)]
pub enum KpiTarget {
    /// Not known (no record).
    Unknown,
    /// The marketplace record's target ("change > -30%", ">= 10").
    Of(Target),
    /// A KPI kept per ASIN or SKU: no subject off its target (the first
    /// subject's, when there is one).
    NoneOff(Option<Target>),
}

/// A KPI kept per ASIN or SKU: how many subjects it has, how many with
/// data, and the first few off target (their ASIN, SKU or campaign).
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectsNote {
    pub subjects: usize,
    pub with_data: usize,
    /// At most [`SubjectsNote::NAMED`] ids.
    pub off: Vec<String>,
    /// More are off than `off` names.
    pub more: bool,
}

impl SubjectsNote {
    /// Subjects off target a note names.
    pub const NAMED: usize = 5;
}

/// A row's target in `lang`: "change > -30%", "周环比下降不超过 30%",
/// "0 off (14-90)".
fn target_words(lang: Lang, t: &KpiTarget) -> String {
    match t {
        KpiTarget::Unknown => String::new(),
        KpiTarget::Of(t) => t.words(lang),
        KpiTarget::NoneOff(Some(t)) => tr_args(
            lang,
            "kpi-target-none-off",
            &[("target", t.words(lang).into())],
        ),
        KpiTarget::NoneOff(None) => tr(lang, "kpi-target-none-off-plain"),
    }
}

/// A row's note in `lang`: "3 of 5 with data; off target: B0A, B0B".
fn note_words(lang: Lang, n: &SubjectsNote) -> String {
    if n.subjects == 0 {
        return tr(lang, "kpi-note-no-subjects");
    }
    let mut s = tr_args(
        lang,
        "kpi-note-with-data",
        &[
            ("known", n.with_data.to_string().into()),
            ("n", n.subjects.to_string().into()),
        ],
    );
    if !n.off.is_empty() {
        let mut list = n.off.join(&tr(lang, "list-separator"));
        if n.more {
            list.push_str(&tr(lang, "kpi-note-more"));
        }
        s.push_str(&tr_args(
            lang,
            "kpi-note-off-target",
            &[("list", list.into())],
        ));
    }
    s
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
    /// The subject keys of the finding (account, marketplace, asin, sku,
    /// campaign_id, search_term), for names and links.
    pub keys: Vec<(String, String)>,
    pub summary: String,
    /// Firing since (open alerts) or resolved at (resolved ones).
    pub since: DateTime<Utc>,
}

/// A KPI whose status improved since last week.
#[derive(Debug, Clone, PartialEq)]
pub struct Improved {
    pub kpi: String,
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

fn status_word(lang: Lang, s: Status) -> String {
    tr(
        lang,
        match s {
            Status::Ok => "kpi-status-ok",
            Status::Warning => "kpi-status-warning",
            Status::Critical => "kpi-status-critical",
            Status::NoData => "kpi-status-no-data",
        },
    )
}

/// A KPI value with its unit ("12.4%", "3", "-").
fn kpi_value(k: &KpiLine) -> String {
    match k.value {
        Some(v) => {
            let mut s = if k.unit == "%" {
                fmt::percent(v)
            } else {
                format!("{}{}", fmt::number(v), k.unit)
            };
            if let Some(l) = &k.label {
                let _ = write!(s, " ({})", truncate(&one_line(l), 30));
            }
            s
        }
        None => "-".into(),
    }
}

/// "▲ +0.8 pts" / "▼ -120" / "= 0" ("" when unknown): the change against
/// the previous week, in the KPI's unit (points for percentages).
fn kpi_change(lang: Lang, k: &KpiLine) -> String {
    let Some(c) = k.change else {
        return String::new();
    };
    let n = |x: f64| {
        if k.unit == "%" {
            tr_args(lang, "unit-points", &[("n", fmt::number(x).into())])
        } else {
            format!("{}{}", fmt::number(x), k.unit)
        }
    };
    if c.abs() < 1e-9 {
        "= 0".into()
    } else if c > 0.0 {
        format!("▲ +{}", n(c))
    } else {
        format!("▼ {}", n(c))
    }
}

/// The alive line: how often flywheel synced, and how the last round went.
pub fn alive_line(d: &DigestModel) -> String {
    let lang = d.lang;
    let a = &d.alive;
    let mut s = match a.rounds_7d {
        0 => tr(lang, "digest-alive-none"),
        n => tr_args(
            lang,
            "digest-alive",
            &[("n", n.to_string().into()), ("count", n.into())],
        ),
    };
    if let Some(t) = a.last_round {
        let time = when(lang, t, d.timezone);
        let how = if a.last_round_failed == 0 {
            tr_args(lang, "digest-last-round-ok", &[("time", time.into())])
        } else {
            tr_args(
                lang,
                "digest-last-round-failed",
                &[
                    ("time", time.into()),
                    ("failed", a.last_round_failed.to_string().into()),
                    ("jobs", a.last_round_jobs.to_string().into()),
                ],
            )
        };
        s.push_str(&tr(lang, "digest-alive-separator"));
        s.push_str(&how);
    }
    s.push_str(&tr(lang, "digest-alive-end"));
    s
}

fn off_target(d: &DigestModel) -> usize {
    d.marketplaces
        .iter()
        .flat_map(|m| &m.rows)
        .filter(|k| matches!(k.status, Status::Warning | Status::Critical))
        .count()
}

fn digest_subject(d: &DigestModel) -> String {
    let lang = d.lang;
    let off = off_target(d);
    let mut parts = vec![
        tr_args(
            lang,
            "digest-kpis-off",
            &[("n", off.to_string().into()), ("count", off.into())],
        ),
        tr_args(
            lang,
            "digest-open-count",
            &[
                ("n", d.open_alerts.len().to_string().into()),
                ("count", d.open_alerts.len().into()),
            ],
        ),
    ];
    if !d.unavailable.is_empty() {
        parts.push(tr_args(
            lang,
            "digest-unavailable-count",
            &[("n", d.unavailable.len().to_string().into())],
        ));
    }
    let colon = tr(lang, "subject-colon");
    subject_line(&format!(
        "[flywheel] {}{colon}{}{colon}{}",
        one_line(&d.account),
        tr(lang, "digest-subject"),
        parts.join(&tr(lang, "list-separator"))
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

/// The HTML and text of one marketplace's checklist, with its charts. Each
/// KPI is one row of three cells (status; name with target and note;
/// value, change and sparkline), which fits a phone's width.
fn checklist_section(
    d: &DigestModel,
    m: &MarketplaceKpis,
    mi: usize,
) -> (String, String, Vec<Attachment>) {
    let lang = d.lang;
    let market = crate::model::marketplace::lookup(&m.marketplace_id)
        .map(|x| i18n::marketplace_name(lang, x))
        .unwrap_or_else(|| truncate(&field(&m.country), SHORT));
    let heading = tr_args(
        lang,
        "digest-checklist",
        &[
            ("marketplace", market.into()),
            ("date", fmt::date(lang, m.at).into()),
        ],
    );
    let mut html = html_section(&heading);
    let mut text = format!("\n== {heading} ==\n");
    let mut attachments = Vec::new();
    html.push_str(
        "<tr><td style=\"padding:2px 14px;\"><table role=\"presentation\" width=\"100%\" \
         cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"font-size:13px;border-collapse:collapse;\">",
    );
    for (ri, k) in m.rows.iter().enumerate() {
        let colour = status_colour(k.status);
        let name = i18n::kpi_name(lang, &k.kpi);
        let cid = format!("kpi-{}-{}@flywheel", mi + 1, ri + 1);
        let spark = if chart::series_stats(&k.trend).is_some() {
            attachments.push(chart::attachment(
                &k.trend,
                SPARK,
                format!("kpi-{}-{}.png", mi + 1, ri + 1),
                cid.clone(),
            ));
            format!(
                "<img src=\"cid:{}\" width=\"{w}\" alt=\"\" style=\"display:block;width:100%;max-width:{w}px;height:auto;border:0;margin-top:2px;\">",
                esc(&cid),
                w = SPARK.0,
            )
        } else {
            String::new()
        };
        let target = truncate(&field(&target_words(lang, &k.target)), SHORT);
        let mut details = Vec::new();
        if !target.is_empty() {
            details.push(tr_args(
                lang,
                "digest-target",
                &[("target", target.clone().into())],
            ));
        }
        // The note names the ASINs and SKUs off target.
        let note = k
            .note
            .as_ref()
            .map(|n| truncate(&field(&note_words(lang, n)), 160));
        if let Some(n) = &note {
            details.push(n.clone());
        }
        let change = kpi_change(lang, k);
        let _ = write!(
            html,
            "<tr style=\"border-top:1px solid {BORDER};\">\
             <td width=\"70\" valign=\"top\" style=\"padding:6px 6px 6px 0;\"><span style=\"display:inline-block;\
             padding:1px 5px;background:{colour};color:#ffffff;font-size:11px;font-weight:bold;\">{}</span></td>\
             <td valign=\"top\" style=\"padding:6px 6px 6px 0;\">{}<div style=\"font-size:11px;color:{MUTED};\">{}</div></td>\
             <td valign=\"top\" align=\"right\" style=\"padding:6px 0;white-space:nowrap;\"><b>{}</b>\
             <div style=\"font-size:11px;color:{MUTED};\">{}</div>{spark}</td></tr>",
            esc(&status_word(lang, k.status)),
            esc(&name),
            esc(&details.join(" · ")),
            esc(&kpi_value(k)),
            esc(&change),
        );
        let _ = writeln!(
            text,
            "  [{}] {name}: {}{}{}",
            status_word(lang, k.status),
            kpi_value(k),
            if change.is_empty() {
                String::new()
            } else {
                format!(" ({change})")
            },
            if details.is_empty() {
                String::new()
            } else {
                format!(" · {}", details.join(" · "))
            }
        );
    }
    html.push_str("</table></td></tr>\n");
    (html, text, attachments)
}

/// Appends a titled list to both parts: at most `max` lines, fewer when
/// the HTML budget runs out, then "and N more" with `more_hint`.
#[allow(clippy::too_many_arguments)]
fn digest_list(
    lang: Lang,
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
                "<tr><td style=\"padding:2px 14px;font-size:13px;\"><span style=\"color:{c};\">&#9632;</span> {}</td></tr>\n",
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
        let more = tr_args(
            lang,
            "digest-more",
            &[
                ("n", (lines.len() - shown).to_string().into()),
                ("hint", more_hint.into()),
            ],
        );
        html.push_str(&html_note(&more));
        let _ = writeln!(text, "  {more}");
    }
}

/// The open alerts as items of an alert email, so they group, name and
/// link the way the alert email does.
fn as_email(d: &DigestModel) -> AlertEmail {
    let items = d
        .open_alerts
        .iter()
        .filter_map(|a| {
            let mut f =
                serde_json::json!({"rule": a.rule.as_str(), "severity": a.severity.as_str()});
            for (k, v) in &a.keys {
                f[k.as_str()] = v.as_str().into();
            }
            Item::from_finding_json(&f, ItemKind::Repeat, &a.fingerprint, a.since)
        })
        .collect();
    AlertEmail {
        account: d.account.clone(),
        at: d.generated_at,
        timezone: d.timezone,
        lang: d.lang,
        items,
        open: d
            .open_alerts
            .iter()
            .map(|a| (a.rule.link(), a.severity))
            .collect(),
        names: d.names.clone(),
        marketplaces: d.marketplaces.len(),
    }
}

/// What an alert line calls its subject: the product's or campaign's
/// name, else the subject as stored.
fn alert_name(d: &DigestModel, a: &AlertLine) -> String {
    let key = |k: &str| a.keys.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let m = key("marketplace")
        .or(a.marketplace.as_deref())
        .unwrap_or("");
    let named = if key("asin").is_some() || key("sku").is_some() {
        d.names
            .product(m, key("sku"), key("asin"))
            .map(|n| super::layout::short_name(n, NAME_SHORT))
            .or_else(|| key("asin").or(key("sku")).map(str::to_string))
    } else {
        key("campaign_id").map(|c| {
            d.names
                .campaign(c)
                .map(|n| super::layout::short_name(n, NAME_SHORT))
                .unwrap_or_else(|| tr_args(d.lang, "campaign-id", &[("id", c.into())]))
        })
    };
    let mut s = named.unwrap_or_else(|| {
        crate::model::marketplace::lookup(m)
            .map(|x| i18n::marketplace_name(d.lang, x))
            .unwrap_or_else(|| truncate(&field(&a.subject), 100))
    });
    if let Some(t) = key("search_term") {
        s.push(' ');
        s.push_str(&super::layout::quoted(d.lang, &truncate(t, 40)));
    }
    truncate(&field(&s), 120)
}

/// Renders the weekly digest (DESIGN §5): summary first, then per
/// marketplace the 12-KPI checklist, open alerts, what improved,
/// unavailable data and the alive line. Every part is budgeted so the
/// HTML stays under [`HTML_MAX`](super::HTML_MAX) whatever the account
/// holds; what does not fit is counted and named.
pub fn digest(d: &DigestModel) -> Rendered {
    let lang = d.lang;
    let subject = digest_subject(d);
    let tz = d.timezone;
    let title = tr(lang, "digest-title");
    let sub = tr_args(
        lang,
        "digest-generated",
        &[
            ("account", truncate(&field(&d.account), SHORT).into()),
            ("time", when(lang, d.generated_at, tz).into()),
        ],
    );
    let (mut html, mut text) = open_parts(lang, &subject, &title, &sub);
    let mut attachments = Vec::new();

    // Summary first: the links, the KPIs off target, what to do first.
    let open: Vec<_> = d
        .open_alerts
        .iter()
        .map(|a| (a.rule.link(), a.severity))
        .collect();
    let (h, t) = strip(lang, &open);
    html.push_str(&h);
    text.push_str(&t);
    let summary = format!(
        "{} · {}",
        tr_args(
            lang,
            "digest-kpis-off",
            &[
                ("n", off_target(d).to_string().into()),
                ("count", off_target(d).into())
            ]
        ),
        tr_args(
            lang,
            "digest-open-count",
            &[
                ("n", d.open_alerts.len().to_string().into()),
                ("count", d.open_alerts.len().into())
            ]
        )
    );
    html.push_str(&html_paragraph(
        &summary,
        "font-size:13px;font-weight:bold;",
    ));
    let _ = writeln!(text, "{summary}");
    let email = as_email(d);
    let all = cards(&email);
    let first = do_first(&all, DO_FIRST_MAX);
    // A seller in several marketplaces: each step names its marketplace.
    let (h, t) = do_first_list(lang, &first, &d.names, d.marketplaces.len() > 1, |card| {
        (i18n::rule_title(lang, card.action_item().rule), None)
    });
    html.push_str(&h);
    text.push_str(&t);

    let mut skipped = Vec::new();
    for (mi, m) in d.marketplaces.iter().enumerate() {
        let (h, t, a) = checklist_section(d, m, mi);
        if !skipped.is_empty() || html.len() + h.len() > DIGEST_TABLES_BUDGET {
            skipped.push(truncate(&field(&m.country), 8));
            continue;
        }
        html.push_str(&h);
        text.push_str(&t);
        attachments.extend(a);
    }
    if !skipped.is_empty() {
        let note = tr_args(
            lang,
            "digest-more-marketplaces",
            &[
                ("n", skipped.len().to_string().into()),
                ("list", truncate(&skipped.join(", "), 200).into()),
            ],
        );
        html.push_str(&html_note(&note));
        let _ = writeln!(text, "\n{note}");
    }

    let open: Vec<(Option<&'static str>, String)> = d
        .open_alerts
        .iter()
        .map(|a| {
            let since = tr_args(
                lang,
                "digest-since",
                &[("time", when(lang, a.since, tz).into())],
            );
            (
                Some(severity_colour(a.severity)),
                format!(
                    "{} {} · {} · {} ({})",
                    i18n::severity_tag(lang, a.severity),
                    i18n::rule_title(lang, a.rule),
                    alert_name(d, a),
                    since,
                    tr_args(lang, "ack-tail", &[("id", short_id(&a.fingerprint).into())])
                        .trim_matches(['(', ')', '（', '）'])
                ),
            )
        })
        .collect();
    digest_list(
        lang,
        &mut html,
        &mut text,
        &tr_args(
            lang,
            "digest-open-alerts",
            &[("n", d.open_alerts.len().to_string().into())],
        ),
        &open,
        DIGEST_ALERTS_MAX,
        &tr(lang, "digest-no-open-alerts"),
        &tr(lang, "digest-hint-alerts"),
    );

    let mut improved: Vec<(Option<&'static str>, String)> = d
        .resolved
        .iter()
        .map(|a| {
            (
                Some(RESOLVED_COLOUR),
                tr_args(
                    lang,
                    "digest-resolved-line",
                    &[
                        ("title", i18n::rule_title(lang, a.rule).into()),
                        ("name", alert_name(d, a).into()),
                        ("time", when(lang, a.since, tz).into()),
                    ],
                ),
            )
        })
        .collect();
    improved.extend(d.improved_kpis.iter().map(|k| {
        let name = i18n::kpi_name(lang, &k.kpi);
        let market = crate::model::marketplace::lookup(&k.country)
            .map(|m| i18n::marketplace_name(lang, m))
            .unwrap_or_else(|| truncate(&field(&k.country), SHORT));
        (
            Some(RESOLVED_COLOUR),
            tr_args(
                lang,
                "digest-improved-line",
                &[
                    ("kpi", name.into()),
                    ("marketplace", market.into()),
                    ("from", status_word(lang, k.from).into()),
                    ("to", status_word(lang, k.to).into()),
                ],
            ),
        )
    }));
    digest_list(
        lang,
        &mut html,
        &mut text,
        &tr(lang, "digest-improved"),
        &improved,
        DIGEST_LIST_MAX,
        &tr(lang, "digest-nothing-improved"),
        "",
    );

    if !d.unavailable.is_empty() {
        let lines: Vec<(Option<&'static str>, String)> = d
            .unavailable
            .iter()
            .map(|u| {
                let rules: Vec<String> =
                    u.rules.iter().map(|r| i18n::rule_title(lang, *r)).collect();
                let mut line = tr_args(
                    lang,
                    "digest-unavailable-line",
                    &[
                        ("job", truncate(&field(&u.job), SHORT).into()),
                        ("since", when(lang, u.since, tz).into()),
                    ],
                );
                if let Some(e) = &u.error {
                    line.push_str(&tr(lang, "subject-colon"));
                    line.push_str(&truncate(&field(e), 160));
                }
                if !rules.is_empty() {
                    line.push_str(&tr(lang, "diag-separator"));
                    line.push_str(&tr_args(
                        lang,
                        "digest-rules-without-data",
                        &[("rules", rules.join(&tr(lang, "list-separator")).into())],
                    ));
                }
                (None, line)
            })
            .collect();
        digest_list(
            lang,
            &mut html,
            &mut text,
            &tr(lang, "digest-unavailable"),
            &lines,
            DIGEST_LIST_MAX,
            "",
            &tr(lang, "digest-hint-doctor"),
        );
        let hint = tr(lang, "digest-grant-role");
        html.push_str(&html_note(&hint));
        let _ = writeln!(text, "  {hint}");
    }

    // The daemon is alive.
    let alive = alive_line(d);
    html.push_str(&html_section("flywheel"));
    html.push_str(&html_paragraph(&alive, "font-size:13px;"));
    let _ = writeln!(text, "\n{alive}");

    let footer = vec![tr_args(
        lang,
        "digest-sent",
        &[
            ("time", when(lang, d.generated_at, tz).into()),
            ("zone", truncate(d.timezone.name(), SHORT).into()),
        ],
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
            keys: vec![("campaign_id".into(), long.clone())],
            summary: long.clone(),
            since: at(),
        };
        let row = |k: &str| KpiLine {
            kpi: k.into(),
            unit: "%",
            value: Some(12.5),
            label: Some(long.clone()),
            target: KpiTarget::NoneOff(Some(Target::Range(1.0, 1e300))),
            status: Status::Warning,
            colour: status_colour(Status::Warning),
            change: Some(-1.5),
            previous_status: Some(Status::Critical),
            note: Some(SubjectsNote {
                subjects: 9,
                with_data: 8,
                off: vec![long.clone(); 5],
                more: true,
            }),
            trend: Series {
                label: long.clone(),
                ..series(8)
            },
        };
        let d = DigestModel {
            account: long.clone(),
            lang: Lang::ZhCn,
            names: Names::default(),
            generated_at: at(),
            timezone: chrono_tz::Europe::Paris,
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
            r.text.contains("放不下：请运行 flywheel kpis。"),
            "{}",
            r.text
        );
        assert!(r.text.contains("：运行 flywheel alerts 查看。"));
        assert!(r.text.contains("flywheel 最近 7 天没有同步"));
    }

    /// One marketplace's checklist rows with typed targets and a note.
    fn checklist_rows() -> Vec<KpiLine> {
        let row = |kpi: &str, target: KpiTarget, note: Option<SubjectsNote>| KpiLine {
            kpi: kpi.into(),
            unit: "",
            value: Some(2.0),
            label: None,
            target,
            status: Status::Warning,
            colour: status_colour(Status::Warning),
            change: None,
            previous_status: None,
            note,
            trend: series(8),
        };
        vec![
            row("sessions", KpiTarget::Of(Target::FallAtMost(30.0)), None),
            row("account_health", KpiTarget::Of(Target::OdrBelow(1.0)), None),
            row("acos", KpiTarget::Of(Target::Range(18.0, 25.0)), None),
            row(
                "conversion_rate",
                KpiTarget::Of(Target::AtLeast(10.0)),
                None,
            ),
            row("feedback_sla_breaches", KpiTarget::Of(Target::Zero), None),
            row(
                "days_of_supply",
                KpiTarget::NoneOff(Some(Target::Range(14.0, 90.0))),
                Some(SubjectsNote {
                    subjects: 5,
                    with_data: 4,
                    off: vec!["SKU-A".into(), "SKU-B".into()],
                    more: false,
                }),
            ),
            row(
                "bsr",
                KpiTarget::NoneOff(Some(Target::RiseAtMost(20.0))),
                Some(SubjectsNote {
                    subjects: 0,
                    with_data: 0,
                    off: vec![],
                    more: false,
                }),
            ),
        ]
    }

    fn checklist_digest(lang: Lang) -> Rendered {
        digest(&DigestModel {
            account: "shop".into(),
            lang,
            names: Names::default(),
            generated_at: at(),
            timezone: chrono_tz::Asia::Shanghai,
            marketplaces: vec![MarketplaceKpis {
                marketplace_id: "ATVPDKIKX0DER".into(),
                country: "US".into(),
                at: at().date_naive(),
                rows: checklist_rows(),
            }],
            open_alerts: vec![],
            resolved: vec![],
            improved_kpis: vec![],
            unavailable: vec![],
            alive: Alive::default(),
        })
    }

    /// A seller in two marketplaces: each "Do first" step names its
    /// marketplace (the same SKU out of stock in both is two steps).
    #[test]
    fn do_first_names_the_marketplace_of_a_seller_in_several() {
        let line = |m: &str| AlertLine {
            fingerprint: format!("{m:0>16}"),
            rule: RuleId::StockoutRisk,
            title: "stockout risk",
            severity: Severity::Critical,
            marketplace: Some(m.into()),
            subject: "sku FW-SPATULA-01".into(),
            keys: vec![
                ("marketplace".into(), m.into()),
                ("sku".into(), "FW-SPATULA-01".into()),
            ],
            summary: "out of stock".into(),
            since: at(),
        };
        let market = |id: &str, country: &str| MarketplaceKpis {
            marketplace_id: id.into(),
            country: country.into(),
            at: at().date_naive(),
            rows: checklist_rows(),
        };
        let r = digest(&DigestModel {
            account: "eu".into(),
            lang: Lang::En,
            names: Names::default(),
            generated_at: at(),
            timezone: chrono_tz::Europe::London,
            marketplaces: vec![
                market("A1F83G8C2ARO7P", "UK"),
                market("A1PA6795UKMFR9", "DE"),
            ],
            open_alerts: vec![line("A1F83G8C2ARO7P"), line("A1PA6795UKMFR9")],
            resolved: vec![],
            improved_kpis: vec![],
            unavailable: vec![],
            alive: Alive::default(),
        });
        let first = r
            .text
            .split("\n\n")
            .find(|p| p.contains("FW-SPATULA-01"))
            .unwrap_or("");
        assert!(
            first.contains("FW-SPATULA-01 (United Kingdom)")
                && first.contains("FW-SPATULA-01 (Germany)"),
            "{}",
            r.text
        );
    }

    #[test]
    fn english_targets_and_notes_read_as_the_json_targets() {
        let r = checklist_digest(Lang::En);
        for t in [
            "change > -30%",
            "< 1 and NORMAL",
            "18-25",
            ">= 10",
            "target 0",
            "0 off (14-90)",
            "4 of 5 with data; off target: SKU-A, SKU-B",
            "0 off (change < +20%) · no subjects",
        ] {
            assert!(r.text.contains(t), "{t:?} not in\n{}", r.text);
        }
        for t in [
            Target::FallAtMost(30.0),
            Target::RiseAtMost(20.0),
            Target::OdrBelow(1.0),
            Target::Zero,
            Target::Range(18.0, 25.0),
            Target::AtLeast(10.0),
            Target::AtMost(5.5),
        ] {
            assert_eq!(t.words(Lang::En), t.text());
        }
    }

    #[test]
    fn chinese_targets_and_notes_are_chinese() {
        let r = checklist_digest(Lang::ZhCn);
        for t in [
            "目标 周环比下降不超过 30%",
            "目标 低于 1% 且账户状态正常",
            "目标 18–25 之间",
            "目标 不低于 10",
            "目标 为 0",
            "目标 全部达标（14–90 之间）",
            "5 个中 4 个有数据；未达标：SKU-A，SKU-B",
            "全部达标（周环比上升不超过 20%） · 没有对象",
        ] {
            assert!(r.text.contains(t), "{t:?} not in\n{}", r.text);
            assert!(r.html.contains(&esc(t)), "{t:?} not in the HTML");
        }
        for e in [
            "change",
            "NORMAL",
            "off target",
            "with data",
            "no subjects",
            " off ",
            ">=",
            "<=",
        ] {
            assert!(!r.text.contains(e), "{e:?} in\n{}", r.text);
            assert!(!r.html.contains(&esc(e)), "{e:?} in the HTML");
        }
    }
}
