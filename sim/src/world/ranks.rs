//! Catalog sales ranks: an ASIN's daily best-seller rank, which rises when its units fall
//! behind the baseline, and the median rank over a range.

use chrono::NaiveDate;
use serde::Serialize;

use super::rng::Rng;
use super::{World, TAG_RANK};

/// Catalog sales ranks of an ASIN on a day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankSnapshot {
    pub date: NaiveDate,
    pub asin: String,
    pub display_group: String,
    pub display_group_title: String,
    pub rank: u32,
    pub classification_id: String,
    pub classification_title: String,
    pub classification_rank: u32,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

impl World {
    pub(super) fn sales_rank_rel(&self, j: usize, rel: i32) -> Option<RankSnapshot> {
        if rel < self.start_rel() {
            return None;
        }
        let p = &self.scenario.products[j];
        let prev = self.walk(j, rel - 2, rel);
        let units = if prev.is_empty() {
            p.sessions * p.conversion
        } else {
            prev.iter().map(|c| c.units as f64).sum::<f64>() / prev.len() as f64
        };
        let base = p.sessions * p.conversion;
        let params = self.params(j, rel);
        let mut r = Rng::new(&[self.seed, TAG_RANK, j as u64, rel as i64 as u64]);
        let ratio = ((base + 1.0) / (units + 1.0)).powf(0.8).min(40.0);
        let rank = (p.rank as f64 * ratio * params.rank_factor * (1.0 + 0.04 * r.normal()))
            .clamp(1.0, 9_000_000.0) as u32;
        Some(RankSnapshot {
            date: self.date(rel),
            asin: p.asin.clone(),
            display_group: p.display_group.clone(),
            display_group_title: p.display_group_title.clone(),
            rank,
            classification_id: p.browse_node_id.clone(),
            classification_title: p.browse_node_name.clone(),
            classification_rank: (rank / 14).max(1),
        })
    }

    /// Sales ranks of an ASIN on a day (the day's value, observable from its start).
    pub fn sales_rank(&self, asin: &str, day: NaiveDate) -> Option<RankSnapshot> {
        self.sales_rank_rel(self.asin_idx(asin)?, self.rel(day))
    }

    /// Median of daily main ranks of an ASIN over `start..=end` (days before `now`'s day).
    pub fn median_rank(&self, asin: &str, start: NaiveDate, end: NaiveDate) -> Option<f64> {
        let j = self.asin_idx(asin)?;
        median(
            (self.rel(start)..=self.rel(end))
                .filter_map(|r| self.sales_rank_rel(j, r))
                .map(|s| s.rank as f64)
                .collect(),
        )
    }
}
