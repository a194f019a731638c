"""Games (SPEC §2 `games`, §4 Games SDK): the catalog, plays, histories, standings.

A game is a way to reveal an instant-win draw: a play spends the game's
``points_to_unlock`` (a strict `play` ledger entry, so the balance never goes
below zero), draws from ``mechanics.instant_win.tiers`` on the server
(engine.run.instant_win.draw, source "game", which does not use up ``max_plays``)
and pays the prize. The animation in a client only shows the outcome.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import Play, User

from engine.ledger import buckets
from engine.run import instant_win
from engine.reads import leaderboard
from engine import ledger
from engine.definitions.campaigns import View
from engine.errors import Conflict, NotFound
from engine.run.tasks import Run

GAME_SOURCE = "game"
ACTIVE = "ACTIVE"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Game:
    type: str
    name: str
    description: str
    points_to_unlock: int
    status: str
    image_url: str | None
    config: dict

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``page`` counts from 1."""

    items: list[T]
    page: int
    limit: int
    total: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.total else 0

    @property
    def offset(self) -> int:
        return offset_of(self.page, self.limit)


def offset_of(page: int, limit: int) -> int:
    return (page - 1) * limit


def _game(raw: dict) -> Game:
    return Game(type=raw["type"], name=raw["name"], description=raw.get("description") or "",
                points_to_unlock=int(raw.get("points_to_unlock", 0)), status=raw["status"],
                image_url=raw.get("image_url"), config=dict(raw.get("config") or {}))


def list_games(view: View) -> list[Game]:
    """Every game of the campaign, in definition order, active or not (each carries its status)."""
    return [_game(raw) for raw in view.definition.get("games") or ()]


def get_game(view: View, game_type: str) -> Game:
    """The campaign's game of this type; NotFound when it has none."""
    for game in list_games(view):
        if game.type == game_type:
            return game
    raise NotFound(f"Game {game_type!r} not found")


@dataclass(frozen=True)
class Played:
    play: Play
    balance: int  # the user's total in the campaign after the cost and the prize


def play(session: Session, view: View, user: User, game_type: str, *, now: datetime, rng) -> Played:
    """Spend the game's cost, draw a prize on the server, pay it; flushes, never commits.

    NotFound for a type the campaign does not offer; Conflict (409) when the
    game is INACTIVE, when the campaign is not running or is closed to the
    user (invite-only without a code: such users earn nothing, SPEC §3), and
    InsufficientBalance (a Conflict) when the total is short of the cost. All
    are raised before anything is drawn or written.
    """
    game = get_game(view, game_type)
    if not game.active:
        raise Conflict(f"Game {game_type!r} is not active")
    if not view.compiled.running(now):
        raise Conflict("the campaign is not running; games cannot be played now")
    run = Run(session, view, user, now)  # the user's balance lock, held until commit
    if not run.gate_open():
        raise Conflict("this campaign is invite-only: claim an invite code first")
    if game.points_to_unlock > 0:
        ledger.post_entry(session, campaign_id=view.campaign.id, user_id=user.id, env=view.env,
                          kind="play", amount=-game.points_to_unlock, now=now, source=GAME_SOURCE,
                          version=view.version, meta={"game_type": game.type}, strict=True)
    draw = instant_win.draw(run, rng=rng, source=GAME_SOURCE, game_type=game.type,
                            points_spent=game.points_to_unlock)
    run.finish()  # a prize counts towards total_earned: milestones it crosses pay now
    balance = ledger.get_balances(session, view.campaign.id, user.id, view.env).total
    return Played(draw.play, balance)


def plays(session: Session, view: View, user: User, *, page: int = 1,
          limit: int = DEFAULT_LIMIT) -> Page[Play]:
    """The user's game plays in the campaign, newest first (event-triggered
    instant-win draws are not game plays and are left out)."""
    where = (Play.campaign_id == view.campaign.id, Play.env == view.env, Play.user_id == user.id,
             Play.source == GAME_SOURCE)
    total = session.scalar(select(func.count()).select_from(Play).where(*where))
    rows = session.scalars(select(Play).where(*where).order_by(Play.id.desc())
                           .offset(offset_of(page, limit)).limit(limit))
    return Page(list(rows), page, limit, int(total))


@dataclass(frozen=True)
class Ranked:
    standing: leaderboard.Standing
    games_played: int
    rewards_won: int  # game plays that won a prize


def standings(session: Session, view: View, *, page: int = 1,
              limit: int = DEFAULT_LIMIT) -> Page[Ranked]:
    """A page of engine.reads.leaderboard's standings, with each user's game counts.

    The total is the number of ranked users (a positive total), read from the
    score buckets the ranking already keeps: no second ranking query.
    """
    rows = leaderboard.standings(session, view, offset=offset_of(page, limit), limit=limit)
    counts = _play_counts(session, view, [s.user_id for s in rows])
    total = buckets.ranked_users(session, view.campaign.id, view.env)
    return Page([Ranked(s, *counts.get(s.user_id, (0, 0))) for s in rows], page, limit, total)


def _play_counts(session: Session, view: View, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not user_ids:
        return {}
    q = (select(Play.user_id, func.count(), func.sum(case((Play.tier.is_not(None), 1), else_=0)))
         .where(Play.campaign_id == view.campaign.id, Play.env == view.env,
                Play.user_id.in_(user_ids), Play.source == GAME_SOURCE)
         .group_by(Play.user_id))
    return {uid: (int(n), int(won or 0)) for uid, n, won in session.execute(q)}
