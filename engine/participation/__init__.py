"""What partners and users do, each a thin layer over the task engine: events
and values, credits and debits, referrals, invite codes, catalog claims, game
plays, reward-rule awards, participant profiles, and dry runs of a draft."""
