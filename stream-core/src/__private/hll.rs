//! HyperLogLog for `approx_count_distinct`: 2^9 = 512 one-byte registers per group (the
//! precision Spark picks for its default relative error of 5 %; the standard error of
//! HyperLogLog at this size is 1.04 / sqrt(512) ≈ 4.6 %), kept in a `binary` accumulator
//! column so that the state store persists it like any value. Reached through
//! `__private`; not a stable API.

use std::hash::Hasher;

use super::stateful::{KeyPart, StableHasher};

/// Index bits.
const P: u32 = 9;
/// Registers.
const M: usize = 1 << P;

/// The 64-bit hash a value is counted by: the stable FNV hash of its canonical bytes,
/// mixed (splitmix64's finalizer), since HyperLogLog needs well-spread bits.
fn hash<T: KeyPart>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    value.key_hash(&mut h);
    let mut z = h.finish();
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Counts `value` into `registers` (empty = no value yet).
///
/// ```
/// use stream_core::__private::{hll_add, hll_estimate};
/// let mut r = Vec::new();
/// for v in 0..1000i64 { hll_add(&mut r, &(v % 100)); }
/// let n = hll_estimate(&r);
/// // an estimate: within a few standard errors (4.6 % each) of the 100 distinct values
/// assert!((80..=120).contains(&n), "{n}");
/// ```
pub fn hll_add<T: KeyPart>(registers: &mut Vec<u8>, value: &T) {
    if registers.len() != M {
        registers.clear();
        registers.resize(M, 0);
    }
    let h = hash(value);
    let index = (h >> (64 - P)) as usize;
    let rest = h << P;
    let rank = (rest.leading_zeros().min(64 - P) + 1) as u8;
    if registers[index] < rank {
        registers[index] = rank;
    }
}

/// Merges the registers `from` into `into`.
pub fn hll_merge(into: &mut Vec<u8>, from: &[u8]) {
    if from.len() != M {
        return;
    }
    if into.len() != M {
        into.clear();
        into.extend_from_slice(from);
        return;
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a = (*a).max(*b);
    }
}

/// The estimated number of distinct values (0 for no registers).
pub fn hll_estimate(registers: &[u8]) -> i64 {
    if registers.len() != M {
        return 0;
    }
    let m = M as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = registers.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
    let raw = alpha * m * m / sum;
    let zeros = registers.iter().filter(|&&r| r == 0).count();
    let estimate = if raw <= 2.5 * m && zeros > 0 {
        // small ranges: linear counting
        m * (m / zeros as f64).ln()
    } else {
        raw
    };
    estimate.round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_stay_within_a_few_standard_errors() {
        for n in [1usize, 10, 1_000, 50_000] {
            let mut r = Vec::new();
            for i in 0..n {
                hll_add(&mut r, &format!("user-{i}"));
                hll_add(&mut r, &format!("user-{i}")); // a duplicate changes nothing
            }
            let est = hll_estimate(&r) as f64;
            let error = (est - n as f64).abs() / n as f64;
            assert!(error < 0.15, "{n}: {est}");
        }
        assert_eq!(hll_estimate(&[]), 0);
    }

    #[test]
    fn merged_registers_count_the_union() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for i in 0..2_000i64 {
            hll_add(&mut a, &i);
        }
        for i in 1_000..3_000i64 {
            hll_add(&mut b, &i);
        }
        hll_merge(&mut a, &b);
        let est = hll_estimate(&a) as f64;
        assert!((est - 3_000.0).abs() / 3_000.0 < 0.15, "{est}");
    }
}
