"""Organization B's key never reads or changes anything of organization A."""
from __future__ import annotations

from tests.conftest import make_org

USER = {"account": "alice", "platform": "discord"}


def test_other_organization_sees_nothing_and_changes_nothing(app, client, auth):
    a = auth
    client.put("/api/v1/admin/campaigns/a_only", json={"id": "a_only", "name": "A"}, headers=a)
    client.post("/api/v1/admin/campaigns/a_only/publish", headers=a)
    client.post("/api/v1/user/reward", json={**USER, "pid": "default", "id": "r", "xp": 50}, headers=a)

    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}"}
    # B's own default campaign is a different one: A's balance is invisible
    r = client.get("/api/v1/user/balance", query_string={**USER, "pid": "default"}, headers=b)
    assert r.json["data"] == {"xp": 0, "ref_xp": 0, "ugc_xp": 0}
    # A's campaign does not exist for B
    for method, path, kw in [
        ("get", "/api/v1/campaign/info", {"query_string": {"pid": "a_only"}}),
        ("get", "/api/v1/user/balance", {"query_string": {**USER, "pid": "a_only"}}),
        ("get", "/api/v1/user/activity", {"query_string": {**USER, "pid": "a_only"}}),
        ("post", "/api/v1/user/reward", {"json": {**USER, "pid": "a_only", "id": "x", "xp": 1}}),
        ("post", "/api/v1/user/withdraw", {"json": {**USER, "pid": "a_only", "id": "x", "xp": 1}}),
        ("get", "/api/v1/admin/campaigns/a_only", {}),
        ("post", "/api/v1/admin/campaigns/a_only/publish", {}),
    ]:
        r = getattr(client, method)(path, headers=b, **kw)
        assert r.status_code == 404, (path, r.json)
    # B may create its own campaign with the same pid; A's stays A's
    r = client.put("/api/v1/admin/campaigns/a_only", json={"id": "a_only", "name": "B's"}, headers=b)
    assert r.status_code == 200
    r = client.get("/api/v1/admin/campaigns/a_only", query_string={"env": "live"}, headers=a)
    assert r.json["data"]["definition"]["name"] == "A"
    r = client.get("/api/v1/user/balance", query_string={**USER, "pid": "default"}, headers=a)
    assert r.json["data"]["xp"] == 50


def test_idempotency_keys_are_per_organization(app, client, auth):
    _, key_b = make_org(app, "globex")
    b = {"Authorization": f"Bearer {key_b}", "Idempotency-Key": "shared"}
    body = {**USER, "pid": "default", "id": "r", "xp": 5}
    assert client.post("/api/v1/user/reward", json=body, headers={**auth, "Idempotency-Key": "shared"}).status_code == 200
    r = client.post("/api/v1/user/reward", json=body, headers=b)
    assert r.status_code == 200 and r.headers.get("Idempotent-Replayed") is None


def test_widget_token_of_one_organization_names_its_own_user(app, client, auth):
    from engine.access.tokens import read_widget_token
    from tests.conftest import make_org as mk
    org_b, key_b = mk(app, "globex")
    t = client.get("/api/v1/token", query_string=USER,
                   headers={"Authorization": f"Bearer {key_b}"}).json["data"]["token"]
    assert read_widget_token(["test-secret-key"], t).org_id == org_b
