"""Participants, identified inside an organization by (account, platform)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, JSONType, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    account: Mapped[str] = mapped_column(String(256))
    platform: Mapped[str] = mapped_column(String(256))
    name: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(256))
    avatar: Mapped[str | None] = mapped_column(String(2048))
    attributes: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Widget tokens carry it; revoking them bumps it (engine.access.tokens).
    token_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (UniqueConstraint("org_id", "account", "platform"),)
