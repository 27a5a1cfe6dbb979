"""The project's exception hierarchy.

Every error the data layer raises on purpose derives from :class:`DatabaseError`, so a cog can catch one
type. Driver errors are translated by SQLSTATE (PostgreSQL) or extended result code (SQLite) in
:mod:`tux.database.core.errors`; nothing here is decided by message text.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of every error raised by ``tux.database``."""


class ConfigurationError(DatabaseError):
    """The library was set up wrongly (bad URL, unregistered repository, ...)."""


class RepositoryNotRegisteredError(ConfigurationError, LookupError):
    """A registry was asked for an interface nobody registered."""


class ValidationError(DatabaseError, ValueError):
    """Input was rejected before any SQL ran (unknown field, wrong type, oversized text, ...)."""


class UnknownFieldError(ValidationError):
    """A field or filter operator that the model does not have."""


class PermissionDeniedError(DatabaseError):
    """The member may not take this action (snippet-banned, locked snippet, someone else's snippet)."""


class NotFoundError(DatabaseError, LookupError):
    """A row that must exist does not."""


class IntegrityError(DatabaseError):
    """The database refused a write because it breaks a constraint.

    Parameters
    ----------
    message
        What happened.
    constraint
        Name of the violated constraint when the backend reports it.
    """

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class ConflictError(IntegrityError):
    """A unique or primary-key constraint was violated."""


class ForeignKeyError(IntegrityError):
    """A referenced row is missing, or a row is still referenced."""


class CheckViolationError(IntegrityError):
    """A CHECK or NOT NULL constraint was violated."""


class TransientError(DatabaseError):
    """A failure that may succeed when retried (lost connection, lock, serialization failure)."""


class ConnectionLostError(TransientError):
    """The connection to the database broke or could not be made."""


class SerializationError(TransientError):
    """A serializable transaction conflicted with a concurrent one (SQLSTATE 40001)."""


class DeadlockError(TransientError):
    """The database aborted this transaction to break a deadlock (SQLSTATE 40P01)."""


class DatabaseLockedError(TransientError):
    """SQLite's database file was locked for longer than the busy timeout."""


class LockTimeoutError(TransientError):
    """A lock or statement timeout set on the transaction expired."""


class TransactionError(DatabaseError):
    """A unit of work was used wrongly (commit outside a transaction, cross-task use, ...)."""
