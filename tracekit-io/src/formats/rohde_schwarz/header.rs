//! The R&S XML header: its properties by `Name`, the exported sources and
//! their labels. Shared by the binary reader and the CSV reader, which
//! reads the header beside a `.Wfm.csv` export.

use std::collections::HashMap;

use roxmltree::{Document, Node};

use crate::error::{Result, bail};

/// The prefix of R&S enumeration values for signal sources.
const SOURCE_PREFIX: &str = "eRS_SIGNAL_SOURCE_";

/// The header's properties by `Name`, the first element of each.
pub(crate) struct Props<'a, 'input> {
    /// The first element of each `Name`.
    by_name: HashMap<&'a str, Node<'a, 'input>>,
}

impl<'a, 'input> Props<'a, 'input> {
    /// Indexes every element of `doc` that has a `Name`.
    pub(crate) fn new(doc: &'a Document<'input>) -> Props<'a, 'input> {
        let mut by_name = HashMap::new();
        for node in doc.descendants().filter(Node::is_element) {
            if let Some(name) = node.attribute("Name") {
                by_name.entry(name).or_insert(node);
            }
        }
        Props { by_name }
    }

    /// The element named `name`.
    pub(crate) fn node(&self, name: &str) -> Result<Node<'a, 'input>> {
        match self.by_name.get(name) {
            Some(node) => Ok(*node),
            None => bail!("the header has no property '{name}'"),
        }
    }

    /// Attribute `attr` of the element named `name`.
    pub(crate) fn attr(&self, name: &str, attr: &str) -> Result<&'a str> {
        match self.node(name)?.attribute(attr) {
            Some(value) => Ok(value),
            None => bail!("the header's property '{name}' has no attribute {attr}"),
        }
    }

    /// The `Value` of the element named `name`.
    pub(crate) fn value(&self, name: &str) -> Result<&'a str> {
        self.attr(name, "Value")
    }

    /// The `Value` of the element named `name`, where it has one.
    pub(crate) fn value_opt(&self, name: &str) -> Option<&'a str> {
        self.by_name.get(name)?.attribute("Value")
    }

    /// Attribute `attr` of `name` as a finite number.
    pub(crate) fn float_attr(&self, name: &str, attr: &str) -> Result<f64> {
        let raw = self.attr(name, attr)?;
        match raw.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => bail!("the header's property '{name}' {attr} is '{raw}', not a finite number"),
        }
    }

    /// The `Value` of `name` as a finite number.
    pub(crate) fn float(&self, name: &str) -> Result<f64> {
        self.float_attr(name, "Value")
    }

    /// The `Value` of `name` as an integer.
    pub(crate) fn int(&self, name: &str) -> Result<i64> {
        let raw = self.value(name)?;
        match raw.trim().parse::<i64>() {
            Ok(n) => Ok(n),
            Err(_) => bail!("the header's property '{name}' is '{raw}', not an integer"),
        }
    }

    /// A count that must be at least `min`.
    pub(crate) fn count(&self, name: &str, min: i64) -> Result<u64> {
        let n = self.int(name)?;
        match u64::try_from(n) {
            Ok(count) if n >= min => Ok(count),
            _ => bail!("the header's {name} is {n}, it must be at least {min}"),
        }
    }
}

/// One exported channel: a column of the data file.
#[derive(Debug)]
pub(crate) struct Source {
    /// The source without its enumeration prefix: `CH1_TR1`.
    pub(crate) name: String,
    /// The `I_k` attribute of the multi-channel arrays, or `None` for a
    /// single-channel export.
    pub(crate) index: Option<String>,
}

/// `value` without `prefix`, where it has it.
pub(crate) fn strip_prefix<'s>(value: &'s str, prefix: &str) -> &'s str {
    value.strip_prefix(prefix).unwrap_or(value)
}

/// The channels of the export, in column order.
pub(crate) fn sources(props: &Props<'_, '_>) -> Result<Vec<Source>> {
    let multi = strip_prefix(props.value("MultiChannelExport")?, "eRS_ONOFF_");
    if multi != "ON" {
        let name = strip_prefix(props.value("Source")?, SOURCE_PREFIX).to_owned();
        return Ok(vec![Source { name, index: None }]);
    }
    let state = props.node("MultiChannelExportState")?;
    let source = props.node("MultiChannelSource")?;
    let mut out = Vec::new();
    for k in 0.. {
        let key = format!("I_{k}");
        let Some(on) = state.attribute(key.as_str()) else {
            break;
        };
        let name = strip_prefix(
            source.attribute(key.as_str()).unwrap_or("NONE"),
            SOURCE_PREFIX,
        );
        if on == "eRS_ONOFF_ON" && name != "NONE" {
            out.push(Source {
                name: name.to_owned(),
                index: Some(key),
            });
        }
    }
    if out.is_empty() {
        bail!("the multi-channel export enables no channel (MultiChannelExportState)");
    }
    Ok(out)
}

/// The trace label: `CH<n>` for an analog channel's first trace (`CH1_TR1`,
/// `C1W1`, as RigolWFM names them), else the source as the header gives it.
pub(crate) fn channel_label(source: &str) -> String {
    let rest = source
        .strip_prefix("CH")
        .or_else(|| source.strip_prefix('C'));
    if let Some(rest) = rest {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, tail) = rest.split_at(digits);
        if !number.is_empty() && matches!(tail, "" | "_TR1" | "W1") {
            return format!("CH{number}");
        }
    }
    source.to_owned()
}
