//! Every raw system call of the crate: fork, memfd segments, memory mappings,
//! Unix sockets with descriptor passing, poll, signals and reaping.
//!
//! Everything above this module is safe Rust. The functions here are safe to
//! call; each `unsafe` block says why its requirements hold.

#![expect(
    clippy::disallowed_methods,
    reason = "this module is where the raw calls that clippy.toml bans elsewhere live"
)]

use std::{
    ffi::c_void,
    io::IoSlice,
    num::NonZeroUsize,
    os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd},
    panic::{AssertUnwindSafe, catch_unwind},
    ptr::NonNull,
    slice,
    sync::mpsc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use nix::{
    errno::Errno,
    poll::{PollFd, PollFlags, PollTimeout, poll},
    sys::{
        memfd::{MFdFlags, memfd_create},
        mman::{MapFlags, ProtFlags, mmap, munmap},
        signal::{Signal, kill},
        socket::{
            AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr, sendmsg,
            socketpair,
        },
        stat::{FileStat, fstat},
        uio::pwritev,
        wait::{WaitPidFlag, WaitStatus, waitpid},
    },
    unistd::{ForkResult, Pid, fork, ftruncate, getpid, getppid},
};
use tracekit_core::Plan;

/// The most descriptors one message carries (the kernel allows 253).
pub(crate) const MAX_FDS: usize = 250;

// ---------------------------------------------------------------- processes

/// Why no worker could be forked: what failed, and the system's error.
pub(crate) type ForkFailure = (&'static str, Errno);

/// The stack of the forker thread, on which every worker runs its stages:
/// as large as a main thread's usual one (it is reserved, not used, until
/// a stage needs it).
const FORKER_STACK: usize = 8 << 20;

/// The exit status of a worker whose parent died before it could ask to
/// die with it.
const ORPHANED: i32 = 125;

/// The thread that forks the workers of one pool.
///
/// A worker asks the kernel for SIGKILL when its parent dies
/// (`PR_SET_PDEATHSIG`), so that no worker outlives the process that forked
/// it. The kernel sends that signal when the parent *thread* ends, not the
/// parent process: a worker forked from whichever thread ran first (a C
/// host's pool thread, a scoped thread) would die with that thread while the
/// pool still counts on it. So every worker of a pool is forked from this
/// one thread, which the pool owns and which ends only when the pool is
/// dropped, after its workers were reaped.
///
/// In a worker, the stacks of the parent's other threads are memory that
/// glibc hands to the threads the worker starts: what a worker runs lives
/// on the heap (its closure is boxed, and a [`Plan`] borrows only heap
/// memory, see its documentation).
#[derive(Debug, Default)]
pub(crate) struct Forker {
    /// The thread and the way to it, once started.
    thread: Option<ForkerThread>,
}

#[derive(Debug)]
struct ForkerThread {
    requests: mpsc::Sender<ForkRequest>,
    handle: JoinHandle<()>,
    /// The process that started it: a copy made by a host's own `fork` has
    /// the handle but not the thread.
    owner: u32,
}

/// What a worker runs after the fork; gives its exit status.
type ChildMain = Box<dyn FnOnce() -> i32 + Send + 'static>;

struct ForkRequest {
    child: ChildMain,
    answer: mpsc::SyncSender<nix::Result<Pid>>,
}

impl Forker {
    /// Forks, on the forker thread, a child that runs `child(&plan)` and
    /// leaves with `_exit` and its return value (101 if it panicked); gives
    /// the child's pid. The child dies by SIGKILL when this process does.
    ///
    /// The child of a multi-threaded process holds copies of every lock other
    /// threads held at the fork; `child` must not take locks that other
    /// threads may hold (stdio, the environment).
    pub(crate) fn fork<'p>(
        &mut self,
        plan: Plan<'p>,
        child: impl FnOnce(&Plan<'p>) -> i32 + Send + 'static,
    ) -> Result<Pid, ForkFailure> {
        let main: Box<dyn FnOnce() -> i32 + Send + 'p> = Box::new(move || child(&plan));
        // SAFETY:
        // - Only the lifetime changes: `Box<dyn FnOnce() -> i32 + Send + 'p>`
        //   and its `'static` form have the same layout.
        // - In this process the forker thread never calls `main`: it forks,
        //   and drops `main` before it answers (`serve_forks`), or drops the
        //   request unanswered; this function returns only after one or the
        //   other (`recv` below), so nothing borrowed for `'p` is used after
        //   `'p`.
        // - In the child, `main` runs in a copy of this process's memory as
        //   it was at the fork. What it borrows for `'p` is the plan's
        //   borrows, which are heap memory only (`Plan`'s documentation):
        //   nothing in the child frees it, and it is not the stack of a
        //   thread that the child does not have (glibc reuses those for the
        //   child's new threads).
        let main =
            unsafe { std::mem::transmute::<Box<dyn FnOnce() -> i32 + Send + 'p>, ChildMain>(main) };
        let (answer, answered) = mpsc::sync_channel(1);
        let mut request = ForkRequest {
            child: main,
            answer,
        };
        // One retry: a thread found gone is started again.
        for _ in 0..2 {
            let requests = self.requests()?;
            match requests.send(request) {
                Ok(()) => {
                    return answered
                        .recv()
                        .unwrap_or(Err(Errno::EPIPE))
                        .map_err(|e| ("fork a worker process", e));
                }
                Err(mpsc::SendError(back)) => {
                    request = back;
                    self.thread = None;
                }
            }
        }
        Err(("reach the thread that forks the workers", Errno::EPIPE))
    }

    /// The way to the forker thread, started now if this process has none.
    fn requests(&mut self) -> Result<&mpsc::Sender<ForkRequest>, ForkFailure> {
        let me = std::process::id();
        if let Some(stale) = self.thread.take_if(|t| t.owner != me) {
            // A copy of the pool in a host's forked child: the thread is not
            // in this process; joining or detaching it would act on a thread
            // of another process.
            std::mem::forget(stale);
        }
        if self.thread.is_none() {
            let (requests, received) = mpsc::channel();
            let handle = std::thread::Builder::new()
                .name("tracekit-forker".into())
                .stack_size(FORKER_STACK)
                .spawn(move || serve_forks(&received))
                .map_err(|e| {
                    let errno = e.raw_os_error().map_or(Errno::EAGAIN, Errno::from_raw);
                    ("start the thread that forks the workers", errno)
                })?;
            self.thread = Some(ForkerThread {
                requests,
                handle,
                owner: me,
            });
        }
        match &self.thread {
            Some(t) => Ok(&t.requests),
            None => unreachable!("the forker thread was just started"),
        }
    }
}

impl Drop for Forker {
    fn drop(&mut self) {
        if let Some(ForkerThread {
            requests,
            handle,
            owner,
        }) = self.thread.take()
        {
            if owner == std::process::id() {
                drop(requests);
                let _ = handle.join();
            } else {
                std::mem::forget((requests, handle));
            }
        }
    }
}

/// The forker thread's loop: fork for each request, until the pool goes.
fn serve_forks(requests: &mpsc::Receiver<ForkRequest>) {
    while let Ok(ForkRequest { child, answer }) = requests.recv() {
        // `fork_child` drops `child` (in this process) before it returns.
        let forked = fork_child(child);
        let _ = answer.send(forked);
    }
}

/// Forks a child that runs `child` and leaves with `_exit`; see [`Forker::fork`].
fn fork_child(child: ChildMain) -> nix::Result<Pid> {
    let parent = getpid();
    // SAFETY:
    // - fork is unsafe because the child of a multi-threaded process has only
    //   the calling thread, and locks held by other threads stay held in it.
    // - The child runs `child` only, whose contract (above, and the worker
    //   loop's design) is to take no lock another thread may hold: it uses
    //   system calls, the allocator (made fork-safe by glibc's atfork
    //   handlers) and the pipeline's stages. The calling thread (the forker)
    //   holds no lock at all here.
    // - The child never returns from this function: it leaves with `_exit`, so
    //   no destructor of the parent's state runs twice and no stdio buffer is
    //   flushed twice.
    match unsafe { fork() }? {
        ForkResult::Parent { child: pid } => {
            drop(child);
            Ok(pid)
        }
        ForkResult::Child => {
            die_with(parent);
            leave_on_exit();
            let code = catch_unwind(AssertUnwindSafe(child)).unwrap_or(101);
            // SAFETY:
            // - `_exit` has no preconditions; it ends the process at once,
            //   without atexit handlers or stdio flushing (the parent's).
            unsafe { libc::_exit(code) }
        }
    }
}

/// In a new child: asks for SIGKILL when the parent (thread) ends, and
/// leaves at once if `parent` ended before the request was made (the signal
/// would never come).
fn die_with(parent: Pid) {
    let armed = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_ok();
    // After the request, a parent that ends sends the signal; before it, the
    // child was handed to another process (init or a subreaper).
    if !armed || getppid() != parent {
        // SAFETY: `_exit` has no preconditions; see `fork_child`.
        unsafe { libc::_exit(ORPHANED) }
    }
}

/// In a new child: makes `exit` (a C callback's, or Rust's
/// `std::process::exit`) end the process with `_exit` and its status before
/// any other exit handler runs, so that the parent's atexit handlers and
/// C++ destructors do not run in it and its copies of the parent's stdio
/// buffers are not flushed a second time.
///
/// glibc runs exit handlers last registered first, and this one is
/// registered right after the fork; handlers that a stage registers later
/// (its own) run before it. The thread-local destructors of the calling
/// thread run before any handler. Elsewhere than glibc, `exit` is not
/// intercepted (it runs the parent's handlers).
fn leave_on_exit() {
    #[cfg(target_env = "gnu")]
    {
        unsafe extern "C" {
            /// glibc's `on_exit(3)`: `function(status, arg)` runs in `exit`.
            fn on_exit(
                function: extern "C" fn(libc::c_int, *mut c_void),
                arg: *mut c_void,
            ) -> libc::c_int;
        }
        extern "C" fn leave_at_once(status: libc::c_int, _: *mut c_void) {
            // SAFETY: `_exit` has no preconditions; it is what `exit` would
            // end with, minus the handlers and the stdio flushing.
            unsafe { libc::_exit(status) }
        }
        // SAFETY:
        // - `leave_at_once` is a valid `extern "C"` function for the whole
        //   life of the process, and ignores its argument (null).
        // - glibc's `on_exit` takes its exit-handler lock, which another
        //   thread of the parent held at the fork only if it was itself
        //   registering an exit handler at that instant; `exit` takes the
        //   same lock, so a stage calling `exit` would meet it anyway.
        // - If registering fails (no memory), `exit` runs the parent's
        //   handlers as it would without this; nothing unsound follows.
        unsafe {
            on_exit(leave_at_once, std::ptr::null_mut());
        }
    }
}

/// Sends SIGKILL to `pid` and reaps it; gives how it ended.
pub(crate) fn kill_and_reap(pid: Pid) -> nix::Result<WaitStatus> {
    // ESRCH cannot happen for an unreaped child; a zombie ignores the signal.
    let _ = kill(pid, Signal::SIGKILL);
    loop {
        match waitpid(pid, None) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Reaps `pid` if it has ended; `None` while it runs.
pub(crate) fn try_reap(pid: Pid) -> nix::Result<Option<WaitStatus>> {
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Err(Errno::EINTR) => continue,
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(status) => return Ok(Some(status)),
            Err(e) => return Err(e),
        }
    }
}

/// Closes descriptors that this process inherited but does not own
/// (in a freshly forked child: the parent's ends of other workers' sockets).
pub(crate) fn close_inherited(fds: &[RawFd]) {
    for &fd in fds {
        // SAFETY:
        // - Called in a forked child on descriptors that the parent's state
        //   owns; the child never touches that state again, so no `OwnedFd`
        //   of this process closes them a second time.
        unsafe {
            libc::close(fd);
        }
    }
}

// ---------------------------------------------------------------- sockets

/// A connected pair of Unix sequential-packet sockets, close-on-exec.
pub(crate) fn socket_pair() -> nix::Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
}

/// Sends one message with `fds` attached. Never raises SIGPIPE: a closed peer
/// gives `EPIPE`.
pub(crate) fn send(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[RawFd]) -> nix::Result<()> {
    let iov = [IoSlice::new(bytes)];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
    loop {
        match sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(Errno::EINTR) => continue,
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(_) => return Err(Errno::EMSGSIZE),
            Err(e) => return Err(e),
        }
    }
}

/// Waits, spinning for up to [`SPIN`] before it sleeps, until `sock` has a
/// message (or is closed).
pub(crate) fn await_readable(sock: BorrowedFd<'_>) -> nix::Result<()> {
    poll_readable(&[sock], Duration::from_millis(i32::MAX as u64)).map(drop)
}

/// One message received by [`recv`].
#[derive(Debug)]
pub(crate) struct Packet {
    /// Its length in bytes (0 at end of stream).
    pub(crate) len: usize,
    /// The descriptors that came with it, close-on-exec.
    pub(crate) fds: Vec<OwnedFd>,
    /// Set when some descriptors sent with it were lost (`MSG_CTRUNC`):
    /// `EMFILE` or `ENFILE` if this process could not open one more
    /// descriptor just after, else `ETOOMANYREFS` (more than [`MAX_FDS`]
    /// were sent).
    pub(crate) lost_fds: Option<Errno>,
}

/// Receives one message into `buf`. A message longer than `buf` is
/// consumed and gives `EMSGSIZE`.
///
/// Written on `recvmsg(2)` itself: nix's gives no descriptor at all when
/// some were lost (`MSG_CTRUNC`), although those received are open.
pub(crate) fn recv(sock: BorrowedFd<'_>, buf: &mut [u8]) -> nix::Result<Packet> {
    const FD: usize = size_of::<RawFd>();
    // SAFETY: `CMSG_SPACE` only computes a size.
    let space = unsafe { libc::CMSG_SPACE((MAX_FDS * FD) as libc::c_uint) } as usize;
    // u64 words: aligned for `cmsghdr`.
    let mut control = vec![0u64; space.div_ceil(8)];
    loop {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: `msghdr` is plain data (pointers and integers): all zeros
        // is a valid value (no name, no buffers), filled in below.
        let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        hdr.msg_iov = &mut iov;
        hdr.msg_iovlen = 1;
        hdr.msg_control = control.as_mut_ptr().cast();
        hdr.msg_controllen = (control.len() * 8) as _;
        // SAFETY:
        // - `hdr` points to one iovec over `buf` (writable for its length)
        //   and to `control` (writable for `msg_controllen` bytes), all alive
        //   for the call.
        // - The kernel writes only there, and into `hdr` itself.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut hdr, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            match Errno::last() {
                Errno::EINTR => continue,
                e => return Err(e),
            }
        }
        let mut fds = Vec::new();
        // SAFETY: `hdr` is the header the kernel just filled in, its control
        // buffer `control`: the macros stay within `msg_controllen` bytes.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&hdr) };
        while !cmsg.is_null() {
            // SAFETY: `CMSG_FIRSTHDR`/`CMSG_NXTHDR` give null or a header
            // that lies within the control buffer, aligned.
            let c = unsafe { &*cmsg };
            if c.cmsg_level == libc::SOL_SOCKET && c.cmsg_type == libc::SCM_RIGHTS {
                // SAFETY: `cmsg` is a header within the buffer (above).
                let data = unsafe { libc::CMSG_DATA(cmsg) };
                let header = data as usize - cmsg as usize;
                let end = control.as_ptr() as usize + control.len() * 8;
                // The kernel writes the length of what it delivered; bound it
                // by the buffer all the same.
                let len = (c.cmsg_len as usize)
                    .saturating_sub(header)
                    .min(end.saturating_sub(data as usize));
                for k in 0..len / FD {
                    // SAFETY:
                    // - `data + k * FD` is within the delivered data (`len`),
                    //   read unaligned as the macros do not promise more.
                    // - The kernel installed each descriptor in this process
                    //   for this message: nothing else refers to it, so this
                    //   is its one owner.
                    fds.push(unsafe {
                        OwnedFd::from_raw_fd(data.add(k * FD).cast::<RawFd>().read_unaligned())
                    });
                }
            }
            // SAFETY: as for `CMSG_FIRSTHDR`.
            cmsg = unsafe { libc::CMSG_NXTHDR(&hdr, cmsg) };
        }
        if hdr.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(Errno::EMSGSIZE);
        }
        let lost_fds = (hdr.msg_flags & libc::MSG_CTRUNC != 0)
            .then(|| descriptor_shortage(sock).unwrap_or(Errno::ETOOMANYREFS));
        return Ok(Packet {
            len: n as usize,
            fds,
            lost_fds,
        });
    }
}

/// Whether the other end of connected socket `sock` is closed (after an
/// empty read: the end of the stream rather than an empty message).
pub(crate) fn peer_closed(sock: BorrowedFd<'_>) -> bool {
    // A closed peer of a stream or sequential-packet socket sets POLLHUP,
    // which poll reports unasked.
    let mut pfd = [PollFd::new(sock, PollFlags::empty())];
    loop {
        match poll(&mut pfd, PollTimeout::ZERO) {
            Err(Errno::EINTR) => continue,
            // Cannot tell: the caller treats the worker as ending.
            Err(_) => return true,
            Ok(_) => {
                return pfd[0].revents().is_some_and(|r| {
                    r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
                });
            }
        }
    }
}

/// Whether `e` says that no descriptor is left: this process's limit
/// (`EMFILE`) or the system's (`ENFILE`).
pub(crate) fn is_out_of_descriptors(e: Errno) -> bool {
    matches!(e, Errno::EMFILE | Errno::ENFILE)
}

/// Whether this process can open one more descriptor now: `None` if so,
/// else the error (`EMFILE`, `ENFILE`). Duplicates `fd` to find out.
pub(crate) fn descriptor_shortage(fd: BorrowedFd<'_>) -> Option<Errno> {
    match nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(0)) {
        Ok(dup) => {
            // SAFETY:
            // - `dup` is a descriptor the kernel just made for this call;
            //   nothing else owns it, and dropping it here closes it once.
            drop(unsafe { OwnedFd::from_raw_fd(dup) });
            None
        }
        Err(e) if is_out_of_descriptors(e) => Some(e),
        Err(_) => None,
    }
}

/// How long a waiting process keeps checking before it sleeps: a reply that
/// comes within this time costs no sleep and no wake-up (each of which,
/// across cores of a virtual machine, costs tens of microseconds).
pub(crate) const SPIN: Duration = Duration::from_micros(40);

/// Waits until one of `fds` is readable, hung up or in error, or `timeout`
/// passes; gives one flag per descriptor. Checks without sleeping for up to
/// [`SPIN`] first.
pub(crate) fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Duration) -> nix::Result<Vec<bool>> {
    let mut pfds: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    let spin_until = Instant::now() + SPIN.min(timeout);
    // Round up so that a deadline is not missed by a truncated millisecond.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    loop {
        let now = Instant::now();
        let wait = if now < spin_until {
            PollTimeout::ZERO
        } else {
            timeout
        };
        match poll(&mut pfds, wait) {
            Ok(0) if now < spin_until => std::hint::spin_loop(),
            Ok(_) | Err(Errno::EINTR) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(pfds
        .iter()
        .map(|p| {
            p.revents().is_some_and(|r| {
                r.intersects(
                    PollFlags::POLLIN
                        | PollFlags::POLLHUP
                        | PollFlags::POLLERR
                        | PollFlags::POLLNVAL,
                )
            })
        })
        .collect())
}

// ---------------------------------------------------------------- segments

/// The soft limit on open descriptors of this process (1024 if unknown).
pub(crate) fn descriptor_limit() -> usize {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .and_then(|(soft, _)| usize::try_from(soft).ok())
        .unwrap_or(1024)
}

/// Creates an empty anonymous shared-memory segment, close-on-exec.
pub(crate) fn new_segment() -> nix::Result<OwnedFd> {
    memfd_create(c"tracekit-segment", MFdFlags::MFD_CLOEXEC)
}

/// Writes `parts` one after the other from the start of segment `fd`,
/// growing it as needed (a reused segment keeps its pages: no allocation).
pub(crate) fn write_segment(fd: BorrowedFd<'_>, parts: &[&[u8]]) -> nix::Result<()> {
    write_segment_at(fd, 0, parts)
}

/// Writes `parts` one after the other into segment `fd` from byte `start`,
/// growing it as needed.
pub(crate) fn write_segment_at(
    fd: BorrowedFd<'_>,
    start: usize,
    parts: &[&[u8]],
) -> nix::Result<()> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut written = 0;
    // One gathering write for all parts; a short write continues where it stopped.
    while written < total {
        let mut skip = written;
        let mut iov = Vec::with_capacity(parts.len());
        for part in parts {
            if skip >= part.len() {
                skip -= part.len();
            } else {
                iov.push(IoSlice::new(&part[skip..]));
                skip = 0;
            }
        }
        let offset = start
            .checked_add(written)
            .and_then(|o| i64::try_from(o).ok())
            .ok_or(Errno::EFBIG)?;
        match pwritev(fd, &iov, offset) {
            Err(Errno::EINTR) => continue,
            Ok(0) => return Err(Errno::ENOSPC),
            Ok(n) => written += n,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The size of segment `fd` in bytes (0 if it cannot be known).
pub(crate) fn segment_size(fd: BorrowedFd<'_>) -> u64 {
    fstat(fd).map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0))
}

/// Which segment a descriptor refers to: its device and inode, the same
/// under any descriptor number and in any process.
pub(crate) type SegmentId = (u64, u64);

/// Which segment `fd` is, and its size in bytes.
pub(crate) fn segment_identity(fd: BorrowedFd<'_>) -> nix::Result<(SegmentId, u64)> {
    let FileStat {
        st_dev,
        st_ino,
        st_size,
        ..
    } = fstat(fd)?;
    let size = u64::try_from(st_size).map_err(|_| Errno::EINVAL)?;
    Ok(((st_dev, st_ino), size))
}

/// Grows segment `fd` to `len` bytes if it is smaller (segments never shrink).
pub(crate) fn grow_segment(fd: BorrowedFd<'_>, len: u64) -> nix::Result<()> {
    if segment_size(fd) < len {
        ftruncate(fd, i64::try_from(len).map_err(|_| Errno::EFBIG)?)?;
    }
    Ok(())
}

/// Frees the pages of segment `fd`, which no trace of any process reads and
/// which will never be handed out again: a worker may still keep a mapping
/// of it (see `mapping_cache`), which would otherwise keep its memory
/// alive, but never touches that mapping again.
pub(crate) fn discard_segment(fd: OwnedFd) {
    let _ = ftruncate(&fd, 0);
}

/// A mapping of a segment; unmapped on drop.
///
/// Segments are shared memory, so immutability is a protocol: a segment is
/// written only by the one process it was handed to for writing, while no
/// trace of any process reads it, and handed out for writing again only once
/// every trace reading it is gone (see `segment::Recycler`); segments never
/// shrink while a trace may read them (the recycler empties those it lets
/// go of, [`discard_segment`]). Within a process, a writable mapping is written only through
/// `&mut` (see [`Mapping::bytes_mut`]), so never while a slice of it lives.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<c_void>,
    len: usize,
    writable: bool,
}

// SAFETY:
// - By the segment protocol (above) nobody writes or shrinks a segment while
//   a trace reads it, and this process writes only through `&mut self`:
//   shared references see bytes that do not change and stay valid until
//   `Drop`; sharing or moving the pointer across threads cannot create a
//   data race.
unsafe impl Send for Mapping {}
// SAFETY: as for `Send`: the memory does not change while `&self` exists.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the first `len` bytes of segment `fd` read-only. Fails unless the
    /// segment holds `len` bytes.
    /// `populate` faults every page in at once (for data about to be read).
    pub(crate) fn open(fd: BorrowedFd<'_>, len: usize, populate: bool) -> nix::Result<Mapping> {
        let length = NonZeroUsize::new(len).ok_or(Errno::EINVAL)?;
        let size = u64::try_from(fstat(fd)?.st_size).map_err(|_| Errno::EINVAL)?;
        if size < len as u64 {
            return Err(Errno::EINVAL);
        }
        let mut flags = MapFlags::MAP_SHARED;
        if populate {
            flags |= MapFlags::MAP_POPULATE;
        }
        // SAFETY:
        // - A new mapping at an address the kernel chooses overlaps no Rust
        //   object.
        // - `len` bytes exist in the file (checked above) and, by the segment
        //   protocol, it does not shrink while mapped: no SIGBUS.
        let ptr = unsafe { mmap(None, length, ProtFlags::PROT_READ, flags, fd, 0) }?;
        Ok(Mapping {
            ptr,
            len,
            writable: false,
        })
    }

    /// Maps the first `len` bytes of segment `fd` for reading and writing,
    /// every page faulted in at once. Fails unless the segment holds `len`
    /// bytes.
    pub(crate) fn open_writable(fd: BorrowedFd<'_>, len: usize) -> nix::Result<Mapping> {
        let length = NonZeroUsize::new(len).ok_or(Errno::EINVAL)?;
        if segment_size(fd) < len as u64 {
            return Err(Errno::EINVAL);
        }
        let prot = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
        let flags = MapFlags::MAP_SHARED | MapFlags::MAP_POPULATE;
        // SAFETY: as in `open`: a fresh mapping overlapping nothing, of bytes
        // that exist and, by the segment protocol, stay.
        let ptr = unsafe { mmap(None, length, prot, flags, fd, 0) }?;
        Ok(Mapping {
            ptr,
            len,
            writable: true,
        })
    }

    /// The mapped bytes, to write; `None` for a read-only mapping. Only the
    /// process the segment was handed to for writing may call this.
    pub(crate) fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        if !self.writable {
            return None;
        }
        // SAFETY:
        // - `ptr` points to `len` readable and writable bytes, mapped until
        //   `self` drops.
        // - `&mut self` excludes every other slice of this mapping in this
        //   process; by the segment protocol no other process reads them now.
        Some(unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<u8>(), self.len) })
    }

    /// The whole mapping as f64 values, to write; `None` for a read-only
    /// mapping. Only the process the segment was handed to for writing may
    /// call this.
    pub(crate) fn f64s_mut(&mut self) -> Option<&mut [f64]> {
        if !self.writable || !self.ptr.as_ptr().cast::<f64>().is_aligned() {
            return None;
        }
        // SAFETY:
        // - The pointer is aligned for f64 (checked; mappings are page
        //   aligned), and `len / 8` values lie within the `len` mapped,
        //   readable and writable bytes, mapped until `self` drops.
        // - `&mut self` excludes every other slice of this mapping in this
        //   process; by the segment protocol no other process reads them now.
        // - Every bit pattern is a valid f64.
        Some(unsafe {
            slice::from_raw_parts_mut(self.ptr.as_ptr().cast::<f64>(), self.len / size_of::<f64>())
        })
    }

    /// How many bytes are mapped.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY:
        // - `ptr` points to `len` readable bytes, mapped until `self` drops.
        // - By the segment protocol nobody writes them while mapped.
        unsafe { slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>(), self.len) }
    }

    /// The first `n` f64 values of the mapping, if it holds that many.
    pub(crate) fn f64s(&self, n: usize) -> Option<&[f64]> {
        let bytes = n.checked_mul(size_of::<f64>())?;
        if bytes > self.len || !self.ptr.as_ptr().cast::<f64>().is_aligned() {
            return None;
        }
        // SAFETY:
        // - The pointer is aligned for f64 (checked; mappings are page aligned).
        // - `n * 8 <= len` bytes are mapped and immutable until `self` drops.
        // - Every bit pattern is a valid f64.
        Some(unsafe { slice::from_raw_parts(self.ptr.as_ptr().cast::<f64>(), n) })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY:
        // - `ptr`/`len` are exactly what mmap returned, unmapped only here.
        // - Every slice handed out borrows `self`, so none outlives this call.
        let _ = unsafe { munmap(self.ptr, self.len) };
    }
}

/// The bytes of `samples`, without a copy.
pub(crate) fn f64_bytes(samples: &[f64]) -> &[u8] {
    // SAFETY:
    // - u8 has alignment 1 and f64 has no padding: the `len * 8` bytes behind
    //   the slice are initialised and readable for the slice's lifetime.
    unsafe { slice::from_raw_parts(samples.as_ptr().cast::<u8>(), size_of_val(samples)) }
}

/// The raw number of a descriptor, for lists of inherited ones.
pub(crate) fn raw(fd: &impl AsFd) -> RawFd {
    fd.as_fd().as_raw_fd()
}
