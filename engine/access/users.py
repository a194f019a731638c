"""Users: (account, platform) inside an organization."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import User

from engine.errors import InvalidInput, UnknownUser
from engine.db.storage import get_or_insert

EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
WALLET_PLATFORM = "web3"
INTERNAL_PLATFORM = "internal"
MAX_ID = 256


def normalize_identity(account, platform) -> tuple[str, str]:
    """Checked (account, platform); EVM addresses on web3 are stored lowercase."""
    for field, value in (("account", account), ("platform", platform)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{field} is required and must be a non-empty string")
        if len(value) > MAX_ID:
            raise InvalidInput(f"{field} must be at most {MAX_ID} characters")
    account = account.strip()
    platform = platform.strip()
    if platform == WALLET_PLATFORM and EVM_ADDRESS.match(account):
        account = account.lower()
    return account, platform


# Built once: building a select costs about as much as running it.
_IDENTITY_IS = (User.org_id == bindparam("org_id"), User.account == bindparam("account"),
                User.platform == bindparam("platform"))
_BY_IDENTITY = select(User).where(*_IDENTITY_IS)


def _identity(org_id: int, account, platform) -> dict:
    """The parameters of _IDENTITY_IS, the identity normalized."""
    account, platform = normalize_identity(account, platform)
    return {"org_id": org_id, "account": account, "platform": platform}


def _new_user(now: datetime) -> dict:
    """A new user's columns besides their identity."""
    return {"created_at": now, "attributes": {}, "token_generation": 0}


def find_user(session: Session, org_id: int, account, platform) -> User | None:
    """The user, or None: reads never create (SPEC §1)."""
    return session.scalars(_BY_IDENTITY, _identity(org_id, account, platform)).one_or_none()


def get_user(session: Session, org_id: int, account, platform) -> User:
    """The user, or UnknownUser (404) for the user resources of the Rewards API."""
    user = find_user(session, org_id, account, platform)
    if user is None:
        raise UnknownUser(f"User {account!r} not found")
    return user


def ensure_user(session: Session, org_id: int, account, platform, now: datetime,
                name: str | None = None, email: str | None = None) -> User:
    """The user, created if missing (a write names its user into existence)."""
    account, platform = normalize_identity(account, platform)
    user = get_or_insert(
        session, User, {"org_id": org_id, "account": account, "platform": platform},
        _new_user(now),
    )
    if name is not None and user.name != name:
        user.name = name
    if email is not None and user.email != email:
        user.email = email
    return user


def display_name(user: User) -> str:
    return user.name or user.account
