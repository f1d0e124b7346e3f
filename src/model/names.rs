//! What a message calls the things it names: products by a short name
//! (the seller's `products_file`, else Amazon's item name), campaigns by
//! their name. Filled by the store for one account; read by the renderers,
//! `check`, `alerts` and `kpis`.

use std::collections::BTreeMap;

/// Names of one account's products and campaigns. Keys are per
/// marketplace where Amazon's names are (a listing's title differs
/// between marketplaces); campaign ids are unique per profile, and a
/// profile is one marketplace, so they key alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// (marketplace id, SKU) → name.
    pub skus: BTreeMap<(String, String), String>,
    /// (marketplace id, ASIN) → name.
    pub asins: BTreeMap<(String, String), String>,
    /// (marketplace id, SKU) → ASIN, so that a SKU's findings join the
    /// card of its ASIN.
    pub sku_asin: BTreeMap<(String, String), String>,
    /// Campaign id → name.
    pub campaigns: BTreeMap<String, String>,
    /// SKU → owner (the `owner` column of `products_file`).
    pub owners: BTreeMap<String, String>,
}

impl Names {
    /// The name of a product: its SKU's, else its ASIN's, else the name of
    /// the ASIN the SKU is listed under.
    pub fn product(
        &self,
        marketplace: &str,
        sku: Option<&str>,
        asin: Option<&str>,
    ) -> Option<&str> {
        let key = |k: &str| (marketplace.to_string(), k.to_string());
        sku.and_then(|s| self.skus.get(&key(s)))
            .or_else(|| asin.and_then(|a| self.asins.get(&key(a))))
            .or_else(|| {
                let a = self.sku_asin.get(&key(sku?))?;
                self.asins.get(&key(a))
            })
            .map(String::as_str)
    }

    /// The ASIN a SKU is listed under in a marketplace.
    pub fn asin_of(&self, marketplace: &str, sku: &str) -> Option<&str> {
        self.sku_asin
            .get(&(marketplace.to_string(), sku.to_string()))
            .map(String::as_str)
    }

    /// A campaign's name.
    pub fn campaign(&self, id: &str) -> Option<&str> {
        self.campaigns.get(id).map(String::as_str)
    }

    /// The name of a subject given by its keys as the finding JSON names
    /// them (`marketplace`, `asin`, `sku`, `campaign_id`): its product's,
    /// else its campaign's. `None` when the subject is neither a product
    /// nor a campaign (a marketplace); `Some(None)` when it is one whose
    /// name is not known.
    pub fn of_subject<'a>(&self, key: impl Fn(&str) -> Option<&'a str>) -> Option<Option<&str>> {
        let (asin, sku, campaign) = (key("asin"), key("sku"), key("campaign_id"));
        if asin.is_some() || sku.is_some() {
            let m = key("marketplace").unwrap_or_default();
            Some(self.product(m, sku, asin))
        } else {
            campaign.map(|c| self.campaign(c))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_is_named_by_its_sku_then_its_asin_then_the_asin_it_is_listed_under() {
        let k = |a: &str, b: &str| (a.to_string(), b.to_string());
        let mut n = Names::default();
        n.skus.insert(k("US", "SKU-1"), "Own name".into());
        n.asins.insert(k("US", "B01"), "Amazon title".into());
        n.sku_asin.insert(k("US", "SKU-2"), "B01".into());
        let cases = [
            (Some("SKU-1"), Some("B01"), Some("Own name")),
            (None, Some("B01"), Some("Amazon title")),
            (Some("SKU-2"), None, Some("Amazon title")),
            (Some("SKU-3"), None, None),
            (None, Some("B02"), None),
        ];
        for (sku, asin, want) in cases {
            assert_eq!(n.product("US", sku, asin), want, "{sku:?} {asin:?}");
        }
        assert_eq!(
            n.product("DE", Some("SKU-1"), None),
            None,
            "per marketplace"
        );
    }

    #[test]
    fn a_subject_is_named_by_its_product_then_its_campaign() {
        let mut n = Names::default();
        n.asins
            .insert(("US".into(), "B01".into()), "Amazon title".into());
        n.campaigns.insert("7".into(), "SP - Mug".into());
        let named = |keys: &[(&'static str, &'static str)]| {
            let keys = keys.to_vec();
            n.of_subject(move |k| keys.iter().find(|(x, _)| *x == k).map(|(_, v)| *v))
                .map(|x| x.map(str::to_string))
        };
        let m = ("marketplace", "US");
        assert_eq!(
            named(&[m, ("asin", "B01")]),
            Some(Some("Amazon title".into()))
        );
        assert_eq!(named(&[m, ("sku", "S9")]), Some(None));
        assert_eq!(
            named(&[m, ("campaign_id", "7"), ("search_term", "mug")]),
            Some(Some("SP - Mug".into()))
        );
        assert_eq!(named(&[m, ("campaign_id", "8")]), Some(None));
        assert_eq!(named(&[m]), None, "a marketplace is not named");
    }
}
