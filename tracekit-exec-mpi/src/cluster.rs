//! The ranks of an MPI job, and the one hand-out mechanism that shares work
//! among them.
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
    fmt,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use mpi::{
    Tag,
    environment::Universe,
    point_to_point::{Destination, MatchedReceiveVec, Source},
    request,
    topology::{Communicator, SimpleCommunicator},
};
use tracekit_core::panic_message;

use crate::{
    Error, Fingerprint,
    poll::Backoff,
    wire::{Reader, Writer},
};

const TAG_BEGIN: Tag = 1;
const TAG_READY: Tag = 2;
const TAG_TASK: Tag = 3;
const TAG_RESULT: Tag = 4;
const TAG_END: Tag = 5;
const TAG_SHUTDOWN: Tag = 6;

/// How long a send keeps testing without sleeping.
const SEND_SPIN: Duration = Duration::from_millis(20);

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

/// The ranks of this MPI job: MPI itself, started by [`Cluster::init`] and
/// finished when the cluster is dropped.
///
/// In an SPMD program every rank makes one; rank 0 hands out the batches
/// ([`Cluster::run_batch`], [`Cluster::hand_out`]) and every other rank calls
/// [`Cluster::serve`] (or [`Cluster::serve_with`]) which works until rank 0's
/// cluster is dropped. With one rank (a program started without `mpiexec`)
/// everything runs on rank 0.
///
/// ```no_run
/// use tracekit_core::{Pipeline, Step, Trace};
/// use tracekit_exec_mpi::Cluster;
///
/// # fn build() -> Result<Pipeline, tracekit_core::Error> {
/// #     let params = [("factor".to_owned(), 2.0.into())].into();
/// #     Pipeline::new([Step::boxed("s", tracekit_dsp::build("scale", &params)?)])
/// # }
/// let cluster = Cluster::init()?;
/// let pipeline = build()?; // the same on every rank
/// if cluster.is_root() {
///     let inputs = vec![Trace::new(vec![1.0; 1024], 1e6)?; 64];
///     let runs = cluster.run_batch(&pipeline, &inputs)?;
///     assert_eq!(runs.len(), 64);
/// } else {
///     cluster.serve(&pipeline)?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Cluster {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    // Dropped last: finalises MPI.
    _universe: Universe,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Starts MPI (`MPI_Init_thread`, funneled: only the main thread calls
    /// MPI) and joins the job's ranks. Call it once, from the main thread.
    pub fn init() -> Result<Cluster, Error> {
        let (universe, provided) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| Error::Init("MPI is already initialised in this process".into()))?;
        if provided == mpi::Threading::Single {
            return Err(Error::Init(
                "the MPI library supports no threads (MPI_THREAD_SINGLE); \
                 MPI_THREAD_FUNNELED is needed"
                    .into(),
            ));
        }
        let world = universe.world();
        let rank = usize::try_from(world.rank())
            .map_err(|_| Error::Init(format!("MPI gave a negative rank {}", world.rank())))?;
        let size = usize::try_from(world.size())
            .map_err(|_| Error::Init(format!("MPI gave a world of size {}", world.size())))?;
        Ok(Cluster {
            world,
            rank,
            size,
            _universe: universe,
        })
    }

    /// This process's rank, 0 to `size() - 1`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether this is rank 0, which hands out the work.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// The MPI communicator of all ranks, for programs that also talk MPI
    /// themselves (outside a batch: a batch's messages use tags 1 to 6).
    pub fn world(&self) -> &SimpleCommunicator {
        &self.world
    }

    /// Ends the whole job at once, every rank, with `code` (`MPI_Abort`).
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }

    fn send(&self, rank: usize, tag: Tag, bytes: &[u8]) {
        let process = self.world.process_at_rank(rank as i32);
        request::scope(|scope| {
            let mut req = process.immediate_send_with_tag(scope, bytes, tag);
            // A large message moves only while both sides call into MPI:
            // keep testing (yielding the core to anyone who wants it) for a
            // while, so that a transfer the receiver has started is not paced
            // by sleeps; a receiver that is slow to start costs sleeps only.
            let start = Instant::now();
            let mut backoff = Backoff::new();
            loop {
                match req.test() {
                    Ok(_) => break,
                    Err(pending) => req = pending,
                }
                if start.elapsed() < SEND_SPIN {
                    std::thread::yield_now();
                } else {
                    backoff.pause();
                }
            }
        });
    }

    /// A message, if one is waiting: (source rank, tag, bytes).
    fn try_receive(&self) -> Option<(usize, Tag, Vec<u8>)> {
        let probed = self.world.any_process().immediate_matched_probe()?;
        let (bytes, status) = probed.matched_receive_vec::<u8>();
        Some((status.source_rank() as usize, status.tag(), bytes))
    }

    /// Waits for the next message without spinning.
    fn receive(&self) -> (usize, Tag, Vec<u8>) {
        let mut backoff = Backoff::new();
        loop {
            if let Some(m) = self.try_receive() {
                return m;
            }
            backoff.pause();
        }
    }

    /// Rank 0: hands out tasks `0..count` of `job`, one at a time to
    /// whichever rank (or rank 0's own compute thread) is free, and gives
    /// back each task's output by index. `on_result` sees each output as it
    /// arrives, with the rank that made it; when it says [`Flow::Stop`], no
    /// further task is handed out, and those never handed out stay `None`.
    ///
    /// `fingerprint` is compared with every other rank's (given to
    /// [`Cluster::serve_with`]) before any task starts: a difference is
    /// [`Error::FingerprintMismatch`] here and an error on every rank.
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
                rank: self.rank,
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
            results: (0..count).map(|_| None).collect(),
        };
        for rank in 1..self.size {
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
        for rank in 1..self.size {
            self.send(rank, TAG_BEGIN, &begin.0);
        }
        let mut mismatch: Option<Error> = None;
        let mut matched = Vec::new();
        let mut error = None;
        for _ in 1..self.size {
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
    fn give<J: Job>(&self, rank: usize, state: &mut Dispatch<'_, J::Output>, job: &J) {
        match state.take() {
            Some(index) => {
                let mut task = Writer::default();
                task.u64(index as u64);
                task.0.extend_from_slice(&job.payload(index));
                self.send(rank, TAG_TASK, &task.0);
                state.outstanding += 1;
            }
            None => {
                let mut end = Writer::default();
                end.u8(0);
                self.send(rank, TAG_END, &end.0);
            }
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
                        rank: self.rank,
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

impl Drop for Cluster {
    /// On rank 0, tells every other rank that there is no more work (their
    /// [`Cluster::serve`] returns); then MPI is finalised.
    fn drop(&mut self) {
        if self.is_root() {
            for rank in 1..self.size {
                self.send(rank, TAG_SHUTDOWN, &[]);
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
