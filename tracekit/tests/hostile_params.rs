//! Parameters that ask for terabytes are stage errors with the numbers, on
//! every executor, and the pipeline stays usable.

use tracekit::{ExecutorKind, ParallelPipeline, ParamValue, Params, Step, Trace, dsp};

fn stage(kind: &str, param: &str, value: i64) -> Step {
    let params = Params::from([(param.to_owned(), ParamValue::Int(value))]);
    Step::boxed(kind, dsp::build(kind, &params).unwrap())
}

#[test]
fn huge_buffer_parameters_fail_cleanly_on_every_executor() {
    let input = Trace::new((0..256).map(|k| (k as f64).sin()).collect(), 1e3).unwrap();
    let cases = [
        ("resample", "samples", 1_000_000_000_000),
        ("resample", "samples", i64::MAX),
        ("fft", "nfft", 1_000_000_000_000),
        ("fft", "nfft", i64::MAX),
    ];
    for kind in [
        ExecutorKind::Sequential,
        ExecutorKind::Thread,
        ExecutorKind::Process,
    ] {
        for (stage_kind, param, value) in cases {
            let mut p =
                ParallelPipeline::with_config([stage(stage_kind, param, value)], kind, Some(2))
                    .unwrap();
            let err = p.transform(&input).unwrap_err().to_string();
            assert!(
                err.contains(&format!("Stage '{stage_kind}' failed"))
                    && err.contains(&format!("'{param}' = {value}"))
                    && err.contains("stage memory budget"),
                "{kind:?} {stage_kind} {value}: {err}"
            );
            // A sensible value on the same pipeline works.
            p.set_params([(format!("{stage_kind}__{param}"), ParamValue::Int(512))])
                .unwrap();
            assert_eq!(
                p.transform(&input).unwrap().len(),
                if stage_kind == "fft" { 257 } else { 512 }
            );
        }
    }
}
