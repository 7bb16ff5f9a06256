//! One module per format family; each exports a [`crate::registry::Format`]
//! per layout it reads.

pub(crate) mod csv;
pub(crate) mod keysight;
pub(crate) mod lecroy;
pub(crate) mod npy;
pub(crate) mod rigol;
pub(crate) mod rohde_schwarz;
pub(crate) mod siglent;
pub(crate) mod sigrok;
pub(crate) mod tdms;
pub(crate) mod tektronix;
pub(crate) mod wav;
