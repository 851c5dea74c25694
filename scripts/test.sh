#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts a local DynamoDB (moto) on a free port,
# runs `swift test` against it, stops the server whatever happened, and exits with the tests' status.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --no-build || exit 1
. scripts/python-env.sh   # moto_server from the project's virtual environment

export LOCAL_DYNAMODB_DIR=".dynamo-migrate/test-dynamodb"
stop_server() { scripts/local-dynamodb.sh stop; }
trap stop_server EXIT

endpoint="$(scripts/local-dynamodb.sh start)" || exit 1
echo "[test] local DynamoDB (moto) at $endpoint" >&2
export DYNAMO_MIGRATE_TEST_ENDPOINT="$endpoint"

swift build --build-tests || exit 1
swift test --skip-build "$@"
status=$?
exit $status
