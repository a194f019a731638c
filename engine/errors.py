"""Typed engine errors.

Each blueprint maps these to its own status codes and envelope in one table
(see blueprints/_api.py); the engine never knows about HTTP.
"""


class EngineError(Exception):
    """Base class: the message is safe to show to a client."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(EngineError):
    """The request is malformed or breaks a documented limit (400)."""

    def __init__(self, message: str, issues=None):
        super().__init__(message)
        # [{path, message}] for clients that want to point at the field
        self.issues = issues or []


class Unauthorized(EngineError):
    """No credential, or one that does not match a live key (401)."""


class Forbidden(EngineError):
    """A valid credential that may not do this (403)."""


class NotFound(EngineError):
    """An id unknown in the caller's organization (404)."""


class UnknownCampaign(NotFound):
    pass


class UnknownUser(NotFound):
    pass


class Conflict(EngineError):
    """The request is well-formed but clashes with current state (409)."""


class InsufficientBalance(Conflict):
    pass


class DuplicateReference(Conflict):
    pass


class OutOfStock(Conflict):
    """A catalog reward whose quantity is all claimed (409)."""


class IdempotencyMismatch(EngineError):
    """An Idempotency-Key reused with another request body (422)."""
