//! The errors of the MPI backend.

/// What can go wrong when a batch is spread over ranks.
///
/// A failing run is [`Error::Pipeline`], whose message is exactly the one a
/// one-process run gives (`Batch input 3 failed: Stage 'fft' failed: ...`).
///
/// ```
/// use tracekit_exec_mpi::{Error, Fingerprint};
///
/// let e = Error::FingerprintMismatch { rank: 2, root: Fingerprint(1), this: Fingerprint(2) };
/// assert!(e.to_string().contains("rank 2 built a different pipeline"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A run failed: the same error, with the same message, as without MPI.
    #[error(transparent)]
    Pipeline(#[from] tracekit_core::Error),

    /// MPI could not be started.
    #[error("MPI could not be initialised: {0}")]
    Init(String),

    /// A rank's pipeline differs from rank 0's.
    #[error(
        "rank {rank} built a different pipeline (fingerprint {this}, rank 0 has {root}): \
         every rank must build the same pipeline, with the same steps, kinds, wiring, output \
         and parameters, from the same inputs and options"
    )]
    FingerprintMismatch {
        /// The rank whose pipeline differs.
        rank: usize,
        /// Rank 0's fingerprint.
        root: crate::Fingerprint,
        /// That rank's fingerprint.
        this: crate::Fingerprint,
    },

    /// Rank 0 gave up the batch before it started (another rank's pipeline
    /// differs, say); what this rank was told.
    #[error("rank 0 abandoned the batch: {reason}")]
    Aborted {
        /// Rank 0's error message.
        reason: String,
    },

    /// Work that only rank 0 does was asked of another rank.
    #[error("{what} runs on rank 0 only; this is rank {rank} (the other ranks call serve)")]
    NotRoot {
        /// What was asked.
        what: &'static str,
        /// This rank.
        rank: usize,
    },

    /// The work for one input panicked (outside any stage, which catches its own).
    #[error("the work for input {index} panicked on rank {rank}: {message}")]
    Panicked {
        /// The input.
        index: usize,
        /// The rank it ran on.
        rank: usize,
        /// The panic message.
        message: String,
    },

    /// A message between ranks could not be understood.
    #[error("MPI protocol error: {0}")]
    Protocol(String),
}
