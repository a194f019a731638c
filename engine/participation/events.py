"""Inputs from partners: events, action values, stream values, visits.

Each stores what it must and hands the input to the task engine, which
advances only the actions it feeds.
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from models import Event, User

from engine.run import challenges, instant_win, settling
from engine.db import statements
from engine.definitions.campaigns import View
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run.mechanics import MechanicsResult, triggers_instant_win
from engine.run.mechanics import apply as apply_mechanics
from engine.run.tasks import Input, Outcome, Run

_system_random = random.SystemRandom()

MAX_DATA_BYTES = 64 * 1024
VALUE_TYPES = ("api_call", "api_number", "api_score")


_events = Event.__table__
_BY_CLIENT_ID = (
    select(_events).filter_by(**statements.OWNER_PARAMS, client_id=bindparam("client_id")))


@dataclass
class EventResult:
    event: Event
    duplicate: bool
    outcome: Outcome
    mechanics: MechanicsResult = field(default_factory=MechanicsResult)


def event_doc(event: Event, user: User) -> dict:
    """The event as queries and webhooks see it."""
    return {"id": event.client_id, "name": event.name, "category": event.category,
            "data": event.data or {}, "ts": event.ts, "account": user.account,
            "platform": user.platform}


def record_event(session: Session, view: View, user: User, *, name: str, now: datetime,
                 category: str | None = None, data: dict | None = None,
                 client_id: str | None = None, ts: int | None = None, rng=None,
                 any_category: bool = False) -> EventResult:
    """Store an event and advance every action and mechanic it matches.

    Mechanics (points per event type, instant win, milestones) match on the
    name alone, the event type of the Rewards and Participants APIs, which
    also match actions on the name alone (``any_category``). When
    the name triggers an instant-win play and the user has none left, this
    is a Conflict and nothing is recorded.

    An event whose ``client_id`` this user already sent to this campaign is
    not stored or counted again: the first one comes back as a duplicate.
    The period it counts in is decided by ``now``; the client's ``ts`` is
    only stored.
    """
    if data is not None and len(json.dumps(data, separators=(",", ":"))) > MAX_DATA_BYTES:
        raise InvalidInput(f"data must be at most {MAX_DATA_BYTES} bytes of JSON")
    run = Run(session, view, user, now)  # locks the user first: a repeated id is seen
    if client_id is not None:
        found = run.lookup(_BY_CLIENT_ID, client_id=client_id)
        if found:
            return EventResult(Event(**dict(zip(_events.c.keys(), found[0]))), True, run.finish())
    if triggers_instant_win(run.c, name) and run.c.running(now) and run.gate_open():
        instant_win.check_plays_left(run)
    event = _insert_event(session, campaign_id=view.campaign.id, env=view.env, user_id=user.id,
                          name=name, category=category, data=data, client_id=client_id, ts=ts,
                          received_at=now)
    doc = event_doc(event, user)
    # The Rewards and Participants APIs know no categories (any_category):
    # their events match actions on the name alone (eventType = event_type =
    # name). A Campaign API event matches category and name exactly.
    candidates = run.c.by_name.get(name, []) if any_category \
        else run.c.by_event.get((category, name), [])
    matched = [a for a in candidates if a.event[2] is None or a.event[2] == user.platform]
    _feed_all(run, matched, Input(event=doc))
    mech = apply_mechanics(run, name, data, rng or _system_random)
    # Streaks, badges and challenges (engine/run/settling.py): a stored event
    # counts for the streak; badge counters and challenges advance on its type.
    run.streak_activity = True
    settling.count_event(run, event)
    if run.c.challenges_by_event and run.c.running(now) and run.gate_open():
        challenges.on_event(run, name)
    # finish() checks milestones after everything the event paid (tasks,
    # pending bonuses, points, the prize).
    return EventResult(event, False, run.finish(), mech)


_INSERT_EVENT = insert(_events).returning(_events.c.id)


def _insert_event(session: Session, **values) -> Event:
    """Store the event at once with a Core INSERT (not the ORM's unit of
    work) and return it as a transient Event with its id."""
    row = statements.insert_returning(session, _INSERT_EVENT, values)
    return Event(id=row.id, **values)


def _feed_all(run: Run, actions: list, inp: Input) -> None:
    """Feed one input to several actions, their locks decided as it arrives.

    An action whose dep this very input pays stays locked for it, so what
    counts never depends on the order of the actions in the definition.
    """
    locked = {a.id for a in actions if run.locked(a)}
    for action in actions:
        if action.id in locked:
            run.outcome.locked.append(action.id)
        else:
            run.feed(action, inp)


def _action(view: View, aid: str, cid: str | None):
    action = view.compiled.actions.get(aid)
    if action is None:
        raise NotFound(f"unknown action {aid!r}")
    if cid is not None and action.quest != cid:
        raise NotFound(f"action {aid!r} is not in quest {cid!r}")
    return action


def _number(value, field: str = "value") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a number")
    return value


def feed_value(session: Session, view: View, user: User, *, aid: str, cid: str | None,
               value, now: datetime) -> Outcome:
    """POST /action/value: an api_call, api_number or api_score input. 409 when locked."""
    action = _action(view, aid, cid)
    if action.type not in VALUE_TYPES:
        raise InvalidInput(f"action {aid!r} is of type {action.type}; /action/value feeds "
                           + ", ".join(VALUE_TYPES))
    if value is None and action.type != "api_call":
        raise InvalidInput(f"value is required for {action.type} actions")
    if value is not None:
        value = _number(value)
        if action.type == "api_score" and value < 0:
            raise InvalidInput("value must be >= 0 for api_score actions")
    run = Run(session, view, user, now)
    reason = run.lock_reason(action)
    if reason:
        raise Conflict(reason)
    run.feed(action, Input(value=value))
    return run.finish()


def feed_stream(session: Session, view: View, user: User, *, stream: str, value,
                now: datetime) -> Outcome:
    """POST /stream/value: add ``value`` to every api_stream action of ``stream``."""
    value = _number(value)
    if value < 0:
        raise InvalidInput("value must be >= 0")
    run = Run(session, view, user, now)
    _feed_all(run, view.compiled.by_stream.get(stream, []), Input(value=value))
    return run.finish()


def complete_visit(session: Session, view: View, user: User, *, aid: str, now: datetime) -> Outcome:
    """A visit action clicked in the widget."""
    action = _action(view, aid, None)
    if action.type != "visit":
        raise InvalidInput(f"action {aid!r} is not a visit action")
    run = Run(session, view, user, now)
    reason = run.lock_reason(action)
    if reason:
        raise Conflict(reason)
    run.feed(action)
    return run.finish()


def list_events(session: Session, view: View, user: User | None, *, name: str | None = None,
                category: str | None = None, limit: int = 1000) -> list[Event]:
    if user is None:
        return []
    q = select(Event).where(Event.campaign_id == view.campaign.id, Event.env == view.env,
                            Event.user_id == user.id)
    if name is not None:
        q = q.where(Event.name == name)
    if category is not None:
        q = q.where(Event.category == category)
    return list(session.scalars(q.order_by(Event.id).limit(limit)))
