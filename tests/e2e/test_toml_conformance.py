"""The TOML reader against the toml-test suite (TOML 1.0.0 files): runs tests/config/toml_test.py over the
build's toml2json decoder and checks the targets: every valid case decodes to the expected value, and at
least 98% of the invalid cases are rejected (today all are; see tests/config/toml_known_failures.txt)."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EW_BUILD_DIR", ROOT / "build"))
DECODER = BUILD / "tests" / "config" / "toml2json"
SUITE = pathlib.Path(os.environ.get("TOML_TEST_DIR", ROOT.parent / "shared" / "testdata" / "toml-test"))


@pytest.fixture(scope="module")
def report():
    if not DECODER.exists():
        pytest.fail("no toml2json at %s: build first (ninja -C %s)" % (DECODER, BUILD))
    if not (SUITE / "files-toml-1.0.0").exists():
        pytest.skip("toml-test data not found at %s (set TOML_TEST_DIR)" % SUITE)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "config" / "toml_test.py"),
                           "--decoder", str(DECODER), "--suite", str(SUITE)],
                          capture_output=True, text=True, timeout=600)
    return proc


def total(out, kind):
    m = re.search(r"^%s total\s+(\d+)/(\d+)" % kind, out, re.M)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_all_valid_cases_decode_exactly(report):
    passed, n = total(report.stdout, "valid")
    assert n >= 200, report.stdout
    assert passed == n, report.stdout


def test_invalid_cases_are_rejected(report):
    passed, n = total(report.stdout, "invalid")
    assert n >= 400, report.stdout
    assert passed >= 0.98 * n, report.stdout


def test_no_unexpected_failures(report):
    last = report.stdout.strip().splitlines()[-1]
    assert re.match(r"toml-test: \d+ passed, \d+ failed, \d+ skipped$", last), report.stdout
    assert report.returncode == 0, report.stdout + report.stderr
