//! What travels between ranks: traces, runs and run errors as bytes.
//!
//! Little-endian, length-prefixed, floats by their bits, so a trace that
//! travels comes back bit for bit. Decoding checks every length against what
//! is left, so a damaged message is an error, never a huge allocation.

use std::{collections::BTreeMap, fmt, time::Duration};

use tracekit_core::{
    Domain, Error as CoreError, ErrorClass, Plan, Run, RunSet, StageOutput, StageRecord, Trace,
    TraceMeta,
};

use crate::Error;

/// Appends fields to a message.
#[derive(Debug, Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }

    pub(crate) fn text(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn trace(&mut self, t: &Trace) {
        let meta = t.meta();
        self.f64(meta.sample_rate);
        self.f64(meta.start);
        self.u8(match meta.domain {
            Domain::Time => 0,
            Domain::Frequency => 1,
        });
        self.text(&meta.channel);
        self.text(&meta.units);
        self.u64(meta.measurements.len() as u64);
        for (k, v) in &meta.measurements {
            self.text(k);
            self.f64(*v);
        }
        self.u64(meta.attributes.len() as u64);
        for (k, v) in &meta.attributes {
            self.text(k);
            self.text(v);
        }
        let samples = t.samples();
        self.u64(samples.len() as u64);
        // One resize and a plain loop over fixed chunks: as fast as a copy.
        let start = self.0.len();
        self.0.resize(start + samples.len() * 8, 0);
        for (out, x) in self.0[start..].chunks_exact_mut(8).zip(samples) {
            out.copy_from_slice(&x.to_le_bytes());
        }
    }

    fn duration(&mut self, d: Duration) {
        self.u64(d.as_secs());
        self.u64(u64::from(d.subsec_nanos()));
    }

    /// One run's result: every kept stage output and the stage records, or the error.
    pub(crate) fn run_result(&mut self, result: &Result<Run, CoreError>) {
        match result {
            Ok(run) => {
                self.u8(0);
                let records = run.records();
                self.u64(records.len() as u64);
                for record in records {
                    self.duration(record.start);
                    self.duration(record.duration);
                    self.u64(record.worker as u64);
                }
                let kept = run.kept_steps();
                self.u64(kept.len() as u64);
                for step in kept {
                    self.text(step);
                    if let Some(t) = run.get(step) {
                        self.trace(t);
                    }
                }
            }
            Err(e) => {
                self.u8(1);
                self.error(e);
            }
        }
    }

    fn error(&mut self, e: &CoreError) {
        match e {
            CoreError::Stage { step, source } => {
                self.u8(1);
                self.text(step);
                self.text(&source.to_string());
            }
            CoreError::StagePanicked { step, message } => {
                self.u8(2);
                self.text(step);
                self.text(message);
            }
            CoreError::Timeout { step, limit } => {
                self.u8(3);
                self.text(step);
                self.duration(*limit);
            }
            CoreError::InvalidConfig(m) => {
                self.u8(5);
                self.text(m);
            }
            CoreError::InvalidTrace(m) => {
                self.u8(6);
                self.text(m);
            }
            CoreError::Internal(m) => {
                self.u8(7);
                self.text(m);
            }
            // Any other error (a backend's own, a crashed worker...) travels
            // as its class, step and message: it reads the same on rank 0.
            other => {
                self.u8(8);
                self.u8(class_code(other.class()));
                match other.step() {
                    Some(step) => {
                        self.u8(1);
                        self.text(step);
                    }
                    None => self.u8(0),
                }
                self.text(&other.to_string());
            }
        }
    }
}

const CLASSES: [ErrorClass; 8] = [
    ErrorClass::InvalidArgument,
    ErrorClass::Pipeline,
    ErrorClass::NotFound,
    ErrorClass::Stage,
    ErrorClass::Worker,
    ErrorClass::Timeout,
    ErrorClass::Io,
    ErrorClass::Internal,
];

fn class_code(class: ErrorClass) -> u8 {
    CLASSES
        .iter()
        .position(|c| *c == class)
        .map_or(7, |i| i as u8)
}

/// Reads fields from a message, checking each length against what is left.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.bytes.len() {
            return Err(Error::Protocol(format!(
                "a message ends early: {n} more bytes expected, {} left",
                self.bytes.len()
            )));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The bytes not read yet.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.bytes
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn f64(&mut self) -> Result<f64, Error> {
        self.u64().map(f64::from_bits)
    }

    /// A count of items of at least `item` bytes each, checked against what is left.
    fn count(&mut self, item: usize) -> Result<usize, Error> {
        let n = self.u64()?;
        match usize::try_from(n) {
            Ok(n) if n.checked_mul(item).is_some_and(|b| b <= self.bytes.len()) => Ok(n),
            _ => Err(Error::Protocol(format!(
                "a message says it holds {n} items of {item} bytes, but has {} bytes left",
                self.bytes.len()
            ))),
        }
    }

    pub(crate) fn text(&mut self) -> Result<String, Error> {
        let n = self.count(1)?;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| Error::Protocol("a message holds text that is not UTF-8".into()))
    }

    pub(crate) fn trace(&mut self) -> Result<Trace, Error> {
        let sample_rate = self.f64()?;
        let start = self.f64()?;
        let domain = match self.u8()? {
            0 => Domain::Time,
            1 => Domain::Frequency,
            d => return Err(Error::Protocol(format!("unknown trace domain {d}"))),
        };
        let channel = self.text()?;
        let units = self.text()?;
        let mut measurements = BTreeMap::new();
        for _ in 0..self.count(16)? {
            let k = self.text()?;
            measurements.insert(k, self.f64()?);
        }
        let mut attributes = BTreeMap::new();
        for _ in 0..self.count(16)? {
            let k = self.text()?;
            attributes.insert(k, self.text()?);
        }
        let n = self.count(8)?;
        let samples = self
            .take(n * 8)?
            .chunks_exact(8)
            .map(|b| {
                f64::from_bits(u64::from_le_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))
            })
            .collect();
        let meta = TraceMeta {
            sample_rate,
            start,
            domain,
            channel,
            units,
            measurements,
            attributes,
        };
        Trace::with_meta(samples, meta).map_err(Error::Pipeline)
    }

    fn duration(&mut self) -> Result<Duration, Error> {
        let secs = self.u64()?;
        let nanos = self.u64()?;
        u32::try_from(nanos)
            .ok()
            .filter(|n| *n < 1_000_000_000)
            .map(|n| Duration::new(secs, n))
            .ok_or_else(|| Error::Protocol(format!("a duration holds {nanos} nanoseconds")))
    }

    /// A run result written by [`Writer::run_result`], rebuilt for `plan`
    /// and the `input` it ran on.
    pub(crate) fn run_result(
        &mut self,
        plan: &Plan<'_>,
        input: &Trace,
    ) -> Result<Result<Run, CoreError>, Error> {
        match self.u8()? {
            0 => {
                let n = self.count(40)?;
                if n != plan.len() {
                    return Err(Error::Protocol(format!(
                        "a run came back with {n} stages; the pipeline has {}",
                        plan.len()
                    )));
                }
                let mut records = Vec::with_capacity(n);
                for _ in 0..n {
                    let start = self.duration()?;
                    let duration = self.duration()?;
                    let worker = self.u64()? as usize;
                    records.push(StageRecord {
                        start,
                        duration,
                        worker,
                    });
                }
                let mut results: Vec<Option<Trace>> = vec![None; n];
                for _ in 0..self.count(8)? {
                    let step = self.text()?;
                    let i = (0..n).find(|&i| plan.name(i) == step).ok_or_else(|| {
                        Error::Protocol(format!("a run came back with an unknown step '{step}'"))
                    })?;
                    results[i] = Some(self.trace()?);
                }
                Ok(rebuild(plan, input, results, records))
            }
            1 => self.error().map(Err),
            t => Err(Error::Protocol(format!("unknown run result tag {t}"))),
        }
    }

    fn error(&mut self) -> Result<CoreError, Error> {
        Ok(match self.u8()? {
            1 => CoreError::Stage {
                step: self.text()?,
                source: Box::new(RemoteError(self.text()?)),
            },
            2 => CoreError::StagePanicked {
                step: self.text()?,
                message: self.text()?,
            },
            3 => CoreError::Timeout {
                step: self.text()?,
                limit: self.duration()?,
            },
            5 => CoreError::InvalidConfig(self.text()?),
            6 => CoreError::InvalidTrace(self.text()?),
            7 => CoreError::Internal(self.text()?),
            8 => {
                let class = *CLASSES
                    .get(usize::from(self.u8()?))
                    .ok_or_else(|| Error::Protocol("unknown error class".into()))?;
                let step = match self.u8()? {
                    0 => None,
                    _ => Some(self.text()?),
                };
                CoreError::backend(class, step.as_deref(), RemoteError(self.text()?))
            }
            t => return Err(Error::Protocol(format!("unknown error tag {t}"))),
        })
    }
}

/// What another rank computed for one stage: the trace, where the plan keeps one.
struct Remote(Option<Trace>);

impl StageOutput for Remote {
    fn into_trace(self) -> Option<Trace> {
        self.0
    }
}

/// The [`Run`] of `input` from the outputs and records another rank sent:
/// core's batch engine assembles it, stage by stage in schedule order, as
/// for a run on this rank.
fn rebuild(
    plan: &Plan<'_>,
    input: &Trace,
    mut results: Vec<Option<Trace>>,
    records: Vec<StageRecord>,
) -> Result<Run, CoreError> {
    let inputs = std::slice::from_ref(input);
    let mut set: RunSet<'_, Remote> = RunSet::new(plan, inputs, 1);
    while let Some(task) = set.next_task() {
        let output = Remote(results.get_mut(task.stage).and_then(Option::take));
        let record = records.get(task.stage).copied().unwrap_or_default();
        set.complete(task, Ok((output, record)));
    }
    set.finish_run()
}

/// A stage's error that happened on another rank: its message, as the stage
/// gave it.
#[derive(Debug)]
pub(crate) struct RemoteError(String);

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RemoteError {}

#[cfg(test)]
mod tests {
    use tracekit_core::{Pipeline, SequentialExecutor, StageError, Step, Transformer};

    use super::*;

    #[derive(Clone)]
    struct Measure;
    impl Transformer for Measure {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            if i[0].is_empty() {
                return Err("needs at least one sample, got 0".into());
            }
            let mean = i[0].samples().iter().sum::<f64>() / i[0].len() as f64;
            Ok(i[0]
                .derive(i[0].samples().iter().map(|x| x / 3.0).collect())
                .with_measurement("mean", mean))
        }
    }

    fn pipeline() -> Pipeline {
        Pipeline::new([Step::new("a", Measure), Step::new("b", Measure)]).unwrap()
    }

    fn input(samples: Vec<f64>) -> Trace {
        let mut meta = TraceMeta::new(1e6);
        meta.start = -0.125;
        meta.domain = Domain::Frequency;
        meta.channel = "CH1".into();
        meta.units = "V".into();
        meta.attributes.insert("vendor".into(), "Rigol".into());
        Trace::with_meta(samples, meta).unwrap()
    }

    #[test]
    fn traces_travel_bit_for_bit() {
        let t = input(vec![0.1, -0.0, f64::NAN, f64::INFINITY, 1e-310]).with_measurement("m", 0.3);
        let mut w = Writer::default();
        w.trace(&t);
        let back = Reader::new(&w.0).trace().unwrap();
        assert!(back.bit_eq(&t));
        assert_eq!(back.meta().attributes, t.meta().attributes);
    }

    #[test]
    fn runs_and_errors_travel() {
        let p = pipeline();
        let plan = p.plan();
        let (good, empty) = (input(vec![1.0, 2.0, 6.0]), input(vec![]));
        let ok = p.run_on(&SequentialExecutor, &good);
        let err = p.run_on(&SequentialExecutor, &empty);
        for (result, given) in [(ok, &good), (err, &empty)] {
            let mut w = Writer::default();
            w.run_result(&result);
            let back = Reader::new(&w.0).run_result(&plan, given).unwrap();
            match (result, back) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.kept_steps(), b.kept_steps());
                    for step in a.kept_steps() {
                        assert!(a.get(step).unwrap().bit_eq(b.get(step).unwrap()));
                    }
                    assert_eq!(a.records(), b.records());
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    assert_eq!(a.step(), b.step());
                    assert!(matches!(b, CoreError::Stage { .. }));
                }
                (a, b) => panic!("{a:?} came back as {b:?}"),
            }
        }
    }

    #[test]
    fn damaged_messages_are_errors() {
        let mut w = Writer::default();
        w.trace(&input(vec![1.0; 100]));
        for cut in [0, 1, 17, w.0.len() - 1] {
            let err = Reader::new(&w.0[..cut]).trace().unwrap_err();
            assert!(matches!(err, Error::Protocol(_)), "{err}");
        }
        // A count far beyond the message is refused before anything is allocated.
        let mut huge = Writer::default();
        huge.u64(u64::MAX);
        assert!(Reader::new(&huge.0).text().is_err());
    }
}
