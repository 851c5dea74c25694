#!/usr/bin/env bash
# The benchmark suite: micro benchmarks, end-to-end copies on dynamo-bench-server, peers (boto3, dynamodump)
# on the same server and data, and a small copy on moto. Writes Benchmarks/results/<date>-<host>.{md,json}.
#
#   BENCH_ITEMS        items of ~400 bytes in the main source table (default 1000000)
#   BENCH_BIG_ITEMS    items of ~4 KB (default BENCH_ITEMS/10)
#   BENCH_PEER_ITEMS   items the peers copy (default min(BENCH_ITEMS, 100000): they are slow)
#   BENCH_MOTO_ITEMS   items in the moto copy (default 2000)
#   BENCH_SKIP         space-separated parts to skip: micro peers moto follow
# The follow benchmark (scripts/bench-follow.sh, FOLLOW_* settings there) writes its own
# Benchmarks/results/<date>-<host>-follow.{md,json} (on dynamo-bench-server with split shards; FOLLOW_SERVER=moto on moto).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ITEMS=${BENCH_ITEMS:-1000000}
BIG_ITEMS=${BENCH_BIG_ITEMS:-$((ITEMS / 10))}
PEER_ITEMS=${BENCH_PEER_ITEMS:-$((ITEMS < 100000 ? ITEMS : 100000))}
MOTO_ITEMS=${BENCH_MOTO_ITEMS:-2000}
SKIP=" ${BENCH_SKIP:-} "
skipped() { [[ "$SKIP" == *" $1 "* ]]; }

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB || true

# --- what it needs ------------------------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (peak RSS and CPU of each run)"
    apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
fi
. scripts/python-env.sh   # the Python peers live in the project's virtual environment
python_env_install 'import boto3' boto3 'import moto.server, flask_cors, moto; assert moto.__version__ == "5.2.1"' 'moto[server]==5.2.1' 'import dynamodump' dynamodump

echo "building release binaries"
for product in dynamo-migrate dynamo-migrate-bench dynamo-bench-server; do
    swift build -c release --product "$product" 2>&1 | grep -E "error|warning: unre|Compiling|Build" | grep -v Compiling || true
done
BIN=$(swift build -c release --show-bin-path)
MIGRATE=$BIN/dynamo-migrate

WORK=$(mktemp -d /tmp/dynamo-bench.XXXXXX)
RESULTS=$WORK/results.tsv   # name items bytes wall user sys maxrss_kb note
: >"$RESULTS"
PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure NAME ITEMS BYTES NOTE -- command...: runs it under GNU time and records wall/user/sys/maxrss.
measure() {
    local name=$1 items=$2 bytes=$3 note=$4; shift 5
    echo "  $name: $*" | cut -c1-160
    if ! /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/$name.out" 2>&1; then
        echo "  $name FAILED; its output:"; tail -20 "$WORK/$name.out"; return 1
    fi
    read -r wall user sys rss <"$WORK/time"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$items" "$bytes" "$wall" "$user" "$sys" "$rss" "$note" >>"$RESULTS"
}

# --- micro ---------------------------------------------------------------------------------------
MICRO=$WORK/micro.txt
: >"$MICRO"
if ! skipped micro; then
    echo "micro benchmarks"
    "$BIN/dynamo-migrate-bench" | tee "$MICRO"
fi

# --- the fast server -----------------------------------------------------------------------------
echo "starting dynamo-bench-server: src ($ITEMS x 400 B), src4k ($BIG_ITEMS x 4 KB), peer ($PEER_ITEMS x 400 B)"
"$BIN/dynamo-bench-server" --seed-table src --items "$ITEMS" --item-bytes 400 \
    --seed-table src4k --items "$BIG_ITEMS" --item-bytes 4096 \
    --seed-table peer --items "$PEER_ITEMS" --item-bytes 400 >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
SERVER_PID=$!
for _ in $(seq 1 600); do grep -q listening "$WORK/server.out" 2>/dev/null && break; sleep 0.5; done
ENDPOINT=$(sed -n 's/.*listening on //p' "$WORK/server.out")
[ -n "$ENDPOINT" ] || { echo "dynamo-bench-server did not start"; cat "$WORK/server.err"; exit 1; }
cat "$WORK/server.err"
SRC_BYTES=$((ITEMS * 400)); BIG_BYTES=$((BIG_ITEMS * 4096)); PEER_BYTES=$((PEER_ITEMS * 400))

mapping() { # NAME SOURCE TARGET [TRANSFORMS...]
    local file=$WORK/$1.yaml
    printf 'version: 1\ntables:\n  - source: %s\n    target: %s\n' "$2" "$3" >"$file"
    if [ -n "${4:-}" ]; then printf '    transforms:\n%s\n' "$4" >>"$file"; fi
    echo "$file"
}
TRANSFORMS='      - rename: { category: kind }
      - convert: { seq: string, createdAt: iso8601-from-epoch-seconds }
      - set: { origin: "{source}" }
      - filter: { attribute: active, equals: true }'

echo "end to end on $ENDPOINT"
measure copy "$ITEMS" "$SRC_BYTES" "one-to-one" -- \
    "$MIGRATE" migrate "$(mapping copy src dst)" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-copy"
# The filter keeps two items in three (active is false for every third seq); items/s counts items read.
measure copy-transform "$ITEMS" "$SRC_BYTES" "rename+convert+set+filter" -- \
    "$MIGRATE" migrate "$(mapping transform src dstx "$TRANSFORMS")" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-transform"
measure checksum "$ITEMS" "$SRC_BYTES" "one table" -- "$MIGRATE" checksum src --endpoint-url "$ENDPOINT"
measure copy-4k "$BIG_ITEMS" "$BIG_BYTES" "one-to-one, 4 KB items" -- \
    "$MIGRATE" migrate "$(mapping copy4k src4k dst4k)" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-4k"
if "$MIGRATE" help export 2>&1 | grep -q "USAGE: dynamo-migrate export"; then
    # Export at gzip level 1 (the speed setting); MB/s counts the DynamoDB JSON written, before compression.
    measure export "$ITEMS" "$SRC_BYTES" "gzip level 1, 8 segments; MB/s of DynamoDB JSON" -- \
        "$MIGRATE" export src --to "$WORK/export" --endpoint-url "$ENDPOINT" --gzip-level 1 --segments 8
    JSON_BYTES=$(python3 - "$WORK/export" <<'PY2'
import glob, json, sys
summary = glob.glob(sys.argv[1] + "/**/manifest-summary.json", recursive=True)[0]
print(json.load(open(summary))["dynamoMigrate"]["uncompressedBytes"])
PY2
)
    python3 - "$RESULTS" "$JSON_BYTES" <<'PY2'
import sys
path, size = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
fields = lines[-1].split("\t"); fields[2] = size; lines[-1] = "\t".join(fields)
open(path, "w").write("\n".join(lines) + "\n")
PY2
    measure import "$ITEMS" "$JSON_BYTES" "the export into a new table" -- \
        "$MIGRATE" import "$WORK/export" --table imported --create --endpoint-url "$ENDPOINT"
else
    echo "  export/import: not in this binary (dynamo-migrate help export has no such command); skipped"
    printf 'export\t-\t-\t-\t-\t-\t-\tskipped: no export/import command in this binary\n' >>"$RESULTS"
fi

# --- peers on the same server --------------------------------------------------------------------
if ! skipped peers; then
    echo "peers on $ENDPOINT ($PEER_ITEMS items)"
    measure ours-peer-table "$PEER_ITEMS" "$PEER_BYTES" "dynamo-migrate, same table as the peers" -- \
        "$MIGRATE" migrate "$(mapping ourspeer peer peer-ours)" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-ourspeer"
    measure boto3-copy "$PEER_ITEMS" "$PEER_BYTES" "parallel scan + batch_writer, 4 segments" -- \
        python3 Benchmarks/peers/boto3_copy.py --endpoint-url "$ENDPOINT" --source peer --target peer-boto3 --segments 4
    HOSTPORT=${ENDPOINT#http://}
    DUMP=$WORK/dump
    measure dynamodump-backup "$PEER_ITEMS" "$PEER_BYTES" "dynamodump -m backup" -- \
        dynamodump -m backup -r us-east-1 --host "${HOSTPORT%:*}" --port "${HOSTPORT#*:}" --accessKey bench --secretKey bench \
        -s peer --dumpPath "$DUMP" --log ERROR
    # dynamodump writes the empty index lists DescribeTable may carry; CreateTable refuses them.
    python3 - "$DUMP/peer/schema.json" <<'EOF'
import json, sys
path = sys.argv[1]
schema = json.load(open(path))
table = schema.get("Table", schema)
for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
    if key in table and not table[key]:
        del table[key]
json.dump(schema, open(path, "w"))
EOF
    measure dynamodump-restore "$PEER_ITEMS" "$PEER_BYTES" "dynamodump -m restore" -- \
        dynamodump -m restore -r us-east-1 --host "${HOSTPORT%:*}" --port "${HOSTPORT#*:}" --accessKey bench --secretKey bench \
        -s peer -d peer-restored --dumpPath "$DUMP" --billingMode PAY_PER_REQUEST --noConfirm --log ERROR
fi
"$MIGRATE" checksum dst dstx dst4k peer-ours $(skipped peers || echo peer-boto3 peer-restored) --endpoint-url "$ENDPOINT" >"$WORK/checksums.txt" 2>&1 || true
SERVER_RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
SERVER_CPU=$(awk '{print ($14+$15)/100}' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0)

# --- moto ---------------------------------------------------------------------------------------
if ! skipped moto && command -v moto_server >/dev/null; then
    MOTO_PORT=$(free_port)
    echo "moto on 127.0.0.1:$MOTO_PORT ($MOTO_ITEMS items)"
    moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null && break; sleep 0.2; done
    MOTO=http://127.0.0.1:$MOTO_PORT
    python3 - "$MOTO" "$MOTO_ITEMS" <<'EOF'
import sys, boto3
endpoint, count = sys.argv[1], int(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
client = boto3.client("dynamodb", **kw)
client.create_table(TableName="src", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
with boto3.resource("dynamodb", **kw).Table("src").batch_writer() as writer:
    for i in range(count):
        writer.put_item(Item={"pk": f"item-{i:09d}", "seq": i, "category": f"category-{i % 97}", "payload": "x" * 300})
EOF
    MOTO_BYTES=$((MOTO_ITEMS * 365))
    measure moto-ours "$MOTO_ITEMS" "$MOTO_BYTES" "dynamo-migrate on moto" -- \
        "$MIGRATE" migrate "$(mapping motocopy src dst)" --endpoint-url "$MOTO" --state-dir "$WORK/state-moto"
    measure moto-boto3 "$MOTO_ITEMS" "$MOTO_BYTES" "boto3 copy on moto, 4 segments" -- \
        python3 Benchmarks/peers/boto3_copy.py --endpoint-url "$MOTO" --source src --target dst-boto3 --segments 4
fi

# --- report --------------------------------------------------------------------------------------
mkdir -p Benchmarks/results
STAMP="$(date -u +%Y-%m-%d)-$(hostname -s)"
SWIFT_VERSION=$(swift --version 2>&1 | head -1)
python3 - "$RESULTS" "$MICRO" "$WORK/checksums.txt" "Benchmarks/results/$STAMP" "$SWIFT_VERSION" "$ITEMS" "$BIG_ITEMS" \
    "$PEER_ITEMS" "$MOTO_ITEMS" "${SERVER_RSS:-0}" "${SERVER_CPU:-0}" <<'EOF'
import json, os, platform, re, sys, datetime
(results_path, micro_path, checksums_path, out, swift, items, big_items, peer_items, moto_items,
 server_rss, server_cpu) = sys.argv[1:]
rows = []
for line in open(results_path):
    name, n, nbytes, wall, user, sys_, rss, note = line.rstrip("\n").split("\t")
    row = {"name": name, "note": note}
    if n != "-":
        n, nbytes, wall, user, sys_, rss = int(n), int(nbytes), float(wall), float(user), float(sys_), int(rss)
        row.update(items=n, bytes=nbytes, seconds=wall, user_s=user, sys_s=sys_, peak_rss_mb=round(rss / 1024, 1),
                   items_per_s=round(n / wall) if wall else None, mb_per_s=round(nbytes / wall / 1e6, 1) if wall else None,
                   cpu_us_per_item=round((user + sys_) / n * 1e6, 2) if n else None)
    rows.append(row)
by = {r["name"]: r for r in rows}

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()
mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
os_name = platform.platform()
try:
    os_name = [l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME")][0] + ", kernel " + platform.release()
except Exception:
    pass
setup = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "host": platform.node(),
         "cpu": cpu_model(), "cores": os.cpu_count(), "memory_gb": mem_gb, "os": os_name, "swift": swift,
         "items": int(items), "item_bytes": 400, "big_items": int(big_items), "big_item_bytes": 4096,
         "peer_items": int(peer_items), "moto_items": int(moto_items),
         "server_peak_rss_mb": round(int(server_rss) / 1024, 1), "server_cpu_s": float(server_cpu)}
micro = []
for line in open(micro_path):
    # The suite column is 8 wide: "checksum" touches the benchmark's name.
    m = re.match(r"^(codec|signer|checksum|crc32|gzip)\s*(\S+)\s+([-\d.]+)\s+(\S.*)$", line.rstrip())
    if m:
        micro.append({"suite": m.group(1), "name": m.group(2), "value": float(m.group(3)), "unit": m.group(4)})

def ratio(a, b, key="items_per_s"):
    if a in by and b in by and by[a].get(key) and by[b].get(key):
        return round(by[a][key] / by[b][key], 1)
    return None
ratios = {
    "copy items/s, ours vs boto3 (same table)": ratio("ours-peer-table", "boto3-copy"),
    "copy CPU per item, boto3 / ours": (round(by["boto3-copy"]["cpu_us_per_item"] / by["ours-peer-table"]["cpu_us_per_item"], 1)
                                       if "boto3-copy" in by and "ours-peer-table" in by else None),
    "copy vs dynamodump backup+restore (items/s of backup then restore)": (
        round(by["ours-peer-table"]["items_per_s"] / (by["ours-peer-table"]["items"] / (by["dynamodump-backup"]["seconds"] + by["dynamodump-restore"]["seconds"])), 1)
        if all(k in by for k in ("ours-peer-table", "dynamodump-backup", "dynamodump-restore")) else None),
    "checksum vs dynamodump backup (items/s)": ratio("checksum", "dynamodump-backup"),
    "moto: ours vs boto3 (items/s)": ratio("moto-ours", "moto-boto3"),
}
copy = by.get("copy", {})
goals = [
    ("client CPU <= 8 us per copied item", copy.get("cpu_us_per_item"), lambda v: v <= 8, "us/item"),
    (">= 100,000 items/s copy", copy.get("items_per_s"), lambda v: v >= 100000, "items/s"),
    ("peak RSS < 200 MB at 1M items", copy.get("peak_rss_mb") if int(items) >= 1000000 else None, lambda v: v < 200, "MB"),
    (">= 100 MB/s export of DynamoDB JSON", by.get("export", {}).get("mb_per_s"), lambda v: v >= 100, "MB/s"),
]
goal_rows = [{"goal": g, "value": v, "unit": u, "met": (None if v is None else bool(f(v)))} for g, v, f, u in goals]

json.dump({"setup": setup, "micro": micro, "runs": rows, "ratios": ratios, "goals": goal_rows,
           "checksums": open(checksums_path).read() if os.path.exists(checksums_path) else ""},
          open(out + ".json", "w"), indent=2)

lines = [f"# Benchmark results {setup['date']} on {setup['host']}", "",
         f"- CPU: {setup['cpu']}, {setup['cores']} cores; memory {setup['memory_gb']} GiB; {setup['os']}",
         f"- {swift}",
         f"- main table {int(items):,} items of ~400 B; 4 KB table {int(big_items):,} items; peers {int(peer_items):,} items; moto {int(moto_items):,} items",
         f"- dynamo-bench-server on the same 2 cores: peak RSS {setup['server_peak_rss_mb']} MB, {setup['server_cpu_s']} s CPU over the whole run",
         "", "## End to end", "",
         "| run | items | seconds | items/s | MB/s | client CPU µs/item | peak RSS MB | note |",
         "|---|---:|---:|---:|---:|---:|---:|---|"]
for r in rows:
    if "items" in r:
        lines.append(f"| {r['name']} | {r['items']:,} | {r['seconds']:.2f} | {r['items_per_s']:,} | {r['mb_per_s']} | {r['cpu_us_per_item']} | {r['peak_rss_mb']} | {r['note']} |")
    else:
        lines.append(f"| {r['name']} | | | | | | | {r['note']} |")
lines += ["", "## Ratios", ""] + [f"- {k}: {'n/a' if v is None else str(v) + 'x'}" for k, v in ratios.items()]
lines += ["", "## Goals", "", "| goal | measured | met |", "|---|---:|---|"]
for g in goal_rows:
    lines.append(f"| {g['goal']} | {'n/a' if g['value'] is None else str(g['value']) + ' ' + g['unit']} | {'not measured' if g['met'] is None else ('met' if g['met'] else 'NOT met')} |")
if micro:
    lines += ["", "## Micro", "", "| suite | benchmark | value | unit |", "|---|---|---:|---|"]
    lines += [f"| {m['suite']} | {m['name']} | {m['value']:.2f} | {m['unit']} |" for m in micro]
lines += ["", "## Checksums of the copies", "", "```", (open(checksums_path).read().strip() if os.path.exists(checksums_path) else ""), "```", ""]
open(out + ".md", "w").write("\n".join(lines))
print()
print("\n".join(lines))
EOF
echo "written: Benchmarks/results/$STAMP.md and .json"

# --- follow: migrate --follow under a steady write load ------------------------------------------
if ! skipped follow; then
    MIGRATE="$MIGRATE" BENCH_SERVER="$BIN/dynamo-bench-server" scripts/bench-follow.sh || echo "follow benchmark FAILED"
fi
