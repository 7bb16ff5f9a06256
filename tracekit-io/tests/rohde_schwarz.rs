//! R&S RTP exports: fixtures written by scripts/fixtures/rohde_schwarz.py
//! (values from RigolWFM), damaged headers and data files.

// `pub` so that the shared helpers are reachable items, not `unreachable_pub`.
mod common;

use std::path::{Path, PathBuf};

use common::{check_damaged, check_fixture, fixture, temp_dir};

const FIXTURES: [&str; 4] = ["float_single", "int8_multi", "int16_single", "xy_multi"];

#[test]
fn fixtures_match_rigolwfm() {
    for name in FIXTURES {
        check_fixture(&format!("rohde_schwarz/{name}.bin"));
    }
}

#[test]
fn multi_channel_exports_keep_their_settings() {
    let traces = check_fixture("rohde_schwarz/int8_multi.bin");
    let labels: Vec<&str> = traces.iter().map(|t| t.meta().channel.as_str()).collect();
    assert_eq!(labels, ["CH1", "CH3"]);
    let meta = traces[1].meta();
    assert_eq!(meta.attributes["signal_source"], "CH3_TR1");
    assert_eq!(meta.attributes["vertical_position"], "-2");
    assert_eq!(meta.attributes["vertical_offset"], "-0.01");
    assert_eq!(meta.units, "V");
}

#[test]
fn damaged_headers_fail_cleanly() {
    for name in FIXTURES {
        check_damaged(&format!("rohde_schwarz/{name}.bin"), 97);
    }
}

/// A copy of fixture `name` (header and data) in a fresh directory, the
/// header's text passed through `edit`; returns the header's path.
fn copy(test: &str, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = temp_dir(test);
    let header = fixture(&format!("rohde_schwarz/{name}.bin"));
    let text = std::fs::read_to_string(&header).unwrap();
    let out = dir.join(format!("{name}.bin"));
    std::fs::write(&out, edit(text)).unwrap();
    std::fs::copy(
        header.with_extension("Wfm.bin"),
        dir.join(format!("{name}.Wfm.bin")),
    )
    .unwrap();
    out
}

/// `text` with the `Value` of property `name` replaced by `value`.
fn set(text: String, name: &str, value: &str) -> String {
    let at = text.find(&format!("Name=\"{name}\"")).expect(name);
    let start = at + text[at..].find("Value=\"").unwrap() + "Value=\"".len();
    let end = start + text[start..].find('"').unwrap();
    format!("{}{value}{}", &text[..start], &text[end..])
}

fn error(path: &Path) -> String {
    let e = tracekit_io::read(path).unwrap_err().to_string();
    assert!(e.contains(&*path.to_string_lossy()), "{e}");
    assert!(e.contains("R&S RTP BIN"), "{e}");
    e
}

#[test]
fn the_data_file_points_to_its_header() {
    let data = fixture("rohde_schwarz/float_single.Wfm.bin");
    let e = tracekit_io::read(&data).unwrap_err().to_string();
    assert!(e.contains("read its XML header file"), "{e}");
    assert!(e.contains("float_single.bin"), "{e}");
}

#[test]
fn a_missing_data_file_is_named() {
    let header = copy("rs-missing", "float_single", |t| t);
    std::fs::remove_file(header.with_extension("Wfm.bin")).unwrap();
    let e = error(&header);
    assert!(e.contains("float_single.Wfm.bin"), "{e}");
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn short_and_long_data_files_fail() {
    let header = copy("rs-short", "xy_multi", |t| t);
    let data_path = header.with_extension("Wfm.bin");
    let data = std::fs::read(&data_path).unwrap();
    for cut in [0, 4, 8, 9, 100, data.len() - 1] {
        std::fs::write(&data_path, &data[..cut]).unwrap();
        let e = error(&header);
        assert!(e.contains("truncated"), "cut at {cut}: {e}");
    }
    std::fs::write(&data_path, &data[..100]).unwrap();
    assert!(error(&header).contains("the header says 36 rows of 16 bytes"));
    let mut long = data.clone();
    long.extend_from_slice(&[0; 16]);
    std::fs::write(&data_path, &long).unwrap();
    let e = error(&header);
    assert!(
        e.contains(&format!(
            "holds {} bytes, the header describes {}",
            long.len(),
            data.len()
        )),
        "{e}"
    );
}

#[test]
fn the_data_file_must_match_the_header() {
    let header = copy("rs-code", "int8_multi", |t| t);
    let data_path = header.with_extension("Wfm.bin");
    let mut data = std::fs::read(&data_path).unwrap();
    data[0] = 1; // INT16BIT, not the header's INT8BIT
    std::fs::write(&data_path, &data).unwrap();
    assert!(error(&header).contains("format code 1, the header's SignalFormat means 0"));
    data[0] = 0;
    data[4] = 49; // rows
    std::fs::write(&data_path, &data).unwrap();
    assert!(error(&header).contains("says 49 rows, the header's SignalHardwareRecordLength is 50"));
}

#[test]
fn huge_record_lengths_are_refused_before_reading() {
    let header = copy("rs-huge", "float_single", |t| {
        set(t, "SignalHardwareRecordLength", "1099511627776")
    });
    let e = error(&header);
    assert!(
        e.contains("header says 1099511627776 samples, more than the limit"),
        "{e}"
    );
    // Within the limit but far beyond the data file: no allocation, a clear error.
    let header = copy("rs-big", "float_single", |t| {
        set(t, "SignalHardwareRecordLength", "100000000")
    });
    let data_path = header.with_extension("Wfm.bin");
    let mut data = std::fs::read(&data_path).unwrap();
    data[4..8].copy_from_slice(&100_000_000u32.to_le_bytes());
    std::fs::write(&data_path, &data).unwrap();
    let e = error(&header);
    assert!(
        e.contains("truncated: the header says 100000000 rows of 4 bytes"),
        "{e}"
    );
}

#[test]
fn bad_header_values_say_what_is_wrong() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "RecordLength",
            "0",
            "RecordLength is 0, it must be at least 1",
        ),
        (
            "LeadingSettlingSamples",
            "10",
            "LeadingSettlingSamples 10 + RecordLength 64 exceed",
        ),
        (
            "SignalFormat",
            "eRS_SIGNAL_FORMAT_INT32BIT",
            "unsupported SignalFormat 'eRS_SIGNAL_FORMAT_INT32BIT'",
        ),
        (
            "NumberOfAcquisitions",
            "12",
            "holds 12 acquisitions (a history save)",
        ),
        (
            "TraceType",
            "eRS_TRACE_TYPE_ENVELOPE",
            "TraceType ENVELOPE is not read",
        ),
        (
            "XStart",
            "soon",
            "property 'XStart' Value is 'soon', not a finite number",
        ),
    ];
    for (name, value, message) in cases {
        let header = copy("rs-bad", "float_single", |t| set(t, name, value));
        let e = error(&header);
        assert!(e.contains(message), "{name}={value}: {e}");
    }
    let header = copy("rs-root", "float_single", |t| {
        t.replace("SaveItemType=\"Data\"", "SaveItemType=\"Setting\"")
    });
    assert!(error(&header).contains("a waveform export has <Database SaveItemType=\"Data\">"));
}
