//! The NPY preamble and header (NumPy's "NPY format", `numpy.lib.format`):
//! the magic string, the format version, the header's length, and the
//! header dict with its three keys `descr`, `fortran_order` and `shape`,
//! checked as `numpy.load` checks them.

use super::literal::{self, Literal};
use crate::{
    bytes::{Bytes, Order},
    convert::{ByteOrder, SampleType},
    error::{Result, bail},
};

/// `\x93NUMPY`: the magic string every NPY file starts with.
pub(super) const MAGIC: &[u8] = b"\x93NUMPY";

/// The longest header `numpy.load` accepts without `allow_pickle`
/// (`max_header_size`), in characters.
const MAX_HEADER_SIZE: usize = 10_000;

/// What one element's bytes are, from `descr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Numbers read as their value (integers and floats).
    Number,
    /// `b1`: 0 is False, any other byte True (1.0).
    Bool,
    /// `f2`: IEEE binary16, read as its 16-bit code.
    Half,
}

/// A numeric dtype as `descr` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dtype {
    /// The dtype as NumPy's `dtype.str` names it (`<f8`, `|u1`), whichever
    /// of `<`, `>`, `|`, `=` or none the header wrote.
    pub(super) descr: String,
    /// The stored type (the 16-bit code for halves, a byte for bools).
    pub(super) ty: SampleType,
    /// The byte order: `<` little, `>` big, `|` and `=` this machine's.
    pub(super) order: ByteOrder,
    /// How the stored value becomes a number.
    pub(super) kind: Kind,
}

/// A parsed NPY header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// (major, minor): 1.0, 2.0 or 3.0.
    pub(super) version: (u8, u8),
    /// The elements' type.
    pub(super) dtype: Dtype,
    /// Whether the data is stored column-major.
    pub(super) fortran_order: bool,
    /// The array's dimensions.
    pub(super) shape: Vec<u64>,
    /// Offset of the data: after the header and its padding.
    pub(super) data_offset: usize,
}

/// Reads the preamble and header of the NPY file `data`.
pub(super) fn read(data: &[u8]) -> Result<Header> {
    let bytes = Bytes::new(data, Order::Little);
    if !data.starts_with(MAGIC) {
        bail!("does not start with the NPY magic string \\x93NUMPY");
    }
    let truncated = |what: &str, needs: usize, at: usize| {
        format!(
            "file truncated: {what} needs {needs} bytes at offset {at}, the file holds {}",
            data.len()
        )
    };
    let (Ok(major), Ok(minor)) = (bytes.u8(6), bytes.u8(7)) else {
        return Err(truncated("the format version", 2, 6).into());
    };
    let length_width = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => bail!("unknown NPY format version {major}.{minor}; numpy.load reads 1.0, 2.0 and 3.0"),
    };
    let header_length = if length_width == 2 {
        bytes.u16(8).map(usize::from)
    } else {
        bytes
            .u32(8)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }
    .map_err(|_| truncated("the header length", length_width, 8))?;
    let start = 8 + length_width;
    let raw = bytes
        .slice(start, header_length)
        .map_err(|_| truncated("the header", header_length, start))?;
    // Format 1.0 and 2.0 headers are Latin-1, 3.0 ones UTF-8.
    let text: String = if major == 3 {
        match std::str::from_utf8(raw) {
            Ok(text) => text.to_owned(),
            Err(e) => bail!("the format 3.0 header is not UTF-8 ({e})"),
        }
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let characters = text.chars().count();
    if characters > MAX_HEADER_SIZE {
        bail!(
            "the header holds {characters} characters, more than the {MAX_HEADER_SIZE} \
             numpy.load accepts"
        );
    }
    let dict = literal::parse(&text, major < 3)?;
    let (descr, fortran_order, shape) = entries(dict)?;
    Ok(Header {
        version: (major, minor),
        dtype: dtype(&descr)?,
        fortran_order: match fortran_order {
            Literal::Bool(b) => b,
            other => bail!("fortran_order is {other}, not True or False"),
        },
        shape: dimensions(&shape)?,
        data_offset: start + header_length,
    })
}

/// The values of `descr`, `fortran_order` and `shape`: the header must be a
/// dict of exactly those keys.
fn entries(dict: Literal) -> Result<(Literal, Literal, Literal)> {
    let Literal::Dict(entries) = dict else {
        bail!("the header is {dict}, not a dict");
    };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    let mut keys = Vec::new();
    for (key, value) in entries {
        match &key {
            Literal::Str(k) if k == "descr" => descr = Some(value),
            Literal::Str(k) if k == "fortran_order" => fortran_order = Some(value),
            Literal::Str(k) if k == "shape" => shape = Some(value),
            _ => {}
        }
        keys.push(key.to_string());
    }
    keys.sort();
    keys.dedup();
    match (descr, fortran_order, shape) {
        (Some(d), Some(f), Some(s)) if keys.len() == 3 => Ok((d, f, s)),
        _ => bail!(
            "the header's keys are [{}]; an NPY header has exactly 'descr', \
             'fortran_order' and 'shape'",
            keys.join(", ")
        ),
    }
}

/// The dimensions of `shape`: a tuple of non-negative integers.
fn dimensions(shape: &Literal) -> Result<Vec<u64>> {
    let Literal::Tuple(items) = shape else {
        bail!("shape is {shape}, not a tuple of integers");
    };
    items
        .iter()
        .map(|item| match item {
            Literal::Int(n) => match u64::try_from(*n) {
                Ok(n) => Ok(n),
                Err(_) if *n < 0 => bail!("shape {shape} has a negative dimension"),
                Err(_) => bail!("shape {shape} has a dimension of 2^64 or more"),
            },
            _ => bail!("shape is {shape}, not a tuple of integers"),
        })
        .collect()
}

/// The dtype `descr` names, if it is a number tracekit reads.
fn dtype(descr: &Literal) -> Result<Dtype> {
    let text = match descr {
        Literal::Str(text) => text,
        Literal::List(_) => {
            bail!("structured dtype {descr}: tracekit reads arrays of plain numbers")
        }
        _ => bail!("descr {descr} is not a dtype tracekit reads"),
    };
    let (order, code) = match text.as_bytes().first() {
        Some(b'<') => (ByteOrder::Little, &text[1..]),
        Some(b'>') => (ByteOrder::Big, &text[1..]),
        Some(b'|' | b'=') => (native(), &text[1..]),
        _ => (native(), text.as_str()),
    };
    let (ty, kind) = match code {
        "b1" | "?" => (SampleType::U8, Kind::Bool),
        "i1" => (SampleType::I8, Kind::Number),
        "i2" => (SampleType::I16, Kind::Number),
        "i4" => (SampleType::I32, Kind::Number),
        "i8" => (SampleType::I64, Kind::Number),
        "u1" => (SampleType::U8, Kind::Number),
        "u2" => (SampleType::U16, Kind::Number),
        "u4" => (SampleType::U32, Kind::Number),
        "u8" => (SampleType::U64, Kind::Number),
        "f2" => (SampleType::U16, Kind::Half),
        "f4" => (SampleType::F32, Kind::Number),
        "f8" => (SampleType::F64, Kind::Number),
        _ => {
            let why = match code.as_bytes().first() {
                Some(b'c') => "complex numbers: tracekit reads real ones",
                Some(b'O') => "Python objects (pickled): tracekit reads numbers",
                Some(b'f' | b'g') => "a float wider than 64 bits: tracekit reads f2, f4 and f8",
                Some(b'S' | b'a' | b'U') => "strings: tracekit reads numbers",
                Some(b'V') => "raw bytes: tracekit reads numbers",
                Some(b'M' | b'm') => "dates or time spans: tracekit reads numbers",
                _ => "not a dtype tracekit reads (b1, i1-i8, u1-u8, f2, f4, f8)",
            };
            bail!("dtype '{text}' holds {why}")
        }
    };
    // As NumPy's `dtype.str` gives it: `|` for single bytes, else the order.
    let order_char = match (ty.width(), order) {
        (1, _) => '|',
        (_, ByteOrder::Little) => '<',
        (_, ByteOrder::Big) => '>',
    };
    let code = if code == "?" { "b1" } else { code };
    Ok(Dtype {
        descr: format!("{order_char}{code}"),
        ty,
        order,
        kind,
    })
}

/// This machine's byte order (`=` and `|` in a descr).
fn native() -> ByteOrder {
    if cfg!(target_endian = "big") {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: [u8; 2], header: &str) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend(version);
        if version[0] == 1 {
            out.extend((header.len() as u16).to_le_bytes());
        } else {
            out.extend((header.len() as u32).to_le_bytes());
        }
        out.extend(header.as_bytes());
        out
    }

    #[test]
    fn every_version() {
        let h = "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }\n";
        for v in [[1, 0], [2, 0], [3, 0]] {
            let header = read(&file(v, h)).unwrap();
            assert_eq!(header.version, (v[0], v[1]));
            assert_eq!(header.dtype.ty, SampleType::I16);
            assert_eq!(header.dtype.order, ByteOrder::Big);
            assert!(header.fortran_order);
            assert_eq!(header.shape, [2, 3]);
            assert_eq!(
                header.data_offset,
                8 + if v[0] == 1 { 2 } else { 4 } + h.len()
            );
        }
    }

    #[test]
    fn refusals_say_what() {
        let cases = [
            (
                "{'descr': '<c16', 'fortran_order': False, 'shape': (3,)}",
                "complex",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (3,)}",
                "objects",
            ),
            (
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,)}",
                "structured",
            ),
            (
                "{'descr': '<f16', 'fortran_order': False, 'shape': (3,)}",
                "wider than 64",
            ),
            (
                "{'descr': '<U4', 'fortran_order': False, 'shape': (3,)}",
                "strings",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}",
                "fortran_order is 0",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3)}",
                "not a tuple",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': [3]}",
                "not a tuple",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
                "negative",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616,)}",
                "2^64",
            ),
            ("{'descr': '<f8', 'fortran_order': False}", "exactly"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}",
                "exactly",
            ),
            ("['descr']", "not a dict"),
        ];
        for (header, fragment) in cases {
            let e = read(&file([1, 0], header)).unwrap_err();
            assert!(e.0.contains(fragment), "{header}: {}", e.0);
        }
        let e = read(&file([4, 0], "{}")).unwrap_err();
        assert_eq!(
            e.0,
            "unknown NPY format version 4.0; numpy.load reads 1.0, 2.0 and 3.0"
        );
        let mut cut = file([2, 0], "{}");
        cut.truncate(10);
        assert!(
            read(&cut)
                .unwrap_err()
                .0
                .contains("file truncated: the header length")
        );
        let mut long = file(
            [1, 0],
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
        );
        long[8..10].copy_from_slice(&60_000u16.to_le_bytes());
        assert!(
            read(&long)
                .unwrap_err()
                .0
                .contains("file truncated: the header needs 60000")
        );
        let spaces = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}}{}",
            " ".repeat(10_000)
        );
        assert!(
            read(&file([2, 0], &spaces))
                .unwrap_err()
                .0
                .contains("more than the 10000")
        );
    }
}
