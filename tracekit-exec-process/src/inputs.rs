//! The segments of a call's input traces, remembered from one call to the
//! next: running the same trace again writes nothing.

use std::sync::{Arc, Weak};

use tracekit_core::{SampleBuffer, Trace};

use crate::{
    ProcessError,
    segment::{self, Recycler, Segment, SegmentFd},
    sys::{self},
    wire,
};

/// At most how many input segments are remembered from one call to the next.
const MAX_CACHED_INPUTS: usize = 64;

/// At most how many bytes of input segments are remembered.
const MAX_CACHED_BYTES: u64 = 256 << 20;

/// An input trace already written to a segment: running the same trace
/// again (the same samples buffer, which never changes, and the same
/// metadata) reuses the segment instead of writing it again.
#[derive(Debug)]
struct CachedInput {
    /// Held weakly: the cache never keeps a caller's samples alive, and
    /// while this exists no other buffer can take the same address.
    buffer: Weak<dyn SampleBuffer>,
    meta: Vec<u8>,
    segment: Segment,
    /// Whether the current call used it (unused entries are dropped after it).
    used: bool,
}

impl CachedInput {
    fn holds(&self, trace: &Trace, meta: &[u8]) -> bool {
        self.meta == meta
            && self
                .buffer
                .upgrade()
                .is_some_and(|b| Arc::ptr_eq(&b, trace.buffer()))
    }
}

/// The input segments of the last call and of this one.
#[derive(Debug, Default)]
pub(crate) struct InputCache {
    entries: Vec<CachedInput>,
}

impl InputCache {
    /// The segment holding `trace`: a remembered one if this trace was
    /// written before, else a newly written one (remembered while the cache
    /// has room).
    pub(crate) fn segment(
        &mut self,
        trace: &Trace,
        recycler: &Arc<Recycler>,
    ) -> Result<Segment, ProcessError> {
        let meta = wire::encode_meta(trace.meta());
        if let Some(hit) = self.entries.iter_mut().find(|c| c.holds(trace, &meta)) {
            hit.used = true;
            return Ok(hit.segment.clone());
        }
        let want = wire::SegmentLayout {
            samples: trace.len() as u64,
            meta_len: meta.len() as u64,
        }
        .total()
        .unwrap_or(usize::MAX) as u64;
        let into = match recycler.take(want) {
            Some(fd) => fd,
            None => sys::new_segment().map_err(|e| shared_memory_error(e, trace))?,
        };
        let (fd, layout) = segment::write_trace(trace, Some(into)).map_err(|message| {
            ProcessError::SharedMemory {
                what: "input trace".into(),
                message,
            }
        })?;
        let segment = Segment {
            fd: SegmentFd::new(fd, recycler),
            layout,
        };
        let cached_bytes: u64 = self
            .entries
            .iter()
            .filter_map(|c| c.segment.layout.total())
            .map(|b| b as u64)
            .sum();
        let fits = layout
            .total()
            .is_some_and(|b| cached_bytes + b as u64 <= MAX_CACHED_BYTES);
        if fits && self.entries.len() < MAX_CACHED_INPUTS {
            self.entries.push(CachedInput {
                buffer: Arc::downgrade(trace.buffer()),
                meta,
                segment: segment.clone(),
                used: true,
            });
        }
        Ok(segment)
    }

    /// Forgets the entries this call did not use; the rest wait for the next.
    pub(crate) fn end_call(&mut self) {
        self.entries.retain(|c| c.used);
        for c in &mut self.entries {
            c.used = false;
        }
    }

    /// The descriptors of the remembered segments (a new worker closes them).
    pub(crate) fn raw_fds(&self) -> impl Iterator<Item = i32> + '_ {
        self.entries.iter().map(|c| sys::raw(&*c.segment.fd))
    }
}

/// The error for a segment that could not be created for input `trace`.
fn shared_memory_error(e: nix::errno::Errno, trace: &Trace) -> ProcessError {
    if sys::is_out_of_descriptors(e) {
        ProcessError::OutOfDescriptors {
            what: format!(
                "create a shared-memory segment for an input trace of {} samples",
                trace.len()
            ),
            step: None,
            source: e,
            limit: sys::descriptor_limit() as u64,
        }
    } else {
        ProcessError::SharedMemory {
            what: "input trace".into(),
            message: format!("cannot create a shared-memory segment: {e}"),
        }
    }
}
