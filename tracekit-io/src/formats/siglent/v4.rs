//! What only Binary Format V4.0 holds: unit descriptors, math (F1-F4) traces
//! and zoom (Z1-Z4) saves (RigolWFM `siglent.py`: `_unit_from_words`,
//! `_v4_math_traces`, the zoom branch of `_normalize_v4`).

use std::collections::BTreeMap;

use super::{
    fixed::{Conversion, Planned},
    scaled,
};
use crate::{
    bytes::Bytes,
    error::{Result, bail},
    registry::Input,
};

/// `zoom_switch` (s4): nonzero when the file is a zoom trace.
const ZOOM_SWITCH: usize = 0xAF4;
/// `zoom_td_val`: the zoom window's s/div.
const ZOOM_TD_VAL: usize = 0xAF8;
/// `zoom_trig_delay_val`: the zoom window's centre (s).
const ZOOM_TRIG_DELAY_VAL: usize = 0xB20;
/// `hori_div_num` (s4): horizontal divisions.
const HORI_DIV_NUM: usize = 0x26C;
/// `math_switch` (4 × s4).
const MATH_SWITCH: usize = 0x280;
/// `math_volt_div` (4 × data-with-unit).
const MATH_VOLT_DIV: usize = 0x290;
/// `math_vert_pos` (4 × data-with-unit).
const MATH_VERT_POS: usize = 0x330;
/// `math_store_len` (4 × u4): samples of each math trace.
const MATH_STORE_LEN: usize = 0x3D0;
/// `math_f_time` (4 × f8): sample interval of each math trace (s).
const MATH_F_TIME: usize = 0x3E0;
/// `math_vert_code_per_div` (s4), shared by the math traces.
const MATH_VERT_CODE_PER_DIV: usize = 0x400;

/// Whether the file is a zoom save.
pub(super) fn is_zoom(b: &Bytes<'_>) -> Result<bool> {
    Ok(b.i32(ZOOM_SWITCH)? != 0)
}

/// The time of a zoom save's first sample: the window's centre is at
/// `+zoom_trig_delay_val` (the opposite sign to the main `time_delay`).
pub(super) fn zoom_start(b: &Bytes<'_>) -> Result<f64> {
    let time_div = scaled(b, ZOOM_TD_VAL, "zoom_td_val")?;
    let delay = scaled(b, ZOOM_TRIG_DELAY_VAL, "zoom_trig_delay_val")?;
    let grid = f64::from(b.i32(HORI_DIV_NUM)?);
    Ok(delay - time_div * grid / 2.0)
}

/// The unit a data-with-unit field at `field` names, from its seven-word
/// descriptor `[type, V_num, V_den, A_num, A_den, s_num, s_den]`: type 0
/// composes powers of volts, amps and seconds; the others name a unit.
pub(super) fn units(b: &Bytes<'_>, field: usize) -> Result<String> {
    let mut words = [0u32; 7];
    for (k, word) in words.iter_mut().enumerate() {
        *word = b.u32(field + 12 + 4 * k)?;
    }
    Ok(unit_name(words))
}

/// The unit a seven-word descriptor names (`""` where none fits).
fn unit_name(words: [u32; 7]) -> String {
    let named = match words[0] {
        0 => None,
        1 => Some("dBV"),
        2 => Some("dBA"),
        3 => Some("dB"),
        // Vpp and Vdc are volts.
        4 | 5 => Some("V"),
        6 => Some("dBm"),
        7 => Some("Sa"),
        8 => Some("div"),
        9 => Some("pts"),
        11 => Some("deg"),
        12 => Some("%"),
        _ => Some(""),
    };
    if let Some(name) = named {
        return name.to_owned();
    }
    let power = |num: u32, den: u32| (den != 0).then(|| f64::from(num) / f64::from(den));
    let (Some(v), Some(a), Some(s)) = (
        power(words[1], words[2]),
        power(words[3], words[4]),
        power(words[5], words[6]),
    ) else {
        return String::new();
    };
    if (v, a, s) == (1.0, 1.0, 0.0) {
        return "W".to_owned();
    }
    [("V", v), ("A", a), ("s", s)]
        .iter()
        .filter(|(_, e)| *e != 0.0)
        .map(|(sym, e)| {
            if *e == 1.0 {
                (*sym).to_owned()
            } else {
                format!("{sym}^{e}")
            }
        })
        .collect::<Vec<_>>()
        .join("*")
}

/// The enabled math traces, F1 to F4, stored after the analog channels.
pub(super) fn math_traces(input: &Input<'_>, b: &Bytes<'_>) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    for i in 0..4 {
        let points = b.u32(MATH_STORE_LEN + 4 * i)?;
        if b.i32(MATH_SWITCH + 4 * i)? == 0 || points == 0 {
            continue;
        }
        let name = format!("F{}", i + 1);
        input.check_samples(u64::from(points))?;
        let code_per_div = f64::from(b.i32(MATH_VERT_CODE_PER_DIV)?);
        if code_per_div <= 0.0 {
            bail!("{name}'s math_vert_code_per_div is {code_per_div}, it must be positive");
        }
        let interval = b.f64(MATH_F_TIME + 8 * i)?;
        if !(interval.is_finite() && interval > 0.0) {
            bail!("{name}'s math_f_time is {interval} s, it must be positive");
        }
        let field = MATH_VOLT_DIV + 40 * i;
        let volt_div = scaled(b, field, "math_volt_div")?;
        let position = scaled(b, MATH_VERT_POS + 40 * i, "math_vert_pos")?;
        let mut attributes = BTreeMap::from([
            ("vertical_offset".to_owned(), format!("{position}")),
            ("code_per_div".to_owned(), format!("{code_per_div}")),
        ]);
        if volt_div > 0.0 {
            attributes.insert("volts_per_div".into(), format!("{volt_div}"));
        }
        out.push(Planned {
            label: name,
            points: u64::from(points),
            conversion: Conversion::Math {
                scale: volt_div / code_per_div,
                position,
            },
            sample_rate: 1.0 / interval,
            units: units(b, field)?,
            attributes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_descriptors() {
        assert_eq!(unit_name([0, 1, 1, 0, 1, 0, 1]), "V");
        assert_eq!(unit_name([0, 0, 1, 1, 1, 0, 1]), "A");
        assert_eq!(unit_name([0, 1, 1, 1, 1, 0, 1]), "W");
        assert_eq!(unit_name([0, 0, 1, 0, 1, 1, 1]), "s");
        assert_eq!(unit_name([0, 2, 1, 0, 1, 0, 1]), "V^2");
        assert_eq!(unit_name([5, 0, 0, 0, 0, 0, 0]), "V");
        assert_eq!(unit_name([3, 0, 0, 0, 0, 0, 0]), "dB");
        assert_eq!(unit_name([0, 1, 0, 0, 0, 0, 0]), "");
    }
}
