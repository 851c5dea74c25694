# Sourced by the other scripts: the Python peers (moto's server, boto3, dynamodump) live in their own
# virtual environment, never in the machine's Python, so nothing here can break the system's packages.
#   DYNAMO_MIGRATE_VENV   where the environment lives (default ~/.cache/dynamo-migrate/venv, shared by clones)
#   python_env_install PKG...   creates the environment if needed and installs what is missing
# After sourcing, the environment's bin/ is first on PATH (so `moto_server`, `python3` are its own).
DYNAMO_MIGRATE_VENV="${DYNAMO_MIGRATE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/dynamo-migrate/venv}"
export DYNAMO_MIGRATE_VENV

python_env_create() {
    [ -x "$DYNAMO_MIGRATE_VENV/bin/python3" ] && return 0
    local base_python
    base_python="$(command -v python3 || true)"
    if [ -z "$base_python" ]; then
        echo "[python-env] installing python3 (Debian package)" >&2
        ${SUDO:-} apt-get update -qq
        DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq python3 python3-venv >/dev/null
        base_python="$(command -v python3)"
    fi
    mkdir -p "$(dirname "$DYNAMO_MIGRATE_VENV")"
    if ! "$base_python" -m venv "$DYNAMO_MIGRATE_VENV" >/dev/null 2>&1; then
        # Debian's python3 needs python3-venv (ensurepip) to create environments.
        echo "[python-env] installing python3-venv (Debian package) to create $DYNAMO_MIGRATE_VENV" >&2
        rm -rf "$DYNAMO_MIGRATE_VENV"
        ${SUDO:-} apt-get update -qq
        DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq python3-venv >/dev/null
        "$base_python" -m venv "$DYNAMO_MIGRATE_VENV"
    fi
}

# python_env_install 'import check' 'pip requirement' [...pairs]: installs each requirement whose import fails.
python_env_install() {
    python_env_create
    local missing=()
    while [ "$#" -ge 2 ]; do
        "$DYNAMO_MIGRATE_VENV/bin/python3" -c "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "[python-env] installing into $DYNAMO_MIGRATE_VENV: ${missing[*]}" >&2
        "$DYNAMO_MIGRATE_VENV/bin/python3" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
    fi
}

case ":$PATH:" in
    *":$DYNAMO_MIGRATE_VENV/bin:"*) ;;
    *) export PATH="$DYNAMO_MIGRATE_VENV/bin:$PATH" ;;
esac
