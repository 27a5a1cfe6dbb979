"""Small immutable results of queries that return less (or more) than one model row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModerationSettings:
    """A guild's log channels and jail settings, read in one query."""

    guild_id: int
    mod_log_id: int | None
    audit_log_id: int | None
    join_log_id: int | None
    private_log_id: int | None
    report_log_id: int | None
    dev_log_id: int | None
    jail_channel_id: int | None
    jail_role_id: int | None
