//! Reader conversion speed: 8-bit codes to f64 volts, against a memcpy of
//! the same f64 output into the same, already-faulted buffer.
//!
//! 256 MiB of codes by default (2 GiB of output); `TRACEKIT_BENCH_MIB` sets
//! another size. The conversion is `decode_append`, the loop every reader
//! uses; the target is to stay within 2x of the copy.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tracekit_io::convert::{ByteOrder, SampleType, decode_append};

fn codes_to_volts(c: &mut Criterion) {
    let mib: usize = std::env::var("TRACEKIT_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let n = mib << 20;
    let codes: Vec<u8> = (0..n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    let volts = |code: f64| (code - 127.0) * 0.04;
    // The output buffer, allocated and faulted in once; both benches write into it.
    let mut out: Vec<f64> = Vec::with_capacity(n);
    decode_append(&codes, SampleType::U8, ByteOrder::Little, &mut out, volts);
    let reference = out.clone();

    let mut group = c.benchmark_group("convert-256MiB-u8");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(n as u64));
    group.bench_function("u8-to-f64-volts", |b| {
        b.iter(|| {
            out.clear();
            decode_append(&codes, SampleType::U8, ByteOrder::Little, &mut out, volts);
            assert_eq!(out.len(), n);
        })
    });
    group.bench_function("memcpy-f64", |b| b.iter(|| out.copy_from_slice(&reference)));
    group.finish();
}

criterion_group!(benches, codes_to_volts);
criterion_main!(benches);
