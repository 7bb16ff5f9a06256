//! The CSV reader against the fixtures of `scripts/fixtures/csv.py` (one
//! per vendor dialect) and against damaged and hostile files.

mod common;

use std::path::PathBuf;

use common::{check_damaged, check_fixture, check_fixture_with, fixture, temp_dir};
use tracekit_core::Domain;
use tracekit_io::ReadOptions;

#[test]
fn rigol_exports() {
    for name in [
        "rigol_ds1000z.csv",
        "rigol_ds1000z_one.csv",
        "rigol_ds4000_offset.csv",
        "rigol_ds1000e.csv",
        "rigol_ds1000b.csv",
        "rigol_ds1000d.csv",
        "rigol_time_units.csv",
        "rigol_ultrascope.csv",
        "rigol_ultrascope_sep.csv",
        "rigol_t0_tinc.csv",
    ] {
        check_fixture(&format!("csv/{name}"));
    }
}

#[test]
fn tektronix_keysight_picoscope_exports() {
    for name in [
        "tektronix_tds.csv",
        "tektronix_mso.csv",
        "keysight.csv",
        "keysight_infiniium.csv",
        "picoscope.csv",
        "picoscope_bom_micro.csv",
        "picoscope_latin1.csv",
    ] {
        check_fixture(&format!("csv/{name}"));
    }
}

#[test]
fn rohde_schwarz_exports_take_the_companion_header() {
    check_fixture("csv/rs_float.Wfm.csv");
    check_fixture("csv/rs_xy.Wfm.csv");
    // Without the header beside it, a values-only export needs a rate.
    let dir = temp_dir("csv-rs-alone");
    let alone = dir.join("rs_float.Wfm.csv");
    std::fs::copy(fixture("csv/rs_float.Wfm.csv"), &alone).unwrap();
    let err = tracekit_io::read(&alone).unwrap_err().to_string();
    assert!(err.contains("--sample-rate"), "{err}");
    assert!(
        err.contains("its first column is not a time axis (it goes down at line"),
        "{err}"
    );
    let traces = tracekit_io::read_with(&alone, &ReadOptions::new().sample_rate(1e6)).unwrap();
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[0].sample_rate(), 1e6);
}

#[test]
fn plain_files_and_their_dialects() {
    for name in [
        "plain.csv",
        "semicolon_decimal_comma.csv",
        "tabs.tsv",
        "quoted.csv",
        "comments.csv",
        "rounded.csv",
        "rounded_header.csv",
        "units.csv",
    ] {
        check_fixture(&format!("csv/{name}"));
    }
}

#[test]
fn tracekit_reads_its_own_outputs() {
    check_fixture_with(
        "csv/tracekit_time.csv",
        &ReadOptions::new().sample_rate(48000.0),
    );
    let spectrum = check_fixture("csv/tracekit_spectrum.csv");
    assert_eq!(spectrum[0].meta().domain, Domain::Frequency);
    // A trace written by tracekit reads back with the same frequencies.
    let mut meta = tracekit_core::TraceMeta::new(0.25);
    meta.domain = Domain::Frequency;
    meta.start = 10.0;
    let written = tracekit_io::Trace::with_meta(vec![1.0, 2.5, -3.0, 0.125], meta).unwrap();
    let dir = temp_dir("csv-own");
    let path = dir.join("spectrum.csv");
    tracekit_io::write_trace(&written, &path, tracekit_io::OutputFormat::Csv).unwrap();
    let back = tracekit_io::read(&path).unwrap();
    assert_eq!(back[0].samples(), written.samples());
    assert_eq!(back[0].meta().domain, Domain::Frequency);
    assert_eq!(back[0].meta().start, 10.0);
    assert_eq!(back[0].sample_rate(), 0.25);
}

#[test]
fn damaged_fixtures_fail_cleanly() {
    for (name, step) in [
        ("rigol_ds1000z.csv", 97),
        ("rigol_ultrascope_sep.csv", 89),
        ("tektronix_tds.csv", 61),
        ("tektronix_mso.csv", 131),
        ("picoscope_latin1.csv", 113),
        ("semicolon_decimal_comma.csv", 37),
        ("rs_xy.Wfm.csv", 71),
    ] {
        check_damaged(&format!("csv/{name}"), step);
    }
}

/// Writes `text` to a fresh file and reads it with `options`.
fn read_text(
    test: &str,
    name: &str,
    text: &[u8],
    options: &ReadOptions,
) -> Result<Vec<tracekit_io::Trace>, String> {
    let path: PathBuf = temp_dir(test).join(name);
    std::fs::write(&path, text).unwrap();
    tracekit_io::read_with(&path, options).map_err(|e| {
        let message = e.to_string();
        assert!(message.contains(&*path.to_string_lossy()), "{message}");
        message
    })
}

fn error(test: &str, text: &str) -> String {
    read_text(test, "f.csv", text.as_bytes(), &ReadOptions::new()).unwrap_err()
}

#[test]
fn an_index_column_is_never_a_time_base() {
    let e = error("csv-index", "X,CH1\n0,1.5\n1,2.5\n2,3.5\n");
    assert!(
        e.contains("sample index") && e.contains("--sample-rate"),
        "{e}"
    );
    let e = error("csv-seq", "X,CH1\nSequence,Volt\n0,1.5\n1,2.5\n");
    assert!(
        e.contains("sample index") && e.contains("--sample-rate"),
        "{e}"
    );
    let e = error("csv-headerless-index", "0,1.5\n1,2.5\n2,3.5\n");
    assert!(e.contains("--sample-rate"), "{e}");
    // The user's rate is used only where the file gives none.
    let with = ReadOptions::new().sample_rate(1e3);
    let t = read_text("csv-index-rate", "f.csv", b"X,CH1\n0,1.5\n1,2.5\n", &with).unwrap();
    assert_eq!((t[0].sample_rate(), t[0].samples()), (1e3, &[1.5, 2.5][..]));
    let rigol = b"X,CH1,Start,Increment\nSequence,Volt,-1e-3,1e-6\n0,1\n1,2\n";
    let t = read_text("csv-rigol-rate", "f.csv", rigol, &with).unwrap();
    assert_eq!(t[0].sample_rate(), 1e6);
    let e = error(
        "csv-gap",
        "X,CH1,Start,Increment\nSequence,Volt,0,1e-6\n0,1\n1,2\n3,4\n",
    );
    assert!(
        e.contains("line 5: sample index 3 follows 1 on line 4"),
        "{e}"
    );
}

#[test]
fn microseconds_are_microseconds() {
    let text = "Time,Channel A\n(us),(mV)\n\n0.0,1.0\n0.2,2.0\n0.4,3.0\n";
    let t = read_text("csv-us", "f.csv", text.as_bytes(), &ReadOptions::new()).unwrap();
    assert!(
        (t[0].sample_rate() - 5e6).abs() < 1e-3,
        "{}",
        t[0].sample_rate()
    );
    assert_eq!(t[0].samples(), &[1e-3, 2e-3, 3e-3]);
    assert_eq!(t[0].meta().units, "V");
    assert_eq!(t[0].meta().channel, "Channel A");
}

#[test]
fn errors_name_the_line_and_the_column() {
    let e = error("csv-abc", "time,CH1,CH2\n0,1,2\n1,2,abc\n");
    assert!(
        e.ends_with("line 3: 'abc' is not a number in column CH2"),
        "{e}"
    );
    let e = error("csv-width", "time,CH1,CH2\n0,1,2\n1,2,3\n2,3\n");
    assert!(
        e.contains("line 4: 2 fields, but the data rows before have 3"),
        "{e}"
    );
    let e = error("csv-uneven", "t,v\n0,1\n1,2\n5,3\n6,4\n");
    assert!(
        e.contains("not evenly spaced") && e.contains("lines 3 to 4"),
        "{e}"
    );
    assert!(e.contains("--sample-rate"), "{e}");
    let e = error("csv-one-row", "time,v\n0.5,1\n");
    assert!(
        e.contains("only one data row") && e.contains("--sample-rate"),
        "{e}"
    );
    let e = error("csv-backwards", "time,v\n0,1\n1,2\n0.5,3\n");
    assert!(e.contains("backwards at line 4"), "{e}");
    let e = error("csv-empty-cell", "time,CH1,CH2\n0,1,2\n1,,3\n");
    assert!(e.contains("line 3: column CH1 is empty"), "{e}");
    let e = error("csv-no-data", "time,value\n");
    assert!(e.contains("no rows of numbers"), "{e}");
}

#[test]
fn nan_and_inf_text() {
    // In a time column: an error naming the line.
    let e = error("csv-inf-time", "time,v\n0,1\ninf,2\n");
    assert!(
        e.contains("line 3: time stamp 'inf' in column time is not a finite number"),
        "{e}"
    );
    let e = error("csv-nan-time", "time,v\n0,1\nNaN,2\n");
    assert!(
        e.contains("line 3:") && e.contains("not a finite number"),
        "{e}"
    );
    // In a value column: kept as the file says (PicoScope writes ∞ when over range).
    let text = "Time,Channel A\n(ms),(V)\n0,NaN\n1,∞\n2,-inf\n";
    let t = read_text(
        "csv-nan-values",
        "f.csv",
        text.as_bytes(),
        &ReadOptions::new(),
    )
    .unwrap();
    let s = t[0].samples();
    assert!(
        s[0].is_nan() && s[1] == f64::INFINITY && s[2] == f64::NEG_INFINITY,
        "{s:?}"
    );
    // In a header: an error.
    let e = error(
        "csv-nan-inc",
        "X,CH1,Start,Increment\nSequence,Volt,0,NaN\n0,1\n1,2\n",
    );
    assert!(
        e.contains("Increment (line 2) gives a sample interval of NaN s"),
        "{e}"
    );
}

#[test]
fn hostile_files_fail_cleanly() {
    // A 10 MB line of digits is no number.
    let mut text = b"time,v\n0,1\n1,".to_vec();
    text.extend(std::iter::repeat_n(b'7', 10 << 20));
    text.push(b'\n');
    let e = read_text("csv-long-number", "f.csv", &text, &ReadOptions::new()).unwrap_err();
    assert!(
        e.contains("line 3: '7777") && e.contains("(10485760 bytes)"),
        "{}",
        &e[..200.min(e.len())]
    );
    // A 10 MB line of fields is more channels than the limit.
    let mut text = b"0".to_vec();
    text.extend(std::iter::repeat_n(*b",1", 5 << 20).flatten());
    let e = read_text("csv-wide", "f.csv", &text, &ReadOptions::new()).unwrap_err();
    assert!(e.contains("channels, more than the limit"), "{e}");
    // A 10 MB header line.
    let mut text = vec![b'a'; 10 << 20];
    text.extend_from_slice(b"\n1\n2\n");
    let e = read_text("csv-long-header", "f.csv", &text, &ReadOptions::new()).unwrap_err();
    assert!(e.contains("--sample-rate"), "{}", &e[..200.min(e.len())]);
    // Binary junk is no CSV.
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let e = read_text("csv-junk", "f.dat", &junk, &ReadOptions::new()).unwrap_err();
    assert!(e.contains("unknown file type"), "{e}");
    // Header counts beyond the limit or the file.
    let e = error(
        "csv-huge",
        "Record Length,1099511627776\nSample Interval,1e-6\nTIME,CH1\n0,1\n",
    );
    assert!(
        e.contains("1099511627776 samples, more than the limit"),
        "{e}"
    );
    let e = error(
        "csv-short",
        "Record Length,5\nSample Interval,1e-6\nTIME,CH1\n0,1\n1e-6,2\n",
    );
    assert!(
        e.contains("truncated: the header (line 1) says 5 points, the file holds 2 rows"),
        "{e}"
    );
    let e = error(
        "csv-zero",
        "Record Length,0\nSample Interval,1e-6\nTIME,CH1\n0,1\n",
    );
    assert!(
        e.contains("says 0 points, but the file holds 1 rows"),
        "{e}"
    );
    let e = error("csv-utf16", "\u{feff}x");
    assert!(
        e.contains("unknown file type") || e.contains("no rows"),
        "{e}"
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend("1,2\n".encode_utf16().flat_map(u16::to_le_bytes));
    let e = read_text("csv-utf16le", "f.csv", &utf16, &ReadOptions::new()).unwrap_err();
    assert!(
        e.contains("unknown file type") || e.contains("UTF-16"),
        "{e}"
    );
}

#[test]
fn samples_limit_is_enforced() {
    let text = "1\n2\n3\n4\n";
    let options = ReadOptions::new().sample_rate(1.0).max_samples(3);
    let e = read_text("csv-limit", "f.csv", text.as_bytes(), &options).unwrap_err();
    assert!(e.contains("more than the limit of 3"), "{e}");
}
