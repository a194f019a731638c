"""Campaign mechanics fed by events: points per event type, milestones, and
the instant-win trigger (SPEC §2 `mechanics`)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import jmespath
from sqlalchemy import select

from models import MilestoneReached

from . import instant_win, ledger
from .compiled import Compiled
from .tasks import Run, finite_number

MAX_EVENT_POINTS = 1_000_000_000


@dataclass
class MechanicsResult:
    draw: instant_win.Draw | None = None
    triggered: bool = False  # the event type triggers instant win in this campaign


def triggers_instant_win(c: Compiled, event_type: str) -> bool:
    iw = instant_win.config(c.definition)
    return bool(iw) and event_type in iw.get("event_types", [])


def _points(rule: dict, metadata: dict | None) -> int:
    if "points" in rule:
        return int(rule["points"])
    try:
        found = finite_number(jmespath.search(rule["points_query"], {"metadata": metadata or {}}))
    except (jmespath.exceptions.JMESPathError, OverflowError):
        return 0
    if found is None:
        return 0
    return max(0, min(MAX_EVENT_POINTS, math.floor(found)))


def apply(run: Run, event_type: str, metadata: dict | None, rng) -> MechanicsResult:
    """mechanics.points for the event type, then an instant-win draw if it triggers one.

    Call instant_win.check_plays_left first: a play over max_plays is a 409
    and must happen before anything is written.
    """
    if not run.c.running(run.now) or not run.gate_open():
        return MechanicsResult()
    mechanics = run.c.definition.get("mechanics") or {}
    for rule in mechanics.get("points", []):
        if rule["event_type"] == event_type:
            run.credit(run.user.id, "event", _points(rule, metadata), source="mechanics.points",
                       meta={"event_type": event_type})
    result = MechanicsResult(triggered=triggers_instant_win(run.c, event_type))
    if result.triggered:
        result.draw = instant_win.draw(run, rng=rng, source="event")
    return result


def check_milestones(run: Run) -> None:
    """Pay each milestone once, when total_earned crosses its threshold.

    Only thresholds crossed during this run are candidates, so an event costs
    no milestone query until one is reached. A milestone's reward counts
    towards the next one. (A milestone added by a new version below a user's
    total is not paid retroactively: they never cross it.)
    """
    milestones = (run.c.definition.get("mechanics") or {}).get("milestones") or []
    if not milestones:
        return
    earned = ledger.lock_balance(run.session, run.campaign_id, run.user.id, run.env, run.now,
                                 active=run.active).total_earned
    start = run.earned_at_start
    while True:
        crossed = [m for m in milestones if start < m["threshold"] <= earned]
        if not crossed:
            return
        done = set(run.session.scalars(select(MilestoneReached.code).where(
            MilestoneReached.campaign_id == run.campaign_id, MilestoneReached.env == run.env,
            MilestoneReached.user_id == run.user.id,
            MilestoneReached.code.in_([m["code"] for m in crossed]))))
        start = earned
        for m in sorted(crossed, key=lambda m: m["threshold"]):
            if m["code"] in done:
                continue
            run.session.add(MilestoneReached(campaign_id=run.campaign_id, env=run.env,
                                             user_id=run.user.id, code=m["code"], reached_at=run.now))
            run.credit(run.user.id, "milestone", int(m["reward_points"]), source="milestone",
                       meta={"code": m["code"]})
            earned += max(0, int(m["reward_points"]))


def milestone_status(run: Run) -> list[dict]:
    milestones = (run.c.definition.get("mechanics") or {}).get("milestones") or []
    if not milestones:
        return []
    reached = set(run.session.scalars(select(MilestoneReached.code).where(
        MilestoneReached.campaign_id == run.campaign_id, MilestoneReached.env == run.env,
        MilestoneReached.user_id == run.user.id)))
    return [{"code": m["code"], "name": m["name"], "threshold": m["threshold"],
             "reached": m["code"] in reached} for m in milestones]
