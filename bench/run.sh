#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds release, generates (once, cached) the datasets, times their
# import, serves them over mTLS on SQLite then on PostgreSQL, drives each workload with oha (load
# tool pinned to core 0, server to core 1), walks scenario 1 end to end, and writes a results table.
#
#   bench/run.sh                 # full run: 12k and 120k places, both backends, 3 runs of 10 s
#   bench/run.sh --smoke         # CI smoke: 200 places, SQLite and PostgreSQL, 1 run of 1 s
#   SIZES="12000" BACKENDS=sqlite RUNS=1 DURATION=5s bench/run.sh   # any subset
#   ONLY=overload bench/run.sh   # S3 at 16 and 512 connections: served, shed, p99, RSS (SQLite, 2,000 places)
#   ONLY=restart bench/run.sh    # S2 while PostgreSQL restarts (a private cluster, 8 clients)
#   REFERENCE_BIN=/path/to/older/ror-capacity ONLY=overload bench/run.sh   # the same, older build first
#   REFERENCE_BIN=… ONLY=ab OVERLOAD_SIZE=12000 BACKENDS=sqlite ROUNDS=4 DURATION=3s bench/run.sh
#                                # interleaved older/current comparison of every workload and the import
#
#   PG_SSLMODE=prefer bench/run.sh   # the server's link to PostgreSQL over TLS where PostgreSQL offers
#                                # it (libpq's default; Debian's PostgreSQL does): default `disable`,
#                                # the link of a server on the database's machine (BENCHMARKS.md: TLS
#                                # on that loopback link costs 7-12% of S2-S5's p50)
#
# Results: $OUT (default bench/results/<date>.md) and one JSON file per measure next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${ROR_CACHE_DIR:-/var/cache/ror-capacity}
SIZES=${SIZES:-"12000 120000"}
BACKENDS=${BACKENDS:-"sqlite postgres"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-"1 16"}
if [[ ${1:-} == --smoke ]]; then
    SIZES=200 RUNS=1 DURATION=1s CONNS="1 4"
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$ROOT/bench/results/$STAMP.md}
WORK=$CACHE/bench
mkdir -p "$WORK" "$(dirname "$OUT")"
RAW=$(dirname "$OUT")/$STAMP
mkdir -p "$RAW"
log() { printf '=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

PG_SSLMODE=${PG_SSLMODE:-disable}
export PG_SSLMODE
# Servers started here take any free port for their admin listener (a build older than it ignores this).
export ROR_ADMIN_BIND=${ROR_ADMIN_BIND:-127.0.0.1:0}

# --- tools -------------------------------------------------------------------------------------
export CARGO_TARGET_DIR=${BENCH_TARGET_DIR:-$CACHE/target-release}
if [[ -z ${ROR_CAPACITY_BIN:-} ]]; then
    log "release build"
    cargo build --release --locked --quiet
    BIN=$CARGO_TARGET_DIR/release/ror-capacity
else
    BIN=$ROR_CAPACITY_BIN
fi
OHA=$(command -v oha || true)
if [[ -z $OHA ]]; then
    OHA=$CACHE/tools/bin/oha
    if [[ ! -x $OHA ]]; then
        log "installing oha (cargo install oha --locked)"
        CARGO_TARGET_DIR=$CACHE/oha-build cargo install oha --locked --version 1.16.0 --root "$CACHE/tools" --quiet
    fi
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }
PKI=$WORK/pki
[[ -f $PKI/consumers.toml ]] || "$BIN" dev-pki "$PKI" >/dev/null
pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

SERVER_PID=
stop_server() { if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; fi; }
trap stop_server EXIT

# A port found free can be taken before the server binds it (an outgoing connection's local port,
# seen once in CI): a server that exits at once is started again on another port.
start_server() { # db_url ceiling_bytes
    for _attempt in 1 2 3; do
        PORT=$(free_port)
        taskset -c 1 "$BIN" --database-url "$1" serve --bind "127.0.0.1:$PORT" --workers 1 --pool-size 4 \
            --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key" --client-ca "$PKI/client-trust.pem" \
            --consumers "$PKI/consumers.toml" --bench-ceiling-bytes "$2" \
            --export-dir "$RAW/exports-$PORT" --export-poll-ms 40 >"$RAW/server-$PORT.log" 2>&1 &
        SERVER_PID=$!
        BASE=https://127.0.0.1:$PORT/fhir
        for _ in $(seq 1 100); do
            curl -sf --cert "$PKI/client-profile-1.crt" --key "$PKI/client-profile-1.key" --cacert "$PKI/root-ca.crt" \
                "$BASE/metadata" >/dev/null && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        if ! grep -q "Address already in use" "$RAW/server-$PORT.log"; then break; fi
        stop_server
    done
    echo "server did not start" >&2; cat "$RAW/server-$PORT.log" >&2; exit 1
}

# The median size in bytes of the answers to the first 9 URLs of a file (as sent: no compression).
median_bytes() { # urls_file
    head -9 "$1" | while read -r u; do
        curl -s -o /dev/null -w '%{size_download}\n' --cert "$PKI/client-profile-1.crt" \
            --key "$PKI/client-profile-1.key" --cacert "$PKI/root-ca.crt" "$u"
    done | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}

# Writes DIR/ceiling-NAME.run.txt: the ceiling route answering a body of BYTES bytes.
byte_ceiling() { # name bytes dir
    echo "${BASE%/fhir}/bench/ceiling?bytes=$2" >"$3/ceiling-$1.run.txt"
}

# oha over mTLS, pinned to core 0; prints the JSON summary path.
# Answers are asked for unencoded (oha asks for gzip and br by default); extra oha arguments follow.
load() { # name conns urls_file label [oha arguments…]
    local name=$1 c=$2 urls=$3 out="$RAW/$4.json"
    taskset -c 0 "$OHA" --no-tui --disable-compression --output-format json -z "$DURATION" -c "$c" \
        --cacert "$PKI/root-ca.crt" --cert "$PKI/client-profile-1.crt" --key "$PKI/client-profile-1.key" \
        "${@:5}" --urls-from-file "$urls" >"$out" 2>"$out.err" || { cat "$out.err" >&2; return 1; }
    echo "$out"
}

if [[ -n ${ONLY:-} ]]; then
    size=${OVERLOAD_SIZE:-2000}
    data=$WORK/places-$size.ndjson
    [[ -s $data ]] || "$BIN" generate --locations "$size" --seed 1 -o "$data"
    python3 "$ROOT/bench/workloads.py" urls "$data" "$RAW/urls-$size" >/dev/null
    builds=()
    [[ -n ${REFERENCE_BIN:-} ]] && builds+=("reference=$REFERENCE_BIN")
    builds+=("current=$BIN")
    case $ONLY in
        overload)
            with_db=()
            for b in "${builds[@]}"; do
                db="$WORK/overload-${b%%=*}-$size.db"
                rm -f "$db"{,-wal,-shm}
                "${b#*=}" --database-url "sqlite://$db" import "$data" 2>/dev/null
                with_db+=("$b=sqlite://$db")
            done
            python3 "$ROOT/bench/overload.py" overload "$RAW/overload.json" "$PKI" "$OHA" "$RAW/urls-$size/s3.txt" \
                "${DURATION:-10s}" ${OVERLOAD_CONNS:-16 512} -- "${with_db[@]}" ;;
        restart)
            python3 "$ROOT/bench/overload.py" restart "$RAW/restart.json" "$data" "$PKI" "$RAW/urls-$size/s2.txt" \
                "${DOWN_SECONDS:-5}" -- "${builds[@]}" ;;
        ab)
            [[ -n ${REFERENCE_BIN:-} ]] || { echo "ONLY=ab needs REFERENCE_BIN" >&2; exit 2; }
            for backend in $BACKENDS; do
                python3 "$ROOT/bench/ab.py" "$RAW/ab-$backend.json" "$data" "$PKI" "$OHA" "$RAW/urls-$size" \
                    "$backend" "${ROUNDS:-4}" "${DURATION:-3s}" -- "${builds[@]}"
            done ;;
        *) echo "ONLY is overload, restart or ab" >&2; exit 2 ;;
    esac
    exit 0
fi

RESULTS=$RAW/results.jsonl
: >"$RESULTS"
record() { echo "$1" >>"$RESULTS"; }

for size in $SIZES; do
    data=$WORK/places-$size.ndjson
    if [[ ! -s $data ]]; then
        log "generating $size places"
        "$BIN" generate --locations "$size" --seed 1 -o "$data.tmp" && mv "$data.tmp" "$data"
    fi
    python3 "$ROOT/bench/workloads.py" urls "$data" "$RAW/urls-$size" >/dev/null
    for backend in $BACKENDS; do
        case $backend in
            sqlite) db_url="sqlite://$WORK/places-$size.db"; rm -f "$WORK/places-$size.db"{,-wal,-shm} ;;
            postgres)
                db_url="postgres://postgres@127.0.0.1:5432/ror_bench_$size?sslmode=$PG_SSLMODE"
                psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS ror_bench_$size" \
                    -c "CREATE DATABASE ror_bench_$size" >/dev/null ;;
        esac
        log "$backend $size: import"
        t0=$(date +%s.%N)
        "$BIN" --database-url "$db_url" import "$data" 2>"$RAW/import-$backend-$size.log"
        t1=$(date +%s.%N)
        record "{\"size\":$size,\"backend\":\"$backend\",\"measure\":\"import\",\"seconds\":$(python3 -c "print(round($t1 - $t0, 2))")}"
        if [[ $backend == postgres ]]; then
            psql -q -h 127.0.0.1 -U postgres -d "ror_bench_$size" -c "VACUUM ANALYZE" >/dev/null
            db_bytes=$(psql -qtA -h 127.0.0.1 -U postgres -d "ror_bench_$size" -c "SELECT pg_database_size(current_database())")
        else
            db_bytes=$(stat -c %s "$WORK/places-$size.db")
            [[ -f $WORK/places-$size.db-wal ]] && db_bytes=$((db_bytes + $(stat -c %s "$WORK/places-$size.db-wal")))
        fi
        record "{\"size\":$size,\"backend\":\"$backend\",\"measure\":\"db_size\",\"bytes\":$db_bytes}"
        "$BIN" --database-url "$db_url" explain >"$RAW/plans-$backend-$size.txt"
        # The ceiling body is as large as a typical S2 answer.
        start_server "$db_url" "$(cat "$RAW/urls-$size/s2_bytes")"
        for w in s2 s3 s5 reg offer; do
            sed "s#^https://X/fhir#$BASE#" "$RAW/urls-$size/$w.txt" >"$RAW/urls-$size/$w.run.txt"
        done
        echo "${BASE%/fhir}/bench/ceiling" >"$RAW/urls-$size/ceiling.run.txt"
        # Byte-equivalent ceilings: the ceiling route answering a body of S3's and S5's median size.
        for w in s3 s5; do
            byte_ceiling "$w" "$(median_bytes "$RAW/urls-$size/$w.run.txt")" "$RAW/urls-$size"
        done
        for run in $(seq 1 "$RUNS"); do
            for c in $CONNS; do
                for w in ceiling s2 s3 s5 reg offer ceiling-s3 ceiling-s5; do
                    f=$(load "$w" "$c" "$RAW/urls-$size/$w.run.txt" "$backend-$size-$w-c$c-r$run")
                    record "$(python3 "$ROOT/bench/workloads.py" summarize "$f" "$size" "$backend" "$w" "$c" "$run")"
                done
            done
            # S4: ~100 places change just before polling.
            python3 "$ROOT/bench/workloads.py" touch "$data" 100 "$run" >"$RAW/touch-$size.ndjson"
            since=$(date -u +%Y-%m-%dT%H:%M:%S)
            sleep 1
            "$BIN" --database-url "$db_url" import "$RAW/touch-$size.ndjson" 2>/dev/null
            echo "$BASE/Location?_lastUpdated=ge$since&_revinclude=HealthcareService:location" >"$RAW/urls-$size/s4.run.txt"
            byte_ceiling s4 "$(median_bytes "$RAW/urls-$size/s4.run.txt")" "$RAW/urls-$size"
            for c in $CONNS; do
                for w in s4 ceiling-s4; do
                    f=$(load "$w" "$c" "$RAW/urls-$size/$w.run.txt" "$backend-$size-$w-c$c-r$run")
                    record "$(python3 "$ROOT/bench/workloads.py" summarize "$f" "$size" "$backend" "$w" "$c" "$run")"
                done
            done
            # S4NM: the same poll with nothing changed since, sent with the answer's ETag (304).
            etag=$(curl -sf -o /dev/null -D - --cert "$PKI/client-profile-1.crt" --key "$PKI/client-profile-1.key" \
                --cacert "$PKI/root-ca.crt" "$(cat "$RAW/urls-$size/s4.run.txt")" | tr -d '\r' | sed -n 's/^etag: //Ip' || true)
            for c in $CONNS; do
                f=$(load s4nm "$c" "$RAW/urls-$size/s4.run.txt" "$backend-$size-s4nm-c$c-r$run" -H "If-None-Match: $etag")
                record "$(python3 "$ROOT/bench/workloads.py" summarize "$f" "$size" "$backend" s4nm "$c" "$run")"
            done
            log "$backend $size run $run: S1 walk"
            walk=$(taskset -c 0 python3 "$ROOT/bench/walk.py" "$BASE" "$PKI" "$SERVER_PID")
            record "{\"size\":$size,\"backend\":\"$backend\",\"measure\":\"s1\",\"run\":$run,\"walk\":$walk}"
            # S1's byte-equivalent ceiling: pages of the walk's mean size, one after the other.
            page_bytes=$(python3 -c 'import json,sys; w=json.loads(sys.argv[1]); print(w["body_bytes"] // max(w["pages"], 1))' "$walk")
            byte_ceiling s1 "$page_bytes" "$RAW/urls-$size"
            f=$(load ceiling-s1 1 "$RAW/urls-$size/ceiling-s1.run.txt" "$backend-$size-ceiling-s1-c1-r$run")
            record "$(python3 "$ROOT/bench/workloads.py" summarize "$f" "$size" "$backend" ceiling-s1 1 "$run")"
            log "$backend $size run $run: S1 walk, gzip"
            walk=$(taskset -c 0 python3 "$ROOT/bench/walk.py" "$BASE" "$PKI" "$SERVER_PID" gzip)
            record "{\"size\":$size,\"backend\":\"$backend\",\"measure\":\"s1gz\",\"run\":$run,\"walk\":$walk}"
            log "$backend $size run $run: export"
            exp=$(taskset -c 0 python3 "$ROOT/bench/export.py" "$BASE" "$PKI" "$SERVER_PID")
            record "{\"size\":$size,\"backend\":\"$backend\",\"measure\":\"export\",\"run\":$run,\"export\":$exp}"
        done
        stop_server
    done
done
python3 "$ROOT/bench/workloads.py" report "$RESULTS" >"$OUT"
cat "$OUT"
