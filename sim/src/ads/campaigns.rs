//! Sponsored Products v3 (`SponsoredProducts_prod_3p.json`):
//! `POST /sp/campaigns/list` (`ListSponsoredProductsCampaigns`).
//!
//! `Content-Type` must be `application/vnd.spCampaign.v3+json` and `Accept`,
//! when sent, that type (or `*/*`); otherwise 415 `UNSUPPORTED_MEDIA_TYPE`
//! (REFERENCE §2). Filters: `stateFilter`, `campaignIdFilter`, `nameFilter`
//! (`EXACT_MATCH` by default, `BROAD_MATCH` = substring of the first value),
//! `portfolioIdFilter` (the sim's campaigns have no portfolio). Paging by
//! `maxResults` + `nextToken`; Amazon publishes neither the maximum page size
//! nor the token lifetime, so both are assumptions ([`MAX_PAGE`],
//! [`TOKEN_LIFETIME`]). Campaign ids are strings here (numbers in reports),
//! states are as of today in the profile's time zone.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Duration;
use serde_json::{json, Value};

use super::vnd_json;
use crate::auth::AdsCaller;
use crate::errors::{self, AdsShape};
use crate::ratelimit::limit_ads;
use crate::scenario::AdProduct;
use crate::server::AppState;
use crate::spapi::paging;

/// The SP v3 campaign media type.
pub const SP_CAMPAIGN: &str = "application/vnd.spCampaign.v3+json";
/// Assumed maximum (and default) page size.
pub const MAX_PAGE: usize = 100;
/// Assumed lifetime of a `nextToken`.
pub const TOKEN_LIFETIME: Duration = Duration::hours(24);

const STATES: &[&str] = &[
    "ARCHIVED",
    "ENABLED",
    "ENABLING",
    "OTHER",
    "PAUSED",
    "PROPOSED",
    "USER_DELETED",
];

fn sp_error(status: StatusCode, code: &str, text: &str) -> Response {
    errors::ads(AdsShape::SponsoredProducts, status, code, text)
}

fn invalid(text: &str) -> Response {
    sp_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", text)
}

fn media_type_ok(headers: &HeaderMap) -> Result<(), Response> {
    let get = |h| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_owned())
    };
    let unsupported = || {
        sp_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("Unsupported media type. Use {SP_CAMPAIGN} for Content-Type and Accept"),
        )
    };
    let ct = get(header::CONTENT_TYPE).unwrap_or_default();
    let ct = ct.split(';').next().unwrap_or_default().trim().to_owned();
    if !ct.eq_ignore_ascii_case(SP_CAMPAIGN) {
        return Err(unsupported());
    }
    if let Some(accept) = get(header::ACCEPT) {
        let ok = accept.split(',').any(|a| {
            let a = a.split(';').next().unwrap_or_default().trim();
            a.eq_ignore_ascii_case(SP_CAMPAIGN) || a == "*/*"
        });
        if !ok {
            return Err(unsupported());
        }
    }
    Ok(())
}

fn include_list(body: &Value, filter: &str) -> Result<Option<Vec<String>>, Response> {
    match body.get(filter) {
        None | Some(Value::Null) => Ok(None),
        Some(f) => match f.get("include").and_then(Value::as_array) {
            Some(a) => a
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| invalid(&format!("{filter}.include must be a list of strings"))),
            None => Err(invalid(&format!("{filter}.include is required"))),
        },
    }
}

/// `POST /sp/campaigns/list`.
pub async fn list(
    State(state): State<AppState>,
    caller: AdsCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = limit_ads(
        &state,
        "ListSponsoredProductsCampaigns",
        &caller.identity(),
        AdsShape::SponsoredProducts,
    ) {
        return r;
    }
    if let Err(r) = media_type_ok(&headers) {
        return r;
    }
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return invalid("Request body must be a JSON object"),
        }
    };
    let states = match include_list(&body, "stateFilter") {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(bad) = states
        .iter()
        .flatten()
        .find(|s| !STATES.contains(&s.as_str()))
    {
        return invalid(&format!("Invalid stateFilter value: {bad}"));
    }
    let ids = match include_list(&body, "campaignIdFilter") {
        Ok(s) => s,
        Err(r) => return r,
    };
    let names = match include_list(&body, "nameFilter") {
        Ok(s) => s,
        Err(r) => return r,
    };
    let broad = match body.pointer("/nameFilter/queryTermMatchType") {
        None | Some(Value::Null) => false,
        Some(v) if v == "BROAD_MATCH" => true,
        Some(v) if v == "EXACT_MATCH" => false,
        Some(v) => return invalid(&format!("Invalid queryTermMatchType: {v}")),
    };
    let portfolios = match include_list(&body, "portfolioIdFilter") {
        Ok(s) => s,
        Err(r) => return r,
    };
    let max = match body.get("maxResults") {
        None | Some(Value::Null) => MAX_PAGE,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => (n as usize).min(MAX_PAGE),
            _ => return invalid("maxResults must be a positive integer"),
        },
    };
    let extended = body
        .get("includeExtendedDataFields")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let now = state.clock.now();
    // The campaigns of the profile's marketplace.
    let world = state.ads_world(caller.profile_id);
    let today = world.day_of(now);
    let start = world.history_start();
    let matching: Vec<Value> = world
        .campaigns()
        .iter()
        .filter(|c| c.kind == AdProduct::SP)
        .filter_map(|c| {
            let st = world
                .campaign_state(c.id, today)
                .unwrap_or_else(|| c.state.clone());
            let keep = states.as_ref().is_none_or(|s| s.contains(&st))
                && ids.as_ref().is_none_or(|i| i.contains(&c.id.to_string()))
                && names.as_ref().is_none_or(|n| {
                    if broad {
                        n.first()
                            .is_some_and(|q| c.name.to_lowercase().contains(&q.to_lowercase()))
                    } else {
                        n.contains(&c.name)
                    }
                })
                && portfolios.as_ref().is_none_or(|p| p.is_empty());
            keep.then(|| {
                let mut v = json!({
                    "campaignId": c.id.to_string(),
                    "name": c.name,
                    "state": st,
                    "targetingType": if c.targeting == "AUTO" { "AUTO" } else { "MANUAL" },
                    "startDate": start.to_string(),
                    "budget": { "budget": crate::world::amount_json(c.daily_budget, world.currency_decimals()), "budgetType": "DAILY" },
                    "dynamicBidding": { "strategy": "LEGACY_FOR_SALES", "placementBidding": [] },
                });
                if extended {
                    let created = crate::clock::rfc3339(world.day_start(start));
                    let serving = match st.as_str() {
                        "ENABLED" => "CAMPAIGN_STATUS_ENABLED",
                        "PAUSED" => "CAMPAIGN_PAUSED",
                        "ARCHIVED" => "CAMPAIGN_ARCHIVED",
                        _ => "OTHER",
                    };
                    v["extendedData"] = json!({
                        "creationDateTime": created,
                        "lastUpdateDateTime": created,
                        "servingStatus": serving,
                    });
                }
                v
            })
        })
        .collect();

    let context = paging::context(&[&caller.identity(), &body_without_paging(&body)]);
    let offset = match body.get("nextToken").and_then(Value::as_str) {
        Some(t) => match paging::decode(t, now, TOKEN_LIFETIME, context) {
            Ok(o) => o,
            Err(e) => return invalid(&e.to_string()),
        },
        None => 0,
    };
    let total = matching.len();
    let end = (offset + max).min(total);
    let page: Vec<Value> = matching
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .collect();
    let mut out = json!({ "campaigns": page, "totalResults": total });
    if end < total {
        out["nextToken"] = json!(paging::encode(end, now, context));
    }
    vnd_json(StatusCode::OK, SP_CAMPAIGN, &out)
}

/// The request's filters as a stable string (what a token is bound to).
fn body_without_paging(body: &Value) -> String {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("nextToken");
        o.remove("maxResults");
    }
    b.to_string()
}
