//! The five reporting v3 report types the sim serves, with the columns,
//! groupBy values and filters Amazon's report-type pages document
//! (`shared/amazon/ads-api/derived/v3_report_types_from_docs.json`, which
//! indexes docs `guides/reporting/v3/report-types/*`). `tests/ads.rs` checks
//! these tables against that index, so they cannot drift from the docs.
//!
//! A column is valid for a request when it is a base metric of the report type
//! or an additional metric of one of the request's groupBy values; `date` only
//! with `timeUnit` DAILY and `startDate`/`endDate` only with SUMMARY.
//!
//! Retention: the docs say 95 days for SP, but Amazon's Known issues page says
//! SP reports only hold the last 65 days, and SB reports 400 before 60 days.
//! The sim enforces DESIGN §3's floors (SP 60, SB 60, SD 65 days before today
//! in the profile's time zone), the strictest reading.

use crate::scenario::AdProduct;

/// One groupBy value of a report type.
#[derive(Debug)]
pub struct GroupBy {
    pub name: &'static str,
    /// Columns this groupBy adds to the base metrics.
    pub columns: &'static [&'static str],
    /// Filters allowed with this groupBy: field → allowed values.
    pub filters: &'static [(&'static str, &'static [&'static str])],
}

/// One report type.
#[derive(Debug)]
pub struct ReportType {
    pub id: &'static str,
    /// The `adProduct` a request for it must name.
    pub ad_product: &'static str,
    pub kind: AdProduct,
    pub base: &'static [&'static str],
    pub group_by: &'static [GroupBy],
    /// Maximum days in one request (inclusive count).
    pub max_range_days: i64,
    /// How many days back from today `startDate` may go.
    pub retention_days: i64,
}

impl ReportType {
    /// The report type with this id, if the sim serves it.
    pub fn find(id: &str) -> Option<&'static ReportType> {
        REPORT_TYPES.iter().find(|t| t.id == id)
    }

    /// A groupBy value of this type.
    pub fn group(&self, name: &str) -> Option<&'static GroupBy> {
        self.group_by.iter().find(|g| g.name == name)
    }

    /// Every column valid for these groupBy values and time unit, in the
    /// docs' order, without duplicates.
    pub fn allowed_columns(&self, groups: &[&GroupBy], daily: bool) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let all = self
            .base
            .iter()
            .chain(groups.iter().flat_map(|g| g.columns.iter()));
        for c in all {
            let time_ok = match *c {
                "date" => daily,
                "startDate" | "endDate" => !daily,
                _ => true,
            };
            if time_ok && !out.contains(c) {
                out.push(c);
            }
        }
        out
    }
}

const STATES: &[&str] = &["ENABLED", "PAUSED", "ARCHIVED"];

const SPCAMPAIGNS_BASE: &[&str] = &[
    "impressions",
    "addToList",
    "qualifiedBorrows",
    "royaltyQualifiedBorrows",
    "clicks",
    "cost",
    "purchases1d",
    "purchases7d",
    "purchases14d",
    "purchases30d",
    "purchasesSameSku1d",
    "purchasesSameSku7d",
    "purchasesSameSku14d",
    "purchasesSameSku30d",
    "unitsSoldClicks1d",
    "unitsSoldClicks7d",
    "unitsSoldClicks14d",
    "unitsSoldClicks30d",
    "sales1d",
    "sales7d",
    "sales14d",
    "sales30d",
    "attributedSalesSameSku1d",
    "attributedSalesSameSku7d",
    "attributedSalesSameSku14d",
    "attributedSalesSameSku30d",
    "unitsSoldSameSku1d",
    "unitsSoldSameSku7d",
    "unitsSoldSameSku14d",
    "unitsSoldSameSku30d",
    "kindleEditionNormalizedPagesRead14d",
    "kindleEditionNormalizedPagesRoyalties14d",
    "date",
    "startDate",
    "endDate",
    "campaignBiddingStrategy",
    "costPerClick",
    "clickThroughRate",
    "spend",
];

const SPCAMPAIGNS_CAMPAIGN: &[&str] = &[
    "campaignName",
    "campaignId",
    "campaignStatus",
    "campaignBudgetAmount",
    "campaignBudgetType",
    "campaignRuleBasedBudgetAmount",
    "campaignApplicableBudgetRuleId",
    "campaignApplicableBudgetRuleName",
    "campaignBudgetCurrencyCode",
    "topOfSearchImpressionShare",
];

const SPCAMPAIGNS_ADGROUP: &[&str] = &["adGroupName", "adGroupId", "adStatus"];

const SPCAMPAIGNS_CAMPAIGNPLACEMENT: &[&str] = &[
    "placementClassification",
    "campaignName",
    "campaignId",
    "campaignStatus",
    "campaignBudgetAmount",
    "campaignBudgetType",
    "campaignRuleBasedBudgetAmount",
    "campaignApplicableBudgetRuleId",
    "campaignApplicableBudgetRuleName",
    "campaignBudgetCurrencyCode",
    "topOfSearchImpressionShare",
];

const SPSEARCHTERM_BASE: &[&str] = &[
    "impressions",
    "addToList",
    "qualifiedBorrows",
    "royaltyQualifiedBorrows",
    "clicks",
    "costPerClick",
    "clickThroughRate",
    "cost",
    "purchases1d",
    "purchases7d",
    "purchases14d",
    "purchases30d",
    "purchasesSameSku1d",
    "purchasesSameSku7d",
    "purchasesSameSku14d",
    "purchasesSameSku30d",
    "unitsSoldClicks1d",
    "unitsSoldClicks7d",
    "unitsSoldClicks14d",
    "unitsSoldClicks30d",
    "sales1d",
    "sales7d",
    "sales14d",
    "sales30d",
    "attributedSalesSameSku1d",
    "attributedSalesSameSku7d",
    "attributedSalesSameSku14d",
    "attributedSalesSameSku30d",
    "unitsSoldSameSku1d",
    "unitsSoldSameSku7d",
    "unitsSoldSameSku14d",
    "unitsSoldSameSku30d",
    "kindleEditionNormalizedPagesRead14d",
    "kindleEditionNormalizedPagesRoyalties14d",
    "salesOtherSku7d",
    "unitsSoldOtherSku7d",
    "acosClicks7d",
    "acosClicks14d",
    "roasClicks7d",
    "roasClicks14d",
    "keywordId",
    "keyword",
    "campaignBudgetCurrencyCode",
    "date",
    "startDate",
    "endDate",
    "portfolioId",
    "searchTerm",
    "campaignName",
    "campaignId",
    "campaignBudgetType",
    "campaignBudgetAmount",
    "campaignStatus",
    "keywordBid",
    "adGroupName",
    "adGroupId",
    "keywordType",
    "matchType",
    "targeting",
    "adKeywordStatus",
];

const SPSEARCHTERM_SEARCHTERM: &[&str] = &["adKeywordStatus"];

const SPADVERTISEDPRODUCT_BASE: &[&str] = &[
    "date",
    "startDate",
    "endDate",
    "campaignName",
    "campaignId",
    "adGroupName",
    "adGroupId",
    "adId",
    "addToList",
    "qualifiedBorrows",
    "royaltyQualifiedBorrows",
    "portfolioId",
    "impressions",
    "clicks",
    "costPerClick",
    "clickThroughRate",
    "cost",
    "spend",
    "campaignBudgetCurrencyCode",
    "campaignBudgetAmount",
    "campaignBudgetType",
    "campaignStatus",
    "advertisedAsin",
    "advertisedSku",
    "purchases1d",
    "purchases7d",
    "purchases14d",
    "purchases30d",
    "purchasesSameSku1d",
    "purchasesSameSku7d",
    "purchasesSameSku14d",
    "purchasesSameSku30d",
    "unitsSoldClicks1d",
    "unitsSoldClicks7d",
    "unitsSoldClicks14d",
    "unitsSoldClicks30d",
    "sales1d",
    "sales7d",
    "sales14d",
    "sales30d",
    "attributedSalesSameSku1d",
    "attributedSalesSameSku7d",
    "attributedSalesSameSku14d",
    "attributedSalesSameSku30d",
    "salesOtherSku7d",
    "unitsSoldSameSku1d",
    "unitsSoldSameSku7d",
    "unitsSoldSameSku14d",
    "unitsSoldSameSku30d",
    "unitsSoldOtherSku7d",
    "kindleEditionNormalizedPagesRead14d",
    "kindleEditionNormalizedPagesRoyalties14d",
    "acosClicks7d",
    "acosClicks14d",
    "roasClicks7d",
    "roasClicks14d",
];

const SPADVERTISEDPRODUCT_ADVERTISER: &[&str] = &[];

const SBCAMPAIGNS_BASE: &[&str] = &[
    "addToCart",
    "addToCartClicks",
    "addToCartRate",
    "addToList",
    "addToListFromClicks",
    "qualifiedBorrows",
    "qualifiedBorrowsFromClicks",
    "royaltyQualifiedBorrows",
    "royaltyQualifiedBorrowsFromClicks",
    "brandedSearches",
    "brandedSearchesClicks",
    "campaignBudgetAmount",
    "campaignBudgetCurrencyCode",
    "campaignBudgetType",
    "campaignId",
    "campaignName",
    "campaignStatus",
    "clicks",
    "cost",
    "costType",
    "date",
    "detailPageViews",
    "detailPageViewsClicks",
    "eCPAddToCart",
    "endDate",
    "impressions",
    "kindleEditionNormalizedPagesRead14d",
    "kindleEditionNormalizedPagesRoyalties14d",
    "newToBrandDetailPageViewRate",
    "newToBrandDetailPageViews",
    "newToBrandDetailPageViewsClicks",
    "newToBrandECPDetailPageView",
    "newToBrandPurchases",
    "newToBrandPurchasesClicks",
    "newToBrandPurchasesPercentage",
    "newToBrandPurchasesRate",
    "newToBrandSales",
    "newToBrandSalesClicks",
    "newToBrandSalesPercentage",
    "newToBrandUnitsSold",
    "newToBrandUnitsSoldClicks",
    "newToBrandUnitsSoldPercentage",
    "purchases",
    "purchasesClicks",
    "purchasesPromoted",
    "sales",
    "salesClicks",
    "salesPromoted",
    "startDate",
    "topOfSearchImpressionShare",
    "unitsSold",
    "unitsSoldClicks",
    "video5SecondViewRate",
    "video5SecondViews",
    "videoCompleteViews",
    "videoFirstQuartileViews",
    "videoMidpointViews",
    "videoThirdQuartileViews",
    "videoUnmutes",
    "viewabilityRate",
    "viewableImpressions",
    "viewClickThroughRate",
];

const SBCAMPAIGNS_CAMPAIGN: &[&str] = &[
    "campaignBudgetAmount",
    "campaignBudgetCurrencyCode",
    "campaignBudgetType",
    "longTermSales",
    "longTermROAS",
    "topOfSearchImpressionShare",
];

const SDCAMPAIGNS_BASE: &[&str] = &[
    "addToCart",
    "addToCartClicks",
    "addToCartRate",
    "addToCartViews",
    "addToList",
    "addToListFromClicks",
    "addToListFromViews",
    "qualifiedBorrows",
    "qualifiedBorrowsFromClicks",
    "qualifiedBorrowsFromViews",
    "royaltyQualifiedBorrows",
    "royaltyQualifiedBorrowsFromClicks",
    "royaltyQualifiedBorrowsFromViews",
    "brandedSearches",
    "brandedSearchesClicks",
    "brandedSearchesViews",
    "brandedSearchRate",
    "campaignBudgetCurrencyCode",
    "campaignId",
    "campaignName",
    "clicks",
    "cost",
    "date",
    "detailPageViews",
    "detailPageViewsClicks",
    "eCPAddToCart",
    "eCPBrandSearch",
    "endDate",
    "impressions",
    "impressionsViews",
    "newToBrandPurchases",
    "newToBrandPurchasesClicks",
    "newToBrandSalesClicks",
    "newToBrandUnitsSold",
    "newToBrandUnitsSoldClicks",
    "purchases",
    "purchasesClicks",
    "purchasesPromotedClicks",
    "sales",
    "salesClicks",
    "salesPromotedClicks",
    "startDate",
    "unitsSold",
    "unitsSoldClicks",
    "videoCompleteViews",
    "videoFirstQuartileViews",
    "videoMidpointViews",
    "videoThirdQuartileViews",
    "videoUnmutes",
    "viewabilityRate",
    "viewClickThroughRate",
];

const SDCAMPAIGNS_CAMPAIGN: &[&str] = &[
    "campaignBudgetAmount",
    "campaignStatus",
    "costType",
    "cumulativeReach",
    "impressionsFrequencyAverage",
    "longTermSales",
    "longTermROAS",
    "newToBrandDetailPageViewClicks",
    "newToBrandDetailPageViewRate",
    "newToBrandDetailPageViews",
    "newToBrandDetailPageViewViews",
    "newToBrandECPDetailPageView",
    "newToBrandSales",
];

const SDCAMPAIGNS_MATCHEDTARGET: &[&str] = &["matchedTargetAsin"];

/// The report types served.
pub const REPORT_TYPES: &[ReportType] = &[
    ReportType {
        id: "spCampaigns",
        ad_product: "SPONSORED_PRODUCTS",
        kind: AdProduct::SP,
        base: SPCAMPAIGNS_BASE,
        group_by: &[
            GroupBy {
                name: "campaign",
                columns: SPCAMPAIGNS_CAMPAIGN,
                filters: &[("campaignStatus", STATES)],
            },
            GroupBy {
                name: "adGroup",
                columns: SPCAMPAIGNS_ADGROUP,
                filters: &[("adStatus", STATES)],
            },
            GroupBy {
                name: "campaignPlacement",
                columns: SPCAMPAIGNS_CAMPAIGNPLACEMENT,
                filters: &[("campaignSite", &["AmazonBusiness"])],
            },
        ],
        max_range_days: 31,
        retention_days: 60,
    },
    ReportType {
        id: "spSearchTerm",
        ad_product: "SPONSORED_PRODUCTS",
        kind: AdProduct::SP,
        base: SPSEARCHTERM_BASE,
        group_by: &[GroupBy {
            name: "searchTerm",
            columns: SPSEARCHTERM_SEARCHTERM,
            filters: &[(
                "keywordType",
                &[
                    "BROAD",
                    "PHRASE",
                    "EXACT",
                    "TARGETING_EXPRESSION",
                    "TARGETING_EXPRESSION_PREDEFINED",
                ],
            )],
        }],
        max_range_days: 31,
        retention_days: 60,
    },
    ReportType {
        id: "spAdvertisedProduct",
        ad_product: "SPONSORED_PRODUCTS",
        kind: AdProduct::SP,
        base: SPADVERTISEDPRODUCT_BASE,
        group_by: &[GroupBy {
            name: "advertiser",
            columns: SPADVERTISEDPRODUCT_ADVERTISER,
            filters: &[("adCreativeStatus", STATES)],
        }],
        max_range_days: 31,
        retention_days: 60,
    },
    ReportType {
        id: "sbCampaigns",
        ad_product: "SPONSORED_BRANDS",
        kind: AdProduct::SB,
        base: SBCAMPAIGNS_BASE,
        group_by: &[GroupBy {
            name: "campaign",
            columns: SBCAMPAIGNS_CAMPAIGN,
            filters: &[("campaignStatus", STATES)],
        }],
        max_range_days: 31,
        retention_days: 60,
    },
    ReportType {
        id: "sdCampaigns",
        ad_product: "SPONSORED_DISPLAY",
        kind: AdProduct::SD,
        base: SDCAMPAIGNS_BASE,
        group_by: &[
            GroupBy {
                name: "campaign",
                columns: SDCAMPAIGNS_CAMPAIGN,
                filters: &[],
            },
            GroupBy {
                name: "matchedTarget",
                columns: SDCAMPAIGNS_MATCHEDTARGET,
                filters: &[],
            },
        ],
        max_range_days: 31,
        retention_days: 65,
    },
];
