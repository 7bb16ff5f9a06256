//! `tracekit run` on a disk that fills up: a small tmpfs that holds the
//! outputs of the small inputs but not those of a big one, and a file-size
//! limit (`RLIMIT_FSIZE`, so `EFBIG`: the same failure, on any machine).
//!
//! No half-written file is left (no output but complete ones, no
//! temporary), the error names the file that could not be written, the
//! inputs that finished are in measurements.csv (exactly those, as a batch
//! of only them writes it), and once there is room `--resume` ends with the
//! files of a run that never lacked it.

mod support;

use std::{
    fs,
    io::{BufRead as _, BufReader},
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
};

use support::{BIN, SPEC, TempDir, assert_same_dirs, path_str, stderr};
use tracekit::{
    Trace,
    io::{OutputFormat, is_temporary, write_trace},
};

/// Inputs in batch order: small ones around a big one whose outputs (2 MiB
/// each) do not fit where the small ones' (8 KiB) do.
const INPUTS: [(&str, usize); 6] = [
    ("a0", 1 << 10),
    ("a1", 1 << 10),
    ("a2", 1 << 10),
    ("big", 1 << 18),
    ("a3", 1 << 10),
    ("a4", 1 << 10),
];

/// Writes the spec and the inputs into `dir`; gives the inputs' paths.
fn write_batch(dir: &TempDir) -> Vec<PathBuf> {
    fs::write(dir.path("spec.toml"), SPEC).unwrap();
    INPUTS
        .iter()
        .enumerate()
        .map(|(k, &(name, len))| {
            let samples = (0..len)
                .map(|i| (i as f64 * 0.063 * (1.0 + k as f64 / 10.0)).sin())
                .collect();
            let path = dir.path(&format!("{name}.npy"));
            write_trace(&Trace::new(samples, 1e6).unwrap(), &path, OutputFormat::Npy).unwrap();
            path
        })
        .collect()
}

/// The arguments of `tracekit run` for `inputs`, writing into `out`.
fn run_args(dir: &TempDir, inputs: &[PathBuf], out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        path_str(&dir.path("spec.toml")),
        "--sample-rate",
        "1e6",
    ]
    .map(String::from)
    .to_vec();
    args.extend(["--keep", "lowpass,fft", "--out"].map(String::from));
    args.push(path_str(out).to_owned());
    args.extend(inputs.iter().map(|p| path_str(p).to_owned()));
    args
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("tracekit runs")
}

/// Writes the runs to compare with: every input with room to spare
/// (`whole`), and the small inputs alone (`fits`); gives both directories.
fn reference_runs(dir: &TempDir, inputs: &[PathBuf]) -> (PathBuf, PathBuf) {
    let (whole, fits) = (dir.path("whole"), dir.path("fits"));
    let small: Vec<PathBuf> = inputs
        .iter()
        .filter(|p| !p.ends_with("big.npy"))
        .cloned()
        .collect();
    for (out, inputs) in [(&whole, inputs), (&fits, small.as_slice())] {
        let mut cmd = Command::new(BIN);
        cmd.args(run_args(dir, inputs, out));
        let o = run(cmd);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    (whole, fits)
}

/// The names in `dir` and its subdirectories that are temporaries.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            found.extend(temporaries(&entry.path()));
        } else if is_temporary(&name) {
            found.push(name);
        }
    }
    found
}

/// What a batch that ran out of room must have done: failed the big input
/// only, naming the file it could not write and why (`reason`), and left
/// the small inputs' files as a batch of only them writes them, with
/// nothing half written. `out` is where this process sees the output
/// directory.
fn assert_out_of_room(o: &Output, out: &Path, fits: &Path, reason: &str, file_named: bool) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let complaint = err
        .lines()
        .find(|l| l.starts_with("error: ") && l.contains("big.npy: "))
        .unwrap_or_else(|| panic!("no error about big.npy in:\n{err}"));
    assert!(complaint.contains(reason), "{complaint}");
    if file_named {
        assert!(complaint.contains("big.metrics.npy"), "{complaint}");
    }
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l.starts_with("error: 1 input failed: ") && l.ends_with("big.npy")),
        "{err}"
    );
    assert!(
        temporaries(out).is_empty(),
        "half-written files left: {:?}",
        temporaries(out)
    );
    // The inputs that finished, and only they: their outputs and their rows
    // of measurements.csv, byte for byte as a batch of only them writes.
    assert_same_dirs(out, fits);
}

/// A failed batch, run again with `--resume` where there is room, ends with
/// the files of the run that always had room.
fn assert_resumes(o: &Output, out: &Path, whole: &Path) {
    assert!(o.status.success(), "{}", stderr(o));
    assert_same_dirs(out, whole);
    assert!(temporaries(out).is_empty(), "{:?}", temporaries(out));
}

#[test]
fn a_file_size_limit_fails_only_the_big_input_and_leaves_nothing_half_written() {
    let dir = TempDir::new("fsize");
    let inputs = write_batch(&dir);
    let (whole, fits) = reference_runs(&dir, &inputs);
    // The small inputs' files are 8 KiB, the big one's 2 MiB: the limit lets
    // the first through, not the second. On the process executor the big
    // trace's shared-memory segment reaches the limit first (it is a file
    // too): the input fails there, before anything is written.
    for executor in ["sequential", "thread", "process"] {
        let out = dir.path(&format!("out-{executor}"));
        let mut cmd = Command::new(BIN);
        cmd.args(run_args(&dir, &inputs, &out))
            .args(["--executor", executor]);
        limit_file_size(&mut cmd, 256 << 10);
        let o = run(cmd);
        assert_out_of_room(&o, &out, &fits, "File too large", executor != "process");

        let mut cmd = Command::new(BIN);
        cmd.args(run_args(&dir, &inputs, &out))
            .args(["--executor", executor, "--resume"]);
        assert_resumes(&run(cmd), &out, &whole);
    }
}

/// Makes `cmd` run with files limited to `bytes`: writing past the limit
/// fails with EFBIG (SIGXFSZ, which would end the process, is ignored).
fn limit_file_size(cmd: &mut Command, bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY:
    // - the closure runs in the child between fork and exec: it only calls
    //   `signal` and `setrlimit`, which are async-signal-safe, on values it
    //   owns, and allocates nothing on success;
    // - an ignored SIGXFSZ stays ignored across exec, and the limit is the
    //   child's own.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[test]
fn a_full_tmpfs_fails_only_the_big_input_and_leaves_nothing_half_written() {
    let dir = TempDir::new("tmpfs");
    let inputs = write_batch(&dir);
    let (whole, fits) = reference_runs(&dir, &inputs);
    let mount_point = dir.path("disk");
    fs::create_dir(&mount_point).unwrap();
    let disk = match SmallDisk::mount(&mount_point, "1m") {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!(
                "SKIPPED a_full_tmpfs_fails_only_the_big_input_and_leaves_nothing_half_written: \
                 no tmpfs could be mounted ({why}); it needs root, or unprivileged user \
                 namespaces with unshare and nsenter. The file-size-limit test checks the \
                 same promises without a mount."
            );
            return;
        }
    };
    eprintln!(
        "tmpfs of 1 MiB at {} ({})",
        mount_point.display(),
        disk.how()
    );
    let out = mount_point.join("out");
    let o = run(disk.command(BIN, &run_args(&dir, &inputs, &out)));
    assert_out_of_room(&o, &disk.view(&out), &fits, "No space left on device", true);

    // Room again: the same command with --resume finishes the batch.
    disk.resize("64m");
    let mut args = run_args(&dir, &inputs, &out);
    args.push("--resume".into());
    assert_resumes(&run(disk.command(BIN, &args)), &disk.view(&out), &whole);
}

/// The name the tmpfs is mounted under (what `mount` lists).
const SOURCE: &str = "tracekit-test";

/// A small tmpfs, unmounted when dropped. Mounted where the test runs, as
/// root; otherwise in a user and mount namespace of its own, held by a
/// process that waits: tracekit then runs inside it (`nsenter`) and the
/// test reads the files through that process's root (`/proc/PID/root`).
struct SmallDisk {
    /// The mount point.
    dir: PathBuf,
    /// The process holding the namespace, if the mount lives in one.
    holder: Option<Child>,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> Result<SmallDisk, String> {
        let direct = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755")])
            .arg(SOURCE)
            .arg(dir)
            .output();
        let direct_failure = match direct {
            Ok(o) if o.status.success() => {
                return Ok(SmallDisk {
                    dir: dir.to_owned(),
                    holder: None,
                });
            }
            Ok(o) => format!("mount: {}", stderr(&o).trim()),
            Err(e) => format!("mount: {e}"),
        };
        // The holder mounts, says so, and waits for its standard input to end.
        let script = format!(
            "mount -t tmpfs -o size={size},mode=0755 {SOURCE} \"$0\" && echo mounted && exec cat"
        );
        let mut holder = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{direct_failure}; unshare: {e}"))?;
        let mut line = String::new();
        let _ = BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let o = holder.wait_with_output().unwrap();
            return Err(format!(
                "{direct_failure}; unshare --user --map-root-user --mount: {}",
                stderr(&o).trim()
            ));
        }
        Ok(SmallDisk {
            dir: dir.to_owned(),
            holder: Some(holder),
        })
    }

    fn how(&self) -> &'static str {
        match self.holder {
            None => "mounted directly",
            Some(_) => "in a user and mount namespace",
        }
    }

    /// `program args`, run where the tmpfs is mounted.
    fn command(&self, program: &str, args: &[String]) -> Command {
        match &self.holder {
            None => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            Some(holder) => {
                let mut cmd = Command::new("nsenter");
                cmd.args(["--target", &holder.id().to_string()])
                    .args(["--user", "--mount", "--preserve-credentials", "--wd=/"])
                    .arg("--")
                    .arg(program)
                    .args(args);
                cmd
            }
        }
    }

    /// Where this process sees `path` (an absolute path under the mount).
    fn view(&self, path: &Path) -> PathBuf {
        match &self.holder {
            None => path.to_owned(),
            Some(holder) => Path::new(&format!("/proc/{}/root", holder.id()))
                .join(path.strip_prefix("/").unwrap()),
        }
    }

    fn resize(&self, size: &str) {
        // With the source named: mount(8) in a namespace finds no fstab entry.
        let args = [
            "-o".to_owned(),
            format!("remount,size={size}"),
            SOURCE.to_owned(),
            path_str(&self.dir).to_owned(),
        ];
        let o = self.command("mount", &args).output().unwrap();
        assert!(o.status.success(), "remount: {}", stderr(&o));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        match &mut self.holder {
            None => {
                let unmounted = Command::new("umount")
                    .arg(&self.dir)
                    .status()
                    .is_ok_and(|s| s.success());
                if !unmounted {
                    let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
                }
            }
            // The mount ends with the namespace, when its last process does.
            Some(holder) => {
                drop(holder.stdin.take());
                let _ = holder.wait();
            }
        }
    }
}
