//! `tk_trace`: a sampled signal, owned by C through a handle.

use std::{
    ffi::{CString, c_char},
    ptr::NonNull,
};

use tracekit_facade::Trace;

use crate::{
    boundary::{Failure, Handle, arg, c_str, ffi_boundary, write_out},
    status::tk_status,
};

/// A trace: samples (`double`), a sample rate and named measurements.
///
/// Made by `tk_trace_new`, `tk_pipeline_transform` and
/// `tk_pipeline_get_intermediate`; freed by `tk_trace_free`. A trace is
/// immutable, so one may be read from several threads at once.
#[derive(Debug)]
pub struct tk_trace {
    _private: [u8; 0],
}

impl Handle for tk_trace {
    type Inner = CTrace;
}

/// What a `tk_trace` handle owns: the trace, and its channel label as a C
/// string, made once so that `tk_trace_channel` can lend it.
#[derive(Debug)]
pub(crate) struct CTrace {
    /// The trace.
    pub(crate) trace: Trace,
    /// `trace.meta().channel`, NUL-terminated (an interior NUL shown as `\\0`).
    pub(crate) channel: CString,
}

impl From<Trace> for CTrace {
    fn from(trace: Trace) -> CTrace {
        let channel = CString::new(trace.meta().channel.replace('\0', "\\0")).unwrap_or_default();
        CTrace { trace, channel }
    }
}

/// Borrows the trace behind a non-NULL handle.
///
/// # Safety
/// `t` is a live `tk_trace` handle.
pub(crate) unsafe fn trace_ref<'a>(t: NonNull<tk_trace>) -> &'a Trace {
    // SAFETY:
    // - the caller guarantees a live handle;
    // - traces are never mutated through a handle, so shared borrows cannot alias a `&mut`.
    &unsafe { tk_trace::as_ref(t) }.trace
}

/// Borrows what a non-NULL handle owns, the channel's C string included.
///
/// # Safety
/// `t` is a live `tk_trace` handle.
pub(crate) unsafe fn ctrace_ref<'a>(t: NonNull<tk_trace>) -> &'a CTrace {
    // SAFETY: as for `trace_ref`: a live handle, only ever borrowed shared.
    unsafe { tk_trace::as_ref(t) }
}

/// The largest sample count whose bytes fit in `isize`.
const MAX_SAMPLES: usize = isize::MAX as usize / size_of::<f64>();

/// Creates a time-domain trace from a copy of `len` samples at `sample_rate`.
///
/// `samples` may be NULL when `len` is 0 (an empty trace is valid). The rate
/// must be finite and greater than 0 (`TK_ERR_INVALID_ARGUMENT` otherwise).
/// On success `*out` owns the new trace; free it with `tk_trace_free`.
///
/// # Safety
/// `samples` is NULL or points to `len` readable doubles; `out` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_new(
    samples: *const f64,
    len: usize,
    sample_rate: f64,
    out: *mut *mut tk_trace,
) -> tk_status {
    ffi_boundary!(status: {
        let out = arg!(out)?;
        let data: &[f64] = if len == 0 {
            &[]
        } else {
            let samples = arg!(samples)?;
            if len > MAX_SAMPLES {
                return Err(Failure::invalid(format!(
                    "len is {len}; at most {MAX_SAMPLES} samples fit in memory"
                )));
            }
            // SAFETY:
            // - `samples` is non-NULL and, by the caller's contract, points to `len` doubles;
            // - `len * 8` fits in isize (checked above); f64 has no invalid bit patterns.
            unsafe { std::slice::from_raw_parts(samples.as_ptr(), len) }
        };
        let trace = Trace::new(data.to_vec(), sample_rate)?;
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_trace::into_raw(trace.into())) };
        Ok(())
    })
}

/// The number of samples of `t` (0 when `t` is NULL).
///
/// # Safety
/// `t` is NULL or a live `tk_trace`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_len(t: *const tk_trace) -> usize {
    ffi_boundary!({
        match NonNull::new(t.cast_mut()) {
            // SAFETY: `t` is a live handle (caller's contract).
            Some(t) => unsafe { trace_ref(t) }.len(),
            None => 0,
        }
    })
}

/// The samples of `t`: `tk_trace_len(t)` doubles, valid until `t` is freed.
///
/// NULL when `t` is NULL. For an empty trace the pointer is not NULL but
/// must not be read.
///
/// # Safety
/// `t` is NULL or a live `tk_trace`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_samples(t: *const tk_trace) -> *const f64 {
    ffi_boundary!({
        match NonNull::new(t.cast_mut()) {
            // SAFETY: `t` is a live handle (caller's contract).
            Some(t) => unsafe { trace_ref(t) }.samples().as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The sample rate of `t` (points per second, or per hertz for a spectrum);
/// NaN when `t` is NULL.
///
/// # Safety
/// `t` is NULL or a live `tk_trace`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_sample_rate(t: *const tk_trace) -> f64 {
    ffi_boundary!({
        match NonNull::new(t.cast_mut()) {
            // SAFETY: `t` is a live handle (caller's contract).
            Some(t) => unsafe { trace_ref(t) }.sample_rate(),
            None => f64::NAN,
        }
    })
}

/// Reads the measurement `name` of `t` (`"mean"`, `"thd_db"`, ...) into `*out`.
///
/// `TK_ERR_NOT_FOUND` when the trace has no such measurement; the message
/// lists the ones it has.
///
/// # Safety
/// `t` is NULL or a live `tk_trace`; `name` is NULL or a NUL-terminated
/// string; `out` is NULL or valid for writing one double.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_measurement(
    t: *const tk_trace,
    name: *const c_char,
    out: *mut f64,
) -> tk_status {
    ffi_boundary!(status: {
        let t = arg!(t)?;
        // SAFETY: `name` is NULL or a NUL-terminated string (caller's contract).
        let name = unsafe { c_str(name, "name") }?;
        let out = arg!(out)?;
        // SAFETY: `t` is a live handle (caller's contract).
        let trace = unsafe { trace_ref(t) };
        let value = trace.measurement(name).ok_or_else(|| {
            let available: Vec<&str> =
                trace.meta().measurements.keys().map(String::as_str).collect();
            Failure::new(
                tk_status::TK_ERR_NOT_FOUND,
                format!(
                    "The trace has no measurement '{name}'. Available: [{}]",
                    available.join(", ")
                ),
            )
        })?;
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Frees a trace; NULL is a no-op.
///
/// # Safety
/// `t` is NULL or a live `tk_trace` that is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_free(t: *mut tk_trace) {
    ffi_boundary!({
        if let Some(t) = NonNull::new(t) {
            // SAFETY: `t` is a live handle that the caller gives up (caller's contract).
            drop(unsafe { tk_trace::from_raw(t) });
        }
    })
}
