"""A real SMTP server on loopback that keeps every message it receives as an .eml file (aiosmtpd).

`python deploy/local/smtp_sink.py --port P --maildir DIR [--reject ADDRESS ...]` runs it; `SmtpSink`
starts it as a child process for the stack and the tests, and reads what it received.
Addresses given with --reject are refused at RCPT with 550, to play a server that rejects a recipient.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import signal
import socket
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run as a script: find processes.py next to us

from processes import Child, free_port, wait_until  # noqa: E402


class MaildirHandler:
    """aiosmtpd handler: refuse listed recipients, store each accepted message as one file."""

    def __init__(self, maildir: Path, reject: set[str]) -> None:
        self.maildir, self.reject = maildir, {a.lower() for a in reject}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        """Refuse the listed addresses for good, accept the rest."""
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: recipient rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        """Write the message (envelope recipients in a header) atomically: readers never see half a file."""
        head = f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\nX-Sink-Mail-From: {envelope.mail_from}\r\n"
        body = envelope.original_content or envelope.content
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        tmp = self.maildir / f".{name}.tmp"
        tmp.write_bytes(head.encode() + (body if isinstance(body, bytes) else body.encode()))
        os.replace(tmp, self.maildir / f"{name}.eml")
        return "250 Message accepted for delivery"


def serve(port: int, maildir: Path, reject: set[str]) -> None:
    """Run the server until SIGTERM/SIGINT."""
    from aiosmtpd.controller import Controller

    maildir.mkdir(parents=True, exist_ok=True)
    controller = Controller(MaildirHandler(maildir, reject), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"smtp sink listening on 127.0.0.1:{port}, mail in {maildir}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            return sock.recv(64).startswith(b"220")
    except OSError:
        return False


class SmtpSink:
    """The sink as a child process; keeps its port across stop/start so clients can reconnect."""

    def __init__(self, root: Path, port: int = 0, reject: tuple[str, ...] = (), log_file: Path | None = None) -> None:
        self.root, self.port, self.reject, self.log_file = Path(root), port, reject, log_file
        self.child: Child | None = None

    @property
    def maildir(self) -> Path:
        """Folder of the received .eml files."""
        return self.root / "mail"

    def start(self, timeout: float = 30) -> "SmtpSink":
        """Start on `port` (a free one the first time) and wait until it greets."""
        self.port = self.port or free_port()
        argv = [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port), "--maildir", str(self.maildir)]
        for address in self.reject:
            argv += ["--reject", address]
        self.child = Child("smtp", argv, log_file=self.log_file).start()
        wait_until(lambda: _answers(self.port), timeout, "smtp", self.child)
        return self

    def stop(self) -> None:
        """Stop the server by its PID (the mail stays in the folder)."""
        if self.child:
            self.child.stop()

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        files = sorted(self.maildir.glob("*.eml")) if self.maildir.exists() else []
        return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]  # type: ignore[misc]


def main() -> None:
    """CLI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--reject", action="append", default=[], help="refuse this recipient with 550")
    args = parser.parse_args()
    serve(args.port, args.maildir, set(args.reject))


if __name__ == "__main__":
    main()
