//! The parent's loop for one call: it moves the tasks of a core [`RunSet`]
//! to free workers, sends their inputs' segments, turns replies into
//! outputs, and deaths and time limits into errors. The set decides what
//! may run and which failure counts.

use std::{
    collections::{HashMap, VecDeque},
    os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd},
    sync::Arc,
    time::{Duration, Instant},
};

use nix::errno::Errno;
use tracekit_core::{Error, Plan, RunSet, Source, Task};

use crate::{
    ProcessError,
    inputs::InputCache,
    reply::{Answered, Output, Replies, death},
    segment::{Recycler, Segment},
    sys::{self, Forker},
    wire::{Request, Status},
    worker::{Received, Worker},
};

/// How often the parent checks, while it waits, that busy workers still live
/// (their end of the socket could be held open by another process's fork).
const TICK: Duration = Duration::from_millis(100);

/// How many times one task may find its worker dead before it is sent.
const MAX_SEND_TRIES: u32 = 3;

/// A chain of stages of one input sent to a worker and not all answered yet.
#[derive(Debug)]
struct Job {
    input: usize,
    /// The stages not answered yet; the first is running.
    chain: VecDeque<usize>,
    /// Whether the running stage was taken from the set: if not (a failure
    /// earlier in the sequential order came first), its answer is discarded.
    wanted: bool,
    /// When the running stage was sent (or its predecessor answered).
    sent: Instant,
    /// The segments the chain reads, held until it ends: the worker may
    /// still map them (a stage may pass its input through).
    hold: Vec<Segment>,
    /// The number the worker gave the request: its replies repeat it.
    seq: u64,
}

impl Job {
    fn task(&self) -> Task {
        Task {
            input: self.input,
            stage: self.chain.front().copied().unwrap_or(0),
        }
    }
}

/// The state of one call: the loop lives here.
pub(crate) struct Batch<'p, 'c> {
    set: RunSet<'p, Output>,
    plan: &'p Plan<'p>,
    recycler: &'c Arc<Recycler>,
    limit: Option<Duration>,
    /// What each worker slot is running.
    jobs: Vec<Option<Job>>,
    /// Tasks taken whose worker was found dead before they were sent, with
    /// the number of tries so far.
    retry: VecDeque<(Task, u32)>,
    /// The segments of the open runs' inputs.
    input_segments: HashMap<usize, Segment>,
    /// Input segments of the last call and of this one.
    cache: &'c mut InputCache,
    /// The bytes of the segments that the outputs kept so far hold: they
    /// come back to the recycler when the caller drops them.
    kept_bytes: u64,
}

impl<'p, 'c> Batch<'p, 'c> {
    pub(crate) fn new(
        set: RunSet<'p, Output>,
        recycler: &'c Arc<Recycler>,
        limit: Option<Duration>,
        cache: &'c mut InputCache,
    ) -> Batch<'p, 'c> {
        Batch {
            plan: set.plan(),
            set,
            recycler,
            limit,
            jobs: Vec::new(),
            retry: VecDeque::new(),
            input_segments: HashMap::new(),
            cache,
            kept_bytes: 0,
        }
    }

    /// The bytes of the segments that this call's kept outputs hold.
    pub(crate) fn kept_bytes(&self) -> u64 {
        self.kept_bytes
    }

    /// What turns this call's replies into outputs and errors.
    fn replies(&self) -> Replies<'p, '_> {
        Replies {
            plan: self.plan,
            recycler: self.recycler,
            limit: self.limit,
        }
    }

    /// The set, once [`Batch::drive`] has run it.
    pub(crate) fn into_set(self) -> RunSet<'p, Output> {
        self.set
    }

    /// Runs every task of the set on the workers in `slots`, forking
    /// workers where slots are empty.
    pub(crate) fn drive(&mut self, slots: &mut [Option<Worker>], forker: &mut Forker) {
        self.jobs = (0..slots.len()).map(|_| None).collect();
        loop {
            let progressed = self.dispatch(slots, forker);
            if self.jobs.iter().all(Option::is_none) {
                // Nothing runs: the set is finished, or what could not be
                // sent was completed with its error (then go on). A set that
                // is neither has lost runs, which `finish` reports.
                if self.set.is_finished() || !progressed {
                    return;
                }
                continue;
            }
            self.wait(slots);
            let set = &self.set;
            self.input_segments.retain(|&input, _| set.is_open(input));
        }
    }

    /// Sends runnable tasks to free workers; whether anything was sent or completed.
    fn dispatch(&mut self, slots: &mut [Option<Worker>], forker: &mut Forker) -> bool {
        let mut progressed = false;
        for slot in 0..slots.len() {
            if self.jobs[slot].is_some() {
                continue;
            }
            let next = match self.retry.pop_front() {
                Some(retried) => Some(retried),
                None => self.set.next_task().map(|task| (task, 0)),
            };
            let Some((task, tries)) = next else {
                break;
            };
            progressed = true;
            if slots[slot].is_none() {
                let inherited = self.held_fds(slots);
                match Worker::spawn(forker, self.plan, &inherited) {
                    Ok(w) => slots[slot] = Some(w),
                    Err(e) => {
                        self.set.complete(task, Err(e));
                        continue;
                    }
                }
            }
            let Some(worker) = slots[slot].as_ref() else {
                continue;
            };
            let chain = chain_from(self.plan, task.stage);
            match self.send(worker, task, &chain) {
                Ok((hold, seq)) => {
                    self.jobs[slot] = Some(Job {
                        input: task.input,
                        chain,
                        wanted: true,
                        sent: Instant::now(),
                        hold,
                        seq,
                    });
                }
                Err(Unsent::Dead(_)) if tries + 1 < MAX_SEND_TRIES => {
                    // The worker died while idle: replace it and try again.
                    worker.kill();
                    slots[slot] = None;
                    self.retry.push_front((task, tries + 1));
                }
                Err(unsent) => {
                    let step = self.plan.name(task.stage);
                    self.set.complete(task, Err(unsent.into_error(step)));
                }
            }
        }
        progressed
    }

    /// Every descriptor this executor holds: a new worker must close them.
    fn held_fds(&self, slots: &[Option<Worker>]) -> Vec<RawFd> {
        let sockets = slots.iter().flatten().map(|w| sys::raw(w.sock()));
        let outputs = self
            .set
            .outputs()
            .filter_map(|o| o.segment.as_ref())
            .chain(self.input_segments.values())
            .map(|s| sys::raw(&*s.fd));
        let held = self
            .jobs
            .iter()
            .flatten()
            .flat_map(|j| j.hold.iter().map(|s| sys::raw(&*s.fd)));
        sockets
            .chain(outputs)
            .chain(held)
            .chain(self.cache.raw_fds())
            .chain(self.recycler.raw_fds())
            .collect()
    }

    /// The segment of `input`'s trace, written now if this call has not yet.
    fn input_segment(&mut self, input: usize) -> Result<Segment, ProcessError> {
        if let Some(segment) = self.input_segments.get(&input) {
            return Ok(segment.clone());
        }
        let trace = &self.set.inputs()[input];
        let segment = self.cache.segment(trace, self.recycler)?;
        self.input_segments.insert(input, segment.clone());
        Ok(segment)
    }

    /// Sends `chain` (starting at `task`'s stage) to `worker`; gives the
    /// segments it reads and the request's number.
    fn send(
        &mut self,
        worker: &Worker,
        task: Task,
        chain: &VecDeque<usize>,
    ) -> Result<(Vec<Segment>, u64), Unsent> {
        let mut positions: HashMap<Source, u32> = HashMap::new();
        let mut segments: Vec<Segment> = Vec::new();
        let mut inputs = Vec::new();
        for &source in self.plan.inputs(task.stage) {
            let seg = match source {
                Source::Input => self.input_segment(task.input).map_err(Unsent::Input)?,
                Source::Stage(d) => self
                    .set
                    .output(task.input, d)
                    .and_then(|o| o.segment.clone())
                    .ok_or(Unsent::Missing)?,
            };
            let pos = *positions.entry(source).or_insert_with(|| {
                segments.push(seg);
                (segments.len() - 1) as u32
            });
            inputs.push(pos);
        }
        // Free segments for the outputs, one per stage where one fits: the
        // worker writes into pages that already exist. An output is
        // expected to be about as large as the largest input. This process
        // lets go of them.
        let want = segments
            .iter()
            .filter_map(|s| s.layout.total())
            .max()
            .unwrap_or(0) as u64;
        let outputs: Vec<OwnedFd> = (0..chain.len())
            .map_while(|_| self.recycler.take(want))
            .collect();
        let fds: Vec<BorrowedFd<'_>> = segments
            .iter()
            .map(|s| s.fd.fd())
            .chain(outputs.iter().map(AsFd::as_fd))
            .collect();
        let request = Request {
            seq: 0,
            stages: chain.iter().map(|&s| s as u32).collect(),
            segments: segments.iter().map(|s| s.layout).collect(),
            inputs,
            outputs: outputs.len() as u32,
        };
        let seq = worker.send(request, &fds).map_err(Unsent::Dead)?;
        Ok((segments, seq))
    }

    /// Waits for replies, deaths and time limits of busy workers, and handles them.
    fn wait(&mut self, slots: &mut [Option<Worker>]) {
        let busy: Vec<usize> = (0..slots.len())
            .filter(|&s| self.jobs[s].is_some() && slots[s].is_some())
            .collect();
        let now = Instant::now();
        let next_deadline = self.limit.and_then(|limit| {
            busy.iter()
                .filter_map(|&s| self.jobs[s].as_ref().map(|j| j.sent + limit))
                .min()
        });
        let timeout = next_deadline.map_or(TICK, |d| d.saturating_duration_since(now).min(TICK));
        let readable = {
            let fds: Vec<_> = busy
                .iter()
                .filter_map(|&s| slots[s].as_ref().map(|w| w.sock().as_fd()))
                .collect();
            sys::poll_readable(&fds, timeout)
        };
        let readable = match readable {
            Ok(r) => r,
            Err(e) => {
                // Nothing can be waited for: end the stages in flight.
                for &s in &busy {
                    if let Some(w) = slots[s].take() {
                        w.kill();
                    }
                    if let Some(job) = self.jobs[s].take().filter(|j| j.wanted) {
                        self.set
                            .complete(job.task(), Err(ProcessError::Wait(e).into()));
                    }
                }
                return;
            }
        };
        let any_readable = readable.iter().any(|&r| r);
        for (&slot, ready) in busy.iter().zip(readable) {
            if ready {
                self.receive(slots, slot);
            }
        }
        let now = Instant::now();
        for &slot in &busy {
            let Some((task, sent)) = self.jobs[slot].as_ref().map(|j| (j.task(), j.sent)) else {
                continue;
            };
            let Some(worker) = slots[slot].as_ref() else {
                continue;
            };
            let pid = worker.pid().as_raw();
            let outcome = if let Some(limit) = self.limit.filter(|&l| now >= sent + l) {
                worker.kill();
                let step = self.plan.name(task.stage).to_owned();
                Error::Timeout { step, limit }
            } else if !any_readable {
                match worker.try_reap() {
                    Some(status) => death(self.plan, task.stage, pid, status),
                    None => continue,
                }
            } else {
                continue;
            };
            slots[slot] = None;
            if self.jobs[slot].take().is_some_and(|j| j.wanted) {
                self.set.complete(task, Err(outcome));
            }
        }
    }

    /// Handles the reply (or death) of the worker in `slot`.
    fn receive(&mut self, slots: &mut [Option<Worker>], slot: usize) {
        let (Some(job), Some(worker)) = (self.jobs[slot].as_ref(), slots[slot].as_ref()) else {
            return;
        };
        let answered = Answered {
            task: job.task(),
            slot,
            pid: worker.pid().as_raw(),
            sent: job.sent,
        };
        let wanted = job.wanted;
        let stage = answered.task.stage;
        let step = || self.plan.name(stage).to_owned();
        let (reply, fd) = match worker.receive(job.seq, stage) {
            Received::Reply(reply, fd) => (reply, fd),
            ended => {
                let error = match ended {
                    Received::Gone(status) => death(self.plan, stage, answered.pid, status),
                    Received::Malformed(problem) => ProcessError::MalformedReply {
                        step: step(),
                        worker: slot + 1,
                        pid: answered.pid,
                        problem,
                    }
                    .into(),
                    Received::NoDescriptors(source) => ProcessError::OutOfDescriptors {
                        what: format!(
                            "receive the output of stage '{}' from worker {} (pid {})",
                            step(),
                            slot + 1,
                            answered.pid
                        ),
                        step: Some(step()),
                        source,
                        limit: sys::descriptor_limit() as u64,
                    }
                    .into(),
                    Received::Reply(..) => unreachable!("handled above"),
                };
                // The worker was reaped, or killed and reaped.
                slots[slot] = None;
                self.jobs[slot] = None;
                if wanted {
                    self.set.complete(answered.task, Err(error));
                }
                return;
            }
        };
        // The worker stops its chain at the first stage that fails.
        let failed = reply.status != Status::Ok;
        // A worker forked while this process was short of descriptors holds
        // copies of them: it stays short, so it is replaced, by a fork that
        // meets the process as it is then.
        let short = reply.status == Status::NoDescriptors;
        if wanted {
            let run_start = self.set.run_start(answered.task.input);
            let result = self.replies().output(&answered, run_start, reply, fd);
            if let Ok((output, _)) = &result {
                self.kept_bytes = self.kept_bytes.saturating_add(output.kept_bytes);
            }
            self.set.complete(answered.task, result);
        }
        if short {
            if let Some(worker) = slots[slot].take() {
                worker.kill();
            }
            self.jobs[slot] = None;
            return;
        }
        let Some(job) = self.jobs[slot].as_mut() else {
            return;
        };
        job.chain.pop_front();
        job.sent = Instant::now();
        match job.chain.front() {
            Some(&next) if !failed => {
                // The stage just completed made its successor runnable: take
                // it, since the worker already runs it.
                let task = Task {
                    input: job.input,
                    stage: next,
                };
                job.wanted = wanted && self.set.take(task);
            }
            _ => self.jobs[slot] = None,
        }
    }
}

/// Why a task could not be sent.
enum Unsent {
    /// The input trace could not be written to a segment.
    Input(ProcessError),
    /// An input segment of the stage is missing (a bug).
    Missing,
    /// The worker's socket refused the request.
    Dead(Errno),
}

impl Unsent {
    fn into_error(self, step: &str) -> Error {
        match self {
            Unsent::Input(e) => e.into(),
            Unsent::Missing => Error::Internal(format!("inputs of stage '{step}' are not ready")),
            Unsent::Dead(source) => ProcessError::Send {
                step: step.to_owned(),
                source,
            }
            .into(),
        }
    }
}

/// `stage` and the stages that read only its output, one after the
/// other: a linear chain that one worker runs without round trips.
fn chain_from(plan: &Plan<'_>, stage: usize) -> VecDeque<usize> {
    let mut chain = VecDeque::from([stage]);
    let mut last = stage;
    while let [next] = plan.readers(last) {
        let next = *next;
        if !plan.inputs(next).iter().all(|&s| s == Source::Stage(last)) {
            break;
        }
        chain.push_back(next);
        last = next;
    }
    chain
}
