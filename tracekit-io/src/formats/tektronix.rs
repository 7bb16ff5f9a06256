//! Tektronix WFM and ISF.

use crate::registry::Format;

/// Tektronix WFM (not yet read: the probe accepts nothing).
pub(crate) const WFM: Format = Format {
    name: "Tektronix WFM",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};

/// Tektronix ISF (not yet read: the probe accepts nothing).
pub(crate) const ISF: Format = Format {
    name: "Tektronix ISF",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
