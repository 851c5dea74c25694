#!/usr/bin/env bash
# Starts and stops the local DynamoDB-compatible server (moto) on 127.0.0.1.
#   scripts/local-dynamodb.sh start   start on a free port, wait until it answers, print its endpoint
#   scripts/local-dynamodb.sh stop    stop the server this script started (only that pid)
#   scripts/local-dynamodb.sh url     print the endpoint of the running server
# LOCAL_DYNAMODB_DIR (default .dynamo-migrate/local-dynamodb) holds the pid, port and log files, so
# several instances (tests, demo) can run side by side with different folders.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/python-env.sh   # moto_server lives in the project's virtual environment
DIR="${LOCAL_DYNAMODB_DIR:-.dynamo-migrate/local-dynamodb}"
PIDFILE="$DIR/server.pid"
PORTFILE="$DIR/server.port"
LOGFILE="$DIR/server.log"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
endpoint() { echo "http://127.0.0.1:$(cat "$PORTFILE")"; }

free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

case "${1:-}" in
start)
    mkdir -p "$DIR"
    if running; then endpoint; exit 0; fi
    command -v moto_server >/dev/null 2>&1 || { echo "moto_server not found: run scripts/setup.sh" >&2; exit 1; }
    port="${LOCAL_DYNAMODB_PORT:-$(free_port)}"
    echo "$port" > "$PORTFILE"
    nohup moto_server -H 127.0.0.1 -p "$port" >"$LOGFILE" 2>&1 &
    echo $! > "$PIDFILE"
    for _ in $(seq 1 150); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then endpoint; exit 0; fi
        if ! running; then echo "moto_server exited; its log ($LOGFILE):" >&2; tail -20 "$LOGFILE" >&2; exit 1; fi
        sleep 0.2
    done
    echo "moto_server did not answer on port $port within 30 s; log: $LOGFILE" >&2
    exit 1
    ;;
stop)
    if running; then
        pid="$(cat "$PIDFILE")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    ;;
url)
    if running; then endpoint; else echo "the local server is not running (scripts/local-dynamodb.sh start)" >&2; exit 1; fi
    ;;
*)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
