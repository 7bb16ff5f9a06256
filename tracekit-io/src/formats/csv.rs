//! CSV: one column of samples, or a time column and value columns.

use tracekit_core::{Trace, TraceMeta};

use crate::{
    error::{Result, bail},
    registry::{Format, Input},
};

/// Text with numbers in columns.
pub(crate) const FORMAT: Format = Format {
    name: "CSV",
    probe,
    read,
};

fn probe(input: &Input<'_>) -> bool {
    let head = &input.data[..input.data.len().min(4096)];
    !head.is_empty() && std::str::from_utf8(head).is_ok()
}

fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let Ok(text) = std::str::from_utf8(input.data) else {
        bail!("not UTF-8 text");
    };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut width = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        let parsed: std::result::Result<Vec<f64>, _> =
            fields.iter().map(|f| parse_number(f)).collect();
        match parsed {
            Ok(values) => {
                let w = *width.get_or_insert(values.len());
                if values.len() != w {
                    bail!(
                        "line {}: {} columns, expected {w}",
                        number + 1,
                        values.len()
                    );
                }
                rows.push(values);
            }
            Err(_) if rows.is_empty() && width.is_none() => {}
            Err(bad) => bail!("line {}: not a number: {bad:?}", number + 1),
        }
    }
    let Some(width) = width else {
        bail!("no numeric rows");
    };
    if width == 1 {
        let Some(rate) = input.options.sample_rate else {
            bail!(
                "a one-column CSV file does not say its sample rate; give one (--sample-rate HZ)"
            );
        };
        let samples = rows.into_iter().map(|r| r[0]).collect();
        return Ok(vec![Trace::new(samples, rate)?]);
    }
    let times: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let rate = uniform_rate(&times)?;
    let mut meta = TraceMeta::new(rate);
    meta.start = times[0];
    (1..width)
        .map(|c| {
            Ok(Trace::with_meta(
                rows.iter().map(|r| r[c]).collect(),
                meta.clone(),
            )?)
        })
        .collect()
}

fn parse_number(field: &str) -> std::result::Result<f64, String> {
    match field.to_ascii_lowercase().as_str() {
        "nan" => Ok(f64::NAN),
        "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
        "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
        _ => field.parse::<f64>().map_err(|_| field.to_owned()),
    }
}

fn uniform_rate(times: &[f64]) -> Result<f64> {
    if times.len() < 2 {
        bail!("a time,value file needs at least two rows to know its sample rate");
    }
    let n = times.len();
    let dt = (times[n - 1] - times[0]) / (n - 1) as f64;
    if !(dt.is_finite() && dt > 0.0) {
        bail!(
            "time stamps must increase; first {} last {}",
            times[0],
            times[n - 1]
        );
    }
    for (i, w) in times.windows(2).enumerate() {
        let step = w[1] - w[0];
        if (step - dt).abs() > 1e-3 * dt {
            bail!(
                "time stamps are not evenly spaced: step {step} between rows {} and {}, expected {dt}",
                i + 1,
                i + 2
            );
        }
    }
    Ok(1.0 / dt)
}
