//! NPY: NumPy arrays, read as `numpy.load` reads them; 1-D one trace, 2-D
//! one trace per row, an `(N, 1)` column one trace.
//!
//! Format versions 1.0, 2.0 and 3.0; dtypes `b1` (0 or 1), `i1`–`i8`,
//! `u1`–`u8`, `f2` (half precision, converted exactly), `f4` and `f8`, in
//! either byte order (`<`, `>`, or `|`/`=` for this machine's); C or Fortran
//! order. Values are NumPy's `array.astype(float64)`: exact, except 64-bit
//! integers beyond 2^53, rounded to the nearest double. A 0-d array is one
//! trace of one sample. Complex, object, string, structured and more than
//! 2-D arrays are refused.
//!
//! The header (a Python dict literal) is parsed and checked as NumPy checks
//! it, and the shape against the file's size before anything is allocated.
//! An NPY file does not say its sample rate: it is the caller's
//! (`--sample-rate`, [`crate::ReadOptions::sample_rate`]). Channel labels
//! are empty (outputs are named `<stem>` or `<stem>.ch<k>`); the `dtype`
//! (as NumPy's `dtype.str` gives it, `<f8`) and `shape` (`(2, 1000)`) attributes say what the
//! file holds.
//!
//! The file is memory-mapped, and rows of a little-endian `f64` array stored
//! contiguously (C order, or one row or column) are traces over the mapping
//! itself: reading a large `<f8` array copies nothing.

mod header;
mod literal;

use std::sync::Arc;

use tracekit_core::{Trace, TraceMeta};

use self::header::{Header, Kind, MAGIC};
use crate::{
    bytes::{Bytes, Order, sample_block},
    convert::{ByteOrder, SampleType},
    error::{Result, bail},
    registry::{Format, Input},
    strided::{Strided, decode_strided, half_to_f64},
    sys::MappedSamples,
};

/// NumPy's `.npy` array format.
pub(crate) const FORMAT: Format = Format {
    name: "NPY",
    probe: |input| input.data.starts_with(MAGIC),
    read,
};

/// The traces of an array: `rows` traces of `columns` samples.
fn traces_of(shape: &[u64]) -> Result<(u64, u64)> {
    Ok(match *shape {
        [] => (1, 1),
        [n] | [n, 1] => (1, n),
        [rows, columns] => (rows, columns),
        _ => bail!(
            "a {}-D array of shape {}: tracekit reads 1-D (one trace) and 2-D (one trace per row) arrays",
            shape.len(),
            python_shape(shape)
        ),
    })
}

/// A shape as Python prints it: `()`, `(3,)`, `(2, 3)`.
fn python_shape(shape: &[u64]) -> String {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    }
}

/// One trace per row (see [`traces_of`]), at the caller's rate.
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let header = header::read(input.data)?;
    let (rows, columns) = traces_of(&header.shape)?;
    let width = header.dtype.ty.width();
    let elements = u128::from(rows) * u128::from(columns);
    let available = input.data.len().saturating_sub(header.data_offset) / width;
    let Ok(count) = u64::try_from(elements) else {
        bail!("truncated: header says {elements} samples, file holds {available}");
    };
    let bytes = Bytes::new(input.data, Order::Little);
    sample_block(&bytes, header.data_offset, count, width)?;
    // Both fit: their product is a number of elements the file holds.
    let (rows, columns) = (rows as usize, columns as usize);
    input.check_channels(rows)?;
    input.check_samples(columns as u64)?;
    let Some(rate) = input.options.sample_rate else {
        bail!("an NPY file does not say its sample rate; give one (--sample-rate HZ)");
    };
    let mut meta = TraceMeta::new(rate);
    meta.attributes
        .insert("dtype".into(), header.dtype.descr.clone());
    meta.attributes
        .insert("shape".into(), python_shape(&header.shape));
    (0..rows)
        .map(|row| {
            if let Some(mapped) = mapped_row(input, &header, rows, columns, row) {
                return Ok(Trace::from_buffer(Arc::new(mapped), meta.clone())?);
            }
            Ok(Trace::with_meta(
                decode_row(input.data, &header, rows, columns, row)?,
                meta.clone(),
            )?)
        })
        .collect()
}

/// A row of a little-endian `f64` array stored contiguously (C order, or a
/// single row or column), straight from the file's mapping: no copy at all.
/// `None` where the row must be decoded instead.
fn mapped_row(
    input: &Input<'_>,
    header: &Header,
    rows: usize,
    columns: usize,
    row: usize,
) -> Option<MappedSamples> {
    let dtype = &header.dtype;
    let plain_f8 = dtype.kind == Kind::Number
        && dtype.ty == SampleType::F64
        && dtype.order == ByteOrder::Little;
    let contiguous = !header.fortran_order || rows == 1 || columns == 1;
    if !(plain_f8 && contiguous) {
        return None;
    }
    let offset = header
        .data_offset
        .checked_add(row.checked_mul(columns)?.checked_mul(8)?)?;
    MappedSamples::new(input.mapping?, offset, columns)
}

/// The samples of one row of a `rows` x `columns` array.
fn decode_row(
    data: &[u8],
    header: &Header,
    rows: usize,
    columns: usize,
    row: usize,
) -> Result<Vec<f64>> {
    let dtype = &header.dtype;
    let width = dtype.ty.width();
    let at = if header.fortran_order {
        Strided {
            first: header.data_offset + row * width,
            stride: rows * width,
            count: columns,
            width,
        }
    } else {
        Strided {
            first: header.data_offset + row * columns * width,
            stride: width,
            count: columns,
            width,
        }
    };
    match dtype.kind {
        Kind::Number => decode_strided(data, at, dtype.ty, dtype.order, |x| x),
        Kind::Bool => decode_strided(data, at, dtype.ty, dtype.order, |x| {
            if x == 0.0 { 0.0 } else { 1.0 }
        }),
        Kind::Half => decode_strided(data, at, dtype.ty, dtype.order, |x| half_to_f64(x as u16)),
    }
}
