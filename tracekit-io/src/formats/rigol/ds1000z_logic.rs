//! The logic-analyser lanes of MSO1000Z captures, recognised as RigolWFM
//! 1.6.0 does (`rigol_1000z_logic`): the documented DS1000Z layout does not
//! describe them, so a lane counts as logic when its values are few (at most
//! 8 distinct) and each is 0 or a single bit.
//!
//! - No analog channel enabled and an even number of bytes: two interleaved
//!   lanes, both logic.
//! - One analog channel and a multiple of 4 bytes: four lanes, where lanes 0
//!   and 2 are logic and lane 1 is the analog channel.
//!
//! Anything else is the plain analog layout. Logic lanes become one 0/1
//! trace per bit ever set: `D0`..`D7` from the first lane and `D8`..`D15`
//! from the second, unless the second mirrors the first (same bits, same
//! edges within a sample), when only `D0`..`D7` are kept.

use super::common::{Channel, start_sample_aligned};
use crate::convert::{ByteOrder, SampleType, decode};

/// The lanes of a payload in the logic layout.
#[derive(Debug)]
pub(super) struct Split {
    /// The one analog channel's codes, when one is enabled.
    pub(super) analog: Option<Vec<u8>>,
    /// The two logic byte lanes.
    pub(super) logic: [Vec<u8>; 2],
}

/// Every `stride`-th byte of `raw` from `lane`.
fn lane(raw: &[u8], lane: usize, stride: usize) -> impl Iterator<Item = u8> + '_ {
    raw.iter().skip(lane).step_by(stride).copied()
}

/// `_looks_like_single_bit_logic`: at most 8 distinct values, each 0 or a power of two.
fn single_bit_logic(values: impl Iterator<Item = u8>) -> bool {
    let mut seen = [false; 256];
    let mut any = false;
    for v in values {
        seen[usize::from(v)] = true;
        any = true;
    }
    let distinct: Vec<usize> = (0..256).filter(|&v| seen[v]).collect();
    any && distinct.len() <= 8 && distinct.iter().all(|&v| v & v.wrapping_sub(1) == 0)
}

/// `split_raw_payload`: the payload's lanes when it is in the logic layout.
pub(super) fn split(raw: &[u8], analog_channels: usize) -> Option<Split> {
    let collect = |k, stride| lane(raw, k, stride).collect::<Vec<u8>>();
    match analog_channels {
        0 if raw.len() % 2 == 0
            && single_bit_logic(lane(raw, 0, 2))
            && single_bit_logic(lane(raw, 1, 2)) =>
        {
            Some(Split {
                analog: None,
                logic: [collect(0, 2), collect(1, 2)],
            })
        }
        1 if raw.len() % 4 == 0
            && single_bit_logic(lane(raw, 0, 4))
            && single_bit_logic(lane(raw, 2, 4)) =>
        {
            Some(Split {
                analog: Some(collect(1, 4)),
                logic: [collect(0, 4), collect(2, 4)],
            })
        }
        _ => None,
    }
}

/// The bits ever set in a lane.
fn active_bits(values: &[u8]) -> Vec<u32> {
    let mask = values.iter().fold(0u8, |m, &v| m | v);
    (0..8).filter(|&bit| mask >> bit & 1 != 0).collect()
}

/// Indices `i` where `values[i + 1] != values[i]`.
fn transitions(values: &[u8]) -> Vec<usize> {
    values
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] != w[1])
        .map(|(i, _)| i)
        .collect()
}

/// `looks_like_mirrored_low_byte`: the two lanes carry the same bits with
/// the same edges (within one sample), so the second is a copy of the first.
fn mirrored(a: &[u8], b: &[u8]) -> bool {
    let bits = active_bits(a);
    if bits.is_empty() || bits != active_bits(b) {
        return false;
    }
    let count = a.len().min(b.len());
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    if count == 0 || (equal as f64 / count as f64) < 0.9999 {
        return false;
    }
    let (ta, tb) = (transitions(a), transitions(b));
    if ta.is_empty() || ta.len() != tb.len() {
        return false;
    }
    let deltas: Vec<usize> = ta.iter().zip(&tb).map(|(x, y)| x.abs_diff(*y)).collect();
    let max = deltas.iter().copied().max().unwrap_or(0);
    let mean = deltas.iter().sum::<usize>() as f64 / deltas.len() as f64;
    max <= 1 && mean <= 0.5
}

/// One 0/1 trace per active bit of the logic lanes, timed like the analog
/// channels: the record centred on `time_offset`.
pub(super) fn traces(split: &Split, time_offset: f64, seconds_per_point: f64) -> Vec<Channel> {
    let [low, high] = &split.logic;
    let start = start_sample_aligned(time_offset, low.len() as u64, seconds_per_point);
    let (lanes, mapping): (Vec<(&[u8], u32)>, &str) = if mirrored(low, high) {
        (vec![(low, 0)], "mirrored D7-D0 byte lanes")
    } else {
        (vec![(low, 0), (high, 8)], "D7-D0 + D15-D8 byte lanes")
    };
    let mut out = Vec::new();
    for (values, base) in lanes {
        for bit in active_bits(values) {
            let samples = decode(values, SampleType::U8, ByteOrder::Little, |code| {
                f64::from((code as u8) >> bit & 1)
            });
            let mut channel = Channel::new(
                format!("D{}", base + bit),
                samples,
                seconds_per_point,
                start,
            )
            .with("logic_mapping", mapping);
            channel.units = String::new();
            out.push(channel);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logic_lanes_are_recognised_by_their_values() {
        // One analog channel (lane 1) between two logic lanes.
        let raw = [0, 100, 1, 0, 2, 101, 1, 0, 0, 102, 0, 0, 2, 103, 1, 0];
        let split = split(&raw, 1).unwrap();
        assert_eq!(split.analog.as_deref(), Some(&[100, 101, 102, 103][..]));
        let traces = traces(&split, 0.0, 1.0);
        let names: Vec<&str> = traces.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["D1", "D8"]);
        assert_eq!(traces[0].samples, [0.0, 1.0, 0.0, 1.0]);
        // Analog-looking lanes are not logic.
        assert!(split_is_none(&[10, 20, 30, 40, 50, 60, 70, 80]));
    }

    fn split_is_none(raw: &[u8]) -> bool {
        split(raw, 1).is_none() && split(raw, 0).is_none()
    }

    #[test]
    fn a_copied_lane_is_one_byte() {
        let a = [0, 1, 1, 0, 1];
        assert!(mirrored(&a, &a));
        assert!(!mirrored(&a, &[0, 0, 1, 0, 1]));
    }
}
