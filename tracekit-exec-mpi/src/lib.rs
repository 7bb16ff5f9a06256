//! tracekit on a cluster: batches of traces spread over the ranks of an MPI
//! job (rsmpi over the system's MPICH or Open MPI).
//!
//! The program is SPMD: every rank runs it, every rank builds the same
//! pipeline, and a [`Fingerprint`] of the pipeline (steps, kinds, wiring,
//! output, parameters) is compared at the start of each batch, so ranks that
//! disagree fail instead of computing different things. Rank 0 holds the
//! inputs and calls [`Cluster::run_batch`]; every other rank calls
//! [`Cluster::serve`], which works until rank 0's [`Cluster`] is dropped.
//! Rank 0 hands out one input at a time to whichever rank is free, computes
//! too, and gets the runs back in input order, bit for bit what a
//! one-process `run_batch` gives, with the same error when an input fails.
//! Ranks waiting for work probe without blocking and sleep between probes
//! (MPICH's blocking calls would spin on a core).
//!
//! The same hand-out serves other kinds of work through [`Job`] and
//! [`Cluster::serve_with`]: the `tracekit run --mpi` command hands out only
//! file indices, and each rank reads and writes its files itself.
//!
//! MPI is fail-stop: a rank that dies ends the whole job (`mpiexec` and
//! `srun` kill the other ranks), so no rank waits forever for it.
//!
//! Everything that talks MPI is behind this crate's `mpi` feature (the `mpi`
//! feature of `tracekit` and `tracekit-cli` turns it on); without it the
//! crate holds only [`Fingerprint`] and [`Error`], and needs no MPI library.
//! Building with it needs MPI and libclang (Debian:
//! `apt-get install mpich libmpich-dev libclang-dev`).
//!
//! ```no_run
//! # #[cfg(feature = "mpi")] {
//! use tracekit_core::{Pipeline, Step, Trace};
//! use tracekit_exec_mpi::Cluster;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let params = [("cutoff".to_owned(), 50e3.into())].into();
//! let pipeline = Pipeline::new([Step::boxed("lp", tracekit_dsp::build("lowpass", &params)?)])?;
//! let cluster = Cluster::init()?;
//! if cluster.is_root() {
//!     let inputs = vec![Trace::new(vec![0.5; 65536], 1e6)?; 100];
//!     let runs = cluster.run_batch(&pipeline, &inputs)?;
//!     println!("{} runs on {} ranks", runs.len(), cluster.size());
//! } else {
//!     cluster.serve(&pipeline)?;
//! }
//! # Ok(()) }
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(
    not(feature = "mpi"),
    allow(
        rustdoc::broken_intra_doc_links,
        reason = "the crate documentation links to the MPI items, which exist with the mpi feature"
    )
)]

#[cfg(feature = "mpi")]
mod batch;
#[cfg(feature = "mpi")]
mod cluster;
mod error;
mod fingerprint;
#[cfg(feature = "mpi")]
mod handout;
#[cfg(feature = "mpi")]
mod poll;
#[cfg_attr(
    not(feature = "mpi"),
    allow(
        dead_code,
        reason = "the wire encoding is used by the MPI backend only"
    )
)]
mod wire;

#[cfg(feature = "mpi")]
pub use crate::{
    cluster::Cluster,
    handout::{Flow, Job, Served},
};
pub use crate::{error::Error, fingerprint::Fingerprint};
