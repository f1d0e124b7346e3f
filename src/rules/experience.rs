//! Link 1, customer experience: seller feedback (SLA and rate), review
//! topics, star rating, returns, listing health and account health.

use std::collections::BTreeMap;

use chrono::Duration;

use super::metrics::{
    breach_age_hours, feedback_sums, return_sums, topic_rise_points, topic_share_pct,
};
use super::{above, at_least, ev, n, opt, orders_too_short, sorted_keys, Eval, Window};

/// Named evidence values, in order.
type Evidence = Vec<(String, serde_json::Value)>;
use crate::config::rules::{
    AccountHealth, FeedbackRate, FeedbackResponseSla, ListingHealth, RatingFloor, ReturnRate,
    ReviewTopics,
};
use crate::config::Severity;

/// 1–3 star feedback without a response and not acknowledged, 24 h after the
/// start of its day (the report has dates only: errs early, never late).
pub(crate) fn feedback_response_sla(e: &mut Eval) {
    let (rule, base) = e.rule::<FeedbackResponseSla>();
    let Some((subject, s)) = e.market_settings(rule, base) else {
        return;
    };
    let Some(rows) = &e.snap.feedback else {
        e.missing(
            rule,
            s.no_data,
            subject,
            "seller feedback has never been synced",
        );
        return;
    };
    let now = e.snap.as_of;
    let tz = e.snap.time_zone;
    let mut breaches: Vec<(&str, i64, u8)> = rows
        .iter()
        .filter_map(|f| {
            breach_age_hours(f, now, &tz, s.max_rating, s.response_hours)
                .map(|age| (f.order_id.as_str(), age, f.rating))
        })
        .collect();
    if breaches.is_empty() {
        return;
    }
    breaches.sort_by_key(|b| std::cmp::Reverse(b.1));
    let oldest = breaches[0].1;
    let orders: Vec<serde_json::Value> = breaches.iter().map(|b| b.0.into()).collect();
    e.fire(rule, s.severity, subject)
        .measured(
            Some(breaches.len() as f64),
            Some(s.response_hours as f64),
            None,
        )
        .evidence(ev![
            ("open_breaches", n(breaches.len() as f64)),
            ("oldest_age_hours", n(oldest as f64)),
            ("response_hours", n(s.response_hours)),
            ("order_ids", serde_json::Value::Array(orders)),
        ])
        .says(
            format!(
                "{} negative seller feedback {} unanswered for over {} h (oldest {} h)",
                breaches.len(),
                if breaches.len() == 1 { "is" } else { "are" },
                s.response_hours,
                oldest
            ),
            "Answer each one in Seller Central (Performance → Feedback), or contact the buyer and \
             ask for removal if it is about fulfilment by Amazon; then `flywheel ack` it.",
        );
}

/// Negative seller feedback / orders over the window, above the limit.
pub(crate) fn feedback_rate(e: &mut Eval) {
    let (rule, base) = e.rule::<FeedbackRate>();
    let Some((subject, s)) = e.market_settings(rule, base) else {
        return;
    };
    let w = Window::last(e.at, s.window_days);
    let Some(sums) = feedback_sums(&e.snap.daily, w) else {
        let days = e.snap.daily.range(w.start..=w.end).count();
        e.missing(
            rule,
            s.no_data,
            subject,
            format!(
                "sales & traffic has {} of the {} days {}…{}",
                days,
                w.days(),
                w.start,
                w.end
            ),
        );
        return;
    };
    // Amazon's daily series counts orders as order items; the sim and most
    // sellers have one line per order, and it is the same source as the
    // negative feedback count (docs/rules.md).
    let (negative, orders) = (sums.negative, sums.orders);
    if orders < s.min_orders as i64 {
        return;
    }
    let Some(rate) = sums.rate_pct() else {
        return;
    };
    if above(rate, s.max_percent) {
        e.fire(rule, s.severity, subject)
            .measured(Some(rate), Some(s.max_percent), Some(w))
            .evidence(ev![
                ("negative_feedback", n(negative as f64)),
                ("orders", n(orders as f64))
            ])
            .says(
                format!(
                    "negative seller feedback is {rate:.2}% of orders over {} days (limit {}%)",
                    s.window_days, s.max_percent
                ),
                "Read the recent 1–2 star comments for a common cause (late or damaged \
                 deliveries, item not as described) and fix that first; answer each one.",
            );
    }
}

/// A negative review topic that rose over the last months, or far above its
/// browse node.
pub(crate) fn review_topics(e: &mut Eval) {
    let (rule, base) = e.rule::<ReviewTopics>();
    let Some(all) = &e.snap.review_topics else {
        e.missing_market(rule, base.no_data, "no review topics have been synced");
        return;
    };
    for (asin, subject, s) in e.subjects(rule, base, sorted_keys(all), |m, a| m.asin(a)) {
        let mut worst: Option<(f64, Evidence, String)> = None;
        for t in all[asin].iter().filter(|t| t.sentiment == "negative") {
            let now = topic_share_pct(t);
            // The rise over the last `window_months` monthly points: the newest
            // point against the one `window_months` months before it.
            let rise = topic_rise_points(t, s.window_months);
            let ratio = match (t.occurrence_pct, t.browse_node_occurrence_pct) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let rose = rise.is_some_and(|r| at_least(r, s.min_share_rise_points));
            let vs_node = ratio.is_some_and(|r| at_least(r, s.node_ratio));
            if !(rose || vs_node) {
                continue;
            }
            let score = rise.unwrap_or(0.0).max(ratio.unwrap_or(0.0));
            let why = match (rose, vs_node) {
                (true, true) => format!(
                    "\"{}\" rose {:.1} points to {:.1}% of reviews and is {:.1}× its browse node",
                    t.topic,
                    rise.unwrap_or(0.0),
                    now.unwrap_or(0.0),
                    ratio.unwrap_or(0.0)
                ),
                (true, false) => format!(
                    "\"{}\" rose {:.1} points in {} months to {:.1}% of reviews",
                    t.topic,
                    rise.unwrap_or(0.0),
                    s.window_months,
                    now.unwrap_or(0.0)
                ),
                _ => format!(
                    "\"{}\" is mentioned {:.1}× as often as in its browse node ({:.1}% vs {:.1}%)",
                    t.topic,
                    ratio.unwrap_or(0.0),
                    t.occurrence_pct.unwrap_or(0.0),
                    t.browse_node_occurrence_pct.unwrap_or(0.0)
                ),
            };
            let evidence = ev![
                ("topic", t.topic.clone().into()),
                ("share_pct", opt(now)),
                ("rise_points", opt(rise)),
                ("browse_node_share_pct", opt(t.browse_node_occurrence_pct)),
                ("node_ratio", opt(ratio)),
                ("star_rating_impact", opt(t.star_rating_impact)),
            ];
            if worst.as_ref().is_none_or(|w| score > w.0) {
                worst = Some((score, evidence, why));
            }
        }
        if let Some((_, evidence, why)) = worst {
            let value = evidence
                .iter()
                .find(|(k, _)| k == "rise_points")
                .and_then(|(_, v)| v.as_f64());
            e.fire(rule, s.severity, subject)
                .measured(value, Some(s.min_share_rise_points), None)
                .evidence(evidence)
                .says(
                    format!("negative review topic: {why}"),
                    "Read the recent reviews that mention this topic and fix the product or the \
                     listing's promise (images, bullets); contact the affected buyers.",
                );
        }
    }
}

/// Star rating below the floors, or sliding, from the user's ratings file.
pub(crate) fn rating_floor(e: &mut Eval) {
    let (rule, base) = e.rule::<RatingFloor>();
    let Some(rows) = &e.snap.ratings else {
        e.missing_market(
            rule,
            base.no_data,
            "no ratings_file is configured (no Amazon API returns star ratings)",
        );
        return;
    };
    let mut by_asin: BTreeMap<&str, Vec<&super::snapshot::RatingRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.date <= e.at) {
        by_asin.entry(&r.asin).or_default().push(r);
    }
    for (asin, mut v) in by_asin {
        v.sort_by_key(|r| r.date);
        let subject = e.market().asin(asin);
        let Some(s) = e.enabled(rule, base, &subject) else {
            continue;
        };
        let last = v[v.len() - 1];
        let since = last.date - Duration::days(s.drop_window_days as i64);
        let earlier = v.iter().find(|r| r.date >= since && r.date < last.date);
        let drop = earlier.map(|r| r.rating - last.rating);
        let (severity, threshold, why) = if last.rating < s.critical_below {
            (
                Severity::Critical,
                s.critical_below,
                format!("below {}", s.critical_below),
            )
        } else if last.rating < s.warning_below {
            (
                s.severity,
                s.warning_below,
                format!("below {}", s.warning_below),
            )
        } else if drop.is_some_and(|d| at_least(d, s.max_drop)) {
            (
                s.severity,
                // In the value's unit (stars), as the chart draws it: the
                // rating the drop limit reaches from the earlier one.
                earlier.map_or(s.max_drop, |r| r.rating - s.max_drop),
                format!(
                    "down {:.2} in {} days",
                    drop.unwrap_or(0.0),
                    s.drop_window_days
                ),
            )
        } else {
            continue;
        };
        e.fire(rule, severity, subject)
            .measured(Some(last.rating), Some(threshold), None)
            .evidence(ev![
                ("rating", n(last.rating)),
                ("rating_count", opt(last.count.map(|c| c as f64))),
                ("rating_date", last.date.to_string().into()),
                ("rating_before", opt(earlier.map(|r| r.rating))),
                ("drop", opt(drop)),
            ])
            .says(
                format!("star rating {:.2} is {why}", last.rating),
                "Read the newest 1–3 star reviews for the defect behind them; 4.3 → 4.7 stars \
                 lifts conversion about 26%, so fixing the cause pays back.",
            );
    }
}

/// Units returned / units shipped over the window, with the top reason.
pub(crate) fn return_rate(e: &mut Eval) {
    let (rule, base) = e.rule::<ReturnRate>();
    let (Some(orders), Some(_)) = (&e.snap.orders, &e.snap.returns) else {
        e.missing_market(
            rule,
            base.no_data,
            "orders or returns have never been synced",
        );
        return;
    };
    // SKUs that sold or shipped in the data read.
    let mut skus: Vec<&String> = orders.by_sku.keys().chain(orders.shipped.keys()).collect();
    skus.sort();
    skus.dedup();
    for sku in skus {
        let subject = e.market().sku(sku);
        let Some(s) = e.enabled(rule, base, &subject) else {
            continue;
        };
        let w = Window::last(e.at, s.window_days);
        let Some(sums) = return_sums(
            orders,
            e.returns_of(sku).iter().copied(),
            &[sku.as_str()],
            w,
        ) else {
            e.missing(rule, s.no_data, subject, orders_too_short(w));
            continue;
        };
        let (shipped, returned) = (sums.shipped, sums.returned);
        if shipped < s.min_units_shipped as i64 {
            continue;
        }
        let mut reasons: BTreeMap<&str, i64> = BTreeMap::new();
        for r in e.returns_of(sku).iter().filter(|r| w.contains(r.date)) {
            *reasons
                .entry(r.reason.as_deref().unwrap_or("UNKNOWN"))
                .or_default() += r.quantity;
        }
        let Some(rate) = sums.rate_pct() else {
            continue;
        };
        if !above(rate, s.max_percent) {
            continue;
        }
        let top = reasons
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(k, v)| (k.to_string(), *v));
        e.fire(rule, s.severity, subject)
            .measured(Some(rate), Some(s.max_percent), Some(w))
            .evidence(ev![
                ("units_returned", n(returned as f64)),
                ("units_shipped", n(shipped as f64)),
                ("top_reason", top.as_ref().map(|t| t.0.clone()).into()),
                ("top_reason_units", opt(top.as_ref().map(|t| t.1 as f64))),
            ])
            .says(
                format!(
                    "{rate:.1}% of units shipped came back over {} days (limit {}%){}",
                    s.window_days,
                    s.max_percent,
                    top.as_ref()
                        .map(|t| format!("; top reason {}", t.0))
                        .unwrap_or_default()
                ),
                "Look at the top return reason: DEFECTIVE or DAMAGED points at the product or \
                 packaging batch, NOT_AS_DESCRIBED at the listing's images and bullets.",
            );
    }
}

/// A listing that is not buyable, suppressed, or carries ERROR issues.
pub(crate) fn listing_health(e: &mut Eval) {
    let (rule, base) = e.rule::<ListingHealth>();
    let Some(listings) = &e.snap.listings else {
        e.missing_market(rule, base.no_data, "listings have never been synced");
        return;
    };
    for l in listings {
        let subject = e.market().sku(&l.sku);
        let Some(s) = e.enabled(rule, base, &subject) else {
            continue;
        };
        let min_warning = s.min_issue_severity.eq_ignore_ascii_case("warning");
        let issues: Vec<&super::snapshot::IssueRow> = l
            .issues
            .iter()
            .filter(|i| {
                i.severity.eq_ignore_ascii_case("ERROR")
                    || (min_warning && i.severity.eq_ignore_ascii_case("WARNING"))
            })
            .collect();
        let suppressed = l.is_suppressed || !l.is_discoverable;
        if l.is_buyable && !suppressed && issues.is_empty() {
            continue;
        }
        let mut what = Vec::new();
        if !l.is_buyable {
            what.push("not buyable".to_string());
        }
        if suppressed {
            what.push("suppressed".to_string());
        }
        if !issues.is_empty() {
            what.push(format!(
                "{} issue{} ({})",
                issues.len(),
                if issues.len() == 1 { "" } else { "s" },
                issues
                    .iter()
                    .map(|i| format!("{} {}", i.code, i.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let severity = if suppressed {
            s.suppressed_severity.max(s.severity)
        } else {
            s.severity
        };
        let codes: Vec<serde_json::Value> = issues.iter().map(|i| i.code.clone().into()).collect();
        // Amazon's own words for each issue, for the message to show as
        // Amazon wrote them.
        let messages: Vec<serde_json::Value> =
            issues.iter().map(|i| i.message.clone().into()).collect();
        e.fire(rule, severity, subject)
            .measured(Some(issues.len() as f64), None, None)
            .evidence(ev![
                ("is_buyable", l.is_buyable.into()),
                ("is_discoverable", l.is_discoverable.into()),
                ("is_suppressed", l.is_suppressed.into()),
                ("statuses", serde_json::json!(l.statuses)),
                ("issues", n(issues.len() as f64)),
                ("issue_codes", serde_json::Value::Array(codes)),
                ("issue_messages", serde_json::Value::Array(messages)),
            ])
            .says(
                format!("listing {}", what.join(", ")),
                "Open the listing in Seller Central (Catalog → Manage All Inventory → Fix \
                 listing) and supply what each issue names; a suppressed listing sells nothing.",
            );
    }
}

/// Account status and the performance metrics against Amazon's targets.
pub(crate) fn account_health(e: &mut Eval) {
    let (rule, base) = e.rule::<AccountHealth>();
    let Some((subject, s)) = e.market_settings(rule, base) else {
        return;
    };
    let Some(h) = &e.snap.account_health else {
        e.missing(
            rule,
            s.no_data,
            subject,
            "no account health report has been synced",
        );
        return;
    };
    let pct100 = |x: Option<f64>| x.map(|v| v * 100.0);
    let odr = match (h.odr_mfn_rate, h.odr_afn_rate) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
    .map(|v| v * 100.0);
    let late = pct100(h.late_shipment_rate);
    let cancel = pct100(h.pre_fulfillment_cancel_rate);
    let tracking = pct100(h.valid_tracking_rate);
    let mut breaches = Vec::new();
    if let Some(st) = h.account_status.as_deref() {
        if !st.eq_ignore_ascii_case("NORMAL") {
            breaches.push(format!("account status {st}"));
        }
    }
    if odr.is_some_and(|v| at_least(v, s.max_odr_percent)) {
        breaches.push(format!(
            "order defect rate {:.2}% (limit {}%)",
            odr.unwrap_or(0.0),
            s.max_odr_percent
        ));
    }
    if late.is_some_and(|v| at_least(v, s.max_late_shipment_percent)) {
        breaches.push(format!(
            "late shipment rate {:.2}% (limit {}%)",
            late.unwrap_or(0.0),
            s.max_late_shipment_percent
        ));
    }
    if cancel.is_some_and(|v| at_least(v, s.max_pre_fulfillment_cancel_percent)) {
        breaches.push(format!(
            "pre-fulfilment cancellation {:.2}% (limit {}%)",
            cancel.unwrap_or(0.0),
            s.max_pre_fulfillment_cancel_percent
        ));
    }
    if tracking.is_some_and(|v| !at_least(v, s.min_valid_tracking_percent)) {
        breaches.push(format!(
            "valid tracking {:.2}% (floor {}%)",
            tracking.unwrap_or(0.0),
            s.min_valid_tracking_percent
        ));
    }
    if breaches.is_empty() {
        return;
    }
    e.fire(rule, s.severity, subject)
        .measured(odr, Some(s.max_odr_percent), None)
        .evidence(ev![
            ("account_status", h.account_status.clone().into()),
            ("order_defect_rate_pct", opt(odr)),
            ("late_shipment_rate_pct", opt(late)),
            ("pre_fulfillment_cancel_rate_pct", opt(cancel)),
            ("valid_tracking_rate_pct", opt(tracking)),
            (
                "snapshot_date",
                h.snapshot_date.map(|d| d.to_string()).into()
            ),
        ])
        .says(
            format!("account health: {}", breaches.join("; ")),
            "Open Account Health in Seller Central: find the orders behind the defects (negative \
             feedback, A-to-z claims, chargebacks) and act on the largest group first.",
        );
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::*;
    use super::super::testutil::*;
    use super::super::Status;
    use crate::config::{NoData, RuleId, Severity};

    #[test]
    fn feedback_sla_counts_from_the_start_of_the_day_and_breaches_at_exactly_24h() {
        let at = d("2026-03-02");
        let fb = |date: &str, rating: u8, resp: bool, ack: bool| FeedbackRow {
            order_id: format!("o-{date}-{rating}-{resp}-{ack}"),
            date: d(date),
            rating,
            comments: None,
            has_response: resp,
            acknowledged: ack,
        };
        // (case, rows, as_of hours after the start of `at`, fires)
        let cases: Vec<(&str, Vec<FeedbackRow>, i64, bool)> = vec![
            (
                "exactly 24 h",
                vec![fb("2026-03-01", 1, false, false)],
                0,
                true,
            ),
            ("23 h", vec![fb("2026-03-01", 1, false, false)], -1, false),
            ("answered", vec![fb("2026-02-27", 1, true, false)], 0, false),
            (
                "acknowledged",
                vec![fb("2026-02-27", 2, false, true)],
                0,
                false,
            ),
            ("4 stars", vec![fb("2026-02-27", 4, false, false)], 0, false),
            ("3 stars", vec![fb("2026-02-27", 3, false, false)], 0, true),
            ("none", vec![], 0, false),
        ];
        for (case, rows, hours, fires) in cases {
            let mut s = snap_at(at, hours);
            s.feedback = Some(rows);
            let f = only(&run(&cfg(), &s, at), RuleId::FeedbackResponseSla);
            assert_eq!(
                f.iter().any(|f| f.status == Status::Firing),
                fires,
                "{case}"
            );
        }
        let s = snap(at);
        let f = only(&run(&cfg(), &s, at), RuleId::FeedbackResponseSla);
        assert_eq!(f[0].status, Status::NoData, "never synced");
        let mut c = cfg();
        c.overrides.push(over(
            "feedback_response_sla",
            None,
            None,
            "response_hours = 48",
        ));
        let mut s = snap(at);
        s.feedback = Some(vec![fb("2026-03-01", 1, false, false)]);
        assert!(
            only(&run(&c, &s, at), RuleId::FeedbackResponseSla).is_empty(),
            "override"
        );
    }

    #[test]
    fn feedback_rate_table() {
        let at = d("2026-03-31");
        // (case, days present, orders per day, negative in total, fires / no data)
        let cases = [
            ("at the limit: 2.0%", 30, 10, 6, Some(false)),
            ("just over", 30, 10, 7, Some(true)),
            ("too few orders", 30, 1, 5, Some(false)),
            ("zero orders", 30, 0, 0, Some(false)),
            ("window not complete", 29, 10, 9, None),
        ];
        for (case, days, per_day, negative, want) in cases {
            let mut s = snap(at);
            for k in 1..=days {
                let neg = if k == 1 { negative } else { 0 };
                s.daily.insert(
                    at - chrono::Duration::days(k),
                    DailyRow {
                        total_order_items: Some(per_day),
                        negative_feedback_received: Some(neg),
                        ..DailyRow::default()
                    },
                );
            }
            let f = only(&run(&cfg(), &s, at), RuleId::FeedbackRate);
            check(&f, want, case);
        }
    }

    #[test]
    fn review_topics_rise_over_three_monthly_points_or_twice_the_node() {
        let at = d("2026-03-02");
        let topic = |trend: &[f64], share: f64, node: Option<f64>| TopicRow {
            topic: "Leaks".into(),
            sentiment: "negative".into(),
            occurrence_pct: Some(share),
            star_rating_impact: Some(-0.3),
            browse_node_occurrence_pct: node,
            trend: trend
                .iter()
                .enumerate()
                .map(|(i, v)| (d("2025-09-01") + chrono::Duration::days(31 * i as i64), *v))
                .collect(),
        };
        let cases = [
            (
                "rise exactly 5 points",
                topic(&[9.0, 6.0, 8.0, 9.0, 11.0], 11.0, Some(8.0)),
                true,
            ),
            (
                "rise 4.9",
                topic(&[6.0, 6.0, 8.0, 9.0, 10.9], 10.9, Some(8.0)),
                false,
            ),
            ("exactly 2x node", topic(&[10.0], 10.0, Some(5.0)), true),
            ("1.5x node", topic(&[7.5], 7.5, Some(5.0)), false),
            ("node share 0", topic(&[7.5], 7.5, Some(0.0)), false),
            (
                "too short a trend",
                topic(&[1.0, 9.0, 12.0], 12.0, None),
                false,
            ),
        ];
        for (case, t, fires) in cases {
            let mut s = snap(at);
            s.review_topics = Some([("B0X".to_string(), vec![t])].into_iter().collect());
            let f = only(&run(&cfg(), &s, at), RuleId::ReviewTopics);
            assert_eq!(firing(&f), fires, "{case}: {f:?}");
        }
        let mut s = snap(at);
        s.review_topics = Some(
            [("B0X".to_string(), vec![topic(&[7.5], 7.5, Some(5.0))])]
                .into_iter()
                .collect(),
        );
        let mut c = cfg();
        c.overrides
            .push(over("review_topics", Some("B0X"), None, "node_ratio = 1.5"));
        assert!(
            firing(&only(&run(&c, &s, at), RuleId::ReviewTopics)),
            "override"
        );
        let f = only(&run(&cfg(), &snap(at), at), RuleId::ReviewTopics);
        assert_eq!(f[0].status, Status::NoData);
    }

    #[test]
    fn rating_floor_table() {
        let at = d("2026-03-02");
        let r = |rating: f64, date: &str| RatingRow {
            asin: "B0X".into(),
            rating,
            count: Some(100),
            date: d(date),
        };
        let cases: Vec<(&str, Vec<RatingRow>, Option<Severity>)> = vec![
            (
                "4.3 exactly",
                vec![r(4.3, "2026-03-02")],
                Some(Severity::Warning),
            ),
            (
                "4.29",
                vec![r(4.29, "2026-03-02")],
                Some(Severity::Critical),
            ),
            ("4.5 exactly", vec![r(4.5, "2026-03-02")], None),
            (
                "down 0.2",
                vec![r(4.9, "2026-02-01"), r(4.7, "2026-03-01")],
                Some(Severity::Warning),
            ),
            (
                "down 0.19",
                vec![r(4.89, "2026-02-01"), r(4.7, "2026-03-01")],
                None,
            ),
            (
                "drop older than 30 days",
                vec![r(4.9, "2026-01-20"), r(4.7, "2026-03-01")],
                None,
            ),
            (
                "future row ignored",
                vec![r(4.7, "2026-03-01"), r(4.0, "2026-03-03")],
                None,
            ),
        ];
        for (case, rows, want) in cases {
            let mut s = snap(at);
            s.ratings = Some(rows);
            let f = only(&run(&cfg(), &s, at), RuleId::RatingFloor);
            assert_eq!(f.first().map(|f| f.severity), want, "{case}: {f:?}");
        }
        // The threshold is a rating (the value's unit): the floor, or where
        // the drop limit puts it below the earlier rating.
        for (rows, threshold) in [
            (vec![r(4.29, "2026-03-02")], 4.3),
            (vec![r(4.9, "2026-02-01"), r(4.7, "2026-03-01")], 4.7),
        ] {
            let mut s = snap(at);
            s.ratings = Some(rows);
            let f = only(&run(&cfg(), &s, at), RuleId::RatingFloor);
            let t = f[0].threshold.unwrap();
            assert!((t - threshold).abs() < 1e-9, "{f:?}");
        }
        let f = only(&run(&cfg(), &snap(at), at), RuleId::RatingFloor);
        assert_eq!(f[0].status, Status::NoData, "no ratings file");
    }

    #[test]
    fn return_rate_table() {
        let at = d("2026-03-31");
        // (case, shipped, returned, orders reach back, fires / no data)
        let cases = [
            ("3% exactly", 100, 3, true, Some(false)),
            ("just over", 100, 4, true, Some(true)),
            ("19 shipped", 19, 10, true, Some(false)),
            ("zero shipped", 0, 2, true, Some(false)),
            ("young install", 100, 10, false, None),
        ];
        for (case, shipped, returned, reach, want) in cases {
            let mut s = snap(at);
            let mut o = OrderDays {
                first_day: Some(if reach {
                    d("2026-01-01")
                } else {
                    d("2026-03-10")
                }),
                ..OrderDays::default()
            };
            o.by_sku.entry("S1".into()).or_default().insert(
                d("2026-03-10"),
                OrderDay {
                    units: shipped,
                    sales: 0.0,
                },
            );
            // Shipped five days after the purchase: counted on its ship day.
            o.shipped
                .entry("S1".into())
                .or_default()
                .insert(d("2026-03-15"), shipped);
            s.orders = Some(o);
            s.returns = Some(vec![ReturnRow {
                sku: "S1".into(),
                date: d("2026-03-20"),
                quantity: returned,
                reason: Some("DEFECTIVE".into()),
            }]);
            check(&only(&run(&cfg(), &s, at), RuleId::ReturnRate), want, case);
        }
        // Units count on the day they shipped, whenever they were bought:
        // shipped before the window, they are not in it.
        let mut s = snap(at);
        let mut o = OrderDays {
            first_day: Some(d("2026-01-01")),
            ..OrderDays::default()
        };
        o.shipped
            .entry("S1".into())
            .or_default()
            .insert(d("2026-02-27"), 100);
        o.shipped
            .entry("S1".into())
            .or_default()
            .insert(d("2026-03-30"), 25);
        s.orders = Some(o);
        s.returns = Some(vec![ReturnRow {
            sku: "S1".into(),
            date: d("2026-03-20"),
            quantity: 1,
            reason: None,
        }]);
        let f = only(&run(&cfg(), &s, at), RuleId::ReturnRate);
        assert_eq!(f[0].value, Some(4.0), "1 of the 25 shipped in the window");
    }

    #[test]
    fn listing_health_table_and_keep_when_missing() {
        let at = d("2026-03-02");
        let l = |buyable: bool, disc: bool, supp: bool, sev: &str| ListingRow {
            sku: "S1".into(),
            asin: None,
            statuses: vec![],
            is_buyable: buyable,
            is_discoverable: disc,
            is_suppressed: supp,
            issues: if sev.is_empty() {
                vec![]
            } else {
                vec![IssueRow {
                    code: "90220".into(),
                    severity: sev.into(),
                    message: "m".into(),
                }]
            },
        };
        let cases = [
            ("healthy", l(true, true, false, ""), None),
            ("warning issue only", l(true, true, false, "WARNING"), None),
            (
                "error issue",
                l(true, true, false, "ERROR"),
                Some(Severity::Warning),
            ),
            (
                "not buyable",
                l(false, true, false, ""),
                Some(Severity::Warning),
            ),
            (
                "suppressed",
                l(false, true, true, ""),
                Some(Severity::Critical),
            ),
        ];
        for (case, row, want) in cases {
            let mut s = snap(at);
            s.listings = Some(vec![row]);
            let f = only(&run(&cfg(), &s, at), RuleId::ListingHealth);
            assert_eq!(f.first().map(|f| f.severity), want, "{case}");
        }
        let f = only(&run(&cfg(), &snap(at), at), RuleId::ListingHealth);
        assert_eq!(f[0].status, Status::Keep, "default no_data is keep");
        let mut c = cfg();
        c.rules.listing_health.no_data = NoData::Ok;
        assert!(only(&run(&c, &snap(at), at), RuleId::ListingHealth).is_empty());
    }

    #[test]
    fn account_health_thresholds() {
        let at = d("2026-03-02");
        let h = |odr: f64, late: f64, cancel: f64, tracking: f64, status: &str| HealthRow {
            snapshot_date: Some(at),
            account_status: Some(status.into()),
            odr_mfn_rate: Some(odr),
            odr_afn_rate: Some(0.001),
            late_shipment_rate: Some(late),
            pre_fulfillment_cancel_rate: Some(cancel),
            valid_tracking_rate: Some(tracking),
        };
        let cases = [
            ("healthy", h(0.009, 0.039, 0.024, 0.95, "NORMAL"), false),
            ("odr exactly 1%", h(0.01, 0.0, 0.0, 1.0, "NORMAL"), true),
            ("late exactly 4%", h(0.0, 0.04, 0.0, 1.0, "NORMAL"), true),
            ("cancel 2.5%", h(0.0, 0.0, 0.025, 1.0, "NORMAL"), true),
            ("tracking 94.9%", h(0.0, 0.0, 0.0, 0.949, "NORMAL"), true),
            ("at risk", h(0.0, 0.0, 0.0, 1.0, "AT_RISK"), true),
        ];
        for (case, row, fires) in cases {
            let mut s = snap(at);
            s.account_health = Some(row);
            let f = only(&run(&cfg(), &s, at), RuleId::AccountHealth);
            assert_eq!(firing(&f), fires, "{case}");
        }
        let f = only(&run(&cfg(), &snap(at), at), RuleId::AccountHealth);
        assert_eq!(f[0].status, Status::Keep);
    }
}
