#!/usr/bin/env bash
# A steady, seeded write load (puts, updates, deletes) on DynamoDB tables; all arguments go to dynamo-load.py.
#   scripts/dynamo-load.sh --tables omnix-ai-dev-users,omnix-ai-cdk-users --rate 20 --duration 30 --seed 7
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/python-env.sh"   # boto3 lives in the project's virtual environment
python_env_install 'import boto3' boto3
exec python3 "$here/dynamo-load.py" "$@"
