#!/usr/bin/env bash
# Conformance stage: starts the release server on a fresh demo database (mTLS, development PKI),
# collects real responses, validates them (FHIR R4 JSON schema, fhirkit-rs, @medplum/core against
# the ROR IG profiles, ROR terminology), runs unmodified FHIR clients against it, and checks the
# CapabilityStatement against the R4 search parameters. See CONFORMANCE.md.
#
#   bash tests/conformance/run.sh [extra pytest arguments]
#
# Environment:
#   ROR_CAPACITY_BIN   server binary (default /var/cache/ror-capacity/target-release/release/ror-capacity)
#   ROR_CACHE_DIR      cache root, outside the clone (default /var/cache/ror-capacity); tools go to
#                      $ROR_CACHE_DIR/conformance (Python venvs and node_modules, keyed by their lock files)
#   CONFORMANCE_KEEP   set to 1 to keep the work folder (responses, validator reports, server log)
#
# Ends with "conformance: N passed, M failed"; exit 0 only when M is 0.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="${ROR_CAPACITY_BIN:-/var/cache/ror-capacity/target-release/release/ror-capacity}"
CACHE="${ROR_CACHE_DIR:-/var/cache/ror-capacity}/conformance"
START=$SECONDS

say() { printf '[conformance %3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() {
    printf 'conformance: ERROR: %s\n' "$*" >&2
    echo "conformance: 0 passed, 1 failed"
    exit 1
}

# --- the server binary ------------------------------------------------------------------------
[[ -f "$BIN" ]] || die "server binary not found: $BIN (build it with 'cargo build --release' or set ROR_CAPACITY_BIN)"
[[ -x "$BIN" ]] || die "server binary is not executable: $BIN"
"$BIN" --help >/dev/null 2>&1 || die "server binary does not run: $BIN --help failed"
command -v python3 >/dev/null || die "python3 is required"
command -v node >/dev/null || die "node is required"
command -v npm >/dev/null || die "npm is required"

# --- pinned tools, cached outside the clone ---------------------------------------------------
mkdir -p "$CACHE"
# A venv per requirements file, keyed by the Python version and the file: installed with --no-deps
# (every package is pinned, transitive ones included), then checked with pip check. Sets VENV_DIR
# (not a command substitution: `die` must end the script and print its summary line).
venv_for() { # requirements-file name-prefix what
    local key dir
    key="$( (python3 -c 'import sys; print(sys.version)'; cat "$HERE/$1") | sha256sum | cut -c1-16)"
    dir="$CACHE/$2-$key"
    if [[ ! -f "$dir/.complete" ]]; then
        say "installing $3 into $dir"
        rm -rf "$dir"
        python3 -m venv "$dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$HERE/$1" \
            || die "pip install failed ($1)"
        "$dir/bin/python" -m pip check >/dev/null || die "pinned packages of $1 are inconsistent (pip check)"
        touch "$dir/.complete"
    fi
    VENV_DIR=$dir
}
venv_for requirements.txt venv "Python tools"
VENV=$VENV_DIR
# The Bulk Data client (test_bulk_export.py) in a venv of its own: its dependencies are not the stage's.
venv_for requirements-bulk.txt venv-bulk "the Bulk Data client"
BULKVENV=$VENV_DIR
NODEKEY="$( (node --version; cat "$HERE/package.json" "$HERE/package-lock.json") | sha256sum | cut -c1-16)"
NODEDIR="$CACHE/node-$NODEKEY"
if [[ ! -f "$NODEDIR/.complete" ]]; then
    say "installing Node tools into $NODEDIR"
    rm -rf "$NODEDIR"
    mkdir -p "$NODEDIR"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$NODEDIR/"
    (cd "$NODEDIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
    touch "$NODEDIR/.complete"
fi

# --- a fresh work folder and a free port ------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ror-conformance.XXXXXX")"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    [[ "${CONFORMANCE_KEEP:-0}" == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "generating the expected dataset (2000 places, seed 1)"
"$BIN" generate --locations 2000 --seed 1 -o "$WORK/expected.ndjson" >"$WORK/generate.log" 2>&1 \
    || { tail -20 "$WORK/generate.log" >&2; die "ror-capacity generate failed"; }

export CONF_PKI="$WORK/pki"
# The server's admin listener on any free port (another instance may hold the default one).
export ROR_ADMIN_BIND=127.0.0.1:0
export CONF_WORK="$WORK"
export CONF_EXPECTED="$WORK/expected.ndjson"
export CONF_NODE_MODULES="$NODEDIR/node_modules"
export CONF_BULK_VENV="$BULKVENV"
export CONF_REPO="$REPO"

# A free port, then the server; tried again on another port if the server could not start (another
# process may take the port between the check and the bind).
for attempt in 1 2 3; do
    PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    say "starting the server on 127.0.0.1:$PORT (demo dataset, mTLS; attempt $attempt)"
    # ROR_* and DATABASE_URL settings of the caller's environment must not change the server under test.
    env -u DATABASE_URL -u ROR_BIND -u ROR_BASE_URL -u ROR_TLS_CERT -u ROR_TLS_KEY -u ROR_CLIENT_CA -u ROR_CRL \
        -u ROR_CONSUMERS -u ROR_TRUSTED_PROXY -u ROR_CLIENT_CERT_HEADER -u ROR_CURSOR_SECRET \
        "$BIN" --database-url "sqlite://$WORK/demo.db" serve --demo --demo-locations 2000 \
        --pki-dir "$WORK/pki" --bind "127.0.0.1:$PORT" --export-dir "$WORK/exports" --export-poll-ms 500 >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    export CONF_BASE="https://127.0.0.1:$PORT/fhir"
    export CONF_SERVER_PID="$SERVER_PID"
    if "$VENV/bin/python" "$HERE/wait_ready.py" --timeout 240; then
        break
    fi
    tail -30 "$WORK/server.log" >&2
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    [[ $attempt == 3 ]] && die "the server did not answer /fhir/metadata"
done
say "server ready"
[[ -n "${CONFORMANCE_PLANT:-}" ]] && say "CONFORMANCE_PLANT=$CONFORMANCE_PLANT: a defect is planted in the captured scenario-2-one response"

set +e
# requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a Session's `verify`: without this the
# clients' sessions would check the development server certificate against the system bundle.
(cd "$HERE" && unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE && PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest -p no:cacheprovider -q \
    --junitxml="$WORK/junit.xml" "$@")
PYTEST_RC=$?
set -e
say "pytest exited with $PYTEST_RC"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "conformance: the server process died during the run; last lines of its log:" >&2
    tail -30 "$WORK/server.log" >&2
fi

[[ "${CONFORMANCE_KEEP:-0}" == 1 ]] && echo "conformance: work folder kept: $WORK"
say "done"
"$VENV/bin/python" "$HERE/summary.py" "$WORK/junit.xml" "$PYTEST_RC"
