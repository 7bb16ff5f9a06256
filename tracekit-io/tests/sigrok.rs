//! sigrok session files: fixtures written by `scripts/fixtures/sigrok.py`
//! to the documented layout, damaged copies, zip bombs and metadata errors.

mod common;

use common::{check_damaged, check_fixture, check_fixture_with, fixture, temp_dir};
use tracekit_io::ReadOptions;

#[test]
fn logic_and_analog_chunks() {
    let traces = check_fixture("sigrok/logic_analog.sr");
    let names: Vec<&str> = traces.iter().map(|t| t.meta().channel.as_str()).collect();
    assert_eq!(names, ["D0", "D1", "CLK", "D11", "A0", "A1"]);
}

#[test]
fn analog_only_session() {
    check_fixture("sigrok/analog_only.sr");
}

#[test]
fn single_logic_member_and_crlf_metadata() {
    check_fixture("sigrok/logic_single.sr");
}

#[test]
fn a_session_without_a_rate_needs_one() {
    let err = tracekit_io::read(fixture("sigrok/no_rate.sr"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no samplerate") && err.contains("--sample-rate"),
        "{err}"
    );
    check_fixture_with("sigrok/no_rate.sr", &ReadOptions::new().sample_rate(1000.0));
}

#[test]
fn unknown_version() {
    let err = tracekit_io::read(fixture("sigrok/version3.sr"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown sigrok session version '3'"), "{err}");
}

#[test]
fn damaged_copies_fail_cleanly() {
    for name in ["logic_analog.sr", "analog_only.sr", "logic_single.sr"] {
        check_damaged(&format!("sigrok/{name}"), 7);
    }
}

/// The peak resident memory of this process, where the system says it.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn zip_bombs_are_refused_without_inflating_them() {
    let cases = [
        ("bomb_overlap.sr", "overlap"),
        ("bomb_lying.sr", "inflates past its declared 4096 bytes"),
        ("bomb_declared.sr", "more than deflate can expand them to"),
    ];
    for (name, what) in cases {
        let path = fixture(&format!("sigrok/{name}"));
        assert!(std::fs::metadata(&path).unwrap().len() < 32 * 1024);
        let err = tracekit_io::read(&path).unwrap_err().to_string();
        assert!(
            err.contains(name) && err.contains("zip bomb") && err.contains(what),
            "{err}"
        );
    }
    // The overlapping bomb would be 3 GB inflated, the lying one 10 MB.
    if let Some(peak) = peak_memory() {
        assert!(peak < 512 << 20, "peak memory {peak} bytes");
    }
}

#[test]
fn declared_sizes_are_checked_against_the_sample_limit() {
    let options = ReadOptions::new().max_samples(100);
    let err = tracekit_io::read_with(fixture("sigrok/logic_analog.sr"), &options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("header says 300 samples, more than the limit of 100"),
        "{err}"
    );
}

/// ZIP members: (name, bytes).
type Members<'a> = &'a [(&'a str, &'a [u8])];

/// The CRC-32 of the ZIP format.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A ZIP archive of stored members.
fn stored_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in members {
        let (offset, crc, len) = (out.len() as u32, crc32(data), data.len() as u32);
        let fields = |out: &mut Vec<u8>| {
            for v in [0u16, 0, 0, 0] {
                out.extend(v.to_le_bytes());
            }
            out.extend(crc.to_le_bytes());
            out.extend(len.to_le_bytes());
            out.extend(len.to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes());
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes());
        fields(&mut out);
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend([20, 0, 20, 0]);
        fields(&mut central);
        // Comment length, disk number start, internal and external attributes.
        central.extend([0; 10]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, members.len() as u16);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0; 4]);
    out.extend(n.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend([0; 2]);
    out
}

/// Reads a session made of `metadata` (the [device 1] lines) and `members`.
fn read_session(
    test: &str,
    device: &str,
    members: &[(&str, &[u8])],
) -> Result<Vec<tracekit_io::Trace>, String> {
    let meta = format!("[global]\nsigrok version=0.5.2\n[device 1]\n{device}");
    let mut all: Vec<(&str, &[u8])> = vec![("version", b"2"), ("metadata", meta.as_bytes())];
    all.extend_from_slice(members);
    let dir = temp_dir(test);
    let path = dir.join("session.sr");
    std::fs::write(&path, stored_zip(&all)).unwrap();
    let result = tracekit_io::read(&path).map_err(|e| e.to_string());
    std::fs::remove_dir_all(&dir).unwrap();
    result
}

#[test]
fn a_hand_made_stored_session_reads() {
    let device =
        "capturefile=logic-1\ntotal probes=2\nsamplerate=1 kHz\nprobe1=A\nprobe2=B\nunitsize=1\n";
    let traces = read_session("sigrok-stored", device, &[("logic-1-1", &[0, 1, 2, 3])]).unwrap();
    assert_eq!(traces[0].samples(), [0.0, 1.0, 0.0, 1.0]);
    assert_eq!(traces[1].samples(), [0.0, 0.0, 1.0, 1.0]);
    assert_eq!(traces[1].meta().sample_rate, 1000.0);
}

#[test]
fn metadata_errors_say_what_is_wrong() {
    let logic: Members<'_> = &[("logic-1-1", &[0, 1, 2])];
    let cases: [(&str, Members<'_>, &str); 8] = [
        (
            "samplerate=1 MHz\nprobe9=X\nunitsize=1\n",
            logic,
            "probe9, but a unitsize of 1 holds 8 probes",
        ),
        ("samplerate=1 MHz\nprobe1=X\n", logic, "no unitsize"),
        (
            "samplerate=fast\nprobe1=X\nunitsize=1\n",
            logic,
            "samplerate is 'fast'",
        ),
        (
            "samplerate=1 MHz\nprobe1=X\nunitsize=2\n",
            logic,
            "3 bytes, not a whole number of 2-byte samples",
        ),
        (
            "samplerate=1 MHz\nprobe1=X\nunitsize=1\n",
            &[("logic-1-2", &[0])],
            "'logic-1-2' follows a missing chunk 'logic-1-1'",
        ),
        (
            "samplerate=1 MHz\nprobe1=X\nunitsize=1\n",
            &[],
            "no data for 'logic-1'",
        ),
        (
            "samplerate=1 MHz\ntotal analog=1\nanalog1=A\n",
            &[("analog-1-1-1", &[0, 0, 0])],
            "not a whole number of 4-byte samples",
        ),
        ("samplerate=1 MHz\n", &[], "lists no probeN and no analogN"),
    ];
    for (i, (device, members, what)) in cases.into_iter().enumerate() {
        let err = read_session(&format!("sigrok-meta-{i}"), device, members).unwrap_err();
        assert!(
            err.contains("sigrok session: ") && err.contains(what),
            "{device:?}: {err}"
        );
    }
}

#[test]
fn zero_samples_is_an_empty_trace() {
    let device = "samplerate=1 MHz\ntotal analog=1\nanalog1=A\n";
    let traces = read_session("sigrok-empty", device, &[("analog-1-1-1", &[])]).unwrap();
    assert!(traces[0].is_empty());
}

#[test]
fn a_zip_that_is_not_a_session() {
    let dir = temp_dir("sigrok-not-session");
    let path = dir.join("other.sr");
    std::fs::write(&path, stored_zip(&[("readme.txt", b"hello")])).unwrap();
    let err = tracekit_io::read(&path).unwrap_err().to_string();
    assert!(err.contains("no 'version' member"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
