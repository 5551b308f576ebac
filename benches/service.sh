#!/usr/bin/env bash
# The service-level benchmark (issue 15): the same axum app on one core with
# no logging, with loglayer's RequestLoggerLayer and with tower-http's
# TraceLayer + tracing-subscriber JSON, at info (3 lines per request written
# to a file through a non-blocking writer) and at warn (nothing written).
# Prints a Markdown table per run: req/s, p50/p99 latency, cost vs bare,
# lines written vs expected, allocations per request.
#
#   bash benches/service.sh            # one run, 5 s per mode (~40 s)
#   SECS=10 RUNS=2 bash benches/service.sh
#   CONNS=64 (default) keep-alive connections from the load client
#
# The server (its runtime thread and the log writer's thread) is pinned to
# CPU 0, the load client (hyper, in the same process, not counted) to CPU 1:
# see benches/examples/service.rs. Log files go to $SERVICE_BENCH_DIR (the
# temp dir by default) and are removed after their lines are counted.
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$(pwd)/target}"
secs="${SECS:-5}"
runs="${RUNS:-1}"
modes="${MODES:-bare ours_warn tracing_warn ours tracing}"

cargo build --release -q -p loglayer-benches --example service
bin="$target_dir/release/examples/service"

for run in $(seq 1 "$runs"); do
    out=""
    for mode in $modes; do
        line="$("$bin" "$mode" "$secs")"
        echo "$line" >&2
        out+="$line"$'\n'
    done
    python3 - "$run" "$secs" <<PY
import sys
run, secs = sys.argv[1], sys.argv[2]
rows = []
for line in """$out""".strip().splitlines():
    rows.append(dict(kv.split("=", 1) for kv in line.split()))
by = {r["mode"]: r for r in rows}
bare = by.get("bare")
def cost(r):
    if not bare or r is bare:
        return "–"
    return f"{(1 - float(r['rps']) / float(bare['rps'])) * 100:.1f} %"
def added(r):
    if not bare or r is bare:
        return "–"
    return f"+{float(r['allocs_per_req']) - float(bare['allocs_per_req']):.1f}"
print(f"\n### run {run} ({secs} s per mode)\n")
def cpu_cost(r):
    if not bare or r is bare:
        return "–"
    return f"{(1 - float(bare['cpu_us_per_req']) / float(r['cpu_us_per_req'])) * 100:.1f} %"
print("| mode | req/s | p50 | p99 | cost vs bare | server CPU/request | cost by CPU | lines written / expected | allocs/request | added |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    lines = f"{int(r['lines']):,} / {int(r['expected']):,}"
    if r["lines"] != r["expected"]:
        lines += " **LOST**"
    print(f"| {r['mode']} | {float(r['rps']):,.0f} | {int(r['p50_us'])} µs | {int(r['p99_us'])} µs "
          f"| {cost(r)} | {float(r['cpu_us_per_req']):.2f} µs | {cpu_cost(r)} | {lines} "
          f"| {float(r['allocs_per_req']):.1f} | {added(r)} |")
ours, tracing = by.get("ours"), by.get("tracing")
if bare and ours and tracing:
    c_o = 1 - float(ours["rps"]) / float(bare["rps"])
    c_t = 1 - float(tracing["rps"]) / float(bare["rps"])
    print(f"\nlogging cost with every line written: ours {c_o*100:.1f} %, tracing {c_t*100:.1f} % "
          f"(ours / tracing = {c_o / c_t:.2f}; target ≤ 0.5)")
    d_o = float(ours["cpu_us_per_req"]) - float(bare["cpu_us_per_req"])
    d_t = float(tracing["cpu_us_per_req"]) - float(bare["cpu_us_per_req"])
    print(f"logging CPU per request with every line written: ours +{d_o:.2f} µs, tracing +{d_t:.2f} µs "
          f"(ours / tracing = {d_o / d_t:.2f})")
ow = by.get("ours_warn")
if bare and ow:
    c = 1 - float(ow["rps"]) / float(bare["rps"])
    a = float(ow["allocs_per_req"]) - float(bare["allocs_per_req"])
    cc = 1 - float(bare["cpu_us_per_req"]) / float(ow["cpu_us_per_req"])
    print(f"ours at warn: cost {c*100:.1f} % by req/s, {cc*100:.1f} % by CPU per request (target ≤ 10 %), "
          f"+{a:.1f} allocations per request (target ≤ 10)")
PY
done
