//! The bytes that travel between the parent and its workers: the small
//! control messages on the sockets, and the metadata stored after the samples
//! in each segment. Floats travel as their bit patterns, so every value
//! round-trips exactly.

use std::collections::BTreeMap;

use tracekit_core::{Domain, TraceMeta};

/// The largest control message (a request for a stage with very many inputs).
pub(crate) const MAX_MESSAGE: usize = 64 * 1024;

/// Where a stage's samples and metadata are in its segment: the samples
/// first (8-byte aligned at offset 0), then `meta_len` bytes of metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentLayout {
    /// Number of samples.
    pub(crate) samples: u64,
    /// Bytes of encoded metadata after the samples.
    pub(crate) meta_len: u64,
}

impl SegmentLayout {
    /// The segment's total size in bytes, if it fits the address space.
    pub(crate) fn total(&self) -> Option<usize> {
        let samples = usize::try_from(self.samples).ok()?.checked_mul(8)?;
        samples.checked_add(usize::try_from(self.meta_len).ok()?)
    }
}

/// Parent to worker: run a chain of stages on the segments sent with the
/// message. The first stage reads the segments; each later stage reads only
/// the output of the one before it (every one of its inputs). The worker
/// replies once per stage, and stops at the first stage that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// The stage indices of the chain; never empty.
    pub(crate) stages: Vec<u32>,
    /// The layout of each segment, in the order of the descriptors sent.
    pub(crate) segments: Vec<SegmentLayout>,
    /// For each declared input of the first stage, the segment that holds it.
    pub(crate) inputs: Vec<u32>,
    /// How many more descriptors follow the segments: free segments to write
    /// the outputs into, in chain order (at most one per stage).
    pub(crate) outputs: u32,
}

/// How a worker's stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// The stage returned a trace; the segment holds it.
    Ok = 0,
    /// The stage returned an error; the segment holds its text.
    StageError = 1,
    /// The stage panicked; the segment holds the panic message.
    Panicked = 2,
    /// The worker could not run the stage; the segment holds why.
    Failed = 3,
}

/// Worker to parent: the outcome of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reply {
    /// How the stage ended.
    pub(crate) status: Status,
    /// For `Ok`, the output's layout; otherwise `samples` is 0 and
    /// `meta_len` is the length of the UTF-8 text (no segment when 0).
    pub(crate) layout: SegmentLayout,
    /// Wall time of the stage in the worker, in nanoseconds.
    pub(crate) nanos: u64,
}

const REQUEST_TAG: u32 = 0x544b_5251; // "TKRQ"
const REPLY_LEN: usize = 32;

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }

    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

impl Request {
    /// The message bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            20 + 4 * self.stages.len() + 16 * self.segments.len() + 4 * self.inputs.len(),
        );
        for v in [
            REQUEST_TAG,
            self.stages.len() as u32,
            self.segments.len() as u32,
            self.inputs.len() as u32,
            self.outputs,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for s in &self.stages {
            out.extend_from_slice(&s.to_le_bytes());
        }
        for s in &self.segments {
            put_u64(&mut out, s.samples);
            put_u64(&mut out, s.meta_len);
        }
        for i in &self.inputs {
            out.extend_from_slice(&i.to_le_bytes());
        }
        out
    }

    /// Reads a request; `None` if the bytes are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Request> {
        let mut r = Reader { bytes };
        if r.u32()? != REQUEST_TAG {
            return None;
        }
        let n_stages = r.u32()? as usize;
        let n_segments = r.u32()? as usize;
        let n_inputs = r.u32()? as usize;
        let outputs = r.u32()?;
        if n_stages == 0
            || n_stages > bytes.len()
            || n_segments > bytes.len()
            || n_inputs > bytes.len()
            || outputs as usize > n_stages
        {
            return None;
        }
        let stages = (0..n_stages).map(|_| r.u32()).collect::<Option<Vec<_>>>()?;
        let segments = (0..n_segments)
            .map(|_| {
                Some(SegmentLayout {
                    samples: r.u64()?,
                    meta_len: r.u64()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let inputs = (0..n_inputs)
            .map(|_| r.u32().filter(|&i| (i as usize) < n_segments))
            .collect::<Option<Vec<_>>>()?;
        r.is_empty().then_some(Request {
            stages,
            segments,
            inputs,
            outputs,
        })
    }
}

impl Reply {
    /// The message bytes.
    pub(crate) fn encode(&self) -> [u8; REPLY_LEN] {
        let mut out = [0u8; REPLY_LEN];
        out[..4].copy_from_slice(&(self.status as u32).to_le_bytes());
        out[8..16].copy_from_slice(&self.layout.samples.to_le_bytes());
        out[16..24].copy_from_slice(&self.layout.meta_len.to_le_bytes());
        out[24..32].copy_from_slice(&self.nanos.to_le_bytes());
        out
    }

    /// Reads a reply; `None` if the bytes are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Reply> {
        let mut r = Reader { bytes };
        let status = match r.u32()? {
            0 => Status::Ok,
            1 => Status::StageError,
            2 => Status::Panicked,
            3 => Status::Failed,
            _ => return None,
        };
        r.u32()?;
        let layout = SegmentLayout {
            samples: r.u64()?,
            meta_len: r.u64()?,
        };
        let nanos = r.u64()?;
        r.is_empty().then_some(Reply {
            status,
            layout,
            nanos,
        })
    }
}

/// The metadata as bytes: every float by its bit pattern, strings as UTF-8.
pub(crate) fn encode_meta(meta: &TraceMeta) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + meta.channel.len()
            + meta.units.len()
            + meta
                .measurements
                .keys()
                .map(|k| k.len() + 16)
                .sum::<usize>()
            + meta
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + 16)
                .sum::<usize>(),
    );
    put_u64(&mut out, meta.sample_rate.to_bits());
    put_u64(&mut out, meta.start.to_bits());
    out.push(match meta.domain {
        Domain::Time => 0,
        Domain::Frequency => 1,
    });
    put_str(&mut out, &meta.channel);
    put_str(&mut out, &meta.units);
    put_u64(&mut out, meta.measurements.len() as u64);
    for (k, v) in &meta.measurements {
        put_str(&mut out, k);
        put_u64(&mut out, v.to_bits());
    }
    put_u64(&mut out, meta.attributes.len() as u64);
    for (k, v) in &meta.attributes {
        put_str(&mut out, k);
        put_str(&mut out, v);
    }
    out
}

/// Reads metadata written by [`encode_meta`]; `None` if the bytes are not that.
pub(crate) fn decode_meta(bytes: &[u8]) -> Option<TraceMeta> {
    let mut r = Reader { bytes };
    let sample_rate = r.f64()?;
    let start = r.f64()?;
    let domain = match r.take(1)?[0] {
        0 => Domain::Time,
        1 => Domain::Frequency,
        _ => return None,
    };
    let channel = r.string()?;
    let units = r.string()?;
    let n = usize::try_from(r.u64()?).ok()?;
    let mut measurements = BTreeMap::new();
    for _ in 0..n {
        let k = r.string()?;
        measurements.insert(k, r.f64()?);
    }
    let n = usize::try_from(r.u64()?).ok()?;
    let mut attributes = BTreeMap::new();
    for _ in 0..n {
        let k = r.string()?;
        attributes.insert(k, r.string()?);
    }
    r.is_empty().then_some(TraceMeta {
        sample_rate,
        start,
        domain,
        channel,
        units,
        measurements,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_bit_for_bit() {
        let mut meta = TraceMeta::new(f64::from_bits(0x4000_0000_0000_0001));
        meta.start = -0.0;
        meta.domain = Domain::Frequency;
        meta.channel = "CH1 ☃".into();
        meta.units = "dB".into();
        meta.measurements
            .insert("nan".into(), f64::from_bits(0x7ff8_dead_beef_0001));
        meta.measurements.insert("neg".into(), -1e-300);
        meta.attributes.insert("model".into(), "DS1054Z".into());
        let back = decode_meta(&encode_meta(&meta)).unwrap();
        assert_eq!(back.sample_rate.to_bits(), meta.sample_rate.to_bits());
        assert_eq!(back.start.to_bits(), (-0.0f64).to_bits());
        assert_eq!(back.domain, Domain::Frequency);
        assert_eq!(
            (back.channel.as_str(), back.units.as_str()),
            ("CH1 ☃", "dB")
        );
        assert_eq!(back.measurements["nan"].to_bits(), 0x7ff8_dead_beef_0001);
        assert_eq!(back.measurements["neg"], -1e-300);
        assert_eq!(back.attributes, meta.attributes);
    }

    #[test]
    fn truncated_meta_is_rejected() {
        let bytes = encode_meta(&TraceMeta::new(1.0));
        for n in 0..bytes.len() {
            assert!(decode_meta(&bytes[..n]).is_none(), "prefix of {n} bytes");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_meta(&longer).is_none());
    }

    #[test]
    fn messages_round_trip() {
        let req = Request {
            stages: vec![7, 8],
            segments: vec![
                SegmentLayout {
                    samples: 3,
                    meta_len: 40,
                },
                SegmentLayout {
                    samples: 0,
                    meta_len: 41,
                },
            ],
            inputs: vec![1, 0, 1],
            outputs: 2,
        };
        assert_eq!(Request::decode(&req.encode()), Some(req.clone()));
        let mut bad = req.encode();
        let last = bad.len() - 4;
        bad[last] = 2; // an input naming a segment that was not sent
        assert_eq!(Request::decode(&bad), None);
        let reply = Reply {
            status: Status::Panicked,
            layout: SegmentLayout {
                samples: 0,
                meta_len: 12,
            },
            nanos: 99,
        };
        assert_eq!(Reply::decode(&reply.encode()), Some(reply));
        assert_eq!(Reply::decode(&reply.encode()[..31]), None);
    }
}
