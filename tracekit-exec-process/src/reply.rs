//! What a worker's answers mean: a reply becomes a stage's output (or the
//! stage's error), a death the process backend's error.

use std::{
    os::fd::{AsFd, OwnedFd},
    sync::Arc,
    time::{Duration, Instant},
};

use nix::{errno::Errno, sys::wait::WaitStatus};
use tracekit_core::{Error, Plan, StageOutput, StageRecord, Task, Trace};

use crate::{
    ProcessError,
    segment::{self, Recycler, Segment, SegmentFd},
    sys,
    wire::{Reply, Status},
};

/// What the parent keeps of a stage's output: the trace where the plan
/// keeps it, the segment where a stage reads it.
#[derive(Debug)]
pub(crate) struct Output {
    trace: Option<Trace>,
    pub(crate) segment: Option<Segment>,
    /// The size of the segment that the kept trace holds (0 if none is kept).
    pub(crate) kept_bytes: u64,
}

impl StageOutput for Output {
    fn into_trace(self) -> Option<Trace> {
        self.trace
    }
}

/// Where a reply came from: the task, its worker, and when it was sent.
pub(crate) struct Answered {
    pub(crate) task: Task,
    pub(crate) slot: usize,
    pub(crate) pid: i32,
    pub(crate) sent: Instant,
}

/// Turns the replies of one call into outputs and errors.
pub(crate) struct Replies<'p, 'c> {
    pub(crate) plan: &'p Plan<'p>,
    pub(crate) recycler: &'c Arc<Recycler>,
    pub(crate) limit: Option<Duration>,
}

impl Replies<'_, '_> {
    /// The output (or the error) that a worker's reply for `answered` gives.
    pub(crate) fn output(
        &self,
        answered: &Answered,
        run_start: Option<Instant>,
        reply: Reply,
        fd: Option<OwnedFd>,
    ) -> Result<(Output, StageRecord), Error> {
        let stage = answered.task.stage;
        let step = self.plan.name(stage).to_owned();
        let duration = Duration::from_nanos(reply.nanos);
        let text = || {
            segment::read_text(fd.as_ref().map(AsFd::as_fd), reply.layout.meta_len).map_err(
                |message| ProcessError::Protocol {
                    step: step.clone(),
                    message: format!("sent an unreadable message: {message}"),
                },
            )
        };
        match reply.status {
            Status::Ok => {}
            Status::StageError => {
                let message = text()?;
                return Err(Error::Stage {
                    step,
                    source: message.into(),
                });
            }
            Status::Panicked => {
                let message = text()?;
                return Err(Error::StagePanicked { step, message });
            }
            Status::Failed => {
                let message = text()?;
                let pid = answered.pid;
                return Err(ProcessError::WorkerFailed { step, pid, message }.into());
            }
            Status::NoDescriptors => {
                let what = format!(
                    "{}, in worker {} (pid {}) running stage '{step}'",
                    reply.note,
                    answered.slot + 1,
                    answered.pid
                );
                return Err(ProcessError::OutOfDescriptors {
                    what,
                    step: Some(step),
                    source: Errno::from_raw(reply.errno),
                    limit: sys::descriptor_limit() as u64,
                }
                .into());
            }
        }
        if let Some(limit) = self.limit.filter(|&l| duration > l) {
            return Err(Error::Timeout { step, limit });
        }
        let fd = fd.ok_or_else(|| ProcessError::Protocol {
            step: step.clone(),
            message: "sent no output".into(),
        })?;
        let seg = SegmentFd::new(fd, self.recycler);
        let kept = self.plan.keeps(stage);
        let kept_bytes = if kept { sys::segment_size(seg.fd()) } else { 0 };
        let trace = if kept {
            let trace = segment::map_trace(seg.fd(), reply.layout, false, Some(&seg)).map_err(
                |message| ProcessError::SharedMemory {
                    what: format!("output of stage '{step}'"),
                    message,
                },
            )?;
            Some(trace)
        } else {
            None
        };
        let segment = (!self.plan.readers(stage).is_empty()).then(|| Segment {
            fd: seg,
            layout: reply.layout,
        });
        let run_start = run_start.unwrap_or(answered.sent);
        let record = StageRecord {
            start: answered.sent.saturating_duration_since(run_start),
            duration,
            worker: answered.slot + 1,
        };
        Ok((
            Output {
                trace,
                segment,
                kept_bytes,
            },
            record,
        ))
    }
}

/// The error for a worker that died running `stage`.
pub(crate) fn death(plan: &Plan<'_>, stage: usize, pid: i32, status: WaitStatus) -> Error {
    let step = plan.name(stage).to_owned();
    match status {
        WaitStatus::Signaled(_, signal, _) => ProcessError::WorkerCrashed {
            step,
            pid,
            signal: signal as i32,
        },
        WaitStatus::Exited(_, code) => ProcessError::WorkerExited { step, pid, code },
        _ => ProcessError::WorkerVanished { step, pid },
    }
    .into()
}
