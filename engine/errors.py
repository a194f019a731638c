"""Typed engine errors.

Each adapter maps these to its own status codes and envelope in one table
(see blueprints/pipeline.py); the engine never knows about HTTP. An error
carries a machine ``code`` (a class attribute, or given per instance when
one class covers several cases) that adapters may branch on; the
``message`` is for people and nothing decides on its wording.
"""


class EngineError(Exception):
    """Base class: the message is safe to show to a client."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **details):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidInput(EngineError):
    """The request is malformed or breaks a documented limit (400)."""

    code = "invalid_input"

    def __init__(self, message: str, issues=None):
        super().__init__(message)
        # [{path, message}] for clients that want to point at the field
        self.issues = issues or []


class Unauthorized(EngineError):
    """No credential, or one that does not match a live key (401)."""

    code = "unauthorized"


class Forbidden(EngineError):
    """A valid credential that may not do this (403)."""

    code = "forbidden"


class NotFound(EngineError):
    """An id unknown in the caller's organization (404)."""

    code = "not_found"


class UnknownCampaign(NotFound):
    code = "unknown_campaign"


class UnknownUser(NotFound):
    code = "unknown_user"


class Conflict(EngineError):
    """The request is well-formed but clashes with current state (409)."""

    code = "conflict"


class InsufficientBalance(Conflict):
    code = "insufficient_points"


class DuplicateReference(Conflict):
    code = "duplicate_reference"


class OutOfStock(Conflict):
    """A catalog reward whose quantity is all claimed (409)."""

    code = "out_of_stock"


class IdempotencyMismatch(EngineError):
    """An Idempotency-Key reused with another request body (422)."""

    code = "idempotency_key_reused"
