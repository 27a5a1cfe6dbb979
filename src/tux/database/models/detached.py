"""Detached model instances made from a row, whose ORM state is created only when something needs it.

A cache hit must return what a database read returns after its session closed: an instance of the
model, detached, with its identity key. Building SQLAlchemy's ``InstanceState`` (a weak reference with
a callback, two containers, the identity key) costs more than everything else on the hit path, and
most callers only read attributes, which never touch the state: ``InstrumentedAttribute.__get__``
answers from the instance's ``__dict__`` when the value is there.

:func:`detached_instance` therefore builds the bare instance with the row as its ``__dict__``, and
:class:`LazyInstanceState` (installed on the declarative base as ``_sa_instance_state``) creates the
state the first time SQLAlchemy asks for it: on an attribute write, ``inspect()``, ``session.add`` or
``session.merge``. The descriptor answers only for an instance that has no state yet but holds every
primary-key column, which only :func:`detached_instance` produces; for any other instance (one being
constructed by ``__init__``) it raises ``AttributeError``, exactly as a missing attribute would, so
SQLAlchemy's own instrumentation runs unchanged.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy.orm import InstanceState
from sqlalchemy.orm.base import DEFAULT_STATE_ATTR, manager_of_class

M = TypeVar("M")

_new = object.__new__


class LazyInstanceState:
    """The ``_sa_instance_state`` of instances built by :func:`detached_instance`, made on first use."""

    def __init__(self) -> None:
        self._identities: dict[type[Any], tuple[tuple[str, ...], itemgetter[Any]]] = {}

    def __get__(self, instance: object | None, owner: type[Any]) -> Any:
        if instance is None:  # the class itself has no state: SQLAlchemy probes for that
            raise AttributeError(DEFAULT_STATE_ATTR)
        row = instance.__dict__
        names, identity = self._identity_of(owner)
        if not all(name in row for name in names):
            raise AttributeError(DEFAULT_STATE_ATTR)
        state: InstanceState[Any] = InstanceState(instance, manager_of_class(owner))
        key = identity(row)
        state.key = (owner, key if len(names) > 1 else (key,), None)
        row[DEFAULT_STATE_ATTR] = state
        return state

    def _identity_of(self, model: type[Any]) -> tuple[tuple[str, ...], itemgetter[Any]]:
        known = self._identities.get(model)
        if known is None:
            mapper = manager_of_class(model).mapper
            names = tuple(mapper.get_property_by_column(column).key for column in mapper.primary_key)
            known = self._identities[model] = (names, itemgetter(*names))
        return known


def detached_instance(model: type[M], row: dict[str, Any]) -> M:
    """Return a detached ``model`` whose attributes are ``row`` (taken over: pass a private copy).

    ``row`` must hold every mapped column, as a loaded instance would; its state, with the identity
    key of the primary-key values, is created when first needed.
    """
    instance: M = _new(model)
    instance.__dict__ = row
    return instance
