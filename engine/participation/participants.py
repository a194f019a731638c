"""Participants (SPEC §5): profiles over the organization's `default`
campaign, and the snapshot of everything a participant has earned.

A participant is the user (participant_id, platform `internal`), the same
user the Rewards API calls userId. The snapshot is what the Participants
API's profile and state, and the widget, are drawn from.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import Balance, Event, Streak, User

from engine.participation import catalog, events
from engine.run import challenges, settling, streaks
from engine import ledger
from engine.access import users
from engine.definitions.campaigns import View
from engine.errors import InvalidInput, UnknownUser
from engine.run.tasks import Run
from engine.access.users import INTERNAL_PLATFORM

# SPEC §5: a participant is_active after any activity in the last 30 days.
PARTICIPANT_ACTIVE_WINDOW = timedelta(days=30)
MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_URL = 2048
SECTIONS = ("points", "tier", "badges", "streaks", "challenges", "rewards")
_HTTP_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


# -- profile data ----------------------------------------------------------------

def check_id(participant_id):
    """A participant_id must be reachable at /participants/{pid}: no "/"."""
    if isinstance(participant_id, str) and "/" in participant_id:
        raise InvalidInput("participant_id must not contain '/'")
    return participant_id


def merge_attributes(current: dict | None, changes: dict) -> dict:
    """Key by key; a None value removes the key (SPEC §5)."""
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(json.dumps(merged, separators=(",", ":"))) > MAX_ATTRIBUTES_BYTES:
        raise InvalidInput(f"attributes must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    return merged


def _check_avatar(url) -> None:
    if url is not None and (len(url) > MAX_URL or not _HTTP_URL.match(url)):
        raise InvalidInput(f"avatar_url must be an http(s) URL of at most {MAX_URL} characters")


def _apply(user: User, changes: dict) -> None:
    if "display_name" in changes:
        user.name = changes["display_name"]
    if "avatar_url" in changes:
        _check_avatar(changes["avatar_url"])
        user.avatar = changes["avatar_url"]
    if changes.get("attributes") is not None:
        user.attributes = merge_attributes(user.attributes, changes["attributes"])


def _lock_participant(session: Session, org_id: int, participant_id: str,
                      create_at: datetime | None = None) -> tuple[User | None, bool]:
    """The participant's row locked until the transaction ends, and whether
    this call inserted it (only when ``create_at`` is given).

    Attributes are merged in Python, so concurrent POSTs/PATCHes must not
    read the row at once (on PostgreSQL they lost each other's keys, and
    concurrent first POSTs all answered 201). The row lock orders them (SQLite
    already runs writers one at a time); the insert's RETURNING tells the one
    request that created the participant (psycopg reports rowcount -1).
    FOR NO KEY UPDATE: rows that merely reference the user (events, balances)
    stay insertable, so an event in flight never deadlocks against a PATCH.
    """
    account, platform = users.normalize_identity(check_id(participant_id), INTERNAL_PLATFORM)
    key = {"org_id": org_id, "account": account, "platform": platform}
    locked = (select(User).filter_by(**key).with_for_update(key_share=True)
              .execution_options(populate_existing=True))
    user = session.scalars(locked).one_or_none()
    if user is not None or create_at is None:
        return user, False
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(insert(User).values(**key, created_at=create_at, attributes={})
                               .on_conflict_do_nothing(index_elements=list(key))
                               .returning(User.id)).scalar_one_or_none()
    return session.scalars(locked).one(), inserted is not None


def register(session: Session, view: View, org_id: int, participant_id: str, changes: dict,
             now: datetime) -> tuple[User, bool]:
    """Create the participant, or update the one that exists: (user, created).

    Registering is participation in the default campaign: it opens the
    participant's balance there (first_seen_at, active now) and records the
    tiers already reached (one at 0 points).
    """
    user, created = _lock_participant(session, org_id, participant_id, now)
    _apply(user, changes)
    Run(session, view, user, now).finish()
    return user, created


def update(session: Session, org_id: int, participant_id: str, changes: dict) -> User:
    """PATCH: display_name, avatar_url, attributes merged; 404 when unknown."""
    user, _ = _lock_participant(session, org_id, participant_id)
    if user is None:
        raise UnknownUser(f"participant {participant_id!r} not found")
    _apply(user, changes)
    session.flush()
    return user


def parse_include(value: str | None) -> tuple[str, ...]:
    """?include=points,tier: the sections asked for, in SECTIONS order; all when absent."""
    if value is None or not value.strip():
        return SECTIONS
    asked = {part.strip() for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(SECTIONS))
    if unknown:
        raise InvalidInput(f"unknown include section(s): {', '.join(unknown)}; "
                           f"choose from {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in asked)


# -- the snapshot ----------------------------------------------------------------

@dataclass
class TierStatus:
    tier: dict
    achieved_at: datetime | None
    next_tier: dict | None
    points_remaining: int | None


@dataclass
class BadgeStatus:
    code: str
    name: str
    rarity: str | None
    earned_at: datetime | None


@dataclass
class Snapshot:
    """A participant's standing in the default campaign; sections not asked
    for stay None."""

    user: User
    balances: ledger.Balances | None = None
    tier: TierStatus | None = None
    badges: list[BadgeStatus] | None = None  # every badge defined, then earned ones no longer defined
    streak: streaks.StreakView | None = None
    challenges: dict | None = None
    rewards_claimed: int | None = None
    total_events: int | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    is_active: bool | None = None
    sections: tuple[str, ...] = field(default_factory=tuple)


class _ReadRun:
    """The bits of a Run that settling.achievements() reads, without a lock."""

    def __init__(self, session, view: View, user: User):
        self.session, self.campaign_id, self.env, self.user = session, view.campaign.id, view.env, user
        self.achievements = None


def snapshot(session: Session, view: View, user: User, now: datetime,
             sections: tuple[str, ...] = SECTIONS, *, profile: bool = False) -> Snapshot:
    """Read-only: creates nothing. ``profile`` adds the activity fields."""
    c = view.compiled
    snap = Snapshot(user=user, sections=sections)
    balance = session.get(Balance, (view.campaign.id, user.id, view.env))
    b = ledger.Balances.of(balance)
    rows = settling.achievements(_ReadRun(session, view, user)) \
        if {"tier", "badges", "challenges"} & set(sections) else {}
    if "points" in sections:
        snap.balances = b
    if "tier" in sections:
        reached, nxt = settling.current_tier(c.tiers, b.total_earned)
        if reached is not None:
            row = rows.get((settling.TIER, reached["code"]))
            snap.tier = TierStatus(reached, row.achieved_at if row else None, nxt,
                                   nxt["points_required"] - b.total_earned if nxt else None)
    if "badges" in sections:
        earned = {code: row.achieved_at for (kind, code), row in rows.items()
                  if kind == settling.BADGE and row.achieved_at is not None}
        defined = {bd["code"] for bd in c.badges}
        snap.badges = [BadgeStatus(bd["code"], bd["name"], bd["rarity"], earned.get(bd["code"]))
                       for bd in c.badges]
        snap.badges += [BadgeStatus(code, code, None, at) for code, at in earned.items()
                        if code not in defined]
    if "streaks" in sections:
        row = session.get(Streak, (view.campaign.id, view.env, user.id))
        snap.streak = streaks.view(row, c.streak, now, c.timezone)
    if "challenges" in sections:
        snap.challenges = challenges.status(c.challenges, rows, now)
    if "rewards" in sections:
        snap.rewards_claimed = catalog.claims_count(session, view, user.id)
    if profile:
        snap.total_events = session.scalar(select(func.count()).select_from(Event).where(
            Event.campaign_id == view.campaign.id, Event.env == view.env, Event.user_id == user.id))
        snap.first_seen_at = user.created_at
        seen = [t for t in (user.created_at, balance and balance.last_active_at) if t is not None]
        snap.last_seen_at = max(seen)
        snap.is_active = now - snap.last_seen_at <= PARTICIPANT_ACTIVE_WINDOW
    return snap


# -- events ----------------------------------------------------------------------

@dataclass
class Recorded:
    user: User
    duplicate: bool
    points_earned: int
    badges_earned: list[dict]
    tier: dict | None


def record(session: Session, view: View, user: User, *, event_type: str, properties: dict | None,
           client_id: str | None, now: datetime, rng=None) -> Recorded:
    """POST /events: the one engine path every event takes (events.record_event)."""
    result = events.record_event(session, view, user, name=event_type, data=properties,
                                 client_id=client_id, now=now, rng=rng, any_category=True)
    badges = {bd["code"]: bd for bd in view.compiled.badges}
    earned = [badges[code] for kind, code in result.outcome.achieved
              if kind == settling.BADGE and code in badges]
    total_earned = ledger.get_balances(session, view.campaign.id, user.id, view.env).total_earned
    tier, _ = settling.current_tier(view.compiled.tiers, total_earned)
    return Recorded(user, result.duplicate, result.outcome.paid_to(user.id), earned, tier)
