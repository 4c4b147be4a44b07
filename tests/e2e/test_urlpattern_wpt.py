"""URLPattern conformance: every case of the web-platform-tests file urlpatterntestdata.json (read in place from
../shared/testdata/wpt-url/), run through the compiler and lib/js/urlpattern.js by jstest, checked as WPT checks
them (tests/web/urlpattern_wpt.js).

Prints the pass rate, asserts >= 90% (the issue's target), and that every failing case is listed with its reason
in tests/web/urlpattern-known-failures.txt, so a regression fails even while the rate is above the target.
"""
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build"))
JSTEST = BUILD / "tests" / "js" / "jstest"
DATA = pathlib.Path(os.environ.get("WPT_URL_DIR", ROOT.parent / "shared" / "testdata" / "wpt-url"))
KNOWN = ROOT / "tests" / "web" / "urlpattern-known-failures.txt"


def known_failures():
    cases = {}
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, reason = line.partition("#")
            cases[key.strip()] = reason.strip()
    return cases


def test_urlpattern_wpt(tmp_path):
    data = json.loads((DATA / "urlpatterntestdata.json").read_text(encoding="utf-8"))
    entry = tmp_path / "urlpattern_wpt_cases.js"
    entry.write_text(
        "import { register, run } from %s;\n"
        "register(%s);\n"
        "export default { fetch: run };\n" % (json.dumps(str(ROOT / "tests" / "web" / "urlpattern_wpt.js")),
                                              json.dumps(data)),
        encoding="utf-8")
    proc = subprocess.run([str(JSTEST), str(entry)], capture_output=True, text=True, timeout=300)
    lines = [l for l in proc.stdout.splitlines() if l.startswith(("ok ", "not ok "))]
    assert len(lines) == len(data), proc.stderr[-2000:]
    failed = {}
    for line in lines:
        if line.startswith("not ok "):
            name, _, why = line[len("not ok "):].partition(": ")
            failed[name] = why
    passed = len(data) - len(failed)
    print("wpt-urlpattern: %d passed, %d failed (%.1f%%)" % (passed, len(failed), 100.0 * passed / len(data)))
    known = known_failures()
    unexpected = {k: v for k, v in failed.items() if k not in known}
    assert not unexpected, "failures not in %s:\n%s" % (
        KNOWN.name, "\n".join("%s: %s  pattern=%s" % (k, v, json.dumps(data[int(k.split()[1])].get("pattern")))
                              for k, v in sorted(unexpected.items())))
    fixed = sorted(k for k in known if k not in failed)
    assert not fixed, "cases listed in %s now pass; remove them: %s" % (KNOWN.name, fixed)
    assert passed >= 0.90 * len(data)
