#!/usr/bin/env bash
# Import A/B: times `import` of a generated set with each build in turn, each into a new SQLite
# file or PostgreSQL database (BENCHMARKS.md, "the import in large statements").
#
#   bench/import_ab.sh BACKEND SIZE ROUNDS BIN...    # BACKEND: sqlite or postgres
#
# The set is $ROR_CACHE_DIR/bench/places-SIZE.ndjson (`ror-capacity generate --locations SIZE
# --seed 1`, which bench/run.sh writes). Prints, per round and build: wall seconds, peak RSS (KiB),
# user and system CPU seconds (/usr/bin/time). PostgreSQL databases are named imp_<build> and
# dropped first; SQLite files are /tmp/imp-<build>.db.
set -u
backend=$1 size=$2 rounds=$3
shift 3
data=${ROR_CACHE_DIR:-/var/cache/ror-capacity}/bench/places-$size.ndjson
[[ -f $data ]] || { echo "missing $data" >&2; exit 1; }
for r in $(seq 1 "$rounds"); do
    for bin in "$@"; do
        name=$(basename "$bin")
        if [[ $backend == sqlite ]]; then
            f=/tmp/imp-$name.db
            rm -f "$f" "$f-wal" "$f-shm"
            url=sqlite://$f
        else
            db=imp_$(echo "$name" | tr -c 'a-z0-9\n' '_')
            psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" postgres
            url=postgres://postgres@127.0.0.1:5432/$db
        fi
        "$bin" --database-url "$url" migrate >/dev/null 2>&1
        /usr/bin/time -f "%e %M %U %S" -o /tmp/import-ab.time "$bin" --database-url "$url" import "$data" \
            >"/tmp/imp-$name.log" 2>&1
        echo "$backend $size round $r $name wall/maxrss/user/sys: $(cat /tmp/import-ab.time)"
    done
done
