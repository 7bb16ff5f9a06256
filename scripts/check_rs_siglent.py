"""Checks tracekit's R&S RTP and Siglent BIN readers against RigolWFM 1.6.0
on real files, and the R&S reader also against R&S's own CSV export of the
same records (the `.Wfm.csv` files beside some of them).

    python3 scripts/check_rs_siglent.py [FILE_OR_DIR ...]

Without arguments it checks rs_rtp_01.bin of the samples folder and the
RigolWFM sdist's tests/files/rs/*.bin and tests/files/bin/SDS*.bin (set
RIGOLWFM_FILES to the sdist's tests/files folder if it lies elsewhere).
For each file it compares, trace by trace: channel name, units, sample
count, samples (RigolWFM rounds volts to float32: rtol 1e-6 plus 1e-6 of a
division), sample rate (1e-9) and the first sample's time. A file that
RigolWFM refuses must be refused by tracekit too; a `.Wfm.bin` data file
must be refused with a message naming its `.bin` header.
"""

import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tkcapture  # noqa: E402

import RigolWFM.wfm as rigol  # noqa: E402

SAMPLES = tkcapture.SAMPLES
SDIST = tkcapture.SDIST_FILES
UNITS = {"v": "V", "a": "A", "w": "W", "u": ""}


def default_files():
    files = [os.path.join(SAMPLES, "rs_rtp_01.bin")]
    files += sorted(glob.glob(os.path.join(SDIST, "rs", "*.bin")))
    files += sorted(glob.glob(os.path.join(SDIST, "bin", "SDS*.bin")))
    return [f for f in files if os.path.exists(f)]


def expand(args):
    out = []
    for a in args:
        out += sorted(glob.glob(os.path.join(a, "*.bin"))) if os.path.isdir(a) else [a]
    return out


def is_data_file(path):
    return path.lower().endswith(".wfm.bin")


def reference(path):
    """RigolWFM's traces: (name, units, volts, t0, dt, volts_per_div), or an error string."""
    try:
        w = rigol.Wfm.from_file(path, "auto")
    except Exception as e:  # noqa: BLE001 - any refusal counts
        return f"{type(e).__name__}: {e}"
    out = []
    for c in w.channels:
        times = np.asarray(c.times, dtype=np.float64)
        dt = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else c.seconds_per_point
        out.append({
            "name": c.name.replace(" ", ""),
            "units": UNITS.get(getattr(c.unit, "name", "v"), ""),
            "volts": np.asarray(c.volts, dtype=np.float64),
            "t0": float(times[0]),
            "dt": float(dt),
            "vdiv": float(c.volt_per_division or 1.0),
        })
    return out


def close(a, b, rtol, atol=0.0):
    return abs(a - b) <= atol + rtol * abs(b)


def compare(ours, ref):
    """None if tracekit's traces agree with RigolWFM's, else why not."""
    if len(ours) != len(ref):
        return f"{len(ours)} traces, RigolWFM has {len(ref)}"
    for t, r in zip(ours, ref):
        what = t["channel"]
        if t["channel"] != r["name"]:
            return f"channel {t['channel']!r}, RigolWFM calls it {r['name']!r}"
        if t["units"] != r["units"]:
            return f"{what}: units {t['units']!r}, RigolWFM {r['units']!r}"
        why = tkcapture.compare_samples(t["samples"], r["volts"], rtol=1e-6, atol=1e-6 * abs(r["vdiv"]))
        if why:
            return f"{what}: {why}"
        if not close(t["sample_rate"], 1.0 / r["dt"], 1e-9):
            return f"{what}: sample_rate {t['sample_rate']}, RigolWFM {1.0 / r['dt']}"
        if not close(t["start"], r["t0"], 1e-9, 1e-3 * r["dt"]):
            return f"{what}: start {t['start']}, RigolWFM {r['t0']}"
    return None


def compare_csv(path, ours):
    """The R&S CSV export beside a header, if there is one: None if it agrees."""
    csv = os.path.splitext(path)[0] + ".Wfm.csv"
    if not os.path.exists(csv):
        return None, None
    table = np.loadtxt(csv, delimiter=",", ndmin=2)
    columns = table.shape[1]
    values = table[:, columns - len(ours):]
    for k, t in enumerate(ours):
        samples = np.asarray(t["samples"], dtype=np.float64)
        col = values[:, k]
        if len(col) != len(samples):
            return csv, f"{t['channel']}: {len(samples)} samples, the CSV has {len(col)}"
        bad = np.abs(samples - col) > 5e-6 * np.abs(col) + 1e-9
        if bad.any():
            i = int(np.argmax(bad))
            return csv, f"{t['channel']}: sample {i}: {samples[i]} != {col[i]} (R&S CSV)"
        if columns > len(ours):  # an X column of times
            times = t["start"] + np.arange(len(samples)) / t["sample_rate"]
            if np.abs(times - table[:, 0]).max() > 1e-3 / t["sample_rate"]:
                return csv, f"{t['channel']}: the time base differs from the CSV's X column"
    return csv, "ok"


def main(argv):
    files = expand(argv) if argv else default_files()
    if not files:
        sys.exit("no files to check (give paths, or set RIGOLWFM_FILES)")
    report = tkcapture.Report("R&S RTP and Siglent BIN vs RigolWFM 1.6.0 and R&S CSV")
    for entry in tkcapture.dump(files):
        path = entry["path"]
        name = os.path.relpath(path, SDIST) if path.startswith(SDIST) else os.path.basename(path)
        if is_data_file(path):
            header = os.path.basename(path)[: -len(".Wfm.bin")] + ".bin"
            if "error" in entry and header in entry["error"]:
                report.good(name, "(data file refused, names its header)")
            else:
                report.bad(name, f"a data file must be refused naming {header}: {entry}")
            continue
        ref = reference(path)
        if isinstance(ref, str):
            if "error" in entry:
                report.good(name, f"(both refuse: {entry['error'].split(': ', 2)[-1]})")
            else:
                report.bad(name, f"RigolWFM refuses it ({ref}) but tracekit reads it")
            continue
        if "error" in entry:
            report.bad(name, entry["error"])
            continue
        why = compare(entry["traces"], ref)
        if why:
            report.bad(name, why)
            continue
        detail = ", ".join(f"{t['channel']} {len(t['samples'])} pts" for t in entry["traces"])
        report.good(name, f"({detail})")
        csv, verdict = compare_csv(path, entry["traces"])
        if csv is not None:
            label = f"{name} vs {os.path.basename(csv)}"
            if verdict == "ok":
                report.good(label)
            else:
                report.bad(label, verdict)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
