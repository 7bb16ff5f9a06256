//! Sets `cfg(tracekit_avx512)` when the compiler accepts the AVX-512 target
//! features (stable since Rust 1.89), so that the widest copies of the
//! vectorised loops are built where the compiler can build them and left
//! out, not failing the build, on older compilers.

use std::{env, process::Command};

/// The first compiler release with the AVX-512 target features stable.
const AVX512_MINOR: u32 = 89;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tracekit_avx512)");
    println!("cargo::rerun-if-changed=build.rs");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok());
    // "rustc 1.95.0 (59807616e 2026-04-14)": the minor version.
    let minor = version.as_deref().and_then(|v| {
        let release = v.split_whitespace().nth(1)?;
        let mut parts = release.split('.');
        (parts.next()? == "1").then_some(())?;
        parts.next()?.parse::<u32>().ok()
    });
    if minor.is_some_and(|m| m >= AVX512_MINOR) {
        println!("cargo::rustc-cfg=tracekit_avx512");
    }
}
