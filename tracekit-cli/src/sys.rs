//! The CLI's few system calls: the SIGINT flag, and the resources (CPU time,
//! page faults) this process and its children have used.

use std::{
    fs,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

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

/// CPU time and minor page faults used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// User plus system CPU time.
    pub(crate) cpu: Duration,
    /// Minor page faults (faults served without I/O).
    pub(crate) minor_faults: u64,
}

impl Usage {
    /// What was used between `earlier` and `self`.
    pub(crate) fn since(self, earlier: Usage) -> Usage {
        Usage {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
        }
    }

    /// Both together.
    pub(crate) fn add(self, other: Usage) -> Usage {
        Usage {
            cpu: self.cpu + other.cpu,
            minor_faults: self.minor_faults + other.minor_faults,
        }
    }
}

/// What this process (all its threads) and its child processes have used so
/// far: `getrusage(RUSAGE_SELF)`, plus `getrusage(RUSAGE_CHILDREN)` for the
/// children that ended and were waited for, plus, on Linux, what the live
/// children (the process executor's workers) report in
/// `/proc/<pid>/schedstat` (CPU time) and `/proc/<pid>/stat` (minor faults).
/// A child that ends between two readings moves from the live sum to
/// `RUSAGE_CHILDREN`, so the difference of two readings stays whole.
pub(crate) fn usage() -> Usage {
    rusage(libc::RUSAGE_SELF)
        .add(rusage(libc::RUSAGE_CHILDREN))
        .add(live_children())
}

fn rusage(who: libc::c_int) -> Usage {
    // SAFETY:
    // - `rusage` is plain old data, so all zeroes is a valid value;
    // - `getrusage` writes only into the struct it is given, which lives
    //   until the call returns; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    let r = unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut r) != 0 {
            return Usage::default();
        }
        r
    };
    let time = |t: libc::timeval| {
        Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_usec).unwrap_or(0) * 1000,
        )
    };
    Usage {
        cpu: time(r.ru_utime) + time(r.ru_stime),
        minor_faults: u64::try_from(r.ru_minflt).unwrap_or(0),
    }
}

/// The sum over this process's live children, from `/proc`.
#[cfg(target_os = "linux")]
fn live_children() -> Usage {
    children()
        .into_iter()
        .map(|pid| child_usage(pid).unwrap_or_default())
        .fold(Usage::default(), Usage::add)
}

/// Elsewhere only the children that were waited for are counted.
#[cfg(not(target_os = "linux"))]
fn live_children() -> Usage {
    Usage::default()
}

/// The pids of this process's children: the `children` lists of its
/// threads, or, where the kernel lacks them, every process whose parent is
/// this one.
#[cfg(target_os = "linux")]
fn children() -> Vec<u32> {
    let me = std::process::id();
    let mut lists = Vec::new();
    if let Ok(tasks) = fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(list) = fs::read_to_string(task.path().join("children")) {
                lists.push(list);
            }
        }
    }
    if !lists.is_empty() {
        return lists
            .iter()
            .flat_map(|l| l.split_whitespace())
            .filter_map(|pid| pid.parse().ok())
            .collect();
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat_fields(pid).and_then(|f| f.first()?.parse().ok()) == Some(me))
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name, starting with
/// field 4 (the parent's pid).
#[cfg(target_os = "linux")]
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().skip(1).map(str::to_owned).collect())
}

/// A live child's CPU time (`schedstat`: nanoseconds on a CPU; `stat`'s
/// utime + stime in clock ticks where that is missing) and minor faults.
#[cfg(target_os = "linux")]
fn child_usage(pid: u32) -> Option<Usage> {
    let fields = stat_fields(pid)?;
    // Field 10 is minflt, 14 utime, 15 stime; `fields` starts at field 4.
    let field = |n: usize| fields.get(n - 4)?.parse::<u64>().ok();
    let cpu = match fs::read_to_string(format!("/proc/{pid}/schedstat")) {
        Ok(s) => Duration::from_nanos(s.split_whitespace().next()?.parse().ok()?),
        Err(_) => {
            // SAFETY: `sysconf` only reads a system constant.
            let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
            let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0)?;
            let total = field(14)? + field(15)?;
            Duration::from_nanos(total.saturating_mul(1_000_000_000) / ticks)
        }
    };
    Some(Usage {
        cpu,
        minor_faults: field(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_grows_with_work_and_counts_children() {
        let before = usage();
        let mut x = vec![0u8; 64 << 20];
        x.iter_mut().step_by(4096).for_each(|b| *b = 1);
        std::hint::black_box(&x);
        let used = usage().since(before);
        assert!(used.minor_faults > 0, "{used:?}");
        assert!(used.cpu > Duration::ZERO, "{used:?}");
        assert_eq!(before.since(usage()), Usage::default(), "never negative");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn live_children_are_found() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep runs");
        let found = children().contains(&child.id());
        let usage = child_usage(child.id());
        child.kill().ok();
        child.wait().ok();
        assert!(found, "child {} not among {:?}", child.id(), children());
        assert!(usage.is_some());
    }
}
