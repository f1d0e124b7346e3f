//! What an alert email is about, before any HTML: its findings grouped
//! into one card per subject (DESIGN §5.1), each card named and linked,
//! and the "Do first" list ranked.
//!
//! - A card is one product (an ASIN with its SKUs: a SKU's findings join
//!   the card of the ASIN it is listed under), one campaign (with its
//!   search terms), or, for rules about a whole marketplace, the
//!   marketplace's findings of one flywheel link. Two cards never share a
//!   subject.
//! - A card's headline item is growth_stall when present (its diagnosis
//!   heads the card), else its most urgent finding.
//! - Urgency: critical before warning, then the money at stake as a share
//!   of the marketplace's sales (never an amount: currencies differ), then
//!   the caller's order.
//! - Links are built by `model::links` only: the product's detail page on
//!   the marketplace's retail site and the Seller Central or advertising
//!   console page where the seller acts on the finding.

use std::cmp::Ordering;

use super::alert_item::market_of;
use super::layout::{field, short_name};
use crate::alert::{AlertEmail, Item, ItemKind};
use crate::config::{RuleId, Severity};
use crate::i18n::{self, tr, tr_args, Lang};
use crate::model::links::{self, AdsPage, Page};
use crate::model::marketplace::Marketplace;
use crate::model::rule::{link_rank, Link};

/// Longest product name in a card heading, in characters.
pub(super) const NAME_MAX: usize = 80;
/// Longest product name in a one-line item, the Do-first list and the subject.
pub(super) const NAME_SHORT: usize = 42;

/// Whom a card is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Who {
    /// An ASIN (when known) and the SKUs its findings name.
    Product {
        asin: Option<String>,
        skus: Vec<String>,
    },
    Campaign {
        id: String,
    },
    /// Findings about the whole marketplace, of one link.
    Market {
        link: Link,
    },
}

/// One card: the findings about one subject in one marketplace.
#[derive(Debug, Clone)]
pub(super) struct Card<'a> {
    pub mkt: &'static Marketplace,
    pub who: Who,
    /// Headline first, then by urgency.
    pub items: Vec<&'a Item>,
}

/// A link in a message: a page `model::links` built and what it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub url: String,
    pub label: String,
}

impl<'a> Card<'a> {
    pub fn headline(&self) -> &'a Item {
        self.items[0]
    }

    pub fn severity(&self) -> Severity {
        self.items
            .iter()
            .map(|i| i.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// The largest share of sales at stake among its findings.
    pub fn stake_share(&self) -> Option<f64> {
        self.items
            .iter()
            .filter_map(|i| i.stake.as_ref().and_then(|s| s.share_of_sales))
            .filter(|s| s.is_finite())
            .reduce(f64::max)
    }

    /// The flywheel link whose section shows the card: its headline's.
    pub fn link(&self) -> Link {
        match self.who {
            Who::Market { link } => link,
            _ => self.headline().link,
        }
    }

    /// Whether anything in it is new this round, or worse than the last
    /// email said (then it is shown in full).
    pub fn is_new(&self) -> bool {
        self.items.iter().any(|i| i.is_news())
    }

    pub fn is_resolved(&self) -> bool {
        self.items.iter().all(|i| i.kind == ItemKind::Resolved)
    }

    /// The subject as a key unique in the email: marketplace and subject.
    pub fn key(&self) -> String {
        let who = match &self.who {
            Who::Product {
                asin: Some(a),
                skus: _,
            } => format!("asin:{a}"),
            Who::Product { asin: None, skus } => format!("sku:{}", skus.join(",")),
            Who::Campaign { id } => format!("campaign:{id}"),
            Who::Market { link } => format!("marketplace:{}", link.as_str()),
        };
        format!("{}/{who}", self.mkt.id)
    }

    /// The finding whose action the seller takes first: the most urgent
    /// one that is not growth_stall (the stall follows from it), else
    /// the stall.
    pub fn action_item(&self) -> &'a Item {
        let mut v: Vec<&Item> = self.items.clone();
        v.sort_by(|a, b| urgency(a, b));
        v.iter()
            .find(|i| i.rule != RuleId::GrowthStall && i.kind != ItemKind::Resolved)
            .or(v.first())
            .copied()
            .unwrap_or(self.items[0])
    }

    /// The SKU to open in Seller Central: the first one named.
    fn sku(&self) -> Option<&str> {
        self.items.iter().find_map(|i| i.key("sku"))
    }

    fn asin(&self) -> Option<&str> {
        match &self.who {
            Who::Product { asin, .. } => asin.as_deref(),
            _ => None,
        }
    }

    /// What the card is called: the product's name (else its ASIN or
    /// SKU), the campaign's name (else "Campaign 1005"), or the
    /// marketplace and link.
    pub fn name(&self, lang: Lang, names: &crate::alert::Names, max: usize) -> String {
        field(&self.name_raw(lang, names, max))
    }

    fn name_raw(&self, lang: Lang, names: &crate::alert::Names, max: usize) -> String {
        match &self.who {
            Who::Product { asin, skus } => {
                let sku = skus.first().map(String::as_str);
                names
                    .product(self.mkt.id, sku, asin.as_deref())
                    .map(|n| short_name(n, max))
                    .or_else(|| asin.clone())
                    .or_else(|| sku.map(str::to_string))
                    .unwrap_or_default()
            }
            Who::Campaign { id } => names
                .campaign(id)
                .map(str::to_string)
                .or_else(|| self.evidence_text("campaign_name"))
                .map(|n| short_name(&n, max))
                .unwrap_or_else(|| tr_args(lang, "campaign-id", &[("id", id.as_str().into())])),
            Who::Market { link } => tr_args(
                lang,
                "card-marketplace",
                &[
                    ("marketplace", i18n::marketplace_name(lang, self.mkt).into()),
                    ("link", i18n::link_name(lang, *link).into()),
                ],
            ),
        }
    }

    fn evidence_text(&self, key: &str) -> Option<String> {
        self.items.iter().find_map(|i| {
            i.evidence
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.as_str())
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
        })
    }

    /// Whether the card is named by a name (not only by an id).
    pub fn has_name(&self, names: &crate::alert::Names) -> bool {
        match &self.who {
            Who::Product { asin, skus } => names
                .product(
                    self.mkt.id,
                    skus.first().map(String::as_str),
                    asin.as_deref(),
                )
                .is_some(),
            Who::Campaign { id } => {
                names.campaign(id).is_some() || self.evidence_text("campaign_name").is_some()
            }
            Who::Market { .. } => true,
        }
    }

    /// The ids beside the name, small: "SKU FW-1 · ASIN B0…", "ID 1005".
    pub fn ids(&self, names: &crate::alert::Names) -> String {
        match &self.who {
            Who::Product { asin, skus } => {
                let mut parts: Vec<String> =
                    skus.iter().take(4).map(|s| format!("SKU {s}")).collect();
                if skus.len() > 4 {
                    parts.push(format!("+{}", skus.len() - 4));
                }
                if let Some(a) = asin {
                    parts.push(format!("ASIN {a}"));
                }
                // Named by its id only: the id is already the heading.
                if !self.has_name(names) && parts.len() == 1 {
                    return String::new();
                }
                field(&parts.join(" · "))
            }
            Who::Campaign { id } if self.has_name(names) => field(&format!("ID {id}")),
            _ => String::new(),
        }
    }

    /// Where the seller acts on the card: for a product its detail page
    /// and the Seller Central page of its most urgent finding (Manage
    /// Inventory where that finding acts elsewhere, so a product card
    /// always reaches Seller Central); for a campaign its page in the
    /// advertising console; for a marketplace the pages of its findings.
    pub fn places(&self, lang: Lang) -> Vec<Place> {
        let mut out: Vec<Place> = Vec::new();
        let mut add = |p: Option<Place>| {
            if let Some(p) = p {
                if !out.iter().any(|o| o.url == p.url) {
                    out.push(p);
                }
            }
        };
        match &self.who {
            Who::Product { asin, .. } => {
                add(asin.as_deref().map(|a| Place {
                    url: links::detail_page(self.mkt, a),
                    label: tr(lang, "page-detail"),
                }));
                let act = act_place(lang, self, self.action_item().rule);
                let in_sc = act
                    .as_ref()
                    .is_some_and(|p| p.url.contains(links::hosts(self.mkt).seller_central));
                add(act);
                if !in_sc {
                    add(Some(self.inventory(lang)));
                }
            }
            Who::Campaign { .. } | Who::Market { .. } => {
                for i in &self.items {
                    add(act_place(lang, self, i.rule));
                }
            }
        }
        out
    }

    /// Manage Inventory filtered to the SKU (else the ASIN).
    fn inventory(&self, lang: Lang) -> Place {
        Place {
            url: links::seller_central(
                self.mkt,
                Page::ManageInventory {
                    sku: self.sku().or(self.asin()),
                },
            ),
            label: tr(lang, "page-manage-inventory"),
        }
    }

    /// The page where the seller acts on the Do-first line of the card.
    pub fn do_place(&self, lang: Lang) -> Option<Place> {
        match &self.who {
            Who::Product { .. } => act_place(lang, self, self.action_item().rule)
                .or_else(|| Some(self.inventory(lang))),
            _ => act_place(lang, self, self.action_item().rule),
        }
    }
}

/// The page where the seller acts on a finding of `rule` in `card`;
/// `None` where the action is flywheel's own (stale data, credentials).
fn act_place(lang: Lang, card: &Card<'_>, rule: RuleId) -> Option<Place> {
    use RuleId::*;
    let m = card.mkt;
    let sc = |page: Page<'_>, id: &str| Place {
        url: links::seller_central(m, page),
        label: tr(lang, id),
    };
    let sku = card.sku();
    let sku_or_asin = sku.or(card.asin());
    Some(match rule {
        FeedbackResponseSla | FeedbackRate => sc(Page::FeedbackManager, "page-feedback-manager"),
        AccountHealth => sc(Page::AccountHealth, "page-account-health"),
        ReturnRate => sc(Page::Returns, "page-returns"),
        ListingHealth => match sku {
            Some(sku) => sc(Page::EditListing { sku }, "page-fix-listing"),
            None => sc(Page::FixListing, "page-fix-listing"),
        },
        ConversionRate | MarginFloor | ReviewTopics | RatingFloor => match sku {
            Some(sku) => sc(Page::EditListing { sku }, "page-edit-listing"),
            None => sc(
                Page::ManageInventory { sku: sku_or_asin },
                "page-manage-inventory",
            ),
        },
        BuyBox | InventoryTurnover | BsrTrend => sc(
            Page::ManageInventory { sku: sku_or_asin },
            "page-manage-inventory",
        ),
        StockoutRisk => sc(Page::Restock, "page-restock"),
        KeywordShare | TrafficTrend | GrowthStall => sc(
            Page::BrandAnalytics { asin: card.asin() },
            "page-brand-analytics",
        ),
        AcosBand | CpcTrend | WastedSpend => match &card.who {
            // flywheel syncs Sponsored Products campaigns (DESIGN §3).
            Who::Campaign { id } => Place {
                url: links::ads_console(
                    m,
                    AdsPage::Campaign {
                        ad_product: card
                            .items
                            .iter()
                            .find_map(|i| {
                                i.evidence
                                    .iter()
                                    .find(|(k, _)| k == "ad_product")
                                    .and_then(|(_, v)| v.as_str())
                            })
                            .unwrap_or("SPONSORED_PRODUCTS"),
                        id,
                    },
                ),
                label: tr(lang, "page-campaign"),
            },
            _ => Place {
                url: links::ads_console(m, AdsPage::Campaigns),
                label: tr(lang, "page-campaigns"),
            },
        },
        Tacos | AdReliance => Place {
            url: links::ads_console(m, AdsPage::Campaigns),
            label: tr(lang, "page-campaigns"),
        },
        DataFreshness | Credentials => return None,
    })
}

/// Critical first, then the larger share of sales at stake, then what is
/// still firing before what resolved.
pub(super) fn urgency(a: &Item, b: &Item) -> Ordering {
    let share = |i: &Item| {
        i.stake
            .as_ref()
            .and_then(|s| s.share_of_sales)
            .filter(|s| s.is_finite())
    };
    b.severity
        .cmp(&a.severity)
        .then((a.kind == ItemKind::Resolved).cmp(&(b.kind == ItemKind::Resolved)))
        .then(cmp_share(share(a), share(b)))
}

/// Larger share first; a known share before an unknown one.
fn cmp_share(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Cards in urgency order: severity, share of sales at stake, new
/// before still firing, then the email's order.
pub(super) fn card_urgency(a: &Card<'_>, b: &Card<'_>) -> Ordering {
    b.severity()
        .cmp(&a.severity())
        .then(cmp_share(a.stake_share(), b.stake_share()))
        .then(b.is_new().cmp(&a.is_new()))
}

/// The email's findings as cards, in urgency order.
pub(super) fn cards(email: &AlertEmail) -> Vec<Card<'_>> {
    // (marketplace, subject) → findings, in the order first seen.
    let mut groups: Vec<((&'static str, Who), Vec<&Item>)> = Vec::new();
    for item in &email.items {
        let mkt = market_of(item);
        let who = if item.key("asin").is_some() || item.key("sku").is_some() {
            let sku = item.key("sku").map(str::to_string);
            let asin = item.key("asin").map(str::to_string).or_else(|| {
                sku.as_deref()
                    .and_then(|s| email.names.asin_of(mkt.id, s))
                    .map(str::to_string)
            });
            Who::Product {
                skus: if asin.is_some() {
                    Vec::new()
                } else {
                    sku.into_iter().collect()
                },
                asin,
            }
        } else if let Some(id) = item.key("campaign_id") {
            Who::Campaign { id: id.to_string() }
        } else {
            Who::Market { link: item.link }
        };
        let key = (mkt.id, who);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(item),
            None => groups.push((key, vec![item])),
        }
    }
    let mut out: Vec<(usize, Card<'_>)> = groups
        .into_iter()
        .enumerate()
        .map(|(first, ((_, who), mut items))| {
            let mkt = market_of(items[0]);
            items.sort_by(|a, b| {
                (b.rule == RuleId::GrowthStall)
                    .cmp(&(a.rule == RuleId::GrowthStall))
                    .then(urgency(a, b))
                    .then(link_rank(a.link).cmp(&link_rank(b.link)))
            });
            // A product card lists every SKU its findings name.
            let who = match who {
                Who::Product { asin: Some(a), .. } => {
                    let mut skus: Vec<String> = Vec::new();
                    for i in &items {
                        if let Some(s) = i.key("sku") {
                            if !skus.iter().any(|x| x == s) {
                                skus.push(s.to_string());
                            }
                        }
                    }
                    Who::Product {
                        asin: Some(a),
                        skus,
                    }
                }
                w => w,
            };
            (first, Card { mkt, who, items })
        })
        .collect();
    out.sort_by(|a, b| card_urgency(&a.1, &b.1).then(a.0.cmp(&b.0)));
    out.into_iter().map(|(_, c)| c).collect()
}

/// The Do-first list: at most `max` cards with something firing, most
/// urgent first.
pub(super) fn do_first<'c, 'a>(cards: &'c [Card<'a>], max: usize) -> Vec<&'c Card<'a>> {
    let mut v: Vec<&Card<'a>> = cards
        .iter()
        .filter(|c| !c.is_resolved() && c.severity() >= Severity::Warning)
        .collect();
    v.sort_by(|a, b| card_urgency(a, b));
    v.truncate(max);
    v
}
