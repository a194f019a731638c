"""A definition prepared for evaluation: actions indexed by what feeds them.

Compiled once per (campaign, env, version) and cached, so an event costs a
dict lookup to find its actions and JMESPath queries are parsed once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import jmespath

from engine import definitions
from engine.definitions.branding import Brand, brand_of, safe_url
from engine.definitions.periods import zone

# What makes an action "the same" across versions: its counters survive a
# publish only while these are unchanged (SPEC §2).
IDENTITY = ("type", "recurrence")
# The field holding each type's threshold; types without one complete on
# their first input (a threshold of 1).
THRESHOLD_FIELD = {"api_number": "target", "api_stream": "target", "events_count": "count",
                   "events_value": "target", "referrals": "count"}


@dataclass(frozen=True)
class Action:
    id: str
    name: str
    type: str
    quest: str | None
    xp: int
    xp_mul: float
    ref_xp: int
    recurrence: str
    continuous: bool
    progressive: bool
    deps: tuple[str, ...]
    is_optional: bool
    threshold: int
    payout: int  # xp with the xp_mul bonus, what one completion pays
    stream: str | None = None
    event: tuple[str | None, str, str | None] | None = None  # (category, name, platform)
    query: object | None = None  # compiled JMESPath
    # What the widget shows: the link to follow (http(s) only), its button, the text.
    url: str | None = None
    button_text: str = "Go"
    description: str | None = None
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StreakRule:
    period: str  # daily | weekly
    freeze_max: int = 0
    freeze_every: int = 0  # 0: freezes are never earned


@dataclass(frozen=True)
class Challenge:
    code: str
    name: str
    event_type: str
    count: int
    starts_at: datetime
    ends_at: datetime
    reward_points: int

    def open_at(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class Quest:
    id: str
    name: str
    description: str | None
    action_ids: tuple[str, ...]
    required_ids: tuple[str, ...]


@dataclass
class Compiled:
    definition: dict
    actions: dict[str, Action]
    quests: dict[str, Quest]
    by_event: dict[tuple[str | None, str], list[Action]]
    by_name: dict[str, list[Action]]  # events without a category match on name alone
    by_stream: dict[str, list[Action]]
    by_type: dict[str, list[Action]]
    dependents: dict[str, list[str]]
    timezone: str
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    invite_only: bool
    referee_bonus: int
    referrer_bonus: int
    has_referrals: bool = False  # the definition has a referrals section
    brand: Brand | None = None
    # Who may frame the widget: widget.allowed_origins usable in frame-ancestors (none: anyone).
    allowed_origins: tuple[str, ...] = ()
    milestone_names: dict[str, str] = field(default_factory=dict)  # code -> name
    prize_tiers: tuple[str, ...] = ()  # the instant-win tiers' names, in order
    # Progression (SPEC §2 tiers, badges, streaks, challenges): see engine/run/settling.py
    tiers: tuple[dict, ...] = ()  # by points_required, lowest first
    badges: tuple[dict, ...] = ()
    badge_event_types: frozenset[str] = frozenset()  # event types some badge counts
    streak: "StreakRule | None" = None
    challenges: tuple["Challenge", ...] = ()
    challenges_by_event: dict[str, list["Challenge"]] = field(default_factory=dict)

    @property
    def has_progression(self) -> bool:
        """Whether a run has anything to settle beyond points."""
        return bool(self.tiers or self.badges or self.streak)

    def running(self, now: datetime) -> bool:
        """Active and inside its window: outside it every action is locked."""
        if self.status != "active":
            return False
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at


def _action(raw: dict, quest: str | None) -> Action:
    event = raw.get("event")
    query = raw.get("query")
    threshold_field = THRESHOLD_FIELD.get(raw["type"])
    return Action(
        id=raw["id"], name=raw["name"], type=raw["type"], quest=quest, xp=raw["xp"],
        xp_mul=raw["xp_mul"], ref_xp=raw["ref_xp"], recurrence=raw["recurrence"],
        continuous=raw["continuous"], progressive=raw["progressive"], deps=tuple(raw["deps"]),
        is_optional=raw["is_optional"],
        threshold=int(raw[threshold_field]) if threshold_field else 1,
        payout=definitions.action_reward(raw["xp"], raw["xp_mul"]),
        stream=raw.get("stream"),
        event=(event.get("category"), event["name"], event.get("platform")) if event else None,
        query=jmespath.compile(query) if query else None,
        url=safe_url(raw.get("url")), button_text=raw.get("button_text") or "Go",
        description=raw.get("description"),
        raw=raw,
    )


def compile_definition(doc: dict) -> Compiled:
    """``doc`` is a valid, normalized definition."""
    actions: dict[str, Action] = {}
    for raw in doc.get("actions", []):
        actions[raw["id"]] = _action(raw, None)
    quests: dict[str, Quest] = {}
    for q in doc.get("quests", []):
        ids = []
        for raw in q["actions"]:
            actions[raw["id"]] = _action(raw, q["id"])
            ids.append(raw["id"])
        required = tuple(a for a in ids if not actions[a].is_optional)
        quests[q["id"]] = Quest(q["id"], q["name"], q.get("description"), tuple(ids), required)
    by_event: dict = {}
    by_name: dict = {}
    by_stream: dict = {}
    by_type: dict = {}
    dependents: dict = {}
    for a in actions.values():
        by_type.setdefault(a.type, []).append(a)
        if a.event is not None:
            by_event.setdefault((a.event[0], a.event[1]), []).append(a)
            by_name.setdefault(a.event[1], []).append(a)
        if a.stream is not None:
            by_stream.setdefault(a.stream, []).append(a)
        for dep in a.deps:
            dependents.setdefault(dep, []).append(a.id)
    tz = doc.get("timezone", "UTC")
    refs = doc.get("referrals", {})
    return Compiled(
        definition=doc, actions=actions, quests=quests, by_event=by_event, by_name=by_name,
        by_stream=by_stream,
        by_type=by_type, dependents=dependents, timezone=tz, status=doc.get("status", "active"),
        starts_at=definitions.parse_datetime(doc["starts_at"], zone(tz)) if doc.get("starts_at") else None,
        ends_at=definitions.parse_datetime(doc["ends_at"], zone(tz)) if doc.get("ends_at") else None,
        invite_only=bool(doc.get("invite_only", False)),
        referee_bonus=int(refs.get("referee_bonus", 0)),
        referrer_bonus=int(refs.get("referrer_bonus", 0)),
        has_referrals="referrals" in doc,
        brand=brand_of(doc),
        allowed_origins=_allowed_origins(doc),
        milestone_names={m["code"]: m["name"] for m in (doc.get("mechanics") or {}).get("milestones", [])},
        prize_tiers=tuple(t["name"] for t in ((doc.get("mechanics") or {}).get("instant_win") or {})
                          .get("tiers", [])),
        **_progression(doc, zone(tz)),
    )


def _allowed_origins(doc: dict) -> tuple[str, ...]:
    origins = (doc.get("widget") or {}).get("allowed_origins") or []
    return tuple(o for o in origins
                 if isinstance(o, str) and safe_url(o) and " " not in o and ";" not in o)


def _progression(doc: dict, tz) -> dict:
    badges = tuple(doc.get("badges", []))
    streaks = doc.get("streaks")
    if streaks:
        freezes = streaks.get("freezes") or {}
        streak = StreakRule(streaks["period"], int(freezes.get("max", 0)),
                            int(freezes.get("earn_every", 0)))
    elif any("streak" in b["criteria"] for b in badges):
        streak = StreakRule("daily")  # a streak badge needs streaks kept, daily unless told
    else:
        streak = None
    challenges = tuple(
        Challenge(ch["code"], ch["name"], ch["event_type"], int(ch["count"]),
                  definitions.parse_datetime(ch["starts_at"], tz),
                  definitions.parse_datetime(ch["ends_at"], tz), int(ch["reward_points"]))
        for ch in doc.get("challenges", []))
    by_event: dict = {}
    for ch in challenges:
        by_event.setdefault(ch.event_type, []).append(ch)
    return {
        "tiers": tuple(sorted(doc.get("tiers", []), key=lambda t: t["points_required"])),
        "badges": badges,
        "badge_event_types": frozenset(b["criteria"]["event_type"] for b in badges
                                       if "event_type" in b["criteria"]),
        "streak": streak,
        "challenges": challenges,
        "challenges_by_event": by_event,
    }


class _Cache:
    """A small LRU of compiled definitions; keys change whenever a definition does."""

    def __init__(self, size: int = 256):
        self._size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, build):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


cache = _Cache()
