#!/usr/bin/env bash
# Follow benchmark: records/s applied and lag of `migrate --follow` under a steady write load.
#
# For each scenario: a source table (or two) with a NEW_AND_OLD_IMAGES stream and a steady write load, then
# `migrate MAPPING --follow --enable-streams --until-idle 5s --metrics FILE` (copy, then follow); the
# metrics file is sampled every 0.5 s (overall lag, records applied); once the load stops the follow drains
# and exits; then verify.
#   one-to-one   one source, one target: records written in BatchWriteItem calls (25 per call)
#   merge        two sources into one keep-existing target: each touched key recomputed from both sources
#                (a consistent GetItem per source) and written alone
# Two servers:
#   bench  dynamo-bench-server (default): seeded in-process with --stream, its streams split every
#          FOLLOW_SPLIT records (shard lineage), the load from inside the server (--write-load: 8 in 10
#          MODIFY, 1 INSERT, 1 REMOVE) at FOLLOW_RATE changes/s per source table
#   moto   moto_server (one shard per stream), seeded with boto3, the load from scripts/dynamo-load.py at
#          FOLLOW_RATE writes/s over all source tables
# Writes Benchmarks/results/<date>-<host>-follow[-moto].{md,json}.
#
#   FOLLOW_SERVER     bench or moto (default bench)
#   FOLLOW_RATE       load rate (default bench 1000 per table, moto 40)
#   FOLLOW_SECONDS    how long the load writes (default bench 30, moto 45)
#   FOLLOW_ITEMS      items seeded per source table before the copy (default bench 100000, moto 2000)
#   FOLLOW_SPLIT      bench: a stream shard splits after this many records (default 10000)
#   FOLLOW_MIX        moto: the load's mix (default put=50,update=30,delete=20)
#   FOLLOW_SCENARIOS  default "one-to-one merge"
#   MIGRATE, BENCH_SERVER   the binaries (default: release builds made here)
set -euo pipefail
cd "$(dirname "$0")/.."

KIND=${FOLLOW_SERVER:-bench}
case $KIND in
    bench) RATE=${FOLLOW_RATE:-1000} SECONDS_LOAD=${FOLLOW_SECONDS:-30} ITEMS=${FOLLOW_ITEMS:-100000} ;;
    moto) RATE=${FOLLOW_RATE:-40} SECONDS_LOAD=${FOLLOW_SECONDS:-45} ITEMS=${FOLLOW_ITEMS:-2000} ;;
    *) echo "FOLLOW_SERVER must be bench or moto (got '$KIND')"; exit 2 ;;
esac
SPLIT=${FOLLOW_SPLIT:-10000}
MIX=${FOLLOW_MIX:-put=50,update=30,delete=20}
SCENARIOS=${FOLLOW_SCENARIOS:-one-to-one merge}
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB || true

. scripts/python-env.sh
python_env_install 'import boto3' boto3 'import moto.server, flask_cors' 'moto[server]'
if [ -z "${MIGRATE:-}" ]; then
    swift build -c release --product dynamo-migrate 2>&1 | grep -E "error|Build" || true
    MIGRATE="$(swift build -c release --show-bin-path)/dynamo-migrate"
fi
if [ "$KIND" = bench ] && [ -z "${BENCH_SERVER:-}" ]; then
    swift build -c release --product dynamo-bench-server 2>&1 | grep -E "error|Build" || true
    BENCH_SERVER="$(swift build -c release --show-bin-path)/dynamo-bench-server"
fi

WORK=$(mktemp -d /tmp/dynamo-bench-follow.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ "$KIND" = moto ]; then
    port=$(free_port)
    moto_server -H 127.0.0.1 -p "$port" >"$WORK/moto.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break; sleep 0.2; done
    ENDPOINT=http://127.0.0.1:$port
    SERVER="moto $(python3 -c 'import moto; print(moto.__version__)') (one shard per stream); load: scripts/dynamo-load.py at $RATE writes/s over all sources for ${SECONDS_LOAD} s, mix $MIX"
else
    SERVER="dynamo-bench-server (release), streams split every $SPLIT records; load: --write-load $RATE changes/s per source for ${SECONDS_LOAD} s (8/10 MODIFY, 1/10 INSERT, 1/10 REMOVE)"
fi
echo "follow benchmark: $SERVER; $ITEMS items per source"

# seed TABLE...: creates each table (pk S) and writes ITEMS items of ~300 bytes; scenario tables overlap on
# half their keys so the merge has colliding keys.
seed() {
    python3 - "$ENDPOINT" "$ITEMS" "$@" <<'EOF'
import sys, boto3
endpoint, count, tables = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
client = boto3.client("dynamodb", **kw)
for n, table in enumerate(tables):
    client.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    with boto3.resource("dynamodb", **kw).Table(table).batch_writer() as writer:
        for i in range(n * count // 2, n * count // 2 + count):
            writer.put_item(Item={"pk": f"item-{i:09d}", "seq": i, "status": "active" if i % 3 else "idle",
                                  "origin": table, "payload": "x" * 250})
EOF
}

RESULTS=$WORK/results.jsonl
: >"$RESULTS"
for scenario in $SCENARIOS; do
    case $scenario in
        one-to-one) sources=(f1src); printf 'version: 1\ntables:\n  - source: f1src\n    target: f1dst\n' >"$WORK/$scenario.yaml" ;;
        merge) sources=(fmsrc-a fmsrc-b)
            printf 'version: 1\ntables:\n  - target: fmdst\n    conflict: keep-existing\n    sources:\n      - table: fmsrc-a\n      - table: fmsrc-b\n' >"$WORK/$scenario.yaml" ;;
        *) echo "unknown scenario $scenario (one-to-one, merge)"; exit 2 ;;
    esac
    state=$WORK/state-$scenario
    mkdir -p "$state"
    if [ "$KIND" = bench ]; then
        # A fresh server per scenario: seeded, streams on after the seed, the load starting once it listens.
        args=()
        for t in "${sources[@]}"; do args+=(--seed-table "$t" --items "$ITEMS" --item-bytes 400 --stream NEW_AND_OLD_IMAGES); done
        "$BENCH_SERVER" "${args[@]}" --stream-split-every "$SPLIT" --write-load "$RATE" --write-load-seconds "$SECONDS_LOAD" \
            >"$WORK/server-$scenario.out" 2>"$WORK/server-$scenario.err" &
        server_pid=$!
        PIDS+=($server_pid)
        for _ in $(seq 1 600); do grep -q listening "$WORK/server-$scenario.out" 2>/dev/null && break; sleep 0.2; done
        ENDPOINT=$(sed -n 's/.*listening on //p' "$WORK/server-$scenario.out")
        [ -n "$ENDPOINT" ] || { echo "dynamo-bench-server did not start"; cat "$WORK/server-$scenario.err"; exit 1; }
        load_started=$(date +%s.%N)
        echo "== $scenario: dynamo-bench-server at $ENDPOINT, ${sources[*]} seeded, load running"
        printf '{"writes": %d, "seconds": %s}\n' $((RATE * ${SECONDS_LOAD%.*} * ${#sources[@]})) "$SECONDS_LOAD" >"$WORK/load-$scenario.json"
        load_pid=""
    else
        echo "== $scenario: seeding ${sources[*]}"
        seed "${sources[@]}"
        tables=$(IFS=,; echo "${sources[*]}")
        python3 scripts/dynamo-load.py --endpoint-url "$ENDPOINT" --tables "$tables" --rate "$RATE" --duration "$SECONDS_LOAD" \
            --mix "$MIX" --seed 11 --label load --summary-json "$WORK/load-$scenario.json" >"$WORK/load-$scenario.out" 2>&1 &
        load_pid=$!
        PIDS+=($load_pid)
        until grep -q writing "$WORK/load-$scenario.out" 2>/dev/null; do
            kill -0 "$load_pid" 2>/dev/null || { cat "$WORK/load-$scenario.out"; exit 1; }
            sleep 0.2
        done
        load_started=$(date +%s.%N)
    fi
    # Samples of the metrics file: time, overall lag, records applied.
    python3 - "$state/follow.prom" "$WORK/samples-$scenario.tsv" <<'EOF' &
import os, sys, time
path, out = sys.argv[1], sys.argv[2]
with open(out, "w") as f:
    while True:
        try:
            lag, applied = None, 0.0
            for line in open(path):
                if line.startswith("dynamo_migrate_follow_lag_seconds "):
                    lag = float(line.split()[1])
                elif line.startswith("dynamo_migrate_follow_records_applied_total{"):   # per source
                    applied += float(line.split()[-1])
            if lag is not None:
                f.write(f"{time.time()}\t{lag}\t{applied}\n"); f.flush()
        except FileNotFoundError:
            pass
        time.sleep(0.5)
EOF
    sampler_pid=$!
    PIDS+=($sampler_pid)
    /usr/bin/env time -f "%e %U %S %M" -o "$WORK/time-$scenario" \
        "$MIGRATE" migrate "$WORK/$scenario.yaml" --endpoint-url "$ENDPOINT" --state-dir "$state" \
        --follow --enable-streams --until-idle 5s --metrics "$state/follow.prom" >"$WORK/migrate-$scenario.out" 2>&1 ||
        { tail -20 "$WORK/migrate-$scenario.out"; exit 1; }
    kill "$sampler_pid" 2>/dev/null || true
    if [ -n "$load_pid" ]; then wait "$load_pid"; tail -2 "$WORK/load-$scenario.out"; else grep -i load "$WORK/server-$scenario.err" || true; fi
    grep -E '^follow:|^drained' "$WORK/migrate-$scenario.out" || true
    "$MIGRATE" verify "$WORK/$scenario.yaml" --endpoint-url "$ENDPOINT" --state-dir "$state" >"$WORK/verify-$scenario.out" 2>&1 &&
        verdict=MATCH || verdict=MISMATCH
    echo "   verify: $verdict"
    python3 - "$scenario" "$state/report.json" "$WORK/samples-$scenario.tsv" "$WORK/load-$scenario.json" \
        "$WORK/time-$scenario" "$verdict" "$load_started" >>"$RESULTS" <<'EOF'
import json, sys, datetime
scenario, report_path, samples_path, load_path, time_path, verdict, load_started = sys.argv[1:]
report = json.load(open(report_path))
follow, load = report["follow"], json.load(open(load_path))
parse = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
started = parse(follow["startedAt"])
samples = [tuple(map(float, l.split("\t"))) for l in open(samples_path) if l.strip()]
load_end = float(load_started) + load["seconds"]
# Lag while the load writes and the follow runs (the copy's backlog included), then the drain after it.
during = sorted(lag for t, lag, _ in samples if started <= t <= load_end)
def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None
# The fastest 2-second window of records applied: what follow can do, not what the load gives it.
peak = 0.0
for i, (t0, _, a0) in enumerate(samples):
    for t1, _, a1 in samples[i + 1:]:
        if t1 - t0 >= 2:
            peak = max(peak, (a1 - a0) / (t1 - t0)); break
caught = [t for t, lag, _ in samples if t > load_end and lag == 0]
wall, user, sys_, rss = open(time_path).read().split()
print(json.dumps({
    "scenario": scenario, "sources": len(follow["sources"]), "shards": sum(len(s["shards"]) for s in follow["sources"]),
    "load_writes": load["writes"], "load_seconds": round(load["seconds"], 1), "load_rate": round(load["writes"] / load["seconds"], 1),
    "records_applied": follow["recordsApplied"], "records_skipped": sum(s["recordsSkipped"] for s in follow["sources"]),
    "follow_seconds": round(parse(follow["finishedAt"]) - started, 1), "report_records_per_s": round(follow["recordsPerSecond"], 1),
    "peak_records_per_s_2s": round(peak, 1),
    "lag_p50_s": pct(during, 50), "lag_p90_s": pct(during, 90), "lag_max_s": during[-1] if during else None, "lag_samples": len(during),
    "caught_up_after_load_s": round(caught[0] - load_end, 1) if caught else None,
    "migrate_wall_s": float(wall), "migrate_cpu_s": round(float(user) + float(sys_), 1), "migrate_peak_rss_mb": round(int(rss) / 1024, 1),
    "verify": verdict}))
EOF
    tail -1 "$RESULTS"
    if [ "$KIND" = bench ]; then kill "$server_pid" 2>/dev/null || true; fi
done

mkdir -p Benchmarks/results
OUT="Benchmarks/results/$(date -u +%Y-%m-%d)-$(hostname -s)-follow$([ "$KIND" = moto ] && echo -moto || true)"
python3 - "$RESULTS" "$OUT" "$SERVER" "$RATE" "$SECONDS_LOAD" "$ITEMS" "$MIX" "$(swift --version 2>&1 | head -1)" <<'EOF'
import json, os, platform, sys, datetime
results_path, out, server, rate, seconds, items, mix, swift = sys.argv[1:]
rows = [json.loads(l) for l in open(results_path) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
setup = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "host": platform.node(), "cpu": cpu,
         "cores": os.cpu_count(), "swift": swift, "server": server, "load_rate": float(rate), "load_seconds": float(seconds),
         "items_per_source": int(items), "mix": mix}
json.dump({"setup": setup, "runs": rows}, open(out + ".json", "w"), indent=2)
lines = [f"# Follow benchmark {setup['date']} on {setup['host']}", "",
         f"- {cpu}, {setup['cores']} cores; {swift}", f"- server: {server}",
         f"- {items} items per source seeded before the copy; migrate --follow --enable-streams --until-idle 5s started once",
         "  the load writes (copy, then follow); the metrics file sampled every 0.5 s; lag percentiles over the samples",
         "  from the follow's start to the load's end; peak records/s: the fastest 2 s between samples", "",
         "| scenario | writes (rate) | applied | skipped | follow s | records/s (report) | peak records/s (2 s) | lag p50 / p90 / max s | caught up after load | verify |",
         "|---|---:|---:|---:|---:|---:|---:|---|---:|---|"]
for r in rows:
    lines.append(f"| {r['scenario']} | {r['load_writes']} ({r['load_rate']}/s) | {r['records_applied']} | {r['records_skipped']} | {r['follow_seconds']} | "
                 f"{r['report_records_per_s']} | {r['peak_records_per_s_2s']} | {r['lag_p50_s']} / {r['lag_p90_s']} / {r['lag_max_s']} | "
                 f"{r['caught_up_after_load_s']} s | {r['verify']} |")
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
echo "written: $OUT.md and .json"
