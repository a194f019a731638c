"""The task engine: running counters per action, and what they pay (SPEC §2).

Every input (an event, a value, a stream value, a visit, a referral, a code
claim) goes through a :class:`Run` for one user in one campaign view. The
run locks the user's balance row first, so all of one user's updates in a
campaign are serialized, then advances only the actions the input feeds:
the cost of an input never depends on the user's history.

Task types live in ``EVALUATORS``: one function per type that moves the
counters of a state. Adding a type is one function and one entry (plus its
schema).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import jmespath
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Completion, InviteClaim, QuestState, Referral, User

from engine.run import counters, settling
from engine import ledger
from engine.db import statements
from engine.outbox import webhooks
from engine.definitions.campaigns import View
from engine.definitions.compiled import Action
from engine.run.counters import Counters
from engine.definitions.periods import period_key

TASK_SOURCE = "task"
REF_SOURCE = "task.ref_xp"
BONUS_SOURCE = "referral.bonus"


@dataclass
class Payout:
    user_id: int
    kind: str
    amount: int
    action: str | None = None
    quest: str | None = None


@dataclass
class Outcome:
    """What one input did: for API answers, simulate steps and webhooks."""

    advanced: list[dict] = field(default_factory=list)   # {aid, progress, target}
    completed: list[dict] = field(default_factory=list)  # {aid, cid, xp}
    quests: list[str] = field(default_factory=list)      # quests completed
    payouts: list[Payout] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)      # fed actions skipped as locked
    achieved: list[tuple[str, str]] = field(default_factory=list)  # (tier|badge|challenge, code)

    def paid_to(self, user_id: int) -> int:
        return sum(p.amount for p in self.payouts if p.user_id == user_id)

    def merge(self, other: "Outcome") -> "Outcome":
        for name in ("advanced", "completed", "quests", "payouts", "locked", "achieved"):
            getattr(self, name).extend(getattr(other, name))
        return self


@dataclass
class Input:
    """What feeds an action; evaluators read the field their type needs."""

    event: dict | None = None
    value: float | None = None


MAX_PAYOUTS = 100
# Counters saturate here: far above any target (<= 1e9), far below BIGINT.
PROGRESS_CAP = 10**15


def _floor(value) -> int:
    return math.floor(value)


def _capped(value: int) -> int:
    return max(-PROGRESS_CAP, min(PROGRESS_CAP, value))


def finite_number(value) -> float | int | None:
    """A JSON number usable as points, clamped to +-PROGRESS_CAP; None otherwise.

    Event data is free-form: booleans, strings, infinities and integers with
    hundreds of digits all arrive; none of them may fail a request.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return max(-PROGRESS_CAP, min(PROGRESS_CAP, value))


def _extract(action: Action, event: dict) -> int:
    """events_value: the query over a one-item list holding the event, floored."""
    try:
        found = action.query.search([event])
    except jmespath.exceptions.JMESPathError:  # e.g. sum() over strings: counts nothing
        return 0
    items = found if isinstance(found, list) else [found]
    total = sum(v for v in map(finite_number, items) if v is not None)
    return max(0, min(PROGRESS_CAP, _floor(total)))


# -- evaluators: each moves the counters of one state --------------------------

def _one_more(run: "Run", action: Action, state: Counters, inp: Input) -> None:
    state.progress += 1


def _set_value(run: "Run", action: Action, state: Counters, inp: Input) -> None:
    state.progress = _capped(_floor(inp.value))


def _add_value(run: "Run", action: Action, state: Counters, inp: Input) -> None:
    state.progress = _capped(state.progress + _floor(inp.value))


def _add_query(run: "Run", action: Action, state: Counters, inp: Input) -> None:
    state.progress = _capped(state.progress + _extract(action, inp.event))


# States (not counts of inputs): measured afresh each time they are checked.
def _users_referred(run: "Run") -> int:
    return run.session.scalar(select(func.count()).select_from(Referral).where(
        Referral.campaign_id == run.campaign_id, Referral.env == run.env,
        Referral.referrer_id == run.user.id))


def _code_claimed(run: "Run") -> int:
    return 1 if run.has_claimed_code() else 0


STATE_MEASURES: dict[str, Callable[["Run"], int]] = {
    "referrals": _users_referred,
    "invite_code": _code_claimed,
}


def _measure(run: "Run", action: Action, state: Counters, inp: Input) -> None:
    state.progress = STATE_MEASURES[action.type](run)


EVALUATORS: dict[str, Callable] = {
    "visit": _one_more,
    "api_call": _one_more,
    "api_number": _set_value,
    "api_score": _add_value,
    "api_stream": _add_value,
    "events_count": _one_more,
    "events_value": _add_query,
    "referrals": _measure,
    "invite_code": _measure,
}
# Checked again when the action unlocks or the state changes.
STATE_TYPES = tuple(STATE_MEASURES)


# The run's per-user lookups, built once (engine/db/statements.py).
_REFERRER = select(Referral.referrer_id).filter_by(**statements.OWNER_PARAMS)
_CLAIMED = select(InviteClaim.user_id).filter_by(**statements.OWNER_PARAMS)
_INSERT_COMPLETION = insert(Completion.__table__)


class Run:
    """One user's inputs in one campaign view, inside the caller's transaction."""

    def __init__(self, session: Session, view: View, user: User, now: datetime, *,
                 lock: bool = True, active: bool = True):
        self.session = session
        self.view = view
        self.c = view.compiled
        self.user = user
        self.now = now
        self.campaign_id = view.campaign.id
        self.env = view.env
        self.outcome = Outcome()
        self.active = active
        self.lock = lock
        if lock:
            # Serialize this user's writes in this campaign before reading
            # counters. Read-only views (progress) pass lock=False and never feed.
            # ``active`` False: a run the user did not cause (a referrer's tasks
            # rechecked after a referral) does not make them an active user.
            row = ledger.lock_balance(session, self.campaign_id, user.id, self.env, now, active=active)
            # Milestones pay when total_earned crosses them during this run.
            self.earned_at_start = row.total_earned
        self._states: dict[str, Counters] | None = None
        # Counters this run changed (written back by finish) and created.
        self._touched: set[str] = set()
        self._new: set[str] = set()
        self._claimed: bool | None = None
        self._referrer: int | None | bool = False
        # engine.run.settling: achievement rows (loaded once), event types
        # counted in this run, and whether the run counts for the streak.
        self.achievements: dict | None = None
        self.event_names: set[str] = set()
        self.streak_activity = False

    # -- lookups, loaded once per run --------------------------------------
    @property
    def states(self) -> dict[str, Counters]:
        if self._states is None:
            self._states = counters.load(self.lookup(counters.SELECT))
        return self._states

    def _owner(self) -> dict:
        """The user's key in every per-user table (statements.OWNER)."""
        return {"campaign_id": self.campaign_id, "env": self.env, "user_id": self.user.id}

    def lookup(self, stmt, **params) -> list:
        """The rows of one of the user's lookups (``stmt`` bound by
        campaign_id, env and user_id, plus ``params``), run as a Core
        statement: no flush first.

        Safe because a run reads each of these tables (its counters, referral,
        invite claim, events) before it writes them,
        and whatever wrote them earlier in the transaction flushed (every run
        ends with a flush; referrals and claims flush their rows). One flush
        per run, not one per lookup.
        """
        return statements.rows(self.session, stmt, {**self._owner(), **params})

    def has_claimed_code(self) -> bool:
        if self._claimed is None:
            self._claimed = bool(self.lookup(_CLAIMED))
        return self._claimed

    def referrer_id(self) -> int | None:
        if self._referrer is False:
            found = self.lookup(_REFERRER)
            self._referrer = found[0].referrer_id if found else None
        return self._referrer

    def code_claimed_now(self) -> None:
        self._claimed = True

    # -- state ---------------------------------------------------------------
    def state(self, action: Action) -> Counters:
        """The action's counters for the current period (reset on a new one).

        Marks them for writing when the run finishes (counters.save)."""
        period = period_key(action.recurrence, self.now, self.c.timezone)
        st = self.states.get(action.id)
        self._touched.add(action.id)
        if st is None or (st.action_type, st.recurrence) != (action.type, action.recurrence):
            if st is None:
                st = self.states[action.id] = Counters(action.id)
                self._new.add(action.id)
            # New action, or one whose type or period changed in a new version.
            st.action_type, st.recurrence, st.period = action.type, action.recurrence, period
            st.progress, st.paid_in_period, st.completions = 0, 0, 0
            st.first_paid_period = st.first_paid_at = st.last_paid_at = None
        elif st.period != period:
            st.period, st.progress, st.paid_in_period = period, 0, 0
        st.updated_at = self.now
        return st

    def paid_once(self, action_id: str) -> bool:
        st = self.states.get(action_id)
        return st is not None and st.completions > 0

    def gate_open(self) -> bool:
        """invite_only campaigns: nothing advances before a code is claimed."""
        return not self.c.invite_only or self.has_claimed_code()

    def lock_reason(self, action: Action) -> str | None:
        """Why ``action`` cannot advance now, or None when it can."""
        if not self.c.running(self.now):
            return "the campaign is not running (status, starts_at or ends_at)"
        if not self.gate_open():
            return "this campaign is invite-only: claim an invite code first"
        missing = [d for d in action.deps if not self.paid_once(d)]
        if missing:
            return f"action {action.id!r} is locked until {', '.join(map(repr, missing))} completed"
        return None

    def locked(self, action: Action) -> bool:
        return self.lock_reason(action) is not None

    @staticmethod
    def finished(action: Action, st: Counters) -> bool:
        """A non-continuous action that paid in an earlier period is done for good.

        api_score never "completes" (SPEC §2): each value is added whatever
        ``continuous`` says, so it is never done.
        """
        return (not action.continuous and action.type != "api_score"
                and st.first_paid_period not in (None, st.period))

    # -- feeding -------------------------------------------------------------
    def feed(self, action: Action, inp: Input | None = None, *, report_locked: bool = True) -> bool:
        """Advance ``action`` with ``inp`` and pay what is due; False if locked."""
        if self.locked(action):
            if report_locked:
                self.outcome.locked.append(action.id)
            if action.type in STATE_TYPES:
                self._measure_while_locked(action)
            return False
        st = self.state(action)
        if self.finished(action, st):
            return True
        EVALUATORS[action.type](self, action, st, inp or Input())
        self.outcome.advanced.append({"aid": action.id, "progress": st.progress,
                                      "target": action.threshold})
        if action.type == "api_score":
            self._pay_score(action, st, _floor(inp.value))
        else:
            for _ in range(self._due(action, st)):
                self._pay(action, st)
        return True

    def recheck_states(self, only: list[str] | None = None) -> None:
        """Evaluate state-type actions again (after an unlock, a referral, a claim)."""
        for kind in STATE_TYPES:
            for action in self.c.by_type.get(kind, []):
                if only is None or action.id in only:
                    self.feed(action, report_locked=False)

    @staticmethod
    def _due(action: Action, st: Counters) -> int:
        if st.progress < action.threshold:
            return 0
        if action.progressive:
            # One input pays at most MAX_PAYOUTS: a value of 1e12 against a
            # target of 1 must not write a trillion entries. The rest stays
            # due and is paid by the next inputs of the period.
            return max(0, min(MAX_PAYOUTS, st.progress // action.threshold - st.paid_in_period))
        return 1 if st.paid_in_period == 0 else 0

    # -- paying --------------------------------------------------------------
    def _pay_score(self, action: Action, st: Counters, value: int) -> None:
        if value > 0:
            self._record_payout(action, st, value)

    def _pay(self, action: Action, st: Counters) -> None:
        self._record_payout(action, st, action.payout)

    def _record_payout(self, action: Action, st: Counters, amount: int) -> None:
        first = st.completions == 0
        st.paid_in_period += 1
        st.completions += 1
        st.last_paid_at = self.now
        if first:
            st.first_paid_at, st.first_paid_period = self.now, st.period
        statements.execute(self.session, _INSERT_COMPLETION, {
            "campaign_id": self.campaign_id, "env": self.env, "user_id": self.user.id,
            "action_id": action.id, "quest_id": action.quest, "xp": amount, "period": st.period,
            "version": self.view.version, "completed_at": self.now})
        self.credit(self.user.id, "task", amount, source=TASK_SOURCE,
                    meta={"aid": action.id, "cid": action.quest}, action=action)
        self.outcome.completed.append({"aid": action.id, "cid": action.quest, "xp": amount})
        self.emit("task.completed", {"cid": action.quest, "aid": action.id, "xp": amount})
        if action.ref_xp > 0 and self.referrer_id() is not None:
            self.credit(self.referrer_id(), "referral", action.ref_xp, source=REF_SOURCE,
                        meta={"aid": action.id, "referee_id": self.user.id}, action=action)
        if first:
            self._after_first_payment(action)

    def emit(self, type: str, data: dict) -> None:
        """A webhook message about this user, in this transaction."""
        webhooks.emit(self.session, campaign_id=self.campaign_id, env=self.env, user_id=self.user.id,
                      type=type, data=data, now=self.now)

    def credit(self, user_id: int, kind: str, amount: int, *, source: str, meta: dict,
               action: Action | None = None) -> None:
        if amount <= 0:
            return
        ledger.post_entry(self.session, campaign_id=self.campaign_id, user_id=user_id,
                          env=self.env, kind=kind, amount=amount, now=self.now, source=source,
                          version=self.view.version, meta=meta,
                          active=user_id == self.user.id and self.active)
        self.outcome.payouts.append(Payout(user_id, kind, amount, action and action.id,
                                           action and action.quest))

    def _after_first_payment(self, action: Action) -> None:
        if action.quest is not None:
            self._check_quest(action.quest)
        unlocked = [a for a in self.c.dependents.get(action.id, [])
                    if self.c.actions[a].type in STATE_TYPES]
        if unlocked:
            self.recheck_states(unlocked)

    def _check_quest(self, quest_id: str) -> None:
        quest = self.c.quests[quest_id]
        if not all(self.paid_once(a) for a in quest.required_ids):
            return
        key = (self.campaign_id, self.env, self.user.id, quest_id)
        if self.session.get(QuestState, key) is None:
            self.session.add(QuestState(campaign_id=self.campaign_id, env=self.env,
                                        user_id=self.user.id, quest_id=quest_id,
                                        completed_at=self.now))
            self.outcome.quests.append(quest_id)
            self.emit("quest.completed", {"cid": quest_id})

    # States are "checked again when the action unlocks" (SPEC §2). Deps and
    # code claims unlock inside a run and recheck at once; a campaign that
    # starts, or resumes after a pause, unlocks with no input of its own. So a
    # state measured while locked is kept in its counters, and the user's next
    # input pays it: no extra query unless something is actually due.
    def _measure_while_locked(self, action: Action) -> None:
        st = self.state(action)
        if not self.finished(action, st):
            EVALUATORS[action.type](self, action, st, Input())

    def _pay_pending_states(self) -> None:
        for kind in STATE_TYPES:
            for action in self.c.by_type.get(kind, []):
                st = self._states.get(action.id)
                if (st is not None and (st.action_type, st.recurrence) == (action.type, action.recurrence)
                        and self._due(action, st) > 0 and not self.finished(action, st)
                        and not self.locked(action)):
                    self.feed(action, report_locked=False)

    def _pay_pending_referral_bonus(self) -> None:
        """Bonuses wait while the campaign is closed to the user (invite-only
        without a code, paused, outside its window); the user's first input
        once it is open pays them."""
        if not (self.c.referee_bonus or self.c.referrer_bonus):
            return
        if self.referrer_id() is None or not self.gate_open() or not self.c.running(self.now):
            return
        referral = self.session.get(Referral, (self.campaign_id, self.env, self.user.id))
        if not referral.bonus_paid:
            referral.bonus_paid = True
            self.credit(self.user.id, "referral", self.c.referee_bonus, source=BONUS_SOURCE,
                        meta={"role": "referee", "referrer_id": referral.referrer_id})
            self.credit(referral.referrer_id, "referral", self.c.referrer_bonus, source=BONUS_SOURCE,
                        meta={"role": "referrer", "referee_id": referral.user_id})

    def finish(self) -> Outcome:
        self._pay_pending_referral_bonus()
        if self._states is not None:
            self._pay_pending_states()
        if self.lock:
            # Milestones are over total_earned, whatever paid it (SPEC §2).
            settling.check_milestones(self)
            settling.settle(self)  # streak, tiers and badges, over everything the run paid
        if self._touched:
            counters.save(self.session, self._owner(), self._states, self._touched,
                          self._new)
            self._touched, self._new = set(), set()
        self.session.flush()
        return self.outcome
