"""Helpers shared by the scripts that make the capture-reader fixtures and
check the readers against real files and reference libraries.

Fixture scripts (scripts/fixtures/*.py) write a capture into
tracekit-io/tests/fixtures/<family>/ and, beside it, `<file>.json` with the
values the reference library gives (see tracekit-io/tests/common/mod.rs for
the keys). Check scripts (scripts/check_*.py) read real files with both
tracekit (through the `dump` example) and the reference, and compare.
"""

import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tracekit-io", "tests", "fixtures")

# Real captures to check against, never copied into the repository: a folder
# of samples ($TRACEKIT_SAMPLES, default ../shared/samples beside the
# repository) and the RigolWFM 1.6.0 source distribution, unpacked
# ($RIGOLWFM_SDIST: `pip download --no-deps --no-binary :all: RigolWFM==1.6.0`,
# then untar it).
SAMPLES = os.environ.get("TRACEKIT_SAMPLES", os.path.join(ROOT, "..", "shared", "samples"))
SDIST = os.environ.get("RIGOLWFM_SDIST", os.path.join(ROOT, "..", "rigolwfm-1.6.0"))
SDIST_FILES = os.path.join(SDIST, "tests", "files")


def fixture_path(family, name):
    """tracekit-io/tests/fixtures/<family>/<name>, its folder created."""
    folder = os.path.join(FIXTURES, family)
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def _number(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def trace(samples=None, channel=None, sample_rate=None, start=None, units=None,
          attributes=None, length=None):
    """One expected trace, only the keys given."""
    out = {}
    if channel is not None:
        out["channel"] = channel
    if sample_rate is not None:
        out["sample_rate"] = float(sample_rate)
    if start is not None:
        out["start"] = float(start)
    if units is not None:
        out["units"] = units
    if samples is not None:
        out["samples"] = [_number(x) for x in samples]
    if length is not None:
        out["len"] = int(length)
    if attributes:
        out["attributes"] = {k: str(v) for k, v in attributes.items()}
    return out


def write_expected(path, traces, fmt=None, rtol=None, atol=None):
    """Writes `<path>.json` beside the fixture at `path`."""
    doc = {"traces": traces}
    if fmt is not None:
        doc["format"] = fmt
    if rtol is not None:
        doc["rtol"] = rtol
    if atol is not None:
        doc["atol"] = atol
    with open(path + ".json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def dump(paths, sample_rate=None):
    """Every trace of each file as tracekit reads it: a list of
    {"path", "traces": [...]} or {"path", "error"}, in the order given."""
    cmd = ["cargo", "run", "-q", "--release", "-p", "tracekit-io", "--example", "dump", "--"]
    cmd += list(paths)
    if sample_rate is not None:
        cmd += ["--sample-rate", str(sample_rate)]
    out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, check=False, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def compare_samples(ours, reference, rtol=1e-9, atol=1e-12):
    """None if the sample lists agree, else a line saying where they do not."""
    if len(ours) != len(reference):
        return f"{len(ours)} samples, reference has {len(reference)}"
    worst = 0
    for i, (a, b) in enumerate(zip(ours, reference)):
        a = float("nan") if a is None else a
        b = float(b)
        if (math.isnan(a) and math.isnan(b)) or a == b:
            continue
        if not abs(a - b) <= atol + rtol * abs(b):
            return f"sample {i}: {a} != {b} (reference)"
        worst = max(worst, abs(a - b))
    return None


class Report:
    """Counts files checked and prints one line a file, then a summary."""

    def __init__(self, title):
        self.title = title
        self.ok = 0
        self.failed = []

    def good(self, name, detail=""):
        self.ok += 1
        print(f"ok    {name} {detail}")

    def bad(self, name, why):
        self.failed.append(name)
        print(f"FAIL  {name}: {why}")

    def finish(self):
        print(f"{self.title}: {self.ok} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


if __name__ == "__main__":
    sys.exit("a module for the fixture and check scripts; run those instead")
