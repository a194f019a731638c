"""The ledger: the only way a balance changes (SPEC §1).

Every movement is an append-only entry; the cached ``balances`` row is
updated in the same transaction by :func:`post_entry` alone, under a row lock,
so it always equals the sum of the entries, and a strict debit can check the
total and write without another request slipping in between.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from models import Balance, CampaignCounter, LedgerEntry

from . import buckets, webhooks
from .errors import InsufficientBalance, InvalidInput
from .storage import held_locks, insert_ignore, upsert_add

KINDS = frozenset({
    "task", "referral", "ugc", "reward", "withdraw", "rule", "event", "milestone",
    "instant_win", "play", "claim", "adjustment",
})
# The kinds with a balance of their own; every other kind lands in xp.
BUCKET_OF_KIND = {"referral": "ref_xp", "ugc": "ugc_xp"}
MAX_AMOUNT = 1_000_000_000


@dataclass(frozen=True)
class Balances:
    xp: int = 0
    ref_xp: int = 0
    ugc_xp: int = 0
    total_earned: int = 0
    total_spent: int = 0

    @property
    def total(self) -> int:
        return self.xp + self.ref_xp + self.ugc_xp

    @classmethod
    def of(cls, row: Balance | None) -> "Balances":
        if row is None:
            return cls()
        return cls(row.xp, row.ref_xp, row.ugc_xp, row.total_earned, row.total_spent)


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    balances: Balances
    duplicate: bool  # the idempotency key had paid already; nothing was written


def bucket_of(kind: str) -> str:
    return BUCKET_OF_KIND.get(kind, "xp")


# Built once: every write runs it, and building a select costs about as much
# as running it.
_LOCKED_ROW = (
    select(Balance)
    .where(Balance.campaign_id == bindparam("campaign_id"), Balance.user_id == bindparam("user_id"),
           Balance.env == bindparam("env"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_balance(session: Session, campaign_id: int, user_id: int, env: str,
                 now: datetime, *, active: bool = True) -> Balance:
    """The balance row, created if missing, locked until the transaction ends,
    and (``active``) marked active at ``now``.

    Every write for one (campaign, user, env) goes through this lock, which
    serializes them on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    The row doubles as the user's participation in the campaign.
    """
    locked = held_locks(session)
    key = (campaign_id, user_id, env)
    if key in locked:
        if active:
            locked[key].last_active_at = now
        return locked[key]
    params = {"campaign_id": campaign_id, "user_id": user_id, "env": env}
    row = session.scalars(_LOCKED_ROW, params).one_or_none()
    if row is None:  # first activity: create the row (a racing request may win), then lock it
        insert_ignore(session, Balance, {
            "campaign_id": campaign_id, "user_id": user_id, "env": env, "xp": 0, "ref_xp": 0,
            "ugc_xp": 0, "total": 0, "total_earned": 0, "total_spent": 0, "first_seen_at": now,
        }, ["campaign_id", "user_id", "env"])
        row = session.scalars(_LOCKED_ROW, params).one()
    locked[key] = row
    if active:
        row.last_active_at = now
    return row


def post_entry(session: Session, *, campaign_id: int, user_id: int, env: str, kind: str,
               amount: int, now: datetime, source: str | None = None,
               idem_key: str | None = None, version: int | None = None,
               meta: dict | None = None, strict: bool = False, active: bool = True) -> Posted:
    """Append one entry and update the cached balance.

    ``idem_key``: an entry with the same key for this user, campaign and env
    means the movement happened already: nothing is written and the first
    entry comes back with ``duplicate=True``.
    ``strict``: refuse (InsufficientBalance) a debit that would take the
    user's total below zero.
    ``active``: False for a credit the user did nothing for (a referrer's
    share), which must not count them as active in /campaign/stats.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0 or abs(amount) > MAX_AMOUNT:
        raise InvalidInput(f"amount must be a non-zero integer of at most {MAX_AMOUNT}")
    row = lock_balance(session, campaign_id, user_id, env, now, active=active)
    if idem_key is not None:
        first = session.scalars(select(LedgerEntry).where(
            LedgerEntry.campaign_id == campaign_id, LedgerEntry.user_id == user_id,
            LedgerEntry.env == env, LedgerEntry.idem_key == idem_key,
        )).one_or_none()
        if first is not None:
            return Posted(first, Balances.of(row), duplicate=True)
    if strict and amount < 0 and row.total + amount < 0:
        raise InsufficientBalance(
            f"insufficient balance: total is {row.total}, {-amount} requested")
    entry = LedgerEntry(campaign_id=campaign_id, user_id=user_id, env=env, kind=kind,
                        amount=amount, source=source, idem_key=idem_key, version=version,
                        meta=meta, created_at=now)
    session.add(entry)
    bucket = bucket_of(kind)
    setattr(row, bucket, getattr(row, bucket) + amount)
    old_total = row.total
    row.total = row.xp + row.ref_xp + row.ugc_xp
    buckets.moved(session, campaign_id, env, old_total, row.total)
    row.total_reached_at = now
    if amount > 0:
        row.total_earned += amount
        _count_awarded(session, campaign_id, user_id, env, amount)
    else:
        row.total_spent += -amount
    session.flush()
    webhooks.emit(session, campaign_id=campaign_id, env=env, user_id=user_id,
                  type="points.rewarded" if amount > 0 else "points.withdrawn",
                  data={"amount": amount, "balance": row.total, "kind": kind,
                        "id": str((meta or {}).get("id") or entry.id)}, now=now)
    return Posted(entry, Balances.of(row), duplicate=False)


COUNTER_SLOTS = 16


def _count_awarded(session: Session, campaign_id: int, user_id: int, env: str, amount: int) -> None:
    slot = user_id % COUNTER_SLOTS
    upsert_add(session, CampaignCounter, {"campaign_id": campaign_id, "env": env, "slot": slot},
               "awarded", amount)


def points_awarded(session: Session, campaign_id: int, env: str) -> int:
    """Every positive amount ever paid in the campaign, all users together."""
    total = session.scalar(select(func.sum(CampaignCounter.awarded)).where(
        CampaignCounter.campaign_id == campaign_id, CampaignCounter.env == env))
    return int(total or 0)


def get_balances(session: Session, campaign_id: int, user_id: int | None, env: str) -> Balances:
    """The cached balances; zeros for a user with no entries (or no user)."""
    if user_id is None:
        return Balances()
    row = session.get(Balance, (campaign_id, user_id, env))
    return Balances.of(row)


def sum_entries(session: Session, campaign_id: int, user_id: int, env: str) -> Balances:
    """Balances recomputed from the entries themselves (audits and tests)."""
    amount = LedgerEntry.amount
    q = select(
        func.coalesce(func.sum(case((LedgerEntry.kind.notin_(list(BUCKET_OF_KIND)), amount), else_=0)), 0),
        func.coalesce(func.sum(case((LedgerEntry.kind == "referral", amount), else_=0)), 0),
        func.coalesce(func.sum(case((LedgerEntry.kind == "ugc", amount), else_=0)), 0),
        func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
        func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0),
    ).where(LedgerEntry.campaign_id == campaign_id, LedgerEntry.user_id == user_id,
            LedgerEntry.env == env)
    xp, ref_xp, ugc_xp, earned, spent = session.execute(q).one()
    return Balances(int(xp), int(ref_xp), int(ugc_xp), int(earned), int(spent))


def entries(session: Session, campaign_id: int, user_id: int, env: str, *,
            source: str | None = None, limit: int = 1000) -> list[LedgerEntry]:
    """A user's entries, oldest first, optionally of one source."""
    q = select(LedgerEntry).where(LedgerEntry.campaign_id == campaign_id,
                                  LedgerEntry.user_id == user_id, LedgerEntry.env == env)
    if source is not None:
        q = q.where(LedgerEntry.source == source)
    return list(session.scalars(q.order_by(LedgerEntry.id).limit(limit)))


def recent(session: Session, campaign_id: int, user_id: int, env: str, limit: int = 10) -> list[LedgerEntry]:
    """A user's latest entries, newest first (the widget's activity list)."""
    return list(session.scalars(select(LedgerEntry).where(
        LedgerEntry.campaign_id == campaign_id, LedgerEntry.user_id == user_id,
        LedgerEntry.env == env).order_by(LedgerEntry.id.desc()).limit(limit)))
