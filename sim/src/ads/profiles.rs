//! Profiles (`Profiles_prod_3p.yaml`): `GET /v2/profiles` (`listProfiles`)
//! and `GET /v2/profiles/{profileId}` (`getProfileById`). ClientId and Bearer
//! only, no scope. The sim's seller has one profile in its marketplace.
//!
//! Filters (REFERENCE §3): `profileTypeFilter` (comma list of seller, vendor,
//! agency), `validPaymentMethodFilter`, `accessLevel` (view|edit: the seller's
//! profile has both) and `apiProgram` (accepted, not narrowing).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::AdsClient;
use crate::errors::{self, AdsShape};
use crate::ratelimit::limit_ads;
use crate::server::AppState;
use crate::world::World;

/// The Profile object of the seller in one marketplace.
pub fn profile_json(world: &World) -> Value {
    let p = world.profile();
    // The Profiles spec spells the United Kingdom `UK`.
    let country = if p.country_code == "GB" {
        "UK".to_owned()
    } else {
        p.country_code
    };
    json!({
        "profileId": p.profile_id,
        "countryCode": country,
        "currencyCode": p.currency_code,
        "dailyBudget": crate::world::amount_json(p.daily_budget, world.currency_decimals()),
        "timezone": p.timezone,
        "accountInfo": {
            "marketplaceStringId": p.marketplace_string_id,
            "id": p.account_id,
            "type": p.account_type,
            "name": p.account_name,
            "validPaymentMethod": true,
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "profileTypeFilter")]
    profile_type_filter: Option<String>,
    #[serde(rename = "validPaymentMethodFilter")]
    valid_payment_method_filter: Option<String>,
    #[serde(rename = "accessLevel")]
    access_level: Option<String>,
}

fn bad_request(text: &str) -> Response {
    errors::ads(
        AdsShape::Generic,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
        text,
    )
}

/// `GET /v2/profiles`.
pub async fn list(
    State(state): State<AppState>,
    client: AdsClient,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(r) = limit_ads(
        &state,
        "listProfiles",
        &client.identity(),
        AdsShape::Generic,
    ) {
        return r;
    }
    let mut include = true;
    if let Some(types) = &q.profile_type_filter {
        let types: Vec<&str> = types.split(',').map(str::trim).collect();
        if let Some(bad) = types
            .iter()
            .find(|t| !["seller", "vendor", "agency"].contains(t))
        {
            return bad_request(&format!("Invalid profileTypeFilter value: {bad}"));
        }
        include &= types.contains(&"seller");
    }
    if let Some(v) = &q.valid_payment_method_filter {
        match v.as_str() {
            "true" => {}
            "false" => include = false,
            other => {
                return bad_request(&format!("Invalid validPaymentMethodFilter value: {other}"))
            }
        }
    }
    if let Some(level) = &q.access_level {
        if level != "view" && level != "edit" {
            return bad_request(&format!("Invalid accessLevel value: {level}"));
        }
    }
    let profiles = if include {
        // One profile per marketplace the seller sells in, in scenario order.
        state.worlds.iter().map(|w| profile_json(w)).collect()
    } else {
        Vec::new()
    };
    Json(Value::Array(profiles)).into_response()
}

/// `GET /v2/profiles/{profileId}`.
pub async fn get_one(
    State(state): State<AppState>,
    client: AdsClient,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = limit_ads(
        &state,
        "getProfileById",
        &client.identity(),
        AdsShape::Generic,
    ) {
        return r;
    }
    let Some(world) = id
        .parse::<i64>()
        .ok()
        .and_then(|id| state.worlds.by_profile(id))
    else {
        return errors::ads(
            AdsShape::Generic,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Profile not found",
        );
    };
    Json(profile_json(world)).into_response()
}
