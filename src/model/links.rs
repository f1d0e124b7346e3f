//! Where a message sends the seller: the product's detail page on the
//! marketplace's retail site, the Seller Central page where they act, the
//! campaign in the advertising console (DESIGN §5.1). The marketplace →
//! host table and the page paths live here and nowhere else.
//!
//! Every link is a plain `https` URL to one of Amazon's own hosts (retail,
//! Seller Central, advertising console): no tracking parameters, nothing
//! else. Every value put into a URL (ASIN, SKU, campaign id) is
//! percent-encoded, so a hostile SKU cannot change the host, the path or
//! another parameter. Where a deep path needs a value the caller does not
//! have, the link falls back to the marketplace's Seller Central home.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::marketplace::Marketplace;

/// The hosts of one marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosts {
    /// The retail site shoppers buy on: `www.amazon.de`.
    pub retail: &'static str,
    /// Seller Central for the marketplace: `sellercentral-europe.amazon.com`.
    pub seller_central: &'static str,
    /// The advertising console: `advertising.amazon.de`.
    pub ads_console: &'static str,
}

/// The console every marketplace can sign in to: since Amazon Ads' global
/// manager accounts (advertising.amazon.com/resources/whats-new/
/// global-features-manager-accounts, June 2022) one sign-in reaches the
/// accounts of every marketplace. Used where no country console is cited.
const ADS_GLOBAL: &str = "advertising.amazon.com";

/// Writes [`HOSTS`] one marketplace a line: `CC: retail | Seller Central |
/// ads console;` (`global` for [`ADS_GLOBAL`]).
macro_rules! hosts {
    (@ads global) => { ADS_GLOBAL };
    (@ads $ads:literal) => { $ads };
    ($( $cc:ident: $retail:literal | $sc:literal | $ads:tt; )*) => {
        /// Marketplace (country code as `marketplace::MARKETPLACES` has it)
        /// → its hosts (sources beside the table).
        const HOSTS: &[(&str, Hosts)] = &[
            $( (stringify!($cc), h($retail, $sc, hosts!(@ads $ads))) ),*
        ];
    };
}

// The marketplace → hosts table. Sources:
// - retail: Amazon's own sites per country, as listed with the marketplace
//   ids ("Amazon Business marketplace URLs", developer-docs.amazon.com/
//   amazon-business/docs/amazon-business-urls, for the larger ones; the
//   rest are the country domains Amazon operates: amazon.ie, amazon.com.be,
//   amazon.co.za, amazon.eg, amazon.sa, amazon.ae, amazon.sg, ...).
// - Seller Central: the SP-API documentation's "Seller Central URLs"
//   table (developer-docs.amazon.com/sp-api/docs/seller-central-urls):
//   UK, DE, FR, IT and ES share sellercentral-europe.amazon.com; the other
//   marketplaces have their own country host.
// - advertising console: the country consoles Amazon's own help names
//   (kdp.amazon.com/en_US/help/topic/G202081980: advertising.amazon.com,
//   .ca, .co.uk, .de, .es, .fr, .it, .com.au; Amazon Ads' Japanese help at
//   advertising.amazon.co.jp); ADS_GLOBAL elsewhere.
hosts! {
    US: "www.amazon.com" | "sellercentral.amazon.com" | "advertising.amazon.com";
    CA: "www.amazon.ca" | "sellercentral.amazon.ca" | "advertising.amazon.ca";
    MX: "www.amazon.com.mx" | "sellercentral.amazon.com.mx" | global;
    BR: "www.amazon.com.br" | "sellercentral.amazon.com.br" | global;
    IE: "www.amazon.ie" | "sellercentral.amazon.ie" | global;
    ES: "www.amazon.es" | "sellercentral-europe.amazon.com" | "advertising.amazon.es";
    UK: "www.amazon.co.uk" | "sellercentral-europe.amazon.com" | "advertising.amazon.co.uk";
    FR: "www.amazon.fr" | "sellercentral-europe.amazon.com" | "advertising.amazon.fr";
    BE: "www.amazon.com.be" | "sellercentral.amazon.com.be" | global;
    NL: "www.amazon.nl" | "sellercentral.amazon.nl" | global;
    DE: "www.amazon.de" | "sellercentral-europe.amazon.com" | "advertising.amazon.de";
    IT: "www.amazon.it" | "sellercentral-europe.amazon.com" | "advertising.amazon.it";
    SE: "www.amazon.se" | "sellercentral.amazon.se" | global;
    ZA: "www.amazon.co.za" | "sellercentral.amazon.co.za" | global;
    PL: "www.amazon.pl" | "sellercentral.amazon.pl" | global;
    EG: "www.amazon.eg" | "sellercentral.amazon.eg" | global;
    TR: "www.amazon.com.tr" | "sellercentral.amazon.com.tr" | global;
    SA: "www.amazon.sa" | "sellercentral.amazon.sa" | global;
    AE: "www.amazon.ae" | "sellercentral.amazon.ae" | global;
    IN: "www.amazon.in" | "sellercentral.amazon.in" | global;
    SG: "www.amazon.sg" | "sellercentral.amazon.sg" | global;
    AU: "www.amazon.com.au" | "sellercentral.amazon.com.au" | "advertising.amazon.com.au";
    JP: "www.amazon.co.jp" | "sellercentral.amazon.co.jp" | "advertising.amazon.co.jp";
}

const fn h(retail: &'static str, seller_central: &'static str, ads_console: &'static str) -> Hosts {
    Hosts {
        retail,
        seller_central,
        ads_console,
    }
}

/// The US hosts: the fallback for a marketplace missing from the table
/// (a test keeps the table complete).
const US: Hosts = h(
    "www.amazon.com",
    "sellercentral.amazon.com",
    "advertising.amazon.com",
);

/// The hosts of `mkt`.
pub fn hosts(mkt: &Marketplace) -> Hosts {
    HOSTS
        .iter()
        .find(|(cc, _)| *cc == mkt.country)
        .map_or(US, |(_, h)| *h)
}

/// A Seller Central page where the seller acts. Paths are those Seller
/// Central serves in every marketplace; each cites where it was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// `/home`: the fallback.
    Home,
    /// `/performance/dashboard`: Account Health (Performance > Account Health).
    AccountHealth,
    /// `/feedback-manager/index.html`: Feedback Manager (Performance >
    /// Feedback), where negative feedback is answered.
    FeedbackManager,
    /// `/myinventory/inventory?searchField=all&searchTerm=SKU`: Manage All
    /// Inventory, filtered to one SKU when given.
    ManageInventory { sku: Option<&'a str> },
    /// `/restockinventory/recommendations`: Restock Inventory (Seller
    /// Central help G201634550 links it so).
    Restock,
    /// `/returns/list`: Manage Returns.
    Returns,
    /// `/abis/listing/edit?marketplaceID=…&sku=…`: the listing editor
    /// (Manage All Inventory > Edit).
    EditListing { sku: &'a str },
    /// `/fixyourproducts`: Fix Your Products, the suppressed and inactive
    /// listings with what each needs.
    FixListing,
    /// `/brand-analytics/dashboard`: Brand Analytics; with an ASIN, its
    /// Search Query Performance view
    /// (`/brand-analytics/dashboard/query-performance?view-id=query-performance-asin-view&asin=…`).
    BrandAnalytics { asin: Option<&'a str> },
}

/// A page of the advertising console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdsPage<'a> {
    /// `/cm/campaigns`: the campaign manager.
    Campaigns,
    /// `/cm/{sp|sb|sd}/campaigns/{id}`: one campaign; `ad_product` as the
    /// Ads API names it (`SPONSORED_PRODUCTS`, ...). An unknown product or
    /// an id that is not one falls back to the campaign manager.
    Campaign { ad_product: &'a str, id: &'a str },
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but the unreserved characters, so the value
/// can stand in a path segment or a query value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// Whether `s` can be a path segment: ids only (ASINs, campaign ids).
/// Browsers read an encoded `%2E%2E` as `..`, so encoding alone cannot
/// keep an arbitrary value inside its segment; query values can be
/// anything.
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The product's detail page: `https://www.amazon.de/dp/B0…`; the retail
/// home page for something that is not an ASIN.
pub fn detail_page(mkt: &Marketplace, asin: &str) -> String {
    let asin = asin.trim();
    if !is_id(asin) {
        return format!("https://{}/", hosts(mkt).retail);
    }
    format!("https://{}/dp/{}", hosts(mkt).retail, encode(asin))
}

/// The marketplace's Seller Central home.
pub fn seller_central_home(mkt: &Marketplace) -> String {
    seller_central(mkt, Page::Home)
}

/// A Seller Central page of `mkt`; the home page where a value the page
/// needs is empty.
pub fn seller_central(mkt: &Marketplace, page: Page<'_>) -> String {
    let host = hosts(mkt).seller_central;
    let nonempty = |s: &str| !s.trim().is_empty();
    let path = match page {
        Page::Home => "/home".to_string(),
        Page::AccountHealth => "/performance/dashboard".to_string(),
        Page::FeedbackManager => "/feedback-manager/index.html".to_string(),
        Page::ManageInventory { sku: Some(sku) } if nonempty(sku) => format!(
            "/myinventory/inventory?searchField=all&searchTerm={}",
            encode(sku.trim())
        ),
        Page::ManageInventory { .. } => "/myinventory/inventory".to_string(),
        Page::Restock => "/restockinventory/recommendations".to_string(),
        Page::Returns => "/returns/list".to_string(),
        Page::EditListing { sku } if nonempty(sku) => format!(
            "/abis/listing/edit?marketplaceID={}&sku={}",
            encode(mkt.id),
            encode(sku.trim())
        ),
        Page::EditListing { .. } => "/home".to_string(),
        Page::FixListing => "/fixyourproducts".to_string(),
        Page::BrandAnalytics { asin: Some(asin) } if nonempty(asin) => format!(
            "/brand-analytics/dashboard/query-performance?view-id=query-performance-asin-view&asin={}",
            encode(asin.trim())
        ),
        Page::BrandAnalytics { .. } => "/brand-analytics/dashboard".to_string(),
    };
    format!("https://{host}{path}")
}

/// A page of `mkt`'s advertising console.
pub fn ads_console(mkt: &Marketplace, page: AdsPage<'_>) -> String {
    let host = hosts(mkt).ads_console;
    let product = |p: &str| match p {
        "SPONSORED_PRODUCTS" => Some("sp"),
        "SPONSORED_BRANDS" => Some("sb"),
        "SPONSORED_DISPLAY" => Some("sd"),
        _ => None,
    };
    match page {
        AdsPage::Campaign { ad_product, id } if is_id(id.trim()) => match product(ad_product) {
            Some(p) => format!("https://{host}/cm/{p}/campaigns/{}", encode(id.trim())),
            None => format!("https://{host}/cm/campaigns"),
        },
        _ => format!("https://{host}/cm/campaigns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::marketplace::{lookup, MARKETPLACES};

    /// (scheme, host, path, query) of a URL this module wrote.
    fn parts(url: &str) -> (&str, &str, &str, Option<&str>) {
        let (scheme, rest) = url.split_once("://").expect("scheme");
        let (host, rest) = rest.split_at(rest.find('/').expect("a path"));
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        (scheme, host, path, query)
    }

    /// Amazon's own domains: `amazon.` and a country suffix Amazon sells on.
    fn is_amazon_host(host: &str) -> bool {
        const SUFFIXES: &[&str] = &[
            "com", "ca", "com.mx", "com.br", "ie", "es", "co.uk", "fr", "com.be", "nl", "de", "it",
            "se", "co.za", "pl", "eg", "com.tr", "sa", "ae", "in", "sg", "com.au", "co.jp",
        ];
        let Some((sub, domain)) = host.split_once('.') else {
            return false;
        };
        !sub.is_empty()
            && sub.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && domain
                .strip_prefix("amazon.")
                .is_some_and(|tld| SUFFIXES.contains(&tld))
    }

    fn every_link(m: &Marketplace, sku: &str, asin: &str, id: &str) -> Vec<String> {
        vec![
            detail_page(m, asin),
            seller_central_home(m),
            seller_central(m, Page::AccountHealth),
            seller_central(m, Page::FeedbackManager),
            seller_central(m, Page::ManageInventory { sku: Some(sku) }),
            seller_central(m, Page::ManageInventory { sku: None }),
            seller_central(m, Page::Restock),
            seller_central(m, Page::Returns),
            seller_central(m, Page::EditListing { sku }),
            seller_central(m, Page::FixListing),
            seller_central(m, Page::BrandAnalytics { asin: Some(asin) }),
            seller_central(m, Page::BrandAnalytics { asin: None }),
            ads_console(m, AdsPage::Campaigns),
            ads_console(
                m,
                AdsPage::Campaign {
                    ad_product: "SPONSORED_PRODUCTS",
                    id,
                },
            ),
        ]
    }

    #[test]
    fn every_marketplace_has_https_links_to_amazon_hosts() {
        for m in MARKETPLACES {
            assert!(
                HOSTS.iter().any(|(cc, _)| *cc == m.country),
                "{} is not in the host table",
                m.country
            );
            for url in every_link(m, "SKU-1", "B0ABC12345", "1005") {
                let (scheme, host, path, _) = parts(&url);
                assert_eq!(scheme, "https", "{url}");
                assert!(is_amazon_host(host), "{}: {url}", m.country);
                assert!(path.starts_with('/'), "{url}");
            }
            assert!(hosts(m).retail.starts_with("www.amazon."), "{}", m.country);
            assert!(
                hosts(m).seller_central.starts_with("sellercentral"),
                "{}",
                m.country
            );
            assert!(
                hosts(m).ads_console.starts_with("advertising.amazon."),
                "{}",
                m.country
            );
        }
    }

    #[test]
    fn links_for_known_marketplaces() {
        let us = lookup("US").unwrap();
        let de = lookup("DE").unwrap();
        let jp = lookup("JP").unwrap();
        let cases: &[(String, &str)] = &[
            (detail_page(us, "B0SIMSPT01"), "https://www.amazon.com/dp/B0SIMSPT01"),
            (detail_page(de, "B0SIMSPT01"), "https://www.amazon.de/dp/B0SIMSPT01"),
            (detail_page(jp, " "), "https://www.amazon.co.jp/"),
            (seller_central(us, Page::AccountHealth), "https://sellercentral.amazon.com/performance/dashboard"),
            (seller_central(de, Page::FeedbackManager), "https://sellercentral-europe.amazon.com/feedback-manager/index.html"),
            (seller_central(jp, Page::Restock), "https://sellercentral.amazon.co.jp/restockinventory/recommendations"),
            (seller_central(us, Page::Returns), "https://sellercentral.amazon.com/returns/list"),
            (seller_central(us, Page::FixListing), "https://sellercentral.amazon.com/fixyourproducts"),
            (
                seller_central(us, Page::EditListing { sku: "FW-SPATULA-01" }),
                "https://sellercentral.amazon.com/abis/listing/edit?marketplaceID=ATVPDKIKX0DER&sku=FW-SPATULA-01",
            ),
            (seller_central(us, Page::EditListing { sku: "" }), "https://sellercentral.amazon.com/home"),
            (
                seller_central(us, Page::ManageInventory { sku: Some("FW SPATULA/01") }),
                "https://sellercentral.amazon.com/myinventory/inventory?searchField=all&searchTerm=FW%20SPATULA%2F01",
            ),
            (
                seller_central(us, Page::BrandAnalytics { asin: Some("B0SIMSPT01") }),
                "https://sellercentral.amazon.com/brand-analytics/dashboard/query-performance?view-id=query-performance-asin-view&asin=B0SIMSPT01",
            ),
            (seller_central_home(de), "https://sellercentral-europe.amazon.com/home"),
            (
                ads_console(us, AdsPage::Campaign { ad_product: "SPONSORED_PRODUCTS", id: "1005" }),
                "https://advertising.amazon.com/cm/sp/campaigns/1005",
            ),
            (
                ads_console(de, AdsPage::Campaign { ad_product: "SPONSORED_BRANDS", id: "77" }),
                "https://advertising.amazon.de/cm/sb/campaigns/77",
            ),
            (
                ads_console(jp, AdsPage::Campaign { ad_product: "DSP", id: "77" }),
                "https://advertising.amazon.co.jp/cm/campaigns",
            ),
            (ads_console(lookup("SG").unwrap(), AdsPage::Campaigns), "https://advertising.amazon.com/cm/campaigns"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn a_hostile_value_cannot_change_the_host_the_path_or_a_parameter() {
        let hostile = "x/../../@evil.example.com:443/?a=b&sku=other#frag \"<script>\n%2F";
        for m in MARKETPLACES {
            let h = hosts(m);
            for url in every_link(m, hostile, hostile, hostile) {
                let (scheme, host, path, query) = parts(&url);
                assert_eq!(scheme, "https");
                assert!(
                    [h.retail, h.seller_central, h.ads_console].contains(&host),
                    "{url}"
                );
                assert!(
                    !url.contains('#') && !url.contains('@') && !url.contains(' '),
                    "{url}"
                );
                assert!(
                    !url.contains('<') && !url.contains('"') && !url.contains('\n'),
                    "{url}"
                );
                // Dots are unreserved, but a `..` can only sit inside a
                // segment with encoded slashes, never be one.
                assert!(
                    path.split('/').all(|seg| seg != ".." && seg != "."),
                    "{url}"
                );
                // The value stays inside one path segment or one parameter.
                if let Some(q) = query {
                    for pair in q.split('&') {
                        let (k, _) = pair.split_once('=').expect("key=value");
                        assert!(
                            [
                                "marketplaceID",
                                "sku",
                                "searchField",
                                "searchTerm",
                                "view-id",
                                "asin"
                            ]
                            .contains(&k),
                            "{url}"
                        );
                    }
                }
            }
            // The encoded value decodes back to itself.
            let url = seller_central(m, Page::EditListing { sku: hostile });
            let value = url.rsplit("&sku=").next().unwrap();
            assert_eq!(decode(value), hostile.trim());
            // Dot segments cannot stand for an id in a path.
            for dots in ["..", ".", "%2e%2e", "%2E."] {
                assert_eq!(detail_page(m, dots), format!("https://{}/", h.retail));
                assert_eq!(
                    ads_console(
                        m,
                        AdsPage::Campaign {
                            ad_product: "SPONSORED_PRODUCTS",
                            id: dots
                        }
                    ),
                    format!("https://{}/cm/campaigns", h.ads_console)
                );
            }
        }
    }

    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encode_keeps_only_unreserved_characters() {
        assert_eq!(encode("Az09-._~"), "Az09-._~");
        assert_eq!(encode("a b/c?d&e=f#g"), "a%20b%2Fc%3Fd%26e%3Df%23g");
        assert_eq!(encode("硅胶"), "%E7%A1%85%E8%83%B6");
    }
}
