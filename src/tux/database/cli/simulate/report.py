"""The simulation report: a list of sections, each giving JSON figures and a rich table.

``SECTIONS`` is the report: ``--json`` writes ``{section.key: section.figures(result)}`` and the
terminal shows each section's table in order. Adding findings (the optimizers') is one more section
here, reading its probe's figures from ``result.shards[i].probes`` (see :mod:`.probes`); the built-in
sections are in :mod:`.sections`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from rich.console import RenderableType

from tux.database.cli.simulate.optimizer_section import OptimizerSection
from tux.database.cli.simulate.runner import SimulationResult
from tux.database.cli.simulate.sections import (
    CacheSection,
    InvariantsSection,
    MemorySection,
    OperationsSection,
    RunSection,
    StatementsSection,
    SuccessMetricsSection,
    TransactionsSection,
)

SCHEMA_VERSION = 1


class Section(Protocol):
    """One part of the report."""

    key: str
    title: str

    def figures(self, result: SimulationResult) -> Any:
        """Return this section's figures (JSON-serializable)."""
        ...

    def render(self, figures: Any) -> RenderableType:
        """Return the terminal rendering of ``figures``."""
        ...


SECTIONS: list[Section] = [
    RunSection(),
    OperationsSection(),
    CacheSection(),
    TransactionsSection(),
    StatementsSection(),
    MemorySection(),
    SuccessMetricsSection(),
    OptimizerSection(),
    InvariantsSection(),
]
"""The report, in order; append a section to add findings."""


def build_report(result: SimulationResult) -> dict[str, Any]:
    """Return every section's figures by key, plus the ledger the invariants were checked against."""
    report: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "ok": result.ok}
    report.update({section.key: section.figures(result) for section in SECTIONS})
    ledger = result.ledger
    report["ledger"] = {
        "guild_ids": result.guild_ids,
        "xp_awarded": {str(guild): xp for guild, xp in ledger.xp_awarded.items()},
        "snippet_gets": {str(guild): gets for guild, gets in ledger.snippet_gets.items()},
        "lifted_tempbans": ledger.lifted_tempbans,
        "claimed_reminders": ledger.claimed_reminders,
    }
    return report


def render_report(report: Mapping[str, Any]) -> list[RenderableType]:
    """Return the tables of ``report`` in section order."""
    return [section.render(report[section.key]) for section in SECTIONS]
