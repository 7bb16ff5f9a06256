//! How many stages run at once: automatic workers never more than the
//! machine's CPUs, an explicit number exactly that many.
//!
//! The stages only count: each one entering adds to `running` and raises
//! `max`, then waits (polling, never blocking on the others) until `target`
//! stages ran at once or a deadline passed, and leaves. So no run can hang,
//! the test asserts no times, and a run that allows `target` stages at once
//! reaches it.

use std::{
    num::NonZeroUsize,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use tracekit::{
    ExecutorKind, INPUT, ParallelPipeline, StageError, Step, Trace, Transformer,
    exec::ThreadExecutor,
};

/// How long a stage waits for the others at most: only a run that cannot
/// reach the target waits this long.
const PATIENCE: Duration = Duration::from_secs(20);

/// Counts the stages running at once and waits for `target` of them.
#[derive(Clone)]
struct Meet {
    target: usize,
    running: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
    met: Arc<AtomicBool>,
}

impl Meet {
    fn new(target: usize) -> Meet {
        Meet {
            target,
            running: Arc::default(),
            max: Arc::default(),
            met: Arc::default(),
        }
    }

    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

impl Transformer for Meet {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        if now >= self.target {
            self.met.store(true, Ordering::SeqCst);
        }
        let deadline = Instant::now() + PATIENCE;
        while !self.met.load(Ordering::SeqCst) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        // A moment more, so that a run allowing more stages at once than it
        // should shows it.
        thread::sleep(Duration::from_millis(2));
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(i[0].clone())
    }
}

/// `width` stages of `meet`, all reading the input.
fn fan_out(meet: &Meet, width: usize) -> Vec<Step> {
    (0..width)
        .map(|k| Step::new(format!("s{k}"), meet.clone()).input(INPUT))
        .collect()
}

fn cpus() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

fn input() -> Trace {
    Trace::new(vec![1.0, 2.0], 1e3).unwrap()
}

#[test]
fn automatic_workers_run_at_most_as_many_stages_as_cpus() {
    let cpus = cpus();
    let auto = ExecutorKind::Thread.auto_workers();
    // Wider than the automatic workers, so that only the limit keeps stages
    // out; the first `cpus` stages wait for one another, so they meet, and
    // any stage beyond them would be counted while they wait.
    let width = 2 * auto;
    let meet = Meet::new(cpus);
    let p = ParallelPipeline::new(fan_out(&meet, width)).unwrap();
    assert_eq!(p.resolved_workers(), auto);
    p.run(&input()).unwrap();
    assert_eq!(
        meet.max(),
        cpus,
        "automatic workers ({auto}) on {cpus} CPUs"
    );
    // A batch too.
    let meet = Meet::new(cpus);
    let p = ParallelPipeline::new(fan_out(&meet, 3)).unwrap();
    p.run_batch(&vec![input(); 2 * auto]).unwrap();
    assert_eq!(meet.max(), cpus, "a batch, {cpus} CPUs");
    // The executor's own default is the same.
    let meet = Meet::new(cpus);
    let p = tracekit::Pipeline::new(fan_out(&meet, width)).unwrap();
    p.run_on(&ThreadExecutor::default(), &input()).unwrap();
    assert_eq!(meet.max(), cpus, "ThreadExecutor::default on {cpus} CPUs");
}

#[test]
fn explicit_workers_run_exactly_that_many_stages_at_once() {
    let cpus = cpus();
    // Below, at and above the CPUs, up to the automatic workers' figure.
    for workers in [2, cpus, cpus + 4] {
        let meet = Meet::new(workers);
        let p = ParallelPipeline::with_config(
            fan_out(&meet, 2 * workers),
            ExecutorKind::Thread,
            Some(workers),
        )
        .unwrap();
        p.run(&input()).unwrap();
        assert_eq!(meet.max(), workers, "{workers} workers");
    }
}
