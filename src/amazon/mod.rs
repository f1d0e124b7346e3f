//! What Amazon defines and how to call it, as flywheel needs it:
//! the LWA client ([`lwa`]), the HTTP layer and
//! its error classification ([`http`], [`client`], [`backoff`]), rate
//! limits ([`rate_limit`], [`limiter`]), call counts ([`calls`]), paging
//! ([`paging`]), the SP-API Reports API and its budget ([`reports`]), report
//! documents ([`document`]) and the Ads API ([`ads`]).
//!
//! Imports nothing from `sync`: what a job does with a call or a document
//! (its cursor, its deadline, its place in the budget) is the job's.

pub mod ads;
pub mod backoff;
pub mod calls;
pub mod client;
pub mod document;
pub mod http;
pub mod limiter;
pub mod lwa;
pub mod paging;
pub mod rate_limit;
pub mod reports;
