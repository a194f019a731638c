"""Dashboard operators: e-mail and a salted password hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import Operator

from .errors import Conflict, InvalidInput


def create_operator(session: Session, org_id: int, email: str, password: str, now: datetime) -> Operator:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 256:
        raise InvalidInput("a valid e-mail address is required")
    if not password or len(password) < 8:
        raise InvalidInput("the password must be at least 8 characters")
    if session.scalars(select(Operator).where(Operator.email == email)).first() is not None:
        raise Conflict(f"operator {email} already exists")
    op = Operator(org_id=org_id, email=email, password_hash=generate_password_hash(password),
                  created_at=now)
    session.add(op)
    session.flush()
    return op


def check_login(session: Session, email: str, password: str) -> Operator | None:
    op = session.scalars(select(Operator).where(Operator.email == (email or "").strip().lower())).first()
    if op is None or not check_password_hash(op.password_hash, password or ""):
        return None
    return op
