"""All models, imported here so metadata (and Alembic) sees every table."""
from .activity import ActionState, Completion, Event, QuestState
from .base import Base
from .campaign import Campaign
from .idempotency import IdempotencyRecord
from .ledger import Balance, CampaignCounter, LedgerEntry, ScoreBucket
from .organization import ApiKey, LoginThrottle, Operator, Organization
from .playlink import PlayLink
from .prizes import MilestoneReached, Play, PrizeStock, RuleAward
from .progression import Achievement, CatalogClaim, CatalogStock, EventCount, Streak
from .referral import InviteClaim, InviteCode, RefCode, Referral
from .user import User
from .webhook import Attempt, Hook, Message

__all__ = [
    "Achievement", "CatalogClaim", "CatalogStock", "EventCount", "Streak",
    "Attempt", "Hook", "Message", "MilestoneReached", "Play", "PrizeStock", "RuleAward",
    "ActionState", "ApiKey", "Balance", "Base", "Campaign", "CampaignCounter", "Completion", "Event",
    "IdempotencyRecord", "InviteClaim", "LoginThrottle", "InviteCode", "LedgerEntry", "Operator", "Organization",
    "PlayLink", "QuestState", "RefCode", "Referral", "ScoreBucket", "User",
]
