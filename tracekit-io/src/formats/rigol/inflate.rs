//! zlib inflation under a cap, for the compressed metadata blocks of the
//! DHO WFM.

use miniz_oxide::inflate::{TINFLStatus, decompress_to_vec_zlib_with_limit};

use crate::error::{Result, bail};

/// What a block holds once inflated: its zlib stream inflated (at most
/// `limit` bytes), or, where the bytes are not a complete zlib stream, the
/// bytes themselves, as RigolWFM's `_try_decompress` falls back to them.
///
/// A stream that inflates beyond `limit` is an error: nothing larger than
/// `limit` is ever allocated.
pub(super) fn zlib_or_raw(raw: &[u8], limit: usize) -> Result<Vec<u8>> {
    match decompress_to_vec_zlib_with_limit(raw, limit) {
        Ok(out) => Ok(out),
        Err(e) if e.status == TINFLStatus::HasMoreOutput => {
            bail!("a compressed block inflates to more than {limit} bytes")
        }
        Err(_) => Ok(raw.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use miniz_oxide::deflate::compress_to_vec_zlib;

    use super::*;

    #[test]
    fn inflates_or_falls_back() {
        let packed = compress_to_vec_zlib(b"DHO824 settings", 6);
        assert_eq!(zlib_or_raw(&packed, 100).unwrap(), b"DHO824 settings");
        assert_eq!(zlib_or_raw(b"plain", 100).unwrap(), b"plain");
        let big = compress_to_vec_zlib(&[0u8; 10_000], 6);
        let e = zlib_or_raw(&big, 1000).unwrap_err();
        assert!(e.0.contains("more than 1000 bytes"), "{}", e.0);
    }
}
