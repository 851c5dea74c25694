#!/usr/bin/env bash
# How one migration scales from 1 to N workers (`migrate --worker I/N`) on dynamo-bench-server: the same
# source copied by 1, 2 and 4 worker processes at once, with their shared state in a local directory
# (the bench server has no Query or conditional generations for a control table). Prints wall time,
# items/s and CPU (user+sys) per item of each run; needs release binaries and GNU time.
#   BENCH_ITEMS      items of ~400 bytes in the source (default 400000)
#   BENCH_WORKERS    worker counts to run (default "1 2 4")
#   BENCH_SEGMENTS   Scan segments of the job (default 16)
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${BENCH_ITEMS:-400000}
WORKERS=${BENCH_WORKERS:-1 2 4}
SEGMENTS=${BENCH_SEGMENTS:-16}
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d /tmp/dynamo-bench-workers.XXXXXX)
"$BIN/dynamo-bench-server" --seed-table src --items "$ITEMS" --item-bytes 400 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 600); do grep -q listening "$WORK/server.out" 2>/dev/null && break; sleep 0.5; done
ENDPOINT=$(sed -n 's/.*listening on //p' "$WORK/server.out")
echo "| workers | wall s | items/s | CPU s (all workers) | CPU µs/item | max worker wall s |"
echo "|---|---|---|---|---|---|"
for n in $WORKERS; do
    printf 'version: 1\ntables:\n  - source: src\n    target: dst%s\n' "$n" >"$WORK/m$n.yaml"
    start=$(date +%s.%N)
    pids=()
    for i in $(seq 0 $((n - 1))); do
        /usr/bin/time -f "%e %U %S" -o "$WORK/time-$n-$i" "$BIN/dynamo-migrate" migrate "$WORK/m$n.yaml" --endpoint-url "$ENDPOINT" \
            --worker "$i/$n" --state "$WORK/state-$n" --segments "$SEGMENTS" >"$WORK/out-$n-$i" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || { echo "a worker failed:"; cat "$WORK"/out-"$n"-*; exit 1; }; done
    end=$(date +%s.%N)
    python3 - "$n" "$ITEMS" "$start" "$end" "$WORK" <<'PY'
import sys, glob
n, items, start, end, work = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
times = [list(map(float, open(f).read().split()[-3:])) for f in glob.glob(f"{work}/time-{n}-*")]
wall = end - start
cpu = sum(u + s for _, u, s in times)
print(f"| {n} | {wall:.1f} | {items / wall:,.0f} | {cpu:.1f} | {cpu / items * 1e6:.1f} | {max(w for w, _, _ in times):.1f} |")
PY
done
