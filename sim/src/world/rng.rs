//! A counter-based random source: every draw is a pure function of (seed, tag, keys), so any
//! day of any SKU can be generated on its own, in any order, and always gives the same numbers.

/// SplitMix64's finaliser: a good 64-bit mixer.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a list of keys.
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x243F_6A88_85A3_08D3, |h, &p| mix(h ^ mix(p)))
}

/// Hash of a string (stable across runs and platforms, unlike `DefaultHasher`).
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
    })
}

/// A stream of draws from one key.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(parts: &[u64]) -> Rng {
        Rng(hash(parts))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Approximately standard normal (Irwin–Hall: four uniforms, rescaled; bounded at ±3.46,
    /// so no draw is absurd), cheap enough for millions of SKU-days.
    pub fn normal(&mut self) -> f64 {
        let s = self.f64() + self.f64() + self.f64() + self.f64();
        (s - 2.0) * 3f64.sqrt()
    }
    /// `x` rounded down or up at random so that the expectation is `x` (x < 0 gives 0).
    pub fn round(&mut self, x: f64) -> u32 {
        if x <= 0.0 || x.is_nan() {
            return 0;
        }
        let f = x.floor();
        let up = self.f64() < x - f;
        (f as u32).saturating_add(up as u32)
    }
    /// Index drawn with probability proportional to `weights`.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Splits `n` items among `weights` (zero weight gets nothing) by systematic sampling, so each
/// share is within one of its expectation.
pub(crate) fn allocate(n: u32, weights: &[f64], rng: &mut Rng) -> Vec<u32> {
    let total: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    let mut out = vec![0; weights.len()];
    if n == 0 || total <= 0.0 {
        return out;
    }
    let u = rng.f64();
    let mut cum = 0.0;
    let mut taken = 0u32;
    for (i, w) in weights.iter().enumerate() {
        if *w <= 0.0 {
            continue;
        }
        cum += w / total * n as f64;
        let upto = ((cum - u).floor() + 1.0).clamp(0.0, n as f64) as u32;
        out[i] = upto.saturating_sub(taken);
        taken = taken.max(upto);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_sums_and_respects_zero_weights() {
        let mut r = Rng::new(&[1]);
        for n in [0, 1, 7, 100] {
            let a = allocate(n, &[1.0, 0.0, 3.0, 0.5], &mut r);
            assert_eq!(a.iter().sum::<u32>(), n);
            assert_eq!(a[1], 0);
        }
    }

    #[test]
    fn draws_are_reproducible() {
        let a: Vec<u64> = (0..5).map(|_| Rng::new(&[1, 2, 3]).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(&[1, 2, 3]).next_u64(),
            Rng::new(&[1, 2, 4]).next_u64()
        );
    }
}
