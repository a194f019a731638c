"""Referral ids, who referred whom, and invite codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, UTCDateTime


class RefCode(Base):
    """A user's referral id in a campaign (the same in both environments)."""

    __tablename__ = "ref_codes"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    ref_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("campaign_id", "ref_id"),)


class Referral(Base):
    """``user`` was referred by ``referrer``; set once per campaign and env."""

    __tablename__ = "referrals"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # In an invite_only campaign the bonuses wait until the referee claims a code.
    bonus_paid: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_referrals_referrer", "campaign_id", "env", "referrer_id"),)


class InviteCode(Base):
    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    code: Mapped[str] = mapped_column(String(64))
    max_uses: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("campaign_id", "code"),)


class InviteClaim(Base):
    """A user's claim of a code: at most one per campaign and env."""

    __tablename__ = "invite_claims"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    env: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("invite_codes.id"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_invite_claims_code", "code_id", "env"),)
