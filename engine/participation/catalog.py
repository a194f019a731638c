"""The rewards catalog (SPEC §2 `rewards`): rewards a user claims with points."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import CatalogClaim, CatalogStock, User

from engine import ledger
from engine.definitions.campaigns import View
from engine.errors import NotFound, OutOfStock
from engine.db.storage import insert_ignore
from engine.run.tasks import Run

CLAIM_SOURCE = "catalog"


@dataclass(frozen=True)
class Claimed:
    claim: CatalogClaim
    balances: ledger.Balances


def find(view: View, code: str) -> dict:
    reward = next((r for r in view.definition.get("rewards", []) if r["code"] == code), None)
    if reward is None:
        raise NotFound(f"unknown reward {code!r}")
    return reward


def claim(session: Session, view: View, user: User, *, code: str, now: datetime) -> Claimed:
    """Spend ``cost`` points on reward ``code``.

    InsufficientBalance (409) when the total is short: the debit is strict,
    taken under the user's balance lock, so the balance never goes negative.
    OutOfStock (409) once ``quantity`` claims were made: the stock row is
    bumped with a conditional UPDATE, which concurrent claims serialize on.
    """
    reward = find(view, code)
    cost = int(reward["cost"])
    run = Run(session, view, user, now)  # the user's lock
    entry_id = None
    if cost > 0:
        posted = ledger.post_entry(
            session, campaign_id=view.campaign.id, user_id=user.id, env=view.env, kind="claim",
            amount=-cost, now=now, source=CLAIM_SOURCE, version=view.version,
            meta={"code": code}, strict=True)
        entry_id = posted.entry.id
    if reward.get("quantity") is not None:
        key = {"campaign_id": view.campaign.id, "env": view.env, "code": code}
        insert_ignore(session, CatalogStock, {**key, "claimed": 0}, list(key))
        taken = session.execute(
            update(CatalogStock).filter_by(**key)
            .where(CatalogStock.claimed < int(reward["quantity"]))
            .values(claimed=CatalogStock.claimed + 1)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            raise OutOfStock(f"reward {code!r} is out of stock")
    row = CatalogClaim(campaign_id=view.campaign.id, env=view.env, user_id=user.id, code=code,
                       name=reward["name"], cost=cost, ledger_entry_id=entry_id, claimed_at=now)
    session.add(row)
    run.finish()
    return Claimed(row, ledger.get_balances(session, view.campaign.id, user.id, view.env))


def claims_count(session: Session, view: View, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(CatalogClaim).where(
        CatalogClaim.campaign_id == view.campaign.id, CatalogClaim.env == view.env,
        CatalogClaim.user_id == user_id))
