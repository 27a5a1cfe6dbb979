"""How values leave the process: msgspec MessagePack, typed, versioned, never pickle.

A shared level (Redis, the cache table) may be read by another release of the bot, so every stored
key carries two version segments: :data:`SCHEMA_VERSION`, bumped when this module's format changes, and
a fingerprint of the value type's msgspec schema, which changes by itself when a field is added, removed
or retyped. A release therefore never decodes an entry written for a different shape; it simply misses.

An entry's bytes are the version stamps of its guard and groups (see
:mod:`tux.database.caching.manager`), a marker byte (found / not found) and the MessagePack payload.
"""

from __future__ import annotations

import json
import os
from hashlib import blake2b
from typing import Any, Generic, TypeVar

import msgspec

from tux.database.caching.types import NOT_FOUND, NotFound
from tux.database.exceptions import ConfigurationError

V = TypeVar("V")

SCHEMA_VERSION = 1
"""Version of the entry format; part of every shared-level key (``c1``)."""
STAMP_SIZE = 8
"""Bytes of one version stamp."""
_FOUND = b"\x01"
_ABSENT = b"\x00"


def tag_stamp(tag: str) -> str:
    """Return the key of the stamp row of group ``tag`` in the cache table (the database level)."""
    return f"c{SCHEMA_VERSION}:t:{tag}"


def new_stamp() -> bytes:
    """Return a fresh random version stamp.

    Stamps are random rather than counters: a counter that is evicted or lost in a Redis restart starts
    again at a value old entries may carry, while a random stamp never comes back.
    """
    return os.urandom(STAMP_SIZE)


def fingerprint(value_type: Any) -> str:
    """Return a short hash of ``value_type``'s msgspec schema, or raise if msgspec cannot encode it."""
    if value_type is Any:
        return "any"
    try:
        schema = msgspec.json.schema(value_type)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"{value_type!r} cannot be cached in a shared level: {error}") from error
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return blake2b(text.encode(), digest_size=4).hexdigest()


class Codec(Generic[V]):
    """Typed MessagePack encoding of one region's values, with "not found" as its own marker.

    Decoding with the region's type gives back exactly the type that was stored (a tuple stays a
    tuple, a Struct a Struct), so a value read from Redis looks like one the loader returned.
    """

    __slots__ = ("_decoder", "_encoder")

    def __init__(self, value_type: Any) -> None:
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[V] = msgspec.msgpack.Decoder(value_type)

    def encode(self, value: V | NotFound) -> bytes:
        """Return the marker and payload of ``value``."""
        if value is NOT_FOUND:
            return _ABSENT
        return _FOUND + self._encoder.encode(value)

    def decode(self, data: bytes | memoryview) -> V | NotFound:
        """Inverse of :meth:`encode`; raises ``msgspec.DecodeError`` / ``ValueError`` on bad bytes."""
        view = memoryview(data)
        marker = view[0] if view else None
        if marker == _ABSENT[0]:
            return NOT_FOUND
        if marker != _FOUND[0]:
            raise ValueError("unknown cache entry marker")
        return self._decoder.decode(view[1:])


def unframe(entry: bytes, stamps: bytes) -> memoryview | None:
    """Return the body of ``entry`` if it was filled under exactly ``stamps``, else ``None`` (stale)."""
    if not entry.startswith(stamps):
        return None
    return memoryview(entry)[len(stamps) :]
