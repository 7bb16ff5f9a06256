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
    /// The request's number, which every reply to it repeats: the worker's
    /// parent numbers its requests to each worker 1, 2, 3...
    pub(crate) seq: u64,
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
    /// The worker had no descriptor left (EMFILE, ENFILE): the reply's
    /// `errno` says which, its `note` what it could not do. No segment.
    NoDescriptors = 4,
}

/// Worker to parent: the outcome of one stage of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The request's number.
    pub(crate) seq: u64,
    /// The stage this reply is about.
    pub(crate) stage: u32,
    /// How the stage ended.
    pub(crate) status: Status,
    /// For `Ok`, the output's layout; otherwise `samples` is 0 and
    /// `meta_len` is the length of the UTF-8 text (no segment when 0).
    pub(crate) layout: SegmentLayout,
    /// Wall time of the stage in the worker, in nanoseconds.
    pub(crate) nanos: u64,
    /// For `NoDescriptors`, the system's error number; otherwise 0.
    pub(crate) errno: i32,
    /// For `NoDescriptors`, what the worker could not do; otherwise empty.
    /// At most [`MAX_NOTE`] bytes.
    pub(crate) note: String,
}

const REQUEST_TAG: u32 = 0x544b_5251; // "TKRQ"
const REQUEST_HEADER: usize = 32;
const REPLY_TAG: u32 = 0x544b_5250; // "TKRP"
const REPLY_HEADER: usize = 52;

/// The longest note of a reply.
pub(crate) const MAX_NOTE: usize = 256;

/// The longest reply.
pub(crate) const MAX_REPLY: usize = REPLY_HEADER + MAX_NOTE;

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

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Writes the total length of `out` into its bytes 4..8 (a message's
/// length field); a message too long for it says `u32::MAX`, which no
/// reader accepts.
fn seal(out: &mut [u8]) {
    let len = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out[4..8].copy_from_slice(&len.to_le_bytes());
}

/// Checks a message's tag and length field against `tag` and its real length.
fn check_frame(r: &mut Reader<'_>, tag: u32, what: &str, header: usize) -> Result<(), String> {
    let len = r.bytes.len();
    if len < header {
        return Err(format!(
            "{len} bytes are too short for a {what} (its header alone is {header})"
        ));
    }
    let got = r.u32().unwrap_or(0);
    if got != tag {
        return Err(format!(
            "it does not start with the {what} tag ({got:#010x}, not {tag:#010x})"
        ));
    }
    let declared = r.u32().unwrap_or(0);
    if declared as usize != len {
        return Err(format!("it declares {declared} bytes but holds {len}"));
    }
    Ok(())
}

impl Request {
    /// The message bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            REQUEST_HEADER
                + 4 * self.stages.len()
                + 16 * self.segments.len()
                + 4 * self.inputs.len(),
        );
        put_u32(&mut out, REQUEST_TAG);
        put_u32(&mut out, 0);
        put_u64(&mut out, self.seq);
        for v in [
            self.stages.len() as u32,
            self.segments.len() as u32,
            self.inputs.len() as u32,
            self.outputs,
        ] {
            put_u32(&mut out, v);
        }
        for &s in &self.stages {
            put_u32(&mut out, s);
        }
        for s in &self.segments {
            put_u64(&mut out, s.samples);
            put_u64(&mut out, s.meta_len);
        }
        for &i in &self.inputs {
            put_u32(&mut out, i);
        }
        seal(&mut out);
        out
    }

    /// The number of the request in `bytes`, if they hold a request header
    /// (to answer even a request that cannot be read).
    pub(crate) fn seq_of(bytes: &[u8]) -> Option<u64> {
        let mut r = Reader { bytes };
        check_frame(&mut r, REQUEST_TAG, "request", REQUEST_HEADER).ok()?;
        r.u64()
    }

    /// Reads a request; says what is wrong if the bytes are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Request, String> {
        let mut r = Reader { bytes };
        check_frame(&mut r, REQUEST_TAG, "request", REQUEST_HEADER)?;
        let truncated = || "the request ends early".to_owned();
        let seq = r.u64().ok_or_else(truncated)?;
        let n_stages = r.u32().ok_or_else(truncated)?;
        let n_segments = r.u32().ok_or_else(truncated)?;
        let n_inputs = r.u32().ok_or_else(truncated)?;
        let outputs = r.u32().ok_or_else(truncated)?;
        // No overflow: each count is below 2^32.
        let body = 4 * u64::from(n_stages) + 16 * u64::from(n_segments) + 4 * u64::from(n_inputs);
        if n_stages == 0 || outputs > n_stages || REQUEST_HEADER as u64 + body != bytes.len() as u64
        {
            return Err(format!(
                "a request for {n_stages} stages, {n_segments} segments, {n_inputs} inputs and \
                 {outputs} outputs cannot be {} bytes long",
                bytes.len()
            ));
        }
        let stages = (0..n_stages)
            .map(|_| r.u32())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(truncated)?;
        let segments = (0..n_segments)
            .map(|_| {
                Some(SegmentLayout {
                    samples: r.u64()?,
                    meta_len: r.u64()?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(truncated)?;
        let inputs = (0..n_inputs)
            .map(|_| r.u32())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(truncated)?;
        if let Some(bad) = inputs.iter().find(|&&i| i >= n_segments) {
            return Err(format!("an input names segment {bad} of {n_segments}"));
        }
        Ok(Request {
            seq,
            stages,
            segments,
            inputs,
            outputs,
        })
    }
}

impl Reply {
    /// The message bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut note = self.note.as_str();
        while note.len() > MAX_NOTE {
            // Cut at a character boundary.
            let mut end = MAX_NOTE;
            while !note.is_char_boundary(end) {
                end -= 1;
            }
            note = &note[..end];
        }
        let mut out = Vec::with_capacity(REPLY_HEADER + note.len());
        put_u32(&mut out, REPLY_TAG);
        put_u32(&mut out, 0);
        put_u64(&mut out, self.seq);
        put_u32(&mut out, self.stage);
        put_u32(&mut out, self.status as u32);
        put_u32(&mut out, self.errno as u32);
        put_u64(&mut out, self.layout.samples);
        put_u64(&mut out, self.layout.meta_len);
        put_u64(&mut out, self.nanos);
        out.extend_from_slice(note.as_bytes());
        seal(&mut out);
        out
    }

    /// Reads a reply; says what is wrong if the bytes are not one.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Reply, String> {
        let mut r = Reader { bytes };
        check_frame(&mut r, REPLY_TAG, "reply", REPLY_HEADER)?;
        let truncated = || "the reply ends early".to_owned();
        let seq = r.u64().ok_or_else(truncated)?;
        let stage = r.u32().ok_or_else(truncated)?;
        let status = match r.u32().ok_or_else(truncated)? {
            0 => Status::Ok,
            1 => Status::StageError,
            2 => Status::Panicked,
            3 => Status::Failed,
            4 => Status::NoDescriptors,
            other => return Err(format!("its status {other} is none of 0 to 4")),
        };
        let errno = r.u32().ok_or_else(truncated)? as i32;
        let layout = SegmentLayout {
            samples: r.u64().ok_or_else(truncated)?,
            meta_len: r.u64().ok_or_else(truncated)?,
        };
        let nanos = r.u64().ok_or_else(truncated)?;
        let note =
            String::from_utf8(r.bytes.to_vec()).map_err(|_| "its note is not UTF-8".to_owned())?;
        Ok(Reply {
            seq,
            stage,
            status,
            layout,
            nanos,
            errno,
            note,
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
            seq: 41,
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
        assert_eq!(Request::decode(&req.encode()), Ok(req.clone()));
        assert_eq!(Request::seq_of(&req.encode()), Some(41));
        let mut bad = req.encode();
        let last = bad.len() - 4;
        bad[last] = 2; // an input naming a segment that was not sent
        assert_eq!(
            Request::decode(&bad),
            Err("an input names segment 2 of 2".into())
        );
        let reply = Reply {
            seq: 41,
            stage: 8,
            status: Status::NoDescriptors,
            layout: SegmentLayout {
                samples: 0,
                meta_len: 0,
            },
            nanos: 99,
            errno: 24,
            note: "create a segment ☃".into(),
        };
        assert_eq!(Reply::decode(&reply.encode()), Ok(reply.clone()));
    }

    #[test]
    fn every_cut_or_padded_message_is_refused_with_a_reason() {
        let reply = Reply {
            seq: 3,
            stage: 1,
            status: Status::Ok,
            layout: SegmentLayout {
                samples: 10,
                meta_len: 40,
            },
            nanos: 5,
            errno: 0,
            note: String::new(),
        };
        let bytes = reply.encode();
        assert_eq!(bytes.len(), REPLY_HEADER);
        for n in 0..bytes.len() {
            let err = Reply::decode(&bytes[..n]).unwrap_err();
            assert!(err.contains("too short"), "{n} bytes: {err}");
        }
        let mut longer = bytes.clone();
        longer.push(b'x');
        assert_eq!(
            Reply::decode(&longer),
            Err(format!(
                "it declares {REPLY_HEADER} bytes but holds {}",
                REPLY_HEADER + 1
            ))
        );
        // A request as long as a reply, to get past the length check.
        let request = Request {
            seq: 3,
            stages: vec![0; (REPLY_HEADER - REQUEST_HEADER) / 4],
            segments: vec![],
            inputs: vec![],
            outputs: 0,
        }
        .encode();
        assert!(
            Reply::decode(&request)
                .unwrap_err()
                .starts_with("it does not start with the reply tag")
        );
        for n in 0..request.len() {
            assert!(Request::decode(&request[..n]).is_err(), "{n} bytes");
        }
        let mut status = bytes.clone();
        status[20] = 9;
        assert_eq!(
            Reply::decode(&status),
            Err("its status 9 is none of 0 to 4".into())
        );
    }

    #[test]
    fn a_long_note_is_cut_at_a_character() {
        let reply = Reply {
            seq: 1,
            stage: 0,
            status: Status::NoDescriptors,
            layout: SegmentLayout {
                samples: 0,
                meta_len: 0,
            },
            nanos: 0,
            errno: 24,
            note: "☃".repeat(MAX_NOTE),
        };
        let bytes = reply.encode();
        assert!(bytes.len() <= MAX_REPLY);
        let back = Reply::decode(&bytes).unwrap();
        assert!(back.note.len() <= MAX_NOTE && back.note.chars().all(|c| c == '☃'));
    }
}
