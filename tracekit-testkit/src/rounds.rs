//! Interleaved timing rounds for benchmarks that compare cases by ratio.
//!
//! A machine's speed drifts between runs and even within one; a ratio of two
//! cases is trustworthy only when both are timed close together, many times.
//! [`interleaved`] times every case once per round, in turn, for a number of
//! rounds; [`Rounds::median_ratio`] is the median over rounds of the
//! per-round ratio of two cases.

use std::time::{Duration, Instant};

/// The per-round times of named cases (see [`interleaved`]).
#[derive(Debug, Clone)]
pub struct Rounds {
    names: Vec<String>,
    /// `times[case][round]`.
    times: Vec<Vec<Duration>>,
}

/// One case to time: a name and what one timed repetition does.
pub type Case<'a> = (&'a str, Box<dyn FnMut() + 'a>);

/// Times each case `per_round` times (the median counts) in every one of
/// `rounds` rounds, the cases taking turns; one untimed warm-up call each
/// first.
///
/// ```
/// use tracekit_testkit::rounds::interleaved;
///
/// let r = interleaved(3, 1, vec![
///     ("short", Box::new(|| { std::hint::black_box(vec![0u8; 10]); })),
///     ("long", Box::new(|| { std::hint::black_box(vec![0u8; 10_000]); })),
/// ]);
/// assert_eq!(r.times("short").len(), 3);
/// assert!(r.median_ratio("long", "short").is_finite());
/// ```
pub fn interleaved(rounds: usize, per_round: usize, mut cases: Vec<Case<'_>>) -> Rounds {
    for (_, f) in &mut cases {
        f();
    }
    let mut times = vec![Vec::with_capacity(rounds); cases.len()];
    for _ in 0..rounds {
        for (k, (_, f)) in cases.iter_mut().enumerate() {
            let mut reps: Vec<Duration> = (0..per_round.max(1))
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect();
            reps.sort();
            times[k].push(reps[reps.len() / 2]);
        }
    }
    Rounds {
        names: cases.iter().map(|(n, _)| n.to_string()).collect(),
        times,
    }
}

impl Rounds {
    /// The per-round times of case `name` (empty for an unknown name).
    pub fn times(&self, name: &str) -> &[Duration] {
        self.names
            .iter()
            .position(|n| n == name)
            .map_or(&[], |k| &self.times[k])
    }

    /// The median per-round time of case `name`.
    pub fn median(&self, name: &str) -> Duration {
        let mut t = self.times(name).to_vec();
        t.sort();
        t.get(t.len() / 2).copied().unwrap_or_default()
    }

    /// The median over rounds of `time(a) / time(b)`; NaN for unknown names.
    pub fn median_ratio(&self, a: &str, b: &str) -> f64 {
        let mut ratios: Vec<f64> = self
            .times(a)
            .iter()
            .zip(self.times(b))
            .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
            .collect();
        if ratios.is_empty() {
            return f64::NAN;
        }
        ratios.sort_by(f64::total_cmp);
        ratios[ratios.len() / 2]
    }

    /// A table of every case's median time and its median ratio to `base`.
    pub fn report(&self, base: &str) -> String {
        let rounds = self.times.first().map_or(0, Vec::len);
        let mut out =
            format!("{rounds} interleaved rounds; ratios are medians of per-round ratios\n");
        for name in &self.names {
            out += &format!(
                "  {name:<40} median {:>10.3} ms   {:.3}x {base}\n",
                self.median(name).as_secs_f64() * 1e3,
                self.median_ratio(name, base)
            );
        }
        out
    }
}
