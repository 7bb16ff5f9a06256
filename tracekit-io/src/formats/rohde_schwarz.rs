//! R&S RTP BIN.

use crate::registry::Format;

/// R&S RTP BIN (not yet read: the probe accepts nothing).
pub(crate) const FORMAT: Format = Format {
    name: "R&S RTP BIN",
    probe: |_| false,
    read: |_| Err("not supported yet".into()),
};
