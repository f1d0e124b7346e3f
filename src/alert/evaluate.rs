//! One evaluation round (DESIGN §5): the rules' findings become alert state
//! and grouped emails, written to SQLite in one transaction, then delivered.
//!
//! The daemon runs a round after every sync round; `flywheel evaluate` runs
//! one by hand (so flywheel also works from a systemd timer or cron). The
//! round:
//! 1. builds each marketplace's snapshot and evaluates every enabled rule;
//! 2. works out inhibitions (stale sources, out-of-stock ASINs, suppressed
//!    listings), acknowledgements and silences;
//! 3. steps every alert of the account through `state::step` and asks the
//!    policy whether to notify (first firing, repeat after the interval,
//!    resolution; quiet hours hold warnings);
//! 4. renders at most two emails per account (what fires, critical first;
//!    what resolved, threaded under the firing email) and writes them to
//!    the outbox in the same transaction as the new alert state, so a crash
//!    either loses both or keeps both: never "notified" without the email,
//!    never the email twice;
//! 5. routes the same notifications to every `[[receivers]]` entry
//!    (`route`): one message per receiver in the same transaction (a chat
//!    or webhook body, or an email to its `to`), what a batch receiver
//!    holds kept for its batch time and merged into the first message
//!    after it, and which receivers were told of each firing (a
//!    resolution goes to those);
//! 6. delivers the outbox (`sender`, `chat_sender`), which marks a row
//!    sent only once the server or platform accepted it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;

use super::inhibit;
use super::state::{self, Alert, Mute, Observation, Policy, State};
use super::{AlertEmail, Item, ItemKind};
use crate::config::{Account, Config};
use crate::rules::{self, Finding, Status};
use crate::store::{self, outbox};

/// What a round did for one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountRound {
    pub account: String,
    pub firing: usize,
    pub pending: usize,
    pub resolved_now: usize,
    pub muted: usize,
    /// (outbox id, subject, recipients, item count) of each email queued.
    pub emails: Vec<(i64, String, Vec<String>, usize)>,
    /// Notifications owed but with nobody to send to.
    pub no_recipients: usize,
    /// The content of each email queued, as the renderer was given it.
    pub queued: Vec<AlertEmail>,
    /// (outbox id, receiver, item count) of each `[[receivers]]` message
    /// queued (chat, webhook, or an email receiver of its own).
    pub messages: Vec<(i64, String, usize)>,
}

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Round {
    pub at: DateTime<Utc>,
    pub accounts: Vec<AccountRound>,
}

impl Round {
    pub fn emails(&self) -> usize {
        self.accounts.iter().map(|a| a.emails.len()).sum()
    }
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for a in &self.accounts {
            write!(
                f,
                "{}: {} firing, {} pending, {} resolved this round",
                a.account, a.firing, a.pending, a.resolved_now
            )?;
            if a.muted > 0 {
                write!(f, ", {} muted", a.muted)?;
            }
            writeln!(f)?;
            for (id, subject, to, n) in &a.emails {
                writeln!(
                    f,
                    "  queued email #{id} to {} ({n} alert{}): {subject}",
                    to.join(", "),
                    if *n == 1 { "" } else { "s" }
                )?;
            }
            if a.no_recipients > 0 {
                writeln!(
                    f,
                    "  {} notification(s) not queued: no recipients (set the account's alert_to or [email] to)",
                    a.no_recipients
                )?;
            }
            for (id, receiver, n) in &a.messages {
                writeln!(
                    f,
                    "  queued message #{id} for receiver {receiver} ({n} alert{})",
                    if *n == 1 { "" } else { "s" }
                )?;
            }
            if a.emails.is_empty() && a.messages.is_empty() && a.no_recipients == 0 {
                writeln!(f, "  nothing to send")?;
            }
        }
        Ok(())
    }
}

/// What this round says about one fingerprint.
struct Seen<'a> {
    finding: &'a Finding,
    inhibited: Option<String>,
    date: NaiveDate,
}

/// One marketplace's evaluation: its date, findings and inhibiting facts.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub date: NaiveDate,
    pub findings: Vec<Finding>,
    pub facts: inhibit::Facts,
}

/// Evaluates every configured marketplace as of today (its own day) at `now`.
pub fn evaluate_all(
    conn: &Connection,
    cfg: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Evaluated>, store::StoreError> {
    // The snapshot reads each marketplace's history by range, several
    // rules' worth: with SQLite's default 2 MiB cache most of those pages
    // are read again from the file (the demo's two weeks: a third of its
    // time in the kernel copying pages). The memory is given back after.
    let snaps = {
        let _cache = store::BulkCache::new(conn)?;
        store::snapshot::build_all(conn, cfg, None, now)?
    };
    Ok(snaps
        .iter()
        .map(|(date, snap)| {
            let findings = rules::evaluate(cfg, snap, *date);
            let facts = inhibit::facts(snap, &findings);
            Evaluated {
                date: *date,
                findings,
                facts,
            }
        })
        .collect())
}

/// Runs one evaluation round at `now` and queues its emails (delivery is
/// the sender's job).
pub fn round(conn: &mut Connection, cfg: &Config, now: DateTime<Utc>) -> anyhow::Result<Round> {
    let evaluated = evaluate_all(conn, cfg, now)?;
    apply(conn, cfg, &evaluated, now)
}

/// Steps alert state through `evaluated` and queues the emails, in one
/// transaction (the part of [`round`] after the rules).
pub fn apply(
    conn: &mut Connection,
    cfg: &Config,
    evaluated: &[Evaluated],
    now: DateTime<Utc>,
) -> anyhow::Result<Round> {
    let policy = Policy {
        repeat_interval: cfg.alerts.repeat_interval,
        send_resolved: cfg.alerts.send_resolved,
        quiet_hours: cfg.alerts.quiet_hours(),
        tz: cfg.daemon.timezone,
    };
    let silences = store::alerts::silences(conn, now)?;
    let domain = super::notify::sender_domain(&cfg.email.from);

    let tx = conn.transaction()?;
    // Each marketplace's own day, as the snapshots were built (the same
    // recording as `flywheel check`).
    crate::kpis::record_evaluated_as_of(&tx, cfg, None, now)?;
    store::jobs::record_evaluation(&tx, now)?;
    let mut out = Round {
        at: now,
        accounts: Vec::new(),
    };
    for account in &cfg.accounts {
        out.accounts.push(account_round(
            &tx, cfg, account, evaluated, &policy, &silences, domain, now,
        )?);
    }
    tx.commit()?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn account_round(
    tx: &Connection,
    cfg: &Config,
    account: &Account,
    evaluated: &[Evaluated],
    policy: &Policy<chrono_tz::Tz>,
    silences: &[store::alerts::Silence],
    domain: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<AccountRound> {
    let mut report = AccountRound {
        account: account.name.clone(),
        ..AccountRound::default()
    };
    // What the rules say, per fingerprint. Missing data (`keep`, and the
    // info finding of `no_data`) holds the alert: an alert resolves only
    // when data shows the condition cleared, never because data vanished.
    let mut seen: BTreeMap<String, Seen<'_>> = BTreeMap::new();
    // Held alerts, with what inhibits their subject this round: a held
    // conversion alert on an ASIN now out of stock stays muted too.
    let mut held: BTreeMap<String, Option<String>> = BTreeMap::new();
    for e in evaluated {
        let (date, facts) = (&e.date, &e.facts);
        for f in e
            .findings
            .iter()
            .filter(|f| f.subject.account == account.name)
        {
            let fp = state::fingerprint(f.rule, &f.subject);
            match f.status {
                Status::Firing if f.is_alert() => {
                    seen.insert(
                        fp,
                        Seen {
                            finding: f,
                            inhibited: inhibit::reason(f, facts),
                            date: *date,
                        },
                    );
                }
                Status::Keep | Status::NoData => {
                    held.insert(fp, inhibit::reason(f, facts));
                }
                Status::Firing => {}
            }
        }
    }
    let mut alerts: BTreeMap<String, Alert> = store::alerts::live(tx, &account.name, now)?
        .into_iter()
        .map(|a| (a.fingerprint.clone(), a))
        .collect();
    for fp in seen.keys() {
        if !alerts.contains_key(fp) {
            if let Some(a) = store::alerts::get(tx, fp)? {
                alerts.insert(fp.clone(), a);
            }
        }
    }
    let fingerprints: Vec<String> = alerts.keys().chain(seen.keys()).cloned().collect();
    // The `for` hold of what fires comes from the rule's settings for its
    // subject (overrides merged); an alert not seen this round keeps the
    // rule's own.
    let effective = cfg.effective_settings();
    let mut next: BTreeMap<String, Alert> = BTreeMap::new();
    let mut notices: Vec<(String, ItemKind, Option<&Seen<'_>>)> = Vec::new();
    let mut open = Vec::new();
    for fp in fingerprints {
        if next.contains_key(&fp) {
            continue;
        }
        let prev = alerts.get(&fp);
        let s = seen.get(&fp);
        let obs = match s {
            Some(s) => Observation::Firing(s.finding),
            None if held.contains_key(&fp) => Observation::Keep,
            None => Observation::Clear,
        };
        let h = match (s, prev) {
            (Some(s), _) => {
                let f = s.finding;
                effective.common(f.rule, &f.subject.as_ref()).hold
            }
            (None, Some(p)) => cfg.rules.common(p.rule).hold,
            (None, None) => continue,
        };
        let Some(a) = state::step(prev, obs, h, now) else {
            continue;
        };
        let was = prev.map(|p| p.state);
        let inhibited = match s {
            Some(s) => s.inhibited.clone(),
            None => held.get(&fp).cloned().flatten(),
        };
        let mute = if let Some(why) = inhibited {
            Some(Mute::Inhibited(why))
        } else if let Some(sil) = silences.iter().find(|x| x.matches(a.rule, &a.labels)) {
            Some(Mute::Silenced(sil.expires_at))
        } else {
            store::alerts::ack_in_force(tx, &fp, now)?.map(Mute::Acked)
        };
        match a.state {
            State::Firing => report.firing += 1,
            State::Pending => report.pending += 1,
            State::Resolved if was.is_some_and(|w| w != State::Resolved) => {
                report.resolved_now += 1
            }
            State::Resolved => {}
        }
        if mute.is_some() && a.state == State::Firing {
            report.muted += 1;
        }
        if mute.is_none() && a.state == State::Firing {
            open.push((a.rule.link(), a.severity));
        }
        if let Some(kind) = policy.notice(&a, mute.as_ref(), now) {
            notices.push((fp.clone(), kind, s));
        }
        next.insert(fp, a);
    }

    // Render and queue: what fires (new and repeats) in one email, what
    // resolved in another, threaded under the firing email.
    let recipients = cfg.recipients(account);
    // What the email calls the account's products and campaigns, and the
    // sales its money at stake is measured against: read once per round,
    // when there is something to tell.
    // (A batch receiver's message due now needs them too.)
    let batch_due = store::receivers::has_due(tx, &account.name, now)?;
    let (names, sales) = if notices.is_empty() && !batch_due {
        Default::default()
    } else {
        (
            store::names::names(tx, cfg, account)?,
            store::recent_sales::recent_sales(tx, account, now)?,
        )
    };
    let mut firing_items = Vec::new();
    let mut resolved_items = Vec::new();
    for (fp, kind, s) in &notices {
        let a = &next[fp];
        let since = match kind {
            ItemKind::Resolved => a.resolved_at.unwrap_or(now),
            _ => a.firing_since.unwrap_or(a.started_at),
        };
        // What fires now renders from this round's finding; a resolution
        // from the finding stored when it last fired (none this round).
        let item = match s {
            Some(s) => Some(Item::from_finding(s.finding, *kind, fp, since)),
            None => Item::from_finding_json(&a.last_finding, *kind, fp, since),
        };
        let Some(mut item) = item else {
            continue;
        };
        if *kind == ItemKind::Repeat {
            item.previous = a.notified;
        }
        let date = s.map_or_else(
            || now.with_timezone(&cfg.daemon.timezone).date_naive(),
            |s| s.date,
        );
        item.series = super::series::for_item(tx, cfg, &item, date, now, 60)?;
        if *kind != ItemKind::Resolved {
            item.stake = super::stake::estimate(&item, &names, &sales);
        }
        if *kind == ItemKind::Resolved {
            resolved_items.push(item);
        } else {
            firing_items.push(item);
        }
    }
    // `[[receivers]]` hear of the same items, routed (`route`): kept
    // before the email loop takes them.
    let all_items: Vec<Item> = firing_items
        .iter()
        .chain(&resolved_items)
        .cloned()
        .collect();
    // Items the implicit email receiver had no recipients for.
    let mut unaddressed: Vec<String> = Vec::new();
    for (kind, mut items) in [
        (outbox::Kind::Firing, firing_items),
        (outbox::Kind::Resolved, resolved_items),
    ] {
        if items.is_empty() {
            continue;
        }
        if recipients.is_empty() {
            unaddressed.extend(items.iter().map(|i| i.fingerprint.clone()));
            continue;
        }
        sort_items(&mut items);
        let email = AlertEmail {
            account: account.name.clone(),
            at: now,
            timezone: cfg.daemon.timezone,
            lang: cfg.language(account),
            items,
            open: open.clone(),
            names: names.clone(),
            marketplaces: account.marketplaces().len(),
        };
        let rendered = super::render::alert_email(&email);
        let fps: Vec<String> = email.items.iter().map(|i| i.fingerprint.clone()).collect();
        let in_reply_to = (kind == outbox::Kind::Resolved)
            .then(|| {
                email
                    .items
                    .iter()
                    .find_map(|i| next[&i.fingerprint].thread_message_id.clone())
            })
            .flatten();
        let (id, mid) = outbox::enqueue(
            tx,
            &outbox::NewEmail {
                account: Some(&account.name),
                kind,
                recipients: &recipients,
                rendered: &rendered,
                fingerprints: &fps,
                in_reply_to: in_reply_to.as_deref(),
                domain,
            },
            now,
        )?;
        for i in &email.items {
            if let Some(a) = next.get_mut(&i.fingerprint) {
                state::notified(a, i.kind, &mid, now);
            }
        }
        report.emails.push((
            id,
            rendered.subject.clone(),
            recipients.clone(),
            email.items.len(),
        ));
        report.queued.push(email);
    }
    let ctx = Context {
        cfg,
        account,
        open: &open,
        names: &names,
        sales: &sales,
        now,
    };
    // A new episode: what receivers were told of an earlier one is past.
    for i in all_items.iter().filter(|i| i.kind == ItemKind::Firing) {
        store::receivers::forget(tx, &i.fingerprint)?;
    }
    let mut told = std::collections::BTreeSet::new();
    for receiver in &cfg.receivers {
        told.extend(receiver_round(
            tx,
            &ctx,
            receiver,
            &all_items,
            &next,
            &mut report,
        )?);
    }
    // An episode that ended was told to the receivers it concerned (the
    // resolution is queued or held): the next episode starts afresh.
    for i in all_items.iter().filter(|i| i.kind == ItemKind::Resolved) {
        store::receivers::forget(tx, &i.fingerprint)?;
    }
    for fp in &unaddressed {
        match next.get_mut(fp) {
            Some(a) if told.contains(fp) => state::told(a, now),
            _ => report.no_recipients += 1,
        }
    }
    for a in next.values() {
        store::alerts::upsert(tx, a)?;
    }
    Ok(report)
}

/// What every receiver's message of an account's round shares.
struct Context<'a> {
    cfg: &'a Config,
    account: &'a Account,
    open: &'a [(crate::model::rule::Link, crate::model::rule::Severity)],
    names: &'a super::Names,
    sales: &'a crate::model::sales::RecentSales,
    now: DateTime<Utc>,
}

/// One `[[receivers]]` entry's part of an account's round: routes `items`
/// (`route`), holds what waits for its batch time, and queues one message
/// (one outbox row: a chat body, or an email to its `to`) with what goes
/// now and what its batch releases now. Returns the fingerprints it was
/// told of (sent or held).
fn receiver_round(
    tx: &Connection,
    ctx: &Context<'_>,
    receiver: &crate::config::Receiver,
    items: &[Item],
    next: &BTreeMap<String, Alert>,
    report: &mut AccountRound,
) -> anyhow::Result<Vec<String>> {
    use super::route::{self, Notice, When};
    let (cfg, account, now) = (ctx.cfg, &ctx.account.name, ctx.now);
    let mut told = Vec::new();
    let mut now_items: Vec<Item> = Vec::new();
    for item in items {
        let fp = &item.fingerprint;
        let was_told = match item.kind {
            ItemKind::Resolved => store::receivers::was_told(tx, fp, &receiver.name)?,
            // A new episode starts with nobody told.
            ItemKind::Firing => false,
            ItemKind::Repeat => true,
        };
        let notice = Notice {
            account,
            kind: item.kind,
            severity: item.severity,
            link: item.link,
            told: was_told,
        };
        let Some(when) = route::route(receiver, &notice, now, cfg.daemon.timezone) else {
            continue;
        };
        match when {
            When::Now => now_items.push(item.clone()),
            When::Held(due) => {
                store::receivers::hold(tx, &receiver.name, account, fp, item.kind, now, due)?
            }
        }
        if item.kind != ItemKind::Resolved {
            store::receivers::told(tx, fp, &receiver.name, now)?;
        }
        told.push(fp.clone());
    }
    // What the batch held until now joins this round's message.
    for held in store::receivers::take_due(tx, &receiver.name, account, now)? {
        if now_items
            .iter()
            .any(|i| i.fingerprint == held.fingerprint && i.kind == held.kind)
        {
            continue;
        }
        let alert = match next.get(&held.fingerprint) {
            Some(a) => Some(a.clone()),
            None => store::alerts::get(tx, &held.fingerprint)?,
        };
        let Some(a) = alert else {
            continue;
        };
        let since = match held.kind {
            ItemKind::Resolved => a.resolved_at.unwrap_or(now),
            _ => a.firing_since.unwrap_or(a.started_at),
        };
        if let Some(mut item) =
            Item::from_finding_json(&a.last_finding, held.kind, &held.fingerprint, since)
        {
            if held.kind != ItemKind::Resolved {
                item.stake = super::stake::estimate(&item, ctx.names, ctx.sales);
            }
            now_items.push(item);
        }
    }
    if now_items.is_empty() {
        return Ok(told);
    }
    sort_items(&mut now_items);
    let email = AlertEmail {
        account: account.clone(),
        at: now,
        timezone: cfg.daemon.timezone,
        lang: cfg.language(ctx.account),
        items: now_items,
        open: ctx.open.to_vec(),
        names: ctx.names.clone(),
        marketplaces: ctx.account.marketplaces().len(),
    };
    let fps: Vec<String> = email.items.iter().map(|i| i.fingerprint.clone()).collect();
    let kind = if email.items.iter().all(|i| i.kind == ItemKind::Resolved) {
        outbox::Kind::Resolved
    } else {
        outbox::Kind::Firing
    };
    let id = match crate::chat::Platform::of(receiver.kind()) {
        Some(platform) => {
            let bodies = crate::chat::alert_message(receiver, &cfg.owners, &email);
            let title = super::render::summary(&email).title;
            outbox::enqueue_chat(
                tx,
                &outbox::NewChat {
                    receiver: &receiver.name,
                    platform: platform.as_str(),
                    account: Some(account),
                    kind,
                    title: &title,
                    bodies: &bodies,
                    fingerprints: &fps,
                },
                now,
            )?
        }
        None => {
            // An email receiver of its own: its `to`, no thread (the
            // implicit receiver's emails thread; these stand alone).
            let to = cfg.email_to(receiver, ctx.account);
            let rendered = super::render::alert_email(&email);
            let (id, _) = outbox::enqueue(
                tx,
                &outbox::NewEmail {
                    account: Some(account),
                    kind,
                    recipients: &to,
                    rendered: &rendered,
                    fingerprints: &fps,
                    in_reply_to: None,
                    domain: super::notify::sender_domain(&cfg.email.from),
                },
                now,
            )?;
            outbox::set_receiver(tx, id, &receiver.name)?;
            id
        }
    };
    report
        .messages
        .push((id, receiver.name.clone(), email.items.len()));
    Ok(told)
}

/// Critical first, then by flywheel link, rule and subject; resolutions
/// after what fires.
pub fn sort_items(items: &mut [Item]) {
    use crate::model::rule::link_rank;
    items.sort_by(|a, b| {
        (a.kind == ItemKind::Resolved)
            .cmp(&(b.kind == ItemKind::Resolved))
            .then(b.severity.cmp(&a.severity))
            .then(link_rank(a.link).cmp(&link_rank(b.link)))
            .then(a.rule.cmp(&b.rule))
            .then(a.subject.cmp(&b.subject))
    });
}
