//! TDMS.

use crate::registry::Format;

/// TDMS (not yet read: the probe accepts nothing).
pub(crate) const FORMAT: Format = Format {
    name: "TDMS",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
