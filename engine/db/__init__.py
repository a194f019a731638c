"""Storage: engine setup per database, transactions and their retry, the
SQLite write queue, and the statements the event path runs (``statements``)."""
