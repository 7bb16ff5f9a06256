//! Every command the documentation shows, run as written against the built
//! binary: each `tracekit ...` line of README.md's shell blocks and of the
//! "Examples:" section of `tracekit --help` and of every subcommand's `--help`
//! (asked of the binary, so an example is tested where a user reads it).
//!
//! How lines are found:
//! - README.md: lines of ```` ```sh ```` (or `bash`, `shell`) blocks that start
//!   with `tracekit `; a `#` comment is cut off, a trailing `\` joins the next
//!   line. A line with a bracketed option or an upper-case placeholder
//!   (`[--json]`, `SPEC`, `FILE...`) is a synopsis, not a command.
//! - `--help`: the lines of the "Examples:" section (up to its first blank
//!   line) indented by two spaces that start with `tracekit `; two or more
//!   spaces end the command, and what follows is its description.
//!
//! How they run: each in a fresh directory laid out like the repository root
//! (its `examples/captures/` and `tracekit/examples/pipelines/`), by `sh -c`
//! with the built `tracekit` first on `PATH`, stdin empty. The `--help`
//! examples' directory also holds `fanout.toml` as `tracekit demo --spec >
//! fanout.toml` writes it (the first examples of `tracekit --help`), and, when
//! an example names `out/`, `out/0`..`out/2`: the outputs of `tracekit run`
//! over three of the captures. A line must exit 0, or N where its comment (or
//! its description) says `exit status N`; a `tracekit run` that succeeds must
//! leave its `measurements.csv` and a file for each `--keep` step.
//!
//! What is not run, and says so:
//! - README.md: a line whose comment, or a block whose line before the opening
//!   fence, says `not run by the examples test` (install, cargo, MPI, job
//!   arrays...);
//! - `--help`: a line with `--mpi` (it needs an MPI launcher), or with a shell
//!   variable (`$I`: a job-array template);
//! - either: a line that pipes into a program that is not installed here
//!   (Graphviz `dot`), named with the program.
//!
//! Two kinds of line run shortened, as a debug build would take minutes
//! otherwise: `tracekit demo` gets `--samples 4096` (its capture's length, a
//! hidden option) and `tracekit bench` gets `--runs 1`.

mod support;

use std::{
    fs,
    io::Read as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    thread,
    time::{Duration, Instant},
};
use support::TempDir;

/// The marker of README lines and blocks that the test does not run.
const NOT_RUN: &str = "not run by the examples test";
/// Flags added to commands that would be slow in a debug build.
const SHORTEN: [(&str, &str); 2] = [
    ("tracekit demo", "--samples 4096"),
    ("tracekit bench", "--runs 1"),
];
/// How long one line may take.
const LINE_LIMIT: Duration = Duration::from_secs(120);

/// One documented command.
#[derive(Debug)]
struct Example {
    /// Where it is written: `README.md:212` or `tracekit run --help`.
    source: String,
    /// The shell command as written.
    command: String,
    /// The exit status it should give.
    status: i32,
    /// Why it is not run, if it is not.
    skip: Option<String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The built binary with `args`, in `dir`.
fn tracekit(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tracekit"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the tracekit binary runs");
    assert!(
        out.status.success(),
        "tracekit {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// --- finding the lines --------------------------------------------------------

/// Splits a shell line at its first `#` comment (a `#` that begins a word,
/// outside quotes): the command, trimmed, and the comment.
fn split_comment(line: &str) -> (&str, &str) {
    let mut quote = None;
    let mut word_start = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if word_start => return (line[..i].trim(), &line[i + 1..]),
            _ => {}
        }
        word_start = quote.is_none() && c.is_whitespace();
    }
    (line.trim(), "")
}

/// The exit status a comment or description gives (`exit status 1`), else 0.
fn stated_status(note: &str) -> i32 {
    note.split_once("exit status ")
        .and_then(|(_, rest)| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

/// A usage synopsis (`tracekit info FILE... [--json]`), not a command.
fn is_synopsis(command: &str) -> bool {
    command.split_whitespace().any(|word| {
        let bare = word.trim_end_matches("...").trim_end_matches(",");
        word.starts_with('[')
            || (bare.len() > 1 && bare.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
    })
}

/// The `tracekit ...` lines of README.md's shell blocks.
fn readme_examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut block: Option<(bool, bool)> = None; // (a shell block, marked not run)
    let mut previous = "";
    let mut pending: Option<(usize, String)> = None;
    for (number, line) in readme.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some((
                    matches!(info.trim(), "sh" | "bash" | "shell"),
                    previous.starts_with("<!--") && previous.contains(NOT_RUN),
                )),
            };
        } else if let Some((true, marked)) = block {
            let (first, joined) = match pending.take() {
                Some((first, head)) => (first, format!("{head} {trimmed}")),
                None => (number + 1, trimmed.to_owned()),
            };
            if let Some(head) = joined.strip_suffix('\\') {
                pending = Some((first, head.trim_end().to_owned()));
                continue;
            }
            let (command, comment) = split_comment(&joined);
            if !command.starts_with("tracekit ") || is_synopsis(command) {
                continue;
            }
            let skip = if marked {
                Some("its block is marked".to_owned())
            } else if comment.contains(NOT_RUN) {
                Some("marked".to_owned())
            } else {
                None
            };
            out.push(Example {
                source: format!("README.md:{first}"),
                command: command.to_owned(),
                status: stated_status(comment),
                skip,
            });
        }
        if !trimmed.is_empty() {
            previous = trimmed;
        }
    }
    out
}

/// The subcommands `tracekit --help` lists under "Commands:", `help` aside.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The examples of one `--help` text (`source` names it).
fn help_examples(source: &str, help: &str) -> Vec<Example> {
    help.lines()
        .skip_while(|l| l.trim() != "Examples:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.starts_with("tracekit "))
        .map(|l| {
            let (command, description) = l.split_once("  ").unwrap_or((l, ""));
            let skip = if command.split_whitespace().any(|w| w == "--mpi") {
                Some("--mpi needs an MPI launcher".to_owned())
            } else if command.contains('$') {
                Some("a template with shell variables".to_owned())
            } else {
                None
            };
            Example {
                source: source.to_owned(),
                command: command.trim().to_owned(),
                status: stated_status(description),
                skip,
            }
        })
        .collect()
}

// --- running them -------------------------------------------------------------

/// Whether `program` is on PATH.
fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// The programs a command pipes into, other than tracekit, that are missing.
fn missing_programs(command: &str) -> Vec<String> {
    command
        .split('|')
        .skip(1)
        .filter_map(|segment| segment.split_whitespace().next())
        .filter(|program| *program != "tracekit" && !installed(program))
        .map(str::to_owned)
        .collect()
}

/// `command` with the flags of [`SHORTEN`] after each slow subcommand.
fn shortened(command: &str) -> String {
    SHORTEN
        .iter()
        .fold(command.to_owned(), |line, (call, flag)| {
            line.split(call)
                .collect::<Vec<_>>()
                .join(&format!("{call} {flag}"))
        })
}

/// What a successful `tracekit run` in `command` should have left in `dir`.
fn check_run_outputs(dir: &Path, command: &str) -> Result<(), String> {
    for call in command.split(['|', ';', '&']).map(str::trim) {
        let Some(args) = call.strip_prefix("tracekit run ") else {
            continue;
        };
        let words: Vec<&str> = args.split_whitespace().collect();
        let value = |flag: &str| {
            let at = words.iter().position(|w| *w == flag)?;
            words.get(at + 1).copied()
        };
        let out = dir.join(value("--out").unwrap_or("tracekit-out"));
        let measurements = fs::read_to_string(out.join("measurements.csv"))
            .map_err(|e| format!("no {}/measurements.csv: {e}", out.display()))?;
        if measurements.lines().count() < 2 {
            return Err(format!("{}/measurements.csv has no rows", out.display()));
        }
        let format = value("--format").unwrap_or("npy");
        let names: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for step in value("--keep").into_iter().flat_map(|k| k.split(',')) {
            let suffix = format!(".{step}.{format}");
            if !names.iter().any(|n| n.ends_with(&suffix)) {
                return Err(format!("no *{suffix} in {}", out.display()));
            }
        }
    }
    Ok(())
}

/// Runs `command` by `sh -c` in `dir`: its status and output, or a timeout.
fn run_line(dir: &Path, command: &str) -> Result<(i32, String), String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_tracekit")).parent().unwrap();
    let mut path = vec![bin.to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", std::env::join_paths(path).unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("sh does not start: {e}"))?;
    // Drain both pipes while waiting, so that a chatty command cannot block.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LINE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {LINE_LIMIT:?}: killed"));
        }
        thread::sleep(Duration::from_millis(10));
    };
    let output = format!(
        "{}{}",
        text(&stdout.join().unwrap()),
        text(&stderr.join().unwrap())
    );
    let code = status
        .code()
        .ok_or_else(|| format!("killed by a signal: {status}\n{output}"))?;
    Ok((code, output))
}

/// The last lines of `output`, indented, for a failure message.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let from = lines.len().saturating_sub(15);
    lines[from..]
        .iter()
        .map(|l| format!("      {l}\n"))
        .collect()
}

/// A directory laid out like the repository root, with what the commands read.
fn prepare(dir: &Path) {
    let root = repo();
    copy_dir(
        &root.join("examples/captures"),
        &dir.join("examples/captures"),
    );
    copy_dir(
        &root.join("tracekit/examples/pipelines"),
        &dir.join("tracekit/examples/pipelines"),
    );
}

/// What the `--help` examples read besides: `fanout.toml` from `tracekit demo
/// --spec`, and, if an example names `out/`, three runs' outputs there.
fn prepare_help(dir: &Path, examples: &[Example]) {
    prepare(dir);
    fs::write(
        dir.join("fanout.toml"),
        tracekit(dir, &["demo", "--spec"]).stdout,
    )
    .unwrap();
    if examples.iter().any(|e| e.command.contains(" out/")) {
        let captures = ["tone-tek.wfm", "tone-ds1054z.wfm", "tone-keysight.bin"];
        for (k, capture) in captures.iter().enumerate() {
            let input = format!("examples/captures/{capture}");
            let out = format!("out/{k}");
            tracekit(dir, &["run", "fanout.toml", &input, "--out", &out]);
        }
    }
}

#[test]
fn every_documented_command_runs_as_written() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let readme_lines = readme_examples(&readme);

    let scratch = TempDir::new("help");
    let top = text(&tracekit(&scratch.0, &["--help"]).stdout);
    let mut help_lines = help_examples("tracekit --help", &top);
    let subcommands = subcommands(&top);
    assert!(
        subcommands.len() >= 4,
        "tracekit --help lists {subcommands:?}"
    );
    let mut without_examples = Vec::new();
    for sub in &subcommands {
        let help = text(&tracekit(&scratch.0, &[sub, "--help"]).stdout);
        let found = help_examples(&format!("tracekit {sub} --help"), &help);
        if found.is_empty() {
            without_examples.push(sub.as_str());
        }
        help_lines.extend(found);
    }

    let readme_template = TempDir::new("readme");
    prepare(&readme_template.0);
    let help_template = TempDir::new("help-template");
    prepare_help(&help_template.0, &help_lines);

    let started = Instant::now();
    let mut ran = 0;
    let mut failures = Vec::new();
    let all = readme_lines
        .iter()
        .map(|e| (e, &readme_template.0))
        .chain(help_lines.iter().map(|e| (e, &help_template.0)));
    for (example, template) in all {
        let missing = missing_programs(&example.command);
        let skip = example.skip.clone().or_else(|| {
            (!missing.is_empty()).then(|| format!("{} is not installed", missing.join(", ")))
        });
        if let Some(why) = skip {
            println!("skip  {:24} {}  ({why})", example.source, example.command);
            continue;
        }
        let dir = TempDir::new("line");
        copy_dir(template, &dir.0);
        let command = shortened(&example.command);
        let line_started = Instant::now();
        let result = run_line(&dir.0, &command).and_then(|(code, output)| {
            if code != example.status {
                return Err(format!(
                    "exit status {code}, expected {}\n{}",
                    example.status,
                    tail(&output)
                ));
            }
            if code == 0 {
                check_run_outputs(&dir.0, &command)?;
            }
            Ok(())
        });
        println!(
            "ran   {:24} {}  ({:.1} s{})",
            example.source,
            example.command,
            line_started.elapsed().as_secs_f64(),
            if command == example.command {
                String::new()
            } else {
                format!(", as `{command}`")
            }
        );
        ran += 1;
        if let Err(why) = result {
            failures.push(format!(
                "{}: {}\n    {why}",
                example.source, example.command
            ));
        }
    }
    println!(
        "{ran} lines ran in {:.1} s; subcommands without examples: {without_examples:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} documented commands failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let ran_from_readme = readme_lines.iter().filter(|e| e.skip.is_none()).count();
    assert!(
        ran_from_readme >= 3,
        "README.md has {ran_from_readme} runnable `tracekit` lines"
    );
    assert!(
        help_lines.len() >= subcommands.len(),
        "the --help texts have only {} examples",
        help_lines.len()
    );
}

/// The shipped captures hold what examples/captures/README.md says: in every
/// format, a 10 kHz fundamental, CH1 with its third harmonic at -20 dBc, CH2
/// clean; 6 files, 11 channels (the Tektronix file holds CH1 only).
#[test]
fn the_shipped_captures_hold_the_documented_signal() {
    let dir = TempDir::new("captures");
    prepare(&dir.0);
    let mut captures: Vec<String> = fs::read_dir(dir.0.join("examples/captures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("tone-"))
        .map(|name| format!("examples/captures/{name}"))
        .collect();
    captures.sort();
    assert_eq!(captures.len(), 6, "{captures:?}");
    let mut args = vec!["run", "tracekit/examples/pipelines/fanout.toml"];
    args.extend(captures.iter().map(String::as_str));
    args.extend(["--sample-rate", "1e6"]);
    tracekit(&dir.0, &args);
    let table = fs::read_to_string(dir.0.join("tracekit-out/measurements.csv")).unwrap();
    let value = |input: &str, measurement: &str| -> f64 {
        let prefix = format!("{input},metrics,{measurement},");
        let line = table
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in measurements.csv"));
        line[prefix.len()..].parse().unwrap()
    };
    let mut inputs: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    inputs.dedup();
    assert_eq!(inputs.len(), 11, "{inputs:?}");
    for input in inputs {
        let fundamental = value(input, "fundamental_hz");
        let thd = value(input, "thd_db");
        assert!(
            (fundamental - 10e3).abs() < 0.5,
            "{input}: fundamental {fundamental} Hz"
        );
        // A scope's CH1 is `<stem>.ch1` (`tone-tek` alone), the first
        // unnamed channel of WAV and NPY `<stem>.ch0`.
        let ch1 = match input.split_once('.') {
            None => true,
            Some(("tone-scipy" | "tone-numpy", channel)) => channel == "ch0",
            Some((_, channel)) => channel == "ch1",
        };
        if ch1 {
            assert!((thd + 20.0).abs() < 0.1, "{input}: CH1 THD {thd} dB");
        } else {
            assert!(thd < -55.0, "{input}: CH2 THD {thd} dB");
        }
    }
}

/// The `--help` examples' directory: the spec `tracekit demo --spec` prints,
/// and, for examples that join runs, three runs' outputs under `out/`.
#[test]
fn the_help_directory_holds_what_the_examples_name() {
    let dir = TempDir::new("prepared");
    let merge = Example {
        source: "tracekit merge --help".into(),
        command: "tracekit merge out/* --out all".into(),
        status: 0,
        skip: None,
    };
    prepare_help(&dir.0, &[merge]);
    let spec = fs::read_to_string(dir.0.join("fanout.toml")).unwrap();
    assert!(spec.contains("[[steps]]"), "{spec}");
    for k in 0..3 {
        let table = fs::read_to_string(dir.0.join(format!("out/{k}/measurements.csv"))).unwrap();
        assert!(table.lines().count() > 1, "out/{k}: {table}");
    }
    assert!(dir.0.join("examples/captures/tone-tek.wfm").is_file());
    assert!(
        dir.0
            .join("tracekit/examples/pipelines/fanout.toml")
            .is_file()
    );
}

#[test]
fn the_line_rules_read_the_documentation_as_described() {
    assert_eq!(
        split_comment("tracekit info a.wfm   # exit status 1: no rate"),
        ("tracekit info a.wfm", " exit status 1: no rate")
    );
    assert_eq!(
        split_comment("tracekit run s.toml 'a #b.wav'"),
        ("tracekit run s.toml 'a #b.wav'", "")
    );
    assert_eq!(stated_status(" exit status 1: no rate"), 1);
    assert_eq!(stated_status(" what a capture holds"), 0);
    assert!(is_synopsis("tracekit info FILE... [--json]"));
    assert!(is_synopsis("tracekit merge DIR... --out DIR"));
    assert!(!is_synopsis("tracekit bench W1"));
    assert!(!is_synopsis(
        "tracekit run fanout.toml examples/captures/tone-tek.wfm"
    ));

    let readme = "\
```sh
tracekit demo --plot
tracekit info FILE... [--json]
tracekit run s.toml a.wav \\
    --keep fft   # exit status 1
cargo build
tracekit bench   # not run by the examples test
```

<!-- not run by the examples test -->
```sh
tracekit run s.toml x --mpi
```
";
    let found = readme_examples(readme);
    let lines: Vec<(&str, &str, i32, bool)> = found
        .iter()
        .map(|e| {
            (
                e.source.as_str(),
                e.command.as_str(),
                e.status,
                e.skip.is_some(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("README.md:2", "tracekit demo --plot", 0, false),
            (
                "README.md:4",
                "tracekit run s.toml a.wav --keep fft",
                1,
                false
            ),
            ("README.md:7", "tracekit bench", 0, true),
            ("README.md:12", "tracekit run s.toml x --mpi", 0, true),
        ]
    );

    let help = "\
Usage: tracekit graph [OPTIONS] <SPEC>

Examples:
  tracekit graph fanout.toml              steps, kinds, inputs and generations
  tracekit graph fanout.toml --dot | dot -Tsvg -o fanout.svg
  tracekit run s.toml a.wfm --mpi         one rank each
    tracekit not-an-example               a wrapped description
  tracekit merge out/* --out all          after: tracekit run --shard $I/100

Exit status: 0 on success.";
    let found = help_examples("h", help);
    let lines: Vec<(&str, bool)> = found
        .iter()
        .map(|e| (e.command.as_str(), e.skip.is_some()))
        .collect();
    assert_eq!(
        lines,
        [
            ("tracekit graph fanout.toml", false),
            (
                "tracekit graph fanout.toml --dot | dot -Tsvg -o fanout.svg",
                false
            ),
            ("tracekit run s.toml a.wfm --mpi", true),
            ("tracekit merge out/* --out all", false),
        ]
    );
    assert_eq!(
        shortened("tracekit demo --spec > d.toml && tracekit graph d.toml"),
        "tracekit demo --samples 4096 --spec > d.toml && tracekit graph d.toml"
    );
    assert_eq!(
        missing_programs("tracekit graph f.toml --dot | no-such-program-here -Tsvg"),
        ["no-such-program-here"]
    );
}
