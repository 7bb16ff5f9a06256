//! The ParallelPipeline API: configuration, Display, errors, and drop-in
//! equality with Pipeline.

use std::{num::NonZeroUsize, sync::Arc, thread, time::Duration};

use tracekit::{
    CoreError, Error, ExecutorKind, INPUT, ParallelPipeline, ParamValue, Params, Pipeline,
    StageError, Step, Trace, Transformer, exec::ThreadExecutor, unknown_param,
};

/// `sin(gain * sum of inputs) + bias`; `fit` learns the bias from the input mean.
#[derive(Clone)]
struct Wave {
    gain: f64,
    bias: f64,
}

impl Transformer for Wave {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let n = inputs.iter().map(|t| t.len()).min().unwrap_or(0);
        let samples = (0..n)
            .map(|k| {
                (self.gain * inputs.iter().map(|t| t.samples()[k]).sum::<f64>()).sin() + self.bias
            })
            .collect::<Vec<_>>();
        let peak = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Ok(inputs[0].derive(samples).with_measurement("peak", peak))
    }

    fn fit(&mut self, inputs: &[&Trace]) -> Result<(), StageError> {
        let x = inputs[0].samples();
        self.bias = -x.iter().sum::<f64>() / x.len().max(1) as f64;
        Ok(())
    }

    fn kind(&self) -> &str {
        "wave"
    }

    fn get_params(&self) -> Params {
        Params::from([("gain".to_owned(), ParamValue::Float(self.gain))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match (name, value.as_f64()) {
            ("gain", Some(g)) => {
                self.gain = g;
                Ok(())
            }
            _ => Err(unknown_param(name, &self.get_params())),
        }
    }
}

#[derive(Clone)]
struct Boom;

/// Panics on a trace that starts with NaN.
impl Transformer for Boom {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        if inputs[0].samples().first().is_some_and(|x| x.is_nan()) {
            panic!("stage blew up");
        }
        Ok(inputs[0].clone())
    }
}

fn nan_first(x: &Trace) -> Trace {
    let mut samples = x.samples().to_vec();
    samples[0] = f64::NAN;
    x.derive(samples)
}

#[derive(Clone)]
struct Slow;

impl Transformer for Slow {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        thread::sleep(Duration::from_millis(50));
        Ok(inputs[0].clone())
    }
}

fn wave(gain: f64) -> Wave {
    Wave { gain, bias: 0.0 }
}

fn steps() -> Vec<Step> {
    vec![
        Step::new("a", wave(1.0)),
        Step::new("b", wave(2.0)).input(INPUT),
        Step::new("c", wave(0.5)).inputs(["a", "b"]),
        Step::new("d", wave(1.5)).input("a"),
        Step::new("e", wave(1.0)).inputs(["c", "d", INPUT]),
    ]
}

fn input(seed: f64) -> Trace {
    Trace::new(
        (0..300).map(|k| seed + (k as f64 * 0.05).sin()).collect(),
        1e6,
    )
    .unwrap()
}

fn cpus() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

#[test]
fn display_matches_the_original_repr() {
    let p = ParallelPipeline::new([Step::new("a", wave(1.0))]).unwrap();
    assert_eq!(
        p.to_string(),
        "ParallelPipeline([\n  ('a', wave)\n], executor=thread, workers=auto)"
    );
    let p = ParallelPipeline::with_config(steps(), ExecutorKind::Sequential, Some(4)).unwrap();
    assert!(
        p.to_string()
            .starts_with("ParallelPipeline([\n  ('a', wave),\n  ('b', wave),")
    );
    assert!(
        p.to_string()
            .ends_with("], executor=sequential, workers=4)")
    );
    let debug = format!("{p:?}");
    assert!(
        debug.contains("ParallelPipeline") && debug.contains("Sequential"),
        "{debug}"
    );
}

#[test]
fn executor_kinds_parse_and_display() {
    for (text, kind) in [
        ("sequential", ExecutorKind::Sequential),
        ("thread", ExecutorKind::Thread),
        ("process", ExecutorKind::Process),
    ] {
        assert_eq!(text.parse::<ExecutorKind>().unwrap(), kind);
        assert_eq!(kind.to_string(), text);
    }
    for bad in ["threads", "Thread", "", "gpu"] {
        let err = bad.parse::<ExecutorKind>().unwrap_err();
        assert!(matches!(&err, Error::InvalidExecutor { got } if got == bad));
        assert_eq!(
            err.to_string(),
            format!("executor_type must be 'thread', 'process' or 'sequential', got '{bad}'")
        );
    }
}

#[test]
fn zero_workers_is_an_error_never_a_hang() {
    let err = ParallelPipeline::with_config(steps(), ExecutorKind::Thread, Some(0)).unwrap_err();
    assert!(matches!(err, Error::Core(CoreError::InvalidConfig(_))));
    assert!(
        err.to_string()
            .contains("max_workers must be at least 1, got 0"),
        "{err}"
    );

    let mut p = ParallelPipeline::new(steps()).unwrap();
    assert!(
        p.try_set_parallel_config(ExecutorKind::Thread, Some(0))
            .is_err()
    );
    assert_eq!(
        p.max_workers(),
        None,
        "a rejected configuration changes nothing"
    );

    for kind in [ExecutorKind::Thread, ExecutorKind::Sequential] {
        p.set_parallel_config(kind, Some(0));
        assert!(matches!(
            p.run(&input(0.0)),
            Err(Error::Core(CoreError::InvalidConfig(_)))
        ));
        assert!(matches!(
            p.transform(&input(0.0)),
            Err(Error::Core(CoreError::InvalidConfig(_)))
        ));
        assert!(matches!(
            p.run_batch(&[input(0.0)]),
            Err(Error::Core(CoreError::InvalidConfig(_)))
        ));
    }
    // A count the process executor refuses reads with its reason, once.
    p.set_parallel_config(ExecutorKind::Process, Some(usize::MAX));
    let err = p.run(&input(0.0)).unwrap_err().to_string();
    assert_eq!(err.matches("Invalid configuration").count(), 1, "{err}");
    assert!(err.contains("workers, got"), "{err}");
    p.set_parallel_config(ExecutorKind::Thread, Some(2));
    assert!(p.run(&input(0.0)).is_ok());

    let from = ParallelPipeline::from_pipeline(
        Pipeline::new(steps()).unwrap(),
        ExecutorKind::Thread,
        Some(0),
    );
    assert!(matches!(
        from.run(&input(0.0)),
        Err(Error::Core(CoreError::InvalidConfig(_)))
    ));
}

#[test]
fn resolved_workers_rules() {
    let mut p = ParallelPipeline::new(steps()).unwrap();
    assert_eq!(p.executor_type(), ExecutorKind::Thread);
    assert_eq!(p.max_workers(), None);
    assert_eq!(p.resolved_workers(), 32.min(cpus() + 4));
    p.set_parallel_config(ExecutorKind::Process, None);
    assert_eq!(p.resolved_workers(), cpus());
    p.set_parallel_config(ExecutorKind::Sequential, None);
    assert_eq!(p.resolved_workers(), 1);
    p.set_parallel_config(ExecutorKind::Thread, Some(7));
    assert_eq!(
        (p.executor_type(), p.max_workers(), p.resolved_workers()),
        (ExecutorKind::Thread, Some(7), 7)
    );
}

#[test]
fn the_process_executor_sees_every_change_to_the_stages() {
    let x = input(0.5);
    let mut plain = Pipeline::new(steps()).unwrap();
    let mut p = ParallelPipeline::with_config(steps(), ExecutorKind::Process, Some(2)).unwrap();
    let expected = plain.transform(&x).unwrap();
    assert!(p.transform(&x).unwrap().bit_eq(&expected));
    for name in plain.step_names() {
        assert!(
            p.get_intermediate(name)
                .unwrap()
                .bit_eq(plain.get_intermediate(name).unwrap())
        );
    }

    // set_params reaches the workers (they are re-forked).
    plain.set_params([("a__gain", 3.0)]).unwrap();
    p.set_params([("a__gain", 3.0)]).unwrap();
    let expected = plain.transform(&x).unwrap();
    assert!(p.transform(&x).unwrap().bit_eq(&expected));

    // So does fit.
    let expected = plain.fit_transform(&x).unwrap();
    assert!(p.fit_transform(&x).unwrap().bit_eq(&expected));

    // And switching executors keeps the results.
    p.set_parallel_config(ExecutorKind::Thread, Some(2));
    assert!(p.transform(&x).unwrap().bit_eq(&expected));
    p.set_parallel_config(ExecutorKind::Process, None);
    assert!(p.transform(&x).unwrap().bit_eq(&expected));
}

#[test]
fn a_drop_in_replacement_for_pipeline() {
    let x = input(0.25);
    let mut plain = Pipeline::new(steps()).unwrap();
    let expected = plain.transform(&x).unwrap();
    for (kind, workers) in [
        (ExecutorKind::Thread, None),
        (ExecutorKind::Thread, Some(1)),
        (ExecutorKind::Thread, Some(2)),
        (ExecutorKind::Thread, Some(64)),
        (ExecutorKind::Sequential, None),
        (ExecutorKind::Process, Some(1)),
        (ExecutorKind::Process, Some(3)),
    ] {
        let mut p = ParallelPipeline::with_config(steps(), kind, workers).unwrap();
        let out = p.transform(&x).unwrap();
        assert!(out.bit_eq(&expected), "{kind} {workers:?}");
        assert_eq!(p.list_intermediates(), plain.list_intermediates());
        for name in plain.step_names() {
            assert!(
                p.get_intermediate(name)
                    .unwrap()
                    .bit_eq(plain.get_intermediate(name).unwrap())
            );
        }
        assert_eq!(
            p.get_intermediate_value("e", "peak").unwrap().to_bits(),
            plain.get_intermediate_value("e", "peak").unwrap().to_bits()
        );
        assert_eq!(p.get_execution_order(), plain.get_execution_order());
        assert_eq!(p.get_dependency_graph(), plain.get_dependency_graph());
        assert_eq!(p.to_dot(), plain.to_dot());
        assert_eq!(p.get_params(), plain.get_params());
        assert_eq!(p.len(), 5);
        assert_eq!(p[1].kind(), "wave");
        assert_eq!(p["c"].kind(), "wave");
        let run = p.run(&x).unwrap();
        assert!(run.output().bit_eq(&expected));
    }
}

#[test]
fn errors_before_transform_and_for_unknown_steps_read_as_on_pipeline() {
    let p = ParallelPipeline::new(steps()).unwrap();
    assert_eq!(
        p.get_intermediate("a").unwrap_err().to_string(),
        "No intermediate result for step 'a'. Call transform() first."
    );
    assert_eq!(
        p.get_intermediate("zz").unwrap_err().to_string(),
        "Step 'zz' not found in pipeline"
    );
    let err = ParallelPipeline::new(Vec::new()).unwrap_err();
    assert_eq!(err.to_string(), "Pipeline steps cannot be empty");
}

#[test]
fn set_params_and_fit_are_seen_by_the_next_run() {
    let x = input(3.0);
    let mut plain = Pipeline::new(steps()).unwrap();
    let mut p = ParallelPipeline::with_config(steps(), ExecutorKind::Thread, Some(2)).unwrap();
    p.run(&x).unwrap();
    plain
        .set_params([("a__gain", 0.3), ("e__gain", 2.5)])
        .unwrap();
    p.set_params([("a__gain", 0.3), ("e__gain", 2.5)]).unwrap();
    assert!(
        p.transform(&x)
            .unwrap()
            .bit_eq(&plain.transform(&x).unwrap())
    );
    let err = p.set_params([("a__nope", 1.0)]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Invalid parameter 'nope' for step 'a'"),
        "{err}"
    );

    let fitted = p.fit_transform(&x).unwrap();
    assert!(fitted.bit_eq(&plain.fit_transform(&x).unwrap()));
    let mut refit = p.clone();
    refit.fit(&input(-3.0)).unwrap();
    assert!(
        !refit.transform(&x).unwrap().bit_eq(&fitted),
        "the clone was fitted on its own"
    );
    assert!(
        p.transform(&x).unwrap().bit_eq(&fitted),
        "the original kept its fit"
    );
}

#[test]
fn clones_are_independent_and_keep_the_configuration() {
    let mut p = ParallelPipeline::with_config(steps(), ExecutorKind::Thread, Some(3)).unwrap();
    p.transform(&input(0.0)).unwrap();
    let mut q = p.clone();
    assert_eq!(
        (q.executor_type(), q.max_workers()),
        (ExecutorKind::Thread, Some(3))
    );
    q.set_params([("b__gain", 9.0)]).unwrap();
    assert_eq!(p.get_params()["b__gain"], ParamValue::Float(2.0));
    assert!(q.run(&input(0.0)).is_ok());
}

#[test]
fn runs_from_several_threads_at_once() {
    let p =
        Arc::new(ParallelPipeline::with_config(steps(), ExecutorKind::Thread, Some(2)).unwrap());
    let plain = Pipeline::new(steps()).unwrap();
    thread::scope(|s| {
        for k in 0..4 {
            let (p, plain) = (Arc::clone(&p), &plain);
            s.spawn(move || {
                let x = input(k as f64);
                let want = plain.run(&x).unwrap();
                for _ in 0..10 {
                    assert!(p.run(&x).unwrap().output().bit_eq(want.output()));
                }
            });
        }
    });
}

#[test]
fn run_batch_keeps_order_and_names_the_failing_input() {
    let p = ParallelPipeline::with_config(steps(), ExecutorKind::Thread, Some(2)).unwrap();
    let plain = Pipeline::new(steps()).unwrap();
    let xs: Vec<Trace> = (0..9).map(|k| input(k as f64)).collect();
    let runs = p.run_batch(&xs).unwrap();
    for (run, x) in runs.iter().zip(&xs) {
        assert!(run.output().bit_eq(plain.run(x).unwrap().output()));
    }

    let mut steps = steps();
    steps.push(Step::new("boom", Boom).input(INPUT));
    let bad = ParallelPipeline::with_config(steps, ExecutorKind::Thread, Some(2)).unwrap();
    let mut xs = xs;
    xs[6] = nan_first(&xs[6]);
    xs[4] = nan_first(&xs[4]);
    let err = bad.run_batch(&xs).unwrap_err();
    assert!(
        matches!(&err, Error::Core(CoreError::Batch { index: 4, .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Batch input 4 failed: Stage 'boom' panicked: stage blew up"
    );
    assert_eq!(err.step(), Some("boom"));
}

#[test]
fn a_panicking_stage_leaves_the_pipeline_usable() {
    let mut p = ParallelPipeline::with_config(
        [
            Step::new("ok", wave(1.0)),
            Step::new("boom", Boom).input(INPUT),
        ],
        ExecutorKind::Thread,
        Some(2),
    )
    .unwrap();
    let err = p.transform(&nan_first(&input(0.0))).unwrap_err();
    assert_eq!(err.to_string(), "Stage 'boom' panicked: stage blew up");
    assert!(
        !p.has_intermediate("ok"),
        "a failed transform keeps no intermediates"
    );
    let out = p.transform(&input(0.0)).unwrap();
    assert!(out.bit_eq(&input(0.0)));
    assert!(p.has_intermediate("ok"));
    assert!(p.run(&nan_first(&input(1.0))).is_err());
    assert!(p.run(&input(1.0)).is_ok());
}

#[test]
fn stage_timeouts_give_timeout_on_thread_and_sequential() {
    for kind in [ExecutorKind::Thread, ExecutorKind::Sequential] {
        let mut p = ParallelPipeline::with_config(
            [
                Step::new("quick", wave(1.0)),
                Step::new("slow", Slow).input(INPUT),
            ],
            kind,
            Some(2),
        )
        .unwrap();
        p.set_stage_timeout(Some(Duration::from_millis(5)));
        assert_eq!(p.stage_timeout(), Some(Duration::from_millis(5)));
        let err = p.run(&input(0.0)).unwrap_err();
        assert!(
            matches!(&err, Error::Core(CoreError::Timeout { step, .. }) if step == "slow"),
            "{kind}: {err:?}"
        );
        p.set_stage_timeout(None);
        assert!(p.run(&input(0.0)).is_ok());
    }
}

#[test]
fn executors_are_reachable_from_the_facade() {
    let p = Pipeline::new(steps()).unwrap();
    let x = input(1.0);
    let a = p.run_on(&ThreadExecutor::new(2), &x).unwrap();
    let b = p.run_on(&tracekit::exec::SequentialExecutor, &x).unwrap();
    assert!(a.output().bit_eq(b.output()));
    let pp: ParallelPipeline = p.into();
    assert_eq!(pp.executor_type(), ExecutorKind::Thread);
    assert_eq!(pp.into_pipeline().len(), 5);
}

#[test]
fn the_pipeline_inside_runs_on_the_same_executor() {
    let x = input(0.5);
    let p = ParallelPipeline::with_config(steps(), ExecutorKind::Process, Some(2)).unwrap();
    let expected = Pipeline::new(steps()).unwrap().run(&x).unwrap();
    // Process workers are 1 and 2 in the records; the calling thread is 0.
    let workers = |run: &tracekit::Run| run.records().iter().map(|r| r.worker).min();
    let inside = p.as_pipeline().run(&x).unwrap();
    assert!(inside.output().bit_eq(expected.output()));
    assert!(workers(&inside) >= Some(1), "{:?}", inside.records());
    let via_as_ref: &Pipeline = p.as_ref();
    assert!(workers(&via_as_ref.run(&x).unwrap()) >= Some(1));
    let owned = p.into_pipeline();
    assert!(workers(&owned.run(&x).unwrap()) >= Some(1));
    assert!(workers(&owned.run_batch(&[x.clone(), x]).unwrap()[1]) >= Some(1));
}

#[test]
fn a_pipeline_runs_on_the_executor_it_is_given() {
    let x = input(0.25);
    let sequential = Pipeline::new(steps()).unwrap();
    let expected = sequential.run(&x).unwrap();
    assert!(expected.records().iter().all(|r| r.worker == 0));
    let mut p = sequential
        .clone()
        .with_executor(Arc::new(tracekit::exec::ProcessExecutor::new(1).unwrap()));
    let out = p.transform(&x).unwrap();
    assert!(out.bit_eq(expected.output()));
    assert!(
        p.last_run()
            .unwrap()
            .records()
            .iter()
            .all(|r| r.worker == 1)
    );
    let each = p.run_batch_each(&[x.clone(), nan_first(&x)]);
    assert_eq!(each.len(), 2);
    assert!(each.iter().all(Result::is_ok));
}
