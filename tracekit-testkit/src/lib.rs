//! Test stages, inputs and graphs shared by the tests of the tracekit crates
//! (a development dependency only; not published).
//!
//! Every stage is deterministic unless it says otherwise, so that any
//! executor must give the sequential executor's result bit for bit.
//!
//! ```
//! use tracekit_core::SequentialExecutor;
//! use tracekit_testkit::{assert_same_run, diamonds, input};
//!
//! let p = diamonds();
//! let x = input(0.5, 32);
//! let a = p.run(&x).unwrap();
//! let b = p.run_on(&SequentialExecutor, &x).unwrap();
//! assert_same_run(&p, &a, &b);
//! ```
#![deny(missing_docs)]

mod graphs;
pub mod procfs;
pub mod rounds;
mod stages;

pub use crate::{
    graphs::{assert_same_run, chain, diamonds, fan_out, input, random_dag, signal, trace},
    stages::{
        Affine, Burn, Center, FailOn, Fails, Identity, Offset, PanicOn, Panics, Probe, Scale, Sum,
    },
};
