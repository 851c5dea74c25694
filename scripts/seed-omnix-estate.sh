#!/usr/bin/env bash
# Seeds the 27-table omnix-ai estate on a local DynamoDB server; all arguments go to seed-omnix-estate.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
  echo "seed-omnix-estate: boto3 is missing; installing it with pip" >&2
  python3 -m pip install --quiet boto3
fi
exec python3 "$here/seed-omnix-estate.py" "$@"
