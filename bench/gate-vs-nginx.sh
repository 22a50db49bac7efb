#!/usr/bin/env bash
# The gate against nginx, side by side in one run, on loopback (issue: serve
# faster than nginx). Both serve the same release: nginx with brotli_static,
# gzip_static, sendfile, 2 workers and no authentication; the gate with its
# session check, authorization and access log on.
#
#   cargo build --release
#   bash bench/gate-vs-nginx.sh [DURATION]          (default 10s per run)
#
# Each line also gives the server's CPU time per request (all its threads or
# workers; wrk's own is not counted).
#
# Needs: wrk, nginx, libnginx-mod-http-brotli-static, curl (apt). Builds a
# demo school of 800 students in a temporary folder first.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
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
        location / { try_files \$uri =404; }
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
(cd "$release" && find s c -name '*.html' | shuf -n 4000 --random-source=<(yes)) >"$work/paths"

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

run() { # name url script pids…
    local out name=$1 url=$2 script=$3 before after secs rps
    shift 3
    before=$(cpu_ticks "$@")
    out=$(wrk -t2 -c64 -d"$duration" --latency -s "$script" "$url")
    after=$(cpu_ticks "$@")
    secs=${duration%s}
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    printf '%-14s %10s req/s   p50 %8s   p99 %8s   %5.1f us CPU/req   %s\n' "$name" "$rps" \
        "$(awk '$1=="50%"{print $2}' <<<"$out")" \
        "$(awk '$1=="99%"{print $2}' <<<"$out")" \
        "$(awk -v t=$((after - before)) -v hz="$hz" -v r="$rps" -v s="$secs" 'BEGIN { print t / hz * 1e6 / (r * s) }')" \
        "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ')"
}
echo ">>> wrk -t2 -c64 -d$duration, random files, Accept-Encoding: br, gzip"
for round in 1 2; do
    run "gate 200" http://127.0.0.1:18081 "$work/200.lua" "$gate_pid"
    run "nginx 200" http://127.0.0.1:18082 "$work/200.lua" $nginx_workers
    run "gate 304" http://127.0.0.1:18081 "$work/304-gate.lua" "$gate_pid"
    run "nginx 304" http://127.0.0.1:18082 "$work/304-nginx.lua" $nginx_workers
done
