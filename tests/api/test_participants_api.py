"""The Participants API (/api/v1/gamify, X-API-Key; SPEC §5, participants-api.txt).

Run against the default example (examples/default-example.json) published as
the organization's `default` campaign: order_paid pays floor(metadata.amount),
daily_login pays 10, the milestone first_1000 pays 50 at 1000 total_earned,
tiers bronze 0 / silver 1000 / gold 5000 / platinum 10000, coffee costs 300
(quantity 100), streak days are New York days.
"""
from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.ledger import sum_entries
from extensions import db
from models import (Achievement, Balance, CatalogClaim, CatalogStock, Event, EventCount,
                    IdempotencyRecord, LedgerEntry, Streak, User)
from tests.conftest import START, make_org

from .quest_helpers import run_in_threads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = "/api/v1/gamify"
NY = ZoneInfo("America/New_York")
T0 = "2026-11-22T12:00:00Z"  # START as every *_at field writes it

# The documented profile: the union of the fields of both examples
# (create's answer has created_at, GET's has first_seen_at and last_seen_at).
PROFILE_KEYS = {"participant_id", "display_name", "avatar_url", "attributes", "points", "tier",
                "badges", "streaks", "rewards_claimed", "total_events", "first_seen_at",
                "last_seen_at", "is_active", "created_at"}
POINTS_KEYS = {"balance", "total_earned", "total_spent"}
TIER_KEYS = {"code", "name", "level", "color", "achieved_at", "next_tier"}
NEXT_TIER_KEYS = {"code", "name", "points_required", "points_remaining"}
PROFILE_BADGE_KEYS = {"code", "name", "rarity", "earned", "earned_at"}
PROFILE_STREAK_KEYS = {"current", "longest", "last_activity_at", "freezes"}
STATE_SECTIONS = {"points", "tier", "badges", "streaks", "challenges", "rewards"}
EVENT_KEYS = {"participant_id", "event_type", "points_earned", "badges_earned", "tier", "duplicate"}
CLAIM_KEYS = {"code", "name", "cost", "claimed_at", "points"}

# Every table a Participants API write may touch.
WRITTEN = (User, Event, EventCount, LedgerEntry, Balance, Achievement, Streak, CatalogClaim,
           CatalogStock, IdempotencyRecord)


def default_example() -> dict:
    return json.loads((EXAMPLES / "default-example.json").read_text())


@pytest.fixture
def app_config():
    return {"RNG": random.Random(1234)}


def publish(client, auth, doc: dict) -> None:
    r = client.put("/api/v1/admin/campaigns/default", json=doc, headers=auth)
    assert r.status_code == 200, r.json
    r = client.post("/api/v1/admin/campaigns/default/publish", headers=auth)
    assert r.status_code == 200, r.json


@pytest.fixture
def gm(client, auth, api_key):
    """The default example published as `default`; the Participants API headers."""
    publish(client, auth, default_example())
    return {"X-API-Key": api_key}


def with_coffee_quantity(quantity: int) -> dict:
    doc = copy.deepcopy(default_example())
    coffee = next(r for r in doc["rewards"] if r["code"] == "coffee")
    coffee["quantity"] = quantity
    return doc


# -- request helpers ----------------------------------------------------------------

def create(client, h, pid="user_123", **body):
    return client.post(f"{BASE}/participants", json={"participant_id": pid, **body}, headers=h)


def profile(client, h, pid="user_123"):
    r = client.get(f"{BASE}/participants/{pid}", headers=h)
    assert r.status_code == 200, r.json
    return r.json


def patch(client, h, pid="user_123", **body):
    return client.patch(f"{BASE}/participants/{pid}", json=body, headers=h)


def state(client, h, pid="user_123", include=None):
    qs = {} if include is None else {"include": include}
    return client.get(f"{BASE}/participants/{pid}/state", query_string=qs, headers=h)


def send(client, h, event_type, pid="user_123", headers=None, **body):
    return client.post(f"{BASE}/events", json={"participant_id": pid, "event_type": event_type, **body},
                       headers={**h, **(headers or {})})


def order(client, h, amount, pid="user_123", **body):
    r = send(client, h, "order_paid", pid, properties={"amount": amount}, **body)
    assert r.status_code == 201, r.json
    return r.json


def claim(client, h, code="coffee", pid="user_123"):
    return client.post(f"{BASE}/participants/{pid}/rewards", json={"code": code}, headers=h)


def error_of(r, status: int, code: str) -> str:
    """The message, after checking the status and the {"error": {code, message}} envelope."""
    assert r.status_code == status, (r.status_code, r.get_json())
    body = r.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return body["error"]["message"]


def row_counts(app) -> dict:
    with app.app_context():
        return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in WRITTEN}


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def ny(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A New York wall-clock time in 2026 (EST, UTC-5, after the November DST change)."""
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


# -- 1. create, profile, PATCH, state -----------------------------------------------

DOC_CREATE = {"display_name": "Jane Doe", "avatar_url": "https://example.com/avatar.png",
              "attributes": {"plan": "premium", "signup_source": "referral"}}


def test_create_answers_201_with_the_documented_profile_of_a_new_participant(client, gm):
    r = create(client, gm, **DOC_CREATE)
    assert r.status_code == 201, r.json
    p = r.json
    assert set(p) == PROFILE_KEYS
    assert (p["participant_id"], p["display_name"], p["avatar_url"], p["attributes"]) == \
        ("user_123", "Jane Doe", "https://example.com/avatar.png",
         {"plan": "premium", "signup_source": "referral"})
    assert p["points"] == {"balance": 0, "total_earned": 0, "total_spent": 0}
    assert (p["badges"], p["streaks"], p["rewards_claimed"], p["total_events"], p["is_active"]) == \
        ([], None, 0, 0, True)
    assert p["created_at"] == p["first_seen_at"] == p["last_seen_at"] == T0
    # Bronze needs 0 points: a new participant of the default example is bronze already.
    assert set(p["tier"]) == TIER_KEYS and set(p["tier"]["next_tier"]) == NEXT_TIER_KEYS
    assert p["tier"] == {"code": "bronze", "name": "Bronze", "level": 1, "color": "#CD7F32",
                         "achieved_at": T0,
                         "next_tier": {"code": "silver", "name": "Silver", "points_required": 1000,
                                       "points_remaining": 1000}}
    assert profile(client, gm) == p  # GET answers the same profile


def test_create_without_tiers_answers_the_documents_example_exactly(client, api_key):
    # The built-in default campaign ({"id": "default", "name": ...}) has no tiers,
    # badges or streaks: the answer is the document's, plus the profile-only fields.
    r = create(client, {"X-API-Key": api_key}, **DOC_CREATE)
    assert r.status_code == 201, r.json
    assert r.json == {
        "participant_id": "user_123", "display_name": "Jane Doe",
        "avatar_url": "https://example.com/avatar.png",
        "attributes": {"plan": "premium", "signup_source": "referral"},
        "points": {"balance": 0, "total_earned": 0, "total_spent": 0},
        "tier": None, "badges": [], "streaks": None, "rewards_claimed": 0, "total_events": 0,
        "is_active": True, "created_at": T0, "first_seen_at": T0, "last_seen_at": T0,
    }


def test_only_participant_id_is_required_to_create(client, gm):
    r = create(client, gm, pid="bare")
    assert r.status_code == 201, r.json
    assert (r.json["display_name"], r.json["avatar_url"], r.json["attributes"]) == (None, None, {})


def test_second_create_answers_200_and_merges_attributes_key_by_key(app, client, gm):
    assert create(client, gm, **DOC_CREATE).status_code == 201
    users = row_counts(app)["users"]
    r = create(client, gm, display_name="Jane Smith",
               attributes={"plan": "enterprise", "signup_source": None, "team_id": "team_42"})
    assert r.status_code == 200, r.json
    assert set(r.json) == PROFILE_KEYS
    assert r.json["display_name"] == "Jane Smith"
    assert r.json["avatar_url"] == "https://example.com/avatar.png"  # not sent: kept
    assert r.json["attributes"] == {"plan": "enterprise", "team_id": "team_42"}  # null removed the key
    assert r.json["created_at"] == T0
    assert row_counts(app)["users"] == users
    assert profile(client, gm)["attributes"] == {"plan": "enterprise", "team_id": "team_42"}


def test_create_of_a_participant_known_from_events_answers_200(client, gm):
    assert send(client, gm, "daily_login").status_code == 201
    r = create(client, gm, display_name="Jane")
    assert r.status_code == 200, r.json
    assert (r.json["display_name"], r.json["points"]["balance"], r.json["total_events"]) == ("Jane", 10, 1)


def test_get_profile_has_every_documented_field_after_activity(client, gm):
    create(client, gm, **DOC_CREATE)
    send(client, gm, "daily_login")
    order(client, gm, 1000)  # 1000 + the first_1000 milestone's 50
    assert claim(client, gm).status_code == 201
    p = profile(client, gm)
    assert set(p) == PROFILE_KEYS
    assert set(p["points"]) == POINTS_KEYS and set(p["tier"]) == TIER_KEYS
    assert set(p["tier"]["next_tier"]) == NEXT_TIER_KEYS
    assert set(p["streaks"]) == PROFILE_STREAK_KEYS
    assert [set(b) for b in p["badges"]] == [PROFILE_BADGE_KEYS]
    assert p["badges"] == [{"code": "first_steps", "name": "First Steps", "rarity": "common",
                            "earned": True, "earned_at": T0}]
    assert p["points"] == {"balance": 760, "total_earned": 1060, "total_spent": 300}
    assert p["streaks"] == {"current": 1, "longest": 1, "last_activity_at": T0, "freezes": 0}
    assert (p["rewards_claimed"], p["total_events"], p["is_active"]) == (1, 2, True)
    assert p["tier"]["code"] == "silver"


def test_profile_lists_only_earned_badges(client, gm):
    create(client, gm)
    assert profile(client, gm)["badges"] == []
    order(client, gm, 5000)  # total_earned 5050: power_user (5000 points), not first_steps
    assert [b["code"] for b in profile(client, gm)["badges"]] == ["power_user"]


def test_unknown_participant_is_404_on_get_patch_and_state_and_creates_nothing(app, client, gm):
    before = row_counts(app)
    error_of(client.get(f"{BASE}/participants/ghost", headers=gm), 404, "not_found")
    error_of(patch(client, gm, "ghost", display_name="Boo"), 404, "not_found")
    error_of(state(client, gm, "ghost"), 404, "not_found")
    error_of(state(client, gm, "ghost", include="points"), 404, "not_found")
    assert row_counts(app) == before


def test_patch_updates_display_name_and_avatar_and_returns_the_full_profile(client, gm):
    create(client, gm, **DOC_CREATE)
    r = patch(client, gm, display_name="Jane Smith", avatar_url="http://cdn.example.com/j.png")
    assert r.status_code == 200, r.json
    assert set(r.json) == PROFILE_KEYS
    assert (r.json["display_name"], r.json["avatar_url"]) == ("Jane Smith", "http://cdn.example.com/j.png")
    assert r.json["attributes"] == {"plan": "premium", "signup_source": "referral"}  # untouched
    assert profile(client, gm) == r.json
    # null clears the avatar and the display name
    r = patch(client, gm, avatar_url=None, display_name=None)
    assert (r.json["display_name"], r.json["avatar_url"]) == (None, None)


def test_patch_merges_attributes_key_by_key_and_null_removes_a_key(client, gm):
    create(client, gm, **DOC_CREATE)
    r = patch(client, gm, display_name="Jane Smith", attributes={"plan": "enterprise", "team_id": "team_42"})
    assert r.status_code == 200, r.json
    assert r.json["attributes"] == {"plan": "enterprise", "signup_source": "referral", "team_id": "team_42"}
    r = patch(client, gm, attributes={"signup_source": None, "missing": None, "nested": {"a": [1, 2]}})
    assert r.json["attributes"] == {"plan": "enterprise", "team_id": "team_42", "nested": {"a": [1, 2]}}
    assert r.json["display_name"] == "Jane Smith"  # not sent: kept
    assert profile(client, gm)["attributes"] == r.json["attributes"]


@pytest.mark.parametrize("avatar", ["javascript:alert(1)", "ftp://example.com/a.png", "example.com/a.png",
                                    "https://", "data:image/png;base64,AAAA", "https://x/" + "a" * 2100])
def test_avatar_url_must_be_an_http_url_on_create_and_patch(app, client, gm, avatar):
    before = row_counts(app)
    error_of(create(client, gm, pid="new_one", avatar_url=avatar), 400, "invalid_request")
    assert row_counts(app) == before
    create(client, gm, avatar_url="https://example.com/ok.png")
    error_of(patch(client, gm, avatar_url=avatar), 400, "invalid_request")
    assert profile(client, gm)["avatar_url"] == "https://example.com/ok.png"


@pytest.mark.parametrize("body", [
    {},
    {"participant_id": ""},
    {"participant_id": 123},
    {"participant_id": True},
    {"participant_id": "x" * 257},
    {"participant_id": "u", "display_name": True},
    {"participant_id": "u", "display_name": "x" * 257},
    {"participant_id": "u", "attributes": ["plan"]},
    {"participant_id": "u", "attributes": "premium"},
    {"participant_id": "u", "avatar_url": 5},
])
def test_bad_create_bodies_are_400_and_write_nothing(app, client, gm, body):
    before = row_counts(app)
    r = client.post(f"{BASE}/participants", json=body, headers=gm)
    error_of(r, 400, "invalid_request")
    assert row_counts(app) == before


@pytest.mark.parametrize("body", [{"display_name": 5}, {"attributes": [1]}, {"attributes": None},
                                  {"avatar_url": False}])
def test_bad_patch_bodies_are_400_and_change_nothing(client, gm, body):
    create(client, gm, **DOC_CREATE)
    before = profile(client, gm)
    error_of(patch(client, gm, **body), 400, "invalid_request")
    assert profile(client, gm) == before


def test_state_without_include_answers_every_section_in_the_documented_shapes(client, gm):
    create(client, gm)
    send(client, gm, "daily_login")
    order(client, gm, 1000)
    claim(client, gm)
    r = state(client, gm)
    assert r.status_code == 200, r.json
    s = r.json
    assert set(s) == {"participant_id"} | STATE_SECTIONS
    assert s["participant_id"] == "user_123"
    assert s["points"] == {"balance": 760, "total_earned": 1060, "total_spent": 300}
    assert s["tier"] == {"code": "silver", "name": "Silver", "level": 2}
    # earned and unearned badges, every one defined
    assert s["badges"] == [{"code": "first_steps", "earned": True, "earned_at": T0},
                           {"code": "power_user", "earned": False, "earned_at": None},
                           {"code": "on_fire", "earned": False, "earned_at": None}]
    assert s["streaks"] == {"current": 1, "longest": 1, "freezes": 0}
    # five_orders runs from 2026-11-01 to 2030: open, not completed
    assert s["challenges"] == {"active": 1, "completed": 0}
    assert s["rewards"] == {"total_claimed": 1}


@pytest.mark.parametrize("include,sections", [
    ("points,tier,badges", {"points", "tier", "badges"}),
    ("points", {"points"}),
    ("rewards,streaks", {"rewards", "streaks"}),
    (" challenges , tier ", {"challenges", "tier"}),
    ("points,tier,badges,streaks,challenges,rewards", STATE_SECTIONS),
])
def test_state_include_answers_only_the_sections_asked_for(client, gm, include, sections):
    create(client, gm)
    r = state(client, gm, include=include)
    assert r.status_code == 200, r.json
    assert set(r.json) == {"participant_id"} | sections


def test_state_of_a_new_participant(client, gm):
    create(client, gm)
    s = state(client, gm).json
    assert s["points"] == {"balance": 0, "total_earned": 0, "total_spent": 0}
    assert s["tier"] == {"code": "bronze", "name": "Bronze", "level": 1}
    assert [b["earned"] for b in s["badges"]] == [False, False, False]
    assert s["streaks"] is None
    assert s["rewards"] == {"total_claimed": 0}


@pytest.mark.parametrize("include", ["points,levels", "everything", "POINTS", "points,,tier,profile"])
def test_state_with_an_unknown_section_is_400_invalid_request(client, gm, include):
    create(client, gm)
    msg = error_of(state(client, gm, include=include), 400, "invalid_request")
    assert "section" in msg


def test_is_active_turns_false_after_31_days_without_activity(client, gm, clock):
    create(client, gm)
    clock.advance(days=29)
    assert profile(client, gm)["is_active"] is True
    clock.advance(days=2)  # 31 days since the last activity
    p = profile(client, gm)
    assert p["is_active"] is False
    assert p["last_seen_at"] == T0  # reading the profile is no activity
    assert state(client, gm).status_code == 200 and profile(client, gm)["is_active"] is False
    # an event makes the participant active again
    send(client, gm, "daily_login")
    p = profile(client, gm)
    assert p["is_active"] is True
    assert p["last_seen_at"] == iso(START + timedelta(days=31))


def test_first_seen_stays_and_last_seen_moves_with_each_event(client, gm, clock):
    create(client, gm)
    clock.advance(days=3, hours=5)
    send(client, gm, "page_view")  # no points, still activity
    clock.advance(days=1)
    p = profile(client, gm)
    assert p["first_seen_at"] == p["created_at"] == T0
    assert p["last_seen_at"] == iso(START + timedelta(days=3, hours=5))
    assert p["total_events"] == 1


def test_participant_first_seen_through_an_event_has_first_seen_at_then(client, gm, clock):
    clock.advance(hours=2)
    send(client, gm, "daily_login")
    p = profile(client, gm)
    assert p["first_seen_at"] == p["last_seen_at"] == p["created_at"] == iso(START + timedelta(hours=2))


def test_participants_of_another_organization_are_invisible(app, client, gm):
    create(client, gm, **DOC_CREATE)
    _, other_key = make_org(app, "globex")
    other = {"X-API-Key": other_key}
    error_of(client.get(f"{BASE}/participants/user_123", headers=other), 404, "not_found")
    error_of(patch(client, other, display_name="Hijack"), 404, "not_found")
    # the same participant_id in the other organization is another participant
    r = create(client, other, display_name="Globex Jane")
    assert r.status_code == 201
    assert profile(client, gm)["display_name"] == "Jane Doe"


def test_every_endpoint_needs_a_valid_key(app, client, gm):
    create(client, gm)
    before = row_counts(app)
    calls = [
        lambda h: client.post(f"{BASE}/participants", json={"participant_id": "x"}, headers=h),
        lambda h: client.get(f"{BASE}/participants/user_123", headers=h),
        lambda h: client.patch(f"{BASE}/participants/user_123", json={"display_name": "x"}, headers=h),
        lambda h: client.get(f"{BASE}/participants/user_123/state", headers=h),
        lambda h: client.post(f"{BASE}/events", json={"participant_id": "x", "event_type": "daily_login"},
                              headers=h),
        lambda h: client.post(f"{BASE}/participants/user_123/rewards", json={"code": "coffee"}, headers=h),
    ]
    for call in calls:
        error_of(call({}), 401, "unauthorized")
        error_of(call({"X-API-Key": "qk_live_not-a-real-key"}), 401, "unauthorized")
        # the key of another dialect's header is not read here
        error_of(call({"Authorization": f"Bearer {gm['X-API-Key']}"}), 401, "unauthorized")
    assert row_counts(app) == before


# -- 2. tiers ---------------------------------------------------------------------

def test_tier_progress_through_order_paid_events_and_the_milestone(client, gm, clock):
    create(client, gm)
    e = order(client, gm, 999.9)  # floor -> 999
    assert (e["points_earned"], e["tier"]) == (999, {"code": "bronze", "name": "Bronze", "level": 1})
    t = profile(client, gm)["tier"]
    assert t["code"] == "bronze"
    assert t["next_tier"] == {"code": "silver", "name": "Silver", "points_required": 1000,
                              "points_remaining": 1}
    clock.advance(hours=1)
    e = order(client, gm, 1)  # 1000 total_earned: first_1000 pays 50
    assert e["points_earned"] == 51
    assert e["tier"] == {"code": "silver", "name": "Silver", "level": 2}
    p = profile(client, gm)
    assert p["points"] == {"balance": 1050, "total_earned": 1050, "total_spent": 0}
    assert p["tier"] == {"code": "silver", "name": "Silver", "level": 2, "color": "#C0C0C0",
                         "achieved_at": iso(START + timedelta(hours=1)),
                         "next_tier": {"code": "gold", "name": "Gold", "points_required": 5000,
                                       "points_remaining": 3950}}
    clock.advance(hours=1)
    e = order(client, gm, 3950)  # exactly gold
    assert (e["points_earned"], e["tier"]["code"]) == (3950, "gold")
    t = profile(client, gm)["tier"]
    assert (t["code"], t["level"], t["color"]) == ("gold", 3, "#FFD700")
    assert t["next_tier"] == {"code": "platinum", "name": "Platinum", "points_required": 10000,
                              "points_remaining": 5000}


def test_the_milestone_pays_once(client, gm):
    assert order(client, gm, 1200)["points_earned"] == 1250
    assert order(client, gm, 1200)["points_earned"] == 1200
    assert profile(client, gm)["points"]["total_earned"] == 2450


def test_one_event_can_jump_to_the_top_tier_which_has_no_next_tier(client, gm, clock):
    create(client, gm)
    clock.advance(minutes=5)
    e = order(client, gm, 12000)
    assert e["points_earned"] == 12050
    assert e["tier"] == {"code": "platinum", "name": "Platinum", "level": 4}
    assert [b["code"] for b in e["badges_earned"]] == ["power_user"]
    p = profile(client, gm)
    assert p["tier"] == {"code": "platinum", "name": "Platinum", "level": 4, "color": "#E5E4E2",
                         "achieved_at": iso(START + timedelta(minutes=5)), "next_tier": None}


def test_spending_never_demotes(client, gm, clock):
    order(client, gm, 1000)  # 1050 earned: silver
    silver = profile(client, gm)["tier"]
    clock.advance(days=1)
    assert claim(client, gm).status_code == 201
    assert claim(client, gm).status_code == 201
    assert claim(client, gm).status_code == 201  # balance 150, below silver's 1000
    p = profile(client, gm)
    assert p["points"] == {"balance": 150, "total_earned": 1050, "total_spent": 900}
    assert p["tier"] == silver  # same tier, same achieved_at, remaining still over total_earned
    assert p["tier"]["next_tier"]["points_remaining"] == 3950
    assert state(client, gm, include="tier").json["tier"]["code"] == "silver"


def test_tier_achieved_at_is_when_first_reached(client, gm, clock):
    order(client, gm, 1000)
    clock.advance(days=2)
    order(client, gm, 10)
    assert profile(client, gm)["tier"]["achieved_at"] == T0


# -- 3. events --------------------------------------------------------------------

def test_an_event_creates_the_participant(app, client, gm):
    error_of(client.get(f"{BASE}/participants/newbie", headers=gm), 404, "not_found")
    r = send(client, gm, "daily_login", "newbie")
    assert r.status_code == 201, r.json
    assert set(r.json) == EVENT_KEYS
    p = profile(client, gm, "newbie")
    assert (p["participant_id"], p["total_events"], p["points"]["balance"]) == ("newbie", 1, 10)
    assert p["display_name"] is None and p["attributes"] == {}


def test_first_daily_login_answers_points_and_the_first_steps_badge(client, gm, clock):
    r = send(client, gm, "daily_login")
    assert r.status_code == 201, r.json
    assert r.json == {"participant_id": "user_123", "event_type": "daily_login", "points_earned": 10,
                      "badges_earned": [{"code": "first_steps", "name": "First Steps", "rarity": "common",
                                         "earned_at": T0}],
                      "tier": {"code": "bronze", "name": "Bronze", "level": 1}, "duplicate": False}
    clock.advance(hours=1)
    r = send(client, gm, "daily_login")
    assert r.status_code == 201
    assert (r.json["points_earned"], r.json["badges_earned"]) == (10, [])  # a badge is earned once
    assert profile(client, gm)["badges"][0]["earned_at"] == T0


def test_an_event_type_nothing_pays_for_is_stored_with_zero_points(client, gm):
    r = send(client, gm, "page_view", properties={"path": "/"})
    assert r.status_code == 201
    assert (r.json["points_earned"], r.json["badges_earned"], r.json["duplicate"]) == (0, [], False)
    assert profile(client, gm)["total_events"] == 1


def test_a_repeated_event_id_counts_once(app, client, gm):
    r = send(client, gm, "order_paid", id="evt-1", properties={"amount": 40})
    assert (r.status_code, r.json["points_earned"], r.json["duplicate"]) == (201, 40, False)
    before = row_counts(app)
    r = send(client, gm, "order_paid", id="evt-1", properties={"amount": 40})
    assert r.status_code == 200, r.json
    assert set(r.json) == EVENT_KEYS
    assert (r.json["points_earned"], r.json["duplicate"], r.json["badges_earned"]) == (0, True, [])
    assert row_counts(app) == before
    p = profile(client, gm)
    assert (p["points"]["balance"], p["total_events"]) == (40, 1)
    # the id is the participant's own: another participant may use it
    r = send(client, gm, "order_paid", "someone_else", id="evt-1", properties={"amount": 5})
    assert (r.status_code, r.json["points_earned"], r.json["duplicate"]) == (201, 5, False)


def test_concurrent_events_with_one_id_count_once(app, client, gm):
    create(client, gm)

    def go(i):
        r = send(client, gm, "order_paid", id="same", properties={"amount": 7})
        return r.status_code, r.json["duplicate"]

    results = run_in_threads(10, go)
    assert sorted(results) == [(200, True)] * 9 + [(201, False)], results
    assert profile(client, gm)["points"]["balance"] == 7
    assert row_counts(app)["events"] == 1


@pytest.mark.parametrize("body", [
    {"participant_id": "user_123"},                                          # no event_type
    {"event_type": "daily_login"},                                           # no participant_id
    {"participant_id": "user_123", "event_type": ""},
    {"participant_id": "user_123", "event_type": True},
    {"participant_id": True, "event_type": "daily_login"},
    {"participant_id": 123, "event_type": "daily_login"},
    {"participant_id": "user_123", "event_type": "daily_login", "id": True},
    {"participant_id": "user_123", "event_type": "daily_login", "id": 7},
    {"participant_id": "user_123", "event_type": "daily_login", "properties": [1, 2]},
    {"participant_id": "user_123", "event_type": "daily_login", "properties": "amount=5"},
    {"participant_id": "user_123", "event_type": "daily_login", "properties": 5},
    {"participant_id": "user_123", "event_type": "x" * 257},
    {"participant_id": "user_123", "event_type": "order_paid", "properties": {"blob": "x" * 70000}},
    ["participant_id", "event_type"],
])
def test_bad_events_are_400_in_the_envelope_and_write_nothing(app, client, gm, body):
    before = row_counts(app)
    error_of(client.post(f"{BASE}/events", json=body, headers=gm), 400, "invalid_request")
    assert row_counts(app) == before


@pytest.mark.parametrize("raw", [b"{", b"", b"null", b'{"participant_id": "u", "event_type": NaN}'])
def test_malformed_event_json_is_400_and_writes_nothing(app, client, gm, raw):
    before = row_counts(app)
    r = client.post(f"{BASE}/events", data=raw, headers={**gm, "Content-Type": "application/json"})
    error_of(r, 400, "invalid_request")
    assert row_counts(app) == before


def test_a_boolean_amount_pays_nothing_and_does_not_fail(client, gm):
    r = send(client, gm, "order_paid", properties={"amount": True})
    assert r.status_code == 201, r.json
    assert r.json["points_earned"] == 0


def test_five_orders_complete_the_challenge(client, gm):
    for _ in range(4):
        order(client, gm, 1)
    assert state(client, gm, include="challenges").json["challenges"] == {"active": 1, "completed": 0}
    assert order(client, gm, 1)["points_earned"] == 1 + 300
    assert state(client, gm, include="challenges").json["challenges"] == {"active": 0, "completed": 1}


# -- 4. the catalog ------------------------------------------------------------------

def balances_of(app, pid: str):
    """(cached total, total from the ledger entries) of participant ``pid`` in default."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.account == pid, User.platform == "internal")).one()
        row = db.session.scalars(select(Balance).where(Balance.user_id == user.id)).one()
        return row.total, sum_entries(db.session, row.campaign_id, user.id, "live").total


def never_negative(app, pid: str) -> None:
    """Replay the participant's entries in commit order: the total never dips below 0."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.account == pid, User.platform == "internal")).one()
        running = 0
        for amount in db.session.scalars(select(LedgerEntry.amount).where(LedgerEntry.user_id == user.id)
                                         .order_by(LedgerEntry.id)):
            running += amount
            assert running >= 0


def stock_claimed(app, code="coffee") -> int:
    with app.app_context():
        return db.session.scalar(select(CatalogStock.claimed).where(CatalogStock.code == code)) or 0


def test_claiming_coffee_spends_300_and_answers_the_claim(app, client, gm, clock):
    order(client, gm, 1000)  # 1050
    clock.advance(minutes=10)
    r = claim(client, gm)
    assert r.status_code == 201, r.json
    assert set(r.json) == CLAIM_KEYS
    assert r.json == {"code": "coffee", "name": "Free coffee", "cost": 300,
                      "claimed_at": iso(START + timedelta(minutes=10)),
                      "points": {"balance": 750, "total_earned": 1050, "total_spent": 300}}
    p = profile(client, gm)
    assert p["points"] == r.json["points"] and p["rewards_claimed"] == 1
    assert state(client, gm, include="rewards").json["rewards"] == {"total_claimed": 1}
    assert stock_claimed(app) == 1
    assert balances_of(app, "user_123") == (750, 750)


def test_a_reward_without_quantity_is_never_out_of_stock(app, client, gm):
    order(client, gm, 6000)  # 6050
    assert [claim(client, gm, "tshirt").status_code for _ in range(2)] == [201, 201]
    assert profile(client, gm)["points"]["balance"] == 1050
    assert stock_claimed(app, "tshirt") == 0


def test_claim_with_too_few_points_is_409_insufficient_points_and_changes_nothing(app, client, gm):
    order(client, gm, 299)
    before = row_counts(app)
    msg = error_of(claim(client, gm), 409, "insufficient_points")
    assert msg
    assert row_counts(app) == before
    p = profile(client, gm)
    assert p["points"] == {"balance": 299, "total_earned": 299, "total_spent": 0}
    assert p["rewards_claimed"] == 0
    assert stock_claimed(app) == 0


def test_claim_for_a_participant_with_no_points_is_409_and_creates_nothing(app, client, gm):
    before = row_counts(app)
    error_of(claim(client, gm, pid="nobody"), 409, "insufficient_points")
    assert row_counts(app) == before


def test_claim_of_an_unknown_reward_is_404_and_changes_nothing(app, client, gm):
    order(client, gm, 1000)
    before = row_counts(app)
    error_of(claim(client, gm, "yacht"), 404, "not_found")
    assert row_counts(app) == before
    assert profile(client, gm)["points"]["balance"] == 1050


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": True}, {"code": ["coffee"]}])
def test_bad_claim_bodies_are_400(app, client, gm, body):
    order(client, gm, 1000)
    before = row_counts(app)
    r = client.post(f"{BASE}/participants/user_123/rewards", json=body, headers=gm)
    error_of(r, 400, "invalid_request")
    assert row_counts(app) == before


def test_out_of_stock_is_409_out_of_stock_and_leaves_the_balance_untouched(app, client, auth, api_key):
    publish(client, auth, with_coffee_quantity(3))
    h = {"X-API-Key": api_key}
    rich = [f"rich{i}" for i in range(5)]
    for pid in rich:
        order(client, h, 2000, pid)  # 2050 each
    codes = []
    for pid in rich:
        r = claim(client, h, pid=pid)
        codes.append(r.status_code)
        if r.status_code == 409:
            error_of(r, 409, "out_of_stock")
    assert codes == [201, 201, 201, 409, 409]
    assert [profile(client, h, pid)["points"]["balance"] for pid in rich] == [1750, 1750, 1750, 2050, 2050]
    assert [profile(client, h, pid)["rewards_claimed"] for pid in rich] == [1, 1, 1, 0, 0]
    assert stock_claimed(app) == 3
    for pid in rich:
        cached, summed = balances_of(app, pid)
        assert cached == summed
    # the two 409s are told apart: rich4 (2050) is short of the t-shirt's 2500
    error_of(claim(client, h, "tshirt", pid="rich4"), 409, "insufficient_points")
    assert claim(client, h, "coffee", pid="rich4").status_code == 409  # still out of stock


def test_50_concurrent_claims_by_one_participant_with_points_for_10(app, client, gm):
    order(client, gm, 2950)  # + the milestone's 50: exactly 3000, ten coffees
    assert profile(client, gm)["points"]["balance"] == 3000

    def go(i):
        r = claim(client, gm)
        return r.status_code, (r.get_json() or {}).get("error", {}).get("code")

    results = run_in_threads(50, go)
    assert results.count((201, None)) == 10, results
    assert results.count((409, "insufficient_points")) == 40, results
    assert balances_of(app, "user_123") == (0, 0)
    never_negative(app, "user_123")
    p = profile(client, gm)
    assert p["points"] == {"balance": 0, "total_earned": 3000, "total_spent": 3000}
    assert p["rewards_claimed"] == 10
    assert stock_claimed(app) == 10


def test_50_concurrent_claims_by_50_participants_for_a_quantity_of_7(app, client, auth, api_key):
    publish(client, auth, with_coffee_quantity(7))
    h = {"X-API-Key": api_key}
    pids = [f"p{i:02d}" for i in range(50)]
    for pid in pids:
        order(client, h, 300, pid)

    def go(i):
        r = claim(client, h, pid=pids[i])
        return r.status_code, (r.get_json() or {}).get("error", {}).get("code")

    results = run_in_threads(50, go)
    assert results.count((201, None)) == 7, results
    assert results.count((409, "out_of_stock")) == 43, results
    assert stock_claimed(app) == 7
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CatalogClaim)) == 7
    winners = [pid for pid, (code, _) in zip(pids, results) if code == 201]
    for pid in pids:
        cached, summed = balances_of(app, pid)
        assert cached == summed == (0 if pid in winners else 300), pid


# -- 5. streaks -----------------------------------------------------------------------

def login_at(client, h, clock, when: datetime):
    clock.set(when)
    r = send(client, h, "daily_login")
    assert r.status_code == 201, r.json
    return r.json


def test_a_freeze_covers_a_missed_new_york_day_and_shows_in_the_profile(client, gm, clock):
    # Day 1 at 7:00 in New York, days 2-7 at 23:30 New York time, which is
    # already the next day in UTC: seven New York days in a row, but not seven
    # UTC days (Nov 23 UTC has no event).
    login_at(client, gm, clock, ny(22, 7))
    for day in range(23, 29):
        e = login_at(client, gm, clock, ny(day, 23, 30))
    assert [b["code"] for b in e["badges_earned"]] == ["on_fire"]  # a 7-day streak
    s = profile(client, gm)["streaks"]
    assert s == {"current": 7, "longest": 7, "last_activity_at": iso(ny(28, 23, 30)), "freezes": 1}
    # Nov 29 (New York) passes without an event; late on Nov 29 in New York it
    # is Nov 30 in UTC, and the streak is still whole.
    clock.set(ny(29, 22))
    assert profile(client, gm)["streaks"]["freezes"] == 1
    # Nov 30, New York: a day was missed; the freeze covers it.
    clock.set(ny(30, 0, 30))
    s = profile(client, gm)["streaks"]
    assert (s["current"], s["longest"], s["freezes"]) == (7, 7, 0)
    assert state(client, gm, include="streaks").json["streaks"] == {"current": 7, "longest": 7, "freezes": 0}
    e = login_at(client, gm, clock, ny(30, 0, 30))
    s = profile(client, gm)["streaks"]
    assert s == {"current": 8, "longest": 8, "last_activity_at": iso(ny(30, 0, 30)), "freezes": 0}
    # With no freeze left, the next missed day breaks the streak (longest stays).
    clock.set(ny(2, 12, month=12))
    s = profile(client, gm)["streaks"]
    assert (s["current"], s["longest"], s["freezes"]) == (0, 8, 0)
    login_at(client, gm, clock, ny(2, 12, month=12))
    s = profile(client, gm)["streaks"]
    assert (s["current"], s["longest"], s["freezes"]) == (1, 8, 0)


def test_two_events_in_one_new_york_day_count_one_streak_day(client, gm, clock):
    login_at(client, gm, clock, ny(22, 0, 5))   # 05:05 UTC
    login_at(client, gm, clock, ny(22, 23, 55))  # 04:55 UTC on Nov 23
    assert profile(client, gm)["streaks"]["current"] == 1
    login_at(client, gm, clock, ny(23, 0, 5))
    assert profile(client, gm)["streaks"]["current"] == 2


# -- 6. errors outside the routes ---------------------------------------------------------

def test_an_unknown_route_under_the_base_path_is_a_404_in_the_envelope(client, gm):
    error_of(client.get(f"{BASE}/nothing-here", headers=gm), 404, "not_found")
    error_of(client.post(f"{BASE}/participants/user_123/nope", json={}, headers=gm), 404, "not_found")
    error_of(client.get(BASE, headers=gm), 404, "not_found")


def test_a_wrong_method_is_a_405_in_the_envelope(client, gm):
    create(client, gm)
    error_of(client.delete(f"{BASE}/participants/user_123", headers=gm), 405, "method_not_allowed")
    error_of(client.get(f"{BASE}/events", headers=gm), 405, "method_not_allowed")
    error_of(client.put(f"{BASE}/participants/user_123", json={}, headers=gm), 405, "method_not_allowed")
    assert profile(client, gm)["participant_id"] == "user_123"


# -- 7. Idempotency-Key -----------------------------------------------------------------

def test_an_idempotency_key_with_the_same_body_replays_the_first_answer(app, client, gm, clock):
    key = {"Idempotency-Key": "evt-key-1"}
    first = send(client, gm, "order_paid", headers=key, properties={"amount": 120})
    assert first.status_code == 201, first.json
    before = row_counts(app)
    clock.advance(minutes=5)
    again = send(client, gm, "order_paid", headers=key, properties={"amount": 120})
    assert again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert row_counts(app) == before
    p = profile(client, gm)
    assert (p["points"]["balance"], p["total_events"]) == (120, 1)
    # without the key the same body is a new event
    assert send(client, gm, "order_paid", properties={"amount": 120}).status_code == 201
    assert profile(client, gm)["points"]["balance"] == 240


def test_an_idempotency_key_with_another_body_is_422_and_writes_nothing(app, client, gm):
    key = {"Idempotency-Key": "evt-key-2"}
    assert send(client, gm, "order_paid", headers=key, properties={"amount": 120}).status_code == 201
    before = row_counts(app)
    r = send(client, gm, "order_paid", headers=key, properties={"amount": 999})
    error_of(r, 422, "idempotency_key_reused")
    assert row_counts(app) == before
    assert profile(client, gm)["points"]["balance"] == 120


def test_an_idempotency_key_on_create_replays_201(app, client, gm):
    key = {**gm, "Idempotency-Key": "create-1"}
    body = {"participant_id": "user_123", "display_name": "Jane"}
    first = client.post(f"{BASE}/participants", json=body, headers=key)
    again = client.post(f"{BASE}/participants", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data()
    # without the key, the participant exists: 200
    assert client.post(f"{BASE}/participants", json=body, headers=gm).status_code == 200


# -- concurrent profile writes ----------------------------------------------------------

def test_concurrent_creates_of_one_participant_answer_one_201(app, client, gm):
    def go(i):
        return create(client, gm, pid="racer", attributes={f"k{i}": i}).status_code

    codes = run_in_threads(20, go)
    assert sorted(codes) == [200] * 19 + [201], codes
    assert row_counts(app)["users"] == 1
    # every call's attribute was merged in: none was lost to a concurrent one
    assert profile(client, gm, "racer")["attributes"] == {f"k{i}": i for i in range(20)}


def test_concurrent_patches_merge_every_attribute(client, gm):
    create(client, gm, attributes={"plan": "premium"})

    def go(i):
        return patch(client, gm, attributes={f"k{i}": i}).status_code

    assert run_in_threads(20, go) == [200] * 20
    assert profile(client, gm)["attributes"] == {"plan": "premium", **{f"k{i}": i for i in range(20)}}


def test_an_idempotency_key_on_a_claim_spends_once(app, client, gm):
    order(client, gm, 1000)  # 1050
    h = {**gm, "Idempotency-Key": "claim-1"}
    first = client.post(f"{BASE}/participants/user_123/rewards", json={"code": "coffee"}, headers=h)
    assert first.status_code == 201, first.json

    def go(i):
        r = client.post(f"{BASE}/participants/user_123/rewards", json={"code": "coffee"}, headers=h)
        return r.status_code, r.get_data()

    assert set(run_in_threads(10, go)) == {(201, first.get_data())}
    assert profile(client, gm)["points"]["balance"] == 750
    assert stock_claimed(app) == 1


# -- limits -------------------------------------------------------------------------

def test_a_body_over_1_mib_is_413_in_the_envelope_and_writes_nothing(app, client, gm):
    before = row_counts(app)
    raw = json.dumps({"participant_id": "u", "event_type": "order_paid",
                      "properties": {"blob": "x" * (1024 * 1024)}}).encode()
    r = client.post(f"{BASE}/events", data=raw, headers={**gm, "Content-Type": "application/json"})
    error_of(r, 413, "payload_too_large")
    assert row_counts(app) == before


def test_attributes_over_64_kib_are_400_even_when_merged_from_two_writes(client, gm):
    error_of(create(client, gm, pid="big", attributes={"a": "x" * 70000}), 400, "invalid_request")
    create(client, gm, attributes={"a": "x" * 40000})
    error_of(patch(client, gm, attributes={"b": "y" * 40000}), 400, "invalid_request")
    assert set(profile(client, gm)["attributes"]) == {"a"}
    # removing a key makes room again
    assert patch(client, gm, attributes={"a": None, "b": "y" * 40000}).status_code == 200


def test_a_participant_id_with_a_slash_is_400_on_create_and_events(client, api_key):
    # It could never be reached again at /participants/{pid}: refuse it up front.
    h = {"X-API-Key": api_key}
    r = client.post("/api/v1/gamify/participants", json={"participant_id": "a/b"}, headers=h)
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_request"
    r = client.post("/api/v1/gamify/events", json={"participant_id": "a/b", "event_type": "x"}, headers=h)
    assert r.status_code == 400
    assert client.get("/api/v1/gamify/participants/a%2Fb", headers=h).status_code == 404
