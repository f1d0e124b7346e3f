//! An account's recent sales per marketplace and ASIN: what an alert's
//! money at stake is estimated from, and measured against (a share of the
//! marketplace's sales, so that amounts in different currencies are never
//! compared). Filled by `store::recent_sales`; read by `alert::stake`.

use std::collections::BTreeMap;

/// The days a marketplace's recent sales are averaged over: the last 7
/// complete days of each marketplace.
pub const RECENT_DAYS: i64 = 7;

/// The windows (days ending yesterday) a product's sales per day are
/// taken from: the best of them. A stockout or a suppression stops sales,
/// so its last 7 days may show none; what the product sold per day over a
/// longer window is then what it loses.
pub const PRODUCT_WINDOWS: [i64; 3] = [7, 14, 30];

/// One marketplace's ordered product sales per day, in its currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketSales {
    /// The marketplace's currency (ISO code).
    pub currency: String,
    /// The whole marketplace's sales per day over the last
    /// [`RECENT_DAYS`] days; `None` when unknown.
    pub per_day: Option<f64>,
    /// ASIN → its best sales per day of the [`PRODUCT_WINDOWS`]. When
    /// `known`, an absent ASIN sold nothing; otherwise nothing is known
    /// about it.
    pub asins: BTreeMap<String, f64>,
    /// SKU → the same from orders (for a SKU whose ASIN is not known).
    pub skus: BTreeMap<String, f64>,
    /// Whether the per-ASIN and per-SKU figures cover the days.
    pub known: bool,
}

/// Recent sales of one account: marketplace id → its figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecentSales {
    pub marketplaces: BTreeMap<String, MarketSales>,
}
