//! What a `tk_pipeline` holds: steps added one at a time, built into a
//! pipeline once, when it is first used.
//!
//! Adding a step costs O(1): its name is checked at once (by the core's
//! [`check_step_name`] and a set of the names taken), its wiring (inputs that
//! name no step, cycles) only when the pipeline is built, at the first
//! transform or execution order after a change. The configuration lives in
//! one place: in the draft until the pipeline is built, then in the pipeline.

use std::{collections::HashSet, time::Duration};

use tracekit_facade::{
    CoreError, Error, ExecutorKind, ParallelPipeline, Pipeline, Step, check_step_name,
};

/// Steps not built into a pipeline yet, and the configuration to build with.
#[derive(Debug)]
struct Draft {
    steps: Vec<Step>,
    /// The output step, when it is not the last one (from a spec).
    output: Option<String>,
    kind: ExecutorKind,
    max_workers: Option<usize>,
    stage_timeout: Option<Duration>,
}

impl Draft {
    /// No steps, on threads with automatic workers.
    fn empty() -> Draft {
        Draft {
            steps: Vec::new(),
            output: None,
            kind: ExecutorKind::Thread,
            max_workers: None,
            stage_timeout: None,
        }
    }

    /// The steps and configuration of a built pipeline, to add more steps.
    fn from_built(p: ParallelPipeline) -> Draft {
        let (kind, max_workers, stage_timeout) =
            (p.executor_type(), p.max_workers(), p.stage_timeout());
        let pipeline = p.into_pipeline();
        let output = pipeline.output_step().to_owned();
        let steps = pipeline.into_steps();
        let output = (steps.last().map(Step::name) != Some(output.as_str())).then_some(output);
        Draft {
            steps,
            output,
            kind,
            max_workers,
            stage_timeout,
        }
    }

    /// Checks the wiring and builds the pipeline; on an error the draft is
    /// left as it was.
    fn build(&mut self) -> Result<ParallelPipeline, Error> {
        Pipeline::check_steps(&self.steps)?;
        if let Some(output) = self.output.as_deref() {
            if !self.steps.iter().any(|s| s.name() == output) {
                return Err(CoreError::StepNotFound {
                    step: output.to_owned(),
                }
                .into());
            }
        }
        let mut pipeline = Pipeline::new(std::mem::take(&mut self.steps))?;
        if let Some(output) = &self.output {
            pipeline = pipeline.with_output(output)?;
        }
        pipeline.set_stage_timeout(self.stage_timeout);
        Ok(ParallelPipeline::from_pipeline(
            pipeline,
            self.kind,
            self.max_workers,
        ))
    }
}

/// The two states of a `tk_pipeline`.
#[derive(Debug)]
enum Steps {
    Draft(Draft),
    Built(Box<ParallelPipeline>),
}

/// Everything a `tk_pipeline` holds.
#[derive(Debug)]
pub(crate) struct State {
    steps: Steps,
    /// Every step name taken.
    names: HashSet<String>,
}

impl State {
    /// No steps, on threads with automatic workers.
    pub(crate) fn new() -> State {
        State {
            steps: Steps::Draft(Draft::empty()),
            names: HashSet::new(),
        }
    }

    /// A pipeline loaded from a spec.
    pub(crate) fn from_parallel(p: ParallelPipeline) -> State {
        let names = p.step_names().into_iter().map(str::to_owned).collect();
        State {
            steps: Steps::Built(Box::new(p)),
            names,
        }
    }

    /// Adds a step. Name errors, which no later step can fix, reject it; an
    /// input naming a step not added yet, or a cycle, is kept and reported
    /// when the pipeline is used.
    pub(crate) fn add(&mut self, step: Step) -> Result<(), Error> {
        check_step_name(step.name())?;
        if self.names.contains(step.name()) {
            return Err(CoreError::DuplicateStepNames {
                names: vec![step.name().to_owned()],
            }
            .into());
        }
        self.names.insert(step.name().to_owned());
        let steps = std::mem::replace(&mut self.steps, Steps::Draft(Draft::empty()));
        let mut draft = match steps {
            Steps::Draft(draft) => draft,
            Steps::Built(p) => Draft::from_built(*p),
        };
        draft.steps.push(step);
        self.steps = Steps::Draft(draft);
        Ok(())
    }

    /// Sets the executor and the number of workers.
    pub(crate) fn set_parallel_config(&mut self, kind: ExecutorKind, max_workers: Option<usize>) {
        match &mut self.steps {
            Steps::Draft(draft) => {
                draft.kind = kind;
                draft.max_workers = max_workers;
            }
            Steps::Built(p) => {
                p.set_parallel_config(kind, max_workers);
            }
        }
    }

    /// Sets the time limit of each stage.
    pub(crate) fn set_stage_timeout(&mut self, limit: Option<Duration>) {
        match &mut self.steps {
            Steps::Draft(draft) => draft.stage_timeout = limit,
            Steps::Built(p) => {
                p.set_stage_timeout(limit);
            }
        }
    }

    /// The pipeline, built now if steps were added since it last was; the
    /// wiring error that keeps it from existing otherwise.
    pub(crate) fn built(&mut self) -> Result<&mut ParallelPipeline, Error> {
        if let Steps::Draft(draft) = &mut self.steps {
            let built = draft.build()?;
            self.steps = Steps::Built(Box::new(built));
        }
        match &mut self.steps {
            Steps::Built(p) => Ok(p),
            Steps::Draft(_) => Err(CoreError::Internal("a pipeline was not built".into()).into()),
        }
    }

    /// The output of `step` in the last transform.
    pub(crate) fn intermediate(&self, step: &str) -> Result<&tracekit_facade::Trace, Error> {
        match &self.steps {
            Steps::Built(p) => p.get_intermediate(step),
            Steps::Draft(_) if self.names.contains(step) => Err(CoreError::NoIntermediate {
                step: step.to_owned(),
            }
            .into()),
            Steps::Draft(_) => Err(CoreError::StepNotFound {
                step: step.to_owned(),
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use tracekit_facade::{StageError, Trace, Transformer};

    use super::*;

    #[derive(Debug, Clone)]
    struct Id;

    impl Transformer for Id {
        fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
            Ok(inputs[0].clone())
        }
    }

    #[test]
    fn names_are_checked_at_once_and_wiring_when_built() {
        let mut state = State::new();
        state.add(Step::new("b", Id).input("a")).unwrap();
        assert!(state.add(Step::new("b", Id)).is_err(), "a duplicate");
        assert!(state.add(Step::new("input", Id)).is_err(), "reserved");
        assert!(state.add(Step::new("", Id)).is_err(), "empty");
        let err = state.built().unwrap_err();
        assert_eq!(err.to_string(), "Step 'b' reads 'a', which is not a step");
        // The steps stay: adding the missing one makes it whole.
        state.add(Step::new("a", Id).input("input")).unwrap();
        assert_eq!(state.built().unwrap().step_names(), vec!["b", "a"]);
    }

    #[test]
    fn a_built_pipeline_keeps_its_configuration_when_steps_are_added() {
        let mut state = State::new();
        state.set_parallel_config(ExecutorKind::Sequential, Some(1));
        state.set_stage_timeout(Some(Duration::from_secs(3)));
        state.add(Step::new("a", Id)).unwrap();
        assert_eq!(
            state.built().unwrap().executor_type(),
            ExecutorKind::Sequential
        );
        state.add(Step::new("b", Id)).unwrap();
        let p = state.built().unwrap();
        assert_eq!(p.step_names(), vec!["a", "b"]);
        assert_eq!(p.executor_type(), ExecutorKind::Sequential);
        assert_eq!(p.max_workers(), Some(1));
        assert_eq!(p.stage_timeout(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn ten_thousand_steps_are_added_without_building() {
        let mut state = State::new();
        for k in 0..10_000 {
            state.add(Step::new(format!("s{k}"), Id)).unwrap();
        }
        assert!(matches!(state.steps, Steps::Draft(_)));
        assert_eq!(state.built().unwrap().len(), 10_000);
    }
}
