//! The alert state machine (DESIGN §5), pure: no clock, no SQL.
//!
//! Semantics follow Prometheus Alertmanager, with the state kept in SQLite
//! (`store::alerts`) instead of memory so a restart neither repeats nor
//! loses a notification:
//!
//! - An alert is identified by its [`fingerprint`]: the rule id plus the
//!   subject labels of the finding.
//! - pending → firing → resolved. A finding whose rule has a `for` hold
//!   starts *pending* and fires once the condition has held that long (daily
//!   data flaps; the hold damps it). A pending alert whose condition clears
//!   never fired and resolves silently.
//! - A finding with status `keep` (the rule's data is missing and its
//!   `no_data = "keep"`) holds the alert's last state instead of resolving it.
//! - Notify once when an episode starts firing, again after
//!   `repeat_interval` while it keeps firing, and once when it resolves
//!   (`send_resolved`). Whether a resolution is still owed is derived from the
//!   stored times (`resolved_at > last_notified_at`), so it survives a crash.
//! - Muted alerts (inhibited, acknowledged, silenced) keep their state but
//!   are not notified; an acknowledgement mutes firing and repeats, not the
//!   resolution (the seller wants to hear it is fixed); a silence mutes all.
//! - Quiet hours hold warning and info notifications (resolutions included)
//!   until they end; critical ones go out at once.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde_json::Value;

use super::ItemKind;
use crate::config::{RuleId, Severity};
use crate::model::alert::Notified;
use crate::rules::{Finding, Subject};

pub use crate::model::alert::{short_id, Alert, State, RESOLUTION_GRACE};

/// The subject labels of a finding, canonical (keys in a fixed order,
/// absent keys omitted), as a JSON object.
pub fn labels(subject: &Subject) -> Value {
    Value::Object(
        subject
            .keys()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect(),
    )
}

/// The identity of an alert: a 128-bit hash (hex) of the rule id and the
/// subject labels. Stable across versions and platforms (FNV-1a, written
/// out here so no dependency can change it).
pub fn fingerprint(rule: RuleId, subject: &Subject) -> String {
    // Each present label as `key=<byte length>:value` in a fixed key order:
    // injective whatever the values contain.
    let mut text = String::from(rule.as_str());
    for (k, v) in subject.keys() {
        text.push_str(&format!(";{k}={}:{v}", v.len()));
    }
    let fnv = |seed: u64| {
        text.bytes().fold(seed, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

/// What this round's evaluation says about one fingerprint.
#[derive(Debug, Clone, Copy)]
pub enum Observation<'a> {
    /// The rule fires (warning or critical) for the subject.
    Firing(&'a Finding),
    /// The rule's data is missing and it says `keep`: hold the last state.
    Keep,
    /// The condition does not hold (or the rule is now disabled).
    Clear,
}

/// The next state of one alert after one evaluation at `now`; `None` when
/// there is nothing to store (no alert and nothing firing). `hold` is the
/// rule's `for`.
pub fn step(
    prev: Option<&Alert>,
    obs: Observation<'_>,
    hold: std::time::Duration,
    now: DateTime<Utc>,
) -> Option<Alert> {
    let hold = Duration::from_std(hold).unwrap_or(Duration::zero());
    match (prev, obs) {
        (None, Observation::Keep | Observation::Clear) => None,
        (Some(p), Observation::Keep) => Some(Alert {
            last_evaluated_at: now,
            ..p.clone()
        }),
        (Some(p), Observation::Clear) => {
            let mut a = p.clone();
            a.last_evaluated_at = now;
            if a.state != State::Resolved {
                a.state = State::Resolved;
                a.resolved_at = Some(now);
            }
            Some(a)
        }
        (prev, Observation::Firing(f)) => {
            let new_episode = prev.is_none_or(|p| p.state == State::Resolved);
            let mut a = match prev {
                Some(p) if !new_episode => p.clone(),
                _ => Alert {
                    fingerprint: fingerprint(f.rule, &f.subject),
                    rule: f.rule,
                    account: f.subject.account.clone(),
                    marketplace: Some(f.subject.marketplace.clone()),
                    labels: labels(&f.subject),
                    state: State::Pending,
                    severity: f.severity,
                    value: None,
                    threshold: None,
                    started_at: now,
                    firing_since: None,
                    resolved_at: None,
                    last_evaluated_at: now,
                    last_notified_at: prev.and_then(|p| p.last_notified_at),
                    notify_count: 0,
                    last_finding: Value::Null,
                    thread_message_id: None,
                    notified: None,
                },
            };
            a.severity = f.severity;
            a.value = f.value;
            a.threshold = f.threshold;
            a.last_finding = f.to_json();
            a.last_evaluated_at = now;
            if a.state == State::Pending && now - a.started_at >= hold {
                a.state = State::Firing;
                a.firing_since = Some(now);
            }
            Some(a)
        }
    }
}

/// Why an alert is not notified now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mute {
    /// Inhibited by another condition (stale source, out of stock, suppressed listing).
    Inhibited(String),
    /// `flywheel ack` until the given time: mutes firing and repeats.
    Acked(DateTime<Utc>),
    /// `flywheel silence` until the given time: mutes everything.
    Silenced(DateTime<Utc>),
}

impl std::fmt::Display for Mute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mute::Inhibited(why) => write!(f, "inhibited: {why}"),
            Mute::Acked(t) => write!(f, "acknowledged until {}", t.format("%Y-%m-%d %H:%M UTC")),
            Mute::Silenced(t) => write!(f, "silenced until {}", t.format("%Y-%m-%d %H:%M UTC")),
        }
    }
}

/// The notification policy of `[alerts]`.
#[derive(Debug, Clone, Copy)]
pub struct Policy<Tz: TimeZone> {
    pub repeat_interval: std::time::Duration,
    pub send_resolved: bool,
    /// Start and end in `tz` (the end may be on the next day).
    pub quiet_hours: Option<(NaiveTime, NaiveTime)>,
    pub tz: Tz,
}

impl<Tz: TimeZone> Policy<Tz> {
    /// Whether `now` falls in the quiet hours.
    pub fn is_quiet(&self, now: DateTime<Utc>) -> bool {
        let Some((start, end)) = self.quiet_hours else {
            return false;
        };
        let t = now.with_timezone(&self.tz).time();
        if start < end {
            t >= start && t < end
        } else {
            t >= start || t < end
        }
    }

    /// Whether (and how) to notify `alert`, after [`step`], at `now`.
    pub fn notice(
        &self,
        alert: &Alert,
        mute: Option<&Mute>,
        now: DateTime<Utc>,
    ) -> Option<ItemKind> {
        let held = alert.severity < Severity::Critical && self.is_quiet(now);
        match alert.state {
            State::Pending => None,
            State::Firing => {
                if mute.is_some() || held {
                    return None;
                }
                match alert.last_notified_at {
                    _ if alert.notify_count == 0 => Some(ItemKind::Firing),
                    // A warning turned critical (a SKU ran out) is told
                    // now, not at the next repeat.
                    _ if alert.notified.is_some_and(|n| alert.severity > n.severity) => {
                        Some(ItemKind::Repeat)
                    }
                    Some(last)
                        if now - last
                            >= Duration::from_std(self.repeat_interval)
                                .unwrap_or(Duration::MAX) =>
                    {
                        Some(ItemKind::Repeat)
                    }
                    _ => None,
                }
            }
            State::Resolved => {
                let resolved = alert.resolved_at?;
                let owed = self.send_resolved
                    && alert.notify_count > 0
                    && alert.last_notified_at.is_none_or(|n| n < resolved)
                    && now - resolved <= RESOLUTION_GRACE;
                let silenced = matches!(mute, Some(Mute::Silenced(_)));
                (owed && !silenced && !held).then_some(ItemKind::Resolved)
            }
        }
    }
}

/// Records a notification of `alert` that went to `[[receivers]]` only
/// (chat, webhooks, a batch receiver holding it), in no email of the
/// implicit receiver: the repeat interval counts from now, and no email
/// thread starts.
pub fn told(alert: &mut Alert, now: DateTime<Utc>) {
    alert.last_notified_at = Some(now);
    alert.notify_count += 1;
    alert.notified = Some(Notified {
        severity: alert.severity,
        value: alert.value,
    });
}

/// Records a notification sent for `alert` in an email with `message_id`.
pub fn notified(alert: &mut Alert, kind: ItemKind, message_id: &str, now: DateTime<Utc>) {
    told(alert, now);
    // Resolutions thread under the episode's first firing email (a repeat
    // starts the thread when the first email predates this version).
    match kind {
        ItemKind::Firing => alert.thread_message_id = Some(message_id.to_string()),
        ItemKind::Repeat if alert.thread_message_id.is_none() => {
            alert.thread_message_id = Some(message_id.to_string())
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Status;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn finding(severity: Severity) -> Finding {
        Finding {
            rule: RuleId::StockoutRisk,
            severity,
            status: Status::Firing,
            subject: Subject {
                account: "acme".into(),
                marketplace: "ATVPDKIKX0DER".into(),
                ..Subject::default()
            }
            .sku("SKU-1"),
            value: Some(5.0),
            threshold: Some(14.0),
            window: None,
            evidence: vec![],
            summary: "5 days of cover".into(),
            check_first: "inbound shipments".into(),
            diagnosis: None,
        }
    }

    fn policy() -> Policy<chrono_tz::Tz> {
        Policy {
            repeat_interval: std::time::Duration::from_secs(24 * 3600),
            send_resolved: true,
            quiet_hours: None,
            tz: chrono_tz::UTC,
        }
    }

    const H0: std::time::Duration = std::time::Duration::ZERO;

    #[test]
    fn fingerprint_is_stable_and_depends_on_rule_and_subject() {
        let f = finding(Severity::Warning);
        let a = fingerprint(f.rule, &f.subject);
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint(f.rule, &f.subject.clone()));
        assert_ne!(a, fingerprint(RuleId::ReturnRate, &f.subject));
        assert_ne!(a, fingerprint(f.rule, &f.subject.clone().sku("SKU-2")));
        // A value that contains a separator-like string cannot collide with
        // two labels.
        let s1 = Subject::default().asin("A").sku("B");
        let s2 = Subject::default().asin("A\u{1f}sku=B");
        assert_ne!(fingerprint(f.rule, &s1), fingerprint(f.rule, &s2));
        // Pinned: alerts stored by earlier versions keep their identity.
        let s = Subject {
            account: "shop".into(),
            marketplace: "ATVPDKIKX0DER".into(),
            ..Subject::default()
        };
        assert_eq!(
            fingerprint(RuleId::ConversionRate, &s.asin("B0X").sku("S-1")),
            "886102115895e1441aa27ebb1833b3c3"
        );
    }

    #[test]
    fn lifecycle_without_hold() {
        let f = finding(Severity::Warning);
        let p = policy();
        let now = t("2026-03-01T08:00:00Z");
        let a = step(None, Observation::Firing(&f), H0, now).unwrap();
        assert_eq!(a.state, State::Firing);
        assert_eq!(p.notice(&a, None, now), Some(ItemKind::Firing));
        let mut a = a;
        notified(&mut a, ItemKind::Firing, "<m1@x>", now);
        // Same data an hour later: nothing.
        let later = now + Duration::hours(1);
        let a = step(Some(&a), Observation::Firing(&f), H0, later).unwrap();
        assert_eq!(p.notice(&a, None, later), None);
        // Just before the repeat interval: nothing; at it: a repeat.
        let almost = now + Duration::hours(24) - Duration::seconds(1);
        assert_eq!(p.notice(&a, None, almost), None);
        let day = now + Duration::hours(24);
        let mut a = step(Some(&a), Observation::Firing(&f), H0, day).unwrap();
        assert_eq!(p.notice(&a, None, day), Some(ItemKind::Repeat));
        notified(&mut a, ItemKind::Repeat, "<m2@x>", day);
        assert_eq!(a.thread_message_id.as_deref(), Some("<m1@x>"));
        // Clears: resolved, one resolution notice, then quiet.
        let fix = day + Duration::hours(3);
        let mut a = step(Some(&a), Observation::Clear, H0, fix).unwrap();
        assert_eq!(a.state, State::Resolved);
        assert_eq!(p.notice(&a, None, fix), Some(ItemKind::Resolved));
        notified(&mut a, ItemKind::Resolved, "<m3@x>", fix);
        assert_eq!(p.notice(&a, None, fix + Duration::hours(1)), None);
        // Fires again: a new episode, notified as new.
        let again = fix + Duration::days(2);
        let a = step(Some(&a), Observation::Firing(&f), H0, again).unwrap();
        assert_eq!((a.state, a.notify_count), (State::Firing, 0));
        assert_eq!(a.started_at, again);
        assert_eq!(a.thread_message_id, None);
        assert_eq!(p.notice(&a, None, again), Some(ItemKind::Firing));
    }

    #[test]
    fn a_warning_turned_critical_is_told_at_once_and_once() {
        let p = policy();
        let now = t("2026-03-01T08:00:00Z");
        let (w, c) = (finding(Severity::Warning), finding(Severity::Critical));
        let mut a = step(None, Observation::Firing(&w), H0, now).unwrap();
        notified(&mut a, ItemKind::Firing, "<m1@x>", now);
        assert_eq!(
            a.notified,
            Some(Notified {
                severity: Severity::Warning,
                value: Some(5.0)
            })
        );
        // An hour later the SKU is out: critical, told now as a repeat
        // (the episode goes on), before the repeat interval.
        let later = now + Duration::hours(1);
        let mut a = step(Some(&a), Observation::Firing(&c), H0, later).unwrap();
        assert!(a.is_worse());
        assert_eq!(p.notice(&a, None, later), Some(ItemKind::Repeat));
        // Acknowledged, an escalation waits like any repeat.
        let ack = Mute::Acked(later + Duration::days(1));
        assert_eq!(p.notice(&a, Some(&ack), later), None);
        notified(&mut a, ItemKind::Repeat, "<m2@x>", later);
        assert!(!a.is_worse());
        // Flapping back to warning and to critical again tells nothing
        // until the repeat interval.
        let l2 = later + Duration::hours(1);
        let a = step(Some(&a), Observation::Firing(&w), H0, l2).unwrap();
        assert_eq!(p.notice(&a, None, l2), None);
        let l3 = l2 + Duration::hours(1);
        let a = step(Some(&a), Observation::Firing(&c), H0, l3).unwrap();
        assert!(!a.is_worse());
        assert_eq!(p.notice(&a, None, l3), None);
    }

    #[test]
    fn a_hold_delays_firing_and_a_flap_inside_it_stays_silent() {
        let f = finding(Severity::Warning);
        let p = policy();
        let hold = std::time::Duration::from_secs(2 * 86400);
        let d0 = t("2026-03-01T08:00:00Z");
        let a = step(None, Observation::Firing(&f), hold, d0).unwrap();
        assert_eq!(a.state, State::Pending);
        assert_eq!(p.notice(&a, None, d0), None);
        let d1 = d0 + Duration::days(1);
        let a1 = step(Some(&a), Observation::Firing(&f), hold, d1).unwrap();
        assert_eq!(a1.state, State::Pending);
        // Exactly at the hold: fires.
        let d2 = d0 + Duration::days(2);
        let a2 = step(Some(&a1), Observation::Firing(&f), hold, d2).unwrap();
        assert_eq!(a2.state, State::Firing);
        assert_eq!(p.notice(&a2, None, d2), Some(ItemKind::Firing));
        // A pending alert that clears resolves with nothing owed.
        let c = step(Some(&a1), Observation::Clear, hold, d2).unwrap();
        assert_eq!(c.state, State::Resolved);
        assert_eq!(p.notice(&c, None, d2), None);
    }

    #[test]
    fn keep_holds_the_last_state() {
        let f = finding(Severity::Warning);
        let now = t("2026-03-01T08:00:00Z");
        let a = step(None, Observation::Firing(&f), H0, now).unwrap();
        let k = step(Some(&a), Observation::Keep, H0, now + Duration::days(1)).unwrap();
        assert_eq!(k.state, State::Firing);
        assert_eq!(k.last_evaluated_at, now + Duration::days(1));
        assert!(step(None, Observation::Keep, H0, now).is_none());
        assert!(step(None, Observation::Clear, H0, now).is_none());
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn mutes_and_quiet_hours() {
        let now = t("2026-03-01T23:30:00Z");
        let quiet = Policy {
            quiet_hours: Some((
                NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
            )),
            ..policy()
        };
        let fired = |sev| step(None, Observation::Firing(&finding(sev)), H0, now).unwrap();
        let (w, c) = (fired(Severity::Warning), fired(Severity::Critical));
        // (case, alert, mute, policy, at, expected)
        let until = now + Duration::days(1);
        let plain = policy();
        let cases: Vec<(
            &str,
            &Alert,
            Option<Mute>,
            &Policy<_>,
            DateTime<Utc>,
            Option<ItemKind>,
        )> = vec![
            (
                "warning in quiet hours is held",
                &w,
                None,
                &quiet,
                now,
                None,
            ),
            (
                "critical in quiet hours goes out",
                &c,
                None,
                &quiet,
                now,
                Some(ItemKind::Firing),
            ),
            (
                "quiet hours end at 07:00",
                &w,
                None,
                &quiet,
                t("2026-03-02T07:00:00Z"),
                Some(ItemKind::Firing),
            ),
            (
                "06:59 is still quiet",
                &w,
                None,
                &quiet,
                t("2026-03-02T06:59:00Z"),
                None,
            ),
            ("acked", &c, Some(Mute::Acked(until)), &plain, now, None),
            (
                "silenced",
                &c,
                Some(Mute::Silenced(until)),
                &plain,
                now,
                None,
            ),
            (
                "inhibited",
                &c,
                Some(Mute::Inhibited("stale".into())),
                &plain,
                now,
                None,
            ),
        ];
        for (case, a, mute, p, at, want) in cases {
            assert_eq!(p.notice(a, mute.as_ref(), at), want, "{case}");
        }
        // Resolutions: an ack does not mute them, a silence does, and
        // send_resolved = false never sends them.
        let mut r = c.clone();
        notified(&mut r, ItemKind::Firing, "<m@x>", now);
        let r = step(Some(&r), Observation::Clear, H0, now + Duration::hours(1)).unwrap();
        let at = now + Duration::hours(1);
        let p = policy();
        assert_eq!(
            p.notice(&r, Some(&Mute::Acked(until)), at),
            Some(ItemKind::Resolved)
        );
        assert_eq!(p.notice(&r, Some(&Mute::Silenced(until)), at), None);
        let off = Policy {
            send_resolved: false,
            ..policy()
        };
        assert_eq!(off.notice(&r, None, at), None);
        // Past the grace period a held resolution is dropped.
        assert_eq!(
            p.notice(&r, None, at + RESOLUTION_GRACE + Duration::seconds(1)),
            None
        );
    }
}
