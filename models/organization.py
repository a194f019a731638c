"""Tenants and the credentials that act for them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigIntPK, UTCDateTime


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A key is shown once; we keep a lookup prefix and a SHA-256 digest."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "secret" | "publishable"
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Operator(Base):
    """A dashboard login; belongs to exactly one organization."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(256), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Carried in every dashboard session: bumping it (logout, a password change,
    # "sign out everywhere") ends every session signed with the old value.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (Index("ix_operators_org_email", "org_id", "email"),)


class LoginThrottle(Base):
    """Failed dashboard logins of one client (its address, an IPv6 client by its /64):
    one row per e-mail address it tried, and one with ``email`` "" for all of them.
    Checked in the database, so every app server agrees; rows whose window has
    passed are deleted as logins go by."""

    __tablename__ = "login_throttle"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(256), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
