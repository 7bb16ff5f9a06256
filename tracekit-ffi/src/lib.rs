//! The C ABI of tracekit.
