//! Tektronix WFM and ISF: fixtures written by `scripts/fixtures/tektronix.py`
//! to the published layouts, compared with RigolWFM's reading of them; and
//! damaged files.

mod common;

use std::path::PathBuf;

use common::{check_damaged, check_fixture, fixture, temp_dir};
use tracekit_io::ReadOptions;

const WFMS: [&str; 9] = [
    "wfm001_le.wfm",
    "wfm001_be.wfm",
    "wfm002_le.wfm",
    "wfm002_be.wfm",
    "wfm003_le.wfm",
    "wfm003_be.wfm",
    "wfm003_fastframe.wfm",
    "wfm003_digital.wfm",
    "wfm003_iq.wfm",
];

const ISFS: [&str; 4] = [
    "isf_short_msb.isf",
    "isf_long_lsb.isf",
    "isf_byte.isf",
    "isf_envelope.isf",
];

// Offsets in a little-endian WFM#003 file (077-0220; explicit dimension 1
// at 168, implicit dimension 1 at 488, curve object at 808).
const BYTES_PER_POINT: usize = 15;
const FAST_FRAMES_MINUS_1: usize = 72;
const EXP_DIM1_FORMAT: usize = 168 + 72;
const IMP_DIM1_SIZE: usize = 488 + 16;
const DATA_START: usize = 808 + 14;
const POSTCHARGE_START: usize = 808 + 18;
const END_OF_CURVE_BUFFER: usize = 808 + 26;

/// A copy of fixture `name` changed by `edit`, in a fresh directory.
fn patched(test: &str, name: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    common::patched(test, &format!("tektronix/{name}"), edit)
}

fn put_u32(data: &mut [u8], at: usize, value: u32) {
    data[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn error(path: &std::path::Path) -> String {
    common::read_error(path, None)
}

#[test]
fn wfm_fixtures_match_rigolwfm() {
    for name in WFMS {
        check_fixture(&format!("tektronix/{name}"));
    }
}

#[test]
fn isf_fixtures_match_rigolwfm() {
    for name in ISFS {
        check_fixture(&format!("tektronix/{name}"));
    }
}

#[test]
fn pre_and_post_charge_points_are_left_out() {
    // 16 pre-charge and 16 post-charge copies of the end codes surround 400 points.
    let traces = check_fixture("tektronix/wfm001_le.wfm");
    assert_eq!(traces[0].len(), 400);
    assert_eq!(traces[0].meta().channel, "CH1");
    assert_eq!(traces[0].meta().units, "V");
}

#[test]
fn fast_frames_are_one_trace_each() {
    let traces = check_fixture("tektronix/wfm003_fastframe.wfm");
    let offsets: Vec<f64> = traces
        .iter()
        .map(|t| t.meta().attributes["frame_trigger_offset"].parse().unwrap())
        .collect();
    assert_eq!(offsets[0], 0.0);
    assert!((offsets[2] - 2e-4).abs() < 1e-12, "{offsets:?}");
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in WFMS.iter().chain(&ISFS) {
        check_damaged(&format!("tektronix/{name}"), 13);
    }
}

#[test]
fn unknown_version_is_named() {
    let path = patched("tek-version", "wfm003_le.wfm", |d| {
        d[3..10].copy_from_slice(b"WFM#004")
    });
    let e = error(&path);
    assert!(
        e.contains("Tektronix WFM: unknown WFM version 'WFM#004'"),
        "{e}"
    );
}

#[test]
fn unknown_curve_format_is_named() {
    let path = patched("tek-format", "wfm003_le.wfm", |d| {
        put_u32(d, EXP_DIM1_FORMAT, 9)
    });
    assert!(error(&path).contains("unknown curve data format 9"));
    let path = patched("tek-bpp", "wfm003_le.wfm", |d| d[BYTES_PER_POINT] = 2);
    assert!(error(&path).contains("2 bytes per point, its curve format I8 has 1"));
}

#[test]
fn zero_points_is_an_error() {
    let path = patched("tek-zero", "wfm003_le.wfm", |d| {
        put_u32(d, POSTCHARGE_START, 32);
        put_u32(d, DATA_START, 32);
        put_u32(d, IMP_DIM1_SIZE, 0);
    });
    assert!(error(&path).contains("no waveform data: frame 1's curve has no points"));
}

#[test]
fn sizes_beyond_the_file_are_errors() {
    // A curve buffer of 4 GiB, and 2^32 FastFrame frames of it.
    let path = patched("tek-huge", "wfm003_le.wfm", |d| {
        put_u32(d, END_OF_CURVE_BUFFER, u32::MAX)
    });
    let e = error(&path);
    assert!(
        e.contains("truncated: the curve buffer (1 frame(s) of 4294967295 bytes)"),
        "{e}"
    );
    let path = patched("tek-frames", "wfm003_le.wfm", |d| {
        put_u32(d, FAST_FRAMES_MINUS_1, u32::MAX)
    });
    let e = error(&path);
    assert!(
        e.contains("4294967296 channels, more than the limit"),
        "{e}"
    );
    let path = patched("tek-few-frames", "wfm003_le.wfm", |d| {
        put_u32(d, FAST_FRAMES_MINUS_1, 40)
    });
    let e = error(&path);
    assert!(e.contains("does not fit"), "{e}");
    let path = patched("tek-post", "wfm003_le.wfm", |d| {
        put_u32(d, POSTCHARGE_START, 1 << 30)
    });
    let e = error(&path);
    assert!(
        e.contains("frame 1's curve data ends at byte 1073741824 of a 664-byte curve buffer"),
        "{e}"
    );
}

#[test]
fn the_sample_limit_applies() {
    let path = fixture("tektronix/wfm003_le.wfm");
    let e = tracekit_io::read_with(&path, &ReadOptions::new().max_samples(100)).unwrap_err();
    assert!(
        e.to_string()
            .contains("header says 600 samples, more than the limit of 100"),
        "{e}"
    );
}

/// An ISF file of `header` and a curve block of `block` bytes declared as `declared`.
fn isf(test: &str, header: &str, declared: usize, block: &[u8]) -> PathBuf {
    let count = declared.to_string();
    let mut data = format!("{header};:CURVE #{}{count}", count.len()).into_bytes();
    data.extend_from_slice(block);
    let path = temp_dir(test).join("f.isf");
    std::fs::write(&path, data).unwrap();
    path
}

const ISF_HEADER: &str = ":WFMPRE:BYT_NR 2;BN_FMT RI;BYT_OR LSB;XINCR 1.0E-6;YMULT 1.0E-3";

#[test]
fn isf_errors_say_what_is_wrong() {
    let e = error(&isf("isf-cut", ISF_HEADER, 8, &[0; 4]));
    assert!(
        e.contains("Tektronix ISF: truncated: header says 4 samples, file holds 2"),
        "{e}"
    );
    let e = error(&isf(
        "isf-nrpt",
        &format!("{ISF_HEADER};NR_PT 1099511627776"),
        4,
        &[0; 4],
    ));
    assert!(
        e.contains("NR_PT says 1099511627776 points, the curve block holds 2"),
        "{e}"
    );
    let e = error(&isf("isf-zero", ISF_HEADER, 0, &[]));
    assert!(e.contains("no waveform data"), "{e}");
    let e = error(&isf("isf-odd", ISF_HEADER, 3, &[0; 3]));
    assert!(
        e.contains("3 bytes, not a whole number of 2-byte points"),
        "{e}"
    );
    let e = error(&isf("isf-width", ":WFMP:BYT_N 3;XIN 1", 3, &[0; 3]));
    assert!(e.contains("BYT_NR 3 with BN_FMT RI"), "{e}");
    let e = error(&isf("isf-ascii", ":WFMP:ENC ASC;XIN 1", 3, b"1,2"));
    assert!(e.contains("encoded as ASC"), "{e}");
    let e = error(&isf("isf-ymult", ":WFMP:YMU fast;XIN 1", 2, &[0; 2]));
    assert!(e.contains("YMULT 'fast' is not a number"), "{e}");
}

#[test]
fn isf_without_xincr_takes_the_given_rate() {
    let path = isf(
        "isf-rate",
        ":WFMP:BYT_N 1;BN_F RP;YMU 0.5;YOF 128",
        3,
        &[128, 130, 0],
    );
    assert!(error(&path).contains("--sample-rate"));
    let traces = tracekit_io::read_with(&path, &ReadOptions::new().sample_rate(1e3)).unwrap();
    assert_eq!(traces[0].samples(), &[0.0, 1.0, -64.0]);
    assert_eq!(traces[0].sample_rate(), 1e3);
}
