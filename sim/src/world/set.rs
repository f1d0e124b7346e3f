//! The worlds of a seller account: one [`World`] per marketplace it sells in, in scenario
//! order, found by marketplace id (SP-API requests) or Ads profile id (Ads requests).
//!
//! A single-marketplace scenario is a set of one. Worlds share the seed and day 0; each
//! world after the first salts the seed (see [`World::for_market`]).

use std::sync::Arc;

use chrono::NaiveDate;

use super::World;
use crate::scenario::Scenario;

/// The worlds of one seller account. Never empty. Cheap to clone.
#[derive(Clone)]
pub struct Worlds {
    worlds: Vec<Arc<World>>,
}

impl From<Arc<World>> for Worlds {
    fn from(world: Arc<World>) -> Worlds {
        Worlds::single(world)
    }
}

impl Worlds {
    /// One world per market of `scenario` ([`Scenario::markets`]).
    pub fn new(scenario: &Scenario, seed: u64, day0: NaiveDate) -> Worlds {
        let worlds = scenario
            .markets()
            .into_iter()
            .enumerate()
            .map(|(i, sc)| Arc::new(World::for_market(sc, seed, day0, i as u32)))
            .collect();
        Worlds { worlds }
    }

    /// A set of one world (single-marketplace tests that build a `World` themselves).
    pub fn single(world: Arc<World>) -> Worlds {
        Worlds {
            worlds: vec![world],
        }
    }

    /// The first market's world (the only one of a single-marketplace scenario).
    pub fn first(&self) -> &Arc<World> {
        &self.worlds[0]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<World>> {
        self.worlds.iter()
    }

    pub fn len(&self) -> usize {
        self.worlds.len()
    }

    /// Always false (a seller sells somewhere); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.worlds.is_empty()
    }

    /// The world of marketplace `id`.
    pub fn by_marketplace(&self, id: &str) -> Option<&Arc<World>> {
        self.worlds.iter().find(|w| w.marketplace_id() == id)
    }

    /// The world whose Ads profile is `profile_id`.
    pub fn by_profile(&self, profile_id: i64) -> Option<&Arc<World>> {
        self.worlds
            .iter()
            .find(|w| w.scenario().seller.ads_profile_id == profile_id)
    }

    /// The marketplace ids, in scenario order.
    pub fn marketplace_ids(&self) -> Vec<&str> {
        self.worlds.iter().map(|w| w.marketplace_id()).collect()
    }
}

/// One world (a single-marketplace seller) or the worlds of every market: what
/// `write_config` and report generation accept, so single-world callers need no `Worlds`.
pub trait MarketWorlds {
    /// The worlds, first market first. Never empty.
    fn market_worlds(&self) -> Vec<&World>;
}

impl MarketWorlds for World {
    fn market_worlds(&self) -> Vec<&World> {
        vec![self]
    }
}

impl MarketWorlds for Arc<World> {
    fn market_worlds(&self) -> Vec<&World> {
        vec![self.as_ref()]
    }
}

impl MarketWorlds for Worlds {
    fn market_worlds(&self) -> Vec<&World> {
        self.iter().map(|w| w.as_ref()).collect()
    }
}
