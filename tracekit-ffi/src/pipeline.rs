//! `tk_pipeline`: named steps built up one by one, run on a chosen executor.

use std::{
    ffi::{CString, c_char},
    ptr::NonNull,
    slice,
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tracekit_facade::{ExecutorKind, Step};

use crate::{
    boundary::{Failure, Handle, arg, c_str, ffi_boundary, write_out},
    draft::State,
    status::{
        TK_EXECUTOR_PROCESS, TK_EXECUTOR_SEQUENTIAL, TK_EXECUTOR_THREAD, tk_executor, tk_status,
    },
    trace::{tk_trace, trace_ref},
    transformer::tk_transformer,
};

/// A pipeline of named steps and its executor configuration.
///
/// Made by `tk_pipeline_new` (then `tk_pipeline_add_step`) or
/// `tk_pipeline_from_spec`; freed by `tk_pipeline_free`. A pipeline may be
/// used from several threads at once: calls on one pipeline take turns.
#[derive(Debug)]
pub struct tk_pipeline {
    _private: [u8; 0],
}

impl Handle for tk_pipeline {
    type Inner = Mutex<State>;
}

/// Locks a pipeline's state; a panic caught earlier cannot leave it half-changed
/// in a way that matters, so a poisoned lock is simply taken over.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Borrows the state behind a non-NULL pipeline handle.
///
/// # Safety
/// `p` is a live `tk_pipeline`.
unsafe fn state<'a>(p: NonNull<tk_pipeline>) -> &'a Mutex<State> {
    // SAFETY:
    // - the caller guarantees a live handle;
    // - the state is only ever mutated through the mutex, so shared borrows are sound.
    unsafe { tk_pipeline::as_ref(p) }
}

/// Creates an empty pipeline on the thread executor with automatic workers.
///
/// Add steps with `tk_pipeline_add_step`; free it with `tk_pipeline_free`.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_new(out: *mut *mut tk_pipeline) -> tk_status {
    ffi_boundary!(status: {
        let out = arg!(out)?;
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_pipeline::into_raw(Mutex::new(State::new()))) };
        Ok(())
    })
}

/// Reads the `n` input names of a step.
///
/// # Safety
/// `inputs` is NULL or points to `n` pointers, each NULL or a NUL-terminated string.
unsafe fn input_names(inputs: *const *const c_char, n: usize) -> Result<Vec<String>, Failure> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let inputs = arg!(inputs)?;
    // SAFETY: `inputs` is non-NULL and points to `n` pointers (caller's contract).
    let names = unsafe { slice::from_raw_parts(inputs.as_ptr(), n) };
    names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            // SAFETY: each entry is NULL or a NUL-terminated string (caller's contract).
            unsafe { c_str(name, &format!("inputs[{i}]")) }.map(str::to_owned)
        })
        .collect()
}

/// Adds the step `name` running `t` to the pipeline.
///
/// `t` is always consumed, also when the call fails: do not use or free it
/// afterwards. `inputs` names the `n_inputs` steps (or `"input"`, the
/// pipeline's input) whose outputs the step reads, in this order; with
/// `n_inputs` 0 the step reads the previous step (the first step reads the
/// input) and `inputs` may be NULL.
///
/// Validation: a name that is empty, `"input"`, invalid UTF-8, or already
/// taken is rejected here (`TK_ERR_PIPELINE`, or `TK_ERR_INVALID_ARGUMENT`
/// for bad UTF-8) and the step is not added. An input that names a step not
/// added yet is allowed, since steps may be declared in any order; wiring
/// errors that remain (an unknown input, a cycle) are reported by
/// `tk_pipeline_transform` and `tk_pipeline_execution_order` as
/// `TK_ERR_PIPELINE`.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline`; `name` is NULL or a NUL-terminated
/// string; `t` is NULL or a live `tk_transformer`; `inputs` is NULL or points
/// to `n_inputs` pointers, each NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_add_step(
    p: *mut tk_pipeline,
    name: *const c_char,
    t: *mut tk_transformer,
    inputs: *const *const c_char,
    n_inputs: usize,
) -> tk_status {
    ffi_boundary!(status: {
        // Take ownership first, so that `t` is consumed on every path.
        // SAFETY: `t` is a live handle that the caller gives up (caller's contract).
        let t = NonNull::new(t).map(|t| unsafe { tk_transformer::from_raw(t) });
        let p = arg!(p)?;
        // SAFETY: `name` is NULL or a NUL-terminated string (caller's contract).
        let name = unsafe { c_str(name, "name") }?;
        let t = t.ok_or_else(|| {
            Failure::new(tk_status::TK_ERR_NULL_ARGUMENT, "argument 't' is NULL")
        })?;
        // SAFETY: `inputs` points to `n_inputs` string pointers (caller's contract).
        let inputs = unsafe { input_names(inputs, n_inputs) }?;
        let step = Step::boxed(name, *t).inputs(inputs);
        // SAFETY: `p` is a live handle (caller's contract).
        lock(unsafe { state(p) }).add(step)?;
        Ok(())
    })
}

/// Builds a pipeline from a spec: the TOML or JSON text of a tracekit
/// pipeline spec file (`executor`, `max_workers`, `output`, `[[steps]]` with
/// `name`, `kind`, `inputs` and the kind's parameters).
///
/// A spec the loader rejects, for its syntax, a parameter or its wiring (a
/// cycle, an unknown input), gives `TK_ERR_INVALID_ARGUMENT`; the message
/// says what was wrong and names the step and key, with a line number for
/// TOML. More steps may be added afterwards with `tk_pipeline_add_step`.
///
/// # Safety
/// `spec` is NULL or a NUL-terminated string; `out` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_from_spec(
    spec: *const c_char,
    out: *mut *mut tk_pipeline,
) -> tk_status {
    ffi_boundary!(status: {
        // SAFETY: `spec` is NULL or a NUL-terminated string (caller's contract).
        let spec = unsafe { c_str(spec, "spec") }?;
        let out = arg!(out)?;
        let pipeline = tracekit_facade::spec::load(spec)?;
        let state = Mutex::new(State::from_parallel(pipeline));
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_pipeline::into_raw(state)) };
        Ok(())
    })
}

/// Chooses the executor (`TK_EXECUTOR_SEQUENTIAL`, `TK_EXECUTOR_THREAD` or
/// `TK_EXECUTOR_PROCESS`) and the number of workers (0: automatic).
///
/// Any other `kind` is `TK_ERR_INVALID_ARGUMENT`, and the configuration is
/// left as it was.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_set_parallel_config(
    p: *mut tk_pipeline,
    kind: tk_executor,
    max_workers: usize,
) -> tk_status {
    ffi_boundary!(status: {
        let p = arg!(p)?;
        let kind = match kind {
            TK_EXECUTOR_SEQUENTIAL => ExecutorKind::Sequential,
            TK_EXECUTOR_THREAD => ExecutorKind::Thread,
            TK_EXECUTOR_PROCESS => ExecutorKind::Process,
            other => {
                return Err(Failure::invalid(format!(
                    "kind must be TK_EXECUTOR_SEQUENTIAL (0), TK_EXECUTOR_THREAD (1) or \
                     TK_EXECUTOR_PROCESS (2), got {other}"
                )));
            }
        };
        let max_workers = (max_workers != 0).then_some(max_workers);
        // SAFETY: `p` is a live handle (caller's contract).
        lock(unsafe { state(p) }).set_parallel_config(kind, max_workers);
        Ok(())
    })
}

/// Sets the time limit of each stage in seconds (0: no limit).
///
/// The process executor kills a worker still running a stage at the limit;
/// the other executors discard a result that comes after it. Either way the
/// transform fails with `TK_ERR_TIMEOUT`. A negative, NaN or infinite
/// `seconds` is `TK_ERR_INVALID_ARGUMENT`, and the limit is left as it was.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_set_stage_timeout(
    p: *mut tk_pipeline,
    seconds: f64,
) -> tk_status {
    ffi_boundary!(status: {
        let p = arg!(p)?;
        let limit = match seconds {
            0.0 => None,
            s if s.is_finite() && s > 0.0 => Some(Duration::try_from_secs_f64(s).map_err(|e| {
                Failure::invalid(format!("seconds must be at most {} s: {e}", Duration::MAX.as_secs()))
            })?),
            s => {
                return Err(Failure::invalid(format!(
                    "seconds must be finite and at least 0 (0: no limit), got {s}"
                )));
            }
        };
        // SAFETY: `p` is a live handle (caller's contract).
        lock(unsafe { state(p) }).set_stage_timeout(limit);
        Ok(())
    })
}

/// Runs every step on `input` and stores the output step's trace in `*out`
/// (free it with `tk_trace_free`). Every intermediate is kept for
/// `tk_pipeline_get_intermediate` until the next transform.
///
/// Fails with `TK_ERR_PIPELINE` when the wiring is wrong or there are no
/// steps, `TK_ERR_STAGE` when a stage fails (the message names the step),
/// `TK_ERR_WORKER_CRASHED` or `TK_ERR_TIMEOUT` on the process executor.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline`; `input` is NULL or a live
/// `tk_trace`; `out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_transform(
    p: *mut tk_pipeline,
    input: *const tk_trace,
    out: *mut *mut tk_trace,
) -> tk_status {
    ffi_boundary!(status: {
        let p = arg!(p)?;
        let input = arg!(input)?;
        let out = arg!(out)?;
        // SAFETY: `input` is a live handle (caller's contract).
        let input = unsafe { trace_ref(input) };
        // SAFETY: `p` is a live handle (caller's contract).
        let mut state = lock(unsafe { state(p) });
        let output = state.built()?.transform(input)?;
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_trace::into_raw(output.into())) };
        Ok(())
    })
}

/// Stores in `*out` a new handle to the output of `step` in the last
/// transform (free it with `tk_trace_free`; the samples are shared, not
/// copied).
///
/// `TK_ERR_NOT_FOUND` when the pipeline has no such step, or before the
/// first successful transform.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline`; `step` is NULL or a NUL-terminated
/// string; `out` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_get_intermediate(
    p: *const tk_pipeline,
    step: *const c_char,
    out: *mut *mut tk_trace,
) -> tk_status {
    ffi_boundary!(status: {
        let p = arg!(p)?;
        // SAFETY: `step` is NULL or a NUL-terminated string (caller's contract).
        let step = unsafe { c_str(step, "step") }?;
        let out = arg!(out)?;
        // SAFETY: `p` is a live handle (caller's contract).
        let trace = lock(unsafe { state(p) }).intermediate(step)?.clone();
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_trace::into_raw(trace.into())) };
        Ok(())
    })
}

/// Stores in `*json_out` the generations of the pipeline as a JSON array of
/// arrays of step names: `[["lowpass","fft"],["merge"]]`. Steps of one
/// generation may run at the same time. Free the string with `tk_string_free`.
///
/// Fails with `TK_ERR_PIPELINE` when the wiring is wrong or there are no steps.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline`; `json_out` is NULL or valid for
/// writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_execution_order(
    p: *const tk_pipeline,
    json_out: *mut *mut c_char,
) -> tk_status {
    ffi_boundary!(status: {
        let p = arg!(p)?;
        let json_out = arg!(json_out)?;
        // SAFETY: `p` is a live handle (caller's contract).
        let mut state = lock(unsafe { state(p) });
        let order = state.built()?.get_execution_order();
        let json = serde_json::to_string(&order)
            .map_err(|e| Failure::new(tk_status::TK_ERR_PANIC, e.to_string()))?;
        let json = CString::new(json)
            .map_err(|e| Failure::new(tk_status::TK_ERR_PANIC, e.to_string()))?;
        // SAFETY: `json_out` is non-NULL and writable (caller's contract).
        unsafe { write_out(json_out, json.into_raw()) };
        Ok(())
    })
}

/// Frees a pipeline, its steps and their callback user data (through their
/// `free_user_data`), and any worker processes; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or a live `tk_pipeline` that no other thread is using and
/// that is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_pipeline_free(p: *mut tk_pipeline) {
    ffi_boundary!({
        if let Some(p) = NonNull::new(p) {
            // SAFETY: `p` is a live handle that the caller gives up (caller's contract).
            drop(unsafe { tk_pipeline::from_raw(p) });
        }
    })
}
