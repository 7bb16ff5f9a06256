//! The mappings a worker keeps from one request to the next.

use std::{
    collections::VecDeque,
    os::fd::{AsFd, BorrowedFd, OwnedFd},
    sync::Arc,
};

use tracekit_core::Trace;

use crate::{
    segment::{layout_of, map_trace, pwrite_trace, segment_or_new, total_bytes, trace_over},
    sys::{self, Mapping, SegmentId},
    wire::{self, SegmentLayout},
};

/// The largest segment a [`MappingCache`] keeps mapped; larger ones are
/// mapped for one use.
const CACHE_ONE_BYTES: usize = 64 << 20;

/// The most mapped bytes a [`MappingCache`] keeps.
const CACHE_BYTES: usize = 256 << 20;

/// The most mappings a [`MappingCache`] keeps: enough for the inputs and
/// outputs of a batch (W2: 256 segments of 256-512 KiB), which come back
/// batch after batch.
const CACHE_ENTRIES: usize = 512;

/// How many segments a [`MappingCache`] remembers having seen once.
const SEEN_ENTRIES: usize = 1024;

/// What [`MappingCache::take`] found of a segment.
#[derive(Debug)]
pub(crate) enum Kept {
    /// Its kept mapping, now the caller's.
    Mapped(Mapping),
    /// No mapping of it is kept.
    Unmapped,
    /// A trace of this process reads it.
    Busy,
}

/// The mappings a worker keeps from one request to the next, by segment.
///
/// The parent hands the same segments out again and again (the input of
/// repeated runs, outputs written into reused segments), each time under a
/// new descriptor. A kept mapping has its pages in place: reading a segment
/// again faults nothing in, and writing one is a plain copy into mapped
/// memory instead of a page-by-page `pwritev` (measured: 8 MB in about
/// 0.1 ms against 1.5 ms). A kept mapping also keeps its segment's memory
/// alive after the parent has let go of it, so the cache is bounded, and a
/// segment is mapped to be kept only when it comes back a second time (a
/// batch whose results hold every segment would otherwise churn the cache:
/// mapping a segment costs about what writing it once does).
#[derive(Debug, Default)]
pub(crate) struct MappingCache {
    /// Most recently used last.
    entries: Vec<(SegmentId, Arc<Mapping>)>,
    /// Segments seen once and not kept, most recent last.
    seen: VecDeque<SegmentId>,
}

impl MappingCache {
    /// The kept mapping of segment `fd` covering `need` bytes, or a new one
    /// of the whole segment, kept if small enough; `None` for a segment too
    /// large to keep.
    fn mapping(
        &mut self,
        fd: BorrowedFd<'_>,
        need: usize,
    ) -> Result<Option<&mut Arc<Mapping>>, String> {
        let (id, size) =
            sys::segment_identity(fd).map_err(|e| format!("cannot read a segment's size: {e}"))?;
        let size = usize::try_from(size).map_err(|_| "a segment does not fit in memory")?;
        if size < need {
            return Err(format!("a segment of {size} bytes does not hold {need}"));
        }
        if let Some(k) = self
            .entries
            .iter()
            .position(|(i, m)| *i == id && m.len() >= need)
        {
            let entry = self.entries.remove(k);
            self.entries.push(entry);
        } else {
            if need == 0 || size > CACHE_ONE_BYTES {
                return Ok(None);
            }
            match self.seen.iter().position(|i| *i == id) {
                Some(k) => {
                    self.seen.remove(k);
                }
                None => {
                    if self.seen.len() == SEEN_ENTRIES {
                        self.seen.pop_front();
                    }
                    self.seen.push_back(id);
                    return Ok(None);
                }
            }
            self.entries.retain(|(i, _)| *i != id);
            let map = Mapping::open_writable(fd, size)
                .map_err(|e| format!("cannot map a segment of {size} bytes: {e}"))?;
            self.push(id, Arc::new(map));
        }
        Ok(self.entries.last_mut().map(|(_, m)| m))
    }

    /// Keeps `map` as the most recent mapping of segment `id`, within the
    /// cache's bounds (the oldest go first).
    fn push(&mut self, id: SegmentId, map: Arc<Mapping>) {
        self.entries.push((id, map));
        while self.entries.len() > CACHE_ENTRIES
            || self.entries.iter().map(|(_, m)| m.len()).sum::<usize>() > CACHE_BYTES
        {
            self.entries.remove(0);
        }
    }

    /// Keeps the writable mapping `map` of segment `id` (one of this
    /// worker's outputs, which the parent may hand back for writing), if it
    /// is small enough to keep.
    pub(crate) fn insert(&mut self, id: SegmentId, map: Mapping) {
        if map.len() == 0 || map.len() > CACHE_ONE_BYTES {
            return;
        }
        self.entries.retain(|(i, _)| *i != id);
        self.seen.retain(|i| *i != id);
        self.push(id, Arc::new(map));
    }

    /// Takes the kept mapping of segment `id` out of the cache, to write
    /// the segment through it; [`Kept::Busy`] while a trace of this process
    /// reads it (then it must not be written at all).
    pub(crate) fn take(&mut self, id: SegmentId) -> Kept {
        let Some(k) = self.entries.iter().position(|(i, _)| *i == id) else {
            return Kept::Unmapped;
        };
        if Arc::strong_count(&self.entries[k].1) > 1 {
            return Kept::Busy;
        }
        let (_, map) = self.entries.remove(k);
        Arc::into_inner(map).map_or(Kept::Busy, Kept::Mapped)
    }

    /// [`map_trace`] through a kept mapping: the trace of `layout` in
    /// segment `fd`, its samples the mapping itself.
    pub(crate) fn map_trace(
        &mut self,
        fd: BorrowedFd<'_>,
        layout: SegmentLayout,
    ) -> Result<Trace, String> {
        match self.mapping(fd, total_bytes(layout)?)? {
            Some(map) => trace_over(Arc::clone(map), layout, None),
            None => map_trace(fd, layout, true, None),
        }
    }

    /// [`write_trace`](crate::segment::write_trace) through a kept mapping of segment `into` (grown as
    /// needed). `into` must have been handed to this process for writing.
    pub(crate) fn write_trace(
        &mut self,
        trace: &Trace,
        into: Option<OwnedFd>,
    ) -> Result<(OwnedFd, SegmentLayout), String> {
        let fd = segment_or_new(into)?;
        let meta = wire::encode_meta(trace.meta());
        let samples = sys::f64_bytes(trace.samples());
        let total = samples.len() + meta.len();
        sys::grow_segment(fd.as_fd(), total as u64)
            .map_err(|e| format!("cannot grow a shared-memory segment to {total} bytes: {e}"))?;
        // Writable only while no trace of this process reads the mapping.
        let bytes = match self.mapping(fd.as_fd(), total)? {
            Some(map) => Arc::get_mut(map).and_then(Mapping::bytes_mut),
            None => None,
        };
        let layout = match bytes {
            Some(bytes) => {
                bytes[..samples.len()].copy_from_slice(samples);
                bytes[samples.len()..total].copy_from_slice(&meta);
                layout_of(trace, &meta)
            }
            None => pwrite_trace(fd.as_fd(), trace, &meta)?,
        };
        Ok((fd, layout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_mappings_follow_rewrites_and_growth() {
        let mut cache = MappingCache::default();
        let small = Trace::new(vec![1.0, -2.0, 3.0], 10.0).unwrap();
        let (fd, layout) = cache.write_trace(&small, None).unwrap();
        // Read back without the cache, and through it (a kept mapping).
        assert!(
            map_trace(fd.as_fd(), layout, false, None)
                .unwrap()
                .bit_eq(&small)
        );
        assert!(cache.map_trace(fd.as_fd(), layout).unwrap().bit_eq(&small));
        // The same segment written again (as the parent hands it out once
        // nothing reads it), larger: it grows past the kept mapping.
        let large = Trace::new((0..5000).map(f64::from).collect(), 7.0).unwrap();
        let (fd, layout) = cache.write_trace(&large, Some(fd)).unwrap();
        assert!(
            map_trace(fd.as_fd(), layout, true, None)
                .unwrap()
                .bit_eq(&large)
        );
        assert!(cache.map_trace(fd.as_fd(), layout).unwrap().bit_eq(&large));
        // Written again, smaller, through the kept mapping: no stale samples
        // or metadata from the larger trace.
        let (fd, layout) = cache.write_trace(&small, Some(fd)).unwrap();
        assert!(
            map_trace(fd.as_fd(), layout, true, None)
                .unwrap()
                .bit_eq(&small)
        );
        assert!(cache.map_trace(fd.as_fd(), layout).unwrap().bit_eq(&small));
    }
}
