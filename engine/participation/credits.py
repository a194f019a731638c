"""Partner-driven credits and debits: claimr's /user/reward and /user/withdraw."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models import User

from engine import ledger
from engine.errors import InvalidInput
from engine.definitions.campaigns import View
from engine.run.tasks import Run

WITHDRAW_SOURCE = "api.withdraw"


@dataclass(frozen=True)
class Movement:
    balances: ledger.Balances
    duplicate: bool


def reward(session: Session, view: View, user: User, *, reward_id: str, xp: int,
           kind: str | None, now: datetime) -> Movement:
    """Credit ``xp``: kind ``ugc`` into ugc_xp, anything else into xp.

    ``reward_id`` is unique per user, campaign and env: a repeat is a no-op.
    The client's kind is kept in the entry's metadata for /user/activity.
    """
    run = Run(session, view, user, now)  # its finish() pays milestones this credit crosses
    posted = ledger.post_entry(
        session, campaign_id=view.campaign.id, user_id=user.id, env=view.env,
        kind="ugc" if kind == "ugc" else "reward", amount=xp, now=now,
        source=ledger.REWARD_SOURCE, idem_key=f"reward:{reward_id}", version=view.version,
        meta={"id": reward_id, "kind": kind or "reward"},
    )
    run.finish()
    return Movement(ledger.get_balances(session, view.campaign.id, user.id, view.env), posted.duplicate)


def withdraw(session: Session, view: View, user: User, *, withdraw_id: str, xp: int,
             strict: bool, now: datetime) -> Movement:
    """Debit ``xp`` from xp; ``strict`` refuses to take the total below zero.

    Withdrawal ids live in their own namespace, so a client may revoke reward
    "order-1" with withdrawal "order-1".
    """
    posted = ledger.post_entry(
        session, campaign_id=view.campaign.id, user_id=user.id, env=view.env, kind="withdraw",
        amount=-xp, now=now, source=WITHDRAW_SOURCE, idem_key=f"withdraw:{withdraw_id}",
        version=view.version, meta={"id": withdraw_id, "strict": strict}, strict=strict,
    )
    return Movement(posted.balances, posted.duplicate)


ADJUST_SOURCE = "dashboard.adjustment"
MAX_REASON = 500


def adjust(session: Session, view: View, user: User, *, amount: int, reason: str, operator: str,
           now: datetime) -> Movement:
    """An operator's correction: an `adjustment` entry naming who and why.

    A debit is strict (the total never goes below zero); a credit counts
    like any other (milestones, tiers, the streak).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a reason is required")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason must be at most {MAX_REASON} characters")
    run = Run(session, view, user, now)
    posted = ledger.post_entry(
        session, campaign_id=view.campaign.id, user_id=user.id, env=view.env, kind="adjustment",
        amount=amount, now=now, source=ADJUST_SOURCE, version=view.version,
        meta={"operator": operator, "reason": reason}, strict=amount < 0)
    run.finish()
    return Movement(ledger.get_balances(session, view.campaign.id, user.id, view.env), posted.duplicate)
