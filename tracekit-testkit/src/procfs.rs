//! What benchmarks read of processes from Linux's `/proc`: memory (Pss,
//! shared memory) and child processes. Every reader gives 0 or nothing
//! where `/proc` cannot be read.

use std::fs;

/// The value in kB of the line starting with `key` in `text` (`Pss:  123 kB`).
fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
}

/// The proportional set size of process `pid` in kB (`smaps_rollup`).
pub fn pss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| kb_field(&s, "Pss:"))
        .unwrap_or(0)
}

/// The system's shared memory in kB (`Shmem` of /proc/meminfo): segments
/// that no process maps count here and in no process's Pss.
pub fn shmem_kib() -> u64 {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| kb_field(&s, "Shmem:"))
        .unwrap_or(0)
}

/// The children of process `pid`, of all its threads (the process executor
/// forks its workers from a thread of its own).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// The Pss in kB of process `pid` and its children.
///
/// ```
/// use tracekit_testkit::procfs::{children, pss_tree_kib};
///
/// let me = std::process::id();
/// assert!(pss_tree_kib(me) > 0);
/// assert!(children(u32::MAX).is_empty()); // no such process
/// ```
pub fn pss_tree_kib(pid: u32) -> u64 {
    pss_kib(pid) + children(pid).into_iter().map(pss_kib).sum::<u64>()
}
