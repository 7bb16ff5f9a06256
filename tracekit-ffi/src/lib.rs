//! The C ABI of tracekit: `libtracekit.so` / `libtracekit.a` and
//! `include/tracekit.h`.
//!
//! Every exported function has the `tk_` prefix, runs behind one panic
//! boundary, checks each pointer for NULL, and reports failures as a
//! [`tk_status`] plus a per-thread message (`tk_last_error_message`).
//! Handles (`tk_trace`, `tk_transformer`, `tk_pipeline`) are opaque boxes
//! owned by the caller until freed or handed over.
//!
//! The C conventions (ownership, NULL, out-parameters, threads) and an
//! example are in the project README, section "C and C++".
//!
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![expect(
    non_camel_case_types,
    reason = "the exported types carry their C names (tk_trace, tk_status::TK_OK), as in the header"
)]

mod boundary;
mod capture;
mod draft;
mod pipeline;
mod status;
mod trace;
mod transformer;

use std::ffi::{CString, c_char};

use crate::boundary::ffi_boundary;
pub use crate::{
    capture::{tk_read_capture, tk_trace_attribute, tk_trace_channel, tk_traces_free},
    pipeline::{
        tk_pipeline, tk_pipeline_add_step, tk_pipeline_execution_order, tk_pipeline_free,
        tk_pipeline_from_spec, tk_pipeline_get_intermediate, tk_pipeline_new,
        tk_pipeline_set_parallel_config, tk_pipeline_set_stage_timeout, tk_pipeline_transform,
    },
    status::{
        TK_EXECUTOR_PROCESS, TK_EXECUTOR_SEQUENTIAL, TK_EXECUTOR_THREAD, tk_executor, tk_status,
    },
    trace::{
        tk_trace, tk_trace_free, tk_trace_len, tk_trace_measurement, tk_trace_new,
        tk_trace_sample_rate, tk_trace_samples,
    },
    transformer::{
        tk_free_fn, tk_transform_fn, tk_transformer, tk_transformer_free,
        tk_transformer_from_callback, tk_transformer_new,
    },
};

/// The version of libtracekit, like `"0.1.0"`; a static string, never freed.
#[unsafe(no_mangle)]
pub extern "C" fn tk_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    ffi_boundary!({ VERSION.as_ptr().cast::<c_char>() })
}

/// The text of the calling thread's last error: set by every call that
/// returns a status other than `TK_OK`, and kept until the next failing call
/// on the same thread (successful calls leave it alone).
///
/// Never NULL: `""` before any error. The pointer stays valid until the next
/// failing tk_ call on this thread; copy the text to keep it longer. Do not
/// free it.
#[unsafe(no_mangle)]
pub extern "C" fn tk_last_error_message() -> *const c_char {
    ffi_boundary!({ boundary::last_error_ptr() })
}

/// Frees a string returned by tracekit (`tk_pipeline_execution_order`);
/// NULL is a no-op.
///
/// # Safety
/// `s` is NULL or a string returned by tracekit that was not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_string_free(s: *mut c_char) {
    ffi_boundary!({
        if !s.is_null() {
            // SAFETY:
            // - `s` came from `CString::into_raw` in this library (caller's contract);
            // - it is freed once: the caller gives it up here.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}
