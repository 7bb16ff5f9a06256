//! What the facade's round benchmarks share: resource usage and medians.

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// CPU time (user + system) and minor page faults of this process, every
/// thread together, so far (`getrusage(RUSAGE_SELF)`: `RUSAGE_THREAD` would
/// miss the worker threads).
pub(crate) fn usage() -> (Duration, u64) {
    let Ok(u) = getrusage(UsageWho::RUSAGE_SELF) else {
        return (Duration::ZERO, 0);
    };
    let time = |t: nix::sys::time::TimeVal| {
        Duration::new(
            u64::try_from(t.tv_sec()).unwrap_or(0),
            u32::try_from(t.tv_usec()).unwrap_or(0) * 1000,
        )
    };
    (
        time(u.user_time()) + time(u.system_time()),
        u64::try_from(u.minor_page_faults()).unwrap_or(0),
    )
}

/// The median of `values` (NaN for none).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The value of `--name N` among the arguments, or `default`.
pub(crate) fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|k| args.get(k + 1)?.parse().ok())
        .unwrap_or(default)
}
