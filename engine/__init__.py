"""Questkit's domain: plain functions over a SQLAlchemy session, no Flask.

Packages, lowest first (each imports only those before it):

- ``db``            sessions, transactions and the statements run on every event
- ``definitions``   campaign documents: schema, checks, drafts, publishing, the compiled view
- ``access``        organizations, API keys, signed tokens, play links, operators, users
- ``outbox``        webhooks, their delivery worker, e-mail
- ``ledger``        entries, balances, score buckets, idempotency keys
- ``run``           the task engine: counters, mechanics, instant wins, settling a run
- ``reads``         progress, leaderboards, analytics, campaign figures
- ``participation`` what partners and users do: events, credits, referrals, invites,
                    catalog claims, game plays, award rules, participants, dry runs

``errors`` (typed errors every adapter maps by code), ``clock`` (the one
source of time) and ``numbers`` (whole numbers read from text, ASCII digits
only) sit beside them. Engine functions flush; the caller commits.
"""
