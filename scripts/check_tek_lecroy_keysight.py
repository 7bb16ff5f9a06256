"""Checks tracekit's Tektronix WFM, LeCroy TRC and Keysight BIN readers
against RigolWFM 1.6.0 on real files: samples, sample rate, start and
channel names of every trace RigolWFM reads.

Files: the samples folder, tkcapture.SAMPLES (tek_golden_analog.wfm, lecroy_2.trc,
agilent_1.bin) and the RigolWFM sdist's tests/files/trc/*.trc, *.000 and
tests/files/bin/agilent_*.bin, where present (override the roots with
TRACEKIT_SAMPLES and RIGOLWFM_FILES).

Where the readers differ on purpose, the check says so and compares what
can be compared:
- RigolWFM rounds Tektronix and LeCroy volts to float32; samples match to
  rtol 1e-7.
- A LeCroy sequence is one trace per segment in tracekit, one record in
  RigolWFM: the segments are compared joined, and the first one's start.
- Keysight digital buffers (the EXT input) are traces in tracekit; RigolWFM
  leaves them out: listed, not compared.
- Channel names compare by their number (`C2`, `CH2` and `CH 2` agree).
- A file both refuse (a truncated capture) passes when both refuse it.

Run: python3 scripts/check_tek_lecroy_keysight.py
"""

import glob
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkcapture  # noqa: E402

import RigolWFM.wfm as rigol  # noqa: E402

SAMPLES = tkcapture.SAMPLES
SDIST = tkcapture.SDIST_FILES
RTOL = 1e-7


def files():
    """(path, RigolWFM model) of every real file of the three families found."""
    out = [(os.path.join(SAMPLES, "tek_golden_analog.wfm"), "Tek"),
           (os.path.join(SAMPLES, "lecroy_2.trc"), "LeCroy"),
           (os.path.join(SAMPLES, "agilent_1.bin"), "Keysight")]
    out += [(p, "LeCroy") for p in sorted(glob.glob(os.path.join(SDIST, "trc", "*.trc")))]
    out += [(p, "LeCroy") for p in sorted(glob.glob(os.path.join(SDIST, "trc", "*.000")))]
    out += [(p, "Keysight") for p in sorted(glob.glob(os.path.join(SDIST, "bin", "agilent_*.bin")))]
    return [(p, m) for p, m in out if os.path.exists(p)]


def number(name):
    """The channel number in a name (`C2`, `CH 2` -> '2'), else the name."""
    m = re.search(r"(\d+)$", name.strip())
    return m.group(1) if m else name.strip().upper()


def close(a, b, rtol=1e-12, atol=1e-18):
    return a == b or abs(a - b) <= atol + rtol * abs(b)


def reference(path, model):
    """RigolWFM's channels: (name, volts, sample rate, start) each."""
    w = rigol.Wfm.from_file(path, model)
    return [(c.name, np.asarray(c.volts, dtype=np.float64), 1.0 / c.seconds_per_point, float(c.times[0]))
            for c in w.channels if c.enabled and c.volts is not None]


def compare(path, model, ours, report):
    name = os.path.relpath(path, "/")
    try:
        ref = reference(path, model)
    except Exception as e:  # RigolWFM refuses the file
        if "error" in ours:
            report.good(name, f"(both refuse: {ours['error'].split(': ', 2)[-1]})")
        else:
            report.bad(name, f"RigolWFM refuses it ({e}), tracekit reads {len(ours['traces'])} trace(s)")
        return
    if "error" in ours:
        report.bad(name, f"tracekit: {ours['error']}")
        return
    traces = ours["traces"]
    notes = []
    extra = [t for t in traces if t["attributes"].get("buffer") == "digital"]
    if extra:
        notes.append("digital, not in RigolWFM: " + ", ".join(t["channel"] for t in extra))
        traces = [t for t in traces if t not in extra]
    segments = int(traces[0]["attributes"].get("segments", "1")) if traces else 1
    if model == "LeCroy" and segments > 1 and len(traces) == segments:
        joined = dict(traces[0])
        joined["samples"] = [x for t in traces for x in t["samples"]]
        traces = [joined]
        notes.append(f"{segments} segments joined")
    if len(traces) != len(ref):
        report.bad(name, f"{len(traces)} traces, RigolWFM has {len(ref)}")
        return
    worst = 0.0
    for t, (ref_name, volts, rate, start) in zip(traces, ref):
        what = f"{t['channel']}"
        if number(t["channel"]) != number(ref_name):
            report.bad(name, f"channel {t['channel']!r}, RigolWFM calls it {ref_name!r}")
            return
        if not close(t["sample_rate"], rate):
            report.bad(name, f"{what}: sample rate {t['sample_rate']} != {rate}")
            return
        if not close(t["start"], start):
            report.bad(name, f"{what}: start {t['start']} != {start}")
            return
        why = tkcapture.compare_samples(t["samples"], volts, rtol=RTOL, atol=1e-12)
        if why:
            report.bad(name, f"{what}: {why}")
            return
        ours_v = np.asarray([math.nan if x is None else x for x in t["samples"]])
        scale = np.maximum(np.abs(volts), 1e-30)
        worst = max(worst, float(np.max(np.abs(ours_v - volts) / scale)) if len(volts) else 0.0)
    detail = f"({len(ref)} trace(s), {sum(len(r[1]) for r in ref)} samples, max rel diff {worst:.1e}"
    report.good(name, detail + ("; " + "; ".join(notes) if notes else "") + ")")


def main():
    report = tkcapture.Report("check_tek_lecroy_keysight")
    found = files()
    if not found:
        print("no real files found", file=sys.stderr)
        return 1
    for path, model in found:
        ours = tkcapture.dump([path])[0]
        compare(path, model, ours, report)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
