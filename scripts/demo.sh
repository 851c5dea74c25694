#!/usr/bin/env bash
# The main job on a local DynamoDB (moto): installs what is missing, starts the server, seeds a realistic
# omnix-ai estate, then plans, migrates, verifies, backs up and drills, printing the results.
#   scripts/demo.sh            run everything, stop the server at the end
#   KEEP_SERVER=1 scripts/demo.sh   leave the server running to explore (scripts/local-dynamodb.sh stop)
#   DEMO_SCALE=0.5 scripts/demo.sh  a smaller or bigger estate
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

scripts/setup.sh --no-build
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

run_or_not_yet() {
    local what="$1"; shift
    if "$BIN" help "$1" >/dev/null 2>&1; then
        "$BIN" "$@"
    else
        echo "not yet: $what"
    fi
}

step "Plan (dry run)"
run_or_not_yet "plan (issue 3)" plan "$MAPPING"
step "Migrate"
run_or_not_yet "migrate (issue 4)" migrate "$MAPPING" --state-dir "$STATE"
step "Verify"
run_or_not_yet "verify (issue 5)" verify "$MAPPING" --state-dir "$STATE"
step "Back up"
run_or_not_yet "backup (issue 6)" backup create --match 'omnix-ai-prod-*' --state-dir "$STATE"
step "Restore drill"
run_or_not_yet "drill (issue 6)" drill omnix-ai-prod-users --latest-backup --state-dir "$STATE"

step "Tables after"
"$BIN" tables
