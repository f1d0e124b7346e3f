//! The daemon's schedule (pure given the config and times): when each
//! (account, job) runs next, from its cron in `[daemon] timezone` plus the
//! account's fixed jitter; missed ticks skipped, failures backed off.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use crate::config::Config;
use crate::sync::JobName;

/// First backoff after a failure, and the cap.
const BACKOFF_FIRST: Duration = Duration::minutes(5);
const BACKOFF_CAP: Duration = Duration::hours(6);

/// A fixed offset in `[0, jitter)` per account, so the same account always
/// runs at the same second and different accounts spread out.
pub fn jitter(account: &str, jitter: StdDuration) -> Duration {
    let ms = jitter.as_millis() as u64;
    if ms == 0 {
        return Duration::zero();
    }
    let h = account.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    Duration::milliseconds((h % ms) as i64)
}

/// The backoff after `failures` consecutive failures (1 = the first).
pub fn backoff(failures: u32) -> Duration {
    let n = failures.saturating_sub(1).min(16);
    (BACKOFF_FIRST * 2i32.pow(n)).min(BACKOFF_CAP)
}

/// One (account, job)'s place in the schedule.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) next: DateTime<Utc>,
    pub(super) failures: u32,
}

/// The schedule of every (account, job): pure given the config and times.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    slots: HashMap<(String, JobName), Slot>,
    pub(super) digest_next: Option<DateTime<Utc>>,
}

/// The first tick of `job` strictly after `after`, with the account's jitter.
fn next_tick(
    cfg: &Config,
    account: &str,
    job: &str,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (_, sched) = cfg.schedule.jobs().into_iter().find(|(n, _)| *n == job)?;
    let cron = sched.as_cron()?;
    let j = jitter(account, cfg.daemon.schedule_jitter);
    // The tick at or before `after - jitter` has passed; find the next.
    let local = (after - j).with_timezone(&cfg.daemon.timezone);
    cron.next_after(&local).map(|t| t.with_timezone(&Utc) + j)
}

impl Schedule {
    /// Builds the schedule at start (or after a reload): jobs whose newest
    /// run did not settle (never ran, failed, interrupted) are due now, and
    /// so are jobs whose tick passed since their newest run started (the
    /// daemon was down then, or was killed after the tick but before the
    /// job began); the others at their next tick. `settled` gives the
    /// start of the newest run when it settled, `None` otherwise.
    pub(super) fn build(
        cfg: &Config,
        settled: &dyn Fn(&str, JobName) -> Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        old: Option<&Schedule>,
    ) -> Schedule {
        let mut s = Schedule::default();
        for account in &cfg.accounts {
            for job in JobName::ALL {
                let Some(tick) = next_tick(cfg, &account.name, job.as_str(), now) else {
                    continue;
                };
                let key = (account.name.clone(), *job);
                let failures = old
                    .and_then(|o| o.slots.get(&key))
                    .map(|s| s.failures)
                    .unwrap_or(0);
                let next = match old.and_then(|o| o.slots.get(&key)) {
                    // A reload keeps a pending backoff, and takes the new tick otherwise.
                    Some(prev) if failures > 0 => prev.next.max(tick),
                    Some(_) => tick,
                    // One run now for a tick missed while the daemon was
                    // not running (not one per missed tick), as after a
                    // long sleep: a crash at the start of a daily round
                    // must not leave the day unsynced.
                    None => match settled(&account.name, *job) {
                        None => now,
                        Some(started)
                            if next_tick(cfg, &account.name, job.as_str(), started)
                                .is_some_and(|t| t <= now) =>
                        {
                            now
                        }
                        Some(_) => tick,
                    },
                };
                s.slots.insert(key, Slot { next, failures });
            }
        }
        s.digest_next = Self::next_digest(cfg, now);
        s
    }

    /// The weekly digest's next tick after `now` (`None`: switched off).
    pub(super) fn next_digest(cfg: &Config, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        cfg.schedule
            .digest
            .as_cron()
            .and_then(|c| c.next_after(&now.with_timezone(&cfg.daemon.timezone)))
            .map(|t| t.with_timezone(&Utc))
    }

    /// Due (account → jobs) at `now`.
    pub(super) fn due(
        &self,
        now: DateTime<Utc>,
    ) -> std::collections::BTreeMap<String, Vec<JobName>> {
        let mut out: std::collections::BTreeMap<String, Vec<JobName>> = Default::default();
        for ((account, job), slot) in &self.slots {
            if slot.next <= now {
                out.entry(account.clone()).or_default().push(*job);
            }
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }

    /// Records a run's outcome: the next tick after now, or a backoff.
    pub(super) fn done(
        &mut self,
        cfg: &Config,
        account: &str,
        job: JobName,
        ok: bool,
        now: DateTime<Utc>,
    ) {
        let Some(slot) = self.slots.get_mut(&(account.to_string(), job)) else {
            return;
        };
        let tick = next_tick(cfg, account, job.as_str(), now).unwrap_or(now + Duration::days(1));
        if ok {
            slot.failures = 0;
            slot.next = tick;
        } else {
            slot.failures += 1;
            // The first tick at or after the backoff: never sooner, and
            // still on the schedule's grid.
            let earliest = now + backoff(slot.failures) - Duration::seconds(1);
            slot.next = next_tick(cfg, account, job.as_str(), earliest)
                .unwrap_or(tick)
                .max(tick);
        }
    }

    /// A run the account's report budget deferred: the job runs again once
    /// the budget has room ([`BUDGET_RETRY`] later), not a day later at its
    /// next daily tick; a sooner tick stays.
    pub(super) fn budget_deferred(&mut self, account: &str, job: JobName, now: DateTime<Utc>) {
        if let Some(slot) = self.slots.get_mut(&(account.to_string(), job)) {
            slot.next = slot.next.min(now + BUDGET_RETRY);
        }
    }

    pub(super) fn earliest(&self) -> Option<DateTime<Utc>> {
        self.slots
            .values()
            .map(|s| s.next)
            .chain(self.digest_next)
            .min()
    }
}

/// How long a job the report budget deferred waits before it tries again:
/// the budget is per hour, and creations age out of it one by one.
pub const BUDGET_RETRY: Duration = Duration::minutes(30);

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::Env;

    pub(crate) fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn backoff_doubles_and_caps() {
        // (failures, expected)
        for (n, want) in [
            (1, Duration::minutes(5)),
            (2, Duration::minutes(10)),
            (3, Duration::minutes(20)),
            (7, Duration::minutes(320)),
            (8, Duration::hours(6)),
            (40, Duration::hours(6)),
        ] {
            assert_eq!(backoff(n), want, "{n}");
        }
    }

    #[test]
    fn a_job_the_report_budget_deferred_runs_again_within_the_hour() {
        let daemon = "database = \"/tmp/x.db\"\nschedule_jitter = \"0s\"";
        let toml = crate::config::test_toml(daemon, "shop")
            + "[email]\nto = [\"seller@example.com\"]\n[schedule]\nreturns = \"0 2 * * *\"\norders = \"*/15 * * * *\"\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.toml");
        std::fs::write(&p, toml).unwrap();
        let cfg = Config::load(&p, &Env::default()).unwrap();
        let now = t("2026-03-02T02:10:00Z");
        let mut s = Schedule::build(&cfg, &|_, _| Some(t("2026-03-02T02:00:00Z")), now, None);
        let next = |s: &Schedule, j| s.slots[&("shop".to_string(), j)].next;
        // A daily job: tomorrow's tick, unless the budget deferred it.
        s.done(&cfg, "shop", JobName::Returns, true, now);
        assert_eq!(next(&s, JobName::Returns), t("2026-03-03T02:00:00Z"));
        s.budget_deferred("shop", JobName::Returns, now);
        assert_eq!(next(&s, JobName::Returns), now + BUDGET_RETRY);
        // A job whose next tick comes sooner keeps it.
        s.done(&cfg, "shop", JobName::Orders, true, now);
        s.budget_deferred("shop", JobName::Orders, now);
        assert_eq!(next(&s, JobName::Orders), t("2026-03-02T02:15:00Z"));
    }

    #[test]
    fn jitter_is_stable_and_bounded() {
        let j = StdDuration::from_secs(30);
        assert_eq!(jitter("acme", j), jitter("acme", j));
        assert!(jitter("acme", j) < Duration::seconds(30));
        assert!(jitter("acme", j) >= Duration::zero());
        assert_ne!(jitter("acme", j), jitter("globex", j));
        assert_eq!(jitter("acme", StdDuration::ZERO), Duration::zero());
    }

    #[test]
    fn missed_ticks_are_skipped_and_failures_back_off() {
        let daemon = "database = \"/tmp/x.db\"\nschedule_jitter = \"0s\"";
        let toml = crate::config::test_toml(daemon, "shop")
            + "[email]\nto = [\"seller@example.com\"]\n[schedule]\norders = \"0 * * * *\"\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.toml");
        std::fs::write(&p, toml).unwrap();
        let cfg = Config::load(&p, &Env::default()).unwrap();
        let now = t("2026-03-02T10:20:00Z");
        // Never ran (or its newest run did not settle): due now. Ran since
        // the last tick: the next tick.
        let s = Schedule::build(&cfg, &|_, _| None, now, None);
        assert!(s.due(now)["shop"].contains(&JobName::Orders));
        let ran = t("2026-03-02T10:00:04Z");
        let mut s = Schedule::build(&cfg, &|_, _| Some(ran), now, None);
        let slot = &s.slots[&("shop".to_string(), JobName::Orders)];
        assert_eq!(slot.next, t("2026-03-02T11:00:00Z"));
        // Its newest run started before the 10:00 tick, which passed while
        // the daemon was down (or was killed before the job began): one
        // run now, not one per missed tick.
        let before = t("2026-03-02T07:00:03Z");
        let down = Schedule::build(&cfg, &|_, _| Some(before), now, None);
        assert_eq!(down.slots[&("shop".to_string(), JobName::Orders)].next, now);
        // The daemon was asleep for 5 hours: one run now, then the next
        // tick after now (not the 5 missed ones).
        let late = t("2026-03-02T16:07:00Z");
        assert!(s.due(late)["shop"].contains(&JobName::Orders));
        s.done(&cfg, "shop", JobName::Orders, true, late);
        assert_eq!(
            s.slots[&("shop".to_string(), JobName::Orders)].next,
            t("2026-03-02T17:00:00Z")
        );
        // Failures: the next tick, but never sooner than the backoff.
        let mut at = t("2026-03-02T17:00:00Z");
        let mut nexts = Vec::new();
        for _ in 0..5 {
            s.done(&cfg, "shop", JobName::Orders, false, at);
            at = s.slots[&("shop".to_string(), JobName::Orders)].next;
            nexts.push(at);
        }
        assert_eq!(
            nexts,
            [
                t("2026-03-02T18:00:00Z"), // 5 min backoff < next tick
                t("2026-03-02T19:00:00Z"),
                t("2026-03-02T20:00:00Z"),
                t("2026-03-02T21:00:00Z"),
                t("2026-03-02T23:00:00Z"), // 80 min backoff skips the 22:00 tick
            ]
        );
        // Success resets.
        s.done(&cfg, "shop", JobName::Orders, true, at);
        assert_eq!(s.slots[&("shop".to_string(), JobName::Orders)].failures, 0);
    }
}
