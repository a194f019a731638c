"""Helpers shared by the quest-engine API tests (not a test module itself)."""
from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from extensions import db
from models import (ActionState, Balance, CampaignCounter, Completion, Event, IdempotencyRecord,
                    InviteClaim, InviteCode, LedgerEntry, QuestState, RefCode, Referral, User)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PID = "summer_games"

# Every table a Campaign API write could touch.
COUNTED = (User, Event, LedgerEntry, Balance, CampaignCounter, ActionState, Completion, QuestState,
           RefCode, Referral, InviteCode, InviteClaim, IdempotencyRecord)


def example(name: str = "campaign-example.json") -> dict:
    """A fresh copy of one of the spec's example campaigns."""
    return json.loads((EXAMPLES / name).read_text())


def summer_doc(**changes) -> dict:
    """The example quest campaign (summer_games) with top-level ``changes``."""
    doc = example()
    doc.update(copy.deepcopy(changes))
    return doc


def push(client, auth, doc: dict, *, publish: bool = True) -> None:
    """PUT the definition as the draft, then publish it (unless told not to)."""
    r = client.put(f"/api/v1/admin/campaigns/{doc['id']}", json=doc, headers=auth)
    assert r.status_code == 200, r.json
    if publish:
        r = client.post(f"/api/v1/admin/campaigns/{doc['id']}/publish", headers=auth)
        assert r.status_code == 200, r.json


def push_example(client, auth, **changes) -> dict:
    doc = summer_doc(**changes)
    push(client, auth, doc)
    return doc


def row_counts(app) -> dict:
    with app.app_context():
        return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                for m in COUNTED}


def ok(r, status: int = 200):
    """The response's data, after checking the status and the success envelope."""
    assert r.status_code == status, (r.status_code, r.get_json())
    body = r.get_json()
    assert body["success"] is True, body
    return body.get("data")


def err(r, status: int) -> str:
    """The error message, after checking the status and the error envelope."""
    assert r.status_code == status, (r.status_code, r.get_json())
    body = r.get_json()
    assert body["success"] is False, body
    assert isinstance(body["error"], str) and body["error"], body
    return body["error"]


def user(account: str, platform: str = "discord", pid: str = PID, **extra) -> dict:
    return {"account": account, "platform": platform, "pid": pid, **extra}


def reward(client, auth, account: str, xp: int, *, rid: str | None = None, platform: str = "discord",
           pid: str = PID, **extra):
    body = user(account, platform, pid, id=rid or f"r-{account}-{xp}", xp=xp, **extra)
    return ok(client.post("/api/v1/user/reward", json=body, headers=auth))


def balance(client, auth, account: str, platform: str = "discord", pid: str = PID, **q) -> dict:
    return ok(client.get("/api/v1/user/balance", query_string=user(account, platform, pid, **q),
                         headers=auth))


def progress(client, auth, account: str, platform: str = "discord", pid: str = PID, **q) -> dict:
    data = ok(client.get("/api/v1/user/progress", query_string=user(account, platform, pid, **q),
                         headers=auth))
    return data


def actions_by_id(progress_data: dict) -> dict:
    return {a["id"]: a for a in progress_data["actions"]}


def run_in_threads(n, fn):
    barrier = threading.Barrier(n)

    def task(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(task, range(n)))
