"""Standings: the one query behind every leaderboard (APIs, widget, dashboard).

Users are ranked by their total in the campaign; ties go to whoever reached
that total first (``total_reached_at``), then to the older account. Ranks
are positions: 1, 2, 3... Users with no positive total are not ranked.
Always live: read straight from the balances, no periodic rebuild.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from models import Balance, User

from engine.ledger import buckets
from engine.definitions.campaigns import View
from engine.errors import InvalidInput

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
    """The user's position, or None when they have no positive total.

    Users in higher score buckets are counted from the bucket table; inside
    the user's own bucket, two short index ranges count who is ahead.
    """
    if user_id is None:
        return None
    me = session.get(Balance, (view.campaign.id, user_id, view.env))
    if me is None or me.total <= 0:
        return None
    cid, env = view.campaign.id, view.env
    mine = buckets.bucket_of(me.total)
    _, high = buckets.bounds(mine)
    here = (Balance.campaign_id == cid, Balance.env == env)
    higher_in_bucket = session.scalar(select(func.count()).select_from(Balance).where(
        *here, Balance.total > me.total, Balance.total < high))
    tied_ahead = session.scalar(select(func.count()).select_from(Balance).where(
        *here, Balance.total == me.total,
        or_(Balance.total_reached_at < me.total_reached_at,
            and_(Balance.total_reached_at == me.total_reached_at, Balance.user_id < user_id))))
    return buckets.users_above(session, cid, env, mine) + int(higher_in_bucket) + int(tied_ahead) + 1


def around(session: Session, view: View, user_id: int | None, n: int) -> list[Standing]:
    """The ``n`` users above the caller, the caller, and the ``n`` below.

    Walks the rank index from the caller's row in both directions (keyset),
    so a caller deep in a long board costs as little as one near the top.
    """
    rank = rank_of(session, view, user_id)
    if rank is None:
        return []
    me = session.get(Balance, (view.campaign.id, user_id, view.env))
    base = _ranked(view)
    mine = tuple_(Balance.total_reached_at, Balance.user_id)
    me_key = (me.total_reached_at, me.user_id)
    ahead = session.execute(base.where(Balance.total == me.total, mine < me_key).order_by(
        Balance.total_reached_at.desc(), Balance.user_id.desc()).limit(n)).all()
    if len(ahead) < n:
        ahead += session.execute(base.where(Balance.total > me.total).order_by(
            Balance.total.asc(), Balance.total_reached_at.desc(), Balance.user_id.desc())
            .limit(n - len(ahead))).all()
    behind = session.execute(base.where(Balance.total == me.total, mine > me_key).order_by(
        Balance.total_reached_at.asc(), Balance.user_id.asc()).limit(n)).all()
    if len(behind) < n:
        behind += session.execute(base.where(Balance.total < me.total).order_by(*ORDER)
                                  .limit(n - len(behind))).all()
    me_row = session.execute(base.where(Balance.user_id == user_id)).one()
    rows = list(reversed(ahead)) + [me_row] + behind
    first = rank - len(ahead)
    return [Standing(first + i, u.id, u.account, public_name(u), u.avatar, b.total)
            for i, (b, u) in enumerate(rows)]


@dataclass(frozen=True)
class Board:
    rows: list[Standing]
    rank: int | None  # the caller's, when one was named


def board(session: Session, view: View, user_id: int | None, *, named: bool, offset: int = 0,
          limit: int = MAX_PAGE, around_n: int | None = None) -> Board:
    """The campaign's board as SPEC §2 defines it: v1 is the top 100; v2
    pages (offset/limit <= 100) or shows ``around_n`` users either side of
    the caller, and needs a caller (InvalidInput without)."""
    v2 = (view.definition.get("leaderboard") or {}).get("version", 1) == 2
    if v2 and not named:
        raise InvalidInput("account and platform are required (this campaign has a v2 leaderboard)")
    if v2 and around_n is not None:
        rows = around(session, view, user_id, around_n)
    elif v2:
        rows = standings(session, view, offset=offset, limit=min(limit, MAX_PAGE))
    else:
        rows = standings(session, view, limit=TOP_V1)
    return Board(rows, rank_of(session, view, user_id) if named else None)
