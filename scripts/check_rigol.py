#!/usr/bin/env python3
"""Reads every real Rigol capture at hand with tracekit and with RigolWFM 1.6.0
and compares them: the channels (names, count), every sample, the sample
interval (RigolWFM's `seconds_per_point`) and the first sample's time
(`times[0]`); logic traces (`D0`..) against RigolWFM's `logic_channels`.

    python3 scripts/check_rigol.py [FILE[=MODEL] ...]

Without arguments it checks the Rigol files of ../shared/samples (or
$TRACEKIT_SAMPLES) and the `tests/files/bin` of the RigolWFM sdist
(tkcapture.SDIST: $RIGOLWFM_SDIST). The model
string RigolWFM needs comes from the file name; `FILE=MODEL` gives it. A file
that RigolWFM refuses passes when tracekit refuses it too.
"""

import math
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkcapture  # noqa: E402

ROOT = tkcapture.ROOT
SAMPLES = tkcapture.SAMPLES
SDIST = tkcapture.SDIST

# File-name prefixes and the RigolWFM model string each needs (longest first).
MODELS = [
    ("DS1000B", "B"), ("DS1000C", "C"), ("DS1000D", "D"), ("DS1000E", "E"), ("DS1000Z", "Z"),
    ("DS1204B", "B"), ("DS1104B", "B"), ("DS1074B", "B"),
    ("DS1042C", "C"), ("DS1202CA", "C"), ("DS1102CA", "C"), ("DS1062CA", "C"), ("DS1302CA", "C"),
    ("DS1102D", "D"), ("DS1052D", "D"),
    ("DS1052E", "E"), ("DS1102E", "E"),
    ("DS1054Z", "Z"), ("DS1074Z", "Z"), ("DS1104Z", "Z"), ("DS1202Z", "Z"), ("MSO1104", "Z"), ("MSO1074", "Z"),
    ("DS2", "2"), ("DS4", "4"), ("DS6", "6"),
    ("MSO5074", "5074"), ("MSO5", "5"), ("MSO7", "7"), ("MSO8", "8"),
    ("DHO", "DHO"), ("HDO", "DHO"),
]


def model_of(path):
    name = os.path.basename(path).upper()
    for prefix, model in sorted(MODELS, key=lambda m: -len(m[0])):
        if name.startswith(prefix):
            return model
    return "auto"


def default_files():
    files = []
    if os.path.isdir(SAMPLES):
        for name in sorted(os.listdir(SAMPLES)):
            upper = name.upper()
            if upper.startswith(("DS", "DHO", "MSO")) and upper.endswith((".WFM", ".BIN")):
                files.append(os.path.join(SAMPLES, name))
    bins = os.path.join(SDIST, "tests", "files", "bin")
    if os.path.isdir(bins):
        for name in sorted(os.listdir(bins)):
            if name.startswith(("DHO", "MSO")) and name.endswith(".bin"):
                files.append(os.path.join(bins, name))
    return files


def close(a, b, rtol=1e-12, atol=1e-18):
    return a == b or abs(a - b) <= atol + rtol * abs(b)


def reference(path, model):
    """[(name, volts, times0, seconds_per_point)] as RigolWFM reads the file."""
    import RigolWFM.wfm as rigol

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = rigol.Wfm.from_file(path, model)
    out = []
    for ch in w.channels:
        out.append((ch.name.replace(" ", ""), list(map(float, ch.volts)), float(ch.times[0]),
                    float(ch.seconds_per_point)))
    if w.logic_channels:
        t0 = float(w.logic_times[0]) if w.logic_times is not None and len(w.logic_times) else None
        for name, bits in w.logic_channels.items():
            out.append((name, list(map(float, bits)), t0, float(w.logic_seconds_per_point)))
    return out


def check(report, path, model, ours):
    name = os.path.basename(path)
    try:
        ref = reference(path, model)
    except Exception as e:  # RigolWFM refuses the file
        if "error" in ours:
            report.good(name, f"(both refuse: RigolWFM {type(e).__name__}; tracekit: {ours['error']})")
        else:
            report.bad(name, f"RigolWFM refuses it ({e}) but tracekit reads it")
        return
    if "error" in ours:
        report.bad(name, f"tracekit: {ours['error']}")
        return
    traces = ours["traces"]
    got_names = [t["channel"] for t in traces]
    want_names = [r[0] for r in ref]
    if got_names != want_names:
        report.bad(name, f"channels {got_names}, RigolWFM has {want_names}")
        return
    for t, (channel, volts, t0, spp) in zip(traces, ref):
        why = tkcapture.compare_samples(t["samples"], volts, rtol=1e-12, atol=1e-15)
        if why:
            report.bad(name, f"{channel}: {why}")
            return
        if not close(t["sample_rate"], 1.0 / spp):
            report.bad(name, f"{channel}: sample rate {t['sample_rate']} != 1/{spp} (RigolWFM)")
            return
        if t0 is not None and not close(t["start"], t0):
            report.bad(name, f"{channel}: start {t['start']} != times[0] {t0} (RigolWFM)")
            return
    report.good(name, f"({model}: {len(traces)} traces, {len(traces[0]['samples'])} samples, "
                      f"start {traces[0]['start']:.6g} s, {traces[0]['sample_rate']:.6g} Sa/s)")


def main(argv):
    pairs = []
    for arg in argv or default_files():
        path, _, model = arg.partition("=")
        pairs.append((os.path.abspath(path), model or model_of(path)))
    if not pairs:
        sys.exit("no Rigol files found: give some, or set TRACEKIT_SAMPLES / RIGOLWFM_SDIST")
    results = tkcapture.dump([p for p, _ in pairs])
    report = tkcapture.Report("check_rigol")
    for (path, model), ours in zip(pairs, results):
        check(report, path, model, ours)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
