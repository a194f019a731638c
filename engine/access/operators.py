"""Dashboard operators: e-mail and a salted password hash."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import LoginThrottle, Operator

from engine.errors import Conflict, EngineError, InvalidInput, Unauthorized
from engine.db.storage import insert_ignore


def _address(email) -> str:
    return (email or "").strip().lower()


def find_operator(session: Session, email) -> Operator | None:
    """The operator with this address (addresses are unique, compared lowercase)."""
    return session.scalars(select(Operator).where(Operator.email == _address(email))).first()


def create_operator(session: Session, org_id: int, email: str, password: str, now: datetime) -> Operator:
    email = _address(email)
    if "@" not in email or len(email) > 256:
        raise InvalidInput("a valid e-mail address is required")
    if not password or len(password) < 8:
        raise InvalidInput("the password must be at least 8 characters")
    if find_operator(session, email) is not None:
        raise Conflict(f"operator {email} already exists")
    op = Operator(org_id=org_id, email=email, password_hash=generate_password_hash(password),
                  created_at=now)
    session.add(op)
    session.flush()
    return op


def ensure_operator(session: Session, org_id: int, email: str, password: str, now: datetime) -> Operator:
    """The operator, created, or given this password if it exists (the demo's login)."""
    op = find_operator(session, email)
    if op is None:
        return create_operator(session, org_id, email, password, now)
    op.password_hash = generate_password_hash(password)
    session.flush()
    return op


# Checked when the address is unknown, so a wrong address costs the same hash
# as a wrong password and the answer's timing does not tell which addresses exist.
_NOBODY = generate_password_hash("not a password of anyone")


def check_login(session: Session, email: str, password: str) -> Operator | None:
    op = find_operator(session, email)
    ok = check_password_hash(op.password_hash if op else _NOBODY, password or "")
    return op if op is not None and ok else None


MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


class TooManyAttempts(EngineError):
    """Logins for an address are paused after repeated failures (429)."""

    code = "too_many_attempts"


def login(session: Session, email: str, password: str, now: datetime) -> Operator:
    """The operator for these credentials; Unauthorized otherwise.

    After MAX_FAILURES failures within FAILURE_WINDOW, logins for the address
    are refused for LOCKOUT, even with the right password, so guessing costs
    time. The caller commits (failures must be counted even though the login
    fails).
    """
    key = _address(email)[:256]
    # The address's row exists and is locked before the password is checked, so concurrent
    # guesses are counted one after another. Without the lock, parallel guesses on PostgreSQL
    # each read the same count (more than MAX_FAILURES tries) or race to insert the row (a 500);
    # SQLite's BEGIN IMMEDIATE serializes them anyway.
    insert_ignore(session, LoginThrottle, {"email": key, "failures": 0, "window_start": now}, ["email"])
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.email == key).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if row.locked_until is not None and now < row.locked_until:
        wait = int((row.locked_until - now).total_seconds() // 60) + 1
        raise TooManyAttempts(f"too many failed logins; try again in {wait} minutes")
    op = check_login(session, key, password)
    if op is not None:
        session.delete(row)
        return op
    if now - row.window_start > FAILURE_WINDOW:
        row.failures, row.window_start, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.locked_until = now + LOCKOUT
    session.flush()
    raise Unauthorized("wrong e-mail or password")
