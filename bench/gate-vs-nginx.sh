#!/usr/bin/env bash
# The gate against nginx, side by side in one run, on loopback (issue: serve
# faster than nginx). Both serve the same release: nginx with brotli_static,
# gzip_static, sendfile, 2 workers and no authentication; the gate with its
# session check, authorization and access log on.
#
#   cargo build --release
#   bash bench/gate-vs-nginx.sh [DURATION] [ROUNDS]   (default 10s per run, 5 rounds)
#
# Each round runs both servers on both paths, the order alternating between
# rounds so that a drift in the machine's load favours neither. Each line also
# gives the server's CPU time per request (all its threads or workers; wrk's
# own is not counted). The summary at the end gives the median of each figure
# over the rounds, and the median of the per-round ratios gate/nginx.
#
# Needs: wrk, nginx, libnginx-mod-http-brotli-static, curl (apt). Builds a
# demo school of 800 students in a temporary folder first.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
rounds=${2:-5}
bin=${TABEL_BIN:-$PWD/target/release/tabel}
work=$(mktemp -d /tmp/tabel-bench.XXXXXX)
trap 'kill $gate_pid 2>/dev/null || true; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/bench.db"

echo ">>> demo school and release"
"$bin" --database "$db" --output "$work/out" demo --no-serve --date 2026-11-27 >/dev/null
"$bin" --database "$db" accounts add --login bench-office --role admin --password-stdin <<<"bench office password" >/dev/null
release=$(readlink -f "$work/out/current")

echo ">>> starting the gate and nginx"
"$bin" --database "$db" --output "$work/out" serve --listen 127.0.0.1:18081 2>"$work/gate.log" &
gate_pid=$!
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;
user root;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types { text/html html; text/css css; application/pdf pdf; text/plain txt; }
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:18082;
        root $release;
        charset utf-8;
        brotli_static on;
        gzip_static on;
        # Pages are stored as .br alone: no try_files, which would look
        # for the plain file; brotli_static finds <uri>.br itself.
        location / { }
    }
}
NGINX
nginx -c "$work/nginx.conf"
for _ in $(seq 50); do curl -sf http://127.0.0.1:18081/healthz >/dev/null && break; sleep 0.1; done

echo ">>> logging in to the gate"
curl -s -c "$work/jar" -b "$work/jar" http://127.0.0.1:18081/login -o "$work/login.html"
csrf=$(grep -o 'name="csrf" value="[^"]*' "$work/login.html" | cut -d'"' -f4)
curl -s -c "$work/jar" -b "$work/jar" -o /dev/null -H 'Origin: http://127.0.0.1:18081' \
    --data-urlencode login=bench-office --data-urlencode 'password=bench office password' \
    --data-urlencode "csrf=$csrf" http://127.0.0.1:18081/login
token=$(awk '$6 == "__Host-tabel" { print $7 }' "$work/jar")
[ -n "$token" ] || { echo "login failed"; exit 1; }

# Random files of the release: every page of 200 random students, the class pages.
(cd "$release" && find s c -name '*.html.br' | sed 's/\.br$//' | shuf -n 4000 --random-source=<(yes)) >"$work/paths"

echo ">>> collecting ETags for the 304 runs"
: >"$work/etags-gate"; : >"$work/etags-nginx"
head -300 "$work/paths" | while read -r p; do
    g=$(curl -sI -H "Cookie: __Host-tabel=$token" -H 'Accept-Encoding: br, gzip' "http://127.0.0.1:18081/$p" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
    n=$(curl -sI -H 'Accept-Encoding: br, gzip' "http://127.0.0.1:18082/$p" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
    echo "$p $g" >>"$work/etags-gate"; echo "$p $n" >>"$work/etags-nginx"
done

lua() { # $1: paths file (path [etag] per line) → wrk script
    cat <<LUA
local paths, tags = {}, {}
for line in io.lines("$1") do
  local p, t = line:match("^(%S+)%s*(.*)$")
  paths[#paths + 1] = p; tags[#tags + 1] = t
end
local n = 0
request = function()
  n = n + 1
  local i = math.random(#paths)
  local h = { ["Accept-Encoding"] = "br, gzip", ["Cookie"] = "__Host-tabel=$token" }
  if tags[i] ~= "" then h["If-None-Match"] = tags[i] end
  return wrk.format("GET", "/" .. paths[i], h)
end
LUA
}
lua "$work/paths" >"$work/200.lua"
lua "$work/etags-gate" >"$work/304-gate.lua"
lua "$work/etags-nginx" >"$work/304-nginx.lua"

# CPU time (clock ticks) of the given processes and all their threads.
cpu_ticks() {
    local t=0 f
    for p in "$@"; do
        for f in /proc/"$p"/task/*/stat; do
            t=$((t + $(awk '{print $14 + $15}' "$f" 2>/dev/null || echo 0)))
        done
    done
    echo "$t"
}
nginx_workers=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | tr '\n' ' ')
hz=$(getconf CLK_TCK)

# wrk's latency (1.5ms, 870.00us, 1.02s) in milliseconds.
ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; print v }'; }

: >"$work/results"
run() { # server path url script pids…
    local out server=$1 path=$2 url=$3 script=$4 before after secs rps p50 p99 cpu
    shift 4
    before=$(cpu_ticks "$@")
    out=$(wrk -t2 -c64 -d"$duration" --latency -s "$script" "$url")
    after=$(cpu_ticks "$@")
    secs=${duration%s}
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p50=$(awk '$1=="50%"{print $2}' <<<"$out")
    p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v r="$rps" -v s="$secs" 'BEGIN { printf "%.1f", t / hz * 1e6 / (r * s) }')
    printf '%-6s %s %10s req/s   p50 %8s   p99 %8s   %5s us CPU/req   %s\n' "$server" "$path" "$rps" \
        "$p50" "$p99" "$cpu" "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
    echo "$round $server $path $rps $(ms <<<"$p99") $cpu" >>"$work/results"
}
gate() { run gate "$1" http://127.0.0.1:18081 "$work/$2" "$gate_pid"; }
ngx() { run nginx "$1" http://127.0.0.1:18082 "$work/$2" $nginx_workers; }
echo ">>> wrk -t2 -c64 -d$duration, random files, Accept-Encoding: br, gzip, $rounds rounds"
for round in $(seq "$rounds"); do
    echo "round $round"
    if ((round % 2)); then
        gate 200 200.lua; ngx 200 200.lua; gate 304 304-gate.lua; ngx 304 304-nginx.lua
    else
        ngx 200 200.lua; gate 200 200.lua; ngx 304 304-nginx.lua; gate 304 304-gate.lua
    fi
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo ">>> medians over $rounds rounds"
printf '%-5s %12s %12s %12s %10s %10s %10s %9s %9s\n' path "gate req/s" "nginx req/s" "gate/nginx" \
    "gate p99" "nginx p99" "p99 g/n" "gate CPU" "nginx CPU"
for path in 200 304; do
    col() { awk -v s="$1" -v p="$path" -v c="$2" '$2 == s && $3 == p { print $c }' "$work/results" | median; }
    ratio() { # per-round gate/nginx of column $1
        awk -v p="$path" -v c="$1" '$3 == p { v[$1 " " $2] = $c; r[$1] = 1 }
            END { for (k in r) print v[k " gate"] / v[k " nginx"] }' "$work/results" | median
    }
    printf '%-5s %12s %12s %12.2f %8s ms %8s ms %10.2f %6s us %6s us\n' "$path" "$(col gate 4)" "$(col nginx 4)" \
        "$(ratio 4)" "$(col gate 5)" "$(col nginx 5)" "$(ratio 5)" "$(col gate 6)" "$(col nginx 6)"
done
