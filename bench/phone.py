#!/usr/bin/env python3
"""What a parent's phone downloads, and how Lighthouse judges the pages.

    cargo build --release
    npm install --prefix /tmp/lh lighthouse@12.2.3
    python3 bench/phone.py [STUDENTS]        (default 800 students)

Builds a demo school on a Wednesday in a temporary folder, gives the
guardian with the most children an account, starts `tabel serve` and logs
in. Prints:
- page weights as sent to a browser that accepts brotli: the guardian's home
  page (made by the gate; if sent uncompressed, also its gzipped size), and of the release's files the heaviest of each
  kind (week page, student index, marks page, class page, statement page,
  school page);
- Lighthouse's performance and accessibility scores of the home, week and
  marks pages with its mobile emulation (a mid-range phone, throttled to a
  slow 4G link), the system Chromium headless.

LIGHTHOUSE names the lighthouse executable (default
/tmp/lh/node_modules/.bin/lighthouse), CHROME_PATH the browser (default
/usr/bin/chromium), TABEL_BIN the tabel binary.
"""

import gzip
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

from gatelogin import login

DAY = "2026-11-25"
WEEK = "2026-W47"  # the last finished week: the running one is on the start page
PORT = 18092
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "phone parent password"


def main():
    students = sys.argv[1] if len(sys.argv) > 1 else "800"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("TABEL_BIN", os.path.join(root, "target/release/tabel"))
    lighthouse = os.environ.get("LIGHTHOUSE", "/tmp/lh/node_modules/.bin/lighthouse")
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    work = tempfile.mkdtemp(prefix="tabel-phone.")
    db_file = os.path.join(work, "phone.db")
    out = os.path.join(work, "out")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABEL_")}
    tabel = [binary, "--database", f"sqlite://{db_file}", "--output", out]

    print(f">>> demo school of {students} students on {DAY}", flush=True)
    subprocess.run(tabel + ["demo", "--no-serve", "--students", students, "--date", DAY],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    guardian, child = family(db_file)
    subprocess.run(tabel + ["accounts", "add", "--login", "phone-parent", "--role", "guardian",
                            "--person", guardian, "--password-stdin"],
                   input=PASSWORD.encode(), check=True, env=env, stdout=subprocess.DEVNULL)
    gate = subprocess.Popen(tabel + ["serve", "--listen", f"127.0.0.1:{PORT}"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cookie = login(PORT, "phone-parent", PASSWORD)
        print(">>> page weights (brotli, as served)")
        home, encoding = fetch("/", cookie)
        if encoding:
            print(f"  {'home (gate)':<16} {len(home):7,} B {encoding}")
        else:
            # Sent as it is: its size, and gzip's as a bound of brotli's.
            print(f"  {'home (gate)':<16} {len(home):7,} B as sent, "
                  f"{len(gzip.compress(home, 9)):,} B gzipped")
        release = os.path.realpath(os.path.join(out, "current"))
        kinds = {
            "week": r"^s/[^/]+/w/[^/]+\.html\.br$",
            "student index": r"^s/[^/]+/index\.html\.br$",
            "marks": r"^s/[^/]+/marks\.html\.br$",
            "class": r"^c/[^/]+/index\.html\.br$",
            "statement": r"^c/[^/]+/statement-[^/]+\.html\.br$",
            "school": r"^school/(?:[^/]+/)?index\.html\.br$",
        }
        for kind, pattern in kinds.items():
            heaviest = (0, "")
            for dirpath, _, files in os.walk(release):
                for name in files:
                    path = os.path.relpath(os.path.join(dirpath, name), release)
                    if re.match(pattern, path):
                        heaviest = max(heaviest, (os.path.getsize(os.path.join(dirpath, name)),
                                                  path))
            print(f"  {kind:<16} {heaviest[0]:7,} B  heaviest: {heaviest[1]}")
        print(">>> Lighthouse 12 (mobile emulation, slow 4G): performance, accessibility")
        pages = {
            "home": "/",
            "index": f"/s/{child}/index.html",
            "week": f"/s/{child}/w/{WEEK}.html",
            "marks": f"/s/{child}/marks.html",
        }
        for name, path in pages.items():
            report = os.path.join(work, f"{name}.json")
            subprocess.run([
                lighthouse, BASE + path, "--quiet", "--output=json", f"--output-path={report}",
                "--only-categories=performance,accessibility",
                f"--chrome-path={chrome}",
                "--chrome-flags=--headless --no-sandbox --disable-gpu --no-first-run "
                "--disable-background-networking",
                "--extra-headers", json.dumps({"Cookie": f"__Host-tabel={cookie}"}),
            ], check=True, env=dict(os.environ, CHROME_PATH=chrome))
            with open(report, encoding="utf-8") as f:
                r = json.load(f)
            final = r.get("finalDisplayedUrl") or r.get("finalUrl")
            if not final.endswith(path):
                sys.exit(f"{name}: Lighthouse ended on {final}, not {path} (not logged in?)")
            c = r["categories"]
            audits = r["audits"]
            print(f"  {name:<6} performance {c['performance']['score'] * 100:3.0f}, "
                  f"accessibility {c['accessibility']['score'] * 100:3.0f}; "
                  f"FCP {audits['first-contentful-paint']['displayValue']}, "
                  f"LCP {audits['largest-contentful-paint']['displayValue']}, "
                  f"transferred {audits['total-byte-weight']['numericValue'] / 1024:.1f} KiB",
                  flush=True)
    finally:
        gate.terminate()
        gate.wait()
    subprocess.run(["rm", "-rf", work])


def family(db_file):
    """The external id of the guardian with the most children, and one child's key."""
    con = sqlite3.connect(db_file)
    guardian, child = con.execute(
        """SELECT g.external_id, MIN(st.key)
             FROM guardian g
             JOIN guardian_student gs ON gs.guardian_id = g.id
             JOIN student st ON st.id = gs.student_id
            GROUP BY g.id ORDER BY COUNT(*) DESC, g.id LIMIT 1""").fetchone()
    con.close()
    return guardian, child


def fetch(path, cookie):
    """The body of `path` as sent to a browser that accepts brotli, and its
    Content-Encoding."""
    con = http.client.HTTPConnection("127.0.0.1", PORT)
    con.request("GET", path, headers={"Cookie": f"__Host-tabel={cookie}",
                                      "Accept-Encoding": "br"})
    res = con.getresponse()
    body = res.read()
    if res.status != 200:
        sys.exit(f"{path}: {res.status}")
    return body, res.getheader("Content-Encoding")


if __name__ == "__main__":
    main()
