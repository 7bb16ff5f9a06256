//! What `tracekit run` has finished, one small record file per input file,
//! so that an interrupted batch can be resumed (`--resume`) and
//! measurements.csv is always rebuilt whole.
//!
//! A record is written (atomically) once every trace of an input file has
//! its outputs written; it holds the file's identity (path, size,
//! modification time), the run's identity (a hash of the spec file and of
//! the options that change outputs) and the file's measurement rows. A run
//! with `--resume` skips every input whose record matches both; any other
//! run starts by removing the records of earlier runs.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    time::UNIX_EPOCH,
};

/// The directory of records, inside the output directory.
const RECORDS_DIR: &str = ".tracekit-records";
const MAGIC: &str = "tracekit-run-record 1";

/// FNV-1a, 64 bits: stable across builds, so records outlive the binary.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in *part {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Which input file a record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileId {
    path: String,
    len: u64,
    modified_ns: u128,
}

impl FileId {
    /// The identity of `path` now; `None` if it cannot be looked at (the
    /// reader will then report why).
    pub(crate) fn of(path: &Path) -> Option<FileId> {
        let meta = fs::metadata(path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Some(FileId {
            path: path.display().to_string(),
            len: meta.len(),
            modified_ns,
        })
    }
}

/// What an input file gave: the inputs (traces) and files written, and its
/// rows of measurements.csv.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) inputs: usize,
    pub(crate) files: usize,
    pub(crate) rows: String,
}

/// The records of one output directory for one run identity.
#[derive(Debug)]
pub(crate) struct Records {
    dir: PathBuf,
    run: u64,
}

impl Records {
    /// The records under `out`; unless `resume`, those of earlier runs are
    /// removed first.
    pub(crate) fn open(out: &Path, run: u64, resume: bool) -> Result<Records, String> {
        let dir = out.join(RECORDS_DIR);
        if !resume && dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Records { dir, run })
    }

    fn path(&self, id: &FileId) -> PathBuf {
        self.dir
            .join(format!("{:016x}.rec", fnv1a(&[id.path.as_bytes()])))
    }

    fn header(&self, id: &FileId) -> String {
        format!(
            "{MAGIC}\nrun {:016x}\npath {}\nlen {}\nmodified {}\n",
            self.run, id.path, id.len, id.modified_ns
        )
    }

    /// The record of `id` for this run, if one was written and still matches.
    pub(crate) fn load(&self, id: &FileId) -> Option<Done> {
        let text = fs::read_to_string(self.path(id)).ok()?;
        let rest = text.strip_prefix(&self.header(id))?;
        let mut lines = rest.splitn(3, '\n');
        let inputs = lines.next()?.strip_prefix("inputs ")?.parse().ok()?;
        let files = lines.next()?.strip_prefix("files ")?.parse().ok()?;
        let rows = lines.next()?.strip_prefix("rows\n")?.to_owned();
        Some(Done {
            inputs,
            files,
            rows,
        })
    }

    /// Records that `id` is finished with `done`, complete or not at all.
    pub(crate) fn save(&self, id: &FileId, done: &Done) -> Result<(), String> {
        let mut text = self.header(id);
        let _ = write!(
            text,
            "inputs {}\nfiles {}\nrows\n{}",
            done.inputs, done.files, done.rows
        );
        tracekit::io::write_atomically(&self.path(id), |out| out.write_all(text.as_bytes()))
            .map_err(|e| e.to_string())
    }

    /// Removes every record: the batch is complete and its measurements.csv written.
    pub(crate) fn remove(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_must_match() {
        let out = std::env::temp_dir().join(format!("tracekit-records-{}", std::process::id()));
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).unwrap();
        let input = out.join("a.csv");
        fs::write(&input, "1\n2\n").unwrap();
        let id = FileId::of(&input).unwrap();
        let records = Records::open(&out, 7, false).unwrap();
        assert_eq!(records.load(&id), None);
        let done = Done {
            inputs: 2,
            files: 4,
            rows: "a.ch1,stats,mean,1.5\n".into(),
        };
        records.save(&id, &done).unwrap();
        assert_eq!(records.load(&id), Some(done.clone()));
        // Another run identity, or a changed file, does not match.
        assert_eq!(Records::open(&out, 8, true).unwrap().load(&id), None);
        fs::write(&input, "1\n2\n3\n").unwrap();
        assert_eq!(records.load(&FileId::of(&input).unwrap()), None);
        // A run without --resume forgets the old records.
        let fresh = Records::open(&out, 7, false).unwrap();
        assert_eq!(fresh.load(&id), None);
        fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn fnv_separates_parts() {
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
    }
}
