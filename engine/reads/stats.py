"""Campaign-wide figures: points awarded, seasons, participation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Balance

from engine import ledger
from engine.definitions.campaigns import View

# SPEC §3: campaign stats count a user active after any activity in the last 7 days.
STATS_ACTIVE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Season:
    index: int
    name: str | None
    max_xp: int | None
    points: int


def season_of(seasons: list[dict], total: int) -> Season:
    """Consecutive seasons, each spanning ``max_xp`` of the campaign's points.

    Reaching a boundary exactly starts the next season at 0; past the last
    one the campaign stays in it with its points capped at its max_xp.
    """
    if not seasons:
        return Season(0, None, None, total)
    start = 0
    for i, s in enumerate(seasons):
        end = start + s["max_xp"]
        if total < end:
            return Season(i, s["name"], s["max_xp"], total - start)
        start = end
    last = seasons[-1]
    return Season(len(seasons) - 1, last["name"], last["max_xp"], last["max_xp"])


def points(session: Session, view: View) -> tuple[int, Season]:
    total = ledger.points_awarded(session, view.campaign.id, view.env)
    return total, season_of(view.definition.get("seasons", []), total)


def participation(session: Session, view: View, now: datetime) -> tuple[int, int]:
    """(users with any activity in the campaign, users active in the last 7 days)."""
    where = (Balance.campaign_id == view.campaign.id, Balance.env == view.env)
    total = session.scalar(select(func.count()).select_from(Balance).where(*where))
    active = session.scalar(select(func.count()).select_from(Balance).where(
        *where, Balance.last_active_at >= now - STATS_ACTIVE_WINDOW))
    return int(total), int(active)
