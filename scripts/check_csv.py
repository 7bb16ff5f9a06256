"""Reads every real scope CSV export of the RigolWFM test set with tracekit
and checks it against the file's own header, read here independently:

- Rigol `X,CH1,...,Start,Increment` files: rate 1 / Increment, start
  Start + first index * Increment, the index counting up by one;
- Rigol PC-software files (`"Sampling Frequency (Hz)=",...`): that rate,
  the first stamp as start, `Channel Data` names, `Number of Data points`;
- files with time stamps only (DS1000B/C/D/E): the rule of the reader,
  computed here with numpy: rate (n - 1) / (t_last - t_first) where every
  step is within 1% of the mean, else a refusal that names the lines and
  asks for --sample-rate;
- R&S `.Wfm.csv`: the XML header beside it (Resolution, XStart, sources),
  and RigolWFM's reading of the binary export of the same capture
  (values printed with 6 to 8 significant digits: compared to 5e-6).

Where the samples folder (tkcapture.SAMPLES) holds the `.wfm` the
scope saved with the CSV, RigolWFM's reading of it is a second oracle for
the rate (loosely: the CSV may hold another record; compared only where
the lengths agree). Samples must equal the CSV's numbers as Python parses
them (scaled to volts).

Run from the repository root: python3 scripts/check_csv.py [DIR]
(DIR: the unpacked RigolWFM sdist's tests/files; default
tkcapture.SDIST_FILES).
"""

import csv
import glob
import math
import os
import sys
import xml.etree.ElementTree as ET

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkcapture  # noqa: E402

FILES = sys.argv[1] if len(sys.argv) > 1 else tkcapture.SDIST_FILES
SAMPLES = tkcapture.SAMPLES


def rows_of(path):
    """The file's rows as lists of stripped fields, trailing empty fields
    dropped, empty rows skipped (with their 1-based line numbers)."""
    with open(path, newline="", encoding="latin-1") as f:
        lines = f.read().splitlines()
    out = []
    for number, line in enumerate(lines, 1):
        if number == 1 and line.startswith("sep="):
            continue
        fields = [x.strip() for x in next(csv.reader([line]))] if line else []
        while fields and not fields[-1]:
            fields.pop()
        if fields:
            out.append((number, fields))
    return out


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def data_start(rows):
    return next(k for k, (_, f) in enumerate(rows) if all(is_number(x) for x in f))


def columns(rows, first, width):
    return np.array([[float(x) for x in f] for _, f in rows[first:]], dtype=np.float64).reshape(-1, width)


def rigol_index(rows):
    """`X,CH1,...,Start,Increment` over `Sequence,Volt,...,start,increment`."""
    labels = rows[0][1]
    i_start, i_inc = labels.index("Start"), labels.index("Increment")
    start, inc = float(rows[1][1][i_start]), float(rows[1][1][i_inc])
    data = columns(rows, 2, i_start)
    index = data[:, 0]
    assert np.all(np.diff(index) == 1), "the X column does not count up by one"
    return {
        "rate": 1.0 / inc,
        "start": start + index[0] * inc,
        "channels": labels[1:i_start],
        "samples": [data[:, k] for k in range(1, i_start)],
        "how": f"Increment {inc:g}, Start {start:g}, first index {int(index[0])}",
    }


def rigol_software(rows):
    """Key rows of Rigol's PC software, then `"Time (s)","Voltage (V)"...`."""
    keys = {f[0].rstrip("= ").strip(): f[1:] for _, f in rows if not is_number(f[0])}
    rate = float(keys["Sampling Frequency (Hz)"][0])
    points = int(float(keys["Number of Data points"][0]))
    names = keys["Channel Data"]
    first = data_start(rows)
    data = columns(rows, first, 1 + len(names))
    assert len(data) == points, f"header says {points} points, file holds {len(data)}"
    return {
        "rate": rate,
        "start": data[0, 0],
        "channels": names,
        "samples": [data[:, k] for k in range(1, 1 + len(names))],
        "how": f"Sampling Frequency {rate:g}, {points} points",
    }


def time_stamps(rows):
    """A time column and value columns under a label row (and a units row)."""
    first = data_start(rows)
    labels = rows[first - 2][1] if first >= 2 else rows[first - 1][1]
    width = len(rows[first][1])
    names = [label.replace("(V)", "").strip() for label in labels[1:width]]
    data = columns(rows, first, width)
    t = data[:, 0]
    n = len(t)
    steps = np.diff(t)
    mean = (t[-1] - t[0]) / (n - 1)
    worst = np.max(np.abs(steps - mean))
    if worst > 0.01 * mean:
        return {"refuse": ["not evenly spaced", "--sample-rate", "lines"],
                "how": f"steps from {steps.min():g} to {steps.max():g} s, mean {mean:g} s"}
    return {
        "rate": (n - 1) / (t[-1] - t[0]),
        "start": t[0],
        "channels": names,
        "samples": [data[:, k] for k in range(1, width)],
        "how": f"{n} stamps within {100 * worst / mean:.3f}% of the mean step",
    }


def rohde_schwarz(path):
    """A `.Wfm.csv` and the XML header beside it."""
    header = path[: -len(".Wfm.csv")] + ".bin"
    props = {p.get("Name"): p.attrib for p in ET.parse(header).getroot().iter("Prop")}
    resolution = float(props["Resolution"]["Value"])
    xstart = float(props["XStart"]["Value"])
    xy = "XY" in props["SignalFormat"]["Value"]
    if props["MultiChannelExport"]["Value"] == "eRS_ONOFF_ON":
        state, source = props["MultiChannelExportState"], props["MultiChannelSource"]
        sources = [source[f"I_{k}"] for k in range(4) if state.get(f"I_{k}") == "eRS_ONOFF_ON"]
    else:
        sources = [props["Source"]["Value"]]
    names = ["CH" + s.split("_CH")[1][0] for s in sources]
    rows = rows_of(path)
    data = columns(rows, 0, len(names) + int(xy))
    expected = {
        "rate": 1.0 / resolution,
        "start": xstart,
        "channels": names,
        "samples": [data[:, k + int(xy)] for k in range(len(names))],
        "how": f"{os.path.basename(header)}: Resolution {resolution:g}, XStart {xstart:g}",
    }
    try:
        import RigolWFM.wfm as rigol

        w = rigol.Wfm.from_file(header, "auto")
        expected["binary"] = [(c.volts, c.seconds_per_point, c.times[0]) for c in w.channels]
    except Exception as e:  # the binary export is a second oracle only
        expected["binary_error"] = str(e)
    return expected


def reference(path):
    if path.endswith(".Wfm.csv"):
        return rohde_schwarz(path)
    rows = rows_of(path)
    if "Start" in rows[0][1] and "Increment" in rows[0][1]:
        return rigol_index(rows)
    if any(f[0].startswith("Sampling Frequency") for _, f in rows[:40]):
        return rigol_software(rows)
    return time_stamps(rows)


def wfm_oracle(path):
    """RigolWFM's reading of the .wfm saved with the CSV, where there is one."""
    stem = os.path.basename(path)[: -len(".csv")].replace("-original", "")
    wfm = os.path.join(SAMPLES, stem + ".wfm")
    if not os.path.exists(wfm):
        return None
    import RigolWFM.wfm as rigol

    w = rigol.Wfm.from_file(wfm, "auto")
    ch = w.channels[0]
    return len(ch.volts), 1.0 / ch.seconds_per_point


def close(a, b, rtol, atol=0.0):
    return abs(a - b) <= atol + rtol * abs(b)


def check(report, path, got, want):
    name = os.path.relpath(path, FILES)
    if "refuse" in want:
        error = got.get("error")
        if error is None:
            return report.bad(name, f"read, but its header and stamps give no time base ({want['how']})")
        missing = [w for w in want["refuse"] if w not in error]
        if missing:
            return report.bad(name, f"refused without {missing}: {error}")
        oracle = wfm_oracle(path)
        extra = f"; RigolWFM's .wfm: {oracle[1]:g} Sa/s" if oracle else ""
        return report.good(name, f"refused as it must be ({want['how']}){extra}: {error.split(': CSV: ')[-1]}")
    if "error" in got:
        return report.bad(name, got["error"])
    traces = got["traces"]
    names = [t["channel"] for t in traces]
    if names != want["channels"]:
        return report.bad(name, f"channels {names}, header says {want['channels']}")
    for t, samples in zip(traces, want["samples"]):
        if not close(t["sample_rate"], want["rate"], 1e-12):
            return report.bad(name, f"{t['channel']}: rate {t['sample_rate']!r}, header gives {want['rate']!r}")
        if not close(t["start"], want["start"], 1e-12, 1e-18):
            return report.bad(name, f"{t['channel']}: start {t['start']!r}, header gives {want['start']!r}")
        if t["units"] != "V":
            return report.bad(name, f"{t['channel']}: units {t['units']!r}")
        why = tkcapture.compare_samples(t["samples"], samples, rtol=1e-12, atol=0.0)
        if why:
            return report.bad(name, f"{t['channel']}: {why}")
    detail = [f"{len(traces)} ch x {len(traces[0]['samples'])} at {traces[0]['sample_rate']:g} Sa/s, "
              f"start {traces[0]['start']:g} s ({want['how']})"]
    for t, (volts, spp, t0) in zip(traces, want.get("binary", [])):
        why = tkcapture.compare_samples(t["samples"], volts, rtol=5e-6, atol=1e-12)
        if why or not close(t["sample_rate"] * spp, 1.0, 1e-6) or not close(t["start"], t0, 1e-9, 1e-15):
            return report.bad(name, f"{t['channel']} against RigolWFM's binary export: {why or 'time base'}")
    if "binary" in want:
        detail.append("matches RigolWFM's binary export")
    oracle = wfm_oracle(path)
    if oracle:
        n, rate = oracle
        if n == len(traces[0]["samples"]):
            if not close(traces[0]["sample_rate"], rate, 0.01):
                return report.bad(name, f"rate {traces[0]['sample_rate']:g}, RigolWFM's .wfm gives {rate:g}")
            detail.append(f"RigolWFM's .wfm: {rate:g} Sa/s "
                          f"({100 * abs(traces[0]['sample_rate'] / rate - 1):.3f}% apart)")
        else:
            detail.append(f"RigolWFM's .wfm holds another record ({n} points at {rate:g} Sa/s)")
    report.good(name, "; ".join(detail))


def main():
    paths = sorted(glob.glob(os.path.join(FILES, "wfm", "*.csv")))
    paths += sorted(glob.glob(os.path.join(FILES, "rs", "*.Wfm.csv")))
    if not paths:
        sys.exit(f"no CSV files under {FILES}")
    report = tkcapture.Report("CSV exports against their headers")
    for path, got in zip(paths, tkcapture.dump(paths)):
        try:
            want = reference(path)
        except Exception as e:
            report.bad(os.path.relpath(path, FILES), f"the reference cannot read it: {e}")
            continue
        check(report, path, got, want)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
