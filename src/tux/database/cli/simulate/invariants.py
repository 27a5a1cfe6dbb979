"""What must hold in the database after a simulation, checked from the rows themselves.

Each check compares the database with the :class:`~tux.database.cli.simulate.bot.Ledger` the workload
wrote as it ran, and reports OK or the exact discrepancy (which guild, which numbers, by how much).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from tux.database.cli.simulate.bot import Ledger
from tux.database.facade import Database
from tux.database.models import AuditLog, Case, CaseType, Guild, Levels, Reminder, Snippet

TEMPBAN_EXPIRED = "case.tempban_expired"
XP_TOLERANCE = 1e-6
SHOWN = 5
"""Discrepancies listed per check; the rest are counted."""


@dataclass(frozen=True, slots=True)
class InvariantResult:
    """One check: its name, whether it held, and what was found."""

    name: str
    ok: bool
    detail: str


Check = Callable[[AsyncSession, Sequence[int], Ledger], Awaitable[tuple[bool, str]]]


async def check_invariants(db: Database, guild_ids: Sequence[int], ledger: Ledger) -> list[InvariantResult]:
    """Run every check on the simulated guilds ``guild_ids`` of ``db`` against ``ledger``."""
    results = []
    async with db.client.sessions.reading() as session:
        for name, check in CHECKS.items():
            ok, detail = await check(session, guild_ids, ledger)
            results.append(InvariantResult(name, ok, detail))
    return results


def _listed(problems: Sequence[str]) -> str:
    more = len(problems) - SHOWN
    return "; ".join(problems[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


async def case_numbers_contiguous(
    session: AsyncSession, guild_ids: Sequence[int], _ledger: Ledger
) -> tuple[bool, str]:
    """Every guild's case numbers are exactly ``1..case_count``."""
    rows = await session.execute(
        select(Case.guild_id, Case.case_number).where(Case.guild_id.in_(guild_ids)).order_by(Case.guild_id)
    )
    numbers: dict[int, list[int]] = {guild_id: [] for guild_id in guild_ids}
    for guild_id, number in rows:
        numbers[guild_id].append(number)
    counts = dict(
        (await session.execute(select(Guild.id, Guild.case_count).where(Guild.id.in_(guild_ids))))
        .tuples()
        .all()
    )
    problems = []
    for guild_id, seen in numbers.items():
        expected = counts.get(guild_id, 0)
        tally = Counter(seen)
        missing = sorted(set(range(1, expected + 1)) - set(tally))
        duplicated = sorted(number for number, times in tally.items() if times > 1)
        stray = sorted(number for number in tally if not 1 <= number <= expected)
        if missing or duplicated or stray:
            problems.append(
                f"guild {guild_id}: case_count {expected}, missing {missing}, duplicated {duplicated}, "
                f"beyond 1..{expected} {stray}"
            )
    total = sum(len(seen) for seen in numbers.values())
    return (
        not problems,
        _listed(problems) if problems else f"{total} cases in {len(numbers)} guilds, gapless",
    )


async def xp_matches_awards(
    session: AsyncSession, guild_ids: Sequence[int], ledger: Ledger
) -> tuple[bool, str]:
    """Each guild's total XP equals the XP its messages were awarded."""
    stored = await _sum_per_guild(session, Levels.guild_id, Levels.xp, guild_ids)
    return _compare_totals(guild_ids, stored, ledger.xp_awarded, "XP")


async def snippet_uses_match_gets(
    session: AsyncSession, guild_ids: Sequence[int], ledger: Ledger
) -> tuple[bool, str]:
    """Each guild's snippet uses add up to the successful snippet gets."""
    stored = await _sum_per_guild(session, Snippet.guild_id, Snippet.uses, guild_ids)
    return _compare_totals(guild_ids, stored, ledger.snippet_gets, "uses")


async def _sum_per_guild(
    session: AsyncSession,
    guild: InstrumentedAttribute[int],
    value: InstrumentedAttribute[Any],
    guild_ids: Sequence[int],
) -> dict[int, float]:
    statement = select(guild, func.sum(value)).where(guild.in_(guild_ids)).group_by(guild)
    return {guild_id: float(total or 0) for guild_id, total in (await session.execute(statement)).tuples()}


def _compare_totals(
    guild_ids: Sequence[int], stored: Mapping[int, float], expected: Mapping[int, float], unit: str
) -> tuple[bool, str]:
    problems = []
    for guild_id in guild_ids:
        have, want = stored.get(guild_id, 0.0), float(expected.get(guild_id, 0))
        if not math.isclose(have, want, rel_tol=XP_TOLERANCE, abs_tol=XP_TOLERANCE):
            off = have - want
            problems.append(
                f"guild {guild_id}: database {_amount(have)} {unit}, workload {_amount(want)} "
                f"(off by {'+' if off > 0 else ''}{_amount(off)})"
            )
    if problems:
        return False, _listed(problems)
    stored_total, expected_total = _amount(sum(stored.values())), _amount(sum(expected.values()))
    return True, f"{stored_total} {unit} in the database = {expected_total} from the workload"


def _amount(value: float) -> str:
    """Return ``value`` without a fraction when it has none, never in exponent notation."""
    return f"{value:.0f}" if value == int(value) else f"{value:.4f}"


async def tempbans_processed_once(
    session: AsyncSession, guild_ids: Sequence[int], ledger: Ledger
) -> tuple[bool, str]:
    """Every expired tempban was processed, each exactly once (one expiry audit entry, one lift)."""
    tempbans = (
        (
            await session.execute(
                select(Case.id, Case.case_processed).where(
                    Case.guild_id.in_(guild_ids), Case.case_type == CaseType.TEMPBAN
                )
            )
        )
        .tuples()
        .all()
    )
    expiries = Counter(
        (
            await session.scalars(
                select(AuditLog.case_id).where(
                    AuditLog.guild_id.in_(guild_ids), AuditLog.action == TEMPBAN_EXPIRED
                )
            )
        ).all()
    )
    lifts = Counter(ledger.lifted_tempbans)
    problems = [
        f"case {case_id} expiry recorded {times} times"
        for case_id, times in sorted(expiries.items())
        if times > 1
    ]
    problems += [
        f"case {case_id} lifted {times} times" for case_id, times in sorted(lifts.items()) if times > 1
    ]
    problems += [f"case {case_id} never processed" for case_id, processed in tempbans if not processed]
    problems += [
        f"case {case_id} processed without an expiry entry"
        for case_id, processed in tempbans
        if processed and expiries[case_id] == 0
    ]
    if problems:
        return False, _listed(problems)
    return True, f"{len(tempbans)} tempbans, each processed once ({len(lifts)} lifted)"


async def reminders_sent_once(
    session: AsyncSession, guild_ids: Sequence[int], ledger: Ledger
) -> tuple[bool, str]:
    """Every reminder was claimed for delivery exactly once."""
    rows = (
        (
            await session.execute(
                select(Reminder.reminder_id, Reminder.reminder_sent).where(Reminder.guild_id.in_(guild_ids))
            )
        )
        .tuples()
        .all()
    )
    claims = Counter(ledger.claimed_reminders)
    problems = [
        f"reminder {rid} delivered {times} times" for rid, times in sorted(claims.items()) if times > 1
    ]
    problems += [
        f"reminder {rid} marked sent, never delivered" for rid, sent in rows if sent and not claims[rid]
    ]
    problems += [f"reminder {rid} never sent" for rid, sent in rows if not sent]
    if problems:
        return False, _listed(problems)
    return True, f"{len(rows)} reminders, each delivered once"


CHECKS: dict[str, Check] = {
    "case numbers contiguous per guild": case_numbers_contiguous,
    "total XP equals XP awarded": xp_matches_awards,
    "snippet uses equal successful gets": snippet_uses_match_gets,
    "no tempban processed twice": tempbans_processed_once,
    "no reminder delivered twice": reminders_sent_once,
}
