//! The ranks of an MPI job: starting MPI, and sending and receiving
//! messages without spinning.
//!
//! Only the main thread calls MPI (the library is initialised
//! `MPI_THREAD_FUNNELED`). MPICH's blocking calls spin on a core, so waiting
//! is nonblocking probes with short sleeps between them (see `poll.rs`), and
//! a send tests its request until the transfer is done.

use std::{
    fmt,
    time::{Duration, Instant},
};

use mpi::{
    Tag,
    environment::Universe,
    point_to_point::{Destination, MatchedReceiveVec, Source},
    request,
    topology::{Communicator, SimpleCommunicator},
};

use crate::{Error, handout::TAG_SHUTDOWN, poll::Backoff};

/// How long a send keeps testing without sleeping.
const SEND_SPIN: Duration = Duration::from_millis(20);

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

    pub(crate) fn send(&self, rank: usize, tag: Tag, bytes: &[u8]) {
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
    pub(crate) fn try_receive(&self) -> Option<(usize, Tag, Vec<u8>)> {
        let probed = self.world.any_process().immediate_matched_probe()?;
        let (bytes, status) = probed.matched_receive_vec::<u8>();
        Some((status.source_rank() as usize, status.tag(), bytes))
    }

    /// Waits for the next message without spinning.
    pub(crate) fn receive(&self) -> (usize, Tag, Vec<u8>) {
        let mut backoff = Backoff::new();
        loop {
            if let Some(m) = self.try_receive() {
                return m;
            }
            backoff.pause();
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
