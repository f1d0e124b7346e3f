//! What Amazon defines, as flywheel needs it: marketplaces and regions now;
//! the LWA client, the HTTP layer, rate limits and the SP-API and Ads
//! clients join here as the sync capabilities land.

pub mod ads;
pub mod backoff;
pub mod calls;
pub mod client;
pub mod http;
pub mod limiter;
pub mod lwa;
pub mod marketplace;
pub mod paging;
pub mod rate_limit;
pub mod reports;
