//! Product Fees API v0 (`productFeesV0.json`): `getMyFeesEstimates` (batch),
//! `getMyFeesEstimateForSKU` and `getMyFeesEstimateForASIN`.
//!
//! Fees come from the world's [`fee_estimate`](crate::world::World::fee_estimate)
//! at the requested price (listing price + shipping, which is what the
//! referral fee is charged on). The FBA fulfilment fee applies only when the
//! request says `IsAmazonFulfilled` (default: the product's own channel); for
//! an FBM product estimated as FBA it is the scenario's default FBA fee
//! formula (3.22 + 5 % of the listing price). Fee details use Amazon's fee
//! types: `ReferralFee`, `VariableClosingFee`, `PerItemFee` (0: a
//! Professional seller) and `FBAFees` (with `FBAPerUnitFulfillmentFee`).
//!
//! Errors, as the model's sandbox examples show: a marketplace id that does
//! not exist fails the whole request with 400 `InvalidInput` ("Incorrect
//! Marketplace identifier."); an item the seller does not have, in a
//! marketplace it does not sell in, or priced in another currency gets a
//! per-item `ClientError` result in a 200. A batch holds 1 to 20 requests
//! (Amazon's documentation; the model sets no bound).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::SpCaller;
use crate::marketplaces;
use crate::ratelimit::{limit, RateInfo};
use crate::server::AppState;
use crate::spapi::orders::{invalid, rfc3339};
use crate::world::World;

/// Most requests in one `getMyFeesEstimates` batch.
pub const MAX_BATCH: usize = 20;

/// The three fee-estimate routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/products/fees/v0/feesEstimate",
            post(get_my_fees_estimates),
        )
        .route(
            "/products/fees/v0/listings/{seller_sku}/feesEstimate",
            post(get_my_fees_estimate_for_sku),
        )
        .route(
            "/products/fees/v0/items/{asin}/feesEstimate",
            post(get_my_fees_estimate_for_asin),
        )
}

// ---------------------------------------------------------------------------
// Model definitions (PascalCase on the wire, as the model writes them)

/// `MoneyType`. Serialized with the currency's decimals (a whole number for JPY).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MoneyType {
    pub currency_code: Option<String>,
    pub amount: Option<f64>,
}

impl Serialize for MoneyType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(c) = &self.currency_code {
            m.serialize_entry("CurrencyCode", c)?;
        }
        if let Some(a) = self.amount {
            let decimals = self
                .currency_code
                .as_deref()
                .map_or(2, crate::world::currency_decimals);
            m.serialize_entry("Amount", &crate::world::amount_json(a, decimals))?;
        }
        m.end()
    }
}

impl MoneyType {
    fn new(amount: f64, currency: &str) -> MoneyType {
        MoneyType {
            currency_code: Some(currency.to_owned()),
            amount: Some(crate::world::round_money(
                amount,
                crate::world::currency_decimals(currency),
            )),
        }
    }
}

/// `Points`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Points {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_number: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points_monetary_value: Option<MoneyType>,
}

/// `PriceToEstimateFees`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PriceToEstimateFees {
    pub listing_price: MoneyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<MoneyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<Points>,
}

/// `FeesEstimateRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeesEstimateRequest {
    pub marketplace_id: Option<String>,
    pub is_amazon_fulfilled: Option<bool>,
    pub price_to_estimate_fees: Option<PriceToEstimateFees>,
    pub identifier: Option<String>,
    pub optional_fulfillment_program: Option<String>,
}

/// `GetMyFeesEstimateRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMyFeesEstimateRequest {
    pub fees_estimate_request: Option<FeesEstimateRequest>,
}

/// `FeesEstimateByIdRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeesEstimateByIdRequest {
    pub fees_estimate_request: Option<FeesEstimateRequest>,
    pub id_type: Option<String>,
    pub id_value: Option<String>,
}

/// `FeesEstimateIdentifier`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeesEstimateIdentifier {
    pub marketplace_id: String,
    pub seller_id: String,
    pub id_type: String,
    pub id_value: String,
    pub is_amazon_fulfilled: bool,
    pub price_to_estimate_fees: PriceToEstimateFees,
    pub seller_input_identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional_fulfillment_program: Option<String>,
}

/// `FeeDetail` (and `IncludedFeeDetail`, which has the same fields minus the
/// nested list).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeeDetail {
    pub fee_type: String,
    pub fee_amount: MoneyType,
    pub fee_promotion: MoneyType,
    pub tax_amount: MoneyType,
    pub final_fee: MoneyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included_fee_detail_list: Option<Vec<IncludedFeeDetail>>,
}

/// `IncludedFeeDetail`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IncludedFeeDetail {
    pub fee_type: String,
    pub fee_amount: MoneyType,
    pub fee_promotion: MoneyType,
    pub tax_amount: MoneyType,
    pub final_fee: MoneyType,
}

/// `FeesEstimate`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeesEstimate {
    pub time_of_fees_estimation: String,
    pub total_fees_estimate: MoneyType,
    pub fee_detail_list: Vec<FeeDetail>,
}

/// `FeesEstimateError`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeesEstimateError {
    #[serde(rename = "Type")]
    pub kind: String,
    pub code: String,
    pub message: String,
    pub detail: Vec<serde_json::Value>,
}

/// `FeesEstimateResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeesEstimateResult {
    pub status: String,
    pub fees_estimate_identifier: FeesEstimateIdentifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees_estimate: Option<FeesEstimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FeesEstimateError>,
}

/// `GetMyFeesEstimateResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetMyFeesEstimateResult {
    pub fees_estimate_result: FeesEstimateResult,
}

/// `GetMyFeesEstimateResponse`.
#[derive(Debug, Serialize)]
pub struct GetMyFeesEstimateResponse {
    pub payload: GetMyFeesEstimateResult,
}

// ---------------------------------------------------------------------------
// Estimating

/// A request checked for the fields the model requires; `Err` is the 400
/// message.
fn check(req: Option<&FeesEstimateRequest>) -> Result<(&FeesEstimateRequest, String), String> {
    let Some(r) = req else {
        return Err("FeesEstimateRequest is required.".into());
    };
    let Some(m) = r.marketplace_id.as_deref() else {
        return Err("MarketplaceId is required.".into());
    };
    if marketplaces::by_id(m).is_none() {
        return Err("Incorrect Marketplace identifier.".into());
    }
    let Some(p) = &r.price_to_estimate_fees else {
        return Err("PriceToEstimateFees is required.".into());
    };
    if p.listing_price.amount.is_none() || p.listing_price.currency_code.is_none() {
        return Err("PriceToEstimateFees.ListingPrice needs Amount and CurrencyCode.".into());
    }
    if r.identifier.is_none() {
        return Err("Identifier is required.".into());
    }
    if let Some(f) = &r.optional_fulfillment_program {
        if !["FBA_CORE", "FBA_SNL", "FBA_EFN"].contains(&f.as_str()) {
            return Err(format!("Invalid OptionalFulfillmentProgram '{f}'."));
        }
    }
    Ok((r, m.to_owned()))
}

/// The estimate of one checked request for an item named by `id_type`
/// (`ASIN` or `SellerSKU`) and `id_value`.
fn estimate(
    world: &World,
    now: DateTime<Utc>,
    r: &FeesEstimateRequest,
    marketplace_id: &str,
    id_type: &str,
    id_value: &str,
) -> FeesEstimateResult {
    let seller = &world.scenario().seller;
    let price = r.price_to_estimate_fees.clone().expect("checked");
    let currency = price
        .listing_price
        .currency_code
        .clone()
        .unwrap_or_default();
    let product = match id_type {
        "ASIN" => world.asin_idx(id_value),
        _ => world.sku_idx(id_value),
    }
    .map(|j| &world.products()[j]);
    let afn = r
        .is_amazon_fulfilled
        .unwrap_or_else(|| product.is_some_and(|p| p.is_fba()));
    let identifier = FeesEstimateIdentifier {
        marketplace_id: marketplace_id.to_owned(),
        seller_id: seller.seller_id.clone(),
        id_type: id_type.to_owned(),
        id_value: id_value.to_owned(),
        is_amazon_fulfilled: afn,
        price_to_estimate_fees: price.clone(),
        seller_input_identifier: r.identifier.clone().unwrap_or_default(),
        optional_fulfillment_program: r.optional_fulfillment_program.clone(),
    };
    let client_error = |message: &str, identifier| FeesEstimateResult {
        status: "ClientError".into(),
        fees_estimate_identifier: identifier,
        fees_estimate: None,
        error: Some(FeesEstimateError {
            kind: "Sender".into(),
            code: "InvalidParameterValue".into(),
            message: message.to_owned(),
            detail: Vec::new(),
        }),
    };
    if marketplace_id != seller.marketplace_id {
        return client_error(
            "The seller is not registered in the requested marketplace.",
            identifier,
        );
    }
    let Some(p) = product else {
        return client_error(
            &format!("The item for {id_type} {id_value} is not found."),
            identifier,
        );
    };
    if currency != seller.currency
        || price
            .shipping
            .as_ref()
            .and_then(|s| s.currency_code.as_deref())
            .is_some_and(|c| c != seller.currency)
    {
        return client_error(
            &format!(
                "The currency must be {} in this marketplace.",
                seller.currency
            ),
            identifier,
        );
    }
    let listing = price.listing_price.amount.unwrap_or(0.0);
    let shipping = price
        .shipping
        .as_ref()
        .and_then(|s| s.amount)
        .unwrap_or(0.0);
    let Some(est) = world.fee_estimate(&p.sku, Some(listing + shipping), now) else {
        return client_error("The item is not found.", identifier);
    };
    let fba_fee = match (afn, est.fba_fee > 0.0) {
        (false, _) => 0.0,
        (true, true) => est.fba_fee,
        (true, false) => world.money(3.22 + 0.05 * listing),
    };
    let cur = seller.currency.as_str();
    let detail = |kind: &str, amount: f64| FeeDetail {
        fee_type: kind.into(),
        fee_amount: MoneyType::new(amount, cur),
        fee_promotion: MoneyType::new(0.0, cur),
        tax_amount: MoneyType::new(0.0, cur),
        final_fee: MoneyType::new(amount, cur),
        included_fee_detail_list: None,
    };
    let mut details = vec![
        detail("ReferralFee", est.referral_fee),
        detail("VariableClosingFee", est.variable_closing_fee),
        detail("PerItemFee", 0.0),
    ];
    if afn {
        let mut fba = detail("FBAFees", fba_fee);
        fba.included_fee_detail_list = Some(vec![IncludedFeeDetail {
            fee_type: "FBAPerUnitFulfillmentFee".into(),
            fee_amount: MoneyType::new(fba_fee, cur),
            fee_promotion: MoneyType::new(0.0, cur),
            tax_amount: MoneyType::new(0.0, cur),
            final_fee: MoneyType::new(fba_fee, cur),
        }]);
        details.push(fba);
    }
    FeesEstimateResult {
        status: "Success".into(),
        fees_estimate_identifier: identifier,
        fees_estimate: Some(FeesEstimate {
            time_of_fees_estimation: rfc3339(now),
            total_fees_estimate: MoneyType::new(
                est.referral_fee + est.variable_closing_fee + fba_fee,
                cur,
            ),
            fee_detail_list: details,
        }),
        error: None,
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    rate: &RateInfo,
    body: &Bytes,
) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        invalid(
            rate,
            &format!("The request body is not valid JSON for this operation: {e}"),
        )
    })
}

async fn get_my_fees_estimates(
    State(state): State<AppState>,
    caller: SpCaller,
    body: Bytes,
) -> Result<Response, Response> {
    let rate = limit(&state, "getMyFeesEstimates", &caller.account)?;
    let now = state.clock.now();
    let reqs: Vec<FeesEstimateByIdRequest> = parse_json(&rate, &body)?;
    if reqs.is_empty() || reqs.len() > MAX_BATCH {
        return Err(invalid(
            &rate,
            "The request must hold 1 to 20 fee estimate requests.",
        ));
    }
    let mut checked = Vec::with_capacity(reqs.len());
    for r in &reqs {
        let (fr, m) = check(r.fees_estimate_request.as_ref()).map_err(|e| invalid(&rate, &e))?;
        let id_type = match r.id_type.as_deref() {
            Some(t @ ("ASIN" | "SellerSKU")) => t,
            Some(t) => return Err(invalid(&rate, &format!("Invalid IdType '{t}'."))),
            None => return Err(invalid(&rate, "IdType is required.")),
        };
        let Some(id_value) = r.id_value.as_deref() else {
            return Err(invalid(&rate, "IdValue is required."));
        };
        checked.push((fr, m, id_type, id_value));
    }
    let results: Vec<FeesEstimateResult> = checked
        .into_iter()
        .map(|(fr, m, t, v)| estimate(state.world_of(&m), now, fr, &m, t, v))
        .collect();
    Ok(rate.json(&results))
}

async fn single(
    state: AppState,
    caller: SpCaller,
    operation: &str,
    id_type: &str,
    id_value: String,
    body: Bytes,
) -> Result<Response, Response> {
    let rate = limit(&state, operation, &caller.account)?;
    let now = state.clock.now();
    let req: GetMyFeesEstimateRequest = parse_json(&rate, &body)?;
    let (fr, m) = check(req.fees_estimate_request.as_ref()).map_err(|e| invalid(&rate, &e))?;
    let body = GetMyFeesEstimateResponse {
        payload: GetMyFeesEstimateResult {
            fees_estimate_result: estimate(state.world_of(&m), now, fr, &m, id_type, &id_value),
        },
    };
    Ok(rate.json(&body))
}

async fn get_my_fees_estimate_for_sku(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(seller_sku): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    single(
        state,
        caller,
        "getMyFeesEstimateForSKU",
        "SellerSKU",
        seller_sku,
        body,
    )
    .await
}

async fn get_my_fees_estimate_for_asin(
    State(state): State<AppState>,
    caller: SpCaller,
    Path(asin): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    single(
        state,
        caller,
        "getMyFeesEstimateForASIN",
        "ASIN",
        asin,
        body,
    )
    .await
}
