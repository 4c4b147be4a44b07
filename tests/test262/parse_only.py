#!/usr/bin/env python3
"""Parse-only conformance of lib/compile's parser against a test262 checkout.

Usage: parse_only.py --test262-dir DIR [--build-dir build-parse] [--verbose] [--list-failures] PATH...
PATHs are relative to DIR/test (e.g. `language`, `language/expressions/class`).

Each test is parsed (never run) with the goal and strictness its metadata asks for: flags `module` (module goal),
`raw` (as is), `onlyStrict` ("use strict"; prepended), `noStrict` (sloppy only), otherwise both sloppy and strict.
A test passes when every run parses, or, for `negative: {phase: parse}`, when every run is rejected. Tests whose
features are out of scope (below) are skipped. tests/test262/parse_known_failures.txt lists the failures we know
about, one `path  # reason` a line; they are still counted as failures, but only new ones make the exit status 1.

Prints one line per directory and then `parse262: N passed, M failed, K skipped`.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

# Features whose syntax the compiler does not support (BigInt, lookbehind, \p{} by decision; see
# COMPILER-NOTES.md), runtime-only features that need no parsing decision, and proposals newer than ES2022.
SKIP_FEATURES = {
    # out of scope by decision
    'BigInt', 'regexp-lookbehind', 'regexp-unicode-property-escapes', 'Atomics', 'SharedArrayBuffer',
    'tail-call-optimization',
    # newer than ES2022 (syntax the front end does not accept yet)
    'regexp-modifiers', 'regexp-v-flag', 'regexp-duplicate-named-groups', 'import-attributes',
    'import-assertions', 'json-modules', 'source-phase-imports', 'source-phase-imports-module-source',
    'import-defer', 'decorators', 'explicit-resource-management', 'import-text', 'import-bytes',
    'uint8array-base64',
}

FRONTMATTER = re.compile(r'/\*---(.*?)---\*/', re.S)


def parse_meta(text):
    """Minimal YAML reading of test262 frontmatter: flags, features, negative phase."""
    m = FRONTMATTER.search(text)
    meta = {'flags': [], 'features': [], 'phase': None}
    if not m:
        return meta
    body = m.group(1)
    for key in ('flags', 'features'):
        mm = re.search(r'^\s*' + key + r':\s*\[(.*?)\]', body, re.M | re.S)
        if mm:
            meta[key] = [x.strip() for x in mm.group(1).split(',') if x.strip()]
        else:
            mm = re.search(r'^\s*' + key + r':\s*\n((?:\s+-\s*.*\n)+)', body, re.M)
            if mm:
                meta[key] = [x.strip()[1:].strip() for x in mm.group(1).splitlines() if x.strip()]
    mm = re.search(r'negative:\s*\n\s+phase:\s*(\w+)', body)
    if mm:
        meta['phase'] = mm.group(1)
    else:
        mm = re.search(r'negative:\s*\n\s+type:\s*\w+\s*\n\s+phase:\s*(\w+)', body)
        if mm:
            meta['phase'] = mm.group(1)
    return meta


def runs_for(meta):
    flags = meta['flags']
    if 'module' in flags:
        return ['module']
    if 'raw' in flags:
        return ['script']
    if 'onlyStrict' in flags:
        return ['strict']
    if 'noStrict' in flags:
        return ['script']
    return ['script', 'strict']


def load_known(path):
    known = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                name, _, reason = line.partition('#')
                known[name.strip()] = reason.strip()
    return known


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--test262-dir', default=os.environ.get('TEST262_DIR', '/work/test262'))
    ap.add_argument('--build-dir', default='build-parse')
    ap.add_argument('--verbose', action='store_true', help='print each failure with the parser message')
    ap.add_argument('--list-failures', action='store_true', help='print failing paths only')
    ap.add_argument('paths', nargs='*', default=['language'])
    args = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    exe = os.path.join(args.build_dir if os.path.isabs(args.build_dir) else os.path.join(repo, args.build_dir),
                       'tests', 'compile', 'parse262')
    known = load_known(os.path.join(here, 'parse_known_failures.txt'))
    testdir = os.path.join(args.test262_dir, 'test')

    files = []
    for p in args.paths:
        full = os.path.join(testdir, p)
        if os.path.isfile(full):
            files.append(full)
            continue
        for root, _, names in os.walk(full):
            for n in sorted(names):
                if n.endswith('.js') and '_FIXTURE' not in n:
                    files.append(os.path.join(root, n))
    files.sort()

    jobs, skipped = [], collections.Counter()
    for f in files:
        with open(f, encoding='utf-8', errors='surrogateescape') as fh:
            meta = parse_meta(fh.read())
        rel = os.path.relpath(f, testdir)
        d = os.path.dirname(rel)
        if SKIP_FEATURES.intersection(meta['features']):
            skipped[d] += 1
            continue
        jobs.append((rel, f, d, runs_for(meta), meta['phase'] == 'parse'))

    requests = []
    for rel, f, d, runs, neg in jobs:
        for r in runs:
            requests.append('%s %s\n' % (r, f))
    proc = subprocess.run([exe, '--batch'], input=''.join(requests), capture_output=True, text=True,
                          errors='replace')
    answers = proc.stdout.splitlines()
    if len(answers) != len(requests):
        sys.stderr.write('parse262 answered %d of %d requests (crash?)\n%s\n' % (len(answers), len(requests),
                                                                                  proc.stderr[-2000:]))
        # Find the request it died on.
        if len(answers) < len(requests):
            sys.stderr.write('last request: %s' % requests[len(answers)])
        return 2

    passed, failed = collections.Counter(), collections.Counter()
    new_failures, known_failures = [], []
    i = 0
    for rel, f, d, runs, neg in jobs:
        ok, msgs = True, []
        for r in runs:
            a = answers[i]
            i += 1
            parsed = a == 'PASS'
            if parsed == neg:
                ok = False
                msgs.append('%s: %s' % (r, a if not parsed else 'parsed but expected a SyntaxError'))
        if ok:
            passed[d] += 1
        else:
            failed[d] += 1
            (known_failures if rel in known else new_failures).append((rel, msgs))

    for d in sorted(set(passed) | set(failed) | set(skipped)):
        if not args.list_failures:
            print('%-70s %5d passed %4d failed %4d skipped' % (d, passed[d], failed[d], skipped[d]))
    if args.verbose or args.list_failures:
        for rel, msgs in new_failures:
            print('FAIL %s  %s' % (rel, ' | '.join(msgs)) if args.verbose else rel)
    total_p, total_f, total_s = sum(passed.values()), sum(failed.values()), sum(skipped.values())
    pct = 100.0 * total_p / max(1, total_p + total_f)
    print('parse262: %d passed, %d failed, %d skipped (%.2f%%; %d known failures, %d new)' %
          (total_p, total_f, total_s, pct, len(known_failures), len(new_failures)))
    return 1 if new_failures else 0


if __name__ == '__main__':
    sys.exit(main())
