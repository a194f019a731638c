"""Widget tokens (SPEC §3 GET /token, §11): permanent by default as claimr's, an
optional expiry (expires_in), and revocable per user from the Management API
and the dashboard. A token that stopped working is a 401 on the widget page and
on a game play, and the widget sessions it opened end with it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from engine.access import tokens
from extensions import db
from models import User
from tests.conftest import make_org

from .quest_helpers import EXAMPLES, err, ok, push

SECRET = "test-secret-key"


@pytest.fixture
def published(client, auth):
    push(client, auth, json.loads((EXAMPLES / "default-example.json").read_text()))


def token(client, auth, account="alice", platform="discord", **q):
    return ok(client.get("/api/v1/token", query_string={"account": account, "platform": platform, **q},
                         headers=auth))


def widget_status(client, t) -> int:
    return client.get("/widget/default", query_string={"user_token": t}).status_code


def play_status(client, t) -> int:
    return client.post("/v1/games/NEON_WHEEL/play", headers={"Authorization": f"Bearer {t}"}).status_code


def works(client, t) -> bool:
    page, play = widget_status(client, t), play_status(client, t)
    assert (page == 401) == (play == 401), (page, play)
    return page == 200 and play != 401


def revoke(client, auth, account="alice", platform="discord"):
    return client.post(f"/api/v1/admin/users/{platform}/{account}/revoke-tokens", headers=auth)


def session_of(r) -> str:
    assert r.status_code == 200
    marker = 'hx-headers=\''
    html = r.get_data(as_text=True)
    start = html.index(marker) + len(marker)
    return json.loads(html[start:html.index("'", start)].replace("&#34;", '"'))["X-Widget-Session"]


def test_a_token_is_permanent_by_default_and_as_claimr_made_it(app, client, auth, published, clock):
    t = token(client, auth)["token"]
    assert "expires_at" not in token(client, auth)
    with app.app_context():
        u = db.session.query(User).filter_by(account="alice").one()
        assert t == tokens.make_widget_token([SECRET], u.org_id, u.id)  # the {o, u} payload as ever
    clock.advance(days=3650)
    assert works(client, t)


def test_expires_in_makes_a_token_that_stops_working(app, client, auth, published, clock):
    data = token(client, auth, expires_in=3600)
    assert data["expires_at"] == (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = client.get("/widget/default", query_string={"user_token": data["token"]})
    session = session_of(page)
    clock.advance(minutes=59)
    assert works(client, data["token"])
    clock.advance(minutes=1)
    assert widget_status(client, data["token"]) == 401 and play_status(client, data["token"]) == 401
    # The widget session it opened ends with it.
    r = client.get("/widget/default/body", headers={"HX-Request": "true", "X-Widget-Session": session})
    assert r.status_code == 401
    assert works(client, token(client, auth)["token"])  # a permanent one still works


@pytest.mark.parametrize("value", ["59", "0", "-60", "31622401", "\u0663\u0666\u0660\u0660", "1_000", " 3600",
                                   "3600.0", "soon", ""])
def test_expires_in_out_of_bounds_or_not_ascii_digits_is_400(client, auth, value):
    assert "expires_in" in err(client.get("/api/v1/token", query_string={
        "account": "alice", "platform": "discord", "expires_in": value}, headers=auth), 400)


def test_revoking_ends_every_token_of_the_user_and_its_widget_sessions(app, client, auth, published, org):
    old = token(client, auth)["token"]
    expiring = token(client, auth, expires_in=86400)["token"]
    bob = token(client, auth, "bob")["token"]
    session = session_of(client.get("/widget/default", query_string={"user_token": old}))
    assert works(client, old) and works(client, expiring)
    data = ok(revoke(client, auth))
    assert (data["account"], data["platform"]) == ("alice", "discord") and data["revoked_at"]
    assert not works(client, old) and not works(client, expiring)
    r = client.get("/widget/default/body", headers={"HX-Request": "true", "X-Widget-Session": session})
    assert r.status_code == 401
    assert works(client, bob)  # another user's tokens are untouched
    new = token(client, auth)["token"]  # tokens issued afterwards work
    assert new != old and works(client, new)
    ok(revoke(client, auth))
    assert not works(client, new)


def test_revoking_an_unknown_user_or_another_organizations_user_is_404(app, client, auth, published):
    err(revoke(client, auth, "nobody"), 404)
    t = token(client, auth)["token"]
    _, other_key = make_org(app, "globex")
    err(revoke(client, {"Authorization": f"Bearer {other_key}"}), 404)
    err(client.post("/api/v1/admin/users/discord/alice/revoke-tokens"), 401)
    assert works(client, t)


def test_the_revoke_route_and_expires_in_are_in_openapi(client):
    doc = client.get("/openapi.json").get_json()
    post = doc["paths"]["/api/v1/admin/users/{platform}/{account}/revoke-tokens"]["post"]
    assert {p["name"] for p in post["parameters"]} >= {"platform", "account"}
    params = {p["name"]: p for p in doc["paths"]["/api/v1/token"]["get"]["parameters"]}
    assert params["expires_in"]["schema"] == {"type": "integer", "minimum": 60, "maximum": 366 * 24 * 3600}
    assert params["expires_in"]["required"] is False
