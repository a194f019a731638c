"""What the dashboard shows about a campaign: series per day, top actions,
the users table and one user's points by source (SPEC §8).

Days are local days in the campaign's time zone, like every other period.
The queries read timestamps over a bounded window (``days``) and bucket them
in Python, so one code path serves SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import Balance, Completion, Event, LedgerEntry, User

from engine.definitions.campaigns import View
from engine.definitions.periods import zone

MAX_DAYS = 90
USERS_PAGE = 25
SOURCES = ("task", "referral", "ugc", "reward", "withdraw", "instant_win", "adjustment")


@dataclass(frozen=True)
class Series:
    label: str
    days: list[date]
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


def _window(view: View, now: datetime, days: int) -> tuple[list[date], datetime]:
    days = max(1, min(MAX_DAYS, days))
    today = now.astimezone(zone(view.compiled.timezone)).date()
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    since = datetime.combine(span[0], datetime.min.time(), tzinfo=zone(view.compiled.timezone))
    return span, since


def _bucket(span: list[date], tz: str, rows) -> dict[date, list]:
    out: dict[date, list] = {d: [] for d in span}
    for at, value in rows:
        day = at.astimezone(zone(tz)).date()
        if day in out:
            out[day].append(value)
    return out


def daily(session: Session, view: View, now: datetime, days: int = 30) -> list[Series]:
    """Points awarded, events, and active users (anyone with an entry or an event) per local day."""
    span, since = _window(view, now, days)
    tz = view.compiled.timezone
    where_l = (LedgerEntry.campaign_id == view.campaign.id, LedgerEntry.env == view.env,
               LedgerEntry.created_at >= since)
    where_e = (Event.campaign_id == view.campaign.id, Event.env == view.env, Event.received_at >= since)
    credits = _bucket(span, tz, session.execute(select(LedgerEntry.created_at, LedgerEntry.amount)
                                                .where(*where_l, LedgerEntry.amount > 0)))
    events = _bucket(span, tz, session.execute(select(Event.received_at, Event.user_id).where(*where_e)))
    movers = _bucket(span, tz, session.execute(select(LedgerEntry.created_at, LedgerEntry.user_id)
                                               .where(*where_l)))
    return [
        Series("Points awarded", span, [sum(credits[d]) for d in span]),
        Series("Events", span, [len(events[d]) for d in span]),
        Series("Active users", span, [len(set(events[d]) | set(movers[d])) for d in span]),
    ]


def top_actions(session: Session, view: View, limit: int = 10) -> list[dict]:
    names = {a.id: a.name for a in view.compiled.actions.values()}
    rows = session.execute(
        select(Completion.action_id, func.count(), func.sum(Completion.xp))
        .where(Completion.campaign_id == view.campaign.id, Completion.env == view.env)
        .group_by(Completion.action_id).order_by(func.count().desc()).limit(limit)).all()
    return [{"id": aid, "name": names.get(aid, aid), "completions": n, "xp": int(xp or 0)}
            for aid, n, xp in rows]


@dataclass(frozen=True)
class ParticipantSummary:
    user: User
    total: int
    total_earned: int
    last_active_at: datetime | None


def users_page(session: Session, view: View, *, search: str = "", page: int = 1) -> tuple[list[ParticipantSummary], int]:
    """Participants of the campaign, highest total first, 25 a page; and how many match."""
    q = (select(Balance, User).join(User, User.id == Balance.user_id)
         .where(Balance.campaign_id == view.campaign.id, Balance.env == view.env))
    search = (search or "").strip()[:256]
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(or_(User.account.ilike(like, escape="\\"), User.name.ilike(like, escape="\\")))
    count = session.scalar(select(func.count()).select_from(q.subquery()))
    page = max(1, page)
    rows = session.execute(q.order_by(Balance.total.desc(), Balance.user_id)
                           .offset((page - 1) * USERS_PAGE).limit(USERS_PAGE)).all()
    return [ParticipantSummary(u, b.total, b.total_earned, b.last_active_at) for b, u in rows], int(count)


def points_by_source(session: Session, view: View, user_id: int) -> dict[str, int]:
    """The user's ledger summed by kind; kinds outside SOURCES are shown as they are."""
    rows = session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.campaign_id == view.campaign.id, LedgerEntry.env == view.env,
               LedgerEntry.user_id == user_id).group_by(LedgerEntry.kind)).all()
    out = {k: 0 for k in SOURCES}
    for kind, total in rows:
        out[kind] = int(total or 0)
    return out
