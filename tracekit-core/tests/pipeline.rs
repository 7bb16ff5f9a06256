//! Behaviour of the sequential pipeline: construction errors, layering,
//! intermediates, parameters, display and cloning.

use std::time::Duration;

use tracekit_core::{Error, INPUT, ParamValue, Pipeline, StageError, Step, Trace, Transformer};
use tracekit_testkit::{Fails, Offset, Panics, Probe, Scale, Sum, trace};

/// Z-score with statistics learned by fit.
#[derive(Clone, Default)]
struct ZScore {
    mean: Option<f64>,
    std: Option<f64>,
}

impl Transformer for ZScore {
    fn fit(&mut self, i: &[&Trace]) -> Result<(), StageError> {
        let x = i[0].samples();
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
        self.mean = Some(mean);
        self.std = Some(var.sqrt());
        Ok(())
    }
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let (m, s) = (
            self.mean.ok_or("not fitted")?,
            self.std.ok_or("not fitted")?,
        );
        Ok(i[0].derive(i[0].samples().iter().map(|x| (x - m) / s).collect()))
    }
}

fn err_text(r: Result<Pipeline, Error>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn sequential_chain_matches_the_original() {
    let mut p = Pipeline::new([
        Step::new("double", Scale(2.0)),
        Step::new("plus_one", Offset(1.0)),
        Step::new("half", Scale(0.5)),
    ])
    .unwrap();
    let out = p.transform(&trace(&[1.0, 2.0, 3.0, 4.0, 5.0])).unwrap();
    assert_eq!(out.samples(), &[1.5, 2.5, 3.5, 4.5, 5.5]);
    assert_eq!(
        p.get_intermediate("double").unwrap().samples(),
        &[2.0, 4.0, 6.0, 8.0, 10.0]
    );
}

#[test]
fn fitted_zscore_gives_mean_zero_std_one() {
    let mut p = Pipeline::new([Step::new("z", ZScore::default())]).unwrap();
    let x: Vec<f64> = (0..1000)
        .map(|i| (i as f64 * 0.37).sin() * 3.0 + 7.0)
        .collect();
    let out = p.fit_transform(&trace(&x)).unwrap();
    let n = out.len() as f64;
    let mean = out.samples().iter().sum::<f64>() / n;
    let std = (out
        .samples()
        .iter()
        .map(|v| (v - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!(mean.abs() < 1e-10, "{mean}");
    assert!((std - 1.0).abs() < 1e-10, "{std}");
}

#[test]
fn fit_uses_fitted_upstream_outputs() {
    // The z-score sees the doubled signal, so its output is unaffected by the doubling.
    let mut p = Pipeline::new([
        Step::new("d", Scale(2.0)),
        Step::new("z", ZScore::default()),
    ])
    .unwrap();
    let x = trace(&[1.0, 2.0, 3.0]);
    p.fit(&x).unwrap();
    let out = p.transform(&x).unwrap();
    let expect = [-1.224744871391589, 0.0, 1.224744871391589];
    for (a, b) in out.samples().iter().zip(expect) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn construction_errors() {
    assert_eq!(
        err_text(Pipeline::new(Vec::new())),
        "Pipeline steps cannot be empty"
    );
    assert!(
        err_text(Pipeline::new([Step::new("", Scale(1.0))])).contains("Step name cannot be empty")
    );
    let dup = err_text(Pipeline::new([
        Step::new("a", Scale(1.0)),
        Step::new("b", Scale(1.0)),
        Step::new("a", Scale(1.0)),
        Step::new("b", Scale(1.0)),
        Step::new("a", Scale(1.0)),
    ]));
    assert!(dup.contains("Duplicate step names: a, b"), "{dup}");
    assert!(err_text(Pipeline::new([Step::new(INPUT, Scale(1.0))])).contains("reserved"));
    let unknown = err_text(Pipeline::new([
        Step::new("a", Scale(1.0)),
        Step::new("b", Scale(1.0)).input("x"),
    ]));
    assert!(
        unknown.contains("Step 'b' reads 'x', which is not a step"),
        "{unknown}"
    );
}

#[test]
fn hostile_names_are_rejected() {
    let long = "n".repeat(1 << 20);
    let e = err_text(Pipeline::new([Step::new(long, Scale(1.0))]));
    assert!(e.contains("1048576 bytes"), "{e}");
    let e = err_text(Pipeline::new([Step::new("a\0b", Scale(1.0))]));
    assert!(e.contains("control character"), "{e}");
    let e = err_text(Pipeline::new([Step::new("line\nbreak", Scale(1.0))]));
    assert!(e.contains("control character"), "{e}");
}

#[test]
fn cycles_name_their_path() {
    let e = err_text(Pipeline::new([
        Step::new("a", Scale(1.0)).input("b"),
        Step::new("b", Scale(1.0)).input("a"),
    ]));
    assert!(
        e.contains("Circular dependency detected in pipeline: a -> b -> a"),
        "{e}"
    );

    let e = err_text(Pipeline::new([Step::new("self", Scale(1.0)).input("self")]));
    assert!(e.contains("self -> self"), "{e}");

    // A cycle behind a valid prefix, declared out of order.
    let e = err_text(Pipeline::new([
        Step::new("src", Scale(1.0)).input(INPUT),
        Step::new("x", Sum).inputs(["src", "z"]),
        Step::new("z", Scale(1.0)).input("y"),
        Step::new("y", Scale(1.0)).input("x"),
    ]));
    assert!(e.contains("x -> y -> z -> x"), "{e}");
}

#[test]
fn generations_follow_dataflow() {
    // Diamond declared out of order.
    let p = Pipeline::new([
        Step::new("join", Sum).inputs(["left", "right"]),
        Step::new("right", Scale(3.0)).input("src"),
        Step::new("left", Scale(2.0)).input("src"),
        Step::new("src", Offset(1.0)).input(INPUT),
    ])
    .unwrap()
    .with_output("join")
    .unwrap();
    assert_eq!(
        p.get_execution_order(),
        vec![vec!["src"], vec!["right", "left"], vec!["join"]]
    );
    let graph = p.get_dependency_graph();
    assert_eq!(graph["join"], vec!["left", "right"]);
    assert_eq!(graph["src"], Vec::<String>::new());
    let out = p.run(&trace(&[1.0])).unwrap();
    assert_eq!(out.output().samples(), &[10.0]);

    // Fan-out / fan-in with an uneven branch.
    let p = Pipeline::new([
        Step::new("a", Scale(1.0)).input(INPUT),
        Step::new("b", Scale(1.0)).input(INPUT),
        Step::new("c", Scale(1.0)).input("b"),
        Step::new("m", Sum).inputs(["a", "c", INPUT]),
    ])
    .unwrap();
    assert_eq!(
        p.get_execution_order(),
        vec![vec!["a", "b"], vec!["c"], vec!["m"]]
    );

    // Plain chain.
    let p = Pipeline::new([Step::new("x", Scale(1.0)), Step::new("y", Scale(1.0))]).unwrap();
    assert_eq!(p.get_execution_order(), vec![vec!["x"], vec!["y"]]);
}

#[test]
fn default_input_is_previous_step() {
    let p = Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("b", Offset(1.0)).input(INPUT),
        Step::new("c", Scale(10.0)),
    ])
    .unwrap();
    // c reads b (the previous step), not a.
    assert_eq!(p.get_dependency_graph()["c"], vec!["b"]);
    assert_eq!(p.run(&trace(&[1.0])).unwrap().output().samples(), &[20.0]);
}

#[test]
fn with_output_selects_step() {
    let p = Pipeline::new([Step::new("a", Scale(2.0)), Step::new("b", Scale(3.0))])
        .unwrap()
        .with_output("a")
        .unwrap();
    assert_eq!(p.run(&trace(&[1.0])).unwrap().output().samples(), &[2.0]);
    let e = Pipeline::new([Step::new("a", Scale(2.0))])
        .unwrap()
        .with_output("zz")
        .unwrap_err();
    assert_eq!(e.to_string(), "Step 'zz' not found in pipeline");
}

#[test]
fn every_step_runs_even_if_output_does_not_need_it() {
    let mut p = Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("side", Fails("the probe is not connected")).input(INPUT),
    ])
    .unwrap()
    .with_output("a")
    .unwrap();
    let e = p.transform(&trace(&[1.0])).unwrap_err();
    assert_eq!(e.step(), Some("side"));
}

#[test]
fn intermediates() {
    let mut p = Pipeline::new([Step::new("a", Scale(2.0)), Step::new("b", Scale(3.0))]).unwrap();
    let e = p.get_intermediate("a").unwrap_err();
    assert_eq!(
        e.to_string(),
        "No intermediate result for step 'a'. Call transform() first."
    );
    assert!(!p.has_intermediate("a"));
    assert!(p.list_intermediates().is_empty());
    assert!(
        p.get_intermediate("zz")
            .unwrap_err()
            .to_string()
            .contains("Step 'zz' not found")
    );

    p.transform(&trace(&[1.0])).unwrap();
    assert!(p.has_intermediate("a"));
    assert_eq!(p.list_intermediates(), vec!["a", "b"]);
    assert_eq!(p.get_intermediate("b").unwrap().samples(), &[6.0]);
    let e = p.get_intermediate_value("a", "thd_db").unwrap_err();
    assert!(e.to_string().contains("no measurement 'thd_db'"), "{e}");
}

#[test]
fn measurement_values() {
    #[derive(Clone)]
    struct Mean;
    impl Transformer for Mean {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            let m = i[0].samples().iter().sum::<f64>() / i[0].len() as f64;
            Ok(i[0].clone().with_measurement("mean", m))
        }
    }
    let mut p = Pipeline::new([Step::new("m", Mean)]).unwrap();
    p.transform(&trace(&[1.0, 3.0])).unwrap();
    assert_eq!(p.get_intermediate_value("m", "mean").unwrap(), 2.0);
}

#[test]
fn params_round_trip_and_errors() {
    let mut p = Pipeline::new([Step::new("s", Scale(2.0)), Step::new("o", Offset(1.0))]).unwrap();
    let params = p.get_params();
    assert_eq!(params.get("s__factor"), Some(&ParamValue::Float(2.0)));
    assert_eq!(params.len(), 1);

    p.set_params([("s__factor", 5.0)]).unwrap();
    assert_eq!(p.get_params()["s__factor"], ParamValue::Float(5.0));
    assert_eq!(p.run(&trace(&[1.0])).unwrap().output().samples(), &[6.0]);

    let e = p.set_params([("s__gain", 1.0)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid parameter 'gain' for step 's'. Valid parameters: [factor]"
    );
    let e = p.set_params([("o__value", 1.0)]).unwrap_err();
    assert!(
        e.to_string()
            .contains("Invalid parameter 'value' for step 'o'"),
        "{e}"
    );
    let e = p.set_params([("zz__factor", 1.0)]).unwrap_err();
    assert_eq!(e.to_string(), "Step 'zz' not found in pipeline");
    let e = p
        .set_params([("s__factor", ParamValue::from("big"))])
        .unwrap_err();
    assert!(e.to_string().contains("factor must be a number"), "{e}");

    // All or nothing.
    let e = p.set_params([
        ("s__factor", ParamValue::Float(9.0)),
        ("s__nope", ParamValue::Float(1.0)),
    ]);
    assert!(e.is_err());
    assert_eq!(p.get_params()["s__factor"], ParamValue::Float(5.0));
}

#[test]
fn display_like_the_original() {
    let p = Pipeline::new([Step::new("s", Scale(2.0)), Step::new("o", Offset(1.0))]).unwrap();
    assert_eq!(
        p.to_string(),
        "Pipeline([\n  ('s', scale),\n  ('o', offset)\n])"
    );
}

#[test]
fn clones_are_independent() {
    let p = Pipeline::new([Step::new("s", Scale(2.0))]).unwrap();
    let mut c = p.clone();
    c.set_params([("s__factor", 3.0)]).unwrap();
    assert_eq!(p.get_params()["s__factor"], ParamValue::Float(2.0));
    assert_eq!(c.get_params()["s__factor"], ParamValue::Float(3.0));
    assert_ne!(p.plan().state_id(), c.plan().state_id());
}

#[test]
fn state_id_changes_on_mutation() {
    let mut p = Pipeline::new([Step::new("s", Scale(2.0))]).unwrap();
    let id0 = p.plan().state_id();
    p.set_params([("s__factor", 3.0)]).unwrap();
    let id1 = p.plan().state_id();
    assert_ne!(id0, id1);
    let _ = p.named_step_mut("s");
    assert_ne!(p.plan().state_id(), id1);
}

#[test]
fn indexing_and_lookup() {
    let mut p = Pipeline::new([Step::new("s", Scale(2.0)), Step::new("o", Offset(1.0))]).unwrap();
    assert_eq!(p[0].kind(), "scale");
    assert_eq!(p["o"].kind(), "offset");
    assert_eq!(p.len(), 2);
    assert_eq!(p.step_names(), vec!["s", "o"]);
    assert!(p.named_step("x").is_none());
    p.named_step_mut("s")
        .unwrap()
        .set_param("factor", ParamValue::Int(4))
        .unwrap();
    assert_eq!(p.run(&trace(&[1.0])).unwrap().output().samples(), &[5.0]);
}

#[test]
fn stage_errors_and_panics_name_the_step_and_leave_the_pipeline_usable() {
    let mut p = Pipeline::new([
        Step::new("ok", Scale(1.0)),
        Step::new("bad", Fails("the probe is not connected")),
    ])
    .unwrap();
    let e = p.transform(&trace(&[1.0])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Stage 'bad' failed: the probe is not connected"
    );

    let mut p = Pipeline::new([
        Step::new("ok", Scale(1.0)),
        Step::new("boom", Panics("index out of range: 7")),
    ])
    .unwrap();
    let e = p.transform(&trace(&[1.0])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Stage 'boom' panicked: index out of range: 7"
    );
    assert!(matches!(e, Error::StagePanicked { ref step, .. } if step == "boom"));
    // Still usable after the panic: the same pipeline runs again and reports again.
    let e = p.transform(&trace(&[1.0])).unwrap_err();
    assert!(matches!(e, Error::StagePanicked { .. }));
    assert_eq!(
        p.get_intermediate("ok").unwrap_err().to_string(),
        "No intermediate result for step 'ok'. Call transform() first."
    );
    assert!(
        Pipeline::new([Step::new("ok", Scale(1.0))])
            .unwrap()
            .transform(&trace(&[1.0]))
            .is_ok()
    );
}

#[test]
fn nan_and_inf_pass_through_arithmetic() {
    let p = Pipeline::new([Step::new("s", Scale(2.0)), Step::new("o", Offset(1.0))]).unwrap();
    let out = p
        .run(&trace(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]))
        .unwrap();
    let y = out.output().samples();
    assert!(y[0].is_nan());
    assert_eq!(y[1], f64::INFINITY);
    assert_eq!(y[2], f64::NEG_INFINITY);
}

#[test]
fn sequential_stage_timeout_discards_late_results() {
    let mut p = Pipeline::new([Step::new("slow", Probe::sleeping(30))]).unwrap();
    p.set_stage_timeout(Some(Duration::from_millis(5)));
    let e = p.run(&trace(&[1.0])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Stage 'slow' exceeded its time limit of"),
        "{e}"
    );
    p.set_stage_timeout(None);
    assert!(p.run(&trace(&[1.0])).is_ok());
}

#[test]
fn run_keeps_only_requested_outputs_when_asked() {
    let p = Pipeline::new([
        Step::new("a", Scale(2.0)),
        Step::new("b", Scale(3.0)),
        Step::new("c", Scale(4.0)),
    ])
    .unwrap();
    let keep: std::sync::Arc<[bool]> = vec![false, true, false].into();
    let plan = p.plan().with_keep(Some(keep));
    let run =
        tracekit_core::Executor::run(&tracekit_core::SequentialExecutor, &plan, &trace(&[1.0]))
            .unwrap();
    assert!(run.get("a").is_none());
    assert_eq!(run.get("b").unwrap().samples(), &[6.0]);
    assert_eq!(run.output().samples(), &[24.0]);
}

#[test]
fn to_dot_lists_nodes_and_edges() {
    let p = Pipeline::new([
        Step::new("a", Scale(1.0)).input(INPUT),
        Step::new("b", Sum).inputs(["a", INPUT]),
    ])
    .unwrap();
    let dot = p.to_dot();
    assert!(dot.starts_with("digraph pipeline {"));
    assert!(dot.contains("\"input\" -> \"a\";"));
    assert!(dot.contains("\"a\" -> \"b\";"));
    assert!(dot.contains("\"input\" -> \"b\";"));
}

#[test]
fn analysis_of_ten_thousand_steps() {
    let steps = (0..10_000).map(|i| Step::new(format!("s{i}"), Scale(1.0)));
    let p = Pipeline::new(steps).unwrap();
    assert_eq!(p.get_execution_order().len(), 10_000);
    let wide = (0..10_000).map(|i| Step::new(format!("w{i}"), Scale(1.0)).input(INPUT));
    let p = Pipeline::new(wide).unwrap();
    assert_eq!(p.get_execution_order().len(), 1);
    // A 10,000-step run on the sequential executor works without deep recursion.
    let steps = (0..10_000).map(|i| Step::new(format!("s{i}"), Scale(1.0)));
    let p = Pipeline::new(steps).unwrap();
    assert_eq!(p.run(&trace(&[3.0])).unwrap().output().samples(), &[3.0]);
}

#[test]
fn run_is_reentrant_across_threads() {
    let p = Pipeline::new([Step::new("a", Scale(2.0)), Step::new("b", Offset(1.0))]).unwrap();
    std::thread::scope(|s| {
        for k in 0..4 {
            let p = &p;
            s.spawn(move || {
                let out = p.run(&trace(&[k as f64])).unwrap();
                assert_eq!(out.output().samples(), &[2.0 * k as f64 + 1.0]);
            });
        }
    });
}
