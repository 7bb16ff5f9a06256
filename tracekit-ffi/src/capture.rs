//! Captures from C: `tk_read_capture` and what a trace read from a file says.

use std::{
    ffi::{CString, c_char},
    ptr::NonNull,
};

use tracekit_facade::io;

use crate::{
    boundary::{Failure, Handle, arg, c_str, ffi_boundary, write_out},
    status::tk_status,
    trace::{ctrace_ref, tk_trace, trace_ref},
};

/// Reads every trace of the capture file at `path` (any format tracekit
/// reads, recognised by its content): one trace per channel, samples in
/// volts (or the file's unit), the file's time base, its channel labels and
/// attributes.
///
/// On success `*traces_out` is an array of `*n_out` (at least 1) traces owned
/// by the caller: free the array and its traces with one
/// `tk_traces_free(*traces_out, *n_out)`. A file that cannot be opened, read
/// or understood gives `TK_ERR_IO` with a message that names the file, the
/// format it looks like and what is wrong. Files that do not say their
/// sample rate (one-column CSV, NPY) are refused; read those yourself and
/// use `tk_trace_new`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `traces_out` and `n_out` are
/// NULL or valid for writing one value each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_read_capture(
    path: *const c_char,
    traces_out: *mut *mut *mut tk_trace,
    n_out: *mut usize,
) -> tk_status {
    ffi_boundary!(status: {
        // SAFETY: `path` is NULL or a NUL-terminated string (caller's contract).
        let path = unsafe { c_str(path, "path") }?;
        let traces_out = arg!(traces_out)?;
        let n_out = arg!(n_out)?;
        let traces = io::read_named(path, &io::ReadOptions::new())
            .map_err(|e| Failure::new(tk_status::from_class(e.class()), e.to_string()))?;
        let handles: Box<[*mut tk_trace]> = traces
            .into_iter()
            .map(|named| tk_trace::into_raw(named.trace.into()))
            .collect();
        let n = handles.len();
        let array = Box::into_raw(handles).cast::<*mut tk_trace>();
        // SAFETY: both out-pointers are non-NULL and writable (caller's contract).
        unsafe {
            write_out(traces_out, array);
            write_out(n_out, n);
        }
        Ok(())
    })
}

/// Frees an array of `n` traces returned by `tk_read_capture`, and each
/// trace in it (a NULL entry is skipped); NULL `traces` is a no-op.
///
/// # Safety
/// `traces` is NULL or an array returned by `tk_read_capture` together with
/// its `n`, not freed yet; none of its traces was freed on its own, and none
/// is used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_traces_free(traces: *mut *mut tk_trace, n: usize) {
    ffi_boundary!({
        if traces.is_null() {
            return;
        }
        // SAFETY:
        // - `traces` and `n` are a boxed slice's pointer and length from
        //   `tk_read_capture` (caller's contract), given back once.
        let handles = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(traces, n)) };
        for handle in handles.iter().filter_map(|&t| NonNull::new(t)) {
            // SAFETY: each entry is a live trace handle that the caller gives up.
            drop(unsafe { tk_trace::from_raw(handle) });
        }
    })
}

/// The channel label of `t` as its file gives it (`"CH1"`); for a channel
/// the file leaves unnamed (WAV, NPY rows), the name tracekit gives it
/// (`"<stem>.ch<k>"`); `""` for a trace made by `tk_trace_new`. Owned by the
/// trace: valid until `t` is freed; do not free it. NULL when `t` is NULL.
///
/// # Safety
/// `t` is NULL or a live `tk_trace`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_channel(t: *const tk_trace) -> *const c_char {
    ffi_boundary!({
        match NonNull::new(t.cast_mut()) {
            // SAFETY: `t` is a live handle (caller's contract).
            Some(t) => unsafe { ctrace_ref(t) }.channel.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// Stores in `*value_out` a copy of the attribute `name` of `t` (what its
/// capture file says: `"vendor"`, `"model"`, `"coupling"`, `"probe"`,
/// `"format"`, `"source"`...); free it with `tk_string_free`.
///
/// `TK_ERR_NOT_FOUND` when the trace has no such attribute; the message
/// lists the ones it has.
///
/// # Safety
/// `t` is NULL or a live `tk_trace`; `name` is NULL or a NUL-terminated
/// string; `value_out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_trace_attribute(
    t: *const tk_trace,
    name: *const c_char,
    value_out: *mut *mut c_char,
) -> tk_status {
    ffi_boundary!(status: {
        let t = arg!(t)?;
        // SAFETY: `name` is NULL or a NUL-terminated string (caller's contract).
        let name = unsafe { c_str(name, "name") }?;
        let value_out = arg!(value_out)?;
        // SAFETY: `t` is a live handle (caller's contract).
        let attributes = &unsafe { trace_ref(t) }.meta().attributes;
        let value = attributes.get(name).ok_or_else(|| {
            let available: Vec<&str> = attributes.keys().map(String::as_str).collect();
            Failure::new(
                tk_status::TK_ERR_NOT_FOUND,
                format!(
                    "The trace has no attribute '{name}'. Available: [{}]",
                    available.join(", ")
                ),
            )
        })?;
        let value = CString::new(value.replace('\0', "\\0")).unwrap_or_default();
        // SAFETY: `value_out` is non-NULL and writable (caller's contract).
        unsafe { write_out(value_out, value.into_raw()) };
        Ok(())
    })
}
