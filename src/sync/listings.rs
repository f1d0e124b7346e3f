//! Job `listings`: Listings Items 2021-08-01 `searchListingsItems`
//! (listingsItems_2021-08-01.json), a full pull of the seller's listings per
//! marketplace with `includedData=summaries,issues,fulfillmentAvailability,offers`,
//! 20 a page (the model's maximum), following `pageToken`.
//!
//! It writes the listing state (status set, issues with severity,
//! suppression from the issues' enforcements), the products it learns
//! (SKU ↔ ASIN, title, FBA/FBM), the FBM quantity from
//! `fulfillmentAvailability` as a stock snapshot, and the B2C offer price the
//! fees job estimates at. The call needs the seller id (merchant token),
//! which no API returns: an account without one fails with what to set.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::api_util::{call_json, marketplaces, next_token, num, slot, slot_day, sp_endpoint};
use super::{Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::model::marketplace::Marketplace;
use crate::store::listings::{self, IssueRow, ListingRow};
use crate::store::ops::ts;

const JOB: &str = "listings";
const OPERATION: &str = "searchListingsItems";
/// The model's `pageSize` maximum.
const PAGE_SIZE: usize = 20;
/// Enforcement actions that take a listing (or its visibility) away.
const SUPPRESSING: [&str; 3] = [
    "LISTING_SUPPRESSED",
    "SEARCH_SUPPRESSED",
    "CATALOG_ITEM_REMOVED",
];

/// The account's seller id, or the error telling the user what to set.
pub(crate) fn seller_id<'a>(ctx: &'a Ctx<'_>) -> Result<&'a str, JobError> {
    ctx.account
        .seller_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            JobError::Data(format!(
                "account {}: the Listings API needs the seller id (merchant token), which no Amazon API returns: \
                 set seller_id = \"A1...\" in its [[accounts]] section (Seller Central > Settings > Account Info > Merchant Token)",
                ctx.account.name
            ))
        })
}

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let seller = seller_id(ctx)?.to_string();
    let ep = sp_endpoint(ctx)?;
    let mut written = 0;
    let mut counts = (0usize, 0usize, 0usize); // listings, with ERROR issues, suppressed
    for m in marketplaces(ctx) {
        let rows = fetch_all(
            ctx,
            &ep,
            &seller,
            m,
            &["summaries", "issues", "fulfillmentAvailability", "offers"],
        )
        .await?;
        counts.0 += rows.len();
        counts.1 += rows
            .iter()
            .filter(|r| r.issues.iter().any(|i| i.severity == "ERROR"))
            .count();
        counts.2 += rows.iter().filter(|r| r.is_suppressed).count();
        let day = slot_day(ctx, m);
        let slot = slot(ctx, m, "listings", &day);
        let cursor = json!({ "last_pull_at": ts(ctx.now), "listings": rows.len() });
        written += ctx.with_db(|c| {
            listings::write_pull(c, &ctx.cursor_write(JOB, m, &cursor), &rows, &slot)
        })?;
    }
    Ok(JobReport {
        rows: written,
        note: format!(
            "{} listings, {} with errors, {} suppressed",
            counts.0, counts.1, counts.2
        ),
    })
}

/// Every listing of the seller in one marketplace, by SKU (a SKU listed on
/// two pages counts once). The pages are followed by the client's pager:
/// a repeated token or `[sync] max_pages` pages fail the pull.
pub(crate) async fn fetch_all(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    seller_id: &str,
    m: &Marketplace,
    included: &[&str],
) -> Result<Vec<ListingRow>, JobError> {
    let mut by_sku: BTreeMap<String, ListingRow> = BTreeMap::new();
    let mut pager = ctx.client.pager(OPERATION);
    let mut token: Option<String> = None;
    loop {
        let mut spec = CallSpec::get(OPERATION, format!("/listings/2021-08-01/items/{seller_id}"))
            .query("marketplaceIds", m.id)
            .query("includedData", included.join(","))
            .query("pageSize", PAGE_SIZE.to_string());
        if let Some(t) = &token {
            spec = spec.query("pageToken", t.clone());
        }
        let body: Value = call_json(ctx, ep, &spec).await?.unwrap_or(Value::Null);
        let (rows, next) = parse_page(&body, m.id);
        for r in rows {
            by_sku.insert(r.sku.clone(), r);
        }
        match pager.next(next)? {
            Some(t) => token = Some(t),
            None => return Ok(by_sku.into_values().collect()),
        }
    }
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses an `ItemSearchResults` page (pure): the listings of marketplace
/// `marketplace_id` and the next page token.
pub fn parse_page(body: &Value, marketplace_id: &str) -> (Vec<ListingRow>, Option<String>) {
    let for_marketplace = |list: Option<&Value>| -> Option<Value> {
        let arr = list?.as_array()?;
        arr.iter()
            .find(|x| x.get("marketplaceId").and_then(Value::as_str) == Some(marketplace_id))
            .or_else(|| arr.first())
            .cloned()
    };
    let rows = body
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let sku = text(item, "sku")?;
                    let summary = for_marketplace(item.get("summaries")).unwrap_or(Value::Null);
                    let statuses = strings(summary.get("status"));
                    let issues = parse_issues(item.get("issues"), marketplace_id);
                    let is_suppressed = issues.iter().any(|i| i.suppresses);
                    let avail: Vec<&Value> = item
                        .get("fulfillmentAvailability")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().collect())
                        .unwrap_or_default();
                    let code_of = |a: &Value| text(a, "fulfillmentChannelCode");
                    // FBA wins when a SKU has both channels: its stock is in
                    // the FBA pull, and the listing is Amazon-fulfilled.
                    let fba = avail
                        .iter()
                        .find(|a| code_of(a).is_some_and(|c| c.starts_with("AMAZON")));
                    let fbm = avail
                        .iter()
                        .find(|a| code_of(a).as_deref() == Some("DEFAULT"));
                    let (code, fbm_quantity) = match (fba, fbm) {
                        (Some(a), _) => (code_of(a), None),
                        (None, Some(a)) => (
                            code_of(a),
                            Some(a.get("quantity").and_then(Value::as_i64).unwrap_or(0)),
                        ),
                        (None, None) => (avail.first().and_then(|a| code_of(a)), None),
                    };
                    let offer = item.get("offers").and_then(Value::as_array).and_then(|a| {
                        let ours = |x: &&Value| {
                            x.get("marketplaceId").and_then(Value::as_str) == Some(marketplace_id)
                                || x.get("marketplaceId").is_none()
                        };
                        a.iter()
                            .filter(ours)
                            .find(|x| x.get("offerType").and_then(Value::as_str) == Some("B2C"))
                            .or_else(|| a.iter().find(ours))
                    });
                    let price = offer.and_then(|o| num(o.pointer("/price/amount")));
                    let currency = offer
                        .and_then(|o| o.pointer("/price/currencyCode"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    Some(ListingRow {
                        sku,
                        asin: text(&summary, "asin"),
                        fnsku: text(&summary, "fnSku"),
                        product_type: text(&summary, "productType"),
                        item_name: text(&summary, "itemName"),
                        condition_type: text(&summary, "conditionType"),
                        is_buyable: statuses.iter().any(|s| s == "BUYABLE"),
                        is_discoverable: statuses.iter().any(|s| s == "DISCOVERABLE"),
                        statuses_json: json!(statuses).to_string(),
                        is_suppressed,
                        fulfillment_channel_code: code,
                        fbm_quantity,
                        price,
                        currency,
                        amazon_created_at: text(&summary, "createdDate"),
                        amazon_updated_at: text(&summary, "lastUpdatedDate"),
                        issues: issues.into_iter().map(|i| i.row).collect(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let next = next_token(body);
    (rows, next)
}

struct ParsedIssue {
    row: IssueRow,
    suppresses: bool,
}

/// The issues that concern the marketplace (an issue without
/// `marketplaceIds` concerns all), keyed as the table keys them; two issues
/// with the same key are merged (the first wins).
fn parse_issues(issues: Option<&Value>, marketplace_id: &str) -> Vec<ParsedIssue> {
    let mut out: Vec<ParsedIssue> = Vec::new();
    for i in issues.and_then(Value::as_array).into_iter().flatten() {
        let markets = strings(i.get("marketplaceIds"));
        if !markets.is_empty() && !markets.iter().any(|m| m == marketplace_id) {
            continue;
        }
        let Some(code) = text(i, "code") else {
            continue;
        };
        let mut attrs = strings(i.get("attributeNames"));
        attrs.sort();
        let actions = strings(
            i.pointer("/enforcements/actions")
                .and_then(Value::as_array)
                .map(|a| Value::Array(a.iter().filter_map(|x| x.get("action").cloned()).collect()))
                .as_ref(),
        );
        let exemption = i
            .pointer("/enforcements/exemption/status")
            .and_then(Value::as_str)
            .map(str::to_string);
        // An exempt issue's enforcements are not applied.
        let exempt = exemption
            .as_deref()
            .is_some_and(|s| s.starts_with("EXEMPT"));
        let suppresses = !exempt && actions.iter().any(|a| SUPPRESSING.contains(&a.as_str()));
        let row = IssueRow {
            code,
            attribute_names_json: json!(attrs).to_string(),
            severity: text(i, "severity").unwrap_or_else(|| "INFO".into()),
            message: text(i, "message").unwrap_or_default(),
            categories_json: json!(strings(i.get("categories"))).to_string(),
            enforcement_actions_json: json!(actions).to_string(),
            exemption_status: exemption,
        };
        if !out.iter().any(|o| {
            o.row.code == row.code && o.row.attribute_names_json == row.attribute_names_json
        }) {
            out.push(ParsedIssue { row, suppresses });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "ATVPDKIKX0DER";

    #[test]
    fn parses_status_issues_suppression_fbm_stock_and_price() {
        let body = json!({
            "numberOfResults": 2,
            "pagination": {"nextToken": "n2"},
            "items": [
                {"sku": "FBM-1",
                 "summaries": [{"marketplaceId": M, "asin": "B0X", "productType": "PRODUCT",
                    "conditionType": "new_new", "status": ["DISCOVERABLE"], "itemName": "Mug",
                    "createdDate": "2025-01-01T00:00:00Z", "lastUpdatedDate": "2026-02-01T10:00:00Z"}],
                 "issues": [
                    {"code": "90220", "message": "missing", "severity": "ERROR",
                     "attributeNames": ["z_attr", "a_attr"], "categories": ["MISSING_ATTRIBUTE"],
                     "enforcements": {"actions": [{"action": "LISTING_SUPPRESSED"}],
                                      "exemption": {"status": "NOT_EXEMPT"}}},
                    {"code": "1", "message": "other market", "severity": "ERROR", "categories": [],
                     "marketplaceIds": ["A2EUQ1WTGCTBG2"]}
                 ],
                 "offers": [{"marketplaceId": M, "offerType": "B2C",
                             "price": {"currencyCode": "USD", "amount": "19.99"}}],
                 "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]},
                {"sku": "FBA-1",
                 "summaries": [{"marketplaceId": M, "asin": "B0Y", "productType": "PRODUCT",
                    "status": ["BUYABLE", "DISCOVERABLE"], "createdDate": "x", "lastUpdatedDate": "y"}],
                 "issues": [{"code": "2", "message": "exempt", "severity": "WARNING", "categories": [],
                     "enforcements": {"actions": [{"action": "SEARCH_SUPPRESSED"}],
                                      "exemption": {"status": "EXEMPT"}}}],
                 "fulfillmentAvailability": [{"fulfillmentChannelCode": "AMAZON_NA"}]}
            ]
        });
        let (rows, next) = parse_page(&body, M);
        assert_eq!(next.as_deref(), Some("n2"));
        let fbm = &rows[0];
        assert!(!fbm.is_buyable && fbm.is_discoverable && fbm.is_suppressed);
        assert_eq!(fbm.channel(), Some("FBM"));
        assert_eq!(fbm.fbm_quantity, Some(7));
        assert_eq!(fbm.price, Some(19.99));
        assert_eq!(
            fbm.issues.len(),
            1,
            "the other marketplace's issue is left out"
        );
        assert_eq!(fbm.issues[0].attribute_names_json, r#"["a_attr","z_attr"]"#);
        assert_eq!(
            fbm.issues[0].enforcement_actions_json,
            r#"["LISTING_SUPPRESSED"]"#
        );
        let fba = &rows[1];
        assert!(
            fba.is_buyable && !fba.is_suppressed,
            "exempt issues do not suppress"
        );
        assert_eq!((fba.channel(), fba.fbm_quantity), (Some("FBA"), None));
        assert_eq!(fba.statuses_json, r#"["BUYABLE","DISCOVERABLE"]"#);
    }
}
