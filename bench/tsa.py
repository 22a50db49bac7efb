#!/usr/bin/env python3
"""A local RFC 3161 TSA for the signing benchmark (docs/benchmarks.md):
`openssl ts -reply` behind a small HTTP server, one reply at a time (the
serial number file allows no more). Usage: tsa.py TSA_CONFIG PORT"""

import http.server
import subprocess
import sys
import tempfile
import threading

CONFIG, PORT = sys.argv[1], int(sys.argv[2])
ONE_AT_A_TIME = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        query = self.rfile.read(int(self.headers["Content-Length"]))
        with ONE_AT_A_TIME, tempfile.TemporaryDirectory() as d:
            with open(f"{d}/q.tsq", "wb") as f:
                f.write(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", CONFIG,
                 "-queryfile", f"{d}/q.tsq", "-out", f"{d}/r.tsr"],
                capture_output=True,
            )
            if done.returncode != 0:
                self.send_error(500, done.stderr.decode(errors="replace")[:200])
                return
            with open(f"{d}/r.tsr", "rb") as f:
                reply = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
