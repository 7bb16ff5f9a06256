//! Key rows: the `key,value...` lines scopes write before the data
//! (`Record Length,2500`, `"Sampling Frequency (Hz)=",500000000`,
//! `Probe Attenuation,10`), and what tracekit takes from them.

use std::collections::BTreeMap;

use super::{
    timebase::{Stated, num},
    units::{self, Quantity, Unit},
};
use crate::error::{Result, bail};

/// What a key means to tracekit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    /// The number of points in the record (Tektronix `Record Length`,
    /// Rigol `Number of Data points`, Keysight Infiniium `Points`).
    Points,
    /// Samples per second (Rigol `Sampling Frequency (Hz)`).
    Rate,
    /// Seconds per sample (Tektronix `Sample Interval`, Infiniium `XInc`).
    Interval,
    /// The time of the first sample (Infiniium `XOrg`).
    Start,
    /// Per-channel names (Rigol `Channel Data`, Tektronix `Source`).
    Names,
    /// The samples' unit (Tektronix `Vertical Units`, Infiniium `YUnits`).
    VerticalUnits,
    /// The time column's unit (Tektronix `Horizontal Units`, Infiniium `XUnits`).
    HorizontalUnits,
    /// A gate: the rows are part of the record (Tektronix `Gating`).
    Gating,
    /// Marks the start of the data (Infiniium `Data`).
    Data,
    /// An attribute under the brief's name (`model`, `probe`...), or any other key.
    Attribute(&'static str),
    /// A key tracekit does not know: kept as a snake_case attribute.
    Other,
}

/// Keys by their lower-cased words, units in parentheses and `=`/`:` removed.
const KEYS: &[(&str, Key)] = &[
    ("record length", Key::Points),
    ("number of data points", Key::Points),
    ("number of points", Key::Points),
    ("points", Key::Points),
    ("memory length", Key::Points),
    ("sampling frequency", Key::Rate),
    ("sample frequency", Key::Rate),
    ("sampling rate", Key::Rate),
    ("sample rate", Key::Rate),
    ("sample interval", Key::Interval),
    ("sampling interval", Key::Interval),
    ("sampling period", Key::Interval),
    ("sample period", Key::Interval),
    ("time increment", Key::Interval),
    ("x increment", Key::Interval),
    ("xinc", Key::Interval),
    ("xorg", Key::Start),
    ("x origin", Key::Start),
    ("start time", Key::Start),
    ("channel data", Key::Names),
    ("source", Key::Names),
    ("vertical units", Key::VerticalUnits),
    ("vertical unit", Key::VerticalUnits),
    ("yunits", Key::VerticalUnits),
    ("y units", Key::VerticalUnits),
    ("horizontal units", Key::HorizontalUnits),
    ("horizontal unit", Key::HorizontalUnits),
    ("xunits", Key::HorizontalUnits),
    ("x units", Key::HorizontalUnits),
    ("gating", Key::Gating),
    ("data", Key::Data),
    ("model", Key::Attribute("model")),
    ("model number", Key::Attribute("model")),
    ("serial number", Key::Attribute("serial")),
    ("serial", Key::Attribute("serial")),
    ("firmware version", Key::Attribute("firmware")),
    ("firmware", Key::Attribute("firmware")),
    ("vendor", Key::Attribute("vendor")),
    ("manufacturer", Key::Attribute("vendor")),
    ("probe atten", Key::Attribute("probe")),
    ("probe attenuation", Key::Attribute("probe")),
    ("attenuation", Key::Attribute("probe")),
    ("probe ratio", Key::Attribute("probe")),
    ("vertical scale", Key::Attribute("volts_per_div")),
    ("vertical offset", Key::Attribute("vertical_offset")),
    ("coupling", Key::Attribute("coupling")),
    ("trigger time", Key::Attribute("trigger_time")),
];

/// Keys Tektronix writes (with [`Key::Points`] and [`Key::Interval`]).
const TEKTRONIX_KEYS: &[&str] = &[
    "trigger point",
    "pt fmt",
    "point format",
    "yzero",
    "probe atten",
    "waveform type",
    "horizontal delay",
];

/// The attributes whose values are numbers, written in plain `{}` formatting.
const NUMERIC: &[&str] = &["probe", "volts_per_div", "vertical_offset"];

/// One key row: `key, value, value...`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct KeyRow {
    /// The line, 1-based.
    pub(super) line: usize,
    /// The key as the file writes it, without quotes: `Sampling Frequency (Hz)=`.
    pub(super) raw: String,
    /// The key lower-cased, without its unit and `=`: `sampling frequency`.
    pub(super) key: String,
    /// The unit in the key's parentheses: `Hz`.
    pub(super) unit: Option<String>,
    /// The values, one per channel where the row has one per channel.
    pub(super) values: Vec<String>,
}

impl KeyRow {
    /// The row of `fields` on `line`, or `None` where the key is empty.
    pub(super) fn new(line: usize, fields: &[String]) -> Option<KeyRow> {
        let raw = fields.first()?.trim();
        let (key, unit) = normalize(raw);
        if key.is_empty() {
            return None;
        }
        let mut values: Vec<String> = fields[1..].to_vec();
        while values.last().is_some_and(|v| v.is_empty()) {
            values.pop();
        }
        Some(KeyRow {
            line,
            raw: raw.trim_end_matches(['=', ':', ' ']).to_owned(),
            key,
            unit,
            values,
        })
    }

    /// What the key means.
    pub(super) fn kind(&self) -> Key {
        classify(&self.key, self.unit.as_deref())
    }

    fn what(&self) -> String {
        format!("{} (line {})", self.raw, self.line)
    }

    /// The first value as a number; an error naming the line where it is not one.
    fn number(&self) -> Result<f64> {
        let text = self.values.first().map_or("", String::as_str);
        match super::text::number(text.as_bytes()) {
            Some(x) => Ok(x),
            None => bail!("line {}: {} '{text}' is not a number", self.line, self.raw),
        }
    }

    /// The scale of the key's unit to seconds (hertz), 1 where it has none.
    fn scale(&self, quantity: Quantity) -> f64 {
        self.unit
            .as_deref()
            .and_then(units::known)
            .filter(|u| u.quantity == quantity)
            .map_or(1.0, |u| u.scale)
    }
}

/// `"Sampling Frequency (Hz)= "` -> (`sampling frequency`, `Some("Hz")`).
pub(super) fn normalize(raw: &str) -> (String, Option<String>) {
    let mut key = raw.trim().trim_end_matches(['=', ':', ' ']).to_owned();
    let mut unit = None;
    if let (Some(open), true) = (key.rfind('('), key.ends_with(')')) {
        unit = Some(key[open + 1..key.len() - 1].trim().to_owned());
        key.truncate(open);
    }
    let words: Vec<&str> = key.split_whitespace().collect();
    (words.join(" ").to_lowercase(), unit)
}

/// What `key` (normalised) means; `unit` tells Rigol's `Scale (V/DIV)` and `Pos (V)`.
pub(super) fn classify(key: &str, unit: Option<&str>) -> Key {
    if let Some(&(_, kind)) = KEYS.iter().find(|(k, _)| *k == key) {
        return kind;
    }
    let per_div = unit.is_some_and(|u| u.to_ascii_lowercase().starts_with("v/div"));
    let volts = unit.is_some_and(|u| u.eq_ignore_ascii_case("v"));
    match key {
        "scale" if per_div => Key::Attribute("volts_per_div"),
        "pos" | "offset" if volts => Key::Attribute("vertical_offset"),
        _ => Key::Other,
    }
}

/// Whether a header key is one tracekit knows (so a row starting with it is
/// not a row of column labels).
pub(super) fn is_known(key: &str) -> bool {
    let (key, unit) = normalize(key);
    classify(&key, unit.as_deref()) != Key::Other || TEKTRONIX_KEYS.contains(&key.as_str())
}

/// `Trigger Mode` -> `trigger_mode`; `None` for keys that make no name.
fn snake_case(key: &str) -> Option<String> {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    (!out.is_empty() && out.len() <= 48 && out.chars().any(char::is_alphabetic)).then_some(out)
}

/// What the key rows of a header say.
#[derive(Debug, Clone, Default)]
pub(super) struct Said {
    /// The sample interval (or rate).
    pub(super) interval: Option<Stated>,
    /// The time of the first sample.
    pub(super) start: Option<f64>,
    /// The record length and its line.
    pub(super) points: Option<(u64, usize)>,
    /// Whether a gate says the rows may be part of the record.
    pub(super) gated: bool,
    /// Channel names, one per channel.
    pub(super) names: Vec<String>,
    /// The samples' units, one per channel or one for all.
    pub(super) vertical_units: Vec<String>,
    /// The time column's unit.
    pub(super) horizontal_unit: Option<Unit>,
    /// Attributes: name -> one value per channel, or one for all.
    pub(super) attributes: BTreeMap<String, Vec<String>>,
    /// The normalised keys seen, for telling vendors apart.
    pub(super) keys: Vec<String>,
}

impl Said {
    /// Takes what `row` says.
    pub(super) fn take(&mut self, row: &KeyRow) -> Result<()> {
        self.keys.push(row.key.clone());
        match row.kind() {
            Key::Points => {
                let n = row.number()?;
                if !(n >= 0.0 && n.fract() == 0.0 && n < 2f64.powi(53)) {
                    bail!(
                        "line {}: {} {n} is not a number of points",
                        row.line,
                        row.raw
                    );
                }
                self.points.get_or_insert((n as u64, row.line));
            }
            Key::Rate => {
                let rate = row.number()? * row.scale(Quantity::Frequency);
                self.set_interval(Stated::rate(rate, row.what()))?;
            }
            Key::Interval => {
                let dt = row.number()? * row.scale(Quantity::Time);
                self.set_interval(Stated::interval(dt, row.what()))?;
            }
            Key::Start => {
                let t0 = row.number()? * row.scale(Quantity::Time);
                if !t0.is_finite() {
                    bail!("line {}: {} {t0} is not a time", row.line, row.raw);
                }
                self.start.get_or_insert(t0);
            }
            Key::Names if !row.values.is_empty() => self.names.clone_from(&row.values),
            Key::VerticalUnits => self.vertical_units.clone_from(&row.values),
            Key::HorizontalUnits => {
                self.horizontal_unit = row.values.first().and_then(|u| units::parse(u));
            }
            Key::Gating => self.gated = true,
            Key::Names | Key::Data => {}
            Key::Attribute(name) => self.attribute(name.to_owned(), row),
            Key::Other => {
                if let Some(name) = snake_case(&row.key) {
                    self.attribute(name, row);
                }
            }
        }
        Ok(())
    }

    fn attribute(&mut self, name: String, row: &KeyRow) {
        if row.values.is_empty() || self.attributes.contains_key(&name) {
            return;
        }
        let numeric = NUMERIC.contains(&name.as_str());
        let values = row
            .values
            .iter()
            .map(|v| {
                let plain = v.trim_end_matches(['x', 'X']);
                match super::text::number(plain.as_bytes()) {
                    Some(x) if numeric => format!("{x}"),
                    _ => v.clone(),
                }
            })
            .collect();
        self.attributes.insert(name, values);
    }

    /// Sets the sample interval; a second one must agree with the first.
    pub(super) fn set_interval(&mut self, stated: Stated) -> Result<()> {
        match &self.interval {
            None => self.interval = Some(stated),
            Some(first) => {
                let (a, b) = (first.interval, stated.interval);
                if (a - b).abs() > 1e-9 * a.abs().max(b.abs()) {
                    bail!(
                        "{} gives a sample interval of {} s but {} gives {} s",
                        first.what,
                        num(a),
                        stated.what,
                        num(b)
                    );
                }
            }
        }
        Ok(())
    }

    /// Whether the keys are Tektronix's.
    pub(super) fn is_tektronix(&self) -> bool {
        let has = |k: &str| self.keys.iter().any(|key| key == k);
        has("record length") && (has("sample interval") || TEKTRONIX_KEYS.iter().any(|k| has(k)))
    }

    /// Whether the keys are those Rigol's PC software writes
    /// (`Sampling Frequency (Hz)=`, `Channel Data`).
    pub(super) fn is_rigol(&self) -> bool {
        let has = |k: &str| self.keys.iter().any(|key| key == k);
        has("sampling frequency") && has("channel data")
    }

    /// The attributes of channel `k` of `n`: per-channel values where a row
    /// has one per channel, a row's single value for all, else all values.
    pub(super) fn attributes_of(&self, k: usize, n: usize) -> BTreeMap<String, String> {
        self.attributes
            .iter()
            .filter_map(|(name, values)| {
                let value = match values.len() {
                    1 => values[0].clone(),
                    len if len == n => values[k].clone(),
                    _ => values.join(","),
                };
                (!value.is_empty()).then(|| (name.clone(), value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: usize, fields: &[&str]) -> KeyRow {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        KeyRow::new(line, &fields).unwrap()
    }

    #[test]
    fn keys_lose_units_and_equals() {
        assert_eq!(
            normalize("Sampling Frequency (Hz)= "),
            ("sampling frequency".into(), Some("Hz".into()))
        );
        assert_eq!(
            normalize("Number of Data points ="),
            ("number of data points".into(), None)
        );
        assert_eq!(
            classify("scale", Some("V/DIV")),
            Key::Attribute("volts_per_div")
        );
        assert_eq!(
            classify("pos", Some("V")),
            Key::Attribute("vertical_offset")
        );
        assert_eq!(classify("posorig", Some("V")), Key::Other);
        assert!(is_known("Record Length"));
        assert!(!is_known("CH1"));
    }

    #[test]
    fn rows_give_the_time_base_and_attributes() {
        let mut said = Said::default();
        said.take(&row(4, &["Sampling Frequency (Hz)=", "500000000", ""]))
            .unwrap();
        said.take(&row(7, &["Channel Data", "CH 1", "CH 2"]))
            .unwrap();
        said.take(&row(8, &["Attenuation = ", "10", "1"])).unwrap();
        said.take(&row(9, &["Trigger Mode = ", "0"])).unwrap();
        let stated = said.interval.clone().unwrap();
        assert_eq!(stated.rate, 5e8);
        assert_eq!(stated.what, "Sampling Frequency (Hz) (line 4)");
        assert_eq!(said.names, ["CH 1", "CH 2"]);
        assert!(said.is_rigol());
        let ch2 = said.attributes_of(1, 2);
        assert_eq!(ch2["probe"], "1");
        assert_eq!(ch2["trigger_mode"], "0");
        let e = said
            .take(&row(10, &["Sample Interval", "1e-6"]))
            .unwrap_err();
        assert!(
            e.0.contains("but Sample Interval (line 10) gives 1e-6 s"),
            "{}",
            e.0
        );
        let e = said.take(&row(11, &["Record Length", "2.5"])).unwrap_err();
        assert_eq!(e.0, "line 11: Record Length 2.5 is not a number of points");
        let e = said.take(&row(12, &["XInc", "abc"])).unwrap_err();
        assert_eq!(e.0, "line 12: XInc 'abc' is not a number");
    }
}
