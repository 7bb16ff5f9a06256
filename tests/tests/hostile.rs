//! Hostile inputs: each a clear error, or a correct result, never a panic or a hang.

use tracekit_conformance::{Op, TestStage};
use tracekit_core::{Error, INPUT, ParamValue, Pipeline, Step, Trace};

fn stage(op: Op) -> TestStage {
    TestStage { op, k: 1.0 }
}

#[test]
fn ten_thousand_step_chain_runs() {
    let p =
        Pipeline::new((0..10_000).map(|i| Step::new(format!("s{i}"), stage(Op::Offset)))).unwrap();
    let out = p.run(&Trace::new(vec![0.0, 1.0], 1.0).unwrap()).unwrap();
    assert_eq!(out.output().samples(), &[10_000.0, 10_001.0]);
    assert_eq!(p.get_execution_order().len(), 10_000);
}

#[test]
fn ten_thousand_wide_fan_out_and_fan_in() {
    let mut steps: Vec<Step> = (0..10_000)
        .map(|i| Step::new(format!("w{i}"), stage(Op::Offset)).input(INPUT))
        .collect();
    steps.push(Step::new("join", stage(Op::Sum)).inputs((0..10_000).map(|i| format!("w{i}"))));
    let p = Pipeline::new(steps).unwrap();
    assert_eq!(p.get_execution_order().len(), 2);
    let out = p.run(&Trace::new(vec![1.0], 1.0).unwrap()).unwrap();
    assert_eq!(out.output().samples(), &[20_000.0]);
}

#[test]
fn huge_and_control_character_names() {
    for name in [
        "x".repeat(1 << 20),
        "a\0b".into(),
        "tab\there".into(),
        "\u{7f}".into(),
    ] {
        let e = Pipeline::new([Step::new(name, stage(Op::Scale))]).unwrap_err();
        assert!(matches!(e, Error::InvalidStepName { .. }), "{e}");
        assert!(e.to_string().len() < 300, "the message stays short");
    }
    // A long reference to a missing step is reported, not echoed in full.
    let e =
        Pipeline::new([Step::new("a", stage(Op::Scale)).input("y".repeat(1 << 20))]).unwrap_err();
    assert!(matches!(e, Error::UnknownInput { .. }));
    assert!(e.to_string().len() < 300, "{}", e.to_string().len());
}

#[test]
fn self_loops_and_long_cycles() {
    let e = Pipeline::new([Step::new("me", stage(Op::Scale)).input("me")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Circular dependency detected in pipeline: me -> me"
    );
    let n = 5_000;
    let steps = (0..n)
        .map(|i| Step::new(format!("c{i}"), stage(Op::Scale)).input(format!("c{}", (i + 1) % n)));
    let e = Pipeline::new(steps).unwrap_err();
    match e {
        Error::Cycle { path } => assert_eq!(path.len(), n + 1),
        other => panic!("expected a cycle, got {other}"),
    }
}

#[test]
fn params_of_the_wrong_type() {
    let mut p = Pipeline::new([Step::new("s", stage(Op::Scale))]).unwrap();
    let e = p
        .set_params([("s__k", ParamValue::from("loud"))])
        .unwrap_err();
    assert!(matches!(e, Error::InvalidParameterValue { .. }), "{e}");
    let e = p.set_params([("s__nope", 1.0)]).unwrap_err();
    assert!(e.to_string().contains("Valid parameters: [k]"), "{e}");
    let e = p.set_params([("nodelimiter", 1.0)]).unwrap_err();
    assert!(e.to_string().contains("step__param"), "{e}");
}

#[test]
fn huge_pipelines_on_every_executor() {
    use tracekit_exec_process::ProcessExecutor;
    use tracekit_exec_thread::ThreadExecutor;
    let chain =
        Pipeline::new((0..10_000).map(|i| Step::new(format!("s{i}"), stage(Op::Offset)))).unwrap();
    let mut wide: Vec<Step> = (0..10_000)
        .map(|i| Step::new(format!("w{i}"), stage(Op::Offset)).input(INPUT))
        .collect();
    wide.push(Step::new("join", stage(Op::Sum)).inputs((0..10_000).map(|i| format!("w{i}"))));
    let wide = Pipeline::new(wide).unwrap();
    let x = Trace::new(vec![1.0, 2.0], 1.0).unwrap();
    let thread = ThreadExecutor::new(4);
    let process = ProcessExecutor::new(2).unwrap();
    for p in [&chain, &wide] {
        let expected = p.run(&x).unwrap();
        for executor in [&thread as &dyn tracekit_core::Executor, &process] {
            let got = p.run_on(executor, &x).unwrap();
            assert!(got.output().bit_eq(expected.output()));
        }
    }
}

#[test]
fn a_trace_of_2_pow_26_samples_through_the_process_executor() {
    use tracekit_exec_process::ProcessExecutor;
    let n = 1usize << 26;
    let p = Pipeline::new([
        Step::new("a", stage(Op::Scale)).input(INPUT),
        Step::new("b", stage(Op::Offset)).input(INPUT),
        Step::new("sum", stage(Op::Sum)).inputs(["a", "b"]),
    ])
    .unwrap();
    let x = Trace::new((0..n).map(|i| (i % 1000) as f64).collect(), 1.0e9).unwrap();
    let run = p.run_on(&ProcessExecutor::new(2).unwrap(), &x).unwrap();
    let y = run.output().samples();
    assert_eq!(y.len(), n);
    assert_eq!(y[999], 999.0 * 2.0 + 1.0);
    assert_eq!(y[n - 1], ((n - 1) % 1000) as f64 * 2.0 + 1.0);
}
