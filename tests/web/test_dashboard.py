"""The operator dashboard (SPEC §8, §11) through the Flask test client.

Login with throttling, CSRF on every POST, tenant isolation, the draft
editor (validation, diff, publish), the dry run, invite codes, branding and
e-mail settings, analytics, a user's points and adjustments, API keys,
webhooks, the empty state, escaping, input no database can store (refused
alike on SQLite and PostgreSQL) and framing headers.

"Changes nothing" is checked against a snapshot of every row of every table.
Tests that need other settings (an SMTP server, an https PUBLIC_URL) sit in a
class with its own ``app_config``.

Campaigns are published from examples/*.json through the Management API and
participants act through the public APIs, as an integrator would; what the
dashboard changes is then read back through those APIs.
"""
from __future__ import annotations

import csv
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from flask import url_for
from sqlalchemy import func, select, update

from engine.outbox import webhook_delivery
from engine.access import operators, organizations
from extensions import db
from models import ApiKey, Base, Campaign, Event, Hook, LedgerEntry, Message, User
from app import create_app
from tests.api.quest_helpers import ok, push, summer_doc
from tests.conftest import START, app_settings, make_org
from tests.smtp_server import free_port, smtp_server
from tests.web.html_tree import Node, parse

SUMMER = "summer_games"
OPERATOR = "ops@acme.test"
PASSWORD = "correct horse battery"
EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TODAY = START.date().isoformat()  # 12:00 UTC is the same day in Europe/Berlin


@pytest.fixture
def app_config():
    """Webhooks to a local (closed) port are allowed, as in development."""
    return {"WEBHOOK_ALLOW_PRIVATE": "1"}


# -- a small DOM: pages are checked by structure, not by substring -----------------------------

def html_of(r) -> str:
    return r.get_data(as_text=True)


def dom(r) -> Node:
    return parse(html_of(r))


def flashes(r, kind: str | None = None) -> list[str]:
    """The flash messages on a page (of one kind: success, error)."""
    return [p.text for p in dom(r).all("p", cls="dash-flash")
            if kind is None or f"dash-flash-{kind}" in p.attrs["class"].split()]


def csrf_in(r) -> str:
    fields = dom(r).all("input", name="csrf_token")
    assert fields, "no csrf_token field on the page"
    assert len({f.attrs["value"] for f in fields}) == 1
    return fields[0].attrs["value"]


def path_of(location: str) -> str:
    return urlsplit(location).path


# -- the logged-in operator ------------------------------------------------------------------------

def make_operator(app, org_id: int, email: str, password: str = PASSWORD) -> None:
    with app.app_context():
        operators.create_operator(db.session, org_id, email, password, app.extensions["questkit"].clock.now())
        db.session.commit()


class Dash:
    """A browser on the dashboard: logs in through the form, posts with its CSRF token."""

    def __init__(self, client):
        self.client = client
        self._csrf: str | None = None

    def login(self, email: str, password: str = PASSWORD, next: str | None = None):
        qs = {"next": next} if next is not None else {}
        page = self.client.get("/dashboard/login", query_string=qs)
        assert page.status_code == 200
        self._csrf = None
        return self.client.post("/dashboard/login", query_string=qs,
                                data={"email": email, "password": password, "csrf_token": csrf_in(page)})

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            self._csrf = csrf_in(self.page("/dashboard/keys"))
        return self._csrf

    def page(self, path: str, status: int = 200, **kw):
        r = self.client.get(path, **kw)
        assert r.status_code == status, (path, r.status_code, r.location)
        return r

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.client.post(path, data=form, **kw)


@pytest.fixture
def dash(app, client, org):
    """The operator of `acme` (the `org` fixture), logged in; `.auth` is acme's API key header."""
    org_id, key = org
    make_operator(app, org_id, OPERATOR)
    d = Dash(client)
    r = d.login(OPERATOR)
    assert r.status_code == 302, html_of(r)
    d.org_id, d.key, d.auth = org_id, key, {"Authorization": f"Bearer {key}"}
    return d


# -- publishing and acting through the APIs ------------------------------------------------------

def admin_campaign(client, auth, pid: str, env: str) -> dict:
    return ok(client.get(f"/api/v1/admin/campaigns/{pid}", query_string={"env": env}, headers=auth))


def reward(client, auth, account: str, xp: int, rid: str, *, pid: str = SUMMER, platform: str = "discord",
           **extra) -> dict:
    body = {"account": account, "platform": platform, "pid": pid, "id": rid, "xp": xp, **extra}
    return ok(client.post("/api/v1/user/reward", json=body, headers=auth))


def event(client, auth, account: str, platform: str = "wowhaus", pid: str = SUMMER, **body) -> dict:
    body = {"account": account, "platform": platform, "pid": pid, "name": "GameSession", "category": "dices",
            **body}
    return ok(client.post("/api/v1/event", json=body, headers=auth))


def balance(client, auth, account: str, platform: str = "discord", pid: str = SUMMER) -> dict:
    return ok(client.get("/api/v1/user/balance", query_string={"account": account, "platform": platform,
                                                                 "pid": pid}, headers=auth))


def user_id(app, org_id: int, account: str, platform: str) -> int:
    with app.app_context():
        return db.session.scalars(select(User.id).where(User.org_id == org_id, User.account == account,
                                                        User.platform == platform)).one()


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def snapshot(app) -> dict[str, list[str]]:
    """Every row of every table: equal snapshots mean nothing was written."""
    with app.app_context():
        return {t.name: sorted(repr(tuple(row)) for row in db.session.execute(select(t)))
                for t in Base.metadata.sorted_tables}


def register_hook(client, auth, hook_id: str = "prod") -> None:
    """A hook to a local port where nothing listens (WEBHOOK_ALLOW_PRIVATE=1)."""
    ok(client.post("/api/v1/hook", json={"scope": "user_activity", "uri": f"http://127.0.0.1:{free_port()}/hook",
                                         "secret": "my-secret-key", "hook_id": hook_id}, headers=auth))


def messages_of(app, org_id: int) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).join(Hook, Hook.id == Message.hook_pk)
                                  .where(Hook.org_id == org_id).order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


# -- 1. nothing without a login ---------------------------------------------------------------------

def dashboard_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules()
             if r.rule.startswith("/dashboard") and r.rule != "/dashboard/login"]
    # The list must cover the dashboard, or this test proves nothing.
    assert {"dashboard.home", "dashboard.campaign", "dashboard.adjust_points", "dashboard.key_list",
            "dashboard.redeliver", "dashboard.logout"} <= {r.endpoint for r in rules}
    return rules


def url_of(app, rule, ids: dict) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{a: ids[a] for a in rule.arguments})  # KeyError: a new argument


@pytest.fixture
def world(app, client, org):
    """acme with a published campaign, a user with points, a claimed code, a key and a webhook
    message: real ids for every dashboard URL."""
    org_id, key = org
    auth = {"Authorization": f"Bearer {key}"}
    push(client, auth, summer_doc())
    register_hook(client, auth)
    reward(client, auth, "alice", 100, "r1")
    codes = ok(client.post(f"/api/v1/admin/campaigns/{SUMMER}/codes", json={"count": 1}, headers=auth), 201)["codes"]
    ok(client.post("/api/v1/code", json={"code": codes[0], "pid": SUMMER, "used_by": "alice",
                                         "platform": "discord"}, headers=auth))
    with app.app_context():
        key_id = db.session.scalars(select(ApiKey.id).where(ApiKey.org_id == org_id)).one()
    [msg, *_] = messages_of(app, org_id)
    return {"org_id": org_id, "auth": auth,
            "ids": {"pid": SUMMER, "user_id": user_id(app, org_id, "alice", "discord"), "code": codes[0],
                    "msg_id": msg.msg_id, "key_id": key_id}}


def test_every_dashboard_page_redirects_to_the_login_page_when_logged_out(app, client, world):
    gets = [r for r in dashboard_rules(app) if "GET" in r.methods]
    assert len(gets) >= 7
    for rule in gets:
        url = url_of(app, rule, world["ids"])
        r = client.get(url)
        assert r.status_code == 302, url
        assert path_of(r.location) == "/dashboard/login", url
        assert parse_qs(urlsplit(r.location).query)["next"] == [url]


def test_every_dashboard_post_is_refused_without_a_login_and_changes_nothing(app, client, world):
    posts = [r for r in dashboard_rules(app) if "POST" in r.methods]
    assert len(posts) >= 10
    token = csrf_in(client.get("/dashboard/login"))  # a real token of this (logged-out) session
    before = snapshot(app)
    form = {"amount": "50", "reason": "r", "definition": json.dumps(summer_doc(name="Changed")), "count": "3",
            "events": "[]", "kind": "secret", "primary_color": "#000000"}
    for rule in posts:
        url = url_of(app, rule, world["ids"])
        r = client.post(url, data={**form, "csrf_token": token})
        assert r.status_code == 302 and path_of(r.location) == "/dashboard/login", (url, r.status_code)
        assert client.post(url, data=form).status_code == 400, url  # and no token at all: a 400
    assert snapshot(app) == before


# -- 2. login --------------------------------------------------------------------------------------

def test_a_wrong_password_is_401_with_a_message_and_logs_nobody_in(app, client, org):
    make_operator(app, org[0], OPERATOR)
    d = Dash(client)
    for email, password in ((OPERATOR, "wrong password"), ("nobody@acme.test", PASSWORD)):
        r = d.login(email, password)
        assert r.status_code == 401
        page = dom(r)
        assert page.one("p", cls="dash-error").text == "wrong e-mail or password"
        assert page.one("input", name="email").attrs["value"] == email  # kept; the password is not
        assert "value" not in page.one("input", name="password").attrs
    assert path_of(client.get("/dashboard").location) == "/dashboard/login"


def test_five_failures_pause_the_client_for_that_address_for_fifteen_minutes_even_with_the_password(app, client, org, clock):
    make_operator(app, org[0], OPERATOR)
    make_operator(app, org[0], "other@acme.test")
    d = Dash(client)
    for _ in range(5):
        assert d.login(OPERATOR, "guess").status_code == 401
    r = d.login(OPERATOR)
    assert r.status_code == 429
    assert "too many failed logins" in dom(r).one("p", cls="dash-error").text
    assert path_of(client.get("/dashboard").location) == "/dashboard/login"
    assert d.login(OPERATOR.upper()).status_code == 429  # the same address, however it is spelled
    clock.advance(minutes=14)
    assert d.login(OPERATOR).status_code == 429
    # Another address is not locked.
    other = Dash(client.application.test_client())
    assert other.login("other@acme.test").status_code == 302
    clock.advance(minutes=2)  # 16 minutes after the lock
    r = d.login(OPERATOR)
    assert r.status_code == 302 and path_of(r.location) == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    # The success cleared the count: four new failures do not lock.
    d.post("/dashboard/logout")
    for _ in range(4):
        assert d.login(OPERATOR, "guess").status_code == 401
    assert d.login(OPERATOR).status_code == 302


def test_parallel_guesses_get_five_tries_in_all_not_five_each(app, client, org):
    """Failures are counted under a lock: 20 guesses at once are 5 checked, 15 refused, no 500."""
    make_operator(app, org[0], OPERATOR)
    pages = []
    for _ in range(20):
        d = Dash(app.test_client())
        pages.append((d, csrf_in(d.client.get("/dashboard/login"))))

    def guess(page):
        d, token = page
        return d.client.post("/dashboard/login", data={"email": OPERATOR, "password": "guess",
                                                       "csrf_token": token}).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(guess, pages))
    assert statuses == [401] * 5 + [429] * 15
    assert Dash(client).login(OPERATOR).status_code == 429


def from_address(app, address: str) -> Dash:
    """A browser on another machine: its own cookies and REMOTE_ADDR."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return Dash(c)


ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"


def test_failures_pause_the_failing_client_and_never_lock_the_owner_out(app, org, clock):
    """OWASP: throttle the client that fails, not the account; knowing an operator's e-mail
    is not enough to lock them out."""
    make_operator(app, org[0], OPERATOR)
    attacker = from_address(app, ATTACKER)
    for _ in range(6):
        attacker.login(OPERATOR, "guess")
    assert attacker.login(OPERATOR).status_code == 429  # that client waits, even with the password
    owner = from_address(app, OWNER)
    r = owner.login(OPERATOR)
    assert r.status_code == 302 and path_of(r.location) == "/dashboard"
    assert owner.client.get("/dashboard").status_code == 200
    # The owner logging in does not free the attacker's client.
    assert from_address(app, ATTACKER).login(OPERATOR).status_code == 429
    clock.advance(minutes=16)
    assert from_address(app, ATTACKER).login(OPERATOR).status_code == 302


def test_one_client_failing_across_many_addresses_is_slowed_for_every_address(app, org, clock):
    make_operator(app, org[0], OPERATOR)
    attacker = from_address(app, ATTACKER)
    statuses = [attacker.login(f"user{i}@acme.test", "guess").status_code for i in range(30)]
    limit = operators.MAX_CLIENT_FAILURES
    assert statuses == [401] * limit + [429] * (30 - limit)
    assert attacker.login(OPERATOR).status_code == 429  # a real account too, from that client
    assert from_address(app, OWNER).login(OPERATOR).status_code == 302  # not from any other
    clock.advance(minutes=16)
    assert from_address(app, ATTACKER).login(OPERATOR).status_code == 302


def test_an_ipv6_client_is_counted_by_its_64_prefix(app, org):
    make_operator(app, org[0], OPERATOR)
    for i in range(6):  # a new address of the same /64 for every guess
        from_address(app, f"2001:db8:1:2::{i + 1:x}").login(OPERATOR, "guess")
    assert from_address(app, "2001:db8:1:2::ffff").login(OPERATOR).status_code == 429
    assert from_address(app, "2001:db8:1:3::1").login(OPERATOR).status_code == 302


def test_rows_of_unknown_addresses_and_old_windows_are_cleaned_up(app, org, clock):
    from models import LoginThrottle
    make_operator(app, org[0], OPERATOR)
    for i in range(5):
        from_address(app, f"203.0.113.{i + 10}").login(f"nobody{i}@acme.test", "guess")
    assert count(app, LoginThrottle) == 10  # each client's total, and its address
    clock.advance(minutes=16)
    assert from_address(app, OWNER).login(OPERATOR).status_code == 302
    assert count(app, LoginThrottle) == 0  # a success leaves no row of its own either


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(app, client, org, clock):
    make_operator(app, org[0], OPERATOR)
    d = Dash(client)
    for _ in range(4):
        assert d.login(OPERATOR, "guess").status_code == 401
    clock.advance(minutes=16)
    assert d.login(OPERATOR, "guess").status_code == 401  # a new window: one failure
    assert d.login(OPERATOR).status_code == 302


# -- sessions end on the server ----------------------------------------------------------------------

def session_cookie(dash: Dash) -> str:
    return dash.client.get_cookie("questkit_session").value


def with_cookie(app, value: str):
    """Another browser holding a copy of a session cookie."""
    c = app.test_client()
    c.set_cookie("questkit_session", value)
    return c


def opens_dashboard(client) -> bool:
    r = client.get("/dashboard")
    assert r.status_code in (200, 302)
    return r.status_code == 200


def test_a_cookie_copied_before_logout_does_not_open_the_dashboard_afterwards(app, client, dash):
    copied = session_cookie(dash)
    assert opens_dashboard(with_cookie(app, copied))
    r = dash.post("/dashboard/logout")
    assert r.status_code == 302 and path_of(r.location) == "/dashboard/login"
    thief = with_cookie(app, copied)
    r = thief.get("/dashboard")
    assert r.status_code == 302 and path_of(r.location) == "/dashboard/login"
    assert not opens_dashboard(client)
    assert dash.login(OPERATOR).status_code == 302 and opens_dashboard(client)  # a new login works


def test_sign_out_everywhere_ends_every_session_of_the_operator_only(app, client, dash, org):
    make_operator(app, org[0], "other@acme.test")
    other = Dash(app.test_client())
    assert other.login("other@acme.test").status_code == 302
    laptop = Dash(app.test_client())
    assert laptop.login(OPERATOR).status_code == 302
    assert dom(dash.page("/dashboard/account")).all("form", action="/dashboard/account/sign-out-everywhere")
    r = dash.post("/dashboard/account/sign-out-everywhere")
    assert r.status_code == 302 and path_of(r.location) == "/dashboard/login"
    assert not opens_dashboard(client) and not opens_dashboard(laptop.client)
    assert opens_dashboard(other.client)  # another operator's session is not touched


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, client, dash):
    laptop = Dash(app.test_client())
    assert laptop.login(OPERATOR).status_code == 302
    copied = session_cookie(dash)
    new = "a brand new passphrase"
    r = dash.post("/dashboard/account/password", {"current_password": PASSWORD, "new_password": new,
                                                  "repeat_password": new}, follow_redirects=True)
    assert flashes(r, "success") == ["Password changed. Every other session has been signed out."]
    assert opens_dashboard(client)
    assert not opens_dashboard(laptop.client) and not opens_dashboard(with_cookie(app, copied))
    assert Dash(app.test_client()).login(OPERATOR, PASSWORD).status_code == 401
    assert Dash(app.test_client()).login(OPERATOR, new).status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"current_password": "wrong", "new_password": "long enough 1", "repeat_password": "long enough 1"},
     "the current password is wrong"),
    ({"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"}, "at least 8"),
    ({"current_password": PASSWORD, "new_password": "long enough 1", "repeat_password": "long enough 2"},
     "differ"),
])
def test_a_refused_password_change_changes_nothing(app, client, dash, form, message):
    laptop = Dash(app.test_client())
    assert laptop.login(OPERATOR).status_code == 302
    r = dash.post("/dashboard/account/password", form, follow_redirects=True)
    errors = flashes(r, "error")
    assert len(errors) == 1 and message in errors[0], errors
    assert opens_dashboard(client) and opens_dashboard(laptop.client)
    assert Dash(app.test_client()).login(OPERATOR, PASSWORD).status_code == 302


def test_a_session_ends_after_eight_idle_hours_and_seven_days_in_all(app, client, dash, clock):
    copied = session_cookie(dash)
    clock.advance(hours=7, minutes=59)
    assert opens_dashboard(client)  # seen: the idle time starts again
    clock.advance(hours=7, minutes=59)
    assert opens_dashboard(client)
    assert not opens_dashboard(with_cookie(app, copied))  # that copy was last seen 16 hours ago
    while opens_dashboard(client):  # active every 7 hours: open until 7 days after the login
        assert clock.now() - START <= timedelta(days=7)
        clock.advance(hours=7)
    assert timedelta(days=7) < clock.now() - START <= timedelta(days=7, hours=7)
    assert dash.login(OPERATOR).status_code == 302 and opens_dashboard(client)


class TestConfiguredSessionLifetimes:
    @pytest.fixture
    def app_config(self):
        return {"SESSION_IDLE_MINUTES": "30", "SESSION_ABSOLUTE_HOURS": "2"}

    def test_idle_and_absolute_lifetimes_are_settings(self, app, client, dash, clock):
        clock.advance(minutes=29)
        assert opens_dashboard(client)
        clock.advance(minutes=31)
        assert not opens_dashboard(client)
        assert dash.login(OPERATOR).status_code == 302
        for _ in range(4):
            clock.advance(minutes=25)
            assert opens_dashboard(client)
        clock.advance(minutes=25)  # 125 minutes after that login
        assert not opens_dashboard(client)


def test_login_sets_an_httponly_samesite_lax_cookie_and_redirects_to_the_dashboard(app, client, org):
    make_operator(app, org[0], OPERATOR)
    d = Dash(client)
    before = csrf_in(client.get("/dashboard/login"))
    r = d.login(OPERATOR)
    assert r.status_code == 302 and path_of(r.location) == "/dashboard"
    [cookie] = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("questkit_session=")]
    attrs = {}
    for part in cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attrs[name.lower()] = value
    assert "httponly" in attrs and attrs["samesite"] == "Lax" and attrs["path"] == "/"
    assert d.csrf != before  # a fresh session (and token) after login: no fixation
    page = d.page("/dashboard")
    assert dom(page).one("form", cls="dash-logout").text.startswith(OPERATOR)


class TestHttpsCookie:
    @pytest.fixture
    def app_config(self):
        return {"PUBLIC_URL": "https://questkit.example"}

    def test_behind_an_https_public_url_the_session_cookie_is_secure(self, app, client, org):
        make_operator(app, org[0], OPERATOR)
        page = client.get("/dashboard/login", base_url="https://questkit.example")
        r = client.post("/dashboard/login", base_url="https://questkit.example",
                        data={"email": OPERATOR, "password": PASSWORD, "csrf_token": csrf_in(page)})
        assert r.status_code == 302
        [cookie] = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("questkit_session=")]
        assert "Secure" in [p.strip() for p in cookie.split(";")] and "HttpOnly" in cookie


def test_a_session_survives_a_secret_key_rotation(app, client, org, db_url, clock, tmp_path):
    """Sessions signed with the old key still verify while it is in SECRET_KEY_FALLBACKS."""
    make_operator(app, org[0], OPERATOR)
    assert Dash(client).login(OPERATOR).status_code == 302
    cookie = client.get_cookie("questkit_session").value
    rotated = create_app(app_settings(db_url, clock, tmp_path, SECRET_KEY="a-new-secret-key",
                                      SECRET_KEY_FALLBACKS=["test-secret-key"]))
    try:
        c = rotated.test_client()
        c.set_cookie("questkit_session", cookie)
        assert c.get("/dashboard").status_code == 200
        unrelated = create_app(app_settings(db_url, clock, tmp_path, SECRET_KEY="a-new-secret-key"))
        c = unrelated.test_client()
        c.set_cookie("questkit_session", cookie)
        assert path_of(c.get("/dashboard").location) == "/dashboard/login"
        with unrelated.app_context():
            db.engine.dispose()
    finally:
        with rotated.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("next_, lands_on", [
    ("/dashboard/keys", "/dashboard/keys"),
    ("https://evil.example", "/dashboard"),
    ("//evil.example", "/dashboard"),
    ("//evil.example/dashboard", "/dashboard"),
    ("https://evil.example/dashboard/keys", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
    ("/dashboard\r\nSet-Cookie: evil=1", "/dashboard"),
    ("/dashboard/keys\t", "/dashboard"),
])
def test_the_next_parameter_never_redirects_off_site(app, client, org, next_, lands_on):
    make_operator(app, org[0], OPERATOR)
    r = Dash(client).login(OPERATOR, next=next_)
    assert r.status_code == 302
    assert "evil" not in "".join(r.headers.getlist("Set-Cookie"))
    target = urljoin("http://localhost/dashboard/login", r.location)
    assert urlsplit(target).scheme == "http" and urlsplit(target).netloc == "localhost", r.location
    assert path_of(target) == lands_on


def test_a_logged_out_page_sends_back_to_it_after_login(app, client, org):
    make_operator(app, org[0], OPERATOR)
    r = client.get("/dashboard/webhooks")
    nxt = parse_qs(urlsplit(r.location).query)["next"][0]
    r = Dash(client).login(OPERATOR, next=nxt)
    assert path_of(r.location) == "/dashboard/webhooks"


def test_logout_needs_csrf_and_ends_the_session(dash):
    assert dash.post("/dashboard/logout", csrf=False).status_code == 400
    assert dash.client.get("/dashboard").status_code == 200  # still logged in
    r = dash.post("/dashboard/logout")
    assert r.status_code == 302 and path_of(r.location) == "/dashboard/login"
    r = dash.client.get("/dashboard")
    assert r.status_code == 302 and path_of(r.location) == "/dashboard/login"
    # The old token went with the session.
    assert dash.post("/dashboard/keys", {"kind": "secret"}).status_code == 400


# -- 3. CSRF ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["missing", "wrong", "another session's", "wrong header"])
def test_a_post_without_the_right_csrf_token_is_400_and_changes_nothing(app, client, dash, how):
    push(client, dash.auth, summer_doc())
    push(client, dash.auth, summer_doc(name="Summer, edited"), publish=False)  # something to publish
    reward(client, dash.auth, "alice", 100, "r1")
    uid = user_id(app, dash.org_id, "alice", "discord")
    other = app.test_client()
    token = {"missing": None, "wrong": "x" * 43, "wrong header": None,
             "another session's": csrf_in(other.get("/dashboard/login"))}[how]
    headers = {"X-CSRF-Token": "y" * 43} if how == "wrong header" else {}
    before = snapshot(app)
    for path, form in [
        ("/dashboard/keys", {"kind": "secret", "label": "sneaky"}),
        (f"/dashboard/campaigns/{SUMMER}/publish", {}),
        (f"/dashboard/campaigns/{SUMMER}/users/{uid}/adjust", {"amount": "50", "reason": "gift"}),
        (f"/dashboard/campaigns/{SUMMER}/draft", {"definition": json.dumps(summer_doc(name="X"))}),
        (f"/dashboard/campaigns/{SUMMER}/codes", {"count": "5"}),
        (f"/dashboard/campaigns/{SUMMER}/settings", {"primary_color": "#000000"}),
    ]:
        if token is not None:
            form = {**form, "csrf_token": token}
        r = client.post(path, data=form, headers=headers)
        assert r.status_code == 400, (path, r.status_code)
        assert "CSRF token was missing or wrong" in dom(r).one("main").text
    assert snapshot(app) == before
    # The same request with the session's token (field or htmx header) goes through.
    assert dash.post("/dashboard/keys", {"kind": "secret"}).status_code == 200
    r = client.post("/dashboard/keys", data={"kind": "secret"}, headers={"X-CSRF-Token": dash.csrf})
    assert r.status_code == 200
    assert count(app, ApiKey, ApiKey.org_id == dash.org_id) == 3


# -- 4. tenant isolation ---------------------------------------------------------------------------

def test_an_operator_reaches_nothing_of_another_organization(app, client, dash):
    push(client, dash.auth, summer_doc())
    b_org, b_key = make_org(app, "globex")
    b_auth = {"Authorization": f"Bearer {b_key}"}
    push(client, b_auth, {"id": "b_only", "name": "Globex secret campaign",
                          "actions": [{"id": "hi", "name": "Hi", "type": "api_call", "xp": 10}]})
    register_hook(client, b_auth, "globex-hook")
    reward(client, b_auth, "bob", 70, "b1", pid="default", platform="internal")
    reward(client, b_auth, "bob", 30, "b2", pid="b_only", platform="internal")
    bob = user_id(app, b_org, "bob", "internal")
    with app.app_context():
        b_key_id = db.session.scalars(select(ApiKey.id).where(ApiKey.org_id == b_org)).one()
        db.session.execute(update(Message).values(status="failed", attempts=10))  # worth redelivering
        db.session.commit()
    b_msgs = messages_of(app, b_org)
    assert b_msgs

    before = snapshot(app)
    home = html_of(dash.page("/dashboard"))
    assert "b_only" not in home and "Globex" not in home
    for path in ("/dashboard/campaigns/b_only", "/dashboard/campaigns/b_only/analytics",
                 "/dashboard/campaigns/b_only/email-preview", "/dashboard/campaigns/b_only/codes.csv",
                 f"/dashboard/campaigns/b_only/users/{bob}",
                 f"/dashboard/campaigns/{SUMMER}/users/{bob}", f"/dashboard/campaigns/default/users/{bob}"):
        r = dash.client.get(path)
        assert r.status_code == 404, path
        assert "bob" not in html_of(r) and "Globex" not in html_of(r)
    for path, form in [
        ("/dashboard/campaigns/b_only/draft", {"definition": json.dumps({"id": "b_only", "name": "Mine"})}),
        ("/dashboard/campaigns/b_only/publish", {}),
        ("/dashboard/campaigns/b_only/settings", {"primary_color": "#000000"}),
        ("/dashboard/campaigns/b_only/codes", {"count": "3"}),
        ("/dashboard/campaigns/b_only/simulate", {"events": "[]"}),
        ("/dashboard/campaigns/b_only/test-email", {}),
        (f"/dashboard/campaigns/default/users/{bob}/adjust", {"amount": "500", "reason": "theft"}),
        (f"/dashboard/campaigns/{SUMMER}/users/{bob}/adjust", {"amount": "500", "reason": "theft"}),
        (f"/dashboard/campaigns/default/users/{bob}/adjust", {"amount": "-70", "reason": "theft"}),
        (f"/dashboard/keys/{b_key_id}/revoke", {}),
        *[(f"/dashboard/webhooks/messages/{m.msg_id}/redeliver", {}) for m in b_msgs],
    ]:
        r = dash.post(path, form)
        assert r.status_code == 404, (path, r.status_code)
    assert snapshot(app) == before
    # B's side, through B's key: all as it was.
    assert balance(client, b_auth, "bob", "internal", "default")["xp"] == 70
    assert admin_campaign(client, b_auth, "b_only", "dev")["definition"]["name"] == "Globex secret campaign"
    assert [m.status for m in messages_of(app, b_org)] == ["failed"] * len(b_msgs)
    # B's webhooks are not on A's page; A's own page still works.
    hooks = html_of(dash.page("/dashboard/webhooks"))
    assert "globex-hook" not in hooks and all(m.msg_id not in hooks for m in b_msgs)


# -- 5. the draft editor ---------------------------------------------------------------------------

def issues_on(r) -> list[tuple[str, str]]:
    out = []
    for li in dom(r).one("ul", cls="dash-issues").all("li"):
        path = li.one("code").text
        out.append((path, li.text[len(path):].lstrip(": ").strip()))
    return out


def test_invalid_json_is_400_with_the_message_and_keeps_the_text(app, client, dash):
    push(client, dash.auth, summer_doc())
    before = snapshot(app)
    text = '{"id": "summer_games", "name": '
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/draft", {"definition": text})
    assert r.status_code == 400
    [(path, message)] = issues_on(r)
    assert path == "(document)" and message.startswith("not valid JSON")
    assert dom(r).by_id("definition").text == text.strip()  # the operator's text is not lost
    assert snapshot(app) == before


def test_a_definition_with_errors_is_400_listing_each_error_at_its_json_path(app, client, dash):
    push(client, dash.auth, summer_doc())
    before = snapshot(app)
    doc = summer_doc()
    doc["quests"][1]["actions"][0]["target"] = 0
    doc["actions"][1]["recurrence"] = "hourly"
    doc["branding"]["primary_color"] = "red"
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/draft", {"definition": json.dumps(doc)})
    assert r.status_code == 400
    issues = dict(issues_on(r))
    assert issues["quests[1].actions[0].target"] == "must be > 0"
    assert "actions[1].recurrence" in issues
    assert issues["branding.primary_color"].startswith("must be a hex color")
    assert snapshot(app) == before
    # One with an error only at the top: the id differs from the campaign.
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/draft", {"definition": json.dumps(summer_doc(id="other"))})
    assert r.status_code == 400 and ("id", "must be 'summer_games'") in issues_on(r)
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/draft", {"definition": "[1, 2]"})
    assert r.status_code == 400 and issues_on(r)
    assert snapshot(app) == before


def test_a_draft_whose_slug_another_campaign_uses_is_refused_with_a_message(app, client, dash):
    push(client, dash.auth, summer_doc())
    push(client, dash.auth, {"id": "winter", "name": "Winter"})
    before = snapshot(app)
    r = dash.post("/dashboard/campaigns/winter/draft",
                  {"definition": json.dumps({"id": "winter", "name": "Winter", "slug": "summer-promo"})})
    assert r.status_code in (400, 409), r.status_code
    assert any("summer-promo" in m for _, m in issues_on(r))
    assert snapshot(app) == before


def test_a_valid_edit_saves_the_draft_shows_the_diff_and_publishing_makes_it_live(app, client, dash):
    push(client, dash.auth, summer_doc())
    page = dom(dash.page(f"/dashboard/campaigns/{SUMMER}"))
    assert json.loads(page.by_id("definition").text) == summer_doc()
    assert "The draft is what is live." in page.by_id("diff").text
    edited = summer_doc(name="Summer Gaming Challenge II")
    edited["actions"][1]["xp"] = 60
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/draft", {"definition": json.dumps(edited, indent=4)})
    assert r.status_code == 302 and r.location.endswith(f"/dashboard/campaigns/{SUMMER}#diff")
    assert admin_campaign(client, dash.auth, SUMMER, "dev")["definition"] == edited
    live = admin_campaign(client, dash.auth, SUMMER, "live")
    assert live["definition"] == summer_doc() and live["version"] == 1

    r = dash.page(f"/dashboard/campaigns/{SUMMER}")
    assert flashes(r, "success") == ["Draft saved. Publish it to make it live."]
    rows = [(tr.all("td")[0].text, tr.all("td")[1].text) for tr in dom(r).by_id("diff").one("tbody").all("tr")]
    assert ('"name": "Summer Gaming Challenge",', '"name": "Summer Gaming Challenge II",') in rows
    assert ('"xp": 50,', '"xp": 60,') in rows
    assert len(rows) == 2  # only what changed
    assert "2 changed lines." in dom(r).by_id("diff").text
    assert dom(r).by_id("diff").one("button").text == "Publish version 2"

    r = dash.post(f"/dashboard/campaigns/{SUMMER}/publish", follow_redirects=True)
    assert flashes(r, "success") == ["Published version 2."]
    live = admin_campaign(client, dash.auth, SUMMER, "live")
    assert live["version"] == 2 and live["definition"] == edited
    assert live["definition"] == admin_campaign(client, dash.auth, SUMMER, "dev")["definition"]
    assert "The draft is what is live." in dom(r).by_id("diff").text
    # The public API sees the new version; publishing again changes nothing.
    info = ok(client.get("/api/v1/campaign/info", query_string={"pid": SUMMER}, headers=dash.auth))
    assert info["name"] == "Summer Gaming Challenge II"
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/publish", follow_redirects=True)
    assert flashes(r, "success") == ["Nothing to publish: live is the draft."]
    assert admin_campaign(client, dash.auth, SUMMER, "live")["version"] == 2


def test_publishing_a_draft_whose_slug_another_campaign_took_meanwhile_flashes_an_error(app, client, dash):
    push(client, dash.auth, summer_doc())
    push(client, dash.auth, summer_doc(slug="summer-new"), publish=False)
    push(client, dash.auth, {"id": "winter", "name": "Winter", "slug": "summer-new"})
    before = snapshot(app)
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/publish", follow_redirects=True)
    assert r.status_code == 200
    assert flashes(r, "success") == [] and any("summer-new" in f for f in flashes(r, "error")), flashes(r)
    assert snapshot(app) == before
    assert admin_campaign(client, dash.auth, SUMMER, "live")["version"] == 1


def test_a_campaign_created_by_the_api_and_never_published_can_be_published_here(app, client, dash):
    push(client, dash.auth, {"id": "spring", "name": "Spring"}, publish=False)
    page = dom(dash.page("/dashboard"))
    row = [tr for tr in page.one("tbody").all("tr") if "spring" in tr.text][0]
    assert "draft only" in row.text
    r = dash.post("/dashboard/campaigns/spring/publish", follow_redirects=True)
    assert flashes(r, "success") == ["Published version 1."]
    assert admin_campaign(client, dash.auth, "spring", "live")["definition"] == {"id": "spring", "name": "Spring"}


# -- 6. the dry run --------------------------------------------------------------------------------

def test_the_dry_run_pays_in_the_answer_and_writes_nothing(app, client, dash):
    push(client, dash.auth, summer_doc())
    events = [{"name": "GameSession", "category": "dices", "data": {"bet": 300}}] * 5
    before = snapshot(app)
    r = client.post(f"/dashboard/campaigns/{SUMMER}/simulate",
                    data={"events": json.dumps(events), "account": "tester", "platform": "wowhaus"},
                    headers={"X-CSRF-Token": dash.csrf, "HX-Request": "true"})
    assert r.status_code == 200
    frag = dom(r)
    [sim] = frag.elements
    assert sim.attrs["id"] == "simulation"
    assert snapshot(app) == before  # no ledger rows, events, users or states
    # The same inputs through the Management API's dry run pay the same.
    expected = ok(client.post(f"/api/v1/admin/campaigns/{SUMMER}/simulate", headers=dash.auth,
                              json={"account": "tester", "platform": "wowhaus", "events": events}))
    assert expected["paid"]["xp"] == 210  # roll_5 (105) and bet_500 (105)
    paid = expected["paid"]
    assert f"xp {paid['xp']}, ref_xp {paid['ref_xp']}, ugc_xp {paid['ugc_xp']}" in sim.text
    steps = sim.one("ol").all("li")
    assert len(steps) == 5
    assert [int(re.search(r"paid (\d+)", li.text).group(1)) for li in steps] == \
        [s["paid"] for s in expected["steps"]]
    assert "completed bet_500" in steps[1].text and "completed roll_5" in steps[4].text
    assert count(app, LedgerEntry) == 0 and count(app, Event) == 0


def test_the_dry_run_runs_the_draft_not_live(app, client, dash):
    push(client, dash.auth, summer_doc())
    draft = summer_doc()
    draft["quests"][0]["actions"][1]["xp"] = 1000
    push(client, dash.auth, draft, publish=False)
    events = [{"name": "GameSession", "category": "dices", "data": {"bet": 600}}]
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/simulate", {"events": json.dumps(events), "platform": "wowhaus"})
    # bet_500 pays 1050 in the draft (105 live), and crosses both milestones (20 + 100).
    assert r.status_code == 200 and "paid 1170, completed bet_500" in dom(r).one("ol").text
    expected = ok(client.post(f"/api/v1/admin/campaigns/{SUMMER}/simulate", headers=dash.auth,
                              json={"account": "dry-run", "platform": "wowhaus", "events": events}))
    assert expected["paid"]["xp"] == 1170


@pytest.mark.parametrize("events, message", [
    ("[{", "not valid JSON"),
    ('{"name": "GameSession"}', "paste a JSON list of events"),
    ('[{"category": "dices"}]', "paste a JSON list of events"),
    ("[1]", "paste a JSON list of events"),
])
def test_the_dry_run_answers_bad_input_with_a_400_fragment(app, client, dash, events, message):
    push(client, dash.auth, summer_doc())
    before = snapshot(app)
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/simulate", {"events": events})
    assert r.status_code == 400
    [sim] = dom(r).elements
    assert sim.attrs["id"] == "simulation" and message in sim.one("p", cls="dash-error").text
    assert snapshot(app) == before


# -- 7. invite codes -------------------------------------------------------------------------------

def code_rows(r) -> dict[str, list[str]]:
    section = dom(r).by_id("codes")
    return {tr.all("td")[0].text: [td.text for td in tr.all("td")[1:]] for tr in section.one("tbody").all("tr")}


def test_codes_are_generated_listed_claimed_released_and_exported(app, client, dash):
    push(client, dash.auth, summer_doc())
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/codes", {"count": "3", "prefix": "VIP", "max_uses": "2"},
                  follow_redirects=True)
    assert flashes(r, "success") == ["3 codes generated."]
    rows = code_rows(r)
    assert len(rows) == 3
    assert all(re.fullmatch(r"VIP-[A-Z0-9]{8}", c) for c in rows)
    assert all(v[0] == "0 / 2" and v[1] == "" for v in rows.values())
    code = sorted(rows)[0]

    # Claimed through the Campaign API, the code shows its user.
    ok(client.post("/api/v1/code", json={"code": code, "pid": SUMMER, "used_by": "alice", "platform": "discord"},
                   headers=dash.auth))
    r = dash.page(f"/dashboard/campaigns/{SUMMER}")
    rows = code_rows(r)
    assert rows[code][:2] == ["1 / 2", "alice (discord)"]
    release = dom(r).by_id("codes").all("form", action=f"/dashboard/campaigns/{SUMMER}/codes/{code}/release")
    assert len(release) == 1  # only used codes can be released

    # The CSV lists every code with its uses.
    r = dash.page(f"/dashboard/campaigns/{SUMMER}/codes.csv")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(html_of(r))))
    assert sorted(row["code"] for row in table) == sorted(rows)
    by_code = {row["code"]: row for row in table}
    assert (by_code[code]["uses"], by_code[code]["used_by"], by_code[code]["max_uses"]) == ("1", "alice@discord", "2")
    assert all(row["uses"] == "0" and row["used_by"] == "" for c, row in by_code.items() if c != code)

    # Release frees it: the API sees nobody, and it can be claimed again.
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/codes/{code}/release", follow_redirects=True)
    assert flashes(r, "success") == [f"Code {code} released (1 claims removed)."]
    assert code_rows(r)[code][:2] == ["0 / 2", ""]
    assert ok(client.get("/api/v1/code", query_string={"code": code, "pid": SUMMER}, headers=dash.auth)) == \
        {"used_by": []}
    ok(client.post("/api/v1/code", json={"code": code, "pid": SUMMER, "used_by": "bob", "platform": "discord"},
                   headers=dash.auth))


@pytest.mark.parametrize("used_by", ['=HYPERLINK("https://evil.test","x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_the_codes_csv_writes_a_formula_from_a_participant_as_text(app, client, dash, used_by):
    """OWASP CSV injection: a cell a spreadsheet would run starts with a single quote (the API
    trims accounts, so tab and CR starts are checked in tests/engine/reads/test_exports.py)."""
    push(client, dash.auth, summer_doc())
    dash.post(f"/dashboard/campaigns/{SUMMER}/codes", {"count": "1", "prefix": "VIP"})
    [code] = code_rows(dash.page(f"/dashboard/campaigns/{SUMMER}"))
    ok(client.post("/api/v1/code", json={"code": code, "pid": SUMMER, "used_by": used_by, "platform": "x"},
                   headers=dash.auth))
    [row] = list(csv.DictReader(io.StringIO(html_of(dash.page(f"/dashboard/campaigns/{SUMMER}/codes.csv")),
                                            newline="")))
    assert row["used_by"] == "'" + used_by + "@x"
    assert (row["code"], row["uses"]) == (code, "1")


@pytest.mark.parametrize("form, message", [
    ({"count": "0"}, "count must be between 1 and 1000"),
    ({"count": "1001"}, "count must be between 1 and 1000"),
    ({"count": "2", "prefix": "no spaces"}, "prefix must be"),
    ({"count": "2", "max_uses": "0"}, "max_uses must be between"),
    ({"count": "two"}, "whole numbers"),
    ({"count": "\u0663"}, "whole numbers"),
    ({"count": "1_0"}, "whole numbers"),
    ({"count": " 2 "}, "whole numbers"),
    ({"count": "2", "max_uses": "\u0662"}, "whole numbers"),
])
def test_bad_code_requests_flash_an_error_and_create_nothing(app, client, dash, form, message):
    push(client, dash.auth, summer_doc())
    before = snapshot(app)
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/codes", form, follow_redirects=True)
    assert r.status_code == 200
    assert any(message in f for f in flashes(r, "error")), flashes(r)
    assert snapshot(app) == before


# -- 8. settings: branding, e-mail, allowed origins ------------------------------------------------

SETTINGS = {"logo_url": "https://cdn.example/logo.svg", "primary_color": "#112233", "accent_color": "#445566",
            "email_subject": "Hi {name}, play now", "email_heading": "Your prize awaits, {name}",
            "email_body": "You have {balance} points.", "email_cta_text": "Spin it",
            "allowed_origins": "https://a.example\r\n\r\n https://b.example \r\n"}


def test_settings_are_saved_into_the_draft_and_live_is_untouched(app, client, dash):
    push(client, dash.auth, summer_doc())
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/settings", SETTINGS)
    assert r.status_code == 302 and r.location.endswith("#settings")
    draft = admin_campaign(client, dash.auth, SUMMER, "dev")["definition"]
    assert draft["branding"] == {"logo_url": "https://cdn.example/logo.svg", "primary_color": "#112233",
                                 "accent_color": "#445566"}
    assert draft["email"] == {"subject": "Hi {name}, play now", "heading": "Your prize awaits, {name}",
                              "body": "You have {balance} points.", "cta_text": "Spin it"}
    assert draft["widget"] == {"allowed_origins": ["https://a.example", "https://b.example"]}
    assert {k: v for k, v in draft.items() if k not in ("branding", "email", "widget")} == \
        {k: v for k, v in summer_doc().items() if k not in ("branding", "email", "widget")}
    assert admin_campaign(client, dash.auth, SUMMER, "live")["definition"] == summer_doc()
    # The form shows what was saved.
    page = dom(dash.page(f"/dashboard/campaigns/{SUMMER}"))
    assert page.one("input", name="primary_color").attrs["value"] == "#112233"
    assert page.by_id("email_subject").attrs["value"] == "Hi {name}, play now"
    assert page.by_id("allowed_origins").text.split() == ["https://a.example", "https://b.example"]
    # Emptying the origins means any site again; the widget section stays valid.
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/settings", {**SETTINGS, "allowed_origins": ""})
    assert admin_campaign(client, dash.auth, SUMMER, "dev")["definition"]["widget"] == {"allowed_origins": []}


@pytest.mark.parametrize("field, value, path", [
    ("primary_color", "red", "branding.primary_color"),
    ("accent_color", "#12345", "branding.accent_color"),
    ("allowed_origins", "not an origin", "widget.allowed_origins[0]"),
])
def test_invalid_settings_flash_an_error_and_leave_the_draft_unchanged(app, client, dash, field, value, path):
    push(client, dash.auth, summer_doc())
    before = snapshot(app)
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/settings", {**SETTINGS, field: value}, follow_redirects=True)
    assert r.status_code == 200
    errors = flashes(r, "error")
    assert errors and errors[0].startswith(f"{path}:"), errors
    assert snapshot(app) == before
    assert admin_campaign(client, dash.auth, SUMMER, "dev")["definition"] == summer_doc()


def test_the_email_preview_is_the_drafts_email_with_its_own_csp(app, client, dash):
    push(client, dash.auth, summer_doc())
    dash.post(f"/dashboard/campaigns/{SUMMER}/settings", {**SETTINGS, "email_heading": f"Hello {EVIL}"})
    r = dash.page(f"/dashboard/campaigns/{SUMMER}/email-preview")
    assert r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "frame-ancestors 'none'" not in csp
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = html_of(r)
    assert "Hello &lt;script&gt;" in body and EVIL not in body
    assert "You have 1200 points." in body and "Spin it" in body
    # The campaign page frames it.
    frame = dom(dash.page(f"/dashboard/campaigns/{SUMMER}")).one("iframe")
    assert frame.attrs["src"] == f"/dashboard/campaigns/{SUMMER}/email-preview"


class TestSendTestEmail:
    @pytest.fixture
    def smtp(self):
        with smtp_server() as server:
            yield server

    @pytest.fixture
    def app_config(self, smtp):
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_USER": "", "SMTP_PASSWORD": "",
                "SMTP_FROM": "Acme <rewards@acme.test>"}

    def test_send_test_email_delivers_the_drafts_email_to_the_operator(self, app, client, dash, smtp):
        push(client, dash.auth, summer_doc())
        dash.post(f"/dashboard/campaigns/{SUMMER}/settings", SETTINGS, follow_redirects=True)
        before = snapshot(app)
        r = dash.post(f"/dashboard/campaigns/{SUMMER}/test-email", follow_redirects=True)
        assert flashes(r, "success") == [f"Test e-mail sent to {OPERATOR}."]
        [got] = smtp.messages
        assert got.rcpt_tos == [OPERATOR]
        msg = got.message
        assert msg["To"] == OPERATOR and msg["Subject"] == "Hi Jane Example, play now"
        assert "Your prize awaits, Jane Example" in msg.get_body(("html",)).get_content()
        assert snapshot(app) == before

    def test_a_refusing_smtp_server_is_an_error_flash_not_a_500(self, app, client, dash, smtp):
        push(client, dash.auth, summer_doc())
        smtp.refuse("550 5.7.1 Relaying denied")
        r = dash.post(f"/dashboard/campaigns/{SUMMER}/test-email", follow_redirects=True)
        assert r.status_code == 200
        assert flashes(r, "success") == []
        [error] = flashes(r, "error")
        assert error.startswith("The test e-mail could not be sent") and "Relaying denied" in error
        assert smtp.messages == []


# -- 9. analytics ----------------------------------------------------------------------------------

def chart_bars(page: Node) -> dict[str, dict[str, int]]:
    """{chart label: {day: value}} from each SVG's <rect><title>day: value</title>."""
    out = {}
    for fig in page.all("figure", cls="dash-chart"):
        label = fig.one("figcaption").one("strong").text
        bars = {}
        for rect in fig.one("svg").all("rect"):
            day, _, value = rect.one("title").text.partition(": ")
            bars[day] = int(value)
        out[label] = bars
    return out


def users_rows(node: Node) -> list[list[str]]:
    return [[td.text for td in tr.all("td")] for tr in node.by_id("users").one("tbody").all("tr")]


@pytest.fixture
def busy(app, client, dash, clock):
    """summer_games with 30 rewarded players yesterday and alice's play today."""
    push(client, dash.auth, summer_doc())
    for i in range(30):
        reward(client, dash.auth, f"player-{i:02d}", 10 + i, f"r{i}")  # 735 in all
    clock.advance(days=1)
    ok(client.post("/api/v1/action/value", json={"account": "alice", "platform": "wowhaus", "pid": SUMMER,
                                                 "aid": "daily_login"}, headers=dash.auth))
    for _ in range(5):
        event(client, dash.auth, "alice", data={"bet": 300})
    assert dash.login(OPERATOR).status_code == 302  # a day idle ended the session (8 hours)
    return dash


def test_analytics_show_totals_three_charts_and_top_actions(app, client, busy, clock):
    r = busy.page(f"/dashboard/campaigns/{SUMMER}/analytics")
    page = dom(r)
    points = ok(client.get("/api/v1/campaign/points", query_string={"pid": SUMMER}, headers=busy.auth))
    alice = balance(client, busy.auth, "alice", "wowhaus")
    alice_total = alice["xp"] + alice["ref_xp"] + alice["ugc_xp"]
    assert alice_total == 75 + 105 + 105 + 20  # daily login, roll_5, bet_500, the 250 milestone
    assert points["total_points"] == 735 + alice_total
    assert page.by_id("stat-points").text == str(points["total_points"])
    stats = {d.all("span")[0].text: d.one("strong").text for d in page.all("div", cls="dash-stat")}
    assert stats["Participants"] == "31" and stats["Active, last 7 days"] == "31"
    assert stats["Season"] == points["season"]["name"]

    charts = chart_bars(page)
    assert list(charts) == ["Points awarded", "Events", "Active users"]
    today = (START + timedelta(days=1)).date().isoformat()
    assert all(len(bars) == 30 and list(bars)[-1] == today for bars in charts.values())
    assert charts["Points awarded"][today] == alice_total and charts["Points awarded"][TODAY] == 735
    assert charts["Events"][today] == 5 and charts["Events"][TODAY] == 0
    assert charts["Active users"][today] == 1 and charts["Active users"][TODAY] == 30
    assert sum(charts["Points awarded"].values()) == points["total_points"]
    # A bar's height follows its value: the peak is the tallest.
    svg = page.all("figure", cls="dash-chart")[0].one("svg")
    heights = {r.one("title").text.split(": ")[0]: float(r.attrs["height"]) for r in svg.all("rect")}
    assert heights[TODAY] == max(heights.values()) > heights[today] > 0

    top = {tr.one("code").text: [td.text for td in tr.all("td")][1:]
           for tr in page.one("section", aria_labelledby="top-title").one("tbody").all("tr")}
    assert top == {"daily_login": ["1", "75"], "roll_5": ["1", "105"], "bet_500": ["1", "105"]}


def test_the_users_table_searches_by_account_and_pages_by_25(app, client, busy):
    base = f"/dashboard/campaigns/{SUMMER}/analytics"
    page = dom(busy.page(base))
    rows = users_rows(page)
    assert len(rows) == 25 and rows[0][:3] == ["alice", "wowhaus", "305"]
    assert rows[1][:3] == ["player-29", "discord", "39"]
    assert "Page 1 of 2" in page.by_id("users").text
    assert page.by_id("users").one("a", hx_target="#users").text == "Next"
    r = busy.page(base, query_string={"page": 2})
    rows2 = users_rows(dom(r))
    assert [row[0] for row in rows2] == [f"player-{i:02d}" for i in range(5, -1, -1)]
    assert "Page 2 of 2" in dom(r).by_id("users").text

    # htmx asks for the #users fragment only.
    r = busy.page(base, query_string={"q": "player-1"}, headers={"HX-Request": "true"})
    assert "HX-Request" in [v.strip() for v in r.headers["Vary"].split(",")]
    frag = dom(r)
    assert [n.attrs.get("id") for n in frag.elements] == ["users"]
    assert "<html" not in html_of(r) and "dash-chart" not in html_of(r)
    assert sorted(row[0] for row in users_rows(frag)) == [f"player-1{i}" for i in range(10)]
    assert "10 participants matching" in frag.by_id("users").text
    # The full page varies too, so a cache never serves one for the other.
    r = busy.page(base, query_string={"q": "ALICE"})
    assert "HX-Request" in r.headers["Vary"] and [row[0] for row in users_rows(dom(r))] == ["alice"]
    # LIKE wildcards are searched literally.
    for q in ("%", "_", "player\\"):
        r = busy.page(base, query_string={"q": q}, headers={"HX-Request": "true"})
        assert users_rows(dom(r)) == [["No participants yet."]], q
    # Silly pages do not break it.
    for p in ("0", "-3", "x", "99"):
        assert busy.client.get(base, query_string={"page": p}).status_code == 200


def test_analytics_of_an_unpublished_campaign_say_so(app, client, dash):
    push(client, dash.auth, {"id": "spring", "name": "Spring"}, publish=False)
    r = dash.page("/dashboard/campaigns/spring/analytics")
    assert "Not published yet" in dom(r).one("h1").text


# -- 10. a user's points and adjustments -----------------------------------------------------------

def sources_on(r) -> dict[str, int]:
    section = dom(r).one("section", aria_labelledby="src-title")
    return {tr.one("th").text: int(tr.one("td").text) for tr in section.all("tr")}


def test_the_user_page_lists_points_by_source(app, client, dash):
    push(client, dash.auth, summer_doc())
    a = dash.auth
    reward(client, a, "bob", 5, "b1")
    ok(client.post("/api/v1/user/referrer", json={"account": "alice", "platform": "discord", "pid": SUMMER,
                                                 "ref_account": "bob", "ref_platform": "discord"}, headers=a))
    ok(client.post("/api/v1/action/value", json={"account": "alice", "platform": "discord", "pid": SUMMER,
                                                 "aid": "daily_login"}, headers=a))
    reward(client, a, "alice", 100, "r1")
    reward(client, a, "alice", 30, "u1", kind="ugc")
    ok(client.post("/api/v1/user/withdraw", json={"account": "alice", "platform": "discord", "pid": SUMMER,
                                                 "id": "w1", "xp": 40}, headers=a))
    uid = user_id(app, dash.org_id, "alice", "discord")
    r = dash.post(f"/dashboard/campaigns/{SUMMER}/users/{uid}/adjust", {"amount": "10", "reason": "bug"},
                  follow_redirects=True)
    sources = sources_on(r)
    assert list(sources)[:7] == ["task", "referral", "ugc", "reward", "withdraw", "instant win", "adjustment"]
    assert sources == {"task": 75, "referral": 25, "ugc": 30, "reward": 100, "withdraw": -40, "instant win": 0,
                       "adjustment": 10}
    b = balance(client, a, "alice")
    assert dom(r).by_id("user-total").text == str(b["xp"] + b["ref_xp"] + b["ugc_xp"]) == "200"
    assert dom(r).one("h1").text.startswith("alice")


def test_an_adjustment_is_a_ledger_entry_with_operator_and_reason_seen_by_every_api(app, client, dash):
    a = dash.auth
    reward(client, a, "u-123", 100, "r1", pid="default", platform="internal")
    uid = user_id(app, dash.org_id, "u-123", "internal")
    r = dash.post(f"/dashboard/campaigns/default/users/{uid}/adjust",
                  {"amount": "50", "reason": "  Sorry about the outage  "})
    assert r.status_code == 302 and path_of(r.location) == f"/dashboard/campaigns/default/users/{uid}"
    r = dash.page(r.location)
    assert flashes(r, "success") == ["Adjusted by +50: the balance is now 150."]
    assert dom(r).by_id("user-total").text == "150"
    with app.app_context():
        [entry] = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjustment")).all()
        assert (entry.user_id, entry.amount, entry.env) == (uid, 50, "live")
        assert entry.meta == {"operator": OPERATOR, "reason": "Sorry about the outage"}
        default = db.session.scalars(select(Campaign).where(Campaign.org_id == dash.org_id,
                                                            Campaign.pid == "default")).one()
        assert entry.campaign_id == default.id
    ledger_rows = [[td.text for td in tr.all("td")]
                   for tr in dom(r).one("section", aria_labelledby="ledger-title").one("tbody").all("tr")]
    assert ledger_rows[0][1:3] == ["adjustment", "+50"] and "Sorry about the outage" in ledger_rows[0][3]

    # Every dialect sees the new balance.
    assert balance(client, a, "u-123", "internal", "default") == {"xp": 150, "ref_xp": 0, "ugc_xp": 0}
    u = client.get("/v1/users/u-123", headers={"X-API-Secret": dash.key}).json["data"]
    assert (u["balance"], u["totalEarned"], u["totalSpent"]) == (150, 150, 0)
    p = client.get("/api/v1/gamify/participants/u-123", headers={"X-API-Key": dash.key}).json
    assert p["points"] == {"balance": 150, "total_earned": 150, "total_spent": 0}

    # A debit within the balance works too.
    r = dash.post(f"/dashboard/campaigns/default/users/{uid}/adjust", {"amount": "-30", "reason": "clawback"},
                  follow_redirects=True)
    assert flashes(r, "success") == ["Adjusted by -30: the balance is now 120."]
    assert client.get("/v1/users/u-123", headers={"X-API-Secret": dash.key}).json["data"]["balance"] == 120


@pytest.mark.parametrize("form, message", [
    ({"amount": "-1000", "reason": "too much"}, "insufficient balance"),
    ({"amount": "50", "reason": ""}, "a reason is required"),
    ({"amount": "50", "reason": "   "}, "a reason is required"),
    ({"amount": "50"}, "a reason is required"),
    ({"amount": "50", "reason": "x" * 501}, "at most 500 characters"),
    ({"amount": "fifty", "reason": "typo"}, "whole number"),
    ({"amount": "", "reason": "typo"}, "whole number"),
    ({"amount": "\u0665\u0660", "reason": "arabic-indic digits"}, "whole number"),
    ({"amount": "5_0", "reason": "underscore"}, "whole number"),
    ({"amount": " 50 ", "reason": "spaces"}, "whole number"),
    ({"amount": "+50", "reason": "plus"}, "whole number"),
    ({"amount": "0", "reason": "nothing"}, "non-zero"),
    ({"amount": "99999999999999", "reason": "absurd"}, "at most"),
])
def test_a_refused_adjustment_flashes_an_error_and_changes_nothing(app, client, dash, form, message):
    reward(client, dash.auth, "u-123", 100, "r1", pid="default", platform="internal")
    uid = user_id(app, dash.org_id, "u-123", "internal")
    before = snapshot(app)
    r = dash.post(f"/dashboard/campaigns/default/users/{uid}/adjust", form, follow_redirects=True)
    assert r.status_code == 200
    errors = flashes(r, "error")
    assert len(errors) == 1 and message in errors[0], errors
    assert snapshot(app) == before
    assert dom(r).by_id("user-total").text == "100"


def test_the_user_page_of_an_unknown_user_is_404(app, client, dash):
    assert dash.client.get("/dashboard/campaigns/default/users/999999").status_code == 404
    assert dash.post("/dashboard/campaigns/default/users/999999/adjust",
                     {"amount": "5", "reason": "x"}).status_code == 404


# -- 11. API keys ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, prefix", [("secret", "qk_live_"), ("publishable", "pk_live_")])
def test_a_new_key_is_shown_once_listed_by_prefix_works_and_revoking_ends_it(app, client, dash, kind, prefix):
    r = dash.post("/dashboard/keys", {"kind": kind, "label": "production server"})
    assert r.status_code == 200
    raw = dom(r).by_id("new-key").attrs["value"]
    assert raw.startswith(prefix) and len(raw) >= len(prefix) + 43
    assert html_of(r).count(raw) == 1  # in the one-time box only
    assert r.headers["Cache-Control"] == "no-store"

    listing = dash.page("/dashboard/keys")
    assert raw not in html_of(listing) and not dom(listing).all(id="new-key")
    rows = {tr.all("td")[0].text: tr for tr in dom(listing).one("tbody").all("tr")}
    [shown] = [k for k in rows if rows[k].all("td")[1].text == "production server"]
    # Only the lookup prefix: 12 of the 43 random characters.
    assert shown.endswith("…") and raw.startswith(shown[:-1]) and len(shown[:-1]) == len(prefix) + 12
    assert rows[shown].all("td")[2].text == kind

    if kind == "secret":
        def works():
            return client.get("/api/v1/campaign/points", query_string={"pid": "default"},
                              headers={"Authorization": f"Bearer {raw}"}).status_code
    else:
        def works():
            return client.get("/v1/games", headers={"X-API-Key": raw}).status_code
    assert works() == 200
    [form] = rows[shown].all("form")
    r = dash.post(form.attrs["action"], follow_redirects=True)
    assert flashes(r, "success") == ["Key revoked: it stops working at once."]
    assert works() == 401
    rows = {tr.all("td")[0].text: tr for tr in dom(r).one("tbody").all("tr")}
    assert rows[shown].all("td")[4].text.startswith("revoked") and not rows[shown].all("form")
    # The organization's other key is untouched.
    assert client.get("/api/v1/campaign/points", query_string={"pid": "default"},
                      headers=dash.auth).status_code == 200


def test_a_key_label_is_trimmed_and_bounded(app, client, dash):
    dash.post("/dashboard/keys", {"kind": "secret", "label": "  " + "L" * 300})
    with app.app_context():
        labels = db.session.scalars(select(ApiKey.label).where(ApiKey.label.is_not(None))).all()
    assert labels == ["L" * 256]


# -- 12. webhooks ----------------------------------------------------------------------------------

def test_the_webhooks_page_lists_hooks_and_messages_and_redelivers(app, client, dash, clock):
    register_hook(client, dash.auth, "prod")
    reward(client, dash.auth, "alice", 10, "r1", pid="default")
    # The worker tries once against a port where nothing listens.
    settings = webhook_delivery.Settings(allow_private=True)
    with app.app_context():
        assert webhook_delivery.deliver_due(db.session, clock.now(), settings) >= 1
    [msg] = messages_of(app, dash.org_id)
    assert msg.status == "pending" and msg.attempts == 1 and msg.next_attempt_at > clock.now()
    with app.app_context():  # later, every retry failed
        db.session.execute(update(Message).where(Message.id == msg.id).values(status="failed", attempts=10))
        db.session.commit()

    page = dom(dash.page("/dashboard/webhooks"))
    section = page.one("section", aria_label="Hook prod")
    assert "http://127.0.0.1:" in section.one("h2").text and "active" in section.one("p").text
    [row] = section.one("tbody").all("tr")
    cells = [td.text for td in row.all("td")]
    assert cells[:3] == [msg.msg_id, "points.rewarded", "failed"]
    assert "ms)" in cells[3]  # the attempt, with its latency
    r = dash.post(row.one("form").attrs["action"], follow_redirects=True)
    assert flashes(r, "success") == ["Message queued for delivery again."]
    [again] = messages_of(app, dash.org_id)
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, clock.now())
    [row] = dom(r).one("section", aria_label="Hook prod").one("tbody").all("tr")
    assert row.all("td")[2].text == "pending"
    # The Management API's log agrees.
    log = ok(client.get("/api/v1/admin/hooks/prod/messages", headers=dash.auth))
    assert [(m["id"], m["status"]) for m in log["messages"]] == [(msg.msg_id, "pending")]


def test_redelivering_a_message_a_worker_is_sending_flashes_an_error(app, client, dash, clock):
    register_hook(client, dash.auth, "prod")
    reward(client, dash.auth, "alice", 10, "r1", pid="default")
    with app.app_context():  # a worker holds the lease
        db.session.execute(update(Message).values(leased_until=clock.now() + timedelta(seconds=30)))
        db.session.commit()
    [msg] = messages_of(app, dash.org_id)
    before = snapshot(app)
    r = dash.post(f"/dashboard/webhooks/messages/{msg.msg_id}/redeliver", follow_redirects=True)
    assert r.status_code == 200
    assert flashes(r, "success") == [] and any("being delivered right now" in f for f in flashes(r, "error"))
    assert snapshot(app) == before


def test_redelivering_an_unknown_message_is_404(app, client, dash):
    assert dash.post("/dashboard/webhooks/messages/msg_nope/redeliver").status_code == 404


def test_without_hooks_the_webhooks_page_shows_how_to_register_one(app, client, dash):
    page = dom(dash.page("/dashboard/webhooks"))
    assert "No webhooks yet" in page.one("main").text and "/api/v1/hook" in page.one("pre").text


# -- 13. the empty state ---------------------------------------------------------------------------

def test_a_new_organization_without_keys_sees_the_getting_started_snippets(app, client):
    with app.app_context():
        org = organizations.create_organization(db.session, "fresh", START)
        db.session.commit()
        org_id = org.id
    make_operator(app, org_id, "new@fresh.test")
    d = Dash(client)
    assert d.login("new@fresh.test").status_code == 302
    page = dom(d.page("/dashboard"))
    [row] = page.one("tbody").all("tr")
    assert row.one("code").text == "default" and row.all("a")[0].text == "fresh"
    start = page.one("section", cls="dash-start")
    assert start.one("h2").text == "Getting started"
    snippets = [pre.text for pre in start.all("pre")]
    assert len(snippets) == 2
    public = app.config["PUBLIC_URL"].rstrip("/")
    assert f"-X PUT {public}/api/v1/admin/campaigns/spring" in snippets[0]
    assert f"{public}/api/v1/admin/campaigns/spring/publish" in snippets[0]
    assert snippets[1] == f'<script src="{public}/embed.js" data-campaign="spring" data-user-token="TOKEN" ' \
                          'async></script>'
    assert page.all("a", href="/dashboard/keys")
    assert "No keys yet." in dom(d.page("/dashboard/keys")).one("tbody").text


def test_an_organization_with_keys_and_campaigns_does_not_see_getting_started(app, client, dash):
    push(client, dash.auth, summer_doc())
    page = dom(dash.page("/dashboard"))
    assert not page.all("section", cls="dash-start")
    names = [tr.all("a")[0].text for tr in page.one("tbody").all("tr")]
    assert names == ["acme", "Summer Gaming Challenge"]


# -- 14. escaping ----------------------------------------------------------------------------------

def test_names_with_markup_are_escaped_on_every_page(app, client, dash):
    a = dash.auth
    doc = {"id": "evil", "name": EVIL, "description": EVIL,
           "actions": [{"id": "hi", "name": EVIL, "type": "api_call", "xp": 10}]}
    push(client, a, doc)
    push(client, a, {**doc, "name": EVIL + " v2"}, publish=False)  # a diff with markup
    ok(client.get("/api/v1/token", query_string={"account": "mallory", "platform": "discord", "name": EVIL},
                  headers=a))
    ok(client.post("/api/v1/action/value", json={"account": "mallory", "platform": "discord", "pid": "evil",
                                                 "aid": "hi"}, headers=a))
    uid = user_id(app, dash.org_id, "mallory", "discord")
    dash.post("/dashboard/keys", {"kind": "secret", "label": EVIL})
    pages = ["/dashboard", "/dashboard/campaigns/evil", "/dashboard/campaigns/evil/analytics",
             f"/dashboard/campaigns/evil/users/{uid}", "/dashboard/keys"]
    for path in pages:
        r = dash.page(path)
        body = html_of(r)
        assert EVIL not in body, path
        assert EVIL_ESCAPED in body or "\\u003cscript\\u003e" in body, path
        assert EVIL in dom(r).one("main").text, path  # shown, as text
    campaign = dom(dash.page("/dashboard/campaigns/evil"))
    assert campaign.one("h1").text.startswith(EVIL)
    assert json.loads(campaign.by_id("definition").text)["name"] == EVIL + " v2"
    user = dom(dash.page(f"/dashboard/campaigns/evil/users/{uid}"))
    assert user.one("h1").text.startswith(EVIL)
    # No script element but the dashboard's own.
    for path in pages:
        scripts = dom(dash.page(path)).all("script")
        assert [s.attrs.get("src") for s in scripts] == ["/static/js/htmx-2.0.11.min.js"], path
    # The dry run echoes its input escaped.
    r = dash.post("/dashboard/campaigns/evil/simulate", {"events": json.dumps([{"name": EVIL}])})
    assert r.status_code == 200 and EVIL not in html_of(r)
    r = dash.post("/dashboard/campaigns/evil/simulate", {"events": EVIL})
    assert r.status_code == 400 and EVIL not in html_of(r)


# -- input that no database column can hold --------------------------------------------------------

def test_nul_characters_in_any_field_are_refused_with_a_400_not_a_500(app, client, dash):
    """PostgreSQL text and JSON cannot hold U+0000: the dashboard refuses it on both databases alike,
    as the APIs do."""
    reward(client, dash.auth, "u-1", 10, "r1", pid="default", platform="internal")
    uid = user_id(app, dash.org_id, "u-1", "internal")
    before = snapshot(app)
    nul = "a\x00b"
    for path, form in [
        ("/dashboard/keys", {"kind": "secret", "label": nul}),
        (f"/dashboard/campaigns/default/users/{uid}/adjust", {"amount": "5", "reason": nul}),
        ("/dashboard/campaigns/default/settings", {"email_subject": nul}),
        ("/dashboard/campaigns/default/simulate", {"events": "[]", "account": nul}),
        ("/dashboard/campaigns/default/codes", {"count": "1", "prefix": nul}),
    ]:
        r = dash.post(path, form)
        assert r.status_code == 400, (path, r.status_code)
    for path in ("/dashboard/campaigns/a%00b", "/dashboard/campaigns/default/analytics?q=a%00b"):
        assert dash.client.get(path).status_code == 400, path
    assert snapshot(app) == before
    other = Dash(app.test_client())
    r = other.login("ops\x00@acme.test", "whatever")
    assert r.status_code == 400
    assert snapshot(app) == before


def test_ids_and_pages_too_large_for_the_database_are_404_or_clamped_not_a_500(app, client, dash):
    huge = "9" * 20
    assert dash.client.get(f"/dashboard/campaigns/default/users/{huge}").status_code == 404
    assert dash.post(f"/dashboard/campaigns/default/users/{huge}/adjust", {"amount": "1", "reason": "x"}).status_code \
        == 404
    assert dash.post(f"/dashboard/keys/{huge}/revoke").status_code == 404
    for page in (huge, str(2**63 - 1)):
        r = dash.client.get("/dashboard/campaigns/default/analytics", query_string={"page": page})
        assert r.status_code == 200 and users_rows(dom(r)) == [["No participants yet."]]


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_json_escapes_no_database_can_store_are_refused_in_the_editor_and_the_dry_run(app, client, dash,
                                                                                      escape):
    before = snapshot(app)
    r = dash.post("/dashboard/campaigns/default/draft",
                  {"definition": '{"id": "default", "name": "a%sb"}' % escape})
    assert r.status_code == 400
    [(path, message)] = issues_on(r)
    assert path == "(document)" and message.startswith("not valid JSON")
    r = dash.post("/dashboard/campaigns/default/simulate", {"events": '[{"name": "a%sb"}]' % escape})
    assert r.status_code == 400 and dom(r).one("p", cls="dash-error").text.startswith("not valid JSON")
    assert snapshot(app) == before


def test_json_nested_too_deeply_is_refused_in_the_editor_and_the_dry_run(app, client, dash):
    before = snapshot(app)
    deep = "[" * 100_000 + "]" * 100_000
    r = dash.post("/dashboard/campaigns/default/draft", {"definition": deep})
    assert r.status_code == 400 and issues_on(r)[0][1].startswith("not valid JSON")
    r = dash.post("/dashboard/campaigns/default/simulate", {"events": deep})
    assert r.status_code == 400 and dom(r).one("p", cls="dash-error").text.startswith("not valid JSON")
    assert snapshot(app) == before


@pytest.mark.parametrize("events, message", [
    ('[{"name": "%s"}]' % ("x" * 257), "at most 256"),
    ('[{"name": ""}]', "[0].name"),
    ('[{"name": "x", "category": 5}]', "[0].category"),
    ('[{"name": "x", "data": [1, 2]}]', "[0].data"),
    (json.dumps([{"name": "x"}] * 1001), "1,000"),
])
def test_the_dry_run_checks_events_like_the_management_api(app, client, dash, events, message):
    r = dash.post("/dashboard/campaigns/default/simulate", {"events": events})
    assert r.status_code == 400
    assert message in dom(r).one("p", cls="dash-error").text
    api = client.post("/api/v1/admin/campaigns/default/simulate", headers=dash.auth,
                      json={"account": "a", "platform": "internal", "events": json.loads(events)})
    assert api.status_code == 400


# -- 15. headers -----------------------------------------------------------------------------------

def test_dashboard_pages_may_not_be_framed(app, client, world):
    make_operator(app, world["org_id"], OPERATOR)
    d = Dash(client)
    logged_out = client.get("/dashboard/login")
    assert d.login(OPERATOR).status_code == 302
    responses = [("/dashboard/login", logged_out)]
    for rule in dashboard_rules(app):
        if "GET" in rule.methods and rule.endpoint != "dashboard.email_preview":
            url = url_of(app, rule, world["ids"])
            responses.append((url, d.page(url)))
    responses.append(("keys POST", d.post("/dashboard/keys", {"kind": "secret"})))
    responses.append(("404", d.client.get("/dashboard/campaigns/nope")))
    responses.append(("400", d.post("/dashboard/keys", csrf=False)))
    assert len(responses) >= 10
    for what, r in responses:
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, what
        assert r.headers["X-Frame-Options"] == "DENY", what
        assert r.headers["X-Content-Type-Options"] == "nosniff", what
        assert r.headers["Cache-Control"] == "no-store", what
        if r.mimetype == "text/html":
            assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1], what


def test_a_user_id_in_other_scripts_digits_is_not_a_path(app, client, dash):
    """Path converters take ASCII digits only: /users/٣ is not /users/3."""
    reward(client, dash.auth, "u-123", 100, "r1", pid="default", platform="internal")
    uid = user_id(app, dash.org_id, "u-123", "internal")
    dash.page(f"/dashboard/campaigns/default/users/{uid}")
    arabic = str(uid).translate(str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664"
                                                           "\u0665\u0666\u0667\u0668\u0669"))
    dash.page(f"/dashboard/campaigns/default/users/{arabic}", status=404)
    r = dash.post(f"/dashboard/campaigns/default/users/{arabic}/adjust", {"amount": "5", "reason": "x"})
    assert r.status_code == 404
    assert balance(client, dash.auth, "u-123", "internal", "default")["xp"] == 100


def test_revoking_a_users_widget_tokens_from_the_user_page(app, client, dash):
    push(client, dash.auth, summer_doc())
    q = {"account": "alice", "platform": "discord"}
    t = ok(client.get("/api/v1/token", query_string=q, headers=dash.auth))["token"]
    bob = ok(client.get("/api/v1/token", query_string={**q, "account": "bob"}, headers=dash.auth))["token"]
    assert client.get(f"/widget/{SUMMER}", query_string={"user_token": t}).status_code == 200
    uid = user_id(app, dash.org_id, "alice", "discord")
    page = dash.page(f"/dashboard/campaigns/{SUMMER}/users/{uid}")
    action = f"/dashboard/campaigns/{SUMMER}/users/{uid}/revoke-tokens"
    assert len(dom(page).all("form", action=action)) == 1
    r = dash.post(action, follow_redirects=True)
    assert flashes(r, "success") == [
        "Every widget token of this user is revoked: the widget asks the partner for a new one."]
    assert client.get(f"/widget/{SUMMER}", query_string={"user_token": t}).status_code == 401
    assert client.get(f"/widget/{SUMMER}", query_string={"user_token": bob}).status_code == 200
    new = ok(client.get("/api/v1/token", query_string=q, headers=dash.auth))["token"]
    assert client.get(f"/widget/{SUMMER}", query_string={"user_token": new}).status_code == 200
