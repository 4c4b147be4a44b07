#!/usr/bin/env python3
"""Printer stress: parse -> emit -> parse every test262 file that parses, and compare the two ESTree dumps.

Usage: roundtrip262.py [--test262-dir DIR] [--build-dir build-emit] [--list-failures] [PATH...]
PATHs are relative to DIR/test (default: language).

Each file is read with the goal and strictness its metadata asks for (the same rules as
tests/test262/parse_only.py, whose helpers are reused). tests/compile/emit262 --batch does the work in one process:
a file that does not parse is skipped; one that parses must print (in three layouts: retained lines, minified,
pretty) to text that parses back to the same tree (without positions and literals' raw text).
Prints `roundtrip262: N passed, M failed, K skipped (not parsed)`; exit status 1 if anything failed.
"""
import argparse
import collections
import importlib.util
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def load_parse_only():
    spec = importlib.util.spec_from_file_location('parse_only', os.path.join(REPO, 'tests', 'test262',
                                                                           'parse_only.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--test262-dir', default=os.environ.get('TEST262_DIR', '/work/test262'))
    ap.add_argument('--build-dir', default='build-emit')
    ap.add_argument('--list-failures', action='store_true')
    ap.add_argument('paths', nargs='*', default=['language'])
    args = ap.parse_args()
    po = load_parse_only()

    build = args.build_dir if os.path.isabs(args.build_dir) else os.path.join(REPO, args.build_dir)
    exe = os.path.join(build, 'tests', 'compile', 'emit262')
    testdir = os.path.join(args.test262_dir, 'test')
    files = []
    for p in args.paths:
        full = os.path.join(testdir, p)
        if os.path.isfile(full):
            files.append(full)
            continue
        for root, _, names in os.walk(full):
            files.extend(os.path.join(root, n) for n in names if n.endswith('.js') and '_FIXTURE' not in n)
    files.sort()

    jobs = []
    for f in files:
        with open(f, encoding='utf-8', errors='surrogateescape') as fh:
            meta = po.parse_meta(fh.read())
        for mode in po.runs_for(meta):
            jobs.append((mode, f))

    proc = subprocess.run([exe, '--batch'], input=''.join('%s %s\n' % j for j in jobs), capture_output=True,
                          text=True)
    answers = proc.stdout.splitlines()
    if len(answers) != len(jobs):
        print('emit262 stopped after %d of %d runs (exit %d): %s' % (len(answers), len(jobs), proc.returncode,
                                                                     jobs[len(answers)] if len(answers) < len(jobs)
                                                                     else ''), file=sys.stderr)
        return 2
    counts = collections.Counter()
    for (mode, f), a in zip(jobs, answers):
        kind = a.split(' ', 1)[0]
        counts[kind] += 1
        if kind == 'FAIL':
            rel = os.path.relpath(f, testdir)
            print('%s [%s] %s' % (rel, mode, a[5:]) if not args.list_failures else rel)
    parsed = counts['PASS'] + counts['FAIL']
    print('roundtrip262: %d passed, %d failed, %d skipped (not parsed); %.2f%% of the %d parsed runs' %
          (counts['PASS'], counts['FAIL'], counts['SKIP'], 100.0 * counts['PASS'] / max(parsed, 1), parsed))
    return 1 if counts['FAIL'] else 0


if __name__ == '__main__':
    sys.exit(main())
