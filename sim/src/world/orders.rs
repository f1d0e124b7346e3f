//! Orders: derived from a SKU-day's units, regenerated on demand, never stored.
//!
//! Every order has one item (one SKU, quantity 1–3), so `totalOrderItems` equals the number of
//! orders. Cancelled orders come on top of the day's units (units ordered counts only the
//! orders that were not cancelled). The order id encodes (day, SKU index, index in the day)
//! through a seeded bijection of the 14 digits, so `World::order` can find any order again.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::rng::{hash, Rng};
use super::{DayCore, World, TAG_ORDERS};

/// Order status, in the order's life: Pending → Unshipped → Shipped, or → Canceled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OrderStatus {
    Pending,
    Unshipped,
    Shipped,
    Canceled,
}

/// An order as seen at a moment `now` (status and last update resolved at `now`; timestamps
/// after `now` are hidden).
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// 3-7-7 digits, e.g. 112-1234567-1234567.
    pub amazon_order_id: String,
    pub purchase_date: DateTime<Utc>,
    pub last_update_date: DateTime<Utc>,
    pub status: OrderStatus,
    /// "AFN" (FBA) or "MFN".
    pub fulfillment_channel: &'static str,
    /// e.g. "Amazon.com".
    pub sales_channel: String,
    /// "Standard" | "Expedited"
    pub ship_service_level: &'static str,
    pub marketplace_id: String,
    pub currency: String,
    pub is_business_order: bool,
    pub is_prime: bool,
    pub items: Vec<OrderItem>,
    pub ship_city: String,
    pub ship_state: String,
    pub ship_postal_code: String,
    pub ship_country: String,
    /// Shipment time, when shipped by `now`.
    pub shipped_at: Option<DateTime<Utc>>,
    /// Latest date the seller had to ship by (MFN late shipment measure).
    pub latest_ship_date: DateTime<Utc>,
    pub canceled_at: Option<DateTime<Utc>>,
}

/// An order item. Amounts are totals for the quantity, in the marketplace currency.
#[derive(Debug, Clone, Serialize)]
pub struct OrderItem {
    /// 14 digits.
    pub order_item_id: String,
    pub sku: String,
    pub asin: String,
    pub title: String,
    pub quantity: u32,
    pub item_price: f64,
    pub item_tax: f64,
    pub shipping_price: f64,
    pub shipping_tax: f64,
    pub promotion_discount: f64,
    pub promotion_ids: Vec<String>,
    /// Status of the item at `now` (same vocabulary as the order).
    pub item_status: OrderStatus,
}

/// The full life of an order, independent of `now`.
#[derive(Debug, Clone)]
pub(crate) struct OrderPlan {
    pub code: u64,
    pub sku: usize,
    pub rel: i32,
    pub purchase: DateTime<Utc>,
    pub pending_until: DateTime<Utc>,
    pub shipped: Option<DateTime<Utc>>,
    pub canceled: Option<DateTime<Utc>>,
    pub latest_ship: DateTime<Utc>,
    pub quantity: u32,
    pub unit_price: f64,
    pub discount: f64,
    pub shipping: f64,
    pub business: bool,
    pub prime: bool,
    pub expedited: bool,
    pub address: usize,
}

impl OrderPlan {
    pub fn status_at(&self, now: DateTime<Utc>) -> Option<OrderStatus> {
        if now < self.purchase {
            return None;
        }
        Some(match (self.canceled, self.shipped) {
            (Some(c), _) if now >= c => OrderStatus::Canceled,
            (_, Some(s)) if now >= s => OrderStatus::Shipped,
            _ if now < self.pending_until => OrderStatus::Pending,
            (Some(_), _) => OrderStatus::Pending,
            _ => OrderStatus::Unshipped,
        })
    }
    pub fn last_update_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if now < self.purchase {
            return None;
        }
        let mut t = self.purchase;
        for x in [Some(self.pending_until), self.shipped, self.canceled]
            .into_iter()
            .flatten()
        {
            if x <= now && x > t && (self.canceled.is_none() || Some(x) != self.shipped) {
                t = x;
            }
        }
        Some(t)
    }
    pub fn is_canceled(&self) -> bool {
        self.canceled.is_some()
    }
}

/// Ship-to addresses (city, state, postal code) per country.
fn addresses(country: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    match country {
        "US" => &[
            ("SEATTLE", "WA", "98101"),
            ("PORTLAND", "OR", "97205"),
            ("SAN JOSE", "CA", "95112"),
            ("LOS ANGELES", "CA", "90012"),
            ("AUSTIN", "TX", "78701"),
            ("HOUSTON", "TX", "77002"),
            ("DENVER", "CO", "80202"),
            ("CHICAGO", "IL", "60601"),
            ("ATLANTA", "GA", "30303"),
            ("MIAMI", "FL", "33130"),
            ("NEW YORK", "NY", "10001"),
            ("BROOKLYN", "NY", "11201"),
            ("BOSTON", "MA", "02108"),
            ("PHOENIX", "AZ", "85004"),
            ("COLUMBUS", "OH", "43215"),
            ("CHARLOTTE", "NC", "28202"),
        ],
        "CA" => &[
            ("TORONTO", "ON", "M5H 2N2"),
            ("VANCOUVER", "BC", "V6B 1A1"),
            ("MONTREAL", "QC", "H2Y 1C6"),
        ],
        "UK" | "GB" => &[
            ("LONDON", "", "EC1A 1BB"),
            ("MANCHESTER", "", "M1 1AE"),
            ("LEEDS", "", "LS1 1UR"),
        ],
        "DE" => &[
            ("BERLIN", "", "10115"),
            ("MÜNCHEN", "", "80331"),
            ("KÖLN", "", "50667"),
        ],
        "FR" => &[
            ("PARIS", "", "75001"),
            ("LYON", "", "69001"),
            ("MARSEILLE", "", "13001"),
        ],
        "JP" => &[("TOKYO", "", "100-0001"), ("OSAKA", "", "530-0001")],
        _ => &[("CAPITAL CITY", "", "10000"), ("PORT CITY", "", "20000")],
    }
}

/// Sales tax rate by ship-to state (US) or VAT-inclusive 0 elsewhere.
fn tax_rate(country: &str, state: &str) -> f64 {
    match (country, state) {
        ("US", "OR") => 0.0,
        ("US", "WA") => 0.101,
        ("US", "CA") => 0.0825,
        ("US", "TX") => 0.0825,
        ("US", "NY") => 0.08875,
        ("US", _) => 0.065,
        _ => 0.0,
    }
}

pub(crate) fn sales_channel(country: &str) -> String {
    match country {
        "US" => "Amazon.com".into(),
        "UK" | "GB" => "Amazon.co.uk".into(),
        "JP" => "Amazon.co.jp".into(),
        "MX" => "Amazon.com.mx".into(),
        "BR" => "Amazon.com.br".into(),
        "AU" => "Amazon.com.au".into(),
        c => format!("Amazon.{}", c.to_lowercase()),
    }
}

pub(crate) const DIGITS14: u64 = 100_000_000_000_000;
/// Odd and not a multiple of 5, so multiplication by it is a bijection mod 10^14.
const MULT: u64 = 7_219_384_655_217;

fn mod_inverse(a: u64, m: u64) -> u64 {
    let (mut t, mut new_t) = (0i128, 1i128);
    let (mut r, mut new_r) = (m as i128, a as i128);
    while new_r != 0 {
        let q = r / new_r;
        (t, new_t) = (new_t, t - q * new_t);
        (r, new_r) = (new_r, r - q * new_r);
    }
    t.rem_euclid(m as i128) as u64
}

impl World {
    fn day_number(d: NaiveDate) -> u64 {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
        (d - epoch).num_days().clamp(0, 99_999) as u64
    }

    /// The order id of (day, SKU, index in the SKU-day).
    pub(crate) fn order_code(&self, rel: i32, j: usize, k: u32) -> u64 {
        let v = (Self::day_number(self.date(rel)) * 100_000 + j as u64) * 10_000 + k as u64;
        let offset = self.order_offset;
        ((v as u128 * MULT as u128 + offset as u128) % DIGITS14 as u128) as u64
    }

    pub(crate) fn format_order_id(&self, code: u64) -> String {
        // Four prefixes per market (111-114 for the first), so the ids of two markets of one
        // account never collide: flywheel keys orders by (account, order id).
        let prefix = 111 + 4 * self.market as u64 + hash(&[self.seed, code]) % 4;
        format!("{prefix}-{:07}-{:07}", code / 10_000_000, code % 10_000_000)
    }

    /// (day, SKU index, index) of an order id, if it is well formed.
    pub(crate) fn decode_order_id(&self, id: &str) -> Option<(i32, usize, u32)> {
        let parts: Vec<&str> = id.split('-').collect();
        if parts.len() != 3 || parts[0].len() != 3 || parts[1].len() != 7 || parts[2].len() != 7 {
            return None;
        }
        let a: u64 = parts[1].parse().ok()?;
        let b: u64 = parts[2].parse().ok()?;
        let code = a * 10_000_000 + b;
        let offset = self.order_offset;
        let v = (((code + DIGITS14 - offset) % DIGITS14) as u128
            * mod_inverse(MULT, DIGITS14) as u128
            % DIGITS14 as u128) as u64;
        let k = (v % 10_000) as u32;
        let j = ((v / 10_000) % 100_000) as usize;
        let day = v / 1_000_000_000;
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
        let date = epoch + Duration::days(day as i64);
        if self.format_order_id(code) != id {
            return None;
        }
        Some((self.rel(date), j, k))
    }

    /// The plans of every order of SKU `j` on the core day `c` (cancelled ones last).
    pub(crate) fn plans(&self, j: usize, c: &DayCore) -> Vec<OrderPlan> {
        let p = &self.scenario.products[j];
        let acct = self.account_params(c.rel);
        let mut r = Rng::new(&[self.seed, TAG_ORDERS, j as u64, c.rel as i64 as u64]);
        let mut qtys = Vec::new();
        let mut left = c.units;
        while left > 0 && qtys.len() < 9_000 {
            let x = r.f64();
            let q = if x < 0.86 {
                1
            } else if x < 0.97 {
                2
            } else {
                3
            };
            let q = q.min(left);
            qtys.push(q);
            left -= q;
        }
        let cancel_p = if p.is_fba() {
            0.002
        } else {
            acct.cancel_rate.clamp(0.0, 0.5)
        };
        let canceled = r
            .round(qtys.len() as f64 * cancel_p / (1.0 - cancel_p))
            .min(999);
        let start = self.day_start(self.date(c.rel));
        let len = (self.day_start(self.date(c.rel + 1)) - start)
            .num_seconds()
            .max(1);
        let country = self.scenario.seller.country.as_str();
        let n_addr = addresses(country).len() as u64;
        let mut out = Vec::with_capacity(qtys.len() + canceled as usize);
        let total = qtys.len() + canceled as usize;
        for k in 0..total {
            let is_canceled = k >= qtys.len();
            let quantity = if is_canceled { 1 } else { qtys[k] };
            let mut o = Rng::new(&[
                self.seed,
                TAG_ORDERS,
                j as u64,
                c.rel as i64 as u64,
                k as u64,
            ]);
            let purchase = start + Duration::seconds((o.f64() * len as f64) as i64);
            let pending_min = if o.chance(0.02) {
                120 + o.below(360)
            } else {
                2 + o.below(40)
            };
            let pending_until = purchase + Duration::minutes(pending_min as i64);
            let handling_h = if p.is_fba() {
                6 + o.below(24)
            } else {
                10 + o.below(40)
            };
            let late = !p.is_fba() && o.chance(acct.late_shipment_rate);
            let ship_h = if late { 75 + o.below(45) } else { handling_h };
            let latest_ship = purchase + Duration::hours(if p.is_fba() { 48 } else { 72 });
            let shipped = Some(
                purchase + Duration::hours(ship_h as i64) + Duration::minutes(o.below(60) as i64),
            );
            let canceled_at =
                is_canceled.then(|| purchase + Duration::minutes(30 + o.below(450) as i64));
            let discount = if o.chance(0.08) {
                self.money(c.price * quantity as f64 * 0.10)
            } else {
                0.0
            };
            let shipping = if !p.is_fba() && o.chance(0.2) {
                self.money(4.99)
            } else {
                0.0
            };
            out.push(OrderPlan {
                code: self.order_code(c.rel, j, k as u32),
                sku: j,
                rel: c.rel,
                purchase,
                pending_until: pending_until.min(canceled_at.unwrap_or(pending_until)),
                shipped: if is_canceled { None } else { shipped },
                canceled: canceled_at,
                latest_ship,
                quantity,
                unit_price: c.price,
                discount,
                shipping,
                business: o.chance(0.03),
                prime: p.is_fba() || o.chance(0.1),
                expedited: o.chance(0.12),
                address: o.below(n_addr) as usize,
            });
        }
        out
    }

    /// Resolves a plan into the order as seen at `now` (None before it was placed).
    pub(crate) fn resolve(&self, plan: &OrderPlan, now: DateTime<Utc>) -> Option<Order> {
        let status = plan.status_at(now)?;
        let p = &self.scenario.products[plan.sku];
        let seller = &self.scenario.seller;
        let (city, state, postal) = addresses(&seller.country)[plan.address];
        let item_price = self.money(plan.unit_price * plan.quantity as f64);
        let rate = tax_rate(&seller.country, state);
        let item_tax = self.money((item_price - plan.discount) * rate);
        let promotion_ids = if plan.discount > 0.0 {
            vec![format!(
                "PLM-{:08X}",
                hash(&[self.seed, plan.rel as i64 as u64, 0x9]) as u32
            )]
        } else {
            Vec::new()
        };
        Some(Order {
            amazon_order_id: self.format_order_id(plan.code),
            purchase_date: plan.purchase,
            last_update_date: plan.last_update_at(now)?,
            status,
            fulfillment_channel: if p.is_fba() { "AFN" } else { "MFN" },
            sales_channel: sales_channel(&seller.country),
            ship_service_level: if plan.expedited {
                "Expedited"
            } else {
                "Standard"
            },
            marketplace_id: seller.marketplace_id.clone(),
            currency: seller.currency.clone(),
            is_business_order: plan.business,
            is_prime: plan.prime,
            items: vec![OrderItem {
                order_item_id: format!("{:014}", hash(&[self.seed, plan.code, 0x17]) % DIGITS14),
                sku: p.sku.clone(),
                asin: p.asin.clone(),
                title: p.title.clone(),
                quantity: plan.quantity,
                item_price,
                item_tax,
                shipping_price: plan.shipping,
                shipping_tax: self.money(plan.shipping * rate),
                promotion_discount: plan.discount,
                promotion_ids,
                item_status: status,
            }],
            ship_city: city.to_string(),
            ship_state: state.to_string(),
            ship_postal_code: postal.to_string(),
            ship_country: if seller.country == "UK" {
                "GB".into()
            } else {
                seller.country.clone()
            },
            shipped_at: plan
                .shipped
                .filter(|t| *t <= now && status == OrderStatus::Shipped),
            latest_ship_date: plan.latest_ship,
            canceled_at: plan.canceled.filter(|t| *t <= now),
        })
    }

    /// Order plans of SKU `j` purchased on days `from..to`, with the walk.
    pub(crate) fn sku_plans(&self, j: usize, from: i32, to: i32) -> (Vec<DayCore>, Vec<OrderPlan>) {
        let cores = self.walk(j, from, to);
        let plans = cores.iter().flat_map(|c| self.plans(j, c)).collect();
        (cores, plans)
    }

    /// Order plans of every SKU purchased on days `from..to` (relative), by purchase time.
    pub(crate) fn plans_for_days(&self, from: i32, to: i32) -> Vec<OrderPlan> {
        let mut out = Vec::new();
        for j in 0..self.scenario.products.len() {
            for c in self.walk(j, from, to) {
                out.extend(self.plans(j, &c));
            }
        }
        out.sort_by_key(|o| (o.purchase, o.code));
        out
    }

    /// Orders of one marketplace day (all SKUs), as seen at `now`, by purchase time.
    pub fn orders_on(&self, day: NaiveDate, now: DateTime<Utc>) -> Vec<Order> {
        let rel = self.rel(day);
        self.plans_for_days(rel, rel + 1)
            .iter()
            .filter_map(|p| self.resolve(p, now))
            .collect()
    }

    /// Orders purchased in `[a, b)` as seen at `now` (b is clipped to `now`), by purchase time.
    pub fn orders_purchased(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> OrderIter<'_> {
        OrderIter::new(self, a, b.min(now), now, false)
    }

    /// Orders whose last update at `now` lies in `[a, b)` (b clipped to `now`). An order updated
    /// several times appears once, with its latest status at `now`. Sorted by last update within
    /// chunks of 8 purchase days (ranges under a day or so are fully sorted); deterministic.
    pub fn orders_updated(
        &self,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> OrderIter<'_> {
        OrderIter::new(self, a, b.min(now), now, true)
    }

    /// One order by id, as seen at `now`.
    pub fn order(&self, amazon_order_id: &str, now: DateTime<Utc>) -> Option<Order> {
        let (rel, j, k) = self.decode_order_id(amazon_order_id)?;
        if j >= self.scenario.products.len() {
            return None;
        }
        let c = self.core(j, rel)?;
        let plans = self.plans(j, &c);
        self.resolve(plans.get(k as usize)?, now)
    }
}

/// Streams orders day by day (one day's orders in memory at a time).
pub struct OrderIter<'w> {
    world: &'w World,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    now: DateTime<Utc>,
    by_update: bool,
    next_rel: i32,
    end_rel: i32,
    buf: std::vec::IntoIter<Order>,
}

/// Longest time between purchase and an order's last change.
const MAX_ORDER_LIFE_DAYS: i32 = 6;

impl<'w> OrderIter<'w> {
    fn new(
        world: &'w World,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        now: DateTime<Utc>,
        by_update: bool,
    ) -> Self {
        let first = world.rel(world.day_of(a)) - if by_update { MAX_ORDER_LIFE_DAYS } else { 0 };
        let last = world.rel(world.day_of(b)).min(world.rel(world.day_of(now)));
        OrderIter {
            world,
            a,
            b,
            now,
            by_update,
            next_rel: first.max(world.start_rel()),
            end_rel: last + 1,
            buf: Vec::new().into_iter(),
        }
    }
}

impl Iterator for OrderIter<'_> {
    type Item = Order;
    fn next(&mut self) -> Option<Order> {
        loop {
            if let Some(o) = self.buf.next() {
                return Some(o);
            }
            if self.a >= self.b || self.next_rel >= self.end_rel {
                return None;
            }
            if self.by_update {
                // A chunk of purchase days at a time, sorted by update time within the chunk
                // (a short range is one chunk, hence fully sorted).
                let from = self.next_rel;
                let to = (from + 8).min(self.end_rel);
                self.next_rel = to;
                let mut v: Vec<Order> = self
                    .world
                    .plans_for_days(from, to)
                    .iter()
                    .filter_map(|p| self.world.resolve(p, self.now))
                    .filter(|o| o.last_update_date >= self.a && o.last_update_date < self.b)
                    .collect();
                v.sort_by(|x, y| {
                    (x.last_update_date, &x.amazon_order_id)
                        .cmp(&(y.last_update_date, &y.amazon_order_id))
                });
                self.buf = v.into_iter();
            } else {
                let rel = self.next_rel;
                self.next_rel += 1;
                let v: Vec<Order> = self
                    .world
                    .plans_for_days(rel, rel + 1)
                    .iter()
                    .filter(|p| p.purchase >= self.a && p.purchase < self.b)
                    .filter_map(|p| self.world.resolve(p, self.now))
                    .collect();
                self.buf = v.into_iter();
            }
        }
    }
}
