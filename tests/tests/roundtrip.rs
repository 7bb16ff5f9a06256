//! Property 4: `to_spec` then `spec::load` gives a pipeline with identical results.

use proptest::prelude::*;
use tracekit::{ExecutorKind, INPUT, ParamValue, Params, Pipeline, Step, Trace, dsp, spec};

/// A built-in kind with valid random parameters, for a trace at 1 kHz.
fn builtin() -> impl Strategy<Value = (&'static str, Params)> {
    let p = |pairs: Vec<(&str, ParamValue)>| -> Params {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    };
    prop_oneof![
        (-5.0f64..5.0).prop_map(move |f| ("scale", p(vec![("factor", f.into())]))),
        (-5.0f64..5.0).prop_map(move |v| ("offset", p(vec![("value", v.into())]))),
        (-2.0f64..0.0, 0.0f64..2.0)
            .prop_map(move |(l, h)| ("clip", p(vec![("low", l.into()), ("high", h.into())]))),
        (1i64..8).prop_map(move |n| ("moving_average", p(vec![("length", n.into())]))),
        prop::sample::select(vec!["mean", "linear"])
            .prop_map(move |t| ("detrend", p(vec![("type", t.into())]))),
        (1.0f64..400.0, 1i64..6, any::<bool>()).prop_map(move |(c, o, z)| (
            "lowpass",
            p(vec![
                ("cutoff", c.into()),
                ("order", o.into()),
                ("zero_phase", z.into())
            ])
        )),
        prop::sample::select(vec!["zscore", "minmax"])
            .prop_map(move |m| ("normalize", p(vec![("method", m.into())]))),
        Just(("stats", Params::new())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn to_spec_round_trips(
        stages in proptest::collection::vec((builtin(), any::<bool>()), 1..8),
        kind in prop::sample::select(ExecutorKind::ALL.to_vec()),
        workers in proptest::option::of(1usize..8),
        samples in proptest::collection::vec(-10.0f64..10.0, 64..256),
    ) {
        let mut steps: Vec<Step> = stages
            .iter()
            .enumerate()
            .map(|(i, ((kind, params), from_input))| {
                let step = Step::boxed(format!("s{i}"), dsp::build(kind, params).unwrap());
                if *from_input { step.input(INPUT) } else { step }
            })
            .collect();
        let names: Vec<String> = (0..steps.len()).map(|i| format!("s{i}")).collect();
        steps.push(Step::boxed("join", dsp::build("merge", &Params::from([("op".to_string(), "sum".into())])).unwrap()).inputs(names));
        let pipeline = tracekit::ParallelPipeline::from_pipeline(Pipeline::new(steps).unwrap(), kind, workers);
        let text = pipeline.to_spec();
        let loaded = spec::load(&text).unwrap();
        prop_assert_eq!(loaded.executor_type(), kind);
        prop_assert_eq!(loaded.max_workers(), workers);
        prop_assert_eq!(loaded.get_params(), pipeline.get_params());
        prop_assert_eq!(loaded.get_dependency_graph(), pipeline.get_dependency_graph());
        prop_assert_eq!(loaded.to_spec(), text);
        let input = Trace::new(samples, 1000.0).unwrap();
        let (a, b) = (pipeline.as_pipeline().run(&input).unwrap(), loaded.as_pipeline().run(&input).unwrap());
        for name in pipeline.step_names() {
            prop_assert!(a.get(name).unwrap().bit_eq(b.get(name).unwrap()), "{}", name);
        }
    }
}
