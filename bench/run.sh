#!/usr/bin/env bash
# HTTP benchmarks, side by side in one run (never part of `make test`):
#   1. isolate start: a new isolate ready to serve, and the memory of an idle one (bench/isolate_start.c),
#      and the CPU of one request through the C API alone (bench/worker_call.c);
#   2. two Workers — hello world (examples/hello) and a small JSON API (bench/json-api.js) — over HTTP/1.1
#      with wrk at -c64 (-t2) and -c1 (-t1), against ew-server (--threads 1), Node's http module (one
#      process, the same work in bench/node-*.js) and workerd (npm package `workerd`, bench/workerd-*.capnp),
#      alternating the servers REPEAT times and reporting medians: req/s, the server's CPU use (from
#      /proc/PID/stat), req/s per server core, p99 latency, and the server's peak RSS;
#   3. the same two Workers over HTTP/2 cleartext (prior knowledge) with h2load at -c64 -m10 (-t2) and -c1 -m1,
#      against ew-server and Node's http2 module (bench/node-*.js with the argument h2); workerd's http
#      socket serves no h2c, so it has no column there;
#   4. start to first response (bench/first_response.py, median of 5).
# workerd is installed into bench/node_modules by `npm install` (bench/package.json) when missing; without
# the npm registry it is left out and said so.
# Usage: bash bench/run.sh   (env: BUILD=build DUR=10 REPEAT=3 WORKLOADS="hello json")
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DUR=${DUR:-10}
REPEAT=${REPEAT:-3}
WORKLOADS=${WORKLOADS:-hello json}
PY=${PY:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

command -v wrk >/dev/null || { echo "wrk is missing: run make deps" >&2; exit 1; }
command -v h2load >/dev/null || { echo "h2load is missing: run make deps (nghttp2-client)" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing (a peer of the HTTP benchmark)" >&2; exit 1; }

WORKERD=bench/node_modules/@cloudflare/workerd-linux-64/bin/workerd
if [ ! -x "$WORKERD" ]; then
    (cd bench && npm install --no-audit --no-fund >/dev/null 2>&1) || true
fi
have_workerd=0
[ -x "$WORKERD" ] && have_workerd=1
[ $have_workerd = 1 ] || echo "note: workerd is not installed (npm install in bench/ failed): it is left out"

echo "== isolate start (500 isolates)"
"$BUILD/bench/isolate_start" 500

echo "== the Worker call alone, no HTTP (CPU per request; bench/worker_call.c)"
"$BUILD/bench/worker_call" 20000

wait_ready() { # port
    for _ in $(seq 200); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    exit 1
}

cpu_ticks() { # pid -> utime+stime in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# run_one WORKLOAD NAME PID URL CONNS -> appends "workload name conns rps cores per_core p99ms" to $tmp/rows
run_one() {
    local workload=$1 name=$2 pid=$3 url=$4 conns=$5
    local t0 t1 out rps p99 cores threads=2
    [ "$conns" -lt 2 ] && threads=1
    t0=$(cpu_ticks "$pid")
    out=$(wrk -t"$threads" -c"$conns" -d"${DUR}s" --latency "$url")
    t1=$(cpu_ticks "$pid")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
    cores=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v d="$DUR" 'BEGIN {printf "%.2f", (b - a) / hz / d}')
    echo "$workload $name $conns $rps $cores $(awk -v r="$rps" -v c="$cores" 'BEGIN {printf "%.0f", (c > 0) ? r / c : 0}') $p99" >>"$tmp/rows"
}

# run_h2 WORKLOAD NAME PID URL CONNS -> appends "workload name conns rps cores per_core" to $tmp/h2rows
run_h2() {
    local workload=$1 name=$2 pid=$3 url=$4 conns=$5
    local t0 t1 out rps cores opts="-c64 -m10 -t2"
    [ "$conns" -lt 2 ] && opts="-c1 -m1 -t1"
    t0=$(cpu_ticks "$pid")
    out=$(h2load $opts -D "$DUR" "$url")
    t1=$(cpu_ticks "$pid")
    grep -q ' 0 failed' <<<"$out" || { echo "h2load against $name failed:" >&2; echo "$out" >&2; exit 1; }
    rps=$(awk '/^finished in/ {gsub(/,/, "", $4); print $4}' <<<"$out")
    cores=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v d="$DUR" 'BEGIN {printf "%.2f", (b - a) / hz / d}')
    echo "$workload $name $conns $rps $cores $(awk -v r="$rps" -v c="$cores" 'BEGIN {printf "%.0f", (c > 0) ? r / c : 0}')" >>"$tmp/h2rows"
}

# bench_workload NAME PATH EW_TARGET NODE_SCRIPT WORKERD_CONFIG
bench_workload() {
    local workload=$1 path=$2 ew_target=$3 node_script=$4 wd_config=$5
    local pids=() names=() ports=()
    "$BUILD/server/ew-server" --threads 1 --port 18787 "$ew_target" >"$tmp/ew.log" 2>&1 &
    pids+=($!); names+=(ew-server); ports+=(18787)
    node "$node_script" 18788 >"$tmp/node.log" 2>&1 &
    pids+=($!); names+=(node-http); ports+=(18788)
    node "$node_script" 18790 h2 >"$tmp/node-h2.log" 2>&1 &
    local h2pid=$!
    if [ $have_workerd = 1 ]; then
        "$WORKERD" serve "$wd_config" --socket-addr http=127.0.0.1:18789 >"$tmp/workerd.log" 2>&1 &
        pids+=($!); names+=(workerd); ports+=(18789)
    fi
    for i in "${!pids[@]}"; do
        wait_ready "${ports[$i]}"
        wrk -t1 -c4 -d1s "http://127.0.0.1:${ports[$i]}$path" >/dev/null # warm up
    done
    for _ in $(seq "$REPEAT"); do
        for c in 64 1; do
            for i in "${!pids[@]}"; do
                run_one "$workload" "${names[$i]}" "${pids[$i]}" "http://127.0.0.1:${ports[$i]}$path" $c
            done
        done
    done
    for _ in $(seq 100); do h2load -n1 -c1 "http://127.0.0.1:18790/" 2>/dev/null | grep -q ' 1 succeeded' && break; sleep 0.05; done
    for _ in $(seq "$REPEAT"); do
        for c in 64 1; do
            run_h2 "$workload" ew-server "${pids[0]}" "http://127.0.0.1:18787$path" $c
            run_h2 "$workload" node-http2 "$h2pid" "http://127.0.0.1:18790$path" $c
        done
    done
    kill "$h2pid" 2>/dev/null || true
    wait "$h2pid" 2>/dev/null || true
    for i in "${!pids[@]}"; do
        echo "$workload ${names[$i]} $(awk '/VmHWM/ {print $2}' "/proc/${pids[$i]}/status")" >>"$tmp/rss"
        kill "${pids[$i]}" 2>/dev/null || true
        wait "${pids[$i]}" 2>/dev/null || true
    done
}

for w in $WORKLOADS; do
    case $w in
    hello) bench_workload hello / examples/hello/ bench/node-hello.js bench/workerd-hello.capnp ;;
    json) bench_workload json "/api/items?id=7" bench/json-api.js bench/node-json.js bench/workerd-json.capnp ;;
    *) echo "unknown workload $w" >&2; exit 2 ;;
    esac
done

echo
echo "== HTTP/1.1, wrk -d${DUR}s, medians of $REPEAT runs (machine: $(nproc) cores); peak RSS after the runs"
printf "%-6s %-10s %5s %10s %12s %14s %9s %9s\n" worker server conns "req/s" "server cores" "req/s per core" "p99 ms" "RSS MB"
for workload in $WORKLOADS; do
    for name in ew-server node-http workerd; do
        rss=$(awk -v w="$workload" -v n="$name" '$1 == w && $2 == n {printf "%.1f", $3 / 1024}' "$tmp/rss")
        [ -n "$rss" ] || continue
        for c in 64 1; do
            awk -v w="$workload" -v n="$name" -v c="$c" '$1 == w && $2 == n && $3 == c' "$tmp/rows" | sort -k4 -n |
                awk -v rss="$rss" '
                { rps[NR] = $4; cores[NR] = $5; pc[NR] = $6; p99[NR] = $7; w = $1; name = $2; conns = $3 }
                END { m = int((NR + 1) / 2); printf "%-6s %-10s %5s %10.0f %12.2f %14.0f %9.2f %9s\n", w, name, conns, rps[m], cores[m], pc[m], p99[m], rss }'
        done
    done
done

echo
echo "== HTTP/2 cleartext (prior knowledge), h2load -D ${DUR}s (-c64 -m10 -t2 / -c1 -m1 -t1), medians of $REPEAT runs"
echo "   (workerd's http socket serves no h2c: it is not in this table)"
printf "%-6s %-10s %5s %10s %12s %14s\n" worker server conns "req/s" "server cores" "req/s per core"
for workload in $WORKLOADS; do
    for name in ew-server node-http2; do
        for c in 64 1; do
            awk -v w="$workload" -v n="$name" -v c="$c" '$1 == w && $2 == n && $3 == c' "$tmp/h2rows" | sort -k4 -n |
                awk '{ rps[NR] = $4; cores[NR] = $5; pc[NR] = $6; w = $1; name = $2; conns = $3 }
                END { if (NR) { m = int((NR + 1) / 2); printf "%-6s %-10s %5s %10.0f %12.2f %14.0f\n", w, name, conns, rps[m], cores[m], pc[m] } }'
        done
    done
done

echo
echo "== start to first response (ms, median of 5)"
first() { # name port command...
    local name=$1 port=$2
    shift 2
    local runs=()
    for _ in 1 2 3 4 5; do runs+=("$("$PY" bench/first_response.py "$port" "$@")"); done
    printf "%-10s %8s\n" "$name" "$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)"
}
first ew-server 18787 "$BUILD/server/ew-server" --threads 1 --port 18787 examples/hello/
first node-http 18788 node bench/node-hello.js 18788
[ $have_workerd = 1 ] && first workerd 18789 "$WORKERD" serve bench/workerd-hello.capnp --socket-addr http=127.0.0.1:18789
exit 0
