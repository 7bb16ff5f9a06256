//! Rigol WFM and BIN: the fixtures written by `scripts/fixtures/rigol.py`
//! (every family and variant, values from RigolWFM 1.6.0), damaged copies of
//! them, and headers that declare impossible sizes.

mod common;

use std::path::PathBuf;

use common::{check_damaged, check_fixture, fixture, temp_dir};
use tracekit_io::ReadOptions;

/// Every fixture, one or more per family.
const FIXTURES: &[&str] = &[
    "ds1000b.wfm",
    "ds1000c.wfm",
    "ds1000c_padded.wfm",
    "ds1000e.wfm",
    "ds1000e_roll.wfm",
    "ds1000d.wfm",
    "ds1000z.wfm",
    "ds1000z_sp3.wfm",
    "ds1000z_logic.wfm",
    "ds1000z_logic_only.wfm",
    "ds2000.wfm",
    "ds2000_interwoven.wfm",
    "ds4000.wfm",
    "ds6000.wfm",
    "dho800.wfm",
    "dho1000.wfm",
    "mso5000.bin",
    "mso5000_order.bin",
    "mso8000.bin",
    "dho.bin",
];

#[test]
fn every_family_reads_as_rigolwfm_does() {
    for name in FIXTURES {
        check_fixture(&format!("rigol/{name}"));
    }
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in FIXTURES {
        check_damaged(&format!("rigol/{name}"), 5);
    }
}

/// A copy of fixture `name` in a fresh directory, saved as `as_name`, with
/// `edits` (offset, bytes) applied; negative offsets count from the end.
fn patched(test: &str, name: &str, as_name: &str, edits: &[(i64, &[u8])]) -> PathBuf {
    let mut data = std::fs::read(fixture(&format!("rigol/{name}"))).unwrap();
    for &(at, bytes) in edits {
        let at = if at < 0 { data.len() as i64 + at } else { at } as usize;
        data[at..at + bytes.len()].copy_from_slice(bytes);
    }
    let path = temp_dir(test).join(as_name);
    std::fs::write(&path, data).unwrap();
    path
}

/// The error of reading `path` (with `options`), which must name the file.
fn error(path: &PathBuf, options: &ReadOptions) -> String {
    let e = tracekit_io::read_with(path, options)
        .map(|t| format!("{} traces", t.len()))
        .expect_err("a damaged header must not read");
    let e = e.to_string();
    assert!(e.contains(&*path.to_string_lossy()), "{e}");
    e
}

/// Where each WFM fixture keeps its declared point count (u32).
const POINT_FIELDS: &[(&str, i64)] = &[
    ("ds1000b.wfm", 60),
    ("ds1000c.wfm", 28),
    ("ds1000e.wfm", 28),
    ("ds1000z.wfm", 64 + 52),
    ("ds2000.wfm", 252),
    ("ds4000.wfm", 268),
    ("ds6000.wfm", 252),
];

#[test]
fn huge_point_counts_are_refused_before_allocating() {
    let raised = ReadOptions::new().max_samples(1 << 40);
    for &(name, at) in POINT_FIELDS {
        let path = patched("rigol-huge", name, name, &[(at, &u32::MAX.to_le_bytes())]);
        let limited = error(&path, &ReadOptions::new());
        let truncated = error(&path, &raised);
        assert!(
            limited.contains("more than the limit") || limited.contains("truncated"),
            "{name}: {limited}"
        );
        assert!(truncated.contains("truncated"), "{name}: {truncated}");
    }
    // The DHO WFM's u64 total: 2^40 + 1 samples (its first byte must not
    // be 0: the data section is found as the first non-zero byte).
    let dho = std::fs::read(fixture("rigol/dho800.wfm")).unwrap();
    let section = -(40 + 2 * 2 * 50);
    let path = patched(
        "rigol-huge",
        "dho800.wfm",
        "dho800.wfm",
        &[(section, &((1u64 << 40) + 1).to_le_bytes())],
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), dho.len() as u64);
    let e = error(&path, &raised);
    assert!(e.contains("sample count 1099511627777"), "{e}");
    // BIN buffers of 2^40 bytes (RG03, u64) and 2^32 - 1 (RG01, u32).
    let path = patched(
        "rigol-huge",
        "dho.bin",
        "dho.bin",
        &[(16 + 140 + 8, &(1u64 << 40).to_le_bytes())],
    );
    let e = error(&path, &raised);
    assert!(
        e.contains("truncated") && e.contains("1099511627776"),
        "{e}"
    );
    let path = patched(
        "rigol-huge",
        "mso5000.bin",
        "mso5000.bin",
        &[(12 + 140 + 8, &u32::MAX.to_le_bytes())],
    );
    let e = error(&path, &raised);
    assert!(e.contains("truncated") && e.contains("4294967295"), "{e}");
}

#[test]
fn zero_points_are_an_error() {
    for &(name, at) in POINT_FIELDS {
        let path = patched("rigol-zero", name, name, &[(at, &0u32.to_le_bytes())]);
        let e = error(&path, &ReadOptions::new());
        assert!(e.contains("holds 0 points"), "{name}: {e}");
    }
    let path = patched(
        "rigol-zero",
        "mso5000.bin",
        "mso5000.bin",
        &[(12 + 140 + 8, &0u32.to_le_bytes())],
    );
    let e = error(&path, &ReadOptions::new());
    assert!(e.contains("holds 0 points"), "{e}");
    let path = patched(
        "rigol-zero",
        "dho800.wfm",
        "dho800.wfm",
        &[(-(40 + 200), &0u64.to_le_bytes())],
    );
    let e = error(&path, &ReadOptions::new());
    assert!(e.contains("sample count"), "{e}");
}

#[test]
fn unknown_bin_versions_are_named() {
    let path = patched("rigol-version", "mso5000.bin", "mso5000.bin", &[(2, b"02")]);
    let e = error(&path, &ReadOptions::new());
    assert!(
        e.contains("Rigol BIN") && e.contains("unknown Rigol BIN version 'RG02'"),
        "{e}"
    );
}

#[test]
fn ds1000c_and_e_are_told_apart_by_size() {
    // 272 + points: a DS1000C with its padding block.
    let c = check_fixture("rigol/ds1000c_padded.wfm");
    assert_eq!(c[0].meta().attributes["family"], "DS1000C");
    // The same header four bytes longer: the DS1000E layout (samples at 276).
    let mut data = std::fs::read(fixture("rigol/ds1000c_padded.wfm")).unwrap();
    data.extend_from_slice(&[0x80; 4]);
    let path = temp_dir("rigol-size").join("longer.wfm");
    std::fs::write(&path, &data).unwrap();
    let e = tracekit_io::read(&path).unwrap();
    assert_eq!(e[0].meta().attributes["family"], "DS1000D/E");
    assert_eq!(e[0].len(), c[0].len());
}

#[test]
fn the_dho_wfm_needs_its_extension() {
    let path = patched("rigol-ext", "dho800.wfm", "capture.dat", &[]);
    let e = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(e.contains("unknown file type"), "{e}");
    let path = patched("rigol-ext", "dho800.wfm", "CAPTURE.WFM", &[]);
    assert_eq!(tracekit_io::read(&path).unwrap().len(), 2);
}

#[test]
fn the_dho_wfm_start_is_a_stated_default() {
    let traces = check_fixture("rigol/dho800.wfm");
    let meta = traces[0].meta();
    assert!(meta.attributes["start_assumed"].contains("centre"));
    let points = traces[0].len() as f64;
    assert_eq!(meta.start, -(points / 2.0) / meta.sample_rate);
}

/// A DHO WFM of one block whose zlib content inflates to `inflated` zeros.
fn dho_with_block(inflated: usize) -> Vec<u8> {
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; inflated], 9);
    let mut file = vec![2, 0, 0, 0];
    file.resize(24, 7);
    let len = u16::try_from(packed.len()).unwrap();
    for field in [1u16, 5, 100, len, len, 0] {
        file.extend_from_slice(&field.to_le_bytes());
    }
    file.extend_from_slice(&packed);
    file.extend_from_slice(&[0; 12]);
    file
}

#[test]
fn dho_blocks_inflate_under_a_cap() {
    let dir = temp_dir("rigol-inflate");
    let path = dir.join("bomb.wfm");
    std::fs::write(&path, dho_with_block(10_000_000)).unwrap();
    let e = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(e.contains("more than 65535 bytes"), "{e}");
    // All blocks together inflate under the sample limit.
    std::fs::write(&path, dho_with_block(2000)).unwrap();
    let small = ReadOptions::new().max_samples(1000);
    let e = tracekit_io::read_with(&path, &small)
        .unwrap_err()
        .to_string();
    assert!(e.contains("inflate to more than 1000 bytes"), "{e}");
    // Within the caps, the block is read, and what is missing is said.
    std::fs::write(&path, dho_with_block(20)).unwrap();
    let e = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(e.contains("too few for its calibration"), "{e}");
}

#[test]
fn concatenated_mso5074_exports_are_refused() {
    let mut data = std::fs::read(fixture("rigol/mso5000.bin")).unwrap();
    data[12..16].copy_from_slice(&144u32.to_le_bytes());
    data.extend_from_slice(b"RG01 and more");
    let path = temp_dir("rigol-5074").join("MSO5074.bin");
    std::fs::write(&path, &data).unwrap();
    let e = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(e.contains("concatenated RG01 blocks"), "{e}");
}
