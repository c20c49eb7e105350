#!/usr/bin/env bash
# newsmon's one entry point for a fresh clone.
#   bash deploy/dev.sh demo   set up .venv, then crawl the offline demo site into the embedded store
#   bash deploy/dev.sh test   set up .venv, install chromium and redis-server if missing (root), start the FerretDB test server if Go is here, run pytest
#   bash deploy/dev.sh setup  only set up .venv (Python >= 3.11 needed)
# Extra arguments go to `newsmon demo` or to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BIN=${PYTHON_BIN:-python3}
VENV=${NEWSMON_VENV:-.venv}

setup() {
    if ! "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "newsmon: Python >= 3.11 is required ($PYTHON_BIN is $("$PYTHON_BIN" --version 2>&1))" >&2
        exit 2
    fi
    [ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"
    # Reinstall only when pyproject.toml changed: a no-op setup takes well under a second.
    local stamp="$VENV/.newsmon-installed" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        # pip 23.x mis-resolves lxml's extras; a current pip does not.
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -e ".[test]"
        echo "$want" > "$stamp"
    fi
}

ensure_chromium() {
    # JavaScript rendering (crawler/render.py) uses the machine's Chromium; its tests run in CI.
    local browser=${NEWSMON_BROWSER:-/usr/bin/chromium}
    if [ -x "$browser" ] || command -v chromium >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "newsmon: installing chromium for the rendering tests (apt-get) …" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq chromium >/dev/null
        command -v chromium >/dev/null 2>&1 || { echo "newsmon: chromium install failed" >&2; exit 1; }
    else
        echo "newsmon: chromium not found: rendering tests are skipped outside CI" \
             "(install it: sudo apt-get install -y chromium, or set NEWSMON_BROWSER)" >&2
    fi
}

ensure_redis() {
    # The scale-out tests (tests/test_redis_scaleout.py) start Debian's redis-server themselves.
    if command -v redis-server >/dev/null 2>&1 || [ -n "${NEWSMON_TEST_REDIS_URL:-}" ]; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "newsmon: installing redis-server for the scale-out tests (apt-get) …" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq redis-server >/dev/null
        command -v redis-server >/dev/null 2>&1 || { echo "newsmon: redis-server install failed" >&2; exit 1; }
    else
        echo "newsmon: redis-server not found: scale-out tests are skipped outside CI" \
             "(install it: sudo apt-get install -y redis-server)" >&2
    fi
}

start_ferretdb() {
    # The real-server tier: FerretDB (MongoDB wire protocol over SQLite), built with Go.
    if ! command -v go >/dev/null 2>&1; then
        echo "newsmon: Go not found: the real-server (FerretDB) tests will be skipped" >&2
        return 0
    fi
    FERRET_DIR=$(mktemp -d "${TMPDIR:-/tmp}/newsmon-ferretdb.XXXXXX")
    local env_lines
    env_lines=$(PYTHON="$VENV/bin/python" bash deploy/ferretdb/run.sh start "$FERRET_DIR")
    eval "$env_lines"
    export NEWSMON_TEST_MONGO_URI="$MONGO_URI" NEWSMON_TEST_SERVER_KIND=ferretdb
    unset MONGO_URI
    trap 'bash deploy/ferretdb/run.sh stop "$FERRETDB_PID" >/dev/null 2>&1 || true; rm -rf "$FERRET_DIR"' EXIT
    echo "newsmon: FerretDB test server at $NEWSMON_TEST_MONGO_URI" >&2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) setup ;;
    demo) setup; exec "$VENV/bin/newsmon" demo "$@" ;;
    test)
        setup
        ensure_chromium
        ensure_redis
        if [ -z "${NEWSMON_TEST_MONGO_URI:-}" ]; then start_ferretdb; fi
        "$VENV/bin/python" -m pytest -rs "$@"
        ;;
    *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
