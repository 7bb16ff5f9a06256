//! Traces in shared memory: writing a trace into a segment, and
//! reading one back as a [`Trace`] whose samples are the mapping itself.

use std::{
    fmt,
    os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd},
    sync::{
        Arc, Mutex, PoisonError, Weak,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use tracekit_core::{SampleBuffer, Trace, TraceMeta};

use crate::{
    sys::{self, Mapping},
    wire::{self, SegmentLayout},
};

/// Segments kept for reuse. Writing into a reused segment costs a copy;
/// writing into a fresh one also costs allocating its pages, which is several
/// times slower.
///
/// A segment comes back here only when no trace reads it any more (the last
/// [`SegmentFd`] holder, a trace's samples or a run's bookkeeping, dropped),
/// and leaves only to be written: this is the protocol that keeps every
/// trace's samples immutable while it exists. (A worker may keep a mapping
/// of a segment between requests, see
/// [`MappingCache`](crate::mapping_cache::MappingCache), but no trace of it.)
///
/// It keeps at most `capacity` segments and `max_bytes` bytes of them
/// (the buffer pool's limit,
/// [`pool_limit`](tracekit_core::buffer::pool_limit)); when a run ends the
/// executor releases all but
/// [`RUN_END_IDLE`](tracekit_core::buffer::RUN_END_IDLE) bytes
/// ([`Recycler::release_idle`]), so that one large run does not leave its
/// memory behind.
#[derive(Debug)]
pub(crate) struct Recycler {
    /// Free segments with their sizes in bytes.
    free: Mutex<Vec<(OwnedFd, u64)>>,
    capacity: usize,
    max_bytes: u64,
    /// Segments that live traces hold open for reuse, and the most they may:
    /// traces beyond it keep only their mapping (descriptors are a scarce
    /// resource).
    lent: AtomicUsize,
    max_lent: usize,
}

/// How many bytes a reused segment may hold beyond twice what it is wanted
/// for (see [`best_fit`]).
const FIT_SLACK: u64 = 64 << 10;

/// Which of free segments of `sizes` (bytes, oldest first) to write `want`
/// bytes into: the smallest that holds them without being more than twice
/// as large (plus [`FIT_SLACK`]), else the largest smaller one (it grows,
/// keeping the pages it has); the most recent of equals (its pages are the
/// likeliest to be in a cache); `None` if every one is far too large (a new
/// segment costs less memory than reusing a huge one for a small trace).
pub(crate) fn best_fit(sizes: impl IntoIterator<Item = u64>, want: u64) -> Option<usize> {
    let too_large = want.saturating_mul(2).saturating_add(FIT_SLACK);
    let mut holds: Option<(usize, u64)> = None;
    let mut smaller: Option<(usize, u64)> = None;
    for (k, size) in sizes.into_iter().enumerate() {
        if size >= want && size <= too_large {
            if holds.is_none_or(|(_, s)| size <= s) {
                holds = Some((k, size));
            }
        } else if size < want && smaller.is_none_or(|(_, s)| size >= s) {
            smaller = Some((k, size));
        }
    }
    holds.or(smaller).map(|(k, _)| k)
}

impl Recycler {
    /// A recycler that keeps at most `capacity` free segments and
    /// `max_bytes` bytes of them, and lets live traces hold at most
    /// `max_lent` segments open for reuse.
    pub(crate) fn new(capacity: usize, max_bytes: u64, max_lent: usize) -> Arc<Recycler> {
        Arc::new(Recycler {
            free: Mutex::new(Vec::new()),
            capacity,
            max_bytes,
            lent: AtomicUsize::new(0),
            max_lent,
        })
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Vec<(OwnedFd, u64)>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A free segment to write about `want` bytes into (see [`best_fit`]),
    /// if one is kept.
    pub(crate) fn take(&self, want: u64) -> Option<OwnedFd> {
        let mut free = self.free();
        let k = best_fit(free.iter().map(|(_, size)| *size), want)?;
        Some(free.remove(k).0)
    }

    /// The descriptors of the free segments (a new worker closes them).
    pub(crate) fn raw_fds(&self) -> Vec<RawFd> {
        self.free().iter().map(|(fd, _)| sys::raw(fd)).collect()
    }

    /// The bytes of the free segments kept now.
    #[cfg(test)]
    pub(crate) fn idle_bytes(&self) -> u64 {
        self.free().iter().map(|(_, size)| size).sum()
    }

    /// Closes free segments, largest first, until at most `keep` bytes of
    /// them are kept.
    pub(crate) fn release_idle(&self, keep: u64) {
        let mut free = self.free();
        let mut idle: u64 = free.iter().map(|(_, size)| size).sum();
        while idle > keep {
            let Some(largest) = (0..free.len()).max_by_key(|&k| free[k].1) else {
                break;
            };
            let (fd, size) = free.remove(largest);
            sys::discard_segment(fd);
            idle -= size;
        }
    }

    /// Keeps `fd`, which no trace reads any more, for reuse, or lets it go
    /// if the bounds are reached. A segment let go of is emptied: workers
    /// may keep mappings of it, but never use them again.
    fn give_back(&self, fd: OwnedFd) {
        let size = sys::segment_size(fd.as_fd());
        let mut free = self.free();
        let idle: u64 = free.iter().map(|(_, size)| size).sum();
        if free.len() < self.capacity && idle.saturating_add(size) <= self.max_bytes {
            free.push((fd, size));
        } else {
            drop(free);
            sys::discard_segment(fd);
        }
    }
}

/// A segment's descriptor, shared by everything that uses the segment; the
/// last holder to drop gives it back to its recycler.
#[derive(Debug)]
pub(crate) struct SegmentFd {
    /// Present until drop.
    fd: Option<OwnedFd>,
    home: Weak<Recycler>,
    /// False once a mapping that does not hold this segment exists: such a
    /// segment may never be written again, so it is closed, not given back.
    reusable: AtomicBool,
}

impl SegmentFd {
    pub(crate) fn new(fd: OwnedFd, home: &Arc<Recycler>) -> Arc<SegmentFd> {
        Arc::new(SegmentFd {
            fd: Some(fd),
            home: Arc::downgrade(home),
            reusable: AtomicBool::new(true),
        })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match &self.fd {
            Some(fd) => fd.as_fd(),
            None => unreachable!("a segment descriptor is present until drop"),
        }
    }
}

impl AsFd for SegmentFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}

impl Drop for SegmentFd {
    fn drop(&mut self) {
        if !self.reusable.load(Ordering::Acquire) {
            return;
        }
        if let (Some(fd), Some(home)) = (self.fd.take(), self.home.upgrade()) {
            home.give_back(fd);
        }
    }
}

/// A trace's hold on its segment, counted against the recycler's `max_lent`.
#[derive(Debug)]
pub(crate) struct Lent(Arc<SegmentFd>);

impl Lent {
    fn new(seg: &Arc<SegmentFd>) -> Option<Lent> {
        let home = seg.home.upgrade()?;
        home.lent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < home.max_lent).then_some(n + 1)
            })
            .ok()?;
        Some(Lent(Arc::clone(seg)))
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(home) = self.0.home.upgrade() {
            home.lent.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Samples that live in a read-only shared-memory mapping; unmapped when the
/// last trace using them drops, and only then is the segment reusable.
pub(crate) struct SharedSamples {
    // Field order matters: the mapping goes before the segment is given back.
    map: Arc<Mapping>,
    len: usize,
    _segment: Option<Lent>,
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

/// One written segment of a run: its descriptor and layout.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) fd: Arc<SegmentFd>,
    pub(crate) layout: SegmentLayout,
}

/// Writes `trace` (samples, then metadata) into segment `into`, or a new one.
pub(crate) fn write_trace(
    trace: &Trace,
    into: Option<OwnedFd>,
) -> Result<(OwnedFd, SegmentLayout), String> {
    let fd = segment_or_new(into)?;
    let meta = wire::encode_meta(trace.meta());
    let layout = pwrite_trace(fd.as_fd(), trace, &meta)?;
    Ok((fd, layout))
}

/// `into`, or a new segment.
pub(crate) fn segment_or_new(into: Option<OwnedFd>) -> Result<OwnedFd, String> {
    match into {
        Some(fd) => Ok(fd),
        None => {
            sys::new_segment().map_err(|e| format!("cannot create a shared-memory segment: {e}"))
        }
    }
}

/// Writes the samples of `trace`, then `meta` (its encoded metadata), into
/// segment `fd` with a system call.
pub(crate) fn pwrite_trace(
    fd: BorrowedFd<'_>,
    trace: &Trace,
    meta: &[u8],
) -> Result<SegmentLayout, String> {
    sys::write_segment(fd, &[sys::f64_bytes(trace.samples()), meta]).map_err(|e| {
        format!(
            "cannot write {} samples into a shared-memory segment: {e}",
            trace.len()
        )
    })?;
    Ok(layout_of(trace, meta))
}

pub(crate) fn layout_of(trace: &Trace, meta: &[u8]) -> SegmentLayout {
    SegmentLayout {
        samples: trace.len() as u64,
        meta_len: meta.len() as u64,
    }
}

/// Writes `text` into a new segment; `None` for empty text.
pub(crate) fn write_text(text: &str) -> Result<Option<OwnedFd>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let fd =
        sys::new_segment().map_err(|e| format!("cannot create a segment for a message: {e}"))?;
    sys::write_segment(fd.as_fd(), &[text.as_bytes()])
        .map_err(|e| format!("cannot write a message into a segment: {e}"))?;
    Ok(Some(fd))
}

/// Maps segment `fd` and gives the trace it holds, samples shared, not
/// copied. With `keep`, the trace holds the segment so that it is reused
/// once the trace drops.
pub(crate) fn map_trace(
    fd: BorrowedFd<'_>,
    layout: SegmentLayout,
    populate: bool,
    keep: Option<&Arc<SegmentFd>>,
) -> Result<Trace, String> {
    let total = total_bytes(layout)?;
    let map = Mapping::open(fd, total, populate)
        .map_err(|e| format!("cannot map a segment of {total} bytes: {e}"))?;
    let hold = keep.and_then(Lent::new);
    if let (Some(seg), None) = (keep, &hold) {
        // Too many segments are held by traces already: this one keeps only
        // its mapping, so its segment must never be written again.
        seg.reusable.store(false, Ordering::Release);
    }
    trace_over(Arc::new(map), layout, hold)
}

/// The bytes a segment of `layout` holds.
pub(crate) fn total_bytes(layout: SegmentLayout) -> Result<usize, String> {
    layout.total().ok_or_else(|| {
        format!(
            "a segment of {} samples does not fit in memory",
            layout.samples
        )
    })
}

/// The trace of `layout` whose samples are `map` itself, holding `hold`.
pub(crate) fn trace_over(
    map: Arc<Mapping>,
    layout: SegmentLayout,
    hold: Option<Lent>,
) -> Result<Trace, String> {
    let total = total_bytes(layout)?;
    let len = layout.samples as usize;
    if map.f64s(len).is_none() || map.len() < total {
        return Err(format!("a segment does not hold its {len} samples"));
    }
    let meta = wire::decode_meta(&map.bytes()[len * 8..total])
        .ok_or("a segment holds metadata that cannot be read")?;
    let samples = SharedSamples {
        map,
        len,
        _segment: hold,
    };
    // `from_buffer` checks the rate, but a stage may legitimately return a
    // trace whose metadata it set by hand: keep it exactly as it was.
    let mut trace =
        Trace::from_buffer(Arc::new(samples), TraceMeta::default()).map_err(|e| e.to_string())?;
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
    use super::*;

    #[test]
    fn a_trace_round_trips_through_a_segment() {
        let mut t = Trace::new(vec![1.0, f64::NAN, -0.0, 3.5], 48e3)
            .unwrap()
            .with_measurement("rms", 0.25);
        t.meta_mut().channel = "CH2".into();
        let (fd, layout) = write_trace(&t, None).unwrap();
        let back = map_trace(fd.as_fd(), layout, true, None).unwrap();
        drop(fd);
        assert!(back.bit_eq(&t));
    }

    #[test]
    fn an_empty_trace_round_trips() {
        let t = Trace::new(vec![], 1.0).unwrap();
        let (fd, layout) = write_trace(&t, None).unwrap();
        assert!(
            map_trace(fd.as_fd(), layout, false, None)
                .unwrap()
                .bit_eq(&t)
        );
    }

    #[test]
    fn a_wrong_layout_is_an_error() {
        let t = Trace::new(vec![1.0; 4], 1.0).unwrap();
        let (fd, layout) = write_trace(&t, None).unwrap();
        let too_long = SegmentLayout {
            samples: 1 << 20,
            ..layout
        };
        assert!(map_trace(fd.as_fd(), too_long, false, None).is_err());
        let shifted = SegmentLayout {
            samples: 3,
            meta_len: layout.meta_len + 8,
        };
        assert!(map_trace(fd.as_fd(), shifted, false, None).is_err());
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

    #[test]
    fn segments_come_back_when_the_last_holder_drops() {
        let recycler = Recycler::new(2, u64::MAX, 64);
        let big = Trace::new(vec![2.0; 1000], 1.0).unwrap();
        let (fd, layout) = write_trace(&big, None).unwrap();
        let seg = SegmentFd::new(fd, &recycler);
        let trace = map_trace(seg.fd(), layout, false, Some(&seg)).unwrap();
        drop(seg);
        assert!(recycler.take(8000).is_none(), "the trace still maps it");
        drop(trace);
        let reused = recycler.take(80).expect("given back");
        // A smaller trace written over a bigger one reads back exactly.
        let small = Trace::new(vec![3.0; 10], 2.0).unwrap();
        let (fd, layout) = write_trace(&small, Some(reused)).unwrap();
        assert!(
            map_trace(fd.as_fd(), layout, false, None)
                .unwrap()
                .bit_eq(&small)
        );
    }

    #[test]
    fn the_recycler_keeps_at_most_its_capacity() {
        let recycler = Recycler::new(1, u64::MAX, 64);
        for _ in 0..3 {
            drop(SegmentFd::new(sys::new_segment().unwrap(), &recycler));
        }
        assert_eq!(recycler.raw_fds().len(), 1);
    }

    #[test]
    fn a_segment_mapped_without_a_hold_is_never_reused() {
        const MAX_LENT: usize = 64;
        let recycler = Recycler::new(MAX_LENT + 8, u64::MAX, MAX_LENT);
        let t = Trace::new(vec![1.0; 16], 1.0).unwrap();
        let traces: Vec<Trace> = (0..MAX_LENT + 2)
            .map(|_| {
                let (fd, layout) = write_trace(&t, None).unwrap();
                let seg = SegmentFd::new(fd, &recycler);
                map_trace(seg.fd(), layout, false, Some(&seg)).unwrap()
            })
            .collect();
        // The two beyond the limit went away with their last holder.
        assert!(recycler.raw_fds().is_empty());
        drop(traces);
        assert_eq!(recycler.raw_fds().len(), MAX_LENT);
    }

    #[test]
    fn the_segment_that_fits_goes_first() {
        let recycler = Recycler::new(8, u64::MAX, 64);
        let mut meta = 0;
        for n in [10, 100_000, 1000, 300_000] {
            let (fd, layout) = write_trace(&Trace::new(vec![0.0; n], 1.0).unwrap(), None).unwrap();
            meta = layout.meta_len;
            drop(SegmentFd::new(fd, &recycler));
        }
        let samples = |fd: OwnedFd| (sys::segment_size(fd.as_fd()) - meta) / 8;
        // The smallest that holds it.
        assert_eq!(recycler.take(8 * 2).map(samples), Some(10));
        assert_eq!(recycler.take(8 * 900).map(samples), Some(1000));
        // None holds it: the largest smaller one, to grow.
        assert_eq!(recycler.take(8 * 1_000_000).map(samples), Some(300_000));
        // Only one far too large is left.
        assert!(recycler.take(8 * 10).is_none());
        assert_eq!(recycler.raw_fds().len(), 1);
    }

    #[test]
    fn idle_segments_are_bounded_in_bytes_and_released() {
        let t = Trace::new(vec![0.0; 1000], 1.0).unwrap();
        let one = write_trace(&t, None).unwrap().1.total().unwrap() as u64;
        let recycler = Recycler::new(16, 3 * one, 64);
        for _ in 0..5 {
            drop(SegmentFd::new(write_trace(&t, None).unwrap().0, &recycler));
        }
        assert_eq!(recycler.raw_fds().len(), 3, "the byte bound holds");
        assert_eq!(recycler.idle_bytes(), 3 * one);
        recycler.release_idle(one);
        assert_eq!(recycler.idle_bytes(), one);
        recycler.release_idle(0);
        assert_eq!(recycler.idle_bytes(), 0);
    }

    #[test]
    fn segments_let_go_of_are_emptied() {
        // A worker's kept mapping would keep a segment's pages alive: the
        // recycler frees them when it lets the segment go.
        let t = Trace::new(vec![1.0; 1000], 1.0).unwrap();
        let size = |fd: &OwnedFd| sys::segment_size(fd.as_fd());
        let recycler = Recycler::new(1, u64::MAX, 64);
        let (kept, _) = write_trace(&t, None).unwrap();
        let (over, _) = write_trace(&t, None).unwrap();
        let (kept_copy, over_copy) = (kept.try_clone().unwrap(), over.try_clone().unwrap());
        drop(SegmentFd::new(kept, &recycler));
        drop(SegmentFd::new(over, &recycler));
        assert_eq!(size(&over_copy), 0, "beyond the bound");
        assert!(size(&kept_copy) > 0);
        recycler.release_idle(0);
        assert_eq!(size(&kept_copy), 0, "released");
    }
}
