#!/usr/bin/env python3
"""Logins against a running gate: its memory under a burst, and its login rate.

    python3 bench/login-burst.py URL PID LOGIN PASSWORD [BURST] [RATE_LOGINS]

URL is the gate (http://127.0.0.1:18090), PID its process id (its memory is
read from /proc/PID/status). The script

1. fires BURST (default 150) concurrent POST /login with a wrong password
   for LOGIN, each with a login form of its own, and reports the answers,
   the gate's resident memory before, at its peak during the burst, and 5 s
   after it;
2. then logs in RATE_LOGINS (default 200) times, 8 at a time, with the
   right password and then with a wrong one, and reports logins per second.

Run it against a gate whose `[serve]` failure limits are high, so that every
attempt reaches the password check. Standard library only.
"""

import collections
import http.client
import re
import sys
import threading
import time
import urllib.parse


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def form(host, port):
    """A fresh login form: its CSRF cookie and field."""
    c = http.client.HTTPConnection(host, port, timeout=60)
    c.request("GET", "/login")
    r = c.getresponse()
    body = r.read().decode()
    cookie = next(
        v.split(";")[0]
        for k, v in r.getheaders()
        if k.lower() == "set-cookie" and v.startswith("__Host-tabel-csrf=")
    )
    field = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    c.close()
    return cookie, field


def post(host, port, login, password, pair):
    cookie, field = pair
    body = urllib.parse.urlencode({"login": login, "password": password, "csrf": field})
    c = http.client.HTTPConnection(host, port, timeout=120)
    try:
        c.request(
            "POST",
            "/login",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Origin": f"http://{host}:{port}",
                "Host": f"{host}:{port}",
            },
        )
        r = c.getresponse()
        r.read()
        return r.status
    except OSError as e:
        return type(e).__name__
    finally:
        c.close()


def main():
    url, pid, login, password = sys.argv[1:5]
    burst = int(sys.argv[5]) if len(sys.argv) > 5 else 150
    rate_n = int(sys.argv[6]) if len(sys.argv) > 6 else 200
    u = urllib.parse.urlparse(url)
    host, port = u.hostname, u.port
    pairs = [form(host, port) for _ in range(burst)]
    before = rss_kib(pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    statuses = collections.Counter()
    lock = threading.Lock()
    go = threading.Barrier(burst)

    def one(i):
        go.wait()
        s = post(host, port, login, "wrong password " + str(i), pairs[i])
        with lock:
            statuses[s] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    time.sleep(5)
    done.set()
    sampler.join()
    after = rss_kib(pid)
    print(f"burst: {burst} concurrent POST /login in {took:.2f} s: {dict(statuses)}")
    print(
        f"RSS: before {before / 1024:.0f} MiB, peak {peak[0] / 1024:.0f} MiB, "
        f"5 s after {after / 1024:.0f} MiB"
    )

    for label, pw in (("right", password), ("wrong", "wrong password!")):
        pairs = [form(host, port) for _ in range(rate_n)]
        statuses = collections.Counter()
        nxt = [0]

        def worker():
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= rate_n:
                    return
                s = post(host, port, login, pw, pairs[i])
                with lock:
                    statuses[s] += 1

        t0 = time.monotonic()
        ws = [threading.Thread(target=worker) for _ in range(8)]
        for w in ws:
            w.start()
        for w in ws:
            w.join()
        took = time.monotonic() - t0
        print(
            f"rate, {label} password: {rate_n} logins, 8 at a time, in {took:.2f} s: "
            f"{rate_n / took:.1f}/s {dict(statuses)}"
        )


if __name__ == "__main__":
    main()
