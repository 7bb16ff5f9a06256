//! The parent's side: the worker slots, and the loop that hands ready stages
//! to free workers, collects their outputs, and turns deaths and time limits
//! into errors.

use std::{
    collections::{HashMap, VecDeque},
    os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd},
    sync::{Arc, Weak},
    time::{Duration, Instant},
};

use nix::{errno::Errno, sys::wait::WaitStatus};
use tracekit_core::{Error, Plan, Run, SampleBuffer, Schedule, Source, StageRecord, Trace};

use crate::{
    segment::{self, Recycler, Segment, SegmentFd},
    sys,
    wire::{self, Reply, Request, Status},
    worker::{Received, Worker},
};

/// How often the parent checks, while it waits, that busy workers still live
/// (their end of the socket could be held open by another process's fork).
const TICK: Duration = Duration::from_millis(100);

/// How many times one stage may find its worker dead before it is sent.
const MAX_SEND_TRIES: u32 = 3;

/// At most how many input segments are remembered from one call to the next.
const MAX_CACHED_INPUTS: usize = 64;

/// At most how many bytes of input segments are remembered.
const MAX_CACHED_BYTES: u64 = 256 << 20;

/// The worker processes of one executor.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Vec<Option<Worker>>,
    recycler: Arc<Recycler>,
    /// The stage state the live workers were forked with.
    state_id: Option<u64>,
    /// The inputs of the last call, as written to segments.
    inputs: Vec<CachedInput>,
}

/// An input trace already written to a segment: running the same trace
/// again (the same samples buffer, which never changes, and the same
/// metadata) reuses the segment instead of writing it again.
#[derive(Debug)]
struct CachedInput {
    /// Held weakly: the cache never keeps a caller's samples alive, and
    /// while this exists no other buffer can take the same address.
    buffer: Weak<dyn SampleBuffer>,
    meta: Vec<u8>,
    segment: Segment,
    /// Whether the current call used it (unused entries are dropped after it).
    used: bool,
}

impl CachedInput {
    fn holds(&self, trace: &Trace, meta: &[u8]) -> bool {
        self.meta == meta
            && self
                .buffer
                .upgrade()
                .is_some_and(|b| Arc::ptr_eq(&b, trace.buffer()))
    }
}

/// A chain of stages sent to a worker and not all answered yet.
#[derive(Debug)]
struct Job {
    /// Position of the run in the batch.
    run: usize,
    /// The stages not answered yet; the first is running.
    chain: VecDeque<usize>,
    /// When the running stage was sent (or its predecessor answered).
    sent: Instant,
    /// The segments the chain reads, held until it ends: the worker may
    /// still map them (a stage may pass its input through).
    hold: Vec<Segment>,
}

impl Job {
    fn stage(&self) -> usize {
        self.chain.front().copied().unwrap_or(0)
    }
}

/// One run of the batch in progress.
struct Active<'p> {
    index: usize,
    input: Segment,
    schedule: Schedule<'p>,
    results: Vec<Option<Trace>>,
    segments: Vec<Option<Segment>>,
    records: Vec<StageRecord>,
    start: Instant,
}

/// The first error of a batch, with the position of its run.
type Failure = (usize, Error);

impl Pool {
    pub(crate) fn new(workers: usize) -> Pool {
        Pool {
            slots: (0..workers).map(|_| None).collect(),
            recycler: {
                // Reused segments save allocating their pages on every run,
                // but each holds a descriptor: keep a share of the limit.
                let budget = (sys::descriptor_limit() / 8).clamp(16, 256);
                Recycler::new(budget.max(2 * workers + 4), budget)
            },
            state_id: None,
            inputs: Vec::new(),
        }
    }

    /// The live workers' process ids.
    pub(crate) fn pids(&self) -> Vec<i32> {
        self.slots
            .iter()
            .flatten()
            .map(|w| w.pid().as_raw())
            .collect()
    }

    /// Kills and reaps every worker.
    pub(crate) fn shutdown(&mut self) {
        let workers: Vec<Worker> = self.slots.iter_mut().filter_map(Option::take).collect();
        for w in &workers {
            let _ = nix::sys::signal::kill(w.pid(), nix::sys::signal::Signal::SIGKILL);
        }
        for w in &workers {
            w.kill();
        }
        self.state_id = None;
    }

    /// Runs `plan` on every input; the runs in input order, or the first
    /// failure with its input's position.
    pub(crate) fn execute(
        &mut self,
        plan: &Plan<'_>,
        inputs: &[Trace],
        default_limit: Option<Duration>,
    ) -> Result<Vec<Run>, Failure> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        if self.state_id != Some(plan.state_id()) {
            // The stages changed since the workers were forked: re-fork.
            self.shutdown();
            self.state_id = Some(plan.state_id());
        }
        // Workers killed from outside while idle are replaced quietly.
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|w| w.try_reap().is_some()) {
                *slot = None;
            }
        }
        let mut batch = Batch {
            plan,
            inputs,
            recycler: &self.recycler,
            limit: plan.stage_timeout().or(default_limit),
            jobs: (0..self.slots.len()).map(|_| None).collect(),
            active: Vec::new(),
            next_input: 0,
            done: (0..inputs.len()).map(|_| None).collect(),
            retry: VecDeque::new(),
            pending: VecDeque::new(),
            failure: None,
            cached: std::mem::take(&mut self.inputs),
        };
        batch.drive(&mut self.slots);
        batch.cached.retain(|c| c.used);
        for c in &mut batch.cached {
            c.used = false;
        }
        self.inputs = std::mem::take(&mut batch.cached);
        match batch.failure {
            Some(failure) => Err(failure),
            None => batch
                .done
                .into_iter()
                .enumerate()
                .map(|(i, run)| {
                    run.ok_or_else(|| (i, Error::Executor("a run of the batch was lost".into())))
                })
                .collect(),
        }
    }
}

/// The state of one batch: the loop lives here.
struct Batch<'p, 'a> {
    plan: &'p Plan<'a>,
    inputs: &'p [Trace],
    recycler: &'p Arc<Recycler>,
    limit: Option<Duration>,
    /// What each worker slot is running.
    jobs: Vec<Option<Job>>,
    active: Vec<Active<'p>>,
    next_input: usize,
    done: Vec<Option<Run>>,
    /// Stages taken from a schedule whose worker was found dead before they
    /// were sent, with the number of tries so far.
    retry: VecDeque<(usize, usize, u32)>,
    /// Ready stages taken from the schedules, oldest run first.
    pending: VecDeque<(usize, usize)>,
    failure: Option<Failure>,
    /// Input segments of the last call and of this one.
    cached: Vec<CachedInput>,
}

impl<'p, 'a> Batch<'p, 'a> {
    fn fail(&mut self, run: usize, error: Error) {
        if self.failure.is_none() {
            self.failure = Some((run, error));
        }
    }

    fn drive(&mut self, slots: &mut [Option<Worker>]) {
        // Enough runs in flight to keep every worker busy on chains.
        let max_active = slots.len() + 1;
        loop {
            if self.failure.is_none() {
                self.activate(max_active);
                self.dispatch(slots);
            }
            if self.jobs.iter().all(Option::is_none) {
                if self.failure.is_none()
                    && (!self.active.is_empty() || self.next_input < self.inputs.len())
                {
                    self.fail(
                        self.active.first().map_or(self.next_input, |a| a.index),
                        Error::Executor(
                            "the process executor stalled with stages left to run".into(),
                        ),
                    );
                }
                return;
            }
            self.wait(slots);
        }
    }

    /// Starts runs until `max_active` are in progress.
    fn activate(&mut self, max_active: usize) {
        while self.active.len() < max_active && self.next_input < self.inputs.len() {
            let index = self.next_input;
            self.next_input += 1;
            let input = match self.input_segment(index) {
                Ok(segment) => segment,
                Err(e) => return self.fail(index, Error::Executor(format!("input trace: {e}"))),
            };
            let n = self.plan.len();
            self.active.push(Active {
                index,
                input,
                schedule: self.plan.schedule(),
                results: vec![None; n],
                segments: (0..n).map(|_| None).collect(),
                records: vec![StageRecord::default(); n],
                start: Instant::now(),
            });
        }
    }

    /// The segment holding input `index`: a remembered one if this trace was
    /// written before, else a newly written one (remembered while the cache
    /// has room).
    fn input_segment(&mut self, index: usize) -> Result<Segment, String> {
        let trace = &self.inputs[index];
        let meta = wire::encode_meta(trace.meta());
        if let Some(hit) = self.cached.iter_mut().find(|c| c.holds(trace, &meta)) {
            hit.used = true;
            return Ok(hit.segment.clone());
        }
        let (fd, layout) = segment::write_trace(trace, self.recycler.take())?;
        let segment = Segment {
            fd: SegmentFd::new(fd, self.recycler),
            layout,
        };
        let cached_bytes: u64 = self
            .cached
            .iter()
            .filter_map(|c| c.segment.layout.total())
            .map(|b| b as u64)
            .sum();
        let fits = layout
            .total()
            .is_some_and(|b| cached_bytes + b as u64 <= MAX_CACHED_BYTES);
        if fits && self.cached.len() < MAX_CACHED_INPUTS {
            self.cached.push(CachedInput {
                buffer: Arc::downgrade(trace.buffer()),
                meta,
                segment: segment.clone(),
                used: true,
            });
        }
        Ok(segment)
    }

    /// Moves every ready stage of the schedules to `pending`.
    fn collect_ready(&mut self) {
        for a in &mut self.active {
            while let Some(stage) = a.schedule.next_ready() {
                self.pending.push_back((a.index, stage));
            }
        }
    }

    /// The next stage to send: a retried one, else the oldest ready one.
    fn next_task(&mut self) -> Option<(usize, usize, u32)> {
        if let Some(task) = self.retry.pop_front() {
            return Some(task);
        }
        self.collect_ready();
        self.pending.pop_front().map(|(run, stage)| (run, stage, 0))
    }

    /// `stage` and the stages that read only its output, one after the
    /// other: a linear chain that one worker runs without round trips.
    fn chain_from(&self, stage: usize) -> VecDeque<usize> {
        let mut chain = VecDeque::from([stage]);
        let mut last = stage;
        while let [next] = self.plan.readers(last) {
            let next = *next;
            if !self
                .plan
                .inputs(next)
                .iter()
                .all(|&s| s == Source::Stage(last))
            {
                break;
            }
            chain.push_back(next);
            last = next;
        }
        chain
    }

    /// Every descriptor this executor holds: a new worker must close them.
    fn held_fds(&self, slots: &[Option<Worker>]) -> Vec<RawFd> {
        let sockets = slots.iter().flatten().map(|w| sys::raw(w.sock()));
        let segments = self.active.iter().flat_map(|a| {
            std::iter::once(sys::raw(&*a.input.fd))
                .chain(a.segments.iter().flatten().map(|s| sys::raw(&*s.fd)))
        });
        let held = self
            .jobs
            .iter()
            .flatten()
            .flat_map(|j| j.hold.iter().map(|s| sys::raw(&*s.fd)));
        let cached = self.cached.iter().map(|c| sys::raw(&*c.segment.fd));
        sockets
            .chain(segments)
            .chain(held)
            .chain(cached)
            .chain(self.recycler.raw_fds())
            .collect()
    }

    /// Sends ready stages to free workers, forking workers where slots are empty.
    fn dispatch(&mut self, slots: &mut [Option<Worker>]) {
        for slot in 0..slots.len() {
            if self.jobs[slot].is_some() {
                continue;
            }
            let Some((run, stage, tries)) = self.next_task() else {
                return;
            };
            if slots[slot].is_none() {
                let inherited = self.held_fds(slots);
                match Worker::spawn(self.plan, &inherited) {
                    Ok(w) => slots[slot] = Some(w),
                    Err(e) => return self.fail(run, e),
                }
            }
            let Some(worker) = slots[slot].as_ref() else {
                continue;
            };
            let chain = self.chain_from(stage);
            match self.send(worker, run, &chain) {
                Ok(hold) => {
                    self.jobs[slot] = Some(Job {
                        run,
                        chain,
                        sent: Instant::now(),
                        hold,
                    });
                }
                Err(Errno::EPIPE | Errno::ECONNRESET | Errno::ENOTCONN)
                    if tries + 1 < MAX_SEND_TRIES =>
                {
                    // The worker died while idle: replace it and try again.
                    worker.kill();
                    slots[slot] = None;
                    self.retry.push_front((run, stage, tries + 1));
                }
                Err(e) => {
                    let step = self.plan.name(stage);
                    return self.fail(
                        run,
                        Error::Executor(format!("cannot send stage '{step}' to its worker: {e}")),
                    );
                }
            }
        }
    }

    /// Sends `chain` of run `run` to `worker`; gives the segments it reads.
    fn send(
        &self,
        worker: &Worker,
        run: usize,
        chain: &VecDeque<usize>,
    ) -> Result<Vec<Segment>, Errno> {
        let active = self
            .active
            .iter()
            .find(|a| a.index == run)
            .ok_or(Errno::ESRCH)?;
        let first = chain.front().copied().ok_or(Errno::EINVAL)?;
        let mut positions: HashMap<Source, u32> = HashMap::new();
        let mut segments: Vec<Segment> = Vec::new();
        let mut inputs = Vec::new();
        for &source in self.plan.inputs(first) {
            let seg = match source {
                Source::Input => Some(&active.input),
                Source::Stage(d) => active.segments.get(d).and_then(Option::as_ref),
            }
            .ok_or(Errno::ENOENT)?;
            let pos = *positions.entry(source).or_insert_with(|| {
                segments.push(seg.clone());
                (segments.len() - 1) as u32
            });
            inputs.push(pos);
        }
        // Free segments for the outputs, as many as are kept: the worker
        // writes into pages that already exist. This process lets go of them.
        let outputs: Vec<OwnedFd> = (0..chain.len())
            .map_while(|_| self.recycler.take())
            .collect();
        let fds: Vec<BorrowedFd<'_>> = segments
            .iter()
            .map(|s| s.fd.fd())
            .chain(outputs.iter().map(AsFd::as_fd))
            .collect();
        let request = Request {
            stages: chain.iter().map(|&s| s as u32).collect(),
            segments: segments.iter().map(|s| s.layout).collect(),
            inputs,
            outputs: outputs.len() as u32,
        };
        worker.send(&request, &fds)?;
        Ok(segments)
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
                let run = busy
                    .first()
                    .and_then(|&s| self.jobs[s].as_ref())
                    .map_or(0, |j| j.run);
                self.fail(
                    run,
                    Error::Executor(format!("cannot wait for the workers: {e}")),
                );
                // Nothing can be waited for: end the stages in flight.
                for &s in &busy {
                    if let Some(w) = slots[s].take() {
                        w.kill();
                    }
                    self.jobs[s] = None;
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
            let Some((run, stage, sent)) =
                self.jobs[slot].as_ref().map(|j| (j.run, j.stage(), j.sent))
            else {
                continue;
            };
            let Some(worker) = slots[slot].as_ref() else {
                continue;
            };
            let pid = worker.pid().as_raw();
            if let Some(limit) = self.limit.filter(|&l| now >= sent + l) {
                worker.kill();
                slots[slot] = None;
                self.jobs[slot] = None;
                let step = self.plan.name(stage).to_owned();
                self.fail(run, Error::Timeout { step, limit });
            } else if !any_readable {
                if let Some(status) = worker.try_reap() {
                    slots[slot] = None;
                    self.jobs[slot] = None;
                    self.fail(run, self.death(stage, pid, status));
                }
            }
        }
    }

    /// Handles the reply (or death) of the worker in `slot`.
    fn receive(&mut self, slots: &mut [Option<Worker>], slot: usize) {
        let (Some(job), Some(worker)) = (self.jobs[slot].as_mut(), slots[slot].as_ref()) else {
            return;
        };
        let (run, stage, sent) = (job.run, job.stage(), job.sent);
        let pid = worker.pid().as_raw();
        match worker.receive() {
            Received::Gone(status) => {
                slots[slot] = None;
                self.jobs[slot] = None;
                self.fail(run, self.death(stage, pid, status));
            }
            Received::Reply(reply, fd) => {
                job.chain.pop_front();
                job.sent = Instant::now();
                let next = job.chain.front().copied();
                // The worker stops its chain at the first stage that fails.
                if reply.status != Status::Ok || next.is_none() {
                    self.jobs[slot] = None;
                }
                if self.failure.is_some() {
                    return; // the batch failed: results are not wanted
                }
                let result = self
                    .complete(run, stage, sent, slot, pid, reply, fd)
                    .and_then(|()| next.map_or(Ok(()), |n| self.claim(run, n)));
                if let Err(e) = result {
                    self.fail(run, e);
                }
            }
        }
    }

    /// Takes `stage`, which the last reply made ready, out of the ready
    /// stages: it already runs in its chain.
    fn claim(&mut self, run: usize, stage: usize) -> Result<(), Error> {
        self.collect_ready();
        match self.pending.iter().position(|&t| t == (run, stage)) {
            Some(i) => {
                self.pending.remove(i);
                Ok(())
            }
            None => Err(Error::Executor(format!(
                "stage '{}' ran in a chain before it was ready",
                self.plan.name(stage)
            ))),
        }
    }

    /// The error for a worker that died running `stage`.
    fn death(&self, stage: usize, pid: i32, status: WaitStatus) -> Error {
        let step = self.plan.name(stage).to_owned();
        match status {
            WaitStatus::Signaled(_, signal, _) => Error::WorkerCrashed {
                step,
                pid,
                signal: signal as i32,
            },
            WaitStatus::Exited(_, code) => Error::Executor(format!(
                "Worker running stage '{step}' (pid {pid}) exited with status {code}"
            )),
            _ => Error::Executor(format!(
                "Worker running stage '{step}' (pid {pid}) vanished"
            )),
        }
    }

    /// Records a worker's answer for `stage` of run `run`, sent at `sent`.
    #[expect(clippy::too_many_arguments, reason = "one reply's context, used once")]
    fn complete(
        &mut self,
        run: usize,
        stage: usize,
        sent: Instant,
        slot: usize,
        pid: i32,
        reply: Reply,
        fd: Option<OwnedFd>,
    ) -> Result<(), Error> {
        let plan = self.plan;
        let step = plan.name(stage).to_owned();
        let duration = Duration::from_nanos(reply.nanos);
        let text = || segment::read_text(fd.as_ref().map(AsFd::as_fd), reply.layout.meta_len);
        match reply.status {
            Status::Ok => {}
            Status::StageError => {
                let message = text().map_err(Error::Executor)?;
                return Err(Error::Stage {
                    step,
                    source: message.into(),
                });
            }
            Status::Panicked => {
                let message = text().map_err(Error::Executor)?;
                return Err(Error::StagePanicked { step, message });
            }
            Status::Failed => {
                let message = text().map_err(Error::Executor)?;
                return Err(Error::Executor(format!(
                    "Worker running stage '{step}' (pid {pid}) failed: {message}"
                )));
            }
        }
        if let Some(limit) = self.limit.filter(|&l| duration > l) {
            return Err(Error::Timeout { step, limit });
        }
        let fd = fd.ok_or_else(|| {
            Error::Executor(format!("the worker sent no output for stage '{step}'"))
        })?;
        let Some(pos) = self.active.iter().position(|a| a.index == run) else {
            return Err(Error::Executor(
                "a reply came for a run that is not in progress".into(),
            ));
        };
        let active = &mut self.active[pos];
        let seg = SegmentFd::new(fd, self.recycler);
        if plan.keeps(stage) {
            let trace = segment::map_trace(seg.fd(), reply.layout, false, Some(&seg))
                .map_err(|e| Error::Executor(format!("output of stage '{step}': {e}")))?;
            active.results[stage] = Some(trace);
        }
        if !plan.readers(stage).is_empty() {
            active.segments[stage] = Some(Segment {
                fd: seg,
                layout: reply.layout,
            });
        }
        active.records[stage] = StageRecord {
            start: sent.saturating_duration_since(active.start),
            duration,
            worker: slot + 1,
        };
        let Active {
            schedule,
            results,
            segments,
            ..
        } = active;
        schedule.complete(stage, |done| {
            results[done] = None;
            segments[done] = None;
        });
        if active.schedule.is_done() {
            let active = self.active.remove(pos);
            let run = plan.finish(active.results, active.records)?;
            self.done[active.index] = Some(run);
        }
        Ok(())
    }
}
