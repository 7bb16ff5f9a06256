//! A worker's output memory: the buffers that stages take for their outputs
//! ([`SampleVec::with_capacity`](tracekit_core::buffer::SampleVec::with_capacity)
//! and the constructors built on it) live in shared segments, so that a
//! stage's output goes back to the parent as it is, without a copy.
//!
//! Right after the fork, a worker installs [`Outputs`] as the process's
//! [`OutputMemory`]. A buffer it hands out is a writable mapping of a
//! segment: one the parent sent with the request for this purpose (its
//! mapping kept from earlier requests, so no page faults), else a new one.
//! When the stage's result is such a buffer, the worker writes the metadata
//! after the samples and replies with the segment itself
//! ([`Outputs::send_in_place`]); otherwise (a stage that returns a `Vec`)
//! the output is copied into a segment, as before.
//!
//! The protocol that keeps every trace's samples immutable holds: a buffer
//! is written only while it is a stage's `SampleVec`, before any trace
//! holds it; once its segment is sent, this worker never writes it again,
//! and a segment the parent hands back for writing is used only if no trace
//! of this worker still reads it.
//!
//! Locks: the state lives in memory this worker created after the fork, so
//! no thread of the parent can hold its lock; a process forked from a
//! worker (a stage running a process executor of its own) inherits it
//! and must not use it, so every use checks the process id first.

use std::{
    any::Any,
    fmt,
    os::fd::{AsFd, OwnedFd},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use tracekit_core::{
    Trace,
    buffer::{self, ExternalMemory, OutputMemory},
};

use crate::{
    mapping_cache::{Kept, MappingCache},
    segment::best_fit,
    sys::{self, Mapping, SegmentId},
    wire::{self, SegmentLayout},
};

/// Output buffers are rounded up to a multiple of this many bytes (a page
/// on most machines).
const ROUND: usize = 4096;

/// Bytes of stage outputs this process copied into segments.
static COPIED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Segments this process created for output buffers.
static FRESH_SEGMENTS: AtomicU64 = AtomicU64::new(0);

/// Bytes of stage outputs this process copied into segments (the outputs of
/// stages that do not build them in [`Outputs`]' memory).
#[cfg(test)]
pub(crate) fn copied_bytes() -> u64 {
    COPIED_BYTES.load(Ordering::Relaxed)
}

/// Segments this process created for output buffers (a steady stream of
/// runs reuses the parent's instead).
#[cfg(test)]
pub(crate) fn fresh_segments() -> u64 {
    FRESH_SEGMENTS.load(Ordering::Relaxed)
}

/// Counts `bytes` of an output copied into a segment.
pub(crate) fn count_copied(bytes: usize) {
    COPIED_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// The output memory of one worker process, shared by the allocation hook
/// and the worker's loop.
#[derive(Debug)]
pub(crate) struct Outputs {
    /// The process it serves.
    pid: u32,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Segments free to write: those the parent sent with the request, and
    /// those of buffers dropped without being sent.
    free: Vec<Free>,
    /// Writable mappings of sent segments whose buffers dropped, for the
    /// mapping cache (the parent may hand the segment back).
    returned: Vec<(SegmentId, Mapping)>,
    /// Sent segments whose buffers still live in this process: handed back,
    /// they must not be written.
    live: Vec<SegmentId>,
}

/// A segment free to write, with its kept mapping if it has one.
#[derive(Debug)]
struct Free {
    fd: OwnedFd,
    id: SegmentId,
    size: u64,
    map: Option<Mapping>,
}

/// The allocation hook installed in the worker process.
struct Hook(Arc<Outputs>);

impl OutputMemory for Hook {
    fn allocate(&self, capacity: usize) -> Option<Box<dyn ExternalMemory>> {
        self.0.allocate(capacity)
    }
}

impl Outputs {
    /// The output memory of this process, installed as its
    /// [`OutputMemory`] if none is installed yet. Call right after the fork.
    pub(crate) fn install() -> Arc<Outputs> {
        let outputs = Arc::new(Outputs {
            pid: std::process::id(),
            state: Mutex::new(State::default()),
        });
        // A worker forked from a worker has its parent's hook, which hands
        // nothing out there (see `state`): its outputs are copied.
        let _ = buffer::set_output_memory(Box::new(Hook(Arc::clone(&outputs))));
        outputs
    }

    /// The state, unless this is not the process it was made in.
    fn state(&self) -> Option<MutexGuard<'_, State>> {
        if std::process::id() != self.pid {
            return None;
        }
        // Every update is a push, a pop or a swap: a panic elsewhere cannot
        // leave the state half-changed.
        Some(self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes the segments the parent sent with a request for the outputs:
    /// their kept mappings come out of `maps`. A segment that a trace of
    /// this process still reads is closed instead.
    pub(crate) fn receive(&self, fds: Vec<OwnedFd>, maps: &mut MappingCache) {
        self.keep_returned(maps);
        let Some(live) = self.state().map(|s| s.live.clone()) else {
            return;
        };
        let mut free = Vec::with_capacity(fds.len());
        for fd in fds {
            let Ok((id, size)) = sys::segment_identity(fd.as_fd()) else {
                continue;
            };
            if live.contains(&id) {
                continue;
            }
            let map = match maps.take(id) {
                Kept::Busy => continue,
                Kept::Mapped(map) => Some(map),
                Kept::Unmapped => None,
            };
            free.push(Free { fd, id, size, map });
        }
        if let Some(mut s) = self.state() {
            s.free.append(&mut free);
        }
    }

    /// Ends a request: closes the free segments left (the parent let go of
    /// them; nothing else has them) and hands the mappings of sent segments
    /// to `maps`.
    pub(crate) fn end_request(&self, maps: &mut MappingCache) {
        let free = self.state().map(|mut s| std::mem::take(&mut s.free));
        drop(free);
        self.keep_returned(maps);
    }

    /// Moves the mappings of sent segments whose buffers dropped into `maps`.
    fn keep_returned(&self, maps: &mut MappingCache) {
        let returned = self
            .state()
            .map(|mut s| std::mem::take(&mut s.returned))
            .unwrap_or_default();
        for (id, map) in returned {
            maps.insert(id, map);
        }
    }

    /// A free segment to copy an output of `want` bytes into, if one fits.
    pub(crate) fn take_free(&self, want: u64, maps: &mut MappingCache) -> Option<OwnedFd> {
        let free = {
            let mut s = self.state()?;
            let k = best_fit(s.free.iter().map(|f| f.size), want)?;
            s.free.remove(k)
        };
        if let Some(map) = free.map {
            // Written through the cache: its pages are in place.
            maps.insert(free.id, map);
        }
        Some(free.fd)
    }

    /// Memory for at least `capacity` samples in a segment: a free one that
    /// fits, else a new one; `None` (the heap serves) if none can be had.
    fn allocate(self: &Arc<Self>, capacity: usize) -> Option<Box<dyn ExternalMemory>> {
        let want = capacity
            .checked_mul(size_of::<f64>())?
            .checked_next_multiple_of(ROUND)?;
        let reused = {
            let mut s = self.state()?;
            best_fit(s.free.iter().map(|f| f.size), want as u64).map(|k| s.free.remove(k))
        };
        let (fd, id, map) = match reused.and_then(|free| reuse(free, want)) {
            Some(reused) => reused,
            None => fresh(want)?,
        };
        Some(Box::new(SharedOutput {
            map: Some(map),
            id,
            fd: Mutex::new(Some(fd)),
            home: Arc::clone(self),
        }))
    }

    /// The segment of `out`, if its samples are one of this worker's
    /// buffers not sent yet: the metadata is written after the samples, and
    /// the segment is marked sent (this process never writes it again).
    /// `None` if the output must be copied.
    pub(crate) fn send_in_place(&self, out: &Trace) -> Option<(OwnedFd, SegmentLayout)> {
        let shared = out
            .buffer()
            .external()?
            .as_any()
            .downcast_ref::<SharedOutput>()?;
        if !std::ptr::eq(Arc::as_ptr(&shared.home), self) {
            return None;
        }
        // Another trace of this process holding the buffer (a stage that
        // keeps its output) could outlive every trace of the parent, which
        // then hands the segment out again: copy such an output instead.
        if Arc::strong_count(out.buffer()) > 1 {
            return None;
        }
        let mut live = self.state()?;
        let samples = out.samples();
        let memory = shared.memory();
        if samples.as_ptr() != memory.as_ptr() || samples.len() > memory.len() {
            return None;
        }
        let mut slot = shared.fd.lock().unwrap_or_else(PoisonError::into_inner);
        let fd = slot.as_ref()?;
        let meta = wire::encode_meta(out.meta());
        sys::write_segment_at(fd.as_fd(), size_of_val(samples), &[&meta]).ok()?;
        let fd = slot.take()?;
        live.live.push(shared.id);
        Some((
            fd,
            SegmentLayout {
                samples: samples.len() as u64,
                meta_len: meta.len() as u64,
            },
        ))
    }
}

/// `free`, grown to `want` bytes if smaller, with a writable mapping of all
/// of it; `None` (it is closed) if it cannot be had.
fn reuse(free: Free, want: usize) -> Option<(OwnedFd, SegmentId, Mapping)> {
    let Free { fd, id, size, map } = free;
    let size = usize::try_from(size).ok()?;
    let map = match map {
        Some(map) if map.len() >= want => map,
        _ => {
            let size = size.max(want);
            sys::grow_segment(fd.as_fd(), size as u64).ok()?;
            Mapping::open_writable(fd.as_fd(), size).ok()?
        }
    };
    Some((fd, id, map))
}

/// A new segment of `want` bytes, mapped writable.
fn fresh(want: usize) -> Option<(OwnedFd, SegmentId, Mapping)> {
    let fd = sys::new_segment().ok()?;
    sys::grow_segment(fd.as_fd(), want as u64).ok()?;
    let (id, _) = sys::segment_identity(fd.as_fd()).ok()?;
    let map = Mapping::open_writable(fd.as_fd(), want).ok()?;
    FRESH_SEGMENTS.fetch_add(1, Ordering::Relaxed);
    Some((fd, id, map))
}

/// A stage's output buffer in a segment (see the [module documentation](self)).
pub(crate) struct SharedOutput {
    /// Present until drop.
    map: Option<Mapping>,
    id: SegmentId,
    /// The segment's descriptor until it is sent to the parent.
    fd: Mutex<Option<OwnedFd>>,
    home: Arc<Outputs>,
}

impl fmt::Debug for SharedOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedOutput")
            .field("bytes", &self.map.as_ref().map_or(0, Mapping::len))
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ExternalMemory for SharedOutput {
    fn memory(&self) -> &[f64] {
        self.map
            .as_ref()
            .and_then(|m| m.f64s(m.len() / size_of::<f64>()))
            .unwrap_or(&[])
    }

    fn memory_mut(&mut self) -> &mut [f64] {
        self.map
            .as_mut()
            .and_then(Mapping::f64s_mut)
            .unwrap_or_default()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for SharedOutput {
    fn drop(&mut self) {
        let fd = self
            .fd
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let (Some(map), Some(mut s)) = (self.map.take(), self.home.state()) else {
            return;
        };
        let id = self.id;
        match fd {
            // Never sent: free to write again.
            Some(fd) => {
                let size = sys::segment_size(fd.as_fd());
                s.free.push(Free {
                    fd,
                    id,
                    size,
                    map: Some(map),
                });
            }
            None => {
                if let Some(k) = s.live.iter().position(|i| *i == id) {
                    s.live.swap_remove(k);
                }
                s.returned.push((id, map));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::atomic::AtomicBool, time::Duration};

    use tracekit_core::{
        INPUT, Pipeline, SequentialExecutor, StageError, Step, Transformer,
        buffer::{RUN_END_IDLE, SampleVec},
    };
    use tracekit_testkit::{Identity, Scale, signal};

    use super::*;
    use crate::ProcessExecutor;

    /// Its input times `k`, built in an output buffer.
    #[derive(Clone)]
    struct Pooled(f64);

    impl Transformer for Pooled {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            let out = SampleVec::from_exact_iter(i[0].samples().iter().map(|x| x * self.0))?;
            Ok(i[0].derive_samples(out))
        }
    }

    /// Its input, in an output buffer, measured: `copied`, the bytes of
    /// outputs its process copied so far; `fresh`, the segments it created
    /// for outputs so far (its own output's included); `shared`, 1 if its
    /// output buffer is in shared memory.
    #[derive(Clone)]
    struct Report;

    impl Transformer for Report {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            let out = SampleVec::from_slice(i[0].samples())?;
            let shared = out
                .external()
                .is_some_and(|m| m.as_any().is::<SharedOutput>());
            Ok(i[0]
                .derive_samples(out)
                .with_measurement("copied", copied_bytes() as f64)
                .with_measurement("fresh", fresh_segments() as f64)
                .with_measurement("shared", f64::from(u8::from(shared))))
        }
    }

    /// Builds an output, then fails (or panics) when the input starts below zero.
    #[derive(Clone)]
    struct FailsLate {
        panics: bool,
    }

    impl Transformer for FailsLate {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            let out = SampleVec::from_slice(i[0].samples())?;
            if i[0].samples().first().is_some_and(|&x| x < 0.0) {
                if self.panics {
                    panic!("late panic");
                }
                return Err("late failure".into());
            }
            Ok(i[0].derive_samples(out))
        }
    }

    /// Keeps its last output and checks, on the next call, that its samples
    /// have not changed: its worker must not reuse that segment.
    #[derive(Default)]
    struct Keeps(Mutex<Option<(Trace, Vec<f64>)>>);

    impl Clone for Keeps {
        fn clone(&self) -> Keeps {
            Keeps::default()
        }
    }

    impl Transformer for Keeps {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            let mut last = self.0.lock().unwrap();
            if let Some((trace, copy)) = last.as_ref()
                && trace.samples() != copy.as_slice()
            {
                return Err("a kept output changed".into());
            }
            let out = SampleVec::from_exact_iter(i[0].samples().iter().map(|x| x + 1.0))?;
            let out = i[0].derive_samples(out);
            *last = Some((out.clone(), out.samples().to_vec()));
            Ok(out)
        }
    }

    fn same_samples(got: &Trace, want: &Trace) {
        assert!(got.bit_eq(want) || got.samples().len() == want.samples().len());
        let bits = |t: &Trace| t.samples().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(got), bits(want));
    }

    #[test]
    fn outputs_built_in_buffers_travel_without_a_copy() {
        let _turn = crate::forks();
        let p = Pipeline::new([
            Step::new("a", Pooled(2.0)),
            Step::new("b", Pooled(-0.5)),
            Step::new("report", Report),
        ])
        .unwrap();
        let executor = ProcessExecutor::new(1).unwrap();
        let x = signal(10_000);
        let want = p.run_on(&SequentialExecutor, &x).unwrap();
        let mut fresh = None;
        for round in 0..5 {
            let run = p.run_on(&executor, &x).unwrap();
            for name in ["a", "b", "report"] {
                same_samples(run.get(name).unwrap(), want.get(name).unwrap());
            }
            let out = run.output();
            assert_eq!(out.measurement("shared"), Some(1.0), "round {round}");
            assert_eq!(out.measurement("copied"), Some(0.0), "round {round}");
            // The first run creates a segment per output; later ones reuse
            // the parent's.
            let now = out.measurement("fresh");
            assert_eq!(now, *fresh.get_or_insert(now), "round {round}");
        }
        assert_eq!(fresh, Some(Some(3.0)));
    }

    #[test]
    fn outputs_not_in_a_worker_buffer_are_copied() {
        let _turn = crate::forks();
        // `scale` returns a `Vec`; `id` returns the buffer `a` sent already.
        let p = Pipeline::new([
            Step::new("scale", Scale(2.0)),
            Step::new("a", Pooled(3.0)),
            Step::new("id", Identity),
            Step::new("report", Report),
        ])
        .unwrap();
        let executor = ProcessExecutor::new(1).unwrap();
        let x = signal(10_000);
        let want = p.run_on(&SequentialExecutor, &x).unwrap();
        for round in 1..=3 {
            let run = p.run_on(&executor, &x).unwrap();
            same_samples(run.output(), want.output());
            assert!(run.get("id").unwrap().bit_eq(want.get("id").unwrap()));
            let copied = (2 * round * 10_000 * 8) as f64;
            assert_eq!(run.output().measurement("copied"), Some(copied));
        }
    }

    #[test]
    fn a_stage_that_fails_after_allocating_leaks_no_descriptor() {
        let _turn = crate::forks();
        let list = |pid: i32| {
            let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .unwrap()
                .flatten()
                .map(|e| format!("{:?} {:?}", e.file_name(), std::fs::read_link(e.path())))
                .collect();
            v.sort();
            v
        };
        // The worker tidies up after its last reply: wait for it (until its
        // descriptors are `want`, or stay the same a while).
        let fds = |pid: i32, want: Option<&[String]>| {
            let mut last = list(pid);
            for _ in 0..1000 {
                std::thread::sleep(Duration::from_millis(10));
                let now = list(pid);
                if want.map_or(now == last, |w| now == w) {
                    return now;
                }
                last = now;
            }
            last
        };
        for panics in [false, true] {
            let p = Pipeline::new([
                Step::new("a", Pooled(1.0)),
                Step::new("late", FailsLate { panics }),
                Step::new("b", Pooled(2.0)),
            ])
            .unwrap();
            let executor = ProcessExecutor::new(1).unwrap();
            let good = signal(5000);
            let bad = Trace::new(vec![-1.0; 5000], 1e3).unwrap();
            p.run_on(&executor, &good).unwrap();
            let pid = executor.worker_pids()[0];
            let open = fds(pid, None);
            for round in 0..10 {
                let err = p.run_on(&executor, &bad).unwrap_err();
                assert_eq!(err.step(), Some("late"), "{err}");
                let run = p.run_on(&executor, &good).unwrap();
                same_samples(
                    run.output(),
                    &p.run_on(&SequentialExecutor, &good)
                        .unwrap()
                        .output()
                        .clone(),
                );
                assert_eq!(executor.worker_pids(), [pid], "round {round}");
                assert_eq!(
                    fds(pid, Some(&open)),
                    open,
                    "descriptors of the worker, round {round}"
                );
            }
        }
    }

    #[test]
    fn a_segment_a_worker_still_reads_is_not_written() {
        let _turn = crate::forks();
        let p = Pipeline::new([Step::new("keeps", Keeps::default()).input(INPUT)]).unwrap();
        let executor = ProcessExecutor::new(1).unwrap();
        for n in [4000, 4000, 4000, 3000, 4000] {
            let x = signal(n);
            let run = p.run_on(&executor, &x).unwrap();
            same_samples(
                run.output(),
                p.run_on(&SequentialExecutor, &x).unwrap().output(),
            );
        }
    }

    #[test]
    fn output_memory_works_after_refork_while_a_parent_thread_uses_the_pool() {
        let _turn = crate::forks();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            // Another thread takes and gives back pool buffers all along:
            // workers are forked while it may hold the pool's locks.
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    drop(SampleVec::with_capacity(20_000));
                    drop(SampleVec::scratch(700));
                }
            });
            let mut p = Pipeline::new([
                Step::new("scale", Scale(1.0)).input(INPUT),
                Step::new("a", Pooled(2.0)).input("scale"),
                Step::new("b", Pooled(3.0)).input(INPUT),
                Step::new("report", Report).input("a"),
            ])
            .unwrap();
            // A worker that blocked on a lock would run past the limit.
            let executor = ProcessExecutor::new(2)
                .unwrap()
                .with_timeout(Duration::from_secs(30));
            let x = signal(20_000);
            let mut pids = Vec::new();
            for k in 0..8 {
                // Each change of the stages forks the workers again.
                p.set_params([("scale__factor", 1.0 + f64::from(k))])
                    .unwrap();
                let run = p.run_on(&executor, &x).unwrap();
                let want = p.run_on(&SequentialExecutor, &x).unwrap();
                for name in ["scale", "a", "b", "report"] {
                    same_samples(run.get(name).unwrap(), want.get(name).unwrap());
                }
                assert_eq!(run.output().measurement("shared"), Some(1.0));
                pids.extend(executor.worker_pids());
            }
            stop.store(true, Ordering::Relaxed);
            pids.sort_unstable();
            pids.dedup();
            assert!(pids.len() >= 8, "re-forked: {pids:?}");
        });
    }

    #[test]
    fn idle_shared_memory_is_bounded_after_a_large_run_then_small_ones() {
        let _turn = crate::forks();
        let large = Trace::new(vec![0.5; 1 << 22], 1e3).unwrap();
        let small = signal(1000);
        let p = Pipeline::new(
            (0..9).map(|k| Step::new(format!("s{k}"), Pooled(1.0 + f64::from(k))).input(INPUT)),
        )
        .unwrap();
        let executor = ProcessExecutor::new(2).unwrap();
        drop(p.run_on(&executor, &large).unwrap());
        // Nine outputs of 32 MiB came back.
        let idle = executor.idle_shared_bytes();
        assert!(idle >= 9 << 25, "{idle}");
        for round in 0..2 {
            let run = p.run_on(&executor, &small).unwrap();
            same_samples(
                run.output(),
                p.run_on(&SequentialExecutor, &small).unwrap().output(),
            );
            drop(run);
            let idle = executor.idle_shared_bytes();
            assert!(
                idle <= RUN_END_IDLE as u64,
                "round {round}: {idle} bytes idle"
            );
        }
    }
}
