#!/usr/bin/env python3
"""Runs test262 tests through libedgeworker (compiler + runtime) and reports pass rates.

    python3 tests/test262/run.py --test262-dir DIR [--build-dir build] [--json OUT] [-j N] [PATH ...]

PATH is relative to DIR/test (a directory or a file); the default is the directories in scope for the
compiler issue. Each test's metadata is honoured: includes, flags (onlyStrict, noStrict, module, async, raw),
negative (phase parse/resolution/runtime and the error type) and features: tests whose features are out of
scope (FEATURES_OUT_OF_SCOPE below) are skipped. Failures stay failures; known_failures.txt gives the
reason for each (the --json output carries it; known_failures.py writes the file from a --json result), and
--check lists failures not in it, so a regression shows up (exit 1). Tests without flags run twice,
sloppy and strict, and pass only if both pass. Prints one line per directory and, last,
`test262: N passed, M failed, K skipped`. test262 itself is never committed: get it with the search tool's
fetch (tc39/test262) into a folder outside the repository and point TEST262_DIR or --test262-dir at it.
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]

DEFAULT_PATHS = [
    "language/expressions", "language/statements", "language/module-code", "language/block-scope",
    "language/destructuring", "language/rest-parameters",
    "built-ins/Promise", "built-ins/Map", "built-ins/Set", "built-ins/WeakMap", "built-ins/Array",
    "built-ins/Object", "built-ins/String", "built-ins/Symbol",
]

# Declared out of scope by the compiler issue (and ARCHITECTURE.md): skipped by their `features` tag.
FEATURES_OUT_OF_SCOPE = {
    "BigInt", "Atomics", "SharedArrayBuffer", "Atomics.waitAsync", "Atomics.pause", "tail-call-optimization",
    "Intl", "Intl.DateTimeFormat", "Temporal", "ShadowRealm", "cross-realm", "regexp-lookbehind",
    "regexp-unicode-property-escapes", "regexp-v-flag", "regexp-duplicate-named-groups", "regexp-modifiers",
    "decorators", "explicit-resource-management", "source-phase-imports", "source-phase-imports-module-source",
    "import-defer", "json-parse-with-source", "Array.fromAsync", "iterator-helpers", "iterator-sequencing",
    "joint-iteration", "set-methods", "resizable-arraybuffer", "arraybuffer-transfer", "Float16Array",
    "uint8array-base64", "promise-try", "RegExp.escape", "Math.sumPrecise", "upsert", "import-attributes",
    "json-modules", "legacy-regexp", "IsHTMLDDA", "host-gc-required", "FinalizationRegistry.prototype.cleanupSome",
    "caller", "canonical-tz", "symbols-as-weakmap-keys", "Error.isError", "immutable-arraybuffer",
    "await-dictionary", "nonextensible-applies-to-private", "error-stack-accessor",
}

PRELUDE = (
    "function print(m) { console.log(String(m)); }\n"
    "var $262 = { global: this, gc: function () {}, evalScript: function (s) { return (0, eval)(s); },\n"
    "  detachArrayBuffer: function () { throw new Test262Error('detachArrayBuffer is not supported'); },\n"
    "  agent: {} };\n"
)

META_RE = re.compile(r"/\*---(.*?)---\*/", re.S)


def parse_meta(text):
    """The subset of YAML that test262's frontmatter uses: scalars, [inline, lists], - block lists, nested maps."""
    m = META_RE.search(text)
    meta = {"includes": [], "flags": [], "features": [], "negative": None}
    if not m:
        return meta
    key = None
    for line in m.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        s = line.strip()
        if indent == 0 and ":" in s:
            key, _, rest = s.partition(":")
            rest = rest.strip()
            if key == "negative":
                meta["negative"] = {}
            elif rest.startswith("["):
                meta[key] = [x.strip() for x in rest.strip("[]").split(",") if x.strip()]
            elif key in ("includes", "flags", "features"):
                meta[key] = [] if not rest else [rest]
        elif key == "negative" and ":" in s:
            k, _, v = s.partition(":")
            meta["negative"][k.strip()] = v.strip()
        elif s.startswith("- ") and key in ("includes", "flags", "features"):
            meta[key].append(s[2:].strip())
    return meta


def load_known_failures():
    known = {}
    path = HERE / "known_failures.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                known[name] = reason.strip()
    return known


class Runner:
    def __init__(self, test262, build):
        self.test262 = test262
        self.host = build / "tests" / "test262" / "host262"
        self.harness_cache = {}

    def harness(self, name):
        if name not in self.harness_cache:
            self.harness_cache[name] = (self.test262 / "harness" / name).read_text()
        return self.harness_cache[name]

    def run_once(self, source, meta, strict, path=None):
        flags = meta["flags"]
        parts = []
        if strict:
            parts.append('"use strict";\n')
        if "raw" not in flags:
            parts.append(PRELUDE)
            includes = ["assert.js", "sta.js"] + (["doneprintHandle.js"] if "async" in flags else [])
            for inc in includes + meta["includes"]:
                parts.append(self.harness(inc) + "\n")
        parts.append(source)
        program = "".join(parts)
        try:
            cmd = [str(self.host)] + (["--filename", str(path)] if path is not None else [])
            cmd.append("--module" if "module" in flags else "--script")
            out = subprocess.run(cmd, input=program.encode(), capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            return False, "timeout"
        except OSError as e:  # e.g. the host is being rebuilt while the run goes on
            return False, "host could not run: %s" % e
        lines = out.stdout.decode("utf-8", "replace").splitlines()
        result = next((l for l in reversed(lines) if l.startswith("RESULT ")), None)
        if result is None:
            return False, "host crashed (exit %s): %s" % (out.returncode, out.stderr.decode()[-300:])
        kind, _, message = result[7:].partition(" ")
        neg = meta["negative"]
        if neg:
            want_type = neg.get("type", "")
            if neg.get("phase") in ("parse", "early"):
                return (kind == "syntax", "expected a SyntaxError at parse time, got %s %s" % (kind, message))
            if neg.get("phase") == "resolution" and want_type == "SyntaxError" and kind == "syntax":
                return True, ""  # linking happens in the bundler: its errors are compile-time SyntaxErrors
            if kind == "error" and want_type and want_type in message.split(":", 1)[0]:
                return True, ""
            if kind == "ok" and "module" in flags and neg.get("phase") == "runtime":
                # a module whose evaluation finishes asynchronously (top-level await) fails through its
                # evaluation promise: the host reports that rejection as unhandled
                for l in lines:
                    if l.startswith("LOG Uncaught (in promise) ") and want_type in l[26:].split(":", 1)[0]:
                        return True, ""
            return False, "expected %s, got %s %s" % (want_type, kind, message)
        if kind != "ok":
            return False, "%s %s" % (kind, message)
        if "async" in flags:
            prints = [l[6:] for l in lines if l.startswith("PRINT ")]
            if "Test262:AsyncTestComplete" not in prints:
                fail = next((p for p in prints if p.startswith("Test262:AsyncTestFailure")), "no $DONE")
                return False, fail
        return True, ""

    def run_test(self, path):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        meta = parse_meta(text)
        flags = meta["flags"]
        out_of_scope = [f for f in meta["features"] if f in FEATURES_OUT_OF_SCOPE]
        if out_of_scope:
            return "skip", "feature " + ", ".join(out_of_scope)
        if "module" in flags:
            modes = [False]
        elif "onlyStrict" in flags:
            modes = [True]
        elif "noStrict" in flags or "raw" in flags:
            modes = [False]
        else:
            modes = [False, True]
        for strict in modes:
            ok, why = self.run_once(text, meta, strict, path)
            if not ok:
                return "fail", ("strict: " if strict else "") + why
        return "pass", ""


def collect(test262, paths):
    files = []
    for p in paths:
        full = test262 / "test" / p
        if full.is_file():
            files.append(full)
        else:
            files.extend(sorted(f for f in full.rglob("*.js") if "_FIXTURE" not in f.name))
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--test262-dir", default=os.environ.get("TEST262_DIR"))
    ap.add_argument("--build-dir", default=os.environ.get("EW_BUILD_DIR", str(ROOT / "build")))
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--check", action="store_true",
                    help="list failures missing from known_failures.txt (and listed tests that pass); exit 1 on any")
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    if not args.test262_dir:
        print("test262: no checkout given (--test262-dir or TEST262_DIR); nothing to run")
        print("test262: 0 passed, 0 failed, 0 skipped")
        return 0
    test262 = pathlib.Path(args.test262_dir)
    runner = Runner(test262, pathlib.Path(args.build_dir))
    if not runner.host.exists():
        sys.exit("test262: %s is not built (ninja -C %s)" % (runner.host, args.build_dir))
    known = load_known_failures()
    files = collect(test262, args.paths or DEFAULT_PATHS)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(runner.run_test, files))

    per_dir = {}
    records = []
    for f, (status, why) in zip(files, results):
        rel = f.relative_to(test262 / "test").as_posix()
        d = "/".join(rel.split("/")[:2])
        counts = per_dir.setdefault(d, [0, 0, 0])
        counts[{"pass": 0, "fail": 1, "skip": 2}[status]] += 1
        records.append({"test": rel, "status": status, "reason": why, "known": known.get(rel)})
    for d, (p, fl, sk) in sorted(per_dir.items()):
        rate = 100.0 * p / (p + fl) if p + fl else 100.0
        print("%-45s %6d passed %6d failed %6d skipped  %5.1f%%" % (d, p, fl, sk, rate))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(records, out, indent=1)
    new = [r for r in records if r["status"] == "fail" and not r["known"]]
    fixed = [r for r in records if r["status"] == "pass" and r["known"]]
    if known:
        print("known failures: %d failures not in known_failures.txt, %d listed tests pass"
              % (len(new), len(fixed)))
    if args.check:
        for r in new[:100]:
            print("NEW FAILURE %s: %s" % (r["test"], r["reason"][:200]))
        for r in fixed[:100]:
            print("NOW PASSES %s (remove it from known_failures.txt)" % r["test"])
    passed = sum(c[0] for c in per_dir.values())
    failed = sum(c[1] for c in per_dir.values())
    skipped = sum(c[2] for c in per_dir.values())
    print("test262: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if args.check and new else 0


if __name__ == "__main__":
    sys.exit(main())
