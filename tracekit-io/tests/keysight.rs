//! Keysight / Agilent BIN: fixtures written by `scripts/fixtures/keysight.py`
//! to the "Binary Header Format", compared with RigolWFM's reading of them;
//! and damaged files.

mod common;

use std::path::PathBuf;

use common::{check_damaged, check_fixture, fixture};
use tracekit_io::ReadOptions;

const FIXTURES: [&str; 5] = [
    "ag10_two_channels.bin",
    "ag03_wide.bin",
    "ag01_peak_detect.bin",
    "ag10_average_digital.bin",
    "ag10_segments.bin",
];

// Offsets in an AG10 file: the 12-byte file header, the first waveform
// header at 12 (140 bytes), its first data header at 152, its points at 164.
const N_WAVEFORMS: usize = 8;
const HEADER_SIZE: usize = 12;
const POINTS: usize = 12 + 12;
const X_INCREMENT: usize = 12 + 32;
const BUFFER_TYPE: usize = 152 + 4;
const BYTES_PER_POINT: usize = 152 + 6;
const BUFFER_SIZE: usize = 152 + 8;

fn patched(test: &str, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    common::patched(test, &format!("keysight/{name}"), edit)
}

fn put_u32(data: &mut [u8], at: usize, value: u32) {
    data[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn error(path: &std::path::Path) -> String {
    common::read_error(path, Some("Keysight BIN"))
}

#[test]
fn fixtures_match_rigolwfm() {
    for name in FIXTURES {
        check_fixture(&format!("keysight/{name}"));
    }
}

#[test]
fn peak_detect_gives_maximum_and_minimum() {
    let traces = check_fixture("keysight/ag01_peak_detect.bin");
    let names: Vec<&str> = traces.iter().map(|t| t.meta().channel.as_str()).collect();
    assert_eq!(names, ["CH1 max", "CH1 min"]);
    assert!(
        traces[0]
            .samples()
            .iter()
            .zip(traces[1].samples())
            .all(|(hi, lo)| hi > lo)
    );
}

#[test]
fn units_follow_the_header() {
    let traces = check_fixture("keysight/ag10_average_digital.bin");
    assert_eq!(traces[0].meta().units, "A");
    assert_eq!(traces[1].meta().units, "");
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in FIXTURES {
        check_damaged(&format!("keysight/{name}"), 17);
    }
}

#[test]
fn unknown_version_is_named() {
    let path = patched("ks-version", "ag10_two_channels.bin", |d| {
        d[2..4].copy_from_slice(b"07")
    });
    let e = error(&path);
    assert!(e.contains("unknown BIN version 'AG07'"), "{e}");
}

#[test]
fn header_fields_that_do_not_fit_are_named() {
    let path = patched("ks-header", "ag10_two_channels.bin", |d| {
        put_u32(d, HEADER_SIZE, 40)
    });
    assert!(error(&path).contains("says it is 40 bytes, less than the 140 of its fields"));
    let path = patched("ks-type", "ag10_two_channels.bin", |d| d[BUFFER_TYPE] = 9);
    assert!(error(&path).contains("buffer type 9 is not one tracekit reads"));
    let path = patched("ks-bpp", "ag10_two_channels.bin", |d| {
        d[BYTES_PER_POINT] = 3
    });
    assert!(error(&path).contains("3 bytes per point for normal data"));
    let path = patched("ks-interval", "ag10_two_channels.bin", |d| {
        d[X_INCREMENT..X_INCREMENT + 8].copy_from_slice(&5e-324f64.to_le_bytes());
    });
    assert!(error(&path).contains("X Increment (the sample interval) is 0.000"));
    let path = patched("ks-points", "ag10_two_channels.bin", |d| {
        put_u32(d, POINTS, 501)
    });
    assert!(
        error(&path).contains("waveform 0 header says 501 points, its normal buffer holds 500")
    );
}

#[test]
fn zero_points_and_zero_waveforms_are_errors() {
    let path = patched("ks-zero", "ag10_two_channels.bin", |d| {
        put_u32(d, POINTS, 0);
        put_u32(d, BUFFER_SIZE, 0);
    });
    assert!(error(&path).contains("no waveform data: waveform 0 (CH1) has 0 points"));
    let path = patched("ks-none", "ag10_two_channels.bin", |d| {
        put_u32(d, N_WAVEFORMS, 0)
    });
    assert!(error(&path).contains("the file header says 0 waveforms"));
}

#[test]
fn sizes_beyond_the_file_are_errors() {
    // AG03 sizes are 64-bit: a buffer of 2^40 points.
    let path = patched("ks-huge", "ag03_wide.bin", |d| {
        let at = 16 + 140 + 8;
        d[at..at + 8].copy_from_slice(&(4u64 << 40).to_le_bytes());
    });
    let e = error(&path);
    assert!(
        e.contains("truncated: header says 1099511627776 samples, file holds 300"),
        "{e}"
    );
    let path = patched("ks-buffer", "ag10_two_channels.bin", |d| {
        put_u32(d, BUFFER_SIZE, u32::MAX - 3)
    });
    let e = error(&path);
    assert!(
        e.contains("truncated: header says 1073741823 samples"),
        "{e}"
    );
    let path = patched("ks-waveforms", "ag10_two_channels.bin", |d| {
        put_u32(d, N_WAVEFORMS, u32::MAX)
    });
    let e = error(&path);
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn the_sample_limit_applies() {
    let path = fixture("keysight/ag10_two_channels.bin");
    let e = tracekit_io::read_with(&path, &ReadOptions::new().max_samples(10)).unwrap_err();
    assert!(
        e.to_string()
            .contains("header says 500 samples, more than the limit of 10"),
        "{e}"
    );
}
