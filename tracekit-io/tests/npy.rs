//! The NPY reader against arrays written by numpy.save (every dtype, both
//! byte orders, C and Fortran order, format versions 1.0 to 3.0) and
//! hand-written headers, with numpy.load's values beside them; and against
//! hostile headers that must fail before anything is allocated.

mod common;

use common::{check_damaged, check_fixture_with, fixture, temp_dir};
use tracekit_io::{OutputFormat, ReadOptions, Trace};

/// The rate the fixtures' expected values were written with.
fn options() -> ReadOptions {
    ReadOptions::new().sample_rate(1000.0)
}

#[test]
fn every_fixture_reads_as_numpy_loads_it() {
    let mut names: Vec<String> = std::fs::read_dir(fixture("npy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    names.sort();
    assert!(names.len() >= 70, "{names:?}");
    for name in names {
        check_fixture_with(&format!("npy/{name}"), &options());
    }
}

#[test]
fn shapes_make_traces() {
    let count = |name: &str| check_fixture_with(&format!("npy/{name}"), &options()).len();
    assert_eq!(count("f8-le-1d.npy"), 1);
    assert_eq!(count("f8-be-2d-f.npy"), 3);
    assert_eq!(count("column-n1.npy"), 1);
    assert_eq!(count("row-1n.npy"), 1);
    assert_eq!(count("scalar-0d.npy"), 1);
    assert_eq!(count("rows-of-nothing.npy"), 3);
    let named = tracekit_io::read_named(fixture("npy/i2-be-2d-c.npy"), &options()).unwrap();
    let names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["i2-be-2d-c.ch0", "i2-be-2d-c.ch1", "i2-be-2d-c.ch2"]
    );
    let a = &named[0].trace.meta().attributes;
    assert_eq!(
        (a["dtype"].as_str(), a["shape"].as_str()),
        (">i2", "(3, 5)")
    );
}

#[test]
fn the_rate_is_the_callers() {
    let e = tracekit_io::read(fixture("npy/f8-le-1d.npy"))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("NPY: an NPY file does not say its sample rate; give one (--sample-rate HZ)"),
        "{e}"
    );
    let t = tracekit_io::read_with(fixture("npy/f8-le-1d.npy"), &options()).unwrap();
    assert_eq!(t[0].sample_rate(), 1000.0);
}

#[test]
fn f8_round_trips_bit_for_bit() {
    let dir = temp_dir("npy-bits");
    let bits = [
        0x7ff8_0000_0000_0001u64, // a NaN with a payload
        0xfff0_0000_0000_0000,    // -inf
        0x8000_0000_0000_0000,    // -0.0
        0x0000_0000_0000_0001,    // the smallest subnormal
        0x3fb9_9999_9999_999a,    // 0.1
        0x7fef_ffff_ffff_ffff,    // the largest double
    ];
    let samples: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
    let path = dir.join("bits.npy");
    tracekit_io::write_trace(&Trace::new(samples, 5.0).unwrap(), &path, OutputFormat::Npy).unwrap();
    let back = tracekit_io::read_with(&path, &ReadOptions::new().sample_rate(5.0)).unwrap();
    let got: Vec<u64> = back[0].samples().iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, bits);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in [
        "f8-le-1d.npy",
        "i2-be-2d-f.npy",
        "version-3-0.npy",
        "header-spacing.npy",
    ] {
        check_damaged(&format!("npy/{name}"), 5);
    }
}

/// A format 1.0 NPY file: `header` (padded with a newline) and `data` bytes.
fn npy(header: &str, data: usize) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    let text = format!("{header}\n");
    out.extend((text.len() as u16).to_le_bytes());
    out.extend(text.as_bytes());
    out.extend(std::iter::repeat_n(0u8, data));
    out
}

/// The error reading `bytes` (with a rate), which must be one.
fn refusal(test: &str, bytes: &[u8], options: &ReadOptions) -> String {
    let dir = temp_dir(test);
    let path = dir.join("hostile.npy");
    std::fs::write(&path, bytes).unwrap();
    let e = tracekit_io::read_with(&path, options)
        .map(|t| format!("read {} traces", t.len()))
        .unwrap_err_or_message();
    std::fs::remove_dir_all(&dir).unwrap();
    e
}

/// `Err(e)` as `e`'s message, `Ok(m)` as a panic with `m`.
trait UnwrapErr {
    fn unwrap_err_or_message(self) -> String;
}

impl UnwrapErr for Result<String, tracekit_io::Error> {
    fn unwrap_err_or_message(self) -> String {
        match self {
            Ok(m) => panic!("expected an error, {m}"),
            Err(e) => e.to_string(),
        }
    }
}

fn header(descr: &str, fortran: bool, shape: &str) -> String {
    let f = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}")
}

#[test]
fn hostile_shapes_fail_before_any_allocation() {
    let rate = ReadOptions::new().sample_rate(1.0);
    let cases = [
        (
            "(4294967296, 4294967296)",
            "truncated: header says 18446744073709551616 samples, file holds ",
        ),
        (
            "(9223372036854775808, 2)",
            "truncated: header says 18446744073709551616 samples, file holds ",
        ),
        (
            "(1099511627776,)",
            "truncated: header says 1099511627776 samples, file holds ",
        ),
        (
            "(100000000, 0)",
            "the file holds 100000000 channels, more than the limit of 4096",
        ),
        ("(40,)", "truncated: header says 40 samples, file holds "),
        (
            "(2, 3, 4)",
            "a 3-D array of shape (2, 3, 4): tracekit reads 1-D",
        ),
        ("(-1,)", "shape (-1,) has a negative dimension"),
        ("(3)", "shape is 3, not a tuple of integers"),
        ("(1.5,)", "not an integer"),
    ];
    for (shape, fragment) in cases {
        // 256 bytes in all: a 64-byte header and 192 bytes of data.
        let mut file = npy(&header("<f8", false, shape), 0);
        file.resize(256, 0);
        let e = refusal("npy-shape", &file, &rate);
        assert!(e.contains(fragment), "{shape}: {e}");
    }
    // The shape is checked against the file before the missing rate.
    let e = refusal(
        "npy-shape-rate",
        &npy(&header("<f8", false, "(1099511627776,)"), 8),
        &ReadOptions::new(),
    );
    assert!(e.contains("header says 1099511627776 samples"), "{e}");
}

#[test]
fn limits_hold() {
    let file = npy(&header("<i2", false, "(4, 6)"), 48);
    let e = refusal(
        "npy-limit",
        &file,
        &ReadOptions::new().sample_rate(1.0).max_samples(5),
    );
    assert!(
        e.contains("header says 6 samples, more than the limit of 5"),
        "{e}"
    );
    let e = refusal(
        "npy-channels",
        &file,
        &ReadOptions::new().sample_rate(1.0).max_channels(3),
    );
    assert!(e.contains("4 channels, more than the limit of 3"), "{e}");
}

#[test]
fn dtypes_tracekit_does_not_read_are_named() {
    let rate = ReadOptions::new().sample_rate(1.0);
    let cases = [
        (
            "<c16",
            "dtype '<c16' holds complex numbers: tracekit reads real ones",
        ),
        ("|O", "dtype '|O' holds Python objects"),
        ("<U3", "dtype '<U3' holds strings"),
        ("<M8[s]", "dates or time spans"),
        ("<f16", "a float wider than 64 bits"),
        ("<q", "not a dtype tracekit reads"),
    ];
    for (descr, fragment) in cases {
        let e = refusal("npy-dtype", &npy(&header(descr, false, "(2,)"), 64), &rate);
        assert!(e.contains(fragment), "{descr}: {e}");
    }
    let structured =
        "{'descr': [('x', '<f8'), ('y', '<i4')], 'fortran_order': False, 'shape': (2,), }";
    let e = refusal("npy-structured", &npy(structured, 64), &rate);
    assert!(
        e.contains("structured dtype [('x', '<f8'), ('y', '<i4')]"),
        "{e}"
    );
}

#[test]
fn broken_headers_say_what_is_wrong() {
    let rate = ReadOptions::new().sample_rate(1.0);
    let mut v9 = npy(&header("<f8", false, "(1,)"), 8);
    v9[6] = 9;
    let e = refusal("npy-version", &v9, &rate);
    assert!(
        e.contains("unknown NPY format version 9.0; numpy.load reads 1.0, 2.0 and 3.0"),
        "{e}"
    );
    let e = refusal(
        "npy-keys",
        &npy("{'descr': '<f8', 'shape': (1,)}", 8),
        &rate,
    );
    assert!(
        e.contains("the header's keys are ['descr', 'shape']"),
        "{e}"
    );
    let e = refusal(
        "npy-bool",
        &npy("{'descr': '<f8', 'fortran_order': 1, 'shape': (1,)}", 8),
        &rate,
    );
    assert!(e.contains("fortran_order is 1, not True or False"), "{e}");
    let e = refusal(
        "npy-syntax",
        &npy("{'descr': '<f8', 'fortran_order': False 'shape': (1,)}", 8),
        &rate,
    );
    assert!(
        e.contains("where the header's dict needs ',' or '}'"),
        "{e}"
    );
    let e = refusal("npy-short", b"\x93NUMPY\x01\x00\xff\x00{'descr'", &rate);
    assert!(
        e.contains("file truncated: the header needs 255 bytes at offset 10"),
        "{e}"
    );
    let nested = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    let e = refusal("npy-nested", &npy(&nested, 0), &rate);
    assert!(e.contains("nests more than 32 levels"), "{e}");
}

/// A little-endian f8 array is read over the file's mapping: the traces'
/// storage is the mapping (its Debug form says so), and the values are the
/// file's, bit for bit; other dtypes and Fortran rows are decoded.
#[test]
fn f8_arrays_are_traces_over_the_mapped_file() {
    let dir = common::temp_dir("npy-mapped");
    let path = dir.join("rows.npy");
    let values: Vec<f64> = (0..6).map(|k| f64::from(k) * 0.5 - 1.0).collect();
    let mut header = String::from("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in &values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&path, &bytes).unwrap();
    let traces =
        tracekit_io::read_with(&path, &tracekit_io::ReadOptions::new().sample_rate(1.0)).unwrap();
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[1].samples(), &values[3..]);
    for t in &traces {
        assert!(
            format!("{:?}", t.buffer()).contains("MappedSamples"),
            "{:?}",
            t.buffer()
        );
    }
    // The traces outlive the file's name and any later write to the path.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(traces[0].samples(), &values[..3]);
    std::fs::remove_dir_all(&dir).unwrap();
}
