//! sigrok session.

use crate::registry::Format;

/// sigrok session (not yet read: the probe accepts nothing).
pub(crate) const FORMAT: Format = Format {
    name: "sigrok session",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
