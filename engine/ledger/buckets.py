"""Log-linear score buckets: the index that makes a rank cheap at any size.

A total below 64 is its own bucket; above, a bucket spans 1/64 of its power
of two (64 buckets per doubling), so buckets stay few (under 4,000 for any
64-bit total) and narrow (a bucket holds ~1.5% of the range around it).
"""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Balance, ScoreBucket

from engine.db.storage import upsert_add

LINEAR = 64  # totals 0..63 map to themselves
MANTISSA_BITS = 6


def bucket_of(total: int) -> int:
    if total < LINEAR:
        return total
    e = total.bit_length() - 1
    mantissa = (total >> (e - MANTISSA_BITS)) & (LINEAR - 1)
    return LINEAR + (e - MANTISSA_BITS) * LINEAR + mantissa


def bounds(bucket: int) -> tuple[int, int]:
    """[low, high) of the totals in ``bucket``."""
    if bucket < LINEAR:
        return bucket, bucket + 1
    e = (bucket - LINEAR) // LINEAR + MANTISSA_BITS
    mantissa = (bucket - LINEAR) % LINEAR
    shift = e - MANTISSA_BITS
    return (LINEAR + mantissa) << shift, (LINEAR + mantissa + 1) << shift


def _add(session: Session, campaign_id: int, env: str, bucket: int, delta: int) -> None:
    upsert_add(session, ScoreBucket, {"campaign_id": campaign_id, "env": env, "bucket": bucket},
               "users", delta)


def moved(session: Session, campaign_id: int, env: str, old_total: int, new_total: int) -> None:
    """Keep the counts right when a user's total changes (only ranked totals count)."""
    old = bucket_of(old_total) if old_total > 0 else None
    new = bucket_of(new_total) if new_total > 0 else None
    if old == new:
        return
    # Lowest bucket first: two users moving in opposite directions between
    # the same buckets must not each hold one row and wait for the other.
    changes = sorted([(b, d) for b, d in ((old, -1), (new, +1)) if b is not None])
    for bucket, delta in changes:
        _add(session, campaign_id, env, bucket, delta)


def users_above(session: Session, campaign_id: int, env: str, bucket: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(ScoreBucket.users), 0)).where(
        ScoreBucket.campaign_id == campaign_id, ScoreBucket.env == env,
        ScoreBucket.bucket > bucket)))


def ranked_users(session: Session, campaign_id: int, env: str) -> int:
    """How many users have a positive total, i.e. stand on the leaderboard."""
    return users_above(session, campaign_id, env, -1)


def rebuild(session: Session, campaign_id: int, env: str) -> None:
    """Recount from the balances (after bulk loads; a repair tool)."""
    session.execute(delete(ScoreBucket).where(ScoreBucket.campaign_id == campaign_id,
                                              ScoreBucket.env == env))
    counts: dict[int, int] = {}
    for (total,) in session.execute(select(Balance.total).where(
            Balance.campaign_id == campaign_id, Balance.env == env, Balance.total > 0)):
        b = bucket_of(total)
        counts[b] = counts.get(b, 0) + 1
    if counts:
        session.execute(ScoreBucket.__table__.insert(), [
            {"campaign_id": campaign_id, "env": env, "bucket": b, "users": n} for b, n in counts.items()])
