//! The meta link: is flywheel itself still seeing the data? Stale sync jobs
//! (one `data_freshness` finding per marketplace instead of a storm of
//! per-rule no-data noise) and refused or expiring credentials.

use chrono::Duration;

use super::{ev, n, Eval};
use crate::config::rules::{Credentials, DataFreshness};
use crate::config::Severity;

/// The longest gap between consecutive firings of `cron` in the week after
/// `from` (a schedule's worst-case interval).
fn interval(
    cron: &crate::config::CronExpr,
    from: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let mut t = cron.next_after(&from)?;
    let end = from + Duration::days(8);
    let mut worst = Duration::zero();
    for _ in 0..2000 {
        let next = cron.next_after(&t)?;
        worst = worst.max(next - t);
        t = next;
        if t > end {
            break;
        }
    }
    (worst > Duration::zero()).then_some(worst)
}

/// A job has not succeeded for longer than its allowed staleness.
pub(crate) fn data_freshness(e: &mut Eval) {
    let (rule, base) = e.rule::<DataFreshness>();
    let Some((subject, s)) = e.market_settings(rule, base) else {
        return;
    };
    let now = e.snap.as_of;
    let min = Duration::from_std(s.min_staleness).unwrap_or(Duration::hours(2));
    let mut stale = Vec::new();
    for job in &e.snap.jobs {
        let Some((_, sched)) = e
            .cfg
            .schedule
            .jobs()
            .into_iter()
            .find(|(n, _)| *n == job.job)
        else {
            continue;
        };
        let Some(cron) = sched.as_cron() else {
            continue;
        };
        if job.last_status.as_deref() == Some("unavailable") {
            continue; // a missing role: `doctor` and the digest say so, not an alert per run
        }
        let Some(since) = job.last_ok.or(job.first_attempt) else {
            continue;
        };
        let allowed = interval(cron, now - Duration::days(7))
            .map(|i| i * s.max_missed_runs as i32)
            .unwrap_or(min)
            .max(min);
        let age = now - since;
        if age > allowed {
            stale.push((job, age, allowed));
        }
    }
    if stale.is_empty() {
        return;
    }
    stale.sort_by_key(|s| std::cmp::Reverse(s.1 - s.2));
    let (worst, age, allowed) = (stale[0].0, stale[0].1, stale[0].2);
    let jobs: Vec<serde_json::Value> = stale
        .iter()
        .map(|(j, age, allowed)| {
            serde_json::json!({
                "job": j.job,
                "last_ok": j.last_ok.map(|t| t.to_rfc3339()),
                "hours_since": age.num_minutes() as f64 / 60.0,
                "allowed_hours": allowed.num_minutes() as f64 / 60.0,
                "last_status": j.last_status,
                "last_error": j.last_error,
            })
        })
        .collect();
    let names: Vec<&str> = stale.iter().map(|(j, _, _)| j.job.as_str()).collect();
    e.fire(rule, s.severity, subject)
        .measured(
            Some(age.num_minutes() as f64 / 60.0),
            Some(allowed.num_minutes() as f64 / 60.0),
            None,
        )
        .evidence(ev![("stale_jobs", serde_json::Value::Array(jobs))])
        .says(
            format!(
                "{} not succeeded for {:.0} h (allowed {:.0} h){}",
                if names.len() == 1 {
                    format!("job {} has", names[0])
                } else {
                    format!("jobs {} have", names.join(", "))
                },
                age.num_minutes() as f64 / 60.0,
                allowed.num_minutes() as f64 / 60.0,
                worst
                    .last_error
                    .as_deref()
                    .map(|m| format!("; last error: {m}"))
                    .unwrap_or_default()
            ),
            "Run `flywheel status` and `flywheel doctor`: the last error says whether it is \
             credentials, a missing role, throttling or the network. Rules on this data are \
             judging old numbers until it syncs.",
        );
}

/// LWA refused the credentials, or a client secret expires soon.
pub(crate) fn credentials(e: &mut Eval) {
    let (rule, base) = e.rule::<Credentials>();
    let Some((subject, s)) = e.market_settings(rule, base) else {
        return;
    };
    // Credentials are per account: report them once, on its first marketplace.
    let account = e.cfg.accounts.iter().find(|a| a.name == e.snap.account);
    let first = account.and_then(|a| a.marketplaces().first().map(|m| m.id));
    if first.is_some_and(|m| m != e.snap.marketplace) {
        return;
    }
    let mut problems = Vec::new();
    let mut severity = None::<Severity>;
    for p in &e.snap.credential_problems {
        problems.push(format!(
            "{} API: LWA answered {}{}",
            if p.api == "ads" { "Ads" } else { "SP" },
            p.error_kind,
            p.detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
        severity = Some(s.severity);
    }
    let mut min_days_left: Option<i64> = None;
    if let Some(a) = account {
        let expiries = [
            (
                "SP",
                a.sp_api.as_ref().and_then(|x| x.client_secret_expires),
            ),
            ("Ads", a.ads.as_ref().and_then(|x| x.client_secret_expires)),
        ];
        for (api, exp) in expiries {
            let Some(exp) = exp else { continue };
            let left = (exp - e.at).num_days();
            if left > s.warn_days_before_expiry as i64 {
                continue;
            }
            min_days_left = Some(min_days_left.map_or(left, |m| m.min(left)));
            if left < 0 {
                problems.push(format!("{api} client secret expired on {exp}"));
                severity = Some(s.severity);
            } else {
                problems.push(format!(
                    "{api} client secret expires on {exp} ({left} days)"
                ));
                severity = Some(severity.unwrap_or(Severity::Warning).max(Severity::Warning));
            }
        }
    }
    let Some(severity) = severity else { return };
    let refusals = e.snap.credential_problems.len() as f64;
    e.fire(rule, severity, subject)
        .measured(Some(refusals), None, None)
        .evidence(ev![
            ("refusals", n(refusals)),
            (
                "days_to_expiry",
                min_days_left
                    .map(|d| n(d as f64))
                    .unwrap_or(serde_json::Value::Null)
            ),
        ])
        .says(
            problems.join("; "),
            "Rotate the client secret or re-authorise the app in Seller Central / the Ads \
             console, put the new values in the config (or its credential files), and run \
             `flywheel doctor`.",
        );
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::*;
    use super::super::testutil::*;
    use crate::config::{RuleId, Severity};
    use chrono::Duration;

    #[test]
    fn data_freshness_allows_three_missed_runs_with_a_floor() {
        let at = d("2026-03-02");
        let base = snap(at);
        // (case, job, hours since the last success, fires)
        let cases = [
            ("hourly job, exactly 3 missed runs", "inventory", 3, false),
            ("hourly job, 4 h old", "inventory", 4, true),
            ("15-min job, 1 h old: the 2 h floor", "orders", 1, false),
            ("daily job, 71 h old", "sales_traffic", 71, false),
            ("daily job, 73 h old", "sales_traffic", 73, true),
        ];
        for (case, job, hours, fires) in cases {
            let mut s = base.clone();
            s.jobs.push(JobState {
                job: job.into(),
                last_ok: Some(s.as_of - Duration::hours(hours)),
                first_attempt: None,
                last_status: Some("ok".into()),
                last_error: None,
            });
            let f = only(&run(&cfg(), &s, at), RuleId::DataFreshness);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
        // A missing role is not staleness; a job that never succeeded is.
        let mut s = base.clone();
        s.jobs.push(JobState {
            job: "inventory".into(),
            last_ok: None,
            first_attempt: Some(s.as_of - Duration::days(2)),
            last_status: Some("unavailable".into()),
            last_error: None,
        });
        assert!(only(&run(&cfg(), &s, at), RuleId::DataFreshness).is_empty());
        s.jobs[0].last_status = Some("failed".into());
        assert!(firing(&only(&run(&cfg(), &s, at), RuleId::DataFreshness)));
    }

    #[test]
    fn credentials_refused_or_expiring() {
        let at = d("2026-03-02");
        let mut s = snap(at);
        s.credential_problems.push(CredentialProblem {
            api: "sp".into(),
            error_kind: "invalid_grant".into(),
            detail: None,
            first_seen_at: s.as_of,
        });
        let f = only(&run(&cfg(), &s, at), RuleId::Credentials);
        assert_eq!(f[0].severity, Severity::Critical);
        // Expiry: 14 days ahead warns, 15 does not.
        for (days, want) in [
            (14, Some(Severity::Warning)),
            (15, None),
            (-1, Some(Severity::Critical)),
        ] {
            let mut c = cfg();
            let mut a = crate::config::Account {
                name: "demo".into(),
                marketplaces: vec!["US".into()],
                ..Default::default()
            };
            a.sp_api = Some(crate::config::ApiSettings {
                client_secret_expires: Some(at + Duration::days(days)),
                ..Default::default()
            });
            c.accounts.push(a);
            let f = only(&run(&c, &snap(at), at), RuleId::Credentials);
            assert_eq!(f.first().map(|f| f.severity), want, "{days} days");
        }
    }
}
