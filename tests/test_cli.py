"""The exact CLI of SPEC §9, run through Flask's CLI runner."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from extensions import db
from models import ApiKey, Campaign, Operator, Organization

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def last_line(result):
    return result.output.strip().splitlines()[-1]


def test_org_create_prints_the_id(app, runner):
    r = runner.invoke(args=["org", "create", "acme"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        org = db.session.scalars(select(Organization)).one()
        assert last_line(r) == str(org.id)
        # the built-in default campaign exists from creation
        assert db.session.scalars(select(Campaign.pid).where(Campaign.org_id == org.id)).all() == ["default"]


def test_org_create_twice_fails_clearly(runner):
    runner.invoke(args=["org", "create", "acme"])
    r = runner.invoke(args=["org", "create", "acme"])
    assert r.exit_code != 0 and "already exists" in r.output


def test_key_create_creates_the_org_and_prints_a_working_key_last(app, runner, client):
    r = runner.invoke(args=["key", "create", "newco"])
    assert r.exit_code == 0, r.output
    key = last_line(r)
    assert key.startswith("qk_live_") and len(key) >= len("qk_live_") + 43
    resp = client.get("/api/v1/campaign/info", query_string={"pid": "default"},
                      headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 200 and resp.json["data"]["name"] == "newco"
    with app.app_context():
        row = db.session.scalars(select(ApiKey)).one()
        assert key not in (row.prefix, row.digest)  # stored as prefix + digest only
        assert key.startswith(row.prefix)


def test_key_create_publishable(runner):
    r = runner.invoke(args=["key", "create", "newco", "--publishable"])
    assert last_line(r).startswith("pk_live_")


def test_operator_create_hashes_the_password(app, runner):
    r = runner.invoke(args=["operator", "create", "acme", "Ops@Acme.test", "--password", "s3cret-pass"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        op = db.session.scalars(select(Operator)).one()
        assert op.email == "ops@acme.test" and "s3cret-pass" not in op.password_hash
        from engine.access.operators import check_login
        assert check_login(db.session, "ops@acme.test", "s3cret-pass") is not None
        assert check_login(db.session, "ops@acme.test", "wrong-pass") is None


def test_campaign_push_and_publish(app, runner, tmp_path):
    runner.invoke(args=["org", "create", "acme"])
    r = runner.invoke(args=["campaign", "push", "acme", str(EXAMPLES / "campaign-example.json")])
    assert r.exit_code == 0, r.output
    with app.app_context():
        c = db.session.scalars(select(Campaign).where(Campaign.pid == "summer_games")).one()
        assert c.live is None and c.version == 0 and c.slug == "summer-promo"
    r = runner.invoke(args=["campaign", "push", "acme", str(EXAMPLES / "campaign-example.json"), "--publish"])
    assert r.exit_code == 0 and "version 1" in r.output


def test_campaign_push_reports_paths_of_invalid_files(runner, tmp_path):
    runner.invoke(args=["org", "create", "acme"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "name": "X", "actions": [{"id": "a", "name": "A", "type": "teleport"}]}')
    r = runner.invoke(args=["campaign", "push", "acme", str(bad)])
    assert r.exit_code != 0 and "actions[0].type" in r.output
    bad.write_text("{not json")
    r = runner.invoke(args=["campaign", "push", "acme", str(bad)])
    assert r.exit_code != 0 and "not valid JSON" in r.output


def test_demo_publishes_both_examples_and_prints_a_key(app, runner, client):
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0, r.output
    key = last_line(r)
    h = {"Authorization": f"Bearer {key}"}
    info = client.get("/api/v1/campaign/info", query_string={"pid": "summer_games"}, headers=h).json["data"]
    assert info["name"] == "Summer Gaming Challenge"
    d = client.get("/api/v1/campaign/info", query_string={"pid": "default"}, headers=h).json["data"]
    assert d["name"] == "Acme Rewards"
    # the printed widget preview opens the widget as the demo player
    import re
    preview = re.search(r"/widget/summer_games\?user_token=\S+", r.output).group(0)
    page = client.get(preview)
    assert page.status_code == 200 and "Demo Player" in page.get_data(as_text=True)
    # and the printed dashboard login works
    email, password = re.search(r"e-mail (\S+)  password (\S+)", r.output).groups()
    form = client.get("/dashboard/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    login = client.post("/dashboard/login", data={"email": email, "password": password, "csrf_token": csrf})
    assert login.status_code == 302 and login.headers["Location"].endswith("/dashboard")
    # running it again reuses the organization, the key and the password
    r2 = runner.invoke(args=["demo"])
    assert r2.exit_code == 0 and last_line(r2) == key
    assert re.search(r"e-mail (\S+)  password (\S+)", r2.output).groups() == (email, password)


def test_demo_reset_makes_a_new_key_and_password_and_revokes_the_old_key(app, runner, client):
    import re
    first = runner.invoke(args=["demo"])
    old_key, old_password = last_line(first), re.search(r"password (\S+)", first.output).group(1)
    r = runner.invoke(args=["demo", "--reset"])
    assert r.exit_code == 0, r.output
    key, password = last_line(r), re.search(r"password (\S+)", r.output).group(1)
    assert key != old_key and password != old_password
    info = {"pid": "summer_games"}
    assert client.get("/api/v1/campaign/info", query_string=info,
                      headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/api/v1/campaign/info", query_string=info,
                      headers={"Authorization": f"Bearer {old_key}"}).status_code == 401
    # and the next plain run keeps the new ones
    assert last_line(runner.invoke(args=["demo"])) == key
    # the activity is seeded once, not again on a reset
    plays = client.get("/v1/users/demo_player/plays", headers={"X-API-Key": key}).json["data"]
    assert len(plays) == 1


def test_demo_seeds_again_when_the_database_no_longer_knows_the_kept_key(app, runner, client):
    import json
    first = runner.invoke(args=["demo"])
    state = Path(app.instance_path) / "demo.json"
    kept = json.loads(state.read_text())
    state.write_text(json.dumps({**kept, "key": "qk_live_" + "x" * 43}))  # as if the database was new
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0 and "days seeded" in r.output and last_line(r) != last_line(first)
    assert re.search(r"password (\S+)", r.output).group(1) == kept["password"]


def test_demo_keeps_its_key_and_password_in_the_instance_folder_for_its_owner_only(app, runner):
    r = runner.invoke(args=["demo"])
    state = Path(app.instance_path) / "demo.json"
    assert state.stat().st_mode & 0o077 == 0
    assert last_line(r) in state.read_text()


def test_demo_seeds_days_of_activity_through_the_api(app, runner, client, clock):
    key = last_line(runner.invoke(args=["demo"]))
    h = {"Authorization": f"Bearer {key}"}
    board = client.get("/api/v1/leaderboard", headers=h, query_string={
        "pid": "summer_games", "account": "alice", "platform": "wowhaus"}).json["data"]
    assert len(board["leaderboard"]) >= 7 and board["leaderboard"][0]["score"] > 0
    stats = client.get("/api/v1/campaign/stats", headers=h, query_string={"pid": "summer_games"}).json
    assert stats["data"]["total_users"] >= 8, stats
    referrals = client.get("/api/v1/user/referrals", headers=h, query_string={
        "pid": "summer_games", "account": "alice", "platform": "wowhaus"}).json["data"]["referrals"]
    assert {r["id"] for r in referrals} == {"bob", "carol"}
    plays = client.get("/v1/users/demo_player/plays", headers={"X-API-Key": key}).json["data"]
    assert [p["gameType"] for p in plays] == ["NEON_WHEEL"]
    # events of several days: the activity starts days before the clock's now
    events = client.get("/api/v1/events", headers=h, query_string={
        "pid": "summer_games", "account": "alice", "platform": "wowhaus", "name": "GameSession"}).json
    days = {e["ts"] // 86400 for e in events["events"]}
    assert len(days) >= 4, days


def test_secret_key_is_generated_once_per_instance_and_kept_private(tmp_path, monkeypatch):
    import os
    import stat

    from app import create_app
    monkeypatch.delenv("SECRET_KEY", raising=False)
    cfg = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "INSTANCE_PATH": str(tmp_path / "inst")}
    first = create_app(dict(cfg)).config["SECRET_KEY"]
    second = create_app(dict(cfg)).config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    mode = os.stat(tmp_path / "inst" / "secret_key").st_mode
    assert stat.S_IMODE(mode) == 0o600
    other = create_app({**cfg, "INSTANCE_PATH": str(tmp_path / "other")}).config["SECRET_KEY"]
    assert other != first
