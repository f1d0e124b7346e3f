//! Evidence as a person reads it: for every key the rules write into a
//! finding's evidence (`src/rules/*.rs`), a label per language and how its
//! value is written (money in the marketplace's currency, percentages,
//! hours, days, dates, flags as words, lists capped).
//!
//! The table is by key, because a key means the same in every rule that
//! writes it (the rules share `rules::metrics`); [`spec`] looks
//! for a rule-specific entry first where one rule gives a key a narrower
//! sense. A test reads the rules' source and fails when a key they write
//! has no entry here or no label in a language.

use chrono::NaiveDate;
use serde_json::Value;

use super::format::{self, count, number, percent, share};
use super::{tr, tr_args, Lang};
use crate::model::marketplace::Marketplace;
use crate::model::rule::RuleId;

/// How an evidence value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Whole things: units, clicks, sessions, orders ("1,234").
    Count,
    /// A plain number with sensible decimals ("2.5").
    Number,
    /// An amount in the marketplace's currency ("$12.99").
    Money,
    /// Already in percent ("12.5%").
    Percent,
    /// A fraction 0–1 shown as a percentage (Amazon's impression and click
    /// shares).
    Share,
    /// Percentage points ("3.2 pts").
    Points,
    /// Stars, or a change in stars ("4.3★").
    Stars,
    /// "1.8×".
    Ratio,
    /// A rank ("#1,234").
    Rank,
    /// "31 h".
    Hours,
    /// "12 days"; a negative count of days is "expired 3 days ago".
    Days,
    /// A `YYYY-MM-DD` string ("Mar 2, 2026").
    Date,
    /// A boolean as the key's own words ("suppressed (not buyable)").
    Flag,
    /// Text as Amazon or the seller wrote it.
    Text,
    /// Text a customer typed (a review topic, a search term), quoted.
    Quoted,
    /// One of a few codes with words of their own (the ad type, the sales
    /// source); an unknown code is shown as it is.
    Code,
    /// A list of ids or codes, joined and capped.
    List,
    /// data_freshness's stale jobs: "orders: 31 h (allowed 8 h)".
    StaleJobs,
    /// Internal or redundant: not shown to a person.
    Hidden,
}

/// An evidence key's label (a message id) and how its value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub label: &'static str,
    pub kind: Kind,
}

/// Lists show this many items, then "and N more".
pub const LIST_MAX: usize = 5;

macro_rules! keys {
    ($( $key:literal => $label:literal, $kind:ident; )*) => {
        /// Every evidence key the rules write, with its label and kind.
        const KEYS: &[(&str, Spec)] = &[
            $( ($key, Spec { label: $label, kind: Kind::$kind }) ),*
        ];
    };
}

keys! {
    // Link 1: customer experience.
    "open_breaches" => "ev-open-breaches", Count;
    "oldest_age_hours" => "ev-oldest-age-hours", Hours;
    "response_hours" => "ev-response-hours", Hours;
    "order_ids" => "ev-order-ids", List;
    "negative_feedback" => "ev-negative-feedback", Count;
    "orders" => "ev-orders", Count;
    "topic" => "ev-topic", Quoted;
    "share_pct" => "ev-share-pct", Percent;
    "rise_points" => "ev-rise-points", Points;
    "browse_node_share_pct" => "ev-browse-node-share-pct", Percent;
    "node_ratio" => "ev-node-ratio", Ratio;
    "star_rating_impact" => "ev-star-rating-impact", Stars;
    "rating" => "ev-rating", Stars;
    "rating_count" => "ev-rating-count", Count;
    "rating_date" => "ev-rating-date", Date;
    "rating_before" => "ev-rating-before", Stars;
    "drop" => "ev-drop", Stars;
    "units_returned" => "ev-units-returned", Count;
    "units_shipped" => "ev-units-shipped", Count;
    "top_reason" => "ev-top-reason", Text;
    "top_reason_units" => "ev-top-reason-units", Count;
    "is_buyable" => "ev-is-buyable", Flag;
    "is_discoverable" => "ev-is-discoverable", Flag;
    "is_suppressed" => "ev-is-suppressed", Flag;
    // Amazon's status codes restate is_buyable / is_discoverable.
    "statuses" => "ev-statuses", Hidden;
    "issues" => "ev-issues", Count;
    "issue_codes" => "ev-issue-codes", List;
    // Amazon's text, as Amazon wrote it.
    "issue_messages" => "ev-issue-messages", List;
    "account_status" => "ev-account-status", Text;
    "order_defect_rate_pct" => "ev-order-defect-rate-pct", Percent;
    "late_shipment_rate_pct" => "ev-late-shipment-rate-pct", Percent;
    "pre_fulfillment_cancel_rate_pct" => "ev-pre-fulfillment-cancel-rate-pct", Percent;
    "valid_tracking_rate_pct" => "ev-valid-tracking-rate-pct", Percent;
    "snapshot_date" => "ev-snapshot-date", Date;
    // Link 2: sales growth.
    "sessions" => "ev-sessions", Count;
    "prior_sessions" => "ev-prior-sessions", Count;
    "units_ordered" => "ev-units-ordered", Count;
    "conversion_pct" => "ev-conversion-pct", Percent;
    "prior_conversion_pct" => "ev-prior-conversion-pct", Percent;
    "drop_pct" => "ev-drop-pct", Percent;
    "featured_offer_price" => "ev-featured-offer-price", Money;
    "featured_offer_is_ours" => "ev-featured-offer-is-ours", Flag;
    "our_price" => "ev-our-price", Money;
    "lowest_new_fba_price" => "ev-lowest-new-fba-price", Money;
    "lowest_new_fbm_price" => "ev-lowest-new-fbm-price", Money;
    "offer_count" => "ev-offer-count", Count;
    "page_views" => "ev-page-views", Count;
    "buy_box_pct" => "ev-buy-box-pct", Percent;
    "buy_box_pct_7d" => "ev-buy-box-pct-7d", Percent;
    "prior_buy_box_pct" => "ev-prior-buy-box-pct", Percent;
    "median_rank" => "ev-median-rank", Rank;
    "prior_median_rank" => "ev-prior-median-rank", Rank;
    "days_ranked" => "ev-days-ranked", Days;
    "prior_days_ranked" => "ev-prior-days-ranked", Days;
    "display_group" => "ev-display-group", Text;
    "classification_rank" => "ev-classification-rank", Rank;
    "classification" => "ev-classification", Text;
    "impression_share" => "ev-impression-share", Share;
    "prior_impression_share" => "ev-prior-impression-share", Share;
    "impression_share_drop_pct" => "ev-impression-share-drop-pct", Percent;
    "click_share" => "ev-click-share", Share;
    "prior_click_share" => "ev-prior-click-share", Share;
    "click_share_drop_pct" => "ev-click-share-drop-pct", Percent;
    "query_volume" => "ev-query-volume", Count;
    "query" => "ev-query", Quoted;
    "units" => "ev-units", Count;
    "prior_units" => "ev-prior-units", Count;
    "available" => "ev-available", Count;
    "inbound" => "ev-inbound", Count;
    "stockout_days" => "ev-stockout-days", Days;
    "return_rate_pct" => "ev-return-rate-pct", Percent;
    "prior_return_rate_pct" => "ev-prior-return-rate-pct", Percent;
    "cpc" => "ev-cpc", Money;
    "prior_cpc" => "ev-prior-cpc", Money;
    "clicks" => "ev-clicks", Count;
    "prior_clicks" => "ev-prior-clicks", Count;
    "impressions" => "ev-impressions", Count;
    "prior_impressions" => "ev-prior-impressions", Count;
    "top_of_search_impression_share" => "ev-top-of-search-impression-share", Share;
    // Link 3: operating leverage.
    "cost" => "ev-cost", Money;
    "attributed_sales" => "ev-attributed-sales", Money;
    "purchases" => "ev-purchases", Count;
    "ad_product" => "ev-ad-product", Code;
    "campaign_name" => "ev-campaign-name", Text;
    "band_min_pct" => "ev-band-min-pct", Percent;
    "band_max_pct" => "ev-band-max-pct", Percent;
    "campaigns" => "ev-campaigns", Count;
    "ad_spend" => "ev-ad-spend", Money;
    "total_sales" => "ev-total-sales", Money;
    "sales_source" => "ev-sales-source", Code;
    "daily_units" => "ev-daily-units", Number;
    "days_of_cover" => "ev-days-of-cover", Days;
    "lead_time_days" => "ev-lead-time-days", Days;
    "safety_days" => "ev-safety-days", Days;
    "stockout_lookback_days" => "ev-stockout-lookback-days", Days;
    "channel" => "ev-channel", Text;
    "days_of_supply" => "ev-days-of-supply", Days;
    "units_shipped_t30" => "ev-units-shipped-t30", Count;
    "aged_units" => "ev-aged-units", Count;
    "aged_days" => "ev-aged-days", Days;
    "recommended_action" => "ev-recommended-action", Text;
    "price" => "ev-price", Money;
    "unit_cost" => "ev-unit-cost", Money;
    "inbound_freight" => "ev-inbound-freight", Money;
    "amazon_fees" => "ev-amazon-fees", Money;
    "ad_spend_per_unit" => "ev-ad-spend-per-unit", Money;
    "margin_per_unit" => "ev-margin-per-unit", Money;
    // The flywheel itself.
    "stale_jobs" => "ev-stale-jobs", StaleJobs;
    "refusals" => "ev-refusals", Count;
    "days_to_expiry" => "ev-days-to-expiry", Days;
}

/// Where one rule gives a key a narrower sense than the others.
fn rule_specific(rule: RuleId, key: &str) -> Option<Spec> {
    match (rule, key) {
        // wasted_spend's cost is one search term's, not the campaign's.
        (RuleId::WastedSpend, "cost") => Some(Spec {
            label: "ev-cost-search-term",
            kind: Kind::Money,
        }),
        _ => None,
    }
}

/// Every evidence key this module knows.
pub fn keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|(k, _)| *k)
}

/// The label and kind of `key` as `rule` writes it; `None` for a key no
/// rule writes.
pub fn spec(rule: RuleId, key: &str) -> Option<Spec> {
    rule_specific(rule, key).or_else(|| KEYS.iter().find(|(k, _)| *k == key).map(|(_, s)| *s))
}

/// Whether a message leaves `key` out (internal or redundant).
pub fn is_hidden(rule: RuleId, key: &str) -> bool {
    spec(rule, key).is_some_and(|s| s.kind == Kind::Hidden)
}

/// The label of `key` in `lang`; an unknown key reads as words
/// ("some_key" → "Some key"), never as an identifier.
pub fn label(lang: Lang, rule: RuleId, key: &str) -> String {
    match spec(rule, key) {
        Some(s) => tr(lang, s.label),
        None => {
            let words = key.replace('_', " ");
            let mut c = words.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => words,
            }
        }
    }
}

/// One evidence pair as a person reads it: (label, value), in `lang`, with
/// money in `mkt`'s currency.
pub fn format_evidence(
    lang: Lang,
    rule: RuleId,
    key: &str,
    value: &Value,
    mkt: &Marketplace,
) -> (String, String) {
    let kind = spec(rule, key).map_or(Kind::Text, |s| s.kind);
    (
        label(lang, rule, key),
        format_value(lang, kind, key, value, mkt),
    )
}

/// A value of `kind` (for `key`, whose words flags and codes use).
pub fn format_value(lang: Lang, kind: Kind, key: &str, value: &Value, mkt: &Marketplace) -> String {
    if value.is_null() {
        return tr(lang, "unknown");
    }
    let num = value.as_f64();
    let unit = |id: &str, n: String| tr_args(lang, id, &[("n", n.into())]);
    match (kind, num) {
        (Kind::Count, Some(x)) => count(x),
        (Kind::Number, Some(x)) => number(x),
        (Kind::Money, Some(x)) => format::money(lang, x, mkt.currency),
        (Kind::Percent, Some(x)) => percent(x),
        (Kind::Share, Some(x)) => share(x),
        (Kind::Points, Some(x)) => unit("unit-points", number(x)),
        (Kind::Stars, Some(x)) => unit("unit-stars", number(x)),
        (Kind::Ratio, Some(x)) => unit("unit-times", number(x)),
        (Kind::Rank, Some(x)) => unit("unit-rank", count(x)),
        (Kind::Hours, Some(x)) => format::hours(lang, x),
        (Kind::Days, Some(x)) if x < 0.0 => {
            let ago = tr_args(
                lang,
                "days-ago",
                &[("n", number(-x).into()), ("count", (-x).into())],
            );
            tr_args(lang, "ev-expired", &[("ago", ago.into())])
        }
        (Kind::Days, Some(x)) => format::days(lang, x),
        (Kind::Date, _) => match value.as_str().map(str::parse::<NaiveDate>) {
            Some(Ok(d)) => format::date(lang, d),
            _ => plain(lang, value),
        },
        (Kind::Flag, _) => match value.as_bool() {
            Some(b) => tr(lang, &format!("ev-{}-{b}", key.replace('_', "-"))),
            None => plain(lang, value),
        },
        (Kind::Quoted, _) => match (value.as_str(), lang) {
            (Some(s), Lang::En) => format!("\"{s}\""),
            (Some(s), Lang::ZhCn) => format!("“{s}”"),
            (None, _) => plain(lang, value),
        },
        (Kind::Code, _) => match value.as_str().and_then(|c| code_id(key, c)) {
            Some(id) => tr(lang, id),
            None => plain(lang, value),
        },
        (Kind::List, _) => list(lang, value, |v| plain(lang, v)),
        (Kind::StaleJobs, _) => list(lang, value, |j| stale_job(lang, j)),
        _ => plain(lang, value),
    }
}

/// The message id of a code's words.
fn code_id(key: &str, code: &str) -> Option<&'static str> {
    Some(match (key, code) {
        ("ad_product", "SPONSORED_PRODUCTS") => "ev-ad-product-sp",
        ("ad_product", "SPONSORED_BRANDS") => "ev-ad-product-sb",
        ("ad_product", "SPONSORED_DISPLAY") => "ev-ad-product-sd",
        ("sales_source", "sales_traffic") => "ev-sales-source-sales-traffic",
        ("sales_source", "orders") => "ev-sales-source-orders",
        _ => return None,
    })
}

/// Any value as text: strings as they are, numbers for people, lists
/// joined.
fn plain(lang: Lang, v: &Value) -> String {
    match v {
        Value::Null => tr(lang, "unknown"),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(number).unwrap_or_else(|| n.to_string()),
        Value::Bool(b) => tr(lang, if *b { "yes" } else { "no" }),
        Value::Array(_) => list(lang, v, |x| plain(lang, x)),
        Value::Object(_) => v.to_string(),
    }
}

/// At most [`LIST_MAX`] items, then "and N more".
fn list(lang: Lang, v: &Value, item: impl Fn(&Value) -> String) -> String {
    let Some(items) = v.as_array() else {
        return item(v);
    };
    let sep = tr(lang, "list-separator");
    let mut out: Vec<String> = items.iter().take(LIST_MAX).map(item).collect();
    if items.len() > LIST_MAX {
        let rest = items.len() - LIST_MAX;
        out.push(tr_args(
            lang,
            "ev-list-more",
            &[("n", count(rest as f64).into())],
        ));
    }
    out.join(&sep)
}

/// One of data_freshness's stale jobs.
fn stale_job(lang: Lang, j: &Value) -> String {
    let hours = |k: &str| {
        j.get(k)
            .and_then(Value::as_f64)
            .map(|h| format::hours(lang, h))
            .unwrap_or_else(|| tr(lang, "unknown"))
    };
    tr_args(
        lang,
        "ev-stale-job",
        &[
            (
                "job",
                j.get("job").and_then(Value::as_str).unwrap_or("?").into(),
            ),
            ("age", hours("hours_since").into()),
            ("allowed", hours("allowed_hours").into()),
        ],
    )
}
