//! What the Rigol layouts share: the raw-code conversion, the two ways
//! RigolWFM places the first sample in time, the probe-ratio table, and the
//! making of one trace.

use tracekit_core::{Trace, TraceMeta};

use crate::{
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
};

/// RigolWFM's `calc_times_and_volts`: an 8-bit code to volts,
/// `y_scale * (midpoint - code) - y_offset`, in that order of operations.
pub(super) fn volts_from_codes(raw: &[u8], y_scale: f64, y_offset: f64, midpoint: f64) -> Vec<f64> {
    decode(raw, SampleType::U8, ByteOrder::Little, |code| {
        y_scale * (midpoint - code) - y_offset
    })
}

/// The first sample's time when the record is centred on `time_offset`
/// (`calc_times_and_volts(sample_aligned=True)`):
/// `time_offset - depth * seconds_per_point / 2`, where `depth` is the
/// acquisition's memory depth (or the points, where the family passes none).
pub(super) fn start_sample_aligned(time_offset: f64, depth: u64, seconds_per_point: f64) -> f64 {
    time_offset - depth as f64 * seconds_per_point / 2.0
}

/// The first sample's time of the older families (DS1000B/C), whose times
/// RigolWFM spreads with `linspace(-h, h, points) + time_offset`,
/// `h = points * seconds_per_point / 2`: the first is `-h + time_offset`.
pub(super) fn start_linspace(time_offset: f64, points: u64, seconds_per_point: f64) -> f64 {
    let h = points as f64 * seconds_per_point / 2.0;
    -h + time_offset
}

/// An error unless the header declares some points: a capture of none is a
/// damaged header, not an empty record.
pub(super) fn require_points(points: u64, what: &str) -> Result<()> {
    if points == 0 {
        bail!("the header says {what} holds 0 points");
    }
    Ok(())
}

/// The probe attenuation of a `probe_ratio` code (`x0_01` .. `x1000`); a code
/// beyond the table reads as 1000, as the Kaitai expression's last branch does.
pub(super) fn probe_ratio(code: u8) -> f64 {
    const RATIOS: [f64; 16] = [
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0,
        1000.0,
    ];
    RATIOS[usize::from(code).min(RATIOS.len() - 1)]
}

/// The `unit` enum of the WFM channel headers (`w`, `a`, `v`, `u`), as a unit
/// name; an unknown code has none.
pub(super) fn wfm_unit(code: u8) -> &'static str {
    match code {
        0 => "W",
        1 => "A",
        2 => "V",
        3 => "U",
        _ => "",
    }
}

/// The `coupling` enum of the WFM channel headers (`dc`, `ac`, `gnd`).
pub(super) fn coupling(code: u8) -> Option<&'static str> {
    match code {
        0 => Some("DC"),
        1 => Some("AC"),
        2 => Some("GND"),
        _ => None,
    }
}

/// One channel, read: its samples, time base and what the file says about it.
#[derive(Debug)]
pub(super) struct Channel {
    /// The label, `CH1`.
    pub(super) name: String,
    /// Samples in `units`.
    pub(super) samples: Vec<f64>,
    /// Seconds between samples, from the header.
    pub(super) seconds_per_point: f64,
    /// Time of the first sample, s.
    pub(super) start: f64,
    /// `V`, or the channel's unit.
    pub(super) units: String,
    /// The file's facts about this channel (`coupling`, `probe`, ...).
    pub(super) attributes: Vec<(&'static str, String)>,
}

impl Channel {
    /// A channel in volts with no attributes yet.
    pub(super) fn new(
        name: String,
        samples: Vec<f64>,
        seconds_per_point: f64,
        start: f64,
    ) -> Channel {
        Channel {
            name,
            samples,
            seconds_per_point,
            start,
            units: "V".into(),
            attributes: Vec::new(),
        }
    }

    /// Adds an attribute.
    pub(super) fn with(mut self, key: &'static str, value: impl ToString) -> Channel {
        self.attributes.push((key, value.to_string()));
        self
    }

    /// Adds an attribute where there is a value.
    pub(super) fn with_some(self, key: &'static str, value: Option<impl ToString>) -> Channel {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }
}

/// The traces of `channels`, each with `vendor` = `Rigol`, the file-wide
/// attributes `file` (empty values left out) and its own.
pub(super) fn traces(
    channels: Vec<Channel>,
    file: &[(&'static str, String)],
) -> Result<Vec<Trace>> {
    channels
        .into_iter()
        .map(|channel| {
            let spp = channel.seconds_per_point;
            if !(spp.is_finite() && spp > 0.0) {
                bail!(
                    "{}: the header's sample interval is {spp} s, not a positive number",
                    channel.name
                );
            }
            let mut meta = TraceMeta {
                sample_rate: 1.0 / spp,
                start: channel.start,
                channel: channel.name,
                units: channel.units,
                ..TraceMeta::default()
            };
            meta.attributes.insert("vendor".into(), "Rigol".into());
            for (key, value) in file.iter().chain(&channel.attributes) {
                if !value.is_empty() {
                    meta.attributes.insert((*key).into(), value.clone());
                }
            }
            Ok(Trace::with_meta(channel.samples, meta)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_convert_with_the_midpoint() {
        assert_eq!(volts_from_codes(&[127, 128], 0.5, 1.0, 127.0), [-1.0, -1.5]);
    }

    #[test]
    fn starts() {
        assert_eq!(start_sample_aligned(1.0, 4, 0.5), 0.0);
        assert_eq!(start_linspace(1.0, 4, 0.5), 0.0);
    }

    #[test]
    fn probe_table_saturates() {
        assert_eq!(probe_ratio(9), 10.0);
        assert_eq!(probe_ratio(200), 1000.0);
    }

    #[test]
    fn a_bad_interval_is_an_error() {
        let channel = Channel::new("CH1".into(), vec![0.0], 0.0, 0.0);
        let e = traces(vec![channel], &[]).unwrap_err();
        assert!(e.0.contains("sample interval is 0 s"), "{}", e.0);
    }
}
