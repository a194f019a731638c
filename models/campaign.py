"""Campaigns: a draft and a live (published) definition, and a version."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, JSONType, UTCDateTime


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    pid: Mapped[str] = mapped_column(String(256))
    # The slug of the live definition (of the draft until first published):
    # the Rewards API finds campaigns by it.
    slug: Mapped[str] = mapped_column(String(256))
    # Deferred: a request needs neither document while the compiled one is
    # cached (engine.definitions.compiled), and decoding them costs more than the query.
    draft: Mapped[dict] = mapped_column(JSONType, deferred=True)
    live: Mapped[dict | None] = mapped_column(JSONType, deferred=True)
    # Random tokens renewed whenever the draft / live document changes: the
    # cache key of the compiled definition. live_rev is None until published.
    draft_rev: Mapped[str] = mapped_column(String(32), server_default="0")
    live_rev: Mapped[str | None] = mapped_column(String(32))
    # 0 until first published; every publish that changes something bumps it.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    draft_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def draft_differs(self) -> bool:
        """Whether publishing would change something (loads both documents)."""
        return self.draft != self.live

    __table_args__ = (
        UniqueConstraint("org_id", "pid"),
        UniqueConstraint("org_id", "slug"),
    )
