//! Amazon's marketplaces: the static facts every endpoint needs about one
//! (id, country, display name, domain, currency, language, time zone, region).
//!
//! Ids and regions are from SP-API's "Marketplace IDs" and "SP-API Endpoints"
//! pages (see `shared/amazon/sp-api/REFERENCE.md` §5); time zones follow
//! DESIGN §2.1 and the Ads profiles spec. The sellers model's example gives the
//! shape of the display fields (`"Amazon.com"`, `"www.amazon.com"`, `"en_US"`).

/// One Amazon marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketplaceInfo {
    pub id: &'static str,
    /// ISO 3166-1 alpha-2, as the sellers model wants it (`GB` for the UK,
    /// which Amazon's marketplace table writes `UK`).
    pub country_code: &'static str,
    pub name: &'static str,
    pub domain_name: &'static str,
    pub currency: &'static str,
    pub language: &'static str,
    /// IANA zone in which the marketplace's days are counted (DESIGN §2.1).
    pub timezone: &'static str,
    /// SP-API / Ads region: `na`, `eu` or `fe`.
    pub region: &'static str,
}

macro_rules! mk {
    ($id:expr, $cc:expr, $name:expr, $dom:expr, $cur:expr, $lang:expr, $tz:expr, $region:expr) => {
        MarketplaceInfo {
            id: $id,
            country_code: $cc,
            name: $name,
            domain_name: $dom,
            currency: $cur,
            language: $lang,
            timezone: $tz,
            region: $region,
        }
    };
}

/// Every marketplace the sim knows.
pub const MARKETPLACES: &[MarketplaceInfo] = &[
    mk!(
        "ATVPDKIKX0DER",
        "US",
        "Amazon.com",
        "www.amazon.com",
        "USD",
        "en_US",
        "America/Los_Angeles",
        "na"
    ),
    mk!(
        "A2EUQ1WTGCTBG2",
        "CA",
        "Amazon.ca",
        "www.amazon.ca",
        "CAD",
        "en_CA",
        "America/Los_Angeles",
        "na"
    ),
    mk!(
        "A1AM78C64UM0Y8",
        "MX",
        "Amazon.com.mx",
        "www.amazon.com.mx",
        "MXN",
        "es_MX",
        "America/Los_Angeles",
        "na"
    ),
    mk!(
        "A2Q3Y263D00KWC",
        "BR",
        "Amazon.com.br",
        "www.amazon.com.br",
        "BRL",
        "pt_BR",
        "America/Sao_Paulo",
        "na"
    ),
    mk!(
        "A1F83G8C2ARO7P",
        "GB",
        "Amazon.co.uk",
        "www.amazon.co.uk",
        "GBP",
        "en_GB",
        "Europe/London",
        "eu"
    ),
    mk!(
        "A28R8C7NBKEWEA",
        "IE",
        "Amazon.ie",
        "www.amazon.ie",
        "EUR",
        "en_IE",
        "Europe/Dublin",
        "eu"
    ),
    mk!(
        "A1PA6795UKMFR9",
        "DE",
        "Amazon.de",
        "www.amazon.de",
        "EUR",
        "de_DE",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "A13V1IB3VIYZZH",
        "FR",
        "Amazon.fr",
        "www.amazon.fr",
        "EUR",
        "fr_FR",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "APJ6JRA9NG5V4",
        "IT",
        "Amazon.it",
        "www.amazon.it",
        "EUR",
        "it_IT",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "A1RKKUPIHCS9HS",
        "ES",
        "Amazon.es",
        "www.amazon.es",
        "EUR",
        "es_ES",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "A1805IZSGTT6HS",
        "NL",
        "Amazon.nl",
        "www.amazon.nl",
        "EUR",
        "nl_NL",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "A2NODRKZP88ZB9",
        "SE",
        "Amazon.se",
        "www.amazon.se",
        "SEK",
        "sv_SE",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "A1C3SOZRARQ6R3",
        "PL",
        "Amazon.pl",
        "www.amazon.pl",
        "PLN",
        "pl_PL",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "AMEN7PMS3EDWL",
        "BE",
        "Amazon.com.be",
        "www.amazon.com.be",
        "EUR",
        "fr_BE",
        "Europe/Paris",
        "eu"
    ),
    mk!(
        "A33AVAJ2PDY3EV",
        "TR",
        "Amazon.com.tr",
        "www.amazon.com.tr",
        "TRY",
        "tr_TR",
        "Europe/Istanbul",
        "eu"
    ),
    mk!(
        "A2VIGQ35RCS4UG",
        "AE",
        "Amazon.ae",
        "www.amazon.ae",
        "AED",
        "en_AE",
        "Asia/Dubai",
        "eu"
    ),
    mk!(
        "A17E79C6D8DWNP",
        "SA",
        "Amazon.sa",
        "www.amazon.sa",
        "SAR",
        "ar_SA",
        "Asia/Riyadh",
        "eu"
    ),
    mk!(
        "ARBP9OOSHTCHU",
        "EG",
        "Amazon.eg",
        "www.amazon.eg",
        "EGP",
        "ar_EG",
        "Africa/Cairo",
        "eu"
    ),
    mk!(
        "A21TJRUUN4KGV",
        "IN",
        "Amazon.in",
        "www.amazon.in",
        "INR",
        "en_IN",
        "Asia/Kolkata",
        "eu"
    ),
    mk!(
        "AE08WJ6YKNBMC",
        "ZA",
        "Amazon.co.za",
        "www.amazon.co.za",
        "ZAR",
        "en_ZA",
        "Africa/Johannesburg",
        "eu"
    ),
    mk!(
        "A1VC38T7YXB528",
        "JP",
        "Amazon.co.jp",
        "www.amazon.co.jp",
        "JPY",
        "ja_JP",
        "Asia/Tokyo",
        "fe"
    ),
    mk!(
        "A39IBJ37TRP1C6",
        "AU",
        "Amazon.com.au",
        "www.amazon.com.au",
        "AUD",
        "en_AU",
        "Australia/Sydney",
        "fe"
    ),
    mk!(
        "A19VAU5U5O7RUS",
        "SG",
        "Amazon.sg",
        "www.amazon.sg",
        "SGD",
        "en_SG",
        "Asia/Singapore",
        "fe"
    ),
];

impl MarketplaceInfo {
    /// A day as GET_SELLER_FEEDBACK_DATA writes it in this marketplace:
    /// the marketplace's short date with a two-digit year (`11/05/26` in
    /// the US, `05/11/26` in the UK, `05.11.26` in DE, `26/11/05` in JP),
    /// except SE's four-digit ISO form (`2026-11-05`), as sellers' files
    /// show them.
    pub fn feedback_date(&self, d: chrono::NaiveDate) -> String {
        let form = match self.country_code {
            "US" => "%m/%d/%y",
            "DE" => "%d.%m.%y",
            "SE" => "%Y-%m-%d",
            "JP" => "%y/%m/%d",
            _ => "%d/%m/%y",
        };
        d.format(form).to_string()
    }
}

/// The marketplace with this id.
pub fn by_id(id: &str) -> Option<&'static MarketplaceInfo> {
    MARKETPLACES.iter().find(|m| m.id == id)
}

/// The marketplace of this country (`UK` is accepted for `GB`, as Amazon's own
/// tables write it).
pub fn by_country(code: &str) -> Option<&'static MarketplaceInfo> {
    let code = if code.eq_ignore_ascii_case("UK") {
        "GB"
    } else {
        code
    };
    MARKETPLACES
        .iter()
        .find(|m| m.country_code.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_dates_in_each_marketplaces_form() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 5).unwrap();
        for (cc, want) in [
            ("US", "11/05/26"),
            ("UK", "05/11/26"),
            ("FR", "05/11/26"),
            ("DE", "05.11.26"),
            ("SE", "2026-11-05"),
            ("JP", "26/11/05"),
        ] {
            assert_eq!(by_country(cc).unwrap().feedback_date(d), want, "{cc}");
        }
    }

    #[test]
    fn ids_are_unique_and_zones_parse() {
        for (i, m) in MARKETPLACES.iter().enumerate() {
            assert!(
                MARKETPLACES[i + 1..].iter().all(|o| o.id != m.id),
                "{}",
                m.id
            );
            assert!(
                m.timezone.parse::<chrono_tz::Tz>().is_ok(),
                "{}",
                m.timezone
            );
            assert!(["na", "eu", "fe"].contains(&m.region));
        }
        assert_eq!(by_country("UK").unwrap().id, "A1F83G8C2ARO7P");
        assert_eq!(by_id("ATVPDKIKX0DER").unwrap().country_code, "US");
    }
}
