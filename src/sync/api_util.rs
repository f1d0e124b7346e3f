//! Small helpers shared by the SP-API snapshot jobs (inventory,
//! catalog_ranks, pricing, listings, customer_feedback, fees) and the
//! orders job's `searchOrders` path: the account's endpoint, a JSON call,
//! marketplace days and hour slots, and lenient readers of the answers
//! (arrays, numbers).

use chrono::{DateTime, DurationRound, Utc};
use serde::de::DeserializeOwned;

use super::{Ctx, JobError};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::model::marketplace::Marketplace;
use crate::store::fba_inventory::Slot;

/// The account's SP-API endpoint, or a clear error naming what to configure.
pub(crate) fn sp_endpoint(ctx: &Ctx<'_>) -> Result<Endpoint, JobError> {
    ctx.sp().ok_or_else(|| {
        JobError::Data(format!(
            "account {} has no SP-API credentials: set [accounts.sp_api] client_id, client_secret and refresh_token",
            ctx.account.name
        ))
    })
}

/// The account's marketplaces (from the config).
pub(crate) fn marketplaces(ctx: &Ctx<'_>) -> Vec<&'static Marketplace> {
    ctx.account.marketplaces()
}

/// Makes the call; a 204 (or an empty body) gives `None`. A body cut short
/// in transit is asked for again by the client.
pub(crate) async fn call_json<T: DeserializeOwned>(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    spec: &CallSpec,
) -> Result<Option<T>, JobError> {
    Ok(ctx.client.call_json(ep, spec).await?)
}

/// The calendar day of `t` in the marketplace's time zone (DESIGN §2.1).
pub(crate) fn local_day(m: &Marketplace, t: DateTime<Utc>) -> String {
    t.with_timezone(&m.tz).format("%Y-%m-%d").to_string()
}

/// The hourly slot a pull of `m` at the round's `now` is stored under, as
/// `source` (`day`: the slot's marketplace day, [`slot_day`]).
pub(crate) fn slot<'a>(
    ctx: &'a Ctx<'_>,
    m: &'a Marketplace,
    source: &'static str,
    day: &'a str,
) -> Slot<'a> {
    Slot {
        account: &ctx.account.name,
        marketplace_id: m.id,
        source,
        observed_at: hour_slot(ctx.now),
        observed_day: day,
    }
}

/// The marketplace day of the round's hourly slot (see [`slot`]).
pub(crate) fn slot_day(ctx: &Ctx<'_>, m: &Marketplace) -> String {
    local_day(m, hour_slot(ctx.now))
}

/// `t` rounded down to the hour: the key of hourly snapshots, so a re-run
/// within the hour overwrites instead of adding.
pub(crate) fn hour_slot(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::Duration::hours(1)).unwrap_or(t)
}

/// The elements of `v` when it is an array; none when it is absent or
/// anything else (answers are read leniently).
pub(crate) fn elements(v: Option<&serde_json::Value>) -> impl Iterator<Item = &serde_json::Value> {
    v.and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
}

/// A paged answer's `pagination.nextToken`, if it has one (an empty one
/// is none).
pub(crate) fn next_token(body: &serde_json::Value) -> Option<String> {
    body.pointer("/pagination/nextToken")
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// A number Amazon sent as a JSON number or as a decimal string.
pub(crate) fn num(v: Option<&serde_json::Value>) -> Option<f64> {
    match v? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn days_follow_the_marketplace_zone_and_slots_the_hour() {
        let us = crate::model::marketplace::lookup("US").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 5, 59, 59).unwrap();
        assert_eq!(local_day(us, t), "2026-03-01");
        assert_eq!(
            hour_slot(t),
            Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).unwrap()
        );
        assert_eq!(num(Some(&serde_json::json!("12.50"))), Some(12.5));
        assert_eq!(num(Some(&serde_json::json!(3))), Some(3.0));
        assert_eq!(num(None), None);
    }
}
