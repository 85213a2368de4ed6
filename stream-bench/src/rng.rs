//! A fixed pseudo-random sequence and a Zipf sampler, so every generated dataset is the
//! same.

/// xorshift64*: fast, and the same numbers on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        // the high bits are the better ones of xorshift*
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// A number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Ranks `0..n` with probability proportional to `1 / (rank + 1)^s`.
pub(crate) struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub(crate) fn new(n: usize, s: f64) -> Self {
        let mut cumulative = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 1..=n {
            total += 1.0 / (rank as f64).powf(s);
            cumulative.push(total);
        }
        for c in &mut cumulative {
            *c /= total;
        }
        Zipf { cumulative }
    }

    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cumulative
            .partition_point(|&c| c <= u)
            .min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_puts_the_first_rank_first_and_reaches_the_last() {
        let zipf = Zipf::new(50, 1.0);
        let mut rng = Rng::new(7);
        let mut counts = [0usize; 50];
        for _ in 0..200_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        // rank 1 has 1/H(50) = 22.2 % of the mass, rank 2 half of that
        let first = counts[0] as f64 / 200_000.0;
        assert!((first - 0.222).abs() < 0.01, "{first}");
        assert!((counts[0] as f64 / counts[1] as f64 - 2.0).abs() < 0.1);
        assert!(counts[49] > 0);
    }

    #[test]
    fn below_stays_below() {
        let mut rng = Rng::new(1);
        let mut seen = [false; 20];
        for _ in 0..10_000 {
            seen[rng.below(20) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
