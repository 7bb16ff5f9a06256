//! The `tekmeta!` block that newer Tektronix scopes append to a WFM file:
//! named values, text or numbers, some of which say whether the curve holds
//! digital lines or interleaved I/Q pairs (RigolWFM `tek.py`,
//! `_parse_tekmeta`).

use crate::bytes::Bytes;

/// The marker that opens the block.
const MAGIC: &[u8] = b"tekmeta!";

/// The entries of the first `tekmeta!` block at or after `from`, in file
/// order, each value as text (numbers in plain `{}` formatting).
///
/// The block is optional metadata: a malformed entry ends the list, it does
/// not make the file unreadable.
pub(super) fn entries(b: &Bytes<'_>, from: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(found) = b
        .data()
        .get(from..)
        .and_then(|d| d.windows(MAGIC.len()).position(|w| w == MAGIC))
    else {
        return out;
    };
    let mut at = from + found + MAGIC.len();
    let Ok(count) = b.u32(at) else {
        return out;
    };
    at += 4;
    for _ in 0..count {
        let Some((key, value, next)) = entry(b, at) else {
            break;
        };
        out.push((key, value));
        at = next;
    }
    out
}

/// One entry at `at`: a `u32` key length and the key, a tag byte (1 text,
/// 2 `i32`, 3 `f64`, 4 `u32`), the value; and the offset after it.
fn entry(b: &Bytes<'_>, at: usize) -> Option<(String, String, usize)> {
    let (key, at) = counted_text(b, at)?;
    let tag = b.u8(at).ok()?;
    let at = at + 1;
    let (value, next) = match tag {
        1 => counted_text(b, at)?,
        2 => (b.i32(at).ok()?.to_string(), at + 4),
        3 => (format!("{}", b.f64(at).ok()?), at + 8),
        4 => (b.u32(at).ok()?.to_string(), at + 4),
        _ => return None,
    };
    Some((key, value, next))
}

/// A `u32` length and that many bytes of UTF-8 text at `at`, and the offset after.
fn counted_text(b: &Bytes<'_>, at: usize) -> Option<(String, usize)> {
    let len = usize::try_from(b.u32(at).ok()?).ok()?;
    let start = at.checked_add(4)?;
    let raw = b.slice(start, len).ok()?;
    Some((String::from_utf8_lossy(raw).into_owned(), start + len))
}

/// `yOffset` -> `y_offset`, `IQ_centerFrequency` -> `iq_center_frequency`:
/// a tekmeta key as a lower snake_case attribute name.
pub(super) fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut previous_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::Order;

    #[test]
    fn reads_entries_until_a_bad_tag() {
        let mut data = b"junk tekmeta!".to_vec();
        data.extend(3u32.to_le_bytes());
        data.extend(2u32.to_le_bytes());
        data.extend(b"d0");
        data.push(2);
        data.extend((-7i32).to_le_bytes());
        data.extend(5u32.to_le_bytes());
        data.extend(b"label");
        data.push(1);
        data.extend(2u32.to_le_bytes());
        data.extend(b"hi");
        data.extend(1u32.to_le_bytes());
        data.extend(b"x");
        data.push(9);
        let b = Bytes::new(&data, Order::Little);
        let got = entries(&b, 0);
        assert_eq!(
            got,
            [("d0".into(), "-7".into()), ("label".into(), "hi".into())]
        );
        assert!(entries(&b, 6).is_empty());
        assert!(entries(&b, data.len() + 1).is_empty());
    }

    #[test]
    fn keys_become_snake_case() {
        assert_eq!(snake_case("yOffset"), "y_offset");
        assert_eq!(snake_case("IQ_centerFrequency"), "iq_center_frequency");
        assert_eq!(snake_case("ANALOG_Thumbnail"), "analog_thumbnail");
    }
}
