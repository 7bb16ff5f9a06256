//! Every fixture of every reader, mutated: bytes flipped at seeded random
//! places (the header especially), sizes rewritten as huge numbers, cut
//! short. Each copy must read or fail with an error that names the file;
//! nothing may panic, and the process's peak memory stays far below what
//! a trusted hostile size would allocate.

mod common;

use std::path::{Path, PathBuf};

/// Every capture fixture (not the expected-value JSON beside it).
fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_none_or(|e| e != "json") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&common::fixture(""), &mut out);
    out
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The peak resident memory of this process, where the system says it.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn check(copy: &Path, bytes: &[u8], what: &str) {
    std::fs::write(copy, bytes).unwrap();
    if let Err(e) = tracekit_io::read(copy) {
        let text = e.to_string();
        assert!(text.contains(&*copy.to_string_lossy()), "{what}: {text}");
    }
}

#[test]
fn mutated_fixtures_fail_cleanly_with_bounded_memory() {
    let dir = common::temp_dir("mutations");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let files = fixtures();
    assert!(!files.is_empty(), "no fixtures found");
    for path in &files {
        let good = std::fs::read(path).unwrap();
        // Same name, so readers that look at the extension still try.
        let copy = dir.join(path.file_name().unwrap());
        let rel = path
            .strip_prefix(common::fixture(""))
            .unwrap()
            .display()
            .to_string();
        for round in 0..24 {
            let mut bytes = good.clone();
            let head = bytes.len().min(512);
            match round % 4 {
                // A few flipped bits, mostly in the header.
                0 | 1 => {
                    for _ in 0..1 + rng.below(4) {
                        let at = if rng.below(4) > 0 {
                            rng.below(head)
                        } else {
                            rng.below(bytes.len())
                        };
                        if let Some(b) = bytes.get_mut(at) {
                            *b ^= 1 << rng.below(8);
                        }
                    }
                }
                // A 4- or 8-byte field rewritten as a huge number.
                2 => {
                    let width = if rng.below(2) == 0 { 4 } else { 8 };
                    let at = rng.below(head.saturating_sub(width));
                    if at + width <= bytes.len() {
                        let huge: [u8; 8] = [0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f];
                        let huge = if rng.below(2) == 0 {
                            huge
                        } else {
                            (1u64 << 40).to_le_bytes()
                        };
                        bytes[at..at + width].copy_from_slice(&huge[..width]);
                    }
                }
                // Cut short somewhere.
                _ => bytes.truncate(rng.below(bytes.len())),
            }
            check(&copy, &bytes, &format!("{rel} round {round}"));
        }
    }
    if let Some(peak) = peak_memory() {
        assert!(peak < 1 << 30, "peak memory {peak} bytes");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
