#!/usr/bin/env bash
# Foundation benchmarks, side by side in one run (never part of `make test`); wrk uses one thread at -c1:
#   1. isolate start: a new isolate ready to serve, and the memory of an idle one (bench/isolate_start.c);
#   2. hello world over HTTP/1.1 with wrk -t2 at -c64 and -c1, against ew-server (--threads 1) and Node's
#      http module (one process),
#      alternating the two servers REPEAT times and reporting medians: req/s, the server's CPU use (from
#      /proc/PID/stat), req/s per server core, and p99 latency.
# Usage: bash bench/run.sh   (env: BUILD=build DUR=10 REPEAT=3)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DUR=${DUR:-10}
REPEAT=${REPEAT:-3}
EW_PORT=18787
NODE_PORT=18788
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

command -v wrk >/dev/null || { echo "wrk is missing: run make deps" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing (the peer for the HTTP benchmark)" >&2; exit 1; }

echo "== isolate start (500 isolates)"
"$BUILD/bench/isolate_start" 500

wait_ready() { # log file
    for _ in $(seq 100); do grep -q "Ready on" "$1" 2>/dev/null && return 0; sleep 0.05; done
    echo "server did not start: $(cat "$1")" >&2; exit 1
}

cpu_ticks() { # pid -> utime+stime in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# run_one NAME PID URL CONNS -> appends "name conns rps cores per_core p99ms" to $tmp/rows
run_one() {
    local name=$1 pid=$2 url=$3 conns=$4
    local t0 t1 out rps p99 cores
    t0=$(cpu_ticks "$pid")
    local threads=2
    [ "$conns" -lt 2 ] && threads=1
    out=$(wrk -t"$threads" -c"$conns" -d"${DUR}s" --latency "$url")
    t1=$(cpu_ticks "$pid")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
    cores=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v d="$DUR" 'BEGIN {printf "%.2f", (b - a) / hz / d}')
    echo "$name $conns $rps $cores $(awk -v r="$rps" -v c="$cores" 'BEGIN {printf "%.0f", (c > 0) ? r / c : 0}') $p99" >>"$tmp/rows"
}

# One event loop against Node's one process: the per-core comparison the targets are about.
"$BUILD/server/ew-server" --threads 1 --port $EW_PORT examples/hello/ >"$tmp/ew.log" 2>&1 &
ew_pid=$!
node bench/node-hello.js $NODE_PORT >"$tmp/node.log" 2>&1 &
node_pid=$!
wait_ready "$tmp/ew.log"
wait_ready "$tmp/node.log"
# Warm up both.
wrk -t1 -c4 -d1s "http://127.0.0.1:$EW_PORT/" >/dev/null
wrk -t1 -c4 -d1s "http://127.0.0.1:$NODE_PORT/" >/dev/null

for r in $(seq "$REPEAT"); do
    for c in 64 1; do
        run_one ew-server $ew_pid "http://127.0.0.1:$EW_PORT/" $c
        run_one node-http $node_pid "http://127.0.0.1:$NODE_PORT/" $c
    done
done
ew_rss=$(awk '/VmHWM/ {print $2}' "/proc/$ew_pid/status")
node_rss=$(awk '/VmHWM/ {print $2}' "/proc/$node_pid/status")

echo
echo "== hello world, wrk -t2 -d${DUR}s, medians of $REPEAT runs (machine: $(nproc) cores)"
printf "%-10s %5s %10s %12s %14s %9s\n" server conns "req/s" "server cores" "req/s per core" "p99 ms"
for name in ew-server node-http; do
    for c in 64 1; do
        awk -v n="$name" -v c="$c" '$1 == n && $2 == c' "$tmp/rows" | sort -k3 -n | awk -v R="$REPEAT" '
            { rps[NR] = $3; cores[NR] = $4; pc[NR] = $5; p99[NR] = $6; name = $1; conns = $2 }
            END { m = int((NR + 1) / 2); printf "%-10s %5s %10.0f %12.2f %14.0f %9.2f\n", name, conns, rps[m], cores[m], pc[m], p99[m] }'
    done
done
echo
echo "peak RSS: ew-server ${ew_rss} KB, node ${node_rss} KB"
