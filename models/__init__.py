"""All models, imported here so metadata (and Alembic) sees every table."""
from .base import Base
from .campaign import Campaign
from .idempotency import IdempotencyRecord
from .ledger import Balance, LedgerEntry
from .organization import ApiKey, Operator, Organization
from .user import User

__all__ = [
    "ApiKey", "Balance", "Base", "Campaign", "IdempotencyRecord", "LedgerEntry",
    "Operator", "Organization", "User",
]
