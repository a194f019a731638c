"""Campaigns as code: drafts, publishing, and the definition an env sees."""
from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Campaign, Organization

from engine import definitions
from engine.db import statements
from engine.definitions.compiled import Compiled, cache, compile_definition
from engine.errors import Conflict, InvalidInput, UnknownCampaign

DEFAULT_PID = "default"
ENVS = ("live", "dev")


def parse_env(value) -> str:
    """`env` of a request: absent or "live" is live, "dev" the sandbox, else 400."""
    if value is None or value == "":
        return "live"
    if value not in ENVS:
        raise InvalidInput("env must be 'live' or 'dev'")
    return value


def create_default_campaign(session: Session, org: Organization, now: datetime) -> Campaign:
    """The organization's loyalty wallet, live from the start (SPEC §1)."""
    doc = {"id": DEFAULT_PID, "name": org.name}
    campaign = Campaign(org_id=org.id, pid=DEFAULT_PID, slug=DEFAULT_PID, draft=doc,
                        live=copy.deepcopy(doc), version=1, created_at=now,
                        draft_updated_at=now, published_at=now, draft_rev=_rev(), live_rev=_rev())
    session.add(campaign)
    session.flush()
    return campaign


# Built once: every request of a campaign runs it (building a select costs
# about as much as running it).
_PID_IS = (Campaign.org_id == bindparam("org_id"), Campaign.pid == bindparam("pid"))
_BY_PID = select(*statements.entity_columns(Campaign)).where(*_PID_IS)


def get_campaign(session: Session, org_id: int, pid) -> Campaign:
    """The organization's campaign with this pid; UnknownCampaign otherwise.
    Read as a Core statement (statements.load): every request of a campaign
    runs it."""
    _check_pid(pid)
    return _found(statements.load(session, Campaign, _BY_PID, {"org_id": org_id, "pid": pid}), pid)


def _check_pid(pid) -> None:
    if not isinstance(pid, str) or not pid:
        raise InvalidInput("pid is required")


def _found(campaign, pid):
    if campaign is None:
        raise UnknownCampaign(f"unknown campaign {pid!r}")
    return campaign


def list_campaigns(session: Session, org_id: int) -> list[Campaign]:
    return list(session.scalars(select(Campaign).where(Campaign.org_id == org_id).order_by(Campaign.id)))


def get_campaign_by_slug(session: Session, org_id: int, slug: str) -> Campaign:
    campaign = session.scalars(
        select(Campaign).where(Campaign.org_id == org_id, Campaign.slug == slug)
    ).one_or_none()
    if campaign is None:
        raise UnknownCampaign(f"unknown campaign {slug!r}")
    return campaign


def get_view(session: Session, org_id: int, pid, env: str) -> "View":
    """The view of the organization's campaign ``pid`` in ``env`` (see view()).
    The campaign's documents are deferred columns: one is loaded only when
    the compiled cache does not hold its revision yet."""
    return view(get_campaign(session, org_id, pid), env)


@dataclass(frozen=True)
class View:
    """A campaign as one environment sees it: the definition with defaults,
    compiled for evaluation."""

    campaign: Campaign
    env: str
    compiled: Compiled
    version: int  # the live version; a draft is "the next one", version + 1

    @property
    def definition(self) -> dict:
        return self.compiled.definition


def _rev() -> str:
    return secrets.token_hex(8)


def view(campaign: Campaign, env: str) -> View:
    """Live reads the published definition, dev the draft (SPEC §1 environments)."""
    if env == "dev":
        rev, version = campaign.draft_rev, campaign.version + 1
    elif campaign.live_rev is None:
        raise UnknownCampaign(
            f"campaign {campaign.pid!r} has no published version (env=dev reads its draft)")
    else:
        rev, version = campaign.live_rev, campaign.version
    # The document (a deferred column) is loaded only when not compiled yet.
    compiled = cache.get((campaign.id, env, rev), lambda: compile_definition(
        definitions.normalize(campaign.draft if env == "dev" else campaign.live)))
    return View(campaign, env, compiled, version)


def default_view(session: Session, org_id: int) -> View:
    """The live view of the organization's `default` campaign: the wallet the
    Rewards and Participants APIs and play links read (SPEC §1)."""
    return get_view(session, org_id, DEFAULT_PID, "live")


def check_definition(doc) -> None:
    """Raise InvalidInput carrying every issue, each with its JSON path."""
    if not isinstance(doc, dict):
        raise InvalidInput("a campaign definition must be a JSON object",
                           [{"path": "", "message": "must be an object"}])
    issues = definitions.validate_definition(doc)
    if issues:
        raise InvalidInput(
            "invalid campaign definition: " + "; ".join(str(i) for i in issues[:5]),
            [{"path": i.path, "message": i.message} for i in issues],
        )


def put_draft(session: Session, org_id: int, pid: str, doc, now: datetime) -> Campaign:
    """Store ``doc`` as the draft of campaign ``pid``, creating the campaign."""
    check_definition(doc)
    if doc["id"] != pid:
        raise InvalidInput(f"the definition's id {doc['id']!r} differs from the campaign {pid!r}",
                           [{"path": "id", "message": f"must be {pid!r}"}])
    slug = doc.get("slug", doc["id"])
    if pid == DEFAULT_PID and slug != DEFAULT_PID:
        raise InvalidInput("the default campaign's slug is 'default'",
                           [{"path": "slug", "message": "must be 'default'"}])
    campaign = session.scalars(
        select(Campaign).where(Campaign.org_id == org_id, Campaign.pid == pid).with_for_update()
    ).one_or_none()
    _check_slug_free(session, org_id, slug, campaign)
    if campaign is None:
        campaign = Campaign(org_id=org_id, pid=pid, slug=slug, draft=doc, live=None, version=0,
                            created_at=now, draft_updated_at=now, draft_rev=_rev())
        session.add(campaign)
    else:
        campaign.draft = doc
        campaign.draft_updated_at = now
        campaign.draft_rev = _rev()
        if campaign.live_rev is None:
            campaign.slug = slug
    session.flush()
    return campaign


def set_draft_sections(session: Session, org_id: int, pid: str, sections: dict, now: datetime) -> Campaign:
    """Replace top-level sections of the draft (``branding``, ``email``...);
    an empty one is removed. Validated like any draft."""
    doc = copy.deepcopy(get_campaign(session, org_id, pid).draft)
    for key, value in sections.items():
        if value:
            doc[key] = value
        else:
            doc.pop(key, None)
    return put_draft(session, org_id, pid, doc, now)


def _check_slug_free(session: Session, org_id: int, slug: str, campaign: Campaign | None) -> None:
    other = session.scalars(
        select(Campaign).where(Campaign.org_id == org_id, Campaign.slug == slug)
    ).one_or_none()
    if other is not None and (campaign is None or other.id != campaign.id):
        raise Conflict(f"slug {slug!r} is already used by campaign {other.pid!r}")


def publish(session: Session, org_id: int, pid: str, now: datetime) -> tuple[Campaign, bool]:
    """Copy the draft to live and bump the version; a no-op when they are equal."""
    campaign = get_campaign(session, org_id, pid)
    # Lock the row: two publishes must not both read version N and write N+1.
    session.refresh(campaign, with_for_update=True)
    check_definition(campaign.draft)  # the schema may have tightened since the draft was saved
    if not campaign.draft_differs:
        return campaign, False
    slug = campaign.draft.get("slug", campaign.draft["id"])
    _check_slug_free(session, org_id, slug, campaign)
    campaign.live = copy.deepcopy(campaign.draft)
    campaign.live_rev = _rev()
    campaign.slug = slug
    campaign.version += 1
    campaign.published_at = now
    session.flush()
    return campaign, True
