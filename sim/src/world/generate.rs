//! Procedural products (`[generate]`) and random breaks (`[random_breaks]`).
//!
//! Generated products do not depend on the seed (a benchmark sees the same catalogue for
//! every seed); their data does. Random breaks do depend on the seed: each break is an event
//! (or a changed product, campaign or feedback entry) plus the findings it must cause, which
//! are appended to the scenario's `[[expect]]`. A SKU gets at most one break, and SKU breaks
//! go to SKUs no campaign advertises, so breaks do not interact; the findings a break causes
//! as a side effect (a conversion drop also stalls growth) are recorded with it.

use super::rng::{hash, hash_str, Rng};
use crate::scenario::{
    AdProduct, Campaign, Event, Expect, FeedbackEntry, Fulfillment, Keyword, ListingIssue, Product,
    ReviewTopic, Scenario, SearchQuery, SearchTerm,
};

/// Rules `[random_breaks]` can plant.
pub const PLANTABLE_RULES: &[&str] = &[
    "conversion_rate",
    "traffic_trend",
    "buy_box",
    "bsr_trend",
    "return_rate",
    "listing_health",
    "stockout_risk",
    "inventory_turnover",
    "margin_floor",
    "acos_band",
    "cpc_trend",
    "wasted_spend",
    "keyword_share",
    "review_topics",
    "rating_floor",
    "growth_stall",
    "feedback_response_sla",
    "feedback_rate",
    "account_health",
];

const NODES: &[(&str, &str, &str, &str)] = &[
    (
        "3743561",
        "Water Bottles",
        "home_garden_display_on_website",
        "Home & Kitchen",
    ),
    (
        "289913",
        "Kitchen Utensils & Gadgets",
        "home_garden_display_on_website",
        "Home & Kitchen",
    ),
    (
        "3375301",
        "Yoga Mats",
        "sporting_goods_display_on_website",
        "Sports & Outdoors",
    ),
    (
        "3407731",
        "Camping Lanterns",
        "sporting_goods_display_on_website",
        "Sports & Outdoors",
    ),
    (
        "2975312011",
        "Dog Toys",
        "pet_products_display_on_website",
        "Pet Supplies",
    ),
    (
        "11057241",
        "Face Moisturizers",
        "beauty_display_on_website",
        "Beauty & Personal Care",
    ),
    (
        "172282",
        "Phone Chargers",
        "ce_display_on_website",
        "Electronics",
    ),
    (
        "1069242",
        "Desk Organizers",
        "office_product_display_on_website",
        "Office Products",
    ),
];
const ADJ: &[&str] = &[
    "Insulated",
    "Compact",
    "Premium",
    "Eco",
    "Heavy-Duty",
    "Foldable",
    "Classic",
    "Ultra",
];
const NOUN: &[&str] = &[
    "Bottle",
    "Spatula",
    "Mat",
    "Lantern",
    "Chew Toy",
    "Cream",
    "Charger",
    "Organizer",
];

fn asin_for(name: &str, n: u64) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut h = hash(&[hash_str(name), n, 0xA5]);
    let mut s = String::from("B0");
    for _ in 0..8 {
        s.push(A[(h % 36) as usize] as char);
        h /= 36;
    }
    s
}

/// Applies `[generate]` and `[random_breaks]` to the scenario.
pub(crate) fn expand(sc: &mut Scenario, seed: u64) {
    if let Some(g) = sc.generate.clone() {
        generate_products(sc, &g);
    }
    if let Some(rb) = sc.random_breaks.clone() {
        plant(sc, seed, rb.count, &rb.rules);
    }
}

fn generate_products(sc: &mut Scenario, g: &crate::scenario::Generate) {
    let n = g.products as usize;
    let weight = |i: usize| 1.0 / (i as f64 + 5.0).powf(0.9);
    let total: f64 = (0..n).map(weight).sum();
    let base = sc.products.len();
    sc.products.reserve(n);
    for i in 0..n {
        let mut r = Rng::new(&[hash_str(&sc.name), i as u64, 0x6E]);
        let units = g.units_per_day * weight(i) / total;
        let conversion = 0.13 + 0.07 * r.f64();
        let price = (14.0 + 60.0 * r.f64() * r.f64()).round() - 0.01;
        let node = NODES[(i + base) % NODES.len()];
        let adj = ADJ[r.below(ADJ.len() as u64) as usize];
        let noun = NOUN[(i + base) % NOUN.len()];
        let title = format!("{adj} {noun} {}", i + 1);
        let fbm = r.chance(g.fbm_share);
        let q = noun.to_lowercase();
        let search_queries = vec![
            SearchQuery {
                query: q.clone(),
                volume: 4000 + r.below(20_000) as u32,
                impression_share: 0.06,
                click_share: 0.08,
            },
            SearchQuery {
                query: format!("{} {q}", adj.to_lowercase()),
                volume: 800 + r.below(3000) as u32,
                impression_share: 0.12,
                click_share: 0.15,
            },
            SearchQuery {
                query: format!("best {q}"),
                volume: 300 + r.below(1500) as u32,
                impression_share: 0.09,
                click_share: 0.1,
            },
        ];
        let small = n > 1000;
        sc.products.push(Product {
            sku: format!("{}-{:05}", g.sku_prefix, i + 1),
            asin: asin_for(&sc.name, i as u64),
            parent_asin: None,
            fnsku: None,
            title,
            price,
            cogs: ((0.25 + 0.1 * r.f64()) * price * 100.0).round() / 100.0,
            inbound_freight: (0.03 * price * 100.0).round() / 100.0,
            lead_time_days: 20 + r.below(26) as u32,
            fulfillment: if fbm {
                Fulfillment::FBM
            } else {
                Fulfillment::FBA
            },
            condition: "new_new".into(),
            browse_node_id: node.0.into(),
            browse_node_name: node.1.into(),
            display_group: node.2.into(),
            display_group_title: node.3.into(),
            referral_pct: 15.0,
            fba_fee: None,
            sessions: units / conversion,
            conversion,
            growth: g.growth,
            noise: 0.06,
            mobile_share: 0.55 + 0.15 * r.f64(),
            page_views_per_session: 1.2 + 0.3 * r.f64(),
            buy_box: 0.97 + 0.03 * r.f64(),
            rank: ((2_500.0 / (units + 0.05).powf(0.9)) as u32).clamp(1, 2_000_000),
            return_rate: 0.003 + 0.005 * r.f64(),
            return_reasons: Vec::new(),
            stock_days: None,
            review_days: 7,
            offers: 1 + r.below(4) as u32,
            competitor_price: None,
            listing_status: vec!["BUYABLE".into(), "DISCOVERABLE".into()],
            suppressed: false,
            issues: Vec::new(),
            rating: (!small).then_some(4.5 + 0.1 * r.below(4) as f64),
            rating_30d_ago: None,
            rating_count: 50 + r.below(2000) as u32,
            reviews: 100 + r.below(500) as u32,
            review_topics: if small {
                Vec::new()
            } else {
                vec![
                    ReviewTopic {
                        topic: "Easy to use".into(),
                        sentiment: "positive".into(),
                        share: 18.0,
                        share_3m_ago: None,
                        star_impact: Some(0.12),
                        subtopics: Vec::new(),
                    },
                    ReviewTopic {
                        topic: "Smaller than expected".into(),
                        sentiment: "negative".into(),
                        share: 6.0,
                        share_3m_ago: None,
                        star_impact: Some(-0.08),
                        subtopics: Vec::new(),
                    },
                ]
            },
            search_queries,
        });
    }
    // Campaigns over the best sellers: two SKUs each, every SKU in at most one campaign.
    let first_id = 100_000 + sc.campaigns.len() as i64;
    for k in 0..g.campaigns as usize {
        let (a, b) = (base + 2 * k, base + 2 * k + 1);
        if b >= sc.products.len() {
            break;
        }
        let kind = match k % 7 {
            5 => AdProduct::SB,
            6 => AdProduct::SD,
            _ => AdProduct::SP,
        };
        let pa = &sc.products[a];
        let word = pa
            .title
            .split_whitespace()
            .nth(1)
            .unwrap_or("item")
            .to_lowercase();
        let (keywords, search_terms) = if kind == AdProduct::SP {
            (
                vec![
                    Keyword {
                        id: None,
                        text: word.clone(),
                        match_type: "BROAD".into(),
                        bid: 1.0,
                    },
                    Keyword {
                        id: None,
                        text: format!("{word} for home"),
                        match_type: "EXACT".into(),
                        bid: 1.2,
                    },
                ],
                vec![
                    SearchTerm {
                        term: word.clone(),
                        keyword: Some(word.clone()),
                        clicks_share: 3.0,
                        purchase_share: None,
                    },
                    SearchTerm {
                        term: format!("{word} for home"),
                        keyword: Some(format!("{word} for home")),
                        clicks_share: 2.0,
                        purchase_share: None,
                    },
                    SearchTerm {
                        term: format!("best {word}"),
                        keyword: Some(word.clone()),
                        clicks_share: 1.0,
                        purchase_share: None,
                    },
                ],
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let skus = vec![sc.products[a].sku.clone(), sc.products[b].sku.clone()];
        sc.campaigns.push(Campaign {
            id: first_id + k as i64,
            name: format!(
                "{kind:?} - {} - {}",
                if k % 3 == 2 { "Auto" } else { "Manual" },
                sc.products[a].sku
            ),
            kind,
            targeting: if k % 3 == 2 {
                "AUTO".into()
            } else {
                "MANUAL".into()
            },
            state: "ENABLED".into(),
            daily_budget: 500.0,
            skus,
            ad_share: 0.2,
            acos: 0.215,
            cpc: 0.6 + 0.8 * (k % 5) as f64 / 4.0,
            ctr: 0.004,
            top_of_search_share: 0.3,
            ad_group_id: None,
            keywords,
            search_terms,
        });
    }
}

fn expect(rule: &str) -> Expect {
    Expect {
        rule: rule.into(),
        asin: None,
        sku: None,
        campaign_id: None,
        search_term: None,
        severity: None,
        note: Some("planted at random".into()),
    }
}

fn plant(sc: &mut Scenario, seed: u64, count: u32, rules: &[String]) {
    let mut r = Rng::new(&[seed, 0xB4EA]);
    let mut pool: Vec<&str> = if rules.is_empty() {
        PLANTABLE_RULES.to_vec()
    } else {
        rules.iter().map(|s| s.as_str()).collect()
    };
    // Shuffle the rules (Fisher–Yates) and walk through them.
    for i in (1..pool.len()).rev() {
        let k = r.below(i as u64 + 1) as usize;
        pool.swap(i, k);
    }
    let advertised: std::collections::HashSet<String> =
        sc.campaigns.iter().flat_map(|c| c.skus.clone()).collect();
    // Candidate SKUs: not advertised, enough volume for every rule's minimum.
    let mut free: Vec<usize> = (0..sc.products.len())
        .filter(|&j| {
            let p = &sc.products[j];
            !advertised.contains(&p.sku) && p.sessions * p.conversion >= 3.0 && p.sessions >= 20.0
        })
        .collect();
    for i in (1..free.len()).rev() {
        let k = r.below(i as u64 + 1) as usize;
        free.swap(i, k);
    }
    let mut used_campaigns: Vec<i64> = Vec::new();
    let mut account_done: Vec<&str> = Vec::new();
    for b in 0..count as usize {
        let rule = pool[b % pool.len()];
        let sku_rule = !matches!(
            rule,
            "acos_band"
                | "cpc_trend"
                | "wasted_spend"
                | "feedback_response_sla"
                | "feedback_rate"
                | "account_health"
        );
        if sku_rule {
            // The planning report (inventory_turnover) covers FBA SKUs only.
            let fba_only = rule == "inventory_turnover";
            let Some(pos) = free
                .iter()
                .rposition(|&j| !fba_only || sc.products[j].is_fba())
            else {
                continue;
            };
            let j = free.remove(pos);
            plant_sku(sc, j, rule);
        } else if matches!(
            rule,
            "feedback_response_sla" | "feedback_rate" | "account_health"
        ) {
            if account_done.contains(&rule) {
                continue;
            }
            account_done.push(rule);
            plant_account(sc, rule, &mut r);
        } else {
            // Campaign breaks go to the SP campaign with the smallest expected sales, so the
            // account-wide ACoS stays inside its band.
            let mut cands: Vec<(f64, i64)> = sc
                .campaigns
                .iter()
                .filter(|c| c.kind == AdProduct::SP && !used_campaigns.contains(&c.id))
                .map(|c| {
                    let sales: f64 = c
                        .skus
                        .iter()
                        .filter_map(|s| sc.product(s))
                        .map(|p| p.sessions * p.conversion * p.price)
                        .sum();
                    (sales * c.ad_share, c.id)
                })
                .collect();
            cands.sort_by(|a, b| a.0.total_cmp(&b.0));
            let Some(&(_, id)) = cands.first() else {
                continue;
            };
            used_campaigns.push(id);
            plant_campaign(sc, id, rule);
        }
    }
}

fn plant_sku(sc: &mut Scenario, j: usize, rule: &str) {
    let p = sc.products[j].clone();
    let ev = |from_day: i32| Event {
        from_day,
        sku: Some(p.sku.clone()),
        note: Some(format!("random break: {rule}")),
        ..Event::default()
    };
    let mut found = vec![rule];
    // Fewer sales with the same returns from earlier weeks would push returns / shipped over
    // 3%: keep the broken SKU's own return rate low so that side effect never happens.
    sc.products[j].return_rate = sc.products[j].return_rate.min(0.002);
    match rule {
        "conversion_rate" => {
            sc.events.push(Event {
                conversion: Some(p.conversion * 0.45),
                ..ev(-14)
            });
            found.push("growth_stall");
        }
        "traffic_trend" => {
            sc.events.push(Event {
                sessions_factor: Some(0.35),
                ..ev(-7)
            });
            found.extend(["growth_stall", "bsr_trend"]);
        }
        "buy_box" => sc.events.push(Event {
            buy_box: Some(0.7),
            ..ev(-10)
        }),
        "bsr_trend" => sc.events.push(Event {
            rank_factor: Some(1.8),
            ..ev(-7)
        }),
        "return_rate" => sc.events.push(Event {
            return_rate: Some(0.15),
            return_reason: Some("DEFECTIVE".into()),
            ..ev(-60)
        }),
        "listing_health" => sc.events.push(Event {
            issues: Some(vec![ListingIssue {
                code: "90220".into(),
                message: "'item_name' is required but not supplied.".into(),
                severity: "ERROR".into(),
                categories: vec!["MISSING_ATTRIBUTE".into()],
                attribute_names: vec!["item_name".into()],
            }]),
            ..ev(-5)
        }),
        "stockout_risk" => {
            // Stock lasts about lead time + stock_days after the last order: out of stock from about
            // day -20, so the last 14 days have no orders and the last 30 some.
            let back = (p.lead_time_days as f64 + p.stock_days() + 20.0) as i32;
            sc.events.push(Event {
                replenish: Some(false),
                ..ev(-back)
            });
            found.push("growth_stall");
        }
        "inventory_turnover" => {
            sc.events.push(Event {
                stock_days: Some(100.0),
                ..ev(-(p.lead_time_days as i32) - 40)
            });
        }
        "margin_floor" => {
            let fba = if p.fulfillment == Fulfillment::FBA {
                3.22 + 0.05 * p.price
            } else {
                0.0
            };
            let price = ((p.cogs + p.inbound_freight + fba) / 0.8 * 100.0).round() / 100.0;
            sc.events.push(Event {
                price: Some(price),
                ..ev(-60)
            });
        }
        "keyword_share" => {
            let q = p
                .search_queries
                .iter()
                .max_by_key(|q| q.volume)
                .map(|q| q.query.clone());
            sc.events.push(Event {
                query_share_factor: Some(0.5),
                query: q.clone(),
                ..ev(-7)
            });
            let mut x = expect(rule);
            x.asin = Some(p.asin.clone());
            x.search_term = q;
            sc.expect.push(x);
            return;
        }
        "review_topics" => sc.products[j].review_topics.push(ReviewTopic {
            topic: "Poor quality".into(),
            sentiment: "negative".into(),
            share: 22.0,
            share_3m_ago: Some(8.0),
            star_impact: Some(-0.35),
            subtopics: vec!["Broke quickly".into()],
        }),
        "rating_floor" => sc.products[j].rating = Some(4.1),
        "growth_stall" => sc.events.push(Event {
            sessions_factor: Some(0.8),
            ..ev(-30)
        }),
        _ => return,
    }
    for rule in found {
        let mut x = expect(rule);
        match rule {
            "return_rate" | "listing_health" | "stockout_risk" | "inventory_turnover"
            | "margin_floor" => x.sku = Some(p.sku.clone()),
            _ => x.asin = Some(p.asin.clone()),
        }
        if rule == "stockout_risk" {
            x.severity = Some("critical".into());
        }
        sc.expect.push(x);
    }
}

fn plant_campaign(sc: &mut Scenario, id: i64, rule: &str) {
    let ev = Event {
        from_day: 0,
        campaign_id: Some(id),
        note: Some(format!("random break: {rule}")),
        ..Event::default()
    };
    let mut x = expect(rule);
    x.campaign_id = Some(id);
    match rule {
        "acos_band" => sc.events.push(Event {
            from_day: -45,
            acos: Some(0.45),
            ..ev
        }),
        "cpc_trend" => sc.events.push(Event {
            from_day: -14,
            cpc_factor: Some(1.6),
            ..ev
        }),
        "wasted_spend" => {
            let Some(c) = sc.campaigns.iter().position(|c| c.id == id) else {
                return;
            };
            let camp = &sc.campaigns[c];
            // Expected clicks a day, to size the wasted term at about 2 clicks a day.
            let clicks: f64 = camp
                .skus
                .iter()
                .filter_map(|s| sc.product(s))
                .map(|p| camp.ad_share * p.sessions * p.conversion * p.price * camp.acos / camp.cpc)
                .sum();
            let weights: f64 = camp
                .search_terms
                .iter()
                .map(|t| t.clicks_share)
                .sum::<f64>()
                .max(1.0);
            let share = (2.0 * weights / (clicks - 2.0).max(1.0)).min(weights);
            let term = format!(
                "{} free sample",
                camp.keywords
                    .first()
                    .map(|k| k.text.as_str())
                    .unwrap_or("cheap")
            );
            let keyword = camp.keywords.first().map(|k| k.text.clone());
            sc.campaigns[c].search_terms.push(SearchTerm {
                term: term.clone(),
                keyword,
                clicks_share: share,
                purchase_share: Some(0.0),
            });
            x.search_term = Some(term);
        }
        _ => return,
    }
    sc.expect.push(x);
}

fn plant_account(sc: &mut Scenario, rule: &str, r: &mut Rng) {
    let ev = Event {
        from_day: 0,
        note: Some(format!("random break: {rule}")),
        ..Event::default()
    };
    match rule {
        "feedback_response_sla" => sc.feedback.entries.push(FeedbackEntry {
            day: -2 - r.below(3) as i32,
            rating: 1 + r.below(2) as u8,
            comments: "Never received a reply about my broken item.".into(),
            response: String::new(),
            sku: None,
        }),
        "feedback_rate" => sc.events.push(Event {
            from_day: -45,
            negative_feedback_rate: Some(0.04),
            ..ev
        }),
        "account_health" => sc.events.push(Event {
            from_day: -70,
            odr: Some(0.015),
            ..ev
        }),
        _ => return,
    }
    sc.expect.push(expect(rule));
}
