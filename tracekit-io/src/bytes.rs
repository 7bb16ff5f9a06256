//! Bounds-checked little- and big-endian field access for binary headers.
//!
//! Every reader of a binary format reads its fields through [`Bytes`]: an
//! offset or length that does not fit in the file is an error naming both,
//! never a panic, and sizes multiply with overflow checks before anything is
//! allocated.

use crate::error::{Result, bail};

pub(crate) use crate::convert::ByteOrder as Order;

/// A file's bytes, read with bounds checks in one byte order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bytes<'a> {
    data: &'a [u8],
    order: Order,
}

macro_rules! getters {
    ($($name:ident: $t:ty),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($t), "` at `offset`, in the file's byte order.")]
        #[allow(dead_code, reason = "not every reader uses every width")]
        pub(crate) fn $name(&self, offset: usize) -> Result<$t> {
            let raw = self.array::<{ size_of::<$t>() }>(offset)?;
            Ok(match self.order {
                Order::Little => <$t>::from_le_bytes(raw),
                Order::Big => <$t>::from_be_bytes(raw),
            })
        }
    )*};
}

impl<'a> Bytes<'a> {
    /// The bytes of a file, read in `order`.
    #[allow(dead_code, reason = "used by the binary format readers")]
    pub(crate) fn new(data: &'a [u8], order: Order) -> Bytes<'a> {
        Bytes { data, order }
    }

    /// The same bytes, read in another order.
    #[allow(dead_code, reason = "not every reader switches order")]
    pub(crate) fn with_order(self, order: Order) -> Bytes<'a> {
        Bytes { order, ..self }
    }

    /// The byte order fields are read in.
    #[allow(dead_code, reason = "not every reader needs it")]
    pub(crate) fn order(&self) -> Order {
        self.order
    }

    /// The whole file.
    #[allow(dead_code, reason = "not every reader needs it")]
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The file's length in bytes.
    #[allow(dead_code, reason = "used by the binary format readers")]
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// `len` bytes at `offset`, or a "truncated" error naming both and the file size.
    pub(crate) fn slice(&self, offset: usize, len: usize) -> Result<&'a [u8]> {
        match offset.checked_add(len) {
            Some(end) if end <= self.data.len() => Ok(&self.data[offset..end]),
            _ => bail!(
                "truncated: needs {len} bytes at offset {offset}, file holds {}",
                self.data.len()
            ),
        }
    }

    /// Everything from `offset` to the end of the file.
    #[allow(dead_code, reason = "not every reader needs it")]
    pub(crate) fn rest(&self, offset: usize) -> Result<&'a [u8]> {
        self.slice(offset, self.data.len().saturating_sub(offset))
    }

    fn array<const N: usize>(&self, offset: usize) -> Result<[u8; N]> {
        let bytes = self.slice(offset, N)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    getters! {
        u8: u8, i8: i8, u16: u16, i16: i16, u32: u32, i32: i32,
        u64: u64, i64: i64, f32: f32, f64: f64,
    }

    /// A fixed-width text field: bytes up to the first NUL, trailing spaces
    /// trimmed, non-UTF-8 bytes replaced.
    #[allow(dead_code, reason = "not every reader has text fields")]
    pub(crate) fn text(&self, offset: usize, len: usize) -> Result<String> {
        let raw = self.slice(offset, len)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(String::from_utf8_lossy(&raw[..end]).trim().to_owned())
    }
}

/// `count * width` bytes starting at `offset`, checked for overflow and
/// against the file's length, for a block of `count` samples of `width` bytes.
///
/// The error says how many samples the header declares and how many the file holds.
#[allow(dead_code, reason = "used by the binary format readers")]
pub(crate) fn sample_block<'a>(
    bytes: &Bytes<'a>,
    offset: usize,
    count: u64,
    width: usize,
) -> Result<&'a [u8]> {
    let available = bytes.len().saturating_sub(offset) / width.max(1);
    let len = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(width))
        .filter(|&len| {
            offset
                .checked_add(len)
                .is_some_and(|end| end <= bytes.len())
        });
    match len {
        Some(len) => Ok(&bytes.data[offset..offset + len]),
        None => bail!("truncated: header says {count} samples, file holds {available}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_orders() {
        let data = [0x01, 0x02, 0x03, 0x04];
        assert_eq!(Bytes::new(&data, Order::Little).u16(0), Ok(0x0201));
        assert_eq!(Bytes::new(&data, Order::Big).u32(0), Ok(0x0102_0304));
    }

    #[test]
    fn out_of_bounds_is_an_error() {
        let data = [0u8; 4];
        let b = Bytes::new(&data, Order::Little);
        let e = b.u32(1).unwrap_err();
        assert_eq!(e.0, "truncated: needs 4 bytes at offset 1, file holds 4");
        assert!(b.slice(usize::MAX, 2).is_err());
        let e = sample_block(&b, 2, 1 << 40, 2).unwrap_err();
        assert_eq!(
            e.0,
            "truncated: header says 1099511627776 samples, file holds 1"
        );
        assert_eq!(sample_block(&b, 2, 1, 2).unwrap().len(), 2);
    }

    #[test]
    fn text_fields_stop_at_nul() {
        let b = Bytes::new(b"DS1054Z \0junk", Order::Little);
        assert_eq!(b.text(0, 13).unwrap(), "DS1054Z");
    }
}
