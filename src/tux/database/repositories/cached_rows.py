"""Rows as the cache keeps them, and model instances rebuilt from them on every hit.

The cache never holds ORM objects: an ORM instance is mutable and tied to the session that loaded it.
It holds a *row*: one frozen, array-like msgspec struct per row, whose field layout (the column names)
is shared by every row of the model, so a row costs one pointer per column and no per-row key table
(about 112 bytes for a guild config, against 464 for the same row as a ``dict``; no garbage-collector
header either, since a row holds only immutable scalars: JSON columns are kept as their JSON text).
Rows are immutable, so the memory level shares them with every reader without copying, and Redis
stores them as msgpack arrays. ``row["prefix"]`` reads a column, as on a ``dict``.

:meth:`RowCodec.thaw` turns a row into a detached instance of the model, the same type, state and
identity a database read returns after its session closed, so a lookup looks the same whether it was
served from the cache or from the database, and a caller that changes the instance it got changes
nothing anyone else gets. A list of rows (a leaderboard page) is kept as a tuple of rows.

Rebuilding skips the model's ``__init__`` (which runs defaults and attribute events, about ten times
slower): it is a bare object whose ``__dict__`` is the row's fields (``msgspec.structs.asdict``, one C
call), whose ORM state (with the identity key) is made only if the caller writes to it or hands it to a
session (:mod:`tux.database.models.detached`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

import msgspec
from sqlalchemy import JSON, Column, inspect

from tux.database.exceptions import ConfigurationError
from tux.database.models.base import Base
from tux.database.models.detached import detached_instance

M = TypeVar("M", bound=Base)

_new = object.__new__
_as_dict = msgspec.structs.asdict
_MUTABLE = (list, dict, set, bytearray)
_json_encode = msgspec.json.encode
_json_decode = msgspec.json.decode


class Row(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """Base of the cached row types: immutable column values, read by name with ``row[name]``."""

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


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
        self._json_names = tuple(
            attribute.key
            for attribute in mapper.column_attrs
            if isinstance(cast("Column[Any]", attribute.columns[0]).type, JSON)
        )
        self._json = tuple(self._columns.index(name) for name in self._json_names)
        fields = [
            (attribute.key, _value_type(cast("Column[Any]", attribute.columns[0])))
            for attribute in mapper.column_attrs
        ]
        layout = f"A cached {model.__name__} row: {', '.join(self._columns)}."
        self.row_type: type[Row] = msgspec.defstruct(  # type: ignore[assignment] # bases=(Row,)
            f"{model.__name__}Row",
            fields,
            bases=(Row,),
            frozen=True,
            array_like=True,
            gc=False,
            namespace={"__doc__": layout},
        )
        """The row's type: tells the shared levels how to decode it (datetimes, enums) and names the
        schema fingerprint, so a release whose model changed never reads an older release's rows. The
        rows are encoded as arrays, without names: the docstring names the columns in order, and is part
        of the schema, so a release whose columns come in another order has another fingerprint."""
        self.value_type: Any = self.row_type
        self.page_type: Any = tuple[self.row_type, ...]  # type: ignore[name-defined]
        """Type of a cached list of rows: a tuple of rows, immutable, so the memory level shares it
        without copying and each reader gets its own instances from :meth:`thaw_page`."""
        self.thaw: Callable[[Row], M] = self._decode_and_thaw if self._json else _thawer(model)
        """Return a new detached instance whose attributes are the values of a row."""

    def freeze(self, instance: M) -> Row:
        """Return the row of ``instance`` (loaded by a repository, so every column is present)."""
        values = [getattr(instance, name) for name in self._columns]
        for index in self._json:
            values[index] = _json_encode(values[index])
        return self.row_type(*values)

    def freeze_page(self, instances: list[M]) -> tuple[Row, ...]:
        """Return the rows of ``instances`` (a list a repository loaded) in the cached page form."""
        return tuple([self.freeze(instance) for instance in instances])

    def thaw_page(self, page: tuple[Row, ...]) -> list[M]:
        """Return new detached instances of the rows of ``page``, in order."""
        thaw = self.thaw
        return [thaw(row) for row in page]

    def _decode_and_thaw(self, row: Row) -> M:
        values = _as_dict(row)
        for name in self._json_names:
            values[name] = _json_decode(values[name])
        return detached_instance(self.model, values)


def _thawer(model: type[M]) -> Callable[[Row], M]:
    """Return ``detached_instance`` of ``model`` and a row's fields, written out: every guild row's hit."""

    def thaw(row: Row) -> M:
        instance: M = _new(model)
        instance.__dict__ = _as_dict(row)
        return instance

    return thaw


def _value_type(column: Column[Any]) -> Any:
    """Return the Python type of ``column``'s values as the row stores them."""
    try:
        kind: Any = bytes if isinstance(column.type, JSON) else column.type.python_type
    except NotImplementedError:
        raise ConfigurationError(f"column {column} has no Python type to cache it with") from None
    if kind in _MUTABLE:  # the row is shared by every reader of the memory level: values must not change
        raise ConfigurationError(f"column {column} holds mutable {kind.__name__} values; cache it as JSON")
    return kind | None if column.nullable else kind
