//! FFT plans (and other costly per-length tables) cached once for all stages
//! and threads.
//!
//! A plan for a length is made once and shared through an `Arc`, so stages
//! that run concurrently, on any executor, reuse it. The cache is a
//! `Mutex<BTreeMap>` held only for a lookup or an insert, never while a plan
//! is being made. A caller that cannot take the lock after a short wait (a
//! process forked while another thread held it, say) makes its own plan
//! instead of waiting: the cache is an optimisation, never a point where a
//! stage can block. Plans for the same length are made by the same
//! deterministic planner, so a privately made plan computes the same bits.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, TryLockError},
};

use num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use tracekit_core::StageError;

use crate::pooled::try_resize;

/// How many entries a cache keeps before it starts afresh (bounds memory
/// when a process sees many different lengths).
const MAX_ENTRIES: usize = 64;

/// How many times a caller tries the lock before it computes the value itself.
const LOCK_TRIES: usize = 64;

/// A map from keys to shared values, safe to use from many threads and from
/// a forked child (see the module documentation).
#[derive(Debug)]
pub(crate) struct SharedCache<K, V> {
    map: Mutex<BTreeMap<K, V>>,
}

impl<K: Ord + Clone, V: Clone> SharedCache<K, V> {
    /// An empty cache, usable as a `static`.
    pub(crate) const fn new() -> Self {
        SharedCache {
            map: Mutex::new(BTreeMap::new()),
        }
    }

    /// The value for `key`, made with `make` (outside the lock) when missing.
    pub(crate) fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V {
        match self.try_get_or_insert_with(key, || Ok::<V, std::convert::Infallible>(make())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// The value for `key`, made with `make` (outside the lock) when
    /// missing; an error of `make` is given back and nothing is cached.
    pub(crate) fn try_get_or_insert_with<E>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.with_map(|m| m.get(&key).cloned()).flatten() {
            return Ok(v);
        }
        let value = make()?;
        Ok(self.insert(key, value))
    }

    /// Caches `value` for `key` unless a value is there already; gives the cached one.
    fn insert(&self, key: K, value: V) -> V {
        self.with_map(|m| {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.entry(key).or_insert_with(|| value.clone()).clone()
        })
        .unwrap_or(value)
    }

    /// Runs `f` on the map if the lock can be taken soon, else gives `None`.
    fn with_map<R>(&self, f: impl FnOnce(&mut BTreeMap<K, V>) -> R) -> Option<R> {
        take_within_tries(&self.map, f)
    }
}

type Forward = Arc<dyn RealToComplex<f64>>;
type Inverse = Arc<dyn ComplexToReal<f64>>;

/// The forward real FFT of length `n` (`numpy.fft.rfft`, unnormalised).
pub(crate) fn forward(n: usize) -> Forward {
    static CACHE: SharedCache<usize, Forward> = SharedCache::new();
    CACHE.get_or_insert_with(n, || RealFftPlanner::<f64>::new().plan_fft_forward(n))
}

/// The inverse real FFT of length `n` (`numpy.fft.irfft` times `n`).
pub(crate) fn inverse(n: usize) -> Inverse {
    static CACHE: SharedCache<usize, Inverse> = SharedCache::new();
    CACHE.get_or_insert_with(n, || RealFftPlanner::<f64>::new().plan_fft_inverse(n))
}

/// Buffers reused from call to call (see [`with_workspace`]), so that a large
/// transform does not pay for fresh (page-faulting) allocations every time.
/// Growing them is fallible: a size that cannot be had is a stage error that
/// names it.
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    /// Real samples: the input of a forward transform or the output of an inverse one.
    pub(crate) real: Vec<f64>,
    /// One-sided spectrum.
    pub(crate) spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl Workspace {
    /// The memory its buffers hold.
    fn bytes(&self) -> usize {
        size_of::<f64>() * self.real.capacity()
            + size_of::<Complex<f64>>() * (self.spectrum.capacity() + self.scratch.capacity())
    }

    /// Sizes the buffers for forward transforms of length `n` (`real` to `n`
    /// points, `spectrum` to `n / 2 + 1` bins) and gives the plan, for
    /// [`forward`](Workspace::forward) to run as often as needed.
    pub(crate) fn forward_plan(&mut self, n: usize) -> Result<Forward, StageError> {
        let plan = forward(n);
        try_resize(&mut self.real, n, 0.0)?;
        try_resize(&mut self.spectrum, n / 2 + 1, Complex::default())?;
        try_resize(
            &mut self.scratch,
            plan.get_scratch_len(),
            Complex::default(),
        )?;
        Ok(plan)
    }

    /// `spectrum = rfft(real)` with a plan from [`forward_plan`](Workspace::forward_plan);
    /// `real` is left undefined.
    pub(crate) fn forward(&mut self, plan: &Forward) -> Result<(), StageError> {
        plan.process_with_scratch(&mut self.real, &mut self.spectrum, &mut self.scratch)
            .map_err(|e| format!("real FFT of length {} failed: {e}", plan.len()).into())
    }

    /// `spectrum = rfft(real[..n])`; `fill` first writes all of `real[..n]`.
    pub(crate) fn rfft(
        &mut self,
        n: usize,
        fill: impl FnOnce(&mut [f64]),
    ) -> Result<(), StageError> {
        let plan = self.forward_plan(n)?;
        fill(&mut self.real);
        self.forward(&plan)
    }

    /// Sets the spectrum to `bins` bins, keeping the first ones; new bins are zero.
    pub(crate) fn resize_spectrum(&mut self, bins: usize) -> Result<(), StageError> {
        Ok(try_resize(&mut self.spectrum, bins, Complex::default())?)
    }

    /// `out = n * irfft(spectrum[..n / 2 + 1], n)` for `out` of `n` points,
    /// ignoring the imaginary parts of the DC bin (and of the Nyquist bin for
    /// even `n`) as `numpy.fft.irfft` does; the spectrum is left undefined.
    pub(crate) fn irfft_into(&mut self, out: &mut [f64]) -> Result<(), StageError> {
        let n = out.len();
        let plan = inverse(n);
        if self.spectrum.len() <= n / 2 {
            return Err(format!(
                "inverse real FFT of length {n} needs {} bins, got {}",
                n / 2 + 1,
                self.spectrum.len()
            )
            .into());
        }
        try_resize(
            &mut self.scratch,
            plan.get_scratch_len(),
            Complex::default(),
        )?;
        let spectrum = &mut self.spectrum[..n / 2 + 1];
        spectrum[0].im = 0.0;
        if n % 2 == 0 {
            spectrum[n / 2].im = 0.0;
        }
        plan.process_with_scratch(spectrum, out, &mut self.scratch)
            .map_err(|e| format!("inverse real FFT of length {n} failed: {e}").into())
    }

    /// `real[..n] = n * irfft(spectrum, n)`, as [`irfft_into`](Workspace::irfft_into).
    pub(crate) fn irfft(&mut self, n: usize) -> Result<(), StageError> {
        let mut real = std::mem::take(&mut self.real);
        let done = try_resize(&mut real, n, 0.0)
            .map_err(StageError::from)
            .and_then(|()| self.irfft_into(&mut real));
        self.real = real;
        done
    }
}

/// How many bytes of idle workspaces the pool keeps at most: room for a
/// 2^21-point transform on each of eight threads. A workspace that would
/// not fit is freed instead.
const POOL_BYTES: usize = 256 << 20;

/// Runs `f` with a [`Workspace`] from the process-wide pool (a fresh one if
/// the pool is empty or its lock is busy), then returns it to the pool.
///
/// The pool, unlike a thread-local, outlives the threads that use it: an
/// executor that starts new threads for each run still finds workspaces
/// whose pages are already mapped, instead of page-faulting in a new
/// megabytes-long buffer on every call.
pub(crate) fn with_workspace<R>(f: impl FnOnce(&mut Workspace) -> R) -> R {
    static POOL: Mutex<Vec<Workspace>> = Mutex::new(Vec::new());
    let mut ws = take_within_tries(&POOL, Vec::pop)
        .flatten()
        .unwrap_or_default();
    let result = f(&mut ws);
    take_within_tries(&POOL, |pool| {
        let parked: usize = pool.iter().map(Workspace::bytes).sum();
        if parked + ws.bytes() <= POOL_BYTES {
            pool.push(ws);
        }
    });
    result
}

/// Runs `f` on the value behind `lock` if the lock can be taken soon, else
/// gives `None` (see the module documentation: never block on a cache).
fn take_within_tries<T, R>(lock: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> Option<R> {
    for _ in 0..LOCK_TRIES {
        match lock.try_lock() {
            Ok(mut guard) => return Some(f(&mut guard)),
            // Every update is a single push, pop or insert: a panic elsewhere
            // cannot leave the value half-updated.
            Err(TryLockError::Poisoned(p)) => return Some(f(&mut p.into_inner())),
            Err(TryLockError::WouldBlock) => std::thread::yield_now(),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_shared() {
        assert!(Arc::ptr_eq(&forward(48), &forward(48)));
        assert!(Arc::ptr_eq(&inverse(48), &inverse(48)));
    }

    #[test]
    fn round_trip() {
        let x = [1.0, -2.0, 3.5, 0.25, 7.0];
        let mut ws = Workspace::default();
        ws.rfft(5, |buf| buf.copy_from_slice(&x)).unwrap();
        ws.irfft(5).unwrap();
        for (a, b) in x.iter().zip(&ws.real) {
            assert!((a - b / 5.0).abs() < 1e-12);
        }
        let mut short = [0.0; 12];
        assert!(ws.irfft_into(&mut short).is_err());
    }
}
