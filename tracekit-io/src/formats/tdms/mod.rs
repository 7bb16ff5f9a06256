//! NI TDMS (TDM Streaming) files, versions 1.0 and 2.0 (NI "TDMS File
//! Format Internal Structure"); values as npTDMS reads them.
//!
//! Every numeric channel (`/'group'/'channel'` of integer or floating-point
//! data) becomes a trace named as the channel, with its NI scaling applied
//! ([`scaling`]), `units` from `unit_string`, and as attributes its group
//! (`group`), its properties (names in lower snake case), its group's
//! (`group_...`) and the file's (`file_...`). String, boolean, time-stamp
//! and complex channels are skipped; a file with none but those is an
//! error that lists them. The time base is `wf_increment` (the rate is its
//! inverse) and `wf_start_offset` (0 where absent); a channel without
//! `wf_increment` takes `--sample-rate`, else it is an error that asks for
//! one. DAQmx raw data and TDMS index files (`TDSh`) are refused with a
//! message that says so.

mod data;
mod scaling;
mod segment;
mod types;

use std::collections::{BTreeMap, HashMap};

use tracekit_core::{Trace, TraceMeta};

use self::{
    data::Channel,
    segment::{Object, Tdms},
    types::Value,
};
use crate::{
    error::{Result, bail},
    registry::{Format, Input},
};

/// NI TDMS.
pub(crate) const FORMAT: Format = Format {
    name: "TDMS",
    probe: |input| input.data.starts_with(b"TDSm") || input.data.starts_with(b"TDSh"),
    read,
};

/// The channels of a file as `(object, group name)` in npTDMS's order, and
/// the group objects by name.
type Channels = (Vec<(usize, String)>, HashMap<String, usize>);

/// Properties that become the trace's time base and units, not attributes.
const TIME_BASE: [&str; 3] = ["wf_increment", "wf_start_offset", "unit_string"];

fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let tdms = segment::parse(input.data)?;
    let (channels, groups) = channel_order(&tdms)?;
    let mut skipped = Vec::new();
    let mut numeric = Vec::new();
    for (object, group) in channels {
        let o = &tdms.objects[object];
        match o.data_type.map(|t| (t, t.sample_type())) {
            Some((_, Some(ty))) => numeric.push((object, group, ty)),
            Some((t, None)) => skipped.push(format!("{} ({})", o.path, t.name())),
            None => skipped.push(format!("{} (no data)", o.path)),
        }
    }
    if numeric.is_empty() {
        match skipped.is_empty() {
            true => bail!("the file holds no channel"),
            false => bail!(
                "the file holds no numeric channel, only {}",
                skipped.join(", ")
            ),
        }
    }
    input.check_channels(numeric.len())?;
    let file = tdms.objects.iter().find(|o| o.path == "/");
    let mut metas = Vec::with_capacity(numeric.len());
    let mut reading = Vec::with_capacity(numeric.len());
    for &(object, ref group, ty) in &numeric {
        let o = &tdms.objects[object];
        let group_object = groups.get(group).map(|&g| &tdms.objects[g]);
        input.check_samples(o.values)?;
        let mut samples = Vec::new();
        usize::try_from(o.values)
            .ok()
            .and_then(|n| samples.try_reserve_exact(n).ok())
            .ok_or_else(|| format!("{} values of {} do not fit in memory", o.values, o.path))?;
        let scaling = scaling::find(o, group_object, file)?;
        metas.push(meta(input, o, group, group_object, file)?);
        reading.push(Channel {
            object,
            ty,
            scaling,
            samples,
        });
    }
    data::read(input.data, &tdms, &mut reading)?;
    reading
        .into_iter()
        .zip(metas)
        .map(|(channel, meta)| Ok(Trace::with_meta(channel.samples, meta)?))
        .collect()
}

/// The channels, as `(object, group name)`, in npTDMS's order (groups in
/// the order of their group objects, then groups that have only channel
/// objects; channels in the order first seen), and the group objects by name.
fn channel_order(tdms: &Tdms) -> Result<Channels> {
    let mut order: Vec<String> = Vec::new();
    let mut groups = HashMap::new();
    let mut channels: Vec<(usize, String)> = Vec::new();
    for (i, object) in tdms.objects.iter().enumerate() {
        let mut parts = parse_path(&object.path)?;
        match parts.pop() {
            None => {}
            Some(group) if parts.is_empty() => {
                order.push(group.clone());
                groups.insert(group, i);
            }
            Some(_) => channels.push((i, parts.swap_remove(0))),
        }
    }
    let mut of_group: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (_, group)) in channels.iter().enumerate() {
        if !groups.contains_key(group) && !of_group.contains_key(group.as_str()) {
            order.push(group.clone());
        }
        of_group.entry(group).or_default().push(i);
    }
    let ordered = order
        .iter()
        .flat_map(|g| of_group.get(g.as_str()).into_iter().flatten())
        .map(|&i| channels[i].clone())
        .collect();
    Ok((ordered, groups))
}

/// The names in an object path (`/`, `/'group'`, `/'group'/'channel'`):
/// each name quoted in `'`, a `'` inside doubled.
fn parse_path(path: &str) -> Result<Vec<String>> {
    let bad = || format!("object path {path:?} is not /'group'/'channel'");
    let mut names = Vec::new();
    if path == "/" {
        return Ok(names);
    }
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix("/'").ok_or_else(bad)?;
        let mut name = String::new();
        loop {
            let quote = rest.find('\'').ok_or_else(bad)?;
            name.push_str(&rest[..quote]);
            rest = &rest[quote + 1..];
            match rest.strip_prefix('\'') {
                Some(after) => {
                    name.push('\'');
                    rest = after;
                }
                None => break,
            }
        }
        names.push(name);
    }
    if names.is_empty() || names.len() > 2 {
        bail!("{}", bad());
    }
    Ok(names)
}

/// The meta of one channel's trace.
fn meta(
    input: &Input<'_>,
    channel: &Object,
    group: &str,
    group_object: Option<&Object>,
    file: Option<&Object>,
) -> Result<TraceMeta> {
    let number = |name: &str| channel.property(name).and_then(Value::number);
    let name = parse_path(&channel.path)?.pop().unwrap_or_default();
    let sample_rate = match (number("wf_increment"), input.options.sample_rate) {
        (Some(dt), _) if dt.is_finite() && dt > 0.0 => 1.0 / dt,
        (Some(dt), _) => bail!(
            "channel {} has wf_increment {dt}, not a positive sample interval",
            channel.path
        ),
        (None, Some(rate)) => rate,
        (None, None) => bail!(
            "channel {} has no wf_increment property (its sample interval): give a sample rate with --sample-rate",
            channel.path
        ),
    };
    let units = match channel.property("unit_string") {
        Some(Value::Text(units)) => units.clone(),
        _ => String::new(),
    };
    let mut attributes = BTreeMap::new();
    let sources = [
        (file, "file_"),
        (group_object, "group_"),
        (Some(channel), ""),
    ];
    for (object, prefix) in sources {
        for (key, value) in object.map(|o| o.properties.as_slice()).unwrap_or_default() {
            if prefix.is_empty() && TIME_BASE.contains(&key.as_str()) {
                continue;
            }
            attributes.insert(format!("{prefix}{}", snake_case(key)), value.to_attribute());
        }
    }
    attributes.insert("group".into(), group.to_owned());
    if let Some(ty) = channel.data_type {
        attributes.insert("tdms_data_type".into(), ty.name().to_owned());
    }
    Ok(TraceMeta {
        sample_rate,
        start: number("wf_start_offset").unwrap_or(0.0),
        channel: name,
        units,
        attributes,
        ..TraceMeta::default()
    })
}

/// A property name in lower snake case: `NI_ChannelName` is
/// `ni_channel_name`, `X-unit-string` is `x_unit_string`,
/// `NI_Scale[1]_Linear_Slope` is `ni_scale_1_linear_slope`.
pub(super) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_alphanumeric() {
            let boundary = c.is_uppercase()
                && previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        previous = Some(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        "property".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("/").unwrap(), Vec::<String>::new());
        assert_eq!(parse_path("/'Measured Data'").unwrap(), ["Measured Data"]);
        assert_eq!(
            parse_path("/'Dr. T''s Events'/'Time'").unwrap(),
            ["Dr. T's Events", "Time"]
        );
        for bad in ["", "group", "/'open", "/'a'/'b'/'c'", "/'a'x"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn property_names_in_snake_case() {
        assert_eq!(snake_case("NI_ChannelName"), "ni_channel_name");
        assert_eq!(snake_case("X-unit-string"), "x_unit_string");
        assert_eq!(
            snake_case("NI_Scale[1]_Linear_Slope"),
            "ni_scale_1_linear_slope"
        );
        assert_eq!(snake_case("wf_start_time"), "wf_start_time");
        assert_eq!(snake_case("DateTime"), "date_time");
        assert_eq!(snake_case("unit-GUID"), "unit_guid");
        assert_eq!(snake_case("--"), "property");
    }
}
