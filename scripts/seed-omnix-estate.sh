#!/usr/bin/env bash
# Seeds the 27-table omnix-ai estate on a local DynamoDB server; all arguments go to seed-omnix-estate.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/python-env.sh"   # boto3 lives in the project's virtual environment
python_env_install 'import boto3' boto3
exec python3 "$here/seed-omnix-estate.py" "$@"
