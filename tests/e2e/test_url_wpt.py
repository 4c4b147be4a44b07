"""WHATWG URL conformance: every web-platform-tests case of urltestdata.json, setters_tests.json, toascii.json and
percent-encoding.json (read in place from ../shared/testdata/wpt-url/) through tests/web/urltest, the C parser.

Prints `wpt-url: N passed, M failed` per file and overall, asserts >= 98% on urltestdata.json and
setters_tests.json, and that every failure is listed with its reason in tests/web/url-known-failures.txt (so a
regression fails even while the rate is above the target).
"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build"))
URLTEST = BUILD / "tests" / "web" / "urltest"
DATA = pathlib.Path(os.environ.get("WPT_URL_DIR", ROOT.parent / "shared" / "testdata" / "wpt-url"))
KNOWN = ROOT / "tests" / "web" / "url-known-failures.txt"
FIELDS = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname",
          "search", "hash"]


def usv_hex(s):
    """Hex of the UTF-8 of s as a USVString (lone surrogates become U+FFFD, as WebIDL converts them)."""
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8").hex() or "="


def run_cases(lines):
    """Sends the request lines to urltest; returns one dict of getters (or None for failure) per line."""
    out = subprocess.run([str(URLTEST)], input="\n".join(lines) + "\n", capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    assert len(out) == len(lines)
    return [None if o == "FAIL" else dict(zip(FIELDS, o.split("\t"))) for o in out]


def load(name):
    with open(DATA / name, encoding="utf-8") as f:
        return json.load(f)


def known_failures():
    keys = set()
    if KNOWN.exists():
        for line in KNOWN.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                keys.add(line.split("  #", 1)[0].strip())
    return keys


def check_urltestdata():
    cases = [c for c in load("urltestdata.json") if isinstance(c, dict)]
    lines = ["P %s %s" % (usv_hex(c["input"]), usv_hex(c["base"]) if c.get("base") is not None else "-")
             for c in cases]
    results, failed = run_cases(lines), []
    for c, r in zip(cases, results):
        if c.get("failure"):
            ok = r is None
        else:
            ok = r is not None and all(r[k] == c[k] for k in FIELDS if k in c)
        if not ok:
            failed.append(("urltestdata %s base=%s" % (json.dumps(c["input"]), json.dumps(c.get("base"))), r))
    return len(cases), failed


def check_setters():
    data = load("setters_tests.json")
    cases = [(kind, c) for kind, lst in data.items() if kind != "comment" for c in lst]
    lines = ["S %s %s %s" % (usv_hex(c["href"]), kind, usv_hex(c["new_value"])) for kind, c in cases]
    results, failed = run_cases(lines), []
    for (kind, c), r in zip(cases, results):
        ok = r is not None and all(r[k] == v for k, v in c["expected"].items())
        if not ok:
            failed.append(("setters %s %s %s" % (kind, json.dumps(c["href"]), json.dumps(c["new_value"])), r))
    return len(cases), failed


def check_toascii():
    cases = [c for c in load("toascii.json") if isinstance(c, dict)]
    lines = ["P %s -" % usv_hex("https://" + c["input"] + "/x") for c in cases]
    results, failed = run_cases(lines), []
    for c, r in zip(cases, results):
        want = c.get("output")
        ok = (r is None) if want is None else (r is not None and r["host"] == want and r["pathname"] == "/x")
        if not ok:
            failed.append(("toascii %s" % json.dumps(c["input"]), r))
    return len(cases), failed


def check_percent_encoding():
    cases = [c for c in load("percent-encoding.json") if isinstance(c, dict)]
    lines = ["P %s -" % usv_hex("https://doesnotmatter.invalid/?" + c["input"]) for c in cases]
    results, failed = run_cases(lines), []
    for c, r in zip(cases, results):
        if r is None or r["search"] != "?" + c["output"]["utf-8"]:
            failed.append(("percent-encoding %s" % json.dumps(c["input"]), r))
    return len(cases), failed


@pytest.fixture(scope="module")
def results():
    if not URLTEST.exists():
        pytest.skip("urltest is not built (%s)" % URLTEST)
    if not (DATA / "urltestdata.json").exists():
        pytest.skip("no wpt-url data at %s" % DATA)
    res = {"urltestdata": check_urltestdata(), "setters": check_setters(), "toascii": check_toascii(),
           "percent-encoding": check_percent_encoding()}
    total = sum(n for n, _ in res.values())
    failed = sum(len(f) for _, f in res.values())
    for name, (n, f) in res.items():
        print("wpt-url %s: %d passed, %d failed" % (name, n - len(f), len(f)))
        for key, got in f:
            print("  FAIL %s -> %s" % (key, got))
    print("wpt-url: %d passed, %d failed" % (total - failed, failed))
    return res


@pytest.mark.parametrize("name", ["urltestdata", "setters"])
def test_pass_rate_at_least_98_percent(results, name):
    n, failed = results[name]
    assert (n - len(failed)) / n >= 0.98, "%s: %d of %d failed" % (name, len(failed), n)


def test_every_failure_is_a_known_one(results):
    known = known_failures()
    new = [key for _, f in results.values() for key, _ in f if key not in known]
    assert not new, "failures not in %s:\n%s" % (KNOWN.name, "\n".join(new))
