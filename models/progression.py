"""What participation earns beyond points: streaks, tiers, badges,
challenges, per-event-type counts, and catalog rewards claimed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, UTCDateTime


class Streak(Base):
    """A user's streak in one campaign and env (SPEC §2 `streaks`).

    ``last_period`` is the index of the last period that counted (a local day
    or an ISO week as a number), so "the next period" is ``last_period + 1``.
    """

    __tablename__ = "streaks"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(8))  # daily | weekly: a change starts afresh
    last_period: Mapped[int] = mapped_column(BigInteger)
    current: Mapped[int] = mapped_column(default=0)
    longest: Mapped[int] = mapped_column(default=0)
    freezes: Mapped[int] = mapped_column(default=0)  # held, at most streaks.freezes.max
    freezes_spent: Mapped[int] = mapped_column(default=0)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Achievement(Base):
    """A tier reached, a badge earned, or a challenge's progress (kind + code).

    ``achieved_at`` is when it was first reached (a challenge: completed);
    ``progress`` counts a challenge's events inside its window.
    """

    __tablename__ = "achievements"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # tier | badge | challenge
    code: Mapped[str] = mapped_column(String(256), primary_key=True)
    progress: Mapped[int] = mapped_column(BigInteger, default=0)
    achieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventCount(Base):
    """How many events of one type a user sent: badge criteria read it
    instead of counting the events table on every event."""

    __tablename__ = "event_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_event_id: Mapped[int] = mapped_column(BigInteger)  # the newest event counted


class CatalogStock(Base):
    """How many of a catalog reward were claimed: ``quantity`` is never oversold."""

    __tablename__ = "catalog_stock"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    code: Mapped[str] = mapped_column(String(256), primary_key=True)
    claimed: Mapped[int] = mapped_column(default=0)


class CatalogClaim(Base):
    """One catalog reward claimed with points."""

    __tablename__ = "catalog_claims"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    env: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(256))
    cost: Mapped[int] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_catalog_claims_user", "campaign_id", "env", "user_id", "id"),)
