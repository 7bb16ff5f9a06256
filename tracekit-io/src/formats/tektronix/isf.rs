//! ISF: a scope's answer to `WFMPRE?;CURVE?` saved to a file. A header of
//! `;`-separated `KEY value` fields, with long names (`BYT_NR`, `YMULT`) or
//! short ones (`BYT_N`, `YMU`), then `:CURVE #<n><length>` and `length`
//! bytes of samples (RigolWFM `isf.py`, `ksy/tektronix_internal_isf.ksy`).
//!
//! `volts = YZERO + YMULT * (code - YOFF)`; the first sample is at
//! `XZERO - PT_OFF * XINCR`. An envelope (`PT_FMT ENV`) stores min/max
//! pairs: like RigolWFM, tracekit gives the mean of each pair, one point per
//! two sample intervals.

use tracekit_core::{Trace, TraceMeta};

use super::domain_of;
use crate::{
    bytes::{Bytes, Order, sample_block},
    convert::{SampleType, decode},
    error::{Result, bail},
    registry::Input,
    strided::{Strided, decode_strided},
};

/// The header keywords an ISF file starts with (with or without the colon).
const PREFIXES: [&str; 4] = ["WFMPRE:", "WFMP:", "WFMOUTPRE:", "WFMO:"];

/// Long and short field names, and the long name each stands for
/// (RigolWFM `_FIELD_ALIASES`, plus the encoding and the units).
const ALIASES: [(&str, &str); 33] = [
    ("BYT_NR", "BYT_NR"),
    ("BYT_N", "BYT_NR"),
    ("BIT_NR", "BIT_NR"),
    ("BIT_N", "BIT_NR"),
    ("ENCDG", "ENCDG"),
    ("ENC", "ENCDG"),
    ("BN_FMT", "BN_FMT"),
    ("BN_F", "BN_FMT"),
    ("BYT_OR", "BYT_OR"),
    ("BYT_O", "BYT_OR"),
    ("WFID", "WFID"),
    ("WFI", "WFID"),
    ("NR_PT", "NR_PT"),
    ("NR_P", "NR_PT"),
    ("PT_FMT", "PT_FMT"),
    ("PT_F", "PT_FMT"),
    ("XUNIT", "XUNIT"),
    ("XUN", "XUNIT"),
    ("XINCR", "XINCR"),
    ("XIN", "XINCR"),
    ("XZERO", "XZERO"),
    ("XZE", "XZERO"),
    ("PT_OFF", "PT_OFF"),
    ("PT_O", "PT_OFF"),
    ("YUNIT", "YUNIT"),
    ("YUN", "YUNIT"),
    ("YMULT", "YMULT"),
    ("YMU", "YMULT"),
    ("YOFF", "YOFF"),
    ("YOF", "YOFF"),
    ("YZERO", "YZERO"),
    ("YZE", "YZERO"),
    ("VSCALE", "VSCALE"),
];

/// Whether `input` starts with a `:WFMPRE:` (or `:WFMP:`, `:WFMOUTPRE:`) header.
pub(super) fn probe(input: &Input<'_>) -> bool {
    let head = input.data.get(..12).unwrap_or(input.data);
    let head = head.strip_prefix(b":").unwrap_or(head);
    PREFIXES
        .iter()
        .any(|p| head.len() >= p.len() && head[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
}

/// The header's fields by long name; a name given twice keeps its last value.
struct Fields(Vec<(&'static str, String)>);

impl Fields {
    /// Splits `text` at `;`, drops a `:WORD:` prefix from each fragment and
    /// keeps the fields it knows, values unquoted.
    fn parse(text: &str) -> Fields {
        let mut fields = Vec::new();
        for fragment in text.split(';') {
            let mut fragment = fragment.trim().trim_start_matches(':');
            while let Some((word, rest)) = fragment.split_once(':') {
                if word.is_empty() || !word.bytes().all(|c| c.is_ascii_alphabetic()) {
                    break;
                }
                fragment = rest.trim_start_matches(':');
            }
            let Some((key, value)) = fragment.split_once(|c: char| c.is_ascii_whitespace()) else {
                continue;
            };
            let key = key.to_ascii_uppercase();
            if let Some(&(_, long)) = ALIASES.iter().find(|(name, _)| *name == key) {
                fields.push((long, value.trim().trim_matches('"').to_owned()));
            }
        }
        Fields(fields)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A number field, `default` where absent; an error where it is not a number.
    fn number(&self, name: &str, default: f64) -> Result<f64> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<f64>() {
                Ok(x) => Ok(x),
                Err(_) => bail!("{name} '{v}' is not a number"),
            },
        }
    }
}

/// Where the curve block's bytes are: after `#<n><n digits>`, or to the end
/// of the file for `#0`; and the header text before it.
fn curve_block(data: &[u8]) -> Result<(String, usize, Option<usize>)> {
    let upper_find = |needle: &[u8]| {
        data.windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
    };
    let curv = upper_find(b":CURV");
    let from = curv.unwrap_or(0);
    let Some(hash) = data[from..]
        .iter()
        .position(|&c| c == b'#')
        .map(|p| from + p)
    else {
        bail!("no curve block: expected ':CURVE #<n><length>' after the header");
    };
    let header = String::from_utf8_lossy(&data[..curv.unwrap_or(hash)]);
    let digits = match data.get(hash + 1) {
        Some(d @ b'0'..=b'9') => usize::from(d - b'0'),
        _ => bail!("the curve block does not give its length as '#<n><n digits>'"),
    };
    let start = hash + 2 + digits;
    if digits == 0 {
        return Ok((header.into_owned(), start.min(data.len()), None));
    }
    let len = data
        .get(hash + 2..start)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse::<usize>().ok());
    match len {
        Some(len) => Ok((header.into_owned(), start, Some(len))),
        None => bail!("the curve block's length is not {digits} decimal digits after '#{digits}'"),
    }
}

/// The sample type of `BYT_NR` bytes in `BN_FMT` (RI signed, RP unsigned, FP float).
fn sample_type(bytes: i64, format: &str) -> Result<SampleType> {
    Ok(match (bytes, format) {
        (1, "RI") => SampleType::I8,
        (1, "RP") => SampleType::U8,
        (2, "RI") => SampleType::I16,
        (2, "RP") => SampleType::U16,
        (4, "RI") => SampleType::I32,
        (4, "RP") => SampleType::U32,
        (4, "FP") => SampleType::F32,
        (8, "RI") => SampleType::I64,
        (8, "RP") => SampleType::U64,
        (8, "FP") => SampleType::F64,
        _ => bail!("BYT_NR {bytes} with BN_FMT {format} is not a sample type tracekit reads"),
    })
}

/// Reads the one trace of an ISF file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let (header, start, len) = curve_block(input.data)?;
    let fields = Fields::parse(&header);
    if let Some(encoding) = fields
        .get("ENCDG")
        .filter(|e| !e.to_ascii_uppercase().starts_with("BIN"))
    {
        bail!("the curve is encoded as {encoding}; tracekit reads binary (ENCDG BIN) curves");
    }
    let byt_nr = fields.number("BYT_NR", 2.0)? as i64;
    let bn_fmt = fields.get("BN_FMT").unwrap_or("RI").to_ascii_uppercase();
    let ty = sample_type(byt_nr, &bn_fmt)?;
    let order = match fields.get("BYT_OR").map(str::to_ascii_uppercase).as_deref() {
        None | Some("MSB") => Order::Big,
        Some(_) => Order::Little,
    };
    let width = ty.width();
    let b = Bytes::new(input.data, order);
    let len = len.unwrap_or(b.len() - start);
    if len % width != 0 {
        bail!("the curve block holds {len} bytes, not a whole number of {width}-byte points");
    }
    let raw = sample_block(&b, start, (len / width) as u64, width)?;
    let points = raw.len() / width;
    if points == 0 {
        bail!("no waveform data: the curve block is empty");
    }
    let nr_pt = fields.number("NR_PT", 0.0)? as i64;
    let envelope = fields
        .get("PT_FMT")
        .is_some_and(|f| f.eq_ignore_ascii_case("ENV"));
    let keep = if envelope { points / 2 } else { points };
    if !envelope && nr_pt > points as i64 {
        bail!("NR_PT says {nr_pt} points, the curve block holds {points}");
    }
    let keep = if nr_pt > 0 && (nr_pt as usize) < keep {
        nr_pt as usize
    } else {
        keep
    };
    if keep == 0 {
        bail!("no waveform data: an envelope needs min/max pairs, the curve holds {points} point");
    }
    input.check_samples(keep as u64)?;

    let Some(xincr) = fields
        .get("XINCR")
        .map(|_| fields.number("XINCR", 0.0))
        .transpose()?
        .or(input.options.sample_rate.map(|rate| 1.0 / rate))
    else {
        bail!("the header gives no XINCR (sample interval); give a sample rate (--sample-rate HZ)");
    };
    if !(xincr > 0.0 && (1.0 / xincr).is_finite()) {
        bail!("XINCR (the sample interval) is {xincr}, which gives no finite positive sample rate");
    }
    let xzero = fields.number("XZERO", 0.0)?;
    let pt_off = fields.number("PT_OFF", 0.0)?;
    let ymult = fields.number("YMULT", 1.0)?;
    let yoff = fields.number("YOFF", 0.0)?;
    let yzero = fields.number("YZERO", 0.0)?;

    let volts = |code: f64| yzero + ymult * (code - yoff);
    let (samples, step) = if envelope {
        // Each pair's minimum and maximum codes, then the mean of the two in volts.
        let pairs = |first| Strided {
            first,
            stride: 2 * width,
            count: keep,
            width,
        };
        let mut low = decode_strided(raw, pairs(0), ty, order, |code| code)?;
        let high = decode_strided(raw, pairs(width), ty, order, |code| code)?;
        for (low, high) in low.iter_mut().zip(high) {
            *low = volts((*low + high) / 2.0);
        }
        (low, 2.0 * xincr)
    } else {
        (decode(&raw[..keep * width], ty, order, volts), xincr)
    };

    let wfid = fields.get("WFID").unwrap_or("");
    let mut attributes = std::collections::BTreeMap::new();
    attributes.insert("vendor".to_owned(), "Tektronix".to_owned());
    if !wfid.is_empty() {
        attributes.insert("wfid".to_owned(), wfid.to_owned());
    }
    if envelope {
        attributes.insert("pt_fmt".to_owned(), "ENV".to_owned());
    }
    let parts: Vec<&str> = wfid.split(',').map(str::trim).collect();
    if let Some(coupling) = parts.iter().find_map(|p| p.strip_suffix(" coupling")) {
        attributes.insert("coupling".to_owned(), coupling.to_ascii_uppercase());
    }
    let vscale = match fields.get("VSCALE") {
        Some(_) => Some(fields.number("VSCALE", 0.0)?),
        None => parts.iter().find_map(|p| per_division(p, "V/div")),
    };
    if let Some(vscale) = vscale {
        attributes.insert("volts_per_div".to_owned(), format!("{vscale}"));
    }
    let units = fields.get("YUNIT").filter(|u| !u.is_empty()).unwrap_or("V");
    let meta = TraceMeta {
        sample_rate: 1.0 / step,
        start: xzero - pt_off * xincr,
        domain: domain_of(fields.get("XUNIT").unwrap_or("s")),
        channel: channel(parts[0]),
        units: units.to_owned(),
        attributes,
        ..TraceMeta::default()
    };
    Ok(vec![Trace::with_meta(samples, meta)?])
}

/// The channel a WFID's first part names (`Ch1` -> `CH1`, `Math1` ->
/// `MATH1`), else `CH1` as RigolWFM calls every ISF trace.
fn channel(first: &str) -> String {
    let letters = first.trim_end_matches(|c: char| c.is_ascii_digit());
    let named = !letters.is_empty()
        && letters.len() < first.len()
        && first.len() <= 8
        && letters.bytes().all(|c| c.is_ascii_alphabetic());
    if named {
        first.to_ascii_uppercase()
    } else {
        "CH1".to_owned()
    }
}

/// `2.0mV/div` with `unit` `V/div` -> 0.002: a WFID scale with an SI prefix.
fn per_division(part: &str, unit: &str) -> Option<f64> {
    let number = part.strip_suffix(unit)?;
    let (number, scale) = match number.chars().last()? {
        'm' => (&number[..number.len() - 1], 1e-3),
        'u' => (&number[..number.len() - 1], 1e-6),
        'n' => (&number[..number.len() - 1], 1e-9),
        'k' => (&number[..number.len() - 1], 1e3),
        _ => (number, 1.0),
    };
    number.trim().parse::<f64>().ok().map(|x| x * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_take_long_and_short_names() {
        let f = Fields::parse(
            ":WFMP:BYT_N 2;BN_F RI;WFI \"Ch1, DC coupling\";:WFMPRE:YMULT 1.5E-3;NR_PT 5;:CURVE ",
        );
        assert_eq!(f.get("BYT_NR"), Some("2"));
        assert_eq!(f.get("WFID"), Some("Ch1, DC coupling"));
        assert_eq!(f.number("YMULT", 1.0), Ok(1.5e-3));
        assert_eq!(f.number("NR_PT", 0.0), Ok(5.0));
        assert_eq!(f.number("YOFF", 7.0), Ok(7.0));
    }

    #[test]
    fn wfid_parts() {
        assert_eq!(channel("Ch2"), "CH2");
        assert_eq!(channel("Math1"), "MATH1");
        assert_eq!(channel("my trace"), "CH1");
        assert_eq!(per_division("2.0mV/div", "V/div"), Some(2.0e-3));
        assert_eq!(per_division("1.0V/div", "V/div"), Some(1.0));
        assert_eq!(per_division("Sample mode", "V/div"), None);
    }

    #[test]
    fn curve_blocks() {
        let (header, start, len) = curve_block(b":WFMP:NR_P 2;:CURV #14abcd").unwrap();
        assert_eq!(
            (header.as_str(), start, len),
            (":WFMP:NR_P 2;", 22, Some(4))
        );
        assert!(curve_block(b":WFMP:NR_P 2;:CURV #x").is_err());
        assert!(curve_block(b":WFMP:NR_P 2;").is_err());
    }
}
