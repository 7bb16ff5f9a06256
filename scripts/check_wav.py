#!/usr/bin/env python3
"""Reads SciPy's own WAV test files (scipy/io/tests/data/*.wav) with
tracekit and with scipy.io.wavfile.read, and sorts each file into one of:

    read alike     both read it: same channels, rate, and samples equal to
                   SciPy's after tracekit's documented scaling (exactly)
    refused alike  both refuse it (tracekit's message is printed)
    disagree       anything else

    python3 scripts/check_wav.py [DIR]     # exit status 1 if any disagree
"""

import glob
import os
import sys
import warnings

import numpy as np
import scipy
from scipy.io import wavfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkcapture  # noqa: E402

CORPUS = os.path.join(os.path.dirname(scipy.__file__), "io", "tests", "data")


def scaled(data):
    """SciPy's integers scaled to [-1, 1) as tracekit documents; floats as stored."""
    if data.dtype.kind == "u":
        return (data.astype(np.float64) - 128) / 128
    if data.dtype.kind == "i":
        return data.astype(np.float64) / 2.0 ** (8 * data.dtype.itemsize - 1)
    return data.astype(np.float64)


def scipy_read(path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except Exception as e:  # noqa: BLE001 - every refusal counts as one
        return None, f"{type(e).__name__}: {e}"
    values = scaled(data)
    return (rate, [values] if values.ndim == 1 else list(values.T)), None


def same(ours, rate, channels):
    """None if tracekit's traces are SciPy's reading, else what differs."""
    if len(ours) != len(channels):
        return f"{len(ours)} traces, SciPy has {len(channels)} channels"
    for k, (trace, want) in enumerate(zip(ours, channels)):
        if trace["sample_rate"] != float(rate):
            return f"channel {k}: rate {trace['sample_rate']}, SciPy {rate}"
        if trace["channel"] != "":
            return f"channel {k}: label {trace['channel']!r}, expected none"
        why = tkcapture.compare_samples(trace["samples"], want, rtol=0.0, atol=0.0)
        if why:
            return f"channel {k}: {why}"
    return None


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else CORPUS
    paths = sorted(glob.glob(os.path.join(folder, "*.wav")))
    if not paths:
        sys.exit(f"no .wav files in {folder}")
    report = tkcapture.Report("SciPy WAV corpus")
    counts = {"read alike": 0, "refused alike": 0, "disagree": 0}
    for path, ours in zip(paths, tkcapture.dump(paths)):
        name = os.path.basename(path)
        reference, refusal = scipy_read(path)
        if "error" in ours and refusal:
            counts["refused alike"] += 1
            report.good(name, f"refused alike: tracekit: {ours['error'].split(': ', 1)[1]} "
                              f"| SciPy: {refusal}")
        elif "error" in ours:
            counts["disagree"] += 1
            report.bad(name, f"tracekit refuses ({ours['error']}), SciPy reads it")
        elif refusal:
            counts["disagree"] += 1
            report.bad(name, f"tracekit reads it, SciPy refuses ({refusal})")
        elif why := same(ours["traces"], *reference):
            counts["disagree"] += 1
            report.bad(name, why)
        else:
            counts["read alike"] += 1
            t = ours["traces"]
            report.good(name, f"read alike: {len(t)} ch x {len(t[0]['samples'])} at "
                              f"{t[0]['sample_rate']:g} Hz")
    print(f"{len(paths)} files: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
