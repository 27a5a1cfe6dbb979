"""N+1 detection: the same statement shape sent again and again in a row by one task and operation.

A loop that loads related rows one by one (``for case in cases: await repo.find_by_id(case.user_id)``)
sends one statement shape N times in a row; a loop of single-row ``INSERT``/``UPDATE``/``DELETE``
statements does the same for writes. Each task keeps its own run (tasks interleave on the event loop,
so a global "previous statement" would mix them up), keyed by the task object so the run ends with it.
Transaction control statements neither count nor break a run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from loguru import logger

from tux.database.optimization.fingerprint import Shape

__all__ = ["NPlusOne", "NPlusOneDetector"]

READ_ADVICE = (
    "load the rows in one statement (an IN-list or ANY($1) of the ids, a join, or the repository's "
    "find_all filter) instead of one statement per row"
)
WRITE_ADVICE = (
    "batch the writes: db.batch.batch_create / batch_update / batch_upsert (one executemany, "
    "multi-row statement or COPY) instead of one single-row statement per item"
)


@dataclass(slots=True)
class NPlusOne:
    """One detected run of a repeated statement shape.

    Attributes
    ----------
    operation
        The service operation the statements ran in (``None`` outside any tracked operation).
    fingerprint
        The repeated shape (see :mod:`tux.database.optimization.fingerprint`).
    shape_id
        Its short hash.
    count
        How many times in a row it ran; grows while the run goes on.
    kind
        ``"read"``, or ``"single_row_write"`` for repeated one-row writes.
    advice
        What to do instead.
    """

    operation: str | None
    fingerprint: str
    shape_id: str
    count: int
    kind: str
    advice: str

    def as_dict(self) -> dict[str, object]:
        """The finding as a recommendation entry (``query``, ``issue``, ``recommendation``, ...)."""
        issue = "Repeated single-row writes" if self.kind == "single_row_write" else "N+1 queries"
        return {
            "query": self.fingerprint,
            "issue": issue,
            "operation": self.operation,
            "count": self.count,
            "recommendation": self.advice,
            "source": "n+1",
        }


class _Run:
    __slots__ = ("count", "finding", "operation", "shape")

    def __init__(self, operation: str | None, shape: Shape) -> None:
        self.operation = operation
        self.shape = shape
        self.count = 1
        self.finding: NPlusOne | None = None


class NPlusOneDetector:
    """Find runs of ``threshold`` or more statements of one shape inside one operation of one task.

    Parameters
    ----------
    threshold
        Repetitions in a row that make a run an N+1 (5: a page of related rows, not a coincidence).
    keep
        How many findings are kept for reports (the oldest are dropped).
    """

    def __init__(self, threshold: int = 5, *, keep: int = 200) -> None:
        if threshold < 2:
            raise ValueError("threshold must be at least 2")
        self.threshold = threshold
        self._runs: WeakKeyDictionary[asyncio.Task[object], _Run] = WeakKeyDictionary()
        self._loose: _Run | None = None  # statements sent outside any task (sync code, threads)
        self.findings: deque[NPlusOne] = deque(maxlen=keep)
        self.watchers: list[Callable[[NPlusOne], None]] = []
        """Called once per new finding (strict blocks, metrics)."""

    def observe(self, shape: Shape, operation: str | None, *, executemany: bool, rows: int) -> None:
        """Account one data statement of ``shape`` sent by the running task."""
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        run = self._runs.get(task) if task is not None else self._loose
        if run is not None and run.shape.fingerprint == shape.fingerprint and run.operation == operation:
            run.count += 1
            if run.finding is not None:
                run.finding.count = run.count
            elif run.count >= self.threshold and self._repeats(shape, executemany=executemany, rows=rows):
                self._report(run)
            return
        run = _Run(operation, shape)
        if task is None:
            self._loose = run
        else:
            self._runs[task] = run

    def reset(self) -> None:
        """Forget findings and runs in progress."""
        self._runs = WeakKeyDictionary()
        self._loose = None
        self.findings.clear()

    @staticmethod
    def _repeats(shape: Shape, *, executemany: bool, rows: int) -> bool:
        # A write run counts only when each statement touched one row: an executemany or a statement
        # updating many rows at once is already a batch.
        return not shape.is_write or (not executemany and rows <= 1)

    def _report(self, run: _Run) -> None:
        write = run.shape.is_write
        finding = NPlusOne(
            operation=run.operation,
            fingerprint=run.shape.fingerprint,
            shape_id=run.shape.id,
            count=run.count,
            kind="single_row_write" if write else "read",
            advice=WRITE_ADVICE if write else READ_ADVICE,
        )
        run.finding = finding
        self.findings.append(finding)
        logger.warning(
            "N+1 {}: {} statements in a row of shape {} in operation {}: {}",
            finding.kind,
            finding.count,
            finding.shape_id,
            finding.operation or "-",
            finding.fingerprint[:200],
        )
        for watcher in self.watchers:
            watcher(finding)
