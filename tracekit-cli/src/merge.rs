//! `tracekit merge`: joins the measurements.csv of several runs (the parts
//! of a `--shard` job array) into one, rows ordered by input path.
//!
//! A sharded run's rows are already in sorted-path order and its part is a
//! contiguous slice of the sorted paths (see `shard.rs`), so ordering the
//! runs by the first path of their `shard.csv` and joining them gives the
//! rows a one-process run over the whole sorted list gives. A run without
//! `shard.csv` (not sharded) is placed by its first input's name.

use std::{
    collections::{BTreeSet, HashMap},
    fs,
    path::PathBuf,
};

use clap::Args;

use crate::{failure::Failure, shard::SHARD_FILE};

const HEADER: &str = "input,step,measurement,value";

const EXAMPLES: &str = "\
Examples:
  tracekit merge out/0 out/1 out/2 --out all
  tracekit merge out/* --out all          after: tracekit run spec.toml data/*.wfm --shard $I/100 --out out/$I

The runs' measurements.csv are joined into DIR/measurements.csv, rows ordered
by input path: what one run over all the inputs gives. An input found in two
runs is an error (parts cut from different lists); a missing part of a sharded
set is named in a warning.";

/// Arguments of `tracekit merge`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct MergeArgs {
    /// Output directories of `tracekit run` (each with its measurements.csv).
    #[arg(value_name = "DIR", required = true)]
    dirs: Vec<PathBuf>,
    /// Directory for the merged measurements.csv (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// One run's rows and where they go in the merged table.
struct Part {
    dir: PathBuf,
    /// Sort key: the first input path of a sharded run, else the first input name.
    key: Vec<u8>,
    /// `(part, parts)` of a sharded run.
    shard: Option<(usize, usize)>,
    /// Each row's input name and text (with its line end).
    rows: Vec<(String, String)>,
}

/// Runs `tracekit merge`.
pub(crate) fn run(args: &MergeArgs) -> Result<(), Failure> {
    let mut parts = args
        .dirs
        .iter()
        .map(|dir| read_part(dir.clone()))
        .collect::<Result<Vec<Part>, Failure>>()?;
    parts.sort_by(|a, b| a.key.cmp(&b.key));

    let mut seen: HashMap<&str, &PathBuf> = HashMap::new();
    for part in &parts {
        let names: BTreeSet<&str> = part.rows.iter().map(|(n, _)| n.as_str()).collect();
        for name in names {
            if let Some(first) = seen.insert(name, &part.dir) {
                return Err(Failure::Failed(format!(
                    "input '{name}' is in both {} and {}: were the parts cut from different \
                     input lists?",
                    first.display(),
                    part.dir.display()
                )));
            }
        }
    }
    check_shards(&parts)?;

    let mut table = format!("{HEADER}\n");
    let mut count = 0;
    for part in &parts {
        for (_, row) in &part.rows {
            table.push_str(row);
            count += 1;
        }
    }
    fs::create_dir_all(&args.out).map_err(|e| {
        Failure::Failed(format!(
            "cannot create the output directory {}: {e}",
            args.out.display()
        ))
    })?;
    let path = args.out.join("measurements.csv");
    tracekit::io::write_atomically(&path, |out| out.write_all(table.as_bytes()))
        .map_err(|e| Failure::Failed(e.to_string()))?;
    outln!(
        "{count} row{} of {} run{} merged into {}",
        if count == 1 { "" } else { "s" },
        parts.len(),
        if parts.len() == 1 { "" } else { "s" },
        path.display()
    );
    Ok(())
}

/// Sharded parts must come from one set (the same N); missing parts are named.
fn check_shards(parts: &[Part]) -> Result<(), Failure> {
    let shards: Vec<(usize, usize, &PathBuf)> = parts
        .iter()
        .filter_map(|p| p.shard.map(|(i, n)| (i, n, &p.dir)))
        .collect();
    let Some(&(_, n, first)) = shards.first() else {
        return Ok(());
    };
    if let Some((_, other, dir)) = shards.iter().find(|(_, m, _)| *m != n) {
        return Err(Failure::Failed(format!(
            "{} is a part of {n} and {} a part of {other}: merge parts of one job array",
            first.display(),
            dir.display()
        )));
    }
    let mut have = vec![false; n];
    for (i, _, dir) in &shards {
        if std::mem::replace(&mut have[*i], true) {
            return Err(Failure::Failed(format!(
                "part {i}/{n} is given twice (again in {})",
                dir.display()
            )));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !have[*i])
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: the merged table lacks part{} {} of the job array",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        );
    }
    Ok(())
}

fn read_part(dir: PathBuf) -> Result<Part, Failure> {
    let path = dir.join("measurements.csv");
    let text = fs::read_to_string(&path).map_err(|e| {
        Failure::Failed(format!(
            "{}: {e} (a run writes measurements.csv when it finishes: did this one?)",
            path.display()
        ))
    })?;
    let records = split_records(&text);
    let mut records = records.into_iter();
    match records.next() {
        Some((_, header)) if header.trim_end() == HEADER => {}
        _ => {
            return Err(Failure::Failed(format!(
                "{}: not a tracekit measurements.csv (its first line is not '{HEADER}')",
                path.display()
            )));
        }
    }
    let rows: Vec<(String, String)> = records.collect();
    let mut shard = None;
    let mut key = rows
        .first()
        .map(|(n, _)| n.as_bytes().to_vec())
        .unwrap_or_default();
    let manifest = dir.join(SHARD_FILE);
    if let Ok(text) = fs::read_to_string(&manifest) {
        let bad = |what: &str| Failure::Failed(format!("{}: {what}", manifest.display()));
        let mut lines = split_records(&text).into_iter().skip(1);
        if let Some((part, row)) = lines.next() {
            let (i, n) = part
                .split_once('/')
                .ok_or_else(|| bad("no I/N in its first column"))?;
            let i: usize = i
                .parse()
                .map_err(|_| bad("a part number that is not a number"))?;
            let n: usize = n
                .parse()
                .map_err(|_| bad("a part count that is not a number"))?;
            if i >= n {
                return Err(bad("a part number not below the count"));
            }
            shard = Some((i, n));
            let first_path = parse_fields(&row).into_iter().nth(1).unwrap_or_default();
            key = first_path.into_bytes();
        }
    }
    Ok(Part {
        dir,
        key,
        shard,
        rows,
    })
}

/// Splits CSV text into records: (first field, unquoted; the record's raw
/// text with its line end). Quoted fields may hold commas, quotes and line breaks.
fn split_records(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => {
                let raw = &text[start..=i];
                let first = parse_fields(raw).into_iter().next().unwrap_or_default();
                out.push((first, raw.to_owned()));
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        let raw = format!("{}\n", &text[start..]);
        let first = parse_fields(&raw).into_iter().next().unwrap_or_default();
        out.push((first, raw));
    }
    out
}

/// The fields of one CSV record, unquoted.
fn parse_fields(record: &str) -> Vec<String> {
    let record = record.strip_suffix('\n').unwrap_or(record);
    let record = record.strip_suffix('\r').unwrap_or(record);
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(f) = fields.last_mut() {
                    f.push('"');
                }
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_are_read_back() {
        let text = "input,step,measurement,value\n\"a,b\",s,m,1.0\n\"say \"\"hi\"\"\",s,m,2.0\nplain,s,m,3.0";
        let records = split_records(text);
        let names: Vec<&str> = records.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["input", "a,b", "say \"hi\"", "plain"]);
        assert_eq!(records[3].1, "plain,s,m,3.0\n");
        assert_eq!(parse_fields("1/2,\"x,y.wav\"\n"), ["1/2", "x,y.wav"]);
    }
}
