"""What a batch writes to: the repository's model and table, and its rows checked and laid out.

Every row is checked with :func:`~tux.database.repositories.validation.validate_payload`, the check a
single ``create`` or ``update`` runs, before any SQL is built; the first bad row rejects the batch with
its index (:class:`BatchValidationError`). Rows for the driver's own bulk paths (``COPY``, raw
``executemany``) get what SQLAlchemy would have added on the way: client-side column defaults and each
column type's bind processing for the dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.sql.schema import Column

from tux.database.core.session import SessionProvider
from tux.database.exceptions import ConfigurationError, ValidationError
from tux.database.repositories.cached import CachedRepository
from tux.database.repositories.cached_specs import CacheTable
from tux.database.repositories.validation import coerce_value, field_spec, validate_payload

Row = dict[str, object]


class BatchValidationError(ValidationError):
    """One row of a batch was refused before anything was sent; nothing of the batch was written.

    Attributes
    ----------
    index
        Position of the refused row in the items given.
    reason
        The row's own validation error.
    """

    def __init__(self, index: int, reason: ValidationError) -> None:
        super().__init__(f"row {index}: {reason}")
        self.index = index
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """A repository as a batch sees it: its model, table, key and cache table (when it is cached)."""

    repository: Any
    model: type[Any]
    table: Table
    primary_key: tuple[str, ...]
    cache_table: CacheTable | None

    @property
    def name(self) -> str:
        """The table name (a low-cardinality label for logs and metrics)."""
        return self.table.name

    def column(self, field: str) -> Column[Any]:
        """Return the table column behind model attribute ``field``."""
        column: Column[Any] = self.table.c[inspect(self.model).get_property(field).columns[0].key]
        return column


def resolve(repository: Any, sessions: SessionProvider) -> Target:
    """Return the batch target of ``repository`` as the registry hands it out, cached or not.

    Raises
    ------
    ConfigurationError
        If it is not a model repository of this database.
    """
    inner = repository.wrapped if isinstance(repository, CachedRepository) else repository
    model = getattr(inner, "model", None)
    if model is None or not hasattr(inner, "primary_key"):
        raise ConfigurationError(f"{type(repository).__name__} is not a model repository")
    if any(prop.key != prop.columns[0].key for prop in inspect(model).column_attrs):
        raise ConfigurationError(f"{model.__name__}: batches need attribute names equal to column names")
    if getattr(inner, "sessions", None) is not sessions:
        raise ConfigurationError(f"{type(inner).__name__} belongs to another database")
    cache_table = repository.cache_table if isinstance(repository, CachedRepository) else None
    return Target(repository, model, model.__table__, tuple(inner.primary_key), cache_table)


def checked_rows(
    target: Target, items: Iterable[Mapping[str, object]], *, partial: bool = False
) -> list[Row]:
    """Return ``items`` validated like a single write of each; raise on the first bad row."""
    model = target.model
    rows: list[Row] = []
    for index, item in enumerate(items):
        try:
            rows.append(validate_payload(model, item, partial=partial))
        except ValidationError as error:
            raise BatchValidationError(index, error) from error
    return rows


def checked_identity(target: Target, index: int, identity: object) -> tuple[object, ...]:
    """Return ``identity`` (a scalar, or a tuple in key order) as checked key values."""
    values = identity if isinstance(identity, tuple) else (identity,)
    if len(values) != len(target.primary_key):
        reason = ValidationError(
            f"{target.model.__name__} is keyed by ({', '.join(target.primary_key)}); got {identity!r}"
        )
        raise BatchValidationError(index, reason)
    try:
        return tuple(
            coerce_value(field_spec(target.model, name), value)
            for name, value in zip(target.primary_key, values, strict=True)
        )
    except ValidationError as error:
        raise BatchValidationError(index, error) from error


def merged_by_key(
    rows: Sequence[Row], key: Sequence[str], accumulate: Sequence[str] = ()
) -> tuple[list[Row], int]:
    """Merge rows with the same ``key``: later fields win, ``accumulate`` fields add up.

    Returns the merged rows (in order of each key's first appearance) and how many were folded in.
    ``ON CONFLICT DO UPDATE`` cannot touch one row twice in a statement, and a merged row does once
    what the duplicates would have done one after the other.
    """
    merged: dict[tuple[object, ...], Row] = {}
    for row in rows:
        try:
            identity = tuple(row[name] for name in key)
        except KeyError as error:
            raise ValidationError(f"every upserted row needs the conflict field {error.args[0]!r}") from None
        known = merged.get(identity)
        if known is None:
            merged[identity] = dict(row)
            continue
        for name, value in row.items():
            previous = known.get(name)
            if name in accumulate and isinstance(previous, (int, float)) and isinstance(value, (int, float)):
                known[name] = previous + value
            else:
                known[name] = value
    return list(merged.values()), len(rows) - len(merged)


@dataclass(frozen=True, slots=True)
class Layout:
    """Rows that set the same columns: one statement's worth of parameter sets.

    ``given`` are the columns the caller set (an upsert overwrites those), ``columns`` those plus the
    columns filled with their client-side default.
    """

    given: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[Row]


def layouts(target: Target, rows: Sequence[Row]) -> list[Layout]:
    """Group ``rows`` by the columns they set, and fill in client-side defaults.

    A column a row leaves out takes its default, as in a single ``create``: a Python default is filled
    in here, a server default (or a generated key) only by leaving the column out, so rows that leave
    out different columns go in separate statements. Usually there is one group.
    """
    fill = client_defaults(target.table)
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    found: list[Layout] = []
    for given, members in groups.items():
        missing = [(name, make) for name, make in fill if name not in given]
        for row in members:
            for name, make in missing:
                row[name] = make()
        found.append(Layout(given, (*given, *(name for name, _ in missing)), members))
    return found


def client_defaults(table: Table) -> list[tuple[str, Callable[[], object]]]:
    """Return ``(column, make)`` for every column with a Python-side default (scalar or callable)."""
    found: list[tuple[str, Callable[[], object]]] = []
    for column in table.columns:
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            continue
        arg = default.arg  # type: ignore[attr-defined]  # ScalarElementColumnDefault and Callable have it
        found.append((column.key, _constant(arg) if default.is_scalar else _called(arg)))
    return found


def _constant(value: object) -> Callable[[], object]:
    return lambda: value


def _called(wrapped: Callable[[Any], object]) -> Callable[[], object]:
    return lambda: wrapped(None)
