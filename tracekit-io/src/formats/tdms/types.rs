//! TDMS data types (`tdsDataType`) and property values (NI "TDMS File
//! Format Internal Structure", Binary Layout: Meta Data, and the
//! `tdsDataType` enumeration), as npTDMS (`nptdms/types.py`) reads them.

use std::fmt;

use crate::{
    bytes::{Bytes, Order},
    convert::SampleType,
    error::{Result, bail},
};

/// A `tdsDataType` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DataType(pub(super) u32);

impl DataType {
    /// `tdsTypeVoid`.
    pub(super) const VOID: DataType = DataType(0);
    /// `tdsTypeString`: data stored as offsets then UTF-8 bytes.
    pub(super) const STRING: DataType = DataType(0x20);
    /// `tdsTypeBoolean`.
    const BOOLEAN: DataType = DataType(0x21);
    /// `tdsTypeTimeStamp`: seconds since 1904 and 2^-64 fractions.
    const TIME_STAMP: DataType = DataType(0x44);

    /// What npTDMS calls the type, for messages.
    pub(super) fn name(self) -> &'static str {
        match self.0 {
            0 => "Void",
            1 => "Int8",
            2 => "Int16",
            3 => "Int32",
            4 => "Int64",
            5 => "Uint8",
            6 => "Uint16",
            7 => "Uint32",
            8 => "Uint64",
            9 => "SingleFloat",
            10 => "DoubleFloat",
            11 => "ExtendedFloat",
            0x19 => "SingleFloatWithUnit",
            0x1A => "DoubleFloatWithUnit",
            0x1B => "ExtendedFloatWithUnit",
            0x20 => "String",
            0x21 => "Boolean",
            0x44 => "TimeStamp",
            0x4F => "FixedPoint",
            0x08_000C => "ComplexSingleFloat",
            0x10_000D => "ComplexDoubleFloat",
            0xFFFF_FFFF => "DAQmxRawData",
            _ => "unknown",
        }
    }

    /// Bytes per value of the fixed-size types; `None` for strings, void
    /// and the types npTDMS cannot size.
    pub(super) fn size(self) -> Option<usize> {
        match self.0 {
            1 | 5 | 0x21 => Some(1),
            2 | 6 => Some(2),
            3 | 7 | 9 | 0x19 => Some(4),
            4 | 8 | 10 | 0x1A | 0x08_000C => Some(8),
            0x44 | 0x10_000D => Some(16),
            _ => None,
        }
    }

    /// The numeric sample type, for the types tracekit reads as samples.
    pub(super) fn sample_type(self) -> Option<SampleType> {
        Some(match self.0 {
            1 => SampleType::I8,
            2 => SampleType::I16,
            3 => SampleType::I32,
            4 => SampleType::I64,
            5 => SampleType::U8,
            6 => SampleType::U16,
            7 => SampleType::U32,
            8 => SampleType::U64,
            9 | 0x19 => SampleType::F32,
            10 | 0x1A => SampleType::F64,
            _ => return None,
        })
    }

    /// Whether npTDMS reads raw data of this type (numbers, strings,
    /// booleans, time stamps, complex numbers and empty void data).
    pub(super) fn is_readable(self) -> bool {
        self.size().is_some() || self == DataType::STRING || self == DataType::VOID
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:X})", self.name(), self.0)
    }
}

/// The value of a property.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// A signed integer property.
    Int(i64),
    /// An unsigned integer property.
    UInt(u64),
    /// A floating-point property (single precision widened).
    Float(f64),
    /// A string property.
    Text(String),
    /// A boolean property.
    Bool(bool),
    /// A time stamp: seconds since 1904-01-01 00:00:00 UTC and 2^-64 fractions.
    Time {
        /// Whole seconds since the TDMS epoch.
        seconds: i64,
        /// Positive fractions of a second, in units of 2^-64 s.
        fractions: u64,
    },
}

impl Value {
    /// The value as a number, for numeric properties.
    pub(super) fn number(&self) -> Option<f64> {
        match *self {
            Value::Int(v) => Some(v as f64),
            Value::UInt(v) => Some(v as f64),
            Value::Float(v) => Some(v),
            _ => None,
        }
    }

    /// The value as an attribute: numbers in plain `{}`, booleans
    /// `true`/`false`, time stamps as ISO 8601 UTC to the microsecond
    /// (npTDMS's `datetime64[us]`).
    pub(super) fn to_attribute(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::UInt(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::Text(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Time { seconds, fractions } => iso_time(*seconds, *fractions),
        }
    }
}

/// Reads a property value of type `ty` at `at`; returns it and the offset after it.
pub(super) fn read_value(bytes: &Bytes<'_>, at: usize, ty: DataType) -> Result<(Value, usize)> {
    let value = match ty.0 {
        1 => Value::Int(bytes.i8(at)?.into()),
        2 => Value::Int(bytes.i16(at)?.into()),
        3 => Value::Int(bytes.i32(at)?.into()),
        4 => Value::Int(bytes.i64(at)?),
        5 => Value::UInt(bytes.u8(at)?.into()),
        6 => Value::UInt(bytes.u16(at)?.into()),
        7 => Value::UInt(bytes.u32(at)?.into()),
        8 => Value::UInt(bytes.u64(at)?),
        9 | 0x19 => Value::Float(bytes.f32(at)?.into()),
        10 | 0x1A => Value::Float(bytes.f64(at)?),
        0x21 => Value::Bool(bytes.u8(at)? != 0),
        0x20 => {
            let (text, next) = read_string(bytes, at)?;
            return Ok((Value::Text(text), next));
        }
        0x44 => {
            // Little-endian: fractions then seconds; big-endian: seconds first.
            let (seconds, fractions) = match bytes.order() {
                Order::Little => (bytes.i64(at + 8)?, bytes.u64(at)?),
                Order::Big => (bytes.i64(at)?, bytes.u64(at + 8)?),
            };
            Value::Time { seconds, fractions }
        }
        _ => bail!("a property has data type {ty}, which tracekit (like npTDMS) cannot read"),
    };
    let size = match ty {
        DataType::BOOLEAN => 1,
        DataType::TIME_STAMP => 16,
        _ => ty.size().unwrap_or(0),
    };
    Ok((value, at + size))
}

/// A string (u32 length, then UTF-8 bytes) at `at`, and the offset after it.
pub(super) fn read_string(bytes: &Bytes<'_>, at: usize) -> Result<(String, usize)> {
    let len = bytes.u32(at)? as usize;
    let raw = bytes.slice(at + 4, len)?;
    Ok((String::from_utf8_lossy(raw).into_owned(), at + 4 + len))
}

/// Seconds from the TDMS epoch (1904-01-01) to the Unix epoch (1970-01-01).
const TDMS_TO_UNIX: i64 = 2_082_844_800;

/// A TDMS time stamp as `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC), the
/// microseconds truncated as npTDMS's `as_datetime64('us')` truncates them.
fn iso_time(seconds: i64, fractions: u64) -> String {
    let micros = (fractions as f64 / (2f64.powi(64) / 1e6)) as u64;
    let unix = i128::from(seconds) - i128::from(TDMS_TO_UNIX);
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_as_iso_8601() {
        assert_eq!(iso_time(0, 0), "1904-01-01T00:00:00.000000");
        // 2012-07-09T23:58:24.593732 (a LabVIEW file's wf_start_time).
        let fractions = (0.593_732_5 * 2f64.powi(64)) as u64;
        assert_eq!(
            iso_time(3_424_723_104, fractions),
            "2012-07-09T23:58:24.593732"
        );
        assert_eq!(iso_time(-86_400, 0), "1903-12-31T00:00:00.000000");
    }

    #[test]
    fn sizes_and_sample_types() {
        assert_eq!(DataType(0x44).size(), Some(16));
        assert_eq!(DataType(0x1A).sample_type(), Some(SampleType::F64));
        assert!(!DataType(11).is_readable());
        assert!(DataType::STRING.is_readable());
        assert_eq!(DataType(0x44).to_string(), "TimeStamp (0x44)");
    }
}
