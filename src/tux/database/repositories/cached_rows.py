"""Rows as the cache keeps them, and model instances rebuilt from them on every hit.

The cache never holds ORM objects: an ORM instance is mutable and tied to the session that loaded it.
It holds a *row*: a plain ``dict`` of column name to value whose values are all immutable (JSON
columns are kept as their JSON text), which the memory level hands to each reader as a shallow copy
(``dict.copy``, no deep copy). :meth:`RowCodec.rebuild` turns that private copy into a detached
instance of the model, the same type, state and identity a database read returns after its session
closed, so a lookup looks the same whether it was served from the cache or from the database, and a
caller that changes the instance it got changes nothing anyone else gets.

Rebuilding skips the model's ``__init__`` (which runs defaults and attribute events, about ten times
slower) and builds the instance the way SQLAlchemy's loader does: a bare object, its ``InstanceState``
with the identity key, and the row as its ``__dict__``.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Generic, TypedDict, TypeVar, cast

import msgspec
from sqlalchemy import JSON, Column, inspect
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm.base import DEFAULT_STATE_ATTR
from sqlalchemy.orm.instrumentation import ClassManager

from tux.database.exceptions import ConfigurationError
from tux.database.models.base import Base

M = TypeVar("M", bound=Base)
Row = dict[str, Any]
"""A cached row: column name -> immutable value (JSON columns as JSON text in ``bytes``)."""

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
        self._manager: ClassManager[M] = cast("ClassManager[M]", mapper.class_manager)
        self._columns = tuple(attribute.key for attribute in mapper.column_attrs)
        identity = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
        self._identity = itemgetter(*identity)
        self._composite = len(identity) > 1
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

    def snapshot(self, instance: M) -> Row:
        """Return the row of ``instance`` (loaded by a repository, so every column is present)."""
        row = {name: getattr(instance, name) for name in self._columns}
        for name in self._json:
            row[name] = _json_encode(row[name])
        return row

    def rebuild(self, row: Row) -> M:
        """Return a detached instance whose attributes are ``row``, which it takes over (pass a copy)."""
        model = self.model
        instance = model.__new__(model)
        state: InstanceState[M] = InstanceState(instance, self._manager)
        identity = self._identity(row)
        state.key = (model, identity if self._composite else (identity,), None)
        for name in self._json:
            row[name] = _json_decode(row[name])
        row[DEFAULT_STATE_ATTR] = state
        instance.__dict__ = row
        return instance


def _value_type(column: Column[Any]) -> Any:
    """Return the Python type of ``column``'s values as the row stores them."""
    try:
        kind: Any = bytes if isinstance(column.type, JSON) else column.type.python_type
    except NotImplementedError:
        raise ConfigurationError(f"column {column} has no Python type to cache it with") from None
    return kind | None if column.nullable else kind
