#!/usr/bin/env bash
# The main job on a local DynamoDB (moto): installs what is missing, starts the server, seeds a realistic
# omnix-ai estate, then plans, migrates, verifies, backs up and drills, printing the results; then a live
# consolidation: a load generator writes to the sources while migrate --follow copies and follows them.
#   scripts/demo.sh            run everything, stop the server at the end
#   KEEP_SERVER=1 scripts/demo.sh   leave the server running to explore (scripts/local-dynamodb.sh stop)
#   DEMO_SCALE=0.5 scripts/demo.sh  a smaller or bigger estate
#   DEMO_LOAD_RATE=8 DEMO_LOAD_SECONDS=40 scripts/demo.sh   the live step's write load (writes/s, seconds)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

scripts/setup.sh --no-build
. scripts/python-env.sh   # moto_server, boto3 from the project's virtual environment
step "Building dynamo-migrate (release)"
swift build -c release --product dynamo-migrate 2>&1 | grep -E 'error|Compiling|Build' | tail -3
BIN="$(swift build -c release --show-bin-path)/dynamo-migrate"

export LOCAL_DYNAMODB_DIR=".dynamo-migrate/demo-dynamodb"
if [ "${KEEP_SERVER:-0}" != "1" ]; then trap 'scripts/local-dynamodb.sh stop' EXIT; fi
endpoint="$(scripts/local-dynamodb.sh start)"
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-demo}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-demo}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
echo "local DynamoDB (moto) at $endpoint"

MAPPING=mappings/omnix-ai-consolidation.yaml
STATE=.dynamo-migrate/demo-state
rm -rf "$STATE"

step "Seeding the omnix-ai estate"
if [ -x scripts/seed-omnix-estate.sh ]; then
    scripts/seed-omnix-estate.sh --endpoint-url "$endpoint" --reset --scale "${DEMO_SCALE:-1}"
else
    echo "not yet: the estate seeder (issue 3)"
fi

step "Tables before"
"$BIN" tables

step "Plan (dry run: writes nothing)"
"$BIN" plan "$MAPPING" --sample 2

step "Migrate"
"$BIN" migrate "$MAPPING" --state-dir "$STATE"

step "Verify (content checksums of every target against its transformed sources)"
"$BIN" verify "$MAPPING" --state-dir "$STATE"

if "$BIN" help backup >/dev/null 2>&1; then
    step "Back up the consolidated tables and the sources to decommission"
    prod_tables=$("$BIN" tables --match 'omnix-ai-prod-*' --json | python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)))')
    sources=$("$BIN" plan "$MAPPING" --json --sample 0 | python3 -c 'import json,sys; print(" ".join(d["table"] for d in json.load(sys.stdin)["decommission"]))')
    "$BIN" backup create $prod_tables $sources --state-dir "$STATE/backups"

    step "Restore drill: restore the newest backup of omnix-ai-prod-users, validate it, measure the RTO"
    "$BIN" drill run omnix-ai-prod-users --latest-backup --rto 4h --state-dir "$STATE/backups"

    step "Backup policy (PITR, backup age, retention)"
    "$BIN" backup verify --policy mappings/backup-policy.yaml
else
    echo "not yet: backup and drill (issue 6)"
fi

step "Decommission (dry run: shows each check and its evidence, deletes nothing)"
"$BIN" decommission "$MAPPING" --state-dir "$STATE" --backup-state-dir "$STATE/backups" || echo "(tables refused above keep running until their proof exists)"

# --- Live consolidation: the applications keep writing while the tables move (migrate --follow) -------------
# mappings/omnix-ai-live.yaml holds the consolidation's targets that follow can keep exact (plan --follow
# says why the other four cannot), with env live: targets omnix-ai-live-*. A seeded load generator
# (scripts/dynamo-load.sh) plays the applications: puts, updates and deletes on the sources, including the
# keys that two merged sources share, during the copy and the follow.
LIVE_MAPPING=mappings/omnix-ai-live.yaml
LIVE=.dynamo-migrate/demo-live
rm -rf "$LIVE"; mkdir -p "$LIVE"
live_sources=$("$BIN" plan "$LIVE_MAPPING" --json --sample 0 | python3 -c 'import json,sys; print(",".join(d["table"] for d in json.load(sys.stdin)["decommission"]))')
live_targets=$("$BIN" plan "$LIVE_MAPPING" --json --sample 0 | python3 -c 'import json,sys; print(",".join(t["name"] for t in json.load(sys.stdin)["targets"]))')

step "Live consolidation: plan --follow (the sources' streams, and whether follow keeps each target exact)"
"$BIN" plan "$LIVE_MAPPING" --follow --enable-streams --sample 0

step "Live consolidation: the applications write to the sources while migrate --follow copies and follows"
LOAD_RATE=${DEMO_LOAD_RATE:-8} LOAD_SECONDS=${DEMO_LOAD_SECONDS:-40}   # about 320 writes: through the copy and well into the follow
scripts/dynamo-load.sh --tables "$live_sources" --rate "$LOAD_RATE" --duration "$LOAD_SECONDS" --seed 7 \
    --label app --log "$LIVE/app-writes.jsonl" >"$LIVE/app.out" 2>&1 &
load_pid=$!
# The copy starts once the load is writing (its first lines: what it writes, at what rate).
until grep -q writing "$LIVE/app.out" 2>/dev/null; do
    kill -0 "$load_pid" 2>/dev/null || { cat "$LIVE/app.out"; echo "the load generator stopped before writing"; exit 1; }
    sleep 0.5
done
head -1 "$LIVE/app.out"
# --enable-streams: the sources have no NEW_AND_OLD_IMAGES stream yet; migrate turns one on per source
# (UpdateTable) before it takes the stream positions, then copies, then applies the streams. When the load
# stops (the applications' writes to the old tables stop), the follow drains: it exits once every shard is
# caught up and nothing arrived for 10 s.
"$BIN" migrate "$LIVE_MAPPING" --state-dir "$LIVE" --follow --enable-streams --until-idle 10s --metrics "$LIVE/follow.prom"
wait "$load_pid"
tail -n +2 "$LIVE/app.out"
echo "follow metrics ($LIVE/follow.prom):"
grep -E '^dynamo_migrate_follow_(lag_seconds |records_applied_total{)' "$LIVE/follow.prom" | sed 's/^/  /'

step "Live consolidation: verify after the drain (the targets hold exactly what the sources hold now)"
"$BIN" verify "$LIVE_MAPPING" --state-dir "$LIVE"

step "Live consolidation: back up the followed sources, then the decommission dry run (needs: verified, backed up, drained)"
"$BIN" backup create ${live_sources//,/ } --state-dir "$LIVE/backups"
"$BIN" decommission "$LIVE_MAPPING" --state-dir "$LIVE" --backup-state-dir "$LIVE/backups"

step "Live consolidation: the applications now write to the new tables"
scripts/dynamo-load.sh --tables "$live_targets" --rate "$LOAD_RATE" --count $((LOAD_RATE * 4)) --seed 8 --label app

step "Tables after"
"$BIN" tables
echo
echo "Reports: $STATE/report.md, $STATE/verification.json, $STATE/decommission-audit.jsonl"
echo "Live consolidation: $LIVE/report.md (follow lag per shard in report.json), $LIVE/follow.prom, $LIVE/app-writes.jsonl"
