//! The one hand-out mechanism that shares work among the ranks.
//!
//! Rank 0 holds a list of tasks (indices `0..count`) and hands them out one
//! at a time, in index order, to whichever rank asks: the other ranks, and a
//! compute thread of its own. Only rank 0's main thread calls MPI (the
//! library is initialised `MPI_THREAD_FUNNELED`); it waits on its compute
//! thread's channel with a timeout between nonblocking probes, so it neither
//! spins nor delays its own thread. The other ranks compute on their main
//! thread and wait for rank 0 with nonblocking probes and short sleeps.
//!
//! The protocol, per batch: rank 0 sends BEGIN (its fingerprint) to every
//! rank; each answers READY (whether its own fingerprint matches). If one
//! differs, rank 0 sends END with the reason to the others and the batch is
//! an error everywhere. Otherwise rank 0 sends each rank a TASK (index and
//! payload); a rank answers with RESULT (index and output bytes), and gets
//! the next TASK, or END when there is none. SHUTDOWN, when rank 0's
//! [`Cluster`] is dropped, ends [`Cluster::serve`] on the other ranks.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
};

use mpi::Tag;
use tracekit_core::panic_message;

use crate::{
    Cluster, Error, Fingerprint,
    poll::Backoff,
    wire::{Reader, Writer},
};

const TAG_BEGIN: Tag = 1;
const TAG_READY: Tag = 2;
const TAG_TASK: Tag = 3;
const TAG_RESULT: Tag = 4;
const TAG_END: Tag = 5;
pub(crate) const TAG_SHUTDOWN: Tag = 6;

/// Work that rank 0 hands out: task `index` for `index` in `0..count`.
///
/// Rank 0 runs some tasks itself ([`Job::run`]) and sends the others, with
/// [`Job::payload`], to ranks that run them in [`Cluster::serve`]; their
/// answers come back to [`Job::receive`]. Both paths must give the same
/// output for the same index.
pub trait Job: Sync {
    /// What one task gives, on rank 0.
    type Output: Send;

    /// The bytes that travel with task `index` to another rank (empty when
    /// every rank can find the task's input itself, as files on a shared file
    /// system).
    fn payload(&self, index: usize) -> Vec<u8>;

    /// Runs task `index` on rank 0's compute thread.
    fn run(&self, index: usize) -> Self::Output;

    /// Decodes the answer of another rank to task `index`.
    fn receive(&self, index: usize, bytes: &[u8]) -> Result<Self::Output, Error>;

    /// How many tasks another rank may hold at once. With 1 (the default)
    /// a task goes only to a rank that is free, so once a result says
    /// [`Flow::Stop`] no later task starts anywhere. With 2 a rank gets its
    /// next task while it works on one, which hides the round trip to rank 0
    /// when tasks are short, but a task already queued still runs after a
    /// stop.
    fn queue(&self) -> usize {
        1
    }
}

/// Whether rank 0 goes on handing out tasks after a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Hand out the next tasks.
    Continue,
    /// Hand out nothing more; the tasks already handed out still finish
    /// (they all have lower indices than any task not yet handed out).
    Stop,
}

/// What [`Cluster::serve_next_with`] served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// One batch of rank 0's.
    Batch,
    /// Nothing: rank 0's cluster was dropped, there will be no more batches.
    Shutdown,
}

impl Cluster {
    /// Rank 0: hands out tasks `0..count` of `job`, one at a time to
    /// whichever rank (or rank 0's own compute thread) is free, and gives
    /// back each task's output by index. `on_result` sees each output as it
    /// arrives, with the rank that made it; when it says [`Flow::Stop`], no
    /// further task is handed out, and those never handed out stay `None`.
    ///
    /// `fingerprint` is compared with every other rank's (given to
    /// [`Cluster::serve_with`]) before any task starts: a difference is
    /// [`Error::FingerprintMismatch`] here and an error on every rank.
    ///
    /// A panic in [`Job::run`], or in another rank's `work`, is caught and
    /// ends the batch as [`Error::Panicked`] once the tasks handed out are
    /// back; `on_result`, [`Job::payload`] and [`Job::receive`] run on the
    /// calling thread.
    pub fn hand_out<J: Job>(
        &self,
        fingerprint: Fingerprint,
        count: usize,
        job: &J,
        mut on_result: impl FnMut(usize, usize, &J::Output) -> Flow,
    ) -> Result<Vec<Option<J::Output>>, Error> {
        if !self.is_root() {
            return Err(Error::NotRoot {
                what: "handing out a batch",
                rank: self.rank(),
            });
        }
        self.begin(fingerprint)?;
        let tasks = Tasks {
            next: AtomicUsize::new(0),
            count,
            stop: AtomicBool::new(false),
        };
        let mut state = Dispatch {
            tasks: &tasks,
            error: None,
            outstanding: 0,
            held: vec![0; self.size()],
            results: (0..count).map(|_| None).collect(),
        };
        for rank in 1..self.size() {
            self.give(rank, &mut state, job);
        }
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::channel::<(usize, Result<J::Output, String>)>();
            // Rank 0's compute thread takes its tasks from the same counter
            // as the other ranks, without a round trip through this thread.
            let tasks = &tasks;
            scope.spawn(move || {
                while let Some(index) = tasks.take() {
                    let out = catch_unwind(AssertUnwindSafe(|| job.run(index)))
                        .map_err(|p| panic_message(&*p));
                    if done_tx.send((index, out)).is_err() {
                        break;
                    }
                }
            });
            let mut local_running = true;
            let mut backoff = Backoff::new();
            while local_running || state.outstanding > 0 {
                let mut progressed = false;
                if local_running {
                    let wait = backoff.next_wait();
                    let done = if wait.is_zero() {
                        done_rx
                            .try_recv()
                            .map_err(|e| e == mpsc::TryRecvError::Disconnected)
                    } else {
                        done_rx
                            .recv_timeout(wait)
                            .map_err(|e| e == mpsc::RecvTimeoutError::Disconnected)
                    };
                    match done {
                        Ok((index, out)) => {
                            progressed = true;
                            match out {
                                Ok(out) => state.record(index, 0, out, &mut on_result),
                                Err(message) => state.fail(Error::Panicked {
                                    index,
                                    rank: 0,
                                    message,
                                }),
                            }
                        }
                        Err(disconnected) => local_running = !disconnected,
                    }
                }
                while let Some((rank, tag, bytes)) = self.try_receive() {
                    progressed = true;
                    self.on_message(rank, tag, &bytes, &mut state, job, &mut on_result);
                }
                if progressed {
                    backoff.reset();
                } else if !local_running {
                    backoff.pause();
                }
            }
        });
        match state.error {
            Some(e) => Err(e),
            None => Ok(state.results),
        }
    }

    /// Sends BEGIN, collects READY from every other rank, and ends the batch
    /// on every rank if a fingerprint differs.
    fn begin(&self, fingerprint: Fingerprint) -> Result<(), Error> {
        let mut begin = Writer::default();
        begin.u64(fingerprint.0);
        for rank in 1..self.size() {
            self.send(rank, TAG_BEGIN, &begin.0);
        }
        let mut mismatch: Option<Error> = None;
        let mut matched = Vec::new();
        let mut error = None;
        for _ in 1..self.size() {
            let (rank, tag, bytes) = self.receive();
            if tag != TAG_READY {
                error.get_or_insert(Error::Protocol(format!(
                    "rank {rank} sent tag {tag} where READY was expected"
                )));
                continue;
            }
            let mut r = Reader::new(&bytes);
            match r.u64() {
                Ok(theirs) if theirs == fingerprint.0 => matched.push(rank),
                Ok(theirs) => {
                    let e = Error::FingerprintMismatch {
                        rank,
                        root: fingerprint,
                        this: Fingerprint(theirs),
                    };
                    match &mismatch {
                        Some(Error::FingerprintMismatch { rank: r0, .. }) if *r0 < rank => {}
                        _ => mismatch = Some(e),
                    }
                }
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = mismatch.or(error) {
            let mut end = Writer::default();
            end.u8(1);
            end.text(&e.to_string());
            for rank in matched {
                self.send(rank, TAG_END, &end.0);
            }
            return Err(e);
        }
        Ok(())
    }

    /// Gives `rank` the next task, or ends its batch.
    /// Gives `rank` tasks until it holds [`Job::queue`] of them, or ends
    /// its batch once it holds none and none is left.
    fn give<J: Job>(&self, rank: usize, state: &mut Dispatch<'_, J::Output>, job: &J) {
        while state.held[rank] < job.queue().max(1) {
            let Some(index) = state.take() else { break };
            let mut task = Writer::default();
            task.u64(index as u64);
            task.0.extend_from_slice(&job.payload(index));
            self.send(rank, TAG_TASK, &task.0);
            state.held[rank] += 1;
            state.outstanding += 1;
        }
        if state.held[rank] == 0 {
            let mut end = Writer::default();
            end.u8(0);
            self.send(rank, TAG_END, &end.0);
        }
    }

    fn on_message<J: Job>(
        &self,
        rank: usize,
        tag: Tag,
        bytes: &[u8],
        state: &mut Dispatch<'_, J::Output>,
        job: &J,
        on_result: &mut impl FnMut(usize, usize, &J::Output) -> Flow,
    ) {
        if tag != TAG_RESULT {
            state.fail(Error::Protocol(format!(
                "rank {rank} sent tag {tag} where a RESULT was expected"
            )));
            return;
        }
        state.outstanding = state.outstanding.saturating_sub(1);
        state.held[rank] = state.held[rank].saturating_sub(1);
        let mut r = Reader::new(bytes);
        let parsed = (|| -> Result<(usize, u8), Error> {
            let index = r.u64()? as usize;
            let status = r.u8()?;
            Ok((index, status))
        })();
        match parsed {
            Ok((index, _)) if index >= state.results.len() => state.fail(Error::Protocol(format!(
                "rank {rank} answered task {index} of {}",
                state.results.len()
            ))),
            Ok((index, 0)) => match job.receive(index, r.rest()) {
                Ok(out) => state.record(index, rank, out, on_result),
                Err(e) => state.fail(e),
            },
            Ok((index, _)) => {
                let message = Reader::new(r.rest()).text().unwrap_or_default();
                state.fail(Error::Panicked {
                    index,
                    rank,
                    message,
                });
            }
            Err(e) => state.fail(e),
        }
        self.give(rank, state, job);
    }

    /// Every rank but 0: runs the tasks rank 0 hands out with `work`, batch
    /// after batch, until rank 0's cluster is dropped.
    ///
    /// `work(index, payload)` gives the bytes that go back to rank 0's
    /// [`Job::receive`]. A batch whose `fingerprint` differs from rank 0's is
    /// [`Error::FingerprintMismatch`] on this rank; a batch that rank 0
    /// abandoned is [`Error::Aborted`]; either returns at once. On rank 0 this
    /// returns `Ok` at once.
    pub fn serve_with(
        &self,
        fingerprint: Fingerprint,
        mut work: impl FnMut(usize, &[u8]) -> Vec<u8>,
    ) -> Result<(), Error> {
        while self.serve_next_with(fingerprint, &mut work)? == Served::Batch {}
        Ok(())
    }

    /// Every rank but 0: serves rank 0's next batch only, or sees that
    /// there is none. For SPMD programs whose pipeline changes between
    /// batches (the same change on every rank); otherwise as
    /// [`Cluster::serve_with`]. On rank 0 this returns
    /// [`Served::Shutdown`] at once.
    pub fn serve_next_with(
        &self,
        fingerprint: Fingerprint,
        mut work: impl FnMut(usize, &[u8]) -> Vec<u8>,
    ) -> Result<Served, Error> {
        if self.is_root() {
            return Ok(Served::Shutdown);
        }
        let (_, tag, bytes) = self.receive();
        match tag {
            TAG_SHUTDOWN => Ok(Served::Shutdown),
            TAG_BEGIN => {
                let root = Fingerprint(Reader::new(&bytes).u64()?);
                let mut ready = Writer::default();
                ready.u64(fingerprint.0);
                self.send(0, TAG_READY, &ready.0);
                if root != fingerprint {
                    return Err(Error::FingerprintMismatch {
                        rank: self.rank(),
                        root,
                        this: fingerprint,
                    });
                }
                self.serve_batch(&mut work)?;
                Ok(Served::Batch)
            }
            other => Err(Error::Protocol(format!(
                "rank 0 sent tag {other} between batches"
            ))),
        }
    }

    fn serve_batch(&self, work: &mut impl FnMut(usize, &[u8]) -> Vec<u8>) -> Result<(), Error> {
        loop {
            let (_, tag, bytes) = self.receive();
            let mut r = Reader::new(&bytes);
            match tag {
                TAG_TASK => {
                    let index = r.u64()?;
                    let payload = r.rest();
                    let mut answer = Writer::default();
                    answer.u64(index);
                    match catch_unwind(AssertUnwindSafe(|| work(index as usize, payload))) {
                        Ok(out) => {
                            answer.u8(0);
                            answer.0.extend_from_slice(&out);
                        }
                        Err(p) => {
                            answer.u8(1);
                            answer.text(&panic_message(&*p));
                        }
                    }
                    self.send(0, TAG_RESULT, &answer.0);
                }
                TAG_END => {
                    return match r.u8()? {
                        0 => Ok(()),
                        _ => Err(Error::Aborted { reason: r.text()? }),
                    };
                }
                other => {
                    return Err(Error::Protocol(format!(
                        "rank 0 sent tag {other} during a batch"
                    )));
                }
            }
        }
    }
}

/// The tasks of a batch still to hand out, shared by rank 0's threads:
/// they go out in index order until `count` or until `stop` is set.
struct Tasks {
    next: AtomicUsize,
    count: usize,
    stop: AtomicBool,
}

impl Tasks {
    /// The next task to hand out, if any.
    fn take(&self) -> Option<usize> {
        if self.stop.load(Ordering::Acquire) {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::AcqRel);
        (index < self.count).then_some(index)
    }

    /// Hands out nothing more.
    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Rank 0's bookkeeping of one batch.
struct Dispatch<'t, T> {
    tasks: &'t Tasks,
    error: Option<Error>,
    /// Tasks handed to other ranks whose answer has not come.
    outstanding: usize,
    /// Per rank, the tasks it holds (handed out, answer not come).
    held: Vec<usize>,
    results: Vec<Option<T>>,
}

impl<T> Dispatch<'_, T> {
    fn take(&self) -> Option<usize> {
        self.tasks.take()
    }

    fn record(
        &mut self,
        index: usize,
        rank: usize,
        out: T,
        on_result: &mut impl FnMut(usize, usize, &T) -> Flow,
    ) {
        if on_result(index, rank, &out) == Flow::Stop {
            self.tasks.stop();
        }
        self.results[index] = Some(out);
    }

    /// Keeps the first error and hands out nothing more.
    fn fail(&mut self, e: Error) {
        self.tasks.stop();
        self.error.get_or_insert(e);
    }
}
