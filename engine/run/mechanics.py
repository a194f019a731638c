"""Campaign mechanics fed by events: points per event type and the instant-win
trigger (SPEC §2 `mechanics`); milestones are settled with the run (run/settling.py)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import jmespath


from engine.run import instant_win
from engine.definitions.compiled import Compiled
from engine.run.tasks import Run, finite_number

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
