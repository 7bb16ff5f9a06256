//! Rigol WFM and BIN, every family.

use crate::registry::Format;

/// Rigol WFM (not yet read: the probe accepts nothing).
pub(crate) const WFM: Format = Format {
    name: "Rigol WFM",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};

/// Rigol BIN (not yet read: the probe accepts nothing).
pub(crate) const BIN: Format = Format {
    name: "Rigol BIN",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
