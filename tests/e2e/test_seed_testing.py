"""The seed's "Testing Strategies" (workers-seed.md) against ew-server, all in one place: examples/testing
is the Worker the seed's tests talk to, with the seed's two test files translated beside it
(test_unit.py through the Python bindings' worker.fetch, test_integration.py over HTTP to a running
ew-server with KV and R2). Here they run as a user would run them, and the seed's own JavaScript test
files run unmodified under Node against ew-server, with small stand-ins for vitest and wrangler's
unstable_dev (which starts ew-server on the project instead of wrangler dev)."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT, SEED, SERVER, Server

EXAMPLE = ROOT / "examples" / "testing"
SECTIONS = {"unit": "### 1. Unit Testing", "integration": "### 2. Integration Testing"}


def seed_block(title):
    """The first ```javascript block after `title` in the seed."""
    text = SEED.read_text()
    start = text.index(title)
    return re.search(r"```javascript\n(.*?)```", text[start:], re.S).group(1)


def pytest_run(path, **env):
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, EDGEWORKER_LIB=str(BUILD / "lib" / "libedgeworker.so"), **env))
    return out.returncode, out.stdout + out.stderr


@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not on this machine")
def test_the_translations_have_every_test_of_the_seed():
    for kind, title in SECTIONS.items():
        names = re.findall(r"\btest\('([^']+)'", seed_block(title))
        assert len(names) == 2, names
        ours = set(re.findall(r"^def (test_\w+)\(", (EXAMPLE / ("test_%s.py" % kind)).read_text(), re.M))
        assert ours == {"test_" + re.sub(r"\W+", "_", n).lower() for n in names}, (kind, names)


def test_unit_tests_through_the_python_bindings():
    rc, out = pytest_run(EXAMPLE / "test_unit.py", PYTHONPATH=str(ROOT / "bindings-python"))
    assert rc == 0 and "2 passed" in out, out


def test_integration_tests_over_http(tmp_path):
    s = Server(EXAMPLE, ("--persist-to", str(tmp_path / "state")))
    try:
        rc, out = pytest_run(EXAMPLE / "test_integration.py", WORKER_URL=s.url)
        assert rc == 0 and "2 passed" in out, out + s.read_output()
    finally:
        assert s.stop() == 0


# --- the seed's JavaScript test files, unmodified, under Node ----------------------------------------------

# vitest: describe/test/expect and the hooks, also as globals (the seed's unit test calls afterEach without
# importing it, as vitest allows with `globals: true`).
VITEST_SHIM = r"""
const tests = [], before = [], after = [];
export function describe(name, fn) { fn(); }
export function test(name, fn) { tests.push({ name, fn }); }
export const it = test;
export function beforeEach(fn) { before.push(fn); }
export function afterEach(fn) { after.push(fn); }
export function expect(actual) {
  const fail = (what) => { throw new Error(`expected ${JSON.stringify(actual)} ${what}`); };
  return {
    toBe(v) { if (actual !== v) fail(`to be ${JSON.stringify(v)}`); },
    toBeDefined() { if (actual === undefined) fail('to be defined'); },
    toEqual(v) { if (JSON.stringify(actual) !== JSON.stringify(v)) fail(`to equal ${JSON.stringify(v)}`); },
  };
}
Object.assign(globalThis, { describe, test, it, expect, beforeEach, afterEach });
export async function runAll() {
  let failed = 0;
  for (const t of tests) {
    try {
      for (const fn of before) await fn();
      try { await t.fn(); } finally { for (const fn of after) await fn(); }
      console.log(`ok ${t.name}`);
    } catch (e) { failed++; console.log(`not ok ${t.name}: ${e.message}`); }
  }
  return { failed, count: tests.length };
}
"""

# wrangler's unstable_dev(script): serves the project in the current folder (whose wrangler.toml names the
# script as main) with ew-server on a free port; fetch(path, init) and stop() as wrangler's.
WRANGLER_SHIM = r"""
import { spawn } from 'node:child_process';
import { once } from 'node:events';
export async function unstable_dev(script, options = {}) {
  const child = spawn(process.env.EW_SERVER, ['--port', '0', '--threads', '1',
    '--persist-to', process.env.EW_STATE, process.cwd()], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Ready on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`ew-server exited (${code}): ${out}`)));
  });
  return {
    fetch: (path, init) => fetch(new URL(path, url), init),
    async stop() { child.kill('SIGTERM'); await once(child, 'exit'); },
  };
}
"""

RUNNER = r"""
// The seed's integration tests talk to https://my-worker.example.workers.dev: send those to ew-server.
const target = process.env.SEED_TARGET;
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = String(input instanceof Request ? input.url : input)
    .replace('https://my-worker.example.workers.dev', target);
  return realFetch(url, init);
};
const { runAll } = await import('vitest');
await import(process.argv[2]);
const { failed, count } = await runAll();
if (count === 0 || failed > 0) process.exit(1);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.skipif(not SEED.exists(), reason="the seed document is not on this machine")
def test_seed_test_files_run_unmodified_under_node(tmp_path):
    work = tmp_path / "project"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns(".wrangler", "__pycache__"))
    for name, shim in (("vitest", VITEST_SHIM), ("wrangler", WRANGLER_SHIM)):
        (work / "node_modules" / name).mkdir(parents=True)
        (work / "node_modules" / name / "package.json").write_text(
            json.dumps({"name": name, "type": "module", "main": "index.js"}))
        (work / "node_modules" / name / "index.js").write_text(shim)
    (work / "package.json").write_text(json.dumps({"type": "module"}))
    (work / "runner.mjs").write_text(RUNNER)
    for kind, title in SECTIONS.items():
        (work / ("seed_%s.test.mjs" % kind)).write_text(seed_block(title))
    env = dict(os.environ, EW_SERVER=str(SERVER), EW_STATE=str(tmp_path / "unit-state"))
    res = subprocess.run(["node", "runner.mjs", "./seed_unit.test.mjs"], cwd=work, capture_output=True,
                         text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ok should handle GET request" in res.stdout and "ok should handle POST request with JSON" in res.stdout
    s = Server(work, ("--persist-to", str(tmp_path / "state")))
    try:
        res = subprocess.run(["node", "runner.mjs", "./seed_integration.test.mjs"], cwd=work, capture_output=True,
                             text=True, timeout=60, env=dict(env, SEED_TARGET=s.url))
        assert res.returncode == 0, res.stdout + res.stderr + s.read_output()
        assert "ok should integrate with KV storage" in res.stdout
        assert "ok should handle R2 file operations" in res.stdout
    finally:
        assert s.stop() == 0
