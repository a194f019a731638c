"""The landing page, the API reference, the health check and the demo page."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from blueprints.site import SWAGGER_UI
from engine.outbox import webhook_delivery
from extensions import db

from tests.conftest import change_settings
from .html_tree import parse

ROOT = Path(__file__).resolve().parents[2]


def test_landing_page_says_what_this_is_and_links_everything_a_newcomer_needs(client):
    resp = client.get("/")
    assert resp.status_code == 200
    page = parse(resp.get_data(as_text=True))
    links = {a.attrs.get("href") for a in page.all("a")}
    assert {"/dashboard", "/docs", "/demo", "/health", "/openapi.json"} <= links
    assert "gamification" in resp.get_data(as_text=True)
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_health_answers_json_with_the_database_state(client):
    resp = client.get("/health")
    assert resp.status_code == 200 and resp.json == {"status": "ok", "database": "ok"}
    assert client.post("/health").status_code == 405


def test_api_reference_renders_openapi_with_the_vendored_swagger_ui_and_nothing_else(client):
    resp = client.get("/docs")
    assert resp.status_code == 200
    page = parse(resp.get_data(as_text=True))
    scripts = [s.attrs.get("src") for s in page.all("script")]
    assert scripts == [f"/static/js/swagger-ui-bundle-{SWAGGER_UI}.js", "/static/js/api-docs.js"]
    styles = [link.attrs.get("href") for link in page.all("link")]
    assert f"/static/css/swagger-ui-{SWAGGER_UI}.css" in styles
    for path in scripts + styles:
        assert (ROOT / path.lstrip("/")).is_file() and client.get(path).status_code == 200
    assert (ROOT / "static" / "vendor" / f"swagger-ui-{SWAGGER_UI}.LICENSE").is_file()
    csp = resp.headers["Content-Security-Policy"]
    # only this server: no CDN, no inline script, no eval
    assert "http" not in csp and "unsafe" not in csp and "*" not in csp
    assert "script-src 'self';" in csp and "connect-src 'self'" in csp


def test_demo_page_without_a_demo_says_how_to_make_one(client):
    resp = client.get("/demo")
    assert resp.status_code == 404 and "flask --app app demo" in resp.get_data(as_text=True)


def test_demo_page_embeds_the_widget_with_the_snippet_flask_demo_printed(app, runner, client):
    result = runner.invoke(args=["demo"])
    printed = re.search(r"embed snippet: (.+)", result.output).group(1)
    resp = client.get("/demo")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert printed in html  # the very tag, not escaped: it runs
    page = parse(html)
    embed = [s for s in page.all("script") if (s.attrs.get("src") or "").endswith("/embed.js")]
    assert len(embed) == 1 and embed[0].attrs["data-campaign"] == "summer_games"
    csp = resp.headers["Content-Security-Policy"]
    base = app.extensions["questkit"].settings.public_url
    assert f"frame-src 'self' {base}" in csp and f"script-src 'self' {base}" in csp
    # the demo campaign lets this server's own origin frame the widget
    token = embed[0].attrs["data-user-token"]
    widget = client.get(f"/widget/summer_games?user_token={token}")
    assert widget.status_code == 200
    ancestors = widget.headers["Content-Security-Policy"].split("frame-ancestors")[1]
    assert base in ancestors and "https://partner.example.com" in ancestors


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_PRIVATE": "1"}


def test_demo_webhook_is_delivered_to_the_demo_receiver_and_verifies(app, runner, client):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        change_settings(app, public_url=f"http://127.0.0.1:{httpd.server_port}")
        key = runner.invoke(args=["demo"]).output.strip().splitlines()[-1]

        def deliver():
            with app.app_context():
                settings = webhook_delivery.Settings(allow_private=True)
                while webhook_delivery.deliver_due(db.session, app.extensions["questkit"].clock.now(),
                                                   settings):
                    pass
                db.session.remove()

        deliver()
        log = client.get("/api/v1/admin/hooks/demo/messages", headers={"Authorization": f"Bearer {key}"})
        messages = log.json["data"]["messages"]
        assert messages and {m["status"] for m in messages} == {"delivered"}
        # after --reset the hook signs with the new secret, which the receiver checks
        key = runner.invoke(args=["demo", "--reset"]).output.strip().splitlines()[-1]
        auth = {"Authorization": f"Bearer {key}"}
        assert client.post("/api/v1/user/reward", headers=auth, json={
            "account": "alice", "platform": "wowhaus", "pid": "summer_games", "id": "after-reset",
            "xp": 1}).status_code == 200
        deliver()
        messages = client.get("/api/v1/admin/hooks/demo/messages", headers=auth).json["data"]["messages"]
        assert {m["status"] for m in messages} == {"delivered"}
        assert any('"after-reset"' in m["body"] for m in messages)
    finally:
        httpd.shutdown()
        thread.join(5)
    # a delivery not signed with the demo's secret is refused
    forged = client.post("/demo/webhook", data="{}", headers={
        "webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,AAAA"})
    assert forged.status_code == 401
