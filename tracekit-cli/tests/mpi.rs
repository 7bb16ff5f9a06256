//! `mpiexec -n N tracekit run ... --mpi` (builds with the `mpi` feature):
//! the same files as one process, bad inputs named with their rank, and a
//! killed rank that ends the job without leaving a partial file.

#![cfg(feature = "mpi")]

mod support;

use std::{
    fs,
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use support::{BIN, TempDir, assert_same_dirs, files, stderr, tracekit, write_inputs};

/// `mpiexec -n ranks tracekit args...` in `dir`; a job still running after
/// two minutes is killed and fails the test.
fn mpiexec(dir: &Path, ranks: usize, args: &[&str]) -> Output {
    let mut child = Command::new("mpiexec")
        .current_dir(dir)
        .args(["-n", &ranks.to_string(), BIN])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpiexec runs (MPICH: apt-get install mpich)");
    let start = Instant::now();
    // The outputs are a few kilobytes: they fit in the pipes while we wait.
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("mpiexec -n {ranks} still runs after two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("mpiexec ends")
}

fn run_args<'a>(out: &'a str, executor: &'a str, names: &'a [String]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "spec.toml",
        "--sample-rate",
        "1e6",
        "--keep",
        "fft",
        "--out",
        out,
        "--executor",
        executor,
        "--workers",
        "2",
    ];
    args.extend(names.iter().map(String::as_str));
    args
}

#[test]
fn outputs_and_measurements_are_a_one_process_run_for_1_2_3_ranks_and_each_executor() {
    let dir = TempDir::new("mpi-same");
    let names = write_inputs(&dir, 9, 8192);
    let one = tracekit(&dir.0, &run_args("one", "sequential", &names));
    assert!(one.status.success(), "{}", stderr(&one));
    for executor in ["thread", "process"] {
        for ranks in 1..=3 {
            let out = format!("mpi-{executor}-{ranks}");
            let o = mpiexec(
                &dir.0,
                ranks,
                &[&run_args(&out, executor, &names)[..], &["--mpi"]].concat(),
            );
            assert!(o.status.success(), "{out}: {}", stderr(&o));
            assert_same_dirs(&dir.path(&out), &dir.path("one"));
        }
    }
    // Without mpiexec, one rank does everything.
    let o = tracekit(
        &dir.0,
        &[&run_args("alone", "sequential", &names)[..], &["--mpi"]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_dirs(&dir.path("alone"), &dir.path("one"));
}

#[test]
fn a_corrupt_input_among_40_is_named_with_its_rank_and_the_other_39_are_written() {
    let dir = TempDir::new("mpi-corrupt");
    let mut names = write_inputs(&dir, 40, 2048);
    fs::write(
        dir.path("in17.npy"),
        b"\x93NUMPY\x01\x00 this header is cut",
    )
    .unwrap();
    let one = tracekit(&dir.0, &run_args("one", "sequential", &names));
    assert_eq!(one.status.code(), Some(1));
    names.reverse(); // rows still follow the argument order
    let one_rev = tracekit(&dir.0, &run_args("one-rev", "sequential", &names));
    assert_eq!(one_rev.status.code(), Some(1));
    let o = mpiexec(
        &dir.0,
        3,
        &[&run_args("mpi", "sequential", &names)[..], &["--mpi"]].concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("in17.npy") && l.starts_with("error:"))
        .unwrap_or_else(|| panic!("in17.npy is not named: {err}"));
    assert!(line.contains("(rank "), "no rank in {line}");
    let written = files(&dir.path("mpi"));
    assert_eq!(
        written.keys().filter(|k| k.ends_with(".fft.npy")).count(),
        39
    );
    assert_same_dirs(&dir.path("mpi"), &dir.path("one-rev"));
}

/// The pid of the process that runs `rank` of the job writing to `out`.
fn rank_pid(out: &str, rank: usize) -> Option<i32> {
    for entry in fs::read_dir("/proc").ok()? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let environ = fs::read(entry.path().join("environ")).unwrap_or_default();
        let has = |hay: &[u8], needle: &[u8]| hay.split(|b| *b == 0).any(|f| f == needle);
        if has(&cmdline, out.as_bytes())
            && has(&cmdline, b"--mpi")
            && has(&environ, format!("PMI_RANK={rank}").as_bytes())
        {
            return Some(pid);
        }
    }
    None
}

#[test]
fn a_killed_rank_ends_the_job_non_zero_within_seconds_and_leaves_only_complete_files() {
    let dir = TempDir::new("mpi-kill");
    // Slow enough to kill midway: many inputs, the debug build.
    let names = write_inputs(&dir, 120, 1 << 16);
    let out = dir.path("killed");
    let out_arg = out.to_str().unwrap().to_owned();
    let mut child = Command::new("mpiexec")
        .current_dir(&dir.0)
        .args(["-n", "3", BIN])
        .args(run_args(&out_arg, "sequential", &names))
        .arg("--mpi")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpiexec runs");
    // Wait for some outputs, then kill rank 1.
    let start = Instant::now();
    let count = |out: &Path| {
        fs::read_dir(out).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".fft.npy"))
                .count()
        })
    };
    while count(&out) < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no outputs after a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = rank_pid(&out_arg, 1).expect("rank 1 is running");
    // SAFETY:
    // - kill only sends a signal, to the rank process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let killed_at = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if killed_at.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the job still runs 30 s after a rank was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        !status.success(),
        "a job with a killed rank exited {status}"
    );
    assert!(killed_at.elapsed() < Duration::from_secs(20));
    let written = count(&out);
    assert!(
        written < names.len(),
        "the job finished before the kill ({written} outputs)"
    );

    // Every output file present is complete: byte for byte a one-process run's.
    let present: Vec<String> = files(&out).into_keys().collect();
    let inputs: Vec<String> = names
        .iter()
        .filter(|n| {
            present
                .iter()
                .any(|p| p.starts_with(n.trim_end_matches(".npy")))
        })
        .cloned()
        .collect();
    let o = tracekit(&dir.0, &run_args("one", "sequential", &inputs));
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = files(&dir.path("one"));
    for (name, bytes) in files(&out) {
        assert!(
            !name.contains("measurements"),
            "measurements.csv of an unfinished job: {name}"
        );
        let want = expected
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is not an output (a partial file?)"));
        assert!(&bytes == want, "{name} is not complete");
    }
}
