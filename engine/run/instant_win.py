"""Instant-win draws: tiers by probability, stock never oversold, win codes.

The draw happens on the server from an injectable random source (tests pass
a seeded random.Random); an animation only reveals the outcome.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Play, PrizeStock

from engine.run.codes import random_code
from engine.errors import Conflict, NotFound
from engine.db.storage import insert_ignore
from engine.run.tasks import Run


@dataclass(frozen=True)
class Draw:
    play: Play
    tier: str | None
    points: int
    win_code: str | None

    @property
    def won(self) -> bool:
        return self.tier is not None


def pick(tiers: list[dict], r: float) -> int | None:
    """The tier ``r`` (uniform in [0, 1)) lands on; None is "no prize"."""
    edge = 0.0
    for i, tier in enumerate(tiers):
        edge += tier["probability"]
        if r < edge:
            return i
    return None


def config(definition: dict) -> dict | None:
    return (definition.get("mechanics") or {}).get("instant_win")


def plays_used(session: Session, run: Run) -> int:
    return session.scalar(select(func.count()).select_from(Play).where(
        Play.campaign_id == run.campaign_id, Play.env == run.env, Play.user_id == run.user.id,
        Play.source == "event"))


def check_plays_left(run: Run) -> None:
    """409 before anything is recorded when the user used up max_plays."""
    iw = config(run.c.definition)
    limit = iw.get("max_plays") if iw else None
    if limit is not None and plays_used(run.session, run) >= limit:
        raise Conflict("User has exceeded maximum plays")


def _take_stock(session: Session, run: Run, tier: dict) -> bool:
    """Reserve one prize of a tier with a quantity; False when sold out."""
    key = {"campaign_id": run.campaign_id, "env": run.env, "tier": tier["name"]}
    insert_ignore(session, PrizeStock, {**key, "awarded": 0}, list(key))
    stock = session.scalars(select(PrizeStock).filter_by(**key).with_for_update()
                            .execution_options(populate_existing=True)).one()
    if stock.awarded >= tier["quantity"]:
        return False
    stock.awarded += 1
    return True


def draw(run: Run, *, rng, source: str, game_type: str | None = None, points_spent: int = 0) -> Draw:
    """Draw a tier for ``run.user``, pay its points, record the play."""
    iw = config(run.c.definition) or {"tiers": [], "prefix": "WIN"}
    tiers = iw.get("tiers", [])
    i = pick(tiers, rng.random())
    if i is not None and tiers[i].get("quantity") is not None and not _take_stock(run.session, run, tiers[i]):
        i = None  # landed on a sold-out tier: no prize
    tier = tiers[i] if i is not None else None
    points = int(tier["points"]) if tier else 0
    code = f"{iw.get('prefix', 'WIN')}-{random_code(8)}" if tier else None
    play = Play(play_id=str(uuid.uuid4()), campaign_id=run.campaign_id, env=run.env,
                user_id=run.user.id, source=source, game_type=game_type, points_spent=points_spent,
                tier=tier["name"] if tier else None, points_won=points, win_code=code,
                created_at=run.now)
    run.session.add(play)
    run.session.flush()
    if tier:
        run.credit(run.user.id, "instant_win", points, source="instant_win",
                   meta={"play_id": play.play_id, "tier": tier["name"], "win_code": code})
        run.emit("instant_win.won", {"prize_tier": tier["name"], "points": points, "win_code": code})
    return Draw(play, play.tier, points, code)


def find_win_code(session: Session, org_campaign_ids: list[int], code: str) -> Play:
    play = session.scalars(select(Play).where(Play.win_code == code,
                                              Play.campaign_id.in_(org_campaign_ids))).one_or_none()
    if play is None:
        raise NotFound(f"unknown win code {code!r}")
    return play


def redeem(session: Session, play: Play, now: datetime) -> Play:
    session.refresh(play, with_for_update=True)
    if play.redeemed_at is not None:
        raise Conflict("this win code has already been redeemed")
    play.redeemed_at = now
    session.flush()
    return play
