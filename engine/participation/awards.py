"""GamifyHost's Rewards API semantics over the engine: reward_rules awards
and the `default` campaign's user view."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import LedgerEntry, RuleAward, User

from engine.definitions import campaigns
from engine.participation import events
from engine import ledger
from engine.definitions.campaigns import View
from engine.errors import Conflict, DuplicateReference, NotFound
from engine.run.settling import milestone_status
from engine.db.storage import insert_ignore
from engine.run.tasks import Run
from engine.access import playlinks, users
from engine.outbox import mail
from engine.outbox.mail import Mailer, PendingMail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Award:
    entry: LedgerEntry
    points: int
    balance: int


def award(session: Session, view: View, user: User, *, event_type: str, now: datetime,
          reference: str | None = None, metadata: dict | None = None) -> Award:
    """Pay the reward rule for ``event_type`` as a `rule` entry.

    404 without a rule; 409 for a reference already used with this event
    type (in the organization's default campaign) or once max_per_user
    awards were made. Concurrent requests with one reference pay once: the
    reference's unique row is claimed before anything is paid.
    """
    rule = next((r for r in view.definition.get("reward_rules", []) if r["event_type"] == event_type),
                None)
    if rule is None:
        raise NotFound(f"No reward rule found for event type {event_type!r}")
    run = Run(session, view, user, now)  # the user's lock: max_per_user is counted under it
    limit = rule.get("max_per_user")
    if limit is not None:
        made = session.scalar(select(func.count()).select_from(RuleAward).where(
            RuleAward.campaign_id == view.campaign.id, RuleAward.user_id == user.id,
            RuleAward.event_type == event_type))
        if made >= limit:
            raise Conflict(f"maximum awards per user reached for {event_type!r} ({limit})")
    if reference is not None:
        # The reference is unique per campaign and event type, whoever the user:
        # claim it first; a concurrent twin blocks here and then finds it taken.
        taken = session.scalars(select(RuleAward.id).where(
            RuleAward.campaign_id == view.campaign.id, RuleAward.event_type == event_type,
            RuleAward.reference == reference)).first()
        if taken is not None:
            raise DuplicateReference("Duplicate reference — points already awarded for this reference")
    posted = ledger.post_entry(session, campaign_id=view.campaign.id, user_id=user.id, env=view.env,
                               kind="rule", amount=int(rule["points"]), now=now, source="rule",
                               version=view.version,
                               meta={"event_type": event_type, "reference": reference,
                                     "metadata": metadata or {}})
    insert_ignore(session, RuleAward, {
        "campaign_id": view.campaign.id, "user_id": user.id, "event_type": event_type,
        "reference": reference, "ledger_entry_id": posted.entry.id, "meta": metadata or {},
        "created_at": now}, ["campaign_id", "event_type", "reference"])
    if reference is not None:
        mine = session.scalars(select(RuleAward).where(
            RuleAward.campaign_id == view.campaign.id, RuleAward.event_type == event_type,
            RuleAward.reference == reference)).one()
        if mine.ledger_entry_id != posted.entry.id:
            # Lost a race to a request for another user with the same reference.
            raise DuplicateReference("Duplicate reference — points already awarded for this reference")
    run.finish()  # pays the milestones this award takes total_earned past
    total = ledger.get_balances(session, view.campaign.id, user.id, view.env).total
    return Award(posted.entry, posted.entry.amount, total)


def user_summary(session: Session, view: View, user: User) -> dict:
    b = ledger.get_balances(session, view.campaign.id, user.id, view.env)
    return {"userId": user.account, "displayName": user.name, "email": user.email,
            "balance": b.total, "totalEarned": b.total_earned, "totalSpent": b.total_spent,
            "createdAt": user.created_at}


@dataclass(frozen=True)
class CampaignEvent:
    points_earned: int  # everything the event paid the user except the prize
    total_points: int
    milestones: list[dict]
    triggered: bool  # the event type triggers instant win in this campaign
    draw: object | None  # engine.run.instant_win.Draw


def campaign_event(session: Session, campaign, user: User, *, event_type: str, metadata: dict | None,
                   now: datetime, rng) -> CampaignEvent:
    """GamifyHost's campaign event: 404 unless the campaign is live and
    running; then the one engine path every event takes."""
    try:
        view = campaigns.view(campaign, "live")
    except NotFound:
        view = None
    if view is None or not view.compiled.running(now):
        raise NotFound("Campaign not found or not active")
    result = events.record_event(session, view, user, name=event_type, data=metadata, now=now,
                                 rng=rng, any_category=True)
    draw = result.mechanics.draw
    prize = draw.points if draw else 0
    return CampaignEvent(
        points_earned=result.outcome.paid_to(user.id) - prize,
        total_points=ledger.get_balances(session, view.campaign.id, user.id, "live").total,
        milestones=milestone_status(Run(session, view, user, now, lock=False)),
        triggered=result.mechanics.triggered, draw=draw)


# -- play links (SPEC §7) -----------------------------------------------------------------

@dataclass
class PlayLinkOffer:
    """A play link issued in the award's transaction and its e-mail, sent after the commit."""

    url: str
    expires_at: datetime
    mail: PendingMail

    def send_after_commit(self) -> bool:
        """Send the e-mail (call once the award committed); True once a server accepted it."""
        try:
            return self.mail.send_after_commit()
        except Exception:  # the points are paid whatever happens here
            log.exception("the e-mail for play link %s could not be sent", self.url)
            return False


def offer_play_link(session: Session, secrets: list[str], view: View, user: User, *, now: datetime,
                    hours, public_url: str, mailer: Mailer) -> PlayLinkOffer:
    """Issue a play link for ``user`` on ``view``'s campaign and compose its e-mail.

    InvalidInput when the user has no usable e-mail address or ``hours`` is
    out of range (nothing is issued). A message that cannot be built costs
    the user nothing: no e-mail, logged. A rolled-back award sends nothing,
    since the e-mail leaves only through :meth:`PlayLinkOffer.send_after_commit`.
    """
    to = mail.check_address(user.email)
    issued = playlinks.issue_link(session, secrets, org_id=user.org_id, user_id=user.id,
                                  campaign_id=view.campaign.id, now=now, hours=hours)
    url = playlinks.url_of(public_url, issued.token)
    message = None
    try:
        message = _play_link_message(
            view, mailer, to=to, name=users.display_name(user),
            balance=ledger.get_balances(session, view.campaign.id, user.id, view.env).total,
            link=url, expires_at=issued.expires_at, now=now)
    except Exception:
        log.exception("could not build the e-mail for play link %s", issued.link.id)
    return PlayLinkOffer(url, issued.expires_at, PendingMail(message, mailer, now))


def sample_play_link_message(view: View, *, to: str, public_url: str, now: datetime, mailer: Mailer):
    """The campaign's play-link e-mail filled with example values (previews, test sends)."""
    return _play_link_message(view, mailer, to=to, name="Jane Example", balance=1200,
                              link=playlinks.url_of(public_url, "example"), expires_at=now, now=now)


def _play_link_message(view: View, mailer: Mailer, **values):
    """The campaign's play-link e-mail: its template and brand, the mailer's sender."""
    return mail.play_link_message(brand=view.compiled.brand, template=view.definition.get("email"),
                                  sender=mailer.sender, sender_domain=mailer.sender_domain, **values)
