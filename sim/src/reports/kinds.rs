//! The report types the sim generates, and the per-type request checks that
//! `createReport` applies (REFERENCE.md §4 and the report schemas).

use std::collections::BTreeMap;

/// A report type the sim can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// `GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL` (TSV).
    AllOrders,
    /// `GET_SALES_AND_TRAFFIC_REPORT` (JSON).
    SalesAndTraffic,
    /// `GET_FBA_INVENTORY_PLANNING_DATA` (TSV).
    InventoryPlanning,
    /// `GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA` (TSV).
    MyiUnsuppressed,
    /// `GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA` (TSV).
    FbaReturns,
    /// `GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE` (TSV, MFN returns).
    MfnReturns,
    /// `GET_SELLER_FEEDBACK_DATA` (TSV, 1–3 star only).
    SellerFeedback,
    /// `GET_V2_SELLER_PERFORMANCE_REPORT` (JSON, account health).
    SellerPerformance,
    /// `GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT` (JSON).
    SearchQueryPerformance,
    /// `GET_MERCHANT_LISTINGS_ALL_DATA` (TSV): not in the list, served
    /// because the model's `createReport` sandbox example asks for it.
    MerchantListingsAll,
}

impl ReportKind {
    /// Every kind, for lookups.
    pub const ALL: [ReportKind; 10] = [
        ReportKind::AllOrders,
        ReportKind::SalesAndTraffic,
        ReportKind::InventoryPlanning,
        ReportKind::MyiUnsuppressed,
        ReportKind::FbaReturns,
        ReportKind::MfnReturns,
        ReportKind::SellerFeedback,
        ReportKind::SellerPerformance,
        ReportKind::SearchQueryPerformance,
        ReportKind::MerchantListingsAll,
    ];

    /// Amazon's `reportType` value.
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::AllOrders => "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            ReportKind::SalesAndTraffic => "GET_SALES_AND_TRAFFIC_REPORT",
            ReportKind::InventoryPlanning => "GET_FBA_INVENTORY_PLANNING_DATA",
            ReportKind::MyiUnsuppressed => "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
            ReportKind::FbaReturns => "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
            ReportKind::MfnReturns => "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
            ReportKind::SellerFeedback => "GET_SELLER_FEEDBACK_DATA",
            ReportKind::SellerPerformance => "GET_V2_SELLER_PERFORMANCE_REPORT",
            ReportKind::SearchQueryPerformance => {
                "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT"
            }
            ReportKind::MerchantListingsAll => "GET_MERCHANT_LISTINGS_ALL_DATA",
        }
    }

    /// The kind with this `reportType`.
    pub fn from_name(name: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// JSON documents (UTF-8) rather than Latin-1 flat files.
    pub fn is_json(self) -> bool {
        matches!(
            self,
            ReportKind::SalesAndTraffic
                | ReportKind::SellerPerformance
                | ReportKind::SearchQueryPerformance
        )
    }

    /// Types whose documentation says they accept exactly one marketplace
    /// (more than one ends the report FATAL).
    pub fn single_marketplace(self) -> bool {
        matches!(
            self,
            ReportKind::SalesAndTraffic | ReportKind::SearchQueryPerformance
        )
    }

    /// Types that answer several of the seller's marketplaces in one document.
    ///
    /// Decided per type (Amazon documents few of them; see docs/scenario.md):
    /// - the order report lists every requested marketplace's orders, each row
    ///   naming its sales channel (Amazon's order reports take several
    ///   marketplaces of a unified account);
    /// - Sales and Traffic and Search Query Performance take exactly one
    ///   marketplace ([`ReportKind::single_marketplace`], Amazon's documentation);
    /// - the account health report (`GET_V2_SELLER_PERFORMANCE_REPORT`) is the
    ///   account's: its schema (`accountHealthReport-2020-11-18.json`) lists
    ///   `accountStatuses` and `performanceMetrics` per `marketplaceId`, one
    ///   element per requested marketplace;
    /// - every other type describes one marketplace (its rows carry no
    ///   marketplace: listings, FBA inventory, returns, seller feedback with its
    ///   marketplace's date format): a request naming two of the seller's
    ///   marketplaces ends FATAL like the single-marketplace types.
    ///   Deviations: Amazon's behaviour here is not documented; marketplaces the
    ///   seller does not sell in are ignored, as they were before.
    pub fn merges_marketplaces(self) -> bool {
        matches!(self, ReportKind::AllOrders | ReportKind::SellerPerformance)
    }

    /// Check `reportOptions` for this type; `Err` is the 400 message.
    pub fn check_options(self, options: &BTreeMap<String, String>) -> Result<(), String> {
        let one_of = |key: &str, allowed: &[&str], required: bool| -> Result<(), String> {
            match options.get(key) {
                None if required => Err(format!(
                    "reportOptions.{key} is required for {}",
                    self.name()
                )),
                None => Ok(()),
                Some(v) if allowed.contains(&v.as_str()) => Ok(()),
                Some(v) => Err(format!(
                    "Invalid reportOptions.{key} `{v}`: valid values are {}",
                    allowed.join(", ")
                )),
            }
        };
        match self {
            ReportKind::SalesAndTraffic => {
                one_of("dateGranularity", &["DAY", "WEEK", "MONTH"], false)?;
                one_of("asinGranularity", &["PARENT", "CHILD", "SKU"], false)
            }
            ReportKind::SearchQueryPerformance => {
                one_of("reportPeriod", &["WEEK", "MONTH", "QUARTER"], true)?;
                let asin = options.get("asin").map(|s| s.trim()).unwrap_or("");
                if asin.is_empty() {
                    return Err(format!(
                        "reportOptions.asin is required for {}",
                        self.name()
                    ));
                }
                if options["asin"].chars().count() > 200 {
                    return Err("reportOptions.asin exceeds the 200-character limit".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ReportKind::ALL {
            assert_eq!(ReportKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ReportKind::from_name("BAD_FEE_DISCOUNTS_REPORT"), None);
    }

    #[test]
    fn options_are_checked() {
        let opts = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let st = ReportKind::SalesAndTraffic;
        assert!(st.check_options(&opts(&[])).is_ok());
        assert!(st
            .check_options(&opts(&[("dateGranularity", "WEEK")]))
            .is_ok());
        assert!(st
            .check_options(&opts(&[("dateGranularity", "YEAR")]))
            .is_err());
        let sqp = ReportKind::SearchQueryPerformance;
        assert!(sqp
            .check_options(&opts(&[("reportPeriod", "WEEK")]))
            .is_err());
        assert!(sqp
            .check_options(&opts(&[("reportPeriod", "WEEK"), ("asin", "B0A B0B")]))
            .is_ok());
        let long = "B000000000 ".repeat(19);
        assert!(sqp
            .check_options(&opts(&[("reportPeriod", "WEEK"), ("asin", long.trim())]))
            .is_err());
    }
}
