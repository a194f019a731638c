"""Organizations (tenants). Creating one also creates its `default` campaign."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Organization

from engine.definitions import campaigns
from engine.errors import Conflict, InvalidInput, NotFound


def create_organization(session: Session, name: str, now: datetime) -> Organization:
    """A new organization with its built-in `default` campaign, published."""
    name = (name or "").strip()
    if not name or len(name) > 256:
        raise InvalidInput("organization name must be 1 to 256 characters")
    if find_organization(session, name) is not None:
        raise Conflict(f"organization {name!r} already exists")
    org = Organization(name=name, created_at=now)
    session.add(org)
    session.flush()
    campaigns.create_default_campaign(session, org, now)
    return org


def find_organization(session: Session, name: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.name == name)).one_or_none()


def get_organization(session: Session, name: str) -> Organization:
    org = find_organization(session, name)
    if org is None:
        raise NotFound(f"unknown organization {name!r}")
    return org


def ensure_organization(session: Session, name: str, now: datetime) -> Organization:
    return find_organization(session, name) or create_organization(session, name, now)
