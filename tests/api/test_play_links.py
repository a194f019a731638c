"""Play links end to end: the award e-mails a link through a real SMTP server
(aiosmtpd on 127.0.0.1), the link opens (GET, nothing spent) and starts a
play session (POST, spent once); unusable links get friendly pages."""
from __future__ import annotations

import json
import logging
import random
import re
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from engine.access import playlinks, tokens
from engine.clock import iso
from extensions import db
from models import LedgerEntry, PlayLink, User
from tests.conftest import START, change_settings
from tests.smtp_server import free_port, smtp_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PUBLIC_URL = "https://rewards.acme.test"
SECRET = "test-secret-key"
NASTY = '<b>Al & "Bo"</b>'


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    """A seeded draw and the test's SMTP server."""
    return {"RNG": random.Random(7), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
            "SMTP_USER": "", "SMTP_PASSWORD": "", "SMTP_FROM": "Acme <rewards@acme.test>",
            "PUBLIC_URL": PUBLIC_URL}


@pytest.fixture
def rw(client, auth, api_key):
    """The default campaign published from examples/default-example.json; Rewards API headers."""
    doc = json.loads((EXAMPLES / "default-example.json").read_text())
    assert client.put("/api/v1/admin/campaigns/default", json=doc, headers=auth).status_code == 200
    assert client.post("/api/v1/admin/campaigns/default/publish", headers=auth).status_code == 200
    return {"X-API-Secret": api_key}


def award(client, h, **body):
    body = {"userId": "user_12345", "eventType": "signup", "displayName": "Alice",
            "email": "alice@example.com", "sendPlayLink": True, **body}
    return client.post("/v1/points/award", json=body, headers=h)


def awarded_link(client, h, **body) -> dict:
    r = award(client, h, **body)
    assert r.status_code == 201, r.json
    return r.json["data"]["playLink"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return f"{parts.path}?{parts.query}"


def token_of(url: str) -> str:
    return re.search(r"[?&]token=([^&\s]+)", url).group(1)


def parts(msg):
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None, "both parts are present"
    return plain.get_content(), html.get_content()


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def balance(client, h, user="user_12345"):
    return client.get(f"/v1/users/{user}", headers=h).json["data"]["balance"]


def page_text(r) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True)))


def assert_play_page_headers(r):
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in r.headers["Cache-Control"]
    assert r.mimetype == "text/html"


# -- the whole journey ----------------------------------------------------------------------

def test_emailed_link_opens_without_being_spent_then_starts_one_session(app, client, rw, smtp):
    r = award(client, rw, displayName=NASTY, linkExpiresInHours=72)
    assert r.status_code == 201, r.json
    link = r.json["data"]["playLink"]
    assert set(link) == {"url", "expiresAt", "emailSent"}
    assert link["emailSent"] is True
    assert link["expiresAt"] == iso(START + timedelta(hours=72))
    assert link["url"].startswith(PUBLIC_URL + "/play?token=")

    # The e-mail, as the SMTP server received it.
    [got] = smtp.messages
    assert got.rcpt_tos == ["alice@example.com"]
    msg = got.message
    assert msg["Subject"] == f"{NASTY}, your Acme points are waiting"
    assert msg["From"] == "Acme <rewards@acme.test>"
    text, html = parts(msg)
    assert "You have 500 points" in text and "You have 500 points" in html
    assert f"Thanks for being with us, {NASTY}. Use your points to play for prizes." in text
    assert "Thanks for being with us, &lt;b&gt;Al &amp; &quot;Bo&quot;&lt;/b&gt;." in html
    assert NASTY not in html and "<b>Al" not in html
    assert "Play now" in text and "Play now" in html
    assert "https://example.com/acme.png" in html and "#0F766E" in html
    url = re.search(r"Play now: (\S+)", text).group(1)
    assert url == link["url"]
    assert f'href="{url}"' in html

    # GET shows the start page and spends nothing, however often (mail scanners prefetch).
    for _ in range(2):
        page = client.get(path_of(url))
        assert page.status_code == 200
        assert_play_page_headers(page)
        body = page.get_data(as_text=True)
        assert "Start playing" in body and 'method="post"' in body
        assert f'name="token" value="{token_of(url)}"' in body
        assert "&lt;b&gt;Al &amp; &#34;Bo&#34;&lt;/b&gt;" in body and NASTY not in body
        assert "https://example.com/acme.png" in body and "#0F766E" in body
    assert count(app, PlayLink, PlayLink.used_at.is_(None)) == 1

    # POST (the form) spends it and shows the widget of the default campaign.
    played = client.post("/play", data={"token": token_of(url)})
    assert played.status_code == 200, played.get_data(as_text=True)
    assert_play_page_headers(played)
    body = played.get_data(as_text=True)
    assert NASTY not in body and "&lt;b&gt;Al &amp;" in body
    assert 'data-balance="500"' in body
    assert "Neon Wheel" in body and "Cosmic Slots" in body
    assert "Enigma Boxes" not in body  # INACTIVE
    assert 'hx-post="/widget/default/games/NEON_WHEEL/play"' in body
    assert count(app, PlayLink, PlayLink.used_at.is_not(None)) == 1

    # The widget session in hx-headers is that user's, on the default campaign.
    session = json.loads(unescape(re.search(r"hx-headers='([^']+)'", body).group(1)))["X-Widget-Session"]
    with app.app_context():
        user = db.session.scalars(select(User).where(User.account == "user_12345")).one()
        ws = tokens.read_widget_session([SECRET], session, START.timestamp())
        assert (ws.org_id, ws.user_id, ws.env) == (user.org_id, user.id, "live")
    # The session plays a game as that user (what the wheel's button posts).
    game = client.post("/widget/default/games/NEON_WHEEL/play",
                       headers={"X-Widget-Session": session, "HX-Request": "true"})
    assert game.status_code == 200, game.get_data(as_text=True)
    shown = int(re.search(r'id="qk-balance" data-balance="(\d+)"', game.get_data(as_text=True)).group(1))
    assert shown == balance(client, rw) <= 500 - 50 + 5000

    # The link works once: a second POST (and any later GET) is the friendly "used" page.
    again = client.post("/play", data={"token": token_of(url)})
    assert again.status_code == 410
    assert_play_page_headers(again)
    assert "already been used" in page_text(again)
    assert client.get(path_of(url)).status_code == 410


def test_concurrent_submissions_spend_a_link_once(app, client, rw):
    token = token_of(awarded_link(client, rw)["url"])
    barrier = threading.Barrier(6)
    statuses = []

    def submit():
        c = app.test_client()
        barrier.wait()
        statuses.append(c.post("/play", data={"token": token}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [410] * 5


# -- unusable links ---------------------------------------------------------------------------

def test_expired_link_shows_the_friendly_page(client, rw, clock):
    url = awarded_link(client, rw, linkExpiresInHours=1)["url"]
    clock.advance(minutes=59)
    assert client.get(path_of(url)).status_code == 200
    clock.advance(minutes=1)
    for r in (client.get(path_of(url)), client.post("/play", data={"token": token_of(url)})):
        assert r.status_code == 410
        assert_play_page_headers(r)
        text = page_text(r)
        assert "expired" in text and "Traceback" not in text
        assert "Acme Rewards" in r.get_data(as_text=True)  # still branded


def test_default_expiry_is_48_hours(client, rw):
    assert awarded_link(client, rw)["expiresAt"] == iso(START + timedelta(hours=48))


def test_tampered_and_unknown_links_show_the_friendly_page(app, client, rw):
    token = token_of(awarded_link(client, rw)["url"])
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, token[:-5], "not-a-token", ""):
        for r in (client.get(f"/play?token={bad}"), client.post("/play", data={"token": bad})):
            assert r.status_code == 400, bad
            assert_play_page_headers(r)
            assert "not valid" in page_text(r)
    assert client.get("/play").status_code == 400
    assert client.post("/play").status_code == 400
    # Signed by us, but naming no link: 404.
    with app.app_context():
        link = db.session.scalars(select(PlayLink)).one()
        ids = {"o": link.org_id, "u": link.user_id, "c": link.campaign_id}
    forged = tokens.timed_serializer([SECRET], playlinks.PLAY_LINK_SALT, START.timestamp()).dumps(
        {**ids, "n": "no-such-nonce"})
    r = client.get(f"/play?token={forged}")
    assert r.status_code == 404 and "could not find" in page_text(r)
    assert count(app, PlayLink, PlayLink.used_at.is_(None)) == 1  # nothing spent by any of it


# -- e-mail delivery --------------------------------------------------------------------------

def test_without_smtp_host_the_email_is_written_as_eml_and_not_sent(app, client, rw, smtp):
    change_settings(app, smtp_host="")
    link = awarded_link(client, rw)
    assert link["emailSent"] is False
    assert smtp.messages == []
    [eml] = (Path(app.instance_path) / "outbox").glob("*.eml")
    assert eml.name.startswith("20261122T120000Z-")
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "alice@example.com"
    assert link["url"] in parts(msg)[0]


def test_refusing_smtp_server_keeps_the_points_and_reports_not_sent(app, client, rw, smtp, caplog):
    smtp.refuse("550 5.7.1 Relaying denied")
    with caplog.at_level(logging.WARNING):
        r = award(client, rw)
    assert r.status_code == 201, r.json
    assert r.json["data"]["playLink"]["emailSent"] is False
    assert r.json["data"]["pointsAwarded"] == 500
    assert balance(client, rw) == 500
    assert count(app, PlayLink) == 1
    assert any("Relaying denied" in rec.getMessage() for rec in caplog.records)
    # The link itself still works.
    assert client.get(path_of(r.json["data"]["playLink"]["url"])).status_code == 200


def test_unreachable_smtp_server_keeps_the_points(app, client, rw):
    change_settings(app, smtp_port=str(free_port()))  # nothing listens there
    r = award(client, rw)
    assert r.status_code == 201
    assert r.json["data"]["playLink"]["emailSent"] is False
    assert balance(client, rw) == 500


def test_bad_smtp_port_setting_keeps_the_points(app, client, rw):
    change_settings(app, smtp_port="twenty-five")
    r = award(client, rw)
    assert r.status_code == 201 and r.json["data"]["playLink"]["emailSent"] is False
    assert balance(client, rw) == 500


def test_a_rejected_award_sends_no_email_and_leaves_no_link(app, client, rw, smtp):
    assert award(client, rw, reference="ref-1").status_code == 201
    assert len(smtp.messages) == 1
    r = award(client, rw, reference="ref-1")
    assert r.status_code == 409
    assert len(smtp.messages) == 1 and count(app, PlayLink) == 1


def test_idempotent_replay_does_not_send_again(client, rw, smtp):
    h = {**rw, "Idempotency-Key": "award-1"}
    first = award(client, h)
    second = award(client, h)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json == first.json and first.json["data"]["playLink"]["emailSent"] is True
    assert len(smtp.messages) == 1


def test_award_without_play_link_has_no_play_link(client, rw, smtp):
    r = award(client, rw, sendPlayLink=False)
    assert r.status_code == 201 and "playLink" not in r.json["data"]
    assert smtp.messages == []


# -- bad input --------------------------------------------------------------------------------

def error_message(r, status=400):
    assert r.status_code == status, r.json
    assert r.json["status"] == "error" and r.json["code"] == status
    return r.json["message"]


def test_send_play_link_without_email_is_400_and_writes_nothing(app, client, rw, smtp):
    body = {"userId": "nobody", "eventType": "signup", "sendPlayLink": True}
    assert "email" in error_message(client.post("/v1/points/award", json=body, headers=rw))
    assert count(app, User) == 0 and count(app, LedgerEntry) == 0 and count(app, PlayLink) == 0
    assert smtp.messages == []


@pytest.mark.parametrize("hours", [0, 721, -5, 1.5, "48", True, None])
def test_link_expiry_outside_1_to_720_hours_is_400(app, client, rw, hours):
    assert "linkExpiresInHours" in error_message(award(client, rw, linkExpiresInHours=hours))
    assert count(app, LedgerEntry) == 0 and count(app, PlayLink) == 0


@pytest.mark.parametrize("hours", [1, 720])
def test_link_expiry_bounds_are_accepted(client, rw, hours):
    assert awarded_link(client, rw, linkExpiresInHours=hours)["expiresAt"] == iso(
        START + timedelta(hours=hours))


@pytest.mark.parametrize("email", ["alice@example.com\r\nBcc: eve@example.com", "Alice <a@b.c>",
                                   "a@b.c, eve@example.com"])
def test_an_email_that_is_not_one_address_is_400_with_a_play_link(app, client, rw, smtp, email):
    assert "email" in error_message(award(client, rw, email=email))
    assert count(app, LedgerEntry) == 0 and smtp.messages == []
