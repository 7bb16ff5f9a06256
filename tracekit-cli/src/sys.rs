//! The CLI's few system calls: allocator tuning and the SIGINT flag.

use std::sync::atomic::{AtomicBool, Ordering};

/// Lets glibc keep freed trace buffers for reuse instead of handing them back
/// to the system after every stage. Pipelines allocate and free trace-sized
/// buffers (megabytes) at a high rate; with glibc's defaults each becomes a
/// fresh `mmap` and page faults, about a third of the W2 workload's time, and
/// the faults of parallel workers contend for the process's memory map.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn tune_allocator() {
    // SAFETY:
    // - `mallopt` only sets allocator parameters, with valid parameter codes
    //   and values; it is called once, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Elsewhere the allocator keeps its defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn tune_allocator() {}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// From now on the first SIGINT (Ctrl-C) only sets a flag ([`interrupted`]),
/// so that a batch can stop between inputs; a second one ends the process as
/// usual.
pub(crate) fn catch_sigint() {
    // SAFETY:
    // - the action is a valid `sigaction` whose handler only stores to an
    //   atomic, which is async-signal-safe;
    // - SA_RESETHAND restores the default action after the first signal, so
    //   a second Ctrl-C still ends the process.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
    }
}

/// Whether SIGINT arrived since [`catch_sigint`].
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
