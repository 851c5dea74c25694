#!/usr/bin/env bash
# The benchmark suite: micro benchmarks, end-to-end copies on dynamo-bench-server, peers (boto3, dynamodump)
# on the same server and data, and a small copy on moto. Writes Benchmarks/results/<date>-<host>.{md,json}.
#
#   BENCH_ITEMS        items of ~400 bytes in the main source table (default 1000000)
#   BENCH_BIG_ITEMS    items of ~4 KB (default BENCH_ITEMS/10)
#   BENCH_PEER_ITEMS   items the peers copy (default min(BENCH_ITEMS, 100000): they are slow)
#   BENCH_MOTO_ITEMS   items in the moto copy (default 2000)
#   (the merge run reads three tables of BENCH_ITEMS/3 items, each overlapping the one before by half)
#   BENCH_RUNS         runs of the headline copies, reported as min/median/max (default 3)
#   BENCH_CAP_ITEMS    items of ~400 B copied into a table of BENCH_CAP_WCU write units/s (defaults 4000, 250)
#   BENCH_CAP_READ_ITEMS  items of ~400 B read from a table of BENCH_CAP_RCU read units/s (defaults 80000, 200)
#   BENCH_SKIP         space-separated parts to skip: micro e2e peers moto capacity follow
#   BENCH_TAG          appended to the results file name (a partial run: BENCH_TAG=capacity)
#
# Nothing is installed on the machine: the Python peers (boto3, moto, dynamodump) live in the project's
# virtual environment (scripts/python-env.sh), and runs are timed by scripts/timed.py from it.
# The follow benchmark (scripts/bench-follow.sh, FOLLOW_* settings there) writes its own
# Benchmarks/results/<date>-<host>-follow.{md,json} (on dynamo-bench-server with split shards; FOLLOW_SERVER=moto on moto).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ITEMS=${BENCH_ITEMS:-1000000}
RUNS=${BENCH_RUNS:-3}
CAP_ITEMS=${BENCH_CAP_ITEMS:-4000}
CAP_WCU=${BENCH_CAP_WCU:-250}
CAP_READ_ITEMS=${BENCH_CAP_READ_ITEMS:-80000}
CAP_RCU=${BENCH_CAP_RCU:-200}
BIG_ITEMS=${BENCH_BIG_ITEMS:-$((ITEMS / 10))}
PEER_ITEMS=${BENCH_PEER_ITEMS:-$((ITEMS < 100000 ? ITEMS : 100000))}
MOTO_ITEMS=${BENCH_MOTO_ITEMS:-2000}
MERGE_ITEMS=$((ITEMS / 3))   # per merge source: three sources, each overlapping the previous by half
SKIP=" ${BENCH_SKIP:-} "
skipped() { [[ "$SKIP" == *" $1 "* ]]; }

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB || true

# --- what it needs ------------------------------------------------------------------------------
. scripts/python-env.sh   # the Python peers live in the project's virtual environment
PYTHON=$DYNAMO_MIGRATE_VENV/bin/python3   # never the system's Python
python_env_install 'import boto3' boto3 'import moto.server, flask_cors, moto; assert moto.__version__ == "5.2.1"' 'moto[server]==5.2.1' 'import dynamodump' dynamodump

echo "building release binaries"
for product in dynamo-migrate $(skipped micro || echo dynamo-migrate-bench) dynamo-bench-server; do
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

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure NAME ITEMS BYTES NOTE -- command...: runs it under GNU time and records wall/user/sys/maxrss.
measure() {
    local name=$1 items=$2 bytes=$3 note=$4; shift 5
    echo "  $name: $*" | cut -c1-160
    if ! "$PYTHON" scripts/timed.py "$WORK/time" -- "$@" >"$WORK/$name.out" 2>&1; then
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
    --seed-table peer --items "$PEER_ITEMS" --item-bytes 400 \
    --seed-table merge-a --items "$MERGE_ITEMS" --item-bytes 400 \
    --seed-table merge-b --items "$MERGE_ITEMS" --item-bytes 400 --first-key $((MERGE_ITEMS / 2)) \
    --seed-table merge-c --items "$MERGE_ITEMS" --item-bytes 400 --first-key "$MERGE_ITEMS" >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS+=($!)
SERVER_PID=$!
for _ in $(seq 1 600); do grep -q listening "$WORK/server.out" 2>/dev/null && break; sleep 0.5; done
ENDPOINT=$(sed -n 's/.*listening on //p' "$WORK/server.out")
[ -n "$ENDPOINT" ] || { echo "dynamo-bench-server did not start"; cat "$WORK/server.err"; exit 1; }
cat "$WORK/server.err"
MERGE_BYTES=$((MERGE_ITEMS * 3 * 400))
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

if ! skipped e2e; then
echo "end to end on $ENDPOINT"
# The headline copy runs BENCH_RUNS times (each into a new table); the report gives min/median/max.
for run in $(seq 1 "$RUNS"); do
    target=dst; [ "$run" -gt 1 ] && target=dst-run$run
    measure copy "$ITEMS" "$SRC_BYTES" "one-to-one, run $run of $RUNS" -- \
        "$MIGRATE" migrate "$(mapping copy$run src $target)" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-copy$run"
done
# The filter keeps two items in three (active is false for every third seq); items/s counts items read.
measure copy-transform "$ITEMS" "$SRC_BYTES" "rename+convert+set+filter" -- \
    "$MIGRATE" migrate "$(mapping transform src dstx "$TRANSFORMS")" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-transform"
# Three sources into one new target under keep-existing (the first batched, the others probed with
# BatchGetItem); items/s counts items read, as for the copy it is compared with.
printf 'version: 1\ntables:\n  - target: merged\n    conflict: keep-existing\n    sources:\n      - table: merge-a\n      - table: merge-b\n      - table: merge-c\n' >"$WORK/merge.yaml"
measure merge-keep-existing "$((MERGE_ITEMS * 3))" "$MERGE_BYTES" "3 sources, keep-existing, half of each overlaps the previous" -- \
    "$MIGRATE" migrate "$WORK/merge.yaml" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-merge"
measure checksum "$ITEMS" "$SRC_BYTES" "one table" -- "$MIGRATE" checksum src --endpoint-url "$ENDPOINT"
measure copy-4k "$BIG_ITEMS" "$BIG_BYTES" "one-to-one, 4 KB items" -- \
    "$MIGRATE" migrate "$(mapping copy4k src4k dst4k)" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-4k"
if "$MIGRATE" help export 2>&1 | grep -q "USAGE: dynamo-migrate export"; then
    # Export at gzip level 1 (the speed setting); MB/s counts the DynamoDB JSON written, before compression.
    measure export "$ITEMS" "$SRC_BYTES" "gzip level 1, 8 segments; MB/s of DynamoDB JSON" -- \
        "$MIGRATE" export src --to "$WORK/export" --endpoint-url "$ENDPOINT" --gzip-level 1 --segments 8
    JSON_BYTES=$("$PYTHON" - "$WORK/export" <<'PY2'
import glob, json, sys
summary = glob.glob(sys.argv[1] + "/**/manifest-summary.json", recursive=True)[0]
print(json.load(open(summary))["dynamoMigrate"]["uncompressedBytes"])
PY2
)
    "$PYTHON" - "$RESULTS" "$JSON_BYTES" <<'PY2'
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
fi

# --- peers on the same server --------------------------------------------------------------------
if ! skipped peers; then
    echo "peers on $ENDPOINT ($PEER_ITEMS items)"
    measure ours-peer-table "$PEER_ITEMS" "$PEER_BYTES" "dynamo-migrate, same table as the peers" -- \
        "$MIGRATE" migrate "$(mapping ourspeer peer peer-ours)" --endpoint-url "$ENDPOINT" --state-dir "$WORK/state-ourspeer"
    measure boto3-copy "$PEER_ITEMS" "$PEER_BYTES" "parallel scan + batch_writer, 4 segments" -- \
        "$PYTHON" Benchmarks/peers/boto3_copy.py --endpoint-url "$ENDPOINT" --source peer --target peer-boto3 --segments 4
    HOSTPORT=${ENDPOINT#http://}
    DUMP=$WORK/dump
    measure dynamodump-backup "$PEER_ITEMS" "$PEER_BYTES" "dynamodump -m backup" -- \
        dynamodump -m backup -r us-east-1 --host "${HOSTPORT%:*}" --port "${HOSTPORT#*:}" --accessKey bench --secretKey bench \
        -s peer --dumpPath "$DUMP" --log ERROR
    # dynamodump writes the empty index lists DescribeTable may carry; CreateTable refuses them.
    "$PYTHON" - "$DUMP/peer/schema.json" <<'EOF'
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
"$MIGRATE" checksum $(skipped e2e || echo dst dstx dst4k merged) $(skipped peers || echo peer-ours peer-boto3 peer-restored) --endpoint-url "$ENDPOINT" >"$WORK/checksums.txt" 2>&1 || true
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
    "$PYTHON" - "$MOTO" "$MOTO_ITEMS" <<'EOF'
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
        "$PYTHON" Benchmarks/peers/boto3_copy.py --endpoint-url "$MOTO" --source src --target dst-boto3 --segments 4
fi

# --- capacity: provisioned (throttled) tables -----------------------------------------------------
# Utilization = capacity units DynamoDB accepted / (capacity x (seconds + 1)): each run gets a server of
# its own, whose tables start with one second of capacity in the bucket and nothing banked; unused
# capacity is banked (up to 300 s) as DynamoDB's burst capacity is.
CAPACITY=$WORK/capacity.tsv   # name side capacity units seconds expected copied status note
: >"$CAPACITY"
CAP_PID=
start_capacity_server() { # ITEMS ARGS...: a fresh server with table src of ITEMS items of ~400 B
    local items=$1; shift
    "$BIN/dynamo-bench-server" --seed-table src --items "$items" --item-bytes 400 "$@" >"$WORK/cap-server.out" 2>"$WORK/cap-server.err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    for _ in $(seq 1 200); do grep -q listening "$WORK/cap-server.out" 2>/dev/null && break; sleep 0.1; done
    CAP_ENDPOINT=$(sed -n 's/.*listening on //p' "$WORK/cap-server.out")
    [ -n "$CAP_ENDPOINT" ] || { echo "dynamo-bench-server did not start"; cat "$WORK/cap-server.err"; exit 1; }
}
stop_capacity_server() { kill "$CAP_PID" 2>/dev/null || true; wait "$CAP_PID" 2>/dev/null || true; }
describe() { # ENDPOINT TABLE FIELD: ItemCount or TableSizeBytes (0 when the table is missing)
    "$PYTHON" - "$@" <<'PY'
import sys, boto3
endpoint, table, field = sys.argv[1:]
client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
try:
    print(client.describe_table(TableName=table)["Table"][field])
except client.exceptions.ResourceNotFoundException:
    print(0)
PY
}
# capacity_run NAME SIDE CAPACITY ITEMS SERVER-ARGS -- command (with @ENDPOINT@ for the endpoint)
capacity_run() {
    local name=$1 side=$2 capacity=$3 items=$4 server_args=$5; shift 6
    start_capacity_server "$items" $server_args
    local command=("${@//@ENDPOINT@/$CAP_ENDPOINT}")
    echo "  $name: ${command[*]}" | cut -c1-160
    local started ended status=0
    started=$(date +%s.%N)
    "${command[@]}" >"$WORK/$name.out" 2>&1 || status=$?
    ended=$(date +%s.%N)
    local copied units
    copied=$(describe "$CAP_ENDPOINT" dst ItemCount)
    if [ "$side" = write ]; then
        units=$copied   # items of ~400 B: one write unit each
    else
        # What the Scans of the source cost: its size in 4 KB units, halved (eventually consistent reads).
        units=$(( $(describe "$CAP_ENDPOINT" src TableSizeBytes) / 8192 ))
    fi
    stop_capacity_server
    [ "$status" = 0 ] || { echo "  $name exited $status; its output ends:"; tail -3 "$WORK/$name.out"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$side" "$capacity" "$units" \
        "$(awk -v a="$ended" -v b="$started" 'BEGIN { printf "%.2f", a - b }')" "$items" "$copied" "$status" >>"$CAPACITY"
}
if ! skipped capacity; then
    echo "capacity: $CAP_ITEMS items into a table of $CAP_WCU WCU; $CAP_READ_ITEMS items from a table of $CAP_RCU RCU"
    for run in $(seq 1 "$RUNS"); do
        capacity_run "ours-write-$run" write "$CAP_WCU" "$CAP_ITEMS" "--write-capacity $CAP_WCU" -- \
            "$MIGRATE" migrate "$(mapping capw src dst)" --endpoint-url @ENDPOINT@ --state-dir "$WORK/state-capw$run"
    done
    for mode in standard adaptive; do
        capacity_run "boto3-$mode-write" write "$CAP_WCU" "$CAP_ITEMS" "--write-capacity $CAP_WCU" -- \
            "$PYTHON" Benchmarks/peers/boto3_copy.py --endpoint-url @ENDPOINT@ --source src --target dst --segments 4 --retry-mode "$mode"
    done
    for run in $(seq 1 "$RUNS"); do
        capacity_run "ours-read-$run" read "$CAP_RCU" "$CAP_READ_ITEMS" "--read-capacity $CAP_RCU" -- \
            "$MIGRATE" migrate "$(mapping capr src dst)" --endpoint-url @ENDPOINT@ --state-dir "$WORK/state-capr$run"
    done
    for mode in standard adaptive; do
        capacity_run "boto3-$mode-read" read "$CAP_RCU" "$CAP_READ_ITEMS" "--read-capacity $CAP_RCU" -- \
            "$PYTHON" Benchmarks/peers/boto3_copy.py --endpoint-url @ENDPOINT@ --source src --target dst --segments 4 --retry-mode "$mode"
    done
fi

# --- report --------------------------------------------------------------------------------------
mkdir -p Benchmarks/results
STAMP="$(date -u +%Y-%m-%d)-$(hostname -s)${BENCH_TAG:+-$BENCH_TAG}"
SWIFT_VERSION=$(swift --version 2>&1 | head -1)
"$PYTHON" - "$RESULTS" "$MICRO" "$CAPACITY" "$WORK/checksums.txt" "Benchmarks/results/$STAMP" "$SWIFT_VERSION" "$ITEMS" "$BIG_ITEMS" \
    "$PEER_ITEMS" "$MOTO_ITEMS" "${SERVER_RSS:-0}" "${SERVER_CPU:-0}" <<'EOF'
import json, os, platform, re, sys, datetime
(results_path, micro_path, capacity_path, checksums_path, out, swift, items, big_items, peer_items, moto_items,
 server_rss, server_cpu) = sys.argv[1:]
import statistics
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
# A copy measured several times: min/median/max of items/s, and its median run stands for it.
spread = {}
for name in sorted({r["name"] for r in rows}):
    runs = [r for r in rows if r["name"] == name and r.get("items_per_s")]
    if len(runs) > 1:
        runs.sort(key=lambda r: r["items_per_s"])
        by[name] = runs[len(runs) // 2]
        spread[name] = {"runs": len(runs), "min": runs[0]["items_per_s"], "median": runs[len(runs) // 2]["items_per_s"],
                        "max": runs[-1]["items_per_s"]}

# Throttled tables: utilization = units accepted / (capacity x (seconds + 1)).
capacity_rows = []
for line in open(capacity_path) if os.path.exists(capacity_path) else []:
    name, side, cap, units, seconds, expected, copied, status = line.rstrip("\n").split("\t")
    cap, units, seconds, expected, copied = float(cap), float(units), float(seconds), int(expected), int(copied)
    capacity_rows.append({"name": name, "side": side, "capacity": cap, "units": units, "seconds": seconds,
                          "items": expected, "copied": copied, "lost": expected - copied, "exit": int(status),
                          "items_per_s": round(copied / seconds) if seconds else None,
                          "utilization": round(units * (copied / expected if side == "read" and expected else 1) / (cap * (seconds + 1)), 3)})
def utilization(prefix):
    runs = sorted(r["utilization"] for r in capacity_rows if r["name"].startswith(prefix) and r["lost"] == 0 and r["exit"] == 0)
    if not runs:
        return None
    return {"runs": len(runs), "min": runs[0], "median": runs[len(runs) // 2], "max": runs[-1]}
capacity_summary = {"ours-write": utilization("ours-write-"), "ours-read": utilization("ours-read-")}

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
    "3-source keep-existing merge vs copy (items/s)": ratio("merge-keep-existing", "copy"),
}
copy = by.get("copy", {})
# Issue 12's goals (2 cores, bench server on the same cores, 1M items of 400 B).
goals = [
    ("client CPU <= 4 us per copied item", copy.get("cpu_us_per_item"), lambda v: v <= 4, "us/item"),
    (">= 150,000 items/s copy", copy.get("items_per_s"), lambda v: v >= 150000, "items/s"),
    ("peak RSS < 200 MB at 1M items", copy.get("peak_rss_mb") if int(items) >= 1000000 else None, lambda v: v < 200, "MB"),
    (">= 150 MB/s export of DynamoDB JSON with checksums", by.get("export", {}).get("mb_per_s"), lambda v: v >= 150, "MB/s"),
    (">= 50x less CPU per copied item than the boto3 copy", ratios.get("copy CPU per item, boto3 / ours"), lambda v: v >= 50, "x"),
    ("3-source keep-existing merge >= 50 % of copy items/s", (round(100 * by["merge-keep-existing"]["items_per_s"] / copy["items_per_s"])
        if by.get("merge-keep-existing", {}).get("items_per_s") and copy.get("items_per_s") else None), lambda v: v >= 50, "%"),
]
for side in ("write", "read"):
    summary = capacity_summary[f"ours-{side}"]
    lost = sum(r["lost"] for r in capacity_rows if r["name"].startswith(f"ours-{side}-"))
    value = None if summary is None else round(summary["median"] * 100, 1)
    goals.append((f">= 90 % of a throttled table's {side} capacity (median of ours), no item lost", value,
                  lambda v, lost=lost: v >= 90 and lost == 0, "%"))
goal_rows = [{"goal": g, "value": v, "unit": u, "met": (None if v is None else bool(f(v)))} for g, v, f, u in goals]

json.dump({"setup": setup, "micro": micro, "runs": rows, "spread": spread, "capacity": capacity_rows,
           "capacity_summary": capacity_summary, "ratios": ratios, "goals": goal_rows,
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
if spread:
    lines += ["", "## Run-to-run spread (items/s)", "", "| run | runs | min | median | max |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {k} | {v['runs']} | {v['min']:,} | {v['median']:,} | {v['max']:,} |" for k, v in spread.items()]
if capacity_rows:
    lines += ["", "## Throttled tables (provisioned capacity on dynamo-bench-server)", "",
              "Utilization = capacity units the table accepted / (capacity x (seconds + 1)): a table starts with one second of capacity.", "",
              "| run | side | capacity units/s | items | copied | lost | seconds | items/s | utilization | exit |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in capacity_rows:
        lines.append(f"| {r['name']} | {r['side']} | {r['capacity']:.0f} | {r['items']:,} | {r['copied']:,} | {r['lost']:,} | {r['seconds']:.2f} | "
                     f"{r['items_per_s']:,} | {r['utilization'] * 100:.1f} % | {r['exit']} |")
    for k, v in capacity_summary.items():
        if v:
            lines.append(f"- {k}: utilization min/median/max {v['min'] * 100:.1f} / {v['median'] * 100:.1f} / {v['max'] * 100:.1f} % over {v['runs']} runs")
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
