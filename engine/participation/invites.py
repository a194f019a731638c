"""Invite codes: generated per campaign, claimed by users, max_uses enforced."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Campaign, InviteClaim, InviteCode, User

from engine.access import users
from engine.definitions.campaigns import View
from engine.run.codes import random_code
from engine.errors import Conflict, InvalidInput, NotFound
from engine.run.tasks import Outcome, Run

MAX_BATCH = 1000
MAX_USES = 1_000_000
PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def identity_of(used_by: str, platform: str | None) -> tuple[str, str]:
    """Who ``used_by`` names: a wallet address, or the account on ``platform``
    when one is given (claimr's /code)."""
    if platform is None:
        if not users.EVM_ADDRESS.match(used_by):
            raise InvalidInput("used_by must be a wallet address (0x + 40 hex) unless platform is given")
        platform = users.WALLET_PLATFORM
    return used_by, platform


def generate(session: Session, campaign: Campaign, *, count: int, now: datetime,
             prefix: str | None = None, max_uses: int = 1) -> list[str]:
    """``count`` new codes (PREFIX-XXXXXXXX), each usable ``max_uses`` times."""
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput(f"count must be between 1 and {MAX_BATCH}")
    if not 1 <= max_uses <= MAX_USES:
        raise InvalidInput(f"max_uses must be between 1 and {MAX_USES}")
    if prefix is not None and not PREFIX.match(prefix):
        raise InvalidInput("prefix must be 1 to 32 letters, digits, _ or -")
    existing = set(session.scalars(select(InviteCode.code).where(InviteCode.campaign_id == campaign.id)))
    codes: list[str] = []
    while len(codes) < count:
        code = f"{prefix}-{random_code(8)}" if prefix else random_code(8)
        if code in existing:
            continue
        existing.add(code)
        codes.append(code)
    session.add_all(InviteCode(campaign_id=campaign.id, code=c, max_uses=max_uses, created_at=now)
                    for c in codes)
    session.flush()
    return codes


def get_code(session: Session, campaign: Campaign, code: str, *, lock: bool = False) -> InviteCode:
    q = select(InviteCode).where(InviteCode.campaign_id == campaign.id, InviteCode.code == code)
    if lock:
        q = q.with_for_update()
    row = session.scalars(q).one_or_none()
    if row is None:
        raise NotFound(f"unknown invite code {code!r}")
    return row


def used_by(session: Session, view: View, code: str) -> list[User]:
    row = get_code(session, view.campaign, code)
    return list(session.scalars(
        select(User).join(InviteClaim, InviteClaim.user_id == User.id)
        .where(InviteClaim.code_id == row.id, InviteClaim.env == view.env)
        .order_by(InviteClaim.claimed_at, User.id)))


def code_of(session: Session, view: View, user: User | None) -> str | None:
    if user is None:
        return None
    claim = session.get(InviteClaim, (view.campaign.id, view.env, user.id))
    return session.get(InviteCode, claim.code_id).code if claim else None


def claim(session: Session, view: View, user: User, code: str, now: datetime) -> Outcome:
    """``user`` claims ``code``: 404 unknown, 409 used up or a code already claimed.

    The code row is locked while its uses are counted, so concurrent claims
    never exceed max_uses.
    """
    run = Run(session, view, user, now)  # the user's lock first, then the code's
    row = get_code(session, view.campaign, code, lock=True)
    mine = session.get(InviteClaim, (view.campaign.id, view.env, user.id))
    if mine is not None:
        which = "this code" if mine.code_id == row.id else "an invite code"
        raise Conflict(f"this user has already claimed {which} in this campaign", code="already_claimed")
    uses = session.scalar(select(func.count()).select_from(InviteClaim).where(
        InviteClaim.code_id == row.id, InviteClaim.env == view.env))
    if uses >= row.max_uses:
        raise Conflict("this invite code has been used up", code="used_up")
    session.add(InviteClaim(campaign_id=view.campaign.id, env=view.env, user_id=user.id,
                            code_id=row.id, claimed_at=now))
    session.flush()
    run.code_claimed_now()
    run.emit("invite_code.used", {"code": row.code})
    run.recheck_states()
    return run.finish()  # also pays referral bonuses that waited for the claim


def release(session: Session, view: View, code: str, user: User | None) -> int:
    """Free ``code`` (from ``user`` only, when given); returns the claims removed.

    What a claim paid stays paid: the ledger is append-only.
    """
    row = get_code(session, view.campaign, code, lock=True)
    q = delete(InviteClaim).where(InviteClaim.code_id == row.id, InviteClaim.env == view.env)
    if user is not None:
        q = q.where(InviteClaim.user_id == user.id)
    removed = session.execute(q).rowcount
    if user is not None and removed == 0:
        raise NotFound("this code is not used by that user")
    return removed


@dataclass(frozen=True)
class CodeUse:
    code: InviteCode
    users: list[User]


def list_codes(session: Session, view: View) -> list[CodeUse]:
    """Every code of the campaign, newest first, with the users who claimed it in ``view``'s env."""
    codes = list(session.scalars(select(InviteCode).where(InviteCode.campaign_id == view.campaign.id)
                                 .order_by(InviteCode.id.desc())))
    claimed: dict[int, list[User]] = {}
    for claim_row, user in session.execute(
            select(InviteClaim, User).join(User, User.id == InviteClaim.user_id)
            .where(InviteClaim.campaign_id == view.campaign.id, InviteClaim.env == view.env)
            .order_by(InviteClaim.claimed_at)):
        claimed.setdefault(claim_row.code_id, []).append(user)
    return [CodeUse(c, claimed.get(c.id, [])) for c in codes]
