//! The SPMD fingerprint: what every rank's pipeline must agree on.

use std::fmt;

use tracekit_core::{ParamValue, Pipeline, Plan, Source};

/// A 64-bit digest of a pipeline's structure and parameters.
///
/// Every rank of an SPMD program builds its own copy of the pipeline; before a
/// batch starts, rank 0 compares its fingerprint with every other rank's, and
/// a difference is an error on every rank. The digest covers, in declaration
/// order, each step's name, kind, wiring (where each input comes from) and
/// `get_params()` values (floats by their bits), and which step is the
/// output. It is FNV-1a over a length-prefixed encoding, so it is the same on
/// every machine and in every build.
///
/// ```
/// use tracekit_core::{ParamValue, Pipeline, Step};
/// use tracekit_exec_mpi::Fingerprint;
///
/// let build = |cutoff: f64| -> Result<Pipeline, tracekit_core::Error> {
///     let params = [("cutoff".to_owned(), ParamValue::from(cutoff))].into();
///     Pipeline::new([Step::boxed("lp", tracekit_dsp::build("lowpass", &params)?)])
/// };
/// assert_eq!(Fingerprint::of_pipeline(&build(1e3)?), Fingerprint::of_pipeline(&build(1e3)?));
/// assert_ne!(Fingerprint::of_pipeline(&build(1e3)?), Fingerprint::of_pipeline(&build(2e3)?));
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Fingerprint {
    /// The fingerprint of a plan: its stages, wiring, parameters and output.
    pub fn of(plan: &Plan<'_>) -> Fingerprint {
        let mut h = Hasher::new();
        h.word(plan.len() as u64);
        for i in 0..plan.len() {
            h.text(plan.name(i));
            let stage = plan.stage(i);
            h.text(stage.kind());
            let inputs = plan.inputs(i);
            h.word(inputs.len() as u64);
            for source in inputs {
                match *source {
                    Source::Input => h.word(u64::MAX),
                    Source::Stage(d) => h.word(d as u64),
                }
            }
            let params = stage.get_params();
            h.word(params.len() as u64);
            for (key, value) in &params {
                h.text(key);
                match value {
                    ParamValue::Float(x) => {
                        h.byte(0);
                        h.word(x.to_bits());
                    }
                    ParamValue::Int(x) => {
                        h.byte(1);
                        h.word(*x as u64);
                    }
                    ParamValue::Bool(x) => {
                        h.byte(2);
                        h.byte(u8::from(*x));
                    }
                    ParamValue::Text(x) => {
                        h.byte(3);
                        h.text(x);
                    }
                }
            }
        }
        h.word(plan.output() as u64);
        Fingerprint(h.0)
    }

    /// The fingerprint of a pipeline's plan; see [`Fingerprint::of`].
    pub fn of_pipeline(pipeline: &Pipeline) -> Fingerprint {
        Fingerprint::of(&pipeline.plan())
    }

    /// This fingerprint with `extra` mixed in: for programs whose ranks must
    /// also agree on something besides the pipeline (the list of input files,
    /// the output options).
    ///
    /// ```
    /// use tracekit_exec_mpi::Fingerprint;
    ///
    /// let base = Fingerprint(7);
    /// assert_eq!(base.with(b"a.wav"), base.with(b"a.wav"));
    /// assert_ne!(base.with(b"a.wav"), base.with(b"b.wav"));
    /// ```
    pub fn with(self, extra: &[u8]) -> Fingerprint {
        let mut h = Hasher(self.0);
        h.bytes(extra);
        Fingerprint(h.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// FNV-1a, fed length-prefixed fields so that no two encodings run together.
struct Hasher(u64);

impl Hasher {
    fn new() -> Hasher {
        Hasher(FNV_OFFSET)
    }

    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }

    fn word(&mut self, w: u64) {
        w.to_le_bytes().iter().for_each(|&b| self.byte(b));
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        bytes.iter().for_each(|&b| self.byte(b));
    }

    fn text(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use tracekit_core::{INPUT, Params, Step};

    use super::*;

    fn step(name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Step {
        let params: Params = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        Step::boxed(name, tracekit_dsp::build(kind, &params).unwrap())
    }

    fn fp(steps: Vec<Step>) -> Fingerprint {
        Fingerprint::of_pipeline(&Pipeline::new(steps).unwrap())
    }

    #[test]
    fn the_same_pipeline_gives_the_same_fingerprint() {
        let a = fp(vec![step("s", "scale", &[("factor", 2.0.into())])]);
        let b = fp(vec![step("s", "scale", &[("factor", 2.0.into())])]);
        assert_eq!(a, b);
        assert_eq!(a.to_string().len(), 16);
    }

    #[test]
    fn names_kinds_params_wiring_and_output_all_count() {
        let base = || {
            vec![
                step("a", "scale", &[("factor", 2.0.into())]),
                step("b", "offset", &[("value", 1.0.into())]),
            ]
        };
        let reference = fp(base());
        let renamed = fp(vec![
            step("x", "scale", &[("factor", 2.0.into())]),
            step("b", "offset", &[("value", 1.0.into())]),
        ]);
        let other_kind = fp(vec![
            step("a", "offset", &[("value", 2.0.into())]),
            step("b", "offset", &[("value", 1.0.into())]),
        ]);
        let other_param = fp(vec![
            step("a", "scale", &[("factor", 2.0000000000000004.into())]),
            step("b", "offset", &[("value", 1.0.into())]),
        ]);
        let rewired = fp(vec![
            step("a", "scale", &[("factor", 2.0.into())]),
            step("b", "offset", &[("value", 1.0.into())]).input(INPUT),
        ]);
        let other_output =
            Fingerprint::of_pipeline(&Pipeline::new(base()).unwrap().with_output("a").unwrap());
        for (what, other) in [
            ("name", renamed),
            ("kind", other_kind),
            ("parameter", other_param),
            ("wiring", rewired),
            ("output", other_output),
        ] {
            assert_ne!(
                reference, other,
                "a different {what} must change the fingerprint"
            );
        }
    }

    #[test]
    fn extra_data_is_length_prefixed() {
        let base = Fingerprint(1);
        assert_ne!(base.with(b"ab").with(b"c"), base.with(b"a").with(b"bc"));
    }
}
