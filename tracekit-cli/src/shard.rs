//! `--shard I/N`: the I-th of N parts of the input files, for job arrays.
//!
//! The parts are cut from the input paths sorted bytewise, so they depend
//! on the set of paths, not on the order the shell or the user gave them:
//! N array tasks given the same glob cover every file exactly once. Part I
//! holds sorted paths `I*len/N .. (I+1)*len/N` (contiguous, sizes within one
//! of each other), and runs them in that sorted order, so the parts'
//! measurements.csv, joined in part order, are a one-process run's over the
//! sorted list. A sharded run also writes `shard.csv` (the part and its
//! input paths) for `tracekit merge` to order the parts by.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

/// The name of the file a sharded run writes beside measurements.csv.
pub(crate) const SHARD_FILE: &str = "shard.csv";

/// One part of N: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) index: usize,
    pub(crate) count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard must read I/N with 0 <= I < N (like 3/100), got '{s}'");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// This part of `paths`: sorted bytewise (duplicates kept once), then
    /// the contiguous `index`-th of `count` slices.
    pub(crate) fn select(&self, paths: &[PathBuf]) -> Vec<PathBuf> {
        let mut sorted: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        sorted.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        sorted.dedup();
        let len = sorted.len();
        let (start, end) = (
            self.index * len / self.count,
            (self.index + 1) * len / self.count,
        );
        sorted[start..end].iter().map(|p| p.to_path_buf()).collect()
    }

    /// The text of `shard.csv` for this part's `paths`.
    pub(crate) fn manifest(&self, paths: &[PathBuf]) -> String {
        let mut text = String::from("shard,path\n");
        for p in paths {
            text.push_str(&format!(
                "{self},{}\n",
                crate::run::csv_field(&p.display().to_string())
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            "3/100".parse(),
            Ok(Shard {
                index: 3,
                count: 100
            })
        );
        for bad in ["3", "4/4", "1/0", "-1/3", "a/b", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("0 <= I < N"), "{bad}: {e}");
        }
    }

    #[test]
    fn parts_are_disjoint_cover_everything_and_ignore_argument_order() {
        let names: Vec<String> = (0..23)
            .map(|k| format!("d/f{:03}.wav", (k * 7) % 23))
            .collect();
        let given = paths(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let mut reversed = given.clone();
        reversed.reverse();
        let mut sorted = given.clone();
        sorted.sort();
        for count in 1..=5 {
            let parts: Vec<Vec<PathBuf>> = (0..count)
                .map(|index| Shard { index, count }.select(&given))
                .collect();
            let joined: Vec<PathBuf> = parts.iter().flatten().cloned().collect();
            assert_eq!(
                joined, sorted,
                "{count} parts, joined in order, are the sorted list"
            );
            for (index, part) in parts.iter().enumerate() {
                assert_eq!(part, &Shard { index, count }.select(&reversed));
                assert!(part.len() >= 23 / count && part.len() <= 23 / count + 1);
            }
        }
    }

    #[test]
    fn sorting_is_bytewise_and_duplicates_count_once() {
        let given = paths(&["b.wav", "a.wav", "B.wav", "a-b.wav", "a.wav"]);
        let all = Shard { index: 0, count: 1 }.select(&given);
        assert_eq!(all, paths(&["B.wav", "a-b.wav", "a.wav", "b.wav"]));
        assert_eq!(
            Shard { index: 1, count: 2 }.manifest(&all[2..]),
            "shard,path\n1/2,a.wav\n1/2,b.wav\n"
        );
    }
}
