"""A real SMTP server on 127.0.0.1 for the e-mail tests (aiosmtpd; not a test module).

Every message a client hands over is kept (envelope and parsed message).
``reply`` makes the server refuse the DATA instead (e.g. "550 ..."), so
tests can see what an SMTP failure does. ``logins`` records the AUTH
credentials accepted when ``users`` is given.
"""
from __future__ import annotations

import socket
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)


class Handler:
    def __init__(self):
        self.messages: list[Received] = []
        self.reply: str | None = None  # an SMTP reply to refuse DATA with

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                      or envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self, handler: Handler, port: int, users: dict[str, str] | None):
        self.handler = handler
        self.port = port
        self.host = "127.0.0.1"
        self.logins: list[str] = []
        self.users = users

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def refuse(self, reply: str = "550 5.7.1 Message rejected") -> None:
        self.handler.reply = reply

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = (auth_data.password.decode() if isinstance(auth_data.password, bytes)
                    else auth_data.password)
        if self.users and self.users.get(login) == password:
            self.logins.append(login)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(users: dict[str, str] | None = None):
    """A running server; ``users`` (login -> password) turns on AUTH (without TLS: tests only)."""
    handler = Handler()
    server = SmtpServer(handler, free_port(), users)
    kwargs = {}
    if users is not None:
        kwargs = {"authenticator": server.authenticate, "auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=server.port, **kwargs)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
