//! SP-API operations, one file per API, each written from its model in
//! `shared/amazon/sp-api/models/`.
//!
//! # The pattern every operation follows
//!
//! 1. **Route**: the model's method and path, in the file's `routes()`,
//!    merged below.
//! 2. **Auth**: take [`SpCaller`](crate::auth::SpCaller) as an extractor; a
//!    missing, unknown or expired `x-amz-access-token` never reaches the
//!    handler (403 `Unauthorized`, no token charged).
//! 3. **Limit**: `let rate = limit(&state, "<operationId>", &caller.account)?;`
//!    — the operation's row in [`OPERATION_LIMITS`](crate::ratelimit::OPERATION_LIMITS)
//!    (add one for a new operation); an empty bucket returns 429
//!    `QuotaExceeded` without a rate header.
//! 4. **Validate** parameters as the model says (required, enums, maxima) and
//!    answer 400 `InvalidInput` with `rate.apply(errors::sp_invalid_input(..))`
//!    (the models put the rate header on 400 and 404 too).
//! 5. **Query the world** of the request's marketplace (`state.world_of(id)`; Ads:
//!    `state.ads_world(profile)`) at sim time (`state.clock.now()`).
//! 6. **Serialize structs named after the model's definitions**, fields in
//!    camelCase, optional fields `skip_serializing_if = "Option::is_none"`,
//!    never a field the model does not define (tests validate strictly).
//! 7. **Header**: `Ok(rate.json(&body))` adds `x-amzn-RateLimit-Limit`.
//!
//! ```ignore
//! async fn get_marketplace_participations(
//!     State(state): State<AppState>,
//!     caller: SpCaller,
//! ) -> Result<Response, Response> {
//!     let rate = limit(&state, "getMarketplaceParticipations", &caller.account)?;
//!     let body = GetMarketplaceParticipationsResponse { payload: Some(..), errors: None };
//!     Ok(rate.json(&body))
//! }
//! ```
//!
//! Pagination tokens must expire on sim time with the model's documented
//! lifetime ([`paging`] does that), and every list operation's test asserts
//! the page is not empty.

pub mod catalog;
pub mod customer_feedback;
pub mod fees;
pub mod inventory;
pub mod listings;
pub mod orders;
pub mod paging;
pub mod pricing;
pub mod sellers;

use axum::Router;

use crate::server::AppState;

/// Every SP-API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(sellers::routes())
        .merge(orders::routes())
        .merge(inventory::routes())
        .merge(catalog::routes())
        .merge(fees::routes())
        .merge(pricing::routes())
        .merge(listings::routes())
        .merge(customer_feedback::routes())
}
