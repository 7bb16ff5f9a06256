//! Units as scope CSV headers write them: `(us)`, `(µs)`, `mV`, `Volt`,
//! `Second`, `Sequence`, and what they scale to in SI.

/// What a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quantity {
    /// Seconds.
    Time,
    /// Hertz.
    Frequency,
    /// Volts.
    Volts,
    /// Amperes.
    Amperes,
    /// Watts.
    Watts,
    /// A sample index (Rigol's `Sequence`), not a time.
    Index,
    /// Anything else (`dB`, `%`, `U`): kept as written, unscaled.
    Other,
}

/// A unit: what it measures, the factor to its SI unit, and the name the
/// samples then have.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unit {
    /// What it measures.
    pub(super) quantity: Quantity,
    /// The factor from the file's numbers to SI (1e-3 for `mV`).
    pub(super) scale: f64,
    /// `s`, `Hz`, `V`, `A` or `W`; for [`Quantity::Other`], the unit as written.
    pub(super) name: String,
}

impl Unit {
    fn si(quantity: Quantity, scale: f64) -> Unit {
        let name = match quantity {
            Quantity::Time => "s",
            Quantity::Frequency => "Hz",
            Quantity::Volts => "V",
            Quantity::Amperes => "A",
            Quantity::Watts => "W",
            Quantity::Index | Quantity::Other => "",
        };
        Unit {
            quantity,
            scale,
            name: name.into(),
        }
    }
}

/// Units spelt out, matched without regard to case.
const WORDS: &[(&str, Quantity)] = &[
    ("s", Quantity::Time),
    ("sec", Quantity::Time),
    ("secs", Quantity::Time),
    ("second", Quantity::Time),
    ("seconds", Quantity::Time),
    ("v", Quantity::Volts),
    ("volt", Quantity::Volts),
    ("volts", Quantity::Volts),
    ("a", Quantity::Amperes),
    ("amp", Quantity::Amperes),
    ("amps", Quantity::Amperes),
    ("ampere", Quantity::Amperes),
    ("amperes", Quantity::Amperes),
    ("w", Quantity::Watts),
    ("watt", Quantity::Watts),
    ("watts", Quantity::Watts),
    ("hz", Quantity::Frequency),
    ("hertz", Quantity::Frequency),
    ("sa/s", Quantity::Frequency),
    ("sequence", Quantity::Index),
    ("index", Quantity::Index),
    ("sample", Quantity::Index),
    ("samples", Quantity::Index),
    ("points", Quantity::Index),
    ("pts", Quantity::Index),
];

/// SI prefixes, matched with their case (`m` milli, `M` mega).
const PREFIXES: &[(&str, f64)] = &[
    ("p", 1e-12),
    ("n", 1e-9),
    ("u", 1e-6),
    ("µ", 1e-6), // U+00B5 MICRO SIGN (also the Latin-1 byte 0xB5)
    ("μ", 1e-6), // U+03BC GREEK SMALL LETTER MU
    ("m", 1e-3),
    ("k", 1e3),
    ("K", 1e3),
    ("M", 1e6),
    ("G", 1e9),
];

/// Base units that take a prefix.
const BASES: &[(&str, Quantity)] = &[
    ("s", Quantity::Time),
    ("V", Quantity::Volts),
    ("v", Quantity::Volts),
    ("A", Quantity::Amperes),
    ("W", Quantity::Watts),
    ("Hz", Quantity::Frequency),
    ("hz", Quantity::Frequency),
    ("Sa/s", Quantity::Frequency),
    ("S/s", Quantity::Frequency),
];

/// Units other than tracekit's that a label may carry in parentheses.
const OTHER_IN_LABELS: &[&str] = &[
    "dB", "dBm", "dBV", "dBmV", "dBuV", "dBµV", "%", "Ω", "ohm", "Pa", "°C", "degC", "rad", "deg",
];

/// `(us)`, `[mV]` or `Volt` as a [`Unit`]: a known one with its scale, any
/// other short word as [`Quantity::Other`], `None` for an empty field or
/// text that is not a unit (too long, or a number).
pub(super) fn parse(text: &str) -> Option<Unit> {
    let inner = strip_brackets(text.trim());
    known(inner).or_else(|| {
        let looks_like_unit = !inner.is_empty()
            && inner.chars().count() <= 12
            && !inner.contains(' ')
            && inner.parse::<f64>().is_err();
        looks_like_unit.then(|| Unit {
            quantity: Quantity::Other,
            scale: 1.0,
            name: inner.to_owned(),
        })
    })
}

/// Whether `text` is wrapped in parentheses or brackets: `(mV)`.
pub(super) fn is_bracketed(text: &str) -> bool {
    let text = text.trim();
    strip_brackets(text).len() + 2 == text.len()
}

/// `text` without the parentheses or brackets around it.
fn strip_brackets(text: &str) -> &str {
    text.strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .or_else(|| text.strip_prefix('[').and_then(|t| t.strip_suffix(']')))
        .map_or(text, str::trim)
}

/// A unit tracekit knows, or `None`.
pub(super) fn known(text: &str) -> Option<Unit> {
    let text = text.trim();
    if let Some(&(_, q)) = WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(text)) {
        return Some(Unit::si(q, 1.0));
    }
    // A UTF-8 micro sign read as Latin-1 ("Âµ") is still micro.
    let text = text
        .strip_prefix('Â')
        .filter(|t| t.starts_with('µ'))
        .unwrap_or(text);
    PREFIXES.iter().find_map(|&(prefix, scale)| {
        let base = text.strip_prefix(prefix)?;
        let &(_, q) = BASES.iter().find(|(b, _)| *b == base)?;
        Some(Unit::si(q, scale))
    })
}

/// A label and the unit it ends with in parentheses or brackets:
/// `CH 1 (V)` -> (`CH 1`, V); `Time(s)` -> (`Time`, s). A label without one
/// (or with text in parentheses that is no unit, `Math (A-B)`) is kept whole.
pub(super) fn split_label(label: &str) -> (String, Option<Unit>) {
    let label = label.trim();
    let open = match label.strip_suffix(')') {
        Some(_) => label.rfind('('),
        None if label.ends_with(']') => label.rfind('['),
        None => None,
    };
    if let Some(open) = open {
        let inner = label[open + 1..label.len() - 1].trim();
        let unit = known(inner).or_else(|| {
            OTHER_IN_LABELS.contains(&inner).then(|| Unit {
                quantity: Quantity::Other,
                scale: 1.0,
                name: inner.to_owned(),
            })
        });
        if let Some(unit) = unit {
            return (label[..open].trim_end().to_owned(), Some(unit));
        }
    }
    (label.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale_of(text: &str) -> Option<(Quantity, f64, String)> {
        parse(text).map(|u| (u.quantity, u.scale, u.name))
    }

    #[test]
    fn scope_units() {
        assert_eq!(scale_of("(us)"), Some((Quantity::Time, 1e-6, "s".into())));
        assert_eq!(scale_of("(µs)"), Some((Quantity::Time, 1e-6, "s".into())));
        assert_eq!(scale_of("(μs)"), Some((Quantity::Time, 1e-6, "s".into())));
        assert_eq!(scale_of("(Âµs)"), Some((Quantity::Time, 1e-6, "s".into())));
        assert_eq!(scale_of("Second"), Some((Quantity::Time, 1.0, "s".into())));
        assert_eq!(scale_of("(mV)"), Some((Quantity::Volts, 1e-3, "V".into())));
        assert_eq!(scale_of("(kV)"), Some((Quantity::Volts, 1e3, "V".into())));
        assert_eq!(scale_of("Volt"), Some((Quantity::Volts, 1.0, "V".into())));
        assert_eq!(
            scale_of("MHz"),
            Some((Quantity::Frequency, 1e6, "Hz".into()))
        );
        assert_eq!(scale_of("mA"), Some((Quantity::Amperes, 1e-3, "A".into())));
        assert_eq!(
            scale_of("Sequence"),
            Some((Quantity::Index, 1.0, "".into()))
        );
        assert_eq!(scale_of("(dB)"), Some((Quantity::Other, 1.0, "dB".into())));
        assert_eq!(scale_of(""), None);
        assert_eq!(scale_of("1.5"), None);
    }

    #[test]
    fn labels_lose_their_unit() {
        assert_eq!(split_label("CH 1 (V)").0, "CH 1");
        assert_eq!(split_label("Time(s)").1.unwrap().quantity, Quantity::Time);
        assert_eq!(split_label("Channel A (mV)").1.unwrap().scale, 1e-3);
        assert_eq!(split_label("Math (A-B)"), ("Math (A-B)".into(), None));
        assert_eq!(split_label("FFT (dB)").1.unwrap().name, "dB");
        assert_eq!(split_label("CH1"), ("CH1".into(), None));
    }
}
