# A real SMTP server for the end-to-end tests: replies steered by a control file, mail to a Maildir.
"""Usage: smtpd.py --port PORT --maildir DIR --control FILE

Listens on 127.0.0.1:PORT (no TLS, no AUTH). The control file holds one word, read
afresh at every DATA so a test can change it between messages:

  ok         deliver to the Maildir, 250
  tempfail   451 4.3.0, nothing delivered
  reject     550 5.7.1, nothing delivered
  slow N     wait N seconds, then deliver, 250

A missing or unreadable control file means `ok`. One line per message goes to stderr
with the envelope recipients only: the logs must never hold a message body.
"""

import argparse
import asyncio
import mailbox
import signal
import sys

from aiosmtpd.smtp import SMTP


def log(line):
    print(f"smtpd: {line}", file=sys.stderr, flush=True)


def read_mode(path):
    """(word, seconds) from the control file; `ok` when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            words = f.read().split()
    except OSError:
        return ("ok", 0.0)
    if not words:
        return ("ok", 0.0)
    if words[0] == "slow" and len(words) == 2:
        try:
            return ("slow", float(words[1]))
        except ValueError:
            pass
    if words[0] in ("ok", "tempfail", "reject") and len(words) == 1:
        return (words[0], 0.0)
    return ("invalid", 0.0)


class Handler:
    def __init__(self, maildir, control):
        self.maildir = maildir
        self.control = control

    async def handle_DATA(self, server, session, envelope):
        rcpts = ", ".join(envelope.rcpt_tos)
        mode, seconds = read_mode(self.control)
        if mode == "tempfail":
            log(f"tempfail to {rcpts}")
            return "451 4.3.0 try again later"
        if mode == "reject":
            log(f"reject to {rcpts}")
            return "550 5.7.1 refused by test"
        if mode == "invalid":
            # A typo in a test must not look like one of the steered refusals.
            log(f"bad control file {self.control}; refused mail to {rcpts}")
            return "554 5.3.5 bad control file"
        if mode == "slow":
            # asyncio.sleep, not time.sleep: other connections keep being served.
            await asyncio.sleep(seconds)
        # The bytes as received (dot-unstuffed), headers and body untouched.
        mailbox.Maildir(self.maildir, create=True).add(envelope.original_content)
        log(f"accepted to {rcpts}" + (f" after {seconds:g}s" if mode == "slow" else ""))
        return "250 2.0.0 OK: delivered"


async def serve(args):
    handler = Handler(args.maildir, args.control)
    mailbox.Maildir(args.maildir, create=True)  # readable by the test before any mail
    loop = asyncio.get_running_loop()
    # A fixed hostname: the default (getfqdn) may wait on DNS before every greeting.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", args.port
    )
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    # Stop listening; open sessions are cancelled when asyncio.run returns, so an idle
    # client cannot hold the exit up.
    server.close()
    log("stopped")


def main():
    p = argparse.ArgumentParser(description="SMTP server steered by a control file")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--control", required=True)
    asyncio.run(serve(p.parse_args()))


if __name__ == "__main__":
    main()
