//! The WAV reader against files written by scipy.io.wavfile.write, Python's
//! `wave` and scripts/fixtures/wav.py's own chunk writer, with the values
//! scipy.io.wavfile.read gives (scaled as the reader documents) beside them;
//! and against the files SciPy refuses.

mod common;

use std::collections::BTreeMap;

use common::{check_damaged, check_fixture, fixture, temp_dir};
use tracekit_io::ReadOptions;

/// Every `fixtures/wav/*.wav` that has its expected values beside it.
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture("wav"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_fixture_reads_as_scipy_reads_it() {
    let names = fixtures();
    assert!(names.len() >= 30, "{names:?}");
    for name in names {
        let traces = check_fixture(&format!("wav/{name}"));
        for t in &traces {
            assert_eq!(t.meta().channel, "", "{name}");
            assert_eq!(t.meta().start, 0.0, "{name}");
        }
    }
}

#[test]
fn attributes_say_how_the_file_was_read() {
    let rifx = check_fixture("wav/rifx-24bit-1ch.wav");
    let a = &rifx[0].meta().attributes;
    assert_eq!(a["container"], "RIFX");
    assert_eq!(a["wave_format"], "PCM");
    assert_eq!(a["bits_per_sample"], "24");
    assert_eq!(a["container_bits"], "32");
    assert_eq!(a["format"], "WAV");
    let rf64 = check_fixture("wav/rf64-f32-list.wav");
    assert_eq!(rf64[0].meta().attributes["container"], "RF64");
    assert_eq!(rf64[0].meta().attributes["wave_format"], "IEEE float");
    let odd = check_fixture("wav/extensible-36bit-in-5-3ch.wav");
    assert_eq!(odd[0].meta().attributes["bits_per_sample"], "40");
    assert_eq!(odd[0].meta().attributes["container_bits"], "64");
}

#[test]
fn channels_are_named_by_index() {
    let named =
        tracekit_io::read_named(fixture("wav/scipy-i64-3ch.wav"), &ReadOptions::new()).unwrap();
    let names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "scipy-i64-3ch.ch0",
            "scipy-i64-3ch.ch1",
            "scipy-i64-3ch.ch2"
        ]
    );
}

#[test]
fn sixteen_bit_scaling_is_x_over_32768() {
    // The file's first three samples are -32768, 32767 and 0 (see the script).
    let traces = check_fixture("wav/scipy-i16-1ch.wav");
    assert_eq!(&traces[0].samples()[..3], &[-1.0, 32767.0 / 32768.0, 0.0]);
    let u8 = check_fixture("wav/scipy-u8-2ch.wav");
    assert_eq!(u8[0].samples()[0], -1.0);
    assert_eq!(u8[1].samples()[0], 127.0 / 128.0);
}

#[test]
fn damaged_files_fail_cleanly() {
    for name in [
        "scipy-i16-2ch.wav",
        "scipy-f32-2ch.wav",
        "rifx-24bit-1ch.wav",
        "rf64-16bit-2ch.wav",
        "extensible-36bit-in-5-3ch.wav",
        "chunks.wav",
    ] {
        check_damaged(&format!("wav/{name}"), 7);
    }
}

/// What tracekit says about each file SciPy refuses.
const REFUSED: &[(&str, &str)] = &[
    (
        "block-align-0.wav",
        "nBlockAlign 0 gives less than one byte to each of its 2 channels",
    ),
    (
        "data-before-fmt.wav",
        "data chunk at offset 12 before any fmt chunk",
    ),
    (
        "extensible-cbsize-10.wav",
        "cbSize 10, fewer than the 22 bytes",
    ),
    (
        "extensible-unknown-guid.wav",
        "unsupported format tag 0xfffe (WAVE_FORMAT_EXTENSIBLE with an unknown SubFormat GUID)",
    ),
    (
        "extensible-fmt-16.wav",
        "unsupported format tag 0xfffe (WAVE_FORMAT_EXTENSIBLE with an unknown SubFormat GUID)",
    ),
    (
        "float-24bit.wav",
        "24-bit IEEE float: tracekit reads 32- and 64-bit floats",
    ),
    (
        "fmt-12-bytes.wav",
        "fmt chunk of 12 bytes, fewer than the 16",
    ),
    (
        "form-not-wave.wav",
        "WAV: RIFF form type is \"WAVX\", not \"WAVE\"",
    ),
    (
        "frames-not-whole.wav",
        "38 bytes are not a whole number of frames (2 channels of 2 bytes)",
    ),
    (
        "incomplete-chunk-id.wav",
        "file truncated: incomplete chunk ID \"da\" at offset 36",
    ),
    (
        "inconsistent-avg-bytes.wav",
        "nAvgBytesPerSec is 1234, not nSamplesPerSec 8000 x nBlockAlign 4 = 32000",
    ),
    (
        "mp3.wav",
        "unsupported format tag 0x0055 (MPEG Layer 3); tracekit reads PCM and IEEE float",
    ),
    ("mulaw.wav", "unsupported format tag 0x0007 (mu-law)"),
    (
        "no-data-chunk-in-riff-size.wav",
        "no data chunk before offset 36",
    ),
    (
        "no-data.wav",
        "file truncated: no data chunk before the end of the file at offset 36",
    ),
    (
        "pcm-72bit.wav",
        "72-bit PCM: tracekit reads integer samples of at most 64 bits",
    ),
    ("pcm-96bit-in-12.wav", "64-bit PCM in 12-byte containers"),
    ("rf64-no-ds64.wav", "RF64 file without a ds64 chunk"),
    (
        "truncated-24bit-mid-sample.wav",
        "file truncated: the data chunk at offset 44 declares 30 bytes, the file holds 29, \
         which ends inside a 3-byte sample",
    ),
    (
        "truncated-mid-frame.wav",
        "file truncated: the data chunk at offset 44 declares 40 bytes, the file holds 38, \
         which ends inside a frame of 2 channels",
    ),
    ("zero-channels.wav", "the fmt chunk says 0 channels"),
];

#[test]
fn what_scipy_refuses_is_refused_with_a_plain_message() {
    let scipy: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(fixture("wav/refused/scipy-errors.json")).unwrap(),
    )
    .unwrap();
    let mut ours: Vec<&str> = REFUSED.iter().map(|(name, _)| *name).collect();
    ours.sort_unstable();
    assert_eq!(ours, scipy.keys().map(String::as_str).collect::<Vec<_>>());
    for (name, fragment) in REFUSED {
        let path = fixture(&format!("wav/refused/{name}"));
        let e = tracekit_io::read(&path).unwrap_err().to_string();
        assert!(
            e.contains(fragment),
            "{name}: {e}\n(SciPy: {})",
            scipy[*name]
        );
        assert!(e.contains(&*path.to_string_lossy()), "{e}");
    }
}

/// A RIFF file of `chunks` (each already framed).
fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32 + 4).to_le_bytes());
    out.extend(b"WAVE");
    out.extend(body);
    out
}

/// A chunk whose size field says `size`.
fn chunk(id: &[u8; 4], size: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend(size.to_le_bytes());
    out.extend(payload);
    out
}

/// A 16-byte PCM fmt chunk.
fn fmt(channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend(1u16.to_le_bytes());
    p.extend(channels.to_le_bytes());
    p.extend(rate.to_le_bytes());
    p.extend((rate * u32::from(block_align)).to_le_bytes());
    p.extend(block_align.to_le_bytes());
    p.extend(bits.to_le_bytes());
    chunk(b"fmt ", 16, &p)
}

fn read_bytes(
    test: &str,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<Vec<tracekit_io::Trace>, String> {
    let dir = temp_dir(test);
    let path = dir.join("hostile.wav");
    std::fs::write(&path, bytes).unwrap();
    let result = tracekit_io::read_with(&path, options).map_err(|e| e.to_string());
    std::fs::remove_dir_all(&dir).unwrap();
    result
}

#[test]
fn a_data_chunk_of_4_gib_in_a_small_file_reads_what_the_file_holds() {
    // SciPy reads as many whole samples as the file holds; so does tracekit,
    // allocating for those, not for the 2^32 - 1 bytes declared.
    let samples: Vec<u8> = [1i16, -2, 3].iter().flat_map(|s| s.to_le_bytes()).collect();
    let file = riff(&[fmt(1, 8000, 2, 16), chunk(b"data", u32::MAX, &samples)]);
    let traces = read_bytes("wav-4gib", &file, &ReadOptions::new()).unwrap();
    assert_eq!(
        traces[0].samples(),
        [1.0 / 32768.0, -2.0 / 32768.0, 3.0 / 32768.0]
    );
}

#[test]
fn rf64_sizes_beyond_any_allocation_are_refused() {
    let mut file = b"RF64\xff\xff\xff\xffWAVEds64".to_vec();
    file.extend(28u32.to_le_bytes());
    file.extend(0u64.to_le_bytes());
    file.extend((1u64 << 63).to_le_bytes()); // dataSize
    file.extend([0; 12]);
    file.extend(fmt(1, 8000, 2, 16));
    file.extend(chunk(b"data", u32::MAX, &[0; 8]));
    let riff_size = file.len() as u64 - 8;
    file[20..28].copy_from_slice(&riff_size.to_le_bytes());
    let e = read_bytes("wav-rf64-huge", &file, &ReadOptions::new()).unwrap_err();
    assert!(
        e.contains("declares 9223372036854775808 bytes, more than can be allocated"),
        "{e}"
    );
}

#[test]
fn the_sample_limit_holds_and_zero_frames_are_empty_traces() {
    let samples = vec![0u8; 400];
    let file = riff(&[fmt(2, 8000, 4, 16), chunk(b"data", 400, &samples)]);
    let e = read_bytes("wav-limit", &file, &ReadOptions::new().max_samples(99)).unwrap_err();
    assert!(
        e.contains("header says 100 samples, more than the limit of 99"),
        "{e}"
    );
    let empty = riff(&[fmt(2, 8000, 4, 16), chunk(b"data", 0, &[])]);
    let traces = read_bytes("wav-empty", &empty, &ReadOptions::new()).unwrap();
    assert_eq!(traces.len(), 2);
    assert!(traces.iter().all(|t| t.is_empty()));
    let no_rate = riff(&[fmt(1, 0, 2, 16), chunk(b"data", 2, &[0, 0])]);
    let e = read_bytes("wav-rate", &no_rate, &ReadOptions::new()).unwrap_err();
    assert!(e.contains("the fmt chunk says 0 samples per second"), "{e}");
}

#[test]
fn many_channels_are_refused_before_anything_is_allocated() {
    // No frame at all: 65535 traces would be empty, but they are not made.
    let file = riff(&[fmt(65535, 1, 65535, 8), chunk(b"data", 0, &[])]);
    let e = read_bytes("wav-channels", &file, &ReadOptions::new()).unwrap_err();
    assert!(
        e.contains("65535 channels, more than the limit of 4096"),
        "{e}"
    );
}

/// The fmt chunk hound writes for 32-bit floats (and anything over 2
/// channels or 16 bits): WAVE_FORMAT_EXTENSIBLE, fmt of 40 bytes, the
/// KSDATAFORMAT_SUBTYPE_IEEE_FLOAT GUID.
fn hound_float_fmt(channels: u16, rate: u32) -> Vec<u8> {
    let block_align = 4 * channels;
    let mut p = Vec::new();
    p.extend(0xfffeu16.to_le_bytes());
    p.extend(channels.to_le_bytes());
    p.extend(rate.to_le_bytes());
    p.extend((rate * u32::from(block_align)).to_le_bytes());
    p.extend(block_align.to_le_bytes());
    p.extend(32u16.to_le_bytes());
    p.extend(22u16.to_le_bytes());
    p.extend(32u16.to_le_bytes());
    p.extend(3u32.to_le_bytes()); // dwChannelMask: front left and right
    p.extend([
        3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
    ]);
    chunk(b"fmt ", 40, &p)
}

#[test]
fn float_channels_read_exactly_as_written() {
    // What the CLI tests write with hound: two interleaved f32 channels.
    let left: Vec<f32> = (0..100).map(|k| (k as f32 * 0.37).sin()).collect();
    let right: Vec<f32> = left.iter().map(|x| 0.5 * x - 0.25).collect();
    let data: Vec<u8> = left
        .iter()
        .zip(&right)
        .flat_map(|(l, r)| [l.to_le_bytes(), r.to_le_bytes()].concat())
        .collect();
    let file = riff(&[
        hound_float_fmt(2, 1_000_000),
        chunk(b"data", data.len() as u32, &data),
    ]);
    let traces = read_bytes("wav-hound", &file, &ReadOptions::new()).unwrap();
    assert_eq!(traces.len(), 2);
    let widened = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    assert_eq!(traces[0].samples(), widened(&left));
    assert_eq!(traces[1].samples(), widened(&right));
    assert_eq!(traces[0].sample_rate(), 1e6);
    assert_eq!(traces[1].meta().attributes["wave_format"], "IEEE float");
}
