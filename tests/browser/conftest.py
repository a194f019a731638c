"""Browser tests: real Chromium (Debian's /usr/bin/chromium, driven by
Playwright) against the app served by a real HTTP server on 127.0.0.1, and a
partner page served from another origin (another port) that embeds the
widget with embed.js.

scripts/test installs Chromium with apt-get when it is missing; without it
these tests fail rather than skip, so a machine that cannot run them says so.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import change_settings
from tests.smtp_server import smtp_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHROMIUM = os.environ.get("QK_CHROMIUM", "/usr/bin/chromium")
# Flags for a closed network and a root user (see /work/.library notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/test installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    return {"RNG": random.Random(11), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
            "SMTP_FROM": "Acme <rewards@acme.test>", "PUBLIC_URL": "http://127.0.0.1"}


class _Server:
    def __init__(self, httpd):
        self.httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_port}"
        self.thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.thread.join(5)


@pytest.fixture
def live(app):
    """The app on a real threaded HTTP server; its PUBLIC_URL points at it."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    server = _Server(httpd)
    change_settings(app, public_url=server.url)
    yield server
    server.stop()


@pytest.fixture
def partner():
    """A partner's site on another origin: ``partner.page(html)`` serves ``html`` at /."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path.split("?")[0], "not found").encode()
            self.send_response(200 if self.path.split("?")[0] in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = _Server(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    def page(html: str, path: str = "/") -> str:
        pages[path] = html
        return server.url + path

    server.page = page
    yield server
    server.stop()


@pytest.fixture
def publish(client, auth):
    """publish(name_or_doc): put and publish an example campaign (or a given definition)."""
    def publish(doc):
        if isinstance(doc, str):
            doc = json.loads((EXAMPLES / doc).read_text())
        assert client.put(f"/api/v1/admin/campaigns/{doc['id']}", json=doc, headers=auth).status_code == 200
        assert client.post(f"/api/v1/admin/campaigns/{doc['id']}/publish", headers=auth).status_code == 200
        return doc
    return publish


@pytest.fixture
def widget_token(client, auth):
    def token(account: str, platform: str = "internal", name: str | None = None) -> str:
        q = {"account": account, "platform": platform, **({"name": name} if name else {})}
        r = client.get("/api/v1/token", query_string=q, headers=auth)
        assert r.status_code == 200, r.json
        return r.json["data"]["token"]
    return token


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context (clipboard allowed) and page; screenshots go to tmp_path."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.shots = tmp_path
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    context.close()


def embed_html(live_url: str, pid: str, token: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Partner</title></head><body>"
            f"<h1>Partner site</h1><script src='{live_url}/embed.js' data-campaign='{pid}' "
            f"data-user-token='{token}' async></script><p id='after'>after the widget</p></body></html>")
