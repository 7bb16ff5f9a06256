//! Sample buffers: the one path by which built-in stages get memory for
//! their outputs and scratch space, and by which that memory comes back for
//! reuse.
//!
//! A [`SampleVec`] is a growable buffer of samples, like a `Vec<f64>`, whose
//! memory comes from a process-wide pool and goes back to it when the
//! buffer (or the [`Trace`](crate::Trace) made of it) drops. Trace-sized
//! buffers are megabytes long; fresh from the system each is an `mmap` and
//! a page fault per 4 KiB touched, which costs more than most stages'
//! arithmetic. From the pool, a steady stream of runs of the same shapes
//! allocates nothing new after the first.
//!
//! The pool:
//! - is **size-classed**: a request is rounded up to the next of four
//!   classes per power of two (at most 25% spare capacity), and a buffer
//!   serves any later request of its class;
//! - is **bounded in bytes**: idle buffers above [`pool_limit`] (1/8 of the
//!   physical memory by default; [`POOL_ENV`] or [`set_pool_limit`] change
//!   it) are freed instead of kept, and when a pipeline run ends the idle
//!   memory above [`RUN_END_IDLE`] is released;
//! - is **fallible**: a buffer that cannot be had is an [`AllocError`]
//!   naming the size, never an allocation abort;
//! - is **safe across threads and after `fork`**: each class has its own
//!   lock, held only to push or pop, and a caller that cannot take it after
//!   a few tries allocates or frees on its own instead of waiting, so a
//!   forked child never blocks on a lock that a parent thread held.
//!
//! An executor may route output buffers elsewhere with
//! [`set_output_memory`]: a process executor's worker hands out memory
//! inside shared segments, so that a stage's output reaches the parent
//! without a copy. Custom stages that return a `Vec<f64>` keep working
//! unchanged; their buffers simply are not recycled.
//!
//! ```
//! use tracekit_core::{Trace, buffer::SampleVec};
//!
//! let input = Trace::new(vec![1.0, -2.0, 3.0], 1e3)?;
//! let mut out = SampleVec::with_capacity(input.len())?;
//! out.extend(input.samples().iter().map(|x| x.abs()));
//! let abs = input.derive_samples(out);
//! assert_eq!(abs.samples(), &[1.0, 2.0, 3.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{
    any::Any,
    fmt,
    ops::{Deref, DerefMut},
    sync::{
        Mutex, OnceLock, TryLockError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

/// The environment variable that sets the pool's limit ([`pool_limit`]):
/// bytes, or with a `K`, `M`, `G` or `T` suffix.
pub const POOL_ENV: &str = "TRACEKIT_BUFFER_POOL";

/// The idle memory the pool keeps when a pipeline run ends; the rest is
/// released (see [`release_idle`]).
pub const RUN_END_IDLE: usize = 256 << 20;

/// Buffers shorter than this many samples are not pooled: the system
/// allocator serves small sizes well.
const MIN_POOLED: usize = 512;

/// log2 of [`MIN_POOLED`].
const MIN_SHIFT: u32 = MIN_POOLED.trailing_zeros();

/// Size classes: four per power of two from [`MIN_POOLED`] samples up to
/// 2^49 samples; longer buffers are not pooled.
const CLASSES: usize = 4 * 40;

/// How many times a caller tries a class's lock before it does without.
const LOCK_TRIES: usize = 64;

/// A buffer could not be allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocError {
    /// How many samples were asked for.
    pub samples: usize,
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.samples.checked_mul(size_of::<f64>()) {
            Some(bytes) => write!(
                f,
                "cannot allocate a buffer of {} samples ({bytes} bytes): out of memory",
                self.samples
            ),
            None => write!(
                f,
                "cannot allocate a buffer of {} samples: the size overflows",
                self.samples
            ),
        }
    }
}

impl std::error::Error for AllocError {}

/// Memory outside the heap that holds a [`SampleVec`]'s samples: a shared
/// segment, say (see [`set_output_memory`]).
pub trait ExternalMemory: Send + Sync + fmt::Debug + 'static {
    /// The whole memory, initialised (its length is the buffer's capacity).
    fn memory(&self) -> &[f64];
    /// The whole memory, to write.
    fn memory_mut(&mut self) -> &mut [f64];
    /// The memory as `Any`, so that its provider can recognise its own.
    fn as_any(&self) -> &dyn Any;
}

/// Where output buffers come from instead of the heap pool (see
/// [`set_output_memory`]).
pub trait OutputMemory: Send + Sync + 'static {
    /// Memory for at least `capacity` samples, or `None` to use the heap
    /// pool for this one.
    fn allocate(&self, capacity: usize) -> Option<Box<dyn ExternalMemory>>;
}

static OUTPUT_MEMORY: OnceLock<Box<dyn OutputMemory>> = OnceLock::new();

/// Routes every output buffer ([`SampleVec::with_capacity`] and the
/// constructors built on it, not [`SampleVec::scratch`]) of at least 512
/// samples to `source`, for the rest of the process.
///
/// Meant for an executor's worker process, right after it is forked: the
/// process executor's workers hand out shared memory this way. Gives
/// `source` back if a source is set already.
pub fn set_output_memory(source: Box<dyn OutputMemory>) -> Result<(), Box<dyn OutputMemory>> {
    OUTPUT_MEMORY.set(source)
}

/// What the buffers of a [`SampleVec`] are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// A stage's output: may live in [`ExternalMemory`].
    Output,
    /// Working memory: always on the heap.
    Scratch,
}

enum Store {
    Heap(Vec<f64>),
    External {
        memory: Box<dyn ExternalMemory>,
        len: usize,
    },
}

/// A growable buffer of samples from the pool; see the [module
/// documentation](self).
///
/// It dereferences to `[f64]` (its length, not its capacity), and a
/// [`Trace`](crate::Trace) is made of it without a copy by
/// [`Trace::derive_samples`](crate::Trace::derive_samples) or
/// [`Trace::from_samples`](crate::Trace::from_samples). Growing past the
/// capacity reallocates (through the pool) and panics if memory runs out,
/// as a `Vec` would abort: size buffers with
/// [`with_capacity`](SampleVec::with_capacity), which fails cleanly.
pub struct SampleVec {
    /// `None` only while dropping.
    store: Option<Store>,
    usage: Use,
}

impl SampleVec {
    /// An empty output buffer with room for `capacity` samples.
    ///
    /// ```
    /// use tracekit_core::buffer::SampleVec;
    ///
    /// let v = SampleVec::with_capacity(1000)?;
    /// assert!(v.is_empty() && v.capacity() >= 1000);
    /// assert!(SampleVec::with_capacity(usize::MAX).is_err());
    /// # Ok::<(), tracekit_core::buffer::AllocError>(())
    /// ```
    pub fn with_capacity(capacity: usize) -> Result<SampleVec, AllocError> {
        SampleVec::new_for(capacity, Use::Output)
    }

    /// An empty scratch buffer (working memory of a stage, never an
    /// output): like [`with_capacity`](SampleVec::with_capacity), but always
    /// on the heap.
    pub fn scratch(capacity: usize) -> Result<SampleVec, AllocError> {
        SampleVec::new_for(capacity, Use::Scratch)
    }

    /// An output buffer of `len` zeros.
    pub fn zeroed(len: usize) -> Result<SampleVec, AllocError> {
        let mut v = SampleVec::with_capacity(len)?;
        v.resize(len, 0.0);
        Ok(v)
    }

    /// An output buffer holding a copy of `samples`.
    pub fn from_slice(samples: &[f64]) -> Result<SampleVec, AllocError> {
        let mut v = SampleVec::with_capacity(samples.len())?;
        v.extend_from_slice(samples);
        Ok(v)
    }

    /// An output buffer of the items of `iter`, allocated once for its
    /// exact length.
    ///
    /// ```
    /// use tracekit_core::buffer::SampleVec;
    ///
    /// let squares = SampleVec::from_exact_iter([1.0, 2.0, 3.0].iter().map(|x| x * x))?;
    /// assert_eq!(&squares[..], &[1.0, 4.0, 9.0]);
    /// # Ok::<(), tracekit_core::buffer::AllocError>(())
    /// ```
    pub fn from_exact_iter(
        iter: impl ExactSizeIterator<Item = f64>,
    ) -> Result<SampleVec, AllocError> {
        let mut v = SampleVec::with_capacity(iter.len())?;
        v.extend(iter);
        Ok(v)
    }

    fn new_for(capacity: usize, usage: Use) -> Result<SampleVec, AllocError> {
        let store = match OUTPUT_MEMORY.get() {
            Some(source) if usage == Use::Output && capacity >= MIN_POOLED => {
                match source.allocate(capacity) {
                    Some(memory) => Store::External { memory, len: 0 },
                    None => Store::Heap(POOL.take(capacity)?),
                }
            }
            _ => Store::Heap(POOL.take(capacity)?),
        };
        Ok(SampleVec {
            store: Some(store),
            usage,
        })
    }

    fn store(&self) -> &Store {
        match &self.store {
            Some(store) => store,
            None => unreachable!("a SampleVec holds its store until drop"),
        }
    }

    fn store_mut(&mut self) -> &mut Store {
        match &mut self.store {
            Some(store) => store,
            None => unreachable!("a SampleVec holds its store until drop"),
        }
    }

    /// How many samples it holds.
    pub fn len(&self) -> usize {
        match self.store() {
            Store::Heap(v) => v.len(),
            Store::External { len, .. } => *len,
        }
    }

    /// Whether it holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many samples it can hold without reallocating.
    pub fn capacity(&self) -> usize {
        match self.store() {
            Store::Heap(v) => v.capacity(),
            Store::External { memory, .. } => memory.memory().len(),
        }
    }

    /// The external memory holding the samples, if they are not on the heap.
    pub fn external(&self) -> Option<&dyn ExternalMemory> {
        match self.store() {
            Store::Heap(_) => None,
            Store::External { memory, .. } => Some(memory.as_ref()),
        }
    }

    /// Makes room for `additional` more samples (through the pool).
    fn reserve(&mut self, additional: usize) {
        let need = self.len().saturating_add(additional);
        if need <= self.capacity() {
            return;
        }
        let want = need.max(self.capacity().saturating_mul(2));
        let mut bigger = match SampleVec::new_for(want, self.usage) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        bigger.extend_from_slice(self);
        std::mem::swap(self, &mut bigger);
    }

    /// Appends one sample.
    pub fn push(&mut self, value: f64) {
        self.reserve(1);
        match self.store_mut() {
            Store::Heap(v) => v.push(value),
            Store::External { memory, len } => {
                memory.memory_mut()[*len] = value;
                *len += 1;
            }
        }
    }

    /// Appends a copy of `samples`.
    pub fn extend_from_slice(&mut self, samples: &[f64]) {
        self.reserve(samples.len());
        match self.store_mut() {
            Store::Heap(v) => v.extend_from_slice(samples),
            Store::External { memory, len } => {
                memory.memory_mut()[*len..*len + samples.len()].copy_from_slice(samples);
                *len += samples.len();
            }
        }
    }

    /// Sets the length to `new_len`, filling new places with `value`.
    pub fn resize(&mut self, new_len: usize, value: f64) {
        self.reserve(new_len.saturating_sub(self.len()));
        match self.store_mut() {
            Store::Heap(v) => v.resize(new_len, value),
            Store::External { memory, len } => {
                if new_len > *len {
                    memory.memory_mut()[*len..new_len].fill(value);
                }
                *len = new_len;
            }
        }
    }

    /// Shortens it to `len` samples (nothing if it is shorter).
    pub fn truncate(&mut self, new_len: usize) {
        match self.store_mut() {
            Store::Heap(v) => v.truncate(new_len),
            Store::External { len, .. } => *len = new_len.min(*len),
        }
    }

    /// Removes every sample, keeping the memory.
    pub fn clear(&mut self) {
        self.truncate(0);
    }
}

impl Extend<f64> for SampleVec {
    /// Appends the items; one reservation for the iterator's lower size bound.
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        for x in iter {
            self.push(x);
        }
    }
}

impl Deref for SampleVec {
    type Target = [f64];

    fn deref(&self) -> &[f64] {
        match self.store() {
            Store::Heap(v) => v,
            Store::External { memory, len } => &memory.memory()[..*len],
        }
    }
}

impl DerefMut for SampleVec {
    fn deref_mut(&mut self) -> &mut [f64] {
        match self.store_mut() {
            Store::Heap(v) => v,
            Store::External { memory, len } => &mut memory.memory_mut()[..*len],
        }
    }
}

impl fmt::Debug for SampleVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleVec")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("external", &self.external().is_some())
            .finish()
    }
}

impl Drop for SampleVec {
    fn drop(&mut self) {
        if let Some(Store::Heap(v)) = self.store.take() {
            POOL.put(v);
        }
    }
}

impl crate::SampleBuffer for SampleVec {
    fn samples(&self) -> &[f64] {
        self
    }

    fn external(&self) -> Option<&dyn ExternalMemory> {
        SampleVec::external(self)
    }
}

/// What the pool has done so far in this process (see [`pool_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers allocated from the system.
    pub fresh: u64,
    /// Buffers served from the pool.
    pub reused: u64,
    /// Bytes of idle buffers the pool holds now.
    pub idle_bytes: usize,
    /// The most idle bytes it keeps ([`pool_limit`]).
    pub limit: usize,
}

/// The pool's counters: a steady stream of runs shows `fresh` standing
/// still while `reused` grows.
///
/// ```
/// use tracekit_core::buffer::{SampleVec, pool_stats};
///
/// drop(SampleVec::zeroed(100_000)?);
/// let before = pool_stats();
/// drop(SampleVec::zeroed(100_000)?); // the same class: served from the pool
/// let after = pool_stats();
/// assert!(after.reused > before.reused);
/// # Ok::<(), tracekit_core::buffer::AllocError>(())
/// ```
pub fn pool_stats() -> PoolStats {
    PoolStats {
        fresh: POOL.fresh.load(Ordering::Relaxed),
        reused: POOL.reused.load(Ordering::Relaxed),
        idle_bytes: POOL.idle.load(Ordering::Relaxed),
        limit: pool_limit(),
    }
}

/// The most bytes of idle buffers the pool keeps: 1/8 of the physical
/// memory (1 GiB where that cannot be read), or what [`POOL_ENV`] or
/// [`set_pool_limit`] says.
pub fn pool_limit() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    match POOL.limit.load(Ordering::Relaxed) {
        usize::MAX => *DEFAULT.get_or_init(|| {
            std::env::var(POOL_ENV)
                .ok()
                .and_then(|v| parse_bytes(&v))
                .or_else(|| physical_memory().map(|m| m / 8))
                .map_or(1 << 30, |b| usize::try_from(b).unwrap_or(usize::MAX - 1))
        }),
        set => set,
    }
}

/// Sets [`pool_limit`] for the rest of the process (0 turns pooling off),
/// releasing idle memory above it now.
pub fn set_pool_limit(bytes: usize) {
    let bytes = bytes.min(usize::MAX - 1);
    POOL.limit.store(bytes, Ordering::Relaxed);
    release_idle(bytes);
}

/// Frees idle buffers, largest first, until the pool holds at most `keep`
/// bytes. Pipelines call it with [`RUN_END_IDLE`] when a run ends.
pub fn release_idle(keep: usize) {
    for class in POOL.classes.iter().rev() {
        while POOL.idle.load(Ordering::Relaxed) > keep {
            match with_lock(class, Vec::pop).flatten() {
                Some(v) => {
                    POOL.idle
                        .fetch_sub(bytes_of(v.capacity()), Ordering::Relaxed);
                }
                None => break,
            }
        }
    }
}

/// Frees every idle buffer: for a forked child, whose inherited buffers
/// would be copied page by page on first write (and would count twice in
/// the memory of the parent and its children).
pub fn release_all_idle() {
    release_idle(0);
}

/// The process-wide pool.
struct Pool {
    classes: [Mutex<Vec<Vec<f64>>>; CLASSES],
    idle: AtomicUsize,
    /// `usize::MAX`: not set, use the default.
    limit: AtomicUsize,
    fresh: AtomicU64,
    reused: AtomicU64,
}

static POOL: Pool = Pool {
    classes: [const { Mutex::new(Vec::new()) }; CLASSES],
    idle: AtomicUsize::new(0),
    limit: AtomicUsize::new(usize::MAX),
    fresh: AtomicU64::new(0),
    reused: AtomicU64::new(0),
};

impl Pool {
    /// An empty vector with room for `n` samples: from the pool when its
    /// class has one, else from the system.
    fn take(&self, n: usize) -> Result<Vec<f64>, AllocError> {
        let Some(class) = class_for_request(n) else {
            return fresh(n);
        };
        if let Some(mut v) = with_lock(&self.classes[class], Vec::pop).flatten() {
            self.idle
                .fetch_sub(bytes_of(v.capacity()), Ordering::Relaxed);
            self.reused.fetch_add(1, Ordering::Relaxed);
            v.clear();
            return Ok(v);
        }
        let v = fresh(class_size(class))?;
        self.fresh.fetch_add(1, Ordering::Relaxed);
        Ok(v)
    }

    /// Keeps `v` for reuse if it fits under the limit, else frees it.
    fn put(&self, v: Vec<f64>) {
        let Some(class) = class_for_capacity(v.capacity()) else {
            return;
        };
        let bytes = bytes_of(v.capacity());
        let limit = pool_limit();
        let reserved = self
            .idle
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |idle| {
                idle.checked_add(bytes).filter(|&total| total <= limit)
            });
        if reserved.is_err() {
            return;
        }
        let mut v = Some(v);
        if with_lock(&self.classes[class], |free| free.extend(v.take())).is_none() {
            self.idle.fetch_sub(bytes, Ordering::Relaxed);
        }
    }
}

/// A vector with room for exactly `n` samples, or the error.
fn fresh(n: usize) -> Result<Vec<f64>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| AllocError { samples: n })?;
    Ok(v)
}

fn bytes_of(samples: usize) -> usize {
    samples.saturating_mul(size_of::<f64>())
}

/// The samples of class `c`: `MIN_POOLED * 2^(c / 4) * (1 + (c % 4) / 4)`.
fn class_size(c: usize) -> usize {
    let base = MIN_POOLED << (c / 4);
    base + (c % 4) * (base / 4)
}

/// The smallest class that holds `n` samples; `None` for sizes not pooled.
fn class_for_request(n: usize) -> Option<usize> {
    if n < MIN_POOLED {
        return None;
    }
    if n == MIN_POOLED {
        return Some(0);
    }
    let p = (n - 1).ilog2();
    let base = 1usize << p;
    let quarters = (n - base).div_ceil(base / 4);
    let class = 4 * (p - MIN_SHIFT) as usize + quarters;
    (class < CLASSES).then_some(class)
}

/// The largest class a buffer of `capacity` samples can serve.
fn class_for_capacity(capacity: usize) -> Option<usize> {
    if capacity < MIN_POOLED {
        return None;
    }
    let p = capacity.ilog2();
    let base = 1usize << p;
    let class = 4 * (p - MIN_SHIFT) as usize + (capacity - base) / (base / 4);
    (class < CLASSES).then_some(class)
}

/// Runs `f` under `lock` if it can be taken within a few tries, else gives
/// `None`: never wait on the pool (see the module documentation).
fn with_lock<T, R>(lock: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> Option<R> {
    for _ in 0..LOCK_TRIES {
        match lock.try_lock() {
            Ok(mut guard) => return Some(f(&mut guard)),
            // Every update is one push or pop: a panic elsewhere cannot
            // leave the list half-updated.
            Err(TryLockError::Poisoned(p)) => return Some(f(&mut p.into_inner())),
            Err(TryLockError::WouldBlock) => std::hint::spin_loop(),
        }
    }
    None
}

/// `"16G"`, `"512M"`, `"1000000"` as bytes (suffixes `K`, `M`, `G`, `T`
/// are powers of 1024); `None` for anything else.
///
/// ```
/// use tracekit_core::buffer::parse_bytes;
///
/// assert_eq!(parse_bytes("512M"), Some(512 << 20));
/// assert_eq!(parse_bytes("4096"), Some(4096));
/// assert_eq!(parse_bytes("lots"), None);
/// ```
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], 10),
        (i, 'm' | 'M') => (&text[..i], 20),
        (i, 'g' | 'G') => (&text[..i], 30),
        (i, 't' | 'T') => (&text[..i], 40),
        _ => (text, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// The machine's physical memory in bytes, from `/proc/meminfo`; `None`
/// where it cannot be read.
pub fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_by_at_most_a_quarter() {
        for n in (MIN_POOLED..5000).chain([1 << 20, (1 << 20) + 1, 3 << 27, 1 << 40]) {
            let c = class_for_request(n).unwrap();
            let size = class_size(c);
            assert!(size >= n && (size - n) * 4 <= n, "{n} -> {size}");
            assert!(
                c == 0 || class_size(c - 1) < n,
                "{n}: class {c} is not the smallest"
            );
            assert_eq!(class_for_capacity(size), Some(c), "{size}");
            assert_eq!(class_for_capacity(size + 1), Some(c), "{size} + 1");
        }
        assert_eq!(class_for_request(MIN_POOLED - 1), None);
        assert_eq!(class_for_request(usize::MAX), None);
        assert_eq!(class_for_capacity(MIN_POOLED - 1), None);
    }

    #[test]
    fn a_vec_grows_and_shrinks_like_a_vec() {
        let mut v = SampleVec::scratch(2).unwrap();
        v.extend([1.0, 2.0]);
        v.push(3.0);
        v.extend_from_slice(&[4.0; 1000]);
        assert_eq!(v.len(), 1003);
        assert_eq!(&v[..4], &[1.0, 2.0, 3.0, 4.0]);
        v.resize(1005, -1.0);
        assert_eq!(&v[1002..], &[4.0, -1.0, -1.0]);
        v.truncate(2);
        v[1] = 7.0;
        assert_eq!(&v[..], &[1.0, 7.0]);
        v.clear();
        assert!(v.is_empty());
    }

    #[test]
    fn an_impossible_size_is_an_error() {
        let err = SampleVec::with_capacity(usize::MAX / 2).unwrap_err();
        assert!(err.to_string().contains("cannot allocate"), "{err}");
        let err = SampleVec::with_capacity(usize::MAX).unwrap_err();
        assert!(err.to_string().contains("overflows"), "{err}");
    }

    #[test]
    fn parse_bytes_reads_suffixes() {
        assert_eq!(parse_bytes(" 2k "), Some(2048));
        assert_eq!(parse_bytes(" 512m "), Some(512 << 20));
        assert_eq!(parse_bytes("16G"), Some(16 << 30));
        assert_eq!(parse_bytes("1T"), Some(1 << 40));
        assert_eq!(parse_bytes("99999999999T"), None);
        assert_eq!(parse_bytes(""), None);
    }
}
