"""What leaves the server after a commit: webhook messages (written in the
change's transaction), their delivery worker, and e-mail."""
