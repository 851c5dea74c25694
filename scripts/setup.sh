#!/usr/bin/env bash
# Installs what dynamo-migrate needs and is missing (idempotent), then builds it.
#   scripts/setup.sh            install and build (debug)
#   scripts/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# System packages: libcurl and zlib headers for the system-library targets, pkg-config to find them,
# curl for readiness checks, python3 for the local server (its packages go into a virtual environment).
need_apt=()
for pkg in libcurl4-openssl-dev zlib1g-dev pkg-config curl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# python3 may come from elsewhere (pyenv): only ask apt for it when there is none on PATH.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
filtered=()
for p in "${need_apt[@]:-}"; do [ -n "$p" ] && filtered+=("$p"); done
if [ "${#filtered[@]}" -gt 0 ]; then
    log "installing Debian packages: ${filtered[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${filtered[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    log "error: no Swift toolchain on PATH. Install Swift 6 (https://www.swift.org/install/linux/) and rerun."
    exit 1
fi

# Python packages: moto's server is the local DynamoDB; boto3 seeds the demo estate. Both go into the
# project's own virtual environment (scripts/python-env.sh), never into the system's Python.
# moto is pinned to the version ../shared/MOTO-NOTES.md describes.
. scripts/python-env.sh
python_env_install 'import moto.server, flask_cors, moto; assert moto.__version__ == "5.2.1"' 'moto[server]==5.2.1' 'import boto3' boto3
# Kubernetes' OpenAPI schemas as JSON (read offline) for the deployment manifest checks (DeployManifestTests).
python_env_install 'import kubernetes_validate.utils' 'kubernetes-validate==1.37.0'

if [ "${1:-}" != "--no-build" ]; then
    log "building dynamo-migrate"
    swift build 2>&1 | grep -E 'error|warning: unre|Compiling dynamo|Build complete' >&2 || true
    swift build >/dev/null
fi
