//! Second-order-section IIR filters: Butterworth and Chebyshev type I design
//! ([`butter_sos`], [`cheby1_sos`]) and filtering ([`sosfilt`],
//! [`sosfiltfilt`], [`sosfilt_zi`]), numerically matching `scipy.signal`.
//!
//! Everything here is deterministic and single-threaded: the same input gives
//! the same bits on every executor.

mod complex;
mod design;
mod filter;

pub(crate) use self::filter::{sosfilt_pooled, sosfiltfilt_pooled};
pub use self::{
    design::{Band, MAX_ORDER, Section, butter_sos, cheby1_sos},
    filter::{sosfilt, sosfilt_in_place, sosfilt_zi, sosfiltfilt, sosfiltfilt_padlen},
};
