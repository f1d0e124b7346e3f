//! Product Pricing API 2022-05-01 (`productPricing_2022-05-01.json`):
//! `getCompetitiveSummary`.
//!
//! A batch of 1–20 requests, each answered separately with its own HTTP
//! status line and body, from the world's competitive summary of the ASIN at
//! sim time: the featured offer (buy box) per customer segment, the lowest
//! priced offers per requested condition, reference prices and similar items
//! (the seller's other ASINs in the same browse node).
//!
//! Decisions where the model is silent:
//! - A malformed ASIN gets a per-request 400 `INVALID_ASIN` (the model's
//!   sandbox fixture). When *every* request of the batch is malformed the
//!   whole batch is answered 400 with those errors (the model's 400 fixture is
//!   exactly that batch; its 200 fixture mixes a good and a bad request).
//! - A well-formed ASIN the world does not know (or a marketplace the seller
//!   does not sell in) gets a per-request 404 `NOT_FOUND`.
//! - Segments: the featured-offer winner holds the `PRIME` segment with its
//!   glance-view share; the runner-up (we, or the best other new offer) holds
//!   `NON_PRIME` with the rest, so a client summing our segments' weights gets
//!   the world's featured-offer share. From 2025-08-06 (sim time) Amazon also
//!   sends `DEFAULT`, "customers whose Prime membership status is unknown"
//!   (changelog "Enum value changes for the getCompetitiveSummary
//!   operation"): the winner's share is then split, [`DEFAULT_SHARE`] of it
//!   in a `DEFAULT` segment and the rest in `PRIME`.
//! - Reference prices (changelog "Product Pricing API v2022-05-01 returns new
//!   competitive price and deprecates CompetitivePriceThreshold"):
//!   `CompetitivePrice`, the lowest price of an equivalent item at another
//!   reputable retailer, exists from 2025-06-25 in every marketplace but JP;
//!   `CompetitivePriceThreshold` is returned only in JP from 2025-09-30.
//!   Both carry the world's outside price (`competitive_price_threshold`);
//!   `WasPrice` is always there.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::auth::SpCaller;
use crate::errors;
use crate::marketplaces;
use crate::ratelimit::limit;
use crate::server::AppState;
use crate::world::{CompetitiveSummary, Offer as WorldOffer};

/// The batch path.
pub const PATH: &str = "/batches/products/pricing/2022-05-01/items/competitiveSummary";
/// The `uri` every individual request must carry.
pub const ITEM_URI: &str = "/products/pricing/2022-05-01/items/competitiveSummary";

const INCLUDED_DATA: [&str; 4] = [
    "featuredBuyingOptions",
    "referencePrices",
    "lowestPricedOffers",
    "similarItems",
];
const CONDITIONS: [&str; 5] = ["New", "Used", "Collectible", "Refurbished", "Club"];

/// Japan, where `CompetitivePriceThreshold` stays and `CompetitivePrice`
/// never came.
const JP: &str = "A1VC38T7YXB528";
/// `CompetitivePrice` is returned from this day on (outside JP).
const COMPETITIVE_PRICE_FROM: (i32, u32, u32) = (2025, 6, 25);
/// `CompetitivePriceThreshold` is no longer returned outside JP from this day.
const THRESHOLD_UNTIL: (i32, u32, u32) = (2025, 9, 30);
/// `customerMembership` `DEFAULT` is sent from this day on.
const DEFAULT_MEMBERSHIP_FROM: (i32, u32, u32) = (2025, 8, 6);
/// The part of the winner's glance-view share in its `DEFAULT` segment.
pub const DEFAULT_SHARE: f64 = 0.1;

/// Whether `now` is on or after the (UTC) day `ymd`.
fn since(now: chrono::DateTime<chrono::Utc>, (y, m, d): (i32, u32, u32)) -> bool {
    chrono::NaiveDate::from_ymd_opt(y, m, d).is_some_and(|day| now.date_naive() >= day)
}

/// `POST /batches/products/pricing/2022-05-01/items/competitiveSummary`.
pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, post(get_competitive_summary))
}

/// `CompetitiveSummaryBatchResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompetitiveSummaryBatchResponse {
    pub responses: Vec<CompetitiveSummaryResponse>,
}

/// `CompetitiveSummaryResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompetitiveSummaryResponse {
    pub status: HttpStatusLine,
    pub body: CompetitiveSummaryResponseBody,
}

/// `HttpStatusLine`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpStatusLine {
    pub status_code: u16,
    pub reason_phrase: String,
}

/// `CompetitiveSummaryResponseBody`.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CompetitiveSummaryResponseBody {
    pub asin: String,
    pub marketplace_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured_buying_options: Option<Vec<FeaturedBuyingOption>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lowest_priced_offers: Option<Vec<LowestPricedOffer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_prices: Option<Vec<ReferencePrice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar_items: Option<Vec<SimilarItems>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Error>>,
}

/// `Error`.
#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    pub code: String,
    pub message: String,
}

/// `FeaturedBuyingOption`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeaturedBuyingOption {
    /// Only `New` in the model.
    pub buying_option_type: String,
    pub segmented_featured_offers: Vec<SegmentedFeaturedOffer>,
}

/// `SegmentedFeaturedOffer` (`Offer` + `featuredOfferSegments`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentedFeaturedOffer {
    #[serde(flatten)]
    pub offer: Offer,
    pub featured_offer_segments: Vec<FeaturedOfferSegment>,
}

/// `Offer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub seller_id: String,
    pub condition: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_condition: Option<String>,
    pub fulfillment_type: String,
    pub listing_price: MoneyType,
    pub shipping_options: Vec<ShippingOption>,
    pub prime_details: PrimeDetails,
}

/// `MoneyType`. Serialized with the currency's decimals (a whole number for JPY).
#[derive(Debug)]
pub struct MoneyType {
    pub currency_code: String,
    pub amount: f64,
}

impl Serialize for MoneyType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let decimals = crate::world::currency_decimals(&self.currency_code);
        let mut st = s.serialize_struct("MoneyType", 2)?;
        st.serialize_field("currencyCode", &self.currency_code)?;
        st.serialize_field("amount", &crate::world::amount_json(self.amount, decimals))?;
        st.end()
    }
}

/// `ShippingOption`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingOption {
    pub shipping_option_type: String,
    pub price: MoneyType,
}

/// `PrimeDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrimeDetails {
    pub eligibility: String,
}

/// `FeaturedOfferSegment`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeaturedOfferSegment {
    pub customer_membership: String,
    pub segment_details: SegmentDetails,
}

/// `SegmentDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentDetails {
    pub glance_view_weight_percentage: f64,
}

/// `LowestPricedOffer`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LowestPricedOffer {
    pub lowest_priced_offers_input: LowestPricedOffersInput,
    pub offers: Vec<Offer>,
}

/// `LowestPricedOffersInput`.
#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LowestPricedOffersInput {
    pub item_condition: String,
    pub offer_type: String,
}

/// `ReferencePrice`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferencePrice {
    pub name: String,
    pub price: MoneyType,
}

/// `SimilarItems`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimilarItems {
    pub items: Vec<Item>,
}

/// `Item`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub asin: String,
}

/// One validated `CompetitiveSummaryRequest`.
#[derive(Debug, Clone, PartialEq)]
struct ItemRequest {
    asin: String,
    marketplace_id: String,
    included: Vec<String>,
    lowest_inputs: Vec<LowestPricedOffersInput>,
}

/// A well-formed ASIN: ten upper-case letters or digits.
pub fn is_asin(s: &str) -> bool {
    s.len() == 10
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

async fn get_competitive_summary(
    State(state): State<AppState>,
    caller: SpCaller,
    body: Bytes,
) -> Result<Response, Response> {
    let rate = limit(&state, "getCompetitiveSummary", &caller.account)?;
    let bad = |m: &str| rate.apply(errors::sp_invalid_input(m));
    let requests = parse_batch(&body).map_err(|m| bad(&m))?;
    let now = state.clock.now();
    let responses: Vec<CompetitiveSummaryResponse> = requests
        .iter()
        .map(|r| match r {
            Ok(req) => answer(&state, req, now),
            Err((asin, marketplace_id, error)) => CompetitiveSummaryResponse {
                status: status_line(StatusCode::BAD_REQUEST),
                body: CompetitiveSummaryResponseBody {
                    asin: asin.clone(),
                    marketplace_id: marketplace_id.clone(),
                    errors: Some(vec![error.clone()]),
                    ..Default::default()
                },
            },
        })
        .collect();
    if requests.iter().all(Result::is_err) {
        let errors: Vec<Error> = requests
            .into_iter()
            .filter_map(Result::err)
            .map(|(_, _, e)| e)
            .collect();
        let body = serde_json::json!({ "errors": errors });
        return Ok(rate.apply((StatusCode::BAD_REQUEST, Json(body)).into_response()));
    }
    Ok(rate.json(&CompetitiveSummaryBatchResponse { responses }))
}

type Parsed = Result<ItemRequest, (String, String, Error)>;

/// The batch body: a top-level error message, or each request validated on
/// its own (a field-level problem fails only that request).
fn parse_batch(body: &[u8]) -> Result<Vec<Parsed>, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}"))?;
    let Some(list) = v.get("requests").and_then(Value::as_array) else {
        return Err("Missing required field 'requests'.".into());
    };
    if list.is_empty() || list.len() > 20 {
        return Err(format!(
            "'requests' must hold between 1 and 20 requests; it holds {}.",
            list.len()
        ));
    }
    list.iter().map(parse_request).collect()
}

fn parse_request(r: &Value) -> Result<Parsed, String> {
    let field = |name: &str| -> Result<&str, String> {
        r.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Missing or invalid required field '{name}' in a request."))
    };
    let asin = field("asin")?.to_owned();
    let marketplace_id = field("marketplaceId")?.to_owned();
    let method = field("method")?;
    let uri = field("uri")?;
    let Some(included) = r.get("includedData").and_then(Value::as_array) else {
        return Err("Missing or invalid required field 'includedData' in a request.".into());
    };
    let fail = |code: &str, message: String| {
        Ok(Err((
            asin.clone(),
            marketplace_id.clone(),
            Error {
                code: code.into(),
                message,
            },
        )))
    };
    if method != "GET" {
        return fail(
            "InvalidInput",
            format!("Invalid method {method}; getCompetitiveSummary requests use GET."),
        );
    }
    if uri != ITEM_URI {
        return fail(
            "InvalidInput",
            format!("Invalid uri {uri}; expected {ITEM_URI}."),
        );
    }
    if included.is_empty() {
        return fail(
            "InvalidInput",
            "'includedData' must name at least one data set.".into(),
        );
    }
    let mut inc = Vec::new();
    for d in included {
        match d.as_str() {
            Some(s) if INCLUDED_DATA.contains(&s) => {
                if !inc.iter().any(|x: &String| x == s) {
                    inc.push(s.to_owned());
                }
            }
            _ => return fail("InvalidInput", format!("Invalid includedData value {d}.")),
        }
    }
    let mut lowest_inputs = Vec::new();
    if let Some(inputs) = r.get("lowestPricedOffersInputs") {
        let Some(inputs) = inputs.as_array() else {
            return fail(
                "InvalidInput",
                "'lowestPricedOffersInputs' must be an array.".into(),
            );
        };
        if inputs.len() > 5 {
            return fail(
                "InvalidInput",
                "'lowestPricedOffersInputs' holds at most 5 inputs.".into(),
            );
        }
        for i in inputs {
            let cond = i.get("itemCondition").and_then(Value::as_str);
            let kind = i.get("offerType").and_then(Value::as_str);
            match (cond, kind) {
                (Some(c), Some("Consumer")) if CONDITIONS.contains(&c) => {
                    lowest_inputs.push(LowestPricedOffersInput {
                        item_condition: c.into(),
                        offer_type: "Consumer".into(),
                    })
                }
                _ => {
                    return fail(
                        "InvalidInput",
                        format!("Invalid lowestPricedOffersInput {i}."),
                    )
                }
            }
        }
    }
    if !is_asin(&asin) {
        return fail("INVALID_ASIN", format!("{asin} is not a valid ASIN"));
    }
    if marketplaces::by_id(&marketplace_id).is_none() {
        return fail(
            "INVALID_MARKETPLACE",
            format!("{marketplace_id} is not a valid marketplaceId"),
        );
    }
    Ok(Ok(ItemRequest {
        asin,
        marketplace_id,
        included: inc,
        lowest_inputs,
    }))
}

fn status_line(code: StatusCode) -> HttpStatusLine {
    let reason = match code.as_u16() {
        200 => "Success",
        400 => "Client Error",
        404 => "Not Found",
        _ => code.canonical_reason().unwrap_or("Error"),
    };
    HttpStatusLine {
        status_code: code.as_u16(),
        reason_phrase: reason.into(),
    }
}

fn answer(
    state: &AppState,
    req: &ItemRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> CompetitiveSummaryResponse {
    let world = state.world_of(&req.marketplace_id);
    let ours = world.scenario().seller.marketplace_id == req.marketplace_id;
    let summary = ours
        .then(|| world.competitive_summary(&req.asin, now))
        .flatten();
    let Some(cs) = summary else {
        return CompetitiveSummaryResponse {
            status: status_line(StatusCode::NOT_FOUND),
            body: CompetitiveSummaryResponseBody {
                asin: req.asin.clone(),
                marketplace_id: req.marketplace_id.clone(),
                errors: Some(vec![Error {
                    code: "NOT_FOUND".into(),
                    message: format!(
                        "{} was not found in marketplace {}",
                        req.asin, req.marketplace_id
                    ),
                }]),
                ..Default::default()
            },
        };
    };
    let wants = |d: &str| req.included.iter().any(|x| x == d);
    let mut body = CompetitiveSummaryResponseBody {
        asin: req.asin.clone(),
        marketplace_id: req.marketplace_id.clone(),
        ..Default::default()
    };
    if wants("featuredBuyingOptions") {
        body.featured_buying_options = Some(featured_buying_options(
            &cs,
            since(now, DEFAULT_MEMBERSHIP_FROM),
        ));
    }
    if wants("lowestPricedOffers") {
        let inputs = if req.lowest_inputs.is_empty() {
            vec![LowestPricedOffersInput {
                item_condition: "New".into(),
                offer_type: "Consumer".into(),
            }]
        } else {
            req.lowest_inputs.clone()
        };
        body.lowest_priced_offers = Some(
            inputs
                .into_iter()
                .filter_map(|input| {
                    let offers: Vec<Offer> = cs
                        .offers
                        .iter()
                        .filter(|o| o.condition == input.item_condition)
                        .take(20)
                        .map(|o| offer(o, &cs.currency))
                        .collect();
                    // The model requires at least one offer per entry.
                    (!offers.is_empty()).then_some(LowestPricedOffer {
                        lowest_priced_offers_input: input,
                        offers,
                    })
                })
                .collect(),
        );
    }
    if wants("referencePrices") {
        let money = |amount: f64| MoneyType {
            currency_code: cs.currency.clone(),
            amount,
        };
        let jp = req.marketplace_id == JP;
        let mut prices = Vec::new();
        if jp || !since(now, THRESHOLD_UNTIL) {
            prices.push(ReferencePrice {
                name: "CompetitivePriceThreshold".into(),
                price: money(cs.competitive_price_threshold),
            });
        }
        if !jp && since(now, COMPETITIVE_PRICE_FROM) {
            prices.push(ReferencePrice {
                name: "CompetitivePrice".into(),
                price: money(cs.competitive_price_threshold),
            });
        }
        prices.push(ReferencePrice {
            name: "WasPrice".into(),
            price: money(cs.was_price),
        });
        body.reference_prices = Some(prices);
    }
    if wants("similarItems") {
        let node = world.item_browse_node(&req.asin).map(|n| n.browse_node_id);
        let items: Vec<Item> = world
            .products()
            .iter()
            .filter(|p| p.asin != req.asin && Some(&p.browse_node_id) == node.as_ref())
            .map(|p| Item {
                asin: p.asin.clone(),
            })
            .take(20)
            .collect();
        body.similar_items = Some(if items.is_empty() {
            Vec::new()
        } else {
            vec![SimilarItems { items }]
        });
    }
    CompetitiveSummaryResponse {
        status: status_line(StatusCode::OK),
        body,
    }
}

fn offer(o: &WorldOffer, currency: &str) -> Offer {
    let money = |amount: f64| MoneyType {
        currency_code: currency.to_owned(),
        amount,
    };
    Offer {
        seller_id: o.seller_id.clone(),
        condition: o.condition.clone(),
        sub_condition: Some(if o.condition == "New" { "New" } else { "Good" }.into()),
        fulfillment_type: o.fulfillment.to_owned(),
        listing_price: money(o.price),
        shipping_options: vec![ShippingOption {
            shipping_option_type: "DEFAULT".into(),
            price: money(o.shipping),
        }],
        prime_details: PrimeDetails {
            eligibility: if o.is_prime { "NATIONAL" } else { "NONE" }.into(),
        },
    }
}

/// The featured offer per segment: the winner holds `PRIME` with its share
/// (split with `DEFAULT` when `with_default`), the runner-up `NON_PRIME`
/// with the rest. Empty when no new offer exists.
fn featured_buying_options(
    cs: &CompetitiveSummary,
    with_default: bool,
) -> Vec<FeaturedBuyingOption> {
    let Some(winner_id) = &cs.featured_seller_id else {
        return Vec::new();
    };
    let new_offers = || cs.offers.iter().filter(|o| o.condition == "New");
    let Some(winner) = new_offers().find(|o| &o.seller_id == winner_id) else {
        return Vec::new();
    };
    // Out of stock, we hold no segment whatever the day's share says.
    let our_share = if new_offers().any(|o| o.is_ours) {
        cs.featured_share_pct.clamp(0.0, 100.0)
    } else {
        0.0
    };
    let winner_share = if winner.is_ours {
        our_share
    } else {
        round2(100.0 - our_share)
    };
    let runner_up = if winner.is_ours {
        new_offers().find(|o| !o.is_ours)
    } else {
        new_offers().find(|o| o.is_ours)
    };
    let segment = |membership: &str, weight: f64| FeaturedOfferSegment {
        customer_membership: membership.into(),
        segment_details: SegmentDetails {
            glance_view_weight_percentage: weight,
        },
    };
    let default_share = if with_default {
        round2(winner_share * DEFAULT_SHARE)
    } else {
        0.0
    };
    let mut winner_segments = vec![segment("PRIME", round2(winner_share - default_share))];
    if default_share > 0.0 {
        winner_segments.push(segment("DEFAULT", default_share));
    }
    let mut offers = vec![SegmentedFeaturedOffer {
        offer: offer(winner, &cs.currency),
        featured_offer_segments: winner_segments,
    }];
    if let Some(r) = runner_up {
        let rest = round2(100.0 - winner_share);
        if rest > 0.0 {
            offers.push(SegmentedFeaturedOffer {
                offer: offer(r, &cs.currency),
                featured_offer_segments: vec![segment("NON_PRIME", rest)],
            });
        }
    }
    vec![FeaturedBuyingOption {
        buying_option_type: "New".into(),
        segmented_featured_offers: offers,
    }]
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asin_shape() {
        assert!(is_asin("B00ZIAODGE"));
        assert!(!is_asin("11_AABB_123"));
        assert!(!is_asin("b00ziaodge"));
    }

    #[test]
    fn batch_validation() {
        assert!(parse_batch(b"nope").is_err());
        assert!(parse_batch(br#"{"requests": []}"#).is_err());
        let one = |asin: &str| {
            format!(
                r#"{{"asin":"{asin}","marketplaceId":"ATVPDKIKX0DER","includedData":["featuredBuyingOptions"],"method":"GET","uri":"{ITEM_URI}"}}"#
            )
        };
        let body = format!(
            r#"{{"requests":[{},{}]}}"#,
            one("B00ZIAODGE"),
            one("11_AABB_123")
        );
        let parsed = parse_batch(body.as_bytes()).unwrap();
        assert!(parsed[0].is_ok());
        let (_, _, e) = parsed[1].as_ref().unwrap_err();
        assert_eq!(e.code, "INVALID_ASIN");
        assert_eq!(e.message, "11_AABB_123 is not a valid ASIN");
    }
}
