//! LeCroy TRC: fixtures written by `scripts/fixtures/lecroy.py` to the
//! LECROY_2_3 and LECROY_1_0 templates, compared with RigolWFM's reading of
//! them; and damaged files.

mod common;

use std::path::PathBuf;

use common::{check_damaged, check_fixture, fixture, temp_dir};
use tracekit_io::ReadOptions;

const FIXTURES: [&str; 6] = [
    "lecroy23_le16.trc",
    "lecroy23_be8.trc",
    "lecroy23_prefix.trc",
    "lecroy23_sequence.trc",
    "lecroy10_le16.000",
    "lecroy10_be8.000",
];

// LECROY_2_3 offsets from the start of WAVEDESC (LeCroy template 2.3).
const TEMPLATE_NAME: usize = 16;
const COMM_TYPE: usize = 32;
const COMM_ORDER: usize = 34;
const USER_TEXT: usize = 40;
const WAVE_ARRAY_1: usize = 60;
const WAVE_ARRAY_COUNT: usize = 116;

/// A copy of `lecroy23_le16.trc` (WAVEDESC at 0, little-endian) changed by `edit`.
fn patched(test: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    common::patched(test, "lecroy/lecroy23_le16.trc", edit)
}

fn put_i32(data: &mut [u8], at: usize, value: i32) {
    data[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn error(path: &std::path::Path) -> String {
    common::read_error(path, Some("LeCroy TRC"))
}

#[test]
fn fixtures_match_rigolwfm() {
    for name in FIXTURES {
        check_fixture(&format!("lecroy/{name}"));
    }
}

#[test]
fn sequences_are_one_trace_a_segment() {
    let traces = check_fixture("lecroy/lecroy23_sequence.trc");
    assert_eq!(traces.len(), 4);
    assert!(
        traces
            .iter()
            .all(|t| t.len() == 250 && t.meta().channel == "C2")
    );
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in FIXTURES {
        check_damaged(&format!("lecroy/{name}"), 11);
    }
}

#[test]
fn unknown_template_is_named() {
    let path = patched("lecroy-template", |d| {
        d[TEMPLATE_NAME..TEMPLATE_NAME + 10].copy_from_slice(b"LECROY_9_9");
    });
    let e = error(&path);
    assert!(e.contains("unknown WAVEDESC template 'LECROY_9_9'"), "{e}");
}

#[test]
fn bad_comm_fields_are_named() {
    let path = patched("lecroy-type", |d| d[COMM_TYPE] = 5);
    assert!(error(&path).contains("COMM_TYPE is 5"));
    let path = patched("lecroy-order", |d| d[COMM_ORDER] = 7);
    assert!(error(&path).contains("COMM_ORDER is 0x0007"));
}

#[test]
fn zero_points_is_an_error() {
    let path = patched("lecroy-zero", |d| put_i32(d, WAVE_ARRAY_1, 0));
    assert!(error(&path).contains("no waveform data: WAVE_ARRAY_1 is 0 bytes"));
}

#[test]
fn sizes_beyond_the_file_are_errors() {
    let path = patched("lecroy-huge", |d| put_i32(d, WAVE_ARRAY_1, i32::MAX - 1));
    let e = error(&path);
    assert!(
        e.contains("truncated: header says 1073741823 samples, file holds 1000"),
        "{e}"
    );
    let path = patched("lecroy-count", |d| put_i32(d, WAVE_ARRAY_COUNT, 1001));
    let e = error(&path);
    assert!(
        e.contains("WAVE_ARRAY_COUNT says 1001 points, WAVE_ARRAY_1 holds 1000"),
        "{e}"
    );
    let path = patched("lecroy-negative", |d| put_i32(d, USER_TEXT, -14));
    let e = error(&path);
    assert!(e.contains("USER_TEXT length is -14, less than 0"), "{e}");
    let path = patched("lecroy-text", |d| put_i32(d, USER_TEXT, i32::MAX));
    let e = error(&path);
    assert!(
        e.contains("truncated: header says 1000 samples, file holds 0"),
        "{e}"
    );
}

#[test]
fn the_sample_limit_applies() {
    let path = fixture("lecroy/lecroy23_le16.trc");
    let e = tracekit_io::read_with(&path, &ReadOptions::new().max_samples(999)).unwrap_err();
    assert!(
        e.to_string()
            .contains("header says 1000 samples, more than the limit of 999"),
        "{e}"
    );
}

#[test]
fn only_wavedesc_files_are_taken() {
    let dir = temp_dir("lecroy-probe");
    let path = dir.join("binary.trc");
    let mut data = vec![0u8; 400];
    data[100..108].copy_from_slice(b"WAVEDESC");
    std::fs::write(&path, &data).unwrap();
    // Binary bytes before WAVEDESC: no reader takes it (the unknown-file
    // message lists every format, LeCroy's among them).
    let e = tracekit_io::read(&path).unwrap_err();
    assert!(matches!(e, tracekit_io::Error::Unknown { .. }), "{e}");
}
