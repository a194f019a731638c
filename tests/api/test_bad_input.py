"""Bad input gets a clear 4xx in the envelope and writes nothing (SPEC §10)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Balance, IdempotencyRecord, LedgerEntry, User

GOOD = {"account": "alice", "platform": "discord", "pid": "default", "id": "r1", "xp": 10}


def row_counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))
                     for m in (User, LedgerEntry, Balance, IdempotencyRecord))


BAD_BODIES = [
    ("malformed JSON", b'{"account": "alice", ', "malformed JSON"),
    ("not an object", b"[1, 2, 3]", "must be an object"),
    ("empty body", b"", "JSON request body is required"),
    ("NaN", b'{"account":"a","platform":"p","pid":"default","id":"x","xp":NaN}', "malformed JSON"),
    ("missing xp", {k: v for k, v in GOOD.items() if k != "xp"}, "xp: is required"),
    ("missing account", {k: v for k, v in GOOD.items() if k != "account"}, "account: is required"),
    ("boolean xp", {**GOOD, "xp": True}, "xp: must be an integer"),
    ("string xp", {**GOOD, "xp": "10"}, "xp: must be an integer"),
    ("fractional xp", {**GOOD, "xp": 1.5}, "xp: must be an integer"),
    ("negative xp", {**GOOD, "xp": -5}, "xp: must be >= 1"),
    ("zero xp", {**GOOD, "xp": 0}, "xp: must be >= 1"),
    ("huge xp", {**GOOD, "xp": 10**12}, "xp: must be <= 1000000000"),
    ("numeric account", {**GOOD, "account": 5}, "account: must be a string"),
    ("empty account", {**GOOD, "account": ""}, "account"),
    ("long id", {**GOOD, "id": "x" * 257}, "id: must be at most 256 characters"),
    ("bad env", {**GOOD, "env": "prod"}, "env: must be one of"),
]


@pytest.mark.parametrize("path", ["/api/v1/user/reward", "/api/v1/user/withdraw"])
@pytest.mark.parametrize("label,body,message", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_get_400_and_change_nothing(app, client, auth, path, label, body, message):
    before = row_counts(app)
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    r = client.post(path, headers={**auth, "Content-Type": "application/json",
                                   "Idempotency-Key": "k"}, **kwargs)
    assert r.status_code == 400, r.json
    assert r.json["success"] is False and r.json["error"]
    if message:
        assert message in r.json["error"]
    assert row_counts(app) == before


def test_strict_must_be_a_boolean(client, auth):
    r = client.post("/api/v1/user/withdraw", json={**GOOD, "strict": "yes"}, headers=auth)
    assert r.status_code == 400 and "strict: must be a boolean" in r.json["error"]


def test_unknown_fields_are_ignored(client, auth):
    r = client.post("/api/v1/user/reward", json={**GOOD, "ts": 1672531200, "whatever": [1]}, headers=auth)
    assert r.status_code == 200


def test_unknown_campaign_is_404_and_writes_nothing(app, client, auth):
    before = row_counts(app)
    r = client.post("/api/v1/user/reward", json={**GOOD, "pid": "nope"}, headers=auth)
    assert r.status_code == 404 and "unknown campaign" in r.json["error"]
    assert row_counts(app) == before


def test_oversized_body_is_413_in_the_envelope(app, client, auth):
    big = b'{"account": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    r = client.post("/api/v1/user/reward", data=big, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json["success"] is False and "too large" in r.json["error"]


def test_missing_query_parameter_is_400(client, auth):
    r = client.get("/api/v1/user/balance", query_string={"account": "a", "pid": "default"}, headers=auth)
    assert r.status_code == 400 and "platform" in r.json["error"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
    {"Authorization": "Bearer qk_live_" + "x" * 43}, {"Authorization": "Bearer"},
])
def test_missing_or_bad_key_is_401(client, headers):
    r = client.get("/api/v1/user/balance", query_string={"account": "a", "platform": "p", "pid": "default"},
                   headers=headers)
    assert r.status_code == 401
    assert r.json == {"success": False,
                      "error": "missing or invalid API key: send it in the Authorization header as Bearer <key>"}


def test_revoked_key_is_401(app, client, auth, org):
    from engine.access import keys
    from models import ApiKey
    with app.app_context():
        key_row = db.session.scalars(select(ApiKey)).one()
        keys.revoke_key(db.session, org[0], key_row.id, app.extensions["questkit"].clock.now())
        db.session.commit()
    r = client.get("/api/v1/user/balance", query_string={"account": "a", "platform": "p", "pid": "default"},
                   headers=auth)
    assert r.status_code == 401


def test_unknown_endpoint_and_method_answer_in_the_envelope(client, auth):
    r = client.get("/api/v1/nothing-here", headers=auth)
    assert r.status_code == 404 and r.json["success"] is False
    r = client.delete("/api/v1/user/balance", headers=auth)
    assert r.status_code == 405 and r.json["success"] is False


def test_idempotency_key_too_long_is_400(client, auth):
    r = client.post("/api/v1/user/reward", json=GOOD, headers={**auth, "Idempotency-Key": "k" * 300})
    assert r.status_code == 400


def test_publishable_key_cannot_use_the_campaign_api(app, client, org):
    from engine.access import keys
    with app.app_context():
        _, pk = keys.create_key(db.session, org[0], app.extensions["questkit"].clock.now(),
                                kind="publishable")
        db.session.commit()
    h = {"Authorization": f"Bearer {pk}"}
    before = row_counts(app)
    assert client.post("/api/v1/user/reward", json=GOOD, headers=h).status_code == 403
    assert client.get("/api/v1/user/balance", query_string={"account": "a", "platform": "p", "pid": "default"},
                      headers=h).status_code == 403
    assert row_counts(app) == before


def test_a_401_names_the_header_its_dialect_expects(client):
    """Three dialects, three headers: a wrong or missing key says which one to use."""
    wrong = {"X-API-Key": "qk_live_nope", "Authorization": "Bearer nope", "X-API-Secret": "nope"}
    cases = [("/api/v1/user/balance?account=a&platform=p&pid=x", "Authorization header as Bearer <key>"),
             ("/api/v1/admin/campaigns/x", "Authorization header as Bearer <key>"),
             ("/v1/users/u1", "X-API-Secret header"),
             ("/v1/games", "X-API-Key header"),
             ("/api/v1/gamify/participants/u1", "X-API-Key header")]
    for path, header in cases:
        for headers in ({}, wrong):
            r = client.get(path, headers=headers)
            assert r.status_code == 401 and header in r.get_data(as_text=True), (path, r.json)
