//! Traces in shared memory: writing a trace into a sealed segment, and
//! reading one back as a [`Trace`] whose samples are the mapping itself.

use std::{
    fmt,
    os::fd::{BorrowedFd, OwnedFd},
    sync::Arc,
};

use tracekit_core::{SampleBuffer, Trace, TraceMeta};

use crate::{
    sys::{self, Mapping},
    wire::{self, SegmentLayout},
};

/// Samples that live in a read-only shared-memory mapping; unmapped when the
/// last trace using them drops.
pub(crate) struct SharedSamples {
    map: Mapping,
    len: usize,
}

impl fmt::Debug for SharedSamples {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSamples")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl SampleBuffer for SharedSamples {
    fn samples(&self) -> &[f64] {
        // `map_trace` checked that the mapping holds `len` samples.
        self.map.f64s(self.len).unwrap_or(&[])
    }
}

/// One written segment: its descriptor and layout.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) fd: OwnedFd,
    pub(crate) layout: SegmentLayout,
}

/// Writes `trace` (samples, then metadata) into a new sealed segment.
pub(crate) fn write_trace(trace: &Trace) -> Result<Segment, String> {
    let meta = wire::encode_meta(trace.meta());
    let fd = sys::create_segment(&[sys::f64_bytes(trace.samples()), &meta]).map_err(|e| {
        format!(
            "cannot create a shared-memory segment of {} samples: {e}",
            trace.len()
        )
    })?;
    Ok(Segment {
        fd,
        layout: SegmentLayout {
            samples: trace.len() as u64,
            meta_len: meta.len() as u64,
        },
    })
}

/// Writes `text` into a new sealed segment; `None` for empty text.
pub(crate) fn write_text(text: &str) -> Result<Option<OwnedFd>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    sys::create_segment(&[text.as_bytes()])
        .map(Some)
        .map_err(|e| format!("cannot create a shared-memory segment for a message: {e}"))
}

/// Maps segment `fd` and gives the trace it holds, samples shared, not copied.
pub(crate) fn map_trace(
    fd: BorrowedFd<'_>,
    layout: SegmentLayout,
    populate: bool,
) -> Result<Trace, String> {
    let total = layout.total().ok_or_else(|| {
        format!(
            "a segment of {} samples does not fit in memory",
            layout.samples
        )
    })?;
    let map = Mapping::open(fd, total, populate)
        .map_err(|e| format!("cannot map a segment of {total} bytes: {e}"))?;
    let len = layout.samples as usize;
    let meta = wire::decode_meta(&map.bytes()[len * 8..])
        .ok_or("a segment holds metadata that cannot be read")?;
    if map.f64s(len).is_none() {
        return Err(format!("a segment does not hold its {len} samples"));
    }
    // `from_buffer` checks the rate, but a stage may legitimately return a
    // trace whose metadata it set by hand: keep it exactly as it was.
    let mut trace = Trace::from_buffer(Arc::new(SharedSamples { map, len }), TraceMeta::default())
        .map_err(|e| e.to_string())?;
    *trace.meta_mut() = meta;
    Ok(trace)
}

/// Reads the UTF-8 text of `len` bytes in segment `fd` (lossily).
pub(crate) fn read_text(fd: Option<BorrowedFd<'_>>, len: u64) -> Result<String, String> {
    let Some(fd) = fd else {
        return if len == 0 {
            Ok(String::new())
        } else {
            Err("a message segment is missing".into())
        };
    };
    let len = usize::try_from(len).map_err(|_| "a message is too long".to_owned())?;
    let map = Mapping::open(fd, len, false).map_err(|e| format!("cannot map a message: {e}"))?;
    Ok(String::from_utf8_lossy(map.bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn a_trace_round_trips_through_a_segment() {
        let mut t = Trace::new(vec![1.0, f64::NAN, -0.0, 3.5], 48e3)
            .unwrap()
            .with_measurement("rms", 0.25);
        t.meta_mut().channel = "CH2".into();
        let seg = write_trace(&t).unwrap();
        let back = map_trace(seg.fd.as_fd(), seg.layout, true).unwrap();
        drop(seg);
        assert!(back.bit_eq(&t));
    }

    #[test]
    fn an_empty_trace_round_trips() {
        let t = Trace::new(vec![], 1.0).unwrap();
        let seg = write_trace(&t).unwrap();
        assert!(
            map_trace(seg.fd.as_fd(), seg.layout, false)
                .unwrap()
                .bit_eq(&t)
        );
    }

    #[test]
    fn a_wrong_layout_is_an_error() {
        let t = Trace::new(vec![1.0; 4], 1.0).unwrap();
        let seg = write_trace(&t).unwrap();
        let too_long = SegmentLayout {
            samples: 1 << 20,
            ..seg.layout
        };
        assert!(map_trace(seg.fd.as_fd(), too_long, false).is_err());
        let shifted = SegmentLayout {
            samples: 3,
            meta_len: seg.layout.meta_len + 8,
        };
        assert!(map_trace(seg.fd.as_fd(), shifted, false).is_err());
    }

    #[test]
    fn text_round_trips() {
        let fd = write_text("bad cutoff: 5e5 Hz").unwrap().unwrap();
        assert_eq!(
            read_text(Some(fd.as_fd()), 18).unwrap(),
            "bad cutoff: 5e5 Hz"
        );
        assert!(write_text("").unwrap().is_none());
        assert_eq!(read_text(None, 0).unwrap(), "");
    }
}

#[cfg(test)]
mod timing_probe {
    use std::{os::fd::AsFd, time::Instant};

    use super::*;

    #[test]
    #[ignore]
    fn probe() {
        let t = Trace::new((0..1 << 20).map(|k| k as f64).collect(), 1.0).unwrap();
        for _ in 0..3 {
            let a = Instant::now();
            let seg = write_trace(&t).unwrap();
            let b = Instant::now();
            let m = map_trace(seg.fd.as_fd(), seg.layout, true).unwrap();
            let c = Instant::now();
            let s: f64 = m.samples().iter().sum();
            let d = Instant::now();
            let v = m.samples().to_vec();
            let e = Instant::now();
            drop(m);
            drop(seg);
            let f = Instant::now();
            eprintln!("write {:?} map {:?} sum {:?} to_vec {:?} drop {:?} {s} {}", b - a, c - b, d - c, e - d, f - e, v.len());
        }
    }
}
