#!/usr/bin/env bash
# Build, start and stop newsmon's FerretDB test server (FerretDB, not MongoDB:
# an open-source server speaking MongoDB's wire protocol, SQLite storage).
#
#   bash deploy/ferretdb/run.sh build
#   eval "$(bash deploy/ferretdb/run.sh start /tmp/newsmon-fdb)"   # sets MONGO_URI, FERRETDB_PID
#   bash deploy/ferretdb/run.sh stop "$FERRETDB_PID"
#
# Environment:
#   NEWSMON_CACHE_DIR  where the binary goes (default ~/.cache/newsmon); it is
#                      ${NEWSMON_CACHE_DIR}/ferretdb/newsmon-ferretdb
#   GO                 go command to use (default: `go` on PATH, else /usr/local/go/bin/go)
#   PYTHON             python with pymongo, for the readiness ping (default python3)
#   FERRETDB_START_TIMEOUT  seconds to wait for the server to answer ping (default 30)
set -euo pipefail

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${NEWSMON_CACHE_DIR:-$HOME/.cache/newsmon}/ferretdb"
BIN="$CACHE_DIR/newsmon-ferretdb"
STAMP="$BIN.stamp"
BUILD_TAGS="ferretdb_no_postgresql"

die() { echo "ferretdb/run.sh: $*" >&2; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: run.sh build
       run.sh start DATADIR   # prints MONGO_URI=... and FERRETDB_PID=...
       run.sh stop PID
EOF
    exit 2
}

find_go() {
    if [[ -n "${GO:-}" ]]; then
        command -v "$GO" >/dev/null 2>&1 || die "GO=$GO is not an executable go command"
        echo "$GO"
    elif command -v go >/dev/null 2>&1; then
        echo go
    elif [[ -x /usr/local/go/bin/go ]]; then
        echo /usr/local/go/bin/go
    else
        die "go not found (need Go >= 1.24 on PATH, at /usr/local/go/bin/go, or in \$GO) to build FerretDB"
    fi
}

# The stamp covers the sources, the Go version and the build settings.
stamp_of() {
    local gocmd="$1"
    {
        cat "$SRC_DIR/main.go" "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" "$SRC_DIR"/*.patch
        "$gocmd" version
        echo "CGO_ENABLED=0 tags=$BUILD_TAGS"
    } | sha256sum | cut -d' ' -f1
}

# Applies deploy/ferretdb/*.patch (paths relative to FerretDB's module root) in DIR.
apply_patches() {
    local dir="$1" patch
    for patch in "$SRC_DIR"/*.patch; do
        if command -v patch >/dev/null 2>&1; then
            patch -p1 --batch --forward -d "$dir" <"$patch" || return 1
        else
            (cd "$dir" && git apply -p1 "$patch") || return 1
        fi
    done
}
cmd_build() {
    local gocmd want
    gocmd="$(find_go)"
    want="$(stamp_of "$gocmd")"
    if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        return 0
    fi
    mkdir -p "$CACHE_DIR"

    # Serialise concurrent builds where flock exists; build to a temp file and
    # rename so a half-written binary is never run.
    local lock="$CACHE_DIR/.build.lock"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$lock"
        flock 9
        if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
            exec 9>&-
            return 0
        fi
    fi

    echo "ferretdb/run.sh: building $BIN (first build takes a minute or two)" >&2
    local tmp="$BIN.tmp.$$" src="$CACHE_DIR/src.$$"
    local start=$SECONDS
    # Built from a vendored copy with our patches to FerretDB applied (*.patch; each says why).
    rm -rf "$src" && mkdir -p "$src"
    cp "$SRC_DIR/main.go" "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" "$src/"
    if ! (cd "$src" && "$gocmd" mod vendor && apply_patches "$src/vendor/github.com/FerretDB/FerretDB" \
          && CGO_ENABLED=0 "$gocmd" build -mod=vendor -trimpath -tags "$BUILD_TAGS" -o "$tmp" .) >&2; then
        rm -rf "$tmp" "$src"
        die "go build failed"
    fi
    rm -rf "$src"
    mv -f "$tmp" "$BIN"
    echo "$want" >"$STAMP"
    echo "ferretdb/run.sh: built in $((SECONDS - start))s" >&2
    if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
}

# Prints "ok" once a pymongo ping succeeds; "nopymongo" if pymongo is missing.
ping_server() {
    local port="$1"
    "${PYTHON:-python3}" - "$port" 2>/dev/null <<'EOF' || true
import sys
try:
    import pymongo
except ImportError:
    print("nopymongo")
    sys.exit(0)
c = pymongo.MongoClient("127.0.0.1", int(sys.argv[1]), serverSelectionTimeoutMS=2000,
                        connectTimeoutMS=2000, directConnection=True)
try:
    c.admin.command("ping")
    print("ok")
finally:
    c.close()
EOF
}

tcp_open() {
    # bash's /dev/tcp: connects or fails at once on loopback.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    local datadir="${1:-}"
    [[ -n "$datadir" ]] || usage
    cmd_build
    mkdir -p "$datadir"
    datadir="$(cd "$datadir" && pwd)"
    local log="$datadir/ferretdb.log" out="$datadir/ferretdb.stdout"
    : >"$out"

    # Port 0: the server binds a free port itself and reports it as
    # "ready 127.0.0.1:PORT" (no window where another process can take it).
    # Its stdout/stderr go to files, so `$(run.sh start ...)` does not hang.
    "$BIN" -listen 127.0.0.1:0 -dir "$datadir" </dev/null >"$out" 2>"$log" &
    local pid=$!

    local timeout="${FERRETDB_START_TIMEOUT:-30}"
    local deadline=$((SECONDS + timeout)) port="" res=""
    fail() {
        echo "ferretdb/run.sh: FerretDB did not become ready: $1" >&2
        echo "--- tail of $log ---" >&2
        tail -n 40 "$log" >&2 || true
        kill -KILL "$pid" 2>/dev/null || true
        exit 1
    }
    while :; do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; fail "server exited"; }
        if [[ -z "$port" ]]; then
            port="$(sed -n 's/^ready 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out" | head -n1)"
        fi
        if [[ -n "$port" ]]; then
            res="$(ping_server "$port")"
            if [[ "$res" == ok ]]; then break; fi
            if [[ "$res" == nopymongo ]] && tcp_open "$port"; then break; fi
        fi
        ((SECONDS < deadline)) || fail "no answer to ping within ${timeout}s"
        sleep 0.1
    done
    echo "MONGO_URI=mongodb://127.0.0.1:$port/"
    echo "FERRETDB_PID=$pid"
}

# True while PID is alive; a zombie (exited, not yet reaped) counts as gone.
is_alive() {
    local state
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z ]]
}

is_our_server() {
    local cmdline
    is_alive "$1" || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *newsmon-ferretdb* ]]
}

cmd_stop() {
    local pid="${1:-}"
    [[ "$pid" =~ ^[0-9]+$ ]] || usage
    if ! is_our_server "$pid"; then
        echo "ferretdb/run.sh: no newsmon-ferretdb process $pid running" >&2
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    # FerretDB gives connected clients up to 3 s to disconnect on shutdown.
    local i
    for ((i = 0; i < 100; i++)); do
        is_alive "$pid" || return 0
        sleep 0.1
    done
    echo "ferretdb/run.sh: $pid ignored SIGTERM for 10s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        is_alive "$pid" || return 0
        sleep 0.1
    done
    die "process $pid still running after SIGKILL"
}

case "${1:-}" in
build) cmd_build ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
