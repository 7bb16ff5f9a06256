//! sigrok session files (`.sr`, libsigrok's "srzip"): a ZIP archive of a
//! `version`, a `metadata` INI file and the sample chunks (sigrok wiki,
//! "File format:sigrok/v2"; libsigrok `src/output/srzip.c` writes them,
//! `src/session_driver.c` reads them).
//!
//! Logic data is `logic-1-1`, `logic-1-2`, ... (or one `logic-1`): samples
//! of `unitsize` little-endian bytes, bit N-1 holding probe N. Each listed
//! probe becomes a 0/1 trace named as the metadata names it (`"D0"`, units
//! `""`). Analog channel N is `analog-1-N-1`, `analog-1-N-2`, ...:
//! little-endian `f32`, a trace in volts (libsigrok sends them as voltage;
//! the format has no unit field). The time base is the metadata's
//! `samplerate`, the first sample at 0 s (the format stores no trigger
//! position); a session without a rate needs `--sample-rate`.
//!
//! Decompression is bounded: the members' declared sizes are checked
//! against the sample limit before anything is inflated, and a member that
//! inflates past its declared size is an error as soon as it does (see
//! [`zip`]).

mod metadata;
mod zip;

use std::collections::BTreeMap;

use tracekit_core::{Trace, TraceMeta};

use self::{
    metadata::{Device, Metadata},
    zip::{Archive, Member},
};
use crate::{
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
    registry::{Format, Input},
};

/// sigrok session (`.sr`).
pub(crate) const FORMAT: Format = Format {
    name: "sigrok session",
    probe,
    read,
};

/// Most bytes the `version` and `metadata` members may hold.
const MAX_TEXT: u64 = 1 << 24;

/// A ZIP archive ("PK\3\4") whose first member is `version` or `metadata`
/// (libsigrok writes `version` first), or any ZIP archive named `.sr`.
fn probe(input: &Input<'_>) -> bool {
    let data = input.data;
    if !data.starts_with(b"PK\x03\x04") {
        return false;
    }
    let name_len = data
        .get(26..28)
        .map_or(0, |n| usize::from(u16::from_le_bytes([n[0], n[1]])));
    let first = data.get(30..30 + name_len).unwrap_or_default();
    first == b"version" || first == b"metadata" || input.extension() == "sr"
}

fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let archive = Archive::open(input.data)?;
    let version = text_member(&archive, "version")?;
    match version.trim() {
        "1" | "2" => {}
        other => {
            bail!("unknown sigrok session version '{other}' (tracekit reads versions 1 and 2)")
        }
    }
    let metadata = metadata::parse(&text_member(&archive, "metadata")?)?;
    let device = &metadata.device;
    input.check_channels(device.probes.len() + device.analog.len())?;
    let rate = match (device.samplerate, input.options.sample_rate) {
        (Some(hz), _) => hz as f64,
        (None, Some(rate)) => rate,
        (None, None) => bail!("the metadata gives no samplerate: give one with --sample-rate"),
    };
    let mut traces = Vec::new();
    if !device.probes.is_empty() {
        traces.extend(logic_traces(input, &archive, &metadata, rate)?);
    }
    for (n, name) in &device.analog {
        let chunks = chunks(&archive, &format!("analog-1-{n}"))?;
        let raw = inflate_stream(input, &chunks, 4, name)?;
        let samples = decode(&raw, SampleType::F32, ByteOrder::Little, |v| v);
        traces.push(Trace::with_meta(
            samples,
            meta(&metadata, name, "V", "analog", rate),
        )?);
    }
    if traces.is_empty() {
        bail!("the metadata lists no probeN and no analogN channel");
    }
    Ok(traces)
}

/// One 0/1 trace per listed probe, from the logic chunks.
fn logic_traces(
    input: &Input<'_>,
    archive: &Archive<'_>,
    metadata: &Metadata,
    rate: f64,
) -> Result<Vec<Trace>> {
    let device: &Device = &metadata.device;
    let unitsize = device.unitsize;
    if unitsize == 0 {
        bail!("the metadata lists logic probes but no unitsize (bytes per logic sample)");
    }
    let bits = unitsize.saturating_mul(8);
    for (n, _) in &device.probes {
        if device.total_probes > 0 && *n > device.total_probes {
            bail!(
                "metadata lists probe{n}, beyond its total probes of {}",
                device.total_probes
            );
        }
        if *n as usize > bits {
            bail!("metadata lists probe{n}, but a unitsize of {unitsize} holds {bits} probes");
        }
    }
    let base = device.capturefile.as_deref().unwrap_or("logic-1");
    let chunks = chunks(archive, base)?;
    let raw = inflate_stream(input, &chunks, unitsize, "the logic data")?;
    device
        .probes
        .iter()
        .map(|(n, name)| {
            let bit = (*n - 1) as usize;
            let (byte, shift) = (bit / 8, bit % 8);
            // One bit of each little-endian unit: not a typed sample, so not
            // `convert::decode`.
            let samples = raw
                .chunks_exact(unitsize)
                .map(|unit| f64::from((unit[byte] >> shift) & 1))
                .collect();
            Ok(Trace::with_meta(
                samples,
                meta(metadata, name, "", "logic", rate),
            )?)
        })
        .collect()
}

/// The chunks of one data stream in order: the member `base` alone, or
/// `base-1`, `base-2`, ... as libsigrok reads them (it stops at the first
/// missing number; a later one is an error here, not silently dropped).
fn chunks<'m, 'a>(archive: &'m Archive<'a>, base: &str) -> Result<Vec<&'m Member<'a>>> {
    if let Some(whole) = archive.member(base) {
        return Ok(vec![whole]);
    }
    let mut found = Vec::new();
    while let Some(chunk) = archive.member(&format!("{base}-{}", found.len() + 1)) {
        found.push(chunk);
    }
    let prefix = format!("{base}-");
    let stray = archive
        .names()
        .filter_map(|name| name.strip_prefix(&prefix)?.parse::<usize>().ok())
        .filter(|&k| k > found.len())
        .min();
    if let Some(k) = stray {
        bail!(
            "chunk '{base}-{k}' follows a missing chunk '{base}-{}'",
            found.len() + 1
        );
    }
    if found.is_empty() {
        bail!("the archive has no data for '{base}' (neither '{base}' nor '{base}-1')");
    }
    Ok(found)
}

/// The chunks inflated one after the other: their declared sizes checked
/// against the sample limit (`width` bytes a sample) before any is inflated.
fn inflate_stream(
    input: &Input<'_>,
    chunks: &[&Member<'_>],
    width: usize,
    what: &str,
) -> Result<Vec<u8>> {
    let declared = chunks
        .iter()
        .try_fold(0u64, |sum, m| sum.checked_add(m.size))
        .ok_or_else(|| format!("the chunks of {what} declare more than 2^64 bytes"))?;
    input.check_samples(declared.div_ceil(width as u64))?;
    let mut raw = Vec::new();
    let room = usize::try_from(declared)
        .ok()
        .and_then(|n| n.checked_add(1));
    room.and_then(|n| raw.try_reserve_exact(n).ok())
        .ok_or_else(|| format!("{declared} bytes of {what} do not fit in memory"))?;
    for chunk in chunks {
        chunk.extract_into(&mut raw)?;
    }
    if raw.len() % width != 0 {
        bail!(
            "{what} holds {} bytes, not a whole number of {width}-byte samples",
            raw.len()
        );
    }
    Ok(raw)
}

/// The text of a small member (`version`, `metadata`), which must exist.
fn text_member(archive: &Archive<'_>, name: &str) -> Result<String> {
    let member = archive.member(name).ok_or_else(|| {
        format!("the archive has no '{name}' member, which every sigrok session has")
    })?;
    if member.size > MAX_TEXT {
        bail!(
            "the '{name}' member says {} bytes, more than the {MAX_TEXT} a session's {name} may hold",
            member.size
        );
    }
    let mut raw = Vec::new();
    member.extract_into(&mut raw)?;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// The meta of one trace.
fn meta(metadata: &Metadata, channel: &str, units: &str, kind: &str, rate: f64) -> TraceMeta {
    let mut attributes = BTreeMap::from([("channel_type".to_owned(), kind.to_owned())]);
    if let Some(version) = &metadata.sigrok_version {
        attributes.insert("sigrok_version".into(), version.clone());
    }
    if let Some(driver) = &metadata.device.driver {
        attributes.insert("driver".into(), driver.clone());
    }
    TraceMeta {
        sample_rate: rate,
        start: 0.0,
        channel: channel.to_owned(),
        units: units.to_owned(),
        attributes,
        ..TraceMeta::default()
    }
}
