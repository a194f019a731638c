"""Who may do what: organizations, API keys, signed tokens, play links,
dashboard operators, and users ((account, platform) inside an organization)."""
