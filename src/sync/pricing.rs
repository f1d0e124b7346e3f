//! Job `pricing`: Product Pricing 2022-05-01 `getCompetitiveSummary`
//! (productPricing_2022-05-01.json), batches of 20 ASINs (the batch's
//! maximum) at 0.033 requests/s, i.e. about 2,400 ASINs an hour, so the
//! best sellers go first (units from stored orders of the last 30 days) and
//! one run covers at most [`MAX_ASINS_PER_RUN`].
//!
//! Per ASIN: the featured offer (Buy Box) with its landed price and seller,
//! whether it is ours (`accounts.seller_id`), our own offer's price and the
//! glance-view share of the segments we win, the lowest New FBA and FBM
//! offers, and the competitive reference price. Each request of a batch has
//! its own status: a 404 (ASIN not in the marketplace) writes nothing; a
//! 429/5xx is asked again once in a later batch.
//!
//! Amazon's 2025 changes (changelog): segments' `customerMembership` may be
//! `DEFAULT` besides `PRIME` and `NON_PRIME` (every segment's weight counts,
//! whatever its membership), and `referencePrices` carry `CompetitivePrice`
//! in every marketplace but JP, which alone still gets
//! `CompetitivePriceThreshold` (no longer returned elsewhere since
//! 2025-09-30).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::api_util::{call_json, elements, hour_slot, local_day, marketplaces, num, sp_endpoint};
use super::{catalog_ranks, Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::model::marketplace::Marketplace;
use crate::store::ops::ts;
use crate::store::pricing::{self, PriceRow};

const JOB: &str = "pricing";
const OPERATION: &str = "getCompetitiveSummary";
const PATH: &str = "/batches/products/pricing/2022-05-01/items/competitiveSummary";
const ITEM_URI: &str = "/products/pricing/2022-05-01/items/competitiveSummary";
/// Requests per batch (the operation's maximum).
const BATCH: usize = 20;
/// About an hour of the default 0.033 rps: a run never hogs the bucket for
/// longer than the 6-hour schedule allows.
pub const MAX_ASINS_PER_RUN: usize = 2_400;

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let ep = sp_endpoint(ctx)?;
    let seller = ctx.account.seller_id.as_deref();
    let mut written = 0;
    let (mut priced, mut asked, mut missing) = (0, 0, 0);
    for m in marketplaces(ctx) {
        let mut asins = catalog_ranks::seller_asins(ctx, &ep, m).await?;
        let known = asins.len();
        asins.truncate(MAX_ASINS_PER_RUN);
        asked += asins.len();
        let mut rows: BTreeMap<String, PriceRow> = BTreeMap::new();
        let mut retry = Vec::new();
        for batch in asins.chunks(BATCH) {
            let (got, again) = fetch(ctx, &ep, m, batch, seller).await?;
            rows.extend(got.into_iter().map(|r| (r.asin.clone(), r)));
            retry.extend(again);
        }
        for batch in retry.chunks(BATCH) {
            let (got, again) = fetch(ctx, &ep, m, batch, seller).await?;
            rows.extend(got.into_iter().map(|r| (r.asin.clone(), r)));
            missing += again.len();
        }
        priced += rows.len();
        let rows: Vec<PriceRow> = rows.into_values().collect();
        let slot = hour_slot(ctx.now);
        let day = local_day(m, slot);
        let cursor = json!({ "last_pull_at": ts(ctx.now), "asins": asins.len(), "known": known });
        written += ctx.with_db(|c| {
            pricing::write_pricing(c, &ctx.cursor_write(JOB, m, &cursor), slot, &day, &rows)
        })?;
    }
    let mut note = format!("{priced} of {asked} ASINs priced");
    if missing > 0 {
        note.push_str(&format!(", {missing} failed twice (next run)"));
    }
    Ok(JobReport {
        rows: written,
        note,
    })
}

/// One batch: the rows of requests answered 200, and the ASINs to ask again.
async fn fetch(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
    asins: &[String],
    seller_id: Option<&str>,
) -> Result<(Vec<PriceRow>, Vec<String>), JobError> {
    let requests: Vec<Value> = asins
        .iter()
        .map(|a| {
            json!({
                "asin": a,
                "marketplaceId": m.id,
                "includedData": ["featuredBuyingOptions", "lowestPricedOffers", "referencePrices"],
                "lowestPricedOffersInputs": [{"itemCondition": "New", "offerType": "Consumer"}],
                "method": "GET",
                "uri": ITEM_URI,
            })
        })
        .collect();
    let spec = CallSpec::post_json(
        OPERATION,
        PATH,
        &json!({ "requests": requests }),
        "application/json",
    );
    let body: Value = call_json(ctx, ep, &spec).await?.unwrap_or(Value::Null);
    Ok(parse_batch(&body, seller_id))
}

/// Parses a `CompetitiveSummaryBatchResponse` (pure): rows for the requests
/// answered 200, and the ASINs whose request failed in a way worth asking
/// again (429, 5xx).
pub fn parse_batch(body: &Value, seller_id: Option<&str>) -> (Vec<PriceRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut again = Vec::new();
    for r in elements(body.get("responses")) {
        let status = r
            .pointer("/status/statusCode")
            .and_then(Value::as_i64)
            .unwrap_or(200);
        let b = r.get("body").unwrap_or(&Value::Null);
        let Some(asin) = b.get("asin").and_then(Value::as_str) else {
            continue;
        };
        match status {
            200..=299 => rows.push(parse_summary(b, seller_id)),
            429 | 500..=599 => again.push(asin.to_string()),
            _ => {}
        }
    }
    (rows, again)
}

/// Listing price plus the (first, normally `DEFAULT`) shipping option.
fn landed(offer: &Value) -> Option<f64> {
    let price = num(offer.pointer("/listingPrice/amount"))?;
    let shipping = offer
        .get("shippingOptions")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|o| o.get("shippingOptionType").and_then(Value::as_str) == Some("DEFAULT"))
                .or_else(|| a.first())
        })
        .and_then(|o| num(o.pointer("/price/amount")))
        .unwrap_or(0.0);
    Some(((price + shipping) * 100.0).round() / 100.0)
}

/// The competitive reference price: `CompetitivePrice`, or in JP (where
/// Amazon never introduced it) `CompetitivePriceThreshold`.
fn competitive_price(b: &Value) -> Option<f64> {
    let prices = b.get("referencePrices").and_then(Value::as_array)?;
    let named = |name: &str| {
        prices
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|p| num(p.pointer("/price/amount")))
    };
    named("CompetitivePrice").or_else(|| named("CompetitivePriceThreshold"))
}

fn seller_of(offer: &Value) -> Option<&str> {
    offer.get("sellerId").and_then(Value::as_str)
}

/// One `CompetitiveSummaryResponseBody`.
fn parse_summary(b: &Value, seller_id: Option<&str>) -> PriceRow {
    let asin = b
        .get("asin")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // Featured offers of the New buying option, each with its summed
    // glance-view weight over the segments it wins (PRIME, NON_PRIME and
    // DEFAULT alike: together they make up the glance views).
    let featured: Option<Vec<(&Value, f64)>> = b
        .get("featuredBuyingOptions")
        .and_then(Value::as_array)
        .map(|opts| {
            opts.iter()
                .filter(|o| {
                    o.get("buyingOptionType")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t.eq_ignore_ascii_case("new"))
                })
                .flat_map(|o| elements(o.get("segmentedFeaturedOffers")))
                .map(|offer| {
                    let weight: f64 = elements(offer.get("featuredOfferSegments"))
                        .filter_map(
                            |s| num(s.pointer("/segmentDetails/glanceViewWeightPercentage")),
                        )
                        .sum();
                    (offer, weight)
                })
                .collect()
        });
    let winner = featured.as_ref().and_then(|f| {
        f.iter()
            .enumerate()
            // Largest weight wins; on a tie, the one Amazon listed first.
            .max_by(|(i, a), (j, b)| a.1.total_cmp(&b.1).then(j.cmp(i)))
            .map(|(_, (o, _))| *o)
    });
    let is_ours = |o: &Value| seller_id.is_some() && seller_of(o) == seller_id;
    let our_featured_pct = featured.as_ref().map(|f| {
        let pct: f64 = f.iter().filter(|(o, _)| is_ours(o)).map(|(_, w)| w).sum();
        (pct * 100.0).round() / 100.0
    });
    // Lowest New offers (the input we asked for), deduplicated by seller.
    let mut offers: Vec<&Value> = Vec::new();
    for l in elements(b.get("lowestPricedOffers")) {
        let condition = l
            .pointer("/lowestPricedOffersInput/itemCondition")
            .and_then(Value::as_str)
            .unwrap_or("New");
        if condition != "New" {
            continue;
        }
        for o in elements(l.get("offers")) {
            if !offers.iter().any(|x| {
                seller_of(x) == seller_of(o) && x.get("fulfillmentType") == o.get("fulfillmentType")
            }) {
                offers.push(o);
            }
        }
    }
    let lowest = |channel: &str| {
        offers
            .iter()
            .filter(|o| o.get("fulfillmentType").and_then(Value::as_str) == Some(channel))
            .filter_map(|o| landed(o))
            .min_by(f64::total_cmp)
    };
    let our_price = offers
        .iter()
        .copied()
        .chain(featured.iter().flatten().map(|(o, _)| *o))
        .find(|o| is_ours(o))
        .and_then(landed);
    let currency = winner
        .or(offers.first().copied())
        .and_then(|o| o.pointer("/listingPrice/currencyCode"))
        .and_then(Value::as_str)
        .map(str::to_string);
    PriceRow {
        asin,
        currency,
        featured_offer_price: winner.and_then(landed),
        featured_offer_seller_id: winner.and_then(seller_of).map(str::to_string),
        is_featured_offer_ours: match (winner, seller_id) {
            (Some(w), Some(_)) => Some(is_ours(w)),
            _ => None,
        },
        our_price,
        our_featured_pct,
        lowest_new_fba_price: lowest("AFN"),
        lowest_new_fbm_price: lowest("MFN"),
        offer_count: b
            .get("lowestPricedOffers")
            .is_some()
            .then_some(offers.len() as i64),
        competitive_price: competitive_price(b),
        raw_json: b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(seller: &str, price: f64, ship: f64, ft: &str) -> Value {
        json!({"sellerId": seller, "condition": "New", "fulfillmentType": ft,
               "listingPrice": {"currencyCode": "USD", "amount": price},
               "shippingOptions": [{"shippingOptionType": "DEFAULT", "price": {"currencyCode": "USD", "amount": ship}}]})
    }

    #[test]
    fn the_featured_offer_is_the_one_with_most_glance_view_weight() {
        let mut win = offer("COMP", 20.0, 3.99, "MFN");
        win["featuredOfferSegments"] = json!([{"customerMembership": "PRIME", "segmentDetails": {"glanceViewWeightPercentage": 70.0}}]);
        let mut ours = offer("ME", 22.0, 0.0, "AFN");
        ours["featuredOfferSegments"] = json!([{"customerMembership": "NON_PRIME", "segmentDetails": {"glanceViewWeightPercentage": 30.0}}]);
        let body = json!({"responses": [
            {"status": {"statusCode": 200}, "body": {"asin": "B0A", "marketplaceId": "M",
                "featuredBuyingOptions": [{"buyingOptionType": "New", "segmentedFeaturedOffers": [ours, win]}],
                "lowestPricedOffers": [{"lowestPricedOffersInput": {"itemCondition": "New", "offerType": "Consumer"},
                    "offers": [offer("COMP", 20.0, 3.99, "MFN"), offer("ME", 22.0, 0.0, "AFN"), offer("X", 25.0, 0.0, "AFN")]}]}},
            {"status": {"statusCode": 404}, "body": {"asin": "B0B", "marketplaceId": "M"}},
            {"status": {"statusCode": 503}, "body": {"asin": "B0C", "marketplaceId": "M"}}
        ]});
        let (rows, again) = parse_batch(&body, Some("ME"));
        assert_eq!(again, vec!["B0C".to_string()]);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.featured_offer_seller_id.as_deref(), Some("COMP"));
        assert_eq!(r.featured_offer_price, Some(23.99));
        assert_eq!(r.is_featured_offer_ours, Some(false));
        assert_eq!((r.our_price, r.our_featured_pct), (Some(22.0), Some(30.0)));
        assert_eq!(
            (r.lowest_new_fba_price, r.lowest_new_fbm_price),
            (Some(22.0), Some(23.99))
        );
        assert_eq!(r.offer_count, Some(3));
        assert_eq!(r.currency.as_deref(), Some("USD"));
        // Without a seller id, ownership is unknown.
        let (rows, _) = parse_batch(&body, None);
        assert_eq!(rows[0].is_featured_offer_ours, None);
        assert_eq!(r.competitive_price, None, "no reference prices asked");
    }

    #[test]
    fn default_segments_count_and_the_competitive_price_is_read() {
        // Amazon's 2025 shape: a DEFAULT membership segment, and
        // CompetitivePrice instead of CompetitivePriceThreshold (not JP).
        let mut win = offer("ME", 21.0, 0.0, "AFN");
        win["featuredOfferSegments"] = json!([
            {"customerMembership": "PRIME", "segmentDetails": {"glanceViewWeightPercentage": 40.0}},
            {"customerMembership": "DEFAULT", "segmentDetails": {"glanceViewWeightPercentage": 20.0}}]);
        let mut other = offer("COMP", 20.0, 0.0, "MFN");
        other["featuredOfferSegments"] = json!([{"customerMembership": "NON_PRIME", "segmentDetails": {"glanceViewWeightPercentage": 40.0}}]);
        let summary = |refs: Value| {
            json!({"responses": [{"status": {"statusCode": 200}, "body": {"asin": "B0A", "marketplaceId": "M",
                "featuredBuyingOptions": [{"buyingOptionType": "New", "segmentedFeaturedOffers": [other.clone(), win.clone()]}],
                "referencePrices": refs}}]})
        };
        let (rows, _) = parse_batch(
            &summary(json!([
                {"name": "CompetitivePrice", "price": {"currencyCode": "USD", "amount": 19.5}},
                {"name": "WasPrice", "price": {"currencyCode": "USD", "amount": 24.0}}])),
            Some("ME"),
        );
        let r = &rows[0];
        assert_eq!(
            r.featured_offer_seller_id.as_deref(),
            Some("ME"),
            "60 % beats 40 %"
        );
        assert_eq!(r.our_featured_pct, Some(60.0));
        assert_eq!(r.competitive_price, Some(19.5));
        // JP still answers the threshold.
        let (rows, _) = parse_batch(
            &summary(
                json!([{"name": "CompetitivePriceThreshold", "price": {"currencyCode": "JPY", "amount": 1980.0}}]),
            ),
            Some("ME"),
        );
        assert_eq!(rows[0].competitive_price, Some(1980.0));
    }
}
