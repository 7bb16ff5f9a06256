//! `tk_transformer`: a built-in stage from the registry, or a C callback.

use std::{
    ffi::{c_char, c_void},
    fmt,
    ptr::{self, NonNull},
    sync::Arc,
};

use serde_json::Value;
use tracekit_facade::{ParamValue, Params, StageError, Trace, Transformer};

use crate::{
    boundary::{self, Failure, Handle, arg, c_str, ffi_boundary, write_out},
    status::tk_status,
    trace::{CTrace, tk_trace},
};

/// One stage, not yet part of a pipeline.
///
/// Made by `tk_transformer_new` or `tk_transformer_from_callback`; either
/// handed to `tk_pipeline_add_step` (which takes ownership) or freed with
/// `tk_transformer_free`.
#[derive(Debug)]
pub struct tk_transformer {
    _private: [u8; 0],
}

impl Handle for tk_transformer {
    type Inner = Box<dyn Transformer>;
}

/// A stage written in C.
///
/// `inputs` holds `n_inputs` traces, one per declared input of the step, in
/// declaration order; they are borrowed for the duration of the call. On
/// success the callback stores a new trace (from `tk_trace_new`) in `*out`,
/// which the pipeline takes over, and returns `TK_OK`. Any other status makes
/// the transform fail with `TK_ERR_STAGE`, naming the step; if the callback
/// itself got an error from a tk_ function on this thread, that message is
/// included. A return value that is not a `tk_status` fails the stage the same
/// way, with a message giving the number.
///
/// It may run on any thread, and in a forked worker process with the process
/// executor, several calls at once: it must be thread-safe and keep no
/// per-call state in `user_data`.
pub type tk_transform_fn = Option<
    unsafe extern "C" fn(
        inputs: *const *const tk_trace,
        n_inputs: usize,
        out: *mut *mut tk_trace,
        user_data: *mut c_void,
    ) -> tk_status,
>;

/// The function inside a non-NULL `tk_transform_fn`.
type TransformFn = unsafe extern "C" fn(
    *const *const tk_trace,
    usize,
    *mut *mut tk_trace,
    *mut c_void,
) -> tk_status;

/// A destructor for callback user data.
pub type tk_free_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Builds the built-in transformer `kind` (`"lowpass"`, `"fft"`, ...) with
/// parameters given as a JSON object (`{"cutoff": 5e4, "order": 4}`).
///
/// `params_json` NULL means all defaults. Bad JSON, an unknown kind, an
/// unknown parameter or a bad value give `TK_ERR_INVALID_ARGUMENT` with a
/// message naming the kind and the parameter.
///
/// # Safety
/// `kind` and `params_json` are NULL or NUL-terminated strings; `out` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_transformer_new(
    kind: *const c_char,
    params_json: *const c_char,
    out: *mut *mut tk_transformer,
) -> tk_status {
    ffi_boundary!(status: {
        // SAFETY: `kind` is NULL or a NUL-terminated string (caller's contract).
        let kind = unsafe { c_str(kind, "kind") }?;
        let out = arg!(out)?;
        let params = if params_json.is_null() {
            Params::new()
        } else {
            // SAFETY: `params_json` is a NUL-terminated string (caller's contract).
            parse_params(kind, unsafe { c_str(params_json, "params_json") }?)?
        };
        let t = tracekit_facade::dsp::build(kind, &params)?;
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_transformer::into_raw(t)) };
        Ok(())
    })
}

/// The parameters of a JSON object: numbers (integers stay integers), booleans, strings.
pub(crate) fn parse_params(kind: &str, json: &str) -> Result<Params, Failure> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        Failure::invalid(format!("params_json for '{kind}' is not valid JSON: {e}"))
    })?;
    let Value::Object(map) = value else {
        return Err(Failure::invalid(format!(
            "params_json for '{kind}' must be a JSON object like {{\"cutoff\": 1000}}, got {value}"
        )));
    };
    map.into_iter()
        .map(|(name, v)| {
            let p = match &v {
                Value::Bool(b) => ParamValue::Bool(*b),
                Value::String(s) => ParamValue::Text(s.clone()),
                Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => ParamValue::Int(i),
                    (None, Some(x)) => ParamValue::Float(x),
                    (None, None) => {
                        return Err(Failure::invalid(format!(
                            "{kind}: parameter '{name}' is out of range: {n}"
                        )));
                    }
                },
                other => {
                    return Err(Failure::invalid(format!(
                        "{kind}: parameter '{name}' must be a number, true/false or a string, got {other}"
                    )));
                }
            };
            Ok((name, p))
        })
        .collect()
}

/// User data of a callback, freed once when the last clone of the stage drops.
struct UserData {
    ptr: *mut c_void,
    free: tk_free_fn,
}

// SAFETY:
// - the C caller promises (tk_transformer_from_callback's contract) that
//   `user_data` may be used from any thread and concurrently;
// - the pointer itself is only passed back to C, never dereferenced in Rust.
unsafe impl Send for UserData {}
// SAFETY: as for `Send`: shared use from several threads is part of the C contract.
unsafe impl Sync for UserData {}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            // SAFETY:
            // - `free` and `ptr` were given together by the C caller for this purpose;
            // - this runs once: `UserData` lives in one `Arc` and drops when the last clone goes.
            unsafe { free(self.ptr) }
        }
    }
}

/// A callback as it is called: returning the plain `uint32_t` that C may
/// return, any value, so that an out-of-range one is an error and never an
/// invalid `tk_status` in Rust.
type RawTransformFn =
    unsafe extern "C" fn(*const *const tk_trace, usize, *mut *mut tk_trace, *mut c_void) -> u32;

/// A stage that calls a C function.
#[derive(Clone)]
struct Callback {
    f: RawTransformFn,
    data: Arc<UserData>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("f", &(self.f as *const c_void))
            .field("user_data", &self.data.ptr)
            .finish()
    }
}

impl Transformer for Callback {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        // Handles for the call: each input behind a `CTrace`, as every
        // `tk_trace` is (a clone shares the samples).
        let wrapped: Vec<CTrace> = inputs.iter().map(|t| CTrace::from((*t).clone())).collect();
        let handles: Vec<*const tk_trace> = wrapped
            .iter()
            .map(|t| ptr::from_ref::<CTrace>(t).cast::<tk_trace>())
            .collect();
        let mut out: *mut tk_trace = ptr::null_mut();
        let callers_error = boundary::swap_last_error(None);
        // SAFETY:
        // - `handles` holds `inputs.len()` pointers to live traces laid out as
        //   `tk_trace` handles (a handle is a pointer to a `CTrace`, and `wrapped`
        //   outlives the call), borrowed for the call;
        // - `out` is a valid, writable local; `user_data` is the caller's own pointer.
        let raw = unsafe { (self.f)(handles.as_ptr(), handles.len(), &mut out, self.data.ptr) };
        let callback_error = boundary::swap_last_error(callers_error);
        let out = NonNull::new(out).map(|p| {
            // SAFETY: a non-NULL `*out` is a trace handle the callback hands over to us.
            unsafe { tk_trace::from_raw(p) }
        });
        let Some(status) = tk_status::from_raw(raw) else {
            return Err(format!(
                "the C callback returned {raw}, which is not a tk_status value \
                 (TK_OK is 0; the error statuses are 1 to 9)"
            )
            .into());
        };
        match (status, out) {
            (tk_status::TK_OK, Some(trace)) => Ok(trace.trace),
            (tk_status::TK_OK, None) => {
                Err("the C callback returned TK_OK but stored no trace in *out".into())
            }
            (status, _) => Err(match callback_error {
                Some(message) => format!(
                    "the C callback returned {}: {}",
                    status.name(),
                    message.to_string_lossy()
                ),
                None => format!("the C callback returned {}", status.name()),
            }
            .into()),
        }
    }

    fn kind(&self) -> &str {
        "callback"
    }
}

/// Makes a transformer from a C function `f` and its `user_data`.
///
/// `free_user_data` (may be NULL) is called exactly once with `user_data`,
/// in the calling process, when the last owner of the stage goes away: the
/// transformer if it is freed unused, otherwise the pipeline it was added to
/// (copies of the stage share the user data). Forked worker processes of the
/// process executor use their inherited copy and never call it. `user_data`
/// must be safe to use from several threads at once.
///
/// If this call fails, `free_user_data` is not called: the caller keeps
/// ownership of `user_data`.
///
/// # Safety
/// `f` is NULL or a function matching `tk_transform_fn`'s contract;
/// `free_user_data` is NULL or safe to call once with `user_data`; `out` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_transformer_from_callback(
    f: tk_transform_fn,
    user_data: *mut c_void,
    free_user_data: tk_free_fn,
    out: *mut *mut tk_transformer,
) -> tk_status {
    ffi_boundary!(status: {
        let f = f.ok_or_else(|| {
            Failure::new(tk_status::TK_ERR_NULL_ARGUMENT, "argument 'f' is NULL")
        })?;
        let out = arg!(out)?;
        // SAFETY:
        // - `tk_status` is `#[repr(u32)]`, so a function returning it and one
        //   returning `u32` have the same ABI; reading the result as `u32`
        //   accepts every value C can return, valid `tk_status` or not.
        let f = unsafe { std::mem::transmute::<TransformFn, RawTransformFn>(f) };
        let stage: Box<dyn Transformer> = Box::new(Callback {
            f,
            data: Arc::new(UserData {
                ptr: user_data,
                free: free_user_data,
            }),
        });
        // SAFETY: `out` is non-NULL and writable (caller's contract).
        unsafe { write_out(out, tk_transformer::into_raw(stage)) };
        Ok(())
    })
}

/// Frees a transformer that was not added to a pipeline; NULL is a no-op.
///
/// # Safety
/// `t` is NULL or a live `tk_transformer` that is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_transformer_free(t: *mut tk_transformer) {
    ffi_boundary!({
        if let Some(t) = NonNull::new(t) {
            // SAFETY: `t` is a live handle that the caller gives up (caller's contract).
            drop(unsafe { tk_transformer::from_raw(t) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_their_types() {
        let p = parse_params("x", r#"{"a": 4, "b": 2.5, "c": true, "d": "hann"}"#).unwrap();
        assert_eq!(p["a"], ParamValue::Int(4));
        assert_eq!(p["b"], ParamValue::Float(2.5));
        assert_eq!(p["c"], ParamValue::Bool(true));
        assert_eq!(p["d"], ParamValue::Text("hann".into()));
    }

    #[test]
    fn bad_params_are_invalid_arguments() {
        for bad in ["{", "[1]", r#"{"a": [1]}"#, r#"{"a": null}"#] {
            let f = parse_params("scale", bad).unwrap_err();
            assert_eq!(f.status, tk_status::TK_ERR_INVALID_ARGUMENT, "{bad}");
            assert!(f.message.contains("scale"), "{}", f.message);
        }
    }
}
