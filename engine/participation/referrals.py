"""Referral ids, who referred whom, and the bonuses a referral pays."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Campaign, LedgerEntry, RefCode, Referral, User

from engine import ledger
from engine.definitions.campaigns import View
from engine.run.codes import random_code
from engine.errors import Conflict, InvalidInput, NotFound
from engine.db.storage import insert_ignore
from engine.run.tasks import Outcome, Run

MAX_CHAIN = 10_000
REFERRAL_LOCK = 0x5145_5246  # advisory lock namespace for set_referrer ("QERF")


def find_ref_id(session: Session, campaign: Campaign, user: User | None) -> str | None:
    if user is None:
        return None
    row = session.get(RefCode, (campaign.id, user.id))
    return row.ref_id if row else None


def ensure_ref_id(session: Session, campaign: Campaign, user: User, now: datetime) -> str:
    """The user's referral id in the campaign, created on first call."""
    existing = find_ref_id(session, campaign, user)
    if existing:
        return existing
    for _ in range(5):
        code = random_code(8)
        taken = session.scalars(select(RefCode).where(RefCode.campaign_id == campaign.id,
                                                      RefCode.ref_id == code)).first()
        if taken is None:
            break
    insert_ignore(session, RefCode, {"campaign_id": campaign.id, "user_id": user.id,
                                     "ref_id": code, "created_at": now}, ["campaign_id", "user_id"])
    # A concurrent first call may have won: whatever is stored is the id.
    return session.scalars(select(RefCode.ref_id).where(
        RefCode.campaign_id == campaign.id, RefCode.user_id == user.id)).one()


def user_by_ref_id(session: Session, campaign: Campaign, ref_id: str) -> User:
    row = session.scalars(select(RefCode).where(RefCode.campaign_id == campaign.id,
                                                RefCode.ref_id == ref_id)).one_or_none()
    if row is None:
        raise NotFound(f"unknown ref_id {ref_id!r}")
    return session.get(User, row.user_id)


def referrer_of(session: Session, view: View, user_id: int) -> int | None:
    row = session.get(Referral, (view.campaign.id, view.env, user_id))
    return row.referrer_id if row else None


def set_referrer(session: Session, view: View, user: User, referrer: User, now: datetime) -> Outcome:
    """Record that ``referrer`` referred ``user``, once; pay the bonuses.

    409 when the user already has a referrer; 400 for a self-referral or a
    referral that would close a cycle (A referred B referred ... A).
    """
    if user.id == referrer.id:
        raise InvalidInput("a user cannot refer themselves")
    # Referrals of a campaign are set one at a time: two requests closing a
    # cycle between four users (B<-A with D<-C, then C<-B with A<-D) lock
    # different rows, and each chain walk would miss the other's link.
    # SQLite's write lock already serializes them.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(REFERRAL_LOCK, view.campaign.id % 2**31)))
    # Lock both users in id order: two requests making A and B refer each
    # other must not both pass the cycle check.
    for uid in sorted((user.id, referrer.id)):
        ledger.lock_balance(session, view.campaign.id, uid, view.env, now, active=uid == user.id)
    if referrer_of(session, view, user.id) is not None:
        raise Conflict("this user's referrer is already set")
    up, steps = referrer.id, 0
    while up is not None and steps < MAX_CHAIN:
        if up == user.id:
            raise InvalidInput("this referral would create a cycle")
        up, steps = referrer_of(session, view, up), steps + 1
    referral = Referral(campaign_id=view.campaign.id, env=view.env, user_id=user.id,
                        referrer_id=referrer.id, created_at=now)
    session.add(referral)
    session.flush()
    run = Run(session, view, user, now)
    run.emit("referral.created", {"ref_account": referrer.account, "ref_platform": referrer.platform})
    outcome = run.finish()  # pays the bonuses when the campaign is open to this user
    # The referrer's "referrals" tasks count this one.
    referrer_run = Run(session, view, referrer, now, active=False)
    referrer_run.recheck_states([a.id for a in view.compiled.by_type.get("referrals", [])])
    return outcome.merge(referrer_run.finish())


def referrals_of(session: Session, view: View, referrer: User | None) -> list[dict]:
    """Users ``referrer`` referred, oldest first, with what each earned the referrer."""
    if referrer is None:
        return []
    rows = session.execute(
        select(Referral, User).join(User, User.id == Referral.user_id)
        .where(Referral.campaign_id == view.campaign.id, Referral.env == view.env,
               Referral.referrer_id == referrer.id)
        .order_by(Referral.created_at, Referral.user_id)).all()
    earned: dict[int, int] = {}
    for entry in session.scalars(select(LedgerEntry).where(
            LedgerEntry.campaign_id == view.campaign.id, LedgerEntry.env == view.env,
            LedgerEntry.user_id == referrer.id, LedgerEntry.kind == "referral")):
        referee = (entry.meta or {}).get("referee_id")
        if referee is not None:
            earned[referee] = earned.get(referee, 0) + entry.amount
    out = []
    for referral, user in rows:
        balances = ledger.get_balances(session, view.campaign.id, user.id, view.env)
        out.append({"user": user, "ref_xp": earned.get(user.id, 0), "total": balances.total,
                    "created_at": referral.created_at})
    return out
