//! One worker process: the loop it runs after the fork, and the parent's
//! handle on it.

use std::{
    cell::Cell,
    os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd},
    panic,
    sync::{
        Once,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use nix::{errno::Errno, sys::wait::WaitStatus, unistd::Pid};
use tracekit_core::{Error, Plan, Trace, buffer};

use crate::{
    ProcessError,
    mapping_cache::MappingCache,
    outputs::{self, Outputs},
    segment,
    sys::{self, Forker},
    wire::{self, MAX_MESSAGE, MAX_REPLY, Reply, Request, SegmentLayout, Status},
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
    /// The number of the last request sent (0 before the first).
    seq: Cell<u64>,
}

/// How a wait for a worker's reply ended.
#[derive(Debug)]
pub(crate) enum Received {
    /// The reply awaited, with its segment if it has one.
    Reply(Reply, Option<OwnedFd>),
    /// The worker is gone; it was reaped with this status.
    Gone(WaitStatus),
    /// The message was not the reply awaited (what was wrong); the worker
    /// was killed and reaped, since what it sends can no longer be trusted.
    Malformed(String),
    /// The reply's segment could not be received: this process has no
    /// descriptor left (the error). The worker was killed and reaped.
    NoDescriptors(Errno),
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
                // Idle buffers inherited from the parent would be copied
                // page by page on first write, and count twice.
                buffer::release_all_idle();
                let outputs = Outputs::install();
                serve(plan, &child_end, &outputs)
            })
            .map_err(|(what, e)| spawn_error(what, e))?;
        Ok(Worker {
            pid,
            sock: parent_end,
            seq: Cell::new(0),
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

    /// Asks the worker to run `request` on `segments` (in request order);
    /// gives the number it gave the request, which its replies must repeat.
    pub(crate) fn send(
        &self,
        mut request: Request,
        segments: &[BorrowedFd<'_>],
    ) -> Result<u64, Errno> {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        request.seq = seq;
        let fds: Vec<RawFd> = segments.iter().map(sys::raw).collect();
        send_framed(self.sock.as_fd(), &request.encode(), &fds)?;
        Ok(seq)
    }

    /// Reads the worker's reply to stage `stage` of request `seq`; call when
    /// its socket is readable. At end of stream the worker is reaped (killed
    /// first if it does not end soon); after anything but the reply awaited
    /// it is killed.
    pub(crate) fn receive(&self, seq: u64, stage: usize) -> Received {
        let mut buf = [0u8; MAX_REPLY];
        let received = match sys::recv(self.sock.as_fd(), &mut buf) {
            // End of stream: the worker is ending. (An empty message reads
            // the same, but leaves the socket open.)
            Ok(packet) if packet.len == 0 && sys::peer_closed(self.sock.as_fd()) => {
                return Received::Gone(self.reap_ending());
            }
            Ok(packet) if packet.len == 0 => {
                Received::Malformed("an empty message, while its socket is still open".into())
            }
            Ok(packet) => match packet.lost_fds {
                Some(e) if sys::is_out_of_descriptors(e) => Received::NoDescriptors(e),
                Some(_) => Received::Malformed(format!(
                    "more than {} descriptors came with it",
                    sys::MAX_FDS
                )),
                None => match Reply::decode(&buf[..packet.len]) {
                    Ok(reply) => match check_reply(reply, packet.fds, seq, stage) {
                        Ok((reply, fd)) => return Received::Reply(reply, fd),
                        Err(problem) => Received::Malformed(problem),
                    },
                    Err(problem) => Received::Malformed(problem),
                },
            },
            Err(Errno::EMSGSIZE) => Received::Malformed(format!(
                "a message longer than the {MAX_REPLY} bytes a reply may have"
            )),
            // A broken connection: the worker is ending.
            Err(_) => return Received::Gone(self.reap_ending()),
        };
        self.kill();
        received
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

/// Checks that `reply` (which came with `fds`) answers stage `stage` of
/// request `seq`, with the descriptors its status calls for; gives it and
/// its segment, or what is wrong.
fn check_reply(
    reply: Reply,
    mut fds: Vec<OwnedFd>,
    seq: u64,
    stage: usize,
) -> Result<(Reply, Option<OwnedFd>), String> {
    if reply.seq != seq {
        return Err(format!(
            "it answers request {}, not request {seq}",
            reply.seq
        ));
    }
    if reply.stage as usize != stage {
        return Err(format!(
            "it answers stage {}, not stage {stage}",
            reply.stage
        ));
    }
    let wants_segment = match reply.status {
        Status::Ok => true,
        Status::NoDescriptors => false,
        Status::StageError | Status::Panicked | Status::Failed => reply.layout.meta_len > 0,
    };
    if reply.status != Status::Ok && reply.layout.samples != 0 {
        return Err(format!(
            "a reply of status {:?} gives {} samples",
            reply.status, reply.layout.samples
        ));
    }
    match (fds.len(), wants_segment) {
        (1, true) | (0, false) => Ok((reply, fds.pop())),
        (n, true) => Err(format!(
            "{n} descriptors came with a reply of status {:?}, which needs 1",
            reply.status
        )),
        (n, false) => Err(format!(
            "{n} descriptors came with a reply of status {:?}, which has none",
            reply.status
        )),
    }
}

/// The worker's loop: receive a request, run the stage, send the outcome;
/// until the parent closes the socket. Gives the exit status.
fn serve(plan: &Plan<'_>, sock: &OwnedFd, outputs: &Outputs) -> i32 {
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut maps = MappingCache::default();
    loop {
        let message = match recv_framed(sock.as_fd(), &mut buf) {
            Ok(Some(message)) => message,
            Ok(None) => return 0,
            Err(_) => return 2,
        };
        let sent = run_request(plan, sock, &mut maps, outputs, message);
        outputs.end_request(&mut maps);
        // Scratch buffers of this request's stages: a worker keeps no more
        // than a pipeline does between runs.
        buffer::release_idle(buffer::RUN_END_IDLE);
        if sent.is_err() {
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

/// A whole request as received.
struct Message {
    bytes: Vec<u8>,
    /// The descriptors that came with it.
    fds: Vec<OwnedFd>,
    /// Why some descriptors sent with it were lost, if some were.
    lost_fds: Option<Errno>,
}

/// Receives one request sent by [`send_framed`]; `None` at end of stream.
fn recv_framed(sock: BorrowedFd<'_>, buf: &mut [u8]) -> Result<Option<Message>, Errno> {
    let mut message = Message {
        bytes: Vec::new(),
        fds: Vec::new(),
        lost_fds: None,
    };
    loop {
        sys::await_readable(sock)?;
        let packet = sys::recv(sock, buf)?;
        if packet.len == 0 {
            return Ok(None);
        }
        message.fds.extend(packet.fds);
        message.lost_fds = message.lost_fds.or(packet.lost_fds);
        message.bytes.extend_from_slice(&buf[1..packet.len]);
        if buf[0] == 0 {
            return Ok(Some(message));
        }
    }
}

/// What a worker says about one stage: the reply (its numbers are filled in
/// by [`Replier::send`]) and the segment that goes with it.
type Outcome = (Reply, Option<OwnedFd>);

/// Where a worker's replies to one request go.
struct Replier<'s> {
    sock: &'s OwnedFd,
    /// The request's number, which every reply repeats.
    seq: u64,
}

impl Replier<'_> {
    /// Sends the reply about stage `stage`.
    fn send(&self, stage: u32, (mut reply, segment): Outcome) -> Result<(), Errno> {
        reply.seq = self.seq;
        reply.stage = stage;
        let fds: Vec<RawFd> = segment.iter().map(sys::raw).collect();
        sys::send(self.sock.as_fd(), &reply.encode(), &fds)
    }

    /// A failure of `status`, its text in a segment. Without a segment the
    /// parent still learns that something failed; without a descriptor for
    /// one, it learns that.
    fn failure(&self, status: Status, text: &str, nanos: u64) -> Outcome {
        let fd = match segment::write_text(text) {
            Ok(fd) => fd,
            Err(_) => {
                if let Some(e) = sys::descriptor_shortage(self.sock.as_fd()) {
                    let note = "create a shared-memory segment for the stage's error message";
                    return no_descriptors(e, note, nanos);
                }
                None
            }
        };
        let len = if fd.is_some() { text.len() as u64 } else { 0 };
        (bare_reply(status, len, nanos), fd)
    }
}

/// A reply of `status` with `meta_len` bytes of text, not yet numbered.
fn bare_reply(status: Status, meta_len: u64, nanos: u64) -> Reply {
    Reply {
        seq: 0,
        stage: 0,
        status,
        layout: SegmentLayout {
            samples: 0,
            meta_len,
        },
        nanos,
        errno: 0,
        note: String::new(),
    }
}

/// The reply of a worker that had no descriptor left (`errno`) to do `note`.
fn no_descriptors(errno: Errno, note: &str, nanos: u64) -> Outcome {
    let mut reply = bare_reply(Status::NoDescriptors, 0, nanos);
    reply.errno = errno as i32;
    reply.note = note.to_owned();
    (reply, None)
}

/// The error for a worker that could not be started: out of descriptors,
/// or another failure of `what`.
fn spawn_error(what: &'static str, source: Errno) -> Error {
    if sys::is_out_of_descriptors(source) {
        ProcessError::OutOfDescriptors {
            what: what.to_owned(),
            step: None,
            source,
            limit: sys::descriptor_limit() as u64,
        }
        .into()
    } else {
        ProcessError::Spawn { what, source }.into()
    }
}

/// Runs one request (a chain of stages) in the worker, replying per stage.
fn run_request(
    plan: &Plan<'_>,
    sock: &OwnedFd,
    maps: &mut MappingCache,
    outputs: &Outputs,
    message: Message,
) -> Result<(), Errno> {
    let Message {
        bytes,
        mut fds,
        lost_fds,
    } = message;
    let request = match Request::decode(&bytes) {
        Ok(request) => request,
        Err(problem) => {
            let to = Replier {
                sock,
                seq: Request::seq_of(&bytes).unwrap_or(0),
            };
            let text = format!("the worker received a malformed request: {problem}");
            return to.send(0, to.failure(Status::Failed, &text, 0));
        }
    };
    let to = Replier {
        sock,
        seq: request.seq,
    };
    let first = request.stages[0];
    match lost_fds {
        Some(e) if sys::is_out_of_descriptors(e) => {
            let note = "receive the descriptors of the stage's inputs";
            return to.send(first, no_descriptors(e, note, 0));
        }
        Some(e) => {
            let text = format!("the worker lost descriptors of its request: {e}");
            return to.send(first, to.failure(Status::Failed, &text, 0));
        }
        None => {}
    }
    let expected = request.segments.len() + request.outputs as usize;
    if fds.len() != expected {
        let text = format!(
            "the worker received {} descriptors with a request for {expected}",
            fds.len()
        );
        return to.send(first, to.failure(Status::Failed, &text, 0));
    }
    if let Some(&bad) = request.stages.iter().find(|&&s| s as usize >= plan.len()) {
        let text = format!("the worker has no stage {bad}");
        return to.send(first, to.failure(Status::Failed, &text, 0));
    }
    // The segments sent for the outputs: the stages' output buffers.
    outputs.receive(fds.split_off(request.segments.len()), maps);
    let traces: Result<Vec<Trace>, String> = fds
        .iter()
        .zip(&request.segments)
        .map(|(fd, layout)| maps.map_trace(fd.as_fd(), *layout))
        .collect();
    drop(fds);
    let mut traces = match traces {
        Ok(traces) => traces,
        Err(e) => return to.send(first, to.failure(Status::Failed, &e, 0)),
    };
    let mut previous: Option<Trace> = None;
    for (j, &stage) in request.stages.iter().enumerate() {
        let index = stage as usize;
        let inputs: Vec<&Trace> = match &previous {
            None if j == 0 => request
                .inputs
                .iter()
                .map(|&i| &traces[i as usize])
                .collect(),
            Some(p) => vec![p; plan.inputs(index).len()],
            None => break,
        };
        let start = Instant::now();
        let result = plan.run_stage(index, &inputs, start, 0);
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        drop(inputs);
        traces.clear();
        let (outcome, output) = match result.map(|(out, _)| out) {
            Ok(out) => match write_output(&to, maps, outputs, &out, nanos) {
                Ok(outcome) => (outcome, Some(out)),
                Err(outcome) => (outcome, None),
            },
            Err(Error::Stage { source, .. }) => (
                to.failure(Status::StageError, &source.to_string(), nanos),
                None,
            ),
            Err(Error::StagePanicked { message, .. }) => {
                (to.failure(Status::Panicked, &message, nanos), None)
            }
            Err(other) => (to.failure(Status::Failed, &other.to_string(), nanos), None),
        };
        // The trace of the stage before, if any, drops here: before the
        // reply, after which the parent may hand its segment out again.
        previous = output;
        to.send(stage, outcome)?;
        if previous.is_none() {
            break;
        }
    }
    Ok(())
}

/// Sends a stage's output `out` as the segment it lives in, if it is one of
/// `outputs`' buffers; else writes it into a free segment (a new one if
/// none fits). Gives the reply that says so, or the one that says why not.
fn write_output(
    to: &Replier<'_>,
    maps: &mut MappingCache,
    outputs: &Outputs,
    out: &Trace,
    nanos: u64,
) -> Result<Outcome, Outcome> {
    let ok = |(fd, layout)| {
        let mut ok = bare_reply(Status::Ok, 0, nanos);
        ok.layout = layout;
        (ok, Some(fd))
    };
    if let Some(sent) = outputs.send_in_place(out) {
        return Ok(ok(sent));
    }
    let meta_len = wire::encode_meta(out.meta()).len() as u64;
    let want = SegmentLayout {
        samples: out.len() as u64,
        meta_len,
    }
    .total()
    .unwrap_or(usize::MAX) as u64;
    let into = outputs.take_free(want, maps);
    let fd = match into.map_or_else(sys::new_segment, Ok) {
        Ok(fd) => fd,
        Err(e) if sys::is_out_of_descriptors(e) => {
            let note = "create a shared-memory segment for the stage's output";
            return Err(no_descriptors(e, note, nanos));
        }
        Err(e) => {
            let text = format!("cannot create a shared-memory segment: {e}");
            return Err(to.failure(Status::Failed, &text, nanos));
        }
    };
    match maps.write_trace(out, Some(fd)) {
        Ok(written) => {
            outputs::count_copied(size_of_val(out.samples()));
            Ok(ok(written))
        }
        Err(e) => Err(to.failure(Status::Failed, &e, nanos)),
    }
}

#[cfg(test)]
mod tests {
    use std::{fs, os::fd::RawFd};

    use nix::sys::socket::MsgFlags;
    use tracekit_core::{INPUT, Pipeline, SequentialExecutor, StageError, Step, Transformer};

    use super::*;
    use crate::ProcessExecutor;

    /// The socket descriptors of this process.
    fn sockets() -> Vec<RawFd> {
        fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter(|e| {
                fs::read_link(e.path()).is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
            })
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect()
    }

    /// Passes its input through; first, when the input starts below zero,
    /// writes its message (if any) to every socket of its process (in a
    /// worker: its own, the way a misbehaving C callback would).
    #[derive(Clone)]
    struct Stray(Option<Vec<u8>>);

    impl Transformer for Stray {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            if let Some(message) = &self.0
                && i[0].samples().first().is_some_and(|&x| x < 0.0)
            {
                for fd in sockets() {
                    let _ = nix::sys::socket::send(fd, message, MsgFlags::MSG_NOSIGNAL);
                }
            }
            Ok(i[0].clone())
        }
    }

    fn trace(first: f64) -> Trace {
        Trace::new(vec![first, 2.0, 3.0], 10.0).unwrap()
    }

    /// A reply to stage `stage` of request `seq`, of `status`, giving 3 samples.
    fn plausible(seq: u64, stage: u32, status: Status) -> Vec<u8> {
        let mut reply = bare_reply(status, 0, 1000);
        reply.seq = seq;
        reply.stage = stage;
        if status == Status::Ok {
            reply.layout = SegmentLayout {
                samples: 3,
                meta_len: 40,
            };
        }
        reply.encode()
    }

    #[test]
    fn a_stray_or_garbled_reply_is_a_protocol_error_and_the_worker_is_replaced() {
        // On a new executor of one worker, the chain a -> stray is request 1;
        // stage `stray` (index 1) writes its message, then the real reply.
        let cases: [(&str, Vec<u8>, String); 7] = [
            (
                "an empty message",
                Vec::new(),
                "an empty message, while its socket is still open".into(),
            ),
            (
                "garbage",
                b"garbage".to_vec(),
                "7 bytes are too short for a reply (its header alone is 52)".into(),
            ),
            (
                "another request's reply",
                plausible(7, 1, Status::Ok),
                "it answers request 7, not request 1".into(),
            ),
            (
                "another stage's reply",
                plausible(1, 0, Status::Ok),
                "it answers stage 0, not stage 1".into(),
            ),
            (
                "an output without its segment",
                plausible(1, 1, Status::Ok),
                "0 descriptors came with a reply of status Ok, which needs 1".into(),
            ),
            (
                "a failure that gives samples",
                {
                    let mut bytes = plausible(1, 1, Status::Failed);
                    bytes[28] = 5;
                    bytes
                },
                "a reply of status Failed gives 5 samples".into(),
            ),
            (
                "a message too long",
                vec![0; 1000],
                format!("a message longer than the {MAX_REPLY} bytes a reply may have"),
            ),
        ];
        // Its workers write to every socket: no other test's may be there.
        let _alone = crate::FORKS
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (case, message, problem) in cases {
            let p = Pipeline::new([
                Step::new("a", Stray(None)).input(INPUT),
                Step::new("stray", Stray(Some(message))).input("a"),
            ])
            .unwrap();
            let executor = ProcessExecutor::new(1).unwrap();
            let err = p.run_on(&executor, &trace(-1.0)).unwrap_err();
            let Some(ProcessError::MalformedReply {
                step, worker, pid, ..
            }) = err.backend_error()
            else {
                panic!("{case}: not a malformed reply: {err}");
            };
            assert_eq!((step.as_str(), *worker), ("stray", 1), "{case}");
            assert_eq!(
                err.to_string(),
                format!(
                    "Worker 1 (pid {pid}) running stage 'stray' sent a malformed reply: {problem}"
                ),
                "{case}"
            );
            assert!(executor.worker_pids().is_empty(), "{case}: killed");
            // The next run, on a new worker, gives the right result.
            let got = p.run_on(&executor, &trace(1.0)).unwrap();
            let want = p.run_on(&SequentialExecutor, &trace(1.0)).unwrap();
            assert!(got.output().bit_eq(want.output()), "{case}");
            assert_eq!(executor.worker_pids().len(), 1, "{case}: replaced");
        }
    }

    #[test]
    fn replies_must_bring_the_descriptors_their_status_needs() {
        let segment = || sys::new_segment().unwrap();
        let error = bare_reply(Status::StageError, 12, 0);
        assert!(check_reply(error.clone(), vec![segment()], 0, 0).is_ok());
        assert_eq!(
            check_reply(error, vec![], 0, 0).unwrap_err(),
            "0 descriptors came with a reply of status StageError, which needs 1"
        );
        let (bare, _) = no_descriptors(Errno::EMFILE, "create a segment", 0);
        assert!(check_reply(bare.clone(), vec![], 0, 0).is_ok());
        assert_eq!(
            check_reply(bare, vec![segment(), segment()], 0, 0).unwrap_err(),
            "2 descriptors came with a reply of status NoDescriptors, which has none"
        );
    }
}
