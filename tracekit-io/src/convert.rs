//! Raw sample codes to `f64`: the one conversion loop every reader uses.
//!
//! Public so that benchmarks and programs with formats of their own convert
//! the way the built-in readers do.
//!
//! ```
//! use tracekit_io::convert::{ByteOrder, SampleType, decode_append};
//!
//! // Two 16-bit codes, big-endian (128 and 384), to volts: (code - 128) * 0.01.
//! let raw = [0x00, 0x80, 0x01, 0x80];
//! let mut volts = Vec::new();
//! decode_append(&raw, SampleType::I16, ByteOrder::Big, &mut volts, |code| (code - 128.0) * 0.01);
//! assert_eq!(volts, [0.0, 2.56]);
//! ```

/// Byte order of a binary file's fields and samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

/// The numeric type of stored samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleType {
    /// Unsigned 8-bit.
    U8,
    /// Signed 8-bit.
    I8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// Unsigned 32-bit.
    U32,
    /// Signed 32-bit.
    I32,
    /// Unsigned 64-bit (values above 2^53 are rounded).
    U64,
    /// Signed 64-bit (values beyond ±2^53 are rounded).
    I64,
    /// IEEE 754 single precision.
    F32,
    /// IEEE 754 double precision.
    F64,
}

impl SampleType {
    /// Bytes per sample.
    pub fn width(self) -> usize {
        match self {
            SampleType::U8 | SampleType::I8 => 1,
            SampleType::U16 | SampleType::I16 => 2,
            SampleType::U32 | SampleType::I32 | SampleType::F32 => 4,
            SampleType::U64 | SampleType::I64 | SampleType::F64 => 8,
        }
    }
}

/// Appends one `f64` per sample of `raw` to `out`: each stored value, read in
/// `order` and widened to `f64`, goes through `map` (a vendor's scale and offset).
///
/// Trailing bytes that do not make a whole sample are ignored; readers check
/// sizes before calling this. `out` is reserved once, so a buffer reused
/// across calls is not reallocated.
pub fn decode_append(
    raw: &[u8],
    ty: SampleType,
    order: ByteOrder,
    out: &mut Vec<f64>,
    map: impl Fn(f64) -> f64,
) {
    macro_rules! wide {
        ($t:ty) => {{
            const W: usize = size_of::<$t>();
            let chunks = raw.chunks_exact(W);
            out.reserve(chunks.len());
            match order {
                ByteOrder::Little => out.extend(chunks.map(|c| {
                    let mut b = [0u8; W];
                    b.copy_from_slice(c);
                    map(<$t>::from_le_bytes(b) as f64)
                })),
                ByteOrder::Big => out.extend(chunks.map(|c| {
                    let mut b = [0u8; W];
                    b.copy_from_slice(c);
                    map(<$t>::from_be_bytes(b) as f64)
                })),
            }
        }};
    }
    match ty {
        SampleType::U8 => {
            out.reserve(raw.len());
            out.extend(raw.iter().map(|&b| map(f64::from(b))));
        }
        SampleType::I8 => {
            out.reserve(raw.len());
            out.extend(raw.iter().map(|&b| map(f64::from(i8::from_ne_bytes([b])))));
        }
        SampleType::U16 => wide!(u16),
        SampleType::I16 => wide!(i16),
        SampleType::U32 => wide!(u32),
        SampleType::I32 => wide!(i32),
        SampleType::U64 => wide!(u64),
        SampleType::I64 => wide!(i64),
        SampleType::F32 => wide!(f32),
        SampleType::F64 => wide!(f64),
    }
}

/// `raw` decoded into a new vector; see [`decode_append`].
pub fn decode(raw: &[u8], ty: SampleType, order: ByteOrder, map: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut out = Vec::new();
    decode_append(raw, ty, order, &mut out, map);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_both_orders() {
        let id = |x| x;
        assert_eq!(
            decode(&[255, 1], SampleType::U8, ByteOrder::Little, id),
            [255.0, 1.0]
        );
        assert_eq!(
            decode(&[255, 1], SampleType::I8, ByteOrder::Big, id),
            [-1.0, 1.0]
        );
        assert_eq!(
            decode(&[1, 0, 0], SampleType::U16, ByteOrder::Little, id),
            [1.0]
        );
        assert_eq!(
            decode(&[0xff, 0xfe], SampleType::I16, ByteOrder::Big, id),
            [-2.0]
        );
        let f = 1.5f32.to_be_bytes();
        assert_eq!(decode(&f, SampleType::F32, ByteOrder::Big, id), [1.5]);
        let d = (-2.25f64).to_le_bytes();
        assert_eq!(decode(&d, SampleType::F64, ByteOrder::Little, id), [-2.25]);
        let i = (-7i64).to_be_bytes();
        assert_eq!(
            decode(&i, SampleType::I64, ByteOrder::Big, |x| x * 2.0),
            [-14.0]
        );
    }
}
