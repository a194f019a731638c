"""What a run earns beyond points: milestones, the streak, tiers and badges (SPEC §2).

``check_milestones(run)`` then ``settle(run)`` are called by ``tasks.Run.finish`` after every credit of the
run (tasks, mechanics, milestones, challenges) so that tiers and badges see
the final ``total_earned``. Tiers are over ``total_earned`` (spending never
demotes): every tier at or below it that has no achievement row yet is
recorded now, so a tier added by a new version, or a referrer credited in
someone else's run, is caught up at the user's next activity.

Badge criteria live in ``CRITERIA``: kind -> function. Adding a kind is one
function and one entry (plus its schema).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select

from models import Achievement, Event, EventCount, MilestoneReached, Streak

from engine import ledger
from engine.run import streaks

TIER, BADGE, CHALLENGE = "tier", "badge", "challenge"


# -- achievements, loaded once per run -------------------------------------------

def achievements(run) -> dict[tuple[str, str], Achievement]:
    """The user's achievement rows by (kind, code), cached on the run."""
    if run.achievements is None:
        rows = run.session.scalars(select(Achievement).where(
            Achievement.campaign_id == run.campaign_id, Achievement.env == run.env,
            Achievement.user_id == run.user.id))
        run.achievements = {(a.kind, a.code): a for a in rows}
    return run.achievements


def achievement(run, kind: str, code: str) -> Achievement:
    """The row for (kind, code), added (not yet achieved) if missing."""
    rows = achievements(run)
    row = rows.get((kind, code))
    if row is None:
        row = Achievement(campaign_id=run.campaign_id, env=run.env, user_id=run.user.id,
                          kind=kind, code=code, progress=0, achieved_at=None)
        run.session.add(row)
        rows[(kind, code)] = row
    return row


def achieved(run, kind: str, code: str) -> bool:
    row = achievements(run).get((kind, code))
    return row is not None and row.achieved_at is not None


def _reach(run, kind: str, item: dict, webhook: str) -> None:
    achievement(run, kind, item["code"]).achieved_at = run.now
    run.outcome.achieved.append((kind, item["code"]))
    run.emit(webhook, {"code": item["code"], "name": item["name"]})


# -- event counts ----------------------------------------------------------------

def count_event(run, event: Event) -> None:
    """One more event of its type, for badges that count that type.

    The counter remembers the last event it counted, and each update counts
    the events of the type stored since (normally just this one): a counter
    left behind while no badge read it (a version without the badge) catches
    up when a badge reads it again, and the first update counts everything
    already stored, so a badge added by a later version counts earlier events.
    Event types no badge counts cost nothing.
    """
    name = event.name
    if name not in run.c.badge_event_types:
        return
    key = (run.campaign_id, run.env, run.user.id, name)
    row = run.session.get(EventCount, key)
    since = select(func.count()).select_from(Event).where(
        Event.campaign_id == run.campaign_id, Event.env == run.env,
        Event.user_id == run.user.id, Event.name == name, Event.id <= event.id)
    if row is None:
        run.session.add(EventCount(campaign_id=run.campaign_id, env=run.env, user_id=run.user.id,
                                   name=name, count=run.session.scalar(since), last_event_id=event.id))
    else:
        row.count += run.session.scalar(since.where(Event.id > row.last_event_id))
        row.last_event_id = event.id
    run.event_names.add(name)


def event_count(session, campaign_id: int, env: str, user_id: int, name: str) -> int:
    row = session.get(EventCount, (campaign_id, env, user_id, name))
    return row.count if row else 0


# -- badge criteria --------------------------------------------------------------

@dataclass
class BadgeFacts:
    """What badge criteria look at, for one user after a run (criteria kind -> function in CRITERIA)."""

    run: object
    total_earned: int
    longest_streak: int


def _events(s: BadgeFacts, crit: dict) -> bool:
    # Counts only move when such an event arrives: no query for other runs.
    if crit["event_type"] not in s.run.event_names:
        return False
    r = s.run
    return event_count(r.session, r.campaign_id, r.env, r.user.id, crit["event_type"]) >= crit["count"]


CRITERIA: dict[str, Callable[[BadgeFacts, dict], bool]] = {
    "event_type": _events,
    "points": lambda s, crit: s.total_earned >= crit["points"],
    "streak": lambda s, crit: s.longest_streak >= crit["streak"],
}


def criteria_kind(crit: dict) -> str:
    return next(k for k in CRITERIA if k in crit)


# -- settling a run --------------------------------------------------------------

def settle(run) -> None:
    """Count the streak period, then record the tiers and badges now reached."""
    c = run.c
    if not c.has_progression:
        return
    earned = ledger.lock_balance(run.session, run.campaign_id, run.user.id, run.env, run.now,
                                 active=run.active).total_earned
    streak = None
    if c.streak is not None:
        # An award counts for the streak (SPEC §2) whatever posted it: the
        # Rewards API award and /user/reward post their entries directly, not
        # through run.credit, so outcome.payouts alone missed them. Any credit
        # to this user in this run raised total_earned since the run began.
        if run.streak_activity or earned > run.earned_at_start:
            streak = streaks.touch(run.session, c.streak, campaign_id=run.campaign_id, env=run.env,
                                   user_id=run.user.id, now=run.now, tz=c.timezone)
        elif any("streak" in b["criteria"] for b in c.badges):
            streak = run.session.get(Streak, (run.campaign_id, run.env, run.user.id))
    for tier in c.tiers:
        if tier["points_required"] > earned:
            break
        if not achieved(run, TIER, tier["code"]):
            _reach(run, TIER, tier, "tier.reached")
    if c.badges:
        standing = BadgeFacts(run, earned, streak.longest if streak else 0)
        for badge in c.badges:
            crit = badge["criteria"]
            if not achieved(run, BADGE, badge["code"]) and CRITERIA[criteria_kind(crit)](standing, crit):
                _reach(run, BADGE, badge, "badge.earned")


def current_tier(tiers: tuple[dict, ...], total_earned: int) -> tuple[dict | None, dict | None]:
    """(the highest tier reached, the next one) for ``total_earned``."""
    reached = None
    for tier in tiers:
        if tier["points_required"] > total_earned:
            return reached, tier
        reached = tier
    return reached, None


def check_milestones(run) -> None:
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


def milestone_status(run) -> list[dict]:
    milestones = (run.c.definition.get("mechanics") or {}).get("milestones") or []
    if not milestones:
        return []
    reached = set(run.session.scalars(select(MilestoneReached.code).where(
        MilestoneReached.campaign_id == run.campaign_id, MilestoneReached.env == run.env,
        MilestoneReached.user_id == run.user.id)))
    return [{"code": m["code"], "name": m["name"], "threshold": m["threshold"],
             "reached": m["code"] in reached} for m in milestones]
