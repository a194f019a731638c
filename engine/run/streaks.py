"""Streaks (SPEC §2 `streaks`): consecutive periods with any activity.

A period is a local day or an ISO week in the campaign's time zone, so a
participant in New York keeps a daily streak by acting before *their*
midnight, across DST changes. A period counts when the participant sends an
event or is awarded points in it. Freezes: one is earned each time the
current streak reaches a multiple of ``earn_every`` (at most ``max`` held),
and the next activity after a gap spends one per missed period, so the
streak survives. A gap longer than the freezes held breaks the streak
(current starts again at 1, longest is kept); the freezes are then kept,
since spending them would have saved nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models import Streak

from engine.definitions.compiled import StreakRule
from engine.definitions.periods import zone


def period_index(period: str, now: datetime, tz: str) -> int:
    """Consecutive integers for consecutive local days (or ISO weeks)."""
    day = now.astimezone(zone(tz)).date().toordinal()
    if period == "daily":
        return day
    if period == "weekly":
        return (day - 1) // 7  # ordinal 1 (0001-01-01) is a Monday
    raise ValueError(f"unknown streak period {period!r}")


def touch(session: Session, rule: StreakRule, *, campaign_id: int, env: str, user_id: int,
          now: datetime, tz: str) -> Streak:
    """Count the period holding ``now``; the caller holds the user's lock."""
    idx = period_index(rule.period, now, tz)
    row = session.get(Streak, (campaign_id, env, user_id))
    if row is None:
        row = Streak(campaign_id=campaign_id, env=env, user_id=user_id, period=rule.period,
                     last_period=idx, current=0, longest=0, freezes=0, freezes_spent=0,
                     last_activity_at=now)
        session.add(row)
    elif row.period != rule.period:  # a new version changed daily <-> weekly: start afresh
        row.period, row.last_period, row.current, row.freezes = rule.period, idx, 0, 0
    row.last_activity_at = now
    if row.current and idx <= row.last_period:
        return row  # this period already counted (or the clock went back)
    missed = idx - row.last_period - 1 if row.current else 0
    if missed > row.freezes:
        row.current = 0
    elif missed > 0:
        row.freezes -= missed
        row.freezes_spent += missed
    row.current += 1
    row.last_period = idx
    row.longest = max(row.longest, row.current)
    if rule.freeze_every and row.current % rule.freeze_every == 0:
        row.freezes = min(rule.freeze_max, row.freezes + 1)
    return row


@dataclass(frozen=True)
class StreakView:
    current: int
    longest: int
    freezes: int
    last_activity_at: datetime


def view(row: Streak | None, rule: StreakRule | None, now: datetime, tz: str) -> StreakView | None:
    """The streak as of ``now``, without writing: a gap the freezes held cannot
    cover shows as a broken streak (current 0); one they cover shows the
    freezes that the next activity will spend already spent."""
    if row is None or rule is None or row.period != rule.period or not row.current:
        return None
    missed = period_index(rule.period, now, tz) - row.last_period - 1
    current, freezes = row.current, row.freezes
    if missed > freezes:
        current = 0
    elif missed > 0:
        freezes -= missed
    return StreakView(current, row.longest, freezes, row.last_activity_at)
