"""The append-only ledger and the balances cached from it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, JSONType, UTCDateTime


class LedgerEntry(Base):
    """One signed movement of points; never updated, never deleted."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    env: Mapped[str] = mapped_column(String(8))  # "live" | "dev" (sandbox)
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str | None] = mapped_column(String(64))
    # Namespaced by the caller ("reward:<id>"); NULLs never collide.
    idem_key: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int | None]
    meta: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", "env", "idem_key"),
        Index("ix_ledger_user", "campaign_id", "env", "user_id", "id"),
    )


class Balance(Base):
    """Cached sums of a user's entries in one campaign and environment.

    Written only by engine.ledger.book.post_entry, in the same transaction as the
    entry, so it always equals the sum of the ledger.
    """

    __tablename__ = "balances"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    xp: Mapped[int] = mapped_column(BigInteger, default=0)
    ref_xp: Mapped[int] = mapped_column(BigInteger, default=0)
    ugc_xp: Mapped[int] = mapped_column(BigInteger, default=0)
    # xp + ref_xp + ugc_xp, kept as a column so leaderboards can index it
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    total_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    total_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    # when the user reached the current total: leaderboard ties go to the first
    total_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # participation, for /campaign/stats: the row exists from the first activity
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_balances_rank", "campaign_id", "env", "total", "total_reached_at", "user_id"),
        Index("ix_balances_active", "campaign_id", "env", "last_active_at"),
    )


class CampaignCounter(Base):
    """Points awarded in a campaign, spread over a few slots.

    One row per campaign would make every write in the campaign wait on one
    row lock; a slot per (user_id % SLOTS) keeps writers of different users
    apart, and a read sums at most SLOTS rows.
    """

    __tablename__ = "campaign_counters"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    awarded: Mapped[int] = mapped_column(BigInteger, default=0)


class ScoreBucket(Base):
    """How many ranked users (total > 0) have a total in each bucket.

    Buckets are log-linear (see engine.ledger.buckets.bucket_of): a user's rank
    is the count of the buckets above theirs plus a short index range inside
    their own, so it costs the same with a thousand users or a million.
    """

    __tablename__ = "score_buckets"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)
    users: Mapped[int] = mapped_column(BigInteger, default=0)
