"""Rows and pages as the cache keeps them: their schema fingerprints, round trips, refused columns."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import ARRAY, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tux.database.caching.serialization import Codec, fingerprint
from tux.database.exceptions import ConfigurationError
from tux.database.models import Levels
from tux.database.repositories.cached_rows import RowCodec


def standings_model(*, member_first: bool) -> type[Any]:
    """A model named like another release's, with the same column types in another order."""

    class Base(DeclarativeBase):
        pass

    if member_first:

        class Standing(Base):
            __tablename__ = "standing"
            member_id: Mapped[int] = mapped_column(primary_key=True)
            guild_id: Mapped[int] = mapped_column(primary_key=True)

    else:

        class Standing(Base):  # type: ignore[no-redef]
            __tablename__ = "standing"
            guild_id: Mapped[int] = mapped_column(primary_key=True)
            member_id: Mapped[int] = mapped_column(primary_key=True)

    return Standing


def test_a_release_with_other_column_order_never_reads_the_pages_of_another() -> None:
    older = RowCodec(standings_model(member_first=False))
    newer = RowCodec(standings_model(member_first=True))
    assert fingerprint(older.page_type) != fingerprint(newer.page_type), "ids would be read swapped"
    assert fingerprint(older.value_type) != fingerprint(newer.value_type), "rows are arrays too"


def test_a_page_comes_back_through_the_shared_levels() -> None:
    codec = RowCodec(standings_model(member_first=False))
    body = Codec(codec.page_type).encode(codec.freeze_page([codec.model(guild_id=1, member_id=7)]))
    [thawed] = codec.thaw_page(Codec(codec.page_type).decode(body))  # type: ignore[arg-type]
    assert (thawed.guild_id, thawed.member_id) == (1, 7)


def test_a_page_comes_back_as_the_rows_it_was_made_of() -> None:
    codec = RowCodec(Levels)
    rows = [Levels(guild_id=1, member_id=m, xp=1.5 * m, level=0, blacklisted=False) for m in (7, 8)]
    for row in rows:
        row.last_message = None
    page = codec.freeze_page(rows)
    assert [(row.member_id, row.xp) for row in codec.thaw_page(page)] == [(7, 10.5), (8, 12.0)]
    first = codec.thaw_page(page)[0]
    first.xp = 0.0
    assert codec.thaw_page(page)[0].xp == 10.5, "a reader's change stays its own"


def test_columns_with_mutable_values_are_refused() -> None:
    class Base(DeclarativeBase):
        pass

    class Tagged(Base):
        __tablename__ = "tagged"
        id: Mapped[int] = mapped_column(primary_key=True)
        tags: Mapped[list[int]] = mapped_column(ARRAY(Integer))

    with pytest.raises(ConfigurationError, match="mutable list"):
        RowCodec(Tagged)
