"""Helpers for engine tests of the task engine: an organization, published
campaigns, users, and short ways to feed inputs and read what they paid.

No Flask: everything goes through a plain SQLAlchemy session and takes
``now`` explicitly.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import campaigns
from engine.participation import events
from engine import ledger
from engine.access import organizations, users
from engine.reads import progress
from engine.definitions.campaigns import View
from models import Campaign, Completion, LedgerEntry, User

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PATH = REPO / "examples" / "campaign-example.json"
UTC = timezone.utc
# Sunday 2026-11-22, 13:00 in Berlin (CET, UTC+1): the conftest clock's start.
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    """'2026-11-22T22:59Z' (or with seconds) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def example() -> dict:
    """A fresh copy of examples/campaign-example.json (pid summer_games)."""
    return json.loads(EXAMPLE_PATH.read_text())


def custom(actions: list[dict], *, quests: list[dict] | None = None, pid: str = "custom",
           **top) -> dict:
    """A small campaign around ``actions`` (Europe/Berlin unless told)."""
    doc = {"id": pid, "name": pid.title(), "timezone": "Europe/Berlin", "actions": actions}
    if quests is not None:
        doc["quests"] = quests
    doc.update(top)
    return doc


def tick(aid: str, recurrence: str = "daily", *, count: int = 1, xp: int = 10, **extra) -> dict:
    """An events_count action on events (category "c", name "tick")."""
    return {"id": aid, "name": aid, "type": "events_count",
            "event": {"category": "c", "name": "tick"}, "count": count, "xp": xp,
            "recurrence": recurrence, **extra}


class World:
    """One organization in a plain session."""

    def __init__(self, session: Session, now: datetime = T0):
        self.s = session
        self.org = organizations.create_organization(session, "acme", now)

    def publish(self, doc: dict, now: datetime = T0) -> Campaign:
        doc = copy.deepcopy(doc)
        campaigns.put_draft(self.s, self.org.id, doc["id"], doc, now)
        campaign, _ = campaigns.publish(self.s, self.org.id, doc["id"], now)
        return campaign

    def live(self, pid: str) -> View:
        return campaigns.view(campaigns.get_campaign(self.s, self.org.id, pid), "live")

    def dev(self, pid: str) -> View:
        return campaigns.view(campaigns.get_campaign(self.s, self.org.id, pid), "dev")

    def user(self, account: str, platform: str = "wowhaus", now: datetime = T0) -> User:
        return users.ensure_user(self.s, self.org.id, account, platform, now)


# -- inputs ---------------------------------------------------------------------

def roll(s: Session, view: View, user: User, now: datetime, *, bet=None,
         category: str | None = "dices", name: str = "GameSession",
         client_id: str | None = None) -> events.EventResult:
    """A Wowhaus dice GameSession event (optionally with data.bet)."""
    data = {"bet": bet} if bet is not None else {}
    return events.record_event(s, view, user, name=name, category=category, data=data,
                               now=now, client_id=client_id)


def ticks(s: Session, view: View, user: User, now: datetime, n: int = 1) -> list:
    return [events.record_event(s, view, user, name="tick", category="c", now=now)
            for _ in range(n)]


def value(s: Session, view: View, user: User, aid: str, v, now: datetime, cid=None):
    return events.feed_value(s, view, user, aid=aid, cid=cid, value=v, now=now)


def stream(s: Session, view: View, user: User, name: str, v, now: datetime):
    return events.feed_stream(s, view, user, stream=name, value=v, now=now)


# -- reading what happened ------------------------------------------------------

def entries(s: Session, view: View, user: User, **filters) -> list[LedgerEntry]:
    rows = ledger.entries(s, view.campaign.id, user.id, view.env)
    return [e for e in rows if all(getattr(e, k) == v for k, v in filters.items())]


def task_paid(s: Session, view: View, user: User, aid: str | None = None) -> int:
    """Points ``user`` received from task payouts (of action ``aid``)."""
    return sum(e.amount for e in entries(s, view, user, kind="task")
               if aid is None or (e.meta or {}).get("aid") == aid)


def completions(s: Session, view: View, user: User, aid: str) -> list[Completion]:
    return list(s.scalars(select(Completion).where(
        Completion.campaign_id == view.campaign.id, Completion.env == view.env,
        Completion.user_id == user.id, Completion.action_id == aid).order_by(Completion.id)))


def balances(s: Session, view: View, user: User) -> ledger.Balances:
    """The cached balances, checked against the sum of the entries."""
    cached = ledger.get_balances(s, view.campaign.id, user.id, view.env)
    assert cached == ledger.sum_entries(s, view.campaign.id, user.id, view.env)
    return cached


def action_status(s: Session, view: View, user: User | None, aid: str, now: datetime) -> dict:
    doc = progress.user_progress(s, view, user, now)
    return next(a for a in doc["actions"] if a["id"] == aid)


def quest_status(s: Session, view: View, user: User | None, qid: str, now: datetime) -> dict:
    doc = progress.user_progress(s, view, user, now)
    return next(q for q in doc["quests"] if q["id"] == qid)


def paid_aids(outcome) -> list[str]:
    return [c["aid"] for c in outcome.completed]
