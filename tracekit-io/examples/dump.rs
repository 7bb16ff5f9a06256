//! Prints every trace of each capture as one JSON line (samples included):
//! what the scripts that check the readers against reference libraries read.
//!
//! `cargo run --release -p tracekit-io --example dump -- FILE... [--sample-rate HZ]`

use tracekit_io::{ReadOptions, trace_to_json};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = ReadOptions::new();
    if let Some(i) = args.iter().position(|a| a == "--sample-rate") {
        let rate = args
            .get(i + 1)
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("--sample-rate needs a number");
                std::process::exit(2)
            });
        options = options.sample_rate(rate);
        args.drain(i..i + 2);
    }
    let mut failed = false;
    for path in &args {
        match tracekit_io::read_with(path, &options) {
            Ok(traces) => {
                let traces: Vec<_> = traces.iter().map(trace_to_json).collect();
                println!("{}", serde_json::json!({"path": path, "traces": traces}));
            }
            Err(e) => {
                failed = true;
                println!(
                    "{}",
                    serde_json::json!({"path": path, "error": e.to_string()})
                );
            }
        }
    }
    std::process::exit(i32::from(failed));
}
