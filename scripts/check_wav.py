#!/usr/bin/env python3
"""Reads SciPy's own WAV test files (scipy/io/tests/data/*.wav) with
tracekit and with scipy.io.wavfile.read, and sorts each file into one of:

    read alike     both read it: same channels, rate, and samples equal to
                   SciPy's after tracekit's documented scaling (exactly)
    refused alike  both refuse it (tracekit's message is printed)
    disagree       anything else

    python3 scripts/check_wav.py [DIR]     # exit status 1 if any disagree
    python3 scripts/check_wav.py --mutate N [DIR]

With --mutate N, N damaged copies of the files (a header byte or size
field changed, or the file cut short; seeded, so the same each run) are
sorted the same way instead: where the two readers part on a hostile file.
"""

import glob
import os
import random
import struct
import sys
import tempfile
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


def mutate(good, rng):
    """One damaged copy of `good`: a byte of the first 80 changed, a 16- or
    32-bit field there set to an edge value, or the file cut short."""
    bad = bytearray(good)
    how = rng.randrange(4)
    if how == 0 or len(bad) < 84:
        bad = bad[:rng.randrange(len(bad))]
    elif how == 1:
        bad[rng.randrange(80)] = rng.randrange(256)
    elif how == 2:
        at = rng.randrange(0, 80, 2)
        bad[at:at + 2] = struct.pack("<H", rng.choice([0, 1, 2, 3, 7, 8, 9, 12, 24, 0xFFFE, 0xFFFF]))
    else:
        at = rng.randrange(0, 76, 2)
        value = rng.choice([0, 1, 3, 15, 16, 17, 18, 40, 1000, 2**31, 2**32 - 1])
        bad[at:at + 4] = struct.pack("<I", value)
    return bytes(bad)


def mutated(paths, n, folder):
    rng = random.Random(1234)
    originals = [open(p, "rb").read() for p in paths]
    out = []
    for k in range(n):
        j = rng.randrange(len(paths))
        path = os.path.join(folder, f"m{k:05d}-{os.path.basename(paths[j])}")
        with open(path, "wb") as f:
            f.write(mutate(originals[j], rng))
        out.append(path)
    return out


def main():
    args = sys.argv[1:]
    mutations = 0
    if args[:1] == ["--mutate"]:
        mutations = int(args[1])
        args = args[2:]
    folder = args[0] if args else CORPUS
    paths = sorted(glob.glob(os.path.join(folder, "*.wav")))
    if not paths:
        sys.exit(f"no .wav files in {folder}")
    if mutations:
        with tempfile.TemporaryDirectory() as tmp:
            return check(mutated(paths, mutations, tmp), f"{mutations} damaged WAV copies")
    return check(paths, "SciPy WAV corpus")


def check(paths, title):
    report = tkcapture.Report(title)
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
