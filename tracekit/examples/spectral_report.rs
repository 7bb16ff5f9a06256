//! Spectral report of a WAV file: fundamental, THD, SNR, SINAD, ENOB and
//! SFDR of every channel, from the `spectral_metrics` built-in.
//!
//! ```text
//! cargo run --release -p tracekit --example spectral_report -- capture.wav
//! cargo run --release -p tracekit --example spectral_report      # synthetic WAV
//! ```
//!
//! With no argument it first writes a synthetic two-channel WAV (a 1 kHz tone
//! with a third harmonic and noise) to a temporary directory and reports on that.

use std::{
    f64::consts::TAU,
    path::{Path, PathBuf},
    process::ExitCode,
};

use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};
use tracekit::{dsp, io, prelude::*};

/// Writes 1 s of 48 kHz, 32-bit float stereo: the left channel has a third
/// harmonic at -40 dB, the right one at -20 dB; both carry a little noise.
fn synthetic_wav(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("synthetic.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut rng = StdRng::seed_from_u64(7);
    let mut wav = hound::WavWriter::create(&path, spec)?;
    for k in 0..48_000 {
        let t = f64::from(k) / 48e3;
        let tone = 0.5 * (TAU * 1e3 * t).sin();
        for harmonic in [0.005, 0.05] {
            let noise: f64 = StandardNormal.sample(&mut rng);
            let x = tone + harmonic * (TAU * 3e3 * t).sin() + 1e-4 * noise;
            wav.write_sample(x as f32)?;
        }
    }
    wav.finalize()?;
    Ok(path)
}

fn main() -> ExitCode {
    match report() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn report() -> Result<(), Box<dyn std::error::Error>> {
    let path = match std::env::args_os().nth(1) {
        Some(arg) => PathBuf::from(arg),
        None => {
            let dir = std::env::temp_dir().join("tracekit-spectral-report");
            let path = synthetic_wav(&dir)?;
            println!("no file given; wrote {}", path.display());
            path
        }
    };

    let metrics = dsp::build(
        "spectral_metrics",
        &Params::from([
            ("n_harmonics".to_owned(), ParamValue::Int(5)),
            ("window".to_owned(), ParamValue::from("blackman")),
        ]),
    )?;
    let pipeline = Pipeline::new([Step::boxed("metrics", metrics)])?;

    for named in io::read_named(&path, &io::ReadOptions::new())? {
        let run = pipeline.run(&named.trace)?;
        let m = |key: &str| run.output().measurement(key).unwrap_or(f64::NAN);
        println!(
            "\n{}: {} samples at {} Hz",
            named.name,
            named.trace.len(),
            named.trace.sample_rate()
        );
        println!("  fundamental  {:>10.2} Hz", m("fundamental_hz"));
        println!("  THD          {:>10.2} dB", m("thd_db"));
        println!("  SNR          {:>10.2} dB", m("snr_db"));
        println!("  SINAD        {:>10.2} dB", m("sinad_db"));
        println!("  ENOB         {:>10.2} bits", m("enob_bits"));
        println!("  SFDR         {:>10.2} dB", m("sfdr_db"));
    }
    Ok(())
}
