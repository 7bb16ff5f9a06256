//! The memory budget of one stage (see [`memory_budget`]).

use std::sync::{
    OnceLock,
    atomic::{AtomicU64, Ordering},
};

use tracekit_core::{
    StageError,
    buffer::{parse_bytes, physical_memory},
};

/// The environment variable that sets the stage memory budget.
pub const STAGE_MEMORY_ENV: &str = "TRACEKIT_STAGE_MEMORY";

/// 0: not set by [`set_memory_budget`].
static OVERRIDE: AtomicU64 = AtomicU64::new(0);

/// The number of bytes one stage may ask for its parameter-sized buffers.
///
/// Parameters that size a stage's buffers
/// (`resample`'s `samples`, `fft`'s `nfft`) are checked against it before
/// anything is allocated, so a typo of `1e12` is a stage error with the
/// numbers, not an allocation abort of the whole process.
///
/// The default is half the machine's physical memory (16 GiB where it
/// cannot be read); the environment variable `TRACEKIT_STAGE_MEMORY` (bytes,
/// or with a `K`, `M`, `G` or `T` suffix) or [`set_memory_budget`] changes it.
///
/// ```
/// use tracekit_core::{ParamValue, Params, Trace};
///
/// let huge = Params::from([("samples".to_owned(), ParamValue::Int(1_000_000_000_000))]);
/// let resample = tracekit_dsp::build("resample", &huge)?;
/// let err = resample.transform(&[&Trace::new(vec![0.0; 16], 1e3)?]).unwrap_err();
/// assert!(err.to_string().contains("stage memory budget"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn memory_budget() -> u64 {
    static DEFAULT: OnceLock<u64> = OnceLock::new();
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => *DEFAULT.get_or_init(|| {
            std::env::var(STAGE_MEMORY_ENV)
                .ok()
                .and_then(|v| parse_bytes(&v))
                .filter(|&b| b > 0)
                .or_else(|| physical_memory().map(|m| m / 2))
                .unwrap_or(16 << 30)
        }),
        set => set,
    }
}

/// Sets the stage memory budget for this process (0 restores the default).
pub fn set_memory_budget(bytes: u64) {
    OVERRIDE.store(bytes, Ordering::Relaxed);
}

fn human(bytes: u128) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// An error unless `points` of `bytes_per_point` each fit in the budget;
/// `what` names the parameter (`"'samples' = 1000000"`).
pub(crate) fn check(
    kind: &str,
    what: &str,
    points: usize,
    bytes_per_point: usize,
) -> Result<(), StageError> {
    let needed = points as u128 * bytes_per_point as u128;
    let budget = memory_budget();
    if needed > u128::from(budget) {
        return Err(format!(
            "{kind}: {what} needs {} of buffers, more than the stage memory budget of {} \
             (raise it with {STAGE_MEMORY_ENV} or tracekit_dsp::set_memory_budget)",
            human(needed),
            human(u128::from(budget))
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_names_the_numbers() {
        let e = check("fft", "'nfft' = 1000000000000", 1_000_000_000_000, 24).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("21.8 TiB") && e.contains(STAGE_MEMORY_ENV),
            "{e}"
        );
        assert!(check("fft", "'nfft' = 1024", 1024, 24).is_ok());
        assert!(check("x", "huge", usize::MAX, usize::MAX).is_err());
    }
}
