//! Job `fees`: Product Fees v0 `getMyFeesEstimates` (productFeesV0.json),
//! the batch operation (20 estimates a call, 0.5 requests/s), for the
//! seller's current listings at their current offer price (from the
//! listings job; the pricing job's "our price" when no listing has one yet),
//! by `SellerSKU`, FBA or FBM as the listing is. Stores the total, referral,
//! FBA and variable closing fees per SKU and price.

use serde_json::{json, Value};

use super::api_util::{call_json, marketplaces, num, sp_endpoint};
use super::{Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::model::marketplace::Marketplace;
use crate::store::listings as listing_store;
use crate::store::ops::ts;
use crate::store::pricing::{self, FeeRow};

const JOB: &str = "fees";
const OPERATION: &str = "getMyFeesEstimates";
const PATH: &str = "/products/fees/v0/feesEstimate";
/// Estimates per batch (Amazon's documented maximum).
const BATCH: usize = 20;

/// What to estimate: a SKU at a price.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub sku: String,
    pub price: f64,
    pub currency: String,
    pub is_fba: bool,
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let ep = sp_endpoint(ctx)?;
    let mut written = 0;
    let (mut estimated, mut asked) = (0, 0);
    for m in marketplaces(ctx) {
        let asks = ctx.with_db(|c| {
            let mut asks: Vec<Ask> = listing_store::priced_skus(c, &ctx.account.name, m.id)?
                .into_iter()
                .map(|p| Ask {
                    sku: p.sku,
                    price: p.price,
                    currency: p.currency,
                    is_fba: p.is_fba,
                })
                .collect();
            if asks.is_empty() {
                for (sku, asin, is_fba) in
                    listing_store::products_with_asin(c, &ctx.account.name, m.id)?
                {
                    if let Some((price, currency)) =
                        pricing::latest_our_price(c, &ctx.account.name, m.id, &asin)?
                    {
                        asks.push(Ask {
                            sku,
                            price,
                            currency,
                            is_fba,
                        });
                    }
                }
            }
            Ok(asks)
        })?;
        if asks.is_empty() {
            continue;
        }
        asked += asks.len();
        let mut rows = Vec::new();
        let mut retry = Vec::new();
        for batch in asks.chunks(BATCH) {
            let (got, again) = fetch(ctx, &ep, m, batch).await?;
            rows.extend(got);
            retry.extend(again);
        }
        for batch in retry.chunks(BATCH) {
            rows.extend(fetch(ctx, &ep, m, batch).await?.0);
        }
        estimated += rows.len();
        let cursor =
            json!({ "last_run_at": ts(ctx.now), "skus": asks.len(), "estimated": rows.len() });
        written +=
            ctx.with_db(|c| pricing::write_fees(c, &ctx.cursor_write(JOB, m, &cursor), &rows))?;
    }
    Ok(JobReport {
        rows: written,
        note: if asked == 0 {
            "no priced listing yet (run the listings job first)".into()
        } else {
            format!("{estimated} of {asked} SKUs estimated")
        },
    })
}

/// One batch: the estimates that succeeded, and the asks to try again
/// (a per-item `ServiceError`).
async fn fetch(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    asks: &[Ask],
) -> Result<(Vec<FeeRow>, Vec<Ask>), JobError> {
    let body = request_body(m.id, asks);
    let spec = CallSpec::post_json(OPERATION, PATH, &body, "application/json");
    let answer: Value = call_json(ctx, ep, &spec).await?.unwrap_or(Value::Null);
    let (rows, again) = parse_estimates(&answer, asks);
    let again = asks
        .iter()
        .filter(|a| again.contains(&a.sku))
        .cloned()
        .collect();
    Ok((rows, again))
}

/// `GetMyFeesEstimatesRequest`: an array of `FeesEstimateByIdRequest`.
pub fn request_body(marketplace_id: &str, asks: &[Ask]) -> Value {
    Value::Array(
        asks.iter()
            .map(|a| {
                json!({
                    "FeesEstimateRequest": {
                        "MarketplaceId": marketplace_id,
                        "IsAmazonFulfilled": a.is_fba,
                        "PriceToEstimateFees": {
                            "ListingPrice": {"CurrencyCode": a.currency, "Amount": a.price},
                        },
                        "Identifier": a.sku,
                    },
                    "IdType": "SellerSKU",
                    "IdValue": a.sku,
                })
            })
            .collect(),
    )
}

/// Parses a `GetMyFeesEstimatesResponse` (an array of `FeesEstimateResult`;
/// pure): rows for `Success` results, matched to the asks by SKU, and the
/// SKUs whose result was a `ServiceError` (worth asking again).
pub fn parse_estimates(body: &Value, asks: &[Ask]) -> (Vec<FeeRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut again = Vec::new();
    for r in body.as_array().into_iter().flatten() {
        let id = r.get("FeesEstimateIdentifier").unwrap_or(&Value::Null);
        let sku = id
            .get("IdValue")
            .or_else(|| id.get("SellerInputIdentifier"))
            .and_then(Value::as_str);
        let Some(ask) = sku.and_then(|s| asks.iter().find(|a| a.sku == s)) else {
            continue;
        };
        let status = r.get("Status").and_then(Value::as_str).unwrap_or("");
        if !status.eq_ignore_ascii_case("success") {
            let kind = r.pointer("/Error/Type").and_then(Value::as_str);
            if status.eq_ignore_ascii_case("serviceerror") || kind == Some("Receiver") {
                again.push(ask.sku.clone());
            }
            continue;
        }
        let est = r.get("FeesEstimate").unwrap_or(&Value::Null);
        let details: Vec<Value> = est
            .get("FeeDetailList")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let fee = |kind: &str| {
            details
                .iter()
                .find(|d| d.get("FeeType").and_then(Value::as_str) == Some(kind))
                .and_then(|d| {
                    num(d.pointer("/FinalFee/Amount")).or(num(d.pointer("/FeeAmount/Amount")))
                })
        };
        rows.push(FeeRow {
            sku: ask.sku.clone(),
            price: ask.price,
            currency: est
                .pointer("/TotalFeesEstimate/CurrencyCode")
                .and_then(Value::as_str)
                .unwrap_or(&ask.currency)
                .to_string(),
            is_amazon_fulfilled: id
                .get("IsAmazonFulfilled")
                .and_then(Value::as_bool)
                .unwrap_or(ask.is_fba),
            total_fees: num(est.pointer("/TotalFeesEstimate/Amount")),
            referral_fee: fee("ReferralFee"),
            fba_fee: fee("FBAFees"),
            variable_closing_fee: fee("VariableClosingFee"),
            fee_detail_json: Value::Array(details).to_string(),
        });
    }
    (rows, again)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fees_by_type_and_keeps_service_errors_for_later() {
        let asks = vec![
            Ask {
                sku: "A".into(),
                price: 24.99,
                currency: "USD".into(),
                is_fba: true,
            },
            Ask {
                sku: "B".into(),
                price: 9.5,
                currency: "USD".into(),
                is_fba: false,
            },
            Ask {
                sku: "C".into(),
                price: 5.0,
                currency: "USD".into(),
                is_fba: false,
            },
        ];
        let body = request_body("ATVPDKIKX0DER", &asks);
        assert_eq!(body[0]["IdType"], "SellerSKU");
        assert_eq!(
            body[0]["FeesEstimateRequest"]["PriceToEstimateFees"]["ListingPrice"]["Amount"],
            24.99
        );
        let answer = json!([
            {"Status": "Success",
             "FeesEstimateIdentifier": {"IdType": "SellerSKU", "IdValue": "A", "IsAmazonFulfilled": true},
             "FeesEstimate": {"TimeOfFeesEstimation": "2026-03-02T16:00:00Z",
                "TotalFeesEstimate": {"CurrencyCode": "USD", "Amount": 8.97},
                "FeeDetailList": [
                    {"FeeType": "ReferralFee", "FeeAmount": {"CurrencyCode": "USD", "Amount": 3.75},
                     "FinalFee": {"CurrencyCode": "USD", "Amount": 3.75}},
                    {"FeeType": "FBAFees", "FeeAmount": {"CurrencyCode": "USD", "Amount": 5.22},
                     "FinalFee": {"CurrencyCode": "USD", "Amount": 5.22}}]}},
            {"Status": "ClientError", "FeesEstimateIdentifier": {"IdValue": "B"},
             "Error": {"Type": "Sender", "Code": "InvalidParameterValue", "Message": "x", "Detail": []}},
            {"Status": "ServiceError", "FeesEstimateIdentifier": {"IdValue": "C"},
             "Error": {"Type": "Receiver", "Code": "InternalError", "Message": "x", "Detail": []}}
        ]);
        let (rows, again) = parse_estimates(&answer, &asks);
        assert_eq!(again, vec!["C".to_string()]);
        assert_eq!(rows.len(), 1);
        let a = &rows[0];
        assert_eq!(
            (a.total_fees, a.referral_fee, a.fba_fee),
            (Some(8.97), Some(3.75), Some(5.22))
        );
        assert_eq!(
            (a.variable_closing_fee, a.price, a.is_amazon_fulfilled),
            (None, 24.99, true)
        );
    }
}
