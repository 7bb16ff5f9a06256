//! The test stages.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread::{self, ThreadId},
    time::{Duration, Instant},
};

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, unknown_param};

/// `x * factor`; kind `scale`, parameter `factor`.
#[derive(Debug, Clone)]
pub struct Scale(pub f64);

impl Transformer for Scale {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        Ok(i[0].derive(i[0].samples().iter().map(|x| x * self.0).collect()))
    }
    fn kind(&self) -> &str {
        "scale"
    }
    fn get_params(&self) -> Params {
        Params::from([("factor".to_string(), ParamValue::Float(self.0))])
    }
    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match (name, value.as_f64()) {
            ("factor", Some(f)) => {
                self.0 = f;
                Ok(())
            }
            ("factor", None) => Err(format!("factor must be a number, got {value}").into()),
            _ => Err(unknown_param(name, &self.get_params())),
        }
    }
}

/// `x + value`; kind `offset`.
#[derive(Debug, Clone)]
pub struct Offset(pub f64);

impl Transformer for Offset {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        Ok(i[0].derive(i[0].samples().iter().map(|x| x + self.0).collect()))
    }
    fn kind(&self) -> &str {
        "offset"
    }
}

/// Element-wise sum of every input, plus a `sum` measurement; inputs of
/// unequal length are a stage error.
#[derive(Debug, Clone)]
pub struct Sum;

impl Transformer for Sum {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let mut acc = vec![0.0; i[0].len()];
        for t in i {
            if t.len() != acc.len() {
                return Err(format!("lengths differ: {} and {}", t.len(), acc.len()).into());
            }
            acc.iter_mut().zip(t.samples()).for_each(|(a, x)| *a += x);
        }
        let total: f64 = acc.iter().sum();
        Ok(i[0].derive(acc).with_measurement("sum", total))
    }
}

/// `sin(a * x + b)` on the element-wise sum of all inputs (truncated to the
/// shortest), with a `mean` measurement: cheap, and sensitive to any change
/// of order or input.
#[derive(Debug, Clone)]
pub struct Affine(pub f64, pub f64);

impl Transformer for Affine {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let n = inputs.iter().map(|t| t.len()).min().unwrap_or(0);
        let samples: Vec<f64> = (0..n)
            .map(|k| self.0 * inputs.iter().map(|t| t.samples()[k]).sum::<f64>() + self.1)
            .map(f64::sin)
            .collect();
        let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
        Ok(inputs[0].derive(samples).with_measurement("mean", mean))
    }

    fn kind(&self) -> &str {
        "affine"
    }
}

/// Passes its first input through unchanged (the same shared samples).
#[derive(Debug, Clone)]
pub struct Identity;

impl Transformer for Identity {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        Ok(i[0].clone())
    }
}

/// Fails when the first input's first sample equals the marker; else adds one.
#[derive(Debug, Clone)]
pub struct FailOn(pub f64);

impl Transformer for FailOn {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        match inputs[0].samples().first() {
            Some(&x) if x == self.0 => Err(format!("bad first sample {x}").into()),
            _ => Ok(inputs[0].derive(inputs[0].samples().iter().map(|x| x + 1.0).collect())),
        }
    }
}

/// Panics when the first input's first sample equals the marker; else passes it through.
#[derive(Debug, Clone)]
pub struct PanicOn(pub f64);

impl Transformer for PanicOn {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        if inputs[0].samples().first() == Some(&self.0) {
            panic!("boom at {}", self.0);
        }
        Ok(inputs[0].clone())
    }
}

/// Always fails, with this message.
#[derive(Debug, Clone)]
pub struct Fails(pub &'static str);

impl Transformer for Fails {
    fn transform(&self, _: &[&Trace]) -> Result<Trace, StageError> {
        Err(self.0.into())
    }
}

/// Always panics, with this message.
#[derive(Debug, Clone)]
pub struct Panics(pub &'static str);

impl Transformer for Panics {
    fn transform(&self, _: &[&Trace]) -> Result<Trace, StageError> {
        panic!("{}", self.0)
    }
}

/// `x - mean`, where `fit` learns the mean (0 until fitted).
#[derive(Debug, Clone, Default)]
pub struct Center {
    /// The mean learned by `fit`.
    pub mean: f64,
}

impl Transformer for Center {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        Ok(i[0].derive(i[0].samples().iter().map(|x| x - self.mean).collect()))
    }
    fn fit(&mut self, i: &[&Trace]) -> Result<(), StageError> {
        let s = i[0].samples();
        self.mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
        Ok(())
    }
}

/// Burns CPU for about this many milliseconds, then scales by 1.5.
#[derive(Debug, Clone)]
pub struct Burn(pub u64);

impl Transformer for Burn {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let end = Instant::now() + Duration::from_millis(self.0);
        let mut x = 1.0f64;
        while Instant::now() < end {
            for _ in 0..1000 {
                x = (x * 1.000_001).sin() + 1.0;
            }
        }
        std::hint::black_box(x);
        Ok(i[0].derive(i[0].samples().iter().map(|v| v * 1.5).collect()))
    }
}

/// Sleeps, then passes the first input through; counts its calls, the
/// stages running at once, and the threads it ran on. Clones share the
/// counters.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// How long each call sleeps.
    pub sleep: Duration,
    /// Calls so far.
    pub calls: Arc<AtomicUsize>,
    /// Calls running now.
    pub running: Arc<AtomicUsize>,
    /// The most calls that ran at once.
    pub max_running: Arc<AtomicUsize>,
    /// The thread of each call.
    pub threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl Probe {
    /// A probe that sleeps `ms` milliseconds per call.
    pub fn sleeping(ms: u64) -> Probe {
        Probe {
            sleep: Duration::from_millis(ms),
            ..Probe::default()
        }
    }
}

impl Transformer for Probe {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        self.threads
            .lock()
            .map_err(|_| "poisoned")?
            .push(thread::current().id());
        thread::sleep(self.sleep);
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(inputs[0].clone())
    }
}
