"""A real HTTP webhook receiver on 127.0.0.1 for the webhook tests (not a test module).

It keeps its port for its whole life, so a hook registered against it can
see it go down and come back:

- up: a threaded http.server answering every request;
- down: the port stays bound but nothing listens, so a connection is
  refused at once (what a crashed receiver looks like).

Every request is recorded (method, path, lower-cased headers, raw body)
when it arrives, before any delay or answer. What it answers is chosen per
request: ``script`` is consumed first, then ``status``; ``respond`` may
replace both.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float  # time.time() when it arrived

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    def json(self):
        import json
        return json.loads(self.body)


class Receiver:
    def __init__(self, status: int = 204):
        self.status = status
        self.script: list = []  # statuses (or (status, headers, body)) answered first, in order
        self.respond: Callable[[int, Received], tuple] | None = None
        self.delay = 0.0  # seconds to sleep before answering
        self.on_request: Callable[[int, Received], None] | None = None  # called on arrival
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self._sock = self._bound(0)
        self.port = self._sock.getsockname()[1]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- addresses ------------------------------------------------------------------------
    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @staticmethod
    def _bound(port: int) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return s

    # -- up and down ------------------------------------------------------------------------
    @property
    def is_up(self) -> bool:
        return self._server is not None

    def up(self) -> Receiver:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self), bind_and_activate=False)
        server.socket.close()
        server.socket = self._sock
        server.server_address = self._sock.getsockname()
        server.daemon_threads = True
        server.server_activate()  # listen()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def down(self) -> Receiver:
        """Stop listening; the port stays reserved, so connections are refused."""
        if self._server is None:
            return self
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None
        self._sock = self._bound(self.port)
        return self

    def close(self) -> None:
        self.down()
        self._sock.close()

    # -- what arrived ----------------------------------------------------------------------------
    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.01)
        return self.received()

    def _answer(self, index: int, rec: Received) -> tuple[int, dict, bytes]:
        if self.respond is not None:
            return self.respond(index, rec)
        with self.lock:
            item = self.script.pop(0) if self.script else self.status
        if isinstance(item, tuple):
            return item
        text = b"" if item in (204, 304) else f"answer {item} to request {index}".encode()
        return item, {}, text


def _handler_for(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            rec = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                           body, time.time())
            with receiver.lock:
                receiver.requests.append(rec)
                index = len(receiver.requests) - 1
            if receiver.on_request is not None:
                receiver.on_request(index, rec)
            if receiver.delay:
                time.sleep(receiver.delay)
            status, headers, text = receiver._answer(index, rec)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            except OSError:  # the sender went away (timeout, SIGKILL)
                pass

        do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, *args):
            pass

    return Handler
