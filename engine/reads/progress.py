"""Read-only views of a user's progress and activity in a campaign."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Completion, QuestState, User

from engine import ledger
from engine.definitions.campaigns import View
from engine.definitions.compiled import Action
from engine.definitions.periods import next_reset, period_key
from engine.run.tasks import STATE_MEASURES, STATE_TYPES, Run

ACTIVITY_LIMIT = 1000


def _action_status(run: Run, action: Action) -> dict:
    st = run.states.get(action.id)
    period = period_key(action.recurrence, run.now, run.c.timezone)
    current = st is not None and st.period == period and \
        (st.action_type, st.recurrence) == (action.type, action.recurrence)
    progress = st.progress if current else 0
    paid_now = st.paid_in_period if current else 0
    completions = st.completions if st is not None and \
        (st.action_type, st.recurrence) == (action.type, action.recurrence) else 0
    if action.type in STATE_TYPES and not (st is not None and Run.finished(action, st)):
        # States are shown as they are now, even if not checked since.
        progress = STATE_MEASURES[action.type](run)
    done_for_good = not action.continuous and completions > 0 and action.type != "api_score"
    done_this_period = action.continuous and paid_now > 0 and action.type != "api_score"
    if action.type != "api_score" and (done_for_good or done_this_period):
        status = "completed"
    elif run.locked(action):
        status = "locked"
    elif progress > 0:
        status = "in_progress"
    else:
        status = "available"
    resets = action.recurrence != "once" and not done_for_good
    return {
        "id": action.id, "name": action.name, "type": action.type, "quest": action.quest,
        "status": status, "progress": progress, "target": action.threshold,
        "completions": completions, "xp": action.payout,
        "next_reset_at": next_reset(action.recurrence, run.now, run.c.timezone) if resets else None,
        "deps": list(action.deps),
    }


def user_progress(session: Session, view: View, user: User | None, now: datetime) -> dict:
    """Every action with its status, and every quest; an unknown user sees a fresh slate."""
    if user is None:
        # A read creates nothing: show what a new user would see.
        user = User(id=-1, account="", platform="")
    run = Run(session, view, user, now, lock=False)
    actions = [_action_status(run, a) for a in view.compiled.actions.values()]
    done = {q.quest_id: q.completed_at for q in session.scalars(select(QuestState).where(
        QuestState.campaign_id == view.campaign.id, QuestState.env == view.env,
        QuestState.user_id == user.id))}
    by_id = {a["id"]: a for a in actions}
    quests = []
    for q in view.compiled.quests.values():
        if q.id in done:
            status = "completed"
        elif any(by_id[a]["completions"] or by_id[a]["progress"] for a in q.action_ids):
            status = "in_progress"
        else:
            status = "available"
        quests.append({"id": q.id, "name": q.name, "status": status,
                       "completed_at": done.get(q.id)})
    return {"actions": actions, "quests": quests}


def user_activity(session: Session, view: View, user: User | None) -> dict:
    """Tasks completed, quests completed, credits received, and the total."""
    if user is None:
        return {"tasks": [], "quests": [], "rewards": [], "xp": 0}
    names = {a.id: a.name for a in view.compiled.actions.values()}
    quest_names = {q.id: q.name for q in view.compiled.quests.values()}
    completions = session.scalars(select(Completion).where(
        Completion.campaign_id == view.campaign.id, Completion.env == view.env,
        Completion.user_id == user.id).order_by(Completion.id.desc()).limit(ACTIVITY_LIMIT))
    tasks = [{"id": c.action_id, "name": names.get(c.action_id, c.action_id), "quest": c.quest_id,
              "xp": c.xp, "completed_at": c.completed_at} for c in completions][::-1]
    quests = [{"id": q.quest_id, "name": quest_names.get(q.quest_id, q.quest_id),
               "completed_at": q.completed_at}
              for q in session.scalars(select(QuestState).where(
                  QuestState.campaign_id == view.campaign.id, QuestState.env == view.env,
                  QuestState.user_id == user.id).order_by(QuestState.completed_at))]
    return {
        "tasks": tasks,
        "quests": quests,
        "rewards": reward_history(session, view, user),
        "xp": ledger.get_balances(session, view.campaign.id, user.id, view.env).total,
    }


def reward_history(session: Session, view: View, user: User | None) -> list[dict]:
    """The credits /user/reward made, oldest first: {id, kind, xp, created_at}."""
    if user is None:
        return []
    return [
        {"id": e.meta["id"], "kind": e.meta.get("kind", e.kind), "xp": e.amount,
         "created_at": e.created_at}
        for e in ledger.entries(session, view.campaign.id, user.id, view.env, source=ledger.REWARD_SOURCE)
    ]
