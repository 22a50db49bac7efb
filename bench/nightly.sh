#!/usr/bin/env bash
# What a night costs: the demo school (or city) built on a Wednesday, then
# the next night as a sysadmin's cron runs it, in two kinds:
#   school day   `tabel demo --date <Thursday>` over Wednesday's database and
#                release: one school day of lessons, marks and absences more;
#   no new data  `tabel build --date <Thursday>` over Wednesday's state: the
#                date moves, the data does not.
#
#   cargo build --release
#   bash bench/nightly.sh [STUDENTS] [ROUNDS]     (default 800 students, 3 rounds)
#
# Each round starts from the same Wednesday state (the database copied, the
# releases hard-linked: a build never changes a file of an earlier release).
# For each kind it prints the build's own summary figures — pages rendered
# (and per student), bytes written, the build's total time — and the whole
# process's wall time and peak memory (GNU time), then, of each kind, the
# round with the median build time. The full build of Wednesday is printed first, for scale.
#
# Needs GNU time (apt: time) and about 0.6 GB of disk per 800 students
# (a 100,000-student city: some 60 GB; use one round).
set -euo pipefail
cd "$(dirname "$0")/.."
students=${1:-800}
rounds=${2:-3}
bin=${TABEL_BIN:-$PWD/target/release/tabel}
day=2026-11-25
next=2026-11-26
work=$(mktemp -d "${TMPDIR:-/tmp}/tabel-nightly.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset "${!TABEL_@}"

# Runs tabel with GNU time; prints "rendered bytes_mb total_s wall_s peak_mb".
measure() { # log, tabel args…
    local log=$1
    shift
    # A failure shows its log on stderr: stdout is the caller's $(…).
    /usr/bin/time -f 'TIME %e %M' "$bin" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    awk '
        /pages: [0-9]+ rendered/ { r = $2; for (i = 1; i <= NF; i++) if ($i == "MB") mb = $(i - 1) }
        $1 == "total" { t = $2 }
        $1 == "TIME" { w = $2; m = $3 / 1024 }
        END { printf "%s %s %s %s %.0f\n", r, mb, t, w, m }' "$log"
}

show() { # label, figures
    read -r r mb t w m <<<"$2"
    printf '%-12s %7s pages (%4.1f per student) %9s MB written   build %7s s   process %7s s   peak %5s MB\n' \
        "$1" "$r" "$(awk -v r="$r" -v n="$students" 'BEGIN { print r / n }')" "$mb" "$t" "$w" "$m"
}

echo ">>> $students students: the full build of $day"
base="$work/base"
mkdir -p "$base"
show "full" "$(measure "$work/full.log" --database "sqlite://$base/d.db" --output "$base/out" \
    demo --no-serve --students "$students" --date "$day")"

: >"$work/results"
for round in $(seq "$rounds"); do
    for kind in school-day no-new-data; do
        run="$work/run"
        rm -rf "$run"
        mkdir -p "$run"
        cp "$base/d.db" "$run/d.db"
        cp -al "$base/out" "$run/out"
        args=(--database "sqlite://$run/d.db" --output "$run/out")
        if [ "$kind" = school-day ]; then
            f=$(measure "$work/$kind.log" "${args[@]}" demo --no-serve --students "$students" --date "$next")
        else
            f=$(measure "$work/$kind.log" "${args[@]}" build --date "$next")
        fi
        show "$kind" "$f"
        echo "$kind $f" >>"$work/results"
    done
done

echo ">>> the median round of $rounds"
for kind in school-day no-new-data; do
    med=$(awk -v k="$kind" '$1 == k { print $2, $3, $4, $5, $6 }' "$work/results" | sort -n -k3 |
        awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
    show "$kind" "$med"
done
