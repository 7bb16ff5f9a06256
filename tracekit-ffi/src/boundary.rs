//! The machinery every exported function runs through: the panic boundary,
//! NULL and string checks, the thread's last error, and handle conversions.
//!
//! An exported body is written as a closure inside [`ffi_boundary!`]; the
//! macro catches any panic and turns the body's value into the C return value
//! through [`FfiReturn`]. A body of type `Result<(), Failure>` becomes a
//! [`tk_status`] and, on failure, the thread's last error message.

use std::{
    any::Any,
    cell::RefCell,
    ffi::{CStr, CString, c_char},
    ptr::NonNull,
};

use tracekit_facade::{CoreError, Error};

use crate::status::tk_status;

/// Runs an exported body behind the panic boundary.
///
/// `ffi_boundary!(status: { ... Ok(()) })` is for functions that return
/// [`tk_status`]: the block is a `Result<(), Failure>` and `?` works on
/// failures and on tracekit errors. `ffi_boundary!({ ... })` is for the
/// functions that return a plain value (a length, a pointer, nothing); a panic
/// there returns the value's neutral element ([`FfiReturn::on_panic`]).
macro_rules! ffi_boundary {
    (status: $body:block) => {
        $crate::boundary::finish(::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> ::std::result::Result<(), $crate::boundary::Failure> { $body },
        )))
    };
    ($body:block) => {
        $crate::boundary::finish(::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || $body,
        )))
    };
}

/// Checks a pointer argument for NULL: `arg!(p)` is `Ok(NonNull)` or a
/// [`tk_status::TK_ERR_NULL_ARGUMENT`] failure that names the argument.
macro_rules! arg {
    ($ptr:ident) => {
        $crate::boundary::non_null($ptr, stringify!($ptr))
    };
}

pub(crate) use {arg, ffi_boundary};

/// Why a call failed: the status it returns and the message the thread keeps.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: tk_status,
    pub(crate) message: String,
}

impl Failure {
    /// A failure with `status` and `message`.
    pub(crate) fn new(status: tk_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A bad argument.
    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(tk_status::TK_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::new(tk_status::from_error(&e), e.to_string())
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Failure {
        Failure::new(tk_status::from_class(e.class()), e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Makes `message` the calling thread's last error.
pub(crate) fn set_last_error(message: &str) {
    // An interior NUL would cut the C string short; show it instead.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with` fails only while the thread is being torn down; nothing to keep then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(text));
}

/// Replaces the calling thread's last error with `error`, returning the old one.
///
/// A callback stage uses it to see only the errors of its own tk_ calls, and
/// to leave the caller's message as it was.
pub(crate) fn swap_last_error(error: Option<CString>) -> Option<CString> {
    LAST_ERROR
        .try_with(|slot| std::mem::replace(&mut *slot.borrow_mut(), error))
        .ok()
        .flatten()
}

/// A pointer to the calling thread's last error text, `""` when there is none.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ref().map(|s| s.as_ptr()))
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}

/// What an exported function returns to C, and what it returns after a panic.
pub(crate) trait FfiReturn {
    /// The C-side type.
    type C;
    /// The value for C; failures are recorded as the thread's last error.
    fn into_c(self) -> Self::C;
    /// The value returned when the body panicked.
    fn on_panic() -> Self::C;
}

impl FfiReturn for Result<(), Failure> {
    type C = tk_status;
    fn into_c(self) -> tk_status {
        match self {
            Ok(()) => tk_status::TK_OK,
            Err(failure) => {
                set_last_error(&failure.message);
                failure.status
            }
        }
    }
    fn on_panic() -> tk_status {
        tk_status::TK_ERR_PANIC
    }
}

impl FfiReturn for () {
    type C = ();
    fn into_c(self) {}
    fn on_panic() {}
}

impl FfiReturn for usize {
    type C = usize;
    fn into_c(self) -> usize {
        self
    }
    fn on_panic() -> usize {
        0
    }
}

impl FfiReturn for f64 {
    type C = f64;
    fn into_c(self) -> f64 {
        self
    }
    fn on_panic() -> f64 {
        f64::NAN
    }
}

impl<T> FfiReturn for *const T {
    type C = *const T;
    fn into_c(self) -> *const T {
        self
    }
    fn on_panic() -> *const T {
        std::ptr::null()
    }
}

/// Turns a caught body result into the C return value.
pub(crate) fn finish<T: FfiReturn>(result: Result<T, Box<dyn Any + Send>>) -> T::C {
    match result {
        Ok(value) => value.into_c(),
        Err(payload) => {
            set_last_error(&format!(
                "internal panic in tracekit (please report it): {}",
                tracekit_facade::panic_message(&*payload)
            ));
            T::on_panic()
        }
    }
}

/// `p` as `NonNull`, or a NULL-argument failure naming `name`.
pub(crate) fn non_null<P: RawPtr>(p: P, name: &str) -> Result<NonNull<P::Target>, Failure> {
    p.non_null().ok_or_else(|| {
        Failure::new(
            tk_status::TK_ERR_NULL_ARGUMENT,
            format!("argument '{name}' is NULL"),
        )
    })
}

/// Raw pointers of either mutability, for [`non_null`].
pub(crate) trait RawPtr {
    /// The pointee.
    type Target;
    /// The pointer unless it is NULL.
    fn non_null(self) -> Option<NonNull<Self::Target>>;
}

impl<T> RawPtr for *const T {
    type Target = T;
    fn non_null(self) -> Option<NonNull<T>> {
        NonNull::new(self.cast_mut())
    }
}

impl<T> RawPtr for *mut T {
    type Target = T;
    fn non_null(self) -> Option<NonNull<T>> {
        NonNull::new(self)
    }
}

/// Reads the NUL-terminated UTF-8 string argument `p`, named `name` in errors.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    let p = non_null(p, name)?;
    // SAFETY:
    // - `p` is not NULL (checked above);
    // - the caller guarantees a NUL-terminated string valid for 'a.
    let bytes = unsafe { CStr::from_ptr(p.as_ptr()) };
    bytes.to_str().map_err(|e| {
        Failure::invalid(format!(
            "argument '{name}' is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Writes `value` through the out-pointer `out`.
///
/// # Safety
/// `out` is valid for a write of one `T` (it was checked non-NULL by [`arg!`]).
pub(crate) unsafe fn write_out<T>(out: NonNull<T>, value: T) {
    // SAFETY:
    // - `out` is non-NULL and, by the caller's contract, valid and aligned for a `T`;
    // - `write` does not read or drop the old value, which C may leave uninitialized.
    unsafe { out.as_ptr().write(value) }
}

/// An opaque C handle type and the Rust value a handle pointer owns.
///
/// A handle pointer is a `Box<Self::Inner>` cast to `*mut Self`; the C side
/// never sees inside.
pub(crate) trait Handle: Sized {
    /// The Rust value behind the handle.
    type Inner;

    /// Moves `inner` to the heap and returns the owning handle pointer.
    fn into_raw(inner: Self::Inner) -> *mut Self {
        Box::into_raw(Box::new(inner)).cast()
    }

    /// Borrows the value behind a handle.
    ///
    /// # Safety
    /// `p` came from [`Handle::into_raw`] of this type and was not freed, and
    /// no `&mut` to the value exists for `'a`.
    unsafe fn as_ref<'a>(p: NonNull<Self>) -> &'a Self::Inner {
        // SAFETY:
        // - the caller guarantees `p` is a live `Box<Inner>` allocation of this type;
        // - only shared borrows exist for 'a (caller's contract).
        unsafe { p.cast::<Self::Inner>().as_ref() }
    }

    /// Takes back ownership of the value behind a handle.
    ///
    /// # Safety
    /// `p` came from [`Handle::into_raw`] of this type and is not used again.
    unsafe fn from_raw(p: NonNull<Self>) -> Box<Self::Inner> {
        // SAFETY:
        // - the caller guarantees `p` was made by `Box::into_raw` of a `Box<Inner>`;
        // - ownership passes back to Rust exactly once (the caller never uses `p` again).
        unsafe { Box::from_raw(p.cast::<Self::Inner>().as_ptr()) }
    }
}
