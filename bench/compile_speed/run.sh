#!/usr/bin/env bash
# Compile throughput (bundle + parse + lower + emit, MB/s of source read, CPU time, median of RUNS):
#   1. real ES-module code: bench/compile_speed/worker.js, a Worker importing a router (hono) and two date
#      libraries (luxon, date-fns) from node_modules, installed here by npm at run time (package.json);
#   2. a synthetic 1 MB module using every construct the compiler lowers in every block (gen.py).
# Never part of `make test`. Usage: bash bench/compile_speed/run.sh   (env: BUILD=build RUNS=7)
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${BUILD:-../../build}
RUNS=${RUNS:-7}
BIN="$BUILD/tests/compile/compile262"
[ -x "$BIN" ] || { echo "$BIN is missing: build first (ninja -C build)" >&2; exit 1; }
if [ ! -d node_modules/luxon ] || [ ! -d node_modules/hono ] || [ ! -d node_modules/date-fns ]; then
    npm install --no-audit --no-fund --no-save >/dev/null 2>&1 ||
        { echo "npm install failed (the npm registry is needed for the real-code benchmark)" >&2; exit 1; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== real ES modules: worker.js + hono, luxon, date-fns from node_modules"
"$BIN" --bench "$RUNS" worker.js
echo "== synthetic feature-dense 1 MB module (gen.py)"
python3 gen.py 1000000 > "$tmp/dense.js"
"$BIN" --bench "$RUNS" "$tmp/dense.js"
