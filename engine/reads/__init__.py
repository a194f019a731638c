"""Read-only views: a user's progress and activity, leaderboards, the
dashboard's analytics, campaign-wide figures, CSV exports."""
