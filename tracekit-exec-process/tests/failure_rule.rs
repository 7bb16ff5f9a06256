//! The failure reported is the earliest in the sequential order, however
//! late it comes: within a run (declaration order) and within a batch
//! (input index).

mod common;

use std::time::Duration;

use common::*;
use tracekit_core::{INPUT, Pipeline, StageError, Step, Trace, Transformer};
use tracekit_exec_process::ProcessExecutor;

/// Fails on an input whose first sample is `slow` after a while, and on one
/// whose first sample is `fast` at once.
#[derive(Clone)]
struct FailsAt {
    slow: f64,
    fast: f64,
}

impl Transformer for FailsAt {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        match i[0].samples().first() {
            Some(&x) if x == self.slow => {
                std::thread::sleep(Duration::from_millis(300));
                Err(format!("slow failure on {x}").into())
            }
            Some(&x) if x == self.fast => Err(format!("fast failure on {x}").into()),
            _ => Ok(i[0].clone()),
        }
    }
}

fn starting_at(x: f64) -> Trace {
    Trace::new(vec![x, 1.0, 2.0], 1e3).unwrap()
}

#[test]
fn a_batch_reports_its_lowest_failing_input_not_its_first_failure() {
    let p = Pipeline::new([Step::new(
        "check",
        FailsAt {
            slow: 1.0,
            fast: 2.0,
        },
    )])
    .unwrap();
    let inputs = [starting_at(0.0), starting_at(1.0), starting_at(2.0)];
    for workers in [1, 2, 3] {
        let executor = ProcessExecutor::new(workers).unwrap();
        let err = p.run_batch_on(&executor, &inputs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Batch input 1 failed: Stage 'check' failed: slow failure on 1",
            "{workers} workers"
        );
        // Keep going: every input has its own result.
        let each = p
            .clone()
            .with_executor(std::sync::Arc::new(executor))
            .run_batch_each(&inputs);
        assert!(each[0].is_ok());
        let messages: Vec<String> = each[1..]
            .iter()
            .map(|r| r.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "Stage 'check' failed: slow failure on 1",
                "Stage 'check' failed: fast failure on 2"
            ]
        );
    }
}

#[test]
fn a_run_reports_its_earliest_failing_stage_not_its_first_failure() {
    let p = Pipeline::new([
        Step::new(
            "a",
            FailsAt {
                slow: 0.0,
                fast: -1.0,
            },
        )
        .input(INPUT),
        Step::new(
            "b",
            FailsAt {
                slow: -1.0,
                fast: 0.0,
            },
        )
        .input(INPUT),
        Step::new("sum", Sum).inputs(["a", "b"]),
    ])
    .unwrap();
    let executor = ProcessExecutor::new(2).unwrap();
    let err = p.run_on(&executor, &starting_at(0.0)).unwrap_err();
    assert_eq!(err.to_string(), "Stage 'a' failed: slow failure on 0");
}
