#!/usr/bin/env python3
"""Runs the toml-test suite (TOML 1.0.0 files only) through the toml2json decoder and prints pass rates.

Valid cases must decode (exit 0) to JSON equal to the expected file in toml-test's sense: same tables, arrays
and tags; integers and strings equal; floats equal numerically (nan equals nan, signs of inf count); datetimes
equal as values (fractions and offsets normalized, offset datetimes as instants). Invalid cases must be
rejected with exit status 1 (a crash or a timeout is a failure either way).

Output: one line per category (valid/array, invalid/string, ...), the failures, then the last line
`toml-test: N passed, M failed, K skipped` (skipped: listed files that are missing or have no expected JSON).
Failures listed in tests/config/toml_known_failures.txt (path, then a reason) are still counted as failed but
do not make the exit status non-zero; any other failure does, and so does a listed case that now passes.

  tests/config/toml_test.py [--decoder BUILD/tests/config/toml2json] [--suite DIR] [-v]
Defaults: $EW_BUILD_DIR (else ./build) for the decoder, $TOML_TEST_DIR (else ../shared/testdata/toml-test).
"""
import argparse
import concurrent.futures
import json
import math
import os
import pathlib
import re
import subprocess
import sys
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SUITE = ROOT.parent / "shared" / "testdata" / "toml-test"
KNOWN = pathlib.Path(__file__).resolve().parent / "toml_known_failures.txt"
DATETIME_TYPES = {"datetime", "datetime-local", "date-local", "time-local"}
SCALAR_TYPES = {"string", "integer", "float", "bool"} | DATETIME_TYPES

DT_RE = re.compile(r"^(?:(\d{4})-(\d{2})-(\d{2}))?[Tt ]?(?:(\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?)?"
                   r"([Zz]|[+-]\d{2}:\d{2})?$")


def norm_datetime(text):
    """A comparable tuple; offset datetimes become UTC minutes since a fixed epoch plus seconds and ns."""
    m = DT_RE.match(text)
    if not m:
        return ("unparsable", text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    ns = int((frac or "")[:9].ljust(9, "0"))
    fields = tuple(int(x) if x is not None else None for x in (y, mo, d, h, mi, s or "0"))
    if off is None:
        return fields + (ns,)
    offset = 0 if off in ("Z", "z") else (1 if off[0] == "+" else -1) * (int(off[1:3]) * 60 + int(off[4:6]))
    import datetime
    base = datetime.datetime(fields[0], fields[1], fields[2], fields[3], fields[4])
    utc = base - datetime.timedelta(minutes=offset)
    return ("instant", utc.isoformat(), fields[5], ns)


def norm_float(text):
    t = text.lower().lstrip("+")
    if t in ("nan", "-nan"):
        return "nan"
    if t in ("inf", "-inf"):
        return t
    return float(t.replace("_", ""))


def same(expected, actual, path="$"):
    """None when equal, else a short description of the first difference."""
    if isinstance(expected, dict) and set(expected) == {"type", "value"} and expected.get("type") in SCALAR_TYPES:
        if not (isinstance(actual, dict) and set(actual) == {"type", "value"}):
            return "%s: expected %s, got %r" % (path, expected["type"], actual)
        et, at = expected["type"], actual["type"]
        ev, av = expected["value"], actual["value"]
        if et != at:
            return "%s: expected type %s, got %s" % (path, et, at)
        if et == "float":
            ok = norm_float(ev) == norm_float(av)
        elif et == "integer":
            ok = int(ev) == int(av)
        elif et in DATETIME_TYPES:
            ok = norm_datetime(ev) == norm_datetime(av)
        else:
            ok = ev == av
        return None if ok else "%s: expected %s %r, got %r" % (path, et, ev, av)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return "%s: expected a table, got %r" % (path, actual)
        if set(expected) != set(actual):
            return "%s: keys differ: expected %s, got %s" % (path, sorted(expected), sorted(actual))
        for k in expected:
            d = same(expected[k], actual[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return "%s: expected an array of %d, got %r" % (path, len(expected), actual)
        for i, (e, a) in enumerate(zip(expected, actual)):
            d = same(e, a, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if expected == actual else "%s: expected %r, got %r" % (path, expected, actual)


def run_case(decoder, suite, rel):
    """(status, detail): status is 'pass', 'fail' or 'skip'."""
    toml = suite / rel
    if not toml.exists():
        return "skip", "missing"
    try:
        proc = subprocess.run([str(decoder), str(toml)], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "fail", "timeout"
    err = proc.stderr.decode("utf-8", "replace").strip()
    if rel.startswith("invalid/"):
        if proc.returncode == 1:
            return "pass", err
        if proc.returncode == 0:
            return "fail", "accepted: " + proc.stdout.decode("utf-8", "replace")[:200]
        return "fail", "exit status %d: %s" % (proc.returncode, err[:200])
    expected_path = toml.with_suffix(".json")
    if not expected_path.exists():
        return "skip", "no expected JSON"
    if proc.returncode != 0:
        return "fail", "rejected (exit %d): %s" % (proc.returncode, err[:300])
    try:
        actual = json.loads(proc.stdout.decode("utf-8"))
    except ValueError as e:
        return "fail", "decoder printed invalid JSON: %s" % e
    diff = same(json.loads(expected_path.read_text(encoding="utf-8")), actual)
    return ("fail", diff) if diff else ("pass", "")


def load_known():
    known = {}
    if KNOWN.exists():
        for line in KNOWN.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                path, _, reason = line.partition(" ")
                known[path] = reason.strip()
    return known


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    build = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build"))
    ap.add_argument("--decoder", default=str(build / "tests" / "config" / "toml2json"))
    ap.add_argument("--suite", default=os.environ.get("TOML_TEST_DIR", str(DEFAULT_SUITE)))
    ap.add_argument("-v", "--verbose", action="store_true", help="print the error message of each invalid case")
    args = ap.parse_args()
    suite = pathlib.Path(args.suite)
    decoder = pathlib.Path(args.decoder)
    if not decoder.exists():
        sys.exit("toml_test.py: no decoder at %s (build it, or pass --decoder)" % decoder)
    listed = (suite / "files-toml-1.0.0").read_text().split()
    cases = sorted(f for f in listed if f.endswith(".toml"))
    known = load_known()

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        results = list(pool.map(lambda rel: run_case(decoder, suite, rel), cases))

    per_cat = defaultdict(lambda: [0, 0, 0])
    totals = {"pass": 0, "fail": 0, "skip": 0}
    unexpected, fixed, known_failed = [], [], []
    for rel, (status, detail) in zip(cases, results):
        parts = rel.split("/")
        cat = parts[0] + "/" + (parts[1] if len(parts) > 2 else "(top level)")
        per_cat[cat][("pass", "fail", "skip").index(status)] += 1
        totals[status] += 1
        if status == "fail":
            (known_failed if rel in known else unexpected).append((rel, detail))
        elif status == "pass" and rel in known:
            fixed.append(rel)
        if args.verbose and rel.startswith("invalid/") and status == "pass":
            print("  %s: %s" % (rel, detail))

    for cat in sorted(per_cat):
        p, f, s = per_cat[cat]
        print("%-28s %4d passed %3d failed %3d skipped" % (cat, p, f, s))
    for kind in ("valid", "invalid"):
        p = sum(v[0] for c, v in per_cat.items() if c.startswith(kind + "/"))
        n = sum(v[0] + v[1] for c, v in per_cat.items() if c.startswith(kind + "/"))
        print("%-28s %4d/%d (%.1f%%)" % (kind + " total", p, n, 100.0 * p / n if n else 100.0))
    for rel, detail in known_failed:
        print("KNOWN FAIL %s (%s)" % (rel, known[rel]))
    for rel, detail in unexpected:
        print("FAIL %s: %s" % (rel, detail))
    for rel in fixed:
        print("FIXED %s: passes now; remove it from %s" % (rel, KNOWN.name))
    print("toml-test: %d passed, %d failed, %d skipped" % (totals["pass"], totals["fail"], totals["skip"]))
    return 1 if unexpected or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
