//! Inhibition (DESIGN §5), pure: one broken thing must not cause a storm of
//! alerts about its consequences.
//!
//! - A stale source (a `data_freshness` finding naming the job) mutes the
//!   rules derived from it: the seller gets one "your data is stale" alert,
//!   not twenty rules judging old numbers.
//! - An out-of-stock ASIN (every SKU of it with an inventory observation
//!   shows none available) mutes its conversion and BSR alerts, and the ACoS
//!   alerts of campaigns that advertise only out-of-stock ASINs: the
//!   stockout is the problem to fix first.
//! - A suppressed listing (every listed SKU of the ASIN search-suppressed or
//!   not discoverable) mutes its buy box and conversion alerts.
//!
//! Muted alerts keep their state (so they notify at once if still firing
//! when the cause clears); they are only not notified.

use std::collections::{HashMap, HashSet};

use crate::config::RuleId;
use crate::rules::{Finding, Snapshot};
use crate::sync::JobName;

/// What one marketplace's data says about causes that inhibit others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Jobs whose data is stale (from this round's `data_freshness`).
    pub stale_jobs: HashSet<String>,
    pub out_of_stock: HashSet<String>,
    pub suppressed: HashSet<String>,
    /// Campaign id (as in the finding JSON) → the ASINs it advertises.
    pub campaign_asins: HashMap<String, HashSet<String>>,
}

/// Gathers the facts of one marketplace from its snapshot and this round's
/// findings for it.
pub fn facts(snap: &Snapshot, findings: &[Finding]) -> Facts {
    let mut f = Facts::default();
    for x in findings.iter().filter(|x| {
        x.rule == RuleId::DataFreshness
            && x.subject.account == snap.account
            && x.subject.marketplace == snap.marketplace
            && x.is_alert()
    }) {
        for (k, v) in &x.evidence {
            if k == "stale_jobs" {
                for j in v.as_array().into_iter().flatten() {
                    if let Some(name) = j.get("job").and_then(|n| n.as_str()) {
                        f.stale_jobs.insert(name.to_string());
                    }
                }
            }
        }
    }
    let mut by_asin: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &snap.products {
        if let Some(a) = &p.asin {
            by_asin.entry(a).or_default().push(&p.sku);
        }
    }
    if let Some(inv) = &snap.inventory {
        for (asin, skus) in &by_asin {
            let seen: Vec<_> = skus.iter().filter_map(|s| inv.get(*s)).collect();
            if !seen.is_empty() && seen.iter().all(|r| r.available <= 0) {
                f.out_of_stock.insert(asin.to_string());
            }
        }
    }
    if let Some(listings) = &snap.listings {
        let mut listed: HashMap<&str, (usize, usize)> = HashMap::new();
        for l in listings {
            let Some(a) = l.asin.as_deref() else { continue };
            let e = listed.entry(a).or_default();
            e.0 += 1;
            if l.is_suppressed || !l.is_discoverable {
                e.1 += 1;
            }
        }
        for (asin, (n, bad)) in listed {
            if n > 0 && n == bad {
                f.suppressed.insert(asin.to_string());
            }
        }
    }
    if let Some(ads) = &snap.ads {
        for p in &ads.products {
            f.campaign_asins
                .entry(p.campaign_id.to_string())
                .or_default()
                .insert(p.asin.clone());
        }
    }
    f
}

/// Why `finding` is muted by `facts`, or `None`.
pub fn reason(finding: &Finding, facts: &Facts) -> Option<String> {
    let rule = finding.rule;
    if !matches!(rule, RuleId::DataFreshness | RuleId::Credentials) && !facts.stale_jobs.is_empty()
    {
        let alternatives = crate::doctor::rule_sources(rule);
        // Muted when every way the rule gets its data goes through a stale job.
        let stale = |alt: &Vec<JobName>| alt.iter().any(|j| facts.stale_jobs.contains(j.as_str()));
        if !alternatives.is_empty()
            && alternatives.iter().all(|a| !a.is_empty())
            && alternatives.iter().all(stale)
        {
            let jobs: Vec<&str> = alternatives
                .iter()
                .flat_map(|a| a.iter())
                .map(|j| j.as_str())
                .filter(|j| facts.stale_jobs.contains(*j))
                .collect();
            return Some(format!("its data is stale ({})", dedup(jobs).join(", ")));
        }
    }
    let asin = finding.subject.asin.as_deref();
    match (rule, asin) {
        (RuleId::ConversionRate | RuleId::BsrTrend, Some(a)) if facts.out_of_stock.contains(a) => {
            return Some(format!("ASIN {a} is out of stock"));
        }
        _ => {}
    }
    if let (RuleId::AcosBand, Some(c)) = (rule, finding.subject.campaign_id.as_deref()) {
        if let Some(asins) = facts.campaign_asins.get(c) {
            if !asins.is_empty() && asins.iter().all(|a| facts.out_of_stock.contains(a)) {
                let mut v: Vec<&str> = asins.iter().map(String::as_str).collect();
                v.sort_unstable();
                return Some(format!(
                    "every ASIN it advertises is out of stock ({})",
                    v.join(", ")
                ));
            }
        }
    }
    match (rule, asin) {
        (RuleId::BuyBox | RuleId::ConversionRate, Some(a)) if facts.suppressed.contains(a) => {
            Some(format!("the listing of ASIN {a} is suppressed"))
        }
        _ => None,
    }
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Severity;
    use crate::rules::{Status, Subject};

    fn finding(rule: RuleId, subject: Subject) -> Finding {
        Finding {
            rule,
            severity: Severity::Warning,
            status: Status::Firing,
            subject,
            value: Some(1.0),
            threshold: Some(2.0),
            window: None,
            evidence: vec![],
            summary: String::new(),
            check_first: String::new(),
            diagnosis: None,
        }
    }

    fn m() -> Subject {
        Subject {
            account: "acme".into(),
            marketplace: "ATVPDKIKX0DER".into(),
            ..Subject::default()
        }
    }

    #[test]
    fn table() {
        let mut facts = Facts::default();
        facts.out_of_stock.insert("B0OUT".into());
        facts.suppressed.insert("B0SUP".into());
        facts
            .campaign_asins
            .insert("7".into(), ["B0OUT".to_string()].into_iter().collect());
        facts.campaign_asins.insert(
            "8".into(),
            ["B0OUT".to_string(), "B0OK".to_string()]
                .into_iter()
                .collect(),
        );
        let stale = Facts {
            stale_jobs: ["sales_traffic".to_string()].into_iter().collect(),
            ..Facts::default()
        };
        use RuleId::*;
        // (case, rule, subject) with the facts that mute it, and those that do not.
        let mutes = [
            ("oos mutes conversion", ConversionRate, m().asin("B0OUT")),
            ("oos mutes bsr", BsrTrend, m().asin("B0OUT")),
            ("campaign of only oos asins", AcosBand, m().campaign(7)),
            ("suppressed mutes buy box", BuyBox, m().asin("B0SUP")),
            (
                "suppressed mutes conversion",
                ConversionRate,
                m().asin("B0SUP"),
            ),
        ];
        let keeps = [
            (
                "oos does not mute stockout",
                StockoutRisk,
                m().asin("B0OUT").sku("S"),
            ),
            ("oos does not mute buy box", BuyBox, m().asin("B0OUT")),
            (
                "in-stock conversion fires",
                ConversionRate,
                m().asin("B0OK"),
            ),
            ("campaign with an in-stock asin", AcosBand, m().campaign(8)),
            ("account-wide acos band", AcosBand, m()),
            (
                "suppressed keeps listing health",
                ListingHealth,
                m().asin("B0SUP").sku("S"),
            ),
        ];
        let stale_mutes = [
            (
                "stale sales & traffic mutes conversion",
                ConversionRate,
                m().asin("B0OK"),
            ),
            (
                "stale sales & traffic mutes feedback rate",
                FeedbackRate,
                m(),
            ),
        ];
        let stale_keeps = [
            // growth_stall can fall back to orders: not muted by one stale source.
            ("growth stall has a fallback", GrowthStall, m().asin("B0OK")),
            ("stale does not mute ads rules", AcosBand, m().campaign(7)),
            ("never mutes data_freshness", DataFreshness, m()),
        ];
        let cases = [
            (&facts, true, &mutes[..]),
            (&facts, false, &keeps[..]),
            (&stale, true, &stale_mutes[..]),
            (&stale, false, &stale_keeps[..]),
        ];
        for (facts, muted, findings) in cases {
            for (case, rule, subject) in findings {
                let f = finding(*rule, subject.clone());
                assert_eq!(
                    reason(&f, facts).is_some(),
                    muted,
                    "{case}: {:?}",
                    reason(&f, facts)
                );
            }
        }
    }
}
