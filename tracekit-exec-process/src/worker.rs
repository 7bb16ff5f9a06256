//! One worker process: the loop it runs after the fork, and the parent's
//! handle on it.

use std::{
    collections::VecDeque,
    os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd},
    panic,
    sync::{
        Once,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use nix::{errno::Errno, sys::wait::WaitStatus, unistd::Pid};
use tracekit_core::{Error, Plan, Trace};

use crate::{
    ProcessError,
    mapping_cache::MappingCache,
    segment,
    sys::{self, Forker},
    wire::{MAX_MESSAGE, Reply, Request, SegmentLayout, Status},
};

/// Set in a worker right after the fork: panics there stay silent.
static IN_WORKER: AtomicBool = AtomicBool::new(false);

/// Installs, once and before the first fork, a panic hook that is silent in
/// workers and defers to the previous hook everywhere else.
///
/// The default hook writes to stderr under a lock that another parent thread
/// may hold at the moment of a fork; in a worker that would deadlock. Stage
/// panics are caught and reported to the parent, which is all that is needed.
pub(crate) fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_WORKER.load(Ordering::Relaxed) {
                previous(info);
            }
        }));
    });
}

/// The parent's handle on a worker process.
#[derive(Debug)]
pub(crate) struct Worker {
    pid: Pid,
    sock: OwnedFd,
}

/// How a wait for a worker's reply ended.
#[derive(Debug)]
pub(crate) enum Received {
    /// A reply, with its segment if it has one.
    Reply(Reply, Option<OwnedFd>),
    /// The worker is gone; it was reaped with this status.
    Gone(WaitStatus),
}

impl Worker {
    /// Forks, through `forker`, a worker that serves stages of `plan`.
    /// `inherited` are the parent's descriptors that the child must close
    /// (other workers' sockets).
    pub(crate) fn spawn(
        forker: &mut Forker,
        plan: &Plan<'_>,
        inherited: &[RawFd],
    ) -> Result<Worker, Error> {
        install_quiet_panic_hook();
        let (parent_end, child_end) =
            sys::socket_pair().map_err(|e| spawn_error("create a worker socket", e))?;
        let closing: Vec<RawFd> = inherited
            .iter()
            .copied()
            .chain([sys::raw(&parent_end)])
            .collect();
        // The parent enforces the time limit (it kills the worker, or
        // discards a late result): the worker only times its stages.
        let plan = plan.clone().with_stage_timeout(None);
        // The child owns its end of the socket; the parent's copy closes when
        // the forker drops the closure, right after the fork.
        let pid = forker
            .fork(plan, move |plan| {
                IN_WORKER.store(true, Ordering::Relaxed);
                sys::close_inherited(&closing);
                serve(plan, &child_end)
            })
            .map_err(|(what, e)| spawn_error(what, e))?;
        Ok(Worker {
            pid,
            sock: parent_end,
        })
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    /// The parent's end of the worker's socket.
    pub(crate) fn sock(&self) -> &OwnedFd {
        &self.sock
    }

    /// Asks the worker to run `request` on `segments` (in request order).
    pub(crate) fn send(&self, request: &Request, segments: &[BorrowedFd<'_>]) -> Result<(), Errno> {
        let fds: Vec<RawFd> = segments.iter().map(sys::raw).collect();
        send_framed(self.sock.as_fd(), &request.encode(), &fds)
    }

    /// Reads the worker's reply; call when its socket is readable. At end of
    /// stream the worker is reaped (killed first if it does not end soon).
    pub(crate) fn receive(&self) -> Received {
        let mut buf = [0u8; 64];
        match sys::recv(self.sock.as_fd(), &mut buf) {
            Ok((n, mut fds)) if n > 0 => match Reply::decode(&buf[..n]) {
                Some(reply) if fds.len() <= 1 => Received::Reply(reply, fds.pop()),
                _ => Received::Gone(self.kill()),
            },
            // End of stream, or a broken connection: the worker is ending.
            _ => Received::Gone(self.reap_ending()),
        }
    }

    /// Reaps the worker if it has ended; `None` while it runs.
    pub(crate) fn try_reap(&self) -> Option<WaitStatus> {
        match sys::try_reap(self.pid) {
            Ok(status) => status,
            // Not our child any more (SIGCHLD ignored by the host): gone.
            Err(_) => Some(WaitStatus::StillAlive),
        }
    }

    /// Waits a little for an ending worker to exit, then kills it.
    fn reap_ending(&self) -> WaitStatus {
        // Descriptors close before the process becomes a zombie: give the
        // kernel a moment to finish before falling back to SIGKILL.
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        while start.elapsed() < Duration::from_secs(2) {
            if let Some(status) = self.try_reap() {
                return status;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        self.kill()
    }

    /// Kills and reaps the worker; gives how it ended.
    pub(crate) fn kill(&self) -> WaitStatus {
        sys::kill_and_reap(self.pid).unwrap_or(WaitStatus::StillAlive)
    }
}

/// The worker's loop: receive a request, run the stage, send the outcome;
/// until the parent closes the socket. Gives the exit status.
fn serve(plan: &Plan<'_>, sock: &OwnedFd) -> i32 {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut maps = MappingCache::default();
    loop {
        let (bytes, fds) = match recv_framed(sock.as_fd(), &mut buf) {
            Ok(Some(message)) => message,
            Ok(None) => return 0,
            Err(_) => return 2,
        };
        if run_request(plan, sock, &mut maps, &bytes, fds).is_err() {
            return 3;
        }
    }
}

/// Sends `bytes` and `fds` as one request, in as many packets as the kernel's
/// limits need (at most [`sys::MAX_FDS`] descriptors and [`MAX_MESSAGE`]
/// bytes each): a stage may read thousands of segments. The first byte of
/// each packet says whether more follow.
fn send_framed(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[RawFd]) -> Result<(), Errno> {
    let chunk = MAX_MESSAGE - 1;
    let packets = bytes
        .len()
        .div_ceil(chunk)
        .max(fds.len().div_ceil(sys::MAX_FDS))
        .max(1);
    let mut frame = Vec::with_capacity(MAX_MESSAGE.min(bytes.len() + 1));
    for k in 0..packets {
        frame.clear();
        frame.push(u8::from(k + 1 < packets));
        let part = |len: usize, size: usize| (k * size).min(len)..((k + 1) * size).min(len);
        frame.extend_from_slice(&bytes[part(bytes.len(), chunk)]);
        sys::send(sock, &frame, &fds[part(fds.len(), sys::MAX_FDS)])?;
    }
    Ok(())
}

/// A whole request: its bytes and the descriptors that came with it.
type Message = (Vec<u8>, Vec<OwnedFd>);

/// Receives one request sent by [`send_framed`]; `None` at end of stream.
fn recv_framed(sock: BorrowedFd<'_>, buf: &mut [u8]) -> Result<Option<Message>, Errno> {
    let (mut bytes, mut fds) = (Vec::new(), Vec::new());
    loop {
        sys::await_readable(sock)?;
        match sys::recv(sock, buf)? {
            (0, _) => return Ok(None),
            (n, more_fds) => {
                fds.extend(more_fds);
                bytes.extend_from_slice(&buf[1..n]);
                if buf[0] == 0 {
                    return Ok(Some((bytes, fds)));
                }
            }
        }
    }
}

type Outcome = (Reply, Option<OwnedFd>);

fn reply(sock: &OwnedFd, (reply, segment): Outcome) -> Result<(), Errno> {
    let fds: Vec<RawFd> = segment.iter().map(sys::raw).collect();
    sys::send(sock.as_fd(), &reply.encode(), &fds)
}

fn failure(status: Status, text: &str, nanos: u64) -> Outcome {
    // Without a segment the parent still learns that something failed.
    let fd = segment::write_text(text).unwrap_or(None);
    let len = if fd.is_some() { text.len() as u64 } else { 0 };
    let reply = Reply {
        status,
        layout: SegmentLayout {
            samples: 0,
            meta_len: len,
        },
        nanos,
    };
    (reply, fd)
}

/// The error for a worker that could not be started: out of descriptors,
/// or another failure of `what`.
fn spawn_error(what: &'static str, source: Errno) -> Error {
    ProcessError::Spawn { what, source }.into()
}

/// Runs one request (a chain of stages) in the worker, replying per stage.
fn run_request(
    plan: &Plan<'_>,
    sock: &OwnedFd,
    maps: &mut MappingCache,
    bytes: &[u8],
    mut fds: Vec<OwnedFd>,
) -> Result<(), Errno> {
    let Some(request) =
        Request::decode(bytes).filter(|r| r.segments.len() + r.outputs as usize == fds.len())
    else {
        return reply(
            sock,
            failure(Status::Failed, "the worker received a malformed request", 0),
        );
    };
    if let Some(&bad) = request.stages.iter().find(|&&s| s as usize >= plan.len()) {
        let text = format!("the worker has no stage {bad}");
        return reply(sock, failure(Status::Failed, &text, 0));
    }
    let mut outputs: VecDeque<OwnedFd> = fds.split_off(request.segments.len()).into();
    let traces: Result<Vec<Trace>, String> = fds
        .iter()
        .zip(&request.segments)
        .map(|(fd, layout)| maps.map_trace(fd.as_fd(), *layout))
        .collect();
    drop(fds);
    let mut traces = match traces {
        Ok(traces) => traces,
        Err(e) => return reply(sock, failure(Status::Failed, &e, 0)),
    };
    let mut previous: Option<Trace> = None;
    for (j, &stage) in request.stages.iter().enumerate() {
        let stage = stage as usize;
        let inputs: Vec<&Trace> = match &previous {
            None if j == 0 => request
                .inputs
                .iter()
                .map(|&i| &traces[i as usize])
                .collect(),
            Some(p) => vec![p; plan.inputs(stage).len()],
            None => break,
        };
        let start = Instant::now();
        let result = plan.run_stage(stage, &inputs, start, 0);
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        drop(inputs);
        traces.clear();
        let (outcome, output) = match result.map(|(out, _)| out) {
            Ok(out) => match maps.write_trace(&out, outputs.pop_front()) {
                Ok((fd, layout)) => {
                    let ok = Reply {
                        status: Status::Ok,
                        layout,
                        nanos,
                    };
                    ((ok, Some(fd)), Some(out))
                }
                Err(e) => (failure(Status::Failed, &e, nanos), None),
            },
            Err(Error::Stage { source, .. }) => (
                failure(Status::StageError, &source.to_string(), nanos),
                None,
            ),
            Err(Error::StagePanicked { message, .. }) => {
                (failure(Status::Panicked, &message, nanos), None)
            }
            Err(other) => (failure(Status::Failed, &other.to_string(), nanos), None),
        };
        previous = output;
        reply(sock, outcome)?;
        if previous.is_none() {
            break;
        }
    }
    Ok(())
}
