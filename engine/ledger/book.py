"""The ledger: the only way a balance changes (SPEC §1).

Every movement is an append-only entry; the cached ``balances`` row is
updated in the same transaction by :func:`post_entry` alone, under a row lock,
so it always equals the sum of the entries, and a strict debit can check the
total and write without another request slipping in between.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Balance, CampaignCounter, LedgerEntry

from engine.ledger import buckets
from engine.db import statements
from engine.outbox import webhooks
from engine.errors import InsufficientBalance, InvalidInput
from engine.definitions.checks import MAX_AMOUNT
from engine.db.storage import held_locks, insert_ignore, upsert_add

KINDS = frozenset({
    "task", "referral", "ugc", "reward", "withdraw", "rule", "event", "milestone",
    "instant_win", "play", "claim", "adjustment",
})
# The kinds with a balance of their own; every other kind lands in xp.
BUCKET_OF_KIND = {"referral": "ref_xp", "ugc": "ugc_xp"}
# The source of claimr's /user/reward credits, which GET /user/activity lists.
REWARD_SOURCE = "api.reward"


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
    def of(cls, row: "Balance | None") -> "Balances":
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


_balances = Balance.__table__
_KEY = ("campaign_id", "user_id", "env")
_WHERE_KEY = statements.where_key(_balances, _KEY)
# The row is read as the Balance entity's columns (statements.entity).
_COLUMNS = statements.entity_columns(Balance)
# Locking a row and marking the user active is one statement (an UPDATE
# locks the row on PostgreSQL as FOR UPDATE does); a credit the user did
# nothing for only locks.
_LOCK_ACTIVE = update(_balances).where(*_WHERE_KEY).returning(*_COLUMNS)
_LOCK = select(*_COLUMNS).where(*_WHERE_KEY).with_for_update()
_WRITE = update(_balances).where(*_WHERE_KEY)


def _key_params(key: tuple) -> dict:
    return statements.key_params(dict(zip(_KEY, key)))


def _lock_row(session: Session, key: tuple, now: datetime, active: bool):
    params = _key_params(key)
    if active:
        return statements.first(session, _LOCK_ACTIVE, {**params, "last_active_at": now})
    return statements.first(session, _LOCK, params)


def _write(session: Session, balance: Balance, values: dict) -> None:
    """Write ``values`` to the locked row at once (a later statement in the
    transaction sees them) and into the entity as committed state, so a
    flush has nothing left to write."""
    key = (balance.campaign_id, balance.user_id, balance.env)
    statements.execute(session, _WRITE, {**values, **_key_params(key)})
    for column, value in values.items():
        set_committed_value(balance, column, value)


def lock_balance(session: Session, campaign_id: int, user_id: int, env: str,
                 now: datetime, *, active: bool = True) -> Balance:
    """The balance row, created if missing, locked until the transaction ends,
    and (``active``) marked active at ``now``.

    Every write for one (campaign, user, env) goes through this lock, which
    serializes them on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    The row doubles as the user's participation in the campaign. Only the
    ledger changes the entity returned, through its own UPDATE statements.
    """
    locked = held_locks(session)
    key = (campaign_id, user_id, env)
    balance = locked.get(key)
    if balance is not None:
        if active and balance.last_active_at != now:
            _write(session, balance, {"last_active_at": now})
        return balance
    found = _lock_row(session, key, now, active)
    if found is None:  # first activity: create the row (a racing request may win), then lock it
        insert_ignore(session, Balance, {
            "campaign_id": campaign_id, "user_id": user_id, "env": env, "xp": 0, "ref_xp": 0,
            "ugc_xp": 0, "total": 0, "total_earned": 0, "total_spent": 0, "first_seen_at": now,
        }, list(_KEY))
        found = _lock_row(session, key, now, active)
    balance = locked[key] = statements.entity(session, Balance, found, refresh=True)
    return balance


# Entries are written at once with Core INSERTs; post_entry hands back
# a transient LedgerEntry carrying the new id.
_entries = LedgerEntry.__table__
_INSERT_ENTRY = insert(_entries).returning(_entries.c.id)
_ENTRY_BY_IDEM_KEY = (
    select(_entries).filter_by(**statements.OWNER_PARAMS, idem_key=bindparam("idem_key")))


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
        first = statements.first(session, _ENTRY_BY_IDEM_KEY, {
            "campaign_id": campaign_id, "user_id": user_id, "env": env, "idem_key": idem_key})
        if first is not None:
            return Posted(LedgerEntry(**dict(zip(_entries.c.keys(), first))), Balances.of(row), duplicate=True)
    if strict and amount < 0 and row.total + amount < 0:
        raise InsufficientBalance(
            f"insufficient balance: total is {row.total}, {-amount} requested")
    values = {"campaign_id": campaign_id, "user_id": user_id, "env": env, "kind": kind,
              "amount": amount, "source": source, "idem_key": idem_key, "version": version,
              "meta": meta, "created_at": now}
    entry = LedgerEntry(id=statements.insert_returning(session, _INSERT_ENTRY, values).id, **values)
    bucket = bucket_of(kind)
    amounts = {"xp": row.xp, "ref_xp": row.ref_xp, "ugc_xp": row.ugc_xp}
    amounts[bucket] += amount
    total = sum(amounts.values())
    buckets.moved(session, campaign_id, env, row.total, total)
    if amount > 0:
        amounts["total_earned"] = row.total_earned + amount
        _count_awarded(session, campaign_id, user_id, env, amount)
    else:
        amounts["total_spent"] = row.total_spent - amount
    _write(session, row, {**amounts, "total": total, "total_reached_at": now})
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
    # A row this transaction locked is the freshest copy, and costs no query.
    key = (campaign_id, user_id, env)
    return Balances.of(held_locks(session).get(key) or session.get(Balance, key))


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
