//! Window functions: SciPy's periodic (`fftbins=True`) `get_window` definitions.
//!
//! Each window of length `n` is the symmetric window of length `n + 1` with its
//! last point dropped, computed the way `scipy.signal.windows.general_cosine`
//! does: `w = sum_k a[k] * cos(k * fac)` with `fac = linspace(-pi, pi, n + 1)`.
//! A window of length 0 or 1 is all ones, as in SciPy.
//!
//! ```
//! use tracekit_dsp::window::get_window;
//!
//! let w = get_window("hann", 4)?;
//! assert_eq!(w.len(), 4);
//! assert!((w[2] - 1.0).abs() < 1e-15 && w[0].abs() < 1e-15);
//! assert!(get_window("kaiser", 4).is_err());
//! # Ok::<(), tracekit_core::StageError>(())
//! ```

use std::{f64::consts::PI, fmt, str::FromStr, sync::Arc};

use tracekit_core::{StageError, buffer::AllocError};

use crate::fftplan::SharedCache;

/// The window names that [`get_window`] and the `window` parameters accept.
pub const WINDOWS: &[&str] = &["rect", "hann", "hamming", "blackman", "flattop"];

/// A window shape, by its SciPy name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Window {
    /// `boxcar`: all ones.
    Rect,
    /// `hann`: `general_hamming(0.5)`.
    #[default]
    Hann,
    /// `hamming`: `general_hamming(0.54)`.
    Hamming,
    /// `blackman`: cosine terms `[0.42, 0.50, 0.08]`.
    Blackman,
    /// `flattop`: SciPy's five-term flat top.
    Flattop,
}

impl Window {
    /// The name as [`WINDOWS`] spells it.
    pub fn name(self) -> &'static str {
        match self {
            Window::Rect => "rect",
            Window::Hann => "hann",
            Window::Hamming => "hamming",
            Window::Blackman => "blackman",
            Window::Flattop => "flattop",
        }
    }

    /// Half the width of the main lobe in DFT bins (the first zero of the
    /// window's spectrum): 1 for `rect`, 2 for `hann`/`hamming`, 3 for
    /// `blackman`, 5 for `flattop`.
    pub fn main_lobe_bins(self) -> usize {
        match self {
            Window::Rect => 1,
            Window::Hann | Window::Hamming => 2,
            Window::Blackman => 3,
            Window::Flattop => 5,
        }
    }

    /// The cosine-sum coefficients, exactly as SciPy builds them.
    fn coefficients(self) -> &'static [f64] {
        const HANN: [f64; 2] = [0.5, 1.0 - 0.5];
        const HAMMING: [f64; 2] = [0.54, 1.0 - 0.54];
        match self {
            Window::Rect => &[1.0],
            Window::Hann => &HANN,
            Window::Hamming => &HAMMING,
            Window::Blackman => &[0.42, 0.50, 0.08],
            Window::Flattop => &[
                0.21557895,
                0.41663158,
                0.277263158,
                0.083578947,
                0.006947368,
            ],
        }
    }

    /// The periodic window of length `n`.
    pub fn samples(self, n: usize) -> Vec<f64> {
        let mut w = Vec::with_capacity(n);
        self.write(&mut w, n);
        w
    }

    /// Appends the periodic window of length `n` to `w`.
    fn write(self, w: &mut Vec<f64>, n: usize) {
        if n <= 1 || self == Window::Rect {
            w.resize(w.len() + n, 1.0);
            return;
        }
        // linspace(-pi, pi, n + 1) as NumPy computes it, without its last point.
        let step = 2.0 * PI / n as f64;
        let a = self.coefficients();
        w.extend((0..n).map(|i| {
            let fac = i as f64 * step - PI;
            a.iter()
                .enumerate()
                .fold(0.0, |w, (k, ak)| w + ak * (k as f64 * fac).cos())
        }));
    }

    /// The periodic window of length `n` and its sums, from a cache shared by
    /// all stages and threads, so that a stage does not recompute them on
    /// every call. Fails when its memory cannot be had.
    pub(crate) fn cached(self, n: usize) -> Result<Arc<CachedWindow>, AllocError> {
        static CACHE: SharedCache<(Window, usize), Arc<CachedWindow>> = SharedCache::new();
        CACHE.try_get_or_insert_with((self, n), || {
            let mut samples = Vec::new();
            samples
                .try_reserve_exact(n)
                .map_err(|_| AllocError { samples: n })?;
            self.write(&mut samples, n);
            // Summed in order, one sample after another.
            let sum = samples.iter().sum();
            let sum_sq = samples.iter().map(|v| v * v).sum();
            Ok(Arc::new(CachedWindow {
                samples,
                sum,
                sum_sq,
            }))
        })
    }
}

/// A window with its sums, as [`Window::cached`] keeps it.
#[derive(Debug)]
pub(crate) struct CachedWindow {
    /// The samples.
    pub(crate) samples: Vec<f64>,
    /// Their sum, added in order.
    pub(crate) sum: f64,
    /// The sum of their squares, added in order.
    pub(crate) sum_sq: f64,
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Window {
    type Err = StageError;

    fn from_str(name: &str) -> Result<Window, StageError> {
        match name {
            "rect" => Ok(Window::Rect),
            "hann" => Ok(Window::Hann),
            "hamming" => Ok(Window::Hamming),
            "blackman" => Ok(Window::Blackman),
            "flattop" => Ok(Window::Flattop),
            _ => Err(format!(
                "unknown window {name:?}; known windows: [{}]",
                WINDOWS.join(", ")
            )
            .into()),
        }
    }
}

/// The periodic window `name` of length `n`, like `scipy.signal.get_window(name, n)`.
///
/// Unknown names are an error that lists the known ones.
pub fn get_window(name: &str, n: usize) -> Result<Vec<f64>, StageError> {
    Ok(name.parse::<Window>()?.samples(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_windows_are_ones() {
        for name in WINDOWS {
            assert_eq!(get_window(name, 0).unwrap(), Vec::<f64>::new());
            assert_eq!(get_window(name, 1).unwrap(), vec![1.0]);
        }
    }

    #[test]
    fn hann_peaks_in_the_middle() {
        let w = get_window("hann", 8).unwrap();
        assert_eq!(w[0], 0.0);
        assert!((w[4] - 1.0).abs() < 1e-15);
        assert!((w[1] - w[7]).abs() < 1e-15);
    }

    #[test]
    fn cached_equals_computed() {
        let w = Window::Blackman;
        let c = w.cached(100).unwrap();
        assert_eq!(c.samples, w.samples(100));
        assert_eq!(c.sum, w.samples(100).iter().sum::<f64>());
        assert!(w.cached(usize::MAX).is_err());
    }
}
