//! What customers and Amazon say: seller feedback, account health, listings, ratings and review topics.

use super::*;

pub(super) fn feedback(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let any_row = "SELECT 1 FROM seller_feedback WHERE account = ?1 LIMIT 1";
    if !job_or_rows(q.conn, q.a, "seller_feedback", q.as_of, any_row)? {
        return Ok(());
    }
    let as_of = q.as_of_s.as_str();
    let since = day(q.at - Duration::days(90));
    let mut out = Vec::new();
    q.each_row(
        "SELECT order_id, feedback_date, rating, comments, your_response, response_seen_at, acknowledged_at
         FROM seller_feedback
         WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 AND feedback_date >= ?4",
        params![q.a, q.m, as_of, since],
        |r| {
            let d: String = r.get(1)?;
            let Some(date) = parse_day(&d) else {
                return Ok(());
            };
            let resp: Option<String> = r.get(4)?;
            let seen: Option<String> = r.get(5)?;
            let ack: Option<String> = r.get(6)?;
            out.push(FeedbackRow {
                order_id: r.get(0)?,
                date,
                rating: r.get::<_, i64>(2)?.clamp(0, 5) as u8,
                comments: r.get(3)?,
                has_response: resp.is_some_and(|x| !x.trim().is_empty())
                    && seen.as_deref().is_none_or(|t| t <= as_of),
                acknowledged: ack.as_deref().is_some_and(|t| t <= as_of),
            });
            Ok(())
        },
    )?;
    s.feedback = Some(out);
    Ok(())
}

pub(super) fn account_health(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    s.account_health = q
        .conn
        .query_row(
            "SELECT snapshot_date, account_status, odr_mfn_rate, odr_afn_rate, late_shipment_rate,
                    pre_fulfillment_cancel_rate, valid_tracking_rate
             FROM account_health_snapshots
             WHERE account = ?1 AND marketplace_id = ?2 AND snapshot_date <= ?3
             ORDER BY snapshot_date DESC LIMIT 1",
            params![q.a, q.m, q.at_s],
            |r| {
                let d: String = r.get(0)?;
                Ok(HealthRow {
                    snapshot_date: parse_day(&d),
                    account_status: r.get(1)?,
                    odr_mfn_rate: r.get(2)?,
                    odr_afn_rate: r.get(3)?,
                    late_shipment_rate: r.get(4)?,
                    pre_fulfillment_cancel_rate: r.get(5)?,
                    valid_tracking_rate: r.get(6)?,
                })
            },
        )
        .optional()?;
    Ok(())
}

pub(super) fn listings(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let any_row = "SELECT 1 FROM listings WHERE account = ?1 LIMIT 1";
    if !job_or_rows(q.conn, q.a, "listings", q.as_of, any_row)? {
        return Ok(());
    }
    let known = params![q.a, q.m, q.as_of_s];
    let mut issues: HashMap<String, Vec<IssueRow>> = HashMap::new();
    q.each_row(
        "SELECT sku, code, severity, message FROM listing_issues
         WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3",
        known,
        |r| {
            issues.entry(r.get(0)?).or_default().push(IssueRow {
                code: r.get(1)?,
                severity: r.get(2)?,
                message: r.get(3)?,
            });
            Ok(())
        },
    )?;
    let mut out = Vec::new();
    q.each_row(
        "SELECT sku, asin, statuses_json, is_buyable, is_discoverable, is_suppressed FROM listings
         WHERE account = ?1 AND marketplace_id = ?2 AND first_seen_at <= ?3 ORDER BY sku",
        known,
        |r| {
            let statuses: String = r.get(2)?;
            out.push(ListingRow {
                sku: r.get(0)?,
                asin: r.get(1)?,
                statuses: serde_json::from_str(&statuses).unwrap_or_default(),
                is_buyable: r.get::<_, i64>(3)? == 1,
                is_discoverable: r.get::<_, i64>(4)? == 1,
                is_suppressed: r.get::<_, i64>(5)? == 1,
                issues: Vec::new(),
            });
            Ok(())
        },
    )?;
    for l in &mut out {
        l.issues = issues.remove(&l.sku).unwrap_or_default();
    }
    s.listings = Some(out);
    Ok(())
}

pub(super) fn ratings(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    s.ratings = read_file(&q.account.ratings_file, &q.cfg.ratings_file, read_ratings);
    Ok(())
}

pub(super) fn review_topics(q: &Query<'_>, s: &mut Snapshot) -> Result<(), StoreError> {
    let mut out: HashMap<String, Vec<TopicRow>> = HashMap::new();
    let mut any = false;
    // The newest period of each ASIN's topics.
    q.each_row(
        "SELECT t.subject_id, t.topic, t.sentiment, t.occurrence_pct, t.star_rating_impact,
                t.browse_node_occurrence_pct
         FROM review_topics t
         WHERE t.account = ?1 AND t.marketplace_id = ?2 AND t.subject_kind = 'asin' AND t.fetched_at <= ?3
           AND t.period_end = (SELECT MAX(u.period_end) FROM review_topics u
               WHERE u.account = t.account AND u.marketplace_id = t.marketplace_id
                 AND u.subject_kind = 'asin' AND u.subject_id = t.subject_id AND u.fetched_at <= ?3)",
        params![q.a, q.m, q.as_of_s],
        |r| {
            any = true;
            out.entry(r.get(0)?).or_default().push(TopicRow {
                topic: r.get(1)?,
                sentiment: r.get(2)?,
                occurrence_pct: r.get(3)?,
                star_rating_impact: r.get(4)?,
                browse_node_occurrence_pct: r.get(5)?,
                trend: Vec::new(),
            });
            Ok(())
        },
    )?;
    q.each_row(
        "SELECT subject_id, topic, sentiment, period_start, occurrence_pct FROM review_topic_trends
         WHERE account = ?1 AND marketplace_id = ?2 AND subject_kind = 'asin' AND fetched_at <= ?3
           AND period_start < ?4 AND occurrence_pct IS NOT NULL
         ORDER BY subject_id, topic, period_start",
        params![q.a, q.m, q.as_of_s, q.at_s],
        |r| {
            any = true;
            let asin: String = r.get(0)?;
            let topic: String = r.get(1)?;
            let sentiment: String = r.get(2)?;
            let d: String = r.get(3)?;
            let Some(d) = parse_day(&d) else {
                return Ok(());
            };
            let v: f64 = r.get(4)?;
            let list = out.entry(asin).or_default();
            match list
                .iter_mut()
                .find(|t| t.topic == topic && t.sentiment == sentiment)
            {
                Some(t) => t.trend.push((d, v)),
                None => list.push(TopicRow {
                    topic,
                    sentiment,
                    occurrence_pct: None,
                    star_rating_impact: None,
                    browse_node_occurrence_pct: None,
                    trend: vec![(d, v)],
                }),
            }
            Ok(())
        },
    )?;
    s.review_topics = any.then_some(out);
    Ok(())
}
