//! Keysight BIN.

use crate::registry::Format;

/// Keysight BIN (not yet read: the probe accepts nothing).
pub(crate) const FORMAT: Format = Format {
    name: "Keysight BIN",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
