#!/usr/bin/env python3
"""How soon an imported mark is visible through the gate.

    cargo build --release
    python3 bench/freshness.py [TRIES] [STUDENTS]    (default 20 tries, 800 students)

Builds a demo school on a Wednesday in a temporary folder, starts
`tabel build --watch` and `tabel serve` on it, then, TRIES times: writes a
marks.csv with one new mark (a unique comment) for a student of a lesson of
that day, runs `tabel import csv` on it and polls the student's start page
(which shows the running week) through the gate (logged in as the office, every 20 ms) until the comment is
in the page. Each try's figure runs from the start of the import to the first
response that shows the mark; the import's own time is given beside it.
Ends with the median and the 95th percentile over the tries.

Needs python3 (standard library only) and the release binary
(TABEL_BIN overrides its path).
"""

import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from gatelogin import login

DAY = "2026-11-25"
PORT = 18091
BASE = f"http://127.0.0.1:{PORT}"


def main():
    tries = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    students = sys.argv[2] if len(sys.argv) > 2 else "800"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("TABEL_BIN", os.path.join(root, "target/release/tabel"))
    work = tempfile.mkdtemp(prefix="tabel-fresh.")
    db_file = os.path.join(work, "fresh.db")
    db = f"sqlite://{db_file}"
    out = os.path.join(work, "out")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABEL_")}
    tabel = [binary, "--database", db, "--output", out]

    print(f">>> demo school of {students} students on {DAY}", flush=True)
    subprocess.run(tabel + ["demo", "--no-serve", "--students", students, "--date", DAY],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(tabel + ["accounts", "add", "--login", "fresh-office", "--role", "admin",
                            "--password-stdin"],
                   input=b"fresh office password", check=True, env=env,
                   stdout=subprocess.DEVNULL)

    log = open(os.path.join(work, "watch.log"), "w")
    watch_env = dict(env, TABEL_LOG="info")
    watcher = subprocess.Popen(tabel + ["build", "--watch", "--date", DAY],
                               env=watch_env, stdout=subprocess.DEVNULL, stderr=log)
    gate = subprocess.Popen(tabel + ["serve", "--listen", f"127.0.0.1:{PORT}"],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "gate.log"), "w"))
    try:
        wait_for_log(os.path.join(work, "watch.log"), "built")
        token = login(PORT, "fresh-office", "fresh office password")
        opener = urllib.request.build_opener()
        opener.addheaders = [("Cookie", f"__Host-tabel={token}")]
        rows = lessons(db_file)
        rng = random.Random(15)
        figures = []
        for i in range(tries):
            school, student, key, subject, lesson = rng.choice(rows)
            text = f"fresh-{i}-{rng.randrange(1 << 30):x}"
            folder = os.path.join(work, f"try-{i}")
            os.mkdir(folder)
            with open(os.path.join(folder, "marks.csv"), "w", encoding="utf-8") as f:
                f.write("school,external_id,student,subject,lesson,date,value,comment\n")
                f.write(f"{school},{text},{student},{subject},{lesson},{DAY},5,{text}\n")
            page = f"{BASE}/s/{key}/index.html"
            started = time.monotonic()
            subprocess.run(tabel + ["import", "csv", folder], check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            imported = time.monotonic() - started
            while True:
                body = opener.open(page).read().decode("utf-8")
                if text in body:
                    break
                if time.monotonic() - started > 60:
                    sys.exit(f"try {i}: the mark was not served within a minute")
                time.sleep(0.02)
            seen = time.monotonic() - started
            figures.append(seen)
            print(f"try {i + 1:2}: import {imported * 1000:6.0f} ms, visible after "
                  f"{seen * 1000:6.0f} ms", flush=True)
            # Let the watcher settle so that the tries do not overlap.
            time.sleep(0.5)
    finally:
        gate.terminate()
        watcher.terminate()
        gate.wait()
        watcher.wait()
    figures.sort()
    p95 = figures[min(len(figures) - 1, max(0, round(0.95 * len(figures)) - 1))]
    print(f">>> {tries} tries: p50 {statistics.median(figures) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {figures[-1] * 1000:.0f} ms")
    subprocess.run(["rm", "-rf", work])


def wait_for_log(path, what):
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8", errors="replace") as f:
            if what in f.read():
                return
        time.sleep(0.1)
    sys.exit(f"the watching build never logged {what!r}; see {path}")


def lessons(db_file):
    """(school, student, key, subject, lesson) external ids for lessons of DAY."""
    con = sqlite3.connect(db_file)
    rows = con.execute(
        """SELECT sc.external_id, st.external_id, st.key, su.external_id, l.external_id
             FROM lesson l
             JOIN school sc ON sc.id = l.school_id
             JOIN subject su ON su.id = l.subject_id
             JOIN class_member m ON m.class_id = l.class_id
                  AND m.from_on <= l.date AND (m.until_on IS NULL OR m.until_on >= l.date)
             JOIN student st ON st.id = m.student_id
            WHERE l.date = ? AND l.class_id IS NOT NULL
            ORDER BY l.id, st.id""", (DAY,)).fetchall()
    con.close()
    if not rows:
        sys.exit(f"no lessons on {DAY} in the demo")
    return rows


if __name__ == "__main__":
    main()
