#!/usr/bin/env bash
# A city's school day, the build alone, into a folder and into a store of
# objects on the same disk, with the page cache dropped first (cold) or not
# (warm). Needs root (to drop the cache) and about 45 GB.
#
#   cargo build --release
#   python3 -m pip install brotli
#   # once: Wednesday's database and release, and Thursday's database
#   tabel --database sqlite://$DIR/d.db --output $DIR/out demo --no-serve --students 100000 --date 2026-11-25
#   cp $DIR/d.db $DIR/d1.db
#   tabel --database sqlite://$DIR/d1.db --output $DIR/scratch demo --no-serve --students 100000 --date 2026-11-26
#   python3 bench/folder-to-objects.py $DIR/out $DIR/obj
#   # then, as often as wanted (layout: folder or objects; caches: cold or warm):
#   DIR=… bash bench/city.sh folder cold
#   DIR=… bash bench/city.sh objects cold
#   DIR=… bash bench/city.sh objects-demo       # the demo's own night (d.db), cold
#
# (`d1.db` is Thursday's database: stop that second demo with Ctrl-C once it
# prints its data's summary and starts building into `scratch`.)
# A steady night also removes the oldest of three kept releases; to measure
# one, give each layout two older releases first (bench/older-release.py
# for the store; two `cp -al` copies of the release under older ids, their
# manifests' times set back, for the folder).
# Each run builds Thursday over a copy of Wednesday (hard links: `cp -al`),
# prints the build's summary figures and `time`'s, and removes the copy.
set -euo pipefail
layout=$1; caches=${2:-cold}
bin=${TABEL_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/tabel}
cd "${DIR:?set DIR to the folder of d.db, d1.db, out and obj}"
[ -e run ] && { echo "$DIR/run exists: a run was interrupted; remove it"; exit 1; }
db=d1.db; cmd=(build --date 2026-11-26)
case $layout in
  folder) cp -al out run; output=$PWD/run ;;
  objects) cp -al obj run; output=file://$PWD/run ;;
  objects-demo) cp -al obj run; output=file://$PWD/run; db=d.db
    cmd=(demo --no-serve --students 100000 --date 2026-11-26); caches=cold ;;
  *) echo "layout: folder, objects or objects-demo"; exit 2 ;;
esac
rm -f run.db run.db-wal run.db-shm; cp "$db" run.db; sync
[ "$caches" = cold ] && echo 3 > /proc/sys/vm/drop_caches
unset "${!TABEL_@}"
/usr/bin/time -f 'time: %e s wall, %U s user, %S s system, %M KB peak' \
  "$bin" --database "sqlite://$PWD/run.db" --output "$output" "${cmd[@]}" > run.log 2>&1 \
  || { tail -20 run.log; exit 1; }
printf '%s %s | ' "$layout" "$caches"
grep -E 'pages:|store:|pruned|^ *total|^time:' run.log | sed 's/^ *//' | tr '\n' ' '; echo
rm -rf run run.db run.db-wal run.db-shm
