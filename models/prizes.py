"""Instant-win draws and game plays, prize stock, rule awards, milestones."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigIntPK, JSONType, UTCDateTime


class Play(Base):
    """One draw: an instant-win play triggered by an event, or a game played.

    A winning play carries a unique win code that can be redeemed once.
    """

    __tablename__ = "plays"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    play_id: Mapped[str] = mapped_column(String(36), unique=True)  # public id (uuid)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    env: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))  # "event" | "game"
    game_type: Mapped[str | None] = mapped_column(String(32))
    points_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    tier: Mapped[str | None] = mapped_column(String(256))  # None: no prize
    points_won: Mapped[int] = mapped_column(BigInteger, default=0)
    win_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User", lazy="select", viewonly=True)
    campaign = relationship("Campaign", lazy="select", viewonly=True)

    __table_args__ = (Index("ix_plays_user", "campaign_id", "env", "user_id", "source", "id"),)


class PrizeStock(Base):
    """How many prizes of a tier (by name) were won: quantity is never oversold."""

    __tablename__ = "prize_stock"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    tier: Mapped[str] = mapped_column(String(256), primary_key=True)
    awarded: Mapped[int] = mapped_column(default=0)


class RuleAward(Base):
    """A reward_rules award (Rewards API): max_per_user counts these rows,
    and a reference is unique per campaign and event type."""

    __tablename__ = "rule_awards"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_type: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str | None] = mapped_column(String(256))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    meta: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("campaign_id", "event_type", "reference"),
        Index("ix_rule_awards_user", "campaign_id", "user_id", "event_type"),
    )


class MilestoneReached(Base):
    __tablename__ = "milestones_reached"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(256), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime())
