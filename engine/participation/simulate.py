"""Dry runs: what a draft would pay, step by step, writing nothing.

The inputs go through the real engine against the draft and the user's
sandbox data, inside a savepoint that is always rolled back.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import Campaign

from engine.definitions import campaigns
from engine.participation import events
from engine.access import users
from engine.errors import Conflict
from engine.ledger import bucket_of
from engine.run.tasks import Outcome


def _step(kind: str, given: dict, outcome: Outcome, user_id: int) -> dict:
    return {
        "input": {"kind": kind, **given},
        "advanced": outcome.advanced,
        "completed": outcome.completed,
        "quests_completed": outcome.quests,
        "locked": outcome.locked,
        "paid": sum(p.amount for p in outcome.payouts if p.user_id == user_id),
    }


def simulate(session: Session, campaign: Campaign, *, account: str, platform: str, now: datetime,
             events_in: list[dict] = (), values: list[dict] = (),
             streams: list[dict] = ()) -> dict:
    """Run events, then values, then stream values, each list in order."""
    view = campaigns.view(campaign, "dev")
    savepoint = session.begin_nested()
    try:
        user = users.ensure_user(session, campaign.org_id, account, platform, now)
        steps = []
        paid = {"xp": 0, "ref_xp": 0, "ugc_xp": 0}
        for ev in events_in:
            r = events.record_event(session, view, user, name=ev["name"], category=ev.get("category"),
                                    data=ev.get("data"), now=now)
            steps.append(_step("event", ev, r.outcome, user.id))
            _add(paid, r.outcome, user.id)
        for v in values:
            try:
                o = events.feed_value(session, view, user, aid=v["aid"], cid=v.get("cid"),
                                      value=v.get("value"), now=now)
            except Conflict as exc:  # a locked action: report it and go on, as a dry run should
                steps.append({"input": {"kind": "value", **v}, "error": exc.message, "paid": 0})
                continue
            steps.append(_step("value", v, o, user.id))
            _add(paid, o, user.id)
        for s in streams:
            o = events.feed_stream(session, view, user, stream=s["stream"], value=s["value"], now=now)
            steps.append(_step("stream", s, o, user.id))
            _add(paid, o, user.id)
        return {"steps": steps, "paid": paid}
    finally:
        savepoint.rollback()


def _add(paid: dict, outcome: Outcome, user_id: int) -> None:
    for p in outcome.payouts:
        if p.user_id == user_id:
            paid[bucket_of(p.kind)] += p.amount
