"""Webhooks: subscriptions, the transactional outbox, and the delivery log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, JSONType, UTCDateTime


class Hook(Base):
    __tablename__ = "hooks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    scope: Mapped[str] = mapped_column(String(64))
    hook_id: Mapped[str] = mapped_column(String(256))  # the client's name for it
    uri: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(256))
    pids: Mapped[list] = mapped_column(JSONType, default=list)  # empty: every campaign
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("org_id", "scope", "hook_id"),)


class Message(Base):
    """One message for one hook, written in the transaction of the change."""

    __tablename__ = "webhook_messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)  # webhook-id, same on every retry
    hook_pk: Mapped[int] = mapped_column(ForeignKey("hooks.id"))
    type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes sent, so retries sign the same body
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(default=0)  # since creation or the last redelivery
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A worker's claim: others skip the message until this passes (crash recovery).
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_webhook_messages_due", "status", "next_attempt_at"),
        Index("ix_webhook_messages_hook", "hook_pk", "id"),
    )


class Attempt(Base):
    """Every delivery attempt, successful or not."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("webhook_messages.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(512))
    response_excerpt: Mapped[str | None] = mapped_column(String(1024))
