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
# curl for readiness checks, python3/pip for the local server.
need_apt=()
for pkg in libcurl4-openssl-dev zlib1g-dev pkg-config curl python3 python3-pip; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# python3/pip may come from elsewhere (pyenv): only ask apt for them when they are really absent.
if command -v python3 >/dev/null 2>&1; then
    need_apt=("${need_apt[@]/python3}")
fi
if python3 -m pip --version >/dev/null 2>&1; then
    need_apt=("${need_apt[@]/python3-pip}")
fi
filtered=()
for p in "${need_apt[@]}"; do [ -n "$p" ] && filtered+=("$p"); done
if [ "${#filtered[@]}" -gt 0 ]; then
    log "installing Debian packages: ${filtered[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${filtered[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    log "error: no Swift toolchain on PATH. Install Swift 6 (https://www.swift.org/install/linux/) and rerun."
    exit 1
fi

# Python packages: moto's server is the local DynamoDB; boto3 seeds the demo estate.
pip_install() {
    python3 -m pip install --quiet --disable-pip-version-check "$@" 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import moto.server, flask_cors' >/dev/null 2>&1; then
    log "installing moto[server] from PyPI"
    pip_install 'moto[server]'
    hash -r
fi
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
    log "installing boto3 from PyPI"
    pip_install boto3
fi

if [ "${1:-}" != "--no-build" ]; then
    log "building dynamo-migrate"
    swift build 2>&1 | grep -E 'error|warning: unre|Compiling dynamo|Build complete' >&2 || true
    swift build >/dev/null
fi
