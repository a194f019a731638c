"""The task engine: a run reads a user's counters once, feeds them an input,
pays what completes (``tasks``), applies mechanics and instant wins, and
settles streaks, tiers, badges and milestones when it finishes (``settling``)."""
