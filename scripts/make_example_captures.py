#!/usr/bin/env python3
"""Writes examples/captures/: one synthetic two-channel capture in six of the
formats tracekit reads, for the README walk-through and the `--help`
examples (tracekit-cli/tests/examples.rs runs them all).

The signal, 4,000 points at 1 MS/s (4 ms, 40 periods, the trigger in the
middle: the first sample at -2 ms):

- CH1: a 10 kHz sine of 1 V with a third harmonic (30 kHz) of 0.1 V, -20 dBc,
  and 5 mV rms of white noise: the output of an amplifier that distorts;
- CH2: a 10 kHz sine of 0.5 V with 2 mV rms of noise: its stimulus.

The binary layouts are those of the reader fixtures (scripts/fixtures/*.py:
`tektronix.build_wfm`, `rigol.ds1000z_image`, `keysight.build_bin`), each
quantised as that instrument stores samples; WAV and NPY come from SciPy and
numpy. Every file is read back with the fixtures' reference readers
(RigolWFM 1.6.0, scipy.io.wavfile, numpy) and must give the signal to within
its quantisation step. The noise has a fixed seed, so the files come out the
same byte for byte on every run.

Needs numpy, scipy and RigolWFM (`pip install numpy scipy RigolWFM`).

    python3 scripts/make_example_captures.py
"""

import os
import sys
import warnings

import numpy as np
from scipy.io import wavfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixtures"))
import keysight  # noqa: E402
import rigol  # noqa: E402
import tektronix  # noqa: E402

import RigolWFM.wfm  # noqa: E402

OUT = os.path.join(os.path.dirname(HERE), "examples", "captures")
RATE = 1.0e6
POINTS = 4000
START = -POINTS / 2 / RATE


def signal():
    """CH1 and CH2 in volts."""
    rng = np.random.default_rng(2024)
    t = START + np.arange(POINTS) / RATE
    w = 2 * np.pi * 10e3 * t
    ch1 = np.sin(w) + 0.1 * np.sin(3 * w) + 0.005 * rng.standard_normal(POINTS)
    ch2 = 0.5 * np.sin(w) + 0.002 * rng.standard_normal(POINTS)
    return ch1, ch2


def save(name, data):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def check(path, read, truth, step):
    """The reference reading of `path` is the signal to within half a step."""
    worst = max(float(np.max(np.abs(np.asarray(r, dtype=np.float64) - t))) for r, t in zip(read, truth))
    assert len(read) == len(truth) and worst <= step / 2 + 1e-6, f"{path}: off by {worst} V"
    print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes, {len(read)} channel(s), "
          f"within {worst:.2g} V of the signal")


def reference(path, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [c.volts for c in RigolWFM.wfm.Wfm.from_file(path, model).channels if c.enabled]


def tek_wfm(ch1):
    """Tektronix WFM#003, little-endian, int16 codes of 50 uV: CH1 only (a
    WFM file holds one waveform)."""
    step = 50e-6
    codes = np.round(ch1 / step).astype(np.int64)
    data = tektronix.build_wfm("WFM#003", "<", [codes], 0, 0, 0, step, 0.0, 1 / RATE, START)
    path = save("tone-tek.wfm", data)
    check(path, reference(path, "Tek"), [ch1], step)


def rigol_wfm(ch1, ch2):
    """Rigol DS1054Z WFM (firmware 00.04.04.SP3), CH1 at 0.2 V/div and CH2 at
    0.1 V/div, 8-bit codes of a twentieth of a division, interleaved with
    the first channel in the odd bytes."""
    # (coupling DC, probe 1x, volts per division, offset, not inverted)
    chans = [(0, 6, 0.2, 0.0, 0), (0, 6, 0.1, 0.0, 0)] + rigol.Z_CHANS[2:]
    codes = [np.round(127 + 20 * v / vdiv).astype(np.uint8) for v, vdiv in ((ch1, 0.2), (ch2, 0.1))]
    payload = np.stack([codes[1], codes[0]], axis=1).reshape(-1)
    image = rigol.ds1000z_image("DS1054Z", "00.04.04.SP3", 0b0011, chans, payload,
                                sample_rate_ghz=RATE / 1e9, ps_offset=0)
    rigol.set_depth(image, 2 * POINTS)
    path = save("tone-ds1054z.wfm", bytes(image.b))
    check(path, reference(path, "Z"), [ch1, ch2], 0.2 / 20)


def keysight_bin(ch1, ch2):
    """Keysight InfiniiVision BIN (AG10), two waveforms of float32 volts."""
    waves = [keysight.waveform(label, [(1, "<f4", v)], POINTS, 1 / RATE, START,
                               frame="DSO-X 3024T:MY00000000")
             for label, v in (("1", ch1), ("2", ch2))]
    path = save("tone-keysight.bin", keysight.build_bin("10", waves))
    check(path, reference(path, "Keysight"), [ch1, ch2], 0.0)


def rigol_csv(ch1, ch2):
    """A Rigol DS1000Z CSV export: a sample index, three significant digits,
    Start and Increment on the second line, CRLF, a trailing comma."""
    texts = [[f"{v:.2e}" for v in ch] for ch in (ch1, ch2)]
    lines = ["X,CH1,CH2,Start,Increment,", f"Sequence,Volt,Volt,{START:e},{1 / RATE:e},"]
    lines += [f"{k},{a},{b}," for k, (a, b) in enumerate(zip(*texts))]
    path = save("tone-rigol.csv", "".join(line + "\r\n" for line in lines).encode("ascii"))
    read = [[float(x) for x in ch] for ch in texts]
    # Three significant digits of values below 1 V: steps of 1 mV at most.
    check(path, read, [ch1, ch2], 0.001)


def wav(ch1, ch2):
    """WAV of float32 volts (scipy.io.wavfile.write): kept as stored."""
    path = os.path.join(OUT, "tone-scipy.wav")
    wavfile.write(path, int(RATE), np.stack([ch1, ch2], axis=1).astype(np.float32))
    rate, data = wavfile.read(path)
    assert rate == RATE
    check(path, list(data.T), [ch1, ch2], 0.0)


def npy(ch1, ch2):
    """NPY of float64 volts (numpy.save), one row a channel; no sample rate."""
    path = os.path.join(OUT, "tone-numpy.npy")
    np.save(path, np.stack([ch1, ch2]))
    check(path, list(np.load(path)), [ch1, ch2], 0.0)


def main():
    os.makedirs(OUT, exist_ok=True)
    ch1, ch2 = signal()
    tek_wfm(ch1)
    rigol_wfm(ch1, ch2)
    keysight_bin(ch1, ch2)
    rigol_csv(ch1, ch2)
    wav(ch1, ch2)
    npy(ch1, ch2)


if __name__ == "__main__":
    main()
