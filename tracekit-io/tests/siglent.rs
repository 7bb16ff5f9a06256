//! Siglent BIN, V0.1 to V6.0: fixtures written by scripts/fixtures/siglent.py
//! (values from RigolWFM), damaged files, and files that are not Siglent's
//! (which fall through to the readers after it).

// `pub` so that the shared helpers are reachable items, not `unreachable_pub`.
mod common;

use std::path::PathBuf;

use common::{check_damaged, check_fixture, fixture, temp_dir};

const FIXTURES: [&str; 13] = [
    "v0_1.bin",
    "v0_2.bin",
    "v1.bin",
    "v2_8bit.bin",
    "v2_16bit.bin",
    "v3_le8.bin",
    "v3_be16.bin",
    "v4.bin",
    "v4_8bit.bin",
    "v4_math.bin",
    "v4_zoom.bin",
    "v5.bin",
    "v6.bin",
];

/// Offset of the first waveform record of v6.bin (its file header is 112 bytes).
const V6_RECORD: usize = 112;

#[test]
fn fixtures_match_rigolwfm() {
    for name in FIXTURES {
        check_fixture(&format!("siglent/{name}"));
    }
}

#[test]
fn v4_saves_name_their_traces_and_units() {
    let traces = check_fixture("siglent/v4_math.bin");
    let labels: Vec<&str> = traces.iter().map(|t| t.meta().channel.as_str()).collect();
    assert_eq!(labels, ["CH1", "F1", "F3"]);
    assert_eq!(traces[2].meta().sample_rate, 1.0 / 8e-7);
    let traces = check_fixture("siglent/v4.bin");
    assert_eq!(traces[1].meta().units, "A");
    assert_eq!(traces[1].meta().attributes["probe"], "0.1");
    let zoom = check_fixture("siglent/v4_zoom.bin");
    assert_eq!(zoom[0].meta().attributes["zoom"], "true");
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in FIXTURES {
        check_damaged(&format!("siglent/{name}"), 101);
    }
}

/// Fixture `name` patched by `edit`, written as `file` in a fresh directory.
fn patched(test: &str, name: &str, file: &str, edit: impl Fn(&mut Vec<u8>)) -> PathBuf {
    let mut data = std::fs::read(fixture(&format!("siglent/{name}"))).unwrap();
    edit(&mut data);
    let path = temp_dir(test).join(file);
    std::fs::write(&path, data).unwrap();
    path
}

fn put(data: &mut [u8], offset: usize, bytes: &[u8]) {
    data[offset..offset + bytes.len()].copy_from_slice(bytes);
}

fn siglent_error(path: &PathBuf) -> String {
    let e = tracekit_io::read(path).unwrap_err().to_string();
    assert!(e.contains(&*path.to_string_lossy()), "{e}");
    assert!(e.contains("Siglent BIN: "), "{e}");
    e
}

#[test]
fn huge_sample_counts_are_refused() {
    // V6.0 counts points in 64 bits: 2^40 points is over the limit.
    let path = patched("sig-2-40", "v6.bin", "a.bin", |d| {
        put(d, V6_RECORD + 248, &(1u64 << 40).to_le_bytes())
    });
    let e = siglent_error(&path);
    assert!(
        e.contains("header says 1099511627776 samples, more than the limit"),
        "{e}"
    );
    let path = patched("sig-2-40-bytes", "v6.bin", "a.bin", |d| {
        put(d, V6_RECORD + 256, &(1u64 << 40).to_le_bytes())
    });
    let e = siglent_error(&path);
    assert!(
        e.contains("truncated: waveform record 1 (C1) says 1099511627776 bytes"),
        "{e}"
    );
    // V4.0 counts in 32 bits.
    let path = patched("sig-u32", "v4.bin", "a.bin", |d| {
        put(d, 0x1EC, &u32::MAX.to_le_bytes())
    });
    let e = siglent_error(&path);
    assert!(
        e.contains("header says 4294967295 samples, more than the limit"),
        "{e}"
    );
    // Within the limit, beyond the file: an error, no allocation.
    let path = patched("sig-long", "v4.bin", "a.bin", |d| {
        put(d, 0x1EC, &1_000_000u32.to_le_bytes())
    });
    let e = siglent_error(&path);
    assert!(
        e.contains(
            "truncated: header says 2000000 samples (2 traces) from offset 4096, file holds 120"
        ),
        "{e}"
    );
}

#[test]
fn empty_and_odd_records_say_what_is_wrong() {
    let path = patched("sig-zero", "v4.bin", "a.bin", |d| {
        put(d, 0x1EC, &0u32.to_le_bytes())
    });
    assert!(siglent_error(&path).contains("wave_length is 0 samples"));
    let path = patched("sig-v6-zero", "v6.bin", "a.bin", |d| {
        put(d, V6_RECORD + 248, &0u64.to_le_bytes());
        let second = V6_RECORD + 264 + 40 + 264 + 32;
        put(d, second + 248, &0u64.to_le_bytes());
    });
    assert!(siglent_error(&path).contains("the analog waveform records (C1, C2) hold 0 points"));
    let path = patched("sig-v6-width", "v6.bin", "a.bin", |d| {
        put(d, V6_RECORD + 256, &120u64.to_le_bytes())
    });
    let e = siglent_error(&path);
    assert!(
        e.contains("holds 120 bytes for 40 points, not 1, 2 or 4 bytes a point"),
        "{e}"
    );
    let path = patched("sig-cpd", "v3_le8.bin", "a.bin", |d| {
        put(d, 0x26C, &0i32.to_le_bytes())
    });
    assert!(siglent_error(&path).contains("CH1's code_per_div is 0, it must be positive"));
    let path = patched("sig-rate", "v2_8bit.bin", "a.bin", |d| {
        put(d, 0x1EC, &0f64.to_le_bytes())
    });
    assert!(siglent_error(&path).contains("sample_rate is 0 Sa/s, it must be positive"));
}

#[test]
fn other_files_are_not_taken_for_siglent() {
    let dir = temp_dir("sig-other");
    let noise: Vec<u8> = (0..0x9000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    for (name, data) in [("zeros.bin", vec![0u8; 0x9000]), ("noise.bin", noise)] {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        let e = tracekit_io::read(&path).unwrap_err().to_string();
        assert!(!e.contains("Siglent BIN:"), "{name}: {e}");
    }
    // The right bytes with another extension: content alone cannot tell.
    let v4 = std::fs::read(fixture("siglent/v4.bin")).unwrap();
    let path = dir.join("v4.dat");
    std::fs::write(&path, &v4).unwrap();
    assert!(
        !tracekit_io::read(&path)
            .unwrap_err()
            .to_string()
            .contains("Siglent BIN:")
    );
    // A version beyond V6.0 is no revision tracekit knows.
    let mut v7 = v4;
    v7[0] = 7;
    let path = dir.join("v7.bin");
    std::fs::write(&path, &v7).unwrap();
    let e = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(!e.contains("Siglent BIN:"), "{e}");
}
