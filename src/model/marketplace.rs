//! Amazon's marketplaces: ids, country codes, regions and the time zone that
//! defines a marketplace's calendar day (DESIGN §2.1).
//!
//! The table is Amazon's published list ("Marketplace IDs", see
//! `shared/amazon/sp-api/REFERENCE.md` §5). It is data, not behaviour: the
//! config validates against it and sync jobs read the region and time zone.

use chrono_tz::{Africa, America, Asia, Australia, Europe};
use std::fmt;

/// One of Amazon's three SP-API / Ads regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// North America: CA, US, MX, BR.
    Na,
    /// Europe, Middle East, India.
    Eu,
    /// Far East: SG, AU, JP.
    Fe,
}

impl Region {
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::Fe => "fe",
        }
    }

    /// Production SP-API endpoint of the region.
    pub fn sp_api_endpoint(self) -> &'static str {
        match self {
            Region::Na => "https://sellingpartnerapi-na.amazon.com",
            Region::Eu => "https://sellingpartnerapi-eu.amazon.com",
            Region::Fe => "https://sellingpartnerapi-fe.amazon.com",
        }
    }

    /// Production Ads API endpoint of the region.
    pub fn ads_endpoint(self) -> &'static str {
        match self {
            Region::Na => "https://advertising-api.amazon.com",
            Region::Eu => "https://advertising-api-eu.amazon.com",
            Region::Fe => "https://advertising-api-fe.amazon.com",
        }
    }

    /// LWA token endpoint. SP-API documents `api.amazon.com` for every
    /// region; the Ads API uses regional hosts for EU and FE.
    pub fn token_url(self, ads: bool) -> &'static str {
        match (self, ads) {
            (Region::Eu, true) => "https://api.amazon.co.uk/auth/o2/token",
            (Region::Fe, true) => "https://api.amazon.co.jp/auth/o2/token",
            _ => "https://api.amazon.com/auth/o2/token",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A marketplace Amazon publishes an id for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Marketplace {
    pub id: &'static str,
    /// Country code as Amazon writes it (`UK`, not `GB`).
    pub country: &'static str,
    pub region: Region,
    /// The zone whose calendar days are the marketplace's days.
    pub tz: chrono_tz::Tz,
    pub currency: &'static str,
}

macro_rules! mp {
    ($id:literal, $cc:literal, $region:ident, $tz:path, $cur:literal) => {
        Marketplace {
            id: $id,
            country: $cc,
            region: Region::$region,
            tz: $tz,
            currency: $cur,
        }
    };
}

/// Amazon's marketplaces (REFERENCE.md §5).
pub const MARKETPLACES: &[Marketplace] = &[
    mp!("A2EUQ1WTGCTBG2", "CA", Na, America::Los_Angeles, "CAD"),
    mp!("ATVPDKIKX0DER", "US", Na, America::Los_Angeles, "USD"),
    mp!("A1AM78C64UM0Y8", "MX", Na, America::Los_Angeles, "MXN"),
    mp!("A2Q3Y263D00KWC", "BR", Na, America::Sao_Paulo, "BRL"),
    mp!("A28R8C7NBKEWEA", "IE", Eu, Europe::Dublin, "EUR"),
    mp!("A1RKKUPIHCS9HS", "ES", Eu, Europe::Paris, "EUR"),
    mp!("A1F83G8C2ARO7P", "UK", Eu, Europe::London, "GBP"),
    mp!("A13V1IB3VIYZZH", "FR", Eu, Europe::Paris, "EUR"),
    mp!("AMEN7PMS3EDWL", "BE", Eu, Europe::Paris, "EUR"),
    mp!("A1805IZSGTT6HS", "NL", Eu, Europe::Paris, "EUR"),
    mp!("A1PA6795UKMFR9", "DE", Eu, Europe::Paris, "EUR"),
    mp!("APJ6JRA9NG5V4", "IT", Eu, Europe::Paris, "EUR"),
    mp!("A2NODRKZP88ZB9", "SE", Eu, Europe::Paris, "SEK"),
    mp!("AE08WJ6YKNBMC", "ZA", Eu, Africa::Johannesburg, "ZAR"),
    mp!("A1C3SOZRARQ6R3", "PL", Eu, Europe::Paris, "PLN"),
    mp!("ARBP9OOSHTCHU", "EG", Eu, Africa::Cairo, "EGP"),
    mp!("A33AVAJ2PDY3EV", "TR", Eu, Europe::Istanbul, "TRY"),
    mp!("A17E79C6D8DWNP", "SA", Eu, Asia::Riyadh, "SAR"),
    mp!("A2VIGQ35RCS4UG", "AE", Eu, Asia::Dubai, "AED"),
    mp!("A21TJRUUN4KGV", "IN", Eu, Asia::Kolkata, "INR"),
    mp!("A19VAU5U5O7RUS", "SG", Fe, Asia::Singapore, "SGD"),
    mp!("A39IBJ37TRP1C6", "AU", Fe, Australia::Sydney, "AUD"),
    mp!("A1VC38T7YXB528", "JP", Fe, Asia::Tokyo, "JPY"),
];

/// Finds a marketplace by id (`ATVPDKIKX0DER`) or country code (`US`,
/// case-insensitive; `GB` is accepted for `UK` as older docs write it).
pub fn lookup(key: &str) -> Option<&'static Marketplace> {
    let key = key.trim();
    let upper = key.to_ascii_uppercase();
    let cc = if upper == "GB" { "UK" } else { upper.as_str() };
    MARKETPLACES.iter().find(|m| m.id == key || m.country == cc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_id_and_country() {
        assert_eq!(lookup("ATVPDKIKX0DER").unwrap().country, "US");
        assert_eq!(lookup("de").unwrap().id, "A1PA6795UKMFR9");
        assert_eq!(lookup("GB").unwrap().id, "A1F83G8C2ARO7P");
        assert!(lookup("XX").is_none());
        assert!(lookup("atvpdkikx0der").is_none(), "ids are case-sensitive");
    }
}
