"""A real SMTP server for the mail tests (aiosmtpd, from PyPI).

Listens on 127.0.0.1 at a free port, prints "READY <port>" and keeps every
message it accepts as MAILDIR/<n>-<recipient>.eml. Recipients whose local
part starts with "refused" get a permanent 550, those starting with "busy"
a temporary 451: the mail tests use them for failures.
"""

import asyncio
import itertools
import pathlib
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, maildir):
        self.maildir = pathlib.Path(maildir)
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("refused"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("busy"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            n = next(self.counter)
            (self.maildir / ("%04d-%s.eml" % (n, rcpt))).write_bytes(envelope.original_content)
        return "250 Message accepted"


def main():
    maildir = sys.argv[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our standard input
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
