"""The SMTP sender keeps its connections (against a real aiosmtpd server on loopback): many mails over one,
a connection that raised anything never reused, a kept one the server closed retried once on a fresh one."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from notifier.adapters.outbound.smtp_sender import SmtpSender
from notifier.core.delivery import Mail
from notifier.ports.sender import SendError, Unreachable

from processes import free_port  # deploy/local, on pytest's pythonpath

REFUSED, BUSY = "leo@example.com", "busy@example.com"  # answered 550 and 451 at RCPT


class Recorder:
    """aiosmtpd handler: notes each connection's EHLO, accepted message and QUIT; can end a connection at MAIL."""

    def __init__(self) -> None:
        self.ehlos: list[str] = []
        self.accepted: list[tuple[tuple, str]] = []  # (client's address: one per connection, recipient)
        self.quits = 0
        self.mails = 0
        self.end_next: str | None = None  # "close": hang up at the next MAIL; "421": answer 421, then hang up
        self.end_at_rcpt = False  # hang up after MAIL was accepted

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001, N802
        session.host_name = hostname
        self.ehlos.append(hostname)
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: ANN001, N802
        self.mails += 1
        end, self.end_next = self.end_next, None
        if end == "close":  # as a server does with a connection it let idle too long
            server.transport.close()
        if end:  # "421": the answer goes out, then the connection closes
            server.loop.call_soon(server.transport.close)
            return "421 4.4.2 idle too long, closing connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: ANN001, N802
        if self.end_at_rcpt:
            server.transport.close()
            return "250 OK"
        if address in (REFUSED, BUSY):
            return f"{550 if address == REFUSED else 451} <{address}>: not now"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.accepted.append((session.peer, envelope.rcpt_tos[0]))
        return "250 Message accepted"

    async def handle_QUIT(self, server, session, envelope):  # noqa: ANN001, N802
        self.quits += 1
        return "221 Bye"

    def connections(self) -> set[tuple]:
        return {peer for peer, _ in self.accepted}


@pytest.fixture
def server() -> Iterator[tuple[Recorder, Controller]]:
    handler = Recorder()
    controller = serve(handler)
    yield handler, controller
    controller.stop()


def serve(handler: Recorder) -> Controller:
    # The server's own name is given: aiosmtpd would look it up with getfqdn(), which a test counts.
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), server_hostname="sink.test")
    controller.start()
    return controller


def mail(to: str, n: int = 0) -> Mail:
    return Mail(to=to, subject=f"s{n}", text="t", html="<p>h</p>", message_id=f"<{n}@example.com>")


def sender_for(controller: Controller) -> SmtpSender:
    return SmtpSender("127.0.0.1", controller.port, "noreply@example.com", timeout=5, pool_size=8,
                      local_hostname="notifier.test")


async def test_mails_share_kept_connections_and_the_ehlo_name_is_looked_up_once(server, monkeypatch):
    handler, controller = server
    lookups = []
    monkeypatch.setattr(socket, "getfqdn", lambda *_: lookups.append(1) or "notifier.test")
    sender = SmtpSender("127.0.0.1", controller.port, "noreply@example.com", timeout=5, pool_size=8)
    for n in range(5):
        await sender.send(mail("ann@example.com", n))
    assert len(handler.connections()) == 1 and handler.ehlos == ["notifier.test"]
    # three at once need three connections; the next three at once reuse them
    for _ in range(2):
        await asyncio.gather(*(sender.send(mail(f"b{n}@example.com", n)) for n in range(3)))
    assert len(handler.accepted) == 11 and len(handler.connections()) == 3
    assert handler.ehlos == ["notifier.test"] * 3 and lookups == [1]
    await sender.close()
    await asyncio.sleep(0.1)
    assert handler.quits == 3


@pytest.mark.parametrize("refused, permanent", [(REFUSED, True), (BUSY, False)])
async def test_a_connection_that_hit_an_error_is_never_used_again(server, refused, permanent):
    handler, controller = server
    sender = sender_for(controller)
    await sender.send(mail("ann@example.com", 1))
    with pytest.raises(SendError) as refusal:
        await sender.send(mail(refused, 2))  # on the kept connection, which is then dropped
    assert refusal.value.permanent is permanent and not isinstance(refusal.value, Unreachable)
    await sender.send(mail("ann@example.com", 3))
    await sender.send(mail("bob@example.com", 4))
    first, *others = [peer for peer, _ in handler.accepted]
    assert others[0] != first and others[0] == others[1] and len(handler.ehlos) == 2
    await sender.close()


@pytest.mark.parametrize("end", ["close", "421"])
async def test_a_kept_connection_the_server_ended_is_retried_once_on_a_fresh_one(server, end):
    handler, controller = server
    sender = sender_for(controller)
    await sender.send(mail("ann@example.com", 1))
    handler.end_next = end
    await sender.send(mail("bob@example.com", 2))  # no error: it went again on a new connection
    assert [to for _, to in handler.accepted] == ["ann@example.com", "bob@example.com"]
    assert len(handler.connections()) == 2 and handler.mails == 3
    await sender.close()


async def test_a_hang_up_after_the_server_accepted_mail_from_is_not_retried(server):
    handler, controller = server
    sender = sender_for(controller)
    await sender.send(mail("ann@example.com", 1))
    handler.end_at_rcpt = True
    with pytest.raises(Unreachable):
        await sender.send(mail("bob@example.com", 2))
    assert handler.mails == 2  # no second try: the dispatcher's retry schedule takes over
    await sender.close()


async def test_a_stopped_server_is_unreachable():
    controller = serve(Recorder())
    sender = sender_for(controller)
    await sender.send(mail("ann@example.com", 1))
    controller.stop()
    with pytest.raises(Unreachable):
        await sender.send(mail("bob@example.com", 2))
    await sender.close()
