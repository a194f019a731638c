"""Standings: the one query behind every leaderboard (APIs, widget, dashboard).

Users are ranked by their total in the campaign; ties go to whoever reached
that total first (``total_reached_at``), then to the older account. Ranks
are positions: 1, 2, 3... Users with no positive total are not ranked.
Always live: read straight from the balances, no periodic rebuild.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import Balance, User

from .campaigns import View

TOP_V1 = 100
MAX_PAGE = 100
EMAIL = re.compile(r"^([^@\s]{1,64})@([^@\s]+\.[^@\s]+)$")


@dataclass(frozen=True)
class Standing:
    rank: int
    user_id: int
    account: str
    name: str
    avatar: str | None
    score: int


def public_name(user: User) -> str:
    """The display name, else the account; e-mail addresses are masked (a***@example.com)."""
    name = user.name or user.account
    m = EMAIL.match(name)
    if m:
        return f"{m.group(1)[0]}***@{m.group(2)}"
    return name


def _ranked(view: View):
    return select(Balance, User).join(User, User.id == Balance.user_id).where(
        Balance.campaign_id == view.campaign.id, Balance.env == view.env, Balance.total > 0)


ORDER = (Balance.total.desc(), Balance.total_reached_at.asc(), Balance.user_id.asc())


def standings(session: Session, view: View, *, offset: int = 0, limit: int = TOP_V1) -> list[Standing]:
    rows = session.execute(_ranked(view).order_by(*ORDER).offset(offset).limit(limit)).all()
    return [Standing(offset + i + 1, u.id, u.account, public_name(u), u.avatar, b.total)
            for i, (b, u) in enumerate(rows)]


def rank_of(session: Session, view: View, user_id: int | None) -> int | None:
    """The user's position, or None when they have no positive total."""
    if user_id is None:
        return None
    me = session.get(Balance, (view.campaign.id, user_id, view.env))
    if me is None or me.total <= 0:
        return None
    ahead = session.scalar(select(func.count()).select_from(Balance).where(
        Balance.campaign_id == view.campaign.id, Balance.env == view.env,
        or_(Balance.total > me.total,
            and_(Balance.total == me.total,
                 or_(Balance.total_reached_at < me.total_reached_at,
                     and_(Balance.total_reached_at == me.total_reached_at,
                          Balance.user_id < user_id))))))
    return int(ahead) + 1


def around(session: Session, view: View, user_id: int | None, n: int) -> list[Standing]:
    """The ``n`` users above the caller, the caller, and the ``n`` below."""
    rank = rank_of(session, view, user_id)
    if rank is None:
        return []
    start = max(0, rank - 1 - n)
    return standings(session, view, offset=start, limit=(rank - 1 - start) + 1 + n)
