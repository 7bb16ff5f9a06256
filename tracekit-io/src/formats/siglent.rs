//! Siglent BIN.

use crate::registry::Format;

/// Siglent BIN (not yet read: the probe accepts nothing).
pub(crate) const FORMAT: Format = Format {
    name: "Siglent BIN",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
