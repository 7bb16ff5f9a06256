//! NI TDMS files: fixtures written by `scripts/fixtures/tdms.py` (with
//! npTDMS's writer, and segment by segment to NI's document), their values
//! as npTDMS reads them; damaged copies and refused files.

mod common;

use common::{check_damaged, check_fixture, check_fixture_with, fixture, temp_dir};
use tracekit_io::ReadOptions;

#[test]
fn written_by_nptdms() {
    let traces = check_fixture("tdms/writer.tdms");
    // The string channel is skipped; the others keep npTDMS's order.
    assert_eq!(traces.len(), 14);
    assert!(traces.iter().all(|t| t.meta().channel != "notes"));
}

#[test]
fn hand_made_segments() {
    let traces = check_fixture("tdms/handmade.tdms");
    let names: Vec<&str> = traces.iter().map(|t| t.meta().channel.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "empty", "u"]);
    assert!(traces[3].is_empty());
}

#[test]
fn unfinished_last_segments() {
    check_fixture("tdms/incomplete.tdms");
    check_fixture("tdms/incomplete_interleaved.tdms");
}

#[test]
fn a_channel_without_wf_increment_needs_a_rate() {
    let err = tracekit_io::read(fixture("tdms/no_rate.tdms"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no wf_increment") && err.contains("--sample-rate"),
        "{err}"
    );
    check_fixture_with("tdms/no_rate.tdms", &ReadOptions::new().sample_rate(500.0));
}

#[test]
fn a_file_of_strings_only() {
    let err = tracekit_io::read(fixture("tdms/strings.tdms"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no numeric channel, only /'log'/'lines' (String)"),
        "{err}"
    );
}

#[test]
fn an_index_file_is_refused() {
    let err = tracekit_io::read(fixture("tdms/indexed.tdms_index"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("TDMS: this is a TDMS index file (TDSh)"),
        "{err}"
    );
}

#[test]
fn damaged_copies_fail_cleanly() {
    for name in [
        "writer.tdms",
        "handmade.tdms",
        "incomplete.tdms",
        "incomplete_interleaved.tdms",
    ] {
        check_damaged(&format!("tdms/{name}"), 7);
    }
}

/// The offsets of the segments of a TDMS file.
fn segments(data: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut out = Vec::new();
    while at + 28 <= data.len() {
        out.push(at);
        let big = data[at + 4] & 0x40 != 0;
        let raw: [u8; 8] = data[at + 12..at + 20].try_into().unwrap();
        let next = if big {
            u64::from_be_bytes(raw)
        } else {
            u64::from_le_bytes(raw)
        };
        if next == u64::MAX {
            break;
        }
        at += 28 + next as usize;
    }
    out
}

/// Reads a copy of fixture `name` changed by `change`, and returns the error.
fn damaged(name: &str, test: &str, change: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut data = std::fs::read(fixture(&format!("tdms/{name}"))).unwrap();
    change(&mut data);
    let dir = temp_dir(test);
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    let err = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(err.contains(&*path.to_string_lossy()), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    err
}

#[test]
fn next_segment_offsets_beyond_the_file() {
    for (k, offset) in [10_000u64, 1 << 40].into_iter().enumerate() {
        let err = damaged("writer.tdms", &format!("tdms-next-{k}"), |d| {
            d[12..20].copy_from_slice(&offset.to_le_bytes());
        });
        assert!(
            err.contains(&format!(
                "truncated: the segment at offset 0 says the next starts {offset} bytes"
            )),
            "{err}"
        );
    }
}

#[test]
fn raw_data_that_is_not_whole_chunks() {
    // The last segment of writer.tdms loses its last byte.
    let err = damaged("writer.tdms", "tdms-chunks", |d| {
        let last = *segments(d).last().unwrap();
        let next = u64::from_le_bytes(d[last + 12..last + 20].try_into().unwrap());
        d[last + 12..last + 20].copy_from_slice(&(next - 1).to_le_bytes());
        d.pop();
    });
    assert!(
        err.contains("not a whole number of")
            && err.contains("-byte chunks (")
            && err.contains("bytes left over"),
        "{err}"
    );
}

#[test]
fn raw_data_offset_past_the_segment() {
    let err = damaged("writer.tdms", "tdms-raw-offset", |d| {
        d[20..28].copy_from_slice(&(1u64 << 40).to_le_bytes());
    });
    assert!(
        err.contains("raw data starts 1099511627776 bytes after its lead in"),
        "{err}"
    );
}

#[test]
fn daqmx_data_is_refused() {
    let err = damaged("writer.tdms", "tdms-daqmx", |d| d[4] |= 0x80);
    assert!(
        err.contains("DAQmx raw data, which tracekit does not read"),
        "{err}"
    );
}

#[test]
fn unknown_version() {
    let err = damaged("writer.tdms", "tdms-version", |d| {
        d[8..12].copy_from_slice(&9999u32.to_le_bytes());
    });
    assert!(
        err.contains("unknown TDMS version 9999 in the segment at offset 0"),
        "{err}"
    );
}

#[test]
fn values_beyond_the_file() {
    // The int8 channel of writer.tdms's first segment says 2^40 values a
    // chunk: the chunk is larger than the file.
    let err = damaged("writer.tdms", "tdms-values", |d| {
        let path = b"/'Types'/'int8'";
        let at = d.windows(path.len()).position(|w| w == path).unwrap() + path.len();
        // Raw data index: length (4), type (4), dimension (4), values (8).
        d[at + 12..at + 20].copy_from_slice(&(1u64 << 40).to_le_bytes());
    });
    assert!(
        err.contains("bytes of raw data, not a whole number of 10995116"),
        "{err}"
    );
}

#[test]
fn the_sample_limit_applies() {
    let options = ReadOptions::new().max_samples(10);
    let err = tracekit_io::read_with(fixture("tdms/writer.tdms"), &options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("header says 24 samples, more than the limit of 10"),
        "{err}"
    );
}
