"""What users do: stored events and the running counters they advance."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, JSONType, UTCDateTime


class Event(Base):
    """An event a partner pushed, stored whatever it advanced."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    env: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(256))
    category: Mapped[str | None] = mapped_column(String(256))
    data: Mapped[dict | None] = mapped_column(JSONType)
    # The client's own id: repeated for the same user, it is stored once.
    client_id: Mapped[str | None] = mapped_column(String(256))
    ts: Mapped[int | None] = mapped_column(BigInteger)  # the client's timestamp, as sent
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("campaign_id", "env", "user_id", "client_id"),
        Index("ix_events_user", "campaign_id", "env", "user_id", "id"),
    )


class ActionState(Base):
    """A user's running counters for one action in one campaign and env.

    ``period`` names the period the counters belong to ("once", a local date,
    an ISO week, a month); the first touch in a new period resets them.
    The task engine reads and writes these rows with Core (engine/run/counters.py),
    not through the ORM session.
    """

    __tablename__ = "action_states"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    # A new version that changes the type or the period starts the counters afresh.
    action_type: Mapped[str] = mapped_column(String(32))
    recurrence: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(32))
    progress: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_in_period: Mapped[int] = mapped_column(default=0)
    completions: Mapped[int] = mapped_column(default=0)
    first_paid_period: Mapped[str | None] = mapped_column(String(32))
    first_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuestState(Base):
    """When a user completed a quest (each of its required actions paid once)."""

    __tablename__ = "quest_states"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    quest_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Completion(Base):
    """One payout of an action: the activity log of tasks (even 0-xp ones)."""

    __tablename__ = "completions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    env: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action_id: Mapped[str] = mapped_column(String(256))
    quest_id: Mapped[str | None] = mapped_column(String(256))
    xp: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(32))
    version: Mapped[int | None]
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_completions_user", "campaign_id", "env", "user_id", "id"),
                      Index("ix_completions_action", "campaign_id", "env", "action_id"))
