//! The result of one execution of a pipeline.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use crate::{Trace, graph::StepNames};

/// When and where one stage ran, relative to the start of its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageRecord {
    /// Time from the start of the run to the start of the stage.
    pub start: Duration,
    /// Wall time of the stage.
    pub duration: Duration,
    /// Which worker ran it: 0 is the calling thread, 1.. the executor's workers.
    pub worker: usize,
}

/// One execution of a pipeline: the output, every kept intermediate, timings.
///
/// ```
/// use tracekit_core::{Pipeline, Step, Trace, Transformer, StageError};
///
/// #[derive(Clone)]
/// struct Twice;
/// impl Transformer for Twice {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(i[0].derive(i[0].samples().iter().map(|x| 2.0 * x).collect()))
///     }
/// }
///
/// let p = Pipeline::new([Step::new("a", Twice), Step::new("b", Twice)])?;
/// let run = p.run(&Trace::new(vec![1.0], 1.0)?)?;
/// assert_eq!(run.output().samples(), &[4.0]);
/// assert_eq!(run.get("a").unwrap().samples(), &[2.0]);
/// assert_eq!(run.timings().len(), 2);
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Run {
    names: Arc<StepNames>,
    results: Vec<Option<Trace>>,
    output: usize,
    records: Vec<StageRecord>,
    timings: OnceLock<Vec<(String, Duration)>>,
}

impl Run {
    pub(crate) fn new(
        names: Arc<StepNames>,
        results: Vec<Option<Trace>>,
        output: usize,
        records: Vec<StageRecord>,
    ) -> Run {
        Run {
            names,
            results,
            output,
            records,
            timings: OnceLock::new(),
        }
    }

    /// The pipeline's output: the output step's trace.
    pub fn output(&self) -> &Trace {
        self.results[self.output]
            .as_ref()
            .expect("the output step is always kept")
    }

    /// The output of `step`, if it is a step of the pipeline and was kept.
    pub fn get(&self, step: &str) -> Option<&Trace> {
        self.results.get(self.names.position(step)?)?.as_ref()
    }

    /// Per-stage wall time, in declaration order.
    pub fn timings(&self) -> &[(String, Duration)] {
        self.timings.get_or_init(|| {
            self.names
                .iter()
                .zip(&self.records)
                .map(|(n, r)| (n.to_owned(), r.duration))
                .collect()
        })
    }

    /// When and on which worker each stage ran, in declaration order.
    pub fn records(&self) -> &[StageRecord] {
        &self.records
    }

    /// Names of the steps whose outputs this run kept, in declaration order.
    pub fn kept_steps(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.results)
            .filter(|(_, r)| r.is_some())
            .map(|(n, _)| n)
            .collect()
    }

    /// Consumes the run, giving the output trace.
    pub fn into_output(mut self) -> Trace {
        self.results
            .swap_remove(self.output)
            .expect("the output step is always kept")
    }
}
