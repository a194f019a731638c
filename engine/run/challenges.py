"""Challenges (SPEC §2 `challenges`): N events of a type inside a window,
paying ``reward_points`` once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from models import Event

from engine.run.settling import CHALLENGE, achievement, achievements

CHALLENGE_SOURCE = "challenge"


def on_event(run, name: str) -> None:
    """Advance the open challenges counting ``name``; the caller stored the event.

    A challenge's counter starts, the first time the user touches it, from
    the events already stored inside its window (one query), so a challenge
    published mid-window counts what came before it.
    """
    for ch in run.c.challenges_by_event.get(name, ()):
        if not ch.open_at(run.now):
            continue
        fresh = (CHALLENGE, ch.code) not in achievements(run)
        row = achievement(run, CHALLENGE, ch.code)
        if row.achieved_at is not None:
            continue
        if fresh:
            row.progress = run.session.scalar(select(func.count()).select_from(Event).where(
                Event.campaign_id == run.campaign_id, Event.env == run.env,
                Event.user_id == run.user.id, Event.name == name,
                Event.received_at >= ch.starts_at, Event.received_at < ch.ends_at))
        else:
            row.progress += 1
        if row.progress >= ch.count:
            row.achieved_at = run.now
            run.outcome.achieved.append((CHALLENGE, ch.code))
            run.credit(run.user.id, "event", ch.reward_points, source=CHALLENGE_SOURCE,
                       meta={"challenge": ch.code})


def status(challenges, rows: dict, now: datetime) -> dict:
    """{active, completed}: open challenges not yet completed, and completed ones."""
    done = {code for (kind, code), row in rows.items()
            if kind == CHALLENGE and row.achieved_at is not None}
    active = sum(1 for ch in challenges if ch.open_at(now) and ch.code not in done)
    return {"active": active, "completed": len(done)}
