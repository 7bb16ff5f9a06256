"""Checks tracekit's sigrok session and TDMS readers against real files.

sigrok sessions (`.sr` under the RigolWFM sdist's test files and
the samples folder): tracekit's reading against the archive read here
with zipfile to the sigrok/v2 layout (there is no Python sigrok reader),
and agilent_1.sr (a logic capture RigolWFM's tests made from agilent_1.bin)
against RigolWFM's reading of agilent_1.bin: the same number of samples,
the same sample rate, and D0 equal to CH 1 above its mid-range.

TDMS files (the files npTDMS ships for its tests, and any `.tdms` under
the samples folder): every numeric channel against npTDMS's reading
(scaled values, wf_increment, wf_start_offset, unit_string, names); files
of DAQmx raw data must be refused with a message that says so.

Run from the repository root: python3 scripts/check_sigrok_tdms.py
Prints one line a file and a summary line.
"""

import glob
import os
import struct
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkcapture  # noqa: E402

SDIST = tkcapture.SDIST_FILES
SAMPLES = tkcapture.SAMPLES


def find(pattern_roots, extension):
    found = []
    for root in pattern_roots:
        if os.path.isdir(root):
            found += glob.glob(os.path.join(root, "**", "*" + extension), recursive=True)
    return sorted(set(found))


def close(a, b, rtol=1e-12):
    return a == b or abs(a - b) <= rtol * abs(b)


# --- sigrok ------------------------------------------------------------------

def sigrok_reference(path):
    """The channels of a session read to the documented layout:
    [(name, samples, rate)]."""
    z = zipfile.ZipFile(path)
    meta = {}
    section = None
    for line in z.read("metadata").decode().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line[1:-1]
        elif section == "device 1":
            key, value = line.split("=", 1)
            meta[key.strip()] = value.strip()
    rate_text = meta.get("samplerate", "0").replace("Hz", "").strip()
    scale = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}
    rate = float(rate_text[:-1]) * scale[rate_text[-1]] if rate_text[-1] in scale else float(rate_text)

    def stream(base):
        if base in z.namelist():
            return z.read(base)
        data, k = b"", 1
        while f"{base}-{k}" in z.namelist():
            data += z.read(f"{base}-{k}")
            k += 1
        return data

    channels = []
    probes = sorted((int(k[5:]), v) for k, v in meta.items() if k.startswith("probe"))
    if probes:
        unitsize = int(meta["unitsize"])
        raw = stream(meta.get("capturefile", "logic-1"))
        units = [int.from_bytes(raw[i:i + unitsize], "little") for i in range(0, len(raw), unitsize)]
        for n, name in probes:
            channels.append((name, [(u >> (n - 1)) & 1 for u in units], rate))
    analog = sorted((int(k[6:]), v) for k, v in meta.items() if k.startswith("analog"))
    for n, name in analog:
        raw = stream(f"analog-1-{n}")
        channels.append((name, list(struct.unpack(f"<{len(raw) // 4}f", raw)), rate))
    return channels


def check_sigrok(report, path, ours):
    name = os.path.relpath(path, SDIST) if path.startswith(SDIST) else path
    if "error" in ours:
        report.bad(name, ours["error"])
        return
    reference = sigrok_reference(path)
    traces = ours["traces"]
    if [t["channel"] for t in traces] != [r[0] for r in reference]:
        report.bad(name, f"channels {[t['channel'] for t in traces]} != {[r[0] for r in reference]}")
        return
    for t, (channel, samples, rate) in zip(traces, reference):
        why = tkcapture.compare_samples(t["samples"], samples, rtol=0, atol=0)
        if why is None and not close(t["sample_rate"], rate):
            why = f"sample rate {t['sample_rate']} != {rate}"
        if why is None and t["start"] != 0.0:
            why = f"start {t['start']} != 0"
        if why:
            report.bad(name, f"{channel}: {why}")
            return
    detail = f"({len(traces)} channels, {len(traces[0]['samples'])} samples at {traces[0]['sample_rate']:g} Sa/s)"
    report.good(name, detail)


def cross_check_agilent(report, sr_trace):
    """agilent_1.sr against RigolWFM's reading of agilent_1.bin."""
    import RigolWFM.wfm as rigol

    bin_path = os.path.join(SDIST, "bin", "agilent_1.bin")
    name = "bin/agilent_1.sr vs RigolWFM bin/agilent_1.bin"
    w = rigol.Wfm.from_file(bin_path, "Agilent")
    ch = w.channels[0]
    volts = np.asarray(ch.volts, dtype=float)
    d0 = np.asarray(sr_trace["samples"])
    if len(d0) != len(volts):
        report.bad(name, f"{len(d0)} samples, RigolWFM has {len(volts)}")
        return
    rate = 1.0 / ch.seconds_per_point
    if not close(sr_trace["sample_rate"], rate):
        report.bad(name, f"sample rate {sr_trace['sample_rate']} != RigolWFM's 1/{ch.seconds_per_point}")
        return
    threshold = (volts.min() + volts.max()) / 2
    agree = np.mean((volts > threshold).astype(float) == d0)
    if agree != 1.0:
        report.bad(name, f"D0 is {ch.name} above {threshold:.4g} V for only {agree:.1%} of samples")
        return
    report.good(name, f"({len(d0)} samples at {rate:g} Sa/s; D0 == {ch.name} > {threshold:.4g} V everywhere)")
    # tracekit's own reading of the .bin, once it reads Keysight files.
    ours = tkcapture.dump([bin_path])[0]
    if "error" not in ours:
        t = ours["traces"][0]
        same = len(t["samples"]) == len(d0) and close(t["sample_rate"], sr_trace["sample_rate"])
        print(f"{'ok  ' if same else 'NOTE'}  tracekit's agilent_1.bin: {len(t['samples'])} samples at "
              f"{t['sample_rate']:g} Sa/s")


# --- TDMS --------------------------------------------------------------------

def check_tdms(report, path, ours):
    from nptdms import TdmsFile

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
    import tdms as fixtures  # the expected-value rules of the TDMS fixtures

    name = os.path.basename(path)
    f = TdmsFile.read(path)
    channels = [c for g in f.groups() for c in g.channels()]
    if any(c.data_type is not None and c.data_type.__name__ == "DaqMxRawData" for c in channels):
        if "error" in ours and "DAQmx" in ours["error"]:
            report.good(name, "(DAQmx raw data: refused as expected)")
        else:
            report.bad(name, f"DAQmx raw data should be refused, got {ours.get('error', 'traces')}")
        return
    if "error" in ours:
        report.bad(name, ours["error"])
        return
    numeric = [c for c in channels if c.data_type is not None and c.data_type.__name__ in fixtures.NUMERIC]
    traces = ours["traces"]
    if [t["channel"] for t in traces] != [c.name for c in numeric]:
        report.bad(name, f"channels {[t['channel'] for t in traces]} != {[c.name for c in numeric]}")
        return
    for t, c in zip(traces, numeric):
        props = c.properties
        why = tkcapture.compare_samples(t["samples"], np.asarray(c[:], dtype=float), rtol=1e-15, atol=0)
        if why is None and "wf_increment" in props and not close(t["sample_rate"], 1.0 / props["wf_increment"]):
            why = f"sample rate {t['sample_rate']} != 1/{props['wf_increment']}"
        if why is None and t["start"] != props.get("wf_start_offset", 0.0):
            why = f"start {t['start']} != {props.get('wf_start_offset', 0.0)}"
        if why is None and t["units"] != props.get("unit_string", ""):
            why = f"units {t['units']!r} != {props.get('unit_string', '')!r}"
        if why is None and t["attributes"].get("group") != c.group_name:
            why = f"group {t['attributes'].get('group')!r} != {c.group_name!r}"
        if why:
            report.bad(name, f"{c.path}: {why}")
            return
    total = sum(len(t["samples"]) for t in traces)
    report.good(name, f"({len(traces)} channels, {total} samples)")


def main():
    import nptdms

    report = tkcapture.Report("sigrok and TDMS real files")
    sr_files = find([SDIST, SAMPLES], ".sr")
    tdms_files = find([os.path.join(os.path.dirname(nptdms.__file__), "test", "data"), SAMPLES], ".tdms")
    results = tkcapture.dump(sr_files + tdms_files) if sr_files or tdms_files else []
    by_path = {r["path"]: r for r in results}
    for path in sr_files:
        check_sigrok(report, path, by_path[path])
        if os.path.basename(path) == "agilent_1.sr" and "error" not in by_path[path]:
            cross_check_agilent(report, by_path[path]["traces"][0])
    for path in tdms_files:
        check_tdms(report, path, by_path[path])
    if not sr_files:
        print(f"note: no .sr files under {SDIST} or {SAMPLES}")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
