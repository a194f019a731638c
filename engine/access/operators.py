"""Dashboard operators: e-mail and a salted password hash."""
from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_
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
    _check_new_password(password)
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
    set_password(session, op, password)
    return op


def _check_new_password(password) -> None:
    if not isinstance(password, str) or len(password) < 8:
        raise InvalidInput("the password must be at least 8 characters")
    if len(password) > 1024:
        raise InvalidInput("the password must be at most 1024 characters")


def set_password(session: Session, op: Operator, password: str) -> None:
    """A new password; every session of the operator ends (see end_sessions)."""
    _check_new_password(password)
    op.password_hash = generate_password_hash(password)
    end_sessions(session, op)


def change_password(session: Session, operator_id: int, current: str, new: str) -> Operator:
    """The operator's own change: the current password first (Unauthorized), then set_password."""
    op = session.get(Operator, operator_id, with_for_update=True)
    if op is None or not check_password_hash(op.password_hash, current or ""):
        raise Unauthorized("the current password is wrong")
    set_password(session, op, new)
    return op


# -- dashboard sessions ------------------------------------------------------------------
# A session carries the operator's id, session_generation, when it logged in and
# when it was last seen (signed, in the cookie). It is valid while the generation
# is the operator's current one, it was seen within the idle lifetime and it
# logged in within the absolute one. Ending sessions bumps the generation, so a
# copy of a cookie taken before that no longer opens anything.
SESSION_IDLE = timedelta(hours=8)
SESSION_ABSOLUTE = timedelta(days=7)


def end_sessions(session: Session, op: Operator) -> None:
    """End every session of the operator (logout, a password change, "sign out everywhere")."""
    op.session_generation = (op.session_generation or 0) + 1
    session.flush()


def end_sessions_of(session: Session, operator_id: int) -> None:
    op = session.get(Operator, operator_id, with_for_update=True)
    if op is not None:
        end_sessions(session, op)


def session_operator(session: Session, operator_id: int, generation: int, logged_in_at: float,
                     seen_at: float, now: datetime, *, idle: timedelta = SESSION_IDLE,
                     absolute: timedelta = SESSION_ABSOLUTE) -> Operator | None:
    """The operator a session stands for, or None once it has ended (ended on the
    server, idle longer than ``idle``, or logged in longer than ``absolute`` ago).
    Times are unix seconds of the engine clock."""
    ts = now.timestamp()
    if not (ts - seen_at <= idle.total_seconds() and ts - logged_in_at <= absolute.total_seconds()
            and logged_in_at <= seen_at <= ts + 60):
        return None
    op = session.get(Operator, operator_id)
    if op is None or op.session_generation != generation:
        return None
    return op


# Checked when the address is unknown, so a wrong address costs the same hash
# as a wrong password and the answer's timing does not tell which addresses exist.
_NOBODY = generate_password_hash("not a password of anyone")


def check_login(session: Session, email: str, password: str) -> Operator | None:
    op = find_operator(session, email)
    ok = check_password_hash(op.password_hash if op else _NOBODY, password or "")
    return op if op is not None and ok else None


# Throttling follows OWASP's authentication guidance: it slows the client that
# fails, never the account, so knowing an operator's address is not enough to
# lock them out. A client (its address; an IPv6 client by its /64, which one
# host usually holds whole) gets MAX_FAILURES wrong passwords per e-mail
# address and MAX_CLIENT_FAILURES in all within FAILURE_WINDOW; past either it
# waits LOCKOUT for that address, or for every address. The right password
# from a client that has not been failing always logs in.
MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
CLEANUP_BATCH = 100
ALL_ADDRESSES = ""  # the email of a client's row that counts every failure
UNKNOWN_CLIENT = "unknown"


class TooManyAttempts(EngineError):
    """This client's logins (for an address, or all of them) are paused after repeated failures (429)."""

    code = "too_many_attempts"


def client_key(address) -> str:
    """The client a failure is counted against: its IP address, an IPv6 one as its /64."""
    try:
        ip = ipaddress.ip_address(str(address or "").split("%", 1)[0])
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _stale(now: datetime):
    return (LoginThrottle.window_start < now - FAILURE_WINDOW) & (
        LoginThrottle.locked_until.is_(None) | (LoginThrottle.locked_until < now))


def clean_up(session: Session, now: datetime, limit: int = CLEANUP_BATCH) -> int:
    """Delete up to ``limit`` rows whose window and lock have passed: the rows of
    addresses nobody logs in with (unknown ones included) do not pile up.

    Rows another login holds are skipped (SKIP LOCKED on PostgreSQL), so two
    logins cleaning up never wait for each other.
    """
    keys = session.execute(select(LoginThrottle.client, LoginThrottle.email).where(_stale(now))
                           .limit(limit).with_for_update(skip_locked=True)).all()
    if keys:  # one statement; the rows are locked and stale
        session.execute(delete(LoginThrottle).where(
            tuple_(LoginThrottle.client, LoginThrottle.email).in_([tuple(k) for k in keys])))
    return len(keys)


def _locked_row(session: Session, client: str, email: str, now: datetime) -> LoginThrottle:
    insert_ignore(session, LoginThrottle, {"client": client, "email": email, "failures": 0,
                                           "window_start": now}, ["client", "email"])
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.client == client,
                                                      LoginThrottle.email == email).with_for_update()
                          .execution_options(populate_existing=True)).one()
    if now - row.window_start > FAILURE_WINDOW and (row.locked_until is None or row.locked_until <= now):
        row.failures, row.window_start, row.locked_until = 0, now, None
    return row


def _refuse_if_locked(row: LoginThrottle, now: datetime) -> None:
    if row.locked_until is not None and now < row.locked_until:
        wait = int((row.locked_until - now).total_seconds() // 60) + 1
        raise TooManyAttempts(f"too many failed logins; try again in {wait} minutes")


def _fail(row: LoginThrottle, limit: int, now: datetime) -> None:
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + LOCKOUT


def login(session: Session, email: str, password: str, now: datetime, client: str | None = None) -> Operator:
    """The operator for these credentials; Unauthorized otherwise, TooManyAttempts
    (before any password is checked) while this client is paused.

    ``client`` is the requester's address (see client_key). The caller commits:
    failures must be counted even though the login fails.
    """
    key = _address(email)[:256]
    who = client_key(client)
    clean_up(session, now)
    # The rows exist and are locked (the client's total first, always in this order) before the
    # password is checked, so concurrent guesses are counted one after another. Without the lock,
    # parallel guesses on PostgreSQL each read the same count (more than MAX_FAILURES tries) or race
    # to insert the row (a 500); SQLite's BEGIN IMMEDIATE serializes them anyway.
    overall = _locked_row(session, who, ALL_ADDRESSES, now)
    _refuse_if_locked(overall, now)
    pair = _locked_row(session, who, key, now)
    _refuse_if_locked(pair, now)
    op = check_login(session, key, password)
    if op is not None:
        # This address's count starts again; the client's total does not, or one account of
        # its own would let a client try others without end.
        session.delete(pair)
        if overall.failures == 0:
            session.delete(overall)
        session.flush()
        return op
    _fail(overall, MAX_CLIENT_FAILURES, now)
    _fail(pair, MAX_FAILURES, now)
    session.flush()
    raise Unauthorized("wrong e-mail or password")
