//! Sellers API v1 (`sellers.json`): `getMarketplaceParticipations`.
//!
//! The scenario's seller participates in each of its markets (one for a
//! single-marketplace scenario). This file
//! is the reference for the pattern in [`crate::spapi`].

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use crate::auth::SpCaller;
use crate::errors;
use crate::marketplaces;
use crate::ratelimit::limit;
use crate::server::AppState;

/// `GET /sellers/v1/marketplaceParticipations`.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/sellers/v1/marketplaceParticipations",
        get(get_marketplace_participations),
    )
}

/// `GetMarketplaceParticipationsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMarketplaceParticipationsResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Vec<MarketplaceParticipation>>,
}

/// `MarketplaceParticipation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceParticipation {
    pub marketplace: Marketplace,
    pub participation: Participation,
    pub store_name: String,
}

/// `Marketplace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Marketplace {
    pub id: String,
    pub name: String,
    pub country_code: String,
    pub default_currency_code: String,
    pub default_language_code: String,
    pub domain_name: String,
}

/// `Participation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Participation {
    pub is_participating: bool,
    pub has_suspended_listings: bool,
}

async fn get_marketplace_participations(
    State(state): State<AppState>,
    caller: SpCaller,
) -> Result<Response, Response> {
    let rate = limit(&state, "getMarketplaceParticipations", &caller.account)?;
    // The model: "`true` if the seller Listing Status is set to Inactive", an
    // account-wide switch (vacation mode), not a suppressed listing; the
    // scenario's seller is always active.
    let has_suspended_listings = false;
    // One participation per marketplace the seller sells in, in scenario order.
    let mut payload = Vec::new();
    for world in state.worlds.iter() {
        let seller = &world.scenario().seller;
        let Some(m) = marketplaces::by_id(&seller.marketplace_id) else {
            return Err(errors::sp_internal(&format!(
                "scenario marketplace {} is unknown",
                seller.marketplace_id
            )));
        };
        payload.push(MarketplaceParticipation {
            marketplace: Marketplace {
                id: m.id.to_owned(),
                name: m.name.to_owned(),
                country_code: m.country_code.to_owned(),
                default_currency_code: seller.currency.clone(),
                default_language_code: m.language.to_owned(),
                domain_name: m.domain_name.to_owned(),
            },
            participation: Participation {
                is_participating: true,
                has_suspended_listings,
            },
            store_name: seller.store_name.clone(),
        });
    }
    let body = GetMarketplaceParticipationsResponse {
        payload: Some(payload),
    };
    Ok(rate.json(&body))
}
