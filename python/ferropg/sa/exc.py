"""aiopg.sa's exception tree: errors of the SQLAlchemy layer itself.

Errors the server reports still arrive as ferropg's DB-API exceptions
(ferropg.IntegrityError, ...), exactly as aiopg.sa lets psycopg2's through.
"""

__all__ = [
    "ArgumentError",
    "Error",
    "InvalidRequestError",
    "NoSuchColumnError",
    "ResourceClosedError",
]


class Error(Exception):
    """The base of every ferropg.sa error."""


class ArgumentError(Error):
    """An invalid or conflicting argument: the call could never work as written."""


class InvalidRequestError(ArgumentError):
    """A request that the current state forbids (an inactive transaction, ...)."""


class NoSuchColumnError(KeyError, InvalidRequestError):
    """A row was asked for a column it does not have."""


class ResourceClosedError(InvalidRequestError):
    """A connection or result was used after it was closed."""
