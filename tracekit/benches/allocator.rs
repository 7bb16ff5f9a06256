//! W1 and W2 through the library with glibc's default allocator settings
//! against the same program with the allocator tuned to keep freed trace
//! buffers for reuse (`M_MMAP_THRESHOLD` 256 MiB, `M_TRIM_THRESHOLD` 1 GiB),
//! and the minor page faults per iteration. glibc only (the tuned variant
//! fails elsewhere).
//!
//! `cargo bench -p tracekit --bench allocator [-- --rounds 21 --iters 4]`
//!
//! `mallopt` settings hold for the whole process and cannot be undone, so
//! each variant runs in a process of its own: the parent runs this binary
//! again as a child once per variant and round, the variants taking turns
//! (which goes first alternates). Each child runs every case (W1 and W2 on
//! the sequential, thread and process executors, automatic workers) twice
//! untimed, then `--iters` times timed, and prints the median time and the
//! mean minor page faults per iteration (of the child itself: the process
//! executor's workers are not counted). The parent prints, per case, the
//! median over rounds of the per-round ratio default / tuned.

use std::{
    env,
    process::{Command, ExitCode},
    time::{Duration, Instant},
};

use tracekit::{ExecutorKind, workloads::Workload};

mod common;

use common::{arg, median, usage};

/// The cases every child runs, in order.
const CASES: [(Workload, ExecutorKind); 6] = [
    (Workload::W1, ExecutorKind::Sequential),
    (Workload::W1, ExecutorKind::Thread),
    (Workload::W1, ExecutorKind::Process),
    (Workload::W2, ExecutorKind::Sequential),
    (Workload::W2, ExecutorKind::Thread),
    (Workload::W2, ExecutorKind::Process),
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    if args.iter().any(|a| a == "--list") {
        println!("allocator: bench");
        return ExitCode::SUCCESS;
    }
    let result = if args.iter().any(|a| a == "--child") {
        child(args.iter().any(|a| a == "--tuned"), arg("--iters", 4))
    } else {
        parent(arg("--rounds", 21), arg("--iters", 4))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("allocator bench: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Tunes glibc's allocator to keep freed buffers: no `mmap` below 256 MiB,
/// no trimming below 1 GiB free.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune() -> Result<(), String> {
    // SAFETY:
    // - `mallopt` only sets allocator parameters; the codes are valid and the
    //   values in range for an `int`;
    // - it runs first thing in the child, before it starts a thread.
    let (mmap, trim) = unsafe {
        (
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20),
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30),
        )
    };
    if mmap == 1 && trim == 1 {
        Ok(())
    } else {
        Err(format!(
            "mallopt refused the tuned settings (M_MMAP_THRESHOLD: {mmap}, M_TRIM_THRESHOLD: {trim})"
        ))
    }
}

/// Only glibc has these settings.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune() -> Result<(), String> {
    Err("the tuned variant needs glibc's mallopt".into())
}

/// One child: every case, `iters` timed iterations each after two untimed
/// ones; prints `case<TAB>W1 thread<TAB>seconds<TAB>faults` per case.
fn child(tuned: bool, iters: usize) -> Result<(), String> {
    if tuned {
        tune()?;
    }
    let inputs = [Workload::W1, Workload::W2].map(|w| w.inputs().map_err(|e| e.to_string()));
    for (workload, kind) in CASES {
        let inputs = match workload {
            Workload::W1 => &inputs[0],
            _ => &inputs[1],
        }
        .as_ref()
        .map_err(Clone::clone)?;
        let pipeline = workload.pipeline(kind, None).map_err(|e| e.to_string())?;
        let once = || {
            workload
                .run_once(pipeline.as_pipeline(), inputs)
                .map_err(|e| format!("{workload} on {kind}: {e}"))
        };
        once()?;
        once()?;
        let mut times = Vec::with_capacity(iters);
        let (_, faults_before) = usage();
        for _ in 0..iters.max(1) {
            let start = Instant::now();
            once()?;
            times.push(start.elapsed().as_secs_f64());
        }
        let (_, faults_after) = usage();
        let faults = (faults_after - faults_before) as f64 / times.len() as f64;
        println!("case\t{workload} {kind}\t{}\t{faults}", median(times));
    }
    Ok(())
}

/// What one child measured: per case, seconds and faults per iteration.
type Measured = Vec<(f64, f64)>;

fn run_child(tuned: bool, iters: usize) -> Result<Measured, String> {
    let exe = env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(["--child", "--iters", &iters.to_string()]);
    if tuned {
        cmd.arg("--tuned");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run a child: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "a child failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let measured: Measured = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t').skip(2);
            Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
        })
        .collect();
    if measured.len() != CASES.len() {
        return Err(format!(
            "a child printed {} cases, not {}:\n{text}",
            measured.len(),
            CASES.len()
        ));
    }
    Ok(measured)
}

fn parent(rounds: usize, iters: usize) -> Result<(), String> {
    let rounds = rounds.max(1);
    println!(
        "W1 and W2 through the library, glibc's default allocator settings vs tuned \
         (M_MMAP_THRESHOLD 256 MiB, M_TRIM_THRESHOLD 1 GiB)"
    );
    println!(
        "{rounds} rounds, one process per variant and round, {iters} timed iterations per case after 2 untimed"
    );
    let started = Instant::now();
    // `by[variant][round]`: variant 0 is glibc's defaults, 1 the tuned settings.
    let mut by: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for v in order {
            by[v].push(run_child(v == 1, iters)?);
        }
    }
    println!(
        "\n  {:<16}{:>13}{:>13}{:>17}{:>16}{:>14}",
        "case", "default", "tuned", "default/tuned", "faults default", "faults tuned"
    );
    for (c, (workload, kind)) in CASES.into_iter().enumerate() {
        let at = |v: usize, f: fn(&(f64, f64)) -> f64| -> Vec<f64> {
            by[v].iter().map(|m| f(&m[c])).collect()
        };
        let ratio = median(
            at(0, |m| m.0)
                .iter()
                .zip(at(1, |m| m.0))
                .map(|(d, t)| d / t)
                .collect(),
        );
        println!(
            "  {:<16}{:>10.2} ms{:>10.2} ms{:>16.3}x{:>16.0}{:>14.0}",
            format!("{workload} {kind}"),
            median(at(0, |m| m.0)) * 1e3,
            median(at(1, |m| m.0)) * 1e3,
            ratio,
            median(at(0, |m| m.1)),
            median(at(1, |m| m.1)),
        );
    }
    println!(
        "\nTimes and faults are medians over rounds of each child's per-iteration figures; the ratio\n\
         is the median of per-round ratios (target: at most 1.05x). Faults are minor page faults of\n\
         the child process per iteration (target: at most 100 per W1 transform on the thread\n\
         executor); the process executor's workers are not counted. {:.0?} in all.",
        Duration::from_secs(started.elapsed().as_secs())
    );
    Ok(())
}
