"""Cache keys: every key names its type and its guild, and belongs to the groups that invalidate it.

A key name reads ``kind:guild:part:part``. The guild segment is always there (``-`` for data that
belongs to no guild), so a value cached for one guild can never be found under another guild's key, and
parts are escaped so a user-chosen text (a snippet name) cannot forge a separator.

Each key belongs to three groups ("tags"): ``*`` (everything; bumping it is a full flush), ``kind``
(every key of a type) and ``kind:guild`` (every key of a type in one guild). Invalidating a group is one
atomic change of the group's version stamp; see :mod:`tux.database.caching.manager`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from hashlib import blake2b

from tux.database.core.ids import is_snowflake
from tux.database.exceptions import ValidationError

EPOCH_TAG = "*"
"""The group every key belongs to."""
NO_GUILD = "-"
"""Guild segment of keys that belong to no guild."""
MAX_PART_LENGTH = 64
"""Longer parts are replaced by a hash, which keeps keys short enough for every level."""
MAX_NAME_LENGTH = 400
"""Longer key names have their parts replaced by one hash."""

_KIND = re.compile(r"[a-z][a-z0-9_]{0,47}")
_ESCAPES = str.maketrans({"%": "%25", ":": "%3A", "*": "%2A", "#": "%23"})


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a valid type name (lowercase identifier), else raise."""
    if not _KIND.fullmatch(kind):
        raise ValidationError(f"cache kind {kind!r} must match {_KIND.pattern}")
    return kind


def guild_segment(guild_id: int | None) -> str:
    """Return the key segment of ``guild_id``, refusing anything that is not a snowflake or ``None``."""
    if guild_id is None:
        return NO_GUILD
    if not is_snowflake(guild_id):
        raise ValidationError(f"guild id must be a positive 64-bit int or None, got {guild_id!r}")
    return str(guild_id)


def encode_part(part: str | int) -> str:
    """Return ``part`` as a key segment: ints as digits, text escaped, long text hashed."""
    if type(part) is int:
        return str(part)
    if not isinstance(part, str):
        raise ValidationError(f"key parts must be str or int, got {type(part).__name__}")
    if not part.isascii():
        try:
            part.encode()
        except UnicodeEncodeError:  # a lone surrogate: no level could store the key
            raise ValidationError(f"key part {part!r} is not valid Unicode") from None
    if len(part) > MAX_PART_LENGTH:
        return "#" + blake2b(part.encode(), digest_size=16).hexdigest()
    return part.translate(_ESCAPES)


def key_name(kind: str, guild_id: int | None, parts: tuple[str | int, ...]) -> str:
    """Return the name of the key of ``kind`` in ``guild_id`` identified by ``parts``.

    Names longer than :data:`MAX_NAME_LENGTH` keep their kind and guild and replace the parts by one
    hash, so every level can store them (the cache table's key column holds 512 characters).
    """
    head = f"{kind}:{guild_segment(guild_id)}"
    if not parts:
        return head
    name = f"{head}:{':'.join([encode_part(part) for part in parts])}"
    if len(name) > MAX_NAME_LENGTH:
        return f"{head}:#{blake2b(name.encode(), digest_size=16).hexdigest()}"
    return name


def group_tag(kind: str, guild_id: int | None) -> str:
    """Return the tag of every key of ``kind`` in ``guild_id``."""
    return f"{kind}:{guild_segment(guild_id)}"


def tags_of(name: str) -> tuple[str, str, str]:
    """Return the groups of the key called ``name``: everything, its kind, its kind in its guild."""
    kind, guild, _ = (name + ":").split(":", 2)
    return (EPOCH_TAG, kind, f"{kind}:{guild}")


def kind_of(name: str) -> str:
    """Return the type segment of a key name or tag."""
    return name.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Targets:
    """What one invalidation removes: whole keys (by name) and groups (by tag)."""

    names: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.names or self.tags)

    @property
    def flush(self) -> bool:
        """Whether the invalidation drops everything."""
        return EPOCH_TAG in self.tags


def parse_pattern(pattern: str) -> Targets:
    """Turn an invalidation pattern into targets, refusing patterns that would need a keyspace scan.

    Accepted: ``*`` (everything), ``kind:*``, ``kind:guild:*`` and an exact key name.
    """
    if pattern == EPOCH_TAG:
        return Targets(tags=(EPOCH_TAG,))
    segments = pattern.split(":")
    check_kind(segments[0])
    if pattern.endswith(":*") and len(segments) in (2, 3):
        if len(segments) == 3:
            _check_guild_text(segments[1])
        return Targets(tags=(pattern[:-2],))
    if "*" in pattern or len(segments) < 2:
        raise ValidationError(
            f"invalidation pattern {pattern!r} is not supported: use '*', 'kind:*', 'kind:guild:*' or a key"
        )
    _check_guild_text(segments[1])
    return Targets(names=(pattern,))


def _check_guild_text(text: str) -> None:
    if text != NO_GUILD and not (text.isdigit() and int(text) > 0):
        raise ValidationError(f"guild segment {text!r} must be a positive integer or {NO_GUILD!r}")
