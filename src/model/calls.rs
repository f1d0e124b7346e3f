//! What the API clients count per hour and the store keeps: the key of one
//! counter row and its counts.

/// The key of one counter row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallKey {
    pub account: String,
    pub api: &'static str,
    pub operation: String,
    /// "2xx", "4xx", "5xx", "network".
    pub status_class: &'static str,
    /// The UTC hour, `YYYY-MM-DDTHH:00:00Z`.
    pub hour_start: String,
}

/// Calls and 429s of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCount {
    pub calls: u64,
    pub throttled: u64,
}
