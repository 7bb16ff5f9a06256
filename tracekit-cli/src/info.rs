//! `tracekit info`: what a capture holds, as tracekit reads it.

use std::path::PathBuf;

use clap::Args;
use tracekit::{
    Domain, Trace,
    io::{NamedTrace, ReadOptions},
};

use crate::{
    failure::Failure,
    table::{Align, Table, grouped},
};

const EXAMPLES: &str = "\
Examples:
  tracekit info examples/captures/tone-ds1054z.wfm   format, instrument, and per channel its
                                                     samples, rate, duration, units and range
  tracekit info examples/captures/*.bin --json       the same as one JSON object per line
  tracekit info examples/captures/tone-numpy.npy --sample-rate 1e6   NPY files carry no rate

Exit status: 0 when every file was read; 1 when some could not be (each is
named on stderr, the others are still described).";

/// Arguments of `tracekit info`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct InfoArgs {
    /// Capture files (any format `tracekit run` reads).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// One JSON object per file instead of a table.
    #[arg(long)]
    json: bool,
    /// Samples per second, for files that do not say theirs (one-column CSV, NPY).
    #[arg(long, value_name = "HZ")]
    sample_rate: Option<f64>,
}

/// Runs `tracekit info`.
pub(crate) fn run(args: &InfoArgs) -> Result<(), Failure> {
    let mut options = ReadOptions::new();
    if let Some(rate) = args.sample_rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Failure::Usage(format!(
                "--sample-rate must be finite and greater than 0, got {rate}"
            )));
        }
        options = options.sample_rate(rate);
    }
    let mut failed = Vec::new();
    for path in &args.files {
        match tracekit::io::read_named(path, &options) {
            Ok(traces) if args.json => outln!("{}", describe_json(path, &traces)),
            Ok(traces) => out!("{}", describe(path, &traces)),
            Err(e) => {
                eprintln!("error: {e}");
                failed.push(path.display().to_string());
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} of {} files could not be read: {}",
            failed.len(),
            args.files.len(),
            failed.join(", ")
        )))
    }
}

/// The attributes every trace of a file shares, with `format` and `source` left out.
fn shared_attribute<'a>(traces: &'a [NamedTrace], key: &str) -> Option<&'a str> {
    let first = traces.first()?.trace.meta().attributes.get(key)?;
    traces
        .iter()
        .all(|t| t.trace.meta().attributes.get(key) == Some(first))
        .then_some(first.as_str())
}

fn min_max(trace: &Trace) -> Option<(f64, f64)> {
    trace
        .samples()
        .iter()
        .filter(|x| x.is_finite())
        .fold(None, |acc, &x| match acc {
            None => Some((x, x)),
            Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
        })
}

/// A number with an SI prefix and a unit: `1.25 MSa/s`, `500 us`.
fn si(value: f64, unit: &str) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value} {unit}");
    }
    const PREFIXES: [(f64, &str); 9] = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "u"),
        (1e-9, "n"),
        (1e-12, "p"),
    ];
    let (scale, prefix) = PREFIXES
        .iter()
        .find(|(s, _)| value.abs() >= *s * 0.999_999)
        .copied()
        .unwrap_or((1e-12, "p"));
    let scaled = value / scale;
    let text = format!("{scaled:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {prefix}{unit}")
}

fn x_unit(trace: &Trace) -> (&'static str, &'static str) {
    match trace.meta().domain {
        Domain::Time => ("Sa/s", "s"),
        Domain::Frequency => ("pt/Hz", "Hz"),
    }
}

/// The table form: one heading line per file, one row per channel, then the
/// attributes.
fn describe(path: &std::path::Path, traces: &[NamedTrace]) -> String {
    let mut heading = format!(
        "{}: {}",
        path.display(),
        shared_attribute(traces, "format").unwrap_or("?")
    );
    let instrument: Vec<&str> = ["vendor", "model"]
        .iter()
        .filter_map(|k| shared_attribute(traces, k))
        .collect();
    if !instrument.is_empty() {
        heading.push_str(&format!(", {}", instrument.join(" ")));
    }
    heading.push_str(&format!(
        ", {} trace{}\n",
        traces.len(),
        if traces.len() == 1 { "" } else { "s" }
    ));
    let mut table = Table::new(&[
        ("input", Align::Left),
        ("channel", Align::Left),
        ("samples", Align::Right),
        ("rate", Align::Right),
        ("start", Align::Right),
        ("duration", Align::Right),
        ("units", Align::Left),
        ("min", Align::Right),
        ("max", Align::Right),
    ]);
    for named in traces {
        let t = &named.trace;
        let meta = t.meta();
        let (rate_unit, x) = x_unit(t);
        let (lo, hi) = min_max(t).map_or((String::new(), String::new()), |(lo, hi)| {
            (format!("{lo:.6}"), format!("{hi:.6}"))
        });
        table.row([
            named.name.clone(),
            meta.channel.clone(),
            grouped(t.len()),
            si(meta.sample_rate, rate_unit),
            si(meta.start, x),
            si(t.len() as f64 / meta.sample_rate, x),
            meta.units.clone(),
            lo,
            hi,
        ]);
    }
    let mut text = heading + &table.render(2);
    for named in traces {
        let attributes: Vec<String> = named
            .trace
            .meta()
            .attributes
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "format" | "source"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !attributes.is_empty() {
            text.push_str(&format!("  {}: {}\n", named.name, attributes.join(", ")));
        }
    }
    text
}

fn number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The JSON form: `{"path", "format", "vendor", "model", "traces": [...]}`.
fn describe_json(path: &std::path::Path, traces: &[NamedTrace]) -> serde_json::Value {
    let channels: Vec<serde_json::Value> = traces
        .iter()
        .map(|named| {
            let t = &named.trace;
            let meta = t.meta();
            let (lo, hi) = min_max(t).unwrap_or((f64::NAN, f64::NAN));
            serde_json::json!({
                "input": named.name,
                "channel": meta.channel,
                "samples": t.len(),
                "sample_rate": meta.sample_rate,
                "start": number(meta.start),
                "duration": number(t.len() as f64 / meta.sample_rate),
                "domain": meta.domain.to_string(),
                "units": meta.units,
                "min": number(lo),
                "max": number(hi),
                "attributes": meta.attributes,
            })
        })
        .collect();
    serde_json::json!({
        "path": path.display().to_string(),
        "format": shared_attribute(traces, "format"),
        "vendor": shared_attribute(traces, "vendor"),
        "model": shared_attribute(traces, "model"),
        "traces": channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes() {
        assert_eq!(si(1.25e6, "Sa/s"), "1.25 MSa/s");
        assert_eq!(si(5e-4, "s"), "500 us");
        assert_eq!(si(-0.001, "s"), "-1 ms");
        assert_eq!(si(0.0, "s"), "0 s");
        assert_eq!(si(44100.0, "Sa/s"), "44.1 kSa/s");
    }
}
