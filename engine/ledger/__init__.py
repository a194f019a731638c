"""The ledger: append-only entries, the balances derived from them, the score
buckets that rank them, and Idempotency-Key records.

The book's functions (``engine/ledger/book.py``) are offered here directly."""
from engine.ledger.book import (KINDS, MAX_AMOUNT, REWARD_SOURCE, Balances, bucket_of, entries, get_balances, lock_balance,
                                points_awarded, post_entry, recent, sum_entries)

__all__ = ["KINDS", "MAX_AMOUNT", "REWARD_SOURCE", "Balances", "bucket_of", "entries", "get_balances", "lock_balance",
           "points_awarded", "post_entry", "recent", "sum_entries"]
