#!/usr/bin/env bash
# Installs the browser test's Node tools (playwright-core, pinned by package-lock.json) into
# $ROR_CACHE_DIR/browser/node-<key> (outside the clone, keyed by Node's version and the lock file)
# and prints that folder's node_modules. Idempotent: a complete folder is reused.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${ROR_CACHE_DIR:-/var/cache/ror-capacity}/browser"
command -v node >/dev/null || { echo "node is required" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
KEY="$( (node --version; cat "$HERE/package.json" "$HERE/package-lock.json") | sha256sum | cut -c1-16)"
DIR="$CACHE/node-$KEY"
if [[ ! -f "$DIR/.complete" ]]; then
    echo "installing the browser test's Node tools into $DIR" >&2
    rm -rf "$DIR"
    mkdir -p "$DIR"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$DIR/"
    (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { echo "npm ci failed" >&2; exit 1; }
    touch "$DIR/.complete"
fi
echo "$DIR/node_modules"
