"""Rows as the cache keeps them, and model instances rebuilt from them on every hit.

The cache never holds ORM objects: an ORM instance is mutable and tied to the session that loaded it.
It holds a *row*: a plain ``dict`` of column name to value whose values are all immutable (JSON
columns are kept as their JSON text), which the memory level hands to each reader as a shallow copy
(``dict.copy``, no deep copy). :meth:`RowCodec.rebuild` turns that private copy into a detached
instance of the model, the same type, state and identity a database read returns after its session
closed, so a lookup looks the same whether it was served from the cache or from the database, and a
caller that changes the instance it got changes nothing anyone else gets. A list of rows (a
leaderboard page) is kept as a tuple of column-value tuples, immutable, so the memory level shares it
without copying and each reader gets new instances.

Rebuilding skips the model's ``__init__`` (which runs defaults and attribute events, about ten times
slower): it is a bare object with the row as its ``__dict__``, whose ORM state (with the identity key)
is made only if the caller writes to it or hands it to a session (:mod:`tux.database.models.detached`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, TypedDict, TypeVar, cast

import msgspec
from sqlalchemy import JSON, Column, inspect

from tux.database.exceptions import ConfigurationError
from tux.database.models.base import Base
from tux.database.models.detached import detached_instance

M = TypeVar("M", bound=Base)
Row = dict[str, Any]
"""A cached row: column name -> immutable value (JSON columns as JSON text in ``bytes``)."""

_new = object.__new__
_MUTABLE = (list, dict, set, bytearray)
_json_encode = msgspec.json.encode
_json_decode = msgspec.json.decode


class RowCodec(Generic[M]):
    """Turns instances of ``model`` into cacheable rows and rows back into detached instances.

    Parameters
    ----------
    model
        A mapped model without relationships to load (every column is part of the row).
    """

    def __init__(self, model: type[M]) -> None:
        mapper = inspect(model)
        self.model = model
        self._columns = tuple(attribute.key for attribute in mapper.column_attrs)
        self._json = tuple(
            attribute.key
            for attribute in mapper.column_attrs
            if isinstance(cast("Column[Any]", attribute.columns[0]).type, JSON)
        )
        fields = {
            attribute.key: _value_type(cast("Column[Any]", attribute.columns[0]))
            for attribute in mapper.column_attrs
        }
        self.value_type: Any = cast(Any, TypedDict)(f"{model.__name__}Row", fields)
        """The row's type: tells the shared levels how to decode it (datetimes, enums) and names the
        schema fingerprint, so a release whose model changed never reads an older release's rows."""
        self._page_row = msgspec.defstruct(f"{model.__name__}PageRow", list(fields.items()), frozen=True)
        self.page_type: Any = tuple[self._page_row, ...]  # type: ignore[name-defined]
        """Type of a cached list of rows: a tuple of frozen structs, immutable, so the memory level shares
        it without copying and each reader gets its own instances from :meth:`thaw_page`. The structs
        are encoded with their column names, which are part of the schema fingerprint."""
        self.rebuild: Callable[[Row], M] = (
            self._decode_and_rebuild if self._json else functools.partial(detached_instance, model)
        )
        """Return a detached instance whose attributes are ``row``, which it takes over (pass a copy).
        Without JSON columns it is ``detached_instance`` bound to the model: one call per cache hit."""

    def snapshot(self, instance: M) -> Row:
        """Return the row of ``instance`` (loaded by a repository, so every column is present)."""
        row = {name: getattr(instance, name) for name in self._columns}
        for name in self._json:
            row[name] = _json_encode(row[name])
        return row

    def rebuild_copy(self, row: Row) -> M:
        """Return a detached instance of a copy of ``row`` (which is left as it is)."""
        if self._json:
            return self._decode_and_rebuild(row.copy())
        instance = _new(self.model)  # detached_instance() written out: this is every guild row's hit
        instance.__dict__ = row.copy()
        return instance

    def freeze_page(self, instances: list[M]) -> tuple[msgspec.Struct, ...]:
        """Return the rows of ``instances`` (a list a repository loaded) in the cached page form."""
        page_row = self._page_row
        return tuple(page_row(**self.snapshot(instance)) for instance in instances)

    def thaw_page(self, page: tuple[msgspec.Struct, ...]) -> list[M]:
        """Return new detached instances of the rows of ``page``, in order."""
        columns = self._columns
        return [self.rebuild(dict(zip(columns, msgspec.structs.astuple(row), strict=True))) for row in page]

    def _decode_and_rebuild(self, row: Row) -> M:
        for name in self._json:
            row[name] = _json_decode(row[name])
        return detached_instance(self.model, row)


def _value_type(column: Column[Any]) -> Any:
    """Return the Python type of ``column``'s values as the row stores them."""
    try:
        kind: Any = bytes if isinstance(column.type, JSON) else column.type.python_type
    except NotImplementedError:
        raise ConfigurationError(f"column {column} has no Python type to cache it with") from None
    if kind in _MUTABLE:  # the row is shared by every reader of the memory level: values must not change
        raise ConfigurationError(f"column {column} holds mutable {kind.__name__} values; cache it as JSON")
    return kind | None if column.nullable else kind
