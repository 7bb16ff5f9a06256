//! `tracekit run --mpi`: the batch shared among the ranks of an MPI job.
//!
//! Every rank parses the same arguments, loads the same spec and builds the
//! same pipeline (checked by a fingerprint that also covers the input list
//! and the output options). Rank 0 hands out input files by index, one at a
//! time, to whichever rank is free (itself included); a rank reads the file
//! from the shared file system, runs it on its local executor, writes its
//! outputs (each under a temporary name, renamed when complete) and sends
//! back only its measurement rows and failure messages. Rank 0 writes the
//! one measurements.csv, rows in input order, and the records that
//! `--resume` reads. A rank that dies ends the whole job (MPI is
//! fail-stop), so nothing waits for it; every output already written is
//! complete.
//!
//! Two files with the same stem would write the same output names: the
//! later one is refused on every rank before any work (one process refuses
//! it when it reads a trace name already used, which is the same but for
//! unreadable files and channel suffixes that happen to match a stem).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::Instant,
};

use serde_json::{Value, json};
use tracekit::mpi::{Cluster, Error as MpiError, Fingerprint, Flow, Job};

use super::{
    Batch, FileState, Progress, RunArgs, Tally, finish, prepare_out, read_input, resume_or_start,
    run_identity,
};
use crate::{failure::Failure, records::Done, sys};

/// What one input file gave, sent back to rank 0.
#[derive(Debug, Default)]
struct Outcome {
    /// Traces read from the file.
    traces: usize,
    /// Traces whose outputs were written.
    inputs: usize,
    /// Files written.
    files: usize,
    /// Its rows of measurements.csv.
    rows: String,
    /// Traces with non-finite samples (warned about).
    non_finite: usize,
    /// (what failed: the path or the input name, the message).
    failures: Vec<(String, String)>,
}

impl Outcome {
    fn encode(&self) -> Vec<u8> {
        json!({
            "traces": self.traces,
            "inputs": self.inputs,
            "files": self.files,
            "rows": self.rows,
            "non_finite": self.non_finite,
            "failures": self.failures,
        })
        .to_string()
        .into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Outcome, MpiError> {
        let bad = || MpiError::Protocol("a rank sent back an outcome that is not one".into());
        let v: Value = serde_json::from_slice(bytes).map_err(|_| bad())?;
        let count = |k: &str| v[k].as_u64().map(|n| n as usize).ok_or_else(bad);
        let failures = v["failures"]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|f| match (f[0].as_str(), f[1].as_str()) {
                (Some(a), Some(b)) => Ok((a.to_owned(), b.to_owned())),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()?;
        Ok(Outcome {
            traces: count("traces")?,
            inputs: count("inputs")?,
            files: count("files")?,
            rows: v["rows"].as_str().ok_or_else(bad)?.to_owned(),
            non_finite: count("non_finite")?,
            failures,
        })
    }
}

/// The files of the batch, as every rank sees them.
struct Files<'a> {
    batch: &'a Batch<'a>,
    inputs: &'a [PathBuf],
    sample_rate: Option<f64>,
    /// Why a file is refused before any work (its name is an earlier file's).
    refused: Vec<Option<String>>,
    /// Rank 0: the file indices to hand out (those not finished before).
    todo: Vec<usize>,
}

impl Files<'_> {
    /// Reads, runs and writes input file `index`.
    fn run_file(&self, index: usize) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(path) = self.inputs.get(index) else {
            outcome
                .failures
                .push((format!("input {index}"), format!("no input file {index}")));
            return outcome;
        };
        if let Some(message) = &self.refused[index] {
            outcome
                .failures
                .push((path.display().to_string(), message.clone()));
            return outcome;
        }
        let traces = match read_input(path, self.sample_rate, &mut HashMap::new()) {
            Ok(traces) => traces,
            Err(message) => {
                outcome.failures.push((path.display().to_string(), message));
                return outcome;
            }
        };
        outcome.traces = traces.len();
        for input in &traces {
            let mut tally = Tally::default();
            let written = self
                .batch
                .pipeline
                .run(&input.trace)
                .map_err(|e| e.to_string())
                .and_then(|run| {
                    self.batch
                        .check_finite(input, &run, &mut tally)
                        .map(|()| run)
                })
                .and_then(|run| self.batch.write(input, &run));
            outcome.non_finite += tally.non_finite;
            match written {
                Ok((files, rows)) => {
                    outcome.inputs += 1;
                    outcome.files += files;
                    outcome.rows.push_str(&rows);
                }
                Err(message) => {
                    // The file the user gave, and which of its traces when it has several.
                    let label = if traces.len() > 1 {
                        format!("{} ({})", path.display(), input.name)
                    } else {
                        path.display().to_string()
                    };
                    outcome
                        .failures
                        .push((label.clone(), format!("{label}: {message}")));
                }
            }
        }
        outcome
    }

    fn file_index(&self, payload: &[u8]) -> usize {
        payload
            .try_into()
            .map(u64::from_le_bytes)
            .map_or(usize::MAX, |i| usize::try_from(i).unwrap_or(usize::MAX))
    }
}

impl Job for Files<'_> {
    type Output = Outcome;

    fn payload(&self, task: usize) -> Vec<u8> {
        (self.todo[task] as u64).to_le_bytes().to_vec()
    }

    fn run(&self, task: usize) -> Outcome {
        self.run_file(self.todo[task])
    }

    fn receive(&self, _: usize, bytes: &[u8]) -> Result<Outcome, MpiError> {
        Outcome::decode(bytes)
    }

    /// A rank gets its next file while it works on one: only a stop on
    /// Ctrl-C is affected, and then the file queued also runs.
    fn queue(&self) -> usize {
        2
    }
}

/// Files whose stem is an earlier file's would write over its outputs: they
/// are refused on every rank before any work (a one-process run sees the
/// clash when it reads them).
fn refuse_clashes(inputs: &[PathBuf]) -> Vec<Option<String>> {
    let mut first: HashMap<String, &Path> = HashMap::new();
    inputs
        .iter()
        .map(|path| {
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            match first.get(&stem) {
                Some(earlier) => Some(format!(
                    "{}: its input name '{stem}' is already used by {}; rename one of the files",
                    path.display(),
                    earlier.display()
                )),
                None => {
                    first.insert(stem, path);
                    None
                }
            }
        })
        .collect()
}

/// Runs `tracekit run --mpi` on this rank.
pub(super) fn run(batch: Batch<'_>, args: &RunArgs, inputs: &[PathBuf]) -> Result<(), Failure> {
    let mut fingerprint = Fingerprint::of_pipeline(batch.pipeline.as_pipeline())
        .with(&run_identity(args)?.to_le_bytes())
        .with(args.out.as_os_str().as_encoded_bytes());
    for path in inputs {
        fingerprint = fingerprint.with(path.as_os_str().as_encoded_bytes());
    }
    let cluster = Cluster::init().map_err(|e| Failure::Failed(format!("--mpi: {e}")))?;
    sys::catch_sigint();
    let mut files = Files {
        batch: &batch,
        inputs,
        sample_rate: args.sample_rate,
        refused: refuse_clashes(inputs),
        todo: Vec::new(),
    };
    if !cluster.is_root() {
        return cluster
            .serve_with(fingerprint, |_, payload| {
                files.run_file(files.file_index(payload)).encode()
            })
            .map_err(|e| Failure::Usage(format!("--mpi (rank {}): {e}", cluster.rank())));
    }

    let (measurements_path, records) = prepare_out(args, inputs)?;
    let mut tally = Tally::default();
    let mut progress = Progress::new(inputs.len());
    let mut states: Vec<FileState> = Vec::with_capacity(inputs.len());
    for (index, path) in inputs.iter().enumerate() {
        let (state, resumed) = resume_or_start(path, &records, &mut tally, &mut progress);
        if !resumed {
            files.todo.push(index);
        }
        states.push(state);
    }
    let todo = files.todo.clone();
    let mut per_rank = vec![0usize; cluster.size()];
    // What failed, per input file: listed in input order at the end.
    let mut failed: Vec<Vec<String>> = vec![Vec::new(); inputs.len()];
    let start = Instant::now();
    let handed = cluster.hand_out(fingerprint, todo.len(), &files, |task, rank, outcome| {
        per_rank[rank] += 1;
        let index = todo[task];
        let path = &inputs[index];
        let state = &mut states[index];
        for (what, message) in &outcome.failures {
            progress.error(&format!("{message} (rank {rank})"));
            failed[index].push(what.clone());
        }
        state.failed = !outcome.failures.is_empty();
        state.traces = outcome.traces;
        state.done = Done {
            inputs: outcome.inputs,
            files: outcome.files,
            rows: outcome.rows.clone(),
        };
        tally.written += outcome.inputs;
        tally.files += outcome.files;
        tally.non_finite += outcome.non_finite;
        if !state.failed {
            tally.files_done += 1;
            if let Some(id) = &state.id {
                if let Err(e) = records.save(id, &state.done) {
                    progress.error(&format!(
                        "{}: cannot record it as done ({e}); --resume will run it again",
                        path.display()
                    ));
                }
            }
        }
        progress.advance(1, &path.display().to_string());
        if sys::interrupted() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    });
    progress.finish();
    let elapsed = start.elapsed();
    tally.failed.extend(failed.into_iter().flatten());
    match handed {
        Ok(_) => {}
        Err(e @ MpiError::FingerprintMismatch { .. }) => {
            return Err(Failure::Usage(format!("--mpi: {e}")));
        }
        Err(e) => return Err(Failure::Failed(format!("--mpi: {e}"))),
    }
    drop(files);
    drop(batch); // Process workers are reaped here.
    outln!(
        "{} rank{}: {} input file{} handed out in {:.3} s (files per rank: {})",
        cluster.size(),
        if cluster.size() == 1 { "" } else { "s" },
        todo.len(),
        if todo.len() == 1 { "" } else { "s" },
        elapsed.as_secs_f64(),
        per_rank
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let interrupted = sys::interrupted();
    let result = finish(
        args,
        inputs,
        &states,
        &tally,
        interrupted,
        &measurements_path,
        records,
    );
    drop(cluster);
    result
}
