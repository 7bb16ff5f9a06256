//! Tektronix WFM (#001, #002 and #003, either byte order) and ISF.
//!
//! WFM follows the Tektronix "Reference Waveform File Format" (077-0220)
//! and RigolWFM's `ksy/tektronix_wfm_*` descriptions; ISF is the scope's
//! `:WFMPRE:...;:CURVE #<n><len><bytes>` answer saved to a file. Values are
//! computed as RigolWFM 1.6.0 (`tek.py`, `isf.py`) computes them, in `f64`
//! (RigolWFM rounds its volts to `f32`).

mod gmt;
mod isf;
mod tekmeta;
mod wfm;

use tracekit_core::Domain;

use crate::registry::Format;

/// Tektronix WFM#001, WFM#002 and WFM#003, little- or big-endian.
pub(crate) const WFM: Format = Format {
    name: "Tektronix WFM",
    probe: wfm::probe,
    read: wfm::read,
};

/// Tektronix ISF: an ASCII `:WFMPRE:` header and a `#<n><len>` curve block.
pub(crate) const ISF: Format = Format {
    name: "Tektronix ISF",
    probe: isf::probe,
    read: isf::read,
};

/// The domain of an axis whose unit is `unit`: frequency for hertz, else time.
fn domain_of(unit: &str) -> Domain {
    if unit.eq_ignore_ascii_case("hz") {
        Domain::Frequency
    } else {
        Domain::Time
    }
}
