"""The Participants API: /api/v1/gamify, X-API-Key (SPEC §5, participants-api.txt).

Plain resource JSON in snake_case, errors ``{"error": {"code", "message"}}``.
Everything reads the organization's `default` campaign; a participant_id is
the account on platform `internal`, the Rewards API's userId.
"""
from __future__ import annotations

from flask import Blueprint

from engine.participation import catalog, participants
from engine.access import users
from engine.errors import UnknownUser
from engine.access.users import INTERNAL_PLATFORM
from settings import services

from ._api import Ctx, Reply
from ._json import STR, Param, obj
from .dialects import participants as participants_dialect
bp = Blueprint("participants_api", __name__, url_prefix="/api/v1/gamify")
route = participants_dialect.route


def known(ctx: Ctx, pid: str):
    try:
        return ctx.internal_user(pid)
    except UnknownUser:
        raise UnknownUser(f"participant {pid!r} not found") from None


# -- shaping ---------------------------------------------------------------------

def _points(b) -> dict:
    return {"balance": b.total, "total_earned": b.total_earned, "total_spent": b.total_spent}


def _tier_brief(tier: dict | None) -> dict | None:
    return None if tier is None else {"code": tier["code"], "name": tier["name"], "level": tier["level"]}


def _tier(t: participants.TierStatus | None) -> dict | None:
    if t is None:
        return None
    nxt = None if t.next_tier is None else {
        "code": t.next_tier["code"], "name": t.next_tier["name"],
        "points_required": t.next_tier["points_required"], "points_remaining": t.points_remaining}
    return {**_tier_brief(t.tier), "color": t.tier["color"], "achieved_at": t.achieved_at,
            "next_tier": nxt}


def _streak(s, *, full: bool) -> dict | None:
    if s is None:
        return None
    out = {"current": s.current, "longest": s.longest}
    if full:
        out["last_activity_at"] = s.last_activity_at
    out["freezes"] = s.freezes
    return out


def profile_json(snap: participants.Snapshot) -> dict:
    u = snap.user
    return {
        "participant_id": u.account, "display_name": u.name, "avatar_url": u.avatar,
        "attributes": u.attributes or {},
        "points": _points(snap.balances), "tier": _tier(snap.tier),
        "badges": [{"code": b.code, "name": b.name, "rarity": b.rarity, "earned": True,
                    "earned_at": b.earned_at} for b in snap.badges if b.earned_at is not None],
        "streaks": _streak(snap.streak, full=True),
        "rewards_claimed": snap.rewards_claimed, "total_events": snap.total_events,
        "first_seen_at": snap.first_seen_at, "last_seen_at": snap.last_seen_at,
        "is_active": snap.is_active, "created_at": u.created_at,
    }


def state_json(snap: participants.Snapshot) -> dict:
    out = {"participant_id": snap.user.account}
    for section in snap.sections:
        if section == "points":
            out["points"] = _points(snap.balances)
        elif section == "tier":
            out["tier"] = _tier_brief(snap.tier.tier if snap.tier else None)
        elif section == "badges":
            out["badges"] = [{"code": b.code, "earned": b.earned_at is not None, "earned_at": b.earned_at}
                             for b in snap.badges]
        elif section == "streaks":
            out["streaks"] = _streak(snap.streak, full=False)
        elif section == "challenges":
            out["challenges"] = snap.challenges
        elif section == "rewards":
            out["rewards"] = {"total_claimed": snap.rewards_claimed}
    return out


def _profile(ctx: Ctx, view, user) -> dict:
    return profile_json(participants.snapshot(ctx.session, view, user, ctx.now, profile=True))


# -- endpoints -------------------------------------------------------------------

NULLABLE_NAME = {"type": ["string", "null"], "maxLength": 256}
AVATAR = {"type": ["string", "null"], "maxLength": participants.MAX_URL,
          "description": "an http(s) URL; null clears it"}
ATTRIBUTES = {"type": "object", "description": "merged key by key; a null value removes a key"}
PROFILE_FIELDS = {"display_name": NULLABLE_NAME, "avatar_url": AVATAR, "attributes": ATTRIBUTES}


@route(bp, "/participants", "POST", summary="Create or update a participant (idempotent)",
       body=obj(["participant_id"], participant_id=STR, **PROFILE_FIELDS), status=201,
       responses={200: "the participant existed and was updated"})
def create_participant(ctx: Ctx):
    """Create a participant (201) or, when it exists, update it (200): attributes are merged, a null
    value removes a key.
    """
    view = ctx.default_view()
    changes = {k: v for k, v in ctx.body.items() if k in PROFILE_FIELDS}
    user, created = participants.register(ctx.session, view, ctx.org_id, ctx.body["participant_id"],
                                          changes, ctx.now)
    return Reply(_profile(ctx, view, user), status=201 if created else 200)


@route(bp, "/participants/<pid>", summary="A participant's profile", responses={404: "unknown participant"})
def get_participant(ctx: Ctx, pid: str):
    """A participant's profile: display name, avatar and attributes."""
    return _profile(ctx, ctx.default_view(), known(ctx, pid))


@route(bp, "/participants/<pid>", "PATCH", summary="Update display name, avatar or attributes",
       body=obj([], **PROFILE_FIELDS), responses={404: "unknown participant"})
def update_participant(ctx: Ctx, pid: str):
    """Change the display name, the avatar or attributes (merged; null removes a key)."""
    user = participants.update(ctx.session, ctx.org_id, pid, ctx.body)
    return _profile(ctx, ctx.default_view(), user)


@route(bp, "/participants/<pid>/state", summary="Selected sections of a participant's state",
       query=(Param("include", description="comma-separated: " + ",".join(participants.SECTIONS)),),
       responses={404: "unknown participant", 400: "unknown section"})
def participant_state(ctx: Ctx, pid: str):
    """Selected sections of the participant's state
    (include=points,tier,badges,streak,challenges,rewards): totals, tier and progress to the next,
    badges earned, the streak with its freezes, challenges and claims.
    """
    sections = participants.parse_include(ctx.args["include"])
    view = ctx.default_view()
    return state_json(participants.snapshot(ctx.session, view, known(ctx, pid), ctx.now, sections))


EVENT_BODY = obj(["participant_id", "event_type"], participant_id=STR, event_type=STR,
                 properties={"type": "object"}, id=STR)


@route(bp, "/events", "POST", summary="Record an event for a participant (created if new)",
       body=EVENT_BODY, status=201,
       responses={200: "an id this participant already sent: counted once",
                  409: "the event triggers an instant-win play and none is left"})
def record_event(ctx: Ctx):
    """Record an event for a participant (created if new). It feeds tasks, points mechanics,
    milestones, badges, the streak and challenges. An id repeated for the participant counts once
    (200, duplicate: true).
    """
    b = ctx.body
    view = ctx.default_view()
    user = users.ensure_user(ctx.session, ctx.org_id, participants.check_id(b["participant_id"]),
                             INTERNAL_PLATFORM, ctx.now)
    r = participants.record(ctx.session, view, user, event_type=b["event_type"],
                            properties=b.get("properties"), client_id=b.get("id"), now=ctx.now,
                            rng=services().rng)
    data = {"participant_id": user.account, "event_type": b["event_type"],
            "points_earned": 0 if r.duplicate else r.points_earned,
            "badges_earned": [{"code": bd["code"], "name": bd["name"], "rarity": bd["rarity"],
                               "earned_at": ctx.now} for bd in r.badges_earned],
            "tier": _tier_brief(r.tier), "duplicate": r.duplicate}
    return Reply(data, status=200 if r.duplicate else 201)


@route(bp, "/participants/<pid>/rewards", "POST", summary="Claim a catalog reward with points",
       body=obj(["code"], code=STR), status=201,
       responses={404: "unknown reward", 409: "not enough points, or out of stock"})
def claim_reward(ctx: Ctx, pid: str):
    """Spend points on a reward of the catalog. Not enough points or an empty stock answers 409 and
    spends nothing.
    """
    view = ctx.default_view()
    user = users.ensure_user(ctx.session, ctx.org_id, pid, INTERNAL_PLATFORM, ctx.now)
    made = catalog.claim(ctx.session, view, user, code=ctx.body["code"], now=ctx.now)
    c = made.claim
    return {"code": c.code, "name": c.name, "cost": c.cost, "claimed_at": c.claimed_at,
            "points": _points(made.balances)}
