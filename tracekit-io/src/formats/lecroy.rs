//! LeCroy TRC.

use crate::registry::Format;

/// LeCroy TRC (not yet read: the probe accepts nothing).
pub(crate) const FORMAT: Format = Format {
    name: "LeCroy TRC",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
