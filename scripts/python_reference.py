#!/usr/bin/env python3
"""Times the standard workloads' work done the Python way, for comparison with
`tracekit bench`.

The Python TraceKit/oscura ParallelPipeline runs its stages one after another
(its dependency analysis serialises them), so the sequential NumPy/SciPy calls
below are what it spends at best, before its own per-stage overhead. Same
inputs as `tracekit bench` (README, "Performance"): 1 MS/s, sin 10 kHz + 0.1 sin 30 kHz +
0.01 N(0,1).

    pip install numpy scipy
    python3 scripts/python_reference.py          # medians, in ms
"""

import statistics
import time

import numpy as np
from scipy import signal

FS = 1e6


def capture(n, seed):
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * 10e3 * t) + 0.1 * np.sin(2 * np.pi * 30e3 * t) + 0.01 * rng.standard_normal(n)


def fft_db(x):
    w = signal.get_window("hann", len(x))
    nfft = 1 << (len(x) - 1).bit_length()
    a = np.abs(np.fft.rfft(w * (x - x.mean()), nfft)) * 2 / w.sum()
    a[0] /= 2
    if nfft % 2 == 0:
        a[-1] /= 2
    return 20 * np.log10(np.maximum(a, 1e-20))


LOW = signal.butter(4, 50e3, "lowpass", fs=FS, output="sos")
HIGH = signal.butter(4, 1e3, "highpass", fs=FS, output="sos")
BAND = signal.butter(4, [1e3, 50e3], "bandpass", fs=FS, output="sos")


def w0(x):
    for _ in range(4):
        x = x * 2.0
    return x


def w1(x):
    return [signal.sosfiltfilt(LOW, x), signal.sosfiltfilt(HIGH, x), signal.sosfiltfilt(BAND, x), fft_db(x)]


def w2(xs):
    out = []
    for x in xs:
        z = (x - x.mean()) / (x.std() or 1.0)
        out.append(fft_db(signal.sosfiltfilt(LOW, z)))
    return out


def median_ms(f, arg, runs):
    f(arg)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f(arg)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main():
    print(f"numpy {np.__version__}, scipy {__import__('scipy').__version__}")
    print(f"W0  4 chained scales, 1,024 samples     {1e3 * median_ms(w0, capture(1024, 1), 201):10.3f} us")
    print(f"W1  fan-out of 4 stages, 2^20 samples   {median_ms(w1, capture(1 << 20, 2), 7):10.2f} ms")
    batch = [capture(65536, 100 + k) for k in range(64)]
    print(f"W2  64 x 65,536 samples, 3-stage chain  {median_ms(w2, batch, 7):10.2f} ms")


if __name__ == "__main__":
    main()
