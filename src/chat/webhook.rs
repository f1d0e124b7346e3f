//! `webhook` receivers: Prometheus Alertmanager's webhook JSON, so
//! Alertmanager bridges and automation take flywheel's alerts as they
//! take Alertmanager's
//! (<https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>):
//!
//! ```text
//! { "version": "4", "groupKey", "truncatedAlerts", "status": "firing|resolved",
//!   "receiver", "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
//!   "alerts": [ { "status", "labels", "annotations", "startsAt", "endsAt",
//!                 "generatorURL", "fingerprint" } ] }
//! ```
//!
//! One message is one account's round: `groupLabels` is the account.
//! Each alert's labels are its identity (`alertname` the rule, its
//! `severity`, flywheel `link`, and the subject: account, marketplace,
//! asin, sku, campaign_id, search_term); its annotations say, in the
//! configured language, what happened (`summary`), what to check first
//! (`description`) and how to acknowledge it; `generatorURL` is the
//! Seller Central or advertising console page where the seller acts. A
//! firing alert's `endsAt` is Alertmanager's zero time; a resolved one
//! starts and ends when it resolved (the message does not know its start).
//! flywheel has no web page of its own, so `externalURL` is empty.
//!
//! Answers: any 2xx is delivered; 429 and 5xx fail for now (retried,
//! after `Retry-After` if given); other statuses refuse the message.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::send::{by_status, Answer, Reply};
use super::{Body, Test};
use crate::alert::render::{Line, Summary};
use crate::alert::ItemKind;

/// Alertmanager's "no end yet".
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn alert(l: &Line<'_>) -> Value {
    let item = l.item;
    let mut labels = BTreeMap::new();
    labels.insert("alertname".to_string(), item.rule.as_str().to_string());
    labels.insert("severity".into(), item.severity.as_str().into());
    labels.insert("link".into(), item.link.as_str().into());
    for (k, v) in &item.subject {
        labels.insert(k.clone(), v.clone());
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "summary".to_string(),
        format!("{} — {}: {}", l.name, l.title, l.phrase),
    );
    annotations.insert("description".into(), l.check.clone());
    annotations.insert("state".into(), l.tail.clone());
    annotations.insert("subject".into(), l.name.clone());
    if let Some(v) = item.value {
        annotations.insert("value".into(), v.to_string());
    }
    if let Some(t) = item.threshold {
        annotations.insert("threshold".into(), t.to_string());
    }
    let resolved = item.kind == ItemKind::Resolved;
    json!({
        "status": if resolved { "resolved" } else { "firing" },
        "labels": labels,
        "annotations": annotations,
        "startsAt": time(item.since),
        "endsAt": if resolved { time(item.since) } else { ZERO_TIME.to_string() },
        "generatorURL": l.place.as_ref().map(|p| p.url.as_str()).unwrap_or_default(),
        "fingerprint": item.fingerprint,
    })
}

/// The key/value pairs of `field` every alert has alike.
fn common(alerts: &[Value], field: &str) -> Map<String, Value> {
    let mut out = alerts
        .first()
        .and_then(|a| a[field].as_object().cloned())
        .unwrap_or_default();
    out.retain(|k, v| alerts.iter().all(|a| a[field].get(k) == Some(v)));
    out
}

fn envelope(receiver: &str, group: Value, alerts: Vec<Value>) -> Body {
    let firing = alerts.iter().any(|a| a["status"] == "firing");
    let group_key = format!(
        "{{}}:{{{}}}",
        group
            .as_object()
            .map(|g| g
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","))
            .unwrap_or_default()
    );
    json!({
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": if firing { "firing" } else { "resolved" },
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": common(&alerts, "labels"),
        "commonAnnotations": common(&alerts, "annotations"),
        "externalURL": "",
        "alerts": alerts,
    })
}

pub(super) fn message(receiver: &str, s: &Summary<'_>) -> Body {
    let alerts: Vec<Value> = s.alerts().map(alert).collect();
    envelope(receiver, json!({"account": s.account}), alerts)
}

/// One info alert, `flywheel_test`, ending five minutes after it starts
/// (so automation that honours `endsAt` lets it go by itself).
pub(super) fn test(t: &Test<'_>) -> Body {
    let alert = json!({
        "status": "firing",
        "labels": {"alertname": "flywheel_test", "severity": "info", "receiver": t.receiver},
        "annotations": {"summary": t.title, "description": t.body},
        "startsAt": time(t.at),
        "endsAt": time(t.at + chrono::Duration::minutes(5)),
        "generatorURL": "",
        "fingerprint": "flywheel_test",
    });
    envelope(
        t.receiver,
        json!({"alertname": "flywheel_test"}),
        vec![alert],
    )
}

pub(super) fn classify(r: &Reply) -> Answer {
    match by_status(r, std::time::Duration::from_secs(60)) {
        None => Answer::Delivered { reply: r.text() },
        // A 429 from the operator's own endpoint is a passing failure.
        Some(Answer::Throttled { reply, .. }) => Answer::Transient {
            reply,
            retry_after: r.retry_after,
        },
        Some(a) => a,
    }
}
