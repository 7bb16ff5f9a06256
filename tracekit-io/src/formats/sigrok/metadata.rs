//! The `metadata` member of a sigrok session: an INI file whose
//! `[device 1]` section says the sample rate, the logic probes and the
//! analog channels (sigrok wiki, "File format:sigrok/v2", section metadata).

use crate::error::{Result, bail};

/// What `[device 1]` says about the capture (wiki, "Section: device X").
#[derive(Debug, Default, PartialEq)]
pub(super) struct Device {
    /// "driver" (optional): the libsigrok driver that captured.
    pub(super) driver: Option<String>,
    /// "capturefile": base name of the logic chunks (`logic-1`); absent in
    /// a session without logic data.
    pub(super) capturefile: Option<String>,
    /// "unitsize": bytes per logic sample (one bit per probe).
    pub(super) unitsize: usize,
    /// "total probes": logic channels of the device, listed or not.
    pub(super) total_probes: u32,
    /// "total analog": analog channels saved.
    pub(super) total_analog: u32,
    /// "samplerate" in Hz (`"1 MHz"` is 1000000); `None` where absent or 0.
    pub(super) samplerate: Option<u64>,
    /// "probeN" entries: (N, name), N from 1, in ascending N.
    pub(super) probes: Vec<(u32, String)>,
    /// "analogN" entries: (N, name), in ascending N; their chunks are
    /// `analog-1-N-1`, `analog-1-N-2`, ...
    pub(super) analog: Vec<(u32, String)>,
}

/// The metadata: the `sigrok version` of `[global]` and the device.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Metadata {
    /// "sigrok version" of `[global]`: the libsigrok that wrote the file.
    pub(super) sigrok_version: Option<String>,
    /// `[device 1]`.
    pub(super) device: Device,
}

/// Parses the metadata text.
///
/// Lines end with `\r`, `\n` or both; empty lines and `#` comments are
/// ignored; `[section]` starts a section; other lines are `key=value`, with
/// whitespace around `=` ignored.
pub(super) fn parse(text: &str) -> Result<Metadata> {
    let mut metadata = Metadata::default();
    let mut section = String::new();
    let mut seen_device = false;
    for (n, line) in text.split(['\r', '\n']).enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            seen_device |= section == "device 1";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!(
                "metadata line {} is neither [section] nor key=value: '{line}'",
                n + 1
            );
        };
        let (key, value) = (key.trim(), value.trim());
        match section.as_str() {
            "global" if key == "sigrok version" => metadata.sigrok_version = Some(value.into()),
            "device 1" => device_key(&mut metadata.device, key, value)?,
            _ => {}
        }
    }
    if !seen_device {
        bail!("the metadata has no [device 1] section");
    }
    let device = &mut metadata.device;
    device.probes.sort_by_key(|p| p.0);
    device.analog.sort_by_key(|p| p.0);
    Ok(metadata)
}

/// Stores one `key=value` of `[device 1]`.
fn device_key(device: &mut Device, key: &str, value: &str) -> Result<()> {
    let number = |what: &str| -> Result<u32> {
        value
            .parse()
            .map_err(|_| format!("metadata '{what}' is '{value}', not a count").into())
    };
    match key {
        "driver" => device.driver = Some(value.into()),
        "capturefile" => device.capturefile = Some(value.into()),
        "unitsize" => {
            device.unitsize = usize::try_from(number(key)?).unwrap_or(usize::MAX);
        }
        "total probes" => device.total_probes = number(key)?,
        "total analog" => device.total_analog = number(key)?,
        "samplerate" => device.samplerate = parse_samplerate(value)?,
        _ => {
            let (list, index) = if let Some(n) = key.strip_prefix("probe") {
                (&mut device.probes, n)
            } else if let Some(n) = key.strip_prefix("analog") {
                (&mut device.analog, n)
            } else {
                return Ok(());
            };
            let index: u32 = match index.parse() {
                Ok(i) if i >= 1 => i,
                _ => bail!("metadata key '{key}' should be numbered from 1"),
            };
            if list.iter().any(|(i, _)| *i == index) {
                bail!("metadata key '{key}' appears twice");
            }
            list.push((index, value.into()));
        }
    }
    Ok(())
}

/// A sample rate as libsigrok writes it (`"1 MHz"`, `"2.5 kHz"`, `"200"`) in
/// Hz, read the way libsigrok's `sr_parse_sizestring` reads it: a decimal
/// number, spaces, an optional `k`/`M`/`G` (either case) and an optional
/// `Hz`. `None` for a rate of 0 (a device without one).
pub(super) fn parse_samplerate(text: &str) -> Result<Option<u64>> {
    let bad = || format!("metadata samplerate is '{text}', not a rate like '1 MHz'");
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (int, mut rest) = text.split_at(digits);
    let mut fraction = None;
    if let Some(after) = rest.strip_prefix('.') {
        let end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        fraction = Some(
            format!("0.{}", &after[..end])
                .parse::<f64>()
                .map_err(|_| bad())?,
        );
        rest = &after[end..];
    }
    if int.is_empty() && fraction.is_none() {
        bail!("{}", bad());
    }
    let fraction = fraction.unwrap_or(0.0);
    let int: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let rest = rest.trim_start_matches(' ');
    let (multiplier, unit) = match rest.chars().next() {
        Some('k' | 'K') => (1_000, &rest[1..]),
        Some('m' | 'M') => (1_000_000, &rest[1..]),
        Some('g' | 'G') => (1_000_000_000, &rest[1..]),
        _ => (1, rest),
    };
    if !(unit.is_empty() || unit.eq_ignore_ascii_case("hz")) {
        bail!("{}", bad());
    }
    // libsigrok: size * multiplier, plus the fraction times the multiplier,
    // truncated to whole Hz.
    let hz = int
        .checked_mul(multiplier)
        .map(|hz| (hz as f64 + fraction * multiplier as f64) as u64)
        .ok_or_else(bad)?;
    Ok((hz > 0).then_some(hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_rates_as_libsigrok_writes_them() {
        assert_eq!(parse_samplerate("1 MHz"), Ok(Some(1_000_000)));
        assert_eq!(parse_samplerate("2.0 MHz"), Ok(Some(2_000_000)));
        assert_eq!(parse_samplerate("2.5 kHz"), Ok(Some(2_500)));
        assert_eq!(parse_samplerate("200"), Ok(Some(200)));
        assert_eq!(parse_samplerate("3G"), Ok(Some(3_000_000_000)));
        assert_eq!(parse_samplerate("10 Hz"), Ok(Some(10)));
        assert_eq!(parse_samplerate("0 Hz"), Ok(None));
        for bad in ["fast", "1 MHzz", "1 ms", "", "99999999999999999999 GHz"] {
            let e = parse_samplerate(bad).unwrap_err();
            assert!(e.0.contains("not a rate"), "{bad}: {}", e.0);
        }
    }

    #[test]
    fn reads_the_documented_sections() {
        let text = "[global]\r\nsigrok version=0.5.2\n\n# comment\n[device 1]\ncapturefile=logic-1\n\
                    total probes = 2\nsamplerate=1 MHz\nprobe2=CLK\nprobe1=D0\nunitsize=1\n\
                    total analog=1\nanalog3=A0\n";
        let m = parse(text).unwrap();
        assert_eq!(m.sigrok_version.as_deref(), Some("0.5.2"));
        assert_eq!(m.device.probes, [(1, "D0".into()), (2, "CLK".into())]);
        assert_eq!(m.device.analog, [(3, "A0".into())]);
        assert_eq!(m.device.samplerate, Some(1_000_000));
        assert_eq!(
            (
                m.device.unitsize,
                m.device.total_probes,
                m.device.total_analog
            ),
            (1, 2, 1)
        );
    }

    #[test]
    fn says_what_is_wrong() {
        assert!(parse("[global]\n").unwrap_err().0.contains("no [device 1]"));
        let e = parse("[device 1]\nprobe0=D0\n").unwrap_err();
        assert!(e.0.contains("numbered from 1"), "{}", e.0);
        let e = parse("[device 1]\nunitsize=one\n").unwrap_err();
        assert!(e.0.contains("'unitsize' is 'one'"), "{}", e.0);
        let e = parse("[device 1]\njunk\n").unwrap_err();
        assert!(e.0.contains("line 2"), "{}", e.0);
    }
}
