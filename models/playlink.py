"""One-time play links e-mailed to users (SPEC §7)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, UTCDateTime


class PlayLink(Base):
    """A play link's server-side half: the signed token names its nonce.

    ``used_at`` is set once, by a conditional UPDATE, when the link is spent;
    the token alone (signed, expiring) is not enough to start a session.
    """

    __tablename__ = "play_links"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_play_links_user", "org_id", "user_id"),)
