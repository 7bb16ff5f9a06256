//! `tracekit run` stopped at points spread over a batch, 20 times: SIGKILL
//! of the process, SIGINT to it, and SIGINT to its whole process group (what
//! Ctrl-C in a terminal sends), on every executor.
//!
//! After each stop, what is left is complete: every output present is the
//! uninterrupted run's file byte for byte, measurements.csv is whole or
//! absent, anything else is a temporary under its recognisable name (and
//! only after SIGKILL), and no process of the run is left alive, workers
//! included. The same command with `--resume` then skips exactly the input
//! files recorded as done and ends with the uninterrupted run's files.

mod support;

use std::{
    fs,
    os::unix::process::CommandExt as _,
    path::Path,
    process::{Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use support::{BIN, TempDir, assert_same_dirs, path_str, stderr, tracekit, write_inputs};
use tracekit::io::is_temporary;

/// Input files of the batch, and samples in each: about 40 ms of work per
/// input in a debug build, so that a stop lands inside a stage, a write or
/// a record as often as between them.
const INPUTS: usize = 16;
const SAMPLES: usize = 1 << 14;
const ROUNDS: usize = 20;
const EXECUTORS: [&str; 3] = ["sequential", "thread", "process"];
/// The records of finished input files, inside the output directory.
const RECORDS: &str = ".tracekit-records";

/// How a round stops the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// SIGKILL to the tracekit process (its workers then die with it).
    Kill,
    /// SIGINT to the tracekit process only.
    Interrupt,
    /// SIGINT to the process group, workers included, as a terminal does.
    InterruptGroup,
}

/// Sends `signal` to `pid` (a negative pid: to that process group).
fn send(pid: i32, signal: libc::c_int) {
    // SAFETY:
    // - `kill` takes plain integers and has no memory-safety preconditions;
    //   `pid` is a child of this process (or its group) that it has not
    //   reaped yet, so the id cannot have been reused.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "kill({pid}, {signal}) failed");
}

/// The live processes (zombies aside) whose working directory is `dir`:
/// the tracekit run and any worker it forked.
fn processes_in(dir: &Path) -> Vec<i32> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rfind(')').map(|i| s[i + 2..].starts_with(['Z', 'X'])))
            .unwrap_or(true);
        if !zombie && fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == dir) {
            found.push(pid);
        }
    }
    found
}

/// Waits (up to a generous deadline: this checks that they end, not how
/// fast) until no process works in `dir` any more; fails naming them.
fn assert_no_process_left(dir: &Path, round: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut left = processes_in(dir);
    while !left.is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
        left = processes_in(dir);
    }
    for &pid in &left {
        // Clean up before failing: these are no children of this process.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(
        left.is_empty(),
        "round {round}: processes {left:?} outlived the stopped run"
    );
}

/// Checks what a stopped run left in `out` against the uninterrupted run's
/// `whole`; gives the number of input files recorded as done.
fn check_leftovers(
    out: &Path,
    whole: &Path,
    stop: Stop,
    status: ExitStatus,
    round: usize,
) -> usize {
    let context = format!("round {round} ({stop:?}, {status})");
    let Ok(entries) = fs::read_dir(out) else {
        return 0; // Stopped before it made the output directory.
    };
    let mut records = 0;
    for entry in entries {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name == RECORDS {
            for record in fs::read_dir(&path).unwrap() {
                let record = record.unwrap().file_name().to_string_lossy().into_owned();
                if record.ends_with(".rec") && !is_temporary(&record) {
                    records += 1;
                } else {
                    assert!(
                        is_temporary(&record) && stop == Stop::Kill,
                        "{context}: {RECORDS}/{record} is neither a record nor a killed write's temporary"
                    );
                }
            }
        } else if is_temporary(&name) {
            // Only a killed write leaves its temporary; an interrupted run
            // finishes the write in flight.
            assert!(
                stop == Stop::Kill || status.code().is_none(),
                "{context}: the temporary {name} was left behind"
            );
        } else {
            let expected = fs::read(whole.join(&name))
                .unwrap_or_else(|_| panic!("{context}: {name} is no file of the run"));
            assert!(
                fs::read(&path).unwrap() == expected,
                "{context}: {name} is not the uninterrupted run's file (half written?)"
            );
        }
    }
    // A record is written once all outputs of its file are: no more records
    // than inputs whose output files are all there.
    let complete = fs::read_dir(whole)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".fft.npy").map(str::to_owned)
        })
        .filter(|input| {
            ["metrics", "lowpass", "fft"]
                .iter()
                .all(|step| out.join(format!("{input}.{step}.npy")).exists())
        })
        .count();
    assert!(
        records <= complete,
        "{context}: {records} records but only {complete} inputs with all their outputs"
    );
    records
}

/// Polls until `path` exists or the run ends; gives whether it exists.
fn wait_for(path: &Path, child: &mut std::process::Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            return path.exists();
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

#[test]
fn twenty_stops_leave_only_complete_files_and_resume_to_the_uninterrupted_result() {
    let dir = TempDir::new("stops");
    let names = write_inputs(&dir, INPUTS, SAMPLES);
    let spec = dir.path("spec.toml");
    let base: Vec<&str> = [
        &["run", path_str(&spec), "--sample-rate", "1e6"][..],
        &["--keep", "lowpass,fft", "--workers", "2"],
    ]
    .concat()
    .into_iter()
    .chain(names.iter().map(String::as_str))
    .collect();

    // The uninterrupted run, and how long one input takes, to spread the
    // stops inside the work of an input (placement only: nothing here
    // depends on how long anything takes).
    let start = Instant::now();
    let o = tracekit(&dir.0, &[base.as_slice(), &["--out", "whole"]].concat());
    let per_input = start.elapsed() / INPUTS as u32;
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = dir.path("whole");
    assert_eq!(
        support::files(&whole).len(),
        3 * INPUTS + 1,
        "three files per input and measurements.csv"
    );

    let mut rng = StdRng::seed_from_u64(20);
    let mut stops_inside = 0;
    for round in 0..ROUNDS {
        let stop = match round % 4 {
            0 | 2 => Stop::Kill,
            1 => Stop::Interrupt,
            _ => Stop::InterruptGroup,
        };
        let executor = EXECUTORS[round % EXECUTORS.len()];
        // Stop after this many inputs are written (0 to all of them), a
        // random part of one input's time later.
        let after = round * INPUTS / (ROUNDS - 1);
        let delay = per_input.mul_f64(rng.random_range(0.0..1.0));
        let out = format!("out{round:02}");
        let args = [base.as_slice(), &["--executor", executor, "--out", &out]].concat();

        let mut child = Command::new(BIN)
            .current_dir(&dir.0)
            .args(&args)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let running = match after {
            0 => true,
            n => {
                let stem = names[n - 1].trim_end_matches(".npy");
                wait_for(&dir.path(&format!("{out}/{stem}.fft.npy")), &mut child)
            }
        };
        if running {
            thread::sleep(delay);
        }
        let finished_first = child.try_wait().unwrap().is_some();
        if !finished_first {
            match stop {
                Stop::Kill => send(pid, libc::SIGKILL),
                Stop::Interrupt => send(pid, libc::SIGINT),
                Stop::InterruptGroup => send(-pid, libc::SIGINT),
            }
        }
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_no_process_left(&dir.0, round);
        let status = o.status;
        match (stop, status.code()) {
            // Killed, or interrupted before it caught SIGINT (as good as killed).
            (_, None) => stops_inside += 1,
            (_, Some(0)) => {} // It ended before the signal came.
            (Stop::Interrupt | Stop::InterruptGroup, Some(130)) => {
                stops_inside += 1;
                assert!(err.contains("--resume"), "round {round}: {err}");
                assert!(
                    !dir.path(&format!("{out}/measurements.csv")).exists(),
                    "round {round}: an interrupted batch wrote measurements.csv"
                );
            }
            (_, Some(code)) => panic!("round {round} ({stop:?}): status {code}: {err}"),
        }
        let records = check_leftovers(&dir.path(&out), &whole, stop, status, round);
        eprintln!(
            "round {round}: {stop:?} on {executor} after {after} inputs + {delay:?}: {status}, \
             {records} input files recorded as done"
        );

        let resumed = [args.as_slice(), &["--resume"]].concat();
        let o = tracekit(&dir.0, &resumed);
        assert!(o.status.success(), "round {round}: {}", stderr(&o));
        let said = String::from_utf8_lossy(&o.stdout).into_owned();
        if records > 0 {
            assert!(
                said.contains(&format!("({records} files finished by an earlier run)")),
                "round {round}: {records} records, yet: {said}"
            );
        } else {
            assert!(!said.contains("earlier run"), "round {round}: {said}");
        }
        assert_same_dirs(&dir.path(&out), &whole);
        let hidden: Vec<_> = fs::read_dir(dir.path(&out))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(
            hidden.is_empty(),
            "round {round}: left after --resume: {hidden:?}"
        );
        fs::remove_dir_all(dir.path(&out)).unwrap();
    }
    // Most stops came while the batch was running (not before it started or
    // after it ended), or the test would check little.
    assert!(
        stops_inside >= ROUNDS / 2,
        "only {stops_inside} of {ROUNDS} stops came while the batch ran"
    );
}
