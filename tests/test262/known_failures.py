#!/usr/bin/env python3
"""Writes tests/test262/known_failures.txt from a run.py --json result: one line per failing test, the path
relative to test/ and the reason, classified by the rules below (most specific first). A failure no rule
explains is listed as "unclassified: <its message>" so that it still shows, and run.py --check then only
reports failures that are not in the file (regressions) and listed tests that now pass.

    python3 tests/test262/run.py --test262-dir DIR --json /tmp/r.json language/expressions ...
    python3 tests/test262/known_failures.py /tmp/r.json [--merge]

--merge keeps the entries of the current file for tests the JSON did not run (a partial run).
"""
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent

# (test path regex or None, reason regex or None, reason). Both given: both must match.
RULES = [
    (None, r"internal compiler error",
     "compiler bug: the ES5 output does not parse in Duktape (to fix)"),
    (r"dynamic-import/", r"Cannot find module '[^']+' imported from",
     "import() of a specifier computed at run time: the bundle holds only modules named by string literals"),
    (None, r"at eval \(|directeval|\(input:|\(compile:|evalClass|createClass|createAndInstantiateClass",
     "eval / new Function run Duktape's ES5 parser, not the compiler: ES2015+ source there is a SyntaxError"),
    (r"(^|/)(eval-|S11\.13\.2_A7|S11\.13\.1_A7)", None,
     "direct eval: code and early errors of eval run through Duktape's ES5 parser (docs/compiler.md)"),
    (r"BigInt|bigint", r"BigInt", "BigInt literal (out of scope)"),
    (None, r"BigInt literals are not supported", "BigInt literal without the BigInt feature tag (out of scope)"),
    (r"scope-(param|paramsbody)-", None,
     "parameters and body share one ES5 function scope (separate var environment not modelled)"),
    (r"forbidden-ext|restricted-properties|/caller|arguments-caller", None,
     "own 'caller'/'arguments' of strict functions and classes: Duktape's ES5 poison pills"),
    (r"/with/|unscopables|S11\.13\.(1|2)_A[56]", None,
     "`with`: binding resolution order and Symbol.unscopables follow Duktape's ES5 with statement"),
    (None, r"scope\.x|innerScope\.x|innerX",
     "`with`/object environment reference resolved after the right-hand side (Duktape's ES5 order)"),
    (r"/cptn-|completion", None, "statement completion values (eval result) follow Duktape's ES5 rules"),
    (r"module-code/namespace/internals/", None,
     "module namespace exotic object internals ([[DefineOwnProperty]], [[Set]], [[Delete]], symbol keys): "
     "the namespace is an ordinary sealed object with getters"),
    (r"module-code/", r"Expected a ReferenceError|binding is created but not initialized",
     "TDZ of a module binding reached before its module's body ran in a case the compiler does not guard"),
    (r"-put-const|const-(assign|update)", None,
     "assignment to a const through a destructuring target does not throw"),
    (r"/dstr/.*(iter-close|rtrn-close|close-)|iterator", r"iterator|return",
     "destructuring/for-of iterator protocol edge case (IteratorClose on abrupt completion or result checks)"),
    (None, r"Expected a ReferenceError to be thrown|Expected a ReferenceError but got",
     "TDZ not detected in this position (loop head, switch case, class element, or a closure after an inert "
     "prefix; docs/compiler.md)"),
    (None, r"name descriptor value should be \[|Expected SameValue\(«\"\"», «\"\[",
     "function name of a symbol-keyed or computed member ('[desc]') is not inferred"),
    (None, r"name descriptor|\.name|name value",
     "function name inference not applied in this position"),
    (None, r"length (descriptor|is properly set)|\.length", "function length edge case"),
    (r"class/", r"private|#", "private names: an edge of the WeakMap-based lowering"),
    (r"class/", r"super|Must call super constructor|derived",
     "class construction edge (super() / this ordering in derived constructors)"),
    (r"class/", r"not configurable|defineProperty|TypeError", "class element definition order or attributes edge"),
    (r"generators/|async-generator/|yield", None, "generator / async generator protocol edge case"),
    (r"async-function/|await", None, "async function ordering edge case (microtask turns)"),
    (r"/for-in/", None, "for-in enumeration/assignment edge (Duktape's ES5 for-in)"),
    (r"/switch/", None, "switch block scoping edge (lexical declarations shared by cases)"),
    (r"/(let|const)/", None, "let/const edge (global lexical environment, TDZ in unusual position)"),
    (r"/function/|arrow-function/", None, "function object edge (ES5 function semantics of Duktape)"),
    (r"/object/", None, "object literal edge (__proto__, accessors, method attributes)"),
    (r"/(for|for-of|while|do-while|try|labeled|if|block|variable)/", None,
     "statement semantics edge of the ES5 output"),
    (r"^built-ins/", r"revocable", "Proxy.revocable is missing (Duktape's Proxy subset)"),
    (r"^built-ins/", r"groupBy", "Object.groupBy / Map.groupBy are missing (not in the issue's built-ins list)"),
    (r"^built-ins/Array", r"invalid length|RangeError|2\*\*53|2\^53",
     "lengths beyond 2^32 - 1: Duktape's arrays and ToLength differ from ES2015+"),
    (r"^built-ins/", r"Proxy|ownKeys|trap", "Proxy traps Duktape lacks (ownKeys, getOwnPropertyDescriptor, ...)"),
    (r"^built-ins/", r"Expected a TypeError to be thrown", "built-in argument validation missing (no TypeError)"),
    (r"^built-ins/", r"Expected a Test262Error to be thrown|Expected a Test262Error but got",
     "built-in does not propagate an abrupt completion (a throwing getter/valueOf) at the specification's step"),
    (r"^built-ins/", None, "built-in edge case of lib/core (Duktape ES5 behaviour underneath)"),
]


def classify(test, reason):
    for path_re, reason_re, text in RULES:
        if path_re and not re.search(path_re, test):
            continue
        if reason_re and not re.search(reason_re, reason or ""):
            continue
        return text
    msg = re.sub(r"\s+", " ", reason or "").strip()[:140]
    return "unclassified: " + msg


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    records = json.load(open(sys.argv[1]))
    merge = "--merge" in sys.argv[2:]
    entries = {}
    path = HERE / "known_failures.txt"
    if merge and path.exists():
        ran = {r["test"] for r in records}
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                if name not in ran:
                    entries[name] = why.strip()
    for r in records:
        if r["status"] == "fail":
            entries[r["test"]] = classify(r["test"], r["reason"])
    head = ("# test262 tests that fail today, each with its reason (tests/test262/known_failures.py writes this from a\n"
            "# run.py --json result; run.py --check reports failures not listed here and listed tests that pass).\n"
            "# Format: path relative to test/, a space, the reason.\n")
    path.write_text(head + "".join("%s %s\n" % (k, entries[k]) for k in sorted(entries)))
    by_reason = {}
    for k in entries:
        by_reason[entries[k].split(":")[0] if entries[k].startswith("unclassified") else entries[k]] = \
            by_reason.get(entries[k].split(":")[0] if entries[k].startswith("unclassified") else entries[k], 0) + 1
    for why, n in sorted(by_reason.items(), key=lambda x: -x[1]):
        print("%5d  %s" % (n, why))
    print("%d entries written to %s" % (len(entries), path))


if __name__ == "__main__":
    main()
