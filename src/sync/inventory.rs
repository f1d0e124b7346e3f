//! Job `inventory`: FBA `getInventorySummaries` (fbaInventory.json), a full
//! pull with `details=true` and `granularityType=Marketplace` every run, so
//! inbound quantities are current (a `startDateTime` pull would miss inbound
//! changes, as the model warns). One snapshot row per SKU per hourly slot.
//!
//! A `nextToken` expires 30 s after it was issued: pages are fetched back to
//! back, and a page refused because its token expired (400, typically after
//! a long throttling wait) restarts the pull from the first page, a bounded
//! number of times. Rows are written only once the whole pull is in, so a
//! restart or a failure never leaves half a snapshot.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::api_util::{call_json, marketplaces, next_token, slot, slot_day, sp_endpoint};
use super::{Ctx, JobError, JobReport};
use crate::amazon::client::{CallSpec, Endpoint};
use crate::amazon::http::ApiError;
use crate::model::marketplace::Marketplace;
use crate::store::fba_inventory::{self, StockRow};
use crate::store::ops::ts;

const JOB: &str = "inventory";
const OPERATION: &str = "getInventorySummaries";
const PATH: &str = "/fba/inventory/v1/summaries";
/// Restarts of a pull after an expired (or otherwise refused) `nextToken`.
const MAX_RESTARTS: u32 = 5;

pub async fn run(ctx: &Ctx<'_>) -> Result<JobReport, JobError> {
    let ep = sp_endpoint(ctx)?;
    let mut written = 0;
    let mut skus = 0;
    let mut restarts = 0;
    for m in marketplaces(ctx) {
        let (rows, r) = pull(ctx, &ep, m).await?;
        restarts += r;
        skus += rows.len();
        let day = slot_day(ctx, m);
        let slot = slot(ctx, m, "fba_inventory", &day);
        let cursor = json!({ "last_pull_at": ts(ctx.now), "skus": rows.len(), "restarts": r });
        written +=
            ctx.with_db(|c| fba_inventory::write_pull(c, &slot, &rows, JOB, &cursor, ctx.now))?;
    }
    let mut note = format!("{skus} FBA SKUs");
    if restarts > 0 {
        note.push_str(&format!(", pull restarted {restarts}x (expired nextToken)"));
    }
    Ok(JobReport {
        rows: written,
        note,
    })
}

/// One full pull of a marketplace: every SKU once (the last page wins if a
/// SKU were listed twice). Returns the rows and how often it restarted.
/// The client's pager follows the tokens: a repeated one, or `[sync]
/// max_pages` pages (restarts included), fail the pull.
async fn pull(
    ctx: &Ctx<'_>,
    ep: &Endpoint,
    m: &Marketplace,
) -> Result<(Vec<StockRow>, u32), JobError> {
    let mut restarts = 0;
    let mut pager = ctx.client.pager(OPERATION);
    'pull: loop {
        let mut rows: BTreeMap<String, StockRow> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let mut spec = CallSpec::get(OPERATION, PATH)
                .query("details", "true")
                .query("granularityType", "Marketplace")
                .query("granularityId", m.id)
                .query("marketplaceIds", m.id);
            if let Some(t) = &token {
                spec = spec.query("nextToken", t.clone());
            }
            let body: Value = match call_json(ctx, ep, &spec).await {
                Ok(b) => b.unwrap_or(Value::Null),
                Err(JobError::Api(ApiError::Permanent {
                    status: 400,
                    message,
                    ..
                })) if token.is_some() && restarts < MAX_RESTARTS => {
                    restarts += 1;
                    pager.restart();
                    tracing::info!(account = %ctx.account.name, marketplace = m.id, %message, restarts,
                        "nextToken refused (it lives 30 s); restarting the inventory pull");
                    continue 'pull;
                }
                Err(e) => return Err(e),
            };
            let page = parse_page(&body);
            for r in page.rows {
                rows.insert(r.sku.clone(), r);
            }
            match pager.next(page.next_token)? {
                Some(t) => token = Some(t),
                None => return Ok((rows.into_values().collect(), restarts)),
            }
        }
    }
}

/// One page of `GetInventorySummariesResponse`, parsed.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    pub rows: Vec<StockRow>,
    pub next_token: Option<String>,
}

/// Parses a `GetInventorySummariesResponse` (pure). Summaries without a
/// `sellerSku` are skipped; missing quantities stay unknown, except
/// fulfillable, which the table requires (absent = 0 units fulfillable).
pub fn parse_page(body: &Value) -> Page {
    let int = |v: &Value, path: &[&str]| -> Option<i64> {
        let mut cur = v;
        for p in path {
            cur = cur.get(p)?;
        }
        cur.as_i64()
            .or_else(|| cur.as_f64().map(|f| f.round() as i64))
    };
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let rows = body
        .pointer("/payload/inventorySummaries")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    let sku = text(s, "sellerSku")?;
                    let d = s.get("inventoryDetails").unwrap_or(&Value::Null);
                    Some(StockRow {
                        sku,
                        asin: text(s, "asin"),
                        fnsku: text(s, "fnSku"),
                        condition: text(s, "condition"),
                        fulfillable: int(d, &["fulfillableQuantity"]).unwrap_or(0),
                        inbound_working: int(d, &["inboundWorkingQuantity"]),
                        inbound_shipped: int(d, &["inboundShippedQuantity"]),
                        inbound_receiving: int(d, &["inboundReceivingQuantity"]),
                        reserved: int(d, &["reservedQuantity", "totalReservedQuantity"]),
                        unfulfillable: int(
                            d,
                            &["unfulfillableQuantity", "totalUnfulfillableQuantity"],
                        ),
                        researching: int(d, &["researchingQuantity", "totalResearchingQuantity"]),
                        total: int(s, &["totalQuantity"]),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let next_token = next_token(body);
    Page { rows, next_token }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_page_with_details_and_a_token() {
        let body = json!({
            "payload": {
                "granularity": {"granularityType": "Marketplace", "granularityId": "ATVPDKIKX0DER"},
                "inventorySummaries": [
                    {"asin": "B0A", "fnSku": "X0A", "sellerSku": "SKU-A", "condition": "NewItem",
                     "inventoryDetails": {
                        "fulfillableQuantity": 40, "inboundWorkingQuantity": 5,
                        "inboundShippedQuantity": 6, "inboundReceivingQuantity": 7,
                        "reservedQuantity": {"totalReservedQuantity": 3},
                        "researchingQuantity": {"totalResearchingQuantity": 1},
                        "unfulfillableQuantity": {"totalUnfulfillableQuantity": 2}},
                     "lastUpdatedTime": "2026-03-02T16:00:00Z", "productName": "A", "totalQuantity": 64},
                    {"asin": "B0B", "sellerSku": "SKU-B", "totalQuantity": 0},
                    {"asin": "B0C"}
                ]
            },
            "pagination": {"nextToken": "abc"}
        });
        let page = parse_page(&body);
        assert_eq!(page.next_token.as_deref(), Some("abc"));
        assert_eq!(page.rows.len(), 2);
        let a = &page.rows[0];
        assert_eq!(
            (
                a.fulfillable,
                a.inbound_working,
                a.inbound_shipped,
                a.inbound_receiving
            ),
            (40, Some(5), Some(6), Some(7))
        );
        assert_eq!(
            (a.reserved, a.researching, a.unfulfillable, a.total),
            (Some(3), Some(1), Some(2), Some(64))
        );
        let b = &page.rows[1];
        assert_eq!(
            (b.fulfillable, b.inbound_working, b.fnsku.as_deref()),
            (0, None, None)
        );
    }

    #[test]
    fn an_empty_or_odd_body_is_an_empty_last_page() {
        assert_eq!(parse_page(&Value::Null), Page::default());
        assert_eq!(
            parse_page(&json!({"payload": {}, "pagination": {"nextToken": ""}})),
            Page::default()
        );
    }
}
